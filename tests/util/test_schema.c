/* tests/util/test_schema.c - type names, schema text, field ids. */
#include <string.h>

#include "floe/schema.h"
#include "harness.h"

TEST(schema_type_roundtrip_every_name)
{
	static const char *names[] = {
		"boolean", "int", "long", "float", "double", "decimal(9,2)", "decimal(38,0)",
		"decimal(1,1)", "date", "time", "timestamp", "timestamptz", "timestamp_ns",
		"timestamptz_ns", "string", "uuid", "fixed[16]", "fixed[1]", "binary", "json",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		floe_type t;
		floe_error err, *e = &err;
		char buf[64];
		CHECK_OK(floe_type_parse(&t, names[i], e), e);
		CHECK_EQ_STR(floe_type_format(&t, buf, sizeof buf), names[i]);
	}
}

TEST(schema_type_widths)
{
	floe_type t;
	REQUIRE_OK(floe_type_parse(&t, "decimal(18,3)", NULL), (floe_error *)NULL);
	CHECK_EQ_INT(floe_type_value_width(&t), 8);
	REQUIRE_OK(floe_type_parse(&t, "decimal(19,3)", NULL), (floe_error *)NULL);
	CHECK_EQ_INT(floe_type_value_width(&t), 16);
	CHECK_EQ_INT(t.width, 16);
	REQUIRE_OK(floe_type_parse(&t, " UUID ", NULL), (floe_error *)NULL);
	CHECK_EQ_INT(t.id, FLOE_TYPE_UUID);
	CHECK_EQ_INT(floe_type_value_width(&t), 16);
	REQUIRE_OK(floe_type_parse(&t, "fixed[7]", NULL), (floe_error *)NULL);
	CHECK_EQ_INT(floe_type_value_width(&t), 7);
	REQUIRE_OK(floe_type_parse(&t, "date", NULL), (floe_error *)NULL);
	CHECK_EQ_INT(floe_type_value_width(&t), 4);
	REQUIRE_OK(floe_type_parse(&t, "timestamptz_ns", NULL), (floe_error *)NULL);
	CHECK_EQ_INT(floe_type_value_width(&t), 8);
	REQUIRE_OK(floe_type_parse(&t, "json", NULL), (floe_error *)NULL);
	CHECK_EQ_INT(floe_type_value_width(&t), 0);
	CHECK(floe_type_is_variable(&t));
	REQUIRE_OK(floe_type_parse(&t, "boolean", NULL), (floe_error *)NULL);
	CHECK_EQ_INT(floe_type_value_width(&t), 1);
	CHECK(!floe_type_is_variable(&t));
}

TEST(schema_type_parse_errors)
{
	static const char *bad[] = { "decimal(0,0)", "decimal(39,2)", "decimal(5,6)",
	                             "decimal(5)", "decimal(5,2", "fixed[0]", "fixed[]",
	                             "fixed[x]", "integer", "", "timestamp_tz" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		floe_type t;
		floe_error err;
		int rc = floe_type_parse(&t, bad[i], &err);
		if (rc != FLOE_EINVALID)
			th_fail(__FILE__, __LINE__, "'%s' parsed (rc %d)", bad[i], rc);
		CHECK(strlen(err.msg) > 0);
	}
	floe_error err;
	floe_type t;
	floe_type_parse(&t, "decimal(40,2)", &err);
	CHECK(strstr(err.msg, "40") != NULL);
}

TEST(schema_parse_fields_ids_not_null)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL;
	floe_error err, *e = &err;
	REQUIRE_OK(floe_schema_parse(&s, "trade_id string not null, price decimal(10, 2) id 7,"
	                                 " ts timestamptz, \"odd name\" fixed[4] NOT NULL id 2",
	                             a, e), e);
	REQUIRE(s->nfields == 4);
	CHECK_EQ_STR(s->fields[0].name, "trade_id");
	CHECK(s->fields[0].required);
	CHECK_EQ_INT(s->fields[0].type.id, FLOE_TYPE_STRING);
	CHECK_EQ_INT(s->fields[1].type.precision, 10);
	CHECK_EQ_INT(s->fields[1].type.scale, 2);
	CHECK_EQ_INT(s->fields[1].field_id, 7);
	CHECK(!s->fields[1].required);
	CHECK_EQ_STR(s->fields[3].name, "odd name");
	CHECK(s->fields[3].required);
	CHECK_EQ_INT(s->fields[3].field_id, 2);
	/* unassigned ids: 1, then 3 (2 is taken) */
	CHECK_EQ_INT(s->fields[0].field_id, 1);
	CHECK_EQ_INT(s->fields[2].field_id, 3);
	CHECK_EQ_INT(floe_schema_find(s, "ts"), 2);
	CHECK_EQ_INT(floe_schema_find(s, "nope"), -1);
	CHECK_EQ_INT(floe_schema_find_id(s, 7), 1);
	CHECK_EQ_INT(floe_schema_find_id(s, 99), -1);
	floe_arena_free(a);
}

TEST(schema_parse_errors_name_token_and_position)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL;
	floe_error err;
	CHECK_EQ_INT(floe_schema_parse(&s, "a int, a long", a, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "duplicate") && strstr(err.msg, "'a'") && strstr(err.msg, "position 8"));
	CHECK_EQ_INT(floe_schema_parse(&s, "a int, b lng", a, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "lng") && strstr(err.msg, "position 10"));
	CHECK_EQ_INT(floe_schema_parse(&s, "a int nullable", a, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "nullable") && strstr(err.msg, "position 7"));
	CHECK_EQ_INT(floe_schema_parse(&s, "a int not nul", a, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_schema_parse(&s, "a int,", a, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_schema_parse(&s, "", a, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_schema_parse(&s, "a", a, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_schema_parse(&s, "a int id x", a, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_schema_parse(&s, "a int id 3, b int id 3", a, &err), FLOE_EINVALID);
	CHECK(s == NULL);
	floe_arena_free(a);
}
