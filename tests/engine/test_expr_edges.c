/* Edge cases of the expression language's text: durations that are not
 * numbers or overflow when their parts add up (once undefined behaviour),
 * and aggregate calls whose texts differ only in the space between two
 * words, which must not share one placeholder. */
#include <string.h>

#include "floe/expr.h"
#include "harness.h"

TEST(expr_interval_text_edges)
{
	int64_t us = 0;
	floe_error err;
	CHECK(floe_expr_parse_interval(&us, "nan s", &err) == FLOE_EINVALID);
	CHECK(strstr(err.msg, "not a duration") != NULL);
	CHECK(floe_expr_parse_interval(&us, "inf s", &err) == FLOE_EINVALID);
	CHECK(floe_expr_parse_interval(&us, "9000000000000 s 9000000000000 s", &err) ==
	      FLOE_EINVALID);
	CHECK(floe_expr_parse_interval(&us, "9000000000000 s", &err) == 0 &&
	      us == 9000000000000000000LL);
	CHECK(floe_expr_parse_interval(&us, "1h 30m", &err) == 0 && us == 5400000000LL);
	CHECK(floe_expr_parse_interval(&us, "1.5s", &err) == 0 && us == 1500000);
	/* the same text inside the language is a parse error with a position */
	floe_arena *a = floe_arena_new(0);
	REQUIRE(a);
	floe_expr *e;
	CHECK(floe_expr_parse(&e, "ts + INTERVAL 'nan s'", a, &err) == FLOE_EINVALID);
	CHECK(strstr(err.msg, "at character 15") && strstr(err.msg, "not a duration"));
	CHECK(floe_expr_parse(&e, "ts + INTERVAL '9000000000000 s 9000000000000 s'", a, &err) ==
	      FLOE_EINVALID);
	floe_arena_free(a);
}

TEST(expr_split_aggregates_keep_word_boundaries)
{
	floe_arena *a = floe_arena_new(0);
	REQUIRE(a);
	floe_error err;
	floe_expr_agg *aggs = NULL;
	int n = 0;
	const char *texts[] = { "max(a or b)", "max(aorb)", "MAX( a  OR\tb )", "count(*)",
		"COUNT( * )", "sum(if(s = 'A', 1, 0))", "sum(if(s='a',1,0))", "sum(if(s='A',1,0))" };
	const char *want[] = { "__agg0", "__agg1", "__agg0", "__agg2", "__agg2", "__agg3",
		"__agg4", "__agg3" };
	for (int i = 0; i < 8; i++) {
		floe_expr *e;
		floe_schema *s;
		REQUIRE_OK(floe_expr_parse(&e, texts[i], a, &err), &err);
		REQUIRE_OK(floe_expr_split_aggregates(e, &aggs, &n, a, &err), &err);
		/* the rewritten expression is the placeholder column alone */
		REQUIRE_OK(floe_schema_parse(&s, "__agg0 long, __agg1 long, __agg2 long, "
		                             "__agg3 long, __agg4 long", a, &err), &err);
		REQUIRE_OK(floe_expr_bind(e, s, 0, &err), &err);
		const char *names[2];
		CHECK_EQ_INT(floe_expr_columns(e, names, 2), 1);
		CHECK_EQ_STR(names[0], want[i]);
	}
	CHECK_EQ_INT(n, 5);
	floe_arena_free(a);
}
