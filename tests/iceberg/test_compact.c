/* tests/iceberg/test_compact.c - compaction: small files and files with
 * position or equality deletes are rewritten per partition into fewer files
 * with the same rows, delete files no longer needed are dropped, earlier
 * snapshots still read as they did, an independent reader agrees; appends
 * meanwhile do not conflict, a concurrent delete does and leaves no files. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/catalog.h"
#include "floe/floe.h"
#include "floe/table.h"
#include "harness.h"

#define T0 1704067200000000LL

static int append_range(floe_table *t, int64_t from, int64_t to, floe_error *err)
{
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	floe_batch_builder *b = NULL;
	floe_append *a = NULL;
	int rc = floe_schema_parse(&s, "id long not null, v int, ts timestamptz", ar, err);
	if (!rc)
		rc = floe_batch_builder_new(&b, s, err);
	for (int64_t id = from; !rc && id < to; id++)
		if ((rc = floe_batch_builder_i64(b, 0, id, err)) ||
		    (rc = floe_batch_builder_i32(b, 1, (int32_t)(id % 97), err)) ||
		    (rc = floe_batch_builder_i64(b, 2, T0 + (id % 2) * 86400000000LL + id, err)))
			break;
	if (!rc)
		rc = floe_append_begin(&a, t, err);
	if (!rc)
		rc = floe_append_batch(a, floe_batch_builder_view(b), err);
	if (!rc)
		rc = floe_append_commit(a, NULL, err);
	else
		floe_append_abort(a);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
	return rc;
}

/* Count, sum of ids and sum of v of a snapshot (-1 = current). */
static void totals(floe_table *t, int64_t snap, int64_t out[3])
{
	floe_error err;
	floe_scan_options o;
	floe_scan_options_init(&o);
	static const char *const cols[2] = { "id", "v" };
	o.columns = cols;
	o.ncolumns = 2;
	if (snap >= 0) {
		floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, snap, 0, NULL };
		o.snapshot = sel;
	}
	floe_scan *s;
	out[0] = out[1] = out[2] = -1;
	REQUIRE_OK(floe_scan_open(&s, t, &o, &err), &err);
	out[0] = out[1] = out[2] = 0;
	const floe_batch *b;
	int rc;
	while ((rc = floe_scan_next(s, &b, &err)) == 1)
		for (int64_t r = 0; r < b->nrows; r++) {
			out[0]++;
			out[1] += ((const int64_t *)b->cols[0].values)[r];
			out[2] += ((const int32_t *)b->cols[1].values)[r];
		}
	CHECK_EQ_INT(rc, 0);
	floe_scan_free(s);
}

typedef struct counts {
	int data, pos, eq;
} counts;

static int count_one(void *ctx, const floe_file_info *f, floe_error *err)
{
	(void)err;
	counts *c = ctx;
	c->data += f->content == 0;
	c->pos += f->content == 1;
	c->eq += f->content == 2;
	return 0;
}

static counts count_files(floe_table *t)
{
	counts c = { 0, 0, 0 };
	floe_error err;
	CHECK_EQ_INT(floe_table_files(t, NULL, count_one, &c, &err), 0);
	return c;
}

static floe_table *make(floe_catalog *c, const char *name)
{
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, v int, ts timestamptz";
	co.partition = "day(ts)";
	const char *props[2] = { "write.delete.mode=merge-on-read", "write.merge.mode=merge-on-read" };
	co.properties = props;
	co.nproperties = 2;
	floe_table *t = NULL;
	if (floe_table_create(&t, c, name, &co, &err))
		th_fail(__FILE__, __LINE__, "create: %s", err.msg);
	return t;
}

TEST(compact_small_files_and_deletes)
{
	const char *peers = th_peers();
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make(c, "db.small");
	REQUIRE(t);
	for (int i = 0; i < 12; i++)
		REQUIRE_OK(append_range(t, i * 100, i * 100 + 100, &err), &err);
	REQUIRE_OK(floe_table_delete(t, "id >= 150 and id < 170", NULL, &err), &err);
	/* an upsert: equality deletes (global) and new rows */
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	floe_batch_builder *b;
	REQUIRE_OK(floe_schema_parse(&s, "id long not null, v int, ts timestamptz", ar, &err), &err);
	REQUIRE_OK(floe_batch_builder_new(&b, s, &err), &err);
	for (int64_t id = 500; id < 510; id++) {
		floe_batch_builder_i64(b, 0, id, &err);
		floe_batch_builder_i32(b, 1, 1000, &err);
		floe_batch_builder_i64(b, 2, T0 + (id % 2) * 86400000000LL + id, &err);
	}
	static const char *const on[1] = { "id" };
	floe_merge_options mo;
	floe_merge_options_init(&mo);
	mo.on = on;
	mo.non = 1;
	floe_merge *m;
	REQUIRE_OK(floe_merge_begin(&m, t, &mo, &err), &err);
	REQUIRE_OK(floe_merge_batch(m, floe_batch_builder_view(b), &err), &err);
	REQUIRE_OK(floe_merge_commit(m, NULL, &err), &err);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
	counts before = count_files(t);
	CHECK_EQ_INT(before.data, 12 * 2 + 2);
	CHECK(before.pos >= 1 && before.eq == 1);
	int64_t want[3], got[3];
	totals(t, -1, want);
	CHECK_EQ_INT(want[0], 1200 - 20);
	const floe_snapshot_info *si;
	int ns;
	REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
	int64_t prev = si[ns - 1].snapshot_id;
	floe_compact_result res;
	REQUIRE_OK(floe_table_compact(t, NULL, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_rewritten, 26);
	CHECK_EQ_INT(res.data_files_added, 2);
	CHECK_EQ_INT(res.delete_files_removed, before.pos + before.eq);
	CHECK_EQ_INT(res.rows, want[0]);
	counts after = count_files(t);
	CHECK_EQ_INT(after.data, 2);
	CHECK_EQ_INT(after.pos + after.eq, 0);
	totals(t, -1, got);
	CHECK(memcmp(want, got, sizeof want) == 0);
	totals(t, prev, got);
	CHECK(memcmp(want, got, sizeof want) == 0);
	REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
	CHECK_EQ_STR(si[ns - 1].operation, "replace");
	/* nothing left to do: no commit */
	REQUIRE_OK(floe_table_compact(t, NULL, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_rewritten, 0);
	CHECK_EQ_INT(res.snapshot_id, si[ns - 1].snapshot_id);
	char *out = NULL;
	REQUIRE(th_run(&out, "node tests/iceberg/iceberg_read.mjs '%s' '%s' --sum id", peers,
	               floe_table_metadata_location(t)) == 0);
	char w[128];
	snprintf(w, sizeof w, "\"files\":2,\"rows\":%" PRId64 ",\"sum\":\"%" PRId64 "\"", want[0], want[1]);
	if (!out || !strstr(out, w))
		th_fail(__FILE__, __LINE__, "independent reader %s, want %s", out ? out : "", w);
	free(out);
	floe_table_close(t);
	floe_catalog_close(c);
}

static int count_parquet(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[2048];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		size_t l = strlen(e->d_name);
		if (l > 8 && strcmp(e->d_name + l - 8, ".parquet") == 0)
			n++;
		else if (!strchr(e->d_name, '.'))
			n += count_parquet(p);
		else if (strncmp(e->d_name, "ts_day=", 7) == 0)
			n += count_parquet(p);
	}
	closedir(d);
	return n;
}

TEST(compact_races_appends_and_deletes)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t1 = make(c, "db.race");
	REQUIRE(t1);
	for (int i = 0; i < 4; i++)
		REQUIRE_OK(append_range(t1, i * 50, i * 50 + 50, &err), &err);
	floe_table *t2;
	REQUIRE_OK(floe_table_open(&t2, c, "db.race", &err), &err);
	/* an append meanwhile: the compaction (from the older snapshot) commits */
	REQUIRE_OK(append_range(t1, 1000, 1010, &err), &err);
	floe_compact_result res;
	REQUIRE_OK(floe_table_compact(t2, NULL, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_rewritten, 8);
	int64_t got[3];
	totals(t2, -1, got);
	CHECK_EQ_INT(got[0], 210);
	/* a delete meanwhile: the compaction loses and leaves no file */
	REQUIRE_OK(floe_table_refresh(t1, &err), &err);
	for (int i = 0; i < 3; i++)
		REQUIRE_OK(append_range(t2, 2000 + i * 10, 2010 + i * 10, &err), &err);
	floe_table *t3;
	REQUIRE_OK(floe_table_open(&t3, c, "db.race", &err), &err);
	REQUIRE_OK(floe_table_refresh(t1, &err), &err);
	REQUIRE_OK(floe_table_delete(t1, "id = 2005", NULL, &err), &err);
	char data[2048];
	snprintf(data, sizeof data, "%s/data", floe_table_location(t3));
	int files_before = count_parquet(data);
	int rc = floe_table_compact(t3, NULL, &res, &err);
	CHECK_EQ_INT(rc, FLOE_ECONFLICT);
	CHECK_EQ_INT(count_parquet(data), files_before);
	REQUIRE_OK(floe_table_refresh(t3, &err), &err);
	totals(t3, -1, got);
	CHECK_EQ_INT(got[0], 210 + 30 - 1);
	floe_table_close(t3);
	floe_table_close(t2);
	floe_table_close(t1);
	floe_catalog_close(c);
}

/* With a sort order, each partition's rows are written sorted (v desc,
 * then id asc), NULLs where the order says. */
TEST(compact_sorts_by_the_sort_order)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, v int, ts timestamptz";
	co.partition = "day(ts)";
	co.sort = "v desc nulls last, id";
	floe_table *t;
	REQUIRE_OK(floe_table_create(&t, c, "db.sorted", &co, &err), &err);
	/* ids in a scrambled order over 6 appends, v = id % 97 (and NULL for id % 13 == 0) */
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	REQUIRE_OK(floe_schema_parse(&s, "id long not null, v int, ts timestamptz", ar, &err), &err);
	for (int k = 0; k < 6; k++) {
		floe_batch_builder *b;
		REQUIRE_OK(floe_batch_builder_new(&b, s, &err), &err);
		for (int i = 0; i < 500; i++) {
			int64_t id = (int64_t)((k * 500 + i) * 7919 % 3000);
			floe_batch_builder_i64(b, 0, id, &err);
			if (id % 13 == 0)
				floe_batch_builder_null(b, 1, &err);
			else
				floe_batch_builder_i32(b, 1, (int32_t)(id % 97), &err);
			floe_batch_builder_i64(b, 2, T0 + (id % 2) * 86400000000LL, &err);
		}
		floe_append *a;
		REQUIRE_OK(floe_append_begin(&a, t, &err), &err);
		REQUIRE_OK(floe_append_batch(a, floe_batch_builder_view(b), &err), &err);
		REQUIRE_OK(floe_append_commit(a, NULL, &err), &err);
		floe_batch_builder_free(b);
	}
	floe_arena_free(ar);
	floe_compact_result res;
	REQUIRE_OK(floe_table_compact(t, NULL, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_added, 2);
	CHECK_EQ_INT(res.rows, 3000);
	/* rows come file by file: count the places where the order breaks */
	floe_scan *sc;
	REQUIRE_OK(floe_scan_open(&sc, t, NULL, &err), &err);
	const floe_batch *b;
	int64_t prev_v = 0, prev_id = 0, n = 0, breaks = 0;
	bool prev_null = false, have = false;
	while (floe_scan_next(sc, &b, &err) == 1)
		for (int64_t r = 0; r < b->nrows; r++, n++) {
			int64_t id = ((const int64_t *)b->cols[0].values)[r];
			bool null = !floe_column_is_valid(&b->cols[1], r);
			int64_t v = null ? 0 : ((const int32_t *)b->cols[1].values)[r];
			if (have) {
				bool ok;
				if (prev_null || null)
					ok = !prev_null || (null && id > prev_id); /* nulls last, then id */
				else
					ok = v < prev_v || (v == prev_v && id > prev_id);
				breaks += !ok;
			}
			have = true;
			prev_v = v, prev_id = id, prev_null = null;
		}
	floe_scan_free(sc);
	CHECK_EQ_INT(n, 3000);
	CHECK(breaks <= 1); /* where the second file starts */
	floe_table_close(t);
	floe_catalog_close(c);
}

/* Files of one partition from separate commits, with other partitions'
 * files between them in the manifests, still pack into one file. */
TEST(compact_packs_each_partition_whole)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make(c, "db.pack");
	REQUIRE(t);
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	REQUIRE_OK(floe_schema_parse(&s, "id long not null, v int, ts timestamptz", ar, &err), &err);
	for (int k = 0; k < 2; k++) {
		floe_batch_builder *b;
		REQUIRE_OK(floe_batch_builder_new(&b, s, &err), &err);
		for (int64_t id = k * 600; id < k * 600 + 600; id++) {
			floe_batch_builder_i64(b, 0, id, &err);
			floe_batch_builder_i32(b, 1, (int32_t)(id % 97), &err);
			floe_batch_builder_i64(b, 2, T0 + (id % 6) * 86400000000LL + id, &err);
		}
		floe_append *a;
		REQUIRE_OK(floe_append_begin(&a, t, &err), &err);
		REQUIRE_OK(floe_append_batch(a, floe_batch_builder_view(b), &err), &err);
		REQUIRE_OK(floe_append_commit(a, NULL, &err), &err);
		floe_batch_builder_free(b);
	}
	floe_arena_free(ar);
	CHECK_EQ_INT(count_files(t).data, 12);
	int64_t want[3], got[3];
	totals(t, -1, want);
	floe_compact_result res;
	REQUIRE_OK(floe_table_compact(t, NULL, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_rewritten, 12);
	CHECK_EQ_INT(res.data_files_added, 6);
	CHECK_EQ_INT(count_files(t).data, 6);
	totals(t, -1, got);
	CHECK(memcmp(want, got, sizeof want) == 0);
	floe_table_close(t);
	floe_catalog_close(c);
}
