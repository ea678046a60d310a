/* engine/rolling.c - rolling columns (floe/window.h): the rolling steps of
 * pipelines (returns over 1, 5, 15 minutes, rolling volatility per
 * symbol). A run sorts the rows by (keys, time, order...), evaluates every
 * output over all of them with each key's rows as one series (lag() and
 * rolling_*() look back within the key), and keeps the rows whose time is
 * in the range asked for, put in time order. The look-back a range needs
 * is the sum of the intervals the outputs' series calls use, read from
 * their text. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/window_int.h"
#include "floe/window.h"

#define MAX_KEYS 16

struct floe_rolling {
	floe_arena *arena;        /* the handle's parse, bindings and schemas */
	floe_schema *input;       /* copy of the input schema */
	int nkeys, norder, time_col;
	int key_cols[MAX_KEYS];
	int *order_cols;
	bool *needed;             /* input columns the run gathers */
	floe_expr **outs;         /* bound to `input` (series) */
	int nout;
	floe_schema out_schema;
	int64_t lookback_us;
};

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory in a rolling step: give it fewer rows at once");
}

/* ---- look-back from the outputs' text ------------------------------------------- */

/* p at a quote (' or "): the position after the quoted text, where a
 * doubled quote stands for one. */
static const char *skip_quoted(const char *p)
{
	char q = *p++;
	while (*p) {
		if (*p == q && p[1] == q)
			p += 2;
		else if (*p == q)
			return p + 1;
		else
			p++;
	}
	return p;
}

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* The microseconds of a series function's last argument [p, end) when it
 * is an interval constant: INTERVAL '5 minutes' or '5 minutes' (both
 * accepted by the binder); 0 for anything else (a row count). */
static int64_t interval_arg(const char *p, const char *end)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (end - p > 8 && strncasecmp(p, "interval", 8) == 0 && !is_word_char(p[8])) {
		p += 8;
		while (p < end && isspace((unsigned char)*p))
			p++;
	}
	if (p >= end || *p != '\'' || skip_quoted(p) != end)
		return 0;
	char lit[64];
	size_t n = 0;
	for (p++; p < end - 1; p += (*p == '\'') ? 2 : 1) {
		if (n + 1 >= sizeof lit)
			return 0;
		lit[n++] = *p;
	}
	lit[n] = 0;
	int64_t us = 0;
	return floe_expr_parse_interval(&us, lit, NULL) == 0 && us > 0 ? us : 0;
}

/* The sum of the interval arguments of the series calls (lag(x, d),
 * rolling_*(x, d)) in an expression's text, saturating. String literals
 * and quoted names are stepped over; a nested call (the lag inside a
 * rolling_stddev) adds its own interval, so the sum bounds how far back
 * the expression reads. Other intervals (ts - INTERVAL '1 day',
 * window_start(ts, INTERVAL '1 hour')) read no earlier row and add
 * nothing. */
static int64_t text_intervals(const char *s)
{
	int64_t total = 0;
	const char *p = s;
	while (*p) {
		if (*p == '\'' || *p == '"') {
			p = skip_quoted(p);
			continue;
		}
		if (!isalpha((unsigned char)*p) && *p != '_') {
			p++;
			continue;
		}
		const char *w = p;
		while (is_word_char(*p))
			p++;
		size_t wl = (size_t)(p - w);
		bool series = (wl == 3 && strncasecmp(w, "lag", 3) == 0) ||
		              (wl > 8 && strncasecmp(w, "rolling_", 8) == 0);
		const char *q = p;
		while (isspace((unsigned char)*q))
			q++;
		if (!series || *q != '(')
			continue;
		/* the call's last top-level argument, when there are two or more;
		 * scanning resumes after the name, so nested calls count too */
		const char *arg = NULL;
		int depth = 0;
		for (q++; *q; ) {
			if (*q == '\'' || *q == '"') {
				q = skip_quoted(q);
				continue;
			}
			if (*q == '(')
				depth++;
			else if (*q == ')' && depth-- == 0)
				break;
			else if (*q == ',' && depth == 0)
				arg = q + 1;
			q++;
		}
		if (arg && *q == ')') {
			int64_t us = interval_arg(arg, q);
			if (__builtin_add_overflow(total, us, &total))
				total = INT64_MAX;
		}
	}
	return total;
}

int floe_rolling_new(floe_rolling **out, const floe_rolling_spec *spec, const floe_schema *input,
                     floe_error *err)
{
	*out = NULL;
	int rc = 0;
	floe_rolling *r = calloc(1, sizeof *r);
	if (!r || !(r->arena = floe_arena_new(0))) {
		free(r);
		return oom(err);
	}
	floe_arena *a = r->arena;
	if (!(r->input = eng_schema_copy(input, a))) {
		rc = oom(err);
		goto done;
	}
	if (spec->nkeys < 0 || spec->nkeys > MAX_KEYS) {
		rc = floe_error_set(err, FLOE_EINVALID, "a rolling step takes 0 to %d keys, not %d",
		                    MAX_KEYS, spec->nkeys);
		goto done;
	}
	r->nkeys = spec->nkeys;
	r->norder = spec->norder > 0 ? spec->norder : 0;
	if ((rc = eng_bind_series_columns(r->input, spec->time, spec->keys, spec->nkeys, spec->order,
	                                  r->norder, "a rolling step", a, &r->time_col, r->key_cols,
	                                  &r->order_cols, err)))
		goto done;
	if (spec->nout < 0 || (spec->nout > 0 && (!spec->names || !spec->exprs))) {
		rc = floe_error_set(err, FLOE_EINVALID, "rolling step: bad output list");
		goto done;
	}
	r->nout = spec->nout;
	r->outs = floe_arena_calloc(a, (size_t)r->nout + 1, sizeof *r->outs);
	r->out_schema.nfields = r->nout;
	r->out_schema.fields = floe_arena_calloc(a, (size_t)r->nout + 1, sizeof(floe_field));
	if (!r->outs || !r->out_schema.fields) {
		rc = oom(err);
		goto done;
	}
	for (int i = 0; i < r->nout; i++) {
		const char *name = spec->names[i] ? spec->names[i] : "";
		floe_field *f = &r->out_schema.fields[i];
		for (int j = 0; j < i && *name; j++)
			if (strcmp(r->out_schema.fields[j].name, name) == 0) {
				rc = floe_error_set(err, FLOE_EINVALID, "output %s: the name is taken", name);
				goto done;
			}
		if (!*name) {
			rc = floe_error_set(err, FLOE_EINVALID, "output %d needs a name", i + 1);
			goto done;
		}
		if ((rc = floe_expr_parse(&r->outs[i], spec->exprs[i] ? spec->exprs[i] : "", a, err)) ||
		    (rc = floe_expr_bind(r->outs[i], r->input, FLOE_EXPR_SERIES, err))) {
			floe_error_prefix(err, "output %s", name);
			goto done;
		}
		f->name = floe_arena_strdup(a, name);
		f->type = floe_expr_type(r->outs[i]);
		f->required = false;
		f->field_id = i + 1;
		if (!f->name) {
			rc = oom(err);
			goto done;
		}
		int64_t lb = text_intervals(floe_expr_text(r->outs[i]));
		if (__builtin_add_overflow(r->lookback_us, lb, &r->lookback_us))
			r->lookback_us = INT64_MAX;
	}
	if (!(r->needed = floe_arena_calloc(a, (size_t)r->input->nfields + 1, sizeof *r->needed))) {
		rc = oom(err);
		goto done;
	}
	r->needed[r->time_col] = true;
	for (int k = 0; k < r->nkeys; k++)
		r->needed[r->key_cols[k]] = true;
	if ((rc = eng_mark_columns(r->needed, r->input, NULL, 0, r->outs, r->nout, err)))
		goto done;
	*out = r;
	r = NULL;
done:
	floe_rolling_free(r);
	return rc;
}

const floe_schema *floe_rolling_schema(const floe_rolling *r)
{
	return &r->out_schema;
}

int64_t floe_rolling_lookback_us(const floe_rolling *r)
{
	return r->lookback_us;
}

void floe_rolling_free(floe_rolling *r)
{
	if (!r)
		return;
	floe_arena_free(r->arena);
	free(r);
}

int floe_rolling_run(floe_rolling *r, const floe_batch *in, int64_t from_us, int64_t to_us,
                     floe_batch *out, floe_arena *arena, floe_error *err)
{
	memset(out, 0, sizeof *out);
	int rc = 0;
	int64_t n = in->nrows, nsel = 0;
	int32_t *perm = NULL, *sel = NULL;
	int64_t *group = NULL;
	eng_sort_key *keys = NULL;
	floe_arena *tmp = NULL;
	void *absent = NULL;
	if ((rc = eng_check_layout(in, r->input, err)) ||
	    (rc = eng_check_time(&in->cols[r->time_col], n, r->input->fields[r->time_col].name,
	                         err)))
		goto done;
	int nsk = r->nkeys + 1 + r->norder;
	size_t nz = (size_t)(n ? n : 1);
	keys = calloc((size_t)nsk, sizeof *keys);
	perm = malloc(nz * sizeof *perm);
	sel = malloc(nz * sizeof *sel);
	group = malloc(nz * sizeof *group);
	tmp = floe_arena_new(0);
	if (!keys || !perm || !sel || !group || !tmp) {
		rc = oom(err);
		goto done;
	}
	int k = 0;
	for (int i = 0; i < r->nkeys; i++)
		keys[k++] = (eng_sort_key){ &in->cols[r->key_cols[i]], NULL };
	keys[k++] = (eng_sort_key){ &in->cols[r->time_col], NULL };
	for (int i = 0; i < r->norder; i++)
		keys[k++] = (eng_sort_key){ &in->cols[r->order_cols[i]], NULL };
	if ((rc = eng_sort(keys, nsk, n, perm, err)))
		goto done;
	floe_batch g;
	if ((rc = eng_take_columns(&g, in, r->needed, perm, n, tmp, &absent, err)))
		goto done;
	g.schema = r->input;
	const int64_t *t = g.cols[r->time_col].values;
	int64_t ng = 0;
	for (int64_t i = 0; i < n; i++) {
		bool fresh = i == 0;
		for (int c = 0; c < r->nkeys && !fresh; c++) {
			const floe_column *kc = &g.cols[r->key_cols[c]];
			fresh = eng_value_cmp(kc, i - 1, kc, i) != 0;
		}
		ng += fresh;
		group[i] = ng - 1;
		if (t[i] >= from_us && t[i] < to_us)
			sel[nsel++] = (int32_t)i;
	}
	/* the rows out in time order, newest last as a table of features is
	 * appended: a stable sort of the selected rows by time keeps (keys,
	 * order...) among equal times */
	if (nsel > 1) {
		eng_sort_key tk = { &g.cols[r->time_col], sel };
		int32_t *by_time = floe_arena_alloc(tmp, (size_t)nsel * sizeof *by_time);
		if (!by_time) {
			rc = oom(err);
			goto done;
		}
		if ((rc = eng_sort(&tk, 1, nsel, by_time, err)))
			goto done;
		for (int64_t i = 0; i < nsel; i++)
			by_time[i] = sel[by_time[i]];
		memcpy(sel, by_time, (size_t)nsel * sizeof *sel);
	}
	floe_column *cols = floe_arena_calloc(arena, (size_t)r->nout + 1, sizeof *cols);
	if (!cols) {
		rc = oom(err);
		goto done;
	}
	/* evaluated into `tmp`, then the selected rows copied out: a result may
	 * share the buffers of g (a bare column reference), which dies with tmp */
	floe_expr_series series = { group, t };
	for (int i = 0; i < r->nout; i++) {
		floe_column full;
		if (n == 0)
			rc = eng_column_empty(&cols[i], &r->out_schema.fields[i].type, arena, err);
		else if ((rc = floe_expr_eval(r->outs[i], &g, &series, &full, tmp, err)) == 0)
			rc = eng_column_take(&cols[i], &full, sel, nsel, arena, err);
		if (rc) {
			/* name the caller's row, not the sorted copy's */
			size_t detail = 0;
			int64_t row = eng_err_row(err, n, &detail);
			if (row >= 0) {
				char rest[FLOE_ERROR_MSG_MAX];
				snprintf(rest, sizeof rest, "%s", err->msg + detail);
				floe_error_set(err, err->code, "row %lld: %s", (long long)perm[row], rest);
			}
			floe_error_prefix(err, "output %s", r->out_schema.fields[i].name);
			goto done;
		}
	}
	out->nrows = nsel;
	out->ncols = r->nout;
	out->cols = cols;
	out->schema = &r->out_schema;
done:
	free(keys);
	free(perm);
	free(sel);
	free(group);
	free(absent);
	floe_arena_free(tmp);
	return rc;
}
