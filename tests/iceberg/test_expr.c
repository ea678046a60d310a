/* tests/iceberg/test_expr.c - scan filters: parsing, binding, batch evaluation
 * against a row-by-row reference, metrics / partition / manifest pruning,
 * and lowering to Parquet predicates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "iceberg/expr.h"
#include "iceberg/transform.h"
#include "util/text.h"

/* ---- helpers ----------------------------------------------------------- */

/* An ice_schema of top-level primitives from floe's schema text (ids 1..n). */
static ice_schema *mk_schema(floe_arena *a, const char *text, floe_schema **fs_out)
{
	floe_schema *fs = NULL;
	floe_error err;
	if (floe_schema_parse(&fs, text, a, &err) != 0) {
		th_fail(__FILE__, __LINE__, "%s", err.msg);
		return NULL;
	}
	ice_schema *s = floe_arena_calloc(a, 1, sizeof *s);
	s->nfields = fs->nfields;
	s->fields = floe_arena_calloc(a, (size_t)fs->nfields, sizeof *s->fields);
	for (int i = 0; i < fs->nfields; i++) {
		ice_type *t = floe_arena_calloc(a, 1, sizeof *t);
		t->kind = ICE_PRIMITIVE;
		t->prim = fs->fields[i].type;
		s->fields[i].id = fs->fields[i].field_id;
		s->fields[i].name = fs->fields[i].name;
		s->fields[i].required = fs->fields[i].required;
		s->fields[i].type = t;
	}
	if (fs_out)
		*fs_out = fs;
	return s;
}

static const char *fmt(const ice_expr *e)
{
	static char out[4][2048];
	static int slot;
	char *o = out[slot++ & 3];
	floe_buf b = FLOE_BUF_INIT;
	if (ice_expr_format(&b, e) != 0 || b.len >= 2048) {
		floe_buf_free(&b);
		return "(format failed)";
	}
	memcpy(o, b.data, b.len);
	o[b.len] = '\0';
	floe_buf_free(&b);
	return o;
}

static ice_expr *bound(floe_arena *a, const ice_schema *s, const char *text)
{
	ice_expr *u = NULL, *b = NULL;
	floe_error err;
	if (ice_expr_parse(&u, text, a, &err) != 0 || ice_expr_bind(&b, u, s, a, &err) != 0) {
		th_fail(__FILE__, __LINE__, "%s: %s", text, err.msg);
		return NULL;
	}
	return b;
}

static bool has_not(const ice_expr *e)
{
	if (!e)
		return false;
	return e->op == ICE_E_NOT || has_not(e->left) || has_not(e->right);
}

/* ---- parser ------------------------------------------------------------ */

static void check_parse(const char *text, const char *want)
{
	floe_arena *a = floe_arena_new(0);
	ice_expr *e = NULL;
	floe_error err;
	int rc = ice_expr_parse(&e, text, a, &err);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "%s: %s", text, err.msg);
	else if (strcmp(fmt(e), want) != 0)
		th_fail(__FILE__, __LINE__, "%s -> %s, want %s", text, fmt(e), want);
	floe_arena_free(a);
}

static void check_parse_error(const char *text, const char *want_in_msg)
{
	floe_arena *a = floe_arena_new(0);
	ice_expr *e = NULL;
	floe_error err;
	int rc = ice_expr_parse(&e, text, a, &err);
	if (rc != FLOE_EINVALID)
		th_fail(__FILE__, __LINE__, "%s: rc %d, want EINVALID", text, rc);
	else if (!strstr(err.msg, want_in_msg))
		th_fail(__FILE__, __LINE__, "%s: message '%s' lacks '%s'", text, err.msg,
		        want_in_msg);
	floe_arena_free(a);
}

TEST(ice_expr_parse_precedence_and_forms)
{
	check_parse("a = 1", "a = 1");
	check_parse("a == 1 or b <> 2", "(a = 1 OR b != 2)");
	/* NOT binds tighter than AND, AND tighter than OR */
	check_parse("a = 1 OR b = 2 AND NOT c = 3", "(a = 1 OR (b = 2 AND NOT (c = 3)))");
	check_parse("NOT a = 1 AND b = 2", "(NOT (a = 1) AND b = 2)");
	check_parse("(a = 1 OR b = 2) AND c = 3", "((a = 1 OR b = 2) AND c = 3)");
	check_parse("a=1 or b=2 or c=3", "((a = 1 OR b = 2) OR c = 3)");
	check_parse("x IN (1, 2,3)", "x IN (1, 2, 3)");
	check_parse("x not in ('a','b')", "x NOT IN ('a', 'b')");
	check_parse("x is null and y IS NOT NULL", "(x IS NULL AND y IS NOT NULL)");
	check_parse("\"my col\" >= -1.5e3", "\"my col\" >= -1.5e3");
	check_parse("\"a\"\"b\" < 'it''s'", "\"a\"\"b\" < 'it''s'");
	check_parse("t.x <= 'x' AND TRUE OR false", "((t.x <= 'x' AND true) OR false)");
	check_parse("f = nan", "f = nan");
	check_parse("not not (a > 1)", "NOT (NOT (a > 1))");
	check_parse("b = true", "b = true");
	check_parse("\"and\" = 1", "\"and\" = 1");
}

TEST(ice_expr_parse_errors_give_the_position)
{
	check_parse_error("a = ", "at character 5: expected a literal");
	check_parse_error("a = 1 AND", "at character 10");
	check_parse_error("(a = 1", "at character 7: expected ')'");
	check_parse_error("a IN (1,)", "at character 9");
	check_parse_error("a IN 1", "at character 6: expected '(' after IN");
	check_parse_error("a IS NOT 1", "at character 10: expected NULL");
	check_parse_error("a = 'abc", "at character 5: unterminated string");
	check_parse_error("a ~ 1", "at character 3");
	check_parse_error("a = 1 b", "at character 7: expected AND, OR or the end");
	check_parse_error("", "at character 1");
	check_parse_error("and = 1", "at character 1");
	check_parse_error("a = 12abc", "at character 7");
	/* nesting is capped */
	char deep[1200];
	int n = 0;
	for (int i = 0; i < 500; i++)
		deep[n++] = '(';
	memcpy(deep + n, "a = 1", 5);
	n += 5;
	for (int i = 0; i < 500; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	check_parse_error(deep, "nested deeper");
}

/* ---- binding ----------------------------------------------------------- */

TEST(ice_expr_bind_errors_and_literals)
{
	floe_arena *a = floe_arena_new(0);
	ice_schema *s = mk_schema(a, "id long, Name string, ts timestamp, tz timestamptz, "
	                             "f double, ok boolean, amt decimal(9,2)", NULL);
	REQUIRE(s);
	ice_expr *u = NULL, *b = NULL;
	floe_error err;

	REQUIRE_OK(ice_expr_parse(&u, "nope = 1", a, &err), &err);
	CHECK_EQ_INT(ice_expr_bind(&b, u, s, a, &err), FLOE_ENOTFOUND);
	CHECK(strstr(err.msg, "'nope'") != NULL);
	CHECK(strstr(err.msg, "id, Name, ts, tz, f, ok, amt") != NULL);

	REQUIRE_OK(ice_expr_parse(&u, "id = 'abc'", a, &err), &err);
	CHECK_EQ_INT(ice_expr_bind(&b, u, s, a, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "column 'id'") != NULL && strstr(err.msg, "'abc'") != NULL);

	REQUIRE_OK(ice_expr_parse(&u, "Name = 12", a, &err), &err);
	CHECK_EQ_INT(ice_expr_bind(&b, u, s, a, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "column 'Name'") != NULL && strstr(err.msg, "12") != NULL);

	REQUIRE_OK(ice_expr_parse(&u, "amt = 1.234", a, &err), &err);
	CHECK_EQ_INT(ice_expr_bind(&b, u, s, a, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "column 'amt'") != NULL);

	REQUIRE_OK(ice_expr_parse(&u, "id < NaN", a, &err), &err);
	CHECK_EQ_INT(ice_expr_bind(&b, u, s, a, &err), FLOE_EINVALID);
	REQUIRE_OK(ice_expr_parse(&u, "f < NaN", a, &err), &err);
	CHECK_EQ_INT(ice_expr_bind(&b, u, s, a, &err), FLOE_EINVALID);

	/* case-insensitive when unique */
	b = bound(a, s, "name = 'x' AND ID = 2");
	REQUIRE(b);
	CHECK_EQ_INT(b->left->field_id, 2);
	CHECK_EQ_INT(b->right->field_id, 1);
	CHECK_EQ_STR(fmt(b), "(Name = 'x' AND id = 2)");

	/* a date-only literal on a timestamp column is its midnight
	 * (2024-01-02T00:00:00Z is Unix time 1704153600) */
	b = bound(a, s, "tz >= '2024-01-02'");
	REQUIRE(b);
	CHECK_EQ_INT(b->values[0].v.i, INT64_C(1704153600000000));
	b = bound(a, s, "ts < '2024-01-02'");
	REQUIRE(b);
	CHECK_EQ_INT(b->values[0].v.i, INT64_C(1704153600000000));
	/* an offset is converted to UTC */
	b = bound(a, s, "tz = '2024-01-02T01:30:00+01:30'");
	REQUIRE(b);
	CHECK_EQ_INT(b->values[0].v.i, INT64_C(1704153600000000));
	b = bound(a, s, "amt = -12.5");
	REQUIRE(b);
	CHECK_EQ_INT(b->values[0].v.i, -1250);
	b = bound(a, s, "ok = TRUE");
	REQUIRE(b);
	CHECK(b->values[0].v.b);

	/* = NaN is IS_NAN, != NaN and NOT (= NaN) are NOT_NAN */
	b = bound(a, s, "f = NaN");
	REQUIRE(b);
	CHECK_EQ_INT(b->op, ICE_E_IS_NAN);
	b = bound(a, s, "NOT f = NaN");
	REQUIRE(b);
	CHECK_EQ_INT(b->op, ICE_E_NOT_NAN);
	b = bound(a, s, "f != nan");
	REQUIRE(b);
	CHECK_EQ_INT(b->op, ICE_E_NOT_NAN);

	/* NOT pushed down through De Morgan */
	b = bound(a, s, "NOT (id < 3 AND (Name IS NULL OR id IN (1, 2)))");
	REQUIRE(b);
	CHECK(!has_not(b));
	CHECK_EQ_STR(fmt(b), "(id >= 3 OR (Name IS NOT NULL AND id NOT IN (1, 2)))");

	int32_t ids[8];
	CHECK_EQ_INT(ice_expr_field_ids(b, ids, 8), 2);
	CHECK_EQ_INT(ids[0], 1);
	CHECK_EQ_INT(ids[1], 2);
	floe_arena_free(a);
}

/* ---- batch evaluation against a row-by-row reference ------------------- */

#define NROWS 70

static const char *const SCHEMA_ALL =
	"i int, l long, f float, d double, dec decimal(9,2), dt date, t time, "
	"ts timestamp, tz timestamptz, s string, u uuid, b binary, bo boolean, "
	"bd decimal(38,2), fx fixed[2], tn timestamp_ns, j json";

static const char *const STRS[] = { "", "a", "ab", "abc", "b", "\xc3\xa9" };
static const uint8_t BINS[4][2] = { { 0x00 }, { 0xff }, { 0x00, 0x01 }, { 0 } };
static const int BINLEN[4] = { 1, 1, 2, 0 };

static floe_batch_builder *fill_all(const floe_schema *fs)
{
	floe_batch_builder *bld = NULL;
	floe_error err;
	if (floe_batch_builder_new(&bld, fs, &err) != 0)
		return NULL;
	for (int r = 0; r < NROWS; r++) {
		for (int c = 0; c < fs->nfields; c++) {
			int rc;
			if ((r + c) % 7 == 3) {
				rc = floe_batch_builder_null(bld, c, &err);
			} else {
				int k = (r * 5 + c) % 11;
				double x = (r % 9) * 0.5 - 2;
				if (r % 13 == 5)
					x = NAN;
				else if (r % 17 == 4)
					x = -0.0;
				uint8_t u[16];
				memset(u, r % 4, sizeof u);
				u[1] = (uint8_t)(r % 5);
				switch (fs->fields[c].type.id) {
				case FLOE_TYPE_INT: rc = floe_batch_builder_i32(bld, c, k - 5, &err); break;
				case FLOE_TYPE_LONG:
					rc = floe_batch_builder_i64(bld, c, (int64_t)(k - 5) * 1000000007, &err);
					break;
				case FLOE_TYPE_FLOAT: rc = floe_batch_builder_f32(bld, c, (float)x, &err); break;
				case FLOE_TYPE_DOUBLE: rc = floe_batch_builder_f64(bld, c, x, &err); break;
				case FLOE_TYPE_DECIMAL:
					if (fs->fields[c].type.precision <= 18) {
						rc = floe_batch_builder_i64(bld, c, (r % 10) * 25 - 100, &err);
					} else {
						/* 16 bytes big-endian two's complement */
						int64_t v = (r % 10) * 25 - 100;
						uint8_t be[16];
						for (int q = 0; q < 16; q++)
							be[15 - q] = q < 8 ? (uint8_t)((uint64_t)v >> (8 * q))
							                   : (v < 0 ? 0xff : 0);
						rc = floe_batch_builder_bytes(bld, c, be, 16, &err);
					}
					break;
				case FLOE_TYPE_FIXED:
					rc = floe_batch_builder_bytes(bld, c, u + (r % 3), 2, &err);
					u[0] = (uint8_t)r;
					break;
				case FLOE_TYPE_TIMESTAMP_NS:
					rc = floe_batch_builder_i64(bld, c, INT64_C(1704067200000000000) +
					                            (int64_t)(r % 6) * 1000, &err);
					break;
				case FLOE_TYPE_JSON:
					rc = floe_batch_builder_bytes(bld, c, r % 2 ? "1" : "[]", r % 2 ? 1 : 2,
					                              &err);
					break;
				case FLOE_TYPE_DATE: rc = floe_batch_builder_i32(bld, c, 19700 + r % 6, &err); break;
				case FLOE_TYPE_TIME:
					rc = floe_batch_builder_i64(bld, c, (int64_t)(r % 5) * 3600000000, &err);
					break;
				case FLOE_TYPE_TIMESTAMP:
				case FLOE_TYPE_TIMESTAMPTZ:
					rc = floe_batch_builder_i64(bld, c, INT64_C(1704067200000000) +
					                            (int64_t)(r % 6) * 3600000000, &err);
					break;
				case FLOE_TYPE_STRING:
					rc = floe_batch_builder_bytes(bld, c, STRS[r % 6],
					                              (int64_t)strlen(STRS[r % 6]), &err);
					break;
				case FLOE_TYPE_UUID: rc = floe_batch_builder_bytes(bld, c, u, 16, &err); break;
				case FLOE_TYPE_BINARY:
					rc = floe_batch_builder_bytes(bld, c, BINS[r % 4], BINLEN[r % 4], &err);
					break;
				case FLOE_TYPE_BOOLEAN: rc = floe_batch_builder_bool(bld, c, r % 3 == 0, &err); break;
				default: rc = -1; break;
				}
			}
			if (rc != 0) {
				th_fail(__FILE__, __LINE__, "fill: %s", err.msg);
				floe_batch_builder_free(bld);
				return NULL;
			}
		}
	}
	return bld;
}

/* Plain comparison of row r with a literal, written independently of the
 * evaluator: numbers by value (floats: NaN above all, -0 below +0), bytes
 * unsigned then shorter first. */
static int ref_cmp(const floe_column *col, int64_t r, const floe_value *lit)
{
	switch (col->type.id) {
	case FLOE_TYPE_BOOLEAN: {
		int a = ((const uint8_t *)col->values)[r] != 0, b = lit->b;
		return a == b ? 0 : a < b ? -1 : 1;
	}
	case FLOE_TYPE_INT: case FLOE_TYPE_DATE: {
		int64_t a = ((const int32_t *)col->values)[r];
		return a == lit->i ? 0 : a < lit->i ? -1 : 1;
	}
	case FLOE_TYPE_FLOAT: case FLOE_TYPE_DOUBLE: {
		double a = col->type.id == FLOE_TYPE_FLOAT ? ((const float *)col->values)[r]
		                                          : ((const double *)col->values)[r];
		double b = lit->d;
		if (isnan(a))
			return isnan(b) ? 0 : 1;
		if (isnan(b))
			return -1;
		if (a != b)
			return a < b ? -1 : 1;
		int sa = signbit(a) ? 0 : 1, sb = signbit(b) ? 0 : 1;
		return sa - sb;
	}
	case FLOE_TYPE_DECIMAL:
		if (col->type.precision > 18) {
			/* the small values used here fit the low 8 bytes */
			const uint8_t *p = (const uint8_t *)col->values + 16 * r;
			uint64_t a = 0, b = 0;
			for (int k = 8; k < 16; k++) {
				a = a << 8 | p[k];
				b = b << 8 | lit->bytes[k];
			}
			return (int64_t)a == (int64_t)b ? 0 : (int64_t)a < (int64_t)b ? -1 : 1;
		}
		return ((const int64_t *)col->values)[r] == lit->i ? 0
		       : ((const int64_t *)col->values)[r] < lit->i ? -1 : 1;
	case FLOE_TYPE_STRING: case FLOE_TYPE_BINARY: case FLOE_TYPE_UUID: case FLOE_TYPE_FIXED:
	case FLOE_TYPE_JSON: {
		const uint8_t *p;
		int64_t n;
		if (col->type.id == FLOE_TYPE_UUID || col->type.id == FLOE_TYPE_FIXED) {
			n = col->type.width;
			p = (const uint8_t *)col->values + n * r;
		} else {
			p = col->data + col->offsets[r];
			n = col->offsets[r + 1] - col->offsets[r];
		}
		for (int64_t k = 0; k < n && k < lit->len; k++)
			if (p[k] != lit->bytes[k])
				return p[k] < lit->bytes[k] ? -1 : 1;
		return n == lit->len ? 0 : n < lit->len ? -1 : 1;
	}
	default: {
		int64_t a = ((const int64_t *)col->values)[r];
		return a == lit->i ? 0 : a < lit->i ? -1 : 1;
	}
	}
}

/* 1 TRUE, 0 FALSE, -1 NULL */
static int ref_eval(const ice_expr *e, const floe_batch *b, int64_t r)
{
	switch (e->op) {
	case ICE_E_TRUE: return 1;
	case ICE_E_FALSE: return 0;
	case ICE_E_NOT: {
		int x = ref_eval(e->left, b, r);
		return x < 0 ? -1 : !x;
	}
	case ICE_E_AND: {
		int x = ref_eval(e->left, b, r), y = ref_eval(e->right, b, r);
		if (x == 0 || y == 0)
			return 0;
		return x == 1 && y == 1 ? 1 : -1;
	}
	case ICE_E_OR: {
		int x = ref_eval(e->left, b, r), y = ref_eval(e->right, b, r);
		if (x == 1 || y == 1)
			return 1;
		return x == 0 && y == 0 ? 0 : -1;
	}
	default:
		break;
	}
	int ci = b->schema ? floe_schema_find_id(b->schema, e->field_id) : -1;
	bool null = ci < 0 || !floe_column_is_valid(&b->cols[ci], r);
	if (e->op == ICE_E_IS_NULL)
		return null;
	if (e->op == ICE_E_NOT_NULL)
		return !null;
	if (null)
		return -1;
	const floe_column *col = &b->cols[ci];
	if (e->op == ICE_E_IS_NAN || e->op == ICE_E_NOT_NAN) {
		double x = col->type.id == FLOE_TYPE_FLOAT ? ((const float *)col->values)[r]
		                                           : ((const double *)col->values)[r];
		return (e->op == ICE_E_IS_NAN) == (isnan(x) != 0);
	}
	if (e->op == ICE_E_IN || e->op == ICE_E_NOT_IN) {
		bool any = false;
		for (int k = 0; k < e->nvalues; k++)
			if (ref_cmp(col, r, &e->values[k].v) == 0)
				any = true;
		return e->op == ICE_E_IN ? any : !any;
	}
	int c = ref_cmp(col, r, &e->values[0].v);
	switch (e->op) {
	case ICE_E_EQ: return c == 0;
	case ICE_E_NE: return c != 0;
	case ICE_E_LT: return c < 0;
	case ICE_E_LE: return c <= 0;
	case ICE_E_GT: return c > 0;
	default: return c >= 0;
	}
}

/* Evaluate `text` on batch `b` and compare with the reference; returns
 * the number of TRUE rows (-1 on failure). */
static int check_eval(floe_arena *a, const ice_schema *s, const floe_batch *b, const char *text)
{
	ice_expr *e = bound(a, s, text);
	if (!e)
		return -1;
	uint8_t keep[NROWS + 8];
	floe_error err;
	memset(keep, 7, sizeof keep);
	if (ice_expr_eval_batch(e, b, keep, &err) != 0) {
		th_fail(__FILE__, __LINE__, "%s: %s", text, err.msg);
		return -1;
	}
	int ntrue = 0;
	for (int64_t r = 0; r < b->nrows; r++) {
		int want = ref_eval(e, b, r) == 1;
		if (keep[r] != want) {
			th_fail(__FILE__, __LINE__, "%s: row %lld keep %d, reference %d", text,
			        (long long)r, keep[r], want);
			return -1;
		}
		ntrue += want;
	}
	return ntrue;
}

typedef struct col_lits {
	const char *col;
	const char *lits[4];
} col_lits;

static const col_lits LITS[] = {
	{ "i", { "0", "-3", "5", "'2'" } },
	{ "l", { "0", "3000000021", "-5000000035", NULL } },
	{ "f", { "0.5", "-2", "0", "-0.0" } },
	{ "d", { "1.5", "-0.0", "0", "-1e300" } },
	{ "dec", { "-0.5", "1.25", "'0'", NULL } },
	{ "dt", { "'2023-12-11'", "'2023-12-09'", NULL, NULL } },
	{ "t", { "'02:00:00'", "'00:00:00'", NULL, NULL } },
	{ "ts", { "'2024-01-01T02:00:00'", "'2024-01-01'", NULL, NULL } },
	{ "tz", { "'2024-01-01T03:00:00+01:00'", "'2024-01-01T04:00:00Z'", NULL, NULL } },
	{ "s", { "'ab'", "''", "'\xc3\xa9'", "'abcd'" } },
	{ "u", { "'02020202-0202-0202-0202-020202020202'",
	         "'00000000-0000-0000-0000-000000000000'", NULL, NULL } },
	{ "b", { "'AAE='", "'/w=='", "''", NULL } },
	{ "bo", { "true", "false", NULL, NULL } },
	{ "bd", { "-0.5", "1.25", "'-1'", "0" } },
	{ "fx", { "'AgI='", "'AwM='", "'AQE='", NULL } },
	{ "tn", { "'2024-01-01T00:00:00.000002'", "'2024-01-01'", NULL, NULL } },
	{ "j", { "'1'", "'[]'", NULL, NULL } },
};

TEST(ice_expr_eval_every_type_matches_reference)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *fs = NULL;
	ice_schema *s = mk_schema(a, SCHEMA_ALL, &fs);
	REQUIRE(s);
	floe_batch_builder *bld = fill_all(fs);
	REQUIRE(bld);
	const floe_batch *b = floe_batch_builder_view(bld);
	REQUIRE(b->nrows == NROWS);
	static const char *const ops[] = { "=", "!=", "<", "<=", ">", ">=" };
	char text[256];
	int total_true = 0, checks = 0;
	for (size_t c = 0; c < sizeof LITS / sizeof LITS[0]; c++) {
		const col_lits *cl = &LITS[c];
		for (int k = 0; k < 4 && cl->lits[k]; k++) {
			for (int o = 0; o < 6; o++) {
				snprintf(text, sizeof text, "%s %s %s", cl->col, ops[o], cl->lits[k]);
				int n = check_eval(a, s, b, text);
				CHECK(n >= 0);
				total_true += n;
				checks++;
			}
			const char *l2 = cl->lits[k + 1 < 4 && cl->lits[k + 1] ? k + 1 : 0];
			snprintf(text, sizeof text, "%s IN (%s, %s)", cl->col, cl->lits[k], l2);
			CHECK(check_eval(a, s, b, text) >= 0);
			snprintf(text, sizeof text, "%s NOT IN (%s, %s)", cl->col, cl->lits[k], l2);
			CHECK(check_eval(a, s, b, text) >= 0);
		}
		snprintf(text, sizeof text, "%s IS NULL", cl->col);
		CHECK(check_eval(a, s, b, text) == NROWS / 7 || check_eval(a, s, b, text) == NROWS / 7 + 1);
		snprintf(text, sizeof text, "%s IS NOT NULL", cl->col);
		CHECK(check_eval(a, s, b, text) >= NROWS - NROWS / 7 - 1);
	}
	/* the reference must not be vacuous */
	CHECK(total_true > checks);
	/* NaN: = NaN / != NaN, and that NaN sorts above numbers */
	CHECK(check_eval(a, s, b, "f = NaN") > 0);
	CHECK(check_eval(a, s, b, "d != NaN") > 0);
	CHECK(check_eval(a, s, b, "NOT (d = NaN)") > 0);
	CHECK(check_eval(a, s, b, "d > 1e300") > 0);
	/* combinations with NULLs on both sides */
	CHECK(check_eval(a, s, b, "i < 0 AND s = 'ab'") >= 0);
	CHECK(check_eval(a, s, b, "i < 0 OR s IS NULL") > 0);
	CHECK(check_eval(a, s, b, "NOT (i < 0 OR f > 0)") >= 0);
	CHECK(check_eval(a, s, b, "(l > 0 OR d < 0) AND NOT (s IN ('a', 'b') AND bo = true)") >= 0);
	CHECK_EQ_INT(check_eval(a, s, b, "FALSE OR i IS NULL AND FALSE"), 0);
	CHECK_EQ_INT(check_eval(a, s, b, "TRUE"), NROWS);
	floe_batch_builder_free(bld);
	floe_arena_free(a);
}

TEST(ice_expr_not_pushdown_matches_not_on_batches)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *fs = NULL;
	ice_schema *s = mk_schema(a, SCHEMA_ALL, &fs);
	REQUIRE(s);
	floe_batch_builder *bld = fill_all(fs);
	REQUIRE(bld);
	const floe_batch *b = floe_batch_builder_view(bld);
	static const char *const preds[] = {
		"i = 0", "i != 0", "i < 0", "i <= 0", "i > 0", "i >= 0", "i IN (0, 1, -3)",
		"i NOT IN (0, 1)", "i IS NULL", "i IS NOT NULL", "d = NaN", "d != NaN",
		"s < 'ab'", "f >= 0", "TRUE", "FALSE",
		"i < 0 AND s = 'ab'", "i < 0 OR d > 0", "NOT (l > 0) OR bo = false",
		"(i = 1 OR i IS NULL) AND (s IS NOT NULL OR d < 0)",
	};
	char text[256];
	for (size_t k = 0; k < sizeof preds / sizeof preds[0]; k++) {
		ice_expr *inner = bound(a, s, preds[k]);
		snprintf(text, sizeof text, "NOT (%s)", preds[k]);
		ice_expr *pushed = bound(a, s, text);
		REQUIRE(inner && pushed);
		CHECK(!has_not(pushed));
		ice_expr notn;
		memset(&notn, 0, sizeof notn);
		notn.op = ICE_E_NOT;
		notn.left = inner;
		uint8_t k1[NROWS], k2[NROWS], k3[NROWS];
		floe_error err;
		REQUIRE_OK(ice_expr_eval_batch(&notn, b, k1, &err), &err);
		REQUIRE_OK(ice_expr_eval_batch(pushed, b, k2, &err), &err);
		REQUIRE_OK(ice_expr_eval_batch(inner, b, k3, &err), &err);
		int nulls = 0;
		for (int r = 0; r < NROWS; r++) {
			if (k1[r] != k2[r])
				th_fail(__FILE__, __LINE__, "%s: row %d: NOT %d, pushed %d", text, r,
				        k1[r], k2[r]);
			CHECK_EQ_INT(k1[r], ref_eval(&notn, b, r) == 1);
			nulls += !k1[r] && !k3[r];
		}
		/* rows where neither form is TRUE: the NULLs of 3VL */
		if (strstr(preds[k], "NULL") == NULL && k < 14)
			CHECK(nulls > 0);
	}
	floe_batch_builder_free(bld);
	floe_arena_free(a);
}

TEST(ice_expr_eval_absent_column_is_null)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *fs = NULL;
	ice_schema *s = mk_schema(a, "x int, z long", NULL);
	REQUIRE(s);
	REQUIRE(mk_schema(a, "x int", &fs));
	floe_batch_builder *bld = NULL;
	floe_error err;
	REQUIRE_OK(floe_batch_builder_new(&bld, fs, &err), &err);
	for (int r = 0; r < 10; r++)
		CHECK_OK(floe_batch_builder_i32(bld, 0, r, &err), &err);
	const floe_batch *b = floe_batch_builder_view(bld);
	CHECK_EQ_INT(check_eval(a, s, b, "z IS NULL"), 10);
	CHECK_EQ_INT(check_eval(a, s, b, "z = 1"), 0);
	CHECK_EQ_INT(check_eval(a, s, b, "NOT (z = 1)"), 0);
	CHECK_EQ_INT(check_eval(a, s, b, "z = 1 OR x < 3"), 3);
	CHECK_EQ_INT(check_eval(a, s, b, "z IS NOT NULL OR x >= 3"), 7);
	floe_batch_builder_free(bld);
	floe_arena_free(a);
}

/* ---- data file metrics -------------------------------------------------- */

static const uint8_t *ser(floe_arena *a, const char *type, const char *text, size_t *len)
{
	floe_type t;
	floe_value v;
	floe_buf scratch = FLOE_BUF_INIT, out = FLOE_BUF_INIT;
	floe_error err;
	uint8_t *p = NULL;
	if (floe_type_parse(&t, type, &err) != 0 ||
	    floe_text_parse(&v, &t, text, strlen(text), &scratch, &err) != 0 ||
	    ice_value_serialize(&out, &t, &v, &err) != 0) {
		th_fail(__FILE__, __LINE__, "ser %s %s: %s", type, text, err.msg);
	} else {
		p = floe_arena_alloc(a, out.len);
		memcpy(p, out.data, out.len);
		*len = out.len;
	}
	floe_buf_free(&scratch);
	floe_buf_free(&out);
	return p;
}

typedef struct mfile {
	ice_data_file f;
	ice_column_metrics m;
} mfile;

static void mk_file(mfile *mf, floe_arena *a, int32_t id, const char *type, const char *lo,
                    const char *hi, int64_t values, int64_t nulls, int64_t nans)
{
	memset(mf, 0, sizeof *mf);
	mf->f.record_count = values < 0 ? 100 : values;
	mf->f.nmetrics = 1;
	mf->f.metrics = &mf->m;
	mf->m.field_id = id;
	mf->m.value_count = values;
	mf->m.null_count = nulls;
	mf->m.nan_count = nans;
	mf->m.column_size = -1;
	if (lo)
		mf->m.lower = ser(a, type, lo, &mf->m.lower_len);
	if (hi)
		mf->m.upper = ser(a, type, hi, &mf->m.upper_len);
}

static int might(floe_arena *a, const ice_schema *s, const char *text, const mfile *mf)
{
	ice_expr *e = bound(a, s, text);
	return e ? ice_expr_might_match_file(e, &mf->f) : -1;
}

TEST(ice_expr_metrics_prune_each_op)
{
	floe_arena *a = floe_arena_new(0);
	ice_schema *s = mk_schema(a, "l long, s string, d double, x int", NULL);
	REQUIRE(s);
	mfile m;
	mk_file(&m, a, 1, "long", "10", "20", 100, 0, -1);
	CHECK_EQ_INT(might(a, s, "l = 5", &m), 0);
	CHECK_EQ_INT(might(a, s, "l = 10", &m), 1);
	CHECK_EQ_INT(might(a, s, "l = 15", &m), 1);
	CHECK_EQ_INT(might(a, s, "l = 21", &m), 0);
	CHECK_EQ_INT(might(a, s, "l < 10", &m), 0);
	CHECK_EQ_INT(might(a, s, "l <= 10", &m), 1);
	CHECK_EQ_INT(might(a, s, "l > 20", &m), 0);
	CHECK_EQ_INT(might(a, s, "l >= 20", &m), 1);
	CHECK_EQ_INT(might(a, s, "l > 19", &m), 1);
	CHECK_EQ_INT(might(a, s, "l IN (1, 25, 30)", &m), 0);
	CHECK_EQ_INT(might(a, s, "l IN (1, 25, 12)", &m), 1);
	CHECK_EQ_INT(might(a, s, "l NOT IN (10, 20)", &m), 1);
	CHECK_EQ_INT(might(a, s, "l != 15", &m), 1);
	CHECK_EQ_INT(might(a, s, "l IS NULL", &m), 0);
	CHECK_EQ_INT(might(a, s, "l IS NOT NULL", &m), 1);
	CHECK_EQ_INT(might(a, s, "NOT (l >= 10)", &m), 0);
	CHECK_EQ_INT(might(a, s, "l = 5 OR l = 15", &m), 1);
	CHECK_EQ_INT(might(a, s, "l = 5 OR x = 1", &m), 1);   /* x has no metrics */
	CHECK_EQ_INT(might(a, s, "l = 15 AND l = 25", &m), 0);
	CHECK_EQ_INT(might(a, s, "FALSE", &m), 0);
	/* no bounds, no counts: nothing is proven */
	mk_file(&m, a, 1, "long", NULL, NULL, -1, -1, -1);
	static const char *const all_ops[] = {
		"l = 5", "l != 5", "l < 5", "l <= 5", "l > 5", "l >= 5", "l IN (5, 6)",
		"l NOT IN (5)", "l IS NULL", "l IS NOT NULL" };
	for (size_t k = 0; k < sizeof all_ops / sizeof all_ops[0]; k++)
		CHECK_EQ_INT(might(a, s, all_ops[k], &m), 1);
	/* only a lower bound */
	mk_file(&m, a, 1, "long", "10", NULL, 100, 5, -1);
	CHECK_EQ_INT(might(a, s, "l < 10", &m), 0);
	CHECK_EQ_INT(might(a, s, "l > 1000", &m), 1);
	CHECK_EQ_INT(might(a, s, "l IS NULL", &m), 1);
	/* all NULL: value_count == null_count */
	mk_file(&m, a, 1, "long", NULL, NULL, 50, 50, -1);
	for (size_t k = 0; k < sizeof all_ops / sizeof all_ops[0]; k++)
		CHECK_EQ_INT(might(a, s, all_ops[k], &m), k == 8);
	/* an empty file holds no match */
	mk_file(&m, a, 1, "long", NULL, NULL, 0, 0, -1);
	CHECK_EQ_INT(might(a, s, "l IS NULL", &m), 0);
	/* a long IN list is checked literal by literal against the bounds */
	mk_file(&m, a, 1, "long", "1000", "2000", 100, 0, -1);
	static char many[4096];
	size_t len = (size_t)snprintf(many, sizeof many, "l IN (0");
	for (int k = 1; k < 300; k++)
		len += (size_t)snprintf(many + len, sizeof many - len, ", %d", k * 7 % 997);
	snprintf(many + len, sizeof many - len, ")");
	CHECK_EQ_INT(might(a, s, many, &m), 0);
	many[len] = '\0';
	snprintf(many + len, sizeof many - len, ", 2000)");
	CHECK_EQ_INT(might(a, s, many, &m), 1);
	/* bounds written for an int column read for a promoted long */
	mk_file(&m, a, 4, "int", "10", "20", 100, 0, -1);
	CHECK_EQ_INT(might(a, s, "x = 5", &m), 0);
	CHECK_EQ_INT(might(a, s, "x = 12", &m), 1);
	floe_arena_free(a);
}

TEST(ice_expr_metrics_truncated_string_bounds)
{
	floe_arena *a = floe_arena_new(0);
	ice_schema *s = mk_schema(a, "l long, s string", NULL);
	REQUIRE(s);
	mfile m;
	/* values from "abc..." to "abcz...", bounds truncated to 3 bytes: the
	 * lower bound is a prefix of the minimum, the upper bound was
	 * incremented and is above every value */
	mk_file(&m, a, 2, "string", "abc", "abd", 10, 0, -1);
	CHECK_EQ_INT(might(a, s, "s = 'abcqqq'", &m), 1);
	CHECK_EQ_INT(might(a, s, "s = 'abc'", &m), 1);
	CHECK_EQ_INT(might(a, s, "s = 'abd'", &m), 1);
	CHECK_EQ_INT(might(a, s, "s = 'abda'", &m), 0);
	CHECK_EQ_INT(might(a, s, "s = 'ab'", &m), 0);
	CHECK_EQ_INT(might(a, s, "s = 'abb'", &m), 0);
	CHECK_EQ_INT(might(a, s, "s < 'abc'", &m), 0);
	CHECK_EQ_INT(might(a, s, "s <= 'abc'", &m), 1);
	CHECK_EQ_INT(might(a, s, "s < 'abca'", &m), 1);
	CHECK_EQ_INT(might(a, s, "s > 'abd'", &m), 0);
	CHECK_EQ_INT(might(a, s, "s >= 'abd'", &m), 1);
	CHECK_EQ_INT(might(a, s, "s > 'abcz'", &m), 1);
	CHECK_EQ_INT(might(a, s, "s IN ('a', 'abdd', 'b')", &m), 0);
	CHECK_EQ_INT(might(a, s, "s IN ('a', 'abcd', 'b')", &m), 1);
	/* a string equal to both bounds may still differ from every value */
	mk_file(&m, a, 2, "string", "abc", "abc", 10, 0, -1);
	CHECK_EQ_INT(might(a, s, "s != 'abc'", &m), 1);
	CHECK_EQ_INT(might(a, s, "s NOT IN ('abc')", &m), 1);
	/* bytes compare unsigned: 'é' (0xc3 0xa9) sorts above 'z' */
	mk_file(&m, a, 2, "string", "a", "z", 10, 0, -1);
	CHECK_EQ_INT(might(a, s, "s = '\xc3\xa9'", &m), 0);
	CHECK_EQ_INT(might(a, s, "s < '\xc3\xa9'", &m), 1);
	floe_arena_free(a);
}

TEST(ice_expr_metrics_nan_counts)
{
	floe_arena *a = floe_arena_new(0);
	ice_schema *s = mk_schema(a, "d double, f float", NULL);
	REQUIRE(s);
	mfile m;
	/* bounds never include NaN: NaN rows (above every number) may match > */
	mk_file(&m, a, 1, "double", "1", "2", 100, 0, 5);
	CHECK_EQ_INT(might(a, s, "d > 3", &m), 1);
	CHECK_EQ_INT(might(a, s, "d >= 3", &m), 1);
	CHECK_EQ_INT(might(a, s, "d < 0.5", &m), 0);
	CHECK_EQ_INT(might(a, s, "d = 3", &m), 0);
	CHECK_EQ_INT(might(a, s, "d = NaN", &m), 1);
	CHECK_EQ_INT(might(a, s, "d != NaN", &m), 1);
	mk_file(&m, a, 1, "double", "1", "2", 100, 0, 0);
	CHECK_EQ_INT(might(a, s, "d > 3", &m), 0);
	CHECK_EQ_INT(might(a, s, "d = NaN", &m), 0);
	CHECK_EQ_INT(might(a, s, "d != NaN", &m), 1);
	/* NaN count unknown: > cannot prune, = NaN cannot prune */
	mk_file(&m, a, 1, "double", "1", "2", 100, 0, -1);
	CHECK_EQ_INT(might(a, s, "d > 3", &m), 1);
	CHECK_EQ_INT(might(a, s, "d = NaN", &m), 1);
	CHECK_EQ_INT(might(a, s, "d < 1", &m), 0);
	/* only NaN */
	mk_file(&m, a, 1, "double", NULL, NULL, 100, 0, 100);
	CHECK_EQ_INT(might(a, s, "d != NaN", &m), 0);
	CHECK_EQ_INT(might(a, s, "d = 1.5", &m), 0);
	CHECK_EQ_INT(might(a, s, "d < 1.5", &m), 0);
	CHECK_EQ_INT(might(a, s, "d IN (1.5, 2)", &m), 0);
	CHECK_EQ_INT(might(a, s, "d > 1.5", &m), 1);
	CHECK_EQ_INT(might(a, s, "d = NaN", &m), 1);
	/* signed zeros: a bound of 0 covers -0.0 and 0.0 */
	mk_file(&m, a, 2, "float", "0", "0", 100, 0, 0);
	CHECK_EQ_INT(might(a, s, "f = -0.0", &m), 1);
	CHECK_EQ_INT(might(a, s, "f < 0", &m), 1);
	CHECK_EQ_INT(might(a, s, "f = 1", &m), 0);
	floe_arena_free(a);
}

/* ---- projection onto partitions ---------------------------------------- */

static ice_partition_field pfield(int32_t src, int32_t id, const char *name, const char *tr)
{
	ice_partition_field f;
	memset(&f, 0, sizeof f);
	f.source_id = src;
	f.field_id = id;
	f.name = name;
	if (ice_transform_parse(&f.transform, tr, NULL) != 0)
		th_fail(__FILE__, __LINE__, "transform %s", tr);
	return f;
}

/* The partition tuple of one source row (text values per spec field). */
static bool part_match(floe_arena *a, const ice_schema *s, const ice_partition_spec *spec,
                       const ice_expr *projected, const char *const *src_text)
{
	ice_datum tuple[4];
	floe_error err;
	for (int i = 0; i < spec->nfields; i++) {
		const ice_partition_field *pf = &spec->fields[i];
		const ice_field *f = NULL;
		for (int k = 0; k < s->nfields; k++)
			if (s->fields[k].id == pf->source_id)
				f = &s->fields[k];
		ice_datum in;
		memset(&in, 0, sizeof in);
		in.type = f->type->prim;
		if (!src_text[i]) {
			in.is_null = true;
		} else {
			floe_buf scratch = FLOE_BUF_INIT;
			if (floe_text_parse(&in.v, &in.type, src_text[i], strlen(src_text[i]),
			                    &scratch, &err) != 0)
				th_fail(__FILE__, __LINE__, "%s: %s", src_text[i], err.msg);
			if (in.v.bytes) {
				uint8_t *p = floe_arena_alloc(a, (size_t)in.v.len);
				memcpy(p, in.v.bytes, (size_t)in.v.len);
				in.v.bytes = p;
			}
			floe_buf_free(&scratch);
		}
		if (ice_transform_apply(&pf->transform, &in.type, &in, &tuple[i], &err) != 0)
			th_fail(__FILE__, __LINE__, "apply: %s", err.msg);
	}
	return ice_expr_eval_partition(projected, spec, tuple, spec->nfields);
}

static ice_expr *proj(floe_arena *a, const ice_schema *s, const ice_partition_spec *spec,
                      const char *text)
{
	ice_expr *e = bound(a, s, text), *p = NULL;
	floe_error err;
	if (!e)
		return NULL;
	if (ice_expr_project(&p, e, spec, s, a, &err) != 0) {
		th_fail(__FILE__, __LINE__, "%s: %s", text, err.msg);
		return NULL;
	}
	return p;
}

/* one-field spec helper */
#define PM(text, value) \
	part_match(a, s, &spec, proj(a, s, &spec, text), (const char *const[]){ value })

TEST(ice_expr_project_through_transforms)
{
	floe_arena *a = floe_arena_new(0);
	ice_schema *s = mk_schema(a, "l long, ts timestamp, i int, s string, d double", NULL);
	REQUIRE(s);
	ice_partition_field f;
	ice_partition_spec spec = { 0, 1, &f };

	f = pfield(1, 1000, "l_id", "identity");
	CHECK_EQ_STR(fmt(proj(a, s, &spec, "l = 5")), "l_id = 5");
	CHECK(PM("l = 5", "5"));
	CHECK(!PM("l = 5", "6"));
	CHECK(!PM("l != 5", "5"));
	CHECK(PM("l NOT IN (4, 6)", "5"));
	CHECK(!PM("l NOT IN (4, 5)", "5"));
	CHECK(PM("l IS NULL", NULL));
	CHECK(!PM("l IS NULL", "5"));
	CHECK(!PM("l IS NOT NULL", NULL));
	CHECK(PM("l = 5", NULL)); /* NULL comparisons are inclusive */
	CHECK(!PM("l < 5 OR l > 7", "6"));
	CHECK(PM("l < 5 OR l > 7", "8"));

	f = pfield(2, 1000, "ts_day", "day");
	CHECK(PM("ts < '2024-01-02T10:00:00'", "2024-01-02T09:00:00"));
	CHECK(PM("ts < '2024-01-02T10:00:00'", "2024-01-02T23:00:00")); /* same day */
	CHECK(!PM("ts < '2024-01-02T10:00:00'", "2024-01-03T00:00:00"));
	CHECK(PM("ts > '2024-01-02T10:00:00'", "2024-01-02T00:00:00"));
	CHECK(!PM("ts > '2024-01-02T10:00:00'", "2024-01-01T23:59:59"));
	CHECK(!PM("ts < '2024-01-02'", "2024-01-02T00:00:00"));
	CHECK(PM("ts <= '2024-01-02'", "2024-01-02T05:00:00"));
	CHECK(PM("ts = '2024-01-02T10:00:00'", "2024-01-02T00:00:00"));
	CHECK(!PM("ts = '2024-01-02T10:00:00'", "2024-01-03T00:00:00"));
	CHECK(PM("ts IN ('2024-01-02T10:00:00', '2024-01-05T10:00:00')", "2024-01-05T01:00:00"));
	CHECK(!PM("ts IN ('2024-01-02T10:00:00', '2024-01-05T10:00:00')", "2024-01-04T01:00:00"));
	CHECK(!PM("ts IS NOT NULL", NULL));
	CHECK(PM("ts != '2024-01-02T10:00:00'", "2024-01-02T00:00:00")); /* cannot prune */

	f = pfield(2, 1000, "ts_hour", "hour");
	CHECK(PM("ts >= '2024-01-02T10:30:00'", "2024-01-02T10:00:00"));
	CHECK(!PM("ts >= '2024-01-02T10:30:00'", "2024-01-02T09:59:59"));
	f = pfield(2, 1000, "ts_month", "month");
	CHECK(PM("ts = '2024-03-15T00:00:00'", "2024-03-01T00:00:00"));
	CHECK(!PM("ts = '2024-03-15T00:00:00'", "2024-02-29T00:00:00"));
	f = pfield(2, 1000, "ts_year", "year");
	CHECK(PM("ts < '2024-01-01T00:00:00'", "2023-12-31T00:00:00"));
	CHECK(!PM("ts < '2024-01-01T00:00:00'", "2024-01-01T00:00:00"));
	CHECK(PM("ts < '1969-06-01T00:00:00'", "1969-01-01T00:00:00"));

	/* bucket: EQ and IN only */
	f = pfield(1, 1000, "l_bucket", "bucket[16]");
	CHECK(PM("l = 7", "7"));
	int other = 0;
	for (int v = 0; v < 40; v++) {
		char t[16];
		snprintf(t, sizeof t, "%d", v);
		if (!PM("l = 7", t))
			other++;
	}
	CHECK(other > 20); /* other buckets pruned */
	CHECK(PM("l IN (7, 9)", "9"));
	CHECK_EQ_STR(fmt(proj(a, s, &spec, "l < 7")), "true");
	CHECK_EQ_STR(fmt(proj(a, s, &spec, "l != 7")), "true");
	CHECK_EQ_STR(fmt(proj(a, s, &spec, "l NOT IN (7)")), "true");
	CHECK(PM("l IS NULL", NULL));

	f = pfield(3, 1000, "i_trunc", "truncate[10]");
	CHECK(PM("i < 25", "20"));
	CHECK(PM("i < 25", "24"));
	CHECK(!PM("i < 25", "30"));
	CHECK(!PM("i = 25", "30"));
	CHECK(PM("i >= 25", "29"));
	CHECK(!PM("i >= 25", "19"));
	f = pfield(4, 1000, "s_trunc", "truncate[2]");
	CHECK(PM("s = 'abc'", "abz"));
	CHECK(!PM("s = 'abc'", "ac"));
	CHECK(PM("s < 'abc'", "abz")); /* the truncated partition 'ab' may hold 'abb' */
	CHECK(!PM("s < 'abc'", "b"));

	f = pfield(1, 1000, "l_void", "void");
	CHECK_EQ_STR(fmt(proj(a, s, &spec, "l = 5 AND l IS NOT NULL")), "true");
	CHECK(PM("l IS NOT NULL", NULL));

	/* an unpartitioned column projects to TRUE inside AND and OR */
	f = pfield(1, 1000, "l_id", "identity");
	CHECK_EQ_STR(fmt(proj(a, s, &spec, "l = 5 AND i = 3")), "l_id = 5");
	CHECK_EQ_STR(fmt(proj(a, s, &spec, "l = 5 OR i = 3")), "true");
	f = pfield(5, 1000, "d_id", "identity");
	CHECK(PM("d = NaN", "NaN"));
	CHECK(!PM("d = NaN", "1.5"));
	CHECK(!PM("d != NaN", "NaN"));
	floe_arena_free(a);
}

TEST(ice_expr_project_across_two_specs)
{
	floe_arena *a = floe_arena_new(0);
	ice_schema *s = mk_schema(a, "l long, ts timestamp", NULL);
	REQUIRE(s);
	ice_partition_field fa[1] = { pfield(1, 1000, "l", "identity") };
	ice_partition_field fb[2] = { pfield(2, 1001, "ts_day", "day"),
	                              pfield(1, 1002, "l_bucket", "bucket[4]") };
	ice_partition_spec spec_a = { 0, 1, fa }, spec_b = { 1, 2, fb };
	const char *where = "l = 7 AND ts < '2024-01-02T00:00:00'";
	ice_expr *pa = proj(a, s, &spec_a, where), *pb = proj(a, s, &spec_b, where);
	REQUIRE(pa && pb);
	int32_t ids[4];
	CHECK_EQ_INT(ice_expr_field_ids(pa, ids, 4), 1);
	CHECK_EQ_INT(ids[0], 1000);
	CHECK_EQ_INT(ice_expr_field_ids(pb, ids, 4), 2);
	CHECK(part_match(a, s, &spec_a, pa, (const char *const[]){ "7" }));
	CHECK(!part_match(a, s, &spec_a, pa, (const char *const[]){ "8" }));
	CHECK(part_match(a, s, &spec_b, pb, (const char *const[]){ "2024-01-01T12:00:00", "7" }));
	CHECK(!part_match(a, s, &spec_b, pb, (const char *const[]){ "2024-01-02T12:00:00", "7" }));
	/* a tuple shorter than the spec proves nothing */
	ice_datum one;
	memset(&one, 0, sizeof one);
	one.type.id = FLOE_TYPE_DATE;
	one.v.i = 0;
	CHECK(ice_expr_eval_partition(pb, &spec_b, &one, 1));
	floe_arena_free(a);
}

/* ---- manifest partition summaries ------------------------------------- */

TEST(ice_expr_manifest_summaries_prune)
{
	floe_arena *a = floe_arena_new(0);
	ice_schema *s = mk_schema(a, "l long, d double, ts timestamp", NULL);
	REQUIRE(s);
	ice_partition_field pf[3] = { pfield(1, 1000, "l", "identity"),
	                              pfield(2, 1001, "d", "identity"),
	                              pfield(3, 1002, "ts_day", "day") };
	ice_partition_spec spec = { 0, 3, pf };
	floe_type types[3];
	memset(types, 0, sizeof types);
	types[0].id = FLOE_TYPE_LONG;
	types[1].id = FLOE_TYPE_DOUBLE;
	types[2].id = FLOE_TYPE_DATE;
	ice_field_summary sum[3];
	memset(sum, 0, sizeof sum);
	ice_manifest_file mf;
	memset(&mf, 0, sizeof mf);
	mf.npartitions = 3;
	mf.partitions = sum;
	sum[0].lower = ser(a, "long", "10", &sum[0].lower_len);
	sum[0].upper = ser(a, "long", "20", &sum[0].upper_len);
	sum[1].lower = ser(a, "double", "1", &sum[1].lower_len);
	sum[1].upper = ser(a, "double", "2", &sum[1].upper_len);
	sum[1].contains_nan = 1;
	sum[2].lower = ser(a, "date", "2024-01-10", &sum[2].lower_len);
	sum[2].upper = ser(a, "date", "2024-01-20", &sum[2].upper_len);
#define MM(text) ice_expr_might_match_manifest(proj(a, s, &spec, text), &spec, types, &mf)
	CHECK(!MM("l = 5"));
	CHECK(MM("l = 15"));
	CHECK(MM("l = 20"));
	CHECK(!MM("l < 10"));
	CHECK(MM("l <= 10"));
	CHECK(!MM("l > 20"));
	CHECK(MM("l >= 20"));
	CHECK(!MM("l IN (1, 21)"));
	CHECK(MM("l IN (1, 11)"));
	CHECK(MM("l != 15"));
	CHECK(!MM("l IS NULL"));
	CHECK(MM("l IS NOT NULL"));
	CHECK(!MM("l = 5 OR l > 30"));
	CHECK(MM("l = 5 OR d = NaN"));
	/* NaN present: > cannot be pruned by the upper bound */
	CHECK(MM("d > 5"));
	CHECK(!MM("d < 0.5"));
	sum[1].contains_nan = 0;
	CHECK(!MM("d > 5"));
	CHECK(!MM("d = NaN"));
	sum[1].contains_nan = -1;
	CHECK(MM("d = NaN"));
	CHECK(MM("d > 5"));
	/* only NaN */
	sum[1].lower = sum[1].upper = NULL;
	sum[1].contains_nan = 1;
	CHECK(!MM("d != NaN"));
	CHECK(!MM("d = 1.5"));
	CHECK(MM("d = NaN"));
	/* day partitions */
	CHECK(!MM("ts < '2024-01-10T00:00:00'"));
	CHECK(MM("ts < '2024-01-10T00:00:01'"));
	CHECK(!MM("ts > '2024-01-21T00:00:00'"));
	/* all NULL */
	sum[0].lower = sum[0].upper = NULL;
	sum[0].contains_null = true;
	CHECK(!MM("l = 15"));
	CHECK(!MM("l != 15"));
	CHECK(MM("l IS NULL"));
	CHECK(!MM("l IS NOT NULL"));
	/* no summaries at all */
	mf.partitions = NULL;
	mf.npartitions = 0;
	CHECK(MM("l = 15"));
	CHECK(!MM("FALSE"));
#undef MM
	floe_arena_free(a);
}

/* ---- Parquet predicates ------------------------------------------------ */

TEST(ice_expr_to_parquet_lowers_the_and_chain)
{
	floe_arena *a = floe_arena_new(0);
	ice_schema *s = mk_schema(a, "a long, b long, c long, d string, e int, f long, g double", NULL);
	REQUIRE(s);
	ice_expr *e = bound(a, s, "a = 1 AND (b < 2 OR c = 3) AND d IS NULL AND e IN (1, 2) "
	                          "AND f != 4 AND g > 1.5 AND g < 9.5 AND NOT (b > 7) AND g <= 0");
	REQUIRE(e);
	floe_parquet_predicate *p = NULL;
	int n = -1;
	floe_error err;
	REQUIRE_OK(ice_expr_to_parquet(e, &p, &n, a, &err), &err);
	REQUIRE(n == 5);
	CHECK_EQ_INT(p[0].field_id, 1);
	CHECK_EQ_INT(p[0].op, FLOE_PARQUET_EQ);
	CHECK_EQ_INT(p[0].nvalues, 1);
	CHECK_EQ_INT(p[0].values[0].i, 1);
	CHECK(p[0].column == NULL);
	CHECK_EQ_INT(p[1].field_id, 4);
	CHECK_EQ_INT(p[1].op, FLOE_PARQUET_IS_NULL);
	CHECK_EQ_INT(p[2].field_id, 5);
	CHECK_EQ_INT(p[2].op, FLOE_PARQUET_IN);
	CHECK_EQ_INT(p[2].nvalues, 2);
	CHECK_EQ_INT(p[2].values[1].i, 2);
	CHECK_EQ_INT(p[3].field_id, 7);
	CHECK_EQ_INT(p[3].op, FLOE_PARQUET_LT);
	CHECK(p[3].values[0].d == 9.5);
	CHECK_EQ_INT(p[4].field_id, 2);
	CHECK_EQ_INT(p[4].op, FLOE_PARQUET_LE);
	CHECK_EQ_INT(p[4].values[0].i, 7);
	e = bound(a, s, "a = 1 OR b = 2");
	REQUIRE_OK(ice_expr_to_parquet(e, &p, &n, a, &err), &err);
	CHECK_EQ_INT(n, 0);
	floe_arena_free(a);
}

TEST(ice_expr_format_round_trips)
{
	floe_arena *a = floe_arena_new(0);
	ice_schema *s = mk_schema(a, "\"my col\" long, s string, dt date, ts timestamptz, "
	                             "f double, bo boolean", NULL);
	REQUIRE(s);
	static const char *const texts[] = {
		"\"my col\" = 5 AND s = 'it''s'",
		"dt IN ('2024-01-02', '1969-12-31') OR ts >= '2024-01-02T03:04:05.5+02:00'",
		"NOT (f = NaN) AND f < 1.5 AND bo = false",
		"s IS NULL OR \"my col\" NOT IN (1, 2)",
	};
	for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
		ice_expr *e = bound(a, s, texts[k]);
		REQUIRE(e);
		char once[2048];
		snprintf(once, sizeof once, "%s", fmt(e));
		ice_expr *e2 = bound(a, s, once);
		REQUIRE(e2);
		CHECK_EQ_STR(fmt(e2), once);
	}
	CHECK_EQ_STR(fmt(bound(a, s, "dt = '2024-01-02'")), "dt = '2024-01-02'");
	CHECK_EQ_STR(fmt(bound(a, s, "s = 'it''s'")), "s = 'it''s'");
	floe_arena_free(a);
}
