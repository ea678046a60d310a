/* The expression language: parsing (errors with positions), binding (types
 * inferred, unknown columns and type mistakes named), evaluation of every
 * operator and function family with SQL NULL semantics, casts, time
 * functions at boundaries and before 1970, aggregate splitting, and the
 * series functions against a brute-force reference. */
#include <math.h>
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

/* Evaluate `text` on t; returns the column (in t->a) or fails. */
static bool ev(tb *t, const char *text, unsigned flags, const floe_expr_series *s,
               floe_column *out)
{
	floe_expr *e;
	floe_error err;
	if (floe_expr_parse(&e, text, t->a, &err) || floe_expr_bind(e, t->s, flags, &err) ||
	    floe_expr_eval(e, &t->b, s, out, t->a, &err)) {
		fprintf(stderr, "%s: %s\n", text, err.msg);
		return false;
	}
	return true;
}

static const char *err_of(tb *t, const char *text, unsigned flags)
{
	static char msg[FLOE_ERROR_MSG_MAX];
	floe_expr *e;
	floe_error err;
	floe_column c;
	if (floe_expr_parse(&e, text, t->a, &err) || floe_expr_bind(e, t->s, flags, &err) ||
	    floe_expr_eval(e, &t->b, NULL, &c, t->a, &err)) {
		snprintf(msg, sizeof msg, "%s", err.msg);
		return msg;
	}
	return NULL;
}

static const char *S = "sym string, price double, vol long, n int, ts timestamptz, ok boolean";
static const char *ROWS =
	"{\"sym\":\" aapl \",\"price\":10.5,\"vol\":5,\"n\":3,\"ts\":\"2026-11-20T14:30:15.5Z\",\"ok\":true}\n"
	"{\"sym\":\"héllo\",\"price\":2,\"vol\":0,\"n\":-7,\"ts\":\"1969-12-31T23:59:30Z\",\"ok\":false}\n"
	"{\"sym\":null,\"price\":null,\"vol\":null,\"n\":null,\"ts\":null,\"ok\":null}\n";

static double d(const floe_column *c, int r)
{
	return ((const double *)c->values)[r];
}

static int64_t l(const floe_column *c, int r)
{
	return ((const int64_t *)c->values)[r];
}

static bool isnull(const floe_column *c, int r)
{
	return !floe_column_is_valid(c, r);
}

static bool str_is(const floe_column *c, int r, const char *want)
{
	size_t n = (size_t)(c->offsets[r + 1] - c->offsets[r]);
	return n == strlen(want) && memcmp(c->data + c->offsets[r], want, n) == 0;
}

TEST(expr_arithmetic_types_and_nulls)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	REQUIRE(ev(&t, "price * vol", 0, NULL, &c));
	CHECK_EQ_INT(c.type.id, FLOE_TYPE_DOUBLE);
	CHECK(d(&c, 0) == 52.5 && d(&c, 1) == 0 && isnull(&c, 2));
	REQUIRE(ev(&t, "vol + n * 2", 0, NULL, &c));
	CHECK_EQ_INT(c.type.id, FLOE_TYPE_LONG);
	CHECK(l(&c, 0) == 11 && l(&c, 1) == -14 && isnull(&c, 2));
	REQUIRE(ev(&t, "vol / 2", 0, NULL, &c)); /* '/' is always a double */
	CHECK(c.type.id == FLOE_TYPE_DOUBLE && d(&c, 0) == 2.5);
	REQUIRE(ev(&t, "price / vol", 0, NULL, &c)); /* by zero: NULL */
	CHECK(d(&c, 0) == 2.1 && isnull(&c, 1));
	REQUIRE(ev(&t, "n % 2", 0, NULL, &c));
	CHECK(l(&c, 0) == 1 && l(&c, 1) == -1);
	REQUIRE(ev(&t, "-price + 1", 0, NULL, &c));
	CHECK(d(&c, 0) == -9.5);
	REQUIRE(ev(&t, "1e-3 * 2", 0, NULL, &c));
	CHECK(d(&c, 0) == 0.002);
	CHECK(err_of(&t, "9223372036854775807 + vol", 0) != NULL);
	tb_free(&t);
}

TEST(expr_three_valued_logic)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	/* FALSE AND NULL = FALSE, TRUE AND NULL = NULL, TRUE OR NULL = TRUE */
	REQUIRE(ev(&t, "ok AND price > 5", 0, NULL, &c));
	CHECK(((uint8_t *)c.values)[0] == 1 && ((uint8_t *)c.values)[1] == 0 && isnull(&c, 2));
	REQUIRE(ev(&t, "(vol > 100) AND ok", 0, NULL, &c));
	CHECK(!isnull(&c, 0) && ((uint8_t *)c.values)[0] == 0 && isnull(&c, 2));
	REQUIRE(ev(&t, "FALSE AND ok", 0, NULL, &c));
	CHECK(!isnull(&c, 2) && ((uint8_t *)c.values)[2] == 0);
	REQUIRE(ev(&t, "TRUE OR ok", 0, NULL, &c));
	CHECK(!isnull(&c, 2) && ((uint8_t *)c.values)[2] == 1);
	REQUIRE(ev(&t, "NOT ok", 0, NULL, &c));
	CHECK(((uint8_t *)c.values)[1] == 1 && isnull(&c, 2));
	REQUIRE(ev(&t, "sym IS NULL", 0, NULL, &c));
	CHECK(((uint8_t *)c.values)[2] == 1 && ((uint8_t *)c.values)[0] == 0 && !isnull(&c, 2));
	REQUIRE(ev(&t, "vol IN (0, 1, 5)", 0, NULL, &c));
	CHECK(((uint8_t *)c.values)[0] && ((uint8_t *)c.values)[1] && isnull(&c, 2));
	REQUIRE(ev(&t, "vol NOT IN (0, 1)", 0, NULL, &c));
	CHECK(((uint8_t *)c.values)[0] && !((uint8_t *)c.values)[1]);
	REQUIRE(ev(&t, "price BETWEEN 2 AND 10.5", 0, NULL, &c));
	CHECK(((uint8_t *)c.values)[0] && ((uint8_t *)c.values)[1]);
	uint8_t keep[3];
	floe_expr *e;
	floe_error err;
	REQUIRE_OK(floe_expr_parse(&e, "price > 1 AND ok", t.a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e, t.s, 0, &err), &err);
	REQUIRE_OK(floe_expr_eval_filter(e, &t.b, NULL, keep, t.a, &err), &err);
	CHECK(keep[0] == 1 && keep[1] == 0 && keep[2] == 0);
	tb_free(&t);
}

TEST(expr_strings_utf8_and_like)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	REQUIRE(ev(&t, "upper(trim(sym))", 0, NULL, &c));
	CHECK(str_is(&c, 0, "AAPL") && isnull(&c, 2));
	REQUIRE(ev(&t, "length(sym)", 0, NULL, &c));
	CHECK(l(&c, 0) == 6 && l(&c, 1) == 5); /* characters, not bytes */
	REQUIRE(ev(&t, "substr(sym, 2, 3)", 0, NULL, &c));
	CHECK(str_is(&c, 1, "éll"));
	REQUIRE(ev(&t, "substring(sym, -2)", 0, NULL, &c));
	CHECK(str_is(&c, 1, "lo"));
	REQUIRE(ev(&t, "replace(sym, 'l', 'L') || '!'", 0, NULL, &c));
	CHECK(str_is(&c, 1, "héLLo!") && isnull(&c, 2));
	REQUIRE(ev(&t, "concat(sym, '-', vol)", 0, NULL, &c));
	CHECK(str_is(&c, 1, "héllo-0") && str_is(&c, 2, "-")); /* NULLs skipped */
	REQUIRE(ev(&t, "sym LIKE 'h_llo'", 0, NULL, &c));
	CHECK(((uint8_t *)c.values)[1] == 1);
	REQUIRE(ev(&t, "sym LIKE '%ap%'", 0, NULL, &c));
	CHECK(((uint8_t *)c.values)[0] == 1 && ((uint8_t *)c.values)[1] == 0);
	REQUIRE(ev(&t, "starts_with(sym, 'hé') AND NOT contains(sym, 'x')", 0, NULL, &c));
	CHECK(((uint8_t *)c.values)[1] == 1);
	REQUIRE(ev(&t, "'it''s'", 0, NULL, &c));
	CHECK(str_is(&c, 0, "it's"));
	tb_free(&t);
}

TEST(expr_case_coalesce_cast)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	REQUIRE(ev(&t, "CASE WHEN vol > 1 THEN 'big' WHEN vol = 0 THEN 'none' END", 0, NULL, &c));
	CHECK(str_is(&c, 0, "big") && str_is(&c, 1, "none") && isnull(&c, 2));
	REQUIRE(ev(&t, "CASE n WHEN 3 THEN 1 ELSE 2.5 END", 0, NULL, &c));
	CHECK(c.type.id == FLOE_TYPE_DOUBLE && d(&c, 0) == 1 && d(&c, 1) == 2.5 && d(&c, 2) == 2.5);
	REQUIRE(ev(&t, "coalesce(vol, n, 42)", 0, NULL, &c));
	CHECK(l(&c, 2) == 42 && l(&c, 0) == 5);
	REQUIRE(ev(&t, "nullif(vol, 0)", 0, NULL, &c));
	CHECK(isnull(&c, 1) && l(&c, 0) == 5);
	REQUIRE(ev(&t, "greatest(price, vol, 7)", 0, NULL, &c));
	CHECK(d(&c, 0) == 10.5 && d(&c, 1) == 7 && d(&c, 2) == 7);
	REQUIRE(ev(&t, "if(ok, 'y', 'n')", 0, NULL, &c));
	CHECK(str_is(&c, 0, "y") && str_is(&c, 1, "n") && str_is(&c, 2, "n"));
	REQUIRE(ev(&t, "CAST(price AS long)", 0, NULL, &c));
	CHECK(l(&c, 0) == 11 && l(&c, 1) == 2); /* rounds, as DuckDB */
	REQUIRE(ev(&t, "CAST('12.25' AS double) * 4", 0, NULL, &c));
	CHECK(d(&c, 0) == 49);
	REQUIRE(ev(&t, "CAST(vol AS string)", 0, NULL, &c));
	CHECK(str_is(&c, 0, "5") && isnull(&c, 2));
	REQUIRE(ev(&t, "TRY_CAST(sym AS double)", 0, NULL, &c));
	CHECK(isnull(&c, 0) && isnull(&c, 1));
	const char *m = err_of(&t, "CAST(sym AS double)", 0);
	CHECK(m && strstr(m, "row 0") && strstr(m, "aapl") && strstr(m, "TRY_CAST"));
	REQUIRE(ev(&t, "CAST(ts AS date)", 0, NULL, &c));
	CHECK(((int32_t *)c.values)[1] == -1); /* 1969-12-31 */
	tb_free(&t);
}

TEST(expr_time_functions)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	floe_column c;
	const int64_t t0 = 1795185015500000LL; /* 2026-11-20T14:30:15.5Z */
	REQUIRE(ev(&t, "to_timestamp('2026-11-20T09:30:15.5-05:00')", 0, NULL, &c));
	CHECK(c.type.id == FLOE_TYPE_TIMESTAMPTZ && l(&c, 0) == t0);
	REQUIRE(ev(&t, "date_trunc('minute', ts)", 0, NULL, &c));
	CHECK(l(&c, 0) == t0 - 15500000 && l(&c, 1) == -60000000 && isnull(&c, 2));
	REQUIRE(ev(&t, "window_start(ts, INTERVAL '5 minutes')", 0, NULL, &c));
	CHECK(l(&c, 0) == t0 - 15500000 && l(&c, 1) == -300000000); /* floor before 1970 */
	REQUIRE(ev(&t, "window_end(ts, '1m')", 0, NULL, &c));
	CHECK(l(&c, 1) == 0);
	REQUIRE(ev(&t, "date_trunc('day', ts) = TIMESTAMP '2026-11-20T00:00:00Z'", 0, NULL, &c));
	CHECK(((uint8_t *)c.values)[0] == 1);
	REQUIRE(ev(&t, "ts >= '2026-11-20' AND ts < '2026-11-20T14:31:00Z'", 0, NULL, &c));
	CHECK(((uint8_t *)c.values)[0] == 1 && ((uint8_t *)c.values)[1] == 0);
	REQUIRE(ev(&t, "ts + INTERVAL '30 seconds'", 0, NULL, &c));
	CHECK(l(&c, 1) == 0 && c.type.id == FLOE_TYPE_TIMESTAMPTZ);
	REQUIRE(ev(&t, "date_part('hour', ts) * 100 + date_part('minute', ts)", 0, NULL, &c));
	CHECK(l(&c, 0) == 1430 && l(&c, 1) == 2359);
	REQUIRE(ev(&t, "epoch_ms(ts)", 0, NULL, &c));
	CHECK(l(&c, 1) == -30000);
	REQUIRE(ev(&t, "date_trunc('week', ts)", 0, NULL, &c));
	CHECK(l(&c, 0) == 1794787200000000LL); /* Monday 2026-11-16 */
	REQUIRE(ev(&t, "try_to_timestamp(sym)", 0, NULL, &c));
	CHECK(isnull(&c, 0));
	const char *m = err_of(&t, "to_timestamp(sym)", 0);
	CHECK(m && strstr(m, "row 0") && strstr(m, "ISO-8601"));
	tb_free(&t);
}

TEST(expr_parse_and_bind_errors)
{
	tb t;
	REQUIRE(mk(&t, S, ROWS));
	const char *m = err_of(&t, "price > ", 0);
	CHECK(m && strstr(m, "at character 9") && strstr(m, "end of the expression"));
	m = err_of(&t, "price >> 2", 0);
	CHECK(m && strstr(m, "at character 8"));
	m = err_of(&t, "'open", 0);
	CHECK(m && strstr(m, "not closed"));
	m = err_of(&t, "prise * 2", 0);
	CHECK(m && strstr(m, "'prise'") && strstr(m, "price, vol"));
	m = err_of(&t, "sym + 1", 0);
	CHECK(m && strstr(m, "string") && strstr(m, "at character 5"));
	m = err_of(&t, "sym = 3", 0);
	CHECK(m && strstr(m, "cannot compare"));
	m = err_of(&t, "sum(price)", 0);
	CHECK(m && strstr(m, "aggregate"));
	m = err_of(&t, "lag(price)", 0);
	CHECK(m && strstr(m, "rolling step"));
	m = err_of(&t, "nosuch(price)", 0);
	CHECK(m && strstr(m, "no function nosuch"));
	m = err_of(&t, "upper(price)", 0);
	CHECK(m && strstr(m, "needs a string"));
	m = err_of(&t, "CASE WHEN price THEN 1 END", 0);
	CHECK(m && strstr(m, "WHEN needs a condition"));
	m = err_of(&t, "CAST(price AS nope)", 0);
	CHECK(m && strstr(m, "unknown type"));
	m = err_of(&t, "date_trunc('fortnight', ts)", 0);
	CHECK(m && strstr(m, "unknown unit"));
	int64_t us;
	floe_error err;
	CHECK(floe_expr_parse_interval(&us, "1m 30s", &err) == 0 && us == 90000000);
	CHECK(floe_expr_parse_interval(&us, "250ms", &err) == 0 && us == 250000);
	CHECK(floe_expr_parse_interval(&us, "2 hours", &err) == 0 && us == 7200000000LL);
	CHECK(floe_expr_parse_interval(&us, "soon", &err) == FLOE_EINVALID);
	CHECK(floe_expr_parse_interval(&us, "0s", &err) == FLOE_EINVALID);
	tb_free(&t);
}

TEST(expr_split_aggregates)
{
	floe_arena *a = floe_arena_new(0);
	floe_error err;
	floe_expr *e1, *e2, *e3;
	floe_expr_agg *aggs = NULL;
	int n = 0;
	REQUIRE_OK(floe_expr_parse(&e1, "sum(price * vol) / sum(vol)", a, &err), &err);
	REQUIRE_OK(floe_expr_parse(&e2, "SUM( vol ) + count(*)", a, &err), &err);
	REQUIRE_OK(floe_expr_parse(&e3, "last(price)", a, &err), &err);
	CHECK(floe_expr_has_aggregate(e1));
	REQUIRE_OK(floe_expr_split_aggregates(e1, &aggs, &n, a, &err), &err);
	REQUIRE_OK(floe_expr_split_aggregates(e2, &aggs, &n, a, &err), &err);
	REQUIRE_OK(floe_expr_split_aggregates(e3, &aggs, &n, a, &err), &err);
	CHECK_EQ_INT(n, 4); /* sum(vol) is shared */
	CHECK(aggs[0].fn == FLOE_AGG_SUM && strcmp(aggs[0].column, "__agg0") == 0);
	CHECK(aggs[2].fn == FLOE_AGG_COUNT_STAR && aggs[2].arg == NULL);
	CHECK(aggs[3].fn == FLOE_AGG_LAST);
	CHECK(!floe_expr_has_aggregate(e1) && !floe_expr_has_aggregate(e3));
	/* the rewritten expressions read the placeholders */
	floe_schema *s;
	REQUIRE_OK(floe_schema_parse(&s, "__agg0 double, __agg1 long, __agg2 long, __agg3 double",
	                             a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e1, s, 0, &err), &err);
	REQUIRE_OK(floe_expr_bind(e3, s, 0, &err), &err);
	const char *names[4];
	CHECK_EQ_INT(floe_expr_columns(e1, names, 4), 2);
	CHECK_EQ_STR(names[1], "__agg1");
	floe_expr *bad;
	REQUIRE_OK(floe_expr_parse(&bad, "sum(max(price))", a, &err), &err);
	CHECK(floe_expr_split_aggregates(bad, &aggs, &n, a, &err) == FLOE_EINVALID &&
	      strstr(err.msg, "do not nest"));
	floe_arena_free(a);
}

/* Series functions against a plain reference on random data. */
TEST(expr_series_match_brute_force)
{
	floe_arena *a = floe_arena_new(0);
	floe_error err;
	floe_schema *s;
	REQUIRE_OK(floe_schema_parse(&s, "g long, t timestamptz, x double", a, &err), &err);
	const int n = 600;
	int64_t *g = floe_arena_alloc(a, n * sizeof *g), *tm = floe_arena_alloc(a, n * sizeof *tm);
	double *x = floe_arena_alloc(a, n * sizeof *x);
	uint8_t *xv = floe_arena_calloc(a, (n + 7) / 8, 1);
	srand(5);
	int64_t cur = 0;
	for (int i = 0; i < n; i++) {
		g[i] = i / 150;
		if (i % 150 == 0)
			cur = 0;
		cur += 60000000LL * (1 + (rand() % 3 == 0)); /* minutes with gaps */
		if (rand() % 10 == 0)
			cur -= 60000000LL; /* a repeated time */
		tm[i] = cur;
		x[i] = 100 + (rand() % 1000) / 10.0;
		if (rand() % 17)
			floe_bitmap_set(xv, i, true);
	}
	floe_column cols[3];
	memset(cols, 0, sizeof cols);
	cols[0].type.id = FLOE_TYPE_LONG;
	cols[0].values = g;
	cols[1].type.id = FLOE_TYPE_TIMESTAMPTZ;
	cols[1].values = tm;
	cols[2].type.id = FLOE_TYPE_DOUBLE;
	cols[2].values = x;
	cols[2].validity = xv;
	floe_batch b = { n, 3, cols, s };
	floe_expr_series ser = { g, tm };
	const char *texts[] = { "lag(x)", "lag(x, 3)", "lag(x, INTERVAL '5 minutes')",
		"rolling_sum(x, INTERVAL '10 minutes')", "rolling_stddev(x, INTERVAL '15 minutes')",
		"rolling_count(x, INTERVAL '4m')", "rolling_max(x, '7m')" };
	for (int k = 0; k < 7; k++) {
		floe_expr *e;
		floe_column c;
		REQUIRE_OK(floe_expr_parse(&e, texts[k], a, &err), &err);
		REQUIRE_OK(floe_expr_bind(e, s, FLOE_EXPR_SERIES, &err), &err);
		REQUIRE_OK(floe_expr_eval(e, &b, &ser, &c, a, &err), &err);
		int bad = 0;
		for (int i = 0; i < n && bad < 3; i++) {
			bool null = true;
			double want = 0;
			int64_t d = k == 2 ? 300000000LL : k == 3 ? 600000000LL : k == 4 ? 900000000LL :
			            k == 5 ? 240000000LL : 420000000LL;
			if (k <= 1) {
				int j = i - (k == 0 ? 1 : 3);
				if (j >= 0 && g[j] == g[i] && ((xv[j >> 3] >> (j & 7)) & 1)) {
					null = false;
					want = x[j];
				}
			} else if (k == 2) {
				int hit = -1;
				for (int j = 0; j < i; j++)
					if (g[j] == g[i] && tm[j] == tm[i] - d)
						hit = j;
				if (hit >= 0 && ((xv[hit >> 3] >> (hit & 7)) & 1)) {
					null = false;
					want = x[hit];
				}
			} else {
				double sum = 0, mx = -1e300;
				int cnt = 0;
				for (int j = 0; j <= i; j++)
					if (g[j] == g[i] && tm[j] > tm[i] - d && tm[j] <= tm[i] &&
					    ((xv[j >> 3] >> (j & 7)) & 1)) {
						sum += x[j];
						cnt++;
						if (x[j] > mx)
							mx = x[j];
					}
				if (k == 3) {
					null = cnt == 0;
					want = sum;
				} else if (k == 4) {
					double mean = sum / cnt, ss = 0;
					for (int j = 0; j <= i; j++)
						if (g[j] == g[i] && tm[j] > tm[i] - d && tm[j] <= tm[i] &&
						    ((xv[j >> 3] >> (j & 7)) & 1))
							ss += (x[j] - mean) * (x[j] - mean);
					null = cnt < 2;
					want = cnt < 2 ? 0 : sqrt(ss / (cnt - 1));
				} else if (k == 5) {
					null = false;
					want = cnt;
				} else {
					null = cnt == 0;
					want = mx;
				}
			}
			bool got_null = !floe_column_is_valid(&c, i);
			double got = got_null ? 0 : k == 5 ? (double)((int64_t *)c.values)[i] :
			                                     ((double *)c.values)[i];
			if (got_null != null || (!null && fabs(got - want) > 1e-9 * fabs(want))) {
				th_fail(__FILE__, __LINE__, "%s row %d: got %s%g, want %s%g", texts[k], i,
				        got_null ? "NULL " : "", got, null ? "NULL " : "", want);
				bad++;
			}
		}
	}
	/* without times, interval lags are refused */
	floe_expr *e;
	floe_column c;
	floe_expr_series rows_only = { g, NULL };
	REQUIRE_OK(floe_expr_parse(&e, "lag(x, INTERVAL '1 minute')", a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e, s, FLOE_EXPR_SERIES, &err), &err);
	CHECK(floe_expr_eval(e, &b, &rows_only, &c, a, &err) == FLOE_EINVALID);
	floe_arena_free(a);
}
