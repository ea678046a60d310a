/* cli/simulate_cmd.c - `floe simulate`: the stock market simulator on the
 * command line, paced to a rate or as fast as possible, writing NDJSON to
 * stdout, a file, a directory of rolled files (each written under a dot
 * name and renamed when complete) or a Kafka topic (key = symbol). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "floe/simulate.h"
#include "ingest/kafka.h"
#include "util/text.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* One destination: stdout, a file, a directory of rolled files, Kafka. */
typedef struct sink {
	const char *dest;
	FILE *f;
	bool is_dir, is_stdout;
	char dir[PATH_MAX];
	char tmp[PATH_MAX + 64], final[PATH_MAX + 64];
	const char *prefix; /* "trades" or "quotes" */
	int64_t roll, in_file;
	int seq;
	ing_kafka_producer *kafka;
	int64_t written;
} sink;

static int sink_fail(const sink *s, const char *what)
{
	return floe_cli_fail("%s: %s: %s", s->dest, what, strerror(errno));
}

static int open_next(sink *s)
{
	s->seq++;
	snprintf(s->final, sizeof s->final, "%s/%s-%06d.ndjson", s->dir, s->prefix, s->seq);
	snprintf(s->tmp, sizeof s->tmp, "%s/.%s-%06d.ndjson.tmp", s->dir, s->prefix, s->seq);
	s->f = fopen(s->tmp, "w");
	s->in_file = 0;
	if (!s->f)
		return sink_fail(s, "cannot create a file");
	setvbuf(s->f, NULL, _IOFBF, 1 << 20);
	return 0;
}

static int close_file(sink *s)
{
	if (!s->f)
		return 0;
	int rc = fflush(s->f) != 0 || fsync(fileno(s->f)) != 0;
	rc |= fclose(s->f) != 0;
	s->f = NULL;
	if (rc || rename(s->tmp, s->final) != 0)
		return sink_fail(s, "cannot complete a file");
	return 0;
}

static int sink_open(sink *s, const char *dest, const char *prefix, int64_t roll,
                     const ing_kafka_conf *kc)
{
	memset(s, 0, sizeof *s);
	s->dest = dest;
	s->prefix = prefix;
	s->roll = roll;
	if (strncmp(dest, "kafka://", 8) == 0) {
		floe_error err;
		if (ing_kafka_producer_new(&s->kafka, dest, kc, &err))
			return floe_cli_fail("%s", err.msg);
		return 0;
	}
	if (strcmp(dest, "-") == 0) {
		s->f = stdout;
		s->is_stdout = true;
		return 0;
	}
	size_t n = strlen(dest);
	struct stat st;
	if ((n > 0 && dest[n - 1] == '/') || (stat(dest, &st) == 0 && S_ISDIR(st.st_mode))) {
		snprintf(s->dir, sizeof s->dir, "%.*s", (int)(dest[n - 1] == '/' && n > 1 ? n - 1 : n),
		         dest);
		if (mkdir(s->dir, 0755) != 0 && errno != EEXIST)
			return sink_fail(s, "cannot create the directory");
		s->is_dir = true;
		/* go on after the files already there */
		for (;;) {
			char probe[PATH_MAX + 64];
			snprintf(probe, sizeof probe, "%s/%s-%06d.ndjson", s->dir, prefix, s->seq + 1);
			if (access(probe, F_OK) != 0)
				break;
			s->seq++;
		}
		return open_next(s);
	}
	s->f = fopen(dest, "w");
	if (!s->f)
		return sink_fail(s, "cannot create the file");
	setvbuf(s->f, NULL, _IOFBF, 1 << 20);
	return 0;
}

static int sink_write(sink *s, const char *key, const char *line, size_t len)
{
	s->written++;
	if (s->kafka) {
		floe_error err;
		if (ing_kafka_producer_send(s->kafka, key, strlen(key), line, len, &err))
			return floe_cli_fail("%s", err.msg);
		return 0;
	}
	if (s->is_dir && s->in_file >= s->roll) {
		int rc = close_file(s);
		if (!rc)
			rc = open_next(s);
		if (rc)
			return rc;
	}
	s->in_file++;
	if (fwrite(line, 1, len, s->f) != len || putc('\n', s->f) == EOF)
		return sink_fail(s, "write failed");
	return 0;
}

static int sink_close(sink *s)
{
	int rc = 0;
	if (s->kafka) {
		floe_error err;
		if (ing_kafka_producer_flush(s->kafka, 60000, &err))
			rc = floe_cli_fail("%s", err.msg);
		ing_kafka_producer_free(s->kafka);
		s->kafka = NULL;
	} else if (s->is_dir) {
		if (s->in_file == 0 && s->f) { /* nothing in the last file: drop it */
			fclose(s->f);
			s->f = NULL;
			unlink(s->tmp);
		}
		rc = close_file(s);
	} else if (s->f) {
		if (fflush(s->f) != 0)
			rc = sink_fail(s, "write failed");
		if (!s->is_stdout && fclose(s->f) != 0)
			rc = sink_fail(s, "write failed");
		s->f = NULL;
	}
	return rc;
}

static int parse_time_us(const char *text, int64_t *out)
{
	floe_type t = { .id = FLOE_TYPE_TIMESTAMPTZ };
	floe_value v;
	floe_buf scratch = { 0 };
	floe_error err;
	char buf[64];
	size_t n = strlen(text);
	/* a date alone is midnight UTC */
	if (n == 10 && snprintf(buf, sizeof buf, "%sT00:00:00Z", text) > 0)
		text = buf, n = strlen(buf);
	int rc = floe_text_parse(&v, &t, text, n, &scratch, &err);
	floe_buf_free(&scratch);
	if (rc)
		return -1;
	*out = v.i;
	return 0;
}

/* "30s", "500ms", "2m", "6.5h", "1d" -> microseconds. */
static int parse_dur_us(const char *text, int64_t *out)
{
	char *end;
	double v = strtod(text, &end);
	if (end == text || !(v >= 0))
		return -1;
	double mul = strcmp(end, "ms") == 0 ? 1e3 : strcmp(end, "s") == 0 || !*end ? 1e6
	             : strcmp(end, "m") == 0 ? 60e6 : strcmp(end, "h") == 0 ? 3600e6
	             : strcmp(end, "d") == 0 ? 86400e6 : -1;
	if (mul < 0)
		return -1;
	*out = (int64_t)(v * mul);
	return 0;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int floe_cli_simulate(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_sim_options o;
	floe_sim_options_init(&o);
	floe_error err;
	const char *v;
	char *end;
	if ((v = floe_cli_opt_get(cmd, args, "seed"))) {
		errno = 0;
		o.seed = strtoull(v, &end, 10);
		if (errno || *end || !*v)
			return floe_cli_usage(cmd, "--seed %s: want a non-negative integer", v);
	}
	if ((v = floe_cli_opt_get(cmd, args, "count"))) {
		errno = 0;
		o.count = strtoll(v, &end, 10);
		if (errno || *end || o.count <= 0)
			return floe_cli_usage(cmd, "--count %s: want a positive integer", v);
	}
	const char *syms[256];
	char symbuf[4096];
	if ((v = floe_cli_opt_get(cmd, args, "symbols"))) {
		if (strspn(v, "0123456789") == strlen(v)) {
			o.generated_symbols = atoi(v);
			if (o.generated_symbols <= 0 || o.generated_symbols > 100000)
				return floe_cli_usage(cmd, "--symbols %s: a count is 1 to 100000", v);
		} else {
			snprintf(symbuf, sizeof symbuf, "%s", v);
			for (char *t = strtok(symbuf, ","); t && o.nsymbols < 256; t = strtok(NULL, ","))
				syms[o.nsymbols++] = t;
			o.symbols = syms;
		}
	}
	if ((v = floe_cli_opt_get(cmd, args, "faults")) && floe_sim_parse_faults(&o, v, &err))
		return floe_cli_usage(cmd, "%s", err.msg);
	if ((v = floe_cli_opt_get(cmd, args, "late-by")) && parse_dur_us(v, &o.late_by_us))
		return floe_cli_usage(cmd, "--late-by %s: want a duration such as 30s or 2m", v);
	if ((v = floe_cli_opt_get(cmd, args, "start"))) {
		if (parse_time_us(v, &o.start_us))
			return floe_cli_usage(cmd, "--start %s: want YYYY-MM-DD[THH:MM:SS[.ffffff]][Z|+HH:MM]", v);
		o.sim_clock = true;
	}
	if ((v = floe_cli_opt_get(cmd, args, "end"))) {
		if (!o.sim_clock)
			return floe_cli_usage(cmd, "--end needs --start (a simulated clock)");
		if (parse_time_us(v, &o.end_us) || o.end_us <= o.start_us)
			return floe_cli_usage(cmd, "--end %s: want a time after --start", v);
	}
	if ((v = floe_cli_opt_get(cmd, args, "duration"))) {
		int64_t d;
		if (!o.sim_clock)
			return floe_cli_usage(cmd, "--duration needs --start (a simulated clock)");
		if (parse_dur_us(v, &d) || d <= 0)
			return floe_cli_usage(cmd, "--duration %s: want a duration such as 6.5h", v);
		o.end_us = o.start_us + d;
	}
	if ((v = floe_cli_opt_get(cmd, args, "sim-rate"))) {
		o.sim_rate = strtod(v, &end);
		if (*end || !(o.sim_rate > 0))
			return floe_cli_usage(cmd, "--sim-rate %s: want events per simulated second", v);
	}
	double rate = 0; /* 0: as fast as possible */
	bool bounded = o.count > 0 || o.end_us > 0 || o.sim_clock;
	if ((v = floe_cli_opt_get(cmd, args, "rate"))) {
		if (strcmp(v, "max") != 0) {
			rate = strtod(v, &end);
			if (*end || !(rate > 0))
				return floe_cli_usage(cmd, "--rate %s: want events per second, or max", v);
		}
	} else if (!bounded) {
		rate = 1000; /* a live feed */
	}
	const char *kind = floe_cli_opt_get(cmd, args, "kind");
	const char *to = floe_cli_opt_get(cmd, args, "to");
	const char *qto = floe_cli_opt_get(cmd, args, "quotes-to");
	if (!to)
		to = "-";
	if (kind && strcmp(kind, "trades") != 0 && strcmp(kind, "quotes") != 0)
		return floe_cli_usage(cmd, "--kind %s: want trades or quotes", kind);
	bool primary_quotes = kind && strcmp(kind, "quotes") == 0;
	if (qto && primary_quotes)
		return floe_cli_usage(cmd, "--quotes-to goes with --kind trades (the default)");
	o.trades = !primary_quotes;
	o.quotes = primary_quotes || qto;
	int64_t roll = 1000000;
	if ((v = floe_cli_opt_get(cmd, args, "roll-events"))) {
		roll = strtoll(v, &end, 10);
		if (*end || roll <= 0)
			return floe_cli_usage(cmd, "--roll-events %s: want a positive integer", v);
	}
	const char *conf[FLOE_CLI_MAX_REPEATS];
	ing_kafka_conf kc = { conf, floe_cli_opt_all(cmd, args, "kafka-conf", conf,
		                                      FLOE_CLI_MAX_REPEATS) };

	floe_sim *sim;
	if (floe_sim_new(&sim, &o, &err))
		return floe_cli_usage(cmd, "%s", err.msg);
	sink main_sink, quote_sink;
	int rc = sink_open(&main_sink, to, primary_quotes ? "quotes" : "trades", roll, &kc);
	if (rc) {
		floe_sim_free(sim);
		return rc;
	}
	if (qto && (rc = sink_open(&quote_sink, qto, "quotes", roll, &kc))) {
		sink_close(&main_sink);
		floe_sim_free(sim);
		return rc;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	bool progress = isatty(2) && !(main_sink.is_stdout && isatty(1));
	int64_t t0 = mono_us(), last_report = t0, n = 0;
	floe_sim_kind k;
	const char *sym, *line;
	size_t len;
	while (!stop_flag && floe_sim_next(sim, &k, &sym, &line, &len) == 1) {
		sink *dst = k == FLOE_SIM_QUOTE && qto ? &quote_sink : &main_sink;
		if ((rc = sink_write(dst, sym, line, len)))
			break;
		n++;
		/* pace: sleep until the wall clock catches up with n / rate (every
		 * event at low rates, every 16 above), flushing files first so a
		 * reader tailing them sees the events on time */
		if (rate > 0 && (rate < 1000 || (n & 15) == 0)) {
			int64_t due = t0 + (int64_t)((double)n / rate * 1e6), now = mono_us();
			if (now < due) {
				if (main_sink.f)
					fflush(main_sink.f);
				if (qto && quote_sink.f)
					fflush(quote_sink.f);
			}
			while (now < due && !stop_flag) {
				int64_t wait = due - now < 50000 ? due - now : 50000;
				struct timespec ts = { 0, (long)wait * 1000 };
				nanosleep(&ts, NULL);
				now = mono_us();
			}
		}
		if (progress && (n & 1023) == 0) {
			int64_t now = mono_us();
			if (now - last_report >= 500000) {
				last_report = now;
				fprintf(stderr, "\r\033[Ksimulate: %" PRId64 " events, %.0f/s", n,
				        (double)n * 1e6 / (double)(now - t0 + 1));
			}
		}
	}
	int rc2 = sink_close(&main_sink);
	if (qto) {
		int rc3 = sink_close(&quote_sink);
		if (!rc2)
			rc2 = rc3;
	}
	if (progress)
		fprintf(stderr, "\r\033[Ksimulate: %" PRId64 " events in %.1f s\n", n,
		        (double)(mono_us() - t0) / 1e6);
	floe_sim_free(sim);
	return rc ? rc : rc2 ? rc2 : FLOE_CLI_OK;
}
