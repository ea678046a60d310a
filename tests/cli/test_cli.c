/* tests/cli/test_cli.c - text parsing (CSV, NDJSON, every type), output
 * formats, and the `floe` command line run in-process via floe_cli_main. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_run.h"
#include "util/format.h"
#include "util/text.h"
#include "floe/batch.h"
#include "harness.h"

/* ---- helpers ------------------------------------------------------------ */

static floe_type ty(const char *name)
{
	floe_type t;
	memset(&t, 0, sizeof t);
	if (floe_type_parse(&t, name, NULL) != 0)
		th_fail(__FILE__, __LINE__, "type %s", name);
	return t;
}

/* Parse `text` as `type`; returns rc and fills *v. */
static int parse(floe_value *v, const char *type, const char *text, floe_buf *scratch,
                 floe_error *err)
{
	floe_type t = ty(type);
	return floe_text_parse(v, &t, text, strlen(text), scratch, err);
}

static int64_t parse_i(const char *type, const char *text)
{
	floe_value v;
	floe_buf sc = FLOE_BUF_INIT;
	floe_error err;
	if (parse(&v, type, text, &sc, &err) != 0)
		th_fail(__FILE__, __LINE__, "%s '%s': %s", type, text, err.msg);
	floe_buf_free(&sc);
	return v.i;
}

static bool rejects(const char *type, const char *text)
{
	floe_value v;
	floe_buf sc = FLOE_BUF_INIT;
	int rc = parse(&v, type, text, &sc, NULL);
	floe_buf_free(&sc);
	return rc == FLOE_EINVALID;
}

typedef struct collected {
	floe_buf out; /* jsonl of every batch */
	int batches;
	int64_t rows;
} collected;

static int collect(void *ctx, const floe_batch *b, floe_error *err)
{
	collected *c = ctx;
	char path[64];
	snprintf(path, sizeof path, "%s", th_path("collect.out"));
	FILE *f = fopen(path, "w+");
	if (!f)
		return floe_error_set(err, FLOE_EIO, "tmp");
	bool hd = false;
	int rc = floe_format_batch(f, b, FLOE_FORMAT_JSONL, &hd, NULL, err);
	fclose(f);
	size_t n;
	char *text = th_read_file(path, &n);
	if (text)
		floe_buf_append(&c->out, text, n);
	free(text);
	c->batches++;
	c->rows += b->nrows;
	return rc;
}

/* Load `text` as `fmt` rows of `schema`; output JSONL in *out (malloc'ed). */
static int load(char **out, const char *schema_text, floe_text_format fmt, const char *text,
                int64_t batch_rows, int *batches, floe_error *err)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL;
	collected c = { FLOE_BUF_INIT, 0, 0 };
	int rc = floe_schema_parse(&s, schema_text, a, err);
	if (rc == 0) {
		FILE *in = fmemopen((void *)text, strlen(text), "r");
		rc = floe_text_load(in, "in.txt", fmt, s, batch_rows, collect, &c, NULL, err);
		fclose(in);
	}
	floe_buf_putc(&c.out, 0);
	*out = (char *)c.out.data;
	if (batches)
		*batches = c.batches;
	floe_arena_free(a);
	return rc;
}

/* Run floe_cli_main(argv) in a child with stdout/stderr to files; returns
 * the exit code and the outputs (malloc'ed). */
static int cli(char **out, char **errout, ...)
{
	const char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, errout);
	argv[argc++] = "floe";
	const char *a;
	while (argc < 31 && (a = va_arg(ap, const char *)) != NULL)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return cli_run_argv(NULL, out, errout, argc, argv);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		th_fail(__FILE__, __LINE__, "cannot write %s", path);
		return;
	}
	fputs(text, f);
	fclose(f);
}

/* ---- value parsers ------------------------------------------------------ */

TEST(cli_text_parse_integers_and_booleans)
{
	CHECK_EQ_INT(parse_i("int", "2147483647"), 2147483647);
	CHECK_EQ_INT(parse_i("int", "-2147483648"), -2147483647LL - 1);
	CHECK(rejects("int", "2147483648"));
	CHECK(rejects("int", "12x"));
	CHECK(rejects("int", " 12"));
	CHECK(rejects("long", "9223372036854775808"));
	CHECK_EQ_INT(parse_i("long", "-9223372036854775808"), INT64_MIN);
	floe_value v;
	floe_buf sc = FLOE_BUF_INIT;
	CHECK_OK(parse(&v, "boolean", "TRUE", &sc, NULL), (floe_error *)NULL);
	CHECK(v.b);
	CHECK_OK(parse(&v, "boolean", "0", &sc, NULL), (floe_error *)NULL);
	CHECK(!v.b);
	CHECK(rejects("boolean", "yes"));
	CHECK_OK(parse(&v, "double", "-1.5e3", &sc, NULL), (floe_error *)NULL);
	CHECK(v.d == -1500.0);
	CHECK(rejects("double", "1.5.2"));
	CHECK(rejects("float", "1e999"));
	floe_buf_free(&sc);
}

TEST(cli_text_parse_decimals_exact_scale)
{
	CHECK_EQ_INT(parse_i("decimal(9,2)", "12.34"), 1234);
	CHECK_EQ_INT(parse_i("decimal(9,2)", "-12.3"), -1230);
	CHECK_EQ_INT(parse_i("decimal(9,2)", "-0.05"), -5);
	CHECK_EQ_INT(parse_i("decimal(9,2)", "7"), 700);
	CHECK_EQ_INT(parse_i("decimal(9,2)", "+.5"), 50);
	CHECK_EQ_INT(parse_i("decimal(9,2)", "0000012.00"), 1200);
	CHECK(rejects("decimal(9,2)", "1.234"));
	CHECK(rejects("decimal(4,2)", "123.4"));
	CHECK(rejects("decimal(9,2)", "1e3"));
	CHECK(rejects("decimal(9,2)", "-"));
	CHECK(rejects("decimal(9,2)", "."));
	/* P > 18: 16 bytes big-endian two's complement */
	floe_value v;
	floe_buf sc = FLOE_BUF_INIT;
	REQUIRE_OK(parse(&v, "decimal(38,2)", "-1.00", &sc, NULL), (floe_error *)NULL);
	REQUIRE(v.len == 16);
	CHECK_EQ_INT(v.bytes[0], 0xff);
	CHECK_EQ_INT(v.bytes[15], (uint8_t)-100);
	REQUIRE_OK(parse(&v, "decimal(38,0)", "99999999999999999999999999999999999999", &sc, NULL),
	           (floe_error *)NULL);
	CHECK_EQ_INT(v.bytes[0], 0x4b);
	CHECK(rejects("decimal(38,0)", "999999999999999999999999999999999999999"));
	floe_buf_free(&sc);
}

TEST(cli_text_parse_dates_times_timestamps)
{
	CHECK_EQ_INT(parse_i("date", "1970-01-01"), 0);
	CHECK_EQ_INT(parse_i("date", "2000-02-29"), 11016);
	CHECK_EQ_INT(parse_i("date", "1969-12-31"), -1);
	CHECK(rejects("date", "2001-02-29"));
	CHECK(rejects("date", "1900-02-29"));
	CHECK(rejects("date", "2020-13-01"));
	CHECK(rejects("date", "2020-1-01"));
	CHECK_EQ_INT(parse_i("time", "00:00:01.5"), 1500000);
	CHECK_EQ_INT(parse_i("time", "23:59:59.999999"), 86399999999LL);
	CHECK(rejects("time", "24:00:00"));
	CHECK(rejects("time", "12:00:00.1234567"));
	CHECK_EQ_INT(parse_i("timestamp", "1970-01-01T00:00:01"), 1000000);
	CHECK_EQ_INT(parse_i("timestamp", "1970-01-01 00:00:00.000001"), 1);
	CHECK_EQ_INT(parse_i("timestamp", "1969-12-31T23:59:59.5"), -500000);
	/* timestamptz: offsets convert to UTC */
	CHECK_EQ_INT(parse_i("timestamptz", "1970-01-01T02:00:00+02:00"), 0);
	CHECK_EQ_INT(parse_i("timestamptz", "1969-12-31T19:00:00-05:00"), 0);
	CHECK_EQ_INT(parse_i("timestamptz", "1970-01-01T00:00:00Z"), 0);
	CHECK_EQ_INT(parse_i("timestamptz", "2024-02-29T12:30:00.25+05:30"),
	             parse_i("timestamptz", "2024-02-29T07:00:00.25Z"));
	CHECK_EQ_INT(parse_i("timestamp_ns", "1970-01-01T00:00:00.123456789"), 123456789);
	CHECK_EQ_INT(parse_i("timestamptz_ns", "2262-04-11T23:47:16.854775807Z"), INT64_MAX);
	CHECK(rejects("timestamptz_ns", "2262-04-11T23:47:16.854775808Z"));
	CHECK(rejects("timestamp", "2020-01-01T00:00:00Z"));
	CHECK(rejects("timestamp", "2020-01-01T00:00:00+01:00"));
	CHECK(rejects("timestamp", "1700000000"));
	CHECK(rejects("timestamptz", "1700000000000000"));
	CHECK(rejects("timestamptz", "2020-01-01T00:00:00+1:00"));
	CHECK(rejects("timestamp", "2020-01-01T00:00:00.1234567"));
}

TEST(cli_text_parse_uuid_binary_json)
{
	floe_value v;
	floe_buf sc = FLOE_BUF_INIT;
	REQUIRE_OK(parse(&v, "uuid", "00112233-4455-6677-8899-AaBbCcDdEeFf", &sc, NULL),
	           (floe_error *)NULL);
	REQUIRE(v.len == 16);
	CHECK_EQ_INT(v.bytes[0], 0x00);
	CHECK_EQ_INT(v.bytes[9], 0x99);
	CHECK_EQ_INT(v.bytes[15], 0xff);
	CHECK(rejects("uuid", "00112233445566778899aabbccddeeff"));
	CHECK(rejects("uuid", "0011223-34455-6677-8899-aabbccddeeff"));
	REQUIRE_OK(parse(&v, "binary", "aGVsbG8=", &sc, NULL), (floe_error *)NULL);
	CHECK(v.len == 5 && memcmp(v.bytes, "hello", 5) == 0);
	REQUIRE_OK(parse(&v, "binary", "", &sc, NULL), (floe_error *)NULL);
	CHECK_EQ_INT(v.len, 0);
	CHECK(rejects("binary", "a$=="));
	REQUIRE_OK(parse(&v, "fixed[3]", "AQID", &sc, NULL), (floe_error *)NULL);
	CHECK(v.len == 3 && v.bytes[2] == 3);
	CHECK(rejects("fixed[4]", "AQID"));
	CHECK_OK(parse(&v, "json", "{\"a\": [1, 2]}", &sc, NULL), (floe_error *)NULL);
	CHECK(rejects("json", "{\"a\": "));
	CHECK_OK(parse(&v, "string", "h\xc3\xa9 \xf0\x9f\x98\x80", &sc, NULL), (floe_error *)NULL);
	CHECK(rejects("string", "bad \xc3"));
	CHECK(rejects("string", "\xc0\x80"));
	CHECK(rejects("string", "\xed\xa0\x80"));
	floe_buf_free(&sc);
}

/* ---- loaders ------------------------------------------------------------ */

TEST(cli_csv_quotes_crlf_nulls_and_batches)
{
	char *out = NULL;
	floe_error err;
	int batches = 0;
	const char *csv = "id,name,price\r\n"
	                  "1,\"Smith, \"\"J\"\"\",12.5\r\n"
	                  "2,\"multi\nline\",-0.01\r\n"
	                  "3,,\r\n"
	                  "4,\"\",3\n";
	int rc = load(&out, "id int not null, name string, price decimal(6,2)", FLOE_TEXT_CSV, csv,
	              3, &batches, &err);
	REQUIRE(rc == 0);
	CHECK_EQ_INT(batches, 2);
	CHECK_EQ_STR(out, "{\"id\":1,\"name\":\"Smith, \\\"J\\\"\",\"price\":12.50}\n"
	                  "{\"id\":2,\"name\":\"multi\\nline\",\"price\":-0.01}\n"
	                  "{\"id\":3,\"name\":null,\"price\":null}\n"
	                  "{\"id\":4,\"name\":\"\",\"price\":3.00}\n");
	free(out);
}

TEST(cli_csv_header_by_name_and_missing_columns)
{
	char *out = NULL;
	floe_error err;
	int rc = load(&out, "a int, b string, c boolean", FLOE_TEXT_CSV, "c,a\ntrue,5\n0,6", 0,
	              NULL, &err);
	REQUIRE(rc == 0);
	CHECK_EQ_STR(out, "{\"a\":5,\"b\":null,\"c\":true}\n{\"a\":6,\"b\":null,\"c\":false}\n");
	free(out);
	rc = load(&out, "a int", FLOE_TEXT_CSV, "a,zz\n1,2\n", 0, NULL, &err);
	CHECK_EQ_INT(rc, FLOE_EINVALID);
	CHECK(strstr(err.msg, "'zz'") != NULL);
	free(out);
	rc = load(&out, "a int, b int not null", FLOE_TEXT_CSV, "a\n1\n", 0, NULL, &err);
	CHECK_EQ_INT(rc, FLOE_EINVALID);
	CHECK(strstr(err.msg, "'b'") != NULL);
	free(out);
}

TEST(cli_csv_bad_record_names_line_offset_column)
{
	char *out = NULL;
	floe_error err;
	int rc = load(&out, "a int, s string", FLOE_TEXT_CSV,
	              "a,s\n1,\"x\ny\"\nbad,w\n", 0, NULL, &err);
	CHECK_EQ_INT(rc, FLOE_EINVALID);
	/* record 2 spans lines 2-3, so the bad record starts on line 4 at
	 * byte 4 + 8 */
	CHECK(strstr(err.msg, "in.txt:4 (byte 12): column 'a': bad integer 'bad'") != NULL);
	free(out);
	rc = load(&out, "a int, d date", FLOE_TEXT_CSV, "a,d\n1,2020-02-29\n3,2021-02-29\n", 0,
	          NULL, &err);
	CHECK_EQ_INT(rc, FLOE_EINVALID);
	CHECK(strstr(err.msg, "in.txt:3 (byte 17): column 'd': bad date '2021-02-29'") != NULL);
	free(out);
	rc = load(&out, "a int", FLOE_TEXT_CSV, "a\n\"open\n", 0, NULL, &err);
	CHECK_EQ_INT(rc, FLOE_EINVALID);
	CHECK(strstr(err.msg, "unterminated") != NULL);
	free(out);
	rc = load(&out, "a int, b int", FLOE_TEXT_CSV, "a,b\n1\n", 0, NULL, &err);
	CHECK_EQ_INT(rc, FLOE_EINVALID);
	CHECK(strstr(err.msg, "in.txt:2") != NULL);
	free(out);
	rc = load(&out, "a int not null", FLOE_TEXT_CSV, "a\n1\n\n,\n", 0, NULL, &err);
	CHECK_EQ_INT(rc, FLOE_EINVALID);
	free(out);
}

TEST(cli_ndjson_every_type)
{
	char *out = NULL;
	floe_error err;
	const char *schema = "b boolean, i int, l long, f float, d double, m decimal(10,3), "
	                     "dt date, t time, ts timestamp, tz timestamptz, ns timestamp_ns, "
	                     "s string, u uuid, x fixed[2], y binary, j json, big decimal(30,4)";
	const char *in =
		"{\"b\":true,\"i\":-7,\"l\":9007199254740993,\"f\":0.1,\"d\":0.1,\"m\":\"-12.345\","
		"\"dt\":\"2024-02-29\",\"t\":\"13:14:15.5\",\"ts\":\"2020-01-02 03:04:05\","
		"\"tz\":\"2020-01-02T03:04:05.000007+01:00\",\"ns\":\"1969-12-31T23:59:59.999999999\","
		"\"s\":\"h\\u00e9\\\"\",\"u\":\"00112233-4455-6677-8899-aabbccddeeff\",\"x\":\"AAE=\","
		"\"y\":\"\",\"j\":{\"k\": [1, null]},\"big\":\"-123456789012345678901234.5\"}\n"
		"\n"
		"{\"m\":1.5,\"unknown\":3}\n";
	int rc = load(&out, schema, FLOE_TEXT_NDJSON, in, 0, NULL, &err);
	if (rc)
		th_fail(__FILE__, __LINE__, "%s", err.msg);
	REQUIRE(rc == 0);
	CHECK_EQ_STR(out,
	             "{\"b\":true,\"i\":-7,\"l\":9007199254740993,\"f\":0.1,\"d\":0.1,\"m\":-12.345,"
	             "\"dt\":\"2024-02-29\",\"t\":\"13:14:15.500000\",\"ts\":\"2020-01-02T03:04:05.000000\","
	             "\"tz\":\"2020-01-02T02:04:05.000007Z\",\"ns\":\"1969-12-31T23:59:59.999999999\","
	             "\"s\":\"h\xc3\xa9\\\"\",\"u\":\"00112233-4455-6677-8899-aabbccddeeff\",\"x\":\"AAE=\","
	             "\"y\":\"\",\"j\":{\"k\":[1,null]},\"big\":-123456789012345678901234.5000}\n"
	             "{\"b\":null,\"i\":null,\"l\":null,\"f\":null,\"d\":null,\"m\":1.500,"
	             "\"dt\":null,\"t\":null,\"ts\":null,\"tz\":null,\"ns\":null,\"s\":null,\"u\":null,"
	             "\"x\":null,\"y\":null,\"j\":null,\"big\":null}\n");
	free(out);
}

TEST(cli_ndjson_errors_with_line_numbers)
{
	char *out = NULL;
	floe_error err;
	int rc = load(&out, "ts timestamptz", FLOE_TEXT_NDJSON,
	              "{\"ts\":\"2020-01-01T00:00:00Z\"}\n{\"ts\":1577836800}\n", 0, NULL, &err);
	CHECK_EQ_INT(rc, FLOE_EINVALID);
	CHECK(strstr(err.msg, "in.txt:2 (byte 30): column 'ts'") != NULL);
	CHECK(strstr(err.msg, "epoch") != NULL);
	free(out);
	rc = load(&out, "i int", FLOE_TEXT_NDJSON, "{\"i\":1}\n{\"i\":2147483648}\n", 0, NULL, &err);
	CHECK_EQ_INT(rc, FLOE_EINVALID);
	CHECK(strstr(err.msg, "in.txt:2") && strstr(err.msg, "out of range"));
	free(out);
	rc = load(&out, "i int", FLOE_TEXT_NDJSON, "{\"i\":1}\n[1]\n", 0, NULL, &err);
	CHECK_EQ_INT(rc, FLOE_EINVALID);
	CHECK(strstr(err.msg, "in.txt:2") != NULL);
	free(out);
	rc = load(&out, "i int", FLOE_TEXT_NDJSON, "{\"i\": 1,,}\n", 0, NULL, &err);
	CHECK_EQ_INT(rc, FLOE_EINVALID);
	CHECK(strstr(err.msg, "in.txt:1 (byte 0)") != NULL);
	free(out);
	rc = load(&out, "m decimal(5,1)", FLOE_TEXT_NDJSON, "{\"m\":1.25}\n", 0, NULL, &err);
	CHECK_EQ_INT(rc, FLOE_EINVALID);
	free(out);
}

/* ---- output formats ----------------------------------------------------- */

TEST(cli_format_csv_every_type_and_quoting)
{
	char *out = NULL;
	floe_error err;
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL;
	REQUIRE_OK(floe_schema_parse(&s, "s string, d double, f float, ts timestamptz_ns, b binary",
	                             a, NULL), (floe_error *)NULL);
	floe_batch_builder *bld = NULL;
	REQUIRE_OK(floe_batch_builder_new(&bld, s, NULL), (floe_error *)NULL);
	floe_batch_builder_bytes(bld, 0, "a,\"b\"", 5, NULL);
	floe_batch_builder_f64(bld, 1, 1.0 / 3.0, NULL);
	floe_batch_builder_f32(bld, 2, 0.1f, NULL);
	floe_batch_builder_i64(bld, 3, -1, NULL);
	floe_batch_builder_bytes(bld, 4, "\xff\x00", 2, NULL);
	floe_batch_builder_bytes(bld, 0, "", 0, NULL);
	floe_batch_builder_null(bld, 1, NULL);
	floe_batch_builder_f32(bld, 2, 1e30f, NULL);
	floe_batch_builder_i64(bld, 3, 1000000000, NULL);
	floe_batch_builder_null(bld, 4, NULL);
	const char *path = th_path("o.csv");
	FILE *f = fopen(path, "w");
	bool hd = false;
	REQUIRE_OK(floe_format_batch(f, floe_batch_builder_view(bld), FLOE_FORMAT_CSV, &hd, NULL,
	                             &err), (floe_error *)NULL);
	uint8_t keep[2] = { 0, 1 };
	REQUIRE_OK(floe_format_batch(f, floe_batch_builder_view(bld), FLOE_FORMAT_CSV, &hd, keep,
	                             &err), (floe_error *)NULL);
	fclose(f);
	out = th_read_file(path, NULL);
	CHECK_EQ_STR(out, "s,d,f,ts,b\n"
	                  "\"a,\"\"b\"\"\",0.3333333333333333,0.1,1969-12-31T23:59:59.999999999Z,/wA=\n"
	                  "\"\",,1e+30,1970-01-01T00:00:01.000000000Z,\n"
	                  "\"\",,1e+30,1970-01-01T00:00:01.000000000Z,\n");
	free(out);
	floe_batch_builder_free(bld);
	floe_arena_free(a);
}

TEST(cli_format_unsigned_and_decimal_text)
{
	floe_column col;
	memset(&col, 0, sizeof col);
	col.type = ty("long");
	col.type.is_unsigned = true;
	int64_t v = -1;
	col.values = &v;
	floe_buf b = FLOE_BUF_INIT;
	REQUIRE_OK(floe_format_value(&b, &col, 0, true), (floe_error *)NULL);
	floe_buf_putc(&b, 0);
	CHECK_EQ_STR((char *)b.data, "18446744073709551615");
	floe_buf_clear(&b);
	col.type = ty("decimal(5,4)");
	v = -5;
	REQUIRE_OK(floe_format_value(&b, &col, 0, false), (floe_error *)NULL);
	floe_buf_putc(&b, 0);
	CHECK_EQ_STR((char *)b.data, "-0.0005");
	floe_buf_clear(&b);
	col.type = ty("time");
	v = 3723000001LL;
	REQUIRE_OK(floe_format_value(&b, &col, 0, false), (floe_error *)NULL);
	floe_buf_putc(&b, 0);
	CHECK_EQ_STR((char *)b.data, "01:02:03.000001");
	floe_buf_clear(&b);
	col.type = ty("double");
	double x = 0.1 + 0.2;
	col.values = &x;
	REQUIRE_OK(floe_format_value(&b, &col, 0, false), (floe_error *)NULL);
	floe_buf_putc(&b, 0);
	CHECK_EQ_STR((char *)b.data, "0.30000000000000004");
	floe_buf_clear(&b);
	col.type = ty("date");
	int32_t d = -719528; /* 0000-01-01 */
	col.values = &d;
	REQUIRE_OK(floe_format_value(&b, &col, 0, false), (floe_error *)NULL);
	floe_buf_putc(&b, 0);
	CHECK_EQ_STR((char *)b.data, "0000-01-01");
	floe_buf_free(&b);
}

/* ---- command line ------------------------------------------------------- */

TEST(cli_main_help_version_usage)
{
	char *o, *e;
	CHECK_EQ_INT(cli(&o, &e, "--version", NULL), 0);
	CHECK(strncmp(o, "floe ", 5) == 0);
	free(o), free(e);
	CHECK_EQ_INT(cli(&o, &e, "--help", NULL), 0);
	CHECK(strstr(o, "parquet cat") && strstr(o, "parquet write") && strstr(o, "parquet inspect"));
	free(o), free(e);
	CHECK_EQ_INT(cli(&o, &e, "parquet", "--help", NULL), 0);
	CHECK(strstr(o, "inspect") != NULL);
	free(o), free(e);
	CHECK_EQ_INT(cli(&o, &e, "parquet", "cat", "--help", NULL), 0);
	CHECK(strstr(o, "--where") && strstr(o, "--columns") && strstr(o, "--stats"));
	free(o), free(e);
	CHECK_EQ_INT(cli(&o, &e, "parquet", "write", "--help", NULL), 0);
	CHECK(strstr(o, "--no-dictionary") && strstr(o, "--page-version"));
	free(o), free(e);
	CHECK_EQ_INT(cli(&o, &e, "nosuch", NULL), 2);
	CHECK(strncmp(e, "floe: ", 6) == 0);
	free(o), free(e);
	CHECK_EQ_INT(cli(&o, &e, "parquet", "cat", "--bogus", "x", NULL), 2);
	CHECK(strstr(e, "--bogus") != NULL);
	free(o), free(e);
	CHECK_EQ_INT(cli(&o, &e, "parquet", "write", "out.parquet", NULL), 2);
	free(o), free(e);
	CHECK_EQ_INT(cli(&o, &e, "parquet", "write", th_path("o.parquet"), th_path("in.csv"),
	                 "--schema", "a int, a int", NULL), 2);
	CHECK(strstr(e, "duplicate") != NULL);
	free(o), free(e);
}

TEST(cli_parquet_write_cat_roundtrip)
{
	char csv[512];
	snprintf(csv, sizeof csv, "%s", th_path("in.csv")); /* th_path slots rotate */
	char pq[512];
	snprintf(pq, sizeof pq, "%s", th_path("out.parquet")); /* th_path slots rotate */
	write_file(csv, "id,name,price,day,ts,ok\n"
	                "1,alpha,12.50,2024-02-29,2024-02-29T10:00:00+02:00,true\n"
	                "2,\"b,\"\"eta\"\"\",-0.01,1969-12-31,1970-01-01T00:00:00Z,false\n"
	                "3,,,,,\n"
	                "4,delta,100.00,2000-01-01,2000-01-01T00:00:00.123456Z,1\n");
	char *o, *e;
	int rc = cli(&o, &e, "parquet", "write", pq, csv, "--schema",
	             "id long not null, name string, price decimal(9,2), day date, "
	             "ts timestamptz, ok boolean", "--codec", "zstd", "--row-group-bytes", "64",
	             NULL);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "write: %s", e);
	CHECK(strstr(e, "4 rows") != NULL);
	free(o), free(e);
	REQUIRE(rc == 0);
	rc = cli(&o, &e, "parquet", "cat", pq, NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(o,
	             "{\"id\":1,\"name\":\"alpha\",\"price\":12.50,\"day\":\"2024-02-29\","
	             "\"ts\":\"2024-02-29T08:00:00.000000Z\",\"ok\":true}\n"
	             "{\"id\":2,\"name\":\"b,\\\"eta\\\"\",\"price\":-0.01,\"day\":\"1969-12-31\","
	             "\"ts\":\"1970-01-01T00:00:00.000000Z\",\"ok\":false}\n"
	             "{\"id\":3,\"name\":null,\"price\":null,\"day\":null,\"ts\":null,\"ok\":null}\n"
	             "{\"id\":4,\"name\":\"delta\",\"price\":100.00,\"day\":\"2000-01-01\","
	             "\"ts\":\"2000-01-01T00:00:00.123456Z\",\"ok\":true}\n");
	free(o), free(e);
	rc = cli(&o, &e, "parquet", "cat", pq, "--columns", "name,id", "--where", "price >= 12.5",
	         "--format", "csv", "--stats", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(o, "name,id\nalpha,1\ndelta,4\n");
	json_t *st = json_loads(e, 0, NULL);
	CHECK(st && json_is_integer(json_object_get(st, "rows_returned")));
	json_decref(st);
	free(o), free(e);
	rc = cli(&o, &e, "parquet", "cat", pq, "--where", "name is null", "--columns", "id", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(o, "{\"id\":3}\n");
	free(o), free(e);
	rc = cli(&o, &e, "parquet", "cat", pq, "--limit", "1", "--columns", "id",
	         "--where", "day < 2001-01-01", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(o, "{\"id\":2}\n");
	free(o), free(e);
	rc = cli(&o, &e, "parquet", "cat", pq, "--where", "day < 2001-13-01", NULL);
	CHECK_EQ_INT(rc, 2);
	CHECK(strstr(e, "bad date") != NULL);
	free(o), free(e);
}

TEST(cli_parquet_inspect_has_field_ids)
{
	char in[512];
	snprintf(in, sizeof in, "%s", th_path("in.ndjson")); /* th_path slots rotate */
	char pq[512];
	snprintf(pq, sizeof pq, "%s", th_path("ids.parquet")); /* th_path slots rotate */
	write_file(in, "{\"a\":1,\"b\":\"x\"}\n{\"a\":2}\n");
	char *o, *e;
	int rc = cli(&o, &e, "parquet", "write", pq, in, "--schema", "a int id 41, b string id 42",
	             "--page-version", "2", "--no-dictionary", NULL);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "write: %s", e);
	free(o), free(e);
	REQUIRE(rc == 0);
	rc = cli(&o, &e, "parquet", "inspect", pq, NULL);
	CHECK_EQ_INT(rc, 0);
	json_error_t je;
	json_t *doc = json_loads(o, 0, &je);
	CHECK(doc != NULL);
	CHECK(strstr(o, "41") && strstr(o, "42"));
	json_decref(doc);
	free(o), free(e);
}

TEST(cli_parquet_write_bad_input_exit_1_with_line)
{
	char csv[512];
	snprintf(csv, sizeof csv, "%s", th_path("bad.csv")); /* th_path slots rotate */
	char pq[512];
	snprintf(pq, sizeof pq, "%s", th_path("bad.parquet")); /* th_path slots rotate */
	write_file(csv, "a,b\n1,x\n2,y\nthree,z\n");
	char *o, *e;
	int rc = cli(&o, &e, "parquet", "write", pq, csv, "--schema", "a int, b string", NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK(strncmp(e, "floe: ", 6) == 0);
	CHECK(strstr(e, "bad.csv:4") && strstr(e, "column 'a'") && strstr(e, "three"));
	CHECK(strchr(e, '\n') == e + strlen(e) - 1); /* one line */
	CHECK(access(pq, F_OK) != 0);                /* nothing left behind */
	free(o), free(e);
	rc = cli(&o, &e, "parquet", "cat", th_path("missing.parquet"), NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK(strncmp(e, "floe: ", 6) == 0);
	free(o), free(e);
}

/* Every type: random values -> text (format) -> value (parse) gives the
 * same storage bytes, so `write` after `cat` loses nothing. */
TEST(cli_format_parse_roundtrip_every_type)
{
	static const char *types[] = {
		"boolean", "int", "long", "float", "double", "decimal(9,3)", "decimal(38,5)",
		"date", "time", "timestamp", "timestamptz", "timestamp_ns", "timestamptz_ns",
		"uuid", "fixed[5]", "binary", "string",
	};
	uint64_t seed = 88172645463325252ULL;
	floe_buf text = FLOE_BUF_INIT, sc = FLOE_BUF_INIT;
	for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
		floe_type t = ty(types[ti]);
		int w = floe_type_value_width(&t);
		for (int it = 0; it < 300; it++) {
			uint8_t raw[16];
			for (int k = 0; k < 16; k++) {
				seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
				raw[k] = (uint8_t)seed;
			}
			int64_t i64;
			int32_t i32;
			memcpy(&i64, raw, 8);
			memcpy(&i32, raw, 4);
			floe_column col;
			memset(&col, 0, sizeof col);
			col.type = t;
			col.values = raw;
			int64_t offs[2] = { 0, (int64_t)(raw[0] % 12) };
			char str[16];
			switch (t.id) {
			case FLOE_TYPE_BOOLEAN: raw[0] &= 1; break;
			case FLOE_TYPE_DATE: break; /* every int32 day is a date */
			case FLOE_TYPE_TIME: i64 = (int64_t)((uint64_t)i64 % 86400000000ULL); memcpy(raw, &i64, 8); break;
			case FLOE_TYPE_DECIMAL:
				if (w == 8) {
					i64 %= 1000000000;
					memcpy(raw, &i64, 8);
				} else {
					raw[0] = raw[0] & 0x80 ? 0xff : 0x00; /* stays within 38 digits */
				}
				break;
			case FLOE_TYPE_FLOAT: {
				float f;
				memcpy(&f, raw, 4);
				if (f != f)
					continue;
				break;
			}
			case FLOE_TYPE_DOUBLE: {
				double d;
				memcpy(&d, raw, 8);
				if (d != d)
					continue;
				break;
			}
			case FLOE_TYPE_STRING:
				for (int k = 0; k < 12; k++)
					str[k] = (char)(' ' + raw[k + 1] % 95);
				col.offsets = offs;
				col.data = (uint8_t *)str;
				break;
			case FLOE_TYPE_BINARY:
				col.offsets = offs;
				col.data = raw + 2;
				break;
			default:
				break;
			}
			floe_buf_clear(&text);
			REQUIRE_OK(floe_format_value(&text, &col, 0, false), (floe_error *)NULL);
			floe_value v;
			floe_error err;
			int rc = floe_text_parse(&v, &t, (const char *)text.data, text.len, &sc, &err);
			if (rc != 0) {
				th_fail(__FILE__, __LINE__, "%s '%.*s': %s", types[ti], (int)text.len,
				        (const char *)text.data, err.msg);
				continue;
			}
			bool same;
			switch (t.id) {
			case FLOE_TYPE_BOOLEAN: same = v.b == (raw[0] != 0); break;
			case FLOE_TYPE_INT:
			case FLOE_TYPE_DATE: memcpy(&i32, raw, 4); same = v.i == i32; break;
			case FLOE_TYPE_FLOAT: { float f; memcpy(&f, raw, 4); same = (float)v.d == f; break; }
			case FLOE_TYPE_DOUBLE: { double d; memcpy(&d, raw, 8); same = v.d == d; break; }
			case FLOE_TYPE_STRING:
				same = v.len == offs[1] && memcmp(v.bytes, str, (size_t)v.len) == 0;
				break;
			case FLOE_TYPE_BINARY:
				same = v.len == offs[1] && memcmp(v.bytes, raw + 2, (size_t)v.len) == 0;
				break;
			default:
				if (w == 8) {
					memcpy(&i64, raw, 8);
					same = v.i == i64;
				} else {
					same = v.len == w && memcmp(v.bytes, raw, (size_t)w) == 0;
				}
			}
			if (!same)
				th_fail(__FILE__, __LINE__, "%s: '%.*s' reads back differently", types[ti],
				        (int)text.len, (const char *)text.data);
		}
	}
	floe_buf_free(&text);
	floe_buf_free(&sc);
}
