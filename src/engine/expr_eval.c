/* engine/expr_eval.c - binding (names to columns, types inferred and
 * checked) and vectorized evaluation of expressions: every node turns
 * whole columns into a result column (values + validity bitmap) in the
 * caller's arena, with SQL NULL semantics; series functions (lag,
 * rolling_*) walk each group's rows in time order, recomputing every frame
 * from its rows in order so a result never depends on where a batch
 * started. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/expr_int.h"
#include "util/format.h"

enum {
	F_COALESCE = 1, F_NULLIF, F_IF, F_GREATEST, F_LEAST, F_UPPER, F_LOWER, F_TRIM, F_LTRIM,
	F_RTRIM, F_LENGTH, F_SUBSTR, F_CONCAT, F_REPLACE, F_STARTS, F_ENDS, F_CONTAINS, F_ABS,
	F_ROUND, F_FLOOR, F_CEIL, F_SQRT, F_LN, F_LOG10, F_EXP, F_POWER, F_SIGN, F_DATE_TRUNC,
	F_WSTART, F_WEND, F_TO_TS, F_TRY_TO_TS, F_EPOCH_US, F_EPOCH_MS, F_EPOCH_S, F_DATE_PART,
	F_LAG, F_RSUM, F_RAVG, F_RMIN, F_RMAX, F_RCOUNT, F_RSTDDEV
};

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
	{ "epoch_us", F_EPOCH_US, 1, 1 }, { "epoch_ms", F_EPOCH_MS, 1, 1 },
	{ "epoch_seconds", F_EPOCH_S, 1, 1 }, { "date_part", F_DATE_PART, 2, 2 },
	{ "lag", F_LAG, 1, 2 }, { "rolling_sum", F_RSUM, 2, 2 }, { "rolling_avg", F_RAVG, 2, 2 },
	{ "rolling_min", F_RMIN, 2, 2 }, { "rolling_max", F_RMAX, 2, 2 },
	{ "rolling_count", F_RCOUNT, 2, 2 }, { "rolling_stddev", F_RSTDDEV, 2, 2 },
	{ NULL, 0, 0, 0 }
};

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

/* ---- types -------------------------------------------------------------------- */

static bool is_int(floe_type_id t)
{
	return t == FLOE_TYPE_INT || t == FLOE_TYPE_LONG;
}

static bool is_num(floe_type_id t)
{
	return is_int(t) || t == FLOE_TYPE_FLOAT || t == FLOE_TYPE_DOUBLE || t == FLOE_TYPE_DECIMAL;
}

static bool is_ts(floe_type_id t)
{
	return t == FLOE_TYPE_TIMESTAMP || t == FLOE_TYPE_TIMESTAMPTZ;
}

static bool is_str(floe_type_id t)
{
	return t == FLOE_TYPE_STRING || t == FLOE_TYPE_JSON;
}

static const char *tname(floe_type t, char *buf)
{
	if (t.id == 0)
		return "null";
	return floe_type_format(&t, buf, 32);
}

static floe_type ty(floe_type_id id)
{
	floe_type t;
	memset(&t, 0, sizeof t);
	t.id = id;
	return t;
}

/* the type arithmetic gives a numeric operand */
static floe_type num_norm(floe_type t)
{
	return ty(is_int(t.id) ? FLOE_TYPE_LONG : FLOE_TYPE_DOUBLE);
}

static int bind_err(floe_error *err, const floe_expr *e, const char *fmt, const char *a,
                    const char *b)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, a, b);
	return floe_error_set(err, FLOE_EINVALID, "at character %d: %s", e->pos + 1, msg);
}

/* A common type for values that meet (CASE branches, coalesce, ...). */
static int unify(floe_expr **v, int n, floe_type *out, floe_error *err)
{
	floe_type t = ty(0);
	for (int i = 0; i < n; i++) {
		floe_type x = v[i]->type;
		if (x.id == 0)
			continue;
		if (t.id == 0) {
			t = x;
			continue;
		}
		if (t.id == x.id && t.id != FLOE_TYPE_DECIMAL)
			continue;
		if (is_num(t.id) && is_num(x.id)) {
			t = is_int(t.id) && is_int(x.id) ? ty(FLOE_TYPE_LONG) : ty(FLOE_TYPE_DOUBLE);
			continue;
		}
		if (is_ts(t.id) && is_ts(x.id))
			continue;
		if (is_str(t.id) && is_str(x.id)) {
			t = ty(FLOE_TYPE_STRING);
			continue;
		}
		char a[32], b[32];
		return bind_err(err, v[i], "values of types %s and %s do not mix (CAST one)",
		                tname(t, a), tname(x, b));
	}
	if (t.id == FLOE_TYPE_INT)
		t = ty(FLOE_TYPE_LONG);
	if (t.id == FLOE_TYPE_FLOAT || t.id == FLOE_TYPE_DECIMAL)
		t = ty(FLOE_TYPE_DOUBLE);
	*out = t;
	return 0;
}

/* A string literal where a time is wanted becomes that time. */
static int lit_to_time(floe_expr *lit, floe_type want, floe_error *err)
{
	if (lit->k != EX_LIT || lit->lnull || !is_str(lit->type.id))
		return 0;
	floe_value v;
	floe_buf sc = { 0 };
	floe_error e2;
	floe_type t = want;
	int rc = floe_text_parse(&v, &t, lit->ls, lit->lslen, &sc, &e2);
	if (rc && want.id != FLOE_TYPE_DATE) {
		/* a date alone: midnight */
		char buf[64];
		snprintf(buf, sizeof buf, "%.*sT00:00:00%s", (int)(lit->lslen < 40 ? lit->lslen : 40),
		         lit->ls, want.id == FLOE_TYPE_TIMESTAMPTZ ? "Z" : "");
		rc = floe_text_parse(&v, &t, buf, strlen(buf), &sc, &e2);
	}
	floe_buf_free(&sc);
	if (rc)
		return floe_error_set(err, FLOE_EINVALID, "at character %d: '%s' is not a %s: %s",
		                      lit->pos + 1, lit->ls, want.id == FLOE_TYPE_DATE ? "date" :
		                      "timestamp", e2.msg);
	lit->type = want;
	lit->li = v.i;
	return 0;
}

static int find_column(const floe_schema *s, const char *name)
{
	int i = floe_schema_find(s, name);
	if (i >= 0)
		return i;
	int hit = -1;
	for (int k = 0; k < s->nfields; k++)
		if (strcasecmp(s->fields[k].name, name) == 0) {
			if (hit >= 0)
				return -2;
			hit = k;
		}
	return hit;
}

static int bind(floe_expr *e, const floe_schema *s, unsigned flags, floe_error *err);

static int const_interval(floe_expr *e, int64_t *us, floe_error *err)
{
	if (e->k == EX_LIT && e->interval) {
		*us = e->li;
		return 0;
	}
	if (e->k == EX_LIT && is_str(e->type.id) && !e->lnull) {
		floe_error e2;
		if (floe_expr_parse_interval(us, e->ls, &e2) == 0)
			return 0;
	}
	return floe_error_set(err, FLOE_EINVALID, "at character %d: expected an interval "
	                      "constant such as INTERVAL '5 minutes'", e->pos + 1);
}

static int bind_func(floe_expr *e, const floe_schema *s, unsigned flags, floe_error *err)
{
	if (ex_agg_fn(e))
		return floe_error_set(err, FLOE_EINVALID, "at character %d: %s() is an aggregate: use "
		                      "it in an aggregate step's outputs", e->pos + 1, e->name);
	int k = -1;
	for (int i = 0; funcs[i].name; i++)
		if (strcasecmp(funcs[i].name, e->name) == 0)
			k = i;
	if (k < 0)
		return floe_error_set(err, FLOE_EINVALID, "at character %d: no function %s() "
		                      "(docs/expressions.md lists them)", e->pos + 1, e->name);
	if (e->star || e->nargs < funcs[k].min || e->nargs > funcs[k].max)
		return floe_error_set(err, FLOE_EINVALID, "at character %d: %s() takes %d%s%d "
		                      "arguments", e->pos + 1, e->name, funcs[k].min,
		                      funcs[k].max > funcs[k].min ? " to " : "",
		                      funcs[k].max > funcs[k].min ? funcs[k].max : 0);
	e->fn = funcs[k].fn;
	int fn = e->fn;
	bool series = fn >= F_LAG;
	if (series && !(flags & FLOE_EXPR_SERIES))
		return floe_error_set(err, FLOE_EINVALID, "at character %d: %s() looks at other rows: "
		                      "use it in an aggregate step's arguments or a rolling step",
		                      e->pos + 1, e->name);
	for (int i = 0; i < e->nargs; i++) {
		/* interval and unit arguments are constants */
		if ((fn == F_WSTART || fn == F_WEND || (series && fn != F_LAG)) && i == 1)
			continue;
		if (fn == F_LAG && i == 1)
			continue;
		int rc = bind(e->args[i], s, flags, err);
		if (rc)
			return rc;
	}
	floe_expr **a = e->args;
	char b1[32], b2[32];
	floe_type t0 = a[0]->type;
	int rc;
	switch (fn) {
	case F_COALESCE:
	case F_GREATEST:
	case F_LEAST:
		return unify(a, e->nargs, &e->type, err);
	case F_NULLIF:
		e->type = t0.id == FLOE_TYPE_INT ? ty(FLOE_TYPE_LONG) : t0;
		if (e->type.id == FLOE_TYPE_FLOAT || e->type.id == FLOE_TYPE_DECIMAL)
			e->type = ty(FLOE_TYPE_DOUBLE);
		return 0;
	case F_IF:
		if (t0.id != FLOE_TYPE_BOOLEAN && t0.id != 0)
			return bind_err(err, a[0], "if() needs a condition first, not a %s%s",
			                tname(t0, b1), "");
		return unify(a + 1, 2, &e->type, err);
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
		if (!is_str(t0.id) && t0.id != 0)
			return bind_err(err, a[0], "%s() needs a string, not a %s", e->name, tname(t0, b1));
		for (int i = 1; i < e->nargs; i++) {
			bool want_int = fn == F_SUBSTR;
			floe_type_id x = a[i]->type.id;
			if (x != 0 && (want_int ? !is_int(x) : !is_str(x)))
				return bind_err(err, a[i], "%s(): this argument must be %s", e->name,
				                want_int ? "an integer" : "a string");
		}
		e->type = ty(fn == F_LENGTH ? FLOE_TYPE_LONG :
		             fn >= F_STARTS && fn <= F_CONTAINS ? FLOE_TYPE_BOOLEAN : FLOE_TYPE_STRING);
		return 0;
	case F_CONCAT:
		e->type = ty(FLOE_TYPE_STRING);
		return 0;
	case F_ABS:
	case F_ROUND:
	case F_FLOOR:
	case F_CEIL:
	case F_SIGN:
		if (!is_num(t0.id) && t0.id != 0)
			return bind_err(err, a[0], "%s() needs a number, not a %s", e->name, tname(t0, b1));
		if (e->nargs == 2 && !is_int(a[1]->type.id))
			return bind_err(err, a[1], "%s(): digits must be an integer%s", e->name, "");
		e->type = fn == F_SIGN ? ty(FLOE_TYPE_LONG) : num_norm(t0);
		if (fn == F_ROUND && e->nargs == 2)
			e->type = ty(FLOE_TYPE_DOUBLE);
		return 0;
	case F_SQRT:
	case F_LN:
	case F_LOG10:
	case F_EXP:
	case F_POWER:
		for (int i = 0; i < e->nargs; i++)
			if (!is_num(a[i]->type.id) && a[i]->type.id != 0)
				return bind_err(err, a[i], "%s() needs numbers, not a %s", e->name,
				                tname(a[i]->type, b1));
		e->type = ty(FLOE_TYPE_DOUBLE);
		return 0;
	case F_DATE_TRUNC:
	case F_DATE_PART:
		if (a[0]->k != EX_LIT || !is_str(a[0]->type.id))
			return bind_err(err, a[0], "%s(): the unit is a constant string such as "
			                "'minute'%s", e->name, "");
		if (!is_ts(a[1]->type.id) && a[1]->type.id != FLOE_TYPE_DATE)
			return bind_err(err, a[1], "%s() needs a timestamp, not a %s", e->name,
			                tname(a[1]->type, b1));
		{
			static const char *const units[] = { "second", "minute", "hour", "day", "week",
				"month", "year", "dow", NULL };
			int u = -1;
			for (int i = 0; units[i]; i++)
				if (strcasecmp(a[0]->ls, units[i]) == 0)
					u = i;
			if (u < 0 || (fn == F_DATE_TRUNC && u == 7))
				return bind_err(err, a[0], "unknown unit '%s' (second, minute, hour, day, "
				                "week, month, year%s)", a[0]->ls, fn == F_DATE_PART ?
				                ", dow" : "");
			e->lag_rows = u;
		}
		e->type = fn == F_DATE_PART ? ty(FLOE_TYPE_LONG) :
		          a[1]->type.id == FLOE_TYPE_DATE ? ty(FLOE_TYPE_TIMESTAMP) : a[1]->type;
		return 0;
	case F_WSTART:
	case F_WEND:
		if (!is_ts(t0.id))
			return bind_err(err, a[0], "%s() needs a timestamp, not a %s", e->name,
			                tname(t0, b1));
		if ((rc = const_interval(a[1], &e->interval_us, err)))
			return rc;
		e->type = t0;
		return 0;
	case F_TO_TS:
	case F_TRY_TO_TS:
		if (!is_str(t0.id) && t0.id != 0)
			return bind_err(err, a[0], "%s() parses a string, not a %s", e->name, tname(t0, b1));
		e->type = ty(FLOE_TYPE_TIMESTAMPTZ);
		return 0;
	case F_EPOCH_US:
	case F_EPOCH_MS:
	case F_EPOCH_S:
		if (!is_ts(t0.id))
			return bind_err(err, a[0], "%s() needs a timestamp, not a %s", e->name,
			                tname(t0, b1));
		e->type = ty(fn == F_EPOCH_S ? FLOE_TYPE_DOUBLE : FLOE_TYPE_LONG);
		return 0;
	case F_LAG:
		e->series = true;
		e->lag_rows = 1;
		if (e->nargs == 2) {
			floe_expr *x = a[1];
			if (x->k == EX_LIT && !x->interval && x->type.id == FLOE_TYPE_LONG && x->li > 0)
				e->lag_rows = x->li;
			else if ((rc = const_interval(x, &e->interval_us, err)))
				return floe_error_set(err, FLOE_EINVALID, "at character %d: lag(x, N) takes "
				                      "a positive row count or an INTERVAL", x->pos + 1);
			else
				e->lag_rows = 0;
		}
		e->type = t0;
		return 0;
	default: /* rolling_* */
		e->series = true;
		if ((rc = const_interval(a[1], &e->interval_us, err)))
			return rc;
		if (fn != F_RCOUNT && !is_num(t0.id) && t0.id != 0 &&
		    !((fn == F_RMIN || fn == F_RMAX) && (is_ts(t0.id) || is_str(t0.id))))
			return bind_err(err, a[0], "%s() needs numbers, not a %s", e->name, tname(t0, b2));
		e->type = fn == F_RCOUNT ? ty(FLOE_TYPE_LONG) :
		          fn == F_RSUM ? num_norm(t0) :
		          (fn == F_RMIN || fn == F_RMAX) ? (is_num(t0.id) ? num_norm(t0) : t0) :
		          ty(FLOE_TYPE_DOUBLE);
		return 0;
	}
}

static int bind(floe_expr *e, const floe_schema *s, unsigned flags, floe_error *err)
{
	char b1[32], b2[32];
	int rc;
	e->schema = s;
	switch (e->k) {
	case EX_LIT:
		if (e->lnull && e->type.id != 0)
			return 0;
		return 0;
	case EX_COL: {
		int i = find_column(s, e->name);
		if (i < 0) {
			char names[600];
			size_t at = 0;
			names[0] = 0;
			for (int k = 0; k < s->nfields && at < sizeof names - 40; k++)
				at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", k ? ", " : "",
				                       s->fields[k].name);
			return floe_error_set(err, FLOE_ENOTFOUND, "at character %d: %s column '%s' "
			                      "(there are: %s)", e->pos + 1, i == -2 ? "ambiguous" : "no",
			                      e->name, names);
		}
		e->idx = i;
		e->type = s->fields[i].type;
		return 0;
	}
	case EX_NEG:
		if ((rc = bind(e->args[0], s, flags, err)))
			return rc;
		if (!is_num(e->args[0]->type.id) && e->args[0]->type.id != 0)
			return bind_err(err, e, "cannot negate a %s%s", tname(e->args[0]->type, b1), "");
		e->type = num_norm(e->args[0]->type);
		return 0;
	case EX_NOT:
		if ((rc = bind(e->args[0], s, flags, err)))
			return rc;
		if (e->args[0]->type.id != FLOE_TYPE_BOOLEAN && e->args[0]->type.id != 0)
			return bind_err(err, e, "NOT needs a condition, not a %s%s",
			                tname(e->args[0]->type, b1), "");
		e->type = ty(FLOE_TYPE_BOOLEAN);
		return 0;
	case EX_ISNULL:
		if ((rc = bind(e->args[0], s, flags, err)))
			return rc;
		e->type = ty(FLOE_TYPE_BOOLEAN);
		return 0;
	case EX_CAST:
		if ((rc = bind(e->args[0], s, flags, err)))
			return rc;
		e->type = e->cast_to;
		if (e->type.id == FLOE_TYPE_DECIMAL && e->type.precision > 18)
			return bind_err(err, e, "CAST to decimal takes a precision up to 18%s%s", "", "");
		return 0;
	case EX_CASE: {
		int nv = 0;
		floe_expr *vals[300];
		for (int i = 0; i < e->nargs; i++) {
			if ((rc = bind(e->args[i], s, flags, err)))
				return rc;
			bool is_cond = i % 2 == 0 && !(e->has_else && i == e->nargs - 1);
			if (is_cond) {
				if (e->args[i]->type.id != FLOE_TYPE_BOOLEAN && e->args[i]->type.id != 0)
					return bind_err(err, e->args[i], "WHEN needs a condition, not a %s%s",
					                tname(e->args[i]->type, b1), "");
			} else if (nv < 300) {
				vals[nv++] = e->args[i];
			}
		}
		return unify(vals, nv, &e->type, err);
	}
	case EX_FUNC:
		return bind_func(e, s, flags, err);
	case EX_BIN:
		break;
	}
	floe_expr *l = e->args[0], *r = e->args[1];
	if ((rc = bind(l, s, flags, err)) || (rc = bind(r, s, flags, err)))
		return rc;
	floe_type lt = l->type, rt = r->type;
	int op = e->op;
	if (op == EB_AND || op == EB_OR) {
		if ((lt.id != FLOE_TYPE_BOOLEAN && lt.id) || (rt.id != FLOE_TYPE_BOOLEAN && rt.id))
			return bind_err(err, e, "AND/OR join conditions, not %s and %s", tname(lt, b1),
			                tname(rt, b2));
		e->type = ty(FLOE_TYPE_BOOLEAN);
		return 0;
	}
	if (op == EB_CONCAT) {
		e->type = ty(FLOE_TYPE_STRING);
		return 0;
	}
	if (op == EB_LIKE) {
		if ((!is_str(lt.id) && lt.id) || (!is_str(rt.id) && rt.id))
			return bind_err(err, e, "LIKE compares strings, not %s and %s", tname(lt, b1),
			                tname(rt, b2));
		e->type = ty(FLOE_TYPE_BOOLEAN);
		return 0;
	}
	if (op >= EB_EQ && op <= EB_GE) {
		/* a string literal against a time is that time */
		if ((is_ts(lt.id) || lt.id == FLOE_TYPE_DATE) && is_str(rt.id))
			rc = lit_to_time(r, lt, err);
		else if ((is_ts(rt.id) || rt.id == FLOE_TYPE_DATE) && is_str(lt.id))
			rc = lit_to_time(l, rt, err);
		if (rc)
			return rc;
		lt = l->type;
		rt = r->type;
		bool ok = !lt.id || !rt.id || (is_num(lt.id) && is_num(rt.id)) ||
		          (is_str(lt.id) && is_str(rt.id)) ||
		          ((is_ts(lt.id) || lt.id == FLOE_TYPE_DATE) &&
		           (is_ts(rt.id) || rt.id == FLOE_TYPE_DATE)) ||
		          (lt.id == rt.id && (lt.id == FLOE_TYPE_BOOLEAN || lt.id == FLOE_TYPE_BINARY ||
		                              lt.id == FLOE_TYPE_UUID || lt.id == FLOE_TYPE_FIXED));
		if (!ok)
			return bind_err(err, e, "cannot compare a %s with a %s (CAST one)", tname(lt, b1),
			                tname(rt, b2));
		e->type = ty(FLOE_TYPE_BOOLEAN);
		return 0;
	}
	/* arithmetic */
	bool li = l->k == EX_LIT && l->interval, ri = r->k == EX_LIT && r->interval;
	if (is_ts(lt.id) && ri && (op == EB_ADD || op == EB_SUB)) {
		e->type = lt;
		return 0;
	}
	if (is_ts(rt.id) && li && op == EB_ADD) {
		e->type = rt;
		return 0;
	}
	if (is_ts(lt.id) && is_ts(rt.id) && op == EB_SUB) {
		e->type = ty(FLOE_TYPE_LONG);
		return 0;
	}
	if (lt.id == FLOE_TYPE_DATE && is_int(rt.id) && (op == EB_ADD || op == EB_SUB)) {
		e->type = lt;
		return 0;
	}
	if ((is_num(lt.id) || !lt.id) && (is_num(rt.id) || !rt.id) && !li && !ri) {
		if (op == EB_DIV)
			e->type = ty(FLOE_TYPE_DOUBLE);
		else
			e->type = (is_int(lt.id) || !lt.id) && (is_int(rt.id) || !rt.id) ?
			          ty(FLOE_TYPE_LONG) : ty(FLOE_TYPE_DOUBLE);
		return 0;
	}
	static const char *const ops[] = { "", "+", "-", "*", "/", "%" };
	char msg[128];
	snprintf(msg, sizeof msg, "cannot compute %s %s %%s", tname(lt, b1), ops[op]);
	return bind_err(err, e, msg, tname(rt, b2), "");
}

int floe_expr_bind(floe_expr *e, const floe_schema *input, unsigned flags, floe_error *err)
{
	return bind(e, input, flags, err);
}

floe_type floe_expr_type(const floe_expr *e)
{
	if (e->type.id == 0)
		return ty(FLOE_TYPE_STRING); /* a bare NULL */
	return e->type;
}

static void collect(const floe_expr *e, bool *seen, int n)
{
	if (e->k == EX_COL && e->idx >= 0 && e->idx < n)
		seen[e->idx] = true;
	for (int i = 0; i < e->nargs; i++)
		if (e->args[i])
			collect(e->args[i], seen, n);
}

int floe_expr_columns(const floe_expr *e, const char **names, int cap)
{
	const floe_schema *s = e->schema;
	if (!s)
		return 0;
	bool *seen = calloc((size_t)s->nfields + 1, 1);
	if (!seen)
		return 0;
	collect(e, seen, s->nfields);
	int k = 0;
	for (int i = 0; i < s->nfields; i++)
		if (seen[i]) {
			if (k < cap)
				names[k] = s->fields[i].name;
			k++;
		}
	free(seen);
	return k < cap ? k : cap;
}

/* ---- evaluation ---------------------------------------------------------------------- */

typedef struct ctx {
	const floe_batch *b;
	const floe_expr_series *s;
	floe_arena *a;
	floe_error *err;
	int64_t n;
} ctx;

static int eval(const floe_expr *e, ctx *c, floe_column *out);

static bool valid(const floe_column *col, int64_t r)
{
	return floe_column_is_valid(col, r);
}

static uint8_t *bits_new(ctx *c, bool set)
{
	size_t nb = (size_t)((c->n + 7) / 8) + 1;
	uint8_t *v = floe_arena_alloc(c->a, nb);
	if (v)
		memset(v, set ? 0xff : 0, nb);
	return v;
}

/* validity of x AND y (NULL = all valid) */
static int both_valid(ctx *c, const floe_column *x, const floe_column *y, uint8_t **out)
{
	*out = NULL;
	if (!x->validity && (!y || !y->validity))
		return 0;
	uint8_t *v = bits_new(c, true);
	if (!v)
		return oom(c->err);
	size_t nb = (size_t)((c->n + 7) / 8);
	for (size_t i = 0; i < nb; i++)
		v[i] = (x->validity ? x->validity[i] : 0xff) & (y && y->validity ? y->validity[i] : 0xff);
	*out = v;
	return 0;
}

static void finish_nulls(floe_column *out, int64_t n)
{
	out->null_count = 0;
	if (!out->validity)
		return;
	for (int64_t r = 0; r < n; r++)
		out->null_count += !valid(out, r);
}

static int alloc_fixed(ctx *c, floe_column *out, floe_type t)
{
	memset(out, 0, sizeof *out);
	out->type = t;
	int w = floe_type_value_width(&t);
	if (w <= 0)
		w = 8;
	out->values = floe_arena_calloc(c->a, (size_t)(c->n ? c->n : 1), (size_t)w);
	return out->values ? 0 : oom(c->err);
}

/* numbers as doubles */
static int as_f64(ctx *c, const floe_column *x, const double **out)
{
	double *v = floe_arena_alloc(c->a, (size_t)(c->n ? c->n : 1) * sizeof *v);
	if (!v)
		return oom(c->err);
	int64_t n = c->n;
	switch (x->type.id) {
	case FLOE_TYPE_DOUBLE:
		*out = x->values;
		return 0;
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
	case FLOE_TYPE_DECIMAL: {
		if (x->type.precision > 18)
			return floe_error_set(c->err, FLOE_EUNSUPPORTED, "decimals wider than 18 digits "
			                      "are not computed on yet (CAST them)");
		double sc = pow(10, x->type.scale);
		for (int64_t r = 0; r < n; r++)
			v[r] = (double)((const int64_t *)x->values)[r] / sc;
		break;
	}
	default:
		memset(v, 0, (size_t)n * sizeof *v);
		break;
	}
	*out = v;
	return 0;
}

/* integers, times as int64 (DATE as days; with `date_as_us` as micros) */
static int as_i64(ctx *c, const floe_column *x, bool date_as_us, const int64_t **out)
{
	int64_t n = c->n;
	if (x->type.id == FLOE_TYPE_LONG || is_ts(x->type.id) || x->type.id == FLOE_TYPE_TIME ||
	    x->type.id == FLOE_TYPE_TIMESTAMP_NS || x->type.id == FLOE_TYPE_TIMESTAMPTZ_NS) {
		*out = x->values;
		return 0;
	}
	int64_t *v = floe_arena_calloc(c->a, (size_t)(n ? n : 1), sizeof *v);
	if (!v)
		return oom(c->err);
	if (x->type.id == FLOE_TYPE_INT || x->type.id == FLOE_TYPE_DATE)
		for (int64_t r = 0; r < n; r++) {
			int64_t k = ((const int32_t *)x->values)[r];
			/* dates past what micros hold saturate (+-292,000 years) */
			if (x->type.id == FLOE_TYPE_DATE && date_as_us &&
			    __builtin_mul_overflow(k, 86400000000LL, &v[r]))
				v[r] = k < 0 ? INT64_MIN : INT64_MAX;
			else if (!(x->type.id == FLOE_TYPE_DATE && date_as_us))
				v[r] = k;
		}
	else if (x->type.id == FLOE_TYPE_BOOLEAN)
		for (int64_t r = 0; r < n; r++)
			v[r] = ((const uint8_t *)x->values)[r];
	*out = v;
	return 0;
}

/* a column converted to type t (numeric widening; same kind otherwise) */
static int coerce(ctx *c, floe_column *x, floe_type t)
{
	if (x->type.id == t.id || t.id == 0)
		return 0;
	floe_column y;
	if (t.id == FLOE_TYPE_DOUBLE && is_num(x->type.id)) {
		const double *d;
		int rc = as_f64(c, x, &d);
		if (rc)
			return rc;
		y = *x;
		y.type = t;
		y.values = (void *)d;
	} else if (t.id == FLOE_TYPE_LONG && (is_int(x->type.id) || x->type.id == FLOE_TYPE_BOOLEAN)) {
		const int64_t *d;
		int rc = as_i64(c, x, false, &d);
		if (rc)
			return rc;
		y = *x;
		y.type = t;
		y.values = (void *)d;
	} else if (is_ts(t.id) && is_ts(x->type.id)) {
		y = *x;
		y.type = t;
	} else if (is_str(t.id) && is_str(x->type.id)) {
		y = *x;
		y.type = t;
	} else if (x->null_count == c->n) {
		/* all NULL: any type */
		int rc = alloc_fixed(c, &y, t);
		if (rc)
			return rc;
		if (floe_type_is_variable(&t)) {
			y.offsets = floe_arena_calloc(c->a, (size_t)c->n + 1, sizeof *y.offsets);
			y.data = floe_arena_alloc(c->a, 1);
			if (!y.offsets || !y.data)
				return oom(c->err);
		}
		y.validity = bits_new(c, false);
		if (!y.validity)
			return oom(c->err);
		y.null_count = c->n;
	} else {
		char a[32], b[32];
		return floe_error_set(c->err, FLOE_EINVALID, "cannot use a %s as a %s", tname(x->type, a),
		                      tname(t, b));
	}
	*x = y;
	return 0;
}

static int eval_lit(const floe_expr *e, ctx *c, floe_column *out)
{
	floe_type t = e->type.id ? e->type : ty(FLOE_TYPE_STRING);
	int rc = alloc_fixed(c, out, t);
	if (rc)
		return rc;
	int64_t n = c->n;
	if (floe_type_is_variable(&t)) {
		size_t len = e->lnull ? 0 : e->lslen;
		out->offsets = floe_arena_alloc(c->a, (size_t)(n + 1) * sizeof *out->offsets);
		out->data = floe_arena_alloc(c->a, len * (size_t)n + 1);
		if (!out->offsets || !out->data)
			return oom(c->err);
		out->offsets[0] = 0;
		for (int64_t r = 0; r < n; r++) {
			if (len)
				memcpy(out->data + (size_t)r * len, e->ls, len);
			out->offsets[r + 1] = (int64_t)((size_t)(r + 1) * len);
		}
	} else {
		switch (t.id) {
		case FLOE_TYPE_BOOLEAN:
			memset(out->values, (int)(e->li != 0), (size_t)n);
			break;
		case FLOE_TYPE_DOUBLE:
			for (int64_t r = 0; r < n; r++)
				((double *)out->values)[r] = e->ld;
			break;
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
		out->validity = bits_new(c, false);
		if (!out->validity)
			return oom(c->err);
		out->null_count = n;
	}
	return 0;
}

/* strings: builder over an arena-backed floe_buf */
typedef struct sbuild {
	floe_buf data;
	int64_t *off;
	int64_t at;
} sbuild;

static int sb_init(ctx *c, sbuild *s)
{
	memset(s, 0, sizeof *s);
	s->off = floe_arena_alloc(c->a, (size_t)(c->n + 1) * sizeof *s->off);
	if (!s->off)
		return oom(c->err);
	s->off[0] = 0;
	return 0;
}

static int sb_put(sbuild *s, const void *p, size_t n)
{
	if (n && floe_buf_append(&s->data, p, n))
		return FLOE_ENOMEM;
	s->off[++s->at] = (int64_t)s->data.len;
	return 0;
}

static int sb_done(ctx *c, sbuild *s, floe_column *out, uint8_t *validity)
{
	memset(out, 0, sizeof *out);
	out->type = ty(FLOE_TYPE_STRING);
	out->offsets = s->off;
	out->data = floe_arena_alloc(c->a, s->data.len + 1);
	if (!out->data) {
		floe_buf_free(&s->data);
		return oom(c->err);
	}
	if (s->data.len)
		memcpy(out->data, s->data.data, s->data.len);
	floe_buf_free(&s->data);
	out->validity = validity;
	finish_nulls(out, c->n);
	return 0;
}

static const uint8_t *sp(const floe_column *x, int64_t r, size_t *n)
{
	*n = (size_t)(x->offsets[r + 1] - x->offsets[r]);
	return x->data + x->offsets[r];
}

/* text of any value (for concat and casts to string) */
static int text_of(floe_buf *b, const floe_column *x, int64_t r)
{
	if (is_str(x->type.id)) {
		size_t n;
		const uint8_t *p = sp(x, r, &n);
		return floe_buf_append(b, p, n);
	}
	return floe_format_value(b, x, r, false);
}

static int cmp_rows(const floe_column *x, const floe_column *y, int64_t r, const double *xd,
                    const double *yd, const int64_t *xi, const int64_t *yi)
{
	if (xi && yi)
		return xi[r] < yi[r] ? -1 : xi[r] > yi[r];
	if (xd && yd)
		return xd[r] < yd[r] ? -1 : xd[r] > yd[r] ? 1 : (xd[r] == yd[r] ? 0 : (isnan(xd[r]) ?
		       (isnan(yd[r]) ? 0 : 1) : -1));
	size_t a, b;
	const uint8_t *pa, *pb;
	if (floe_type_is_variable(&x->type)) {
		pa = sp(x, r, &a);
		pb = sp(y, r, &b);
	} else {
		int w = floe_type_value_width(&x->type);
		pa = (const uint8_t *)x->values + (size_t)r * (size_t)w;
		pb = (const uint8_t *)y->values + (size_t)r * (size_t)w;
		a = b = (size_t)w;
	}
	int k = memcmp(pa, pb, a < b ? a : b);
	return k ? (k < 0 ? -1 : 1) : (a < b ? -1 : a > b);
}

static bool like(const uint8_t *s, size_t n, const uint8_t *p, size_t m)
{
	size_t i = 0, j = 0, star_j = (size_t)-1, star_i = 0;
	while (i < n) {
		if (j < m && (p[j] == '_' || p[j] == s[i])) {
			if (p[j] == '_') {
				/* one character: a whole UTF-8 sequence */
				i++;
				while (i < n && (s[i] & 0xc0) == 0x80)
					i++;
			} else {
				i++;
			}
			j++;
		} else if (j < m && p[j] == '%') {
			star_j = j++;
			star_i = i;
		} else if (star_j != (size_t)-1) {
			j = star_j + 1;
			i = ++star_i;
		} else {
			return false;
		}
	}
	while (j < m && p[j] == '%')
		j++;
	return j == m;
}

static int eval_bin(const floe_expr *e, ctx *c, floe_column *out)
{
	floe_column x, y;
	int rc;
	if ((rc = eval(e->args[0], c, &x)) || (rc = eval(e->args[1], c, &y)))
		return rc;
	int64_t n = c->n;
	int op = e->op;
	if (op == EB_AND || op == EB_OR) {
		if ((rc = alloc_fixed(c, out, ty(FLOE_TYPE_BOOLEAN))))
			return rc;
		uint8_t *v = out->values, *vb = NULL;
		const uint8_t *xv = x.values, *yv = y.values;
		if (x.validity || y.validity) {
			if (!(vb = bits_new(c, true)))
				return oom(c->err);
		}
		for (int64_t r = 0; r < n; r++) {
			bool xn = !valid(&x, r), yn = !valid(&y, r);
			bool xt = !xn && xv[r], yt = !yn && yv[r];
			if (op == EB_AND) {
				bool xf = !xn && !xv[r], yf = !yn && !yv[r];
				if (xf || yf)
					v[r] = 0;
				else if (xn || yn)
					floe_bitmap_set(vb, r, false);
				else
					v[r] = 1;
			} else {
				if (xt || yt)
					v[r] = 1;
				else if (xn || yn)
					floe_bitmap_set(vb, r, false);
				else
					v[r] = 0;
			}
		}
		out->validity = vb;
		finish_nulls(out, n);
		return 0;
	}
	uint8_t *vb;
	if ((rc = both_valid(c, &x, &y, &vb)))
		return rc;
	if (op == EB_CONCAT) {
		sbuild s;
		if ((rc = sb_init(c, &s)))
			return rc;
		for (int64_t r = 0; r < n; r++) {
			if (!vb || ((vb[r >> 3] >> (r & 7)) & 1)) {
				if (text_of(&s.data, &x, r) || text_of(&s.data, &y, r))
					return floe_buf_free(&s.data), oom(c->err);
			}
			if (sb_put(&s, NULL, 0))
				return floe_buf_free(&s.data), oom(c->err);
		}
		return sb_done(c, &s, out, vb);
	}
	if (op == EB_LIKE) {
		if ((rc = alloc_fixed(c, out, ty(FLOE_TYPE_BOOLEAN))))
			return rc;
		uint8_t *v = out->values;
		for (int64_t r = 0; r < n; r++)
			if (!vb || ((vb[r >> 3] >> (r & 7)) & 1)) {
				size_t a, b;
				const uint8_t *pa = sp(&x, r, &a), *pb = sp(&y, r, &b);
				v[r] = like(pa, a, pb, b);
			}
		out->validity = vb;
		finish_nulls(out, n);
		return 0;
	}
	if (op >= EB_EQ && op <= EB_GE) {
		if ((rc = alloc_fixed(c, out, ty(FLOE_TYPE_BOOLEAN))))
			return rc;
		const double *xd = NULL, *yd = NULL;
		const int64_t *xi = NULL, *yi = NULL;
		floe_type_id a = x.type.id, b = y.type.id;
		if (is_num(a) && is_num(b)) {
			if (is_int(a) && is_int(b)) {
				if ((rc = as_i64(c, &x, false, &xi)) || (rc = as_i64(c, &y, false, &yi)))
					return rc;
			} else if ((rc = as_f64(c, &x, &xd)) || (rc = as_f64(c, &y, &yd))) {
				return rc;
			}
		} else if ((is_ts(a) || a == FLOE_TYPE_DATE) && (is_ts(b) || b == FLOE_TYPE_DATE)) {
			bool us = a != b;
			if ((rc = as_i64(c, &x, us, &xi)) || (rc = as_i64(c, &y, us, &yi)))
				return rc;
		} else if (a == FLOE_TYPE_BOOLEAN && b == FLOE_TYPE_BOOLEAN) {
			if ((rc = as_i64(c, &x, false, &xi)) || (rc = as_i64(c, &y, false, &yi)))
				return rc;
		} else if (a != b && !(is_str(a) && is_str(b)) && x.null_count < n && y.null_count < n) {
			char b1[32], b2[32];
			return floe_error_set(c->err, FLOE_EINVALID, "cannot compare %s with %s",
			                      tname(x.type, b1), tname(y.type, b2));
		}
		uint8_t *v = out->values;
		for (int64_t r = 0; r < n; r++) {
			if (vb && !((vb[r >> 3] >> (r & 7)) & 1))
				continue;
			int k = cmp_rows(&x, &y, r, xd, yd, xi, yi);
			v[r] = op == EB_EQ ? k == 0 : op == EB_NE ? k != 0 : op == EB_LT ? k < 0 :
			       op == EB_LE ? k <= 0 : op == EB_GT ? k > 0 : k >= 0;
		}
		out->validity = vb;
		finish_nulls(out, n);
		return 0;
	}
	/* arithmetic */
	floe_type t = e->type;
	if ((rc = alloc_fixed(c, out, t)))
		return rc;
	out->validity = vb;
	if (t.id == FLOE_TYPE_DOUBLE) {
		const double *xd, *yd;
		if ((rc = as_f64(c, &x, &xd)) || (rc = as_f64(c, &y, &yd)))
			return rc;
		double *v = out->values;
		for (int64_t r = 0; r < n; r++) {
			double a = xd[r], b = yd[r];
			switch (op) {
			case EB_ADD: v[r] = a + b; break;
			case EB_SUB: v[r] = a - b; break;
			case EB_MUL: v[r] = a * b; break;
			case EB_DIV:
				if (b == 0) {
					if (!out->validity && !(out->validity = bits_new(c, true)))
						return oom(c->err);
					floe_bitmap_set(out->validity, r, false);
				} else {
					v[r] = a / b;
				}
				break;
			default:
				if (b == 0) {
					if (!out->validity && !(out->validity = bits_new(c, true)))
						return oom(c->err);
					floe_bitmap_set(out->validity, r, false);
				} else {
					v[r] = fmod(a, b);
				}
				break;
			}
		}
	} else if (t.id == FLOE_TYPE_DATE) {
		const int64_t *yi;
		if ((rc = as_i64(c, &y, false, &yi)))
			return rc;
		for (int64_t r = 0; r < n; r++) {
			if (out->validity && !valid(out, r))
				continue;
			int64_t z, a = ((const int32_t *)x.values)[r];
			bool ovf = op == EB_ADD ? __builtin_add_overflow(a, yi[r], &z) :
			                          __builtin_sub_overflow(a, yi[r], &z);
			if (ovf || z < INT32_MIN || z > INT32_MAX)
				return floe_error_set(c->err, FLOE_EINVALID, "row %" PRId64 ": the date "
				                      "is out of range", r);
			((int32_t *)out->values)[r] = (int32_t)z;
		}
	} else {
		const int64_t *xi, *yi;
		if ((rc = as_i64(c, &x, false, &xi)) || (rc = as_i64(c, &y, false, &yi)))
			return rc;
		int64_t *v = out->values;
		for (int64_t r = 0; r < n; r++) {
			if (out->validity && !valid(out, r))
				continue;
			int64_t a = xi[r], b = yi[r], z = 0;
			bool ovf = false;
			switch (op) {
			case EB_ADD: ovf = __builtin_add_overflow(a, b, &z); break;
			case EB_SUB: ovf = __builtin_sub_overflow(a, b, &z); break;
			case EB_MUL: ovf = __builtin_mul_overflow(a, b, &z); break;
			default:
				if (b == 0 || (a == INT64_MIN && b == -1)) {
					if (!out->validity && !(out->validity = bits_new(c, true)))
						return oom(c->err);
					floe_bitmap_set(out->validity, r, false);
				} else {
					z = a % b;
				}
				break;
			}
			if (ovf)
				return floe_error_set(c->err, FLOE_EINVALID, "row %" PRId64 ": %" PRId64
				                      " and %" PRId64 " overflow a long", r, a, b);
			v[r] = z;
		}
	}
	finish_nulls(out, n);
	return 0;
}

/* ---- casts ------------------------------------------------------------------------ */

static int cast_fail(ctx *c, const floe_expr *e, floe_column *out, int64_t r, const char *what)
{
	if (e->try_) {
		if (!out->validity && !(out->validity = bits_new(c, true)))
			return oom(c->err);
		floe_bitmap_set(out->validity, r, false);
		return 0;
	}
	char b[32];
	return floe_error_set(c->err, FLOE_EINVALID, "row %" PRId64 ": cannot cast '%.80s' to %s "
	                      "(TRY_CAST gives NULL instead)", r, what, tname(e->cast_to, b));
}

static int eval_cast(const floe_expr *e, ctx *c, floe_column *out)
{
	floe_column x;
	int rc = eval(e->args[0], c, &x);
	if (rc)
		return rc;
	floe_type t = e->cast_to;
	int64_t n = c->n;
	if (x.type.id == t.id && t.id != FLOE_TYPE_DECIMAL) {
		*out = x;
		return 0;
	}
	if (is_str(t.id)) {
		sbuild s;
		if ((rc = sb_init(c, &s)))
			return rc;
		for (int64_t r = 0; r < n; r++)
			if ((valid(&x, r) && text_of(&s.data, &x, r)) || sb_put(&s, NULL, 0))
				return floe_buf_free(&s.data), oom(c->err);
		uint8_t *vb = NULL;
		if ((rc = both_valid(c, &x, NULL, &vb)))
			return rc;
		return sb_done(c, &s, out, vb);
	}
	if ((rc = alloc_fixed(c, out, t)))
		return rc;
	if ((rc = both_valid(c, &x, NULL, &out->validity)))
		return rc;
	floe_buf scratch = { 0 }, text = { 0 };
	for (int64_t r = 0; r < n && !rc; r++) {
		if (!valid(&x, r) || (out->validity && !valid(out, r)))
			continue;
		floe_value v;
		memset(&v, 0, sizeof v);
		if (is_str(x.type.id)) {
			size_t len;
			const uint8_t *p = sp(&x, r, &len);
			/* trim spaces, as casts do */
			while (len && isspace(*p))
				p++, len--;
			while (len && isspace(p[len - 1]))
				len--;
			floe_type pt = t;
			floe_error e2;
			if (floe_text_parse(&v, &pt, (const char *)p, len, &scratch, &e2)) {
				/* a timestamp without offset into timestamptz: UTC */
				char tmp[128];
				snprintf(tmp, sizeof tmp, "%.*s", (int)(len < 100 ? len : 100), p);
				if ((rc = cast_fail(c, e, out, r, tmp)))
					break;
				continue;
			}
		} else if (t.id == FLOE_TYPE_DOUBLE || t.id == FLOE_TYPE_FLOAT) {
			const double *d;
			if ((rc = as_f64(c, &x, &d)))
				break;
			v.d = d[r];
			if (x.type.id == FLOE_TYPE_BOOLEAN)
				v.d = ((const uint8_t *)x.values)[r];
		} else if (is_int(t.id) || t.id == FLOE_TYPE_DECIMAL) {
			double d;
			if (x.type.id == FLOE_TYPE_BOOLEAN)
				d = ((const uint8_t *)x.values)[r];
			else if (is_num(x.type.id)) {
				const double *dv;
				if ((rc = as_f64(c, &x, &dv)))
					break;
				d = dv[r];
			} else if (is_ts(x.type.id) || x.type.id == FLOE_TYPE_DATE) {
				const int64_t *iv;
				if ((rc = as_i64(c, &x, false, &iv)))
					break;
				d = (double)iv[r];
			} else {
				rc = cast_fail(c, e, out, r, "a value of another kind");
				continue;
			}
			if (t.id == FLOE_TYPE_DECIMAL)
				d *= pow(10, t.scale);
			double rd = round(d);
			if (is_int(x.type.id) && t.id != FLOE_TYPE_DECIMAL) {
				const int64_t *iv;
				if ((rc = as_i64(c, &x, false, &iv)))
					break;
				v.i = iv[r];
			} else {
				v.i = (int64_t)rd;
			}
			if (!(rd >= -9.2e18 && rd <= 9.2e18) ||
			    (t.id == FLOE_TYPE_INT && (v.i < INT32_MIN || v.i > INT32_MAX))) {
				text.len = 0;
				if (text_of(&text, &x, r) || floe_buf_putc(&text, 0))
					rc = oom(c->err);
				else
					rc = cast_fail(c, e, out, r, (const char *)text.data);
				continue;
			}
		} else if (is_ts(t.id) && (is_ts(x.type.id) || x.type.id == FLOE_TYPE_DATE)) {
			const int64_t *iv;
			if ((rc = as_i64(c, &x, true, &iv)))
				break;
			v.i = iv[r];
		} else if (t.id == FLOE_TYPE_DATE && is_ts(x.type.id)) {
			int64_t us = ((const int64_t *)x.values)[r];
			int64_t d = us / 86400000000LL;
			if (us % 86400000000LL < 0)
				d--;
			v.i = d;
		} else if (t.id == FLOE_TYPE_BOOLEAN && is_num(x.type.id)) {
			const double *d;
			if ((rc = as_f64(c, &x, &d)))
				break;
			v.b = d[r] != 0;
			v.i = v.b;
		} else {
			char b1[32], b2[32];
			rc = floe_error_set(c->err, FLOE_EINVALID, "cannot cast a %s to %s",
			                    tname(x.type, b1), tname(t, b2));
			break;
		}
		switch (t.id) {
		case FLOE_TYPE_BOOLEAN:
			((uint8_t *)out->values)[r] = v.b || v.i;
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
	finish_nulls(out, n);
	return 0;
}

/* ---- CASE ------------------------------------------------------------------------- */

static int eval_case(const floe_expr *e, ctx *c, floe_column *out)
{
	int64_t n = c->n;
	int pairs = (e->nargs - (e->has_else ? 1 : 0)) / 2;
	int32_t *pick = floe_arena_alloc(c->a, (size_t)(n ? n : 1) * sizeof *pick);
	if (!pick)
		return oom(c->err);
	for (int64_t r = 0; r < n; r++)
		pick[r] = -1;
	floe_column *vals = floe_arena_calloc(c->a, (size_t)pairs + 1, sizeof *vals);
	if (!vals)
		return oom(c->err);
	int rc;
	for (int k = 0; k < pairs; k++) {
		floe_column cond;
		if ((rc = eval(e->args[2 * k], c, &cond)))
			return rc;
		const uint8_t *cv = cond.values;
		for (int64_t r = 0; r < n; r++)
			if (pick[r] < 0 && valid(&cond, r) && cv[r])
				pick[r] = k;
		if ((rc = eval(e->args[2 * k + 1], c, &vals[k])) || (rc = coerce(c, &vals[k], e->type)))
			return rc;
	}
	bool has_else = e->has_else;
	if (has_else && ((rc = eval(e->args[e->nargs - 1], c, &vals[pairs])) ||
	                 (rc = coerce(c, &vals[pairs], e->type))))
		return rc;
	floe_type t = floe_expr_type(e);
	if (floe_type_is_variable(&t)) {
		sbuild s;
		if ((rc = sb_init(c, &s)))
			return rc;
		uint8_t *vb = bits_new(c, true);
		if (!vb)
			return oom(c->err);
		for (int64_t r = 0; r < n; r++) {
			int k = pick[r] >= 0 ? pick[r] : has_else ? pairs : -1;
			if (k < 0 || !valid(&vals[k], r)) {
				floe_bitmap_set(vb, r, false);
				if (sb_put(&s, NULL, 0))
					return floe_buf_free(&s.data), oom(c->err);
				continue;
			}
			size_t len;
			const uint8_t *p = sp(&vals[k], r, &len);
			if (sb_put(&s, p, len))
				return floe_buf_free(&s.data), oom(c->err);
		}
		return sb_done(c, &s, out, vb);
	}
	if ((rc = alloc_fixed(c, out, t)))
		return rc;
	int w = floe_type_value_width(&t);
	out->validity = bits_new(c, true);
	if (!out->validity)
		return oom(c->err);
	for (int64_t r = 0; r < n; r++) {
		int k = pick[r] >= 0 ? pick[r] : has_else ? pairs : -1;
		if (k < 0 || !valid(&vals[k], r)) {
			floe_bitmap_set(out->validity, r, false);
			continue;
		}
		memcpy((uint8_t *)out->values + (size_t)r * (size_t)w,
		       (const uint8_t *)vals[k].values + (size_t)r * (size_t)w, (size_t)w);
	}
	finish_nulls(out, n);
	return 0;
}

/* ---- functions ---------------------------------------------------------------------- */

static size_t utf8_len(const uint8_t *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += (p[i] & 0xc0) != 0x80;
	return k;
}

/* byte offset of character `ch` (0-based) */
static size_t utf8_at(const uint8_t *p, size_t n, size_t ch)
{
	size_t i = 0, k = 0;
	while (i < n) {
		if ((p[i] & 0xc0) != 0x80) {
			if (k == ch)
				return i;
			k++;
		}
		i++;
	}
	return n;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t trunc_time(int64_t us, int unit)
{
	static const int64_t mul[] = { 1000000LL, 60000000LL, 3600000000LL, 86400000000LL };
	if (unit <= 3)
		return floor_div(us, mul[unit]) * mul[unit];
	int64_t days = floor_div(us, 86400000000LL);
	if (unit == 4) /* week: Monday; 1970-01-01 was a Thursday */
		return (floor_div(days + 3, 7) * 7 - 3) * 86400000000LL;
	int64_t y;
	unsigned m, d;
	floe_civil_from_days(days, &y, &m, &d);
	return floe_days_from_civil(y, unit == 5 ? m : 1, 1) * 86400000000LL;
}

static int64_t part_time(int64_t us, int unit)
{
	int64_t days = floor_div(us, 86400000000LL);
	int64_t rem = us - days * 86400000000LL;
	int64_t y;
	unsigned m, d;
	switch (unit) {
	case 0: return rem / 1000000 % 60;
	case 1: return rem / 60000000 % 60;
	case 2: return rem / 3600000000LL;
	case 4: return floor_div(days + 3, 7) + 1; /* weeks since epoch; rarely wanted */
	case 7: return ((days % 7) + 7 + 4) % 7;   /* 0 = Sunday */
	default:
		floe_civil_from_days(days, &y, &m, &d);
		return unit == 3 ? d : unit == 5 ? m : y;
	}
}

/* Series: rows sorted by group then time. */
static bool same_group(const ctx *c, int64_t a, int64_t b)
{
	return !c->s || !c->s->group || c->s->group[a] == c->s->group[b];
}

static int eval_series(const floe_expr *e, ctx *c, floe_column *x, floe_column *out)
{
	int64_t n = c->n;
	const int64_t *tm = c->s ? c->s->time : NULL;
	if (!c->s && e->fn != F_LAG)
		return floe_error_set(c->err, FLOE_EINVALID, "%s() needs rows in time order (an "
		                      "aggregate or rolling step)", e->name);
	if ((e->interval_us > 0) && !tm)
		return floe_error_set(c->err, FLOE_EINVALID, "%s() with an interval needs the rows' "
		                      "times", e->name);
	int rc;
	if (e->fn == F_LAG) {
		floe_type t = x->type;
		if ((rc = alloc_fixed(c, out, t)))
			return rc;
		int64_t *src = floe_arena_alloc(c->a, (size_t)(n ? n : 1) * sizeof *src);
		if (!src)
			return oom(c->err);
		if (e->lag_rows > 0) {
			for (int64_t r = 0; r < n; r++)
				src[r] = r - e->lag_rows >= 0 && same_group(c, r - e->lag_rows, r) ?
				         r - e->lag_rows : -1;
		} else {
			int64_t j = 0, d = e->interval_us;
			for (int64_t r = 0; r < n; r++) {
				if (r == 0 || !same_group(c, r - 1, r))
					j = r;
				int64_t want = tm[r] - d;
				while (j < r && tm[j] <= want)
					j++;
				src[r] = j - 1 >= 0 && j - 1 < r && same_group(c, j - 1, r) &&
				         tm[j - 1] == want ? j - 1 : -1;
			}
		}
		out->validity = bits_new(c, true);
		if (!out->validity)
			return oom(c->err);
		if (floe_type_is_variable(&t)) {
			sbuild s;
			if ((rc = sb_init(c, &s)))
				return rc;
			for (int64_t r = 0; r < n; r++) {
				size_t len = 0;
				const uint8_t *p = NULL;
				if (src[r] >= 0 && valid(x, src[r]))
					p = sp(x, src[r], &len);
				else
					floe_bitmap_set(out->validity, r, false);
				if (sb_put(&s, p, len))
					return floe_buf_free(&s.data), oom(c->err);
			}
			return sb_done(c, &s, out, out->validity);
		}
		int w = floe_type_value_width(&t);
		for (int64_t r = 0; r < n; r++) {
			if (src[r] < 0 || !valid(x, src[r])) {
				floe_bitmap_set(out->validity, r, false);
				continue;
			}
			memcpy((uint8_t *)out->values + (size_t)r * (size_t)w,
			       (const uint8_t *)x->values + (size_t)src[r] * (size_t)w, (size_t)w);
		}
		finish_nulls(out, n);
		return 0;
	}
	/* rolling: frame (t - d, t], each recomputed from its rows in order */
	floe_type t = floe_expr_type(e);
	if ((rc = alloc_fixed(c, out, t)))
		return rc;
	out->validity = bits_new(c, true);
	if (!out->validity)
		return oom(c->err);
	const double *xd = NULL;
	const int64_t *xi = NULL;
	if (is_num(x->type.id)) {
		if (t.id == FLOE_TYPE_LONG && e->fn != F_RCOUNT) {
			if ((rc = as_i64(c, x, false, &xi)))
				return rc;
		} else if ((rc = as_f64(c, x, &xd))) {
			return rc;
		}
	} else if (is_ts(x->type.id)) {
		xi = x->values;
	}
	int64_t s0 = 0, d = e->interval_us;
	for (int64_t r = 0; r < n; r++) {
		if (r == 0 || !same_group(c, r - 1, r))
			s0 = r;
		while (s0 < r && tm[s0] <= tm[r] - d)
			s0++;
		int64_t cnt = 0;
		double sum = 0;
		int64_t isum = 0, best = 0;
		double dbest = 0;
		for (int64_t j = s0; j <= r; j++) {
			if (!valid(x, j))
				continue;
			if (xi) {
				int64_t v = xi[j];
				if (!cnt || (e->fn == F_RMIN ? v < best : v > best))
					best = v;
				isum += v;
			} else if (xd) {
				double v = xd[j];
				if (!cnt || (e->fn == F_RMIN ? v < dbest : v > dbest))
					dbest = v;
				sum += v;
			}
			cnt++;
		}
		bool null = cnt == 0 && e->fn != F_RCOUNT;
		switch (e->fn) {
		case F_RCOUNT:
			((int64_t *)out->values)[r] = cnt;
			break;
		case F_RSUM:
			if (t.id == FLOE_TYPE_LONG)
				((int64_t *)out->values)[r] = isum;
			else
				((double *)out->values)[r] = sum;
			break;
		case F_RAVG:
			((double *)out->values)[r] = xi ? (double)isum / (double)(cnt ? cnt : 1) :
			                                  sum / (double)(cnt ? cnt : 1);
			break;
		case F_RMIN:
		case F_RMAX:
			if (t.id == FLOE_TYPE_DOUBLE)
				((double *)out->values)[r] = dbest;
			else
				((int64_t *)out->values)[r] = best;
			break;
		default: { /* stddev_samp, two passes */
			if (cnt < 2) {
				null = true;
				break;
			}
			double mean = sum / (double)cnt, ss = 0;
			for (int64_t j = s0; j <= r; j++)
				if (valid(x, j)) {
					double v = xd[j] - mean;
					ss += v * v;
				}
			((double *)out->values)[r] = sqrt(ss / (double)(cnt - 1));
			break;
		}
		}
		if (null)
			floe_bitmap_set(out->validity, r, false);
	}
	finish_nulls(out, n);
	return 0;
}

static int eval_func(const floe_expr *e, ctx *c, floe_column *out)
{
	int64_t n = c->n;
	int fn = e->fn, rc;
	floe_column a[64];
	int na = e->nargs;
	for (int i = 0; i < na; i++) {
		bool constant = (i == 1 && (fn == F_WSTART || fn == F_WEND || fn >= F_LAG)) ||
		                (i == 0 && (fn == F_DATE_TRUNC || fn == F_DATE_PART));
		if (constant)
			continue;
		if ((rc = eval(e->args[i], c, &a[i])))
			return rc;
	}
	floe_type t = floe_expr_type(e);
	if (fn >= F_LAG)
		return eval_series(e, c, &a[0], out);
	if (fn == F_COALESCE || fn == F_GREATEST || fn == F_LEAST || fn == F_IF || fn == F_NULLIF) {
		int first = fn == F_IF ? 1 : 0;
		for (int i = first; i < na; i++)
			if ((rc = coerce(c, &a[i], t)))
				return rc;
		int32_t *pick = floe_arena_alloc(c->a, (size_t)(n ? n : 1) * sizeof *pick);
		if (!pick)
			return oom(c->err);
		for (int64_t r = 0; r < n; r++) {
			int k = -1;
			if (fn == F_COALESCE) {
				for (int i = 0; i < na && k < 0; i++)
					if (valid(&a[i], r))
						k = i;
			} else if (fn == F_IF) {
				k = valid(&a[0], r) && ((const uint8_t *)a[0].values)[r] ? 1 : 2;
			} else if (fn == F_NULLIF) {
				k = 0;
				if (valid(&a[0], r) && valid(&a[1], r)) {
					const double *x = NULL, *y = NULL;
					floe_column c0 = a[0], c1 = a[1];
					if (is_num(c0.type.id) && !is_int(c0.type.id) && (rc = as_f64(c, &c1, &y)) == 0)
						x = c0.values;
					if (rc)
						return rc;
					if (cmp_rows(&c0, &c1, r, x, y, NULL, NULL) == 0)
						k = -1;
				}
			} else { /* greatest / least: NULLs ignored */
				for (int i = 0; i < na; i++) {
					if (!valid(&a[i], r))
						continue;
					if (k < 0) {
						k = i;
						continue;
					}
					const double *x = NULL, *y = NULL;
					const int64_t *xi = NULL, *yi = NULL;
					if (t.id == FLOE_TYPE_DOUBLE) {
						x = a[i].values;
						y = a[k].values;
					} else if (t.id == FLOE_TYPE_LONG || is_ts(t.id)) {
						xi = a[i].values;
						yi = a[k].values;
					}
					int cmp = cmp_rows(&a[i], &a[k], r, x, y, xi, yi);
					if (fn == F_GREATEST ? cmp > 0 : cmp < 0)
						k = i;
				}
			}
			pick[r] = k;
		}
		if (floe_type_is_variable(&t)) {
			sbuild s;
			if ((rc = sb_init(c, &s)))
				return rc;
			uint8_t *vb = bits_new(c, true);
			if (!vb)
				return oom(c->err);
			for (int64_t r = 0; r < n; r++) {
				size_t len = 0;
				const uint8_t *p = NULL;
				if (pick[r] >= 0 && valid(&a[pick[r]], r))
					p = sp(&a[pick[r]], r, &len);
				else
					floe_bitmap_set(vb, r, false);
				if (sb_put(&s, p, len))
					return floe_buf_free(&s.data), oom(c->err);
			}
			return sb_done(c, &s, out, vb);
		}
		if ((rc = alloc_fixed(c, out, t)))
			return rc;
		if (!(out->validity = bits_new(c, true)))
			return oom(c->err);
		int w = floe_type_value_width(&t);
		for (int64_t r = 0; r < n; r++) {
			int k = pick[r];
			if (k < 0 || !valid(&a[k], r)) {
				floe_bitmap_set(out->validity, r, false);
				continue;
			}
			memcpy((uint8_t *)out->values + (size_t)r * (size_t)w,
			       (const uint8_t *)a[k].values + (size_t)r * (size_t)w, (size_t)w);
		}
		finish_nulls(out, n);
		return 0;
	}
	/* strict functions: NULL in, NULL out */
	uint8_t *vb = NULL;
	for (int i = 0; i < na; i++) {
		bool constant = (i == 1 && (fn == F_WSTART || fn == F_WEND)) ||
		                (i == 0 && (fn == F_DATE_TRUNC || fn == F_DATE_PART));
		if (constant)
			continue;
		if (a[i].validity) {
			if (!vb && !(vb = bits_new(c, true)))
				return oom(c->err);
			size_t nb = (size_t)((n + 7) / 8);
			for (size_t k = 0; k < nb; k++)
				vb[k] &= a[i].validity[k];
		}
	}
#define LIVE(r) (!vb || ((vb[(r) >> 3] >> ((r) & 7)) & 1))
	if (fn >= F_UPPER && fn <= F_REPLACE && fn != F_LENGTH) {
		sbuild s;
		if ((rc = sb_init(c, &s)))
			return rc;
		floe_buf tmp = { 0 };
		for (int64_t r = 0; r < n; r++) {
			tmp.len = 0;
			if (fn == F_CONCAT || LIVE(r)) {
				size_t len;
				const uint8_t *p = fn == F_CONCAT ? NULL : sp(&a[0], r, &len);
				switch (fn) {
				case F_UPPER:
				case F_LOWER:
					if (floe_buf_append(&tmp, p, len))
						goto nomem;
					for (size_t i = 0; i < len; i++)
						tmp.data[i] = (uint8_t)(fn == F_UPPER ? toupper(tmp.data[i]) :
						                        tolower(tmp.data[i]));
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
					if (floe_buf_append(&tmp, p + b, en - b))
						goto nomem;
					break;
				}
				case F_SUBSTR: {
					int64_t start = ((const int64_t *)a[1].values)[r];
					if (a[1].type.id == FLOE_TYPE_INT)
						start = ((const int32_t *)a[1].values)[r];
					int64_t cnt = INT64_MAX;
					if (na == 3)
						cnt = a[2].type.id == FLOE_TYPE_INT ?
						      ((const int32_t *)a[2].values)[r] : ((const int64_t *)a[2].values)[r];
					int64_t chars = (int64_t)utf8_len(p, len);
					if (start < 0)
						start = chars + start + 1;
					int64_t from = start - 1, to = cnt == INT64_MAX ? chars :
					               (cnt < 0 ? from : from + cnt);
					if (from < 0)
						from = 0;
					if (to > chars)
						to = chars;
					if (to > from) {
						size_t bf = utf8_at(p, len, (size_t)from), bt = utf8_at(p, len, (size_t)to);
						if (floe_buf_append(&tmp, p + bf, bt - bf))
							goto nomem;
					}
					break;
				}
				case F_CONCAT:
					for (int i = 0; i < na; i++)
						if (valid(&a[i], r) && text_of(&tmp, &a[i], r))
							goto nomem;
					break;
				default: { /* replace */
					size_t fl, tl;
					const uint8_t *f = sp(&a[1], r, &fl), *to = sp(&a[2], r, &tl);
					for (size_t i = 0; i < len;) {
						if (fl && i + fl <= len && memcmp(p + i, f, fl) == 0) {
							if (floe_buf_append(&tmp, to, tl))
								goto nomem;
							i += fl;
						} else {
							if (floe_buf_putc(&tmp, p[i]))
								goto nomem;
							i++;
						}
					}
					break;
				}
				}
			}
			if (sb_put(&s, tmp.data, tmp.len))
				goto nomem;
		}
		floe_buf_free(&tmp);
		/* concat ignores NULLs */
		return sb_done(c, &s, out, fn == F_CONCAT ? NULL : vb);
nomem:
		floe_buf_free(&tmp);
		floe_buf_free(&s.data);
		return oom(c->err);
	}
	if ((rc = alloc_fixed(c, out, t)))
		return rc;
	out->validity = vb;
	if (fn == F_LENGTH || (fn >= F_STARTS && fn <= F_CONTAINS)) {
		for (int64_t r = 0; r < n; r++) {
			if (!LIVE(r))
				continue;
			size_t len, ln2 = 0;
			const uint8_t *p = sp(&a[0], r, &len), *q = na > 1 ? sp(&a[1], r, &ln2) : NULL;
			if (fn == F_LENGTH) {
				((int64_t *)out->values)[r] = (int64_t)utf8_len(p, len);
				continue;
			}
			bool v = false;
			if (fn == F_STARTS)
				v = ln2 <= len && memcmp(p, q, ln2) == 0;
			else if (fn == F_ENDS)
				v = ln2 <= len && memcmp(p + len - ln2, q, ln2) == 0;
			else
				for (size_t i = 0; !v && i + ln2 <= len; i++)
					v = memcmp(p + i, q, ln2) == 0;
			((uint8_t *)out->values)[r] = v;
		}
		finish_nulls(out, n);
		return 0;
	}
	if (fn >= F_ABS && fn <= F_SIGN) {
		if (t.id == FLOE_TYPE_LONG && fn != F_SIGN) {
			const int64_t *x;
			if ((rc = as_i64(c, &a[0], false, &x)))
				return rc;
			for (int64_t r = 0; r < n; r++)
				((int64_t *)out->values)[r] = fn == F_ABS && x[r] < 0 && x[r] != INT64_MIN ?
				                              -x[r] : x[r];
			finish_nulls(out, n);
			return 0;
		}
		const double *x, *y = NULL;
		if ((rc = as_f64(c, &a[0], &x)))
			return rc;
		if (na == 2 && (rc = as_f64(c, &a[1], &y)))
			return rc;
		for (int64_t r = 0; r < n; r++) {
			if (!LIVE(r))
				continue;
			double v = x[r], z = 0;
			bool null = false;
			switch (fn) {
			case F_ABS: z = fabs(v); break;
			case F_ROUND:
				if (y) {
					double m = pow(10, y[r]);
					z = round(v * m) / m;
				} else {
					z = round(v);
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
				if (!out->validity && !(out->validity = vb = bits_new(c, true)))
					return oom(c->err);
				floe_bitmap_set(out->validity, r, false);
				continue;
			}
			((double *)out->values)[r] = z;
		}
		finish_nulls(out, n);
		return 0;
	}
	if (fn == F_TO_TS || fn == F_TRY_TO_TS) {
		floe_buf sc = { 0 };
		floe_type tt = ty(FLOE_TYPE_TIMESTAMPTZ);
		for (int64_t r = 0; r < n; r++) {
			if (!LIVE(r))
				continue;
			size_t len;
			const uint8_t *p = sp(&a[0], r, &len);
			floe_value v;
			floe_error e2;
			if (floe_text_parse(&v, &tt, (const char *)p, len, &sc, &e2)) {
				if (fn == F_TO_TS) {
					floe_buf_free(&sc);
					return floe_error_set(c->err, FLOE_EINVALID, "row %" PRId64 ": '%.*s' is "
					                      "not an ISO-8601 timestamp (try_to_timestamp gives "
					                      "NULL instead)", r, (int)(len < 60 ? len : 60), p);
				}
				if (!out->validity && !(out->validity = vb = bits_new(c, true))) {
					floe_buf_free(&sc);
					return oom(c->err);
				}
				floe_bitmap_set(out->validity, r, false);
				continue;
			}
			((int64_t *)out->values)[r] = v.i;
		}
		floe_buf_free(&sc);
		finish_nulls(out, n);
		return 0;
	}
	/* time functions */
	int ti = fn == F_DATE_TRUNC || fn == F_DATE_PART ? 1 : 0;
	const int64_t *x;
	if ((rc = as_i64(c, &a[ti], true, &x)))
		return rc;
	for (int64_t r = 0; r < n; r++) {
		if (!LIVE(r))
			continue;
		int64_t v = x[r], z;
		/* within +-285,000 years, where every result below fits */
		if (v < -9000000000000000000LL || v > 9000000000000000000LL ||
		    e->interval_us > 100000000000000000LL) {
			if (!out->validity && !(out->validity = vb = bits_new(c, true)))
				return oom(c->err);
			floe_bitmap_set(out->validity, r, false);
			continue;
		}
		switch (fn) {
		case F_DATE_TRUNC: z = trunc_time(v, (int)e->lag_rows); break;
		case F_DATE_PART: z = part_time(v, (int)e->lag_rows); break;
		case F_WSTART: z = floor_div(v, e->interval_us) * e->interval_us; break;
		case F_WEND: z = floor_div(v, e->interval_us) * e->interval_us + e->interval_us; break;
		case F_EPOCH_US: z = v; break;
		case F_EPOCH_MS: z = floor_div(v, 1000); break;
		default:
			((double *)out->values)[r] = (double)v / 1e6;
			continue;
		}
		((int64_t *)out->values)[r] = z;
	}
#undef LIVE
	finish_nulls(out, n);
	return 0;
}

static int eval(const floe_expr *e, ctx *c, floe_column *out)
{
	int rc;
	switch (e->k) {
	case EX_LIT:
		return eval_lit(e, c, out);
	case EX_COL:
		if (e->idx < 0 || e->idx >= c->b->ncols)
			return floe_error_set(c->err, FLOE_EINVALID, "column '%s' is not bound to this "
			                      "batch", e->name);
		*out = c->b->cols[e->idx];
		if (out->validity && out->null_count == 0)
			finish_nulls(out, c->n);
		return 0;
	case EX_NEG: {
		floe_column x;
		if ((rc = eval(e->args[0], c, &x)))
			return rc;
		if ((rc = alloc_fixed(c, out, e->type)))
			return rc;
		if ((rc = both_valid(c, &x, NULL, &out->validity)))
			return rc;
		if (e->type.id == FLOE_TYPE_LONG) {
			const int64_t *v;
			if ((rc = as_i64(c, &x, false, &v)))
				return rc;
			for (int64_t r = 0; r < c->n; r++)
				((int64_t *)out->values)[r] = (int64_t)(0ULL - (uint64_t)v[r]);
		} else {
			const double *v;
			if ((rc = as_f64(c, &x, &v)))
				return rc;
			for (int64_t r = 0; r < c->n; r++)
				((double *)out->values)[r] = -v[r];
		}
		finish_nulls(out, c->n);
		return 0;
	}
	case EX_NOT: {
		floe_column x;
		if ((rc = eval(e->args[0], c, &x)))
			return rc;
		if ((rc = alloc_fixed(c, out, ty(FLOE_TYPE_BOOLEAN))))
			return rc;
		if ((rc = both_valid(c, &x, NULL, &out->validity)))
			return rc;
		for (int64_t r = 0; r < c->n; r++)
			((uint8_t *)out->values)[r] = !((const uint8_t *)x.values)[r];
		finish_nulls(out, c->n);
		return 0;
	}
	case EX_ISNULL: {
		floe_column x;
		if ((rc = eval(e->args[0], c, &x)))
			return rc;
		if ((rc = alloc_fixed(c, out, ty(FLOE_TYPE_BOOLEAN))))
			return rc;
		for (int64_t r = 0; r < c->n; r++)
			((uint8_t *)out->values)[r] = valid(&x, r) == e->neg;
		return 0;
	}
	case EX_BIN:
		return eval_bin(e, c, out);
	case EX_CAST:
		return eval_cast(e, c, out);
	case EX_CASE:
		return eval_case(e, c, out);
	case EX_FUNC:
		return eval_func(e, c, out);
	}
	return floe_error_set(c->err, FLOE_EINVALID, "unknown expression node");
}

int floe_expr_eval(const floe_expr *e, const floe_batch *b, const floe_expr_series *series,
                   floe_column *out, floe_arena *arena, floe_error *err)
{
	ctx c = { b, series, arena, err, b->nrows };
	memset(out, 0, sizeof *out);
	int rc = eval(e, &c, out);
	if (rc)
		return rc;
	/* a bare NULL literal is a string column of NULLs */
	if (out->type.id == 0)
		out->type = ty(FLOE_TYPE_STRING);
	return 0;
}

int floe_expr_eval_filter(const floe_expr *e, const floe_batch *b,
                          const floe_expr_series *series, uint8_t *keep, floe_arena *arena,
                          floe_error *err)
{
	floe_column c;
	int rc = floe_expr_eval(e, b, series, &c, arena, err);
	if (rc)
		return rc;
	if (c.type.id != FLOE_TYPE_BOOLEAN)
		return floe_error_set(err, FLOE_EINVALID, "'%s' is not a condition", floe_expr_text(e));
	const uint8_t *v = c.values;
	for (int64_t r = 0; r < b->nrows; r++)
		keep[r] = floe_column_is_valid(&c, r) && v[r];
	return 0;
}
