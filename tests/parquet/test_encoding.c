/* tests/parquet/test_encoding.c - Parquet value and level encodings
 * (parquet/encoding.h): known bytes from Encodings.md, round trips over
 * edge data, and hostile inputs (truncation, oversized headers). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "floe/arena.h"
#include "harness.h"
#include "parquet/encoding.h"

static const size_t sizes[] = { 0, 1, 7, 8, 9, 127, 128, 129, 1000, 4099 };
#define NSIZES (sizeof sizes / sizeof sizes[0])

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A copy in a buffer of exactly n bytes, so ASan catches any over-read. */
static uint8_t *exact_copy(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	if (n)
		memcpy(c, p, n);
	return c;
}

TEST(pq_enc_bit_width)
{
	CHECK_EQ_INT(pq_bit_width(0), 0);
	CHECK_EQ_INT(pq_bit_width(1), 1);
	CHECK_EQ_INT(pq_bit_width(2), 2);
	CHECK_EQ_INT(pq_bit_width(7), 3);
	CHECK_EQ_INT(pq_bit_width(8), 4);
	CHECK_EQ_INT(pq_bit_width(UINT32_MAX), 32);
	CHECK_EQ_INT(pq_bit_width(UINT64_MAX), 64);
}

/* Encodings.md: eight 1s of width 1 are one RLE run: header 8 << 1, value
 * in one byte. */
TEST(pq_rle_known_run_bytes)
{
	uint32_t v[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	floe_buf b = FLOE_BUF_INIT;
	REQUIRE_OK(pq_rle_encode(&b, v, 8, 1), (floe_error *)NULL);
	REQUIRE(b.len == 2);
	CHECK_EQ_INT(b.data[0], 0x10);
	CHECK_EQ_INT(b.data[1], 0x01);
	uint32_t out[8] = { 0 };
	floe_error errv, *err = &errv;
	CHECK_OK(pq_rle_decode(out, 8, b.data, b.len, 1, err), err);
	CHECK(memcmp(out, v, sizeof v) == 0);
	floe_buf_free(&b);
}

/* Encodings.md bit-packing example: 0..7 with width 3 pack LSB first to
 * 10001000 11000110 11111010; the hybrid header is (1 group << 1) | 1. */
TEST(pq_rle_known_bitpacked_bytes)
{
	uint32_t v[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	floe_buf b = FLOE_BUF_INIT;
	REQUIRE_OK(pq_rle_encode(&b, v, 8, 3), (floe_error *)NULL);
	REQUIRE(b.len == 4);
	CHECK_EQ_INT(b.data[0], 0x03);
	CHECK_EQ_INT(b.data[1], 0x88);
	CHECK_EQ_INT(b.data[2], 0xC6);
	CHECK_EQ_INT(b.data[3], 0xFA);
	floe_buf_free(&b);
	/* 12 values of width 2 padded to two groups: header 0x05 */
	const uint8_t enc[] = { 0x05, 0xE4, 0xE4, 0x1B, 0x00 };
	uint32_t out[12];
	floe_error errv, *err = &errv;
	REQUIRE_OK(pq_rle_decode(out, 12, enc, sizeof enc, 2, err), err);
	const uint32_t want[12] = { 0, 1, 2, 3, 0, 1, 2, 3, 3, 2, 1, 0 };
	CHECK(memcmp(out, want, sizeof want) == 0);
	/* the final group may be cut at the end of the data */
	REQUIRE_OK(pq_rle_decode(out, 12, enc, 4, 2, err), err);
	CHECK(memcmp(out, want, sizeof want) == 0);
	CHECK_EQ_INT(pq_rle_decode(out, 12, enc, 3, 2, err), FLOE_ECORRUPT);
}

/* Runs like parquet-mr/arrow: literals pad up to a group boundary, then
 * the repeat becomes an RLE run. */
TEST(pq_rle_encoder_run_choice)
{
	uint32_t v[20];
	for (int i = 0; i < 4; i++)
		v[i] = (uint32_t)i; /* 0 1 2 3 */
	for (int i = 4; i < 20; i++)
		v[i] = 5; /* sixteen 5s: 4 fill the group, 12 form a run */
	floe_buf b = FLOE_BUF_INIT;
	REQUIRE_OK(pq_rle_encode(&b, v, 20, 3), (floe_error *)NULL);
	/* 0x03 + 3 packed bytes, then run header 12 << 1 = 0x18 and value 5 */
	REQUIRE(b.len == 6);
	CHECK_EQ_INT(b.data[0], 0x03);
	CHECK_EQ_INT(b.data[4], 0x18);
	CHECK_EQ_INT(b.data[5], 0x05);
	uint32_t out[20];
	REQUIRE_OK(pq_rle_decode(out, 20, b.data, b.len, 3, NULL), (floe_error *)NULL);
	CHECK(memcmp(out, v, sizeof v) == 0);
	/* 1000 distinct-ish values: bit-packed runs hold at most 63 groups */
	uint32_t w[1000];
	for (int i = 0; i < 1000; i++)
		w[i] = (uint32_t)(i & 1);
	floe_buf_clear(&b);
	REQUIRE_OK(pq_rle_encode(&b, w, 1000, 1), (floe_error *)NULL);
	CHECK_EQ_INT(b.data[0], (63 << 1) | 1);
	CHECK_EQ_INT(b.data[1 + 63], (62 << 1) | 1); /* the other 496 values */
	floe_buf_free(&b);
}

/* One piece of an RLE/bit-packed hybrid stream: `groups` bit-packed
 * groups of 8 (run == 0), or a run of `run` copies of `value`. */
typedef struct rle_seg {
	uint64_t groups, run;
	uint32_t value;
} rle_seg;

/* The pieces the encoder should choose, value by value: a repeat becomes
 * a run once it covers the rest of the pending literals' last group plus
 * a whole group; bit-packed runs hold at most 63 groups. */
static size_t rle_model(const uint32_t *v, size_t n, rle_seg *out)
{
	size_t ns = 0, lit = 0, i = 0;
	while (i < n) {
		size_t r = 1;
		while (i + r < n && v[i + r] == v[i])
			r++;
		size_t pad = (8 - lit % 8) % 8;
		if (r >= pad + 8) {
			lit += pad;
			if (lit)
				out[ns++] = (rle_seg){ (lit + 7) / 8, 0, 0 };
			out[ns++] = (rle_seg){ 0, r - pad, v[i] };
			i += r;
			lit = 0;
			continue;
		}
		for (; r > 0; i++, r--)
			if (++lit == 504) {
				out[ns++] = (rle_seg){ 63, 0, 0 };
				lit = 0;
			}
	}
	if (lit)
		out[ns++] = (rle_seg){ (lit + 7) / 8, 0, 0 };
	return ns;
}

/* The pieces of an encoded stream, read from its headers. */
static size_t rle_pieces(const uint8_t *p, size_t len, int bw, rle_seg *out)
{
	size_t ns = 0, pos = 0;
	while (pos < len) {
		uint64_t h = 0;
		for (int sh = 0;; sh += 7) {
			h |= (uint64_t)(p[pos] & 0x7f) << sh;
			if (!(p[pos++] & 0x80))
				break;
		}
		if (h & 1) {
			out[ns++] = (rle_seg){ h >> 1, 0, 0 };
			pos += (size_t)(h >> 1) * (size_t)bw;
		} else {
			uint32_t x = 0;
			for (int k = 0; k < (bw + 7) / 8; k++)
				x |= (uint32_t)p[pos++] << (8 * k);
			out[ns++] = (rle_seg){ 0, h >> 1, x };
		}
	}
	return ns;
}

/* The encoder walks whole groups; it must choose the same runs and
 * bit-packed pieces as the value-by-value rule, for runs starting
 * anywhere in a group, of every length around 8 and 504. */
TEST(pq_rle_encoder_matches_value_by_value_choice)
{
	enum { N = 4099 };
	uint32_t *v = malloc(N * sizeof *v);
	rle_seg *want = malloc(N * sizeof *want), *got = malloc(N * sizeof *got);
	floe_buf b = FLOE_BUF_INIT;
	for (int trial = 0; trial < 400; trial++) {
		int bw = 1 + trial % 12;
		uint32_t mask = (uint32_t)((1ull << bw) - 1);
		size_t n = trial % 7 == 0 ? (size_t)(rnd() % 40) : (size_t)(rnd() % N);
		for (size_t i = 0; i < n;) {
			uint64_t kind = rnd() % 8;
			size_t run = kind == 0 ? 7 + rnd() % 4 : kind == 1 ? 1 + rnd() % 30
			           : kind == 2 ? 500 + rnd() % 12 : 1;
			uint32_t x = (uint32_t)rnd() & mask;
			for (size_t k = 0; k < run && i < n; k++)
				v[i++] = x;
		}
		floe_buf_clear(&b);
		REQUIRE_OK(pq_rle_encode(&b, v, n, bw), (floe_error *)NULL);
		size_t nw = rle_model(v, n, want), ng = rle_pieces(b.data, b.len, bw, got);
		bool same = nw == ng;
		for (size_t k = 0; same && k < nw; k++)
			same = want[k].groups == got[k].groups && want[k].run == got[k].run &&
			       want[k].value == got[k].value;
		if (!same) {
			th_fail(__FILE__, __LINE__, "trial %d (width %d, %zu values): %zu pieces, want %zu",
			        trial, bw, n, ng, nw);
			break;
		}
	}
	floe_buf_free(&b);
	free(v);
	free(want);
	free(got);
}

TEST(pq_rle_roundtrip_all_widths)
{
	uint32_t *v = malloc(4099 * sizeof *v), *out = malloc(4099 * sizeof *out);
	floe_buf b = FLOE_BUF_INIT;
	floe_error errv, *err = &errv;
	for (int bw = 0; bw <= 32; bw++) {
		uint64_t mask = bw == 32 ? 0xffffffffull : ((1ull << bw) - 1);
		for (size_t s = 0; s < NSIZES; s++) {
			size_t n = sizes[s];
			for (size_t i = 0; i < n;) {
				/* mix runs and noise */
				uint32_t x = (uint32_t)(rnd() & mask);
				size_t run = rnd() % 3 == 0 ? 1 + rnd() % 40 : 1;
				for (size_t k = 0; k < run && i < n; k++, i++)
					v[i] = (rnd() % 4 == 0 && run == 1) ? (uint32_t)mask : x;
			}
			floe_buf_clear(&b);
			REQUIRE_OK(pq_rle_encode(&b, v, n, bw), (floe_error *)NULL);
			uint8_t *c = exact_copy(b.data, b.len);
			memset(out, 0xAB, n * sizeof *out);
			CHECK_OK(pq_rle_decode(out, n, c, b.len, bw, err), err);
			if (n && memcmp(out, v, n * sizeof *v) != 0)
				th_fail(__FILE__, __LINE__, "width %d, %zu values differ", bw, n);
			free(c);
		}
	}
	floe_buf_free(&b);
	free(v);
	free(out);
}

/* Truncated at every length: an error or (when only padding was cut) the
 * same values; never a read past the end (ASan). */
TEST(pq_rle_truncated_every_length)
{
	uint32_t v[300], out[300];
	floe_buf b = FLOE_BUF_INIT;
	for (int bw = 1; bw <= 32; bw += bw < 31 ? 5 : 1) {
		uint64_t mask = bw == 32 ? 0xffffffffull : ((1ull << bw) - 1);
		for (int i = 0; i < 300; i++)
			v[i] = i % 50 < 20 ? 1 : (uint32_t)(rnd() & mask);
		floe_buf_clear(&b);
		REQUIRE_OK(pq_rle_encode(&b, v, 300, bw), (floe_error *)NULL);
		for (size_t len = 0; len < b.len; len++) {
			uint8_t *c = exact_copy(b.data, len);
			floe_error errv, *err = &errv;
			int rc = pq_rle_decode(out, 300, c, len, bw, err);
			if (rc == 0)
				CHECK(memcmp(out, v, sizeof v) == 0);
			else
				CHECK_EQ_INT(rc, FLOE_ECORRUPT);
			free(c);
		}
	}
	floe_buf_free(&b);
}

TEST(pq_rle_hostile)
{
	uint32_t out[16];
	floe_error errv, *err = &errv;
	const uint8_t run[] = { 0x10, 0x01 };
	CHECK_EQ_INT(pq_rle_decode(out, 8, run, 2, 33, err), FLOE_ECORRUPT);
	CHECK_EQ_INT(pq_rle_decode(out, 8, run, 2, -1, err), FLOE_ECORRUPT);
	/* RLE value 2 does not fit width 1 */
	const uint8_t wide[] = { 0x10, 0x02 };
	CHECK_EQ_INT(pq_rle_decode(out, 8, wide, 2, 1, err), FLOE_ECORRUPT);
	/* needs 16 values, the run holds 8 */
	CHECK_EQ_INT(pq_rle_decode(out, 16, run, 2, 1, err), FLOE_ECORRUPT);
	/* a bit-packed run claiming 2^62 groups with 2 bytes of data */
	const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xAA, 0xBB };
	CHECK_EQ_INT(pq_rle_decode(out, 32, huge, sizeof huge, 1, err), FLOE_ECORRUPT);
	CHECK_OK(pq_rle_decode(out, 16, huge, sizeof huge, 1, err), err);
	CHECK_EQ_INT(out[0], 0);
	CHECK_EQ_INT(out[1], 1);
	/* an unterminated varint header */
	const uint8_t bad[] = { 0x80, 0x80, 0x80 };
	CHECK_EQ_INT(pq_rle_decode(out, 1, bad, sizeof bad, 1, err), FLOE_ECORRUPT);
	/* an 11-byte varint */
	const uint8_t longv[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
	CHECK_EQ_INT(pq_rle_decode(out, 1, longv, sizeof longv, 1, err), FLOE_ECORRUPT);
	/* width 0 yields zeros without reading */
	memset(out, 0xff, sizeof out);
	CHECK_OK(pq_rle_decode(out, 16, NULL, 0, 0, err), err);
	CHECK_EQ_INT(out[15], 0);
	/* trailing bytes after the last needed run are ignored */
	const uint8_t trail[] = { 0x10, 0x01, 0xde, 0xad };
	CHECK_OK(pq_rle_decode(out, 8, trail, sizeof trail, 1, err), err);
	CHECK_EQ_INT(out[7], 1);
}

/* Encodings.md BIT_PACKED example: 0..7 width 3, MSB first:
 * 00000101 00111001 01110111. */
TEST(pq_bitpacked_msb_known_bytes)
{
	const uint8_t enc[] = { 0x05, 0x39, 0x77 };
	uint32_t out[8];
	floe_error errv, *err = &errv;
	REQUIRE_OK(pq_bitpacked_msb_decode(out, 8, enc, 3, 3, err), err);
	for (uint32_t i = 0; i < 8; i++)
		CHECK_EQ_INT(out[i], i);
	CHECK_EQ_INT(pq_bitpacked_msb_decode(out, 8, enc, 2, 3, err), FLOE_ECORRUPT);
	CHECK_EQ_INT(pq_bitpacked_msb_decode(out, 8, enc, 3, 33, err), FLOE_ECORRUPT);
}

TEST(pq_plain_roundtrips)
{
	floe_error errv, *err = &errv;
	floe_buf b = FLOE_BUF_INIT;
	for (size_t s = 0; s < NSIZES; s++) {
		size_t n = sizes[s];
		uint8_t *bools = malloc(n + 1), *back = malloc(n + 1);
		for (size_t i = 0; i < n; i++)
			bools[i] = (uint8_t)(rnd() & 1);
		floe_buf_clear(&b);
		REQUIRE_OK(pq_plain_encode_bool(&b, bools, n), (floe_error *)NULL);
		CHECK_EQ_INT(b.len, (n + 7) / 8);
		size_t used = 99;
		uint8_t *c = exact_copy(b.data, b.len);
		CHECK_OK(pq_plain_decode_bool(back, n, c, b.len, &used, err), err);
		CHECK_EQ_INT(used, b.len);
		CHECK(n == 0 || memcmp(back, bools, n) == 0);
		if (n)
			CHECK_EQ_INT(pq_plain_decode_bool(back, n, c, b.len - 1, &used, err),
			             FLOE_ECORRUPT);
		free(c);
		free(bools);
		free(back);
	}
	/* BYTE_ARRAY: len32 + bytes */
	const char *strs[] = { "", "a", "hello", "" };
	int64_t offs[5] = { 0 };
	char data[64] = { 0 };
	for (int i = 0; i < 4; i++) {
		size_t l = strlen(strs[i]);
		memcpy(data + offs[i], strs[i], l);
		offs[i + 1] = offs[i] + (int64_t)l;
	}
	floe_buf_clear(&b);
	REQUIRE_OK(pq_plain_encode_byte_array(&b, offs, (const uint8_t *)data, 4),
	           (floe_error *)NULL);
	CHECK_EQ_INT(b.len, 16 + 6);
	CHECK_EQ_INT(b.data[4], 1);
	pq_bytes v[4];
	size_t used = 0;
	REQUIRE_OK(pq_plain_decode_byte_array(v, 4, b.data, b.len, &used, err), err);
	CHECK_EQ_INT(used, b.len);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(v[i].len, strlen(strs[i]));
		CHECK(v[i].ptr != NULL);
		CHECK(memcmp(v[i].ptr, strs[i], v[i].len) == 0);
	}
	for (size_t len = 0; len < b.len; len++) {
		uint8_t *c = exact_copy(b.data, len);
		CHECK_EQ_INT(pq_plain_decode_byte_array(v, 4, c, len, &used, err), FLOE_ECORRUPT);
		free(c);
	}
	/* a length of 2^32-1 with a few bytes */
	const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 1, 2 };
	CHECK_EQ_INT(pq_plain_decode_byte_array(v, 1, huge, 6, &used, err), FLOE_ECORRUPT);
	/* fixed width */
	int64_t fx[3] = { -1, 0, INT64_MAX }, fo[3];
	CHECK_OK(pq_plain_decode_fixed(fo, 3, 8, (const uint8_t *)fx, 24, &used, err), err);
	CHECK_EQ_INT(used, 24);
	CHECK(memcmp(fo, fx, 24) == 0);
	CHECK_EQ_INT(pq_plain_decode_fixed(fo, 3, 8, (const uint8_t *)fx, 23, &used, err),
	             FLOE_ECORRUPT);
	CHECK_EQ_INT(pq_plain_decode_fixed(fo, SIZE_MAX / 4, 8, (const uint8_t *)fx, 24, &used,
	                                   err),
	             FLOE_ECORRUPT);
	floe_buf_free(&b);
}

/* Encodings.md example 1: 1 2 3 4 5 -> header (128, 4, 5, zigzag 1 = 2),
 * one block: min delta zigzag(1) = 2, four widths 0, no miniblock bytes. */
TEST(pq_delta_known_bytes_1_to_5)
{
	int64_t v[5] = { 1, 2, 3, 4, 5 };
	floe_buf b = FLOE_BUF_INIT;
	REQUIRE_OK(pq_delta_encode_i64(&b, v, 5), (floe_error *)NULL);
	const uint8_t want[] = { 0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0 };
	REQUIRE(b.len == sizeof want);
	CHECK(memcmp(b.data, want, sizeof want) == 0);
	int64_t out[5];
	size_t used = 0;
	floe_error errv, *err = &errv;
	REQUIRE_OK(pq_delta_decode_i64(out, 5, want, sizeof want, &used, err), err);
	CHECK_EQ_INT(used, sizeof want);
	CHECK(memcmp(out, v, sizeof v) == 0);
	/* every truncation is an error */
	for (size_t len = 0; len < sizeof want; len++) {
		uint8_t *c = exact_copy(want, len);
		CHECK_EQ_INT(pq_delta_decode_i64(out, 5, c, len, &used, err), FLOE_ECORRUPT);
		free(c);
	}
	floe_buf_free(&b);
}

/* Encodings.md example 2: 7 5 3 1 2 3 4 5 -> deltas -2 -2 -2 1 1 1 1, min
 * -2 (zigzag 3), relative 0 0 0 3 3 3 3 in width 2: bytes 0xC0 0x3F then
 * zeros to fill the 32-value miniblock (8 bytes). */
TEST(pq_delta_known_bytes_example2)
{
	int32_t v[8] = { 7, 5, 3, 1, 2, 3, 4, 5 };
	floe_buf b = FLOE_BUF_INIT;
	REQUIRE_OK(pq_delta_encode_i32(&b, v, 8), (floe_error *)NULL);
	const uint8_t want[] = { 0x80, 0x01, 0x04, 0x08, 0x0e, 0x03, 0x02, 0, 0, 0,
		                 0xC0, 0x3F, 0, 0, 0, 0, 0, 0 };
	REQUIRE(b.len == sizeof want);
	CHECK(memcmp(b.data, want, sizeof want) == 0);
	int32_t out[8];
	size_t used = 0;
	floe_error errv, *err = &errv;
	REQUIRE_OK(pq_delta_decode_i32(out, 8, want, sizeof want, &used, err), err);
	CHECK_EQ_INT(used, sizeof want);
	CHECK(memcmp(out, v, sizeof v) == 0);
	floe_buf_free(&b);
}

static void fill_i64(int64_t *v, size_t n, int kind)
{
	for (size_t i = 0; i < n; i++) {
		switch (kind) {
		case 0: v[i] = (int64_t)i * 3 - 7; break;
		case 1: v[i] = (int64_t)(rnd() % 2000) - 1000; break;
		case 2: v[i] = (rnd() & 1) ? INT64_MIN : INT64_MAX; break;
		case 3: v[i] = (int64_t)rnd(); break;
		default: v[i] = (i % 5 == 0) ? INT64_MIN : (i % 5 == 1 ? INT64_MAX : (int64_t)(rnd() % 7)); break;
		}
	}
}

/* Width byte of the first miniblock: after four header varints and the
 * block's min delta varint. */
static int first_block_width0(const uint8_t *p)
{
	for (int k = 0; k < 5; k++)
		while (*p++ & 0x80)
			;
	return *p;
}

TEST(pq_delta_roundtrip_i64_extremes)
{
	int64_t *v = malloc(4099 * sizeof *v), *out = malloc(4099 * sizeof *out);
	floe_buf b = FLOE_BUF_INIT;
	floe_error errv, *err = &errv;
	int saw64 = 0;
	for (int kind = 0; kind < 5; kind++) {
		for (size_t s = 0; s < NSIZES; s++) {
			size_t n = sizes[s];
			fill_i64(v, n, kind);
			floe_buf_clear(&b);
			REQUIRE_OK(pq_delta_encode_i64(&b, v, n), (floe_error *)NULL);
			/* a trailer proves consumed is exact */
			size_t enc_len = b.len;
			REQUIRE_OK(floe_buf_append(&b, "TRAILER", 7), (floe_error *)NULL);
			uint8_t *c = exact_copy(b.data, b.len);
			size_t used = 0;
			CHECK_OK(pq_delta_decode_i64(out, n, c, b.len, &used, err), err);
			CHECK_EQ_INT(used, enc_len);
			if (n && memcmp(out, v, n * sizeof *v) != 0)
				th_fail(__FILE__, __LINE__, "kind %d, %zu values differ", kind, n);
			/* 64-bit widths appear when INT64_MIN and MAX alternate */
			if (kind == 4 && n > 2 && first_block_width0(c) == 64)
				saw64 = 1;
			free(c);
		}
	}
	CHECK(saw64);
	free(v);
	free(out);
	floe_buf_free(&b);
}

TEST(pq_delta_roundtrip_i32_extremes)
{
	int32_t *v = malloc(4099 * sizeof *v), *out = malloc(4099 * sizeof *out);
	floe_buf b = FLOE_BUF_INIT;
	floe_error errv, *err = &errv;
	for (int kind = 0; kind < 4; kind++) {
		for (size_t s = 0; s < NSIZES; s++) {
			size_t n = sizes[s];
			for (size_t i = 0; i < n; i++)
				v[i] = kind == 0   ? (int32_t)i
				       : kind == 1 ? ((rnd() & 1) ? INT32_MIN : INT32_MAX)
				       : kind == 2 ? (int32_t)(uint32_t)rnd()
				                   : (int32_t)(rnd() % 100) - 50;
			floe_buf_clear(&b);
			REQUIRE_OK(pq_delta_encode_i32(&b, v, n), (floe_error *)NULL);
			uint8_t *c = exact_copy(b.data, b.len);
			size_t used = 0;
			CHECK_OK(pq_delta_decode_i32(out, n, c, b.len, &used, err), err);
			CHECK_EQ_INT(used, b.len);
			if (n && memcmp(out, v, n * sizeof *v) != 0)
				th_fail(__FILE__, __LINE__, "kind %d, %zu values differ", kind, n);
			/* widths never exceed 32 for INT32 */
			free(c);
		}
	}
	free(v);
	free(out);
	floe_buf_free(&b);
}

TEST(pq_delta_truncated_every_length)
{
	int64_t v[300], out[300];
	floe_buf b = FLOE_BUF_INIT;
	const int kinds[3] = { 1, 3, 4 }; /* small, random, 64-bit widths */
	for (int k = 0; k < 3; k++) {
		fill_i64(v, 300, kinds[k]);
		floe_buf_clear(&b);
		REQUIRE_OK(pq_delta_encode_i64(&b, v, 300), (floe_error *)NULL);
		for (size_t len = 0; len < b.len; len++) {
			uint8_t *c = exact_copy(b.data, len);
			floe_error errv, *err = &errv;
			size_t used;
			int rc = pq_delta_decode_i64(out, 300, c, len, &used, err);
			if (rc == 0) /* only the last miniblock's padding was cut */
				CHECK(memcmp(out, v, sizeof v) == 0);
			else
				CHECK_EQ_INT(rc, FLOE_ECORRUPT);
			free(c);
		}
	}
	int32_t v32[300], o32[300];
	for (int i = 0; i < 300; i++)
		v32[i] = (int32_t)(uint32_t)rnd();
	floe_buf_clear(&b);
	REQUIRE_OK(pq_delta_encode_i32(&b, v32, 300), (floe_error *)NULL);
	for (size_t len = 0; len < b.len; len++) {
		uint8_t *c = exact_copy(b.data, len);
		size_t used;
		int rc = pq_delta_decode_i32(o32, 300, c, len, &used, NULL);
		if (rc == 0)
			CHECK(memcmp(o32, v32, sizeof v32) == 0);
		else
			CHECK_EQ_INT(rc, FLOE_ECORRUPT);
		free(c);
	}
	floe_buf_free(&b);
}

TEST(pq_delta_hostile_headers)
{
	floe_error errv, *err = &errv;
	int64_t out[8];
	int32_t o32[8];
	size_t used;
	/* header: 128, 4, 2^40 values, first 0; one block with widths 0 */
	const uint8_t big[] = { 0x80, 0x01, 0x04, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00,
		                0x02, 0, 0, 0, 0 };
	REQUIRE_OK(pq_delta_decode_i64(out, 5, big, sizeof big, &used, err), err);
	CHECK_EQ_INT(out[4], 4);
	/* and more values than the data holds */
	CHECK_EQ_INT(pq_delta_decode_i64(out, 8, big, 10, &used, err), FLOE_ECORRUPT);
	/* header total smaller than the page's count */
	const uint8_t few[] = { 0x80, 0x01, 0x04, 0x02, 0x00, 0x02, 0, 0, 0, 0 };
	CHECK_EQ_INT(pq_delta_decode_i64(out, 3, few, sizeof few, &used, err), FLOE_ECORRUPT);
	/* bit width 65 (INT64) and 33 (INT32) */
	uint8_t w65[64] = { 0x80, 0x01, 0x04, 0x05, 0x00, 0x00, 65, 0, 0, 0 };
	CHECK_EQ_INT(pq_delta_decode_i64(out, 5, w65, sizeof w65, &used, err), FLOE_ECORRUPT);
	w65[6] = 33;
	CHECK_EQ_INT(pq_delta_decode_i32(o32, 5, w65, sizeof w65, &used, err), FLOE_ECORRUPT);
	/* 64 is fine for INT64 if the bytes are there (32 values * 8 bytes) */
	uint8_t *w64 = calloc(1, 10 + 256);
	memcpy(w64, w65, 10);
	w64[6] = 64;
	CHECK_OK(pq_delta_decode_i64(out, 5, w64, 10 + 256, &used, err), err);
	CHECK_EQ_INT(used, 10 + 256);
	free(w64);
	/* bad block sizes */
	const uint8_t bs100[] = { 100, 0x04, 0x05, 0x00 };
	CHECK_EQ_INT(pq_delta_decode_i64(out, 1, bs100, sizeof bs100, &used, err), FLOE_ECORRUPT);
	const uint8_t mb3[] = { 0x80, 0x01, 0x03, 0x05, 0x00 };
	CHECK_EQ_INT(pq_delta_decode_i64(out, 1, mb3, sizeof mb3, &used, err), FLOE_ECORRUPT);
	const uint8_t mb0[] = { 0x80, 0x01, 0x00, 0x05, 0x00 };
	CHECK_EQ_INT(pq_delta_decode_i64(out, 1, mb0, sizeof mb0, &used, err), FLOE_ECORRUPT);
	/* unused miniblock widths in the last block may hold anything */
	const uint8_t junk[] = { 0x80, 0x01, 0x04, 0x03, 0x00, 0x02, 0, 200, 200, 200 };
	CHECK_OK(pq_delta_decode_i64(out, 3, junk, sizeof junk, &used, err), err);
	CHECK_EQ_INT(out[2], 2);
}

/* DELTA_LENGTH_BYTE_ARRAY: lengths as DELTA_BINARY_PACKED, then the bytes. */
TEST(pq_delta_length_byte_array)
{
	const char *strs[] = { "Hello", "World", "Foobar", "ABCDEF", "" };
	int32_t lens[5];
	floe_buf b = FLOE_BUF_INIT;
	for (int i = 0; i < 5; i++)
		lens[i] = (int32_t)strlen(strs[i]);
	REQUIRE_OK(pq_delta_encode_i32(&b, lens, 5), (floe_error *)NULL);
	for (int i = 0; i < 5; i++)
		REQUIRE_OK(floe_buf_append(&b, strs[i], strlen(strs[i])), (floe_error *)NULL);
	pq_bytes v[5];
	floe_error errv, *err = &errv;
	uint8_t *c = exact_copy(b.data, b.len);
	REQUIRE_OK(pq_delta_length_decode(v, 5, c, b.len, err), err);
	for (int i = 0; i < 5; i++) {
		CHECK_EQ_INT(v[i].len, strlen(strs[i]));
		CHECK(v[i].ptr && memcmp(v[i].ptr, strs[i], v[i].len) == 0);
	}
	free(c);
	for (size_t len = 0; len < b.len; len++) {
		c = exact_copy(b.data, len);
		CHECK_EQ_INT(pq_delta_length_decode(v, 5, c, len, err), FLOE_ECORRUPT);
		free(c);
	}
	/* a negative length */
	int32_t neg[2] = { 3, -1 };
	floe_buf_clear(&b);
	REQUIRE_OK(pq_delta_encode_i32(&b, neg, 2), (floe_error *)NULL);
	REQUIRE_OK(floe_buf_append(&b, "abcdef", 6), (floe_error *)NULL);
	CHECK_EQ_INT(pq_delta_length_decode(v, 2, b.data, b.len, err), FLOE_ECORRUPT);
	floe_buf_free(&b);
}

static void build_dba(floe_buf *b, const int32_t *prefix, const char **suffix, int n)
{
	int32_t lens[16];
	for (int i = 0; i < n; i++)
		lens[i] = (int32_t)strlen(suffix[i]);
	pq_delta_encode_i32(b, prefix, (size_t)n);
	pq_delta_encode_i32(b, lens, (size_t)n);
	for (int i = 0; i < n; i++)
		floe_buf_append(b, suffix[i], strlen(suffix[i]));
}

/* DELTA_BYTE_ARRAY (Encodings.md example): axis, axle, babble, babyhood
 * = prefixes 0 2 0 3, suffixes "axis" "le" "babble" "yhood". */
TEST(pq_delta_byte_array)
{
	const int32_t prefix[4] = { 0, 2, 0, 3 };
	const char *suffix[4] = { "axis", "le", "babble", "yhood" };
	const char *want[4] = { "axis", "axle", "babble", "babyhood" };
	floe_buf b = FLOE_BUF_INIT;
	build_dba(&b, prefix, suffix, 4);
	floe_arena *a = floe_arena_new(0);
	pq_bytes v[4];
	floe_error errv, *err = &errv;
	uint8_t *c = exact_copy(b.data, b.len);
	REQUIRE_OK(pq_delta_byte_array_decode(v, 4, c, b.len, a, err), err);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(v[i].len, strlen(want[i]));
		CHECK(memcmp(v[i].ptr, want[i], v[i].len) == 0);
	}
	free(c);
	for (size_t len = 0; len < b.len; len++) {
		c = exact_copy(b.data, len);
		CHECK_EQ_INT(pq_delta_byte_array_decode(v, 4, c, len, a, err), FLOE_ECORRUPT);
		free(c);
	}
	/* a prefix longer than the previous value */
	const int32_t bad[2] = { 0, 5 };
	const char *bsuf[2] = { "abcd", "x" };
	floe_buf_clear(&b);
	build_dba(&b, bad, bsuf, 2);
	CHECK_EQ_INT(pq_delta_byte_array_decode(v, 2, b.data, b.len, a, err), FLOE_ECORRUPT);
	CHECK(strstr(err->msg, "prefix") != NULL);
	/* a negative prefix */
	const int32_t negp[2] = { 0, -1 };
	floe_buf_clear(&b);
	build_dba(&b, negp, bsuf, 2);
	CHECK_EQ_INT(pq_delta_byte_array_decode(v, 2, b.data, b.len, a, err), FLOE_ECORRUPT);
	floe_arena_free(a);
	floe_buf_free(&b);
}

TEST(pq_bss_decode_values)
{
	float f[3] = { 1.5f, -2.25f, 1e30f }, back[3];
	const uint8_t *p = (const uint8_t *)f;
	uint8_t split[12];
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 3; i++)
			split[k * 3 + i] = p[i * 4 + k];
	floe_error errv, *err = &errv;
	REQUIRE_OK(pq_bss_decode(back, 3, 4, split, 12, err), err);
	CHECK(memcmp(back, f, sizeof f) == 0);
	CHECK_EQ_INT(pq_bss_decode(back, 3, 4, split, 11, err), FLOE_ECORRUPT);
	CHECK_EQ_INT(pq_bss_decode(back, SIZE_MAX / 2, 4, split, 12, err), FLOE_ECORRUPT);
}

TEST(pq_enc_crc32_check_value)
{
	/* the CRC-32 check value of "123456789" */
	CHECK_EQ_INT(pq_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
	CHECK_EQ_INT(pq_crc32(NULL, 0), 0);
}

/* Real data: parquet-testing's delta_binary_packed.parquet (parquet-mr,
 * uncompressed, one page of 200 values per column: 65 INT64 columns with
 * miniblock widths 0..64, then one INT32). Each page's DELTA_BINARY_PACKED
 * stream starts with block 128 (80 01), 4 miniblocks (04), 200 values
 * (C8 01); the k-th such header in file order is column k's. */
TEST(pq_delta_decode_parquet_mr_file)
{
	char path[1024], csvp[1024];
	snprintf(path, sizeof path, "%s/testdata/parquet-testing/data/delta_binary_packed.parquet",
	         th_shared());
	snprintf(csvp, sizeof csvp, "%s/testdata/parquet-testing/data/delta_binary_packed_expect.csv",
	         th_shared());
	size_t n = 0, csvn = 0;
	uint8_t *file = (uint8_t *)th_read_file(path, &n);
	char *csv = th_read_file(csvp, &csvn);
	REQUIRE(file && csv);
	enum { ROWS = 200, COLS = 66 };
	static int64_t want[COLS][ROWS];
	char *line = strchr(csv, '\n'); /* skip the header line */
	REQUIRE(line);
	for (int r = 0; r < ROWS; r++) {
		char *p = line + 1;
		for (int c = 0; c < COLS; c++) {
			want[c][r] = strtoll(p, &p, 10);
			if (*p == ',')
				p++;
		}
		line = strchr(p, '\n');
		REQUIRE(line || r == ROWS - 1);
	}
	const uint8_t hdr[] = { 0x80, 0x01, 0x04, 0xC8, 0x01 };
	int col = 0;
	floe_error errv, *err = &errv;
	for (size_t at = 0; at + sizeof hdr <= n && col < COLS; at++) {
		if (memcmp(file + at, hdr, sizeof hdr) != 0)
			continue;
		size_t used = 0;
		if (col < COLS - 1) {
			int64_t got[ROWS];
			REQUIRE_OK(pq_delta_decode_i64(got, ROWS, file + at, n - at, &used, err), err);
			for (int r = 0; r < ROWS; r++)
				if (got[r] != want[col][r]) {
					th_fail(__FILE__, __LINE__, "column %d row %d: %lld != %lld", col, r,
					        (long long)got[r], (long long)want[col][r]);
					break;
				}
		} else {
			int32_t got[ROWS];
			REQUIRE_OK(pq_delta_decode_i32(got, ROWS, file + at, n - at, &used, err), err);
			for (int r = 0; r < ROWS; r++)
				CHECK_EQ_INT(got[r], want[col][r]);
		}
		at += used - 1;
		col++;
	}
	CHECK_EQ_INT(col, COLS);
	free(file);
	free(csv);
}
