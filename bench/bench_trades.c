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
#include "floe/parquet.h"

#define BATCH_ROWS 65536
#define NSYMBOLS 500

static const char *const SCHEMA =
	"trade_id string not null, symbol string not null, price double not null, "
	"volume long not null, ts timestamptz not null, side string not null, "
	"exchange string not null";

static const char *const EXCHANGES[6] = { "NYSE", "NASDAQ", "ARCA", "BATS", "IEX", "EDGX" };


/* One batch with malloc'ed column buffers. */
typedef struct gen_batch {
	floe_batch b;
	floe_column cols[7];
} gen_batch;

typedef struct gen_state {
	char symbols[NSYMBOLS][8];
	double prices[NSYMBOLS];
	int64_t next_id;
	int64_t ts; /* micros since epoch */
} gen_state;

static void gen_init(gen_state *g)
{
	for (int i = 0; i < NSYMBOLS; i++) {
		int len = 3 + (int)(rng_next() % 3); /* 3..5 letters */
		for (int j = 0; j < len; j++)
			g->symbols[i][j] = (char)('A' + rng_next() % 26);
		g->symbols[i][len] = 0;
		g->prices[i] = 5.0 + rng_unit() * 495.0;
	}
	g->next_id = 1;
	g->ts = 1704067200000000LL; /* 2024-01-01T00:00:00Z */
}

/* "T" + 12 zero-padded decimal digits (ids stay below 10^12) */
static void format_id(char id[13], int64_t v)
{
	id[0] = 'T';
	for (int i = 12; i >= 1; i--) {
		id[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

static void str_col_alloc(floe_column *c, int64_t n, int64_t maxlen)
{
	c->type.id = FLOE_TYPE_STRING;
	c->offsets = malloc((size_t)(n + 1) * sizeof(int64_t));
	c->data = malloc((size_t)(n * maxlen));
	c->offsets[0] = 0;
}

static void str_put(floe_column *c, int64_t row, const char *s, size_t len)
{
	int64_t off = c->offsets[row];
	memcpy(c->data + off, s, len);
	c->offsets[row + 1] = off + (int64_t)len;
}

/* Allocate buffers for BATCH_ROWS rows; 0 or -1 when out of memory. */
static int gen_alloc(gen_batch *gb)
{
	floe_column *c = gb->cols;
	int64_t n = BATCH_ROWS;

	memset(gb, 0, sizeof(*gb));
	str_col_alloc(&c[0], n, 13);
	str_col_alloc(&c[1], n, 5);
	c[2].type.id = FLOE_TYPE_DOUBLE;
	c[2].values = malloc((size_t)n * sizeof(double));
	c[3].type.id = FLOE_TYPE_LONG;
	c[3].values = malloc((size_t)n * sizeof(int64_t));
	c[4].type.id = FLOE_TYPE_TIMESTAMPTZ;
	c[4].values = malloc((size_t)n * sizeof(int64_t));
	str_col_alloc(&c[5], n, 4);
	str_col_alloc(&c[6], n, 6);
	gb->b.ncols = 7;
	gb->b.cols = gb->cols;
	for (int i = 0; i < 7; i++)
		if ((c[i].type.id == FLOE_TYPE_STRING && (!c[i].offsets || !c[i].data)) ||
		    (c[i].type.id != FLOE_TYPE_STRING && !c[i].values))
			return -1;
	return 0;
}

/* Fill `gb` with the next `n` (<= BATCH_ROWS) rows of the generator. */
static void gen_fill(gen_batch *gb, gen_state *g, int64_t n)
{
	floe_column *c = gb->cols;
	double *price = c[2].values;
	int64_t *vol = c[3].values, *ts = c[4].values;

	for (int64_t r = 0; r < n; r++) {
		char id[13];
		format_id(id, g->next_id++);
		str_put(&c[0], r, id, 13);
		/* skewed symbol popularity: squaring a uniform favours low ids */
		double u = rng_unit();
		int s = (int)(u * u * NSYMBOLS);
		if (s >= NSYMBOLS)
			s = NSYMBOLS - 1;
		str_put(&c[1], r, g->symbols[s], strlen(g->symbols[s]));
		/* random walk in cents, kept positive */
		double p = g->prices[s] + ((double)(int)(rng_next() % 21) - 10.0) * 0.01;
		if (p < 1.0)
			p = 1.0;
		g->prices[s] = p;
		price[r] = round(p * 100.0) / 100.0;
		/* heavy tail: Pareto(alpha 1.2) number of 100-share lots, capped */
		double v = 1.0 / pow(1.0 - rng_unit() * 0.999999, 1.0 / 1.2);
		if (v > 1e6)
			v = 1e6;
		vol[r] = (int64_t)v * 100;
		g->ts += (int64_t)(rng_next() % 2000);
		ts[r] = g->ts;
		if (rng_next() & 1)
			str_put(&c[5], r, "BUY", 3);
		else
			str_put(&c[5], r, "SELL", 4);
		const char *ex = EXCHANGES[rng_next() % 6];
		str_put(&c[6], r, ex, strlen(ex));
	}
	gb->b.nrows = n;
}

static void gen_free(gen_batch *gb)
{
	for (int i = 0; i < 7; i++) {
		free(gb->cols[i].values);
		free(gb->cols[i].offsets);
		free(gb->cols[i].data);
	}
}

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
	if (gen_alloc(&gb) != 0) {
		fprintf(stderr, "bench_trades: out of memory\n");
		goto done;
	}
	gb.b.schema = schema;
	gen_init(&g);

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
