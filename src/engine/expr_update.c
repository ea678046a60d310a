/* engine/expr_update.c - UPDATE SET col = expression, ...: the assignments
 * are parsed and bound to the table's current schema (a result of another
 * type than the column's is cast to it, as SQL assignment does), then
 * evaluated on every batch of matching rows by the table layer's update
 * (floe_table_update_with), all of them over the old values of the row. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "floe/expr.h"
#include "floe/table.h"

#define EXPR_UPDATE_MAX 64

typedef struct upd_set {
	int col;               /* index in the schema */
	floe_expr *e;          /* bound, of the column's type */
} upd_set;

typedef struct upd_ctx {
	const floe_schema *schema;
	upd_set sets[EXPR_UPDATE_MAX];
	int n;
	bool literals_only;    /* a column of a type expressions cannot give */
} upd_ctx;

/* Types the language can produce (CAST targets, docs/expressions.md). */
static bool expressible(const floe_type *t)
{
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN: case FLOE_TYPE_INT: case FLOE_TYPE_LONG: case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE: case FLOE_TYPE_DATE: case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ: case FLOE_TYPE_STRING:
		return true;
	case FLOE_TYPE_DECIMAL:
		return t->precision <= 18;
	default:
		return false;
	}
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool same_type(const floe_type *a, const floe_type *b)
{
	if (a->id != b->id)
		return false;
	if (a->id == FLOE_TYPE_DECIMAL)
		return a->precision == b->precision && a->scale == b->scale;
	return true;
}

/* The end of one assignment: the next comma outside quotes and
 * parentheses, or the end of the text. */
static const char *assignment_end(const char *p)
{
	char quote = 0;
	int depth = 0;
	for (; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			depth--;
		} else if (*p == ',' && depth <= 0) {
			break;
		}
	}
	return p;
}

/* `one` (NUL-terminated, in `arena`) = "name = expression": the column and
 * the expression bound to `schema`, cast to the column's type. */
static int bind_one(upd_ctx *u, char *one, floe_arena *arena, floe_error *err)
{
	char *s = one;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	char *name = s, *name_end;
	if (*s == '"') {
		name = ++s;
		while (*s && *s != '"')
			s++;
		if (!*s)
			return floe_error_set(err, FLOE_EINVALID, "--set: '%s': unterminated quoted name", one);
		name_end = s++;
	} else {
		while (is_ident_char(*s))
			s++;
		name_end = s;
	}
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (name_end == name || *s != '=' || s[1] == '=')
		return floe_error_set(err, FLOE_EINVALID, "--set: '%s' is not COLUMN = VALUE", one);
	*name_end = 0;
	const char *text = s + 1;
	while (*text == ' ' || *text == '\t' || *text == '\n')
		text++;
	if (!*text)
		return floe_error_set(err, FLOE_EINVALID, "--set: '%s' has no value", name);

	const floe_schema *sc = u->schema;
	int col = floe_schema_find(sc, name);
	for (int i = 0; col < 0 && i < sc->nfields; i++)
		if (strcasecmp(sc->fields[i].name, name) == 0)
			col = i;
	if (col < 0)
		return floe_error_set(err, FLOE_ENOTFOUND, "--set: the table has no column '%s'", name);
	const floe_field *f = &sc->fields[col];
	for (int i = 0; i < u->n; i++)
		if (u->sets[i].col == col)
			return floe_error_set(err, FLOE_EINVALID, "--set: column '%s' is set twice", f->name);
	if (u->n == EXPR_UPDATE_MAX)
		return floe_error_set(err, FLOE_EINVALID, "--set: at most %d columns", EXPR_UPDATE_MAX);
	size_t tl = strlen(text);
	while (tl && (text[tl - 1] == ' ' || text[tl - 1] == '\t' || text[tl - 1] == '\n'))
		tl--;
	if (f->required && tl == 4 && strncasecmp(text, "null", 4) == 0)
		return floe_error_set(err, FLOE_EINVALID, "--set: column '%s' is not null", f->name);

	if (!expressible(&f->type)) {
		u->literals_only = true;
		return 0;
	}
	char tn[64];
	floe_type_format(&f->type, tn, sizeof tn);
	floe_expr *e;
	int rc = floe_expr_parse(&e, text, arena, err);
	if (!rc)
		rc = floe_expr_bind(e, sc, 0, err);
	if (!rc) {
		floe_type et = floe_expr_type(e);
		if (!same_type(&f->type, &et)) {
			size_t n = strlen(text) + strlen(tn) + 32;
			char *cast = floe_arena_alloc(arena, n);
			if (!cast)
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			snprintf(cast, n, "CAST((%s) AS %s)", text, tn);
			if ((rc = floe_expr_parse(&e, cast, arena, err)) == 0)
				rc = floe_expr_bind(e, sc, 0, err);
		}
	}
	if (rc)
		return floe_error_prefix(err, "--set %s (%s)", f->name, tn);
	u->sets[u->n].col = col;
	u->sets[u->n].e = e;
	u->n++;
	return 0;
}

static int map_rows(void *ctx, const floe_batch *rows, floe_batch *out, floe_arena *arena,
                    floe_error *err)
{
	const upd_ctx *u = ctx;
	if (rows->ncols != u->schema->nfields)
		return floe_error_set(err, FLOE_ECONFLICT, "the table's schema changed during the "
		                      "update; run it again");
	floe_column *cols = floe_arena_alloc(arena, ((size_t)rows->ncols + 1) * sizeof *cols);
	if (!cols)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	memcpy(cols, rows->cols, (size_t)rows->ncols * sizeof *cols);
	/* every expression reads the old row: evaluate on `rows`, store in cols */
	for (int i = 0; i < u->n; i++) {
		int rc = floe_expr_eval(u->sets[i].e, rows, NULL, &cols[u->sets[i].col], arena, err);
		if (rc) {
			/* "row N" would count within a batch of matched rows: the
			 * value the message quotes says more */
			const char *m = err->msg;
			if (strncmp(m, "row ", 4) == 0 && m[4 + strspn(m + 4, "0123456789")] == ':') {
				m += 4 + strspn(m + 4, "0123456789") + 1;
				m += strspn(m, " ");
				memmove(err->msg, m, strlen(m) + 1);
			}
			const floe_field *f = &u->schema->fields[u->sets[i].col];
			char tn[64];
			return floe_error_prefix(err, "--set %s (%s)", f->name,
			                         floe_type_format(&f->type, tn, sizeof tn));
		}
	}
	*out = *rows;
	out->cols = cols;
	return 0;
}

int floe_expr_update(floe_table *t, const char *set, const char *where, floe_update_result *res,
                     floe_error *err)
{
	floe_arena *arena = floe_arena_new(0);
	if (!arena)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	upd_ctx u;
	memset(&u, 0, sizeof u);
	u.schema = floe_table_schema(t);
	int rc = 0;
	const char *p = set ? set : "";
	while (!rc && *p) {
		const char *q = assignment_end(p);
		size_t len = (size_t)(q - p);
		char *one = floe_arena_alloc(arena, len + 1);
		if (!one) {
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
			break;
		}
		memcpy(one, p, len);
		one[len] = 0;
		p = *q ? q + 1 : q;
		if (one[strspn(one, " \t\n")])
			rc = bind_one(&u, one, arena, err);
	}
	if (!rc && u.literals_only) {
		/* uuid, binary, fixed, time, nanosecond timestamps, wide
		 * decimals: literals as in filters, through the table layer */
		rc = floe_table_update(t, set, where, res, err);
	} else {
		if (!rc && u.n == 0)
			rc = floe_error_set(err, FLOE_EINVALID,
			                    "--set: nothing to set; give \"col = expression, ...\"");
		if (!rc)
			rc = floe_table_update_with(t, where, map_rows, &u, res, err);
	}
	floe_arena_free(arena);
	return rc;
}
