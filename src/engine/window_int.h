/* engine/window_int.h - what the row operators (rows.c) share with windowed
 * aggregation (window.c) and rolling columns (rolling.c): sorting columns
 * seen through a row map, gathering one column, comparing two values.
 * Internal to libfloe. */
#ifndef FLOE_ENGINE_WINDOW_INT_H
#define FLOE_ENGINE_WINDOW_INT_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "floe/arena.h"
#include "floe/batch.h"
#include "floe/error.h"
#include "floe/expr.h"
#include "floe/schema.h"

/* One sort key: position i of the sorted sequence reads row
 * map ? map[i] : i of col. */
typedef struct eng_sort_key {
	const floe_column *col;
	const int32_t *map;
} eng_sort_key;

/* perm[0..n) = a stable ascending order of the positions 0..n-1 by
 * keys[0..nkeys) (the order of floe_batch_sort). perm is the caller's.
 * Temporaries are malloc'ed and freed. */
int eng_sort(const eng_sort_key *keys, int nkeys, int64_t n, int32_t *perm, floe_error *err);

/* A double's unsigned key in sort order: every NaN equal and after
 * +Infinity, -0.0 equal to 0.0 (eng_value_cmp's order of doubles). */
static inline uint64_t eng_double_key(double d)
{
	if (isnan(d))
		return UINT64_MAX;
	if (d == 0)
		d = 0.0;
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return (u & (UINT64_C(1) << 63)) ? ~u : (u | (UINT64_C(1) << 63));
}

/* Compare row i of a with row j of b (same type) in the order of
 * floe_batch_sort: <0, 0, >0. NULLs are equal to each other and first. */
int eng_value_cmp(const floe_column *a, int64_t i, const floe_column *b, int64_t j);

/* out = rows idx[0..n) of src; idx[k] < 0 gives NULL. Buffers in `arena`.
 * The caller guarantees idx[k] < the rows of src. */
int eng_column_take(floe_column *out, const floe_column *src, const int32_t *idx, int64_t n,
                    floe_arena *arena, floe_error *err);

/* out = rows idx[0..n) of b's columns c with needed[c]; every other column
 * is all NULL (a column no expression reads). *absent gets the block those
 * columns share (malloc'ed, NULL when none), to free after out is used. */
int eng_take_columns(floe_batch *out, const floe_batch *b, const bool *needed, const int32_t *idx,
                     int64_t n, floe_arena *arena, void **absent, floe_error *err);

/* out = a column of `type` with no rows (offsets {0} for variable types). */
int eng_column_empty(floe_column *out, const floe_type *type, floe_arena *arena,
                     floe_error *err);

/* out = a column of `type` over n values in `values` (fixed width, not
 * copied) and `valid` (one byte per row, 0 = NULL; NULL = all valid; the
 * bitmap is built in `arena`). */
int eng_column_wrap(floe_column *out, const floe_type *type, void *values, const uint8_t *valid,
                    int64_t n, floe_arena *arena, floe_error *err);

/* 1 when a and b name the same logical type (id, and width/precision/scale
 * where they matter). */
bool eng_type_same(const floe_type *a, const floe_type *b);

/* Check that a time column is TIMESTAMP / TIMESTAMPTZ with no NULL in its
 * nrows rows. Errors name the column and the row. */
int eng_check_time(const floe_column *col, int64_t nrows, const char *name, floe_error *err);

/* Check that `in` is laid out as `s` (the schema a step was bound to):
 * the same number of columns and the same types. */
int eng_check_layout(const floe_batch *in, const floe_schema *s, floe_error *err);

/* A copy of s (names included) in `arena`; NULL when out of memory. */
floe_schema *eng_schema_copy(const floe_schema *s, floe_arena *arena);

/* The index of column `name` in s, or -1 with FLOE_ENOTFOUND naming `what`
 * ("key", "time", "order"), the column and the columns there are. */
int eng_find_column(const floe_schema *s, const char *name, const char *what, floe_error *err);

/* The time, key and order columns of a step over `s`: *time_col, and
 * key_cols[0..nkeys), *order_cols (norder + 1 entries in `arena`). The
 * time column must be a timestamp or timestamptz; `what` names the step in
 * that message ("a window", "a rolling step"). */
int eng_bind_series_columns(const floe_schema *s, const char *time, const char *const *keys,
                            int nkeys, const char *const *order, int norder, const char *what,
                            floe_arena *arena, int *time_col, int *key_cols, int **order_cols,
                            floe_error *err);

/* needed[c] = true for every column of s that the bound arguments of
 * aggs[0..naggs) or the bound exprs[0..nexprs) read. */
int eng_mark_columns(bool *needed, const floe_schema *s, const floe_expr_agg *aggs, int naggs,
                     floe_expr *const *exprs, int nexprs, floe_error *err);

/* The row an expression's message names ("row N: DETAIL", N < nrows), or
 * -1; *detail = the offset of DETAIL in err->msg. For messages that name
 * the caller's row instead of a row of a sorted copy. */
int64_t eng_err_row(const floe_error *err, int64_t nrows, size_t *detail);

#endif
