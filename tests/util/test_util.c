/* tests/util/test_util.c - errors, arenas, buffers and the radix sort. */
#include <stdlib.h>
#include <string.h>

#include "floe/arena.h"
#include "floe/error.h"
#include "harness.h"
#include "util/buf.h"
#include "util/sort.h"

TEST(util_error_corrupt_names_file_and_offset)
{
	floe_error err;
	int rc = floe_error_corrupt(&err, "x.parquet", 1234, "bad %s", "magic");
	CHECK_EQ_INT(rc, FLOE_ECORRUPT);
	CHECK_EQ_STR(err.msg, "x.parquet: corrupt at byte 1234: bad magic");
	CHECK_EQ_INT(floe_error_corrupt(NULL, "f", 1, "x"), FLOE_ECORRUPT);
}

TEST(util_error_locate_and_prefix)
{
	floe_error err;
	floe_error_set(&err, FLOE_ECORRUPT, "RLE run past end\nof page");
	CHECK(strchr(err.msg, '\n') == NULL);
	floe_error_locate(&err, "f.parquet", 99);
	CHECK_EQ_STR(err.msg, "f.parquet: corrupt at byte 99: RLE run past end of page");
	floe_error_set(&err, FLOE_ENOTFOUND, "no column x");
	floe_error_prefix(&err, "scan %s", "t");
	CHECK_EQ_STR(err.msg, "scan t: no column x");
	CHECK_EQ_INT(err.code, FLOE_ENOTFOUND);
	CHECK_EQ_STR(floe_error_code_name(FLOE_ECOMMIT_UNKNOWN), "commit state unknown");
}

TEST(util_arena_alignment_reset_and_large_blocks)
{
	floe_arena *a = floe_arena_new(1024);
	REQUIRE(a);
	for (int i = 1; i < 200; i++) {
		unsigned char *p = floe_arena_alloc(a, (size_t)i);
		REQUIRE(p);
		CHECK(((uintptr_t)p & 15) == 0);
		memset(p, i, (size_t)i);
	}
	char *big = floe_arena_alloc(a, 1 << 20);
	REQUIRE(big);
	memset(big, 1, 1 << 20);
	CHECK(floe_arena_footprint(a) >= (1 << 20));
	CHECK(floe_arena_calloc(a, SIZE_MAX / 2, 4) == NULL); /* overflow */
	CHECK_EQ_STR(floe_arena_strndup(a, "hello world", 5), "hello");
	floe_arena_reset(a);
	CHECK(floe_arena_footprint(a) <= 1024);
	CHECK(floe_arena_alloc(a, 10) != NULL);
	floe_arena_free(a);
	floe_arena_free(NULL);
}

TEST(util_buf_grows_and_encodes_varints)
{
	floe_buf b = FLOE_BUF_INIT;
	for (int i = 0; i < 10000; i++)
		REQUIRE(floe_buf_putc(&b, (uint8_t)i) == 0);
	CHECK_EQ_INT(b.len, 10000);
	CHECK_EQ_INT(b.data[9999], (uint8_t)9999);
	floe_buf_clear(&b);
	floe_buf_put_uvarint(&b, 300);
	CHECK_EQ_INT(b.len, 2);
	CHECK_EQ_INT(b.data[0], 0xac);
	CHECK_EQ_INT(b.data[1], 0x02);
	floe_buf_put_u32le(&b, 0x01020304);
	CHECK_EQ_INT(floe_load_u32le(b.data + 2), 0x01020304);
	CHECK(floe_buf_reserve(&b, SIZE_MAX) != 0);
	floe_buf_free(&b);
	CHECK(b.data == NULL);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The radix sort against qsort: random values, few distinct values, values
 * differing in one byte only (skipped passes), all equal, tiny arrays. */
TEST(util_sort_u64_matches_qsort)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 17, 256, 1000, 70001 };
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (int kind = 0; kind < 5; kind++)
		for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
			size_t n = sizes[si];
			uint64_t *v = malloc((n + 1) * 8), *w = malloc((n + 1) * 8), *t = malloc((n + 1) * 8);
			REQUIRE(v && w && t);
			for (size_t i = 0; i < n; i++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				switch (kind) {
				case 0: v[i] = x; break;
				case 1: v[i] = x % 5 * 0x0101010101010101ull; break;
				case 2: v[i] = (x & 0xFF) << 40; break;
				case 3: v[i] = 42; break;
				default: v[i] = i % 2 ? UINT64_MAX - (x & 0xFFFF) : x >> 60; break;
				}
			}
			memcpy(w, v, n * 8);
			qsort(w, n, 8, cmp_u64);
			floe_sort_u64(v, t, n);
			if (n && memcmp(v, w, n * 8) != 0)
				th_fail(__FILE__, __LINE__, "kind %d, %zu values: differs from qsort", kind, n);
			free(v);
			free(w);
			free(t);
		}
}
