/* bench_trades - writes and reads N synthetic stock trades as ZSTD Parquet,
 * single-threaded, and prints one JSON line of rows/s (see bench/README.md). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_util.h"
#include "trades_gen.h"
#include "floe/parquet.h"

/* Each batch is generated into one reused buffer right before it is
 * written; the generation time is measured and subtracted from the total,
 * so the reported time is writer time only and memory holds one batch. */
static int do_write(const char *path, int64_t n)
{
	floe_error err;
	floe_arena *arena = floe_arena_new(0);
	floe_schema *schema = NULL;
	floe_parquet_writer *w = NULL;
	gen_batch gb;
	gen_state g;
	int rc = 1;
	double gen_s = 0, t0, t1;

	memset(&gb, 0, sizeof(gb));
	if (!arena || floe_schema_parse(&schema, SCHEMA, arena, &err) != 0) {
		fprintf(stderr, "bench_trades: schema: %s\n", arena ? err.msg : "no memory");
		goto done;
	}
	if (gen_alloc(&gb, NULL) != 0) {
		fprintf(stderr, "bench_trades: out of memory\n");
		goto done;
	}
	gb.b.schema = schema;
	gen_init(&g, 2000);

	floe_parquet_write_options opts;
	floe_parquet_write_options_init(&opts);
	opts.codec = FLOE_PARQUET_ZSTD;
	t0 = now_s();
	if (floe_parquet_writer_open(&w, path, schema, &opts, &err) != 0) {
		fprintf(stderr, "bench_trades: %s\n", err.msg);
		goto done;
	}
	int64_t written = 0;
	while (written < n) {
		int64_t rows = n - written;
		if (rows > BATCH_ROWS)
			rows = BATCH_ROWS;
		double g0 = now_s();
		gen_fill(&gb, &g, rows);
		gen_s += now_s() - g0;
		if (floe_parquet_writer_write(w, &gb.b, &err) != 0) {
			fprintf(stderr, "bench_trades: write: %s\n", err.msg);
			goto done;
		}
		written += rows;
	}
	floe_parquet_file_info info = { 0 };
	rc = floe_parquet_writer_close(w, &info, &err);
	w = NULL;
	t1 = now_s();
	if (rc != 0) {
		fprintf(stderr, "bench_trades: close: %s\n", err.msg);
		rc = 1;
		goto done;
	}
	double secs = (t1 - t0) - gen_s;
	printf("{\"mode\":\"write\",\"rows\":%lld,\"seconds\":%.4f,\"rows_per_s\":%.0f,"
	       "\"bytes\":%lld,\"row_groups\":%d,\"peak_rss_mib\":%.1f,"
	       "\"generation_seconds_excluded\":%.4f,"
	       "\"generation\":\"generated batch by batch into one reused buffer; "
	       "generation timed separately and subtracted\"}\n",
	       (long long)written, secs, (double)written / secs, (long long)info.file_bytes,
	       info.num_row_groups, peak_rss_mib(), gen_s);
	rc = 0;
done:
	floe_parquet_writer_abort(w);
	gen_free(&gb);
	floe_arena_free(arena);
	return rc;
}

static int do_read(const char *path)
{
	floe_error err;
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *s = NULL;
	int rc = 1;
	int64_t rows = 0, str_bytes = 0, nulls = 0;
	double fsum = 0;
	uint64_t isum = 0;
	double t0 = now_s();

	if (floe_parquet_reader_open(&r, path, &err) != 0 ||
	    floe_parquet_scan_open(&s, r, NULL, &err) != 0) {
		fprintf(stderr, "bench_trades: %s\n", err.msg);
		goto done;
	}
	for (;;) {
		const floe_batch *b;
		int k = floe_parquet_scan_next(s, &b, &err);
		if (k < 0) {
			fprintf(stderr, "bench_trades: scan: %s\n", err.msg);
			goto done;
		}
		if (k == 0)
			break;
		for (int ci = 0; ci < b->ncols; ci++) {
			const floe_column *c = &b->cols[ci];
			nulls += c->null_count;
			if (floe_type_is_variable(&c->type)) {
				/* touch every byte: length sum plus first byte */
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
			} else if (floe_type_value_width(&c->type) == 4) {
				const int32_t *v = c->values;
				for (int64_t i = 0; i < b->nrows; i++)
					isum += (uint64_t)(int64_t)v[i];
			}
		}
		rows += b->nrows;
	}
	double secs = now_s() - t0;
	printf("{\"mode\":\"read\",\"rows\":%lld,\"seconds\":%.4f,\"rows_per_s\":%.0f,"
	       "\"string_bytes\":%lld,\"sum_double\":%.2f,\"sum_int_mod64\":%llu,"
	       "\"nulls\":%lld,\"peak_rss_mib\":%.1f}\n",
	       (long long)rows, secs, (double)rows / secs, (long long)str_bytes, fsum,
	       (unsigned long long)isum, (long long)nulls, peak_rss_mib());
	rc = 0;
done:
	floe_parquet_scan_free(s);
	floe_parquet_reader_free(r);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "write") == 0) {
		char *end;
		long long n = strtoll(argv[3], &end, 10);
		if (*end || n <= 0) {
			fprintf(stderr, "bench_trades: bad row count '%s'\n", argv[3]);
			return 2;
		}
		return do_write(argv[2], n);
	}
	if (argc == 3 && strcmp(argv[1], "read") == 0)
		return do_read(argv[2]);
	fprintf(stderr, "usage: bench_trades write OUT.parquet N\n"
	                "       bench_trades read FILE.parquet\n");
	return 2;
}
