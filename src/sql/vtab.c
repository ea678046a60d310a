/* sql/vtab.c - the "floe" virtual table module: one floe table read by
 * SQLite. xBestIndex takes the constraints floe can prune with (=, <, <=,
 * >, >=, IN, IS NULL, IS NOT NULL, LIKE and GLOB prefixes), the columns the
 * statement uses and LIMIT; xFilter turns them into a floe scan (filter
 * text, projection, snapshot) and rows stream from its columnar batches.
 * SQLite still checks every constraint on the rows it gets, so a pushed
 * filter only has to keep every row SQLite would keep: constraints floe
 * cannot express exactly are pushed wider (LIKE 'ab%' as a range that holds
 * every case of 'ab') or not at all. The hidden column _as_of picks the
 * snapshot: an integer is a snapshot id, text a tag or branch, else a time
 * (the snapshot current then). */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/floe.h"
#include "sql/sql_int.h"
#include "util/buf.h"
#include "util/text.h"

int sq_vtab_register(floe_sql *s, floe_error *err);

typedef struct fvtab {
	sqlite3_vtab base;
	floe_sql *s;
	char *ident;
	floe_schema *schema; /* the columns declared at connect (copied) */
	floe_arena *arena;
	floe_batch_builder *ins; /* rows INSERTed in the open transaction */
	int64_t inserted;
	/* writable connections: rows named by rowid = file id << 40 | position
	 * in the data file, ids into `files` (paths as the table names them) */
	char **files;
	int nfiles, capfiles;
	floe_row_ref *dels;      /* rows DELETEd or UPDATEd in the transaction */
	int64_t ndels, capdels;
	int64_t base_snapshot;   /* the snapshot those rows were read from */
} fvtab;

/* Rowids of scans without positions (read-only connections, time travel):
 * a running number above every positioned rowid. */
#define ROWID_UNPLACED ((sqlite3_int64)1 << 62)

/* What xBestIndex hands xFilter in idxStr: "U<colUsed hex>;" then one
 * "<op><col>;" per argv value, in argv order. */
enum { OP_EQ = SQ_OP_EQ, OP_LT = SQ_OP_LT, OP_LE = SQ_OP_LE, OP_GT = SQ_OP_GT,
       OP_GE = SQ_OP_GE, OP_IN = 'i',
       OP_NULL = 'n', OP_NOTNULL = 'N', OP_LIKE = 'k', OP_GLOB = 'b', OP_LIMIT = 'm',
       OP_OFFSET = 'o', OP_ASOF = 'a' };

typedef struct fcursor {
	sqlite3_vtab_cursor base;
	floe_scan *scan;
	const floe_batch *b;
	int64_t row;          /* within b */
	int64_t rowid;
	int *scan_col;        /* declared column -> scan column, or -1 */
	int64_t snapshot_id;
	int log;              /* index in the scan log, or -1 */
	bool eof;
	/* what the scan was opened with, kept for the passes of grouping */
	floe_scan_options opt;
	const char **cols;
	char *where, *ref;
	/* GROUP BY on plain columns: rows leave grouped (group.c) */
	int gkeys[16], ngkeys;
	bool gdesc[16];
	sq_group *grp;
	int part, nparts;
	int64_t gpos;
	bool counted;         /* counted in the table's open scans */
	floe_scan *prev;      /* the scan of the filter before, for the next
	                       * scan to take its open file over */
	bool positioned;      /* rowids name data file positions */
	const int64_t *pos;   /* of the batch: positions in its file */
	int64_t file_id;
} fcursor;

/* Bytes of copied rows a grouped scan holds before it splits the rows
 * into partitions read one pass each. */
#define GROUP_BUDGET ((size_t)1 << 30)
#define GROUP_PASSES 16

static int vt_error(sqlite3_vtab *vt, const char *fmt, const char *msg)
{
	sqlite3_free(vt->zErrMsg);
	vt->zErrMsg = sqlite3_mprintf(fmt, msg);
	return SQLITE_ERROR;
}

/* ---- connect --------------------------------------------------------------- */

static char *unquote(const char *a)
{
	size_t n = strlen(a);
	if (n >= 2 && (a[0] == '\'' || a[0] == '"') && a[n - 1] == a[0]) {
		char *o = malloc(n), q = a[0];
		if (!o)
			return NULL;
		size_t k = 0;
		for (size_t i = 1; i + 1 < n; i++) {
			o[k++] = a[i];
			if (a[i] == q && a[i + 1] == q)
				i++;
		}
		o[k] = '\0';
		return o;
	}
	return strdup(a);
}

static void vt_free(fvtab *v)
{
	if (!v)
		return;
	free(v->ident);
	for (int i = 0; i < v->nfiles; i++)
		free(v->files[i]);
	free(v->files);
	free(v->dels);
	floe_batch_builder_free(v->ins);
	floe_arena_free(v->arena);
	sqlite3_free(v->base.zErrMsg);
	sqlite3_free(v);
}

static int vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                      sqlite3_vtab **out, char **errmsg)
{
	floe_sql *s = aux;
	if (argc < 4) {
		*errmsg = sqlite3_mprintf("floe virtual tables take the table's name: "
		                          "USING floe('ns.table')");
		return SQLITE_ERROR;
	}
	fvtab *v = sqlite3_malloc(sizeof *v);
	if (!v)
		return SQLITE_NOMEM;
	memset(v, 0, sizeof *v);
	v->s = s;
	floe_error err;
	floe_table *t;
	int rc;
	if (!(v->ident = unquote(argv[3])) || !(v->arena = floe_arena_new(4096))) {
		vt_free(v);
		return SQLITE_NOMEM;
	}
	if ((rc = sq_table_get(s, v->ident, false, &t, &err))) {
		*errmsg = sqlite3_mprintf("%s", err.msg);
		vt_free(v);
		return SQLITE_ERROR;
	}
	/* keep our own copy: a refresh may replace the table's schema */
	const floe_schema *sc = floe_table_schema(t);
	floe_schema *cp = floe_arena_alloc(v->arena, sizeof *cp);
	floe_field *f = cp ? floe_arena_alloc(v->arena, (size_t)(sc->nfields + 1) * sizeof *f) : NULL;
	if (!f) {
		vt_free(v);
		return SQLITE_NOMEM;
	}
	sqlite3_str *ddl = sqlite3_str_new(db);
	sqlite3_str_appendall(ddl, "CREATE TABLE x(");
	for (int i = 0; i < sc->nfields; i++) {
		f[i] = sc->fields[i];
		size_t n = strlen(sc->fields[i].name) + 1;
		char *nm = floe_arena_alloc(v->arena, n);
		if (!nm) {
			sqlite3_free(sqlite3_str_finish(ddl));
			vt_free(v);
			return SQLITE_NOMEM;
		}
		memcpy(nm, sc->fields[i].name, n);
		f[i].name = nm;
		sqlite3_str_appendf(ddl, "\"%w\" %s, ", nm, sq_decl_type(&f[i].type));
	}
	sqlite3_str_appendall(ddl, "_as_of HIDDEN)");
	cp->nfields = sc->nfields;
	cp->fields = f;
	v->schema = cp;
	char *sql = sqlite3_str_finish(ddl);
	if (!sql) {
		vt_free(v);
		return SQLITE_NOMEM;
	}
	rc = sqlite3_declare_vtab(db, sql);
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		*errmsg = sqlite3_mprintf("%s: cannot declare its columns to SQLite", v->ident);
		vt_free(v);
		return rc;
	}
	*out = &v->base;
	return SQLITE_OK;
}

static int vt_disconnect(sqlite3_vtab *vt)
{
	vt_free((fvtab *)vt);
	return SQLITE_OK;
}

/* ---- planning -------------------------------------------------------------- */

/* Whether floe can prune with a constraint on a column of this type at
 * all (the value is checked in xFilter). FLOAT columns never: a double
 * literal rounded to float would not keep the rows SQLite keeps. */
static bool pushable_type(const floe_type *t)
{
	switch (t->id) {
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_UUID:
	case FLOE_TYPE_FIXED:
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_JSON:
		return false;
	default:
		return true;
	}
}

static bool is_text_type(const floe_type *t)
{
	return t->id == FLOE_TYPE_STRING;
}

static bool canonical_temporal(const floe_type *t, const char *s);

/* A TEXT value without NUL bytes (floe's filter literals cannot hold
 * them), or NULL. */
static const char *plain_text(sqlite3_value *v)
{
	if (sqlite3_value_type(v) != SQLITE_TEXT)
		return NULL;
	const char *s = (const char *)sqlite3_value_text(v);
	return s && (int)strlen(s) == sqlite3_value_bytes(v) ? s : NULL;
}

/* A TEXT value in the canonical spelling of temporal type t, or a prefix
 * of it at a field boundary (canonical_temporal), or NULL. */
static const char *temporal_text(const floe_type *t, sqlite3_value *v)
{
	const char *s = plain_text(v);
	return s && canonical_temporal(t, s) ? s : NULL;
}

/* Characters of the full canonical text of a temporal type. */
static size_t temporal_width(const floe_type *t)
{
	switch (t->id) {
	case FLOE_TYPE_DATE:
		return 10;
	case FLOE_TYPE_TIME:
		return 15;
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		return 29;
	default:
		return 26;
	}
}

/* Whether floe's filter for `col OP value` keeps exactly the rows SQLite's
 * comparison keeps (so SQLite may skip it): integers with an integer,
 * doubles with a finite number, strings with text (BINARY collation was
 * checked), and temporal columns with their canonical text; with a prefix
 * of it only >= and < are exact (every value starting with the prefix is
 * above it as text, and at or after its time). */
static bool exact_compare(const floe_type *t, char op, sqlite3_value *v)
{
	int vt = sqlite3_value_type(v);
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN:
	case FLOE_TYPE_INT:
	case FLOE_TYPE_LONG: {
		if (vt != SQLITE_INTEGER || t->is_unsigned)
			return false;
		sqlite3_int64 i = sqlite3_value_int64(v);
		if (t->id == FLOE_TYPE_INT && (i < INT32_MIN || i > INT32_MAX))
			return false;
		return t->id != FLOE_TYPE_BOOLEAN || i == 0 || i == 1;
	}
	case FLOE_TYPE_STRING:
		return plain_text(v) != NULL;
	case FLOE_TYPE_DATE:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS: {
		const char *s = temporal_text(t, v);
		if (!s)
			return false;
		return strlen(s) == temporal_width(t) || op == OP_GE || op == OP_LT;
	}
	default:
		return false;
	}
}

/* Live rows of the current snapshot (its summary's total-records), or a
 * guess when the table does not say. */
static double table_rows(fvtab *v)
{
	floe_table *t;
	floe_error err;
	const floe_snapshot_info *si;
	int n;
	if (sq_table_get(v->s, v->ident, false, &t, &err) ||
	    floe_table_snapshots(t, &si, &n, &err))
		return 1e6;
	for (int i = n - 1; i >= 0; i--) {
		if (!si[i].is_current)
			continue;
		const char *p = si[i].summary_json ? strstr(si[i].summary_json, "\"total-records\"")
		                                   : NULL;
		if (!p)
			break;
		p = strchr(p + 15, ':');
		while (p && (*p == ':' || *p == ' ' || *p == '"'))
			p++;
		double r = p ? strtod(p, NULL) : -1;
		return r >= 0 ? r : 1e6;
	}
	return n == 0 ? 0 : 1e6;
}

/* Whether the used columns of the whole table fit the grouping memory
 * (counting the copy made to order them). */
static bool sort_fits(fvtab *v, sqlite3_uint64 used)
{
	double per_row = 8 + 8 + 3 * 8; /* hash, order, finish arrays */
	for (int i = 0; i < v->schema->nfields; i++) {
		bool u = i >= 63 ? (used >> 63) & 1 : (used >> i) & 1;
		if (!u)
			continue;
		int w = floe_type_value_width(&v->schema->fields[i].type);
		per_row += 2 * (w > 0 ? w : 8 + 24);
	}
	size_t budget = v->s->opt.group_bytes > 0 ? (size_t)v->s->opt.group_bytes : GROUP_BUDGET;
	return table_rows(v) * per_row <= (double)budget;
}

static int vt_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
	fvtab *v = (fvtab *)vt;
	int ncols = v->schema->nfields;
	sqlite3_str *str = sqlite3_str_new(NULL), *ops = sqlite3_str_new(NULL);
	sqlite3_str_appendf(str, "U%llx;", (unsigned long long)info->colUsed);
	int argv = 0, npushed = 0, nother = 0;
	sqlite3_uint64 probe_cols = 0; /* = constraints whose value comes from
	                                  another table (a join's inner side) */
	bool asof = false, asof_unusable = false;
	for (int i = 0; i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *c = &info->aConstraint[i];
		int col = c->iColumn;
		char op = 0;
		if (col == ncols) { /* _as_of */
			if (c->op != SQLITE_INDEX_CONSTRAINT_EQ)
				continue;
			if (!c->usable) {
				asof_unusable = true;
				continue;
			}
			if (asof)
				continue;
			asof = true;
			op = OP_ASOF;
			info->aConstraintUsage[i].omit = 1;
		} else if (c->op == SQLITE_INDEX_CONSTRAINT_LIMIT) {
			if (c->usable)
				op = OP_LIMIT;
		} else if (c->op == SQLITE_INDEX_CONSTRAINT_OFFSET) {
			if (c->usable)
				op = OP_OFFSET;
		} else if (col >= 0 && col < ncols && c->usable &&
		           pushable_type(&v->schema->fields[col].type)) {
			const floe_type *ty = &v->schema->fields[col].type;
			const char *coll = sqlite3_vtab_collation(info, i);
			bool binary = !coll || sqlite3_stricmp(coll, "BINARY") == 0;
			switch (c->op) {
			case SQLITE_INDEX_CONSTRAINT_EQ:
				op = binary ? (sqlite3_vtab_in(info, i, -1) ? OP_IN : OP_EQ) : 0;
				break;
			case SQLITE_INDEX_CONSTRAINT_LT: op = binary ? OP_LT : 0; break;
			case SQLITE_INDEX_CONSTRAINT_LE: op = binary ? OP_LE : 0; break;
			case SQLITE_INDEX_CONSTRAINT_GT: op = binary ? OP_GT : 0; break;
			case SQLITE_INDEX_CONSTRAINT_GE: op = binary ? OP_GE : 0; break;
			case SQLITE_INDEX_CONSTRAINT_ISNULL: op = OP_NULL; break;
			case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: op = OP_NOTNULL; break;
			case SQLITE_INDEX_CONSTRAINT_LIKE: op = is_text_type(ty) ? OP_LIKE : 0; break;
			case SQLITE_INDEX_CONSTRAINT_GLOB: op = is_text_type(ty) ? OP_GLOB : 0; break;
			default: break;
			}
			if (op == OP_IN)
				sqlite3_vtab_in(info, i, 1); /* the whole list at once */
			if (op)
				npushed++;
			/* a comparison floe answers exactly as SQLite would, with a
			 * value known now: SQLite need not check it again (for a
			 * timestamp that saves formatting it as text per row) */
			sqlite3_value *rhs = NULL;
			int have = op ? sqlite3_vtab_rhs_value(info, i, &rhs) : SQLITE_NOTFOUND;
			if ((op == OP_EQ || op == OP_LT || op == OP_LE || op == OP_GT || op == OP_GE) &&
			    have == SQLITE_OK && rhs && exact_compare(ty, op, rhs))
				info->aConstraintUsage[i].omit = 1;
			if (op == OP_EQ && have != SQLITE_OK && col < 64)
				probe_cols |= (sqlite3_uint64)1 << col;
			else if (op)
				nother++;
		}
		if (!op)
			continue;
		/* LIMIT and OFFSET are logged; SQLite still applies them (omit
		 * stays 0) */
		info->aConstraintUsage[i].argvIndex = ++argv;
		sqlite3_str_appendf(ops, "%c%d;", op, col);
	}
	/* GROUP BY plain columns: floe hands the rows over grouped, saving
	 * SQLite's sorter. The groups leave in the order of their keys (with
	 * each term's direction, as SQLite compares), so that an ORDER BY equal
	 * to the GROUP BY, which SQLite then drops, still holds. The same
	 * delivery is a sort, so a plain ORDER BY (and max()/min(), which
	 * SQLite asks for as one) is taken too when the table's used columns
	 * fit the grouping memory in one pass; otherwise SQLite's sorter,
	 * which keeps only LIMIT rows, does better. */
	/* a probe by two or more key columns (see the cost below) returns a
	 * few rows: not worth ordering in floe */
	int nkeys = 0;
	for (; probe_cols; probe_cols &= probe_cols - 1)
		nkeys++;
	bool probe = v->s->probe_ok && nkeys >= 2 && nother == 0 && !(asof_unusable && !asof);
	int distinct = sqlite3_vtab_distinct(info);
	if (!probe && info->nOrderBy > 0 && info->nOrderBy <= 16 &&
	    (distinct == 1 || (distinct == 0 && sort_fits(v, info->colUsed)))) {
		bool ok = true;
		for (int i = 0; i < info->nOrderBy; i++)
			ok = ok && info->aOrderBy[i].iColumn >= 0 && info->aOrderBy[i].iColumn < ncols;
		if (ok) {
			sqlite3_str_appendall(str, "K");
			for (int i = 0; i < info->nOrderBy; i++)
				sqlite3_str_appendf(str, "%s%d%c", i ? "," : "", info->aOrderBy[i].iColumn,
				                    info->aOrderBy[i].desc ? 'd' : 'a');
			sqlite3_str_appendall(str, ";");
			info->orderByConsumed = 1;
		}
	}
	char *optext = sqlite3_str_finish(ops);
	if (optext)
		sqlite3_str_appendall(str, optext);
	sqlite3_free(optext);
	info->idxStr = sqlite3_str_finish(str);
	if (!info->idxStr)
		return SQLITE_NOMEM;
	info->needToFreeIdxStr = 1;
	/* Rows: the table's live count, fewer with each pushed constraint.
	 * Cost: a pushed scan still reads a share of the table, never below
	 * 0.6 of a full one, so that SQLite never answers an OR by a union of
	 * scans (it would tell their rows apart by rowid, and scans have no
	 * stable rowids). A plan that cannot give _as_of its value (a join's
	 * later side) must not win. */
	double n = table_rows(v);
	double rows = n;
	for (int i = 0; i < npushed; i++)
		rows /= 4;
	info->estimatedRows = (sqlite3_int64)(rows < 1 ? 1 : rows);
	double share = npushed ? 0.7 - 0.01 * (npushed < 10 ? npushed : 10) : 1.0;
	info->estimatedCost = 10 + n * share + (asof_unusable && !asof ? 1e15 : 0);
	/* A join probing this table by two or more key columns, one lookup
	 * per outer row: planned from the cached manifests, pruned to the
	 * pages the keys can lie in, and reading the file the probe before
	 * left decoded (floe_scan_options.reuse), it costs about a page of
	 * rows, whatever the table's size. Priced so, SQLite probes for up to
	 * a few thousand outer rows instead of reading the whole table. */
	if (probe) {
		double per = n / 2000;
		info->estimatedCost = 10 + (per < 50 ? 50 : per > 5000 ? 5000 : per);
		/* keys of two or more columns mostly name a row or a few */
		double few = n * pow(0.01, nkeys);
		info->estimatedRows = (sqlite3_int64)(few < 1 ? 1 : few < 100 ? few : 100);
	}
	return SQLITE_OK;
}

/* ---- literals for the pushed filter --------------------------------------- */

/* Canonical temporal text of the kind sq_format_* writes, or a prefix of
 * it ending at a field boundary: then the text order SQLite compares with
 * is the time order, and the literal parses as a time. */
static bool canonical_temporal(const floe_type *t, const char *s)
{
	size_t n = strlen(s);
	if (t->id == FLOE_TYPE_TIME) {
		static const char shape[] = "dd:dd:dd";
		if (n < 8)
			return false;
		for (size_t i = 0; i < 8; i++)
			if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
				return false;
		if (n == 8)
			return true;
		if (s[8] != '.' || n == 9)
			return false;
		for (size_t i = 9; i < n; i++)
			if (!isdigit((unsigned char)s[i]))
				return false;
		return n <= 15;
	}
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	size_t max = t->id == FLOE_TYPE_DATE ? 10 : 19;
	if (n != 10 && n != 16 && n < 19)
		return false;
	if (n > max && t->id == FLOE_TYPE_DATE)
		return false;
	for (size_t i = 0; i < n && i < 19; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	if (n <= 19)
		return true;
	if (s[19] != '.' || n == 20)
		return false;
	for (size_t i = 20; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	bool ns = t->id == FLOE_TYPE_TIMESTAMP_NS || t->id == FLOE_TYPE_TIMESTAMPTZ_NS;
	return n - 20 <= (ns ? 9u : 6u);
}

static void put_quoted(sqlite3_str *o, const char *s, size_t n)
{
	sqlite3_str_appendchar(o, 1, '\'');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'')
			sqlite3_str_appendchar(o, 1, '\'');
		sqlite3_str_appendchar(o, 1, s[i]);
	}
	sqlite3_str_appendchar(o, 1, '\'');
}

/* Append the literal for `val` compared with a column of type `t`, or
 * return false when it is not one floe reads the way SQLite compares. */
static bool put_literal(sqlite3_str *o, const floe_type *t, sqlite3_value *val)
{
	int vt = sqlite3_value_type(val);
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN:
		if (vt != SQLITE_INTEGER)
			return false;
		sqlite3_int64 b = sqlite3_value_int64(val);
		if (b != 0 && b != 1)
			return false;
		sqlite3_str_appendall(o, b ? "true" : "false");
		return true;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_DECIMAL: {
		if (t->is_unsigned)
			return false;
		sqlite3_int64 i;
		if (vt == SQLITE_INTEGER)
			i = sqlite3_value_int64(val);
		else if (vt == SQLITE_FLOAT) {
			double d = sqlite3_value_double(val);
			if (!(d >= -9.2e18 && d <= 9.2e18) || d != floor(d))
				return false;
			i = (sqlite3_int64)d;
		} else
			return false;
		if (t->id == FLOE_TYPE_INT && (i < INT32_MIN || i > INT32_MAX))
			return false;
		if (t->id == FLOE_TYPE_DECIMAL) {
			/* integral literals only, within the precision */
			int digits = t->precision - t->scale;
			double lim = 1;
			for (int k = 0; k < digits; k++)
				lim *= 10;
			if ((double)(i < 0 ? -i : i) >= lim || digits > 18)
				return false;
		}
		sqlite3_str_appendf(o, "%lld", (long long)i);
		return true;
	}
	case FLOE_TYPE_DOUBLE: {
		if (vt != SQLITE_INTEGER && vt != SQLITE_FLOAT)
			return false;
		double d = sqlite3_value_double(val);
		/* floe orders -0.0 below 0.0 (Iceberg's order), SQLite finds them
		 * equal: a zero could keep fewer rows than SQLite's test */
		if (!isfinite(d) || d == 0)
			return false;
		if (vt == SQLITE_INTEGER) {
			sqlite3_int64 i = sqlite3_value_int64(val);
			if ((double)i != d || i > (1LL << 53) || i < -(1LL << 53))
				return false;
		}
		sqlite3_str_appendf(o, "%.17g", d);
		return true;
	}
	case FLOE_TYPE_STRING: {
		const char *s = plain_text(val);
		if (!s)
			return false;
		put_quoted(o, s, strlen(s));
		return true;
	}
	case FLOE_TYPE_DATE:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS: {
		const char *s = temporal_text(t, val);
		if (!s)
			return false;
		if (t->id == FLOE_TYPE_DATE || t->id == FLOE_TYPE_TIME || strlen(s) != 16) {
			put_quoted(o, s, strlen(s));
		} else { /* "YYYY-MM-DD HH:MM" */
			sqlite3_str_appendf(o, "'%s:00'", s);
		}
		return true;
	}
	default:
		return false;
	}
}

static void put_col(sqlite3_str *o, const char *name)
{
	sqlite3_str_appendchar(o, 1, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			sqlite3_str_appendchar(o, 1, '"');
		sqlite3_str_appendchar(o, 1, *p);
	}
	sqlite3_str_appendchar(o, 1, '"');
}

/* The literal prefix of a LIKE (case-insensitive for ASCII, escapes not
 * known here: a backslash ends it) or GLOB pattern. */
static size_t pattern_prefix(const char *p, bool glob)
{
	size_t n = 0;
	for (; p[n]; n++) {
		char c = p[n];
		if (glob ? (c == '*' || c == '?' || c == '[') : (c == '%' || c == '_' || c == '\\'))
			break;
	}
	return n;
}

/* col >= lo AND col < hi for every string starting with the prefix (with
 * LIKE: in any ASCII case, since upper case sorts before lower case). */
static bool put_prefix_range(sqlite3_str *o, const char *name, const char *pat, bool glob)
{
	size_t n = pattern_prefix(pat, glob);
	if (n == 0 || n > 256)
		return false;
	char lo[260], hi[260];
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)pat[i];
		lo[i] = (char)(glob ? c : toupper(c));
		hi[i] = (char)(glob ? c : tolower(c));
	}
	/* the smallest string above every one with prefix hi: bump the last
	 * byte below 0xff, dropping the 0xff ones after it */
	size_t k = n;
	while (k > 0 && (unsigned char)hi[k - 1] == 0xff)
		k--;
	if (k == 0)
		return false;
	hi[k - 1] = (char)((unsigned char)hi[k - 1] + 1);
	put_col(o, name);
	sqlite3_str_appendall(o, " >= ");
	put_quoted(o, lo, n);
	sqlite3_str_appendall(o, " AND ");
	put_col(o, name);
	sqlite3_str_appendall(o, " < ");
	put_quoted(o, hi, k);
	return true;
}

bool sq_compare_term(sqlite3_str *term, const floe_field *f, char op, sqlite3_value *val,
                     bool *exact)
{
	if (exact)
		*exact = false;
	if (!pushable_type(&f->type) || sqlite3_value_type(val) == SQLITE_NULL)
		return false; /* comparing with NULL: nothing matches, SQLite sees to it */
	const char *sym = op == OP_EQ ? " = " : op == OP_LT ? " < " : op == OP_LE ? " <= " :
	                  op == OP_GT ? " > " : " >= ";
	bool temporal = f->type.id >= FLOE_TYPE_DATE && f->type.id <= FLOE_TYPE_TIMESTAMPTZ_NS;
	/* a prefix of the canonical text is smaller than every value it
	 * starts, so SQLite's > keeps the time itself: push >= */
	if (temporal && op == OP_GT && sqlite3_value_type(val) == SQLITE_TEXT &&
	    (size_t)sqlite3_value_bytes(val) < temporal_width(&f->type))
		sym = " >= ";
	put_col(term, f->name);
	sqlite3_str_appendall(term, sym);
	if (!put_literal(term, &f->type, val))
		return false;
	if (exact)
		*exact = exact_compare(&f->type, op, val);
	return true;
}

/* ---- reading --------------------------------------------------------------- */

static int vt_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
	fcursor *c = sqlite3_malloc(sizeof *c);
	if (!c)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof *c);
	c->log = -1;
	c->eof = true;
	(void)vt;
	*out = &c->base;
	return SQLITE_OK;
}

/* Record the stats of the cursor's scan in the connection's log. */
static void log_stats(fvtab *v, fcursor *c)
{
	if (c->scan)
		sq_scan_log_stats(v->s, c->log, c->scan);
}

static void cursor_reset(fvtab *v, fcursor *c)
{
	log_stats(v, c);
	floe_scan_free(c->scan);
	c->scan = NULL;
	floe_scan_free(c->prev);
	c->prev = NULL;
	sqlite3_free(c->scan_col);
	c->scan_col = NULL;
	sqlite3_free(c->cols);
	c->cols = NULL;
	sqlite3_free(c->where);
	c->where = NULL;
	free(c->ref);
	c->ref = NULL;
	sq_group_free(c->grp);
	c->grp = NULL;
	c->ngkeys = 0;
	if (c->counted)
		sq_table_scans(v->s, v->ident, -1);
	c->counted = false;
	c->b = NULL;
	c->row = 0;
	c->log = -1;
	c->eof = true;
}

static int vt_close(sqlite3_vtab_cursor *cur)
{
	fcursor *c = (fcursor *)cur;
	cursor_reset((fvtab *)cur->pVtab, c);
	sqlite3_free(c);
	return SQLITE_OK;
}

/* _as_of's value: an integer snapshot id; text naming a time or a ref. */
static int pick_snapshot(floe_snapshot_sel *sel, sqlite3_value *val, fvtab *v)
{
	memset(sel, 0, sizeof *sel);
	int vt = sqlite3_value_type(val);
	if (vt == SQLITE_NULL) {
		vt_error(&v->base, "%s", "_as_of is NULL: give a snapshot id, a tag or branch name, "
		         "or a time (leave it out for the current snapshot)");
		return SQLITE_ERROR;
	}
	if (vt == SQLITE_INTEGER || (vt == SQLITE_FLOAT && sqlite3_value_double(val) ==
	                                                 floor(sqlite3_value_double(val)))) {
		sel->kind = FLOE_SNAPSHOT_ID;
		sel->snapshot_id = sqlite3_value_int64(val);
		return SQLITE_OK;
	}
	const char *s = (const char *)sqlite3_value_text(val);
	if (!s)
		return SQLITE_NOMEM;
	floe_type tz = { .id = FLOE_TYPE_TIMESTAMPTZ };
	floe_value tv;
	floe_buf scratch = { 0 };
	floe_error err;
	char midnight[32];
	const char *when = s;
	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') { /* a date: its midnight, UTC */
		snprintf(midnight, sizeof midnight, "%s 00:00:00", s);
		when = midnight;
	}
	int rc = floe_text_parse(&tv, &tz, when, strlen(when), &scratch, &err);
	floe_buf_free(&scratch);
	if (rc == 0) {
		sel->kind = FLOE_SNAPSHOT_AS_OF;
		sel->timestamp_ms = tv.i >= 0 ? tv.i / 1000 : -((-tv.i + 999) / 1000);
		return SQLITE_OK;
	}
	sel->kind = FLOE_SNAPSHOT_REF;
	sel->ref = s;
	return SQLITE_OK;
}

/* The data file and positions of the batch just read, for rowids. */
static int batch_positions(fvtab *v, fcursor *c)
{
	const char *file;
	floe_error err;
	if (floe_scan_positions(c->scan, &file, &c->pos, &err))
		return vt_error(&v->base, "%s", err.msg);
	if (c->file_id >= 0 && c->file_id < v->nfiles && strcmp(v->files[c->file_id], file) == 0)
		return SQLITE_OK;
	for (int i = v->nfiles - 1; i >= 0; i--)
		if (strcmp(v->files[i], file) == 0) {
			c->file_id = i;
			return SQLITE_OK;
		}
	if (v->nfiles == v->capfiles) {
		int cap = v->capfiles ? v->capfiles * 2 : 16;
		char **n = realloc(v->files, (size_t)cap * sizeof *n);
		if (!n)
			return SQLITE_NOMEM;
		v->files = n;
		v->capfiles = cap;
	}
	if (v->nfiles >= (1 << 21) || !(v->files[v->nfiles] = strdup(file)))
		return SQLITE_NOMEM;
	c->file_id = v->nfiles++;
	return SQLITE_OK;
}

static int next_batch(fvtab *v, fcursor *c)
{
	floe_error err;
	for (;;) {
		int rc = floe_scan_next(c->scan, &c->b, &err);
		if (rc < 0)
			return vt_error(&v->base, "%s", err.msg);
		if (rc == 0) {
			c->eof = true;
			c->b = NULL;
			log_stats(v, c);
			return SQLITE_OK;
		}
		if (c->b->nrows > 0) {
			c->row = 0;
			if (c->positioned)
				return batch_positions(v, c);
			return SQLITE_OK;
		}
	}
}

/* Read partition `part` of the grouped rows (reopening the scan for every
 * pass but the first), growing the partition count when they do not fit
 * the budget; then the cursor stands on the first row. */
static int group_pass(fvtab *v, fcursor *c, int part)
{
	floe_error err;
	floe_table *t;
	for (;;) {
		if (!c->scan) {
			if (sq_table_get(v->s, v->ident, false, &t, &err) ||
			    floe_scan_open(&c->scan, t, &c->opt, &err)) {
				c->scan = NULL;
				return vt_error(&v->base, "%s", err.msg);
			}
		}
		if (c->grp)
			sq_group_clear(c->grp);
		bool over = false;
		const floe_batch *b;
		int rc;
		while ((rc = floe_scan_next(c->scan, &b, &err)) == 1) {
			if (b->nrows == 0)
				continue;
			size_t budget = v->s->opt.group_bytes > 0 ? (size_t)v->s->opt.group_bytes
			                                          : GROUP_BUDGET;
			if (!c->grp && sq_group_new(&c->grp, b, c->gkeys, c->gdesc, c->ngkeys, budget))
				return SQLITE_NOMEM;
			int r = sq_group_add(c->grp, b, part, c->nparts);
			if (r < 0)
				return SQLITE_NOMEM;
			/* past the budget on the first pass: split into ranges of the
			 * first key, picked from the rows held, one range per pass;
			 * a range still larger than the budget is held whole */
			if (r == 1 && c->nparts == 1) {
				if (sq_group_split(c->grp, GROUP_PASSES))
					return SQLITE_NOMEM;
				over = true;
				break;
			}
		}
		if (rc < 0)
			return vt_error(&v->base, "%s", err.msg);
		log_stats(v, c);
		floe_scan_free(c->scan);
		c->scan = NULL;
		if (over) {
			c->nparts = GROUP_PASSES;
			part = 0;
			continue;
		}
		break;
	}
	c->part = part;
	c->gpos = 0;
	if (c->grp && sq_group_finish(c->grp))
		return SQLITE_NOMEM;
	if (c->grp && sq_group_rows(c->grp) > 0)
		return SQLITE_OK;
	if (part + 1 < c->nparts)
		return SQLITE_DONE; /* an empty partition: the caller goes on */
	c->eof = true;
	return SQLITE_OK;
}

/* group_pass over the partitions from `part` until one has rows. */
static int group_next(fvtab *v, fcursor *c, int part)
{
	int rc;
	while ((rc = group_pass(v, c, part)) == SQLITE_DONE)
		part++;
	return rc;
}

static int vt_filter(sqlite3_vtab_cursor *cur, int idx_num, const char *idx_str, int argc,
                     sqlite3_value **argv)
{
	fcursor *c = (fcursor *)cur;
	fvtab *v = (fvtab *)cur->pVtab;
	(void)idx_num;
	/* SQLite filters a cursor again for each row of an outer loop: the
	 * next scan may take over the file this one has open */
	floe_scan *prev = c->grp ? NULL : c->scan;
	if (prev) {
		log_stats(v, c);
		c->scan = NULL;
	}
	cursor_reset(v, c);
	c->prev = prev;
	c->rowid = 0;
	const floe_schema *sc = v->schema;
	int ncols = sc->nfields;
	unsigned long long used = 0;
	const char *p = idx_str;
	if (p && *p == 'U') {
		used = strtoull(p + 1, NULL, 16);
		p = strchr(p, ';');
		p = p ? p + 1 : "";
	}
	int gcols[16], ngcols = 0;
	bool gdesc[16];
	if (p && *p == 'K') {
		for (p++; *p && *p != ';' && ngcols < 16; ) {
			gcols[ngcols] = atoi(p);
			while (*p && *p != ',' && *p != ';' && *p != 'a' && *p != 'd')
				p++;
			gdesc[ngcols++] = *p == 'd';
			while (*p && *p != ',' && *p != ';')
				p++;
			if (*p == ',')
				p++;
		}
		if (*p == ';')
			p++;
	}
	sqlite3_str *w = sqlite3_str_new(NULL);
	floe_snapshot_sel sel = { .kind = FLOE_SNAPSHOT_CURRENT };
	int64_t limit = -1, offset = 0;
	int nterms = 0, rc = SQLITE_OK;
	for (int a = 0; a < argc && p && *p; a++) {
		char op = *p;
		int col = atoi(p + 1);
		p = strchr(p, ';');
		p = p ? p + 1 : "";
		sqlite3_value *val = argv[a];
		if (op == OP_ASOF) {
			if ((rc = pick_snapshot(&sel, val, v)))
				break;
			continue;
		}
		if (op == OP_LIMIT || op == OP_OFFSET) {
			if (sqlite3_value_type(val) == SQLITE_INTEGER) {
				if (op == OP_LIMIT)
					limit = sqlite3_value_int64(val);
				else
					offset = sqlite3_value_int64(val);
			}
			continue;
		}
		if (col < 0 || col >= ncols)
			continue;
		const floe_field *f = &sc->fields[col];
		sqlite3_str *term = sqlite3_str_new(NULL);
		bool ok = true;
		switch (op) {
		case OP_NULL:
		case OP_NOTNULL:
			/* SQLite reads a NaN as NULL; floe's IS NULL would drop it */
			ok = !(op == OP_NULL && f->type.id == FLOE_TYPE_DOUBLE);
			put_col(term, f->name);
			sqlite3_str_appendall(term, op == OP_NULL ? " IS NULL" : " IS NOT NULL");
			break;
		case OP_IN: {
			put_col(term, f->name);
			sqlite3_str_appendall(term, " IN (");
			sqlite3_value *x;
			int k = 0, r;
			for (r = sqlite3_vtab_in_first(val, &x); ok && r == SQLITE_OK && x;
			     r = sqlite3_vtab_in_next(val, &x)) {
				if (sqlite3_value_type(x) == SQLITE_NULL)
					continue; /* never equal to anything */
				if (k++)
					sqlite3_str_appendall(term, ", ");
				ok = put_literal(term, &f->type, x);
			}
			ok = ok && k > 0 && (r == SQLITE_OK || r == SQLITE_DONE);
			sqlite3_str_appendall(term, ")");
			break;
		}
		case OP_LIKE:
		case OP_GLOB: {
			const char *pat = (const char *)sqlite3_value_text(val);
			ok = sqlite3_value_type(val) == SQLITE_TEXT && pat &&
			     put_prefix_range(term, f->name, pat, op == OP_GLOB);
			break;
		}
		default:
			ok = sq_compare_term(term, f, op, val, NULL);
			break;
		}
		if (sqlite3_str_errcode(term) != SQLITE_OK) {
			sqlite3_free(sqlite3_str_finish(term));
			rc = SQLITE_NOMEM;
			break;
		}
		char *t = sqlite3_str_finish(term); /* NULL when empty */
		ok = ok && t;
		if (ok) {
			if (nterms++)
				sqlite3_str_appendall(w, " AND ");
			sqlite3_str_appendf(w, "(%s)", t);
		}
		sqlite3_free(t);
	}
	if (sqlite3_str_errcode(w) != SQLITE_OK && rc == SQLITE_OK)
		rc = SQLITE_NOMEM;
	char *where = sqlite3_str_finish(w);
	if (rc == SQLITE_OK && !where && !(where = sqlite3_mprintf("%s", "")))
		rc = SQLITE_NOMEM;
	if (rc != SQLITE_OK) {
		sqlite3_free(where);
		return rc;
	}
	/* the columns to decode: those the statement uses, else (count(*)) one */
	const char **cols = sqlite3_malloc((ncols + 1) * (int)sizeof *cols);
	c->scan_col = sqlite3_malloc((ncols + 1) * (int)sizeof *c->scan_col);
	if (!cols || !c->scan_col) {
		sqlite3_free(cols);
		sqlite3_free(where);
		return SQLITE_NOMEM;
	}
	int nsel = 0, narrow = -1;
	for (int i = 0; i < ncols; i++) {
		bool u = i >= 63 ? (used >> 63) & 1 : (used >> i) & 1;
		c->scan_col[i] = -1;
		if (u) {
			c->scan_col[i] = nsel;
			cols[nsel++] = sc->fields[i].name;
		}
		int wd = floe_type_value_width(&sc->fields[i].type);
		if (wd > 0 && (narrow < 0 || wd < floe_type_value_width(&sc->fields[narrow].type)))
			narrow = i;
	}
	if (nsel == 0 && ncols > 0)
		cols[nsel++] = sc->fields[narrow >= 0 ? narrow : 0].name;
	floe_error err;
	floe_table *t;
	if (sq_table_get(v->s, v->ident, true, &t, &err)) {
		sqlite3_free(cols);
		sqlite3_free(where);
		return vt_error(&v->base, "%s", err.msg);
	}
	sq_table_scans(v->s, v->ident, +1);
	c->counted = true;
	if (sel.kind == FLOE_SNAPSHOT_REF && !(sel.ref = c->ref = strdup(sel.ref))) {
		sqlite3_free(cols);
		sqlite3_free(where);
		return SQLITE_NOMEM;
	}
	c->cols = cols;
	c->where = where;
	floe_scan_options *o = &c->opt;
	floe_scan_options_init(o);
	o->columns = cols;
	o->ncolumns = nsel;
	o->where = *where ? where : NULL;
	o->snapshot = sel;
	/* LIMIT does not size the batches: SQLite passes it even when it then
	 * sorts or re-checks every row, and small batches cost more than they
	 * save */
	(void)offset;
	c->ngkeys = 0;
	for (int k = 0; k < ngcols; k++)
		if (gcols[k] >= 0 && gcols[k] < ncols && c->scan_col[gcols[k]] >= 0) {
			c->gdesc[c->ngkeys] = gdesc[k];
			c->gkeys[c->ngkeys++] = c->scan_col[gcols[k]];
		}
	if (c->ngkeys != ngcols)
		return vt_error(&v->base, "%s", "internal: a GROUP BY column is not read");
	/* writable: rowids name rows, for UPDATE and DELETE (not when a
	 * GROUP BY or ORDER BY is taken: those rows are never changed) */
	c->positioned = v->s->opt.writable && sel.kind == FLOE_SNAPSHOT_CURRENT && ngcols == 0;
	c->file_id = -1;
	o->positions = c->positioned;
	c->log = sq_scan_log(v->s, v->ident, where, nsel, limit);
	o->reuse = c->prev;
	rc = floe_scan_open(&c->scan, t, o, &err);
	o->reuse = NULL;
	floe_scan_free(c->prev);
	c->prev = NULL;
	if (rc) {
		c->scan = NULL;
		return vt_error(&v->base, "%s", err.msg);
	}
	floe_scan_stats st;
	floe_scan_get_stats(c->scan, &st);
	c->snapshot_id = st.snapshot_id;
	if (c->positioned && v->ndels == 0)
		v->base_snapshot = st.snapshot_id;
	c->eof = false;
	if (c->ngkeys > 0) {
		c->nparts = 1;
		return group_next(v, c, 0);
	}
	return next_batch(v, c);
}

static int vt_next(sqlite3_vtab_cursor *cur)
{
	fcursor *c = (fcursor *)cur;
	c->rowid++;
	if (c->ngkeys > 0) {
		if (++c->gpos < sq_group_rows(c->grp))
			return SQLITE_OK;
		if (c->part + 1 < c->nparts)
			return group_next((fvtab *)cur->pVtab, c, c->part + 1);
		c->eof = true;
		return SQLITE_OK;
	}
	if (++c->row < c->b->nrows)
		return SQLITE_OK;
	return next_batch((fvtab *)cur->pVtab, c);
}

static int vt_eof(sqlite3_vtab_cursor *cur)
{
	return ((fcursor *)cur)->eof;
}

static int vt_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i)
{
	fcursor *c = (fcursor *)cur;
	fvtab *v = (fvtab *)cur->pVtab;
	if (i == v->schema->nfields) {
		if (c->snapshot_id >= 0)
			sqlite3_result_int64(ctx, c->snapshot_id);
		return SQLITE_OK;
	}
	int k = i >= 0 && i < v->schema->nfields ? c->scan_col[i] : -1;
	if (k >= 0 && c->ngkeys > 0 && c->grp) {
		const floe_column *col = sq_group_column(c->grp, k);
		sq_result_value(ctx, col, &col->type, sq_group_row(c->grp, c->gpos));
		return SQLITE_OK;
	}
	if (k < 0 || !c->b) {
		sqlite3_result_null(ctx);
		return SQLITE_OK;
	}
	sq_result_value(ctx, &c->b->cols[k], &c->b->cols[k].type, c->row);
	return SQLITE_OK;
}

static int vt_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out)
{
	fcursor *c = (fcursor *)cur;
	if (c->positioned && c->pos && c->ngkeys == 0)
		*out = (sqlite3_int64)c->file_id << 40 | c->pos[c->row];
	else
		*out = ROWID_UNPLACED + c->rowid;
	return SQLITE_OK;
}

/* ---- writing ------------------------------------------------------------- */

/* One SQLite value as a value of column `col`, through the same text forms
 * `floe append` reads (so types convert and range-check alike); *is_null
 * for NULL. Text the value points to lives in `scratch`. */
static int parse_value(fvtab *v, int col, sqlite3_value *val, floe_value *out, bool *is_null,
                       floe_buf *scratch, floe_error *err)
{
	const floe_field *f = &v->schema->fields[col];
	char num[64];
	const char *text;
	size_t n;
	floe_buf b64 = { 0 };
	*is_null = false;
	switch (sqlite3_value_type(val)) {
	case SQLITE_NULL:
		*is_null = true;
		if (f->required)
			return floe_error_set(err, FLOE_EINVALID, "%s: column %s is not null", v->ident,
			                      f->name);
		return 0;
	case SQLITE_INTEGER:
		snprintf(num, sizeof num, "%lld", (long long)sqlite3_value_int64(val));
		text = num;
		n = strlen(num);
		break;
	case SQLITE_FLOAT:
		snprintf(num, sizeof num, "%.17g", sqlite3_value_double(val));
		text = num;
		n = strlen(num);
		break;
	case SQLITE_BLOB:
		if (f->type.id == FLOE_TYPE_BINARY || f->type.id == FLOE_TYPE_FIXED) {
			if (floe_base64_encode(&b64, sqlite3_value_blob(val),
			                       (size_t)sqlite3_value_bytes(val)))
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			text = (const char *)b64.data;
			n = b64.len;
			break;
		}
		/* a blob for another column reads as text */
		/* fall through */
	default:
		text = (const char *)sqlite3_value_text(val);
		n = (size_t)sqlite3_value_bytes(val);
		if (!text)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		break;
	}
	/* a date alone is its midnight, as in filters (date('now') is one) */
	char midnight[32];
	if (n == 10 && f->type.id >= FLOE_TYPE_TIMESTAMP && f->type.id <= FLOE_TYPE_TIMESTAMPTZ_NS &&
	    text[4] == '-' && text[7] == '-') {
		snprintf(midnight, sizeof midnight, "%.10s 00:00:00", text);
		text = midnight;
		n = strlen(midnight);
	}
	int rc = floe_text_parse(out, &f->type, text, n, scratch, err);
	if (rc) {
		char ty[64], why[200];
		snprintf(why, sizeof why, "%.190s", err->msg);
		floe_error_set(err, rc, "%s: '%.*s' is not a %s for column %s (%s)", v->ident,
		               (int)(n > 60 ? 60 : n), text, floe_type_format(&f->type, ty, sizeof ty),
		               f->name, why);
	}
	floe_buf_free(&b64);
	return rc;
}

static int vt_update(sqlite3_vtab *vt, int argc, sqlite3_value **argv, sqlite3_int64 *rowid)
{
	fvtab *v = (fvtab *)vt;
	(void)rowid;
	if (!v->s->opt.writable)
		return vt_error(vt, "%s is read-only here: open the SQL connection writable "
		                "(floe sql --writable) to INSERT, UPDATE or DELETE", v->ident);
	if (sqlite3_value_type(argv[0]) != SQLITE_NULL) {
		/* DELETE (argc 1) or UPDATE of the row argv[0] names */
		sqlite3_int64 id = sqlite3_value_int64(argv[0]);
		if (id < 0 || id >= ROWID_UNPLACED || (id >> 40) >= v->nfiles)
			return vt_error(vt, "%s: this row was not read from the current snapshot with "
			                "its position (rows read as of another snapshot cannot be "
			                "changed)", v->ident);
		if (v->ndels == v->capdels) {
			int64_t cap = v->capdels ? v->capdels * 2 : 256;
			floe_row_ref *n = realloc(v->dels, (size_t)cap * sizeof *n);
			if (!n)
				return SQLITE_NOMEM;
			v->dels = n;
			v->capdels = cap;
		}
		v->dels[v->ndels++] = (floe_row_ref){ v->files[id >> 40], id & (((int64_t)1 << 40) - 1) };
		if (argc == 1)
			return SQLITE_OK;
	}
	/* INSERT, or an UPDATE's new row */
	floe_error err;
	int ncols = v->schema->nfields;
	if (argc < ncols + 2)
		return vt_error(vt, "%s", "INSERT: too few values");
	if (!v->ins && floe_batch_builder_new(&v->ins, v->schema, &err))
		return vt_error(vt, "%s", err.msg);
	floe_value *vals = calloc((size_t)ncols + 1, sizeof *vals);
	bool *nulls = calloc((size_t)ncols + 1, sizeof *nulls);
	floe_buf *scratch = calloc((size_t)ncols + 1, sizeof *scratch);
	int rc = vals && nulls && scratch ? 0 : floe_error_set(&err, FLOE_ENOMEM, "out of memory");
	/* the whole row parses before any of it is added */
	for (int c = 0; c < ncols && !rc; c++)
		rc = parse_value(v, c, argv[2 + c], &vals[c], &nulls[c], &scratch[c], &err);
	for (int c = 0; c < ncols && !rc; c++)
		rc = nulls[c] ? floe_batch_builder_null(v->ins, c, &err)
		              : floe_text_append(v->ins, c, &v->schema->fields[c].type, &vals[c], &err);
	for (int c = 0; scratch && c < ncols; c++)
		floe_buf_free(&scratch[c]);
	free(vals);
	free(nulls);
	free(scratch);
	if (rc) {
		if (sqlite3_value_type(argv[0]) != SQLITE_NULL)
			v->ndels--; /* the UPDATE of this row did not happen */
		return vt_error(vt, "%s", err.msg);
	}
	v->inserted++;
	return SQLITE_OK;
}

static void writes_clear(fvtab *v)
{
	if (v->ins)
		floe_batch_builder_clear(v->ins);
	v->inserted = 0;
	v->ndels = 0;
}

static int vt_begin(sqlite3_vtab *vt)
{
	writes_clear((fvtab *)vt);
	return SQLITE_OK;
}

/* The transaction's changes become one commit: its INSERTed rows one
 * append (as `floe append` commits them); with rows UPDATEd or DELETEd,
 * those rows leave and the new ones arrive in one row-level commit
 * (floe_table_delete_rows, the table's write modes). */
static int vt_sync(sqlite3_vtab *vt)
{
	fvtab *v = (fvtab *)vt;
	int64_t nins = v->ins ? floe_batch_builder_rows(v->ins) : 0;
	if (nins == 0 && v->ndels == 0)
		return SQLITE_OK;
	floe_error err;
	floe_table *t;
	floe_append *a = NULL;
	int rc = sq_table_get(v->s, v->ident, true, &t, &err);
	const floe_batch *rows = nins ? floe_batch_builder_view(v->ins) : NULL;
	if (!rc && v->ndels > 0) {
		floe_delete_result res;
		rc = floe_table_delete_rows(t, v->base_snapshot, v->dels, v->ndels, rows, &res, &err);
	} else if (!rc && !(rc = floe_append_begin(&a, t, &err)) &&
	           !(rc = floe_append_batch(a, rows, &err)) &&
	           !(rc = floe_append_set_summary(a, "floe.sql.insert", "true", &err))) {
		rc = floe_append_commit(a, NULL, &err);
	} else if (a)
		floe_append_abort(a);
	writes_clear(v);
	return rc ? vt_error(vt, "%s", err.msg) : SQLITE_OK;
}

static int vt_commit(sqlite3_vtab *vt)
{
	(void)vt;
	return SQLITE_OK;
}

static int vt_rollback(sqlite3_vtab *vt)
{
	writes_clear((fvtab *)vt);
	return SQLITE_OK;
}

static const sqlite3_module floe_module = {
	.iVersion = 2,
	.xCreate = vt_connect,
	.xConnect = vt_connect,
	.xBestIndex = vt_best_index,
	.xDisconnect = vt_disconnect,
	.xDestroy = vt_disconnect,
	.xOpen = vt_open,
	.xClose = vt_close,
	.xFilter = vt_filter,
	.xNext = vt_next,
	.xEof = vt_eof,
	.xColumn = vt_column,
	.xRowid = vt_rowid,
	.xUpdate = vt_update,
	.xBegin = vt_begin,
	.xSync = vt_sync,
	.xCommit = vt_commit,
	.xRollback = vt_rollback,
};

int sq_vtab_register(floe_sql *s, floe_error *err)
{
	if (sqlite3_create_module_v2(s->db, "floe", &floe_module, s, NULL) != SQLITE_OK)
		return floe_error_set(err, FLOE_EIO, "cannot register the floe SQL module: %s",
		                      sqlite3_errmsg(s->db));
	return 0;
}
