/* floe/batch.h - columnar batches in the Arrow layout: a validity bitmap per
 * column, fixed-width values, or int64 offsets + data for variable-width
 * values. Every layer moves rows in these; nothing converts row by row. */
#ifndef FLOE_BATCH_H
#define FLOE_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/error.h"
#include "floe/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct floe_column {
	floe_type type;
	int64_t null_count;
	uint8_t *validity; /* bit i (LSB first) set = row i is valid; NULL = all
	                      valid. ceil(nrows/8) bytes. */
	void *values;      /* fixed-width storage: nrows * width bytes (null slots
	                      hold any bytes) */
	int64_t *offsets;  /* variable-width storage: nrows + 1 offsets into data,
	                      non-decreasing, offsets[0] == 0 */
	uint8_t *data;     /* variable-width bytes */
} floe_column;

typedef struct floe_batch {
	int64_t nrows;
	int ncols;
	floe_column *cols;
	const floe_schema *schema; /* names/ids of cols; may be NULL */
} floe_batch;

static inline bool floe_column_is_valid(const floe_column *col, int64_t row)
{
	return col->validity == NULL ||
	       (col->validity[row >> 3] >> (row & 7)) & 1;
}

static inline void floe_bitmap_set(uint8_t *bits, int64_t i, bool v)
{
	if (v)
		bits[i >> 3] |= (uint8_t)(1u << (i & 7));
	else
		bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

/* A growable batch built value by value, column by column (text loaders,
 * generators, tests). Append one value to every column, then the row is
 * complete. Buffers are malloc'ed and owned by the builder. */
typedef struct floe_batch_builder floe_batch_builder;

/* `schema` must outlive the builder. */
int floe_batch_builder_new(floe_batch_builder **out, const floe_schema *schema,
                           floe_error *err);
void floe_batch_builder_free(floe_batch_builder *bld);

/* Append to column `col`. The value must fit the column's storage (see
 * floe/schema.h): i32 for INT/DATE, i64 for LONG/TIME/TIMESTAMP*, DECIMAL
 * P<=18, bytes for variable and fixed-width types (length must equal the
 * width for fixed). Appending NULL to a required column is FLOE_EINVALID. */
int floe_batch_builder_null(floe_batch_builder *bld, int col, floe_error *err);
int floe_batch_builder_bool(floe_batch_builder *bld, int col, bool v, floe_error *err);
int floe_batch_builder_i32(floe_batch_builder *bld, int col, int32_t v, floe_error *err);
int floe_batch_builder_i64(floe_batch_builder *bld, int col, int64_t v, floe_error *err);
int floe_batch_builder_f32(floe_batch_builder *bld, int col, float v, floe_error *err);
int floe_batch_builder_f64(floe_batch_builder *bld, int col, double v, floe_error *err);
int floe_batch_builder_bytes(floe_batch_builder *bld, int col, const void *p,
                             int64_t n, floe_error *err);

/* Rows complete so far, and bytes held by the value buffers. */
int64_t floe_batch_builder_rows(const floe_batch_builder *bld);
int64_t floe_batch_builder_bytes_used(const floe_batch_builder *bld);

/* View of the complete rows; valid until the next append or clear. */
const floe_batch *floe_batch_builder_view(floe_batch_builder *bld);

/* Drop all rows, keep the buffers for reuse. */
void floe_batch_builder_clear(floe_batch_builder *bld);

#ifdef __cplusplus
}
#endif
#endif
