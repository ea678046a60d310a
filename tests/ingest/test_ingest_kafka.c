/* tests/ingest/test_ingest_kafka.c - streaming ingest from Kafka (librdkafka's
 * mock cluster, started by each test on 127.0.0.1): Bronze and quarantine
 * with partition/offset metadata, resuming from the positions in the
 * tables (not the group's), a continuous run stopped by SIGTERM, and the
 * crash test: `floe ingest` killed with SIGKILL at random moments at least
 * 20 times, then every message is in Bronze or quarantine exactly once. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floe/ingest.h"
#include "harness.h"
#include "ingest/kafka_mock.h"
#include "ingest/test_ingest_util.h"

typedef struct msgs {
	char **lines;
	char **keys;
	bool *good;
	int n;
} msgs;

/* Trades first..first+n-1 (every bad_every-th malformed), keyed by symbol. */
static void make_msgs(msgs *m, int first, int n, int bad_every)
{
	m->lines = realloc(m->lines, (size_t)(m->n + n) * sizeof *m->lines);
	m->keys = realloc(m->keys, (size_t)(m->n + n) * sizeof *m->keys);
	m->good = realloc(m->good, (size_t)(m->n + n) * sizeof *m->good);
	static const char *const sym[] = { "AAPL", "MSFT", "GOOGL", "TSLA" };
	for (int i = first; i < first + n; i++) {
		char line[512];
		int bad = bad_every > 0 && i % bad_every == bad_every - 1 ? 1 + (i / bad_every) % 6 : 0;
		ti_trade_line(line, sizeof line, i, bad);
		m->lines[m->n] = strdup(line);
		m->keys[m->n] = strdup(sym[i % 4]);
		m->good[m->n] = bad == 0;
		m->n++;
	}
}

static void free_msgs(msgs *m)
{
	for (int i = 0; i < m->n; i++) {
		free(m->lines[i]);
		free(m->keys[i]);
	}
	free(m->lines);
	free(m->keys);
	free(m->good);
}

static int produce_from(const th_kafka_mock *k, const msgs *m, int from)
{
	return th_kafka_produce(k, (const char *const *)m->lines + from, m->n - from,
	                        (const char *const *)m->keys + from, -1);
}

TEST(ingest_kafka_bronze_positions_and_resume)
{
	th_kafka_mock k;
	REQUIRE(th_kafka_mock_start(&k, "trades", 3) == 0);
	msgs m = { 0 };
	make_msgs(&m, 0, 3000, 41);
	REQUIRE(produce_from(&k, &m, 0) == 0);
	ti_env e;
	REQUIRE(ti_open(&e));
	char group[64];
	floe_ingest_options o;
	floe_ingest_options_init(&o);
	o.table = "bronze.trades";
	o.source = k.url;
	o.spec = e.trades;
	o.trigger = FLOE_TRIGGER_AVAILABLE_NOW;
	o.max_batch_rows = 1000;
	o.group = th_kafka_group(group, sizeof group, "resume");
	floe_ingest_result res;
	floe_error err;
	REQUIRE_OK(floe_ingest_run(e.cat, &o, &res, &err), &err);
	CHECK_EQ_INT(res.rows + res.rejected, 3000);
	CHECK(res.batches >= 3);
	ti_check_exactly_once_lines(&e, m.lines, m.good, m.n);

	/* the table's position: the high watermark of every partition */
	char *pos = NULL;
	REQUIRE_OK(floe_ingest_position(e.cat, "bronze.trades", "kafka:trades", &pos, &err), &err);
	REQUIRE(pos);
	for (int p = 0; p < 3; p++) {
		int64_t high;
		REQUIRE(th_kafka_high(&k, p, &high) == 0);
		char want[64];
		snprintf(want, sizeof want, "\"%d\":%lld", p, (long long)high);
		if (high > 0 && !strstr(pos, want)) /* an empty partition may be absent */
			th_fail(__FILE__, __LINE__, "position %s lacks %s", pos, want);
	}
	free(pos);

	/* Bronze rows carry partition and offset: the message at that offset */
	ti_rows b;
	REQUIRE(ti_read(&e, "bronze.trades", "trade_id", &b));
	th_kafka_msgs all = { 0 };
	REQUIRE(th_kafka_read_all(&k, NULL, &all) == 0);
	int wrong = 0;
	for (int64_t i = 0; i < b.n && wrong < 3; i++) {
		int hit = 0;
		for (int j = 0; j < all.n; j++)
			if (all.m[j].partition == b.part[i] && all.m[j].offset == b.off[i])
				hit = strcmp(all.m[j].value, (const char *)b.raw[i]) == 0 ? 1 : -1;
		if (hit != 1) {
			wrong++;
			th_fail(__FILE__, __LINE__, "row %lld: partition %d offset %lld is not its message",
			        (long long)i, b.part[i], (long long)b.off[i]);
		}
		if (strcmp(b.src[i], k.url) != 0) {
			wrong++;
			th_fail(__FILE__, __LINE__, "_source %s, want %s", b.src[i], k.url);
		}
	}
	th_kafka_msgs_free(&all);
	ti_rows_free(&b);

	/* a new group, more messages: only the new ones are ingested, because
	 * the table (not the group) says where to go on */
	make_msgs(&m, 3000, 500, 41);
	REQUIRE(produce_from(&k, &m, 3000) == 0);
	o.group = th_kafka_group(group, sizeof group, "resume2");
	REQUIRE_OK(floe_ingest_run(e.cat, &o, &res, &err), &err);
	CHECK_EQ_INT(res.rows + res.rejected, 500);
	ti_check_exactly_once_lines(&e, m.lines, m.good, m.n);
	/* nothing new: nothing committed (a fresh group: the 2.0.2 mock makes a
	 * member rejoining a group it just left wait session.timeout.ms) */
	o.group = th_kafka_group(group, sizeof group, "resume3");
	REQUIRE_OK(floe_ingest_run(e.cat, &o, &res, &err), &err);
	CHECK_EQ_INT(res.batches, 0);
	ti_close(&e);
	free_msgs(&m);
	th_kafka_mock_stop(&k);
}

TEST(ingest_kafka_continuous_run_with_kcat_producer_and_sigterm)
{
	th_kafka_mock k;
	REQUIRE(th_kafka_mock_start(&k, "trades", 2) == 0);
	ti_env e;
	REQUIRE(ti_open(&e));
	char group[64];
	const char *argv[] = { "floe", "ingest", "bronze.trades", "--warehouse", e.wh, "--from",
		               k.url, "--trigger", "300ms", "--group",
		               th_kafka_group(group, sizeof group, "cont"), NULL };
	pid_t pid = ti_spawn(argv, th_path("ingest.log"));
	REQUIRE(pid > 0);
	msgs m = { 0 };
	for (int round = 0; round < 3; round++) {
		int from = m.n;
		make_msgs(&m, from, 400, 29);
		/* an independent producer */
		REQUIRE(th_kafka_produce_kcat(&k, (const char *const *)m.lines + from, 400,
		                              (const char *const *)m.keys + from) == 0);
		ti_sleep_ms(700);
	}
	ti_sleep_ms(1500);
	ti_stop_child(pid, th_path("ingest.log"), "\"lag\":0");
	ti_check_exactly_once_lines(&e, m.lines, m.good, m.n);
	ti_close(&e);
	free_msgs(&m);
	th_kafka_mock_stop(&k);
}

/* Only-reject batches commit to quarantine alone, so quarantine can be ahead
 * of Bronze on a partition (as after a crash between the two commits). A
 * later run re-reads that partition from Bronze's position and skips what
 * quarantine holds; when it quarantines new rejects of another partition
 * first, its commit must keep quarantine's position on the first one, or
 * the run after it quarantines those records a second time. */
TEST(ingest_kafka_quarantine_position_never_goes_back)
{
	th_kafka_mock k;
	REQUIRE(th_kafka_mock_start(&k, "trades", 2) == 0);
	msgs m = { 0 };
	make_msgs(&m, 0, 100, 1); /* all malformed */
	REQUIRE(th_kafka_produce(&k, (const char *const *)m.lines, 100,
	                         (const char *const *)m.keys, 1) == 0);
	ti_env e;
	REQUIRE(ti_open(&e));
	char group[64];
	floe_ingest_options o;
	floe_ingest_options_init(&o);
	o.table = "bronze.trades";
	o.source = k.url;
	o.spec = e.trades;
	o.trigger = FLOE_TRIGGER_AVAILABLE_NOW;
	o.group = th_kafka_group(group, sizeof group, "qpos1");
	floe_ingest_result res;
	floe_error err;
	REQUIRE_OK(floe_ingest_run(e.cat, &o, &res, &err), &err);
	CHECK_EQ_INT(res.rejected, 100);
	char *pos = NULL;
	REQUIRE_OK(floe_ingest_position(e.cat, "bronze.trades", "kafka:trades", &pos, &err), &err);
	CHECK(pos == NULL); /* Bronze got nothing: no position */
	free(pos);

	/* partition 0: new rejects and good records; a run stopped after a few
	 * small batches, before partition 1 is read through */
	make_msgs(&m, 100, 100, 2);
	REQUIRE(th_kafka_produce(&k, (const char *const *)m.lines + 100, 100,
	                         (const char *const *)m.keys + 100, 0) == 0);
	o.group = th_kafka_group(group, sizeof group, "qpos2");
	o.max_batch_rows = 10;
	o.max_batches = 12;
	REQUIRE_OK(floe_ingest_run(e.cat, &o, &res, &err), &err);
	pos = NULL;
	REQUIRE_OK(floe_ingest_position(e.cat, "bronze.trades_rejected", "kafka:trades", &pos,
	                                &err), &err);
	REQUIRE(pos);
	if (!strstr(pos, "\"1\":100"))
		th_fail(__FILE__, __LINE__, "quarantine position %s went back on partition 1", pos);
	free(pos);

	/* the rest: every message exactly once */
	o.group = th_kafka_group(group, sizeof group, "qpos3");
	o.max_batch_rows = 0;
	o.max_batches = 0;
	REQUIRE_OK(floe_ingest_run(e.cat, &o, &res, &err), &err);
	ti_check_exactly_once_lines(&e, m.lines, m.good, m.n);
	ti_close(&e);
	free_msgs(&m);
	th_kafka_mock_stop(&k);
}

/* A fresh consumer group waits for the coordinator's initial rebalance
 * delay (3 s, as real brokers' group.initial.rebalance.delay.ms) before it
 * gets partitions, then the 50-record batches commit every few
 * milliseconds: the kills fall 2.9..3.4 s after each start, around and
 * after the first assignment, mostly inside commits. 40,000 messages over
 * 4 partitions stay within the mock's 5 MiB per partition. */
TEST(ingest_crash_kill9_kafka_exactly_once)
{
	th_kafka_mock k;
	REQUIRE(th_kafka_mock_start(&k, "trades", 4) == 0);
	msgs m = { 0 };
	make_msgs(&m, 0, 40000, 23);
	REQUIRE(produce_from(&k, &m, 0) == 0);
	ti_env e;
	REQUIRE(ti_open(&e));
	unsigned seed = (unsigned)time(NULL);
	printf("  crash test seed %u\n", seed);
	fflush(stdout);
	srand(seed);
	const char *extra[] = { "--max-batch-rows", "50", "--kafka-conf", "session.timeout.ms=6000",
		                NULL };
	int kills = ti_kill_loop(&e, k.url, 22, "available-now", 2900, 3400, extra);
	printf("  %d kills hit a running ingest\n", kills);
	fflush(stdout);
	CHECK(kills >= 20);
	/* finish */
	char group[64];
	floe_ingest_options o;
	floe_ingest_options_init(&o);
	o.table = "bronze.trades";
	o.source = k.url;
	o.spec = e.trades;
	o.trigger = FLOE_TRIGGER_AVAILABLE_NOW;
	o.group = th_kafka_group(group, sizeof group, "finish");
	floe_ingest_result res;
	floe_error err;
	REQUIRE_OK(floe_ingest_run(e.cat, &o, &res, &err), &err);
	ti_check_exactly_once_lines(&e, m.lines, m.good, m.n);
	ti_check_orphans_swept(&e);
	ti_check_exactly_once_lines(&e, m.lines, m.good, m.n);
	ti_close(&e);
	free_msgs(&m);
	th_kafka_mock_stop(&k);
}
