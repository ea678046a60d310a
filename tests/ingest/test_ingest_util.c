/* tests/ingest/test_ingest_util.c - helpers of the ingest tests (see the
 * header): trade files with known bad records, reading tables back,
 * killing `floe ingest` child processes, and the exactly-once check. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floe/table.h"
#include "harness.h"
#include "ingest/test_ingest_util.h"
#include "util/buf.h"
#include "util/format.h"

bool ti_open(ti_env *e)
{
	memset(e, 0, sizeof *e);
	snprintf(e->wh, sizeof e->wh, "%s", th_path("wh"));
	floe_error err;
	if (floe_catalog_open(&e->cat, e->wh, NULL, &err) ||
	    floe_record_spec_builtin(&e->trades, "trades", &err)) {
		th_fail(__FILE__, __LINE__, "%s", err.msg);
		return false;
	}
	return true;
}

void ti_close(ti_env *e)
{
	floe_record_spec_free(e->trades);
	floe_catalog_close(e->cat);
}

int ti_trade_line(char *buf, size_t cap, int id, int bad)
{
	static const char *const sym[] = { "AAPL", "MSFT", "GOOGL", "TSLA" };
	const char *s = sym[id % 4];
	int day = 20 + id % 3, sec = id % 60;
	switch (bad) {
	case 1: /* broken JSON */
		return snprintf(buf, cap, "{\"trade_id\":\"T%012d\",\"symbol\":\"%s\",\"pri", id, s);
	case 2: /* missing field */
		return snprintf(buf, cap, "{\"trade_id\":\"T%012d\",\"symbol\":\"%s\",\"volume\":1,"
		                "\"timestamp\":\"2026-11-%02dT10:00:%02dZ\",\"trade_type\":\"BUY\"}",
		                id, s, day, sec);
	case 3: /* negative price */
		return snprintf(buf, cap, "{\"trade_id\":\"T%012d\",\"symbol\":\"%s\",\"price\":-%d.5,"
		                "\"volume\":1,\"timestamp\":\"2026-11-%02dT10:00:%02dZ\","
		                "\"trade_type\":\"BUY\",\"exchange\":\"NYSE\"}", id, s, 1 + id % 7, day,
		                sec);
	case 4: /* unknown trade type */
		return snprintf(buf, cap, "{\"trade_id\":\"T%012d\",\"symbol\":\"%s\",\"price\":1.5,"
		                "\"volume\":1,\"timestamp\":\"2026-11-%02dT10:00:%02dZ\","
		                "\"trade_type\":\"HOLD\",\"exchange\":\"NYSE\"}", id, s, day, sec);
	case 5: /* bad timestamp */
		return snprintf(buf, cap, "{\"trade_id\":\"T%012d\",\"symbol\":\"%s\",\"price\":1.5,"
		                "\"volume\":1,\"timestamp\":\"2026-13-45T99:00:00Z\","
		                "\"trade_type\":\"SELL\",\"exchange\":\"NYSE\"}", id, s);
	case 6: /* volume not a number */
		return snprintf(buf, cap, "{\"trade_id\":\"T%012d\",\"symbol\":\"%s\",\"price\":1.5,"
		                "\"volume\":\"many\",\"timestamp\":\"2026-11-%02dT10:00:%02dZ\","
		                "\"trade_type\":\"SELL\",\"exchange\":\"NYSE\"}", id, s, day, sec);
	default:
		return snprintf(buf, cap, "{\"trade_id\":\"T%012d\",\"symbol\":\"%s\",\"price\":%d.%02d,"
		                "\"volume\":%d,\"timestamp\":\"2026-11-%02dT10:%02d:%02d.%06dZ\","
		                "\"trade_type\":\"%s\",\"exchange\":\"%s\"}", id, s, 100 + id % 50,
		                id % 100, 1 + id % 900, day, id / 60 % 60, sec, id % 1000000,
		                id % 2 ? "BUY" : "SELL", id % 3 ? "NASDAQ" : "NYSE");
	}
}

static bool push(ti_fileset *fs, const char *path, int64_t off, bool good, int id)
{
	if (fs->n == fs->cap) {
		int64_t cap = fs->cap ? fs->cap * 2 : 1024;
		ti_rec *r = realloc(fs->r, (size_t)cap * sizeof *r);
		if (!r)
			return false;
		fs->r = r;
		fs->cap = cap;
	}
	fs->r[fs->n++] = (ti_rec){ strdup(path), off, good, id };
	return true;
}

static bool write_trades(const char *path, const char *mode, int first, int n, int bad_every,
                         ti_fileset *fs)
{
	FILE *f = fopen(path, mode);
	if (!f)
		return false;
	fseek(f, 0, SEEK_END);
	int64_t off = ftell(f);
	for (int i = first; i < first + n; i++) {
		char line[512];
		int bad = bad_every > 0 && i % bad_every == bad_every - 1 ? 1 + (i / bad_every) % 6 : 0;
		int len = ti_trade_line(line, sizeof line, i, bad);
		fprintf(f, "%s\n", line);
		if (!push(fs, path, off, bad == 0, i)) {
			fclose(f);
			return false;
		}
		off += len + 1;
	}
	return fclose(f) == 0;
}

bool ti_write_trades(const char *path, int n, int bad_every, ti_fileset *fs)
{
	memset(fs, 0, sizeof *fs);
	return write_trades(path, "w", 0, n, bad_every, fs);
}

bool ti_write_trades_from(const char *path, int first, int n, int bad_every, ti_fileset *fs)
{
	return write_trades(path, "w", first, n, bad_every, fs);
}

bool ti_append_trades(const char *path, int first, int n, int bad_every, ti_fileset *fs)
{
	return write_trades(path, "a", first, n, bad_every, fs);
}

void ti_fileset_rename(ti_fileset *fs, const char *from, const char *to)
{
	for (int64_t i = 0; i < fs->n; i++)
		if (strcmp(fs->r[i].file, from) == 0) {
			free(fs->r[i].file);
			fs->r[i].file = strdup(to);
		}
}

void ti_fileset_free(ti_fileset *fs)
{
	for (int64_t i = 0; i < fs->n; i++)
		free(fs->r[i].file);
	free(fs->r);
	memset(fs, 0, sizeof *fs);
}

int ti_ingest_files(ti_env *e, const char *source, floe_trigger trigger, int64_t max_batches,
                    floe_ingest_result *res, floe_error *err)
{
	floe_ingest_options o;
	floe_ingest_options_init(&o);
	o.table = "bronze.trades";
	o.source = source;
	o.spec = e->trades;
	o.trigger = trigger;
	o.max_batch_rows = 700;
	o.max_batches = max_batches;
	return floe_ingest_run(e->cat, &o, res, err);
}

/* ---- reading tables back ------------------------------------------------------ */

static bool grow_rows(ti_rows *r, int64_t n)
{
	char **t = realloc(r->text, (size_t)n * sizeof *t), **s = realloc(r->src, (size_t)n * sizeof *s);
	if (t)
		r->text = t;
	if (s)
		r->src = s;
	uint8_t **w = realloc(r->raw, (size_t)n * sizeof *w);
	if (w)
		r->raw = w;
	int64_t *l = realloc(r->rawlen, (size_t)n * sizeof *l), *o = realloc(r->off, (size_t)n * sizeof *o);
	if (l)
		r->rawlen = l;
	if (o)
		r->off = o;
	int32_t *p = realloc(r->part, (size_t)n * sizeof *p);
	if (p)
		r->part = p;
	return t && s && w && l && o && p;
}

static char *cell_text(const floe_column *c, int64_t row)
{
	floe_buf b = { 0 };
	floe_format_value(&b, c, row, false);
	floe_buf_putc(&b, 0);
	return (char *)b.data;
}

bool ti_read_where(ti_env *e, const char *table, const char *col, const char *where,
                   ti_rows *out)
{
	memset(out, 0, sizeof *out);
	floe_table *t;
	floe_error err;
	if (floe_table_open(&t, e->cat, table, &err)) {
		th_fail(__FILE__, __LINE__, "%s: %s", table, err.msg);
		return false;
	}
	const char *cols[] = { col, "_offset", "_source", "_raw", "_partition" };
	floe_scan_options o;
	floe_scan_options_init(&o);
	o.columns = cols;
	o.ncolumns = 5;
	o.where = where;
	floe_scan *s = NULL;
	bool ok = floe_scan_open(&s, t, &o, &err) == 0;
	const floe_batch *b;
	int rc = 0;
	while (ok && (rc = floe_scan_next(s, &b, &err)) == 1) {
		if (!grow_rows(out, out->n + b->nrows)) {
			ok = false;
			break;
		}
		for (int64_t i = 0; i < b->nrows; i++) {
			int64_t k = out->n++;
			out->text[k] = cell_text(&b->cols[0], i);
			out->off[k] = ((const int64_t *)b->cols[1].values)[i];
			const floe_column *sc = &b->cols[2], *rc3 = &b->cols[3];
			int64_t sl = sc->offsets[i + 1] - sc->offsets[i];
			out->src[k] = strndup((const char *)sc->data + sc->offsets[i], (size_t)sl);
			int64_t rl = rc3->offsets[i + 1] - rc3->offsets[i];
			out->raw[k] = malloc((size_t)rl + 1);
			memcpy(out->raw[k], rc3->data + rc3->offsets[i], (size_t)rl);
			out->raw[k][rl] = 0;
			out->rawlen[k] = rl;
			out->part[k] = floe_column_is_valid(&b->cols[4], i)
			                       ? ((const int32_t *)b->cols[4].values)[i] : -1;
		}
	}
	if (!ok || rc < 0) {
		th_fail(__FILE__, __LINE__, "scan %s: %s", table, err.msg);
		ok = false;
	}
	if (s)
		floe_scan_free(s);
	floe_table_close(t);
	return ok;
}

bool ti_read(ti_env *e, const char *table, const char *col, ti_rows *out)
{
	return ti_read_where(e, table, col, NULL, out);
}

void ti_rows_free(ti_rows *r)
{
	for (int64_t i = 0; i < r->n; i++) {
		free(r->text[i]);
		free(r->src[i]);
		free(r->raw[i]);
	}
	free(r->text);
	free(r->src);
	free(r->raw);
	free(r->rawlen);
	free(r->off);
	free(r->part);
	memset(r, 0, sizeof *r);
}

int ti_find_text(const ti_rows *r, const char *text)
{
	for (int64_t i = 0; i < r->n; i++)
		if (strcmp(r->text[i], text) == 0)
			return (int)i;
	return -1;
}

int ti_find_offset(const ti_rows *r, int64_t off)
{
	for (int64_t i = 0; i < r->n; i++)
		if (r->off[i] == off)
			return (int)i;
	return -1;
}

/* ---- exactly once ---------------------------------------------------------------- */

typedef struct key {
	const char *file;
	int64_t off;
} key;

static int cmp_key(const void *a, const void *b)
{
	const key *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	if (c)
		return c;
	return (x->off > y->off) - (x->off < y->off);
}

/* Sorted (file, offset) keys of the rows; duplicates reported. */
static key *row_keys(const ti_rows *r, const char *what, int *dups)
{
	key *k = malloc((size_t)(r->n + 1) * sizeof *k);
	for (int64_t i = 0; i < r->n; i++)
		k[i] = (key){ r->src[i], r->off[i] };
	qsort(k, (size_t)r->n, sizeof *k, cmp_key);
	*dups = 0;
	for (int64_t i = 1; i < r->n; i++)
		if (cmp_key(&k[i - 1], &k[i]) == 0) {
			if (*dups < 5)
				th_fail(__FILE__, __LINE__, "%s holds %s@%lld twice", what, k[i].file,
				        (long long)k[i].off);
			(*dups)++;
		}
	return k;
}

void ti_check_exactly_once(ti_env *e, const ti_fileset *fs)
{
	ti_rows b, q;
	if (!ti_read(e, "bronze.trades", "trade_id", &b))
		return;
	if (!ti_read(e, "bronze.trades_rejected", "_reason", &q)) {
		ti_rows_free(&b);
		return;
	}
	int64_t ngood = 0, nbad = 0;
	for (int64_t i = 0; i < fs->n; i++)
		fs->r[i].good ? ngood++ : nbad++;
	CHECK_EQ_INT(b.n, ngood);
	CHECK_EQ_INT(q.n, nbad);
	int d1, d2;
	key *kb = row_keys(&b, "bronze.trades", &d1), *kq = row_keys(&q, "quarantine", &d2);
	CHECK_EQ_INT(d1, 0);
	CHECK_EQ_INT(d2, 0);
	int missing = 0;
	for (int64_t i = 0; i < fs->n; i++) {
		char abs[PATH_MAX];
		if (!realpath(fs->r[i].file, abs))
			snprintf(abs, sizeof abs, "%s", fs->r[i].file);
		key k = { abs, fs->r[i].off };
		key *hit = bsearch(&k, fs->r[i].good ? kb : kq, (size_t)(fs->r[i].good ? b.n : q.n),
		                   sizeof k, cmp_key);
		if (!hit && missing++ < 5)
			th_fail(__FILE__, __LINE__, "%s record %s@%lld (trade %d) is missing",
			        fs->r[i].good ? "good" : "bad", abs, (long long)k.off, fs->r[i].id);
	}
	CHECK_EQ_INT(missing, 0);
	/* the good rows carry the right trade ids */
	for (int64_t i = 0; i < b.n; i++) {
		char want[32];
		const char *p = strstr((const char *)b.raw[i], "\"trade_id\":\"");
		if (!p) {
			th_fail(__FILE__, __LINE__, "bronze _raw without trade_id: %s", b.raw[i]);
			break;
		}
		snprintf(want, sizeof want, "%.13s", p + 12);
		if (strcmp(want, b.text[i]) != 0) {
			th_fail(__FILE__, __LINE__, "row %lld: trade_id %s, raw says %s", (long long)i,
			        b.text[i], want);
			break;
		}
	}
	free(kb);
	free(kq);
	ti_rows_free(&b);
	ti_rows_free(&q);
}

/* [0] files, [1] of them under metadata/ (a commit killed midway) */
static int count_file(void *ctx, const floe_orphan_file *f, floe_error *err)
{
	(void)err;
	int *n = ctx;
	n[0]++;
	if (strstr(f->path, "/metadata/"))
		n[1]++;
	return 0;
}

void ti_check_orphans_swept(ti_env *e)
{
	const char *names[] = { "bronze.trades", "bronze.trades_rejected" };
	for (int i = 0; i < 2; i++) {
		floe_table *t;
		floe_error err;
		if (floe_table_open(&t, e->cat, names[i], &err)) {
			th_fail(__FILE__, __LINE__, "%s", err.msg);
			return;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t later = (int64_t)ts.tv_sec * 1000 + 60000;
		int removed[2] = { 0, 0 }, left[2] = { 0, 0 };
		CHECK_OK(floe_table_remove_orphans(t, later, false, count_file, removed, &err), &err);
		CHECK_OK(floe_table_remove_orphans(t, later, true, count_file, left, &err), &err);
		CHECK_EQ_INT(left[0], 0);
		printf("  %s: %d orphan files swept (%d of them metadata of interrupted commits)\n",
		       names[i], removed[0], removed[1]);
		fflush(stdout);
		floe_table_close(t);
	}
}

/* ---- child processes --------------------------------------------------------------- */

void ti_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

pid_t ti_spawn(const char *const *argv, const char *log)
{
	char self[PATH_MAX], bin[PATH_MAX + 8];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	*slash = 0;
	snprintf(bin, sizeof bin, "%s/floe", self);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

void ti_stop_child(pid_t pid, const char *log, const char *also)
{
	kill(pid, SIGTERM);
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		th_fail(__FILE__, __LINE__, "waitpid: %s", strerror(errno));
		return;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char *text = th_read_file(log, NULL);
	CHECK(text && strstr(text, "\"event\":\"commit\""));
	CHECK(text && strstr(text, also));
	free(text);
}

int ti_kill_loop(ti_env *e, const char *source, int kills, const char *trigger, int min_ms,
                 int max_ms, const char *const *extra)
{
	int hit = 0;
	const char *argv[32] = { "floe", "ingest", "bronze.trades", "--warehouse", e->wh, "--from",
		                 source, "--trigger", trigger, "--kind", "trades" };
	int argc = 11;
	for (int i = 0; extra && extra[i] && argc < 26; i++)
		argv[argc++] = extra[i];
	bool kafka = strncmp(source, "kafka://", 8) == 0;
	char group[64];
	int gat = argc;
	const char *log = th_path("kill.log");
	for (int round = 0; hit < kills && round < kills * 4; round++) {
		argc = gat;
		if (kafka) {
			snprintf(group, sizeof group, "crash-%d-%d", (int)getpid(), round);
			argv[argc++] = "--group";
			argv[argc++] = group;
		}
		argv[argc] = NULL;
		pid_t pid = ti_spawn(argv, log);
		if (pid <= 0)
			break;
		ti_sleep_ms(min_ms + rand() % (max_ms - min_ms + 1));
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				th_fail(__FILE__, __LINE__, "floe ingest failed on its own (see %s)", log);
				break;
			}
			continue; /* finished before the kill: the input ran out */
		}
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		hit++;
	}
	return hit;
}

static int cmp_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted copies of the table's _raw values vs. the expected lines. */
static void same_lines(const char *what, ti_rows *r, char **want, int nwant)
{
	char **got = malloc((size_t)(r->n + 1) * sizeof *got);
	for (int64_t i = 0; i < r->n; i++)
		got[i] = (char *)r->raw[i];
	qsort(got, (size_t)r->n, sizeof *got, cmp_bytes);
	qsort(want, (size_t)nwant, sizeof *want, cmp_bytes);
	CHECK_EQ_INT(r->n, nwant);
	int64_t i = 0, j = 0, bad = 0;
	while ((i < r->n || j < nwant) && bad < 5) {
		int c = i >= r->n ? 1 : j >= nwant ? -1 : strcmp(got[i], want[j]);
		if (c == 0) {
			i++, j++;
			continue;
		}
		bad++;
		if (c < 0)
			th_fail(__FILE__, __LINE__, "%s holds an unexpected or doubled record: %.120s",
			        what, got[i++]);
		else
			th_fail(__FILE__, __LINE__, "%s lacks record: %.120s", what, want[j++]);
	}
	free(got);
}

void ti_check_exactly_once_lines(ti_env *e, char *const *lines, const bool *good, int n)
{
	ti_rows b, q;
	if (!ti_read(e, "bronze.trades", "trade_id", &b))
		return;
	if (!ti_read(e, "bronze.trades_rejected", "_reason", &q)) {
		ti_rows_free(&b);
		return;
	}
	char **wg = malloc((size_t)(n + 1) * sizeof *wg), **wb = malloc((size_t)(n + 1) * sizeof *wb);
	int ng = 0, nb = 0;
	for (int i = 0; i < n; i++) {
		if (good[i])
			wg[ng++] = lines[i];
		else
			wb[nb++] = lines[i];
	}
	same_lines("bronze.trades", &b, wg, ng);
	same_lines("bronze.trades_rejected", &q, wb, nb);
	free(wg);
	free(wb);
	ti_rows_free(&b);
	ti_rows_free(&q);
}
