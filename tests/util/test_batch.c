/* tests/util/test_batch.c - floe_batch_builder: storage, NULLs, rows, kinds. */
#include <string.h>

#include "floe/batch.h"
#include "harness.h"

static floe_schema *mk(floe_arena *a, const char *text)
{
	floe_schema *s = NULL;
	floe_error err;
	if (floe_schema_parse(&s, text, a, &err) != 0)
		th_fail(__FILE__, __LINE__, "%s", err.msg);
	return s;
}

TEST(batch_builder_values_and_lazy_validity)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = mk(a, "id long not null, name string, ok boolean, u uuid");
	REQUIRE(s);
	floe_batch_builder *b = NULL;
	floe_error err, *e = &err;
	REQUIRE_OK(floe_batch_builder_new(&b, s, e), e);
	uint8_t u[16];
	for (int r = 0; r < 20; r++) {
		memset(u, r, sizeof u);
		CHECK_OK(floe_batch_builder_i64(b, 0, r * 10, e), e);
		if (r == 11)
			CHECK_OK(floe_batch_builder_null(b, 1, e), e);
		else
			CHECK_OK(floe_batch_builder_bytes(b, 1, "abc", r % 4, e), e);
		CHECK_OK(floe_batch_builder_bool(b, 2, r & 1, e), e);
		CHECK_EQ_INT(floe_batch_builder_rows(b), r);
		CHECK_OK(floe_batch_builder_bytes(b, 3, u, 16, e), e);
		CHECK_EQ_INT(floe_batch_builder_rows(b), r + 1);
	}
	const floe_batch *v = floe_batch_builder_view(b);
	CHECK_EQ_INT(v->nrows, 20);
	CHECK_EQ_INT(v->ncols, 4);
	CHECK(v->cols[0].validity == NULL);
	CHECK(v->cols[2].validity == NULL);
	REQUIRE(v->cols[1].validity != NULL);
	CHECK_EQ_INT(v->cols[1].null_count, 1);
	for (int r = 0; r < 20; r++) {
		CHECK(floe_column_is_valid(&v->cols[1], r) == (r != 11));
		CHECK_EQ_INT(((int64_t *)v->cols[0].values)[r], r * 10);
		CHECK_EQ_INT(((uint8_t *)v->cols[2].values)[r], r & 1);
		CHECK_EQ_INT(((uint8_t *)v->cols[3].values)[r * 16 + 5], r);
		int64_t len = v->cols[1].offsets[r + 1] - v->cols[1].offsets[r];
		CHECK_EQ_INT(len, r == 11 ? 0 : r % 4);
	}
	CHECK_EQ_INT(v->cols[1].offsets[0], 0);
	CHECK(floe_batch_builder_bytes_used(b) > 20 * 8);
	floe_batch_builder_clear(b);
	CHECK_EQ_INT(floe_batch_builder_rows(b), 0);
	CHECK_OK(floe_batch_builder_i64(b, 0, 5, e), e);
	CHECK_OK(floe_batch_builder_bytes(b, 1, "xy", 2, e), e);
	CHECK_OK(floe_batch_builder_null(b, 2, e), e);
	CHECK_OK(floe_batch_builder_null(b, 3, e), e);
	v = floe_batch_builder_view(b);
	CHECK_EQ_INT(v->nrows, 1);
	CHECK(v->cols[1].validity == NULL);
	CHECK_EQ_INT(v->cols[2].null_count, 1);
	CHECK_EQ_INT(v->cols[1].offsets[1], 2);
	CHECK(memcmp(v->cols[1].data, "xy", 2) == 0);
	floe_batch_builder_free(b);
	floe_arena_free(a);
}

TEST(batch_builder_rejects_wrong_kind_and_required_null)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = mk(a, "i int not null, d decimal(20,2), e decimal(10,2), f fixed[3], x double");
	REQUIRE(s);
	floe_batch_builder *b = NULL;
	floe_error err, *e = &err;
	REQUIRE_OK(floe_batch_builder_new(&b, s, e), e);
	CHECK_EQ_INT(floe_batch_builder_i64(b, 0, 1, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "'i'") != NULL);
	CHECK_EQ_INT(floe_batch_builder_null(b, 0, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_batch_builder_i64(b, 1, 1, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_batch_builder_bytes(b, 1, "0123456789abcdef", 15, &err), FLOE_EINVALID);
	CHECK_OK(floe_batch_builder_bytes(b, 1, "0123456789abcdef", 16, e), e);
	CHECK_OK(floe_batch_builder_i64(b, 2, 1234, e), e);
	CHECK_EQ_INT(floe_batch_builder_bytes(b, 3, "ab", 2, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_batch_builder_f32(b, 4, 1.0f, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_batch_builder_bool(b, 4, true, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_batch_builder_i32(b, 9, 1, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_batch_builder_rows(b), 0);
	floe_batch_builder_free(b);
	floe_batch_builder_free(NULL);
	floe_arena_free(a);
}

TEST(batch_builder_validity_after_many_valid_rows)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = mk(a, "v int");
	REQUIRE(s);
	floe_batch_builder *b = NULL;
	REQUIRE_OK(floe_batch_builder_new(&b, s, NULL), (floe_error *)NULL);
	for (int r = 0; r < 1000; r++) {
		if (r % 97 == 13)
			CHECK_OK(floe_batch_builder_null(b, 0, NULL), (floe_error *)NULL);
		else
			CHECK_OK(floe_batch_builder_i32(b, 0, r, NULL), (floe_error *)NULL);
	}
	const floe_batch *v = floe_batch_builder_view(b);
	int nulls = 0;
	for (int r = 0; r < 1000; r++) {
		bool valid = floe_column_is_valid(&v->cols[0], r);
		CHECK(valid == (r % 97 != 13));
		nulls += !valid;
		if (valid)
			CHECK_EQ_INT(((int32_t *)v->cols[0].values)[r], r);
	}
	CHECK_EQ_INT(v->cols[0].null_count, nulls);
	floe_batch_builder_free(b);
	floe_arena_free(a);
}
