/* iceberg/table_int.h - what the table modules (table.c, table_append.c,
 * table_scan.c, table_alter.c) share: the table handle, path mapping and
 * the commit loop. Internal. */
#ifndef FLOE_ICEBERG_TABLE_INT_H
#define FLOE_ICEBERG_TABLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "floe/table.h"
#include "iceberg/manifest.h"
#include "iceberg/metadata.h"

/* The arena holding one parse of the metadata, shared by the table handle
 * and the appends begun on it (so a refresh does not pull the metadata
 * out from under an append in progress). */
typedef struct ice_meta_ref {
	floe_arena *arena;
	int refs;
} ice_meta_ref;

/* Take / drop a reference; the arena is freed with the last one. */
ice_meta_ref *ice_meta_ref_take(ice_meta_ref *r);
void ice_meta_ref_drop(ice_meta_ref *r);

struct floe_table {
	floe_catalog *cat;        /* NULL for a foreign table */
	char *ident;              /* "ns.table" or the metadata path */
	floe_ident id;            /* catalog tables */
	floe_arena *arena;        /* holds meta and everything derived from it */
	ice_meta_ref *mref;       /* owns `arena` */
	ice_table_metadata *meta;
	char *metadata_location;  /* malloc'ed */
	floe_schema *schema;      /* current schema, flat (in arena) */
	char **map_from, **map_to;
	int nmaps;
	floe_snapshot_info *snaps;/* built on demand (in arena) */
	int nsnaps;
	struct ice_mcache *mcache;/* decoded manifests for scans (table_cache.c) */
	int64_t mcache_limit;     /* its budget in bytes; 0 = no caching */
};

/* Manifest lists and manifests decoded once per table handle for its
 * scans, when floe_table_cache_manifests turned it on (table_cache.c). */
typedef struct ice_mcache ice_mcache;

/* The manifest list of `snap` for planning a scan: from the cache, with
 * *hold set to the cache generation the caller must keep (and drop with
 * ice_mcache_drop) while it uses what the plan returned; else read into
 * `arena` with *hold = NULL. */
int ice_table_plan_manifests(floe_table *t, const ice_snapshot *snap, floe_arena *arena,
                             ice_mcache **hold, ice_manifest_file **out, size_t *n,
                             floe_error *err);
/* The entries of manifest `mf` (at local path `local`) from `hold`'s
 * generation, or read into `arena` when hold is NULL or full. */
int ice_table_plan_manifest(floe_table *t, ice_mcache *hold, const ice_manifest_file *mf,
                            const char *local, floe_arena *arena, ice_manifest_entry **out,
                            size_t *n, floe_error *err);
void ice_mcache_drop(ice_mcache *c);

/* The local path of a path the table names: path maps applied, then a
 * "file:" scheme removed. Returns buf, or NULL when it does not fit. */
const char *ice_table_local_path(const floe_table *t, const char *path, char *buf,
                                 size_t size);

/* A change to the table: given the current metadata `base`, build the new
 * metadata in `arena` (it may point into base, which lives until the
 * commit ends). Returns 0, or FLOE_ECONFLICT when the change cannot apply
 * on this base, or another error. `attempt` counts from 0. */
typedef int (*ice_update_fn)(void *ctx, const floe_table *t, const ice_table_metadata *base,
                             int attempt, floe_arena *arena, ice_table_metadata **out,
                             floe_error *err);
/* Undo what a failed attempt wrote (files never referenced by a committed
 * metadata file); called after a conflict. May be NULL. */
typedef void (*ice_cleanup_fn)(void *ctx);

/* Build, write and swap in new metadata, retrying on FLOE_ECONFLICT from
 * the catalog after a refresh (up to commit.retry.num-retries, default
 * 100, with short random waits). On FLOE_ECOMMIT_UNKNOWN nothing is
 * deleted. On success t->meta is the committed metadata. */
int ice_table_commit(floe_table *t, ice_update_fn fn, ice_cleanup_fn cleanup, void *ctx,
                     floe_error *err);

/* Read the manifest list of `snap` (or synthesize it for a v1 snapshot that
 * lists manifests) into `arena`. */
int ice_table_snapshot_manifests(const floe_table *t, const ice_snapshot *snap,
                                 floe_arena *arena, ice_manifest_file **out, size_t *n,
                                 floe_error *err);

/* Resolve a snapshot selection: *out NULL when the table has no snapshot
 * (CURRENT only); errors name what was asked for. */
int ice_table_select(const floe_table *t, const floe_snapshot_sel *sel,
                     const ice_snapshot **out, floe_error *err);

/* A new random positive snapshot id. */
int64_t ice_new_snapshot_id(void);

/* Partition result types of `spec` over `schema` into `arena`. */
int ice_partition_types(const ice_partition_spec *spec, const ice_schema *schema,
                        floe_arena *arena, floe_type **out, floe_error *err);

/* "name=value/name=value" partition path of a tuple (URL-escaped values). */
int ice_partition_path(floe_buf *out, const ice_partition_spec *spec, const ice_datum *values,
                       int n);

/* Order of two partition tuples (NULL first, values in Iceberg's order,
 * then the shorter first), for grouping files by partition. */
int ice_partition_compare(const ice_datum *a, int na, const ice_datum *b, int nb);

/* Whether the current schema has a struct, list or map column (row-level
 * rewrites and compaction cannot carry those yet). */
bool ice_schema_has_nested(const ice_table_metadata *m);

/* The data directory of the table (write.data.path, else LOCATION/data)
 * into buf; FLOE_EINVALID when it does not fit. */
int ice_table_data_dir(const ice_table_metadata *m, char *buf, size_t size, floe_error *err);

/* Integer table property with a default. */
int64_t ice_table_prop_int(const ice_table_metadata *m, const char *key, int64_t dflt);

/* Column `src` converted to type `dt` (the same, or a widening: int ->
 * long, float -> double, decimal precision) in `arena`; FLOE_EINVALID for
 * other type pairs. */
int ice_column_widen(floe_arena *arena, const floe_column *src, const floe_type *dt, int64_t n,
                     floe_column *out, floe_error *err);

/* For row-level operations that write rows through an append but commit
 * them themselves: close every file, make them durable and hand out their
 * manifest entries (owned by `a`). */
int ice_append_finish(floe_append *a, const ice_manifest_entry **entries, size_t *n,
                      floe_error *err);
/* `b` shaped as the table's rows (columns matched by name and widened as
 * floe_append_batch does; schema = the table's flat schema with field ids),
 * copied into `arena`. */
int ice_append_map(floe_append *a, const floe_batch *b, floe_arena *arena, floe_batch *out,
                   floe_error *err);
/* Add data file `f` (read at `local`) to the append by copying its row
 * groups as they are (floe_parquet_writer_copy) into the file being written
 * for its partition, when it is in the append's spec, its metrics are
 * complete and floe_parquet_can_copy agrees (row groups of at least
 * `min_row_group_bytes`); *copied says whether it was. Its rows count as
 * appended and its metrics are folded into the file's. */
int ice_append_copy_file(floe_append *a, const ice_data_file *f, const char *local,
                         int64_t min_row_group_bytes, bool *copied, floe_error *err);
/* Roll files at `bytes` instead of write.target-file-size-bytes. */
void ice_append_set_target(floe_append *a, int64_t bytes);
/* Free `a` keeping its files (they were committed). */
void ice_append_release(floe_append *a);

/* What a new snapshot changes, for its summary (spec "Snapshots",
 * optional summary fields; zero counters are left out). */
typedef struct ice_snapshot_change {
	const char *operation;       /* append, replace, overwrite, delete */
	int64_t snapshot_id;
	int64_t added_data_files, removed_data_files;
	int64_t added_delete_files, removed_delete_files;
	int64_t added_records, removed_records;
	int64_t added_size, removed_size;
	int64_t added_pos_deletes, removed_pos_deletes;
	int64_t added_eq_deletes, removed_eq_deletes;
	int64_t changed_partitions;
	const ice_kv *extra;         /* more summary entries (copied by pointer) */
	int nextra;
} ice_snapshot_change;

/* For a commit's update function: write the manifest list of `list` (new
 * manifests carry sequence number -1, filled in as the new one) to a fresh
 * path under the table's metadata folder (into list_path; "" when nothing
 * was written), and build metadata = `base` + the snapshot, current and on
 * main, with its log entry and summary (totals carried from the parent). */
int ice_commit_snapshot(const floe_table *t, const ice_table_metadata *base,
                        const ice_snapshot_change *c, const ice_manifest_file *list, size_t n,
                        int attempt, char *list_path, size_t list_path_size, floe_arena *arena,
                        ice_table_metadata **out, floe_error *err);

/* Paths of the files an attempt wrote (table_mmerge.c). */
typedef struct ice_paths {
	char **v;
	size_t n;
} ice_paths;

/* Add a copy of `path` to the ice_paths `paths` (an ice_mmerge_sink note). */
int ice_paths_note(void *paths, const char *path, floe_error *err);

/* Forget every path, removing the files first when `remove`. */
void ice_paths_forget(ice_paths *p, bool remove);

/* Manifests a commit writes while merging small ones (table_mmerge.c):
 * `note` is told each path before the file is written (so a failed
 * attempt can remove it); the counters add up what was merged. */
typedef struct ice_mmerge_sink {
	int (*note)(void *ctx, const char *path, floe_error *err);
	void *ctx;
	int64_t created, kept, replaced, entries;
} ice_mmerge_sink;

/* Rewrite the live entries of in[0..n) (one partition spec and content,
 * manifests of `base`) into new manifests of about `target` bytes for
 * snapshot `snapshot_id`: sorted by partition value, EXISTING with their
 * snapshot ids and sequence numbers, DELETED entries dropped. *out (in
 * `arena`) lists them with sequence number -1 (the new snapshot's). */
int ice_mmerge_write(const floe_table *t, const ice_table_metadata *base,
                     const ice_manifest_file *const *in, size_t n, int64_t target,
                     int64_t snapshot_id, ice_mmerge_sink *sink, floe_arena *arena,
                     ice_manifest_file **out, size_t *nout, floe_error *err);

/* The manifest list of a commit, merged as Iceberg's merge appends do:
 * unless commit.manifest-merge.enabled is false, every group of `list`
 * (same content and partition spec) with at least
 * commit.manifest.min-count-to-merge manifests (default 100) has its
 * inherited manifests smaller than commit.manifest.target-size-bytes
 * (default 8 MiB; two or more) merged by ice_mmerge_write. The commit's
 * own manifests (sequence number -1) are never rewritten. *out is `list`
 * itself when nothing was merged; else this commit's manifests, the merged
 * ones, then the others kept. */
int ice_mmerge_commit(const floe_table *t, const ice_table_metadata *base, int64_t snapshot_id,
                      const ice_manifest_file *list, size_t n, ice_mmerge_sink *sink,
                      floe_arena *arena, ice_manifest_file **out, size_t *nout, floe_error *err);

/* Add the spec's manifests-created/-kept/-replaced and entries-processed
 * summary fields when `sink` merged anything. */
int ice_mmerge_summary(const ice_mmerge_sink *sink, floe_arena *arena, const ice_kv **extra,
                       int *nextra, floe_error *err);

/* Scans for row-level operations (DELETE, UPDATE, MERGE): batches never
 * span two data files, and the positions, file and filter result of each
 * returned row are available. */
typedef struct ice_deletes ice_deletes; /* iceberg/deletes.h */

typedef struct ice_scan_ex {
	bool all_rows;     /* return every live row of the files the filter may
	                      match (the filter prunes files only) and report
	                      which rows match in ice_scan_matches */
	bool current_schema; /* read old snapshots with the current schema */
	/* read only the data files this accepts (NULL = all) */
	bool (*want_file)(void *ctx, const ice_data_file *f);
	void *ctx;
	/* the snapshot's delete files, already added (borrowed, NULL = the
	 * scan finds its own): delete files loaded by one scan stay loaded
	 * for the next scan given the same set */
	ice_deletes *deletes;
} ice_scan_ex;

/* Like floe_scan_open, with `ex`. Row groups and pages are never skipped
 * (positions count every row). */
int ice_scan_open_ex(floe_scan **out, floe_table *t, const floe_scan_options *o,
                     const ice_scan_ex *ex, floe_error *err);

/* Of the batch last returned: each row's position in its data file; the
 * filter's verdict per row (all_rows scans; 1 = matches); the data file,
 * its data sequence number and spec; whether deletes applied to it. */
const int64_t *ice_scan_positions(const floe_scan *s);
const uint8_t *ice_scan_matches(const floe_scan *s);
const ice_data_file *ice_scan_file(const floe_scan *s, int64_t *seq,
                                   const ice_partition_spec **spec, bool *has_deletes);

/* The snapshot the scan reads (NULL for an empty table). */
const ice_snapshot *ice_scan_snapshot(const floe_scan *s);

/* A column of `n` copies of datum `d` (NULLs when d->is_null; its type is
 * d->type) in `arena`. */
int ice_const_column(floe_arena *arena, const ice_datum *d, int64_t n, floe_column *out,
                     floe_error *err);

/* Order of row ra of `a` and row rb of `b` (columns of one type): NULL
 * first, numbers by value, strings and bytes unsigned byte-wise then
 * shorter first. */
int ice_cell_cmp(const floe_column *a, int64_t ra, const floe_column *b, int64_t rb);

/* Rows idx[0..n) of `src` as a new batch in `arena` (same schema). */
int ice_batch_gather(floe_arena *arena, const floe_batch *src, const int32_t *idx, int64_t n,
                     floe_batch *out, floe_error *err);

/* Set summary entry `key` (replacing an earlier one) in the extra entries
 * of a commit; keys floe computes itself are FLOE_EINVALID. Copies go in
 * `arena`. */
int ice_summary_extra_set(floe_arena *arena, const ice_kv **extra, int *nextra,
                          const char *key, const char *value, floe_error *err);

#endif
