/* sql/sql_int.h - what the SQL layer's files share: the connection handle,
 * the per-connection cache of open tables, the scan log, and the value
 * conversions between floe columns and SQLite values. */
#ifndef FLOE_SQL_INT_H
#define FLOE_SQL_INT_H

#include <stdint.h>

#include <sqlite3.h>

#include "floe/sql.h"

/* An open table shared by the virtual tables that name it. */
typedef struct sq_table {
	char *ident;        /* "ns.table" */
	floe_table *t;
	int open_scans;     /* scans of it now open: no refresh under them */
} sq_table;

struct floe_sql {
	sqlite3 *db;
	floe_catalog *cat;
	floe_sql_options opt;
	sq_table *tables;
	int ntables, captables;
	char **attached;    /* namespaces attached as schemas */
	int nattached;
	floe_sql_scan_info *scans;
	char **scan_text;   /* owned strings of the scan log (table, where) */
	int nscans, capscans, ntext, captext;
};

/* The table `ident`, opened once per connection; with `fresh`, reloaded
 * from the catalog first unless a scan of it is open (a refresh replaces
 * the metadata open scans read, and scans of one statement then agree on
 * the snapshot). The table stays owned by the connection. */
int sq_table_get(floe_sql *s, const char *ident, bool fresh, floe_table **out, floe_error *err);
/* Count a scan of `ident` opening (+1) or closing (-1). */
void sq_table_scans(floe_sql *s, const char *ident, int delta);

/* SQLite's spelling of timestamps, dates and times: UTC text
 * "YYYY-MM-DD HH:MM:SS.ffffff", "YYYY-MM-DD", "HH:MM:SS.ffffff" (what
 * SQLite's own date functions read and compare as text). `out` holds 48. */
void sq_format_timestamp_us(char *out, int64_t micros);
void sq_format_timestamp_ns(char *out, int64_t nanos);
void sq_format_date(char *out, int32_t days);
void sq_format_time_us(char *out, int64_t micros);

/* Set the SQLite result for row `row` of `col` (type `type`). */
void sq_result_value(sqlite3_context *ctx, const floe_column *col, const floe_type *type,
                     int64_t row);

/* SQLite's declared type for a floe type ("INTEGER", "REAL", "TEXT",
 * "BLOB"). */
const char *sq_decl_type(const floe_type *type);

/* Rows grouped by key columns (group.c): feed the batches of one scan
 * (keeping only rows whose key hash falls in partition `part` of
 * `nparts`), then finish and read rows back grouped, the groups in the
 * order of their keys (desc[k]: descending). `like` gives the column
 * types; keys index its columns. sq_group_add returns 1 once
 * the buffers pass `budget` bytes, 0 otherwise, or FLOE_ENOMEM. */
typedef struct sq_group sq_group;
int sq_group_new(sq_group **out, const floe_batch *like, const int *keys, const bool *desc,
                 int nkeys, size_t budget);
int sq_group_add(sq_group *g, const floe_batch *b, int part, int nparts);
int sq_group_finish(sq_group *g);
/* Past the budget on the first pass: pick nparts - 1 split points on the
 * first key from the rows held, after which sq_group_add keeps the rows of
 * one range per pass, passes in key order. */
int sq_group_split(sq_group *g, int nparts);
int64_t sq_group_rows(const sq_group *g);
const floe_column *sq_group_column(const sq_group *g, int c);
int64_t sq_group_row(const sq_group *g, int64_t i);
size_t sq_group_bytes(const sq_group *g);
void sq_group_clear(sq_group *g);
void sq_group_free(sq_group *g);

/* The metadata tables: module "floe_meta", instances created with
 * CREATE VIRTUAL TABLE x USING floe_meta('ns.table', 'KIND') for each KIND
 * of sq_meta_kinds (NULL-terminated: snapshots, history, files,
 * manifests, partitions, refs). */
extern const char *const sq_meta_kinds[];
int sq_meta_register(floe_sql *s, floe_error *err);

#endif
