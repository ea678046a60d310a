/* ingest/kafka.h - Kafka through librdkafka: a producer (the simulator's
 * kafka:// output) and a consumer-group source for the ingest runner whose
 * positions (partition -> next offset) come from the table, not from the
 * group's committed offsets. Internal to libfloe. */
#ifndef FLOE_INGEST_KAFKA_H
#define FLOE_INGEST_KAFKA_H

#include <stddef.h>

#include "floe/error.h"
#include "ingest/source.h"

/* "kafka://HOST:PORT[,HOST:PORT...]/TOPIC" -> malloc'ed brokers and topic.
 * FLOE_EINVALID with a message naming the URL when it is not of that form. */
int ing_kafka_parse_url(const char *url, char **brokers, char **topic, floe_error *err);

/* librdkafka settings as "key=value" strings, passed through unchanged
 * (security.protocol, sasl.*, ssl.*, ...); errors name the bad setting. */
typedef struct ing_kafka_conf {
	const char *const *kv;
	int n;
} ing_kafka_conf;

typedef struct ing_kafka_producer ing_kafka_producer;

int ing_kafka_producer_new(ing_kafka_producer **out, const char *url,
                           const ing_kafka_conf *conf, floe_error *err);
/* Queue one message (copied) for the URL's topic, partitioned by key; waits
 * while librdkafka's queue is full (backpressure). Delivery failures
 * reported since the last call are returned as errors. */
int ing_kafka_producer_send(ing_kafka_producer *p, const void *key, size_t key_len,
                            const void *value, size_t len, floe_error *err);
/* Wait until every queued message is delivered (or timeout_ms passes: an
 * error saying how many are still in flight). */
int ing_kafka_producer_flush(ing_kafka_producer *p, int timeout_ms, floe_error *err);
void ing_kafka_producer_free(ing_kafka_producer *p);

/* A consumer in group `group` (NULL: "floe-ingest") for the URL's topic.
 * The source id is "kafka:TOPIC". */
int ing_source_kafka(ing_source **out, const char *url, const char *group,
                     const ing_kafka_conf *conf, floe_error *err);

#endif
