/* parquet/codec.h - page compression for every Parquet codec floe handles:
 * UNCOMPRESSED, SNAPPY, GZIP (concatenated members on read), BROTLI (read),
 * LZ4 (read: Hadoop framing, falling back to a raw LZ4 block), ZSTD and
 * LZ4_RAW. LZO is FLOE_EUNSUPPORTED. Internal to libfloe. */
#ifndef FLOE_PARQUET_CODEC_H
#define FLOE_PARQUET_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "floe/error.h"
#include "util/buf.h"

/* Codecs floe can write: UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW. */
bool pq_codec_can_write(int codec);

/* Append the compressed form of src[0..n) to dst. `level` 0 = the codec's
 * default (ZSTD 3, GZIP 6). Returns 0, FLOE_ENOMEM, FLOE_EINVALID (codec
 * not writable) or FLOE_EIO (library failure), with err set. */
int pq_codec_compress(floe_buf *dst, int codec, int level, const uint8_t *src,
                      size_t n, floe_error *err);

/* Decompress src[0..n) into dst, which has exactly `expected` bytes (the
 * page header's uncompressed size); producing any other amount is corrupt.
 * Errors carry the reason only (the caller adds file and offset with
 * floe_error_locate): FLOE_ECORRUPT, FLOE_EUNSUPPORTED (LZO, unknown codec),
 * FLOE_ENOMEM. */
int pq_codec_decompress(uint8_t *dst, size_t expected, int codec, const uint8_t *src,
                        size_t n, floe_error *err);

#endif
