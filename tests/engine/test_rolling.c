/* tests/engine/test_rolling.c - floe_rolling: returns and rolling
 * volatility over one-minute bars with missing minutes, checked against a
 * plain reference; order independence, from/to with look-back, the
 * look-back of a spec, and errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "floe/window.h"
#include "harness.h"

#define MIN_US INT64_C(60000000)
#define T0 INT64_C(1704205800000000) /* 2024-01-02T14:30:00Z */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

typedef struct bar {
	const char *symbol;
	int64_t minute;
	double close;
	bool close_null;
} bar;

static const char *bars_schema = "symbol string not null, minute timestamptz not null, "
                                 "close double, vwap double";

/* Bars of three symbols over `minutes` minutes, about one in five minutes
 * missing, now and then a NULL close. */
static bar *make_bars(int minutes, int *n)
{
	static const char *syms[] = { "AAPL", "MSFT", "GOOG" };
	bar *b = calloc((size_t)minutes * 3, sizeof *b);
	int m = 0;
	for (int s = 0; s < 3; s++) {
		double px = 100.0 * (s + 1);
		for (int i = 0; i < minutes; i++) {
			px *= 1.0 + ((double)(rnd() % 2001) - 1000.0) / 1e5;
			if (rnd() % 5 == 0)
				continue;
			b[m].symbol = syms[s];
			b[m].minute = T0 + i * MIN_US;
			b[m].close = px;
			b[m].close_null = rnd() % 40 == 0;
			m++;
		}
	}
	*n = m;
	return b;
}

static floe_batch_builder *build(const floe_schema *s, const bar *b, const int *idx, int n)
{
	floe_batch_builder *bld = NULL;
	floe_error err;
	if (floe_batch_builder_new(&bld, s, &err) != 0)
		return NULL;
	for (int k = 0; k < n; k++) {
		const bar *x = &b[idx ? idx[k] : k];
		floe_batch_builder_bytes(bld, 0, x->symbol, (int64_t)strlen(x->symbol), &err);
		floe_batch_builder_i64(bld, 1, x->minute, &err);
		if (x->close_null)
			floe_batch_builder_null(bld, 2, &err);
		else
			floe_batch_builder_f64(bld, 2, x->close, &err);
		floe_batch_builder_f64(bld, 3, x->close, &err);
	}
	return bld;
}

static const char *roll_keys[] = { "symbol" };
static const char *roll_names[] = { "symbol", "minute", "ret_5m", "vol" };
static const char *roll_exprs[] = {
	"symbol", "minute", "close / lag(close, INTERVAL '5 minutes') - 1",
	"rolling_stddev(ln(close / lag(close, INTERVAL '1 minute')), INTERVAL '15 minutes')",
};

static floe_rolling_spec roll_spec(void)
{
	floe_rolling_spec rs;
	memset(&rs, 0, sizeof rs);
	rs.keys = roll_keys;
	rs.nkeys = 1;
	rs.time = "minute";
	rs.names = roll_names;
	rs.exprs = roll_exprs;
	rs.nout = 4;
	return rs;
}

/* ---- the reference ------------------------------------------------------------ */

static const bar *at(const bar *b, int n, const char *sym, int64_t t)
{
	for (int i = 0; i < n; i++)
		if (b[i].minute == t && strcmp(b[i].symbol, sym) == 0)
			return &b[i];
	return NULL;
}

/* ret: close / close 5 minutes before - 1 (NULL when either is missing). */
static bool ref_ret(const bar *b, int n, const bar *x, double *v)
{
	const bar *p = at(b, n, x->symbol, x->minute - 5 * MIN_US);
	if (x->close_null || !p || p->close_null)
		return false;
	*v = x->close / p->close - 1;
	return true;
}

static bool ref_logret(const bar *b, int n, const bar *x, double *v)
{
	const bar *p = at(b, n, x->symbol, x->minute - MIN_US);
	if (x->close_null || !p || p->close_null)
		return false;
	*v = log(x->close / p->close);
	return true;
}

/* vol: sample standard deviation of the one-minute log returns of the
 * symbol's bars with time in (t - 15 min, t]; NULL under two values. */
static bool ref_vol(const bar *b, int n, const bar *x, double *v)
{
	double xs[32];
	int m = 0;
	for (int i = 0; i < n; i++) {
		const bar *y = &b[i];
		double r;
		if (strcmp(y->symbol, x->symbol) != 0 || y->minute <= x->minute - 15 * MIN_US ||
		    y->minute > x->minute || !ref_logret(b, n, y, &r))
			continue;
		xs[m++] = r;
	}
	if (m < 2)
		return false;
	double mean = 0, ss = 0;
	for (int i = 0; i < m; i++)
		mean += xs[i];
	mean /= m;
	for (int i = 0; i < m; i++)
		ss += (xs[i] - mean) * (xs[i] - mean);
	*v = sqrt(ss / (m - 1));
	return true;
}

/* the order rows come out in: time, then symbol */
static int by_time_sym(const void *a, const void *b)
{
	const bar *x = a, *y = b;
	if (x->minute != y->minute)
		return x->minute < y->minute ? -1 : 1;
	return strcmp(x->symbol, y->symbol);
}

static bool close_to(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static bool str_is(const floe_column *col, int64_t r, const char *s)
{
	int64_t len = col->offsets[r + 1] - col->offsets[r];
	return floe_column_is_valid(col, r) && len == (int64_t)strlen(s) &&
	       memcmp(col->data + col->offsets[r], s, (size_t)len) == 0;
}

/* out (symbol, minute, ret_5m, vol) against the reference for the bars
 * with time in [from, to); returns the mismatches. */
static int check_rolling(const floe_batch *out, const bar *b, int n, int64_t from, int64_t to)
{
	bar *want = malloc((size_t)n * sizeof *want);
	int m = 0, bad = 0;
	for (int i = 0; i < n; i++)
		if (b[i].minute >= from && b[i].minute < to)
			want[m++] = b[i];
	qsort(want, (size_t)m, sizeof *want, by_time_sym);
	if (out->nrows != m) {
		th_fail(__FILE__, __LINE__, "%lld rows, want %d", (long long)out->nrows, m);
		free(want);
		return 1;
	}
	int nret = 0, nvol = 0;
	for (int r = 0; r < m && bad < 5; r++) {
		const bar *x = &want[r];
		double ret = 0, vol = 0;
		bool has_ret = ref_ret(b, n, x, &ret), has_vol = ref_vol(b, n, x, &vol);
		nret += has_ret;
		nvol += has_vol;
		const double *rv = out->cols[2].values, *vv = out->cols[3].values;
		bool ok = str_is(&out->cols[0], r, x->symbol) &&
		          ((const int64_t *)out->cols[1].values)[r] == x->minute &&
		          floe_column_is_valid(&out->cols[2], r) == has_ret &&
		          (!has_ret || close_to(rv[r], ret)) &&
		          floe_column_is_valid(&out->cols[3], r) == has_vol &&
		          (!has_vol || close_to(vv[r], vol));
		if (!ok) {
			bad++;
			th_fail(__FILE__, __LINE__,
			        "row %d (%s +%lld min): ret %d %.17g vol %d %.17g; want %d %.17g %d %.17g",
			        r, x->symbol, (long long)((x->minute - T0) / MIN_US),
			        floe_column_is_valid(&out->cols[2], r), rv[r],
			        floe_column_is_valid(&out->cols[3], r), vv[r], has_ret, ret, has_vol, vol);
		}
	}
	/* the data exercise both: most rows have a 5-minute return and a
	 * volatility, some (missing minutes) do not */
	if (m > 20 && (nret < m / 3 || nret == m || nvol < m / 2)) {
		th_fail(__FILE__, __LINE__, "weak data: %d rows, %d returns, %d volatilities", m, nret,
		        nvol);
		bad++;
	}
	free(want);
	return bad;
}

static bool same_batch(const floe_batch *a, const floe_batch *b)
{
	if (a->nrows != b->nrows || a->ncols != b->ncols)
		return false;
	for (int c = 0; c < a->ncols; c++) {
		const floe_column *x = &a->cols[c], *y = &b->cols[c];
		for (int64_t r = 0; r < a->nrows; r++) {
			bool vx = floe_column_is_valid(x, r), vy = floe_column_is_valid(y, r);
			if (vx != vy)
				return false;
			if (!vx)
				continue;
			if (floe_type_is_variable(&x->type)) {
				int64_t lx = x->offsets[r + 1] - x->offsets[r];
				if (lx != y->offsets[r + 1] - y->offsets[r] ||
				    memcmp(x->data + x->offsets[r], y->data + y->offsets[r], (size_t)lx))
					return false;
			} else if (memcmp((const uint8_t *)x->values + r * 8,
			                  (const uint8_t *)y->values + r * 8, 8)) {
				return false;
			}
		}
	}
	return true;
}

TEST(rolling_returns_and_volatility_match_reference)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL;
	floe_error err;
	REQUIRE_OK(floe_schema_parse(&s, bars_schema, a, &err), &err);
	int n = 0;
	bar *b = make_bars(90, &n);
	floe_rolling_spec rs = roll_spec();
	floe_rolling *r = NULL;
	REQUIRE_OK(floe_rolling_new(&r, &rs, s, &err), &err);
	const floe_schema *os = floe_rolling_schema(r);
	REQUIRE(os->nfields == 4);
	CHECK_EQ_STR(os->fields[2].name, "ret_5m");
	CHECK_EQ_INT(os->fields[0].type.id, FLOE_TYPE_STRING);
	CHECK_EQ_INT(os->fields[1].type.id, FLOE_TYPE_TIMESTAMPTZ);
	CHECK_EQ_INT(os->fields[3].type.id, FLOE_TYPE_DOUBLE);
	CHECK_EQ_INT(floe_rolling_lookback_us(r), 21 * MIN_US);
	/* shuffled input */
	int *idx = malloc((size_t)n * sizeof *idx);
	for (int i = 0; i < n; i++)
		idx[i] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(rnd() % (uint64_t)(i + 1)), x = idx[i];
		idx[i] = idx[j];
		idx[j] = x;
	}
	floe_batch_builder *bld = build(s, b, idx, n);
	floe_batch out;
	REQUIRE_OK(floe_rolling_run(r, floe_batch_builder_view(bld), INT64_MIN, INT64_MAX, &out, a,
	                            &err),
	           &err);
	CHECK(out.schema == os);
	CHECK_EQ_INT(check_rolling(&out, b, n, INT64_MIN, INT64_MAX), 0);
	/* the same rows in their own order give the same bytes */
	floe_batch_builder *bld2 = build(s, b, NULL, n);
	floe_batch again;
	REQUIRE_OK(floe_rolling_run(r, floe_batch_builder_view(bld2), INT64_MIN, INT64_MAX, &again,
	                            a, &err),
	           &err);
	CHECK(same_batch(&out, &again));
	floe_batch_builder_free(bld);
	floe_batch_builder_free(bld2);
	free(idx);
	free(b);
	floe_rolling_free(r);
	floe_arena_free(a);
}

/* Rows in [from, to) only, but computed from every row given: with the
 * look-back's worth of earlier rows the range's values equal a full run's. */
TEST(rolling_from_to_with_lookback)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL;
	floe_error err;
	REQUIRE_OK(floe_schema_parse(&s, bars_schema, a, &err), &err);
	int n = 0;
	bar *b = make_bars(80, &n);
	floe_rolling_spec rs = roll_spec();
	floe_rolling *r = NULL;
	REQUIRE_OK(floe_rolling_new(&r, &rs, s, &err), &err);
	int64_t from = T0 + 40 * MIN_US, to = T0 + 55 * MIN_US;
	int64_t lb = floe_rolling_lookback_us(r);
	int *idx = malloc((size_t)n * sizeof *idx), m = 0;
	for (int i = 0; i < n; i++)
		if (b[i].minute >= from - lb && b[i].minute < to)
			idx[m++] = i;
	floe_batch_builder *bld = build(s, b, idx, m);
	floe_batch out;
	REQUIRE_OK(floe_rolling_run(r, floe_batch_builder_view(bld), from, to, &out, a, &err), &err);
	CHECK_EQ_INT(check_rolling(&out, b, n, from, to), 0);
	for (int64_t i = 0; i < out.nrows; i++) {
		int64_t t = ((const int64_t *)out.cols[1].values)[i];
		CHECK(t >= from && t < to);
	}
	/* empty input */
	floe_batch_builder_free(bld);
	bld = build(s, b, idx, 0);
	REQUIRE_OK(floe_rolling_run(r, floe_batch_builder_view(bld), INT64_MIN, INT64_MAX, &out, a,
	                            &err),
	           &err);
	CHECK_EQ_INT(out.nrows, 0);
	CHECK_EQ_INT(out.ncols, 4);
	REQUIRE(out.cols[0].offsets != NULL);
	CHECK_EQ_INT(out.cols[0].offsets[0], 0);
	floe_batch_builder_free(bld);
	free(idx);
	free(b);
	floe_rolling_free(r);
	floe_arena_free(a);
}

/* The look-back adds the interval of every series call the outputs make,
 * and ignores text in string literals, other intervals and row lags. */
TEST(rolling_lookback_sums_intervals)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL;
	floe_error err;
	REQUIRE_OK(floe_schema_parse(&s, bars_schema, a, &err), &err);
	static const char *names[] = { "a", "b", "c" };
	static const char *exprs[] = {
		"lag(close, 3)",
		"CASE WHEN symbol = 'interval ''9 minutes''' THEN 1.0 ELSE rolling_avg(close, interval '2 hours') END",
		"rolling_max(vwap, INTERVAL   '30s')",
	};
	floe_rolling_spec rs = roll_spec();
	rs.names = names;
	rs.exprs = exprs;
	rs.nout = 3;
	floe_rolling *r = NULL;
	REQUIRE_OK(floe_rolling_new(&r, &rs, s, &err), &err);
	CHECK_EQ_INT(floe_rolling_lookback_us(r), 2 * 60 * MIN_US + 30 * INT64_C(1000000));
	floe_rolling_free(r);
	rs.nout = 1;
	REQUIRE_OK(floe_rolling_new(&r, &rs, s, &err), &err);
	CHECK_EQ_INT(floe_rolling_lookback_us(r), 0);
	floe_rolling_free(r);
	/* the binder also takes a plain string as the interval; intervals
	 * outside series calls read no earlier row; nested calls add up */
	static const char *names2[] = { "d", "e", "f" };
	static const char *exprs2[] = {
		"close / lag(close, '5 minutes') - 1",
		"CASE WHEN minute - INTERVAL '1 day' > minute THEN 0 ELSE lag(close) END",
		"rolling_sum(coalesce(lag(close, INTERVAL '1m'), 0.0) * (1 + 2), '1 hour')",
	};
	rs.names = names2;
	rs.exprs = exprs2;
	rs.nout = 3;
	REQUIRE_OK(floe_rolling_new(&r, &rs, s, &err), &err);
	CHECK_EQ_INT(floe_rolling_lookback_us(r), 5 * MIN_US + MIN_US + 60 * MIN_US);
	floe_rolling_free(r);
	floe_arena_free(a);
}

TEST(rolling_errors)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL;
	floe_error err;
	REQUIRE_OK(floe_schema_parse(&s, "symbol string, minute timestamptz, close double, n long",
	                             a, &err),
	           &err);
	floe_rolling_spec rs = roll_spec();
	floe_rolling *r = NULL;
	static const char *names[] = { "x" };
	static const char *agg[] = { "sum(close)" };
	static const char *bad[] = { "close + qty" };
	rs.names = names;
	rs.nout = 1;
	rs.exprs = agg;
	CHECK_EQ_INT(floe_rolling_new(&r, &rs, s, &err), FLOE_EINVALID);
	CHECK(strncmp(err.msg, "output x: ", 10) == 0 && strstr(err.msg, "aggregate"));
	rs.exprs = bad;
	CHECK_EQ_INT(floe_rolling_new(&r, &rs, s, &err), FLOE_ENOTFOUND);
	CHECK(strncmp(err.msg, "output x: ", 10) == 0 && strstr(err.msg, "qty"));
	rs = roll_spec();
	rs.time = "n";
	CHECK_EQ_INT(floe_rolling_new(&r, &rs, s, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "timestamp") != NULL);
	rs.time = "when";
	CHECK_EQ_INT(floe_rolling_new(&r, &rs, s, &err), FLOE_ENOTFOUND);
	rs = roll_spec();
	static const char *dup_names[] = { "a", "a" };
	static const char *two[] = { "close", "n" };
	rs.names = dup_names;
	rs.exprs = two;
	rs.nout = 2;
	CHECK_EQ_INT(floe_rolling_new(&r, &rs, s, &err), FLOE_EINVALID);
	CHECK(r == NULL);
	/* a NULL time at run time */
	rs = roll_spec();
	REQUIRE_OK(floe_rolling_new(&r, &rs, s, &err), &err);
	floe_batch_builder *bld = NULL;
	REQUIRE_OK(floe_batch_builder_new(&bld, s, &err), &err);
	floe_batch_builder_bytes(bld, 0, "A", 1, &err);
	floe_batch_builder_null(bld, 1, &err);
	floe_batch_builder_f64(bld, 2, 1, &err);
	floe_batch_builder_i64(bld, 3, 1, &err);
	floe_batch out;
	CHECK_EQ_INT(floe_rolling_run(r, floe_batch_builder_view(bld), INT64_MIN, INT64_MAX, &out, a,
	                              &err),
	             FLOE_EINVALID);
	CHECK(strstr(err.msg, "row 0") && strstr(err.msg, "minute"));
	floe_batch_builder_free(bld);
	floe_rolling_free(r);
	/* an output failing on a row names the caller's row: "A" sorts first
	 * but is row 1 of the batch */
	static const char *cast[] = { "CAST(symbol AS double)" };
	rs = roll_spec();
	rs.names = names;
	rs.exprs = cast;
	rs.nout = 1;
	REQUIRE_OK(floe_rolling_new(&r, &rs, s, &err), &err);
	REQUIRE_OK(floe_batch_builder_new(&bld, s, &err), &err);
	for (int i = 0; i < 2; i++) {
		floe_batch_builder_bytes(bld, 0, i ? "A" : "B", 1, &err);
		floe_batch_builder_i64(bld, 1, T0, &err);
		floe_batch_builder_f64(bld, 2, 1, &err);
		floe_batch_builder_i64(bld, 3, 1, &err);
	}
	CHECK_EQ_INT(floe_rolling_run(r, floe_batch_builder_view(bld), INT64_MIN, INT64_MAX, &out, a,
	                              &err),
	             FLOE_EINVALID);
	CHECK(strncmp(err.msg, "output x: row 1: ", 17) == 0 && strstr(err.msg, "'A'"));
	floe_batch_builder_free(bld);
	floe_rolling_free(r);
	floe_arena_free(a);
}
