/* tests/parquet/test_interop_arrow.c - every column type floe writes, under
 * each codec, page version and dictionary setting, read back by parquet-wasm
 * (arrow-rs) and compared value by value with what was written, printed the
 * way the peer prints them (peers/parquet-inspect.mjs --reader arrow). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "floe/batch.h"
#include "floe/parquet.h"
#include "floe/schema.h"
#include "harness.h"

#define AR_ROWS 240

static const char *const ar_schema =
	"b boolean, i int not null, l long, f float, d double, dc decimal(9,2), "
	"dl decimal(18,2), dh decimal(38,2), dt date, t time, ts timestamp, tz timestamptz, "
	"tn timestamp_ns, tzn timestamptz_ns, s string, j json, bin binary, u uuid, x fixed[3]";

static bool ar_null(int col, int64_t r)
{
	return col != 1 && (r * 7 + col) % 6 == 1;
}

static void ar_base64(char *out, const uint8_t *p, int n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int o = 0;
	for (int k = 0; k < n; k += 3) {
		uint32_t v = (uint32_t)p[k] << 16 | (k + 1 < n ? (uint32_t)p[k + 1] << 8 : 0) |
		             (k + 2 < n ? p[k + 2] : 0);
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = k + 1 < n ? tbl[v >> 6 & 63] : '=';
		out[o++] = k + 2 < n ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
}

/* A value with at most two decimals, printed as JavaScript prints numbers
 * (no trailing zeros, no exponent for the magnitudes used here). */
static void ar_js_number(char *out, size_t cap, int64_t hundredths)
{
	char tmp[64];
	int64_t a = hundredths < 0 ? -hundredths : hundredths;
	snprintf(tmp, sizeof tmp, "%s%" PRId64 ".%02" PRId64, hundredths < 0 ? "-" : "", a / 100, a % 100);
	size_t n = strlen(tmp);
	while (tmp[n - 1] == '0')
		tmp[--n] = '\0';
	if (tmp[n - 1] == '.')
		tmp[--n] = '\0';
	snprintf(out, cap, "%s", strcmp(tmp, "-0") == 0 ? "0" : tmp);
}

/* Milliseconds since the epoch as JavaScript's Date.toISOString(). */
static void ar_iso_millis(char *out, size_t cap, int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tmv;
	gmtime_r(&secs, &tmv);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tmv.tm_year + 1900, tmv.tm_mon + 1,
	         tmv.tm_mday, tmv.tm_hour, tmv.tm_min, tmv.tm_sec, (int)(ms % 1000));
}

/* Row r's values: what the writer gets and what the peer must print. */
static void ar_row(floe_batch_builder *bld, char *want, size_t cap, int64_t r)
{
	static const char *const names[] = { "b", "i", "l", "f", "d", "dc", "dl", "dh", "dt", "t",
		                             "ts", "tz", "tn", "tzn", "s", "j", "bin", "u", "x" };
	floe_error errv, *err = &errv;
	size_t o = 0;
	o += (size_t)snprintf(want + o, cap - o, "{");
	for (int c = 0; c < 19; c++) {
		char v[128];
		uint8_t bytes[16];
		int rc = 0;
		int64_t base_us = INT64_C(1700000000000000) + r * INT64_C(3600000123); /* 2023-11-14 + r hours */
		if (ar_null(c, r)) {
			rc = floe_batch_builder_null(bld, c, err);
			snprintf(v, sizeof v, "null");
		} else {
			switch (c) {
			case 0: rc = floe_batch_builder_bool(bld, c, r % 3 == 0, err);
				snprintf(v, sizeof v, "%s", r % 3 == 0 ? "true" : "false"); break;
			case 1: rc = floe_batch_builder_i32(bld, c, (int32_t)(r * 7919 - 500000), err);
				snprintf(v, sizeof v, "%" PRId64, r * 7919 - 500000); break;
			case 2: rc = floe_batch_builder_i64(bld, c, r * INT64_C(1000000007) - INT64_C(90000000000), err);
				snprintf(v, sizeof v, "%" PRId64, r * INT64_C(1000000007) - INT64_C(90000000000)); break;
			case 3: rc = floe_batch_builder_f32(bld, c, (float)(r % 40) * 0.25f - 3.0f, err);
				ar_js_number(v, sizeof v, (r % 40) * 25 - 300); break;
			case 4: rc = floe_batch_builder_f64(bld, c, (double)(r * 3 - 200) * 0.5, err);
				ar_js_number(v, sizeof v, (r * 3 - 200) * 50); break;
			case 5: case 6: {
				int64_t u = (r * 12345 - 700000) * (c == 6 ? 1000 : 1);
				rc = floe_batch_builder_i64(bld, c, u, err);
				ar_js_number(v, sizeof v, u);
				break;
			}
			case 7: {
				int64_t u = r * INT64_C(98765431) - INT64_C(5000000000);
				for (int k = 0; k < 8; k++) /* sign extension, then the 64 bits */
					bytes[k] = u < 0 ? 0xff : 0;
				for (int k = 8; k < 16; k++)
					bytes[k] = (uint8_t)((uint64_t)u >> (8 * (15 - k)) & 0xff);
				rc = floe_batch_builder_bytes(bld, c, bytes, 16, err);
				ar_js_number(v, sizeof v, u);
				break;
			}
			case 8: rc = floe_batch_builder_i32(bld, c, (int32_t)(19000 + r * 3), err);
				ar_iso_millis(v, sizeof v, (19000 + r * 3) * INT64_C(86400000)); break;
			case 9: rc = floe_batch_builder_i64(bld, c, (r * INT64_C(360000123)) % INT64_C(86400000000), err);
				snprintf(v, sizeof v, "%" PRId64, (r * INT64_C(360000123)) % INT64_C(86400000000)); break;
			case 10: case 11: rc = floe_batch_builder_i64(bld, c, base_us, err);
				ar_iso_millis(v, sizeof v, base_us / 1000); break;
			case 12: case 13: rc = floe_batch_builder_i64(bld, c, base_us * 1000 + 789, err);
				ar_iso_millis(v, sizeof v, base_us / 1000); break;
			case 14: case 15: {
				char s[64];
				if (c == 14)
					snprintf(s, sizeof s, "sym-%03d \xc3\xa9", (int)(r % 37));
				else
					snprintf(s, sizeof s, "{\"k\":%d}", (int)(r % 11));
				rc = floe_batch_builder_bytes(bld, c, s, (int64_t)strlen(s), err);
				/* JSON-escape the quotes for the expected line */
				size_t vo = 0;
				v[vo++] = '"';
				for (const char *p = s; *p; p++) {
					if (*p == '"')
						v[vo++] = '\\';
					v[vo++] = *p;
				}
				v[vo++] = '"';
				v[vo] = '\0';
				break;
			}
			case 16: case 17: case 18: {
				int n = c == 16 ? (int)(r % 5) : c == 17 ? 16 : 3;
				for (int k = 0; k < n; k++)
					bytes[k] = (uint8_t)(r * 31 + k * 7 + c);
				rc = floe_batch_builder_bytes(bld, c, bytes, n, err);
				char b64[40];
				ar_base64(b64, bytes, n);
				snprintf(v, sizeof v, "\"%s\"", b64);
				break;
			}
			}
			if (c >= 8 && c <= 13 && c != 9) {
				char q[160];
				snprintf(q, sizeof q, "\"%s\"", v);
				memcpy(v, q, strlen(q) < sizeof v ? strlen(q) + 1 : sizeof v);
				v[sizeof v - 1] = '\0';
			}
		}
		if (rc != 0)
			th_fail(__FILE__, __LINE__, "row %" PRId64 " col %d: %s", r, c, err->msg);
		o += (size_t)snprintf(want + o, cap - o, "%s\"%s\":%s", c ? "," : "", names[c], v);
	}
	snprintf(want + o, cap - o, "}\n");
}

TEST(pq_interop_arrow_every_type_codec_and_encoding)
{
	const char *peers = th_peers();
	struct {
		floe_parquet_codec codec;
		int page_version;
		bool dictionary;
		int64_t dictionary_bytes;
	} cfg[] = {
		{ FLOE_PARQUET_ZSTD, 1, true, 1 << 20 },
		{ FLOE_PARQUET_SNAPPY, 2, true, 1 << 20 },
		{ FLOE_PARQUET_GZIP, 1, false, 1 << 20 },
		{ FLOE_PARQUET_LZ4_RAW, 2, false, 1 << 20 },
		{ FLOE_PARQUET_UNCOMPRESSED, 1, true, 256 }, /* dictionary fallback */
	};
	floe_arena *arena = floe_arena_new(0);
	floe_error err;
	floe_schema *schema = NULL;
	REQUIRE_OK(floe_schema_parse(&schema, ar_schema, arena, &err), &err);
	size_t cap = (size_t)AR_ROWS * 1024;
	char *want = malloc(cap);
	REQUIRE(want);
	for (size_t k = 0; k < sizeof cfg / sizeof cfg[0]; k++) {
		char path[1024];
		snprintf(path, sizeof path, "%s", th_path("arrow.parquet"));
		floe_parquet_write_options opts;
		floe_parquet_write_options_init(&opts);
		opts.codec = cfg[k].codec;
		opts.data_page_version = cfg[k].page_version;
		opts.dictionary = cfg[k].dictionary;
		opts.dictionary_bytes = cfg[k].dictionary_bytes;
		opts.page_bytes = 2048;
		opts.row_group_bytes = 8 * 1024;
		floe_parquet_writer *w = NULL;
		floe_batch_builder *bld = NULL;
		REQUIRE_OK(floe_parquet_writer_open(&w, path, schema, &opts, &err), &err);
		REQUIRE_OK(floe_batch_builder_new(&bld, schema, &err), &err);
		size_t o = 0;
		for (int64_t r = 0; r < AR_ROWS; r++) {
			ar_row(bld, want + o, cap - o, r);
			o += strlen(want + o);
			if (floe_batch_builder_rows(bld) == 50) {
				CHECK_OK(floe_parquet_writer_write(w, floe_batch_builder_view(bld), &err), &err);
				floe_batch_builder_clear(bld);
			}
		}
		CHECK_OK(floe_parquet_writer_write(w, floe_batch_builder_view(bld), &err), &err);
		floe_batch_builder_free(bld);
		floe_parquet_file_info info;
		REQUIRE_OK(floe_parquet_writer_close(w, &info, &err), &err);
		CHECK_EQ_INT(info.num_rows, AR_ROWS);
		CHECK(info.num_row_groups > 1);

		char *got = NULL;
		int rc = th_run(&got, "node %s/parquet-inspect.mjs %s --reader arrow --rows 2>&1", peers, path);
		CHECK_EQ_INT(rc, 0);
		if (got && strcmp(got, want) != 0) {
			size_t at = 0;
			while (got[at] && got[at] == want[at])
				at++;
			size_t line = at;
			while (line > 0 && want[line - 1] != '\n')
				line--;
			th_fail(__FILE__, __LINE__, "config %zu (%s, v%d, dict %d): arrow differs at byte %zu:\n got  %.300s\n want %.300s",
			        k, floe_parquet_codec_name(cfg[k].codec), cfg[k].page_version, cfg[k].dictionary,
			        at, got + line, want + line);
		}
		free(got);
	}
	free(want);
	floe_arena_free(arena);
}
