/* util/format.h - text output for libfloe and the command line: floe_batches as CSV
 * (header once) or JSON lines, one value format per logical type. */
#ifndef FLOE_UTIL_FORMAT_H
#define FLOE_UTIL_FORMAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "floe/batch.h"
#include "util/buf.h"

typedef enum floe_format_kind {
	FLOE_FORMAT_CSV = 1,
	FLOE_FORMAT_JSONL
} floe_format_kind;

/* "csv" / "jsonl" (also "ndjson", "json"); else FLOE_EINVALID. */
int floe_format_kind_parse(floe_format_kind *out, const char *name, floe_error *err);

/* Append row `row` of `col` as text to `out`, unquoted (csv=false and
 * json=false), or as a JSON value (json=true). Forms: ints (unsigned types
 * unsigned), floats in the shortest form that reads back exactly, decimals
 * exact with their scale, date YYYY-MM-DD, time HH:MM:SS.ffffff, timestamps
 * YYYY-MM-DDTHH:MM:SS.ffffff[fff] plus "Z" for tz types, uuid 8-4-4-4-12,
 * binary/fixed base64. NULL: nothing (text) or null (json). */
int floe_format_value(floe_buf *out, const floe_column *col, int64_t row, bool json);

/* The rows of `batch` written to `f`: CSV with a header before the first
 * row when *header_done is false (then set), or one JSON object per line
 * keyed by the batch schema's names. `keep` (may be NULL: all) holds one
 * byte per row, nonzero = print. */
int floe_format_batch(FILE *f, const floe_batch *batch, floe_format_kind kind,
                      bool *header_done, const uint8_t *keep, floe_error *err);

/* Pieces of the text forms above, for other formatters (partition paths):
 * the shortest %g that reads back exactly (NaN, Infinity, -Infinity); a
 * decimal's unscaled value with `scale` fraction digits; a date
 * YYYY-MM-DD (signed expanded years outside 0000..9999). 0 or FLOE_ENOMEM. */
void floe_format_shortest(char *buf, size_t cap, double d, bool is_float);
int floe_format_decimal(floe_buf *out, __int128 v, int scale);
int floe_format_date(floe_buf *out, int64_t days);

#endif
