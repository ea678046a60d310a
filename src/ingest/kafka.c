/* ingest/kafka.c - Kafka through librdkafka (kafka.h): the producer behind
 * the simulator's kafka:// output, and the consumer-group source of the
 * ingest runner. The source's positions (partition -> next offset) come from
 * the table being written, never from the group's committed offsets: on every
 * assignment each partition starts where the table says, and the group's
 * offsets are only written afterwards for lag tools (docs/kafka.md).
 *
 * Threads: librdkafka runs its own threads, but every callback set here
 * (delivery reports, errors, rebalances) is served from the caller's thread
 * inside rd_kafka_poll / rd_kafka_flush (producer) or the consume calls of
 * poll and close (consumer; the main queue is forwarded to the consumer
 * queue), so the state below needs no locks. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "ingest/kafka.h"

#define URL_PREFIX "kafka://"
#define URL_FORM "kafka://HOST:PORT[,HOST:PORT...]/TOPIC"
#define TOPIC_MAX 249          /* Kafka's own limit on topic names */
#define BATCH 4096             /* messages taken from the consumer queue at once, at most */
#define BATCH_BYTES (8 << 20)  /* ... and about this many payload bytes (they pin fetch buffers) */
#define MAX_PARTITIONS (1 << 20)
#define BOUND_WAIT_MS 10000    /* bound(): metadata and watermarks (or socket.timeout.ms if lower) */
#define STALL_FACTOR 3         /* bounded: broker trouble this many bound waits long is an error */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- URL ---------------------------------------------------------------- */

static int url_error(floe_error *err, const char *url, const char *why)
{
	return floe_error_set(err, FLOE_EINVALID, "Kafka URL '%.200s': %s; want " URL_FORM, url,
	                      why);
}

/* One "HOST:PORT" (HOST may be a bracketed IPv6 address) of length n. */
static bool broker_ok(const char *b, size_t n)
{
	const char *colon = NULL;
	for (size_t i = 0; i < n; i++)
		if (b[i] == ':')
			colon = b + i;
	if (!colon || colon == b)
		return false;
	size_t hlen = (size_t)(colon - b);
	if (b[0] == '[' ? (hlen < 3 || b[hlen - 1] != ']') : memchr(b, '[', hlen) != NULL)
		return false;
	for (size_t i = 0; i < hlen; i++)
		if (b[i] == '/' || b[i] == '@' || b[i] == ' ')
			return false;
	const char *p = colon + 1, *end = b + n;
	if (p == end || end - p > 5)
		return false;
	long port = 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		port = port * 10 + (*p - '0');
	}
	return port >= 1 && port <= 65535;
}

int ing_kafka_parse_url(const char *url, char **brokers, char **topic, floe_error *err)
{
	*brokers = *topic = NULL;
	if (!url || strncmp(url, URL_PREFIX, strlen(URL_PREFIX)) != 0)
		return url_error(err, url ? url : "", "it does not start with " URL_PREFIX);
	const char *rest = url + strlen(URL_PREFIX);
	const char *slash = strchr(rest, '/');
	if (!slash)
		return url_error(err, url, "no /TOPIC after the brokers");
	if (slash == rest)
		return url_error(err, url, "no brokers");
	for (const char *b = rest;;) {
		const char *comma = memchr(b, ',', (size_t)(slash - b));
		const char *e = comma ? comma : slash;
		if (!broker_ok(b, (size_t)(e - b))) {
			char why[320];
			snprintf(why, sizeof why, "broker '%.*s' is not HOST:PORT (port 1-65535)",
			         (int)(e - b > 200 ? 200 : e - b), b);
			return url_error(err, url, why);
		}
		if (!comma)
			break;
		b = comma + 1;
	}
	const char *t = slash + 1;
	size_t tlen = strlen(t);
	if (tlen == 0)
		return url_error(err, url, "no topic after the '/'");
	if (tlen > TOPIC_MAX)
		return url_error(err, url, "the topic is longer than 249 characters");
	if (strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
		return url_error(err, url, "'.' and '..' are not topic names");
	for (size_t i = 0; i < tlen; i++) {
		char c = t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return url_error(err, url, "a topic name has only letters, digits, '.', '_' "
			                 "and '-'");
	}
	*brokers = strndup(rest, (size_t)(slash - rest));
	*topic = strdup(t);
	if (!*brokers || !*topic) {
		free(*brokers);
		free(*topic);
		*brokers = *topic = NULL;
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- settings ----------------------------------------------------------- */

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *val, floe_error *err)
{
	char errstr[256];
	rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, key, val, errstr, sizeof errstr);
	if (r == RD_KAFKA_CONF_OK)
		return 0;
	if (r == RD_KAFKA_CONF_UNKNOWN)
		return floe_error_set(err, FLOE_EINVALID, "Kafka setting '%s' is unknown to "
		                      "librdkafka %s: check its spelling (librdkafka's "
		                      "CONFIGURATION.md lists them)", key, rd_kafka_version_str());
	return floe_error_set(err, FLOE_EINVALID, "Kafka setting '%s=%s': %s", key, val, errstr);
}

/* A setting floe decides: `why` says where it comes from instead; `fixed`
 * (or NULL: any value is refused) is the only value accepted. */
typedef struct reserved_key {
	const char *key, *fixed, *why;
} reserved_key;

/* The user's "key=value" settings on top of floe's defaults. */
static int conf_apply_user(rd_kafka_conf_t *conf, const ing_kafka_conf *uc,
                           const reserved_key *reserved, floe_error *err)
{
	for (int i = 0; uc && i < uc->n; i++) {
		const char *kv = uc->kv[i];
		const char *eq = kv ? strchr(kv, '=') : NULL;
		if (!eq || eq == kv)
			return floe_error_set(err, FLOE_EINVALID, "Kafka setting '%s' is not KEY=VALUE",
			                      kv ? kv : "");
		char key[128];
		if ((size_t)(eq - kv) >= sizeof key)
			return floe_error_set(err, FLOE_EINVALID, "Kafka setting '%.60s...': the name is "
			                      "too long", kv);
		memcpy(key, kv, (size_t)(eq - kv));
		key[eq - kv] = '\0';
		for (const reserved_key *r = reserved; r && r->key; r++)
			if (strcmp(key, r->key) == 0 && !(r->fixed && strcasecmp(eq + 1, r->fixed) == 0))
				return floe_error_set(err, FLOE_EINVALID, "Kafka setting '%s' %s", key,
				                      r->why);
		int rc = conf_set(conf, key, eq + 1, err);
		if (rc)
			return rc;
	}
	return 0;
}

static void conf_get(rd_kafka_conf_t *conf, const char *key, char *buf, size_t cap)
{
	size_t n = cap;
	if (rd_kafka_conf_get(conf, key, buf, &n) != RD_KAFKA_CONF_OK)
		buf[0] = '\0';
}

static const reserved_key common_reserved[] = {
	{ "bootstrap.servers", NULL, "comes from the URL (" URL_FORM ")" },
	{ "metadata.broker.list", NULL, "comes from the URL (" URL_FORM ")" },
	{ NULL, NULL, NULL },
};

/* ---- producer ----------------------------------------------------------- */

struct ing_kafka_producer {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char *brokers, *topic;
	int64_t failed;    /* delivery failures not yet reported */
	char first[320];   /* the first of them */
	int64_t queued;    /* messages queued by send (to serve reports now and then) */
	rd_kafka_resp_err_t fatal;
};

/* Delivery report (served by rd_kafka_poll/flush in the caller's thread). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	(void)rk;
	ing_kafka_producer *p = opaque;
	if (!msg->err)
		return;
	if (p->failed++ == 0)
		snprintf(p->first, sizeof p->first, "partition %d: %s", (int)msg->partition,
		         rd_kafka_err2str(msg->err));
}

static void on_producer_error(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
	ing_kafka_producer *p = opaque;
	if (e == RD_KAFKA_RESP_ERR__FATAL) {
		char why[256];
		p->fatal = rd_kafka_fatal_error(rk, why, sizeof why);
		if (p->failed++ == 0)
			snprintf(p->first, sizeof p->first, "fatal producer error: %s", why);
	}
	(void)reason; /* others are retried by librdkafka; failures arrive as reports */
}

/* Failures reported since the last call, as one error. */
static int producer_failures(ing_kafka_producer *p, floe_error *err)
{
	if (!p->failed)
		return 0;
	int64_t n = p->failed;
	p->failed = 0;
	return floe_error_set(err, FLOE_EIO, "Kafka: %lld message(s) to topic %s were not "
	                      "delivered (first: %s); check that the brokers %s are up and "
	                      "the topic exists", (long long)n, p->topic, p->first, p->brokers);
}

int ing_kafka_producer_new(ing_kafka_producer **out, const char *url,
                           const ing_kafka_conf *conf, floe_error *err)
{
	*out = NULL;
	ing_kafka_producer *p = calloc(1, sizeof *p);
	rd_kafka_conf_t *kc = NULL;
	char errstr[512];
	int rc;
	if (!p)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	if ((rc = ing_kafka_parse_url(url, &p->brokers, &p->topic, err)))
		goto fail;
	kc = rd_kafka_conf_new();
	/* throughput defaults (docs/kafka.md); the user's settings go on top */
	static const char *const defaults[][2] = {
		{ "client.id", "floe" },
		{ "linger.ms", "5" },
		{ "batch.num.messages", "100000" },
		{ "queue.buffering.max.messages", "500000" },
		{ "queue.buffering.max.kbytes", "262144" },
		{ "compression.type", "lz4" },
		/* the partition of a key as the Java client computes it */
		{ "partitioner", "murmur2_random" },
		{ "enable.idempotence", "true" },
		{ "log.connection.close", "false" },
	};
	if ((rc = conf_set(kc, "bootstrap.servers", p->brokers, err)))
		goto fail;
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
		if ((rc = conf_set(kc, defaults[i][0], defaults[i][1], err)))
			goto fail;
	if ((rc = conf_apply_user(kc, conf, common_reserved, err)))
		goto fail;
	rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
	rd_kafka_conf_set_error_cb(kc, on_producer_error);
	rd_kafka_conf_set_opaque(kc, p);
	if (!(p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, sizeof errstr))) {
		rc = floe_error_set(err, FLOE_EINVALID, "Kafka producer for %s: %s", url, errstr);
		goto fail;
	}
	kc = NULL; /* owned by p->rk now */
	if (!(p->rkt = rd_kafka_topic_new(p->rk, p->topic, NULL))) {
		rc = floe_error_set(err, FLOE_EIO, "Kafka producer for %s: %s", url,
		                    rd_kafka_err2str(rd_kafka_last_error()));
		goto fail;
	}
	*out = p;
	return 0;
fail:
	if (kc)
		rd_kafka_conf_destroy(kc);
	ing_kafka_producer_free(p);
	return rc;
}

int ing_kafka_producer_send(ing_kafka_producer *p, const void *key, size_t key_len,
                            const void *value, size_t len, floe_error *err)
{
	if ((p->queued & 1023) == 0)
		rd_kafka_poll(p->rk, 0); /* serve delivery reports now and then */
	int rc = producer_failures(p, err);
	if (rc)
		return rc;
	for (;;) {
		rd_kafka_resp_err_t e = rd_kafka_producev(
			p->rk, RD_KAFKA_V_RKT(p->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_KEY(key, key ? key_len : 0), RD_KAFKA_V_VALUE((void *)value, len),
			RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			break;
		if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			/* backpressure: wait for deliveries to make room */
			rd_kafka_poll(p->rk, 10);
			if ((rc = producer_failures(p, err)))
				return rc;
			continue;
		}
		if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
			return floe_error_set(err, FLOE_EINVALID, "Kafka: a message of %zu bytes is "
			                      "larger than message.max.bytes; raise it (and the "
			                      "topic's max.message.bytes) or send smaller records",
			                      len + key_len);
		return floe_error_set(err, FLOE_EIO, "Kafka: cannot queue a message for topic %s: "
		                      "%s", p->topic, rd_kafka_err2str(e));
	}
	p->queued++;
	return 0;
}

int ing_kafka_producer_flush(ing_kafka_producer *p, int timeout_ms, floe_error *err)
{
	rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, timeout_ms);
	int rc = producer_failures(p, err);
	if (rc)
		return rc;
	if (e == RD_KAFKA_RESP_ERR__TIMED_OUT)
		return floe_error_set(err, FLOE_EIO, "Kafka: %d message(s) to topic %s still not "
		                      "delivered after %d ms; check that the brokers %s are up",
		                      rd_kafka_outq_len(p->rk), p->topic, timeout_ms, p->brokers);
	if (e)
		return floe_error_set(err, FLOE_EIO, "Kafka: flush to topic %s: %s", p->topic,
		                      rd_kafka_err2str(e));
	return 0;
}

void ing_kafka_producer_free(ing_kafka_producer *p)
{
	if (!p)
		return;
	if (p->rkt)
		rd_kafka_topic_destroy(p->rkt);
	if (p->rk) {
		/* whatever was not flushed is dropped, not waited for */
		rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(p->rk, 0);
		rd_kafka_destroy(p->rk);
	}
	free(p->brokers);
	free(p->topic);
	free(p);
}

/* ---- consumer source ---------------------------------------------------- */

typedef struct kpart {
	int64_t next;  /* next offset to hand out, -1 unknown (starts at the reset offset) */
	int64_t bound; /* bounded: end offset recorded by bound(); -1 not in the bound */
	bool assigned;
} kpart;

typedef struct ksrc {
	ing_source base;
	rd_kafka_t *rk;
	rd_kafka_queue_t *q; /* the consumer queue (main queue forwarded to it) */
	char *brokers, *topic;
	int64_t reset;       /* start offset of partitions the table does not name */
	kpart *parts;        /* by partition number */
	int nparts;
	bool started, assigned_once, bounded;
	int bound_wait_ms;
	rd_kafka_message_t *batch[BATCH];
	int nbatch, ibatch;
	int64_t avg_len;     /* running mean of message sizes, sizing the batches */
	rd_kafka_message_t *held; /* the record handed out last */
	int fail_code;       /* an error met in a callback, returned by the next poll */
	char fail[400];
	char trouble[300];   /* the last transient broker error since progress */
	int64_t trouble_since_ms;
} ksrc;

static int parts_grow(ksrc *s, int32_t partition)
{
	if (partition < 0 || partition >= MAX_PARTITIONS)
		return FLOE_EINVALID;
	if (partition < s->nparts)
		return 0;
	int n = s->nparts ? s->nparts : 16;
	while (n <= partition)
		n *= 2;
	kpart *np = realloc(s->parts, (size_t)n * sizeof *np);
	if (!np)
		return FLOE_ENOMEM;
	for (int i = s->nparts; i < n; i++)
		np[i] = (kpart){ -1, -1, false };
	s->parts = np;
	s->nparts = n;
	return 0;
}

static void set_fail(ksrc *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_fail(ksrc *s, int code, const char *fmt, ...)
{
	if (s->fail_code)
		return; /* the first error is the one to report */
	va_list ap;
	va_start(ap, fmt);
	s->fail_code = code;
	vsnprintf(s->fail, sizeof s->fail, fmt, ap);
	va_end(ap);
}

static void progress(ksrc *s)
{
	s->trouble[0] = '\0';
	s->trouble_since_ms = 0;
}

static void trouble(ksrc *s, const char *reason)
{
	snprintf(s->trouble, sizeof s->trouble, "%s", reason);
	if (!s->trouble_since_ms)
		s->trouble_since_ms = mono_ms();
}

/* Errors librdkafka recovers from by itself (reconnects, leader moves,
 * coordinator changes): retried, not surfaced. */
static bool transient(rd_kafka_resp_err_t e)
{
	switch (e) {
	case RD_KAFKA_RESP_ERR__TRANSPORT:
	case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
	case RD_KAFKA_RESP_ERR__TIMED_OUT:
	case RD_KAFKA_RESP_ERR__RESOLVE:
	case RD_KAFKA_RESP_ERR__WAIT_COORD:
	case RD_KAFKA_RESP_ERR__NODE_UPDATE:
	case RD_KAFKA_RESP_ERR__PARTIAL:
	case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
	case RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED:
	case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
	case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
	case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
	case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
	case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
	case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
	case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
	case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
	case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
	case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
	case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
	case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
	case RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND:
	case RD_KAFKA_RESP_ERR_INVALID_FETCH_SESSION_EPOCH:
	case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
	case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
	case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
		return true;
	default:
		return false;
	}
}

/* Client-wide errors (served in the caller's thread): fatal ones and
 * refused credentials are surfaced, the rest are retried by librdkafka. */
static void on_consumer_error(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
	ksrc *s = opaque;
	if (e == RD_KAFKA_RESP_ERR__FATAL) {
		char why[300];
		rd_kafka_fatal_error(rk, why, sizeof why);
		set_fail(s, FLOE_EIO, "Kafka consumer of %s failed: %s", s->topic, why);
	} else if (e == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
	           e == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
	           e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
	           e == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
		set_fail(s, FLOE_EIO, "Kafka refused the consumer of %s: %s; check the "
		         "security.protocol, sasl.* and ssl.* settings and the ACLs", s->topic,
		         reason);
	} else {
		trouble(s, reason);
	}
}

/* A new assignment starts each partition at the table's next offset, else
 * at the reset offset; a revocation forgets the assignment but keeps the
 * offsets (the partition may come back). Runs inside poll and close. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                         rd_kafka_topic_partition_list_t *tl, void *opaque)
{
	ksrc *s = opaque;
	/* NULL while no protocol is in effect (a revocation during close) */
	const char *proto = rd_kafka_rebalance_protocol(rk);
	bool coop = proto && strcmp(proto, "COOPERATIVE") == 0;
	rd_kafka_error_t *ae = NULL;
	rd_kafka_resp_err_t re = RD_KAFKA_RESP_ERR_NO_ERROR;
	if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		for (int i = 0; i < tl->cnt; i++) {
			rd_kafka_topic_partition_t *tp = &tl->elems[i];
			if (strcmp(tp->topic, s->topic) != 0 || parts_grow(s, tp->partition)) {
				tp->offset = s->reset;
				continue;
			}
			kpart *kp = &s->parts[tp->partition];
			tp->offset = kp->next >= 0 ? kp->next : s->reset;
			kp->assigned = true;
		}
		if (coop)
			ae = rd_kafka_incremental_assign(rk, tl);
		else
			re = rd_kafka_assign(rk, tl);
		s->assigned_once = true;
		progress(s);
	} else {
		if (e == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
			for (int i = 0; i < tl->cnt; i++)
				if (tl->elems[i].partition >= 0 && tl->elems[i].partition < s->nparts &&
				    strcmp(tl->elems[i].topic, s->topic) == 0)
					s->parts[tl->elems[i].partition].assigned = false;
		} else {
			set_fail(s, FLOE_EIO, "Kafka consumer group rebalance for %s failed: %s",
			         s->topic, rd_kafka_err2str(e));
			for (int i = 0; i < s->nparts; i++)
				s->parts[i].assigned = false;
		}
		if (coop && e == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
			ae = rd_kafka_incremental_unassign(rk, tl);
		else
			re = rd_kafka_assign(rk, NULL);
	}
	if (ae) {
		set_fail(s, FLOE_EIO, "Kafka assignment of %s failed: %s", s->topic,
		         rd_kafka_error_string(ae));
		rd_kafka_error_destroy(ae);
	} else if (re) {
		set_fail(s, FLOE_EIO, "Kafka assignment of %s failed: %s", s->topic,
		         rd_kafka_err2str(re));
	}
}

static int ksrc_start(ing_source *src, const ing_pos *from, floe_error *err)
{
	ksrc *s = (ksrc *)src;
	if (s->started)
		return floe_error_set(err, FLOE_EINVALID, "the Kafka source of %s is already "
		                      "started", s->topic);
	if (from && from->kind == ING_POS_CURSOR)
		return floe_error_set(err, FLOE_EINVALID, "the saved position of %s is a file "
		                      "cursor, not Kafka partition offsets", s->base.label);
	for (int i = 0; from && from->kind == ING_POS_PARTS && i < from->nparts; i++) {
		const ing_part_off *po = &from->parts[i];
		if (po->next < 0 || parts_grow(s, po->partition))
			return floe_error_set(err, FLOE_ECORRUPT, "the saved position of %s names "
			                      "partition %d at offset %lld, which Kafka cannot have",
			                      s->base.label, (int)po->partition, (long long)po->next);
		s->parts[po->partition].next = po->next;
	}
	rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(tl, s->topic, RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t e = rd_kafka_subscribe(s->rk, tl);
	rd_kafka_topic_partition_list_destroy(tl);
	if (e)
		return floe_error_set(err, FLOE_EIO, "Kafka: cannot subscribe to %s: %s",
		                      s->topic, rd_kafka_err2str(e));
	s->started = true;
	return 0;
}

/* Every assigned partition is at its bound (bounded mode, after the first
 * assignment: an empty assignment ends at once). */
static bool at_end(const ksrc *s)
{
	if (!s->bounded || !s->assigned_once)
		return false;
	for (int i = 0; i < s->nparts; i++) {
		const kpart *kp = &s->parts[i];
		if (kp->assigned && kp->bound > 0 && kp->next < kp->bound)
			return false;
	}
	return true;
}

/* One message or event from the queue: 1 = a record (in *out, message now
 * held), 0 = used up (destroyed), negative = an error to return. */
static int take(ksrc *s, rd_kafka_message_t *m, ing_record *out, floe_error *err)
{
	int32_t p = m->partition;
	kpart *kp = p >= 0 && p < s->nparts ? &s->parts[p] : NULL;
	bool ours = m->rkt && strcmp(rd_kafka_topic_name(m->rkt), s->topic) == 0;
	if (m->err) {
		rd_kafka_resp_err_t e = m->err;
		if (e == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			/* everything before m->offset was handed out or skipped by
			 * librdkafka (transaction markers, compaction): go on from
			 * there, but never past the bound (later messages were dropped) */
			if (ours && kp && kp->assigned) {
				int64_t o = m->offset;
				if (s->bounded && o > kp->bound)
					o = kp->bound < 0 ? kp->next : kp->bound;
				if (o > kp->next)
					kp->next = o;
				progress(s);
			}
		} else if (transient(e)) {
			trouble(s, rd_kafka_message_errstr(m));
		} else {
			int code = e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? FLOE_ENOTFOUND
			                                                        : FLOE_EIO;
			floe_error_set(err, code, "Kafka consumer of %s: %s%s", s->topic,
			               rd_kafka_message_errstr(m), code == FLOE_ENOTFOUND ?
			               "; create the topic or check the URL" : "");
			rd_kafka_message_destroy(m);
			return code;
		}
		rd_kafka_message_destroy(m);
		return 0;
	}
	/* The offset test is a second guard: assignments already start at
	 * kp->next, but a message fetched before a rebalance may still sit in
	 * the batch. */
	if (!ours || !kp || !kp->assigned ||              /* revoked meanwhile */
	    (kp->next >= 0 && m->offset < kp->next) ||    /* already handed out */
	    (s->bounded && m->offset >= kp->bound)) {     /* after the bound */
		rd_kafka_message_destroy(m);
		return 0;
	}
	kp->next = m->offset + 1;
	rd_kafka_timestamp_type_t tt;
	int64_t ts = rd_kafka_message_timestamp(m, &tt);
	out->data = m->payload ? (const char *)m->payload : "";
	out->len = m->payload ? m->len : 0;
	out->key = m->key;
	out->key_len = m->key ? m->key_len : 0;
	out->partition = p;
	out->offset = m->offset;
	out->file = NULL;
	out->timestamp_ms = tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts;
	out->header = false;
	out->truncated = false;
	s->held = m;
	if (s->trouble_since_ms)
		progress(s);
	return 1;
}

static int ksrc_poll(ing_source *src, ing_record *out, int timeout_ms, floe_error *err)
{
	ksrc *s = (ksrc *)src;
	if (s->held) {
		rd_kafka_message_destroy(s->held);
		s->held = NULL;
	}
	if (!s->started)
		return floe_error_set(err, FLOE_EINVALID, "the Kafka source of %s is not started",
		                      s->topic);
	int64_t deadline = -1; /* set when first needed: most polls take a held message */
	for (;;) {
		while (s->ibatch < s->nbatch) {
			rd_kafka_message_t *m = s->batch[s->ibatch++];
			int rc = take(s, m, out, err);
			if (rc != 0)
				return rc < 0 ? rc : ING_POLL_RECORD;
		}
		s->nbatch = s->ibatch = 0;
		if (s->fail_code)
			return floe_error_set(err, s->fail_code, "%s", s->fail);
		if (at_end(s))
			return ING_POLL_END;
		/* what has arrived, without waiting; callbacks are served here.
		 * One call per batch rather than one rd_kafka_consumer_poll per
		 * message (docs/kafka.md has the figures). */
		int64_t want = BATCH_BYTES / (s->avg_len > 0 ? s->avg_len : 1);
		ssize_t n = rd_kafka_consume_batch_queue(s->q, 0, s->batch,
		                                         want < 1 ? 1 : want > BATCH ? BATCH
		                                                                     : (size_t)want);
		if (n < 0)
			return floe_error_set(err, FLOE_EIO, "Kafka consumer of %s: %s", s->topic,
			                      rd_kafka_err2str(rd_kafka_last_error()));
		if (n > 0) {
			int64_t bytes = 0;
			for (ssize_t i = 0; i < n; i++)
				bytes += (int64_t)s->batch[i]->len + (int64_t)s->batch[i]->key_len;
			s->avg_len = (s->avg_len * 3 + bytes / n) / 4 + 1;
			s->nbatch = (int)n;
			continue;
		}
		if (deadline < 0)
			deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
		int64_t left = deadline - mono_ms();
		if (s->bounded && s->trouble_since_ms &&
		    mono_ms() - s->trouble_since_ms > (int64_t)STALL_FACTOR * s->bound_wait_ms)
			return floe_error_set(err, FLOE_EIO, "Kafka brokers %s: no progress for %d s "
			                      "(%s); check that they are up and reachable",
			                      s->brokers, STALL_FACTOR * s->bound_wait_ms / 1000,
			                      s->trouble);
		if (left <= 0)
			return ING_POLL_IDLE;
		/* nothing there: wait for one message or event */
		rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, left > 100 ? 100 : (int)left);
		if (m) {
			s->batch[0] = m;
			s->nbatch = 1;
		}
	}
}

static int ksrc_position(ing_source *src, ing_pos *out, floe_error *err)
{
	ksrc *s = (ksrc *)src;
	ing_pos t;
	ing_pos_init(&t);
	for (int i = 0; i < s->nparts; i++)
		if (s->parts[i].next >= 0 && ing_pos_set_part(&t, i, s->parts[i].next)) {
			ing_pos_free(&t);
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		}
	ing_pos_free(out);
	*out = t;
	return 0;
}

static int ksrc_committed(ing_source *src, const ing_pos *pos, floe_error *err)
{
	ksrc *s = (ksrc *)src;
	if (!pos || pos->kind != ING_POS_PARTS || pos->nparts == 0)
		return 0;
	rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(pos->nparts);
	for (int i = 0; i < pos->nparts; i++)
		rd_kafka_topic_partition_list_add(tl, s->topic, pos->parts[i].partition)->offset =
			pos->parts[i].next;
	rd_kafka_resp_err_t e = rd_kafka_commit(s->rk, tl, 1 /* async */);
	rd_kafka_topic_partition_list_destroy(tl);
	if (e)
		return floe_error_set(err, FLOE_EIO, "Kafka: cannot commit the offsets of %s to "
		                      "the consumer group: %s", s->topic, rd_kafka_err2str(e));
	return 0;
}

static int ksrc_bound(ing_source *src, floe_error *err)
{
	ksrc *s = (ksrc *)src;
	int64_t deadline = mono_ms() + s->bound_wait_ms;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(s->rk, s->topic, NULL);
	int rc = 0;
	if (!rkt)
		return floe_error_set(err, FLOE_EIO, "Kafka: topic %s: %s", s->topic,
		                      rd_kafka_err2str(rd_kafka_last_error()));
	rd_kafka_resp_err_t e = rd_kafka_metadata(s->rk, 0, rkt, &md, s->bound_wait_ms);
	if (e) {
		rc = floe_error_set(err, FLOE_EIO, "Kafka brokers %s: no metadata for topic %s "
		                    "within %d ms (%s); check that they are up and reachable",
		                    s->brokers, s->topic, s->bound_wait_ms, rd_kafka_err2str(e));
		goto done;
	}
	if (md->topic_cnt != 1 || md->topics[0].err) {
		e = md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
		bool missing = e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
		rc = floe_error_set(err, missing ? FLOE_ENOTFOUND : FLOE_EIO, "Kafka topic %s on "
		                    "%s: %s%s", s->topic, s->brokers, rd_kafka_err2str(e),
		                    missing ? "; create the topic or check the URL" : "");
		goto done;
	}
	const struct rd_kafka_metadata_topic *mt = &md->topics[0];
	for (int i = 0; i < s->nparts; i++)
		s->parts[i].bound = -1; /* partitions made later are not in the bound */
	for (int i = 0; i < mt->partition_cnt; i++) {
		int32_t p = mt->partitions[i].id;
		int64_t lo = -1, hi = -1, left = deadline - mono_ms();
		if ((rc = parts_grow(s, p))) {
			rc = floe_error_set(err, rc, "Kafka topic %s: partition %d out of range",
			                    s->topic, (int)p);
			goto done;
		}
		e = rd_kafka_query_watermark_offsets(s->rk, s->topic, p, &lo, &hi,
		                                     left > 0 ? (int)left : 1);
		if (e) {
			rc = floe_error_set(err, FLOE_EIO, "Kafka topic %s partition %d: no end offset "
			                    "within %d ms (%s); check that the brokers %s are up",
			                    s->topic, (int)p, s->bound_wait_ms, rd_kafka_err2str(e),
			                    s->brokers);
			goto done;
		}
		s->parts[p].bound = hi;
	}
	s->bounded = true;
done:
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return rc;
}

static int64_t ksrc_lag(ing_source *src)
{
	ksrc *s = (ksrc *)src;
	if (!s->assigned_once)
		return -1;
	int64_t lag = 0;
	for (int i = 0; i < s->nparts; i++) {
		const kpart *kp = &s->parts[i];
		if (!kp->assigned)
			continue;
		/* cached by librdkafka from fetch responses */
		int64_t lo = -1, hi = -1;
		if (rd_kafka_get_watermark_offsets(s->rk, s->topic, i, &lo, &hi) || hi < 0) {
			/* nothing fetched yet: the end bound() found will do */
			lo = -1;
			hi = kp->bound;
			if (hi == 0)
				continue; /* empty */
		}
		int64_t next = kp->next >= 0 ? kp->next : s->reset == RD_KAFKA_OFFSET_END ? hi : lo;
		if (hi < 0 || next < 0)
			return -1;
		if (hi > next)
			lag += hi - next;
	}
	return lag;
}

static void ksrc_close(ing_source *src)
{
	ksrc *s = (ksrc *)src;
	if (!s)
		return;
	if (s->held)
		rd_kafka_message_destroy(s->held);
	for (int i = s->ibatch; i < s->nbatch; i++)
		rd_kafka_message_destroy(s->batch[i]);
	if (s->q)
		rd_kafka_queue_destroy(s->q);
	if (s->rk) {
		if (s->started)
			rd_kafka_consumer_close(s->rk); /* leaves the group; commits nothing */
		rd_kafka_destroy(s->rk);
	}
	free(s->parts);
	free(s->brokers);
	free(s->topic);
	free(s);
}

static const ing_source_ops ksrc_ops = {
	.start = ksrc_start,
	.poll = ksrc_poll,
	.position = ksrc_position,
	.committed = ksrc_committed,
	.bound = ksrc_bound,
	.lag = ksrc_lag,
	.close = ksrc_close,
};

static const reserved_key consumer_reserved[] = {
	{ "bootstrap.servers", NULL, "comes from the URL (" URL_FORM ")" },
	{ "metadata.broker.list", NULL, "comes from the URL (" URL_FORM ")" },
	{ "group.id", NULL, "comes from the consumer group argument (floe ingest --group)" },
	{ "enable.auto.commit", "false", "must stay false: the table holds the positions" },
	{ "enable.auto.offset.store", "false", "must stay false: the table holds the positions" },
	{ "enable.partition.eof", "true", "must stay true: floe uses it to find the end of a "
	  "partition" },
	{ NULL, NULL, NULL },
};

int ing_source_kafka(ing_source **out, const char *url, const char *group,
                     const ing_kafka_conf *conf, floe_error *err)
{
	*out = NULL;
	ksrc *s = calloc(1, sizeof *s);
	rd_kafka_conf_t *kc = NULL;
	char errstr[512], val[64];
	int rc;
	if (!s)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	s->base.ops = &ksrc_ops;
	if ((rc = ing_kafka_parse_url(url, &s->brokers, &s->topic, err)))
		goto fail;
	snprintf(s->base.id, sizeof s->base.id, "kafka:%s", s->topic);
	snprintf(s->base.label, sizeof s->base.label, "%s", url);
	if (!group || !*group)
		group = "floe-ingest";
	kc = rd_kafka_conf_new();
	static const char *const defaults[][2] = {
		{ "client.id", "floe" },
		{ "auto.offset.reset", "earliest" },
		/* fetch big and often, but keep the local queue to 32 MiB: with
		 * 64 MiB a 10-million-message backlog peaked near 300 MiB of RSS
		 * (docs/performance.md); --kafka-conf raises it */
		{ "fetch.max.bytes", "33554432" },
		{ "max.partition.fetch.bytes", "8388608" },
		{ "queued.max.messages.kbytes", "32768" },
		{ "queued.min.messages", "500000" },
		{ "fetch.wait.max.ms", "100" },
		{ "log.connection.close", "false" },
	};
	if ((rc = conf_set(kc, "bootstrap.servers", s->brokers, err)) ||
	    (rc = conf_set(kc, "group.id", group, err)))
		goto fail;
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
		if ((rc = conf_set(kc, defaults[i][0], defaults[i][1], err)))
			goto fail;
	if ((rc = conf_apply_user(kc, conf, consumer_reserved, err)))
		goto fail;
	/* what floe's positions need (and consumer_reserved keeps) */
	if ((rc = conf_set(kc, "enable.auto.commit", "false", err)) ||
	    (rc = conf_set(kc, "enable.auto.offset.store", "false", err)) ||
	    (rc = conf_set(kc, "enable.partition.eof", "true", err)))
		goto fail;
	conf_get(kc, "auto.offset.reset", val, sizeof val);
	if (!strcmp(val, "smallest") || !strcmp(val, "earliest") || !strcmp(val, "beginning"))
		s->reset = RD_KAFKA_OFFSET_BEGINNING;
	else if (!strcmp(val, "largest") || !strcmp(val, "latest") || !strcmp(val, "end"))
		s->reset = RD_KAFKA_OFFSET_END;
	else
		s->reset = RD_KAFKA_OFFSET_INVALID; /* "error": librdkafka reports it */
	conf_get(kc, "socket.timeout.ms", val, sizeof val);
	s->bound_wait_ms = atoi(val) > 0 && atoi(val) < BOUND_WAIT_MS ? atoi(val) : BOUND_WAIT_MS;
	rd_kafka_conf_set_rebalance_cb(kc, on_rebalance);
	rd_kafka_conf_set_error_cb(kc, on_consumer_error);
	rd_kafka_conf_set_opaque(kc, s);
	if (!(s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, errstr, sizeof errstr))) {
		rc = floe_error_set(err, FLOE_EINVALID, "Kafka consumer for %s: %s", url, errstr);
		goto fail;
	}
	kc = NULL; /* owned by s->rk now */
	rd_kafka_poll_set_consumer(s->rk);
	if (!(s->q = rd_kafka_queue_get_consumer(s->rk))) {
		rc = floe_error_set(err, FLOE_EIO, "Kafka consumer for %s has no queue", url);
		goto fail;
	}
	*out = &s->base;
	return 0;
fail:
	if (kc)
		rd_kafka_conf_destroy(kc);
	ksrc_close(&s->base);
	return rc;
}
