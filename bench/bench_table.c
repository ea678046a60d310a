/* bench_table - Iceberg table benchmark: appends N synthetic stock trades to a
 * day(ts)-partitioned table next to a raw Parquet write of the same rows,
 * times commits and pruned scans; single-threaded, JSON lines (bench/README.md). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "trades_gen.h"
#include "floe/catalog.h"
#include "floe/parquet.h"
#include "floe/table.h"

#define SPAN_US (30LL * 86400 * 1000000) /* the rows cover 30 days */
#define START_US 1704067200000000LL      /* 2024-01-01T00:00:00Z */
#define MAX_SAMPLES 100000


/* the one-hour window of the filtered scan: day 16, 12:00 to 13:00 UTC */
static const char *const HOUR_FROM = "2024-01-16T12:00:00Z";
static const char *const HOUR_TO = "2024-01-16T13:00:00Z";

typedef struct config {
	const char *work;
	int64_t n;
	int64_t target_bytes;  /* write.target-file-size-bytes */
	int64_t commit_rows;   /* rows per commit in the many-commits run */
	int small_commits;     /* appends in the commit-latency run */
	int64_t small_rows;    /* rows per such append */
	int write_repeat;      /* runs of the raw write and the one-commit append (best counts) */
} config;


/* the generator of bench/trades_gen.h with the timestamp step scaled so
 * that N rows cover 30 days (mean step SPAN_US / N) */
static uint64_t span_step(int64_t n)
{
	return (uint64_t)(2 * (SPAN_US / n)) + 1;
}

/* ---- helpers ---------------------------------------------------------------- */

typedef struct file_count {
	int64_t files;
	int64_t bytes;
	FILE *list; /* local paths, one a line, or NULL */
} file_count;

static int count_file(void *ctx, const floe_file_info *f, floe_error *err)
{
	file_count *fc = ctx;
	(void)err;
	if (f->content != 0)
		return 0;
	fc->files++;
	fc->bytes += f->file_size;
	if (fc->list)
		fprintf(fc->list, "%s\n", f->local_path);
	return 0;
}

static int table_count(floe_table *t, file_count *fc, floe_error *err)
{
	floe_snapshot_sel sel;
	memset(&sel, 0, sizeof sel);
	return floe_table_files(t, &sel, count_file, fc, err);
}

static int create_table(floe_table **out, floe_catalog *cat, const char *ident, const config *cf,
                        floe_error *err)
{
	char prop[64];
	const char *props[1] = { prop };
	floe_table_create_options o;
	int rc = floe_table_drop(cat, ident, true, err);

	if (rc != 0 && rc != FLOE_ENOTFOUND)
		return rc;
	snprintf(prop, sizeof prop, "write.target-file-size-bytes=%lld", (long long)cf->target_bytes);
	memset(&o, 0, sizeof o);
	o.schema = SCHEMA;
	o.partition = "day(ts)";
	o.properties = props;
	o.nproperties = 1;
	return floe_table_create(out, cat, ident, &o, err);
}

/* ---- phases ----------------------------------------------------------------- */

/* Raw Parquet write of the N rows: one file, or (roll > 0) a new file each
 * time the current one reaches `roll` bytes. Generation is subtracted. */
/* Rows [from, from + n) of `b` as a view (the generated batch has no NULLs,
 * so no validity bitmap to realign; string offsets index the data buffer
 * absolutely). */
static void batch_slice(const floe_batch *b, int64_t from, int64_t n, floe_column *cols,
                        floe_batch *out)
{
	for (int c = 0; c < b->ncols; c++) {
		cols[c] = b->cols[c];
		if (cols[c].offsets)
			cols[c].offsets += from;
		else
			cols[c].values = (uint8_t *)cols[c].values +
			                 (size_t)from * (size_t)floe_type_value_width(&cols[c].type);
	}
	*out = *b;
	out->nrows = n;
	out->cols = cols;
}

/* Raw Parquet writes of the N rows: one file (roll 0), a new file every
 * `roll` bytes (roll > 0), or one file per UTC day of ts (roll < 0: the
 * files a day(ts) table holds, written by hand, so the table's own cost
 * shows apart from the cost of smaller files). */
static int phase_raw(const config *cf, const floe_schema *schema, gen_batch *gb, int64_t roll,
                     double *rate)
{
	floe_column slice_cols[16];
	floe_error err;
	floe_parquet_writer *w = NULL;
	floe_parquet_write_options opts;
	gen_state g;
	char path[4096];
	double gen_s = 0, t0 = now_s();
	int64_t written = 0, bytes = 0;
	int files = 0, rc = 1;
	int64_t cur_day = 0;

	floe_parquet_write_options_init(&opts);
	opts.codec = FLOE_PARQUET_ZSTD;
	gen_init(&g, span_step(cf->n));
	while (written < cf->n) {
		int64_t rows = cf->n - written;
		if (rows > BATCH_ROWS)
			rows = BATCH_ROWS;
		double g0 = now_s();
		gen_fill(gb, &g, rows);
		gen_s += now_s() - g0;
		if (roll < 0) {
			/* split at day boundaries (ts ascends) */
			const int64_t *ts = gb->b.cols[4].values;
			int64_t from = 0;
			while (from < rows) {
				int64_t day = ts[from] / 86400000000LL, to = from + 1;
				while (to < rows && ts[to] / 86400000000LL == day)
					to++;
				if (w && day != cur_day) {
					floe_parquet_file_info info = { 0 };
					int k = floe_parquet_writer_close(w, &info, &err);
					w = NULL;
					if (k != 0)
						goto fail;
					bytes += info.file_bytes;
				}
				if (!w) {
					snprintf(path, sizeof path, "%s/raw-day-%05d.parquet", cf->work, files);
					if (floe_parquet_writer_open(&w, path, schema, &opts, &err) != 0)
						goto fail;
					files++;
					cur_day = day;
				}
				floe_batch part;
				batch_slice(&gb->b, from, to - from, slice_cols, &part);
				if (floe_parquet_writer_write(w, &part, &err) != 0)
					goto fail;
				from = to;
			}
			written += rows;
			if (written == cf->n && w) {
				floe_parquet_file_info info = { 0 };
				int k = floe_parquet_writer_close(w, &info, &err);
				w = NULL;
				if (k != 0)
					goto fail;
				bytes += info.file_bytes;
			}
			continue;
		}
		if (!w) {
			snprintf(path, sizeof path, "%s/raw%s-%05d.parquet", cf->work, roll ? "-rolled" : "",
			         files);
			if (floe_parquet_writer_open(&w, path, schema, &opts, &err) != 0)
				goto fail;
			files++;
		}
		if (floe_parquet_writer_write(w, &gb->b, &err) != 0)
			goto fail;
		written += rows;
		if ((roll > 0 && floe_parquet_writer_bytes(w) >= roll) || written == cf->n) {
			floe_parquet_file_info info = { 0 };
			int k = floe_parquet_writer_close(w, &info, &err);
			w = NULL;
			if (k != 0)
				goto fail;
			bytes += info.file_bytes;
		}
	}
	double secs = now_s() - t0 - gen_s;
	*rate = (double)written / secs;
	printf("{\"phase\":\"%s\",\"rows\":%lld,\"seconds\":%.4f,\"rows_per_s\":%.0f,\"files\":%d,"
	       "\"bytes\":%lld,\"generation_seconds_excluded\":%.4f,\"peak_rss_mib\":%.1f}\n",
	       roll < 0 ? "raw_write_by_day" : roll ? "raw_write_rolled" : "raw_write", (long long)written, secs, *rate, files,
	       (long long)bytes, gen_s, peak_rss_mib());
	fflush(stdout);
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "bench_table: raw write: %s\n", err.msg);
done:
	floe_parquet_writer_abort(w);
	return rc;
}

/* Append the N rows to a fresh table, committing every `commit_rows` rows
 * (0 = once at the end). Generation is subtracted. */
static int phase_append(const config *cf, floe_catalog *cat, const char *ident, gen_batch *gb,
                        int64_t commit_rows, double raw_rate, FILE *list)
{
	floe_error err;
	floe_table *t = NULL;
	floe_append *a = NULL;
	gen_state g;
	double gen_s = 0, commit_s = 0, *lat = NULL;
	int64_t written = 0, pending = 0;
	int commits = 0, rc = 1, maxc = (int)(commit_rows > 0 ? cf->n / commit_rows + 2 : 2);

	lat = malloc((size_t)maxc * sizeof *lat);
	if (!lat || create_table(&t, cat, ident, cf, &err) != 0)
		goto fail;
	gen_init(&g, span_step(cf->n));
	double t0 = now_s();
	while (written < cf->n) {
		int64_t rows = cf->n - written;
		if (rows > BATCH_ROWS)
			rows = BATCH_ROWS;
		if (commit_rows > 0 && rows > commit_rows - pending)
			rows = commit_rows - pending;
		double g0 = now_s();
		gen_fill(gb, &g, rows);
		gen_s += now_s() - g0;
		if (!a && floe_append_begin(&a, t, &err) != 0)
			goto fail;
		if (floe_append_batch(a, &gb->b, &err) != 0)
			goto fail;
		written += rows;
		pending += rows;
		if ((commit_rows > 0 && pending >= commit_rows) || written == cf->n) {
			double c0 = now_s();
			floe_append *x = a;
			a = NULL;
			if (floe_append_commit(x, NULL, &err) != 0)
				goto fail;
			double c = now_s() - c0;
			commit_s += c;
			if (commits < maxc)
				lat[commits] = c;
			commits++;
			pending = 0;
		}
	}
	double secs = now_s() - t0 - gen_s;
	file_count fc = { 0, 0, list };
	if (table_count(t, &fc, &err) != 0)
		goto fail;
	int nl = commits < maxc ? commits : maxc;
	qsort(lat, (size_t)nl, sizeof *lat, cmp_double);
	double rate = (double)written / secs;
	printf("{\"phase\":\"%s\",\"table\":\"%s\",\"rows\":%lld,\"seconds\":%.4f,\"rows_per_s\":%.0f,"
	       "\"ratio_to_raw_write\":%.3f,\"commits\":%d,\"commit_seconds_total\":%.4f,"
	       "\"commit_ms_p50\":%.2f,\"commit_ms_p99\":%.2f,\"commit_ms_max\":%.2f,"
	       "\"data_files\":%lld,\"data_bytes\":%lld,\"target_file_bytes\":%lld,"
	       "\"generation_seconds_excluded\":%.4f,\"peak_rss_mib\":%.1f}\n",
	       commit_rows > 0 ? "append_many_commits" : "append_one_commit", ident,
	       (long long)written, secs, rate, rate / raw_rate, commits, commit_s,
	       pct(lat, nl, 50) * 1e3, pct(lat, nl, 99) * 1e3, nl ? lat[nl - 1] * 1e3 : 0.0,
	       (long long)fc.files, (long long)fc.bytes, (long long)cf->target_bytes, gen_s,
	       peak_rss_mib());
	fflush(stdout);
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "bench_table: append %s: %s\n", ident, err.msg);
done:
	floe_append_abort(a);
	floe_table_close(t);
	free(lat);
	return rc;
}

/* `k` appends of `rows` rows each to a fresh table; the latency of
 * floe_append_commit and of the whole begin..commit. */
static int phase_commits(const config *cf, floe_catalog *cat, const char *ident, gen_batch *gb)
{
	floe_error err;
	floe_table *t = NULL;
	floe_append *a = NULL;
	gen_state g;
	int k = cf->small_commits, rc = 1;
	double *lc = malloc((size_t)k * sizeof *lc), *lt = malloc((size_t)k * sizeof *lt);

	if (!lc || !lt || create_table(&t, cat, ident, cf, &err) != 0)
		goto fail;
	gen_init(&g, span_step(cf->n));
	for (int i = 0; i < k; i++) {
		gen_fill(gb, &g, cf->small_rows);
		double t0 = now_s();
		if (floe_append_begin(&a, t, &err) != 0 || floe_append_batch(a, &gb->b, &err) != 0)
			goto fail;
		double c0 = now_s();
		floe_append *x = a;
		a = NULL;
		if (floe_append_commit(x, NULL, &err) != 0)
			goto fail;
		double t1 = now_s();
		lc[i] = t1 - c0;
		lt[i] = t1 - t0;
	}
	double first = lc[0], last = lc[k - 1];
	qsort(lc, (size_t)k, sizeof *lc, cmp_double);
	qsort(lt, (size_t)k, sizeof *lt, cmp_double);
	file_count fc = { 0, 0, NULL };
	if (table_count(t, &fc, &err) != 0)
		goto fail;
	printf("{\"phase\":\"commit_latency\",\"table\":\"%s\",\"appends\":%d,\"rows_each\":%lld,"
	       "\"commit_ms_p50\":%.2f,\"commit_ms_p99\":%.2f,\"commit_ms_min\":%.2f,"
	       "\"commit_ms_max\":%.2f,\"commit_ms_first\":%.2f,\"commit_ms_last\":%.2f,"
	       "\"append_total_ms_p50\":%.2f,\"append_total_ms_p99\":%.2f,\"data_files\":%lld,"
	       "\"peak_rss_mib\":%.1f}\n",
	       ident, k, (long long)cf->small_rows, pct(lc, k, 50) * 1e3, pct(lc, k, 99) * 1e3,
	       lc[0] * 1e3, lc[k - 1] * 1e3, first * 1e3, last * 1e3, pct(lt, k, 50) * 1e3,
	       pct(lt, k, 99) * 1e3, (long long)fc.files, peak_rss_mib());
	fflush(stdout);
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "bench_table: commits %s: %s\n", ident, err.msg);
done:
	floe_append_abort(a);
	floe_table_close(t);
	free(lc);
	free(lt);
	return rc;
}

/* Scan the table (`where` NULL = everything), touching every value of
 * every returned row, as bench_trades' read does. */
static int phase_scan(floe_catalog *cat, const char *ident, const char *label, const char *where)
{
	floe_error err;
	floe_table *t = NULL;
	floe_scan *s = NULL;
	floe_scan_options o;
	floe_scan_stats st;
	int64_t rows = 0, str_bytes = 0;
	uint64_t isum = 0;
	double fsum = 0;
	int rc = 1;

	double t0 = now_s();
	if (floe_table_open(&t, cat, ident, &err) != 0)
		goto fail;
	floe_scan_options_init(&o);
	o.where = where;
	if (floe_scan_open(&s, t, &o, &err) != 0)
		goto fail;
	for (;;) {
		const floe_batch *b;
		int k = floe_scan_next(s, &b, &err);
		if (k < 0)
			goto fail;
		if (k == 0)
			break;
		for (int ci = 0; ci < b->ncols; ci++) {
			const floe_column *c = &b->cols[ci];
			if (floe_type_is_variable(&c->type)) {
				for (int64_t i = 0; i < b->nrows; i++) {
					int64_t len = c->offsets[i + 1] - c->offsets[i];
					str_bytes += len;
					if (len > 0)
						isum += c->data[c->offsets[i]];
				}
			} else if (c->type.id == FLOE_TYPE_DOUBLE) {
				const double *v = c->values;
				for (int64_t i = 0; i < b->nrows; i++)
					fsum += v[i];
			} else if (floe_type_value_width(&c->type) == 8) {
				const int64_t *v = c->values;
				for (int64_t i = 0; i < b->nrows; i++)
					isum += (uint64_t)v[i];
			}
		}
		rows += b->nrows;
	}
	double secs = now_s() - t0;
	floe_scan_get_stats(s, &st);
	printf("{\"phase\":\"%s\",\"table\":\"%s\",\"where\":\"%s\",\"rows\":%lld,\"seconds\":%.4f,"
	       "\"ms\":%.2f,\"rows_per_s\":%.0f,\"files\":%lld,\"files_read\":%lld,"
	       "\"files_skipped\":%lld,\"files_read_pct\":%.3f,\"manifests\":%lld,"
	       "\"manifests_skipped\":%lld,\"row_groups\":%lld,\"row_groups_skipped\":%lld,"
	       "\"rows_scanned\":%lld,\"bytes_read\":%lld,\"string_bytes\":%lld,"
	       "\"sum_price\":%.2f,\"sum_int_mod64\":%llu,\"peak_rss_mib\":%.1f}\n",
	       label, ident, where ? where : "", (long long)rows, secs, secs * 1e3,
	       (double)rows / secs, (long long)st.files, (long long)st.files_read,
	       (long long)st.files_skipped,
	       st.files ? 100.0 * (double)st.files_read / (double)st.files : 0.0,
	       (long long)st.manifests, (long long)st.manifests_skipped, (long long)st.row_groups,
	       (long long)st.row_groups_skipped, (long long)st.rows_scanned,
	       (long long)st.bytes_read, (long long)str_bytes, fsum, (unsigned long long)isum,
	       peak_rss_mib());
	fflush(stdout);
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "bench_table: scan %s: %s\n", ident, err.msg);
done:
	floe_scan_free(s);
	floe_table_close(t);
	return rc;
}

static int run(const config *cf)
{
	floe_error err;
	floe_arena *arena = floe_arena_new(0);
	floe_schema *schema = NULL;
	floe_catalog *cat = NULL;
	FILE *list = NULL;
	gen_batch gb;
	char path[4096], where[256];
	double raw = 0, rolled = 0, byday = 0;
	int rc = 1;

	memset(&gb, 0, sizeof gb);
	if (!arena || floe_schema_parse(&schema, SCHEMA, arena, &err) != 0) {
		fprintf(stderr, "bench_table: schema: %s\n", arena ? err.msg : "no memory");
		goto done;
	}
	if (gen_alloc(&gb, schema) != 0) {
		fprintf(stderr, "bench_table: out of memory\n");
		goto done;
	}
	snprintf(path, sizeof path, "%s/warehouse", cf->work);
	if (floe_catalog_open(&cat, path, NULL, &err) != 0) {
		fprintf(stderr, "bench_table: catalog: %s\n", err.msg);
		goto done;
	}
	snprintf(path, sizeof path, "%s/table_files.txt", cf->work);
	if (!(list = fopen(path, "w"))) {
		fprintf(stderr, "bench_table: cannot write %s\n", path);
		goto done;
	}
	snprintf(where, sizeof where, "ts >= '%s' and ts < '%s'", HOUR_FROM, HOUR_TO);
	/* the one-file raw write and the one-commit append are each run
	 * write_repeat times and compared best to best: on a shared machine
	 * one run of either varies by several percent */
	for (int i = 0; i < cf->write_repeat; i++) {
		double r = 0;
		if (phase_raw(cf, schema, &gb, 0, &r))
			goto done;
		if (r > raw)
			raw = r;
		sync();
	}
	if (phase_raw(cf, schema, &gb, cf->target_bytes, &rolled))
		goto done;
	sync();
	if (phase_raw(cf, schema, &gb, -1, &byday))
		goto done;
	sync();
	for (int i = 0; i < cf->write_repeat; i++) {
		/* each run replaces the table; the last one stays for the scans */
		if (phase_append(cf, cat, "bench.trades", &gb, 0, raw,
		                 i == cf->write_repeat - 1 ? list : NULL))
			goto done;
		sync();
	}
	fclose(list);
	list = NULL;
	/* untimed: write back what earlier phases left dirty, so that the
	 * fsyncs of the commit-latency phase wait for its own files only */
	sync();
	if (phase_append(cf, cat, "bench.trades_many", &gb, cf->commit_rows, raw, NULL))
		goto done;
	sync();
	if (phase_commits(cf, cat, "bench.commits", &gb))
		goto done;
	sync();
	if (phase_scan(cat, "bench.trades", "scan_hour", where) ||
	    phase_scan(cat, "bench.trades", "scan_hour", where) ||
	    phase_scan(cat, "bench.trades_many", "scan_hour_many_commits", where) ||
	    phase_scan(cat, "bench.trades", "scan_full", NULL))
		goto done;
	printf("{\"phase\":\"config\",\"rows\":%lld,\"target_file_bytes\":%lld,\"commit_rows\":%lld,"
	       "\"small_commits\":%d,\"small_rows\":%lld,\"hour_from\":\"%s\",\"hour_to\":\"%s\","
	       "\"raw_rolled_rows_per_s\":%.0f,\"raw_by_day_rows_per_s\":%.0f,\"peak_rss_mib\":%.1f}\n",
	       (long long)cf->n, (long long)cf->target_bytes, (long long)cf->commit_rows,
	       cf->small_commits, (long long)cf->small_rows, HOUR_FROM, HOUR_TO, rolled, byday,
	       peak_rss_mib());
	rc = 0;
done:
	if (list)
		fclose(list);
	floe_catalog_close(cat);
	gen_free(&gb);
	floe_arena_free(arena);
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
	config cf = { NULL, 0, 1LL << 20, BATCH_ROWS, 200, 1000, 3 };
	int64_t k = 0;
	int bad = argc < 3;

	for (int i = 3; !bad && i < argc; i += 2) {
		if (i + 1 >= argc)
			bad = 1;
		else if (strcmp(argv[i], "--target-bytes") == 0)
			bad = parse_int(&cf.target_bytes, argv[i + 1], 1024);
		else if (strcmp(argv[i], "--commit-rows") == 0)
			bad = parse_int(&cf.commit_rows, argv[i + 1], 1);
		else if (strcmp(argv[i], "--small-commits") == 0)
			bad = parse_int(&k, argv[i + 1], 1) || k > MAX_SAMPLES || (cf.small_commits = (int)k, 0);
		else if (strcmp(argv[i], "--write-repeat") == 0)
			bad = parse_int(&k, argv[i + 1], 1) || k > 100 || (cf.write_repeat = (int)k, 0);
		else if (strcmp(argv[i], "--small-rows") == 0)
			bad = parse_int(&cf.small_rows, argv[i + 1], 1) || cf.small_rows > BATCH_ROWS;
		else
			bad = 1;
	}
	if (!bad) {
		cf.work = argv[1];
		bad = parse_int(&cf.n, argv[2], 1000) || cf.n > 100000000000LL;
	}
	if (bad) {
		fprintf(stderr,
		        "usage: bench_table WORK_DIR N [--target-bytes B (1048576)] [--commit-rows R (65536)]\n"
		        "                   [--small-commits K (200)] [--small-rows M (1000)]\n"
		        "                   [--write-repeat W (3): best of W raw writes and one-commit appends]\n"
		        "WORK_DIR must exist; the warehouse is WORK_DIR/warehouse.\n");
		return 2;
	}
	return run(&cf);
}
