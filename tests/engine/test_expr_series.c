/* Series functions (lag, rolling_*) against brute-force references on
 * random data with several groups, NULLs and repeated times; frames whose
 * values do not depend on where a batch begins; the numeric quality of
 * rolling_stddev; linear time on a long series; and their errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "floe/expr.h"
#include "harness.h"

/* g long, t timestamptz, x double, v long, s string: n rows in arrays */
typedef struct series {
	floe_arena *a;
	floe_schema *s;
	int n;
	int64_t *g, *t, *v;
	double *x;
	uint8_t *xv, *vv;
	int64_t *soff;
	uint8_t *sdata;
	floe_column cols[5];
	floe_batch b;
	floe_expr_series ser;
} series;

static bool valid_at(const uint8_t *bits, int i)
{
	return (bits[i >> 3] >> (i & 7)) & 1;
}

static void series_new(series *z, int n)
{
	memset(z, 0, sizeof *z);
	z->a = floe_arena_new(0);
	floe_error err;
	(void)floe_schema_parse(&z->s, "g long, t timestamptz, x double, v long, s string", z->a,
	                        &err);
	z->n = n;
	size_t nn = (size_t)(n ? n : 1);
	z->g = floe_arena_calloc(z->a, nn, sizeof *z->g);
	z->t = floe_arena_calloc(z->a, nn, sizeof *z->t);
	z->v = floe_arena_calloc(z->a, nn, sizeof *z->v);
	z->x = floe_arena_calloc(z->a, nn, sizeof *z->x);
	z->xv = floe_arena_calloc(z->a, nn / 8 + 1, 1);
	z->vv = floe_arena_calloc(z->a, nn / 8 + 1, 1);
	z->soff = floe_arena_calloc(z->a, nn + 1, sizeof *z->soff);
	z->sdata = floe_arena_calloc(z->a, nn * 4 + 1, 1);
}

/* Wire the columns up (after the arrays are filled); strings are the
 * value of v in base 26 letters. */
static void series_finish(series *z)
{
	for (int i = 0; i < z->n; i++) {
		int64_t k = z->v[i] < 0 ? -z->v[i] : z->v[i];
		size_t at = (size_t)z->soff[i], len = 0;
		do {
			z->sdata[at + len++] = (uint8_t)('a' + k % 26);
			k /= 26;
		} while (k && len < 3);
		z->soff[i + 1] = (int64_t)(at + len);
	}
	void *vals[5] = { z->g, z->t, z->x, z->v, NULL };
	uint8_t *valid[5] = { NULL, NULL, z->xv, z->vv, z->vv };
	for (int c = 0; c < 5; c++) {
		memset(&z->cols[c], 0, sizeof z->cols[c]);
		z->cols[c].type = z->s->fields[c].type;
		z->cols[c].values = vals[c];
		z->cols[c].validity = valid[c];
	}
	z->cols[4].offsets = z->soff;
	z->cols[4].data = z->sdata;
	z->b = (floe_batch){ z->n, 5, z->cols, z->s };
	z->ser = (floe_expr_series){ z->g, z->t };
}

/* Random groups of minutes with gaps and repeated times; x multiples of
 * 1/64 (so sums are exact and a reference can compare bit for bit). */
static void series_random(series *z, int n, unsigned seed)
{
	series_new(z, n);
	srand(seed);
	int64_t cur = 0, grp = -1;
	for (int i = 0; i < n; i++) {
		if (i == 0 || rand() % 97 == 0) {
			grp++;
			cur = (int64_t)(rand() % 1000 - 500) * 60000000LL; /* some before 1970 */
		}
		z->g[i] = grp;
		int step = rand() % 6;
		cur += step == 0 ? 0 : step == 5 ? 180000000LL : 60000000LL;
		z->t[i] = cur;
		z->x[i] = (double)(rand() % 12801 - 6400) / 64.0;
		z->v[i] = (int64_t)(rand() % 2001) - 1000;
		if (rand() % 11)
			floe_bitmap_set(z->xv, i, true);
		if (rand() % 13)
			floe_bitmap_set(z->vv, i, true);
	}
	series_finish(z);
}

static bool eval_on(series *z, const floe_batch *b, const floe_expr_series *ser,
                    const char *text, floe_column *out)
{
	floe_expr *e;
	floe_error err;
	if (floe_expr_parse(&e, text, z->a, &err) || floe_expr_bind(e, z->s, FLOE_EXPR_SERIES, &err) ||
	    floe_expr_eval(e, b, ser, out, z->a, &err)) {
		fprintf(stderr, "%s: %s\n", text, err.msg);
		return false;
	}
	return true;
}

/* brute force: the frame of row i is rows j of its group with time in
 * (t_i - d, t_i], the later rows at time t_i too */
static bool in_frame(const series *z, int i, int j, int64_t d)
{
	return z->g[j] == z->g[i] && z->t[j] > z->t[i] - d && z->t[j] <= z->t[i];
}

typedef struct ref {
	bool null;
	double d;  /* doubles */
	int64_t l; /* longs, counts, times */
	const uint8_t *sp; /* strings */
	size_t sn;
} ref;

static int cmp_str(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int k = memcmp(a, b, an < bn ? an : bn);
	return k ? k : (an < bn ? -1 : an > bn);
}

enum { K_LAG1, K_LAG3, K_LAGS, K_LAGT, K_LAGTV, K_SUMX, K_SUMV, K_AVGX, K_AVGV, K_MINX, K_MAXX,
       K_MINV, K_MAXV, K_MINS, K_MAXT, K_CNTX, K_CNTS, K_SDX, K_SDV, K_N };

static const char *const texts[K_N] = {
	"lag(x)", "lag(x, 3)", "lag(s, 2)", "lag(x, INTERVAL '5 minutes')", "lag(v, '2m')",
	"rolling_sum(x, INTERVAL '10 minutes')", "rolling_sum(v, '10m')",
	"rolling_avg(x, '7m')", "rolling_avg(v, '7m')", "rolling_min(x, '6m')",
	"rolling_max(x, '6m')", "rolling_min(v, '4m')", "rolling_max(v, '1h')",
	"rolling_min(s, '5m')", "rolling_max(t, '3m')", "rolling_count(x, '4m')",
	"rolling_count(s, '1m')", "rolling_stddev(x, INTERVAL '15 minutes')",
	"rolling_stddev(v, '8m')",
};

static ref reference(const series *z, int k, int i)
{
	ref r = { .null = true };
	static const int64_t m = 60000000LL;
	int64_t d = k == K_LAGT ? 5 * m : k == K_LAGTV ? 2 * m : k == K_SUMX || k == K_SUMV ? 10 * m :
	            k == K_AVGX || k == K_AVGV ? 7 * m : k == K_MINX || k == K_MAXX ? 6 * m :
	            k == K_MINV ? 4 * m : k == K_MAXV ? 60 * m : k == K_MINS ? 5 * m :
	            k == K_MAXT ? 3 * m : k == K_CNTX ? 4 * m : k == K_CNTS ? m : k == K_SDX ? 15 * m :
	            8 * m;
	if (k <= K_LAGS) {
		int j = i - (k == K_LAG1 ? 1 : k == K_LAG3 ? 3 : 2);
		if (j < 0 || z->g[j] != z->g[i])
			return r;
		if (k == K_LAGS) {
			if (valid_at(z->vv, j)) {
				r.null = false;
				r.sp = z->sdata + z->soff[j];
				r.sn = (size_t)(z->soff[j + 1] - z->soff[j]);
			}
		} else if (valid_at(z->xv, j)) {
			r.null = false;
			r.d = z->x[j];
		}
		return r;
	}
	if (k == K_LAGT || k == K_LAGTV) {
		int hit = -1;
		for (int j = 0; j < z->n; j++)
			if (z->g[j] == z->g[i] && z->t[j] == z->t[i] - d)
				hit = j; /* the last of them */
		const uint8_t *bits = k == K_LAGT ? z->xv : z->vv;
		if (hit >= 0 && valid_at(bits, hit)) {
			r.null = false;
			r.d = z->x[hit];
			r.l = z->v[hit];
		}
		return r;
	}
	bool on_v = k == K_SUMV || k == K_AVGV || k == K_MINV || k == K_MAXV || k == K_MINS ||
	            k == K_CNTS || k == K_SDV;
	const uint8_t *bits = on_v ? z->vv : k == K_MAXT ? NULL : z->xv;
	double sum = 0;
	long double lsum = 0;
	int64_t isum = 0, cnt = 0;
	int best = -1;
	for (int j = 0; j < z->n; j++) {
		if (!in_frame(z, i, j, d) || (bits && !valid_at(bits, j)))
			continue;
		cnt++;
		sum += z->x[j];
		isum += z->v[j];
		lsum += on_v ? (long double)z->v[j] : (long double)z->x[j];
		if (best < 0) {
			best = j;
			continue;
		}
		int c;
		if (k == K_MINS)
			c = cmp_str(z->sdata + z->soff[j], (size_t)(z->soff[j + 1] - z->soff[j]),
			            z->sdata + z->soff[best], (size_t)(z->soff[best + 1] - z->soff[best]));
		else if (k == K_MAXT)
			c = z->t[j] < z->t[best] ? -1 : z->t[j] > z->t[best];
		else if (on_v)
			c = z->v[j] < z->v[best] ? -1 : z->v[j] > z->v[best];
		else
			c = z->x[j] < z->x[best] ? -1 : z->x[j] > z->x[best];
		bool is_min = k == K_MINX || k == K_MINV || k == K_MINS;
		if (is_min ? c <= 0 : c >= 0)
			best = j; /* ties: the last */
	}
	if (k == K_CNTX || k == K_CNTS) {
		r.null = false;
		r.l = cnt;
		return r;
	}
	if (cnt == 0)
		return r;
	r.null = false;
	switch (k) {
	case K_SUMX: r.d = sum; break;
	case K_SUMV: r.l = isum; break;
	case K_AVGX: r.d = sum / (double)cnt; break;
	case K_AVGV: r.d = (double)isum / (double)cnt; break;
	case K_MINX:
	case K_MAXX: r.d = z->x[best]; break;
	case K_MINV:
	case K_MAXV: r.l = z->v[best]; break;
	case K_MAXT: r.l = z->t[best]; break;
	case K_MINS:
		r.sp = z->sdata + z->soff[best];
		r.sn = (size_t)(z->soff[best + 1] - z->soff[best]);
		break;
	default: { /* sample stddev, two passes in long double */
		if (cnt < 2) {
			r.null = true;
			break;
		}
		long double mean = lsum / cnt, ss = 0;
		for (int j = 0; j < z->n; j++)
			if (in_frame(z, i, j, d) && valid_at(bits, j)) {
				long double dv = (on_v ? (long double)z->v[j] : (long double)z->x[j]) - mean;
				ss += dv * dv;
			}
		r.d = (double)sqrtl(ss / (cnt - 1));
		break;
	}
	}
	return r;
}

TEST(expr_series_match_brute_force)
{
	series z;
	series_random(&z, 700, 5);
	for (int k = 0; k < K_N; k++) {
		floe_column c;
		REQUIRE(eval_on(&z, &z.b, &z.ser, texts[k], &c));
		int bad = 0;
		for (int i = 0; i < z.n && bad < 3; i++) {
			ref want = reference(&z, k, i);
			bool got_null = !floe_column_is_valid(&c, i);
			bool same = got_null == want.null;
			if (same && !want.null) {
				switch (c.type.id) {
				case FLOE_TYPE_DOUBLE: {
					double got = ((const double *)c.values)[i];
					same = k == K_SDX || k == K_SDV ? fabs(got - want.d) <= 1e-12 * want.d :
					       got == want.d; /* exact sums: bit for bit */
					break;
				}
				case FLOE_TYPE_STRING:
					same = cmp_str(c.data + c.offsets[i],
					               (size_t)(c.offsets[i + 1] - c.offsets[i]), want.sp,
					               want.sn) == 0;
					break;
				default:
					same = ((const int64_t *)c.values)[i] == want.l;
					break;
				}
			}
			if (!same) {
				th_fail(__FILE__, __LINE__, "%s row %d (group %lld): got %s, want %s%g/%lld",
				        texts[k], i, (long long)z.g[i], got_null ? "NULL" : "a value",
				        want.null ? "NULL " : "", want.d, (long long)want.l);
				bad++;
			}
		}
	}
	floe_arena_free(z.a);
}

/* A stream evaluates a frame over a tail of earlier rows plus a new
 * batch; a backfill over everything. Both must agree to the bit, wherever
 * the batch began. */
TEST(expr_series_frames_do_not_depend_on_batch_start)
{
	series z;
	series_random(&z, 900, 11);
	srand(17);
	for (int i = 0; i < z.n; i++) {
		/* values whose sums round: prices with noise over magnitudes */
		double mag = pow(10, rand() % 7 - 2);
		z.x[i] = (100 + (double)rand() / RAND_MAX * 3.7) * mag + 1.0 / 3;
		z.g[i] = 0; /* one long group, times rising, some repeated */
		z.t[i] = i == 0 ? 0 : z.t[i - 1] + (rand() % 4) * 30000000LL;
	}
	z.ser.group = NULL;
	static const char *const exprs[] = { "rolling_sum(x, '20m')", "rolling_avg(x, '20m')",
		"rolling_stddev(x, '20m')", "rolling_min(x, '20m')", "rolling_max(x, '20m')",
		"rolling_sum(v, '20m')" };
	const int64_t d = 20 * 60000000LL;
	for (size_t e = 0; e < sizeof exprs / sizeof *exprs; e++) {
		floe_column full;
		REQUIRE(eval_on(&z, &z.b, &z.ser, exprs[e], &full));
		int compared = 0, bad = 0;
		for (int k = 1; k < z.n - 1 && bad < 3; k += 37) {
			/* the batch from row k on */
			floe_column cols[5];
			for (int c = 0; c < 5; c++) {
				cols[c] = z.cols[c];
				int w = c == 4 ? 0 : 8;
				if (w)
					cols[c].values = (uint8_t *)z.cols[c].values + (size_t)k * 8;
				cols[c].validity = NULL;
			}
			/* validity bitmaps re-based */
			uint8_t *xv = floe_arena_calloc(z.a, (size_t)z.n / 8 + 1, 1);
			uint8_t *vv = floe_arena_calloc(z.a, (size_t)z.n / 8 + 1, 1);
			int64_t *so = floe_arena_alloc(z.a, (size_t)(z.n + 1) * sizeof *so);
			for (int i = k; i < z.n; i++) {
				floe_bitmap_set(xv, i - k, valid_at(z.xv, i));
				floe_bitmap_set(vv, i - k, valid_at(z.vv, i));
			}
			for (int i = k; i <= z.n; i++)
				so[i - k] = z.soff[i] - z.soff[k];
			cols[2].validity = xv;
			cols[3].validity = vv;
			cols[4].validity = vv;
			cols[4].offsets = so;
			cols[4].data = z.sdata + z.soff[k];
			floe_batch part = { z.n - k, 5, cols, z.s };
			floe_expr_series ps = { NULL, z.t + k };
			floe_column got;
			REQUIRE(eval_on(&z, &part, &ps, exprs[e], &got));
			for (int i = k; i < z.n; i++) {
				if (z.t[k - 1] > z.t[i] - d)
					continue; /* its frame starts before the batch */
				compared++;
				bool n1 = !floe_column_is_valid(&full, i), n2 = !floe_column_is_valid(&got, i - k);
				if (n1 != n2 || (!n1 && memcmp((const uint8_t *)full.values + (size_t)i * 8,
				                               (const uint8_t *)got.values + (size_t)(i - k) * 8,
				                               8) != 0)) {
					th_fail(__FILE__, __LINE__, "%s row %d: from row %d it differs", exprs[e],
					        i, k);
					bad++;
					break;
				}
			}
		}
		CHECK(compared > 1000);
	}
	floe_arena_free(z.a);
}

TEST(expr_series_stddev_and_sums_are_exact)
{
	series z;
	series_new(&z, 400);
	srand(23);
	for (int i = 0; i < z.n; i++) {
		z.t[i] = (int64_t)i * 1000000; /* a second apart */
		/* a large level with small noise: the hard case for sum-of-squares */
		z.x[i] = i < 200 ? 1e9 + (double)(rand() % 1000) / 1000 : 42.125;
		z.v[i] = i % 2 ? INT64_MAX / 4 : -(INT64_MAX / 4);
		floe_bitmap_set(z.xv, i, true);
		floe_bitmap_set(z.vv, i, true);
	}
	series_finish(&z);
	floe_column c;
	REQUIRE(eval_on(&z, &z.b, &z.ser, "rolling_stddev(x, '50s')", &c));
	for (int i = 1; i < 200; i++) {
		long double mean = 0, ss = 0;
		int lo = i - 49 < 0 ? 0 : i - 49, cnt = i - lo + 1;
		for (int j = lo; j <= i; j++)
			mean += z.x[j];
		mean /= cnt;
		for (int j = lo; j <= i; j++)
			ss += ((long double)z.x[j] - mean) * ((long double)z.x[j] - mean);
		double want = (double)sqrtl(ss / (cnt - 1)), got = ((const double *)c.values)[i];
		if (fabs(got - want) > 1e-9 * want) {
			th_fail(__FILE__, __LINE__, "row %d: %.17g, want %.17g", i, got, want);
			break;
		}
	}
	CHECK(!floe_column_is_valid(&c, 0)); /* one value: NULL */
	for (int i = 250; i < 400; i++)
		CHECK(((const double *)c.values)[i] == 0); /* constant: exactly 0 */
	/* long sums in 128 bits: the running total may pass 2^63 on the way */
	REQUIRE(eval_on(&z, &z.b, &z.ser, "rolling_sum(v, '3s')", &c));
	CHECK(((const int64_t *)c.values)[10] == -(INT64_MAX / 4) && ((const int64_t *)c.values)[11] ==
	      INT64_MAX / 4);
	/* but a total that does not fit a long is an error naming the row */
	for (int i = 0; i < z.n; i++)
		z.v[i] = INT64_MAX / 2;
	floe_expr *e;
	floe_error err;
	REQUIRE_OK(floe_expr_parse(&e, "rolling_sum(v, '10s')", z.a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e, z.s, FLOE_EXPR_SERIES, &err), &err);
	CHECK(floe_expr_eval(e, &z.b, &z.ser, &c, z.a, &err) == FLOE_EINVALID &&
	      strstr(err.msg, "row 2:") && strstr(err.msg, "overflows a long"));
	REQUIRE(eval_on(&z, &z.b, &z.ser, "rolling_avg(v, '10s')", &c));
	CHECK(((const double *)c.values)[9] == (double)(INT64_MAX / 2));
	/* an infinity or NaN stays in the frame's sum only while its row does */
	z.x[300] = INFINITY;
	z.x[310] = NAN;
	REQUIRE(eval_on(&z, &z.b, &z.ser, "rolling_sum(x, '5s')", &c));
	const double *s = c.values;
	CHECK(isinf(s[300]) && isinf(s[304]) && s[305] == 42.125 * 5 && isnan(s[310]) &&
	      s[315] == 42.125 * 5);
	REQUIRE(eval_on(&z, &z.b, &z.ser, "rolling_max(x, '5s')", &c));
	s = c.values;
	CHECK(isinf(s[304]) && s[305] == 42.125 && isnan(s[312]));
	floe_arena_free(z.a);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Frames spanning the whole series cost O(n), not O(n^2): 200,000 rows
 * in one frame would be 2e10 steps recomputed row by row. */
TEST(expr_series_linear_on_long_frames)
{
	series z;
	int n = 200000;
	series_new(&z, n);
	for (int i = 0; i < n; i++) {
		z.t[i] = (int64_t)i * 1000000;
		z.x[i] = 100 + (double)(i % 1000) / 7;
		z.v[i] = i % 977;
		floe_bitmap_set(z.xv, i, true);
		floe_bitmap_set(z.vv, i, i % 5 != 0);
	}
	series_finish(&z);
	static const char *const exprs[] = { "rolling_sum(x, '1000 days')",
		"rolling_stddev(x, '1000 days')", "rolling_max(x, '1000 days')",
		"rolling_min(s, '1000 days')", "rolling_count(v, '1000 days')",
		"lag(x, INTERVAL '1000 days')", "rolling_avg(v, '1000 days')" };
	for (size_t e = 0; e < sizeof exprs / sizeof *exprs; e++) {
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		floe_column c;
		REQUIRE(eval_on(&z, &z.b, &z.ser, exprs[e], &c));
		double secs = seconds_since(&t0);
		if (secs > 10)
			th_fail(__FILE__, __LINE__, "%s took %.1f s on %d rows", exprs[e], secs, n);
		if (e == 2)
			CHECK(((const double *)c.values)[n - 1] == 100 + 999.0 / 7);
		if (e == 4)
			CHECK(((const int64_t *)c.values)[n - 1] == n - n / 5);
	}
	floe_arena_free(z.a);
}

TEST(expr_series_errors_and_rows_only)
{
	series z;
	series_random(&z, 50, 3);
	floe_error err;
	floe_expr *e;
	floe_column c;
	/* lag by rows needs no series: the batch is one group in row order */
	REQUIRE_OK(floe_expr_parse(&e, "lag(v, 2)", z.a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e, z.s, FLOE_EXPR_SERIES, &err), &err);
	REQUIRE_OK(floe_expr_eval(e, &z.b, NULL, &c, z.a, &err), &err);
	CHECK(!floe_column_is_valid(&c, 1));
	for (int i = 2; i < z.n; i++)
		if (valid_at(z.vv, i - 2))
			CHECK(((const int64_t *)c.values)[i] == z.v[i - 2]);
	/* rolling and interval lags need times */
	floe_expr_series rows_only = { z.g, NULL };
	REQUIRE_OK(floe_expr_parse(&e, "lag(x, INTERVAL '1 minute')", z.a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e, z.s, FLOE_EXPR_SERIES, &err), &err);
	CHECK(floe_expr_eval(e, &z.b, &rows_only, &c, z.a, &err) == FLOE_EINVALID &&
	      strstr(err.msg, "times"));
	REQUIRE_OK(floe_expr_parse(&e, "rolling_avg(x, '1m')", z.a, &err), &err);
	REQUIRE_OK(floe_expr_bind(e, z.s, FLOE_EXPR_SERIES, &err), &err);
	CHECK(floe_expr_eval(e, &z.b, NULL, &c, z.a, &err) == FLOE_EINVALID &&
	      strstr(err.msg, "rows in time order"));
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "lag(x, 0)", "N >= 1" }, { "lag(x, -2)", "N >= 1" }, { "lag(x, v)", "row count" },
		{ "lag(x, 1.5)", "row count" }, { "rolling_sum(x, 5)", "interval constant" },
		{ "rolling_sum(x, v)", "interval constant" }, { "rolling_sum(s, '1m')", "needs numbers" },
		{ "rolling_stddev(t, '1m')", "needs numbers" }, { "rolling_count(x)", "takes 2" },
		{ "lag()", "takes 1 to 2" }, { "rolling_sum(nosuch, '1m')", "no column 'nosuch'" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (floe_expr_parse(&e, bad[i].text, z.a, &err) != 0 ||
		    floe_expr_bind(e, z.s, FLOE_EXPR_SERIES, &err) == 0 || !strstr(err.msg, bad[i].msg))
			th_fail(__FILE__, __LINE__, "%s: '%s'", bad[i].text, err.msg);
	}
	/* inside a CASE the argument still comes from every row */
	REQUIRE(eval_on(&z, &z.b, &z.ser, "CASE WHEN g = 0 AND v > 0 THEN lag(v) END", &c));
	for (int i = 1; i < z.n; i++)
		if (z.g[i] == 0 && z.g[i - 1] == 0 && valid_at(z.vv, i) && z.v[i] > 0 &&
		    valid_at(z.vv, i - 1))
			CHECK(((const int64_t *)c.values)[i] == z.v[i - 1]);
	/* series in expressions: a 1-minute return */
	REQUIRE(eval_on(&z, &z.b, &z.ser, "x / lag(x, INTERVAL '1 minute') - 1", &c));
	CHECK(c.type.id == FLOE_TYPE_DOUBLE);
	floe_arena_free(z.a);
}
