/* sql/sql_int.h - what the SQL layer's files share: the connection handle,
 * the per-connection cache of open tables, the scan log, and the value
 * conversions between floe columns and SQLite values. */
#ifndef FLOE_SQL_INT_H
#define FLOE_SQL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "floe/sql.h"

/* An open table shared by the virtual tables that name it. */
typedef struct sq_table {
	char *ident;        /* "ns.table" */
	floe_table *t;
	int open_scans;     /* scans of it now open: no refresh under them */
	uint64_t epoch;     /* the connection's epoch it was last refreshed in */
} sq_table;

/* ---- aggregations floe computes itself (rewrite.c finds them, agg.c runs
 * them) ---- */

typedef enum sq_agg_kind {
	SQ_AGG_COUNT_STAR, SQ_AGG_COUNT, SQ_AGG_SUM, SQ_AGG_TOTAL, SQ_AGG_AVG, SQ_AGG_MIN, SQ_AGG_MAX
} sq_agg_kind;

/* A node of an aggregate's argument: op 'c' column (cols[col]), 'i' integer,
 * 'r' real, 'n' negation of a, or '+', '-', '*', '/' of a and b. */
typedef struct sq_anode {
	char op;
	int a, b, col;
	int64_t i;
	double r;
} sq_anode;

typedef struct sq_aggdef {
	sq_agg_kind kind;
	int root;   /* node of the argument; -1 for count(*) */
	char *text; /* the call as SQL, columns plainly quoted */
} sq_aggdef;

#define SQ_AGG_MAX_KEYS 8
#define SQ_AGG_MAX_AGGS 32

/* One aggregation: GROUP BY columns, aggregates, WHERE terms "col OP ?k"
 * (values given per run), and the same as SQL for SQLite. */
typedef struct sq_plan {
	char *ident;          /* "ns.table" */
	char **group;         /* GROUP BY column names */
	int ngroup;
	sq_aggdef *aggs;
	int naggs;
	sq_anode *nodes;
	int nnodes, capnodes;
	char **cols;          /* columns the arguments read */
	int ncols;
	char **term_col;
	char *term_op;        /* SQ_OP_* */
	int nterms;
	char *fallback;       /* sqlite3_malloc'ed SELECT ... GROUP BY ... */
} sq_plan;

/* Types whose values floe computes with as SQLite does (boolean, int,
 * signed long, float, double, decimal up to 18 digits), and those it also
 * groups and orders as SQLite (those, strings, dates, times, timestamps). */
bool sq_agg_numeric(const floe_type *t);
bool sq_agg_ordered(const floe_type *t);

void sq_plan_free(sq_plan *p);
/* Register plan `p` (taken, also on failure) as virtual table
 * temp.floe_agg_<id>, reusing an equal one: 0 or an SQLite code. */
int sq_agg_plan(floe_sql *s, sq_plan *p, int *id);
/* The aggregation module ("floe_agg"). */
int sq_agg_register(floe_sql *s, floe_error *err);
/* The first statement of sql[0..n) with every aggregation floe computes
 * itself rewritten (*out, sqlite3_malloc'ed; NULL when none), and the bytes
 * of sql it spans (*used). 0 or an SQLite code. */
int sq_rewrite(floe_sql *s, const char *sql, int n, char **out, int *used);
/* Whether the first statement of sql[0..n) has an OR (true when it cannot
 * be read). */
bool sq_has_or(const char *sql, int n);

/* Record a scan in the connection's log: its index, or -1. */
int sq_scan_log(floe_sql *s, const char *ident, const char *where, int ncols, int64_t limit);
/* Copy the scan's statistics to log entry `idx` (-1: none). */
void sq_scan_log_stats(floe_sql *s, int idx, const floe_scan *scan);

#define SQ_MAX_RUNNING 64

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
	sq_plan **plans;    /* aggregations, temp.floe_agg_<index> */
	int nplans;
	int64_t agg_floe, agg_sqlite; /* runs of them answered by floe, by SQLite */
	/* Statements now running (from their first step to their end or reset,
	 * told by SQLite's trace events) and the epoch: it grows each time a
	 * statement starts while none runs. Tables refresh once per epoch, so
	 * all the scans of one statement, and of statements running alongside
	 * it, read one snapshot of each table. */
	/* set while floe_sql_prepare plans a statement without OR: join key
	 * probes may then be priced as lookups (vtab.c). SQLite answers an OR
	 * by a union of scans told apart by rowid, which floe's scans lack */
	bool probe_ok;
	void *running[SQ_MAX_RUNNING];
	int nrunning;
	uint64_t epoch;
};

/* The table `ident`, opened once per connection; with `fresh`, reloaded
 * from the catalog first unless a scan of it is open (a refresh replaces
 * the metadata open scans read) or it was already reloaded since the
 * running statements started (so the scans of one statement agree on the
 * snapshot, even when SQLite opens a new cursor for each row of an outer
 * loop). The table stays owned by the connection. */
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

/* Comparison operators of pushed constraints. */
enum { SQ_OP_EQ = 'e', SQ_OP_LT = 'l', SQ_OP_LE = 'L', SQ_OP_GT = 'g', SQ_OP_GE = 'G' };

/* Append floe's filter term for `f OP val` (OP one of SQ_OP_*) to `term`:
 * false when floe cannot express it as a filter that keeps at least the
 * rows SQLite's comparison keeps. With `exact`, also whether it keeps
 * exactly those rows (integers with integers, strings with text, temporal
 * columns with their canonical text). */
bool sq_compare_term(sqlite3_str *term, const floe_field *f, char op, sqlite3_value *val,
                     bool *exact);

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
