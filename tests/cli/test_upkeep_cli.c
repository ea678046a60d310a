/* tests/cli/test_upkeep_cli.c - `floe expire`, `floe vacuum` and `floe
 * rewrite-manifests` run in-process in a temporary warehouse: outputs,
 * usage errors, scans and time travel afterwards, DuckDB over the files. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_run.h"
#include "harness.h"

static char wh[512];

static void use_warehouse(void)
{
	snprintf(wh, sizeof wh, "%s", th_path("wh"));
}

/* `floe --warehouse WH ARGS...`; returns the exit code, output malloc'ed. */
static int run(char **out, char **errout, ...)
{
	const char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, errout);
	argv[argc++] = "floe";
	argv[argc++] = "--warehouse";
	argv[argc++] = wh;
	const char *a;
	while (argc < 31 && (a = va_arg(ap, const char *)) != NULL)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return cli_run_argv(NULL, out, errout, argc, argv);
}

#define OK(...) ok_run(__LINE__, __VA_ARGS__, NULL)
static char *ok_run(int line, const char *first, ...)
{
	const char *v[16];
	int n = 0;
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a && n < 15; a = va_arg(ap, const char *))
		v[n++] = a;
	va_end(ap);
	while (n < 16)
		v[n++] = NULL;
	char *o = NULL, *e = NULL;
	int rc = run(&o, &e, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], NULL);
	if (rc != 0)
		th_fail(__FILE__, line, "floe %s %s -> %d: %s", first, v[1] ? v[1] : "", rc, e ? e : "");
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

static int count_lines(const char *text)
{
	int n = 0;
	for (; text && *text; text++)
		n += *text == '\n';
	return n;
}

static long long appended_snapshot(const char *out)
{
	const char *p = out ? strstr(out, "in snapshot ") : NULL;
	return p ? strtoll(p + 12, NULL, 10) : -1;
}

/* A table db.t (id long, sym string, partitioned by sym) with `n` appends
 * of 4 rows each; snapshot ids into ids[]. */
static void make_table(int n, long long *ids)
{
	free(OK("create", "db.t", "--schema", "id long not null, sym string", "--partition",
	        "identity(sym)"));
	char csv[256], in[1024];
	snprintf(in, sizeof in, "%s", th_path("in.csv"));
	for (int i = 0; i < n; i++) {
		snprintf(csv, sizeof csv, "id,sym\n%d,a\n%d,b\n%d,a\n%d,c\n", i * 4, i * 4 + 1,
		         i * 4 + 2, i * 4 + 3);
		write_file(in, csv);
		char *o = OK("append", "db.t", in);
		ids[i] = appended_snapshot(o);
		free(o);
		struct timespec ts = { 0, 3000000 };
		nanosleep(&ts, NULL);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of `text` sorted (malloc'ed); frees `text`. */
static char *sorted_lines(char *text)
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
	free(text);
	return out;
}

/* The rows of the current snapshot (or `snapshot`) as sorted CSV lines. */
static char *scan_sorted_ids(const char *snapshot)
{
	char *o = snapshot ? OK("scan", "db.t", "--snapshot", snapshot, "--format", "csv")
	                   : OK("scan", "db.t", "--format", "csv");
	return sorted_lines(o);
}

TEST(cli_upkeep_expire_keeps_tags_and_retain_last)
{
	use_warehouse();
	long long ids[5];
	make_table(5, ids);
	char s0[32], s4[32], s3[32], s1[32];
	snprintf(s0, sizeof s0, "%lld", ids[0]);
	snprintf(s1, sizeof s1, "%lld", ids[1]);
	snprintf(s3, sizeof s3, "%lld", ids[3]);
	snprintf(s4, sizeof s4, "%lld", ids[4]);
	free(OK("alter", "db.t", "tag", "first", s0));
	char *before0 = scan_sorted_ids(s0), *before3 = scan_sorted_ids(s3);
	char *before4 = scan_sorted_ids(NULL);
	/* far in the future: only retain-last and the tag hold snapshots */
	char *o = OK("expire", "db.t", "--older-than", "2999-01-01", "--retain-last", "2");
	CHECK(o && strstr(o, "expired 2 snapshots of db.t (3 left)"));
	CHECK_EQ_INT(count_lines(o), 1);
	free(o);
	o = OK("snapshots", "db.t", "--format", "jsonl");
	CHECK_EQ_INT(count_lines(o), 3);
	CHECK(strstr(o, s0) && strstr(o, s3) && strstr(o, s4) && !strstr(o, s1));
	free(o);
	char *after0 = scan_sorted_ids(s0), *after3 = scan_sorted_ids(s3);
	char *after4 = scan_sorted_ids(NULL);
	CHECK_EQ_STR(after0, before0);
	CHECK_EQ_STR(after3, before3);
	CHECK_EQ_STR(after4, before4);
	CHECK_EQ_INT(count_lines(after4), 21); /* header + 20 rows */
	free(before0), free(before3), free(before4), free(after0), free(after3), free(after4);
	/* an expired snapshot is gone for time travel */
	char *e = NULL;
	CHECK_EQ_INT(run(NULL, &e, "scan", "db.t", "--snapshot", s1, NULL), 1);
	free(e);
	/* the defaults (5 days) keep these young snapshots */
	o = OK("expire", "db.t");
	CHECK(o && strstr(o, "expired 0 snapshots of db.t (3 left)"));
	free(o);

	/* DuckDB over the data files left agrees with the scan */
	const char *peers = th_peers();
	o = OK("files", "db.t", "--format", "csv");
	char sql[8192];
	size_t k = (size_t)snprintf(sql, sizeof sql, "select count(*) as n, sum(id) as s from "
	                            "read_parquet([");
	int nfiles = 0;
	char *save = NULL;
	for (char *l = strtok_r(o, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "path", 4) == 0)
			continue;
		char *comma = strchr(l, ',');
		if (comma)
			*comma = 0;
		k += (size_t)snprintf(sql + k, sizeof sql - k, "%s'%s'", nfiles++ ? "," : "", l);
		REQUIRE(k < sizeof sql);
	}
	snprintf(sql + k, sizeof sql - k, "])");
	free(o);
	char *dd = NULL;
	REQUIRE(th_run(&dd, "node %s/duckdb-query.mjs --format jsonl \"%s\"", peers, sql) == 0);
	if (!dd || !strstr(dd, "\"n\":\"20\"") || !strstr(dd, "\"s\":\"190\""))
		th_fail(__FILE__, __LINE__, "DuckDB over the files: %s", dd ? dd : "");
	free(dd);
}

static void age(const char *path, long long days)
{
	struct timeval tv[2];
	time_t when = time(NULL) - (time_t)(days * 86400);
	tv[0].tv_sec = tv[1].tv_sec = when;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	CHECK(utimes(path, tv) == 0);
}

TEST(cli_upkeep_vacuum_lists_then_removes_old_orphans)
{
	use_warehouse();
	long long ids[2];
	make_table(2, ids);
	char *before = scan_sorted_ids(NULL);
	char old1[1024], old2[1024], young[1024];
	snprintf(old1, sizeof old1, "%s/db/t/data/sym=a/left-over.parquet", wh);
	snprintf(old2, sizeof old2, "%s/db/t/metadata/left-over-m0.avro", wh);
	snprintf(young, sizeof young, "%s/db/t/data/in-flight.parquet", wh);
	write_file(old1, "x");
	write_file(old2, "yy");
	write_file(young, "z");
	age(old1, 4);
	age(old2, 10);
	char *o = OK("vacuum", "db.t", "--dry-run");
	char want[4096];
	snprintf(want, sizeof want, "%s\n%s\nwould remove 2 orphan files (3 bytes) from db.t\n", old1,
	         old2);
	CHECK_EQ_STR(o, want);
	free(o);
	CHECK(access(old1, F_OK) == 0 && access(old2, F_OK) == 0);
	o = OK("vacuum", "db.t");
	snprintf(want, sizeof want, "%s\n%s\nremoved 2 orphan files (3 bytes) from db.t\n", old1, old2);
	CHECK_EQ_STR(o, want);
	free(o);
	CHECK(access(old1, F_OK) != 0 && access(old2, F_OK) != 0);
	CHECK(access(young, F_OK) == 0);
	/* a cut-off in the future: the young one too, and nothing referenced */
	o = OK("vacuum", "db.t", "--older-than", "2999-01-01");
	snprintf(want, sizeof want, "%s\nremoved 1 orphan file (1 byte", young);
	CHECK(o && strncmp(o, want, strlen(want) - 6) == 0);
	CHECK_EQ_INT(count_lines(o), 2);
	free(o);
	char *after = scan_sorted_ids(NULL);
	CHECK_EQ_STR(after, before);
	free(before);
	free(after);
	char *e = NULL;
	CHECK_EQ_INT(run(NULL, &e, "vacuum", "db.t", "--older-than", "yesterday", NULL), 2);
	free(e);
}

TEST(cli_upkeep_rewrite_manifests_merges_and_scans_the_same)
{
	use_warehouse();
	long long ids[6];
	make_table(6, ids);
	char *before = scan_sorted_ids(NULL);
	char s2[32];
	snprintf(s2, sizeof s2, "%lld", ids[2]);
	char *before2 = scan_sorted_ids(s2);
	char *o = OK("rewrite-manifests", "db.t");
	CHECK(o && strstr(o, "rewrote 6 manifests of db.t into 1 (0 kept) in snapshot "));
	CHECK_EQ_INT(count_lines(o), 1);
	free(o);
	o = OK("rewrite-manifests", "db.t");
	CHECK(o && strstr(o, "nothing to rewrite in db.t"));
	free(o);
	char *after = scan_sorted_ids(NULL), *after2 = scan_sorted_ids(s2);
	CHECK_EQ_STR(after, before);
	CHECK_EQ_STR(after2, before2);
	free(before), free(after), free(before2), free(after2);
	char *e = NULL;
	o = NULL;
	CHECK_EQ_INT(run(&o, &e, "scan", "db.t", "--stats", "--format", "csv", NULL), 0);
	CHECK(e && strstr(e, "\"manifests\":1,"));
	free(o);
	free(e);
	o = OK("snapshots", "db.t", "--format", "jsonl");
	CHECK(o && strstr(o, "\"operation\":\"replace\"") && strstr(o, "\"manifests-replaced\":\"6\""));
	free(o);
}

TEST(cli_upkeep_usage_errors)
{
	use_warehouse();
	long long ids[1];
	make_table(1, ids);
	char *e = NULL;
	CHECK_EQ_INT(run(NULL, &e, "expire", "db.t", "--retain-last", "0", NULL), 2);
	CHECK(e && strstr(e, "--retain-last"));
	free(e);
	e = NULL;
	CHECK_EQ_INT(run(NULL, &e, "expire", "db.t", "--older-than", "soon", NULL), 2);
	free(e);
	e = NULL;
	CHECK_EQ_INT(run(NULL, &e, "expire", "notatable", NULL), 2);
	free(e);
	e = NULL;
	CHECK_EQ_INT(run(NULL, &e, "rewrite-manifests", "db.missing", NULL), 1);
	CHECK(e && strstr(e, "floe tables"));
	free(e);
	e = NULL;
	CHECK_EQ_INT(run(NULL, &e, "vacuum", NULL), 2);
	free(e);
	char *o = OK("expire", "--help");
	CHECK(o && strstr(o, "--retain-last N") && strstr(o, "--older-than TIME"));
	free(o);
}
