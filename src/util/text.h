/* util/text.h - text input (CSV, NDJSON, typed literals) for libfloe and the command line: value parsers for every
 * logical type and streaming CSV / NDJSON loaders that emit floe_batches. */
#ifndef FLOE_UTIL_TEXT_H
#define FLOE_UTIL_TEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "floe/batch.h"
#include "floe/parquet.h"
#include "floe/schema.h"
#include "util/buf.h"

/* Parse the text s[0..n) as a value of `type` into `out` (storage as
 * floe/parquet.h's floe_value: i for ints/dates/times/timestamps/decimal
 * P<=18, d for FLOAT/DOUBLE, b for BOOLEAN, bytes+len otherwise). Bytes
 * point into `s` (STRING, JSON) or into `scratch` (BINARY/FIXED decoded
 * from base64, UUID, DECIMAL P>18 as 16 big-endian bytes), which the caller
 * owns and must keep until the value is used. Text forms:
 *   boolean true/false/1/0; integers with range checks; decimal "-12.34"
 *   (at most `scale` fraction digits, at most `precision` digits); date
 *   YYYY-MM-DD (other years signed: +12345-01-01, -0044-03-15); time
 *   HH:MM:SS[.ffffff]; timestamps
 *   YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|+HH:MM|-HH:MM] (an offset only for
 *   timestamptz*, converted to UTC; epoch integers are not accepted); uuid
 *   8-4-4-4-12 hex; binary and fixed as base64; json must parse as JSON.
 * Errors are FLOE_EINVALID with a short reason. */
int floe_text_parse(floe_value *out, const floe_type *type, const char *s, size_t n,
                    floe_buf *scratch, floe_error *err);

/* Append a parsed value to column `col` of the builder. */
int floe_text_append(floe_batch_builder *bld, int col, const floe_type *type,
                     const floe_value *v, floe_error *err);

typedef enum floe_text_format {
	FLOE_TEXT_CSV = 1,
	FLOE_TEXT_NDJSON
} floe_text_format;

/* "csv" / "ndjson" / "jsonl" / "json" (case-insensitive); else FLOE_EINVALID. */
int floe_text_format_parse(floe_text_format *out, const char *name, floe_error *err);

/* From a path's extension (.csv, .ndjson, .jsonl, .json); FLOE_EINVALID
 * when it says nothing. */
int floe_text_format_from_path(floe_text_format *out, const char *path, floe_error *err);

/* Called with each full batch (and the last partial one); the batch is
 * valid only during the call. Nonzero return stops the load. */
typedef int (*floe_text_batch_fn)(void *ctx, const floe_batch *batch, floe_error *err);

/* Stream `in` (named `name` in errors) as `fmt` into batches of `schema`
 * of at most `batch_rows` rows (<= 0: 65536), calling `fn` for each.
 * CSV: RFC 4180, a header row naming columns (matched to fields by name;
 * a header name not in the schema is an error; fields absent from the
 * header are NULL), CRLF or LF, blank lines skipped, an empty unquoted field
 * is NULL, a quoted empty field is the empty string. NDJSON: one object per line, keys by
 * name, missing or null = NULL, unknown keys ignored, blank lines skipped.
 * A bad record: "NAME:LINE (byte OFFSET): column 'c': why". `*rows_out`
 * (may be NULL) gets the number of rows loaded. */
int floe_text_load(FILE *in, const char *name, floe_text_format fmt,
                   const floe_schema *schema, int64_t batch_rows,
                   floe_text_batch_fn fn, void *ctx, int64_t *rows_out,
                   floe_error *err);

/* Length of the well-formed UTF-8 sequence (RFC 3629: no overlongs,
 * surrogates or > U+10FFFF) that starts with the byte >= 0x80 at p[0], of
 * the n >= 1 bytes there; 0 when it is not one. */
size_t floe_utf8_seq(const uint8_t *p, size_t n);

/* Base64 (RFC 4648, standard alphabet, padding optional on input). */
int floe_base64_decode(floe_buf *out, const char *s, size_t n);
int floe_base64_encode(floe_buf *out, const uint8_t *p, size_t n);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t floe_days_from_civil(int64_t y, unsigned m, unsigned d);
void floe_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
