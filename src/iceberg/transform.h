/* iceberg/transform.h - partition transforms (identity, bucket[N],
 * truncate[W], year, month, day, hour, void): parsing and printing their
 * names, result types, applying them to values and to whole columns, and
 * projecting predicates through them (spec "Partition Transforms",
 * "Bucket Transform Details", "Truncate Transform Details", Appendix B). */
#ifndef FLOE_ICEBERG_TRANSFORM_H
#define FLOE_ICEBERG_TRANSFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/batch.h"
#include "floe/error.h"
#include "floe/schema.h"
#include "iceberg/value.h"

typedef enum ice_transform_kind {
	ICE_T_IDENTITY = 1,
	ICE_T_BUCKET,   /* param = N */
	ICE_T_TRUNCATE, /* param = W */
	ICE_T_YEAR,
	ICE_T_MONTH,
	ICE_T_DAY,
	ICE_T_HOUR,
	ICE_T_VOID,
	ICE_T_UNKNOWN   /* a name floe does not know: kept for round trips,
	                   never applied */
} ice_transform_kind;

typedef struct ice_transform {
	ice_transform_kind kind;
	int32_t param;
	const char *unknown_name; /* ICE_T_UNKNOWN: the name as read (static or
	                             arena memory of the caller) */
} ice_transform;

/* "identity", "bucket[16]", "truncate[4]", "year", "month", "day", "hour",
 * "void" (spaces not allowed, N and W >= 1). Unknown names give
 * ICE_T_UNKNOWN with unknown_name = text (not copied) and return 0. */
int ice_transform_parse(ice_transform *out, const char *text, floe_error *err);

/* Name as the spec writes it ("bucket[16]"); returns buf. */
const char *ice_transform_format(const ice_transform *t, char *buf, int bufsize);

/* Can `t` apply to a source column of `src`? (identity: any primitive;
 * bucket: int, long, decimal, date, time, timestamp*, string, uuid, fixed,
 * binary; truncate: int, long, decimal, string, binary; year/month/day:
 * date, timestamp*; hour: timestamp*; void: any.) If so, *out = result type:
 * identity -> src, bucket -> int, truncate -> src, year/month/hour -> int,
 * day -> date, void -> src. Otherwise FLOE_EINVALID naming both. */
int ice_transform_result_type(const ice_transform *t, const floe_type *src,
                              floe_type *out, floe_error *err);

/* Apply `t` to one value of type `src`: *out gets the result (of
 * ice_transform_result_type). NULL in -> NULL out; void -> NULL. Truncated
 * strings cut at a code point boundary (W code points), binary at W bytes;
 * the result's bytes point into the input. year/month/day/hour count from
 * 1970-01-01T00:00 (negative before), floor for negative timestamps. */
int ice_transform_apply(const ice_transform *t, const floe_type *src, const ice_datum *in,
                        ice_datum *out, floe_error *err);

/* Bucket hash of a value (before the modulo): murmur3_x86_32 seed 0 of the
 * spec's hash input (int and long hashed as 8-byte LE long; date as int;
 * time/timestamp as long micros (timestamp_ns: micros = floor(nanos /
 * 1000)); decimal: minimal big-endian two's complement of the unscaled
 * value; string UTF-8 bytes; uuid 16 bytes big-endian; fixed/binary bytes;
 * float/double as 8-byte LE double (for the spec's hash examples; not a
 * valid bucket source). Returned as int32 as the spec's examples print it. */
int32_t ice_transform_hash(const floe_type *src, const floe_value *v);

/* Apply `t` to rows [0, nrows) of `col` (type `src`): out[r] is the result
 * for row r (same conventions as ice_transform_apply; bytes point into the
 * column). Vectorized for the routing of appends. */
int ice_transform_apply_column(const ice_transform *t, const floe_type *src,
                               const floe_column *col, int64_t nrows, ice_datum *out,
                               floe_error *err);

/* The integer results of `t` on rows [0, nrows) of `col` (type `src`)
 * into out[], for the transforms routing meets most: day and hour of a
 * timestamp and identity of int, long, date or timestamp, on a column
 * without NULLs. 1 (nothing written) when `t` and `src` are not such a
 * pair or the column has NULLs: the caller then uses
 * ice_transform_apply_column. The results are those of ice_transform_apply
 * (a datum of ice_transform_result_type with v.i = out[r]). */
int ice_transform_apply_ints(const ice_transform *t, const floe_type *src,
                             const floe_column *col, int64_t nrows, int64_t *out,
                             floe_error *err);

/* Inclusive projection of `source OP literal` through `t` (spec "Scan
 * Planning"): a predicate `partition OP' value'` that is true for every
 * partition that may hold a matching row. ops are those of floe/parquet.h
 * (EQ, LT, LE, GT, GE; IN handled by the caller per value). Returns 1 with
 * *out_op and *out_value set, or 0 when nothing can be projected (the
 * partition cannot be pruned by this predicate). Examples: day(ts) with
 * ts < X -> day <= day(X); bucket: only EQ; truncate of strings: LT -> LE
 * of the truncated literal; identity: the same predicate. Literal bytes of
 * the result may point into `lit`. */
int ice_transform_project(const ice_transform *t, const floe_type *src, int op,
                          const ice_datum *lit, int *out_op, ice_datum *out_value,
                          floe_error *err);

/* Does `t` preserve order (identity, truncate, year, month, day, hour)? */
bool ice_transform_preserves_order(const ice_transform *t);

#endif
