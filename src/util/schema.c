/* util/schema.c - logical types with Iceberg's names and flat schemas with
 * field ids, and their text form (floe/schema.h). Used by every layer. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "floe/schema.h"

static const struct {
	const char *name;
	floe_type_id id;
} simple_types[] = {
	{ "boolean", FLOE_TYPE_BOOLEAN },
	{ "int", FLOE_TYPE_INT },
	{ "long", FLOE_TYPE_LONG },
	{ "float", FLOE_TYPE_FLOAT },
	{ "double", FLOE_TYPE_DOUBLE },
	{ "date", FLOE_TYPE_DATE },
	{ "time", FLOE_TYPE_TIME },
	{ "timestamp", FLOE_TYPE_TIMESTAMP },
	{ "timestamptz", FLOE_TYPE_TIMESTAMPTZ },
	{ "timestamp_ns", FLOE_TYPE_TIMESTAMP_NS },
	{ "timestamptz_ns", FLOE_TYPE_TIMESTAMPTZ_NS },
	{ "string", FLOE_TYPE_STRING },
	{ "uuid", FLOE_TYPE_UUID },
	{ "binary", FLOE_TYPE_BINARY },
	{ "json", FLOE_TYPE_JSON },
};

int floe_type_value_width(const floe_type *type)
{
	switch (type->id) {
	case FLOE_TYPE_BOOLEAN:
		return 1;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE:
	case FLOE_TYPE_FLOAT:
		return 4;
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
	case FLOE_TYPE_DOUBLE:
		return 8;
	case FLOE_TYPE_DECIMAL:
		return type->precision <= 18 ? 8 : 16;
	case FLOE_TYPE_UUID:
		return 16;
	case FLOE_TYPE_FIXED:
		return type->width;
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_JSON:
		return 0;
	}
	return 0;
}

bool floe_type_is_variable(const floe_type *type)
{
	return type->id == FLOE_TYPE_STRING || type->id == FLOE_TYPE_BINARY ||
	       type->id == FLOE_TYPE_JSON;
}

/* Parse a decimal integer at *p (after spaces), advancing *p. -1 if none
 * or larger than `max`. */
static long parse_small_int(const char **p, long max)
{
	const char *s = *p;
	long v = 0;
	while (*s == ' ')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
		s++;
	}
	while (*s == ' ')
		s++;
	*p = s;
	return v;
}

/* Parse a type from text[0..n) (no surrounding spaces). */
static int type_parse_n(floe_type *out, const char *text, size_t n, floe_error *err)
{
	floe_type t;
	memset(&t, 0, sizeof t);
	char low[64];
	if (n == 0)
		return floe_error_set(err, FLOE_EINVALID, "missing type");
	if (n >= sizeof low)
		return floe_error_set(err, FLOE_EINVALID, "unknown type '%.*s'", (int)n, text);
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)text[i]);
	low[n] = '\0';
	for (size_t i = 0; i < sizeof simple_types / sizeof simple_types[0]; i++) {
		if (strcmp(low, simple_types[i].name) == 0) {
			t.id = simple_types[i].id;
			if (t.id == FLOE_TYPE_UUID)
				t.width = 16;
			*out = t;
			return 0;
		}
	}
	if (strncmp(low, "decimal", 7) == 0) {
		const char *p = low + 7;
		while (*p == ' ')
			p++;
		if (*p++ != '(')
			goto bad_decimal;
		long prec = parse_small_int(&p, 1000);
		if (*p++ != ',')
			goto bad_decimal;
		long scale = parse_small_int(&p, 1000);
		if (*p++ != ')' || *p != '\0' || prec < 0 || scale < 0)
			goto bad_decimal;
		if (prec < 1 || prec > 38)
			return floe_error_set(err, FLOE_EINVALID,
			                      "decimal precision %ld out of range 1..38 in '%s'",
			                      prec, low);
		if (scale > prec)
			return floe_error_set(err, FLOE_EINVALID,
			                      "decimal scale %ld exceeds precision %ld in '%s'",
			                      scale, prec, low);
		t.id = FLOE_TYPE_DECIMAL;
		t.precision = (int32_t)prec;
		t.scale = (int32_t)scale;
		t.width = prec > 18 ? 16 : 0;
		*out = t;
		return 0;
	bad_decimal:
		return floe_error_set(err, FLOE_EINVALID,
		                      "bad decimal type '%s': expected decimal(P,S)", low);
	}
	if (strncmp(low, "fixed", 5) == 0) {
		const char *p = low + 5;
		while (*p == ' ')
			p++;
		if (*p++ != '[')
			goto bad_fixed;
		long w = parse_small_int(&p, 0x7fffffffL);
		if (w < 0 || *p++ != ']' || *p != '\0')
			goto bad_fixed;
		if (w < 1)
			return floe_error_set(err, FLOE_EINVALID, "fixed length must be >= 1 in '%s'", low);
		t.id = FLOE_TYPE_FIXED;
		t.width = (int32_t)w;
		*out = t;
		return 0;
	bad_fixed:
		return floe_error_set(err, FLOE_EINVALID, "bad fixed type '%s': expected fixed[N]", low);
	}
	return floe_error_set(err, FLOE_EINVALID, "unknown type '%s'", low);
}

int floe_type_parse(floe_type *out, const char *text, floe_error *err)
{
	if (!text)
		return floe_error_set(err, FLOE_EINVALID, "missing type");
	while (isspace((unsigned char)*text))
		text++;
	size_t n = strlen(text);
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		n--;
	return type_parse_n(out, text, n, err);
}

const char *floe_type_format(const floe_type *type, char *buf, int bufsize)
{
	if (!buf || bufsize <= 0)
		return buf;
	switch (type->id) {
	case FLOE_TYPE_DECIMAL:
		snprintf(buf, (size_t)bufsize, "decimal(%d,%d)", (int)type->precision,
		         (int)type->scale);
		return buf;
	case FLOE_TYPE_FIXED:
		snprintf(buf, (size_t)bufsize, "fixed[%d]", (int)type->width);
		return buf;
	default:
		break;
	}
	for (size_t i = 0; i < sizeof simple_types / sizeof simple_types[0]; i++) {
		if (simple_types[i].id == type->id) {
			snprintf(buf, (size_t)bufsize, "%s", simple_types[i].name);
			return buf;
		}
	}
	snprintf(buf, (size_t)bufsize, "unknown(%d)", (int)type->id);
	return buf;
}

/* ---- schema text ------------------------------------------------------
 * field := name type [not null] [id N]; fields separated by ','. A type may
 * contain a ',' inside decimal(P,S) parentheses. Names are bare words
 * ([A-Za-z0-9_.$-]) or "double quoted". Positions in errors are 1-based
 * character offsets into the text. */

typedef struct lexer {
	const char *text;
	const char *p;
} lexer;

static void skip_ws(lexer *lx)
{
	while (isspace((unsigned char)*lx->p))
		lx->p++;
}

static int pos_of(const lexer *lx, const char *at)
{
	return (int)(at - lx->text) + 1;
}

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$' || c == '-' || c == '.';
}

/* A bare word at lx->p; returns length (0 if none). */
static size_t word_len(const char *p)
{
	size_t n = 0;
	while (is_word_char(p[n]))
		n++;
	return n;
}

static bool word_is(const char *p, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp(p, kw, n) == 0;
}

int floe_schema_parse(floe_schema **out, const char *text, floe_arena *arena,
                      floe_error *err)
{
	*out = NULL;
	if (!text || !arena)
		return floe_error_set(err, FLOE_EINVALID, "schema: missing text or arena");
	/* count commas outside parentheses/quotes for an upper bound on fields */
	int cap = 1;
	for (const char *s = text; *s; s++)
		if (*s == ',')
			cap++;
	floe_schema *schema = floe_arena_calloc(arena, 1, sizeof *schema);
	floe_field *fields = floe_arena_calloc(arena, (size_t)cap, sizeof *fields);
	if (!schema || !fields)
		return floe_error_set(err, FLOE_ENOMEM, "schema: out of memory");
	lexer lx = { text, text };
	int n = 0;
	for (;;) {
		skip_ws(&lx);
		if (*lx.p == '\0') {
			if (n == 0)
				return floe_error_set(err, FLOE_EINVALID, "schema: no fields");
			return floe_error_set(err, FLOE_EINVALID,
			                      "schema: expected a field after ',' at position %d",
			                      pos_of(&lx, lx.p));
		}
		floe_field *f = &fields[n];
		f->field_id = -1;
		/* name */
		const char *name_at = lx.p;
		char *name;
		if (*lx.p == '"') {
			const char *e = strchr(lx.p + 1, '"');
			if (!e)
				return floe_error_set(err, FLOE_EINVALID,
				                      "schema: unterminated quoted name at position %d",
				                      pos_of(&lx, name_at));
			if (e == lx.p + 1)
				return floe_error_set(err, FLOE_EINVALID,
				                      "schema: empty name at position %d",
				                      pos_of(&lx, name_at));
			name = floe_arena_strndup(arena, lx.p + 1, (size_t)(e - lx.p - 1));
			lx.p = e + 1;
		} else {
			size_t wl = word_len(lx.p);
			if (wl == 0)
				return floe_error_set(err, FLOE_EINVALID,
				                      "schema: expected a field name at position %d, got '%.1s'",
				                      pos_of(&lx, name_at), lx.p);
			name = floe_arena_strndup(arena, lx.p, wl);
			lx.p += wl;
		}
		if (!name)
			return floe_error_set(err, FLOE_ENOMEM, "schema: out of memory");
		f->name = name;
		for (int i = 0; i < n; i++)
			if (strcmp(fields[i].name, name) == 0)
				return floe_error_set(err, FLOE_EINVALID,
				                      "schema: duplicate field name '%s' at position %d",
				                      name, pos_of(&lx, name_at));
		/* type: a word, optionally followed by (...) or [...] */
		skip_ws(&lx);
		const char *type_at = lx.p;
		size_t tl = word_len(lx.p);
		if (tl == 0)
			return floe_error_set(err, FLOE_EINVALID,
			                      "schema: expected a type for '%s' at position %d",
			                      name, pos_of(&lx, type_at));
		const char *q = lx.p + tl;
		while (*q == ' ')
			q++;
		if (*q == '(' || *q == '[') {
			char close = *q == '(' ? ')' : ']';
			const char *e = strchr(q, close);
			if (!e)
				return floe_error_set(err, FLOE_EINVALID,
				                      "schema: missing '%c' in type of '%s' at position %d",
				                      close, name, pos_of(&lx, type_at));
			tl = (size_t)(e + 1 - lx.p);
		}
		floe_error terr;
		if (type_parse_n(&f->type, lx.p, tl, &terr) != 0)
			return floe_error_set(err, FLOE_EINVALID,
			                      "schema: field '%s' at position %d: %s", name,
			                      pos_of(&lx, type_at), terr.msg);
		lx.p += tl;
		/* modifiers */
		for (;;) {
			skip_ws(&lx);
			if (*lx.p == ',' || *lx.p == '\0')
				break;
			const char *mod_at = lx.p;
			size_t ml = word_len(lx.p);
			if (word_is(lx.p, ml, "not")) {
				lx.p += ml;
				skip_ws(&lx);
				size_t nl = word_len(lx.p);
				if (!word_is(lx.p, nl, "null"))
					return floe_error_set(err, FLOE_EINVALID,
					                      "schema: expected 'null' after 'not' at position %d",
					                      pos_of(&lx, lx.p));
				lx.p += nl;
				f->required = true;
			} else if (word_is(lx.p, ml, "id")) {
				lx.p += ml;
				skip_ws(&lx);
				const char *id_at = lx.p;
				char *end;
				errno = 0;
				long v = strtol(lx.p, &end, 10);
				if (end == lx.p || errno || v < 0 || v > 0x7fffffffL ||
				    is_word_char(*end))
					return floe_error_set(err, FLOE_EINVALID,
					                      "schema: bad field id '%.*s' at position %d",
					                      (int)(word_len(id_at) ? word_len(id_at) : 1),
					                      id_at, pos_of(&lx, id_at));
				f->field_id = (int32_t)v;
				lx.p = end;
			} else {
				return floe_error_set(err, FLOE_EINVALID,
				                      "schema: unexpected '%.*s' at position %d (expected ',', 'not null' or 'id N')",
				                      (int)(ml ? ml : 1), mod_at, pos_of(&lx, mod_at));
			}
		}
		n++;
		if (*lx.p == '\0')
			break;
		lx.p++; /* ',' */
	}
	/* ids: explicit ones kept, others assigned in order, skipping used ids */
	int32_t next = 1;
	for (int i = 0; i < n; i++) {
		if (fields[i].field_id < 0)
			continue;
		for (int j = 0; j < i; j++)
			if (fields[j].field_id == fields[i].field_id)
				return floe_error_set(err, FLOE_EINVALID,
				                      "schema: duplicate field id %d ('%s' and '%s')",
				                      (int)fields[i].field_id, fields[j].name,
				                      fields[i].name);
	}
	for (int i = 0; i < n; i++) {
		if (fields[i].field_id >= 0)
			continue;
		for (;;) {
			bool used = false;
			for (int j = 0; j < n; j++)
				if (fields[j].field_id == next)
					used = true;
			if (!used)
				break;
			next++;
		}
		fields[i].field_id = next++;
	}
	schema->nfields = n;
	schema->fields = fields;
	*out = schema;
	return 0;
}

int floe_schema_find(const floe_schema *schema, const char *name)
{
	if (!schema || !name)
		return -1;
	for (int i = 0; i < schema->nfields; i++)
		if (schema->fields[i].name && strcmp(schema->fields[i].name, name) == 0)
			return i;
	return -1;
}

int floe_schema_find_id(const floe_schema *schema, int32_t field_id)
{
	if (!schema)
		return -1;
	for (int i = 0; i < schema->nfields; i++)
		if (schema->fields[i].field_id == field_id)
			return i;
	return -1;
}
