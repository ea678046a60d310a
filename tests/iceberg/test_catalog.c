/* tests/iceberg/test_catalog.c - the SQL catalog (floe/catalog.h):
 * identifiers, namespaces, tables, compare-and-swap commits across
 * processes, and the JdbcCatalog layout as the sqlite3 tool sees it. */
#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "floe/catalog.h"
#include "harness.h"

static floe_ident ident(const char *text)
{
	floe_ident id;
	if (floe_ident_parse(&id, text, NULL) != 0)
		memset(&id, 0, sizeof id);
	return id;
}

TEST(catalog_ident_parse_valid)
{
	floe_error err = {0};
	floe_ident id;
	REQUIRE_OK(floe_ident_parse(&id, "db.trades", &err), &err);
	CHECK_EQ_STR(id.ns, "db");
	CHECK_EQ_STR(id.name, "trades");
	REQUIRE_OK(floe_ident_parse(&id, "lake.bronze.trades_2024", &err), &err);
	CHECK_EQ_STR(id.ns, "lake.bronze"); /* split at the last dot */
	CHECK_EQ_STR(id.name, "trades_2024");
	REQUIRE_OK(floe_ident_parse(&id, "db.my table-é", &err), &err);
	CHECK_EQ_STR(id.name, "my table-é");

	char longest[600];
	memset(longest, 'n', 255);
	longest[255] = '.';
	memset(longest + 256, 't', 255);
	longest[511] = '\0';
	REQUIRE_OK(floe_ident_parse(&id, longest, &err), &err);
	CHECK_EQ_INT(strlen(id.ns), 255);
	CHECK_EQ_INT(strlen(id.name), 255);
}

TEST(catalog_ident_parse_rejects_bad_forms)
{
	static const char *bad[] = {
		"",          /* empty */
		"trades",    /* no namespace */
		".trades",   /* empty namespace / leading dot */
		"db.",       /* empty table name */
		"db..t",     /* doubled dot */
		"..",        /* only dots */
		"a...b",
		".db.t",     /* namespace part starting with '.' */
		"db/x.t",    /* slash in namespace */
		"db.t/x",    /* slash in name */
		"db.../t",
		"db\\x.t",   /* backslash */
		"db.t\\x",
		"db.t\n",    /* control characters */
		"db.\tt",
		"d\x01.t",
		"db.t\x7f",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		floe_error err = {0};
		floe_ident id;
		int rc = floe_ident_parse(&id, bad[i], &err);
		if (rc != FLOE_EINVALID)
			th_fail(__FILE__, __LINE__, "bad identifier #%zu accepted (rc %d)", i, rc);
		CHECK(strstr(err.msg, "invalid") != NULL);
		CHECK(id.ns[0] == '\0' && id.name[0] == '\0');
	}
	floe_error err = {0};
	floe_ident id;
	char toolong[600];
	memset(toolong, 'n', 256);
	strcpy(toolong + 256, ".t");
	CHECK_EQ_INT(floe_ident_parse(&id, toolong, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "255") != NULL);
	memcpy(toolong, "db.", 3);
	memset(toolong + 3, 't', 256);
	toolong[259] = '\0';
	CHECK_EQ_INT(floe_ident_parse(&id, toolong, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_ident_parse(&id, "db.t/x", &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "'/'") != NULL);

	CHECK_EQ_INT(floe_ident_check_namespace("a.b", &err), 0);
	CHECK_EQ_INT(floe_ident_check_namespace("a..b", &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_ident_check_namespace("../etc", &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_ident_check_namespace("", &err), FLOE_EINVALID);
}

TEST(catalog_namespaces_crud)
{
	floe_error err = {0};
	floe_catalog *c = NULL;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	CHECK_EQ_STR(floe_catalog_name(c), "floe");
	CHECK(floe_catalog_warehouse(c)[0] == '/');

	CHECK_EQ_INT(floe_catalog_namespace_exists(c, "db", &err), 0);
	CHECK_OK(floe_catalog_create_namespace(c, "db", &err), &err);
	CHECK_OK(floe_catalog_create_namespace(c, "lake.bronze", &err), &err);
	CHECK_OK(floe_catalog_create_namespace(c, "a_b", &err), &err);
	CHECK_EQ_INT(floe_catalog_create_namespace(c, "db", &err), FLOE_EEXISTS);
	CHECK(strstr(err.msg, "db already exists") != NULL);
	CHECK_EQ_INT(floe_catalog_create_namespace(c, "bad/ns", &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_catalog_namespace_exists(c, "db", &err), 1);
	CHECK_EQ_INT(floe_catalog_namespace_exists(c, "lake", &err), 1); /* implied parent */
	/* '_' is a LIKE wildcard: "aXb" must not match "a_b" */
	CHECK_EQ_INT(floe_catalog_namespace_exists(c, "aXb", &err), 0);

	char **list = NULL;
	size_t n = 0;
	REQUIRE_OK(floe_catalog_list_namespaces(c, &list, &n, &err), &err);
	REQUIRE(n == 4);
	CHECK_EQ_STR(list[0], "a_b");
	CHECK_EQ_STR(list[1], "db");
	CHECK_EQ_STR(list[2], "lake");
	CHECK_EQ_STR(list[3], "lake.bronze");
	floe_catalog_free_list(list, n);

	/* properties */
	char *v = NULL;
	CHECK_OK(floe_catalog_set_property(c, "db", "owner", "ops", &err), &err);
	CHECK_OK(floe_catalog_set_property(c, "db", "owner", "data", &err), &err);
	REQUIRE_OK(floe_catalog_get_property(c, "db", "owner", &v, &err), &err);
	CHECK_EQ_STR(v, "data");
	free(v);
	REQUIRE_OK(floe_catalog_get_property(c, "db", "exists", &v, &err), &err);
	CHECK_EQ_STR(v, "true"); /* the JdbcCatalog / SqlCatalog marker */
	free(v);
	CHECK_EQ_INT(floe_catalog_set_property(c, "db", "exists", "false", &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_catalog_set_property(c, "nope", "k", "v", &err), FLOE_ENOTFOUND);
	CHECK_OK(floe_catalog_set_property(c, "db", "owner", NULL, &err), &err);
	CHECK_EQ_INT(floe_catalog_get_property(c, "db", "owner", &v, &err), FLOE_ENOTFOUND);
	CHECK(v == NULL);

	/* drop: not empty while a nested namespace or table lives below */
	CHECK_EQ_INT(floe_catalog_drop_namespace(c, "lake", &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "not empty") != NULL);
	CHECK_OK(floe_catalog_drop_namespace(c, "lake.bronze", &err), &err);
	CHECK_EQ_INT(floe_catalog_namespace_exists(c, "lake", &err), 0);
	floe_ident t = ident("db.t");
	CHECK_OK(floe_catalog_create_table(c, &t, "/x/v1.metadata.json", false, &err), &err);
	CHECK_EQ_INT(floe_catalog_drop_namespace(c, "db", &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "1 table") != NULL);
	CHECK_OK(floe_catalog_drop_table(c, &t, &err), &err);
	CHECK_OK(floe_catalog_drop_namespace(c, "db", &err), &err);
	CHECK_EQ_INT(floe_catalog_namespace_exists(c, "db", &err), 0);
	CHECK_EQ_INT(floe_catalog_drop_namespace(c, "db", &err), FLOE_ENOTFOUND);
	floe_catalog_close(c);
}

TEST(catalog_tables_crud)
{
	floe_error err = {0};
	floe_catalog *c = NULL;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_ident t1 = ident("db.trades"), t2 = ident("db.quotes"), t3 = ident("lake.raw.t");
	char *loc = NULL;

	CHECK_EQ_INT(floe_catalog_create_table(c, &t1, "/m/1.json", false, &err), FLOE_ENOTFOUND);
	CHECK(strstr(err.msg, "namespace db does not exist") != NULL);
	CHECK_OK(floe_catalog_create_table(c, &t1, "/m/1.json", true, &err), &err);
	CHECK_EQ_INT(floe_catalog_namespace_exists(c, "db", &err), 1);
	CHECK_EQ_INT(floe_catalog_create_table(c, &t1, "/m/other.json", true, &err), FLOE_EEXISTS);
	CHECK(strstr(err.msg, "db.trades already exists") != NULL);
	CHECK_OK(floe_catalog_create_table(c, &t2, "/m/q.json", false, &err), &err);
	CHECK_OK(floe_catalog_create_table(c, &t3, "/m/r.json", true, &err), &err);
	CHECK_EQ_INT(floe_catalog_create_table(c, &t2, "", false, &err), FLOE_EINVALID);

	REQUIRE_OK(floe_catalog_load_table(c, &t1, &loc, &err), &err);
	CHECK_EQ_STR(loc, "/m/1.json");
	free(loc);
	floe_ident missing = ident("db.nope");
	CHECK_EQ_INT(floe_catalog_load_table(c, &missing, &loc, &err), FLOE_ENOTFOUND);
	CHECK_EQ_STR(err.msg, "table db.nope does not exist (see floe tables)");
	CHECK(loc == NULL);

	char **list = NULL;
	size_t n = 0;
	REQUIRE_OK(floe_catalog_list_tables(c, NULL, &list, &n, &err), &err);
	REQUIRE(n == 3);
	CHECK_EQ_STR(list[0], "db.quotes");
	CHECK_EQ_STR(list[1], "db.trades");
	CHECK_EQ_STR(list[2], "lake.raw.t");
	floe_catalog_free_list(list, n);
	REQUIRE_OK(floe_catalog_list_tables(c, "lake.raw", &list, &n, &err), &err);
	REQUIRE(n == 1);
	CHECK_EQ_STR(list[0], "lake.raw.t");
	floe_catalog_free_list(list, n);
	CHECK_EQ_INT(floe_catalog_list_tables(c, "zzz", &list, &n, &err), FLOE_ENOTFOUND);

	/* rename */
	floe_ident moved = ident("lake.raw.trades");
	CHECK_EQ_INT(floe_catalog_rename_table(c, &t1, &t2, &err), FLOE_EEXISTS);
	floe_ident nons = ident("ghost.t");
	CHECK_EQ_INT(floe_catalog_rename_table(c, &t1, &nons, &err), FLOE_ENOTFOUND);
	CHECK_EQ_INT(floe_catalog_rename_table(c, &missing, &moved, &err), FLOE_ENOTFOUND);
	CHECK_OK(floe_catalog_rename_table(c, &t1, &moved, &err), &err);
	CHECK_EQ_INT(floe_catalog_load_table(c, &t1, &loc, &err), FLOE_ENOTFOUND);
	REQUIRE_OK(floe_catalog_load_table(c, &moved, &loc, &err), &err);
	CHECK_EQ_STR(loc, "/m/1.json");
	free(loc);

	/* drop */
	CHECK_OK(floe_catalog_drop_table(c, &moved, &err), &err);
	CHECK_EQ_INT(floe_catalog_drop_table(c, &moved, &err), FLOE_ENOTFOUND);
	REQUIRE_OK(floe_catalog_list_tables(c, NULL, &list, &n, &err), &err);
	CHECK_EQ_INT(n, 2);
	floe_catalog_free_list(list, n);

	/* default location: nested namespace dots become directories */
	char buf[4096], want[4096];
	REQUIRE_OK(floe_catalog_default_location(c, &t3, buf, sizeof buf, &err), &err);
	snprintf(want, sizeof want, "%s/lake/raw/t", floe_catalog_warehouse(c));
	CHECK_EQ_STR(buf, want);
	CHECK_EQ_INT(floe_catalog_default_location(c, &t3, buf, 8, &err), FLOE_EINVALID);
	floe_catalog_close(c);

	/* rows persist, and a second catalog name sees none of them */
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	REQUIRE_OK(floe_catalog_load_table(c, &t2, &loc, &err), &err);
	CHECK_EQ_STR(loc, "/m/q.json");
	free(loc);
	floe_catalog_close(c);
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), "other", &err), &err);
	CHECK_EQ_INT(floe_catalog_load_table(c, &t2, &loc, &err), FLOE_ENOTFOUND);
	REQUIRE_OK(floe_catalog_list_namespaces(c, &list, &n, &err), &err);
	CHECK_EQ_INT(n, 0);
	floe_catalog_free_list(list, n);
	floe_catalog_close(c);
}

TEST(catalog_commit_cas)
{
	floe_error err = {0};
	floe_catalog *c = NULL;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_ident t = ident("db.t");
	REQUIRE_OK(floe_catalog_create_table(c, &t, "/m/v1.json", true, &err), &err);

	CHECK_OK(floe_catalog_commit(c, &t, "/m/v1.json", "/m/v2.json", &err), &err);
	char *loc = NULL;
	REQUIRE_OK(floe_catalog_load_table(c, &t, &loc, &err), &err);
	CHECK_EQ_STR(loc, "/m/v2.json");
	free(loc);

	/* a writer still based on v1 loses */
	CHECK_EQ_INT(floe_catalog_commit(c, &t, "/m/v1.json", "/m/v3-stale.json", &err),
	             FLOE_ECONFLICT);
	CHECK_EQ_STR(err.msg, "table db.t was changed by another commit");
	REQUIRE_OK(floe_catalog_load_table(c, &t, &loc, &err), &err);
	CHECK_EQ_STR(loc, "/m/v2.json");
	free(loc);

	floe_ident gone = ident("db.gone");
	CHECK_EQ_INT(floe_catalog_commit(c, &gone, "/a", "/b", &err), FLOE_ENOTFOUND);
	CHECK_EQ_INT(floe_catalog_commit(c, &t, "/m/v2.json", "", &err), FLOE_EINVALID);
	floe_catalog_close(c);

	/* previous_metadata_location follows the swap */
	char *out = NULL;
	int rc = th_run(&out, "sqlite3 '%s/catalog.db' \"SELECT metadata_location || '|' || "
	                      "previous_metadata_location FROM iceberg_tables\" 2>&1",
	                th_path("wh"));
	if (rc == 127 || (rc != 0 && out && strstr(out, "not found"))) {
		free(out);
		th_skip("the sqlite3 command-line tool is not installed (deps.txt: sqlite3)");
	}
	CHECK_EQ_INT(rc, 0);
	CHECK(out && strcmp(out, "/m/v2.json|/m/v1.json\n") == 0);
	free(out);
}

#define CAS_PER_PROCESS 200

/* One writer: load, commit "loc-(N+1)" on "loc-N", retry on conflict.
 * Starts when `go` becomes readable so both writers overlap, and yields
 * between load and commit to widen the race window. Exits 0 after
 * CAS_PER_PROCESS successful commits. */
static int cas_worker(const char *wh, int go)
{
	floe_error err = {0};
	floe_catalog *c = NULL;
	floe_ident t = ident("db.counter");
	if (floe_catalog_open(&c, wh, NULL, &err) != 0) {
		fprintf(stderr, "open: %s\n", err.msg);
		return 2;
	}
	char byte;
	if (read(go, &byte, 1) != 0) /* EOF: the parent released both writers */
		return 5;
	int wins = 0, conflicts = 0, status = 0;
	while (wins < CAS_PER_PROCESS) {
		char *loc = NULL, next[64];
		if (floe_catalog_load_table(c, &t, &loc, &err) != 0) {
			fprintf(stderr, "load: %s\n", err.msg);
			status = 3;
			break;
		}
		long cur = strtol(loc + 4, NULL, 10);
		snprintf(next, sizeof next, "loc-%ld", cur + 1);
		sched_yield();
		int rc = floe_catalog_commit(c, &t, loc, next, &err);
		free(loc);
		if (rc == 0) {
			wins++;
		} else if (rc == FLOE_ECONFLICT) {
			conflicts++;
		} else {
			fprintf(stderr, "commit: %d %s\n", rc, err.msg);
			status = 4;
			break;
		}
	}
	if (status)
		fprintf(stderr, "writer %d: %d commits, %d conflicts retried\n", (int)getpid(),
		        wins, conflicts);
	floe_catalog_close(c);
	return status;
}

TEST(catalog_commit_two_processes_400_increments)
{
	floe_error err = {0};
	floe_catalog *c = NULL;
	const char *wh = th_path("wh");
	REQUIRE_OK(floe_catalog_open(&c, wh, NULL, &err), &err);
	floe_ident t = ident("db.counter");
	REQUIRE_OK(floe_catalog_create_table(c, &t, "loc-0", true, &err), &err);
	floe_catalog_close(c);

	int go[2];
	REQUIRE(pipe(go) == 0);
	fflush(NULL);
	pid_t pids[2];
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		REQUIRE(pids[i] >= 0);
		if (pids[i] == 0) {
			close(go[1]);
			_exit(cas_worker(wh, go[0]));
		}
	}
	close(go[0]);
	close(go[1]); /* both writers start now */
	for (int i = 0; i < 2; i++) {
		int st = 0;
		REQUIRE(waitpid(pids[i], &st, 0) == pids[i]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	REQUIRE_OK(floe_catalog_open(&c, wh, NULL, &err), &err);
	char *loc = NULL;
	REQUIRE_OK(floe_catalog_load_table(c, &t, &loc, &err), &err);
	CHECK_EQ_STR(loc, "loc-400"); /* every success advanced the pointer by one */
	free(loc);
	floe_catalog_close(c);
}

TEST(catalog_sqlite3_tool_sees_jdbc_layout)
{
	floe_error err = {0};
	floe_catalog *c = NULL;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_ident t = ident("db.trades");
	REQUIRE_OK(floe_catalog_create_table(c, &t, "/wh/db/trades/metadata/v1.json", true, &err),
	           &err);
	floe_catalog_close(c);

	char *out = NULL;
	int rc = th_run(&out, "sqlite3 '%s/catalog.db' .schema 2>&1", th_path("wh"));
	if (rc == 127 || (rc != 0 && out && strstr(out, "not found"))) {
		free(out);
		th_skip("the sqlite3 command-line tool is not installed (deps.txt: sqlite3)");
	}
	REQUIRE(rc == 0 && out);
	static const char *cols[] = {
		"iceberg_tables",
		"catalog_name VARCHAR(255) NOT NULL",
		"table_namespace VARCHAR(255) NOT NULL",
		"table_name VARCHAR(255) NOT NULL",
		"metadata_location VARCHAR(1000)",
		"previous_metadata_location VARCHAR(1000)",
		"iceberg_type VARCHAR(5)",
		"PRIMARY KEY (catalog_name, table_namespace, table_name)",
		"iceberg_namespace_properties",
		"namespace VARCHAR(255) NOT NULL",
		"property_key VARCHAR(255)",
		"property_value VARCHAR(1000)",
		"PRIMARY KEY (catalog_name, namespace, property_key)",
	};
	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
		if (!strstr(out, cols[i]))
			th_fail(__FILE__, __LINE__, ".schema lacks \"%s\":\n%s", cols[i], out);
	free(out);

	rc = th_run(&out, "sqlite3 -separator '|' '%s/catalog.db' \"SELECT catalog_name, "
	                  "table_namespace, table_name, metadata_location, "
	                  "coalesce(previous_metadata_location, 'NULL'), iceberg_type FROM "
	                  "iceberg_tables; SELECT catalog_name, namespace, property_key, "
	                  "property_value FROM iceberg_namespace_properties; PRAGMA journal_mode\"",
	            th_path("wh"));
	REQUIRE(rc == 0 && out);
	CHECK_EQ_STR(out, "floe|db|trades|/wh/db/trades/metadata/v1.json|NULL|TABLE\n"
	                  "floe|db|exists|true\n"
	                  "wal\n");
	free(out);

	/* a row another tool wrote (PyIceberg leaves iceberg_type NULL) loads */
	rc = th_run(NULL, "sqlite3 '%s/catalog.db' \"INSERT INTO iceberg_tables (catalog_name, "
	                  "table_namespace, table_name, metadata_location) VALUES ('floe', 'db', "
	                  "'py', '/py/v1.json'); INSERT INTO iceberg_tables VALUES ('floe', 'db', "
	                  "'v', '/v/v1.json', NULL, 'VIEW')\"",
	            th_path("wh"));
	REQUIRE(rc == 0);
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	char *loc = NULL;
	floe_ident py = ident("db.py"), view = ident("db.v");
	REQUIRE_OK(floe_catalog_load_table(c, &py, &loc, &err), &err);
	CHECK_EQ_STR(loc, "/py/v1.json");
	free(loc);
	/* a view is not a table, but its name is taken */
	CHECK_EQ_INT(floe_catalog_load_table(c, &view, &loc, &err), FLOE_ENOTFOUND);
	CHECK_EQ_INT(floe_catalog_create_table(c, &view, "/x.json", false, &err), FLOE_EEXISTS);
	char **list = NULL;
	size_t n = 0;
	REQUIRE_OK(floe_catalog_list_tables(c, "db", &list, &n, &err), &err);
	CHECK_EQ_INT(n, 2);
	floe_catalog_free_list(list, n);
	floe_catalog_close(c);
}

/* A VFS that makes fsync fail on demand: COMMIT then fails after the
 * UPDATE ran, the case floe must report as "commit state unknown". */
static sqlite3_vfs *real_vfs;
static sqlite3_vfs fail_vfs;
/* SQLite's unix VFS gives database and journal/WAL files different method
 * tables; each gets a copy with xSync replaced */
static const sqlite3_io_methods *real_methods[4];
static sqlite3_io_methods fail_methods[4];
static int n_methods;
static volatile int fail_sync_now;

static int fail_sync(sqlite3_file *f, int flags)
{
	if (fail_sync_now)
		return SQLITE_IOERR_FSYNC;
	for (int i = 0; i < n_methods; i++)
		if (f->pMethods == &fail_methods[i])
			return real_methods[i]->xSync(f, flags);
	return SQLITE_IOERR_FSYNC;
}

static int fail_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outf)
{
	(void)vfs;
	int rc = real_vfs->xOpen(real_vfs, name, f, flags, outf);
	/* the file stays the real one; only its method table is swapped */
	if (rc == SQLITE_OK && f->pMethods) {
		int i = 0;
		while (i < n_methods && real_methods[i] != f->pMethods)
			i++;
		if (i == n_methods && n_methods < 4) {
			real_methods[i] = f->pMethods;
			fail_methods[i] = *f->pMethods;
			fail_methods[i].xSync = fail_sync;
			n_methods++;
		}
		if (i < n_methods)
			f->pMethods = &fail_methods[i];
	}
	return rc;
}

TEST(catalog_commit_unknown_when_commit_fails)
{
	real_vfs = sqlite3_vfs_find(NULL);
	REQUIRE(real_vfs);
	fail_vfs = *real_vfs;
	fail_vfs.zName = "floe-test-failsync";
	fail_vfs.xOpen = fail_open;
	REQUIRE(sqlite3_vfs_register(&fail_vfs, 1) == SQLITE_OK);

	floe_error err = {0};
	floe_catalog *c = NULL;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_ident t = ident("db.t");
	REQUIRE_OK(floe_catalog_create_table(c, &t, "/m/v1.json", true, &err), &err);
	fail_sync_now = 1;
	int rc = floe_catalog_commit(c, &t, "/m/v1.json", "/m/v2.json", &err);
	fail_sync_now = 0;
	CHECK_EQ_INT(rc, FLOE_ECOMMIT_UNKNOWN);
	CHECK(strstr(err.msg, "commit state unknown") != NULL);
	CHECK(strstr(err.msg, "do not delete /m/v2.json") != NULL);
	floe_catalog_close(c);

	/* a conflict is still a conflict, not "unknown", with the same VFS */
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	CHECK_EQ_INT(floe_catalog_commit(c, &t, "/m/other.json", "/m/v3.json", &err),
	             FLOE_ECONFLICT);
	floe_catalog_close(c);
	sqlite3_vfs_unregister(&fail_vfs);
}
