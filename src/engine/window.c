/* engine/window.c - windowed aggregation on event time (floe/window.h):
 * the aggregate steps of pipelines (OHLC bars, VWAP, volatility per symbol
 * and minute). A run assigns every row to its windows, sorts the
 * (row, window) pairs by (window_start, keys, time, order...), evaluates
 * each aggregate's argument over the sorted rows (lag() then sees the
 * previous row of the same key and window), folds every run of equal
 * (window_start, keys) into one row of aggregates (__agg0, __agg1, ...)
 * and evaluates the output expressions over those rows. The result depends
 * only on the set of rows given: the sort fixes the order every
 * aggregate, sum and lag sees. docs/windows.md describes the semantics. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/window_int.h"
#include "floe/window.h"
#include "util/buf.h"
#include "util/format.h"

#define MAX_KEYS 16

struct floe_window {
	floe_arena *arena;        /* the handle's parse, bindings and schemas */
	floe_schema *input;       /* copy of the input schema */
	int nkeys, norder, time_col;
	int key_cols[MAX_KEYS];
	int *order_cols;
	bool *needed;             /* input columns the run gathers */
	int64_t size_us, slide_us;
	floe_expr_agg *aggs;      /* arguments bound to `input` (series) */
	int naggs;
	const char **agg_output;  /* per aggregate: the output that first uses it */
	floe_expr **outs;         /* bound to agg_schema */
	int nout;
	floe_schema agg_schema;   /* keys, window_start, window_end, __agg0.. */
	floe_schema out_schema;   /* keys, window_start, window_end, outputs */
};

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory in a window step: give it fewer rows at once");
}

static int64_t floor_div(int64_t v, int64_t unit)
{
	int64_t q = v / unit;
	if ((v % unit) < 0)
		q--;
	return q;
}

static const char *agg_name(floe_agg_fn fn)
{
	switch (fn) {
	case FLOE_AGG_COUNT_STAR:
	case FLOE_AGG_COUNT:
		return "count";
	case FLOE_AGG_SUM:
		return "sum";
	case FLOE_AGG_MIN:
		return "min";
	case FLOE_AGG_MAX:
		return "max";
	case FLOE_AGG_AVG:
		return "avg";
	case FLOE_AGG_FIRST:
		return "first";
	case FLOE_AGG_LAST:
		return "last";
	case FLOE_AGG_STDDEV_SAMP:
		return "stddev_samp";
	case FLOE_AGG_STDDEV_POP:
		return "stddev_pop";
	case FLOE_AGG_VAR_SAMP:
		return "var_samp";
	case FLOE_AGG_VAR_POP:
		return "var_pop";
	}
	return "?";
}

/* ---- aggregate types ------------------------------------------------------------ */

static bool is_numeric(const floe_type *t)
{
	switch (t->id) {
	case FLOE_TYPE_INT:
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
		return true;
	case FLOE_TYPE_DECIMAL:
		return t->precision <= 18;
	default:
		return false;
	}
}

static bool is_integer(const floe_type *t)
{
	return t->id == FLOE_TYPE_INT || t->id == FLOE_TYPE_LONG ||
	       (t->id == FLOE_TYPE_DECIMAL && t->precision <= 18);
}

/* The placeholder column's type for fn over an argument of type `arg`. */
static int eng_agg_type(floe_type *out, floe_agg_fn fn, const floe_type *arg, floe_error *err)
{
	memset(out, 0, sizeof *out);
	char tb[48];
	switch (fn) {
	case FLOE_AGG_COUNT_STAR:
	case FLOE_AGG_COUNT:
		out->id = FLOE_TYPE_LONG;
		return 0;
	case FLOE_AGG_MIN:
	case FLOE_AGG_MAX:
	case FLOE_AGG_FIRST:
	case FLOE_AGG_LAST:
		*out = *arg;
		return 0;
	default:
		break;
	}
	if (!is_numeric(arg))
		return floe_error_set(err, FLOE_EINVALID,
		                      "%s() needs a number, not %s: cast the argument to double", agg_name(fn),
		                      floe_type_format(arg, tb, sizeof tb));
	if (fn == FLOE_AGG_SUM && is_integer(arg)) {
		out->id = arg->id == FLOE_TYPE_DECIMAL ? FLOE_TYPE_DECIMAL : FLOE_TYPE_LONG;
		if (arg->id == FLOE_TYPE_DECIMAL) {
			out->precision = 18;
			out->scale = arg->scale;
		}
		out->is_unsigned = arg->id == FLOE_TYPE_LONG && arg->is_unsigned;
		return 0;
	}
	out->id = FLOE_TYPE_DOUBLE;
	return 0;
}

/* ---- aggregate kernels ------------------------------------------------------------ */

/* Value of a numeric column as a double (decimals scaled). */
static double num_at(const floe_column *c, int64_t r)
{
	switch (c->type.id) {
	case FLOE_TYPE_INT:
		return (double)((const int32_t *)c->values)[r];
	case FLOE_TYPE_LONG:
		if (c->type.is_unsigned)
			return (double)(uint64_t)((const int64_t *)c->values)[r];
		return (double)((const int64_t *)c->values)[r];
	case FLOE_TYPE_FLOAT:
		return (double)((const float *)c->values)[r];
	case FLOE_TYPE_DOUBLE:
		return ((const double *)c->values)[r];
	case FLOE_TYPE_DECIMAL: {
		double v = (double)((const int64_t *)c->values)[r];
		return v / pow(10.0, c->type.scale);
	}
	default:
		return NAN;
	}
}

static int64_t int_at(const floe_column *c, int64_t r)
{
	if (c->type.id == FLOE_TYPE_INT)
		return ((const int32_t *)c->values)[r];
	return ((const int64_t *)c->values)[r];
}

/* out = fn over each group g of arg's rows [gs[g], gs[g+1]) (in row order,
 * which is the (time, order...) order). arg is NULL for count(*). On an
 * error *bad_group names the group. Buffers of out in `arena`. */
static int eng_agg_column(floe_column *out, floe_agg_fn fn, const floe_type *type,
                          const floe_column *arg, const int64_t *gs, int64_t ng,
                          int64_t *bad_group, floe_arena *arena, floe_error *err)
{
	int rc = 0;
	uint8_t *valid = NULL;
	int32_t *pick = NULL;
	*bad_group = -1;
	if (ng == 0)
		return eng_column_empty(out, type, arena, err);
	if (fn == FLOE_AGG_MIN || fn == FLOE_AGG_MAX || fn == FLOE_AGG_FIRST || fn == FLOE_AGG_LAST) {
		/* the row holding the answer, then gather it (any type) */
		if (!(pick = malloc((size_t)ng * sizeof *pick)))
			return oom(err);
		/* doubles and signed longs compared in place, in eng_value_cmp's
		 * order; other types through it */
		const double *dv = arg->type.id == FLOE_TYPE_DOUBLE ? arg->values : NULL;
		const int64_t *lv = arg->type.id == FLOE_TYPE_LONG && !arg->type.is_unsigned
		                            ? arg->values : NULL;
		for (int64_t g = 0; g < ng; g++) {
			int64_t best = -1;
			for (int64_t r = gs[g]; r < gs[g + 1]; r++) {
				if (!floe_column_is_valid(arg, r))
					continue;
				if (best < 0) {
					best = r;
					if (fn == FLOE_AGG_FIRST)
						break;
					continue;
				}
				if (fn == FLOE_AGG_LAST)
					best = r;
				else {
					int c;
					if (dv) {
						uint64_t x = eng_double_key(dv[r]), y = eng_double_key(dv[best]);
						c = (x > y) - (x < y);
					} else if (lv) {
						c = (lv[r] > lv[best]) - (lv[r] < lv[best]);
					} else {
						c = eng_value_cmp(arg, r, arg, best);
					}
					if (fn == FLOE_AGG_MIN ? c < 0 : c > 0)
						best = r;
				}
			}
			pick[g] = (int32_t)best;
		}
		rc = eng_column_take(out, arg, pick, ng, arena, err);
		free(pick);
		return rc;
	}
	void *vals = floe_arena_alloc(arena, (size_t)ng * 8);
	if (!vals || !(valid = malloc((size_t)ng)))
		return oom(err);
	if (fn == FLOE_AGG_COUNT_STAR || fn == FLOE_AGG_COUNT) {
		int64_t *v = vals;
		for (int64_t g = 0; g < ng; g++) {
			int64_t c = gs[g + 1] - gs[g];
			if (fn == FLOE_AGG_COUNT && arg->validity) {
				c = 0;
				for (int64_t r = gs[g]; r < gs[g + 1]; r++)
					c += floe_column_is_valid(arg, r);
			}
			v[g] = c;
			valid[g] = 1;
		}
	} else if (fn == FLOE_AGG_SUM && is_integer(&arg->type)) {
		int64_t *v = vals;
		bool uns = arg->type.id == FLOE_TYPE_LONG && arg->type.is_unsigned;
		for (int64_t g = 0; g < ng && rc == 0; g++) {
			int64_t s = 0;
			uint64_t us = 0;
			bool any = false;
			for (int64_t r = gs[g]; r < gs[g + 1]; r++) {
				if (!floe_column_is_valid(arg, r))
					continue;
				any = true;
				bool over = uns ? __builtin_add_overflow(us, (uint64_t)int_at(arg, r), &us)
				                : __builtin_add_overflow(s, int_at(arg, r), &s);
				if (over) {
					*bad_group = g;
					rc = floe_error_set(err, FLOE_EINVALID,
					                    "sum() overflows a 64-bit integer: cast the "
					                    "argument to double");
					break;
				}
			}
			v[g] = uns ? (int64_t)us : s;
			valid[g] = any;
		}
	} else {
		/* DOUBLE results: sum, avg, variances; values in group order */
		double *v = vals;
		for (int64_t g = 0; g < ng; g++) {
			int64_t n = 0;
			double sum = 0;
			for (int64_t r = gs[g]; r < gs[g + 1]; r++)
				if (floe_column_is_valid(arg, r)) {
					sum += num_at(arg, r);
					n++;
				}
			valid[g] = n > 0;
			v[g] = 0;
			if (n == 0)
				continue;
			if (fn == FLOE_AGG_SUM) {
				v[g] = sum;
				continue;
			}
			if (fn == FLOE_AGG_AVG && is_integer(&arg->type)) {
				/* exact integer sum when it fits */
				int64_t s = 0;
				bool over = false;
				for (int64_t r = gs[g]; r < gs[g + 1] && !over; r++)
					if (floe_column_is_valid(arg, r))
						over = __builtin_add_overflow(s, int_at(arg, r), &s);
				if (!over && !(arg->type.id == FLOE_TYPE_LONG && arg->type.is_unsigned)) {
					double d = (double)s / (double)n;
					if (arg->type.id == FLOE_TYPE_DECIMAL)
						d /= pow(10.0, arg->type.scale);
					v[g] = d;
					continue;
				}
			}
			double mean = sum / (double)n;
			if (fn == FLOE_AGG_AVG) {
				v[g] = mean;
				continue;
			}
			if ((fn == FLOE_AGG_VAR_SAMP || fn == FLOE_AGG_STDDEV_SAMP) && n < 2) {
				valid[g] = 0;
				continue;
			}
			/* corrected two-pass algorithm (Chan, Golub, LeVeque 1983) */
			double ss = 0, comp = 0;
			for (int64_t r = gs[g]; r < gs[g + 1]; r++)
				if (floe_column_is_valid(arg, r)) {
					double d = num_at(arg, r) - mean;
					ss += d * d;
					comp += d;
				}
			double m2 = ss - comp * comp / (double)n;
			if (m2 < 0)
				m2 = 0;
			double var = (fn == FLOE_AGG_VAR_POP || fn == FLOE_AGG_STDDEV_POP) ?
			                     m2 / (double)n :
			                     m2 / (double)(n - 1);
			v[g] = (fn == FLOE_AGG_STDDEV_POP || fn == FLOE_AGG_STDDEV_SAMP) ? sqrt(var) : var;
		}
	}
	if (rc == 0)
		rc = eng_column_wrap(out, type, vals, valid, ng, arena, err);
	free(valid);
	return rc;
}

/* ---- the spec --------------------------------------------------------------------- */

floe_schema *eng_schema_copy(const floe_schema *s, floe_arena *a)
{
	floe_schema *c = floe_arena_calloc(a, 1, sizeof *c);
	if (!c)
		return NULL;
	c->nfields = s->nfields;
	c->fields = floe_arena_calloc(a, (size_t)s->nfields + 1, sizeof *c->fields);
	if (!c->fields)
		return NULL;
	for (int i = 0; i < s->nfields; i++) {
		c->fields[i] = s->fields[i];
		if (!(c->fields[i].name = floe_arena_strdup(a, s->fields[i].name ? s->fields[i].name : "")))
			return NULL;
	}
	return c;
}

int eng_bind_series_columns(const floe_schema *s, const char *time, const char *const *keys,
                            int nkeys, const char *const *order, int norder, const char *what,
                            floe_arena *arena, int *time_col, int *key_cols, int **order_cols,
                            floe_error *err)
{
	if ((*time_col = eng_find_column(s, time, "time", err)) < 0)
		return err ? err->code : FLOE_ENOTFOUND;
	const floe_type *tt = &s->fields[*time_col].type;
	if (tt->id != FLOE_TYPE_TIMESTAMP && tt->id != FLOE_TYPE_TIMESTAMPTZ) {
		char tb[48];
		return floe_error_set(err, FLOE_EINVALID, "time column '%s' is %s: %s needs timestamp "
		                      "or timestamptz (cast it in an earlier step)", time,
		                      floe_type_format(tt, tb, sizeof tb), what);
	}
	for (int k = 0; k < nkeys; k++)
		if ((key_cols[k] = eng_find_column(s, keys[k], "key", err)) < 0)
			return err ? err->code : FLOE_ENOTFOUND;
	if (!(*order_cols = floe_arena_calloc(arena, (size_t)norder + 1, sizeof **order_cols)))
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	for (int k = 0; k < norder; k++)
		if (((*order_cols)[k] = eng_find_column(s, order[k], "order", err)) < 0)
			return err ? err->code : FLOE_ENOTFOUND;
	return 0;
}

int eng_find_column(const floe_schema *s, const char *name, const char *what, floe_error *err)
{
	int i = name ? floe_schema_find(s, name) : -1;
	if (i >= 0)
		return i;
	floe_buf b = FLOE_BUF_INIT;
	for (int f = 0; f < s->nfields; f++) {
		if (f)
			floe_buf_append(&b, ", ", 2);
		floe_buf_append(&b, s->fields[f].name, strlen(s->fields[f].name));
	}
	floe_buf_putc(&b, 0);
	floe_error_set(err, FLOE_ENOTFOUND, "%s column '%s' not found; the input has: %s", what,
	               name ? name : "(none)", b.data ? (const char *)b.data : "");
	floe_buf_free(&b);
	return -1;
}

static int set_field(floe_field *f, const char *name, const floe_type *t, bool required, int id)
{
	f->name = name;
	f->type = *t;
	f->required = required;
	f->field_id = id;
	return 0;
}

/* Does the bound-or-not expression e read column `name`? (The outputs
 * read their aggregates' placeholders.) */
static bool expr_reads(const floe_expr *e, const char *name)
{
	const char *names[64];
	int n = floe_expr_columns(e, names, 64);
	for (int i = 0; i < n && i < 64; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Another field of s[0..n) with f's name? */
static bool name_taken(const floe_field *fields, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return true;
	return false;
}

int floe_window_new(floe_window **out, const floe_window_spec *spec, const floe_schema *input,
                    floe_error *err)
{
	*out = NULL;
	int rc = 0;
	floe_window *w = calloc(1, sizeof *w);
	if (!w || !(w->arena = floe_arena_new(0))) {
		free(w);
		return oom(err);
	}
	floe_arena *a = w->arena;
	if (!(w->input = eng_schema_copy(input, a))) {
		rc = oom(err);
		goto done;
	}
	if (spec->nkeys < 0 || spec->nkeys > MAX_KEYS) {
		rc = floe_error_set(err, FLOE_EINVALID, "a window step takes 0 to %d keys, not %d",
		                    MAX_KEYS, spec->nkeys);
		goto done;
	}
	if (spec->size_us <= 0) {
		rc = floe_error_set(err, FLOE_EINVALID, "window size must be positive (e.g. 1m)");
		goto done;
	}
	w->size_us = spec->size_us;
	w->slide_us = spec->slide_us == 0 ? spec->size_us : spec->slide_us;
	if (w->slide_us < 0 || w->slide_us > w->size_us || w->size_us % w->slide_us != 0) {
		rc = floe_error_set(err, FLOE_EINVALID,
		                    "window slide %" PRId64 "us must divide the size %" PRId64
		                    "us (e.g. size 5m, slide 1m)",
		                    spec->slide_us, spec->size_us);
		goto done;
	}
	if (w->size_us / w->slide_us > 1000) {
		rc = floe_error_set(err, FLOE_EINVALID,
		                    "a window of %" PRId64 " slides puts every row in too many "
		                    "windows: use at most 1000 slides per window",
		                    w->size_us / w->slide_us);
		goto done;
	}
	w->nkeys = spec->nkeys;
	w->norder = spec->norder > 0 ? spec->norder : 0;
	if ((rc = eng_bind_series_columns(w->input, spec->time, spec->keys, spec->nkeys, spec->order,
	                                  w->norder, "a window", a, &w->time_col, w->key_cols,
	                                  &w->order_cols, err)))
		goto done;
	const floe_type *tt = &w->input->fields[w->time_col].type;
	if (spec->nout < 0 || (spec->nout > 0 && (!spec->names || !spec->exprs))) {
		rc = floe_error_set(err, FLOE_EINVALID, "window step: bad output list");
		goto done;
	}
	w->nout = spec->nout;
	if (!(w->outs = floe_arena_calloc(a, (size_t)w->nout + 1, sizeof *w->outs))) {
		rc = oom(err);
		goto done;
	}
	/* parse, split the aggregates out, bind their arguments to the input */
	for (int i = 0; i < w->nout; i++) {
		const char *name = spec->names[i] ? spec->names[i] : "";
		int before = w->naggs;
		if ((rc = floe_expr_parse(&w->outs[i], spec->exprs[i] ? spec->exprs[i] : "", a, err)) ||
		    (rc = floe_expr_split_aggregates(w->outs[i], &w->aggs, &w->naggs, a, err))) {
			floe_error_prefix(err, "output %s", name);
			goto done;
		}
		for (int g = before; g < w->naggs; g++) {
			floe_expr_agg *ag = &w->aggs[g];
			if (!ag->arg)
				continue;
			if ((rc = floe_expr_bind(ag->arg, w->input, FLOE_EXPR_SERIES, err))) {
				floe_error_prefix(err, "output %s", name);
				goto done;
			}
			floe_type t, at = floe_expr_type(ag->arg);
			if ((rc = eng_agg_type(&t, ag->fn, &at, err))) {
				floe_error_prefix(err, "output %s", name);
				goto done;
			}
		}
	}
	/* the columns a run gathers: keys, time, what the arguments read */
	if (!(w->needed = floe_arena_calloc(a, (size_t)w->input->nfields + 1, sizeof *w->needed))) {
		rc = oom(err);
		goto done;
	}
	w->needed[w->time_col] = true;
	for (int k = 0; k < w->nkeys; k++)
		w->needed[w->key_cols[k]] = true;
	if ((rc = eng_mark_columns(w->needed, w->input, w->aggs, w->naggs, NULL, 0, err)))
		goto done;
	/* the aggregate schema: keys, window_start, window_end, __agg0.. */
	int nbase = w->nkeys + 2;
	w->agg_schema.nfields = nbase + w->naggs;
	w->out_schema.nfields = nbase + w->nout;
	w->agg_schema.fields = floe_arena_calloc(a, (size_t)w->agg_schema.nfields + 1, sizeof(floe_field));
	w->out_schema.fields = floe_arena_calloc(a, (size_t)w->out_schema.nfields + 1, sizeof(floe_field));
	if (!w->agg_schema.fields || !w->out_schema.fields) {
		rc = oom(err);
		goto done;
	}
	for (int s = 0; s < 2; s++) {
		floe_field *f = s ? w->out_schema.fields : w->agg_schema.fields;
		for (int k = 0; k < w->nkeys; k++) {
			const floe_field *kf = &w->input->fields[w->key_cols[k]];
			if (name_taken(f, k, kf->name)) {
				rc = floe_error_set(err, FLOE_EINVALID, "key '%s' is named twice", kf->name);
				goto done;
			}
			set_field(&f[k], kf->name, &kf->type, kf->required, k + 1);
		}
		for (int e = 0; e < 2; e++) {
			const char *nm = e ? "window_end" : "window_start";
			if (name_taken(f, w->nkeys, nm)) {
				rc = floe_error_set(err, FLOE_EINVALID,
				                    "key '%s' clashes with the window's own column: rename "
				                    "it in an earlier step",
				                    nm);
				goto done;
			}
			set_field(&f[w->nkeys + e], nm, tt, true, w->nkeys + e + 1);
		}
	}
	for (int g = 0; g < w->naggs; g++) {
		floe_type t, at;
		memset(&at, 0, sizeof at);
		if (w->aggs[g].arg)
			at = floe_expr_type(w->aggs[g].arg);
		if ((rc = eng_agg_type(&t, w->aggs[g].fn, &at, err)))
			goto done;
		set_field(&w->agg_schema.fields[nbase + g], w->aggs[g].column, &t, false, nbase + g + 1);
	}
	for (int i = 0; i < w->nout; i++) {
		const char *name = spec->names[i] ? spec->names[i] : "";
		if (!*name || name_taken(w->out_schema.fields, nbase + i, name)) {
			rc = floe_error_set(err, FLOE_EINVALID,
			                    "output %s: %s; keys, window_start and window_end are in "
			                    "every row already",
			                    *name ? name : "''",
			                    *name ? "the name is taken" : "an output needs a name");
			goto done;
		}
		if ((rc = floe_expr_bind(w->outs[i], &w->agg_schema, 0, err))) {
			floe_error_prefix(err, "output %s", name);
			goto done;
		}
		floe_type t = floe_expr_type(w->outs[i]);
		set_field(&w->out_schema.fields[nbase + i], floe_arena_strdup(a, name), &t, false,
		          nbase + i + 1);
		if (!w->out_schema.fields[nbase + i].name) {
			rc = oom(err);
			goto done;
		}
	}
	/* for messages: the output each aggregate belongs to */
	if (!(w->agg_output = floe_arena_calloc(a, (size_t)w->naggs + 1, sizeof *w->agg_output))) {
		rc = oom(err);
		goto done;
	}
	for (int i = w->nout - 1; i >= 0; i--)
		for (int g = 0; g < w->naggs; g++)
			if (expr_reads(w->outs[i], w->aggs[g].column))
				w->agg_output[g] = spec->names[i] ? spec->names[i] : "";
	*out = w;
	w = NULL;
done:
	floe_window_free(w);
	return rc;
}

const floe_schema *floe_window_schema(const floe_window *w)
{
	return &w->out_schema;
}

void floe_window_free(floe_window *w)
{
	if (!w)
		return;
	floe_arena_free(w->arena);
	free(w);
}

int eng_mark_columns(bool *needed, const floe_schema *s, const floe_expr_agg *aggs, int naggs,
                     floe_expr *const *exprs, int nexprs, floe_error *err)
{
	const char **names = malloc(((size_t)s->nfields + 1) * sizeof *names);
	if (!names)
		return oom(err);
	for (int i = 0; i < naggs + nexprs; i++) {
		const floe_expr *e = i < naggs ? aggs[i].arg : exprs[i - naggs];
		if (!e)
			continue;
		int n = floe_expr_columns(e, names, s->nfields);
		for (int k = 0; k < n; k++) {
			int c = floe_schema_find(s, names[k]);
			if (c >= 0)
				needed[c] = true;
		}
	}
	free(names);
	return 0;
}

/* ---- running -------------------------------------------------------------------- */

/* Check that `in` is laid out as the schema the step was bound to. */
int eng_check_layout(const floe_batch *in, const floe_schema *s, floe_error *err)
{
	if (in->ncols != s->nfields)
		return floe_error_set(err, FLOE_EINVALID,
		                      "the batch has %d columns, the step was set up for %d: give it "
		                      "rows of the input schema",
		                      in->ncols, s->nfields);
	for (int c = 0; c < in->ncols; c++)
		if (!eng_type_same(&in->cols[c].type, &s->fields[c].type)) {
			char t1[48], t2[48];
			return floe_error_set(err, FLOE_EINVALID,
			                      "column %d ('%s') of the batch is %s, the step expects %s", c,
			                      s->fields[c].name,
			                      floe_type_format(&in->cols[c].type, t1, sizeof t1),
			                      floe_type_format(&s->fields[c].type, t2, sizeof t2));
		}
	return 0;
}

/* Every (row, window start) pair with the start in [from, to): malloc'ed
 * *rows, *starts. */
static int assign_windows(const floe_window *w, const floe_batch *in, int64_t from, int64_t to,
                          int32_t **rows_out, int64_t **starts_out, int64_t *npairs,
                          floe_error *err)
{
	const int64_t *t = in->cols[w->time_col].values;
	int64_t per = w->size_us / w->slide_us, n = in->nrows, cap;
	if (__builtin_mul_overflow(n, per, &cap) || cap > INT32_MAX)
		return floe_error_set(err, FLOE_EINVALID,
		                      "%lld rows in %lld windows each are too many (row, window) pairs: "
		                      "give the step fewer rows at once",
		                      (long long)n, (long long)per);
	int32_t *rows = malloc((size_t)(cap ? cap : 1) * sizeof *rows);
	int64_t *starts = malloc((size_t)(cap ? cap : 1) * sizeof *starts);
	if (!rows || !starts) {
		free(rows);
		free(starts);
		return oom(err);
	}
	int64_t m = 0;
	for (int64_t r = 0; r < n; r++) {
		int64_t last, end;
		if (__builtin_mul_overflow(floor_div(t[r], w->slide_us), w->slide_us, &last) ||
		    __builtin_add_overflow(last, w->size_us, &end)) {
			free(rows);
			free(starts);
			return floe_error_set(err, FLOE_EINVALID,
			                      "row %lld: time %" PRId64 "us is too far from 1970 for a "
			                      "window of %" PRId64 "us",
			                      (long long)r, t[r], w->size_us);
		}
		/* last, last - slide, ...: the `per` starts s with s <= t < s + size */
		for (int64_t j = 0; j < per; j++) {
			int64_t s;
			if (__builtin_sub_overflow(last, j * w->slide_us, &s))
				break;
			if (s < from || s >= to)
				continue;
			rows[m] = (int32_t)r;
			starts[m++] = s;
		}
	}
	*rows_out = rows;
	*starts_out = starts;
	*npairs = m;
	return 0;
}

/* "window [START, END) of k1=v1, k2=v2" for messages: the keys are columns
 * kcols[0..nkeys) of row `row` of b. */
static void describe_window(char *buf, size_t cap, const floe_window *w, const floe_batch *b,
                            const int *kcols, int64_t row, int64_t start)
{
	floe_buf t = FLOE_BUF_INIT;
	int64_t v[2] = { start, start + w->size_us };
	floe_column tc;
	memset(&tc, 0, sizeof tc);
	tc.type = w->input->fields[w->time_col].type;
	tc.values = v;
	floe_buf_append(&t, "window [", 8);
	floe_format_value(&t, &tc, 0, false);
	floe_buf_append(&t, ", ", 2);
	floe_format_value(&t, &tc, 1, false);
	floe_buf_append(&t, ")", 1);
	for (int k = 0; k < w->nkeys; k++) {
		const char *nm = w->input->fields[w->key_cols[k]].name;
		floe_buf_append(&t, k ? ", " : " of ", k ? 2 : 4);
		floe_buf_append(&t, nm, strlen(nm));
		floe_buf_putc(&t, '=');
		const floe_column *kc = &b->cols[kcols[k]];
		if (floe_column_is_valid(kc, row))
			floe_format_value(&t, kc, row, false);
		else
			floe_buf_append(&t, "NULL", 4);
	}
	snprintf(buf, cap, "%.*s", (int)t.len, t.data ? (const char *)t.data : "");
	floe_buf_free(&t);
}

int64_t eng_err_row(const floe_error *err, int64_t nrows, size_t *detail)
{
	if (!err || strncmp(err->msg, "row ", 4) != 0)
		return -1;
	char *end = NULL;
	long long r = strtoll(err->msg + 4, &end, 10);
	if (end == err->msg + 4 || strncmp(end, ": ", 2) != 0 || r < 0 || r >= nrows)
		return -1;
	*detail = (size_t)(end + 2 - err->msg);
	return r;
}

/* Rewrite an evaluation error of output `name` (and aggregate `agg`, when
 * it came from an aggregate's argument) to name the window, and the input
 * row instead of a row of the engine's own batches:
 * "window [..) of symbol=X: output vwap: sum(): row 17: DETAIL". */
static void locate_error(floe_error *err, const floe_window *w, const floe_batch *b,
                         const int *kcols, int64_t nrows, const int64_t *start,
                         const int32_t *input_row, const char *name, const char *agg)
{
	size_t detail = 0;
	int64_t r = eng_err_row(err, nrows, &detail);
	if (r < 0) {
		if (agg)
			floe_error_prefix(err, "output %s: %s()", name, agg);
		else
			floe_error_prefix(err, "output %s", name);
		return;
	}
	char where[FLOE_ERROR_MSG_MAX / 2], rest[FLOE_ERROR_MSG_MAX];
	describe_window(where, sizeof where, w, b, kcols, r, start[r]);
	snprintf(rest, sizeof rest, "%s", err->msg + detail);
	if (input_row)
		floe_error_set(err, err->code, "%s: output %s: %s(): row %lld: %s", where, name, agg,
		               (long long)input_row[r], rest);
	else
		floe_error_set(err, err->code, "%s: output %s: %s", where, name, rest);
}

int floe_window_run(floe_window *w, const floe_batch *in, int64_t from_us, int64_t to_us,
                    floe_batch *out, floe_arena *arena, floe_error *err)
{
	memset(out, 0, sizeof *out);
	int rc = 0;
	int32_t *rows = NULL, *perm = NULL, *grows = NULL, *first = NULL;
	int64_t *starts = NULL, *gstart = NULL, *group = NULL, *gs = NULL, npairs = 0, ng = 0;
	eng_sort_key *keys = NULL;
	floe_arena *tmp = NULL;
	void *absent = NULL;
	if ((rc = eng_check_layout(in, w->input, err)) ||
	    (rc = eng_check_time(&in->cols[w->time_col], in->nrows,
	                         w->input->fields[w->time_col].name, err)) ||
	    (rc = assign_windows(w, in, from_us, to_us, &rows, &starts, &npairs, err)))
		goto done;
	if (!(tmp = floe_arena_new(0))) {
		rc = oom(err);
		goto done;
	}
	/* sort the pairs by (window_start, keys, time, order...): the output
	 * comes in time order, newest windows last, as a table of bars is read */
	floe_type long_t;
	memset(&long_t, 0, sizeof long_t);
	long_t.id = FLOE_TYPE_LONG;
	floe_column start_col;
	if ((rc = eng_column_wrap(&start_col, &long_t, starts, NULL, npairs, tmp, err)))
		goto done;
	int nsk = w->nkeys + 2 + w->norder;
	size_t np = (size_t)(npairs ? npairs : 1);
	keys = calloc((size_t)nsk, sizeof *keys);
	perm = malloc(np * sizeof *perm);
	grows = malloc(np * sizeof *grows);
	gstart = malloc(np * sizeof *gstart);
	group = malloc(np * sizeof *group);
	gs = malloc((np + 1) * sizeof *gs);
	first = malloc(np * sizeof *first);
	if (!keys || !perm || !grows || !gstart || !group || !gs || !first) {
		rc = oom(err);
		goto done;
	}
	int k = 0;
	keys[k++] = (eng_sort_key){ &start_col, NULL };
	for (int i = 0; i < w->nkeys; i++)
		keys[k++] = (eng_sort_key){ &in->cols[w->key_cols[i]], rows };
	keys[k++] = (eng_sort_key){ &in->cols[w->time_col], rows };
	for (int i = 0; i < w->norder; i++)
		keys[k++] = (eng_sort_key){ &in->cols[w->order_cols[i]], rows };
	if ((rc = eng_sort(keys, nsk, npairs, perm, err)))
		goto done;
	for (int64_t i = 0; i < npairs; i++) {
		grows[i] = rows[perm[i]];
		gstart[i] = starts[perm[i]];
	}
	floe_batch g;
	if ((rc = eng_take_columns(&g, in, w->needed, grows, npairs, tmp, &absent, err)))
		goto done;
	g.schema = w->input;
	/* runs of equal (window_start, keys) */
	for (int64_t i = 0; i < npairs; i++) {
		bool fresh = i == 0 || gstart[i] != gstart[i - 1];
		for (int c = 0; c < w->nkeys && !fresh; c++) {
			const floe_column *kc = &g.cols[w->key_cols[c]];
			fresh = eng_value_cmp(kc, i - 1, kc, i) != 0;
		}
		if (fresh) {
			gs[ng] = i;
			first[ng++] = (int32_t)i;
		}
		group[i] = ng - 1;
	}
	gs[ng] = npairs;
	/* the aggregate batch */
	int nbase = w->nkeys + 2;
	floe_column *acols = floe_arena_calloc(arena, (size_t)w->agg_schema.nfields + 1, sizeof *acols);
	int64_t *ws = floe_arena_alloc(arena, (size_t)(ng ? ng : 1) * 8);
	int64_t *we = floe_arena_alloc(arena, (size_t)(ng ? ng : 1) * 8);
	if (!acols || !ws || !we) {
		rc = oom(err);
		goto done;
	}
	for (int c = 0; c < w->nkeys; c++)
		if ((rc = eng_column_take(&acols[c], &g.cols[w->key_cols[c]], first, ng, arena, err)))
			goto done;
	for (int64_t i = 0; i < ng; i++) {
		ws[i] = gstart[gs[i]];
		we[i] = ws[i] + w->size_us;
	}
	const floe_type *tt = &w->input->fields[w->time_col].type;
	eng_column_wrap(&acols[w->nkeys], tt, ws, NULL, ng, arena, err);
	eng_column_wrap(&acols[w->nkeys + 1], tt, we, NULL, ng, arena, err);
	floe_expr_series series = { group, (const int64_t *)g.cols[w->time_col].values };
	for (int a = 0; a < w->naggs; a++) {
		const floe_expr_agg *ag = &w->aggs[a];
		floe_column argc, *argp = NULL;
		if (ag->arg) {
			if (npairs == 0) {
				floe_type at = floe_expr_type(ag->arg);
				rc = eng_column_empty(&argc, &at, tmp, err);
			} else {
				rc = floe_expr_eval(ag->arg, &g, &series, &argc, tmp, err);
			}
			if (rc) {
				locate_error(err, w, &g, w->key_cols, npairs, gstart, grows,
				             w->agg_output[a], agg_name(ag->fn));
				goto done;
			}
			argp = &argc;
		}
		int64_t bad = -1;
		if ((rc = eng_agg_column(&acols[nbase + a], ag->fn, &w->agg_schema.fields[nbase + a].type,
		                         argp, gs, ng, &bad, arena, err))) {
			if (bad >= 0) {
				char where[FLOE_ERROR_MSG_MAX / 2];
				describe_window(where, sizeof where, w, &g, w->key_cols, gs[bad],
				                gstart[gs[bad]]);
				floe_error_prefix(err, "%s: output %s", where, w->agg_output[a]);
			}
			goto done;
		}
	}
	floe_batch ab = { ng, w->agg_schema.nfields, acols, &w->agg_schema };
	int base_cols[MAX_KEYS + 1];
	for (int c = 0; c < w->nkeys; c++)
		base_cols[c] = c;
	/* the outputs */
	floe_column *ocols = floe_arena_calloc(arena, (size_t)w->out_schema.nfields + 1, sizeof *ocols);
	if (!ocols) {
		rc = oom(err);
		goto done;
	}
	memcpy(ocols, acols, (size_t)nbase * sizeof *ocols);
	for (int i = 0; i < w->nout; i++) {
		floe_column *oc = &ocols[nbase + i];
		const char *name = w->out_schema.fields[nbase + i].name;
		if (ng == 0) {
			rc = eng_column_empty(oc, &w->out_schema.fields[nbase + i].type, arena, err);
		} else {
			rc = floe_expr_eval(w->outs[i], &ab, NULL, oc, arena, err);
		}
		if (rc) {
			locate_error(err, w, &ab, base_cols, ng, ws, NULL, name, NULL);
			goto done;
		}
	}
	out->nrows = ng;
	out->ncols = w->out_schema.nfields;
	out->cols = ocols;
	out->schema = &w->out_schema;
done:
	free(rows);
	free(starts);
	free(perm);
	free(grows);
	free(gstart);
	free(group);
	free(gs);
	free(first);
	free(keys);
	free(absent);
	floe_arena_free(tmp);
	return rc;
}
