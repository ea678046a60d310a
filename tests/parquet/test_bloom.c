/* tests/parquet/test_bloom.c - split-block Bloom filters: every written
 * value probes as maybe-present (no false negatives) for every supported
 * type over several row groups, absent values are mostly rejected, DuckDB
 * reads floe's filters (parquet_bloom_probe), floe reads the filters of the
 * parquet-testing corpus, and corrupt filters are clean errors. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/arena.h"
#include "floe/batch.h"
#include "floe/parquet.h"
#include "floe/schema.h"
#include "harness.h"

#define ROWS 30000

static void key(char *buf, int64_t i)
{
	snprintf(buf, 24, "K%09" PRId64, i * 7);
}

/* ids i*7 for i in [0, ROWS) in every column type; 3+ row groups */
static void write_bloom_file(const char *path)
{
	floe_error errv, *err = &errv;
	floe_arena *a = floe_arena_new(0);
	floe_schema *s;
	REQUIRE_OK(floe_schema_parse(&s, "i int, l long, d double, s string, f fixed[8], n int", a, err), err);
	floe_parquet_write_options o;
	floe_parquet_write_options_init(&o);
	static const char *const cols[5] = { "i", "l", "d", "s", "f" };
	o.bloom_columns = cols;
	o.nbloom_columns = 5;
	o.row_group_bytes = 256 * 1024;
	floe_parquet_writer *w;
	REQUIRE_OK(floe_parquet_writer_open(&w, path, s, &o, err), err);
	floe_batch_builder *b;
	REQUIRE_OK(floe_batch_builder_new(&b, s, err), err);
	for (int64_t i = 0; i < ROWS; i++) {
		char k[24];
		key(k, i);
		uint8_t fx[8];
		int64_t v = i * 7;
		memcpy(fx, &v, 8);
		floe_batch_builder_i32(b, 0, (int32_t)(i * 7), err);
		floe_batch_builder_i64(b, 1, i * 7, err);
		floe_batch_builder_f64(b, 2, (double)i * 7.5, err);
		floe_batch_builder_bytes(b, 3, k, (int64_t)strlen(k), err);
		floe_batch_builder_bytes(b, 4, fx, 8, err);
		if (i % 3)
			floe_batch_builder_i32(b, 5, 1, err);
		else
			floe_batch_builder_null(b, 5, err);
		if (floe_batch_builder_rows(b) == 4096 || i + 1 == ROWS) {
			REQUIRE_OK(floe_parquet_writer_write(w, floe_batch_builder_view(b), err), err);
			floe_batch_builder_clear(b);
		}
	}
	floe_parquet_file_info info;
	REQUIRE_OK(floe_parquet_writer_close(w, &info, err), err);
	CHECK(info.num_row_groups >= 3);
	floe_batch_builder_free(b);
	floe_arena_free(a);
}

static void probe_value(int col, int64_t i, floe_value *v, char *kbuf, uint8_t *fx)
{
	memset(v, 0, sizeof *v);
	switch (col) {
	case 0: case 1: v->i = i * 7; break;
	case 2: v->d = (double)i * 7.5; break;
	case 3: key(kbuf, i); v->bytes = (const uint8_t *)kbuf; v->len = (int64_t)strlen(kbuf); break;
	default: {
		int64_t x = i * 7;
		memcpy(fx, &x, 8);
		v->bytes = fx;
		v->len = 8;
	}
	}
}

TEST(pq_bloom_no_false_negatives_and_few_false_positives)
{
	floe_error errv, *err = &errv;
	const char *path = th_path("bloom.parquet");
	write_bloom_file(path);
	floe_parquet_reader *r;
	REQUIRE_OK(floe_parquet_reader_open(&r, path, err), err);
	int nrg = floe_parquet_reader_num_row_groups(r);
	REQUIRE(nrg >= 3);
	for (int col = 0; col < 5; col++) {
		int64_t fp = 0, probes = 0, missed = 0;
		for (int64_t i = 0; i < ROWS; i += 97) {
			char kb[24];
			uint8_t fx[8];
			floe_value v;
			probe_value(col, i, &v, kb, fx);
			bool any = false;
			for (int g = 0; g < nrg; g++) {
				bool maybe;
				REQUIRE_OK(floe_parquet_reader_bloom_probe(r, g, col, &v, &maybe, err), err);
				any |= maybe;
			}
			missed += !any;
		}
		/* absent values: ids that are not multiples of 7 (and doubles off the grid) */
		for (int64_t i = 0; i < 10000; i++) {
			char kb[24];
			uint8_t fx[8];
			floe_value v;
			probe_value(col, i, &v, kb, fx);
			if (col <= 1)
				v.i = i * 7 + 3;
			else if (col == 2)
				v.d = (double)i * 7.5 + 0.25;
			else if (col == 3)
				snprintf(kb, sizeof kb, "X%09" PRId64, i), v.len = (int64_t)strlen(kb);
			else
				fx[7] ^= 0x5A;
			bool maybe;
			REQUIRE_OK(floe_parquet_reader_bloom_probe(r, 0, col, &v, &maybe, err), err);
			fp += maybe;
			probes++;
		}
		if (missed)
			th_fail(__FILE__, __LINE__, "column %d: %" PRId64 " present values rejected", col, missed);
		/* target 1%: allow up to 5% */
		if (fp * 20 > probes)
			th_fail(__FILE__, __LINE__, "column %d: %" PRId64 " of %" PRId64 " absent values passed",
			        col, fp, probes);
	}
	/* a column without a filter: always maybe */
	floe_value v;
	memset(&v, 0, sizeof v);
	v.i = 12345;
	bool maybe = false;
	REQUIRE_OK(floe_parquet_reader_bloom_probe(r, 0, 5, &v, &maybe, err), err);
	CHECK(maybe);
	floe_parquet_reader_free(r);
}

TEST(pq_bloom_read_by_duckdb)
{
	const char *peers = th_peers();
	const char *path = th_path("bloom_duck.parquet");
	write_bloom_file(path);
	char *out = NULL;
	/* present: never excluded; absent: excluded in most row groups */
	REQUIRE(th_run(&out, "node %s/duckdb-query.mjs --format csv \"select "
	               "(select count(*) from parquet_bloom_probe('%s', 's', 'K000000007') where "
	               "bloom_filter_excludes) || ',' || "
	               "(select count(*) from parquet_bloom_probe('%s', 's', 'nope-not-there') where "
	               "bloom_filter_excludes) || ',' || "
	               "(select count(*) from parquet_bloom_probe('%s', 'l', 700) where "
	               "bloom_filter_excludes) || ',' || "
	               "(select count(*) from parquet_bloom_probe('%s', 'l', 701) where "
	               "bloom_filter_excludes) || ',' || "
	               "(select count(*) from parquet_metadata('%s') where bloom_filter_offset is not null) "
	               "as r\"", peers, path, path, path, path, path) == 0);
	int p1 = -1, a1 = -1, p2 = -1, a2 = -1, nf = -1;
	const char *line = out ? strchr(out, '\n') : NULL;
	if (line && line[1] == '"')
		line++; /* the CSV value may be quoted */
	if (!line || sscanf(line + 1, "%d,%d,%d,%d,%d", &p1, &a1, &p2, &a2, &nf) != 5) {
		th_fail(__FILE__, __LINE__, "duckdb: %s", out ? out : "(nothing)");
		free(out);
		return;
	}
	floe_parquet_reader *r;
	floe_error err;
	REQUIRE_OK(floe_parquet_reader_open(&r, path, &err), &err);
	int nrg = floe_parquet_reader_num_row_groups(r);
	floe_parquet_reader_free(r);
	CHECK_EQ_INT(p1, nrg - 1); /* present in one row group only: excluded elsewhere */
	CHECK_EQ_INT(p2, nrg - 1);
	CHECK(a1 >= nrg - 1 && a2 >= nrg - 1);
	CHECK_EQ_INT(nf, 5 * nrg);
	free(out);
}

TEST(pq_bloom_reads_the_corpus_filters)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/testdata/parquet-testing/data/data_index_bloom_encoding_stats.parquet",
	         th_shared());
	floe_parquet_reader *r;
	floe_error err;
	REQUIRE_OK(floe_parquet_reader_open(&r, path, &err), &err);
	int col = floe_schema_find(floe_parquet_reader_schema(r), "String");
	REQUIRE(col >= 0);
	/* every value of the column probes as maybe-present */
	floe_parquet_scan *s;
	floe_parquet_scan_options so;
	floe_parquet_scan_options_init(&so);
	REQUIRE_OK(floe_parquet_scan_open(&s, r, &so, &err), &err);
	const floe_batch *b;
	int64_t n = 0, missed = 0;
	while (floe_parquet_scan_next(s, &b, &err) == 1)
		for (int64_t i = 0; i < b->nrows; i++) {
			const floe_column *c = &b->cols[col];
			if (!floe_column_is_valid(c, i))
				continue;
			floe_value v;
			memset(&v, 0, sizeof v);
			v.bytes = c->data + c->offsets[i];
			v.len = c->offsets[i + 1] - c->offsets[i];
			bool maybe;
			REQUIRE_OK(floe_parquet_reader_bloom_probe(r, 0, col, &v, &maybe, &err), &err);
			missed += !maybe;
			n++;
		}
	floe_parquet_scan_free(s);
	CHECK(n > 0);
	CHECK_EQ_INT(missed, 0);
	floe_value v;
	memset(&v, 0, sizeof v);
	v.bytes = (const uint8_t *)"certainly not a value in there";
	v.len = 30;
	bool maybe = true;
	REQUIRE_OK(floe_parquet_reader_bloom_probe(r, 0, col, &v, &maybe, &err), &err);
	CHECK(!maybe);
	floe_parquet_reader_free(r);
}

TEST(pq_bloom_corrupt_filters_are_errors)
{
	const char *path = th_path("bloom_c.parquet");
	write_bloom_file(path);
	size_t len;
	uint8_t *file = (uint8_t *)th_read_file(path, &len);
	REQUIRE(file);
	floe_parquet_reader *r;
	floe_error err;
	REQUIRE_OK(floe_parquet_reader_open(&r, path, &err), &err);
	floe_parquet_reader_free(r);
	/* the first row group's filters start right after its column chunks:
	 * flip each byte of the first kilobyte after the first "PAR1" that
	 * belongs to a filter header and probe every column */
	int errors = 0, probes = 0;
	for (size_t at = 4; at < len - 8 && probes < 4000; at += 97) {
		uint8_t keep = file[at];
		file[at] ^= 0xFF;
		FILE *f = fopen(th_path("bloom_c2.parquet"), "wb");
		REQUIRE(f);
		fwrite(file, 1, len, f);
		fclose(f);
		file[at] = keep;
		if (floe_parquet_reader_open(&r, th_path("bloom_c2.parquet"), &err) != 0)
			continue;
		for (int col = 0; col < 5; col++) {
			floe_value v;
			memset(&v, 0, sizeof v);
			v.i = 7;
			v.bytes = (const uint8_t *)"K000000007";
			v.len = 10;
			bool maybe;
			int rc = floe_parquet_reader_bloom_probe(r, 0, col, &v, &maybe, &err);
			probes++;
			if (rc) {
				errors++;
				CHECK(rc == FLOE_ECORRUPT || rc == FLOE_EUNSUPPORTED);
				CHECK(strstr(err.msg, "bloom_c2.parquet") != NULL);
			}
		}
		floe_parquet_reader_free(r);
	}
	CHECK(probes > 0);
	free(file);
}

/* Filters DuckDB writes (it adds them to dictionary-encoded columns):
 * every value it wrote probes as maybe-present, and most absent ones are
 * rejected. */
TEST(pq_bloom_reads_filters_duckdb_wrote)
{
	const char *peers = th_peers();
	const char *path = th_path("duck_bloom.parquet");
	REQUIRE(th_run(NULL, "node %s/duckdb-query.mjs --format csv \"copy (select 'K' || (i %% 500) as s, "
	               "i %% 300 as l from range(100000) t(i)) to '%s' (format parquet)\"", peers,
	               path) == 0);
	floe_parquet_reader *r;
	floe_error err;
	REQUIRE_OK(floe_parquet_reader_open(&r, path, &err), &err);
	int nrg = floe_parquet_reader_num_row_groups(r);
	int64_t missed = 0, passed_absent = 0, loaded = 0;
	for (int g = 0; g < nrg; g++) {
		uint8_t *bits;
		uint32_t nb;
		REQUIRE_OK(floe_parquet_reader_bloom_load(r, g, 0, &bits, &nb, &err), &err);
		loaded += bits != NULL;
		for (int i = 0; i < 1000; i++) {
			char k[16];
			int n = snprintf(k, sizeof k, "K%d", i);
			bool maybe = floe_parquet_bloom_check(bits, nb, k, (size_t)n);
			if (i < 500)
				missed += !maybe;
			else
				passed_absent += maybe;
		}
		free(bits);
		for (int64_t i = 0; i < 300; i++) {
			floe_value v;
			memset(&v, 0, sizeof v);
			v.i = i;
			bool maybe;
			REQUIRE_OK(floe_parquet_reader_bloom_probe(r, g, 1, &v, &maybe, &err), &err);
			missed += !maybe;
		}
	}
	floe_parquet_reader_free(r);
	CHECK(loaded >= 1);
	CHECK_EQ_INT(missed, 0);
	CHECK(passed_absent * 4 < 500 * (int64_t)nrg); /* most of the 500 absent keys rejected */
}
