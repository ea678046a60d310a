/* cli/run_cmd.c - `floe run PIPELINE`: a declarative pipeline as a stream
 * (until SIGINT/SIGTERM or --duration), once over what is new, as a
 * backfill of files, or as a rebuild of a time range; with --simulate the
 * built-in market simulator runs beside it as a child process writing the
 * sources' landing folders. A live view on a terminal, JSON-lines status
 * on stderr otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "floe/catalog.h"
#include "floe/expr.h"
#include "floe/pipeline.h"
#include "util/fs.h"
#include "util/text.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

#define MAX_SEEN 32

typedef struct view {
	bool tty;
	int n;
	char names[MAX_SEEN][64];
	int64_t rows[MAX_SEEN];
	int64_t rejected[MAX_SEEN];
	int64_t wm;
	double p99;
	int64_t last_draw_ms;
	int64_t rss;
} view;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fmt_count(char *buf, size_t n, double v)
{
	if (v >= 1e6)
		snprintf(buf, n, "%.2fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, n, "%.1fk", v / 1e3);
	else
		snprintf(buf, n, "%.0f", v);
}

static void draw(view *v, bool final)
{
	char line[1024];
	size_t at = 0;
	for (int i = 0; i < v->n && at < sizeof line - 80; i++) {
		char c[32];
		fmt_count(c, sizeof c, (double)v->rows[i]);
		at += (size_t)snprintf(line + at, sizeof line - at, "%s%s %s", i ? " | " : "",
		                       v->names[i], c);
		if (v->rejected[i])
			at += (size_t)snprintf(line + at, sizeof line - at, " (%" PRId64 " rej)",
			                       v->rejected[i]);
	}
	if (v->p99 >= 0 && at < sizeof line - 40)
		at += (size_t)snprintf(line + at, sizeof line - at, " | fresh p99 %.2fs", v->p99 / 1000);
	fprintf(stderr, "\r\033[K%s", line);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

static void on_status(void *ctx, const floe_run_status *st)
{
	view *v = ctx;
	if (!v->tty) {
		fprintf(stderr,
		        "{\"event\":\"%s\",\"name\":\"%s\",\"table\":\"%s\",\"rows_in\":%" PRId64
		        ",\"rows_out\":%" PRId64 ",\"rejected\":%" PRId64 ",\"snapshot_id\":%" PRId64
		        ",\"seconds\":%.3f,\"total_rows_out\":%" PRId64 ",\"freshness_p50_ms\":%.1f"
		        ",\"freshness_p99_ms\":%.1f,\"peak_rss_bytes\":%" PRId64,
		        st->event, st->name, st->table, st->rows_in, st->rows_out, st->rejected,
		        st->snapshot_id, st->seconds, st->total_rows_out, st->freshness_p50_ms,
		        st->freshness_p99_ms, st->rss_bytes);
		if (st->watermark_us != INT64_MIN)
			fprintf(stderr, ",\"watermark_us\":%" PRId64, st->watermark_us);
		if (strcmp(st->event, "upkeep") == 0)
			fprintf(stderr, ",\"files_compacted\":%" PRId64 ",\"snapshots_expired\":%" PRId64
			        ",\"files_deleted\":%" PRId64, st->files_compacted, st->snapshots_expired,
			        st->files_deleted);
		fputs("}\n", stderr);
		fflush(stderr);
		return;
	}
	if (strcmp(st->event, "upkeep") == 0)
		return; /* the view counts rows written; upkeep writes none new */
	int k = -1;
	for (int i = 0; i < v->n; i++)
		if (strcmp(v->names[i], st->table) == 0)
			k = i;
	if (k < 0 && v->n < MAX_SEEN) {
		k = v->n++;
		snprintf(v->names[k], sizeof v->names[k], "%s", st->table);
	}
	if (k >= 0) {
		v->rows[k] = st->total_rows_out;
		v->rejected[k] += st->rejected;
	}
	if (strcmp(st->event, "step") == 0 && st->freshness_p99_ms >= 0)
		v->p99 = st->freshness_p99_ms;
	int64_t now = mono_ms();
	if (now - v->last_draw_ms >= 200) {
		v->last_draw_ms = now;
		draw(v, false);
	}
}

/* Event time text (ISO-8601, an offset allowed) into epoch micros. */
static int parse_time(const char *s, int64_t *out)
{
	floe_type t = { .id = FLOE_TYPE_TIMESTAMPTZ };
	floe_value v;
	floe_buf scratch = { 0 };
	floe_error err;
	int rc = floe_text_parse(&v, &t, s, strlen(s), &scratch, &err);
	floe_buf_free(&scratch);
	if (rc) {
		/* a date alone: midnight UTC */
		char buf[64];
		snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
		rc = floe_text_parse(&v, &t, buf, strlen(buf), &scratch, &err);
		floe_buf_free(&scratch);
		if (rc)
			return -1;
	}
	*out = v.i;
	return 0;
}

/* The simulator as a child process writing the landing folders. */
static pid_t start_simulator(const floe_pipeline *p, const char *dir, char *why, size_t whyn)
{
	const char *trades = floe_pipeline_simulator(p, "trades");
	const char *quotes = floe_pipeline_simulator(p, "quotes");
	if (!trades && !quotes) {
		snprintf(why, whyn, "the pipeline has no simulator section with trades: DIR "
		         "and/or quotes: DIR");
		return -1;
	}
	char tdir[8400], qdir[8400];
	const char *argv[40];
	int n = 0;
	argv[n++] = "floe";
	argv[n++] = "simulate";
	if (trades) {
		snprintf(tdir, sizeof tdir, "%s%s%s%s", trades[0] == '/' ? "" : dir,
		         trades[0] == '/' ? "" : "/", trades,
		         trades[strlen(trades) - 1] == '/' ? "" : "/");
		argv[n++] = "--to";
		argv[n++] = tdir;
	}
	if (quotes) {
		snprintf(qdir, sizeof qdir, "%s%s%s%s", quotes[0] == '/' ? "" : dir,
		         quotes[0] == '/' ? "" : "/", quotes,
		         quotes[strlen(quotes) - 1] == '/' ? "" : "/");
		argv[n++] = trades ? "--quotes-to" : "--to";
		argv[n++] = qdir;
		if (!trades) {
			argv[n++] = "--kind";
			argv[n++] = "quotes";
		}
	}
	static const char *const keys[] = { "rate", "symbols", "faults", "seed", "late-by",
		"roll-events", NULL };
	char roll[32];
	for (int i = 0; keys[i]; i++) {
		const char *v = floe_pipeline_simulator(p, keys[i]);
		if (!v)
			continue;
		static char names[8][32];
		snprintf(names[i], sizeof names[i], "--%s", keys[i]);
		argv[n++] = names[i];
		argv[n++] = v;
	}
	if (!floe_pipeline_simulator(p, "roll-events")) {
		/* a file about every 250 ms keeps the landing-to-Gold path short */
		const char *rate = floe_pipeline_simulator(p, "rate");
		long r = rate ? strtol(rate, NULL, 10) : 1000;
		snprintf(roll, sizeof roll, "%ld", r > 8 ? r / 4 : 2);
		argv[n++] = "--roll-events";
		argv[n++] = roll;
	}
	argv[n] = NULL;
	/* the landing folders exist before either side looks at them */
	floe_error err;
	if ((trades && floe_fs_mkdirs(tdir, &err)) || (quotes && floe_fs_mkdirs(qdir, &err))) {
		snprintf(why, whyn, "%.200s", err.msg);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, whyn, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			close(fd);
		}
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* A pipeline's micro-batches allocate and free buffers of tens of MiB
 * each. glibc served those from fresh mmaps and trimmed the heap top after
 * each free, so every batch paid for page faults again (a fifth of a
 * backfill's CPU went to the kernel). Pipelines keep such buffers in the
 * heap and up to 256 MiB of freed heap top for the next batch (their
 * memory target is 512 MiB). `floe ingest` keeps glibc's policy: its
 * target is 256 MiB and the retained heap would take a quarter of it. */
static void pipeline_malloc_policy(void)
{
	mallopt(M_MMAP_THRESHOLD, 256 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 32 << 20);
}

int floe_cli_run(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	pipeline_malloc_policy();
	const char *path = args->pos[0];
	floe_run_options o;
	floe_run_options_init(&o);
	const char *v;
	bool once = floe_cli_opt_get(cmd, args, "once") != NULL;
	const char *files[FLOE_CLI_MAX_REPEATS];
	int nfiles = floe_cli_opt_all(cmd, args, "backfill", files, FLOE_CLI_MAX_REPEATS);
	/* positional files after the pipeline belong to --backfill */
	const char **bf = calloc((size_t)(nfiles + args->npos) + 1, sizeof *bf);
	if (!bf)
		return floe_cli_fail("out of memory");
	int nbf = 0;
	for (int i = 0; i < nfiles; i++)
		bf[nbf++] = files[i];
	for (int i = 1; i < args->npos; i++)
		bf[nbf++] = args->pos[i];
	const char *rebuild = floe_cli_opt_get(cmd, args, "rebuild");
	bool upkeep = floe_cli_opt_get(cmd, args, "upkeep") != NULL;
	int modes = once + (nbf > 0) + (rebuild != NULL) + upkeep;
	if (modes > 1) {
		free(bf);
		return floe_cli_usage(cmd, "give one of --once, --backfill FILES, --rebuild TABLE, "
		                      "--upkeep");
	}
	if (args->npos > 1 && nfiles == 0) {
		free(bf);
		return floe_cli_usage(cmd, "files after the pipeline need --backfill before them");
	}
	o.mode = once ? FLOE_RUN_ONCE : nbf ? FLOE_RUN_BACKFILL : rebuild ? FLOE_RUN_REBUILD :
	         upkeep ? FLOE_RUN_UPKEEP : FLOE_RUN_STREAM;
	o.backfill = bf;
	o.nbackfill = nbf;
	if (rebuild) {
		const char *f = floe_cli_opt_get(cmd, args, "from"), *t = floe_cli_opt_get(cmd, args, "to");
		if (!f || !t || parse_time(f, &o.rebuild_from_us) || parse_time(t, &o.rebuild_to_us)) {
			free(bf);
			return floe_cli_usage(cmd, "--rebuild TABLE needs --from TIME and --to TIME "
			                      "(2026-11-20T14:30:00Z, or a date)");
		}
		o.rebuild_table = rebuild;
	} else if (floe_cli_opt_get(cmd, args, "from") || floe_cli_opt_get(cmd, args, "to")) {
		free(bf);
		return floe_cli_usage(cmd, "--from and --to go with --rebuild TABLE");
	}
	floe_error err;
	if ((v = floe_cli_opt_get(cmd, args, "trigger"))) {
		int64_t us;
		if (floe_expr_parse_interval(&us, v, &err) || us < 1000) {
			free(bf);
			return floe_cli_usage(cmd, "--trigger %s: want an interval such as 1s or 500ms", v);
		}
		o.interval_ms = us / 1000;
	}
	int64_t duration_us = 0;
	if ((v = floe_cli_opt_get(cmd, args, "duration")) &&
	    (floe_expr_parse_interval(&duration_us, v, &err) || o.mode != FLOE_RUN_STREAM)) {
		free(bf);
		return floe_cli_usage(cmd, "--duration %s: want an interval such as 30s, for a stream",
		                      v);
	}
	if ((v = floe_cli_opt_get(cmd, args, "max-batch-rows"))) {
		char *end;
		long long n = strtoll(v, &end, 10);
		if (*end || n <= 0) {
			free(bf);
			return floe_cli_usage(cmd, "--max-batch-rows %s: want a positive number", v);
		}
		o.max_batch_rows = n;
	}
	o.skip_expired = floe_cli_opt_get(cmd, args, "skip-expired") != NULL;
	bool simulate = floe_cli_opt_get(cmd, args, "simulate") != NULL;
	if (simulate && o.mode != FLOE_RUN_STREAM) {
		free(bf);
		return floe_cli_usage(cmd, "--simulate goes with a stream (no --once, --backfill or "
		                      "--rebuild)");
	}

	floe_pipeline *p;
	if (floe_pipeline_load(&p, path, &err)) {
		free(bf);
		return floe_cli_fail("%s", err.msg);
	}
	const char *wh = floe_cli_warehouse(cmd, args);
	floe_catalog *cat;
	if (floe_catalog_open(&cat, wh, NULL, &err) != 0) {
		floe_pipeline_free(p);
		free(bf);
		return floe_cli_fail("cannot open warehouse %s: %s (give another with --warehouse DIR "
		                     "or FLOE_WAREHOUSE)", wh, err.msg);
	}
	view vw;
	memset(&vw, 0, sizeof vw);
	vw.tty = isatty(2) && !floe_cli_opt_get(cmd, args, "json-status");
	vw.p99 = -1;
	o.status = on_status;
	o.status_ctx = &vw;
	o.stop = &stop_flag;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (duration_us > 0) {
		sigaction(SIGALRM, &sa, NULL);
		alarm((unsigned)((duration_us + 999999) / 1000000));
	}
	pid_t sim = -1;
	if (simulate) {
		char dir[4096], why[256];
		snprintf(dir, sizeof dir, "%s", path);
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		else
			snprintf(dir, sizeof dir, ".");
		sim = start_simulator(p, dir, why, sizeof why);
		if (sim < 0) {
			floe_catalog_close(cat);
			floe_pipeline_free(p);
			free(bf);
			return floe_cli_fail("--simulate: %s", why);
		}
	}
	floe_run_result res;
	int rc = floe_pipeline_run(cat, p, &o, &res, &err);
	if (sim > 0) {
		kill(sim, SIGTERM);
		waitpid(sim, NULL, 0);
	}
	if (vw.tty)
		draw(&vw, true);
	floe_catalog_close(cat);
	floe_pipeline_free(p);
	free(bf);
	if (rc)
		return floe_cli_fail("%s (committed steps stay; running again resumes where each "
		                     "target table says)", err.msg);
	if (o.mode == FLOE_RUN_UPKEEP) {
		printf("pipeline %s: upkeep compacted %" PRId64 " data files, expired %" PRId64
		       " snapshots, deleted %" PRId64 " files\n", path, res.files_compacted,
		       res.snapshots_expired, res.files_deleted);
		return FLOE_CLI_OK;
	}
	printf("pipeline %s: %" PRId64 " records ingested (%" PRId64 " rejected), %" PRId64
	       " step commits, %" PRId64 " rows written, %" PRId64 " quarantined",
	       path, res.ingested, res.ingest_rejected, res.step_runs, res.rows_out, res.rejected);
	if (res.files_compacted || res.snapshots_expired)
		printf(", upkeep compacted %" PRId64 " data files and expired %" PRId64 " snapshots",
		       res.files_compacted, res.snapshots_expired);
	if (res.freshness_p99_ms >= 0)
		printf(", Gold freshness p50 %.0f ms, p99 %.0f ms", res.freshness_p50_ms,
		       res.freshness_p99_ms);
	printf("\n");
	return FLOE_CLI_OK;
}
