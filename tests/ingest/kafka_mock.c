/* tests/ingest/kafka_mock.c - the Kafka test helpers of kafka_mock.h: the
 * in-process mock cluster, and producing and reading back with plain
 * librdkafka or kcat (never through floe's own Kafka code). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "harness.h"
#include "ingest/kafka_mock.h"

#define WAIT_MS 30000

typedef void (*dr_fn)(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque);

/* A client of the mock: producer or consumer, extra settings as key, value
 * pairs ending with NULL, a delivery callback (producers; may be NULL) with
 * its opaque. NULL after a test failure. */
static rd_kafka_t *client(const th_kafka_mock *m, rd_kafka_type_t type, const char *const *kv,
                          dr_fn on_dr, void *opaque)
{
	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (on_dr)
		rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
	rd_kafka_conf_set_opaque(conf, opaque);
	if (rd_kafka_conf_set(conf, "bootstrap.servers", m->bootstrap, errstr, sizeof errstr) ||
	    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr))
		goto fail;
	for (int i = 0; kv && kv[i]; i += 2)
		if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof errstr))
			goto fail;
	rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
	if (!rk) {
		rd_kafka_conf_destroy(conf); /* still ours when rd_kafka_new fails */
		th_fail(__FILE__, __LINE__, "rd_kafka_new: %s", errstr);
	}
	return rk;
fail:
	th_fail(__FILE__, __LINE__, "kafka test client setting: %s", errstr);
	rd_kafka_conf_destroy(conf);
	return NULL;
}

int th_kafka_mock_start(th_kafka_mock *m, const char *topic, int partitions)
{
	char errstr[512];
	memset(m, 0, sizeof *m);
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	/* the owner is only the cluster's home: it never connects anywhere */
	rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		th_fail(__FILE__, __LINE__, "mock owner: %s", errstr);
		return -1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
	if (!mc) {
		rd_kafka_destroy(rk);
		th_fail(__FILE__, __LINE__, "rd_kafka_mock_cluster_new failed");
		return -1;
	}
	m->rk = rk;
	m->mc = mc;
	const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
	snprintf(m->bootstrap, sizeof m->bootstrap, "%s", bs);
	if (strncmp(bs, "127.0.0.1:", 10) != 0) {
		th_fail(__FILE__, __LINE__, "mock cluster listens on %s, not 127.0.0.1", bs);
		th_kafka_mock_stop(m);
		return -1;
	}
	snprintf(m->topic, sizeof m->topic, "%s", topic);
	m->partitions = partitions;
	snprintf(m->url, sizeof m->url, "kafka://%s/%s", m->bootstrap, topic);
	if (th_kafka_mock_add_topic(m, topic, partitions)) {
		th_kafka_mock_stop(m);
		return -1;
	}
	return 0;
}

int th_kafka_mock_add_topic(th_kafka_mock *m, const char *topic, int partitions)
{
	rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(m->mc, topic, partitions, 1);
	if (e) {
		th_fail(__FILE__, __LINE__, "mock topic %s: %s", topic, rd_kafka_err2str(e));
		return -1;
	}
	return 0;
}

void th_kafka_mock_topic_unknown(th_kafka_mock *m, const char *topic)
{
	rd_kafka_mock_topic_set_error(m->mc, topic, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
}

void th_kafka_mock_stop(th_kafka_mock *m)
{
	if (m->mc)
		rd_kafka_mock_cluster_destroy(m->mc);
	if (m->rk)
		rd_kafka_destroy(m->rk);
	m->mc = NULL;
	m->rk = NULL;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	(void)rk;
	int *failed = opaque;
	if (msg->err && (*failed)++ == 0)
		th_fail(__FILE__, __LINE__, "test producer: delivery to partition %d failed: %s",
		        (int)msg->partition, rd_kafka_err2str(msg->err));
}

int th_kafka_produce(const th_kafka_mock *m, const char *const *lines, int n,
                     const char *const *keys, int32_t partition)
{
	static const char *const kv[] = { "linger.ms", "5", "queue.buffering.max.messages",
		                          "1000000", NULL };
	int failed = 0, rc = 0;
	rd_kafka_t *rk = client(m, RD_KAFKA_PRODUCER, kv, on_delivery, &failed);
	if (!rk)
		return -1;
	for (int i = 0; i < n && !rc; i++) {
		const char *key = keys ? keys[i] : NULL;
		int32_t part = partition == TH_KAFKA_ROUND_ROBIN ? i % m->partitions
		               : partition < 0 ? RD_KAFKA_PARTITION_UA : partition;
		rd_kafka_resp_err_t e;
		for (;;) {
			e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(m->topic),
			                      RD_KAFKA_V_PARTITION(part),
			                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			                      RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
			                      RD_KAFKA_V_VALUE((void *)lines[i], strlen(lines[i])),
			                      RD_KAFKA_V_END);
			if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				break;
			rd_kafka_poll(rk, 10);
		}
		if (e) {
			th_fail(__FILE__, __LINE__, "test producer: message %d: %s", i,
			        rd_kafka_err2str(e));
			rc = -1;
		}
		if ((i & 1023) == 0)
			rd_kafka_poll(rk, 0);
	}
	rd_kafka_resp_err_t e = rd_kafka_flush(rk, WAIT_MS);
	if (e) {
		th_fail(__FILE__, __LINE__, "test producer: flush: %s (%d in flight)",
		        rd_kafka_err2str(e), rd_kafka_outq_len(rk));
		rc = -1;
	}
	rd_kafka_destroy(rk);
	return rc || failed ? -1 : 0;
}

int th_kafka_produce_kcat(const th_kafka_mock *m, const char *const *lines, int n,
                          const char *const *keys)
{
	const char *path = th_path("kcat-input.txt");
	FILE *f = fopen(path, "w");
	if (!f) {
		th_fail(__FILE__, __LINE__, "cannot write %s", path);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (strchr(lines[i], '\n') || (keys && (strchr(keys[i], ':') || strchr(keys[i], '\n')))) {
			fclose(f);
			th_fail(__FILE__, __LINE__, "kcat input %d has a newline or a ':' in its key", i);
			return -1;
		}
		if (keys)
			fprintf(f, "%s:%s\n", keys[i], lines[i]);
		else
			fprintf(f, "%s\n", lines[i]);
	}
	if (fclose(f) != 0) {
		th_fail(__FILE__, __LINE__, "cannot write %s", path);
		return -1;
	}
	char *out = NULL;
	/* -l: the file's lines are messages (without it the file is one) */
	int st = th_run(&out, "kcat -P -l -b %s -t %s %s -X log_level=3 -X linger.ms=5 %s 2>&1",
	                m->bootstrap, m->topic, keys ? "-K:" : "", path);
	if (st != 0)
		th_fail(__FILE__, __LINE__, "kcat -P exited with %d: %s", st, out ? out : "");
	free(out);
	return st == 0 ? 0 : -1;
}

static int msgs_add(th_kafka_msgs *out, const rd_kafka_message_t *rkm)
{
	if (out->n == out->cap) {
		int cap = out->cap ? out->cap * 2 : 256;
		th_kafka_msg *nm = realloc(out->m, (size_t)cap * sizeof *nm);
		if (!nm)
			return -1;
		out->m = nm;
		out->cap = cap;
	}
	th_kafka_msg *t = &out->m[out->n];
	memset(t, 0, sizeof *t);
	t->partition = rkm->partition;
	t->offset = rkm->offset;
	t->len = rkm->len;
	if (rkm->key && !(t->key = strndup(rkm->key, rkm->key_len)))
		return -1;
	if (!(t->value = malloc(rkm->len + 1))) {
		free(t->key);
		return -1;
	}
	if (rkm->len)
		memcpy(t->value, rkm->payload, rkm->len);
	t->value[rkm->len] = '\0';
	out->n++;
	return 0;
}

/* Partition count of `topic` from the broker's metadata; -1 on failure. */
static int topic_partitions(rd_kafka_t *rk, const char *topic)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	int n = -1;
	rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, WAIT_MS);
	if (e)
		th_fail(__FILE__, __LINE__, "metadata of %s: %s", topic, rd_kafka_err2str(e));
	else if (md->topic_cnt != 1 || md->topics[0].err)
		th_fail(__FILE__, __LINE__, "metadata of %s: %s", topic,
		        md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "no topic");
	else
		n = md->topics[0].partition_cnt;
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return n;
}

int th_kafka_read_all(const th_kafka_mock *m, const char *topic, th_kafka_msgs *out)
{
	char group[128]; /* assign() wants a group id, though it joins none */
	th_kafka_group(group, sizeof group, "th-read-all");
	const char *const kv[] = { "enable.partition.eof", "true", "enable.auto.commit", "false",
		                   "group.id", group, NULL };
	memset(out, 0, sizeof *out);
	if (!topic)
		topic = m->topic;
	rd_kafka_t *rk = client(m, RD_KAFKA_CONSUMER, kv, NULL, NULL);
	if (!rk)
		return -1;
	int rc = -1, nparts = topic_partitions(rk, topic);
	rd_kafka_topic_partition_list_t *tl = NULL;
	char *eof = NULL;
	if (nparts < 0)
		goto done;
	tl = rd_kafka_topic_partition_list_new(nparts);
	for (int p = 0; p < nparts; p++)
		rd_kafka_topic_partition_list_add(tl, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_resp_err_t e = rd_kafka_assign(rk, tl);
	if (e) {
		th_fail(__FILE__, __LINE__, "assign %s: %s", topic, rd_kafka_err2str(e));
		goto done;
	}
	eof = calloc((size_t)nparts + 1, 1);
	int left = nparts;
	for (int waited = 0; left > 0 && waited < WAIT_MS;) {
		rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
		if (!rkm) {
			waited += 100;
			continue;
		}
		if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (rkm->partition >= 0 && rkm->partition < nparts && !eof[rkm->partition]) {
				eof[rkm->partition] = 1;
				left--;
			}
		} else if (rkm->err) {
			th_fail(__FILE__, __LINE__, "reading %s: %s", topic, rd_kafka_message_errstr(rkm));
			rd_kafka_message_destroy(rkm);
			goto done;
		} else if (msgs_add(out, rkm)) {
			th_fail(__FILE__, __LINE__, "out of memory");
			rd_kafka_message_destroy(rkm);
			goto done;
		}
		rd_kafka_message_destroy(rkm);
	}
	if (left > 0)
		th_fail(__FILE__, __LINE__, "reading %s: %d partitions not at their end after %d ms",
		        topic, left, WAIT_MS);
	else
		rc = 0;
done:
	free(eof);
	if (tl)
		rd_kafka_topic_partition_list_destroy(tl);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return rc;
}

void th_kafka_msgs_free(th_kafka_msgs *msgs)
{
	for (int i = 0; i < msgs->n; i++) {
		free(msgs->m[i].key);
		free(msgs->m[i].value);
	}
	free(msgs->m);
	memset(msgs, 0, sizeof *msgs);
}

int th_kafka_high(const th_kafka_mock *m, int32_t partition, int64_t *high)
{
	rd_kafka_t *rk = client(m, RD_KAFKA_CONSUMER, NULL, NULL, NULL);
	if (!rk)
		return -1;
	int64_t lo = -1;
	rd_kafka_resp_err_t e =
		rd_kafka_query_watermark_offsets(rk, m->topic, partition, &lo, high, WAIT_MS);
	rd_kafka_destroy(rk);
	if (e) {
		th_fail(__FILE__, __LINE__, "watermarks of %s [%d]: %s", m->topic, (int)partition,
		        rd_kafka_err2str(e));
		return -1;
	}
	return 0;
}

int th_kafka_committed(const th_kafka_mock *m, const char *group, int32_t partition,
                       int64_t *offset)
{
	const char *kv[] = { "group.id", group, "enable.auto.commit", "false", NULL };
	rd_kafka_t *rk = client(m, RD_KAFKA_CONSUMER, kv, NULL, NULL);
	if (!rk)
		return -1;
	rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(tl, m->topic, partition);
	rd_kafka_resp_err_t e = rd_kafka_committed(rk, tl, WAIT_MS);
	if (!e)
		e = tl->elems[0].err;
	*offset = tl->elems[0].offset < 0 ? -1 : tl->elems[0].offset;
	rd_kafka_topic_partition_list_destroy(tl);
	rd_kafka_destroy(rk);
	if (e) {
		th_fail(__FILE__, __LINE__, "committed offset of group %s: %s", group,
		        rd_kafka_err2str(e));
		return -1;
	}
	return 0;
}

const char *th_kafka_group(char *buf, size_t cap, const char *prefix)
{
	static int seq;
	snprintf(buf, cap, "%s-%ld-%d", prefix, (long)getpid(), ++seq);
	return buf;
}
