/* avro/schema.c - Avro schema JSON -> floe_avro_schema tree (Avro 1.11
 * "Schema Declaration"), plus field and value lookups. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/avro.h"

#define SCHEMA_MAX_DEPTH 64
#define SCHEMA_MAX_NAMES 4096

typedef struct named {
	const char *fullname;
	floe_avro_schema *node;
} named;

typedef struct parser {
	floe_arena *arena;
	floe_error *err;
	named *names;
	size_t nnames;
} parser;

static const struct {
	const char *name;
	floe_avro_kind kind;
} primitives[] = {
	{ "null", FLOE_AVRO_NULL },     { "boolean", FLOE_AVRO_BOOLEAN },
	{ "int", FLOE_AVRO_INT },       { "long", FLOE_AVRO_LONG },
	{ "float", FLOE_AVRO_FLOAT },   { "double", FLOE_AVRO_DOUBLE },
	{ "bytes", FLOE_AVRO_BYTES },   { "string", FLOE_AVRO_STRING },
};

static int nomem(parser *p)
{
	return floe_error_set(p->err, FLOE_ENOMEM, "avro schema: out of memory");
}

static int bad(parser *p, const char *what)
{
	return floe_error_set(p->err, FLOE_EINVALID, "avro schema: %s", what);
}

/* Full name per spec "Names": a dotted name is already full; otherwise
 * prefix the explicit or enclosing namespace. */
static const char *full_name(parser *p, const char *name, const char *ns)
{
	if (strchr(name, '.') || !ns || !*ns)
		return floe_arena_strdup(p->arena, name);
	size_t a = strlen(ns), b = strlen(name);
	char *s = floe_arena_alloc(p->arena, a + b + 2);
	if (!s)
		return NULL;
	memcpy(s, ns, a);
	s[a] = '.';
	memcpy(s + a + 1, name, b + 1);
	return s;
}

static floe_avro_schema *lookup(parser *p, const char *name, const char *ns)
{
	char buf[1024];
	if (!strchr(name, '.') && ns && *ns) {
		int n = snprintf(buf, sizeof buf, "%s.%s", ns, name);
		if (n > 0 && (size_t)n < sizeof buf)
			for (size_t k = 0; k < p->nnames; k++)
				if (strcmp(p->names[k].fullname, buf) == 0)
					return p->names[k].node;
	}
	for (size_t k = 0; k < p->nnames; k++)
		if (strcmp(p->names[k].fullname, name) == 0)
			return p->names[k].node;
	return NULL;
}

static int define(parser *p, json_t *j, floe_avro_schema *node, const char *ns, const char **ns_out)
{
	json_t *jn = json_object_get(j, "name");
	if (!json_is_string(jn) || !*json_string_value(jn))
		return bad(p, "named type without a name");
	json_t *jns = json_object_get(j, "namespace");
	const char *use_ns = ns;
	if (json_is_string(jns))
		use_ns = json_string_value(jns);
	node->name = full_name(p, json_string_value(jn), use_ns);
	if (!node->name)
		return nomem(p);
	if (lookup(p, node->name, NULL))
		return floe_error_set(p->err, FLOE_EINVALID, "avro schema: type %s defined twice",
		                      node->name);
	if (p->nnames >= SCHEMA_MAX_NAMES)
		return bad(p, "too many named types");
	if (!p->names) {
		p->names = floe_arena_calloc(p->arena, SCHEMA_MAX_NAMES, sizeof *p->names);
		if (!p->names)
			return nomem(p);
	}
	p->names[p->nnames].fullname = node->name;
	p->names[p->nnames].node = node;
	p->nnames++;
	/* the namespace of a named type's children is its own */
	const char *dot = strrchr(node->name, '.');
	*ns_out = dot ? floe_arena_strndup(p->arena, node->name, (size_t)(dot - node->name)) : "";
	return *ns_out ? 0 : nomem(p);
}

static char *dump(parser *p, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	if (!s)
		return NULL;
	char *r = floe_arena_strdup(p->arena, s);
	free(s);
	return r;
}

static int parse_node(parser *p, json_t *j, const char *ns, int depth,
                      const floe_avro_schema **out);

static int parse_field(parser *p, json_t *jf, const char *ns, int depth, floe_avro_field *f)
{
	if (!json_is_object(jf))
		return bad(p, "record field is not an object");
	json_t *jn = json_object_get(jf, "name");
	if (!json_is_string(jn))
		return bad(p, "record field without a name");
	f->name = floe_arena_strdup(p->arena, json_string_value(jn));
	if (!f->name)
		return nomem(p);
	json_t *jt = json_object_get(jf, "type");
	if (!jt)
		return floe_error_set(p->err, FLOE_EINVALID, "avro schema: field %s has no type",
		                      f->name);
	int rc = parse_node(p, jt, ns, depth + 1, &f->type);
	if (rc)
		return rc;
	size_t nattrs = 0;
	const char *key;
	json_t *val;
	json_object_foreach(jf, key, val) {
		if (strcmp(key, "name") && strcmp(key, "type") && strcmp(key, "default"))
			nattrs++;
	}
	floe_avro_attr *attrs = floe_arena_calloc(p->arena, nattrs ? nattrs : 1, sizeof *attrs);
	if (!attrs)
		return nomem(p);
	size_t k = 0;
	json_object_foreach(jf, key, val) {
		if (!strcmp(key, "name") || !strcmp(key, "type"))
			continue;
		if (!strcmp(key, "default")) {
			if (!(f->default_json = dump(p, val)))
				return nomem(p);
			continue;
		}
		attrs[k].key = floe_arena_strdup(p->arena, key);
		attrs[k].json = dump(p, val);
		if (!attrs[k].key || !attrs[k].json)
			return nomem(p);
		if (!strcmp(key, "field-id") && json_is_integer(val)) {
			f->has_field_id = 1;
			f->field_id = json_integer_value(val);
		}
		k++;
	}
	f->nattrs = k;
	f->attrs = attrs;
	return 0;
}

static int parse_object(parser *p, json_t *j, const char *ns, int depth,
                        const floe_avro_schema **out)
{
	json_t *jt = json_object_get(j, "type");
	if (!jt)
		return bad(p, "object without \"type\"");
	if (!json_is_string(jt)) /* {"type": {...}} or {"type": [...]} wraps a schema */
		return parse_node(p, jt, ns, depth + 1, out);
	const char *t = json_string_value(jt);
	floe_avro_schema *node = floe_arena_calloc(p->arena, 1, sizeof *node);
	if (!node)
		return nomem(p);
	json_t *jl = json_object_get(j, "logicalType");
	if (json_is_string(jl) && !(node->logical_type = floe_arena_strdup(p->arena, json_string_value(jl))))
		return nomem(p);
	for (size_t k = 0; k < sizeof primitives / sizeof primitives[0]; k++)
		if (!strcmp(t, primitives[k].name)) {
			node->kind = primitives[k].kind;
			*out = node;
			return 0;
		}
	const char *child_ns = ns;
	int rc;
	if (!strcmp(t, "record") || !strcmp(t, "error")) {
		node->kind = FLOE_AVRO_RECORD;
		if ((rc = define(p, j, node, ns, &child_ns)))
			return rc;
		json_t *jf = json_object_get(j, "fields");
		if (!json_is_array(jf))
			return bad(p, "record without a fields array");
		size_t n = json_array_size(jf);
		floe_avro_field *fields = floe_arena_calloc(p->arena, n ? n : 1, sizeof *fields);
		if (!fields)
			return nomem(p);
		for (size_t k = 0; k < n; k++) {
			if ((rc = parse_field(p, json_array_get(jf, k), child_ns, depth, &fields[k])))
				return rc;
			for (size_t q = 0; q < k; q++)
				if (!strcmp(fields[q].name, fields[k].name))
					return floe_error_set(p->err, FLOE_EINVALID,
					                      "avro schema: duplicate field %s", fields[k].name);
		}
		node->fields = fields;
		node->nfields = n;
	} else if (!strcmp(t, "enum")) {
		node->kind = FLOE_AVRO_ENUM;
		if ((rc = define(p, j, node, ns, &child_ns)))
			return rc;
		json_t *js = json_object_get(j, "symbols");
		if (!json_is_array(js))
			return bad(p, "enum without symbols");
		size_t n = json_array_size(js);
		const char **syms = floe_arena_calloc(p->arena, n ? n : 1, sizeof *syms);
		if (!syms)
			return nomem(p);
		for (size_t k = 0; k < n; k++) {
			json_t *s = json_array_get(js, k);
			if (!json_is_string(s))
				return bad(p, "enum symbol is not a string");
			if (!(syms[k] = floe_arena_strdup(p->arena, json_string_value(s))))
				return nomem(p);
		}
		node->symbols = syms;
		node->nsymbols = n;
	} else if (!strcmp(t, "fixed")) {
		node->kind = FLOE_AVRO_FIXED;
		if ((rc = define(p, j, node, ns, &child_ns)))
			return rc;
		json_t *js = json_object_get(j, "size");
		if (!json_is_integer(js) || json_integer_value(js) < 0 ||
		    json_integer_value(js) > (1 << 30))
			return bad(p, "fixed without a valid size");
		node->fixed_size = (size_t)json_integer_value(js);
	} else if (!strcmp(t, "array") || !strcmp(t, "map")) {
		int arr = !strcmp(t, "array");
		node->kind = arr ? FLOE_AVRO_ARRAY : FLOE_AVRO_MAP;
		json_t *ji = json_object_get(j, arr ? "items" : "values");
		if (!ji)
			return bad(p, arr ? "array without items" : "map without values");
		if ((rc = parse_node(p, ji, ns, depth + 1, &node->items)))
			return rc;
	} else {
		/* {"type": "SomeName"} references a named type */
		const floe_avro_schema *ref = lookup(p, t, ns);
		if (!ref)
			return floe_error_set(p->err, FLOE_EINVALID, "avro schema: unknown type %s", t);
		*out = ref;
		return 0;
	}
	*out = node;
	return 0;
}

static int parse_node(parser *p, json_t *j, const char *ns, int depth,
                      const floe_avro_schema **out)
{
	if (depth > SCHEMA_MAX_DEPTH)
		return bad(p, "nested too deeply");
	if (json_is_string(j)) {
		const char *t = json_string_value(j);
		for (size_t k = 0; k < sizeof primitives / sizeof primitives[0]; k++)
			if (!strcmp(t, primitives[k].name)) {
				floe_avro_schema *node = floe_arena_calloc(p->arena, 1, sizeof *node);
				if (!node)
					return nomem(p);
				node->kind = primitives[k].kind;
				*out = node;
				return 0;
			}
		const floe_avro_schema *ref = lookup(p, t, ns);
		if (!ref)
			return floe_error_set(p->err, FLOE_EINVALID, "avro schema: unknown type %s", t);
		*out = ref;
		return 0;
	}
	if (json_is_object(j))
		return parse_object(p, j, ns, depth, out);
	if (json_is_array(j)) {
		/* spec "Unions": no directly nested unions */
		size_t n = json_array_size(j);
		if (n == 0)
			return bad(p, "empty union");
		floe_avro_schema *node = floe_arena_calloc(p->arena, 1, sizeof *node);
		const floe_avro_schema **br = floe_arena_calloc(p->arena, n, sizeof *br);
		if (!node || !br)
			return nomem(p);
		node->kind = FLOE_AVRO_UNION;
		for (size_t k = 0; k < n; k++) {
			int rc = parse_node(p, json_array_get(j, k), ns, depth + 1, &br[k]);
			if (rc)
				return rc;
			if (br[k]->kind == FLOE_AVRO_UNION)
				return bad(p, "union directly inside a union");
		}
		node->branches = br;
		node->nbranches = n;
		*out = node;
		return 0;
	}
	return bad(p, "a schema must be a string, object or array");
}

int floe_avro_schema_parse(const floe_avro_schema **out, floe_arena *arena,
                           const char *json, size_t len, floe_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!root)
		return floe_error_set(err, FLOE_EINVALID, "avro schema: bad JSON at %d: %s",
		                      jerr.position, jerr.text);
	parser p = { arena, err, NULL, 0 };
	int rc = parse_node(&p, root, "", 0, out);
	json_decref(root);
	return rc;
}

const floe_avro_field *floe_avro_field_by_name(const floe_avro_schema *rec,
                                               const char *name, size_t *index)
{
	if (!rec || rec->kind != FLOE_AVRO_RECORD)
		return NULL;
	for (size_t k = 0; k < rec->nfields; k++)
		if (!strcmp(rec->fields[k].name, name)) {
			if (index)
				*index = k;
			return &rec->fields[k];
		}
	return NULL;
}

const floe_avro_field *floe_avro_field_by_id(const floe_avro_schema *rec,
                                             int64_t field_id, size_t *index)
{
	if (!rec || rec->kind != FLOE_AVRO_RECORD)
		return NULL;
	for (size_t k = 0; k < rec->nfields; k++)
		if (rec->fields[k].has_field_id && rec->fields[k].field_id == field_id) {
			if (index)
				*index = k;
			return &rec->fields[k];
		}
	return NULL;
}

const floe_avro_value *floe_avro_value_unwrap(const floe_avro_value *v)
{
	while (v && v->kind == FLOE_AVRO_UNION && v->items)
		v = &v->items[0];
	return v;
}

int floe_avro_value_int64(const floe_avro_value *v, int64_t *out)
{
	v = floe_avro_value_unwrap(v);
	if (!v || (v->kind != FLOE_AVRO_INT && v->kind != FLOE_AVRO_LONG))
		return FLOE_EINVALID;
	*out = v->i;
	return 0;
}

static const floe_avro_value *field_at(const floe_avro_value *v, size_t k)
{
	v = floe_avro_value_unwrap(v);
	if (!v || v->kind != FLOE_AVRO_RECORD || k >= v->n)
		return NULL;
	return &v->items[k];
}

const floe_avro_value *floe_avro_value_field(const floe_avro_schema *rec,
                                             const floe_avro_value *v, const char *name)
{
	size_t k;
	return floe_avro_field_by_name(rec, name, &k) ? field_at(v, k) : NULL;
}

const floe_avro_value *floe_avro_value_field_id(const floe_avro_schema *rec,
                                                const floe_avro_value *v, int64_t field_id)
{
	size_t k;
	return floe_avro_field_by_id(rec, field_id, &k) ? field_at(v, k) : NULL;
}
