/* iceberg/expr_eval.c - evaluate a bound filter on a batch, one predicate at
 * a time over a column's storage, combining TRUE/NULL byte masks (SQL
 * three-valued logic); a row is kept only when the filter is TRUE. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/expr.h"

/* Per-row result of a sub-expression: t[r] = 1 when TRUE, n[r] = 1 when
 * NULL (unknown); FALSE is neither. */
typedef struct mask {
	uint8_t *t;
	uint8_t *n;
} mask;

/* Iceberg's order for floating point: -0.0 < 0.0, NaN above everything and
 * equal to itself (the order of column bounds; value.h). */
static inline int fcmp(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) ? (isnan(b) ? 0 : 1) : -1;
	if (a < b)
		return -1;
	if (a > b)
		return 1;
	if (a == 0 && b == 0) {
		bool sa = signbit(a) != 0, sb = signbit(b) != 0;
		return sa == sb ? 0 : sa ? -1 : 1;
	}
	return 0;
}

static inline int bcmp_bytes(const uint8_t *a, int64_t na, const uint8_t *b, int64_t nb)
{
	int64_t m = na < nb ? na : nb;
	int c = m > 0 ? memcmp(a, b, (size_t)m) : 0;
	if (c)
		return c < 0 ? -1 : 1;
	return na < nb ? -1 : na > nb;
}

/* Signed big-endian two's complement of equal width (DECIMAL P > 18). */
static inline int scmp_be(const uint8_t *a, const uint8_t *b, int64_t w)
{
	if (w <= 0)
		return 0;
	uint8_t a0 = a[0] ^ 0x80, b0 = b[0] ^ 0x80;
	if (a0 != b0)
		return a0 < b0 ? -1 : 1;
	int c = memcmp(a + 1, b + 1, (size_t)(w - 1));
	return c < 0 ? -1 : c > 0;
}

/* r[] holds comparison results -1/0/1; turn them into truth for `op`. */
static void cmp_to_truth(uint8_t *t, const int8_t *r, size_t nrows, ice_expr_op op)
{
	switch (op) {
	case ICE_E_EQ:
		for (size_t i = 0; i < nrows; i++)
			t[i] = r[i] == 0;
		break;
	case ICE_E_NE:
		for (size_t i = 0; i < nrows; i++)
			t[i] = r[i] != 0;
		break;
	case ICE_E_LT:
		for (size_t i = 0; i < nrows; i++)
			t[i] = r[i] < 0;
		break;
	case ICE_E_LE:
		for (size_t i = 0; i < nrows; i++)
			t[i] = r[i] <= 0;
		break;
	case ICE_E_GT:
		for (size_t i = 0; i < nrows; i++)
			t[i] = r[i] > 0;
		break;
	case ICE_E_GE:
		for (size_t i = 0; i < nrows; i++)
			t[i] = r[i] >= 0;
		break;
	default:
		memset(t, 0, nrows);
		break;
	}
}

/* Storage families of floe/schema.h. */
typedef enum fam {
	FAM_BOOL = 1,
	FAM_I32,
	FAM_I64,
	FAM_U64,   /* LONG holding UINT_64 bit patterns */
	FAM_F32,
	FAM_F64,
	FAM_FIXED, /* UUID, FIXED: unsigned bytes */
	FAM_SDEC,  /* DECIMAL P > 18: signed big-endian */
	FAM_VAR    /* STRING, BINARY, JSON */
} fam;

static fam family(const floe_type *t)
{
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN: return FAM_BOOL;
	case FLOE_TYPE_INT: case FLOE_TYPE_DATE: return FAM_I32;
	case FLOE_TYPE_LONG: return t->is_unsigned ? FAM_U64 : FAM_I64;
	case FLOE_TYPE_TIME: case FLOE_TYPE_TIMESTAMP: case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS: case FLOE_TYPE_TIMESTAMPTZ_NS: return FAM_I64;
	case FLOE_TYPE_DECIMAL: return t->precision > 18 ? FAM_SDEC : FAM_I64;
	case FLOE_TYPE_FLOAT: return FAM_F32;
	case FLOE_TYPE_DOUBLE: return FAM_F64;
	case FLOE_TYPE_UUID: case FLOE_TYPE_FIXED: return FAM_FIXED;
	case FLOE_TYPE_STRING: case FLOE_TYPE_BINARY: case FLOE_TYPE_JSON: return FAM_VAR;
	}
	return 0;
}

/* Literal and column storage must agree (promotions int -> long and
 * float -> double read the narrower storage). */
static bool families_match(fam lit, fam col)
{
	if (lit == col)
		return true;
	if (lit == FAM_I64 && col == FAM_I32)
		return true;
	if (lit == FAM_F64 && col == FAM_F32)
		return true;
	return false;
}

/* Compare every row of `col` with literal `v` into r[] (-1/0/1). */
static void compare_column(int8_t *r, const floe_column *col, fam cf, const floe_value *v,
                           int64_t nrows)
{
	switch (cf) {
	case FAM_BOOL: {
		const uint8_t *x = col->values;
		int lit = v->b ? 1 : 0;
		for (int64_t i = 0; i < nrows; i++) {
			int a = x[i] ? 1 : 0;
			r[i] = (int8_t)((a > lit) - (a < lit));
		}
		break;
	}
	case FAM_I32: {
		const int32_t *x = col->values;
		int64_t lit = v->i;
		for (int64_t i = 0; i < nrows; i++)
			r[i] = (int8_t)((x[i] > lit) - (x[i] < lit));
		break;
	}
	case FAM_I64: {
		const int64_t *x = col->values;
		int64_t lit = v->i;
		for (int64_t i = 0; i < nrows; i++)
			r[i] = (int8_t)((x[i] > lit) - (x[i] < lit));
		break;
	}
	case FAM_U64: {
		const uint64_t *x = col->values;
		uint64_t lit = (uint64_t)v->i;
		for (int64_t i = 0; i < nrows; i++)
			r[i] = (int8_t)((x[i] > lit) - (x[i] < lit));
		break;
	}
	case FAM_F32: {
		const float *x = col->values;
		for (int64_t i = 0; i < nrows; i++)
			r[i] = (int8_t)fcmp(x[i], v->d);
		break;
	}
	case FAM_F64: {
		const double *x = col->values;
		for (int64_t i = 0; i < nrows; i++)
			r[i] = (int8_t)fcmp(x[i], v->d);
		break;
	}
	case FAM_FIXED: {
		const uint8_t *x = col->values;
		int64_t w = col->type.width;
		for (int64_t i = 0; i < nrows; i++)
			r[i] = (int8_t)bcmp_bytes(x + i * w, w, v->bytes, v->len);
		break;
	}
	case FAM_SDEC: {
		const uint8_t *x = col->values;
		int64_t w = col->type.width;
		for (int64_t i = 0; i < nrows; i++)
			r[i] = (int8_t)(v->len == w ? scmp_be(x + i * w, v->bytes, w) : 0);
		break;
	}
	case FAM_VAR: {
		const int64_t *off = col->offsets;
		for (int64_t i = 0; i < nrows; i++)
			r[i] = (int8_t)bcmp_bytes(col->data + off[i], off[i + 1] - off[i],
			                          v->bytes, v->len);
		break;
	}
	}
}

static void nan_column(uint8_t *t, const floe_column *col, fam cf, size_t nrows)
{
	if (cf == FAM_F32) {
		const float *x = col->values;
		for (size_t i = 0; i < nrows; i++)
			t[i] = isnan(x[i]) ? 1 : 0;
	} else if (cf == FAM_F64) {
		const double *x = col->values;
		for (size_t i = 0; i < nrows; i++)
			t[i] = isnan(x[i]) ? 1 : 0;
	} else {
		memset(t, 0, nrows);
	}
}

static const floe_column *find_column(const floe_batch *b, int32_t field_id)
{
	if (!b->schema)
		return NULL;
	int i = floe_schema_find_id(b->schema, field_id);
	if (i < 0 || i >= b->ncols)
		return NULL;
	return &b->cols[i];
}

typedef struct ctx {
	const floe_batch *b;
	int64_t nrows;
	int8_t *cmp;     /* scratch comparison results */
	uint8_t *valid;  /* scratch validity bytes */
	floe_error *err;
} ctx;

static int eval_pred(ctx *c, const ice_expr *e, mask m)
{
	int64_t nrows = c->nrows;
	const floe_column *col = find_column(c->b, e->field_id);
	if (nrows <= 0)
		return 0;
	size_t nb = (size_t)nrows;
	if (!col) {
		/* absent column: every row NULL */
		bool is_null = e->op == ICE_E_IS_NULL;
		bool not_null = e->op == ICE_E_NOT_NULL;
		memset(m.t, is_null ? 1 : 0, nb);
		memset(m.n, is_null || not_null ? 0 : 1, nb);
		return 0;
	}
	/* validity bytes */
	if (col->validity) {
		for (int64_t i = 0; i < nrows; i++)
			c->valid[i] = (col->validity[i >> 3] >> (i & 7)) & 1;
	} else {
		memset(c->valid, 1, nb);
	}
	if (e->op == ICE_E_IS_NULL || e->op == ICE_E_NOT_NULL) {
		uint8_t want = e->op == ICE_E_NOT_NULL;
		for (int64_t i = 0; i < nrows; i++)
			m.t[i] = c->valid[i] == want;
		memset(m.n, 0, nb);
		return 0;
	}
	fam cf = family(&col->type);
	if (cf == 0)
		return floe_error_set(c->err, FLOE_EUNSUPPORTED,
		                      "filter: column '%s' has an unknown storage type",
		                      e->column ? e->column : "?");
	if ((cf == FAM_FIXED || cf == FAM_SDEC) && col->type.width <= 0)
		return floe_error_set(c->err, FLOE_EINVALID, "filter: column '%s' has no width",
		                      e->column ? e->column : "?");
	if ((cf == FAM_VAR && !col->offsets) || (cf != FAM_VAR && !col->values && nrows > 0))
		return floe_error_set(c->err, FLOE_EINVALID, "filter: column '%s' has no values",
		                      e->column ? e->column : "?");
	switch (e->op) {
	case ICE_E_IS_NAN:
	case ICE_E_NOT_NAN:
		nan_column(m.t, col, cf, nb);
		if (e->op == ICE_E_NOT_NAN)
			for (int64_t i = 0; i < nrows; i++)
				m.t[i] ^= 1;
		break;
	case ICE_E_EQ: case ICE_E_NE: case ICE_E_LT: case ICE_E_LE: case ICE_E_GT:
	case ICE_E_GE:
	case ICE_E_IN: case ICE_E_NOT_IN: {
		if (e->nvalues < 1 || !e->values)
			return floe_error_set(c->err, FLOE_EINVALID,
			                      "filter: predicate on '%s' is not bound",
			                      e->column ? e->column : "?");
		fam lf = family(&e->type);
		if (!families_match(lf, cf)) {
			char a[48], b[48];
			return floe_error_set(c->err, FLOE_EINVALID,
			                      "filter: column '%s' is %s in the data but %s in "
			                      "the filter", e->column ? e->column : "?",
			                      floe_type_format(&col->type, a, sizeof a),
			                      floe_type_format(&e->type, b, sizeof b));
		}
		if (e->op != ICE_E_IN && e->op != ICE_E_NOT_IN) {
			compare_column(c->cmp, col, cf, &e->values[0].v, nrows);
			cmp_to_truth(m.t, c->cmp, nb, e->op);
			break;
		}
		/* IN: OR of equalities, one literal at a time over the column */
		memset(m.t, 0, nb);
		for (int k = 0; k < e->nvalues; k++) {
			compare_column(c->cmp, col, cf, &e->values[k].v, nrows);
			for (int64_t i = 0; i < nrows; i++)
				m.t[i] |= c->cmp[i] == 0;
		}
		if (e->op == ICE_E_NOT_IN)
			for (int64_t i = 0; i < nrows; i++)
				m.t[i] ^= 1;
		break;
	}
	default:
		return floe_error_set(c->err, FLOE_EINVALID,
		                      "filter: unexpected node %d (bind the filter first)",
		                      (int)e->op);
	}
	/* a NULL input makes the predicate NULL */
	for (int64_t i = 0; i < nrows; i++) {
		m.n[i] = c->valid[i] ^ 1;
		m.t[i] &= c->valid[i];
	}
	return 0;
}

static int eval_rec(ctx *c, const ice_expr *e, mask m, int depth)
{
	size_t nb = (size_t)c->nrows;
	int rc = 0;
	if (depth > 10000)
		return floe_error_set(c->err, FLOE_EINVALID, "filter: nested too deeply");
	switch (e->op) {
	case ICE_E_TRUE:
	case ICE_E_FALSE:
		memset(m.t, e->op == ICE_E_TRUE, nb);
		memset(m.n, 0, nb);
		return 0;
	case ICE_E_AND:
	case ICE_E_OR: {
		mask r = { malloc(nb ? nb : 1), malloc(nb ? nb : 1) };
		if (!r.t || !r.n) {
			rc = floe_error_set(c->err, FLOE_ENOMEM, "out of memory");
			goto done;
		}
		if ((rc = eval_rec(c, e->left, m, depth + 1)) ||
		    (rc = eval_rec(c, e->right, r, depth + 1)))
			goto done;
		if (e->op == ICE_E_AND) {
			/* TRUE if both TRUE; FALSE if either FALSE; else NULL */
			for (size_t i = 0; i < nb; i++) {
				uint8_t f = (uint8_t)((!m.t[i] && !m.n[i]) | (!r.t[i] && !r.n[i]));
				m.n[i] = (uint8_t)((m.n[i] | r.n[i]) & !f);
				m.t[i] &= r.t[i];
			}
		} else {
			/* TRUE if either TRUE; FALSE if both FALSE; else NULL */
			for (size_t i = 0; i < nb; i++) {
				m.t[i] |= r.t[i];
				m.n[i] = (uint8_t)((m.n[i] | r.n[i]) & !m.t[i]);
			}
		}
	done:
		free(r.t);
		free(r.n);
		return rc;
	}
	case ICE_E_NOT:
		if ((rc = eval_rec(c, e->left, m, depth + 1)))
			return rc;
		for (size_t i = 0; i < nb; i++)
			m.t[i] = (uint8_t)(!m.t[i] && !m.n[i]);
		return 0;
	default:
		return eval_pred(c, e, m);
	}
}

int ice_expr_eval_batch(const ice_expr *e, const floe_batch *b, uint8_t *keep,
                        floe_error *err)
{
	int rc;
	if (b->nrows <= 0)
		return 0;
	if (!e) {
		memset(keep, 1, (size_t)b->nrows);
		return 0;
	}
	size_t nb = (size_t)b->nrows;
	ctx c = { .b = b, .nrows = b->nrows, .err = err };
	uint8_t *n = malloc(nb);
	c.cmp = malloc(nb);
	c.valid = malloc(nb);
	if (!n || !c.cmp || !c.valid) {
		rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
		goto done;
	}
	mask m = { keep, n };
	rc = eval_rec(&c, e, m, 0);
done:
	free(n);
	free(c.cmp);
	free(c.valid);
	return rc;
}
