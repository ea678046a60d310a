/* tests/util/test_fs.c - util/fs.h: atomic replace, mkdir -p, capped reads,
 * lexical containment, guarded tree removal, walks, uuid4. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "util/fs.h"

/* Entries of `dir` whose name contains `needle`. */
static int count_entries(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, needle))
			n++;
	closedir(d);
	return n;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

TEST(catalog_fs_write_atomic_replaces_content)
{
	floe_error err = {0};
	const char *path = th_path("v1.metadata.json");
	REQUIRE_OK(floe_fs_write_atomic(path, "first", 5, &err), &err);
	size_t len = 0;
	char *got = th_read_file(path, &len);
	REQUIRE(got);
	CHECK_EQ_STR(got, "first");
	free(got);

	const char *second = "second, and longer than the first";
	REQUIRE_OK(floe_fs_write_atomic(path, second, strlen(second), &err), &err);
	got = th_read_file(path, &len);
	REQUIRE(got);
	CHECK_EQ_STR(got, second);
	CHECK_EQ_INT(len, strlen(second));
	free(got);

	/* an empty write is a valid (empty) file */
	REQUIRE_OK(floe_fs_write_atomic(path, "", 0, &err), &err);
	struct stat st;
	REQUIRE(stat(path, &st) == 0);
	CHECK_EQ_INT(st.st_size, 0);

	/* exactly one entry, no temporary files */
	CHECK_EQ_INT(count_entries(th_tmpdir(), ""), 1);
	CHECK_EQ_INT(count_entries(th_tmpdir(), ".tmp-"), 0);
}

TEST(catalog_fs_write_atomic_failure_leaves_nothing)
{
	floe_error err = {0};
	/* the target is a non-empty directory: rename must fail */
	const char *dir = th_path("occupied");
	REQUIRE(mkdir(dir, 0755) == 0);
	char inner[4096];
	snprintf(inner, sizeof inner, "%s/keep", dir);
	put_file(inner, "x");
	int rc = floe_fs_write_atomic(dir, "data", 4, &err);
	CHECK(rc < 0);
	CHECK(strstr(err.msg, "occupied") != NULL);
	CHECK_EQ_INT(count_entries(th_tmpdir(), ".tmp-"), 0);
	CHECK(floe_fs_exists(inner));

	/* a missing directory fails before anything is created */
	rc = floe_fs_write_atomic(th_path("no/such/dir/file"), "data", 4, &err);
	CHECK_EQ_INT(rc, FLOE_ENOTFOUND);
}

TEST(catalog_fs_mkdirs_nested_and_existing)
{
	floe_error err = {0};
	char path[4096];
	snprintf(path, sizeof path, "%s/a/b//c/", th_tmpdir());
	REQUIRE_OK(floe_fs_mkdirs(path, &err), &err);
	struct stat st;
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK_OK(floe_fs_mkdirs(path, &err), &err); /* again: fine */

	snprintf(path, sizeof path, "%s/file", th_tmpdir());
	put_file(path, "x");
	snprintf(path, sizeof path, "%s/file/sub", th_tmpdir());
	CHECK_EQ_INT(floe_fs_mkdirs(path, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "not a directory") != NULL);
}

TEST(catalog_fs_read_all_caps_size)
{
	floe_error err = {0};
	const char *path = th_path("data.bin");
	char text[101];
	memset(text, 'z', 100);
	text[100] = '\0';
	put_file(path, text);

	uint8_t *data = NULL;
	size_t len = 0;
	REQUIRE_OK(floe_fs_read_all(&data, &len, path, 100, &err), &err);
	CHECK_EQ_INT(len, 100);
	CHECK(memcmp(data, text, 100) == 0);
	CHECK_EQ_INT(data[100], 0);
	free(data);

	CHECK_EQ_INT(floe_fs_read_all(&data, &len, path, 99, &err), FLOE_EINVALID);
	CHECK(data == NULL);
	CHECK(strstr(err.msg, "limit") != NULL);
	CHECK_EQ_INT(floe_fs_read_all(&data, &len, th_path("missing"), 10, &err), FLOE_ENOTFOUND);
	CHECK_EQ_INT(floe_fs_read_all(&data, &len, th_tmpdir(), 10, &err), FLOE_EINVALID);

	put_file(path, "");
	REQUIRE_OK(floe_fs_read_all(&data, &len, path, 10, &err), &err);
	CHECK_EQ_INT(len, 0);
	free(data);
}

TEST(catalog_fs_within_is_lexical)
{
	CHECK_EQ_INT(floe_fs_within("/w", "/w"), 1);
	CHECK_EQ_INT(floe_fs_within("/w", "/w/t/data/f.parquet"), 1);
	CHECK_EQ_INT(floe_fs_within("/w/", "/w//t/./x"), 1);
	CHECK_EQ_INT(floe_fs_within("/w", "/w/t/../u"), 1);
	CHECK_EQ_INT(floe_fs_within("/w", "/w/../x"), 0);
	CHECK_EQ_INT(floe_fs_within("/w", "/w/t/../../x"), 0);
	CHECK_EQ_INT(floe_fs_within("/w", "/w/./../w2/x"), 0);
	CHECK_EQ_INT(floe_fs_within("/w", "/wx"), 0);       /* prefix, not a child */
	CHECK_EQ_INT(floe_fs_within("/w", "/w2/t"), 0);
	CHECK_EQ_INT(floe_fs_within("/w", "/"), 0);
	CHECK_EQ_INT(floe_fs_within("/w", "/../../w/t"), 1); /* ".." of "/" is "/" */
	CHECK_EQ_INT(floe_fs_within("/w/t/..", "/w/x"), 1);
	CHECK_EQ_INT(floe_fs_within("/w/t/..", "/w/t/../../x"), 0);
	CHECK_EQ_INT(floe_fs_within("/", "/anything"), 1);

	/* relative paths are taken from the current directory */
	char cwd[4096], abs[4200];
	REQUIRE(getcwd(cwd, sizeof cwd));
	snprintf(abs, sizeof abs, "%s/sub/x", cwd);
	CHECK_EQ_INT(floe_fs_within(cwd, "sub/x"), 1);
	CHECK_EQ_INT(floe_fs_within("sub", abs), 1);
	CHECK_EQ_INT(floe_fs_within("sub", "sub/../other"), 0);

	char norm[64];
	floe_error err = {0};
	REQUIRE_OK(floe_fs_normalize(norm, sizeof norm, "/a//b/./c/../d/", &err), &err);
	CHECK_EQ_STR(norm, "/a/b/d");
	CHECK_EQ_INT(floe_fs_normalize(norm, 4, "/abcdef", &err), FLOE_EINVALID);
}

static int count_file(void *ud, const char *path, const struct stat *st)
{
	(void)path;
	(void)st;
	(*(int *)ud)++;
	return 0;
}

TEST(catalog_fs_remove_tree_guards_root)
{
	floe_error err = {0};
	char root[4096], table[4200], deep[4300], outside[4200], f[4400], link[4400];
	snprintf(root, sizeof root, "%s/wh", th_tmpdir());
	snprintf(table, sizeof table, "%s/db/t", root);
	snprintf(deep, sizeof deep, "%s/data/x=1", table);
	snprintf(outside, sizeof outside, "%s/outside", th_tmpdir());
	REQUIRE_OK(floe_fs_mkdirs(deep, &err), &err);
	REQUIRE_OK(floe_fs_mkdirs(outside, &err), &err);
	snprintf(f, sizeof f, "%s/precious", outside);
	put_file(f, "keep me");
	snprintf(f, sizeof f, "%s/part-0.parquet", deep);
	put_file(f, "p");
	snprintf(f, sizeof f, "%s/v1.metadata.json", table);
	put_file(f, "{}");
	/* a symlink inside the tree pointing outside: removed, not followed */
	snprintf(link, sizeof link, "%s/escape", table);
	REQUIRE(symlink(outside, link) == 0);

	int files = 0;
	REQUIRE_OK(floe_fs_walk(table, count_file, &files, &err), &err);
	CHECK_EQ_INT(files, 2);

	/* refusals */
	CHECK_EQ_INT(floe_fs_remove_tree(root, "/", &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_fs_remove_tree("/", "/", &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_fs_remove_tree(root, outside, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "not inside") != NULL);
	snprintf(f, sizeof f, "%s/db/../../outside", root);
	CHECK_EQ_INT(floe_fs_remove_tree(root, f, &err), FLOE_EINVALID);
	CHECK_EQ_INT(floe_fs_remove_tree(root, root, &err), FLOE_EINVALID);
	snprintf(f, sizeof f, "%s/outside/precious", th_tmpdir());
	CHECK(floe_fs_exists(f));

	REQUIRE_OK(floe_fs_remove_tree(root, table, &err), &err);
	CHECK(!floe_fs_exists(table));
	CHECK(floe_fs_exists(f)); /* the link target survived */
	snprintf(f, sizeof f, "%s/db", root);
	CHECK(floe_fs_exists(f));
	/* removing what is gone is fine */
	CHECK_OK(floe_fs_remove_tree(root, table, &err), &err);
}

TEST(catalog_fs_uuid4_format)
{
	char a[37], b[37];
	floe_uuid4(a);
	floe_uuid4(b);
	CHECK_EQ_INT(strlen(a), 36);
	CHECK(strcmp(a, b) != 0);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			CHECK(a[i] == '-');
		else
			CHECK(strchr("0123456789abcdef", a[i]) != NULL);
	}
	CHECK(a[14] == '4');                       /* version */
	CHECK(strchr("89ab", a[19]) != NULL);      /* RFC 4122 variant */
	CHECK(floe_now_ms() > 1500000000000LL);    /* after 2017: a millisecond clock */
}
