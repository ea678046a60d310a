/* parquet/codec.c - page compression and decompression for the Parquet
 * codecs (parquet/codec.h), over snappy, zlib, brotli, lz4 and zstd. Used
 * by the page reader and writer. Compressed bytes are hostile. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/decode.h>
#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "floe/parquet.h"
#include "parquet/codec.h"

bool pq_codec_can_write(int codec)
{
	switch (codec) {
	case FLOE_PARQUET_UNCOMPRESSED:
	case FLOE_PARQUET_SNAPPY:
	case FLOE_PARQUET_GZIP:
	case FLOE_PARQUET_ZSTD:
	case FLOE_PARQUET_LZ4_RAW:
		return true;
	default:
		return false;
	}
}

/* ---- compression */

static int compress_gzip(floe_buf *dst, int level, const uint8_t *src, size_t n,
                         floe_error *err)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	/* windowBits 31 = 15-bit window with a gzip wrapper (what parquet-mr and
	 * arrow write for GZIP) */
	if (deflateInit2(&zs, level ? level : 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return floe_error_set(err, FLOE_EIO, "gzip: deflateInit2 failed");
	int rc = 0;
	zs.next_in = (Bytef *)(uintptr_t)src;
	int zrc = Z_OK;
	size_t left = n;
	while (zrc != Z_STREAM_END) {
		uInt in_now = left > 0x40000000u ? 0x40000000u : (uInt)left;
		zs.avail_in = in_now;
		int flush = left == in_now ? Z_FINISH : Z_NO_FLUSH;
		size_t bound = deflateBound(&zs, in_now) + 64;
		if (floe_buf_reserve(dst, bound)) {
			rc = floe_error_set(err, FLOE_ENOMEM, "gzip: out of memory");
			goto done;
		}
		size_t room = dst->cap - dst->len;
		zs.next_out = dst->data + dst->len;
		zs.avail_out = room > 0x40000000u ? 0x40000000u : (uInt)room;
		uInt before_out = zs.avail_out;
		zrc = deflate(&zs, flush);
		if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
			rc = floe_error_set(err, FLOE_EIO, "gzip: deflate failed (%d)", zrc);
			goto done;
		}
		dst->len += before_out - zs.avail_out;
		left -= in_now - zs.avail_in;
	}
done:
	deflateEnd(&zs);
	return rc;
}

/* ZSTD contexts, one of each per thread, kept for reuse: ZSTD_compress and
 * ZSTD_decompress would make (allocate and set up) one per page. A thread
 * that made one gets a key whose destructor frees them when it exits. */
static _Thread_local ZSTD_CCtx *zstd_cctx;
static _Thread_local ZSTD_DCtx *zstd_dctx;
static pthread_key_t zstd_key;
static pthread_once_t zstd_once = PTHREAD_ONCE_INIT;
static bool zstd_key_ok;

static void zstd_thread_exit(void *unused)
{
	(void)unused;
	ZSTD_freeCCtx(zstd_cctx);
	ZSTD_freeDCtx(zstd_dctx);
	zstd_cctx = NULL;
	zstd_dctx = NULL;
}

static void zstd_key_init(void)
{
	zstd_key_ok = pthread_key_create(&zstd_key, zstd_thread_exit) == 0;
}

/* Called once a thread holds a context: the key's value must be non-NULL
 * for its destructor to run. Without a key the contexts stay until exit. */
static void zstd_thread_keep(void)
{
	pthread_once(&zstd_once, zstd_key_init);
	if (zstd_key_ok)
		(void)pthread_setspecific(zstd_key, &zstd_once);
}

static int compress_zstd(floe_buf *dst, int level, const uint8_t *src, size_t n,
                         floe_error *err)
{
	if (!zstd_cctx) {
		if (!(zstd_cctx = ZSTD_createCCtx()))
			return floe_error_set(err, FLOE_ENOMEM, "zstd: cannot create a context");
		zstd_thread_keep();
	}
	size_t bound = ZSTD_compressBound(n);
	if (ZSTD_isError(bound) || floe_buf_reserve(dst, bound))
		return floe_error_set(err, FLOE_ENOMEM, "zstd: out of memory");
	size_t r = ZSTD_compressCCtx(zstd_cctx, dst->data + dst->len, bound, src, n,
	                             level ? level : 3);
	if (ZSTD_isError(r))
		return floe_error_set(err, FLOE_EIO, "zstd: %s", ZSTD_getErrorName(r));
	dst->len += r;
	return 0;
}

int pq_codec_compress(floe_buf *dst, int codec, int level, const uint8_t *src,
                      size_t n, floe_error *err)
{
	switch (codec) {
	case FLOE_PARQUET_UNCOMPRESSED:
		if (floe_buf_append(dst, src, n))
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		return 0;
	case FLOE_PARQUET_SNAPPY: {
		size_t len = snappy_max_compressed_length(n);
		if (floe_buf_reserve(dst, len))
			return floe_error_set(err, FLOE_ENOMEM, "snappy: out of memory");
		if (snappy_compress((const char *)src, n, (char *)dst->data + dst->len, &len) !=
		    SNAPPY_OK)
			return floe_error_set(err, FLOE_EIO, "snappy: compression failed");
		dst->len += len;
		return 0;
	}
	case FLOE_PARQUET_GZIP:
		return compress_gzip(dst, level, src, n, err);
	case FLOE_PARQUET_ZSTD:
		return compress_zstd(dst, level, src, n, err);
	case FLOE_PARQUET_LZ4_RAW: {
		if (n > (size_t)LZ4_MAX_INPUT_SIZE)
			return floe_error_set(err, FLOE_EINVALID,
			                      "lz4: a page of %zu bytes exceeds LZ4's limit", n);
		int bound = LZ4_compressBound((int)n);
		if (floe_buf_reserve(dst, (size_t)bound))
			return floe_error_set(err, FLOE_ENOMEM, "lz4: out of memory");
		int r = LZ4_compress_default((const char *)src, (char *)dst->data + dst->len,
		                             (int)n, bound);
		if (r <= 0)
			return floe_error_set(err, FLOE_EIO, "lz4: compression failed");
		dst->len += (size_t)r;
		return 0;
	}
	default:
		return floe_error_set(err, FLOE_EINVALID, "codec %d cannot be written", codec);
	}
}

/* ---- decompression */

/* GZIP: zlib inflate with windowBits 15+32 (gzip or zlib header, detected).
 * Some writers concatenate gzip members; keep inflating until the input is
 * used up and the output is full. */
static int decompress_gzip(uint8_t *dst, size_t expected, const uint8_t *src, size_t n,
                           floe_error *err)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return floe_error_set(err, FLOE_ENOMEM, "gzip: inflateInit2 failed");
	int rc = 0;
	size_t in_left = n, out_left = expected;
	zs.next_in = (Bytef *)(uintptr_t)src;
	zs.next_out = dst;
	for (;;) {
		uInt in_now = in_left > 0x40000000u ? 0x40000000u : (uInt)in_left;
		uInt out_now = out_left > 0x40000000u ? 0x40000000u : (uInt)out_left;
		zs.avail_in = in_now;
		zs.avail_out = out_now;
		int zrc = inflate(&zs, Z_NO_FLUSH);
		in_left -= in_now - zs.avail_in;
		out_left -= out_now - zs.avail_out;
		if (zrc == Z_STREAM_END) {
			if (in_left == 0)
				break;
			/* another member follows */
			if (out_left == 0) {
				rc = floe_error_set(err, FLOE_ECORRUPT,
				                    "gzip: data continues past the expected %zu bytes",
				                    expected);
				goto done;
			}
			if (inflateReset(&zs) != Z_OK) {
				rc = floe_error_set(err, FLOE_ECORRUPT, "gzip: cannot restart");
				goto done;
			}
			continue;
		}
		if (zrc == Z_OK)
			continue;
		if (zrc == Z_BUF_ERROR && (in_left > 0 && out_left > 0))
			continue;
		if (zrc == Z_BUF_ERROR && out_left == 0)
			rc = floe_error_set(err, FLOE_ECORRUPT,
			                    "gzip: data decompresses past the expected %zu bytes",
			                    expected);
		else if (zrc == Z_BUF_ERROR)
			rc = floe_error_set(err, FLOE_ECORRUPT, "gzip: data is truncated");
		else if (zrc == Z_MEM_ERROR)
			rc = floe_error_set(err, FLOE_ENOMEM, "gzip: out of memory");
		else
			rc = floe_error_set(err, FLOE_ECORRUPT, "gzip: %s",
			                    zs.msg ? zs.msg : "invalid data");
		goto done;
	}
	if (out_left != 0)
		rc = floe_error_set(err, FLOE_ECORRUPT,
		                    "gzip: decompressed to %zu bytes, expected %zu",
		                    expected - out_left, expected);
done:
	inflateEnd(&zs);
	return rc;
}

static inline uint32_t load_u32be(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* LZ4 (codec 5) as Hadoop writes it:
 *   frame := decompressed_size:u32be  compressed_size:u32be  lz4-block
 * repeated until the input ends. Sizes must add up exactly. Returns 0 or -1
 * (not Hadoop framing, or corrupt). */
static int lz4_hadoop(uint8_t *dst, size_t expected, const uint8_t *src, size_t n)
{
	size_t pos = 0, out = 0;
	if (n == 0)
		return -1;
	while (pos < n) {
		if (n - pos < 8)
			return -1;
		uint32_t dlen = load_u32be(src + pos), clen = load_u32be(src + pos + 4);
		pos += 8;
		if (clen > n - pos || dlen > expected - out || clen > INT_MAX || dlen > INT_MAX)
			return -1;
		int r = LZ4_decompress_safe((const char *)src + pos, (char *)dst + out, (int)clen,
		                            (int)dlen);
		if (r < 0 || (uint32_t)r != dlen)
			return -1;
		pos += clen;
		out += dlen;
	}
	return out == expected ? 0 : -1;
}

static int lz4_raw(uint8_t *dst, size_t expected, const uint8_t *src, size_t n,
                   floe_error *err)
{
	if (n > INT_MAX || expected > INT_MAX)
		return floe_error_set(err, FLOE_ECORRUPT, "lz4: page exceeds 2 GiB");
	int r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)expected);
	if (r < 0)
		return floe_error_set(err, FLOE_ECORRUPT, "lz4: invalid block");
	if ((size_t)r != expected)
		return floe_error_set(err, FLOE_ECORRUPT,
		                      "lz4: decompressed to %d bytes, expected %zu", r, expected);
	return 0;
}

int pq_codec_decompress(uint8_t *dst, size_t expected, int codec, const uint8_t *src,
                        size_t n, floe_error *err)
{
	if (codec == FLOE_PARQUET_LZO)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "LZO codec is not supported");
	if (codec < FLOE_PARQUET_UNCOMPRESSED || codec > FLOE_PARQUET_LZ4_RAW)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "unknown codec %d", codec);
	/* an empty section is valid for every codec and is never handed to a
	 * library (some reject empty input) */
	if (expected == 0 && n == 0)
		return 0;
	switch (codec) {
	case FLOE_PARQUET_UNCOMPRESSED:
		if (n != expected)
			return floe_error_set(err, FLOE_ECORRUPT,
			                      "uncompressed page holds %zu bytes, expected %zu", n,
			                      expected);
		memcpy(dst, src, n);
		return 0;
	case FLOE_PARQUET_SNAPPY: {
		size_t len;
		if (snappy_uncompressed_length((const char *)src, n, &len) != SNAPPY_OK)
			return floe_error_set(err, FLOE_ECORRUPT, "snappy: invalid header");
		if (len != expected)
			return floe_error_set(err, FLOE_ECORRUPT,
			                      "snappy: data decompresses to %zu bytes, expected %zu",
			                      len, expected);
		if (snappy_uncompress((const char *)src, n, (char *)dst, &len) != SNAPPY_OK ||
		    len != expected)
			return floe_error_set(err, FLOE_ECORRUPT, "snappy: invalid data");
		return 0;
	}
	case FLOE_PARQUET_GZIP:
		return decompress_gzip(dst, expected, src, n, err);
	case FLOE_PARQUET_BROTLI: {
		size_t len = expected;
		BrotliDecoderResult r = BrotliDecoderDecompress(n, src, &len, dst);
		if (r != BROTLI_DECODER_RESULT_SUCCESS)
			return floe_error_set(err, FLOE_ECORRUPT, "brotli: %s",
			                      r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT
			                              ? "data decompresses past the expected size"
			                              : "invalid or truncated data");
		if (len != expected)
			return floe_error_set(err, FLOE_ECORRUPT,
			                      "brotli: decompressed to %zu bytes, expected %zu", len,
			                      expected);
		return 0;
	}
	case FLOE_PARQUET_LZ4:
		if (lz4_hadoop(dst, expected, src, n) == 0)
			return 0;
		if (lz4_raw(dst, expected, src, n, err) == 0)
			return 0;
		return floe_error_set(err, FLOE_ECORRUPT,
		                      "lz4: neither Hadoop-framed nor a raw LZ4 block of %zu bytes",
		                      expected);
	case FLOE_PARQUET_ZSTD: {
		if (!zstd_dctx) {
			if (!(zstd_dctx = ZSTD_createDCtx()))
				return floe_error_set(err, FLOE_ENOMEM, "zstd: cannot create a context");
			zstd_thread_keep();
		}
		size_t r = ZSTD_decompressDCtx(zstd_dctx, dst, expected, src, n);
		if (ZSTD_isError(r))
			return floe_error_set(err, FLOE_ECORRUPT, "zstd: %s", ZSTD_getErrorName(r));
		if (r != expected)
			return floe_error_set(err, FLOE_ECORRUPT,
			                      "zstd: decompressed to %zu bytes, expected %zu", r,
			                      expected);
		return 0;
	}
	case FLOE_PARQUET_LZ4_RAW:
		return lz4_raw(dst, expected, src, n, err);
	default:
		return floe_error_set(err, FLOE_EUNSUPPORTED, "unknown codec %d", codec);
	}
}
