/* cli/ingest_cmd.c - `floe ingest TABLE --from SOURCE`: the streaming ingest
 * runner on the command line, with a live progress line on a terminal and
 * JSON-lines status on stderr otherwise; SIGINT/SIGTERM commit the batch in
 * progress and exit 0. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "floe/catalog.h"
#include "floe/ingest.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

typedef struct status_ctx {
	bool tty;
	const char *table;
} status_ctx;

static void fmt_count(char *buf, size_t n, double v)
{
	if (v >= 1e9)
		snprintf(buf, n, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, n, "%.2fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, n, "%.1fk", v / 1e3);
	else
		snprintf(buf, n, "%.0f", v);
}

static void on_status(void *ctx, const floe_ingest_status *st)
{
	status_ctx *c = ctx;
	if (c->tty) {
		char rows[32], rate[32], lag[32], fresh[48] = "-";
		fmt_count(rows, sizeof rows, (double)st->rows);
		fmt_count(rate, sizeof rate, st->rows_per_s);
		if (st->lag >= 0)
			fmt_count(lag, sizeof lag, (double)st->lag);
		else
			snprintf(lag, sizeof lag, "?");
		if (st->freshness_p99_ms >= 0)
			snprintf(fresh, sizeof fresh, "%.0f/%.0f ms", st->freshness_p50_ms,
			         st->freshness_p99_ms);
		char when[32] = "-";
		if (st->last_commit_ms > 0) {
			time_t t = (time_t)(st->last_commit_ms / 1000);
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(when, sizeof when, "%H:%M:%SZ", &tm);
		}
		fprintf(stderr, "\r\033[K%s: %s rows (%" PRId64 " rejected), %s/s, lag %s, "
		        "batches %" PRId64 ", last commit %s, freshness p50/p99 %s",
		        c->table, rows, st->rejected, rate, lag, st->batches, when, fresh);
		if (strcmp(st->event, "stop") == 0)
			fputc('\n', stderr);
		fflush(stderr);
		return;
	}
	fprintf(stderr,
	        "{\"event\":\"%s\",\"table\":\"%s\",\"batches\":%" PRId64 ",\"rows\":%" PRId64
	        ",\"rejected\":%" PRId64 ",\"skipped\":%" PRId64 ",\"bytes\":%" PRId64
	        ",\"rows_per_s\":%.1f,\"lag\":%" PRId64 ",\"snapshot_id\":%" PRId64
	        ",\"last_commit_ms\":%" PRId64 ",\"batch_rows\":%" PRId64
	        ",\"batch_rejected\":%" PRId64 ",\"freshness_p50_ms\":%.1f"
	        ",\"freshness_p99_ms\":%.1f,\"peak_rss_bytes\":%" PRId64 "}\n",
	        st->event, c->table, st->batches, st->rows, st->rejected, st->skipped, st->bytes,
	        st->rows_per_s, st->lag, st->last_snapshot_id, st->last_commit_ms, st->batch_rows,
	        st->batch_rejected, st->freshness_p50_ms, st->freshness_p99_ms, st->rss_bytes);
	fflush(stderr);
}

/* "250ms", "1s", "2m", or a bare number of milliseconds. */
static int parse_ms(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return -1;
	if (*end == 0 || strcmp(end, "ms") == 0)
		*out = (int64_t)v;
	else if (strcmp(end, "s") == 0)
		*out = (int64_t)(v * 1000);
	else if (strcmp(end, "m") == 0)
		*out = (int64_t)(v * 60000);
	else
		return -1;
	return *out > 0 ? 0 : -1;
}

static int parse_size(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0)
		return -1;
	int64_t mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1 << 20, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1 << 30, end++;
	if (*end == 'i' && mul > 1)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	*out = v * mul;
	return 0;
}

/* The record spec: --spec FILE, else the built-in one named by --kind or
 * by the table name's last part ("bronze.trades" -> trades). */
static int load_spec(floe_record_spec **spec, const floe_cli_cmd *cmd, const floe_cli_args *args,
                     const char *table)
{
	floe_error err;
	const char *file = floe_cli_opt_get(cmd, args, "spec");
	const char *kind = floe_cli_opt_get(cmd, args, "kind");
	if (file && kind)
		return floe_cli_usage(cmd, "give --spec FILE or --kind NAME, not both");
	if (file) {
		if (floe_record_spec_load(spec, file, &err))
			return floe_cli_fail("%s", err.msg);
		return 0;
	}
	char name[128];
	if (!kind) {
		const char *dot = strrchr(table, '.');
		snprintf(name, sizeof name, "%s", dot ? dot + 1 : table);
		kind = name;
	}
	if (floe_record_spec_builtin(spec, kind, &err)) {
		if (!floe_cli_opt_get(cmd, args, "kind"))
			return floe_cli_usage(cmd, "cannot tell what records %s holds: give --kind "
			                      "trades|quotes or --spec FILE", table);
		return floe_cli_fail("%s", err.msg);
	}
	return 0;
}

int floe_cli_ingest(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	const char *table = args->pos[0];
	floe_ingest_options o;
	floe_ingest_options_init(&o);
	o.table = table;
	const char *from[FLOE_CLI_MAX_REPEATS];
	int nfrom = floe_cli_opt_all(cmd, args, "from", from, FLOE_CLI_MAX_REPEATS);
	if (nfrom == 0)
		return floe_cli_usage(cmd, "--from SOURCE is required: kafka://HOST:PORT/TOPIC, "
		                      "files, a directory or -");
	o.source = from[0];
	o.files = from + 1;
	o.nfiles = nfrom - 1;
	for (int i = 1; i < nfrom; i++)
		if (strncmp(from[i], "kafka://", 8) == 0 || strcmp(from[i], "-") == 0)
			return floe_cli_usage(cmd, "several --from are only for files");
	o.format = floe_cli_opt_get(cmd, args, "format");
	if (!o.format) {
		size_t n = strlen(o.source);
		o.format = n > 4 && strcmp(o.source + n - 4, ".csv") == 0 ? "csv" : "ndjson";
	}
	const char *trig = floe_cli_opt_get(cmd, args, "trigger");
	if (trig) {
		if (strcmp(trig, "once") == 0)
			o.trigger = FLOE_TRIGGER_ONCE;
		else if (strcmp(trig, "available-now") == 0)
			o.trigger = FLOE_TRIGGER_AVAILABLE_NOW;
		else if (parse_ms(trig, &o.interval_ms))
			return floe_cli_usage(cmd, "--trigger %s: want an interval (500ms, 1s, 2m), "
			                      "once or available-now", trig);
	}
	const char *v;
	if ((v = floe_cli_opt_get(cmd, args, "max-batch-rows")) &&
	    (parse_size(v, &o.max_batch_rows)))
		return floe_cli_usage(cmd, "--max-batch-rows %s: want a positive number", v);
	if ((v = floe_cli_opt_get(cmd, args, "max-batch-bytes")) &&
	    (parse_size(v, &o.max_batch_bytes)))
		return floe_cli_usage(cmd, "--max-batch-bytes %s: want a size such as 64MiB", v);
	if ((v = floe_cli_opt_get(cmd, args, "max-batches"))) {
		if (parse_size(v, &o.max_batches))
			return floe_cli_usage(cmd, "--max-batches %s: want a positive number", v);
	}
	o.quarantine = floe_cli_opt_get(cmd, args, "quarantine");
	o.group = floe_cli_opt_get(cmd, args, "group");
	o.watch = floe_cli_opt_get(cmd, args, "watch") != NULL;
	const char *conf[FLOE_CLI_MAX_REPEATS];
	o.nkafka_conf = floe_cli_opt_all(cmd, args, "kafka-conf", conf, FLOE_CLI_MAX_REPEATS);
	o.kafka_conf = conf;

	floe_record_spec *spec;
	int rc = load_spec(&spec, cmd, args, table);
	if (rc)
		return rc;
	o.spec = spec;

	const char *wh = floe_cli_warehouse(cmd, args);
	floe_catalog *cat;
	floe_error err;
	if (floe_catalog_open(&cat, wh, NULL, &err) != 0) {
		floe_record_spec_free(spec);
		return floe_cli_fail("cannot open warehouse %s: %s (give another with --warehouse DIR "
		                     "or FLOE_WAREHOUSE)", wh, err.msg);
	}
	status_ctx sc = { isatty(2) != 0 && !floe_cli_opt_get(cmd, args, "json-status"), table };
	o.status = on_status;
	o.status_ctx = &sc;
	o.stop = &stop_flag;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	floe_ingest_result res;
	rc = floe_ingest_run(cat, &o, &res, &err);
	floe_catalog_close(cat);
	floe_record_spec_free(spec);
	if (rc) {
		if (err.code == FLOE_ECOMMIT_UNKNOWN)
			return floe_cli_fail("%s (the last batch may or may not be committed; running "
			                     "the same command again resumes exactly where the table "
			                     "says)", err.msg);
		return floe_cli_fail("%s (committed batches stay; the same command resumes after "
		                     "them)", err.msg);
	}
	printf("ingested %" PRId64 " rows into %s, %" PRId64 " rejected, in %" PRId64
	       " batches\n", res.rows, table, res.rejected, res.batches);
	return FLOE_CLI_OK;
}
