/* tests/ingest/kafka_mock.h - Kafka for tests: librdkafka's in-process mock
 * cluster on 127.0.0.1 (reachable over TCP from child processes such as
 * kcat or `floe ingest`), and producing and reading messages with plain
 * librdkafka or kcat, independent of floe's own producer and source.
 *
 * Start the mock inside the test (each test is a forked process; the mock's
 * threads belong to it). Limits of the librdkafka 2.0.2 mock: a partition
 * keeps at most 5 MiB / 100,000 message sets (older ones are dropped); a
 * consumer rejoining a group it just left waits session.timeout.ms (use a
 * fresh group id per consumer, or session.timeout.ms=6000); topics come from
 * th_kafka_mock_start / th_kafka_mock_add_topic (no CreateTopics).
 *
 * Every helper returning int gives 0, or -1 after recording a test failure
 * that says what went wrong (so callers only REQUIRE(... == 0)). */
#ifndef FLOE_TESTS_KAFKA_MOCK_H
#define FLOE_TESTS_KAFKA_MOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct th_kafka_mock {
	void *rk;          /* rd_kafka_t owning the cluster */
	void *mc;          /* rd_kafka_mock_cluster_t */
	char topic[128];   /* the topic made by start */
	int partitions;
	char bootstrap[128]; /* "127.0.0.1:PORT" */
	char url[512];       /* "kafka://127.0.0.1:PORT/TOPIC" */
} th_kafka_mock;

/* Start a one-broker mock cluster with `topic` of `partitions` partitions. */
int th_kafka_mock_start(th_kafka_mock *m, const char *topic, int partitions);
/* Another topic on the same cluster. */
int th_kafka_mock_add_topic(th_kafka_mock *m, const char *topic, int partitions);
/* From now on the cluster answers "unknown topic or partition" for `topic`
 * (the 2.0.2 mock creates any topic a client asks for: its Metadata v0-v2
 * has no AllowAutoTopicCreation flag, so this is how a missing topic looks). */
void th_kafka_mock_topic_unknown(th_kafka_mock *m, const char *topic);
/* Stop the cluster (clients still connected see their connections close);
 * accepts a zeroed or already stopped mock. */
void th_kafka_mock_stop(th_kafka_mock *m);

/* Produce values lines[0..n-1] to m->topic with plain librdkafka and wait
 * until all are delivered. keys: NULL (no keys) or one per line; partition:
 * a partition number, -1 to partition by key (librdkafka's default
 * partitioner), or TH_KAFKA_ROUND_ROBIN for message i to partition
 * i % m->partitions. */
#define TH_KAFKA_ROUND_ROBIN (-2)
int th_kafka_produce(const th_kafka_mock *m, const char *const *lines, int n,
                     const char *const *keys, int32_t partition);
/* The same through a kcat subprocess (`kcat -P -b BOOTSTRAP -t TOPIC [-K:]`
 * reading a file in the test's temp dir): keys NULL or one per line without
 * ':' and newlines; lines without newlines. */
int th_kafka_produce_kcat(const th_kafka_mock *m, const char *const *lines, int n,
                          const char *const *keys);

/* One message read back. */
typedef struct th_kafka_msg {
	int32_t partition;
	int64_t offset;
	char *key;   /* NUL-terminated copy, NULL when the message has none */
	char *value; /* NUL-terminated copy ("" for a null value) */
	size_t len;
} th_kafka_msg;

typedef struct th_kafka_msgs {
	th_kafka_msg *m;
	int n, cap;
} th_kafka_msgs;

/* Every message of `topic` (NULL: m->topic), partition by partition in
 * offset order, read with a plain assigned consumer (no group). */
int th_kafka_read_all(const th_kafka_mock *m, const char *topic, th_kafka_msgs *out);
void th_kafka_msgs_free(th_kafka_msgs *msgs);

/* High watermark (next offset to be written) of a partition of m->topic. */
int th_kafka_high(const th_kafka_mock *m, int32_t partition, int64_t *high);
/* Offset committed by consumer group `group` for a partition of m->topic,
 * asked by a separate consumer (rd_kafka_committed); -1 when none. */
int th_kafka_committed(const th_kafka_mock *m, const char *group, int32_t partition,
                       int64_t *offset);

/* A group id no other test uses: "PREFIX-PID-N" into buf. */
const char *th_kafka_group(char *buf, size_t cap, const char *prefix);

#endif
