/* Pipeline runs end to end through the floe binary: the reference stock
 * pipeline (examples/stock/pipeline.yaml) over simulated events with
 * duplicates, late, out-of-order and malformed events, processed as one
 * backfill, as micro-batches of random sizes, and as a stream killed and
 * restarted in the middle: the Silver and Gold scans are byte-for-byte the
 * same. Also: every malformed record is quarantined with a reason, Silver
 * has no duplicate key, DuckDB recomputes Gold from the Silver files, the
 * late-event horizon, rebuilds, errors that name the step and line, and
 * the trades source on a Kafka topic (the librdkafka mock cluster). */
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ingest/kafka_mock.h"
#include "ingest/test_ingest_util.h"

static char bin[PATH_MAX + 16];

static const char *floe_bin(void)
{
	if (!bin[0]) {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n <= 0)
			return "floe";
		self[n] = 0;
		*strrchr(self, '/') = 0;
		snprintf(bin, sizeof bin, "%s/floe", self);
	}
	return bin;
}

static const char *const tables[] = { "silver.trades", "silver.quotes", "gold.bars_1m",
	"gold.bars_5m", "gold.spreads_1m", "gold.features", NULL };

/* Replace the first `from` in the file at `path` by `to`; false when the
 * file has no `from` (or cannot be read or written). */
static bool replace_in_file(const char *path, const char *from, const char *to)
{
	size_t n;
	char *text = th_read_file(path, &n);
	const char *at = text ? strstr(text, from) : NULL;
	FILE *f = at ? fopen(path, "w") : NULL;
	if (f) {
		fwrite(text, 1, (size_t)(at - text), f);
		fputs(to, f);
		fputs(at + strlen(from), f);
		fclose(f);
	}
	free(text);
	return f != NULL;
}

/* A copy of the reference pipeline in its own folder (landing folders
 * beside it), with the first `edit_from` replaced by `edit_to` (NULL: as
 * it is). */
static bool make_pipeline(const char *dir, const char *edit_from, const char *edit_to)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/pipeline.yaml", dir);
	if (th_run(NULL, "mkdir -p %s/landing/trades %s/landing/quotes && "
	           "cp examples/stock/pipeline.yaml %s", dir, dir, path) != 0)
		return false;
	return !edit_from || replace_in_file(path, edit_from, edit_to);
}

/* Sorted text of a table's scan. */
static char *scan_sorted(const char *wh, const char *table)
{
	char *out = NULL;
	int rc = th_run(&out, "%s scan %s --warehouse %s --format jsonl | LC_ALL=C sort", floe_bin(),
	                table, wh);
	if (rc != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static int64_t count_lines(const char *s)
{
	int64_t n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static int64_t table_rows(const char *wh, const char *table)
{
	char *out = NULL;
	if (th_run(&out, "%s scan %s --warehouse %s --format jsonl | wc -l", floe_bin(), table, wh) != 0) {
		free(out);
		return -1;
	}
	int64_t n = out ? strtoll(out, NULL, 10) : -1;
	free(out);
	return n;
}

/* Lines of a file, as an array of malloc'ed strings with their newline. */
static char **read_lines(const char *path, int *n)
{
	size_t len;
	char *text = th_read_file(path, &len);
	*n = 0;
	if (!text)
		return NULL;
	int cap = 1024;
	char **v = malloc((size_t)cap * sizeof *v);
	char *p = text;
	while (*p) {
		char *nl = strchr(p, '\n');
		size_t k = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (*n == cap)
			v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
		v[*n] = malloc(k + 1);
		memcpy(v[*n], p, k);
		v[*n][k] = 0;
		(*n)++;
		p += k;
	}
	free(text);
	return v;
}

static void free_lines(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Write lines [from, to) into DIR/NAME (through a dot-name, then renamed,
 * as a landing zone would). */
static bool drop_file(const char *dir, int seq, char **lines, int from, int to)
{
	char tmp[PATH_MAX], fin[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s/.part-%06d.ndjson", dir, seq);
	snprintf(fin, sizeof fin, "%s/part-%06d.ndjson", dir, seq);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return false;
	for (int i = from; i < to; i++)
		fputs(lines[i], f);
	fclose(f);
	return rename(tmp, fin) == 0;
}

static bool simulate(const char *dir, int count, int seed)
{
	return th_run(NULL, "%s simulate --count %d --seed %d --start 2026-11-20T14:30:00Z "
	              "--sim-rate 15 --faults dup=0.02,ooo=0.05,late=0.02,bad=0.01 "
	              "--to %s/trades.ndjson --quotes-to %s/quotes.ndjson", floe_bin(), count, seed,
	              dir, dir) == 0;
}

/* Silver's rejects are the raw records Silver's rules catch, each once and
 * byte for byte (the records are rejected in different scan batches and
 * groups, and Silver reads `_raw` for the rejected rows only). */
static void check_silver_rejects(const char *wh, const char *const *raw, int n)
{
	char *x = NULL;
	int rc = th_run(&x, "%s scan silver.trades_rejected --warehouse %s --columns _raw "
	                "--format jsonl", floe_bin(), wh);
	CHECK(rc == 0 && x);
	CHECK_EQ_INT(count_lines(x), n);
	for (int i = 0; x && i < n; i++) {
		/* {"_raw":"RECORD"} with RECORD's quotes escaped, one line */
		char want[1024];
		size_t k = (size_t)snprintf(want, sizeof want, "{\"_raw\":\"");
		for (const char *c = raw[i]; *c && *c != '\n' && k + 4 < sizeof want; c++) {
			if (*c == '"')
				want[k++] = '\\';
			want[k++] = *c;
		}
		snprintf(want + k, sizeof want - k, "\"}\n");
		if (!strstr(x, want))
			th_fail(__FILE__, __LINE__, "%s: silver.trades_rejected has no row %s", wh, want);
	}
	free(x);
}

static void compare_all(const char *wa, const char *wb, const char *what)
{
	for (int i = 0; tables[i]; i++) {
		char *a = scan_sorted(wa, tables[i]), *b = scan_sorted(wb, tables[i]);
		CHECK(a != NULL && b != NULL);
		if (a && b) {
			if (strcmp(a, b) != 0) {
				/* the first differing line, for the message */
				const char *x = a, *y = b;
				while (*x && *x == *y)
					x++, y++;
				while (x > a && x[-1] != '\n')
					x--, y--;
				th_fail(__FILE__, __LINE__, "%s: %s differs (%" PRId64 " vs %" PRId64
				        " rows); first difference:\n  %.300s\n  %.300s", what, tables[i],
				        count_lines(a), count_lines(b), x, y);
			}
			CHECK(count_lines(a) > 0);
		}
		free(a);
		free(b);
	}
}

/* `count` simulated trades and quotes in the test's data folder: their
 * paths into trades and quotes (PATH_MAX each). */
static bool simulated(int count, int seed, char *trades, char *quotes)
{
	const char *data = th_path("data");
	if (th_run(NULL, "mkdir -p %s", data) != 0 || !simulate(data, count, seed))
		return false;
	snprintf(trades, PATH_MAX, "%s/trades.ndjson", data);
	snprintf(quotes, PATH_MAX, "%s/quotes.ndjson", data);
	return true;
}

TEST(pipeline_unified_backfill_batches_and_crash)
{
	char trades[PATH_MAX], quotes[PATH_MAX];
	REQUIRE(simulated(12000, 11, trades, quotes));
	/* records only Silver's rules catch: a symbol to normalize with a time
	 * offset, unknown exchanges and an empty symbol (at the start, in the
	 * middle and at the end), a crossed quote */
	static const char *const rejects[] = {
		"{\"trade_id\":\"X-2\",\"symbol\":\"MSFT\",\"price\":300,\"volume\":5,"
		"\"timestamp\":\"2026-11-20T14:36:00Z\",\"trade_type\":\"SELL\","
		"\"exchange\":\"MOON\"}\n",
		"{\"trade_id\":\"X-3\",\"symbol\":\"AMZN\",\"price\":150,\"volume\":7,"
		"\"timestamp\":\"2026-11-20T14:30:01Z\",\"trade_type\":\"BUY\","
		"\"exchange\":\"MARS\"}\n",
		"{\"trade_id\":\"X-4\",\"symbol\":\"  \",\"price\":42.5,\"volume\":3,"
		"\"timestamp\":\"2026-11-20T14:37:30Z\",\"trade_type\":\"SELL\","
		"\"exchange\":\"IEX\"}\n",
	};
	/* a trade sent again with an earlier time and another price, at the
	 * end: dedup keeps the later event time wherever the two land */
	static const char *const corrected[] = {
		"{\"trade_id\":\"X-5\",\"symbol\":\"TSLA\",\"price\":200,\"volume\":4,"
		"\"timestamp\":\"2026-11-20T14:40:00Z\",\"trade_type\":\"BUY\","
		"\"exchange\":\"NYSE\"}\n",
		"{\"trade_id\":\"X-5\",\"symbol\":\"TSLA\",\"price\":199,\"volume\":4,"
		"\"timestamp\":\"2026-11-20T14:35:00Z\",\"trade_type\":\"BUY\","
		"\"exchange\":\"NYSE\"}\n",
	};
	int n0;
	char **l0 = read_lines(trades, &n0);
	REQUIRE(l0 && n0 > 1000);
	FILE *f = fopen(trades, "w");
	REQUIRE(f);
	for (int i = 0; i < n0; i++) {
		if (i == 1) {
			fputs(rejects[1], f);
			fputs(corrected[0], f);
		}
		if (i == n0 / 2)
			fputs(rejects[2], f);
		fputs(l0[i], f);
	}
	free_lines(l0, n0);
	fputs("{\"trade_id\":\"X-1\",\"symbol\":\" aapl \",\"price\":100.5,\"volume\":10,"
	      "\"timestamp\":\"2026-11-20T09:35:00.25-05:00\",\"trade_type\":\"BUY\","
	      "\"exchange\":\"nasdaq\"}\n", f);
	fputs(rejects[0], f);
	fputs(corrected[1], f);
	fclose(f);
	f = fopen(quotes, "a");
	REQUIRE(f);
	fputs("{\"quote_id\":\"Q-X\",\"symbol\":\"TSLA\",\"bid\":101,\"ask\":100,"
	      "\"timestamp\":\"2026-11-20T14:36:00Z\",\"exchange\":\"IEX\"}\n", f);
	fclose(f);
	char pa[1024], pb[1024], pc[1024];
	snprintf(pa, sizeof pa, "%.900s", th_path("a"));
	snprintf(pb, sizeof pb, "%.900s", th_path("b"));
	snprintf(pc, sizeof pc, "%.900s", th_path("c"));
	REQUIRE(make_pipeline(pa, NULL, NULL) && make_pipeline(pb, NULL, NULL) &&
	        make_pipeline(pc, NULL, NULL));
	char wa[PATH_MAX], wb[PATH_MAX], wc[PATH_MAX];
	snprintf(wa, sizeof wa, "%s/wh", pa);
	snprintf(wb, sizeof wb, "%s/wh", pb);
	snprintf(wc, sizeof wc, "%s/wh", pc);

	/* (a) one backfill */
	char *out = NULL;
	int rc = th_run(&out, "%s run %s/pipeline.yaml --warehouse %s/wh --backfill "
	                "trades=%s quotes=%s --json-status 2>%s/a.log", floe_bin(), pa, pa, trades,
	                quotes, pa);
	CHECK_EQ_INT(rc, 0);
	free(out);
	/* the same backfill again adds nothing */
	char *before = scan_sorted(wa, "gold.bars_1m");
	rc = th_run(&out, "%s run %s/pipeline.yaml --warehouse %s/wh --backfill trades=%s quotes=%s "
	            "2>/dev/null", floe_bin(), pa, pa, trades, quotes);
	CHECK_EQ_INT(rc, 0);
	CHECK(out && strstr(out, " 0 records ingested"));
	free(out);
	char *after = scan_sorted(wa, "gold.bars_1m");
	CHECK(before && after && strcmp(before, after) == 0);
	free(before);
	free(after);

	/* (b) micro-batches of random sizes, each followed by --once */
	int nt, nq;
	char **tl = read_lines(trades, &nt), **ql = read_lines(quotes, &nq);
	REQUIRE(tl && ql && nt > 1000 && nq > 1000);
	srand(7);
	int ti = 0, qi = 0, seq = 0;
	char tdir[PATH_MAX], qdir[PATH_MAX];
	snprintf(tdir, sizeof tdir, "%s/landing/trades", pb);
	snprintf(qdir, sizeof qdir, "%s/landing/quotes", pb);
	while (ti < nt || qi < nq) {
		int kt = 1 + rand() % 1500, kq = 1 + rand() % 1500;
		if (ti + kt > nt)
			kt = nt - ti;
		if (qi + kq > nq)
			kq = nq - qi;
		if (kt)
			REQUIRE(drop_file(tdir, seq, tl, ti, ti + kt));
		if (kq)
			REQUIRE(drop_file(qdir, seq, ql, qi, qi + kq));
		ti += kt;
		qi += kq;
		seq++;
		rc = th_run(NULL, "%s run %s/pipeline.yaml --warehouse %s --once --max-batch-rows %d "
		            "2>>%s/b.log >/dev/null", floe_bin(), pb, wb, 200 + rand() % 2000, pb);
		CHECK_EQ_INT(rc, 0);
		if (rc)
			break;
	}
	compare_all(wa, wb, "backfill vs micro-batches");
	check_silver_rejects(wa, rejects, 3);
	check_silver_rejects(wb, rejects, 3);

	/* (c) a stream, killed (SIGKILL) at random moments and restarted, fed
	 * as it runs */
	snprintf(tdir, sizeof tdir, "%s/landing/trades", pc);
	snprintf(qdir, sizeof qdir, "%s/landing/quotes", pc);
	char pfile[PATH_MAX], log[PATH_MAX];
	snprintf(pfile, sizeof pfile, "%s/pipeline.yaml", pc);
	snprintf(log, sizeof log, "%s/c.log", pc);
	const char *argv[] = { "floe", "run", pfile, "--warehouse", wc, "--trigger", "200ms",
		"--max-batch-rows", "700", "--json-status", NULL };
	ti = qi = seq = 0;
	int kills = 0;
	pid_t pid = ti_spawn(argv, log);
	REQUIRE(pid > 0);
	while (ti < nt || qi < nq) {
		int kt = 1 + rand() % 900, kq = 1 + rand() % 900;
		if (ti + kt > nt)
			kt = nt - ti;
		if (qi + kq > nq)
			kq = nq - qi;
		if (kt)
			REQUIRE(drop_file(tdir, seq, tl, ti, ti + kt));
		if (kq)
			REQUIRE(drop_file(qdir, seq, ql, qi, qi + kq));
		ti += kt;
		qi += kq;
		seq++;
		ti_sleep_ms(100 + rand() % 400);
		if (rand() % 3 == 0) {
			int status;
			if (waitpid(pid, &status, WNOHANG) == pid) {
				th_fail(__FILE__, __LINE__, "floe run exited on its own (see %s)", log);
				break;
			}
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			kills++;
			pid = ti_spawn(argv, log);
			REQUIRE(pid > 0);
		}
	}
	ti_sleep_ms(500);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	kills++;
	CHECK(kills >= 3);
	/* catch up on what the last stream left */
	rc = th_run(NULL, "%s run %s --warehouse %s --once 2>>%s >/dev/null", floe_bin(), pfile, wc, log);
	CHECK_EQ_INT(rc, 0);
	compare_all(wa, wc, "backfill vs killed stream");
	check_silver_rejects(wc, rejects, 3);

	/* every record is in Bronze or its quarantine exactly once */
	int64_t bt = table_rows(wa, "bronze.trades"), bq = table_rows(wa, "bronze.trades_rejected");
	CHECK_EQ_INT(bt + bq, nt);
	CHECK(bq > 0);
	int64_t ct = table_rows(wc, "bronze.trades"), cq = table_rows(wc, "bronze.trades_rejected");
	CHECK_EQ_INT(ct + cq, nt);
	/* Silver: no duplicate trade id, and the duplicates were there */
	char *dups = NULL;
	rc = th_run(&dups, "%s scan silver.trades --warehouse %s --columns trade_id --format csv | "
	            "sort | uniq -d | wc -l", floe_bin(), wa);
	CHECK(rc == 0 && dups && strtol(dups, NULL, 10) == 0);
	free(dups);
	CHECK(table_rows(wa, "silver.trades") < bt);
	/* Silver's own rules: normalized, or quarantined with the reason */
	char *x = NULL;
	rc = th_run(&x, "%s scan silver.trades --warehouse %s --where \"trade_id = 'X-1'\" "
	            "--columns symbol,exchange,side,event_time --format csv", floe_bin(), wa);
	CHECK(rc == 0 && x && strstr(x, "AAPL,NASDAQ,BUY,2026-11-20T14:35:00.25"));
	free(x);
	x = NULL;
	rc = th_run(&x, "%s scan silver.trades --warehouse %s --where \"trade_id = 'X-5'\" "
	            "--columns price,event_time --format csv | tail -n +2", floe_bin(), wb);
	CHECK(rc == 0 && x && strstr(x, "200") && strstr(x, "14:40:00") && count_lines(x) == 1);
	free(x);
	x = NULL;
	rc = th_run(&x, "%s scan silver.trades_rejected --warehouse %s --columns _reason,_raw "
	            "--format csv", floe_bin(), wa);
	CHECK(rc == 0 && x && strstr(x, "unknown exchange") && strstr(x, "X-2"));
	CHECK(x && strstr(x, "empty symbol") && strstr(x, "X-4"));
	CHECK_EQ_INT(count_lines(x), 4); /* the header and the three rows */
	free(x);
	x = NULL;
	rc = th_run(&x, "%s scan silver.quotes_rejected --warehouse %s --columns _reason,_raw "
	            "--format csv", floe_bin(), wa);
	CHECK(rc == 0 && x && strstr(x, "crossed quote") && strstr(x, "Q-X"));
	free(x);
	/* Bronze's quarantine: every malformed record with a reason */
	x = NULL;
	rc = th_run(&x, "%s scan bronze.trades_rejected --warehouse %s --columns _reason "
	            "--format csv | tail -n +2 | grep -c -v '^$'", floe_bin(), wa);
	CHECK(rc == 0 && x && strtoll(x, NULL, 10) == bq);
	free(x);
	free_lines(tl, nt);
	free_lines(ql, nq);
}

/* The metadata file a table is at (from `floe describe`). */
static bool meta_of(const char *wh, const char *table, char *out, size_t n)
{
	char *o = NULL;
	if (th_run(&o, "%s describe %s --warehouse %s", floe_bin(), table, wh) != 0 || !o) {
		free(o);
		return false;
	}
	const char *k = strstr(o, "\"metadata-location\"");
	const char *q = k ? strchr(k + 19, '"') : NULL;
	const char *e = q ? strchr(q + 1, '"') : NULL;
	bool ok = e && (size_t)(e - q - 1) < n;
	if (ok)
		snprintf(out, n, "%.*s", (int)(e - q - 1), q + 1);
	free(o);
	return ok;
}

/* DuckDB recomputes every Gold table from floe's Silver data files with
 * plain SQL (tests/pipeline/gold_check.mjs) and agrees with floe's Gold
 * rows (doubles within 1e-9 relative). */
TEST(pipeline_gold_matches_duckdb)
{
	const char *peers = th_peers();
	char p[1024], wh[1100];
	snprintf(p, sizeof p, "%.900s", th_path("p"));
	snprintf(wh, sizeof wh, "%s/wh", p);
	REQUIRE(make_pipeline(p, NULL, NULL));
	REQUIRE(simulate(p, 30000, 23));
	char *out = NULL;
	int rc = th_run(&out, "%s run %s/pipeline.yaml --warehouse %s --backfill trades=%s/trades.ndjson "
	                "quotes=%s/quotes.ndjson --max-batch-rows 4000 2>/dev/null", floe_bin(), p, wh,
	                p, p);
	CHECK_EQ_INT(rc, 0);
	free(out);
	const char *names[] = { "silver.trades", "gold.bars_1m", "gold.bars_5m", "silver.quotes",
		"gold.spreads_1m", "gold.features" };
	char meta[6][4096];
	for (int i = 0; i < 6; i++)
		REQUIRE(meta_of(wh, names[i], meta[i], sizeof meta[i]));
	out = NULL;
	rc = th_run(&out, "node tests/pipeline/gold_check.mjs '%s' '%s' '%s' --bars5m '%s' "
	            "--silver-quotes '%s' --spreads '%s' --features '%s' 2>&1", peers, meta[0],
	            meta[1], meta[2], meta[3], meta[4], meta[5]);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "gold_check.mjs: %s", out ? out : "(no output)");
	CHECK(out && strstr(out, "\"gold.bars_1m\"") && strstr(out, "\"gold.features\""));
	CHECK(out && !strstr(out, "\"mismatches\":1") && strstr(out, "\"mismatches\":0"));
	free(out);
}

static int64_t snapshot_count(const char *wh, const char *table)
{
	char *o = NULL;
	if (th_run(&o, "%s snapshots %s --warehouse %s --format jsonl | wc -l", floe_bin(), table, wh)) {
		free(o);
		return -1;
	}
	int64_t n = o ? strtoll(o, NULL, 10) : -1;
	free(o);
	return n;
}

/* --rebuild recomputes a range from the upstream table into the same rows;
 * the late-event horizon quarantines what is too late; mistakes in a
 * pipeline file name the step and what is wrong. */
TEST(pipeline_rebuild_horizon_and_errors)
{
	char p[1024], wh[1100];
	snprintf(p, sizeof p, "%.900s", th_path("p"));
	snprintf(wh, sizeof wh, "%s/wh", p);
	REQUIRE(make_pipeline(p, "      write.parquet.compression-level: \"1\"\n",
	                      "      write.parquet.compression-level: \"1\"\n"
	                      "      write.parquet.compression-codec: snappy\n"));
	REQUIRE(simulate(p, 6000, 5));
	int rc = th_run(NULL, "%s run %s/pipeline.yaml --warehouse %s --backfill trades=%s/trades.ndjson "
	                "quotes=%s/quotes.ndjson 2>/dev/null >/dev/null", floe_bin(), p, wh, p, p);
	REQUIRE(rc == 0);
	/* the run created bronze.trades with its source's properties */
	static const char *const made[] = { "bronze.trades", "bronze.quotes" };
	for (int i = 0; i < 2; i++) {
		char *d = NULL;
		REQUIRE(th_run(&d, "%s describe %s --warehouse %s", floe_bin(), made[i], wh) == 0);
		bool has = d && strstr(d, "\"write.parquet.compression-codec\": \"snappy\"");
		if (has != (i == 0))
			th_fail(__FILE__, __LINE__, "%s: codec property %s", made[i], has ? "set" : "missing");
		CHECK(d && strstr(d, "\"write.parquet.compression-level\": \"1\""));
		free(d);
	}
	char *bars = scan_sorted(wh, "gold.bars_1m"), *silver = scan_sorted(wh, "silver.trades");
	REQUIRE(bars && silver && count_lines(bars) > 10);
	int64_t snaps = snapshot_count(wh, "gold.bars_1m");
	rc = th_run(NULL, "%s run %s/pipeline.yaml --warehouse %s --rebuild gold.bars_1m --from "
	            "2026-11-20T14:30:00Z --to 2026-11-20T14:36:00Z 2>/dev/null >/dev/null", floe_bin(),
	            p, wh);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(snapshot_count(wh, "gold.bars_1m"), snaps + 1);
	char *again = scan_sorted(wh, "gold.bars_1m");
	CHECK(again && strcmp(again, bars) == 0);
	free(again);
	rc = th_run(NULL, "%s run %s/pipeline.yaml --warehouse %s --rebuild silver.trades --from "
	            "2026-11-20 --to 2026-11-21 2>/dev/null >/dev/null", floe_bin(), p, wh);
	CHECK_EQ_INT(rc, 0);
	again = scan_sorted(wh, "silver.trades");
	CHECK(again && strcmp(again, silver) == 0);
	free(again);
	free(bars);
	free(silver);
	/* a rebuild of a table no step writes */
	char *o = NULL;
	rc = th_run(&o, "%s run %s/pipeline.yaml --warehouse %s --rebuild gold.nope --from 2026-11-20 "
	            "--to 2026-11-21 2>&1", floe_bin(), p, wh);
	CHECK(rc != 0 && o && strstr(o, "no step of the pipeline writes that table"));
	free(o);

	/* a typo in an output expression: the step, its line and the column */
	char q[1100];
	snprintf(q, sizeof q, "%s/typo", p);
	REQUIRE(make_pipeline(q, "vwap: sum(price * volume)", "vwap: sum(price * volme)"));
	o = NULL;
	rc = th_run(&o, "%s run %s/pipeline.yaml --warehouse %s/wh --once 2>&1", floe_bin(), q, q);
	CHECK(rc != 0 && o && strstr(o, "bars_1m") && strstr(o, "volme") && strstr(o, "line"));
	free(o);

	/* events later than 20 s behind the watermark go to quarantine */
	char h[1100];
	snprintf(h, sizeof h, "%s/horizon", p);
	REQUIRE(make_pipeline(h, "    dedup: {key: [trade_id], order: event_time}\n",
	                      "    dedup: {key: [trade_id], order: event_time}\n    late_horizon: 20s\n"));
	rc = th_run(NULL, "%s run %s/pipeline.yaml --warehouse %s/wh --backfill trades=%s/trades.ndjson "
	            "--max-batch-rows 300 2>/dev/null >/dev/null", floe_bin(), h, h, p);
	CHECK_EQ_INT(rc, 0);
	o = NULL;
	rc = th_run(&o, "%s scan silver.trades_rejected --warehouse %s/wh --columns _reason --format csv",
	            floe_bin(), h);
	CHECK(rc == 0 && o && strstr(o, "late event: more than 20 s behind"));
	int64_t late = count_lines(o) - 1;
	free(o);
	/* a row rejected after the select has no raw record: it is kept as the
	 * JSON of Silver's columns */
	o = NULL;
	rc = th_run(&o, "%s scan silver.trades_rejected --warehouse %s/wh --columns _raw --format "
	            "jsonl | head -n 1", floe_bin(), h);
	CHECK(rc == 0 && o && strncmp(o, "{\"_raw\":\"{\\\"trade_id\\\":\\\"", 25) == 0 &&
	      strstr(o, "\\\"event_time\\\":\\\"2026-11-20T"));
	free(o);
	char hw[1200];
	snprintf(hw, sizeof hw, "%s/wh", h);
	/* nothing is lost: Silver + late quarantine = Silver without a horizon */
	CHECK(late > 0);
	int64_t with = table_rows(hw, "silver.trades"), without = table_rows(wh, "silver.trades");
	CHECK(with < without && with + late >= without);
}

/* The test's folders a and b (1024 bytes each) and their warehouses
 * a/wh and b/wh (1100 bytes each): a is worked on, b is the backfill. */
static void two_folders(char *pa, char *pb, char *wa, char *wb)
{
	snprintf(pa, 1024, "%.900s", th_path("a"));
	snprintf(pb, 1024, "%.900s", th_path("b"));
	snprintf(wa, 1100, "%s/wh", pa);
	snprintf(wb, 1100, "%s/wh", pb);
}

/* The reference pipeline without its steps, beside it as ingest.yaml:
 * ingests into Bronze and leaves the steps behind. */
static bool make_ingest_only(const char *dir)
{
	size_t n;
	char *text = th_read_file("examples/stock/pipeline.yaml", &n);
	char *at = text ? strstr(text, "\nsteps:") : NULL;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/ingest.yaml", dir);
	FILE *f = at ? fopen(path, "w") : NULL;
	if (f) {
		fwrite(text, 1, (size_t)(at - text) + 1, f);
		fclose(f);
	}
	free(text);
	return f != NULL;
}

/* Ingest lines [from, to) of `lines` as landing file `seq` of dir/landing/
 * `kind`, with the full pipeline (steps too) or the ingest-only one. */
static int feed(const char *dir, const char *kind, int seq, char **lines, int from, int to,
                bool steps, const char *extra)
{
	char land[PATH_MAX];
	snprintf(land, sizeof land, "%s/landing/%s", dir, kind);
	if (!drop_file(land, seq, lines, from, to))
		return -1;
	return th_run(NULL, "%s run %s/%s --warehouse %s/wh --once %s 2>>%s/run.log >/dev/null",
	              floe_bin(), dir, steps ? "pipeline.yaml" : "ingest.yaml", dir, extra, dir);
}

static int expire_all_but_last(const char *wh, const char *table)
{
	long long later = (long long)time(NULL) * 1000 + 60000;
	return th_run(NULL, "%s expire %s --warehouse %s --older-than %lld --retain-last 1 "
	              ">/dev/null 2>&1", floe_bin(), table, wh, later);
}

/* Expiring upstream snapshots a step has read is harmless; expiring ones
 * it has not read stops the step with an error instead of skipping their
 * rows in silence; a rebuild and --skip-expired then bring the tables to
 * what a backfill of the same events gives. The pipeline's own upkeep
 * (--upkeep) keeps what the steps have not read. */
TEST(pipeline_expired_unread_snapshots_stop_the_step)
{
	char trades[PATH_MAX], quotes[PATH_MAX];
	REQUIRE(simulated(3000, 13, trades, quotes));
	char pa[1024], pb[1024], wa[1100], wb[1100];
	two_folders(pa, pb, wa, wb);
	REQUIRE(make_pipeline(pa, NULL, NULL) && make_ingest_only(pa) && make_pipeline(pb, NULL, NULL));
	int nt, nq;
	char **tl = read_lines(trades, &nt), **ql = read_lines(quotes, &nq);
	REQUIRE(tl && ql && nt > 1000 && nq > 100);
	int q1 = nt / 6, q2 = 2 * nt / 6, q3 = 3 * nt / 6, q4 = 4 * nt / 6, q5 = 5 * nt / 6;
	/* the steps read the first quarter; then Bronze's snapshot they read
	 * is expired while the next one, unread, stays */
	CHECK_EQ_INT(feed(pa, "quotes", 0, ql, 0, nq, false, ""), 0);
	CHECK_EQ_INT(feed(pa, "trades", 0, tl, 0, q1, true, ""), 0);
	CHECK_EQ_INT(feed(pa, "trades", 1, tl, q1, q2, false, ""), 0);
	CHECK_EQ_INT(expire_all_but_last(wa, "bronze.trades"), 0);
	CHECK_EQ_INT(snapshot_count(wa, "bronze.trades"), 1);
	char *o = NULL;
	int rc = th_run(&o, "%s run %s/pipeline.yaml --warehouse %s --once 2>&1", floe_bin(), pa, wa);
	CHECK_EQ_INT(rc, 0);
	free(o);
	int64_t silver = table_rows(wa, "silver.trades");
	CHECK(silver > q1);
	/* two more snapshots; the one the steps read and the first of the two
	 * are expired: its rows must not be skipped */
	CHECK_EQ_INT(feed(pa, "trades", 2, tl, q2, q3, false, ""), 0);
	CHECK_EQ_INT(feed(pa, "trades", 3, tl, q3, q4, false, ""), 0);
	CHECK_EQ_INT(expire_all_but_last(wa, "bronze.trades"), 0);
	o = NULL;
	rc = th_run(&o, "%s run %s/pipeline.yaml --warehouse %s --once 2>&1", floe_bin(), pa, wa);
	CHECK(rc != 0 && o && strstr(o, "step silver_trades: snapshots of bronze.trades after") &&
	      strstr(o, "were expired before it read them") && strstr(o, "--skip-expired"));
	free(o);
	CHECK_EQ_INT(table_rows(wa, "silver.trades"), silver);
	/* the way on: rebuild Silver from all of Bronze, then skip the gap */
	rc = th_run(NULL, "%s run %s/pipeline.yaml --warehouse %s --rebuild silver.trades --from "
	            "2026-11-20 --to 2026-11-21 2>/dev/null >/dev/null", floe_bin(), pa, wa);
	CHECK_EQ_INT(rc, 0);
	rc = th_run(NULL, "%s run %s/pipeline.yaml --warehouse %s --once --skip-expired 2>/dev/null "
	            ">/dev/null", floe_bin(), pa, wa);
	CHECK_EQ_INT(rc, 0);
	/* the pipeline's own upkeep (--upkeep) expires what the steps have
	 * read and keeps the two snapshots they have not */
	rc = th_run(NULL, "%s alter bronze.trades set-property history.expire.max-snapshot-age-ms "
	            "0 --warehouse %s >/dev/null 2>&1", floe_bin(), wa);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(feed(pa, "trades", 4, tl, q4, (q4 + q5) / 2, false, ""), 0);
	CHECK_EQ_INT(feed(pa, "trades", 5, tl, (q4 + q5) / 2, q5, true, ""), 0);
	CHECK_EQ_INT(feed(pa, "trades", 6, tl, q5, (q5 + nt) / 2, false, ""), 0);
	CHECK_EQ_INT(feed(pa, "trades", 7, tl, (q5 + nt) / 2, nt, false, ""), 0);
	int64_t before = snapshot_count(wa, "bronze.trades");
	o = NULL;
	rc = th_run(&o, "%s run %s/pipeline.yaml --warehouse %s --upkeep 2>/dev/null", floe_bin(),
	            pa, wa);
	CHECK_EQ_INT(rc, 0);
	long long compacted = -1, expired = -1;
	const char *line = o ? strstr(o, ": upkeep compacted ") : NULL;
	CHECK(line && sscanf(line, ": upkeep compacted %lld data files, expired %lld snapshots",
	                     &compacted, &expired) == 2 && compacted > 0 && expired > 0);
	free(o);
	int64_t after = snapshot_count(wa, "bronze.trades");
	if (!(before >= 5 && after >= 2 && after < before))
		th_fail(__FILE__, __LINE__, "bronze.trades: %" PRId64 " snapshots before --upkeep, %"
		        PRId64 " after", before, after);
	rc = th_run(NULL, "%s run %s/pipeline.yaml --warehouse %s --once 2>/dev/null >/dev/null",
	            floe_bin(), pa, wa);
	CHECK_EQ_INT(rc, 0);
	rc = th_run(NULL, "%s run %s/pipeline.yaml --warehouse %s --backfill trades=%s quotes=%s "
	            "2>/dev/null >/dev/null", floe_bin(), pb, wb, trades, quotes);
	CHECK_EQ_INT(rc, 0);
	compare_all(wa, wb, "expired, rebuilt and upkept vs backfill");
	free_lines(tl, nt);
	free_lines(ql, nq);
}

/* The lines of `log` that hold every one of the strings (NULL-ended). */
static int log_lines_with(const char *log, const char *const *all)
{
	size_t n;
	char *text = th_read_file(log, &n);
	int count = 0;
	for (char *l = text, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		bool ok = true;
		for (int i = 0; all[i] && ok; i++)
			ok = strstr(l, all[i]) != NULL;
		count += ok;
	}
	free(text);
	return count;
}

/* A stream with the example's upkeep every 300 ms: the runner compacts the
 * pipeline's tables and expires Bronze's trades (max age set to 0),
 * keeping what the steps have not read; the tables come out as a
 * backfill's. */
TEST(pipeline_stream_upkeep_compacts_and_expires_safely)
{
	char trades[PATH_MAX], quotes[PATH_MAX];
	REQUIRE(simulated(4000, 17, trades, quotes));
	char pa[1024], pb[1024], wa[1100], wb[1100];
	two_folders(pa, pb, wa, wb);
	/* the example's upkeep every 300 ms, and Bronze's trades expiring at
	 * once */
	REQUIRE(make_pipeline(pa, "  every: 10m\n", "  every: 300ms\n") &&
	        make_pipeline(pb, NULL, NULL));
	char pfile[PATH_MAX], log[PATH_MAX];
	snprintf(pfile, sizeof pfile, "%s/pipeline.yaml", pa);
	snprintf(log, sizeof log, "%s/run.log", pa);
	REQUIRE(replace_in_file(pfile, "max-snapshot-age-ms: \"3600000\"",
	                        "max-snapshot-age-ms: \"0\""));
	int nt, nq;
	char **tl = read_lines(trades, &nt), **ql = read_lines(quotes, &nq);
	REQUIRE(tl && ql && nt > 1000 && nq > 100);
	const char *argv[] = { "floe", "run", pfile, "--warehouse", wa, "--trigger", "100ms",
		"--max-batch-rows", "300", "--duration", "5s", "--json-status", NULL };
	pid_t pid = ti_spawn(argv, log);
	REQUIRE(pid > 0);
	char tdir[PATH_MAX], qdir[PATH_MAX];
	snprintf(tdir, sizeof tdir, "%s/landing/trades", pa);
	snprintf(qdir, sizeof qdir, "%s/landing/quotes", pa);
	for (int k = 0; k < 10; k++) {
		REQUIRE(drop_file(tdir, k, tl, nt * k / 10, nt * (k + 1) / 10));
		REQUIRE(drop_file(qdir, k, ql, nq * k / 10, nq * (k + 1) / 10));
		ti_sleep_ms(300);
	}
	int status = 0;
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	int rc = th_run(NULL, "%s run %s --warehouse %s --once 2>>%s >/dev/null", floe_bin(), pfile,
	                wa, log);
	CHECK_EQ_INT(rc, 0);
	rc = th_run(NULL, "%s run %s/pipeline.yaml --warehouse %s --backfill trades=%s quotes=%s "
	            "2>/dev/null >/dev/null", floe_bin(), pb, wb, trades, quotes);
	CHECK_EQ_INT(rc, 0);
	compare_all(wa, wb, "stream with upkeep vs backfill");
	/* upkeep ran: Bronze's snapshots were expired, files were compacted */
	static const char *const expired[] = { "\"event\":\"upkeep\"",
		"\"table\":\"bronze.trades\"", "\"snapshots_expired\":", NULL };
	static const char *const none_expired[] = { "\"event\":\"upkeep\"",
		"\"table\":\"bronze.trades\"", "\"snapshots_expired\":0,", NULL };
	static const char *const compacted[] = { "\"event\":\"upkeep\"", "\"files_compacted\":",
		NULL };
	static const char *const none_compacted[] = { "\"event\":\"upkeep\"",
		"\"files_compacted\":0,", NULL };
	static const char *const ingests[] = { "\"event\":\"ingest\"",
		"\"table\":\"bronze.trades\"", NULL };
	CHECK(log_lines_with(log, expired) > log_lines_with(log, none_expired));
	CHECK(log_lines_with(log, compacted) > log_lines_with(log, none_compacted));
	/* the quarantine tables too */
	static const char *const quarantine[] = { "\"event\":\"upkeep\"",
		"\"table\":\"bronze.trades_rejected\"", NULL };
	CHECK(log_lines_with(log, quarantine) > 0);
	int commits = log_lines_with(log, ingests);
	int64_t left = snapshot_count(wa, "bronze.trades");
	if (!(commits >= 5 && left > 0 && left < commits))
		th_fail(__FILE__, __LINE__, "%d ingest commits to bronze.trades, %" PRId64 " snapshots "
		        "left (see %s)", commits, left, log);
	free_lines(tl, nt);
	free_lines(ql, nq);
}

/* The reference pipeline with its trades source on a Kafka topic (the
 * librdkafka mock cluster, three partitions, the simulated trades produced
 * round robin) gives the Silver and Gold of a backfill of the same trades
 * file; Bronze holds each record once with its partition and offset; a
 * second --once reads nothing new. */
TEST(pipeline_kafka_source_matches_backfill)
{
	char trades[PATH_MAX], quotes[PATH_MAX];
	REQUIRE(simulated(6000, 13, trades, quotes));
	int nt;
	char **tl = read_lines(trades, &nt);
	REQUIRE(tl && nt > 1000);
	for (int i = 0; i < nt; i++)
		tl[i][strcspn(tl[i], "\n")] = 0;
	th_kafka_mock k;
	REQUIRE(th_kafka_mock_start(&k, "trades", 3) == 0);
	REQUIRE(th_kafka_produce(&k, (const char *const *)tl, nt, NULL, TH_KAFKA_ROUND_ROBIN) == 0);

	char pa[1024], pk[1024], wa[1100], wk[1100], group[64], src[512];
	snprintf(pa, sizeof pa, "%.900s", th_path("a"));
	snprintf(pk, sizeof pk, "%.900s", th_path("k"));
	snprintf(wa, sizeof wa, "%s/wh", pa);
	snprintf(wk, sizeof wk, "%s/wh", pk);
	/* the second run rejoins the group: the mock makes it wait the session
	 * timeout (docs/kafka.md) */
	snprintf(src, sizeof src, "    kafka: {brokers: \"%s\", topic: trades, group: %s, "
	         "conf: {session.timeout.ms: 6000}}\n", k.bootstrap,
	         th_kafka_group(group, sizeof group, "pipeline"));
	REQUIRE(make_pipeline(pa, NULL, NULL));
	REQUIRE(make_pipeline(pk, "    path: landing/trades/          # a watched directory of "
	                      "NDJSON files\n", src));
	int rc = th_run(NULL, "%s run %s/pipeline.yaml --warehouse %s --backfill trades=%s "
	                "quotes=%s 2>%s/a.log >/dev/null", floe_bin(), pa, wa, trades, quotes, pa);
	CHECK_EQ_INT(rc, 0);
	/* the quotes come from their landing folder, the trades from Kafka */
	REQUIRE(th_run(NULL, "cp %s %s/landing/quotes/q.ndjson", quotes, pk) == 0);
	char *out = NULL;
	rc = th_run(&out, "%s run %s/pipeline.yaml --warehouse %s --once 2>%s/k.log", floe_bin(),
	            pk, wk, pk);
	CHECK_EQ_INT(rc, 0);
	free(out);
	compare_all(wa, wk, "backfill vs Kafka source");
	/* Bronze: every record once, good or rejected, each with its partition */
	int64_t bt = table_rows(wk, "bronze.trades"), bq = table_rows(wk, "bronze.trades_rejected");
	CHECK_EQ_INT(bt + bq, nt);
	CHECK_EQ_INT(bt, table_rows(wa, "bronze.trades"));
	char *parts = NULL;
	rc = th_run(&parts, "%s scan bronze.trades --warehouse %s --columns _partition --format csv "
	            "| tail -n +2 | sort -u | tr '\\n' ' '", floe_bin(), wk);
	CHECK(rc == 0 && parts && strcmp(parts, "0 1 2 ") == 0);
	free(parts);
	/* nothing new: nothing read, nothing committed */
	int64_t snaps = snapshot_count(wk, "silver.trades");
	out = NULL;
	rc = th_run(&out, "%s run %s/pipeline.yaml --warehouse %s --once 2>>%s/k.log", floe_bin(), pk,
	            wk, pk);
	CHECK_EQ_INT(rc, 0);
	CHECK(out && strstr(out, " 0 records ingested"));
	free(out);
	CHECK_EQ_INT(snapshot_count(wk, "silver.trades"), snaps);
	free_lines(tl, nt);
	th_kafka_mock_stop(&k);
}
