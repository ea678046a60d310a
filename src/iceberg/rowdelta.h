/* iceberg/rowdelta.h - what row-level operations (DELETE, MERGE, UPDATE,
 * compaction) share: the data files they touch, position delete files,
 * and one commit that removes data files, adds data and delete files and
 * validates concurrent commits (spec "Commit Conflict Resolution"). Internal. */
#ifndef FLOE_ICEBERG_ROWDELTA_H
#define FLOE_ICEBERG_ROWDELTA_H

#include <stdbool.h>
#include <stdint.h>

#include "iceberg/expr.h"
#include "iceberg/table_int.h"
#include "util/buf.h"

/* A data file the operation touches. */
typedef struct ice_hit {
	const ice_data_file *f;       /* lives in the first scan */
	const ice_partition_spec *spec;
	bool has_deletes;
	bool remove;                  /* removed whole (or rewritten) */
	int64_t matched;
	floe_buf pos;                 /* int64 positions (merge-on-read) */
	floe_buf keyed;               /* copy-on-write MERGE: ice_keyed of each
	                                 matched row, positions ascending */
} ice_hit;

/* A row of a data file and the MERGE source key it matched. */
typedef struct ice_keyed {
	int64_t pos;
	void *key;
} ice_keyed;

typedef struct ice_rowdelta {
	floe_table *t;
	const ice_table_metadata *m;  /* the metadata the operation read */
	int64_t base_id;              /* the snapshot it read; -1 none */
	ice_expr *expr;               /* bound filter or NULL (everything) */
	/* a data file added by a concurrent commit that this change must not
	 * overlook (serializable isolation); NULL = every added data file */
	bool (*conflicts)(void *ctx, const ice_data_file *added);
	void *cctx;
	const char *what;             /* "delete", "merge": for messages */
	const char *op_name;          /* snapshot operation, NULL = overwrite
	                                 when data is added, else delete */
	bool mor;
	ice_hit *hits;
	size_t nhits, caphits;
	uint64_t *slots;              /* path hash -> hit index + 1 */
	size_t nslots;
	floe_arena *arena;
	/* written before the commit */
	floe_append *rewrite;         /* copy-on-write output */
	const ice_manifest_entry *added;
	size_t nadded;
	ice_manifest_entry *dels;     /* position delete files */
	size_t ndels, ndels_written;
	ice_manifest_entry *eqdels;   /* equality delete files (global) */
	size_t neqdels, neqdels_written;
	int32_t eq_spec_id;           /* their unpartitioned spec (added when
	                                 the table has none) */
	const char *where;
	char data_manifest[4096], delete_manifest[4096], eq_manifest[4096];
	ice_manifest_file data_mf, delete_mf, eq_mf;
	bool committed;
	int64_t added_bytes;          /* of the data files added, after commit */
	bool drop_deletes;            /* hits may be delete files to remove */
	int64_t removed_delete_files, removed_pos, removed_eq;
	/* per commit attempt */
	int64_t snapshot_id;
	char list_path[4096];
	floe_buf attempt_files;       /* NUL-separated manifest paths */
	int64_t removed_files, removed_records, removed_size;
	const ice_kv *extra;          /* more summary entries (by pointer) */
	int nextra;
} ice_rowdelta;

/* Conflict callbacks: a concurrently added data file conflicts when the
 * filter `ctx` (an ice_expr, NULL = everything) may match it; or never
 * (appends meanwhile do not touch what a compaction or blind upsert
 * changes). */
bool ice_rowdelta_filter_conflicts(void *ctx, const ice_data_file *added);
bool ice_rowdelta_no_conflicts(void *ctx, const ice_data_file *added);

/* Set up `d` for table `t` at its current metadata (kept alive by `mref`,
 * which the caller takes and drops). */
int ice_rowdelta_init(ice_rowdelta *d, floe_table *t, const char *what, floe_error *err);

ice_hit *ice_rowdelta_find(const ice_rowdelta *d, const char *path);
/* Record data file `f` (it must outlive `d`). */
int ice_rowdelta_hit(ice_rowdelta *d, const ice_data_file *f, const ice_partition_spec *spec,
                     bool has_del, ice_hit **out, floe_error *err);
/* A scan's want_file: the hits with matched rows. */
bool ice_rowdelta_want_hit(void *ctx, const ice_data_file *f);

/* Copy-on-write: append the rows of `b` whose drop[r] is 0 to d->rewrite
 * (gathered in `ga`). */
int ice_rowdelta_keep_rows(ice_rowdelta *d, const floe_batch *b, const uint8_t *drop,
                           floe_arena *ga, floe_error *err);

/* Position delete files of the hits not removed whole, one per partition. */
int ice_rowdelta_write_position_deletes(ice_rowdelta *d, floe_error *err);

/* Equality delete file over the columns of `keys` (their schema carries
 * the table's field ids), global (the unpartitioned spec). */
int ice_rowdelta_write_equality_deletes(ice_rowdelta *d, const floe_batch *keys, size_t nkeys,
                                        floe_error *err);

/* Write the manifests and commit: hits with `remove` leave, the files of
 * d->rewrite and the delete files arrive. On success d->committed. */
int ice_rowdelta_commit(ice_rowdelta *d, floe_error *err);

/* Free; files written and not committed are removed (kept after an
 * unknown commit outcome). */
void ice_rowdelta_release(ice_rowdelta *d);

#endif
