/* parquet/encoding.h - the value and level encodings of Parquet
 * (apache/parquet-format Encodings.md). Decoders take a hostile source
 * buffer and never read past src + n; on bad input they return
 * FLOE_ECORRUPT with the reason in err (no file or offset: the page decoder
 * adds them with floe_error_locate). Encoders append to a floe_buf and
 * return 0 or FLOE_ENOMEM. Internal to libfloe. */
#ifndef FLOE_PARQUET_ENCODING_H
#define FLOE_PARQUET_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/error.h"
#include "parquet/meta.h" /* pq_bytes */
#include "util/buf.h"

/* Bits needed for values 0..max (0 for max == 0). */
int pq_bit_width(uint64_t max);

/* ---- RLE / bit-packed hybrid (levels, dictionary indices, RLE booleans) */

/* Decode exactly `count` values of `bit_width` (0..32) bits. Trailing bytes
 * after the last needed run are ignored; running out is corrupt. A value
 * >= 2^bit_width cannot occur; a bit_width > 32 is corrupt. */
int pq_rle_decode(uint32_t *out, size_t count, const uint8_t *src, size_t n,
                  int bit_width, floe_error *err);

/* Encode `count` values (each < 2^bit_width) choosing RLE runs for repeats
 * (>= 8) and bit-packed groups of 8 otherwise. No length prefix. */
int pq_rle_encode(floe_buf *dst, const uint32_t *vals, size_t count, int bit_width);
/* The same for `count` copies of v (e.g. the definition levels of a page
 * without nulls), without looking at each. */
int pq_rle_encode_repeat(floe_buf *dst, uint32_t v, size_t count, int bit_width);

/* Legacy BIT_PACKED level encoding (encoding 4: MSB-first packing). */
int pq_bitpacked_msb_decode(uint32_t *out, size_t count, const uint8_t *src, size_t n,
                            int bit_width, floe_error *err);

/* ---- PLAIN */

/* Fixed-width: count * width bytes copied from src (width 4, 8, 12, N). */
int pq_plain_decode_fixed(void *out, size_t count, size_t width, const uint8_t *src,
                          size_t n, size_t *consumed, floe_error *err);
/* Booleans: bit-packed LSB first, one uint8_t 0/1 per value out. */
int pq_plain_decode_bool(uint8_t *out, size_t count, const uint8_t *src, size_t n,
                         size_t *consumed, floe_error *err);
/* BYTE_ARRAY: 4-byte little-endian length + bytes, views into src. */
int pq_plain_decode_byte_array(pq_bytes *out, size_t count, const uint8_t *src,
                               size_t n, size_t *consumed, floe_error *err);
int pq_plain_encode_bool(floe_buf *dst, const uint8_t *vals, size_t count);
/* Appends len32 + bytes for each value (offsets are int64, n+1 entries). */
int pq_plain_encode_byte_array(floe_buf *dst, const int64_t *offsets, const uint8_t *data,
                               size_t count);

/* ---- DELTA_BINARY_PACKED (INT32 and INT64) */

/* Decode exactly `count` values (the page's non-null value count); the
 * header's total may be larger or equal. *consumed = bytes used, so a
 * following section (DELTA_LENGTH_BYTE_ARRAY data) can start after it.
 * Arithmetic wraps modulo 2^64 (2^32 for i32) as the spec requires. */
int pq_delta_decode_i64(int64_t *out, size_t count, const uint8_t *src, size_t n,
                        size_t *consumed, floe_error *err);
int pq_delta_decode_i32(int32_t *out, size_t count, const uint8_t *src, size_t n,
                        size_t *consumed, floe_error *err);
/* Block 128, 4 miniblocks of 32. */
int pq_delta_encode_i64(floe_buf *dst, const int64_t *vals, size_t count);
int pq_delta_encode_i32(floe_buf *dst, const int32_t *vals, size_t count);

/* ---- DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY (BYTE_ARRAY, FLBA) */

/* Views into src. */
int pq_delta_length_decode(pq_bytes *out, size_t count, const uint8_t *src, size_t n,
                           floe_error *err);
/* Prefix + suffix reconstruction; reconstructed bytes live in `arena`. */
int pq_delta_byte_array_decode(pq_bytes *out, size_t count, const uint8_t *src, size_t n,
                               floe_arena *arena, floe_error *err);

/* ---- BYTE_STREAM_SPLIT (FLOAT, DOUBLE, INT32, INT64, FLBA) */

/* src holds `width` streams of `count` bytes each (n must be count*width). */
int pq_bss_decode(void *out, size_t count, size_t width, const uint8_t *src, size_t n,
                  floe_error *err);

/* ---- CRC-32 of page bytes (the page header's crc: zlib's CRC-32) */
uint32_t pq_crc32(const uint8_t *p, size_t n);

#endif
