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
};

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

/* Integer table property with a default. */
int64_t ice_table_prop_int(const ice_table_metadata *m, const char *key, int64_t dflt);

/* Column `src` converted to type `dt` (the same, or a widening: int ->
 * long, float -> double, decimal precision) in `arena`; FLOE_EINVALID for
 * other type pairs. */
int ice_column_widen(floe_arena *arena, const floe_column *src, const floe_type *dt, int64_t n,
                     floe_column *out, floe_error *err);

/* Rows idx[0..n) of `src` as a new batch in `arena` (same schema). */
int ice_batch_gather(floe_arena *arena, const floe_batch *src, const int32_t *idx, int64_t n,
                     floe_batch *out, floe_error *err);

#endif
