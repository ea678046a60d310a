/* iceberg/metadata.h - the table metadata model (spec "Table Metadata"):
 * schemas with nested types and field ids, partition specs, sort orders,
 * snapshots, refs, logs and properties; parsed from v1 and v2 JSON (plain
 * or gzip-compressed) and written as v2 JSON with 64-bit ids intact.
 * Everything of one parse lives in one arena. Internal. */
#ifndef FLOE_ICEBERG_METADATA_H
#define FLOE_ICEBERG_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/error.h"
#include "floe/schema.h"
#include "iceberg/transform.h"

/* ---- schemas ---------------------------------------------------------- */

typedef enum ice_kind {
	ICE_PRIMITIVE = 1,
	ICE_STRUCT,
	ICE_LIST,
	ICE_MAP
} ice_kind;

typedef struct ice_type ice_type;

typedef struct ice_field {
	int32_t id;
	const char *name;   /* list element: "element"; map: "key", "value" */
	bool required;
	const ice_type *type;
	const char *doc;    /* NULL when absent */
	const char *initial_default_json; /* compact JSON or NULL (v3) */
	const char *write_default_json;   /* compact JSON or NULL (v3) */
} ice_field;

struct ice_type {
	ice_kind kind;
	floe_type prim;      /* PRIMITIVE */
	int nfields;         /* STRUCT */
	ice_field *fields;
	ice_field element;   /* LIST: id, required (element-required), type */
	ice_field key;       /* MAP: key-id, type (always required) */
	ice_field value;     /* MAP: value-id, required (value-required), type */
};

typedef struct ice_schema {
	int32_t schema_id;
	int nfields;               /* the top-level struct */
	ice_field *fields;
	int nidentifier;
	int32_t *identifier_field_ids;
} ice_schema;

/* ---- partition specs and sort orders ---------------------------------- */

typedef struct ice_partition_field {
	int32_t source_id;
	int32_t field_id;   /* v1 specs without ids: 1000, 1001, ... */
	const char *name;
	ice_transform transform;
} ice_partition_field;

typedef struct ice_partition_spec {
	int32_t spec_id;
	int nfields;
	ice_partition_field *fields;
} ice_partition_spec;

typedef struct ice_sort_field {
	ice_transform transform;
	int32_t source_id;
	bool descending;   /* "direction": "desc" */
	bool nulls_first;  /* "null-order": "nulls-first" */
} ice_sort_field;

typedef struct ice_sort_order {
	int32_t order_id;
	int nfields;
	ice_sort_field *fields;
} ice_sort_order;

/* ---- snapshots, refs, logs -------------------------------------------- */

typedef struct ice_kv {
	const char *key;
	const char *value;
} ice_kv;

typedef struct ice_snapshot {
	int64_t snapshot_id;
	bool has_parent;
	int64_t parent_id;
	int64_t sequence_number;   /* 0 in v1 */
	int64_t timestamp_ms;
	const char *manifest_list; /* NULL for v1 snapshots with "manifests" */
	int nmanifests;            /* v1 "manifests" (paths), else 0 */
	const char **manifests;
	int nsummary;              /* "summary", "operation" first */
	ice_kv *summary;
	bool has_schema_id;
	int32_t schema_id;
} ice_snapshot;

typedef struct ice_ref {
	const char *name;
	int64_t snapshot_id;
	bool is_tag;                 /* "type": "tag" (else "branch") */
	int64_t max_ref_age_ms;      /* -1 when absent */
	int64_t max_snapshot_age_ms; /* -1 when absent (branches) */
	int32_t min_snapshots_to_keep; /* -1 when absent (branches) */
} ice_ref;

typedef struct ice_snapshot_log_entry {
	int64_t timestamp_ms;
	int64_t snapshot_id;
} ice_snapshot_log_entry;

typedef struct ice_metadata_log_entry {
	int64_t timestamp_ms;
	const char *metadata_file;
} ice_metadata_log_entry;

/* ---- the table -------------------------------------------------------- */

typedef struct ice_table_metadata {
	int format_version;          /* 1 or 2 (3 parsed where it is v2-shaped) */
	const char *table_uuid;
	const char *location;
	int64_t last_sequence_number;
	int64_t last_updated_ms;
	int32_t last_column_id;
	int nschemas;
	ice_schema *schemas;
	int32_t current_schema_id;
	int nspecs;
	ice_partition_spec *specs;
	int32_t default_spec_id;
	int32_t last_partition_id;
	int nproperties;
	ice_kv *properties;
	bool has_current_snapshot;   /* false for -1 / null / absent */
	int64_t current_snapshot_id;
	int nsnapshots;
	ice_snapshot *snapshots;
	int nsnapshot_log;
	ice_snapshot_log_entry *snapshot_log;
	int nmetadata_log;
	ice_metadata_log_entry *metadata_log;
	int nsort_orders;
	ice_sort_order *sort_orders;
	int32_t default_sort_order_id;
	int nrefs;
	ice_ref *refs;
	/* "statistics" and "partition-statistics" kept as compact JSON text
	 * (NULL when absent) and written back unchanged. */
	const char *statistics_json;
	const char *partition_statistics_json;
} ice_table_metadata;

/* Parse metadata JSON (`name` for messages). v1: "schema" and
 * "partition-spec" are accepted in place of "schemas"/"partition-specs"
 * (ids 0), missing last-sequence-number is 0, missing sort orders mean
 * the unsorted order 0, partition fields without ids get 1000+. v2 requires
 * the fields the spec marks required in v2. Integers are read as int64
 * exactly. Errors: FLOE_ECORRUPT "NAME: invalid table metadata: why"
 * (missing required field, wrong type, current-schema-id / default-spec-id
 * / default-sort-order-id / current-snapshot-id / a ref naming something
 * absent, unknown primitive type), FLOE_EUNSUPPORTED for format-version > 3. */
int ice_metadata_parse(ice_table_metadata **out, floe_arena *arena, const char *json,
                       size_t len, const char *name, floe_error *err);

/* Read and parse a metadata file; gzip-compressed content (by its magic
 * bytes, whatever the name) is inflated first. */
int ice_metadata_read_file(ice_table_metadata **out, floe_arena *arena, const char *path,
                           floe_error *err);

/* Deep copy of `m` into `arena`: nothing of the copy points into `m`'s
 * memory. FLOE_ENOMEM when the arena cannot grow. */
int ice_metadata_copy(ice_table_metadata **out, floe_arena *arena, const ice_table_metadata *m);

/* Write `m` as format-version 2 JSON (fields in the spec's order, every v2
 * required field, ids as exact integers). *out is malloc'ed, NUL-terminated. */
int ice_metadata_write(char **out, size_t *len, const ice_table_metadata *m,
                       floe_error *err);

/* One schema / partition spec (the "fields" array) / type as compact JSON
 * (malloc'ed): used for manifest file metadata ("schema", "partition-spec"). */
int ice_schema_to_json(char **out, const ice_schema *s, floe_error *err);
int ice_spec_fields_to_json(char **out, const ice_partition_spec *spec, floe_error *err);

/* Parse one schema JSON object (as in "schemas") into `arena`. */
int ice_schema_parse_json(ice_schema **out, floe_arena *arena, const char *json, size_t len,
                          floe_error *err);

/* ---- lookups (NULL when absent) --------------------------------------- */

const ice_schema *ice_metadata_schema(const ice_table_metadata *m, int32_t schema_id);
const ice_schema *ice_metadata_current_schema(const ice_table_metadata *m);
const ice_partition_spec *ice_metadata_spec(const ice_table_metadata *m, int32_t spec_id);
const ice_partition_spec *ice_metadata_default_spec(const ice_table_metadata *m);
const ice_snapshot *ice_metadata_snapshot(const ice_table_metadata *m, int64_t snapshot_id);
const ice_snapshot *ice_metadata_current_snapshot(const ice_table_metadata *m);
const ice_ref *ice_metadata_ref(const ice_table_metadata *m, const char *name);
const char *ice_metadata_property(const ice_table_metadata *m, const char *key);
const char *ice_snapshot_summary(const ice_snapshot *s, const char *key);
/* The snapshot that was current at `timestamp_ms` (latest snapshot-log
 * entry at or before it; FLOE_ENOTFOUND naming the earliest time when the
 * table had no snapshot then). */
int ice_metadata_snapshot_as_of(const ice_table_metadata *m, int64_t timestamp_ms,
                                const ice_snapshot **out, floe_error *err);

/* Field of `s` with `id`, searched through nested types; NULL when absent.
 * `path` (may be NULL) receives the dotted name ("address.city"). */
const ice_field *ice_schema_find_id(const ice_schema *s, int32_t id, char *path, int pathsize);
/* Top-level field by name (case-sensitive); NULL when absent. */
const ice_field *ice_schema_find_name(const ice_schema *s, const char *name);
/* Highest field id used in `s` (nested included). */
int32_t ice_schema_max_id(const ice_schema *s);

/* The top-level primitive fields of `s` as a flat floe_schema (names, types,
 * required, field ids) in `arena`; nested fields are left out. */
int ice_schema_to_floe(floe_schema **out, const ice_schema *s, floe_arena *arena,
                       floe_error *err);

#endif
