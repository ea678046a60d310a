/* iceberg/manifest.h - manifests and manifest lists (spec "Manifests",
 * "Manifest Lists"): Avro object container files with the spec's schemas
 * and field ids, written as format v2 (deflate) and read from v1 and v2
 * writers (missing fields defaulted, ints stored as longs accepted,
 * sequence numbers inherited). Internal. */
#ifndef FLOE_ICEBERG_MANIFEST_H
#define FLOE_ICEBERG_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/error.h"
#include "iceberg/metadata.h"
#include "iceberg/value.h"

enum {
	ICE_CONTENT_DATA = 0,
	ICE_CONTENT_POSITION_DELETES = 1,
	ICE_CONTENT_EQUALITY_DELETES = 2
};

enum {
	ICE_STATUS_EXISTING = 0,
	ICE_STATUS_ADDED = 1,
	ICE_STATUS_DELETED = 2
};

/* Metrics of one column of a data file; counts are -1 when absent, bounds
 * are the single-value serialization (iceberg/value.h), NULL when absent. */
typedef struct ice_column_metrics {
	int32_t field_id;
	int64_t column_size;
	int64_t value_count;
	int64_t null_count;
	int64_t nan_count;
	const uint8_t *lower;
	size_t lower_len;
	const uint8_t *upper;
	size_t upper_len;
} ice_column_metrics;

typedef struct ice_data_file {
	int content;                /* ICE_CONTENT_* (v1: DATA) */
	const char *file_path;
	const char *file_format;    /* "PARQUET", "AVRO", "ORC" (as written) */
	int32_t spec_id;            /* the manifest's partition-spec-id */
	int npartition;             /* one per field of that spec, in order */
	ice_datum *partition;       /* types = the transforms' result types */
	int64_t record_count;
	int64_t file_size_in_bytes;
	int nmetrics;               /* sorted by field_id */
	ice_column_metrics *metrics;
	int nsplit_offsets;
	int64_t *split_offsets;
	int nequality_ids;
	int32_t *equality_ids;
	bool has_sort_order_id;
	int32_t sort_order_id;
	const uint8_t *key_metadata; /* NULL when absent */
	size_t key_metadata_len;
	const char *referenced_data_file; /* v3 position deletes; NULL if absent */
} ice_data_file;

/* The metrics of column `field_id` in `f`, or NULL when it has none. */
const ice_column_metrics *ice_data_file_metrics(const ice_data_file *f, int32_t field_id);

typedef struct ice_manifest_entry {
	int status;                  /* ICE_STATUS_* */
	int64_t snapshot_id;         /* after inheritance */
	int64_t sequence_number;     /* data sequence number, after inheritance */
	int64_t file_sequence_number;/* after inheritance */
	ice_data_file file;
} ice_manifest_entry;

/* Partition field summary of a manifest (one per spec field). */
typedef struct ice_field_summary {
	bool contains_null;
	int contains_nan;            /* 1, 0, or -1 when absent */
	const uint8_t *lower;        /* single-value serialization or NULL */
	size_t lower_len;
	const uint8_t *upper;
	size_t upper_len;
} ice_field_summary;

/* One entry of a manifest list. */
typedef struct ice_manifest_file {
	const char *manifest_path;
	int64_t manifest_length;
	int32_t partition_spec_id;
	int content;                 /* 0 data, 1 deletes (v1: 0) */
	int64_t sequence_number;     /* v1: 0 */
	int64_t min_sequence_number; /* v1: 0 */
	int64_t added_snapshot_id;
	int32_t added_files_count;   /* -1 when absent (v1 optional) */
	int32_t existing_files_count;
	int32_t deleted_files_count;
	int64_t added_rows_count;
	int64_t existing_rows_count;
	int64_t deleted_rows_count;
	int npartitions;
	ice_field_summary *partitions; /* NULL when absent */
	const uint8_t *key_metadata;
	size_t key_metadata_len;
} ice_manifest_file;

/* What a manifest is written for. */
typedef struct ice_manifest_write_info {
	const ice_schema *schema;            /* the table schema written with it */
	const ice_partition_spec *spec;
	const floe_type *partition_types;    /* result type per spec field */
	int content;                         /* ICE_CONTENT_DATA or deletes (1) */
	int64_t snapshot_id;                 /* the committing snapshot */
	int64_t sequence_number;             /* its sequence number, or -1 to
	                                        leave ADDED entries' numbers
	                                        null for inheritance at commit */
} ice_manifest_write_info;

/* Write a v2 manifest of `n` entries to `path` (temp file + fsync +
 * rename), Avro schema with field ids per the spec (partition struct
 * "r102" with the spec's partition field ids and result types; metadata
 * keys schema, schema-id, partition-spec, partition-spec-id,
 * format-version "2", content "data"/"deletes"), deflate codec. ADDED
 * entries are written with snapshot_id = info->snapshot_id and null
 * sequence numbers when info->sequence_number is -1 (inherited), EXISTING
 * and DELETED entries keep theirs. Fills *out (may be NULL) for the
 * manifest list: path, length, counts, partition summaries (bounds
 * serialized per iceberg/value.h), min_sequence_number of the entries
 * (info->sequence_number for inherited ones). Strings in *out live in
 * `arena`. */
int ice_manifest_write(const char *path, const ice_manifest_write_info *info,
                       const ice_manifest_entry *entries, size_t n, floe_arena *arena,
                       ice_manifest_file *out, floe_error *err);

/* Read all entries of the manifest `mf` describes (its manifest_path).
 * Partition values are decoded with the result types of the spec
 * mf->partition_spec_id of `m` over m's current schema (when
 * mf->partition_spec_id is -1, as for v1 snapshots that list manifests
 * without a manifest list, the file's "partition-spec-id" metadata picks
 * the spec, default 0); the partition struct is matched by field id,
 * falling back to position; Avro ints are accepted for long types and
 * floats for doubles. Inheritance: a null snapshot_id takes
 * mf->added_snapshot_id; a null sequence number takes mf->sequence_number
 * (v1: 0); a null file sequence number likewise. `path_override` (NULL =
 * mf->manifest_path) is the local path to open. Entries live in `arena`.
 * `m` may be NULL (or lack the spec): partition types then come from the
 * file's own Avro schema (logical types, decimal precision/scale). */
int ice_manifest_read(const ice_manifest_file *mf, const char *path_override,
                      const ice_table_metadata *m, floe_arena *arena,
                      ice_manifest_entry **out, size_t *n, floe_error *err);

/* Write a v2 manifest list of `n` manifests (metadata keys snapshot-id,
 * parent-snapshot-id ("null" when none), sequence-number, format-version
 * "2"). Manifests whose sequence_number is -1 get `sequence_number`
 * (new manifests of this commit), likewise min_sequence_number. */
int ice_manifest_list_write(const char *path, int64_t snapshot_id, bool has_parent,
                            int64_t parent_id, int64_t sequence_number,
                            const ice_manifest_file *manifests, size_t n, floe_error *err);

/* Read a manifest list (v1 or v2) into `arena`. */
int ice_manifest_list_read(const char *path, floe_arena *arena, ice_manifest_file **out,
                           size_t *n, floe_error *err);

#endif
