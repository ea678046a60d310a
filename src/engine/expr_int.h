/* engine/expr_int.h - the expression tree shared by the parser
 * (expr_parse.c) and the binder and evaluator (expr_eval.c). Internal. */
#ifndef FLOE_ENGINE_EXPR_INT_H
#define FLOE_ENGINE_EXPR_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/expr.h"
#include "util/buf.h"
#include "util/text.h"

typedef enum ex_kind {
	EX_LIT = 1,  /* type, li / ld / ls, lnull; interval */
	EX_COL,      /* name -> idx */
	EX_NEG,      /* args[0] */
	EX_NOT,      /* args[0] */
	EX_BIN,      /* op, args[0..1] */
	EX_ISNULL,   /* args[0], neg = IS NOT NULL */
	EX_CASE,     /* args: cond, value, cond, value, ... [, else] */
	EX_CAST,     /* args[0], cast_to, try_ */
	EX_FUNC      /* name, args; fn after binding */
} ex_kind;

enum {
	EB_ADD = 1, EB_SUB, EB_MUL, EB_DIV, EB_MOD, EB_EQ, EB_NE, EB_LT, EB_LE, EB_GT, EB_GE,
	EB_AND, EB_OR, EB_CONCAT, EB_LIKE
};

struct floe_expr {
	ex_kind k;
	int pos, end;              /* source span (end: calls only) */
	int height;                /* of the subtree (the parser caps it) */
	const char *src;           /* the whole source text */
	const char *root_text;     /* set on the root */
	/* literals */
	bool lnull, interval;
	int64_t li;
	double ld;
	const char *ls;
	size_t lslen;
	/* columns and calls */
	const char *name;
	int idx;
	bool star;                 /* count(*) */
	int fn;                    /* bound function id */
	/* operators */
	int op;
	bool neg, try_, has_else;
	floe_type cast_to;
	floe_expr **args;
	int nargs;
	floe_expr *agg_call;       /* for an aggregate's argument: the call */
	/* bound */
	floe_type type;
	bool series;               /* a series function */
	int64_t interval_us;       /* series functions: the INTERVAL argument */
	int64_t lag_rows;
	const floe_schema *schema;
};

floe_expr *ex_node(floe_arena *a, ex_kind k, int pos);
/* The aggregate function a call names, or 0. */
int ex_agg_fn(const floe_expr *e);

#endif
