/* floe/sql.h - SQL over the lakehouse: a SQLite connection in which every
 * table of a catalog is a virtual table. Scans push filters, projections
 * and LIMIT into floe's pruned scans; a hidden column selects a snapshot
 * (time travel); each table has metadata tables (snapshots, history, files,
 * manifests, partitions, refs). See docs/sql.md. */
#ifndef FLOE_SQL_H
#define FLOE_SQL_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "floe/catalog.h"
#include "floe/error.h"
#include "floe/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct floe_sql floe_sql;

typedef struct floe_sql_options {
	bool writable; /* INSERT, UPDATE and DELETE through the tables, one
	                  commit per table per transaction (default false:
	                  read-only, writes fail) */
	int64_t group_bytes; /* memory a GROUP BY on plain columns may hold to hand
	                        rows to SQLite grouped (0 = 1 GiB); past it
	                        the rows are read in up to 16 passes over
	                        ranges of the first key */
	bool no_aggregate;   /* leave every aggregation to SQLite's row engine
	                        (floe_sql_prepare does not rewrite; for
	                        comparing) */
	int64_t manifest_cache_bytes; /* decoded manifests kept per table for
	                        repeated scans (floe_table_cache_manifests;
	                        0 = 64 MiB, negative = none) */
} floe_sql_options;

void floe_sql_options_init(floe_sql_options *o);

/* Open an in-memory SQLite connection with every table of `cat` attached:
 * NS.TABLE (namespace NS attached as a schema) and "NS.TABLE" (one quoted
 * name in main), and their metadata tables "NS.TABLE$snapshots" etc. `cat`
 * must outlive the handle. */
int floe_sql_open(floe_sql **out, floe_catalog *cat, const floe_sql_options *o,
                  floe_error *err);

/* The connection: use it with the plain sqlite3 API (prepare, step, ...).
 * Valid until floe_sql_close. floe owns its trace hook (sqlite3_trace_v2):
 * it tells floe when statements start and end, which keeps one snapshot
 * per table for a statement; do not replace it. */
sqlite3 *floe_sql_db(floe_sql *s);

/* sqlite3_prepare_v2 for the first statement of `sql` (nbytes < 0: up to
 * its NUL), with every aggregation floe computes itself taken from SQLite:
 * a SELECT of count/sum/total/avg/min/max over one table, its WHERE a
 * conjunction of column comparisons with literals or parameters, grouped
 * by plain columns, runs in floe's scan and hands SQLite only the groups
 * (docs/sql.md, "Aggregation"). Results are SQLite's, its error messages
 * too; *tail as sqlite3_prepare_v2 sets it. Returns an SQLite code. */
int floe_sql_prepare(floe_sql *s, const char *sql, int nbytes, sqlite3_stmt **out,
                     const char **tail);

/* Pick up tables created, dropped or renamed in the catalog since open. */
int floe_sql_refresh(floe_sql *s, floe_error *err);

/* One scan of a floe table made by the statements run since the last
 * floe_sql_reset_scans: what was pushed into it and what it read. */
typedef struct floe_sql_scan_info {
	const char *table;        /* "gold.bars_1m" */
	const char *where;        /* filter pushed into the scan ("" = none) */
	int ncolumns;             /* columns decoded */
	int64_t limit;            /* LIMIT pushed into the scan, -1 = none */
	floe_scan_stats stats;    /* snapshot, files and row groups skipped, ... */
} floe_sql_scan_info;

/* The scans since the last reset, oldest first; valid until the next
 * statement step or reset. */
void floe_sql_scans(floe_sql *s, const floe_sql_scan_info **out, int *n);
void floe_sql_reset_scans(floe_sql *s);

/* Close the connection (finalize statements first) and free the handle
 * (NULL allowed). */
void floe_sql_close(floe_sql *s);

#ifdef __cplusplus
}
#endif

#endif
