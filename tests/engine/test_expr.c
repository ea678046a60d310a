/* The expression language (include/floe/expr.h): parsing (errors with
 * positions), binding (types inferred, unknown columns and type mistakes
 * named, rebinding), evaluation of every operator and scalar function with
 * SQL NULL semantics, casts, guarded branches, time functions at
 * boundaries and before 1970, and aggregate splitting. Series functions
 * are in test_expr_series.c. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/expr.h"
#include "floe/window.h"
#include "harness.h"
#include "util/text.h"

typedef struct tb {
	floe_arena *a;
	floe_schema *s;
	floe_batch b;
} tb;

static int keep_batch(void *ctx, const floe_batch *b, floe_error *err)
{
	tb *t = ctx;
	const floe_batch *one[2] = { &t->b, b };
	floe_batch out;
	int rc = t->b.nrows ? floe_batch_concat(one, 2, &out, t->a, err) :
	                      floe_batch_concat(one + 1, 1, &out, t->a, err);
	if (rc)
		return rc;
	out.schema = t->s;
	t->b = out;
	return 0;
}

/* A batch of `schema` from NDJSON text. */
static bool mk(tb *t, const char *schema, const char *ndjson)
{
	memset(t, 0, sizeof *t);
	t->a = floe_arena_new(0);
	floe_error err;
	if (floe_schema_parse(&t->s, schema, t->a, &err))
		return false;
	t->b.schema = t->s;
	t->b.ncols = t->s->nfields;
	FILE *f = fmemopen((void *)ndjson, strlen(ndjson), "r");
	if (!f)
		return false;
	int rc = floe_text_load(f, "test", FLOE_TEXT_NDJSON, t->s, 0, keep_batch, t, NULL, &err);
	fclose(f);
	if (rc)
		fprintf(stderr, "load: %s\n", err.msg);
	return rc == 0;
}

static void tb_free(tb *t)
{
	floe_arena_free(t->a);
}

/* Evaluate `text` on t; the column lives in t->a. */
static bool ev(tb *t, const char *text, floe_column *out)
{
	floe_expr *e;
	floe_error err;
	if (floe_expr_parse(&e, text, t->a, &err) || floe_expr_bind(e, t->s, 0, &err) ||
	    floe_expr_eval(e, &t->b, NULL, out, t->a, &err)) {
		fprintf(stderr, "%s: %s\n", text, err.msg);
		return false;
	}
	if (out->type.id != floe_expr_type(e).id) {
		fprintf(stderr, "%s: result type %d, bound type %d\n", text, out->type.id,
		        floe_expr_type(e).id);
		return false;
	}
	return true;
}

/* The bound type of `text`, or 0 on any error. */
static floe_type_id type_of(tb *t, const char *text)
{
	floe_expr *e;
	floe_error err;
	if (floe_expr_parse(&e, text, t->a, &err) || floe_expr_bind(e, t->s, 0, &err)) {
		fprintf(stderr, "%s: %s\n", text, err.msg);
		return 0;
	}
	return floe_expr_type(e).id;
}

/* The message of the first error parsing, binding or evaluating `text`. */
static const char *err_of(tb *t, const char *text)
{
	static char msg[FLOE_ERROR_MSG_MAX];
	floe_expr *e;
	floe_error err;
	floe_column c;
	if (floe_expr_parse(&e, text, t->a, &err) || floe_expr_bind(e, t->s, 0, &err) ||
	    floe_expr_eval(e, &t->b, NULL, &c, t->a, &err)) {
		snprintf(msg, sizeof msg, "%s", err.msg);
		return msg;
	}
	return NULL;
}

#define EV(text) REQUIRE(ev(&t, (text), &c))
#define ERR_HAS(text, ...) check_err(&t, (text), __FILE__, __LINE__, __VA_ARGS__, NULL)

/* every given fragment is in the error of `text` */
static void check_err(tb *t, const char *text, const char *file, int line, ...)
{
	const char *m = err_of(t, text);
	if (!m) {
		th_fail(file, line, "%s: no error", text);
		return;
	}
	va_list ap;
	va_start(ap, line);
	for (const char *want; (want = va_arg(ap, const char *)) != NULL;)
		if (!strstr(m, want))
			th_fail(file, line, "%s: error '%s' lacks '%s'", text, m, want);
	va_end(ap);
}

static const char *S = "sym string, price double, vol long, n int, ts timestamptz, ok boolean, "
                       "d date, dec decimal(10,2), f float";
static const char *ROWS =
	"{\"sym\":\" aapl \",\"price\":10.5,\"vol\":5,\"n\":3,\"ts\":\"2026-11-20T14:30:15.5Z\","
	"\"ok\":true,\"d\":\"2026-11-20\",\"dec\":\"2.50\",\"f\":1.5}\n"
	"{\"sym\":\"h\xc3\xa9llo\",\"price\":2,\"vol\":0,\"n\":-7,\"ts\":\"1969-12-31T23:59:30Z\","
	"\"ok\":false,\"d\":\"1969-12-31\",\"dec\":\"-2.50\",\"f\":-0.25}\n"
	"{\"sym\":null,\"price\":null,\"vol\":null,\"n\":null,\"ts\":null,\"ok\":null,\"d\":null,"
	"\"dec\":null,\"f\":null}\n"
	"{\"sym\":\"x_%y\",\"price\":-3.5,\"vol\":-4,\"n\":2147483647,\"ts\":\"1970-01-01T00:00:00Z\","
	"\"ok\":true,\"d\":\"1970-01-02\",\"dec\":\"0.01\",\"f\":0}\n";

static const int64_t T0 = 1795185015500000LL; /* 2026-11-20T14:30:15.5Z */

static double dv(const floe_column *c, int r)
{
	return ((const double *)c->values)[r];
}

static int64_t lv(const floe_column *c, int r)
{
	return ((const int64_t *)c->values)[r];
}

static int32_t iv(const floe_column *c, int r)
{
	return ((const int32_t *)c->values)[r];
}

static bool isnull(const floe_column *c, int r)
{
	return !floe_column_is_valid(c, r);
}

/* 1 TRUE, 0 FALSE, -1 NULL */
static int bv(const floe_column *c, int r)
{
	return isnull(c, r) ? -1 : ((const uint8_t *)c->values)[r] != 0;
}

static bool str_is(const floe_column *c, int r, const char *want)
{
	if (isnull(c, r))
		return false;
	size_t n = (size_t)(c->offsets[r + 1] - c->offsets[r]);
	return n == strlen(want) && memcmp(c->data + c->offsets[r], want, n) == 0;
}

TEST(expr_types_inferred)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	static const struct {
		const char *text;
		floe_type_id want;
	} cases[] = {
		{ "42", FLOE_TYPE_LONG }, { "2.5", FLOE_TYPE_DOUBLE }, { "1e-3", FLOE_TYPE_DOUBLE },
		{ "'x'", FLOE_TYPE_STRING }, { "true", FLOE_TYPE_BOOLEAN }, { "NULL", FLOE_TYPE_STRING },
		{ "TIMESTAMP '2026-11-20T14:30:00Z'", FLOE_TYPE_TIMESTAMPTZ },
		{ "date '2026-11-20'", FLOE_TYPE_DATE }, { "INTERVAL '5 minutes'", FLOE_TYPE_LONG },
		{ "n", FLOE_TYPE_INT }, { "n + 1", FLOE_TYPE_LONG }, { "-n", FLOE_TYPE_LONG },
		{ "dec", FLOE_TYPE_DECIMAL }, { "dec * 2", FLOE_TYPE_DOUBLE },
		{ "f", FLOE_TYPE_FLOAT }, { "f + 1", FLOE_TYPE_DOUBLE }, { "vol / 2", FLOE_TYPE_DOUBLE },
		{ "vol % 2", FLOE_TYPE_LONG }, { "vol * n", FLOE_TYPE_LONG },
		{ "price + vol", FLOE_TYPE_DOUBLE }, { "ts - ts", FLOE_TYPE_LONG },
		{ "ts + INTERVAL '1 hour'", FLOE_TYPE_TIMESTAMPTZ },
		{ "INTERVAL '1 hour' + ts", FLOE_TYPE_TIMESTAMPTZ }, { "d + 1", FLOE_TYPE_DATE },
		{ "d - d", FLOE_TYPE_LONG }, { "d + INTERVAL '1h'", FLOE_TYPE_TIMESTAMP },
		{ "vol > 1", FLOE_TYPE_BOOLEAN }, { "sym || vol", FLOE_TYPE_STRING },
		{ "CASE WHEN ok THEN 1 ELSE 2.5 END", FLOE_TYPE_DOUBLE },
		{ "CASE WHEN ok THEN n END", FLOE_TYPE_LONG },
		{ "CASE WHEN ok THEN NULL ELSE d END", FLOE_TYPE_DATE },
		{ "coalesce(n, vol)", FLOE_TYPE_LONG }, { "coalesce(n, 1.5)", FLOE_TYPE_DOUBLE },
		{ "coalesce(ts, '2026-01-01')", FLOE_TYPE_TIMESTAMPTZ },
		{ "greatest(d, ts)", FLOE_TYPE_TIMESTAMPTZ }, { "nullif(n, 0)", FLOE_TYPE_LONG },
		{ "if(ok, 'a', sym)", FLOE_TYPE_STRING }, { "length(sym)", FLOE_TYPE_LONG },
		{ "contains(sym, 'a')", FLOE_TYPE_BOOLEAN }, { "abs(n)", FLOE_TYPE_LONG },
		{ "abs(dec)", FLOE_TYPE_DOUBLE }, { "round(vol)", FLOE_TYPE_LONG },
		{ "round(price, 1)", FLOE_TYPE_DOUBLE }, { "sign(price)", FLOE_TYPE_LONG },
		{ "ln(vol)", FLOE_TYPE_DOUBLE }, { "date_trunc('hour', ts)", FLOE_TYPE_TIMESTAMPTZ },
		{ "date_trunc('month', d)", FLOE_TYPE_TIMESTAMP },
		{ "date_part('year', d)", FLOE_TYPE_LONG },
		{ "window_start(ts, INTERVAL '1m')", FLOE_TYPE_TIMESTAMPTZ },
		{ "try_to_timestamp(sym)", FLOE_TYPE_TIMESTAMPTZ }, { "to_timestamp(price)", FLOE_TYPE_TIMESTAMPTZ },
		{ "to_date(ts)", FLOE_TYPE_DATE }, { "epoch_ms(ts)", FLOE_TYPE_LONG },
		{ "epoch_seconds(ts)", FLOE_TYPE_DOUBLE }, { "CAST(vol AS int)", FLOE_TYPE_INT },
		{ "CAST(price AS decimal(10,2))", FLOE_TYPE_DECIMAL },
		{ "try_cast(sym AS bigint)", FLOE_TYPE_LONG }, { "CAST(ts AS string)", FLOE_TYPE_STRING },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		floe_type_id got = type_of(&t, cases[i].text);
		if (got != cases[i].want)
			th_fail(__FILE__, __LINE__, "%s: type %d, want %d", cases[i].text, got,
			        cases[i].want);
		/* evaluation gives that type too */
		floe_column c;
		if (!ev(&t, cases[i].text, &c))
			th_fail(__FILE__, __LINE__, "%s does not evaluate", cases[i].text);
	}
	floe_expr *e;
	floe_error err;
	REQUIRE_OK(floe_expr_parse(&e, "CAST(price AS decimal(12,3))", t.a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e, t.s, 0, &err), &err);
	CHECK(floe_expr_type(e).precision == 12 && floe_expr_type(e).scale == 3);
	CHECK_EQ_STR(floe_expr_text(e), "CAST(price AS decimal(12,3))");
	tb_free(&t);
}

TEST(expr_arithmetic_and_overflow)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	EV("price * vol");
	CHECK(dv(&c, 0) == 52.5 && dv(&c, 1) == 0 && isnull(&c, 2) && dv(&c, 3) == 14);
	EV("vol + n * 2");
	CHECK(lv(&c, 0) == 11 && lv(&c, 1) == -14 && isnull(&c, 2) && lv(&c, 3) == 4294967290LL);
	EV("vol / 2"); /* '/' is always a double */
	CHECK(dv(&c, 0) == 2.5 && dv(&c, 3) == -2);
	EV("price / vol"); /* by zero: NULL */
	CHECK(dv(&c, 0) == 2.1 && isnull(&c, 1) && isnull(&c, 2));
	EV("vol % 0");
	CHECK(isnull(&c, 0) && isnull(&c, 1) && c.null_count == 4);
	EV("price % 0");
	CHECK(isnull(&c, 0) && c.null_count == 4);
	EV("n % 2");
	CHECK(lv(&c, 0) == 1 && lv(&c, 1) == -1); /* sign of the dividend */
	EV("price % 4");
	CHECK(dv(&c, 0) == 2.5 && dv(&c, 3) == -3.5);
	EV("(-9223372036854775807 - 1) % -1");
	CHECK(lv(&c, 0) == 0);
	EV("-price + 1");
	CHECK(dv(&c, 0) == -9.5 && dv(&c, 3) == 4.5);
	EV("- -vol");
	CHECK(lv(&c, 0) == 5 && lv(&c, 3) == -4);
	EV("1e-3 * 2");
	CHECK(dv(&c, 0) == 0.002);
	EV("dec * 2"); /* scale applied */
	CHECK(dv(&c, 0) == 5 && dv(&c, 1) == -5 && dv(&c, 3) == 0.02);
	EV("f * 2");
	CHECK(dv(&c, 1) == -0.5);
	EV("1 + 2 * 3 - 4 / 2");
	CHECK(dv(&c, 0) == 5);
	EV("(1 + 2) * 3");
	CHECK(lv(&c, 0) == 9);
	EV("2 * 3 % 4");
	CHECK(lv(&c, 0) == 2); /* left to right */
	EV("n + NULL");
	CHECK(c.null_count == 4);
	/* overflow: an error naming the row */
	ERR_HAS("9223372036854775807 + vol", "row 0", "overflows a long", "CAST");
	ERR_HAS("vol * 4611686018427387904", "row 0");
	ERR_HAS("-(vol * 0 - 9223372036854775807 - 1)", "row 0", "-(-9223372036854775808) overflows");
	ERR_HAS("abs(vol * 0 - 9223372036854775807 - 1)", "row 0", "abs(");
	/* timestamps and dates */
	EV("ts + INTERVAL '30 seconds'");
	CHECK(lv(&c, 1) == 0 && lv(&c, 0) == T0 + 30000000);
	EV("ts - INTERVAL '1 day'");
	CHECK(lv(&c, 3) == -86400000000LL);
	EV("ts - TIMESTAMP '1970-01-01T00:00:00Z'");
	CHECK(lv(&c, 0) == T0 && lv(&c, 1) == -30000000);
	EV("d + 1");
	CHECK(iv(&c, 1) == 0 && iv(&c, 0) == 20778);
	EV("d - DATE '1970-01-01'");
	CHECK(lv(&c, 0) == 20777 && lv(&c, 1) == -1);
	EV("d + INTERVAL '1 hour'");
	CHECK(lv(&c, 1) == -82800000000LL);
	ERR_HAS("d + 2147483647", "row 0", "date is out of range");
	tb_free(&t);
}

/* A column compared with a literal (a path of its own, with no column of
 * the literal) answers as the same comparison with a column holding the
 * literal in every row: both orders, every operator, prefixes, empty
 * strings, NULLs, NaN, ints against longs and doubles. */
TEST(expr_literal_comparisons_match_column_comparisons)
{
	tb t;
	REQUIRE(mk(&t, "s string, l long, d double, i int, ns string, nl long, nd double",
	           "{\"s\":\"BUY\",\"l\":3,\"d\":2.5,\"i\":3}\n"
	           "{\"s\":\"BU\",\"l\":-5,\"d\":-1.5,\"i\":-7}\n"
	           "{\"s\":\"BUYS\",\"l\":0,\"d\":0,\"i\":0}\n"
	           "{\"s\":\"\",\"l\":9007199254740993,\"d\":3,\"i\":2}\n"
	           "{\"s\":\"a\",\"d\":1}\n"
	           "{\"l\":4,\"d\":2.4999999999999996,\"i\":4}\n"
	           "{\"s\":\"SELL\",\"l\":3,\"d\":7,\"i\":3}\n"));
	((double *)t.b.cols[2].values)[6] = NAN;
	static const char *const cols[] = { "s", "s", "s", "l", "l", "l", "d", "d", "d", "d", "i", "i" };
	static const char *const lits[] = { "'BUY'", "''", "'BUYS'", "3", "-5", "2.5", "2.5", "3",
		"-1.5", "0", "3", "2.5" };
	static const char *const ops[] = { "=", "<>", "<", "<=", ">", ">=" };
	for (size_t k = 0; k < sizeof cols / sizeof *cols; k++) {
		const char *hold = cols[k][0] == 's' ? "ns" : strchr(lits[k], '.') ? "nd" : "nl";
		for (size_t o = 0; o < 6; o++)
			for (int flip = 0; flip < 2; flip++) {
				char fast[128], slow[128];
				snprintf(fast, sizeof fast, flip ? "%s %s %s" : "%3$s %2$s %1$s", lits[k],
				         ops[o], cols[k]);
				snprintf(slow, sizeof slow, flip ? "coalesce(%4$s, %1$s) %2$s %3$s" :
				         "%3$s %2$s coalesce(%4$s, %1$s)", lits[k], ops[o], cols[k], hold);
				floe_column a, b;
				REQUIRE(ev(&t, fast, &a) && ev(&t, slow, &b));
				for (int r = 0; r < 7; r++)
					if (bv(&a, r) != bv(&b, r))
						th_fail(__FILE__, __LINE__, "row %d: %s gives %d, %s gives %d", r,
						        fast, bv(&a, r), slow, bv(&b, r));
			}
	}
	tb_free(&t);
}

/* A string column without NULLs against a literal of up to 8 bytes is
 * compared a word at a time: the same answers as the general comparison,
 * for every length 0-9 and values that differ in one byte only. */
TEST(expr_short_string_equality_matches_general_path)
{
	static const char *const vals[] = { "", "A", "B", "BUY", "BUX", "XUY", "BXY", "SELL", "SELF",
		"NYSE", "NASDAQ", "NASDAQ!!", "NASDAQ!?", "?ASDAQ!!", "NASDAQ!!!", "BU", "h\xc3\xa9" };
	size_t nv = sizeof vals / sizeof *vals;
	char text[2048];
	size_t at = 0;
	for (size_t i = 0; i < nv; i++)
		at += (size_t)snprintf(text + at, sizeof text - at, "{\"s\":\"%s\"}\n", vals[i]);
	tb t;
	REQUIRE(mk(&t, "s string not null, ns string", text));
	for (size_t k = 0; k < nv; k++)
		for (int ne = 0; ne < 2; ne++) {
			char fast[128], slow[128];
			snprintf(fast, sizeof fast, "s %s '%s'", ne ? "<>" : "=", vals[k]);
			snprintf(slow, sizeof slow, "s %s coalesce(ns, '%s')", ne ? "<>" : "=", vals[k]);
			floe_column a, b;
			REQUIRE(ev(&t, fast, &a) && ev(&t, slow, &b));
			CHECK_EQ_INT(a.null_count, 0);
			for (size_t r = 0; r < nv; r++) {
				int want = (strcmp(vals[r], vals[k]) == 0) != ne;
				if (bv(&a, (int)r) != want || bv(&b, (int)r) != want)
					th_fail(__FILE__, __LINE__, "row %zu ('%s'): %s gives %d, %s gives %d",
					        r, vals[r], fast, bv(&a, (int)r), slow, bv(&b, (int)r));
			}
		}
	tb_free(&t);
}

/* x IN (string literals) takes one pass over x; the same list written as
 * an OR of equalities on separate column nodes takes the general path:
 * both agree on every row, NULLs, empty strings and prefixes included,
 * also negated and under an AND that evaluates it for some rows only. */
TEST(expr_in_string_list_matches_or_of_equalities)
{
	tb t;
	REQUIRE(mk(&t, "s string, g long",
	           "{\"s\":\"BUY\",\"g\":1}\n{\"s\":\"BU\",\"g\":0}\n{\"s\":\"\",\"g\":1}\n"
	           "{\"g\":1}\n{\"s\":\"SELL\",\"g\":0}\n{\"s\":\"BUYS\",\"g\":1}\n"
	           "{\"s\":\"NYSE\",\"g\":1}\n{\"s\":\"h\xc3\xa9\",\"g\":1}\n"
	           "{\"s\":\"SELF\",\"g\":0}\n"));
	static const char *const fast[] = {
		"s IN ('BUY', 'SELL')",
		"s IN ('', 'BU', 'h\xc3\xa9')",
		"s NOT IN ('BUY', 'NYSE')",
		"g = 1 AND s IN ('BUY', 'BUYS', '')",
		"g = 0 OR s IN ('NYSE', 'SELL')",
		"s IN ('BUY', NULL)",
	};
	static const char *const slow[] = {
		"s = 'BUY' OR s = 'SELL'",
		"s = '' OR s = 'BU' OR s = 'h\xc3\xa9'",
		"NOT (s = 'BUY' OR s = 'NYSE')",
		"g = 1 AND (s = 'BUY' OR s = 'BUYS' OR s = '')",
		"g = 0 OR (s = 'NYSE' OR s = 'SELL')",
		"s = 'BUY' OR s = NULL",
	};
	for (size_t k = 0; k < sizeof fast / sizeof *fast; k++) {
		floe_column a, b;
		REQUIRE(ev(&t, fast[k], &a) && ev(&t, slow[k], &b));
		for (int r = 0; r < 9; r++)
			if (bv(&a, r) != bv(&b, r))
				th_fail(__FILE__, __LINE__, "row %d: %s gives %d, %s gives %d", r, fast[k],
				        bv(&a, r), slow[k], bv(&b, r));
	}
	floe_column c;
	REQUIRE(ev(&t, "s IN ('BUY', 'SELL')", &c));
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0 && bv(&c, 3) == -1 && bv(&c, 4) == 1 && bv(&c, 5) == 0);
	/* more literals than one pass takes: the general path, same answers */
	char *list = malloc(4000), *ors = malloc(8000);
	REQUIRE(list && ors);
	size_t at = (size_t)snprintf(list, 4000, "s IN ("), ot = 0;
	for (int i = 0; i < 80; i++) {
		at += (size_t)snprintf(list + at, 4000 - at, "'v%d', ", i);
		ot += (size_t)snprintf(ors + ot, 8000 - ot, "s = 'v%d' OR ", i);
	}
	snprintf(list + at, 4000 - at, "'NYSE')");
	snprintf(ors + ot, 8000 - ot, "s = 'NYSE'");
	floe_column a, b;
	REQUIRE(ev(&t, list, &a) && ev(&t, ors, &b));
	for (int r = 0; r < 9; r++)
		CHECK_EQ_INT(bv(&a, r), bv(&b, r));
	CHECK(bv(&a, 6) == 1 && bv(&a, 0) == 0);
	free(list);
	free(ors);
	tb_free(&t);
}

TEST(expr_comparisons_across_types)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	EV("price > vol");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 1 && bv(&c, 2) == -1 && bv(&c, 3) == 1);
	EV("n = 3");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0);
	EV("dec = 2.5 AND dec <> 2.51 AND dec >= -2.5");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0);
	EV("vol == 5 OR vol != 5");
	CHECK(bv(&c, 0) == 1 && bv(&c, 2) == -1);
	EV("sym < 'b'");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0 && bv(&c, 3) == 0);
	EV("sym <= 'x_%y' AND sym >= 'x_%y'");
	CHECK(bv(&c, 3) == 1);
	/* a string literal against a time is read as one, offsets converted */
	EV("ts = '2026-11-20T09:30:15.5-05:00'");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0);
	EV("ts >= '2026-11-20' AND ts < '2026-11-20T14:31:00Z'");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0);
	EV("'1970-01-01' < ts");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0 && bv(&c, 3) == 0);
	EV("d < ts"); /* a date is its midnight */
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 1 && bv(&c, 3) == 0);
	EV("d = DATE '1970-01-02'");
	CHECK(bv(&c, 3) == 1 && bv(&c, 0) == 0);
	EV("d BETWEEN '1969-12-31' AND '1970-01-01'");
	CHECK(bv(&c, 1) == 1 && bv(&c, 3) == 0);
	EV("ok = TRUE");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0);
	EV("price = NULL");
	CHECK(c.null_count == 4);
	EV("0.0 / 0.0 IS NULL"); /* by zero: NULL, not NaN */
	CHECK(bv(&c, 0) == 1);
	EV("sqrt(price) > 1"); /* NULL for negatives */
	CHECK(bv(&c, 3) == -1);
	ERR_HAS("sym = 3", "at character 5", "cannot compare a string with a long");
	ERR_HAS("ts > 3", "timestamptz", "long");
	ERR_HAS("ok < 1", "boolean");
	ERR_HAS("ts > 'yesterday'", "'yesterday' is not a timestamp");
	tb_free(&t);
}

TEST(expr_three_valued_logic)
{
	/* every pair of TRUE, FALSE, NULL */
	tb t;
	REQUIRE(mk(&t, "a boolean, b boolean",
	           "{\"a\":true,\"b\":true}\n{\"a\":true,\"b\":false}\n{\"a\":true,\"b\":null}\n"
	           "{\"a\":false,\"b\":true}\n{\"a\":false,\"b\":false}\n{\"a\":false,\"b\":null}\n"
	           "{\"a\":null,\"b\":true}\n{\"a\":null,\"b\":false}\n{\"a\":null,\"b\":null}\n"));
	floe_column c;
	static const int and_[9] = { 1, 0, -1, 0, 0, 0, -1, 0, -1 };
	static const int or_[9] = { 1, 1, 1, 1, 0, -1, 1, -1, -1 };
	static const int not_a[9] = { 0, 0, 0, 1, 1, 1, -1, -1, -1 };
	EV("a AND b");
	for (int r = 0; r < 9; r++)
		CHECK_EQ_INT(bv(&c, r), and_[r]);
	EV("a OR b");
	for (int r = 0; r < 9; r++)
		CHECK_EQ_INT(bv(&c, r), or_[r]);
	EV("NOT a");
	for (int r = 0; r < 9; r++)
		CHECK_EQ_INT(bv(&c, r), not_a[r]);
	EV("b and a"); /* commutes */
	for (int r = 0; r < 9; r++)
		CHECK_EQ_INT(bv(&c, r), and_[r]);
	EV("b or a");
	for (int r = 0; r < 9; r++)
		CHECK_EQ_INT(bv(&c, r), or_[r]);
	EV("NOT (a AND b) = (NOT a OR NOT b)"); /* De Morgan, NULL where either is */
	CHECK(bv(&c, 0) == 1 && bv(&c, 4) == 1 && bv(&c, 2) == -1);
	EV("a AND NULL");
	CHECK(bv(&c, 0) == -1 && bv(&c, 3) == 0);
	EV("a OR NULL");
	CHECK(bv(&c, 0) == 1 && bv(&c, 3) == -1);
	/* precedence: NOT binds tighter than AND, AND tighter than OR */
	EV("NOT a AND b OR a");
	CHECK(bv(&c, 3) == 1 && bv(&c, 4) == 0 && bv(&c, 0) == 1);
	EV("a IS NULL OR b IS NOT NULL");
	CHECK(bv(&c, 2) == 0 && bv(&c, 6) == 1 && bv(&c, 8) == 1);
	uint8_t keep[9];
	floe_expr *e;
	floe_error err;
	REQUIRE_OK(floe_expr_parse(&e, "a OR b", t.a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e, t.s, 0, &err), &err);
	REQUIRE_OK(floe_expr_eval_filter(e, &t.b, NULL, keep, t.a, &err), &err);
	for (int r = 0; r < 9; r++)
		CHECK_EQ_INT(keep[r], or_[r] == 1); /* NULL is not kept */
	REQUIRE_OK(floe_expr_parse(&e, "1 + 1", t.a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e, t.s, 0, &err), &err);
	CHECK(floe_expr_eval_filter(e, &t.b, NULL, keep, t.a, &err) == FLOE_EINVALID &&
	      strstr(err.msg, "not a condition"));
	ERR_HAS("a AND 1", "AND/OR join conditions");
	ERR_HAS("NOT 1", "NOT needs a condition");
	tb_free(&t);
}

TEST(expr_in_between_is_null)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	EV("vol IN (0, 1, 5)");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 1 && bv(&c, 2) == -1 && bv(&c, 3) == 0);
	EV("vol NOT IN (0, 1)");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0 && bv(&c, 2) == -1);
	EV("vol IN (5, NULL)"); /* SQL: TRUE when found, else NULL */
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == -1);
	EV("vol NOT IN (1, NULL)");
	CHECK(bv(&c, 0) == -1);
	EV("sym IN ('héllo', 'x_%y')");
	CHECK(bv(&c, 0) == 0 && bv(&c, 1) == 1 && bv(&c, 3) == 1);
	EV("price BETWEEN 2 AND 10.5");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 1 && bv(&c, 2) == -1 && bv(&c, 3) == 0);
	EV("price NOT BETWEEN 2 AND 10");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0 && bv(&c, 3) == 1);
	EV("price BETWEEN 0 AND 100 AND vol > 0"); /* the AND of BETWEEN is taken first */
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0);
	EV("ts BETWEEN '2026-01-01' AND '2027-01-01'");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0);
	EV("sym IS NULL");
	CHECK(bv(&c, 2) == 1 && bv(&c, 0) == 0 && c.null_count == 0);
	EV("price * 2 IS NOT NULL");
	CHECK(bv(&c, 2) == 0 && bv(&c, 0) == 1);
	EV("NULL IS NULL");
	CHECK(bv(&c, 0) == 1);
	/* a long list stays shallow */
	char *list = malloc(20000);
	REQUIRE(list);
	size_t at = (size_t)snprintf(list, 20000, "vol IN (");
	for (int i = 100; i < 2100; i++)
		at += (size_t)snprintf(list + at, 20000 - at, "%d, ", i);
	snprintf(list + at, 20000 - at, "-4)");
	EV(list);
	CHECK(bv(&c, 3) == 1 && bv(&c, 0) == 0);
	free(list);
	tb_free(&t);
}

TEST(expr_like_patterns)
{
	tb t;
	REQUIRE(mk(&t, "s string",
	           "{\"s\":\"abc\"}\n{\"s\":\"h\xc3\xa9llo\"}\n{\"s\":\"\"}\n{\"s\":null}\n"
	           "{\"s\":\"aXbXc\"}\n{\"s\":\"100%\"}\n"));
	floe_column c;
	static const struct {
		const char *pat;
		int want[6];
	} cases[] = {
		{ "'abc'", { 1, 0, 0, -1, 0, 0 } },
		{ "'a%'", { 1, 0, 0, -1, 1, 0 } },
		{ "'%c'", { 1, 0, 0, -1, 1, 0 } },
		{ "'%'", { 1, 1, 1, -1, 1, 1 } },
		{ "''", { 0, 0, 1, -1, 0, 0 } },
		{ "'_'", { 0, 0, 0, -1, 0, 0 } },
		{ "'___'", { 1, 0, 0, -1, 0, 0 } },
		{ "'h_llo'", { 0, 1, 0, -1, 0, 0 } }, /* _ is one character, é two bytes */
		{ "'_____'", { 0, 1, 0, -1, 1, 0 } },
		{ "'a%b%c'", { 1, 0, 0, -1, 1, 0 } },
		{ "'%X%X%'", { 0, 0, 0, -1, 1, 0 } },
		{ "'%%%'", { 1, 1, 1, -1, 1, 1 } },
		{ "'%0%'", { 0, 0, 0, -1, 0, 1 } },
		{ "'%b'", { 0, 0, 0, -1, 0, 0 } },
		{ "'ABC'", { 0, 0, 0, -1, 0, 0 } }, /* case matters */
		{ "NULL", { -1, -1, -1, -1, -1, -1 } },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char text[64];
		snprintf(text, sizeof text, "s LIKE %s", cases[i].pat);
		EV(text);
		for (int r = 0; r < 6; r++)
			if (bv(&c, r) != cases[i].want[r])
				th_fail(__FILE__, __LINE__, "%s row %d: %d, want %d", text, r, bv(&c, r),
				        cases[i].want[r]);
	}
	EV("s NOT LIKE 'a%'");
	CHECK(bv(&c, 0) == 0 && bv(&c, 1) == 1 && bv(&c, 3) == -1);
	EV("s LIKE s");
	CHECK(bv(&c, 0) == 1 && bv(&c, 2) == 1);
	ERR_HAS("s LIKE 3", "LIKE matches strings");
	tb_free(&t);
}

/* upper() and lower() map ASCII as the C locale's toupper and tolower do,
 * every other byte of ASCII unchanged; upper, lower and trim write their
 * rows one after another with NULL and guarded-out rows between them. */
TEST(expr_case_mapping_ascii_and_row_layout)
{
	char all[96 + 1], up[96 + 1], low[96 + 1];
	for (int i = 0; i < 95; i++) {
		all[i] = (char)(32 + i);
		up[i] = (char)toupper(32 + i);
		low[i] = (char)tolower(32 + i);
	}
	all[95] = up[95] = low[95] = 0;
	tb t;
	REQUIRE(mk(&t, "s string, k long",
	           "{\"s\":\"  ab C \",\"k\":1}\n{\"s\":null,\"k\":2}\n{\"s\":\"x\",\"k\":3}\n"
	           "{\"s\":\"\",\"k\":4}\n{\"s\":\" Zz9\\t\",\"k\":5}\n"));
	floe_column c;
	char text[256];
	/* every printable ASCII character but the quote, which the literal doubles */
	snprintf(text, sizeof text, "upper('%.7s''%s')", all, all + 8);
	EV(text);
	char want[128];
	snprintf(want, sizeof want, "%.7s'%s", up, up + 8);
	CHECK(str_is(&c, 0, want));
	snprintf(text, sizeof text, "lower('%.7s''%s')", all, all + 8);
	EV(text);
	snprintf(want, sizeof want, "%.7s'%s", low, low + 8);
	CHECK(str_is(&c, 0, want));
	EV("upper(trim(s)) || '|' || lower(s)");
	CHECK(str_is(&c, 0, "AB C|  ab c ") && isnull(&c, 1) && str_is(&c, 2, "X|x") &&
	      str_is(&c, 3, "|") && str_is(&c, 4, "ZZ9| zz9\t"));
	EV("CASE WHEN k % 2 = 1 THEN upper(rtrim(s)) ELSE lower(ltrim(s)) END");
	CHECK(str_is(&c, 0, "  AB C") && isnull(&c, 1) && str_is(&c, 2, "X") && str_is(&c, 3, "") &&
	      str_is(&c, 4, " ZZ9"));
	tb_free(&t);
}

/* upper/lower/trim of a column without NULLs that they would not change
 * give its values back without copying them; one value to change anywhere
 * (first, last, one end only, a non-ASCII letter) and every value is
 * computed. */
TEST(expr_case_and_trim_of_clean_columns)
{
	static const struct {
		const char *rows[3];
		const char *expr;
		const char *want[3];
		bool shared;
	} cases[] = {
		{ { "AAPL", "", "BRK.B" }, "upper(s)", { "AAPL", "", "BRK.B" }, true },
		{ { "AAPL", "", "BRK.B" }, "upper(trim(s))", { "AAPL", "", "BRK.B" }, true },
		{ { "aapl", "", "x y" }, "lower(s)", { "aapl", "", "x y" }, true },
		{ { "AAPL", "MSFT", "tsla" }, "upper(s)", { "AAPL", "MSFT", "TSLA" }, false },
		{ { "aapl", "MSFT", "TSLA" }, "upper(s)", { "AAPL", "MSFT", "TSLA" }, false },
		{ { "AAPL", "MSFT", "TSLa" }, "lower(s)", { "aapl", "msft", "tsla" }, false },
		{ { "A", "B ", "C" }, "trim(s)", { "A", "B", "C" }, false },
		{ { " A", "B", "C" }, "rtrim(s)", { " A", "B", "C" }, true },
		{ { " A", "B", "C" }, "ltrim(s)", { "A", "B", "C" }, false },
		{ { "A", "B", "C\\t" }, "ltrim(s)", { "A", "B", "C\t" }, true },
		{ { "A", "B", "C\\t" }, "rtrim(s)", { "A", "B", "C" }, false },
		{ { "A", "\\u00e9", "C" }, "upper(s)", { "A", "\xc3\x89", "C" }, false },
	};
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		char text[256];
		snprintf(text, sizeof text, "{\"s\":\"%s\"}\n{\"s\":\"%s\"}\n{\"s\":\"%s\"}\n",
		         cases[k].rows[0], cases[k].rows[1], cases[k].rows[2]);
		tb t;
		REQUIRE(mk(&t, "s string not null", text));
		floe_column c;
		REQUIRE(ev(&t, cases[k].expr, &c));
		CHECK_EQ_INT(c.null_count, 0);
		for (int r = 0; r < 3; r++)
			if (!str_is(&c, r, cases[k].want[r]))
				th_fail(__FILE__, __LINE__, "case %zu, %s: row %d is not '%s'", k,
				        cases[k].expr, r, cases[k].want[r]);
		if ((c.data == t.b.cols[0].data) != cases[k].shared)
			th_fail(__FILE__, __LINE__, "case %zu, %s: values %s", k, cases[k].expr,
			        cases[k].shared ? "copied" : "shared");
		tb_free(&t);
	}
}

TEST(expr_string_functions_utf8)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	EV("upper(trim(sym))");
	CHECK(str_is(&c, 0, "AAPL") && str_is(&c, 1, "H\xc3\x89LLO") && isnull(&c, 2));
	EV("lower('ÀÉÎ ΑΒΓ ДЖЯ Ѐ')");
	CHECK(str_is(&c, 0, "àéî αβγ джя ѐ"));
	EV("upper('straße ÿ ×')"); /* ß and ÿ have no two-byte capital; × is no letter */
	CHECK(str_is(&c, 0, "STRAßE ÿ ×"));
	EV("'[' || ltrim(sym) || '|' || rtrim(sym) || ']'");
	CHECK(str_is(&c, 0, "[aapl | aapl]"));
	EV("length(sym)");
	CHECK(lv(&c, 0) == 6 && lv(&c, 1) == 5 && isnull(&c, 2)); /* characters, not bytes */
	EV("length('')");
	CHECK(lv(&c, 0) == 0);
	EV("substr(sym, 2, 3)");
	CHECK(str_is(&c, 1, "éll"));
	EV("substring(sym, -2)");
	CHECK(str_is(&c, 1, "lo"));
	EV("substr(sym, 0, 2)"); /* position 0 is before the first character */
	CHECK(str_is(&c, 1, "h"));
	EV("substr(sym, 4)");
	CHECK(str_is(&c, 1, "lo"));
	EV("substr(sym, 10)");
	CHECK(str_is(&c, 1, ""));
	EV("substr(sym, 2, 0) || substr(sym, 2, -1)");
	CHECK(str_is(&c, 1, ""));
	EV("substr(sym, 1, 9223372036854775807)");
	CHECK(str_is(&c, 1, "héllo"));
	EV("substr(sym, -100, 2)");
	CHECK(str_is(&c, 1, "h"));
	EV("substr(sym, n)"); /* int positions */
	CHECK(str_is(&c, 0, "apl "));
	EV("replace(sym, 'l', 'LL') || '!'");
	CHECK(str_is(&c, 1, "héLLLLo!") && isnull(&c, 2));
	EV("replace(sym, '', 'z')");
	CHECK(str_is(&c, 1, "héllo"));
	EV("replace('aaa', 'aa', 'b')");
	CHECK(str_is(&c, 0, "ba"));
	EV("concat(sym, '-', vol, NULL, ok)");
	CHECK(str_is(&c, 1, "héllo-0false") && str_is(&c, 2, "-") && c.null_count == 0);
	EV("sym || vol"); /* NULL in, NULL out */
	CHECK(str_is(&c, 1, "héllo0") && isnull(&c, 2));
	EV("'p=' || price || ' d=' || d || ' ok=' || ok");
	CHECK(str_is(&c, 0, "p=10.5 d=2026-11-20 ok=true"));
	EV("starts_with(sym, 'hé') AND NOT contains(sym, 'x') AND ends_with(sym, 'llo')");
	CHECK(bv(&c, 1) == 1 && bv(&c, 0) == 0 && bv(&c, 2) == -1);
	EV("contains(sym, '_%') AND starts_with(sym, '') AND ends_with(sym, '')");
	CHECK(bv(&c, 3) == 1);
	EV("contains(sym, 'aapl  ')");
	CHECK(bv(&c, 0) == 0);
	EV("'it''s'");
	CHECK(str_is(&c, 0, "it's"));
	EV("\"sym\"");
	CHECK(str_is(&c, 1, "héllo"));
	ERR_HAS("upper(price)", "needs a string");
	ERR_HAS("substr(sym, 1.5)", "must be an integer");
	ERR_HAS("replace(sym, 1, 'x')", "must be a string");
	tb_free(&t);
}

/* Row 2 is all NULL: every strict operator and function gives NULL there,
 * the others their documented value. */
TEST(expr_null_in_null_out)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	static const char *const strict[] = {
		"price + 1", "vol - 1", "vol * 2", "price / 2", "vol % 2", "-price", "NOT ok",
		"price = 1", "sym <> 'a'", "ts < '2026-01-01'", "sym LIKE '%'", "sym || 'x'",
		"vol IN (1, 2)", "vol BETWEEN 1 AND 2", "CAST(vol AS string)", "TRY_CAST(sym AS long)",
		"upper(sym)", "lower(sym)", "trim(sym)", "ltrim(sym)", "rtrim(sym)", "length(sym)",
		"substr(sym, 1)", "substr('abc', n)", "replace(sym, 'a', 'b')", "replace('a', sym, 'b')",
		"starts_with(sym, 'a')", "ends_with('a', sym)", "contains(sym, 'a')", "abs(vol)",
		"round(price)", "round(1.5, n)", "floor(price)", "ceil(price)", "sqrt(price)", "ln(price)",
		"log10(price)", "exp(price)", "power(price, 2)", "power(2, price)", "sign(price)",
		"date_trunc('day', ts)", "window_start(ts, '1m')", "window_end(ts, '1m')",
		"if(sym IS NULL, to_timestamp(sym), NULL)", "try_to_timestamp(sym)", "to_timestamp(price)",
		"if(sym IS NULL, to_date(sym), NULL)",
		"epoch_us(ts)", "epoch_ms(ts)", "epoch_seconds(ts)", "date_part('year', d)",
		"nullif(vol, 1)", "greatest(vol, n)", "least(price)", "coalesce(sym, NULL)",
		"if(ok, vol, n)", "CASE WHEN ok THEN 1 END", "ts + INTERVAL '1s'", "d + 1", "ts - ts",
		"CAST(d AS timestamp)", "CAST(ts AS date)", "CAST(dec AS long)",
	};
	floe_column c;
	for (size_t i = 0; i < sizeof strict / sizeof *strict; i++) {
		REQUIRE(ev(&t, strict[i], &c));
		if (!isnull(&c, 2))
			th_fail(__FILE__, __LINE__, "%s is not NULL on a NULL row", strict[i]);
		if (c.null_count < 1)
			th_fail(__FILE__, __LINE__, "%s: null_count %lld", strict[i],
			        (long long)c.null_count);
	}
	static const char *const never_null[] = { "sym IS NULL", "vol IS NOT NULL", "concat(sym, vol)",
		"coalesce(sym, 'x')", "FALSE AND ok", "TRUE OR ok", "if(ok, 1, 2)",
		"CASE WHEN ok THEN 1 ELSE 2 END", "greatest(vol, 3)" };
	for (size_t i = 0; i < sizeof never_null / sizeof *never_null; i++) {
		REQUIRE(ev(&t, never_null[i], &c));
		if (isnull(&c, 2))
			th_fail(__FILE__, __LINE__, "%s is NULL on a NULL row", never_null[i]);
	}
	tb_free(&t);
}

/* A result's null_count is its NULL rows, counted over whole words of the
 * validity bitmap and the rows past the last whole byte alike (batches of
 * 1 to 148 rows). */
TEST(expr_null_counts_match_the_rows)
{
	for (int n = 1; n <= 150; n += 7) {
		char *text = malloc((size_t)n * 32 + 1);
		REQUIRE(text);
		size_t at = 0;
		int nulls = 0;
		for (int r = 0; r < n; r++) {
			bool null = r % 3 == 0 || r % 11 == 5;
			nulls += null;
			at += null ? (size_t)sprintf(text + at, "{\"v\":null}\n")
			           : (size_t)sprintf(text + at, "{\"v\":%d}\n", r);
		}
		tb t;
		REQUIRE(mk(&t, "v long", text));
		/* NULL where v is, but for the CASE (NULL where v <= 4 too) */
		static const char *const exprs[] = { "v + 1", "v > 4", "-v",
			"CASE WHEN v IS NOT NULL THEN v ELSE NULL END",
			"CASE WHEN v > 4 THEN v ELSE NULL END" };
		for (size_t k = 0; k < sizeof exprs / sizeof *exprs; k++) {
			floe_column c;
			REQUIRE(ev(&t, exprs[k], &c));
			int seen = 0;
			for (int r = 0; r < n; r++)
				seen += isnull(&c, r);
			if (k < 4)
				CHECK_EQ_INT(seen, nulls);
			else
				CHECK(seen > nulls || n < 5);
			if (c.null_count != seen)
				th_fail(__FILE__, __LINE__, "%s over %d rows: null_count %lld, %d NULL rows",
				        exprs[k], n, (long long)c.null_count, seen);
		}
		tb_free(&t);
		free(text);
	}
}

TEST(expr_case_and_conditionals)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	EV("CASE WHEN vol > 1 THEN 'big' WHEN vol = 0 THEN 'none' END");
	CHECK(str_is(&c, 0, "big") && str_is(&c, 1, "none") && isnull(&c, 2) && isnull(&c, 3));
	EV("case when vol > 1 then 'big' when vol >= 0 then 'small' else 'neg' end");
	CHECK(str_is(&c, 0, "big") && str_is(&c, 1, "small") && str_is(&c, 2, "neg") &&
	      str_is(&c, 3, "neg"));
	EV("CASE WHEN vol > 0 THEN 1 WHEN vol > -10 THEN 2 END"); /* the first TRUE wins */
	CHECK(lv(&c, 0) == 1 && lv(&c, 3) == 2);
	EV("CASE n WHEN 3 THEN 1 WHEN -7 THEN 2 ELSE 2.5 END");
	CHECK(dv(&c, 0) == 1 && dv(&c, 1) == 2 && dv(&c, 2) == 2.5 && dv(&c, 3) == 2.5);
	EV("CASE sym WHEN NULL THEN 'null' ELSE 'other' END"); /* = NULL is never TRUE */
	CHECK(str_is(&c, 2, "other"));
	EV("CASE WHEN ok THEN CASE WHEN vol > 3 THEN 'ok big' ELSE 'ok small' END ELSE 'no' END");
	CHECK(str_is(&c, 0, "ok big") && str_is(&c, 3, "ok small") && str_is(&c, 1, "no") &&
	      str_is(&c, 2, "no"));
	EV("CASE WHEN ok THEN d ELSE ts END"); /* date and timestamp meet as timestamps */
	CHECK(lv(&c, 0) == 20777 * 86400000000LL && lv(&c, 1) == -30000000);
	EV("CASE WHEN ok THEN NULL ELSE dec END");
	CHECK(c.type.id == FLOE_TYPE_DOUBLE && isnull(&c, 0) && dv(&c, 1) == -2.5);
	EV("coalesce(vol, n, 42)");
	CHECK(lv(&c, 2) == 42 && lv(&c, 0) == 5);
	EV("coalesce(NULL, sym, 'none')");
	CHECK(str_is(&c, 2, "none") && str_is(&c, 1, "héllo"));
	EV("coalesce(NULL, NULL)");
	CHECK(isnull(&c, 0));
	EV("coalesce(ts, '1999-01-01T00:00:00Z')");
	CHECK(lv(&c, 2) == 915148800000000LL);
	EV("nullif(vol, 0)");
	CHECK(isnull(&c, 1) && lv(&c, 0) == 5 && isnull(&c, 2));
	EV("nullif(n, 3.0)"); /* numbers compare across types */
	CHECK(isnull(&c, 0) && lv(&c, 1) == -7);
	EV("nullif(sym, 'héllo')");
	CHECK(isnull(&c, 1) && str_is(&c, 3, "x_%y"));
	EV("nullif(ts, '1970-01-01T00:00:00Z')");
	CHECK(isnull(&c, 3) && lv(&c, 1) == -30000000);
	EV("greatest(price, vol, 7)");
	CHECK(dv(&c, 0) == 10.5 && dv(&c, 1) == 7 && dv(&c, 2) == 7 && dv(&c, 3) == 7);
	EV("least(price, vol, NULL)"); /* NULLs ignored */
	CHECK(dv(&c, 0) == 5 && dv(&c, 3) == -4 && isnull(&c, 2));
	EV("greatest(d, DATE '1970-09-13')"); /* day 255 against day 1: not bytes */
	CHECK(iv(&c, 3) == 255 && iv(&c, 0) == 20777);
	EV("least(sym, 'b')");
	CHECK(str_is(&c, 0, " aapl ") && str_is(&c, 1, "b") && str_is(&c, 2, "b"));
	EV("greatest(ts, d)");
	CHECK(lv(&c, 1) == -30000000 && lv(&c, 3) == 86400000000LL);
	EV("if(ok, 'y', 'n')");
	CHECK(str_is(&c, 0, "y") && str_is(&c, 1, "n") && str_is(&c, 2, "n"));
	EV("if(vol > 0, vol, price)");
	CHECK(dv(&c, 0) == 5 && dv(&c, 1) == 2);
	ERR_HAS("CASE WHEN price THEN 1 END", "WHEN needs a condition");
	ERR_HAS("CASE WHEN ok THEN 1 ELSE 'x' END", "do not mix");
	ERR_HAS("coalesce(vol, sym)", "long and string do not mix");
	ERR_HAS("if(vol, 1, 2)", "needs a condition");
	ERR_HAS("nullif(vol, 'x')", "nullif() compares a long with a string");
	tb_free(&t);
}

/* A constant THEN or ELSE is evaluated once for every row it gives, and
 * CASE WHEN c THEN column ELSE constant END takes one pass: the same
 * column as a branch that computes the value per row (coalesce of an
 * all-NULL column and the constant), nested in a guarded branch too. */
TEST(expr_case_constant_branches_match_computed_branches)
{
	tb t;
	REQUIRE(mk(&t, "s string, v long, d double, ns string, nl long, nd double, nts timestamptz",
	           "{\"s\":\"BUY\",\"v\":5,\"d\":1.5}\n{\"s\":\"SELL\",\"v\":7,\"d\":-2}\n"
	           "{\"s\":null,\"v\":null,\"d\":null}\n{\"s\":\"BUY\",\"v\":-3,\"d\":0}\n"
	           "{\"s\":\"X\",\"v\":0,\"d\":4.25}\n"));
	/* %1$s: a constant; %2$s: the all-NULL column of its type */
	static const char *const forms[] = {
		"CASE WHEN s = 'BUY' THEN v ELSE %s END",
		"CASE WHEN s = 'SELL' THEN %s WHEN v > 0 THEN v END",
		"CASE WHEN v > 0 THEN d ELSE %s END",
		"CASE WHEN s = 'BUY' THEN %s ELSE s END",
		"CASE WHEN v > 0 THEN %s END",
		"CASE WHEN s IS NULL THEN NULL WHEN v < 0 THEN %s ELSE v END",
		"CASE WHEN v > 0 THEN CASE WHEN s = 'BUY' THEN %s ELSE v END END",
		"CASE WHEN d > 0 THEN nts ELSE %s END",
		"CASE WHEN v > 0 THEN CASE WHEN s = 'BUY' THEN d ELSE %s END ELSE -d END",
		"CASE WHEN s <> 'BUY' THEN v ELSE %s END",
	};
	static const char *const lits[] = { "0", "42", "2", "'B'", "-1.5", "9", "100",
		"'2026-01-02T03:04:05Z'", "0.5", "-7" };
	static const char *const holds[] = { "nl", "nl", "nd", "ns", "nd", "nl", "nl", "nts", "nd",
		"nl" };
	for (size_t k = 0; k < sizeof forms / sizeof *forms; k++) {
		char fast[256], slow[256], arg[96];
		snprintf(fast, sizeof fast, forms[k], lits[k]);
		snprintf(arg, sizeof arg, "coalesce(%s, %s)", holds[k], lits[k]);
		snprintf(slow, sizeof slow, forms[k], arg);
		floe_column a, b;
		REQUIRE(ev(&t, fast, &a) && ev(&t, slow, &b));
		CHECK_EQ_INT(a.type.id, b.type.id);
		CHECK_EQ_INT(a.null_count, b.null_count);
		for (int r = 0; r < 5; r++) {
			bool same = isnull(&a, r) == isnull(&b, r);
			if (same && !isnull(&a, r)) {
				if (a.type.id == FLOE_TYPE_STRING) {
					size_t la = (size_t)(a.offsets[r + 1] - a.offsets[r]);
					size_t lb = (size_t)(b.offsets[r + 1] - b.offsets[r]);
					same = la == lb && memcmp(a.data + a.offsets[r], b.data + b.offsets[r], la) == 0;
				} else {
					same = lv(&a, r) == lv(&b, r); /* the 8 bytes of a long, double or time */
				}
			}
			if (!same)
				th_fail(__FILE__, __LINE__, "row %d: %s differs from %s", r, fast, slow);
		}
	}
	/* ELSE NULL in one pass: what no ELSE gives */
	floe_column a, b;
	REQUIRE(ev(&t, "CASE WHEN s = 'BUY' THEN v ELSE NULL END", &a) &&
	        ev(&t, "CASE WHEN s = 'BUY' THEN v END", &b));
	CHECK_EQ_INT(a.null_count, 3);
	CHECK_EQ_INT(b.null_count, 3);
	for (int r = 0; r < 5; r++)
		CHECK(isnull(&a, r) == isnull(&b, r) && (isnull(&a, r) || lv(&a, r) == lv(&b, r)));
	tb_free(&t);
	/* no NULL in the condition or the column: every row valid */
	REQUIRE(mk(&t, "s string not null, v long not null, nl long",
	           "{\"s\":\"BUY\",\"v\":5}\n{\"s\":\"SELL\",\"v\":7}\n{\"s\":\"BUY\",\"v\":-3}\n"));
	REQUIRE(ev(&t, "CASE WHEN s = 'BUY' THEN v ELSE 0 END", &a) &&
	        ev(&t, "CASE WHEN s = 'BUY' THEN v ELSE coalesce(nl, 0) END", &b));
	CHECK_EQ_INT(a.null_count, 0);
	for (int r = 0; r < 3; r++)
		CHECK(!isnull(&a, r) && !isnull(&b, r) && lv(&a, r) == lv(&b, r));
	CHECK(lv(&a, 0) == 5 && lv(&a, 1) == 0 && lv(&a, 2) == -3);
	tb_free(&t);
}

/* CASE, IF, COALESCE, AND and OR compute a branch only for the rows that
 * take it: an error in a row a branch does not produce is no error. */
TEST(expr_guarded_branches_raise_no_errors)
{
	tb t;
	REQUIRE(mk(&t, "s string, v long",
	           "{\"s\":\"1.5\",\"v\":1}\n{\"s\":\"abc\",\"v\":9223372036854775807}\n"
	           "{\"s\":null,\"v\":null}\n{\"s\":\"2\",\"v\":0}\n"));
	floe_column c;
	EV("CASE WHEN s <> 'abc' THEN CAST(s AS double) END");
	CHECK(dv(&c, 0) == 1.5 && isnull(&c, 1) && isnull(&c, 2) && dv(&c, 3) == 2);
	EV("CASE WHEN s = 'abc' THEN -1 ELSE CAST(s AS double) END");
	CHECK(dv(&c, 1) == -1 && dv(&c, 3) == 2);
	EV("CASE WHEN v < 100 THEN v * 100000000000 ELSE 0 END");
	CHECK(lv(&c, 0) == 100000000000LL && lv(&c, 1) == 0);
	EV("if(v > 100, 0, v + 9223372036854775800)");
	CHECK(lv(&c, 0) == 9223372036854775801LL && lv(&c, 1) == 0);
	EV("coalesce(try_cast(s AS double), CAST(v AS double))");
	CHECK(dv(&c, 1) == 9223372036854775807.0 && dv(&c, 0) == 1.5);
	EV("v < 100 AND v + 9223372036854775800 > 0");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0 && bv(&c, 2) == -1);
	EV("v > 100 OR v * 1000000000000000000 > 0");
	CHECK(bv(&c, 1) == 1 && bv(&c, 3) == 0);
	/* nested: the inner CASE sees only the outer branch's rows */
	EV("CASE WHEN v < 100 THEN CASE WHEN v > 0 THEN 100 / v ELSE CAST(s AS long) END END");
	CHECK(dv(&c, 0) == 100 && dv(&c, 3) == 2 && isnull(&c, 1));
	/* unguarded, the same computations fail and name the row */
	ERR_HAS("CAST(s AS double)", "row 1", "cannot cast 'abc' to double");
	ERR_HAS("v * 100000000000", "row 1");
	ERR_HAS("CASE WHEN v >= 0 THEN v * 100000000000 END", "row 1");
	tb_free(&t);
}

TEST(expr_cast_and_try_cast)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	/* floating point to integers: nearest, ties to even (as DuckDB) */
	EV("CAST(price AS long)");
	CHECK(lv(&c, 0) == 10 && lv(&c, 1) == 2 && isnull(&c, 2) && lv(&c, 3) == -4);
	EV("CAST(2.5 AS long) * 100 + CAST(3.5 AS long) * 10 + CAST(-2.5 AS long)");
	CHECK(lv(&c, 0) == 238);
	EV("CAST(2.7 AS int) + CAST(-2.7 AS int)");
	CHECK(lv(&c, 0) == 0);
	/* decimals to integers: half away from zero (as DuckDB) */
	EV("CAST(dec AS long)");
	CHECK(lv(&c, 0) == 3 && lv(&c, 1) == -3 && lv(&c, 3) == 0);
	EV("CAST(dec AS decimal(10,1))");
	CHECK(lv(&c, 0) == 25 && lv(&c, 1) == -25 && lv(&c, 3) == 0);
	EV("CAST(dec AS decimal(12,4))");
	CHECK(lv(&c, 0) == 25000 && lv(&c, 3) == 100);
	EV("CAST(price AS decimal(5,1))");
	CHECK(lv(&c, 0) == 105 && lv(&c, 3) == -35);
	EV("CAST(vol AS decimal(4,2))");
	CHECK(lv(&c, 0) == 500 && lv(&c, 3) == -400);
	ERR_HAS("CAST(vol * 100 AS decimal(4,2))", "row 0", "cannot cast '500' to decimal(4,2)");
	EV("CAST('12.25' AS double) * 4");
	CHECK(dv(&c, 0) == 49);
	EV("CAST('  42 ' AS long)"); /* spaces around are trimmed */
	CHECK(lv(&c, 0) == 42);
	EV("CAST('1.235' AS decimal(10,2))"); /* more digits than the scale: rounded */
	CHECK(lv(&c, 0) == 124);
	EV("CAST('true' AS boolean) AND NOT CAST('0' AS boolean)");
	CHECK(bv(&c, 0) == 1);
	EV("CAST('2026-11-20' AS date)");
	CHECK(iv(&c, 0) == 20777);
	EV("CAST('2026-11-20T14:30:15.5Z' AS date)"); /* a timestamp's UTC day */
	CHECK(iv(&c, 0) == 20777);
	EV("CAST('2026-11-20T09:30:15.5-05:00' AS timestamptz)");
	CHECK(lv(&c, 0) == T0);
	EV("CAST('2026-11-20T14:30:15.5' AS timestamptz)"); /* no offset: UTC */
	CHECK(lv(&c, 0) == T0);
	EV("CAST('2026-11-20T14:30:15.5' AS timestamp)");
	CHECK(lv(&c, 0) == T0);
	EV("CAST('2026-11-20T15:30:15.5+01:00' AS timestamp)"); /* an offset: into UTC */
	CHECK(lv(&c, 0) == T0);
	EV("try_cast('+99999-01-01' AS date) IS NOT NULL AND try_cast('+999999-01-01' AS "
	   "timestamp) IS NULL");
	CHECK(bv(&c, 0) == 1);
	EV("CAST(vol AS string)");
	CHECK(str_is(&c, 0, "5") && isnull(&c, 2));
	EV("CAST(price AS string) || CAST(0.1 AS string)");
	CHECK(str_is(&c, 0, "10.50.1"));
	EV("CAST(ok AS string) || CAST(d AS string) || CAST(dec AS string)");
	CHECK(str_is(&c, 1, "false1969-12-31-2.50"));
	EV("CAST(ok AS long) + CAST(ok AS double)");
	CHECK(dv(&c, 0) == 2 && dv(&c, 1) == 0);
	EV("CAST(vol AS boolean)");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0 && bv(&c, 3) == 1);
	EV("CAST(n AS float)");
	CHECK(((const float *)c.values)[1] == -7.0f);
	EV("CAST(ts AS date)");
	CHECK(iv(&c, 1) == -1 && iv(&c, 0) == 20777); /* 1969-12-31: floor, not toward zero */
	EV("CAST(d AS timestamptz)");
	CHECK(lv(&c, 1) == -86400000000LL);
	EV("CAST(ts AS timestamp) = CAST(ts AS timestamptz)");
	CHECK(bv(&c, 0) == 1);
	EV("CAST(NULL AS long)");
	CHECK(isnull(&c, 0));
	EV("TRY_CAST(sym AS double)");
	CHECK(isnull(&c, 0) && isnull(&c, 1) && c.null_count == 4);
	EV("try_cast('1e400' AS double) IS NULL AND try_cast('12x' AS long) IS NULL");
	CHECK(bv(&c, 0) == 1);
	EV("TRY_CAST(n AS decimal(3,0))");
	CHECK(lv(&c, 0) == 3 && isnull(&c, 3));
	EV("try_cast(price * 1e300 AS long)");
	CHECK(isnull(&c, 0) && c.null_count == 4);
	EV("try_cast(vol * 1000000000 AS int)");
	CHECK(isnull(&c, 0) && lv(&c, 1) == 0);
	/* failures name the row and the value */
	ERR_HAS("CAST(sym AS double)", "row 0", "' aapl '", "to double", "TRY_CAST");
	ERR_HAS("CAST(n * 2 AS int)", "row 3", "4294967294", "to int");
	ERR_HAS("CAST(price * 1e308 * 10 AS long)", "row 0", "cannot cast 'Infinity' to long");
	ERR_HAS("CAST('2026-13-01' AS date)", "row 0");
	/* casts that do not exist are bind errors */
	ERR_HAS("CAST(ts AS long)", "cannot CAST a timestamptz to long", "epoch_us");
	ERR_HAS("CAST(vol AS timestamptz)", "to_timestamp");
	ERR_HAS("CAST(ok AS date)", "cannot CAST a boolean to date");
	ERR_HAS("CAST(vol AS uuid)", "cannot CAST to uuid");
	ERR_HAS("CAST(vol AS decimal(20,2))", "P <= 18");
	ERR_HAS("CAST(vol AS nope)", "unknown type 'nope'");
	tb_free(&t);
}

TEST(expr_number_functions)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	EV("abs(vol)");
	CHECK(lv(&c, 3) == 4 && lv(&c, 0) == 5 && isnull(&c, 2));
	EV("abs(price) + abs(dec)");
	CHECK(dv(&c, 3) == 3.51);
	EV("round(2.5) * 10 + round(-2.5)"); /* half away from zero */
	CHECK(dv(&c, 0) == 27);
	EV("round(1.2345, 2)");
	CHECK(dv(&c, 0) == 1.23);
	EV("round(-1.5)");
	CHECK(dv(&c, 0) == -2);
	EV("round(1234.5, -2)");
	CHECK(dv(&c, 0) == 1200);
	EV("round(price, 400) = price AND round(price, -400) = 0");
	CHECK(bv(&c, 0) == 1 && bv(&c, 3) == 1);
	EV("round(vol) + floor(vol) + ceil(vol)");
	CHECK(lv(&c, 3) == -12);
	EV("floor(price) * 10 + ceil(price)");
	CHECK(dv(&c, 0) == 111 && dv(&c, 3) == -43);
	EV("ceiling(-0.5)");
	CHECK(dv(&c, 0) == 0);
	EV("sqrt(price)");
	CHECK(dv(&c, 1) == sqrt(2.0) && isnull(&c, 3) && isnull(&c, 2));
	EV("ln(price)");
	CHECK(dv(&c, 0) == log(10.5) && isnull(&c, 3));
	EV("ln(0)");
	CHECK(isnull(&c, 0));
	EV("ln(exp(1))");
	CHECK(dv(&c, 0) == 1);
	EV("log10(1000) + log10(vol)");
	CHECK(fabs(dv(&c, 0) - (3 + log10(5.0))) < 1e-15 && isnull(&c, 1));
	EV("exp(0) + power(2, 10) + pow(9, 0.5)");
	CHECK(dv(&c, 0) == 1028);
	EV("power(-8, 1.0 / 3)"); /* no real root: NULL */
	CHECK(isnull(&c, 0));
	EV("sign(price) * 100 + sign(vol) * 10 + sign(0)");
	CHECK(lv(&c, 0) == 110 && lv(&c, 1) == 100 && lv(&c, 3) == -110);
	ERR_HAS("abs(sym)", "needs a number");
	ERR_HAS("round(price, 1.5)", "digits must be an integer");
	ERR_HAS("sqrt('x')", "needs numbers");
	ERR_HAS("power(2)", "power() takes 2 arguments");
	ERR_HAS("round()", "round() takes 1 to 2 arguments");
	tb_free(&t);
}

TEST(expr_time_functions_utc_and_before_1970)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	/* ISO-8601 with offsets into UTC micros */
	EV("to_timestamp('2026-11-20T09:30:00-05:00')");
	CHECK(c.type.id == FLOE_TYPE_TIMESTAMPTZ && lv(&c, 0) == 1795185000000000LL);
	EV("to_timestamp('2026-11-20T15:30:15.5+01:00')");
	CHECK(lv(&c, 0) == T0);
	EV("TIMESTAMP '2026-11-20T09:30:15.5-05:00' = ts");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0);
	EV("to_timestamp(' 2026-11-20 ') = TIMESTAMP '2026-11-20'"); /* a date: its midnight */
	CHECK(bv(&c, 0) == 1);
	EV("to_timestamp('2026-11-20 14:30:15.500')"); /* no offset: UTC */
	CHECK(lv(&c, 0) == T0);
	EV("to_timestamp(price)"); /* epoch seconds */
	CHECK(lv(&c, 0) == 10500000 && lv(&c, 3) == -3500000 && isnull(&c, 2));
	EV("try_to_timestamp(sym)");
	CHECK(isnull(&c, 0) && c.null_count == 4);
	ERR_HAS("to_timestamp(sym)", "row 0", "ISO-8601", "try_to_timestamp");
	ERR_HAS("to_timestamp(price * 1e300)", "row 0", "out of the range");
	EV("to_date('2026-11-20') = d AND to_date(ts) = d");
	CHECK(bv(&c, 0) == 1);
	EV("to_date(ts)");
	CHECK(iv(&c, 1) == -1);
	EV("to_date('2026-11-20T23:30:00-05:00')"); /* the UTC day */
	CHECK(iv(&c, 0) == 20778);
	ERR_HAS("to_date(sym)", "row 0", "ISO-8601 date");
	/* date_trunc: UTC, floored before 1970 */
	static const struct {
		const char *unit;
		int64_t row0, row1;
	} tr[] = {
		{ "second", T0 - 500000, -30000000 },
		{ "minute", T0 - 15500000, -60000000 },
		{ "hour", 1795183200000000LL, -3600000000LL },
		{ "day", 1795132800000000LL, -86400000000LL },
		{ "week", 1794787200000000LL, -259200000000LL }, /* Mondays 2026-11-16, 1969-12-29 */
		{ "month", 1793491200000000LL, -2678400000000LL },
		{ "quarter", 1790812800000000LL, -7948800000000LL },
		{ "year", 1767225600000000LL, -31536000000000LL },
		{ "millisecond", T0, -30000000 },
	};
	for (size_t i = 0; i < sizeof tr / sizeof *tr; i++) {
		char text[80];
		snprintf(text, sizeof text, "date_trunc('%s', ts)", tr[i].unit);
		EV(text);
		if (lv(&c, 0) != tr[i].row0 || lv(&c, 1) != tr[i].row1 || !isnull(&c, 2))
			th_fail(__FILE__, __LINE__, "%s: %lld %lld", text, (long long)lv(&c, 0),
			        (long long)lv(&c, 1));
	}
	EV("date_trunc('DAY', ts) = TIMESTAMP '2026-11-20T00:00:00Z'"); /* units ignore case */
	CHECK(bv(&c, 0) == 1);
	EV("date_trunc('minute', TIMESTAMP '2026-11-20T14:30:00Z')"); /* on the boundary */
	CHECK(lv(&c, 0) == 1795185000000000LL);
	EV("date_trunc('month', d)");
	CHECK(c.type.id == FLOE_TYPE_TIMESTAMP && lv(&c, 1) == -2678400000000LL);
	/* window_start/end: multiples of the interval since the epoch, floored */
	EV("window_start(ts, INTERVAL '5 minutes')");
	CHECK(lv(&c, 0) == T0 - 15500000 && lv(&c, 1) == -300000000 && lv(&c, 3) == 0);
	EV("window_end(ts, '1m')");
	CHECK(lv(&c, 1) == 0 && lv(&c, 3) == 60000000 && lv(&c, 0) == T0 - 15500000 + 60000000);
	EV("window_start(ts - INTERVAL '1 microsecond', INTERVAL '1m')");
	CHECK(lv(&c, 3) == -60000000); /* just before a boundary */
	EV("window_start(TIMESTAMP '1969-12-31T23:59:59.999999Z', INTERVAL '1 day')");
	CHECK(lv(&c, 0) == -86400000000LL);
	EV("window_start(ts, '7s')");
	CHECK(lv(&c, 1) == -35000000);
	/* date_part */
	static const struct {
		const char *unit;
		int64_t row0, row1;
	} pt[] = {
		{ "year", 2026, 1969 }, { "quarter", 4, 4 }, { "month", 11, 12 }, { "day", 20, 31 },
		{ "hour", 14, 23 }, { "minute", 30, 59 }, { "second", 15, 30 },
		{ "millisecond", 15500, 30000 }, { "microsecond", 15500000, 30000000 },
		{ "dow", 5, 3 }, { "isodow", 5, 3 }, { "doy", 324, 365 }, { "week", 47, 1 },
	};
	for (size_t i = 0; i < sizeof pt / sizeof *pt; i++) {
		char text[80];
		snprintf(text, sizeof text, "date_part('%s', ts)", pt[i].unit);
		EV(text);
		if (lv(&c, 0) != pt[i].row0 || lv(&c, 1) != pt[i].row1 || !isnull(&c, 2))
			th_fail(__FILE__, __LINE__, "%s: %lld %lld", text, (long long)lv(&c, 0),
			        (long long)lv(&c, 1));
	}
	EV("date_part('week', DATE '2027-01-01') * 10 + date_part('dow', DATE '2026-11-22')");
	CHECK(lv(&c, 0) == 530); /* ISO week 53 of 2026; Sunday is 0 */
	EV("date_part('year', d) + date_part('day', d)");
	CHECK(lv(&c, 3) == 1972);
	/* epochs */
	EV("epoch_us(ts)");
	CHECK(lv(&c, 0) == T0 && lv(&c, 1) == -30000000);
	EV("epoch_ms(ts - INTERVAL '1 microsecond')");
	CHECK(lv(&c, 3) == -1); /* floored */
	EV("epoch_seconds(ts)");
	CHECK(dv(&c, 0) == 1795185015.5 && dv(&c, 1) == -30);
	EV("epoch_us(d)");
	CHECK(lv(&c, 3) == 86400000000LL);
	ERR_HAS("date_trunc('fortnight', ts)", "unknown unit 'fortnight'");
	ERR_HAS("date_trunc('dow', ts)", "unknown unit");
	ERR_HAS("date_trunc(sym, ts)", "the unit is a constant string");
	ERR_HAS("date_part('year', price)", "needs a timestamp or a date");
	ERR_HAS("window_start(ts, vol)", "interval constant");
	ERR_HAS("window_start(ts, 'soon')", "interval constant");
	ERR_HAS("window_start(d, '1m')", "needs a timestamp");
	ERR_HAS("epoch_ms(vol)", "needs a timestamp");
	ERR_HAS("ts + 1", "cannot compute timestamptz + long");
	ERR_HAS("ts * INTERVAL '1m'", "cannot compute timestamptz * INTERVAL");
	tb_free(&t);
}

TEST(expr_parse_errors_with_positions)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	ERR_HAS("price > ", "at character 9", "expected a column, a literal, a function or '('",
	        "end of the expression");
	ERR_HAS("price >> 2", "at character 8", "found '>'");
	ERR_HAS("'open", "at character 1", "not closed");
	ERR_HAS("\"open", "at character 1");
	ERR_HAS("(price + 1", "at character 11", "expected ')'");
	ERR_HAS("abs(price,", "at character 11");
	ERR_HAS("abs(price 1)", "at character 11", "expected ')' or ','");
	ERR_HAS("price 2", "at character 7", "expected an operator or the end", "found '2'");
	ERR_HAS("price > AND ok", "at character 9", "found 'AND'");
	ERR_HAS("CASE WHEN ok 1 END", "at character 14", "expected THEN");
	ERR_HAS("CASE WHEN ok THEN 1", "expected END");
	ERR_HAS("CASE ok END", "expected WHEN");
	ERR_HAS("CAST(price long)", "at character 12", "expected AS");
	ERR_HAS("CAST(price AS)", "expected a type name");
	ERR_HAS("price IS 5", "at character 10", "expected NULL");
	ERR_HAS("price NOT 5", "at character 7", "found 'NOT'");
	ERR_HAS("vol IN 1", "expected '('");
	ERR_HAS("vol BETWEEN 1 OR 2", "expected AND");
	ERR_HAS("TIMESTAMP 'noon'", "at character 11", "'noon' is not a timestamp");
	ERR_HAS("DATE '2026-02-30'", "is not a date");
	ERR_HAS("INTERVAL 'soon'", "not a duration");
	ERR_HAS("", "at character 1", "end of the expression");
	ERR_HAS("1.2.3", "expected a number");
	ERR_HAS("#", "found '#'");
	/* nesting and chains are capped, not a stack overflow */
	char *deep = malloc(4000);
	REQUIRE(deep);
	memset(deep, '(', 1000);
	strcpy(deep + 1000, "1");
	ERR_HAS(deep, "nests too deeply");
	size_t at = 0;
	for (int i = 0; i < 400; i++)
		at += (size_t)snprintf(deep + at, 4000 - at, "1+");
	strcpy(deep + at, "1");
	ERR_HAS(deep, "too deep");
	free(deep);
	/* what parses: keywords ignore case, quoted names, spacing */
	floe_column c;
	EV("  price>1   and   NOT   ok   ");
	CHECK(bv(&c, 0) == 0 && bv(&c, 3) == 0);
	EV("\"price\" * 2");
	CHECK(dv(&c, 0) == 21);
	EV("PRICE * 2"); /* a name equal ignoring case */
	CHECK(dv(&c, 0) == 21);
	EV("-.5 + .5");
	CHECK(dv(&c, 0) == 0);
	EV("2E3 + 1e+2 + 9223372036854775808"); /* too big for a long: a double */
	CHECK(c.type.id == FLOE_TYPE_DOUBLE && dv(&c, 0) == 2100 + 9223372036854775808.0);
	tb_free(&t);
}

TEST(expr_bind_errors_name_what_to_fix)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	ERR_HAS("prise * 2", "at character 1", "no column 'prise'", "there are: sym, price, vol");
	ERR_HAS("sym + 1", "at character 5", "cannot compute string + long");
	ERR_HAS("-sym", "cannot negate a string");
	ERR_HAS("sum(price)", "sum() is an aggregate", "aggregate step");
	ERR_HAS("count(*) + 1", "count() is an aggregate");
	ERR_HAS("lag(price)", "looks at other rows", "rolling step");
	ERR_HAS("rolling_sum(price, '5m')", "rolling step");
	ERR_HAS("nosuch(price)", "no function nosuch()");
	ERR_HAS("upper(sym, sym)", "upper() takes 1 argument");
	ERR_HAS("abs(*)", "abs() takes 1 argument");
	ERR_HAS("coalesce()", "coalesce() takes 1 to 64 arguments");
	floe_expr *e;
	floe_error err;
	floe_schema *two;
	REQUIRE_OK(floe_schema_parse(&two, "Price double, price long", t.a, &err), &err);
	REQUIRE_OK(floe_expr_parse(&e, "PRICE + 1", t.a, &err), &err);
	CHECK(floe_expr_bind(e, two, 0, &err) == FLOE_ENOTFOUND && strstr(err.msg, "ambiguous"));
	REQUIRE_OK(floe_expr_parse(&e, "price + 1", t.a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e, two, 0, &err), &err); /* the exact name wins */
	CHECK(floe_expr_type(e).id == FLOE_TYPE_LONG);
	tb_free(&t);
}

/* Binding again to another schema starts from the text's meaning, not
 * from what the last binding made of it. */
TEST(expr_rebind_and_columns)
{
	floe_arena *a = floe_arena_new(0);
	floe_error err;
	floe_schema *s1, *s2;
	REQUIRE_OK(floe_schema_parse(&s1, "x long, t timestamptz, y double", a, &err), &err);
	REQUIRE_OK(floe_schema_parse(&s2, "t date, x double", a, &err), &err);
	floe_expr *e;
	REQUIRE_OK(floe_expr_parse(&e, "t >= '2026-01-01' AND x + ln(1) * 2 > 0", a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e, s1, 0, &err), &err);
	const char *names[4];
	CHECK_EQ_INT(floe_expr_columns(e, names, 4), 2);
	CHECK(strcmp(names[0], "x") == 0 && strcmp(names[1], "t") == 0); /* schema order */
	CHECK_EQ_INT(floe_expr_columns(e, names, 1), 1);
	int64_t xs[2] = { 1, -1 }, ts[2] = { 1767225600000000LL, 0 };
	double ys[2] = { 0, 0 };
	floe_column cols[3];
	memset(cols, 0, sizeof cols);
	cols[0].type.id = FLOE_TYPE_LONG;
	cols[0].values = xs;
	cols[1].type.id = FLOE_TYPE_TIMESTAMPTZ;
	cols[1].values = ts;
	cols[2].type.id = FLOE_TYPE_DOUBLE;
	cols[2].values = ys;
	floe_batch b1 = { 2, 3, cols, s1 };
	floe_column out;
	REQUIRE_OK(floe_expr_eval(e, &b1, NULL, &out, a, &err), &err);
	CHECK(bv(&out, 0) == 1 && bv(&out, 1) == 0);
	/* the same tree on another schema: t is a date, x a double */
	REQUIRE_OK(floe_expr_bind(e, s2, 0, &err), &err);
	int32_t ds[2] = { 20453, 20454 };
	double xd[2] = { 1, 1 };
	floe_column c2[2];
	memset(c2, 0, sizeof c2);
	c2[0].type.id = FLOE_TYPE_DATE;
	c2[0].values = ds;
	c2[1].type.id = FLOE_TYPE_DOUBLE;
	c2[1].values = xd;
	floe_batch b2 = { 2, 2, c2, s2 };
	REQUIRE_OK(floe_expr_eval(e, &b2, NULL, &out, a, &err), &err);
	CHECK(bv(&out, 0) == 0 && bv(&out, 1) == 1); /* 2025-12-31 < 2026-01-01 <= 2026-01-01 */
	CHECK_EQ_INT(floe_expr_columns(e, names, 4), 2);
	CHECK(strcmp(names[0], "t") == 0);
	/* a batch not laid out as the schema bound to is refused, not misread */
	CHECK(floe_expr_eval(e, &b1, NULL, &out, a, &err) == FLOE_EINVALID &&
	      strstr(err.msg, "bind the expression again"));
	/* no rows */
	floe_batch none = { 0, 2, c2, s2 };
	REQUIRE_OK(floe_expr_eval(e, &none, NULL, &out, a, &err), &err);
	CHECK(out.type.id == FLOE_TYPE_BOOLEAN && out.null_count == 0);
	REQUIRE_OK(floe_expr_parse(&e, "upper('a') || x", a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e, s2, 0, &err), &err);
	REQUIRE_OK(floe_expr_eval(e, &none, NULL, &out, a, &err), &err);
	/* unbound */
	REQUIRE_OK(floe_expr_parse(&e, "1", a, &err), &err);
	CHECK(floe_expr_eval(e, &none, NULL, &out, a, &err) == FLOE_EINVALID &&
	      strstr(err.msg, "floe_expr_bind"));
	floe_arena_free(a);
}

/* Constant subtrees are folded at bind time; a constant that fails is
 * left to evaluation, which fails only where the row takes that branch. */
TEST(expr_constant_folding)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	EV("price * ln(exp(2)) + length(upper('ab') || 'c')");
	CHECK(dv(&c, 0) == 24 && isnull(&c, 2));
	EV("ts < TIMESTAMP '2026-01-01T00:00:00Z' + INTERVAL '1 day'");
	CHECK(bv(&c, 0) == 0 && bv(&c, 1) == 1);
	EV("CASE WHEN vol > 100 THEN CAST('x' AS double) ELSE 1 END");
	CHECK(dv(&c, 0) == 1 && dv(&c, 2) == 1);
	ERR_HAS("CAST('x' AS double) + vol", "row 0", "cannot cast 'x'");
	EV("coalesce(NULL + 1, 7) + vol");
	CHECK(lv(&c, 0) == 12);
	EV("CAST('2026-11-20' AS date) = d");
	CHECK(bv(&c, 0) == 1 && bv(&c, 1) == 0);
	tb_free(&t);
}

TEST(expr_intervals)
{
	static const struct {
		const char *text;
		int64_t us;
	} ok[] = {
		{ "5 minutes", 300000000LL }, { "1 minute", 60000000LL }, { "30s", 30000000LL },
		{ "10 seconds", 10000000LL }, { "1m", 60000000LL }, { "1h", 3600000000LL },
		{ "2 hours", 7200000000LL }, { "1 day", 86400000000LL }, { "250ms", 250000LL },
		{ "1.5s", 1500000LL }, { "1h30m", 5400000000LL }, { "1m 30s", 90000000LL },
		{ "2 Days", 172800000000LL }, { "7us", 7 }, { "3 mins", 180000000LL },
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		int64_t us = 0;
		floe_error err;
		if (floe_expr_parse_interval(&us, ok[i].text, &err) != 0 || us != ok[i].us)
			th_fail(__FILE__, __LINE__, "'%s': %lld", ok[i].text, (long long)us);
	}
	static const char *const bad[] = { "", "soon", "0s", "-5s", "5", "5 fortnights", "m",
		"1e30 days", "5 minutes ago" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int64_t us;
		floe_error err;
		if (floe_expr_parse_interval(&us, bad[i], &err) != FLOE_EINVALID ||
		    !strstr(err.msg, "is not a duration"))
			th_fail(__FILE__, __LINE__, "'%s' accepted", bad[i]);
	}
}

TEST(expr_split_aggregates)
{
	floe_arena *a = floe_arena_new(0);
	floe_error err;
	floe_expr *e1, *e2, *e3, *e4;
	floe_expr_agg *aggs = NULL;
	int n = 0;
	REQUIRE_OK(floe_expr_parse(&e1, "sum(price * vol) / sum(vol)", a, &err), &err);
	REQUIRE_OK(floe_expr_parse(&e2, "SUM( vol ) + count(*) + COUNT( * )", a, &err), &err);
	REQUIRE_OK(floe_expr_parse(&e3, "last(price)", a, &err), &err);
	REQUIRE_OK(floe_expr_parse(&e4, "CASE WHEN max(price) > 2 THEN stddev(ln(price)) END",
	                           a, &err), &err);
	CHECK(floe_expr_has_aggregate(e1) && floe_expr_has_aggregate(e3));
	REQUIRE_OK(floe_expr_split_aggregates(e1, &aggs, &n, a, &err), &err);
	CHECK_EQ_INT(n, 2);
	REQUIRE_OK(floe_expr_split_aggregates(e2, &aggs, &n, a, &err), &err);
	REQUIRE_OK(floe_expr_split_aggregates(e3, &aggs, &n, a, &err), &err);
	REQUIRE_OK(floe_expr_split_aggregates(e4, &aggs, &n, a, &err), &err);
	CHECK_EQ_INT(n, 6); /* sum(vol) and count(*) shared */
	CHECK(aggs[0].fn == FLOE_AGG_SUM && strcmp(aggs[0].column, "__agg0") == 0);
	CHECK(aggs[1].fn == FLOE_AGG_SUM && strcmp(aggs[1].column, "__agg1") == 0);
	CHECK(aggs[2].fn == FLOE_AGG_COUNT_STAR && aggs[2].arg == NULL);
	CHECK(aggs[3].fn == FLOE_AGG_LAST && strcmp(aggs[3].column, "__agg3") == 0);
	CHECK(aggs[4].fn == FLOE_AGG_MAX && aggs[5].fn == FLOE_AGG_STDDEV_SAMP);
	CHECK(!floe_expr_has_aggregate(e1) && !floe_expr_has_aggregate(e3) &&
	      !floe_expr_has_aggregate(e4));
	/* the arguments bind to the input */
	floe_schema *in;
	REQUIRE_OK(floe_schema_parse(&in, "price double, vol long", a, &err), &err);
	REQUIRE_OK(floe_expr_bind(aggs[0].arg, in, FLOE_EXPR_SERIES, &err), &err);
	CHECK(floe_expr_type(aggs[0].arg).id == FLOE_TYPE_DOUBLE);
	REQUIRE_OK(floe_expr_bind(aggs[5].arg, in, FLOE_EXPR_SERIES, &err), &err);
	/* the rewritten expressions read the placeholders */
	floe_schema *s;
	REQUIRE_OK(floe_schema_parse(&s, "__agg0 double, __agg1 long, __agg2 long, __agg3 double, "
	                             "__agg4 double, __agg5 double", a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e1, s, 0, &err), &err);
	REQUIRE_OK(floe_expr_bind(e2, s, 0, &err), &err);
	REQUIRE_OK(floe_expr_bind(e3, s, 0, &err), &err);
	REQUIRE_OK(floe_expr_bind(e4, s, 0, &err), &err);
	const char *names[6];
	CHECK_EQ_INT(floe_expr_columns(e1, names, 6), 2);
	CHECK_EQ_STR(names[1], "__agg1");
	CHECK_EQ_INT(floe_expr_columns(e3, names, 6), 1);
	CHECK_EQ_STR(names[0], "__agg3");
	double v0 = 30, v3 = 2.5, v4 = 3, v5 = 0.25;
	int64_t v1 = 4, v2 = 3;
	floe_column cols[6];
	memset(cols, 0, sizeof cols);
	void *vals[6] = { &v0, &v1, &v2, &v3, &v4, &v5 };
	for (int i = 0; i < 6; i++) {
		cols[i].type = s->fields[i].type;
		cols[i].values = vals[i];
	}
	floe_batch b = { 1, 6, cols, s };
	floe_column out;
	REQUIRE_OK(floe_expr_eval(e1, &b, NULL, &out, a, &err), &err);
	CHECK(dv(&out, 0) == 7.5);
	REQUIRE_OK(floe_expr_eval(e2, &b, NULL, &out, a, &err), &err);
	CHECK(lv(&out, 0) == 10);
	REQUIRE_OK(floe_expr_eval(e4, &b, NULL, &out, a, &err), &err);
	CHECK(dv(&out, 0) == 0.25);
	/* nesting, stars and argument counts */
	floe_expr *bad;
	REQUIRE_OK(floe_expr_parse(&bad, "sum(max(price))", a, &err), &err);
	CHECK(floe_expr_split_aggregates(bad, &aggs, &n, a, &err) == FLOE_EINVALID &&
	      strstr(err.msg, "do not nest") && strstr(err.msg, "at character 5"));
	REQUIRE_OK(floe_expr_parse(&bad, "avg(1 + count(*))", a, &err), &err);
	CHECK(floe_expr_split_aggregates(bad, &aggs, &n, a, &err) == FLOE_EINVALID);
	REQUIRE_OK(floe_expr_parse(&bad, "sum(*)", a, &err), &err);
	CHECK(floe_expr_split_aggregates(bad, &aggs, &n, a, &err) == FLOE_EINVALID &&
	      strstr(err.msg, "only count takes *"));
	REQUIRE_OK(floe_expr_parse(&bad, "min(a, b)", a, &err), &err);
	CHECK(floe_expr_split_aggregates(bad, &aggs, &n, a, &err) == FLOE_EINVALID &&
	      strstr(err.msg, "one argument"));
	/* an aggregate inside an IN list or BETWEEN (shared subtrees) */
	REQUIRE_OK(floe_expr_parse(&bad, "max(vol) BETWEEN 1 AND 3 AND min(vol) IN (1, 2)", a,
	                           &err), &err);
	int before = n;
	REQUIRE_OK(floe_expr_split_aggregates(bad, &aggs, &n, a, &err), &err);
	CHECK_EQ_INT(n, before + 2);
	CHECK(!floe_expr_has_aggregate(bad));
	/* sharing reads the text outside quotes only ignoring case and spaces */
	REQUIRE_OK(floe_expr_parse(&bad, "sum(if(sym = 'A', 1, 0)) + SUM( IF(sym='a',1,0) ) + "
	                           "sum(if(sym = 'a b', 1, 0)) + sum(if(sym = 'ab', 1, 0)) + "
	                           "sum(\"Vol\") + Sum(\"vol\") + sum( if(SYM = 'A', 1, 0))", a,
	                           &err), &err);
	before = n;
	REQUIRE_OK(floe_expr_split_aggregates(bad, &aggs, &n, a, &err), &err);
	CHECK_EQ_INT(n, before + 6);
	/* long arguments are compared whole */
	char *big = malloc(6000);
	REQUIRE(big);
	size_t at = (size_t)snprintf(big, 6000, "max(");
	for (int i = 0; i < 200; i++)
		at += (size_t)snprintf(big + at, 6000 - at, "price + ");
	snprintf(big + at, 6000 - at, "1) - max(");
	at += strlen(big + at);
	for (int i = 0; i < 200; i++)
		at += (size_t)snprintf(big + at, 6000 - at, "price + ");
	snprintf(big + at, 6000 - at, "2)");
	REQUIRE_OK(floe_expr_parse(&bad, big, a, &err), &err);
	before = n;
	REQUIRE_OK(floe_expr_split_aggregates(bad, &aggs, &n, a, &err), &err);
	CHECK_EQ_INT(n, before + 2);
	free(big);
	/* the argument trees are unbound until the caller binds them */
	REQUIRE_OK(floe_expr_parse(&bad, "first(nosuch)", a, &err), &err);
	REQUIRE_OK(floe_expr_split_aggregates(bad, &aggs, &n, a, &err), &err);
	CHECK(floe_expr_bind(aggs[n - 1].arg, in, 0, &err) == FLOE_ENOTFOUND);
	floe_arena_free(a);
}
