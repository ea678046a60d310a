/* tests/engine/test_rows.c - floe_batch_sort / take / concat: the sort
 * order of every type against a plain reference sort, stability, NULLs,
 * gathering and appending rows, errors, and a million-row sort. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "floe/window.h"
#include "harness.h"

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static floe_schema *mk(floe_arena *a, const char *text)
{
	floe_schema *s = NULL;
	floe_error err;
	if (floe_schema_parse(&s, text, a, &err) != 0)
		th_fail(__FILE__, __LINE__, "%s", err.msg);
	return s;
}

/* ---- a reference order, written the plain way ----------------------------- */

static int ref_cmp_col(const floe_column *c, int64_t i, int64_t j)
{
	bool vi = floe_column_is_valid(c, i), vj = floe_column_is_valid(c, j);
	if (!vi || !vj)
		return (int)vi - (int)vj;
	switch (c->type.id) {
	case FLOE_TYPE_BOOLEAN: {
		int a = ((uint8_t *)c->values)[i], b = ((uint8_t *)c->values)[j];
		return (a > b) - (a < b);
	}
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE: {
		int32_t a = ((int32_t *)c->values)[i], b = ((int32_t *)c->values)[j];
		return (a > b) - (a < b);
	}
	case FLOE_TYPE_DOUBLE: {
		double a = ((double *)c->values)[i], b = ((double *)c->values)[j];
		if (isnan(a) || isnan(b))
			return (int)(isnan(a) != 0) - (int)(isnan(b) != 0);
		return (a > b) - (a < b);
	}
	case FLOE_TYPE_STRING: {
		int64_t la = c->offsets[i + 1] - c->offsets[i], lb = c->offsets[j + 1] - c->offsets[j];
		const uint8_t *pa = c->data + c->offsets[i], *pb = c->data + c->offsets[j];
		for (int64_t k = 0; k < la && k < lb; k++)
			if (pa[k] != pb[k])
				return pa[k] < pb[k] ? -1 : 1;
		return (la > lb) - (la < lb);
	}
	case FLOE_TYPE_FIXED: {
		int w = c->type.width;
		return memcmp((uint8_t *)c->values + i * w, (uint8_t *)c->values + j * w, (size_t)w);
	}
	default: {
		int64_t a = ((int64_t *)c->values)[i], b = ((int64_t *)c->values)[j];
		return (a > b) - (a < b);
	}
	}
}

/* Insertion sort: stable by construction. */
static void ref_sort(const floe_batch *b, const int *cols, int ncols, int32_t *perm)
{
	for (int64_t i = 0; i < b->nrows; i++)
		perm[i] = (int32_t)i;
	for (int64_t i = 1; i < b->nrows; i++) {
		int32_t x = perm[i];
		int64_t j = i;
		while (j > 0) {
			int c = 0;
			for (int k = 0; k < ncols && c == 0; k++)
				c = ref_cmp_col(&b->cols[cols[k]], perm[j - 1], x);
			if (c <= 0)
				break;
			perm[j] = perm[j - 1];
			j--;
		}
		perm[j] = x;
	}
}

static const char *words[] = { "", "a", "ab", "abc", "abd", "b", "ba", "zz", "\xc3\xa9t\xc3\xa9",
	                       "abcdefgh", "abcdefghi", "abcdefgh\x01", "AAPL", "MSFT" };

static const double doubles[] = { 0.0, -0.0, 1.5, -1.5, 1e300, -1e300, INFINITY, -INFINITY,
	                          NAN, -NAN, 3.0, 2.999999999 };

/* A batch of n random rows over every kind of key (few distinct values, so
 * ties are common and stability matters). */
static const floe_batch *random_batch(floe_batch_builder **bld, const floe_schema *s, int n)
{
	floe_error err;
	if (floe_batch_builder_new(bld, s, &err) != 0)
		return NULL;
	for (int r = 0; r < n; r++) {
		floe_batch_builder *b = *bld;
		/* s: str string, d double, i int, l long, t timestamptz, ok boolean,
		 * f fixed[3], seq int not null */
		if (rnd() % 7 == 0)
			floe_batch_builder_null(b, 0, &err);
		else {
			const char *w = words[rnd() % (sizeof words / sizeof *words)];
			floe_batch_builder_bytes(b, 0, w, (int64_t)strlen(w), &err);
		}
		if (rnd() % 9 == 0)
			floe_batch_builder_null(b, 1, &err);
		else
			floe_batch_builder_f64(b, 1, doubles[rnd() % (sizeof doubles / sizeof *doubles)],
			                       &err);
		if (rnd() % 8 == 0)
			floe_batch_builder_null(b, 2, &err);
		else
			floe_batch_builder_i32(b, 2, (int32_t)(rnd() % 5) - 2 +
			                                     (rnd() % 11 == 0 ? INT32_MIN + 2 : 0),
			                       &err);
		if (rnd() % 8 == 0)
			floe_batch_builder_null(b, 3, &err);
		else
			floe_batch_builder_i64(b, 3, (int64_t)(rnd() % 4) - 2 +
			                                     (rnd() % 13 == 0 ? INT64_MIN + 2 : 0),
			                       &err);
		floe_batch_builder_i64(b, 4, (int64_t)(rnd() % 6) * 60000000 - 120000000, &err);
		if (rnd() % 6 == 0)
			floe_batch_builder_null(b, 5, &err);
		else
			floe_batch_builder_bool(b, 5, rnd() & 1, &err);
		uint8_t fx[3] = { (uint8_t)(rnd() % 3 * 0x7f), (uint8_t)(rnd() % 2 * 0xff), 0 };
		floe_batch_builder_bytes(b, 6, fx, 3, &err);
		floe_batch_builder_i32(b, 7, r, &err);
	}
	return floe_batch_builder_view(*bld);
}

TEST(rows_sort_matches_reference_for_every_type)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = mk(a, "str string, d double, i int, l long, t timestamptz not null, "
	                       "ok boolean, f fixed[3], seq int not null");
	REQUIRE(s);
	floe_batch_builder *bld = NULL;
	const floe_batch *b = random_batch(&bld, s, 700);
	REQUIRE(b && b->nrows == 700);
	static const int keysets[][4] = {
		{ 0, -1 }, { 1, -1 }, { 2, -1 }, { 3, -1 }, { 4, -1 }, { 5, -1 }, { 6, -1 },
		{ 0, 4, -1 }, { 1, 0, -1 }, { 5, 2, 1, -1 }, { 6, 3, 0, 1 }, { 4, 0, 1, 2 },
		/* trailing byte columns after the last number: runs of ties refined */
		{ 4, 0, 6, -1 }, { 0, 6, -1 }, { 5, 0, -1 }, { 2, 6, 0, -1 },
	};
	int32_t *want = malloc(700 * sizeof *want);
	REQUIRE(want);
	for (size_t k = 0; k < sizeof keysets / sizeof *keysets; k++) {
		int cols[4], n = 0;
		while (n < 4 && keysets[k][n] >= 0) {
			cols[n] = keysets[k][n];
			n++;
		}
		int32_t *perm = NULL;
		floe_error err;
		CHECK_OK(floe_batch_sort(b, cols, n, &perm, a, &err), &err);
		REQUIRE(perm);
		ref_sort(b, cols, n, want);
		int bad = -1;
		for (int r = 0; r < 700 && bad < 0; r++)
			if (perm[r] != want[r])
				bad = r;
		if (bad >= 0)
			th_fail(__FILE__, __LINE__, "key set %zu: position %d holds row %d, want %d", k,
			        bad, perm[bad], want[bad]);
	}
	free(want);
	floe_batch_builder_free(bld);
	floe_arena_free(a);
}

/* Numbers sorted but for a few late ones (taken out, sorted apart and
 * merged back), with ties between kept and late keys, already sorted,
 * just over the share that takes the radix path, and NULLs; alone and
 * after a string key: the reference order every time. */
TEST(rows_sort_nearly_sorted_numbers_match_reference)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = mk(a, "t long, sym string not null, seq int not null");
	REQUIRE(s);
	static const char *const syms[] = { "AAPL", "MSFT", "TSLA" };
	/* per trial: late rows in 1000, NULLs in 1000 */
	static const int late[] = { 0, 1, 20, 62, 70, 200, 20, 5 };
	static const int nulls[] = { 0, 0, 0, 0, 0, 0, 30, 0 };
	for (size_t trial = 0; trial < sizeof late / sizeof *late; trial++) {
		int n = trial == 7 ? 20000 : 3000 + (int)trial * 101;
		floe_batch_builder *bld = NULL;
		floe_error err;
		REQUIRE_OK(floe_batch_builder_new(&bld, s, &err), &err);
		int64_t t = 0;
		for (int r = 0; r < n; r++) {
			t += (int64_t)(rnd() % 3); /* repeats: ties */
			int64_t v = t;
			if ((int)(rnd() % 1000) < late[trial])
				v = t - (int64_t)(rnd() % 40); /* late, often equal to a kept key */
			if ((int)(rnd() % 1000) < nulls[trial])
				floe_batch_builder_null(bld, 0, &err);
			else
				floe_batch_builder_i64(bld, 0, v, &err);
			const char *sy = syms[rnd() % 3];
			floe_batch_builder_bytes(bld, 1, sy, (int64_t)strlen(sy), &err);
			floe_batch_builder_i32(bld, 2, r, &err);
		}
		const floe_batch *b = floe_batch_builder_view(bld);
		int32_t *want = malloc((size_t)n * sizeof *want);
		REQUIRE(want);
		static const int keysets[][2] = { { 0, -1 }, { 1, 0 } };
		for (int k = 0; k < 2; k++) {
			int cols[2] = { keysets[k][0], keysets[k][1] }, nc = cols[1] < 0 ? 1 : 2;
			int32_t *perm = NULL;
			CHECK_OK(floe_batch_sort(b, cols, nc, &perm, a, &err), &err);
			REQUIRE(perm);
			ref_sort(b, cols, nc, want);
			for (int r = 0; r < n; r++)
				if (perm[r] != want[r]) {
					th_fail(__FILE__, __LINE__, "trial %zu keys %d: position %d holds row %d, "
					        "want %d", trial, k, r, perm[r], want[r]);
					break;
				}
		}
		free(want);
		floe_batch_builder_free(bld);
	}
	floe_arena_free(a);
}

TEST(rows_sort_doubles_negative_zero_equal_nan_last_nulls_first)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = mk(a, "d double");
	floe_batch_builder *bld = NULL;
	floe_error err;
	REQUIRE_OK(floe_batch_builder_new(&bld, s, &err), &err);
	/* rows: 0: NaN, 1: 0.0, 2: NULL, 3: -0.0, 4: -inf, 5: 0.0, 6: inf */
	double v[] = { NAN, 0.0, 0, -0.0, -INFINITY, 0.0, INFINITY };
	for (int r = 0; r < 7; r++)
		if (r == 2)
			floe_batch_builder_null(bld, 0, &err);
		else
			floe_batch_builder_f64(bld, 0, v[r], &err);
	const floe_batch *b = floe_batch_builder_view(bld);
	int col = 0;
	int32_t *perm = NULL;
	REQUIRE_OK(floe_batch_sort(b, &col, 1, &perm, a, &err), &err);
	int32_t want[] = { 2, 4, 1, 3, 5, 6, 0 }; /* zeros keep input order */
	for (int r = 0; r < 7; r++)
		CHECK_EQ_INT(perm[r], want[r]);
	floe_batch_builder_free(bld);
	floe_arena_free(a);
}

TEST(rows_sort_no_keys_and_empty_keep_order)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = mk(a, "x long");
	floe_batch_builder *bld = NULL;
	floe_error err;
	REQUIRE_OK(floe_batch_builder_new(&bld, s, &err), &err);
	const floe_batch *b = floe_batch_builder_view(bld);
	int col = 0;
	int32_t *perm = NULL;
	CHECK_OK(floe_batch_sort(b, &col, 1, &perm, a, &err), &err);
	CHECK(perm != NULL);
	for (int r = 0; r < 5; r++)
		floe_batch_builder_i64(bld, 0, 5 - r, &err);
	b = floe_batch_builder_view(bld);
	CHECK_OK(floe_batch_sort(b, NULL, 0, &perm, a, &err), &err);
	for (int r = 0; r < 5; r++)
		CHECK_EQ_INT(perm[r], r);
	CHECK_OK(floe_batch_sort(b, &col, 1, &perm, a, &err), &err);
	for (int r = 0; r < 5; r++)
		CHECK_EQ_INT(perm[r], 4 - r);
	col = 3;
	CHECK_EQ_INT(floe_batch_sort(b, &col, 1, &perm, a, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "column 3") != NULL);
	floe_batch_builder_free(bld);
	floe_arena_free(a);
}

/* Decimals wider than 18 digits are 16 big-endian two's complement bytes:
 * negatives sort before positives. */
TEST(rows_sort_wide_decimals_by_sign)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = mk(a, "d decimal(38,2)");
	floe_batch_builder *bld = NULL;
	floe_error err;
	REQUIRE_OK(floe_batch_builder_new(&bld, s, &err), &err);
	int64_t v[] = { 5, -1, 0, 300, -300, 1 };
	for (int r = 0; r < 6; r++) {
		uint8_t be[16];
		memset(be, v[r] < 0 ? 0xff : 0, 8);
		for (int k = 0; k < 8; k++)
			be[15 - k] = (uint8_t)((uint64_t)v[r] >> (8 * k));
		REQUIRE_OK(floe_batch_builder_bytes(bld, 0, be, 16, &err), &err);
	}
	const floe_batch *b = floe_batch_builder_view(bld);
	int col = 0;
	int32_t *perm = NULL;
	REQUIRE_OK(floe_batch_sort(b, &col, 1, &perm, a, &err), &err);
	int32_t want[] = { 4, 1, 2, 5, 0, 3 };
	for (int r = 0; r < 6; r++)
		CHECK_EQ_INT(perm[r], want[r]);
	floe_batch_builder_free(bld);
	floe_arena_free(a);
}

/* A NULL slot may hold any bytes (floe/batch.h): rows NULL in the first key
 * are ordered by the next key, whatever their slots hold. */
TEST(rows_sort_nulls_ignore_slot_bytes)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = mk(a, "l long, d double, b int not null");
	REQUIRE(s);
	int64_t lv[] = { -9, -5, 1, 0 };       /* rows 0, 1, 3: NULL */
	double dv[] = { -1e9, NAN, 2.5, 7.0 }; /* rows 0, 1, 3: NULL */
	int32_t bv[] = { 3, 1, 0, 2 };
	uint8_t valid[1] = { 0x04 };
	floe_column cols[3];
	memset(cols, 0, sizeof cols);
	cols[0].type.id = FLOE_TYPE_LONG;
	cols[0].values = lv;
	cols[0].validity = valid;
	cols[0].null_count = 3;
	cols[1].type.id = FLOE_TYPE_DOUBLE;
	cols[1].values = dv;
	cols[1].validity = valid;
	cols[1].null_count = 3;
	cols[2].type.id = FLOE_TYPE_INT;
	cols[2].values = bv;
	floe_batch b = { 4, 3, cols, s };
	int32_t want[] = { 1, 3, 0, 2 };
	for (int first = 0; first < 2; first++) {
		int keys[2] = { first, 2 };
		int32_t *perm = NULL;
		floe_error err;
		REQUIRE_OK(floe_batch_sort(&b, keys, 2, &perm, a, &err), &err);
		for (int r = 0; r < 4; r++)
			CHECK_EQ_INT(perm[r], want[r]);
	}
	floe_arena_free(a);
}

TEST(rows_take_gathers_values_nulls_and_strings)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = mk(a, "name string, n long, f fixed[2], ok boolean");
	floe_batch_builder *bld = NULL;
	floe_error err;
	REQUIRE_OK(floe_batch_builder_new(&bld, s, &err), &err);
	const char *names[] = { "zero", NULL, "two", "", "four" };
	for (int r = 0; r < 5; r++) {
		if (names[r])
			floe_batch_builder_bytes(bld, 0, names[r], (int64_t)strlen(names[r]), &err);
		else
			floe_batch_builder_null(bld, 0, &err);
		if (r == 3)
			floe_batch_builder_null(bld, 1, &err);
		else
			floe_batch_builder_i64(bld, 1, r * 100, &err);
		uint8_t f[2] = { (uint8_t)r, (uint8_t)(r + 1) };
		floe_batch_builder_bytes(bld, 2, f, 2, &err);
		floe_batch_builder_bool(bld, 3, r % 2, &err);
	}
	const floe_batch *b = floe_batch_builder_view(bld);
	int32_t idx[] = { 4, 1, 1, 3, 0 };
	floe_batch out;
	REQUIRE_OK(floe_batch_take(b, idx, 5, &out, a, &err), &err);
	CHECK_EQ_INT(out.nrows, 5);
	CHECK_EQ_INT(out.ncols, 4);
	CHECK(out.schema == s);
	CHECK_EQ_INT(out.cols[0].null_count, 2);
	CHECK_EQ_INT(out.cols[1].null_count, 1);
	CHECK(out.cols[2].validity == NULL);
	for (int r = 0; r < 5; r++) {
		int src = idx[r];
		CHECK(floe_column_is_valid(&out.cols[0], r) == (names[src] != NULL));
		if (names[src]) {
			int64_t len = out.cols[0].offsets[r + 1] - out.cols[0].offsets[r];
			CHECK_EQ_INT(len, (int64_t)strlen(names[src]));
			CHECK(memcmp(out.cols[0].data + out.cols[0].offsets[r], names[src],
			             (size_t)len) == 0);
		}
		CHECK(floe_column_is_valid(&out.cols[1], r) == (src != 3));
		if (src != 3)
			CHECK_EQ_INT(((int64_t *)out.cols[1].values)[r], src * 100);
		CHECK_EQ_INT(((uint8_t *)out.cols[2].values)[r * 2 + 1], src + 1);
		CHECK_EQ_INT(((uint8_t *)out.cols[3].values)[r], src % 2);
	}
	/* no rows: offsets still hold the one 0 */
	REQUIRE_OK(floe_batch_take(b, idx, 0, &out, a, &err), &err);
	CHECK_EQ_INT(out.nrows, 0);
	REQUIRE(out.cols[0].offsets != NULL);
	CHECK_EQ_INT(out.cols[0].offsets[0], 0);
	int32_t bad[] = { 0, 5 };
	CHECK_EQ_INT(floe_batch_take(b, bad, 2, &out, a, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "row 5") != NULL);
	floe_batch_builder_free(bld);
	floe_arena_free(a);
}

TEST(rows_concat_appends_batches_in_order)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = mk(a, "name string, n int");
	floe_batch_builder *b1 = NULL, *b2 = NULL, *b3 = NULL;
	floe_error err;
	REQUIRE_OK(floe_batch_builder_new(&b1, s, &err), &err);
	REQUIRE_OK(floe_batch_builder_new(&b2, s, &err), &err);
	REQUIRE_OK(floe_batch_builder_new(&b3, s, &err), &err);
	floe_batch_builder_bytes(b1, 0, "ab", 2, &err);
	floe_batch_builder_i32(b1, 1, 1, &err);
	floe_batch_builder_bytes(b1, 0, "c", 1, &err);
	floe_batch_builder_null(b1, 1, &err);
	floe_batch_builder_null(b3, 0, &err);
	floe_batch_builder_i32(b3, 1, 3, &err);
	floe_batch_builder_bytes(b3, 0, "def", 3, &err);
	floe_batch_builder_i32(b3, 1, 4, &err);
	/* views are copied: each builder's view stays valid, none appends more */
	floe_batch v1 = *floe_batch_builder_view(b1), v2 = *floe_batch_builder_view(b2),
		   v3 = *floe_batch_builder_view(b3);
	const floe_batch *parts[] = { &v1, &v2, &v3 };
	floe_batch out;
	REQUIRE_OK(floe_batch_concat(parts, 3, &out, a, &err), &err);
	CHECK_EQ_INT(out.nrows, 4);
	CHECK(out.schema == s);
	const char *want[] = { "ab", "c", NULL, "def" };
	int nwant[] = { 1, -1, 3, 4 };
	for (int r = 0; r < 4; r++) {
		CHECK_EQ_INT(floe_column_is_valid(&out.cols[0], r), want[r] != NULL);
		if (want[r]) {
			int64_t len = out.cols[0].offsets[r + 1] - out.cols[0].offsets[r];
			CHECK_EQ_INT(len, (int64_t)strlen(want[r]));
			CHECK(memcmp(out.cols[0].data + out.cols[0].offsets[r], want[r], (size_t)len) == 0);
		}
		CHECK_EQ_INT(floe_column_is_valid(&out.cols[1], r), nwant[r] >= 0);
		if (nwant[r] >= 0)
			CHECK_EQ_INT(((int32_t *)out.cols[1].values)[r], nwant[r]);
	}
	CHECK_EQ_INT(out.cols[0].null_count, 1);
	CHECK_EQ_INT(out.cols[1].null_count, 1);

	floe_schema *s2 = mk(a, "name string, n long");
	floe_batch_builder *b4 = NULL;
	REQUIRE_OK(floe_batch_builder_new(&b4, s2, &err), &err);
	floe_batch v4 = *floe_batch_builder_view(b4);
	const floe_batch *mixed[] = { &v1, &v4 };
	CHECK_EQ_INT(floe_batch_concat(mixed, 2, &out, a, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "column 1") != NULL);
	CHECK_EQ_INT(floe_batch_concat(mixed, 0, &out, a, &err), FLOE_EINVALID);
	floe_batch_builder_free(b1);
	floe_batch_builder_free(b2);
	floe_batch_builder_free(b3);
	floe_batch_builder_free(b4);
	floe_arena_free(a);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The backfill path sorts millions of trades by (symbol, time): check the
 * order of a million rows and print how long the sort took. */
TEST(rows_sort_million_by_string_and_time)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = mk(a, "symbol string not null, t timestamptz not null, id string not null");
	floe_batch_builder *bld = NULL;
	floe_error err;
	REQUIRE_OK(floe_batch_builder_new(&bld, s, &err), &err);
	const int n = 1000000;
	char sym[16];
	for (int r = 0; r < n; r++) {
		int len = snprintf(sym, sizeof sym, "SYM%03d", (int)(rnd() % 500));
		floe_batch_builder_bytes(bld, 0, sym, len, &err);
		floe_batch_builder_i64(bld, 1, INT64_C(1700000000000000) + (int64_t)(rnd() % 86400000000ull),
		                       &err);
		len = snprintf(sym, sizeof sym, "T%09d", (int)((uint64_t)r * 7919 % 1000003));
		floe_batch_builder_bytes(bld, 2, sym, len, &err);
	}
	const floe_batch *b = floe_batch_builder_view(bld);
	int cols[] = { 0, 1 };
	int32_t *perm = NULL;
	double t0 = now_s();
	REQUIRE_OK(floe_batch_sort(b, cols, 2, &perm, a, &err), &err);
	double t1 = now_s();
	fprintf(stderr, "sorted %d rows by (string, timestamp) in %.1f ms\n", n, (t1 - t0) * 1e3);
	/* with a unique string tie-break, as a window sorts trades */
	int cols3[] = { 0, 1, 2 };
	int32_t *perm3 = NULL;
	t0 = now_s();
	REQUIRE_OK(floe_batch_sort(b, cols3, 3, &perm3, a, &err), &err);
	t1 = now_s();
	fprintf(stderr, "sorted %d rows by (string, timestamp, unique string) in %.1f ms\n", n,
	        (t1 - t0) * 1e3);
	int ties = 0;
	for (int r = 0; r < n; r++)
		ties += perm[r] != perm3[r];
	CHECK(ties < n / 100); /* few rows tie on (symbol, t) */
	uint8_t *seen = calloc((size_t)n, 1);
	REQUIRE(seen);
	int bad = 0;
	const floe_column *sc = &b->cols[0];
	const int64_t *tv = b->cols[1].values;
	for (int r = 0; r < n; r++) {
		if (perm[r] < 0 || perm[r] >= n || seen[perm[r]]++)
			bad++;
		if (r == 0)
			continue;
		int32_t p = perm[r - 1], q = perm[r];
		int64_t lp = sc->offsets[p + 1] - sc->offsets[p], lq = sc->offsets[q + 1] - sc->offsets[q];
		int c = memcmp(sc->data + sc->offsets[p], sc->data + sc->offsets[q],
		               (size_t)(lp < lq ? lp : lq));
		if (c == 0)
			c = (lp > lq) - (lp < lq);
		if (c > 0 || (c == 0 && (tv[p] > tv[q] || (tv[p] == tv[q] && p > q))))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	free(seen);
	floe_batch_builder_free(bld);
	floe_arena_free(a);
}
