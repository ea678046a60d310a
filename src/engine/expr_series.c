/* engine/expr_series.c - series functions over rows sorted by group, then
 * time (floe_expr_series): lag by rows or by exact time, and the rolling
 * frames (t - d, t] of rolling_sum/avg/min/max/count/stddev, each in one
 * pass with two pointers (O(n) per batch).
 *
 * A frame's value must not depend on where a batch happened to begin (a
 * stream keeps a tail of earlier rows; a backfill sees them all), so the
 * running state is exact: integer sums in 128 bits, floating sums in an
 * exact fixed-point accumulator rounded once per row (the correctly
 * rounded sum of the frame, whatever the order rows came and went), the
 * sample variance from exact sums of x and x*x (squares split with fma),
 * and min/max from a monotonic deque, whose front is the last occurrence
 * of the frame's extreme. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/expr_int.h"

/* ---- an exact sum of doubles ------------------------------------------------------
 *
 * Every finite double is M * 2^E with |M| < 2^53 and -1126 <= E <= 971
 * (subnormals included). Bit p = E + 1126 of a fixed-point number goes to
 * bucket p / 32 as M << (p % 32) (under 2^84), so a 128-bit bucket takes
 * 2^43 values before it could overflow; buckets weigh 2^(32 i - 1126).
 * Rounding normalizes a copy into 32-bit digits and rounds the top 64 bits
 * with a sticky bit: round to nearest, ties to even. */

#define XA_BIAS 1126
#define XA_N 72

typedef struct xacc {
	__int128 b[XA_N];
	int lo, hi;              /* buckets touched since the last clear */
	int64_t nan, pinf, ninf; /* non-finite values held */
} xacc;

static void xa_clear(xacc *a)
{
	if (a->lo <= a->hi)
		memset(&a->b[a->lo], 0, (size_t)(a->hi - a->lo + 1) * sizeof a->b[0]);
	a->lo = XA_N;
	a->hi = -1;
	a->nan = a->pinf = a->ninf = 0;
}

/* add (sign 1) or remove (sign -1) v */
static void xa_add(xacc *a, double v, int sign)
{
	if (v == 0)
		return;
	if (isnan(v)) {
		a->nan += sign;
		return;
	}
	if (isinf(v)) {
		if (v > 0)
			a->pinf += sign;
		else
			a->ninf += sign;
		return;
	}
	int e;
	double m = frexp(v, &e);                  /* v = m 2^e, 0.5 <= |m| < 1 */
	int64_t M = (int64_t)ldexp(m, 53);       /* exact */
	int p = e - 53 + XA_BIAS;
	int i = p >> 5;
	__int128 part = (__int128)M * ((__int128)1 << (p & 31));
	if (sign < 0)
		part = -part;
	a->b[i] += part;
	if (i < a->lo)
		a->lo = i;
	if (i > a->hi)
		a->hi = i;
}

/* The held sum rounded to a double. With `take`, the rounded value is
 * also taken out of the accumulator, leaving the remainder. */
static double xa_round(xacc *a, bool take)
{
	if (a->nan > 0 || (a->pinf > 0 && a->ninf > 0))
		return NAN;
	if (a->pinf > 0)
		return INFINITY;
	if (a->ninf > 0)
		return -INFINITY;
	if (a->lo > a->hi)
		return 0;
	uint32_t d[XA_N];
	int from = a->lo >= 2 ? a->lo - 2 : 0; /* d[t - 2] is read below */
	memset(&d[from], 0, (size_t)(XA_N - from) * sizeof d[0]);
	__int128 carry = 0;
	int top = a->lo;
	for (int i = a->lo; i < XA_N; i++) {
		__int128 v = (i <= a->hi ? a->b[i] : 0) + carry;
		d[i] = (uint32_t)(v & 0xffffffffu);
		carry = v >> 32; /* arithmetic (GCC and Clang define it): floor(v / 2^32) */
		top = i;
		if (i >= a->hi && (carry == 0 || carry == -1))
			break;
	}
	bool neg = carry < 0;
	if (neg) {
		/* two's complement of digits lo..top */
		unsigned c1 = 1;
		for (int i = a->lo; i <= top; i++) {
			uint64_t v = (uint64_t)(uint32_t)~d[i] + c1;
			d[i] = (uint32_t)v;
			c1 = (unsigned)(v >> 32);
		}
		if (c1 && top + 1 < XA_N)
			d[++top] = 1; /* -2^(32 k): the magnitude needs the next digit */
	}
	int t = top;
	while (t >= a->lo && d[t] == 0)
		t--;
	if (t < a->lo)
		return 0;
	int z = __builtin_clz(d[t]);
	unsigned __int128 w = ((unsigned __int128)d[t] << 64) |
	                      ((unsigned __int128)(t - 1 >= 0 ? d[t - 1] : 0) << 32) |
	                      (t - 2 >= 0 ? d[t - 2] : 0);
	w <<= z;
	uint64_t m = (uint64_t)(w >> 32);
	bool sticky = (uint32_t)w != 0;
	for (int i = a->lo; i < t - 2 && !sticky; i++)
		sticky = d[i] != 0;
	if (sticky)
		m |= 1;
	double r = ldexp((double)m, 32 * (t - 1) - XA_BIAS - z);
	if (neg)
		r = -r;
	if (take && isfinite(r))
		xa_add(a, r, -1);
	return r;
}

/* An exact copy (the touched buckets only). */
static void xa_copy(xacc *dst, const xacc *src)
{
	xa_clear(dst); /* buckets outside lo..hi are always zero */
	dst->lo = src->lo;
	dst->hi = src->hi;
	dst->nan = src->nan;
	dst->pinf = src->pinf;
	dst->ninf = src->ninf;
	if (src->lo <= src->hi)
		memcpy(&dst->b[src->lo], &src->b[src->lo],
		       (size_t)(src->hi - src->lo + 1) * sizeof src->b[0]);
}

/* Up to `cap` non-overlapping doubles summing to the held value (exactly,
 * unless more would be needed). */
static int xa_expand(const xacc *a, xacc *scratch, double *out, int cap)
{
	xa_copy(scratch, a);
	int k = 0;
	while (k < cap) {
		double r = xa_round(scratch, true);
		if (r == 0 || !isfinite(r))
			break;
		out[k++] = r;
	}
	return k;
}

/* add a * b exactly (when a * b neither overflows nor underflows) */
static void xa_add_product(xacc *acc, double a, double b, int sign)
{
	double p = a * b;
	double e = fma(a, b, -p);
	xa_add(acc, p, sign);
	if (isfinite(p))
		xa_add(acc, e, sign);
}

/* The sample standard deviation of n values with exact sums s1 (x) and
 * s2 (x*x): sqrt((n s2 - s1^2) / (n (n - 1))), the numerator formed
 * exactly from expansions of the sums. */
static double xa_stddev(const xacc *s1, const xacc *s2, int64_t n, xacc *t, xacc *scratch)
{
	double a[4], b[4];
	if (s1->nan || s1->pinf || s1->ninf || s2->nan || s2->pinf || s2->ninf)
		return NAN; /* a NaN or an infinity in the frame, or a square past 1e308 */
	int na = xa_expand(s1, scratch, a, 4), nb = xa_expand(s2, scratch, b, 4);
	xa_clear(t);
	for (int i = 0; i < nb; i++)
		xa_add_product(t, (double)n, b[i], 1);
	for (int i = 0; i < na; i++)
		for (int j = 0; j < na; j++)
			xa_add_product(t, a[i], a[j], -1);
	double num = xa_round(t, false);
	if (isnan(num) || num <= 0)
		return num > 0 || isnan(num) ? num : 0;
	return sqrt(num / ((double)n * (double)(n - 1)));
}

/* ---- the series ------------------------------------------------------------------- */

static bool same_group(const ex_ctx *c, int64_t a, int64_t b)
{
	return !c->s || !c->s->group || c->s->group[a] == c->s->group[b];
}

/* out[r] = x[src[r]] (NULL where src[r] < 0 or that value is NULL) */
static int take(ex_ctx *c, floe_type t, const floe_column *x, const int64_t *src,
                floe_column *out)
{
	int64_t n = c->n;
	int rc;
	if (floe_type_is_variable(&t)) {
		ex_sbuild s;
		if ((rc = ex_sb_init(c, &s)))
			return rc;
		uint8_t *vb = ex_bits_new(c, true);
		if (!vb)
			return ex_sb_fail(c, &s);
		for (int64_t r = 0; r < n; r++) {
			size_t len = 0;
			const uint8_t *p = NULL;
			if (src[r] >= 0 && ex_valid(x, src[r]))
				p = ex_str(x, src[r], &len);
			else
				floe_bitmap_set(vb, r, false);
			if (ex_sb_put(&s, p, len))
				return ex_sb_fail(c, &s);
		}
		if ((rc = ex_sb_done(c, &s, out, vb)))
			return rc;
		out->type = t;
		return 0;
	}
	if ((rc = ex_alloc_fixed(c, out, t)))
		return rc;
	if (!(out->validity = ex_bits_new(c, true)))
		return ex_oom(c->err);
	size_t w = (size_t)floe_type_value_width(&t);
	for (int64_t r = 0; r < n; r++) {
		if (src[r] < 0 || !ex_valid(x, src[r])) {
			floe_bitmap_set(out->validity, r, false);
			continue;
		}
		memcpy((uint8_t *)out->values + (size_t)r * w,
		       (const uint8_t *)x->values + (size_t)src[r] * w, w);
	}
	ex_finish_nulls(out, n);
	return 0;
}

static int eval_lag(const floe_expr *e, ex_ctx *c, const floe_column *x, floe_column *out)
{
	int64_t n = c->n;
	const int64_t *tm = c->s ? c->s->time : NULL;
	int64_t *src = floe_arena_alloc(c->a, (size_t)(n ? n : 1) * sizeof *src);
	if (!src)
		return ex_oom(c->err);
	if (e->lag_rows > 0) {
		for (int64_t r = 0; r < n; r++)
			src[r] = r - e->lag_rows >= 0 && same_group(c, r - e->lag_rows, r) ?
			         r - e->lag_rows : -1;
	} else {
		/* the last row of the group whose time is exactly t - d */
		int64_t j = 0, d = e->interval_us;
		for (int64_t r = 0; r < n; r++) {
			if (r == 0 || !same_group(c, r - 1, r))
				j = r;
			int64_t want;
			if (__builtin_sub_overflow(tm[r], d, &want)) {
				src[r] = -1;
				continue;
			}
			while (j < r && tm[j] <= want)
				j++;
			src[r] = j - 1 >= 0 && j - 1 < r && same_group(c, j - 1, r) && tm[j - 1] == want ?
			         j - 1 : -1;
		}
	}
	return take(c, x->type, x, src, out);
}

/* rolling_*: frames of the group's rows with time in (t - d, t], later
 * rows at the same time t included (as SQL's RANGE frames: peers alike),
 * NULLs ignored */
static int eval_rolling(const floe_expr *e, ex_ctx *c, const floe_column *x, floe_column *out)
{
	int64_t n = c->n, d = e->interval_us;
	const int64_t *tm = c->s->time;
	int fn = e->fn, rc = 0;
	floe_type t = floe_expr_type(e);
	bool minmax = fn == F_RMIN || fn == F_RMAX;
	floe_column xc = *x;
	if (minmax && (rc = ex_coerce(c, &xc, t)))
		return rc;
	/* inputs: exact integers, or doubles */
	const int64_t *xi = NULL;
	const double *xd = NULL;
	if (!minmax && fn != F_RCOUNT && x->null_count < n) {
		if (ex_is_int(x->type.id) && fn != F_RSTDDEV)
			rc = ex_as_i64(c, x, false, &xi);
		else
			rc = ex_as_f64(c, x, &xd);
		if (rc)
			return rc;
	}
	int64_t *src = NULL, *dq = NULL;
	ex_cmp k;
	memset(&k, 0, sizeof k);
	if (minmax) {
		src = floe_arena_alloc(c->a, (size_t)(n ? n : 1) * sizeof *src);
		dq = floe_arena_alloc(c->a, (size_t)(n ? n : 1) * sizeof *dq);
		if (!src || !dq)
			return ex_oom(c->err);
		if (xc.null_count < n && (rc = ex_cmp_prepare(c, &k, &xc, &xc)))
			return rc;
	} else if ((rc = ex_alloc_fixed(c, out, t))) {
		return rc;
	}
	xacc *acc = NULL;
	if (xd) {
		acc = calloc(4, sizeof *acc);
		if (!acc)
			return ex_oom(c->err);
		for (int i = 0; i < 4; i++) {
			acc[i].lo = XA_N;
			acc[i].hi = -1;
		}
	}
	/* rows s0..end are the frame: end runs ahead to the last peer (same time)
	 * of row r, s0 behind past the rows at or before t - d */
	int64_t s0 = 0, end = -1, cnt = 0, head = 0, tail = 0;
	__int128 isum = 0;
	for (int64_t r = 0; r < n; r++) {
		if (r == 0 || !same_group(c, r - 1, r)) {
			s0 = r;
			end = r - 1;
			cnt = 0;
			isum = 0;
			head = tail = 0;
			if (acc) {
				xa_clear(&acc[0]);
				xa_clear(&acc[1]);
			}
		}
		while (end < r || (end + 1 < n && same_group(c, end + 1, r) && tm[end + 1] <= tm[r])) {
			int64_t j = ++end; /* row j joins */
			if (!ex_valid(x, j))
				continue;
			cnt++;
			if (xi)
				isum += xi[j];
			if (xd) {
				xa_add(&acc[0], xd[j], 1);
				if (fn == F_RSTDDEV)
					xa_add_product(&acc[1], xd[j], xd[j], 1);
			}
			if (minmax) {
				while (tail > head) {
					int cmp = ex_cmp_rows(&k, dq[tail - 1], j);
					if (fn == F_RMIN ? cmp < 0 : cmp > 0)
						break;
					tail--;
				}
				dq[tail++] = j;
			}
		}
		/* rows at or before t - d leave */
		int64_t lower;
		bool all = __builtin_sub_overflow(tm[r], d, &lower);
		while (!all && s0 < r && tm[s0] <= lower) {
			if (ex_valid(x, s0)) {
				cnt--;
				if (xi)
					isum -= xi[s0];
				if (xd) {
					xa_add(&acc[0], xd[s0], -1);
					if (fn == F_RSTDDEV)
						xa_add_product(&acc[1], xd[s0], xd[s0], -1);
				}
			}
			s0++;
		}
		if (minmax) {
			while (head < tail && dq[head] < s0)
				head++;
			src[r] = head < tail ? dq[head] : -1;
			continue;
		}
		bool null = cnt == 0 && fn != F_RCOUNT;
		switch (fn) {
		case F_RCOUNT:
			((int64_t *)out->values)[r] = cnt;
			break;
		case F_RSUM:
			if (null)
				break;
			if (t.id == FLOE_TYPE_LONG) {
				if (isum < INT64_MIN || isum > INT64_MAX) {
					if (ex_live(c, r)) {
						rc = floe_error_set(c->err, FLOE_EINVALID, "row %" PRId64 ": %s() "
						                    "overflows a long (CAST the argument to double)",
						                    r, e->name);
						goto done;
					}
					null = true;
					break;
				}
				((int64_t *)out->values)[r] = (int64_t)isum;
			} else {
				((double *)out->values)[r] = xa_round(&acc[0], false);
			}
			break;
		case F_RAVG:
			if (!null)
				((double *)out->values)[r] = (xi ? (double)isum : xa_round(&acc[0], false)) /
				                             (double)cnt;
			break;
		default: /* sample stddev */
			null = cnt < 2;
			if (!null)
				((double *)out->values)[r] = xa_stddev(&acc[0], &acc[1], cnt, &acc[2],
				                                       &acc[3]);
			break;
		}
		if (null && (rc = ex_set_null(c, out, r)))
			goto done;
	}
	if (minmax)
		rc = take(c, t, &xc, src, out);
	else
		ex_finish_nulls(out, n);
done:
	free(acc);
	return rc;
}

int ex_eval_series(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	const int64_t *tm = c->s ? c->s->time : NULL;
	if (e->fn != F_LAG && !c->s)
		return floe_error_set(c->err, FLOE_EINVALID, "%s() needs rows in time order (an "
		                      "aggregate or rolling step)", e->name);
	if ((e->fn != F_LAG || e->lag_rows == 0) && !tm)
		return floe_error_set(c->err, FLOE_EINVALID, "%s() with an interval needs the rows' "
		                      "times (an aggregate or rolling step)", e->name);
	/* the argument is computed for every row of the series: other rows read it */
	floe_column x;
	const uint8_t *live = c->live;
	c->live = NULL;
	int rc = ex_eval(e->args[0], c, &x);
	c->live = live;
	if (rc)
		return rc;
	if (e->fn == F_LAG)
		return eval_lag(e, c, &x, out);
	return eval_rolling(e, c, &x, out);
}
