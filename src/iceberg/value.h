/* iceberg/value.h - one typed value (a datum), the Iceberg spec's
 * single-value binary serialization (Appendix D: column bounds, partition
 * summaries), the total order used for bounds, and a text form. Internal. */
#ifndef FLOE_ICEBERG_VALUE_H
#define FLOE_ICEBERG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/error.h"
#include "floe/parquet.h" /* floe_value */
#include "floe/schema.h"
#include "util/buf.h"

/* A value with its type; `v` holds the storage of floe/parquet.h's
 * floe_value for `type` (i / d / b / bytes+len). */
typedef struct ice_datum {
	floe_type type;
	bool is_null;
	floe_value v;
} ice_datum;

/* Append the binary single-value serialization of `v` to `out`:
 * BOOLEAN 1 byte 0/1; INT, DATE 4 bytes LE; LONG, TIME, TIMESTAMP* 8 bytes
 * LE; FLOAT 4, DOUBLE 8 bytes LE IEEE 754; STRING, JSON UTF-8 bytes; BINARY
 * and FIXED the bytes; UUID 16 bytes as stored (big-endian); DECIMAL the
 * unscaled value as big-endian two's complement in the fewest bytes that
 * hold it (at least 1). */
int ice_value_serialize(floe_buf *out, const floe_type *type, const floe_value *v,
                        floe_error *err);

/* Decode `n` bytes at `p` as a value of `type` into *out. Variable and
 * fixed-width bytes point into `p` except DECIMAL P > 18 (16 bytes
 * sign-extended into `arena`). Tolerates values written under an older
 * type after a promotion: 4 bytes for LONG (int), 4 bytes for DOUBLE
 * (float), fewer bytes for any DECIMAL. Wrong sizes are FLOE_ECORRUPT. */
int ice_value_deserialize(floe_value *out, const floe_type *type, const uint8_t *p,
                          size_t n, floe_arena *arena, floe_error *err);

/* -1, 0, 1 in Iceberg's order for `type`: signed numbers, -0.0 < 0.0 and NaN
 * greater than everything (NaN == NaN); STRING/BINARY/FIXED/UUID unsigned
 * byte-wise then shorter first; DECIMAL by unscaled value; BOOLEAN false <
 * true. */
int ice_value_compare(const floe_type *type, const floe_value *a, const floe_value *b);

/* Text form for partition paths, `floe files` and messages (the spec's
 * "human string" for identity values): ints and decimals in decimal, date
 * YYYY-MM-DD, time HH:MM:SS[.ffffff], timestamp YYYY-MM-DDTHH:MM:SS[.ffffff]
 * (+ "+00:00" for tz types), uuid 8-4-4-4-12, binary/fixed base64, float
 * and double shortest round-trip, strings as is. NULL datums print "null". */
int ice_datum_format(floe_buf *out, const ice_datum *d);

/* Copy variable bytes of `src` into `arena` so `dst` outlives its source. */
int ice_datum_copy(ice_datum *dst, const ice_datum *src, floe_arena *arena);

#endif
