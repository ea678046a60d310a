/* bench/bench_ingest_kafka.c - the Kafka side of scripts/bench_ingest.sh: a
 * standalone librdkafka in-process mock cluster (listening on 127.0.0.1
 * only) that prints its bootstrap address and serves until SIGTERM/SIGINT,
 * and a watermark query that counts what a topic holds (to check how many
 * messages a producer really delivered).
 *
 *   bench_ingest_kafka mock TOPIC:PARTITIONS [TOPIC:PARTITIONS ...]
 *       prints "127.0.0.1:PORT" on stdout once the topics exist, then serves
 *   bench_ingest_kafka watermarks BOOTSTRAP TOPIC
 *       prints {"topic":..,"partitions":P,"low":L,"high":H} (sums over the
 *       partitions); high = messages ever produced, low = oldest kept
 *
 * The 2.0.2 mock keeps at most 5 MiB / 100,000 message sets per partition
 * and drops older data; the benchmark produces and consumes in chunks that
 * fit. Not a floe program: it links librdkafka only. */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_ingest_kafka mock TOPIC:PARTITIONS [TOPIC:PARTITIONS ...]\n"
	                "       bench_ingest_kafka watermarks BOOTSTRAP TOPIC\n");
	return 2;
}

/* "name:12" -> name (written into buf) and 12; -1 when malformed. */
static int parse_topic(const char *arg, char *buf, size_t n, int *parts)
{
	const char *colon = strrchr(arg, ':');
	if (!colon || colon == arg || (size_t)(colon - arg) >= n)
		return -1;
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end || p < 1 || p > 10000)
		return -1;
	memcpy(buf, arg, (size_t)(colon - arg));
	buf[colon - arg] = 0;
	*parts = (int)p;
	return 0;
}

static int run_mock(int argc, char **argv)
{
	char errstr[512];
	int rc = 1;
	rd_kafka_t *rk = NULL;
	rd_kafka_mock_cluster_t *mc = NULL;
	if (argc < 1)
		return usage();

	/* the cluster needs a client handle for its bookkeeping; this one is
	 * otherwise unused */
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "bench_ingest_kafka: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	if (!rk) {
		fprintf(stderr, "bench_ingest_kafka: cannot create the client handle: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, 1);
	if (!mc) {
		fprintf(stderr, "bench_ingest_kafka: cannot start the mock cluster (is a local "
		                "port free?)\n");
		goto done;
	}
	for (int i = 0; i < argc; i++) {
		char topic[256];
		int parts;
		if (parse_topic(argv[i], topic, sizeof topic, &parts)) {
			fprintf(stderr, "bench_ingest_kafka: '%s': want TOPIC:PARTITIONS, e.g. "
			                "trades:12\n", argv[i]);
			rc = 2;
			goto done;
		}
		rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topic, parts, 1);
		if (e) {
			fprintf(stderr, "bench_ingest_kafka: cannot create topic %s: %s\n", topic,
			        rd_kafka_err2str(e));
			goto done;
		}
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	/* the brokers run on librdkafka's threads; this one only waits */
	while (!stop_flag)
		usleep(100 * 1000);
	rc = 0;
done:
	if (mc)
		rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return rc;
}

static int run_watermarks(const char *bootstrap, const char *topic)
{
	char errstr[512];
	int rc = 1;
	rd_kafka_t *rk = NULL;
	const rd_kafka_metadata_t *md = NULL;
	rd_kafka_topic_t *rkt = NULL;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr) ||
	    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr)) {
		fprintf(stderr, "bench_ingest_kafka: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
	if (!rk) {
		fprintf(stderr, "bench_ingest_kafka: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
	if (e || md->topic_cnt != 1 || md->topics[0].err) {
		fprintf(stderr, "bench_ingest_kafka: no metadata for topic %s at %s: %s (is the "
		                "mock cluster running?)\n", topic, bootstrap,
		        rd_kafka_err2str(e ? e : md->topic_cnt ? md->topics[0].err
		                                              : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
		goto done;
	}
	int64_t low = 0, high = 0;
	int parts = md->topics[0].partition_cnt;
	for (int i = 0; i < parts; i++) {
		int64_t lo, hi;
		e = rd_kafka_query_watermark_offsets(rk, topic, md->topics[0].partitions[i].id, &lo,
		                                     &hi, 10000);
		if (e) {
			fprintf(stderr, "bench_ingest_kafka: watermarks of %s[%d]: %s\n", topic,
			        md->topics[0].partitions[i].id, rd_kafka_err2str(e));
			goto done;
		}
		low += lo;
		high += hi;
	}
	printf("{\"topic\":\"%s\",\"partitions\":%d,\"low\":%" PRId64 ",\"high\":%" PRId64 "}\n",
	       topic, parts, low, high);
	rc = 0;
done:
	if (md)
		rd_kafka_metadata_destroy(md);
	if (rkt)
		rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "mock") == 0)
		return run_mock(argc - 2, argv + 2);
	if (argc == 4 && strcmp(argv[1], "watermarks") == 0)
		return run_watermarks(argv[2], argv[3]);
	return usage();
}
