/* bench_sql - SQL benchmark: dashboard and report queries over the stock
 * pipeline's silver.trades and gold.bars_1m through floe's SQLite layer
 * (include/floe/sql.h), in-process, one connection opened once. Each query
 * is prepared and stepped to the end RUNS times (the first run is a warm-up
 * and not counted); one JSON line per query with p50/p99, the rows it
 * returned (for the comparison with DuckDB) and what floe's scans read.
 * --splits adds lines that take the slow queries apart (bench/README.md). */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "floe/catalog.h"
#include "floe/sql.h"
#include "floe/table.h"

#define MAX_RUNS 1000
#define MAX_RESULT_ROWS 200

static const char *const USAGE =
	"usage: bench_sql WAREHOUSE [--runs N] [--symbol SYM] [--day YYYY-MM-DD] "
	"[--since 'YYYY-MM-DD HH:MM:SS'] [--query NAME|none]... [--splits] [--split-runs N]";

/* The queries: the latest bar of one symbol, the latest bar of every
 * symbol, the ten biggest movers of the last hour of bars, and the VWAP of
 * every symbol over one day of trades (and of its 1-minute bars, for
 * comparison: not a target of the issue). The plain forms find the newest bar
 * in the data themselves; the _clock forms are given the start of the last
 * hour (:since) as a live dashboard's clock would give it (now - 1 hour).
 * Placeholders: :symbol, :day, :next_day (the day after), :since.
 * bench/duckdb_sql.mjs has the same queries in DuckDB's dialect; the two
 * differ only in date arithmetic. */
typedef struct query {
	const char *name;
	bool dashboard; /* target: p99 under 50 ms */
	const char *sql;
} query;

static const query QUERIES[] = {
	{ "latest_bar", true,
	  "SELECT symbol, close, window_start, open, high, low, volume, vwap "
	  "FROM gold.bars_1m WHERE symbol = :symbol ORDER BY window_start DESC LIMIT 1" },
	{ "latest_bars", true,
	  "SELECT b.symbol, b.close, b.window_start, b.volume, b.vwap FROM gold.bars_1m b "
	  "JOIN (SELECT symbol, max(window_start) AS ws FROM gold.bars_1m GROUP BY symbol) m "
	  "ON b.symbol = m.symbol AND b.window_start = m.ws ORDER BY b.symbol" },
	{ "latest_bars_clock", true,
	  "SELECT b.symbol, b.close, b.window_start, b.volume, b.vwap FROM gold.bars_1m b "
	  "JOIN (SELECT symbol, max(window_start) AS ws FROM gold.bars_1m "
	  "WHERE window_start >= :since GROUP BY symbol) m "
	  "ON b.symbol = m.symbol AND b.window_start = m.ws WHERE b.window_start >= :since "
	  "ORDER BY b.symbol" },
	{ "top_movers_1h", true,
	  "SELECT symbol, last_close / first_open - 1 AS ret, first_open, last_close, bars FROM ("
	  "SELECT symbol, first_value(open) OVER w AS first_open, "
	  "last_value(close) OVER w AS last_close, count(*) OVER w AS bars, "
	  "row_number() OVER w AS rn FROM gold.bars_1m "
	  "WHERE window_start >= (SELECT datetime(max(window_start), '-59 minutes') "
	  "FROM gold.bars_1m) "
	  "WINDOW w AS (PARTITION BY symbol ORDER BY window_start "
	  "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) "
	  "WHERE rn = 1 ORDER BY abs(ret) DESC, symbol LIMIT 10" },
	{ "top_movers_1h_clock", true,
	  "SELECT symbol, last_close / first_open - 1 AS ret, first_open, last_close, bars FROM ("
	  "SELECT symbol, first_value(open) OVER w AS first_open, "
	  "last_value(close) OVER w AS last_close, count(*) OVER w AS bars, "
	  "row_number() OVER w AS rn FROM gold.bars_1m WHERE window_start >= :since "
	  "WINDOW w AS (PARTITION BY symbol ORDER BY window_start "
	  "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) "
	  "WHERE rn = 1 ORDER BY abs(ret) DESC, symbol LIMIT 10" },
	{ "vwap_day", false,
	  "SELECT symbol, sum(price * volume) / sum(volume) AS vwap, sum(volume) AS volume, "
	  "count(*) AS trades FROM silver.trades "
	  "WHERE event_time >= :day AND event_time < :next_day GROUP BY symbol ORDER BY symbol" },
	{ "vwap_day_gold", false,
	  "SELECT symbol, sum(vwap * volume) / sum(volume) AS vwap, sum(volume) AS volume, "
	  "sum(trade_count) AS trades FROM gold.bars_1m "
	  "WHERE window_start >= :day AND window_start < :next_day GROUP BY symbol ORDER BY symbol" },
};
#define NQUERIES ((int)(sizeof QUERIES / sizeof QUERIES[0]))

typedef struct params {
	char symbol[64];
	char day[16], next_day[16];
	char since[32];
	char newest[32]; /* max(window_start) of gold.bars_1m */
} params;

typedef struct config {
	const char *warehouse;
	int runs, split_runs;
	bool splits;
	const char *only[NQUERIES + 8];
	int nonly;
	params p;
} config;

static void die(const char *msg, const char *detail)
{
	fprintf(stderr, "bench_sql: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* ---- small helpers ---------------------------------------------------------- */

typedef struct timing {
	double p50, p99, min, max, mean;
	int n;
} timing;

static timing summarize(double *ms, int n)
{
	timing t = { 0 };
	if (n <= 0)
		return t;
	qsort(ms, (size_t)n, sizeof *ms, cmp_double);
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += ms[i];
	t.p50 = pct(ms, n, 50);
	t.p99 = pct(ms, n, 99);
	t.min = ms[0];
	t.max = ms[n - 1];
	t.mean = sum / n;
	t.n = n;
	return t;
}

static void json_str(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Replace every :name of the query text by its quoted value. */
static char *expand(const char *sql, const params *p)
{
	static const struct { const char *name; size_t off; } vars[] = {
		{ ":symbol", offsetof(params, symbol) },
		{ ":next_day", offsetof(params, next_day) },
		{ ":day", offsetof(params, day) },
		{ ":since", offsetof(params, since) },
	};
	size_t cap = strlen(sql) * 2 + 256, n = 0;
	char *out = malloc(cap);
	if (!out)
		die("out of memory", NULL);
	for (const char *s = sql; *s;) {
		bool done = false;
		for (size_t v = 0; v < sizeof vars / sizeof vars[0] && !done; v++) {
			size_t k = strlen(vars[v].name);
			if (strncmp(s, vars[v].name, k) != 0)
				continue;
			const char *val = (const char *)p + vars[v].off;
			if (n + strlen(val) + 3 >= cap)
				die("query text too long", sql);
			n += (size_t)sprintf(out + n, "'%s'", val);
			s += k;
			done = true;
		}
		if (!done) {
			if (n + 2 >= cap)
				die("query text too long", sql);
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
	return out;
}

/* ---- running a statement ---------------------------------------------------- */

/* Run `sql` to the end; returns its wall milliseconds from prepare to
 * finalize. With `res`, the rows (at most MAX_RESULT_ROWS) are written to
 * it as a JSON array of arrays. */
static double run_sql(floe_sql *s, bool plain, const char *sql, int64_t *rows, FILE *res)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db = floe_sql_db(s);
	double t0 = now_s();
	/* plain: SQLite's own statement, every aggregation in its row engine */
	int prc = plain ? sqlite3_prepare_v2(db, sql, -1, &st, NULL)
	                : floe_sql_prepare(s, sql, -1, &st, NULL);
	if (prc != SQLITE_OK)
		die(sqlite3_errmsg(db), sql);
	int64_t n = 0;
	int rc;
	if (res)
		fputc('[', res);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (res && n < MAX_RESULT_ROWS) {
			fputs(n ? ",[" : "[", res);
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				if (c)
					fputc(',', res);
				switch (sqlite3_column_type(st, c)) {
				case SQLITE_INTEGER:
					fprintf(res, "%lld", (long long)sqlite3_column_int64(st, c));
					break;
				case SQLITE_FLOAT:
					fprintf(res, "%.17g", sqlite3_column_double(st, c));
					break;
				case SQLITE_NULL:
					fputs("null", res);
					break;
				default:
					json_str(res, (const char *)sqlite3_column_text(st, c),
					         (size_t)sqlite3_column_bytes(st, c));
				}
			}
			fputc(']', res);
		}
		n++;
	}
	if (rc != SQLITE_DONE)
		die(sqlite3_errmsg(db), sql);
	sqlite3_finalize(st);
	double ms = (now_s() - t0) * 1e3;
	if (res)
		fputc(']', res);
	if (rows)
		*rows = n;
	return ms;
}

/* One text value of a one-row query (untimed set-up). */
static void scalar_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_sql: %s (the warehouse needs the stock pipeline's tables: "
		        "scripts/bench_sql.sh builds them)\n", sqlite3_errmsg(db));
		exit(1);
	}
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL)
		die("no data: build the pipeline's tables first (scripts/bench_sql.sh)", sql);
	snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* ---- scan statistics -------------------------------------------------------- */

typedef struct scan_sum {
	int nscans;
	floe_scan_stats s; /* summed over the scans */
} scan_sum;

static scan_sum sum_scans(floe_sql *s)
{
	const floe_sql_scan_info *info;
	int n;
	scan_sum t = { 0 };
	floe_sql_scans(s, &info, &n);
	t.nscans = n;
	for (int i = 0; i < n; i++) {
		const floe_scan_stats *x = &info[i].stats;
		t.s.manifests += x->manifests;
		t.s.manifests_skipped += x->manifests_skipped;
		t.s.files += x->files;
		t.s.files_skipped += x->files_skipped;
		t.s.files_read += x->files_read;
		t.s.row_groups += x->row_groups;
		t.s.row_groups_skipped += x->row_groups_skipped;
		t.s.rows_scanned += x->rows_scanned;
		t.s.rows_returned += x->rows_returned;
		t.s.bytes_read += x->bytes_read;
	}
	return t;
}

/* The shape of a pushed filter: its quoted literals replaced by '?', so
 * that the point lookups of a join group together. */
static void where_shape(const char *w, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = w; *p && n + 2 < cap; p++) {
		if (*p != '\'') {
			out[n++] = *p;
			continue;
		}
		out[n++] = '?';
		for (p++; *p; p++)
			if (*p == '\'' && p[1] == '\'')
				p++;
			else if (*p == '\'')
				break;
		if (!*p)
			break;
	}
	out[n] = '\0';
}

/* The scans of the last statement grouped by table, columns and filter
 * shape: the first filter of each group, how often it ran, and what the
 * group read. */
static void print_scan_list(FILE *f, floe_sql *s)
{
	const floe_sql_scan_info *info;
	int n;
	floe_sql_scans(s, &info, &n);
	char a[1024], b[1024];
	fputc('[', f);
	for (int i = 0, shown = 0; i < n; i++) {
		where_shape(info[i].where, a, sizeof a);
		bool seen = false;
		for (int j = 0; j < i && !seen; j++) {
			where_shape(info[j].where, b, sizeof b);
			seen = strcmp(info[j].table, info[i].table) == 0 &&
			       info[j].ncolumns == info[i].ncolumns && strcmp(a, b) == 0;
		}
		if (seen)
			continue;
		int times = 0;
		int64_t files_read = 0, rows_scanned = 0, bytes = 0;
		for (int j = i; j < n; j++) {
			where_shape(info[j].where, b, sizeof b);
			if (strcmp(info[j].table, info[i].table) != 0 ||
			    info[j].ncolumns != info[i].ncolumns || strcmp(a, b) != 0)
				continue;
			times++;
			files_read += info[j].stats.files_read;
			rows_scanned += info[j].stats.rows_scanned;
			bytes += info[j].stats.bytes_read;
		}
		fputs(shown++ ? ",{" : "{", f);
		fputs("\"table\":", f);
		json_str(f, info[i].table, strlen(info[i].table));
		fputs(",\"where\":", f);
		json_str(f, info[i].where, strlen(info[i].where));
		fprintf(f, ",\"columns\":%d,\"limit\":%lld,\"times\":%d,\"files_read\":%lld,"
		        "\"rows_scanned\":%lld,\"bytes_read\":%lld}", info[i].ncolumns,
		        (long long)info[i].limit, times, (long long)files_read,
		        (long long)rows_scanned, (long long)bytes);
	}
	fputc(']', f);
}

static int count_data_file(void *ctx, const floe_file_info *f, floe_error *err)
{
	(void)err;
	if (f->content == 0)
		++*(int64_t *)ctx;
	return 0;
}

static int64_t live_files(floe_catalog *cat, const char *ident)
{
	floe_table *t = NULL;
	floe_error err;
	int64_t n = 0;
	floe_snapshot_sel cur = { .kind = FLOE_SNAPSHOT_CURRENT };
	if (floe_table_open(&t, cat, ident, &err) ||
	    floe_table_files(t, &cur, count_data_file, &n, &err))
		die(err.msg, ident);
	floe_table_close(t);
	return n;
}

/* ---- the timed queries ------------------------------------------------------ */

static void bench_query(floe_sql *s, const query *q, const config *cfg, FILE *out)
{
	char *sql = expand(q->sql, &cfg->p);
	double *ms = malloc(sizeof *ms * (size_t)cfg->runs);
	if (!ms)
		die("out of memory", NULL);
	int64_t rows = 0;
	char *res = NULL;
	size_t res_len = 0;
	scan_sum sum = { 0 };
	for (int r = 0; r < cfg->runs; r++) {
		floe_sql_reset_scans(s);
		bool last = r == cfg->runs - 1;
		FILE *rf = last ? open_memstream(&res, &res_len) : NULL;
		ms[r] = run_sql(s, false, sql, &rows, rf);
		if (rf)
			fclose(rf);
		if (last)
			sum = sum_scans(s);
	}
	/* the first run warms the page cache and the table cache: not counted */
	int counted = cfg->runs > 1 ? cfg->runs - 1 : 1;
	timing t = summarize(cfg->runs > 1 ? ms + 1 : ms, counted);
	fprintf(out, "{\"engine\":\"floe\",\"query\":\"%s\",\"dashboard\":%s,\"runs\":%d,"
	        "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,\"mean_ms\":%.3f,"
	        "\"first_ms\":%.3f,\"result_rows\":%lld,\"scans\":%d,\"manifests\":%lld,"
	        "\"manifests_skipped\":%lld,\"files\":%lld,\"files_skipped\":%lld,"
	        "\"files_read\":%lld,\"row_groups\":%lld,\"row_groups_skipped\":%lld,"
	        "\"rows_scanned\":%lld,\"rows_returned\":%lld,\"bytes_read\":%lld,"
	        "\"peak_rss_mib\":%.1f,\"scan_list\":",
	        q->name, q->dashboard ? "true" : "false", t.n, t.p50, t.p99, t.min, t.max, t.mean,
	        ms[0], (long long)rows, sum.nscans, (long long)sum.s.manifests,
	        (long long)sum.s.manifests_skipped, (long long)sum.s.files,
	        (long long)sum.s.files_skipped, (long long)sum.s.files_read,
	        (long long)sum.s.row_groups, (long long)sum.s.row_groups_skipped,
	        (long long)sum.s.rows_scanned, (long long)sum.s.rows_returned,
	        (long long)sum.s.bytes_read, peak_rss_mib());
	print_scan_list(out, s);
	fputs(",\"sql\":", out);
	json_str(out, sql, strlen(sql));
	fputs(",\"result\":", out);
	fputs(res ? res : "[]", out);
	fputs("}\n", out);
	fflush(out);
	free(res);
	free(ms);
	free(sql);
}

/* ---- splits: where the time of a query goes --------------------------------- */

static const query *find_query(const char *name)
{
	for (int i = 0; i < NQUERIES; i++)
		if (strcmp(QUERIES[i].name, name) == 0)
			return &QUERIES[i];
	return NULL;
}

/* A floe scan through the C API alone (no SQLite): planning (open) and
 * decoding (every batch) timed apart, p50 of `runs`; batch_rows 0 = the
 * default. */
static void split_c_scan(floe_catalog *cat, const char *name, const char *ident,
                         const char *where, const char *const *cols, int ncols,
                         int64_t batch_rows, int runs, FILE *out)
{
	double *open_ms = malloc(sizeof(double) * (size_t)runs);
	double *all_ms = malloc(sizeof(double) * (size_t)runs);
	if (!open_ms || !all_ms)
		die("out of memory", NULL);
	floe_table *t = NULL;
	floe_error err;
	floe_scan_stats st = { 0 };
	int64_t rows = 0;
	if (floe_table_open(&t, cat, ident, &err))
		die(err.msg, ident);
	for (int r = 0; r < runs; r++) {
		floe_scan_options o;
		floe_scan_options_init(&o);
		o.where = where;
		o.columns = cols;
		o.ncolumns = ncols;
		if (batch_rows > 0)
			o.batch_rows = batch_rows;
		floe_scan *sc = NULL;
		double t0 = now_s();
		if (floe_scan_open(&sc, t, &o, &err))
			die(err.msg, where);
		double t1 = now_s();
		const floe_batch *b;
		int rc;
		rows = 0;
		while ((rc = floe_scan_next(sc, &b, &err)) == 1)
			rows += b->nrows;
		if (rc < 0)
			die(err.msg, where);
		double t2 = now_s();
		floe_scan_get_stats(sc, &st);
		floe_scan_free(sc);
		open_ms[r] = (t1 - t0) * 1e3;
		all_ms[r] = (t2 - t0) * 1e3;
	}
	floe_table_close(t);
	timing to = summarize(open_ms, runs), ta = summarize(all_ms, runs);
	fprintf(out, "{\"engine\":\"floe\",\"split\":\"%s\",\"part\":\"floe_scan C API (no SQLite)\","
	        "\"table\":\"%s\",\"where\":", name, ident);
	json_str(out, where ? where : "", where ? strlen(where) : 0);
	fprintf(out, ",\"columns\":%d,\"batch_rows\":%lld,\"runs\":%d,\"p50_ms\":%.3f,"
	        "\"open_p50_ms\":%.3f,\"decode_p50_ms\":%.3f,\"rows\":%lld,\"files_read\":%lld,"
	        "\"bytes_read\":%lld}\n", ncols, (long long)batch_rows, runs, ta.p50, to.p50,
	        ta.p50 - to.p50, (long long)rows, (long long)st.files_read, (long long)st.bytes_read);
	fflush(out);
	free(open_ms);
	free(all_ms);
}

/* A statement's p50 over `runs` (after one warm-up run), run by SQLite as
 * written (sqlite3_prepare_v2: no aggregation by floe), to show where
 * SQLite's own time goes. */
static void split_sql(floe_sql *s, const char *name, const char *part, const char *sql_tpl,
                      const config *cfg, FILE *out)
{
	char *sql = expand(sql_tpl, &cfg->p);
	int runs = cfg->split_runs;
	double *ms = malloc(sizeof(double) * (size_t)runs);
	if (!ms)
		die("out of memory", NULL);
	int64_t rows = 0;
	floe_sql_reset_scans(s);
	run_sql(s, true, sql, &rows, NULL);
	for (int r = 0; r < runs; r++) {
		floe_sql_reset_scans(s);
		ms[r] = run_sql(s, true, sql, &rows, NULL);
	}
	scan_sum sum = sum_scans(s);
	timing t = summarize(ms, runs);
	fprintf(out, "{\"engine\":\"floe\",\"split\":\"%s\",\"part\":", name);
	json_str(out, part, strlen(part));
	fprintf(out, ",\"runs\":%d,\"p50_ms\":%.3f,\"result_rows\":%lld,\"scans\":%d,"
	        "\"files_read\":%lld,\"rows_scanned\":%lld,\"sql\":", runs, t.p50, (long long)rows,
	        sum.nscans, (long long)sum.s.files_read, (long long)sum.s.rows_scanned);
	json_str(out, sql, strlen(sql));
	fputs("}\n", out);
	fflush(out);
	free(ms);
	free(sql);
}

/* Where the time of the slow queries goes: the same rows read through the
 * C API alone, through SQLite without and with the work of the query, and
 * the query's SQL over a plain SQLite table holding the same rows. */
static void splits(floe_sql *s, floe_catalog *cat, const config *cfg, FILE *out)
{
	sqlite3 *db = floe_sql_db(s);
	const params *p = &cfg->p;
	char where[256];
	int runs = cfg->split_runs;

	/* vwap_day */
	static const char *const vw_cols[] = { "symbol", "price", "volume", "event_time" };
	snprintf(where, sizeof where, "event_time >= '%s' AND event_time < '%s'", p->day,
	         p->next_day);
	split_c_scan(cat, "vwap_day", "silver.trades", where, vw_cols, 4, 0, runs, out);
	split_c_scan(cat, "vwap_day", "silver.trades", where, vw_cols + 3, 1, 0, runs, out);
	split_sql(s, "vwap_day", "SQLite count(*) of the whole table: scan + xNext, no re-check",
	          "SELECT count(*) FROM silver.trades", cfg, out);
	split_sql(s, "vwap_day", "SQLite count(*): scan + xNext + the time re-check",
	          "SELECT count(*) FROM silver.trades WHERE event_time >= :day "
	          "AND event_time < :next_day", cfg, out);
	split_sql(s, "vwap_day", "+ the three value columns read by SQLite, no GROUP BY",
	          "SELECT count(*), sum(price * volume), sum(volume), max(symbol) FROM silver.trades "
	          "WHERE event_time >= :day AND event_time < :next_day", cfg, out);
	split_sql(s, "vwap_day", "the whole query, aggregated by SQLite", find_query("vwap_day")->sql,
	          cfg, out);
	/* the same rows in a native SQLite table: SQLite's own share */
	char *load = expand("CREATE TEMP TABLE bench_day AS SELECT symbol, price, volume, event_time "
	                    "FROM silver.trades WHERE event_time >= :day AND event_time < :next_day",
	                    p);
	char *msg = NULL;
	if (sqlite3_exec(db, "DROP TABLE IF EXISTS temp.bench_day", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, load, NULL, NULL, &msg) != SQLITE_OK)
		die(msg, load);
	free(load);
	split_sql(s, "vwap_day", "native SQLite table, same rows: scan only",
	          "SELECT count(*) FROM temp.bench_day WHERE event_time >= :day "
	          "AND event_time < :next_day", cfg, out);
	split_sql(s, "vwap_day", "native SQLite table, same rows: the whole query",
	          "SELECT symbol, sum(price * volume) / sum(volume) AS vwap, sum(volume) AS volume, "
	          "count(*) AS trades FROM temp.bench_day WHERE event_time >= :day AND "
	          "event_time < :next_day GROUP BY symbol ORDER BY symbol", cfg, out);
	sqlite3_exec(db, "DROP TABLE temp.bench_day", NULL, NULL, NULL);

	/* the Gold queries: what a full read of the bars costs, and the parts */
	static const char *const ws_col[] = { "window_start" };
	static const char *const sym_ws[] = { "symbol", "window_start" };
	split_c_scan(cat, "latest_bars", "gold.bars_1m", NULL, ws_col, 1, 0, runs, out);
	split_c_scan(cat, "latest_bars", "gold.bars_1m", NULL, sym_ws, 2, 0, runs, out);
	split_sql(s, "top_movers_1h", "max(window_start) alone",
	          "SELECT max(window_start) FROM gold.bars_1m", cfg, out);
	split_sql(s, "latest_bars", "the GROUP BY subquery alone, aggregated by SQLite",
	          "SELECT symbol, max(window_start) FROM gold.bars_1m GROUP BY symbol", cfg, out);
	snprintf(where, sizeof where, "symbol = '%s'", p->symbol);
	static const char *const lb_cols[] = { "symbol", "close", "window_start", "open", "high",
	                                       "low", "volume", "vwap" };
	split_c_scan(cat, "latest_bar", "gold.bars_1m", where, lb_cols, 8, 0, runs, out);
	/* what the vtab asks for when SQLite passes it the LIMIT 1 */
	split_c_scan(cat, "latest_bar", "gold.bars_1m", where, lb_cols, 8, 1, runs, out);
	snprintf(where, sizeof where, "window_start >= '%s'", p->since);
	static const char *const tm_cols[] = { "symbol", "window_start", "open", "close" };
	split_c_scan(cat, "top_movers_1h_clock", "gold.bars_1m", where, tm_cols, 4, 0, runs, out);
}

/* ---- main ------------------------------------------------------------------- */

static bool wanted(const config *cfg, const char *name)
{
	if (cfg->nonly == 0)
		return true;
	for (int i = 0; i < cfg->nonly; i++)
		if (strcmp(cfg->only[i], name) == 0)
			return true;
	return false;
}

static int parse_count(const char *v, const char *opt)
{
	char *end;
	long n = v ? strtol(v, &end, 10) : 0;
	if (!v || *end || n < 1 || n > MAX_RUNS) {
		fprintf(stderr, "bench_sql: %s takes a count from 1 to %d\n%s\n", opt, MAX_RUNS, USAGE);
		exit(2);
	}
	return (int)n;
}

int main(int argc, char **argv)
{
	config cfg = { .runs = 30, .split_runs = 5 };
	const char *symbol = NULL, *day = NULL, *since = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--runs") == 0)
			cfg.runs = parse_count(v, a), i++;
		else if (strcmp(a, "--split-runs") == 0)
			cfg.split_runs = parse_count(v, a), i++;
		else if (strcmp(a, "--symbol") == 0 && v)
			symbol = v, i++;
		else if (strcmp(a, "--day") == 0 && v)
			day = v, i++;
		else if (strcmp(a, "--since") == 0 && v)
			since = v, i++;
		else if (strcmp(a, "--query") == 0 && v && cfg.nonly < NQUERIES + 8)
			cfg.only[cfg.nonly++] = v, i++;
		else if (strcmp(a, "--splits") == 0)
			cfg.splits = true;
		else if (a[0] == '-' || cfg.warehouse) {
			fprintf(stderr, "bench_sql: unexpected argument '%s'\n%s\n", a, USAGE);
			return 2;
		} else
			cfg.warehouse = a;
	}
	if (!cfg.warehouse) {
		fprintf(stderr, "%s\n", USAGE);
		return 2;
	}
	for (int i = 0; i < cfg.nonly; i++)
		if (!find_query(cfg.only[i]) && strcmp(cfg.only[i], "none") != 0)
			die("no such query (see QUERIES in bench/bench_sql.c)", cfg.only[i]);

	/* floe_catalog_open would create a missing warehouse */
	char catalog_db[4096];
	snprintf(catalog_db, sizeof catalog_db, "%s/catalog.db", cfg.warehouse);
	if (access(catalog_db, R_OK) != 0)
		die("no warehouse there (scripts/bench_sql.sh builds one)", cfg.warehouse);
	floe_catalog *cat = NULL;
	floe_sql *s = NULL;
	floe_error err;
	double t0 = now_s();
	if (floe_catalog_open(&cat, cfg.warehouse, NULL, &err))
		die(err.msg, cfg.warehouse);
	if (floe_sql_open(&s, cat, NULL, &err))
		die(err.msg, cfg.warehouse);
	double open_ms = (now_s() - t0) * 1e3;
	sqlite3 *db = floe_sql_db(s);

	/* Parameters (untimed): the newest bar, the last full day before it,
	 * a symbol, the start of the last hour of bars. */
	params *p = &cfg.p;
	scalar_text(db, "SELECT max(window_start) FROM gold.bars_1m", p->newest, sizeof p->newest);
	char sql[512];
	if (day)
		snprintf(p->day, sizeof p->day, "%s", day);
	else {
		snprintf(sql, sizeof sql, "SELECT date('%s', '-1 day')", p->newest);
		scalar_text(db, sql, p->day, sizeof p->day);
	}
	snprintf(sql, sizeof sql, "SELECT date('%s', '+1 day')", p->day);
	scalar_text(db, sql, p->next_day, sizeof p->next_day);
	if (since)
		snprintf(p->since, sizeof p->since, "%s", since);
	else {
		snprintf(sql, sizeof sql, "SELECT datetime('%s', '-59 minutes')", p->newest);
		scalar_text(db, sql, p->since, sizeof p->since);
	}
	if (symbol)
		snprintf(p->symbol, sizeof p->symbol, "%s", symbol);
	else /* the median symbol by name */
		scalar_text(db, "SELECT symbol FROM (SELECT DISTINCT symbol FROM gold.bars_1m) "
		            "ORDER BY symbol LIMIT 1 OFFSET (SELECT count(DISTINCT symbol) / 2 "
		            "FROM gold.bars_1m)", p->symbol, sizeof p->symbol);
	if (strchr(p->symbol, '\'') || strchr(p->day, '\'') || strchr(p->since, '\''))
		die("parameters may not contain quotes", NULL);

	printf("{\"engine\":\"floe\",\"params\":{\"symbol\":\"%s\",\"day\":\"%s\",\"next_day\":\"%s\","
	       "\"since\":\"%s\",\"newest_bar\":\"%s\"},\"open_ms\":%.3f,\"runs\":%d,"
	       "\"silver_trades_files\":%lld,\"gold_bars_1m_files\":%lld}\n",
	       p->symbol, p->day, p->next_day, p->since, p->newest, open_ms, cfg.runs,
	       (long long)live_files(cat, "silver.trades"), (long long)live_files(cat, "gold.bars_1m"));
	fflush(stdout);

	for (int i = 0; i < NQUERIES; i++)
		if (wanted(&cfg, QUERIES[i].name))
			bench_query(s, &QUERIES[i], &cfg, stdout);
	if (cfg.splits)
		splits(s, cat, &cfg, stdout);

	floe_sql_close(s);
	floe_catalog_close(cat);
	return 0;
}
