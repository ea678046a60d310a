/* engine/expr_bind.c - binding an expression to a schema: column names to
 * field indexes, result types inferred bottom-up and checked (a mismatch is
 * an error naming both types and where it is), string literals next to
 * times read as times, CASTs checked, and constant subtrees folded into
 * literals. Function calls are checked in expr_func.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/expr_int.h"

int ex_oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

const char *ex_tname(floe_type t, char *buf)
{
	if (t.id == 0)
		return "null";
	return floe_type_format(&t, buf, 32);
}

int ex_bind_err(floe_error *err, const floe_expr *e, const char *fmt, const char *a,
                const char *b)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, a, b);
	return floe_error_set(err, FLOE_EINVALID, "at character %d: %s", e->pos + 1, msg);
}

/* A new literal standing in for *slot (which it remembers: binding again
 * puts the original back). */
static floe_expr *replace(floe_expr **slot)
{
	floe_expr *o = *slot, *e = ex_node(o->arena, EX_LIT, o->pos);
	if (!e)
		return NULL;
	e->src = o->src;
	e->orig = o;
	*slot = e;
	return e;
}

int ex_lit_to_time(floe_expr **slot, floe_type want, floe_error *err)
{
	floe_expr *lit = *slot;
	if (lit->k != EX_LIT || lit->lnull || !ex_is_str(lit->type.id) || !ex_is_time(want.id))
		return 0;
	floe_error e2;
	floe_type t = ex_ty(want.id);
	int64_t v;
	if (ex_parse_time(want.id, lit->ls, lit->lslen, &v, &e2))
		return floe_error_set(err, FLOE_EINVALID, "at character %d: '%.80s' is not a %s: %s",
		                      lit->pos + 1, lit->ls, want.id == FLOE_TYPE_DATE ? "date" :
		                      "timestamp", e2.msg);
	floe_expr *e = replace(slot);
	if (!e)
		return ex_oom(err);
	e->type = t;
	e->li = v;
	return 0;
}

int ex_unify(floe_expr **v, int n, floe_type *out, floe_error *err)
{
	floe_type t = ex_ty(0);
	for (int i = 0; i < n; i++) {
		floe_type x = v[i]->type;
		if (x.id == 0)
			continue;
		if (t.id == 0) {
			t = x;
			continue;
		}
		if (t.id == x.id && t.id != FLOE_TYPE_DECIMAL)
			continue;
		if (ex_is_num(t.id) && ex_is_num(x.id)) {
			t = ex_is_int(t.id) && ex_is_int(x.id) ? ex_ty(FLOE_TYPE_LONG) :
			    ex_ty(FLOE_TYPE_DOUBLE);
			continue;
		}
		if (ex_is_time(t.id) && ex_is_time(x.id)) {
			/* a date meets a timestamp: the timestamp kind; tz wins */
			if (t.id == FLOE_TYPE_DATE || x.id == FLOE_TYPE_TIMESTAMPTZ)
				t = ex_ty(x.id == FLOE_TYPE_DATE ? t.id : x.id);
			continue;
		}
		if (ex_is_str(t.id) && ex_is_str(x.id)) {
			t = ex_ty(FLOE_TYPE_STRING);
			continue;
		}
		char a[32], b[32];
		return ex_bind_err(err, v[i], "values of types %s and %s do not mix (CAST one)",
		                   ex_tname(t, a), ex_tname(x, b));
	}
	if (t.id == FLOE_TYPE_INT)
		t = ex_ty(FLOE_TYPE_LONG);
	if (t.id == FLOE_TYPE_FLOAT || t.id == FLOE_TYPE_DECIMAL)
		t = ex_ty(FLOE_TYPE_DOUBLE);
	*out = t;
	return 0;
}

/* Unify the expressions in the slots, reading string literals as times
 * when a time is among them. */
static int unify_slots(floe_expr ***slots, int n, floe_type *out, floe_error *err)
{
	floe_type time = ex_ty(0);
	bool str_lit = false;
	for (int i = 0; i < n; i++) {
		const floe_expr *x = *slots[i];
		if (ex_is_time(x->type.id) && (time.id == 0 || ex_is_ts(x->type.id)))
			time = x->type;
		str_lit |= x->k == EX_LIT && ex_is_str(x->type.id) && !x->lnull;
	}
	if (time.id && str_lit)
		for (int i = 0; i < n; i++) {
			int rc = ex_lit_to_time(slots[i], time, err);
			if (rc)
				return rc;
		}
	floe_expr *tmp[300];
	if (n > 300)
		n = 300;
	for (int i = 0; i < n; i++)
		tmp[i] = *slots[i];
	return ex_unify(tmp, n, out, err);
}

static int find_column(const floe_schema *s, const char *name)
{
	int i = floe_schema_find(s, name);
	if (i >= 0)
		return i;
	int hit = -1;
	for (int k = 0; k < s->nfields; k++)
		if (strcasecmp(s->fields[k].name, name) == 0) {
			if (hit >= 0)
				return -2;
			hit = k;
		}
	return hit;
}

int ex_const_interval(const floe_expr *e, int64_t *us, floe_error *err)
{
	if (e->k == EX_LIT && e->interval) {
		*us = e->li;
		return 0;
	}
	if (e->k == EX_LIT && ex_is_str(e->type.id) && !e->lnull &&
	    floe_expr_parse_interval(us, e->ls, NULL) == 0)
		return 0;
	return floe_error_set(err, FLOE_EINVALID, "at character %d: expected an interval "
	                      "constant such as INTERVAL '5 minutes'", e->pos + 1);
}

/* Which casts exist: to string from anything; from strings (parsed) to
 * anything; among numbers and booleans; among times. */
static int check_cast(const floe_expr *e, floe_type from, floe_type to, floe_error *err)
{
	char b1[32], b2[32];
	switch (to.id) {
	case FLOE_TYPE_BOOLEAN:
	case FLOE_TYPE_INT:
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
	case FLOE_TYPE_DECIMAL:
	case FLOE_TYPE_DATE:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_STRING:
		break;
	default:
		return ex_bind_err(err, e, "cannot CAST to %s (boolean, int, long, float, double, "
		                   "decimal(P,S), date, timestamp, timestamptz or string)%s",
		                   ex_tname(to, b1), "");
	}
	if (to.id == FLOE_TYPE_DECIMAL && (to.precision < 1 || to.precision > 18 ||
	                                   to.scale < 0 || to.scale > to.precision))
		return ex_bind_err(err, e, "CAST to decimal(P,S) needs 1 <= P <= 18 and 0 <= S <= P"
		                   "%s%s", "", "");
	if (from.id == 0 || ex_is_str(from.id) || to.id == FLOE_TYPE_STRING || from.id == to.id)
		return 0;
	bool fnum = ex_is_num(from.id) || from.id == FLOE_TYPE_BOOLEAN;
	bool tnum = ex_is_num(to.id) || to.id == FLOE_TYPE_BOOLEAN;
	if (fnum && tnum)
		return 0;
	if (ex_is_time(from.id) && ex_is_time(to.id))
		return 0;
	const char *hint = ex_is_time(from.id) && tnum ? " (epoch_us(x) gives microseconds)" :
	                   fnum && ex_is_time(to.id) ? " (to_timestamp(seconds) reads epoch "
	                   "seconds)" : "";
	char msg[160];
	snprintf(msg, sizeof msg, "cannot CAST a %%s to %%s%s", hint);
	return ex_bind_err(err, e, msg, ex_tname(from, b1), ex_tname(to, b2));
}

static int bind_bin(floe_expr *e, const floe_schema *s, unsigned flags, floe_error *err)
{
	char b1[32], b2[32];
	int rc;
	if ((rc = ex_bind(e->args[0], s, flags, err)) || (rc = ex_bind(e->args[1], s, flags, err)))
		return rc;
	floe_expr *l = e->args[0], *r = e->args[1];
	floe_type lt = l->type, rt = r->type;
	int op = e->op;
	if (op == EB_AND || op == EB_OR) {
		if ((lt.id != FLOE_TYPE_BOOLEAN && lt.id) || (rt.id != FLOE_TYPE_BOOLEAN && rt.id))
			return ex_bind_err(err, e, "AND/OR join conditions, not %s and %s",
			                   ex_tname(lt, b1), ex_tname(rt, b2));
		e->type = ex_ty(FLOE_TYPE_BOOLEAN);
		return 0;
	}
	if (op == EB_CONCAT) {
		e->type = ex_ty(FLOE_TYPE_STRING);
		return 0;
	}
	if (op == EB_LIKE) {
		if ((!ex_is_str(lt.id) && lt.id) || (!ex_is_str(rt.id) && rt.id))
			return ex_bind_err(err, e, "LIKE matches strings, not %s and %s",
			                   ex_tname(lt, b1), ex_tname(rt, b2));
		e->type = ex_ty(FLOE_TYPE_BOOLEAN);
		return 0;
	}
	if (op >= EB_EQ && op <= EB_GE) {
		/* a string literal against a time is that time */
		if (ex_is_time(lt.id) && ex_is_str(rt.id))
			rc = ex_lit_to_time(&e->args[1], lt, err);
		else if (ex_is_time(rt.id) && ex_is_str(lt.id))
			rc = ex_lit_to_time(&e->args[0], rt, err);
		if (rc)
			return rc;
		lt = e->args[0]->type;
		rt = e->args[1]->type;
		bool ok = !lt.id || !rt.id || (ex_is_num(lt.id) && ex_is_num(rt.id)) ||
		          (ex_is_str(lt.id) && ex_is_str(rt.id)) ||
		          (ex_is_time(lt.id) && ex_is_time(rt.id)) ||
		          (lt.id == rt.id && (lt.id == FLOE_TYPE_BOOLEAN || lt.id == FLOE_TYPE_BINARY ||
		                              lt.id == FLOE_TYPE_UUID || lt.id == FLOE_TYPE_TIME ||
		                              (lt.id == FLOE_TYPE_FIXED && lt.width == rt.width)));
		if (!ok)
			return ex_bind_err(err, e, "cannot compare a %s with a %s (CAST one)",
			                   ex_tname(lt, b1), ex_tname(rt, b2));
		e->type = ex_ty(FLOE_TYPE_BOOLEAN);
		return 0;
	}
	/* arithmetic */
	bool li = l->k == EX_LIT && l->interval, ri = r->k == EX_LIT && r->interval;
	if (ex_is_ts(lt.id) && ri && (op == EB_ADD || op == EB_SUB)) {
		e->type = lt;
		return 0;
	}
	if (ex_is_ts(rt.id) && li && op == EB_ADD) {
		e->type = rt;
		return 0;
	}
	if (lt.id == FLOE_TYPE_DATE && ri && (op == EB_ADD || op == EB_SUB)) {
		e->type = ex_ty(FLOE_TYPE_TIMESTAMP); /* as DuckDB */
		return 0;
	}
	if (ex_is_ts(lt.id) && ex_is_ts(rt.id) && op == EB_SUB) {
		e->type = ex_ty(FLOE_TYPE_LONG); /* microseconds */
		return 0;
	}
	if (lt.id == FLOE_TYPE_DATE && rt.id == FLOE_TYPE_DATE && op == EB_SUB) {
		e->type = ex_ty(FLOE_TYPE_LONG); /* days */
		return 0;
	}
	if (lt.id == FLOE_TYPE_DATE && (ex_is_int(rt.id) || !rt.id) && !ri &&
	    (op == EB_ADD || op == EB_SUB)) {
		e->type = lt;
		return 0;
	}
	if ((ex_is_num(lt.id) || !lt.id) && (ex_is_num(rt.id) || !rt.id) && !li && !ri) {
		if (op == EB_DIV)
			e->type = ex_ty(FLOE_TYPE_DOUBLE);
		else
			e->type = (ex_is_int(lt.id) || !lt.id) && (ex_is_int(rt.id) || !rt.id) ?
			          ex_ty(FLOE_TYPE_LONG) : ex_ty(FLOE_TYPE_DOUBLE);
		return 0;
	}
	static const char *const ops[] = { "", "+", "-", "*", "/", "%" };
	char msg[128];
	snprintf(msg, sizeof msg, "cannot compute %s%s %s %%s", li ? "INTERVAL " : "",
	         li ? "" : ex_tname(lt, b1), ops[op]);
	return ex_bind_err(err, e, msg, ri ? "INTERVAL" : ex_tname(rt, b2), "");
}

int ex_bind(floe_expr *e, const floe_schema *s, unsigned flags, floe_error *err)
{
	char b1[32];
	int rc;
	e->schema = s;
	/* binding again: the nodes an earlier binding put in place go */
	for (int i = 0; i < e->nargs; i++)
		while (e->args[i]->orig)
			e->args[i] = e->args[i]->orig;
	switch (e->k) {
	case EX_LIT:
		return 0;
	case EX_COL: {
		int i = find_column(s, e->name);
		if (i < 0) {
			char names[600];
			size_t at = 0;
			names[0] = 0;
			for (int k = 0; k < s->nfields && at < sizeof names - 40; k++)
				at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", k ? ", " : "",
				                       s->fields[k].name);
			if (s->nfields == 0)
				snprintf(names, sizeof names, "none");
			return floe_error_set(err, FLOE_ENOTFOUND, "at character %d: %s column '%s' "
			                      "(there are: %s%s)", e->pos + 1, i == -2 ? "ambiguous" : "no",
			                      e->name, names, i == -2 ? "; quote the exact name" : "");
		}
		e->idx = i;
		e->type = s->fields[i].type;
		return 0;
	}
	case EX_NEG:
		if ((rc = ex_bind(e->args[0], s, flags, err)))
			return rc;
		if (!ex_is_num(e->args[0]->type.id) && e->args[0]->type.id != 0)
			return ex_bind_err(err, e, "cannot negate a %s%s", ex_tname(e->args[0]->type, b1),
			                   "");
		e->type = ex_num_norm(e->args[0]->type);
		return 0;
	case EX_NOT:
		if ((rc = ex_bind(e->args[0], s, flags, err)))
			return rc;
		if (e->args[0]->type.id != FLOE_TYPE_BOOLEAN && e->args[0]->type.id != 0)
			return ex_bind_err(err, e, "NOT needs a condition, not a %s%s",
			                   ex_tname(e->args[0]->type, b1), "");
		e->type = ex_ty(FLOE_TYPE_BOOLEAN);
		return 0;
	case EX_ISNULL:
		if ((rc = ex_bind(e->args[0], s, flags, err)))
			return rc;
		e->type = ex_ty(FLOE_TYPE_BOOLEAN);
		return 0;
	case EX_CAST:
		if ((rc = ex_bind(e->args[0], s, flags, err)))
			return rc;
		if ((rc = check_cast(e, e->args[0]->type, e->cast_to, err)))
			return rc;
		e->type = e->cast_to;
		return 0;
	case EX_CASE: {
		int nv = 0;
		floe_expr **vals[300];
		for (int i = 0; i < e->nargs; i++) {
			if ((rc = ex_bind(e->args[i], s, flags, err)))
				return rc;
			bool is_cond = i % 2 == 0 && !(e->has_else && i == e->nargs - 1);
			if (is_cond) {
				if (e->args[i]->type.id != FLOE_TYPE_BOOLEAN && e->args[i]->type.id != 0)
					return ex_bind_err(err, e->args[i], "WHEN needs a condition, not a %s%s",
					                   ex_tname(e->args[i]->type, b1), "");
			} else if (nv < 300) {
				vals[nv++] = &e->args[i];
			}
		}
		return unify_slots(vals, nv, &e->type, err);
	}
	case EX_FUNC:
		if ((rc = ex_bind_func(e, s, flags, err)))
			return rc;
		if (e->fn == F_COALESCE || e->fn == F_GREATEST || e->fn == F_LEAST || e->fn == F_IF) {
			floe_expr **vals[64];
			int first = e->fn == F_IF ? 1 : 0, nv = 0;
			for (int i = first; i < e->nargs && nv < 64; i++)
				vals[nv++] = &e->args[i];
			return unify_slots(vals, nv, &e->type, err);
		}
		return 0;
	case EX_BIN:
		return bind_bin(e, s, flags, err);
	}
	return floe_error_set(err, FLOE_EINVALID, "at character %d: unknown expression node",
	                      e->pos + 1);
}

/* ---- constant folding ------------------------------------------------------------ */

static bool is_const(const floe_expr *e)
{
	if (e->k == EX_COL || e->series)
		return false;
	for (int i = 0; i < e->nargs; i++)
		if (!is_const(e->args[i]))
			return false;
	return true;
}

/* Fold a constant subtree into a literal when it evaluates without error
 * (an error is left to evaluation, which names the row, and may never come
 * when a CASE does not take that branch). */
static int fold_slot(floe_expr **slot, floe_error *err)
{
	floe_expr *x = *slot;
	floe_type t = x->type;
	switch (t.id) {
	case FLOE_TYPE_BOOLEAN:
	case FLOE_TYPE_INT:
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
	case FLOE_TYPE_DATE:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_STRING:
		break;
	case FLOE_TYPE_DECIMAL:
		if (t.precision <= 18)
			break;
		return 0;
	default:
		return 0;
	}
	if (!x->arena)
		return 0;
	floe_arena *tmp = floe_arena_new(0);
	if (!tmp)
		return ex_oom(err);
	floe_batch one = { 1, 0, NULL, NULL };
	floe_error e2;
	floe_column col;
	int rc = 0;
	ex_ctx c = { &one, NULL, tmp, &e2, 1, NULL };
	if (ex_eval(x, &c, &col) != 0 || col.type.id != t.id)
		goto done; /* left for evaluation */
	floe_expr *lit = replace(slot);
	if (!lit) {
		rc = ex_oom(err);
		goto done;
	}
	lit->type = t;
	lit->lnull = !ex_valid(&col, 0);
	if (!lit->lnull) {
		switch (t.id) {
		case FLOE_TYPE_BOOLEAN: lit->li = ((const uint8_t *)col.values)[0] != 0; break;
		case FLOE_TYPE_INT:
		case FLOE_TYPE_DATE: lit->li = ((const int32_t *)col.values)[0]; break;
		case FLOE_TYPE_FLOAT: lit->ld = ((const float *)col.values)[0]; break;
		case FLOE_TYPE_DOUBLE: lit->ld = ((const double *)col.values)[0]; break;
		case FLOE_TYPE_STRING: {
			size_t n;
			const uint8_t *p = ex_str(&col, 0, &n);
			char *s = floe_arena_strndup(x->arena, (const char *)p, n);
			if (!s) {
				rc = ex_oom(err);
				goto done;
			}
			lit->ls = s;
			lit->lslen = n;
			break;
		}
		default: lit->li = ((const int64_t *)col.values)[0]; break;
		}
	}
done:
	floe_arena_free(tmp);
	return rc;
}

static int fold(floe_expr *e, floe_error *err)
{
	for (int i = 0; i < e->nargs; i++) {
		floe_expr *x = e->args[i];
		int rc;
		/* interval, unit and count arguments stay as written */
		if (x->k == EX_LIT || (e->k == EX_FUNC && (e->series || e->fn == F_WSTART ||
		                                           e->fn == F_WEND || e->fn == F_DATE_TRUNC ||
		                                           e->fn == F_DATE_PART)))
			rc = x->k == EX_LIT ? 0 : fold(x, err);
		else if (is_const(x))
			rc = fold_slot(&e->args[i], err);
		else
			rc = fold(x, err);
		if (rc)
			return rc;
	}
	return 0;
}

int floe_expr_bind(floe_expr *e, const floe_schema *input, unsigned flags, floe_error *err)
{
	if (!e || !input)
		return floe_error_set(err, FLOE_EINVALID, "no expression or schema to bind");
	int rc = ex_bind(e, input, flags, err);
	return rc ? rc : fold(e, err);
}

floe_type floe_expr_type(const floe_expr *e)
{
	if (e->type.id == 0)
		return ex_ty(FLOE_TYPE_STRING); /* a bare NULL */
	return e->type;
}

static void collect(const floe_expr *e, bool *seen, int n)
{
	if (e->k == EX_COL && e->idx >= 0 && e->idx < n)
		seen[e->idx] = true;
	for (int i = 0; i < e->nargs; i++)
		if (e->args[i])
			collect(e->args[i], seen, n);
}

int floe_expr_columns(const floe_expr *e, const char **names, int cap)
{
	const floe_schema *s = e->schema;
	if (!s || s->nfields <= 0)
		return 0;
	bool *seen = calloc((size_t)s->nfields, 1);
	if (!seen)
		return 0;
	collect(e, seen, s->nfields);
	int k = 0;
	for (int i = 0; i < s->nfields && k < cap; i++)
		if (seen[i])
			names[k++] = s->fields[i].name;
	free(seen);
	return k;
}
