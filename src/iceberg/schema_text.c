/* iceberg/schema_text.c - table schemas from text, nested types included:
 * "id long not null, tags list<string>, attrs map<string, double>,
 * addr struct<city: string, zip int not null>". Field ids are assigned the
 * way Iceberg assigns fresh ids: the fields of a struct first, in order,
 * then the fields nested in each of them. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "iceberg/metadata.h"

#define MAX_DEPTH 32

typedef struct lexer {
	const char *s, *p;
	floe_arena *arena;
	floe_error *err;
} lexer;

static void ws(lexer *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r')
		lx->p++;
}

static int bad(lexer *lx, const char *what)
{
	return floe_error_set(lx->err, FLOE_EINVALID, "schema: at character %d: %s",
	                      (int)(lx->p - lx->s) + 1, what);
}

static bool word_at(lexer *lx, const char *w)
{
	size_t n = strlen(w);
	return strncasecmp(lx->p, w, n) == 0 && !isalnum((unsigned char)lx->p[n]) && lx->p[n] != '_';
}

static int parse_type(lexer *lx, ice_type **out, int depth);

/* [not null] after a type */
static bool not_null(lexer *lx)
{
	ws(lx);
	if (!word_at(lx, "not"))
		return false;
	const char *save = lx->p;
	lx->p += 3;
	ws(lx);
	if (word_at(lx, "null")) {
		lx->p += 4;
		return true;
	}
	lx->p = save;
	return false;
}

static int parse_name(lexer *lx, const char **out)
{
	ws(lx);
	const char *b = lx->p;
	if (*lx->p == '"' || *lx->p == '`') {
		char q = *lx->p++;
		b = lx->p;
		while (*lx->p && *lx->p != q)
			lx->p++;
		if (*lx->p != q)
			return bad(lx, "unterminated quoted name");
		*out = floe_arena_strndup(lx->arena, b, (size_t)(lx->p - b));
		lx->p++;
	} else {
		while (isalnum((unsigned char)*lx->p) || *lx->p == '_' || (unsigned char)*lx->p >= 0x80)
			lx->p++;
		if (lx->p == b)
			return bad(lx, "expected a column name");
		*out = floe_arena_strndup(lx->arena, b, (size_t)(lx->p - b));
	}
	if (!*out)
		return floe_error_set(lx->err, FLOE_ENOMEM, "out of memory");
	for (const char *c = *out; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == '.')
			return bad(lx, "column names may not contain dots or control characters");
	return 0;
}

/* fields until `end` ('>' inside struct<...>, '\0' at the top) */
static int parse_fields(lexer *lx, char end, ice_field **out, int *nout, int depth)
{
	int cap = 8, n = 0;
	ice_field *f = floe_arena_calloc(lx->arena, (size_t)cap, sizeof *f);
	if (!f)
		return floe_error_set(lx->err, FLOE_ENOMEM, "out of memory");
	for (;;) {
		ws(lx);
		if (n == cap) {
			ice_field *g = floe_arena_calloc(lx->arena, (size_t)cap * 2, sizeof *g);
			if (!g)
				return floe_error_set(lx->err, FLOE_ENOMEM, "out of memory");
			memcpy(g, f, (size_t)n * sizeof *g);
			f = g;
			cap *= 2;
		}
		int rc = parse_name(lx, &f[n].name);
		if (rc)
			return rc;
		for (int i = 0; i < n; i++)
			if (strcmp(f[i].name, f[n].name) == 0)
				return bad(lx, "a column name appears twice");
		ws(lx);
		if (*lx->p == ':')
			lx->p++;
		ice_type *ty;
		if ((rc = parse_type(lx, &ty, depth + 1)))
			return rc;
		f[n].type = ty;
		f[n].required = not_null(lx);
		n++;
		ws(lx);
		if (*lx->p == ',') {
			lx->p++;
			continue;
		}
		if (*lx->p == end)
			break;
		return bad(lx, end ? "expected ',' or '>'" : "expected ',' or the end");
	}
	*out = f;
	*nout = n;
	return 0;
}

static int parse_type(lexer *lx, ice_type **out, int depth)
{
	if (depth > MAX_DEPTH)
		return bad(lx, "types nested too deep");
	ws(lx);
	ice_type *t = floe_arena_calloc(lx->arena, 1, sizeof *t);
	if (!t)
		return floe_error_set(lx->err, FLOE_ENOMEM, "out of memory");
	int rc;
	if (word_at(lx, "struct")) {
		lx->p += 6;
		ws(lx);
		if (*lx->p++ != '<')
			return bad(lx, "expected '<' after struct");
		t->kind = ICE_STRUCT;
		if ((rc = parse_fields(lx, '>', &t->fields, &t->nfields, depth)))
			return rc;
		lx->p++; /* '>' */
	} else if (word_at(lx, "list") || word_at(lx, "array")) {
		lx->p += word_at(lx, "list") ? 4 : 5;
		ws(lx);
		if (*lx->p++ != '<')
			return bad(lx, "expected '<' after list");
		t->kind = ICE_LIST;
		ice_type *et;
		if ((rc = parse_type(lx, &et, depth + 1)))
			return rc;
		t->element.name = "element";
		t->element.type = et;
		t->element.required = not_null(lx);
		ws(lx);
		if (*lx->p++ != '>')
			return bad(lx, "expected '>' to close list<...>");
	} else if (word_at(lx, "map")) {
		lx->p += 3;
		ws(lx);
		if (*lx->p++ != '<')
			return bad(lx, "expected '<' after map");
		t->kind = ICE_MAP;
		ice_type *kt, *vt;
		if ((rc = parse_type(lx, &kt, depth + 1)))
			return rc;
		ws(lx);
		if (*lx->p++ != ',')
			return bad(lx, "expected ',' between the key and value types of map<...>");
		if ((rc = parse_type(lx, &vt, depth + 1)))
			return rc;
		t->key.name = "key";
		t->key.type = kt;
		t->key.required = true;
		t->value.name = "value";
		t->value.type = vt;
		t->value.required = not_null(lx);
		ws(lx);
		if (*lx->p++ != '>')
			return bad(lx, "expected '>' to close map<...>");
	} else {
		/* a primitive: letters, digits, _ and a (P,S) or [N] suffix */
		const char *b = lx->p;
		int paren = 0;
		while (*lx->p) {
			char c = *lx->p;
			if (c == '(' || c == '[')
				paren++;
			else if (c == ')' || c == ']')
				paren--;
			else if (paren == 0 && (c == ',' || c == '>' || c == ' ' || c == '\t' || c == '<'))
				break;
			lx->p++;
		}
		if (lx->p == b)
			return bad(lx, "expected a type");
		char name[64];
		size_t n = (size_t)(lx->p - b);
		if (n >= sizeof name)
			return bad(lx, "type name too long");
		memcpy(name, b, n);
		name[n] = 0;
		t->kind = ICE_PRIMITIVE;
		if ((rc = floe_type_parse(&t->prim, name, lx->err)))
			return floe_error_prefix(lx->err, "schema");
		if (t->prim.id == FLOE_TYPE_JSON)
			return bad(lx, "Iceberg has no json type; use string");
	}
	*out = t;
	return 0;
}

/* Fresh ids: a struct's fields first, then what each of them nests. */
static void assign_ids(ice_field *fields, int n, int32_t *next);

static void assign_nested(ice_type *t, int32_t *next)
{
	switch (t->kind) {
	case ICE_STRUCT:
		assign_ids(t->fields, t->nfields, next);
		break;
	case ICE_LIST:
		t->element.id = (*next)++;
		assign_nested((ice_type *)t->element.type, next);
		break;
	case ICE_MAP:
		t->key.id = (*next)++;
		t->value.id = (*next)++;
		assign_nested((ice_type *)t->key.type, next);
		assign_nested((ice_type *)t->value.type, next);
		break;
	default:
		break;
	}
}

static void assign_ids(ice_field *fields, int n, int32_t *next)
{
	for (int i = 0; i < n; i++)
		fields[i].id = (*next)++;
	for (int i = 0; i < n; i++)
		assign_nested((ice_type *)fields[i].type, next);
}

int ice_schema_from_text(ice_schema **out, const char *text, floe_arena *arena, floe_error *err);
int ice_schema_from_text(ice_schema **out, const char *text, floe_arena *arena, floe_error *err)
{
	lexer lx = { text, text, arena, err };
	ice_schema *s = floe_arena_calloc(arena, 1, sizeof *s);
	if (!s)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	int rc = parse_fields(&lx, '\0', &s->fields, &s->nfields, 0);
	if (rc)
		return rc;
	int32_t next = 1;
	assign_ids(s->fields, s->nfields, &next);
	*out = s;
	return 0;
}

int ice_type_from_text(ice_type **out, const char *text, int32_t first_id, int32_t *last_id,
                       floe_arena *arena, floe_error *err);
/* One type ("int", "struct<a: int>", ...) whose nested fields get ids from
 * `first_id` on; *last_id receives the last id used (first_id - 1 if none). */
int ice_type_from_text(ice_type **out, const char *text, int32_t first_id, int32_t *last_id,
                       floe_arena *arena, floe_error *err)
{
	lexer lx = { text, text, arena, err };
	int rc = parse_type(&lx, out, 0);
	if (rc)
		return rc;
	ws(&lx);
	if (*lx.p)
		return bad(&lx, "unexpected text after the type");
	int32_t next = first_id;
	assign_nested(*out, &next);
	*last_id = next - 1;
	return 0;
}
