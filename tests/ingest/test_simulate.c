/* tests/ingest/test_simulate.c - the stock market simulator: byte-identical
 * output for a seed and a simulated clock; well-formed events with exactly
 * the documented keys; bid < ask; trades at the quotes; heavy-tailed
 * volumes; fault shares near the requested ones with every malformed kind
 * present; `floe simulate` options, rolled files, pacing, Kafka output;
 * and its faults landing in Bronze and quarantine as they should. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli_run.h"
#include "floe/simulate.h"
#include "harness.h"
#include "ingest/kafka_mock.h"
#include "ingest/test_ingest_util.h"

/* All events of a run as one string (lines joined by newlines). */
static char *run_all(const floe_sim_options *o, int64_t *n)
{
	floe_sim *s;
	floe_error err;
	if (floe_sim_new(&s, o, &err)) {
		th_fail(__FILE__, __LINE__, "%s", err.msg);
		return NULL;
	}
	size_t cap = 1 << 20, len = 0;
	char *all = malloc(cap);
	floe_sim_kind k;
	const char *sym, *line;
	size_t l;
	*n = 0;
	while (floe_sim_next(s, &k, &sym, &line, &l) == 1) {
		if (len + l + 2 > cap)
			all = realloc(all, cap *= 2);
		memcpy(all + len, line, l);
		len += l;
		all[len++] = '\n';
		(*n)++;
	}
	all[len] = 0;
	floe_sim_free(s);
	return all;
}

static void sim_opts(floe_sim_options *o, uint64_t seed, int64_t count)
{
	floe_sim_options_init(o);
	o->seed = seed;
	o->count = count;
	o->sim_clock = true;
	o->start_us = 1795703400000000LL; /* 2026-11-26T14:30:00Z */
}

TEST(simulate_same_seed_same_bytes)
{
	floe_sim_options o;
	sim_opts(&o, 42, 20000);
	o.quotes = true;
	o.dup = 0.02;
	o.bad = 0.01;
	o.late = 0.01;
	o.ooo = 0.05;
	int64_t n1, n2, n3;
	char *a = run_all(&o, &n1), *b = run_all(&o, &n2);
	o.seed = 43;
	char *c = run_all(&o, &n3);
	REQUIRE(a && b && c);
	CHECK_EQ_INT(n1, 20000);
	CHECK_EQ_INT(n2, 20000);
	CHECK(strcmp(a, b) == 0);
	CHECK(strcmp(a, c) != 0);
	free(a);
	free(b);
	free(c);
}

static int64_t ts_us(const char *text)
{
	struct tm tm = { 0 };
	int us = 0;
	if (sscanf(text, "%d-%d-%dT%d:%d:%d.%6dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000000 + us;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

TEST(simulate_events_are_realistic)
{
	floe_sim_options o;
	sim_opts(&o, 7, 100000);
	o.quotes = true;
	int64_t n;
	char *all = run_all(&o, &n);
	REQUIRE(all);
	static const char *const tkeys[] = { "trade_id", "symbol", "price", "volume", "timestamp",
		                             "trade_type", "exchange" };
	static const char *const qkeys[] = { "quote_id", "symbol", "bid", "ask", "timestamp",
		                             "exchange" };
	static const char *const known[] = { "AAPL", "GOOGL", "MSFT", "AMZN", "TSLA" };
	double mid[5] = { 0 };
	int64_t *vols = malloc(100000 * sizeof *vols), nv = 0, prev_ts = 0, trades = 0, quotes = 0;
	int bad = 0, far = 0, nasdaq = 0, iex = 0;
	for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);
		if (!j || !json_is_object(j)) {
			if (bad++ < 3)
				th_fail(__FILE__, __LINE__, "not JSON: %s", line);
			json_decref(j);
			continue;
		}
		bool trade = json_object_get(j, "trade_id") != NULL;
		const char *const *keys = trade ? tkeys : qkeys;
		size_t nk = trade ? 7 : 6;
		if (json_object_size(j) != nk && bad++ < 3)
			th_fail(__FILE__, __LINE__, "keys: %s", line);
		for (size_t i = 0; i < nk; i++)
			if (!json_object_get(j, keys[i]) && bad++ < 3)
				th_fail(__FILE__, __LINE__, "no %s: %s", keys[i], line);
		const char *s = json_string_value(json_object_get(j, "symbol"));
		int si = -1;
		for (int i = 0; s && i < 5; i++)
			if (strcmp(s, known[i]) == 0)
				si = i;
		if (si < 0 && bad++ < 3)
			th_fail(__FILE__, __LINE__, "symbol: %s", line);
		int64_t ts = ts_us(json_string_value(json_object_get(j, "timestamp")));
		if ((ts < prev_ts || ts < o.start_us) && bad++ < 3)
			th_fail(__FILE__, __LINE__, "timestamp goes back: %s", line);
		prev_ts = ts;
		const char *ex = json_string_value(json_object_get(j, "exchange"));
		nasdaq += ex && strcmp(ex, "NASDAQ") == 0;
		iex += ex && strcmp(ex, "IEX") == 0;
		if (trade) {
			trades++;
			double p = json_real_value(json_object_get(j, "price"));
			const char *tt = json_string_value(json_object_get(j, "trade_type"));
			if ((!(p > 0) || !tt || (strcmp(tt, "BUY") && strcmp(tt, "SELL"))) && bad++ < 3)
				th_fail(__FILE__, __LINE__, "trade: %s", line);
			if (si >= 0 && mid[si] > 0 && fabs(p - mid[si]) / mid[si] > 0.005)
				far++;
			vols[nv++] = json_integer_value(json_object_get(j, "volume"));
		} else {
			quotes++;
			double b = json_real_value(json_object_get(j, "bid"));
			double a = json_real_value(json_object_get(j, "ask"));
			if (!(b > 0 && a > b) && bad++ < 3)
				th_fail(__FILE__, __LINE__, "quote: %s", line);
			/* spreads of a few basis points */
			if ((a - b) / b > 0.01 && bad++ < 3)
				th_fail(__FILE__, __LINE__, "spread too wide: %s", line);
			if (si >= 0)
				mid[si] = (a + b) / 2;
		}
		json_decref(j);
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(trades > 40000 && quotes > 40000);
	/* trades happen at the quotes: within 0.5% of the last mid */
	CHECK(far < trades / 100);
	/* heavy tail: the largest trades dwarf the median */
	qsort(vols, (size_t)nv, sizeof *vols, cmp_i64);
	int64_t med = vols[nv / 2], big = 0;
	for (int64_t i = 0; i < nv; i++)
		big += vols[i] >= 10 * med;
	CHECK(med > 0);
	CHECK(vols[nv - 1] >= 50 * med);
	CHECK(big > nv / 1000);
	CHECK(vols[0] < 100); /* odd lots too */
	/* NASDAQ is common, IEX rarer */
	CHECK(nasdaq > 2 * iex && iex > 0);
	free(vols);
	free(all);
}

TEST(simulate_fault_shares)
{
	floe_sim_options o;
	sim_opts(&o, 11, 100000);
	o.dup = 0.02;
	o.bad = 0.01;
	o.late = 0.05;
	o.late_by_us = 30000000;
	int64_t n;
	char *all = run_all(&o, &n);
	REQUIRE(all);
	int64_t bad = 0, late = 0, dup = 0, kinds[7] = { 0 }, good = 0;
	char **ids = malloc((size_t)n * sizeof *ids);
	int64_t nid = 0, max_ts = 0;
	for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *j = json_loads(line, 0, NULL);
		if (!j) {
			bad++;
			kinds[1]++;
			continue;
		}
		double p = json_real_value(json_object_get(j, "price"));
		const char *tt = json_string_value(json_object_get(j, "trade_type"));
		const char *tsv = json_string_value(json_object_get(j, "timestamp"));
		int64_t ts = tsv ? ts_us(tsv) : -1;
		int kind = !json_object_get(j, "price") ? 2 : p < 0 ? 3 : (tt && !strcmp(tt, "HOLD")) ? 4
		           : ts < 0 ? 5 : !json_is_integer(json_object_get(j, "volume")) ? 6 : 0;
		if (kind) {
			bad++;
			kinds[kind]++;
		} else {
			good++;
			if (ts > max_ts)
				max_ts = ts;
			if (ts < max_ts - 25000000)
				late++;
			ids[nid++] = strdup(json_string_value(json_object_get(j, "trade_id")));
		}
		json_decref(j);
	}
	qsort(ids, (size_t)nid, sizeof *ids, cmp_str);
	for (int64_t i = 1; i < nid; i++)
		dup += strcmp(ids[i], ids[i - 1]) == 0;
	for (int64_t i = 0; i < nid; i++)
		free(ids[i]);
	free(ids);
	CHECK(bad > 700 && bad < 1300);
	for (int k = 1; k <= 6; k++)
		if (kinds[k] == 0)
			th_fail(__FILE__, __LINE__, "no malformed record of kind %d", k);
	if (!(dup > 1400 && dup < 2600))
		th_fail(__FILE__, __LINE__, "%lld duplicates", (long long)dup);
	CHECK(late > 3500 && late < 6500);
	free(all);
}

TEST(simulate_cli_files_dirs_rate)
{
	char *out = NULL, *errout = NULL;
	const char *help[] = { "floe", "simulate", "--help" };
	CHECK_EQ_INT(cli_run_argv(NULL, &out, NULL, 3, help), 0);
	CHECK(out && strstr(out, "--faults"));
	free(out);
	const char *bad[] = { "floe", "simulate", "--faults", "dup=2" };
	CHECK_EQ_INT(cli_run_argv(NULL, NULL, &errout, 4, bad), 2);
	CHECK(errout && strstr(errout, "dup=2"));
	free(errout);
	const char *bad2[] = { "floe", "simulate", "--end", "2026-01-01" };
	CHECK_EQ_INT(cli_run_argv(NULL, NULL, &errout, 4, bad2), 2);
	free(errout);

	/* a directory: rolled files, none left under a temporary name */
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/", th_path("out"));
	const char *rolled[] = { "floe", "simulate", "--count", "2500", "--start", "2026-11-20",
		                 "--roll-events", "1000", "--to", dir, "--quotes-to", th_path("q.ndjson") };
	CHECK_EQ_INT(cli_run_argv(NULL, NULL, NULL, 12, rolled), 0);
	char *ls = NULL;
	th_run(&ls, "ls -a %s", th_path("out"));
	CHECK(ls && strstr(ls, "trades-000001.ndjson") && strstr(ls, "trades-000002.ndjson"));
	CHECK(ls && !strstr(ls, ".tmp"));
	free(ls);
	char *cnt = NULL;
	th_run(&cnt, "cat %s/trades-*.ndjson %s | wc -l", th_path("out"), th_path("q.ndjson"));
	CHECK(cnt && atoi(cnt) == 2500);
	free(cnt);
	th_run(&cnt, "grep -c quote_id %s", th_path("q.ndjson"));
	CHECK(cnt && atoi(cnt) > 1000);
	free(cnt);

	/* pacing: 100 events at 200/s take about half a second */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *paced[] = { "floe", "simulate", "--count", "100", "--rate", "200", "--to",
		                th_path("p.ndjson") };
	CHECK_EQ_INT(cli_run_argv(NULL, NULL, NULL, 8, paced), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(secs >= 0.45);
	/* real time: timestamps near now */
	char *p = th_read_file(th_path("p.ndjson"), NULL);
	REQUIRE(p);
	const char *ts = strstr(p, "\"timestamp\":\"");
	REQUIRE(ts);
	int64_t when = ts_us(ts + 13);
	CHECK(llabs(when / 1000000 - (int64_t)time(NULL)) < 60);
	free(p);
}

TEST(simulate_faults_land_in_bronze_and_quarantine)
{
	const char *path = th_path("t.ndjson");
	const char *argv[] = { "floe", "simulate", "--count", "20000", "--seed", "5", "--start",
		               "2026-11-20T14:30:00Z", "--faults", "dup=0.02,bad=0.01,late=0.02",
		               "--to", path };
	REQUIRE(cli_run_argv(NULL, NULL, NULL, 12, argv) == 0);
	char *text = th_read_file(path, NULL);
	REQUIRE(text);
	int64_t nbad = 0, n = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), n++) {
		json_t *j = json_loads(line, 0, NULL);
		const char *tt = json_string_value(json_object_get(j, "trade_type"));
		const char *tsv = json_string_value(json_object_get(j, "timestamp"));
		if (!j || !json_object_get(j, "price") || json_real_value(json_object_get(j, "price")) < 0 ||
		    !tt || !strcmp(tt, "HOLD") || !tsv || ts_us(tsv) < 0 ||
		    !json_is_integer(json_object_get(j, "volume")))
			nbad++;
		json_decref(j);
	}
	free(text);
	CHECK_EQ_INT(n, 20000);
	ti_env e;
	REQUIRE(ti_open(&e));
	floe_ingest_result res;
	floe_error err;
	REQUIRE_OK(ti_ingest_files(&e, path, FLOE_TRIGGER_ONCE, 0, &res, &err), &err);
	CHECK_EQ_INT(res.rejected, nbad);
	CHECK_EQ_INT(res.rows, 20000 - nbad); /* duplicates stay: deduplication is Silver's job */
	ti_close(&e);
}

TEST(simulate_quotes_into_bronze_quotes)
{
	const char *path = th_path("q.ndjson");
	const char *argv[] = { "floe", "simulate", "--kind", "quotes", "--count", "6000", "--start",
		               "2026-11-20", "--faults", "bad=0.03", "--to", path };
	REQUIRE(cli_run_argv(NULL, NULL, NULL, 12, argv) == 0);
	char *text = th_read_file(path, NULL);
	REQUIRE(text);
	int64_t nbad = 0, n = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), n++) {
		json_t *j = json_loads(line, 0, NULL);
		const char *tsv = json_string_value(json_object_get(j, "timestamp"));
		if (!j || !json_is_string(json_object_get(j, "symbol")) ||
		    !json_is_number(json_object_get(j, "ask")) ||
		    json_number_value(json_object_get(j, "bid")) <= 0 || !tsv || ts_us(tsv) < 0)
			nbad++;
		json_decref(j);
	}
	free(text);
	CHECK_EQ_INT(n, 6000);
	CHECK(nbad > 100);
	ti_env e;
	REQUIRE(ti_open(&e));
	char *out = NULL;
	const char *ing[] = { "floe", "ingest", "bronze.quotes", "--warehouse", e.wh, "--from", path,
		              "--trigger", "once" };
	CHECK_EQ_INT(cli_run_argv(NULL, &out, NULL, 9, ing), 0);
	char want[128];
	snprintf(want, sizeof want, "ingested %lld rows into bronze.quotes, %lld rejected",
	         (long long)(6000 - nbad), (long long)nbad);
	CHECK(out && strstr(out, want));
	free(out);
	ti_close(&e);
}

TEST(simulate_to_kafka)
{
	th_kafka_mock k;
	REQUIRE(th_kafka_mock_start(&k, "trades", 3) == 0);
	const char *argv[] = { "floe", "simulate", "--count", "3000", "--start", "2026-11-20",
		               "--to", k.url };
	CHECK_EQ_INT(cli_run_argv(NULL, NULL, NULL, 8, argv), 0);
	th_kafka_msgs all = { 0 };
	REQUIRE(th_kafka_read_all(&k, NULL, &all) == 0);
	CHECK_EQ_INT(all.n, 3000);
	int wrong = 0;
	for (int i = 0; i < all.n; i++) {
		char want[64];
		snprintf(want, sizeof want, "\"symbol\":\"%s\"", all.m[i].key ? all.m[i].key : "?");
		wrong += !strstr(all.m[i].value, want);
	}
	CHECK_EQ_INT(wrong, 0);
	th_kafka_msgs_free(&all);
	th_kafka_mock_stop(&k);
}
