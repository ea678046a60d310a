/* engine/expr_parse.c - the expression language's text into a tree: a
 * tokenizer and a precedence-climbing parser (SQL precedence: OR < AND <
 * NOT < comparisons, IS, IN, BETWEEN, LIKE < || < + - < * / % < unary
 * minus). IN becomes a balanced OR tree of equalities, BETWEEN an AND of
 * two comparisons and the simple CASE form the searched one, so the binder
 * and evaluator see fewer shapes (the left side is shared, not copied).
 * Aggregate calls are split out here too, and durations parsed. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/expr_int.h"

typedef enum tok_kind {
	T_END = 0, T_NUM, T_STR, T_IDENT, T_QIDENT, T_OP, T_LP, T_RP, T_COMMA, T_STAR
} tok_kind;

typedef struct tok {
	tok_kind k;
	int pos, end;
	const char *p;
	size_t n;
	char op[3];
} tok;

typedef struct parser {
	const char *src;
	size_t len;
	int at;
	tok t;
	floe_arena *a;
	floe_error *err;
	int depth;
	bool too_deep;
} parser;

/* Deeper trees are refused (evaluation recurses over them). */
#define EX_MAX_HEIGHT 256

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

static void next(parser *p)
{
	const char *s = p->src;
	int i = p->at;
	while (i < (int)p->len && isspace((unsigned char)s[i]))
		i++;
	tok *t = &p->t;
	memset(t, 0, sizeof *t);
	t->pos = i;
	t->p = s + i;
	if (i >= (int)p->len) {
		t->k = T_END;
		t->end = i;
		p->at = i;
		return;
	}
	char c = s[i];
	if (isdigit((unsigned char)c) || (c == '.' && i + 1 < (int)p->len &&
	                                  isdigit((unsigned char)s[i + 1]))) {
		int j = i;
		while (j < (int)p->len && (isdigit((unsigned char)s[j]) || s[j] == '.'))
			j++;
		if (j < (int)p->len && (s[j] == 'e' || s[j] == 'E')) {
			int k = j + 1;
			if (k < (int)p->len && (s[k] == '+' || s[k] == '-'))
				k++;
			if (k < (int)p->len && isdigit((unsigned char)s[k])) {
				j = k;
				while (j < (int)p->len && isdigit((unsigned char)s[j]))
					j++;
			}
		}
		t->k = T_NUM;
		t->n = (size_t)(j - i);
		t->end = j;
	} else if (c == '\'') {
		int j = i + 1;
		for (;;) {
			if (j >= (int)p->len) {
				t->k = T_OP; /* unterminated: reported by the caller */
				t->op[0] = '\'';
				t->end = j;
				p->at = j;
				return;
			}
			if (s[j] == '\'') {
				if (j + 1 < (int)p->len && s[j + 1] == '\'') {
					j += 2;
					continue;
				}
				break;
			}
			j++;
		}
		t->k = T_STR;
		t->p = s + i + 1;
		t->n = (size_t)(j - i - 1);
		t->end = j + 1;
	} else if (c == '"') {
		int j = i + 1;
		while (j < (int)p->len && s[j] != '"')
			j++;
		t->k = j < (int)p->len ? T_QIDENT : T_OP;
		t->op[0] = '"';
		t->p = s + i + 1;
		t->n = (size_t)(j - i - 1);
		t->end = j < (int)p->len ? j + 1 : j;
	} else if (isalpha((unsigned char)c) || c == '_') {
		int j = i;
		while (j < (int)p->len && (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '.'))
			j++;
		t->k = T_IDENT;
		t->n = (size_t)(j - i);
		t->end = j;
	} else if (c == '(' || c == ')' || c == ',' || c == '*') {
		t->k = c == '(' ? T_LP : c == ')' ? T_RP : c == ',' ? T_COMMA : T_STAR;
		t->end = i + 1;
	} else {
		static const char *const two[] = { "<=", ">=", "<>", "!=", "==", "||", NULL };
		t->k = T_OP;
		t->end = i + 1;
		t->op[0] = c;
		for (int k = 0; two[k]; k++)
			if (i + 1 < (int)p->len && s[i] == two[k][0] && s[i + 1] == two[k][1]) {
				t->op[1] = s[i + 1];
				t->end = i + 2;
			}
	}
	p->at = t->end;
}

static bool kw(const parser *p, const char *w)
{
	return p->t.k == T_IDENT && strlen(w) == p->t.n && strncasecmp(p->t.p, w, p->t.n) == 0;
}

static bool isop(const parser *p, const char *op)
{
	return p->t.k == T_OP && strcmp(p->t.op, op) == 0;
}

static int fail(parser *p, const char *want)
{
	const tok *t = &p->t;
	if (t->k == T_END)
		return floe_error_set(p->err, FLOE_EINVALID, "at character %d: expected %s, found the "
		                      "end of the expression", t->pos + 1, want);
	if (t->k == T_OP && t->op[0] == '\'')
		return floe_error_set(p->err, FLOE_EINVALID, "at character %d: a string is not closed "
		                      "(close it with ')", t->pos + 1);
	int n = t->end - t->pos;
	if (n > 20)
		n = 20;
	return floe_error_set(p->err, FLOE_EINVALID, "at character %d: expected %s, found '%.*s'",
	                      t->pos + 1, want, n, t->p);
}

floe_expr *ex_node(floe_arena *a, ex_kind k, int pos)
{
	floe_expr *e = floe_arena_calloc(a, 1, sizeof *e);
	if (e) {
		e->k = k;
		e->pos = pos;
		e->idx = -1;
		e->arena = a;
	}
	return e;
}

bool ex_reserved(const char *p, size_t n)
{
	static const char *const words[] = { "AND", "OR", "NOT", "IS", "IN", "BETWEEN", "LIKE",
		"CASE", "WHEN", "THEN", "ELSE", "END", "AS", NULL };
	for (int i = 0; words[i]; i++)
		if (strlen(words[i]) == n && strncasecmp(p, words[i], n) == 0)
			return true;
	return false;
}

static floe_expr *bin(parser *p, int op, floe_expr *l, floe_expr *r, int pos)
{
	floe_expr *e = ex_node(p->a, EX_BIN, pos);
	if (!e)
		return NULL;
	e->op = op;
	e->args = floe_arena_calloc(p->a, 2, sizeof *e->args);
	if (!e->args)
		return NULL;
	e->args[0] = l;
	e->args[1] = r;
	e->nargs = 2;
	e->height = 1 + (l->height > r->height ? l->height : r->height);
	if (e->height > EX_MAX_HEIGHT)
		p->too_deep = true;
	return e;
}

static floe_expr *unary(parser *p, ex_kind k, floe_expr *x, int pos)
{
	floe_expr *e = ex_node(p->a, k, pos);
	if (!e)
		return NULL;
	e->args = floe_arena_calloc(p->a, 1, sizeof *e->args);
	if (!e->args)
		return NULL;
	e->args[0] = x;
	e->nargs = 1;
	e->height = 1 + x->height;
	if (e->height > EX_MAX_HEIGHT)
		p->too_deep = true;
	return e;
}

static int parse_expr(parser *p, floe_expr **out);

/* A growing list of nodes in the arena (kept off the stack: parsing
 * recurses). */
typedef struct vec {
	floe_expr **v;
	int n, cap;
} vec;

static int vpush(parser *p, vec *v, floe_expr *x)
{
	if (!x)
		return oom(p->err);
	if (v->n == v->cap) {
		int cap = v->cap ? v->cap * 2 : 8;
		floe_expr **nv = floe_arena_alloc(p->a, (size_t)cap * sizeof *nv);
		if (!nv)
			return oom(p->err);
		if (v->n)
			memcpy(nv, v->v, (size_t)v->n * sizeof *nv);
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	return 0;
}

/* Unescape a '...' token ('' -> '). */
static char *str_value(parser *p, const tok *t, size_t *n)
{
	char *s = floe_arena_alloc(p->a, t->n + 1);
	if (!s)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++) {
		s[k++] = t->p[i];
		if (t->p[i] == '\'' && i + 1 < t->n && t->p[i + 1] == '\'')
			i++;
	}
	s[k] = 0;
	*n = k;
	return s;
}

static int parse_type(parser *p, floe_type *out)
{
	if (p->t.k != T_IDENT)
		return fail(p, "a type name (long, double, string, timestamptz, ...)");
	char name[64];
	size_t n = p->t.n < sizeof name - 1 ? p->t.n : sizeof name - 1;
	memcpy(name, p->t.p, n);
	name[n] = 0;
	int pos = p->t.pos;
	next(p);
	char full[96];
	if (p->t.k == T_LP) { /* decimal(P,S) */
		next(p);
		if (p->t.k != T_NUM)
			return fail(p, "a precision");
		int prec = atoi(p->t.p), scale = 0;
		next(p);
		if (p->t.k == T_COMMA) {
			next(p);
			if (p->t.k != T_NUM)
				return fail(p, "a scale");
			scale = atoi(p->t.p);
			next(p);
		}
		if (p->t.k != T_RP)
			return fail(p, "')'");
		next(p);
		snprintf(full, sizeof full, "%s(%d,%d)", name, prec, scale);
	} else {
		static const char *const alias[][2] = { { "bigint", "long" }, { "integer", "int" },
			{ "varchar", "string" }, { "text", "string" }, { "bool", "boolean" },
			{ "real", "float" }, { NULL, NULL } };
		snprintf(full, sizeof full, "%s", name);
		for (int i = 0; alias[i][0]; i++)
			if (strcasecmp(name, alias[i][0]) == 0)
				snprintf(full, sizeof full, "%s", alias[i][1]);
		for (char *c = full; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	floe_error e2;
	if (floe_type_parse(out, full, &e2))
		return floe_error_set(p->err, FLOE_EINVALID, "at character %d: unknown type '%s' "
		                      "(boolean, int, long, float, double, decimal(P,S), date, "
		                      "timestamp, timestamptz, string)", pos + 1, name);
	return 0;
}

static int parse_primary(parser *p, floe_expr **out)
{
	tok t = p->t;
	int rc;
	if (++p->depth > 200)
		return floe_error_set(p->err, FLOE_EINVALID, "at character %d: the expression nests "
		                      "too deeply", t.pos + 1);
	if (t.k == T_LP) {
		next(p);
		if ((rc = parse_expr(p, out)))
			return rc;
		if (p->t.k != T_RP)
			return fail(p, "')'");
		next(p);
		p->depth--;
		return 0;
	}
	if (t.k == T_NUM) {
		floe_expr *e = ex_node(p->a, EX_LIT, t.pos);
		if (!e)
			return oom(p->err);
		char buf[64];
		if (t.n >= sizeof buf)
			return fail(p, "a shorter number");
		memcpy(buf, t.p, t.n);
		buf[t.n] = 0;
		bool real = strpbrk(buf, ".eE") != NULL;
		char *end;
		errno = 0;
		if (!real) {
			long long v = strtoll(buf, &end, 10);
			if (errno) {
				real = true;
			} else {
				e->type.id = FLOE_TYPE_LONG;
				e->li = v;
			}
		}
		if (real) {
			e->type.id = FLOE_TYPE_DOUBLE;
			e->ld = strtod(buf, &end);
			if (*end)
				return fail(p, "a number");
		}
		next(p);
		*out = e;
		p->depth--;
		return 0;
	}
	if (t.k == T_STR) {
		floe_expr *e = ex_node(p->a, EX_LIT, t.pos);
		if (!e)
			return oom(p->err);
		e->type.id = FLOE_TYPE_STRING;
		e->ls = str_value(p, &t, &e->lslen);
		if (!e->ls)
			return oom(p->err);
		next(p);
		*out = e;
		p->depth--;
		return 0;
	}
	if (t.k == T_QIDENT) {
		floe_expr *e = ex_node(p->a, EX_COL, t.pos);
		if (!e || !(e->name = floe_arena_strndup(p->a, t.p, t.n)))
			return oom(p->err);
		next(p);
		*out = e;
		p->depth--;
		return 0;
	}
	if (t.k != T_IDENT)
		return fail(p, "a column, a literal, a function or '('");
	/* keywords */
	if (kw(p, "NULL") || kw(p, "TRUE") || kw(p, "FALSE")) {
		floe_expr *e = ex_node(p->a, EX_LIT, t.pos);
		if (!e)
			return oom(p->err);
		if (kw(p, "NULL")) {
			e->lnull = true;
			e->type.id = 0; /* fits anything */
		} else {
			e->type.id = FLOE_TYPE_BOOLEAN;
			e->li = kw(p, "TRUE");
		}
		next(p);
		*out = e;
		p->depth--;
		return 0;
	}
	if (kw(p, "INTERVAL") || kw(p, "TIMESTAMP") || kw(p, "DATE")) {
		int which = kw(p, "INTERVAL") ? 0 : kw(p, "TIMESTAMP") ? 1 : 2;
		int save = p->at;
		next(p);
		if (p->t.k != T_STR) {
			/* not a typed literal: a column or function of that name */
			p->at = save;
			p->t = t;
		} else {
			floe_expr *e = ex_node(p->a, EX_LIT, t.pos);
			if (!e)
				return oom(p->err);
			size_t n;
			char *s = str_value(p, &p->t, &n);
			if (!s)
				return oom(p->err);
			floe_error e2;
			if (which == 0) {
				if (floe_expr_parse_interval(&e->li, s, &e2))
					return floe_error_set(p->err, FLOE_EINVALID, "at character %d: %s",
					                      p->t.pos + 1, e2.msg);
				e->type.id = FLOE_TYPE_LONG;
				e->interval = true;
			} else {
				floe_type ty = { .id = which == 1 ? FLOE_TYPE_TIMESTAMPTZ : FLOE_TYPE_DATE };
				if (ex_parse_time(ty.id, s, n, &e->li, &e2))
					return floe_error_set(p->err, FLOE_EINVALID, "at character %d: '%s' is not "
					                      "a %s: %s", p->t.pos + 1, s, which == 1 ?
					                      "timestamp" : "date", e2.msg);
				e->type = ty;
			}
			next(p);
			*out = e;
			p->depth--;
			return 0;
		}
	}
	if (kw(p, "CASE")) {
		next(p);
		floe_expr *operand = NULL;
		int rc2;
		if (!kw(p, "WHEN") && (rc2 = parse_expr(p, &operand)))
			return rc2;
		floe_expr *e = ex_node(p->a, EX_CASE, t.pos);
		if (!e)
			return oom(p->err);
		vec items = { 0 };
		while (kw(p, "WHEN")) {
			next(p);
			floe_expr *c, *v;
			if ((rc2 = parse_expr(p, &c)))
				return rc2;
			if (!kw(p, "THEN"))
				return fail(p, "THEN");
			next(p);
			if ((rc2 = parse_expr(p, &v)))
				return rc2;
			if (operand && !(c = bin(p, EB_EQ, operand, c, c->pos)))
				return oom(p->err);
			if (items.n >= 2 * 256)
				return fail(p, "at most 256 WHEN branches");
			if ((rc2 = vpush(p, &items, c)) || (rc2 = vpush(p, &items, v)))
				return rc2;
		}
		if (items.n == 0)
			return fail(p, "WHEN");
		if (kw(p, "ELSE")) {
			next(p);
			floe_expr *v;
			if ((rc2 = parse_expr(p, &v)) || (rc2 = vpush(p, &items, v)))
				return rc2;
			e->has_else = true;
		}
		if (!kw(p, "END"))
			return fail(p, "END");
		next(p);
		e->args = items.v;
		e->nargs = items.n;
		for (int i = 0; i < items.n; i++)
			if (items.v[i]->height + 1 > e->height)
				e->height = items.v[i]->height + 1;
		if (e->height > EX_MAX_HEIGHT)
			p->too_deep = true;
		*out = e;
		p->depth--;
		return 0;
	}
	if (kw(p, "CAST") || kw(p, "TRY_CAST")) {
		bool try_ = kw(p, "TRY_CAST");
		next(p);
		if (p->t.k != T_LP)
			return fail(p, "'('");
		next(p);
		floe_expr *x;
		if ((rc = parse_expr(p, &x)))
			return rc;
		if (!kw(p, "AS"))
			return fail(p, "AS");
		next(p);
		floe_expr *e = unary(p, EX_CAST, x, t.pos);
		if (!e)
			return oom(p->err);
		e->try_ = try_;
		if ((rc = parse_type(p, &e->cast_to)))
			return rc;
		if (p->t.k != T_RP)
			return fail(p, "')'");
		next(p);
		*out = e;
		p->depth--;
		return 0;
	}
	/* a column or a function call */
	if (ex_reserved(t.p, t.n))
		return fail(p, "a column, a literal, a function or '('");
	next(p);
	if (p->t.k == T_LP) {
		floe_expr *e = ex_node(p->a, EX_FUNC, t.pos);
		if (!e || !(e->name = floe_arena_strndup(p->a, t.p, t.n)))
			return oom(p->err);
		next(p);
		vec items = { 0 };
		if (p->t.k == T_STAR) {
			e->star = true;
			next(p);
		} else if (p->t.k != T_RP) {
			for (;;) {
				floe_expr *x;
				if (items.n == 64)
					return fail(p, "at most 64 arguments");
				if ((rc = parse_expr(p, &x)) || (rc = vpush(p, &items, x)))
					return rc;
				if (p->t.k != T_COMMA)
					break;
				next(p);
			}
		}
		if (p->t.k != T_RP)
			return fail(p, "')' or ','");
		e->end = p->t.end;
		next(p);
		if (!items.v && !(items.v = floe_arena_calloc(p->a, 1, sizeof *items.v)))
			return oom(p->err);
		e->args = items.v;
		e->nargs = items.n;
		for (int i = 0; i < items.n; i++)
			if (items.v[i]->height + 1 > e->height)
				e->height = items.v[i]->height + 1;
		if (e->height > EX_MAX_HEIGHT)
			p->too_deep = true;
		*out = e;
		p->depth--;
		return 0;
	}
	floe_expr *e = ex_node(p->a, EX_COL, t.pos);
	if (!e || !(e->name = floe_arena_strndup(p->a, t.p, t.n)))
		return oom(p->err);
	*out = e;
	p->depth--;
	return 0;
}

static int parse_unary_minus(parser *p, floe_expr **out)
{
	if (isop(p, "-") || isop(p, "+")) {
		bool neg = isop(p, "-");
		int pos = p->t.pos;
		next(p);
		floe_expr *x;
		int rc = parse_unary_minus(p, &x);
		if (rc)
			return rc;
		if (!neg) {
			*out = x;
			return 0;
		}
		if (x->k == EX_LIT && !x->lnull && (x->type.id == FLOE_TYPE_LONG ||
		                                    x->type.id == FLOE_TYPE_DOUBLE) && !x->interval) {
			x->li = -x->li;
			x->ld = -x->ld;
			x->pos = pos;
			*out = x;
			return 0;
		}
		*out = unary(p, EX_NEG, x, pos);
		return *out ? 0 : oom(p->err);
	}
	return parse_primary(p, out);
}

static int parse_mul(parser *p, floe_expr **out)
{
	int rc = parse_unary_minus(p, out);
	while (!rc && (p->t.k == T_STAR || isop(p, "/") || isop(p, "%"))) {
		int op = p->t.k == T_STAR ? EB_MUL : isop(p, "/") ? EB_DIV : EB_MOD, pos = p->t.pos;
		next(p);
		floe_expr *r;
		if ((rc = parse_unary_minus(p, &r)))
			break;
		if (!(*out = bin(p, op, *out, r, pos)))
			rc = oom(p->err);
	}
	return rc;
}

static int parse_add(parser *p, floe_expr **out)
{
	int rc = parse_mul(p, out);
	while (!rc && (isop(p, "+") || isop(p, "-"))) {
		int op = isop(p, "+") ? EB_ADD : EB_SUB, pos = p->t.pos;
		next(p);
		floe_expr *r;
		if ((rc = parse_mul(p, &r)))
			break;
		if (!(*out = bin(p, op, *out, r, pos)))
			rc = oom(p->err);
	}
	return rc;
}

static int parse_concat(parser *p, floe_expr **out)
{
	int rc = parse_add(p, out);
	while (!rc && isop(p, "||")) {
		int pos = p->t.pos;
		next(p);
		floe_expr *r;
		if ((rc = parse_add(p, &r)))
			break;
		if (!(*out = bin(p, EB_CONCAT, *out, r, pos)))
			rc = oom(p->err);
	}
	return rc;
}

static int parse_cmp(parser *p, floe_expr **out)
{
	floe_expr *l;
	int rc = parse_concat(p, &l);
	if (rc)
		return rc;
	for (;;) {
		int pos = p->t.pos;
		int op = -1;
		if (isop(p, "=") || isop(p, "=="))
			op = EB_EQ;
		else if (isop(p, "!=") || isop(p, "<>"))
			op = EB_NE;
		else if (isop(p, "<"))
			op = EB_LT;
		else if (isop(p, "<="))
			op = EB_LE;
		else if (isop(p, ">"))
			op = EB_GT;
		else if (isop(p, ">="))
			op = EB_GE;
		if (op >= 0) {
			next(p);
			floe_expr *r;
			if ((rc = parse_concat(p, &r)))
				return rc;
			if (!(l = bin(p, op, l, r, pos)))
				return oom(p->err);
			continue;
		}
		if (kw(p, "IS")) {
			next(p);
			bool neg = false;
			if (kw(p, "NOT")) {
				neg = true;
				next(p);
			}
			if (!kw(p, "NULL"))
				return fail(p, "NULL");
			next(p);
			floe_expr *e = unary(p, EX_ISNULL, l, pos);
			if (!e)
				return oom(p->err);
			e->neg = neg;
			l = e;
			continue;
		}
		bool neg = false;
		if (kw(p, "NOT")) {
			/* NOT IN / NOT BETWEEN / NOT LIKE */
			int save = p->at;
			tok st = p->t;
			next(p);
			if (!kw(p, "IN") && !kw(p, "BETWEEN") && !kw(p, "LIKE")) {
				p->at = save;
				p->t = st;
				break;
			}
			neg = true;
		}
		if (kw(p, "IN")) {
			next(p);
			if (p->t.k != T_LP)
				return fail(p, "'('");
			next(p);
			/* x = a OR x = b OR ...: a balanced tree, so long lists stay shallow */
			vec items = { 0 };
			for (;;) {
				floe_expr *v;
				if (items.n == 100000)
					return fail(p, "at most 100000 values in the list");
				if ((rc = parse_expr(p, &v)) || (rc = vpush(p, &items, bin(p, EB_EQ, l, v,
				                                                            v->pos))))
					return rc;
				if (p->t.k != T_COMMA)
					break;
				next(p);
			}
			if (p->t.k != T_RP)
				return fail(p, "')' or ','");
			next(p);
			int n = items.n;
			while (n > 1) {
				int m = 0;
				for (int i = 0; i < n; i += 2)
					if (i + 1 == n)
						items.v[m++] = items.v[i];
					else if (!(items.v[m++] = bin(p, EB_OR, items.v[i], items.v[i + 1], pos)))
						return oom(p->err);
				n = m;
			}
			floe_expr *chain = items.v[0];
			l = neg ? unary(p, EX_NOT, chain, pos) : chain;
			if (!l)
				return oom(p->err);
			continue;
		}
		if (kw(p, "BETWEEN")) {
			next(p);
			floe_expr *lo, *hi;
			if ((rc = parse_concat(p, &lo)))
				return rc;
			if (!kw(p, "AND"))
				return fail(p, "AND");
			next(p);
			if ((rc = parse_concat(p, &hi)))
				return rc;
			floe_expr *a = bin(p, EB_GE, l, lo, pos), *b = a ? bin(p, EB_LE, l, hi, pos) : NULL;
			floe_expr *both = b ? bin(p, EB_AND, a, b, pos) : NULL;
			l = both && neg ? unary(p, EX_NOT, both, pos) : both;
			if (!l)
				return oom(p->err);
			continue;
		}
		if (kw(p, "LIKE")) {
			next(p);
			floe_expr *pat;
			if ((rc = parse_concat(p, &pat)))
				return rc;
			floe_expr *e = bin(p, EB_LIKE, l, pat, pos);
			l = e && neg ? unary(p, EX_NOT, e, pos) : e;
			if (!l)
				return oom(p->err);
			continue;
		}
		break;
	}
	*out = l;
	return 0;
}

static int parse_not(parser *p, floe_expr **out)
{
	if (kw(p, "NOT")) {
		int pos = p->t.pos;
		next(p);
		floe_expr *x;
		int rc = parse_not(p, &x);
		if (rc)
			return rc;
		*out = unary(p, EX_NOT, x, pos);
		return *out ? 0 : oom(p->err);
	}
	return parse_cmp(p, out);
}

static int parse_and(parser *p, floe_expr **out)
{
	int rc = parse_not(p, out);
	while (!rc && kw(p, "AND")) {
		int pos = p->t.pos;
		next(p);
		floe_expr *r;
		if ((rc = parse_not(p, &r)))
			break;
		if (!(*out = bin(p, EB_AND, *out, r, pos)))
			rc = oom(p->err);
	}
	return rc;
}

static int parse_expr(parser *p, floe_expr **out)
{
	if (p->too_deep)
		return floe_error_set(p->err, FLOE_EINVALID, "at character %d: the expression is too "
		                      "deep (more than %d operators in a chain)", p->t.pos + 1,
		                      EX_MAX_HEIGHT);
	if (++p->depth > 200)
		return floe_error_set(p->err, FLOE_EINVALID, "at character %d: the expression nests "
		                      "too deeply", p->t.pos + 1);
	int rc = parse_and(p, out);
	while (!rc && kw(p, "OR")) {
		int pos = p->t.pos;
		next(p);
		floe_expr *r;
		if ((rc = parse_and(p, &r)))
			break;
		if (!(*out = bin(p, EB_OR, *out, r, pos)))
			rc = oom(p->err);
	}
	p->depth--;
	if (!rc && p->too_deep)
		return floe_error_set(p->err, FLOE_EINVALID, "at character %d: the expression is too "
		                      "deep (more than %d operators in a chain)", p->t.pos + 1,
		                      EX_MAX_HEIGHT);
	return rc;
}

/* Record each node's source span end (for aggregate argument text). */
static void set_src(floe_expr *e, const char *src)
{
	if (!e)
		return;
	e->src = src;
	for (int i = 0; i < e->nargs; i++)
		set_src(e->args[i], src);
}

int floe_expr_parse(floe_expr **out, const char *text, floe_arena *arena, floe_error *err)
{
	*out = NULL;
	if (!text)
		return floe_error_set(err, FLOE_EINVALID, "no expression given");
	parser p = { text, strlen(text), 0, { 0 }, arena, err, 0, false };
	char *copy = floe_arena_strdup(arena, text);
	if (!copy)
		return oom(err);
	p.src = copy;
	next(&p);
	floe_expr *e;
	int rc = parse_expr(&p, &e);
	if (rc)
		return rc;
	if (p.t.k != T_END)
		return fail(&p, "an operator or the end of the expression");
	set_src(e, copy);
	e->root_text = copy;
	*out = e;
	return 0;
}

/* ---- aggregates ------------------------------------------------------------- */

static const struct {
	const char *name;
	floe_agg_fn fn;
} aggs[] = { { "count", FLOE_AGG_COUNT }, { "sum", FLOE_AGG_SUM }, { "min", FLOE_AGG_MIN },
	{ "max", FLOE_AGG_MAX }, { "avg", FLOE_AGG_AVG }, { "mean", FLOE_AGG_AVG },
	{ "first", FLOE_AGG_FIRST }, { "last", FLOE_AGG_LAST }, { "stddev", FLOE_AGG_STDDEV_SAMP },
	{ "stddev_samp", FLOE_AGG_STDDEV_SAMP }, { "stddev_pop", FLOE_AGG_STDDEV_POP },
	{ "variance", FLOE_AGG_VAR_SAMP }, { "var_samp", FLOE_AGG_VAR_SAMP },
	{ "var_pop", FLOE_AGG_VAR_POP }, { NULL, 0 } };

int ex_agg_fn(const floe_expr *e)
{
	if (e->k != EX_FUNC)
		return 0;
	for (int i = 0; aggs[i].name; i++)
		if (strcasecmp(e->name, aggs[i].name) == 0)
			return aggs[i].fn;
	return 0;
}

bool floe_expr_has_aggregate(const floe_expr *e)
{
	if (!e)
		return false;
	if (ex_agg_fn(e))
		return true;
	for (int i = 0; i < e->nargs; i++)
		if (floe_expr_has_aggregate(e->args[i]))
			return true;
	return false;
}

static bool key_word(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* The next character of a call's text as aggregates compare it: white
 * space outside quotes dropped (one space kept between two words, so
 * a or b is not aorb) and letters outside quotes lower-cased, so count(*)
 * is COUNT( * ) but 'A' is not 'a' and "Px" is not "px". -1 at the end of
 * the call. */
static int key_next(const floe_expr *e, int *i, char *quote)
{
	int end = e->end > e->pos ? e->end : e->pos;
	while (*i < end) {
		char c = e->src[(*i)++];
		if (*quote) {
			if (c == *quote)
				*quote = 0; /* '' and "" reopen at once: same result */
			return (unsigned char)c;
		}
		if (c == '\'' || c == '"') {
			*quote = c;
			return (unsigned char)c;
		}
		if (!isspace((unsigned char)c))
			return tolower((unsigned char)c);
		int before = *i - 2; /* the character ahead of this run of spaces */
		while (*i < end && isspace((unsigned char)e->src[*i]))
			(*i)++;
		if (before >= e->pos && *i < end && key_word(e->src[before]) &&
		    key_word(e->src[*i]))
			return ' ';
	}
	return -1;
}

/* Do two aggregate calls have the same text (as key_next reads it)? */
static bool same_call(const floe_expr *a, const floe_expr *b)
{
	int i = a->pos, j = b->pos;
	char qa = 0, qb = 0;
	for (;;) {
		int x = key_next(a, &i, &qa), y = key_next(b, &j, &qb);
		if (x != y)
			return false;
		if (x < 0)
			return true;
	}
}

static int split(floe_expr *e, floe_expr_agg **aggs_out, int *naggs, floe_arena *a,
                 floe_error *err)
{
	for (int i = 0; i < e->nargs; i++) {
		floe_expr *c = e->args[i];
		int fn = ex_agg_fn(c);
		if (!fn) {
			int rc = split(c, aggs_out, naggs, a, err);
			if (rc)
				return rc;
			continue;
		}
		if (c->star && fn != FLOE_AGG_COUNT)
			return floe_error_set(err, FLOE_EINVALID, "at character %d: only count takes *",
			                      c->pos + 1);
		if (!c->star && c->nargs != 1)
			return floe_error_set(err, FLOE_EINVALID, "at character %d: %s() takes one "
			                      "argument", c->pos + 1, c->name);
		if (c->star)
			fn = FLOE_AGG_COUNT_STAR;
		else if (floe_expr_has_aggregate(c->args[0]))
			return floe_error_set(err, FLOE_EINVALID, "at character %d: an aggregate inside "
			                      "%s() cannot be computed (aggregates do not nest)",
			                      c->args[0]->pos + 1, c->name);
		int found = -1;
		for (int k = 0; k < *naggs && found < 0; k++)
			if ((*aggs_out)[k].fn == (floe_agg_fn)fn && (*aggs_out)[k].arg == NULL && c->star)
				found = k;
			else if ((*aggs_out)[k].fn == (floe_agg_fn)fn && (*aggs_out)[k].arg &&
			         !c->star) {
				const floe_expr *owner = (*aggs_out)[k].arg->agg_call;
				if (owner && same_call(owner, c))
					found = k;
			}
		if (found < 0) {
			floe_expr_agg *v = floe_arena_calloc(a, (size_t)*naggs + 1, sizeof *v);
			if (!v)
				return oom(err);
			if (*naggs)
				memcpy(v, *aggs_out, (size_t)*naggs * sizeof *v);
			char name[32];
			snprintf(name, sizeof name, "__agg%d", *naggs);
			v[*naggs].fn = (floe_agg_fn)fn;
			v[*naggs].arg = c->star ? NULL : c->args[0];
			if (!c->star)
				c->args[0]->agg_call = c;
			v[*naggs].column = floe_arena_strdup(a, name);
			if (!v[*naggs].column)
				return oom(err);
			found = (*naggs)++;
			*aggs_out = v;
		}
		floe_expr *col = ex_node(a, EX_COL, c->pos);
		if (!col)
			return oom(err);
		col->name = (*aggs_out)[found].column;
		col->src = c->src;
		col->end = c->end;
		e->args[i] = col;
	}
	return 0;
}

int floe_expr_split_aggregates(floe_expr *e, floe_expr_agg **aggs_out, int *naggs,
                               floe_arena *arena, floe_error *err)
{
	/* the root itself may be an aggregate: wrap it so split() sees it as
	 * a child */
	floe_expr wrap;
	memset(&wrap, 0, sizeof wrap);
	floe_expr *kids[1] = { e };
	wrap.k = EX_FUNC;
	wrap.args = kids;
	wrap.nargs = 1;
	int rc = split(&wrap, aggs_out, naggs, arena, err);
	if (rc)
		return rc;
	if (kids[0] != e) {
		/* the root was an aggregate: turn it into the placeholder column */
		const char *root = e->root_text;
		floe_expr *col = kids[0];
		*e = *col;
		e->root_text = root;
	}
	return 0;
}

const char *floe_expr_text(const floe_expr *e)
{
	if (e->root_text)
		return e->root_text;
	return e->name ? e->name : "";
}

/* ---- intervals -------------------------------------------------------------- */

int floe_expr_parse_interval(int64_t *us, const char *text, floe_error *err)
{
	const char *s = text;
	int64_t total = 0;
	bool any = false;
	while (*s) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		char *end;
		errno = 0;
		double v = strtod(s, &end);
		if (end == s || errno || v < 0)
			goto bad;
		s = end;
		while (isspace((unsigned char)*s))
			s++;
		const char *u = s;
		while (isalpha((unsigned char)*s))
			s++;
		size_t n = (size_t)(s - u);
		static const struct {
			const char *name;
			int64_t mul;
		} units[] = { { "us", 1 }, { "microsecond", 1 }, { "microseconds", 1 },
			{ "ms", 1000 }, { "millisecond", 1000 }, { "milliseconds", 1000 },
			{ "s", 1000000 }, { "sec", 1000000 }, { "secs", 1000000 },
			{ "second", 1000000 }, { "seconds", 1000000 }, { "m", 60000000 },
			{ "min", 60000000 }, { "mins", 60000000 }, { "minute", 60000000 },
			{ "minutes", 60000000 }, { "h", 3600000000LL }, { "hour", 3600000000LL },
			{ "hours", 3600000000LL }, { "d", 86400000000LL }, { "day", 86400000000LL },
			{ "days", 86400000000LL }, { NULL, 0 } };
		int64_t mul = -1;
		for (int i = 0; units[i].name; i++)
			if (strlen(units[i].name) == n && strncasecmp(u, units[i].name, n) == 0)
				mul = units[i].mul;
		/* !(<=) also refuses NaN ("nan s"); the sum is checked too */
		if (mul < 0 || !(v * (double)mul <= 9.2e18) ||
		    __builtin_add_overflow(total, (int64_t)(v * (double)mul + 0.5), &total))
			goto bad;
		any = true;
	}
	if (!any || total <= 0)
		goto bad;
	*us = total;
	return 0;
bad:
	return floe_error_set(err, FLOE_EINVALID, "'%s' is not a duration (write e.g. 250ms, 30s, "
	                      "5 minutes, 1h, 1 day)", text);
}
