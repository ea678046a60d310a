/* tests/sql/test_sql_agg.c - aggregations floe computes itself
 * (src/sql/rewrite.c, agg.c) give exactly SQLite's answers: every query is
 * run on a connection that rewrites and on one that leaves aggregation to
 * SQLite (floe_sql_options.no_aggregate), over a table with NULLs, NaN,
 * -0.0, negative and overflowing integers, decimals and timestamps; values,
 * types, column names and errors must agree, and each query must have been
 * rewritten (or not) and answered by floe (or by SQLite) as expected. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/floe.h"
#include "harness.h"
#include "sql/sql_int.h"

#define NROWS 3000
#define T0_US INT64_C(1793491200000000) /* 2026-11-01 00:00:00 UTC */

static const char *const SYMS[6] = { "B", "A", "a", "", "\xc3\xa9t\xc3\xa9", "AB" };
static const char *const SCHEMA = "id long not null, sym string, px double, qty int, big long, "
                                  "ts timestamptz, day date, amt decimal(10,2), flag boolean, "
                                  "f float";

static void must(int rc, const floe_error *err, const char *what)
{
	if (rc) {
		th_fail(__FILE__, __LINE__, "%s: %s", what, err->msg);
		exit(1);
	}
}

static void append(floe_table *t, int from, int to)
{
	floe_error err;
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	must(floe_schema_parse(&s, SCHEMA, ar, &err), &err, "schema");
	floe_batch_builder *b;
	must(floe_batch_builder_new(&b, s, &err), &err, "builder");
	for (int i = from; i < to; i++) {
		double px = 100 + (i % 50) * 0.37;
		if (i % 97 == 0)
			px = NAN;
		else if (i % 89 == 0)
			px = -0.0;
		else if (i % 83 == 0)
			px = 0.0;
		int64_t ts = T0_US + (int64_t)i * 7 * 60 * 1000000;
		int64_t big = i % 2 ? INT64_MAX / 3 : -(INT64_MAX / 5);
		int rc = floe_batch_builder_i64(b, 0, i, &err);
		rc = rc || (i % 11 == 0 ? floe_batch_builder_null(b, 1, &err)
		                        : floe_batch_builder_bytes(b, 1, SYMS[i % 6],
		                                                   (int64_t)strlen(SYMS[i % 6]), &err));
		rc = rc || (i % 13 == 0 ? floe_batch_builder_null(b, 2, &err)
		                        : floe_batch_builder_f64(b, 2, px, &err));
		rc = rc || (i % 19 == 0 ? floe_batch_builder_null(b, 3, &err)
		                        : floe_batch_builder_i32(b, 3, i % 17 - 8, &err));
		rc = rc || floe_batch_builder_i64(b, 4, big, &err);
		rc = rc || (i % 23 == 0 ? floe_batch_builder_null(b, 5, &err)
		                        : floe_batch_builder_i64(b, 5, ts, &err));
		rc = rc || floe_batch_builder_i32(b, 6, (int32_t)(ts / 86400000000), &err);
		rc = rc || floe_batch_builder_i64(b, 7, (int64_t)i * 13 % 100000 - 5000, &err);
		rc = rc || floe_batch_builder_bool(b, 8, i % 3 == 0, &err);
		rc = rc || floe_batch_builder_f32(b, 9, (float)(i % 7) * 0.1f, &err);
		must(rc, &err, "row");
	}
	floe_append *a;
	must(floe_append_begin(&a, t, &err), &err, "begin");
	must(floe_append_batch(a, floe_batch_builder_view(b), &err), &err, "batch");
	must(floe_append_commit(a, NULL, &err), &err, "commit");
	floe_batch_builder_free(b);
	floe_arena_free(ar);
}

typedef struct env {
	floe_catalog *cat;
	floe_sql *agg, *plain; /* rewriting, and leaving aggregation to SQLite */
} env;

static void open_env(env *e, int64_t group_bytes)
{
	floe_error err;
	must(floe_catalog_open(&e->cat, th_path("wh"), NULL, &err), &err, "catalog");
	floe_table *t;
	if (floe_table_open(&t, e->cat, "m.t", &err) != 0) {
		floe_table_create_options co;
		memset(&co, 0, sizeof co);
		co.schema = SCHEMA;
		co.partition = "day(ts)";
		must(floe_table_create(&t, e->cat, "m.t", &co, &err), &err, "create");
		append(t, 0, 1000);
		append(t, 1000, 2200);
		append(t, 2200, NROWS);
	}
	floe_table_close(t);
	floe_sql_options o;
	floe_sql_options_init(&o);
	o.group_bytes = group_bytes;
	must(floe_sql_open(&e->agg, e->cat, &o, &err), &err, "sql open");
	o.no_aggregate = true;
	must(floe_sql_open(&e->plain, e->cat, &o, &err), &err, "sql open plain");
}

static void close_env(env *e)
{
	floe_sql_close(e->agg);
	floe_sql_close(e->plain);
	floe_catalog_close(e->cat);
}

/* A statement's whole result as text: column names, then each value with
 * its SQLite type (doubles to 17 digits), or the error. */
static char *result(floe_sql *s, const char *sql, const char *param, bool *rewritten)
{
	sqlite3 *db = floe_sql_db(s);
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	sqlite3_str *o = sqlite3_str_new(NULL);
	if (floe_sql_prepare(s, sql, -1, &st, &tail) != SQLITE_OK) {
		sqlite3_str_appendf(o, "prepare error: %s", sqlite3_errmsg(db));
		return sqlite3_str_finish(o);
	}
	if (rewritten)
		*rewritten = strstr(sqlite3_sql(st), "floe_agg_") != NULL;
	if (param)
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":p"), param, -1,
		                  SQLITE_TRANSIENT);
	int nc = sqlite3_column_count(st);
	for (int c = 0; c < nc; c++)
		sqlite3_str_appendf(o, "%s|", sqlite3_column_name(st, c));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_str_appendall(o, "\n");
		for (int c = 0; c < nc; c++) {
			switch (sqlite3_column_type(st, c)) {
			case SQLITE_INTEGER:
				sqlite3_str_appendf(o, "i%lld|", (long long)sqlite3_column_int64(st, c));
				break;
			case SQLITE_FLOAT:
				sqlite3_str_appendf(o, "r%.17g|", sqlite3_column_double(st, c));
				break;
			case SQLITE_TEXT:
				sqlite3_str_appendf(o, "t'%s'|", (const char *)sqlite3_column_text(st, c));
				break;
			case SQLITE_NULL:
				sqlite3_str_appendall(o, "NULL|");
				break;
			default:
				sqlite3_str_appendall(o, "blob|");
			}
		}
	}
	if (rc != SQLITE_DONE)
		sqlite3_str_appendf(o, "\nerror: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return sqlite3_str_finish(o);
}

enum { FLOE = 1, SQLITE = 2, NOT_REWRITTEN = 3 };

/* Run `sql` both ways; `by` says who must answer. Returns the result. */
static void same(env *e, const char *sql, const char *param, int by, int line)
{
	int64_t f0 = e->agg->agg_floe, s0 = e->agg->agg_sqlite;
	bool rw = false;
	char *a = result(e->agg, sql, param, &rw);
	char *b = result(e->plain, sql, param, NULL);
	if (!a || !b || strcmp(a, b) != 0)
		th_fail(__FILE__, line, "results differ for %s\nfloe:\n%s\nSQLite:\n%s", sql,
		        a ? a : "(null)", b ? b : "(null)");
	if (rw != (by != NOT_REWRITTEN))
		th_fail(__FILE__, line, "%s was %srewritten", sql, rw ? "" : "not ");
	if (by == FLOE && !(e->agg->agg_floe > f0 && e->agg->agg_sqlite == s0))
		th_fail(__FILE__, line, "%s was not answered by floe", sql);
	if (by == SQLITE && !(e->agg->agg_sqlite > s0))
		th_fail(__FILE__, line, "%s was not handed to SQLite", sql);
	if (by == FLOE && strstr(a, "error"))
		th_fail(__FILE__, line, "%s failed: %s", sql, a);
	sqlite3_free(a);
	sqlite3_free(b);
}

#define SAME(sql, by) same(&e, sql, NULL, by, __LINE__)

TEST(sql_agg_floe_answers_as_sqlite)
{
	env e;
	open_env(&e, 0);
	SAME("SELECT sym, count(*), count(px), sum(px), avg(px), min(px), max(px), total(px) "
	     "FROM m.t GROUP BY sym", FLOE);
	SAME("SELECT sym, sum(px * qty) / sum(qty) AS vw, sum(qty) q, count(*) AS n FROM m.t "
	     "WHERE ts >= '2026-11-02' AND ts < '2026-11-04' GROUP BY sym ORDER BY sym", FLOE);
	SAME("SELECT count(*), sum(qty), min(ts), max(ts), min(sym), max(sym), min(day), "
	     "max(day), count(sym), count(ts) FROM m.t", FLOE);
	SAME("SELECT count(*), sum(qty), avg(qty), total(qty), min(px) FROM m.t WHERE id > 100000",
	     FLOE);
	SAME("SELECT sym, count(*) FROM m.t WHERE id > 100000 GROUP BY sym", FLOE);
	SAME("SELECT day, flag, count(*), sum(amt), avg(amt), max(amt), min(amt) FROM m.t "
	     "GROUP BY day, flag", FLOE);
	SAME("SELECT qty, count(*), sum(-qty), sum(qty * 2 - 1), avg(qty / 3), sum(qty / 0), "
	     "sum(px / qty), max(-px), min(0 - px) FROM m.t GROUP BY qty ORDER BY qty DESC", FLOE);
	SAME("SELECT px, count(*), min(id) FROM m.t GROUP BY px", FLOE);
	SAME("SELECT round(sum(px), 2) AS s, upper(sym) AS u, count(*) * 2 AS c2, "
	     "CASE WHEN count(*) > 500 THEN 'many' ELSE 'few' END FROM m.t GROUP BY sym", FLOE);
	SAME("SELECT x.sym, max(x.ts) AS m, min(x.ts) FROM m.t x GROUP BY x.sym", FLOE);
	SAME("SELECT sym, max(ts) AS latest FROM \"m.t\" AS y GROUP BY sym ORDER BY latest DESC",
	     FLOE);
	SAME("SELECT sym, count(*) FROM m.t WHERE qty BETWEEN -2 AND 3 GROUP BY sym", FLOE);
	SAME("SELECT sym, count(*) FROM m.t GROUP BY 1", NOT_REWRITTEN);
	SAME("SELECT sym, sum(qty) FROM m.t WHERE 5 > qty AND sym = 'B' GROUP BY sym", FLOE);
	SAME("SELECT count(sym), min(f), max(f), sum(f), sum(flag), avg(flag) FROM m.t", FLOE);
	SAME("SELECT sum(px) + 1 AS s1, avg(qty) * 2, sum(px) FROM m.t WHERE day = '2026-11-03'",
	     FLOE);
	SAME("SELECT ts, count(*) FROM m.t WHERE id < 300 GROUP BY ts", FLOE);
	SAME("SELECT sym, count(*) FROM m.t GROUP BY sym LIMIT 2 OFFSET 1", FLOE);
	SAME("SELECT sym, sum(qty * 1.5), sum(qty * 9223372036854775807), "
	     "max(qty * 4611686018427387904) FROM m.t GROUP BY sym", FLOE);
	SAME("select Sym, COUNT(*) from M.T group by SYM order by SYM", FLOE);
	/* each SELECT of a join or subquery on its own */
	SAME("SELECT a.sym, a.n, b.m FROM (SELECT sym, count(*) AS n FROM m.t GROUP BY sym) a "
	     "JOIN (SELECT sym, max(px) AS m FROM m.t WHERE qty > 0 GROUP BY sym) b "
	     "ON a.sym IS b.sym ORDER BY a.sym", FLOE);
	SAME("SELECT t.sym, t.ts, t.px FROM m.t t JOIN (SELECT sym, max(ts) AS ts FROM m.t "
	     "GROUP BY sym) l ON t.sym = l.sym AND t.ts = l.ts ORDER BY t.sym", FLOE);
	SAME("WITH d AS (SELECT day, sum(qty) AS q FROM m.t GROUP BY day) "
	     "SELECT count(*), sum(q) FROM d", FLOE);
	same(&e, "SELECT sym, count(*) FROM m.t WHERE ts >= :p GROUP BY sym", "2026-11-10", FLOE,
	     __LINE__);
	same(&e, "SELECT sym, count(*) FROM m.t WHERE ts >= :p GROUP BY sym", "2026-11-10T00:00",
	     SQLITE, __LINE__);
	/* rewritten, but SQLite answers: filters floe would read differently */
	SAME("SELECT sym, count(*) FROM m.t WHERE px > 100.5 GROUP BY sym", SQLITE);
	SAME("SELECT count(*) FROM m.t WHERE qty > '3'", SQLITE);
	SAME("SELECT count(*) FROM m.t WHERE sym = NULL", SQLITE);
	/* SQLite's integer overflow error, from SQLite */
	SAME("SELECT sym, sum(big) FROM m.t GROUP BY sym", SQLITE);
	SAME("SELECT sum(big), total(big), avg(big), min(big) FROM m.t WHERE id < 2", FLOE);
	/* shapes left to SQLite */
	SAME("SELECT sym, count(DISTINCT qty) FROM m.t GROUP BY sym", NOT_REWRITTEN);
	SAME("SELECT sym, count(*) FROM m.t GROUP BY sym HAVING count(*) > 10", NOT_REWRITTEN);
	SAME("SELECT sym, group_concat(qty) FROM m.t WHERE id < 20 GROUP BY sym", NOT_REWRITTEN);
	SAME("SELECT sym, sum(qty) OVER () FROM m.t WHERE id < 5", NOT_REWRITTEN);
	SAME("SELECT count(*) FROM m.t WHERE qty > 1 OR qty < -1", NOT_REWRITTEN);
	SAME("SELECT sum(length(sym)) FROM m.t", NOT_REWRITTEN);
	SAME("SELECT sum(sym), avg(ts) FROM m.t", NOT_REWRITTEN);
	SAME("SELECT sym, count(*) FROM m.t GROUP BY sym ORDER BY count(*) DESC", NOT_REWRITTEN);
	SAME("SELECT DISTINCT sym FROM m.t", NOT_REWRITTEN);
	SAME("SELECT min(px, qty) FROM m.t", NOT_REWRITTEN);
	SAME("SELECT count(*) FROM m.t UNION ALL SELECT count(*) FROM m.t", NOT_REWRITTEN);
	SAME("SELECT sym, count(*) FROM m.t WHERE _as_of = 1 GROUP BY sym", NOT_REWRITTEN);
	SAME("SELECT upper(sym) AS sym, count(*) FROM m.t GROUP BY sym", NOT_REWRITTEN);
	SAME("SELECT count(*) FROM m.t WHERE ts > datetime('2026-11-05')", NOT_REWRITTEN);
	close_env(&e);
}

/* Statements after the first, and the same plan reused. */
TEST(sql_agg_tail_and_plan_reuse)
{
	env e;
	open_env(&e, 0);
	const char *sql = "SELECT count(*) FROM m.t WHERE qty = 1; SELECT 2";
	sqlite3_stmt *st;
	const char *tail = NULL;
	REQUIRE(floe_sql_prepare(e.agg, sql, -1, &st, &tail) == SQLITE_OK);
	CHECK(tail && strcmp(tail, " SELECT 2") == 0);
	REQUIRE(sqlite3_step(st) == SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	int expect = 0;
	for (int i = 0; i < NROWS; i++)
		expect += i % 19 != 0 && i % 17 - 8 == 1;
	CHECK_EQ_INT(n, expect);
	int plans = e.agg->nplans;
	for (int k = 0; k < 3; k++) {
		REQUIRE(floe_sql_prepare(e.agg, "SELECT count(*) FROM m.t WHERE qty = 2", -1, &st,
		                         NULL) == SQLITE_OK);
		REQUIRE(sqlite3_step(st) == SQLITE_ROW);
		sqlite3_finalize(st);
	}
	CHECK_EQ_INT(e.agg->nplans, plans); /* "qty = 1" and "qty = 2" share one */
	/* a syntax error reads as the statement the user wrote */
	CHECK(floe_sql_prepare(e.agg, "SELECT sym, count(*) FROM m.t GROUP BY sym,", -1, &st,
	                       NULL) != SQLITE_OK);
	CHECK(strstr(sqlite3_errmsg(floe_sql_db(e.agg)), "incomplete input") != NULL);
	close_env(&e);
}

/* More groups than the memory budget: SQLite answers, the same. */
TEST(sql_agg_over_budget_goes_to_sqlite)
{
	env e;
	open_env(&e, 65536);
	SAME("SELECT id, count(*), sum(qty) FROM m.t GROUP BY id", SQLITE);
	SAME("SELECT sym, count(*), sum(qty) FROM m.t GROUP BY sym", FLOE);
	close_env(&e);
}
