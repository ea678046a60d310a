/* tests/cli/test_table_cli.c - the Iceberg table commands (`floe create`,
 * append, scan, snapshots, files, alter, drop, ...) run in-process via
 * floe_cli_main in a temporary warehouse, checked against DuckDB. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_run.h"
#include "harness.h"

/* ---- helpers ------------------------------------------------------------ */

static char wh[512]; /* the test's warehouse */

static void use_warehouse(void)
{
	snprintf(wh, sizeof wh, "%s", th_path("wh"));
}

/* Run `floe --warehouse WH ARGS...` in a child with stdin from `in` (NULL:
 * /dev/null) and stdout/stderr captured (malloc'ed). Returns the exit code. */
static int run(const char *in, char **out, char **errout, ...)
{
	const char *argv[48];
	int argc = 0;
	va_list ap;
	va_start(ap, errout);
	argv[argc++] = "floe";
	argv[argc++] = "--warehouse";
	argv[argc++] = wh;
	const char *a;
	while (argc < 47 && (a = va_arg(ap, const char *)) != NULL)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return cli_run_argv(in, out, errout, argc, argv);
}

/* Run and require exit 0 (the test fails with stderr otherwise); returns
 * stdout (malloc'ed). */
#define OK(...) ok_run(__LINE__, __VA_ARGS__, NULL)
static char *ok_run(int line, const char *first, ...)
{
	const char *v[40];
	int n = 0;
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a && n < 39; a = va_arg(ap, const char *))
		v[n++] = a;
	va_end(ap);
	while (n < 39)
		v[n++] = NULL;
	char *o, *e;
	int rc = run(NULL, &o, &e, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
	             v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17], v[18], v[19], NULL);
	if (rc != 0)
		th_fail(__FILE__, line, "floe %s %s -> %d: %s", first, v[1] ? v[1] : "", rc, e);
	free(e);
	return o;
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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of `text` sorted (malloc'ed, each ending in '\n'). */
static char *sorted_lines(const char *text)
{
	char *copy = strdup(text ? text : "");
	char **lines = NULL;
	size_t n = 0, total = 1;
	char *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lines = realloc(lines, (n + 1) * sizeof *lines);
		lines[n++] = l;
		total += strlen(l) + 1;
	}
	if (n > 1)
		qsort(lines, n, sizeof *lines, cmp_str);
	char *out = malloc(total);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
	}
	free(lines);
	free(copy);
	return out;
}

static int count_lines(const char *text)
{
	int n = 0;
	for (; text && *text; text++)
		n += *text == '\n';
	return n;
}

/* "in snapshot ID" from an append's output, or -1. */
static long long appended_snapshot(const char *out)
{
	const char *p = out ? strstr(out, "in snapshot ") : NULL;
	return p ? strtoll(p + 12, NULL, 10) : -1;
}

#define CHECK_SORTED(got, want)                                                     \
	do {                                                                        \
		char *th_g = sorted_lines(got), *th_w = sorted_lines(want);         \
		CHECK_EQ_STR(th_g, th_w);                                           \
		free(th_g);                                                         \
		free(th_w);                                                         \
	} while (0)

/* Millisecond clock ticks between commits so --as-of can tell them apart. */
static void next_millisecond(void)
{
	struct timespec ts = { 0, 3000000 };
	nanosleep(&ts, NULL);
}

static const char *trades_schema =
	"id long not null, ts timestamptz not null, symbol string, price double";

/* db.trades partitioned by day(ts), bucket(4, symbol) with 3 NDJSON rows in
 * snapshot 1 and 3 CSV + 2 Parquet rows in snapshot 2; *first gets the first
 * snapshot id. */
static int make_trades(long long *first)
{
	char nd[512], csv[512], pqcsv[512], pq[512];
	snprintf(nd, sizeof nd, "%s", th_path("a.ndjson"));
	snprintf(csv, sizeof csv, "%s", th_path("b.csv"));
	snprintf(pqcsv, sizeof pqcsv, "%s", th_path("c-src.csv"));
	snprintf(pq, sizeof pq, "%s", th_path("c.parquet"));
	write_file(nd, "{\"id\":1,\"ts\":\"2024-01-01T10:00:00Z\",\"symbol\":\"ABC\",\"price\":10.5}\n"
	               "{\"id\":2,\"ts\":\"2024-01-01T11:00:00Z\",\"symbol\":\"XYZ\",\"price\":20}\n"
	               "{\"id\":3,\"ts\":\"2024-01-02T09:30:00Z\",\"symbol\":\"ABC\"}\n");
	write_file(csv, "id,ts,symbol,price\n"
	                "4,2024-01-02T12:00:00Z,XYZ,30.25\n"
	                "5,2024-01-03T00:00:00Z,QQQ,5\n"
	                "6,2024-01-03T23:59:59Z,,42\n");
	write_file(pqcsv, "id,ts,symbol,price\n"
	                  "7,2024-01-04T08:00:00Z,ABC,11\n"
	                  "8,2024-01-01T08:00:00Z,XYZ,9.75\n");
	char *o, *e;
	int rc = run(NULL, &o, &e, "parquet", "write", pq, pqcsv, "--schema",
	             "id long not null, ts timestamptz not null, symbol string, price double",
	             NULL);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "parquet write: %s", e);
	free(o), free(e);
	rc = run(NULL, &o, &e, "create", "db.trades", "--schema", trades_schema, "--partition",
	         "day(ts), bucket(4, symbol)", "--property", "owner=tests", "--property",
	         "write.parquet.compression-codec=zstd", NULL);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "create: %s", e);
	CHECK(strncmp(o, "created db.trades at ", 21) == 0);
	free(o), free(e);
	if (rc)
		return rc;
	rc = run(NULL, &o, &e, "append", "db.trades", nd, NULL);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "append: %s", e);
	CHECK(strncmp(o, "appended 3 rows to db.trades in snapshot ", 41) == 0);
	*first = appended_snapshot(o);
	/* stderr is not a terminal: one JSON progress line per file */
	json_t *j = json_loads(e, 0, NULL);
	CHECK(j && json_integer_value(json_object_get(j, "rows")) == 3);
	json_decref(j);
	free(o), free(e);
	next_millisecond();
	rc = run(NULL, &o, &e, "append", "db.trades", csv, pq, NULL);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "append: %s", e);
	CHECK(strncmp(o, "appended 5 rows to db.trades in snapshot ", 41) == 0);
	CHECK_EQ_INT(count_lines(e), 2);
	free(o), free(e);
	return rc;
}

/* ---- help and usage ------------------------------------------------------ */

TEST(cli_table_help_for_every_command)
{
	static const char *cmds[] = { "create", "append", "scan", "describe", "snapshots",
	                              "files", "tables", "alter", "drop", "rename", "delete",
	                              "merge", "compact", "update", "changes" };
	use_warehouse();
	char *o, *e;
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		CHECK_EQ_INT(run(NULL, &o, &e, cmds[i], "--help", NULL), 0);
		char want[64];
		snprintf(want, sizeof want, "usage: floe %s ", cmds[i]);
		if (strncmp(o, want, strlen(want)) != 0)
			th_fail(__FILE__, __LINE__, "%s --help: %s", cmds[i], o);
		CHECK(strstr(o, "--warehouse") != NULL);
		free(o), free(e);
	}
	CHECK_EQ_INT(run(NULL, &o, &e, "--help", NULL), 0);
	CHECK(strstr(o, "create") && strstr(o, "snapshots") && strstr(o, "parquet cat"));
	free(o), free(e);
	CHECK_EQ_INT(run(NULL, &o, &e, "create", "--help", NULL), 0);
	CHECK(strstr(o, "--property KEY=VALUE ...") && strstr(o, "--partition"));
	free(o), free(e);
	/* the parquet group still works after the global option */
	CHECK_EQ_INT(run(NULL, &o, &e, "parquet", "cat", "--help", NULL), 0);
	CHECK(strstr(o, "usage: floe parquet cat FILE") != NULL);
	free(o), free(e);
	CHECK_EQ_INT(run(NULL, &o, &e, "scan", "db.t", "--snapshot", "1", "--tag", "x", NULL), 2);
	CHECK(strstr(e, "at most one") != NULL);
	free(o), free(e);
	CHECK_EQ_INT(run(NULL, &o, &e, "scan", "db.t", "--as-of", "yesterday", NULL), 2);
	CHECK(strncmp(e, "floe: --as-of", 13) == 0);
	free(o), free(e);
	CHECK_EQ_INT(run(NULL, &o, &e, "alter", "db.t", "frobnicate", NULL), 2);
	CHECK(strstr(e, "add-column") != NULL);
	free(o), free(e);
	CHECK_EQ_INT(run(NULL, &o, &e, "alter", "db.t", "add-column", "x", NULL), 2);
	CHECK(strstr(e, "add-column NAME TYPE") != NULL);
	free(o), free(e);
}

TEST(cli_table_bad_identifiers_rejected)
{
	use_warehouse();
	char *o, *e;
	static const char *bad[] = { "nodot", "a..b", ".t", "db.", "a/b.c" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = run(NULL, &o, &e, "create", bad[i], "--schema", "id long", NULL);
		CHECK_EQ_INT(rc, 2);
		if (!strstr(e, "NAMESPACE.NAME"))
			th_fail(__FILE__, __LINE__, "%s: %s", bad[i], e);
		CHECK(strncmp(e, "floe: ", 6) == 0 && count_lines(e) == 1);
		free(o), free(e);
	}
	CHECK_EQ_INT(run(NULL, &o, &e, "scan", "db.nosuch", NULL), 1);
	CHECK(strstr(e, "db.nosuch") && strstr(e, "see 'floe tables'"));
	CHECK_EQ_INT(count_lines(e), 1);
	free(o), free(e);
	CHECK_EQ_INT(run(NULL, &o, &e, "drop", "db.nosuch", NULL), 1);
	CHECK(strstr(e, "see 'floe tables'") != NULL);
	free(o), free(e);
	CHECK_EQ_INT(run(NULL, &o, &e, "create", "db.t", NULL), 2);
	CHECK(strstr(e, "--schema") != NULL);
	free(o), free(e);
	CHECK_EQ_INT(run(NULL, &o, &e, "create", "db.t", "--schema", "id frob", NULL), 2);
	free(o), free(e);
}

/* ---- create, append, scan ------------------------------------------------ */

TEST(cli_table_create_append_scan_where_columns)
{
	use_warehouse();
	long long first = -1;
	REQUIRE(make_trades(&first) == 0);
	char *o = OK("scan", "db.trades", "--where", "price > 10", "--columns", "id,symbol",
	             "--format", "csv");
	/* CSV header first, then the rows in any order */
	CHECK(strncmp(o, "id,symbol\n", 10) == 0);
	CHECK_SORTED(o, "id,symbol\n1,ABC\n2,XYZ\n4,XYZ\n6,\n7,ABC\n");
	free(o);
	o = OK("scan", "db.trades", "--where", "symbol = 'ABC' and ts < '2024-01-03'",
	       "--format", "jsonl");
	CHECK_SORTED(o, "{\"id\":1,\"ts\":\"2024-01-01T10:00:00.000000Z\",\"symbol\":\"ABC\","
	                "\"price\":10.5}\n"
	                "{\"id\":3,\"ts\":\"2024-01-02T09:30:00.000000Z\",\"symbol\":\"ABC\","
	                "\"price\":null}\n");
	free(o);
	/* every row, once */
	o = OK("scan", "db.trades", "--columns", "id", "--format", "csv");
	CHECK_SORTED(o, "1\n2\n3\n4\n5\n6\n7\n8\nid\n");
	free(o);
	/* --limit, --stats, table output */
	char *e;
	CHECK_EQ_INT(run(NULL, &o, &e, "scan", "db.trades", "--where", "id >= 5", "--stats",
	                 "--format", "jsonl", NULL), 0);
	CHECK_EQ_INT(count_lines(o), 4);
	json_t *st = json_loads(e, 0, NULL);
	CHECK(st && json_integer_value(json_object_get(st, "rows_returned")) == 4);
	CHECK(st && json_is_integer(json_object_get(st, "files_skipped")));
	json_decref(st);
	free(o), free(e);
	o = OK("scan", "db.trades", "--limit", "2", "--format", "jsonl");
	CHECK_EQ_INT(count_lines(o), 2);
	free(o);
	o = OK("scan", "db.trades", "--where", "id = 2", "--format", "table");
	CHECK(strstr(o, "id  ts") && strstr(o, "XYZ") && strstr(o, "(1 row)"));
	free(o);
	/* a bad filter is a usage error */
	CHECK_EQ_INT(run(NULL, &o, &e, "scan", "db.trades", "--where", "price >", NULL), 2);
	CHECK(strncmp(e, "floe: ", 6) == 0);
	free(o), free(e);
	/* stdin, sniffed as NDJSON */
	char in[512];
	snprintf(in, sizeof in, "%s", th_path("stdin.ndjson"));
	write_file(in, "{\"id\":9,\"ts\":\"2024-02-01T00:00:00Z\",\"symbol\":\"S\",\"price\":1}\n");
	CHECK_EQ_INT(run(in, &o, &e, "append", "db.trades", "-", NULL), 0);
	CHECK(strstr(o, "appended 1 row to db.trades in snapshot ") != NULL);
	free(o), free(e);
	o = OK("tables");
	CHECK_EQ_STR(o, "db.trades\n");
	free(o);
	o = OK("describe", "db.trades");
	json_t *d = json_loads(o, 0, NULL);
	CHECK(d != NULL);
	json_decref(d);
	CHECK(strstr(o, "owner") != NULL);
	free(o);
}

TEST(cli_table_append_bad_input_commits_nothing)
{
	use_warehouse();
	char good[512], bad[512];
	snprintf(good, sizeof good, "%s", th_path("good.csv"));
	snprintf(bad, sizeof bad, "%s", th_path("bad.csv"));
	write_file(good, "id,name\n1,a\n");
	write_file(bad, "id,name\n2,b\nx,c\n");
	free(OK("create", "ns.t", "--schema", "id long not null, name string"));
	char *o, *e;
	CHECK_EQ_INT(run(NULL, &o, &e, "append", "ns.t", good, bad, NULL), 1);
	CHECK(strstr(e, "bad.csv:3") && strstr(e, "nothing appended"));
	free(o), free(e);
	o = OK("snapshots", "ns.t", "--format", "jsonl");
	CHECK_EQ_INT(count_lines(o), 0);
	free(o);
	/* an empty table scans to a header only */
	o = OK("scan", "ns.t", "--format", "csv");
	CHECK_EQ_STR(o, "id,name\n");
	free(o);
	o = OK("scan", "ns.t", "--format", "table");
	CHECK(strstr(o, "id  name") && strstr(o, "(0 rows)"));
	free(o);
	CHECK_EQ_INT(run(NULL, &o, &e, "append", "ns.t", th_path("none.txt"), NULL), 1);
	free(o), free(e);
}

/* ---- snapshots, files, time travel ---------------------------------------- */

TEST(cli_table_snapshots_files_and_time_travel)
{
	use_warehouse();
	long long first = -1;
	REQUIRE(make_trades(&first) == 0);
	REQUIRE(first > 0);
	char *o = OK("snapshots", "db.trades", "--format", "jsonl");
	CHECK_EQ_INT(count_lines(o), 2);
	json_t *s1 = json_loads(o, JSON_DISABLE_EOF_CHECK, NULL);
	REQUIRE(s1 != NULL);
	CHECK_EQ_INT(json_integer_value(json_object_get(s1, "snapshot_id")), first);
	CHECK(json_is_null(json_object_get(s1, "parent_id")));
	CHECK_EQ_STR(json_string_value(json_object_get(s1, "operation")), "append");
	long long t1 = json_integer_value(json_object_get(s1, "timestamp_ms"));
	char iso[64];
	snprintf(iso, sizeof iso, "%s", json_string_value(json_object_get(s1, "time")));
	json_decref(s1);
	free(o);
	o = OK("snapshots", "db.trades", "--format", "table");
	CHECK(strstr(o, "snapshot_id") && strstr(o, "append") && strstr(o, "*"));
	free(o);

	/* files: partition paths of both transforms, 8 records in all */
	o = OK("files", "db.trades", "--format", "jsonl");
	int nfiles = count_lines(o);
	CHECK(nfiles >= 5); /* days 01..04 and distinct symbols */
	long long records = 0;
	bool saw_null_bucket = false;
	for (char *line = o; line && *line;) {
		json_t *f = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
		REQUIRE(f != NULL);
		const char *part = json_string_value(json_object_get(f, "partition"));
		CHECK(part && strncmp(part, "ts_day=2024-01-0", 16) == 0 &&
		      strstr(part, "/symbol_bucket="));
		if (part && strstr(part, "symbol_bucket=null"))
			saw_null_bucket = true;
		records += json_integer_value(json_object_get(f, "record_count"));
		json_decref(f);
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	CHECK(saw_null_bucket);
	CHECK_EQ_INT(records, 8);
	free(o);
	char idtext[32];
	snprintf(idtext, sizeof idtext, "%lld", first);
	o = OK("files", "db.trades", "--snapshot", idtext, "--format", "csv");
	CHECK(strncmp(o, "path,partition,records,bytes\n", 29) == 0);
	CHECK(count_lines(o) >= 3 && count_lines(o) < nfiles + 1);
	free(o);

	const char *want = "1\n2\n3\nid\n";
	o = OK("scan", "db.trades", "--snapshot", idtext, "--columns", "id", "--format", "csv");
	CHECK_SORTED(o, want);
	free(o);
	char ms[32];
	snprintf(ms, sizeof ms, "%lld", t1);
	o = OK("scan", "db.trades", "--as-of", ms, "--columns", "id", "--format", "csv");
	CHECK_SORTED(o, want);
	free(o);
	o = OK("scan", "db.trades", "--as-of", iso, "--columns", "id", "--format", "csv");
	CHECK_SORTED(o, want);
	free(o);
	free(OK("alter", "db.trades", "tag", "v1", idtext));
	o = OK("scan", "db.trades", "--tag", "v1", "--columns", "id", "--format", "csv");
	CHECK_SORTED(o, want);
	free(o);
	/* a tag name is taken once; drop-tag frees it */
	char *e;
	CHECK_EQ_INT(run(NULL, &o, &e, "alter", "db.trades", "tag", "v1", NULL), 1);
	free(o), free(e);
	free(OK("alter", "db.trades", "drop-tag", "v1"));
	CHECK_EQ_INT(run(NULL, &o, &e, "scan", "db.trades", "--tag", "v1", NULL), 1);
	free(o), free(e);
	/* before the first snapshot: nothing */
	snprintf(ms, sizeof ms, "%lld", t1 - 86400000LL);
	CHECK_EQ_INT(run(NULL, &o, &e, "scan", "db.trades", "--as-of", ms, "--format", "csv",
	                 NULL), 1);
	free(o), free(e);
	/* now: all of it */
	static const char *later[] = { "2999-01-01", "2999-01-01T00:00", "2999-01-01 00:00:00+02:00",
	                               "2999-01-01T00:00:00.5Z", "32503680000000" };
	for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
		o = OK("scan", "db.trades", "--columns", "id", "--format", "csv", "--as-of", later[i]);
		if (count_lines(o) != 9)
			th_fail(__FILE__, __LINE__, "--as-of %s: %s", later[i], o);
		free(o);
	}
	CHECK_EQ_INT(run(NULL, &o, &e, "scan", "db.trades", "--as-of", "2999-01-01T25:00", NULL), 2);
	free(o), free(e);
}

/* ---- evolution ------------------------------------------------------------ */

TEST(cli_table_alter_schema_reads_old_files)
{
	use_warehouse();
	char a[512], b[512];
	snprintf(a, sizeof a, "%s", th_path("a.csv"));
	snprintf(b, sizeof b, "%s", th_path("b.ndjson"));
	write_file(a, "id,qty,price,name\n1,5,1.5,apple\n2,,2.25,pear\n");
	free(OK("create", "shop.items", "--schema",
	        "id long not null, qty int, price float, name string"));
	free(OK("append", "shop.items", a));
	free(OK("alter", "shop.items", "add-column", "note", "string", "after", "id"));
	free(OK("alter", "shop.items", "rename-column", "name", "label"));
	free(OK("alter", "shop.items", "drop-column", "price"));
	free(OK("alter", "shop.items", "widen-column", "qty", "long"));
	char *o = OK("scan", "shop.items", "--format", "jsonl");
	CHECK_SORTED(o, "{\"id\":1,\"note\":null,\"qty\":5,\"label\":\"apple\"}\n"
	                "{\"id\":2,\"note\":null,\"qty\":null,\"label\":\"pear\"}\n");
	free(o);
	write_file(b, "{\"id\":3,\"note\":\"new\",\"qty\":9000000000,\"label\":\"fig\"}\n");
	free(OK("append", "shop.items", b));
	o = OK("scan", "shop.items", "--where", "qty > 1", "--format", "jsonl");
	CHECK_SORTED(o, "{\"id\":1,\"note\":null,\"qty\":5,\"label\":\"apple\"}\n"
	                "{\"id\":3,\"note\":\"new\",\"qty\":9000000000,\"label\":\"fig\"}\n");
	free(o);
	free(OK("alter", "shop.items", "move-column", "label", "first"));
	o = OK("scan", "shop.items", "--where", "id = 3", "--format", "csv");
	CHECK_EQ_STR(o, "label,id,note,qty\nfig,3,new,9000000000\n");
	free(o);
	/* properties */
	free(OK("alter", "shop.items", "set-property", "team", "fruit"));
	o = OK("describe", "shop.items");
	CHECK(strstr(o, "fruit") != NULL);
	free(o);
	free(OK("alter", "shop.items", "unset-property", "team"));
	o = OK("describe", "shop.items");
	CHECK(strstr(o, "fruit") == NULL);
	free(o);
	char *e;
	CHECK_EQ_INT(run(NULL, &o, &e, "alter", "shop.items", "rename-column", "nosuch", "x",
	                 NULL), 1);
	CHECK(strstr(e, "nosuch") != NULL);
	free(o), free(e);
}

TEST(cli_table_set_partition_scans_both_specs)
{
	use_warehouse();
	char a[512], b[512];
	snprintf(a, sizeof a, "%s", th_path("a.csv"));
	snprintf(b, sizeof b, "%s", th_path("b.csv"));
	write_file(a, "id,cat\n1,a\n2,b\n3,c\n");
	write_file(b, "id,cat\n4,b\n5,c\n6,b\n");
	free(OK("create", "p.t", "--schema", "id long, cat string"));
	free(OK("append", "p.t", a));
	free(OK("alter", "p.t", "set-partition", "cat"));
	free(OK("append", "p.t", b));
	char *o = OK("files", "p.t", "--format", "csv");
	CHECK(strstr(o, ",,3,") != NULL);      /* the unpartitioned file */
	CHECK(strstr(o, ",cat=b,2,") != NULL); /* and the new spec's */
	CHECK(strstr(o, ",cat=c,1,") != NULL);
	free(o);
	o = OK("scan", "p.t", "--where", "cat = 'b'", "--columns", "id", "--format", "csv");
	CHECK_SORTED(o, "2\n4\n6\nid\n");
	free(o);
	o = OK("scan", "p.t", "--where", "cat in ('a', 'c')", "--columns", "id", "--format",
	       "csv");
	CHECK_SORTED(o, "1\n3\n5\nid\n");
	free(o);
}

/* ---- drop and rename ----------------------------------------------------- */

TEST(cli_table_drop_purge_and_rename)
{
	use_warehouse();
	char a[512];
	snprintf(a, sizeof a, "%s", th_path("a.csv"));
	write_file(a, "id\n1\n");
	char *o = OK("create", "d.t1", "--schema", "id long");
	char loc[1024] = "";
	if (strncmp(o, "created d.t1 at ", 16) == 0)
		snprintf(loc, sizeof loc, "%.*s", (int)strcspn(o + 16, "\n"), o + 16);
	free(o);
	free(OK("append", "d.t1", a));
	free(OK("create", "d.t2", "--schema", "id long"));
	free(OK("rename", "d.t2", "d.t3"));
	o = OK("tables", "d");
	CHECK_EQ_STR(o, "d.t1\nd.t3\n");
	free(o);
	char *e;
	CHECK_EQ_INT(run(NULL, &o, &e, "rename", "d.t1", "d.t3", NULL), 1);
	free(o), free(e);
	struct stat sb;
	REQUIRE(loc[0] != '\0');
	CHECK(stat(loc, &sb) == 0);
	free(OK("drop", "d.t1", "--purge"));
	CHECK(stat(loc, &sb) != 0);
	o = OK("tables");
	CHECK_EQ_STR(o, "d.t3\n");
	free(o);
	free(OK("drop", "d.t3"));
	o = OK("tables");
	CHECK_EQ_STR(o, "");
	free(o);
}

TEST(cli_table_warehouse_from_env_and_after_command)
{
	use_warehouse();
	char other[512];
	snprintf(other, sizeof other, "%s", th_path("other"));
	free(OK("create", "e.t", "--schema", "id long", "--warehouse", other));
	char *o = OK("tables", "--warehouse", other);
	CHECK_EQ_STR(o, "e.t\n");
	free(o);
	o = OK("tables");
	CHECK_EQ_STR(o, "");
	free(o);
	/* FLOE_WAREHOUSE when no option names one */
	setenv("FLOE_WAREHOUSE", other, 1);
	char *argv[] = { (char *)"floe", (char *)"tables", NULL };
	char out[512];
	snprintf(out, sizeof out, "%s", th_path("env.out"));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		int rc = floe_cli_main(2, argv);
		fflush(stdout);
		_exit(rc);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	o = th_read_file(out, NULL);
	CHECK_EQ_STR(o, "e.t\n");
	free(o);
}

/* ---- an independent reader ------------------------------------------------ */

/* "id|symbol|price" for each JSON line (numbers normalised), sorted. */
static char *normalise_rows(const char *jsonl)
{
	char *copy = strdup(jsonl), *save = NULL;
	size_t cap = strlen(jsonl) * 2 + 64, len = 0;
	char *out = calloc(1, cap);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(l, 0, NULL);
		if (!j) {
			th_fail(__FILE__, __LINE__, "not JSON: %s", l);
			continue;
		}
		json_t *id = json_object_get(j, "id"), *sym = json_object_get(j, "symbol"),
		       *px = json_object_get(j, "price");
		long long idv = json_is_string(id) ? strtoll(json_string_value(id), NULL, 10)
		                                   : (long long)json_integer_value(id);
		char pxs[48] = "null";
		if (json_is_number(px))
			snprintf(pxs, sizeof pxs, "%.17g", json_number_value(px));
		len += (size_t)snprintf(out + len, cap - len, "%lld|%s|%s\n", idv,
		                        json_is_string(sym) ? json_string_value(sym) : "null", pxs);
		json_decref(j);
	}
	free(copy);
	char *s = sorted_lines(out);
	free(out);
	return s;
}

TEST(cli_table_files_match_duckdb)
{
	const char *peers = th_peers();
	use_warehouse();
	long long first = -1;
	REQUIRE(make_trades(&first) == 0);
	char *files = OK("files", "db.trades", "--format", "jsonl");
	char *scan = OK("scan", "db.trades", "--columns", "id,symbol,price", "--format", "jsonl");
	size_t cap = 1 << 16, len = 0;
	char *duck = calloc(1, cap);
	int nfiles = 0;
	for (char *line = files; line && *line;) {
		json_t *f = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
		REQUIRE(f != NULL);
		const char *path = json_string_value(json_object_get(f, "path"));
		REQUIRE(path != NULL);
		char *o = NULL;
		int rc = th_run(&o, "node %s/duckdb-query.mjs --format jsonl \"select id, symbol, "
		                "price from read_parquet('%s') order by id\"", peers, path);
		if (rc != 0)
			th_fail(__FILE__, __LINE__, "duckdb on %s failed", path);
		/* the file's own record count agrees with what DuckDB reads */
		CHECK_EQ_INT(count_lines(o), json_integer_value(json_object_get(f, "record_count")));
		if (o && len + strlen(o) + 1 < cap) {
			memcpy(duck + len, o, strlen(o));
			len += strlen(o);
		}
		free(o);
		json_decref(f);
		nfiles++;
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	CHECK(nfiles > 0);
	char *a = normalise_rows(scan), *b = normalise_rows(duck);
	CHECK_EQ_STR(a, b);
	CHECK_EQ_INT(count_lines(a), 8);
	free(a);
	free(b);
	free(duck);
	free(scan);
	free(files);
}

/* A table written by another engine, read from its metadata file with its
 * relative paths mapped onto the copy here; DuckDB reads the same files. */
TEST(cli_table_scan_foreign_metadata_with_map)
{
	const char *shared = th_shared();
	const char *peers = th_peers();
	use_warehouse();
	char root[1024], meta[1200], map[1300];
	snprintf(root, sizeof root, "%s/testdata/iceberg-interop/tables/duckdb__hive_partitioned_table",
	         shared);
	snprintf(meta, sizeof meta, "%s/metadata/v4.metadata.json", root);
	snprintf(map, sizeof map, "data/persistent/hive_partitioned_table=%s", root);
	struct stat sb;
	if (stat(meta, &sb) != 0)
		th_skip("%s is missing", meta);
	/* INDEX.md: 6 live rows, two snapshots */
	char *o = OK("scan", "--metadata", meta, "--map", map, "--columns", "user_id", "--format",
	             "csv");
	CHECK_EQ_INT(count_lines(o), 7);
	char *d = NULL;
	int rc = th_run(&d, "node %s/duckdb-query.mjs --format csv \"select user_id from "
	                "read_parquet('%s/data/**/*.parquet', union_by_name=true, "
	                "hive_partitioning=false)\"", peers, root);
	CHECK_EQ_INT(rc, 0);
	CHECK_SORTED(o, d);
	free(d);
	free(o);
	o = OK("snapshots", "--metadata", meta, "--format", "jsonl");
	CHECK_EQ_INT(count_lines(o), 2);
	json_t *s1 = json_loads(o, JSON_DISABLE_EOF_CHECK, NULL);
	char id[32];
	snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(s1, "snapshot_id")));
	json_decref(s1);
	free(o);
	o = OK("scan", "--metadata", meta, "--map", map, "--snapshot", id, "--format", "jsonl");
	CHECK_EQ_INT(count_lines(o), 2);
	free(o);
	o = OK("files", "--metadata", meta, "--map", map, "--format", "csv");
	CHECK_EQ_INT(count_lines(o), 7);
	CHECK(strstr(o, root) != NULL);
	free(o);
	/* TABLE and --metadata together, or --map alone, are usage errors */
	char *e;
	CHECK_EQ_INT(run(NULL, &o, &e, "scan", "db.t", "--metadata", meta, NULL), 2);
	free(o), free(e);
	CHECK_EQ_INT(run(NULL, &o, &e, "scan", "db.t", "--map", "a=b", NULL), 2);
	free(o), free(e);
}

/* Parquet rows on stdin (sniffed by their magic) and CSV by --input-format. */
TEST(cli_table_append_stdin_parquet_and_forced_format)
{
	use_warehouse();
	char src[512], pq[512], txt[512];
	snprintf(src, sizeof src, "%s", th_path("src.csv"));
	snprintf(pq, sizeof pq, "%s", th_path("rows.bin"));
	snprintf(txt, sizeof txt, "%s", th_path("rows.txt"));
	write_file(src, "id,name\n1,a\n2,b\n");
	write_file(txt, "id,name\n3,c\n");
	/* Parquet with int ids: widened to the table's long */
	free(OK("parquet", "write", pq, src, "--schema", "id int not null, name string"));
	free(OK("create", "s.t", "--schema", "id long not null, name string"));
	char *o, *e;
	CHECK_EQ_INT(run(pq, &o, &e, "append", "s.t", "-", NULL), 0);
	CHECK(strstr(o, "appended 2 rows") != NULL);
	free(o), free(e);
	/* rows.bin is Parquet by its magic even without the extension */
	free(OK("append", "s.t", pq));
	CHECK_EQ_INT(run(NULL, &o, &e, "append", "s.t", txt, NULL), 2);
	CHECK(strstr(e, "--input-format") != NULL);
	free(o), free(e);
	free(OK("append", "s.t", txt, "--input-format", "csv"));
	o = OK("scan", "s.t", "--format", "csv");
	CHECK_SORTED(o, "1,a\n1,a\n2,b\n2,b\n3,c\nid,name\n");
	free(o);
	o = OK("snapshots", "s.t", "--format", "csv");
	CHECK_EQ_INT(count_lines(o), 4);
	free(o);
}

/* ---- delete ---------------------------------------------------------------- */

TEST(cli_table_delete_both_modes)
{
	use_warehouse();
	char a[512];
	snprintf(a, sizeof a, "%s", th_path("d.csv"));
	write_file(a, "id,ts,symbol\n1,2024-01-01T10:00:00Z,ABC\n2,2024-01-01T11:00:00Z,XYZ\n"
	              "3,2024-01-02T09:00:00Z,ABC\n4,2024-01-02T10:00:00Z,XYZ\n");
	const char *modes[2] = { "write.delete.mode=copy-on-write", "write.delete.mode=merge-on-read" };
	for (int m = 0; m < 2; m++) {
		const char *name = m ? "db.dm" : "db.dc";
		free(OK("create", name, "--schema", "id long not null, ts timestamptz, symbol string",
		        "--partition", "day(ts)", "--property", modes[m]));
		free(OK("append", name, a));
		char *o = OK("delete", name, "--where", "symbol = 'XYZ' and id < 4");
		CHECK(strncmp(o, "deleted 1 row from ", 19) == 0);
		CHECK(strstr(o, m ? "merge-on-read: 1 position delete file" : "copy-on-write: 1 data file "
		                                                                 "removed, 1 written"));
		free(o);
		o = OK("scan", name, "--columns", "id", "--format", "csv");
		CHECK_SORTED(o, "id\n1\n3\n4\n");
		free(o);
		char *e;
		CHECK_EQ_INT(run(NULL, &o, &e, "scan", name, "--stats", "--format", "csv", NULL), 0);
		CHECK(strstr(e, m ? "\"delete_files\":1" : "\"delete_files\":0"));
		free(o), free(e);
		o = OK("delete", name, "--where", "id > 100");
		CHECK(strstr(o, "deleted 0 rows") != NULL);
		free(o);
		/* a bad filter and a missing --where are usage/clear errors */
		CHECK_EQ_INT(run(NULL, &o, &e, "delete", name, "--where", "nosuch = 1", NULL), 1);
		CHECK(strstr(e, "nosuch") != NULL);
		free(o), free(e);
		CHECK_EQ_INT(run(NULL, &o, &e, "delete", name, NULL), 2);
		CHECK(strstr(e, "--where") != NULL);
		free(o), free(e);
		o = OK("delete", name, "--all");
		CHECK(strncmp(o, "deleted 3 rows from ", 20) == 0);
		free(o);
		o = OK("scan", name, "--format", "csv");
		CHECK_EQ_STR(o, "id,ts,symbol\n");
		free(o);
		o = OK("snapshots", name, "--format", "jsonl");
		CHECK(strstr(o, "\"operation\":\"delete\"") != NULL);
		free(o);
	}
}

/* ---- merge ----------------------------------------------------------------- */

TEST(cli_table_merge_both_modes)
{
	use_warehouse();
	char a[512], up[512], dup[512];
	snprintf(a, sizeof a, "%s", th_path("m.csv"));
	snprintf(up, sizeof up, "%s", th_path("up.ndjson"));
	snprintf(dup, sizeof dup, "%s", th_path("dup.csv"));
	write_file(a, "id,ts,status,qty\n1,2024-01-01T10:00:00Z,open,1\n2,2024-01-01T11:00:00Z,open,2\n"
	              "3,2024-01-02T09:00:00Z,open,3\n");
	write_file(up, "{\"id\":2,\"ts\":\"2024-01-01T11:00:00Z\",\"status\":\"filled\",\"qty\":20}\n"
	               "{\"id\":3,\"ts\":\"2024-01-02T09:00:00Z\",\"status\":\"cancelled\",\"qty\":0}\n"
	               "{\"id\":4,\"ts\":\"2024-01-03T09:00:00Z\",\"status\":\"open\",\"qty\":4}\n");
	write_file(dup, "id,ts,status,qty\n5,2024-01-01T10:00:00Z,open,1\n5,2024-01-01T10:00:00Z,open,9\n");
	const char *modes[2] = { "write.merge.mode=copy-on-write", "write.merge.mode=merge-on-read" };
	for (int m = 0; m < 2; m++) {
		const char *name = m ? "db.om" : "db.oc";
		free(OK("create", name, "--schema",
		        "id long not null, ts timestamptz, status string, qty int", "--partition", "day(ts)",
		        "--property", modes[m]));
		free(OK("append", name, a));
		char *o = OK("merge", name, up, "--on", "id", "--delete-when", "status = 'cancelled'");
		CHECK(strncmp(o, "merged 3 rows into ", 19) == 0);
		CHECK(strstr(o, m ? "merge-on-read: 2 upserted" : "copy-on-write: 1 inserted, 1 updated, "
		                                                  "1 deleted, 0 unchanged, 0 older "
		                                                  "skipped; 2 data files rewritten"));
		free(o);
		o = OK("scan", name, "--columns", "id,status,qty", "--format", "csv");
		CHECK_SORTED(o, "id,status,qty\n1,open,1\n2,filled,20\n4,open,4\n");
		free(o);
		char *e;
		CHECK_EQ_INT(run(NULL, &o, &e, "merge", name, dup, "--on", "id", NULL), 1);
		CHECK(strstr(e, "precombine") != NULL);
		free(o), free(e);
		o = OK("merge", name, dup, "--on", "id", "--precombine", "qty");
		free(o);
		o = OK("scan", name, "--columns", "id,qty", "--where", "id = 5", "--format", "csv");
		CHECK_EQ_STR(o, "id,qty\n5,9\n");
		free(o);
		/* --skip-older: a source row older than the table's is left out */
		char old[512];
		snprintf(old, sizeof old, "%s", th_path("old.csv"));
		write_file(old, "id,ts,status,qty\n5,2024-01-01T10:00:00Z,late,3\n"
		                "6,2024-01-01T10:00:00Z,open,6\n");
		CHECK_EQ_INT(run(NULL, &o, &e, "merge", name, old, "--on", "id", "--skip-older", NULL), 1);
		CHECK(strstr(e, "precombine column") != NULL);
		free(o), free(e);
		o = OK("merge", name, old, "--on", "id", "--precombine", "qty", "--skip-older");
		CHECK(strstr(o, m ? "1 upserted, 1 older skipped" : "1 inserted, 0 updated, 0 deleted, "
		                                                     "0 unchanged, 1 older skipped"));
		free(o);
		o = OK("scan", name, "--columns", "id,status,qty", "--where", "id >= 5", "--format", "csv");
		CHECK_SORTED(o, "id,status,qty\n5,open,9\n6,open,6\n");
		free(o);
		CHECK_EQ_INT(run(NULL, &o, &e, "merge", name, dup, NULL), 2);
		CHECK(strstr(e, "--on") != NULL);
		free(o), free(e);
		CHECK_EQ_INT(run(NULL, &o, &e, "merge", name, dup, "--on", "nosuch", NULL), 1);
		CHECK(strstr(e, "nosuch") != NULL);
		free(o), free(e);
	}
}

TEST(cli_table_compact)
{
	use_warehouse();
	char a[512];
	snprintf(a, sizeof a, "%s", th_path("c.csv"));
	free(OK("create", "db.cp", "--schema", "id long not null, ts timestamptz", "--partition",
	        "day(ts)", "--property", "write.delete.mode=merge-on-read"));
	for (int i = 0; i < 3; i++) {
		char text[256];
		snprintf(text, sizeof text, "id,ts\n%d,2024-01-01T10:00:00Z\n%d,2024-01-01T11:00:00Z\n",
		         2 * i, 2 * i + 1);
		write_file(a, text);
		free(OK("append", "db.cp", a));
	}
	free(OK("delete", "db.cp", "--where", "id = 3"));
	char *o = OK("compact", "db.cp", "--target-file-size", "1048576");
	CHECK(strstr(o, "3 data files") && strstr(o, "into 1 ") && strstr(o, "5 rows") &&
	      strstr(o, "1 delete file dropped"));
	free(o);
	o = OK("scan", "db.cp", "--columns", "id", "--format", "csv");
	CHECK_SORTED(o, "id\n0\n1\n2\n4\n5\n");
	free(o);
	o = OK("compact", "db.cp");
	CHECK(strncmp(o, "nothing to compact", 18) == 0);
	free(o);
	char *e;
	CHECK_EQ_INT(run(NULL, &o, &e, "compact", "db.cp", "--target-file-size", "12", NULL), 2);
	free(o), free(e);
}

TEST(cli_table_update_both_modes)
{
	use_warehouse();
	char a[512];
	snprintf(a, sizeof a, "%s", th_path("u.csv"));
	write_file(a, "id,ts,status\n1,2024-01-01T10:00:00Z,open\n2,2024-01-01T11:00:00Z,open\n"
	              "3,2024-01-02T09:00:00Z,open\n");
	const char *modes[2] = { "write.update.mode=copy-on-write", "write.update.mode=merge-on-read" };
	for (int m = 0; m < 2; m++) {
		const char *name = m ? "db.um" : "db.uc";
		free(OK("create", name, "--schema", "id long not null, ts timestamptz, status string",
		        "--partition", "day(ts)", "--property", modes[m]));
		free(OK("append", name, a));
		char *o = OK("update", name, "--set", "status = 'filled'", "--where", "id >= 2");
		CHECK(strncmp(o, "updated 2 rows of ", 18) == 0);
		CHECK(strstr(o, m ? "merge-on-read" : "copy-on-write") != NULL);
		free(o);
		o = OK("scan", name, "--columns", "id,status", "--format", "csv");
		CHECK_SORTED(o, "id,status\n1,open\n2,filled\n3,filled\n");
		free(o);
		/* expressions over the old row; a time moved to another day */
		free(OK("update", name, "--set", "status = upper(status) || '-' || CAST(id AS string), "
		        "ts = ts - INTERVAL '1 day'", "--where", "id = 3"));
		o = OK("scan", name, "--columns", "id,ts,status", "--format", "csv", "--where",
		       "ts < '2024-01-02'");
		CHECK_SORTED(o, "id,ts,status\n1,2024-01-01T10:00:00.000000Z,open\n"
		                "2,2024-01-01T11:00:00.000000Z,filled\n"
		                "3,2024-01-01T09:00:00.000000Z,FILLED-3\n");
		free(o);
		char *e0;
		CHECK_EQ_INT(run(NULL, &o, &e0, "update", name, "--set", "id = id * 2.5 + 'x'", "--all",
		                 NULL), 1);
		CHECK(strstr(e0, "--set id (long)") != NULL && strstr(e0, "docs/expressions.md") != NULL);
		free(o), free(e0);
		o = OK("update", name, "--set", "status = NULL", "--all");
		CHECK(strncmp(o, "updated 3 rows", 14) == 0);
		free(o);
		o = OK("scan", name, "--where", "status is null", "--columns", "id", "--format", "csv");
		CHECK_SORTED(o, "id\n1\n2\n3\n");
		free(o);
		char *e;
		CHECK_EQ_INT(run(NULL, &o, &e, "update", name, "--where", "id = 1", NULL), 2);
		free(o), free(e);
		CHECK_EQ_INT(run(NULL, &o, &e, "update", name, "--set", "id = NULL", "--all", NULL), 1);
		CHECK(strstr(e, "not null") != NULL);
		free(o), free(e);
	}
}

TEST(cli_table_changes_and_incremental_scan)
{
	use_warehouse();
	char a[512], b[512];
	snprintf(a, sizeof a, "%s", th_path("ch1.csv"));
	snprintf(b, sizeof b, "%s", th_path("ch2.csv"));
	write_file(a, "id,v\n1,10\n2,20\n");
	write_file(b, "id,v\n3,30\n");
	free(OK("create", "db.ch", "--schema", "id long not null, v long", "--identifier", "id"));
	free(OK("append", "db.ch", a));
	char *o = OK("snapshots", "db.ch", "--format", "csv");
	char first[32] = "";
	char *nl = strchr(o, '\n');
	if (nl)
		snprintf(first, sizeof first, "%.*s", (int)strcspn(nl + 1, ","), nl + 1);
	free(o);
	free(OK("append", "db.ch", b));
	o = OK("scan", "db.ch", "--from", first, "--format", "csv");
	CHECK_EQ_STR(o, "id,v\n3,30\n");
	free(o);
	free(OK("update", "db.ch", "--set", "v = 21", "--where", "id = 2"));
	char *e;
	CHECK_EQ_INT(run(NULL, &o, &e, "scan", "db.ch", "--from", first, NULL), 2);
	CHECK(strstr(e, "not an append") != NULL);
	free(o), free(e);
	o = OK("changes", "db.ch", "--from", first, "--format", "csv");
	static const char head[] = "id,v,_change_type,_commit_snapshot_id,_commit_sequence_number\n"
	                           "3,30,insert,";
	CHECK(strncmp(o, head, strlen(head)) == 0);
	CHECK(strstr(o, "\n2,20,update_before,") && strstr(o, "\n2,21,update_after,"));
	CHECK_EQ_INT(count_lines(o), 4);
	free(o);
	CHECK_EQ_INT(run(NULL, &o, &e, "changes", "db.ch", NULL), 2);
	free(o), free(e);
}
