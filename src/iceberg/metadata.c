/* iceberg/metadata.c - table metadata JSON reader (spec "Table Metadata",
 * Appendix C "JSON serialization"): v1/v2 (and v2-shaped v3), plain or gzip,
 * into the ice_table_metadata model; lookups used by scans and commits. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "iceberg/metadata.h"
#include "util/buf.h"
#include "util/text.h"

/* Caps on hostile input: nesting of types, inflated size of gzip metadata. */
#define ICE_MAX_TYPE_DEPTH 64
#define ICE_MAX_METADATA_BYTES ((size_t)256 << 20)

typedef struct pctx {
	floe_arena *arena;
	const char *name;
	int version;
	floe_error *err;
} pctx;

static int bad(pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* FLOE_ECORRUPT "NAME: invalid table metadata: why". */
static int bad(pctx *c, const char *fmt, ...)
{
	char why[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return floe_error_set(c->err, FLOE_ECORRUPT, "%s: invalid table metadata: %s", c->name,
	                      why);
}

static int nomem(pctx *c)
{
	return floe_error_set(c->err, FLOE_ENOMEM, "%s: out of memory", c->name);
}

/* ---- typed member access ------------------------------------------------
 * Each getter returns 0 and sets *present (when not NULL); a missing member
 * is an error only when `required`. JSON null counts as absent. */

static int get_i64(pctx *c, const json_t *obj, const char *key, bool required, int64_t *out,
                   bool *present)
{
	json_t *v = json_object_get(obj, key);
	if (present)
		*present = false;
	if (!v || json_is_null(v)) {
		if (required)
			return bad(c, "missing required field '%s'", key);
		return 0;
	}
	if (!json_is_integer(v))
		return bad(c, "'%s' must be an integer", key);
	*out = (int64_t)json_integer_value(v);
	if (present)
		*present = true;
	return 0;
}

static int get_i32(pctx *c, const json_t *obj, const char *key, bool required, int32_t *out,
                   bool *present)
{
	int64_t v = 0;
	bool have = false;
	int rc = get_i64(c, obj, key, required, &v, &have);
	if (present)
		*present = have;
	if (rc || !have)
		return rc;
	if (v < INT32_MIN || v > INT32_MAX)
		return bad(c, "'%s' = %lld is out of int range", key, (long long)v);
	*out = (int32_t)v;
	return 0;
}

static int get_str(pctx *c, const json_t *obj, const char *key, bool required, const char **out)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return bad(c, "missing required field '%s'", key);
		return 0;
	}
	if (!json_is_string(v))
		return bad(c, "'%s' must be a string", key);
	*out = floe_arena_strndup(c->arena, json_string_value(v), json_string_length(v));
	return *out ? 0 : nomem(c);
}

static int get_bool(pctx *c, const json_t *obj, const char *key, bool required, bool *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required)
			return bad(c, "missing required field '%s'", key);
		return 0;
	}
	if (!json_is_boolean(v))
		return bad(c, "'%s' must be a boolean", key);
	*out = json_is_true(v);
	return 0;
}

/* Array member (NULL when absent/null and not required). */
static int get_array(pctx *c, const json_t *obj, const char *key, bool required, json_t **out)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return bad(c, "missing required field '%s'", key);
		return 0;
	}
	if (!json_is_array(v))
		return bad(c, "'%s' must be a list", key);
	if (json_array_size(v) > INT_MAX / 2)
		return bad(c, "'%s' has too many entries", key);
	*out = v;
	return 0;
}

static void *arena_array(pctx *c, size_t n, size_t size)
{
	return floe_arena_calloc(c->arena, n ? n : 1, size);
}

/* Compact JSON text of `v` in the arena. */
static int dump_json(pctx *c, const json_t *v, const char **out)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	if (!s)
		return nomem(c);
	*out = floe_arena_strdup(c->arena, s);
	free(s);
	return *out ? 0 : nomem(c);
}

/* ---- types (spec "Schemas and Data Types", Appendix C "Schemas") -------- */

static int parse_type(pctx *c, const json_t *j, int depth, const ice_type **out);

/* Primitive type names. Readers accept whitespace around parameters
 * ("decimal(9, 2)"): it is removed before floe_type_parse. v3-only types
 * are reported as unsupported; anything else unknown is corrupt. */
static int parse_primitive(pctx *c, const char *text, floe_type *out)
{
	static const char *const v3_only[] = { "unknown", "variant", "geometry", "geography" };
	char compact[64];
	size_t n = 0;
	for (const char *p = text; *p; p++) {
		if (*p == ' ' || *p == '\t')
			continue;
		if (n + 1 >= sizeof compact)
			return bad(c, "unknown type '%.40s...'", text);
		compact[n++] = (char)tolower((unsigned char)*p);
	}
	compact[n] = '\0';
	for (size_t i = 0; i < sizeof v3_only / sizeof v3_only[0]; i++) {
		size_t k = strlen(v3_only[i]);
		if (strncmp(compact, v3_only[i], k) == 0 && (compact[k] == '\0' || compact[k] == '('))
			return floe_error_set(c->err, FLOE_EUNSUPPORTED,
			                      "%s: type '%s' (format v3) is not supported", c->name,
			                      text);
	}
	/* "json" is a floe type name, not an Iceberg one. */
	if (strcmp(compact, "json") == 0 || n == 0)
		return bad(c, "unknown type '%s'", text);
	floe_error sub;
	if (floe_type_parse(out, compact, &sub) != 0)
		return bad(c, "type '%s': %s", text, sub.msg);
	return 0;
}

/* One struct field / list element / map key or value. */
static int parse_field(pctx *c, const json_t *j, int depth, ice_field *f)
{
	int rc;
	if (!json_is_object(j))
		return bad(c, "a struct field must be an object");
	if ((rc = get_i32(c, j, "id", true, &f->id, NULL)) != 0)
		return rc;
	if ((rc = get_str(c, j, "name", true, &f->name)) != 0)
		return rc;
	if ((rc = get_bool(c, j, "required", true, &f->required)) != 0)
		return rc;
	json_t *t = json_object_get(j, "type");
	if (!t)
		return bad(c, "field %d ('%s') has no type", (int)f->id, f->name);
	if ((rc = parse_type(c, t, depth + 1, &f->type)) != 0)
		return rc;
	if ((rc = get_str(c, j, "doc", false, &f->doc)) != 0)
		return rc;
	/* v3 default values (Appendix D JSON single-value form): kept as text. */
	json_t *d = json_object_get(j, "initial-default");
	if (d && (rc = dump_json(c, d, &f->initial_default_json)) != 0)
		return rc;
	d = json_object_get(j, "write-default");
	if (d && (rc = dump_json(c, d, &f->write_default_json)) != 0)
		return rc;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Collect every field id under `t` (nested included) into ids[*n]. */
static void collect_ids(const ice_type *t, int32_t *ids, size_t *n, size_t cap);

static void collect_field_ids(const ice_field *f, int32_t *ids, size_t *n, size_t cap)
{
	if (*n < cap)
		ids[(*n)++] = f->id;
	collect_ids(f->type, ids, n, cap);
}

static void collect_ids(const ice_type *t, int32_t *ids, size_t *n, size_t cap)
{
	if (!t)
		return;
	if (t->kind == ICE_STRUCT)
		for (int i = 0; i < t->nfields; i++)
			collect_field_ids(&t->fields[i], ids, n, cap);
	else if (t->kind == ICE_LIST)
		collect_field_ids(&t->element, ids, n, cap);
	else if (t->kind == ICE_MAP) {
		collect_field_ids(&t->key, ids, n, cap);
		collect_field_ids(&t->value, ids, n, cap);
	}
}

static size_t count_ids(const ice_type *t)
{
	size_t n = 0;
	if (!t)
		return 0;
	if (t->kind == ICE_STRUCT)
		for (int i = 0; i < t->nfields; i++)
			n += 1 + count_ids(t->fields[i].type);
	else if (t->kind == ICE_LIST)
		n = 1 + count_ids(t->element.type);
	else if (t->kind == ICE_MAP)
		n = 2 + count_ids(t->key.type) + count_ids(t->value.type);
	return n;
}

/* Field ids are unique within a schema (spec "Schemas and Data Types":
 * "a unique field id"). */
static int check_unique_ids(pctx *c, const ice_schema *s, int32_t **sorted, size_t *nsorted)
{
	ice_type top;
	memset(&top, 0, sizeof top);
	top.kind = ICE_STRUCT;
	top.nfields = s->nfields;
	top.fields = s->fields;
	size_t cap = count_ids(&top), n = 0;
	int32_t *ids = arena_array(c, cap, sizeof *ids);
	if (!ids)
		return nomem(c);
	collect_ids(&top, ids, &n, cap);
	qsort(ids, n, sizeof *ids, cmp_i32);
	for (size_t i = 1; i < n; i++)
		if (ids[i - 1] == ids[i])
			return bad(c, "field id %d appears twice in schema %d", (int)ids[i],
			           (int)s->schema_id);
	*sorted = ids;
	*nsorted = n;
	return 0;
}

static int parse_struct_fields(pctx *c, const json_t *j, int depth, int *nout,
                               ice_field **out)
{
	json_t *arr;
	int rc = get_array(c, j, "fields", true, &arr);
	if (rc)
		return rc;
	size_t n = json_array_size(arr);
	ice_field *fs = arena_array(c, n, sizeof *fs);
	if (!fs)
		return nomem(c);
	for (size_t i = 0; i < n; i++)
		if ((rc = parse_field(c, json_array_get(arr, i), depth, &fs[i])) != 0)
			return rc;
	/* Names within one struct are unique (case-sensitive). */
	if (n > 1) {
		const char **names = arena_array(c, n, sizeof *names);
		if (!names)
			return nomem(c);
		for (size_t i = 0; i < n; i++)
			names[i] = fs[i].name;
		qsort(names, n, sizeof *names, cmp_name);
		for (size_t i = 1; i < n; i++)
			if (strcmp(names[i - 1], names[i]) == 0)
				return bad(c, "field name '%s' appears twice in one struct", names[i]);
	}
	*nout = (int)n;
	*out = fs;
	return 0;
}

static int parse_type(pctx *c, const json_t *j, int depth, const ice_type **out)
{
	int rc;
	if (depth > ICE_MAX_TYPE_DEPTH)
		return bad(c, "types nested deeper than %d levels", ICE_MAX_TYPE_DEPTH);
	ice_type *t = floe_arena_calloc(c->arena, 1, sizeof *t);
	if (!t)
		return nomem(c);
	if (json_is_string(j)) {
		t->kind = ICE_PRIMITIVE;
		if ((rc = parse_primitive(c, json_string_value(j), &t->prim)) != 0)
			return rc;
		*out = t;
		return 0;
	}
	if (!json_is_object(j))
		return bad(c, "a type must be a string or an object");
	const char *kind = NULL;
	json_t *k = json_object_get(j, "type");
	if (!k || !json_is_string(k))
		return bad(c, "a nested type needs \"type\": \"struct\", \"list\" or \"map\"");
	kind = json_string_value(k);
	if (strcmp(kind, "struct") == 0) {
		t->kind = ICE_STRUCT;
		rc = parse_struct_fields(c, j, depth, &t->nfields, &t->fields);
	} else if (strcmp(kind, "list") == 0) {
		t->kind = ICE_LIST;
		t->element.name = "element";
		json_t *e = json_object_get(j, "element");
		if ((rc = get_i32(c, j, "element-id", true, &t->element.id, NULL)) != 0 ||
		    (rc = get_bool(c, j, "element-required", true, &t->element.required)) != 0)
			return rc;
		if (!e)
			return bad(c, "list %d has no element type", (int)t->element.id);
		rc = parse_type(c, e, depth + 1, &t->element.type);
	} else if (strcmp(kind, "map") == 0) {
		t->kind = ICE_MAP;
		t->key.name = "key";
		t->value.name = "value";
		t->key.required = true;
		json_t *kt = json_object_get(j, "key"), *vt = json_object_get(j, "value");
		if ((rc = get_i32(c, j, "key-id", true, &t->key.id, NULL)) != 0 ||
		    (rc = get_i32(c, j, "value-id", true, &t->value.id, NULL)) != 0 ||
		    (rc = get_bool(c, j, "value-required", true, &t->value.required)) != 0)
			return rc;
		if (!kt || !vt)
			return bad(c, "map %d needs key and value types", (int)t->key.id);
		if ((rc = parse_type(c, kt, depth + 1, &t->key.type)) != 0)
			return rc;
		rc = parse_type(c, vt, depth + 1, &t->value.type);
	} else {
		return bad(c, "unknown nested type '%s'", kind);
	}
	if (rc)
		return rc;
	*out = t;
	return 0;
}

/* A schema object: a struct plus "schema-id" (required in v2, Appendix C)
 * and "identifier-field-ids". */
static int parse_schema(pctx *c, const json_t *j, bool id_required, ice_schema *s)
{
	int rc;
	if (!json_is_object(j))
		return bad(c, "a schema must be an object");
	json_t *k = json_object_get(j, "type");
	if (!k)
		return bad(c, "schema has no \"type\": \"struct\"");
	if (!json_is_string(k) || strcmp(json_string_value(k), "struct") != 0)
		return bad(c, "schema type must be \"struct\"");
	s->schema_id = 0;
	if ((rc = get_i32(c, j, "schema-id", id_required, &s->schema_id, NULL)) != 0)
		return rc;
	int32_t *all_ids = NULL;
	size_t nall = 0;
	if ((rc = parse_struct_fields(c, j, 0, &s->nfields, &s->fields)) != 0 ||
	    (rc = check_unique_ids(c, s, &all_ids, &nall)) != 0)
		return rc;
	json_t *ids;
	if ((rc = get_array(c, j, "identifier-field-ids", false, &ids)) != 0)
		return rc;
	if (ids) {
		size_t n = json_array_size(ids);
		s->identifier_field_ids = arena_array(c, n, sizeof(int32_t));
		if (!s->identifier_field_ids)
			return nomem(c);
		for (size_t i = 0; i < n; i++) {
			json_t *v = json_array_get(ids, i);
			if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
			    json_integer_value(v) > INT32_MAX)
				return bad(c, "identifier-field-ids must hold int field ids");
			int32_t id = (int32_t)json_integer_value(v);
			if (!bsearch(&id, all_ids, nall, sizeof *all_ids, cmp_i32))
				return bad(c, "identifier field %d is not in schema %d", (int)id,
				           (int)s->schema_id);
			s->identifier_field_ids[i] = id;
		}
		s->nidentifier = (int)n;
	}
	return 0;
}

/* ---- partition specs and sort orders ------------------------------------ */

static int parse_transform(pctx *c, const json_t *j, ice_transform *t)
{
	const char *text;
	int rc = get_str(c, j, "transform", true, &text);
	if (rc)
		return rc;
	floe_error sub;
	if (ice_transform_parse(t, text, &sub) != 0)
		return bad(c, "transform '%s': %s", text, sub.msg);
	return 0;
}

/* "source-id", or a v3 "source-ids" list of one (multi-argument transforms
 * are not supported). */
static int parse_source_id(pctx *c, const json_t *j, int32_t *out)
{
	bool have = false;
	int rc = get_i32(c, j, "source-id", false, out, &have);
	if (rc || have)
		return rc;
	json_t *ids = json_object_get(j, "source-ids");
	if (!ids)
		return bad(c, "missing required field 'source-id'");
	if (!json_is_array(ids) || json_array_size(ids) == 0)
		return bad(c, "'source-ids' must be a non-empty list");
	if (json_array_size(ids) > 1)
		return floe_error_set(c->err, FLOE_EUNSUPPORTED,
		                      "%s: multi-argument transforms are not supported", c->name);
	json_t *v = json_array_get(ids, 0);
	if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
	    json_integer_value(v) > INT32_MAX)
		return bad(c, "'source-ids' must hold int field ids");
	*out = (int32_t)json_integer_value(v);
	return 0;
}

/* The fields list of a spec. v1 fields without "field-id" get 1000, 1001,
 * ... in order (spec Appendix C "Partition Specs"). */
static int parse_spec_fields(pctx *c, const json_t *arr, ice_partition_spec *spec)
{
	int rc;
	if (!json_is_array(arr))
		return bad(c, "partition spec fields must be a list");
	size_t n = json_array_size(arr);
	if (n > 100000)
		return bad(c, "partition spec has too many fields");
	spec->fields = arena_array(c, n, sizeof *spec->fields);
	if (!spec->fields)
		return nomem(c);
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_array_get(arr, i);
		ice_partition_field *pf = &spec->fields[i];
		if (!json_is_object(f))
			return bad(c, "a partition field must be an object");
		bool have = false;
		if ((rc = parse_source_id(c, f, &pf->source_id)) != 0 ||
		    (rc = get_i32(c, f, "field-id", c->version >= 2, &pf->field_id, &have)) != 0 ||
		    (rc = get_str(c, f, "name", true, &pf->name)) != 0 ||
		    (rc = parse_transform(c, f, &pf->transform)) != 0)
			return rc;
		if (!have)
			pf->field_id = 1000 + (int32_t)i;
	}
	spec->nfields = (int)n;
	return 0;
}

static int parse_sort_order(pctx *c, const json_t *j, ice_sort_order *o)
{
	int rc;
	json_t *arr;
	if (!json_is_object(j))
		return bad(c, "a sort order must be an object");
	if ((rc = get_i32(c, j, "order-id", true, &o->order_id, NULL)) != 0 ||
	    (rc = get_array(c, j, "fields", true, &arr)) != 0)
		return rc;
	size_t n = json_array_size(arr);
	o->fields = arena_array(c, n, sizeof *o->fields);
	if (!o->fields)
		return nomem(c);
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_array_get(arr, i);
		ice_sort_field *sf = &o->fields[i];
		const char *dir, *nulls;
		if (!json_is_object(f))
			return bad(c, "a sort field must be an object");
		if ((rc = parse_transform(c, f, &sf->transform)) != 0 ||
		    (rc = parse_source_id(c, f, &sf->source_id)) != 0 ||
		    (rc = get_str(c, f, "direction", true, &dir)) != 0 ||
		    (rc = get_str(c, f, "null-order", true, &nulls)) != 0)
			return rc;
		if (strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0)
			return bad(c, "sort direction '%s' is not asc or desc", dir);
		if (strcmp(nulls, "nulls-first") != 0 && strcmp(nulls, "nulls-last") != 0)
			return bad(c, "null-order '%s' is not nulls-first or nulls-last", nulls);
		sf->descending = strcmp(dir, "desc") == 0;
		sf->nulls_first = strcmp(nulls, "nulls-first") == 0;
	}
	o->nfields = (int)n;
	return 0;
}

/* ---- snapshots, refs, logs ---------------------------------------------- */

/* A string-to-string object (properties, summary). `first` (may be NULL)
 * is moved to the front when present. */
static int parse_string_map(pctx *c, const json_t *obj, const char *what, const char *first,
                            int *nout, ice_kv **out)
{
	if (!json_is_object(obj))
		return bad(c, "'%s' must be an object", what);
	size_t n = json_object_size(obj), i = 0;
	if (n > INT_MAX / 2)
		return bad(c, "'%s' has too many entries", what);
	ice_kv *kv = arena_array(c, n, sizeof *kv);
	if (!kv)
		return nomem(c);
	const char *key;
	json_t *v;
	if (first && (v = json_object_get(obj, first)) != NULL)
		i = 1;
	json_object_foreach((json_t *)obj, key, v) {
		if (!json_is_string(v))
			return bad(c, "'%s' value of '%s' must be a string", what, key);
		size_t at = first && strcmp(key, first) == 0 ? 0 : i++;
		kv[at].key = floe_arena_strdup(c->arena, key);
		kv[at].value = floe_arena_strndup(c->arena, json_string_value(v),
		                                  json_string_length(v));
		if (!kv[at].key || !kv[at].value)
			return nomem(c);
	}
	*nout = (int)n;
	*out = kv;
	return 0;
}

static int parse_snapshot(pctx *c, const json_t *j, ice_snapshot *s)
{
	int rc;
	if (!json_is_object(j))
		return bad(c, "a snapshot must be an object");
	if ((rc = get_i64(c, j, "snapshot-id", true, &s->snapshot_id, NULL)) != 0 ||
	    (rc = get_i64(c, j, "parent-snapshot-id", false, &s->parent_id, &s->has_parent)) != 0 ||
	    (rc = get_i64(c, j, "sequence-number", false, &s->sequence_number, NULL)) != 0 ||
	    (rc = get_i64(c, j, "timestamp-ms", true, &s->timestamp_ms, NULL)) != 0 ||
	    (rc = get_str(c, j, "manifest-list", false, &s->manifest_list)) != 0 ||
	    (rc = get_i32(c, j, "schema-id", false, &s->schema_id, &s->has_schema_id)) != 0)
		return rc;
	if (s->sequence_number < 0)
		return bad(c, "snapshot %lld has a negative sequence-number",
		           (long long)s->snapshot_id);
	if (!s->manifest_list) {
		/* v1 snapshots may list manifests inline (spec "Snapshots"). */
		json_t *m;
		if ((rc = get_array(c, j, "manifests", false, &m)) != 0)
			return rc;
		if (!m)
			return bad(c, "snapshot %lld has neither manifest-list nor manifests",
			           (long long)s->snapshot_id);
		size_t n = json_array_size(m);
		s->manifests = arena_array(c, n, sizeof *s->manifests);
		if (!s->manifests)
			return nomem(c);
		for (size_t i = 0; i < n; i++) {
			json_t *p = json_array_get(m, i);
			if (!json_is_string(p))
				return bad(c, "snapshot manifests must be strings");
			s->manifests[i] = floe_arena_strndup(c->arena, json_string_value(p),
			                                     json_string_length(p));
			if (!s->manifests[i])
				return nomem(c);
		}
		s->nmanifests = (int)n;
	}
	json_t *sum = json_object_get(j, "summary");
	if (sum && !json_is_null(sum)) {
		if ((rc = parse_string_map(c, sum, "summary", "operation", &s->nsummary,
		                           &s->summary)) != 0)
			return rc;
		if (!json_object_get(sum, "operation"))
			return bad(c, "snapshot %lld summary has no operation",
			           (long long)s->snapshot_id);
	}
	return 0;
}

static int parse_ref(pctx *c, const char *name, const json_t *j, ice_ref *r)
{
	int rc;
	const char *type;
	if (!json_is_object(j))
		return bad(c, "ref '%s' must be an object", name);
	r->name = floe_arena_strdup(c->arena, name);
	if (!r->name)
		return nomem(c);
	r->max_ref_age_ms = -1;
	r->max_snapshot_age_ms = -1;
	r->min_snapshots_to_keep = -1;
	if ((rc = get_i64(c, j, "snapshot-id", true, &r->snapshot_id, NULL)) != 0 ||
	    (rc = get_str(c, j, "type", true, &type)) != 0 ||
	    (rc = get_i64(c, j, "max-ref-age-ms", false, &r->max_ref_age_ms, NULL)) != 0 ||
	    (rc = get_i64(c, j, "max-snapshot-age-ms", false, &r->max_snapshot_age_ms, NULL)) != 0 ||
	    (rc = get_i32(c, j, "min-snapshots-to-keep", false, &r->min_snapshots_to_keep, NULL)) !=
	            0)
		return rc;
	if (strcmp(type, "tag") != 0 && strcmp(type, "branch") != 0)
		return bad(c, "ref '%s' has type '%s' (not branch or tag)", name, type);
	r->is_tag = strcmp(type, "tag") == 0;
	return 0;
}

static int parse_logs(pctx *c, const json_t *root, ice_table_metadata *m)
{
	json_t *arr;
	int rc = get_array(c, root, "snapshot-log", false, &arr);
	if (rc)
		return rc;
	if (arr) {
		size_t n = json_array_size(arr);
		m->snapshot_log = arena_array(c, n, sizeof *m->snapshot_log);
		if (!m->snapshot_log)
			return nomem(c);
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_array_get(arr, i);
			if (!json_is_object(e))
				return bad(c, "snapshot-log entries must be objects");
			if ((rc = get_i64(c, e, "timestamp-ms", true, &m->snapshot_log[i].timestamp_ms,
			                  NULL)) != 0 ||
			    (rc = get_i64(c, e, "snapshot-id", true, &m->snapshot_log[i].snapshot_id,
			                  NULL)) != 0)
				return rc;
		}
		m->nsnapshot_log = (int)n;
	}
	if ((rc = get_array(c, root, "metadata-log", false, &arr)) != 0)
		return rc;
	if (arr) {
		size_t n = json_array_size(arr);
		m->metadata_log = arena_array(c, n, sizeof *m->metadata_log);
		if (!m->metadata_log)
			return nomem(c);
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_array_get(arr, i);
			if (!json_is_object(e))
				return bad(c, "metadata-log entries must be objects");
			if ((rc = get_i64(c, e, "timestamp-ms", true, &m->metadata_log[i].timestamp_ms,
			                  NULL)) != 0 ||
			    (rc = get_str(c, e, "metadata-file", true,
			                  &m->metadata_log[i].metadata_file)) != 0)
				return rc;
		}
		m->nmetadata_log = (int)n;
	}
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

static int parse_schemas(pctx *c, const json_t *root, ice_table_metadata *m)
{
	json_t *arr;
	int rc = get_array(c, root, "schemas", false, &arr);
	if (rc)
		return rc;
	if (arr) {
		size_t n = json_array_size(arr);
		if (n == 0)
			return bad(c, "'schemas' is empty");
		m->schemas = arena_array(c, n, sizeof *m->schemas);
		if (!m->schemas)
			return nomem(c);
		for (size_t i = 0; i < n; i++)
			if ((rc = parse_schema(c, json_array_get(arr, i), c->version >= 2,
			                       &m->schemas[i])) != 0)
				return rc;
		m->nschemas = (int)n;
		for (int i = 0; i < m->nschemas; i++)
			for (int k = 0; k < i; k++)
				if (m->schemas[k].schema_id == m->schemas[i].schema_id)
					return bad(c, "schema id %d appears twice",
					           (int)m->schemas[i].schema_id);
		return get_i32(c, root, "current-schema-id", true, &m->current_schema_id, NULL);
	}
	/* v1: the deprecated single "schema" (spec "Table Metadata Fields"). */
	if (c->version >= 2)
		return bad(c, "missing required field 'schemas' (format v%d)", c->version);
	json_t *one = json_object_get(root, "schema");
	if (!one)
		return bad(c, "missing required field 'schema'");
	m->schemas = arena_array(c, 1, sizeof *m->schemas);
	if (!m->schemas)
		return nomem(c);
	if ((rc = parse_schema(c, one, false, &m->schemas[0])) != 0)
		return rc;
	m->nschemas = 1;
	m->current_schema_id = m->schemas[0].schema_id;
	return 0;
}

static int parse_specs(pctx *c, const json_t *root, ice_table_metadata *m)
{
	json_t *arr;
	int rc = get_array(c, root, "partition-specs", false, &arr);
	if (rc)
		return rc;
	if (arr) {
		size_t n = json_array_size(arr);
		if (n == 0)
			return bad(c, "'partition-specs' is empty");
		m->specs = arena_array(c, n, sizeof *m->specs);
		if (!m->specs)
			return nomem(c);
		for (size_t i = 0; i < n; i++) {
			json_t *s = json_array_get(arr, i);
			json_t *fields;
			if (!json_is_object(s))
				return bad(c, "a partition spec must be an object");
			if ((rc = get_i32(c, s, "spec-id", true, &m->specs[i].spec_id, NULL)) != 0 ||
			    (rc = get_array(c, s, "fields", true, &fields)) != 0 ||
			    (rc = parse_spec_fields(c, fields, &m->specs[i])) != 0)
				return rc;
			for (size_t k = 0; k < i; k++)
				if (m->specs[k].spec_id == m->specs[i].spec_id)
					return bad(c, "partition spec id %d appears twice",
					           (int)m->specs[i].spec_id);
		}
		m->nspecs = (int)n;
		rc = get_i32(c, root, "default-spec-id", true, &m->default_spec_id, NULL);
	} else {
		if (c->version >= 2)
			return bad(c, "missing required field 'partition-specs' (format v%d)",
			           c->version);
		json_t *one = json_object_get(root, "partition-spec");
		if (!one)
			return bad(c, "missing required field 'partition-spec'");
		m->specs = arena_array(c, 1, sizeof *m->specs);
		if (!m->specs)
			return nomem(c);
		if ((rc = parse_spec_fields(c, one, &m->specs[0])) != 0)
			return rc;
		m->nspecs = 1;
		m->default_spec_id = 0;
	}
	if (rc)
		return rc;
	bool have = false;
	if ((rc = get_i32(c, root, "last-partition-id", c->version >= 2, &m->last_partition_id,
	                  &have)) != 0)
		return rc;
	if (!have) { /* v1: the highest partition field id (999 when none) */
		m->last_partition_id = 999;
		for (int i = 0; i < m->nspecs; i++)
			for (int k = 0; k < m->specs[i].nfields; k++)
				if (m->specs[i].fields[k].field_id > m->last_partition_id)
					m->last_partition_id = m->specs[i].fields[k].field_id;
	}
	return 0;
}

static int parse_sort_orders(pctx *c, const json_t *root, ice_table_metadata *m)
{
	json_t *arr;
	int rc = get_array(c, root, "sort-orders", c->version >= 2, &arr);
	if (rc)
		return rc;
	if (!arr) { /* v1 without orders: the unsorted order 0 */
		m->sort_orders = arena_array(c, 1, sizeof *m->sort_orders);
		if (!m->sort_orders)
			return nomem(c);
		m->nsort_orders = 1;
		m->default_sort_order_id = 0;
		return 0;
	}
	size_t n = json_array_size(arr);
	m->sort_orders = arena_array(c, n, sizeof *m->sort_orders);
	if (!m->sort_orders)
		return nomem(c);
	for (size_t i = 0; i < n; i++)
		if ((rc = parse_sort_order(c, json_array_get(arr, i), &m->sort_orders[i])) != 0)
			return rc;
	m->nsort_orders = (int)n;
	bool have = false;
	if ((rc = get_i32(c, root, "default-sort-order-id", c->version >= 2,
	                  &m->default_sort_order_id, &have)) != 0)
		return rc;
	if (!have)
		m->default_sort_order_id = n ? m->sort_orders[0].order_id : 0;
	return 0;
}

static int parse_snapshots_refs(pctx *c, const json_t *root, ice_table_metadata *m)
{
	json_t *arr;
	int rc;
	int64_t cur = -1;
	bool have = false;
	if ((rc = get_i64(c, root, "current-snapshot-id", false, &cur, &have)) != 0)
		return rc;
	if ((rc = get_array(c, root, "snapshots", false, &arr)) != 0)
		return rc;
	if (arr) {
		size_t n = json_array_size(arr);
		m->snapshots = arena_array(c, n, sizeof *m->snapshots);
		if (!m->snapshots)
			return nomem(c);
		for (size_t i = 0; i < n; i++)
			if ((rc = parse_snapshot(c, json_array_get(arr, i), &m->snapshots[i])) != 0)
				return rc;
		m->nsnapshots = (int)n;
	}
	/* -1 (or null / absent) means no current snapshot. */
	m->has_current_snapshot = have && cur != -1;
	m->current_snapshot_id = m->has_current_snapshot ? cur : -1;
	if (m->has_current_snapshot && !ice_metadata_snapshot(m, cur))
		return bad(c, "current-snapshot-id %lld is not among the snapshots", (long long)cur);

	json_t *refs = json_object_get(root, "refs");
	size_t n = 0;
	if (refs && !json_is_null(refs)) {
		if (!json_is_object(refs))
			return bad(c, "'refs' must be an object");
		n = json_object_size(refs);
		if (n > INT_MAX / 2)
			return bad(c, "'refs' has too many entries");
	}
	/* One spare slot: "there is always a main branch reference pointing to
	 * the current-snapshot-id even if the refs map is null" (spec). */
	m->refs = arena_array(c, n + 1, sizeof *m->refs);
	if (!m->refs)
		return nomem(c);
	if (n) {
		const char *key;
		json_t *v;
		json_object_foreach(refs, key, v) {
			ice_ref *r = &m->refs[m->nrefs];
			if ((rc = parse_ref(c, key, v, r)) != 0)
				return rc;
			if (!ice_metadata_snapshot(m, r->snapshot_id))
				return bad(c, "ref '%s' names snapshot %lld, which is absent", key,
				           (long long)r->snapshot_id);
			m->nrefs++;
		}
	}
	const ice_ref *main_ref = ice_metadata_ref(m, "main");
	if (main_ref) {
		if (main_ref->is_tag)
			return bad(c, "ref 'main' must be a branch");
		if (!m->has_current_snapshot || main_ref->snapshot_id != m->current_snapshot_id)
			return bad(c, "ref 'main' (%lld) differs from current-snapshot-id (%lld)",
			           (long long)main_ref->snapshot_id,
			           (long long)m->current_snapshot_id);
	} else if (m->has_current_snapshot) {
		ice_ref *r = &m->refs[m->nrefs++];
		r->name = "main";
		r->snapshot_id = m->current_snapshot_id;
		r->is_tag = false;
		r->max_ref_age_ms = -1;
		r->max_snapshot_age_ms = -1;
		r->min_snapshots_to_keep = -1;
	}
	return 0;
}

static int parse_root(pctx *c, const json_t *root, ice_table_metadata *m)
{
	int rc;
	int32_t version = 0;
	if (!json_is_object(root))
		return bad(c, "the document is not a JSON object");
	if ((rc = get_i32(c, root, "format-version", true, &version, NULL)) != 0)
		return rc;
	if (version > 3)
		return floe_error_set(c->err, FLOE_EUNSUPPORTED,
		                      "%s: format-version %d is not supported (1 to 3)", c->name,
		                      (int)version);
	if (version < 1)
		return bad(c, "format-version %d", (int)version);
	c->version = version;
	m->format_version = version;
	bool v2 = version >= 2;
	if ((rc = get_str(c, root, "table-uuid", v2, &m->table_uuid)) != 0 ||
	    (rc = get_str(c, root, "location", true, &m->location)) != 0 ||
	    (rc = get_i64(c, root, "last-sequence-number", v2, &m->last_sequence_number, NULL)) !=
	            0 ||
	    (rc = get_i64(c, root, "last-updated-ms", true, &m->last_updated_ms, NULL)) != 0 ||
	    (rc = get_i32(c, root, "last-column-id", true, &m->last_column_id, NULL)) != 0)
		return rc;
	if (m->last_sequence_number < 0)
		return bad(c, "last-sequence-number is negative");
	if (version >= 3) {
		/* Required in v3 ("Table Metadata Fields"): the next snapshot's
		 * first-row-id. Tolerated when absent only while the table has no
		 * snapshot, where no row id was ever assigned and the value can
		 * only be 0 (such files exist: duckdb-iceberg's timestamptz_ns). */
		int64_t next_row_id = 0;
		json_t *snaps = json_object_get(root, "snapshots");
		bool none = !snaps || json_is_null(snaps) ||
		            (json_is_array(snaps) && json_array_size(snaps) == 0);
		if ((rc = get_i64(c, root, "next-row-id", !none, &next_row_id, NULL)) != 0)
			return rc;
		if (next_row_id < 0)
			return bad(c, "next-row-id is negative");
	}
	if ((rc = parse_schemas(c, root, m)) != 0)
		return rc;
	if (!ice_metadata_current_schema(m))
		return bad(c, "current-schema-id %d is not among the schemas",
		           (int)m->current_schema_id);
	if ((rc = parse_specs(c, root, m)) != 0)
		return rc;
	if (!ice_metadata_default_spec(m))
		return bad(c, "default-spec-id %d is not among the partition specs",
		           (int)m->default_spec_id);
	json_t *props = json_object_get(root, "properties");
	if (props && !json_is_null(props) &&
	    (rc = parse_string_map(c, props, "properties", NULL, &m->nproperties,
	                           &m->properties)) != 0)
		return rc;
	if ((rc = parse_snapshots_refs(c, root, m)) != 0 || (rc = parse_logs(c, root, m)) != 0 ||
	    (rc = parse_sort_orders(c, root, m)) != 0)
		return rc;
	bool found = false;
	for (int i = 0; i < m->nsort_orders; i++)
		found = found || m->sort_orders[i].order_id == m->default_sort_order_id;
	if (!found)
		return bad(c, "default-sort-order-id %d is not among the sort orders",
		           (int)m->default_sort_order_id);
	json_t *st = json_object_get(root, "statistics");
	if (st && !json_is_null(st)) {
		if (!json_is_array(st))
			return bad(c, "'statistics' must be a list");
		if ((rc = dump_json(c, st, &m->statistics_json)) != 0)
			return rc;
	}
	st = json_object_get(root, "partition-statistics");
	if (st && !json_is_null(st)) {
		if (!json_is_array(st))
			return bad(c, "'partition-statistics' must be a list");
		if ((rc = dump_json(c, st, &m->partition_statistics_json)) != 0)
			return rc;
	}
	return 0;
}

/* Snapshot ids are JSON longs, but some writers (hand-built duckdb-iceberg
 * tables) store ids in [2^63, 2^64) as unsigned decimals. Such a value right
 * after a key ending in "snapshot-id" is read as its 64-bit two's complement
 * pattern (what an Avro long of the same bits holds); any other too-big
 * integer stays an error. Returns a malloc'ed rewritten copy in *copy when
 * something changed (else NULL); -1 when out of memory. */
static bool after_snapshot_id_key(const char *json, size_t at)
{
	static const char key[] = "snapshot-id\"";
	size_t i = at, klen = sizeof key - 1;
	while (i > 0 && (json[i - 1] == ' ' || json[i - 1] == '\t' || json[i - 1] == '\n' ||
	                 json[i - 1] == '\r'))
		i--;
	if (i == 0 || json[i - 1] != ':')
		return false;
	i--;
	while (i > 0 && (json[i - 1] == ' ' || json[i - 1] == '\t' || json[i - 1] == '\n' ||
	                 json[i - 1] == '\r'))
		i--;
	return i >= klen && memcmp(json + i - klen, key, klen) == 0;
}

static int wrap_unsigned_ids(char **copy, size_t *copylen, const char *json, size_t len)
{
	floe_buf out = FLOE_BUF_INIT;
	size_t done = 0;
	bool in_str = false;
	*copy = NULL;
	for (size_t i = 0; i < len; i++) {
		char ch = json[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = false;
			continue;
		}
		if (ch == '"') {
			in_str = true;
			continue;
		}
		if (ch < '0' || ch > '9' || (i > 0 && (json[i - 1] == '-' || json[i - 1] == '.' ||
		                                       (json[i - 1] >= '0' && json[i - 1] <= '9'))))
			continue;
		size_t j = i;
		while (j < len && json[j] >= '0' && json[j] <= '9')
			j++;
		bool plain = j - i >= 19 && j - i <= 20 &&
		             (j == len || (json[j] != '.' && json[j] != 'e' && json[j] != 'E'));
		if (plain && after_snapshot_id_key(json, i)) {
			char digits[24];
			memcpy(digits, json + i, j - i);
			digits[j - i] = '\0';
			errno = 0;
			unsigned long long u = strtoull(digits, NULL, 10);
			if (errno == 0 && u > (unsigned long long)INT64_MAX) {
				char repl[32];
				int n = snprintf(repl, sizeof repl, "%lld", (long long)(int64_t)u);
				if (floe_buf_append(&out, json + done, i - done) != 0 ||
				    floe_buf_append(&out, repl, (size_t)n) != 0) {
					floe_buf_free(&out);
					return -1;
				}
				done = j;
			}
		}
		i = j - 1;
	}
	if (done == 0)
		return 0;
	if (floe_buf_append(&out, json + done, len - done) != 0 || floe_buf_putc(&out, 0) != 0) {
		floe_buf_free(&out);
		return -1;
	}
	*copy = (char *)out.data;
	*copylen = out.len - 1;
	return 0;
}

int ice_metadata_parse(ice_table_metadata **out, floe_arena *arena, const char *json,
                       size_t len, const char *name, floe_error *err)
{
	pctx c = { arena, name ? name : "metadata", 0, err };
	json_error_t jerr;
	json_t *root = NULL;
	int rc = 0;
	*out = NULL;
	if (!json && len)
		return floe_error_set(err, FLOE_EINVALID, "%s: no input", c.name);
	char *wrapped = NULL;
	size_t wlen = 0;
	if (json && wrap_unsigned_ids(&wrapped, &wlen, json, len) != 0)
		return nomem(&c);
	if (wrapped)
		root = json_loadb(wrapped, wlen, JSON_REJECT_DUPLICATES, &jerr);
	else
		root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
	free(wrapped);
	if (!root)
		return floe_error_corrupt(err, c.name, (uint64_t)jerr.position, "%s", jerr.text);
	ice_table_metadata *m = floe_arena_calloc(arena, 1, sizeof *m);
	if (!m) {
		rc = nomem(&c);
		goto done;
	}
	if ((rc = parse_root(&c, root, m)) != 0)
		goto done;
	*out = m;
done:
	json_decref(root);
	return rc;
}

int ice_schema_parse_json(ice_schema **out, floe_arena *arena, const char *json, size_t len,
                          floe_error *err)
{
	pctx c = { arena, "schema", 2, err };
	json_error_t jerr;
	int rc;
	*out = NULL;
	json_t *root = json_loadb(json ? json : "", json ? len : 0, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return floe_error_corrupt(err, c.name, (uint64_t)jerr.position, "%s", jerr.text);
	ice_schema *s = floe_arena_calloc(arena, 1, sizeof *s);
	if (!s) {
		rc = nomem(&c);
		goto done;
	}
	/* Manifest "schema" metadata may omit schema-id: not required here. */
	if ((rc = parse_schema(&c, root, false, s)) != 0)
		goto done;
	*out = s;
done:
	json_decref(root);
	return rc;
}

/* ---- files (plain or gzip) ---------------------------------------------- */

/* Inflate a gzip member (spec Appendix C: "A metadata JSON file may be
 * compressed with GZIP"); the output is capped so a bomb is an error. */
static int gunzip(char **out, size_t *outlen, const uint8_t *in, size_t inlen, const char *path,
                  floe_error *err)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	size_t cap = inlen * 4 + 4096, len = 0;
	char *buf = NULL;
	int rc = 0, zrc;
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return floe_error_set(err, FLOE_ENOMEM, "%s: cannot start inflate", path);
	if (cap > ICE_MAX_METADATA_BYTES + 1)
		cap = ICE_MAX_METADATA_BYTES + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		rc = floe_error_set(err, FLOE_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = inlen > UINT_MAX ? UINT_MAX : (uInt)inlen;
	for (;;) {
		if (len == cap) {
			if (cap > ICE_MAX_METADATA_BYTES) {
				rc = floe_error_set(err, FLOE_ECORRUPT,
				                    "%s: corrupt at byte %zu: gzip content inflates "
				                    "beyond %zu bytes",
				                    path, (size_t)zs.total_in,
				                    (size_t)ICE_MAX_METADATA_BYTES);
				goto done;
			}
			size_t ncap = cap * 2;
			if (ncap > ICE_MAX_METADATA_BYTES + 1)
				ncap = ICE_MAX_METADATA_BYTES + 1;
			char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				rc = floe_error_set(err, FLOE_ENOMEM, "%s: out of memory", path);
				goto done;
			}
			buf = nb;
			cap = ncap;
		}
		size_t room = cap - len;
		zs.next_out = (Bytef *)buf + len;
		zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
		uInt before = zs.avail_out;
		zrc = inflate(&zs, Z_NO_FLUSH);
		len += before - zs.avail_out;
		if (zrc == Z_STREAM_END)
			break;
		if (zrc == Z_OK)
			continue;
		if (zrc == Z_BUF_ERROR && zs.avail_out != 0) {
			rc = floe_error_corrupt(err, path, (uint64_t)zs.total_in,
			                        "truncated gzip content");
			goto done;
		}
		if (zrc == Z_BUF_ERROR)
			continue;
		rc = floe_error_corrupt(err, path, (uint64_t)zs.total_in, "bad gzip content: %s",
		                        zs.msg ? zs.msg : "inflate failed");
		goto done;
	}
	if (len > ICE_MAX_METADATA_BYTES) {
		rc = floe_error_corrupt(err, path, (uint64_t)zs.total_in,
		                        "gzip content inflates beyond %zu bytes",
		                        (size_t)ICE_MAX_METADATA_BYTES);
		goto done;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
done:
	inflateEnd(&zs);
	free(buf);
	return rc;
}

int ice_metadata_read_file(ice_table_metadata **out, floe_arena *arena, const char *path,
                           floe_error *err)
{
	FILE *f = NULL;
	char *raw = NULL, *text = NULL;
	size_t len = 0, cap = 0, tlen = 0;
	int rc = 0;
	*out = NULL;
	f = fopen(path, "rb");
	if (!f)
		return floe_error_set(err, errno == ENOENT ? FLOE_ENOTFOUND : FLOE_EIO,
		                      "%s: cannot open: %s", path, strerror(errno));
	for (;;) {
		if (len == cap) {
			if (cap > ICE_MAX_METADATA_BYTES) {
				rc = floe_error_set(err, FLOE_ECORRUPT,
				                    "%s: corrupt at byte %zu: metadata file is larger "
				                    "than %zu bytes",
				                    path, len, (size_t)ICE_MAX_METADATA_BYTES);
				goto done;
			}
			size_t ncap = cap ? cap * 2 : 65536;
			if (ncap > ICE_MAX_METADATA_BYTES + 1)
				ncap = ICE_MAX_METADATA_BYTES + 1;
			char *nb = realloc(raw, ncap + 1);
			if (!nb) {
				rc = floe_error_set(err, FLOE_ENOMEM, "%s: out of memory", path);
				goto done;
			}
			raw = nb;
			cap = ncap;
		}
		size_t got = fread(raw + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				rc = floe_error_set(err, FLOE_EIO, "%s: read failed", path);
				goto done;
			}
			break;
		}
	}
	if (len > ICE_MAX_METADATA_BYTES) {
		rc = floe_error_set(err, FLOE_ECORRUPT,
		                    "%s: corrupt at byte %zu: metadata file is larger than %zu bytes",
		                    path, len, (size_t)ICE_MAX_METADATA_BYTES);
		goto done;
	}
	/* gzip by its magic bytes 1f 8b (RFC 1952), whatever the name. */
	if (len >= 2 && (uint8_t)raw[0] == 0x1f && (uint8_t)raw[1] == 0x8b) {
		if ((rc = gunzip(&text, &tlen, (const uint8_t *)raw, len, path, err)) != 0)
			goto done;
		rc = ice_metadata_parse(out, arena, text, tlen, path, err);
	} else {
		rc = ice_metadata_parse(out, arena, raw ? raw : "", len, path, err);
	}
done:
	if (f)
		fclose(f);
	free(raw);
	free(text);
	return rc;
}

/* ---- copies -------------------------------------------------------------- */

/* A deep copy into one arena; `oom` sticks once an allocation fails. */
typedef struct {
	floe_arena *a;
	bool oom;
} cpctx;

static const char *cp_str(cpctx *c, const char *s)
{
	if (!s)
		return NULL;
	char *d = floe_arena_strdup(c->a, s);
	if (!d)
		c->oom = true;
	return d;
}

/* `n` elements of `size` bytes copied as they are (pointers fixed after). */
static void *cp_mem(cpctx *c, const void *p, int n, size_t size)
{
	if (!p || n <= 0)
		return NULL;
	void *d = floe_arena_alloc(c->a, (size_t)n * size);
	if (!d) {
		c->oom = true;
		return NULL;
	}
	memcpy(d, p, (size_t)n * size);
	return d;
}

static const ice_type *cp_type(cpctx *c, const ice_type *t);

static void cp_field(cpctx *c, ice_field *f)
{
	f->name = cp_str(c, f->name);
	f->type = cp_type(c, f->type);
	f->doc = cp_str(c, f->doc);
	f->initial_default_json = cp_str(c, f->initial_default_json);
	f->write_default_json = cp_str(c, f->write_default_json);
}

static ice_field *cp_fields(cpctx *c, const ice_field *fields, int n)
{
	ice_field *d = cp_mem(c, fields, n, sizeof *d);
	for (int i = 0; d && i < n; i++)
		cp_field(c, &d[i]);
	return d;
}

static const ice_type *cp_type(cpctx *c, const ice_type *t)
{
	ice_type *d = cp_mem(c, t, 1, sizeof *d);
	if (!d)
		return NULL;
	switch (d->kind) {
	case ICE_STRUCT: d->fields = cp_fields(c, d->fields, d->nfields); break;
	case ICE_LIST: cp_field(c, &d->element); break;
	case ICE_MAP:
		cp_field(c, &d->key);
		cp_field(c, &d->value);
		break;
	default: break;
	}
	return d;
}

static void cp_transform(cpctx *c, ice_transform *t)
{
	t->unknown_name = cp_str(c, t->unknown_name);
}

static ice_kv *cp_kvs(cpctx *c, const ice_kv *kv, int n)
{
	ice_kv *d = cp_mem(c, kv, n, sizeof *d);
	for (int i = 0; d && i < n; i++) {
		d[i].key = cp_str(c, d[i].key);
		d[i].value = cp_str(c, d[i].value);
	}
	return d;
}

int ice_metadata_copy(ice_table_metadata **out, floe_arena *arena, const ice_table_metadata *m)
{
	cpctx c = { arena, false };
	ice_table_metadata *d = cp_mem(&c, m, 1, sizeof *d);
	*out = NULL;
	if (!d)
		return FLOE_ENOMEM;
	d->table_uuid = cp_str(&c, d->table_uuid);
	d->location = cp_str(&c, d->location);
	d->schemas = cp_mem(&c, d->schemas, d->nschemas, sizeof *d->schemas);
	for (int i = 0; d->schemas && i < d->nschemas; i++) {
		ice_schema *s = &d->schemas[i];
		s->fields = cp_fields(&c, s->fields, s->nfields);
		s->identifier_field_ids = cp_mem(&c, s->identifier_field_ids, s->nidentifier,
		                                 sizeof *s->identifier_field_ids);
	}
	d->specs = cp_mem(&c, d->specs, d->nspecs, sizeof *d->specs);
	for (int i = 0; d->specs && i < d->nspecs; i++) {
		ice_partition_spec *s = &d->specs[i];
		s->fields = cp_mem(&c, s->fields, s->nfields, sizeof *s->fields);
		for (int j = 0; s->fields && j < s->nfields; j++) {
			s->fields[j].name = cp_str(&c, s->fields[j].name);
			cp_transform(&c, &s->fields[j].transform);
		}
	}
	d->properties = cp_kvs(&c, d->properties, d->nproperties);
	d->snapshots = cp_mem(&c, d->snapshots, d->nsnapshots, sizeof *d->snapshots);
	for (int i = 0; d->snapshots && i < d->nsnapshots; i++) {
		ice_snapshot *s = &d->snapshots[i];
		s->manifest_list = cp_str(&c, s->manifest_list);
		const char **mf = cp_mem(&c, s->manifests, s->nmanifests, sizeof *mf);
		for (int j = 0; mf && j < s->nmanifests; j++)
			mf[j] = cp_str(&c, mf[j]);
		s->manifests = mf;
		s->summary = cp_kvs(&c, s->summary, s->nsummary);
	}
	d->snapshot_log = cp_mem(&c, d->snapshot_log, d->nsnapshot_log, sizeof *d->snapshot_log);
	d->metadata_log = cp_mem(&c, d->metadata_log, d->nmetadata_log, sizeof *d->metadata_log);
	for (int i = 0; d->metadata_log && i < d->nmetadata_log; i++)
		d->metadata_log[i].metadata_file = cp_str(&c, d->metadata_log[i].metadata_file);
	d->sort_orders = cp_mem(&c, d->sort_orders, d->nsort_orders, sizeof *d->sort_orders);
	for (int i = 0; d->sort_orders && i < d->nsort_orders; i++) {
		ice_sort_order *o = &d->sort_orders[i];
		o->fields = cp_mem(&c, o->fields, o->nfields, sizeof *o->fields);
		for (int j = 0; o->fields && j < o->nfields; j++)
			cp_transform(&c, &o->fields[j].transform);
	}
	d->refs = cp_mem(&c, d->refs, d->nrefs, sizeof *d->refs);
	for (int i = 0; d->refs && i < d->nrefs; i++)
		d->refs[i].name = cp_str(&c, d->refs[i].name);
	d->statistics_json = cp_str(&c, d->statistics_json);
	d->partition_statistics_json = cp_str(&c, d->partition_statistics_json);
	if (c.oom)
		return FLOE_ENOMEM;
	*out = d;
	return 0;
}

/* ---- lookups ------------------------------------------------------------ */

const ice_schema *ice_metadata_schema(const ice_table_metadata *m, int32_t schema_id)
{
	for (int i = 0; m && i < m->nschemas; i++)
		if (m->schemas[i].schema_id == schema_id)
			return &m->schemas[i];
	return NULL;
}

const ice_schema *ice_metadata_current_schema(const ice_table_metadata *m)
{
	return m ? ice_metadata_schema(m, m->current_schema_id) : NULL;
}

const ice_partition_spec *ice_metadata_spec(const ice_table_metadata *m, int32_t spec_id)
{
	for (int i = 0; m && i < m->nspecs; i++)
		if (m->specs[i].spec_id == spec_id)
			return &m->specs[i];
	return NULL;
}

const ice_partition_spec *ice_metadata_default_spec(const ice_table_metadata *m)
{
	return m ? ice_metadata_spec(m, m->default_spec_id) : NULL;
}

const ice_snapshot *ice_metadata_snapshot(const ice_table_metadata *m, int64_t snapshot_id)
{
	for (int i = 0; m && i < m->nsnapshots; i++)
		if (m->snapshots[i].snapshot_id == snapshot_id)
			return &m->snapshots[i];
	return NULL;
}

const ice_snapshot *ice_metadata_current_snapshot(const ice_table_metadata *m)
{
	if (!m || !m->has_current_snapshot)
		return NULL;
	return ice_metadata_snapshot(m, m->current_snapshot_id);
}

const ice_ref *ice_metadata_ref(const ice_table_metadata *m, const char *name)
{
	for (int i = 0; m && name && i < m->nrefs; i++)
		if (strcmp(m->refs[i].name, name) == 0)
			return &m->refs[i];
	return NULL;
}

const char *ice_metadata_property(const ice_table_metadata *m, const char *key)
{
	for (int i = 0; m && key && i < m->nproperties; i++)
		if (strcmp(m->properties[i].key, key) == 0)
			return m->properties[i].value;
	return NULL;
}

const char *ice_snapshot_summary(const ice_snapshot *s, const char *key)
{
	for (int i = 0; s && key && i < s->nsummary; i++)
		if (strcmp(s->summary[i].key, key) == 0)
			return s->summary[i].value;
	return NULL;
}

/* "2026-11-20T14:30:00.123Z" for epoch milliseconds (messages). */
static const char *iso_ms(char *buf, size_t cap, int64_t ms)
{
	int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t sod = secs - days * 86400, y;
	unsigned mo, d;
	floe_civil_from_days(days, &y, &mo, &d);
	snprintf(buf, cap, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, mo, d,
	         (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)(ms - secs * 1000));
	return buf;
}

/* Time travel by the snapshot log (spec "Table Metadata Fields",
 * snapshot-log: each change of the current snapshot with its time). */
int ice_metadata_snapshot_as_of(const ice_table_metadata *m, int64_t timestamp_ms,
                                const ice_snapshot **out, floe_error *err)
{
	const ice_snapshot_log_entry *best = NULL;
	*out = NULL;
	char at[48], first[48];
	if (!m || m->nsnapshot_log == 0)
		return floe_error_set(err, FLOE_ENOTFOUND,
		                      "no snapshot at or before %s: the snapshot log is empty",
		                      iso_ms(at, sizeof at, timestamp_ms));
	int64_t earliest = m->snapshot_log[0].timestamp_ms;
	for (int i = 0; i < m->nsnapshot_log; i++) {
		const ice_snapshot_log_entry *e = &m->snapshot_log[i];
		if (e->timestamp_ms < earliest)
			earliest = e->timestamp_ms;
		if (e->timestamp_ms <= timestamp_ms &&
		    (!best || e->timestamp_ms >= best->timestamp_ms))
			best = e;
	}
	if (!best)
		return floe_error_set(err, FLOE_ENOTFOUND,
		                      "no snapshot at or before %s: the earliest is at %s",
		                      iso_ms(at, sizeof at, timestamp_ms),
		                      iso_ms(first, sizeof first, earliest));
	*out = ice_metadata_snapshot(m, best->snapshot_id);
	if (!*out)
		return floe_error_set(err, FLOE_ENOTFOUND,
		                      "snapshot %lld, current at %s, has expired",
		                      (long long)best->snapshot_id, iso_ms(at, sizeof at, timestamp_ms));
	return 0;
}

/* Depth-first search; `path` gets "a.b.c" as it goes (truncated to fit). */
static const ice_field *find_in_field(const ice_field *f, int32_t id, char *path, int pathsize,
                                      int at, int depth);

static const ice_field *find_in_type(const ice_type *t, int32_t id, char *path, int pathsize,
                                     int at, int depth)
{
	if (!t || depth > ICE_MAX_TYPE_DEPTH + 2)
		return NULL;
	const ice_field *r = NULL;
	switch (t->kind) {
	case ICE_STRUCT:
		for (int i = 0; !r && i < t->nfields; i++)
			r = find_in_field(&t->fields[i], id, path, pathsize, at, depth + 1);
		return r;
	case ICE_LIST:
		return find_in_field(&t->element, id, path, pathsize, at, depth + 1);
	case ICE_MAP:
		r = find_in_field(&t->key, id, path, pathsize, at, depth + 1);
		return r ? r : find_in_field(&t->value, id, path, pathsize, at, depth + 1);
	default:
		return NULL;
	}
}

static const ice_field *find_in_field(const ice_field *f, int32_t id, char *path, int pathsize,
                                      int at, int depth)
{
	int end = at;
	if (path && pathsize > 0) {
		int w = snprintf(path + at, (size_t)(pathsize - at), "%s%s", at ? "." : "",
		                 f->name ? f->name : "");
		end = (w < 0 || at + w >= pathsize) ? pathsize - 1 : at + w;
	}
	if (f->id == id)
		return f;
	const ice_field *r = find_in_type(f->type, id, path, pathsize, end, depth);
	if (!r && path && pathsize > 0)
		path[at] = '\0';
	return r;
}

const ice_field *ice_schema_find_id(const ice_schema *s, int32_t id, char *path, int pathsize)
{
	if (path && pathsize > 0)
		path[0] = '\0';
	for (int i = 0; s && i < s->nfields; i++) {
		const ice_field *r = find_in_field(&s->fields[i], id, path, pathsize, 0, 0);
		if (r)
			return r;
	}
	return NULL;
}

const ice_field *ice_schema_find_name(const ice_schema *s, const char *name)
{
	for (int i = 0; s && name && i < s->nfields; i++)
		if (strcmp(s->fields[i].name, name) == 0)
			return &s->fields[i];
	return NULL;
}

static int32_t max_id_field(const ice_field *f, int depth);

static int32_t max_id_type(const ice_type *t, int depth)
{
	int32_t m = INT32_MIN, v;
	if (!t || depth > ICE_MAX_TYPE_DEPTH + 2)
		return m;
	switch (t->kind) {
	case ICE_STRUCT:
		for (int i = 0; i < t->nfields; i++)
			if ((v = max_id_field(&t->fields[i], depth + 1)) > m)
				m = v;
		break;
	case ICE_LIST:
		m = max_id_field(&t->element, depth + 1);
		break;
	case ICE_MAP:
		m = max_id_field(&t->key, depth + 1);
		if ((v = max_id_field(&t->value, depth + 1)) > m)
			m = v;
		break;
	default:
		break;
	}
	return m;
}

static int32_t max_id_field(const ice_field *f, int depth)
{
	int32_t v = max_id_type(f->type, depth);
	return v > f->id ? v : f->id;
}

int32_t ice_schema_max_id(const ice_schema *s)
{
	int32_t m = 0, v;
	for (int i = 0; s && i < s->nfields; i++)
		if ((v = max_id_field(&s->fields[i], 0)) > m)
			m = v;
	return m;
}

int ice_schema_to_floe(floe_schema **out, const ice_schema *s, floe_arena *arena,
                       floe_error *err)
{
	*out = NULL;
	if (!s)
		return floe_error_set(err, FLOE_EINVALID, "no schema");
	floe_schema *fs = floe_arena_calloc(arena, 1, sizeof *fs);
	floe_field *fields = floe_arena_calloc(arena, s->nfields ? (size_t)s->nfields : 1,
	                                       sizeof *fields);
	if (!fs || !fields)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	int n = 0;
	for (int i = 0; i < s->nfields; i++) {
		const ice_field *f = &s->fields[i];
		if (!f->type || f->type->kind != ICE_PRIMITIVE)
			continue;
		fields[n].name = floe_arena_strdup(arena, f->name);
		if (!fields[n].name)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		fields[n].type = f->type->prim;
		fields[n].required = f->required;
		fields[n].field_id = f->id;
		n++;
	}
	fs->nfields = n;
	fs->fields = fields;
	*out = fs;
	return 0;
}
