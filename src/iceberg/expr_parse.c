/* iceberg/expr_parse.c - scan filters as text: the --where parser, binding to
 * a schema (literal conversion, NOT push-down), field ids and the text form. */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "iceberg/expr.h"
#include "util/text.h"

#define EXPR_MAX_DEPTH 200 /* parentheses and NOTs nested deeper are refused */

/* ---- tokens ----------------------------------------------------------- */

typedef enum tok_kind {
	TK_END = 1,
	TK_IDENT,  /* bare identifier or keyword */
	TK_QIDENT, /* "quoted identifier" */
	TK_STRING, /* 'string' */
	TK_NUMBER,
	TK_LPAREN,
	TK_RPAREN,
	TK_COMMA,
	TK_OP      /* = == != <> < <= > >= */
} tok_kind;

typedef struct tok {
	tok_kind kind;
	size_t pos;       /* offset of the first character */
	const char *s;    /* raw text */
	size_t n;
	ice_expr_op op;   /* TK_OP */
} tok;

typedef struct parser {
	const char *text;
	size_t len;
	size_t pos;
	tok cur;
	floe_arena *arena;
	floe_error *err;
	int depth;
} parser;

static int perr(parser *p, size_t pos, const char *what)
{
	if (pos >= p->len)
		return floe_error_set(p->err, FLOE_EINVALID,
		                      "--where: at character %zu: expected %s, found the end",
		                      pos + 1, what);
	return floe_error_set(p->err, FLOE_EINVALID,
	                      "--where: at character %zu: expected %s, found '%.*s'", pos + 1,
	                      what, (int)(p->len - pos > 16 ? 16 : p->len - pos), p->text + pos);
}

static bool ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static bool ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '.';
}

/* Read the next token into p->cur. */
static int lex(parser *p)
{
	const char *t = p->text;
	while (p->pos < p->len && isspace((unsigned char)t[p->pos]))
		p->pos++;
	tok *k = &p->cur;
	memset(k, 0, sizeof *k);
	k->pos = p->pos;
	k->s = t + p->pos;
	if (p->pos >= p->len) {
		k->kind = TK_END;
		return 0;
	}
	size_t i = p->pos;
	unsigned char c = (unsigned char)t[i];
	if (ident_start(c)) {
		while (i < p->len && ident_char((unsigned char)t[i]))
			i++;
		k->kind = TK_IDENT;
	} else if (c == '"' || c == '\'') {
		/* quoted; a doubled quote stands for one */
		i++;
		for (;;) {
			if (i >= p->len)
				return floe_error_set(p->err, FLOE_EINVALID,
				                      "--where: at character %zu: unterminated %s",
				                      k->pos + 1,
				                      c == '"' ? "quoted identifier" : "string");
			if ((unsigned char)t[i] == c) {
				if (i + 1 < p->len && (unsigned char)t[i + 1] == c) {
					i += 2;
					continue;
				}
				i++;
				break;
			}
			i++;
		}
		k->kind = c == '"' ? TK_QIDENT : TK_STRING;
	} else if (isdigit(c) || ((c == '-' || c == '+' || c == '.') && i + 1 < p->len &&
	                          (isdigit((unsigned char)t[i + 1]) || t[i + 1] == '.'))) {
		i++;
		while (i < p->len) {
			unsigned char d = (unsigned char)t[i];
			if (isdigit(d) || d == '.')
				i++;
			else if ((d == 'e' || d == 'E') && i + 1 < p->len) {
				i++;
				if (t[i] == '+' || t[i] == '-')
					i++;
			} else
				break;
		}
		if (i < p->len && ident_char((unsigned char)t[i]))
			return perr(p, i, "an operator or the end after a number");
		k->kind = TK_NUMBER;
	} else if (c == '(') {
		k->kind = TK_LPAREN;
		i++;
	} else if (c == ')') {
		k->kind = TK_RPAREN;
		i++;
	} else if (c == ',') {
		k->kind = TK_COMMA;
		i++;
	} else {
		char c2 = i + 1 < p->len ? t[i + 1] : '\0';
		k->kind = TK_OP;
		if (c == '=') {
			k->op = ICE_E_EQ;
			i += c2 == '=' ? 2 : 1;
		} else if (c == '!' && c2 == '=') {
			k->op = ICE_E_NE;
			i += 2;
		} else if (c == '<') {
			k->op = c2 == '=' ? ICE_E_LE : c2 == '>' ? ICE_E_NE : ICE_E_LT;
			i += c2 == '=' || c2 == '>' ? 2 : 1;
		} else if (c == '>') {
			k->op = c2 == '=' ? ICE_E_GE : ICE_E_GT;
			i += c2 == '=' ? 2 : 1;
		} else {
			return perr(p, i, "a column, literal, operator or parenthesis");
		}
	}
	k->n = i - p->pos;
	p->pos = i;
	return 0;
}

static bool is_kw(const tok *k, const char *kw)
{
	return k->kind == TK_IDENT && strlen(kw) == k->n && strncasecmp(k->s, kw, k->n) == 0;
}

static bool is_reserved(const tok *k)
{
	static const char *const kws[] = { "and", "or", "not", "in", "is", "null",
	                                   "true", "false" };
	for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++)
		if (is_kw(k, kws[i]))
			return true;
	return false;
}

/* Unquote a '...' or "..." token (doubled quotes -> one) into the arena. */
static char *unquote(parser *p, const tok *k)
{
	char q = k->s[0];
	char *o = floe_arena_alloc(p->arena, k->n);
	if (!o)
		return NULL;
	size_t j = 0;
	for (size_t i = 1; i + 1 < k->n; i++) {
		o[j++] = k->s[i];
		if (k->s[i] == q)
			i++;
	}
	o[j] = '\0';
	return o;
}

static ice_expr *new_node(floe_arena *arena, ice_expr_op op)
{
	ice_expr *e = floe_arena_calloc(arena, 1, sizeof *e);
	if (e) {
		e->op = op;
		e->field_id = -1;
	}
	return e;
}

static int nomem(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

static int parse_or(parser *p, ice_expr **out);

/* lit := 'string' | number | true | false | NaN */
static int parse_lit(parser *p, const char **text, bool *quoted)
{
	tok *k = &p->cur;
	if (k->kind == TK_STRING) {
		*text = unquote(p, k);
		*quoted = true;
	} else if (k->kind == TK_NUMBER || is_kw(k, "true") || is_kw(k, "false") ||
	           is_kw(k, "nan")) {
		*text = floe_arena_strndup(p->arena, k->s, k->n);
		*quoted = false;
	} else {
		return perr(p, k->pos, "a literal ('text', a number, true, false or NaN)");
	}
	if (!*text)
		return nomem(p->err);
	return lex(p);
}

static int parse_pred(parser *p, ice_expr **out)
{
	tok *k = &p->cur;
	const char *col;
	int rc;
	if (k->kind == TK_QIDENT) {
		col = unquote(p, k);
	} else if (k->kind == TK_IDENT && !is_reserved(k)) {
		col = floe_arena_strndup(p->arena, k->s, k->n);
	} else {
		return perr(p, k->pos, "a column name, NOT, TRUE, FALSE or '('");
	}
	if (!col)
		return nomem(p->err);
	if ((rc = lex(p)))
		return rc;
	ice_expr *e = NULL;
	if (k->kind == TK_OP) {
		e = new_node(p->arena, k->op);
		if (!e)
			return nomem(p->err);
		e->nvalues = 1;
		e->texts = floe_arena_calloc(p->arena, 1, sizeof *e->texts);
		e->text_quoted = floe_arena_calloc(p->arena, 1, sizeof *e->text_quoted);
		if (!e->texts || !e->text_quoted)
			return nomem(p->err);
		if ((rc = lex(p)) || (rc = parse_lit(p, &e->texts[0], &e->text_quoted[0])))
			return rc;
	} else if (is_kw(k, "is")) {
		if ((rc = lex(p)))
			return rc;
		bool neg = false;
		if (is_kw(k, "not")) {
			neg = true;
			if ((rc = lex(p)))
				return rc;
		}
		if (!is_kw(k, "null"))
			return perr(p, k->pos, neg ? "NULL" : "NULL or NOT NULL");
		if ((rc = lex(p)))
			return rc;
		e = new_node(p->arena, neg ? ICE_E_NOT_NULL : ICE_E_IS_NULL);
		if (!e)
			return nomem(p->err);
	} else if (is_kw(k, "in") || is_kw(k, "not")) {
		bool neg = is_kw(k, "not");
		if (neg) {
			if ((rc = lex(p)))
				return rc;
			if (!is_kw(k, "in"))
				return perr(p, k->pos, "IN after NOT");
		}
		if ((rc = lex(p)))
			return rc;
		if (k->kind != TK_LPAREN)
			return perr(p, k->pos, "'(' after IN");
		if ((rc = lex(p)))
			return rc;
		e = new_node(p->arena, neg ? ICE_E_NOT_IN : ICE_E_IN);
		if (!e)
			return nomem(p->err);
		int cap = 0;
		for (;;) {
			if (e->nvalues == cap) {
				if (cap > INT_MAX / 4)
					return floe_error_set(p->err, FLOE_EINVALID,
					                      "--where: IN list too long");
				int ncap = cap ? cap * 2 : 8;
				const char **t = floe_arena_calloc(p->arena, (size_t)ncap, sizeof *t);
				bool *q = floe_arena_calloc(p->arena, (size_t)ncap, sizeof *q);
				if (!t || !q)
					return nomem(p->err);
				if (cap) {
					memcpy(t, e->texts, (size_t)cap * sizeof *t);
					memcpy(q, e->text_quoted, (size_t)cap * sizeof *q);
				}
				e->texts = t;
				e->text_quoted = q;
				cap = ncap;
			}
			if ((rc = parse_lit(p, &e->texts[e->nvalues], &e->text_quoted[e->nvalues])))
				return rc;
			e->nvalues++;
			if (k->kind == TK_COMMA) {
				if ((rc = lex(p)))
					return rc;
				continue;
			}
			if (k->kind != TK_RPAREN)
				return perr(p, k->pos, "',' or ')' in the IN list");
			if ((rc = lex(p)))
				return rc;
			break;
		}
	} else {
		return perr(p, k->pos, "an operator (=, !=, <, <=, >, >=), IN, NOT IN or IS");
	}
	e->column = col;
	*out = e;
	return 0;
}

static int parse_unary(parser *p, ice_expr **out)
{
	tok *k = &p->cur;
	int rc;
	if (++p->depth > EXPR_MAX_DEPTH)
		return floe_error_set(p->err, FLOE_EINVALID,
		                      "--where: at character %zu: nested deeper than %d",
		                      k->pos + 1, EXPR_MAX_DEPTH);
	if (is_kw(k, "not")) {
		if ((rc = lex(p)))
			return rc;
		ice_expr *e = new_node(p->arena, ICE_E_NOT);
		if (!e)
			return nomem(p->err);
		if ((rc = parse_unary(p, &e->left)))
			return rc;
		*out = e;
	} else if (k->kind == TK_LPAREN) {
		if ((rc = lex(p)) || (rc = parse_or(p, out)))
			return rc;
		if (k->kind != TK_RPAREN)
			return perr(p, k->pos, "')'");
		if ((rc = lex(p)))
			return rc;
	} else if (is_kw(k, "true") || is_kw(k, "false")) {
		*out = new_node(p->arena, is_kw(k, "true") ? ICE_E_TRUE : ICE_E_FALSE);
		if (!*out)
			return nomem(p->err);
		if ((rc = lex(p)))
			return rc;
	} else {
		if ((rc = parse_pred(p, out)))
			return rc;
	}
	p->depth--;
	return 0;
}

static int parse_and(parser *p, ice_expr **out)
{
	int rc = parse_unary(p, out);
	while (rc == 0 && is_kw(&p->cur, "and")) {
		ice_expr *e = new_node(p->arena, ICE_E_AND);
		if (!e)
			return nomem(p->err);
		e->left = *out;
		if ((rc = lex(p)) || (rc = parse_unary(p, &e->right)))
			return rc;
		*out = e;
	}
	return rc;
}

static int parse_or(parser *p, ice_expr **out)
{
	int rc = parse_and(p, out);
	while (rc == 0 && is_kw(&p->cur, "or")) {
		ice_expr *e = new_node(p->arena, ICE_E_OR);
		if (!e)
			return nomem(p->err);
		e->left = *out;
		if ((rc = lex(p)) || (rc = parse_and(p, &e->right)))
			return rc;
		*out = e;
	}
	return rc;
}

int ice_expr_parse(ice_expr **out, const char *text, floe_arena *arena, floe_error *err)
{
	parser p = { .text = text, .len = strlen(text), .arena = arena, .err = err };
	ice_expr *e = NULL;
	int rc = lex(&p);
	if (rc)
		return rc;
	if (p.cur.kind == TK_END)
		return perr(&p, 0, "a filter");
	if ((rc = parse_or(&p, &e)))
		return rc;
	if (p.cur.kind != TK_END)
		return perr(&p, p.cur.pos, "AND, OR or the end");
	*out = e;
	return 0;
}

/* ---- binding ---------------------------------------------------------- */

static ice_expr_op negate_op(ice_expr_op op)
{
	switch (op) {
	case ICE_E_TRUE: return ICE_E_FALSE;
	case ICE_E_FALSE: return ICE_E_TRUE;
	case ICE_E_AND: return ICE_E_OR;
	case ICE_E_OR: return ICE_E_AND;
	case ICE_E_EQ: return ICE_E_NE;
	case ICE_E_NE: return ICE_E_EQ;
	case ICE_E_LT: return ICE_E_GE;
	case ICE_E_LE: return ICE_E_GT;
	case ICE_E_GT: return ICE_E_LE;
	case ICE_E_GE: return ICE_E_LT;
	case ICE_E_IN: return ICE_E_NOT_IN;
	case ICE_E_NOT_IN: return ICE_E_IN;
	case ICE_E_IS_NULL: return ICE_E_NOT_NULL;
	case ICE_E_NOT_NULL: return ICE_E_IS_NULL;
	case ICE_E_IS_NAN: return ICE_E_NOT_NAN;
	case ICE_E_NOT_NAN: return ICE_E_IS_NAN;
	case ICE_E_NOT: break;
	}
	return ICE_E_NOT;
}

static bool type_is_numeric(floe_type_id id)
{
	return id == FLOE_TYPE_INT || id == FLOE_TYPE_LONG || id == FLOE_TYPE_FLOAT ||
	       id == FLOE_TYPE_DOUBLE || id == FLOE_TYPE_DECIMAL;
}

static bool type_is_timestamp(floe_type_id id)
{
	return id == FLOE_TYPE_TIMESTAMP || id == FLOE_TYPE_TIMESTAMPTZ ||
	       id == FLOE_TYPE_TIMESTAMP_NS || id == FLOE_TYPE_TIMESTAMPTZ_NS;
}

/* The column `name` among the top-level fields: exact, else the only
 * case-insensitive match. */
static int find_column(const ice_field **out, const ice_schema *schema, const char *name,
                       floe_error *err)
{
	const ice_field *ci = NULL;
	int nci = 0;
	for (int i = 0; i < schema->nfields; i++) {
		const ice_field *f = &schema->fields[i];
		if (f->name && strcmp(f->name, name) == 0) {
			*out = f;
			goto found;
		}
		if (f->name && strcasecmp(f->name, name) == 0) {
			ci = f;
			nci++;
		}
	}
	if (nci == 1) {
		*out = ci;
		goto found;
	}
	if (err) {
		char list[300];
		size_t len = 0;
		list[0] = '\0';
		for (int i = 0; i < schema->nfields && len < sizeof list - 1; i++) {
			int w = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
			                 schema->fields[i].name ? schema->fields[i].name : "?");
			if (w < 0)
				break;
			len += (size_t)w;
		}
		if (len >= sizeof list - 1)
			memcpy(list + sizeof list - 5, "...", 4);
		floe_error_set(err, FLOE_ENOTFOUND, "--where: %s column '%s' (columns: %s)",
		               nci > 1 ? "ambiguous" : "unknown", name, list);
	}
	return FLOE_ENOTFOUND;
found:
	if (!(*out)->type || (*out)->type->kind != ICE_PRIMITIVE)
		return floe_error_set(err, FLOE_EUNSUPPORTED,
		                      "--where: column '%s' is not a primitive column "
		                      "(filters on nested columns are not supported)", name);
	return 0;
}

/* Convert literal `i` of unbound `e` for column `f` into *out (bytes in arena). */
static int bind_literal(ice_datum *out, const ice_expr *e, int i, const ice_field *f,
                        floe_arena *arena, floe_error *err)
{
	const floe_type *t = &f->type->prim;
	const char *s = e->texts[i];
	size_t n = strlen(s);
	char tn[48];
	floe_buf scratch = FLOE_BUF_INIT;
	floe_error sub;
	int rc = 0;
	memset(out, 0, sizeof *out);
	out->type = *t;
	if (!e->text_quoted[i]) {
		bool is_bool_kw = strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0;
		if (is_bool_kw && t->id != FLOE_TYPE_BOOLEAN) {
			rc = floe_error_set(&sub, FLOE_EINVALID, "a boolean literal needs a "
			                    "boolean column");
			goto bad;
		}
		if (!is_bool_kw && !type_is_numeric(t->id)) {
			rc = floe_error_set(&sub, FLOE_EINVALID, "a number needs a numeric "
			                    "column (quote literals of other types)");
			goto bad;
		}
	}
	rc = floe_text_parse(&out->v, t, s, n, &scratch, &sub);
	if (rc && type_is_timestamp(t->id)) {
		/* a date-only literal on a timestamp column is its midnight */
		floe_type dt = { .id = FLOE_TYPE_DATE };
		floe_value dv;
		floe_error ignore;
		if (floe_text_parse(&dv, &dt, s, n, &scratch, &ignore) == 0) {
			bool ns = t->id == FLOE_TYPE_TIMESTAMP_NS || t->id == FLOE_TYPE_TIMESTAMPTZ_NS;
			int64_t per_day = ns ? INT64_C(86400000000000) : INT64_C(86400000000);
			if (dv.i > INT64_MAX / per_day || dv.i < INT64_MIN / per_day) {
				rc = floe_error_set(&sub, FLOE_EINVALID, "date out of range");
				goto bad;
			}
			memset(&out->v, 0, sizeof out->v);
			out->v.i = dv.i * per_day;
			rc = 0;
		}
	}
	if (rc)
		goto bad;
	if (out->v.bytes && out->v.len >= 0) {
		uint8_t *copy = floe_arena_alloc(arena, (size_t)out->v.len);
		if (!copy) {
			rc = nomem(err);
			goto done;
		}
		memcpy(copy, out->v.bytes, (size_t)out->v.len);
		out->v.bytes = copy;
	}
	goto done;
bad:
	rc = floe_error_set(err, FLOE_EINVALID, "--where: column '%s' (%s): bad literal %s%s%s: %s",
	                    f->name, floe_type_format(t, tn, sizeof tn),
	                    e->text_quoted[i] ? "'" : "", s, e->text_quoted[i] ? "'" : "",
	                    sub.msg);
done:
	floe_buf_free(&scratch);
	return rc;
}

static int bind_pred(ice_expr **out, const ice_expr *e, bool neg, const ice_schema *schema,
                     floe_arena *arena, floe_error *err)
{
	const ice_field *f = NULL;
	int rc = find_column(&f, schema, e->column, err);
	if (rc)
		return rc;
	ice_expr *b = new_node(arena, neg ? negate_op(e->op) : e->op);
	if (!b)
		return nomem(err);
	b->column = f->name;
	b->field_id = f->id;
	b->type = f->type->prim;
	bool fp = b->type.id == FLOE_TYPE_FLOAT || b->type.id == FLOE_TYPE_DOUBLE;
	int nan_at = -1;
	for (int i = 0; i < e->nvalues; i++)
		if (!e->text_quoted[i] && strcasecmp(e->texts[i], "nan") == 0)
			nan_at = i;
	if (nan_at >= 0) {
		char tn[48];
		if (!fp)
			return floe_error_set(err, FLOE_EINVALID,
			                      "--where: column '%s' (%s): NaN needs a float or "
			                      "double column", f->name,
			                      floe_type_format(&b->type, tn, sizeof tn));
		if (e->op != ICE_E_EQ && e->op != ICE_E_NE)
			return floe_error_set(err, FLOE_EINVALID,
			                      "--where: column '%s': NaN is only compared with = "
			                      "or != (NaN is not ordered)", f->name);
		b->op = (e->op == ICE_E_EQ) != neg ? ICE_E_IS_NAN : ICE_E_NOT_NAN;
		*out = b;
		return 0;
	}
	if (e->nvalues > 0) {
		b->nvalues = e->nvalues;
		b->values = floe_arena_calloc(arena, (size_t)e->nvalues, sizeof *b->values);
		if (!b->values)
			return nomem(err);
		for (int i = 0; i < e->nvalues; i++)
			if ((rc = bind_literal(&b->values[i], e, i, f, arena, err)))
				return rc;
	}
	*out = b;
	return 0;
}

static int bind_rec(ice_expr **out, const ice_expr *e, bool neg, const ice_schema *schema,
                    floe_arena *arena, floe_error *err)
{
	int rc;
	switch (e->op) {
	case ICE_E_TRUE:
	case ICE_E_FALSE:
		*out = new_node(arena, neg ? negate_op(e->op) : e->op);
		return *out ? 0 : nomem(err);
	case ICE_E_NOT:
		return bind_rec(out, e->left, !neg, schema, arena, err);
	case ICE_E_AND:
	case ICE_E_OR: {
		/* De Morgan: NOT (a AND b) = NOT a OR NOT b, also under 3VL */
		ice_expr *b = new_node(arena, neg ? negate_op(e->op) : e->op);
		if (!b)
			return nomem(err);
		if ((rc = bind_rec(&b->left, e->left, neg, schema, arena, err)) ||
		    (rc = bind_rec(&b->right, e->right, neg, schema, arena, err)))
			return rc;
		*out = b;
		return 0;
	}
	case ICE_E_EQ: case ICE_E_NE: case ICE_E_LT: case ICE_E_LE: case ICE_E_GT:
	case ICE_E_GE: case ICE_E_IN: case ICE_E_NOT_IN:
		if (e->nvalues < 1 || !e->texts || !e->text_quoted || !e->column)
			break;
		return bind_pred(out, e, neg, schema, arena, err);
	case ICE_E_IS_NULL: case ICE_E_NOT_NULL:
		if (!e->column)
			break;
		return bind_pred(out, e, neg, schema, arena, err);
	case ICE_E_IS_NAN: case ICE_E_NOT_NAN:
		break;
	}
	return floe_error_set(err, FLOE_EINVALID, "--where: cannot bind an expression node "
	                      "of kind %d", (int)e->op);
}

int ice_expr_bind(ice_expr **out, const ice_expr *e, const ice_schema *schema,
                  floe_arena *arena, floe_error *err)
{
	ice_expr *b = NULL;
	int rc = bind_rec(&b, e, false, schema, arena, err);
	if (rc == 0)
		*out = b;
	return rc;
}

/* ---- field ids -------------------------------------------------------- */

static void collect_ids(const ice_expr *e, int32_t *ids, int cap, int *n)
{
	if (!e)
		return;
	if (e->op == ICE_E_AND || e->op == ICE_E_OR || e->op == ICE_E_NOT) {
		collect_ids(e->left, ids, cap, n);
		collect_ids(e->right, ids, cap, n);
		return;
	}
	if (e->op == ICE_E_TRUE || e->op == ICE_E_FALSE)
		return;
	for (int i = 0; i < *n; i++)
		if (ids[i] == e->field_id)
			return;
	if (*n < cap)
		ids[(*n)++] = e->field_id;
}

int ice_expr_field_ids(const ice_expr *e, int32_t *ids, int cap)
{
	int n = 0;
	collect_ids(e, ids, cap, &n);
	return n;
}

/* ---- text form -------------------------------------------------------- */

static int put(floe_buf *out, const char *s)
{
	return floe_buf_append(out, s, strlen(s));
}

static int put_quoted(floe_buf *out, const char *s, size_t n, char q)
{
	int rc = floe_buf_putc(out, (uint8_t)q);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (s[i] == q)
			rc = floe_buf_putc(out, (uint8_t)q);
		if (rc == 0)
			rc = floe_buf_putc(out, (uint8_t)s[i]);
	}
	return rc ? rc : floe_buf_putc(out, (uint8_t)q);
}

static int put_column(floe_buf *out, const char *name)
{
	bool plain = name && ident_start((unsigned char)name[0]);
	for (const char *c = name; plain && *c; c++)
		if (!ident_char((unsigned char)*c))
			plain = false;
	if (plain) {
		parser p = { .text = name, .len = strlen(name) };
		if (lex(&p) == 0 && (is_reserved(&p.cur) || is_kw(&p.cur, "nan")))
			plain = false;
	}
	if (plain)
		return put(out, name);
	if (!name)
		return put(out, "?");
	return put_quoted(out, name, strlen(name), '"');
}

static int put_value(floe_buf *out, const ice_expr *e, int i)
{
	if (!e->values) {
		if (e->text_quoted && e->text_quoted[i])
			return put_quoted(out, e->texts[i], strlen(e->texts[i]), '\'');
		return put(out, e->texts[i]);
	}
	const ice_datum *d = &e->values[i];
	switch (d->type.id) {
	case FLOE_TYPE_BOOLEAN: case FLOE_TYPE_INT: case FLOE_TYPE_LONG: case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE: case FLOE_TYPE_DECIMAL:
		if (!d->is_null)
			return ice_datum_format(out, d);
		break;
	default:
		break;
	}
	if (d->is_null)
		return put(out, "null");
	floe_buf tmp = FLOE_BUF_INIT;
	int rc = ice_datum_format(&tmp, d);
	if (rc == 0)
		rc = put_quoted(out, (const char *)tmp.data, tmp.len, '\'');
	floe_buf_free(&tmp);
	return rc;
}

static const char *op_text(ice_expr_op op)
{
	switch (op) {
	case ICE_E_EQ: return " = ";
	case ICE_E_NE: return " != ";
	case ICE_E_LT: return " < ";
	case ICE_E_LE: return " <= ";
	case ICE_E_GT: return " > ";
	case ICE_E_GE: return " >= ";
	case ICE_E_IN: return " IN (";
	case ICE_E_NOT_IN: return " NOT IN (";
	case ICE_E_IS_NULL: return " IS NULL";
	case ICE_E_NOT_NULL: return " IS NOT NULL";
	case ICE_E_IS_NAN: return " = NaN";
	case ICE_E_NOT_NAN: return " != NaN";
	default: return " ? ";
	}
}

static int format_rec(floe_buf *out, const ice_expr *e, int depth)
{
	int rc;
	if (depth > 4 * EXPR_MAX_DEPTH)
		return put(out, "...");
	switch (e->op) {
	case ICE_E_TRUE:
		return put(out, "true");
	case ICE_E_FALSE:
		return put(out, "false");
	case ICE_E_NOT:
		if ((rc = put(out, "NOT (")) || (rc = format_rec(out, e->left, depth + 1)))
			return rc;
		return put(out, ")");
	case ICE_E_AND:
	case ICE_E_OR:
		/* always parenthesized: unambiguous and re-parseable */
		if ((rc = put(out, "(")) || (rc = format_rec(out, e->left, depth + 1)) ||
		    (rc = put(out, e->op == ICE_E_AND ? " AND " : " OR ")) ||
		    (rc = format_rec(out, e->right, depth + 1)))
			return rc;
		return put(out, ")");
	default:
		break;
	}
	if ((rc = put_column(out, e->column)) || (rc = put(out, op_text(e->op))))
		return rc;
	if (e->op == ICE_E_IN || e->op == ICE_E_NOT_IN) {
		for (int i = 0; i < e->nvalues; i++)
			if ((i && (rc = put(out, ", "))) || (rc = put_value(out, e, i)))
				return rc;
		return put(out, ")");
	}
	if (e->op >= ICE_E_EQ && e->op <= ICE_E_GE && e->nvalues >= 1)
		return put_value(out, e, 0);
	return 0;
}

int ice_expr_format(floe_buf *out, const ice_expr *e)
{
	if (!e)
		return put(out, "true");
	return format_rec(out, e, 0);
}
