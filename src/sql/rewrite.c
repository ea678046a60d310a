/* sql/rewrite.c - finding the aggregations floe runs itself. SQLite gives a
 * virtual table no say in aggregation: every row of a GROUP BY would pass
 * through its row engine. floe_sql_prepare therefore reads the statement's
 * text first, and each SELECT of the form
 *
 *   SELECT items FROM ns.table [alias] [WHERE col OP value [AND ...]]
 *     [GROUP BY col, ...] [ORDER BY output-name, ...] [LIMIT ...]
 *
 * whose items are GROUP BY columns, count/sum/total/avg/min/max of
 * arithmetic over the table's columns, and scalar expressions of those, is
 * replaced by a SELECT over an aggregation table (agg.c) that computes the
 * groups and aggregates while scanning, given the WHERE values as
 * arguments. What it may not read exactly as SQLite would is left alone:
 * a shape not listed here is not rewritten, and at run time agg.c hands
 * the same aggregation to SQLite whenever it cannot answer it itself. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "floe/floe.h"
#include "sql/sql_int.h"

/* ---- tokens ------------------------------------------------------------------ */

enum { T_ID, T_QID, T_STR, T_NUM, T_PARAM, T_OP, T_LP, T_RP, T_COMMA, T_SEMI, T_DOT, T_BLOB };

typedef struct tok {
	int kind;
	int at, len; /* bytes of the statement */
} tok;

typedef struct lexed {
	const char *sql;
	tok *t;
	int n, cap;
} lexed;

static bool id_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool id_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static int push(lexed *x, int kind, int at, int len)
{
	if (x->n == x->cap) {
		int cap = x->cap ? x->cap * 2 : 64;
		tok *n = realloc(x->t, (size_t)cap * sizeof *n);
		if (!n)
			return -1;
		x->t = n;
		x->cap = cap;
	}
	x->t[x->n++] = (tok){ kind, at, len };
	return 0;
}

/* Tokens of the first statement of sql[0..n): up to and including a ';' at
 * depth 0. *end is where the statement's text ends (after the ';').
 * Returns -1 on text SQLite would not take (an unclosed quote) or memory. */
static int lex(lexed *x, const char *sql, int n, int *end)
{
	x->sql = sql;
	int i = 0, depth = 0;
	while (i < n) {
		unsigned char c = (unsigned char)sql[i];
		if (isspace(c)) {
			i++;
			continue;
		}
		if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
			while (i < n && sql[i] != '\n')
				i++;
			continue;
		}
		if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
			i += 2;
			while (i + 1 < n && !(sql[i] == '*' && sql[i + 1] == '/'))
				i++;
			i = i + 2 <= n ? i + 2 : n;
			continue;
		}
		int at = i, kind;
		if ((c == 'x' || c == 'X') && i + 1 < n && sql[i + 1] == '\'') {
			i++;
			c = '\'';
			kind = T_BLOB;
		} else
			kind = c == '\'' ? T_STR : T_QID;
		if (c == '\'' || c == '"' || c == '`' || c == '[') {
			char close = c == '[' ? ']' : (char)c;
			for (i++;; i++) {
				if (i >= n)
					return -1;
				if (sql[i] == close) {
					if (close != ']' && i + 1 < n && sql[i + 1] == close) {
						i++;
						continue;
					}
					break;
				}
			}
			i++;
		} else if (id_start(c)) {
			while (i < n && id_char((unsigned char)sql[i]))
				i++;
			kind = T_ID;
		} else if (isdigit(c) || (c == '.' && i + 1 < n && isdigit((unsigned char)sql[i + 1]))) {
			while (i < n && (isalnum((unsigned char)sql[i]) || sql[i] == '.' || sql[i] == '_' ||
			                 ((sql[i] == '+' || sql[i] == '-') &&
			                  (sql[i - 1] == 'e' || sql[i - 1] == 'E'))))
				i++;
			kind = T_NUM;
		} else if (c == '?' || c == ':' || c == '@' || c == '$') {
			i++;
			while (i < n && id_char((unsigned char)sql[i]))
				i++;
			kind = T_PARAM;
		} else {
			i++;
			kind = c == '(' ? T_LP : c == ')' ? T_RP : c == ',' ? T_COMMA : c == ';' ? T_SEMI :
			       c == '.' ? T_DOT : T_OP;
			if (kind == T_OP && i < n &&
			    ((strchr("<>=!", c) && sql[i] == '=') || (c == '<' && sql[i] == '>') ||
			     (c == '|' && sql[i] == '|') || (c == '<' && sql[i] == '<') ||
			     (c == '>' && sql[i] == '>') || (c == '-' && sql[i] == '>')))
				i++;
			if (kind == T_LP)
				depth++;
			if (kind == T_RP)
				depth--;
		}
		if (push(x, kind, at, i - at))
			return -1;
		if (kind == T_SEMI && depth <= 0)
			break;
	}
	*end = i;
	return 0;
}

static bool is_kw(const lexed *x, int i, const char *kw)
{
	if (i < 0 || i >= x->n || x->t[i].kind != T_ID)
		return false;
	size_t n = strlen(kw);
	return (size_t)x->t[i].len == n && sqlite3_strnicmp(x->sql + x->t[i].at, kw, (int)n) == 0;
}

static bool is_kind(const lexed *x, int i, int kind)
{
	return i >= 0 && i < x->n && x->t[i].kind == kind;
}

static bool is_op(const lexed *x, int i, const char *op)
{
	return is_kind(x, i, T_OP) && (size_t)x->t[i].len == strlen(op) &&
	       memcmp(x->sql + x->t[i].at, op, strlen(op)) == 0;
}

/* The name an identifier token stands for (unquoted), malloc'ed. */
static char *tok_name(const lexed *x, int i)
{
	const tok *t = &x->t[i];
	const char *p = x->sql + t->at;
	char *o = malloc((size_t)t->len + 1);
	if (!o)
		return NULL;
	if (t->kind != T_QID) {
		memcpy(o, p, (size_t)t->len);
		o[t->len] = '\0';
		return o;
	}
	char close = p[0] == '[' ? ']' : p[0];
	int k = 0;
	for (int j = 1; j < t->len - 1; j++) {
		o[k++] = p[j];
		if (p[j] == close && close != ']' && j + 1 < t->len - 1 && p[j + 1] == close)
			j++;
	}
	o[k] = '\0';
	return o;
}

static bool name_is(const lexed *x, int i, const char *name)
{
	char *n = (is_kind(x, i, T_ID) || is_kind(x, i, T_QID)) ? tok_name(x, i) : NULL;
	bool r = n && sqlite3_stricmp(n, name) == 0;
	free(n);
	return r;
}

/* Words that end a table reference or an expression where an alias could
 * stand, and so are never taken for one. */
static const char *const CLAUSE_WORDS[] = {
	"WHERE", "GROUP", "ORDER", "LIMIT", "JOIN", "LEFT", "RIGHT", "FULL", "INNER", "CROSS",
	"NATURAL", "ON", "USING", "WINDOW", "HAVING", "UNION", "EXCEPT", "INTERSECT", "INDEXED",
	"NOT", "AS", "FROM", "SELECT", "VALUES", "OUTER", "RETURNING", NULL
};

static bool clause_word(const lexed *x, int i)
{
	for (int k = 0; CLAUSE_WORDS[k]; k++)
		if (is_kw(x, i, CLAUSE_WORDS[k]))
			return true;
	return false;
}

/* Keywords an expression over aggregates may hold, copied as they are. */
static const char *const EXPR_WORDS[] = {
	"CASE", "WHEN", "THEN", "ELSE", "END", "AND", "OR", "NOT", "IS", "NULL", "LIKE", "GLOB",
	"BETWEEN", "TRUE", "FALSE", NULL
};

/* Scalar functions an expression over aggregates may call (each is plain
 * SQLite: none aggregates, none reads a row). */
static const char *const SCALAR_FUNCS[] = {
	"round", "abs", "coalesce", "ifnull", "nullif", "iif", "upper", "lower", "length", "substr",
	"substring", "trim", "ltrim", "rtrim", "replace", "printf", "format", "datetime", "date",
	"time", "julianday", "strftime", "unixepoch", "instr", "sign", "sqrt", "ln", "log",
	"log10", "exp", "power", "pow", "floor", "ceil", "ceiling", "typeof", NULL
};

static bool in_list(const lexed *x, int i, const char *const *list)
{
	for (int k = 0; list[k]; k++)
		if (is_kw(x, i, list[k]))
			return true;
	return false;
}

/* Index of the ')' closing the '(' at i, or -1. */
static int close_paren(const lexed *x, int i, int limit)
{
	int depth = 0;
	for (int j = i; j < limit; j++) {
		if (x->t[j].kind == T_LP)
			depth++;
		else if (x->t[j].kind == T_RP && --depth == 0)
			return j;
	}
	return -1;
}

/* ---- one SELECT ---------------------------------------------------------------- */

typedef struct core {
	const lexed *x;
	const floe_schema *sc;
	char *alias;        /* of the table reference, or NULL */
	char *tname;        /* the table's own name (after the namespace) */
	sq_plan *p;
	sqlite3_str *fb_args; /* aggregate texts for the SQL SQLite runs instead */
} core;

static int find_field(const floe_schema *sc, const char *name)
{
	for (int i = 0; i < sc->nfields; i++)
		if (sqlite3_stricmp(sc->fields[i].name, name) == 0)
			return i;
	return -1;
}

/* A column reference at i (col, alias.col or table.col): its field index,
 * or -1; *next is the token after it. */
static int column_ref(core *c, int i, int limit, int *next)
{
	const lexed *x = c->x;
	if (!(is_kind(x, i, T_ID) || is_kind(x, i, T_QID)))
		return -1;
	int ci = i;
	if (i + 2 < limit && is_kind(x, i + 1, T_DOT)) {
		if (!(c->alias ? name_is(x, i, c->alias) : name_is(x, i, c->tname)))
			return -1;
		if (!(is_kind(x, i + 2, T_ID) || is_kind(x, i + 2, T_QID)))
			return -1;
		ci = i + 2;
		if (ci + 1 < limit && is_kind(x, ci + 1, T_DOT))
			return -1;
	}
	if (ci + 1 < limit && is_kind(x, ci + 1, T_LP))
		return -1;
	char *n = tok_name(x, ci);
	int f = n ? find_field(c->sc, n) : -1;
	free(n);
	*next = ci + 1;
	return f;
}

bool sq_agg_numeric(const floe_type *t)
{
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN:
	case FLOE_TYPE_INT:
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
		return true;
	case FLOE_TYPE_LONG:
		return !t->is_unsigned;
	case FLOE_TYPE_DECIMAL:
		return t->precision <= 18;
	default:
		return false;
	}
}

bool sq_agg_ordered(const floe_type *t)
{
	switch (t->id) {
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_DATE:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		return true;
	default:
		return sq_agg_numeric(t);
	}
}

static int add_node(sq_plan *p, sq_anode nd)
{
	if (p->nnodes == p->capnodes) {
		int cap = p->capnodes ? p->capnodes * 2 : 16;
		sq_anode *n = realloc(p->nodes, (size_t)cap * sizeof *n);
		if (!n)
			return -1;
		p->nodes = n;
		p->capnodes = cap;
	}
	p->nodes[p->nnodes] = nd;
	return p->nnodes++;
}

static int plan_column(sq_plan *p, const char *name)
{
	for (int i = 0; i < p->ncols; i++)
		if (strcmp(p->cols[i], name) == 0)
			return i;
	char **n = realloc(p->cols, (size_t)(p->ncols + 1) * sizeof *n);
	if (!n)
		return -1;
	p->cols = n;
	if (!(p->cols[p->ncols] = strdup(name)))
		return -1;
	return p->ncols++;
}

static void put_ident(sqlite3_str *o, const char *name)
{
	sqlite3_str_appendf(o, "\"%w\"", name);
}

/* A numeric literal's value as SQLite reads it (asked of SQLite itself, so
 * that rounding agrees). */
static int literal_value(sqlite3 *db, const char *text, int len, sq_anode *nd)
{
	sqlite3_stmt *st;
	char *q = sqlite3_mprintf("SELECT %.*s", len, text);
	if (!q || sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_free(q);
		return -1;
	}
	sqlite3_free(q);
	int rc = -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		int ty = sqlite3_column_type(st, 0);
		if (ty == SQLITE_INTEGER) {
			nd->op = 'i';
			nd->i = sqlite3_column_int64(st, 0);
			rc = 0;
		} else if (ty == SQLITE_FLOAT) {
			nd->op = 'r';
			nd->r = sqlite3_column_double(st, 0);
			rc = 0;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* Arithmetic over columns (+ - * / and unary minus, numbers, parentheses)
 * from token *i: a node index, or -1 when the text is anything else. The
 * same text, columns spelled plainly, goes to `fb`. */
static int arith(core *c, sqlite3 *db, int *i, int limit, sqlite3_str *fb, int level);

static int primary(core *c, sqlite3 *db, int *i, int limit, sqlite3_str *fb)
{
	const lexed *x = c->x;
	if (*i >= limit)
		return -1;
	if (is_op(x, *i, "-") || is_op(x, *i, "+")) {
		bool neg = is_op(x, *i, "-");
		sqlite3_str_appendall(fb, neg ? "-" : "+");
		(*i)++;
		int a = primary(c, db, i, limit, fb);
		if (a < 0 || !neg)
			return a;
		return add_node(c->p, (sq_anode){ .op = 'n', .a = a, .b = -1, .col = -1 });
	}
	if (is_kind(x, *i, T_LP)) {
		sqlite3_str_appendall(fb, "(");
		(*i)++;
		int a = arith(c, db, i, limit, fb, 0);
		if (a < 0 || !is_kind(x, *i, T_RP))
			return -1;
		sqlite3_str_appendall(fb, ")");
		(*i)++;
		return a;
	}
	if (is_kind(x, *i, T_NUM)) {
		const tok *t = &x->t[*i];
		sq_anode nd = { .a = -1, .b = -1, .col = -1 };
		if (literal_value(db, x->sql + t->at, t->len, &nd))
			return -1;
		sqlite3_str_append(fb, x->sql + t->at, t->len);
		(*i)++;
		return add_node(c->p, nd);
	}
	int next;
	int f = column_ref(c, *i, limit, &next);
	if (f < 0)
		return -1;
	int col = plan_column(c->p, c->sc->fields[f].name);
	if (col < 0)
		return -1;
	put_ident(fb, c->sc->fields[f].name);
	*i = next;
	return add_node(c->p, (sq_anode){ .op = 'c', .a = -1, .b = -1, .col = col });
}

static int arith(core *c, sqlite3 *db, int *i, int limit, sqlite3_str *fb, int level)
{
	/* level 0: + and -, level 1: * and / */
	int a = level == 0 ? arith(c, db, i, limit, fb, 1) : primary(c, db, i, limit, fb);
	while (a >= 0 && *i < limit) {
		const lexed *x = c->x;
		char op = level == 0 ? (is_op(x, *i, "+") ? '+' : is_op(x, *i, "-") ? '-' : 0)
		                     : (is_op(x, *i, "*") ? '*' : is_op(x, *i, "/") ? '/' : 0);
		if (!op)
			break;
		sqlite3_str_appendf(fb, " %c ", op);
		(*i)++;
		int b = level == 0 ? arith(c, db, i, limit, fb, 1) : primary(c, db, i, limit, fb);
		if (b < 0)
			return -1;
		a = add_node(c->p, (sq_anode){ .op = op, .a = a, .b = b, .col = -1 });
	}
	return a;
}

/* Whether a node tree only reads numeric columns (arithmetic on text is
 * SQLite's text-to-number conversion, not done here). */
static bool numeric_tree(core *c, int n)
{
	const sq_anode *nd = &c->p->nodes[n];
	switch (nd->op) {
	case 'c': {
		int f = find_field(c->sc, c->p->cols[nd->col]);
		return f >= 0 && sq_agg_numeric(&c->sc->fields[f].type);
	}
	case 'i':
	case 'r':
		return true;
	case 'n':
		return numeric_tree(c, nd->a);
	default:
		return numeric_tree(c, nd->a) && numeric_tree(c, nd->b);
	}
}

static const struct {
	const char *name;
	sq_agg_kind kind;
} AGG_NAMES[] = {
	{ "count", SQ_AGG_COUNT }, { "sum", SQ_AGG_SUM }, { "total", SQ_AGG_TOTAL },
	{ "avg", SQ_AGG_AVG }, { "min", SQ_AGG_MIN }, { "max", SQ_AGG_MAX },
};

/* An aggregate call at i (name at i, '(' at i + 1, ')' at rp): its index
 * among the plan's aggregates (the same text twice is one), or -1. */
static int aggregate(core *c, sqlite3 *db, int i, int rp)
{
	const lexed *x = c->x;
	sq_agg_kind kind = SQ_AGG_COUNT;
	bool found = false;
	for (size_t k = 0; k < sizeof AGG_NAMES / sizeof AGG_NAMES[0]; k++)
		if (is_kw(x, i, AGG_NAMES[k].name)) {
			kind = AGG_NAMES[k].kind;
			found = true;
		}
	if (!found)
		return -1;
	sqlite3_str *fb = sqlite3_str_new(NULL);
	sqlite3_str_appendf(fb, "%.*s(", x->t[i].len, x->sql + x->t[i].at);
	int root = -1;
	if (kind == SQ_AGG_COUNT && rp == i + 3 && is_op(x, i + 2, "*")) {
		kind = SQ_AGG_COUNT_STAR;
		sqlite3_str_appendall(fb, "*");
	} else {
		int j = i + 2;
		root = arith(c, db, &j, rp, fb, 0);
		if (root >= 0 && j != rp)
			root = -1;
		/* a single column of an ordered type may be counted, or its min
		 * and max taken; anything else must be numeric */
		if (root >= 0 && !numeric_tree(c, root)) {
			const sq_anode *nd = &c->p->nodes[root];
			int f = nd->op == 'c' ? find_field(c->sc, c->p->cols[nd->col]) : -1;
			bool ok = f >= 0 && (kind == SQ_AGG_COUNT || kind == SQ_AGG_MIN ||
			                     kind == SQ_AGG_MAX) && sq_agg_ordered(&c->sc->fields[f].type);
			if (!ok)
				root = -1;
		}
	}
	sqlite3_str_appendall(fb, ")");
	char *text = sqlite3_str_finish(fb);
	if (!text || (root < 0 && kind != SQ_AGG_COUNT_STAR)) {
		sqlite3_free(text);
		return -1;
	}
	sq_plan *p = c->p;
	for (int k = 0; k < p->naggs; k++)
		if (strcmp(p->aggs[k].text, text) == 0) {
			sqlite3_free(text);
			return k;
		}
	sq_aggdef *n = realloc(p->aggs, (size_t)(p->naggs + 1) * sizeof *n);
	if (!n) {
		sqlite3_free(text);
		return -1;
	}
	p->aggs = n;
	n[p->naggs] = (sq_aggdef){ kind, root, strdup(text) };
	sqlite3_free(text);
	if (!n[p->naggs].text)
		return -1;
	return p->naggs++;
}

static int group_index(const sq_plan *p, const char *name)
{
	for (int k = 0; k < p->ngroup; k++)
		if (sqlite3_stricmp(p->group[k], name) == 0)
			return k;
	return -1;
}

/* One select item, tokens [a, b), rewritten into `o` over the aggregation
 * table's columns (g0.. for GROUP BY columns, a0.. for aggregates), with
 * the name SQLite would give it. Returns false when the item is outside
 * what agg.c computes. */
static bool item(core *c, sqlite3 *db, int a, int b, sqlite3_str *o, char ***names, int *nnames)
{
	const lexed *x = c->x;
	int e = b, alias = -1;
	if (b - a >= 3 && is_kw(x, b - 2, "AS") && (is_kind(x, b - 1, T_ID) || is_kind(x, b - 1, T_QID))) {
		e = b - 2;
		alias = b - 1;
	} else if (b - a >= 2 && (is_kind(x, b - 1, T_ID) || is_kind(x, b - 1, T_QID)) &&
	           !in_list(x, b - 1, EXPR_WORDS) && !is_kind(x, b - 2, T_DOT) &&
	           (is_kind(x, b - 2, T_ID) || is_kind(x, b - 2, T_QID) || is_kind(x, b - 2, T_NUM) ||
	            is_kind(x, b - 2, T_STR) || is_kind(x, b - 2, T_RP) ||
	            is_kind(x, b - 2, T_PARAM)) &&
	           !in_list(x, b - 2, EXPR_WORDS)) {
		e = b - 1;
		alias = b - 1;
	}
	if (e <= a)
		return false;
	char *name = NULL;
	int single = -1, next;
	int f = column_ref(c, a, e, &next);
	if (f >= 0 && next == e)
		single = f;
	if (alias >= 0)
		name = tok_name(x, alias);
	else if (single >= 0)
		name = strdup(c->sc->fields[single].name);
	else {
		name = malloc((size_t)(x->t[e - 1].at + x->t[e - 1].len - x->t[a].at) + 1);
		if (name) {
			int n = x->t[e - 1].at + x->t[e - 1].len - x->t[a].at;
			memcpy(name, x->sql + x->t[a].at, (size_t)n);
			name[n] = '\0';
		}
	}
	if (!name)
		return false;
	char **nn = realloc(*names, (size_t)(*nnames + 1) * sizeof *nn);
	if (!nn) {
		free(name);
		return false;
	}
	*names = nn;
	nn[(*nnames)++] = name;
	/* an alias naming a GROUP BY column for another expression would
	 * change what GROUP BY reads */
	if (alias >= 0 && group_index(c->p, name) >= 0 &&
	    !(single >= 0 && sqlite3_stricmp(c->sc->fields[single].name, name) == 0))
		return false;
	for (int i = a; i < e;) {
		const tok *t = &x->t[i];
		if (is_kind(x, i, T_ID) && is_kind(x, i + 1, T_LP)) {
			int rp = close_paren(x, i + 1, e);
			if (rp < 0)
				return false;
			if (is_kw(x, rp + 1, "FILTER") || is_kw(x, rp + 1, "OVER"))
				return false;
			int k = aggregate(c, db, i, rp);
			if (k >= 0) {
				sqlite3_str_appendf(o, " a%d", k);
				i = rp + 1;
				continue;
			}
			for (size_t q = 0; q < sizeof AGG_NAMES / sizeof AGG_NAMES[0]; q++)
				if (is_kw(x, i, AGG_NAMES[q].name))
					return false; /* an aggregate not taken (min(a, b) too) */
			if (!in_list(x, i, SCALAR_FUNCS))
				return false;
			sqlite3_str_appendf(o, " %.*s", t->len, x->sql + t->at);
			i++;
			continue;
		}
		if (is_kind(x, i, T_ID) || is_kind(x, i, T_QID)) {
			if (is_kind(x, i, T_ID) && in_list(x, i, EXPR_WORDS)) {
				sqlite3_str_appendf(o, " %.*s", t->len, x->sql + t->at);
				i++;
				continue;
			}
			int cf = column_ref(c, i, e, &next);
			int g = cf >= 0 ? group_index(c->p, c->sc->fields[cf].name) : -1;
			if (g < 0)
				return false;
			sqlite3_str_appendf(o, " g%d", g);
			i = next;
			continue;
		}
		if (is_kind(x, i, T_SEMI) || is_kind(x, i, T_DOT))
			return false;
		sqlite3_str_appendf(o, " %.*s", t->len, x->sql + t->at);
		i++;
	}
	sqlite3_str_appendall(o, " AS ");
	put_ident(o, name);
	return true;
}

/* A WHERE value at i: a literal or parameter, with a sign; [i, *next). */
static bool value_span(const lexed *x, int i, int limit, int *next)
{
	if (i < limit && (is_op(x, i, "-") || is_op(x, i, "+")))
		return i + 1 < limit && is_kind(x, i + 1, T_NUM) && (*next = i + 2, true);
	if (i < limit && (is_kind(x, i, T_NUM) || is_kind(x, i, T_STR) || is_kind(x, i, T_PARAM) ||
	                  is_kind(x, i, T_BLOB) || is_kw(x, i, "NULL"))) {
		*next = i + 1;
		return true;
	}
	return false;
}

static char comparison(const lexed *x, int i, bool flip)
{
	static const char *const ops[] = { "=", "==", "<", "<=", ">", ">=" };
	static const char codes[] = { SQ_OP_EQ, SQ_OP_EQ, SQ_OP_LT, SQ_OP_LE, SQ_OP_GT, SQ_OP_GE };
	static const char flipped[] = { SQ_OP_EQ, SQ_OP_EQ, SQ_OP_GT, SQ_OP_GE, SQ_OP_LT, SQ_OP_LE };
	for (int k = 0; k < 6; k++)
		if (is_op(x, i, ops[k]))
			return flip ? flipped[k] : codes[k];
	return 0;
}

static bool add_term(sq_plan *p, const char *col, char op, const lexed *x, int v0, int v1,
                     sqlite3_str *args)
{
	int k = p->nterms;
	char **cols = realloc(p->term_col, (size_t)(k + 1) * sizeof *cols);
	if (cols)
		p->term_col = cols;
	char *ops = realloc(p->term_op, (size_t)(k + 1));
	if (ops)
		p->term_op = ops;
	if (!cols || !ops || !(cols[k] = strdup(col)))
		return false;
	ops[k] = op;
	p->nterms++;
	sqlite3_str_appendall(args, ", ");
	sqlite3_str_append(args, x->sql + x->t[v0].at,
	                   x->t[v1 - 1].at + x->t[v1 - 1].len - x->t[v0].at);
	return true;
}

/* WHERE terms [a, b): col OP value, value OP col or col BETWEEN v AND v,
 * joined by AND. Their values go to `args`. */
static bool where_terms(core *c, int a, int b, sqlite3_str *args)
{
	const lexed *x = c->x;
	int i = a;
	while (i < b) {
		int next, v0, v1, f = column_ref(c, i, b, &next);
		char op;
		if (f >= 0 && is_kw(x, next, "BETWEEN")) {
			int lo0 = next + 1, lo1, hi0, hi1;
			if (!value_span(x, lo0, b, &lo1) || !is_kw(x, lo1, "AND") ||
			    !value_span(x, hi0 = lo1 + 1, b, &hi1))
				return false;
			if (!add_term(c->p, c->sc->fields[f].name, SQ_OP_GE, x, lo0, lo1, args) ||
			    !add_term(c->p, c->sc->fields[f].name, SQ_OP_LE, x, hi0, hi1, args))
				return false;
			i = hi1;
		} else if (f >= 0 && (op = comparison(x, next, false)) &&
		           value_span(x, v0 = next + 1, b, &v1)) {
			if (!add_term(c->p, c->sc->fields[f].name, op, x, v0, v1, args))
				return false;
			i = v1;
		} else if (value_span(x, v0 = i, b, &v1) && (op = comparison(x, v1, true)) &&
		           (f = column_ref(c, v1 + 1, b, &next)) >= 0) {
			if (!add_term(c->p, c->sc->fields[f].name, op, x, v0, v1, args))
				return false;
			i = next;
		} else
			return false;
		if (i < b) {
			if (!is_kw(x, i, "AND"))
				return false;
			i++;
		}
	}
	return true;
}

/* The floe table a name in FROM stands for, as SQLite resolves it (names
 * are case-insensitive, temp comes before main): its "ns.table" (malloc'ed),
 * or NULL when it is not a floe table. */
static char *table_ident(floe_sql *fs, const char *schema, const char *name)
{
	static const char *const order[] = { "temp", "main" };
	for (int k = schema ? 2 : 0; k < 3; k++) {
		const char *db = k < 2 ? order[k] : schema;
		char *q = sqlite3_mprintf("SELECT sql FROM \"%w\".sqlite_schema WHERE type = 'table' "
		                          "AND name = ?1 COLLATE NOCASE", db);
		sqlite3_stmt *st = NULL;
		int rc = q ? sqlite3_prepare_v2(fs->db, q, -1, &st, NULL) : SQLITE_NOMEM;
		sqlite3_free(q);
		if (rc != SQLITE_OK)
			return NULL; /* no such schema */
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		char *ident = NULL;
		bool found = false;
		if (sqlite3_step(st) == SQLITE_ROW) {
			found = true;
			const char *ddl = (const char *)sqlite3_column_text(st, 0);
			const char *u = ddl ? strstr(ddl, " USING floe('") : NULL;
			if (u) {
				u += strlen(" USING floe('");
				ident = malloc(strlen(u) + 1);
				size_t n = 0;
				for (; ident && *u; u++) {
					if (*u == '\'' && u[1] != '\'')
						break;
					if (*u == '\'')
						u++;
					ident[n++] = *u;
				}
				if (ident && *u != '\'') {
					free(ident);
					ident = NULL;
				} else if (ident)
					ident[n] = '\0';
			}
		}
		sqlite3_finalize(st);
		if (found)
			return ident;
	}
	return NULL;
}

/* Where the SELECT at `s` would be rewritten: [s, *end) replaced by
 * `*text`, or false. */
static bool rewrite_core(floe_sql *fs, const lexed *x, int s, bool has_with, int *end,
                         char **text)
{
	if (is_kw(x, s - 1, "UNION") || is_kw(x, s - 1, "ALL") || is_kw(x, s - 1, "EXCEPT") ||
	    is_kw(x, s - 1, "INTERSECT"))
		return false;
	int i = s + 1;
	if (is_kw(x, i, "ALL"))
		i++;
	if (is_kw(x, i, "DISTINCT"))
		return false;
	/* items up to FROM at depth 0 */
	int items = i, from = -1, depth = 0;
	for (int j = i; j < x->n; j++) {
		if (x->t[j].kind == T_LP)
			depth++;
		else if (x->t[j].kind == T_RP && --depth < 0)
			return false;
		else if (depth == 0 && (is_kw(x, j, "SELECT") || x->t[j].kind == T_SEMI))
			return false;
		else if (depth == 0 && is_kw(x, j, "FROM")) {
			from = j;
			break;
		}
	}
	if (from < 0 || from == items)
		return false;
	/* the table: ns.table or "ns.table" */
	char *ns = NULL, *tn = NULL, *ident = NULL, *alias = NULL;
	int j = from + 1;
	bool ok = false;
	if ((is_kind(x, j, T_ID) || is_kind(x, j, T_QID)) && is_kind(x, j + 1, T_DOT) &&
	    (is_kind(x, j + 2, T_ID) || is_kind(x, j + 2, T_QID))) {
		ns = tok_name(x, j);
		tn = tok_name(x, j + 2);
		ident = ns && tn ? table_ident(fs, ns, tn) : NULL;
		j += 3;
	} else if (is_kind(x, j, T_QID) && !has_with) {
		tn = tok_name(x, j); /* "ns.table": its columns qualify by that name */
		ident = tn ? table_ident(fs, NULL, tn) : NULL;
		j += 1;
	}
	ok = ident && tn;
	if (ok && (is_kind(x, j, T_LP) || is_kind(x, j, T_DOT)))
		ok = false; /* time travel by argument, or a three-part name */
	if (ok && is_kw(x, j, "AS") && (is_kind(x, j + 1, T_ID) || is_kind(x, j + 1, T_QID))) {
		alias = tok_name(x, j + 1);
		j += 2;
	} else if (ok && (is_kind(x, j, T_ID) || is_kind(x, j, T_QID)) && !clause_word(x, j)) {
		alias = tok_name(x, j);
		j += 1;
	}
	floe_table *t = NULL;
	floe_error err;
	ok = ok && sq_table_get(fs, ident, false, &t, &err) == 0;
	int wh = -1, wend = -1, grp = -1, gend = -1, order = -1;
	if (ok && is_kw(x, j, "WHERE")) {
		wh = j + 1;
		for (wend = wh, depth = 0; wend < x->n; wend++) {
			if (x->t[wend].kind == T_LP)
				depth++;
			else if (x->t[wend].kind == T_RP && --depth < 0)
				break;
			else if (depth == 0 && (is_kw(x, wend, "GROUP") || is_kw(x, wend, "ORDER") ||
			                        is_kw(x, wend, "LIMIT") || is_kw(x, wend, "HAVING") ||
			                        is_kw(x, wend, "WINDOW") || is_kw(x, wend, "UNION") ||
			                        is_kw(x, wend, "EXCEPT") || is_kw(x, wend, "INTERSECT") ||
			                        x->t[wend].kind == T_SEMI))
				break;
		}
		j = wend;
	}
	if (ok && is_kw(x, j, "GROUP") && is_kw(x, j + 1, "BY")) {
		grp = j + 2;
		for (gend = grp; gend < x->n; gend++)
			if (x->t[gend].kind == T_RP || x->t[gend].kind == T_SEMI || is_kw(x, gend, "ORDER") ||
			    is_kw(x, gend, "LIMIT") || is_kw(x, gend, "HAVING") || is_kw(x, gend, "WINDOW") ||
			    is_kw(x, gend, "UNION") || is_kw(x, gend, "EXCEPT") ||
			    is_kw(x, gend, "INTERSECT"))
				break;
		j = gend;
	}
	int core_end = j;
	if (ok && is_kw(x, j, "ORDER") && is_kw(x, j + 1, "BY"))
		order = j + 2;
	/* what may follow: ORDER BY output names, LIMIT, the end */
	if (ok && order >= 0) {
		for (j = order; j < x->n && !is_kind(x, j, T_RP) && !is_kind(x, j, T_SEMI) &&
		                !is_kw(x, j, "LIMIT"); j++)
			;
	}
	if (ok && is_kw(x, j, "LIMIT")) {
		for (depth = 0; j < x->n; j++) {
			if (x->t[j].kind == T_LP)
				depth++;
			else if (x->t[j].kind == T_RP && --depth < 0)
				break;
			else if (depth == 0 && (x->t[j].kind == T_SEMI || is_kw(x, j, "UNION") ||
			                        is_kw(x, j, "EXCEPT") || is_kw(x, j, "INTERSECT")))
				break;
		}
	}
	ok = ok && (j >= x->n || is_kind(x, j, T_RP) || is_kind(x, j, T_SEMI));
	sq_plan *p = NULL;
	core c = { x, NULL, alias, tn, NULL, NULL };
	sqlite3_str *o = NULL, *args = NULL;
	char **names = NULL;
	int nnames = 0;
	if (ok) {
		c.sc = floe_table_schema(t);
		p = c.p = calloc(1, sizeof *p);
		o = sqlite3_str_new(NULL);
		args = sqlite3_str_new(NULL);
		ok = p && (p->ident = strdup(ident));
	}
	/* GROUP BY: plain columns of an ordered type */
	if (ok && grp >= 0) {
		for (int g = grp; ok && g < gend;) {
			int next, f = column_ref(&c, g, gend, &next);
			ok = f >= 0 && sq_agg_ordered(&c.sc->fields[f].type) &&
			     !(c.sc->fields[f].type.id == FLOE_TYPE_DECIMAL &&
			       c.sc->fields[f].type.scale > 0);
			if (ok) {
				char **gn = realloc(p->group, (size_t)(p->ngroup + 1) * sizeof *gn);
				ok = gn && (p->group = gn) &&
				     (gn[p->ngroup++] = strdup(c.sc->fields[f].name)) != NULL;
			}
			g = next;
			if (ok && g < gend)
				ok = is_kind(x, g, T_COMMA) && g + 1 < gend && (g++, true);
		}
		ok = ok && p->ngroup > 0 && p->ngroup <= SQ_AGG_MAX_KEYS;
	}
	if (ok && wh >= 0)
		ok = where_terms(&c, wh, wend, args);
	/* the items */
	if (ok) {
		sqlite3_str_appendall(o, "SELECT");
		int a = items;
		depth = 0;
		for (int k = items; ok && k <= from; k++) {
			if (k < from && x->t[k].kind == T_LP)
				depth++;
			else if (k < from && x->t[k].kind == T_RP)
				depth--;
			else if (k == from || (depth == 0 && x->t[k].kind == T_COMMA)) {
				if (a > items)
					sqlite3_str_appendall(o, ",");
				ok = k > a && item(&c, fs->db, a, k, o, &names, &nnames);
				a = k + 1;
			}
		}
		ok = ok && p->naggs > 0 && p->naggs <= SQ_AGG_MAX_AGGS;
	}
	/* ORDER BY may name outputs (by name or number) only */
	if (ok && order >= 0) {
		for (j = order; ok && j < x->n && !is_kind(x, j, T_RP) && !is_kind(x, j, T_SEMI) &&
		                !is_kw(x, j, "LIMIT");) {
			bool named = false;
			if (is_kind(x, j, T_ID) || is_kind(x, j, T_QID)) {
				for (int k = 0; k < nnames && !named; k++)
					named = name_is(x, j, names[k]);
			}
			ok = named || is_kind(x, j, T_NUM);
			j++;
			if (ok && (is_kw(x, j, "ASC") || is_kw(x, j, "DESC")))
				j++;
			if (ok && !(j >= x->n || is_kind(x, j, T_RP) || is_kind(x, j, T_SEMI) ||
			            is_kw(x, j, "LIMIT")))
				ok = is_kind(x, j, T_COMMA) && (j++, true);
		}
	}
	if (ok) {
		/* the same aggregation for SQLite, should agg.c hand it over */
		sqlite3_str *fb = sqlite3_str_new(NULL);
		sqlite3_str_appendall(fb, "SELECT ");
		for (int g = 0; g < p->ngroup; g++) {
			put_ident(fb, p->group[g]);
			sqlite3_str_appendall(fb, ", ");
		}
		for (int k = 0; k < p->naggs; k++)
			sqlite3_str_appendf(fb, "%s%s", k ? ", " : "", p->aggs[k].text);
		sqlite3_str_appendf(fb, " FROM main.\"%w\"", p->ident);
		for (int k = 0; k < p->nterms; k++) {
			static const char *const sym[] = { "=", "<", "<=", ">", ">=" };
			const char codes[] = { SQ_OP_EQ, SQ_OP_LT, SQ_OP_LE, SQ_OP_GT, SQ_OP_GE };
			const char *sy = "=";
			for (int q = 0; q < 5; q++)
				if (codes[q] == p->term_op[k])
					sy = sym[q];
			sqlite3_str_appendall(fb, k ? " AND " : " WHERE ");
			put_ident(fb, p->term_col[k]);
			sqlite3_str_appendf(fb, " %s ?%d", sy, k + 1);
		}
		for (int g = 0; g < p->ngroup; g++) {
			sqlite3_str_appendall(fb, g ? ", " : " GROUP BY ");
			put_ident(fb, p->group[g]);
		}
		p->fallback = sqlite3_str_finish(fb);
		ok = p->fallback != NULL;
	}
	int id = -1;
	if (ok)
		ok = sq_agg_plan(fs, p, &id) == 0; /* takes p */
	else
		sq_plan_free(p);
	p = NULL;
	char *sel = sqlite3_str_finish(o), *argt = sqlite3_str_finish(args);
	if (ok && sel) {
		/* a subquery with a LIMIT is never flattened into a join: the
		 * groups are computed once, never per row of another table */
		if (argt && *argt) /* argt starts with ", " */
			*text = sqlite3_mprintf("%s FROM (SELECT * FROM temp.floe_agg_%d(%s) LIMIT -1) ",
			                        sel, id, argt + 2);
		else
			*text = sqlite3_mprintf("%s FROM (SELECT * FROM temp.floe_agg_%d LIMIT -1) ",
			                        sel, id);
		*end = core_end;
		ok = *text != NULL;
	} else
		ok = false;
	sqlite3_free(sel);
	sqlite3_free(argt);
	for (int k = 0; k < nnames; k++)
		free(names[k]);
	free(names);
	free(ns);
	free(tn);
	free(ident);
	free(alias);
	return ok;
}

bool sq_has_or(const char *sql, int n)
{
	lexed x = { 0 };
	int end = 0;
	bool found = lex(&x, sql, n, &end) < 0; /* unknown: assume so */
	for (int i = 0; i < x.n && !found; i++)
		found = x.t[i].kind == T_ID && x.t[i].len == 2 &&
		        strncasecmp(sql + x.t[i].at, "or", 2) == 0;
	free(x.t);
	return found;
}

int sq_rewrite(floe_sql *s, const char *sql, int n, char **out, int *used)
{
	*out = NULL;
	lexed x = { 0 };
	int end = 0;
	if (lex(&x, sql, n, &end) || x.n == 0) {
		free(x.t);
		return 0;
	}
	*used = end;
	/* SELECT statements only (and WITH ... SELECT) */
	if (!is_kw(&x, 0, "SELECT") && !is_kw(&x, 0, "WITH")) {
		free(x.t);
		return 0;
	}
	bool has_with = false;
	for (int i = 0; i < x.n && !has_with; i++)
		has_with = is_kw(&x, i, "WITH");
	sqlite3_str *o = sqlite3_str_new(NULL);
	int copied = x.t[0].at, any = 0;
	sqlite3_str_append(o, sql, copied);
	for (int i = 0; i < x.n; i++) {
		if (!is_kw(&x, i, "SELECT"))
			continue;
		int cend;
		char *text = NULL;
		if (!rewrite_core(s, &x, i, has_with, &cend, &text))
			continue;
		sqlite3_str_append(o, sql + copied, x.t[i].at - copied);
		sqlite3_str_appendall(o, text);
		sqlite3_free(text);
		copied = cend < x.n ? x.t[cend].at : end;
		any++;
		i = cend - 1;
	}
	int stop = x.n > 0 && x.t[x.n - 1].kind == T_SEMI ? x.t[x.n - 1].at : end;
	if (copied < stop)
		sqlite3_str_append(o, sql + copied, stop - copied);
	free(x.t);
	char *r = sqlite3_str_finish(o);
	if (!any) {
		sqlite3_free(r);
		return 0;
	}
	if (!r)
		return SQLITE_NOMEM;
	*out = r;
	return 0;
}
