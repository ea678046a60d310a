/* floe/meta.h - listings of a table's metadata as Iceberg's metadata tables
 * show it (Spark and Trino "snapshots", "history", "files", "manifests",
 * "partitions", "refs"): data and delete files with their column metrics
 * and typed partition values, manifests with partition summaries, refs,
 * and the snapshot log with ancestry. Snapshots themselves are listed by
 * floe_table_snapshots (floe/table.h). Used by the SQL metadata tables
 * (docs/sql-metadata.md) and by anything that wants the same facts. */
#ifndef FLOE_META_H
#define FLOE_META_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/error.h"
#include "floe/parquet.h" /* floe_value */
#include "floe/schema.h"
#include "floe/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One typed value: a partition value or a bound. `v` holds the storage of
 * floe_value for `type` (i for integers, dates, times, timestamps and
 * decimals up to 18 digits; d for float/double; b for boolean; bytes+len
 * for strings, binary, uuid, fixed and wider decimals). `text` is the
 * Iceberg "human string" (as in partition paths: ints in decimal, date
 * YYYY-MM-DD, timestamp YYYY-MM-DDTHH:MM:SS.ffffff[+00:00], binary in
 * base64, "null" for NULL). */
typedef struct floe_meta_value {
	floe_type type;
	bool is_null;
	floe_value v;
	const char *text;
} floe_meta_value;

/* A partition value with the partition field that holds it. */
typedef struct floe_meta_partition_value {
	const char *name;      /* partition field name ("ts_day") */
	int32_t field_id;      /* partition field id (1000, ...) */
	const char *transform; /* "day", "bucket[16]", "identity", ... */
	floe_meta_value value; /* of the transform's result type */
} floe_meta_partition_value;

/* Metrics of one column of a file (Iceberg's column_sizes, value_counts,
 * null_value_counts, nan_value_counts, lower_bounds, upper_bounds). */
typedef struct floe_meta_column {
	int32_t field_id;
	const char *name;      /* dotted path in the current schema, else in the
	                          newest schema that has the field; "file_path"
	                          and "pos" for the columns of position delete
	                          files; NULL when nothing names the id */
	int64_t column_size;   /* bytes; -1 when the file does not say */
	int64_t value_count;   /* -1 when absent */
	int64_t null_count;    /* -1 when absent */
	int64_t nan_count;     /* -1 when absent */
	bool has_lower, has_upper; /* false when absent or not decodable (a
	                          field nothing names, or a nested one) */
	floe_meta_value lower, upper; /* of the column's type (bounds of strings
	                          and binary may be truncated, as written) */
} floe_meta_column;

/* A live data or delete file of a snapshot. */
typedef struct floe_meta_file {
	floe_file_info info;        /* path, format, content, spec_id, partition
	                               path text, record_count, file_size, data
	                               sequence number (floe/table.h) */
	int64_t snapshot_id;        /* the snapshot that added the file */
	int64_t file_sequence_number;
	int npartition;
	const floe_meta_partition_value *partition; /* one per field of the spec */
	int ncolumns;
	const floe_meta_column *columns; /* sorted by field id */
	bool has_sort_order_id;
	int32_t sort_order_id;
	int nequality_ids;          /* equality delete files: the key field ids */
	const int32_t *equality_ids;
	int nsplit_offsets;
	const int64_t *split_offsets;
} floe_meta_file;

/* Everything in `f` is valid during the call only. */
typedef int (*floe_meta_file_fn)(void *ctx, const floe_meta_file *f, floe_error *err);

/* Call `fn` for every live data and delete file of the selected snapshot
 * (`sel` NULL = current), manifest by manifest in manifest-list order.
 * Nothing is called for a table without snapshots. A non-zero return from
 * `fn` stops the listing and is returned. */
int floe_meta_files(floe_table *t, const floe_snapshot_sel *sel, floe_meta_file_fn fn, void *ctx,
                    floe_error *err);

/* A manifest's summary of one partition field (manifest list
 * "partitions"). */
typedef struct floe_meta_field_summary {
	const char *name;      /* partition field name; NULL when the spec is
	                          unknown */
	bool contains_null;
	int contains_nan;      /* 1, 0, or -1 when the manifest does not say */
	bool has_lower, has_upper; /* false when absent or not decodable */
	floe_meta_value lower, upper; /* of the partition field's result type */
} floe_meta_field_summary;

/* One manifest of a snapshot's manifest list. Counts are -1 when the list
 * does not say (v1 writers). */
typedef struct floe_meta_manifest {
	const char *path;           /* as the table names it */
	int64_t length;             /* bytes; -1 when unknown */
	int content;                /* 0 data, 1 deletes */
	int32_t spec_id;            /* -1 when unknown (v1 inline manifests) */
	int64_t sequence_number;
	int64_t min_sequence_number;
	int64_t added_snapshot_id;
	int32_t added_files_count, existing_files_count, deleted_files_count;
	int64_t added_rows_count, existing_rows_count, deleted_rows_count;
	int npartitions;
	const floe_meta_field_summary *partitions; /* NULL when absent */
} floe_meta_manifest;

typedef int (*floe_meta_manifest_fn)(void *ctx, const floe_meta_manifest *m, floe_error *err);

/* Call `fn` for every manifest of the selected snapshot (`sel` NULL =
 * current), in manifest-list order; nothing for a table without
 * snapshots. A non-zero return from `fn` stops and is returned. */
int floe_meta_manifests(floe_table *t, const floe_snapshot_sel *sel, floe_meta_manifest_fn fn,
                        void *ctx, floe_error *err);

/* A branch or tag. */
typedef struct floe_meta_ref {
	const char *name;
	bool is_tag;
	int64_t snapshot_id;
	int64_t max_ref_age_ms;       /* -1 when unset */
	int32_t min_snapshots_to_keep;/* -1 when unset (branches only) */
	int64_t max_snapshot_age_ms;  /* -1 when unset (branches only) */
} floe_meta_ref;

/* The table's refs in metadata order ("main" is among them once the table
 * has a snapshot). *out is malloc'ed (caller frees; NULL when *n is 0);
 * the names belong to `t` and live until its next refresh or close. */
int floe_meta_refs(floe_table *t, floe_meta_ref **out, int *n, floe_error *err);

/* One change of the table's current snapshot (the metadata's
 * snapshot-log; for metadata without a log, each snapshot at its commit
 * time). */
typedef struct floe_meta_history_entry {
	int64_t made_current_ms;    /* epoch milliseconds */
	int64_t snapshot_id;
	bool has_parent;            /* false also when the snapshot has expired */
	int64_t parent_id;
	bool is_current_ancestor;   /* the current snapshot or one of its
	                               ancestors (by parent ids) */
} floe_meta_history_entry;

/* The snapshot log, oldest first. *out is malloc'ed (caller frees; NULL
 * when *n is 0). */
int floe_meta_history(floe_table *t, floe_meta_history_entry **out, int *n, floe_error *err);

#ifdef __cplusplus
}
#endif
#endif
