/* floe/window.h - the engine's operators over rows held in memory: sorting
 * and gathering rows, windowed aggregation on event time (tumbling and
 * hopping windows, aggregates and expressions over them) and rolling
 * columns (series functions over each key's rows in time order). Every
 * result depends only on the rows given, never on their order or on how
 * they were batched, so a stream and a backfill agree. */
#ifndef FLOE_WINDOW_H
#define FLOE_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/batch.h"
#include "floe/error.h"
#include "floe/expr.h"
#include "floe/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- rows ------------------------------------------------------------------ */

/* A stable ascending order of b's rows by columns cols[0..ncols) (NULL
 * sorts first; strings by bytes; doubles with -0.0 == 0.0 and NaN last):
 * *perm (n = b->nrows entries, in `arena`). */
int floe_batch_sort(const floe_batch *b, const int *cols, int ncols, int32_t **perm,
                    floe_arena *arena, floe_error *err);

/* out = the rows idx[0..n) of b, in that order (buffers in `arena`;
 * out->schema = b->schema). An index outside b is FLOE_EINVALID. */
int floe_batch_take(const floe_batch *b, const int32_t *idx, int64_t n, floe_batch *out,
                    floe_arena *arena, floe_error *err);

/* out = the rows of bs[0], bs[1], ... (same column types) one after the
 * other (buffers in `arena`; out->schema = bs[0]->schema). */
int floe_batch_concat(const floe_batch *const *bs, int n, floe_batch *out,
                      floe_arena *arena, floe_error *err);

/* ---- windowed aggregation ---------------------------------------------------- */

typedef struct floe_window_spec {
	const char *const *keys;   /* group-by columns (0..16) */
	int nkeys;
	const char *time;          /* event-time column: TIMESTAMP or TIMESTAMPTZ, not null */
	int64_t size_us;           /* window length (> 0) */
	int64_t slide_us;          /* hop between window starts: 0 or size_us =
	                              tumbling; else size_us must be a multiple */
	const char *const *order;  /* tie-breaks after the time (ascending), for
	                              first/last and lag; rows equal on time and
	                              every tie-break keep no defined order, so
	                              name a unique column (trade_id) */
	int norder;
	const char *const *names;  /* output columns: names[i] = exprs[i] */
	const char *const *exprs;
	int nout;
} floe_window_spec;

typedef struct floe_window floe_window;

/* Parse and bind the spec against `input`. Windows are aligned to the
 * epoch: a window starts at every multiple of slide_us and covers
 * [start, start + size_us). Output expressions may use aggregates of
 * expressions over input columns (whose arguments may use lag(): the
 * previous row of the same key and window in (time, order) order), the
 * key columns, window_start and window_end, e.g. "sum(price * volume) /
 * sum(volume)". The output schema: the keys (input types), window_start,
 * window_end (the time column's type), then one column per output, in
 * order. Aggregates ignore NULL arguments (first/last: the first/last
 * non-NULL value; docs/windows.md). Errors name the output column. */
int floe_window_new(floe_window **out, const floe_window_spec *spec, const floe_schema *input,
                    floe_error *err);
const floe_schema *floe_window_schema(const floe_window *w);

/* Aggregate the rows of `in` (laid out as `input`): one output row for
 * every (keys, window) that holds a row and whose start is in
 * [from_us, to_us) (INT64_MIN, INT64_MAX = all), sorted by window_start,
 * then keys (newest windows last, as a table of bars is appended). A
 * window is right only when `in` holds all of its rows.
 * Rows with a NULL time are FLOE_EINVALID. Buffers of *out in `arena`;
 * out->schema is floe_window_schema(w): keep w while out is used. */
int floe_window_run(floe_window *w, const floe_batch *in, int64_t from_us, int64_t to_us,
                    floe_batch *out, floe_arena *arena, floe_error *err);
void floe_window_free(floe_window *w);

/* ---- rolling columns --------------------------------------------------------- */

typedef struct floe_rolling_spec {
	const char *const *keys;   /* series key columns (0..16) */
	int nkeys;
	const char *time;          /* order column: TIMESTAMP or TIMESTAMPTZ, not null */
	const char *const *order;  /* tie-breaks after the time */
	int norder;
	const char *const *names;  /* output columns: names[i] = exprs[i], which
	                              may use series functions (lag(x),
	                              lag(x, N), lag(x, INTERVAL '5 minutes'):
	                              the row of the same key exactly that long
	                              before, rolling_*(x, INTERVAL): over the
	                              key's rows with time in (t - d, t]) */
	const char *const *exprs;
	int nout;
} floe_rolling_spec;

typedef struct floe_rolling floe_rolling;

/* Output schema: the outputs, in order (name the keys among them to keep
 * them). */
int floe_rolling_new(floe_rolling **out, const floe_rolling_spec *spec,
                     const floe_schema *input, floe_error *err);
const floe_schema *floe_rolling_schema(const floe_rolling *r);

/* The longest look-back of the outputs' series functions: the sum of every
 * INTERVAL they use (an upper bound), plus nothing for row lags (which
 * need the caller to give enough earlier rows). A row at time t depends on
 * rows in [t - lookback, t]. */
int64_t floe_rolling_lookback_us(const floe_rolling *r);

/* One output row for every row of `in` whose time is in [from_us, to_us),
 * sorted by time, then keys and tie-breaks; series functions see every row
 * of `in`. Buffers of *out in `arena`; out->schema is
 * floe_rolling_schema(r). */
int floe_rolling_run(floe_rolling *r, const floe_batch *in, int64_t from_us, int64_t to_us,
                     floe_batch *out, floe_arena *arena, floe_error *err);
void floe_rolling_free(floe_rolling *r);

#ifdef __cplusplus
}
#endif
#endif
