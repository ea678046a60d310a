/* floe/expr.h - the expression language of pipeline steps: parsed from
 * text, bound to the columns of an input schema (types inferred and
 * checked), and evaluated a whole batch at a time into a result column.
 * docs/expressions.md describes the language: arithmetic, comparisons,
 * three-valued boolean logic, CASE, COALESCE, CAST, string and time
 * functions, and, inside aggregate and rolling steps, aggregates and
 * series functions (lag, rolling_*). */
#ifndef FLOE_EXPR_H
#define FLOE_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/batch.h"
#include "floe/error.h"
#include "floe/schema.h"
#include "floe/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct floe_expr floe_expr;

/* Parse `text` (one expression). The tree (and a copy of the text) lives
 * in `arena`, which must outlive every use of it. Errors are FLOE_EINVALID
 * "at character N: expected ..., found ..."; nesting deeper than 200
 * levels or chains of more than 256 operators are refused. */
int floe_expr_parse(floe_expr **out, const char *text, floe_arena *arena, floe_error *err);

/* The aggregate functions (names in the language, case-insensitive):
 * count(*), count(x), sum, min, max, avg, first, last (by the step's
 * event-time order), stddev / stddev_samp, stddev_pop, variance /
 * var_samp, var_pop. NULL inputs are ignored (count(*) counts rows). */
typedef enum floe_agg_fn {
	FLOE_AGG_COUNT_STAR = 1,
	FLOE_AGG_COUNT,
	FLOE_AGG_SUM,
	FLOE_AGG_MIN,
	FLOE_AGG_MAX,
	FLOE_AGG_AVG,
	FLOE_AGG_FIRST,
	FLOE_AGG_LAST,
	FLOE_AGG_STDDEV_SAMP,
	FLOE_AGG_STDDEV_POP,
	FLOE_AGG_VAR_SAMP,
	FLOE_AGG_VAR_POP
} floe_agg_fn;

typedef struct floe_expr_agg {
	floe_agg_fn fn;
	floe_expr *arg;        /* unbound argument; NULL for count(*) */
	const char *column;    /* name of the placeholder column the rewritten
	                          expression reads instead: "__agg0", "__agg1", ... */
} floe_expr_agg;

/* Replace every aggregate call in `e` by a reference to a placeholder
 * column and append the calls to (*aggs, *naggs) (an array in `arena`
 * that grows; start with NULL, 0). Identical calls (same function, same
 * argument text) share one placeholder, also across expressions split
 * with the same array. An aggregate inside another aggregate's argument is
 * FLOE_EINVALID. Call before floe_expr_bind. */
int floe_expr_split_aggregates(floe_expr *e, floe_expr_agg **aggs, int *naggs,
                               floe_arena *arena, floe_error *err);

/* true when `e` contains an aggregate call (before splitting). */
bool floe_expr_has_aggregate(const floe_expr *e);

/* Bind flags. */
enum {
	/* allow series functions: lag(x), lag(x, N), lag(x, INTERVAL),
	 * rolling_sum/avg/min/max/count/stddev(x, INTERVAL); evaluation then
	 * needs a floe_expr_series (lag by rows alone works without one) */
	FLOE_EXPR_SERIES = 1u << 0
};

/* Bind `e` to `input`: column names resolve to field indexes (exact, else
 * case-insensitive when unique; FLOE_ENOTFOUND naming the column and the
 * columns there are), types are inferred and checked (FLOE_EINVALID naming
 * the offending part), string literals compared with times are read as
 * times, and constant subtrees are computed once (nodes allocated in the
 * parse arena). An aggregate call left in the tree is FLOE_EINVALID
 * ("sum() is an aggregate: use it in an aggregate step"). Binding again
 * to another schema is allowed and starts from the parsed text's meaning;
 * `input` must outlive the binding (floe_expr_columns reads it). */
int floe_expr_bind(floe_expr *e, const floe_schema *input, unsigned flags, floe_error *err);

/* The bound result type: BOOLEAN, INT, LONG, DOUBLE, DECIMAL, STRING,
 * DATE, TIMESTAMP, TIMESTAMPTZ (and whatever a bare column reference has). */
floe_type floe_expr_type(const floe_expr *e);

/* The expression's text as parsed (for messages). */
const char *floe_expr_text(const floe_expr *e);

/* Rows sorted by group, then by time: what series functions see, both
 * arrays of the batch's nrows. Rows of one group are together (group[i]
 * equal; NULL = all rows are one group); time[i] (micros) is
 * non-decreasing within a group (NULL = row order only: lag(x, INTERVAL)
 * and rolling_* are then FLOE_EINVALID). A rolling frame of row i is the
 * group's rows with time in (time[i] - d, time[i]], later rows at time[i]
 * included; its value is exact (see docs/expressions.md), so it depends
 * only on those rows, not on where the batch began. */
typedef struct floe_expr_series {
	const int64_t *group;
	const int64_t *time;
} floe_expr_series;

/* Evaluate a bound expression on every row of `b` (whose columns are laid
 * out as the schema it was bound to; a column of another type is
 * FLOE_EINVALID). *out gets a column of floe_expr_type(e) with b->nrows
 * values; its buffers live in `arena`, except that a bare column reference
 * returns the batch's own column (copy it before the batch goes). CASE,
 * if, coalesce, AND and OR compute a branch only for the rows that take
 * it. Errors name the row: "row N: cannot cast 'abc' to double". */
int floe_expr_eval(const floe_expr *e, const floe_batch *b, const floe_expr_series *series,
                   floe_column *out, floe_arena *arena, floe_error *err);

/* Evaluate a BOOLEAN expression as a filter: keep[r] = 1 when TRUE
 * (NULL and FALSE give 0). */
int floe_expr_eval_filter(const floe_expr *e, const floe_batch *b,
                          const floe_expr_series *series, uint8_t *keep,
                          floe_arena *arena, floe_error *err);

/* Names of the input columns a bound expression reads (deduplicated, in
 * schema order) into names[] (at most cap; the names are the schema's);
 * returns how many were stored. */
int floe_expr_columns(const floe_expr *e, const char **names, int cap);

/* UPDATE `t` SET `set` WHERE `where` (the table filter language of
 * docs/filters.md; NULL or "" = every row) in one commit, as
 * floe_table_update but with expressions: `set` is "col = expression, ..."
 * where each expression is of this language over the columns of the row
 * (all of them read the row's old values, so "a = b, b = a" swaps) and a
 * result of another type than the column's is CAST to it (a failing cast
 * fails the update, naming the row). Columns by name as in binding, or in
 * double quotes. Errors name the assignment: "--set v (int): ...". When
 * `set` names a column of a type the language cannot produce (uuid,
 * binary, fixed, time, nanosecond timestamps, decimals over 18 digits),
 * the whole SET takes literals only, as floe_table_update. */
int floe_expr_update(floe_table *t, const char *set, const char *where,
                     floe_update_result *res, floe_error *err);

/* Parse a duration: "5 minutes", "1 minute", "30s", "1m", "1h", "2 hours",
 * "1 day", "250ms", "10 seconds", "1.5s", "1h30m" into microseconds (> 0);
 * units us, ms, s, m, h, d and their words. FLOE_EINVALID otherwise (err
 * may be NULL). */
int floe_expr_parse_interval(int64_t *us, const char *text, floe_error *err);

#ifdef __cplusplus
}
#endif
#endif
