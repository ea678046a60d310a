/* engine/expr_int.h - the expression tree and the evaluation context shared
 * by the parser (expr_parse.c), the binder (expr_bind.c), the evaluator
 * (expr_eval.c), the scalar functions (expr_func.c) and the series
 * functions (expr_series.c). Internal to src/engine.
 *
 * Evaluation is column-at-a-time: every node turns the columns of its
 * children into one result column of c->n rows in the caller's arena. A
 * context may carry a `live` mask (one byte per row): rows a CASE, IF,
 * COALESCE, AND or OR does not need from this subtree. Dead rows may hold
 * anything, and never raise a per-row error (an overflow, a failed CAST),
 * which is what lets `CASE WHEN ok THEN CAST(s AS double) END` guard a
 * cast, as in SQL. */
#ifndef FLOE_ENGINE_EXPR_INT_H
#define FLOE_ENGINE_EXPR_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "floe/expr.h"
#include "util/buf.h"
#include "util/text.h"

typedef enum ex_kind {
	EX_LIT = 1,  /* type, li / ld / ls, lnull; interval */
	EX_COL,      /* name -> idx */
	EX_NEG,      /* args[0] */
	EX_NOT,      /* args[0] */
	EX_BIN,      /* op, args[0..1] */
	EX_ISNULL,   /* args[0], neg = IS NOT NULL */
	EX_CASE,     /* args: cond, value, cond, value, ... [, else] */
	EX_CAST,     /* args[0], cast_to, try_ */
	EX_FUNC      /* name, args; fn after binding */
} ex_kind;

enum {
	EB_ADD = 1, EB_SUB, EB_MUL, EB_DIV, EB_MOD, EB_EQ, EB_NE, EB_LT, EB_LE, EB_GT, EB_GE,
	EB_AND, EB_OR, EB_CONCAT, EB_LIKE
};

/* Scalar and series functions (expr_func.c has the table). Series
 * functions come last: fn >= F_LAG is a series function. */
enum {
	F_COALESCE = 1, F_NULLIF, F_IF, F_GREATEST, F_LEAST, F_UPPER, F_LOWER, F_TRIM, F_LTRIM,
	F_RTRIM, F_LENGTH, F_SUBSTR, F_CONCAT, F_REPLACE, F_STARTS, F_ENDS, F_CONTAINS, F_ABS,
	F_ROUND, F_FLOOR, F_CEIL, F_SQRT, F_LN, F_LOG10, F_EXP, F_POWER, F_SIGN, F_DATE_TRUNC,
	F_WSTART, F_WEND, F_TO_TS, F_TRY_TO_TS, F_TO_DATE, F_EPOCH_US, F_EPOCH_MS, F_EPOCH_S,
	F_DATE_PART,
	F_LAG, F_RSUM, F_RAVG, F_RMIN, F_RMAX, F_RCOUNT, F_RSTDDEV
};

struct floe_expr {
	ex_kind k;
	int pos, end;              /* source span (end: calls only) */
	int height;                /* of the subtree (the parser caps it) */
	const char *src;           /* the whole source text */
	const char *root_text;     /* set on the root */
	floe_arena *arena;         /* the tree's arena (folding allocates here) */
	/* literals */
	bool lnull, interval;
	int64_t li;
	double ld;
	const char *ls;
	size_t lslen;
	/* columns and calls */
	const char *name;
	int idx;
	bool star;                 /* count(*) */
	int fn;                    /* bound function id (F_*) */
	/* operators */
	int op;
	bool neg, try_, has_else;
	floe_type cast_to;
	floe_expr **args;
	int nargs;
	floe_expr *agg_call;       /* for an aggregate's argument: the call */
	/* bound */
	floe_type type;            /* id 0: a NULL literal, fits any type */
	bool series;               /* a series function */
	int64_t interval_us;       /* series and window functions: the INTERVAL */
	int64_t lag_rows;          /* lag(x, N): N; 0 for lag by time */
	int unit;                  /* date_trunc / date_part: the unit */
	const floe_schema *schema;
	floe_expr *orig;           /* a node the binder put in place of `orig` (a
	                              folded constant, a string read as a time);
	                              binding again restores `orig` first */
};

/* The reserved words that cannot be bare column names. */
bool ex_reserved(const char *p, size_t n);

floe_expr *ex_node(floe_arena *a, ex_kind k, int pos);
/* The aggregate function a call names, or 0. */
int ex_agg_fn(const floe_expr *e);

/* ---- types -------------------------------------------------------------------- */

static inline bool ex_is_int(floe_type_id t)
{
	return t == FLOE_TYPE_INT || t == FLOE_TYPE_LONG;
}

static inline bool ex_is_num(floe_type_id t)
{
	return ex_is_int(t) || t == FLOE_TYPE_FLOAT || t == FLOE_TYPE_DOUBLE ||
	       t == FLOE_TYPE_DECIMAL;
}

static inline bool ex_is_ts(floe_type_id t)
{
	return t == FLOE_TYPE_TIMESTAMP || t == FLOE_TYPE_TIMESTAMPTZ;
}

/* timestamps and dates */
static inline bool ex_is_time(floe_type_id t)
{
	return ex_is_ts(t) || t == FLOE_TYPE_DATE;
}

static inline bool ex_is_str(floe_type_id t)
{
	return t == FLOE_TYPE_STRING || t == FLOE_TYPE_JSON;
}

static inline floe_type ex_ty(floe_type_id id)
{
	floe_type t;
	memset(&t, 0, sizeof t);
	t.id = id;
	return t;
}

/* The type arithmetic gives a numeric operand: LONG or DOUBLE. */
static inline floe_type ex_num_norm(floe_type t)
{
	return ex_ty(ex_is_int(t.id) ? FLOE_TYPE_LONG : FLOE_TYPE_DOUBLE);
}

/* A type's name for messages ("null" for an untyped NULL); buf has 32 bytes. */
const char *ex_tname(floe_type t, char *buf);

/* FLOE_EINVALID "at character N: " + fmt with two string arguments. */
int ex_bind_err(floe_error *err, const floe_expr *e, const char *fmt, const char *a,
                const char *b);
int ex_oom(floe_error *err);

/* Binding (expr_bind.c). */
int ex_bind(floe_expr *e, const floe_schema *s, unsigned flags, floe_error *err);
/* A common type of values that meet (CASE branches, coalesce, ...); string
 * literals among times are read as times. */
int ex_unify(floe_expr **v, int n, floe_type *out, floe_error *err);
/* A string literal where a time of type `want` is wanted: *slot becomes a
 * literal of that time (the original kept for binding again). */
int ex_lit_to_time(floe_expr **slot, floe_type want, floe_error *err);
/* The microseconds of an interval constant (INTERVAL '5 minutes' or
 * '5 minutes'); FLOE_EINVALID naming the position otherwise. */
int ex_const_interval(const floe_expr *e, int64_t *us, floe_error *err);
/* Functions (expr_func.c): checks arguments, sets fn and type. */
int ex_bind_func(floe_expr *e, const floe_schema *s, unsigned flags, floe_error *err);

/* ---- evaluation --------------------------------------------------------------- */

typedef struct ex_ctx {
	const floe_batch *b;
	const floe_expr_series *s;
	floe_arena *a;
	floe_error *err;
	int64_t n;
	const uint8_t *live;       /* 1 byte a row; NULL = every row is wanted */
} ex_ctx;

static inline bool ex_live(const ex_ctx *c, int64_t r)
{
	return !c->live || c->live[r];
}

static inline bool ex_valid(const floe_column *col, int64_t r)
{
	return floe_column_is_valid(col, r);
}

int ex_eval(const floe_expr *e, ex_ctx *c, floe_column *out);
/* Evaluate `e` for the rows where mask[r] is nonzero only (mask NULL: the
 * context's rows). */
int ex_eval_masked(const floe_expr *e, ex_ctx *c, const uint8_t *mask, floe_column *out);
/* A mask of the context's live rows that also satisfy keep(r); *any says
 * whether one row is set. Built in the arena. */
uint8_t *ex_mask_new(ex_ctx *c);

/* A validity bitmap of c->n rows (all set or all clear). */
uint8_t *ex_bits_new(ex_ctx *c, bool set);
/* Clear row r of out's validity, creating the bitmap when absent. */
int ex_set_null(ex_ctx *c, floe_column *out, int64_t r);
/* Validity of x AND y (y may be NULL); *out NULL when all are valid. */
int ex_both_valid(ex_ctx *c, const floe_column *x, const floe_column *y, uint8_t **out);
void ex_finish_nulls(floe_column *out, int64_t n);
/* A zeroed fixed-width column of type t and c->n rows. */
int ex_alloc_fixed(ex_ctx *c, floe_column *out, floe_type t);
/* Numbers (and booleans) as doubles, DECIMAL scaled. */
int ex_as_f64(ex_ctx *c, const floe_column *x, const double **out);
/* Integers, booleans and times as int64 (DATE as days, or as micros with
 * date_as_us). */
int ex_as_i64(ex_ctx *c, const floe_column *x, bool date_as_us, const int64_t **out);
/* x converted to type t (numeric widening, string kinds, time kinds). */
int ex_coerce(ex_ctx *c, floe_column *x, floe_type t);

/* Comparison of row r of x with row r2 of y for values of one family
 * (numbers, strings, times, booleans): prepare once, compare many. */
typedef struct ex_cmp {
	const floe_column *x, *y;
	const double *xd, *yd;
	const int64_t *xi, *yi;
} ex_cmp;
int ex_cmp_prepare(ex_ctx *c, ex_cmp *k, const floe_column *x, const floe_column *y);
/* -1, 0, 1; NaN sorts above every number and equals itself. */
int ex_cmp_rows(const ex_cmp *k, int64_t r, int64_t r2);

static inline const uint8_t *ex_str(const floe_column *x, int64_t r, size_t *n)
{
	*n = (size_t)(x->offsets[r + 1] - x->offsets[r]);
	return x->data + x->offsets[r];
}

/* The text of any value (casts to string, concatenation). */
int ex_text_of(floe_buf *b, const floe_column *x, int64_t r);

/* String results: offsets in the arena, bytes in a floe_buf until done. */
typedef struct ex_sbuild {
	floe_buf data;
	int64_t *off;
	int64_t at;
} ex_sbuild;
int ex_sb_init(ex_ctx *c, ex_sbuild *s);
/* The next row's value (inline: once per row). */
static inline int ex_sb_put(ex_sbuild *s, const void *p, size_t n)
{
	if (n && floe_buf_append(&s->data, p, n))
		return FLOE_ENOMEM;
	s->off[++s->at] = (int64_t)s->data.len;
	return 0;
}
/* The finished column (validity as given, may be NULL); frees s. */
int ex_sb_done(ex_ctx *c, ex_sbuild *s, floe_column *out, uint8_t *validity);
/* Free s after a failure and report no memory. */
int ex_sb_fail(ex_ctx *c, ex_sbuild *s);

/* Rows picked per row from alternatives (CASE, coalesce, ...): out[r] =
 * vals[pick[r]][r], NULL where pick[r] < 0. All vals have type t. */
int ex_gather(ex_ctx *c, floe_type t, const floe_column *vals, const int32_t *pick,
              floe_column *out);
/* The same where one[k] marks alternatives of a single row (a constant):
 * their row 0 stands for every row. one may be NULL. */
int ex_gather_one(ex_ctx *c, floe_type t, const floe_column *vals, const bool *one,
                  const int32_t *pick, floe_column *out);

int64_t ex_floor_div(int64_t a, int64_t b);

/* ISO-8601 text as a time of type `want` (DATE: days; timestamps: micros):
 * a date alone is its midnight UTC, a timestamp without offset is UTC, one
 * with an offset is converted to UTC (for TIMESTAMP too), and a timestamp
 * wanted as a date gives its UTC day. Spaces around are ignored. err may be
 * NULL. */
int ex_parse_time(floe_type_id want, const char *p, size_t n, int64_t *out, floe_error *err);

/* Functions (expr_func.c) and series functions (expr_series.c). */
int ex_eval_func(const floe_expr *e, ex_ctx *c, floe_column *out);
int ex_eval_series(const floe_expr *e, ex_ctx *c, floe_column *out);

#endif
