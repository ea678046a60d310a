/* pipeline/step.c - one pipeline step run: read what is new in the
 * upstream table since the snapshot the step last consumed (kept in the
 * target's snapshot summary), transform it, and commit it with the new
 * position in one snapshot.
 *  - transform: the new appends are read incrementally and go through the
 *    ops (derive, select, filter, validate); rejects are committed to the
 *    quarantine table first (with the same position, so a restart skips
 *    them), then the rows are appended or, with dedup, merged by key with
 *    the ordering column picking the winner;
 *  - aggregate: the upstream changes name the windows they touch, plus the
 *    windows the advancing watermark makes final; those windows are
 *    recomputed from all of their upstream rows and upserted by key;
 *  - rolling: the changed rows' time span, widened by the outputs'
 *    look-back, is recomputed and upserted.
 * Recomputing from the upstream table (never from the batch alone) is what
 * makes a stream, a backfill and a restart after a crash give one answer. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "pipeline/pipeline_int.h"
#include "util/buf.h"
#include "util/format.h"
#include "util/text.h"

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

static int buf_str(floe_buf *b, const char *s)
{
	return floe_buf_append(b, s, strlen(s));
}

int64_t pl_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t pl_peak_rss(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return (int64_t)ru.ru_maxrss * 1024;
}

/* ---- freshness ---------------------------------------------------------------- */

int pl_fresh_init(pl_fresh *f)
{
	memset(f, 0, sizeof *f);
	f->rng = 0x9e3779b97f4a7c15ull;
	f->v = malloc(PL_FRESH_SAMPLES * sizeof *f->v);
	return f->v ? 0 : FLOE_ENOMEM;
}

void pl_fresh_add(pl_fresh *f, double ms)
{
	if (f->seen < PL_FRESH_SAMPLES) {
		f->v[f->seen++] = ms;
		return;
	}
	f->seen++;
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	uint64_t k = f->rng % (uint64_t)f->seen;
	if (k < PL_FRESH_SAMPLES)
		f->v[k] = ms;
}

void pl_fresh_free(pl_fresh *f)
{
	free(f->v);
	f->v = NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double pl_fresh_quantile(const pl_fresh *f, double p)
{
	int64_t n = f->seen < PL_FRESH_SAMPLES ? f->seen : PL_FRESH_SAMPLES;
	if (n == 0)
		return -1;
	double *c = malloc((size_t)n * sizeof *c);
	if (!c)
		return -1;
	memcpy(c, f->v, (size_t)n * sizeof *c);
	qsort(c, (size_t)n, sizeof *c, cmp_double);
	int64_t k = (int64_t)(p * (double)(n - 1) + 0.5);
	double v = c[k];
	free(c);
	return v;
}

/* ---- tables -------------------------------------------------------------------- */

int pl_table_ensure(floe_catalog *cat, const pl_table *t, floe_error *err)
{
	floe_table *tab;
	int rc = floe_table_open(&tab, cat, t->name, err);
	if (rc == 0) {
		floe_table_close(tab);
		return 0;
	}
	if (rc != FLOE_ENOTFOUND)
		return rc;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = t->schema;
	co.partition = t->partition;
	co.sort = t->sort;
	floe_buf ident = { 0 };
	for (int i = 0; i < t->nidentifier; i++)
		if ((i && buf_str(&ident, ", ")) || buf_str(&ident, t->identifier[i]))
			return oom(err);
	if (t->nidentifier && floe_buf_putc(&ident, 0))
		return oom(err);
	co.identifier = t->nidentifier ? (const char *)ident.data : NULL;
	char **props;
	if ((rc = pl_props_text(t->properties, t->nproperties, &props, err))) {
		floe_buf_free(&ident);
		return rc;
	}
	co.properties = (const char *const *)props;
	co.nproperties = t->nproperties;
	rc = floe_table_create(NULL, cat, t->name, &co, err);
	if (rc == FLOE_EEXISTS)
		rc = 0; /* another runner created it meanwhile */
	else if (rc)
		floe_error_prefix(err, "table %s", t->name);
	pl_props_free(props, t->nproperties);
	floe_buf_free(&ident);
	return rc;
}

int pl_props_text(const pl_kv *kv, int n, char ***out, floe_error *err)
{
	char **props = calloc((size_t)n + 1, sizeof *props);
	if (!props)
		return oom(err);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(kv[i].key) + strlen(kv[i].value) + 2;
		if (!(props[i] = malloc(len))) {
			pl_props_free(props, n);
			return oom(err);
		}
		snprintf(props[i], len, "%s=%s", kv[i].key, kv[i].value);
	}
	*out = props;
	return 0;
}

void pl_props_free(char **props, int n)
{
	for (int i = 0; props && i < n; i++)
		free(props[i]);
	free(props);
}

static const char quarantine_schema[] =
	"_raw string not null, _reason string not null, _step string not null, "
	"_source_snapshot long not null";

static int open_or_create(floe_table **out, floe_catalog *cat, const char *name,
                          const char *schema, floe_error *err)
{
	int rc = floe_table_open(out, cat, name, err);
	if (rc != FLOE_ENOTFOUND)
		return rc;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = schema;
	rc = floe_table_create(NULL, cat, name, &co, err);
	if (rc && rc != FLOE_EEXISTS)
		return rc;
	return floe_table_open(out, cat, name, err);
}

/* ---- positions ------------------------------------------------------------------ */

typedef struct snap_ent {
	int64_t id, seq, added;
	int64_t parent;            /* -1: none */
	const char *op;
} snap_ent;

/* The current snapshot's ancestry, oldest first (malloc'ed). */
static int ancestry(floe_table *t, snap_ent **out, int *n, floe_error *err)
{
	*out = NULL;
	*n = 0;
	const floe_snapshot_info *s;
	int ns;
	int rc = floe_table_snapshots(t, &s, &ns, err);
	if (rc)
		return rc;
	int cur = -1;
	for (int i = 0; i < ns; i++)
		if (s[i].is_current)
			cur = i;
	if (cur < 0)
		return 0;
	snap_ent *v = malloc((size_t)ns * sizeof *v);
	if (!v)
		return oom(err);
	int k = 0;
	while (cur >= 0 && k < ns) {
		v[k].id = s[cur].snapshot_id;
		v[k].seq = s[cur].sequence_number;
		v[k].op = s[cur].operation;
		v[k].parent = s[cur].has_parent ? s[cur].parent_id : -1;
		v[k].added = 0;
		const char *a = s[cur].summary_json ? strstr(s[cur].summary_json, "\"added-records\":\"") : NULL;
		if (a)
			v[k].added = strtoll(a + 17, NULL, 10);
		k++;
		int next = -1;
		for (int i = cur - 1; s[cur].has_parent && i >= -ns && next < 0; i--) {
			int j = i < 0 ? i + ns : i;
			if (s[j].snapshot_id == s[cur].parent_id)
				next = j;
		}
		cur = next;
	}
	for (int i = 0; i < k / 2; i++) {
		snap_ent x = v[i];
		v[i] = v[k - 1 - i];
		v[k - 1 - i] = x;
	}
	*out = v;
	*n = k;
	return 0;
}

/* The position a table holds for the step: upstream snapshot id and
 * sequence number (-1, -1 when none). */
static int read_pos(floe_table *t, const char *key, int64_t *id, int64_t *seq, floe_error *err)
{
	*id = *seq = -1;
	char *v;
	int rc = floe_table_find_summary(t, key, &v, NULL, err);
	if (rc || !v)
		return rc;
	json_error_t je;
	json_t *j = json_loads(v, 0, &je);
	json_t *a = json_object_get(j, "snapshot-id"), *b = json_object_get(j, "sequence-number");
	if (!json_is_integer(a) || !json_is_integer(b)) {
		json_decref(j);
		rc = floe_error_set(err, FLOE_ECORRUPT, "table %s: summary %s is not a step position: %s",
		                    floe_table_name(t), key, v);
		free(v);
		return rc;
	}
	*id = json_integer_value(a);
	*seq = json_integer_value(b);
	json_decref(j);
	free(v);
	return 0;
}

/* The index in anc of the first upstream snapshot after the step's
 * position (pos_id, pos_seq). The ancestry stops at the first parent that
 * is gone: when that parent is not the position itself, snapshots the
 * step had not read were expired, and the rows they added can no longer
 * be read incrementally. That is an error (the step would skip them in
 * silence) unless o->skip_expired accepts it. */
static int first_unread(const pl_step_rt *rt, const floe_run_options *o, const snap_ent *anc,
                        int nanc, int64_t pos_id, int64_t pos_seq, int *first, floe_error *err)
{
	int i = 0;
	while (i < nanc && anc[i].seq <= pos_seq)
		i++;
	*first = i;
	if (i > 0 || nanc == 0 || pos_id < 0 || anc[0].parent < 0 || anc[0].parent == pos_id ||
	    o->skip_expired)
		return 0;
	return floe_error_set(err, FLOE_EINVALID,
	                      "step %s: snapshots of %s after %" PRId64 " (sequence number %" PRId64
	                      "), the last the step read, were expired before it read them (the "
	                      "oldest left, %" PRId64 ", follows %" PRId64 "), so the rows they "
	                      "added would be skipped: recompute their event times with --rebuild "
	                      "%s --from T1 --to T2, then run once with --skip-expired to go on "
	                      "from the oldest snapshot left; when expiring %s, keep the snapshots "
	                      "its steps have not read",
	                      rt->s->name, rt->s->from, pos_id, pos_seq, anc[0].id, anc[0].parent,
	                      rt->s->to, rt->s->from);
}

static void format_pos(char *buf, size_t n, int64_t id, int64_t seq)
{
	snprintf(buf, n, "{\"snapshot-id\":%" PRId64 ",\"sequence-number\":%" PRId64 "}", id, seq);
}

static int read_i64_summary(floe_table *t, const char *key, int64_t *out, floe_error *err)
{
	char *v;
	int rc = floe_table_find_summary(t, key, &v, NULL, err);
	if (rc || !v)
		return rc;
	*out = strtoll(v, NULL, 10);
	free(v);
	return 0;
}

/* An event time as a filter literal: 'YYYY-MM-DDTHH:MM:SS.ffffffZ'. */
static void ts_literal(char *buf, size_t n, int64_t us)
{
	int64_t days = us / 86400000000LL, rem = us % 86400000000LL;
	if (rem < 0) {
		rem += 86400000000LL;
		days--;
	}
	int64_t y;
	unsigned mo, d;
	floe_civil_from_days(days, &y, &mo, &d);
	int64_t secs = rem / 1000000;
	snprintf(buf, n, "'%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%06dZ'", y, mo, d,
	         (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), (int)(rem % 1000000));
}

static void report(const floe_run_options *o, const char *event, const pl_step_rt *rt,
                   int64_t in, int64_t out, int64_t rejected, int64_t snap, int64_t wm,
                   double secs, const pl_fresh *batch_fresh)
{
	if (!o->status)
		return;
	floe_run_status st;
	memset(&st, 0, sizeof st);
	st.event = event;
	st.name = rt->s->name;
	st.table = rt->s->to;
	st.rows_in = in;
	st.rows_out = out;
	st.rejected = rejected;
	st.snapshot_id = snap;
	st.watermark_us = wm;
	st.seconds = secs;
	st.freshness_p50_ms = batch_fresh ? pl_fresh_quantile(batch_fresh, 0.5) : -1;
	st.freshness_p99_ms = batch_fresh ? pl_fresh_quantile(batch_fresh, 0.99) : -1;
	st.total_rows_out = rt->total_out;
	st.rss_bytes = pl_peak_rss();
	o->status(o->status_ctx, &st);
}

/* ---- compiling ------------------------------------------------------------------ */

static floe_schema *schema_new(floe_arena *a, int n)
{
	floe_schema *s = floe_arena_calloc(a, 1, sizeof *s);
	if (!s)
		return NULL;
	s->fields = floe_arena_calloc(a, (size_t)(n ? n : 1), sizeof *s->fields);
	if (!s->fields)
		return NULL;
	s->nfields = n;
	return s;
}

static int find_col(const floe_schema *s, const char *name)
{
	int i = floe_schema_find(s, name);
	if (i >= 0)
		return i;
	int hit = -1;
	for (int k = 0; k < s->nfields; k++)
		if (strcasecmp(s->fields[k].name, name) == 0) {
			if (hit >= 0)
				return -1;
			hit = k;
		}
	return hit;
}

static int step_err(floe_error *err, const pl_step *s, int line)
{
	return floe_error_prefix(err, "step %s (line %d)", s->name, line);
}

/* Compile the ops against `in`; fills rt->ops and rt->final_schema. With
 * `probe`, records the upstream columns the ops read into `used`. */
static int compile_ops(pl_step_rt *rt, const floe_schema *in, bool *used, floe_error *err)
{
	const pl_step *s = rt->s;
	floe_arena *a = rt->arena;
	rt->ops = floe_arena_calloc(a, (size_t)(s->nops ? s->nops : 1), sizeof *rt->ops);
	if (!rt->ops)
		return oom(err);
	rt->nops = s->nops;
	const floe_schema *cur = in;
	bool selected = false; /* upstream columns are no longer visible */
	int rc;
	for (int i = 0; i < s->nops; i++) {
		const pl_op *op = &s->ops[i];
		pl_cop *c = &rt->ops[i];
		c->op = op;
		c->in = (floe_schema *)cur;
		int n = op->kind == PL_OP_FILTER ? 1 : op->kind == PL_OP_VALIDATE ? op->nrules : op->ncols;
		c->exprs = floe_arena_calloc(a, (size_t)(n ? n : 1), sizeof *c->exprs);
		c->nexprs = n;
		if (!c->exprs)
			return oom(err);
		for (int k = 0; k < n; k++) {
			const char *text = op->kind == PL_OP_FILTER ? op->expr :
			                   op->kind == PL_OP_VALIDATE ? op->rules[k].rule : op->cols[k].value;
			int line = op->kind == PL_OP_VALIDATE ? op->rules[k].line :
			           op->kind == PL_OP_FILTER ? op->line : op->cols[k].line;
			if ((rc = floe_expr_parse(&c->exprs[k], text, a, err)) ||
			    (rc = floe_expr_bind(c->exprs[k], cur, 0, err)))
				return step_err(err, s, line), rc;
			if (op->kind != PL_OP_DERIVE && op->kind != PL_OP_SELECT) {
				floe_type t = floe_expr_type(c->exprs[k]);
				if (t.id != FLOE_TYPE_BOOLEAN) {
					rc = floe_error_set(err, FLOE_EINVALID, "'%s' is not a condition "
					                    "(it gives a %s, not a boolean)", text,
					                    floe_type_format(&t, (char[32]){ 0 }, 32));
					return step_err(err, s, line), rc;
				}
			}
			if (used && !selected) {
				const char *names[256];
				int m = floe_expr_columns(c->exprs[k], names, 256);
				for (int j = 0; j < m && j < 256; j++) {
					int x = find_col(in, names[j]);
					if (x >= 0 && find_col(cur, names[j]) >= 0 && cur == in)
						used[x] = true;
					else if (x >= 0)
						used[x] = true; /* a conservative superset */
				}
			}
		}
		if (op->kind == PL_OP_DERIVE) {
			/* each column sees the ones derived before it in this op */
			int extra = 0;
			for (int k = 0; k < op->ncols; k++)
				if (find_col(cur, op->cols[k].key) < 0)
					extra++;
			floe_schema *out = schema_new(a, cur->nfields + extra);
			c->target = floe_arena_calloc(a, (size_t)(op->ncols ? op->ncols : 1), sizeof *c->target);
			if (!out || !c->target)
				return oom(err);
			memcpy(out->fields, cur->fields, (size_t)cur->nfields * sizeof *out->fields);
			out->nfields = cur->nfields;
			for (int k = 0; k < op->ncols; k++) {
				/* re-bind against what exists so far in this op */
				if ((rc = floe_expr_bind(c->exprs[k], out, 0, err)))
					return step_err(err, s, op->cols[k].line), rc;
				int at = find_col(out, op->cols[k].key);
				if (at < 0)
					at = out->nfields++;
				out->fields[at].name = op->cols[k].key;
				out->fields[at].type = floe_expr_type(c->exprs[k]);
				out->fields[at].required = false;
				out->fields[at].field_id = -1;
				c->target[k] = at;
			}
			c->out = out;
			cur = out;
		} else if (op->kind == PL_OP_SELECT) {
			floe_schema *out = schema_new(a, op->ncols);
			if (!out)
				return oom(err);
			for (int k = 0; k < op->ncols; k++) {
				out->fields[k].name = op->cols[k].key;
				out->fields[k].type = floe_expr_type(c->exprs[k]);
				out->fields[k].field_id = -1;
			}
			c->out = out;
			cur = out;
			selected = true;
		}
	}
	rt->final_schema = (floe_schema *)cur;
	if (!selected && used)
		for (int i = 0; i < in->nfields; i++)
			used[i] = true;
	return 0;
}

/* The columns the target table takes must exist after the ops, with types
 * it accepts; checked here so a wrong pipeline fails before it reads. */
static int check_final(pl_step_rt *rt, floe_error *err)
{
	const floe_schema *ts = floe_table_schema(rt->dst);
	const floe_schema *fs = rt->final_schema;
	for (int i = 0; i < fs->nfields; i++)
		if (find_col(ts, fs->fields[i].name) < 0)
			return floe_error_set(err, FLOE_EINVALID, "step %s: column '%s' is not in table %s "
			                      "(select the columns it has, or add it to the table's schema)",
			                      rt->s->name, fs->fields[i].name, rt->s->to);
	rt->et_final = rt->s->event_time ? find_col(fs, rt->s->event_time) : -1;
	if (rt->s->event_time && rt->et_final < 0)
		return floe_error_set(err, FLOE_EINVALID, "step %s: event_time '%s' is not a column "
		                      "after the ops", rt->s->name, rt->s->event_time);
	if (rt->s->late_horizon_us > 0 && rt->et_final < 0)
		return floe_error_set(err, FLOE_EINVALID, "step %s: late_horizon needs event_time",
		                      rt->s->name);
	return 0;
}

/* Does a derive op of s write column `name`? */
static bool derives(const pl_step *s, const char *name)
{
	for (int i = 0; i < s->nops; i++)
		for (int k = 0; s->ops[i].kind == PL_OP_DERIVE && k < s->ops[i].ncols; k++)
			if (strcasecmp(s->ops[i].cols[k].key, name) == 0)
				return true;
	return false;
}

static int target_keys(pl_step_rt *rt, const pl_spec *spec, floe_error *err)
{
	const pl_table *t = pl_spec_table(spec, rt->s->to);
	floe_arena *a = rt->arena;
	if (t && t->nidentifier) {
		rt->merge_on = t->identifier;
		rt->nmerge_on = t->nidentifier;
		return 0;
	}
	if (rt->s->kind == PL_STEP_AGGREGATE) {
		rt->merge_on = floe_arena_calloc(a, (size_t)rt->s->nkeys + 1, sizeof *rt->merge_on);
		if (!rt->merge_on)
			return oom(err);
		for (int i = 0; i < rt->s->nkeys; i++)
			rt->merge_on[i] = rt->s->keys[i];
		rt->merge_on[rt->s->nkeys] = "window_start";
		rt->nmerge_on = rt->s->nkeys + 1;
		return 0;
	}
	return floe_error_set(err, FLOE_EINVALID, "step %s: table %s needs identifier fields (the "
	                      "key its rows are upserted by)", rt->s->name, rt->s->to);
}

int pl_step_prepare(pl_step_rt *rt, floe_catalog *cat, const pl_spec *spec, const pl_step *s,
                    floe_error *err)
{
	memset(rt, 0, sizeof *rt);
	rt->s = s;
	rt->et_final = -1;
	rt->arena = floe_arena_new(0);
	if (!rt->arena || pl_fresh_init(&rt->fresh))
		return oom(err);
	snprintf(rt->pos_key, sizeof rt->pos_key, "floe.pipeline.%s.position", s->name);
	snprintf(rt->ev_key, sizeof rt->ev_key, "floe.pipeline.%s.max-event-time", s->name);
	int rc = floe_table_open(&rt->src, cat, s->from, err);
	if (rc == FLOE_ENOTFOUND) {
		const pl_table *t = pl_spec_table(spec, s->from);
		if (t && (rc = pl_table_ensure(cat, t, err)) == 0)
			rc = floe_table_open(&rt->src, cat, s->from, err);
		else if (!t)
			return floe_error_set(err, FLOE_ENOTFOUND, "step %s reads %s, which does not exist "
			                      "yet (its source creates it on the first ingest: run once "
			                      "with the source, or create it)", s->name, s->from);
	}
	if (rc)
		return rc;
	const pl_table *dt = pl_spec_table(spec, s->to);
	if (dt && (rc = pl_table_ensure(cat, dt, err)))
		return rc;
	if ((rc = floe_table_open(&rt->dst, cat, s->to, err)))
		return rc;
	/* a copy: the table's own schema goes with its metadata on refresh */
	const floe_schema *ts = floe_table_schema(rt->src);
	floe_schema *up = schema_new(rt->arena, ts->nfields);
	if (!up)
		return oom(err);
	for (int i = 0; i < ts->nfields; i++) {
		up->fields[i] = ts->fields[i];
		if (!(up->fields[i].name = floe_arena_strdup(rt->arena, ts->fields[i].name)))
			return oom(err);
	}
	if (s->kind == PL_STEP_TRANSFORM) {
		bool *used = floe_arena_calloc(rt->arena, (size_t)up->nfields + 1, sizeof *used);
		if (!used)
			return oom(err);
		if ((rc = compile_ops(rt, up, used, err)))
			return rc;
		/* validate rejects keep the raw record when the upstream has one */
		bool validates = s->late_horizon_us > 0;
		for (int i = 0; i < s->nops; i++)
			validates |= s->ops[i].kind == PL_OP_VALIDATE;
		int raw = floe_schema_find(up, "_raw");
		if (validates && raw >= 0) {
			/* an `_raw` the ops do not read or replace is needed only by
			 * rejects: read it for them alone (read_rejected_raw) */
			if (!used[raw] && !derives(s, "_raw") && up->fields[raw].required &&
			    floe_type_is_variable(&up->fields[raw].type))
				rt->raw_col = up->fields[raw].name;
			else
				used[raw] = true;
		}
		int n = 0;
		for (int i = 0; i < up->nfields; i++)
			n += used[i];
		rt->scan_cols = floe_arena_calloc(rt->arena, (size_t)n + 1, sizeof *rt->scan_cols);
		rt->scan_schema = schema_new(rt->arena, n);
		if (!rt->scan_cols || !rt->scan_schema)
			return oom(err);
		n = 0;
		for (int i = 0; i < up->nfields; i++)
			if (used[i]) {
				rt->scan_cols[n] = up->fields[i].name;
				rt->scan_schema->fields[n++] = up->fields[i];
			}
		rt->nscan = n;
		if ((rc = compile_ops(rt, rt->scan_schema, NULL, err)) || (rc = check_final(rt, err)))
			return rc;
		char q[512];
		if (s->quarantine)
			snprintf(q, sizeof q, "%s", s->quarantine);
		else
			snprintf(q, sizeof q, "%s_rejected", s->to);
		if ((rc = open_or_create(&rt->quar, cat, q, quarantine_schema, err)))
			return rc;
		if (s->ndedup_key) {
			rt->merge_on = s->dedup_key;
			rt->nmerge_on = s->ndedup_key;
		}
		return 0;
	}
	const char **names = floe_arena_calloc(rt->arena, (size_t)s->noutputs + 1, sizeof *names);
	const char **exprs = floe_arena_calloc(rt->arena, (size_t)s->noutputs + 1, sizeof *exprs);
	if (!names || !exprs)
		return oom(err);
	for (int i = 0; i < s->noutputs; i++) {
		names[i] = s->outputs[i].key;
		exprs[i] = s->outputs[i].value;
	}
	if (s->kind == PL_STEP_AGGREGATE) {
		floe_window_spec ws;
		memset(&ws, 0, sizeof ws);
		ws.keys = s->keys;
		ws.nkeys = s->nkeys;
		ws.time = s->time;
		ws.size_us = s->size_us;
		ws.slide_us = s->slide_us;
		ws.order = s->order;
		ws.norder = s->norder;
		ws.names = names;
		ws.exprs = exprs;
		ws.nout = s->noutputs;
		if ((rc = floe_window_new(&rt->win, &ws, up, err)))
			return step_err(err, s, s->line), rc;
		rt->has_is_final = find_col(floe_table_schema(rt->dst), "is_final") >= 0;
	} else {
		floe_rolling_spec rs;
		memset(&rs, 0, sizeof rs);
		rs.keys = s->keys;
		rs.nkeys = s->nkeys;
		rs.time = s->time;
		rs.order = s->order;
		rs.norder = s->norder;
		rs.names = names;
		rs.exprs = exprs;
		rs.nout = s->noutputs;
		if ((rc = floe_rolling_new(&rt->roll, &rs, up, err)))
			return step_err(err, s, s->line), rc;
		rt->lookback_us = floe_rolling_lookback_us(rt->roll);
	}
	return target_keys(rt, spec, err);
}

void pl_step_release(pl_step_rt *rt)
{
	floe_window_free(rt->win);
	floe_rolling_free(rt->roll);
	floe_table_close(rt->src);
	floe_table_close(rt->dst);
	floe_table_close(rt->quar);
	pl_fresh_free(&rt->fresh);
	floe_arena_free(rt->arena);
	memset(rt, 0, sizeof *rt);
}

/* ---- writing ---------------------------------------------------------------------- */

/* Where a step's rows go: an append, or a merge by key. */
typedef struct sink {
	floe_append *app;
	floe_merge *mrg;
	int64_t rows;
} sink;

static int sink_begin(sink *k, pl_step_rt *rt, const char *precombine, floe_error *err)
{
	memset(k, 0, sizeof *k);
	if (!rt->nmerge_on)
		return floe_append_begin(&k->app, rt->dst, err);
	floe_merge_options mo;
	floe_merge_options_init(&mo);
	mo.on = rt->merge_on;
	mo.non = rt->nmerge_on;
	mo.precombine = precombine;
	/* dedup: the greatest order wins against the rows of earlier groups
	 * too, so the answer does not depend on where groups split */
	mo.precombine_table = precombine != NULL;
	return floe_merge_begin(&k->mrg, rt->dst, &mo, err);
}

static int sink_add(sink *k, const floe_batch *b, floe_error *err)
{
	if (b->nrows == 0)
		return 0;
	k->rows += b->nrows;
	return k->app ? floe_append_batch(k->app, b, err) : floe_merge_batch(k->mrg, b, err);
}

static int sink_summary(sink *k, const char *key, const char *value, floe_error *err)
{
	return k->app ? floe_append_set_summary(k->app, key, value, err) :
	                floe_merge_set_summary(k->mrg, key, value, err);
}

static int sink_commit(sink *k, int64_t *snap, floe_error *err)
{
	*snap = -1;
	if (k->app) {
		floe_append *a = k->app;
		k->app = NULL;
		return floe_append_commit(a, snap, err);
	}
	floe_merge *m = k->mrg;
	k->mrg = NULL;
	floe_merge_result r;
	int rc = floe_merge_commit(m, &r, err);
	if (rc == 0)
		*snap = r.snapshot_id;
	return rc;
}

static void sink_abort(sink *k)
{
	floe_append_abort(k->app);
	floe_merge_abort(k->mrg);
	k->app = NULL;
	k->mrg = NULL;
}

/* ---- transform ---------------------------------------------------------------------- */

typedef struct xbatch {
	floe_schema *schema;
	floe_column *cols;
	int64_t nrows;
	int64_t *ord;              /* with rt->raw_col, until a select: each
	                              row's ordinal in the group's scan */
} xbatch;

static floe_batch as_batch(const xbatch *x)
{
	floe_batch b = { x->nrows, x->schema->nfields, x->cols, x->schema };
	return b;
}

/* The `_raw` values of a group's rejects, in quarantine order, while
 * rt->raw_col leaves the column out of the scan: a row's ordinal in the
 * group's scan (filled by read_rejected_raw), or, with ord < 0, bytes
 * already made (a row rejected after a select, as JSON) at text[off..). */
typedef struct raw_pend {
	int64_t ord;
	size_t off, len;
} raw_pend;

typedef struct raw_pends {
	floe_buf ents;             /* raw_pend entries */
	int64_t nord;              /* entries with ord >= 0 */
	floe_buf text;
} raw_pends;

static int pend_add(raw_pends *p, int64_t ord, const floe_buf *bytes)
{
	raw_pend e = { ord, p->text.len, bytes ? bytes->len : 0 };
	if ((bytes && floe_buf_append(&p->text, bytes->data, bytes->len)) ||
	    floe_buf_append(&p->ents, &e, sizeof e))
		return FLOE_ENOMEM;
	p->nord += ord >= 0;
	return 0;
}

static void pend_free(raw_pends *p)
{
	floe_buf_free(&p->ents);
	floe_buf_free(&p->text);
	memset(p, 0, sizeof *p);
}

static int take_rows(xbatch *x, const uint8_t *keep, floe_arena *a, floe_error *err)
{
	int32_t *idx = floe_arena_alloc(a, (size_t)(x->nrows ? x->nrows : 1) * sizeof *idx);
	if (!idx)
		return oom(err);
	int64_t n = 0;
	for (int64_t r = 0; r < x->nrows; r++)
		if (keep[r])
			idx[n++] = (int32_t)r;
	if (n == x->nrows)
		return 0;
	floe_batch in = as_batch(x), out;
	int rc = floe_batch_take(&in, idx, n, &out, a, err);
	if (rc)
		return rc;
	x->cols = out.cols;
	x->nrows = n;
	for (int64_t k = 0; x->ord && k < n; k++)
		x->ord[k] = x->ord[idx[k]];
	return 0;
}

/* Rejected rows of x (keep[r] == 0, reason why[r]) into the quarantine
 * builder. With `pend` (rt->raw_col) their `_raw` column is filled later,
 * from pend, by read_rejected_raw. */
static int quarantine_rows(floe_batch_builder *q, const xbatch *x, const uint8_t *keep,
                           const char *const *why, const char *step, int64_t snap,
                           raw_pends *pend, floe_error *err)
{
	int raw = floe_schema_find(x->schema, "_raw");
	floe_buf row = { 0 };
	int rc = 0;
	for (int64_t r = 0; r < x->nrows && !rc; r++) {
		if (keep[r])
			continue;
		row.len = 0;
		if (x->ord) {
			/* the scan left `_raw` out: a second scan reads it */
		} else if (raw >= 0 && floe_column_is_valid(&x->cols[raw], r) &&
		    floe_type_is_variable(&x->cols[raw].type)) {
			const floe_column *c = &x->cols[raw];
			if (floe_buf_append(&row, c->data + c->offsets[r],
			                    (size_t)(c->offsets[r + 1] - c->offsets[r])))
				rc = oom(err);
		} else {
			/* the row as JSON */
			rc = floe_buf_putc(&row, '{');
			for (int i = 0; i < x->schema->nfields && !rc; i++) {
				if (i)
					rc = floe_buf_putc(&row, ',');
				if (!rc)
					rc = floe_buf_putc(&row, '"');
				if (!rc)
					rc = buf_str(&row, x->schema->fields[i].name);
				if (!rc)
					rc = buf_str(&row, "\":");
				if (!rc)
					rc = floe_format_value(&row, &x->cols[i], r, true);
			}
			if (!rc)
				rc = floe_buf_putc(&row, '}');
			if (rc)
				rc = oom(err);
		}
		if (rc)
			break;
		if (pend && pend_add(pend, x->ord ? x->ord[r] : -1, x->ord ? NULL : &row)) {
			rc = oom(err);
			break;
		}
		if ((!pend && (rc = floe_batch_builder_bytes(q, 0, row.data, (int64_t)row.len, err))) ||
		    (rc = floe_batch_builder_bytes(q, 1, why[r], (int64_t)strlen(why[r]), err)) ||
		    (rc = floe_batch_builder_bytes(q, 2, step, (int64_t)strlen(step), err)) ||
		    (rc = floe_batch_builder_i64(q, 3, snap, err)))
			break;
	}
	floe_buf_free(&row);
	return rc;
}

/* Fill the quarantine's `_raw` column from `pend`: the rows with an
 * ordinal are read by a scan like the group's (`so`) of that column alone,
 * which returns the group's `rows` rows in the same order. */
static int read_rejected_raw(pl_step_rt *rt, const floe_scan_options *so, int64_t rows,
                             const raw_pends *pend, floe_batch_builder *q, floe_error *err)
{
	floe_scan_options ro = *so;
	ro.columns = &rt->raw_col;
	ro.ncolumns = 1;
	floe_scan *scan = NULL;
	const floe_batch *b = NULL;
	int64_t base = 0, nb = 0; /* ordinals of b: [base, base + nb) */
	int rc = pend->nord ? floe_scan_open(&scan, rt->src, &ro, err) : 0;
	const raw_pend *ents = (const raw_pend *)pend->ents.data;
	for (size_t i = 0; i < pend->ents.len / sizeof *ents && rc == 0; i++) {
		const raw_pend *e = &ents[i];
		if (e->ord < 0) {
			rc = floe_batch_builder_bytes(q, 0, pend->text.data + e->off, (int64_t)e->len, err);
			continue;
		}
		while (rc == 0 && e->ord >= base + nb) {
			base += nb;
			nb = 0;
			if ((rc = floe_scan_next(scan, &b, err)) == 0)
				rc = floe_error_set(err, FLOE_ECORRUPT, "step %s: %s of %s has fewer rows "
				                    "than the group's scan", rt->s->name, rt->raw_col,
				                    rt->s->from);
			else if (rc == 1)
				rc = 0, nb = b->nrows;
		}
		if (rc)
			break;
		const floe_column *c = &b->cols[0];
		int64_t r = e->ord - base;
		if (b->ncols != 1 || !floe_type_is_variable(&c->type) || !floe_column_is_valid(c, r))
			rc = floe_error_set(err, FLOE_ECORRUPT, "step %s: %s of %s is not the raw "
			                    "record at row %" PRId64, rt->s->name, rt->raw_col, rt->s->from,
			                    e->ord);
		else
			rc = floe_batch_builder_bytes(q, 0, c->data + c->offsets[r],
			                              c->offsets[r + 1] - c->offsets[r], err);
	}
	/* the two scans must agree on the group's rows */
	while (rc == 0 && scan && (rc = floe_scan_next(scan, &b, err)) == 1)
		base += nb, nb = b->nrows, rc = 0;
	if (rc == 0 && scan && base + nb != rows)
		rc = floe_error_set(err, FLOE_ECORRUPT, "step %s: %s of %s has %" PRId64 " rows, "
		                    "the group's scan %" PRId64, rt->s->name, rt->raw_col, rt->s->from,
		                    base + nb, rows);
	floe_scan_free(scan);
	return rc;
}

typedef struct tx_state {
	pl_step_rt *rt;
	floe_batch_builder *q;     /* rejects */
	bool skip_rejects;         /* the quarantine already holds them */
	int64_t snap;              /* upstream snapshot the rows came from */
	int64_t max_ev;            /* max event time so far (INT64_MIN none) */
	int64_t horizon_base;      /* watermark for the late horizon */
	int64_t rejected;
	int64_t seen;              /* rows of the scan before this batch */
	raw_pends *pend;           /* with rt->raw_col */
	sink *out;
	bool ranged;               /* a rebuild: keep event times in [lo, hi) */
	int64_t lo, hi;
} tx_state;

static int transform_batch(tx_state *st, const floe_batch *in, floe_arena *a, floe_error *err)
{
	pl_step_rt *rt = st->rt;
	xbatch x = { rt->scan_schema, in->cols, in->nrows, NULL };
	if (in->ncols != rt->nscan)
		return floe_error_set(err, FLOE_EINVALID, "step %s: the upstream scan returned %d "
		                      "columns, expected %d", rt->s->name, in->ncols, rt->nscan);
	if (st->pend) {
		if (!(x.ord = floe_arena_alloc(a, (size_t)(x.nrows ? x.nrows : 1) * sizeof *x.ord)))
			return oom(err);
		for (int64_t r = 0; r < x.nrows; r++)
			x.ord[r] = st->seen + r;
	}
	st->seen += in->nrows;
	int rc;
	for (int i = 0; i < rt->nops && x.nrows > 0; i++) {
		pl_cop *c = &rt->ops[i];
		const pl_op *op = c->op;
		if (op->kind == PL_OP_DERIVE) {
			floe_column *cols = floe_arena_calloc(a, (size_t)c->out->nfields, sizeof *cols);
			if (!cols)
				return oom(err);
			memcpy(cols, x.cols, (size_t)x.schema->nfields * sizeof *cols);
			xbatch y = { c->out, cols, x.nrows, x.ord };
			for (int k = 0; k < c->nexprs; k++) {
				floe_batch b = as_batch(&y);
				floe_column out;
				if ((rc = floe_expr_eval(c->exprs[k], &b, NULL, &out, a, err)))
					return floe_error_prefix(err, "step %s, derive %s", rt->s->name,
					                         op->cols[k].key), rc;
				cols[c->target[k]] = out;
			}
			x = y;
		} else if (op->kind == PL_OP_SELECT) {
			floe_column *cols = floe_arena_calloc(a, (size_t)c->out->nfields + 1, sizeof *cols);
			if (!cols)
				return oom(err);
			floe_batch b = as_batch(&x);
			for (int k = 0; k < c->nexprs; k++)
				if ((rc = floe_expr_eval(c->exprs[k], &b, NULL, &cols[k], a, err)))
					return floe_error_prefix(err, "step %s, select %s", rt->s->name,
					                         op->cols[k].key), rc;
			x.schema = c->out;
			x.cols = cols;
			x.ord = NULL; /* `_raw` is gone: rejects from here on are JSON */
		} else {
			uint8_t *keep = floe_arena_alloc(a, (size_t)x.nrows);
			uint8_t *pass = floe_arena_alloc(a, (size_t)x.nrows);
			const char **why = floe_arena_calloc(a, (size_t)x.nrows, sizeof *why);
			if (!keep || !pass || !why)
				return oom(err);
			memset(keep, 1, (size_t)x.nrows);
			floe_batch b = as_batch(&x);
			bool any = false;
			for (int k = 0; k < c->nexprs; k++) {
				if ((rc = floe_expr_eval_filter(c->exprs[k], &b, NULL, pass, a, err)))
					return floe_error_prefix(err, "step %s", rt->s->name), rc;
				for (int64_t r = 0; r < x.nrows; r++)
					if (keep[r] && !pass[r]) {
						keep[r] = 0;
						why[r] = op->kind == PL_OP_VALIDATE ? op->rules[k].reason : NULL;
						any = true;
					}
			}
			if (!any)
				continue;
			if (op->kind == PL_OP_VALIDATE) {
				int64_t n = 0;
				for (int64_t r = 0; r < x.nrows; r++)
					n += !keep[r];
				st->rejected += n;
				if (!st->skip_rejects &&
				    (rc = quarantine_rows(st->q, &x, keep, why, rt->s->name, st->snap, st->pend,
				                         err)))
					return rc;
			}
			if ((rc = take_rows(&x, keep, a, err)))
				return rc;
		}
	}
	if (x.nrows == 0)
		return 0;
	if (st->ranged) {
		const floe_column *et = &x.cols[rt->et_final];
		const int64_t *v = et->values;
		uint8_t *keep = floe_arena_alloc(a, (size_t)x.nrows);
		if (!keep)
			return oom(err);
		for (int64_t r = 0; r < x.nrows; r++)
			keep[r] = floe_column_is_valid(et, r) && v[r] >= st->lo && v[r] < st->hi;
		if ((rc = take_rows(&x, keep, a, err)))
			return rc;
		if (x.nrows == 0)
			return 0;
	}
	if (rt->et_final >= 0 && !st->ranged) {
		const floe_column *et = &x.cols[rt->et_final];
		const int64_t *v = et->values;
		uint8_t *keep = NULL;
		const char **why = NULL;
		char reason[128];
		int64_t limit = st->horizon_base == INT64_MIN || rt->s->late_horizon_us <= 0 ?
		                INT64_MIN : st->horizon_base - rt->s->late_horizon_us;
		if (limit != INT64_MIN) {
			keep = floe_arena_alloc(a, (size_t)x.nrows);
			why = floe_arena_calloc(a, (size_t)x.nrows, sizeof *why);
			if (!keep || !why)
				return oom(err);
			memset(keep, 1, (size_t)x.nrows);
			snprintf(reason, sizeof reason, "late event: more than %" PRId64 " s behind the "
			         "step's watermark", rt->s->late_horizon_us / 1000000);
		}
		bool any = false;
		for (int64_t r = 0; r < x.nrows; r++) {
			if (!floe_column_is_valid(et, r))
				continue;
			if (keep && v[r] < limit) {
				keep[r] = 0;
				why[r] = reason;
				any = true;
				continue;
			}
			if (v[r] > st->max_ev)
				st->max_ev = v[r];
		}
		if (any) {
			int64_t n = 0;
			for (int64_t r = 0; r < x.nrows; r++)
				n += !keep[r];
			st->rejected += n;
			if (!st->skip_rejects &&
			    (rc = quarantine_rows(st->q, &x, keep, why, rt->s->name, st->snap, st->pend,
			                         err)))
				return rc;
			if ((rc = take_rows(&x, keep, a, err)))
				return rc;
		}
	}
	floe_batch b = as_batch(&x);
	return sink_add(st->out, &b, err);
}

/* Split the new snapshots into groups: runs of appends up to max_rows;
 * snapshots that add nothing (replace, a compaction) end a run. */
typedef struct group {
	int first, last;           /* indexes into the ancestry */
	int64_t from;              /* snapshot before first (-1 none) */
} group;

static int run_transform(pl_step_rt *rt, const floe_run_options *o, bool all, bool *did,
                         floe_run_result *res, floe_error *err)
{
	const pl_step *s = rt->s;
	int rc;
	if ((rc = floe_table_refresh(rt->src, err)) || (rc = floe_table_refresh(rt->dst, err)) ||
	    (rc = floe_table_refresh(rt->quar, err)))
		return rc;
	int64_t pos_id, pos_seq, q_id, q_seq;
	if ((rc = read_pos(rt->dst, rt->pos_key, &pos_id, &pos_seq, err)) ||
	    (rc = read_pos(rt->quar, rt->pos_key, &q_id, &q_seq, err)))
		return rc;
	int64_t max_ev = INT64_MIN;
	if ((rc = read_i64_summary(rt->dst, rt->ev_key, &max_ev, err)))
		return rc;
	snap_ent *anc;
	int nanc, i;
	if ((rc = ancestry(rt->src, &anc, &nanc, err)))
		return rc;
	if ((rc = first_unread(rt, o, anc, nanc, pos_id, pos_seq, &i, err))) {
		free(anc);
		return rc;
	}
	int64_t max_rows = o->max_batch_rows > 0 ? o->max_batch_rows : PL_MAX_BATCH_ROWS;
	while (i < nanc) {
		/* skip snapshots that add no rows */
		if (strcmp(anc[i].op, "append") != 0) {
			if (strcmp(anc[i].op, "replace") == 0) {
				i++;
				continue;
			}
			rc = floe_error_set(err, FLOE_EINVALID, "step %s: upstream %s snapshot %" PRId64
			                    " is a%s %s; transform steps read appends only (rebuild "
			                    "the affected range with --rebuild %s)", s->name, s->from,
			                    anc[i].id, anc[i].op[0] == 'o' ? "n" : "", anc[i].op, s->to);
			break;
		}
		group g = { i, i, i > 0 ? anc[i - 1].id : -1 };
		int64_t rows = anc[i].added;
		while (g.last + 1 < nanc && strcmp(anc[g.last + 1].op, "append") == 0 &&
		       rows + anc[g.last + 1].added <= max_rows) {
			g.last++;
			rows += anc[g.last].added;
		}
		i = g.last + 1;
		int64_t t0 = pl_wall_us();
		floe_arena *a = floe_arena_new(1 << 20);
		floe_batch_builder *q = NULL;
		floe_scan *scan = NULL;
		floe_append *qa = NULL;
		sink out;
		memset(&out, 0, sizeof out);
		if (!a) {
			rc = oom(err);
			break;
		}
		raw_pends pend;
		memset(&pend, 0, sizeof pend);
		tx_state st = { rt, NULL, q_seq >= anc[g.last].seq, anc[g.last].id, max_ev, max_ev, 0,
		                0, NULL, &out, false, 0, 0 };
		if (rt->raw_col && !st.skip_rejects)
			st.pend = &pend;
		floe_arena *qarena = floe_arena_new(0);
		floe_schema *qs = NULL;
		if (!qarena || (rc = floe_schema_parse(&qs, quarantine_schema, qarena, err)) ||
		    (rc = floe_batch_builder_new(&q, qs, err)))
			goto group_out;
		st.q = q;
		if ((rc = sink_begin(&out, rt, s->dedup_order, err)))
			goto group_out;
		floe_scan_options so;
		floe_scan_options_init(&so);
		so.columns = rt->scan_cols;
		so.ncolumns = rt->nscan;
		so.incremental = true;
		so.from_snapshot_id = g.from;
		so.snapshot.kind = FLOE_SNAPSHOT_ID;
		so.snapshot.snapshot_id = anc[g.last].id;
		if ((rc = floe_scan_open(&scan, rt->src, &so, err)))
			goto group_out;
		int64_t in_rows = 0;
		const floe_batch *b;
		while ((rc = floe_scan_next(scan, &b, err)) == 1) {
			in_rows += b->nrows;
			floe_arena_reset(a);
			if ((rc = transform_batch(&st, b, a, err)))
				break;
		}
		if (rc < 0)
			goto group_out;
		rc = 0;
		if (st.pend && (rc = read_rejected_raw(rt, &so, in_rows, st.pend, q, err)))
			goto group_out;
		char pos[128], ev[32];
		format_pos(pos, sizeof pos, anc[g.last].id, anc[g.last].seq);
		/* rejects first: a crash after this commit re-reads the group and
		 * skips them */
		int64_t qsnap = -1;
		if (floe_batch_builder_rows(q) > 0) {
			if ((rc = floe_append_begin(&qa, rt->quar, err)) ||
			    (rc = floe_append_batch(qa, floe_batch_builder_view(q), err)) ||
			    (rc = floe_append_set_summary(qa, rt->pos_key, pos, err)))
				goto group_out;
			floe_append *x = qa;
			qa = NULL;
			if ((rc = floe_append_commit(x, &qsnap, err)))
				goto group_out;
			q_seq = anc[g.last].seq;
		}
		snprintf(ev, sizeof ev, "%" PRId64, st.max_ev);
		if ((rc = sink_summary(&out, rt->pos_key, pos, err)) ||
		    (st.max_ev != INT64_MIN && (rc = sink_summary(&out, rt->ev_key, ev, err))))
			goto group_out;
		int64_t wrote = out.rows, snap;
		if ((rc = sink_commit(&out, &snap, err)))
			goto group_out;
		max_ev = st.max_ev;
		rt->total_out += wrote;
		if (res) {
			res->rows_out += wrote;
			res->rejected += st.skip_rejects ? 0 : st.rejected;
			res->step_runs++;
		}
		*did = true;
		report(o, "step", rt, in_rows, wrote, st.skip_rejects ? 0 : st.rejected, snap,
		       INT64_MIN, (double)(pl_wall_us() - t0) / 1e6, NULL);
group_out:
		floe_scan_free(scan);
		floe_append_abort(qa);
		sink_abort(&out);
		floe_batch_builder_free(q);
		floe_arena_free(qarena);
		floe_arena_free(a);
		pend_free(&pend);
		if (rc)
			break;
		if (!all)
			break;
	}
	free(anc);
	if (rc)
		floe_error_prefix(err, "step %s", s->name);
	return rc;
}

/* ---- aggregate and rolling ---------------------------------------------------------- */

typedef struct range {
	int64_t lo, hi;            /* inclusive */
} range;

typedef struct ranges {
	range *v;
	size_t n, cap;
} ranges;

static int ranges_add(ranges *r, int64_t lo, int64_t hi)
{
	if (r->n && r->v[r->n - 1].lo == lo && r->v[r->n - 1].hi == hi)
		return 0;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		range *v = realloc(r->v, cap * sizeof *v);
		if (!v)
			return FLOE_ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n].lo = lo;
	r->v[r->n].hi = hi;
	r->n++;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge ranges closer than `gap`. */
static void ranges_merge(ranges *r, int64_t gap)
{
	if (r->n < 2)
		return;
	qsort(r->v, r->n, sizeof *r->v, cmp_range);
	size_t k = 0;
	for (size_t i = 1; i < r->n; i++) {
		if (r->v[i].lo <= r->v[k].hi + gap) {
			if (r->v[i].hi > r->v[k].hi)
				r->v[k].hi = r->v[i].hi;
		} else {
			r->v[++k] = r->v[i];
		}
	}
	r->n = k + 1;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Read the upstream rows with time in [lo, hi) at the snapshot `snap` into
 * one batch in `a`. The scan's batches are copied into a scratch arena,
 * then concatenated into `a` and the scratch freed: the rows stay in memory
 * once while the window runs over them, not twice. */
static int read_range(pl_step_rt *rt, int64_t snap, int64_t lo, int64_t hi, floe_batch *out,
                      floe_arena *a, floe_error *err)
{
	char l[64], h[64], where[512];
	ts_literal(l, sizeof l, lo);
	ts_literal(h, sizeof h, hi);
	snprintf(where, sizeof where, "%s >= %s AND %s < %s", rt->s->time, l, rt->s->time, h);
	floe_scan_options so;
	floe_scan_options_init(&so);
	so.where = where;
	so.snapshot.kind = FLOE_SNAPSHOT_ID;
	so.snapshot.snapshot_id = snap;
	floe_scan *scan;
	floe_arena *tmp = floe_arena_new(1 << 20);
	if (!tmp)
		return oom(err);
	int rc = floe_scan_open(&scan, rt->src, &so, err);
	if (rc) {
		floe_arena_free(tmp);
		return rc;
	}
	const floe_batch **parts = NULL;
	floe_batch *copies = NULL;
	int n = 0, cap = 0;
	const floe_batch *b;
	while ((rc = floe_scan_next(scan, &b, err)) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			const floe_batch **p = realloc(parts, (size_t)cap * sizeof *p);
			floe_batch *c = realloc(copies, (size_t)cap * sizeof *c);
			if (p)
				parts = p;
			if (c)
				copies = c;
			if (!p || !c) {
				rc = oom(err);
				break;
			}
		}
		/* the scan's batch lives until the next call: copy it */
		const floe_batch *one[1] = { b };
		if ((rc = floe_batch_concat(one, 1, &copies[n], tmp, err)))
			break;
		n++;
	}
	if (rc == 0) {
		for (int i = 0; i < n; i++)
			parts[i] = &copies[i];
		if (n == 0) {
			memset(out, 0, sizeof *out);
			out->schema = floe_scan_schema(scan);
			out->ncols = out->schema->nfields;
			out->cols = floe_arena_calloc(a, (size_t)out->ncols + 1, sizeof *out->cols);
			for (int i = 0; out->cols && i < out->ncols; i++) {
				out->cols[i].type = out->schema->fields[i].type;
				out->cols[i].offsets = floe_arena_calloc(a, 1, sizeof(int64_t));
			}
			if (!out->cols)
				rc = oom(err);
		} else {
			rc = floe_batch_concat(parts, n, out, a, err);
		}
	}
	out->schema = NULL; /* the scan's, freed with it; the columns follow
	                       the upstream table's schema */
	floe_scan_free(scan);
	floe_arena_free(tmp);
	free(parts);
	free(copies);
	return rc < 0 ? rc : 0;
}

/* Append an is_final column (window_end <= watermark). */
static int add_is_final(floe_batch *b, int64_t wm, floe_arena *a, floe_error *err)
{
	int we = floe_schema_find(b->schema, "window_end");
	if (we < 0)
		return floe_error_set(err, FLOE_EINVALID, "no window_end column");
	floe_schema *s = schema_new(a, b->ncols + 1);
	floe_column *cols = floe_arena_calloc(a, (size_t)b->ncols + 1, sizeof *cols);
	uint8_t *v = floe_arena_alloc(a, (size_t)(b->nrows ? b->nrows : 1));
	if (!s || !cols || !v)
		return oom(err);
	memcpy(s->fields, b->schema->fields, (size_t)b->ncols * sizeof *s->fields);
	memcpy(cols, b->cols, (size_t)b->ncols * sizeof *cols);
	s->fields[b->ncols].name = "is_final";
	s->fields[b->ncols].type.id = FLOE_TYPE_BOOLEAN;
	s->fields[b->ncols].required = true;
	s->fields[b->ncols].field_id = -1;
	const int64_t *end = b->cols[we].values;
	for (int64_t r = 0; r < b->nrows; r++)
		v[r] = wm != INT64_MIN && end[r] <= wm;
	cols[b->ncols].type.id = FLOE_TYPE_BOOLEAN;
	cols[b->ncols].values = v;
	b->schema = s;
	b->cols = cols;
	b->ncols++;
	return 0;
}

static int run_windowed(pl_step_rt *rt, const floe_run_options *o, bool all, bool *did,
                        floe_run_result *res, floe_error *err)
{
	const pl_step *s = rt->s;
	int rc;
	if ((rc = floe_table_refresh(rt->src, err)) || (rc = floe_table_refresh(rt->dst, err)))
		return rc;
	int64_t pos_id, pos_seq, max_ev = INT64_MIN;
	if ((rc = read_pos(rt->dst, rt->pos_key, &pos_id, &pos_seq, err)) ||
	    (rc = read_i64_summary(rt->dst, rt->ev_key, &max_ev, err)))
		return rc;
	snap_ent *anc;
	int nanc, i;
	if ((rc = ancestry(rt->src, &anc, &nanc, err)))
		return rc;
	if ((rc = first_unread(rt, o, anc, nanc, pos_id, pos_seq, &i, err))) {
		free(anc);
		return rc;
	}
	int64_t max_rows = o->max_batch_rows > 0 ? o->max_batch_rows : PL_MAX_BATCH_ROWS;
	bool agg = s->kind == PL_STEP_AGGREGATE;
	int64_t size = agg ? s->size_us : 0, slide = agg ? (s->slide_us > 0 ? s->slide_us : s->size_us) : 0;
	const floe_schema *up = floe_table_schema(rt->src);
	int tcol = find_col(up, s->time);
	if (tcol < 0) {
		free(anc);
		return floe_error_set(err, FLOE_EINVALID, "step %s: no column %s in %s", s->name,
		                      s->time, s->from);
	}
	while (i < nanc) {
		int first = i, last = i;
		int64_t rows = anc[i].added;
		while (last + 1 < nanc && rows + anc[last + 1].added <= max_rows) {
			last++;
			rows += anc[last].added;
		}
		i = last + 1;
		int64_t from = first > 0 ? anc[first - 1].id : -1, to = anc[last].id;
		int64_t t0 = pl_wall_us();
		floe_arena *a = floe_arena_new(1 << 20);
		floe_changes *ch = NULL;
		ranges rg = { 0 };
		pl_fresh bf;
		sink out;
		memset(&out, 0, sizeof out);
		memset(&bf, 0, sizeof bf);
		if (!a || pl_fresh_init(&bf)) {
			floe_arena_free(a);
			rc = oom(err);
			break;
		}
		/* what changed upstream, and when */
		/* of the changed rows, only their times are needed */
		const char *tname[1] = { s->time };
		if ((rc = floe_changes_open(&ch, rt->src, from, to, err)) ||
		    (rc = floe_changes_project(ch, tname, 1, err)))
			goto out;
		const floe_schema *cs = floe_changes_schema(ch);
		int ct = find_col(cs, s->time), cty = floe_schema_find(cs, "_change_type");
		int64_t in_rows = 0, new_max = max_ev, now = pl_wall_us();
		const floe_batch *b;
		while ((rc = floe_changes_next(ch, &b, err)) == 1) {
			in_rows += b->nrows;
			const floe_column *tc = &b->cols[ct], *ty = &b->cols[cty];
			const int64_t *tv = tc->values;
			int64_t prev = INT64_MIN;
			for (int64_t r = 0; r < b->nrows; r++) {
				if (!floe_column_is_valid(tc, r))
					continue;
				int64_t t = tv[r];
				const char *k = (const char *)ty->data + ty->offsets[r];
				bool ins = k[0] == 'i' || (k[0] == 'u' && k[7] == 'a');
				if (ins) {
					if (t > new_max)
						new_max = t;
					if (agg) { /* a rolling step's times are not event times */
						pl_fresh_add(&bf, (double)(now - t) / 1000.0);
						pl_fresh_add(&rt->fresh, (double)(now - t) / 1000.0);
					}
				}
				if (agg) {
					int64_t ws = floor_div(t, slide) * slide;
					if (ws == prev)
						continue;
					prev = ws;
					int64_t lo = ws - (size - slide);
					if ((rc = ranges_add(&rg, lo, ws)))
						break;
				} else {
					if ((rc = ranges_add(&rg, t, t + rt->lookback_us)))
						break;
				}
			}
			if (rc) {
				rc = oom(err);
				break;
			}
		}
		if (rc < 0)
			goto out;
		rc = 0;
		int64_t wm_old = max_ev == INT64_MIN ? INT64_MIN : max_ev - s->lateness_us;
		int64_t wm_new = new_max == INT64_MIN ? INT64_MIN : new_max - s->lateness_us;
		if (agg && wm_old != INT64_MIN && wm_new > wm_old) {
			/* windows whose end passes the watermark now become final */
			int64_t lo = floor_div(wm_old - size, slide) * slide + slide;
			int64_t hi = floor_div(wm_new - size, slide) * slide;
			if (lo <= hi && (rc = ranges_add(&rg, lo, hi))) {
				rc = oom(err);
				goto out;
			}
		}
		ranges_merge(&rg, agg ? size : rt->lookback_us);
		if ((rc = sink_begin(&out, rt, NULL, err)))
			goto out;
		for (size_t k = 0; k < rg.n; k++) {
			floe_arena_reset(a);
			floe_batch in, res_b;
			int64_t lo = rg.v[k].lo, hi = rg.v[k].hi;
			if (agg) {
				if ((rc = read_range(rt, to, lo, hi + size, &in, a, err)) ||
				    (rc = floe_window_run(rt->win, &in, lo, hi + 1, &res_b, a, err)))
					goto out;
				if (rt->has_is_final && (rc = add_is_final(&res_b, wm_new, a, err)))
					goto out;
			} else {
				if ((rc = read_range(rt, to, lo - rt->lookback_us, hi + 1, &in, a, err)) ||
				    (rc = floe_rolling_run(rt->roll, &in, lo, hi + 1, &res_b, a, err)))
					goto out;
			}
			if ((rc = sink_add(&out, &res_b, err)))
				goto out;
		}
		char pos[128], ev[32];
		format_pos(pos, sizeof pos, anc[last].id, anc[last].seq);
		snprintf(ev, sizeof ev, "%" PRId64, new_max);
		if ((rc = sink_summary(&out, rt->pos_key, pos, err)) ||
		    (new_max != INT64_MIN && (rc = sink_summary(&out, rt->ev_key, ev, err))))
			goto out;
		int64_t wrote = out.rows, snap = -1;
		if (wrote > 0) {
			if ((rc = sink_commit(&out, &snap, err)))
				goto out;
			max_ev = new_max;
		} else {
			sink_abort(&out);
		}
		rt->total_out += wrote;
		if (res) {
			res->rows_out += wrote;
			res->step_runs += wrote > 0;
		}
		*did |= wrote > 0;
		report(o, "step", rt, in_rows, wrote, 0, snap, wm_new,
		       (double)(pl_wall_us() - t0) / 1e6, &bf);
out:
		floe_changes_free(ch);
		sink_abort(&out);
		pl_fresh_free(&bf);
		free(rg.v);
		floe_arena_free(a);
		if (rc || !all)
			break;
	}
	free(anc);
	if (rc)
		floe_error_prefix(err, "step %s", s->name);
	return rc;
}

int pl_step_run(pl_step_rt *rt, const floe_run_options *o, bool all, bool *did,
                floe_run_result *res, floe_error *err)
{
	*did = false;
	if (rt->s->kind == PL_STEP_TRANSFORM)
		return run_transform(rt, o, all, did, res, err);
	return run_windowed(rt, o, all, did, res, err);
}

int pl_step_read_upto(pl_step_rt *rt, int64_t *seq, floe_error *err)
{
	int64_t id;
	*seq = -1;
	int rc = floe_table_refresh(rt->dst, err);
	return rc ? rc : read_pos(rt->dst, rt->pos_key, &id, seq, err);
}

/* ---- rebuild ------------------------------------------------------------------------ */

int pl_step_rebuild(pl_step_rt *rt, const floe_run_options *o, int64_t from_us, int64_t to_us,
                    floe_run_result *res, floe_error *err)
{
	const pl_step *s = rt->s;
	int rc;
	if ((rc = floe_table_refresh(rt->src, err)) || (rc = floe_table_refresh(rt->dst, err)))
		return rc;
	if (from_us >= to_us)
		return floe_error_set(err, FLOE_EINVALID, "--from must be before --to");
	snap_ent *anc;
	int nanc;
	if ((rc = ancestry(rt->src, &anc, &nanc, err)))
		return rc;
	if (nanc == 0) {
		free(anc);
		return 0;
	}
	int64_t snap = anc[nanc - 1].id;
	free(anc);
	int64_t max_ev = INT64_MIN;
	if ((rc = read_i64_summary(rt->dst, rt->ev_key, &max_ev, err)))
		return rc;
	int64_t t0 = pl_wall_us();
	floe_arena *a = floe_arena_new(1 << 20);
	if (!a)
		return oom(err);
	sink out;
	int64_t wrote = 0, csnap = -1;
	if (s->kind == PL_STEP_TRANSFORM) {
		if (!rt->nmerge_on) {
			floe_arena_free(a);
			return floe_error_set(err, FLOE_EINVALID, "step %s appends without dedup: "
			                      "rebuilding it would add its rows again (give it a dedup "
			                      "key)", s->name);
		}
		if (rt->et_final < 0) {
			floe_arena_free(a);
			return floe_error_set(err, FLOE_EINVALID, "step %s: a rebuild needs the step's "
			                      "event_time", s->name);
		}
		/* every upstream row, through the ops; rows outside the range are
		 * dropped by a filter on the event time after them */
		if ((rc = sink_begin(&out, rt, s->dedup_order, err))) {
			floe_arena_free(a);
			return rc;
		}
		floe_scan_options so;
		floe_scan_options_init(&so);
		so.columns = rt->scan_cols;
		so.ncolumns = rt->nscan;
		so.snapshot.kind = FLOE_SNAPSHOT_ID;
		so.snapshot.snapshot_id = snap;
		floe_scan *scan = NULL;
		floe_batch_builder *q = NULL;
		floe_arena *qa = floe_arena_new(0);
		floe_schema *qs = NULL;
		tx_state st = { rt, NULL, true, snap, INT64_MIN, INT64_MIN, 0, 0, NULL, &out, true,
		                from_us, to_us };
		if (!qa || (rc = floe_schema_parse(&qs, quarantine_schema, qa, err)) ||
		    (rc = floe_batch_builder_new(&q, qs, err)) ||
		    (rc = floe_scan_open(&scan, rt->src, &so, err)))
			goto tx_out;
		st.q = q;
		const floe_batch *b;
		while ((rc = floe_scan_next(scan, &b, err)) == 1) {
			floe_arena_reset(a);
			if ((rc = transform_batch(&st, b, a, err)))
				break;
		}
		if (rc > 0)
			rc = 0;
tx_out:
		floe_scan_free(scan);
		floe_batch_builder_free(q);
		floe_arena_free(qa);
		if (rc) {
			sink_abort(&out);
			floe_arena_free(a);
			return rc;
		}
	} else {
		bool agg = s->kind == PL_STEP_AGGREGATE;
		int64_t size = s->size_us, slide = s->slide_us > 0 ? s->slide_us : s->size_us;
		if ((rc = sink_begin(&out, rt, NULL, err))) {
			floe_arena_free(a);
			return rc;
		}
		floe_batch in, rb;
		if (agg) {
			int64_t lo = floor_div(from_us, slide) * slide;
			int64_t hi = floor_div(to_us - 1, slide) * slide;
			rc = read_range(rt, snap, lo, hi + size, &in, a, err);
			if (!rc)
				rc = floe_window_run(rt->win, &in, lo, hi + 1, &rb, a, err);
			if (!rc && rt->has_is_final)
				rc = add_is_final(&rb, max_ev == INT64_MIN ? INT64_MIN :
				                  max_ev - s->lateness_us, a, err);
		} else {
			rc = read_range(rt, snap, from_us - rt->lookback_us, to_us, &in, a, err);
			if (!rc)
				rc = floe_rolling_run(rt->roll, &in, from_us, to_us, &rb, a, err);
		}
		if (!rc)
			rc = sink_add(&out, &rb, err);
		if (rc) {
			sink_abort(&out);
			floe_arena_free(a);
			return rc;
		}
	}
	wrote = out.rows;
	if (wrote > 0)
		rc = sink_commit(&out, &csnap, err);
	else
		sink_abort(&out);
	floe_arena_free(a);
	if (rc)
		return rc;
	rt->total_out += wrote;
	if (res) {
		res->rows_out += wrote;
		res->step_runs += wrote > 0;
	}
	report(o, "step", rt, 0, wrote, 0, csnap, INT64_MIN, (double)(pl_wall_us() - t0) / 1e6, NULL);
	return 0;
}
