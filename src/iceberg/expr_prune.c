/* iceberg/expr_prune.c - inclusive pruning with a bound filter (spec "Scan
 * Planning"): data file column metrics, projection through partition
 * transforms, partition tuples, manifest partition summaries, and Parquet
 * skipping predicates. Every test here answers "might a row match?": only
 * a proof that none can gives false. */
#include <math.h>
#include <string.h>

#include "iceberg/expr.h"
#include "iceberg/transform.h"

static bool is_fp(const floe_type *t)
{
	return t->id == FLOE_TYPE_FLOAT || t->id == FLOE_TYPE_DOUBLE;
}

/* Bounds are decoded lazily; DECIMAL P > 18 needs an arena. */
typedef struct bctx {
	floe_arena *arena;
} bctx;

/* Decode a bound; false when absent or undecodable (then it proves
 * nothing). Zero float bounds are widened to cover both signed zeros, as
 * writers disagree on which zero a bound of zeros is. */
static bool decode_bound(floe_value *out, bctx *c, const floe_type *t, const uint8_t *p,
                         size_t n, bool is_lower)
{
	if (!p)
		return false;
	if (t->id == FLOE_TYPE_DECIMAL && t->precision > 18 && !c->arena) {
		c->arena = floe_arena_new(1024);
		if (!c->arena)
			return false;
	}
	if (ice_value_deserialize(out, t, p, n, c->arena, NULL) != 0)
		return false;
	if (is_fp(t)) {
		if (isnan(out->d))
			return false; /* bounds never hold NaN; a writer that did proves nothing */
		if (out->d == 0)
			out->d = is_lower ? -0.0 : 0.0;
	}
	return true;
}

/* ---- data file metrics (spec "Scan Planning", column metrics) ---------- */

static bool file_pred(const ice_expr *e, const ice_data_file *f, bctx *c)
{
	const ice_column_metrics *m = ice_data_file_metrics(f, e->field_id);
	if (!m)
		return true;
	const floe_type *t = &e->type;
	bool fp = is_fp(t);
	bool all_null = m->value_count >= 0 && m->null_count >= 0 &&
	                m->null_count == m->value_count;
	bool all_nan = fp && m->value_count >= 0 && m->nan_count >= 0 &&
	               m->nan_count == m->value_count;
	/* NaN sorts above every number (value.h), yet bounds leave NaN out:
	 * NaN rows may satisfy >, >= and != whatever the upper bound says. */
	bool may_have_nan = fp && m->nan_count != 0;
	floe_value lo, hi;
	bool has_lo, has_hi;
	switch (e->op) {
	case ICE_E_IS_NULL:
		return m->null_count != 0;
	case ICE_E_NOT_NULL:
		return !all_null;
	case ICE_E_IS_NAN:
		if (all_null)
			return false;
		return !fp ? false : m->nan_count != 0;
	case ICE_E_NOT_NAN:
		return !all_null && !all_nan;
	case ICE_E_NE:
	case ICE_E_NOT_IN:
		/* bounds prove nothing (truncated, signed zeros): only all NULL */
		return !all_null;
	case ICE_E_EQ: case ICE_E_LT: case ICE_E_LE: case ICE_E_GT: case ICE_E_GE:
	case ICE_E_IN:
		break;
	default:
		return true;
	}
	if (all_null)
		return false;
	if (e->nvalues < 1 || !e->values)
		return true;
	if (all_nan)
		return e->op == ICE_E_GT || e->op == ICE_E_GE;
	has_lo = decode_bound(&lo, c, t, m->lower, m->lower_len, true);
	has_hi = decode_bound(&hi, c, t, m->upper, m->upper_len, false);
	const floe_value *v = &e->values[0].v;
	/* A truncated lower bound is still <= every value and a truncated upper
	 * bound still >= every value, so these tests stay inclusive. */
	switch (e->op) {
	case ICE_E_LT:
		return !has_lo || ice_value_compare(t, &lo, v) < 0;
	case ICE_E_LE:
		return !has_lo || ice_value_compare(t, &lo, v) <= 0;
	case ICE_E_GT:
		return may_have_nan || !has_hi || ice_value_compare(t, &hi, v) > 0;
	case ICE_E_GE:
		return may_have_nan || !has_hi || ice_value_compare(t, &hi, v) >= 0;
	case ICE_E_EQ:
		if (has_lo && ice_value_compare(t, &lo, v) > 0)
			return false;
		if (has_hi && ice_value_compare(t, &hi, v) < 0)
			return false;
		return true;
	case ICE_E_IN:
		for (int k = 0; k < e->nvalues; k++) {
			const floe_value *x = &e->values[k].v;
			if (has_lo && ice_value_compare(t, &lo, x) > 0)
				continue;
			if (has_hi && ice_value_compare(t, &hi, x) < 0)
				continue;
			return true;
		}
		return false;
	default:
		return true;
	}
}

static bool file_rec(const ice_expr *e, const ice_data_file *f, bctx *c, int depth)
{
	if (depth > 10000)
		return true;
	switch (e->op) {
	case ICE_E_TRUE:
		return true;
	case ICE_E_FALSE:
		return false;
	case ICE_E_AND:
		return file_rec(e->left, f, c, depth + 1) && file_rec(e->right, f, c, depth + 1);
	case ICE_E_OR:
		return file_rec(e->left, f, c, depth + 1) || file_rec(e->right, f, c, depth + 1);
	case ICE_E_NOT:
		return true; /* unbound: nothing is proven */
	default:
		return file_pred(e, f, c);
	}
}

bool ice_expr_might_match_file(const ice_expr *e, const ice_data_file *f)
{
	if (!e)
		return true;
	if (f->record_count == 0)
		return false;
	bctx c = { NULL };
	bool r = file_rec(e, f, &c, 0);
	floe_arena_free(c.arena);
	return r;
}

/* ---- inclusive projection (spec "Scan Planning") ------------------------ */

static ice_expr *node(floe_arena *arena, ice_expr_op op)
{
	ice_expr *e = floe_arena_calloc(arena, 1, sizeof *e);
	if (e) {
		e->op = op;
		e->field_id = -1;
	}
	return e;
}

static int to_parquet_op(ice_expr_op op)
{
	switch (op) {
	case ICE_E_EQ: return FLOE_PARQUET_EQ;
	case ICE_E_LT: return FLOE_PARQUET_LT;
	case ICE_E_LE: return FLOE_PARQUET_LE;
	case ICE_E_GT: return FLOE_PARQUET_GT;
	case ICE_E_GE: return FLOE_PARQUET_GE;
	default: return 0;
	}
}

static ice_expr_op from_parquet_op(int op)
{
	switch (op) {
	case FLOE_PARQUET_EQ: return ICE_E_EQ;
	case FLOE_PARQUET_LT: return ICE_E_LT;
	case FLOE_PARQUET_LE: return ICE_E_LE;
	case FLOE_PARQUET_GT: return ICE_E_GT;
	case FLOE_PARQUET_GE: return ICE_E_GE;
	default: return ICE_E_TRUE;
	}
}

/* Projection of one predicate onto one partition field; *out = NULL when
 * nothing can be said (TRUE). */
static int project_pred(ice_expr **out, const ice_expr *e, const ice_partition_field *pf,
                        floe_arena *arena, floe_error *err)
{
	const ice_transform *t = &pf->transform;
	floe_type rt;
	int rc;
	*out = NULL;
	if (t->kind == ICE_T_VOID || t->kind == ICE_T_UNKNOWN)
		return 0; /* void partitions hold NULL whatever the source */
	if (ice_transform_result_type(t, &e->type, &rt, NULL) != 0)
		return 0;
	ice_expr *p = node(arena, e->op);
	if (!p)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	p->column = pf->name;
	p->field_id = pf->field_id;
	p->type = rt;
	switch (e->op) {
	case ICE_E_IS_NULL:
	case ICE_E_NOT_NULL:
		/* every transform but void maps NULL, and only NULL, to NULL */
		*out = p;
		return 0;
	case ICE_E_IS_NAN:
	case ICE_E_NOT_NAN:
	case ICE_E_NE:
	case ICE_E_NOT_IN:
		/* only identity keeps enough to prune these */
		if (t->kind != ICE_T_IDENTITY)
			return 0;
		p->nvalues = e->nvalues;
		p->values = e->values;
		*out = p;
		return 0;
	case ICE_E_EQ: case ICE_E_LT: case ICE_E_LE: case ICE_E_GT: case ICE_E_GE: {
		if (e->nvalues < 1 || !e->values)
			return 0;
		int oop = 0;
		ice_datum ov;
		memset(&ov, 0, sizeof ov);
		rc = ice_transform_project(t, &e->type, to_parquet_op(e->op), &e->values[0], &oop,
		                           &ov, NULL);
		if (rc != 1 || from_parquet_op(oop) == ICE_E_TRUE)
			return 0;
		p->op = from_parquet_op(oop);
		p->nvalues = 1;
		p->values = floe_arena_calloc(arena, 1, sizeof *p->values);
		if (!p->values || ice_datum_copy(&p->values[0], &ov, arena) != 0)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		*out = p;
		return 0;
	}
	case ICE_E_IN: {
		if (e->nvalues < 1 || !e->values)
			return 0;
		p->values = floe_arena_calloc(arena, (size_t)e->nvalues, sizeof *p->values);
		if (!p->values)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		for (int k = 0; k < e->nvalues; k++) {
			int oop = 0;
			ice_datum ov;
			memset(&ov, 0, sizeof ov);
			rc = ice_transform_project(t, &e->type, FLOE_PARQUET_EQ, &e->values[k], &oop,
			                           &ov, NULL);
			if (rc != 1 || oop != FLOE_PARQUET_EQ)
				return 0;
			if (ice_datum_copy(&p->values[p->nvalues], &ov, arena) != 0)
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			p->nvalues++;
		}
		*out = p;
		return 0;
	}
	default:
		return 0;
	}
}

static ice_expr *mk_and(ice_expr *a, ice_expr *b, floe_arena *arena)
{
	if (!a || a->op == ICE_E_TRUE || (b && b->op == ICE_E_FALSE))
		return b;
	if (!b || b->op == ICE_E_TRUE || a->op == ICE_E_FALSE)
		return a;
	ice_expr *e = node(arena, ICE_E_AND);
	if (e) {
		e->left = a;
		e->right = b;
	}
	return e;
}

static ice_expr *mk_or(ice_expr *a, ice_expr *b, floe_arena *arena)
{
	if (a->op == ICE_E_TRUE || b->op == ICE_E_FALSE)
		return a;
	if (b->op == ICE_E_TRUE || a->op == ICE_E_FALSE)
		return b;
	ice_expr *e = node(arena, ICE_E_OR);
	if (e) {
		e->left = a;
		e->right = b;
	}
	return e;
}

static int project_rec(ice_expr **out, const ice_expr *e, const ice_partition_spec *spec,
                       floe_arena *arena, floe_error *err, int depth)
{
	int rc;
	ice_expr *l = NULL, *r = NULL;
	if (depth > 10000)
		return floe_error_set(err, FLOE_EINVALID, "filter: nested too deeply");
	switch (e->op) {
	case ICE_E_TRUE:
	case ICE_E_FALSE:
	case ICE_E_NOT: /* unbound NOT: nothing can be projected */
		*out = node(arena, e->op == ICE_E_FALSE ? ICE_E_FALSE : ICE_E_TRUE);
		break;
	case ICE_E_AND:
	case ICE_E_OR:
		if ((rc = project_rec(&l, e->left, spec, arena, err, depth + 1)) ||
		    (rc = project_rec(&r, e->right, spec, arena, err, depth + 1)))
			return rc;
		*out = e->op == ICE_E_AND ? mk_and(l, r, arena) : mk_or(l, r, arena);
		break;
	default: {
		/* one projection per partition field of the source, ANDed */
		ice_expr *acc = NULL;
		for (int i = 0; i < spec->nfields; i++) {
			if (spec->fields[i].source_id != e->field_id)
				continue;
			ice_expr *p = NULL;
			if ((rc = project_pred(&p, e, &spec->fields[i], arena, err)))
				return rc;
			if (p) {
				acc = mk_and(acc, p, arena);
				if (!acc)
					break;
			}
		}
		*out = acc ? acc : node(arena, ICE_E_TRUE);
		break;
	}
	}
	if (!*out)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	return 0;
}

int ice_expr_project(ice_expr **out, const ice_expr *e, const ice_partition_spec *spec,
                     const ice_schema *schema, floe_arena *arena, floe_error *err)
{
	(void)schema; /* the bound types carry what projection needs */
	ice_expr *p = NULL;
	int rc;
	if (!e) {
		p = node(arena, ICE_E_TRUE);
		if (!p)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	} else if ((rc = project_rec(&p, e, spec, arena, err, 0))) {
		return rc;
	}
	*out = p;
	return 0;
}

/* ---- partition tuples ------------------------------------------------- */

static int spec_index(const ice_partition_spec *spec, int32_t field_id)
{
	for (int i = 0; i < spec->nfields; i++)
		if (spec->fields[i].field_id == field_id)
			return i;
	return -1;
}

static bool partition_pred(const ice_expr *e, const ice_partition_spec *spec,
                           const ice_datum *partition, int n)
{
	int i = spec_index(spec, e->field_id);
	if (i < 0 || i >= n || !partition)
		return true;
	const ice_datum *d = &partition[i];
	const floe_type *t = &e->type;
	if (e->op == ICE_E_IS_NULL)
		return d->is_null;
	if (e->op == ICE_E_NOT_NULL)
		return !d->is_null;
	if (d->is_null)
		return true; /* inclusive */
	switch (e->op) {
	case ICE_E_IS_NAN:
		return !is_fp(t) || isnan(d->v.d);
	case ICE_E_NOT_NAN:
		return !is_fp(t) || !isnan(d->v.d);
	case ICE_E_EQ: case ICE_E_NE: case ICE_E_LT: case ICE_E_LE: case ICE_E_GT:
	case ICE_E_GE: {
		if (e->nvalues < 1 || !e->values)
			return true;
		int c = ice_value_compare(t, &d->v, &e->values[0].v);
		switch (e->op) {
		case ICE_E_EQ: return c == 0;
		case ICE_E_NE: return c != 0;
		case ICE_E_LT: return c < 0;
		case ICE_E_LE: return c <= 0;
		case ICE_E_GT: return c > 0;
		default: return c >= 0;
		}
	}
	case ICE_E_IN:
	case ICE_E_NOT_IN: {
		if (e->nvalues < 1 || !e->values)
			return true;
		bool any = false;
		for (int k = 0; k < e->nvalues && !any; k++)
			any = ice_value_compare(t, &d->v, &e->values[k].v) == 0;
		return e->op == ICE_E_IN ? any : !any;
	}
	default:
		return true;
	}
}

static bool partition_rec(const ice_expr *e, const ice_partition_spec *spec,
                          const ice_datum *partition, int n, int depth)
{
	if (depth > 10000)
		return true;
	switch (e->op) {
	case ICE_E_TRUE:
		return true;
	case ICE_E_FALSE:
		return false;
	case ICE_E_AND:
		return partition_rec(e->left, spec, partition, n, depth + 1) &&
		       partition_rec(e->right, spec, partition, n, depth + 1);
	case ICE_E_OR:
		return partition_rec(e->left, spec, partition, n, depth + 1) ||
		       partition_rec(e->right, spec, partition, n, depth + 1);
	case ICE_E_NOT:
		return true;
	default:
		return partition_pred(e, spec, partition, n);
	}
}

bool ice_expr_eval_partition(const ice_expr *projected, const ice_partition_spec *spec,
                             const ice_datum *partition, int n)
{
	if (!projected)
		return true;
	return partition_rec(projected, spec, partition, n, 0);
}

/* ---- manifest partition summaries -------------------------------------- */

static bool summary_pred(const ice_expr *e, const ice_partition_spec *spec,
                         const floe_type *types, const ice_manifest_file *mf, bctx *c)
{
	int i = spec_index(spec, e->field_id);
	if (i < 0 || !mf->partitions || i >= mf->npartitions)
		return true;
	const ice_field_summary *s = &mf->partitions[i];
	const floe_type *t = types ? &types[i] : &e->type;
	bool fp = is_fp(t);
	/* no lower bound: every value is NULL or NaN (summaries leave NaN out) */
	bool no_values = s->lower == NULL && s->upper == NULL;
	bool may_have_nan = fp && s->contains_nan != 0;
	bool all_null = no_values && s->contains_null && (!fp || s->contains_nan == 0);
	floe_value lo, hi;
	bool has_lo, has_hi;
	switch (e->op) {
	case ICE_E_IS_NULL:
		return s->contains_null;
	case ICE_E_NOT_NULL:
		return !all_null;
	case ICE_E_IS_NAN:
		return !fp || s->contains_nan != 0;
	case ICE_E_NOT_NAN:
		/* all NaN (or NULL): known NaN presence and no bounds */
		return !(fp && no_values && s->contains_nan >= 0 &&
		         (s->contains_nan == 1 || s->contains_null));
	case ICE_E_NE:
	case ICE_E_NOT_IN:
		return may_have_nan || !no_values;
	case ICE_E_EQ: case ICE_E_LT: case ICE_E_LE: case ICE_E_GT: case ICE_E_GE:
	case ICE_E_IN:
		break;
	default:
		return true;
	}
	if ((e->op == ICE_E_GT || e->op == ICE_E_GE) && may_have_nan)
		return true;
	if (no_values)
		return false;
	if (e->nvalues < 1 || !e->values)
		return true;
	has_lo = decode_bound(&lo, c, t, s->lower, s->lower_len, true);
	has_hi = decode_bound(&hi, c, t, s->upper, s->upper_len, false);
	const floe_value *v = &e->values[0].v;
	switch (e->op) {
	case ICE_E_LT:
		return !has_lo || ice_value_compare(t, &lo, v) < 0;
	case ICE_E_LE:
		return !has_lo || ice_value_compare(t, &lo, v) <= 0;
	case ICE_E_GT:
		return !has_hi || ice_value_compare(t, &hi, v) > 0;
	case ICE_E_GE:
		return !has_hi || ice_value_compare(t, &hi, v) >= 0;
	case ICE_E_EQ:
		if (has_lo && ice_value_compare(t, &lo, v) > 0)
			return false;
		return !has_hi || ice_value_compare(t, &hi, v) >= 0;
	default: /* IN */
		for (int k = 0; k < e->nvalues; k++) {
			const floe_value *x = &e->values[k].v;
			if (has_lo && ice_value_compare(t, &lo, x) > 0)
				continue;
			if (has_hi && ice_value_compare(t, &hi, x) < 0)
				continue;
			return true;
		}
		return false;
	}
}

static bool summary_rec(const ice_expr *e, const ice_partition_spec *spec,
                        const floe_type *types, const ice_manifest_file *mf, bctx *c,
                        int depth)
{
	if (depth > 10000)
		return true;
	switch (e->op) {
	case ICE_E_TRUE:
		return true;
	case ICE_E_FALSE:
		return false;
	case ICE_E_AND:
		return summary_rec(e->left, spec, types, mf, c, depth + 1) &&
		       summary_rec(e->right, spec, types, mf, c, depth + 1);
	case ICE_E_OR:
		return summary_rec(e->left, spec, types, mf, c, depth + 1) ||
		       summary_rec(e->right, spec, types, mf, c, depth + 1);
	case ICE_E_NOT:
		return true;
	default:
		return summary_pred(e, spec, types, mf, c);
	}
}

bool ice_expr_might_match_manifest(const ice_expr *projected, const ice_partition_spec *spec,
                                   const floe_type *partition_types,
                                   const ice_manifest_file *mf)
{
	if (!projected)
		return true;
	bctx c = { NULL };
	bool r = summary_rec(projected, spec, partition_types, mf, &c, 0);
	floe_arena_free(c.arena);
	return r;
}

/* ---- Parquet skipping predicates --------------------------------------- */

/* Whether Parquet statistics may safely skip on this predicate. Float
 * statistics leave NaN out while NaN sorts above every number here, and
 * writers disagree on signed zeros in bounds: so for float columns only
 * <, <=, = and IN with non-zero literals are lowered. */
static bool lowerable(const ice_expr *e)
{
	switch (e->op) {
	case ICE_E_IS_NULL:
		return true;
	case ICE_E_EQ: case ICE_E_LT: case ICE_E_LE: case ICE_E_GT: case ICE_E_GE:
	case ICE_E_IN:
		break;
	default:
		return false;
	}
	if (e->nvalues < 1 || !e->values)
		return false;
	if (!is_fp(&e->type))
		return true;
	if (e->op == ICE_E_GT || e->op == ICE_E_GE)
		return false;
	for (int k = 0; k < e->nvalues; k++)
		if (e->values[k].v.d == 0 || isnan(e->values[k].v.d))
			return false;
	return true;
}

static int count_lowerable(const ice_expr *e, int depth)
{
	if (depth > 10000)
		return 0;
	if (e->op == ICE_E_AND)
		return count_lowerable(e->left, depth + 1) + count_lowerable(e->right, depth + 1);
	return lowerable(e) ? 1 : 0;
}

static int lower_rec(const ice_expr *e, floe_parquet_predicate *out, int *n,
                     floe_arena *arena, int depth)
{
	if (depth > 10000)
		return 0;
	if (e->op == ICE_E_AND) {
		int rc = lower_rec(e->left, out, n, arena, depth + 1);
		return rc ? rc : lower_rec(e->right, out, n, arena, depth + 1);
	}
	if (!lowerable(e))
		return 0;
	floe_parquet_predicate *p = &out[(*n)++];
	memset(p, 0, sizeof *p);
	p->column = NULL;
	p->field_id = e->field_id;
	switch (e->op) {
	case ICE_E_IS_NULL: p->op = FLOE_PARQUET_IS_NULL; return 0;
	case ICE_E_IN: p->op = FLOE_PARQUET_IN; break;
	default: p->op = (floe_parquet_op)to_parquet_op(e->op); break;
	}
	floe_value *v = floe_arena_calloc(arena, (size_t)e->nvalues, sizeof *v);
	if (!v)
		return FLOE_ENOMEM;
	for (int k = 0; k < e->nvalues; k++)
		v[k] = e->values[k].v;
	p->values = v;
	p->nvalues = e->op == ICE_E_IN ? e->nvalues : 1;
	return 0;
}

int ice_expr_to_parquet(const ice_expr *e, floe_parquet_predicate **out, int *n,
                        floe_arena *arena, floe_error *err)
{
	*out = NULL;
	*n = 0;
	if (!e)
		return 0;
	int cnt = count_lowerable(e, 0);
	if (cnt == 0)
		return 0;
	floe_parquet_predicate *p = floe_arena_calloc(arena, (size_t)cnt, sizeof *p);
	if (!p)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	int got = 0;
	if (lower_rec(e, p, &got, arena, 0))
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	*out = p;
	*n = got;
	return 0;
}
