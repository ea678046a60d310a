/* tests/parquet/test_reader.c - the Parquet reader on files written by
 * floe_parquet_writer: round trips of every type, projection, skipping by
 * statistics and page index, batch limits, describe and hostile copies. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "floe/parquet.h"
#include "harness.h"
#include "parquet/reader_int.h"

#define NROWS 5000

static const char *SCHEMA_TEXT =
	"id long not null, b boolean, i int, l long, f float, d double, dec decimal(9,2), "
	"big decimal(30,3), dt date, t time, ts timestamp, tz timestamptz, tn timestamp_ns, "
	"s string, u uuid, fx fixed[3], bin binary, j json";

/* Deterministic value of column `c` at row `r`; every 7th row of a
 * nullable column is null. Appends to the builder. */
static int put_value(floe_batch_builder *bld, const floe_field *f, int c, int64_t r, floe_error *err)
{
	uint8_t bytes[32];
	char text[64];
	if (!f->required && r % 7 == 3)
		return floe_batch_builder_null(bld, c, err);
	switch (f->type.id) {
	case FLOE_TYPE_BOOLEAN:
		return floe_batch_builder_bool(bld, c, r % 3 == 0, err);
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE:
		return floe_batch_builder_i32(bld, c, (int32_t)(r * 37 % 1000 - 500), err);
	case FLOE_TYPE_FLOAT:
		return floe_batch_builder_f32(bld, c, (float)r / 4.0f, err);
	case FLOE_TYPE_DOUBLE:
		return floe_batch_builder_f64(bld, c, (double)r * 1.5 - 7, err);
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_JSON:
	case FLOE_TYPE_BINARY: {
		int n = snprintf(text, sizeof(text), f->type.id == FLOE_TYPE_JSON ? "{\"k\":%lld}" : "v%lld",
		                 (long long)(r % 50));
		return floe_batch_builder_bytes(bld, c, text, n, err);
	}
	case FLOE_TYPE_UUID:
	case FLOE_TYPE_FIXED:
	case FLOE_TYPE_DECIMAL:
		if (f->type.width > 0) {
			for (int k = 0; k < f->type.width; k++)
				bytes[k] = (uint8_t)(r * 13 + k);
			if (f->type.id == FLOE_TYPE_DECIMAL)
				memset(bytes, r % 2 ? 0xff : 0, 6); /* sign extended */
			return floe_batch_builder_bytes(bld, c, bytes, f->type.width, err);
		}
		return floe_batch_builder_i64(bld, c, r * 1001 - 777, err);
	default:
		return floe_batch_builder_i64(bld, c, f->field_id == 1 ? r : r * 1000003 - 99, err);
	}
}

/* Write NROWS rows of SCHEMA_TEXT to `path`. */
static int write_file(const char *path, const floe_parquet_write_options *opts, floe_schema **schema_out,
                      floe_arena *arena, floe_error *err)
{
	floe_schema *schema;
	floe_batch_builder *bld = NULL;
	floe_parquet_writer *w = NULL;
	int rc = floe_schema_parse(&schema, SCHEMA_TEXT, arena, err);
	if (rc < 0)
		return rc;
	*schema_out = schema;
	rc = floe_batch_builder_new(&bld, schema, err);
	if (rc == 0)
		rc = floe_parquet_writer_open(&w, path, schema, opts, err);
	if (rc == 0)
		rc = floe_parquet_writer_set_kv(w, "origin", "test_reader", err);
	for (int64_t r = 0; rc == 0 && r < NROWS; r++) {
		for (int c = 0; rc == 0 && c < schema->nfields; c++)
			rc = put_value(bld, &schema->fields[c], c, r, err);
		if (rc == 0 && floe_batch_builder_rows(bld) == 100) {
			rc = floe_parquet_writer_write(w, floe_batch_builder_view(bld), err);
			floe_batch_builder_clear(bld);
		}
	}
	if (rc == 0 && floe_batch_builder_rows(bld) > 0)
		rc = floe_parquet_writer_write(w, floe_batch_builder_view(bld), err);
	if (rc == 0) {
		rc = floe_parquet_writer_close(w, NULL, err);
		w = NULL;
	}
	floe_parquet_writer_abort(w);
	floe_batch_builder_free(bld);
	return rc;
}

/* Expected batch of the same rows, built by the builder. */
static bool cell_equal(const floe_column *a, int64_t ra, const floe_column *b, int64_t rb)
{
	bool va = floe_column_is_valid(a, ra), vb = floe_column_is_valid(b, rb);
	if (va != vb)
		return false;
	if (!va)
		return true;
	if (floe_type_is_variable(&a->type)) {
		int64_t la = a->offsets[ra + 1] - a->offsets[ra], lb = b->offsets[rb + 1] - b->offsets[rb];
		return la == lb && memcmp(a->data + a->offsets[ra], b->data + b->offsets[rb], (size_t)la) == 0;
	}
	int w = floe_type_value_width(&a->type);
	return memcmp((const uint8_t *)a->values + ra * w, (const uint8_t *)b->values + rb * w, (size_t)w) == 0;
}

/* Build the expected rows in a builder (all columns). */
static floe_batch_builder *expected(const floe_schema *schema)
{
	floe_batch_builder *bld = NULL;
	floe_error err;
	if (floe_batch_builder_new(&bld, schema, &err) < 0)
		return NULL;
	for (int64_t r = 0; r < NROWS; r++)
		for (int c = 0; c < schema->nfields; c++)
			if (put_value(bld, &schema->fields[c], c, r, &err) < 0) {
				floe_batch_builder_free(bld);
				return NULL;
			}
	return bld;
}

/* Write the NROWS rows with `wo` to TMPDIR/STEM-K.parquet (its path into
 * path[0..size)) and build the expected batch; NULL after a failure. */
static floe_batch_builder *write_variant(char *path, size_t size, const char *stem, int k,
                                         const floe_parquet_write_options *wo, floe_schema **schema,
                                         floe_arena *arena)
{
	floe_error err = { 0 };
	snprintf(path, size, "%s/%s-%d.parquet", th_tmpdir(), stem, k);
	if (write_file(path, wo, schema, arena, &err) < 0) {
		th_fail(__FILE__, __LINE__, "write %s: %s", path, err.msg);
		return NULL;
	}
	floe_batch_builder *exp = expected(*schema);
	if (!exp)
		th_fail(__FILE__, __LINE__, "expected rows of %s", path);
	return exp;
}

/* Scan `path` with `opts` and compare every returned row with the expected
 * values, matching rows by the id column (projected column `idcol`, or
 * sequential when idcol < 0). Returns rows read, or -1. */
static int64_t scan_compare(const char *path, const floe_parquet_scan_options *opts, const floe_schema *schema,
                            const floe_batch *want, int idcol, floe_parquet_scan_stats *stats)
{
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *s = NULL;
	floe_error err = { 0 };
	const floe_batch *b;
	int64_t seq = 0;
	int rc;

	if (floe_parquet_reader_open(&r, path, &err) < 0) {
		th_fail(__FILE__, __LINE__, "open: %s", err.msg);
		return -1;
	}
	if (floe_parquet_scan_open(&s, r, opts, &err) < 0) {
		th_fail(__FILE__, __LINE__, "scan_open: %s", err.msg);
		floe_parquet_reader_free(r);
		return -1;
	}
	while ((rc = floe_parquet_scan_next(s, &b, &err)) == 1) {
		if (b->nrows > (opts ? opts->batch_rows : 65536))
			th_fail(__FILE__, __LINE__, "batch of %lld rows", (long long)b->nrows);
		for (int c = 0; c < b->ncols; c++) {
			int wc = floe_schema_find(schema, b->schema->fields[c].name);
			if (wc < 0) {
				th_fail(__FILE__, __LINE__, "unknown column %s", b->schema->fields[c].name);
				continue;
			}
			if (b->cols[c].type.id != schema->fields[wc].type.id)
				th_fail(__FILE__, __LINE__, "column %s: type %d != %d", schema->fields[wc].name,
				        b->cols[c].type.id, schema->fields[wc].type.id);
			for (int64_t k = 0; k < b->nrows; k++) {
				int64_t row = seq + k;
				if (idcol >= 0)
					memcpy(&row, (const uint8_t *)b->cols[idcol].values + k * 8, 8);
				if (row < 0 || row >= want->nrows || !cell_equal(&b->cols[c], k, &want->cols[wc], row)) {
					th_fail(__FILE__, __LINE__, "column %s row %lld differs", schema->fields[wc].name,
					        (long long)row);
					break;
				}
			}
		}
		seq += b->nrows;
	}
	if (rc < 0)
		th_fail(__FILE__, __LINE__, "scan_next: %s", err.msg);
	if (stats)
		floe_parquet_scan_get_stats(s, stats);
	floe_parquet_scan_free(s);
	floe_parquet_reader_free(r);
	return rc < 0 ? -1 : seq;
}

TEST(pq_reader_roundtrip_all_types)
{
	static const struct {
		floe_parquet_codec codec;
		int version;
		bool dict, delta;
	} cases[] = {
		{ FLOE_PARQUET_UNCOMPRESSED, 1, false, false },
		{ FLOE_PARQUET_ZSTD, 1, true, true },
		{ FLOE_PARQUET_SNAPPY, 2, true, false },
		{ FLOE_PARQUET_GZIP, 2, false, true },
		{ FLOE_PARQUET_LZ4_RAW, 1, true, true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		floe_arena *arena = floe_arena_new(0);
		floe_parquet_write_options wo;
		floe_schema *schema = NULL;
		floe_error err = { 0 }, *ep = &err;
		floe_parquet_write_options_init(&wo);
		wo.codec = cases[i].codec;
		wo.data_page_version = cases[i].version;
		wo.dictionary = cases[i].dict;
		wo.delta = cases[i].delta;
		wo.page_bytes = 4096;
		const char *path = th_path("rt.parquet");
		REQUIRE_OK(write_file(path, &wo, &schema, arena, ep), ep);
		floe_batch_builder *bld = expected(schema);
		REQUIRE(bld != NULL);
		floe_parquet_scan_options so;
		floe_parquet_scan_options_init(&so);
		CHECK_EQ_INT(scan_compare(path, &so, schema, floe_batch_builder_view(bld), -1, NULL), NROWS);

		/* the reader's schema is the written one, field ids included */
		floe_parquet_reader *r = NULL;
		REQUIRE_OK(floe_parquet_reader_open(&r, path, ep), ep);
		const floe_schema *rs = floe_parquet_reader_schema(r);
		CHECK_EQ_INT(rs->nfields, schema->nfields);
		for (int c = 0; c < rs->nfields && c < schema->nfields; c++) {
			CHECK_EQ_STR(rs->fields[c].name, schema->fields[c].name);
			CHECK_EQ_INT(rs->fields[c].type.id, schema->fields[c].type.id);
			CHECK_EQ_INT(rs->fields[c].field_id, schema->fields[c].field_id);
			CHECK_EQ_INT(rs->fields[c].required, schema->fields[c].required);
		}
		CHECK_EQ_INT(floe_parquet_reader_num_rows(r), NROWS);
		CHECK_EQ_STR(floe_parquet_reader_kv(r, "origin"), "test_reader");
		CHECK(floe_parquet_reader_kv(r, "absent") == NULL);
		floe_parquet_reader_free(r);
		floe_batch_builder_free(bld);
		floe_arena_free(arena);
	}
}

TEST(pq_reader_projection_and_batch_rows)
{
	floe_arena *arena = floe_arena_new(0);
	floe_schema *schema = NULL;
	floe_error err = { 0 }, *ep = &err;
	const char *path = th_path("p.parquet");
	REQUIRE_OK(write_file(path, NULL, &schema, arena, ep), ep);
	floe_batch_builder *bld = expected(schema);
	REQUIRE(bld != NULL);

	static const char *const names[] = { "s", "id", "big" };
	floe_parquet_scan_options so;
	floe_parquet_scan_options_init(&so);
	so.columns = names;
	so.ncolumns = 3;
	so.batch_rows = 333;
	CHECK_EQ_INT(scan_compare(path, &so, schema, floe_batch_builder_view(bld), 1, NULL), NROWS);

	int32_t ids[2];
	ids[0] = schema->fields[floe_schema_find(schema, "tz")].field_id;
	ids[1] = schema->fields[0].field_id;
	floe_parquet_scan_options_init(&so);
	so.field_ids = ids;
	so.nfield_ids = 2;
	so.batch_rows = 1;
	floe_parquet_scan_stats st;
	CHECK_EQ_INT(scan_compare(path, &so, schema, floe_batch_builder_view(bld), 1, &st), NROWS);
	CHECK_EQ_INT(st.rows_returned, NROWS);

	/* unknown names and ids */
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *s = NULL;
	REQUIRE_OK(floe_parquet_reader_open(&r, path, ep), ep);
	static const char *const bad[] = { "nope" };
	floe_parquet_scan_options_init(&so);
	so.columns = bad;
	so.ncolumns = 1;
	CHECK_EQ_INT(floe_parquet_scan_open(&s, r, &so, &err), FLOE_ENOTFOUND);
	int32_t badid = 9999;
	floe_parquet_scan_options_init(&so);
	so.field_ids = &badid;
	so.nfield_ids = 1;
	CHECK_EQ_INT(floe_parquet_scan_open(&s, r, &so, &err), FLOE_ENOTFOUND);
	floe_parquet_reader_free(r);
	floe_batch_builder_free(bld);
	floe_arena_free(arena);
}

TEST(pq_reader_skip_row_groups_and_pages)
{
	floe_arena *arena = floe_arena_new(0);
	floe_schema *schema = NULL;
	floe_error err = { 0 }, *ep = &err;
	floe_parquet_write_options wo;
	floe_parquet_write_options_init(&wo);
	wo.row_group_bytes = 64 * 1024;
	wo.page_bytes = 1024;
	const char *path = th_path("skip.parquet");
	REQUIRE_OK(write_file(path, &wo, &schema, arena, ep), ep);
	floe_batch_builder *bld = expected(schema);
	REQUIRE(bld != NULL);

	floe_value v = { 0 };
	v.i = 4321;
	floe_parquet_predicate pred = { "id", 0, FLOE_PARQUET_EQ, &v, 1 };
	floe_parquet_scan_options so;
	floe_parquet_scan_options_init(&so);
	so.predicates = &pred;
	so.npredicates = 1;
	floe_parquet_scan_stats st;
	int64_t n = scan_compare(path, &so, schema, floe_batch_builder_view(bld), 0, &st);
	CHECK(n >= 1 && n < NROWS);
	CHECK(st.row_groups > 1);
	CHECK(st.row_groups_skipped >= 1);
	CHECK_EQ_INT(st.rows_returned, n);

	/* the matching row is among those returned: read id only */
	static const char *const idonly[] = { "id" };
	so.columns = idonly;
	so.ncolumns = 1;
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *s = NULL;
	const floe_batch *b;
	bool found = false;
	REQUIRE_OK(floe_parquet_reader_open(&r, path, ep), ep);
	REQUIRE_OK(floe_parquet_scan_open(&s, r, &so, ep), ep);
	while (floe_parquet_scan_next(s, &b, &err) == 1)
		for (int64_t k = 0; k < b->nrows; k++)
			found |= ((const int64_t *)b->cols[0].values)[k] == 4321;
	CHECK(found);
	floe_parquet_scan_free(s);

	/* range predicates: id < 10 and id >= 4990 keep only the ends */
	floe_value lo = { 0 }, hi = { 0 };
	lo.i = 10;
	hi.i = 4990;
	floe_parquet_predicate lt = { "id", 0, FLOE_PARQUET_LT, &lo, 1 };
	floe_parquet_predicate ge = { "id", 0, FLOE_PARQUET_GE, &hi, 1 };
	so.predicates = &lt;
	n = scan_compare(path, &so, schema, floe_batch_builder_view(bld), 0, &st);
	CHECK(n >= 10 && n < NROWS / 2);
	so.predicates = &ge;
	n = scan_compare(path, &so, schema, floe_batch_builder_view(bld), 0, &st);
	CHECK(n >= 10 && n < NROWS / 2);

	/* IS NULL on a column without nulls in some chunks, IN with misses */
	floe_value in[2] = { { 0 }, { 0 } };
	in[0].i = -5;
	in[1].i = 99999;
	floe_parquet_predicate inp = { "id", 0, FLOE_PARQUET_IN, in, 2 };
	so.predicates = &inp;
	n = scan_compare(path, &so, schema, floe_batch_builder_view(bld), 0, &st);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(st.row_groups_skipped, st.row_groups);
	floe_parquet_predicate isnull = { "id", 0, FLOE_PARQUET_IS_NULL, NULL, 0 };
	so.predicates = &isnull;
	n = scan_compare(path, &so, schema, floe_batch_builder_view(bld), 0, &st);
	CHECK_EQ_INT(n, 0);

	floe_parquet_reader_free(r);
	floe_batch_builder_free(bld);
	floe_arena_free(arena);
}

/* Drain `s`, checking every row against `want` by its id (column 0):
 * the rows read, or -1. Ids must fall in [lo, hi). */
static int64_t drain_check(floe_parquet_scan *s, const floe_schema *schema, const floe_batch *want,
                           int64_t lo, int64_t hi)
{
	floe_error err = { 0 };
	const floe_batch *b;
	int64_t n = 0;
	int rc;
	while ((rc = floe_parquet_scan_next(s, &b, &err)) == 1) {
		for (int64_t k = 0; k < b->nrows; k++) {
			int64_t id = ((const int64_t *)b->cols[0].values)[k];
			if (id < lo || id >= hi) {
				th_fail(__FILE__, __LINE__, "row %lld outside [%lld, %lld)", (long long)id,
				        (long long)lo, (long long)hi);
				return -1;
			}
			for (int c = 0; c < b->ncols; c++)
				if (!cell_equal(&b->cols[c], k, &want->cols[c], id)) {
					th_fail(__FILE__, __LINE__, "column %s row %lld differs",
					        schema->fields[c].name, (long long)id);
					return -1;
				}
		}
		n += b->nrows;
	}
	if (rc < 0)
		th_fail(__FILE__, __LINE__, "scan_next: %s", err.msg);
	return rc < 0 ? -1 : n;
}

/* A restarted scan returns what a new scan with its predicates would
 * (every type, dictionaries, nulls), compressed or not; probing the page
 * read last again reads nothing from the file. */
TEST(pq_reader_restart_reuses_what_it_decoded)
{
	static const floe_parquet_codec codecs[] = { FLOE_PARQUET_ZSTD, FLOE_PARQUET_UNCOMPRESSED };
	for (size_t k = 0; k < sizeof codecs / sizeof codecs[0]; k++) {
		char path[4096];
		floe_arena *arena = floe_arena_new(0);
		floe_schema *schema;
		floe_error err = { 0 };
		floe_parquet_write_options wo;
		floe_parquet_write_options_init(&wo);
		wo.codec = codecs[k];
		wo.page_bytes = 4096;        /* many pages ... */
		wo.row_group_bytes = 200000; /* ... in several row groups */
		floe_batch_builder *exp = write_variant(path, sizeof path, "restart", (int)k, &wo, &schema, arena);
		REQUIRE(exp != NULL);
		const floe_batch *want = floe_batch_builder_view(exp);
		floe_parquet_reader *r = NULL;
		floe_parquet_scan *s = NULL;
		REQUIRE_OK(floe_parquet_reader_open(&r, path, &err), &err);
		REQUIRE(floe_parquet_reader_num_row_groups(r) > 2);
		floe_value v[2];
		memset(v, 0, sizeof v);
		floe_parquet_predicate p[2] = { { "id", 0, FLOE_PARQUET_GE, &v[0], 1 },
		                                { "id", 0, FLOE_PARQUET_LT, &v[1], 1 } };
		floe_parquet_scan_options so;
		floe_parquet_scan_options_init(&so);
		so.predicates = p;
		so.npredicates = 2;
		v[0].i = 4100;
		v[1].i = 4110;
		REQUIRE_OK(floe_parquet_scan_open(&s, r, &so, &err), &err);
		int64_t n = drain_check(s, schema, want, 0, NROWS);
		CHECK(n >= 10);
		/* probes of rows of the same pages, of another row group, of the
		 * first row group, then no predicate at all */
		static const int64_t ranges[][2] = { { 4102, 4106 }, { 4100, 4110 }, { 20, 25 },
		                                     { 4990, 5000 }, { 0, 0 } };
		for (size_t q = 0; q < sizeof ranges / sizeof ranges[0]; q++) {
			bool all = ranges[q][1] == 0;
			v[0].i = ranges[q][0];
			v[1].i = ranges[q][1];
			REQUIRE_OK(floe_parquet_scan_restart(s, all ? NULL : p, all ? 0 : 2, &err), &err);
			int64_t got = drain_check(s, schema, want, 0, NROWS);
			/* the predicates only skip: every row of the range is there */
			CHECK(got >= (all ? NROWS : ranges[q][1] - ranges[q][0]));
			floe_parquet_scan_stats st;
			floe_parquet_scan_get_stats(s, &st);
			if (q == 0 && codecs[k] != FLOE_PARQUET_UNCOMPRESSED)
				CHECK_EQ_INT(st.bytes_read, 0); /* the pages decoded last */
			if (all)
				CHECK_EQ_INT(got, NROWS);
		}
		floe_parquet_scan_free(s);
		floe_parquet_reader_free(r);
		floe_batch_builder_free(exp);
		floe_arena_free(arena);
	}
}

/* The NROWS rows in reverse order to `path`. */
static void write_reversed(const char *path, const floe_schema *schema,
                           const floe_parquet_write_options *wo)
{
	floe_error err = { 0 };
	floe_batch_builder *bld = NULL;
	floe_parquet_writer *w = NULL;
	int rc = floe_batch_builder_new(&bld, schema, &err);
	if (!rc)
		rc = floe_parquet_writer_open(&w, path, schema, wo, &err);
	for (int64_t r = NROWS - 1; !rc && r >= 0; r--)
		for (int c = 0; !rc && c < schema->nfields; c++)
			rc = put_value(bld, &schema->fields[c], c, r, &err);
	if (!rc)
		rc = floe_parquet_writer_write(w, floe_batch_builder_view(bld), &err);
	if (!rc) {
		rc = floe_parquet_writer_close(w, NULL, &err);
		w = NULL;
	}
	floe_parquet_writer_abort(w);
	floe_batch_builder_free(bld);
	if (rc)
		th_fail(__FILE__, __LINE__, "write %s: %s", path, err.msg);
}

/* A scan that takes over the buffers of a finished one (another file with
 * its rows in the other order, other pages, codec, batch size and
 * projection) returns exactly its own file's rows, whether the buffers it
 * gets are larger or smaller than it needs, or fewer than its columns. */
TEST(pq_reader_scan_adopts_buffers_of_another_file)
{
	char pa[4096], pb[4096];
	floe_arena *arena = floe_arena_new(0);
	floe_schema *schema;
	floe_error err = { 0 };
	floe_parquet_write_options wa, wb;
	floe_parquet_write_options_init(&wa);
	wa.codec = FLOE_PARQUET_ZSTD;
	wa.page_bytes = 4096;
	wa.row_group_bytes = 200000;
	floe_parquet_write_options_init(&wb);
	wb.codec = FLOE_PARQUET_UNCOMPRESSED;
	wb.page_bytes = 1 << 20;
	floe_batch_builder *exp = write_variant(pa, sizeof pa, "adopt", 0, &wa, &schema, arena);
	REQUIRE(exp != NULL);
	const floe_batch *want = floe_batch_builder_view(exp);
	snprintf(pb, sizeof pb, "%s/adopt-reversed.parquet", th_tmpdir());
	write_reversed(pb, schema, &wb);
	static const char *const two[] = { "id", "s" };
	/* {file, batch rows, columns} of the scan given up, then of the next */
	struct step {
		const char *path;
		int64_t batch;
		int ncols;
	} steps[] = { { pa, 65536, 0 }, { pb, 333, 0 }, { pa, 4096, 0 }, { pb, 1000, 2 }, { pa, 777, 0 } };
	floe_parquet_reader *r = NULL, *pr = NULL;
	floe_parquet_scan *s = NULL, *ps = NULL;
	for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
		floe_parquet_scan_options so;
		floe_parquet_scan_options_init(&so);
		so.batch_rows = steps[k].batch;
		if (steps[k].ncols) {
			so.columns = two;
			so.ncolumns = steps[k].ncols;
		}
		REQUIRE_OK(floe_parquet_reader_open(&r, steps[k].path, &err), &err);
		REQUIRE_OK(floe_parquet_scan_open(&s, r, &so, &err), &err);
		floe_parquet_scan_adopt_buffers(s, ps);
		floe_parquet_scan_free(ps);
		floe_parquet_reader_free(pr);
		if (ps)
			CHECK(pq_scan_buffer_peak(s) > 0); /* it holds what it took */
		if (steps[k].ncols) {
			const floe_batch *b;
			int64_t n = 0;
			int rc;
			while ((rc = floe_parquet_scan_next(s, &b, &err)) == 1) {
				for (int64_t i = 0; i < b->nrows; i++) {
					int64_t id = ((const int64_t *)b->cols[0].values)[i];
					CHECK(id == NROWS - 1 - (n + i)); /* pb: reversed */
					CHECK(cell_equal(&b->cols[1], i, &want->cols[floe_schema_find(schema, "s")], id));
				}
				n += b->nrows;
			}
			CHECK_EQ_INT(rc, 0);
			CHECK_EQ_INT(n, NROWS);
		} else {
			CHECK_EQ_INT(drain_check(s, schema, want, 0, NROWS), NROWS);
		}
		ps = s;
		pr = r;
		s = NULL;
		r = NULL;
	}
	floe_parquet_scan_free(ps);
	floe_parquet_reader_free(pr);
	floe_batch_builder_free(exp);
	floe_arena_free(arena);
}

/* Reference comparison of cell (col, row) with literal l for the test's
 * filter: -1, 0, 1, or 2 when the values do not compare (NaN). */
static int ref_cmp(const floe_column *col, int64_t row, const floe_value *l)
{
	const uint8_t *p = (const uint8_t *)col->values;
	switch (col->type.id) {
	case FLOE_TYPE_BOOLEAN: {
		int64_t a = p[row], b = l->b || l->i;
		return a < b ? -1 : a > b;
	}
	case FLOE_TYPE_INT: case FLOE_TYPE_DATE: {
		int32_t a;
		memcpy(&a, p + row * 4, 4);
		return a < l->i ? -1 : a > l->i;
	}
	case FLOE_TYPE_FLOAT: case FLOE_TYPE_DOUBLE: {
		double a;
		if (col->type.id == FLOE_TYPE_FLOAT) {
			float f;
			memcpy(&f, p + row * 4, 4);
			a = f;
		} else
			memcpy(&a, p + row * 8, 8);
		if (a != a || l->d != l->d)
			return 2;
		return a < l->d ? -1 : a > l->d;
	}
	case FLOE_TYPE_STRING: case FLOE_TYPE_BINARY: case FLOE_TYPE_JSON: {
		int64_t n = col->offsets[row + 1] - col->offsets[row];
		int64_t m = n < l->len ? n : l->len;
		int c = m ? memcmp(col->data + col->offsets[row], l->bytes, (size_t)m) : 0;
		if (c)
			return c < 0 ? -1 : 1;
		return n < l->len ? -1 : n > l->len;
	}
	default: {
		int64_t a;
		memcpy(&a, p + row * 8, 8);
		return a < l->i ? -1 : a > l->i;
	}
	}
}

/* Does row `row` of `want` pass predicate p (undecidable counts as pass)? */
static bool ref_match(const floe_batch *want, int64_t row, const floe_parquet_predicate *p)
{
	const floe_column *col = &want->cols[floe_schema_find(want->schema, p->column)];
	if (!floe_column_is_valid(col, row))
		return p->op == FLOE_PARQUET_IS_NULL;
	if (p->op == FLOE_PARQUET_IS_NULL)
		return false;
	for (int k = 0; k < p->nvalues; k++) {
		int c = ref_cmp(col, row, &p->values[k]);
		if (c == 2)
			return true;
		switch (p->op) {
		case FLOE_PARQUET_EQ: case FLOE_PARQUET_IN: if (c == 0) return true; break;
		case FLOE_PARQUET_LT: if (c < 0) return true; break;
		case FLOE_PARQUET_LE: if (c <= 0) return true; break;
		case FLOE_PARQUET_GT: if (c > 0) return true; break;
		case FLOE_PARQUET_GE: if (c >= 0) return true; break;
		default: break;
		}
	}
	return false;
}

/* Does row `row` of `want` pass all np predicates of `set`? */
static bool passes_all(const floe_batch *want, int64_t row, const floe_parquet_predicate *set, int np)
{
	for (int i = 0; i < np; i++)
		if (!ref_match(want, row, &set[i]))
			return false;
	return true;
}

/* Drain `s` (all columns projected, id first) into seen[id], checking each
 * row's cells; false on a failure. */
static bool drain_ids(floe_parquet_scan *s, const floe_batch *want, uint8_t *seen)
{
	floe_error err = { 0 };
	const floe_batch *b;
	int rc;
	memset(seen, 0, NROWS);
	while ((rc = floe_parquet_scan_next(s, &b, &err)) == 1)
		for (int64_t k = 0; k < b->nrows; k++) {
			int64_t id = ((const int64_t *)b->cols[0].values)[k];
			if (id < 0 || id >= NROWS || seen[id]) {
				th_fail(__FILE__, __LINE__, "row %lld out of range or twice", (long long)id);
				return false;
			}
			seen[id] = 1;
			for (int c = 0; c < b->ncols; c++)
				if (!cell_equal(&b->cols[c], k, &want->cols[c], id)) {
					th_fail(__FILE__, __LINE__, "column %d row %lld differs", c, (long long)id);
					return false;
				}
		}
	if (rc < 0)
		th_fail(__FILE__, __LINE__, "scan_next: %s", err.msg);
	return rc == 0;
}

/* filter_rows returns exactly the rows that pass every predicate (on
 * every comparable type, through dictionaries and plain pages, nulls and
 * NaN literals), opened fresh or restarted, and counts what it dropped. */
TEST(pq_reader_filter_rows_returns_exactly_the_matches)
{
	floe_value v[4];
	memset(v, 0, sizeof v);
	floe_value nan = { 0 }, t = { 0 };
	nan.d = 0.0 / 0.0;
	t.b = true;
	floe_value str[3] = { { 0 }, { 0 }, { 0 } };
	static const char *const words[] = { "v1", "v49", "zzz" };
	for (int k = 0; k < 3; k++) {
		str[k].bytes = (const uint8_t *)words[k];
		str[k].len = (int64_t)strlen(words[k]);
	}
	floe_value v7 = { 0 }, v2 = { 0 };
	v7.bytes = (const uint8_t *)"v7";
	v7.len = 2;
	v2.bytes = (const uint8_t *)"v2";
	v2.len = 2;
	floe_value n1234 = { 0 }, n1300 = { 0 }, n4900 = { 0 }, zero = { 0 }, d100 = { 0 }, dm3 = { 0 }, f1000 = { 0 };
	n1234.i = 1234;
	n1300.i = 1300;
	n4900.i = 4900;
	d100.d = 100.0;
	dm3.d = -3.0;
	f1000.d = 1000.5;
	const floe_parquet_predicate sets[][2] = {
		{ { "id", 0, FLOE_PARQUET_GE, &n1234, 1 }, { "id", 0, FLOE_PARQUET_LT, &n1300, 1 } },
		{ { "s", 0, FLOE_PARQUET_EQ, &v7, 1 }, { 0 } },
		{ { "s", 0, FLOE_PARQUET_IN, str, 3 }, { "i", 0, FLOE_PARQUET_GT, &zero, 1 } },
		{ { "d", 0, FLOE_PARQUET_LE, &d100, 1 }, { "d", 0, FLOE_PARQUET_GT, &dm3, 1 } },
		{ { "f", 0, FLOE_PARQUET_GE, &f1000, 1 }, { "b", 0, FLOE_PARQUET_EQ, &t, 1 } },
		{ { "l", 0, FLOE_PARQUET_IS_NULL, NULL, 0 }, { 0 } },
		{ { "dt", 0, FLOE_PARQUET_EQ, &zero, 1 }, { "id", 0, FLOE_PARQUET_GE, &n1234, 1 } },
		{ { "d", 0, FLOE_PARQUET_EQ, &nan, 1 }, { 0 } },
		{ { "s", 0, FLOE_PARQUET_LT, &v2, 1 }, { "ts", 0, FLOE_PARQUET_GE, &n1234, 1 } },
		/* two probes of the last row group: the restart keeps its
		 * dictionary, not what matched in it */
		{ { "s", 0, FLOE_PARQUET_EQ, &v7, 1 }, { "id", 0, FLOE_PARQUET_GE, &n4900, 1 } },
		{ { "s", 0, FLOE_PARQUET_IN, str, 3 }, { "id", 0, FLOE_PARQUET_GE, &n4900, 1 } },
	};
	const int nsets = (int)(sizeof sets / sizeof sets[0]);
	uint8_t *seen = malloc(NROWS);
	REQUIRE(seen != NULL);
	for (int mode = 0; mode < 3; mode++) {
		char path[4096];
		floe_arena *arena = floe_arena_new(0);
		floe_schema *schema;
		floe_error err = { 0 };
		floe_parquet_write_options wo;
		floe_parquet_write_options_init(&wo);
		wo.codec = mode == 1 ? FLOE_PARQUET_UNCOMPRESSED : FLOE_PARQUET_ZSTD;
		wo.dictionary = mode != 2;
		wo.page_bytes = 2048;
		wo.row_group_bytes = 150000;
		floe_batch_builder *exp = write_variant(path, sizeof path, "filter", mode, &wo, &schema, arena);
		REQUIRE(exp != NULL);
		const floe_batch *want = floe_batch_builder_view(exp);
		floe_parquet_reader *r = NULL, *r2 = NULL;
		floe_parquet_scan *rs = NULL;
		REQUIRE_OK(floe_parquet_reader_open(&r, path, &err), &err);
		REQUIRE_OK(floe_parquet_reader_open(&r2, path, &err), &err);
		floe_parquet_scan_options so;
		floe_parquet_scan_options_init(&so);
		so.filter_rows = true;
		so.batch_rows = 700;
		REQUIRE_OK(floe_parquet_scan_open(&rs, r2, &so, &err), &err);
		for (int q = 0; q < nsets; q++) {
			int np = sets[q][1].column ? 2 : 1;
			int64_t expect = 0;
			for (int64_t row = 0; row < NROWS; row++)
				expect += passes_all(want, row, sets[q], np);
			if (!(expect > 0 && expect < NROWS))
				th_fail(__FILE__, __LINE__, "set %d: %lld of the rows match", q, (long long)expect);
			/* a fresh scan, then the restarted one */
			for (int pass = 0; pass < 2; pass++) {
				floe_parquet_scan *s = rs;
				if (pass == 0) {
					so.predicates = sets[q];
					so.npredicates = np;
					REQUIRE_OK(floe_parquet_scan_open(&s, r, &so, &err), &err);
				} else {
					REQUIRE_OK(floe_parquet_scan_restart(rs, sets[q], np, &err), &err);
				}
				bool ok = drain_ids(s, want, seen);
				int64_t got = 0, wrong = -1;
				for (int64_t row = 0; ok && row < NROWS; row++) {
					bool m = passes_all(want, row, sets[q], np);
					got += seen[row];
					if (m != (seen[row] != 0) && wrong < 0)
						wrong = row;
				}
				floe_parquet_scan_stats st;
				floe_parquet_scan_get_stats(s, &st);
				if (wrong >= 0 || got != expect)
					th_fail(__FILE__, __LINE__, "mode %d set %d pass %d: %lld rows for %lld, row %lld wrong",
					        mode, q, pass, (long long)got, (long long)expect, (long long)wrong);
				CHECK_EQ_INT(st.rows_returned, got);
				if (q != 7)
					CHECK(st.rows_filtered > 0); /* not only pages were skipped */
				if (pass == 0)
					floe_parquet_scan_free(s);
			}
		}
		/* without predicates after all that: every row */
		REQUIRE_OK(floe_parquet_scan_restart(rs, NULL, 0, &err), &err);
		CHECK(drain_ids(rs, want, seen));
		CHECK(memchr(seen, 0, NROWS) == NULL);
		/* a predicate on a column not projected only skips */
		static const char *const two[] = { "id", "s" };
		so.columns = two;
		so.ncolumns = 2;
		so.predicates = &sets[3][0];
		so.npredicates = 1;
		floe_parquet_scan *s = NULL;
		REQUIRE_OK(floe_parquet_scan_open(&s, r, &so, &err), &err);
		const floe_batch *b;
		int64_t got = 0;
		while (floe_parquet_scan_next(s, &b, &err) == 1)
			got += b->nrows;
		floe_parquet_scan_stats st;
		floe_parquet_scan_get_stats(s, &st);
		CHECK_EQ_INT(st.rows_filtered, 0);
		CHECK(got >= 72);
		so.columns = NULL;
		so.ncolumns = 0;
		floe_parquet_scan_free(s);
		floe_parquet_scan_free(rs);
		floe_parquet_reader_free(r);
		floe_parquet_reader_free(r2);
		floe_batch_builder_free(exp);
		floe_arena_free(arena);
	}
	free(seen);
}

TEST(pq_reader_describe_json)
{
	floe_arena *arena = floe_arena_new(0);
	floe_schema *schema = NULL;
	floe_error err = { 0 }, *ep = &err;
	const char *path = th_path("d.parquet");
	floe_parquet_write_options wo;
	floe_parquet_write_options_init(&wo);
	wo.row_group_bytes = 16384; /* several row groups */
	REQUIRE_OK(write_file(path, &wo, &schema, arena, ep), ep);
	floe_parquet_reader *r = NULL;
	REQUIRE_OK(floe_parquet_reader_open(&r, path, ep), ep);
	char *text = NULL;
	REQUIRE_OK(floe_parquet_reader_describe(&text, r, ep), ep);
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	if (!doc)
		th_fail(__FILE__, __LINE__, "describe is not JSON: %s at %d", jerr.text, jerr.position);
	REQUIRE(doc != NULL);
	CHECK_EQ_INT(json_integer_value(json_object_get(doc, "num_rows")), NROWS);
	json_t *sch = json_object_get(doc, "schema");
	CHECK_EQ_INT(json_array_size(sch), (size_t)schema->nfields + 1);
	json_t *first = json_array_get(sch, 1);
	CHECK_EQ_STR(json_string_value(json_object_get(first, "name")), "id");
	CHECK_EQ_INT(json_integer_value(json_object_get(first, "field_id")), schema->fields[0].field_id);
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(doc, "key_value_metadata"), "origin")),
	             "test_reader");
	json_t *col0 = json_array_get(json_object_get(json_array_get(json_object_get(doc, "row_groups"), 0),
	                                              "columns"), 0);
	json_t *stats = json_object_get(col0, "statistics");
	CHECK(json_is_integer(json_object_get(stats, "min_value")));
	CHECK_EQ_INT(json_integer_value(json_object_get(stats, "min_value")), 0);
	CHECK(json_is_true(json_object_get(col0, "has_offset_index")));
	/* the uncompressed bytes are every chunk's, in every row group */
	json_t *rgs = json_object_get(doc, "row_groups");
	CHECK(json_array_size(rgs) > 1);
	json_int_t unc = 0;
	for (size_t g = 0; g < json_array_size(rgs); g++) {
		json_t *cols = json_object_get(json_array_get(rgs, g), "columns");
		for (size_t c = 0; c < json_array_size(cols); c++)
			unc += json_integer_value(json_object_get(json_array_get(cols, c), "total_uncompressed_size"));
	}
	CHECK(unc > 0);
	CHECK_EQ_INT(floe_parquet_reader_uncompressed_bytes(r), unc);
	json_decref(doc);
	free(text);
	floe_parquet_reader_free(r);
	floe_arena_free(arena);
}

/* Truncated and corrupted copies fail cleanly, naming the file. */
TEST(pq_reader_hostile_copies)
{
	floe_arena *arena = floe_arena_new(0);
	floe_schema *schema = NULL;
	floe_error err = { 0 }, *ep = &err;
	floe_parquet_write_options wo;
	floe_parquet_write_options_init(&wo);
	wo.page_bytes = 2048;
	const char *path = th_path("h.parquet");
	REQUIRE_OK(write_file(path, &wo, &schema, arena, ep), ep);
	size_t len = 0;
	char *file = th_read_file(path, &len);
	REQUIRE(file != NULL && len > 100);
	uint8_t *copy = malloc(len);
	size_t step = len / 97 + 1;
	for (size_t off = 0; off < len; off += step) {
		for (int mode = 0; mode < 3; mode++) {
			size_t n = len;
			memcpy(copy, file, len);
			if (mode == 0)
				n = off;                   /* truncated */
			else if (mode == 1)
				copy[off] ^= 0xff;         /* flipped byte */
			else
				copy[off] = 0x7f;          /* large varint byte */
			floe_parquet_reader *r = NULL;
			floe_parquet_scan *s = NULL;
			const floe_batch *b;
			floe_error e = { 0 };
			int rc = floe_parquet_reader_open_memory(&r, copy, n, "hostile.parquet", &e);
			if (rc == 0) {
				floe_parquet_scan_options so;
				floe_parquet_scan_options_init(&so);
				rc = floe_parquet_scan_open(&s, r, &so, &e);
				while (rc == 0 && (rc = floe_parquet_scan_next(s, &b, &e)) == 1)
					rc = 0;
			}
			if (mode == 0 && rc >= 0)
				th_fail(__FILE__, __LINE__, "truncated at %zu read without error", off);
			if (rc < 0 && rc != FLOE_EUNSUPPORTED && !strstr(e.msg, "hostile.parquet"))
				th_fail(__FILE__, __LINE__, "offset %zu mode %d: message without the file: %s", off, mode, e.msg);
			floe_parquet_scan_free(s);
			floe_parquet_reader_free(r);
		}
	}
	free(copy);
	free(file);
	floe_arena_free(arena);
}

TEST(pq_reader_not_parquet)
{
	floe_parquet_reader *r = NULL;
	floe_error err = { 0 };
	static const char junk[] = "this is not a parquet file at all";
	CHECK_EQ_INT(floe_parquet_reader_open_memory(&r, junk, sizeof(junk), "junk.bin", &err), FLOE_ECORRUPT);
	CHECK(strstr(err.msg, "junk.bin") != NULL);
	CHECK(r == NULL);
	CHECK_EQ_INT(floe_parquet_reader_open(&r, th_path("missing.parquet"), &err), FLOE_ENOTFOUND);
	floe_parquet_reader_free(NULL);
	floe_parquet_scan_free(NULL);
}

/* Page skipping with the page index of alltypes_tiny_pages.parquet (one
 * row group, many small pages): only pages that may hold id == 3000 are
 * decoded, and the matching row is among those returned. */
TEST(pq_reader_skip_pages_page_index)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/testdata/parquet-testing/data/alltypes_tiny_pages.parquet", th_shared());
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *s = NULL;
	floe_error err = { 0 }, *ep = &err;
	const floe_batch *b;
	REQUIRE_OK(floe_parquet_reader_open(&r, path, ep), ep);
	int idc = floe_schema_find(floe_parquet_reader_schema(r), "id");
	REQUIRE(idc >= 0);
	floe_value v = { 0 };
	v.i = 3000;
	floe_parquet_predicate pred = { "id", 0, FLOE_PARQUET_EQ, &v, 1 };
	floe_parquet_scan_options so;
	floe_parquet_scan_options_init(&so);
	so.predicates = &pred;
	so.npredicates = 1;
	REQUIRE_OK(floe_parquet_scan_open(&s, r, &so, ep), ep);
	bool found = false;
	int64_t rows = 0;
	int rc;
	while ((rc = floe_parquet_scan_next(s, &b, &err)) == 1) {
		for (int64_t k = 0; k < b->nrows; k++)
			found |= ((const int32_t *)b->cols[idc].values)[k] == 3000;
		rows += b->nrows;
	}
	CHECK_EQ_INT(rc, 0);
	floe_parquet_scan_stats st;
	floe_parquet_scan_get_stats(s, &st);
	CHECK(found);
	CHECK(st.pages_skipped > 0);
	CHECK(rows > 0 && rows < floe_parquet_reader_num_rows(r) / 10);
	CHECK_EQ_INT(st.rows_returned, rows);
	floe_parquet_scan_free(s);
	floe_parquet_reader_free(r);
}

/* Streaming: one row group of ~10 MiB read in batches of 1000 rows keeps
 * the scan's buffers near a few pages per column (plus its read window),
 * not the row group. Values are checked row by row, through the file and
 * the in-memory reader, with nulls and a dictionary that falls back to
 * PLAIN inside the chunk. */
#define STREAM_ROWS 1000000

static int stream_value(char *text, int64_t r)
{
	return snprintf(text, 32, "row%07lld", (long long)r);
}

static void stream_check(floe_parquet_reader *r, int64_t page_bytes, int64_t *peak)
{
	floe_parquet_scan *s = NULL;
	floe_error err = { 0 }, *ep = &err;
	floe_parquet_scan_options so;
	const floe_batch *b;
	int64_t row = 0, bad = 0, batches = 0;
	char text[32];
	int rc;
	floe_parquet_scan_options_init(&so);
	so.batch_rows = 1000;
	REQUIRE_OK(floe_parquet_scan_open(&s, r, &so, ep), ep);
	while ((rc = floe_parquet_scan_next(s, &b, &err)) == 1) {
		const int64_t *id = b->cols[0].values;
		const floe_column *sc = &b->cols[1];
		const double *d = b->cols[2].values;
		batches++;
		if (b->nrows > 1000 || b->cols[0].validity != NULL)
			bad++;
		for (int64_t k = 0; k < b->nrows; k++, row++) {
			bool null = row % 7 == 3;
			int n = stream_value(text, row);
			if (id[k] != row)
				bad++;
			if (floe_column_is_valid(sc, k) == null || floe_column_is_valid(&b->cols[2], k) == null)
				bad++;
			if (!null && (sc->offsets[k + 1] - sc->offsets[k] != n ||
			              memcmp(sc->data + sc->offsets[k], text, (size_t)n) != 0 || d[k] != (double)row * 0.5))
				bad++;
			if (null && sc->offsets[k + 1] != sc->offsets[k])
				bad++;
		}
	}
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(row, STREAM_ROWS);
	CHECK_EQ_INT(batches, STREAM_ROWS / 1000);
	CHECK_EQ_INT(bad, 0);
	*peak = pq_scan_buffer_peak(s);
	CHECK(*peak > 0);
	/* per column: a 256 KiB read window and about one page of decoded
	 * values; generous, yet far below the row group */
	CHECK(*peak < 3 * (256 << 10) + 3 * 8 * page_bytes);
	floe_parquet_scan_free(s);
}

TEST(pq_reader_streams_large_row_group)
{
	const char *path = th_path("stream.parquet");
	floe_arena *arena = floe_arena_new(0);
	floe_schema *schema = NULL;
	floe_batch_builder *bld = NULL;
	floe_parquet_writer *w = NULL;
	floe_parquet_reader *r = NULL;
	floe_error err = { 0 }, *ep = &err;
	floe_parquet_file_info info = { 0 };
	char text[32];
	REQUIRE(arena != NULL);
	REQUIRE_OK(floe_schema_parse(&schema, "id long not null, s string, d double", arena, ep), ep);
	floe_parquet_write_options wo;
	floe_parquet_write_options_init(&wo);
	wo.codec = FLOE_PARQUET_UNCOMPRESSED;
	wo.row_group_bytes = (int64_t)1 << 30;
	wo.page_bytes = 32 << 10;
	wo.dictionary_bytes = 16 << 10; /* dictionary pages, then PLAIN */
	REQUIRE_OK(floe_parquet_writer_open(&w, path, schema, &wo, ep), ep);
	REQUIRE_OK(floe_batch_builder_new(&bld, schema, ep), ep);
	for (int64_t row = 0; row < STREAM_ROWS; row++) {
		int n = stream_value(text, row);
		REQUIRE_OK(floe_batch_builder_i64(bld, 0, row, ep), ep);
		if (row % 7 == 3) {
			REQUIRE_OK(floe_batch_builder_null(bld, 1, ep), ep);
			REQUIRE_OK(floe_batch_builder_null(bld, 2, ep), ep);
		} else {
			REQUIRE_OK(floe_batch_builder_bytes(bld, 1, text, n, ep), ep);
			REQUIRE_OK(floe_batch_builder_f64(bld, 2, (double)row * 0.5, ep), ep);
		}
		if (floe_batch_builder_rows(bld) == 10000) {
			REQUIRE_OK(floe_parquet_writer_write(w, floe_batch_builder_view(bld), ep), ep);
			floe_batch_builder_clear(bld);
		}
	}
	REQUIRE_OK(floe_parquet_writer_close(w, &info, ep), ep);
	CHECK_EQ_INT(info.num_row_groups, 1);
	CHECK(info.file_bytes > 16 << 20);

	int64_t peak_file = 0, peak_mem = 0;
	REQUIRE_OK(floe_parquet_reader_open(&r, path, ep), ep);
	stream_check(r, wo.page_bytes, &peak_file);
	floe_parquet_reader_free(r);
	r = NULL;

	size_t len = 0;
	char *file = th_read_file(path, &len);
	REQUIRE(file != NULL);
	REQUIRE_OK(floe_parquet_reader_open_memory(&r, file, len, "stream.parquet", ep), ep);
	stream_check(r, wo.page_bytes, &peak_mem);
	/* the footprint is a fraction of the row group it streamed through */
	CHECK(peak_file * 8 < info.file_bytes);
	CHECK(peak_mem * 8 < info.file_bytes);
	floe_parquet_reader_free(r);
	free(file);
	floe_batch_builder_free(bld);
	floe_arena_free(arena);
}

/* Full scan of `n` bytes, from memory or through a file; the return code. */
static int scan_rc(const char *copy, size_t n, const char *path, floe_error *e)
{
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *s = NULL;
	const floe_batch *b;
	int rc;
	if (path) {
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(copy, 1, n, f) != n) {
			if (f)
				fclose(f);
			return -1000;
		}
		fclose(f);
		rc = floe_parquet_reader_open(&r, path, e);
	} else {
		rc = floe_parquet_reader_open_memory(&r, copy, n, "hostile.parquet", e);
	}
	if (rc == 0) {
		floe_parquet_scan_options so;
		floe_parquet_scan_options_init(&so);
		so.batch_rows = 333;
		rc = floe_parquet_scan_open(&s, r, &so, e);
		while (rc == 0 && (rc = floe_parquet_scan_next(s, &b, e)) == 1)
			rc = 0;
	}
	floe_parquet_scan_free(s);
	floe_parquet_reader_free(r);
	return rc;
}

/* Damaged copies read through a file (page by page with pread into the
 * scan's window) fail exactly as the same bytes read from memory do. */
TEST(pq_reader_hostile_file_matches_memory)
{
	floe_arena *arena = floe_arena_new(0);
	floe_schema *schema = NULL;
	floe_error err = { 0 }, *ep = &err;
	floe_parquet_write_options wo;
	floe_parquet_write_options_init(&wo);
	wo.page_bytes = 2048;
	const char *path = th_path("hf.parquet");
	REQUIRE_OK(write_file(path, &wo, &schema, arena, ep), ep);
	size_t len = 0;
	char *file = th_read_file(path, &len);
	REQUIRE(file != NULL && len > 100);
	char *copy = malloc(len);
	REQUIRE(copy != NULL);
	size_t step = len / 61 + 1;
	int failures = 0;
	for (size_t off = 0; off < len; off += step) {
		for (int mode = 0; mode < 2; mode++) {
			floe_error em = { 0 }, ef = { 0 };
			memcpy(copy, file, len);
			copy[off] = mode ? 0x7f : (char)(copy[off] ^ 0xff);
			int rm = scan_rc(copy, len, NULL, &em);
			int rf = scan_rc(copy, len, th_path("hf_copy.parquet"), &ef);
			if (rm != rf)
				th_fail(__FILE__, __LINE__, "offset %zu mode %d: memory %d (%s), file %d (%s)", off, mode,
				        rm, em.msg, rf, ef.msg);
			if (rf < 0 && rf != FLOE_ECORRUPT && rf != FLOE_EUNSUPPORTED)
				th_fail(__FILE__, __LINE__, "offset %zu: code %d: %s", off, rf, ef.msg);
			failures += rf < 0;
		}
	}
	CHECK(failures > 0);
	free(copy);
	free(file);
	floe_arena_free(arena);
}
