/* fuzz/targets_expr.h - body of the expression fuzz target, shared by
 * fuzz/fuzz_expr.c and tests/engine/test_fuzz_regressions_expr.c: the bytes
 * as an expression, parsed, split into aggregates, bound to a fixed schema
 * (with and without series functions) and evaluated on a small batch with
 * NULLs, strings and times, bound again to other column types and
 * evaluated on no rows; and the bytes as a pipeline file. Errors are fine;
 * a crash, a sanitizer report or an error without a message is not. */
#ifndef FLOE_FUZZ_TARGETS_EXPR_H
#define FLOE_FUZZ_TARGETS_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "floe/expr.h"
#include "pipeline/spec.h"

typedef struct fte_result {
	const char *bug;
	floe_error err;
} fte_result;

static inline void fte_expr(const uint8_t *data, size_t size, fte_result *res)
{
	memset(res, 0, sizeof *res);
	if (size > 4096)
		return;
	char *text = malloc(size + 1);
	floe_arena *a = floe_arena_new(0);
	if (!text || !a) {
		free(text);
		floe_arena_free(a);
		return;
	}
	memcpy(text, data, size);
	text[size] = 0;
	floe_error err;
	floe_schema *s = NULL;
	if (floe_schema_parse(&s, "sym string, price double, vol long, n int, "
	                      "ts timestamptz, ok boolean, d date", a, &err) != 0)
		goto out;
	enum { N = 5 };
	static int64_t g[N] = { 0, 0, 0, 1, 1 };
	static int64_t tm[N] = { -60000000, 0, 60000000, 0, 120000000 };
	static double price[N] = { 1.5, -2, 0, 1e300, 3 };
	static int64_t vol[N] = { 5, 0, -1, INT64_MAX, INT64_MIN };
	static int32_t ni[N] = { 1, 0, -7, INT32_MAX, INT32_MIN };
	static uint8_t okv[N] = { 1, 0, 1, 0, 1 };
	static int32_t dd[N] = { 0, -1, 20000, 1, -719528 };
	static int64_t off[N + 1] = { 0, 4, 4, 9, 12, 12 };
	static uint8_t sd[] = "aapl h\xc3\xa9llo%_x";
	static uint8_t valid = 0x1b; /* row 2 NULL */
	floe_column cols[7];
	memset(cols, 0, sizeof cols);
	cols[0].type.id = FLOE_TYPE_STRING;
	cols[0].offsets = off;
	cols[0].data = sd;
	cols[0].validity = &valid;
	cols[1].type.id = FLOE_TYPE_DOUBLE;
	cols[1].values = price;
	cols[2].type.id = FLOE_TYPE_LONG;
	cols[2].values = vol;
	cols[2].validity = &valid;
	cols[3].type.id = FLOE_TYPE_INT;
	cols[3].values = ni;
	cols[4].type.id = FLOE_TYPE_TIMESTAMPTZ;
	cols[4].values = tm;
	cols[5].type.id = FLOE_TYPE_BOOLEAN;
	cols[5].values = okv;
	cols[6].type.id = FLOE_TYPE_DATE;
	cols[6].values = dd;
	floe_batch b = { N, 7, cols, s };
	floe_expr_series ser = { g, tm };
	floe_expr *e = NULL;
	if (floe_expr_parse(&e, text, a, &err) != 0) {
		if (!err.msg[0])
			res->bug = "a parse error without a message";
		goto out;
	}
	if (floe_expr_has_aggregate(e)) {
		floe_expr_agg *aggs = NULL;
		int n = 0;
		if (floe_expr_split_aggregates(e, &aggs, &n, a, &err) != 0)
			goto out;
		for (int i = 0; i < n; i++) {
			floe_column c;
			if (aggs[i].arg && floe_expr_bind(aggs[i].arg, s, FLOE_EXPR_SERIES, &err) == 0)
				(void)floe_expr_eval(aggs[i].arg, &b, &ser, &c, a, &err);
		}
		goto out;
	}
	for (int pass = 0; pass < 2; pass++) {
		floe_column c;
		unsigned flags = pass ? FLOE_EXPR_SERIES : 0;
		if (floe_expr_bind(e, s, flags, &err) != 0) {
			if (!err.msg[0])
				res->bug = "a bind error without a message";
			continue;
		}
		if (floe_expr_eval(e, &b, pass ? &ser : NULL, &c, a, &err) == 0) {
			floe_type t = floe_expr_type(e);
			if (c.type.id != t.id)
				res->bug = "the result's type is not the bound type";
		} else if (!err.msg[0]) {
			res->bug = "an evaluation error without a message";
		}
	}
	/* bound again to other column types (what the first binding made of
	 * the tree is undone), evaluated on no rows, then back on the batch */
	floe_schema *s2 = NULL;
	if (floe_schema_parse(&s2, "sym long, price string, vol double, n date, "
	                      "ts timestamp, ok int, d timestamptz", a, &err) == 0 &&
	    floe_expr_bind(e, s2, FLOE_EXPR_SERIES, &err) == 0) {
		floe_column c;
		floe_batch none = { 0, 0, NULL, s2 };
		(void)floe_expr_columns(e, (const char *[8]){ 0 }, 8);
		if (floe_expr_eval(e, &none, &ser, &c, a, &err) != 0 && !err.msg[0])
			res->bug = "an evaluation error without a message";
	}
	if (floe_expr_bind(e, s, FLOE_EXPR_SERIES, &err) == 0) {
		floe_column c;
		uint8_t keep[N];
		if (floe_expr_eval(e, &b, &ser, &c, a, &err) == 0 && c.type.id != floe_expr_type(e).id)
			res->bug = "the result's type is not the bound type after binding again";
		if (floe_expr_type(e).id == FLOE_TYPE_BOOLEAN &&
		    floe_expr_eval_filter(e, &b, NULL, keep, a, &err) != 0 && !err.msg[0])
			res->bug = "a filter error without a message";
	}
	/* the bytes as a pipeline file */
	pl_spec *spec = NULL;
	if (pl_spec_parse(&spec, text, size, "fuzz.yaml", ".", a, &err) != 0 && !err.msg[0])
		res->bug = "a pipeline file error without a message";
out:
	if (res->bug)
		res->err = err;
	floe_arena_free(a);
	free(text);
}

#endif
