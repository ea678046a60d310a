/* tests/ingest/test_kafka.c - floe's Kafka producer and consumer-group
 * source (src/ingest/kafka.c) against librdkafka's in-process mock cluster
 * on 127.0.0.1, checked with independent producers and readers (plain
 * librdkafka, kcat) from kafka_mock.h. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ingest/kafka.h"
#include "ingest/kafka_mock.h"
#include "ingest/test_ingest_util.h"

static const char *const symbols[] = { "AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "TSLA", "META" };
#define NSYM ((int)(sizeof symbols / sizeof symbols[0]))

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n trade-like messages numbered from `first`: values {"id":N,...} of about
 * 150 bytes, keys = the symbol of each. Free with free_lines. */
typedef struct lines {
	char **v;
	const char **key;
	int n;
} lines;

static void make_lines(lines *l, int first, int n)
{
	l->v = calloc((size_t)n, sizeof *l->v);
	l->key = calloc((size_t)n, sizeof *l->key);
	l->n = n;
	for (int i = 0; i < n; i++) {
		int id = first + i;
		char buf[256];
		const char *sym = symbols[id % NSYM];
		snprintf(buf, sizeof buf,
		         "{\"id\":%d,\"symbol\":\"%s\",\"price\":%d.%02d,\"qty\":%d,\"side\":\"%s\","
		         "\"venue\":\"XNAS\",\"ts\":\"2024-05-01T12:00:%02d.%03dZ\",\"trader\":\"t%05d\","
		         "\"flags\":\"regular\"}",
		         id, sym, 100 + id % 900, id % 100, 1 + id % 500, id % 2 ? "buy" : "sell",
		         id % 60, id % 1000, id % 99991);
		l->v[i] = strdup(buf);
		l->key[i] = sym;
	}
}

static void free_lines(lines *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->key);
	memset(l, 0, sizeof *l);
}

/* The id of a value made by make_lines, -1 if it is not one. */
static int value_id(const char *v, size_t len)
{
	if (len < 7 || strncmp(v, "{\"id\":", 6) != 0)
		return -1;
	return atoi(v + 6);
}

static ing_kafka_conf no_conf = { NULL, 0 };

/* A source in a fresh group, started from `from` (may be NULL). */
static ing_source *open_source(const char *url, const char *const *kv, int n, const ing_pos *from,
                               char *group, size_t gcap)
{
	floe_error err;
	ing_source *src = NULL;
	ing_kafka_conf kc = { kv, n };
	char g[128];
	if (!group) {
		group = g;
		gcap = sizeof g;
	}
	th_kafka_group(group, gcap, "floe-test");
	if (ing_source_kafka(&src, url, group, &kc, &err)) {
		th_fail(__FILE__, __LINE__, "ing_source_kafka: %s", err.msg);
		return NULL;
	}
	if (src->ops->start(src, from, &err)) {
		th_fail(__FILE__, __LINE__, "start: %s", err.msg);
		src->ops->close(src);
		return NULL;
	}
	return src;
}

/* What a drain saw. */
typedef struct got {
	int n;
	int *id;          /* by order of arrival */
	int32_t *part;
	int64_t *off;
	char **key;
	int64_t first_ts;
	int ended;        /* ING_POLL_END seen */
} got;

static void got_free(got *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->key[i]);
	free(g->id);
	free(g->part);
	free(g->off);
	free(g->key);
	memset(g, 0, sizeof *g);
}

/* Poll until END (bounded) or until `want` records or `ms` ms pass. */
static int drain(ing_source *src, got *g, int want, int ms)
{
	floe_error err;
	int cap = want > 0 ? want + 16 : 1024;
	memset(g, 0, sizeof *g);
	g->id = malloc((size_t)cap * sizeof *g->id);
	g->part = malloc((size_t)cap * sizeof *g->part);
	g->off = malloc((size_t)cap * sizeof *g->off);
	g->key = malloc((size_t)cap * sizeof *g->key);
	g->first_ts = -1;
	int64_t deadline = now_ms() + ms;
	while (now_ms() < deadline && (want <= 0 || g->n < want)) {
		ing_record rec;
		memset(&rec, 0xa5, sizeof rec); /* poll sets every field */
		int rc = src->ops->poll(src, &rec, 100, &err);
		if (rc < 0) {
			th_fail(__FILE__, __LINE__, "poll: %s", err.msg);
			return rc;
		}
		if (rc == ING_POLL_END) {
			g->ended = 1;
			return 0;
		}
		if (rc != ING_POLL_RECORD)
			continue;
		if (g->n == cap) {
			cap *= 2;
			g->id = realloc(g->id, (size_t)cap * sizeof *g->id);
			g->part = realloc(g->part, (size_t)cap * sizeof *g->part);
			g->off = realloc(g->off, (size_t)cap * sizeof *g->off);
			g->key = realloc(g->key, (size_t)cap * sizeof *g->key);
		}
		CHECK(rec.file == NULL);
		CHECK(!rec.header && !rec.truncated);
		g->id[g->n] = value_id(rec.data, rec.len);
		g->part[g->n] = rec.partition;
		g->off[g->n] = rec.offset;
		g->key[g->n] = rec.key ? strndup(rec.key, rec.key_len) : NULL;
		if (g->first_ts < 0)
			g->first_ts = rec.timestamp_ms;
		g->n++;
	}
	return 0;
}

/* Every id first..first+n-1 exactly once in g, with its symbol as key. */
static void check_ids_once(const got *g, int first, int n)
{
	char *seen = calloc((size_t)n, 1);
	int bad = 0, dup = 0, missing = 0;
	for (int i = 0; i < g->n; i++) {
		int k = g->id[i] - first;
		if (k < 0 || k >= n) {
			bad++;
			continue;
		}
		if (seen[k]++)
			dup++;
		if (!g->key[i] || strcmp(g->key[i], symbols[g->id[i] % NSYM]) != 0)
			bad++;
	}
	for (int k = 0; k < n; k++)
		missing += !seen[k];
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(dup, 0);
	CHECK_EQ_INT(missing, 0);
	CHECK_EQ_INT(g->n, n);
	free(seen);
}

/* Partitions and offsets of g agree with what an independent reader finds. */
static void check_places(const th_kafka_mock *m, const got *g)
{
	th_kafka_msgs all;
	REQUIRE(th_kafka_read_all(m, NULL, &all) == 0);
	int matched = 0;
	for (int i = 0; i < g->n; i++)
		for (int j = 0; j < all.n; j++)
			if (all.m[j].partition == g->part[i] && all.m[j].offset == g->off[i]) {
				matched += value_id(all.m[j].value, all.m[j].len) == g->id[i];
				break;
			}
	CHECK_EQ_INT(matched, g->n);
	th_kafka_msgs_free(&all);
}

/* Offsets within each partition come in increasing order. */
static void check_order(const got *g)
{
	for (int i = 0; i < g->n; i++)
		for (int j = i + 1; j < g->n && j < i + 64; j++)
			if (g->part[j] == g->part[i])
				CHECK(g->off[j] > g->off[i]);
}

/* The larger of two positions, per partition or by cursor. */
TEST(ingest_position_max)
{
	ing_pos a, b;
	ing_pos_init(&a);
	ing_pos_init(&b);
	REQUIRE(ing_pos_set_part(&a, 0, 30) == 0);
	REQUIRE(ing_pos_set_part(&a, 2, 5) == 0);
	REQUIRE(ing_pos_set_part(&b, 0, 10) == 0);
	REQUIRE(ing_pos_set_part(&b, 1, 7) == 0);
	REQUIRE(ing_pos_set_part(&b, 2, 9) == 0);
	REQUIRE(ing_pos_max(&a, &b) == 0);
	CHECK_EQ_INT(ing_pos_part(&a, 0), 30);
	CHECK_EQ_INT(ing_pos_part(&a, 1), 7);
	CHECK_EQ_INT(ing_pos_part(&a, 2), 9);
	CHECK_EQ_INT(a.nparts, 3);
	ing_pos c, d;
	ing_pos_init(&c);
	ing_pos_init(&d);
	CHECK_EQ_INT(ing_pos_max(&c, &a), 0); /* none: takes the other */
	CHECK_EQ_INT(ing_pos_part(&c, 1), 7);
	REQUIRE(ing_pos_set_cursor(&d, "/in/b.jsonl", 100) == 0);
	CHECK_EQ_INT(ing_pos_max(&c, &d), FLOE_EINVALID); /* mixed kinds */
	ing_pos_free(&c);
	REQUIRE(ing_pos_set_cursor(&c, "/in/a.jsonl", 900) == 0);
	REQUIRE(ing_pos_max(&c, &d) == 0); /* a later file wins over a larger offset */
	CHECK(strcmp(c.file, "/in/b.jsonl") == 0);
	CHECK_EQ_INT(c.off, 100);
	REQUIRE(ing_pos_set_cursor(&d, "/in/b.jsonl", 50) == 0);
	REQUIRE(ing_pos_max(&c, &d) == 0); /* same file, smaller offset: unchanged */
	CHECK_EQ_INT(c.off, 100);
	ing_pos_free(&a);
	ing_pos_free(&b);
	ing_pos_free(&c);
	ing_pos_free(&d);
}

TEST(kafka_url_parse)
{
	floe_error err;
	char *b = NULL, *t = NULL;
	CHECK_OK(ing_kafka_parse_url("kafka://127.0.0.1:9092/trades", &b, &t, &err), &err);
	CHECK_EQ_STR(b, "127.0.0.1:9092");
	CHECK_EQ_STR(t, "trades");
	free(b);
	free(t);
	CHECK_OK(ing_kafka_parse_url("kafka://k1.example.com:9093,k2:19092,[::1]:9094/a.b-c_D9",
	                             &b, &t, &err), &err);
	CHECK_EQ_STR(b, "k1.example.com:9093,k2:19092,[::1]:9094");
	CHECK_EQ_STR(t, "a.b-c_D9");
	free(b);
	free(t);

	char longtopic[300] = "kafka://h:1/";
	memset(longtopic + strlen(longtopic), 'x', 250);
	const char *const bad[] = {
		"", "kafka:/h:1/t", "http://h:1/t", "kafka://h/t", "kafka://h:0/t", "kafka://h:65536/t",
		"kafka://h:12a/t", "kafka://h:1/", "kafka://h:1", "kafka:///t", "kafka://:1/t",
		"kafka://h:1,/t", "kafka://h:1/a/b", "kafka://h:1/bad topic", "kafka://h:1/..",
		"kafka://[::1/t", "kafka://u@h:1/t", longtopic,
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		b = t = (char *)"unchanged";
		floe_error_clear(&err);
		int rc = ing_kafka_parse_url(bad[i], &b, &t, &err);
		if (rc != FLOE_EINVALID)
			th_fail(__FILE__, __LINE__, "'%s' -> %d, want invalid", bad[i], rc);
		CHECK(b == NULL && t == NULL);
		CHECK(strstr(err.msg, "kafka://HOST:PORT") != NULL);
		if (*bad[i] && strlen(bad[i]) < 100)
			CHECK(strstr(err.msg, bad[i]) != NULL);
	}
}

TEST(kafka_producer_keys_every_message_once)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 4) == 0);
	floe_error err;
	ing_kafka_producer *p = NULL;
	REQUIRE_OK(ing_kafka_producer_new(&p, m.url, &no_conf, &err), &err);
	lines l;
	int n = 20000;
	make_lines(&l, 0, n);
	for (int i = 0; i < n; i++)
		REQUIRE_OK(ing_kafka_producer_send(p, l.key[i], strlen(l.key[i]), l.v[i],
		                                   strlen(l.v[i]), &err), &err);
	CHECK_OK(ing_kafka_producer_flush(p, 30000, &err), &err);
	ing_kafka_producer_free(p);

	th_kafka_msgs all;
	REQUIRE(th_kafka_read_all(&m, NULL, &all) == 0);
	CHECK_EQ_INT(all.n, n);
	char *seen = calloc((size_t)n, 1);
	int32_t part_of[NSYM];
	for (int s = 0; s < NSYM; s++)
		part_of[s] = -1;
	int dup = 0, badkey = 0, split = 0, used = 0;
	for (int i = 0; i < all.n; i++) {
		int id = value_id(all.m[i].value, all.m[i].len);
		REQUIRE(id >= 0 && id < n);
		dup += seen[id]++ != 0;
		CHECK_EQ_STR(all.m[i].value, l.v[id]);
		int s = id % NSYM;
		if (!all.m[i].key || strcmp(all.m[i].key, symbols[s]) != 0)
			badkey++;
		if (part_of[s] < 0)
			part_of[s] = all.m[i].partition;
		else if (part_of[s] != all.m[i].partition)
			split++; /* a key always goes to one partition */
	}
	for (int pt = 0; pt < 4; pt++)
		for (int s = 0; s < NSYM; s++)
			if (part_of[s] == pt) {
				used++;
				break;
			}
	CHECK_EQ_INT(dup, 0);
	CHECK_EQ_INT(badkey, 0);
	CHECK_EQ_INT(split, 0);
	CHECK(used >= 2); /* keys spread over partitions */
	free(seen);
	th_kafka_msgs_free(&all);
	free_lines(&l);
	th_kafka_mock_stop(&m);
}

TEST(kafka_producer_user_settings_win)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 1) == 0);
	floe_error err;
	ing_kafka_producer *p = NULL;
	/* user settings go on top of floe's defaults */
	static const char *const kv[] = { "compression.type=none", "enable.idempotence=false",
		                          "linger.ms=0", "acks=1" };
	ing_kafka_conf kc = { kv, 4 };
	REQUIRE_OK(ing_kafka_producer_new(&p, m.url, &kc, &err), &err);
	REQUIRE_OK(ing_kafka_producer_send(p, NULL, 0, "{\"id\":7}", 8, &err), &err);
	REQUIRE_OK(ing_kafka_producer_send(p, "k", 1, "", 0, &err), &err);
	CHECK_OK(ing_kafka_producer_flush(p, 10000, &err), &err);
	ing_kafka_producer_free(p);
	th_kafka_msgs all;
	REQUIRE(th_kafka_read_all(&m, NULL, &all) == 0);
	REQUIRE(all.n == 2);
	CHECK(all.m[0].key == NULL);
	CHECK_EQ_STR(all.m[0].value, "{\"id\":7}");
	CHECK_EQ_STR(all.m[1].key, "k");
	CHECK_EQ_INT(all.m[1].len, 0);
	th_kafka_msgs_free(&all);
	th_kafka_mock_stop(&m);
}

static void check_source_reads(bool with_kcat)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 3) == 0);
	lines l;
	int n = with_kcat ? 3000 : 10000;
	make_lines(&l, 0, n);
	if (with_kcat)
		REQUIRE(th_kafka_produce_kcat(&m, (const char *const *)l.v, n, l.key) == 0);
	else
		REQUIRE(th_kafka_produce(&m, (const char *const *)l.v, n, l.key, -1) == 0);
	floe_error err;
	ing_source *src = open_source(m.url, NULL, 0, NULL, NULL, 0);
	REQUIRE(src);
	CHECK_EQ_STR(src->id, "kafka:trades");
	CHECK_EQ_STR(src->label, m.url);
	CHECK_OK(src->ops->bound(src, &err), &err);
	got g;
	drain(src, &g, 0, 30000);
	CHECK(g.ended);
	check_ids_once(&g, 0, n);
	check_places(&m, &g);
	check_order(&g);
	CHECK(g.first_ts > 1600000000000LL); /* producer's create time, in ms */
	/* the position is the end of every partition */
	ing_pos pos;
	ing_pos_init(&pos);
	CHECK_OK(src->ops->position(src, &pos, &err), &err);
	CHECK_EQ_INT(pos.kind, ING_POS_PARTS);
	int64_t total = 0;
	for (int p = 0; p < 3; p++) {
		int64_t hi = -1;
		REQUIRE(th_kafka_high(&m, p, &hi) == 0);
		CHECK_EQ_INT(ing_pos_part(&pos, p), hi);
		total += hi;
	}
	CHECK_EQ_INT(total, n);
	/* it stays at the end */
	ing_record rec;
	CHECK_EQ_INT(src->ops->poll(src, &rec, 0, &err), ING_POLL_END);
	CHECK_EQ_INT(src->ops->lag(src), 0);
	ing_pos_free(&pos);
	got_free(&g);
	src->ops->close(src);
	free_lines(&l);
	th_kafka_mock_stop(&m);
}

TEST(kafka_source_reads_plain_librdkafka)
{
	check_source_reads(false);
}

TEST(kafka_source_reads_kcat)
{
	check_source_reads(true);
}

TEST(kafka_source_starts_at_saved_position)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 3) == 0);
	lines l;
	make_lines(&l, 0, 300);
	/* ids 0..99 to partition 0, 100..199 to 1, 200..299 to 2 */
	for (int p = 0; p < 3; p++)
		REQUIRE(th_kafka_produce(&m, (const char *const *)l.v + 100 * p, 100, l.key + 100 * p,
		                         p) == 0);
	/* the table says: partition 0 next 40, partition 1 next 70, partition
	 * 2 absent (from the beginning) */
	ing_pos from;
	ing_pos_init(&from);
	REQUIRE(ing_pos_set_part(&from, 0, 40) == 0);
	REQUIRE(ing_pos_set_part(&from, 1, 70) == 0);
	floe_error err;
	ing_source *src = open_source(m.url, NULL, 0, &from, NULL, 0);
	REQUIRE(src);
	CHECK_OK(src->ops->bound(src, &err), &err);
	got g;
	drain(src, &g, 0, 30000);
	CHECK(g.ended);
	CHECK_EQ_INT(g.n, 60 + 30 + 100);
	int wrong = 0;
	for (int i = 0; i < g.n; i++) {
		int want_min = g.part[i] == 0 ? 40 : g.part[i] == 1 ? 170 : 200;
		if (g.id[i] < want_min || g.id[i] != 100 * g.part[i] + (int)g.off[i])
			wrong++;
	}
	CHECK_EQ_INT(wrong, 0);
	ing_pos pos;
	ing_pos_init(&pos);
	CHECK_OK(src->ops->position(src, &pos, &err), &err);
	for (int p = 0; p < 3; p++)
		CHECK_EQ_INT(ing_pos_part(&pos, p), 100);
	ing_pos_free(&pos);
	got_free(&g);
	src->ops->close(src);
	ing_pos_free(&from);

	/* a position at the end of everything: nothing comes, END at once */
	ing_pos_init(&from);
	for (int p = 0; p < 3; p++)
		REQUIRE(ing_pos_set_part(&from, p, 100) == 0);
	src = open_source(m.url, NULL, 0, &from, NULL, 0);
	REQUIRE(src);
	CHECK_OK(src->ops->bound(src, &err), &err);
	drain(src, &g, 0, 30000);
	CHECK(g.ended);
	CHECK_EQ_INT(g.n, 0);
	got_free(&g);
	src->ops->close(src);
	ing_pos_free(&from);
	free_lines(&l);
	th_kafka_mock_stop(&m);
}

TEST(kafka_source_bound_ends_at_watermarks)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 3) == 0);
	lines l, later;
	make_lines(&l, 0, 900);
	make_lines(&later, 900, 300);
	REQUIRE(th_kafka_produce(&m, (const char *const *)l.v, l.n, l.key, -1) == 0);
	int64_t hi[3];
	for (int p = 0; p < 3; p++)
		REQUIRE(th_kafka_high(&m, p, &hi[p]) == 0);
	floe_error err;
	ing_source *src = open_source(m.url, NULL, 0, NULL, NULL, 0);
	REQUIRE(src);
	CHECK_OK(src->ops->bound(src, &err), &err);
	/* produced after bound(): not part of this run */
	REQUIRE(th_kafka_produce(&m, (const char *const *)later.v, later.n, later.key, -1) == 0);
	got g;
	drain(src, &g, 0, 30000);
	CHECK(g.ended);
	check_ids_once(&g, 0, 900);
	ing_pos pos;
	ing_pos_init(&pos);
	CHECK_OK(src->ops->position(src, &pos, &err), &err);
	for (int p = 0; p < 3; p++)
		CHECK_EQ_INT(ing_pos_part(&pos, p), hi[p]);
	ing_record rec;
	CHECK_EQ_INT(src->ops->poll(src, &rec, 200, &err), ING_POLL_END);
	got_free(&g);
	src->ops->close(src);

	/* the next run from that position gets exactly the later ones */
	src = open_source(m.url, NULL, 0, &pos, NULL, 0);
	REQUIRE(src);
	CHECK_OK(src->ops->bound(src, &err), &err);
	drain(src, &g, 0, 30000);
	CHECK(g.ended);
	check_ids_once(&g, 900, 300);
	got_free(&g);
	src->ops->close(src);
	ing_pos_free(&pos);
	free_lines(&l);
	free_lines(&later);
	th_kafka_mock_stop(&m);
}

TEST(kafka_source_empty_topic_ends_once_assigned)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "empty", 2) == 0);
	floe_error err;
	ing_source *src = open_source(m.url, NULL, 0, NULL, NULL, 0);
	REQUIRE(src);
	CHECK_EQ_INT(src->ops->lag(src), -1); /* nothing assigned yet */
	CHECK_OK(src->ops->bound(src, &err), &err);
	int64_t t0 = now_ms();
	got g;
	drain(src, &g, 0, 20000);
	CHECK(g.ended);
	CHECK_EQ_INT(g.n, 0);
	CHECK(now_ms() - t0 < 15000);
	CHECK_EQ_INT(src->ops->lag(src), 0);
	ing_pos pos;
	ing_pos_init(&pos);
	CHECK_OK(src->ops->position(src, &pos, &err), &err);
	for (int p = 0; p < 2; p++)
		CHECK(ing_pos_part(&pos, p) <= 0); /* nothing read: absent or 0 */
	ing_pos_free(&pos);
	got_free(&g);
	src->ops->close(src);
	th_kafka_mock_stop(&m);
}

TEST(kafka_source_lag_decreases)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 2) == 0);
	lines l;
	make_lines(&l, 0, 2000);
	REQUIRE(th_kafka_produce(&m, (const char *const *)l.v, 1000, l.key, 0) == 0);
	REQUIRE(th_kafka_produce(&m, (const char *const *)l.v + 1000, 1000, l.key + 1000, 1) == 0);
	ing_source *src = open_source(m.url, NULL, 0, NULL, NULL, 0);
	REQUIRE(src);
	got g;
	drain(src, &g, 1, 20000); /* unbounded: the first record */
	REQUIRE(g.n == 1);
	got_free(&g);
	/* cached watermarks arrive with the fetches: wait until known */
	int64_t lag1 = -1;
	for (int i = 0; i < 100 && lag1 < 0; i++) {
		lag1 = src->ops->lag(src);
		if (lag1 < 0)
			ti_sleep_ms(20);
	}
	CHECK(lag1 > 0 && lag1 <= 1999);
	drain(src, &g, 1000, 20000);
	CHECK_EQ_INT(g.n, 1000);
	got_free(&g);
	int64_t lag2 = src->ops->lag(src);
	CHECK(lag2 >= 0 && lag2 < lag1);
	CHECK(lag2 <= 1000);
	drain(src, &g, 999, 20000);
	CHECK_EQ_INT(g.n, 999);
	got_free(&g);
	CHECK_EQ_INT(src->ops->lag(src), 0);
	src->ops->close(src);
	free_lines(&l);
	th_kafka_mock_stop(&m);
}

TEST(kafka_source_commits_table_position_to_group)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 2) == 0);
	lines l;
	make_lines(&l, 0, 500);
	REQUIRE(th_kafka_produce(&m, (const char *const *)l.v, 200, l.key, 0) == 0);
	REQUIRE(th_kafka_produce(&m, (const char *const *)l.v + 200, 300, l.key + 200, 1) == 0);
	floe_error err;
	char group[128];
	ing_source *src = open_source(m.url, NULL, 0, NULL, group, sizeof group);
	REQUIRE(src);
	got g;
	drain(src, &g, 150, 20000);
	CHECK_EQ_INT(g.n, 150);
	got_free(&g);
	int64_t c = 0;
	REQUIRE(th_kafka_committed(&m, group, 0, &c) == 0);
	CHECK_EQ_INT(c, -1); /* nothing is committed by reading */
	ing_pos pos;
	ing_pos_init(&pos);
	CHECK_OK(src->ops->position(src, &pos, &err), &err);
	CHECK_OK(src->ops->committed(src, &pos, &err), &err);
	/* asynchronous: visible to another consumer soon */
	int64_t c0 = -1, c1 = -1;
	for (int i = 0; i < 100; i++) {
		ing_record rec;
		src->ops->poll(src, &rec, 0, &err);
		REQUIRE(th_kafka_committed(&m, group, 0, &c0) == 0);
		REQUIRE(th_kafka_committed(&m, group, 1, &c1) == 0);
		if (c0 == ing_pos_part(&pos, 0) && c1 == ing_pos_part(&pos, 1))
			break;
		ti_sleep_ms(50);
	}
	CHECK_EQ_INT(c0, ing_pos_part(&pos, 0) < 0 ? -1 : ing_pos_part(&pos, 0));
	CHECK_EQ_INT(c1, ing_pos_part(&pos, 1) < 0 ? -1 : ing_pos_part(&pos, 1));
	CHECK(c0 > 0 || c1 > 0);
	ing_pos_free(&pos);
	/* close commits nothing more */
	src->ops->close(src);
	int64_t a0 = -1, a1 = -1;
	REQUIRE(th_kafka_committed(&m, group, 0, &a0) == 0);
	REQUIRE(th_kafka_committed(&m, group, 1, &a1) == 0);
	CHECK_EQ_INT(a0, c0);
	CHECK_EQ_INT(a1, c1);
	free_lines(&l);
	th_kafka_mock_stop(&m);
}

/* Two members of one group split the partitions; rebalances (the second
 * member joining, a member that ended and stopped polling being dropped)
 * move partitions between them. Each member starts a partition it is given
 * at its own position (here: none, so the earliest offset; with a table,
 * the table's), so a member never hands out a record twice, and together
 * they hand out every record; a partition that moved may be read by both
 * (two members writing one table is not a supported setup). */
TEST(kafka_source_group_members_split_partitions)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 4) == 0);
	lines l;
	int n = 4000;
	make_lines(&l, 0, n);
	REQUIRE(th_kafka_produce(&m, (const char *const *)l.v, n, l.key, -1) == 0);
	floe_error err;
	char group[128];
	static const char *const kv[] = { "session.timeout.ms=6000" };
	ing_source *src[2] = { open_source(m.url, kv, 1, NULL, group, sizeof group), NULL };
	REQUIRE(src[0]);
	ing_kafka_conf kc = { kv, 1 };
	REQUIRE_OK(ing_source_kafka(&src[1], m.url, group, &kc, &err), &err);
	REQUIRE_OK(src[1]->ops->start(src[1], NULL, &err), &err);
	CHECK_OK(src[0]->ops->bound(src[0], &err), &err);
	CHECK_OK(src[1]->ops->bound(src[1], &err), &err);
	/* both poll in turns until both have ended */
	char *seen[2] = { calloc((size_t)n, 1), calloc((size_t)n, 1) };
	int count[2] = { 0, 0 }, dup = 0, bad = 0, ended = 0;
	bool done[2] = { false, false };
	int64_t deadline = now_ms() + 40000;
	while (ended < 2 && now_ms() < deadline) {
		for (int w = 0; w < 2; w++) {
			for (int k = 0; k < 200 && !done[w]; k++) {
				ing_record rec;
				int rc = src[w]->ops->poll(src[w], &rec, 10, &err);
				REQUIRE(rc >= 0);
				if (rc == ING_POLL_END) {
					done[w] = true;
					ended++;
				}
				if (rc != ING_POLL_RECORD)
					break;
				int id = value_id(rec.data, rec.len);
				if (id < 0 || id >= n || rec.key_len != strlen(symbols[id % NSYM]) ||
				    memcmp(rec.key, symbols[id % NSYM], rec.key_len) != 0) {
					bad++;
					continue;
				}
				dup += seen[w][id]++ != 0;
				count[w]++;
			}
		}
	}
	CHECK_EQ_INT(ended, 2);
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(dup, 0);
	int missing = 0;
	for (int i = 0; i < n; i++)
		missing += !seen[0][i] && !seen[1][i];
	CHECK_EQ_INT(missing, 0);
	CHECK(count[0] > 0 && count[1] > 0);
	/* each position says where its member stands in the partitions it read */
	for (int w = 0; w < 2; w++) {
		ing_pos pos;
		ing_pos_init(&pos);
		CHECK_OK(src[w]->ops->position(src[w], &pos, &err), &err);
		CHECK(pos.nparts >= 1);
		for (int i = 0; i < pos.nparts; i++) {
			int64_t hi = -1;
			REQUIRE(th_kafka_high(&m, pos.parts[i].partition, &hi) == 0);
			CHECK(pos.parts[i].next > 0 && pos.parts[i].next <= hi);
		}
		ing_pos_free(&pos);
		src[w]->ops->close(src[w]);
		free(seen[w]);
	}
	free_lines(&l);
	th_kafka_mock_stop(&m);
}

/* A member whose partitions are taken away and given back (another member
 * joins, then leaves) goes on from the offsets it handed out, not from the
 * start and not from the group's committed offsets (there are none). */
TEST(kafka_source_rebalance_resumes_at_own_offsets)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 4) == 0);
	lines l;
	int n = 20000;
	make_lines(&l, 0, n);
	REQUIRE(th_kafka_produce(&m, (const char *const *)l.v, n, l.key, TH_KAFKA_ROUND_ROBIN) == 0);
	floe_error err;
	char group[128];
	/* the mock's rebalances wait up to session.timeout.ms - 1 s */
	static const char *const kv[] = { "session.timeout.ms=6000" };
	ing_source *a = open_source(m.url, kv, 1, NULL, group, sizeof group);
	REQUIRE(a);
	char *seen = calloc((size_t)n, 1);
	int distinct = 0, dup = 0;
	ing_record rec;
#define TAKE_A(wait)                                                                  \
	do {                                                                          \
		int rc_ = a->ops->poll(a, &rec, (wait), &err);                        \
		REQUIRE(rc_ >= 0);                                                    \
		if (rc_ == ING_POLL_RECORD) {                                         \
			int id_ = value_id(rec.data, rec.len);                        \
			REQUIRE(id_ >= 0 && id_ < n);                                 \
			if (seen[id_]++)                                              \
				dup++;                                                \
			else                                                          \
				distinct++;                                           \
		}                                                                     \
	} while (0)
	/* A alone: all four partitions; read a part */
	int64_t deadline = now_ms() + 20000;
	while (distinct < 1000 && now_ms() < deadline)
		TAKE_A(100);
	REQUIRE(distinct == 1000);
	/* B joins: A keeps polling, slowly, so the rebalance is served */
	ing_source *b = NULL;
	ing_kafka_conf kc = { kv, 1 };
	REQUIRE_OK(ing_source_kafka(&b, m.url, group, &kc, &err), &err);
	REQUIRE_OK(b->ops->start(b, NULL, &err), &err);
	int bgot = 0;
	deadline = now_ms() + 30000;
	while (bgot == 0 && now_ms() < deadline) {
		TAKE_A(0);
		int rc = b->ops->poll(b, &rec, 1, &err);
		REQUIRE(rc >= 0);
		bgot += rc == ING_POLL_RECORD;
	}
	REQUIRE(bgot > 0);
	CHECK(distinct < n);
	/* B leaves: A gets every partition back and finishes them */
	b->ops->close(b);
	deadline = now_ms() + 30000;
	while (distinct < n && now_ms() < deadline)
		TAKE_A(100);
	for (int i = 0; i < 5; i++)
		TAKE_A(50); /* nothing more, and nothing again */
#undef TAKE_A
	CHECK_EQ_INT(distinct, n);
	CHECK_EQ_INT(dup, 0);
	ing_pos pos;
	ing_pos_init(&pos);
	CHECK_OK(a->ops->position(a, &pos, &err), &err);
	for (int p = 0; p < 4; p++)
		CHECK_EQ_INT(ing_pos_part(&pos, p), n / 4);
	ing_pos_free(&pos);
	a->ops->close(a);
	free(seen);
	free_lines(&l);
	th_kafka_mock_stop(&m);
}

/* A 127.0.0.1 port nobody listens on. */
static int dead_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd); /* bound, never listened: connections are refused */
	return port;
}

TEST(kafka_bad_settings_are_clean_errors)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 1) == 0);
	struct {
		const char *kv;
		const char *want; /* in the message */
	} bad[] = {
		{ "no.such.setting=1", "no.such.setting" },
		{ "linger.ms=soon", "linger.ms" },
		{ "compression.type=zip", "compression.type" },
		{ "just-a-word", "just-a-word" },
		{ "=5", "=5" },
		{ "bootstrap.servers=10.0.0.1:9092", "bootstrap.servers" },
	};
	floe_error err;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *kv[1] = { bad[i].kv };
		ing_kafka_conf kc = { kv, 1 };
		ing_kafka_producer *p = NULL;
		floe_error_clear(&err);
		CHECK_EQ_INT(ing_kafka_producer_new(&p, m.url, &kc, &err), FLOE_EINVALID);
		CHECK(p == NULL);
		if (!strstr(err.msg, bad[i].want))
			th_fail(__FILE__, __LINE__, "producer, %s: message '%s'", bad[i].kv, err.msg);
		ing_source *src = NULL;
		floe_error_clear(&err);
		CHECK_EQ_INT(ing_source_kafka(&src, m.url, NULL, &kc, &err), FLOE_EINVALID);
		CHECK(src == NULL);
		if (!strstr(err.msg, bad[i].want))
			th_fail(__FILE__, __LINE__, "source, %s: message '%s'", bad[i].kv, err.msg);
	}
	/* what the source needs cannot be turned off */
	static const char *const fixed[] = { "enable.auto.commit=true", "group.id=g",
		                             "enable.partition.eof=false",
		                             "enable.auto.offset.store=true" };
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		ing_kafka_conf kc = { fixed + i, 1 };
		ing_source *src = NULL;
		CHECK_EQ_INT(ing_source_kafka(&src, m.url, NULL, &kc, &err), FLOE_EINVALID);
		char key[64];
		snprintf(key, sizeof key, "%.*s", (int)strcspn(fixed[i], "="), fixed[i]);
		CHECK(strstr(err.msg, key) != NULL);
	}
	/* the same values as floe's, and SASL/SSL settings, pass through
	 * (checked by librdkafka when the client is made; nothing connects
	 * before start, and the producer's attempts go to a dead port) */
	char dead[128];
	snprintf(dead, sizeof dead, "kafka://127.0.0.1:%d/trades", dead_port());
	static const char *const cok[] = { "enable.auto.commit=false", "security.protocol=SASL_SSL",
		                           "sasl.mechanisms=PLAIN", "sasl.username=alice",
		                           "sasl.password=secret", "auto.offset.reset=latest",
		                           "ssl.endpoint.identification.algorithm=none",
		                           "client.id=mine", "log_level=0" };
	ing_kafka_conf cokc = { cok, (int)(sizeof cok / sizeof cok[0]) };
	ing_source *src = NULL;
	CHECK_OK(ing_source_kafka(&src, dead, "g1", &cokc, &err), &err);
	if (src)
		src->ops->close(src); /* never started: nothing to leave */
	static const char *const pok[] = { "security.protocol=SASL_SSL", "sasl.mechanisms=SCRAM-SHA-512",
		                           "sasl.username=alice", "sasl.password=secret",
		                           "compression.type=zstd", "log_level=0" };
	ing_kafka_conf pokc = { pok, (int)(sizeof pok / sizeof pok[0]) };
	ing_kafka_producer *p = NULL;
	CHECK_OK(ing_kafka_producer_new(&p, dead, &pokc, &err), &err);
	ing_kafka_producer_free(p);
	/* a bad URL is refused before anything else */
	CHECK_EQ_INT(ing_source_kafka(&src, "kafka://nohost/t", NULL, &no_conf, &err), FLOE_EINVALID);
	CHECK_EQ_INT(ing_kafka_producer_new(&p, "kafka:/x", &no_conf, &err), FLOE_EINVALID);
	th_kafka_mock_stop(&m);
}

TEST(kafka_unreachable_broker_bounded_gives_up)
{
	int port = dead_port();
	REQUIRE(port > 0);
	char url[128];
	snprintf(url, sizeof url, "kafka://127.0.0.1:%d/trades", port);
	floe_error err;
	/* bound() waits socket.timeout.ms (at most 10 s) for metadata */
	static const char *const kv[] = { "socket.timeout.ms=2000" };
	ing_source *src = open_source(url, kv, 1, NULL, NULL, 0);
	REQUIRE(src);
	int64_t t0 = now_ms();
	CHECK_EQ_INT(src->ops->bound(src, &err), FLOE_EIO);
	int64_t took = now_ms() - t0;
	CHECK(took >= 1500 && took < 6000);
	CHECK(strstr(err.msg, url + 8) != NULL || strstr(err.msg, "127.0.0.1") != NULL);
	CHECK(strstr(err.msg, "reachable") != NULL);
	/* unbounded polls only idle (librdkafka keeps reconnecting) */
	ing_record rec;
	CHECK_EQ_INT(src->ops->poll(src, &rec, 300, &err), ING_POLL_IDLE);
	CHECK_EQ_INT(src->ops->lag(src), -1);
	t0 = now_ms();
	src->ops->close(src);
	CHECK(now_ms() - t0 < 5000);

	/* brokers that go away after bound(): a bounded poll gives up after
	 * 3 x that wait without progress */
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 2) == 0);
	lines l;
	make_lines(&l, 0, 100);
	REQUIRE(th_kafka_produce(&m, (const char *const *)l.v, l.n, l.key, -1) == 0);
	static const char *const kv1[] = { "socket.timeout.ms=1000" };
	src = open_source(m.url, kv1, 1, NULL, NULL, 0);
	REQUIRE(src);
	CHECK_OK(src->ops->bound(src, &err), &err);
	th_kafka_mock_stop(&m); /* before the group's first assignment (3 s) */
	t0 = now_ms();
	int rc = 0;
	while (rc >= 0 && rc != ING_POLL_END && now_ms() - t0 < 30000)
		rc = src->ops->poll(src, &rec, 100, &err);
	took = now_ms() - t0;
	CHECK_EQ_INT(rc, FLOE_EIO);
	CHECK(took >= 2500 && took < 15000);
	CHECK(strstr(err.msg, "no progress") != NULL);
	t0 = now_ms();
	src->ops->close(src);
	CHECK(now_ms() - t0 < 5000);
	free_lines(&l);

	/* the producer's flush gives up after its timeout */
	ing_kafka_producer *p = NULL;
	REQUIRE_OK(ing_kafka_producer_new(&p, url, &no_conf, &err), &err);
	REQUIRE_OK(ing_kafka_producer_send(p, "k", 1, "v", 1, &err), &err);
	t0 = now_ms();
	CHECK_EQ_INT(ing_kafka_producer_flush(p, 1000, &err), FLOE_EIO);
	CHECK(now_ms() - t0 < 3000);
	CHECK(strstr(err.msg, "1 message(s)") != NULL);
	t0 = now_ms();
	ing_kafka_producer_free(p);
	CHECK(now_ms() - t0 < 3000);
}

TEST(kafka_unknown_topic_is_not_found)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 1) == 0);
	/* the 2.0.2 mock answers Metadata v0-v2 only, which has no
	 * AllowAutoTopicCreation flag, so it creates any topic asked for; a
	 * topic set to fail stands in for a broker without the topic */
	REQUIRE(th_kafka_mock_add_topic(&m, "gone", 1) == 0);
	th_kafka_mock_topic_unknown(&m, "gone");
	char url[600];
	snprintf(url, sizeof url, "kafka://%s/gone", m.bootstrap);
	floe_error err;
	ing_source *src = open_source(url, NULL, 0, NULL, NULL, 0);
	REQUIRE(src);
	CHECK_EQ_INT(src->ops->bound(src, &err), FLOE_ENOTFOUND);
	CHECK(strstr(err.msg, "gone") != NULL);
	src->ops->close(src);
	/* unbounded: the subscription's error comes out of poll */
	src = open_source(url, NULL, 0, NULL, NULL, 0);
	REQUIRE(src);
	int rc = 0;
	int64_t t0 = now_ms();
	while (rc == 0 && now_ms() - t0 < 20000) {
		ing_record rec;
		rc = src->ops->poll(src, &rec, 100, &err);
	}
	CHECK_EQ_INT(rc, FLOE_ENOTFOUND);
	CHECK(strstr(err.msg, "gone") != NULL);
	src->ops->close(src);
	th_kafka_mock_stop(&m);
}

/* Throughput of the source through the mock for ~150-byte messages
 * (printed; the assertions are about completeness, not speed).
 * FLOE_KAFKA_BENCH_N sets the message count (default 200000; more
 * partitions for more, as a mock partition keeps 5 MiB). */
TEST(kafka_source_throughput)
{
	const char *env = getenv("FLOE_KAFKA_BENCH_N");
	int n = env && atoi(env) > 0 ? atoi(env) : 200000;
	int parts = n / 12500 > 16 ? n / 12500 : 16; /* ~2 MB a partition (5 MiB kept) */
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "bench", parts) == 0);
	lines l;
	make_lines(&l, 0, n);
	size_t bytes = 0;
	for (int i = 0; i < n; i++)
		bytes += strlen(l.v[i]);
	/* spread evenly: a mock partition keeps 5 MiB at most */
	REQUIRE(th_kafka_produce(&m, (const char *const *)l.v, n, l.key, TH_KAFKA_ROUND_ROBIN) == 0);
	floe_error err;
	ing_source *src = open_source(m.url, NULL, 0, NULL, NULL, 0);
	REQUIRE(src);
	CHECK_OK(src->ops->bound(src, &err), &err);
	int64_t t0 = now_ms(), t_first = 0;
	int64_t count = 0, sum = 0;
	for (;;) {
		ing_record rec;
		int rc = src->ops->poll(src, &rec, 100, &err);
		REQUIRE(rc >= 0);
		if (rc == ING_POLL_END)
			break;
		if (rc == ING_POLL_RECORD) {
			if (count++ == 0)
				t_first = now_ms();
			sum += (int64_t)rec.len;
		}
		REQUIRE(now_ms() - t0 < 120000);
	}
	int64_t t1 = now_ms();
	CHECK_EQ_INT(count, n);
	CHECK_EQ_INT(sum, (int64_t)bytes);
	double secs = (double)(t1 - t_first) / 1000.0;
	fprintf(stderr, "kafka source: %d messages of %.0f bytes on average in %.3f s after the "
	        "first (%.3f s with the group join): %.0f messages/s, %.1f MB/s\n", n,
	        (double)bytes / n, secs, (double)(t1 - t0) / 1000.0,
	        secs > 0 ? n / secs : 0.0, secs > 0 ? (double)bytes / secs / 1e6 : 0.0);
	src->ops->close(src);
	free_lines(&l);
	th_kafka_mock_stop(&m);
}

/* `floe ingest` in a child process reaches the mock that lives in this
 * (forked) test process. */
TEST(kafka_ingest_subprocess_reaches_mock)
{
	th_kafka_mock m;
	REQUIRE(th_kafka_mock_start(&m, "trades", 2) == 0);
	int n = 500;
	char **v = calloc((size_t)n, sizeof *v);
	const char **keys = calloc((size_t)n, sizeof *keys);
	for (int i = 0; i < n; i++) {
		char buf[512];
		ti_trade_line(buf, sizeof buf, i, 0);
		v[i] = strdup(buf);
		keys[i] = symbols[i % NSYM];
	}
	REQUIRE(th_kafka_produce(&m, (const char *const *)v, n, keys, -1) == 0);
	ti_env e;
	REQUIRE(ti_open(&e));
	char group[128];
	th_kafka_group(group, sizeof group, "floe-test-cli");
	const char *argv[] = { "floe", "ingest", "bronze.trades", "--warehouse", e.wh, "--from",
		               m.url, "--trigger", "once", "--kind", "trades", "--group", group,
		               NULL };
	const char *log = th_path("ingest.log");
	pid_t pid = ti_spawn(argv, log);
	REQUIRE(pid > 0);
	int st = -1;
	int64_t t0 = now_ms();
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() - t0 > 60000) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			th_fail(__FILE__, __LINE__, "floe ingest did not finish in 60 s");
			break;
		}
		ti_sleep_ms(20);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *text = th_read_file(log, NULL);
		th_fail(__FILE__, __LINE__, "floe ingest exited with %d: %s", st, text ? text : "");
		free(text);
	}
	ti_rows rows;
	memset(&rows, 0, sizeof rows);
	if (ti_read(&e, "bronze.trades", "symbol", &rows)) {
		CHECK_EQ_INT(rows.n, n);
		ti_rows_free(&rows);
	}
	ti_close(&e);
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(keys);
	th_kafka_mock_stop(&m);
}
