/* iceberg/metadata_write.c - table metadata JSON writer: the model as
 * format-version 2 JSON (spec Appendix C), keys in the spec's field order,
 * ids as exact JSON integers; also schema / spec JSON for manifests.
 *
 * The text is written straight into a buffer, laid out as jansson's
 * json_dumps lays it out (JSON_INDENT(2), or JSON_COMPACT): a table keeps
 * every snapshot in each metadata file, and building a jansson document of
 * them first cost a commit more than writing the file did. jansson still
 * reads the JSON text the model keeps as it is (statistics, defaults). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <xxhash.h>

#include "iceberg/metadata.h"
#include "util/buf.h"
#include "util/text.h"

#define JW_MAX_DEPTH 1024 /* type_json stops at 200 levels of types, 3 each */

typedef struct jw {
	floe_buf b;
	bool indent;               /* JSON_INDENT(2); else JSON_COMPACT */
	int depth;                 /* open objects and arrays */
	bool items[JW_MAX_DEPTH];  /* the open container has an item already */
	bool bad;                  /* out of memory, invalid UTF-8, too deep */
} jw;

static void jw_raw(jw *w, const char *s, size_t n)
{
	if (!w->bad && floe_buf_append(&w->b, s, n) != 0)
		w->bad = true;
}

static void jw_newline(jw *w)
{
	if (!w->indent || w->bad)
		return;
	uint8_t *p = floe_buf_extend(&w->b, 1 + 2 * (size_t)w->depth);
	if (!p) {
		w->bad = true;
		return;
	}
	p[0] = '\n';
	memset(p + 1, ' ', 2 * (size_t)w->depth);
}

/* A string with the escapes jansson writes: \" \\ \b \f \n \r \t, other
 * control characters as \u00XX; UTF-8 is checked and otherwise kept. One
 * pass: room for the worst case is made first, then bytes go straight in. */
static void jw_str(jw *w, const char *str)
{
	if (w->bad)
		return;
	if (!str) {
		w->bad = true;
		return;
	}
	const uint8_t *s = (const uint8_t *)str;
	size_t n = strlen(str);
	uint8_t *o = floe_buf_extend(&w->b, 6 * n + 2);
	if (!o) {
		w->bad = true;
		return;
	}
	uint8_t *start = o;
	*o++ = '"';
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*o++ = c;
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t k = floe_utf8_seq(s + i, n - i);
			if (!k) {
				w->bad = true;
				return;
			}
			memcpy(o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		static const char hex[] = "0123456789ABCDEF";
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			memcpy(o, "u00", 3);
			o[3] = (uint8_t)hex[c >> 4];
			o[4] = (uint8_t)hex[c & 15];
			o += 5;
		}
		i++;
	}
	*o++ = '"';
	/* give back what the worst case reserved and was not used */
	w->b.len -= 6 * n + 2 - (size_t)(o - start);
}

/* Before a value in the open container (an array item or a key). */
static void jw_next(jw *w)
{
	if (w->depth > 0) {
		if (w->items[w->depth - 1])
			jw_raw(w, ",", 1);
		w->items[w->depth - 1] = true;
		jw_newline(w);
	}
}

static void jw_open(jw *w, char c)
{
	jw_raw(w, &c, 1);
	if (w->depth >= JW_MAX_DEPTH) {
		w->bad = true;
		return;
	}
	w->items[w->depth++] = false;
}

static void jw_close(jw *w, char c)
{
	if (w->depth == 0 || w->bad) {
		w->bad = true;
		return;
	}
	bool had = w->items[--w->depth];
	if (had)
		jw_newline(w);
	jw_raw(w, &c, 1);
}

static void jw_key(jw *w, const char *key)
{
	jw_next(w);
	jw_str(w, key);
	jw_raw(w, w->indent ? ": " : ":", w->indent ? 2 : 1);
}

static void jw_int(jw *w, int64_t v)
{
	char s[24];
	char *e = s + sizeof s, *p = e;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	jw_raw(w, p, (size_t)(e - p));
}

static void jw_bool(jw *w, bool v)
{
	jw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

/* key: value pairs in one line each. */
static void kv_int(jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_int(w, v);
}

static void kv_str(jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	jw_str(w, v);
}

/* A value jansson parsed from JSON text the model keeps. */
static void jw_json(jw *w, const json_t *v, int depth)
{
	if (!v || depth > 200) {
		w->bad = true;
		return;
	}
	const char *key;
	json_t *x;
	size_t i;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		jw_open(w, '{');
		json_object_foreach((json_t *)v, key, x) {
			jw_key(w, key);
			jw_json(w, x, depth + 1);
		}
		jw_close(w, '}');
		break;
	case JSON_ARRAY:
		jw_open(w, '[');
		json_array_foreach(v, i, x) {
			jw_next(w);
			jw_json(w, x, depth + 1);
		}
		jw_close(w, ']');
		break;
	case JSON_STRING: jw_str(w, json_string_value(v)); break;
	case JSON_INTEGER: jw_int(w, json_integer_value(v)); break;
	case JSON_TRUE: jw_bool(w, true); break;
	case JSON_FALSE: jw_bool(w, false); break;
	case JSON_NULL: jw_raw(w, "null", 4); break;
	case JSON_REAL: {
		/* jansson's own form of the number */
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		if (!s) {
			w->bad = true;
			return;
		}
		jw_raw(w, s, strlen(s));
		free(s);
		break;
	}
	default: w->bad = true;
	}
}

/* JSON text kept in the model, parsed again to be laid out in place. */
static void jw_json_text(jw *w, const char *text, bool array)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	if (!v || (array && !json_is_array(v)))
		w->bad = true;
	else
		jw_json(w, v, 0);
	json_decref(v);
}

static void type_json(jw *w, const ice_type *t, int depth);

/* A struct field; list element / map key, value are written by type_json. */
static void field_json(jw *w, const ice_field *f, int depth)
{
	jw_open(w, '{');
	kv_int(w, "id", f->id);
	kv_str(w, "name", f->name);
	jw_key(w, "required");
	jw_bool(w, f->required);
	jw_key(w, "type");
	type_json(w, f->type, depth + 1);
	if (f->doc)
		kv_str(w, "doc", f->doc);
	if (f->initial_default_json) {
		jw_key(w, "initial-default");
		jw_json_text(w, f->initial_default_json, false);
	}
	if (f->write_default_json) {
		jw_key(w, "write-default");
		jw_json_text(w, f->write_default_json, false);
	}
	jw_close(w, '}');
}

static void fields_json(jw *w, const ice_field *fields, int n, int depth)
{
	jw_open(w, '[');
	for (int i = 0; i < n; i++) {
		jw_next(w);
		field_json(w, &fields[i], depth);
	}
	jw_close(w, ']');
}

/* Appendix C "Schemas": primitives as strings, nested types as objects. */
static void type_json(jw *w, const ice_type *t, int depth)
{
	char buf[64];
	if (!t || depth > 200) {
		w->bad = true;
		return;
	}
	switch (t->kind) {
	case ICE_PRIMITIVE:
		if (t->prim.id == FLOE_TYPE_JSON)
			w->bad = true; /* not an Iceberg type */
		else
			jw_str(w, floe_type_format(&t->prim, buf, (int)sizeof buf));
		return;
	case ICE_STRUCT:
		jw_open(w, '{');
		kv_str(w, "type", "struct");
		jw_key(w, "fields");
		fields_json(w, t->fields, t->nfields, depth);
		jw_close(w, '}');
		return;
	case ICE_LIST:
		jw_open(w, '{');
		kv_str(w, "type", "list");
		kv_int(w, "element-id", t->element.id);
		jw_key(w, "element");
		type_json(w, t->element.type, depth + 1);
		jw_key(w, "element-required");
		jw_bool(w, t->element.required);
		jw_close(w, '}');
		return;
	case ICE_MAP:
		jw_open(w, '{');
		kv_str(w, "type", "map");
		kv_int(w, "key-id", t->key.id);
		jw_key(w, "key");
		type_json(w, t->key.type, depth + 1);
		kv_int(w, "value-id", t->value.id);
		jw_key(w, "value");
		type_json(w, t->value.type, depth + 1);
		jw_key(w, "value-required");
		jw_bool(w, t->value.required);
		jw_close(w, '}');
		return;
	default: w->bad = true;
	}
}

static void schema_json(jw *w, const ice_schema *s)
{
	jw_open(w, '{');
	kv_str(w, "type", "struct");
	kv_int(w, "schema-id", s->schema_id);
	if (s->nidentifier > 0) {
		jw_key(w, "identifier-field-ids");
		jw_open(w, '[');
		for (int i = 0; i < s->nidentifier; i++) {
			jw_next(w);
			jw_int(w, s->identifier_field_ids[i]);
		}
		jw_close(w, ']');
	}
	jw_key(w, "fields");
	fields_json(w, s->fields, s->nfields, 0);
	jw_close(w, '}');
}

static void transform_json(jw *w, const char *key, const ice_transform *t)
{
	char buf[64];
	kv_str(w, key, ice_transform_format(t, buf, (int)sizeof buf));
}

static void spec_fields_json(jw *w, const ice_partition_spec *spec)
{
	jw_open(w, '[');
	for (int i = 0; i < spec->nfields; i++) {
		const ice_partition_field *f = &spec->fields[i];
		jw_next(w);
		jw_open(w, '{');
		kv_str(w, "name", f->name);
		transform_json(w, "transform", &f->transform);
		kv_int(w, "source-id", f->source_id);
		kv_int(w, "field-id", f->field_id);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void sort_order_json(jw *w, const ice_sort_order *so)
{
	jw_open(w, '{');
	kv_int(w, "order-id", so->order_id);
	jw_key(w, "fields");
	jw_open(w, '[');
	for (int i = 0; i < so->nfields; i++) {
		const ice_sort_field *f = &so->fields[i];
		jw_next(w);
		jw_open(w, '{');
		transform_json(w, "transform", &f->transform);
		kv_int(w, "source-id", f->source_id);
		kv_str(w, "direction", f->descending ? "desc" : "asc");
		kv_str(w, "null-order", f->nulls_first ? "nulls-first" : "nulls-last");
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

/* Key `i` of a kv list appeared before. */
static bool kv_seen(const ice_kv *kv, int i)
{
	for (int j = 0; j < i; j++)
		if (kv[j].key && kv[i].key && strcmp(kv[j].key, kv[i].key) == 0)
			return true;
	return false;
}

/* A kv list has a key twice; checked by hashes first, as a snapshot's
 * summary (a dozen keys or more) is written for every snapshot kept. */
static bool kv_repeats(const ice_kv *kv, int n)
{
	uint64_t h[64];
	if (n > 64)
		return true; /* the careful path */
	for (int i = 0; i < n; i++) {
		h[i] = kv[i].key ? XXH3_64bits(kv[i].key, strlen(kv[i].key)) : 0;
		for (int j = 0; j < i; j++)
			if (h[j] == h[i])
				return true;
	}
	return false;
}

/* A JSON object has each key once: a key given twice is written where it
 * first came, with the last value given for it. */
static void kv_json(jw *w, const ice_kv *kv, int n)
{
	bool repeats = kv_repeats(kv, n);
	jw_open(w, '{');
	for (int i = 0; i < n; i++) {
		int last = i;
		if (repeats) {
			if (kv_seen(kv, i))
				continue;
			for (int j = i + 1; j < n; j++)
				if (kv[j].key && kv[i].key && strcmp(kv[j].key, kv[i].key) == 0)
					last = j;
		}
		kv_str(w, kv[i].key, kv[last].value);
	}
	jw_close(w, '}');
}

/* Snapshot keys in Appendix C order. */
static void snapshot_json(jw *w, const ice_snapshot *s)
{
	jw_open(w, '{');
	kv_int(w, "snapshot-id", s->snapshot_id);
	if (s->has_parent)
		kv_int(w, "parent-snapshot-id", s->parent_id);
	kv_int(w, "sequence-number", s->sequence_number);
	kv_int(w, "timestamp-ms", s->timestamp_ms);
	if (s->nsummary > 0) {
		jw_key(w, "summary");
		kv_json(w, s->summary, s->nsummary);
	}
	if (s->manifest_list) {
		kv_str(w, "manifest-list", s->manifest_list);
	} else {
		/* v1 inline manifests: written as held (no manifest list exists). */
		jw_key(w, "manifests");
		jw_open(w, '[');
		for (int i = 0; i < s->nmanifests; i++) {
			jw_next(w);
			jw_str(w, s->manifests[i]);
		}
		jw_close(w, ']');
	}
	if (s->has_schema_id)
		kv_int(w, "schema-id", s->schema_id);
	jw_close(w, '}');
}

static void ref_json(jw *w, const ice_ref *r)
{
	jw_open(w, '{');
	kv_int(w, "snapshot-id", r->snapshot_id);
	kv_str(w, "type", r->is_tag ? "tag" : "branch");
	if (r->max_ref_age_ms >= 0)
		kv_int(w, "max-ref-age-ms", r->max_ref_age_ms);
	if (r->max_snapshot_age_ms >= 0)
		kv_int(w, "max-snapshot-age-ms", r->max_snapshot_age_ms);
	if (r->min_snapshots_to_keep >= 0)
		kv_int(w, "min-snapshots-to-keep", r->min_snapshots_to_keep);
	jw_close(w, '}');
}

/* Refs by name, each name once where it first came, with its last ref. */
static void refs_json(jw *w, const ice_ref *refs, int n)
{
	jw_open(w, '{');
	for (int i = 0; i < n; i++) {
		if (!refs[i].name) {
			w->bad = true;
			break;
		}
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = strcmp(refs[j].name, refs[i].name) == 0;
		if (seen)
			continue;
		int last = i;
		for (int j = i + 1; j < n; j++)
			if (refs[j].name && strcmp(refs[j].name, refs[i].name) == 0)
				last = j;
		jw_key(w, refs[i].name);
		ref_json(w, &refs[last]);
	}
	jw_close(w, '}');
}

/* The text of `w` handed out, NUL-terminated; or the error. */
static int jw_finish(jw *w, char **out, size_t *len, const char *what, floe_error *err)
{
	if (!w->bad && floe_buf_putc(&w->b, 0) != 0)
		w->bad = true;
	if (w->bad || w->depth != 0) {
		floe_buf_free(&w->b);
		return floe_error_set(err, FLOE_EINVALID,
		                      "cannot write %s (out of memory, or a value with no JSON "
		                      "form: a string that is not UTF-8, a type Iceberg lacks)",
		                      what);
	}
	*out = (char *)w->b.data;
	if (len)
		*len = w->b.len - 1;
	return 0;
}

int ice_metadata_write(char **out, size_t *len, const ice_table_metadata *m, floe_error *err)
{
	*out = NULL;
	if (len)
		*len = 0;
	if (!m)
		return floe_error_set(err, FLOE_EINVALID, "no table metadata to write");
	/* v2 requires these (spec "Table Metadata Fields"); the writer does not
	 * invent them. */
	if (!m->table_uuid || !m->location)
		return floe_error_set(err, FLOE_EINVALID,
		                      "table metadata v2 needs table-uuid and location");
	if (m->nschemas < 1 || m->nspecs < 1 || m->nsort_orders < 1)
		return floe_error_set(err, FLOE_EINVALID,
		                      "table metadata v2 needs a schema, a partition spec and "
		                      "a sort order");
	if (m->has_current_snapshot && !ice_metadata_ref(m, "main"))
		return floe_error_set(err, FLOE_EINVALID,
		                      "table metadata has a current snapshot but no 'main' ref");
	jw w = { .b = FLOE_BUF_INIT, .indent = true };
	/* about 700 bytes a snapshot with its logs */
	if (floe_buf_reserve(&w.b, 4096 + (size_t)m->nsnapshots * 768) != 0)
		w.bad = true;
	jw_open(&w, '{');
	kv_int(&w, "format-version", 2);
	kv_str(&w, "table-uuid", m->table_uuid);
	kv_str(&w, "location", m->location);
	kv_int(&w, "last-sequence-number", m->last_sequence_number);
	kv_int(&w, "last-updated-ms", m->last_updated_ms);
	kv_int(&w, "last-column-id", m->last_column_id);
	jw_key(&w, "schemas");
	jw_open(&w, '[');
	for (int i = 0; i < m->nschemas; i++) {
		jw_next(&w);
		schema_json(&w, &m->schemas[i]);
	}
	jw_close(&w, ']');
	kv_int(&w, "current-schema-id", m->current_schema_id);
	jw_key(&w, "partition-specs");
	jw_open(&w, '[');
	for (int i = 0; i < m->nspecs; i++) {
		jw_next(&w);
		jw_open(&w, '{');
		kv_int(&w, "spec-id", m->specs[i].spec_id);
		jw_key(&w, "fields");
		spec_fields_json(&w, &m->specs[i]);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	kv_int(&w, "default-spec-id", m->default_spec_id);
	kv_int(&w, "last-partition-id", m->last_partition_id);
	jw_key(&w, "properties");
	kv_json(&w, m->properties, m->nproperties);
	kv_int(&w, "current-snapshot-id", m->has_current_snapshot ? m->current_snapshot_id : -1);
	jw_key(&w, "snapshots");
	jw_open(&w, '[');
	for (int i = 0; i < m->nsnapshots; i++) {
		jw_next(&w);
		snapshot_json(&w, &m->snapshots[i]);
	}
	jw_close(&w, ']');
	jw_key(&w, "snapshot-log");
	jw_open(&w, '[');
	for (int i = 0; i < m->nsnapshot_log; i++) {
		jw_next(&w);
		jw_open(&w, '{');
		kv_int(&w, "timestamp-ms", m->snapshot_log[i].timestamp_ms);
		kv_int(&w, "snapshot-id", m->snapshot_log[i].snapshot_id);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_key(&w, "metadata-log");
	jw_open(&w, '[');
	for (int i = 0; i < m->nmetadata_log; i++) {
		jw_next(&w);
		jw_open(&w, '{');
		kv_int(&w, "timestamp-ms", m->metadata_log[i].timestamp_ms);
		kv_str(&w, "metadata-file", m->metadata_log[i].metadata_file);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_key(&w, "sort-orders");
	jw_open(&w, '[');
	for (int i = 0; i < m->nsort_orders; i++) {
		jw_next(&w);
		sort_order_json(&w, &m->sort_orders[i]);
	}
	jw_close(&w, ']');
	kv_int(&w, "default-sort-order-id", m->default_sort_order_id);
	jw_key(&w, "refs");
	refs_json(&w, m->refs, m->nrefs);
	if (m->statistics_json) {
		jw_key(&w, "statistics");
		jw_json_text(&w, m->statistics_json, true);
	}
	if (m->partition_statistics_json) {
		jw_key(&w, "partition-statistics");
		jw_json_text(&w, m->partition_statistics_json, true);
	}
	jw_close(&w, '}');
	return jw_finish(&w, out, len, "table metadata", err);
}

int ice_schema_to_json(char **out, const ice_schema *s, floe_error *err)
{
	*out = NULL;
	if (!s)
		return floe_error_set(err, FLOE_EINVALID, "no schema");
	jw w = { .b = FLOE_BUF_INIT, .indent = false };
	schema_json(&w, s);
	char what[48];
	snprintf(what, sizeof what, "schema %d as JSON", (int)s->schema_id);
	return jw_finish(&w, out, NULL, what, err);
}

int ice_spec_fields_to_json(char **out, const ice_partition_spec *spec, floe_error *err)
{
	*out = NULL;
	if (!spec)
		return floe_error_set(err, FLOE_EINVALID, "no partition spec");
	jw w = { .b = FLOE_BUF_INIT, .indent = false };
	spec_fields_json(&w, spec);
	return jw_finish(&w, out, NULL, "partition spec", err);
}
