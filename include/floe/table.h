/* floe/table.h - Apache Iceberg v2 tables in a catalog: create, open (also a
 * foreign table from its metadata file), append with hidden partitioning,
 * pruned scans of any snapshot, schema and partition evolution, tags, drop.
 * Every change is one atomic commit (a compare-and-swap of the table's
 * metadata location in the catalog); concurrent appends are re-applied on
 * the new base, other conflicts fail with FLOE_ECONFLICT. */
#ifndef FLOE_TABLE_H
#define FLOE_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/batch.h"
#include "floe/catalog.h"
#include "floe/error.h"
#include "floe/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct floe_table floe_table;

typedef struct floe_table_create_options {
	const char *schema;     /* "name type [not null], ..." (floe/schema.h) */
	const char *partition;  /* "day(ts), bucket(16, symbol), truncate(4, s),
	                           identity(x) or x, year/month/hour(ts), void(x)";
	                           NULL or "" = unpartitioned */
	const char *sort;       /* "col [asc|desc] [nulls first|last], ..." or NULL */
	const char *identifier; /* "col, col" identifier fields or NULL */
	const char *const *properties; /* "key=value" strings */
	int nproperties;
	const char *location;   /* NULL = the catalog's default location; must lie
	                           inside the warehouse */
} floe_table_create_options;

/* Create table `ident` ("ns.table") with an empty first metadata file and
 * register it; the namespace is created when missing. *out may be NULL. */
int floe_table_create(floe_table **out, floe_catalog *cat, const char *ident,
                      const floe_table_create_options *opts, floe_error *err);

/* Open a catalog table at its current metadata. */
int floe_table_open(floe_table **out, floe_catalog *cat, const char *ident, floe_error *err);

/* Open a table without a catalog from its metadata file (plain or gzip).
 * `maps` holds "FROM=TO" prefix rewrites applied to every path the table
 * names (its location, manifest lists, manifests, data files), e.g.
 * "s3://bucket/wh=/data/wh". Read-only. */
int floe_table_open_metadata(floe_table **out, const char *metadata_path,
                             const char *const *maps, int nmaps, floe_error *err);

/* Reload the current metadata from the catalog. */
int floe_table_refresh(floe_table *t, floe_error *err);
void floe_table_close(floe_table *t);

/* Keep the manifest lists and manifests this handle's scans decode, up to
 * about `max_bytes` of decoded entries (then the oldest are let go all at
 * once), so repeated scans of the table (a query probing it once per row
 * of another) plan without reading them again; 0 turns it off, the
 * default. Metadata files are never rewritten in place, so what is kept
 * stays true across refreshes and commits. */
void floe_table_cache_manifests(floe_table *t, int64_t max_bytes);

/* Remove the table from the catalog; with `purge` also delete every file
 * under its location (which must lie inside the warehouse). */
int floe_table_drop(floe_catalog *cat, const char *ident, bool purge, floe_error *err);

/* ---- information ------------------------------------------------------ */

const char *floe_table_name(const floe_table *t);          /* "ns.table" */
const char *floe_table_location(const floe_table *t);
const char *floe_table_metadata_location(const floe_table *t);
/* Current schema: top-level primitive columns with field ids. */
const floe_schema *floe_table_schema(const floe_table *t);

/* The table as one pretty JSON document: identifier, location, format
 * version, current schema (nested types included), partition specs,
 * sort orders, properties, refs, current snapshot. malloc'ed. */
int floe_table_describe(char **out, floe_table *t, floe_error *err);

typedef struct floe_snapshot_info {
	int64_t snapshot_id;
	bool has_parent;
	int64_t parent_id;
	int64_t sequence_number;
	int64_t timestamp_ms;
	const char *operation;   /* "append", ... */
	const char *summary_json;/* the summary as a JSON object */
	const char *manifest_list; /* as the table names it; NULL for v1
	                              snapshots that list manifests inline */
	int32_t schema_id;       /* -1 when the snapshot does not say */
	bool is_current;
} floe_snapshot_info;

/* Snapshots in commit order; the array lives until the next refresh or
 * close. */
int floe_table_snapshots(floe_table *t, const floe_snapshot_info **out, int *n,
                         floe_error *err);

/* The summary value `key` of the newest snapshot in the current snapshot's
 * ancestry that has it (where stream positions are kept): malloc'ed into
 * *out, or NULL when no snapshot there has it. *snapshot_id (may be NULL)
 * gets the snapshot that holds it, or -1. */
int floe_table_find_summary(floe_table *t, const char *key, char **out, int64_t *snapshot_id,
                            floe_error *err);

/* ---- choosing a snapshot ---------------------------------------------- */

typedef enum floe_snapshot_select {
	FLOE_SNAPSHOT_CURRENT = 0,
	FLOE_SNAPSHOT_ID,        /* snapshot_id */
	FLOE_SNAPSHOT_AS_OF,     /* timestamp_ms: the one current at that time */
	FLOE_SNAPSHOT_REF        /* ref: a tag or branch name */
} floe_snapshot_select;

typedef struct floe_snapshot_sel {
	floe_snapshot_select kind;
	int64_t snapshot_id;
	int64_t timestamp_ms;
	const char *ref;
} floe_snapshot_sel;

/* ---- files ------------------------------------------------------------ */

typedef struct floe_file_info {
	const char *path;        /* as the table names it */
	const char *local_path;  /* after path maps */
	const char *format;      /* "PARQUET" */
	int content;             /* 0 data, 1 position deletes, 2 equality deletes */
	int32_t spec_id;
	const char *partition;   /* "ts_day=2024-01-02/symbol_bucket=3" or "" */
	int64_t record_count;
	int64_t file_size;
	int64_t sequence_number;
} floe_file_info;

typedef int (*floe_file_fn)(void *ctx, const floe_file_info *f, floe_error *err);

/* Call `fn` for every live file of the selected snapshot. */
int floe_table_files(floe_table *t, const floe_snapshot_sel *sel, floe_file_fn fn, void *ctx,
                     floe_error *err);

/* ---- append ----------------------------------------------------------- */

typedef struct floe_append floe_append;

/* Start an append. Batches are routed to partitions by the default spec's
 * transforms and written as Parquet data files of about the table's
 * write.target-file-size-bytes (default 512 MiB). */
int floe_append_begin(floe_append **out, floe_table *t, floe_error *err);

/* Add rows. Columns of `b` are matched to the table's columns by name
 * (exact, else ignoring case; by position when b->schema is NULL and the
 * counts agree), never by the batch's field ids, which belong to whatever
 * wrote the batch; an input column the table lacks is an error (no data
 * is dropped silently); table columns the batch lacks are NULL (an error for required ones); types must equal the table's or widen
 * to it (int -> long, float -> double, date -> timestamp is not a widening). */
int floe_append_batch(floe_append *a, const floe_batch *b, floe_error *err);

/* Extra snapshot summary entry (e.g. source positions); copied. */
int floe_append_set_summary(floe_append *a, const char *key, const char *value,
                            floe_error *err);

/* Rows added so far. */
int64_t floe_append_rows(const floe_append *a);

/* Close the data files and commit them as one "append" snapshot; frees
 * `a`. An append that loses a race re-applies itself on the new base (up
 * to the table's commit.retry.num-retries, default 100). On
 * FLOE_ECOMMIT_UNKNOWN nothing written is deleted. *snapshot_id (may be
 * NULL) gets the new snapshot; an append of no rows commits nothing and
 * sets it to the current snapshot (or -1). */
int floe_append_commit(floe_append *a, int64_t *snapshot_id, floe_error *err);

/* Abandon: delete the files written so far and free `a` (NULL allowed). */
void floe_append_abort(floe_append *a);

/* ---- scan ------------------------------------------------------------- */

typedef struct floe_scan_options {
	const char *const *columns; /* NULL = every column of the schema */
	int ncolumns;
	const char *where;          /* filter (docs/filters.md) or NULL */
	floe_snapshot_sel snapshot;
	int64_t batch_rows;         /* default 65536 */
	bool incremental;           /* only the rows appended after snapshot
	                               `from_snapshot_id` (exclusive) up to the
	                               selected one (inclusive); every snapshot
	                               in between must be an append
	                               (FLOE_EINVALID names the first that is
	                               not: read those with floe_changes) */
	int64_t from_snapshot_id;   /* < 0: from the table's first snapshot */
	bool positions;             /* report each row's data file and position
	                               (floe_scan_positions); batches then never
	                               span two files, and row groups are not
	                               skipped (positions count every row) */
	struct floe_scan *reuse;    /* a scan of the same table handle, done
	                               with: when this scan reads the file that
	                               one read last, with the same columns, it
	                               takes over the open file and what was
	                               decoded of it (floe_parquet_scan_restart).
	                               The caller still frees `reuse`, after
	                               floe_scan_open. NULL = none */
} floe_scan_options;

void floe_scan_options_init(floe_scan_options *o);

typedef struct floe_scan_stats {
	int64_t snapshot_id;        /* -1 for an empty table */
	int64_t manifests;          /* data manifests in the snapshot */
	int64_t manifests_skipped;  /* by partition summaries */
	int64_t files;              /* live data files in the manifests read */
	int64_t files_skipped;      /* by partition values or column metrics */
	int64_t files_read;
	int64_t row_groups;
	int64_t row_groups_skipped;
	int64_t rows_scanned;       /* rows of read pages before the filter */
	int64_t rows_returned;
	int64_t bytes_read;
	int64_t delete_files;       /* live position/equality delete files */
	int64_t rows_deleted;       /* rows dropped because a delete applied */
	int64_t equality_keys;      /* keys of equality delete files held in
	                               memory: those within the bounds of the
	                               data files the scan reads */
} floe_scan_stats;

typedef struct floe_scan floe_scan;

/* Plan a scan: pick the snapshot (its schema for time travel by id, as-of
 * or ref), prune manifests and files, and prepare to read. Columns are
 * resolved by field id, so files written under older schemas read right. */
int floe_scan_open(floe_scan **out, floe_table *t, const floe_scan_options *o,
                   floe_error *err);

/* The columns the scan returns (names, types, field ids). */
const floe_schema *floe_scan_schema(const floe_scan *s);

/* Next batch of matching rows: 1 with *out (valid until the next call), 0
 * at the end, or a negative code. */
int floe_scan_next(floe_scan *s, const floe_batch **out, floe_error *err);
void floe_scan_get_stats(const floe_scan *s, floe_scan_stats *out);

/* With floe_scan_options.positions: the data file (as the table names it)
 * and the position in it of each row of the batch last returned; valid
 * until the next call. FLOE_EINVALID otherwise. */
int floe_scan_positions(const floe_scan *s, const char **file, const int64_t **pos,
                        floe_error *err);
void floe_scan_free(floe_scan *s);

/* ---- row-level changes -------------------------------------------------- */

/* A row by where it lives: a data file (as the table names it) and the
 * row's position in it. */
typedef struct floe_row_ref {
	const char *file;
	int64_t pos;
} floe_row_ref;

typedef struct floe_delete_result {
	int64_t snapshot_id;        /* the new snapshot; the current one (or -1)
	                               when no row matched */
	int64_t rows_deleted;
	int64_t data_files_removed; /* whole files, and files rewritten */
	int64_t data_files_added;   /* copy-on-write: the rewritten files */
	int64_t delete_files_added; /* merge-on-read: position delete files */
	bool merge_on_read;
} floe_delete_result;

/* Delete the rows `where` matches (NULL or "" = every row) in one commit.
 * The table property write.delete.mode picks how: copy-on-write (the
 * default, as in Iceberg) rewrites the data files holding matching rows;
 * merge-on-read writes position delete files. A file whose every row
 * matches is removed whole either way. The commit fails with
 * FLOE_ECONFLICT when, since the snapshot the delete read, another commit
 * added data the filter may match, added delete files or removed a file
 * the delete changes; appends that cannot match do not conflict. */
int floe_table_delete(floe_table *t, const char *where, floe_delete_result *res,
                      floe_error *err);

typedef struct floe_update_result {
	int64_t snapshot_id;        /* the new snapshot; the current one (or -1)
	                               when no row matched */
	int64_t rows_updated;
	int64_t data_files_removed, data_files_added, delete_files_added;
	bool merge_on_read;
} floe_update_result;

/* Delete the rows `rows` (read from snapshot `base_snapshot_id`, found by
 * a scan with floe_scan_options.positions) and append the rows of `insert`
 * (NULL = none), in one commit: how UPDATE and DELETE through SQL change a
 * table. The mode is the table's write.update.mode when rows are inserted,
 * else write.delete.mode: copy-on-write rewrites the files holding the
 * rows, merge-on-read writes position delete files. The commit fails with
 * FLOE_ECONFLICT when, since the base snapshot, another commit removed one
 * of those files or added deletes to it; appends meanwhile do not
 * conflict. res->rows_deleted counts the refs applied (a ref twice counts
 * once). */
int floe_table_delete_rows(floe_table *t, int64_t base_snapshot_id, const floe_row_ref *rows,
                           int64_t nrows, const floe_batch *insert, floe_delete_result *res,
                           floe_error *err);

/* UPDATE SET `set` WHERE `where` (NULL or "" = every row) in one commit.
 * `set` is "col = literal, ..." (literals as in filters, or NULL). The
 * table property write.update.mode picks how: copy-on-write (default)
 * rewrites the data files holding matching rows; merge-on-read writes
 * position delete files for the old rows and new data files for the new
 * ones. Conflicts as for floe_table_delete. */
int floe_table_update(floe_table *t, const char *set, const char *where,
                      floe_update_result *res, floe_error *err);

/* The new values of rows an update matched: `rows` holds a batch of them
 * (every top-level column of the table's current schema, in schema order,
 * rows->schema naming them); set *out to the updated rows, the same number
 * in the same order, with every column (by name, as appends take them;
 * widening allowed). Buffers may live in `arena` or in `rows`; both stay
 * valid until the rows are written. A non-zero return stops the update
 * (nothing is committed) and is returned. */
typedef int (*floe_update_fn)(void *ctx, const floe_batch *rows, floe_batch *out,
                              floe_arena *arena, floe_error *err);

/* UPDATE with `fn` computing the new rows, WHERE `where` (NULL or "" =
 * every row): as floe_table_update in every other way (modes, conflicts,
 * one commit). floe_expr_update (floe/expr.h) builds `fn` from
 * "col = expression, ..." text. */
int floe_table_update_with(floe_table *t, const char *where, floe_update_fn fn, void *ctx,
                           floe_update_result *res, floe_error *err);

typedef struct floe_merge_options {
	const char *const *on;      /* key columns (1..16; not float/double) */
	int non;
	const char *precombine;     /* column whose largest value wins among
	                               source rows with one key (later row on a
	                               tie); NULL = duplicate keys are an error */
	bool precombine_table;      /* with precombine: a source row whose key
	                               the table holds with a larger precombine
	                               value is left out (stale), whatever the
	                               mode: the table's row stays (Hudi's
	                               ordering field against stored records);
	                               on a tie the source row wins */
	const char *delete_when;    /* filter over a source row: when it holds
	                               the matched target row is deleted and the
	                               source row not inserted; NULL = never */
} floe_merge_options;

void floe_merge_options_init(floe_merge_options *o);

typedef struct floe_merge_result {
	int64_t snapshot_id;        /* the new snapshot (the current one when the
	                               source was empty) */
	int64_t source_rows;
	int64_t upserted;           /* rows written: inserted + updated */
	int64_t inserted, updated, deleted; /* copy-on-write; -1 for a blind
	                               merge-on-read upsert, which does not read
	                               the table */
	int64_t unchanged;          /* copy-on-write: matched rows equal to their
	                               source row in every column, in files no
	                               other change touched: not written again */
	int64_t stale;              /* precombine_table: source rows older than
	                               the table's row with their key, not
	                               written */
	int64_t data_files_added, data_files_removed, delete_files_added;
	int64_t data_files_skipped_by_bloom; /* copy-on-write: files whose key
	                               bounds overlap the source but whose Bloom
	                               filters show no source key */
	bool merge_on_read;
} floe_merge_result;

typedef struct floe_merge floe_merge;

/* MERGE INTO the table USING the rows given to floe_merge_batch ON the key
 * columns: when matched update (the source row replaces the target row),
 * when matched and delete_when delete, when not matched insert. The table
 * property write.merge.mode picks how: copy-on-write (default) rewrites
 * only the data files that hold a source key (others are skipped by their
 * key-column bounds, then by Bloom filters on the key when the table
 * writes them (write.parquet.bloom-filter-enabled.column.KEY=true, read
 * at the start of the merge), then
 * by reading the key columns); merge-on-read is a
 * blind upsert: one equality delete file of the source keys (global, in an
 * unpartitioned spec) and the new rows, without reading the table. Source
 * rows are held in memory until the commit (columns matched by name like
 * floe_append_batch). */
int floe_merge_begin(floe_merge **out, floe_table *t, const floe_merge_options *o,
                     floe_error *err);
int floe_merge_batch(floe_merge *m, const floe_batch *b, floe_error *err);
/* Extra snapshot summary entry for the merge's commit (e.g. a pipeline
 * step's position); copied. */
int floe_merge_set_summary(floe_merge *m, const char *key, const char *value,
                           floe_error *err);
/* One commit; frees `m`. Conflicts as for floe_table_delete (data added
 * meanwhile whose key bounds overlap the source's, new delete files, files
 * the merge rewrites removed); a blind upsert conflicts only with new
 * delete files or removed files. */
int floe_merge_commit(floe_merge *m, floe_merge_result *res, floe_error *err);
void floe_merge_abort(floe_merge *m);

/* ---- change reads ------------------------------------------------------------ */

typedef struct floe_changes floe_changes;

/* The row changes of the snapshots after `from_snapshot_id` (exclusive; -1
 * = from the first) up to `to_snapshot_id` (inclusive; -1 = current),
 * oldest first: each row with the current schema's columns (files written
 * under older schemas read by field id) and _change_type ("insert",
 * "delete", "update_before", "update_after"), _commit_snapshot_id and
 * _commit_sequence_number. Inserts are the rows of the data files a
 * snapshot added; deletes the rows of the files it removed and the rows
 * its new delete files remove; a row a copy-on-write commit deleted and
 * wrote back unchanged is no change; with identifier fields, a delete and
 * an insert of one key in one snapshot are an update's pre and post
 * images. One snapshot's changes are held in memory at a time. */
int floe_changes_open(floe_changes **out, floe_table *t, int64_t from_snapshot_id,
                      int64_t to_snapshot_id, floe_error *err);
const floe_schema *floe_changes_schema(const floe_changes *c);
/* Before the first floe_changes_next: only these data columns (of the
 * current schema, in this order; the strings are not kept) in the batches
 * and in floe_changes_schema, the change columns after them. The changes
 * are the same as without: carry-over and update images still compare
 * whole rows, but a snapshot that only added data files is read for these
 * columns alone. FLOE_ENOTFOUND for an unknown column. */
int floe_changes_project(floe_changes *c, const char *const *columns, int ncolumns,
                         floe_error *err);
/* 1 with *out (valid until the next call), 0 at the end, or an error. */
int floe_changes_next(floe_changes *c, const floe_batch **out, floe_error *err);
void floe_changes_free(floe_changes *c);

/* ---- compaction ------------------------------------------------------------ */

typedef struct floe_compact_options {
	const char *where;          /* only files the filter may match (by their
	                               partition values and bounds); NULL = all */
	int64_t target_file_size;   /* 0 = write.target-file-size-bytes */
	int64_t min_file_size;      /* files under this many bytes are small (Iceberg's
	                               min-file-size-bytes); 0 = 75% of the target */
	int64_t copy_min_row_group_bytes; /* a file without deletes whose row
	                               groups all hold at least this many
	                               uncompressed bytes is copied row group by
	                               row group instead of decoded and written
	                               again (when the table has no sort order
	                               and the file has the table's schema,
	                               spec and codec); 0 = a sixteenth of
	                               write.parquet.row-group-size-bytes */
	bool rewrite_all;           /* never copy: decode and encode every row */
} floe_compact_options;

void floe_compact_options_init(floe_compact_options *o);

typedef struct floe_compact_result {
	int64_t snapshot_id;        /* the "replace" snapshot, or the current one
	                               when nothing was worth rewriting */
	int64_t data_files_rewritten, data_files_added, delete_files_removed;
	int64_t data_files_copied;  /* of the rewritten, copied row group by row group */
	int64_t rows;               /* rows written */
	int64_t bytes_read, bytes_written; /* data file bytes */
} floe_compact_result;

/* Bin-pack compaction (Iceberg's rewrite_data_files; rows sorted by the
 * table's sort order when it has one): in each partition
 * with two or more small files (under min_file_size) or a file
 * that deletes apply to, those files are read with their deletes applied
 * and written again as files of about the target size in the current
 * spec, one partition at a time (a file without deletes whose row groups
 * are large has them copied as they are: copy_min_row_group_bytes);
 * delete files no remaining data file needs are dropped. One
 * "replace" commit; appends meanwhile do not conflict; a concurrent commit
 * that added delete files or removed a rewritten file makes it fail with
 * FLOE_ECONFLICT, leaving nothing behind. */
int floe_table_compact(floe_table *t, const floe_compact_options *o, floe_compact_result *res,
                       floe_error *err);

/* ---- evolution and refs (each one commit) ----------------------------- */

/* Add an optional column "name type" (or "parent.name type" inside a
 * struct); `position` NULL = last, "first", or "after COL". */
int floe_table_add_column(floe_table *t, const char *name, const char *type,
                          const char *position, floe_error *err);
int floe_table_rename_column(floe_table *t, const char *name, const char *new_name,
                             floe_error *err);
int floe_table_drop_column(floe_table *t, const char *name, floe_error *err);
/* int -> long, float -> double, decimal(P,S) -> decimal(P',S) with P' > P. */
int floe_table_widen_column(floe_table *t, const char *name, const char *type,
                            floe_error *err);
/* Move a column: `position` is "first" or "after COL". */
int floe_table_move_column(floe_table *t, const char *name, const char *position,
                           floe_error *err);
/* Replace the default partition spec ("" = unpartitioned); data already
 * written keeps its spec and scans prune across both. */
int floe_table_set_partition(floe_table *t, const char *partition, floe_error *err);
/* Set (value non-NULL) or remove a table property. */
int floe_table_set_property(floe_table *t, const char *key, const char *value,
                            floe_error *err);
/* Tag a snapshot (`snapshot_id` -1 = current); FLOE_EEXISTS for a used name. */
int floe_table_create_tag(floe_table *t, const char *name, int64_t snapshot_id,
                          floe_error *err);
int floe_table_drop_tag(floe_table *t, const char *name, floe_error *err);

/* ---- upkeep (docs/upkeep.md) ------------------------------------------- */

typedef struct floe_expire_options {
	int64_t older_than_ms; /* epoch ms; 0 = now - history.expire.max-snapshot-age-ms
	                          (default 5 days) */
	int retain_last;       /* newest snapshots of each branch always kept; 0 =
	                          history.expire.min-snapshots-to-keep (default 1) */
	int64_t keep_after_sequence; /* > 0: every snapshot with a larger sequence
	                          number stays (what an incremental reader, such as
	                          a pipeline step, has not read yet); 0 = none */
} floe_expire_options;

typedef struct floe_expire_result {
	int64_t snapshots_expired;
	int64_t refs_removed;          /* refs past their max-ref-age-ms */
	int64_t manifest_lists_deleted;
	int64_t manifests_deleted;
	int64_t data_files_deleted;
	int64_t delete_files_deleted;  /* position and equality delete files */
	int64_t statistics_files_deleted;
	int64_t metadata_files_deleted;/* write.metadata.delete-after-commit.enabled */
} floe_expire_result;

/* Expire snapshots by the spec's retention policy: a snapshot goes when it
 * is older than older_than_ms and not among the retain_last newest of its
 * branch; the current snapshot and every snapshot a tag or branch names
 * stay (refs may set their own max-snapshot-age-ms, min-snapshots-to-keep,
 * max-ref-age-ms). One commit removes them (re-applied on a concurrent
 * commit); only after it succeeded are the manifest lists, manifests, data
 * and delete files deleted that no retained snapshot references. `o` and
 * `res` may be NULL. On FLOE_ECOMMIT_UNKNOWN nothing is deleted. */
int floe_table_expire_snapshots(floe_table *t, const floe_expire_options *o,
                                floe_expire_result *res, floe_error *err);

typedef struct floe_orphan_file {
	const char *path;   /* local path */
	int64_t size;
	int64_t mtime_ms;
	bool removed;       /* false in a dry run */
} floe_orphan_file;

typedef int (*floe_orphan_fn)(void *ctx, const floe_orphan_file *f, floe_error *err);

/* Remove the files under the table's location that no metadata references
 * (snapshots' manifest lists, manifests, data and delete files, statistics
 * files, the current metadata file and its metadata log, version-hint.text)
 * and that were last modified before older_than_ms (epoch ms; 0 = now - 3
 * days, so files of commits in progress are left alone). Symlinks are never
 * followed, other tables' locations below this one are skipped (and a
 * location another catalog table shares is refused, FLOE_EINVALID),
 * nothing outside the warehouse is touched. `fn` (may be NULL) is called per file,
 * in path order, after it was removed (or instead, with `dry_run`). */
int floe_table_remove_orphans(floe_table *t, int64_t older_than_ms, bool dry_run,
                              floe_orphan_fn fn, void *ctx, floe_error *err);

typedef struct floe_rewrite_result {
	int64_t snapshot_id;        /* the "replace" snapshot, or the current one
	                               when there was nothing to rewrite (-1: none) */
	int64_t manifests_replaced;
	int64_t manifests_created;
	int64_t manifests_kept;
	int64_t entries;            /* manifest entries read */
} floe_rewrite_result;

/* When the current snapshot has two or more data manifests of one
 * partition spec smaller than commit.manifest.target-size-bytes (default 8
 * MiB), write their live entries again, sorted by partition, into
 * manifests of about that size, as one "replace" snapshot; entries keep
 * their snapshot ids and sequence numbers (status EXISTING), delete
 * manifests and large ones are kept as they are. No commit when there is
 * nothing to rewrite. */
int floe_table_rewrite_manifests(floe_table *t, floe_error *err);
/* The same, reporting what it did (`res` may be NULL). */
int floe_table_rewrite_manifests_ex(floe_table *t, floe_rewrite_result *res, floe_error *err);

#ifdef __cplusplus
}
#endif
#endif
