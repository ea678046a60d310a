/* iceberg/expr.h - filter expressions for scans: parsed from text, bound to
 * a schema by field id, evaluated on batches (SQL three-valued logic: a row
 * is kept only when the filter is TRUE), and used inclusively for pruning:
 * against data file metrics (bounds, null/NaN/value counts), projected
 * through partition transforms onto partition values and manifest
 * partition summaries, and lowered to Parquet row-group/page predicates.
 * Internal. */
#ifndef FLOE_ICEBERG_EXPR_H
#define FLOE_ICEBERG_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/batch.h"
#include "floe/error.h"
#include "floe/parquet.h"
#include "iceberg/manifest.h"
#include "iceberg/metadata.h"
#include "iceberg/value.h"

typedef enum ice_expr_op {
	ICE_E_TRUE = 1,
	ICE_E_FALSE,
	ICE_E_AND,     /* left, right */
	ICE_E_OR,      /* left, right */
	ICE_E_NOT,     /* left (only before ice_expr_bind, which pushes NOT down) */
	ICE_E_EQ,      /* predicates: column OP values[0] */
	ICE_E_NE,
	ICE_E_LT,
	ICE_E_LE,
	ICE_E_GT,
	ICE_E_GE,
	ICE_E_IN,      /* column IN (values[0..nvalues)) */
	ICE_E_NOT_IN,
	ICE_E_IS_NULL,
	ICE_E_NOT_NULL,
	ICE_E_IS_NAN,  /* produced by binding `col = NaN`; float/double only */
	ICE_E_NOT_NAN
} ice_expr_op;

typedef struct ice_expr ice_expr;
struct ice_expr {
	ice_expr_op op;
	ice_expr *left, *right;
	/* predicates */
	const char *column;      /* as written (unbound) */
	int32_t field_id;        /* bound: the column's field id (for projected
	                            expressions: the partition field id) */
	floe_type type;          /* bound: the column's type */
	int nvalues;
	const char **texts;      /* literals as written (unbound) */
	bool *text_quoted;       /* literal was '...' */
	ice_datum *values;       /* bound: literals converted to `type` */
};

/* Parse a filter. Grammar (keywords case-insensitive):
 *   expr := and_expr { OR and_expr }
 *   and_expr := unary { AND unary }
 *   unary := NOT unary | '(' expr ')' | pred | TRUE | FALSE
 *   pred := col op lit | col [NOT] IN '(' lit {, lit} ')' | col IS [NOT] NULL
 *   op := = | == | != | <> | < | <= | > | >=
 *   col := identifier [A-Za-z_][A-Za-z0-9_]* (dots allowed) | "quoted"
 *   lit := 'string' ('' escapes ') | number | true | false | NaN
 * Errors: FLOE_EINVALID "--where: at character N: expected ..." */
int ice_expr_parse(ice_expr **out, const char *text, floe_arena *arena, floe_error *err);

/* Bind to `schema` (top-level primitive columns, by name: exact, else
 * case-insensitive when unique; FLOE_ENOTFOUND naming the column and the
 * columns there are), converting literals with util/text.h's
 * floe_text_parse for the column's type (a date-only literal
 * 'YYYY-MM-DD' is accepted for timestamp columns as midnight; numbers for
 * numeric columns; FLOE_EINVALID naming column and literal when a literal
 * does not fit). NOT is pushed down (NOT a<b -> a>=b, De Morgan, NOT IN,
 * NOT NULL, ...). `= NaN` becomes IS_NAN. Returns a new tree in `arena`. */
int ice_expr_bind(ice_expr **out, const ice_expr *e, const ice_schema *schema,
                  floe_arena *arena, floe_error *err);

/* Field ids a bound expression reads (deduplicated) into ids[] (at most
 * cap); returns the count. */
int ice_expr_field_ids(const ice_expr *e, int32_t *ids, int cap);

/* Evaluate a bound expression on every row of `b`, whose columns are found
 * by field id through b->schema: keep[r] = 1 when TRUE, else 0. A column
 * absent from the batch is all NULL (a column added after the file was
 * written). */
int ice_expr_eval_batch(const ice_expr *e, const floe_batch *b, uint8_t *keep,
                        floe_error *err);

/* Could any row of data file `f` match? (false only when the metrics
 * prove no row can: bounds, null_count == value_count for "all null",
 * null_count == 0, nan counts.) Bounds are decoded with the bound types;
 * missing metrics never prune. `schema` is the one the expression is
 * bound to. */
bool ice_expr_might_match_file(const ice_expr *e, const ice_data_file *f);

/* Inclusive projection of a bound expression onto partition spec `spec`
 * (over `schema`): a bound expression over partition fields (field_id =
 * partition field id, type = transform result type) that is TRUE for every
 * partition that may hold a matching row; predicates that cannot be
 * projected become TRUE (AND) so nothing is wrongly pruned. */
int ice_expr_project(ice_expr **out, const ice_expr *e, const ice_partition_spec *spec,
                     const ice_schema *schema, floe_arena *arena, floe_error *err);

/* Evaluate a projected expression on a file's partition tuple (n values
 * in spec field order). Unknown / NULL comparisons are inclusive. */
bool ice_expr_eval_partition(const ice_expr *projected, const ice_partition_spec *spec,
                             const ice_datum *partition, int n);

/* Could a manifest with these partition field summaries hold a match? */
bool ice_expr_might_match_manifest(const ice_expr *projected, const ice_partition_spec *spec,
                                   const floe_type *partition_types,
                                   const ice_manifest_file *mf);

/* Parquet skipping predicates (by field id) implied by the expression:
 * the top-level AND chain's simple predicates (EQ, LT, LE, GT, GE, IN,
 * IS_NULL); others are left to row evaluation. Arrays in `arena`. */
int ice_expr_to_parquet(const ice_expr *e, floe_parquet_predicate **out, int *n,
                        floe_arena *arena, floe_error *err);

/* Text form (for --stats and messages) appended to `out`. */
int ice_expr_format(floe_buf *out, const ice_expr *e);

#endif
