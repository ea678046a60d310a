/* tests/iceberg/test_compact.c - compaction: small files and files with
 * position or equality deletes are rewritten per partition into fewer files
 * with the same rows, delete files no longer needed are dropped, earlier
 * snapshots still read as they did, an independent reader agrees; appends
 * meanwhile do not conflict, a concurrent delete does and leaves no files. */
#include <dirent.h>
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/catalog.h"
#include "floe/floe.h"
#include "floe/table.h"
#include "harness.h"
#include "iceberg/manifest.h"

#define T0 1704067200000000LL

/* Rows [from, to): v = id % 97, ts over `days` days by id. */
static int append_days(floe_table *t, int64_t from, int64_t to, int days, floe_error *err)
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
		    (rc = floe_batch_builder_i64(b, 2, T0 + (id % days) * 86400000000LL + id, err)))
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

static int append_range(floe_table *t, int64_t from, int64_t to, floe_error *err)
{
	return append_days(t, from, to, 2, err);
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

/* ---- row groups copied as they are --------------------------------------- */

#define WIDE "id long not null, v int, d double, s string, ts timestamptz, flag boolean"

static floe_table *make_wide(floe_catalog *c, const char *name)
{
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = WIDE;
	co.partition = "day(ts)";
	const char *props[3] = { "write.delete.mode=merge-on-read",
		                 "write.parquet.bloom-filter-enabled.column.id=true",
		                 "write.parquet.bloom-filter-enabled.column.s=true" };
	co.properties = props;
	co.nproperties = 3;
	floe_table *t = NULL;
	if (floe_table_create(&t, c, name, &co, &err))
		th_fail(__FILE__, __LINE__, "create: %s", err.msg);
	return t;
}

/* Rows [from, to): NULLs, NaN, -0.0 and repeated strings, over two days. */
static void append_wide(floe_table *t, int64_t from, int64_t to)
{
	floe_error err;
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	floe_batch_builder *b;
	REQUIRE_OK(floe_schema_parse(&s, WIDE, ar, &err), &err);
	REQUIRE_OK(floe_batch_builder_new(&b, s, &err), &err);
	for (int64_t id = from; id < to; id++) {
		char str[32];
		int n = snprintf(str, sizeof str, "sym-%03d", (int)(id % 50));
		floe_batch_builder_i64(b, 0, id, &err);
		if (id % 11 == 0)
			floe_batch_builder_null(b, 1, &err);
		else
			floe_batch_builder_i32(b, 1, (int32_t)(id % 97), &err);
		floe_batch_builder_f64(b, 2, id % 17 == 0 ? NAN : id % 19 == 0 ? -0.0 : (double)id * 0.25,
		                       &err);
		if (id % 7 == 0)
			floe_batch_builder_null(b, 3, &err);
		else
			floe_batch_builder_bytes(b, 3, str, (size_t)n, &err);
		floe_batch_builder_i64(b, 4, T0 + (id % 2) * 86400000000LL + id, &err);
		REQUIRE_OK(floe_batch_builder_bool(b, 5, id % 3 == 0, &err), &err);
	}
	floe_append *a;
	REQUIRE_OK(floe_append_begin(&a, t, &err), &err);
	REQUIRE_OK(floe_append_batch(a, floe_batch_builder_view(b), &err), &err);
	REQUIRE_OK(floe_append_commit(a, NULL, &err), &err);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every row of the current snapshot (or those matching `where`) as text,
 * sorted; *n rows. Free with free_lines. */
static void wide_rows(floe_table *t, const char *where, char ***lines, int64_t *n)
{
	floe_error err;
	floe_scan_options o;
	floe_scan_options_init(&o);
	o.where = where;
	floe_scan *sc;
	REQUIRE_OK(floe_scan_open(&sc, t, &o, &err), &err);
	char **v = NULL;
	int64_t cap = 0;
	*n = 0;
	*lines = NULL;
	const floe_batch *b;
	int rc;
	while ((rc = floe_scan_next(sc, &b, &err)) == 1)
		for (int64_t r = 0; r < b->nrows; r++) {
			char line[256], sv[64] = "NULL", vv[16] = "NULL";
			const floe_column *cs = &b->cols[3];
			if (floe_column_is_valid(cs, r))
				snprintf(sv, sizeof sv, "%.*s", (int)(cs->offsets[r + 1] - cs->offsets[r]),
				         (const char *)cs->data + cs->offsets[r]);
			if (floe_column_is_valid(&b->cols[1], r))
				snprintf(vv, sizeof vv, "%d", ((const int32_t *)b->cols[1].values)[r]);
			snprintf(line, sizeof line, "%" PRId64 "|%s|%a|%s|%" PRId64 "|%d",
			         ((const int64_t *)b->cols[0].values)[r], vv,
			         ((const double *)b->cols[2].values)[r], sv,
			         ((const int64_t *)b->cols[4].values)[r],
			         ((const uint8_t *)b->cols[5].values)[r]);
			if (*n == cap) {
				cap = cap ? cap * 2 : 1024;
				v = realloc(v, (size_t)cap * sizeof *v);
				REQUIRE(v);
			}
			v[(*n)++] = strdup(line);
		}
	CHECK_EQ_INT(rc, 0);
	floe_scan_free(sc);
	if (*n)
		qsort(v, (size_t)*n, sizeof *v, cmp_line);
	*lines = v;
}

static void free_lines(char **v, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Both sorted row lists are equal; frees them. */
static void same_lines(char **x, int64_t na, char **y, int64_t nb)
{
	CHECK_EQ_INT(na, nb);
	for (int64_t i = 0; i < na && i < nb; i++)
		if (strcmp(x[i], y[i]) != 0) {
			th_fail(__FILE__, __LINE__, "row %" PRId64 ": %s against %s", i, x[i], y[i]);
			break;
		}
	free_lines(x, na);
	free_lines(y, nb);
}

static void same_rows(floe_table *a, floe_table *b, const char *where)
{
	int64_t na, nb;
	char **x, **y;
	wide_rows(a, where, &x, &na);
	wide_rows(b, where, &y, &nb);
	same_lines(x, na, y, nb);
}

static int cmp_entry(const void *a, const void *b)
{
	const ice_manifest_entry *x = a, *y = b;
	int64_t p = x->file.partition[0].v.i, q = y->file.partition[0].v.i;
	return (p > q) - (p < q);
}

/* The live data files of the current snapshot, by partition. */
static void data_entries(floe_table *t, floe_arena *ar, ice_manifest_entry **entries, size_t *n)
{
	floe_error err;
	const floe_snapshot_info *snaps;
	int ns;
	REQUIRE_OK(floe_table_snapshots(t, &snaps, &ns, &err), &err);
	ice_manifest_file *mf;
	size_t nmf;
	REQUIRE_OK(ice_manifest_list_read(snaps[ns - 1].manifest_list, ar, &mf, &nmf, &err), &err);
	ice_manifest_entry *out = floe_arena_calloc(ar, 64, sizeof *out);
	*n = 0;
	*entries = out;
	REQUIRE(out);
	for (size_t k = 0; k < nmf; k++) {
		ice_manifest_entry *e;
		size_t ne;
		REQUIRE_OK(ice_manifest_read(&mf[k], NULL, NULL, ar, &e, &ne, &err), &err);
		for (size_t q = 0; q < ne && *n < 64; q++)
			if (e[q].status != 2 && e[q].file.content == 0)
				out[(*n)++] = e[q];
	}
	qsort(out, *n, sizeof *out, cmp_entry);
}

static bool same_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

TEST(compact_copies_large_row_groups)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	/* twins: the same commits; one compacts copying, the other re-encodes */
	floe_table *t = make_wide(c, "db.copy"), *u = make_wide(c, "db.encode");
	REQUIRE(t && u);
	floe_table *both[2] = { t, u };
	for (int k = 0; k < 2; k++) {
		append_wide(both[k], 0, 6000);      /* two large files, one per day */
		append_wide(both[k], 6000, 12000);  /* two more */
		for (int i = 0; i < 3; i++)        /* six small ones */
			append_wide(both[k], 20000 + i * 10, 20010 + i * 10);
		/* a position delete in one large file: that file is decoded */
		REQUIRE_OK(floe_table_delete(both[k], "id = 6001", NULL, &err), &err);
	}
	int64_t before_n;
	char **before;
	wide_rows(t, NULL, &before, &before_n);
	CHECK_EQ_INT(before_n, 12000 + 30 - 1);
	floe_compact_options co;
	floe_compact_options_init(&co);
	co.copy_min_row_group_bytes = 8192;
	floe_compact_result rt, ru;
	REQUIRE_OK(floe_table_compact(t, &co, &rt, &err), &err);
	co.rewrite_all = true;
	REQUIRE_OK(floe_table_compact(u, &co, &ru, &err), &err);
	CHECK_EQ_INT(rt.data_files_rewritten, 10);
	CHECK_EQ_INT(rt.data_files_copied, 3);
	CHECK_EQ_INT(ru.data_files_rewritten, 10);
	CHECK_EQ_INT(ru.data_files_copied, 0);
	CHECK_EQ_INT(rt.rows, before_n);
	CHECK_EQ_INT(ru.rows, before_n);
	CHECK_EQ_INT(rt.data_files_added, 2);
	CHECK_EQ_INT(ru.data_files_added, 2);
	CHECK_EQ_INT(rt.delete_files_removed, 1);
	/* the same rows, also through filters that prune by bounds, page
	 * index and Bloom filters */
	int64_t after_n;
	char **after;
	wide_rows(t, NULL, &after, &after_n);
	same_lines(after, after_n, before, before_n);
	same_rows(t, u, NULL);
	same_rows(t, u, "id = 4321");
	same_rows(t, u, "s = 'sym-017'");
	same_rows(t, u, "v is null and id < 300");
	same_rows(t, u, "d > 2900.0 and d < 2910.0");
	/* the copy's files: copied row groups then the encoded one, each file
	 * whole under the strict check, and manifest metrics equal to those of
	 * the files written from decoded rows */
	floe_arena *ar = floe_arena_new(0);
	size_t nt, nu;
	ice_manifest_entry *et, *eu;
	data_entries(t, ar, &et, &nt);
	data_entries(u, ar, &eu, &nu);
	CHECK_EQ_INT((int64_t)nt, 2);
	CHECK_EQ_INT((int64_t)nu, 2);
	int rgs = 0;
	for (size_t i = 0; i < nt && i < nu; i++) {
		const ice_data_file *x = &et[i].file, *y = &eu[i].file;
		CHECK_EQ_INT(x->record_count, y->record_count);
		CHECK_EQ_INT(x->nmetrics, y->nmetrics);
		for (int m = 0; m < x->nmetrics && m < y->nmetrics; m++) {
			const ice_column_metrics *p = &x->metrics[m], *q = &y->metrics[m];
			if (p->field_id != q->field_id || p->value_count != q->value_count ||
			    p->null_count != q->null_count || p->nan_count != q->nan_count ||
			    !same_bytes(p->lower, p->lower_len, q->lower, q->lower_len) ||
			    !same_bytes(p->upper, p->upper_len, q->upper, q->upper_len))
				th_fail(__FILE__, __LINE__, "file %zu field %d: metrics differ", i,
				        (int)p->field_id);
		}
		floe_parquet_reader *r;
		REQUIRE_OK(floe_parquet_reader_open(&r, x->file_path, &err), &err);
		CHECK_OK(floe_parquet_reader_verify(r, &err), &err);
		rgs += floe_parquet_reader_num_row_groups(r);
		/* the Bloom filters (copied ones included) answer for an id */
		floe_value v;
		memset(&v, 0, sizeof v);
		v.i = 4320 + (int64_t)i;
		bool any = false;
		for (int g = 0; g < floe_parquet_reader_num_row_groups(r); g++) {
			bool maybe = false;
			REQUIRE_OK(floe_parquet_reader_bloom_probe(r, g, 0, &v, &maybe, &err), &err);
			any |= maybe;
			for (int col = 0; col < 6; col += 3) { /* id and s have filters */
				uint8_t *bits = NULL;
				uint32_t nb = 0;
				REQUIRE_OK(floe_parquet_reader_bloom_load(r, g, col, &bits, &nb, &err), &err);
				CHECK(bits != NULL && nb > 0);
				free(bits);
			}
		}
		CHECK(any);
		/* every chunk keeps its page index */
		char *desc = NULL;
		REQUIRE_OK(floe_parquet_reader_describe(&desc, r, &err), &err);
		CHECK(strstr(desc, "\"has_offset_index\": false") == NULL &&
		      strstr(desc, "\"has_column_index\": false") == NULL);
		CHECK(strstr(desc, "\"has_offset_index\": true") != NULL);
		free(desc);
		floe_parquet_reader_free(r);
	}
	CHECK_EQ_INT(rgs, 3 + 2); /* 3 copied, one encoded per partition */
	floe_arena_free(ar);
	const char *peers = th_peers();
	char *out = NULL;
	REQUIRE(th_run(&out, "node tests/iceberg/iceberg_read.mjs '%s' '%s' --sum id", peers,
	               floe_table_metadata_location(t)) == 0);
	int64_t sum = 0;
	for (int64_t id = 0; id < 12000; id++)
		sum += id == 6001 ? 0 : id;
	for (int64_t id = 20000; id < 20030; id++)
		sum += id;
	char w[128];
	snprintf(w, sizeof w, "\"files\":2,\"rows\":%" PRId64 ",\"sum\":\"%" PRId64 "\"", before_n, sum);
	if (!out || !strstr(out, w))
		th_fail(__FILE__, __LINE__, "independent reader %s, want %s", out ? out : "", w);
	free(out);
	floe_table_close(t);
	floe_table_close(u);
	floe_catalog_close(c);
}

static int count_data_files(floe_table *t)
{
	return count_files(t).data;
}

TEST(compact_copies_only_files_like_the_tables)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make_wide(c, "db.like");
	REQUIRE(t);
	floe_compact_options co;
	floe_compact_options_init(&co);
	co.copy_min_row_group_bytes = 8192;
	floe_compact_result res;
	/* written before a column was added: decoded, the new column NULL */
	append_wide(t, 0, 6000);
	REQUIRE_OK(floe_table_add_column(t, "note", "string", NULL, &err), &err);
	append_wide(t, 6000, 6010);
	REQUIRE_OK(floe_table_compact(t, &co, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_rewritten, 4);
	CHECK_EQ_INT(res.data_files_copied, 0);
	CHECK_EQ_INT(res.rows, 6010);
	/* now in the table's schema and codec: copied */
	append_wide(t, 6010, 6020);
	REQUIRE_OK(floe_table_compact(t, &co, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_rewritten, 4);
	CHECK_EQ_INT(res.data_files_copied, 2);
	CHECK_EQ_INT(res.rows, 6020);
	/* a minimum above their row groups: decoded */
	append_wide(t, 6020, 6030);
	co.copy_min_row_group_bytes = 1 << 30;
	REQUIRE_OK(floe_table_compact(t, &co, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_copied, 0);
	CHECK_EQ_INT(res.rows, 6030);
	co.copy_min_row_group_bytes = 8192;
	/* another codec than the table's: decoded */
	REQUIRE_OK(floe_table_set_property(t, "write.parquet.compression-codec", "snappy", &err), &err);
	append_wide(t, 6030, 6040);
	REQUIRE_OK(floe_table_compact(t, &co, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_copied, 0);
	CHECK_EQ_INT(res.rows, 6040);
	int64_t n;
	char **rows;
	wide_rows(t, NULL, &rows, &n);
	CHECK_EQ_INT(n, 6040);
	free_lines(rows, n);
	/* a damaged page header in a file that would be copied: the compaction
	 * fails naming the file, and commits and leaves nothing */
	append_wide(t, 6040, 6050);
	floe_arena *ar = floe_arena_new(0);
	size_t ne;
	ice_manifest_entry *e;
	data_entries(t, ar, &e, &ne);
	REQUIRE(ne >= 1);
	const char *victim = NULL;
	for (size_t i = 0; i < ne; i++)
		if (e[i].file.record_count > 1000)
			victim = e[i].file.file_path;
	REQUIRE(victim);
	size_t len;
	char *bytes = th_read_file(victim, &len);
	REQUIRE(bytes && len > 64);
	memset(bytes + 4, 0xEE, 6); /* the first page header of the first chunk */
	FILE *f = fopen(victim, "wb");
	REQUIRE(f);
	fwrite(bytes, 1, len, f);
	fclose(f);
	free(bytes);
	int before = count_parquet(th_path("wh/db/like/data"));
	const floe_snapshot_info *si;
	int ns;
	REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
	int64_t snap = si[ns - 1].snapshot_id;
	int rc = floe_table_compact(t, &co, &res, &err);
	CHECK_EQ_INT(rc, FLOE_ECORRUPT);
	CHECK(strstr(err.msg, victim) != NULL);
	CHECK_EQ_INT(count_parquet(th_path("wh/db/like/data")), before);
	REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
	CHECK_EQ_INT(si[ns - 1].snapshot_id, snap);
	CHECK_EQ_INT(count_data_files(t), (int)ne);
	floe_arena_free(ar);
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
	for (int k = 0; k < 2; k++)
		REQUIRE_OK(append_days(t, k * 600, k * 600 + 600, 6, &err), &err);
	CHECK_EQ_INT(count_files(t).data, 12);
	int64_t want[3], got[3];
	totals(t, -1, want);
	floe_compact_options co;
	floe_compact_options_init(&co);
	co.rewrite_all = true;
	floe_compact_result res;
	REQUIRE_OK(floe_table_compact(t, &co, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_rewritten, 12);
	CHECK_EQ_INT(res.data_files_added, 6);
	CHECK_EQ_INT(count_files(t).data, 6);
	totals(t, -1, got);
	CHECK(memcmp(want, got, sizeof want) == 0);
	floe_table_close(t);
	floe_catalog_close(c);
}

typedef struct sizes {
	int64_t min, max;
	int n;
} sizes;

static int size_one(void *ctx, const floe_file_info *f, floe_error *err)
{
	(void)err;
	sizes *z = ctx;
	if (f->content != 0)
		return 0;
	if (!z->n || f->file_size < z->min)
		z->min = f->file_size;
	if (!z->n || f->file_size > z->max)
		z->max = f->file_size;
	z->n++;
	return 0;
}

/* min_file_size (Iceberg's min-file-size-bytes): files at least that big
 * are left as they are, and a partition needs two smaller ones to be
 * packed; without it, everything under 75% of the target is small. */
TEST(compact_min_file_size_leaves_larger_files)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make(c, "db.minsize");
	REQUIRE(t);
	/* one day: a file of 20,000 rows, then four of 50 */
	REQUIRE_OK(append_days(t, 0, 20000, 1, &err), &err);
	for (int k = 0; k < 4; k++)
		REQUIRE_OK(append_days(t, 20000 + k * 50, 20050 + k * 50, 1, &err), &err);
	sizes z = { 0, 0, 0 };
	REQUIRE_OK(floe_table_files(t, NULL, size_one, &z, &err), &err);
	REQUIRE(z.n == 5 && z.max > 8 * z.min);
	int64_t want[3], got[3];
	totals(t, -1, want);
	floe_compact_options co;
	floe_compact_options_init(&co);
	co.rewrite_all = true;
	co.min_file_size = z.max; /* the big file is not small */
	floe_compact_result res;
	REQUIRE_OK(floe_table_compact(t, &co, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_rewritten, 4);
	CHECK_EQ_INT(res.data_files_added, 1);
	CHECK_EQ_INT(count_files(t).data, 2);
	/* one big and one packed small file: nothing under the size now but
	 * the packed one, so nothing to do */
	REQUIRE_OK(floe_table_compact(t, &co, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_rewritten, 0);
	/* the default (75% of 512 MiB) counts both as small: one file */
	co.min_file_size = 0;
	REQUIRE_OK(floe_table_compact(t, &co, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_rewritten, 2);
	CHECK_EQ_INT(count_files(t).data, 1);
	totals(t, -1, got);
	CHECK(memcmp(want, got, sizeof want) == 0);
	floe_table_close(t);
	floe_catalog_close(c);
}
