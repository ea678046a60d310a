/* engine/expr_func.c - the function library: one table of names and
 * argument counts, the binder's checks and result types for every
 * function, and the vectorized evaluation of the scalar ones (conditional,
 * string, number and time functions). Series functions (lag, rolling_*)
 * are checked here and evaluated in expr_series.c. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/expr_int.h"

static const struct {
	const char *name;
	int fn, min, max;
} funcs[] = {
	{ "coalesce", F_COALESCE, 1, 64 }, { "nullif", F_NULLIF, 2, 2 }, { "if", F_IF, 3, 3 },
	{ "greatest", F_GREATEST, 1, 64 }, { "least", F_LEAST, 1, 64 }, { "upper", F_UPPER, 1, 1 },
	{ "lower", F_LOWER, 1, 1 }, { "trim", F_TRIM, 1, 1 }, { "ltrim", F_LTRIM, 1, 1 },
	{ "rtrim", F_RTRIM, 1, 1 }, { "length", F_LENGTH, 1, 1 }, { "substr", F_SUBSTR, 2, 3 },
	{ "substring", F_SUBSTR, 2, 3 }, { "concat", F_CONCAT, 1, 64 },
	{ "replace", F_REPLACE, 3, 3 }, { "starts_with", F_STARTS, 2, 2 },
	{ "ends_with", F_ENDS, 2, 2 }, { "contains", F_CONTAINS, 2, 2 }, { "abs", F_ABS, 1, 1 },
	{ "round", F_ROUND, 1, 2 }, { "floor", F_FLOOR, 1, 1 }, { "ceil", F_CEIL, 1, 1 },
	{ "ceiling", F_CEIL, 1, 1 }, { "sqrt", F_SQRT, 1, 1 }, { "ln", F_LN, 1, 1 },
	{ "log10", F_LOG10, 1, 1 }, { "exp", F_EXP, 1, 1 }, { "power", F_POWER, 2, 2 },
	{ "pow", F_POWER, 2, 2 }, { "sign", F_SIGN, 1, 1 }, { "date_trunc", F_DATE_TRUNC, 2, 2 },
	{ "window_start", F_WSTART, 2, 2 }, { "window_end", F_WEND, 2, 2 },
	{ "to_timestamp", F_TO_TS, 1, 1 }, { "try_to_timestamp", F_TRY_TO_TS, 1, 1 },
	{ "to_date", F_TO_DATE, 1, 1 }, { "epoch_us", F_EPOCH_US, 1, 1 },
	{ "epoch_ms", F_EPOCH_MS, 1, 1 }, { "epoch_seconds", F_EPOCH_S, 1, 1 },
	{ "date_part", F_DATE_PART, 2, 2 },
	{ "lag", F_LAG, 1, 2 }, { "rolling_sum", F_RSUM, 2, 2 }, { "rolling_avg", F_RAVG, 2, 2 },
	{ "rolling_min", F_RMIN, 2, 2 }, { "rolling_max", F_RMAX, 2, 2 },
	{ "rolling_count", F_RCOUNT, 2, 2 }, { "rolling_stddev", F_RSTDDEV, 2, 2 },
	{ NULL, 0, 0, 0 }
};

/* date_trunc and date_part units; `trunc` says date_trunc takes it */
enum { U_SECOND, U_MINUTE, U_HOUR, U_DAY, U_WEEK, U_MONTH, U_QUARTER, U_YEAR, U_DOW, U_ISODOW,
       U_DOY, U_MILLISECOND, U_MICROSECOND };
static const struct {
	const char *name;
	bool trunc;
} units[] = { { "second", true }, { "minute", true }, { "hour", true }, { "day", true },
	{ "week", true }, { "month", true }, { "quarter", true }, { "year", true },
	{ "dow", false }, { "isodow", false }, { "doy", false }, { "millisecond", true },
	{ "microsecond", false }, { NULL, false } };

/* ---- binding ------------------------------------------------------------------ */

static int bind_series(floe_expr *e, floe_error *err)
{
	floe_expr **a = e->args;
	floe_type t0 = a[0]->type;
	char b1[32];
	int rc;
	e->series = true;
	if (e->fn == F_LAG) {
		e->lag_rows = 1;
		if (e->nargs == 2) {
			floe_expr *x = a[1];
			if (x->k == EX_LIT && !x->interval && !x->lnull && x->type.id == FLOE_TYPE_LONG) {
				if (x->li <= 0)
					return floe_error_set(err, FLOE_EINVALID, "at character %d: lag(x, N) "
					                      "takes N >= 1 rows", x->pos + 1);
				e->lag_rows = x->li;
			} else if (ex_const_interval(x, &e->interval_us, NULL) == 0) {
				e->lag_rows = 0;
			} else {
				return floe_error_set(err, FLOE_EINVALID, "at character %d: lag(x, N) takes "
				                      "a row count (a positive integer) or an INTERVAL",
				                      x->pos + 1);
			}
		}
		e->type = t0.id ? t0 : ex_ty(FLOE_TYPE_STRING);
		return 0;
	}
	if ((rc = ex_const_interval(a[1], &e->interval_us, err)))
		return rc;
	int fn = e->fn;
	bool minmax = fn == F_RMIN || fn == F_RMAX;
	if (fn != F_RCOUNT && t0.id && !ex_is_num(t0.id) &&
	    !(minmax && (ex_is_time(t0.id) || ex_is_str(t0.id) || t0.id == FLOE_TYPE_BOOLEAN)))
		return ex_bind_err(err, a[0], "%s() needs numbers, not a %s", e->name, ex_tname(t0, b1));
	if (fn == F_RCOUNT)
		e->type = ex_ty(FLOE_TYPE_LONG);
	else if (fn == F_RSUM)
		e->type = ex_num_norm(t0);
	else if (minmax)
		e->type = ex_is_num(t0.id) || !t0.id ? ex_num_norm(t0) :
		          ex_is_str(t0.id) ? ex_ty(FLOE_TYPE_STRING) : t0;
	else
		e->type = ex_ty(FLOE_TYPE_DOUBLE);
	return 0;
}

static int bind_unit(floe_expr *e, floe_error *err)
{
	floe_expr *u = e->args[0];
	if (u->k != EX_LIT || !ex_is_str(u->type.id) || u->lnull)
		return ex_bind_err(err, u, "%s(): the unit is a constant string such as 'minute'%s",
		                   e->name, "");
	for (int i = 0; units[i].name; i++)
		if (strcasecmp(u->ls, units[i].name) == 0 && (units[i].trunc || e->fn == F_DATE_PART)) {
			e->unit = i;
			return 0;
		}
	return ex_bind_err(err, u, "unknown unit '%.40s' (second, minute, hour, day, week, month, "
	                   "quarter, year%s)", u->ls, e->fn == F_DATE_PART ?
	                   ", dow, isodow, doy, millisecond, microsecond" : ", millisecond");
}

int ex_bind_func(floe_expr *e, const floe_schema *s, unsigned flags, floe_error *err)
{
	if (ex_agg_fn(e))
		return floe_error_set(err, FLOE_EINVALID, "at character %d: %s() is an aggregate: use "
		                      "it in an aggregate step's outputs", e->pos + 1, e->name);
	int k = -1;
	for (int i = 0; funcs[i].name; i++)
		if (strcasecmp(funcs[i].name, e->name) == 0)
			k = i;
	if (k < 0)
		return floe_error_set(err, FLOE_EINVALID, "at character %d: no function %.60s() "
		                      "(docs/expressions.md lists them)", e->pos + 1, e->name);
	if (e->star || e->nargs < funcs[k].min || e->nargs > funcs[k].max) {
		if (funcs[k].max == funcs[k].min)
			return floe_error_set(err, FLOE_EINVALID, "at character %d: %s() takes %d "
			                      "argument%s", e->pos + 1, e->name, funcs[k].min,
			                      funcs[k].min == 1 ? "" : "s");
		return floe_error_set(err, FLOE_EINVALID, "at character %d: %s() takes %d to %d "
		                      "arguments", e->pos + 1, e->name, funcs[k].min, funcs[k].max);
	}
	e->fn = funcs[k].fn;
	int fn = e->fn, rc;
	bool series = fn >= F_LAG;
	if (series && !(flags & FLOE_EXPR_SERIES))
		return floe_error_set(err, FLOE_EINVALID, "at character %d: %s() looks at other rows: "
		                      "use it in an aggregate step's arguments or a rolling step",
		                      e->pos + 1, e->name);
	e->series = false;
	for (int i = 0; i < e->nargs; i++) {
		/* interval, unit and row-count arguments are constants, not bound */
		if (i == 1 && (fn == F_WSTART || fn == F_WEND || series))
			continue;
		if (i == 0 && (fn == F_DATE_TRUNC || fn == F_DATE_PART))
			continue;
		/* a series function's argument sees every row of the series */
		if ((rc = ex_bind(e->args[i], s, flags, err)))
			return rc;
	}
	if (series)
		return bind_series(e, err);
	floe_expr **a = e->args;
	char b1[32], b2[32];
	floe_type t0 = a[0]->type;
	switch (fn) {
	case F_COALESCE:
	case F_GREATEST:
	case F_LEAST:
		return 0; /* unified by the caller */
	case F_IF:
		if (t0.id != FLOE_TYPE_BOOLEAN && t0.id != 0)
			return ex_bind_err(err, a[0], "if() needs a condition first, not a %s%s",
			                   ex_tname(t0, b1), "");
		return 0;
	case F_NULLIF: {
		if (ex_is_time(t0.id) && (rc = ex_lit_to_time(&a[1], t0, err)))
			return rc;
		floe_type t1 = a[1]->type;
		bool ok = !t0.id || !t1.id || (ex_is_num(t0.id) && ex_is_num(t1.id)) ||
		          (ex_is_str(t0.id) && ex_is_str(t1.id)) ||
		          (ex_is_time(t0.id) && ex_is_time(t1.id)) ||
		          (t0.id == FLOE_TYPE_BOOLEAN && t1.id == t0.id);
		if (!ok)
			return ex_bind_err(err, a[1], "nullif() compares a %s with a %s (CAST one)",
			                   ex_tname(t0, b1), ex_tname(t1, b2));
		e->type = ex_is_num(t0.id) ? ex_num_norm(t0) : ex_is_str(t0.id) ?
		          ex_ty(FLOE_TYPE_STRING) : t0;
		return 0;
	}
	case F_UPPER:
	case F_LOWER:
	case F_TRIM:
	case F_LTRIM:
	case F_RTRIM:
	case F_LENGTH:
	case F_SUBSTR:
	case F_REPLACE:
	case F_STARTS:
	case F_ENDS:
	case F_CONTAINS:
		if (!ex_is_str(t0.id) && t0.id != 0)
			return ex_bind_err(err, a[0], "%s() needs a string, not a %s (CAST it)", e->name,
			                   ex_tname(t0, b1));
		for (int i = 1; i < e->nargs; i++) {
			floe_type_id x = a[i]->type.id;
			bool want_int = fn == F_SUBSTR;
			if (x != 0 && (want_int ? !ex_is_int(x) : !ex_is_str(x)))
				return ex_bind_err(err, a[i], "%s(): this argument must be %s", e->name,
				                   want_int ? "an integer" : "a string");
		}
		e->type = ex_ty(fn == F_LENGTH ? FLOE_TYPE_LONG : fn >= F_STARTS && fn <= F_CONTAINS ?
		                FLOE_TYPE_BOOLEAN : FLOE_TYPE_STRING);
		return 0;
	case F_CONCAT:
		e->type = ex_ty(FLOE_TYPE_STRING);
		return 0;
	case F_ABS:
	case F_ROUND:
	case F_FLOOR:
	case F_CEIL:
	case F_SIGN:
		if (!ex_is_num(t0.id) && t0.id != 0)
			return ex_bind_err(err, a[0], "%s() needs a number, not a %s", e->name,
			                   ex_tname(t0, b1));
		if (e->nargs == 2 && !ex_is_int(a[1]->type.id) && a[1]->type.id != 0)
			return ex_bind_err(err, a[1], "%s(): the digits must be an integer, not a %s",
			                   e->name, ex_tname(a[1]->type, b1));
		e->type = fn == F_SIGN ? ex_ty(FLOE_TYPE_LONG) : ex_num_norm(t0);
		if (fn == F_ROUND && e->nargs == 2)
			e->type = ex_ty(FLOE_TYPE_DOUBLE);
		return 0;
	case F_SQRT:
	case F_LN:
	case F_LOG10:
	case F_EXP:
	case F_POWER:
		for (int i = 0; i < e->nargs; i++)
			if (!ex_is_num(a[i]->type.id) && a[i]->type.id != 0)
				return ex_bind_err(err, a[i], "%s() needs numbers, not a %s", e->name,
				                   ex_tname(a[i]->type, b1));
		e->type = ex_ty(FLOE_TYPE_DOUBLE);
		return 0;
	case F_DATE_TRUNC:
	case F_DATE_PART:
		if ((rc = bind_unit(e, err)))
			return rc;
		if (!ex_is_time(a[1]->type.id) && a[1]->type.id != 0)
			return ex_bind_err(err, a[1], "%s() needs a timestamp or a date, not a %s",
			                   e->name, ex_tname(a[1]->type, b1));
		e->type = fn == F_DATE_PART ? ex_ty(FLOE_TYPE_LONG) :
		          ex_is_ts(a[1]->type.id) ? a[1]->type : ex_ty(FLOE_TYPE_TIMESTAMP);
		return 0;
	case F_WSTART:
	case F_WEND:
		if (!ex_is_ts(t0.id) && t0.id != 0)
			return ex_bind_err(err, a[0], "%s() needs a timestamp, not a %s", e->name,
			                   ex_tname(t0, b1));
		if ((rc = ex_const_interval(a[1], &e->interval_us, err)))
			return rc;
		e->type = t0.id ? t0 : ex_ty(FLOE_TYPE_TIMESTAMPTZ);
		return 0;
	case F_TO_TS:
	case F_TRY_TO_TS:
		if (!ex_is_str(t0.id) && t0.id != 0 && !(fn == F_TO_TS && ex_is_num(t0.id)))
			return ex_bind_err(err, a[0], fn == F_TO_TS ? "%s() reads a string or epoch "
			                   "seconds, not a %s" : "%s() reads a string, not a %s", e->name,
			                   ex_tname(t0, b1));
		e->type = ex_ty(FLOE_TYPE_TIMESTAMPTZ);
		return 0;
	case F_TO_DATE:
		if (!ex_is_str(t0.id) && !ex_is_time(t0.id) && t0.id != 0)
			return ex_bind_err(err, a[0], "to_date() reads a string or a timestamp, not a %s%s",
			                   ex_tname(t0, b1), "");
		e->type = ex_ty(FLOE_TYPE_DATE);
		return 0;
	default: /* epoch_* */
		if (!ex_is_time(t0.id) && t0.id != 0)
			return ex_bind_err(err, a[0], "%s() needs a timestamp, not a %s", e->name,
			                   ex_tname(t0, b1));
		e->type = ex_ty(fn == F_EPOCH_S ? FLOE_TYPE_DOUBLE : FLOE_TYPE_LONG);
		return 0;
	}
}

/* ---- conditional functions -------------------------------------------------------- */

/* Two prepared columns of one type compared at row r. */
static int cmp2(const ex_cmp *a, const ex_cmp *b, int64_t r)
{
	ex_cmp k = { a->x, b->x, a->xd, b->xd, a->xi, b->xi };
	return ex_cmp_rows(&k, r, r);
}

static int eval_cond(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	int64_t n = c->n;
	int fn = e->fn, na = e->nargs, rc;
	floe_type t = floe_expr_type(e);
	floe_column *a = floe_arena_calloc(c->a, (size_t)na, sizeof *a);
	int32_t *pick = floe_arena_alloc(c->a, (size_t)(n ? n : 1) * sizeof *pick);
	uint8_t *need = ex_mask_new(c);
	if (!a || !pick || !need)
		return ex_oom(c->err);
	for (int64_t r = 0; r < n; r++)
		pick[r] = -1;
	if (fn == F_COALESCE) {
		/* argument i only for the rows all before it left NULL */
		for (int i = 0; i < na; i++) {
			bool any = false;
			for (int64_t r = 0; r < n && !any; r++)
				any = need[r];
			if (!any)
				break;
			if ((rc = ex_eval_masked(e->args[i], c, need, &a[i])) ||
			    (rc = ex_coerce(c, &a[i], t)))
				return rc;
			for (int64_t r = 0; r < n; r++)
				if (need[r] && ex_valid(&a[i], r)) {
					pick[r] = i;
					need[r] = 0;
				}
		}
		return ex_gather(c, t, a, pick, out);
	}
	if (fn == F_IF) {
		if ((rc = ex_eval(e->args[0], c, &a[0])))
			return rc;
		uint8_t *other = ex_mask_new(c);
		if (!other)
			return ex_oom(c->err);
		bool any1 = false, any2 = false;
		for (int64_t r = 0; r < n; r++) {
			bool yes = ex_valid(&a[0], r) && ((const uint8_t *)a[0].values)[r];
			other[r] = need[r] && !yes;
			need[r] = need[r] && yes;
			any1 |= need[r] != 0;
			any2 |= other[r] != 0;
		}
		if (any1 && ((rc = ex_eval_masked(e->args[1], c, need, &a[1])) ||
		             (rc = ex_coerce(c, &a[1], t))))
			return rc;
		if (any2 && ((rc = ex_eval_masked(e->args[2], c, other, &a[2])) ||
		             (rc = ex_coerce(c, &a[2], t))))
			return rc;
		for (int64_t r = 0; r < n; r++)
			pick[r] = need[r] ? 1 : other[r] ? 2 : -1;
		return ex_gather(c, t, a, pick, out);
	}
	for (int i = 0; i < na; i++)
		if ((rc = ex_eval(e->args[i], c, &a[i])))
			return rc;
	if (fn == F_NULLIF) {
		ex_cmp k;
		if ((rc = ex_coerce(c, &a[0], t)))
			return rc;
		bool comparable = a[0].null_count < n && a[1].null_count < n;
		if (comparable && (rc = ex_cmp_prepare(c, &k, &a[0], &a[1])))
			return rc;
		for (int64_t r = 0; r < n; r++)
			pick[r] = comparable && ex_valid(&a[0], r) && ex_valid(&a[1], r) &&
			          ex_cmp_rows(&k, r, r) == 0 ? -1 : 0;
		return ex_gather(c, t, a, pick, out);
	}
	/* greatest / least: NULLs ignored */
	ex_cmp *k = floe_arena_calloc(c->a, (size_t)na, sizeof *k);
	if (!k)
		return ex_oom(c->err);
	for (int i = 0; i < na; i++)
		if ((rc = ex_coerce(c, &a[i], t)) || (rc = ex_cmp_prepare(c, &k[i], &a[i], &a[i])))
			return rc;
	for (int64_t r = 0; r < n; r++) {
		int best = -1;
		for (int i = 0; i < na; i++) {
			if (!ex_valid(&a[i], r))
				continue;
			if (best < 0) {
				best = i;
				continue;
			}
			int d = cmp2(&k[i], &k[best], r);
			if (fn == F_GREATEST ? d > 0 : d < 0)
				best = i;
		}
		pick[r] = best;
	}
	return ex_gather(c, t, a, pick, out);
}

/* ---- strings ------------------------------------------------------------------------ */

static size_t utf8_len(const uint8_t *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += (p[i] & 0xc0) != 0x80;
	return k;
}

/* byte offset of character `ch` (0-based); n past the end */
static size_t utf8_at(const uint8_t *p, size_t n, size_t ch)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if ((p[i] & 0xc0) != 0x80) {
			if (k == ch)
				return i;
			k++;
		}
	return n;
}

/* Case mapping of ASCII and of the two-byte letters that have a two-byte
 * partner: Latin-1 (à-þ), Greek (α-ω) and Cyrillic (а-я, ѐ-џ). */
static void change_case(uint8_t *p, size_t n, bool up)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x80) {
			/* ASCII letters by arithmetic: the same in every locale */
			if (up ? (unsigned)(p[i] - 'a') < 26u : (unsigned)(p[i] - 'A') < 26u)
				p[i] ^= 0x20;
			continue;
		}
		if ((p[i] & 0xe0) != 0xc0 || i + 1 >= n || (p[i + 1] & 0xc0) != 0x80)
			continue;
		unsigned cp = ((p[i] & 0x1fu) << 6) | (p[i + 1] & 0x3fu), m = cp;
		if (up) {
			if ((cp >= 0xe0 && cp <= 0xfe && cp != 0xf7) || (cp >= 0x3b1 && cp <= 0x3c9 &&
			                                                 cp != 0x3c2) ||
			    (cp >= 0x430 && cp <= 0x44f))
				m = cp - 0x20;
			else if (cp >= 0x450 && cp <= 0x45f)
				m = cp - 0x50;
		} else {
			if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7) || (cp >= 0x391 && cp <= 0x3a9 &&
			                                                 cp != 0x3a2) ||
			    (cp >= 0x410 && cp <= 0x42f))
				m = cp + 0x20;
			else if (cp >= 0x400 && cp <= 0x40f)
				m = cp + 0x50;
		}
		p[i] = (uint8_t)(0xc0 | (m >> 6));
		p[i + 1] = (uint8_t)(0x80 | (m & 0x3f));
		i++;
	}
}

/* The first occurrence of q[0..m) in p[0..n), or NULL (m > 0). */
static const uint8_t *find(const uint8_t *p, size_t n, const uint8_t *q, size_t m)
{
	while (n >= m) {
		const uint8_t *h = memchr(p, q[0], n - m + 1);
		if (!h)
			return NULL;
		if (memcmp(h, q, m) == 0)
			return h;
		n -= (size_t)(h - p) + 1;
		p = h + 1;
	}
	return NULL;
}

static int64_t int_at(const floe_column *x, int64_t r)
{
	return x->type.id == FLOE_TYPE_INT ? ((const int32_t *)x->values)[r] :
	       ((const int64_t *)x->values)[r];
}

/* Whether upper/lower/trim would give back every one of the n values of
 * x as it is: ASCII with no letter of the other case, or no space at
 * either end. Clean columns (symbols already trimmed and upper case) then
 * share x's buffers instead of being copied value by value. */
static bool keeps_values(int fn, const floe_column *x, int64_t n)
{
	const uint8_t *d = x->data;
	const int64_t *off = x->offsets;
	if (fn == F_UPPER || fn == F_LOWER) {
		unsigned first = fn == F_UPPER ? 'a' : 'A';
		for (int64_t i = off[0]; i < off[n]; i++)
			if (d[i] >= 0x80 || (unsigned)(d[i] - first) < 26u)
				return false;
		return true;
	}
	if (fn != F_TRIM && fn != F_LTRIM && fn != F_RTRIM)
		return false;
	for (int64_t r = 0; r < n; r++) {
		if (off[r + 1] == off[r])
			continue;
		if ((fn != F_RTRIM && isspace(d[off[r]])) || (fn != F_LTRIM && isspace(d[off[r + 1] - 1])))
			return false;
	}
	return true;
}

static int eval_string(const floe_expr *e, ex_ctx *c, const floe_column *a, const uint8_t *vb,
                       floe_column *out)
{
	int fn = e->fn, na = e->nargs, rc;
	if (!vb && !c->live && c->n && keeps_values(fn, &a[0], c->n)) {
		memset(out, 0, sizeof *out);
		out->type = floe_expr_type(e);
		out->offsets = a[0].offsets;
		out->data = a[0].data;
		return 0;
	}
	ex_sbuild s;
	floe_buf tmp = { 0 };
	if ((rc = ex_sb_init(c, &s)))
		return rc;
	for (int64_t r = 0; r < c->n; r++) {
		tmp.len = 0;
		bool live = ex_live(c, r) && (fn == F_CONCAT || !vb || ((vb[r >> 3] >> (r & 7)) & 1));
		if (live && fn == F_CONCAT) {
			for (int i = 0; i < na; i++)
				if (ex_valid(&a[i], r) && ex_text_of(&tmp, &a[i], r))
					goto nomem;
		} else if (live) {
			size_t len;
			const uint8_t *p = ex_str(&a[0], r, &len);
			switch (fn) {
			case F_UPPER:
			case F_LOWER:
				/* straight into the result (tmp stays empty) */
				if (floe_buf_reserve(&s.data, len))
					goto nomem;
				if (len) {
					memcpy(s.data.data + s.data.len, p, len);
					change_case(s.data.data + s.data.len, len, fn == F_UPPER);
					s.data.len += len;
				}
				break;
			case F_TRIM:
			case F_LTRIM:
			case F_RTRIM: {
				size_t b = 0, en = len;
				if (fn != F_RTRIM)
					while (b < en && isspace(p[b]))
						b++;
				if (fn != F_LTRIM)
					while (en > b && isspace(p[en - 1]))
						en--;
				if (floe_buf_append(&s.data, p + b, en - b)) /* tmp stays empty */
					goto nomem;
				break;
			}
			case F_SUBSTR: {
				/* 1-based characters; start 0 is before the first (SQL); a
				 * negative start counts from the end */
				int64_t start = int_at(&a[1], r), chars = (int64_t)utf8_len(p, len);
				int64_t cnt = na == 3 ? int_at(&a[2], r) : INT64_MAX;
				if (start < 0)
					start = start < -chars ? 0 : chars + start + 1;
				int64_t from = start - 1, to;
				if (cnt < 0)
					cnt = 0;
				if (__builtin_add_overflow(from, cnt, &to) || to > chars)
					to = chars;
				if (from < 0)
					from = 0;
				if (to > from) {
					size_t bf = utf8_at(p, len, (size_t)from), bt = utf8_at(p, len, (size_t)to);
					if (floe_buf_append(&tmp, p + bf, bt - bf))
						goto nomem;
				}
				break;
			}
			default: { /* replace */
				size_t fl, tl;
				const uint8_t *f = ex_str(&a[1], r, &fl), *to = ex_str(&a[2], r, &tl);
				for (size_t i = 0; i < len;) {
					const uint8_t *hit = fl ? find(p + i, len - i, f, fl) : NULL;
					size_t upto = hit ? (size_t)(hit - p) : len;
					if (floe_buf_append(&tmp, p + i, upto - i) ||
					    (hit && floe_buf_append(&tmp, to, tl)))
						goto nomem;
					i = hit ? upto + fl : len;
				}
				break;
			}
			}
		}
		if (ex_sb_put(&s, tmp.data, tmp.len))
			goto nomem;
	}
	floe_buf_free(&tmp);
	/* concat() skips NULLs and is never NULL */
	return ex_sb_done(c, &s, out, fn == F_CONCAT ? NULL : (uint8_t *)vb);
nomem:
	floe_buf_free(&tmp);
	return ex_sb_fail(c, &s);
}

/* ---- times ------------------------------------------------------------------------ */

static int64_t trunc_time(int64_t us, int unit)
{
	static const int64_t mul[] = { 1000000LL, 60000000LL, 3600000000LL, 86400000000LL };
	if (unit == U_MILLISECOND)
		return ex_floor_div(us, 1000) * 1000;
	if (unit <= U_DAY)
		return ex_floor_div(us, mul[unit]) * mul[unit];
	int64_t days = ex_floor_div(us, 86400000000LL);
	if (unit == U_WEEK) /* Monday; 1970-01-01 was a Thursday */
		return (ex_floor_div(days + 3, 7) * 7 - 3) * 86400000000LL;
	int64_t y;
	unsigned m, d;
	floe_civil_from_days(days, &y, &m, &d);
	unsigned first = unit == U_MONTH ? m : unit == U_QUARTER ? (m - 1) / 3 * 3 + 1 : 1;
	return floe_days_from_civil(y, first, 1) * 86400000000LL;
}

/* ISO 8601 week number (weeks start on Monday; week 1 holds a Thursday). */
static int64_t iso_week(int64_t days)
{
	int64_t y;
	unsigned m, d;
	floe_civil_from_days(days, &y, &m, &d);
	int64_t wd = ((days % 7) + 7 + 3) % 7 + 1; /* Monday 1 .. Sunday 7 */
	/* the Thursday of this week decides the year */
	int64_t thu = days - wd + 4, ty;
	floe_civil_from_days(thu, &ty, &m, &d);
	return (thu - floe_days_from_civil(ty, 1, 1)) / 7 + 1;
}

static int64_t part_time(int64_t us, int unit)
{
	int64_t days = ex_floor_div(us, 86400000000LL);
	int64_t rem = us - days * 86400000000LL;
	int64_t y;
	unsigned m, d;
	switch (unit) {
	case U_MICROSECOND: return rem % 60000000;
	case U_MILLISECOND: return rem / 1000 % 60000;
	case U_SECOND: return rem / 1000000 % 60;
	case U_MINUTE: return rem / 60000000 % 60;
	case U_HOUR: return rem / 3600000000LL;
	case U_WEEK: return iso_week(days);
	case U_DOW: return ((days % 7) + 7 + 4) % 7;      /* Sunday 0 */
	case U_ISODOW: return ((days % 7) + 7 + 3) % 7 + 1; /* Monday 1 */
	case U_DOY:
		floe_civil_from_days(days, &y, &m, &d);
		return days - floe_days_from_civil(y, 1, 1) + 1;
	default:
		floe_civil_from_days(days, &y, &m, &d);
		return unit == U_DAY ? d : unit == U_MONTH ? m : unit == U_QUARTER ? (m - 1) / 3 + 1 : y;
	}
}

static int eval_parse_time(const floe_expr *e, ex_ctx *c, const floe_column *x, floe_column *out)
{
	int fn = e->fn, rc = 0;
	const double *xd = NULL;
	const int64_t *xt = NULL;
	if (ex_is_num(x->type.id) && (rc = ex_as_f64(c, x, &xd)))
		return rc;
	if (ex_is_time(x->type.id) && (rc = ex_as_i64(c, x, true, &xt)))
		return rc;
	for (int64_t r = 0; r < c->n && !rc; r++) {
		if (!ex_valid(out, r) || !ex_live(c, r))
			continue;
		floe_value v;
		bool ok;
		size_t len = 0;
		const uint8_t *p = NULL;
		if (xd) {
			/* epoch seconds */
			double us = round(xd[r] * 1e6);
			ok = us >= -9.2e18 && us <= 9.2e18;
			v.i = ok ? (int64_t)us : 0;
		} else if (xt) {
			v.i = ex_floor_div(xt[r], 86400000000LL);
			ok = true;
		} else {
			p = ex_str(x, r, &len);
			ok = ex_parse_time(fn == F_TO_DATE ? FLOE_TYPE_DATE : FLOE_TYPE_TIMESTAMPTZ,
			                   (const char *)p, len, &v.i, NULL) == 0;
		}
		if (!ok && fn != F_TRY_TO_TS) {
			if (xd)
				rc = floe_error_set(c->err, FLOE_EINVALID, "row %" PRId64 ": %g seconds is "
				                    "out of the range of timestamps", r, xd[r]);
			else
				rc = floe_error_set(c->err, FLOE_EINVALID, "row %" PRId64 ": '%.*s' is not "
				                    "an ISO-8601 %s%s", r, (int)(len < 60 ? len : 60), p,
				                    fn == F_TO_DATE ? "date" : "timestamp", fn == F_TO_DATE ?
				                    "" : " (try_to_timestamp gives NULL instead)");
			break;
		}
		if (!ok) {
			rc = ex_set_null(c, out, r);
			continue;
		}
		if (fn == F_TO_DATE)
			((int32_t *)out->values)[r] = (int32_t)v.i;
		else
			((int64_t *)out->values)[r] = v.i;
	}
	if (rc)
		return rc;
	ex_finish_nulls(out, c->n);
	return 0;
}

static int eval_time(const floe_expr *e, ex_ctx *c, const floe_column *x, floe_column *out)
{
	int fn = e->fn, rc;
	const int64_t *v;
	if ((rc = ex_as_i64(c, x, true, &v)))
		return rc;
	for (int64_t r = 0; r < c->n; r++) {
		if (!ex_valid(out, r))
			continue;
		int64_t us = v[r], z;
		/* within +-285,000 years every result below fits */
		if (us < -9000000000000000000LL || us > 9000000000000000000LL ||
		    e->interval_us > 100000000000000000LL) {
			if ((rc = ex_set_null(c, out, r)))
				return rc;
			continue;
		}
		switch (fn) {
		case F_DATE_TRUNC: z = trunc_time(us, e->unit); break;
		case F_DATE_PART: z = part_time(us, e->unit); break;
		case F_WSTART: z = ex_floor_div(us, e->interval_us) * e->interval_us; break;
		case F_WEND: z = ex_floor_div(us, e->interval_us) * e->interval_us + e->interval_us; break;
		case F_EPOCH_US: z = us; break;
		case F_EPOCH_MS: z = ex_floor_div(us, 1000); break;
		default:
			((double *)out->values)[r] = (double)us / 1e6;
			continue;
		}
		((int64_t *)out->values)[r] = z;
	}
	ex_finish_nulls(out, c->n);
	return 0;
}

/* ---- numbers ------------------------------------------------------------------------ */

static int eval_math(const floe_expr *e, ex_ctx *c, floe_column *a, floe_column *out)
{
	int fn = e->fn, rc;
	int64_t n = c->n;
	floe_type t = out->type;
	if (t.id == FLOE_TYPE_LONG && fn != F_SIGN) {
		/* abs, round, floor, ceil of integers */
		const int64_t *x;
		if ((rc = ex_as_i64(c, &a[0], false, &x)))
			return rc;
		for (int64_t r = 0; r < n; r++) {
			int64_t v = x[r];
			if (fn == F_ABS && v < 0) {
				if (v == INT64_MIN && ex_valid(out, r)) {
					if (ex_live(c, r))
						return floe_error_set(c->err, FLOE_EINVALID, "row %" PRId64 ": abs(%"
						                      PRId64 ") overflows a long", r, v);
					continue;
				}
				v = -v;
			}
			((int64_t *)out->values)[r] = v;
		}
		ex_finish_nulls(out, n);
		return 0;
	}
	const double *x, *y = NULL;
	const int64_t *yi = NULL;
	if ((rc = ex_as_f64(c, &a[0], &x)))
		return rc;
	if (fn == F_POWER && (rc = ex_as_f64(c, &a[1], &y)))
		return rc;
	if (fn == F_ROUND && e->nargs == 2 && (rc = ex_as_i64(c, &a[1], false, &yi)))
		return rc;
	for (int64_t r = 0; r < n; r++) {
		if (!ex_valid(out, r))
			continue;
		double v = x[r], z = 0;
		bool null = false;
		switch (fn) {
		case F_ABS: z = fabs(v); break;
		case F_ROUND:
			/* half away from zero */
			if (!yi || yi[r] == 0) {
				z = round(v);
			} else if (yi[r] > 0) {
				double m = pow(10, (double)(yi[r] > 400 ? 400 : yi[r]));
				z = isfinite(v * m) ? round(v * m) / m : v;
			} else {
				double m = pow(10, (double)(yi[r] < -400 ? 400 : -yi[r]));
				z = isfinite(m) ? round(v / m) * m : 0 * v;
			}
			break;
		case F_FLOOR: z = floor(v); break;
		case F_CEIL: z = ceil(v); break;
		case F_SQRT: null = v < 0; z = sqrt(v); break;
		case F_LN: null = v <= 0; z = log(v); break;
		case F_LOG10: null = v <= 0; z = log10(v); break;
		case F_EXP: z = exp(v); break;
		case F_POWER: z = pow(v, y[r]); null = isnan(z) && !isnan(v) && !isnan(y[r]); break;
		default: /* sign */
			((int64_t *)out->values)[r] = v > 0 ? 1 : v < 0 ? -1 : 0;
			continue;
		}
		if (null) {
			if ((rc = ex_set_null(c, out, r)))
				return rc;
			continue;
		}
		((double *)out->values)[r] = z;
	}
	ex_finish_nulls(out, n);
	return 0;
}

int ex_eval_func(const floe_expr *e, ex_ctx *c, floe_column *out)
{
	int fn = e->fn, na = e->nargs, rc;
	if (fn == F_COALESCE || fn == F_IF || fn == F_NULLIF || fn == F_GREATEST || fn == F_LEAST)
		return eval_cond(e, c, out);
	int64_t n = c->n;
	floe_column *a = floe_arena_calloc(c->a, (size_t)na, sizeof *a);
	if (!a)
		return ex_oom(c->err);
	/* strict functions: a NULL argument gives NULL (concat() aside) */
	uint8_t *vb = NULL;
	for (int i = 0; i < na; i++) {
		bool constant = (i == 1 && (fn == F_WSTART || fn == F_WEND)) ||
		                (i == 0 && (fn == F_DATE_TRUNC || fn == F_DATE_PART));
		if (constant)
			continue;
		if ((rc = ex_eval(e->args[i], c, &a[i])))
			return rc;
		if (a[i].validity) {
			if (!vb && !(vb = ex_bits_new(c, true)))
				return ex_oom(c->err);
			size_t nb = (size_t)((n + 7) / 8);
			for (size_t k = 0; k < nb; k++)
				vb[k] &= a[i].validity[k];
		}
	}
	if (fn >= F_UPPER && fn <= F_REPLACE && fn != F_LENGTH)
		return eval_string(e, c, a, vb, out);
	floe_type t = floe_expr_type(e);
	if ((rc = ex_alloc_fixed(c, out, t)))
		return rc;
	out->validity = vb;
	if (fn == F_LENGTH || (fn >= F_STARTS && fn <= F_CONTAINS)) {
		for (int64_t r = 0; r < n; r++) {
			if (!ex_valid(out, r))
				continue;
			size_t len, ln2 = 0;
			const uint8_t *p = ex_str(&a[0], r, &len), *q = na > 1 ? ex_str(&a[1], r, &ln2) : NULL;
			if (fn == F_LENGTH) {
				((int64_t *)out->values)[r] = (int64_t)utf8_len(p, len);
				continue;
			}
			bool v;
			if (fn == F_STARTS)
				v = ln2 <= len && (!ln2 || memcmp(p, q, ln2) == 0);
			else if (fn == F_ENDS)
				v = ln2 <= len && (!ln2 || memcmp(p + len - ln2, q, ln2) == 0);
			else
				v = !ln2 || find(p, len, q, ln2) != NULL;
			((uint8_t *)out->values)[r] = v;
		}
		ex_finish_nulls(out, n);
		return 0;
	}
	if (fn >= F_ABS && fn <= F_SIGN)
		return eval_math(e, c, a, out);
	if (fn == F_TO_TS || fn == F_TRY_TO_TS || fn == F_TO_DATE)
		return eval_parse_time(e, c, &a[0], out);
	return eval_time(e, c, &a[fn == F_DATE_TRUNC || fn == F_DATE_PART ? 1 : 0], out);
}
