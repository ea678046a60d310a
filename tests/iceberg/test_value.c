/* tests/iceberg/test_value.c - Iceberg single-value serialization (spec
 * Appendix D), value order and text form (iceberg/value.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "iceberg/value.h"
#include "util/text.h"

static floe_type ty(floe_type_id id)
{
	floe_type t = {0};
	t.id = id;
	if (id == FLOE_TYPE_UUID)
		t.width = 16;
	return t;
}

static floe_type dec(int p, int s)
{
	floe_type t = {0};
	t.id = FLOE_TYPE_DECIMAL;
	t.precision = p;
	t.scale = s;
	t.width = p > 18 ? 16 : 0;
	return t;
}

static floe_value vi(int64_t i)
{
	floe_value v = {0};
	v.i = i;
	return v;
}

static floe_value vd(double d)
{
	floe_value v = {0};
	v.d = d;
	return v;
}

static floe_value vb(const void *p, size_t n)
{
	floe_value v = {0};
	v.bytes = p;
	v.len = (int64_t)n;
	return v;
}

/* Serialize and check the exact bytes. */
static bool ser_is(const floe_type *t, const floe_value *v, const char *hex_bytes, size_t n)
{
	floe_buf b = FLOE_BUF_INIT;
	floe_error err;
	bool ok = ice_value_serialize(&b, t, v, &err) == 0 && b.len == n &&
	          (n == 0 || memcmp(b.data, hex_bytes, n) == 0);
	floe_buf_free(&b);
	return ok;
}

/* Serialize, deserialize and compare equal (order 0). */
static bool roundtrip(const floe_type *t, const floe_value *v)
{
	floe_buf b = FLOE_BUF_INIT;
	floe_error err;
	floe_value back;
	floe_arena *a = floe_arena_new(0);
	bool ok = ice_value_serialize(&b, t, v, &err) == 0 &&
	          ice_value_deserialize(&back, t, b.data, b.len, a, &err) == 0 &&
	          ice_value_compare(t, v, &back) == 0;
	floe_buf_free(&b);
	floe_arena_free(a);
	return ok;
}

/* Text form of a datum; static buffer. */
static const char *fmt(const floe_type *t, const floe_value *v)
{
	static char out[256];
	floe_buf b = FLOE_BUF_INIT;
	ice_datum d = {0};
	d.type = *t;
	d.v = *v;
	if (ice_datum_format(&b, &d) != 0 || b.len >= sizeof out) {
		floe_buf_free(&b);
		return "(error)";
	}
	memcpy(out, b.data, b.len);
	out[b.len] = 0;
	floe_buf_free(&b);
	return out;
}

/* spec Appendix D: fixed-width little-endian encodings */
TEST(ice_value_serialize_fixed_width)
{
	floe_type t = ty(FLOE_TYPE_BOOLEAN);
	floe_value v = {0};
	v.b = true;
	CHECK(ser_is(&t, &v, "\x01", 1));
	v.b = false;
	CHECK(ser_is(&t, &v, "\x00", 1));
	t = ty(FLOE_TYPE_INT);
	v = vi(-2);
	CHECK(ser_is(&t, &v, "\xfe\xff\xff\xff", 4));
	t = ty(FLOE_TYPE_DATE);
	v = vi(17486); /* 2017-11-16 */
	CHECK(ser_is(&t, &v, "\x4e\x44\x00\x00", 4));
	t = ty(FLOE_TYPE_LONG);
	v = vi(34);
	CHECK(ser_is(&t, &v, "\x22\0\0\0\0\0\0\0", 8));
	t = ty(FLOE_TYPE_TIMESTAMP_NS);
	v = vi(-1);
	CHECK(ser_is(&t, &v, "\xff\xff\xff\xff\xff\xff\xff\xff", 8));
	t = ty(FLOE_TYPE_FLOAT);
	v = vd(1.0);
	CHECK(ser_is(&t, &v, "\x00\x00\x80\x3f", 4));
	t = ty(FLOE_TYPE_DOUBLE);
	v = vd(1.0);
	CHECK(ser_is(&t, &v, "\0\0\0\0\0\0\xf0\x3f", 8));
	t = ty(FLOE_TYPE_STRING);
	v = vb("iceberg", 7);
	CHECK(ser_is(&t, &v, "iceberg", 7));
	v = vb("", 0);
	CHECK(ser_is(&t, &v, "", 0));
}

/* spec Appendix D: decimal "in the minimum number of bytes" */
TEST(ice_value_decimal_minimal_bytes)
{
	floe_type t = dec(9, 2);
	floe_value v = vi(0);
	CHECK(ser_is(&t, &v, "\x00", 1));
	v = vi(127);
	CHECK(ser_is(&t, &v, "\x7f", 1));
	v = vi(128);
	CHECK(ser_is(&t, &v, "\x00\x80", 2));
	v = vi(-1);
	CHECK(ser_is(&t, &v, "\xff", 1));
	v = vi(-128);
	CHECK(ser_is(&t, &v, "\x80", 1));
	v = vi(-129);
	CHECK(ser_is(&t, &v, "\xff\x7f", 2));
	v = vi(1420); /* 14.20 */
	CHECK(ser_is(&t, &v, "\x05\x8c", 2));
	t = dec(18, 0);
	v = vi(INT64_MIN);
	CHECK(ser_is(&t, &v, "\x80\0\0\0\0\0\0\0", 8));
	CHECK(roundtrip(&t, &v));
	v = vi(INT64_MAX);
	CHECK(roundtrip(&t, &v));
	for (int64_t x = -70000; x <= 70000; x += 37) {
		v = vi(x);
		CHECK(roundtrip(&t, &v));
	}
}

/* DECIMAL P > 18: 16-byte big-endian storage, minimal bytes on disk */
TEST(ice_value_decimal_wide)
{
	floe_type t = dec(38, 4);
	uint8_t m1[16], big[16], one[16];
	memset(m1, 0xff, 16);
	memset(one, 0, 16);
	one[15] = 1;
	memset(big, 0, 16);
	big[0] = 0x4b; /* a 16-byte magnitude */
	big[15] = 0x3c;
	floe_value v = vb(m1, 16);
	CHECK(ser_is(&t, &v, "\xff", 1));
	v = vb(one, 16);
	CHECK(ser_is(&t, &v, "\x01", 1));
	v = vb(big, 16);
	floe_buf b = FLOE_BUF_INIT;
	floe_error err;
	REQUIRE_OK(ice_value_serialize(&b, &t, &v, &err), &err);
	CHECK_EQ_INT(b.len, 16);
	floe_buf_free(&b);
	CHECK(roundtrip(&t, &v));

	/* a short encoding is sign-extended into the arena */
	floe_arena *a = floe_arena_new(0);
	floe_value back;
	REQUIRE_OK(ice_value_deserialize(&back, &t, (const uint8_t *)"\xff\x7f", 2, a, &err),
	           &err);
	CHECK_EQ_INT(back.len, 16);
	uint8_t want[16];
	memset(want, 0xff, 16);
	want[15] = 0x7f;
	CHECK(memcmp(back.bytes, want, 16) == 0);
	CHECK_EQ_STR(fmt(&t, &back), "-0.0129");
	CHECK(ice_value_deserialize(&back, &t, (const uint8_t *)"", 0, a, &err) == FLOE_ECORRUPT);
	uint8_t seventeen[17] = {0};
	CHECK(ice_value_deserialize(&back, &t, seventeen, 17, a, &err) == FLOE_ECORRUPT);
	floe_arena_free(a);
}

/* every type survives serialize -> deserialize */
TEST(ice_value_roundtrip_every_type)
{
	static const uint8_t uuid[16] = {0xf7, 0x9c, 0x3e, 0x09, 0x67, 0x7c, 0x4b, 0xbd,
	                                 0xa4, 0x79, 0x3f, 0x34, 0x9c, 0xb7, 0x85, 0xe7};
	floe_type t;
	floe_value v = {0};
	t = ty(FLOE_TYPE_BOOLEAN);
	v.b = true;
	CHECK(roundtrip(&t, &v));
	t = ty(FLOE_TYPE_INT);
	v = vi(INT32_MIN);
	CHECK(roundtrip(&t, &v));
	t = ty(FLOE_TYPE_DATE);
	v = vi(-719528);
	CHECK(roundtrip(&t, &v));
	floe_type_id longs[] = {FLOE_TYPE_LONG, FLOE_TYPE_TIME, FLOE_TYPE_TIMESTAMP,
	                        FLOE_TYPE_TIMESTAMPTZ, FLOE_TYPE_TIMESTAMP_NS,
	                        FLOE_TYPE_TIMESTAMPTZ_NS};
	for (int i = 0; i < 6; i++) {
		t = ty(longs[i]);
		v = vi(i == 1 ? 81068000000 : -1510871468000001 - i);
		CHECK(roundtrip(&t, &v));
	}
	t = ty(FLOE_TYPE_FLOAT);
	v = vd(-3.5);
	CHECK(roundtrip(&t, &v));
	v = vd(NAN);
	CHECK(roundtrip(&t, &v));
	t = ty(FLOE_TYPE_DOUBLE);
	v = vd(0.1);
	CHECK(roundtrip(&t, &v));
	v = vd(-0.0);
	CHECK(roundtrip(&t, &v));
	t = ty(FLOE_TYPE_STRING);
	v = vb("h\xc3\xa9llo", 6);
	CHECK(roundtrip(&t, &v));
	t = ty(FLOE_TYPE_JSON);
	v = vb("{\"a\":1}", 7);
	CHECK(roundtrip(&t, &v));
	t = ty(FLOE_TYPE_BINARY);
	v = vb("\x00\x01\x02\x03", 4);
	CHECK(roundtrip(&t, &v));
	t = ty(FLOE_TYPE_FIXED);
	t.width = 4;
	CHECK(roundtrip(&t, &v));
	t = ty(FLOE_TYPE_UUID);
	v = vb(uuid, 16);
	CHECK(roundtrip(&t, &v));
	CHECK(ser_is(&t, &v, (const char *)uuid, 16));
}

/* spec "Schema Evolution": bounds written before int->long and
 * float->double promotion are read under the new type */
TEST(ice_value_promotion_reads)
{
	floe_error err;
	floe_value v;
	floe_type t = ty(FLOE_TYPE_LONG);
	REQUIRE_OK(ice_value_deserialize(&v, &t, (const uint8_t *)"\xfe\xff\xff\xff", 4, NULL,
	                                 &err),
	           &err);
	CHECK_EQ_INT(v.i, -2);
	t = ty(FLOE_TYPE_DOUBLE);
	REQUIRE_OK(ice_value_deserialize(&v, &t, (const uint8_t *)"\x00\x00\xc0\x3f", 4, NULL,
	                                 &err),
	           &err);
	CHECK(v.d == 1.5);
	t = dec(18, 2);
	REQUIRE_OK(ice_value_deserialize(&v, &t, (const uint8_t *)"\x80", 1, NULL, &err), &err);
	CHECK_EQ_INT(v.i, -128);
}

TEST(ice_value_corrupt_sizes_rejected)
{
	static const uint8_t z[32] = {0};
	floe_error err;
	floe_value v;
	struct {
		floe_type_id id;
		size_t n;
	} bad[] = {
		{FLOE_TYPE_BOOLEAN, 0}, {FLOE_TYPE_BOOLEAN, 2}, {FLOE_TYPE_INT, 8},
		{FLOE_TYPE_INT, 3},     {FLOE_TYPE_DATE, 8},    {FLOE_TYPE_LONG, 5},
		{FLOE_TYPE_LONG, 0},    {FLOE_TYPE_TIME, 4},    {FLOE_TYPE_TIMESTAMP, 4},
		{FLOE_TYPE_TIMESTAMPTZ_NS, 9}, {FLOE_TYPE_FLOAT, 8}, {FLOE_TYPE_DOUBLE, 7},
		{FLOE_TYPE_UUID, 15},   {FLOE_TYPE_UUID, 17},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		floe_type t = ty(bad[i].id);
		CHECK_EQ_INT(ice_value_deserialize(&v, &t, z, bad[i].n, NULL, &err),
		             FLOE_ECORRUPT);
	}
	floe_type t = ty(FLOE_TYPE_FIXED);
	t.width = 4;
	CHECK_EQ_INT(ice_value_deserialize(&v, &t, z, 3, NULL, &err), FLOE_ECORRUPT);
	t = ty(FLOE_TYPE_BOOLEAN);
	CHECK_EQ_INT(ice_value_deserialize(&v, &t, (const uint8_t *)"\x02", 1, NULL, &err),
	             FLOE_ECORRUPT);
	/* nine bytes that do not fit a decimal(18) */
	t = dec(18, 0);
	CHECK_EQ_INT(ice_value_deserialize(&v, &t, (const uint8_t *)"\x01\0\0\0\0\0\0\0\0", 9,
	                                   NULL, &err),
	             FLOE_ECORRUPT);
	CHECK(strstr(err.msg, "decimal") != NULL);
}

/* Iceberg's orders: NaN greatest, -0.0 < 0.0, unsigned bytes, prefix first */
TEST(ice_value_compare_order)
{
	floe_type t = ty(FLOE_TYPE_DOUBLE);
	floe_value a = vd(NAN), b = vd(INFINITY), c = vd(-0.0), d = vd(0.0), e = vd(-INFINITY);
	CHECK_EQ_INT(ice_value_compare(&t, &a, &b), 1);
	CHECK_EQ_INT(ice_value_compare(&t, &b, &a), -1);
	CHECK_EQ_INT(ice_value_compare(&t, &a, &a), 0);
	CHECK_EQ_INT(ice_value_compare(&t, &c, &d), -1);
	CHECK_EQ_INT(ice_value_compare(&t, &d, &c), 1);
	CHECK_EQ_INT(ice_value_compare(&t, &e, &c), -1);
	t = ty(FLOE_TYPE_FLOAT);
	CHECK_EQ_INT(ice_value_compare(&t, &a, &d), 1);
	CHECK_EQ_INT(ice_value_compare(&t, &c, &d), -1);
	t = ty(FLOE_TYPE_STRING);
	a = vb("\xc3\xa9", 2); /* U+00E9 sorts after 'z' as unsigned bytes */
	b = vb("z", 1);
	CHECK_EQ_INT(ice_value_compare(&t, &a, &b), 1);
	a = vb("ice", 3);
	b = vb("iceberg", 7);
	CHECK_EQ_INT(ice_value_compare(&t, &a, &b), -1);
	CHECK_EQ_INT(ice_value_compare(&t, &b, &a), 1);
	a = vb("", 0);
	CHECK_EQ_INT(ice_value_compare(&t, &a, &b), -1);
	t = ty(FLOE_TYPE_BINARY);
	a = vb("\x80", 1);
	b = vb("\x7f\xff", 2);
	CHECK_EQ_INT(ice_value_compare(&t, &a, &b), 1);
	t = ty(FLOE_TYPE_LONG);
	a = vi(-5);
	b = vi(3);
	CHECK_EQ_INT(ice_value_compare(&t, &a, &b), -1);
	t.is_unsigned = true; /* UINT_64 bit pattern */
	CHECK_EQ_INT(ice_value_compare(&t, &a, &b), 1);
	t = ty(FLOE_TYPE_BOOLEAN);
	a.b = false;
	b.b = true;
	CHECK_EQ_INT(ice_value_compare(&t, &a, &b) < 0, 1);
	/* decimals by unscaled value, wide ones signed */
	t = dec(38, 0);
	uint8_t m1[16], p1[16];
	memset(m1, 0xff, 16);
	memset(p1, 0, 16);
	p1[15] = 1;
	a = vb(m1, 16);
	b = vb(p1, 16);
	CHECK_EQ_INT(ice_value_compare(&t, &a, &b), -1);
	t = dec(10, 2);
	a = vi(-100);
	b = vi(99);
	CHECK_EQ_INT(ice_value_compare(&t, &a, &b), -1);
}

TEST(ice_value_format_text)
{
	floe_type t = ty(FLOE_TYPE_DATE);
	floe_value v = vi(17486);
	CHECK_EQ_STR(fmt(&t, &v), "2017-11-16");
	v = vi(-1);
	CHECK_EQ_STR(fmt(&t, &v), "1969-12-31");
	t = ty(FLOE_TYPE_TIME);
	v = vi(81068000000);
	CHECK_EQ_STR(fmt(&t, &v), "22:31:08");
	v = vi(81068000001);
	CHECK_EQ_STR(fmt(&t, &v), "22:31:08.000001");
	t = ty(FLOE_TYPE_TIMESTAMP);
	v = vi(1510871468000000);
	CHECK_EQ_STR(fmt(&t, &v), "2017-11-16T22:31:08");
	v = vi(-1);
	CHECK_EQ_STR(fmt(&t, &v), "1969-12-31T23:59:59.999999");
	t = ty(FLOE_TYPE_TIMESTAMPTZ);
	v = vi(1510871468000000);
	CHECK_EQ_STR(fmt(&t, &v), "2017-11-16T22:31:08+00:00");
	t = ty(FLOE_TYPE_TIMESTAMPTZ_NS);
	v = vi(1510871468000000001);
	CHECK_EQ_STR(fmt(&t, &v), "2017-11-16T22:31:08.000000001+00:00");
	t = dec(9, 2);
	v = vi(-5);
	CHECK_EQ_STR(fmt(&t, &v), "-0.05");
	v = vi(1420);
	CHECK_EQ_STR(fmt(&t, &v), "14.20");
	t = ty(FLOE_TYPE_DOUBLE);
	v = vd(0.1);
	CHECK_EQ_STR(fmt(&t, &v), "0.1");
	t = ty(FLOE_TYPE_FLOAT);
	v = vd(0.1f);
	CHECK_EQ_STR(fmt(&t, &v), "0.1");
	t = ty(FLOE_TYPE_UUID);
	v = vb("\xf7\x9c\x3e\x09\x67\x7c\x4b\xbd\xa4\x79\x3f\x34\x9c\xb7\x85\xe7", 16);
	CHECK_EQ_STR(fmt(&t, &v), "f79c3e09-677c-4bbd-a479-3f349cb785e7");
	t = ty(FLOE_TYPE_BINARY);
	v = vb("\x00\x01\x02\x03", 4);
	CHECK_EQ_STR(fmt(&t, &v), "AAECAw==");
	t = ty(FLOE_TYPE_INT);
	v = vi(-34);
	CHECK_EQ_STR(fmt(&t, &v), "-34");
	ice_datum d = {0};
	d.type = t;
	d.is_null = true;
	floe_buf b = FLOE_BUF_INIT;
	CHECK_EQ_INT(ice_datum_format(&b, &d), 0);
	CHECK(b.len == 4 && memcmp(b.data, "null", 4) == 0);
	floe_buf_free(&b);
}

/* a text literal, parsed by floe_text_parse, formats back the same */
TEST(ice_value_format_matches_text_parse)
{
	struct {
		const char *type, *text;
	} cases[] = {
		{"date", "1969-07-20"},
		{"timestamp", "1969-12-31T23:59:59.999999"},
		{"time", "00:00:01.5"},
		{"decimal(38,3)", "-123456789012345678901234.567"},
		{"uuid", "00000000-0000-0000-0000-0000000000ff"},
	};
	const char *want[] = {"1969-07-20", "1969-12-31T23:59:59.999999", "00:00:01.500000",
	                      "-123456789012345678901234.567",
	                      "00000000-0000-0000-0000-0000000000ff"};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		floe_type t;
		floe_value v;
		floe_error err;
		floe_buf scratch = FLOE_BUF_INIT;
		REQUIRE_OK(floe_type_parse(&t, cases[i].type, &err), &err);
		REQUIRE_OK(floe_text_parse(&v, &t, cases[i].text, strlen(cases[i].text), &scratch,
		                           &err),
		           &err);
		CHECK_EQ_STR(fmt(&t, &v), want[i]);
		CHECK(roundtrip(&t, &v));
		floe_buf_free(&scratch);
	}
}

TEST(ice_value_datum_copy_outlives_source)
{
	char src[8] = "iceberg";
	floe_arena *a = floe_arena_new(0);
	ice_datum d = {0}, c;
	d.type = ty(FLOE_TYPE_STRING);
	d.v = vb(src, 7);
	REQUIRE_OK(ice_datum_copy(&c, &d, a), (floe_error *)NULL);
	memset(src, 'x', 7);
	CHECK(c.v.len == 7 && memcmp(c.v.bytes, "iceberg", 7) == 0);
	d.type = ty(FLOE_TYPE_LONG);
	d.v = vi(9);
	REQUIRE_OK(ice_datum_copy(&c, &d, a), (floe_error *)NULL);
	CHECK_EQ_INT(c.v.i, 9);
	floe_arena_free(a);
}
