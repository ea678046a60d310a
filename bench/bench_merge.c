/* bench/bench_merge.c - upserts of keyed trades into a 10 million row
 * table in copy-on-write and merge-on-read modes: batches of R rows (a
 * share of them updates of recent trades, the rest new trades), printing
 * rows/s, write amplification, files rewritten, the full-scan slowdown
 * before and after compaction, compaction MB/s (wall and per CPU second,
 * of file bytes and of bytes before compression), and the peak memory of a
 * 1M-row MERGE into the table measured in a child process. JSON lines on
 * stdout; floe is single-threaded. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "trades_gen.h"
#include "floe/floe.h"

#define SPAN_US (30LL * 86400 * 1000000) /* the table covers 30 days */

typedef struct config {
	const char *work;
	int64_t n;            /* table rows */
	int64_t batch_rows;   /* rows per upsert */
	int batches;
	double update_share;  /* of each batch: updates of recent trades */
	int64_t target_bytes;
	int64_t big_rows;     /* the memory-measured merge */
	const char *dump;     /* write the base rows and each batch as Parquet
	                         here (for the DuckDB peer), or NULL */
	const char *lists;    /* write the data files each compaction read
	                         here (compacted_MODE.txt), or NULL */
} config;

/* The dump writer (one file at a time), NULL when not dumping. */
static floe_parquet_writer *dump_w;

static int dump_open(const config *cf, const char *name, const floe_schema *schema, floe_error *err)
{
	if (!cf->dump)
		return 0;
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.parquet", cf->dump, name);
	return floe_parquet_writer_open(&dump_w, path, schema, NULL, err);
}

static int dump_rows(const floe_batch *b, floe_error *err)
{
	return dump_w ? floe_parquet_writer_write(dump_w, b, err) : 0;
}

static int dump_close(floe_error *err)
{
	floe_parquet_writer *w = dump_w;
	dump_w = NULL;
	return w ? floe_parquet_writer_close(w, NULL, err) : 0;
}

/* The table's trades as the generator made them, so that updates keep a
 * trade's timestamp: ids 1..n in order, ts of the most recent window. */
typedef struct recent {
	int64_t first_id, count;
	int64_t *ts;
} recent;

/* resident set now (MiB), from /proc/self/statm */
static double current_rss_mib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return (double)rss * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static int create_table(floe_table **out, floe_catalog *cat, const char *ident, const char *mode,
                        const config *cf, floe_error *err)
{
	char p1[64], p2[64], p3[64];
	const char *props[3] = { p1, p2, p3 };
	int rc = floe_table_drop(cat, ident, true, err);
	if (rc != 0 && rc != FLOE_ENOTFOUND)
		return rc;
	snprintf(p1, sizeof p1, "write.target-file-size-bytes=%lld", (long long)cf->target_bytes);
	snprintf(p2, sizeof p2, "write.merge.mode=%s", mode);
	snprintf(p3, sizeof p3, "write.delete.mode=%s", mode);
	floe_table_create_options o;
	memset(&o, 0, sizeof o);
	o.schema = SCHEMA;
	o.partition = "day(ts)";
	o.properties = props;
	o.nproperties = 3;
	return floe_table_create(out, cat, ident, &o, err);
}

/* Load the n generated trades; remember the timestamps of the last
 * `rec->count` ones. */
static int load(floe_table *t, const config *cf, gen_state *g, gen_batch *gb, recent *rec,
                floe_error *err)
{
	floe_append *a;
	int rc = floe_append_begin(&a, t, err);
	if (!rc)
		rc = dump_open(cf, "base", gb->b.schema, err);
	for (int64_t done = 0; !rc && done < cf->n;) {
		int64_t k = cf->n - done < BATCH_ROWS ? cf->n - done : BATCH_ROWS;
		gen_fill(gb, g, k);
		const int64_t *ts = gb->cols[4].values;
		for (int64_t r = 0; r < k; r++) {
			int64_t id = done + r + 1;
			if (id >= rec->first_id)
				rec->ts[id - rec->first_id] = ts[r];
		}
		rc = floe_append_batch(a, &gb->b, err);
		if (!rc)
			rc = dump_rows(&gb->b, err);
		done += k;
	}
	if (!rc)
		rc = dump_close(err);
	if (!rc)
		return floe_append_commit(a, NULL, err);
	floe_append_abort(a);
	return rc;
}

typedef struct fsum {
	int content;
	int64_t files, bytes;
} fsum;

static int sum_file(void *ctx, const floe_file_info *f, floe_error *err)
{
	(void)err;
	fsum *s = ctx;
	if (s->content < 0 || f->content == s->content) {
		s->files++;
		s->bytes += f->file_size;
	}
	return 0;
}

static int64_t table_bytes(floe_table *t, int content, int64_t *files, floe_error *err)
{
	fsum s = { content, 0, 0 };
	if (floe_table_files(t, NULL, sum_file, &s, err) != 0)
		return -1;
	if (files)
		*files = s.files;
	return s.bytes;
}

/* Local paths of the live data files. */
typedef struct path_list {
	char **p;
	size_t n, cap;
} path_list;

static int list_data_file(void *ctx, const floe_file_info *f, floe_error *err)
{
	path_list *l = ctx;
	if (f->content != 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->p, cap * sizeof *v);
		if (!v)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		l->p = v;
		l->cap = cap;
	}
	if (!(l->p[l->n] = strdup(f->local_path)))
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	l->n++;
	return 0;
}

static void path_list_free(path_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->p[i]);
	free(l->p);
}

/* The files of `before` that `after` lacks (the data files a compaction
 * read): their uncompressed bytes (the footers' chunk sizes) into *unc, and
 * when `path` is set, written there one a line for the peer that rewrites
 * them. */
static int removed_files(const char *path, const path_list *before, const path_list *after,
                         int64_t *unc, floe_error *err)
{
	FILE *f = path ? fopen(path, "w") : NULL;
	if (path && !f)
		return floe_error_set(err, FLOE_EIO, "%s: cannot create", path);
	int rc = 0;
	*unc = 0;
	for (size_t i = 0; !rc && i < before->n; i++) {
		size_t j = 0;
		while (j < after->n && strcmp(before->p[i], after->p[j]) != 0)
			j++;
		if (j < after->n)
			continue;
		floe_parquet_reader *r = NULL;
		if (!(rc = floe_parquet_reader_open(&r, before->p[i], err)))
			*unc += floe_parquet_reader_uncompressed_bytes(r);
		floe_parquet_reader_free(r);
		if (f)
			fprintf(f, "%s\n", before->p[i]);
	}
	if (f && fclose(f) && !rc)
		rc = floe_error_set(err, FLOE_EIO, "%s: write failed", path);
	return rc;
}

/* CPU seconds (user + system) this process has used. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Full scan of every column: seconds, rows into *rows. */
static double full_scan(floe_table *t, int64_t *rows, floe_error *err)
{
	double t0 = now_s();
	floe_scan *s;
	*rows = -1;
	if (floe_scan_open(&s, t, NULL, err) != 0)
		return -1;
	const floe_batch *b;
	int rc;
	int64_t n = 0;
	while ((rc = floe_scan_next(s, &b, err)) == 1)
		n += b->nrows;
	floe_scan_free(s);
	if (rc < 0)
		return -1;
	*rows = n;
	return now_s() - t0;
}

/* One upsert batch: `nupd` updates of recent trades (random, distinct),
 * then new trades from the generator. */
static int upsert(floe_table *t, const config *cf, gen_state *g, gen_batch *gb, const recent *rec,
                  int64_t rows, const char *dump_name, floe_merge_result *res, double *gen_s,
                  floe_error *err)
{
	static const char *const on[1] = { "trade_id" };
	floe_merge_options mo;
	floe_merge_options_init(&mo);
	mo.on = on;
	mo.non = 1;
	floe_merge *m;
	double g0 = now_s();
	int64_t nupd = (int64_t)((double)rows * cf->update_share);
	if (nupd > rec->count / 2)
		nupd = rec->count / 2; /* distinct keys, found quickly */
	/* the updates: a batch built like the generator's */
	floe_arena *ar = floe_arena_new(0);
	floe_schema *schema = NULL;
	floe_batch_builder *bld = NULL;
	int rc = floe_schema_parse(&schema, SCHEMA, ar, err);
	if (!rc)
		rc = floe_batch_builder_new(&bld, schema, err);
	uint8_t *used = calloc((size_t)rec->count + 1, 1);
	if (!used)
		rc = FLOE_ENOMEM;
	for (int64_t i = 0; !rc && i < nupd; i++) {
		int64_t k;
		do
			k = (int64_t)(rng_next() % (uint64_t)rec->count);
		while (used[k]);
		used[k] = 1;
		char id[13];
		format_id(id, rec->first_id + k);
		if ((rc = floe_batch_builder_bytes(bld, 0, id, 13, err)) ||
		    (rc = floe_batch_builder_bytes(bld, 1, "FIX", 3, err)) ||
		    (rc = floe_batch_builder_f64(bld, 2, 100.0 + (double)(k % 1000) * 0.01, err)) ||
		    (rc = floe_batch_builder_i64(bld, 3, 100, err)) ||
		    (rc = floe_batch_builder_i64(bld, 4, rec->ts[k], err)) ||
		    (rc = floe_batch_builder_bytes(bld, 5, "BUY", 3, err)) ||
		    (rc = floe_batch_builder_bytes(bld, 6, "NYSE", 4, err)))
			break;
	}
	free(used);
	*gen_s = now_s() - g0;
	if (!rc)
		rc = floe_merge_begin(&m, t, &mo, err);
	if (rc) {
		floe_batch_builder_free(bld);
		floe_arena_free(ar);
		return rc;
	}
	if (dump_name) {
		double d0 = now_s();
		if (!(rc = dump_open(cf, dump_name, schema, err)) && nupd)
			rc = dump_rows(floe_batch_builder_view(bld), err);
		*gen_s += now_s() - d0;
	}
	if (!rc && nupd)
		rc = floe_merge_batch(m, floe_batch_builder_view(bld), err);
	for (int64_t done = nupd; !rc && done < rows;) {
		int64_t k = rows - done < BATCH_ROWS ? rows - done : BATCH_ROWS;
		double gg = now_s();
		gen_fill(gb, g, k);
		rc = dump_rows(&gb->b, err);
		*gen_s += now_s() - gg; /* generation (and the dump) is not merge time */
		if (!rc)
			rc = floe_merge_batch(m, &gb->b, err);
		done += k;
	}
	if (!rc && dump_name) {
		double d0 = now_s();
		rc = dump_close(err);
		*gen_s += now_s() - d0;
	}
	if (rc)
		floe_merge_abort(m);
	else
		rc = floe_merge_commit(m, res, err);
	floe_batch_builder_free(bld);
	floe_arena_free(ar);
	return rc;
}

static int run_mode(const config *cf, floe_catalog *cat, const char *mode, gen_batch *gb,
                    floe_error *err)
{
	char ident[64];
	snprintf(ident, sizeof ident, "bench.merge_%s", mode[0] == 'c' ? "cow" : "mor");
	floe_table *t = NULL;
	gen_state g;
	recent rec;
	rec.count = cf->n / 20; /* updates hit the most recent 5% (about 1.5 days) */
	if (rec.count < 1)
		rec.count = 1;
	rec.first_id = cf->n - rec.count + 1;
	rec.ts = malloc((size_t)rec.count * sizeof *rec.ts);
	if (!rec.ts)
		return FLOE_ENOMEM;
	gen_init(&g, (uint64_t)(2 * (SPAN_US / cf->n)) + 1);
	double t0 = now_s();
	int rc = create_table(&t, cat, ident, mode, cf, err);
	if (!rc)
		rc = load(t, cf, &g, gb, &rec, err);
	if (rc)
		goto done;
	int64_t files0 = 0, bytes0 = table_bytes(t, 0, &files0, err);
	printf("{\"phase\":\"load\",\"mode\":\"%s\",\"rows\":%" PRId64 ",\"seconds\":%.3f,"
	       "\"data_files\":%" PRId64 ",\"data_bytes\":%" PRId64 "}\n",
	       mode, cf->n, now_s() - t0, files0, bytes0);
	int64_t rows;
	double scan0 = full_scan(t, &rows, err);
	if (scan0 < 0) {
		rc = err->code;
		goto done;
	}
	double bytes_per_row = (double)bytes0 / (double)cf->n;
	double merge_s = 0;
	int64_t merged = 0, written = 0, rewritten = 0, files_before_total = 0;
	for (int i = 0; i < cf->batches; i++) {
		int64_t fb = 0;
		(void)table_bytes(t, 0, &fb, err);
		floe_merge_result res;
		double gen_s = 0, m0 = now_s();
		char dname[32];
		snprintf(dname, sizeof dname, "batch_%03d", i);
		if ((rc = upsert(t, cf, &g, gb, &rec, cf->batch_rows, cf->dump ? dname : NULL, &res, &gen_s,
		                 err)))
			goto done;
		double secs = now_s() - m0 - gen_s;
		/* bytes the commit wrote: its summary's added-files-size */
		int64_t wrote = 0;
		const floe_snapshot_info *si;
		int ns;
		if ((rc = floe_table_snapshots(t, &si, &ns, err)))
			goto done;
		const char *sz = strstr(si[ns - 1].summary_json, "\"added-files-size\":\"");
		if (sz)
			wrote = strtoll(sz + 20, NULL, 10);
		merge_s += secs;
		merged += res.source_rows;
		written += wrote;
		rewritten += res.data_files_removed;
		files_before_total += fb;
		printf("{\"phase\":\"upsert\",\"mode\":\"%s\",\"batch\":%d,\"rows\":%" PRId64
		       ",\"seconds\":%.4f,\"rows_per_s\":%.0f,\"upserted\":%" PRId64 ",\"updated\":%" PRId64
		       ",\"data_files_rewritten\":%" PRId64 ",\"data_files_before\":%" PRId64
		       ",\"bytes_written\":%" PRId64 ",\"write_amplification\":%.2f}\n",
		       mode, i, res.source_rows, secs, (double)res.source_rows / secs, res.upserted,
		       res.updated, res.data_files_removed, fb, wrote,
		       (double)wrote / ((double)res.source_rows * bytes_per_row));
	}
	int64_t rows1;
	double scan1 = full_scan(t, &rows1, err);
	path_list before = { 0 }, after = { 0 };
	double c0 = 0, cpu0 = 0;
	floe_compact_result cr;
	if (!(rc = floe_table_files(t, NULL, list_data_file, &before, err))) {
		c0 = now_s();
		cpu0 = cpu_s();
		rc = floe_table_compact(t, NULL, &cr, err);
	}
	double csecs = now_s() - c0, ccpu = cpu_s() - cpu0;
	int64_t unc = 0;
	char path[4096];
	if (cf->lists)
		snprintf(path, sizeof path, "%s/compacted_%s.txt", cf->lists, mode[0] == 'c' ? "cow" : "mor");
	if (!rc && !(rc = floe_table_files(t, NULL, list_data_file, &after, err)))
		rc = removed_files(cf->lists ? path : NULL, &before, &after, &unc, err);
	path_list_free(&before);
	path_list_free(&after);
	if (rc)
		goto done;
	int64_t rows2;
	double scan2 = full_scan(t, &rows2, err);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"phase\":\"summary\",\"mode\":\"%s\",\"batches\":%d,\"rows_merged\":%" PRId64
	       ",\"merge_seconds\":%.3f,\"rows_per_s\":%.0f,\"bytes_written\":%" PRId64
	       ",\"write_amplification\":%.2f,\"data_files_rewritten\":%" PRId64
	       ",\"data_files_seen\":%" PRId64 ",\"scan_rows_before\":%" PRId64
	       ",\"scan_seconds_before\":%.3f,\"scan_rows_after\":%" PRId64
	       ",\"scan_seconds_after\":%.3f,\"read_slowdown\":%.2f,\"compact_seconds\":%.3f"
	       ",\"compact_bytes_read\":%" PRId64 ",\"compact_mb_per_s\":%.1f"
	       ",\"compact_cpu_seconds\":%.3f,\"compact_mb_per_cpu_s\":%.1f"
	       ",\"compact_uncompressed_bytes_read\":%" PRId64 ",\"compact_uncompressed_mb_per_cpu_s\":%.1f"
	       ",\"compact_files\":%" PRId64
	       ",\"compact_files_copied\":%" PRId64 ",\"compact_delete_files_dropped\":%" PRId64 ",\"scan_rows_compacted\":%" PRId64
	       ",\"scan_seconds_compacted\":%.3f,\"read_slowdown_compacted\":%.2f"
	       ",\"peak_rss_mib\":%.1f}\n",
	       mode, cf->batches, merged, merge_s, (double)merged / merge_s, written,
	       (double)written / ((double)merged * bytes_per_row), rewritten, files_before_total, rows,
	       scan0, rows1, scan1, scan1 / scan0, csecs, cr.bytes_read,
	       (double)cr.bytes_read / 1e6 / csecs, ccpu, (double)cr.bytes_read / 1e6 / ccpu, unc,
	       (double)unc / 1e6 / ccpu, cr.data_files_rewritten, cr.data_files_copied,
	       cr.delete_files_removed,
	       rows2, scan2, scan2 / scan0, peak_rss_mib());
	fflush(stdout);
	/* memory: one MERGE of big_rows into the table, in a child process
	 * (its peak includes the pages it shares with this one at the fork:
	 * reported too) */
	double inherited = current_rss_mib();
	pid_t pid = fork();
	if (pid == 0) {
		floe_merge_result res;
		double gen_s;
		floe_error e2;
		floe_table *t2;
		if (floe_table_open(&t2, cat, ident, &e2) != 0)
			_exit(3);
		double m0 = now_s();
		int r2 = upsert(t2, cf, &g, gb, &rec, cf->big_rows, NULL, &res, &gen_s, &e2);
		double secs = now_s() - m0 - gen_s;
		if (r2) {
			fprintf(stderr, "bench_merge: %s\n", e2.msg);
			_exit(4);
		}
		printf("{\"phase\":\"big_merge\",\"mode\":\"%s\",\"rows\":%" PRId64 ",\"into_rows\":%" PRId64
		       ",\"seconds\":%.3f,\"rows_per_s\":%.0f,\"data_files_rewritten\":%" PRId64 ",",
		       mode, res.source_rows, rows2, secs, (double)res.source_rows / secs,
		       res.data_files_removed);
		fflush(stdout);
		_exit(0);
	}
	int status = 0;
	struct rusage rc2;
	if (pid < 0 || wait4(pid, &status, 0, &rc2) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		rc = FLOE_EIO;
		floe_error_set(err, FLOE_EIO, "the memory-measured merge failed");
		goto done;
	}
	printf("\"child_peak_rss_mib\":%.1f,\"rss_at_fork_mib\":%.1f}\n",
	       (double)rc2.ru_maxrss / 1024.0, inherited);
	fflush(stdout);
done:
	free(rec.ts);
	floe_table_close(t);
	return rc;
}

static int parse_int(int64_t *out, const char *s, int64_t min)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || v < min)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	config cf = { NULL, 0, 100000, 10, 0.10, 64LL << 20, 1000000, NULL, NULL };
	int bad = argc < 3;
	int64_t v;
	for (int i = 3; !bad && i < argc; i += 2) {
		if (i + 1 >= argc)
			bad = 1;
		else if (strcmp(argv[i], "--batch-rows") == 0)
			bad = parse_int(&cf.batch_rows, argv[i + 1], 10);
		else if (strcmp(argv[i], "--batches") == 0)
			bad = parse_int(&v, argv[i + 1], 1) || v > 1000 || (cf.batches = (int)v, 0);
		else if (strcmp(argv[i], "--target-bytes") == 0)
			bad = parse_int(&cf.target_bytes, argv[i + 1], 1024);
		else if (strcmp(argv[i], "--big-rows") == 0)
			bad = parse_int(&cf.big_rows, argv[i + 1], 1);
		else if (strcmp(argv[i], "--dump") == 0)
			cf.dump = argv[i + 1];
		else if (strcmp(argv[i], "--update-percent") == 0)
			bad = parse_int(&v, argv[i + 1], 0) || v > 100 || (cf.update_share = (double)v / 100, 0);
		else
			bad = 1;
	}
	if (!bad) {
		cf.work = argv[1];
		bad = parse_int(&cf.n, argv[2], 1000) || cf.n > 1000000000LL;
	}
	if (bad) {
		fprintf(stderr,
		        "usage: bench_merge WORK_DIR N [--batch-rows R (100000)] [--batches B (10)]\n"
		        "                   [--update-percent P (10)] [--target-bytes B (67108864)]\n"
		        "                   [--big-rows M (1000000)] [--dump DIR]\n"
		        "WORK_DIR must exist; the warehouse is WORK_DIR/warehouse.\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/warehouse", cf.work);
	floe_catalog *cat = NULL;
	floe_error err;
	floe_arena *arena = floe_arena_new(0);
	floe_schema *schema = NULL;
	gen_batch gb;
	memset(&gb, 0, sizeof gb);
	int rc = 1;
	if (!arena || floe_schema_parse(&schema, SCHEMA, arena, &err) != 0 || gen_alloc(&gb, schema) != 0 ||
	    floe_catalog_open(&cat, path, NULL, &err) != 0) {
		fprintf(stderr, "bench_merge: set-up failed\n");
		goto out;
	}
	printf("{\"phase\":\"config\",\"rows\":%" PRId64 ",\"batch_rows\":%" PRId64 ",\"batches\":%d,"
	       "\"update_share\":%.2f,\"target_file_bytes\":%" PRId64 ",\"big_rows\":%" PRId64 "}\n",
	       cf.n, cf.batch_rows, cf.batches, cf.update_share, cf.target_bytes, cf.big_rows);
	fflush(stdout);
	cf.lists = cf.dump;
	config cf2 = cf;
	cf2.dump = NULL; /* the same rows: dumped once */
	if (run_mode(&cf, cat, "merge-on-read", &gb, &err) || run_mode(&cf2, cat, "copy-on-write", &gb, &err)) {
		fprintf(stderr, "bench_merge: %s\n", err.msg);
		goto out;
	}
	rc = 0;
out:
	gen_free(&gb);
	floe_catalog_close(cat);
	floe_arena_free(arena);
	return rc;
}
