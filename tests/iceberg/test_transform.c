/* tests/iceberg/test_transform.c - murmur3 and the Iceberg partition
 * transforms: hashes (spec Appendix B), bucket, truncate, year/month/day/
 * hour, column application and inclusive projection (iceberg/transform.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "floe/parquet.h"
#include "harness.h"
#include "iceberg/transform.h"
#include "util/murmur3.h"
#include "util/text.h"

static floe_type tyname(const char *name)
{
	floe_type t;
	memset(&t, 0, sizeof t);
	if (floe_type_parse(&t, name, NULL) != 0)
		t.id = 0;
	return t;
}

static ice_transform tr(const char *name)
{
	ice_transform t;
	if (ice_transform_parse(&t, name, NULL) != 0)
		t.kind = ICE_T_UNKNOWN;
	return t;
}

/* A literal parsed from text with floe_text_parse; bytes live in *scratch. */
static ice_datum lit(const char *type, const char *text, floe_buf *scratch)
{
	ice_datum d;
	memset(&d, 0, sizeof d);
	d.type = tyname(type);
	if (floe_text_parse(&d.v, &d.type, text, strlen(text), scratch, NULL) != 0)
		d.is_null = true; /* the CHECKs on results then fail */
	return d;
}

/* ---- murmur3 -------------------------------------------------------- */

/* Known answers of MurmurHash3_x86_32: the reference vectors listed in the
 * Wikipedia "MurmurHash" article and the SMHasher-derived known-answer list
 * reproduced by many independent ports (empty input with seeds 0, 1 and
 * 0xffffffff, tails of 1..3 bytes, embedded NULs, multi-byte UTF-8). */
TEST(ice_transform_murmur3_reference_vectors)
{
	static const struct {
		const char *s;
		size_t n;
		uint32_t seed, want;
	} kat[] = {
		{"", 0, 0, 0},
		{"", 0, 1, 0x514E28B7u},
		{"", 0, 0xffffffffu, 0x81F16F39u},
		{"\xff\xff\xff\xff", 4, 0, 0x76293B50u},
		{"\x21\x43\x65\x87", 4, 0, 0xF55B516Bu},
		{"\x21\x43\x65\x87", 4, 0x5082EDEEu, 0x2362F9DEu},
		{"\x21\x43\x65", 3, 0, 0x7E4A8634u},
		{"\x21\x43", 2, 0, 0xA0F7B07Au},
		{"\x21", 1, 0, 0x72661CF4u},
		{"\0\0\0\0", 4, 0, 0x2362F9DEu},
		{"\0\0\0", 3, 0, 0x85F0B427u},
		{"\0\0", 2, 0, 0x30F4C306u},
		{"\0", 1, 0, 0x514E28B7u},
		{"test", 4, 0, 0xBA6BD213u},
		{"test", 4, 0x9747B28Cu, 0x704B81DCu},
		{"aaaa", 4, 0x9747B28Cu, 0x5A97808Au},
		{"aaa", 3, 0x9747B28Cu, 0x283E0130u},
		{"aa", 2, 0x9747B28Cu, 0x5D211726u},
		{"a", 1, 0x9747B28Cu, 0x7FA09EA6u},
		{"abcd", 4, 0x9747B28Cu, 0xF0478627u},
		{"abc", 3, 0x9747B28Cu, 0xC84A62DDu},
		{"ab", 2, 0x9747B28Cu, 0x74875592u},
		{"abc", 3, 0, 0xB3DD93FAu},
		{"Hello, world!", 13, 0, 0xC0363E43u},
		{"Hello, world!", 13, 0x9747B28Cu, 0x24884CBAu},
		{"\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80", 16, 0x9747B28Cu,
		 0xD58063C1u}, /* eight U+03C0 */
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, 0, 0xEE925B90u},
		{"The quick brown fox jumps over the lazy dog", 43, 0, 0x2E4FF723u},
		{"The quick brown fox jumps over the lazy dog", 43, 0x9747B28Cu, 0x2FA826CDu},
	};
	for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
		uint32_t h = floe_murmur3_32(kat[i].s, kat[i].n, kat[i].seed);
		if (h != kat[i].want)
			th_fail(__FILE__, __LINE__, "vector %zu: 0x%08x != 0x%08x", i, h,
			        kat[i].want);
	}
	/* 256 bytes: lengths past one byte are mixed in whole */
	char a256[256];
	memset(a256, 'a', sizeof a256);
	CHECK(floe_murmur3_32(a256, 256, 0x9747B28Cu) == 0x37405BDCu);
	/* Python mmh3's README: mmh3.hash("foo") == -156908512 (signed, seed 0) */
	CHECK((int32_t)floe_murmur3_32("foo", 3, 0) == -156908512);
}

/* ---- Appendix B ----------------------------------------------------- */

static int32_t hash_text(const char *type, const char *text)
{
	floe_buf scratch = FLOE_BUF_INIT;
	ice_datum d = lit(type, text, &scratch);
	int32_t h = d.is_null ? 0 : ice_transform_hash(&d.type, &d.v);
	floe_buf_free(&scratch);
	return h;
}

/* Every row of the spec's Appendix B tables. */
TEST(ice_transform_hash_appendix_b)
{
	CHECK_EQ_INT(hash_text("int", "34"), 2017239379);
	CHECK_EQ_INT(hash_text("long", "34"), 2017239379);
	CHECK_EQ_INT(hash_text("decimal(9,2)", "14.20"), -500754589);
	CHECK_EQ_INT(hash_text("decimal(38,2)", "14.20"), -500754589); /* scale-free, unpadded */
	CHECK_EQ_INT(hash_text("date", "2017-11-16"), -653330422);
	CHECK_EQ_INT(hash_text("time", "22:31:08"), -662762989);
	CHECK_EQ_INT(hash_text("timestamp", "2017-11-16T22:31:08"), -2047944441);
	CHECK_EQ_INT(hash_text("timestamp", "2017-11-16T22:31:08.000001"), -1207196810);
	CHECK_EQ_INT(hash_text("timestamptz", "2017-11-16T14:31:08-08:00"), -2047944441);
	CHECK_EQ_INT(hash_text("timestamptz", "2017-11-16T14:31:08.000001-08:00"), -1207196810);
	CHECK_EQ_INT(hash_text("timestamp_ns", "2017-11-16T22:31:08"), -2047944441);
	CHECK_EQ_INT(hash_text("timestamp_ns", "2017-11-16T22:31:08.000001001"), -1207196810);
	CHECK_EQ_INT(hash_text("timestamptz_ns", "2017-11-16T14:31:08-08:00"), -2047944441);
	CHECK_EQ_INT(hash_text("timestamptz_ns", "2017-11-16T14:31:08.000001001-08:00"),
	             -1207196810);
	CHECK_EQ_INT(hash_text("string", "iceberg"), 1210000089);
	CHECK_EQ_INT(hash_text("uuid", "f79c3e09-677c-4bbd-a479-3f349cb785e7"), 1488055340);

	static const uint8_t b0123[4] = {0, 1, 2, 3};
	floe_value v;
	memset(&v, 0, sizeof v);
	v.bytes = b0123;
	v.len = 4;
	floe_type t = tyname("fixed[4]");
	CHECK_EQ_INT(ice_transform_hash(&t, &v), -188683207);
	t = tyname("binary");
	CHECK_EQ_INT(ice_transform_hash(&t, &v), -188683207);

	/* the table of types not valid for bucketing */
	CHECK_EQ_INT(hash_text("boolean", "true"), 1392991556);
	t = tyname("float");
	memset(&v, 0, sizeof v);
	v.d = 1.0f;
	CHECK_EQ_INT(ice_transform_hash(&t, &v), -142385009);
	v.d = 0.0f;
	CHECK_EQ_INT(ice_transform_hash(&t, &v), 1669671676);
	v.d = -0.0f;
	CHECK_EQ_INT(ice_transform_hash(&t, &v), 1669671676);
	t = tyname("double");
	v.d = 1.0;
	CHECK_EQ_INT(ice_transform_hash(&t, &v), -142385009);
	v.d = 0.0;
	CHECK_EQ_INT(ice_transform_hash(&t, &v), 1669671676);
	v.d = -0.0;
	CHECK_EQ_INT(ice_transform_hash(&t, &v), 1669671676);
	/* note 5: every NaN hashes as the canonical one */
	floe_value n2 = v;
	v.d = NAN;
	n2.d = -NAN;
	CHECK_EQ_INT(ice_transform_hash(&t, &v), ice_transform_hash(&t, &n2));
}

static int64_t apply_i(const char *transform, const char *type, const char *text)
{
	floe_buf scratch = FLOE_BUF_INIT;
	ice_datum in = lit(type, text, &scratch), out;
	ice_transform t = tr(transform);
	floe_error err;
	int64_t r = INT64_MIN;
	if (!in.is_null && ice_transform_apply(&t, &in.type, &in, &out, &err) == 0 &&
	    !out.is_null)
		r = out.v.i;
	floe_buf_free(&scratch);
	return r;
}

/* "Bucket Transform Details": (hash & Integer.MAX_VALUE) % N */
TEST(ice_transform_bucket_values)
{
	/* from the spec's hash of 34 (positive) and of 14.20 (negative) */
	CHECK_EQ_INT(apply_i("bucket[16]", "int", "34"), 2017239379 % 16);
	CHECK_EQ_INT(apply_i("bucket[1000]", "long", "34"), 2017239379 % 1000);
	CHECK_EQ_INT(apply_i("bucket[7]", "decimal(9,2)", "14.20"),
	             (int64_t)((uint32_t)-500754589 & 0x7fffffffu) % 7);
	CHECK_EQ_INT(apply_i("bucket[5]", "uuid", "f79c3e09-677c-4bbd-a479-3f349cb785e7"),
	             1488055340 % 5);
	CHECK_EQ_INT(apply_i("bucket[3]", "timestamp_ns", "2017-11-16T22:31:08.000001001"),
	             (int64_t)((uint32_t)-1207196810 & 0x7fffffffu) % 3);
	CHECK_EQ_INT(apply_i("bucket[1]", "string", "anything"), 0);

	/* negative inputs: a bucket in [0, N), the same for int and long
	 * (Appendix B note 1), and -1 and 1 are not forced together */
	const char *neg[] = {"-1", "-34", "-2147483648", "-1000000", "-7"};
	for (size_t i = 0; i < sizeof neg / sizeof neg[0]; i++) {
		int64_t bi = apply_i("bucket[16]", "int", neg[i]);
		int64_t bl = apply_i("bucket[16]", "long", neg[i]);
		CHECK(bi >= 0 && bi < 16);
		CHECK_EQ_INT(bi, bl);
		int32_t h = hash_text("long", neg[i]);
		CHECK_EQ_INT(bi, (int64_t)((uint32_t)h & 0x7fffffffu) % 16);
	}
	CHECK_EQ_INT(hash_text("int", "-1"), hash_text("long", "-1"));
	CHECK(hash_text("long", "-1") != hash_text("long", "1"));
	/* decimal and date before the epoch */
	int64_t bd = apply_i("bucket[10]", "decimal(9,2)", "-14.20");
	CHECK(bd >= 0 && bd < 10);
	int64_t bt = apply_i("bucket[10]", "date", "1969-12-31");
	CHECK_EQ_INT(bt, apply_i("bucket[10]", "int", "-1"));
	/* the result is NULL for NULL and typed int */
	ice_transform t = tr("bucket[4]");
	floe_type lt = tyname("long");
	ice_datum in, out;
	memset(&in, 0, sizeof in);
	in.type = lt;
	in.is_null = true;
	floe_error err;
	REQUIRE_OK(ice_transform_apply(&t, &lt, &in, &out, &err), &err);
	CHECK(out.is_null);
	CHECK_EQ_INT(out.type.id, FLOE_TYPE_INT);
}

/* ---- truncate ("Truncate Transform Details") ------------------------ */

static bool trunc_bytes(const char *transform, const char *type, const char *text,
                        const char *want, size_t want_len)
{
	floe_buf scratch = FLOE_BUF_INIT;
	ice_datum in = lit(type, text, &scratch), out;
	ice_transform t = tr(transform);
	bool ok = !in.is_null && ice_transform_apply(&t, &in.type, &in, &out, NULL) == 0 &&
	          out.v.len == (int64_t)want_len &&
	          (want_len == 0 || memcmp(out.v.bytes, want, want_len) == 0) &&
	          (want_len == 0 || out.v.bytes == in.v.bytes); /* points into the input */
	floe_buf_free(&scratch);
	return ok;
}

TEST(ice_transform_truncate_spec_examples)
{
	CHECK_EQ_INT(apply_i("truncate[10]", "int", "1"), 0);
	CHECK_EQ_INT(apply_i("truncate[10]", "int", "-1"), -10);
	CHECK_EQ_INT(apply_i("truncate[10]", "long", "1"), 0);
	CHECK_EQ_INT(apply_i("truncate[10]", "long", "-1"), -10);
	/* W=50, s=2: 10.65 -> 10.50 */
	CHECK_EQ_INT(apply_i("truncate[50]", "decimal(9,2)", "10.65"), 1050);
	CHECK(trunc_bytes("truncate[3]", "string", "iceberg", "ice", 3));
	/* L=3: \x01\x02\x03\x04\x05 -> \x01\x02\x03 (base64 AQIDBAU=) */
	CHECK(trunc_bytes("truncate[3]", "binary", "AQIDBAU=", "\x01\x02\x03", 3));
	CHECK(trunc_bytes("truncate[9]", "binary", "AQIDBAU=", "\x01\x02\x03\x04\x05", 5));
}

TEST(ice_transform_truncate_properties)
{
	/* note 1: the remainder is never negative, so v - W < t(v) <= v and
	 * t(v) is a multiple of W, for both signs */
	static const int64_t ws[] = {1, 3, 10, 7919};
	char text[32];
	for (size_t k = 0; k < 4; k++) {
		char name[32];
		snprintf(name, sizeof name, "truncate[%lld]", (long long)ws[k]);
		for (int64_t v = -25000; v <= 25000; v += 97) {
			snprintf(text, sizeof text, "%lld", (long long)v);
			int64_t ri = apply_i(name, "int", text), rl = apply_i(name, "long", text);
			int64_t rd = apply_i(name, "decimal(10,0)", text);
			CHECK(ri <= v && ri > v - ws[k] && ri % ws[k] == 0);
			CHECK_EQ_INT(ri, rl);
			CHECK_EQ_INT(ri, rd);
		}
	}
	CHECK_EQ_INT(apply_i("truncate[10]", "long", "-9223372036854775800"),
	             INT64_C(-9223372036854775800));
}

/* note 3: strings keep at most L code points and stay valid UTF-8 */
TEST(ice_transform_truncate_utf8_code_points)
{
	CHECK(trunc_bytes("truncate[2]", "string", "h\xc3\xa9llo", "h\xc3\xa9", 3));
	CHECK(trunc_bytes("truncate[1]", "string", "\xc3\xa9t\xc3\xa9", "\xc3\xa9", 2));
	/* a 4-byte code point (U+1F600) counts once */
	CHECK(trunc_bytes("truncate[2]", "string", "a\xf0\x9f\x98\x80" "b", "a\xf0\x9f\x98\x80",
	                  5));
	CHECK(trunc_bytes("truncate[3]", "string", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xa7",
	                  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 9));
	CHECK(trunc_bytes("truncate[16]", "string", "ice", "ice", 3));
	CHECK(trunc_bytes("truncate[4]", "string", "", "", 0));
}

/* ---- year / month / day / hour -------------------------------------- */

TEST(ice_transform_time_before_and_after_epoch)
{
	const char *ts = "timestamp";
	const char *before = "1969-12-31T23:59:59.999999";
	CHECK_EQ_INT(apply_i("day", ts, before), -1);
	CHECK_EQ_INT(apply_i("hour", ts, before), -1);
	CHECK_EQ_INT(apply_i("month", ts, before), -1);
	CHECK_EQ_INT(apply_i("year", ts, before), -1);
	CHECK_EQ_INT(apply_i("day", ts, "1970-01-01T00:00:00"), 0);
	CHECK_EQ_INT(apply_i("hour", ts, "1970-01-01T00:00:00"), 0);
	CHECK_EQ_INT(apply_i("hour", ts, "1969-12-31T23:00:00"), -1);
	CHECK_EQ_INT(apply_i("hour", ts, "1969-12-31T22:59:59.999999"), -2);
	CHECK_EQ_INT(apply_i("day", ts, "1969-12-30T00:00:00"), -2);
	CHECK_EQ_INT(apply_i("month", ts, "1969-01-01T00:00:00"), -12);
	CHECK_EQ_INT(apply_i("month", ts, "1968-12-31T23:59:59"), -13);
	CHECK_EQ_INT(apply_i("year", ts, "1969-01-01T00:00:00"), -1);
	CHECK_EQ_INT(apply_i("year", ts, "1968-12-31T23:59:59"), -2);
	/* 2017-11-16 is day 17486 (the date of Appendix B) */
	CHECK_EQ_INT(apply_i("day", ts, "2017-11-16T22:31:08"), 17486);
	CHECK_EQ_INT(apply_i("hour", ts, "2017-11-16T22:31:08"), 17486 * 24 + 22);
	CHECK_EQ_INT(apply_i("month", ts, "2017-11-16T22:31:08"), 47 * 12 + 10);
	CHECK_EQ_INT(apply_i("year", ts, "2017-11-16T22:31:08"), 47);
	CHECK_EQ_INT(apply_i("day", "timestamptz", "2017-11-16T22:31:08-08:00"), 17487);

	/* dates */
	CHECK_EQ_INT(apply_i("day", "date", "1969-12-31"), -1);
	CHECK_EQ_INT(apply_i("month", "date", "1969-12-31"), -1);
	CHECK_EQ_INT(apply_i("year", "date", "1969-12-31"), -1);
	CHECK_EQ_INT(apply_i("month", "date", "2000-02-29"), 30 * 12 + 1);
	CHECK_EQ_INT(apply_i("year", "date", "1900-06-15"), -70);

	/* timestamp_ns */
	const char *ns = "timestamp_ns";
	CHECK_EQ_INT(apply_i("day", ns, "1969-12-31T23:59:59.999999999"), -1);
	CHECK_EQ_INT(apply_i("hour", ns, "1969-12-31T23:59:59.999999999"), -1);
	CHECK_EQ_INT(apply_i("year", ns, "1969-12-31T23:59:59.999999999"), -1);
	CHECK_EQ_INT(apply_i("day", ns, "2017-11-16T22:31:08.000000001"), 17486);
	CHECK_EQ_INT(apply_i("hour", "timestamptz_ns", "2017-11-16T22:31:08.5+00:00"),
	             17486 * 24 + 22);

	/* the day result is a date, the others int */
	floe_type src = tyname("timestamp"), rt;
	ice_transform t = tr("day");
	REQUIRE_OK(ice_transform_result_type(&t, &src, &rt, NULL), (floe_error *)NULL);
	CHECK_EQ_INT(rt.id, FLOE_TYPE_DATE);
	t = tr("hour");
	REQUIRE_OK(ice_transform_result_type(&t, &src, &rt, NULL), (floe_error *)NULL);
	CHECK_EQ_INT(rt.id, FLOE_TYPE_INT);
}

TEST(ice_transform_result_types_and_sources)
{
	floe_error err;
	floe_type rt;
	struct {
		const char *t, *src;
		bool ok;
		floe_type_id want;
	} cases[] = {
		{"identity", "double", true, FLOE_TYPE_DOUBLE},
		{"bucket[8]", "string", true, FLOE_TYPE_INT},
		{"bucket[8]", "double", false, 0},
		{"bucket[8]", "boolean", false, 0},
		{"truncate[4]", "string", true, FLOE_TYPE_STRING},
		{"truncate[4]", "uuid", false, 0},
		{"truncate[4]", "date", false, 0},
		{"year", "date", true, FLOE_TYPE_INT},
		{"hour", "date", false, 0},
		{"day", "time", false, 0},
		{"month", "timestamptz_ns", true, FLOE_TYPE_INT},
		{"void", "uuid", true, FLOE_TYPE_UUID},
		{"zorder", "long", false, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ice_transform t = tr(cases[i].t);
		floe_type src = tyname(cases[i].src);
		int rc = ice_transform_result_type(&t, &src, &rt, &err);
		if (cases[i].ok) {
			CHECK_EQ_INT(rc, 0);
			CHECK_EQ_INT(rt.id, cases[i].want);
		} else {
			CHECK_EQ_INT(rc, FLOE_EINVALID);
			CHECK(strstr(err.msg, cases[i].t) != NULL);
		}
	}
	/* void gives NULL of the source type */
	ice_transform t = tr("void");
	floe_buf scratch = FLOE_BUF_INIT;
	ice_datum in = lit("long", "5", &scratch), out;
	REQUIRE_OK(ice_transform_apply(&t, &in.type, &in, &out, &err), &err);
	CHECK(out.is_null);
	floe_buf_free(&scratch);
}

/* ---- names ---------------------------------------------------------- */

TEST(ice_transform_parse_format_roundtrip)
{
	const char *names[] = {"identity", "bucket[16]", "truncate[4]", "year", "month",
	                       "day",      "hour",       "void",        "bucket[1]",
	                       "truncate[2147483647]"};
	char buf[64];
	floe_error err;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		ice_transform t;
		REQUIRE_OK(ice_transform_parse(&t, names[i], &err), &err);
		CHECK(t.kind != ICE_T_UNKNOWN);
		CHECK_EQ_STR(ice_transform_format(&t, buf, sizeof buf), names[i]);
	}
	ice_transform t;
	REQUIRE_OK(ice_transform_parse(&t, "bucket[16]", &err), &err);
	CHECK_EQ_INT(t.kind, ICE_T_BUCKET);
	CHECK_EQ_INT(t.param, 16);
	/* names read ignoring case, written as the spec spells them */
	REQUIRE_OK(ice_transform_parse(&t, "Truncate[3]", &err), &err);
	CHECK_EQ_STR(ice_transform_format(&t, buf, sizeof buf), "truncate[3]");
	/* unknown names are kept as they were read */
	const char *unknown[] = {"zorder", "bucket", "bucket[16] ", "bucket[x]", "hours", ""};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		REQUIRE_OK(ice_transform_parse(&t, unknown[i], &err), &err);
		CHECK_EQ_INT(t.kind, ICE_T_UNKNOWN);
		CHECK(t.unknown_name == unknown[i]);
		CHECK_EQ_STR(ice_transform_format(&t, buf, sizeof buf), unknown[i]);
		CHECK(!ice_transform_preserves_order(&t));
	}
	/* a known name with a width out of range is an error */
	CHECK_EQ_INT(ice_transform_parse(&t, "bucket[0]", &err), FLOE_EINVALID);
	CHECK_EQ_INT(ice_transform_parse(&t, "truncate[2147483648]", &err), FLOE_EINVALID);
	/* a short buffer is cut, still terminated */
	REQUIRE_OK(ice_transform_parse(&t, "truncate[12345]", &err), &err);
	CHECK_EQ_STR(ice_transform_format(&t, buf, 6), "trunc");
	CHECK(ice_transform_preserves_order(&t));
	t = tr("bucket[2]");
	CHECK(!ice_transform_preserves_order(&t));
}

/* ---- columns -------------------------------------------------------- */

static bool same_datum(const ice_datum *a, const ice_datum *b)
{
	if (a->is_null != b->is_null || a->type.id != b->type.id)
		return false;
	return a->is_null || ice_value_compare(&a->type, &a->v, &b->v) == 0;
}

/* apply_column gives, row for row, what apply gives */
TEST(ice_transform_apply_column_matches_apply)
{
	enum { N = 200 };
	int64_t longs[N], offsets[N + 1];
	int32_t ints[N];
	uint8_t validity[(N + 7) / 8];
	char data[N * 8];
	int64_t pos = 0;
	srand(7);
	for (int r = 0; r < N; r++) {
		int64_t x = ((int64_t)rand() << 20) ^ rand();
		longs[r] = (r & 1) ? -x : x; /* both sides of the epoch */
		ints[r] = (int32_t)(longs[r] % 100000);
		offsets[r] = pos;
		int len = r % 7;
		for (int k = 0; k < len; k++)
			data[pos++] = (k == 1 && r % 3 == 0) ? (char)0xc3 : (k == 2 && r % 3 == 0) ? (char)0xa9 : (char)('a' + (r + k) % 26);
	}
	offsets[N] = pos;
	memset(validity, 0xff, sizeof validity);
	for (int r = 0; r < N; r += 9)
		floe_bitmap_set(validity, r, false);

	struct {
		const char *type, *transform;
	} cases[] = {
		{"timestamp", "day"},       {"timestamp", "hour"},       {"timestamp", "month"},
		{"timestamptz", "year"},    {"timestamp_ns", "day"},     {"timestamp_ns", "hour"},
		{"long", "bucket[16]"},     {"long", "truncate[100]"},   {"long", "identity"},
		{"int", "bucket[7]"},       {"int", "truncate[10]"},     {"date", "month"},
		{"date", "day"},            {"string", "truncate[2]"},   {"string", "bucket[32]"},
		{"binary", "truncate[3]"},  {"decimal(12,2)", "bucket[5]"}, {"long", "void"},
	};
	ice_datum *col_out = calloc(N, sizeof *col_out);
	REQUIRE(col_out != NULL);
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		floe_type src = tyname(cases[c].type);
		ice_transform t = tr(cases[c].transform);
		floe_column col;
		memset(&col, 0, sizeof col);
		col.type = src;
		col.validity = validity;
		if (src.id == FLOE_TYPE_STRING || src.id == FLOE_TYPE_BINARY) {
			col.offsets = offsets;
			col.data = (uint8_t *)data;
		} else {
			col.values = (src.id == FLOE_TYPE_INT || src.id == FLOE_TYPE_DATE)
			                     ? (void *)ints
			                     : (void *)longs;
		}
		floe_error err;
		REQUIRE_OK(ice_transform_apply_column(&t, &src, &col, N, col_out, &err), &err);
		for (int r = 0; r < N; r++) {
			ice_datum in, one;
			memset(&in, 0, sizeof in);
			in.type = src;
			in.is_null = !floe_column_is_valid(&col, r);
			if (src.id == FLOE_TYPE_STRING || src.id == FLOE_TYPE_BINARY) {
				in.v.bytes = (const uint8_t *)data + offsets[r];
				in.v.len = offsets[r + 1] - offsets[r];
			} else if (src.id == FLOE_TYPE_INT || src.id == FLOE_TYPE_DATE) {
				in.v.i = ints[r];
			} else {
				in.v.i = longs[r];
			}
			REQUIRE_OK(ice_transform_apply(&t, &src, &in, &one, &err), &err);
			if (!same_datum(&one, &col_out[r])) {
				th_fail(__FILE__, __LINE__, "%s(%s) row %d differs", cases[c].transform,
				        cases[c].type, r);
				break;
			}
		}
		CHECK(col_out[0].is_null); /* row 0 is NULL */
	}
	free(col_out);
}

/* apply_ints gives what apply gives for the pairs it takes, and declines
 * (1) the others and columns with NULLs */
TEST(ice_transform_apply_ints_matches_apply)
{
	enum { N = 300 };
	int64_t longs[N], out[N];
	int32_t ints[N];
	srand(11);
	for (int r = 0; r < N; r++) {
		int64_t x = ((int64_t)rand() << 24) ^ rand();
		longs[r] = (r & 1) ? -x : x; /* both sides of the epoch */
		if (r % 10 == 0)
			longs[r] = -(r % 3); /* -2, -1 and 0 around midnight 1970 */
		ints[r] = (int32_t)(longs[r] % 1000000);
	}
	struct {
		const char *type, *transform;
		bool taken;
	} cases[] = {
		{"timestamp", "day", true},      {"timestamptz", "hour", true},
		{"timestamp_ns", "day", true},   {"timestamptz_ns", "hour", true},
		{"long", "identity", true},      {"int", "identity", true},
		{"date", "identity", true},      {"timestamp", "identity", true},
		{"timestamp", "month", false},   {"date", "day", false},
		{"long", "bucket[16]", false},   {"long", "truncate[10]", false},
		{"string", "identity", false},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		floe_type src = tyname(cases[c].type);
		ice_transform t = tr(cases[c].transform);
		floe_column col;
		memset(&col, 0, sizeof col);
		col.type = src;
		col.values = (src.id == FLOE_TYPE_INT || src.id == FLOE_TYPE_DATE) ? (void *)ints
		                                                                     : (void *)longs;
		floe_error err;
		int rc = ice_transform_apply_ints(&t, &src, &col, N, out, &err);
		if (!cases[c].taken) {
			CHECK(rc == 1);
			continue;
		}
		REQUIRE_OK(rc, &err);
		for (int r = 0; r < N; r++) {
			ice_datum in, one;
			memset(&in, 0, sizeof in);
			in.type = src;
			in.v.i = (src.id == FLOE_TYPE_INT || src.id == FLOE_TYPE_DATE) ? ints[r] : longs[r];
			REQUIRE_OK(ice_transform_apply(&t, &src, &in, &one, &err), &err);
			if (one.v.i != out[r]) {
				th_fail(__FILE__, __LINE__, "%s(%s) row %d: %lld, apply gives %lld",
				        cases[c].transform, cases[c].type, r, (long long)out[r],
				        (long long)one.v.i);
				break;
			}
		}
		/* a column with NULLs is declined */
		uint8_t validity[(N + 7) / 8];
		memset(validity, 0xff, sizeof validity);
		col.validity = validity;
		CHECK(ice_transform_apply_ints(&t, &src, &col, N, out, &err) == 1);
	}
	/* an hour beyond the int range is an error, as in apply */
	int64_t big[2] = { 0, INT64_MAX };
	floe_type ts = tyname("timestamp");
	ice_transform hour = tr("hour");
	floe_column col;
	memset(&col, 0, sizeof col);
	col.type = ts;
	col.values = big;
	floe_error err;
	CHECK(ice_transform_apply_ints(&hour, &ts, &col, 2, out, &err) < 0);
	ice_datum in, one;
	memset(&in, 0, sizeof in);
	in.type = ts;
	in.v.i = INT64_MAX;
	CHECK(ice_transform_apply(&hour, &ts, &in, &one, &err) < 0);
}

/* ---- inclusive projection ("Scan Planning") ------------------------- */

static bool proj(const char *transform, const char *type, int op, const char *text,
                 int want_op, int64_t want)
{
	floe_buf scratch = FLOE_BUF_INIT;
	ice_datum l = lit(type, text, &scratch), pv;
	ice_transform t = tr(transform);
	int pop = 0;
	bool ok = !l.is_null && ice_transform_project(&t, &l.type, op, &l, &pop, &pv, NULL) == 1 &&
	          pop == want_op && !pv.is_null && pv.v.i == want;
	if (!ok)
		th_fail(__FILE__, __LINE__, "%s(%s) op %d '%s': got op %d value %lld", transform,
		        type, op, text, pop, (long long)pv.v.i);
	floe_buf_free(&scratch);
	return ok;
}

TEST(ice_transform_project_day_boundaries)
{
	const char *ts = "timestamp";
	const int EQ = FLOE_PARQUET_EQ, LT = FLOE_PARQUET_LT, LE = FLOE_PARQUET_LE,
	          GT = FLOE_PARQUET_GT, GE = FLOE_PARQUET_GE;
	/* X at midnight: ts < X holds only for earlier days */
	CHECK(proj("day", ts, LT, "2017-11-16T00:00:00", LE, 17485));
	CHECK(proj("day", ts, LT, "2017-11-16T00:00:00.000001", LE, 17486));
	CHECK(proj("day", ts, LE, "2017-11-16T00:00:00", LE, 17486));
	CHECK(proj("day", ts, EQ, "2017-11-16T12:00:00", EQ, 17486));
	CHECK(proj("day", ts, GT, "2017-11-16T00:00:00", GE, 17486));
	CHECK(proj("day", ts, GT, "2017-11-16T23:59:59.999999", GE, 17487));
	CHECK(proj("day", ts, GE, "2017-11-16T23:59:59.999999", GE, 17486));
	CHECK(proj("day", ts, GE, "2017-11-16T00:00:00", GE, 17486));
	/* before 1970 the floor matters */
	CHECK(proj("day", ts, LT, "1970-01-01T00:00:00", LE, -1));
	CHECK(proj("day", ts, LE, "1969-12-31T23:59:59.999999", LE, -1));
	CHECK(proj("day", ts, GT, "1969-12-31T23:59:59.999999", GE, 0));
	CHECK(proj("day", ts, EQ, "1969-12-31T00:00:00", EQ, -1));
	CHECK(proj("hour", ts, LT, "1970-01-01T00:00:00", LE, -1));
	CHECK(proj("month", ts, GE, "1969-12-15T00:00:00", GE, -1));
	CHECK(proj("year", ts, LT, "1970-01-01T00:00:00", LE, -1));
	CHECK(proj("day", "date", LT, "2017-11-16", LE, 17485));
	CHECK(proj("day", "timestamp_ns", LT, "1970-01-01T00:00:00", LE, -1));
}

TEST(ice_transform_project_bucket_truncate_identity)
{
	const int EQ = FLOE_PARQUET_EQ, LT = FLOE_PARQUET_LT, LE = FLOE_PARQUET_LE,
	          GT = FLOE_PARQUET_GT, GE = FLOE_PARQUET_GE;
	/* bucket: only equality projects */
	CHECK(proj("bucket[16]", "int", EQ, "34", EQ, 2017239379 % 16));
	int ops[] = {LT, LE, GT, GE, FLOE_PARQUET_IN};
	floe_buf scratch = FLOE_BUF_INIT;
	ice_datum l = lit("int", "34", &scratch), pv;
	ice_transform t = tr("bucket[16]");
	int pop;
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(ice_transform_project(&t, &l.type, ops[i], &l, &pop, &pv, NULL), 0);
	/* void and unknown transforms never prune */
	t = tr("void");
	CHECK_EQ_INT(ice_transform_project(&t, &l.type, EQ, &l, &pop, &pv, NULL), 0);
	t = tr("zorder");
	CHECK_EQ_INT(ice_transform_project(&t, &l.type, EQ, &l, &pop, &pv, NULL), 0);
	/* IS NULL projects to IS NULL */
	t = tr("bucket[16]");
	CHECK_EQ_INT(ice_transform_project(&t, &l.type, FLOE_PARQUET_IS_NULL, NULL, &pop, &pv,
	                                   NULL),
	             1);
	CHECK_EQ_INT(pop, FLOE_PARQUET_IS_NULL);
	floe_buf_free(&scratch);

	/* truncate of integers: strict bounds step by one first */
	CHECK(proj("truncate[10]", "int", LT, "10", LE, 0));
	CHECK(proj("truncate[10]", "int", LT, "11", LE, 10));
	CHECK(proj("truncate[10]", "int", LE, "10", LE, 10));
	CHECK(proj("truncate[10]", "long", GT, "9", GE, 10));
	CHECK(proj("truncate[10]", "long", GT, "-1", GE, 0));
	CHECK(proj("truncate[10]", "long", GE, "-1", GE, -10));
	CHECK(proj("truncate[10]", "int", EQ, "-1", EQ, -10));
	CHECK(proj("truncate[50]", "decimal(9,2)", LT, "10.50", LE, 1000));
	CHECK(proj("truncate[50]", "decimal(9,2)", EQ, "10.65", EQ, 1050));
	/* no value is below INT32_MIN: nothing is projected */
	l = lit("int", "-2147483648", &scratch);
	t = tr("truncate[10]");
	CHECK_EQ_INT(ice_transform_project(&t, &l.type, LT, &l, &pop, &pv, NULL), 0);
	floe_buf_free(&scratch);

	/* truncate of strings: LT and LE both become LE of the truncated literal */
	const struct {
		int op, want_op;
	} sc[] = {{LT, LE}, {LE, LE}, {GT, GE}, {GE, GE}, {EQ, EQ}};
	t = tr("truncate[3]");
	for (int i = 0; i < 5; i++) {
		l = lit("string", "iceberg", &scratch);
		REQUIRE(ice_transform_project(&t, &l.type, sc[i].op, &l, &pop, &pv, NULL) == 1);
		CHECK_EQ_INT(pop, sc[i].want_op);
		CHECK(pv.v.len == 3 && memcmp(pv.v.bytes, "ice", 3) == 0);
		floe_buf_free(&scratch);
	}
	/* identity: the same predicate */
	l = lit("string", "abc", &scratch);
	t = tr("identity");
	REQUIRE(ice_transform_project(&t, &l.type, LT, &l, &pop, &pv, NULL) == 1);
	CHECK_EQ_INT(pop, LT);
	CHECK(pv.v.len == 3 && memcmp(pv.v.bytes, "abc", 3) == 0);
	floe_buf_free(&scratch);
}

static bool holds(const floe_type *type, int op, const floe_value *a, const floe_value *b)
{
	int c = ice_value_compare(type, a, b);
	switch (op) {
	case FLOE_PARQUET_EQ:
		return c == 0;
	case FLOE_PARQUET_LT:
		return c < 0;
	case FLOE_PARQUET_LE:
		return c <= 0;
	case FLOE_PARQUET_GT:
		return c > 0;
	default:
		return c >= 0;
	}
}

/* Inclusivity, exhaustively on a grid: whenever `x OP X` holds for a row,
 * `t(x) OP' X'` holds for its partition. And the projection is tight at
 * the boundary: for x = X (or the neighbour that matches), the partition
 * itself sits on the projected bound. */
TEST(ice_transform_project_is_inclusive)
{
	const char *transforms[] = {"day", "hour", "month", "year", "truncate[7]", "bucket[5]",
	                            "identity"};
	const int ops[] = {FLOE_PARQUET_EQ, FLOE_PARQUET_LT, FLOE_PARQUET_LE, FLOE_PARQUET_GT,
	                   FLOE_PARQUET_GE};
	const int64_t step = INT64_C(1000000) * 3600 * 5 + 7; /* 5 hours and a bit */
	for (size_t k = 0; k < sizeof transforms / sizeof transforms[0]; k++) {
		ice_transform t = tr(transforms[k]);
		bool is_trunc = t.kind == ICE_T_TRUNCATE || t.kind == ICE_T_BUCKET ||
		                t.kind == ICE_T_IDENTITY;
		floe_type src = tyname(is_trunc ? "long" : "timestamp"), rt;
		REQUIRE_OK(ice_transform_result_type(&t, &src, &rt, NULL), (floe_error *)NULL);
		int64_t unit = is_trunc ? 1 : step;
		int64_t span = is_trunc ? 60 : 24 * 40; /* forty days around the epoch */
		for (int64_t a = -span; a <= span; a += 3) {
			ice_datum l;
			memset(&l, 0, sizeof l);
			l.type = src;
			l.v.i = a * unit;
			for (size_t o = 0; o < 5; o++) {
				int pop;
				ice_datum pv;
				if (ice_transform_project(&t, &src, ops[o], &l, &pop, &pv, NULL) != 1)
					continue;
				for (int64_t x = -span - 5; x <= span + 5; x++) {
					ice_datum row, part;
					memset(&row, 0, sizeof row);
					row.type = src;
					row.v.i = x * unit + (x & 1); /* odd micros too */
					if (!holds(&src, ops[o], &row.v, &l.v))
						continue;
					REQUIRE_OK(ice_transform_apply(&t, &src, &row, &part, NULL),
					           (floe_error *)NULL);
					if (!holds(&rt, pop, &part.v, &pv.v)) {
						th_fail(__FILE__, __LINE__,
						        "%s op %d lit %lld: row %lld not kept",
						        transforms[k], ops[o], (long long)l.v.i,
						        (long long)row.v.i);
						return;
					}
				}
			}
		}
	}
}
