/* iceberg/metadata_write.c - table metadata JSON writer: the model as
 * format-version 2 JSON (spec Appendix C), keys in the spec's field order,
 * ids as exact JSON integers; also schema / spec JSON for manifests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "iceberg/metadata.h"

/* Set obj[key] = v, taking v; false on NULL (out of memory). */
static bool put(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0;
}

static bool append(json_t *arr, json_t *v)
{
	return v && json_array_append_new(arr, v) == 0;
}

static json_t *type_json(const ice_type *t, int depth);

/* A struct field; list element / map key, value are written by type_json. */
static json_t *field_json(const ice_field *f, int depth)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	bool ok = put(o, "id", json_integer(f->id)) && put(o, "name", json_string(f->name)) &&
	          put(o, "required", json_boolean(f->required)) &&
	          put(o, "type", type_json(f->type, depth + 1));
	if (ok && f->doc)
		ok = put(o, "doc", json_string(f->doc));
	if (ok && f->initial_default_json)
		ok = put(o, "initial-default",
		         json_loads(f->initial_default_json, JSON_DECODE_ANY, NULL));
	if (ok && f->write_default_json)
		ok = put(o, "write-default",
		         json_loads(f->write_default_json, JSON_DECODE_ANY, NULL));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *fields_json(const ice_field *fields, int n, int depth)
{
	json_t *arr = json_array();
	for (int i = 0; arr && i < n; i++) {
		if (!append(arr, field_json(&fields[i], depth))) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* Appendix C "Schemas": primitives as strings, nested types as objects. */
static json_t *type_json(const ice_type *t, int depth)
{
	char buf[64];
	json_t *o;
	bool ok;
	if (!t || depth > 200)
		return NULL;
	switch (t->kind) {
	case ICE_PRIMITIVE:
		if (t->prim.id == FLOE_TYPE_JSON)
			return NULL; /* not an Iceberg type */
		return json_string(floe_type_format(&t->prim, buf, (int)sizeof buf));
	case ICE_STRUCT:
		o = json_object();
		ok = o && put(o, "type", json_string("struct")) &&
		     put(o, "fields", fields_json(t->fields, t->nfields, depth));
		break;
	case ICE_LIST:
		o = json_object();
		ok = o && put(o, "type", json_string("list")) &&
		     put(o, "element-id", json_integer(t->element.id)) &&
		     put(o, "element", type_json(t->element.type, depth + 1)) &&
		     put(o, "element-required", json_boolean(t->element.required));
		break;
	case ICE_MAP:
		o = json_object();
		ok = o && put(o, "type", json_string("map")) &&
		     put(o, "key-id", json_integer(t->key.id)) &&
		     put(o, "key", type_json(t->key.type, depth + 1)) &&
		     put(o, "value-id", json_integer(t->value.id)) &&
		     put(o, "value", type_json(t->value.type, depth + 1)) &&
		     put(o, "value-required", json_boolean(t->value.required));
		break;
	default:
		return NULL;
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *schema_json(const ice_schema *s)
{
	json_t *o = json_object();
	bool ok = o && put(o, "type", json_string("struct")) &&
	          put(o, "schema-id", json_integer(s->schema_id));
	if (ok && s->nidentifier > 0) {
		json_t *ids = json_array();
		for (int i = 0; ids && i < s->nidentifier; i++)
			if (!append(ids, json_integer(s->identifier_field_ids[i]))) {
				json_decref(ids);
				ids = NULL;
			}
		ok = put(o, "identifier-field-ids", ids);
	}
	ok = ok && put(o, "fields", fields_json(s->fields, s->nfields, 0));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *transform_json(const ice_transform *t)
{
	char buf[64];
	return json_string(ice_transform_format(t, buf, (int)sizeof buf));
}

static json_t *spec_fields_json(const ice_partition_spec *spec)
{
	json_t *arr = json_array();
	for (int i = 0; arr && i < spec->nfields; i++) {
		const ice_partition_field *f = &spec->fields[i];
		json_t *o = json_object();
		bool ok = o && put(o, "name", json_string(f->name)) &&
		          put(o, "transform", transform_json(&f->transform)) &&
		          put(o, "source-id", json_integer(f->source_id)) &&
		          put(o, "field-id", json_integer(f->field_id));
		if (!ok || !append(arr, o)) {
			if (!ok)
				json_decref(o);
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *sort_order_json(const ice_sort_order *so)
{
	json_t *o = json_object(), *arr = json_array();
	bool ok = o && arr;
	for (int i = 0; ok && i < so->nfields; i++) {
		const ice_sort_field *f = &so->fields[i];
		json_t *fo = json_object();
		ok = fo && put(fo, "transform", transform_json(&f->transform)) &&
		     put(fo, "source-id", json_integer(f->source_id)) &&
		     put(fo, "direction", json_string(f->descending ? "desc" : "asc")) &&
		     put(fo, "null-order",
		         json_string(f->nulls_first ? "nulls-first" : "nulls-last"));
		if (!ok || !append(arr, fo)) {
			if (!ok)
				json_decref(fo);
			ok = false;
		}
	}
	if (ok && put(o, "order-id", json_integer(so->order_id))) {
		ok = put(o, "fields", arr);
		arr = NULL;
	} else {
		ok = false;
	}
	json_decref(arr);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *kv_json(const ice_kv *kv, int n)
{
	json_t *o = json_object();
	for (int i = 0; o && i < n; i++)
		if (!put(o, kv[i].key, json_string(kv[i].value))) {
			json_decref(o);
			return NULL;
		}
	return o;
}

/* Snapshot keys in Appendix C order. */
static json_t *snapshot_json(const ice_snapshot *s)
{
	json_t *o = json_object();
	bool ok = o && put(o, "snapshot-id", json_integer(s->snapshot_id));
	if (ok && s->has_parent)
		ok = put(o, "parent-snapshot-id", json_integer(s->parent_id));
	ok = ok && put(o, "sequence-number", json_integer(s->sequence_number)) &&
	     put(o, "timestamp-ms", json_integer(s->timestamp_ms));
	if (ok && s->nsummary > 0)
		ok = put(o, "summary", kv_json(s->summary, s->nsummary));
	if (ok && s->manifest_list) {
		ok = put(o, "manifest-list", json_string(s->manifest_list));
	} else if (ok) {
		/* v1 inline manifests: written as held (no manifest list exists). */
		json_t *arr = json_array();
		for (int i = 0; arr && i < s->nmanifests; i++)
			if (!append(arr, json_string(s->manifests[i]))) {
				json_decref(arr);
				arr = NULL;
			}
		ok = put(o, "manifests", arr);
	}
	if (ok && s->has_schema_id)
		ok = put(o, "schema-id", json_integer(s->schema_id));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *ref_json(const ice_ref *r)
{
	json_t *o = json_object();
	bool ok = o && put(o, "snapshot-id", json_integer(r->snapshot_id)) &&
	          put(o, "type", json_string(r->is_tag ? "tag" : "branch"));
	if (ok && r->max_ref_age_ms >= 0)
		ok = put(o, "max-ref-age-ms", json_integer(r->max_ref_age_ms));
	if (ok && r->max_snapshot_age_ms >= 0)
		ok = put(o, "max-snapshot-age-ms", json_integer(r->max_snapshot_age_ms));
	if (ok && r->min_snapshots_to_keep >= 0)
		ok = put(o, "min-snapshots-to-keep", json_integer(r->min_snapshots_to_keep));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Build a JSON array of n items with `one(i)`; NULL on failure. */
#define BUILD_ARRAY(arr, n, expr)                                     \
	do {                                                          \
		(arr) = json_array();                                 \
		for (int i_ = 0; (arr) && i_ < (n); i_++) {           \
			int i = i_;                                   \
			(void)i;                                      \
			if (!append((arr), (expr))) {                 \
				json_decref(arr);                     \
				(arr) = NULL;                         \
			}                                             \
		}                                                     \
	} while (0)

static json_t *snapshot_log_json(const ice_snapshot_log_entry *e)
{
	json_t *o = json_object();
	if (o && put(o, "timestamp-ms", json_integer(e->timestamp_ms)) &&
	    put(o, "snapshot-id", json_integer(e->snapshot_id)))
		return o;
	json_decref(o);
	return NULL;
}

static json_t *metadata_log_json(const ice_metadata_log_entry *e)
{
	json_t *o = json_object();
	if (o && put(o, "timestamp-ms", json_integer(e->timestamp_ms)) &&
	    put(o, "metadata-file", json_string(e->metadata_file)))
		return o;
	json_decref(o);
	return NULL;
}

static json_t *spec_json(const ice_partition_spec *spec)
{
	json_t *o = json_object();
	if (o && put(o, "spec-id", json_integer(spec->spec_id)) &&
	    put(o, "fields", spec_fields_json(spec)))
		return o;
	json_decref(o);
	return NULL;
}

static int dump(char **out, size_t *len, json_t *root, size_t flags, floe_error *err)
{
	char *s = json_dumps(root, flags | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!s)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory writing JSON");
	*out = s;
	if (len)
		*len = strlen(s);
	return 0;
}

int ice_metadata_write(char **out, size_t *len, const ice_table_metadata *m, floe_error *err)
{
	json_t *root = NULL, *arr = NULL;
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
	root = json_object();
	bool ok = root && put(root, "format-version", json_integer(2)) &&
	          put(root, "table-uuid", json_string(m->table_uuid)) &&
	          put(root, "location", json_string(m->location)) &&
	          put(root, "last-sequence-number", json_integer(m->last_sequence_number)) &&
	          put(root, "last-updated-ms", json_integer(m->last_updated_ms)) &&
	          put(root, "last-column-id", json_integer(m->last_column_id));
	if (ok) {
		BUILD_ARRAY(arr, m->nschemas, schema_json(&m->schemas[i]));
		ok = put(root, "schemas", arr) &&
		     put(root, "current-schema-id", json_integer(m->current_schema_id));
	}
	if (ok) {
		BUILD_ARRAY(arr, m->nspecs, spec_json(&m->specs[i]));
		ok = put(root, "partition-specs", arr) &&
		     put(root, "default-spec-id", json_integer(m->default_spec_id)) &&
		     put(root, "last-partition-id", json_integer(m->last_partition_id)) &&
		     put(root, "properties", kv_json(m->properties, m->nproperties)) &&
		     put(root, "current-snapshot-id",
		         json_integer(m->has_current_snapshot ? m->current_snapshot_id : -1));
	}
	if (ok) {
		BUILD_ARRAY(arr, m->nsnapshots, snapshot_json(&m->snapshots[i]));
		ok = put(root, "snapshots", arr);
	}
	if (ok) {
		BUILD_ARRAY(arr, m->nsnapshot_log, snapshot_log_json(&m->snapshot_log[i]));
		ok = put(root, "snapshot-log", arr);
	}
	if (ok) {
		BUILD_ARRAY(arr, m->nmetadata_log, metadata_log_json(&m->metadata_log[i]));
		ok = put(root, "metadata-log", arr);
	}
	if (ok) {
		BUILD_ARRAY(arr, m->nsort_orders, sort_order_json(&m->sort_orders[i]));
		ok = put(root, "sort-orders", arr) &&
		     put(root, "default-sort-order-id", json_integer(m->default_sort_order_id));
	}
	if (ok) {
		json_t *refs = json_object();
		for (int i = 0; refs && i < m->nrefs; i++)
			if (!put(refs, m->refs[i].name, ref_json(&m->refs[i]))) {
				json_decref(refs);
				refs = NULL;
			}
		ok = put(root, "refs", refs);
	}
	if (ok && m->statistics_json) {
		json_t *v = json_loads(m->statistics_json, 0, NULL);
		ok = json_is_array(v) && put(root, "statistics", v);
		if (!ok)
			json_decref(v);
	}
	if (ok && m->partition_statistics_json) {
		json_t *v = json_loads(m->partition_statistics_json, 0, NULL);
		ok = json_is_array(v) && put(root, "partition-statistics", v);
		if (!ok)
			json_decref(v);
	}
	if (!ok) {
		json_decref(root);
		return floe_error_set(err, FLOE_EINVALID,
		                      "cannot write table metadata (out of memory, or a value "
		                      "with no JSON form)");
	}
	return dump(out, len, root, JSON_INDENT(2), err);
}

int ice_schema_to_json(char **out, const ice_schema *s, floe_error *err)
{
	*out = NULL;
	if (!s)
		return floe_error_set(err, FLOE_EINVALID, "no schema");
	json_t *o = schema_json(s);
	if (!o)
		return floe_error_set(err, FLOE_EINVALID, "cannot write schema %d as JSON",
		                      (int)s->schema_id);
	return dump(out, NULL, o, JSON_COMPACT, err);
}

int ice_spec_fields_to_json(char **out, const ice_partition_spec *spec, floe_error *err)
{
	*out = NULL;
	if (!spec)
		return floe_error_set(err, FLOE_EINVALID, "no partition spec");
	json_t *arr = spec_fields_json(spec);
	if (!arr)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory writing partition spec");
	return dump(out, NULL, arr, JSON_COMPACT, err);
}
