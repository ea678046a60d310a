/* tests/sql/test_sql_cli.c - `floe sql` run through the command line
 * (floe_cli_main in a child, tests/cli/cli_run.h) over a warehouse built
 * with the library: exact output of every format, statements from the
 * argument, -f FILE and stdin with dot commands, errors and exit codes,
 * --stats lines, read-only by default, bounded table output, and the
 * interactive shell on a pseudo-terminal. */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_run.h"
#include "floe/floe.h"
#include "harness.h"

/* ---- the warehouse ------------------------------------------------------ */

static char wh[512];

/* Micros of 2024-01-DD HH:MM:SS UTC plus `us`. */
static int64_t jan2024(int day, int h, int m, int s, int64_t us)
{
	int64_t secs = 1704067200 + (int64_t)(day - 1) * 86400 + h * 3600 + m * 60 + s;
	return secs * 1000000 + us;
}

/* db.t, partitioned by day(ts), one file per day (and one for NULL ts):
 *   id qty               px                  name                 ts                          d
 *   1  10                1.5                 plain                2024-01-01 10:00:00         2024-01-01
 *   2  NULL              0.1                 comma, "quote"       2024-01-02 11:30:00.25      2024-01-02
 *   3  -7                NULL                pipe|and\nnewline    2024-01-03 00:00:00         NULL
 *   4  9007199254740993  2.0                 ünïcødé 日本          NULL                        2024-01-04
 *   5  0                 1/3                 NULL                 2024-01-03 23:59:59.999999  2024-01-03
 *   6  2                 100.0               tab\tx\x01y          2024-01-04 00:00:00         2024-01-04
 *   7  3                 1e20                ""                   2024-01-04 12:00:00         NULL */
static void make_warehouse(void)
{
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	floe_batch_builder *bld = NULL;
	floe_append *app = NULL;
	snprintf(wh, sizeof wh, "%s", th_path("wh"));
	REQUIRE_OK(floe_catalog_open(&cat, wh, NULL, &err), &err);
	floe_table_create_options o = { 0 };
	o.schema = "id int not null, qty long, px double, name string, ts timestamptz, d date";
	o.partition = "day(ts)";
	REQUIRE_OK(floe_table_create(&t, cat, "db.t", &o, &err), &err);
	REQUIRE_OK(floe_batch_builder_new(&bld, floe_table_schema(t), &err), &err);
	static const struct {
		int id;
		bool qty_null;
		int64_t qty;
		bool px_null;
		double px;
		const char *name; /* NULL = NULL */
		bool ts_null;
		int64_t ts;
		bool d_null;
		int32_t d;
	} rows[] = {
		{ 1, false, 10, false, 1.5, "plain", false, 0, false, 19723 },
		{ 2, true, 0, false, 0.1, "comma, \"quote\"", false, 0, false, 19724 },
		{ 3, false, -7, true, 0, "pipe|and\nnewline", false, 0, true, 0 },
		{ 4, false, 9007199254740993LL, false, 2.0, "\xC3\xBCn\xC3\xAF" "c\xC3\xB8" "d\xC3\xA9 "
		  "\xE6\x97\xA5\xE6\x9C\xAC", true, 0, false, 19726 },
		{ 5, false, 0, false, 1.0 / 3.0, NULL, false, 0, false, 19725 },
		{ 6, false, 2, false, 100.0, "tab\tx\x01y", false, 0, false, 19726 },
		{ 7, false, 3, false, 1e20, "", false, 0, true, 0 },
	};
	const int64_t ts[] = { jan2024(1, 10, 0, 0, 0), jan2024(2, 11, 30, 0, 250000),
		               jan2024(3, 0, 0, 0, 0), 0, jan2024(3, 23, 59, 59, 999999),
		               jan2024(4, 0, 0, 0, 0), jan2024(4, 12, 0, 0, 0) };
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		REQUIRE_OK(floe_batch_builder_i32(bld, 0, rows[i].id, &err), &err);
		REQUIRE_OK(rows[i].qty_null ? floe_batch_builder_null(bld, 1, &err)
		                            : floe_batch_builder_i64(bld, 1, rows[i].qty, &err), &err);
		REQUIRE_OK(rows[i].px_null ? floe_batch_builder_null(bld, 2, &err)
		                           : floe_batch_builder_f64(bld, 2, rows[i].px, &err), &err);
		REQUIRE_OK(!rows[i].name ? floe_batch_builder_null(bld, 3, &err)
		           : floe_batch_builder_bytes(bld, 3, rows[i].name,
		                                      (int64_t)strlen(rows[i].name), &err), &err);
		REQUIRE_OK(i == 3 ? floe_batch_builder_null(bld, 4, &err)
		                  : floe_batch_builder_i64(bld, 4, ts[i], &err), &err);
		REQUIRE_OK(rows[i].d_null ? floe_batch_builder_null(bld, 5, &err)
		                          : floe_batch_builder_i32(bld, 5, rows[i].d, &err), &err);
	}
	REQUIRE_OK(floe_append_begin(&app, t, &err), &err);
	REQUIRE_OK(floe_append_batch(app, floe_batch_builder_view(bld), &err), &err);
	floe_batch_builder_free(bld); /* before the commit replaces the schema it uses */
	REQUIRE_OK(floe_append_commit(app, NULL, &err), &err);
	floe_table_close(t);
	floe_catalog_close(cat);
}

/* `floe --warehouse WH sql ARGS...` (NULL-terminated) with stdin from
 * `in` (NULL: /dev/null); stdout and stderr captured (malloc'ed). */
static int sql(const char *in, char **out, char **errout, ...)
{
	const char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, errout);
	argv[argc++] = "floe";
	argv[argc++] = "--warehouse";
	argv[argc++] = wh;
	argv[argc++] = "sql";
	const char *a;
	while (argc < 31 && (a = va_arg(ap, const char *)) != NULL)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return cli_run_argv(in, out, errout, argc, argv);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		th_fail(__FILE__, __LINE__, "cannot write %s", path);
		return;
	}
	fputs(text, f);
	fclose(f);
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* Line `k` (0-based) of `s` into buf, without its newline. */
static const char *line_of(const char *s, int k, char *buf, size_t cap)
{
	for (; k > 0 && s; k--) {
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	if (!s)
		return "";
	size_t n = strcspn(s, "\n");
	snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), s);
	return buf;
}

#define ALL_ROWS "SELECT id, qty, px, name, ts, d FROM db.t ORDER BY id"

/* ---- formats ------------------------------------------------------------ */

TEST(sql_cli_csv_is_rfc4180_with_null_empty)
{
	make_warehouse();
	char *out, *err;
	int rc = sql(NULL, &out, &err, ALL_ROWS, "--format", "csv", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_STR(out,
	             "id,qty,px,name,ts,d\n"
	             "1,10,1.5,plain,2024-01-01 10:00:00.000000,2024-01-01\n"
	             "2,,0.1,\"comma, \"\"quote\"\"\",2024-01-02 11:30:00.250000,2024-01-02\n"
	             "3,-7,,\"pipe|and\nnewline\",2024-01-03 00:00:00.000000,\n"
	             "4,9007199254740993,2.0,\xC3\xBCn\xC3\xAF" "c\xC3\xB8" "d\xC3\xA9 "
	             "\xE6\x97\xA5\xE6\x9C\xAC,,2024-01-04\n"
	             "5,0,0.3333333333333333,,2024-01-03 23:59:59.999999,2024-01-03\n"
	             "6,2,100.0,tab\tx\x01y,2024-01-04 00:00:00.000000,2024-01-04\n"
	             "7,3,1e+20,\"\",2024-01-04 12:00:00.000000,\n");
	free(out);
	free(err);
	/* csv is the default when stdout is not a terminal; an empty result
	 * still has its header; blobs are base64 */
	rc = sql(NULL, &out, &err, "SELECT id FROM db.t WHERE id > 100; SELECT x'00ff10' AS b, "
	         "-0.0 AS z, 1e308 * 10 AS inf", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(out, "id\nb,z,inf\nAP8Q,-0.0,Infinity\n");
	free(out);
	free(err);
}

TEST(sql_cli_jsonl_types_and_escapes)
{
	make_warehouse();
	char *out, *err;
	int rc = sql(NULL, &out, &err, ALL_ROWS, "--format", "jsonl", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_STR(out,
	             "{\"id\":1,\"qty\":10,\"px\":1.5,\"name\":\"plain\",\"ts\":\"2024-01-01 "
	             "10:00:00.000000\",\"d\":\"2024-01-01\"}\n"
	             "{\"id\":2,\"qty\":null,\"px\":0.1,\"name\":\"comma, \\\"quote\\\"\",\"ts\":"
	             "\"2024-01-02 11:30:00.250000\",\"d\":\"2024-01-02\"}\n"
	             "{\"id\":3,\"qty\":-7,\"px\":null,\"name\":\"pipe|and\\nnewline\",\"ts\":"
	             "\"2024-01-03 00:00:00.000000\",\"d\":null}\n"
	             "{\"id\":4,\"qty\":9007199254740993,\"px\":2.0,\"name\":\"\xC3\xBCn\xC3\xAF"
	             "c\xC3\xB8" "d\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC\",\"ts\":null,\"d\":"
	             "\"2024-01-04\"}\n"
	             "{\"id\":5,\"qty\":0,\"px\":0.3333333333333333,\"name\":null,\"ts\":"
	             "\"2024-01-03 23:59:59.999999\",\"d\":\"2024-01-03\"}\n"
	             "{\"id\":6,\"qty\":2,\"px\":100.0,\"name\":\"tab\\tx\\u0001y\",\"ts\":"
	             "\"2024-01-04 00:00:00.000000\",\"d\":\"2024-01-04\"}\n"
	             "{\"id\":7,\"qty\":3,\"px\":1e+20,\"name\":\"\",\"ts\":\"2024-01-04 "
	             "12:00:00.000000\",\"d\":null}\n");
	/* every line is JSON that reads back to the same values */
	char line[1024];
	for (int k = 0; k < count_lines(out); k++) {
		json_error_t je;
		json_t *o = json_loads(line_of(out, k, line, sizeof line), 0, &je);
		CHECK(o != NULL);
		if (k == 3)
			CHECK_EQ_INT(json_integer_value(json_object_get(o, "qty")), 9007199254740993LL);
		if (k == 4)
			CHECK(json_real_value(json_object_get(o, "px")) == 1.0 / 3.0);
		json_decref(o);
	}
	free(out);
	free(err);
	/* reals keep every digit; Infinity (not JSON) is a string; blobs base64;
	 * keys escaped */
	rc = sql(NULL, &out, &err, "SELECT 0.1 + 0.2 AS \"a\"\"b\", 1e308 * 10 AS inf, "
	         "x'fffe' AS blob", "--format", "json", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(out, "{\"a\\\"b\":0.30000000000000004,\"inf\":\"Infinity\",\"blob\":\"//4=\"}\n");
	free(out);
	free(err);
}

TEST(sql_cli_markdown_escapes_pipes)
{
	make_warehouse();
	char *out, *err;
	int rc = sql(NULL, &out, &err, "SELECT id, qty, name AS \"the|name\" FROM db.t WHERE id "
	             "IN (1, 2, 3, 5) ORDER BY id", "--format", "markdown", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(out,
	             "| id | qty | the\\|name |\n"
	             "| ---: | ---: | --- |\n"
	             "| 1 | 10 | plain |\n"
	             "| 2 | NULL | comma, \"quote\" |\n"
	             "| 3 | -7 | pipe\\|and<br>newline |\n"
	             "| 5 | 0 | NULL |\n");
	free(out);
	free(err);
	/* no rows: the header alone, aligned by declared type */
	rc = sql(NULL, &out, &err, "SELECT id, name FROM db.t WHERE id < 0", "--format", "md",
	         NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(out, "| id | name |\n| ---: | --- |\n");
	free(out);
	free(err);
}

TEST(sql_cli_table_aligns_and_cuts)
{
	make_warehouse();
	char *out, *err;
	int rc = sql(NULL, &out, &err, "SELECT id, qty, name FROM db.t ORDER BY id", "--format",
	             "table", "--max-width", "12", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(out,
	             "id               qty  name\n"
	             "--  ----------------  ------------\n"
	             " 1                10  plain\n"
	             " 2              NULL  comma, \"quo\xE2\x80\xA6\n"
	             " 3                -7  pipe|and\\nn\xE2\x80\xA6\n"
	             " 4  9007199254740993  \xC3\xBCn\xC3\xAF" "c\xC3\xB8" "d\xC3\xA9 "
	             "\xE6\x97\xA5\xE6\x9C\xAC\n"
	             " 5                 0  NULL\n"
	             " 6                 2  tab\\tx?y\n"
	             " 7                 3  \n"
	             "(7 rows)\n");
	free(out);
	free(err);
	/* reals right-aligned and never cut; without --max-width text is cut
	 * at 40 */
	rc = sql(NULL, &out, &err, "SELECT px, printf('%.50c', 'x') AS long FROM db.t WHERE id "
	         "IN (2, 7) ORDER BY id", "--format", "table", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(out,
	             "   px  long\n"
	             "-----  ----------------------------------------\n"
	             "  0.1  xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xE2\x80\xA6\n"
	             "1e+20  xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xE2\x80\xA6\n"
	             "(2 rows)\n");
	free(out);
	free(err);
}

/* More rows than the table format holds: the first 1000 size the columns
 * and later rows keep those widths (wider text is cut). */
TEST(sql_cli_table_streams_past_first_chunk)
{
	make_warehouse();
	char *out, *err;
	int rc = sql(NULL, &out, &err, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
	             "FROM c WHERE x < 2500) SELECT x, substr('aaaaa', 1, x / 1000 + 1) AS s "
	             "FROM c", "--format", "table", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(count_lines(out), 2 + 2500 + 1);
	char b[64];
	CHECK_EQ_STR(line_of(out, 0, b, sizeof b), "   x  s");
	CHECK_EQ_STR(line_of(out, 1, b, sizeof b), "----  --");
	CHECK_EQ_STR(line_of(out, 2, b, sizeof b), "   1  a");
	CHECK_EQ_STR(line_of(out, 1001, b, sizeof b), "1000  aa");
	CHECK_EQ_STR(line_of(out, 1999 + 1, b, sizeof b), "1999  aa");
	CHECK_EQ_STR(line_of(out, 2000 + 1, b, sizeof b), "2000  a\xE2\x80\xA6");
	CHECK_EQ_STR(line_of(out, 2500 + 1, b, sizeof b), "2500  a\xE2\x80\xA6");
	CHECK_EQ_STR(line_of(out, 2500 + 2, b, sizeof b), "(2500 rows)");
	free(out);
	free(err);
}

/* ---- statements from files and stdin ------------------------------------- */

TEST(sql_cli_file_runs_every_statement)
{
	make_warehouse();
	const char *path = th_path("q.sql");
	write_file(path,
	           "-- two queries and a comment\n"
	           "SELECT count(*) AS n\n"
	           "  FROM db.t;\n"
	           "\n"
	           "/* block\n"
	           "   comment */\n"
	           "SELECT id FROM db.t WHERE name = 'plain'; SELECT 'a;b' AS s;\n"
	           "SELECT max(id) AS top FROM db.t\n"); /* the last one without ';' */
	char *out, *err;
	int rc = sql(NULL, &out, &err, "-f", path, NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_STR(out, "n\n7\nid\n1\ns\na;b\ntop\n7\n");
	free(out);
	free(err);
	/* --file and '-' for stdin do the same */
	rc = sql(path, &out, &err, "--file", "-", "--format", "jsonl", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(out, "{\"n\":7}\n{\"id\":1}\n{\"s\":\"a;b\"}\n{\"top\":7}\n");
	free(out);
	free(err);
}

TEST(sql_cli_file_error_stops_with_its_line)
{
	make_warehouse();
	const char *path = th_path("bad.sql");
	write_file(path,
	           "SELECT 1 AS one;\n"
	           "\n"
	           "SELECT *\n"
	           "  FROM db.missing\n"
	           " WHERE id = 1;\n"
	           "SELECT 2 AS two;\n");
	char *out, *err;
	int rc = sql(NULL, &out, &err, "-f", path, NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_STR(out, "one\n1\n"); /* the statement after the error does not run */
	char want[1024];
	snprintf(want, sizeof want, "floe: %s:3: no such table: db.missing; .tables lists the "
	         "tables\n", path);
	CHECK_EQ_STR(err, want);
	free(out);
	free(err);
	/* .read runs a file; an error inside names that file and line, and
	 * ends the run */
	const char *outer = th_path("outer.sql");
	char text[1024];
	snprintf(text, sizeof text, "SELECT 'outer' AS o;\n.read %s\nSELECT 'after' AS a;\n", path);
	write_file(outer, text);
	rc = sql(NULL, &out, &err, "--file", outer, NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_STR(out, "o\nouter\none\n1\n");
	CHECK_EQ_STR(err, want);
	free(out);
	free(err);
	/* a missing file */
	rc = sql(NULL, &out, &err, "-f", th_path("nope.sql"), NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK(strstr(err, "cannot read") != NULL);
	CHECK_EQ_INT(count_lines(err), 1);
	free(out);
	free(err);
}

TEST(sql_cli_stdin_with_dot_commands)
{
	make_warehouse();
	const char *in = th_path("in.sql");
	write_file(in,
	           ".tables\n"
	           ".tables --all db.t$s%\n"
	           ".schema db.t\n"
	           ".timer on\n"
	           "SELECT count(*) AS n FROM db.t;\n"
	           "  -- a comment between statements\n"
	           ".format jsonl\n"
	           "SELECT id FROM db.t\n"
	           " WHERE id = 1;\n"
	           ".timer off\n"
	           "SELECT 5 AS five;\n"
	           ".quit\n"
	           "SELECT 'not run';\n");
	char *out, *err;
	int rc = sql(in, &out, &err, NULL);
	CHECK_EQ_INT(rc, 0);
	char want[4096];
	snprintf(want, sizeof want,
	         "db.t\n"
	         "db.t$snapshots\n"
	         "-- db.t: Iceberg table at %s/db/t\n"
	         "-- partitioned by day(ts); current snapshot ",
	         wh);
	CHECK(strncmp(out, want, strlen(want)) == 0);
	const char *create = strstr(out, "CREATE TABLE");
	REQUIRE(create != NULL);
	CHECK_EQ_STR(create,
	             "CREATE TABLE \"db.t\" (\n"
	             "  id INTEGER,   -- int not null\n"
	             "  qty INTEGER,  -- long\n"
	             "  px REAL,      -- double\n"
	             "  name TEXT,    -- string\n"
	             "  ts TEXT,      -- timestamptz\n"
	             "  d TEXT        -- date\n"
	             ");\n"
	             "-- hidden column: _as_of\n"
	             "n\n7\n"
	             "{\"id\":1}\n"
	             "{\"five\":5}\n");
	/* .timer on: a Run Time line for each of the two statements it covers */
	CHECK_EQ_INT(count_lines(err), 2);
	const char *rt = strstr(err, "Run Time: ");
	CHECK(rt == err);
	CHECK(rt && strstr(rt + 1, "Run Time: ") != NULL);
	CHECK(rt && strstr(rt, " s\n") != NULL);
	free(out);
	free(err);
}

/* ---- errors --------------------------------------------------------------- */

TEST(sql_cli_errors_are_one_line_and_exit_1)
{
	make_warehouse();
	char *out, *err;
	/* bad SQL: the earlier statement printed, the later not run */
	int rc = sql(NULL, &out, &err, "SELECT 1 AS a; SELEC 2; SELECT 3 AS c", NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_STR(out, "a\n1\n");
	CHECK_EQ_INT(count_lines(err), 1);
	CHECK(strncmp(err, "floe: line 1: near \"SELEC\": syntax error", 40) == 0);
	free(out);
	free(err);
	/* the line of the statement within a multi-line argument */
	rc = sql(NULL, &out, &err, "SELECT 1 AS a;\n\nSELECT nope FROM db.t;", NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_STR(err, "floe: line 3: no such column: nope; .schema TABLE lists a table's "
	             "columns\n");
	free(out);
	free(err);
	/* an error while rows stream */
	rc = sql(NULL, &out, &err, "SELECT id, abs(-9223372036854775807 - id) FROM db.t", NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK(strstr(err, "integer overflow") != NULL);
	CHECK_EQ_INT(count_lines(err), 1);
	free(out);
	free(err);
	/* an unknown dot command */
	rc = sql(NULL, &out, &err, ".frobnicate", NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_STR(err, "floe: line 1: unknown command .frobnicate; .help lists the commands\n");
	free(out);
	free(err);
	/* .schema of a table that is not there */
	rc = sql(NULL, &out, &err, ".schema db.nope", NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_STR(err, "floe: line 1: no table db.nope; .tables lists the tables\n");
	free(out);
	free(err);
	/* usage errors: exit 2 */
	rc = sql(NULL, &out, &err, "SELECT 1", "--format", "xml", NULL);
	CHECK_EQ_INT(rc, 2);
	CHECK(strstr(err, "--format 'xml'") != NULL);
	free(out);
	free(err);
	rc = sql(NULL, &out, &err, "SELECT 1", "-f", th_path("x.sql"), NULL);
	CHECK_EQ_INT(rc, 2);
	free(out);
	free(err);
	rc = sql(NULL, &out, &err, "-x", NULL);
	CHECK_EQ_INT(rc, 2);
	free(out);
	free(err);
	/* no warehouse there: nothing is created */
	snprintf(wh, sizeof wh, "%s", th_path("absent"));
	rc = sql(NULL, &out, &err, "SELECT 1", NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK(strstr(err, "no warehouse at") != NULL);
	CHECK(access(wh, F_OK) != 0);
	free(out);
	free(err);
}

TEST(sql_cli_read_only_unless_writable)
{
	make_warehouse();
	char *out, *err;
	int rc = sql(NULL, &out, &err, "INSERT INTO db.t (id, name) VALUES (99, 'new')", NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_INT(count_lines(err), 1);
	CHECK(strncmp(err, "floe: line 1: ", 14) == 0);
	CHECK(strstr(err, "--writable") != NULL);
	free(out);
	free(err);
	rc = sql(NULL, &out, &err, "DELETE FROM db.t WHERE id = 1", NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK(strstr(err, "--writable") != NULL);
	free(out);
	free(err);
	rc = sql(NULL, &out, &err, "SELECT count(*) FROM db.t", NULL);
	CHECK_EQ_STR(out, "count(*)\n7\n");
	free(out);
	free(err);
	/* with --writable the insert commits; the table format says how many */
	rc = sql(NULL, &out, &err, "INSERT INTO db.t (id, name) VALUES (99, 'new'), (100, NULL)",
	         "--writable", "--format", "table", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_STR(out, "(2 rows changed)\n");
	free(out);
	free(err);
	rc = sql(NULL, &out, &err, "SELECT count(*) AS n, max(id) AS top FROM db.t", NULL);
	CHECK_EQ_STR(out, "n,top\n9,100\n");
	free(out);
	free(err);
}

/* ---- statistics ------------------------------------------------------------ */

TEST(sql_cli_stats_json_lines)
{
	make_warehouse();
	char *out, *err;
	/* one day of five files (four days and the NULL partition) */
	int rc = sql(NULL, &out, &err, "SELECT id FROM db.t WHERE ts >= '2024-01-02' AND ts < "
	             "'2024-01-03'", "--stats", NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(out, "id\n2\n");
	CHECK_EQ_INT(count_lines(err), 1);
	json_error_t je;
	json_t *o = json_loads(err, 0, &je);
	REQUIRE(o != NULL);
	static const char *const keys[] = {
		"table", "where", "columns", "limit", "snapshot_id", "manifests",
		"manifests_skipped", "files", "files_skipped", "files_read", "row_groups",
		"row_groups_skipped", "rows_scanned", "rows_returned", "bytes_read", "delete_files",
		"rows_deleted", "line",
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!json_object_get(o, keys[i]))
			th_fail(__FILE__, __LINE__, "stats line lacks \"%s\": %s", keys[i], err);
	CHECK_EQ_STR(json_string_value(json_object_get(o, "table")), "db.t");
	const char *where = json_string_value(json_object_get(o, "where"));
	CHECK(where && strstr(where, "ts") && strstr(where, "2024-01-02"));
	CHECK(json_is_null(json_object_get(o, "limit")));
	CHECK(json_integer_value(json_object_get(o, "snapshot_id")) > 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(o, "files")), 5);
	CHECK_EQ_INT(json_integer_value(json_object_get(o, "files_read")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(o, "rows_returned")), 1);
	CHECK(json_integer_value(json_object_get(o, "bytes_read")) > 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(o, "line")), 1);
	json_decref(o);
	free(out);
	free(err);
	/* every scan of every statement, each line naming its statement's line;
	 * a pushed LIMIT shows */
	rc = sql(NULL, &out, &err, "SELECT id FROM db.t LIMIT 2;\nSELECT count(*) FROM db.t a "
	         "JOIN db.t b ON a.id = b.id + 1", "--stats", NULL);
	CHECK_EQ_INT(rc, 0);
	int n = count_lines(err);
	CHECK(n >= 3);
	char line[2048];
	o = json_loads(line_of(err, 0, line, sizeof line), 0, &je);
	CHECK(o && json_integer_value(json_object_get(o, "limit")) == 2);
	CHECK(o && json_integer_value(json_object_get(o, "columns")) == 1);
	json_decref(o);
	for (int k = 1; k < n; k++) {
		o = json_loads(line_of(err, k, line, sizeof line), 0, &je);
		CHECK(o && json_integer_value(json_object_get(o, "line")) == 2);
		json_decref(o);
	}
	free(out);
	free(err);
	/* statements that scan nothing print nothing */
	rc = sql(NULL, &out, &err, "SELECT 1", "--stats", NULL);
	CHECK_EQ_STR(err, "");
	free(out);
	free(err);
}

TEST(sql_cli_help_is_complete)
{
	make_warehouse();
	char *out, *err;
	int rc = sql(NULL, &out, &err, "--help", NULL);
	CHECK_EQ_INT(rc, 0);
	static const char *const want[] = {
		"usage: floe sql [SQL] [options]", "-f, --file FILE", "--format table|csv|jsonl|markdown",
		"--max-width N", "--stats", "--timer", "--writable", "--warehouse DIR", ".tables",
		".schema", "FLOE_HISTORY", "exit code 1",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(out, want[i]))
			th_fail(__FILE__, __LINE__, "help lacks \"%s\"", want[i]);
	free(out);
	free(err);
}

/* ---- the interactive shell ------------------------------------------------- */

typedef struct term {
	int fd;
	pid_t pid;
	char buf[65536];
	size_t len;
} term;

/* Read from the terminal until `needle` appears after offset `from` (or 20
 * seconds pass); returns where it starts, or NULL. */
static const char *term_wait(term *t, size_t from, const char *needle)
{
	time_t end = time(NULL) + 20;
	for (;;) {
		t->buf[t->len] = '\0';
		const char *hit = from <= t->len ? strstr(t->buf + from, needle) : NULL;
		if (hit || time(NULL) > end)
			return hit;
		struct pollfd p = { t->fd, POLLIN, 0 };
		if (poll(&p, 1, 200) > 0) {
			ssize_t n = read(t->fd, t->buf + t->len, sizeof t->buf - 1 - t->len);
			if (n <= 0)
				return strstr(t->buf + from, needle);
			t->len += (size_t)n;
		}
	}
}

/* Type `text`, then wait for the prompt after the output; returns the
 * offset where the output of this line starts. */
static size_t term_type(term *t, const char *text, const char *prompt)
{
	size_t from = t->len;
	if (write(t->fd, text, strlen(text)) < 0)
		th_fail(__FILE__, __LINE__, "write to the terminal: %s", strerror(errno));
	if (!term_wait(t, from, prompt))
		th_fail(__FILE__, __LINE__, "no prompt '%s' after '%s'; saw: %s", prompt, text,
		        t->buf + from);
	return from;
}

TEST(sql_cli_interactive_shell)
{
	make_warehouse();
	const char *hist = th_path("history");
	term t = { .fd = -1 };
	t.fd = posix_openpt(O_RDWR | O_NOCTTY);
	REQUIRE(t.fd >= 0);
	REQUIRE(grantpt(t.fd) == 0 && unlockpt(t.fd) == 0);
	char slave[256];
	snprintf(slave, sizeof slave, "%s", ptsname(t.fd));
	fflush(stdout);
	fflush(stderr);
	t.pid = fork();
	REQUIRE(t.pid >= 0);
	if (t.pid == 0) {
		setsid();
		int s = open(slave, O_RDWR); /* becomes the controlling terminal */
		if (s < 0)
			_exit(99);
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		close(t.fd);
		setenv("FLOE_HISTORY", hist, 1);
		setenv("TERM", "dumb", 1);
		const char *argv[] = { "floe", "--warehouse", wh, "sql", NULL };
		_exit(floe_cli_main(4, (char **)argv));
	}
	REQUIRE(term_wait(&t, 0, "floe> ") != NULL);
	CHECK(strstr(t.buf, ".help") != NULL); /* the greeting says where help is */

	/* a statement over two lines: the continuation prompt, then the table */
	term_type(&t, "SELECT id, name FROM db.t\r", "  ...> ");
	size_t at = term_type(&t, "WHERE id <= 2 ORDER BY id;\r", "floe> ");
	CHECK(strstr(t.buf + at, "id  name\r\n--  --------------\r\n 1  plain\r\n"
	                         " 2  comma, \"quote\"\r\n(2 rows)\r\n") != NULL);

	/* an error is one line and the shell goes on */
	at = term_type(&t, "SELECT * FROM db.nope;\r", "floe> ");
	CHECK(strstr(t.buf + at, "error: no such table: db.nope; .tables lists the tables") != NULL);

	/* .read: a file's error names the file and line, and the shell goes on */
	const char *bad = th_path("bad.sql");
	write_file(bad, "SELECT 'from file' AS f;\nSELECT * FROM db.gone;\nSELECT 'not run';\n");
	char cmd[600], want[700];
	snprintf(cmd, sizeof cmd, ".read %s\r", bad);
	snprintf(want, sizeof want, "error: %s:2: no such table: db.gone", bad);
	at = term_type(&t, cmd, "floe> ");
	CHECK(strstr(t.buf + at, "from file") != NULL);
	CHECK(strstr(t.buf + at, want) != NULL);
	CHECK(strstr(t.buf + at, "not run\r\n") == NULL);

	/* dot commands */
	at = term_type(&t, ".tables\r", "floe> ");
	CHECK(strstr(t.buf + at, "db.t\r\n") != NULL);
	at = term_type(&t, ".timer on\r", "floe> ");
	at = term_type(&t, "SELECT count(*) AS n FROM db.t;\r", "floe> ");
	CHECK(strstr(t.buf + at, "Run Time: ") != NULL);
	at = term_type(&t, ".format csv\r", "floe> ");
	at = term_type(&t, "SELECT 'h\xC3\xA9' AS s;\r", "floe> ");
	CHECK(strstr(t.buf + at, "s\r\nh\xC3\xA9\r\n") != NULL);

	/* .stats on a terminal: a readable line per scan (one day's file of
	 * five read; id and ts decoded, ts for SQLite's own check) */
	at = term_type(&t, ".stats on\r", "floe> ");
	at = term_type(&t, "SELECT id FROM db.t WHERE ts >= '2024-01-02' AND ts < '2024-01-03';\r",
	               "floe> ");
	CHECK(strstr(t.buf + at, "id\r\n2\r\n") != NULL);
	const char *scan = strstr(t.buf + at, "scan db.t where (\"ts\" >= '2024-01-02'");
	CHECK(scan != NULL);
	CHECK(scan && strstr(scan, "cols 2 snapshot ") && strstr(scan, ": manifests 1/1, files 1/5 (20.0%), "
	                                               "row groups 1/1, rows 1/1, "));
	at = term_type(&t, ".stats off\r", "floe> ");

	/* Ctrl-C drops the statement being typed */
	term_type(&t, "SELECT 'dropped'\r", "  ...> ");
	term_type(&t, "\x03", "floe> ");
	at = term_type(&t, "SELECT 'kept' AS k;\r", "floe> ");
	CHECK(strstr(t.buf + at, "k\r\nkept\r\n") != NULL);
	CHECK(strstr(t.buf + at, "dropped") == NULL || strstr(t.buf + at, "dropped") >
	      strstr(t.buf + at, "kept"));

	/* Ctrl-C stops a running statement */
	size_t from = t.len;
	const char *forever = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
	                      "SELECT count(*) FROM c;\r";
	if (write(t.fd, forever, strlen(forever)) < 0)
		th_fail(__FILE__, __LINE__, "write: %s", strerror(errno));
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	if (write(t.fd, "\x03", 1) < 0)
		th_fail(__FILE__, __LINE__, "write: %s", strerror(errno));
	CHECK(term_wait(&t, from, "error: interrupted") != NULL);
	CHECK(term_wait(&t, from, "floe> ") != NULL);

	term_type(&t, ".quit\r", "\n");
	int st = 0;
	waitpid(t.pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(t.fd);
	char *h = th_read_file(hist, NULL);
	CHECK(h && strstr(h, "count(*)") != NULL);
	free(h);
}
