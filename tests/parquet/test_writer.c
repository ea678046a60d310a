/* tests/parquet/test_writer.c - the Parquet writer checked from its bytes:
 * footers, page headers and page indexes decoded with parquet/meta.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floe/arena.h"
#include "floe/batch.h"
#include "floe/parquet.h"
#include "floe/schema.h"
#include "harness.h"
#include "parquet/meta.h"

/* Every writable type, required then optional (ids 1..34, default order). */
static const char *const all_types =
	"b boolean not null, i int not null, l long not null, f float not null, "
	"d double not null, d9 decimal(9,2) not null, d18 decimal(18,3) not null, "
	"d38 decimal(38,5) not null, dt date not null, t time not null, "
	"ts timestamp not null, tz timestamptz not null, tn timestamp_ns not null, "
	"tzn timestamptz_ns not null, s string not null, u uuid not null, "
	"x fixed[3] not null, bin binary not null, j json not null, "
	"ob boolean, oi int, ol long, of float, od double, od9 decimal(9,2), "
	"od38 decimal(38,5), odt date, ots timestamp, otz timestamptz, os string, "
	"ou uuid, ox fixed[3], obin binary, oj json";

/* Deterministic value of row r for a column of type t. */
static void add_value(floe_batch_builder *bld, int col, const floe_type *t, int64_t r,
                      bool required)
{
	floe_error errv, *err = &errv;
	char text[64];
	uint8_t fixed[16];
	if (!required && r % 7 == 3) {
		REQUIRE_OK(floe_batch_builder_null(bld, col, err), err);
		return;
	}
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN:
		REQUIRE_OK(floe_batch_builder_bool(bld, col, r % 3 == 0, err), err);
		break;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE:
		REQUIRE_OK(floe_batch_builder_i32(bld, col, (int32_t)(r * 37 - 500), err), err);
		break;
	case FLOE_TYPE_FLOAT:
		REQUIRE_OK(floe_batch_builder_f32(bld, col, (float)r / 4 - 3, err), err);
		break;
	case FLOE_TYPE_DOUBLE:
		REQUIRE_OK(floe_batch_builder_f64(bld, col, (double)r * 1.5 - 10, err), err);
		break;
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_JSON:
		snprintf(text, sizeof text, t->id == FLOE_TYPE_JSON ? "{\"k\":%d}" : "v%03d",
			 (int)(r % 50));
		REQUIRE_OK(floe_batch_builder_bytes(bld, col, text, (int64_t)strlen(text), err), err);
		break;
	case FLOE_TYPE_UUID:
	case FLOE_TYPE_FIXED:
	case FLOE_TYPE_DECIMAL:
		if (t->id != FLOE_TYPE_DECIMAL || t->precision > 18) {
			int w = t->id == FLOE_TYPE_FIXED ? t->width : 16;
			memset(fixed, r % 2 ? 0xFF : 0, sizeof fixed);
			fixed[w - 1] = (uint8_t)r;
			fixed[w - 2] = (uint8_t)(r >> 8);
			REQUIRE_OK(floe_batch_builder_bytes(bld, col, fixed, w, err), err);
			break;
		}
		REQUIRE_OK(floe_batch_builder_i64(bld, col, r * 1000003 - 7, err), err);
		break;
	default:
		REQUIRE_OK(floe_batch_builder_i64(bld, col, r * 1000003 - 7, err), err);
		break;
	}
}

static floe_batch_builder *make_rows(const floe_schema *s, int64_t from, int64_t n)
{
	floe_batch_builder *bld = NULL;
	if (floe_batch_builder_new(&bld, s, NULL))
		return NULL;
	for (int64_t r = from; r < from + n; r++)
		for (int c = 0; c < s->nfields; c++)
			add_value(bld, c, &s->fields[c].type, r, s->fields[c].required);
	return bld;
}

typedef struct footer {
	uint8_t *file;
	size_t len;
	pq_file_meta m;
	floe_arena *arena;
} footer;

static void read_footer(footer *f, const char *path)
{
	floe_error errv, *err = &errv;
	memset(f, 0, sizeof *f);
	f->file = (uint8_t *)th_read_file(path, &f->len);
	REQUIRE(f->file && f->len >= 12);
	REQUIRE(memcmp(f->file, "PAR1", 4) == 0 && memcmp(f->file + f->len - 4, "PAR1", 4) == 0);
	uint32_t flen;
	memcpy(&flen, f->file + f->len - 8, 4);
	REQUIRE(flen <= f->len - 12);
	f->arena = floe_arena_new(4096);
	size_t at = f->len - 8 - flen;
	REQUIRE_OK(pq_meta_decode_file(&f->m, f->file + at, flen, path, at, f->arena, err), err);
}

static void free_footer(footer *f)
{
	floe_arena_free(f->arena);
	free(f->file);
}

static bool name_is(pq_bytes b, const char *s)
{
	return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0;
}

static floe_schema *parse_schema(const char *text, floe_arena *a)
{
	floe_error errv;
	floe_schema *s = NULL;
	if (floe_schema_parse(&s, text, a, &errv)) {
		th_fail(__FILE__, __LINE__, "schema: %s", errv.msg);
		return NULL;
	}
	return s;
}

static void write_file(const char *path, const floe_schema *s, const floe_parquet_write_options *o,
                       int64_t rows, int64_t per_batch, floe_parquet_file_info *info)
{
	floe_error errv, *err = &errv;
	floe_parquet_writer *w = NULL;
	REQUIRE_OK(floe_parquet_writer_open(&w, path, s, o, err), err);
	for (int64_t r = 0; r < rows; r += per_batch) {
		int64_t n = rows - r < per_batch ? rows - r : per_batch;
		floe_batch_builder *bld = make_rows(s, r, n);
		REQUIRE(bld);
		CHECK_OK(floe_parquet_writer_write(w, floe_batch_builder_view(bld), err), err);
		floe_batch_builder_free(bld);
	}
	REQUIRE_OK(floe_parquet_writer_set_kv(w, "k", "old", err), err);
	REQUIRE_OK(floe_parquet_writer_set_kv(w, "k", "new", err), err);
	REQUIRE_OK(floe_parquet_writer_close(w, info, err), err);
}

TEST(pq_writer_codec_names)
{
	floe_error errv, *err = &errv;
	floe_parquet_codec c;
	REQUIRE_OK(floe_parquet_codec_parse(&c, "ZsTd", err), err);
	CHECK_EQ_INT(c, FLOE_PARQUET_ZSTD);
	REQUIRE_OK(floe_parquet_codec_parse(&c, "lz4_raw", err), err);
	CHECK_EQ_INT(c, FLOE_PARQUET_LZ4_RAW);
	CHECK_EQ_INT(floe_parquet_codec_parse(&c, "zip", err), FLOE_EINVALID);
	CHECK_EQ_STR(floe_parquet_codec_name(FLOE_PARQUET_SNAPPY), "snappy");
}

/* Schema element of field f checked against its floe type. */
static void check_element(const pq_schema_element *e, const floe_field *f)
{
	CHECK(name_is(e->name, f->name));
	CHECK_EQ_INT(e->repetition, f->required ? PQ_REQUIRED : PQ_OPTIONAL);
	CHECK(e->has_field_id);
	CHECK_EQ_INT(e->field_id, f->field_id);
	const floe_type *t = &f->type;
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN: CHECK_EQ_INT(e->type, PQ_BOOLEAN); break;
	case FLOE_TYPE_INT: CHECK_EQ_INT(e->type, PQ_INT32); CHECK_EQ_INT(e->logical.kind, PQ_LT_NONE); break;
	case FLOE_TYPE_LONG: CHECK_EQ_INT(e->type, PQ_INT64); break;
	case FLOE_TYPE_FLOAT: CHECK_EQ_INT(e->type, PQ_FLOAT); break;
	case FLOE_TYPE_DOUBLE: CHECK_EQ_INT(e->type, PQ_DOUBLE); break;
	case FLOE_TYPE_DATE:
		CHECK_EQ_INT(e->type, PQ_INT32);
		CHECK_EQ_INT(e->logical.kind, PQ_LT_DATE);
		CHECK_EQ_INT(e->converted_type, PQ_CT_DATE);
		break;
	case FLOE_TYPE_TIME:
		CHECK_EQ_INT(e->type, PQ_INT64);
		CHECK_EQ_INT(e->logical.kind, PQ_LT_TIME);
		CHECK_EQ_INT(e->logical.unit, PQ_UNIT_MICROS);
		CHECK(!e->logical.is_adjusted_to_utc);
		break;
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS: {
		bool tz = t->id == FLOE_TYPE_TIMESTAMPTZ || t->id == FLOE_TYPE_TIMESTAMPTZ_NS;
		bool ns = t->id == FLOE_TYPE_TIMESTAMP_NS || t->id == FLOE_TYPE_TIMESTAMPTZ_NS;
		CHECK_EQ_INT(e->type, PQ_INT64);
		CHECK_EQ_INT(e->logical.kind, PQ_LT_TIMESTAMP);
		CHECK_EQ_INT(e->logical.is_adjusted_to_utc, tz);
		CHECK_EQ_INT(e->logical.unit, ns ? PQ_UNIT_NANOS : PQ_UNIT_MICROS);
		CHECK_EQ_INT(e->converted_type, tz && !ns ? PQ_CT_TIMESTAMP_MICROS : -1);
		break;
	}
	case FLOE_TYPE_STRING:
		CHECK_EQ_INT(e->type, PQ_BYTE_ARRAY);
		CHECK_EQ_INT(e->logical.kind, PQ_LT_STRING);
		CHECK_EQ_INT(e->converted_type, PQ_CT_UTF8);
		break;
	case FLOE_TYPE_JSON:
		CHECK_EQ_INT(e->type, PQ_BYTE_ARRAY);
		CHECK_EQ_INT(e->logical.kind, PQ_LT_JSON);
		CHECK_EQ_INT(e->converted_type, PQ_CT_JSON);
		break;
	case FLOE_TYPE_BINARY:
		CHECK_EQ_INT(e->type, PQ_BYTE_ARRAY);
		CHECK_EQ_INT(e->logical.kind, PQ_LT_NONE);
		break;
	case FLOE_TYPE_UUID:
		CHECK_EQ_INT(e->type, PQ_FIXED_LEN_BYTE_ARRAY);
		CHECK_EQ_INT(e->type_length, 16);
		CHECK_EQ_INT(e->logical.kind, PQ_LT_UUID);
		break;
	case FLOE_TYPE_FIXED:
		CHECK_EQ_INT(e->type, PQ_FIXED_LEN_BYTE_ARRAY);
		CHECK_EQ_INT(e->type_length, t->width);
		break;
	case FLOE_TYPE_DECIMAL:
		CHECK_EQ_INT(e->logical.kind, PQ_LT_DECIMAL);
		CHECK_EQ_INT(e->logical.precision, t->precision);
		CHECK_EQ_INT(e->logical.scale, t->scale);
		CHECK_EQ_INT(e->converted_type, PQ_CT_DECIMAL);
		CHECK_EQ_INT(e->precision, t->precision);
		CHECK_EQ_INT(e->scale, t->scale);
		if (t->precision <= 9)
			CHECK_EQ_INT(e->type, PQ_INT32);
		else if (t->precision <= 18)
			CHECK_EQ_INT(e->type, PQ_INT64);
		else {
			CHECK_EQ_INT(e->type, PQ_FIXED_LEN_BYTE_ARRAY);
			CHECK_EQ_INT(e->type_length, 16); /* 10^38 needs 16 bytes */
		}
		break;
	default:
		CHECK(0);
	}
}

/* Walk every page of chunk cc; returns the number of data pages and sets
 * *dict_pages; checks the values add up to the chunk's num_values. */
static void walk_pages_(const footer *f, const pq_column_chunk *cc, int *dict_pages,
                        int *plain_pages, int *data_pages)
{
	floe_error errv, *err = &errv;
	int64_t pos = cc->meta.has_dictionary_page_offset ? cc->meta.dictionary_page_offset
							  : cc->meta.data_page_offset;
	int64_t end = pos + cc->meta.total_compressed_size;
	int64_t values = 0;
	int data = 0;
	*data_pages = 0;
	*dict_pages = 0;
	*plain_pages = 0;
	REQUIRE(end <= (int64_t)f->len);
	while (pos < end) {
		pq_page_header h;
		size_t used;
		REQUIRE_OK(pq_meta_decode_page_header(&h, &used, f->file + pos, (size_t)(end - pos),
						      "f", (uint64_t)pos, f->arena, err), err);
		if (h.type == PQ_DICTIONARY_PAGE) {
			(*dict_pages)++;
			CHECK_EQ_INT(data, 0);
		} else if (h.type == PQ_DATA_PAGE) {
			data++;
			values += h.data.num_values;
			*plain_pages += h.data.encoding == PQ_PLAIN;
		} else if (h.type == PQ_DATA_PAGE_V2) {
			data++;
			values += h.data_v2.num_rows;
			*plain_pages += h.data_v2.encoding == PQ_PLAIN;
		}
		pos += (int64_t)used + h.compressed_page_size;
	}
	CHECK_EQ_INT(pos, end);
	CHECK_EQ_INT(values, cc->meta.num_values);
	*data_pages = data;
}

static int walk_pages(const footer *f, const pq_column_chunk *cc, int *dict_pages, int *plain_pages)
{
	int data = -1;
	walk_pages_(f, cc, dict_pages, plain_pages, &data);
	return data;
}

TEST(pq_writer_all_types_codecs_pages)
{
	static const floe_parquet_codec codecs[] = { FLOE_PARQUET_UNCOMPRESSED, FLOE_PARQUET_SNAPPY,
						     FLOE_PARQUET_ZSTD, FLOE_PARQUET_GZIP,
						     FLOE_PARQUET_LZ4_RAW };
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = parse_schema(all_types, a);
	REQUIRE(s);
	for (size_t ci = 0; ci < sizeof codecs / sizeof codecs[0]; ci++) {
		for (int v = 1; v <= 2; v++) {
			floe_parquet_write_options o;
			floe_parquet_write_options_init(&o);
			o.codec = codecs[ci];
			o.data_page_version = v;
			const char *path = th_path("all.parquet");
			floe_parquet_file_info info;
			write_file(path, s, &o, 1000, 300, &info);
			CHECK_EQ_INT(info.num_rows, 1000);
			footer f;
			read_footer(&f, path);
			CHECK_EQ_INT(f.m.num_rows, 1000);
			CHECK_EQ_INT(f.m.num_schema, (uint32_t)s->nfields + 1);
			CHECK(name_is(f.m.schema[0].name, "schema"));
			CHECK_EQ_INT(f.m.schema[0].num_children, s->nfields);
			CHECK_EQ_INT(f.m.num_column_orders, (uint32_t)s->nfields);
			for (uint32_t i = 0; f.m.column_orders && i < f.m.num_column_orders; i++)
				CHECK_EQ_INT(f.m.column_orders[i], 1);
			for (int i = 0; i < s->nfields && (uint32_t)i + 1 < f.m.num_schema; i++)
				check_element(&f.m.schema[i + 1], &s->fields[i]);
			CHECK_EQ_INT(f.m.num_kv, 1);
			if (f.m.num_kv == 1)
				CHECK(name_is(f.m.kv[0].value, "new"));
			CHECK(f.m.created_by.ptr != NULL);
			int64_t rows = 0;
			for (uint32_t g = 0; g < f.m.num_row_groups; g++) {
				rows += f.m.row_groups[g].num_rows;
				for (uint32_t c = 0; c < f.m.row_groups[g].num_columns; c++) {
					const pq_column_chunk *cc = &f.m.row_groups[g].columns[c];
					CHECK_EQ_INT(cc->meta.codec, (int)codecs[ci]);
					CHECK_EQ_INT(cc->meta.num_values, f.m.row_groups[g].num_rows);
					CHECK(cc->meta.has_statistics);
					CHECK_EQ_INT(cc->meta.statistics.null_count,
						     s->fields[c].required ? 0 : 1000 / 7 + (1000 % 7 > 3));
					int dp, pp;
					CHECK(walk_pages(&f, cc, &dp, &pp) >= 1);
				}
			}
			CHECK_EQ_INT(rows, 1000);
			free_footer(&f);
		}
	}
	floe_arena_free(a);
}

/* Chunk statistics hold the true min/max in PLAIN form. */
TEST(pq_writer_stats_values)
{
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = parse_schema("i int not null, d double, s string", a);
	REQUIRE(s);
	const char *path = th_path("st.parquet");
	write_file(path, s, NULL, 500, 500, NULL);
	footer f;
	read_footer(&f, path);
	REQUIRE(f.m.num_row_groups == 1);
	const pq_statistics *st = &f.m.row_groups[0].columns[0].meta.statistics;
	int32_t mn, mx;
	REQUIRE(st->min_value.len == 4 && st->max_value.len == 4);
	memcpy(&mn, st->min_value.ptr, 4);
	memcpy(&mx, st->max_value.ptr, 4);
	CHECK_EQ_INT(mn, -500);
	CHECK_EQ_INT(mx, 499 * 37 - 500);
	st = &f.m.row_groups[0].columns[2].meta.statistics;
	CHECK(st->min_value.len == 4 && memcmp(st->min_value.ptr, "v000", 4) == 0);
	CHECK(st->max_value.len == 4 && memcmp(st->max_value.ptr, "v049", 4) == 0);
	CHECK(st->min.ptr == NULL); /* deprecated fields: signed order only */
	free_footer(&f);
	floe_arena_free(a);
}

/* The file-level min/max (what table appends use as Iceberg bounds) is the
 * true extreme over every row group, untruncated, in unsigned byte order
 * (shorter first); an all-null column has none; statistics off has none. */
TEST(pq_writer_file_minmax)
{
	floe_error errv, *err = &errv;
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = parse_schema("s string, b binary, n string, i int", a);
	REQUIRE(s);
	for (int stats = 0; stats < 2; stats++) {
		floe_parquet_write_options o;
		floe_parquet_write_options_init(&o);
		o.statistics = stats;
		o.row_group_bytes = 4096; /* many row groups */
		o.page_bytes = 512;
		floe_parquet_writer *w = NULL;
		REQUIRE_OK(floe_parquet_writer_open(&w, th_path("mm.parquet"), s, &o, err), err);
		uint64_t x = 0x9E3779B97F4A7C15ull;
		char lo[64] = "", hi[64] = "";
		size_t lolen = 0, hilen = 0;
		bool have = false;
		int64_t nulls = 0;
		for (int batch = 0; batch < 20; batch++) {
			floe_batch_builder *bld = NULL;
			REQUIRE_OK(floe_batch_builder_new(&bld, s, err), err);
			for (int r = 0; r < 300; r++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				char v[64];
				/* lengths 0..39, bytes over the whole unsigned range,
				 * including prefixes of one another and 0xFF */
				size_t len = (size_t)(x % 40);
				for (size_t k = 0; k < len; k++)
					v[k] = (char)(uint8_t)((x >> (k % 56)) * (k + 1));
				if (x % 11 == 0) {
					nulls++;
					REQUIRE_OK(floe_batch_builder_null(bld, 0, err), err);
					REQUIRE_OK(floe_batch_builder_null(bld, 1, err), err);
				} else {
					REQUIRE_OK(floe_batch_builder_bytes(bld, 0, v, len, err), err);
					REQUIRE_OK(floe_batch_builder_bytes(bld, 1, v, len, err), err);
					int c1 = memcmp(v, lo, len < lolen ? len : lolen);
					int c2 = memcmp(v, hi, len < hilen ? len : hilen);
					if (!have || c1 < 0 || (c1 == 0 && len < lolen)) {
						memcpy(lo, v, len);
						lolen = len;
					}
					if (!have || c2 > 0 || (c2 == 0 && len > hilen)) {
						memcpy(hi, v, len);
						hilen = len;
					}
					have = true;
				}
				REQUIRE_OK(floe_batch_builder_null(bld, 2, err), err);
				REQUIRE_OK(floe_batch_builder_i32(bld, 3, (int32_t)(x % 1000), err), err);
			}
			REQUIRE_OK(floe_parquet_writer_write(w, floe_batch_builder_view(bld), err), err);
			floe_batch_builder_free(bld);
		}
		REQUIRE_OK(floe_parquet_writer_flush_row_group(w, err), err);
		floe_parquet_minmax mm;
		if (!stats) {
			CHECK_EQ_INT(floe_parquet_writer_column_minmax(w, 0, &mm), -1);
		} else {
			for (int c = 0; c < 2; c++) {
				CHECK_EQ_INT(floe_parquet_writer_column_minmax(w, c, &mm), 1);
				CHECK_EQ_INT(mm.nulls, nulls);
				CHECK(mm.min_len == lolen && (!lolen || memcmp(mm.min, lo, lolen) == 0));
				CHECK(mm.max_len == hilen && (!hilen || memcmp(mm.max, hi, hilen) == 0));
			}
			CHECK_EQ_INT(floe_parquet_writer_column_minmax(w, 2, &mm), 0);
			CHECK_EQ_INT(mm.nulls, 6000);
			CHECK_EQ_INT(floe_parquet_writer_column_minmax(w, 3, &mm), 1);
			CHECK_EQ_INT(floe_parquet_writer_column_minmax(w, 4, &mm), -1);
		}
		floe_parquet_file_info info;
		REQUIRE_OK(floe_parquet_writer_close(w, &info, err), err);
		CHECK(info.num_row_groups > 3);
	}
	floe_arena_free(a);
}

TEST(pq_writer_dictionary_fallback)
{
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = parse_schema("l long not null, s string", a);
	REQUIRE(s);
	floe_parquet_write_options o;
	floe_parquet_write_options_init(&o);
	o.dictionary_bytes = 2000;
	o.page_bytes = 1024;
	const char *path = th_path("fb.parquet");
	/* long values are all distinct (dictionary overflows); strings repeat */
	write_file(path, s, &o, 5000, 1000, NULL);
	footer f;
	read_footer(&f, path);
	REQUIRE(f.m.num_row_groups == 1);
	const pq_column_chunk *cc = &f.m.row_groups[0].columns[0];
	bool dict = false, delta = false;
	for (uint32_t i = 0; i < cc->meta.num_encodings; i++) {
		dict |= cc->meta.encodings[i] == PQ_RLE_DICTIONARY;
		delta |= cc->meta.encodings[i] == PQ_DELTA_BINARY_PACKED;
	}
	CHECK(dict);
	CHECK(delta); /* r * 1000003 - 7 is an arithmetic sequence */
	int dp, pp;
	int data = walk_pages(&f, cc, &dp, &pp);
	CHECK_EQ_INT(dp, 1);
	CHECK(data >= 2);
	/* strings fit: dictionary only */
	cc = &f.m.row_groups[0].columns[1];
	data = walk_pages(&f, cc, &dp, &pp);
	CHECK_EQ_INT(dp, 1);
	CHECK_EQ_INT(pp, 0);
	free_footer(&f);

	/* with delta off, the pages after the fallback are PLAIN */
	o.delta = false;
	write_file(path, s, &o, 5000, 1000, NULL);
	read_footer(&f, path);
	cc = &f.m.row_groups[0].columns[0];
	data = walk_pages(&f, cc, &dp, &pp);
	CHECK_EQ_INT(dp, 1);
	CHECK(pp >= 1 && pp < data);
	free_footer(&f);
	floe_arena_free(a);
}

TEST(pq_writer_row_groups_and_page_index)
{
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = parse_schema("l long not null, s string, d double", a);
	REQUIRE(s);
	floe_parquet_write_options o;
	floe_parquet_write_options_init(&o);
	o.row_group_bytes = 64 * 1024;
	o.page_bytes = 4096;
	o.dictionary = false;
	const char *path = th_path("rg.parquet");
	floe_parquet_file_info info;
	write_file(path, s, &o, 30000, 20000, &info);
	footer f;
	read_footer(&f, path);
	CHECK(f.m.num_row_groups > 1);
	CHECK_EQ_INT(info.num_row_groups, (int)f.m.num_row_groups);
	int64_t rows = 0;
	for (uint32_t g = 0; g < f.m.num_row_groups; g++) {
		const pq_row_group *rg = &f.m.row_groups[g];
		rows += rg->num_rows;
		for (uint32_t c = 0; c < rg->num_columns; c++) {
			const pq_column_chunk *cc = &rg->columns[c];
			floe_error errv, *err = &errv;
			REQUIRE(cc->has_offset_index && cc->has_column_index);
			REQUIRE(cc->offset_index_offset + cc->offset_index_length <= (int64_t)f.len);
			REQUIRE(cc->column_index_offset + cc->column_index_length <= (int64_t)f.len);
			pq_offset_index oi;
			pq_column_index ci;
			REQUIRE_OK(pq_meta_decode_offset_index(&oi, f.file + cc->offset_index_offset,
							       (size_t)cc->offset_index_length, "f", 0,
							       f.arena, err), err);
			REQUIRE_OK(pq_meta_decode_column_index(&ci, f.file + cc->column_index_offset,
							       (size_t)cc->column_index_length, "f", 0,
							       f.arena, err), err);
			REQUIRE(oi.num_pages >= 1);
			CHECK_EQ_INT(ci.num_pages, oi.num_pages);
			CHECK_EQ_INT(oi.pages[0].first_row_index, 0);
			CHECK_EQ_INT(oi.pages[0].offset, cc->meta.data_page_offset);
			int dp, pp;
			CHECK_EQ_INT(walk_pages(&f, cc, &dp, &pp), (int)oi.num_pages);
			for (uint32_t p = 1; p < oi.num_pages; p++) {
				CHECK(oi.pages[p].first_row_index > oi.pages[p - 1].first_row_index);
				CHECK_EQ_INT(oi.pages[p].offset,
					     oi.pages[p - 1].offset + oi.pages[p - 1].compressed_page_size);
			}
			CHECK(oi.pages[oi.num_pages - 1].first_row_index < rg->num_rows);
			if (c == 0) /* l grows with the row number */
				CHECK_EQ_INT(ci.boundary_order, PQ_ASCENDING);
		}
	}
	CHECK_EQ_INT(rows, 30000);
	free_footer(&f);
	floe_arena_free(a);
}

TEST(pq_writer_stats_truncation)
{
	floe_error errv, *err = &errv;
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = parse_schema("s string not null", a);
	REQUIRE(s);
	floe_parquet_write_options o;
	floe_parquet_write_options_init(&o);
	o.stats_truncate = 8;
	const char *path = th_path("tr.parquet");
	floe_parquet_writer *w;
	REQUIRE_OK(floe_parquet_writer_open(&w, path, s, &o, err), err);
	floe_batch_builder *bld;
	REQUIRE_OK(floe_batch_builder_new(&bld, s, err), err);
	const char *vals[] = { "aaaaaaaaaaaaaaaaaaaa", "zzzzzzz\xff\xff\xffzzzzz", "mmmm" };
	for (int i = 0; i < 3; i++)
		REQUIRE_OK(floe_batch_builder_bytes(bld, 0, vals[i], (int64_t)strlen(vals[i]), err), err);
	REQUIRE_OK(floe_parquet_writer_write(w, floe_batch_builder_view(bld), err), err);
	floe_batch_builder_free(bld);
	REQUIRE_OK(floe_parquet_writer_close(w, NULL, err), err);
	footer f;
	read_footer(&f, path);
	const pq_statistics *st = &f.m.row_groups[0].columns[0].meta.statistics;
	CHECK(st->min_value.len == 8 && memcmp(st->min_value.ptr, "aaaaaaaa", 8) == 0);
	CHECK(st->has_is_min_value_exact && !st->is_min_value_exact);
	/* "zzzzzzz\xff" -> drop the 0xFF, increment: "zzzzzz{" */
	CHECK(st->max_value.len == 7 && memcmp(st->max_value.ptr, "zzzzzz{", 7) == 0);
	CHECK(st->has_is_max_value_exact && !st->is_max_value_exact);
	free_footer(&f);
	floe_arena_free(a);
}

TEST(pq_writer_abort_removes_file)
{
	floe_error errv, *err = &errv;
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = parse_schema("i int", a);
	REQUIRE(s);
	const char *path = th_path("ab.parquet");
	floe_parquet_writer *w;
	REQUIRE_OK(floe_parquet_writer_open(&w, path, s, NULL, err), err);
	floe_batch_builder *bld = make_rows(s, 0, 100);
	REQUIRE(bld);
	REQUIRE_OK(floe_parquet_writer_write(w, floe_batch_builder_view(bld), err), err);
	floe_batch_builder_free(bld);
	CHECK(access(path, F_OK) == 0);
	floe_parquet_writer_abort(w);
	CHECK(access(path, F_OK) != 0);
	floe_parquet_writer_abort(NULL);
	/* a null in a required column is refused */
	floe_schema *r = parse_schema("i int not null", a);
	REQUIRE(r);
	REQUIRE_OK(floe_parquet_writer_open(&w, path, r, NULL, err), err);
	floe_batch_builder *ob = make_rows(s, 0, 10); /* has a null at row 3 */
	REQUIRE(ob);
	floe_batch b = *floe_batch_builder_view(ob);
	CHECK_EQ_INT(floe_parquet_writer_write(w, &b, err), FLOE_EINVALID);
	floe_batch_builder_free(ob);
	floe_parquet_writer_abort(w);
	CHECK(access(path, F_OK) != 0);
	floe_arena_free(a);
}

/* Rows per data page of chunk cc, in file order, from the page headers;
 * returns the number of data pages (at most `cap` recorded). */
static int page_rows(const footer *f, const pq_column_chunk *cc, int64_t *rows, int cap)
{
	floe_error errv, *err = &errv;
	int64_t pos = cc->meta.has_dictionary_page_offset ? cc->meta.dictionary_page_offset
							  : cc->meta.data_page_offset;
	int64_t end = pos + cc->meta.total_compressed_size;
	int n = 0;
	if (end > (int64_t)f->len)
		return -1;
	while (pos < end) {
		pq_page_header h;
		size_t used;
		if (pq_meta_decode_page_header(&h, &used, f->file + pos, (size_t)(end - pos), "f",
					       (uint64_t)pos, f->arena, err)) {
			th_fail(__FILE__, __LINE__, "page header: %s", err->msg);
			return -1;
		}
		if (h.type == PQ_DATA_PAGE || h.type == PQ_DATA_PAGE_V2) {
			if (n < cap)
				rows[n] = h.type == PQ_DATA_PAGE ? h.data.num_values : h.data_v2.num_rows;
			n++;
		}
		pos += (int64_t)used + h.compressed_page_size;
	}
	return n;
}

/* Small page_bytes cuts many pages per chunk, whether rows come in many
 * small batches or one large one, and the page index lines up with them. */
TEST(pq_writer_small_pages)
{
	floe_error errv, *err = &errv;
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = parse_schema("l long not null, s string, d double", a);
	REQUIRE(s);
	enum { ROWS = 20000, CAP = 4096 };
	int64_t *rows = calloc(CAP, sizeof *rows);
	REQUIRE(rows);
	static const int64_t batches[] = { 100, ROWS };
	for (int bi = 0; bi < 2; bi++) {
		for (int v = 1; v <= 2; v++) {
			floe_parquet_write_options o;
			floe_parquet_write_options_init(&o);
			o.page_bytes = 1024;
			o.data_page_version = v;
			const char *path = th_path("sp.parquet");
			write_file(path, s, &o, ROWS, batches[bi], NULL);
			footer f;
			read_footer(&f, path);
			REQUIRE(f.m.num_row_groups == 1);
			const pq_row_group *rg = &f.m.row_groups[0];
			for (uint32_t c = 0; c < rg->num_columns; c++) {
				const pq_column_chunk *cc = &rg->columns[c];
				int n = page_rows(&f, cc, rows, CAP);
				REQUIRE(n > 0 && n <= CAP);
				/* 8-byte values: 1024 bytes hold 128; strings (dictionary
				 * indices of 50 entries) about 1000 */
				CHECK(n >= (c == 1 ? 10 : ROWS / 256));
				int64_t total = 0;
				for (int p = 0; p < n; p++)
					total += rows[p];
				CHECK_EQ_INT(total, ROWS);
				REQUIRE(cc->has_offset_index);
				pq_offset_index oi;
				REQUIRE_OK(pq_meta_decode_offset_index(&oi, f.file + cc->offset_index_offset,
								       (size_t)cc->offset_index_length,
								       "f", 0, f.arena, err), err);
				CHECK_EQ_INT(oi.num_pages, (uint32_t)n);
				int64_t first = 0;
				for (uint32_t p = 0; p < oi.num_pages && (int)p < n; p++) {
					CHECK_EQ_INT(oi.pages[p].first_row_index, first);
					first += rows[p];
				}
			}
			free_footer(&f);
		}
	}
	free(rows);
	floe_arena_free(a);
}

/* A predicate on the sorted column lets the reader skip pages of a file
 * floe wrote, and the rows it keeps are the right ones. */
TEST(pq_writer_small_pages_skipping)
{
	floe_error errv, *err = &errv;
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = parse_schema("l long not null, s string", a);
	REQUIRE(s);
	enum { ROWS = 20000 };
	floe_parquet_write_options o;
	floe_parquet_write_options_init(&o);
	o.page_bytes = 1024;
	const char *path = th_path("skip.parquet");
	write_file(path, s, &o, ROWS, 100, NULL);

	/* l = r * 1000003 - 7: ask for rows 5000..5099 */
	floe_value lo = { .i = 5000 * 1000003LL - 7 }, hi = { .i = 5099 * 1000003LL - 7 };
	floe_parquet_predicate preds[2] = {
		{ .column = "l", .op = FLOE_PARQUET_GE, .values = &lo, .nvalues = 1 },
		{ .column = "l", .op = FLOE_PARQUET_LE, .values = &hi, .nvalues = 1 },
	};
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *sc = NULL;
	REQUIRE_OK(floe_parquet_reader_open(&r, path, err), err);
	floe_parquet_scan_options so;
	floe_parquet_scan_options_init(&so);
	so.predicates = preds;
	so.npredicates = 2;
	REQUIRE_OK(floe_parquet_scan_open(&sc, r, &so, err), err);
	int64_t got = 0, matched = 0;
	for (;;) {
		const floe_batch *b;
		int k = floe_parquet_scan_next(sc, &b, err);
		REQUIRE(k >= 0);
		if (k == 0)
			break;
		REQUIRE(b->ncols == 2);
		const int64_t *l = b->cols[0].values;
		for (int64_t i = 0; i < b->nrows; i++) {
			/* every kept row is a whole row of the file */
			int64_t row = (l[i] + 7) / 1000003;
			CHECK_EQ_INT(l[i], row * 1000003 - 7);
			char want[16];
			snprintf(want, sizeof want, "v%03d", (int)(row % 50));
			bool valid = floe_column_is_valid(&b->cols[1], i);
			CHECK_EQ_INT(valid, row % 7 != 3);
			if (valid) {
				const floe_column *sv = &b->cols[1];
				int64_t len = sv->offsets[i + 1] - sv->offsets[i];
				CHECK(len == (int64_t)strlen(want) &&
				      memcmp(sv->data + sv->offsets[i], want, (size_t)len) == 0);
			}
			matched += l[i] >= lo.i && l[i] <= hi.i;
		}
		got += b->nrows;
	}
	floe_parquet_scan_stats st;
	floe_parquet_scan_get_stats(sc, &st);
	CHECK_EQ_INT(matched, 100);
	CHECK(got >= 100 && got < ROWS / 10); /* pages of ~128 rows of l were skipped */
	CHECK(st.pages_skipped > 0);
	CHECK_EQ_INT(st.rows_returned, got);
	floe_parquet_scan_free(sc);
	floe_parquet_reader_free(r);
	floe_arena_free(a);
}

/* Mostly-unique values leave the dictionary after the first page (it would
 * not pay off); low-cardinality values keep it for the whole chunk. */
TEST(pq_writer_dictionary_payoff)
{
	floe_error errv, *err = &errv;
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = parse_schema("id string not null, k string not null", a);
	REQUIRE(s);
	floe_parquet_write_options o;
	floe_parquet_write_options_init(&o);
	o.page_bytes = 4096;
	const char *path = th_path("po.parquet");
	floe_parquet_writer *w;
	REQUIRE_OK(floe_parquet_writer_open(&w, path, s, &o, err), err);
	floe_batch_builder *bld;
	REQUIRE_OK(floe_batch_builder_new(&bld, s, err), err);
	for (int r = 0; r < 20000; r++) {
		char id[32], k[8];
		snprintf(id, sizeof id, "T%012d", r);
		snprintf(k, sizeof k, "k%d", r % 5);
		REQUIRE_OK(floe_batch_builder_bytes(bld, 0, id, (int64_t)strlen(id), err), err);
		REQUIRE_OK(floe_batch_builder_bytes(bld, 1, k, (int64_t)strlen(k), err), err);
	}
	REQUIRE_OK(floe_parquet_writer_write(w, floe_batch_builder_view(bld), err), err);
	floe_batch_builder_free(bld);
	REQUIRE_OK(floe_parquet_writer_close(w, NULL, err), err);
	footer f;
	read_footer(&f, path);
	REQUIRE(f.m.num_row_groups == 1);
	int dp, pp;
	int data = walk_pages(&f, &f.m.row_groups[0].columns[0], &dp, &pp);
	CHECK_EQ_INT(dp, 1);
	CHECK(data > 2);
	CHECK_EQ_INT(pp, data - 1); /* one dictionary page, then PLAIN */
	data = walk_pages(&f, &f.m.row_groups[0].columns[1], &dp, &pp);
	CHECK_EQ_INT(dp, 1);
	CHECK(data >= 1);
	CHECK_EQ_INT(pp, 0);
	free_footer(&f);
	floe_arena_free(a);
}

/* Every value read back through floe's reader: nulls, a dictionary that
 * fills up in the middle of a batch, PLAIN/DELTA pages after it. */
TEST(pq_writer_roundtrip_nulls_fallback)
{
	floe_error errv, *err = &errv;
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = parse_schema("b boolean, l long, s string, i int, d double", a);
	REQUIRE(s);
	enum { ROWS = 7000 };
	for (int v = 1; v <= 2; v++) {
		floe_parquet_write_options o;
		floe_parquet_write_options_init(&o);
		o.dictionary_bytes = 1000; /* l, i, d overflow it within a batch */
		o.page_bytes = 2048;
		o.data_page_version = v;
		const char *path = th_path("rt.parquet");
		write_file(path, s, &o, ROWS, 3000, NULL);
		floe_parquet_reader *r = NULL;
		floe_parquet_scan *sc = NULL;
		REQUIRE_OK(floe_parquet_reader_open(&r, path, err), err);
		REQUIRE_OK(floe_parquet_scan_open(&sc, r, NULL, err), err);
		int64_t row = 0;
		for (;;) {
			const floe_batch *b;
			int k = floe_parquet_scan_next(sc, &b, err);
			REQUIRE(k >= 0);
			if (k == 0)
				break;
			REQUIRE(b->ncols == 5);
			for (int64_t i = 0; i < b->nrows; i++, row++) {
				bool null = row % 7 == 3;
				for (int c = 0; c < 5; c++)
					CHECK_EQ_INT(floe_column_is_valid(&b->cols[c], i), !null);
				if (null)
					continue;
				CHECK_EQ_INT(((const uint8_t *)b->cols[0].values)[i] != 0, row % 3 == 0);
				CHECK_EQ_INT(((const int64_t *)b->cols[1].values)[i], row * 1000003 - 7);
				char want[16];
				snprintf(want, sizeof want, "v%03d", (int)(row % 50));
				const floe_column *sv = &b->cols[2];
				int64_t len = sv->offsets[i + 1] - sv->offsets[i];
				CHECK(len == (int64_t)strlen(want) &&
				      memcmp(sv->data + sv->offsets[i], want, (size_t)len) == 0);
				CHECK_EQ_INT(((const int32_t *)b->cols[3].values)[i], row * 37 - 500);
				CHECK(((const double *)b->cols[4].values)[i] == (double)row * 1.5 - 10);
			}
		}
		CHECK_EQ_INT(row, ROWS);
		floe_parquet_scan_free(sc);
		floe_parquet_reader_free(r);
		/* the fallback happened: dictionary and non-dictionary pages */
		footer f;
		read_footer(&f, path);
		for (int c = 1; c < 5; c += 2) {
			int dp, pp;
			int data = walk_pages(&f, &f.m.row_groups[0].columns[c], &dp, &pp);
			CHECK_EQ_INT(dp, 1);
			CHECK(data >= 2);
		}
		free_footer(&f);
	}
	floe_arena_free(a);
}

/* Nulls come from the validity bitmap even when null_count is not filled. */
TEST(pq_writer_bitmap_decides_nulls)
{
	floe_error errv, *err = &errv;
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = parse_schema("l long, s string", a);
	REQUIRE(s);
	const char *path = th_path("bm.parquet");
	floe_parquet_writer *w;
	REQUIRE_OK(floe_parquet_writer_open(&w, path, s, NULL, err), err);
	floe_batch_builder *bld = make_rows(s, 0, 100); /* nulls at r % 7 == 3 */
	REQUIRE(bld);
	floe_batch b = *floe_batch_builder_view(bld);
	floe_column cols[2] = { b.cols[0], b.cols[1] };
	REQUIRE(cols[0].validity && cols[1].validity);
	cols[0].null_count = cols[1].null_count = 0;
	b.cols = cols;
	REQUIRE_OK(floe_parquet_writer_write(w, &b, err), err);
	floe_batch_builder_free(bld);
	REQUIRE_OK(floe_parquet_writer_close(w, NULL, err), err);
	footer f;
	read_footer(&f, path);
	REQUIRE(f.m.num_row_groups == 1);
	for (int c = 0; c < 2; c++)
		CHECK_EQ_INT(f.m.row_groups[0].columns[c].meta.statistics.null_count, 14);
	free_footer(&f);
	floe_arena_free(a);
}
