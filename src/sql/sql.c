/* sql/sql.c - the SQL connection: an in-memory SQLite database in which
 * every catalog table is a virtual table (NS.TABLE through a schema per
 * namespace, and "NS.TABLE" in main) with its metadata tables; the
 * per-connection cache of open tables; the scan log; and how floe values
 * read in SQLite. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "floe/floe.h"
#include "sql/sql_int.h"
#include "util/format.h"
#include "util/text.h"

int sq_vtab_register(floe_sql *s, floe_error *err);

void floe_sql_options_init(floe_sql_options *o)
{
	memset(o, 0, sizeof *o);
}

sqlite3 *floe_sql_db(floe_sql *s)
{
	return s->db;
}

/* ---- values ---------------------------------------------------------------- */

static void civil_time(char *out, size_t cap, int64_t secs_of_day, int64_t frac, int digits)
{
	snprintf(out, cap, "%02d:%02d:%02d.%0*" PRId64, (int)(secs_of_day / 3600),
	         (int)(secs_of_day / 60 % 60), (int)(secs_of_day % 60), digits, frac);
}

static void put_date(char *out, size_t cap, int64_t days)
{
	int64_t y;
	unsigned m, d;
	floe_civil_from_days(days, &y, &m, &d);
	if (y >= 0 && y <= 9999)
		snprintf(out, cap, "%04d-%02u-%02u", (int)y, m, d);
	else
		snprintf(out, cap, "%+05" PRId64 "-%02u-%02u", y, m, d);
}

static void put_digits(char *p, int64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* A timestamp as text: the common case (years 0..9999) by hand, the date
 * part kept from the previous call of this thread (rows of a scan share
 * few days); other years through put_date. */
static void put_timestamp(char *out, int64_t v, int64_t per_sec, int digits)
{
	static _Thread_local int64_t cached_day = INT64_MIN;
	static _Thread_local char cached_date[11];
	int64_t secs = v / per_sec, frac = v % per_sec;
	if (frac < 0) {
		frac += per_sec;
		secs--;
	}
	int64_t days = secs / 86400, sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	if (days != cached_day) {
		int64_t y;
		unsigned m, d;
		floe_civil_from_days(days, &y, &m, &d);
		if (y < 0 || y > 9999) {
			put_date(out, 24, days);
			size_t n = strlen(out);
			out[n] = ' ';
			civil_time(out + n + 1, 48 - n - 1, sod, frac, digits);
			return;
		}
		put_digits(cached_date, y, 4);
		cached_date[4] = '-';
		put_digits(cached_date + 5, m, 2);
		cached_date[7] = '-';
		put_digits(cached_date + 8, d, 2);
		cached_day = days;
	}
	memcpy(out, cached_date, 10);
	out[10] = ' ';
	put_digits(out + 11, sod / 3600, 2);
	out[13] = ':';
	put_digits(out + 14, sod / 60 % 60, 2);
	out[16] = ':';
	put_digits(out + 17, sod % 60, 2);
	out[19] = '.';
	put_digits(out + 20, frac, digits);
	out[20 + digits] = '\0';
}

void sq_format_timestamp_us(char *out, int64_t micros)
{
	put_timestamp(out, micros, 1000000, 6);
}

void sq_format_timestamp_ns(char *out, int64_t nanos)
{
	put_timestamp(out, nanos, 1000000000, 9);
}

void sq_format_date(char *out, int32_t days)
{
	put_date(out, 48, days);
}

void sq_format_time_us(char *out, int64_t micros)
{
	civil_time(out, 48, micros / 1000000, micros % 1000000, 6);
}

const char *sq_decl_type(const floe_type *type)
{
	switch (type->id) {
	case FLOE_TYPE_BOOLEAN:
	case FLOE_TYPE_INT:
	case FLOE_TYPE_LONG:
		return "INTEGER";
	case FLOE_TYPE_DECIMAL:
		return type->scale == 0 && type->precision <= 18 ? "INTEGER" : "REAL";
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
		return "REAL";
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_FIXED:
		return "BLOB";
	default:
		return "TEXT";
	}
}

static double pow10i(int k)
{
	double p = 1;
	while (k-- > 0)
		p *= 10;
	return p;
}

void sq_result_value(sqlite3_context *ctx, const floe_column *col, const floe_type *type,
                     int64_t row)
{
	if (!floe_column_is_valid(col, row)) {
		sqlite3_result_null(ctx);
		return;
	}
	char buf[64];
	switch (type->id) {
	case FLOE_TYPE_BOOLEAN:
		sqlite3_result_int(ctx, ((const uint8_t *)col->values)[row] != 0);
		return;
	case FLOE_TYPE_INT:
		sqlite3_result_int64(ctx, ((const int32_t *)col->values)[row]);
		return;
	case FLOE_TYPE_LONG: {
		int64_t v = ((const int64_t *)col->values)[row];
		if (type->is_unsigned && v < 0)
			sqlite3_result_double(ctx, (double)(uint64_t)v);
		else
			sqlite3_result_int64(ctx, v);
		return;
	}
	case FLOE_TYPE_FLOAT:
		sqlite3_result_double(ctx, ((const float *)col->values)[row]);
		return;
	case FLOE_TYPE_DOUBLE:
		sqlite3_result_double(ctx, ((const double *)col->values)[row]);
		return;
	case FLOE_TYPE_DECIMAL:
		if (type->precision <= 18) {
			int64_t v = ((const int64_t *)col->values)[row];
			if (type->scale == 0)
				sqlite3_result_int64(ctx, v);
			else
				sqlite3_result_double(ctx, (double)v / pow10i(type->scale));
		} else {
			const uint8_t *p = (const uint8_t *)col->values + row * 16;
			__int128 v = (p[0] & 0x80) ? -1 : 0;
			for (int i = 0; i < 16; i++)
				v = (__int128)(((unsigned __int128)v << 8) | p[i]);
			sqlite3_result_double(ctx, (double)v / pow10i(type->scale));
		}
		return;
	case FLOE_TYPE_DATE:
		sq_format_date(buf, ((const int32_t *)col->values)[row]);
		break;
	case FLOE_TYPE_TIME:
		sq_format_time_us(buf, ((const int64_t *)col->values)[row]);
		break;
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
		sq_format_timestamp_us(buf, ((const int64_t *)col->values)[row]);
		break;
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		sq_format_timestamp_ns(buf, ((const int64_t *)col->values)[row]);
		break;
	case FLOE_TYPE_UUID: {
		const uint8_t *p = (const uint8_t *)col->values + row * 16;
		int n = 0;
		for (int i = 0; i < 16; i++) {
			if (i == 4 || i == 6 || i == 8 || i == 10)
				buf[n++] = '-';
			n += snprintf(buf + n, 3, "%02x", p[i]);
		}
		break;
	}
	case FLOE_TYPE_FIXED:
		sqlite3_result_blob(ctx, (const uint8_t *)col->values + row * type->width,
		                    type->width, SQLITE_TRANSIENT);
		return;
	case FLOE_TYPE_BINARY:
		sqlite3_result_blob64(ctx, col->data + col->offsets[row],
		                      (sqlite3_uint64)(col->offsets[row + 1] - col->offsets[row]),
		                      SQLITE_TRANSIENT);
		return;
	default: /* STRING, JSON */
		sqlite3_result_text64(ctx, (const char *)col->data + col->offsets[row],
		                      (sqlite3_uint64)(col->offsets[row + 1] - col->offsets[row]),
		                      SQLITE_TRANSIENT, SQLITE_UTF8);
		return;
	}
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/* ---- open tables ----------------------------------------------------------- */

int sq_table_get(floe_sql *s, const char *ident, bool fresh, floe_table **out, floe_error *err)
{
	for (int i = 0; i < s->ntables; i++) {
		sq_table *e = &s->tables[i];
		if (strcmp(e->ident, ident) != 0)
			continue;
		/* untraced (no statement known to run): refresh as before */
		bool pinned = s->nrunning > 0 && e->epoch == s->epoch;
		if (fresh && e->open_scans == 0 && !pinned) {
			e->epoch = s->epoch;
			int rc = floe_table_refresh(e->t, err);
			if (rc == FLOE_ENOTFOUND)
				return floe_error_set(err, rc, "no table %s in the catalog (floe_sql_refresh "
				                      "or .refresh picks up catalog changes)", ident);
			if (rc)
				return rc;
		}
		*out = e->t;
		return 0;
	}
	if (s->ntables == s->captables) {
		int cap = s->captables ? s->captables * 2 : 16;
		sq_table *n = realloc(s->tables, (size_t)cap * sizeof *n);
		if (!n)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		s->tables = n;
		s->captables = cap;
	}
	floe_table *t;
	int rc = floe_table_open(&t, s->cat, ident, err);
	if (rc == FLOE_ENOTFOUND)
		return floe_error_set(err, rc, "no table %s in the catalog (floe_sql_refresh or "
		                      ".refresh picks up catalog changes)", ident);
	if (rc)
		return rc;
	int64_t mc = s->opt.manifest_cache_bytes;
	floe_table_cache_manifests(t, mc == 0 ? (int64_t)64 << 20 : mc < 0 ? 0 : mc);
	char *id = strdup(ident);
	if (!id) {
		floe_table_close(t);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	s->tables[s->ntables++] = (sq_table){ id, t, 0, s->epoch };
	*out = t;
	return 0;
}

void sq_table_scans(floe_sql *s, const char *ident, int delta)
{
	for (int i = 0; i < s->ntables; i++)
		if (strcmp(s->tables[i].ident, ident) == 0) {
			s->tables[i].open_scans += delta;
			return;
		}
}

/* ---- attaching the catalog ------------------------------------------------- */

static int exec(floe_sql *s, const char *sql, floe_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = floe_error_set(err, FLOE_EIO, "SQL setup: %s (in: %.200s)",
		                        msg ? msg : sqlite3_errmsg(s->db), sql);
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

static bool is_attached(const floe_sql *s, const char *ns)
{
	for (int i = 0; i < s->nattached; i++)
		if (strcmp(s->attached[i], ns) == 0)
			return true;
	return false;
}

/* A namespace reads as a schema when SQLite allows another attachment and
 * the name is not one of SQLite's own. */
static int attach_namespace(floe_sql *s, const char *ns, floe_error *err)
{
	if (is_attached(s, ns) || strchr(ns, '.') || sqlite3_stricmp(ns, "main") == 0 ||
	    sqlite3_stricmp(ns, "temp") == 0)
		return 0;
	if (s->nattached + 1 >= sqlite3_limit(s->db, SQLITE_LIMIT_ATTACHED, -1))
		return 0; /* reachable through "ns.table" only */
	char **n = realloc(s->attached, (size_t)(s->nattached + 1) * sizeof *n);
	if (!n)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	s->attached = n;
	char *sql = sqlite3_mprintf("ATTACH ':memory:' AS \"%w\"", ns);
	if (!sql || !(n[s->nattached] = strdup(ns))) {
		sqlite3_free(sql);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	int rc = exec(s, sql, err);
	sqlite3_free(sql);
	if (rc) {
		free(n[s->nattached]);
		return rc;
	}
	s->nattached++;
	return 0;
}

/* Create (or, with `drop`, remove) the virtual tables of `ident`. */
static int table_vtabs(floe_sql *s, const char *ident, bool drop, floe_error *err)
{
	const char *dot = strrchr(ident, '.');
	char ns[256];
	snprintf(ns, sizeof ns, "%.*s", dot ? (int)(dot - ident) : 0, ident);
	const char *name = dot ? dot + 1 : ident;
	bool schema = dot && is_attached(s, ns);
	for (int k = -1; k < 0 || sq_meta_kinds[k]; k++) {
		char suffix[32] = "";
		if (k >= 0)
			snprintf(suffix, sizeof suffix, "$%s", sq_meta_kinds[k]);
		const char *mod = k >= 0 ? "floe_meta" : "floe";
		const char *kind = k >= 0 ? sq_meta_kinds[k] : "data";
		for (int form = 0; form < 2; form++) {
			char *sql;
			if (form == 1 && !schema)
				continue;
			if (drop)
				sql = form == 0 ? sqlite3_mprintf("DROP TABLE IF EXISTS main.\"%w%w\"", ident,
				                                  suffix)
				                : sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\".\"%w%w\"", ns,
				                                  name, suffix);
			else
				sql = form == 0 ? sqlite3_mprintf("CREATE VIRTUAL TABLE main.\"%w%w\" USING "
				                                  "%s(%Q, %Q)", ident, suffix, mod, ident, kind)
				                : sqlite3_mprintf("CREATE VIRTUAL TABLE \"%w\".\"%w%w\" USING "
				                                  "%s(%Q, %Q)", ns, name, suffix, mod, ident,
				                                  kind);
			if (!sql)
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			int rc = exec(s, sql, err);
			sqlite3_free(sql);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* The floe tables now present as virtual tables: the names in main that
 * have no '$'. */
static int present_tables(floe_sql *s, char ***out, int *n, floe_error *err)
{
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT name FROM main.sqlite_schema WHERE type = 'table' "
	                       "AND sql LIKE 'CREATE VIRTUAL TABLE%USING floe(%' ORDER BY name",
	                       -1, &st, NULL) != SQLITE_OK)
		return floe_error_set(err, FLOE_EIO, "SQL setup: %s", sqlite3_errmsg(s->db));
	int rc = 0, cap = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			char **g = realloc(*out, (size_t)cap * sizeof *g);
			if (!g) {
				rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
				break;
			}
			*out = g;
		}
		if (!((*out)[*n] = strdup((const char *)sqlite3_column_text(st, 0)))) {
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
			break;
		}
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc;
}

static bool in_list(char **list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* Forget the cached table `ident` (dropped or renamed in the catalog). */
static void uncache(floe_sql *s, const char *ident)
{
	for (int i = 0; i < s->ntables; i++)
		if (strcmp(s->tables[i].ident, ident) == 0) {
			floe_table_close(s->tables[i].t);
			free(s->tables[i].ident);
			s->tables[i] = s->tables[--s->ntables];
			return;
		}
}

/* Names and types of the columns, to see whether a schema changed. */
static uint64_t schema_sig(const floe_schema *sc)
{
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < sc->nfields; i++) {
		const floe_field *f = &sc->fields[i];
		for (const char *p = f->name; *p; p++)
			h = (h ^ (uint8_t)*p) * 1099511628211ull;
		h = (h ^ (uint64_t)(f->type.id * 131 + f->type.scale * 7 + f->type.precision)) *
		    1099511628211ull;
	}
	return h;
}

int floe_sql_refresh(floe_sql *s, floe_error *err)
{
	char **nss = NULL, **present = NULL;
	size_t nns = 0;
	int npresent = 0;
	int rc = floe_catalog_list_namespaces(s->cat, &nss, &nns, err);
	if (rc)
		return rc;
	if ((rc = present_tables(s, &present, &npresent, err)))
		goto out;
	char **all = NULL;
	size_t nall = 0;
	for (size_t i = 0; i < nns && !rc; i++) {
		char **idents = NULL;
		size_t nid = 0;
		if ((rc = floe_catalog_list_tables(s->cat, nss[i], &idents, &nid, err)))
			break;
		if (nid && !(rc = attach_namespace(s, nss[i], err))) {
			char **g = realloc(all, (nall + nid) * sizeof *g);
			if (!g)
				rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
			else {
				all = g;
				for (size_t j = 0; j < nid; j++)
					all[nall++] = idents[j];
				free(idents);
				idents = NULL;
				nid = 0;
			}
		}
		floe_catalog_free_list(idents, nid);
	}
	/* gone from the catalog: drop; new: create. A table whose schema
	 * changed is recreated so its columns are the current ones. */
	for (int i = 0; i < npresent && !rc; i++) {
		bool keep = in_list(all, nall, present[i]);
		for (int c = 0; keep && c < s->ntables; c++)
			if (strcmp(s->tables[c].ident, present[i]) == 0) {
				floe_table *t = s->tables[c].t;
				uint64_t before = schema_sig(floe_table_schema(t));
				if ((rc = floe_table_refresh(t, err)))
					break;
				keep = schema_sig(floe_table_schema(t)) == before;
			}
		if (!rc && !keep) {
			rc = table_vtabs(s, present[i], true, err);
			uncache(s, present[i]);
		}
		if (!keep)
			present[i][0] = '\0'; /* to be created again if still there */
	}
	for (size_t i = 0; i < nall && !rc; i++)
		if (!in_list(present, (size_t)npresent, all[i]))
			rc = table_vtabs(s, all[i], false, err);
	floe_catalog_free_list(all, nall);
out:
	floe_catalog_free_list(nss, nns);
	for (int i = 0; i < npresent; i++)
		free(present[i]);
	free(present);
	return rc;
}

/* SQLITE_TRACE_STMT comes when a statement starts (and again for each
 * trigger program it runs), SQLITE_TRACE_PROFILE when it ends or is reset. */
static int on_trace(unsigned type, void *ctx, void *p, void *x)
{
	floe_sql *s = ctx;
	(void)x;
	int i;
	for (i = 0; i < s->nrunning && s->running[i] != p; i++)
		;
	if (type == SQLITE_TRACE_STMT && i == s->nrunning && s->nrunning < SQ_MAX_RUNNING) {
		if (s->nrunning == 0)
			s->epoch++;
		s->running[s->nrunning++] = p;
	} else if (type == SQLITE_TRACE_PROFILE && i < s->nrunning) {
		s->running[i] = s->running[--s->nrunning];
	}
	return 0;
}

int floe_sql_open(floe_sql **out, floe_catalog *cat, const floe_sql_options *o, floe_error *err)
{
	*out = NULL;
	floe_sql *s = calloc(1, sizeof *s);
	if (!s)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	s->cat = cat;
	if (o)
		s->opt = *o;
	int rc;
	if (sqlite3_open_v2(":memory:", &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = floe_error_set(err, FLOE_EIO, "cannot open an SQLite connection: %s",
		                    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_trace_v2(s->db, SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE, on_trace, s);
	if ((rc = sq_vtab_register(s, err)) || (rc = sq_meta_register(s, err)) ||
	    (rc = sq_agg_register(s, err)) ||
	    (rc = floe_sql_refresh(s, err)))
		goto fail;
	*out = s;
	return 0;
fail:
	floe_sql_close(s);
	return rc;
}

/* ---- the scan log ---------------------------------------------------------- */

static char *keep_text(floe_sql *s, const char *t)
{
	if (s->ntext == s->captext) {
		int cap = s->captext ? s->captext * 2 : 16;
		char **n = realloc(s->scan_text, (size_t)cap * sizeof *n);
		if (!n)
			return NULL;
		s->scan_text = n;
		s->captext = cap;
	}
	char *d = strdup(t);
	if (d)
		s->scan_text[s->ntext++] = d;
	return d;
}

int sq_scan_log(floe_sql *s, const char *ident, const char *where, int ncols, int64_t limit)
{
	if (s->nscans == s->capscans) {
		int cap = s->capscans ? s->capscans * 2 : 16;
		floe_sql_scan_info *n = realloc(s->scans, (size_t)cap * sizeof *n);
		if (!n)
			return -1;
		s->scans = n;
		s->capscans = cap;
	}
	floe_sql_scan_info *e = &s->scans[s->nscans];
	memset(e, 0, sizeof *e);
	e->table = keep_text(s, ident);
	e->where = keep_text(s, where);
	if (!e->table || !e->where)
		return -1;
	e->ncolumns = ncols;
	e->limit = limit;
	e->stats.snapshot_id = -1;
	return s->nscans++;
}

void sq_scan_log_stats(floe_sql *s, int idx, const floe_scan *scan)
{
	if (idx >= 0 && idx < s->nscans)
		floe_scan_get_stats(scan, &s->scans[idx].stats);
}

void floe_sql_scans(floe_sql *s, const floe_sql_scan_info **out, int *n)
{
	*out = s->scans;
	*n = s->nscans;
}

void floe_sql_reset_scans(floe_sql *s)
{
	for (int i = 0; i < s->ntext; i++)
		free(s->scan_text[i]);
	s->ntext = 0;
	s->nscans = 0;
}

void floe_sql_close(floe_sql *s)
{
	if (!s)
		return;
	if (s->db)
		sqlite3_close_v2(s->db); /* disconnects the virtual tables first */
	for (int i = 0; i < s->ntables; i++) {
		floe_table_close(s->tables[i].t);
		free(s->tables[i].ident);
	}
	free(s->tables);
	for (int i = 0; i < s->nattached; i++)
		free(s->attached[i]);
	free(s->attached);
	floe_sql_reset_scans(s);
	free(s->scans);
	free(s->scan_text);
	for (int i = 0; i < s->nplans; i++)
		sq_plan_free(s->plans[i]);
	free(s->plans);
	free(s);
}

/* ---- statements ------------------------------------------------------------- */

int floe_sql_prepare(floe_sql *s, const char *sql, int nbytes, sqlite3_stmt **out,
                     const char **tail)
{
	*out = NULL;
	int n = nbytes >= 0 ? nbytes : (int)strlen(sql);
	char *text = NULL;
	int used = 0;
	s->probe_ok = !sq_has_or(sql, n);
	if (!s->opt.no_aggregate && sq_rewrite(s, sql, n, &text, &used) == 0 && text) {
		int rc = sqlite3_prepare_v2(s->db, text, -1, out, NULL);
		sqlite3_free(text);
		if (rc == SQLITE_OK) {
			if (tail)
				*tail = sql + used;
			s->probe_ok = false;
			return rc;
		}
		/* the statement as written gives SQLite's own error */
		sqlite3_finalize(*out);
		*out = NULL;
	}
	int rc = sqlite3_prepare_v2(s->db, sql, nbytes, out, tail);
	s->probe_ok = false;
	return rc;
}
