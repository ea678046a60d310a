/* tests/parquet/test_codec.c - page compression (parquet/codec.h): round
 * trips for every writable codec, Hadoop-framed LZ4, concatenated gzip
 * members, brotli reads, corrupt or mis-sized input, and ZSTD contexts
 * freed as threads exit. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <lz4.h>
#include <zlib.h>

#include "floe/parquet.h"
#include "harness.h"
#include "parquet/codec.h"

static const int writable[] = { FLOE_PARQUET_UNCOMPRESSED, FLOE_PARQUET_SNAPPY,
	                        FLOE_PARQUET_GZIP, FLOE_PARQUET_ZSTD, FLOE_PARQUET_LZ4_RAW };
#define NWRITABLE (sizeof writable / sizeof writable[0])

/* Half repetitive text, half noise, so every codec has work to do. */
static uint8_t *sample(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	uint64_t s = 12345;
	for (size_t i = 0; i < n; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (i / 64) % 2 ? (uint8_t)(s >> 56) : (uint8_t)("parquet page "[i % 13]);
	}
	return p;
}

TEST(pq_codec_can_write_list)
{
	for (size_t i = 0; i < NWRITABLE; i++)
		CHECK(pq_codec_can_write(writable[i]));
	CHECK(!pq_codec_can_write(FLOE_PARQUET_LZO));
	CHECK(!pq_codec_can_write(FLOE_PARQUET_BROTLI));
	CHECK(!pq_codec_can_write(FLOE_PARQUET_LZ4));
	CHECK(!pq_codec_can_write(99));
}

TEST(pq_codec_roundtrip_writable)
{
	const size_t sizes[] = { 0, 1, 13, 1000, 300000 };
	floe_error errv, *err = &errv;
	for (size_t c = 0; c < NWRITABLE; c++) {
		for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
			size_t n = sizes[s];
			uint8_t *src = sample(n);
			floe_buf b = FLOE_BUF_INIT;
			REQUIRE_OK(pq_codec_compress(&b, writable[c], 0, src, n, err), err);
			if (n == 300000 && writable[c] != FLOE_PARQUET_UNCOMPRESSED)
				CHECK(b.len < n);
			uint8_t *back = malloc(n ? n : 1);
			memset(back, 0xEE, n);
			int rc = pq_codec_decompress(back, n, writable[c], b.data, b.len, err);
			if (rc != 0)
				th_fail(__FILE__, __LINE__, "codec %d size %zu: %s", writable[c], n,
				        err->msg);
			CHECK(n == 0 || memcmp(back, src, n) == 0);
			/* a wrong expected size is corrupt */
			if (n > 0) {
				uint8_t *small = malloc(n - 1 ? n - 1 : 1);
				CHECK_EQ_INT(pq_codec_decompress(small, n - 1, writable[c], b.data,
				                                 b.len, err),
				             FLOE_ECORRUPT);
				free(small);
			}
			uint8_t *big = malloc(n + 1);
			CHECK_EQ_INT(pq_codec_decompress(big, n + 1, writable[c], b.data, b.len, err),
			             FLOE_ECORRUPT);
			free(big);
			free(back);
			free(src);
			floe_buf_free(&b);
		}
	}
}

TEST(pq_codec_levels)
{
	uint8_t *src = sample(50000), *back = malloc(50000);
	floe_error errv, *err = &errv;
	const int codecs[] = { FLOE_PARQUET_GZIP, FLOE_PARQUET_ZSTD };
	const int levels[] = { 1, 9, 19 };
	for (int c = 0; c < 2; c++)
		for (int l = 0; l < 3; l++) {
			int lv = codecs[c] == FLOE_PARQUET_GZIP && levels[l] > 9 ? 9 : levels[l];
			floe_buf b = FLOE_BUF_INIT;
			REQUIRE_OK(pq_codec_compress(&b, codecs[c], lv, src, 50000, err), err);
			REQUIRE_OK(pq_codec_decompress(back, 50000, codecs[c], b.data, b.len, err),
			           err);
			CHECK(memcmp(back, src, 50000) == 0);
			floe_buf_free(&b);
		}
	free(src);
	free(back);
}

/* GZIP pages are gzip (magic 1f 8b) and may hold several members. */
TEST(pq_codec_gzip_concatenated_members)
{
	uint8_t *src = sample(20000), *back = malloc(20000);
	floe_error errv, *err = &errv;
	floe_buf b = FLOE_BUF_INIT;
	REQUIRE_OK(pq_codec_compress(&b, FLOE_PARQUET_GZIP, 0, src, 12000, err), err);
	CHECK_EQ_INT(b.data[0], 0x1f);
	CHECK_EQ_INT(b.data[1], 0x8b);
	size_t first = b.len;
	REQUIRE_OK(pq_codec_compress(&b, FLOE_PARQUET_GZIP, 0, src + 12000, 8000, err), err);
	CHECK(b.len > first);
	REQUIRE_OK(pq_codec_decompress(back, 20000, FLOE_PARQUET_GZIP, b.data, b.len, err), err);
	CHECK(memcmp(back, src, 20000) == 0);
	/* only the first member's worth expected: data continues */
	CHECK_EQ_INT(pq_codec_decompress(back, 12000, FLOE_PARQUET_GZIP, b.data, b.len, err),
	             FLOE_ECORRUPT);
	/* a zlib stream is accepted too (auto-detected header) */
	uLongf zlen = compressBound(20000);
	uint8_t *z = malloc(zlen);
	REQUIRE(compress2(z, &zlen, src, 20000, 6) == Z_OK);
	memset(back, 0, 20000);
	REQUIRE_OK(pq_codec_decompress(back, 20000, FLOE_PARQUET_GZIP, z, zlen, err), err);
	CHECK(memcmp(back, src, 20000) == 0);
	free(z);
	free(src);
	free(back);
	floe_buf_free(&b);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Codec 5 as Hadoop writes it: [u32be raw size][u32be block size][block]...
 * and, failing that, a bare LZ4 block. */
TEST(pq_codec_lz4_hadoop_frames)
{
	uint8_t *src = sample(30000), *back = malloc(30000);
	size_t cap = 2 * (size_t)LZ4_compressBound(30000) + 64;
	uint8_t *frame = malloc(cap);
	size_t len = 0;
	const size_t parts[2] = { 17000, 13000 };
	size_t off = 0;
	for (int i = 0; i < 2; i++) {
		int c = LZ4_compress_default((const char *)src + off, (char *)frame + len + 8,
		                             (int)parts[i], (int)(cap - len - 8));
		REQUIRE(c > 0);
		put_be32(frame + len, (uint32_t)parts[i]);
		put_be32(frame + len + 4, (uint32_t)c);
		len += 8 + (size_t)c;
		off += parts[i];
	}
	floe_error errv, *err = &errv;
	REQUIRE_OK(pq_codec_decompress(back, 30000, FLOE_PARQUET_LZ4, frame, len, err), err);
	CHECK(memcmp(back, src, 30000) == 0);
	/* the frame's sizes must add up to expected */
	CHECK_EQ_INT(pq_codec_decompress(back, 29999, FLOE_PARQUET_LZ4, frame, len, err),
	             FLOE_ECORRUPT);
	/* truncated frames never read out of bounds */
	for (size_t cut = 0; cut < len; cut += 97) {
		uint8_t *c = malloc(cut ? cut : 1);
		memcpy(c, frame, cut);
		CHECK(pq_codec_decompress(back, 30000, FLOE_PARQUET_LZ4, c, cut, err) != 0);
		free(c);
	}
	/* a raw block under codec 5 */
	int c = LZ4_compress_default((const char *)src, (char *)frame, 30000, (int)cap);
	REQUIRE(c > 0);
	memset(back, 0, 30000);
	REQUIRE_OK(pq_codec_decompress(back, 30000, FLOE_PARQUET_LZ4, frame, (size_t)c, err),
	           err);
	CHECK(memcmp(back, src, 30000) == 0);
	free(frame);
	free(src);
	free(back);
}

TEST(pq_codec_brotli_read)
{
	uint8_t *src = sample(40000), *back = malloc(40000);
	size_t clen = BrotliEncoderMaxCompressedSize(40000);
	uint8_t *comp = malloc(clen);
	REQUIRE(BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, 40000, src,
	                              &clen, comp));
	floe_error errv, *err = &errv;
	REQUIRE_OK(pq_codec_decompress(back, 40000, FLOE_PARQUET_BROTLI, comp, clen, err), err);
	CHECK(memcmp(back, src, 40000) == 0);
	CHECK_EQ_INT(pq_codec_decompress(back, 39999, FLOE_PARQUET_BROTLI, comp, clen, err),
	             FLOE_ECORRUPT);
	uint8_t *big = malloc(40001);
	CHECK_EQ_INT(pq_codec_decompress(big, 40001, FLOE_PARQUET_BROTLI, comp, clen, err),
	             FLOE_ECORRUPT);
	CHECK_EQ_INT(pq_codec_decompress(back, 40000, FLOE_PARQUET_BROTLI, comp, clen / 2, err),
	             FLOE_ECORRUPT);
	floe_buf b = FLOE_BUF_INIT;
	CHECK_EQ_INT(pq_codec_compress(&b, FLOE_PARQUET_BROTLI, 0, src, 10, err), FLOE_EINVALID);
	floe_buf_free(&b);
	free(big);
	free(comp);
	free(src);
	free(back);
}

TEST(pq_codec_corrupt_bytes)
{
	uint8_t *src = sample(5000), *back = malloc(5000);
	floe_error errv, *err = &errv;
	const int codecs[] = { FLOE_PARQUET_SNAPPY, FLOE_PARQUET_GZIP, FLOE_PARQUET_ZSTD,
		               FLOE_PARQUET_LZ4_RAW, FLOE_PARQUET_BROTLI, FLOE_PARQUET_LZ4 };
	uint8_t garbage[257];
	for (int i = 0; i < 257; i++)
		garbage[i] = (uint8_t)(i * 37 + 11);
	for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++)
		CHECK_EQ_INT(pq_codec_decompress(back, 5000, codecs[c], garbage, sizeof garbage,
		                                 err),
		             FLOE_ECORRUPT);
	/* truncations of real output */
	for (size_t c = 0; c < NWRITABLE; c++) {
		if (writable[c] == FLOE_PARQUET_UNCOMPRESSED)
			continue;
		floe_buf b = FLOE_BUF_INIT;
		REQUIRE_OK(pq_codec_compress(&b, writable[c], 0, src, 5000, err), err);
		for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 40) {
			uint8_t *t = malloc(cut ? cut : 1);
			memcpy(t, b.data, cut);
			int rc = pq_codec_decompress(back, 5000, writable[c], t, cut, err);
			if (rc != FLOE_ECORRUPT)
				th_fail(__FILE__, __LINE__, "codec %d cut %zu -> %d", writable[c], cut, rc);
			free(t);
		}
		floe_buf_free(&b);
	}
	free(src);
	free(back);
}

TEST(pq_codec_empty_and_unsupported)
{
	floe_error errv, *err = &errv;
	uint8_t one = 0;
	for (int c = 0; c <= FLOE_PARQUET_LZ4_RAW; c++) {
		if (c == FLOE_PARQUET_LZO)
			continue;
		CHECK_OK(pq_codec_decompress(&one, 0, c, NULL, 0, err), err);
	}
	CHECK_EQ_INT(pq_codec_decompress(&one, 1, FLOE_PARQUET_LZO, &one, 1, err),
	             FLOE_EUNSUPPORTED);
	CHECK(strstr(err->msg, "LZO") != NULL);
	CHECK_EQ_INT(pq_codec_decompress(&one, 1, 42, &one, 1, err), FLOE_EUNSUPPORTED);
	CHECK_EQ_INT(pq_codec_decompress(&one, 1, -1, &one, 1, err), FLOE_EUNSUPPORTED);
	/* uncompressed with a size mismatch */
	uint8_t two[2] = { 1, 2 };
	CHECK_EQ_INT(pq_codec_decompress(&one, 1, FLOE_PARQUET_UNCOMPRESSED, two, 2, err),
	             FLOE_ECORRUPT);
	floe_buf b = FLOE_BUF_INIT;
	CHECK_EQ_INT(pq_codec_compress(&b, FLOE_PARQUET_LZO, 0, two, 2, err), FLOE_EINVALID);
	CHECK_EQ_INT(pq_codec_compress(&b, FLOE_PARQUET_LZ4, 0, two, 2, err), FLOE_EINVALID);
	floe_buf_free(&b);
}

/* ---- real pages from parquet-testing: each file's first page header
 * sits right after the "PAR1" magic. A minimal Thrift compact reader finds
 * uncompressed_page_size (field 2), compressed_page_size (field 3) and the
 * end of the header. */

static int tc_varint(const uint8_t *p, size_t n, size_t *pos, uint64_t *v)
{
	*v = 0;
	for (int s = 0; s < 64 && *pos < n; s += 7) {
		uint8_t b = p[(*pos)++];
		*v |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

static int tc_skip(const uint8_t *p, size_t n, size_t *pos, int type, int depth);

/* With f2/f3 set: the PageHeader, whose i32 fields 2 and 3 are stored
 * there; the level byte lengths (fields 5, 6) of a data_page_header_v2
 * (field 8) are added to *lv, as V2 levels are never compressed. */
static int tc_struct(const uint8_t *p, size_t n, size_t *pos, int depth, int64_t *f2,
                     int64_t *f3, int64_t *lv)
{
	int id = 0;
	if (depth > 16)
		return -1;
	while (*pos < n) {
		uint8_t h = p[(*pos)++];
		if (h == 0)
			return 0;
		int type = h & 0x0f;
		uint64_t v;
		if (h >> 4) {
			id += h >> 4;
		} else {
			if (tc_varint(p, n, pos, &v))
				return -1;
			id = (int)(int64_t)((v >> 1) ^ (~(v & 1) + 1));
		}
		if (f2 && type == 5 && (id == 2 || id == 3)) {
			if (tc_varint(p, n, pos, &v))
				return -1;
			*(id == 2 ? f2 : f3) = (int64_t)((v >> 1) ^ (~(v & 1) + 1));
			continue;
		}
		if (f2 && type == 12 && id == 8) {
			if (tc_struct(p, n, pos, depth + 1, NULL, NULL, lv))
				return -1;
			continue;
		}
		if (lv && !f2 && type == 5 && (id == 5 || id == 6)) {
			if (tc_varint(p, n, pos, &v))
				return -1;
			*lv += (int64_t)((v >> 1) ^ (~(v & 1) + 1));
			continue;
		}
		if (type != 1 && type != 2 && tc_skip(p, n, pos, type, depth + 1))
			return -1;
	}
	return -1;
}

static int tc_skip(const uint8_t *p, size_t n, size_t *pos, int type, int depth)
{
	uint64_t v;
	switch (type) {
	case 1: case 2: case 3:
		*pos += 1;
		return *pos <= n ? 0 : -1;
	case 4: case 5: case 6:
		return tc_varint(p, n, pos, &v);
	case 7:
		*pos += 8;
		return *pos <= n ? 0 : -1;
	case 8:
		if (tc_varint(p, n, pos, &v) || v > n - *pos)
			return -1;
		*pos += (size_t)v;
		return 0;
	case 9: case 10: {
		if (*pos >= n)
			return -1;
		uint8_t h = p[(*pos)++];
		uint64_t cnt = h >> 4;
		if (cnt == 15 && tc_varint(p, n, pos, &cnt))
			return -1;
		for (uint64_t i = 0; i < cnt; i++)
			if (tc_skip(p, n, pos, h & 0x0f, depth + 1))
				return -1;
		return 0;
	}
	case 12:
		return tc_struct(p, n, pos, depth, NULL, NULL, NULL);
	default:
		return -1;
	}
}

static void check_first_page(const char *name, int codec)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/testdata/parquet-testing/data/%s", th_shared(), name);
	size_t n = 0;
	uint8_t *file = (uint8_t *)th_read_file(path, &n);
	if (!file) {
		th_fail(__FILE__, __LINE__, "cannot read %s", path);
		return;
	}
	size_t pos = 4;
	int64_t usize = -1, csize = -1, lv = 0;
	if (tc_struct(file, n, &pos, 0, &usize, &csize, &lv) || usize < 0 || csize < 0 ||
	    (uint64_t)csize > n - pos || lv < 0 || lv > csize || lv > usize) {
		th_fail(__FILE__, __LINE__, "%s: no page header at byte 4", name);
		free(file);
		return;
	}
	pos += (size_t)lv;
	usize -= lv;
	csize -= lv;
	uint8_t *out = malloc(usize ? (size_t)usize : 1);
	floe_error errv, *err = &errv;
	int rc = pq_codec_decompress(out, (size_t)usize, codec, file + pos, (size_t)csize, err);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "%s: %s", name, err->msg);
	/* one byte too few is corrupt */
	if (usize > 0)
		CHECK_EQ_INT(pq_codec_decompress(out, (size_t)usize - 1, codec, file + pos,
		                                 (size_t)csize, err),
		             FLOE_ECORRUPT);
	free(out);
	free(file);
}

TEST(pq_codec_real_pages)
{
	check_first_page("hadoop_lz4_compressed.parquet", FLOE_PARQUET_LZ4);
	check_first_page("hadoop_lz4_compressed_larger.parquet", FLOE_PARQUET_LZ4);
	check_first_page("non_hadoop_lz4_compressed.parquet", FLOE_PARQUET_LZ4);
	check_first_page("lz4_raw_compressed.parquet", FLOE_PARQUET_LZ4_RAW);
	check_first_page("concatenated_gzip_members.parquet", FLOE_PARQUET_GZIP);
	check_first_page("large_string_map.brotli.parquet", FLOE_PARQUET_BROTLI);
	check_first_page("byte_stream_split.zstd.parquet", FLOE_PARQUET_ZSTD);
	check_first_page("rle-dict-snappy-checksum.parquet", FLOE_PARQUET_SNAPPY);
}

static void *zstd_in_thread(void *arg)
{
	int *ok = arg;
	size_t n = 100000;
	uint8_t *src = sample(n), *back = malloc(n);
	floe_buf b = FLOE_BUF_INIT;
	floe_error err;
	*ok = back && pq_codec_compress(&b, FLOE_PARQUET_ZSTD, 0, src, n, &err) == 0 &&
	      pq_codec_decompress(back, n, FLOE_PARQUET_ZSTD, b.data, b.len, &err) == 0 &&
	      memcmp(back, src, n) == 0;
	floe_buf_free(&b);
	free(back);
	free(src);
	return NULL;
}

/* ZSTD keeps a context of each kind per thread; threads that come and go
 * (ingest workers) must not leave theirs behind. The sanitizer build's
 * leak check after every test is what fails this when they do. */
TEST(pq_codec_zstd_threads_that_exit_free_their_contexts)
{
	for (int round = 0; round < 3; round++) {
		pthread_t th[4];
		int ok[4] = { 0 };
		for (int i = 0; i < 4; i++)
			REQUIRE(pthread_create(&th[i], NULL, zstd_in_thread, &ok[i]) == 0);
		for (int i = 0; i < 4; i++) {
			REQUIRE(pthread_join(th[i], NULL) == 0);
			CHECK(ok[i]);
		}
	}
	int ok = 0;
	zstd_in_thread(&ok); /* and the main thread's own stay usable */
	CHECK(ok);
}
