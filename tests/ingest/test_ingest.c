/* tests/ingest/test_ingest.c - streaming ingest from files: every kind of
 * malformed record lands in quarantine with its reason while the good ones
 * around it reach Bronze; resuming from the positions in the tables; CSV
 * with headers and quoted newlines; a watched directory stopped by
 * SIGTERM; stdin; over-long lines; record specs as data; the freshness
 * percentiles of a batch; and the crash
 * test: the runner killed with SIGKILL at random moments (at least 20
 * times, many during commits), then every record is in Bronze or
 * quarantine exactly once and the orphan sweep leaves the tables intact. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_run.h"
#include "floe/catalog.h"
#include "floe/ingest.h"
#include "floe/table.h"
#include "harness.h"
#include "ingest/test_ingest_util.h"

/* ---- the tests ------------------------------------------------------------ */

TEST(ingest_malformed_records_quarantined_with_reasons)
{
	const char *path = th_path("mixed.ndjson");
	FILE *f = fopen(path, "w");
	REQUIRE(f);
	static const struct {
		const char *line, *reason;
	} bad[] = {
		{ "{\"trade_id\":\"B1\",\"symbol\":\"AAPL\",\"price\":1", "bad JSON" },
		{ "not json at all", "bad JSON at byte 0" },
		{ "{\"trade_id\":\"B3\",\"symbol\":\"AAPL\",\"volume\":5,\"timestamp\":"
		  "\"2026-11-20T10:00:00Z\",\"trade_type\":\"BUY\",\"exchange\":\"NYSE\"}",
		  "missing field 'price'" },
		{ "{\"trade_id\":\"B4\",\"symbol\":\"AAPL\",\"price\":-3.5,\"volume\":5,\"timestamp\":"
		  "\"2026-11-20T10:00:00Z\",\"trade_type\":\"BUY\",\"exchange\":\"NYSE\"}",
		  "price must be positive" },
		{ "{\"trade_id\":\"B5\",\"symbol\":\"AAPL\",\"price\":3.5,\"volume\":5,\"timestamp\":"
		  "\"2026-11-20T10:00:00Z\",\"trade_type\":\"HOLD\",\"exchange\":\"NYSE\"}",
		  "trade_type must be BUY or SELL" },
		{ "{\"trade_id\":\"B6\",\"symbol\":\"AAPL\",\"price\":3.5,\"volume\":5,\"timestamp\":"
		  "\"2026-13-45T99:00:00Z\",\"trade_type\":\"BUY\",\"exchange\":\"NYSE\"}",
		  "field 'timestamp': bad timestamp" },
		{ "{\"trade_id\":\"B7\",\"symbol\":\"AAPL\",\"price\":3.5,\"volume\":\"lots\","
		  "\"timestamp\":\"2026-11-20T10:00:00Z\",\"trade_type\":\"BUY\",\"exchange\":\"NYSE\"}",
		  "field 'volume': 'lots' is not a long" },
		{ "{\"trade_id\":\"B8\",\"symbol\":null,\"price\":3.5,\"volume\":5,\"timestamp\":"
		  "\"2026-11-20T10:00:00Z\",\"trade_type\":\"BUY\",\"exchange\":\"NYSE\"}",
		  "field 'symbol' is null" },
		{ "{\"trade_id\":\"B9\",\"symbol\":\"AAPL\",\"price\":3.5,\"volume\":5,\"timestamp\":"
		  "\"2026-11-20T10:00:00Z\",\"trade_type\":\"BUY\",\"exchange\":\"NYSE\"} trailing",
		  "text after the object" },
		{ "{\"trade_id\":\"B10\",\"symbol\":\"\xff\xfe\",\"price\":3.5}", "not valid UTF-8" },
		{ "[1,2,3]", "a record is a JSON object" },
		{ "{\"trade_id\":\"B12\",\"symbol\":\"AAPL\",\"price\":3.5,\"volume\":0,\"timestamp\":"
		  "\"2026-11-20T10:00:00Z\",\"trade_type\":\"SELL\",\"exchange\":\"NYSE\"}",
		  "volume must be positive" },
		{ "{\"trade_id\":\"B13\",\"symbol\":\"AAPL\",\"price\":3.5,\"volume\":5,\"timestamp\":"
		  "1795400000,\"trade_type\":\"SELL\",\"exchange\":\"NYSE\"}",
		  "expected a timestamp string" },
	};
	int nbad = (int)(sizeof bad / sizeof bad[0]);
	int64_t bad_off[16];
	int64_t off = 0;
	int good = 0;
	for (int i = 0; i < nbad; i++) {
		/* two good records around every bad one */
		for (int k = 0; k < 2; k++) {
			char line[512];
			int n = ti_trade_line(line, sizeof line, good++, 0);
			fprintf(f, "%s\n", line);
			off += n + 1;
		}
		bad_off[i] = off;
		fprintf(f, "%s\n", bad[i].line);
		off += (int64_t)strlen(bad[i].line) + 1;
	}
	/* a good record with escapes, unicode and unknown keys */
	const char *fancy = "{\"trade_id\":\"G\\u00e9\\ud83d\\ude00\\\"x\",\"extra\":{\"a\":[1,{\"b\":\"}\"}]},"
	                    "\"symbol\":\"AAPL\",\"price\":1.5e2,\"volume\":7777,\"timestamp\":"
	                    "\"2026-11-20T10:00:00+01:00\",\"trade_type\":\"BUY\",\"exchange\":null}";
	fprintf(f, "%s\n\n   \n", fancy);
	fclose(f);

	ti_env e;
	REQUIRE(ti_open(&e));
	floe_ingest_result res;
	floe_error err;
	REQUIRE_OK(ti_ingest_files(&e, path, FLOE_TRIGGER_ONCE, 0, &res, &err), &err);
	CHECK_EQ_INT(res.rows, good + 1);
	CHECK_EQ_INT(res.rejected, nbad);
	CHECK_EQ_INT(res.batches, 1);

	ti_rows q;
	REQUIRE(ti_read(&e, "bronze.trades_rejected", "_reason", &q));
	CHECK_EQ_INT(q.n, nbad);
	for (int i = 0; i < nbad; i++) {
		int at = ti_find_offset(&q, bad_off[i]);
		if (at < 0) {
			th_fail(__FILE__, __LINE__, "bad record %d (offset %lld) not in quarantine", i,
			        (long long)bad_off[i]);
			continue;
		}
		if (!strstr(q.text[at], bad[i].reason))
			th_fail(__FILE__, __LINE__, "record %d: reason '%s' lacks '%s'", i, q.text[at],
			        bad[i].reason);
		CHECK_EQ_INT(q.rawlen[at], (int64_t)strlen(bad[i].line));
		CHECK(memcmp(q.raw[at], bad[i].line, strlen(bad[i].line)) == 0);
	}
	ti_rows b;
	REQUIRE(ti_read(&e, "bronze.trades", "trade_id", &b));
	CHECK_EQ_INT(b.n, good + 1);
	for (int i = 0; i < good; i++) {
		char id[32];
		snprintf(id, sizeof id, "T%012d", i);
		CHECK(ti_find_text(&b, id) >= 0);
	}
	int at = ti_find_text(&b, "G\xc3\xa9\xf0\x9f\x98\x80\"x");
	CHECK(at >= 0);
	ti_rows_free(&q);
	ti_rows_free(&b);

	/* the fancy record's values: 150.0, 09:00 UTC */
	ti_rows v;
	REQUIRE(ti_read_where(&e, "bronze.trades", "price", "volume = 7777", &v));
	CHECK_EQ_INT(v.n, 1);
	if (v.n == 1)
		CHECK_EQ_STR(v.text[0], "150");
	ti_rows_free(&v);
	REQUIRE(ti_read_where(&e, "bronze.trades", "timestamp", "volume = 7777", &v));
	if (v.n == 1)
		CHECK(strncmp(v.text[0], "2026-11-20T09:00:00", 19) == 0);
	ti_rows_free(&v);
	ti_close(&e);
}

TEST(ingest_resumes_from_table_positions)
{
	const char *path = th_path("t.ndjson");
	ti_fileset fs;
	REQUIRE(ti_write_trades(path, 5000, 37, &fs));
	ti_env e;
	REQUIRE(ti_open(&e));
	floe_ingest_result res;
	floe_error err;
	/* two small batches, then stop */
	REQUIRE_OK(ti_ingest_files(&e, path, FLOE_TRIGGER_AVAILABLE_NOW, 2, &res, &err), &err);
	CHECK_EQ_INT(res.batches, 2);
	CHECK(res.rows + res.rejected == 2 * 700);
	char *pos = NULL;
	REQUIRE_OK(floe_ingest_position(e.cat, "bronze.trades", "files", &pos, &err), &err);
	REQUIRE(pos);
	CHECK(strstr(pos, "\"offset\":") != NULL);
	CHECK(strstr(pos, "/t.ndjson") != NULL);
	free(pos);
	/* the rest */
	REQUIRE_OK(ti_ingest_files(&e, path, FLOE_TRIGGER_AVAILABLE_NOW, 0, &res, &err), &err);
	CHECK(res.batches >= 6);
	/* nothing new: no commit */
	REQUIRE_OK(ti_ingest_files(&e, path, FLOE_TRIGGER_ONCE, 0, &res, &err), &err);
	CHECK_EQ_INT(res.batches, 0);
	CHECK_EQ_INT(res.rows, 0);
	ti_check_exactly_once(&e, &fs);
	/* more data appended to the file is picked up from the saved offset */
	REQUIRE(ti_append_trades(path, 5000, 300, 37, &fs));
	REQUIRE_OK(ti_ingest_files(&e, path, FLOE_TRIGGER_ONCE, 0, &res, &err), &err);
	CHECK_EQ_INT(res.rows + res.rejected, 300);
	ti_check_exactly_once(&e, &fs);
	ti_fileset_free(&fs);
	ti_close(&e);
}

static void keep_commit_status(void *ctx, const floe_ingest_status *st)
{
	if (strcmp(st->event, "commit") == 0)
		*(floe_ingest_status *)ctx = *st;
}

/* Freshness is commit time minus event time at the median and the 99th
 * percentile of the batch's events. 1000 events one second apart, shuffled,
 * straddling 1970 (negative event times sort first): whatever the clock
 * says, p99 - p50 is the gap between the 10th oldest and the middle event. */
TEST(ingest_freshness_percentiles_of_the_batch)
{
	const char *path = th_path("t.ndjson");
	FILE *f = fopen(path, "w");
	REQUIRE(f);
	int order[1000];
	for (int i = 0; i < 1000; i++)
		order[i] = i;
	uint64_t x = 88172645463325252ull;
	for (int i = 999; i > 0; i--) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int j = (int)(x % (uint64_t)(i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int k = 0; k < 1000; k++) {
		int i = order[k];
		time_t ts = (time_t)(i - 600); /* 1969-12-31T23:50:00Z + i s */
		struct tm tm;
		gmtime_r(&ts, &tm);
		char when[32];
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(f, "{\"trade_id\":\"F%d\",\"symbol\":\"AAPL\",\"price\":1.5,\"volume\":2,"
		        "\"timestamp\":\"%s\",\"trade_type\":\"BUY\",\"exchange\":\"NYSE\"}\n", i, when);
	}
	fclose(f);
	ti_env e;
	REQUIRE(ti_open(&e));
	floe_ingest_options o;
	floe_ingest_options_init(&o);
	o.table = "bronze.trades";
	o.source = path;
	o.spec = e.trades;
	o.trigger = FLOE_TRIGGER_ONCE;
	floe_ingest_status st;
	memset(&st, 0, sizeof st);
	o.status = keep_commit_status;
	o.status_ctx = &st;
	floe_ingest_result res;
	floe_error err;
	REQUIRE_OK(floe_ingest_run(e.cat, &o, &res, &err), &err);
	CHECK_EQ_INT(res.rows, 1000);
	CHECK_EQ_INT(st.batch_rows, 1000);
	/* p50: the 501st oldest event (i = 500); p99: the 10th oldest (i = 9) */
	double gap = st.freshness_p99_ms - st.freshness_p50_ms;
	if (gap < 490999.0 || gap > 491001.0)
		th_fail(__FILE__, __LINE__, "p50 %.1f ms, p99 %.1f ms: gap %.1f, want 491000",
		        st.freshness_p50_ms, st.freshness_p99_ms, gap);
	CHECK(st.freshness_p50_ms > 1.5e12); /* decades */
	ti_close(&e);
}

TEST(ingest_csv_with_header_quotes_and_resume)
{
	const char *path = th_path("t.csv");
	FILE *f = fopen(path, "w");
	REQUIRE(f);
	/* columns in another order than the spec, an unknown one, CRLF */
	fprintf(f, "symbol,trade_id,note,price,volume,timestamp,trade_type,exchange\r\n");
	for (int i = 0; i < 3000; i++) {
		if (i == 10)
			fprintf(f, "AAPL,C%d,\"multi\nline, \"\"quoted\"\"\",12.5,3,2026-11-20T10:00:00Z,"
			        "BUY,NYSE\r\n", i);
		else if (i == 20)
			fprintf(f, "AAPL,C%d,,12.5,3,2026-11-20T10:00:00Z,SELL,NYSE,extra\r\n", i);
		else if (i == 30)
			fprintf(f, "AAPL,C%d,,,3,2026-11-20T10:00:00Z,SELL,NYSE\r\n", i);
		else
			fprintf(f, "\"MSFT\",C%d,x,%d.25,%d,2026-11-2%dT10:00:00.5Z,SELL,\"NASDAQ\"\r\n", i,
			        100 + i % 50, 1 + i % 9, i % 3);
	}
	fclose(f);
	ti_env e;
	REQUIRE(ti_open(&e));
	floe_ingest_options o;
	floe_ingest_options_init(&o);
	o.table = "bronze.trades";
	o.source = path;
	o.format = "csv";
	o.spec = e.trades;
	o.trigger = FLOE_TRIGGER_AVAILABLE_NOW;
	o.max_batch_rows = 1000;
	o.max_batches = 1;
	floe_ingest_result res;
	floe_error err;
	REQUIRE_OK(floe_ingest_run(e.cat, &o, &res, &err), &err);
	CHECK_EQ_INT(res.rows + res.rejected, 1000);
	o.max_batches = 0; /* resume mid-file: the header is read again */
	REQUIRE_OK(floe_ingest_run(e.cat, &o, &res, &err), &err);
	CHECK_EQ_INT(res.rows + res.rejected, 2000);
	ti_rows b, q;
	REQUIRE(ti_read(&e, "bronze.trades", "trade_id", &b));
	REQUIRE(ti_read(&e, "bronze.trades_rejected", "_reason", &q));
	CHECK_EQ_INT(b.n, 2998);
	CHECK_EQ_INT(q.n, 2);
	CHECK(ti_find_text(&b, "C10") >= 0);
	CHECK(ti_find_text(&b, "C2999") >= 0);
	CHECK(ti_find_text(&b, "C20") < 0);
	int hits = 0;
	for (int64_t i = 0; i < q.n; i++)
		hits += strstr(q.text[i], "more fields than the header") != NULL ||
		        strstr(q.text[i], "field 'price' is null") != NULL;
	CHECK_EQ_INT(hits, 2);
	ti_rows_free(&b);
	ti_rows_free(&q);
	ti_close(&e);
}

TEST(ingest_watched_directory_and_graceful_sigterm)
{
	const char *dir = th_path("in");
	REQUIRE(mkdir(dir, 0755) == 0);
	char path[4096];
	ti_fileset fs = { 0 };
	snprintf(path, sizeof path, "%s/part-0001.ndjson", dir);
	REQUIRE(ti_write_trades(path, 2000, 0, &fs));
	ti_env e;
	REQUIRE(ti_open(&e));
	const char *argv[] = { "floe", "ingest", "bronze.trades", "--warehouse", e.wh, "--from",
		               dir, "--trigger", "200ms", NULL };
	pid_t pid = ti_spawn(argv, th_path("ingest.log"));
	REQUIRE(pid > 0);
	ti_sleep_ms(600);
	/* a file written under a temporary name, then renamed */
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s/.part-0002.ndjson", dir);
	REQUIRE(ti_write_trades_from(tmp, 2000, 1500, 0, &fs));
	snprintf(path, sizeof path, "%s/part-0002.ndjson", dir);
	REQUIRE(rename(tmp, path) == 0);
	ti_fileset_rename(&fs, tmp, path);
	/* a third file, ingested as it appears */
	snprintf(path, sizeof path, "%s/part-0003.ndjson", dir);
	REQUIRE(ti_write_trades_from(path, 3500, 10, 0, &fs));
	ti_sleep_ms(800);
	ti_stop_child(pid, th_path("ingest.log"), "\"event\":\"stop\"");
	ti_check_exactly_once(&e, &fs);
	ti_fileset_free(&fs);
	ti_close(&e);
}

TEST(ingest_stdin_and_cli_errors)
{
	const char *path = th_path("s.ndjson");
	ti_fileset fs;
	REQUIRE(ti_write_trades(path, 500, 50, &fs));
	ti_env e;
	REQUIRE(ti_open(&e));
	char *out = NULL, *errout = NULL;
	const char *argv[] = { "floe", "ingest", "bronze.trades", "--warehouse", e.wh, "--from", "-",
		               "--trigger", "once" };
	int rc = cli_run_argv(path, &out, &errout, 9, argv);
	CHECK_EQ_INT(rc, 0);
	CHECK(out && strstr(out, "ingested 490 rows into bronze.trades, 10 rejected, in 1 batches"));
	free(out);
	free(errout);
	/* stdin does not resume: its positions say "stdin" and are not reused */
	char *pos = NULL;
	floe_error err;
	REQUIRE_OK(floe_ingest_position(e.cat, "bronze.trades", "stdin", &pos, &err), &err);
	CHECK(pos && strstr(pos, "\"file\":\"-\""));
	free(pos);

	const char *bad1[] = { "floe", "ingest", "bronze.things", "--warehouse", e.wh, "--from", path };
	rc = cli_run_argv(NULL, NULL, &errout, 7, bad1);
	CHECK_EQ_INT(rc, 2);
	CHECK(errout && strstr(errout, "--kind trades|quotes or --spec FILE"));
	free(errout);
	const char *bad2[] = { "floe", "ingest", "bronze.trades", "--warehouse", e.wh, "--from", path,
		               "--trigger", "sometimes" };
	rc = cli_run_argv(NULL, NULL, &errout, 9, bad2);
	CHECK_EQ_INT(rc, 2);
	CHECK(errout && strstr(errout, "--trigger sometimes"));
	free(errout);
	const char *bad3[] = { "floe", "ingest", "bronze.trades", "--warehouse", e.wh, "--from",
		               "/nonexistent/x.ndjson" };
	rc = cli_run_argv(NULL, NULL, &errout, 7, bad3);
	CHECK_EQ_INT(rc, 1);
	CHECK(errout && strstr(errout, "/nonexistent/x.ndjson"));
	free(errout);
	ti_fileset_free(&fs);
	ti_close(&e);
}

TEST(ingest_overlong_line_quarantined_and_stream_goes_on)
{
	const char *path = th_path("long.ndjson");
	FILE *f = fopen(path, "w");
	REQUIRE(f);
	char line[512];
	ti_trade_line(line, sizeof line, 1, 0);
	fprintf(f, "%s\n{\"trade_id\":\"", line);
	size_t big = (17u << 20);
	char *junk = malloc(big);
	REQUIRE(junk);
	memset(junk, 'x', big);
	fwrite(junk, 1, big, f);
	free(junk);
	fprintf(f, "\"}\n");
	ti_trade_line(line, sizeof line, 2, 0);
	fprintf(f, "%s\n", line);
	fclose(f);
	ti_env e;
	REQUIRE(ti_open(&e));
	floe_ingest_result res;
	floe_error err;
	REQUIRE_OK(ti_ingest_files(&e, path, FLOE_TRIGGER_ONCE, 0, &res, &err), &err);
	CHECK_EQ_INT(res.rows, 2);
	CHECK_EQ_INT(res.rejected, 1);
	ti_rows q;
	REQUIRE(ti_read(&e, "bronze.trades_rejected", "_reason", &q));
	CHECK_EQ_INT(q.n, 1);
	if (q.n == 1) {
		CHECK(strstr(q.text[0], "longer than 16 MiB") != NULL);
		CHECK_EQ_INT(q.rawlen[0], 16 << 20);
	}
	ti_rows_free(&q);
	ti_close(&e);
}

TEST(ingest_record_spec_from_json)
{
	floe_record_spec *s = NULL;
	floe_error err;
	const char *good = "{\"name\":\"clicks\",\"fields\":\"user_id long not null, url string, "
	                   "at timestamptz not null, score decimal(6,2)\",\"event_time\":\"at\","
	                   "\"checks\":[{\"check\":\"user_id >= 1 and url is not null\","
	                   "\"reason\":\"anonymous or url-less\"}]}";
	REQUIRE_OK(floe_record_spec_parse(&s, good, "clicks.json", &err), &err);
	CHECK_EQ_STR(floe_record_spec_name(s), "clicks");
	CHECK_EQ_STR(floe_record_spec_bronze_partition(s), "day(at)");
	CHECK(strstr(floe_record_spec_bronze_schema(s), "_raw string not null") != NULL);

	const char *path = th_path("c.ndjson");
	FILE *f = fopen(path, "w");
	REQUIRE(f);
	fprintf(f, "{\"user_id\":1,\"url\":\"/a\",\"at\":\"2026-01-01T00:00:00Z\",\"score\":\"12.34\"}\n");
	fprintf(f, "{\"user_id\":0,\"url\":\"/a\",\"at\":\"2026-01-01T00:00:00Z\"}\n");
	fprintf(f, "{\"user_id\":2,\"at\":\"2026-01-01T00:00:00Z\"}\n");
	fprintf(f, "{\"user_id\":3,\"url\":\"/b\",\"at\":\"2026-01-02T00:00:00Z\",\"score\":1.5}\n");
	fprintf(f, "{\"user_id\":4,\"url\":\"/b\",\"at\":\"2026-01-02T00:00:00Z\",\"score\":1.555}\n");
	fclose(f);
	ti_env e;
	REQUIRE(ti_open(&e));
	floe_ingest_options o;
	floe_ingest_options_init(&o);
	o.table = "raw.clicks";
	o.source = path;
	o.spec = s;
	o.trigger = FLOE_TRIGGER_ONCE;
	floe_ingest_result res;
	REQUIRE_OK(floe_ingest_run(e.cat, &o, &res, &err), &err);
	CHECK_EQ_INT(res.rows, 2);
	CHECK_EQ_INT(res.rejected, 3);
	ti_rows q;
	REQUIRE(ti_read(&e, "raw.clicks_rejected", "_reason", &q));
	int anon = 0, scale = 0;
	for (int64_t i = 0; i < q.n; i++) {
		anon += strstr(q.text[i], "anonymous or url-less") != NULL;
		scale += strstr(q.text[i], "field 'score'") != NULL;
	}
	CHECK_EQ_INT(anon, 2);
	CHECK_EQ_INT(scale, 1);
	ti_rows_free(&q);
	ti_close(&e);
	floe_record_spec_free(s);

	static const struct {
		const char *json, *msg;
	} bad[] = {
		{ "{\"fields\":\"a long\"}", "\"name\"" },
		{ "{\"name\":\"x\"}", "\"fields\"" },
		{ "{\"name\":\"x\",\"fields\":\"a lung\"}", "fields" },
		{ "{\"name\":\"x\",\"fields\":\"_a long\"}", "kept for the Bronze metadata" },
		{ "{\"name\":\"x\",\"fields\":\"a long\",\"event_time\":\"a\"}", "timestamp" },
		{ "{\"name\":\"x\",\"fields\":\"a timestamp\",\"event_time\":\"a\"}", "not null" },
		{ "{\"name\":\"x\",\"fields\":\"a long\",\"checks\":[{\"check\":\"b > 1\"}]}", "check 'b > 1'" },
		{ "{\"name\":\"x\",\"fields\":\"a long\",\"checks\":{}}", "array" },
		{ "[", "line 1" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s = NULL;
		int rc = floe_record_spec_parse(&s, bad[i].json, "spec.json", &err);
		CHECK(rc != 0);
		if (rc && !strstr(err.msg, bad[i].msg))
			th_fail(__FILE__, __LINE__, "spec %zu: '%s' lacks '%s'", i, err.msg, bad[i].msg);
		floe_record_spec_free(s);
	}
}

/* The crash test: SIGKILL at random moments while ingesting from files in
 * small, frequent batches (so many kills land inside commits); then finish
 * and check exactly-once over Bronze and quarantine. */
TEST(ingest_crash_kill9_files_exactly_once)
{
	const char *dir = th_path("in");
	REQUIRE(mkdir(dir, 0755) == 0);
	ti_fileset fs = { 0 };
	char path[4096];
	int per = 20000, nfiles = 3;
	for (int i = 0; i < nfiles; i++) {
		snprintf(path, sizeof path, "%s/f%d.ndjson", dir, i);
		REQUIRE(ti_write_trades_from(path, i * per, per, 23, &fs));
	}
	ti_env e;
	REQUIRE(ti_open(&e));
	unsigned seed = (unsigned)time(NULL);
	printf("  crash test seed %u\n", seed);
	fflush(stdout);
	srand(seed);
	/* batches of 100 rows: 600 commits, so the input outlasts the kills
	 * however fast commits get (with 300 a fast machine ingested it all
	 * within 19 kills, and later kills found nothing running) */
	const char *extra[] = { "--max-batch-rows", "100", NULL };
	int kills = ti_kill_loop(&e, dir, 24, "available-now", 5, 150, extra);
	printf("  %d kills hit a running ingest\n", kills);
	fflush(stdout);
	CHECK(kills >= 20);
	/* finish */
	floe_ingest_result res;
	floe_error err;
	REQUIRE_OK(ti_ingest_files(&e, dir, FLOE_TRIGGER_AVAILABLE_NOW, 0, &res, &err), &err);
	ti_check_exactly_once(&e, &fs);
	ti_check_orphans_swept(&e);
	ti_check_exactly_once(&e, &fs);
	ti_fileset_free(&fs);
	ti_close(&e);
}

/* Bronze and quarantine as other engines see them: an independent reader
 * (tests/iceberg/iceberg_read.mjs: avsc for the manifests, DuckDB for the
 * Parquet files, every file's metrics checked) finds every row, and the sum
 * of the offsets matches. */
TEST(ingest_tables_read_by_duckdb)
{
	const char *peers = th_peers();
	const char *path = th_path("t.ndjson");
	ti_fileset fs;
	REQUIRE(ti_write_trades(path, 3000, 17, &fs));
	ti_env e;
	REQUIRE(ti_open(&e));
	floe_ingest_result res;
	floe_error err;
	REQUIRE_OK(ti_ingest_files(&e, path, FLOE_TRIGGER_AVAILABLE_NOW, 0, &res, &err), &err);
	const char *names[] = { "bronze.trades", "bronze.trades_rejected" };
	for (int i = 0; i < 2; i++) {
		ti_rows r;
		REQUIRE(ti_read(&e, names[i], "_offset", &r));
		int64_t sum = 0;
		for (int64_t k = 0; k < r.n; k++)
			sum += r.off[k];
		floe_table *t;
		REQUIRE_OK(floe_table_open(&t, e.cat, names[i], &err), &err);
		char *out = NULL;
		REQUIRE(th_run(&out, "node tests/iceberg/iceberg_read.mjs '%s' '%s' --sum _offset", peers,
		               floe_table_metadata_location(t)) == 0);
		char want[128];
		snprintf(want, sizeof want, "\"rows\":%lld,\"sum\":\"%lld\"", (long long)r.n,
		         (long long)sum);
		if (!out || !strstr(out, want))
			th_fail(__FILE__, __LINE__, "%s: independent reader %s, want %s", names[i],
			        out ? out : "", want);
		free(out);
		floe_table_close(t);
		ti_rows_free(&r);
	}
	ti_fileset_free(&fs);
	ti_close(&e);
}

/* Timestamps read back exactly as written: random canonical
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ" values (the decoder's direct path for days
 * up to 28, the general parser for the rest) against the formatter. */
TEST(ingest_timestamps_exact)
{
	const char *path = th_path("ts.ndjson");
	FILE *f = fopen(path, "w");
	REQUIRE(f);
	uint32_t x = 12345;
	char (*want)[32] = malloc(800 * sizeof *want);
	REQUIRE(want);
	for (int i = 0; i < 800; i++) {
		x = x * 1103515245u + 12345u;
		int y = 1970 + (int)(x >> 8) % 131;
		x = x * 1103515245u + 12345u;
		int mo = 1 + (int)(x >> 8) % 12, d = 1 + (int)(x >> 16) % 28 + (i % 5 == 0 ? 2 : 0);
		if (mo == 2 && d > 28)
			d = 28;
		x = x * 1103515245u + 12345u;
		snprintf(want[i], sizeof want[i], "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", y, mo, d,
		         (int)(x >> 8) % 24, (int)(x >> 13) % 60, (int)(x >> 19) % 60,
		         (int)((x * 2654435761u) % 1000000u));
		fprintf(f, "{\"trade_id\":\"X%d\",\"symbol\":\"S\",\"price\":1,\"volume\":1,"
		        "\"timestamp\":\"%s\",\"trade_type\":\"BUY\"}\n", i, want[i]);
	}
	fclose(f);
	ti_env e;
	REQUIRE(ti_open(&e));
	floe_ingest_result res;
	floe_error err;
	REQUIRE_OK(ti_ingest_files(&e, path, FLOE_TRIGGER_ONCE, 0, &res, &err), &err);
	CHECK_EQ_INT(res.rows, 800);
	ti_rows r;
	REQUIRE(ti_read(&e, "bronze.trades", "timestamp", &r));
	CHECK_EQ_INT(r.n, 800);
	int bad = 0;
	for (int64_t i = 0; i < r.n; i++) {
		const char *id = strstr((const char *)r.raw[i], "\"X") + 2;
		int k = atoi(id);
		if (k < 0 || k >= 800 || strcmp(r.text[i], want[k]) != 0) {
			if (bad++ < 5)
				th_fail(__FILE__, __LINE__, "row %lld: %s, want %s", (long long)i, r.text[i],
				        k >= 0 && k < 800 ? want[k] : "?");
		}
	}
	ti_rows_free(&r);
	free(want);
	ti_close(&e);
}
