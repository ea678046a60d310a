/* iceberg/catalog.c - the SQL catalog (floe/catalog.h): namespaces and
 * table metadata pointers in WAREHOUSE/catalog.db, laid out as Iceberg's
 * Java JdbcCatalog (schema V1) and PyIceberg's SqlCatalog lay them out.
 *
 *   iceberg_tables                        one row per table (or view)
 *     catalog_name, table_namespace, table_name   primary key
 *     metadata_location                           current metadata JSON
 *     previous_metadata_location                  the one it replaced
 *     iceberg_type                                'TABLE' ('VIEW' is not ours)
 *   iceberg_namespace_properties          one row per namespace property
 *     catalog_name, namespace, property_key       primary key
 *     property_value
 *
 * A namespace exists when it has a row in either table, itself or below it
 * (JdbcCatalog's rule). An explicitly created namespace carries the marker
 * property exists=true, as both JdbcCatalog and SqlCatalog write it. Nested
 * namespaces are stored dot-joined ("a.b"). */
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "floe/catalog.h"
#include "floe/error.h"
#include "util/fs.h"

#define DB_FILE "catalog.db"
#define BUSY_TIMEOUT_MS 30000
#define BUSY_ATTEMPTS 3 /* BEGIN IMMEDIATE tries, each waiting up to the timeout */
#define NS_MARKER_KEY "exists"
#define NS_MARKER_VALUE "true"
#define PROP_KEY_MAX 255
#define PROP_VALUE_MAX 1000

struct floe_catalog {
	sqlite3 *db;
	char *warehouse; /* absolute, no trailing slash */
	char *db_path;
	char name[256];
	bool has_type; /* iceberg_type column present (JdbcCatalog schema V1) */
};

/* The DDL of JdbcCatalog's V1 schema (column names, types and keys). */
static const char CREATE_TABLES_SQL[] =
	"CREATE TABLE IF NOT EXISTS iceberg_tables ("
	"catalog_name VARCHAR(255) NOT NULL, "
	"table_namespace VARCHAR(255) NOT NULL, "
	"table_name VARCHAR(255) NOT NULL, "
	"metadata_location VARCHAR(1000), "
	"previous_metadata_location VARCHAR(1000), "
	"iceberg_type VARCHAR(5), "
	"PRIMARY KEY (catalog_name, table_namespace, table_name))";
static const char CREATE_PROPS_SQL[] =
	"CREATE TABLE IF NOT EXISTS iceberg_namespace_properties ("
	"catalog_name VARCHAR(255) NOT NULL, "
	"namespace VARCHAR(255) NOT NULL, "
	"property_key VARCHAR(255), "
	"property_value VARCHAR(1000), "
	"PRIMARY KEY (catalog_name, namespace, property_key))";

/* ---- small SQLite helpers ---- */

static int db_fail(floe_catalog *c, floe_error *err, const char *what)
{
	return floe_error_set(err, FLOE_EIO, "%s: %s: %s", c->db_path, what, sqlite3_errmsg(c->db));
}

/* Rows visible as tables: JdbcCatalog V1 writes 'TABLE' or 'VIEW', V0 rows
 * and PyIceberg rows have NULL. */
static const char *type_filter(const floe_catalog *c)
{
	return c->has_type ? " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)" : "";
}

static int prepf(floe_catalog *c, sqlite3_stmt **st, floe_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int prepf(floe_catalog *c, sqlite3_stmt **st, floe_error *err, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	*st = NULL;
	if (n < 0 || (size_t)n >= sizeof sql)
		return floe_error_set(err, FLOE_EINVALID, "catalog: statement too long");
	if (sqlite3_prepare_v2(c->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(c, err, "prepare");
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static void rollback(floe_catalog *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Take the write lock. SQLITE_BUSY after every wait means another writer
 * held it throughout: nothing ran, so the caller may retry (FLOE_ECONFLICT). */
static int begin_write(floe_catalog *c, floe_error *err)
{
	for (int i = 0; i < BUSY_ATTEMPTS; i++) {
		int rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return db_fail(c, err, "begin");
	}
	return floe_error_set(err, FLOE_ECONFLICT, "%s: database stayed locked by another writer",
	                      c->db_path);
}

/* COMMIT; a busy COMMIT leaves the transaction open and may be retried.
 * Returns the SQLite code of the last attempt. */
static int commit_write(floe_catalog *c)
{
	int rc = SQLITE_BUSY;
	for (int i = 0; i < BUSY_ATTEMPTS; i++) {
		rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY)
			break;
	}
	return rc;
}

/* Commit for operations whose failure the caller can simply report. */
static int finish_write(floe_catalog *c, floe_error *err)
{
	int rc = commit_write(c);
	if (rc == SQLITE_OK)
		return 0;
	int code = db_fail(c, err, "commit");
	rollback(c);
	return code;
}

static char *dup_column(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? strdup((const char *)t) : NULL;
}

/* ---- identifiers ---- */

/* One dot-free part: non-empty, no '/', '\\' or control characters. */
static int check_part(const char *what, const char *s, size_t n, const char *whole,
                      floe_error *err)
{
	if (n == 0)
		return floe_error_set(err, FLOE_EINVALID,
		                      "invalid %s \"%s\": empty name part (check for a leading, "
		                      "trailing or doubled dot)", what, whole);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '/' || ch == '\\')
			return floe_error_set(err, FLOE_EINVALID,
			                      "invalid %s \"%s\": '%c' is not allowed in names", what,
			                      whole, ch);
		if (ch < 0x20 || ch == 0x7f)
			return floe_error_set(err, FLOE_EINVALID,
			                      "invalid %s: control character 0x%02x in a name", what, ch);
	}
	return 0;
}

static int check_dotted(const char *what, const char *s, floe_error *err)
{
	size_t len = strlen(s);
	if (len == 0)
		return floe_error_set(err, FLOE_EINVALID, "invalid %s: empty", what);
	if (len > 255)
		return floe_error_set(err, FLOE_EINVALID, "invalid %s: %zu bytes, the limit is 255",
		                      what, len);
	const char *p = s;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		int rc = check_part(what, p, n, s, err);
		if (rc)
			return rc;
		if (!dot)
			return 0;
		p = dot + 1;
	}
}

int floe_ident_check_namespace(const char *ns, floe_error *err)
{
	if (!ns)
		return floe_error_set(err, FLOE_EINVALID, "invalid namespace: missing");
	return check_dotted("namespace", ns, err);
}

static int check_ident(const floe_ident *id, floe_error *err)
{
	if (!id || !memchr(id->ns, '\0', sizeof id->ns) || !memchr(id->name, '\0', sizeof id->name))
		return floe_error_set(err, FLOE_EINVALID, "invalid table identifier: not terminated");
	int rc = floe_ident_check_namespace(id->ns, err);
	if (rc)
		return rc;
	if (strchr(id->name, '.'))
		return floe_error_set(err, FLOE_EINVALID, "invalid table name \"%s\": contains a dot",
		                      id->name);
	return check_dotted("table name", id->name, err);
}

int floe_ident_parse(floe_ident *out, const char *text, floe_error *err)
{
	memset(out, 0, sizeof *out);
	if (!text || !*text)
		return floe_error_set(err, FLOE_EINVALID, "invalid table identifier: empty");
	size_t len = strlen(text);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch < 0x20 || ch == 0x7f)
			return floe_error_set(err, FLOE_EINVALID,
			                      "invalid table identifier: control character 0x%02x at "
			                      "byte %zu", ch, i);
	}
	const char *dot = strrchr(text, '.');
	if (!dot)
		return floe_error_set(err, FLOE_EINVALID,
		                      "invalid table identifier \"%s\": expected namespace.table", text);
	size_t nslen = (size_t)(dot - text), namelen = len - nslen - 1;
	if (nslen > 255 || namelen > 255)
		return floe_error_set(err, FLOE_EINVALID,
		                      "invalid table identifier \"%.64s...\": namespace and table "
		                      "name are limited to 255 bytes each", text);
	int rc = check_part("table identifier", dot + 1, namelen, text, err);
	if (rc)
		return rc;
	memcpy(out->ns, text, nslen);
	out->ns[nslen] = '\0';
	memcpy(out->name, dot + 1, namelen);
	out->name[namelen] = '\0';
	const char *p = out->ns;
	for (;;) {
		const char *d = strchr(p, '.');
		size_t n = d ? (size_t)(d - p) : strlen(p);
		if ((rc = check_part("table identifier", p, n, text, err)))
			break;
		if (!d)
			break;
		p = d + 1;
	}
	if (rc)
		memset(out, 0, sizeof *out);
	return rc;
}

/* ---- open / close ---- */

static int exec_retry(floe_catalog *c, const char *sql, floe_error *err)
{
	/* journal_mode changes can report SQLITE_BUSY without the busy
	 * handler; retry for about the busy timeout */
	for (int i = 0; i < BUSY_TIMEOUT_MS / 10; i++) {
		int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		pause_ms(10);
	}
	return db_fail(c, err, sql);
}

static int detect_type_column(floe_catalog *c, floe_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepf(c, &st, err, "PRAGMA table_info(iceberg_tables)");
	if (rc)
		return rc;
	c->has_type = false;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *col = sqlite3_column_text(st, 1);
		if (col && strcmp((const char *)col, "iceberg_type") == 0)
			c->has_type = true;
	}
	if (s != SQLITE_DONE)
		rc = db_fail(c, err, "table_info");
	sqlite3_finalize(st);
	return rc;
}

int floe_catalog_open(floe_catalog **out, const char *warehouse_dir, const char *catalog_name,
                      floe_error *err)
{
	floe_catalog *c = NULL;
	char abs[PATH_MAX];
	int rc;

	*out = NULL;
	if (!catalog_name)
		catalog_name = FLOE_CATALOG_DEFAULT_NAME;
	size_t nlen = strlen(catalog_name);
	if (nlen == 0 || nlen > 255)
		return floe_error_set(err, FLOE_EINVALID, "invalid catalog name: 1 to 255 bytes");
	for (size_t i = 0; i < nlen; i++)
		if ((unsigned char)catalog_name[i] < 0x20)
			return floe_error_set(err, FLOE_EINVALID,
			                      "invalid catalog name: control character");
	if (!warehouse_dir || !*warehouse_dir)
		return floe_error_set(err, FLOE_EINVALID, "warehouse directory missing");
	if ((rc = floe_fs_mkdirs(warehouse_dir, err)))
		return rc;
	if (!realpath(warehouse_dir, abs))
		return floe_error_set(err, FLOE_EIO, "%s: cannot resolve warehouse path",
		                      warehouse_dir);

	c = calloc(1, sizeof *c);
	if (!c)
		return floe_error_set(err, FLOE_ENOMEM, "catalog: out of memory");
	memcpy(c->name, catalog_name, nlen + 1);
	c->warehouse = strdup(abs);
	size_t plen = strlen(abs) + sizeof "/" DB_FILE;
	c->db_path = malloc(plen);
	if (!c->warehouse || !c->db_path) {
		rc = floe_error_set(err, FLOE_ENOMEM, "catalog: out of memory");
		goto done;
	}
	snprintf(c->db_path, plen, "%s%s" DB_FILE, abs, strcmp(abs, "/") == 0 ? "" : "/");

	if (sqlite3_open_v2(c->db_path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                    NULL) != SQLITE_OK) {
		rc = c->db ? db_fail(c, err, "open")
		           : floe_error_set(err, FLOE_ENOMEM, "catalog: out of memory");
		goto done;
	}
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	/* WAL: readers never block the writer; synchronous=FULL makes every
	 * committed pointer swap durable before floe_catalog_commit returns. */
	if ((rc = exec_retry(c, "PRAGMA journal_mode=WAL", err)) ||
	    (rc = exec_retry(c, "PRAGMA synchronous=FULL", err)))
		goto done;
	if ((rc = begin_write(c, err)))
		goto done;
	if (sqlite3_exec(c->db, CREATE_TABLES_SQL, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(c->db, CREATE_PROPS_SQL, NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(c, err, "create catalog tables");
		rollback(c);
		goto done;
	}
	if ((rc = finish_write(c, err)))
		goto done;
	rc = detect_type_column(c, err);
done:
	if (rc)
		floe_catalog_close(c);
	else
		*out = c;
	return rc;
}

void floe_catalog_close(floe_catalog *c)
{
	if (!c)
		return;
	if (c->db)
		sqlite3_close(c->db);
	free(c->warehouse);
	free(c->db_path);
	free(c);
}

const char *floe_catalog_warehouse(const floe_catalog *c)
{
	return c->warehouse;
}

const char *floe_catalog_name(const floe_catalog *c)
{
	return c->name;
}

/* ---- namespaces ---- */

/* "ns" as a LIKE pattern for names below it: "ns.%", with '!' escaping. */
static int below_pattern(char *buf, size_t size, const char *ns)
{
	size_t o = 0;
	for (const char *p = ns; *p; p++) {
		if (o + 4 >= size)
			return -1;
		if (*p == '!' || *p == '%' || *p == '_')
			buf[o++] = '!';
		buf[o++] = *p;
	}
	if (o + 3 > size)
		return -1;
	memcpy(buf + o, ".%", 3);
	return 0;
}

static int ns_exists(floe_catalog *c, const char *ns, floe_error *err)
{
	char pat[1024];
	sqlite3_stmt *st = NULL;
	if (below_pattern(pat, sizeof pat, ns))
		return floe_error_set(err, FLOE_EINVALID, "namespace too long");
	int rc = prepf(c, &st, err,
	               "SELECT 1 FROM iceberg_namespace_properties WHERE catalog_name = ?1 AND "
	               "(namespace = ?2 OR namespace LIKE ?3 ESCAPE '!') "
	               "UNION ALL SELECT 1 FROM iceberg_tables WHERE catalog_name = ?1 AND "
	               "(table_namespace = ?2 OR table_namespace LIKE ?3 ESCAPE '!') LIMIT 1");
	if (rc)
		return rc;
	bind_text(st, 1, c->name);
	bind_text(st, 2, ns);
	bind_text(st, 3, pat);
	int s = sqlite3_step(st);
	rc = s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : db_fail(c, err, "namespace lookup");
	sqlite3_finalize(st);
	return rc;
}

static int ns_missing(floe_error *err, const char *ns)
{
	return floe_error_set(err, FLOE_ENOTFOUND, "namespace %s does not exist", ns);
}

static int insert_marker(floe_catalog *c, const char *ns, floe_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepf(c, &st, err,
	               "INSERT INTO iceberg_namespace_properties "
	               "(catalog_name, namespace, property_key, property_value) "
	               "VALUES (?1, ?2, '" NS_MARKER_KEY "', '" NS_MARKER_VALUE "')");
	if (rc)
		return rc;
	bind_text(st, 1, c->name);
	bind_text(st, 2, ns);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(c, err, "create namespace");
	sqlite3_finalize(st);
	return rc;
}

int floe_catalog_create_namespace(floe_catalog *c, const char *ns, floe_error *err)
{
	int rc = floe_ident_check_namespace(ns, err);
	if (rc || (rc = begin_write(c, err)))
		return rc;
	rc = ns_exists(c, ns, err);
	if (rc == 1)
		rc = floe_error_set(err, FLOE_EEXISTS, "namespace %s already exists", ns);
	else if (rc == 0)
		rc = insert_marker(c, ns, err);
	if (rc == 0)
		return finish_write(c, err);
	rollback(c);
	return rc;
}

int floe_catalog_namespace_exists(floe_catalog *c, const char *ns, floe_error *err)
{
	int rc = floe_ident_check_namespace(ns, err);
	return rc ? rc : ns_exists(c, ns, err);
}

void floe_catalog_free_list(char **list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

typedef struct strlist {
	char **v;
	size_t n, cap;
} strlist;

static int strlist_push(strlist *l, const char *s, size_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		if (cap > SIZE_MAX / sizeof *l->v)
			return FLOE_ENOMEM;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return FLOE_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	char *d = malloc(len + 1);
	if (!d)
		return FLOE_ENOMEM;
	memcpy(d, s, len);
	d[len] = '\0';
	l->v[l->n++] = d;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int floe_catalog_list_namespaces(floe_catalog *c, char ***out, size_t *n, floe_error *err)
{
	strlist l = {0};
	sqlite3_stmt *st = NULL;
	*out = NULL;
	*n = 0;
	int rc = prepf(c, &st, err,
	               "SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = ?1 "
	               "UNION SELECT table_namespace FROM iceberg_tables WHERE catalog_name = ?1");
	if (rc)
		return rc;
	bind_text(st, 1, c->name);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ns = (const char *)sqlite3_column_text(st, 0);
		if (!ns)
			continue;
		/* the namespace and every parent it implies ("a.b" -> "a") */
		size_t len = strlen(ns);
		for (size_t i = 0; i <= len && rc == 0; i++)
			if (i == len || ns[i] == '.')
				rc = strlist_push(&l, ns, i);
		if (rc) {
			rc = floe_error_set(err, FLOE_ENOMEM, "catalog: out of memory");
			goto done;
		}
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(c, err, "list namespaces");
		goto done;
	}
	if (l.n > 0)
		qsort(l.v, l.n, sizeof *l.v, cmp_str);
	size_t w = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (w > 0 && strcmp(l.v[w - 1], l.v[i]) == 0)
			free(l.v[i]);
		else
			l.v[w++] = l.v[i];
	}
	l.n = w;
	*out = l.v;
	*n = l.n;
	l.v = NULL;
	l.n = 0;
done:
	sqlite3_finalize(st);
	floe_catalog_free_list(l.v, l.n);
	return rc;
}

/* The count a query returns; it may use ?1 catalog, ?2 namespace and ?3 the
 * LIKE pattern for namespaces below it (binding an unused index is harmless). */
static int count_rows(floe_catalog *c, const char *ns, const char *sql, long long *count,
                      floe_error *err)
{
	char pat[1024];
	sqlite3_stmt *st = NULL;
	if (below_pattern(pat, sizeof pat, ns))
		return floe_error_set(err, FLOE_EINVALID, "namespace too long");
	int rc = prepf(c, &st, err, "%s", sql);
	if (rc)
		return rc;
	bind_text(st, 1, c->name);
	bind_text(st, 2, ns);
	bind_text(st, 3, pat);
	if (sqlite3_step(st) == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	else
		rc = db_fail(c, err, "count");
	sqlite3_finalize(st);
	return rc;
}

int floe_catalog_drop_namespace(floe_catalog *c, const char *ns, floe_error *err)
{
	long long tables = 0, nested = 0;
	sqlite3_stmt *st = NULL;
	int rc = floe_ident_check_namespace(ns, err);
	if (rc || (rc = begin_write(c, err)))
		return rc;
	rc = ns_exists(c, ns, err);
	if (rc == 0)
		rc = ns_missing(err, ns);
	if (rc < 0)
		goto done;
	if ((rc = count_rows(c, ns,
	                     "SELECT count(*) FROM iceberg_tables WHERE catalog_name = ?1 AND "
	                     "table_namespace = ?2",
	                     &tables, err)) ||
	    (rc = count_rows(c, ns,
	                     "SELECT (SELECT count(*) FROM iceberg_tables WHERE catalog_name = ?1 "
	                     "AND table_namespace LIKE ?3 ESCAPE '!') + (SELECT count(*) FROM "
	                     "iceberg_namespace_properties WHERE catalog_name = ?1 AND namespace "
	                     "LIKE ?3 ESCAPE '!')",
	                     &nested, err)))
		goto done;
	if (tables > 0) {
		rc = floe_error_set(err, FLOE_EINVALID,
		                    "namespace %s is not empty: it holds %lld table(s)", ns, tables);
		goto done;
	}
	if (nested > 0) {
		rc = floe_error_set(err, FLOE_EINVALID,
		                    "namespace %s is not empty: it holds nested namespaces", ns);
		goto done;
	}
	if ((rc = prepf(c, &st, err,
	                "DELETE FROM iceberg_namespace_properties WHERE catalog_name = ?1 AND "
	                "namespace = ?2")))
		goto done;
	bind_text(st, 1, c->name);
	bind_text(st, 2, ns);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c, err, "drop namespace");
done:
	sqlite3_finalize(st);
	if (rc == 0)
		return finish_write(c, err);
	rollback(c);
	return rc;
}

int floe_catalog_set_property(floe_catalog *c, const char *ns, const char *key,
                              const char *value, floe_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = floe_ident_check_namespace(ns, err);
	if (rc)
		return rc;
	if (!key || !*key || strlen(key) > PROP_KEY_MAX)
		return floe_error_set(err, FLOE_EINVALID, "property key must be 1 to %d bytes",
		                      PROP_KEY_MAX);
	if (strcmp(key, NS_MARKER_KEY) == 0)
		return floe_error_set(err, FLOE_EINVALID,
		                      "property key \"%s\" is reserved for the namespace marker", key);
	if (value && strlen(value) > PROP_VALUE_MAX)
		return floe_error_set(err, FLOE_EINVALID, "property value longer than %d bytes",
		                      PROP_VALUE_MAX);
	if ((rc = begin_write(c, err)))
		return rc;
	rc = ns_exists(c, ns, err);
	if (rc == 0)
		rc = ns_missing(err, ns);
	if (rc < 0)
		goto done;
	rc = value ? prepf(c, &st, err,
	                   "INSERT INTO iceberg_namespace_properties "
	                   "(catalog_name, namespace, property_key, property_value) "
	                   "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (catalog_name, namespace, "
	                   "property_key) DO UPDATE SET property_value = excluded.property_value")
	           : prepf(c, &st, err,
	                   "DELETE FROM iceberg_namespace_properties WHERE catalog_name = ?1 AND "
	                   "namespace = ?2 AND property_key = ?3");
	if (rc)
		goto done;
	bind_text(st, 1, c->name);
	bind_text(st, 2, ns);
	bind_text(st, 3, key);
	if (value)
		bind_text(st, 4, value);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c, err, "set property");
done:
	sqlite3_finalize(st);
	if (rc == 0)
		return finish_write(c, err);
	rollback(c);
	return rc;
}

int floe_catalog_get_property(floe_catalog *c, const char *ns, const char *key, char **value,
                              floe_error *err)
{
	sqlite3_stmt *st = NULL;
	*value = NULL;
	int rc = floe_ident_check_namespace(ns, err);
	if (rc)
		return rc;
	if (!key)
		return floe_error_set(err, FLOE_EINVALID, "property key missing");
	if ((rc = prepf(c, &st, err,
	                "SELECT property_value FROM iceberg_namespace_properties WHERE "
	                "catalog_name = ?1 AND namespace = ?2 AND property_key = ?3")))
		return rc;
	bind_text(st, 1, c->name);
	bind_text(st, 2, ns);
	bind_text(st, 3, key);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*value = dup_column(st, 0);
		if (!*value)
			rc = floe_error_set(err, FLOE_ENOMEM, "catalog: out of memory");
	} else if (s == SQLITE_ROW || s == SQLITE_DONE) {
		rc = floe_error_set(err, FLOE_ENOTFOUND, "namespace %s has no property %s", ns, key);
	} else {
		rc = db_fail(c, err, "get property");
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- tables ---- */

/* 1 when a row (of any type: a view blocks the name too) holds the
 * identifier, 0 when not, or a negative code. */
static int row_exists(floe_catalog *c, const floe_ident *id, floe_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepf(c, &st, err,
	               "SELECT 1 FROM iceberg_tables WHERE catalog_name = ?1 AND "
	               "table_namespace = ?2 AND table_name = ?3");
	if (rc)
		return rc;
	bind_text(st, 1, c->name);
	bind_text(st, 2, id->ns);
	bind_text(st, 3, id->name);
	int s = sqlite3_step(st);
	rc = s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : db_fail(c, err, "table lookup");
	sqlite3_finalize(st);
	return rc;
}

static int table_missing(floe_error *err, const floe_ident *id)
{
	return floe_error_set(err, FLOE_ENOTFOUND, "table %s.%s does not exist (see floe tables)",
	                      id->ns, id->name);
}

/* Current metadata_location of a table row into *loc (malloc'ed). */
static int read_location(floe_catalog *c, const floe_ident *id, char **loc, floe_error *err)
{
	sqlite3_stmt *st = NULL;
	*loc = NULL;
	int rc = prepf(c, &st, err,
	               "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ?1 AND "
	               "table_namespace = ?2 AND table_name = ?3%s",
	               type_filter(c));
	if (rc)
		return rc;
	bind_text(st, 1, c->name);
	bind_text(st, 2, id->ns);
	bind_text(st, 3, id->name);
	int s = sqlite3_step(st);
	if (s == SQLITE_DONE) {
		rc = table_missing(err, id);
	} else if (s != SQLITE_ROW) {
		rc = db_fail(c, err, "load table");
	} else if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		rc = floe_error_set(err, FLOE_ECORRUPT,
		                    "%s: invalid row for table %s.%s: metadata_location is NULL",
		                    c->db_path, id->ns, id->name);
	} else if (!(*loc = dup_column(st, 0))) {
		rc = floe_error_set(err, FLOE_ENOMEM, "catalog: out of memory");
	}
	sqlite3_finalize(st);
	return rc;
}

static int check_location(const char *loc, floe_error *err)
{
	if (!loc || !*loc)
		return floe_error_set(err, FLOE_EINVALID, "metadata location missing");
	return 0;
}

int floe_catalog_create_table(floe_catalog *c, const floe_ident *ident,
                              const char *metadata_location, bool create_namespace,
                              floe_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = check_ident(ident, err);
	if (rc || (rc = check_location(metadata_location, err)) || (rc = begin_write(c, err)))
		return rc;
	rc = ns_exists(c, ident->ns, err);
	if (rc == 0 && create_namespace)
		rc = insert_marker(c, ident->ns, err);
	else if (rc == 0)
		rc = ns_missing(err, ident->ns);
	else if (rc == 1)
		rc = 0;
	if (rc)
		goto done;
	rc = row_exists(c, ident, err);
	if (rc == 1)
		rc = floe_error_set(err, FLOE_EEXISTS, "table %s.%s already exists", ident->ns,
		                    ident->name);
	if (rc)
		goto done;
	if ((rc = c->has_type
	            ? prepf(c, &st, err,
	                    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
	                    "metadata_location, previous_metadata_location, iceberg_type) "
	                    "VALUES (?1, ?2, ?3, ?4, NULL, 'TABLE')")
	            : prepf(c, &st, err,
	                    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
	                    "metadata_location, previous_metadata_location) "
	                    "VALUES (?1, ?2, ?3, ?4, NULL)")))
		goto done;
	bind_text(st, 1, c->name);
	bind_text(st, 2, ident->ns);
	bind_text(st, 3, ident->name);
	bind_text(st, 4, metadata_location);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c, err, "create table");
done:
	sqlite3_finalize(st);
	if (rc == 0)
		return finish_write(c, err);
	rollback(c);
	return rc;
}

int floe_catalog_load_table(floe_catalog *c, const floe_ident *ident, char **metadata_location,
                            floe_error *err)
{
	*metadata_location = NULL;
	int rc = check_ident(ident, err);
	return rc ? rc : read_location(c, ident, metadata_location, err);
}

int floe_catalog_list_tables(floe_catalog *c, const char *ns, char ***idents, size_t *n,
                             floe_error *err)
{
	strlist l = {0};
	sqlite3_stmt *st = NULL;
	int rc = 0;
	*idents = NULL;
	*n = 0;
	if (ns) {
		if ((rc = floe_ident_check_namespace(ns, err)))
			return rc;
		rc = ns_exists(c, ns, err);
		if (rc == 0)
			return ns_missing(err, ns);
		if (rc < 0)
			return rc;
	}
	if ((rc = prepf(c, &st, err,
	                "SELECT table_namespace, table_name FROM iceberg_tables WHERE "
	                "catalog_name = ?1 AND (?2 IS NULL OR table_namespace = ?2)%s "
	                "ORDER BY table_namespace, table_name",
	                type_filter(c))))
		return rc;
	bind_text(st, 1, c->name);
	if (ns)
		bind_text(st, 2, ns);
	else
		sqlite3_bind_null(st, 2);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *tns = (const char *)sqlite3_column_text(st, 0);
		const char *tn = (const char *)sqlite3_column_text(st, 1);
		if (!tns || !tn)
			continue;
		char buf[520];
		int k = snprintf(buf, sizeof buf, "%s.%s", tns, tn);
		if (k < 0 || (size_t)k >= sizeof buf)
			continue; /* not a name floe could have written */
		if (strlist_push(&l, buf, (size_t)k)) {
			rc = floe_error_set(err, FLOE_ENOMEM, "catalog: out of memory");
			goto done;
		}
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(c, err, "list tables");
		goto done;
	}
	*idents = l.v;
	*n = l.n;
	l.v = NULL;
	l.n = 0;
done:
	sqlite3_finalize(st);
	floe_catalog_free_list(l.v, l.n);
	return rc;
}

int floe_catalog_rename_table(floe_catalog *c, const floe_ident *from, const floe_ident *to,
                              floe_error *err)
{
	sqlite3_stmt *st = NULL;
	char *loc = NULL;
	int rc = check_ident(from, err);
	if (rc || (rc = check_ident(to, err)) || (rc = begin_write(c, err)))
		return rc;
	if ((rc = read_location(c, from, &loc, err)))
		goto done;
	rc = ns_exists(c, to->ns, err);
	if (rc == 0)
		rc = ns_missing(err, to->ns);
	if (rc < 0)
		goto done;
	rc = row_exists(c, to, err);
	if (rc == 1)
		rc = floe_error_set(err, FLOE_EEXISTS, "table %s.%s already exists", to->ns, to->name);
	if (rc)
		goto done;
	if ((rc = prepf(c, &st, err,
	                "UPDATE iceberg_tables SET table_namespace = ?4, table_name = ?5 WHERE "
	                "catalog_name = ?1 AND table_namespace = ?2 AND table_name = ?3%s",
	                type_filter(c))))
		goto done;
	bind_text(st, 1, c->name);
	bind_text(st, 2, from->ns);
	bind_text(st, 3, from->name);
	bind_text(st, 4, to->ns);
	bind_text(st, 5, to->name);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c, err, "rename table");
done:
	free(loc);
	sqlite3_finalize(st);
	if (rc == 0)
		return finish_write(c, err);
	rollback(c);
	return rc;
}

int floe_catalog_drop_table(floe_catalog *c, const floe_ident *ident, floe_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = check_ident(ident, err);
	if (rc || (rc = prepf(c, &st, err,
	                      "DELETE FROM iceberg_tables WHERE catalog_name = ?1 AND "
	                      "table_namespace = ?2 AND table_name = ?3%s",
	                      type_filter(c))))
		return rc;
	bind_text(st, 1, c->name);
	bind_text(st, 2, ident->ns);
	bind_text(st, 3, ident->name);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(c, err, "drop table");
	else if (sqlite3_changes(c->db) == 0)
		rc = table_missing(err, ident);
	sqlite3_finalize(st);
	return rc;
}

/* The pointer swap every Iceberg commit ends with (iceberg spec, "Commit
 * Conflict Resolution and Retry": a commit succeeds only when the table's
 * current metadata is still the base it was built on). */
int floe_catalog_commit(floe_catalog *c, const floe_ident *ident, const char *expected_location,
                        const char *new_location, floe_error *err)
{
	sqlite3_stmt *st = NULL;
	char *cur = NULL;
	int rc = check_ident(ident, err);
	if (rc || (rc = check_location(expected_location, err)) ||
	    (rc = check_location(new_location, err)))
		return rc;
	/* From here until COMMIT, any failure leaves the row untouched: the
	 * transaction is rolled back. */
	if ((rc = begin_write(c, err)))
		return rc;
	if ((rc = read_location(c, ident, &cur, err)))
		goto fail;
	if (strcmp(cur, expected_location) != 0) {
		rc = floe_error_set(err, FLOE_ECONFLICT, "table %s.%s was changed by another commit",
		                    ident->ns, ident->name);
		goto fail;
	}
	if ((rc = prepf(c, &st, err,
	                "UPDATE iceberg_tables SET metadata_location = ?5, "
	                "previous_metadata_location = ?4 WHERE catalog_name = ?1 AND "
	                "table_namespace = ?2 AND table_name = ?3 AND metadata_location = ?4%s",
	                type_filter(c))))
		goto fail;
	bind_text(st, 1, c->name);
	bind_text(st, 2, ident->ns);
	bind_text(st, 3, ident->name);
	bind_text(st, 4, expected_location);
	bind_text(st, 5, new_location);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(c, err, "commit update");
		goto fail;
	}
	if (sqlite3_changes(c->db) != 1) {
		rc = floe_error_set(err, FLOE_ECONFLICT, "table %s.%s was changed by another commit",
		                    ident->ns, ident->name);
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	free(cur);
	cur = NULL;
	int s = commit_write(c);
	if (s == SQLITE_OK)
		return 0;
	if ((s & 0xff) == SQLITE_BUSY && !sqlite3_get_autocommit(c->db) &&
	    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK) {
		/* COMMIT never got the lock and the rollback succeeded: the
		 * update was not written, so a retry is safe */
		return floe_error_set(err, FLOE_ECONFLICT,
		                      "table %s.%s: database stayed locked; nothing was committed",
		                      ident->ns, ident->name);
	}
	rc = floe_error_set(err, FLOE_ECOMMIT_UNKNOWN,
	                    "table %s.%s: commit state unknown (%s: %s); do not retry and do not "
	                    "delete %s",
	                    ident->ns, ident->name, c->db_path, sqlite3_errmsg(c->db), new_location);
	rollback(c);
	return rc;
fail:
	sqlite3_finalize(st);
	free(cur);
	rollback(c);
	return rc;
}

int floe_catalog_default_location(const floe_catalog *c, const floe_ident *ident, char *buf,
                                  size_t size, floe_error *err)
{
	int rc = check_ident(ident, err);
	if (rc)
		return rc;
	int n = snprintf(buf, size, "%s/%s/%s", c->warehouse, ident->ns, ident->name);
	if (n < 0 || (size_t)n >= size)
		return floe_error_set(err, FLOE_EINVALID, "table location for %s.%s too long",
		                      ident->ns, ident->name);
	/* nested namespaces become directories: only the namespace part */
	char *p = buf + strlen(c->warehouse) + 1;
	for (size_t i = 0; i < strlen(ident->ns); i++)
		if (p[i] == '.')
			p[i] = '/';
	return 0;
}
