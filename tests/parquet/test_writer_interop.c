/* tests/parquet/test_writer_interop.c - files from the Parquet writer read
 * back by DuckDB and by parquet-wasm (arrow-rs): values, field ids, stats. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/arena.h"
#include "floe/batch.h"
#include "floe/parquet.h"
#include "floe/schema.h"
#include "harness.h"

#define IO_ROWS 300

static const char *const io_schema =
	"b boolean, i int not null, l long, d double, dc decimal(9,2), dl decimal(18,3), "
	"dh decimal(38,5), dt date, t time, ts timestamp, tz timestamptz, tn timestamp_ns, "
	"s string, j json, bin binary, u uuid, x fixed[3]";

static bool io_null(int col, int64_t r)
{
	return col != 1 && (r + col) % 5 == 2;
}

static void io_fixed(uint8_t *out, int w, int64_t v)
{
	for (int k = w - 1; k >= 0; k--, v >>= 8)
		out[k] = (uint8_t)(v & 0xFF);
}

static void io_uuid(uint8_t *u, int64_t r)
{
	for (int k = 0; k < 16; k++)
		u[k] = (uint8_t)(r * 17 + k * 31);
}

static void io_build(floe_batch_builder *bld, const floe_schema *s, int64_t r)
{
	floe_error errv, *err = &errv;
	char text[64];
	uint8_t fx[16];
	for (int c = 0; c < s->nfields; c++) {
		if (io_null(c, r)) {
			REQUIRE_OK(floe_batch_builder_null(bld, c, err), err);
			continue;
		}
		int rc = 0;
		switch (c) {
		case 0: rc = floe_batch_builder_bool(bld, c, r % 3 == 0, err); break;
		case 1: rc = floe_batch_builder_i32(bld, c, (int32_t)(r * 7 - 100), err); break;
		case 2: rc = floe_batch_builder_i64(bld, c, r * 1000003, err); break;
		case 3: rc = floe_batch_builder_f64(bld, c, (double)r * 0.5, err); break;
		case 4: rc = floe_batch_builder_i64(bld, c, r * 13 - 50, err); break;
		case 5: rc = floe_batch_builder_i64(bld, c, r * 1000 + 1, err); break;
		case 6: io_fixed(fx, 16, r * 99 - 1000); rc = floe_batch_builder_bytes(bld, c, fx, 16, err); break;
		case 7: rc = floe_batch_builder_i32(bld, c, (int32_t)r, err); break;
		case 8: rc = floe_batch_builder_i64(bld, c, r * 1000000, err); break;
		case 9: case 10: rc = floe_batch_builder_i64(bld, c, r * 1000, err); break;
		case 11: rc = floe_batch_builder_i64(bld, c, r * 7, err); break;
		case 12:
			snprintf(text, sizeof text, "s%d", (int)(r % 40));
			rc = floe_batch_builder_bytes(bld, c, text, (int64_t)strlen(text), err);
			break;
		case 13:
			snprintf(text, sizeof text, "[%d]", (int)r);
			rc = floe_batch_builder_bytes(bld, c, text, (int64_t)strlen(text), err);
			break;
		case 14: io_fixed(fx, 3, r | 0xAB00); rc = floe_batch_builder_bytes(bld, c, fx, 3, err); break;
		case 15: io_uuid(fx, r); rc = floe_batch_builder_bytes(bld, c, fx, 16, err); break;
		default: io_fixed(fx, 3, r * 3); rc = floe_batch_builder_bytes(bld, c, fx, 3, err); break;
		}
		REQUIRE_OK(rc, err);
	}
}

static void io_decimal(char *out, size_t n, int64_t unscaled, int scale)
{
	int64_t p = 1;
	for (int k = 0; k < scale; k++)
		p *= 10;
	int64_t a = unscaled < 0 ? -unscaled : unscaled;
	snprintf(out, n, "%s%" PRId64 ".%0*" PRId64, unscaled < 0 ? "-" : "", a / p, scale, a % p);
}

/* Row r as DuckDB prints the concat_ws of io_sql. */
static void io_expect(char *out, size_t n, int64_t r)
{
	char f[17][64];
	uint8_t u[16];
	snprintf(f[0], 64, "%s", r % 3 == 0 ? "true" : "false");
	snprintf(f[1], 64, "%d", (int)(r * 7 - 100));
	snprintf(f[2], 64, "%" PRId64, r * 1000003);
	snprintf(f[3], 64, "%" PRId64, r);
	io_decimal(f[4], 64, r * 13 - 50, 2);
	io_decimal(f[5], 64, r * 1000 + 1, 3);
	io_decimal(f[6], 64, r * 99 - 1000, 5);
	snprintf(f[7], 64, "%" PRId64, r);
	snprintf(f[8], 64, "%" PRId64, r * 1000000);
	snprintf(f[9], 64, "%" PRId64, r * 1000);
	snprintf(f[10], 64, "%" PRId64, r * 1000);
	snprintf(f[11], 64, "%" PRId64, r * 7);
	snprintf(f[12], 64, "s%d", (int)(r % 40));
	snprintf(f[13], 64, "[%d]", (int)r);
	/* bin holds the 3 low bytes of r | 0xAB00, big-endian */
	int64_t bv = r | 0xAB00;
	snprintf(f[14], 64, "%02X%02X%02X", (unsigned)((bv >> 16) & 0xFF), (unsigned)((bv >> 8) & 0xFF),
		 (unsigned)(bv & 0xFF));
	io_uuid(u, r);
	snprintf(f[15], 64,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
	int64_t xv = r * 3;
	snprintf(f[16], 64, "%02X%02X%02X", (unsigned)((xv >> 16) & 0xFF), (unsigned)((xv >> 8) & 0xFF),
		 (unsigned)(xv & 0xFF));
	size_t at = 0;
	at += (size_t)snprintf(out + at, n - at, "{\"r\":\"");
	for (int c = 0; c < 17; c++)
		at += (size_t)snprintf(out + at, n - at, "%s%s", c ? "|" : "", io_null(c, r) ? "N" : f[c]);
	snprintf(out + at, n - at, "\"}\n");
}

static const char *const io_sql =
	"select concat_ws('|', coalesce(b::varchar,'N'), coalesce(i::varchar,'N'), "
	"coalesce(l::varchar,'N'), coalesce((d*2)::bigint::varchar,'N'), coalesce(dc::varchar,'N'), "
	"coalesce(dl::varchar,'N'), coalesce(dh::varchar,'N'), "
	"coalesce((dt - date '1970-01-01')::varchar,'N'), coalesce(epoch_us(t)::varchar,'N'), "
	"coalesce(epoch_us(ts)::varchar,'N'), coalesce(epoch_us(tz)::varchar,'N'), "
	"coalesce(epoch_ns(tn)::varchar,'N'), coalesce(s,'N'), coalesce(j::varchar,'N'), "
	"coalesce(hex(bin),'N'), coalesce(u::varchar,'N'), coalesce(hex(x),'N')) r "
	"from read_parquet('%s', file_row_number=true) order by file_row_number";

static void io_write(const char *path, const floe_schema *s, const floe_parquet_write_options *o)
{
	floe_error errv, *err = &errv;
	floe_parquet_writer *w = NULL;
	floe_batch_builder *bld = NULL;
	REQUIRE_OK(floe_parquet_writer_open(&w, path, s, o, err), err);
	REQUIRE_OK(floe_batch_builder_new(&bld, s, err), err);
	for (int64_t r = 0; r < IO_ROWS; r++) {
		io_build(bld, s, r);
		if (floe_batch_builder_rows(bld) == 128 || r == IO_ROWS - 1) {
			CHECK_OK(floe_parquet_writer_write(w, floe_batch_builder_view(bld), err), err);
			floe_batch_builder_clear(bld);
		}
	}
	floe_batch_builder_free(bld);
	REQUIRE_OK(floe_parquet_writer_close(w, NULL, err), err);
}

static void io_check_duckdb(const char *peers, const char *path)
{
	char sql[2048], *out = NULL;
	snprintf(sql, sizeof sql, io_sql, path);
	int rc = th_run(&out, "node %s/duckdb-query.mjs --format jsonl \"%s\" 2>&1", peers, sql);
	CHECK_EQ_INT(rc, 0);
	REQUIRE(out);
	size_t cap = IO_ROWS * 400;
	char *want = malloc(cap), *line = want;
	REQUIRE(want);
	for (int64_t r = 0; r < IO_ROWS; r++) {
		io_expect(line, cap - (size_t)(line - want), r);
		line += strlen(line);
	}
	if (strcmp(out, want) != 0) {
		size_t k = 0;
		while (out[k] && out[k] == want[k])
			k++;
		th_fail(__FILE__, __LINE__, "%s: duckdb differs at byte %zu: got '%.80s' want '%.80s'",
			path, k, out + k, want + k);
	}
	free(want);
	free(out);
}

/* parquet-wasm (arrow-rs): int, long, string, binary-free columns as JSON. */
static void io_check_arrow(const char *peers, const char *path)
{
	char *out = NULL;
	int rc = th_run(&out, "node %s/parquet-inspect.mjs %s --reader arrow --rows --columns i,l,s 2>&1",
			peers, path);
	CHECK_EQ_INT(rc, 0);
	REQUIRE(out);
	char *want = malloc(IO_ROWS * 80), *p = want;
	REQUIRE(want);
	for (int64_t r = 0; r < IO_ROWS; r++) {
		char l[32], s[32];
		snprintf(l, sizeof l, "%" PRId64, r * 1000003);
		snprintf(s, sizeof s, "\"s%d\"", (int)(r % 40));
		p += sprintf(p, "{\"i\":%d,\"l\":%s,\"s\":%s}\n", (int)(r * 7 - 100),
			     io_null(2, r) ? "null" : l, io_null(12, r) ? "null" : s);
	}
	if (strcmp(out, want) != 0) {
		size_t k = 0;
		while (out[k] && out[k] == want[k])
			k++;
		th_fail(__FILE__, __LINE__, "%s: arrow differs at byte %zu: got '%.80s' want '%.80s'",
			path, k, out + k, want + k);
	}
	free(want);
	free(out);
}

TEST(pq_writer_interop_values)
{
	const char *peers = th_peers();
	floe_error errv, *err = &errv;
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = NULL;
	REQUIRE_OK(floe_schema_parse(&s, io_schema, a, err), err);
	static const struct {
		floe_parquet_codec codec;
		int version;
		bool dict, delta;
		int64_t dict_bytes;
	} cfg[] = {
		{ FLOE_PARQUET_ZSTD, 1, true, true, 1 << 20 },
		{ FLOE_PARQUET_SNAPPY, 2, true, true, 1 << 20 },
		{ FLOE_PARQUET_GZIP, 1, false, true, 0 },
		{ FLOE_PARQUET_LZ4_RAW, 2, true, true, 200 },   /* dictionary fallback */
		{ FLOE_PARQUET_UNCOMPRESSED, 1, false, false, 0 },
	};
	for (size_t k = 0; k < sizeof cfg / sizeof cfg[0]; k++) {
		floe_parquet_write_options o;
		floe_parquet_write_options_init(&o);
		o.codec = cfg[k].codec;
		o.data_page_version = cfg[k].version;
		o.dictionary = cfg[k].dict;
		o.delta = cfg[k].delta;
		if (cfg[k].dict_bytes)
			o.dictionary_bytes = cfg[k].dict_bytes;
		o.page_bytes = 512;
		o.row_group_bytes = 16 * 1024;
		const char *path = th_path(k % 2 ? "io1.parquet" : "io0.parquet");
		io_write(path, s, &o);
		io_check_duckdb(peers, path);
		io_check_arrow(peers, path);
	}
	floe_arena_free(a);
}

/* DuckDB sees the field ids, the codec and the min/max statistics. */
TEST(pq_writer_interop_metadata)
{
	const char *peers = th_peers();
	floe_error errv, *err = &errv;
	floe_arena *a = floe_arena_new(4096);
	floe_schema *s = NULL;
	REQUIRE_OK(floe_schema_parse(&s, io_schema, a, err), err);
	floe_parquet_write_options o;
	floe_parquet_write_options_init(&o);
	o.codec = FLOE_PARQUET_GZIP;
	const char *path = th_path("meta.parquet");
	io_write(path, s, &o);
	char *out = NULL;
	int rc = th_run(&out,
			"node %s/duckdb-query.mjs --format csv --no-header \"select string_agg(name || '=' || "
			"coalesce(field_id::varchar, '-'), ',' order by name) from parquet_schema('%s') where field_id is not null\" 2>&1",
			peers, path);
	CHECK_EQ_INT(rc, 0);
	REQUIRE(out);
	/* ids 1..17 in declaration order; sorted by name */
	char want[1024] = "";
	const char *names[] = { "b", "i", "l", "d", "dc", "dl", "dh", "dt", "t", "ts", "tz", "tn",
				"s", "j", "bin", "u", "x" };
	int order[17];
	for (int k = 0; k < 17; k++)
		order[k] = k;
	for (int k = 0; k < 17; k++)
		for (int m = k + 1; m < 17; m++)
			if (strcmp(names[order[m]], names[order[k]]) < 0) {
				int t = order[k]; order[k] = order[m]; order[m] = t;
			}
	for (int k = 0; k < 17; k++)
		snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s=%d", k ? "," : "",
			 names[order[k]], order[k] + 1);
	if (!strstr(out, want))
		th_fail(__FILE__, __LINE__, "schema: got %s want %s", out, want);
	free(out);
	out = NULL;
	rc = th_run(&out,
		    "node %s/duckdb-query.mjs --format csv --no-header \"select string_agg(path_in_schema "
		    "|| ':' || compression || ':' || coalesce(stats_min_value,'?') || ':' || coalesce(stats_max_value,'?') || ':' || coalesce(stats_min,'-'), ',' "
		    "order by column_id) from parquet_metadata('%s') where row_group_id = 0 and "
		    "path_in_schema in ('i', 'l', 's')\" 2>&1",
		    peers, path);
	CHECK_EQ_INT(rc, 0);
	REQUIRE(out);
	/* one row group: i min -100 max 299*7-100; l skips nulls; s by bytes;
	 * the deprecated min (last) only for signed-order types */
	char want2[256], smin[16] = "", smax[16] = "", sv[16];
	int64_t lmin = -1, lmax = -1;
	for (int64_t r = 0; r < IO_ROWS; r++) {
		snprintf(sv, sizeof sv, "s%d", (int)(r % 40));
		if (!io_null(12, r) && (!smin[0] || strcmp(sv, smin) < 0))
			memcpy(smin, sv, sizeof sv);
		if (!io_null(12, r) && strcmp(sv, smax) > 0)
			memcpy(smax, sv, sizeof sv);
		if (io_null(2, r))
			continue;
		if (lmin < 0)
			lmin = r * 1000003;
		lmax = r * 1000003;
	}
	snprintf(want2, sizeof want2, "i:GZIP:-100:%d:-100,l:GZIP:%" PRId64 ":%" PRId64 ":%" PRId64
		 ",s:GZIP:%s:%s:-", (IO_ROWS - 1) * 7 - 100, lmin, lmax, lmin, smin, smax);
	if (!strstr(out, want2))
		th_fail(__FILE__, __LINE__, "metadata: got %s want %s", out, want2);
	free(out);
	floe_arena_free(a);
}
