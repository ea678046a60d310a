/* tests/sql/test_sql_duck.c - floe's SQL layer checked against DuckDB, and
 * its pruning measured. The reference pipeline (examples/stock/pipeline.yaml)
 * is run by the floe binary over simulated trades and quotes (with
 * duplicates, out-of-order, late and malformed events), in two backfills so
 * that every table has an earlier snapshot to travel to. Then each query of
 * `queries` below runs in floe (floe_sql over the warehouse's catalog) and
 * in DuckDB (tests/sql/sql_duck.mjs: the same tables' live Parquet files,
 * found from their Iceberg metadata) and the results must be equal: the
 * same rows in the same order (every query has a total ORDER BY), strings,
 * integers, timestamps (as floe's UTC text) and blobs exactly, doubles
 * within 1e-9 relative; floe must also push the filters it should, and no
 * query may come back empty. The comparison is itself checked on crafted
 * results. The pruning test builds a 30-day table of 720 hourly files and
 * checks that one hour reads under 2% of them and gives the right rows. */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "floe/floe.h"
#include "harness.h"
#include "sql/sql_int.h"

/* ---- the pipeline's warehouse -------------------------------------------- */

static char floe_bin[PATH_MAX + 16];

static const char *floe_path(void)
{
	if (!floe_bin[0]) {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n <= 0)
			return "floe";
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(floe_bin, sizeof floe_bin, "%s/floe", self);
	}
	return floe_bin;
}

/* The tables DuckDB gets as views, all that the pipeline writes and reads. */
static const char *const tables[] = { "silver.trades", "silver.quotes", "gold.bars_1m",
	"gold.bars_5m", "gold.spreads_1m", "gold.features", "bronze.trades",
	"bronze.trades_rejected", NULL };

/* The tables travelled back to: the current snapshot after the first
 * backfill. `key` is the query placeholder for its id, `view` the DuckDB
 * view of that snapshot. */
typedef struct earlier {
	const char *table, *key, *view;
	int64_t snapshot_id;
	char id[32];
} earlier;

typedef struct world {
	char dir[PATH_MAX], wh[PATH_MAX + 8];
	earlier then[3];
	char then_time[48]; /* a UTC time between the two backfills */
} world;

/* Lines [from, to) of `in` into `out`. */
static bool copy_lines(const char *in, const char *out, int from, int to)
{
	size_t len;
	char *text = th_read_file(in, &len);
	FILE *f = text ? fopen(out, "w") : NULL;
	if (!f) {
		free(text);
		return false;
	}
	int line = 0;
	for (char *p = text; *p;) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (line >= from && line < to)
			fwrite(p, 1, n, f);
		line++;
		p += n;
	}
	free(text);
	return fclose(f) == 0;
}

static int count_lines(const char *path)
{
	size_t len;
	char *text = th_read_file(path, &len);
	int n = 0;
	for (size_t i = 0; text && i < len; i++)
		n += text[i] == '\n';
	free(text);
	return n;
}

static int64_t current_snapshot(floe_catalog *cat, const char *ident)
{
	floe_error err;
	floe_table *t;
	const floe_snapshot_info *si;
	int n;
	int64_t id = -1;
	if (floe_table_open(&t, cat, ident, &err)) {
		th_fail(__FILE__, __LINE__, "open %s: %s", ident, err.msg);
		return -1;
	}
	if (floe_table_snapshots(t, &si, &n, &err) == 0)
		for (int i = 0; i < n; i++)
			if (si[i].is_current)
				id = si[i].snapshot_id;
	floe_table_close(t);
	return id;
}

static void utc_now(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out + n, cap - n, ".%06u", (unsigned)(ts.tv_nsec / 1000) % 1000000u);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Simulate about 4 hours of trades and quotes from 21:30 UTC on 2026-11-20
 * (so two days), split each stream in two halves, backfill the first half,
 * note the earlier snapshots and a time, backfill the second. */
static bool make_world(world *w)
{
	snprintf(w->dir, sizeof w->dir, "%.*s", PATH_MAX - 64, th_path("p"));
	snprintf(w->wh, sizeof w->wh, "%s/wh", w->dir);
	w->then[0] = (earlier){ "silver.trades", ":then_trades", "silver.trades_then", -1, "" };
	w->then[1] = (earlier){ "gold.bars_1m", ":then_bars_1m", "gold.bars_1m_then", -1, "" };
	w->then[2] = (earlier){ "gold.bars_5m", ":then_bars_5m", "gold.bars_5m_then", -1, "" };
	if (th_run(NULL, "mkdir -p '%s/landing/trades' '%s/landing/quotes' && "
	           "cp examples/stock/pipeline.yaml '%s/'", w->dir, w->dir, w->dir) != 0) {
		th_fail(__FILE__, __LINE__, "cannot copy examples/stock/pipeline.yaml to %s (run "
		        "the tests from the repository)", w->dir);
		return false;
	}
	if (th_run(NULL, "%s simulate --count 60000 --seed 5 --start 2026-11-20T21:30:00Z "
	           "--sim-rate 4 --faults dup=0.02,ooo=0.05,late=0.02,bad=0.01 --to '%s/trades.ndjson' "
	           "--quotes-to '%s/quotes.ndjson'", floe_path(), w->dir, w->dir) != 0) {
		th_fail(__FILE__, __LINE__, "floe simulate failed");
		return false;
	}
	const char *streams[] = { "trades", "quotes" };
	for (int i = 0; i < 2; i++) {
		char all[PATH_MAX + 64], a[PATH_MAX + 64], b[PATH_MAX + 64];
		snprintf(all, sizeof all, "%s/%s.ndjson", w->dir, streams[i]);
		snprintf(a, sizeof a, "%s/%s-1.ndjson", w->dir, streams[i]);
		snprintf(b, sizeof b, "%s/%s-2.ndjson", w->dir, streams[i]);
		int lines = count_lines(all);
		if (lines < 1000 || !copy_lines(all, a, 0, lines / 2) ||
		    !copy_lines(all, b, lines / 2, lines)) {
			th_fail(__FILE__, __LINE__, "cannot split %s (%d lines)", all, lines);
			return false;
		}
	}
	for (int part = 1; part <= 2; part++) {
		if (th_run(NULL, "%s run '%s/pipeline.yaml' --warehouse '%s' --backfill "
		           "'trades=%s/trades-%d.ndjson' 'quotes=%s/quotes-%d.ndjson' "
		           "--max-batch-rows 4000 2>>'%s/run.log' >/dev/null", floe_path(), w->dir, w->wh,
		           w->dir, part, w->dir, part, w->dir) != 0) {
			th_fail(__FILE__, __LINE__, "floe run, backfill %d, failed (see %s/run.log)", part,
			        w->dir);
			return false;
		}
		if (part == 2)
			break;
		floe_catalog *cat;
		floe_error err;
		if (floe_catalog_open(&cat, w->wh, NULL, &err)) {
			th_fail(__FILE__, __LINE__, "catalog: %s", err.msg);
			return false;
		}
		for (int i = 0; i < 3; i++) {
			w->then[i].snapshot_id = current_snapshot(cat, w->then[i].table);
			snprintf(w->then[i].id, sizeof w->then[i].id, "%" PRId64, w->then[i].snapshot_id);
		}
		floe_catalog_close(cat);
		/* snapshots carry milliseconds: keep clear of both commits */
		sleep_ms(30);
		utc_now(w->then_time, sizeof w->then_time);
		sleep_ms(30);
	}
	for (int i = 0; i < 3; i++)
		if (w->then[i].snapshot_id < 0) {
			th_fail(__FILE__, __LINE__, "%s has no snapshot after the first backfill",
			        w->then[i].table);
			return false;
		}
	return true;
}

/* ---- comparing results ----------------------------------------------------- */

/* A value of a result as JSON: integers, reals, text, null, or
 * {"blob": HEX}. New reference. */
static json_t *sqlite_value_json(sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(st, col));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(st, col));
	case SQLITE_TEXT:
		return json_stringn((const char *)sqlite3_column_text(st, col),
		                    (size_t)sqlite3_column_bytes(st, col));
	case SQLITE_BLOB: {
		const unsigned char *p = sqlite3_column_blob(st, col);
		int n = sqlite3_column_bytes(st, col);
		char *hex = malloc((size_t)n * 2 + 1);
		for (int i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", p[i]);
		hex[2 * n] = '\0';
		json_t *v = json_pack("{s:s}", "blob", hex);
		free(hex);
		return v;
	}
	default:
		return json_null();
	}
}

/* Run `sql` on floe's connection: {"columns": N, "rows": [[...]]}, or NULL
 * with the message in `msg`. New reference. */
static json_t *floe_result(floe_sql *s, const char *sql, char *msg, size_t cap)
{
	sqlite3 *db = floe_sql_db(s);
	sqlite3_stmt *st;
	floe_sql_reset_scans(s);
	if (floe_sql_prepare(s, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(msg, cap, "%s", sqlite3_errmsg(db));
		return NULL;
	}
	json_t *rows = json_array();
	int rc, ncol = sqlite3_column_count(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = json_array();
		for (int i = 0; i < ncol; i++)
			json_array_append_new(row, sqlite_value_json(st, i));
		json_array_append_new(rows, row);
	}
	if (rc != SQLITE_DONE) {
		snprintf(msg, cap, "%s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		json_decref(rows);
		return NULL;
	}
	sqlite3_finalize(st);
	return json_pack("{s:i,s:o}", "columns", ncol, "rows", rows);
}

static bool is_number(const json_t *v)
{
	return json_is_integer(v) || json_is_real(v);
}

/* Doubles agree within 1e-9 relative (the engines add in different
 * orders), or 1e-12 absolute for sums that cancel to about zero. */
static bool same_double(double a, double b)
{
	if (a == b)
		return true;
	double d = fabs(a - b), m = fmax(fabs(a), fabs(b));
	return d <= 1e-9 * m || d <= 1e-12;
}

/* One value of floe's result against DuckDB's: integers exactly, a real on
 * either side within same_double, text and blobs byte for byte. */
static bool same_value(const json_t *f, const json_t *d)
{
	if (json_is_null(f) || json_is_null(d))
		return json_is_null(f) && json_is_null(d);
	if (json_is_integer(f) && json_is_integer(d))
		return json_integer_value(f) == json_integer_value(d);
	if (is_number(f) && is_number(d))
		return same_double(json_number_value(f), json_number_value(d));
	if (json_is_string(f) && json_is_string(d))
		return json_string_length(f) == json_string_length(d) &&
		       memcmp(json_string_value(f), json_string_value(d), json_string_length(f)) == 0;
	if (json_is_object(f) && json_is_object(d))
		return json_equal(json_object_get(f, "blob"), json_object_get(d, "blob")) &&
		       json_object_get(f, "blob") != NULL;
	return false;
}

static void text_of(char *out, size_t cap, const json_t *v)
{
	char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
	snprintf(out, cap, "%s", s ? s : "(none)");
	free(s);
}

/* Compare two results ({"rows": [[...]]}); the differences (up to 3) go
 * into `why`. Returns the number of differences found (rows and cells). */
static int compare_results(const json_t *floe, const json_t *duck, char *why, size_t cap)
{
	const json_t *fr = json_object_get(floe, "rows"), *dr = json_object_get(duck, "rows");
	size_t nf = json_array_size(fr), nd = json_array_size(dr);
	int bad = 0;
	size_t used = 0;
	why[0] = '\0';
#define NOTE(...)                                                                  \
	do {                                                                       \
		if (bad++ < 3 && used < cap)                                       \
			used += (size_t)snprintf(why + used, cap - used, __VA_ARGS__); \
	} while (0)
	if (nf != nd)
		NOTE(" floe %zu rows, duckdb %zu;", nf, nd);
	for (size_t r = 0; r < nf && r < nd; r++) {
		const json_t *a = json_array_get(fr, r), *b = json_array_get(dr, r);
		if (json_array_size(a) != json_array_size(b)) {
			NOTE(" row %zu: floe %zu columns, duckdb %zu;", r, json_array_size(a),
			     json_array_size(b));
			continue;
		}
		for (size_t c = 0; c < json_array_size(a); c++) {
			const json_t *x = json_array_get(a, c), *y = json_array_get(b, c);
			if (!same_value(x, y)) {
				char xs[160], ys[160];
				text_of(xs, sizeof xs, x);
				text_of(ys, sizeof ys, y);
				NOTE(" row %zu column %zu: floe %s, duckdb %s;", r, c + 1, xs, ys);
			}
		}
	}
	if (nf != nd) {
		/* the first row only one side has */
		size_t r = nf < nd ? nf : nd;
		char xs[200];
		text_of(xs, sizeof xs, json_array_get(nf > nd ? fr : dr, r));
		NOTE(" first extra %s row: %s;", nf > nd ? "floe" : "duckdb", xs);
	}
#undef NOTE
	return bad;
}

/* ---- the queries ----------------------------------------------------------- */

/* `sql` is run by both engines unless `duck` gives DuckDB's spelling;
 * `push` (NULL: no check) must occur in the filter floe pushed into one
 * of the query's table scans. Placeholders :then_trades, :then_bars_1m,
 * :then_bars_5m (snapshot ids after the first backfill) and :then_time are
 * replaced in floe's text; DuckDB reads those snapshots as the views
 * silver.trades_then, gold.bars_1m_then, gold.bars_5m_then. Every query
 * must return rows. */
typedef struct dquery {
	const char *name, *sql, *duck, *push;
} dquery;

static const dquery queries[] = {
	/* filters on every column type */
	{ "string_eq",
	  "SELECT trade_id, price, volume, side, event_time FROM silver.trades "
	  "WHERE symbol = 'MSFT' AND exchange = 'IEX' ORDER BY trade_id",
	  NULL, "\"symbol\" = 'MSFT'" },
	{ "string_in",
	  "SELECT symbol, exchange, count(*), sum(volume), min(event_time), max(event_time) "
	  "FROM silver.trades WHERE exchange IN ('NYSE', 'BATS') GROUP BY symbol, exchange "
	  "ORDER BY symbol, exchange",
	  NULL, "\"exchange\" IN (" },
	{ "string_not_in_or",
	  "SELECT side, exchange, count(*), sum(volume) FROM silver.trades "
	  "WHERE exchange NOT IN ('NYSE', 'BATS') OR side = 'BUY' GROUP BY side, exchange "
	  "ORDER BY side, exchange",
	  NULL, NULL },
	{ "like_prefix_id",
	  "SELECT trade_id, symbol, price, event_time FROM silver.trades "
	  "WHERE trade_id LIKE 'T0000000123%' ORDER BY trade_id",
	  NULL, "\"trade_id\" >= 'T0000000123'" },
	{ "like_prefix_symbol",
	  /* SQLite's LIKE ignores ASCII case, DuckDB's does not: Silver's
	   * symbols are upper case, so both mean the same here */
	  "SELECT symbol, count(*), min(price), max(price), sum(volume) FROM silver.trades "
	  "WHERE symbol LIKE 'A%' GROUP BY symbol ORDER BY symbol",
	  NULL, "\"symbol\" >= 'A'" },
	{ "long_range",
	  "SELECT trade_id, symbol, volume, price FROM silver.trades WHERE volume >= 5000 "
	  "ORDER BY trade_id",
	  NULL, "\"volume\" >= 5000" },
	{ "long_eq",
	  "SELECT symbol, side, count(*), min(trade_id) FROM silver.trades WHERE volume = 100 "
	  "GROUP BY symbol, side ORDER BY symbol, side",
	  NULL, "\"volume\" = 100" },
	{ "long_between",
	  "SELECT symbol, window_start, trade_count, volume, vwap FROM gold.bars_5m "
	  "WHERE trade_count BETWEEN 100 AND 120 ORDER BY symbol, window_start",
	  NULL, "\"trade_count\" <= 120" },
	{ "double_range",
	  "SELECT trade_id, price, volume FROM silver.trades "
	  "WHERE symbol = 'AAPL' AND price > 197.5 AND price <= 198.16 ORDER BY trade_id",
	  NULL, "\"price\" > 197.5" },
	{ "double_eq",
	  "SELECT trade_id, symbol, volume, event_time FROM silver.trades WHERE price = 146.11 "
	  "ORDER BY trade_id",
	  NULL, "\"price\" = 146.11" },
	{ "bool_false",
	  "SELECT symbol, window_start, close, volume, trade_count FROM gold.bars_1m "
	  "WHERE is_final = 0 ORDER BY symbol, window_start",
	  NULL, "\"is_final\" = false" },
	{ "bool_true",
	  "SELECT symbol, count(*), sum(trade_count), max(window_end) FROM gold.bars_1m "
	  "WHERE is_final = 1 GROUP BY symbol ORDER BY symbol",
	  NULL, "\"is_final\" = true" },
	{ "ts_range_across_midnight",
	  "SELECT trade_id, symbol, price, event_time FROM silver.trades "
	  "WHERE event_time >= '2026-11-20 23:59:30' AND event_time < '2026-11-21 00:00:30' "
	  "ORDER BY event_time, trade_id",
	  NULL, "\"event_time\" >= '2026-11-20 23:59:30'" },
	{ "ts_eq_trade",
	  "SELECT trade_id, symbol, price FROM silver.trades "
	  "WHERE event_time = '2026-11-20 23:12:31.842021' ORDER BY trade_id",
	  NULL, "\"event_time\" = '2026-11-20 23:12:31.842021'" },
	{ "ts_eq_bar",
	  "SELECT symbol, open, high, low, close, volume, is_final FROM gold.bars_1m "
	  "WHERE window_start = '2026-11-21 00:00:00.000000' ORDER BY symbol",
	  NULL, "\"window_start\" = " },
	{ "ts_date_prefix",
	  "SELECT symbol, count(*), min(event_time), max(event_time) FROM silver.trades "
	  "WHERE event_time >= '2026-11-21' GROUP BY symbol ORDER BY symbol",
	  NULL, "\"event_time\" >= '2026-11-21'" },
	{ "ts_tail",
	  "SELECT trade_id, event_time, volume FROM silver.trades "
	  "WHERE event_time > '2026-11-21 01:30:00' ORDER BY event_time, trade_id",
	  NULL, "\"event_time\" >= '2026-11-21 01:30:00'" },
	{ "null_double",
	  "SELECT symbol, minute, close, ret_1m, ret_5m, volatility_15m FROM gold.features "
	  "WHERE ret_15m IS NULL ORDER BY symbol, minute",
	  NULL, NULL },
	{ "not_null_double",
	  "SELECT symbol, count(*), min(ret_15m), max(ret_15m), avg(volatility_15m), "
	  "sum(order_flow_imbalance) FROM gold.features WHERE ret_15m IS NOT NULL "
	  "GROUP BY symbol ORDER BY symbol",
	  NULL, NULL },
	{ "null_int_and_ingest_time",
	  "SELECT _source, count(*), min(_offset), max(_offset), min(_ingest_time), "
	  "max(_ingest_time) FROM bronze.trades WHERE _partition IS NULL GROUP BY _source "
	  "ORDER BY _source",
	  NULL, "\"_partition\" IS NULL" },
	{ "binary",
	  "SELECT _source, _offset, _raw, _reason FROM bronze.trades_rejected "
	  "WHERE _reason LIKE 'missing%' ORDER BY _source, _offset",
	  NULL, NULL },
	{ "string_range",
	  "SELECT trade_id, symbol, volume FROM silver.trades "
	  "WHERE trade_id > 'T000000019950' AND trade_id <= 'T000000020010' ORDER BY trade_id",
	  NULL, "\"trade_id\" > 'T000000019950'" },
	{ "glob_prefix",
	  "SELECT symbol, side, count(*), sum(volume) FROM silver.trades WHERE symbol GLOB 'MS*' "
	  "GROUP BY symbol, side ORDER BY count(*), side",
	  NULL, "\"symbol\" >= 'MS'" },
	{ "nocase_not_pushed",
	  "SELECT exchange, count(*) FROM silver.trades WHERE symbol = 'tsla' COLLATE NOCASE "
	  "GROUP BY exchange ORDER BY exchange DESC",
	  NULL, NULL },
	{ "double_vs_integer_literal",
	  "SELECT trade_id, price FROM silver.trades WHERE price >= 146 AND price < 146.05 "
	  "AND volume > 99.5 ORDER BY trade_id",
	  NULL, "\"price\" >= 146" },
	{ "ts_between",
	  "SELECT symbol, window_start, trade_count FROM gold.bars_1m "
	  /* both bounds spelled in full: as text, '23:05:00.000000' is after
	   * '23:05:00', so a shorter upper bound would leave that bar out */
	  "WHERE window_start BETWEEN '2026-11-20 23:00:00.000000' AND '2026-11-20 23:05:00.000000' "
	  "ORDER BY window_start, symbol",
	  NULL, "\"window_start\" <= '2026-11-20 23:05:00.000000'" },
	{ "in_subquery",
	  "SELECT symbol, window_start, close FROM gold.bars_5m WHERE symbol IN "
	  "(SELECT symbol FROM gold.bars_1m WHERE close > 300) AND window_start < '2026-11-20 22:00:00' "
	  "ORDER BY symbol, window_start",
	  NULL, NULL },
	{ "distinct",
	  "SELECT DISTINCT exchange, side FROM silver.trades WHERE volume > 1000 "
	  "ORDER BY exchange, side",
	  NULL, "\"volume\" > 1000" },
	{ "nulls_first_order",
	  "SELECT symbol, minute, ret_15m FROM gold.features WHERE symbol = 'TSLA' "
	  "ORDER BY ret_15m NULLS FIRST, minute LIMIT 25",
	  NULL, "\"symbol\" = 'TSLA'" },
	{ "group_by_column_and_expression",
	  "SELECT exchange, substr(CAST(event_time AS TEXT), 1, 13) AS hour, count(*), max(price) "
	  "FROM silver.trades WHERE symbol = 'GOOGL' GROUP BY exchange, hour ORDER BY hour, exchange",
	  NULL, "\"symbol\" = 'GOOGL'" },
	{ "select_star_limit",
	  "SELECT * FROM gold.bars_5m WHERE symbol = 'TSLA' ORDER BY window_start LIMIT 12", NULL,
	  "\"symbol\" = 'TSLA'" },

	/* joins between Silver and Gold */
	{ "join_trades_to_their_bar",
	  "SELECT b.symbol, b.window_start, b.volume, b.trade_count, count(*), sum(t.volume), "
	  "min(t.price), max(t.price) FROM gold.bars_1m b JOIN silver.trades t "
	  "ON t.symbol = b.symbol AND t.event_time >= b.window_start AND t.event_time < b.window_end "
	  "WHERE b.symbol = 'TSLA' AND b.window_start >= '2026-11-20 23:50:00' "
	  "AND b.window_start < '2026-11-21 00:10:00' "
	  "GROUP BY b.symbol, b.window_start, b.volume, b.trade_count ORDER BY b.window_start",
	  NULL, NULL },
	{ "join_minute_cte",
	  "WITH t AS MATERIALIZED (SELECT symbol, substr(CAST(event_time AS TEXT), 1, 16) AS minute, "
	  "count(*) AS n, sum(volume) AS v, sum(price * volume) AS pv FROM silver.trades "
	  "WHERE symbol = 'GOOGL' GROUP BY symbol, minute) "
	  "SELECT b.window_start, b.trade_count, t.n, b.volume, t.v, b.vwap, t.pv / t.v "
	  "FROM gold.bars_1m b JOIN t ON t.symbol = b.symbol "
	  "AND t.minute = substr(CAST(b.window_start AS TEXT), 1, 16) ORDER BY b.window_start",
	  NULL, "\"symbol\" = 'GOOGL'" },
	{ "join_bars_spreads",
	  "SELECT b.symbol, b.window_start, b.close, s.mid_price, b.close - s.mid_price, "
	  "s.quote_count FROM gold.bars_1m b JOIN gold.spreads_1m s "
	  "ON s.symbol = b.symbol AND s.window_start = b.window_start WHERE b.symbol = 'AAPL' "
	  "ORDER BY b.window_start",
	  NULL, NULL },
	{ "join_5m_to_1m",
	  "SELECT f.symbol, f.window_start, f.volume, sum(m.volume), f.high, max(m.high), "
	  "f.low, min(m.low), count(*) FROM gold.bars_5m f JOIN gold.bars_1m m "
	  "ON m.symbol = f.symbol AND m.window_start >= f.window_start "
	  "AND m.window_start < f.window_end WHERE f.symbol = 'MSFT' "
	  "GROUP BY f.symbol, f.window_start, f.volume, f.high, f.low ORDER BY f.window_start",
	  NULL, NULL },
	{ "left_join_features",
	  "WITH x AS MATERIALIZED (SELECT symbol, minute, ret_1m FROM gold.features) "
	  "SELECT b.symbol, count(*), count(x.symbol), count(x.ret_1m), sum(b.volume) "
	  "FROM gold.bars_1m b LEFT JOIN x ON x.symbol = b.symbol AND x.minute = b.window_start "
	  "GROUP BY b.symbol ORDER BY b.symbol",
	  NULL, NULL },

	/* aggregations */
	{ "agg_symbol_day",
	  "SELECT symbol, substr(CAST(event_time AS TEXT), 1, 10) AS day, count(*), sum(volume), "
	  "min(price), max(price), avg(price), sum(price * volume) / sum(volume) "
	  "FROM silver.trades GROUP BY symbol, day ORDER BY symbol, day",
	  NULL, NULL },
	{ "agg_quotes",
	  "SELECT symbol, exchange, count(*), avg(ask - bid), max(ask - bid), min(bid), max(ask) "
	  "FROM silver.quotes GROUP BY symbol, exchange ORDER BY symbol, exchange",
	  NULL, NULL },
	{ "agg_distinct_having",
	  "SELECT symbol, count(DISTINCT exchange), count(DISTINCT side), count(*) "
	  "FROM silver.trades GROUP BY symbol HAVING count(*) > 1000 ORDER BY symbol",
	  NULL, NULL },
	{ "agg_with_nulls",
	  "SELECT symbol, count(*), count(volatility), avg(volatility), "
	  "sum(CASE WHEN is_final THEN 1 ELSE 0 END), sum(buy_volume) - sum(sell_volume) "
	  "FROM gold.bars_1m GROUP BY symbol ORDER BY symbol",
	  NULL, NULL },

	/* window functions */
	{ "window_row_number",
	  "SELECT symbol, window_start, close, rn FROM (SELECT symbol, window_start, close, "
	  "row_number() OVER (PARTITION BY symbol ORDER BY window_start DESC) AS rn "
	  "FROM gold.bars_1m) WHERE rn <= 3 ORDER BY symbol, window_start",
	  NULL, NULL },
	{ "window_lag",
	  "SELECT symbol, window_start, close, lag(close) OVER w, close - lag(close) OVER w, "
	  "lag(window_start, 2) OVER w FROM gold.bars_5m "
	  "WINDOW w AS (PARTITION BY symbol ORDER BY window_start) ORDER BY symbol, window_start",
	  NULL, NULL },
	{ "window_moving_average",
	  "SELECT symbol, window_start, avg(close) OVER (PARTITION BY symbol ORDER BY window_start "
	  "ROWS BETWEEN 4 PRECEDING AND CURRENT ROW), sum(volume) OVER (PARTITION BY symbol "
	  "ORDER BY window_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) "
	  "FROM gold.bars_1m WHERE symbol IN ('AMZN', 'MSFT') ORDER BY symbol, window_start",
	  NULL, "\"symbol\" IN (" },
	{ "window_rank_trades",
	  "SELECT symbol, r, trade_id, volume FROM (SELECT symbol, trade_id, volume, "
	  "rank() OVER (PARTITION BY symbol ORDER BY volume DESC) AS r FROM silver.trades "
	  "WHERE exchange = 'IEX') WHERE r <= 3 ORDER BY symbol, r, trade_id",
	  NULL, "\"exchange\" = 'IEX'" },

	/* CTEs, ORDER BY and LIMIT */
	{ "cte_hourly",
	  "WITH hourly AS (SELECT symbol, substr(CAST(window_start AS TEXT), 1, 13) AS hour, "
	  "sum(volume) AS v, max(high) AS hi, min(low) AS lo FROM gold.bars_1m "
	  "GROUP BY symbol, hour) SELECT hour, count(*), sum(v), max(hi - lo) FROM hourly "
	  "GROUP BY hour ORDER BY hour",
	  NULL, NULL },
	{ "top_volume_limit",
	  "SELECT trade_id, symbol, price, volume FROM silver.trades "
	  "ORDER BY volume DESC, trade_id LIMIT 10",
	  NULL, NULL },
	{ "filtered_limit",
	  "SELECT trade_id, price, event_time FROM silver.trades WHERE symbol = 'AMZN' "
	  "ORDER BY event_time DESC, trade_id LIMIT 5",
	  NULL, "\"symbol\" = 'AMZN'" },
	{ "limit_offset",
	  "SELECT symbol, window_start, close FROM gold.bars_1m ORDER BY window_start, symbol "
	  "LIMIT 7 OFFSET 100",
	  NULL, NULL },

	/* time ranges relative to the data */
	{ "movers_last_hour",
	  "SELECT symbol, first_open, last_close, last_close / first_open - 1 AS move FROM ("
	  "SELECT DISTINCT symbol, first_value(open) OVER w AS first_open, "
	  "last_value(close) OVER w AS last_close FROM gold.bars_1m WHERE window_start >= "
	  "(SELECT datetime(max(window_start), '-1 hour') FROM gold.bars_1m) "
	  "WINDOW w AS (PARTITION BY symbol ORDER BY window_start "
	  "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) ORDER BY move DESC, symbol",
	  "SELECT symbol, first_open, last_close, last_close / first_open - 1 AS move FROM ("
	  "SELECT DISTINCT symbol, first_value(open) OVER w AS first_open, "
	  "last_value(close) OVER w AS last_close FROM gold.bars_1m WHERE window_start >= "
	  "(SELECT max(window_start) - INTERVAL 1 HOUR FROM gold.bars_1m) "
	  "WINDOW w AS (PARTITION BY symbol ORDER BY window_start "
	  "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) ORDER BY move DESC, symbol",
	  "\"window_start\" >= " },
	{ "trades_last_30_minutes",
	  /* datetime() drops the fraction: put it back */
	  "SELECT symbol, count(*), sum(volume), min(event_time) FROM silver.trades "
	  "WHERE event_time >= (SELECT datetime(max(event_time), '-30 minutes') || "
	  "substr(max(event_time), 20) FROM silver.trades) GROUP BY symbol ORDER BY symbol",
	  "SELECT symbol, count(*), sum(volume), min(event_time) FROM silver.trades "
	  "WHERE event_time >= (SELECT max(event_time) - INTERVAL 30 MINUTE FROM silver.trades) "
	  "GROUP BY symbol ORDER BY symbol",
	  NULL },

	/* time travel */
	{ "asof_bars_by_id",
	  "SELECT symbol, count(*), max(window_start), sum(volume), "
	  "sum(CASE WHEN is_final THEN 1 ELSE 0 END) FROM gold.bars_1m(:then_bars_1m) "
	  "GROUP BY symbol ORDER BY symbol",
	  "SELECT symbol, count(*), max(window_start), sum(volume), "
	  "sum(CASE WHEN is_final THEN 1 ELSE 0 END) FROM gold.bars_1m_then "
	  "GROUP BY symbol ORDER BY symbol",
	  NULL },
	{ "asof_changed_bars",
	  "WITH o AS MATERIALIZED (SELECT symbol, window_start, close, volume, is_final "
	  "FROM gold.bars_1m(:then_bars_1m)) SELECT n.symbol, n.window_start, o.close, n.close, "
	  "o.volume, n.volume, o.is_final, n.is_final FROM gold.bars_1m n JOIN o "
	  "ON o.symbol = n.symbol AND o.window_start = n.window_start "
	  "WHERE o.volume <> n.volume OR o.is_final <> n.is_final ORDER BY n.symbol, n.window_start",
	  "WITH o AS MATERIALIZED (SELECT symbol, window_start, close, volume, is_final "
	  "FROM gold.bars_1m_then) SELECT n.symbol, n.window_start, o.close, n.close, "
	  "o.volume, n.volume, o.is_final, n.is_final FROM gold.bars_1m n JOIN o "
	  "ON o.symbol = n.symbol AND o.window_start = n.window_start "
	  "WHERE o.volume <> n.volume OR o.is_final <> n.is_final ORDER BY n.symbol, n.window_start",
	  NULL },
	{ "asof_trades_where",
	  "SELECT symbol, count(*), sum(volume), max(event_time) FROM \"silver.trades\" "
	  "WHERE _as_of = :then_trades GROUP BY symbol ORDER BY symbol",
	  "SELECT symbol, count(*), sum(volume), max(event_time) FROM silver.trades_then "
	  "GROUP BY symbol ORDER BY symbol",
	  NULL },
	{ "asof_time",
	  "SELECT count(*), sum(volume), min(window_start), max(window_start) "
	  "FROM gold.bars_5m(':then_time')",
	  "SELECT count(*), sum(volume), min(window_start), max(window_start) "
	  "FROM gold.bars_5m_then",
	  NULL },
	{ "asof_new_trades",
	  "SELECT symbol, count(*), min(event_time) FROM silver.trades WHERE trade_id NOT IN "
	  "(SELECT trade_id FROM silver.trades(:then_trades)) GROUP BY symbol ORDER BY symbol",
	  "SELECT symbol, count(*), min(event_time) FROM silver.trades WHERE trade_id NOT IN "
	  "(SELECT trade_id FROM silver.trades_then) GROUP BY symbol ORDER BY symbol",
	  NULL },
};

#define NQUERIES (sizeof queries / sizeof queries[0])

/* `sql` with every placeholder of `w` replaced (malloc'ed). */
static char *with_values(const char *sql, const world *w)
{
	const char *keys[4], *vals[4];
	for (int i = 0; i < 3; i++) {
		keys[i] = w->then[i].key;
		vals[i] = w->then[i].id;
	}
	keys[3] = ":then_time";
	vals[3] = w->then_time;
	size_t cap = strlen(sql) * 2 + 256, n = 0;
	char *out = malloc(cap);
	while (*sql) {
		int k = -1;
		for (int i = 0; i < 4 && k < 0; i++)
			if (strncmp(sql, keys[i], strlen(keys[i])) == 0)
				k = i;
		const char *piece = k >= 0 ? vals[k] : sql;
		size_t len = k >= 0 ? strlen(vals[k]) : 1;
		if (n + len + 1 > cap)
			out = realloc(out, cap = (n + len + 1) * 2);
		memcpy(out + n, piece, len);
		n += len;
		sql += k >= 0 ? strlen(keys[k]) : 1;
	}
	out[n] = '\0';
	return out;
}

/* The job for sql_duck.mjs: every table at its current snapshot, the
 * earlier snapshots as their own views, and DuckDB's query texts. */
static bool write_job(const char *path, const world *w, floe_catalog *cat)
{
	json_t *tabs = json_array(), *qs = json_array();
	floe_error err;
	bool ok = true;
	for (int i = 0; tables[i] && ok; i++) {
		floe_table *t;
		if (floe_table_open(&t, cat, tables[i], &err)) {
			th_fail(__FILE__, __LINE__, "open %s: %s", tables[i], err.msg);
			ok = false;
			break;
		}
		const char *meta = floe_table_metadata_location(t);
		json_array_append_new(tabs, json_pack("{s:s,s:s}", "view", tables[i], "metadata", meta));
		for (int k = 0; k < 3; k++)
			if (strcmp(w->then[k].table, tables[i]) == 0)
				json_array_append_new(tabs, json_pack("{s:s,s:s,s:s}", "view", w->then[k].view,
				                                      "metadata", meta, "snapshot",
				                                      w->then[k].id));
		floe_table_close(t);
	}
	for (size_t i = 0; i < NQUERIES; i++)
		json_array_append_new(qs, json_pack("{s:s,s:s}", "name", queries[i].name, "sql",
		                                    queries[i].duck ? queries[i].duck : queries[i].sql));
	json_t *job = json_pack("{s:o,s:o}", "tables", tabs, "queries", qs);
	if (ok && json_dump_file(job, path, JSON_INDENT(1)) != 0) {
		th_fail(__FILE__, __LINE__, "cannot write %s", path);
		ok = false;
	}
	json_decref(job);
	return ok;
}

/* DuckDB's results by query name (a JSON object); NULL when the runner
 * could not start or read the tables. */
static json_t *duck_results(const char *peers, const char *job)
{
	char *out = NULL;
	const char *log = th_path("sql_duck.err");
	int rc = th_run(&out, "node tests/sql/sql_duck.mjs '%s' '%s' 2>'%s'", peers, job, log);
	if (rc != 0 && rc != 1) {
		char *msg = th_read_file(log, NULL);
		th_fail(__FILE__, __LINE__, "sql_duck.mjs exited %d: %s", rc, msg ? msg : "");
		free(msg);
		free(out);
		return NULL;
	}
	json_t *by_name = json_object();
	for (char *line = out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);
		const char *name = json_string_value(json_object_get(j, "name"));
		if (name)
			json_object_set(by_name, name, j);
		else if (*line)
			th_fail(__FILE__, __LINE__, "sql_duck.mjs printed a line that is not a result: %.200s",
			        line);
		json_decref(j);
		line = nl ? nl + 1 : line + strlen(line);
	}
	free(out);
	return by_name;
}

/* ---- tests ----------------------------------------------------------------- */

/* The comparison itself: equal results pass, and a changed value, a missing
 * row, a reordered row, a lost NULL, a type change and a blob byte are each
 * found; doubles within 1e-9 relative pass. Needs neither DuckDB nor data. */
TEST(sql_duck_comparison_finds_differences)
{
	floe_catalog *cat;
	floe_sql *s;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&cat, th_path("wh"), NULL, &err), &err);
	REQUIRE_OK(floe_sql_open(&s, cat, NULL, &err), &err);
	char msg[256], why[1024];
	json_t *f = floe_result(s, "SELECT 'AAPL', 7, 0.1 + 0.2, NULL, x'00ff' UNION ALL "
	                        "SELECT 'MSFT', 9007199254740993, 1e300, 2.5, x'' ORDER BY 1", msg,
	                        sizeof msg);
	REQUIRE(f != NULL);
	static const struct {
		const char *duck;
		int bad;
	} cases[] = {
		{ "[[\"AAPL\",7,0.30000000000000004,null,{\"blob\":\"00ff\"}],"
		  "[\"MSFT\",9007199254740993,1e300,2.5,{\"blob\":\"\"}]]", 0 },
		{ "[[\"AAPL\",7,0.3,null,{\"blob\":\"00ff\"}],"
		  "[\"MSFT\",9007199254740993,1.0000000000001e300,2.5,{\"blob\":\"\"}]]", 0 },
		{ "[[\"AAPL\",7,0.3000001,null,{\"blob\":\"00ff\"}],"
		  "[\"MSFT\",9007199254740993,1e300,2.5,{\"blob\":\"\"}]]", 1 },
		{ "[[\"AAPL\",7,0.3,null,{\"blob\":\"00ff\"}],"
		  "[\"MSFT\",9007199254740992,1e300,2.5,{\"blob\":\"\"}]]", 1 },
		{ "[[\"AAPL\",7,0.3,null,{\"blob\":\"00ff\"}]]", 2 },
		{ "[[\"MSFT\",9007199254740993,1e300,2.5,{\"blob\":\"\"}],"
		  "[\"AAPL\",7,0.3,null,{\"blob\":\"00ff\"}]]", 10 },
		{ "[[\"AAPL\",7,0.3,0,{\"blob\":\"00ff\"}],"
		  "[\"MSFT\",9007199254740993,1e300,2.5,{\"blob\":\"\"}]]", 1 },
		{ "[[\"AAPL\",\"7\",0.3,null,{\"blob\":\"00ff\"}],"
		  "[\"MSFT\",9007199254740993,1e300,2.5,{\"blob\":\"\"}]]", 1 },
		{ "[[\"AAPL\",7,0.3,null,{\"blob\":\"00fe\"}],"
		  "[\"MSFT\",9007199254740993,1e300,2.5,{\"blob\":\"\"}]]", 1 },
		{ "[[\"AAPL\",7,0.3,null],"
		  "[\"MSFT\",9007199254740993,1e300,2.5,{\"blob\":\"\"}]]", 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *rows = json_loads(cases[i].duck, 0, NULL);
		REQUIRE(rows != NULL);
		json_t *d = json_pack("{s:o}", "rows", rows);
		int bad = compare_results(f, d, why, sizeof why);
		if (cases[i].bad == 10 ? bad < 4 : bad != cases[i].bad)
			th_fail(__FILE__, __LINE__, "case %zu: %d differences, want %d:%s", i, bad,
			        cases[i].bad, why);
		json_decref(d);
	}
	json_decref(f);
	floe_sql_close(s);
	floe_catalog_close(cat);
}

/* Every query gives the same rows in floe and in DuckDB over the same data
 * files, floe pushes the filters it should, and no query is empty. */
TEST(sql_duck_queries_agree)
{
	const char *peers = th_peers();
	static world w;
	REQUIRE(make_world(&w));
	floe_catalog *cat;
	floe_sql *s;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&cat, w.wh, NULL, &err), &err);
	REQUIRE_OK(floe_sql_open(&s, cat, NULL, &err), &err);
	const char *job = th_path("job.json");
	REQUIRE(write_job(job, &w, cat));
	json_t *duck = duck_results(peers, job);
	REQUIRE(duck != NULL);
	/* the first 10 wrong queries in detail, the others by name (the test
	 * log has room for about 16 KiB) */
	int agreed = 0, detailed = 0;
	char others[1024] = "";
	for (size_t i = 0; i < NQUERIES; i++) {
		const dquery *q = &queries[i];
		char *sql = with_values(q->sql, &w), msg[512], why[1024], problem[1800] = "";
		json_t *d = json_object_get(duck, q->name);
		const char *derr = json_string_value(json_object_get(d, "error"));
		json_t *f = floe_result(s, sql, msg, sizeof msg);
		if (!f)
			snprintf(problem, sizeof problem, "floe: %s", msg);
		else if (!d || derr)
			snprintf(problem, sizeof problem, "duckdb: %.1000s", derr ? derr : "no result");
		else {
			size_t nf = json_array_size(json_object_get(f, "rows"));
			json_int_t fc = json_integer_value(json_object_get(f, "columns"));
			size_t dc = json_array_size(json_object_get(d, "columns"));
			if (compare_results(f, d, why, sizeof why) > 0)
				snprintf(problem, sizeof problem, "differs:%s", why);
			else if ((size_t)fc != dc)
				snprintf(problem, sizeof problem, "floe %lld columns, duckdb %zu",
				         (long long)fc, dc);
			else if (nf == 0)
				snprintf(problem, sizeof problem, "no rows in either engine: the query no "
				         "longer fits the simulated data");
			else
				agreed++;
		}
		if (f && q->push) {
			const floe_sql_scan_info *sc;
			int n, k = 0;
			floe_sql_scans(s, &sc, &n);
			while (k < n && !strstr(sc[k].where, q->push))
				k++;
			if (k == n && !problem[0])
				snprintf(problem, sizeof problem, "no scan of its %d had a pushed filter "
				         "holding %s (the first: \"%.200s\")", n, q->push,
				         n ? sc[0].where : "");
		}
		if (problem[0] && detailed++ < 10)
			th_fail(__FILE__, __LINE__, "%s %s\n      %.400s", q->name, problem, sql);
		else if (problem[0] && strlen(others) + strlen(q->name) + 2 < sizeof others)
			strcat(strcat(others, " "), q->name);
		json_decref(f);
		free(sql);
	}
	if (others[0])
		th_fail(__FILE__, __LINE__, "also wrong:%s", others);
	CHECK_EQ_INT(agreed, (int)NQUERIES);
	CHECK(NQUERIES >= 25);
	/* the plain aggregations among them were computed by floe itself
	 * (src/sql/agg.c), and still agree with DuckDB */
	CHECK(s->agg_floe >= 5);
	/* the time travel read the earlier snapshots, not the current ones */
	char sql[256], msg[256];
	snprintf(sql, sizeof sql, "SELECT DISTINCT _as_of FROM gold.bars_1m(%s)", w.then[1].id);
	json_t *f = floe_result(s, sql, msg, sizeof msg);
	const json_t *rows = json_object_get(f, "rows");
	CHECK_EQ_INT(json_array_size(rows), 1);
	CHECK_EQ_INT(json_integer_value(json_array_get(json_array_get(rows, 0), 0)),
	             w.then[1].snapshot_id);
	CHECK(current_snapshot(cat, "gold.bars_1m") != w.then[1].snapshot_id);
	json_decref(f);
	json_decref(duck);
	floe_sql_close(s);
	floe_catalog_close(cat);
}

/* ---- pruning --------------------------------------------------------------- */

#define DAYS 30
#define ROWS_PER_HOUR 3
#define T0_US INT64_C(1793491200000000) /* 2026-11-01 00:00:00 UTC */
#define HOUR_US INT64_C(3600000000)

static const char trades_schema[] =
	"trade_id string not null, symbol string not null, price double not null, "
	"volume long not null, side string not null, exchange string not null, "
	"event_time timestamptz not null";

/* Row k of hour h: 20 minutes apart, a few seconds past. */
static int64_t row_time(int h, int k)
{
	return T0_US + (int64_t)h * HOUR_US + (int64_t)k * 1200000000 + (int64_t)(h % 7) * 1000000;
}

static int count_file(void *ctx, const floe_file_info *f, floe_error *err)
{
	(void)err;
	if (f->content == 0)
		++*(int *)ctx;
	return 0;
}

/* A Silver-like trades table (day(event_time) partitions) written as a
 * daily job writes it: one commit a day of 24 hourly files (the target file
 * size is one byte, so every batch closes its file), 720 data files in 30
 * manifests, in time order. A one-hour filter reads one file (two when the
 * hour straddles two files), under 2% of them, and the right rows. */
TEST(sql_one_hour_of_30_days_reads_under_2_percent_of_files)
{
	floe_catalog *cat;
	floe_error err;
	floe_table *t;
	REQUIRE_OK(floe_catalog_open(&cat, th_path("wh"), NULL, &err), &err);
	static const char *const props[] = { "write.target-file-size-bytes=1" };
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = trades_schema;
	co.partition = "day(event_time)";
	co.identifier = "trade_id";
	co.properties = props;
	co.nproperties = 1;
	REQUIRE_OK(floe_table_create(&t, cat, "silver.trades", &co, &err), &err);
	floe_arena *ar = floe_arena_new(0);
	floe_schema *sc;
	REQUIRE_OK(floe_schema_parse(&sc, trades_schema, ar, &err), &err);
	floe_batch_builder *b;
	REQUIRE_OK(floe_batch_builder_new(&b, sc, &err), &err);
	static const char *const syms[] = { "AAPL", "MSFT", "TSLA" };
	for (int day = 0; day < DAYS; day++) {
		floe_append *a;
		REQUIRE_OK(floe_append_begin(&a, t, &err), &err);
		for (int h = day * 24; h < (day + 1) * 24; h++) {
			floe_batch_builder_clear(b);
			for (int k = 0; k < ROWS_PER_HOUR; k++) {
				char id[16];
				int n = snprintf(id, sizeof id, "T%06d", h * ROWS_PER_HOUR + k);
				const char *sym = syms[(h + k) % 3];
				REQUIRE_OK(floe_batch_builder_bytes(b, 0, id, n, &err) ||
				           floe_batch_builder_bytes(b, 1, sym, (int64_t)strlen(sym), &err) ||
				           floe_batch_builder_f64(b, 2, 100 + h % 50 + k * 0.25, &err) ||
				           floe_batch_builder_i64(b, 3, 100 * (k + 1), &err) ||
				           floe_batch_builder_bytes(b, 4, k % 2 ? "SELL" : "BUY", k % 2 ? 4 : 3,
				                                    &err) ||
				           floe_batch_builder_bytes(b, 5, "NYSE", 4, &err) ||
				           floe_batch_builder_i64(b, 6, row_time(h, k), &err), &err);
			}
			REQUIRE_OK(floe_append_batch(a, floe_batch_builder_view(b), &err), &err);
		}
		REQUIRE_OK(floe_append_commit(a, NULL, &err), &err);
	}
	floe_batch_builder_free(b);
	floe_arena_free(ar);
	/* the data files of the table: the live data files of its current
	 * snapshot */
	int live = 0;
	floe_snapshot_sel cur = { .kind = FLOE_SNAPSHOT_CURRENT };
	REQUIRE_OK(floe_table_files(t, &cur, count_file, &live, &err), &err);
	CHECK_EQ_INT(live, DAYS * 24);
	floe_table_close(t);

	floe_sql *s;
	REQUIRE_OK(floe_sql_open(&s, cat, NULL, &err), &err);
	static const struct {
		const char *from, *to;
		int files;     /* the files holding rows of the hour */
		int manifests; /* the days' manifests the hour touches */
	} hours[] = {
		{ "2026-11-17 13:00:00", "2026-11-17 14:00:00", 1, 1 },
		{ "2026-11-17 13:30:00", "2026-11-17 14:30:00", 2, 1 },
		{ "2026-11-30 23:00:00", "2026-12-01 00:00:00", 1, 1 },
		{ "2026-11-09 23:30:00", "2026-11-10 00:30:00", 2, 2 }, /* across midnight */
	};
	for (size_t i = 0; i < sizeof hours / sizeof hours[0]; i++) {
		/* the model: rows whose time lies in the hour */
		char a[48], z[48];
		snprintf(a, sizeof a, "%s.000000", hours[i].from);
		snprintf(z, sizeof z, "%s.000000", hours[i].to);
		int64_t want = 0, want_volume = 0;
		for (int h = 0; h < DAYS * 24; h++)
			for (int k = 0; k < ROWS_PER_HOUR; k++) {
				int64_t us = row_time(h, k);
				time_t sec = (time_t)(us / 1000000);
				struct tm tm;
				char txt[48];
				gmtime_r(&sec, &tm);
				snprintf(txt, sizeof txt, "%04d-%02d-%02d %02d:%02d:%02d.%06d",
				         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
				         tm.tm_sec, (int)(us % 1000000));
				if (strcmp(txt, a) >= 0 && strcmp(txt, z) < 0) {
					want++;
					want_volume += 100 * (k + 1);
				}
			}
		char sql[512], msg[256];
		snprintf(sql, sizeof sql, "SELECT count(*), sum(volume) FROM silver.trades "
		         "WHERE event_time >= '%s' AND event_time < '%s'", hours[i].from, hours[i].to);
		json_t *f = floe_result(s, sql, msg, sizeof msg);
		if (!f) {
			th_fail(__FILE__, __LINE__, "%s: %s", sql, msg);
			continue;
		}
		const json_t *row = json_array_get(json_object_get(f, "rows"), 0);
		CHECK(want > 0);
		CHECK_EQ_INT(json_integer_value(json_array_get(row, 0)), want);
		CHECK_EQ_INT(json_integer_value(json_array_get(row, 1)), want_volume);
		json_decref(f);
		const floe_sql_scan_info *si;
		int n;
		floe_sql_scans(s, &si, &n);
		REQUIRE(n == 1);
		const floe_scan_stats *st = &si[0].stats;
		/* the table's data files are the live data files of its current
		 * snapshot (`live`, from floe_table_files): those of the manifests
		 * the scan read (st->files, each file then read or skipped by its
		 * partition value and column bounds) plus those of the manifests
		 * skipped whole by their partition summaries (not in st->files) */
		if (st->files_read * 50 >= live || st->files_read != hours[i].files)
			th_fail(__FILE__, __LINE__, "%s: read %" PRId64 " of %d data files (%.2f%%; "
			        "manifests %" PRId64 " skipped of %" PRId64 ", files %" PRId64
			        " skipped of %" PRId64 " in the manifests read), want %d",
			        sql, st->files_read, live, 100.0 * (double)st->files_read / live,
			        st->manifests_skipped, st->manifests, st->files_skipped, st->files,
			        hours[i].files);
		CHECK_EQ_INT(st->files, 24 * hours[i].manifests);
		CHECK_EQ_INT(st->files_read + st->files_skipped, st->files);
		CHECK_EQ_INT(st->manifests, DAYS);
		CHECK_EQ_INT(st->manifests_skipped, DAYS - hours[i].manifests);
		CHECK(strstr(si[0].where, "event_time") != NULL);
	}
	/* the denominator as scans count it: everything when nothing is pruned */
	json_t *f = floe_result(s, "SELECT count(*) FROM silver.trades", NULL, 0);
	CHECK_EQ_INT(json_integer_value(json_array_get(json_array_get(json_object_get(f, "rows"), 0), 0)),
	             DAYS * 24 * ROWS_PER_HOUR);
	json_decref(f);
	const floe_sql_scan_info *si;
	int n;
	floe_sql_scans(s, &si, &n);
	REQUIRE(n == 1);
	CHECK_EQ_INT(si[0].stats.files, live);
	CHECK_EQ_INT(si[0].stats.files_read, live);
	floe_sql_close(s);
	floe_catalog_close(cat);
}
