/* sql/agg.c - the "floe_agg" module: an aggregation rewrite.c took from a
 * statement, as a table of its groups. Each plan is a virtual table
 * temp.floe_agg_<id> with one column per GROUP BY column (g0..), one per
 * aggregate (a0..) and hidden columns for the WHERE values (v0..), read as
 * a table-valued function: temp.floe_agg_3('2026-11-20', '2026-11-21').
 *
 * xFilter scans the table once with the WHERE terms pushed (only when
 * floe's filter keeps exactly SQLite's rows), groups rows by hashing their
 * keys and folds each aggregate as SQLite's own would (integer sums that
 * turn REAL once a REAL is added, the running double sum in row order, NaN
 * read as NULL, -0.0 equal to 0.0, min/max by SQLite's value order). The
 * groups leave sorted by key, as SQLite's GROUP BY hands them out. Whenever
 * it cannot answer exactly (a WHERE value floe's filter would read
 * differently, a column whose type changed, more groups than the memory
 * budget, an integer overflow), the plan's SQL runs in SQLite instead over
 * the same table, and its rows are handed out: the answer is SQLite's
 * either way. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "floe/floe.h"
#include "sql/sql_int.h"

typedef struct aggtab {
	sqlite3_vtab base;
	floe_sql *s;
	int id;
} aggtab;

/* An output value. */
typedef struct oval {
	int type; /* SQLITE_NULL, _INTEGER, _FLOAT, _TEXT, _BLOB */
	int64_t i;
	double r;
	char *p;  /* TEXT/BLOB bytes, malloc'ed */
	int n;
} oval;

typedef struct aggcur {
	sqlite3_vtab_cursor base;
	oval *rows;    /* nrows x ncols */
	int64_t nrows, row;
	int ncols;
	bool counted;  /* counted in the table's open scans */
} aggcur;

/* A value of an aggregate's argument: NULL, INTEGER or REAL. */
enum { V_NULL, V_INT, V_REAL };
typedef struct tval {
	int t;
	int64_t i;
	double r;
} tval;

#define DEFAULT_BUDGET ((size_t)1 << 30)

void sq_plan_free(sq_plan *p)
{
	if (!p)
		return;
	free(p->ident);
	for (int i = 0; i < p->ngroup; i++)
		free(p->group[i]);
	free(p->group);
	for (int i = 0; i < p->naggs; i++)
		free(p->aggs[i].text);
	free(p->aggs);
	free(p->nodes);
	for (int i = 0; i < p->ncols; i++)
		free(p->cols[i]);
	free(p->cols);
	for (int i = 0; i < p->nterms; i++)
		free(p->term_col[i]);
	free(p->term_col);
	free(p->term_op);
	sqlite3_free(p->fallback);
	free(p);
}

int sq_agg_plan(floe_sql *s, sq_plan *p, int *id)
{
	for (int i = 0; i < s->nplans; i++)
		if (strcmp(s->plans[i]->fallback, p->fallback) == 0 &&
		    strcmp(s->plans[i]->ident, p->ident) == 0) {
			sq_plan_free(p);
			*id = i;
			return SQLITE_OK;
		}
	sq_plan **n = realloc(s->plans, (size_t)(s->nplans + 1) * sizeof *n);
	if (!n) {
		sq_plan_free(p);
		return SQLITE_NOMEM;
	}
	s->plans = n;
	int k = s->nplans++;
	n[k] = p;
	char *sql = sqlite3_mprintf("CREATE VIRTUAL TABLE temp.floe_agg_%d USING floe_agg(%d)",
	                            k, k);
	int rc = sql ? sqlite3_exec(s->db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		s->nplans--;
		sq_plan_free(p);
		return rc;
	}
	*id = k;
	return SQLITE_OK;
}

/* ---- the virtual table ------------------------------------------------------- */

static sq_plan *plan_of(aggtab *v)
{
	return v->id >= 0 && v->id < v->s->nplans ? v->s->plans[v->id] : NULL;
}

static int ag_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                      sqlite3_vtab **out, char **errmsg)
{
	floe_sql *s = aux;
	int id = argc >= 4 ? atoi(argv[3]) : -1;
	if (id < 0 || id >= s->nplans) {
		*errmsg = sqlite3_mprintf("floe_agg tables are made by floe_sql_prepare only");
		return SQLITE_ERROR;
	}
	sq_plan *p = s->plans[id];
	sqlite3_str *ddl = sqlite3_str_new(db);
	sqlite3_str_appendall(ddl, "CREATE TABLE x(");
	for (int i = 0; i < p->ngroup; i++)
		sqlite3_str_appendf(ddl, "g%d, ", i);
	for (int i = 0; i < p->naggs; i++)
		sqlite3_str_appendf(ddl, "a%d, ", i);
	for (int i = 0; i < p->nterms; i++)
		sqlite3_str_appendf(ddl, "v%d HIDDEN, ", i);
	sqlite3_str_appendall(ddl, "_rows HIDDEN)"); /* never empty */
	char *sql = sqlite3_str_finish(ddl);
	int rc = sql ? sqlite3_declare_vtab(db, sql) : SQLITE_NOMEM;
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return rc;
	aggtab *v = sqlite3_malloc(sizeof *v);
	if (!v)
		return SQLITE_NOMEM;
	memset(v, 0, sizeof *v);
	v->s = s;
	v->id = id;
	*out = &v->base;
	return SQLITE_OK;
}

static int ag_disconnect(sqlite3_vtab *vt)
{
	sqlite3_free(vt->zErrMsg);
	sqlite3_free(vt);
	return SQLITE_OK;
}

static int ag_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
	aggtab *v = (aggtab *)vt;
	sq_plan *p = plan_of(v);
	if (!p)
		return SQLITE_ERROR;
	int first = p->ngroup + p->naggs;
	bool missing = false;
	for (int k = 0; k < p->nterms; k++) {
		bool got = false;
		for (int i = 0; i < info->nConstraint && !got; i++) {
			const struct sqlite3_index_constraint *c = &info->aConstraint[i];
			if (c->iColumn != first + k || c->op != SQLITE_INDEX_CONSTRAINT_EQ || !c->usable)
				continue;
			info->aConstraintUsage[i].argvIndex = k + 1;
			info->aConstraintUsage[i].omit = 1;
			got = true;
		}
		missing = missing || !got;
	}
	/* the groups leave in ascending key order: an ORDER BY of the GROUP BY
	 * columns in order, ascending, is already met */
	bool ordered = info->nOrderBy <= p->ngroup;
	for (int i = 0; i < info->nOrderBy && ordered; i++)
		ordered = info->aOrderBy[i].iColumn == i && !info->aOrderBy[i].desc;
	info->orderByConsumed = ordered && info->nOrderBy > 0;
	/* one whole scan of the table per run, whatever the join: SQLite should
	 * run it once, as the outer loop; without its values it cannot run */
	info->estimatedCost = missing ? 1e300 : 1e6;
	info->estimatedRows = p->ngroup ? 1000 : 1;
	return SQLITE_OK;
}

static int ag_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
	aggcur *c = sqlite3_malloc(sizeof *c);
	if (!c)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof *c);
	(void)vt;
	*out = &c->base;
	return SQLITE_OK;
}

static void rows_free(aggcur *c)
{
	for (int64_t i = 0; i < c->nrows * c->ncols; i++)
		free(c->rows[i].p);
	free(c->rows);
	c->rows = NULL;
	c->nrows = c->row = 0;
}

static void cursor_reset(aggtab *v, aggcur *c)
{
	rows_free(c);
	sq_plan *p = plan_of(v);
	if (c->counted && p)
		sq_table_scans(v->s, p->ident, -1);
	c->counted = false;
}

static int ag_close(sqlite3_vtab_cursor *cur)
{
	cursor_reset((aggtab *)cur->pVtab, (aggcur *)cur);
	sqlite3_free(cur);
	return SQLITE_OK;
}

static int vt_err(aggtab *v, const char *msg)
{
	sqlite3_free(v->base.zErrMsg);
	v->base.zErrMsg = sqlite3_mprintf("%s", msg);
	return SQLITE_ERROR;
}

/* ---- SQLite's way: the plan's SQL, its rows copied ------------------------- */

static int set_oval(oval *o, sqlite3_value *val)
{
	memset(o, 0, sizeof *o);
	o->type = sqlite3_value_type(val);
	switch (o->type) {
	case SQLITE_INTEGER:
		o->i = sqlite3_value_int64(val);
		return 0;
	case SQLITE_FLOAT:
		o->r = sqlite3_value_double(val);
		return 0;
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		const void *b = o->type == SQLITE_TEXT ? (const void *)sqlite3_value_text(val)
		                                       : sqlite3_value_blob(val);
		o->n = sqlite3_value_bytes(val);
		if (!(o->p = malloc((size_t)o->n + 1)))
			return -1;
		if (o->n)
			memcpy(o->p, b, (size_t)o->n);
		o->p[o->n] = '\0';
		return 0;
	}
	default:
		o->type = SQLITE_NULL;
		return 0;
	}
}

static int run_in_sqlite(aggtab *v, aggcur *c, sq_plan *p, sqlite3_value **argv)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db = v->s->db;
	if (sqlite3_prepare_v2(db, p->fallback, -1, &st, NULL) != SQLITE_OK)
		return vt_err(v, sqlite3_errmsg(db));
	for (int k = 0; k < p->nterms; k++)
		sqlite3_bind_value(st, k + 1, argv[k]);
	int64_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->nrows == cap) {
			cap = cap ? cap * 2 : 64;
			oval *n = realloc(c->rows, (size_t)(cap * c->ncols) * sizeof *n);
			if (!n) {
				sqlite3_finalize(st);
				return SQLITE_NOMEM;
			}
			c->rows = n;
		}
		oval *r = &c->rows[c->nrows * c->ncols];
		memset(r, 0, (size_t)c->ncols * sizeof *r);
		c->nrows++;
		for (int k = 0; k < c->ncols; k++)
			if (set_oval(&r[k], sqlite3_column_value(st, k))) {
				sqlite3_finalize(st);
				return SQLITE_NOMEM;
			}
	}
	if (rc != SQLITE_DONE) {
		rc = vt_err(v, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	return SQLITE_OK;
}

/* ---- floe's way -------------------------------------------------------------- */

/* A group key value (strings in the run's byte buffer). */
typedef struct kval {
	bool null;
	int64_t i;
	double d;
	uint32_t off, len;
} kval;

/* The running state of one aggregate of one group. */
typedef struct astate {
	int64_t cnt;
	int64_t isum;
	double rsum;
	bool approx, overflow, has;
	tval best;     /* numeric min/max */
	int64_t bnat;  /* temporal min/max, native */
	char *bs;      /* string min/max */
	uint32_t bn;
} astate;

typedef struct run {
	sq_plan *p;
	const floe_schema *sc;
	int gfield[SQ_AGG_MAX_KEYS];       /* schema field of each key */
	int gscan[SQ_AGG_MAX_KEYS];        /* scan column of each key */
	int *cfield, *cscan;               /* of each argument column */
	const floe_column *cols;           /* of the batch */
	/* groups */
	kval *keys;                        /* ngroups x ngroup */
	astate *st;                        /* ngroups x naggs */
	int64_t ngroups, capgroups;
	uint32_t *slots;                   /* group + 1, 0 = empty */
	uint64_t *hashes;                  /* of each group */
	uint64_t nslots;
	char *bytes;                       /* key strings */
	size_t nbytes, capbytes;
	size_t budget;
	bool give_up;                      /* hand the plan to SQLite */
} run;

static double pow10d(int k)
{
	double p = 1;
	while (k-- > 0)
		p *= 10;
	return p;
}

/* A numeric column's value as SQLite reads it from the floe table, the
 * column's type id given (a constant where a loop is made for one type). */
static inline __attribute__((always_inline)) tval num_as(const floe_column *c, int64_t row,
                                                         int id)
{
	tval v = { V_NULL, 0, 0 };
	if (!floe_column_is_valid(c, row))
		return v;
	switch (id) {
	case FLOE_TYPE_BOOLEAN:
		v.t = V_INT;
		v.i = ((const uint8_t *)c->values)[row] != 0;
		return v;
	case FLOE_TYPE_INT:
		v.t = V_INT;
		v.i = ((const int32_t *)c->values)[row];
		return v;
	case FLOE_TYPE_LONG:
		v.t = V_INT;
		v.i = ((const int64_t *)c->values)[row];
		return v;
	case FLOE_TYPE_FLOAT:
		v.r = ((const float *)c->values)[row];
		v.t = isnan(v.r) ? V_NULL : V_REAL;
		return v;
	case FLOE_TYPE_DOUBLE:
		v.r = ((const double *)c->values)[row];
		v.t = isnan(v.r) ? V_NULL : V_REAL;
		return v;
	case FLOE_TYPE_DECIMAL: {
		int64_t x = ((const int64_t *)c->values)[row];
		if (c->type.scale == 0) {
			v.t = V_INT;
			v.i = x;
		} else {
			v.t = V_REAL;
			v.r = (double)x / pow10d(c->type.scale);
		}
		return v;
	}
	default:
		return v;
	}
}

static tval num_at(const floe_column *c, int64_t row)
{
	return num_as(c, row, (int)c->type.id);
}

static tval real_result(double r)
{
	tval v = { isnan(r) ? V_NULL : V_REAL, 0, r };
	return v;
}

/* SQLite's arithmetic: integers unless one side is REAL or the integer
 * result overflows; division by zero and NaN are NULL. */
static tval arith(char op, tval a, tval b)
{
	tval v = { V_NULL, 0, 0 };
	if (a.t == V_NULL || b.t == V_NULL)
		return v;
	if (a.t == V_INT && b.t == V_INT) {
		int64_t r;
		bool over = false;
		switch (op) {
		case '+': over = __builtin_add_overflow(a.i, b.i, &r); break;
		case '-': over = __builtin_sub_overflow(a.i, b.i, &r); break;
		case '*': over = __builtin_mul_overflow(a.i, b.i, &r); break;
		default:
			if (b.i == 0)
				return v;
			over = b.i == -1 && a.i == INT64_MIN;
			r = over ? 0 : a.i / b.i;
			break;
		}
		if (!over) {
			v.t = V_INT;
			v.i = r;
			return v;
		}
	}
	double x = a.t == V_INT ? (double)a.i : a.r, y = b.t == V_INT ? (double)b.i : b.r;
	switch (op) {
	case '+': return real_result(x + y);
	case '-': return real_result(x - y);
	case '*': return real_result(x * y);
	default:
		if (y == 0)
			return v;
		return real_result(x / y);
	}
}

static tval eval(const run *r, int n, int64_t row)
{
	const sq_anode *nd = &r->p->nodes[n];
	tval v = { V_NULL, 0, 0 };
	switch (nd->op) {
	case 'c':
		return num_at(&r->cols[r->cscan[nd->col]], row);
	case 'i':
		v.t = V_INT;
		v.i = nd->i;
		return v;
	case 'r':
		return real_result(nd->r);
	case 'n': {
		tval zero = { V_INT, 0, 0 };
		return arith('-', zero, eval(r, nd->a, row)); /* SQLite's -x is 0 - x */
	}
	default:
		return arith(nd->op, eval(r, nd->a, row), eval(r, nd->b, row));
	}
}

static bool temporal_type(const floe_type *t)
{
	return t->id >= FLOE_TYPE_DATE && t->id <= FLOE_TYPE_TIMESTAMPTZ_NS;
}

/* A temporal value's canonical text, as the table reads in SQLite. */
static void temporal_text(char *out, const floe_type *t, int64_t v)
{
	switch (t->id) {
	case FLOE_TYPE_DATE:
		sq_format_date(out, (int32_t)v);
		break;
	case FLOE_TYPE_TIME:
		sq_format_time_us(out, v);
		break;
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		sq_format_timestamp_ns(out, v);
		break;
	default:
		sq_format_timestamp_us(out, v);
		break;
	}
}

/* Whether a temporal value's text has a four-digit year (text order is
 * then time order). */
static bool plain_year(const floe_type *t, int64_t v)
{
	switch (t->id) {
	case FLOE_TYPE_DATE:
		return v >= -719528 && v <= 2932896;
	case FLOE_TYPE_TIME:
		return true;
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		return true; /* int64 nanoseconds span 1677..2262 */
	default:
		return v >= -62167219200000000LL && v <= 253402300799999999LL;
	}
}

/* SQLite's order of two temporal values of type t (their texts). */
static int temporal_cmp(const floe_type *t, int64_t a, int64_t b)
{
	if (plain_year(t, a) && plain_year(t, b))
		return a < b ? -1 : a > b;
	char x[48], y[48];
	temporal_text(x, t, a);
	temporal_text(y, t, b);
	return strcmp(x, y);
}

static int bytes_cmp(const char *a, uint32_t an, const char *b, uint32_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : (an > bn) - (an < bn);
}

/* SQLite's order of two numbers (an INTEGER against a REAL exactly). */
static int num_cmp(tval a, tval b)
{
	if (a.t == V_INT && b.t == V_INT)
		return (a.i > b.i) - (a.i < b.i);
	if (a.t == V_REAL && b.t == V_REAL)
		return (a.r > b.r) - (a.r < b.r);
	bool flip = a.t == V_REAL;
	int64_t i = flip ? b.i : a.i;
	double r = flip ? a.r : b.r;
	int c;
	if (r < -9223372036854775808.0)
		c = 1;
	else if (r >= 9223372036854775808.0)
		c = -1;
	else {
		int64_t y = (int64_t)r;
		if (i != y)
			c = i < y ? -1 : 1;
		else
			c = r > (double)y ? -1 : r < (double)y ? 1 : 0;
	}
	return flip ? -c : c;
}

/* The key of column c at row. */
static void key_at(run *r, const floe_column *c, int64_t row, kval *k, const char **s)
{
	memset(k, 0, sizeof *k);
	*s = NULL;
	if (!floe_column_is_valid(c, row)) {
		k->null = true;
		return;
	}
	switch (c->type.id) {
	case FLOE_TYPE_STRING:
		*s = (const char *)c->data + c->offsets[row];
		k->len = (uint32_t)(c->offsets[row + 1] - c->offsets[row]);
		return;
	case FLOE_TYPE_BOOLEAN:
		k->i = ((const uint8_t *)c->values)[row] != 0;
		return;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE:
		k->i = ((const int32_t *)c->values)[row];
		return;
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE: {
		tval v = num_at(c, row);
		k->null = v.t == V_NULL;
		k->d = v.r == 0 ? 0.0 : v.r; /* -0.0 groups with 0.0 */
		return;
	}
	default:
		k->i = ((const int64_t *)c->values)[row];
		return;
	}
	(void)r;
}

static uint64_t key_hash(const floe_column *c, const kval *k, const char *s, uint64_t h)
{
	if (k->null)
		return h * 31 + 7;
	if (c->type.id == FLOE_TYPE_STRING)
		return XXH3_64bits_withSeed(s, k->len, h);
	if (c->type.id == FLOE_TYPE_FLOAT || c->type.id == FLOE_TYPE_DOUBLE) {
		uint64_t b;
		memcpy(&b, &k->d, sizeof b);
		return XXH3_64bits_withSeed(&b, sizeof b, h);
	}
	return XXH3_64bits_withSeed(&k->i, sizeof k->i, h);
}

static bool key_eq(const run *r, const floe_column *c, const kval *g, const kval *k,
                   const char *s)
{
	if (g->null || k->null)
		return g->null && k->null;
	if (c->type.id == FLOE_TYPE_STRING)
		return g->len == k->len && memcmp(r->bytes + g->off, s, k->len) == 0;
	if (c->type.id == FLOE_TYPE_FLOAT || c->type.id == FLOE_TYPE_DOUBLE)
		return g->d == k->d;
	return g->i == k->i;
}

static size_t run_bytes(const run *r)
{
	return (size_t)r->capgroups * ((size_t)r->p->ngroup * sizeof(kval) +
	                               (size_t)r->p->naggs * sizeof(astate) + 8) +
	       (size_t)r->nslots * 4 + r->capbytes;
}

static int grow_slots(run *r)
{
	uint64_t n = r->nslots ? r->nslots * 2 : 64;
	uint32_t *s = calloc(n, sizeof *s);
	if (!s)
		return -1;
	for (int64_t g = 0; g < r->ngroups; g++) {
		uint64_t at = r->hashes[g] & (n - 1);
		while (s[at])
			at = (at + 1) & (n - 1);
		s[at] = (uint32_t)(g + 1);
	}
	free(r->slots);
	r->slots = s;
	r->nslots = n;
	return 0;
}

/* The group of row `row`: its index, or -1 (memory; r->give_up when past
 * the budget). */
static int64_t group_of(run *r, int64_t row)
{
	const sq_plan *p = r->p;
	kval k[SQ_AGG_MAX_KEYS];
	const char *s[SQ_AGG_MAX_KEYS];
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	for (int g = 0; g < p->ngroup; g++) {
		const floe_column *c = &r->cols[r->gscan[g]];
		key_at(r, c, row, &k[g], &s[g]);
		h = key_hash(c, &k[g], s[g], h);
	}
	if (r->nslots == 0 && grow_slots(r))
		return -1;
	uint64_t at = h & (r->nslots - 1);
	for (; r->slots[at]; at = (at + 1) & (r->nslots - 1)) {
		int64_t gi = r->slots[at] - 1;
		if (r->hashes[gi] != h)
			continue;
		bool eq = true;
		for (int g = 0; g < p->ngroup && eq; g++)
			eq = key_eq(r, &r->cols[r->gscan[g]], &r->keys[gi * p->ngroup + g], &k[g], s[g]);
		if (eq)
			return gi;
	}
	/* a new group */
	if (r->ngroups == r->capgroups) {
		int64_t cap = r->capgroups ? r->capgroups * 2 : 64;
		kval *nk = realloc(r->keys, (size_t)(cap * (p->ngroup ? p->ngroup : 1)) * sizeof *nk);
		if (nk)
			r->keys = nk;
		astate *ns = realloc(r->st, (size_t)(cap * p->naggs) * sizeof *ns);
		if (ns)
			r->st = ns;
		uint64_t *nh = realloc(r->hashes, (size_t)cap * sizeof *nh);
		if (nh)
			r->hashes = nh;
		if (!nk || !ns || !nh)
			return -1;
		r->capgroups = cap;
	}
	int64_t gi = r->ngroups;
	for (int g = 0; g < p->ngroup; g++) {
		if (s[g]) {
			if (r->nbytes + k[g].len > r->capbytes) {
				size_t cap = r->capbytes ? r->capbytes * 2 : 4096;
				while (cap < r->nbytes + k[g].len)
					cap *= 2;
				char *nb = realloc(r->bytes, cap);
				if (!nb)
					return -1;
				r->bytes = nb;
				r->capbytes = cap;
			}
			memcpy(r->bytes + r->nbytes, s[g], k[g].len);
			k[g].off = (uint32_t)r->nbytes;
			r->nbytes += k[g].len;
		}
		r->keys[gi * p->ngroup + g] = k[g];
	}
	memset(&r->st[gi * p->naggs], 0, (size_t)p->naggs * sizeof(astate));
	r->hashes[gi] = h;
	r->ngroups++;
	if ((uint64_t)r->ngroups * 2 > r->nslots) {
		if (grow_slots(r))
			return -1;
	} else {
		r->slots[at] = (uint32_t)(gi + 1);
	}
	if (run_bytes(r) > r->budget || r->nbytes > UINT32_MAX / 2 || r->ngroups >= INT32_MAX) {
		r->give_up = true;
		return -1;
	}
	return gi;
}

/* A non-NULL number into the state of an aggregate of this kind. */
static inline __attribute__((always_inline)) void fold_num(int kind, astate *st, tval v)
{
	st->cnt++;
	switch (kind) {
	case SQ_AGG_SUM:
	case SQ_AGG_TOTAL:
	case SQ_AGG_AVG:
		/* SQLite 3.40's sumStep: a double running sum of every value, and
		 * an exact integer sum while only integers came */
		if (v.t == V_INT) {
			st->rsum += (double)v.i;
			if (!st->approx && !st->overflow && __builtin_add_overflow(st->isum, v.i, &st->isum))
				st->overflow = true;
		} else {
			st->rsum += v.r;
			st->approx = true;
		}
		return;
	case SQ_AGG_MIN:
	case SQ_AGG_MAX: {
		int sign = kind == SQ_AGG_MAX ? 1 : -1;
		if (!st->has || sign * num_cmp(v, st->best) > 0)
			st->best = v;
		st->has = true;
		return;
	}
	default:
		return;
	}
}

/* Fold row `row` into aggregate `a`'s state. */
static int fold(run *r, const sq_aggdef *a, astate *st, int64_t row)
{
	if (a->kind == SQ_AGG_COUNT_STAR) {
		st->cnt++;
		return 0;
	}
	const sq_anode *nd = &r->p->nodes[a->root];
	const floe_column *col = nd->op == 'c' ? &r->cols[r->cscan[nd->col]] : NULL;
	bool text = col && col->type.id == FLOE_TYPE_STRING;
	bool temporal = col && temporal_type(&col->type);
	if (text || temporal) { /* count, min or max of a column */
		if (!floe_column_is_valid(col, row))
			return 0;
		st->cnt++;
		if (a->kind == SQ_AGG_COUNT)
			return 0;
		int sign = a->kind == SQ_AGG_MAX ? 1 : -1;
		if (temporal) {
			int64_t v = col->type.id == FLOE_TYPE_DATE ? ((const int32_t *)col->values)[row]
			                                           : ((const int64_t *)col->values)[row];
			if (!st->has || sign * temporal_cmp(&col->type, v, st->bnat) > 0)
				st->bnat = v;
			st->has = true;
			return 0;
		}
		const char *s = (const char *)col->data + col->offsets[row];
		uint32_t n = (uint32_t)(col->offsets[row + 1] - col->offsets[row]);
		if (!st->has || sign * bytes_cmp(s, n, st->bs, st->bn) > 0) {
			char *b = realloc(st->bs, n ? n : 1);
			if (!b)
				return -1;
			memcpy(b, s, n);
			st->bs = b;
			st->bn = n;
		}
		st->has = true;
		return 0;
	}
	tval v = eval(r, a->root, row);
	if (v.t != V_NULL)
		fold_num(a->kind, st, v);
	return 0;
}

/* fold's steps over a plain numeric column of type id `tid`, for rows
 * [0, n) into the states of aggregate ai of groups gv[row] (0 when gv is
 * NULL); called with constant kinds and types, each call compiles to a
 * loop of its own without per-row dispatch. */
static inline __attribute__((always_inline)) void
fold_col_kind(astate *st0, int naggs, int ai, const int64_t *gv, const floe_column *c,
              int64_t n, int kind, int tid)
{
	for (int64_t row = 0; row < n; row++) {
		tval v = num_as(c, row, tid);
		if (v.t != V_NULL)
			fold_num(kind, &st0[(gv ? gv[row] : 0) * naggs + ai], v);
	}
}

static inline __attribute__((always_inline)) void
fold_col(astate *st0, int naggs, int ai, const int64_t *gv, const floe_column *c, int64_t n,
         int kind, int tid)
{
	switch (kind) {
	case SQ_AGG_SUM:
	case SQ_AGG_TOTAL:
	case SQ_AGG_AVG:
		fold_col_kind(st0, naggs, ai, gv, c, n, SQ_AGG_SUM, tid);
		break;
	case SQ_AGG_MIN:
		fold_col_kind(st0, naggs, ai, gv, c, n, SQ_AGG_MIN, tid);
		break;
	case SQ_AGG_MAX:
		fold_col_kind(st0, naggs, ai, gv, c, n, SQ_AGG_MAX, tid);
		break;
	default:
		fold_col_kind(st0, naggs, ai, gv, c, n, SQ_AGG_COUNT, tid);
		break;
	}
}

/* Aggregate `ai` (definition a) folded over rows [0, n) of the batch in
 * r->cols, row `row` into the state of group gv[row] (group 0 when gv is
 * NULL). A plain INT, LONG, FLOAT or DOUBLE column goes through a loop of
 * its own taking fold's steps (fold_num), row by row in the same order;
 * any other argument through fold. -1 when out of memory. */
static int fold_batch(run *r, const sq_aggdef *a, int ai, const int64_t *gv, int64_t n)
{
	int naggs = r->p->naggs;
	astate *st0 = r->st;
#define FOLD_ST(row) (&st0[(gv ? gv[row] : 0) * naggs + ai])
	if (a->kind == SQ_AGG_COUNT_STAR) {
		if (!gv)
			st0[ai].cnt += n;
		else
			for (int64_t row = 0; row < n; row++)
				FOLD_ST(row)->cnt++;
		return 0;
	}
	const sq_anode *nd = &r->p->nodes[a->root];
	const floe_column *c = nd->op == 'c' ? &r->cols[r->cscan[nd->col]] : NULL;
	switch (c ? (int)c->type.id : -1) {
	case FLOE_TYPE_INT:
		fold_col(st0, naggs, ai, gv, c, n, a->kind, FLOE_TYPE_INT);
		return 0;
	case FLOE_TYPE_LONG:
		fold_col(st0, naggs, ai, gv, c, n, a->kind, FLOE_TYPE_LONG);
		return 0;
	case FLOE_TYPE_FLOAT:
		fold_col(st0, naggs, ai, gv, c, n, a->kind, FLOE_TYPE_FLOAT);
		return 0;
	case FLOE_TYPE_DOUBLE:
		fold_col(st0, naggs, ai, gv, c, n, a->kind, FLOE_TYPE_DOUBLE);
		return 0;
	default:
		break;
	}
	for (int64_t row = 0; row < n; row++)
		if (fold(r, a, FOLD_ST(row), row))
			return -1;
	return 0;
#undef FOLD_ST
}

/* SQLite's order of groups: keys ascending, NULL first. */
static _Thread_local const run *sort_run; /* qsort has no context argument */

static int group_cmp(const void *x, const void *y)
{
	const run *r = sort_run;
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	for (int g = 0; g < r->p->ngroup; g++) {
		const kval *ka = &r->keys[a * r->p->ngroup + g], *kb = &r->keys[b * r->p->ngroup + g];
		const floe_type *t = &r->sc->fields[r->gfield[g]].type;
		int c;
		if (ka->null || kb->null)
			c = (int)kb->null - (int)ka->null;
		else if (t->id == FLOE_TYPE_STRING)
			c = bytes_cmp(r->bytes + ka->off, ka->len, r->bytes + kb->off, kb->len);
		else if (t->id == FLOE_TYPE_FLOAT || t->id == FLOE_TYPE_DOUBLE)
			c = (ka->d > kb->d) - (ka->d < kb->d);
		else if (temporal_type(t))
			c = temporal_cmp(t, ka->i, kb->i);
		else
			c = (ka->i > kb->i) - (ka->i < kb->i);
		if (c)
			return c;
	}
	return (a > b) - (a < b);
}

static int text_oval(oval *o, const char *s, size_t n)
{
	o->type = SQLITE_TEXT;
	o->n = (int)n;
	if (!(o->p = malloc(n + 1)))
		return -1;
	memcpy(o->p, s, n);
	o->p[n] = '\0';
	return 0;
}

static int key_oval(const run *r, int g, const kval *k, oval *o)
{
	memset(o, 0, sizeof *o);
	const floe_type *t = &r->sc->fields[r->gfield[g]].type;
	if (k->null) {
		o->type = SQLITE_NULL;
		return 0;
	}
	if (t->id == FLOE_TYPE_STRING)
		return text_oval(o, r->bytes + k->off, k->len);
	if (t->id == FLOE_TYPE_FLOAT || t->id == FLOE_TYPE_DOUBLE) {
		o->type = SQLITE_FLOAT;
		o->r = k->d;
		return 0;
	}
	if (temporal_type(t)) {
		char buf[48];
		temporal_text(buf, t, k->i);
		return text_oval(o, buf, strlen(buf));
	}
	o->type = SQLITE_INTEGER;
	o->i = k->i;
	return 0;
}

/* The aggregate's result; 1 when SQLite must answer (integer overflow). */
static int agg_oval(const run *r, const sq_aggdef *a, const astate *st, oval *o)
{
	memset(o, 0, sizeof *o);
	o->type = SQLITE_NULL;
	switch (a->kind) {
	case SQ_AGG_COUNT_STAR:
	case SQ_AGG_COUNT:
		o->type = SQLITE_INTEGER;
		o->i = st->cnt;
		return 0;
	case SQ_AGG_SUM:
		if (st->cnt == 0)
			return 0;
		if (st->overflow)
			return 1;
		if (st->approx) {
			o->type = SQLITE_FLOAT;
			o->r = st->rsum;
		} else {
			o->type = SQLITE_INTEGER;
			o->i = st->isum;
		}
		return 0;
	case SQ_AGG_TOTAL:
		o->type = SQLITE_FLOAT;
		o->r = st->rsum;
		return 0;
	case SQ_AGG_AVG:
		if (st->cnt > 0) {
			o->type = SQLITE_FLOAT;
			o->r = st->rsum / (double)st->cnt;
		}
		return 0;
	default:
		break;
	}
	if (!st->has)
		return 0;
	const sq_anode *nd = &r->p->nodes[a->root];
	const floe_type *t = nd->op == 'c' ? &r->sc->fields[r->cfield[nd->col]].type : NULL;
	if (t && t->id == FLOE_TYPE_STRING)
		return text_oval(o, st->bs ? st->bs : "", st->bn) ? -1 : 0;
	if (t && temporal_type(t)) {
		char buf[48];
		temporal_text(buf, t, st->bnat);
		return text_oval(o, buf, strlen(buf)) ? -1 : 0;
	}
	if (st->best.t == V_INT) {
		o->type = SQLITE_INTEGER;
		o->i = st->best.i;
	} else {
		o->type = SQLITE_FLOAT;
		o->r = st->best.r;
	}
	return 0;
}

static void run_free(run *r)
{
	if (r->st)
		for (int64_t i = 0; i < r->ngroups * r->p->naggs; i++)
			free(r->st[i].bs);
	free(r->keys);
	free(r->st);
	free(r->hashes);
	free(r->slots);
	free(r->bytes);
	free(r->cfield);
	free(r->cscan);
}

static int field_named(const floe_schema *sc, const char *name)
{
	for (int i = 0; i < sc->nfields; i++)
		if (strcmp(sc->fields[i].name, name) == 0)
			return i;
	return -1;
}

/* The index of column `name` among the scan's columns, added when new
 * (the caller has checked there is room). */
static int scan_column(const char **cols, int *ncols, const char *name)
{
	int k = 0;
	while (k < *ncols && strcmp(cols[k], name) != 0)
		k++;
	if (k == *ncols)
		cols[(*ncols)++] = name;
	return k;
}

/* Aggregate in floe: SQLITE_OK with the rows set, SQLITE_DONE when SQLite
 * must answer instead, or an error. */
static int run_in_floe(aggtab *v, aggcur *c, sq_plan *p, sqlite3_value **argv)
{
	floe_sql *s = v->s;
	floe_table *t;
	floe_error err;
	if (sq_table_get(s, p->ident, true, &t, &err))
		return SQLITE_DONE; /* SQLite's statement gives the error */
	run r;
	memset(&r, 0, sizeof r);
	r.p = p;
	r.sc = floe_table_schema(t);
	r.budget = s->opt.group_bytes > 0 ? (size_t)s->opt.group_bytes : DEFAULT_BUDGET;
	const char *cols[SQ_AGG_MAX_KEYS + 64];
	int ncols = 0, rc = SQLITE_DONE;
	char *where = NULL;
	floe_scan *scan = NULL;
	int64_t *gv = NULL;  /* the group of each row of a batch */
	size_t gcap = 0;
	r.cfield = calloc((size_t)p->ncols + 1, sizeof *r.cfield);
	r.cscan = calloc((size_t)p->ncols + 1, sizeof *r.cscan);
	if (!r.cfield || !r.cscan) {
		rc = SQLITE_NOMEM;
		goto out;
	}
	/* the columns, still of the types the plan was made for */
	if (p->ngroup + p->ncols > (int)(sizeof cols / sizeof cols[0]))
		goto out;
	for (int g = 0; g < p->ngroup; g++) {
		int f = field_named(r.sc, p->group[g]);
		if (f < 0 || !sq_agg_ordered(&r.sc->fields[f].type) ||
		    (r.sc->fields[f].type.id == FLOE_TYPE_DECIMAL && r.sc->fields[f].type.scale > 0))
			goto out;
		r.gfield[g] = f;
		r.gscan[g] = scan_column(cols, &ncols, r.sc->fields[f].name);
	}
	for (int i = 0; i < p->ncols; i++) {
		int f = field_named(r.sc, p->cols[i]);
		if (f < 0 || !sq_agg_ordered(&r.sc->fields[f].type))
			goto out;
		r.cfield[i] = f;
		r.cscan[i] = scan_column(cols, &ncols, r.sc->fields[f].name);
	}
	/* text and temporal columns are only ever counted or compared (the
	 * plan was checked for that when made; the type may have changed) */
	for (int a = 0; a < p->naggs; a++) {
		const sq_aggdef *d = &p->aggs[a];
		if (d->root < 0)
			continue;
		const sq_anode *nd = &p->nodes[d->root];
		if (nd->op == 'c') {
			const floe_type *ty = &r.sc->fields[r.cfield[nd->col]].type;
			if ((ty->id == FLOE_TYPE_STRING || temporal_type(ty)) &&
			    !(d->kind == SQ_AGG_COUNT || d->kind == SQ_AGG_MIN || d->kind == SQ_AGG_MAX))
				goto out;
		}
	}
	for (int n = 0; n < p->nnodes; n++) {
		const sq_anode *nd = &p->nodes[n];
		bool root = false;
		for (int a = 0; a < p->naggs; a++)
			root = root || p->aggs[a].root == n;
		if (nd->op == 'c' && !root) {
			const floe_type *ty = &r.sc->fields[r.cfield[nd->col]].type;
			if (ty->id == FLOE_TYPE_STRING || temporal_type(ty))
				goto out; /* arithmetic on text */
		}
	}
	/* count(*) alone still reads one column */
	if (ncols == 0) {
		int narrow = -1;
		for (int i = 0; i < r.sc->nfields; i++) {
			int w = floe_type_value_width(&r.sc->fields[i].type);
			if (w > 0 && (narrow < 0 || w < floe_type_value_width(&r.sc->fields[narrow].type)))
				narrow = i;
		}
		if (r.sc->nfields == 0)
			goto out;
		cols[ncols++] = r.sc->fields[narrow >= 0 ? narrow : 0].name;
	}
	/* the WHERE terms: each must keep exactly SQLite's rows */
	sqlite3_str *w = sqlite3_str_new(NULL);
	bool exact_all = true;
	for (int k = 0; k < p->nterms && exact_all; k++) {
		int f = field_named(r.sc, p->term_col[k]);
		bool exact = false;
		sqlite3_str *term = sqlite3_str_new(NULL);
		exact_all = f >= 0 &&
		            sq_compare_term(term, &r.sc->fields[f], p->term_op[k], argv[k], &exact) &&
		            exact;
		char *tt = sqlite3_str_finish(term);
		if (exact_all && tt)
			sqlite3_str_appendf(w, "%s(%s)", k ? " AND " : "", tt);
		exact_all = exact_all && tt;
		sqlite3_free(tt);
	}
	where = sqlite3_str_finish(w);
	if (!exact_all)
		goto out;
	floe_scan_options o;
	floe_scan_options_init(&o);
	o.columns = cols;
	o.ncolumns = ncols;
	o.where = where && *where ? where : NULL;
	sq_table_scans(s, p->ident, +1);
	c->counted = true;
	int log = sq_scan_log(s, p->ident, where ? where : "", ncols, -1);
	if (floe_scan_open(&scan, t, &o, &err)) {
		scan = NULL;
		rc = vt_err(v, err.msg);
		goto out;
	}
	const floe_batch *b;
	int got;
	while ((got = floe_scan_next(scan, &b, &err)) == 1) {
		r.cols = b->cols;
		if (b->nrows == 0)
			continue;
		/* every row's group first, then each aggregate over the batch */
		if (p->ngroup > 0) {
			if ((size_t)b->nrows > gcap) {
				int64_t *ng = realloc(gv, (size_t)b->nrows * sizeof *gv);
				if (!ng) {
					rc = SQLITE_NOMEM;
					goto out;
				}
				gv = ng;
				gcap = (size_t)b->nrows;
			}
			for (int64_t row = 0; row < b->nrows; row++)
				if ((gv[row] = group_of(&r, row)) < 0) {
					rc = r.give_up ? SQLITE_DONE : SQLITE_NOMEM;
					goto out;
				}
		} else if (r.ngroups == 0) {
			if (!(r.st = calloc((size_t)p->naggs, sizeof *r.st))) {
				rc = SQLITE_NOMEM;
				goto out;
			}
			r.ngroups = 1;
		}
		for (int a = 0; a < p->naggs; a++)
			if (fold_batch(&r, &p->aggs[a], a, p->ngroup > 0 ? gv : NULL, b->nrows)) {
				rc = SQLITE_NOMEM;
				goto out;
			}
	}
	if (got < 0) {
		rc = vt_err(v, err.msg);
		goto out;
	}
	sq_scan_log_stats(s, log, scan);
	/* no GROUP BY: one row, also over no rows */
	if (p->ngroup == 0 && r.ngroups == 0) {
		if (!(r.st = calloc((size_t)p->naggs, sizeof *r.st))) {
			rc = SQLITE_NOMEM;
			goto out;
		}
		r.ngroups = 1;
	}
	int64_t *order = malloc((size_t)(r.ngroups ? r.ngroups : 1) * sizeof *order);
	c->rows = calloc((size_t)(r.ngroups * c->ncols + 1), sizeof *c->rows);
	if (!order || !c->rows) {
		free(order);
		rc = SQLITE_NOMEM;
		goto out;
	}
	for (int64_t g = 0; g < r.ngroups; g++)
		order[g] = g;
	sort_run = &r;
	if (p->ngroup > 0)
		qsort(order, (size_t)r.ngroups, sizeof *order, group_cmp);
	sort_run = NULL;
	rc = SQLITE_OK;
	for (int64_t i = 0; i < r.ngroups && rc == SQLITE_OK; i++) {
		int64_t g = order[i];
		oval *row = &c->rows[i * c->ncols];
		c->nrows = i + 1;
		for (int k = 0; k < p->ngroup && rc == SQLITE_OK; k++)
			if (key_oval(&r, k, &r.keys[g * p->ngroup + k], &row[k]))
				rc = SQLITE_NOMEM;
		for (int a = 0; a < p->naggs && rc == SQLITE_OK; a++) {
			int x = agg_oval(&r, &p->aggs[a], &r.st[g * p->naggs + a], &row[p->ngroup + a]);
			rc = x < 0 ? SQLITE_NOMEM : x > 0 ? SQLITE_DONE : SQLITE_OK;
		}
	}
	free(order);
out:
	if (scan)
		floe_scan_free(scan);
	free(gv);
	sqlite3_free(where);
	run_free(&r);
	if (rc != SQLITE_OK)
		rows_free(c);
	return rc;
}

static int ag_filter(sqlite3_vtab_cursor *cur, int idx_num, const char *idx_str, int argc,
                     sqlite3_value **argv)
{
	aggcur *c = (aggcur *)cur;
	aggtab *v = (aggtab *)cur->pVtab;
	(void)idx_num;
	(void)idx_str;
	cursor_reset(v, c);
	sq_plan *p = plan_of(v);
	if (!p)
		return vt_err(v, "internal: no aggregation plan");
	if (argc != p->nterms)
		return vt_err(v, "internal: aggregation values missing");
	c->ncols = p->ngroup + p->naggs;
	int rc = run_in_floe(v, c, p, argv);
	if (rc == SQLITE_DONE) {
		rows_free(c);
		rc = run_in_sqlite(v, c, p, argv);
		v->s->agg_sqlite++;
	} else if (rc == SQLITE_OK)
		v->s->agg_floe++;
	c->row = 0;
	return rc;
}

static int ag_next(sqlite3_vtab_cursor *cur)
{
	((aggcur *)cur)->row++;
	return SQLITE_OK;
}

static int ag_eof(sqlite3_vtab_cursor *cur)
{
	aggcur *c = (aggcur *)cur;
	return c->row >= c->nrows;
}

static int ag_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i)
{
	aggcur *c = (aggcur *)cur;
	if (i < 0 || i >= c->ncols || c->row >= c->nrows) {
		sqlite3_result_null(ctx);
		return SQLITE_OK;
	}
	const oval *o = &c->rows[c->row * c->ncols + i];
	switch (o->type) {
	case SQLITE_INTEGER:
		sqlite3_result_int64(ctx, o->i);
		break;
	case SQLITE_FLOAT:
		sqlite3_result_double(ctx, o->r);
		break;
	case SQLITE_TEXT:
		sqlite3_result_text(ctx, o->p, o->n, SQLITE_TRANSIENT);
		break;
	case SQLITE_BLOB:
		sqlite3_result_blob(ctx, o->p, o->n, SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_result_null(ctx);
	}
	return SQLITE_OK;
}

static int ag_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out)
{
	*out = ((aggcur *)cur)->row;
	return SQLITE_OK;
}

static const sqlite3_module agg_module = {
	.iVersion = 1,
	.xCreate = ag_connect,
	.xConnect = ag_connect,
	.xBestIndex = ag_best_index,
	.xDisconnect = ag_disconnect,
	.xDestroy = ag_disconnect,
	.xOpen = ag_open,
	.xClose = ag_close,
	.xFilter = ag_filter,
	.xNext = ag_next,
	.xEof = ag_eof,
	.xColumn = ag_column,
	.xRowid = ag_rowid,
};

int sq_agg_register(floe_sql *s, floe_error *err)
{
	if (sqlite3_create_module(s->db, "floe_agg", &agg_module, s) != SQLITE_OK)
		return floe_error_set(err, FLOE_EIO, "cannot register the aggregation module: %s",
		                      sqlite3_errmsg(s->db));
	return 0;
}
