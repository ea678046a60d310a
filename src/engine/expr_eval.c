/* engine/expr_eval.c - vectorized evaluation of bound expressions: every
 * node turns whole columns into a result column (values + validity bitmap)
 * in the caller's arena, with SQL NULL semantics. Literals, columns,
 * operators, CASE and CAST live here, with the column helpers the function
 * files share; CASE, AND and OR pass their children masks of the rows they
 * still need (expr_int.h), so a guarded branch raises no error for rows it
 * does not produce. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/expr_int.h"
#include "util/buf.h"
#include "util/format.h"

/* ---- column helpers ------------------------------------------------------------- */

int64_t ex_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int ex_parse_time(floe_type_id want, const char *p, size_t n, int64_t *out, floe_error *err)
{
	while (n && isspace((unsigned char)*p))
		p++, n--;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	floe_value v;
	floe_type dt = ex_ty(FLOE_TYPE_DATE), tz = ex_ty(FLOE_TYPE_TIMESTAMPTZ);
	floe_buf sc = { 0 };
	int rc = FLOE_EINVALID;
	if (floe_text_parse(&v, &dt, p, n, &sc, NULL) == 0) {
		/* a date */
		rc = 0;
		if (want == FLOE_TYPE_DATE)
			*out = v.i;
		else if (__builtin_mul_overflow(v.i, 86400000000LL, out))
			rc = floe_error_set(err, FLOE_EINVALID, "the date is out of the range of "
			                    "timestamps");
	} else if (floe_text_parse(&v, &tz, p, n, &sc, err) == 0) {
		/* a timestamp, UTC when it has no offset */
		*out = want == FLOE_TYPE_DATE ? ex_floor_div(v.i, 86400000000LL) : v.i;
		rc = want == FLOE_TYPE_DATE && (*out < INT32_MIN || *out > INT32_MAX) ?
		     floe_error_set(err, FLOE_EINVALID, "the date is out of range") : 0;
	}
	floe_buf_free(&sc);
	return rc;
}

uint8_t *ex_bits_new(ex_ctx *c, bool set)
{
	size_t nb = (size_t)((c->n + 7) / 8) + 1;
	uint8_t *v = floe_arena_alloc(c->a, nb);
	if (v)
		memset(v, set ? 0xff : 0, nb);
	return v;
}

uint8_t *ex_mask_new(ex_ctx *c)
{
	uint8_t *m = floe_arena_alloc(c->a, (size_t)(c->n ? c->n : 1));
	if (!m)
		return NULL;
	if (c->live)
		memcpy(m, c->live, (size_t)c->n);
	else
		memset(m, 1, (size_t)(c->n ? c->n : 1));
	return m;
}

int ex_set_null(ex_ctx *c, floe_column *out, int64_t r)
{
	if (!out->validity && !(out->validity = ex_bits_new(c, true)))
		return ex_oom(c->err);
	floe_bitmap_set(out->validity, r, false);
	return 0;
}

int ex_both_valid(ex_ctx *c, const floe_column *x, const floe_column *y, uint8_t **out)
{
	*out = NULL;
	if (!x->validity && (!y || !y->validity))
		return 0;
	uint8_t *v = ex_bits_new(c, true);
	if (!v)
		return ex_oom(c->err);
	size_t nb = (size_t)((c->n + 7) / 8);
	for (size_t i = 0; i < nb; i++)
		v[i] = (x->validity ? x->validity[i] : 0xff) & (y && y->validity ? y->validity[i] : 0xff);
	*out = v;
	return 0;
}

void ex_finish_nulls(floe_column *out, int64_t n)
{
	out->null_count = 0;
	if (!out->validity)
		return;
	/* count the valid bits of whole bytes, then the last byte's rows */
	const uint8_t *v = out->validity;
	int64_t whole = n >> 3, valid = 0, r = 0;
	for (; r + 8 <= whole; r += 8) {
		uint64_t w;
		memcpy(&w, v + r, 8);
		valid += __builtin_popcountll(w);
	}
	for (; r < whole; r++)
		valid += __builtin_popcount(v[r]);
	for (int64_t i = whole << 3; i < n; i++)
		valid += (v[i >> 3] >> (i & 7)) & 1;
	out->null_count = n - valid;
}

int ex_alloc_fixed(ex_ctx *c, floe_column *out, floe_type t)
{
	memset(out, 0, sizeof *out);
	out->type = t;
	int w = floe_type_value_width(&t);
	if (w <= 0)
		w = 8;
	out->values = floe_arena_calloc(c->a, (size_t)(c->n ? c->n : 1), (size_t)w);
	return out->values ? 0 : ex_oom(c->err);
}

int ex_as_f64(ex_ctx *c, const floe_column *x, const double **out)
{
	int64_t n = c->n;
	if (x->type.id == FLOE_TYPE_DOUBLE) {
		*out = x->values;
		return 0;
	}
	double *v = floe_arena_calloc(c->a, (size_t)(n ? n : 1), sizeof *v);
	if (!v)
		return ex_oom(c->err);
	switch (x->type.id) {
	case FLOE_TYPE_FLOAT:
		for (int64_t r = 0; r < n; r++)
			v[r] = ((const float *)x->values)[r];
		break;
	case FLOE_TYPE_INT:
		for (int64_t r = 0; r < n; r++)
			v[r] = ((const int32_t *)x->values)[r];
		break;
	case FLOE_TYPE_LONG:
		for (int64_t r = 0; r < n; r++)
			v[r] = (double)((const int64_t *)x->values)[r];
		break;
	case FLOE_TYPE_BOOLEAN:
		for (int64_t r = 0; r < n; r++)
			v[r] = ((const uint8_t *)x->values)[r] != 0;
		break;
	case FLOE_TYPE_DECIMAL: {
		if (x->type.precision > 18)
			return floe_error_set(c->err, FLOE_EUNSUPPORTED, "decimals wider than 18 digits "
			                      "are not computed on (CAST them to double)");
		double sc = pow(10, x->type.scale);
		for (int64_t r = 0; r < n; r++)
			v[r] = (double)((const int64_t *)x->values)[r] / sc;
		break;
	}
	default:
		break; /* an untyped NULL: zeros */
	}
	*out = v;
	return 0;
}

int ex_as_i64(ex_ctx *c, const floe_column *x, bool date_as_us, const int64_t **out)
{
	int64_t n = c->n;
	floe_type_id t = x->type.id;
	if (t == FLOE_TYPE_LONG || ex_is_ts(t) || t == FLOE_TYPE_TIME ||
	    t == FLOE_TYPE_TIMESTAMP_NS || t == FLOE_TYPE_TIMESTAMPTZ_NS) {
		*out = x->values;
		return 0;
	}
	int64_t *v = floe_arena_calloc(c->a, (size_t)(n ? n : 1), sizeof *v);
	if (!v)
		return ex_oom(c->err);
	if (t == FLOE_TYPE_INT || (t == FLOE_TYPE_DATE && !date_as_us)) {
		for (int64_t r = 0; r < n; r++)
			v[r] = ((const int32_t *)x->values)[r];
	} else if (t == FLOE_TYPE_DATE) {
		/* days past what micros hold (+-292,000 years) saturate */
		for (int64_t r = 0; r < n; r++) {
			int64_t k = ((const int32_t *)x->values)[r];
			if (__builtin_mul_overflow(k, 86400000000LL, &v[r]))
				v[r] = k < 0 ? INT64_MIN : INT64_MAX;
		}
	} else if (t == FLOE_TYPE_BOOLEAN) {
		for (int64_t r = 0; r < n; r++)
			v[r] = ((const uint8_t *)x->values)[r] != 0;
	}
	*out = v;
	return 0;
}

int ex_coerce(ex_ctx *c, floe_column *x, floe_type t)
{
	if (t.id == 0 || (x->type.id == t.id && t.id != FLOE_TYPE_DECIMAL))
		return 0;
	floe_column y = *x;
	int rc;
	if (t.id == FLOE_TYPE_DOUBLE && (ex_is_num(x->type.id) || x->type.id == FLOE_TYPE_BOOLEAN)) {
		const double *d;
		if ((rc = ex_as_f64(c, x, &d)))
			return rc;
		y.values = (void *)d;
	} else if (t.id == FLOE_TYPE_LONG && (ex_is_int(x->type.id) ||
	                                      x->type.id == FLOE_TYPE_BOOLEAN)) {
		const int64_t *d;
		if ((rc = ex_as_i64(c, x, false, &d)))
			return rc;
		y.values = (void *)d;
	} else if (ex_is_ts(t.id) && ex_is_time(x->type.id)) {
		const int64_t *d;
		if ((rc = ex_as_i64(c, x, true, &d)))
			return rc;
		y.values = (void *)d;
	} else if (ex_is_str(t.id) && ex_is_str(x->type.id)) {
		/* same layout */
	} else if (x->null_count == c->n || x->type.id == 0) {
		/* all NULL (an untyped NULL literal): any type */
		if ((rc = ex_alloc_fixed(c, &y, t)))
			return rc;
		if (floe_type_is_variable(&t)) {
			y.offsets = floe_arena_calloc(c->a, (size_t)c->n + 1, sizeof *y.offsets);
			y.data = floe_arena_alloc(c->a, 1);
			if (!y.offsets || !y.data)
				return ex_oom(c->err);
		}
		if (!(y.validity = ex_bits_new(c, false)))
			return ex_oom(c->err);
		y.null_count = c->n;
	} else {
		char a[32], b[32];
		return floe_error_set(c->err, FLOE_EINVALID, "cannot use a %s as a %s",
		                      ex_tname(x->type, a), ex_tname(t, b));
	}
	y.type = t;
	*x = y;
	return 0;
}

int ex_cmp_prepare(ex_ctx *c, ex_cmp *k, const floe_column *x, const floe_column *y)
{
	memset(k, 0, sizeof *k);
	k->x = x;
	k->y = y;
	floe_type_id a = x->type.id, b = y->type.id;
	int rc = 0;
	if (ex_is_num(a) && ex_is_num(b)) {
		if (ex_is_int(a) && ex_is_int(b)) {
			if ((rc = ex_as_i64(c, x, false, &k->xi)) == 0)
				rc = ex_as_i64(c, y, false, &k->yi);
		} else if ((rc = ex_as_f64(c, x, &k->xd)) == 0) {
			rc = ex_as_f64(c, y, &k->yd);
		}
	} else if (ex_is_time(a) && ex_is_time(b)) {
		bool us = a != b;
		if ((rc = ex_as_i64(c, x, us, &k->xi)) == 0)
			rc = ex_as_i64(c, y, us, &k->yi);
	} else if ((a == FLOE_TYPE_BOOLEAN || a == FLOE_TYPE_TIME || a == FLOE_TYPE_TIMESTAMP_NS ||
	            a == FLOE_TYPE_TIMESTAMPTZ_NS) && a == b) {
		if ((rc = ex_as_i64(c, x, false, &k->xi)) == 0)
			rc = ex_as_i64(c, y, false, &k->yi);
	}
	/* otherwise bytes: strings, binary, uuid, fixed */
	return rc;
}

int ex_cmp_rows(const ex_cmp *k, int64_t r, int64_t r2)
{
	if (k->xi && k->yi)
		return k->xi[r] < k->yi[r2] ? -1 : k->xi[r] > k->yi[r2];
	if (k->xd && k->yd) {
		double a = k->xd[r], b = k->yd[r2];
		if (a < b)
			return -1;
		if (a > b)
			return 1;
		if (a == b)
			return 0;
		return isnan(a) ? (isnan(b) ? 0 : 1) : -1;
	}
	const floe_column *x = k->x, *y = k->y;
	size_t la, lb;
	const uint8_t *pa, *pb;
	if (floe_type_is_variable(&x->type) && floe_type_is_variable(&y->type)) {
		pa = ex_str(x, r, &la);
		pb = ex_str(y, r2, &lb);
	} else {
		int wa = floe_type_value_width(&x->type), wb = floe_type_value_width(&y->type);
		if (wa <= 0 || wa != wb)
			return 0; /* not comparable: the binder refuses these */
		pa = (const uint8_t *)x->values + (size_t)r * (size_t)wa;
		pb = (const uint8_t *)y->values + (size_t)r2 * (size_t)wb;
		la = lb = (size_t)wa;
	}
	int d = memcmp(pa, pb, la < lb ? la : lb);
	return d ? (d < 0 ? -1 : 1) : (la < lb ? -1 : la > lb);
}

int ex_text_of(floe_buf *b, const floe_column *x, int64_t r)
{
	if (ex_is_str(x->type.id)) {
		size_t n;
		const uint8_t *p = ex_str(x, r, &n);
		return floe_buf_append(b, p, n);
	}
	if (x->type.id == 0)
		return 0;
	return floe_format_value(b, x, r, false);
}

int ex_sb_init(ex_ctx *c, ex_sbuild *s)
{
	memset(s, 0, sizeof *s);
	s->off = floe_arena_alloc(c->a, (size_t)(c->n + 1) * sizeof *s->off);
	if (!s->off)
		return ex_oom(c->err);
	s->off[0] = 0;
	return 0;
}

int ex_sb_fail(ex_ctx *c, ex_sbuild *s)
{
	floe_buf_free(&s->data);
	return ex_oom(c->err);
}

int ex_sb_done(ex_ctx *c, ex_sbuild *s, floe_column *out, uint8_t *validity)
{
	memset(out, 0, sizeof *out);
	out->type = ex_ty(FLOE_TYPE_STRING);
	out->offsets = s->off;
	out->data = floe_arena_alloc(c->a, s->data.len + 1);
	if (!out->data)
		return ex_sb_fail(c, s);
	if (s->data.len)
		memcpy(out->data, s->data.data, s->data.len);
	floe_buf_free(&s->data);
	out->validity = validity;
	ex_finish_nulls(out, c->n);
	return 0;
}

int ex_gather(ex_ctx *c, floe_type t, const floe_column *vals, const int32_t *pick,
              floe_column *out)
{
	return ex_gather_one(c, t, vals, NULL, pick, out);
}

int ex_gather_one(ex_ctx *c, floe_type t, const floe_column *vals, const bool *one,
                  const int32_t *pick, floe_column *out)
{
	int64_t n = c->n;
	int rc;
	/* row r of alternative k: row 0 when it is a single value */
#define ALT_ROW(k, r) (one && one[k] ? 0 : (r))
	if (floe_type_is_variable(&t)) {
		ex_sbuild s;
		if ((rc = ex_sb_init(c, &s)))
			return rc;
		uint8_t *vb = ex_bits_new(c, true);
		if (!vb)
			return ex_sb_fail(c, &s);
		for (int64_t r = 0; r < n; r++) {
			int k = pick[r];
			size_t len = 0;
			const uint8_t *p = NULL;
			if (k >= 0 && ex_valid(&vals[k], ALT_ROW(k, r)))
				p = ex_str(&vals[k], ALT_ROW(k, r), &len);
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
	/* the null rows stay zero (ex_alloc_fixed) */
	size_t w = (size_t)floe_type_value_width(&t);
	int64_t nulls = 0;
	for (int64_t r = 0; r < n; r++) {
		int k = pick[r];
		int64_t at = k >= 0 ? ALT_ROW(k, r) : 0;
		if (k < 0 || !ex_valid(&vals[k], at)) {
			floe_bitmap_set(out->validity, r, false);
			nulls++;
			continue;
		}
		if (w == 8)
			((uint64_t *)out->values)[r] = ((const uint64_t *)vals[k].values)[at];
		else
			memcpy((uint8_t *)out->values + (size_t)r * w,
			       (const uint8_t *)vals[k].values + (size_t)at * w, w);
	}
#undef ALT_ROW
	out->null_count = nulls;
	return 0;
}

/* ---- leaves ----------------------------------------------------------------------- */

static int eval_lit(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	floe_type t = e->type.id ? e->type : ex_ty(FLOE_TYPE_STRING);
	int64_t n = c->n;
	int rc;
	if (floe_type_is_variable(&t)) {
		size_t len = e->lnull ? 0 : e->lslen;
		memset(out, 0, sizeof *out);
		out->type = t;
		out->offsets = floe_arena_alloc(c->a, (size_t)(n + 1) * sizeof *out->offsets);
		size_t total;
		if (floe_mul_overflow(len, (size_t)n, &total))
			return ex_oom(c->err);
		out->data = floe_arena_alloc(c->a, total + 1);
		if (!out->offsets || !out->data)
			return ex_oom(c->err);
		out->offsets[0] = 0;
		for (int64_t r = 0; r < n; r++) {
			if (len)
				memcpy(out->data + (size_t)r * len, e->ls, len);
			out->offsets[r + 1] = (int64_t)((size_t)(r + 1) * len);
		}
	} else {
		if ((rc = ex_alloc_fixed(c, out, t)))
			return rc;
		switch (t.id) {
		case FLOE_TYPE_BOOLEAN:
			memset(out->values, (int)(e->li != 0), (size_t)n);
			break;
		case FLOE_TYPE_FLOAT:
			for (int64_t r = 0; r < n; r++)
				((float *)out->values)[r] = (float)e->ld;
			break;
		case FLOE_TYPE_DOUBLE:
			for (int64_t r = 0; r < n; r++)
				((double *)out->values)[r] = e->ld;
			break;
		case FLOE_TYPE_INT:
		case FLOE_TYPE_DATE:
			for (int64_t r = 0; r < n; r++)
				((int32_t *)out->values)[r] = (int32_t)e->li;
			break;
		default:
			for (int64_t r = 0; r < n; r++)
				((int64_t *)out->values)[r] = e->li;
			break;
		}
	}
	if (e->lnull) {
		if (!(out->validity = ex_bits_new(c, false)))
			return ex_oom(c->err);
		out->null_count = n;
	}
	return 0;
}

static int eval_col(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	if (e->idx < 0 || e->idx >= c->b->ncols)
		return floe_error_set(c->err, FLOE_EINVALID, "column '%s' is not in this batch (bind "
		                      "the expression to the batch's schema)", e->name);
	const floe_column *col = &c->b->cols[e->idx];
	if (col->type.id != e->type.id || col->type.scale != e->type.scale ||
	    col->type.width != e->type.width) {
		char a[32], b[32];
		return floe_error_set(c->err, FLOE_EINVALID, "column '%s' is a %s in this batch but "
		                      "was bound as a %s (bind the expression again)", e->name,
		                      ex_tname(col->type, a), ex_tname(e->type, b));
	}
	if (c->n && (floe_type_is_variable(&col->type) ? !col->offsets || !col->data :
	                                                  !col->values))
		return floe_error_set(c->err, FLOE_EINVALID, "column '%s' has no values in this batch",
		                      e->name);
	*out = *col;
	ex_finish_nulls(out, c->n);
	return 0;
}

/* ---- operators -------------------------------------------------------------------- */

/* SQL LIKE: % any run, _ one character (a whole UTF-8 sequence); no escape
 * character. Greedy with backtracking to the last %: O(n * m) worst case. */
static bool like(const uint8_t *s, size_t n, const uint8_t *p, size_t m)
{
	size_t i = 0, j = 0, star_j = (size_t)-1, star_i = 0;
	while (i < n) {
		if (j < m && p[j] == '_') {
			i++;
			while (i < n && (s[i] & 0xc0) == 0x80)
				i++;
			j++;
		} else if (j < m && p[j] != '%' && p[j] == s[i]) {
			i++;
			j++;
		} else if (j < m && p[j] == '%') {
			star_j = j++;
			star_i = i;
		} else if (star_j != (size_t)-1) {
			/* the % takes one more character */
			j = star_j + 1;
			star_i++;
			while (star_i < n && (s[star_i] & 0xc0) == 0x80)
				star_i++;
			i = star_i;
		} else {
			return false;
		}
	}
	while (j < m && p[j] == '%')
		j++;
	return j == m;
}

static int eval_logic(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	int64_t n = c->n;
	int op = e->op, rc;
	floe_column x, y;
	if ((rc = ex_eval(e->args[0], c, &x)))
		return rc;
	/* the right side only where the left does not decide */
	uint8_t *need = ex_mask_new(c);
	if (!need)
		return ex_oom(c->err);
	const uint8_t *xv = x.values;
	bool any = false;
	for (int64_t r = 0; r < n; r++) {
		bool decided = ex_valid(&x, r) && (op == EB_AND ? !xv[r] : xv[r]);
		need[r] = need[r] && !decided;
		any |= need[r] != 0;
	}
	if (any && (rc = ex_eval_masked(e->args[1], c, need, &y)))
		return rc;
	if ((rc = ex_alloc_fixed(c, out, ex_ty(FLOE_TYPE_BOOLEAN))))
		return rc;
	uint8_t *v = out->values;
	const uint8_t *yv = any ? y.values : NULL;
	for (int64_t r = 0; r < n; r++) {
		bool xn = !ex_valid(&x, r);
		bool xt = !xn && xv[r];
		if (!need[r]) {
			/* decided by the left (or not wanted) */
			v[r] = op == EB_AND ? 0 : 1;
			if (!xn && (op == EB_AND ? !xt : xt))
				continue;
			if ((rc = ex_set_null(c, out, r)))
				return rc;
			continue;
		}
		bool yn = !ex_valid(&y, r), yt = !yn && yv[r];
		if (op == EB_AND) {
			if (!yn && !yt)
				v[r] = 0;
			else if (xn || yn)
				rc = ex_set_null(c, out, r);
			else
				v[r] = 1;
		} else {
			if (yt)
				v[r] = 1;
			else if (xn || yn)
				rc = ex_set_null(c, out, r);
			else
				v[r] = 0;
		}
		if (rc)
			return rc;
	}
	ex_finish_nulls(out, n);
	return 0;
}

static int eval_compare(const floe_expr *e, ex_ctx *c, const floe_column *x,
                        const floe_column *y, uint8_t *vb, floe_column *out)
{
	int op = e->op, rc;
	if ((rc = ex_alloc_fixed(c, out, ex_ty(FLOE_TYPE_BOOLEAN))))
		return rc;
	out->validity = vb;
	if (x->null_count == c->n || y->null_count == c->n) {
		/* an untyped NULL on one side: nothing to compare */
		if (!out->validity && !(out->validity = ex_bits_new(c, false)))
			return ex_oom(c->err);
		memset(out->validity, 0, (size_t)((c->n + 7) / 8));
		ex_finish_nulls(out, c->n);
		return 0;
	}
	ex_cmp k;
	if ((rc = ex_cmp_prepare(c, &k, x, y)))
		return rc;
	uint8_t *v = out->values;
	for (int64_t r = 0; r < c->n; r++) {
		if (vb && !((vb[r >> 3] >> (r & 7)) & 1))
			continue;
		int d = ex_cmp_rows(&k, r, r);
		v[r] = op == EB_EQ ? d == 0 : op == EB_NE ? d != 0 : op == EB_LT ? d < 0 :
		       op == EB_LE ? d <= 0 : op == EB_GT ? d > 0 : d >= 0;
	}
	ex_finish_nulls(out, c->n);
	return 0;
}

/* The kind of a fast comparison of e's type with a literal: 's' string,
 * 'i' int or long, 'd' double; 0 when the general path compares them. */
static int lit_kind(const floe_type *t, bool lit)
{
	if (t->id == FLOE_TYPE_STRING)
		return 's';
	if ((t->id == FLOE_TYPE_LONG || (lit && t->id == FLOE_TYPE_INT)) && !t->is_unsigned)
		return 'i';
	return t->id == FLOE_TYPE_DOUBLE ? 'd' : 0;
}

/* A column compared with a non-NULL literal (e.g. side = 'BUY', price > 0),
 * without a column of copies of the literal: the answers of
 * eval_compare. 1 when the general path must do it. */
static int compare_literal(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	int flip = e->args[0]->k == EX_LIT, rc;
	const floe_expr *lit = e->args[!flip], *col = e->args[flip];
	if (lit->k != EX_LIT || lit->lnull || col->k == EX_LIT)
		return 1;
	int kc = lit_kind(&col->type, false), kl = lit_kind(&lit->type, true);
	if (!kc || !kl || (kc == 's') != (kl == 's'))
		return 1;
	floe_column x;
	uint8_t *vb;
	if ((rc = ex_eval(col, c, &x)) || (rc = ex_both_valid(c, &x, NULL, &vb)) ||
	    (rc = ex_alloc_fixed(c, out, ex_ty(FLOE_TYPE_BOOLEAN))))
		return rc;
	out->validity = vb;
	if (x.null_count == c->n) {
		if (!out->validity && !(out->validity = ex_bits_new(c, false)))
			return ex_oom(c->err);
		memset(out->validity, 0, (size_t)((c->n + 7) / 8));
		ex_finish_nulls(out, c->n);
		return 0;
	}
	int op = e->op;
	int64_t li = lit->type.id == FLOE_TYPE_INT ? (int32_t)lit->li : lit->li;
	double ld = lit->type.id == FLOE_TYPE_DOUBLE ? lit->ld : (double)li;
	const int64_t *xi = x.values;
	const double *xd = x.values;
	uint8_t *v = out->values;
	if (kc == 's' && (op == EB_EQ || op == EB_NE) && !vb && lit->lslen <= 8) {
		/* a short literal, no NULL: a length and a word compared per row */
		const int64_t *off = x.offsets;
		size_t ll = lit->lslen;
		uint64_t key = floe_load_key8((const uint8_t *)lit->ls, ll);
		bool ne = op == EB_NE;
		for (int64_t r = 0; r < c->n; r++) {
			int64_t o = off[r];
			bool eq = (size_t)(off[r + 1] - o) == ll && floe_load_key8(x.data + o, ll) == key;
			v[r] = eq != ne;
		}
		return 0;
	}
	for (int64_t r = 0; r < c->n; r++) {
		if (vb && !((vb[r >> 3] >> (r & 7)) & 1))
			continue;
		int d;
		if (kc == 's') {
			size_t la;
			const uint8_t *pa = ex_str(&x, r, &la);
			if ((op == EB_EQ || op == EB_NE) && la != lit->lslen) {
				v[r] = op == EB_NE; /* lengths differ: not equal */
				continue;
			}
			int m = memcmp(pa, lit->ls, la < lit->lslen ? la : lit->lslen);
			d = m ? (m < 0 ? -1 : 1) : (la < lit->lslen ? -1 : la > lit->lslen);
		} else if (kc == 'i' && kl == 'i') {
			d = xi[r] < li ? -1 : xi[r] > li;
		} else {
			double a = kc == 'i' ? (double)xi[r] : xd[r];
			d = a < ld ? -1 : a > ld ? 1 : a == ld ? 0 : isnan(a) ? (isnan(ld) ? 0 : 1) : -1;
		}
		if (flip)
			d = -d;
		v[r] = op == EB_EQ ? d == 0 : op == EB_NE ? d != 0 : op == EB_LT ? d < 0 :
		       op == EB_LE ? d <= 0 : op == EB_GT ? d > 0 : d >= 0;
	}
	ex_finish_nulls(out, c->n);
	return 0;
}

#define IN_MAX_LITERALS 64

/* x IN ('a', 'b', ...) over strings, which the parser makes an OR tree of
 * x = literal sharing the node x: one pass over x, each value's length
 * checked against the literals' before its bytes, instead of a pass and a
 * boolean column per literal and per OR. The answers of the OR tree (NULL
 * where x is NULL: no literal is NULL here). 1 when the tree is not of
 * that shape. */
static int in_strings(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	const floe_expr *lits[IN_MAX_LITERALS], *stack[IN_MAX_LITERALS + 1], *x = NULL;
	int nl = 0, sp = 0, rc;
	stack[sp++] = e;
	while (sp) {
		const floe_expr *q = stack[--sp];
		if (q->k == EX_BIN && q->op == EB_OR) {
			if (sp + 2 > IN_MAX_LITERALS)
				return 1;
			stack[sp++] = q->args[1];
			stack[sp++] = q->args[0];
			continue;
		}
		if (q->k != EX_BIN || q->op != EB_EQ || nl == IN_MAX_LITERALS)
			return 1;
		const floe_expr *a = q->args[0], *l = q->args[1];
		if (l->k != EX_LIT || l->lnull || lit_kind(&l->type, true) != 's' ||
		    (x ? a != x : a->k == EX_LIT || lit_kind(&a->type, false) != 's'))
			return 1;
		x = a;
		lits[nl++] = l;
	}
	floe_column xc;
	uint8_t *vb;
	if ((rc = ex_eval(x, c, &xc)) || (rc = ex_both_valid(c, &xc, NULL, &vb)) ||
	    (rc = ex_alloc_fixed(c, out, ex_ty(FLOE_TYPE_BOOLEAN))))
		return rc;
	out->validity = vb;
	uint64_t keys[IN_MAX_LITERALS];
	for (int i = 0; i < nl; i++)
		keys[i] = lits[i]->lslen <= 8 ?
		          floe_load_key8((const uint8_t *)lits[i]->ls, lits[i]->lslen) : 0;
	uint8_t *v = out->values;
	for (int64_t r = 0; r < c->n; r++) {
		if (!ex_live(c, r) || (vb && !((vb[r >> 3] >> (r & 7)) & 1)))
			continue;
		size_t la;
		const uint8_t *pa = ex_str(&xc, r, &la);
		uint64_t ka = la <= 8 ? floe_load_key8(pa, la) : 0;
		uint8_t hit = 0;
		for (int i = 0; i < nl && !hit; i++)
			hit = la == lits[i]->lslen &&
			      (la <= 8 ? ka == keys[i] : memcmp(pa, lits[i]->ls, la) == 0);
		v[r] = hit;
	}
	ex_finish_nulls(out, c->n);
	return 0;
}

static int eval_bin(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	int op = e->op, rc;
	if (op == EB_OR && (rc = in_strings(e, c, out)) <= 0)
		return rc;
	if (op == EB_AND || op == EB_OR)
		return eval_logic(e, c, out);
	if (op >= EB_EQ && op <= EB_GE && (rc = compare_literal(e, c, out)) <= 0)
		return rc;
	floe_column x, y;
	if ((rc = ex_eval(e->args[0], c, &x)) || (rc = ex_eval(e->args[1], c, &y)))
		return rc;
	int64_t n = c->n;
	uint8_t *vb;
	if ((rc = ex_both_valid(c, &x, &y, &vb)))
		return rc;
#define LIVE_VALID(r) (ex_live(c, r) && (!vb || ((vb[(r) >> 3] >> ((r) & 7)) & 1)))
	if (op == EB_CONCAT) {
		ex_sbuild s;
		if ((rc = ex_sb_init(c, &s)))
			return rc;
		for (int64_t r = 0; r < n; r++) {
			if (LIVE_VALID(r) && (ex_text_of(&s.data, &x, r) || ex_text_of(&s.data, &y, r)))
				return ex_sb_fail(c, &s);
			if (ex_sb_put(&s, NULL, 0))
				return ex_sb_fail(c, &s);
		}
		return ex_sb_done(c, &s, out, vb);
	}
	if (op == EB_LIKE) {
		if ((rc = ex_alloc_fixed(c, out, ex_ty(FLOE_TYPE_BOOLEAN))))
			return rc;
		uint8_t *v = out->values;
		for (int64_t r = 0; r < n; r++)
			if (LIVE_VALID(r) && x.type.id && y.type.id) {
				size_t a, b;
				const uint8_t *pa = ex_str(&x, r, &a), *pb = ex_str(&y, r, &b);
				v[r] = like(pa, a, pb, b);
			}
		out->validity = vb;
		ex_finish_nulls(out, n);
		return 0;
	}
	if (op >= EB_EQ && op <= EB_GE)
		return eval_compare(e, c, &x, &y, vb, out);
	/* arithmetic */
	floe_type t = e->type;
	if ((rc = ex_alloc_fixed(c, out, t)))
		return rc;
	out->validity = vb;
	if (t.id == FLOE_TYPE_DOUBLE) {
		const double *xd, *yd;
		if ((rc = ex_as_f64(c, &x, &xd)) || (rc = ex_as_f64(c, &y, &yd)))
			return rc;
		double *v = out->values;
		for (int64_t r = 0; r < n; r++) {
			double a = xd[r], b = yd[r];
			switch (op) {
			case EB_ADD: v[r] = a + b; break;
			case EB_SUB: v[r] = a - b; break;
			case EB_MUL: v[r] = a * b; break;
			default:
				/* by zero: NULL, as DuckDB */
				if (b == 0)
					rc = ex_set_null(c, out, r);
				else
					v[r] = op == EB_DIV ? a / b : fmod(a, b);
				if (rc)
					return rc;
				break;
			}
		}
		ex_finish_nulls(out, n);
		return 0;
	}
	/* integers, times (micros) and dates (days) */
	bool ts = ex_is_ts(t.id);
	const int64_t *xi, *yi;
	if ((rc = ex_as_i64(c, &x, ts, &xi)) || (rc = ex_as_i64(c, &y, ts, &yi)))
		return rc;
	bool li = e->args[0]->k == EX_LIT && e->args[0]->interval;
	for (int64_t r = 0; r < n; r++) {
		if (!LIVE_VALID(r))
			continue;
		int64_t a = xi[r], b = yi[r], z = 0;
		bool ovf = false;
		switch (op) {
		case EB_ADD: ovf = __builtin_add_overflow(a, b, &z); break;
		case EB_SUB: ovf = __builtin_sub_overflow(a, b, &z); break;
		case EB_MUL: ovf = __builtin_mul_overflow(a, b, &z); break;
		default: /* % on integers; / is always a double */
			if (b == 0) {
				if ((rc = ex_set_null(c, out, r)))
					return rc;
				continue;
			}
			z = b == -1 ? 0 : a % b;
			break;
		}
		if (t.id == FLOE_TYPE_DATE)
			ovf |= z < INT32_MIN || z > INT32_MAX;
		if (ovf) {
			static const char *const ops[] = { "", "+", "-", "*", "/", "%" };
			if (t.id == FLOE_TYPE_DATE || ts)
				return floe_error_set(c->err, FLOE_EINVALID, "row %" PRId64 ": the %s is out "
				                      "of range", r, ts ? "timestamp" : "date");
			return floe_error_set(c->err, FLOE_EINVALID, "row %" PRId64 ": %" PRId64 " %s %"
			                      PRId64 " overflows a long (CAST to double first)", r,
			                      li ? b : a, ops[op], li ? a : b);
		}
		if (t.id == FLOE_TYPE_DATE)
			((int32_t *)out->values)[r] = (int32_t)z;
		else
			((int64_t *)out->values)[r] = z;
	}
#undef LIVE_VALID
	ex_finish_nulls(out, n);
	return 0;
}

/* ---- casts ------------------------------------------------------------------------ */

static int cast_fail(ex_ctx *c, const floe_expr *e, floe_column *out, int64_t r,
                     const char *what)
{
	if (e->try_ || !ex_live(c, r))
		return ex_set_null(c, out, r);
	char b[32];
	return floe_error_set(c->err, FLOE_EINVALID, "row %" PRId64 ": cannot cast '%.80s' to %s "
	                      "(TRY_CAST gives NULL instead)", r, what, ex_tname(e->cast_to, b));
}

static const int64_t pow10s[19] = { 1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL,
	10000000LL, 100000000LL, 1000000000LL, 10000000000LL, 100000000000LL, 1000000000000LL,
	10000000000000LL, 100000000000000LL, 1000000000000000LL, 10000000000000000LL,
	100000000000000000LL, 1000000000000000000LL };

/* An unscaled decimal v of scale `from` at scale `to` (half away from
 * zero); false on overflow. */
static bool rescale(int64_t v, int from, int to, int64_t *out)
{
	if (to >= from)
		return !__builtin_mul_overflow(v, pow10s[to - from], out);
	int64_t d = pow10s[from - to], q = v / d, rem = v % d;
	if (rem >= d / 2 + d % 2 || -rem >= d / 2 + d % 2)
		q += v < 0 ? -1 : 1;
	*out = q;
	return true;
}

/* A double to an integer, nearest with ties to even (as DuckDB casts
 * floating point); false when out of range or not a number. */
static bool f64_to_i64(double d, int64_t *out)
{
	double rd = nearbyint(d);
	if (!(rd >= -9223372036854775808.0 && rd < 9223372036854775808.0))
		return false;
	*out = (int64_t)rd;
	return true;
}

/* One value of row r (not NULL) cast; sets *ok = false when it does not fit. */
static int cast_value(ex_ctx *c, const floe_expr *e, const floe_column *x, int64_t r,
                      const double *xd, const int64_t *xi, floe_buf *scratch, floe_value *v,
                      bool *ok)
{
	floe_type t = e->cast_to, ft = x->type;
	(void)c;
	*ok = true;
	memset(v, 0, sizeof *v);
	if (ex_is_str(ft.id)) {
		size_t len;
		const uint8_t *p = ex_str(x, r, &len);
		if (ex_is_time(t.id)) {
			*ok = ex_parse_time(t.id, (const char *)p, len, &v->i, NULL) == 0;
			return 0;
		}
		while (len && isspace(*p))
			p++, len--;
		while (len && isspace(p[len - 1]))
			len--;
		floe_type pt = t;
		if (floe_text_parse(v, &pt, (const char *)p, len, scratch, NULL) == 0)
			return 0;
		if (t.id == FLOE_TYPE_DECIMAL) {
			/* more fraction digits than the scale: rounded */
			floe_type dt = ex_ty(FLOE_TYPE_DOUBLE);
			if (floe_text_parse(v, &dt, (const char *)p, len, scratch, NULL) == 0 &&
			    f64_to_i64(round(v->d * (double)pow10s[t.scale]), &v->i) &&
			    v->i > -pow10s[t.precision] && v->i < pow10s[t.precision] &&
			    fabs(v->d) < 1e18)
				return 0;
		}
		*ok = false;
		return 0;
	}
	switch (t.id) {
	case FLOE_TYPE_DOUBLE:
	case FLOE_TYPE_FLOAT:
		v->d = xd[r];
		return 0;
	case FLOE_TYPE_BOOLEAN:
		v->b = xd ? xd[r] != 0 : xi[r] != 0;
		return 0;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_LONG:
		if (ft.id == FLOE_TYPE_DECIMAL)
			*ok = rescale(((const int64_t *)x->values)[r], ft.scale, 0, &v->i);
		else if (xi)
			v->i = xi[r];
		else
			*ok = f64_to_i64(xd[r], &v->i);
		if (t.id == FLOE_TYPE_INT && (v->i < INT32_MIN || v->i > INT32_MAX))
			*ok = false;
		return 0;
	case FLOE_TYPE_DECIMAL:
		if (ft.id == FLOE_TYPE_DECIMAL)
			*ok = rescale(((const int64_t *)x->values)[r], ft.scale, t.scale, &v->i);
		else if (xi)
			*ok = !__builtin_mul_overflow(xi[r], pow10s[t.scale], &v->i);
		else
			*ok = fabs(xd[r]) < 1e18 && f64_to_i64(round(xd[r] * (double)pow10s[t.scale]),
			                                       &v->i);
		*ok = *ok && v->i > -pow10s[t.precision] && v->i < pow10s[t.precision];
		return 0;
	case FLOE_TYPE_DATE:
		if (ft.id == FLOE_TYPE_DATE)
			v->i = xi[r];
		else
			v->i = ex_floor_div(xi[r], 86400000000LL); /* the UTC day */
		*ok = v->i >= INT32_MIN && v->i <= INT32_MAX;
		return 0;
	default: /* timestamps, from times (dates as micros) */
		v->i = xi[r];
		return 0;
	}
}

static int eval_cast(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	floe_column x;
	int rc = ex_eval(e->args[0], c, &x);
	if (rc)
		return rc;
	floe_type t = e->cast_to;
	int64_t n = c->n;
	if (x.type.id == t.id && (t.id != FLOE_TYPE_DECIMAL || (x.type.precision == t.precision &&
	                                                       x.type.scale == t.scale))) {
		*out = x;
		out->type = t;
		return 0;
	}
	if (ex_is_str(t.id)) {
		ex_sbuild s;
		if ((rc = ex_sb_init(c, &s)))
			return rc;
		for (int64_t r = 0; r < n; r++)
			if ((ex_valid(&x, r) && ex_live(c, r) && ex_text_of(&s.data, &x, r)) ||
			    ex_sb_put(&s, NULL, 0))
				return ex_sb_fail(c, &s);
		uint8_t *vb = NULL;
		if ((rc = ex_both_valid(c, &x, NULL, &vb)))
			return ex_sb_fail(c, &s);
		if (x.type.id == 0 && !(vb = ex_bits_new(c, false)))
			return ex_sb_fail(c, &s);
		return ex_sb_done(c, &s, out, vb);
	}
	if ((rc = ex_alloc_fixed(c, out, t)))
		return rc;
	if ((rc = ex_both_valid(c, &x, NULL, &out->validity)))
		return rc;
	if (x.type.id == 0) {
		if (!(out->validity = ex_bits_new(c, false)))
			return ex_oom(c->err);
		ex_finish_nulls(out, n);
		return 0;
	}
	/* the source as numbers once */
	const double *xd = NULL;
	const int64_t *xi = NULL;
	floe_type_id f = x.type.id;
	if (!ex_is_str(f)) {
		if (f == FLOE_TYPE_FLOAT || f == FLOE_TYPE_DOUBLE || f == FLOE_TYPE_DECIMAL ||
		    t.id == FLOE_TYPE_DOUBLE || t.id == FLOE_TYPE_FLOAT)
			rc = ex_as_f64(c, &x, &xd);
		else
			rc = ex_as_i64(c, &x, ex_is_ts(t.id), &xi);
		if (rc)
			return rc;
	}
	floe_buf scratch = { 0 }, text = { 0 };
	for (int64_t r = 0; r < n && !rc; r++) {
		if (!ex_valid(&x, r))
			continue;
		floe_value v;
		bool ok;
		if ((rc = cast_value(c, e, &x, r, xd, xi, &scratch, &v, &ok)))
			break;
		if (!ok) {
			text.len = 0;
			if (ex_text_of(&text, &x, r) || floe_buf_putc(&text, 0))
				rc = ex_oom(c->err);
			else
				rc = cast_fail(c, e, out, r, (const char *)text.data);
			continue;
		}
		switch (t.id) {
		case FLOE_TYPE_BOOLEAN:
			((uint8_t *)out->values)[r] = v.b;
			break;
		case FLOE_TYPE_INT:
		case FLOE_TYPE_DATE:
			((int32_t *)out->values)[r] = (int32_t)v.i;
			break;
		case FLOE_TYPE_FLOAT:
			((float *)out->values)[r] = (float)v.d;
			break;
		case FLOE_TYPE_DOUBLE:
			((double *)out->values)[r] = v.d;
			break;
		default:
			((int64_t *)out->values)[r] = v.i;
			break;
		}
	}
	floe_buf_free(&scratch);
	floe_buf_free(&text);
	if (rc)
		return rc;
	ex_finish_nulls(out, n);
	return 0;
}

/* ---- CASE ------------------------------------------------------------------------- */

/* CASE WHEN cond THEN column ELSE constant END of 8-byte values (the bars'
 * `CASE WHEN side = 'BUY' THEN volume ELSE 0 END`): one pass picking the
 * column's value or the constant, with eval_case's answers (a row that is
 * not live is NULL). A column raises no row's error, so reading it for
 * every row is safe. 1 when e is not of that shape. */
static int case_select(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	floe_type t = floe_expr_type(e);
	const floe_expr *th = e->nargs == 3 && e->has_else ? e->args[1] : NULL;
	if (!th || th->k != EX_COL || e->args[2]->k != EX_LIT || floe_type_is_variable(&t) ||
	    floe_type_value_width(&t) != 8 || t.id == FLOE_TYPE_DECIMAL || th->type.id != t.id)
		return 1;
	floe_column cond, x, k;
	ex_ctx c1 = *c;
	c1.n = 1;
	c1.live = NULL;
	int rc;
	if ((rc = ex_eval(e->args[0], c, &cond)) || (rc = ex_eval(th, c, &x)) ||
	    (rc = ex_eval(e->args[2], &c1, &k)) || (rc = ex_coerce(&c1, &k, t)) ||
	    (rc = ex_alloc_fixed(c, out, t)))
		return rc;
	const uint8_t *cv = cond.values, *live = c->live;
	const uint64_t *xv = x.values;
	uint64_t kv = ((const uint64_t *)k.values)[0], *ov = out->values;
	bool kvalid = ex_valid(&k, 0);
	if (!live && !cond.validity && !x.validity && kvalid) {
		/* no NULL anywhere: a select per row, every row valid */
		for (int64_t r = 0; r < c->n; r++)
			ov[r] = cv[r] ? xv[r] : kv;
		return 0;
	}
	uint8_t *vb = ex_bits_new(c, false);
	if (!vb)
		return ex_oom(c->err);
	for (int64_t r = 0; r < c->n; r++) {
		if (live && !live[r])
			continue;
		bool take = cv[r] && ex_valid(&cond, r);
		bool valid = take ? ex_valid(&x, r) : kvalid;
		if (valid) {
			ov[r] = take ? xv[r] : kv;
			vb[r >> 3] |= (uint8_t)(1u << (r & 7));
		}
	}
	out->validity = vb;
	ex_finish_nulls(out, c->n);
	return 0;
}

static int eval_case(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	int rc = case_select(e, c, out);
	if (rc != 1)
		return rc;
	int64_t n = c->n;
	int pairs = (e->nargs - (e->has_else ? 1 : 0)) / 2;
	int32_t *pick = floe_arena_alloc(c->a, (size_t)(n ? n : 1) * sizeof *pick);
	floe_column *vals = floe_arena_calloc(c->a, (size_t)pairs + 1, sizeof *vals);
	bool *one = floe_arena_calloc(c->a, (size_t)pairs + 1, sizeof *one);
	uint8_t *undecided = ex_mask_new(c), *mine = floe_arena_alloc(c->a, (size_t)(n ? n : 1));
	if (!pick || !vals || !one || !undecided || !mine)
		return ex_oom(c->err);
	for (int64_t r = 0; r < n; r++)
		pick[r] = -1;
	floe_type t = floe_expr_type(e);
	/* each WHEN sees the rows no earlier WHEN took; each THEN the rows its
	 * WHEN took */
	for (int k = 0; k <= pairs; k++) {
		bool any = false;
		if (k < pairs) {
			for (int64_t r = 0; r < n && !any; r++)
				any = undecided[r];
			if (!any)
				break;
			floe_column cond;
			if ((rc = ex_eval_masked(e->args[2 * k], c, undecided, &cond)))
				return rc;
			const uint8_t *cv = cond.values;
			any = false;
			for (int64_t r = 0; r < n; r++) {
				mine[r] = undecided[r] && ex_valid(&cond, r) && cv[r];
				if (mine[r]) {
					undecided[r] = 0;
					pick[r] = k;
					any = true;
				}
			}
		} else {
			if (!e->has_else)
				break;
			for (int64_t r = 0; r < n; r++) {
				mine[r] = undecided[r];
				if (mine[r]) {
					pick[r] = k;
					any = true;
				}
			}
		}
		if (!any)
			continue;
		const floe_expr *val = e->args[k < pairs ? 2 * k + 1 : e->nargs - 1];
		if (val->k == EX_LIT) {
			/* a constant: one value (of one row, no mask: a literal and its
			 * coercion raise no row's error) that every row it takes reads */
			ex_ctx c1 = *c;
			c1.n = 1;
			c1.live = NULL;
			one[k] = true;
			if ((rc = ex_eval(val, &c1, &vals[k])) || (rc = ex_coerce(&c1, &vals[k], t)))
				return rc;
			continue;
		}
		if ((rc = ex_eval_masked(val, c, mine, &vals[k])) || (rc = ex_coerce(c, &vals[k], t)))
			return rc;
	}
	return ex_gather_one(c, t, vals, one, pick, out);
}

/* ---- dispatch ----------------------------------------------------------------------- */

static int eval_neg(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	floe_column x;
	int rc;
	if ((rc = ex_eval(e->args[0], c, &x)))
		return rc;
	if ((rc = ex_alloc_fixed(c, out, e->type)))
		return rc;
	if ((rc = ex_both_valid(c, &x, NULL, &out->validity)))
		return rc;
	if (x.type.id == 0 && !(out->validity = ex_bits_new(c, false)))
		return ex_oom(c->err);
	if (e->type.id == FLOE_TYPE_LONG) {
		const int64_t *v;
		if ((rc = ex_as_i64(c, &x, false, &v)))
			return rc;
		for (int64_t r = 0; r < c->n; r++) {
			if (v[r] == INT64_MIN && ex_valid(out, r)) {
				if (ex_live(c, r))
					return floe_error_set(c->err, FLOE_EINVALID, "row %" PRId64 ": -(%" PRId64
					                      ") overflows a long", r, v[r]);
				continue;
			}
			((int64_t *)out->values)[r] = -v[r];
		}
	} else {
		const double *v;
		if ((rc = ex_as_f64(c, &x, &v)))
			return rc;
		for (int64_t r = 0; r < c->n; r++)
			((double *)out->values)[r] = -v[r];
	}
	ex_finish_nulls(out, c->n);
	return 0;
}

int ex_eval(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	int rc;
	switch (e->k) {
	case EX_LIT:
		return eval_lit(e, c, out);
	case EX_COL:
		return eval_col(e, c, out);
	case EX_NEG:
		return eval_neg(e, c, out);
	case EX_NOT: {
		floe_column x;
		if ((rc = ex_eval(e->args[0], c, &x)))
			return rc;
		if ((rc = ex_alloc_fixed(c, out, ex_ty(FLOE_TYPE_BOOLEAN))))
			return rc;
		if ((rc = ex_both_valid(c, &x, NULL, &out->validity)))
			return rc;
		if (x.type.id == FLOE_TYPE_BOOLEAN)
			for (int64_t r = 0; r < c->n; r++)
				((uint8_t *)out->values)[r] = !((const uint8_t *)x.values)[r];
		ex_finish_nulls(out, c->n);
		return 0;
	}
	case EX_ISNULL: {
		floe_column x;
		if ((rc = ex_eval(e->args[0], c, &x)))
			return rc;
		if ((rc = ex_alloc_fixed(c, out, ex_ty(FLOE_TYPE_BOOLEAN))))
			return rc;
		for (int64_t r = 0; r < c->n; r++)
			((uint8_t *)out->values)[r] = ex_valid(&x, r) == e->neg;
		return 0;
	}
	case EX_BIN:
		return eval_bin(e, c, out);
	case EX_CAST:
		return eval_cast(e, c, out);
	case EX_CASE:
		return eval_case(e, c, out);
	case EX_FUNC:
		return e->series ? ex_eval_series(e, c, out) : ex_eval_func(e, c, out);
	}
	return floe_error_set(c->err, FLOE_EINVALID, "unknown expression node");
}

int ex_eval_masked(const floe_expr *e, ex_ctx *c, const uint8_t *mask, floe_column *out)
{
	const uint8_t *saved = c->live;
	if (mask)
		c->live = mask;
	int rc = ex_eval(e, c, out);
	c->live = saved;
	return rc;
}

int floe_expr_eval(const floe_expr *e, const floe_batch *b, const floe_expr_series *series,
                   floe_column *out, floe_arena *arena, floe_error *err)
{
	memset(out, 0, sizeof *out);
	if (!e || !b || b->nrows < 0)
		return floe_error_set(err, FLOE_EINVALID, "no expression or batch to evaluate");
	if (!e->schema)
		return floe_error_set(err, FLOE_EINVALID, "'%s' is not bound (call floe_expr_bind "
		                      "first)", floe_expr_text(e));
	ex_ctx c = { b, series, arena, err, b->nrows, NULL };
	int rc = ex_eval(e, &c, out);
	if (rc)
		return rc;
	/* a bare NULL literal is a string column of NULLs */
	if (out->type.id == 0)
		out->type = ex_ty(FLOE_TYPE_STRING);
	return 0;
}

int floe_expr_eval_filter(const floe_expr *e, const floe_batch *b,
                          const floe_expr_series *series, uint8_t *keep, floe_arena *arena,
                          floe_error *err)
{
	floe_column col;
	int rc = floe_expr_eval(e, b, series, &col, arena, err);
	if (rc)
		return rc;
	if (col.type.id != FLOE_TYPE_BOOLEAN)
		return floe_error_set(err, FLOE_EINVALID, "'%s' is not a condition (it gives a %s)",
		                      floe_expr_text(e), floe_expr_type(e).id == FLOE_TYPE_STRING ?
		                      "string" : "value");
	const uint8_t *v = col.values;
	for (int64_t r = 0; r < b->nrows; r++)
		keep[r] = floe_column_is_valid(&col, r) && v[r];
	return 0;
}
