/* tests/iceberg/test_merge.c - MERGE (upsert by key) in copy-on-write and
 * merge-on-read modes: random upserts, deletes by condition, appends and
 * DELETEs checked against an in-memory model after every step and at every
 * earlier snapshot; duplicate keys with and without a precombine column;
 * compactions interleaved, then expiry and orphan removal (also with
 * manifests merged on every few commits); copy-on-write rewriting only files that hold a
 * key; an independent reader
 * (DuckDB applying the equality delete files by hand) agreeing. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/catalog.h"
#include "floe/floe.h"
#include "floe/table.h"
#include "harness.h"

#define T0 1704067200000000LL
#define MAXID 30000
#define ABSENT (-1)

static floe_table *make_table(floe_catalog *c, const char *name, const char *mode)
{
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, volume int, ts timestamptz, note string";
	co.partition = "day(ts)";
	char p1[64], p2[64];
	snprintf(p1, sizeof p1, "write.merge.mode=%s", mode);
	snprintf(p2, sizeof p2, "write.delete.mode=%s", mode);
	const char *props[2] = { p1, p2 };
	co.properties = props;
	co.nproperties = 2;
	floe_table *t = NULL;
	if (floe_table_create(&t, c, name, &co, &err))
		th_fail(__FILE__, __LINE__, "create: %s", err.msg);
	return t;
}

/* An unpartitioned table of the same columns with one property. */
static floe_table *make_flat_table(floe_catalog *c, const char *name, const char *prop)
{
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, volume int, ts timestamptz, note string";
	co.properties = &prop;
	co.nproperties = 1;
	floe_table *t = NULL;
	if (floe_table_create(&t, c, name, &co, &err))
		th_fail(__FILE__, __LINE__, "create: %s", err.msg);
	return t;
}

/* An empty builder of the columns `schema` ("name type, ..."); NULL on error. */
static floe_batch_builder *builder_of(const char *schema, floe_arena *ar)
{
	floe_error err;
	floe_schema *s;
	floe_batch_builder *b;
	if (floe_schema_parse(&s, schema, ar, &err) || floe_batch_builder_new(&b, s, &err))
		return NULL;
	return b;
}

/* A batch of rows: ids[i], volume vols[i], ts by id (a day per 1000 ids),
 * note notes[i] (NULL allowed). */
static floe_batch_builder *rows(const int64_t *ids, const int32_t *vols, const char *const *notes,
                                int n, floe_arena *ar)
{
	floe_error err;
	floe_batch_builder *b = builder_of("id long not null, volume int, ts timestamptz, note string", ar);
	if (!b)
		return NULL;
	for (int i = 0; i < n; i++) {
		floe_batch_builder_i64(b, 0, ids[i], &err);
		floe_batch_builder_i32(b, 1, vols[i], &err);
		floe_batch_builder_i64(b, 2, T0 + ids[i] * 86400000000LL / 1000, &err);
		if (notes && notes[i])
			floe_batch_builder_bytes(b, 3, notes[i], (int64_t)strlen(notes[i]), &err);
		else
			floe_batch_builder_null(b, 3, &err);
	}
	return b;
}

/* Rows of a scan with filter `where` (NULL = all), and id -> volume into
 * got (ABSENT when missing; unless NULL), the equality delete keys it held
 * into *keys (unless NULL); -1 on error/duplicate. */
static int64_t scan_where(floe_table *t, const floe_snapshot_sel *sel, const char *where,
                          int32_t *got, int64_t *keys, floe_error *err)
{
	for (int i = 0; got && i < MAXID; i++)
		got[i] = ABSENT;
	floe_scan_options o;
	floe_scan_options_init(&o);
	static const char *const cols[2] = { "id", "volume" };
	o.columns = cols;
	o.ncolumns = 2;
	o.where = where;
	if (sel)
		o.snapshot = *sel;
	floe_scan *s;
	if (floe_scan_open(&s, t, &o, err))
		return -1;
	const floe_batch *b;
	int rc;
	int64_t n = 0;
	while ((rc = floe_scan_next(s, &b, err)) == 1)
		for (int64_t r = 0; r < b->nrows; r++, n++) {
			int64_t id = ((const int64_t *)b->cols[0].values)[r];
			if (!got)
				continue;
			if (id < 0 || id >= MAXID || got[id] != ABSENT) {
				floe_scan_free(s);
				return -1;
			}
			got[id] = ((const int32_t *)b->cols[1].values)[r];
		}
	floe_scan_stats st;
	floe_scan_get_stats(s, &st);
	if (keys)
		*keys = st.equality_keys;
	floe_scan_free(s);
	return rc < 0 ? -1 : n;
}

/* id -> volume of a scan (ABSENT when missing); -1 on error/duplicate. */
static int64_t scan_model(floe_table *t, const floe_snapshot_sel *sel, int32_t *got, floe_error *err)
{
	return scan_where(t, sel, NULL, got, NULL, err);
}

/* Append b's rows in one commit. */
static int append_rows(floe_table *t, floe_batch_builder *b, floe_error *err)
{
	floe_append *a;
	int rc = floe_append_begin(&a, t, err);
	if (rc)
		return rc;
	if ((rc = floe_append_batch(a, floe_batch_builder_view(b), err))) {
		floe_append_abort(a);
		return rc;
	}
	return floe_append_commit(a, NULL, err);
}

/* MERGE of b's rows with options o. */
static int merge_with(floe_table *t, const floe_merge_options *o, floe_batch_builder *b,
                      floe_merge_result *res, floe_error *err)
{
	floe_merge *m;
	int rc = floe_merge_begin(&m, t, o, err);
	if (rc)
		return rc;
	if ((rc = floe_merge_batch(m, floe_batch_builder_view(b), err))) {
		floe_merge_abort(m);
		return rc;
	}
	return floe_merge_commit(m, res, err);
}

/* MERGE of b's rows on column on_col. */
static int merge_on(floe_table *t, const char *on_col, floe_batch_builder *b, const char *precombine,
                    const char *delete_when, floe_merge_result *res, floe_error *err)
{
	floe_merge_options o;
	floe_merge_options_init(&o);
	o.on = &on_col;
	o.non = 1;
	o.precombine = precombine;
	o.delete_when = delete_when;
	return merge_with(t, &o, b, res, err);
}

/* MERGE on the key column id. */
static int do_merge(floe_table *t, floe_batch_builder *b, const char *precombine,
                    const char *delete_when, floe_merge_result *res, floe_error *err)
{
	return merge_on(t, "id", b, precombine, delete_when, res, err);
}

/* Rows and id sum of the live rows of `got`. */
static int64_t model_sum(const int32_t *got, int64_t *rows)
{
	int64_t sum = 0;
	*rows = 0;
	for (int k = 0; k < MAXID; k++)
		if (got[k] != ABSENT) {
			sum += k;
			(*rows)++;
		}
	return sum;
}

/* min_count > 0: commits merge manifests once a spec has that many
 * (commit.manifest.min-count-to-merge); the independent reader then checks
 * the last snapshots too. */
static void property_run(const char *mode, uint64_t x, int min_count)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make_table(c, mode[0] == 'c' ? "db.mc" : "db.mm", mode);
	REQUIRE(t);
	if (min_count > 0) {
		char v[16];
		snprintf(v, sizeof v, "%d", min_count);
		REQUIRE_OK(floe_table_set_property(t, "commit.manifest.min-count-to-merge", v, &err),
		           &err);
	}
	bool mor = mode[0] == 'm';
	enum { STEPS = 20, BATCH = 600 };
	int32_t *model = malloc(MAXID * sizeof *model), *got = malloc(MAXID * sizeof *got);
	int32_t *hist = malloc((size_t)STEPS * MAXID * sizeof *hist);
	int64_t snaps[STEPS];
	REQUIRE(model && got && hist);
	for (int i = 0; i < MAXID; i++)
		model[i] = ABSENT;
	int64_t ids[BATCH];
	int32_t vols[BATCH];
	const char *notes[BATCH];
	int64_t next = 0;
	int merges = 0, updates_seen = 0, compactions = 0;
	for (int step = 0; step < STEPS; step++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		floe_arena *ar = floe_arena_new(0);
		int kind = next == 0 ? 0 : (int)(x % 6);
		if (kind == 5) {
			/* compaction between changes: same rows */
			floe_compact_result cr;
			REQUIRE_OK(floe_table_compact(t, NULL, &cr, &err), &err);
			compactions += cr.data_files_rewritten > 0;
		} else if (kind == 4) {
			/* a DELETE between merges */
			char where[64];
			int64_t a = (int64_t)((x >> 8) % (uint64_t)next);
			snprintf(where, sizeof where, "id >= %" PRId64 " and id < %" PRId64, a, a + 150);
			floe_delete_result dr;
			REQUIRE_OK(floe_table_delete(t, where, &dr, &err), &err);
			for (int64_t id = a; id < a + 150 && id < MAXID; id++)
				model[id] = ABSENT;
		} else {
			/* 90% new keys, 10% existing ones (some of them deleted by
			 * the condition), distinct within the batch */
			int n = 0;
			for (int i = 0; i < BATCH && next < MAXID; i++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				int64_t id;
				if (next > 0 && x % 10 == 0) {
					id = (int64_t)((x >> 16) % (uint64_t)next);
					bool dup = false;
					for (int j = 0; j < n; j++)
						dup |= ids[j] == id;
					if (dup)
						continue;
				} else {
					id = next++;
				}
				ids[n] = id;
				vols[n] = (int32_t)((x >> 32) % 100000);
				notes[n] = x % 7 == 0 ? "del" : (x % 3 ? "n" : NULL);
				n++;
			}
			floe_batch_builder *b = rows(ids, vols, notes, n, ar);
			REQUIRE(b);
			floe_merge_result res;
			REQUIRE_OK(do_merge(t, b, NULL, "note = 'del'", &res, &err), &err);
			floe_batch_builder_free(b);
			int64_t ins = 0, upd = 0, del = 0, ups = 0;
			for (int i = 0; i < n; i++) {
				bool had = model[ids[i]] != ABSENT;
				bool d = notes[i] && strcmp(notes[i], "del") == 0;
				if (d) {
					del += had;
					model[ids[i]] = ABSENT;
				} else {
					had ? upd++ : ins++;
					ups++;
					model[ids[i]] = vols[i];
				}
			}
			CHECK_EQ_INT(res.source_rows, n);
			CHECK_EQ_INT(res.upserted, ups);
			if (!mor) {
				CHECK_EQ_INT(res.inserted, ins);
				CHECK_EQ_INT(res.updated, upd);
				CHECK_EQ_INT(res.deleted, del);
				updates_seen += upd > 0;
			} else {
				CHECK_EQ_INT(res.delete_files_added, 1);
				CHECK_EQ_INT(res.updated, -1);
			}
			merges++;
		}
		floe_arena_free(ar);
		const floe_snapshot_info *si;
		int ns;
		REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
		snaps[step] = si[ns - 1].snapshot_id;
		memcpy(hist + (size_t)step * MAXID, model, MAXID * sizeof *model);
		REQUIRE(scan_model(t, NULL, got, &err) >= 0);
		if (memcmp(got, model, MAXID * sizeof *model) != 0)
			th_fail(__FILE__, __LINE__, "%s step %d: the scan differs from the model", mode, step);
	}
	for (int step = 0; step < STEPS; step++) {
		floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, snaps[step], 0, NULL };
		REQUIRE(scan_model(t, &sel, got, &err) >= 0);
		if (memcmp(got, hist + (size_t)step * MAXID, MAXID * sizeof *model) != 0)
			th_fail(__FILE__, __LINE__, "%s: snapshot of step %d reads differently now", mode, step);
	}
	CHECK(merges >= 10);
	CHECK(compactions >= 1);
	if (min_count > 0) {
		/* merged commits: no spec and content keeps min_count manifests
		 * of earlier commits, and the independent reader (avsc for the
		 * manifests, DuckDB applying the delete files) agrees */
		const floe_snapshot_info *si;
		int ns, merged = 0;
		REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
		for (int i = 0; i < ns; i++)
			merged += strstr(si[i].summary_json, "manifests-replaced") != NULL;
		CHECK(merged >= 3);
		floe_scan_options o;
		floe_scan_options_init(&o);
		floe_scan *sc;
		REQUIRE_OK(floe_scan_open(&sc, t, &o, &err), &err);
		const floe_batch *b;
		while (floe_scan_next(sc, &b, &err) == 1)
			;
		floe_scan_stats st;
		floe_scan_get_stats(sc, &st);
		floe_scan_free(sc);
		CHECK(st.manifests < 2 * min_count + 4);
		for (int step = STEPS - 3; step < STEPS; step++) {
			floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, snaps[step], 0, NULL };
			REQUIRE(scan_model(t, &sel, got, &err) >= 0);
			int64_t rows, sum = model_sum(got, &rows);
			char *out = NULL;
			REQUIRE(th_run(&out, "node tests/iceberg/iceberg_read.mjs '%s' '%s' --snapshot %"
			               PRId64 " --sum id", th_peers(), floe_table_metadata_location(t),
			               snaps[step]) == 0);
			char want[128];
			snprintf(want, sizeof want, "\"rows\":%" PRId64 ",\"sum\":\"%" PRId64 "\"", rows, sum);
			if (!out || !strstr(out, want))
				th_fail(__FILE__, __LINE__, "%s step %d: independent reader %s, floe %s", mode,
				        step, out ? out : "(nothing)", want);
			free(out);
		}
	}
	/* expiry keeping the last 4 snapshots, then orphan removal of
	 * everything old: the table and the kept snapshots read the same, and
	 * the files the expired ones alone used are gone */
	floe_expire_options eo;
	memset(&eo, 0, sizeof eo);
	eo.older_than_ms = INT64_MAX / 2;
	eo.retain_last = 4;
	floe_expire_result er;
	const floe_snapshot_info *si;
	int ns;
	REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
	REQUIRE_OK(floe_table_expire_snapshots(t, &eo, &er, &err), &err);
	CHECK_EQ_INT(er.snapshots_expired, ns - 4);
	CHECK(er.data_files_deleted > 0);
	REQUIRE_OK(floe_table_remove_orphans(t, INT64_MAX / 2, false, NULL, NULL, &err), &err);
	for (int step = STEPS - 4; step < STEPS; step++) {
		floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, snaps[step], 0, NULL };
		REQUIRE(scan_model(t, &sel, got, &err) >= 0);
		if (memcmp(got, hist + (size_t)step * MAXID, MAXID * sizeof *model) != 0)
			th_fail(__FILE__, __LINE__, "%s: kept snapshot of step %d reads differently", mode, step);
	}
	floe_snapshot_sel gone = { FLOE_SNAPSHOT_ID, snaps[0], 0, NULL };
	CHECK(scan_model(t, &gone, got, &err) < 0);
	if (!mor)
		CHECK(updates_seen >= 5);
	free(model);
	free(got);
	free(hist);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(merge_copy_on_write_matches_model)
{
	property_run("copy-on-write", 0x9E3779B97F4A7C15ull, 0);
}

TEST(merge_merge_on_read_matches_model)
{
	property_run("merge-on-read", 0xD1B54A32D192ED03ull, 0);
}

TEST(merge_copy_on_write_matches_model_with_manifest_merges)
{
	property_run("copy-on-write", 0x2545F4914F6CDD1Dull, 3);
}

TEST(merge_merge_on_read_matches_model_with_manifest_merges)
{
	property_run("merge-on-read", 0x9FB21C651E98DF25ull, 3);
}

TEST(merge_duplicate_keys_and_precombine)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	for (int mor = 0; mor < 2; mor++) {
		floe_table *t = make_table(c, mor ? "db.pm" : "db.pc", mor ? "merge-on-read" : "copy-on-write");
		REQUIRE(t);
		floe_arena *ar = floe_arena_new(0);
		int64_t ids[4] = { 1, 2, 1, 1 };
		int32_t vols[4] = { 10, 20, 30, 5 };
		floe_batch_builder *b = rows(ids, vols, NULL, 4, ar);
		floe_merge_result res;
		int rc = do_merge(t, b, NULL, NULL, &res, &err);
		CHECK_EQ_INT(rc, FLOE_EINVALID);
		CHECK(strstr(err.msg, "source row 3") && strstr(err.msg, "precombine"));
		/* nothing committed */
		const floe_snapshot_info *si;
		int ns;
		REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
		CHECK_EQ_INT(ns, 0);
		/* the largest volume wins */
		REQUIRE_OK(do_merge(t, b, "volume", NULL, &res, &err), &err);
		CHECK_EQ_INT(res.upserted, 2);
		int32_t *got = malloc(MAXID * sizeof *got);
		REQUIRE(got);
		CHECK_EQ_INT(scan_model(t, NULL, got, &err), 2);
		CHECK_EQ_INT(got[1], 30);
		CHECK_EQ_INT(got[2], 20);
		/* a tie: the later row wins */
		int64_t ids2[2] = { 2, 2 };
		int32_t vols2[2] = { 7, 7 };
		const char *notes2[2] = { "first", "second" };
		floe_batch_builder *b2 = rows(ids2, vols2, notes2, 2, ar);
		REQUIRE_OK(do_merge(t, b2, "volume", NULL, &res, &err), &err);
		floe_scan_options o;
		floe_scan_options_init(&o);
		o.where = "id = 2";
		floe_scan *s;
		REQUIRE_OK(floe_scan_open(&s, t, &o, &err), &err);
		const floe_batch *bb;
		REQUIRE(floe_scan_next(s, &bb, &err) == 1 && bb->nrows == 1);
		const floe_column *nc = &bb->cols[3];
		CHECK(nc->offsets[1] - nc->offsets[0] == 6 && memcmp(nc->data + nc->offsets[0], "second", 6) == 0);
		floe_scan_free(s);
		/* a NULL key is an error naming the row */
		floe_batch_builder_free(b);
		floe_batch_builder_free(b2);
		free(got);
		floe_arena_free(ar);
		floe_table_close(t);
	}
	floe_catalog_close(c);
}

/* The note of the one row with `id`, into buf ("" when NULL, "-" when
 * absent). */
static void note_of(floe_table *t, int64_t id, char *buf, size_t cap)
{
	floe_error err;
	char where[64];
	snprintf(where, sizeof where, "id = %lld", (long long)id);
	floe_scan_options o;
	floe_scan_options_init(&o);
	o.where = where;
	floe_scan *s;
	snprintf(buf, cap, "-");
	if (floe_scan_open(&s, t, &o, &err))
		return;
	const floe_batch *b;
	while (floe_scan_next(s, &b, &err) == 1)
		for (int64_t r = 0; r < b->nrows; r++) {
			const floe_column *nc = &b->cols[3];
			int64_t len = floe_column_is_valid(nc, r) ? nc->offsets[r + 1] - nc->offsets[r] : 0;
			snprintf(buf, cap, "%.*s", (int)len, (const char *)nc->data + nc->offsets[r]);
		}
	floe_scan_free(s);
}

/* precombine_table: a source row older (smaller precombine value) than the
 * table's row with its key is left out and the table's row stays, in both
 * modes and whatever the delete condition says; a tie goes to the source
 * row; older rows in one file and newer ones in another; without a
 * precombine column it is refused. */
TEST(merge_precombine_against_the_table)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	for (int mor = 0; mor < 2; mor++) {
		floe_table *t = make_table(c, mor ? "db.ptm" : "db.ptc",
		                           mor ? "merge-on-read" : "copy-on-write");
		REQUIRE(t);
		floe_arena *ar = floe_arena_new(0);
		/* ids 100-300 on day 0, 1100 on day 1 */
		int64_t ids[4] = { 100, 200, 300, 1100 };
		int32_t vols[4] = { 10, 10, 5, 50 };
		const char *notes[4] = { "a", "b", "c", "d" };
		floe_batch_builder *b = rows(ids, vols, notes, 4, ar);
		floe_merge_result res;
		REQUIRE_OK(do_merge(t, b, NULL, NULL, &res, &err), &err);
		floe_batch_builder_free(b);
		floe_merge_options o;
		floe_merge_options_init(&o);
		const char *on = "id";
		o.on = &on;
		o.non = 1;
		o.precombine_table = true;
		floe_merge *m = NULL;
		CHECK_EQ_INT(floe_merge_begin(&m, t, &o, &err), FLOE_EINVALID);
		CHECK(strstr(err.msg, "precombine column") != NULL);
		o.precombine = "volume";
		/* older, a tie, newer, new; 1100 older with a delete condition */
		int64_t u[5] = { 100, 200, 300, 400, 1100 };
		int32_t v[5] = { 5, 10, 7, 1, 40 };
		const char *n[5] = { "x", "y", "z", "w", "gone" };
		o.delete_when = "note = 'gone'";
		b = rows(u, v, n, 5, ar);
		REQUIRE_OK(merge_with(t, &o, b, &res, &err), &err);
		floe_batch_builder_free(b);
		CHECK_EQ_INT(res.stale, 2);
		CHECK_EQ_INT(res.upserted, 3);
		if (!mor) {
			CHECK_EQ_INT(res.updated, 2);
			CHECK_EQ_INT(res.inserted, 1);
			CHECK_EQ_INT(res.deleted, 0);
		}
		static const int64_t want_id[5] = { 100, 200, 300, 400, 1100 };
		static const char *const want[5] = { "a", "y", "z", "w", "d" };
		for (int i = 0; i < 5; i++) {
			char got[32];
			note_of(t, want_id[i], got, sizeof got);
			if (strcmp(got, want[i]) != 0)
				th_fail(__FILE__, __LINE__, "%s: id %lld has note '%s', want '%s'",
				        mor ? "merge-on-read" : "copy-on-write", (long long)want_id[i], got,
				        want[i]);
		}
		int32_t *got = malloc(MAXID * sizeof *got);
		REQUIRE(got);
		CHECK_EQ_INT(scan_model(t, NULL, got, &err), 5);
		CHECK(got[100] == 10 && got[200] == 10 && got[300] == 7 && got[400] == 1 && got[1100] == 50);
		/* only stale rows: nothing changes but an empty commit's rows */
		int64_t u2[1] = { 1100 };
		int32_t v2[1] = { 49 };
		const char *n2[1] = { "old" };
		o.delete_when = NULL;
		b = rows(u2, v2, n2, 1, ar);
		REQUIRE_OK(merge_with(t, &o, b, &res, &err), &err);
		floe_batch_builder_free(b);
		CHECK_EQ_INT(res.stale, 1);
		CHECK_EQ_INT(res.upserted, 0);
		CHECK_EQ_INT(res.data_files_removed, 0);
		CHECK_EQ_INT(scan_model(t, NULL, got, &err), 5);
		CHECK_EQ_INT(got[1100], 50);
		/* it reads the table in both modes, so a commit since that may hold
		 * one of its keys conflicts; after a refresh the older row is
		 * skipped */
		floe_table *t2;
		REQUIRE_OK(floe_table_open(&t2, c, mor ? "db.ptm" : "db.ptc", &err), &err);
		int64_t u3[1] = { 500 };
		int32_t v3[1] = { 100 };
		const char *n3[1] = { "newer" };
		b = rows(u3, v3, n3, 1, ar);
		REQUIRE_OK(append_rows(t, b, &err), &err);
		floe_batch_builder_free(b);
		v3[0] = 1;
		n3[0] = "older";
		b = rows(u3, v3, n3, 1, ar);
		CHECK_EQ_INT(merge_with(t2, &o, b, &res, &err), FLOE_ECONFLICT);
		REQUIRE_OK(floe_table_refresh(t2, &err), &err);
		REQUIRE_OK(merge_with(t2, &o, b, &res, &err), &err);
		floe_batch_builder_free(b);
		CHECK_EQ_INT(res.stale, 1);
		char note[32];
		note_of(t2, 500, note, sizeof note);
		CHECK_EQ_STR(note, "newer");
		floe_table_close(t2);
		free(got);
		floe_arena_free(ar);
		floe_table_close(t);
	}
	floe_catalog_close(c);
}

/* Keys found again after the source key table has grown (it starts at
 * 4,096 slots and doubles at half full): every repeat of a key seen before
 * two growths is found, with and without a precombine column. */
TEST(merge_duplicate_keys_across_key_table_growth)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make_table(c, "db.grow", "copy-on-write");
	REQUIRE(t);
	floe_arena *ar = floe_arena_new(0);
	enum { DISTINCT = 9000, REPEAT = 500 };
	int64_t *ids = malloc((DISTINCT + REPEAT) * sizeof *ids);
	int32_t *vols = malloc((DISTINCT + REPEAT) * sizeof *vols);
	int32_t *got = malloc(MAXID * sizeof *got);
	REQUIRE(ids && vols && got);
	for (int i = 0; i < DISTINCT; i++) {
		ids[i] = i;
		vols[i] = 1;
	}
	for (int i = 0; i < REPEAT; i++) {
		ids[DISTINCT + i] = (int64_t)i * 17 % DISTINCT; /* most seen before the growths */
		vols[DISTINCT + i] = 2;
	}
	floe_batch_builder *b = rows(ids, vols, NULL, DISTINCT + REPEAT, ar);
	REQUIRE(b);
	floe_merge_result res;
	CHECK_EQ_INT(do_merge(t, b, NULL, NULL, &res, &err), FLOE_EINVALID);
	if (!strstr(err.msg, "source row 9001"))
		th_fail(__FILE__, __LINE__, "%s", err.msg);
	REQUIRE_OK(do_merge(t, b, "volume", NULL, &res, &err), &err);
	CHECK_EQ_INT(res.upserted, DISTINCT);
	CHECK_EQ_INT(scan_model(t, NULL, got, &err), DISTINCT);
	int64_t twos = 0;
	for (int i = 0; i < DISTINCT; i++)
		twos += got[i] == 2;
	CHECK_EQ_INT(twos, REPEAT);
	CHECK_EQ_INT(got[17 * 499 % DISTINCT], 2);
	floe_batch_builder_free(b);
	free(ids);
	free(vols);
	free(got);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}

typedef struct fcount {
	int data, eq;
} fcount;

static int count_files(void *ctx, const floe_file_info *f, floe_error *err)
{
	(void)err;
	fcount *fc = ctx;
	fc->data += f->content == 0;
	fc->eq += f->content == 2;
	return 0;
}

TEST(merge_copy_on_write_rewrites_only_files_with_keys)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make_table(c, "db.few", "copy-on-write");
	REQUIRE(t);
	floe_arena *ar = floe_arena_new(0);
	/* ten days, one file each */
	int64_t *ids = malloc(10000 * sizeof *ids);
	int32_t *vols = malloc(10000 * sizeof *vols);
	REQUIRE(ids && vols);
	for (int i = 0; i < 10000; i++) {
		ids[i] = i;
		vols[i] = i;
	}
	floe_batch_builder *b = rows(ids, vols, NULL, 10000, ar);
	REQUIRE_OK(append_rows(t, b, &err), &err);
	floe_batch_builder_free(b);
	/* keys of days 3 and 7 and one new key */
	int64_t up[3] = { 3500, 7001, 20000 };
	int32_t uv[3] = { -1, -2, -3 };
	b = rows(up, uv, NULL, 3, ar);
	floe_merge_result res;
	REQUIRE_OK(do_merge(t, b, NULL, NULL, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_removed, 2);
	CHECK_EQ_INT(res.updated, 2);
	CHECK_EQ_INT(res.inserted, 1);
	fcount fc = { 0, 0 };
	REQUIRE_OK(floe_table_files(t, NULL, count_files, &fc, &err), &err);
	CHECK_EQ_INT(fc.data, 8 + 2 + 1); /* untouched days + rewritten + new day */
	int32_t *got = malloc(MAXID * sizeof *got);
	REQUIRE(got);
	CHECK_EQ_INT(scan_model(t, NULL, got, &err), 10001);
	CHECK_EQ_INT(got[3500], -1);
	CHECK_EQ_INT(got[7001], -2);
	CHECK_EQ_INT(got[20000], -3);
	CHECK_EQ_INT(got[3501], 3501);
	free(got);
	free(ids);
	free(vols);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* The independent reader (DuckDB, the spec's rules for global equality
 * deletes applied by hand) agrees at every snapshot of a merge-on-read
 * table. */
TEST(merge_on_read_read_by_independent_reader)
{
	const char *peers = th_peers();
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make_table(c, "db.indep", "merge-on-read");
	REQUIRE(t);
	floe_arena *ar = floe_arena_new(0);
	int64_t ids[6] = { 1, 2, 3, 1500, 2500, 2501 };
	int32_t vols[6] = { 1, 2, 3, 4, 5, 6 };
	floe_batch_builder *b = rows(ids, vols, NULL, 6, ar);
	floe_merge_result res;
	REQUIRE_OK(do_merge(t, b, NULL, NULL, &res, &err), &err);
	int64_t ids2[3] = { 2, 2500, 9 };
	int32_t vols2[3] = { 20, 50, 9 };
	const char *notes2[3] = { NULL, "del", NULL };
	floe_batch_builder *b2 = rows(ids2, vols2, notes2, 3, ar);
	REQUIRE_OK(do_merge(t, b2, NULL, "note = 'del'", &res, &err), &err);
	REQUIRE_OK(floe_table_delete(t, "id = 3", NULL, &err), &err);
	const floe_snapshot_info *si;
	int ns;
	REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
	CHECK_EQ_INT(ns, 3);
	int32_t *got = malloc(MAXID * sizeof *got);
	REQUIRE(got);
	for (int i = 0; i < ns; i++) {
		floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, si[i].snapshot_id, 0, NULL };
		int64_t n = scan_model(t, &sel, got, &err), sum = 0;
		for (int k = 0; k < MAXID; k++)
			if (got[k] != ABSENT)
				sum += k;
		char *out = NULL;
		REQUIRE(th_run(&out, "node tests/iceberg/iceberg_read.mjs '%s' '%s' --snapshot %" PRId64
		               " --sum id", peers, floe_table_metadata_location(t), si[i].snapshot_id) == 0);
		char want[128];
		snprintf(want, sizeof want, "\"rows\":%" PRId64 ",\"sum\":\"%" PRId64 "\"", n, sum);
		if (!out || !strstr(out, want))
			th_fail(__FILE__, __LINE__, "snapshot %d: independent reader %s, floe %s", i,
			        out ? out : "(nothing)", want);
		free(out);
	}
	CHECK_EQ_INT(scan_model(t, NULL, got, &err), 5);
	CHECK_EQ_INT(got[2], 20);
	CHECK_EQ_INT(got[2500], ABSENT);
	CHECK_EQ_INT(got[9], 9);
	fcount fc = { 0, 0 };
	REQUIRE_OK(floe_table_files(t, NULL, count_files, &fc, &err), &err);
	CHECK_EQ_INT(fc.eq, 2);
	free(got);
	floe_batch_builder_free(b);
	floe_batch_builder_free(b2);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* Files whose id bounds all overlap the source keys: Bloom filters on the
 * key (a table property) show which files cannot hold one, so
 * copy-on-write reads and rewrites only the file that does. */
TEST(merge_copy_on_write_skips_files_by_bloom_filter)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make_flat_table(c, "db.bloom", "write.parquet.bloom-filter-enabled.column.id=true");
	REQUIRE(t);
	floe_arena *ar = floe_arena_new(0);
	/* ten files; file k holds ids 10*i + k: every file spans 0..9999 */
	int64_t *ids = malloc(1000 * sizeof *ids);
	int32_t *vols = malloc(1000 * sizeof *vols);
	REQUIRE(ids && vols);
	for (int k = 0; k < 10; k++) {
		for (int i = 0; i < 1000; i++) {
			ids[i] = 10 * i + k;
			vols[i] = k;
		}
		floe_batch_builder *b = rows(ids, vols, NULL, 1000, ar);
		REQUIRE_OK(append_rows(t, b, &err), &err);
		floe_batch_builder_free(b);
	}
	/* keys of file 3 only (ids 3, 13, ... spread over the whole range) */
	for (int i = 0; i < 50; i++) {
		ids[i] = 3 + 200 * i;
		vols[i] = -1;
	}
	floe_batch_builder *b = rows(ids, vols, NULL, 50, ar);
	floe_merge_result res;
	REQUIRE_OK(do_merge(t, b, NULL, NULL, &res, &err), &err);
	CHECK_EQ_INT(res.updated, 50);
	CHECK_EQ_INT(res.data_files_removed, 1);
	CHECK(res.data_files_skipped_by_bloom >= 8); /* 9 at a 1% false-positive rate, mostly */
	int32_t *got = malloc(MAXID * sizeof *got);
	REQUIRE(got);
	CHECK_EQ_INT(scan_model(t, NULL, got, &err), 10000);
	CHECK_EQ_INT(got[3], -1);
	CHECK_EQ_INT(got[203], -1);
	CHECK_EQ_INT(got[13], 3);
	free(got);
	free(ids);
	free(vols);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* Ids of 0..maxid-1 that `in` takes at each of `steps` steps, written in
 * one commit per step (the first appended when `append_first`, the others
 * upserted), with volume id, then id + 100000, then -id; model[id] follows. */
static int upsert_steps(floe_table *t, int steps, int64_t maxid, bool (*in)(int, int64_t),
                        bool append_first, int32_t *model, floe_arena *ar, floe_error *err)
{
	int64_t *ids = malloc((size_t)maxid * sizeof *ids);
	int32_t *vols = malloc((size_t)maxid * sizeof *vols);
	int rc = ids && vols ? 0 : FLOE_ENOMEM;
	for (int step = 0; !rc && step < steps; step++) {
		int n = 0;
		for (int64_t id = 0; id < maxid; id++) {
			if (!in(step, id))
				continue;
			ids[n] = id;
			vols[n] = (int32_t)(step == 0 ? id : step == 1 ? id + 100000 : -id);
			model[id] = vols[n];
			n++;
		}
		floe_batch_builder *b = rows(ids, vols, NULL, n, ar);
		floe_merge_result res;
		if (!b)
			rc = FLOE_ENOMEM;
		else if (step == 0 && append_first)
			rc = append_rows(t, b, err);
		else
			rc = do_merge(t, b, NULL, NULL, &res, err);
		floe_batch_builder_free(b);
	}
	free(ids);
	free(vols);
	return rc;
}

/* Ids where a scan's id -> volume differs from the model. */
static int model_diff(const int32_t *got, const int32_t *model)
{
	int wrong = 0;
	for (int i = 0; i < MAXID; i++)
		wrong += got[i] != model[i];
	return wrong;
}

/* All of 0..4999, then every 7th, then every 11th and those by the edges
 * of the reader's 1024-row chunks. */
static bool large_file_step(int step, int64_t id)
{
	bool edge = id % 1024 == 0 || id % 1024 == 1 || id % 1024 == 1023;
	return step == 0 || (step == 1 && id % 7 == 0) || (step == 2 && (id % 11 == 0 || edge));
}

/* Equality deletes of two upserts applied to a data file of 5,000 rows,
 * which the reader probes in chunks of rows: every old version is gone at
 * every chunk boundary and nowhere else. */
TEST(merge_on_read_deletes_apply_across_a_large_file)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make_flat_table(c, "db.large", "write.merge.mode=merge-on-read");
	REQUIRE(t);
	enum { N = 5000 };
	floe_arena *ar = floe_arena_new(0);
	int32_t *model = malloc(MAXID * sizeof *model), *got = malloc(MAXID * sizeof *got);
	REQUIRE(model && got);
	for (int i = 0; i < MAXID; i++)
		model[i] = ABSENT;
	REQUIRE_OK(upsert_steps(t, 3, N, large_file_step, false, model, ar, &err), &err);
	CHECK_EQ_INT(scan_model(t, NULL, got, &err), N);
	CHECK_EQ_INT(model_diff(got, model), 0);
	fcount fc = { 0, 0 };
	REQUIRE_OK(floe_table_files(t, NULL, count_files, &fc, &err), &err);
	CHECK_EQ_INT(fc.eq, 3); /* a blind upsert writes one for every batch */
	free(model);
	free(got);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* A: ids 0..999 appended; B: upsert of 500..1499 (keys 500..1499); C:
 * upsert of 100..199, 1200..1299 and 3000..3899 (keys of all). */
static bool ranges_step(int step, int64_t id)
{
	if (step == 0)
		return id < 1000;
	if (step == 1)
		return id >= 500 && id < 1500;
	return (id >= 100 && id < 200) || (id >= 1200 && id < 1300) || (id >= 3000 && id < 3900);
}

/* A blind upsert writes a key for every row it upserts, new ones too. A
 * scan loads only the keys within the bounds of the data files it reads
 * that each delete file applies to (older ones); the rows stay right, in a
 * filtered scan too, and through a compaction, which plans its files the
 * same way. */
TEST(merge_on_read_loads_only_keys_within_the_read_files_bounds)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make_flat_table(c, "db.ranges", "write.merge.mode=merge-on-read");
	REQUIRE(t);
	floe_arena *ar = floe_arena_new(0);
	int32_t *model = malloc(MAXID * sizeof *model), *got = malloc(MAXID * sizeof *got);
	REQUIRE(ar && model && got);
	for (int i = 0; i < MAXID; i++)
		model[i] = ABSENT;
	REQUIRE_OK(upsert_steps(t, 3, 4000, ranges_step, true, model, ar, &err), &err);
	/* B's keys apply to A (0..999): 500 of them; C's apply to A and B
	 * (0..1499): 200 of them. All of them would be 2,000 (100 in both). */
	int64_t keys = -1;
	CHECK_EQ_INT(scan_where(t, NULL, NULL, got, &keys, &err), 2400);
	CHECK_EQ_INT(keys, 700);
	CHECK_EQ_INT(model_diff(got, model), 0);
	/* ids >= 1000 read B and C only: B's keys apply to A alone, and 100
	 * of C's fall within B's bounds (500..1499); 1,500 rows if C's
	 * updates of B's rows did not apply */
	CHECK_EQ_INT(scan_where(t, NULL, "id >= 1000", NULL, &keys, &err), 1400);
	CHECK_EQ_INT(keys, 100);
	CHECK_EQ_INT(scan_where(t, NULL, "id >= 100 and id < 200", NULL, &keys, &err), 100);
	floe_compact_result cr;
	REQUIRE_OK(floe_table_compact(t, NULL, &cr, &err), &err);
	CHECK_EQ_INT(cr.rows, 2400);
	CHECK_EQ_INT(scan_model(t, NULL, got, &err), 2400);
	CHECK_EQ_INT(model_diff(got, model), 0);
	free(model);
	free(got);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* Global equality deletes over different columns (a merge on note, then
 * merges on id) are looked up apart, each with its own sequence numbers:
 * the row whose note a later merge names goes, a key re-upserted keeps only
 * its newest version, and rows added after a delete stay. */
TEST(merge_on_read_keys_on_different_columns_apply_apart)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make_flat_table(c, "db.keys", "write.merge.mode=merge-on-read");
	REQUIRE(t);
	floe_arena *ar = floe_arena_new(0);
	int32_t *got = malloc(MAXID * sizeof *got);
	REQUIRE(ar && got);
	floe_merge_result res;
	static const int64_t ids0[] = { 1, 2, 3, 4, 5, 6 };
	static const int32_t vols0[] = { 10, 20, 30, 40, 50, 60 };
	static const char *const notes0[] = { "a", "b", "c", "d", "e", "f" };
	floe_batch_builder *b = rows(ids0, vols0, notes0, 6, ar);
	REQUIRE(b);
	REQUIRE_OK(do_merge(t, b, NULL, NULL, &res, &err), &err);
	floe_batch_builder_free(b);
	/* on note: "b" (id 2) is replaced by id 100, "x" is new */
	static const int64_t ids1[] = { 100, 101 };
	static const int32_t vols1[] = { 1000, 1010 };
	static const char *const notes1[] = { "b", "x" };
	REQUIRE((b = rows(ids1, vols1, notes1, 2, ar)));
	REQUIRE_OK(merge_on(t, "note", b, NULL, NULL, &res, &err), &err);
	floe_batch_builder_free(b);
	/* on id, twice: 3 and 100 updated, then 3 again; 4 gets note "b", which
	 * the earlier delete by note must not touch */
	static const int64_t ids2[] = { 3, 100, 4 };
	static const int32_t vols2[] = { 31, 1001, 41 };
	static const char *const notes2[] = { "c", "y", "b" };
	REQUIRE((b = rows(ids2, vols2, notes2, 3, ar)));
	REQUIRE_OK(do_merge(t, b, NULL, NULL, &res, &err), &err);
	floe_batch_builder_free(b);
	static const int64_t ids3[] = { 3 };
	static const int32_t vols3[] = { 32 };
	REQUIRE((b = rows(ids3, vols3, NULL, 1, ar)));
	REQUIRE_OK(do_merge(t, b, NULL, NULL, &res, &err), &err);
	floe_batch_builder_free(b);
	fcount fc = { 0, 0 };
	REQUIRE_OK(floe_table_files(t, NULL, count_files, &fc, &err), &err);
	CHECK_EQ_INT(fc.eq, 4);
	CHECK_EQ_INT(scan_model(t, NULL, got, &err), 7);
	static const int64_t want_id[] = { 1, 3, 4, 5, 6, 100, 101 };
	static const int32_t want_vol[] = { 10, 32, 41, 50, 60, 1001, 1010 };
	for (int i = 0; i < 7; i++)
		CHECK_EQ_INT(got[want_id[i]], want_vol[i]);
	CHECK_EQ_INT(got[2], ABSENT);
	free(got);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* Rows (id, a, b, volume = id) of a two-string-column key. */
static floe_batch_builder *ab_rows(const int64_t *ids, const char *const (*ab)[2], int n,
                                   floe_arena *ar)
{
	floe_error err;
	floe_batch_builder *b = builder_of("id long not null, a string, b string, volume int", ar);
	if (!b)
		return NULL;
	for (int i = 0; i < n; i++) {
		floe_batch_builder_i64(b, 0, ids[i], &err);
		for (int k = 0; k < 2; k++)
			floe_batch_builder_bytes(b, 1 + k, ab[i][k], (int64_t)strlen(ab[i][k]), &err);
		floe_batch_builder_i32(b, 3, (int32_t)ids[i], &err);
	}
	return b;
}

/* A blind upsert on two string columns deletes exactly the keys it names:
 * ("ab", "c") is not ("a", "bc"), nor ("x", "") ("", "x"), nor
 * ("a\1b", "c") ("a", "b\1c"), whose bytes run alike; keys just
 * below, at and above the length held inline in the key set, and a long
 * one, each next to a key that differs only in its last byte. Read
 * before and after a compaction. */
TEST(merge_on_read_keys_of_two_string_columns_keep_their_boundaries)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, a string, b string, volume int";
	const char *prop = "write.merge.mode=merge-on-read";
	co.properties = &prop;
	co.nproperties = 1;
	floe_table *t = NULL;
	REQUIRE_OK(floe_table_create(&t, c, "db.abkeys", &co, &err), &err);
	floe_arena *ar = floe_arena_new(0);
	int32_t *got = malloc(MAXID * sizeof *got);
	REQUIRE(ar && got);
	static const int64_t ids0[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	static const char *const ab0[][2] = {
		{ "ab", "c" }, { "a", "bc" }, { "", "x" }, { "x", "" },
		{ "abcdefgh", "a" }, { "abcdefgh", "b" },       /* 15 bytes of key */
		{ "abcdefgh", "ab" }, { "abcdefgh", "ac" },     /* 16 */
		{ "abcdefgh", "abc" }, { "abcdefgh", "abd" },   /* 17 */
	};
	floe_batch_builder *b = ab_rows(ids0, ab0, 10, ar);
	REQUIRE(b);
	REQUIRE_OK(append_rows(t, b, &err), &err);
	floe_batch_builder_free(b);
	static const int64_t ids1[] = { 11, 12, 13, 14 };
	static const char *const ab1[][2] = {
		{ "0123456789abcdef", "ghij" }, { "0123456789abcdef", "ghik" }, { "q", "r" },
		{ "a\001b", "c" },
	};
	REQUIRE((b = ab_rows(ids1, ab1, 4, ar)));
	REQUIRE_OK(append_rows(t, b, &err), &err);
	floe_batch_builder_free(b);
	static const int64_t ids2[] = { 21, 24, 25, 27, 29, 31, 30, 28 };
	static const char *const ab2[][2] = {
		{ "ab", "c" }, { "x", "" }, { "abcdefgh", "a" }, { "abcdefgh", "ab" },
		{ "abcdefgh", "abc" }, { "0123456789abcdef", "ghij" }, { "a", "b" },
		{ "a", "b\001c" },
	};
	REQUIRE((b = ab_rows(ids2, ab2, 8, ar)));
	static const char *const on[2] = { "a", "b" };
	floe_merge_options o;
	floe_merge_options_init(&o);
	o.on = on;
	o.non = 2;
	floe_merge_result res;
	REQUIRE_OK(merge_with(t, &o, b, &res, &err), &err);
	floe_batch_builder_free(b);
	fcount fc = { 0, 0 };
	REQUIRE_OK(floe_table_files(t, NULL, count_files, &fc, &err), &err);
	CHECK_EQ_INT(fc.eq, 1);
	/* replaced: 1, 4, 5, 7, 9, 11; kept: 2, 3, 6, 8, 10, 12, 13, 14 */
	static const int live[] = { 2, 3, 6, 8, 10, 12, 13, 14, 21, 24, 25, 27, 28, 29, 30, 31 };
	for (int round = 0; round < 2; round++) {
		CHECK_EQ_INT(scan_model(t, NULL, got, &err), 16);
		for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
			CHECK_EQ_INT(got[live[i]], live[i]);
		floe_compact_result cr;
		if (round == 0)
			REQUIRE_OK(floe_table_compact(t, NULL, &cr, &err), &err);
	}
	free(got);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* Change rows between the current snapshot's parent and it (-1 when they
 * cannot be read). */
static int64_t last_changes(floe_table *t)
{
	floe_error err;
	const floe_snapshot_info *si;
	int ns;
	if (floe_table_snapshots(t, &si, &ns, &err) || ns < 2)
		return -1;
	floe_changes *ch;
	if (floe_changes_open(&ch, t, si[ns - 2].snapshot_id, -1, &err))
		return -1;
	const floe_batch *b;
	int64_t n = 0;
	int rc;
	while ((rc = floe_changes_next(ch, &b, &err)) == 1)
		n += b->nrows;
	floe_changes_free(ch);
	return rc == 0 ? n : -1;
}

/* copy-on-write: a file whose matched rows all equal their source rows (a
 * replayed duplicate) is not written again; one real change, a NULL that
 * becomes a value, a delete condition or a key held twice in the table
 * rewrites the file as before. */
TEST(merge_copy_on_write_leaves_files_whose_rows_do_not_change)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make_table(c, "db.same", "copy-on-write");
	REQUIRE(t);
	floe_arena *ar = floe_arena_new(0);
	/* five days, one file each; notes "n<id>", NULL for ids ending in 0 */
	int64_t ids[5000];
	int32_t vols[5000];
	char notes_buf[5000][16];
	const char *notes[5000];
	for (int i = 0; i < 5000; i++) {
		ids[i] = i;
		vols[i] = i;
		snprintf(notes_buf[i], sizeof notes_buf[i], "n%d", i);
		notes[i] = i % 10 ? notes_buf[i] : NULL;
	}
	floe_batch_builder *b = rows(ids, vols, notes, 5000, ar);
	REQUIRE_OK(append_rows(t, b, &err), &err);
	floe_batch_builder_free(b);
	fcount fc = { 0, 0 };
	REQUIRE_OK(floe_table_files(t, NULL, count_files, &fc, &err), &err);
	CHECK_EQ_INT(fc.data, 5);
	int32_t *got = malloc(MAXID * sizeof *got);
	REQUIRE(got);
	floe_merge_result res;
	/* replayed rows of days 1 and 2 (one with a NULL note) and a new key */
	{
		int64_t u[4] = { 1501, 1510, 2501, 20000 };
		int32_t v[4] = { 1501, 1510, 2501, 7 };
		const char *n[4] = { "n1501", NULL, "n2501", "new" };
		b = rows(u, v, n, 4, ar);
		REQUIRE_OK(do_merge(t, b, NULL, NULL, &res, &err), &err);
		floe_batch_builder_free(b);
		CHECK_EQ_INT(res.data_files_removed, 0);
		CHECK_EQ_INT(res.unchanged, 3);
		CHECK_EQ_INT(res.updated, 0);
		CHECK_EQ_INT(res.inserted, 1);
		CHECK_EQ_INT(res.upserted, 1);
		CHECK_EQ_INT(res.data_files_added, 1);
		CHECK_EQ_INT(last_changes(t), 1);
		fc.data = 0;
		REQUIRE_OK(floe_table_files(t, NULL, count_files, &fc, &err), &err);
		CHECK_EQ_INT(fc.data, 6);
	}
	/* a replayed row and a changed one in day 3: the file is rewritten */
	{
		int64_t u[2] = { 3501, 3600 };
		int32_t v[2] = { 3501, -36 };
		const char *n[2] = { "n3501", NULL };
		b = rows(u, v, n, 2, ar);
		REQUIRE_OK(do_merge(t, b, NULL, NULL, &res, &err), &err);
		floe_batch_builder_free(b);
		CHECK_EQ_INT(res.data_files_removed, 1);
		CHECK_EQ_INT(res.unchanged, 0);
		CHECK_EQ_INT(res.updated, 2);
		CHECK_EQ_INT(last_changes(t), 2); /* id 3600: update images */
	}
	/* a NULL that becomes a value is a change */
	{
		int64_t u[1] = { 4010 };
		int32_t v[1] = { 4010 };
		const char *n[1] = { "now set" };
		b = rows(u, v, n, 1, ar);
		REQUIRE_OK(do_merge(t, b, NULL, NULL, &res, &err), &err);
		floe_batch_builder_free(b);
		CHECK_EQ_INT(res.data_files_removed, 1);
		CHECK_EQ_INT(res.updated, 1);
		CHECK_EQ_INT(res.unchanged, 0);
	}
	/* an equal row the delete condition picks is deleted */
	{
		int64_t u[1] = { 1201 };
		int32_t v[1] = { 1201 };
		const char *n[1] = { "n1201" };
		b = rows(u, v, n, 1, ar);
		REQUIRE_OK(do_merge(t, b, NULL, "volume = 1201", &res, &err), &err);
		floe_batch_builder_free(b);
		CHECK_EQ_INT(res.data_files_removed, 1);
		CHECK_EQ_INT(res.deleted, 1);
		CHECK_EQ_INT(res.unchanged, 0);
	}
	/* a key the table holds twice: the merge leaves one row */
	{
		int64_t u[1] = { 501 };
		int32_t v[1] = { 501 };
		const char *n[1] = { "n501" };
		b = rows(u, v, n, 1, ar);
		REQUIRE_OK(append_rows(t, b, &err), &err);
		CHECK_EQ_INT(scan_model(t, NULL, got, &err), -1); /* id 501 twice */
		REQUIRE_OK(do_merge(t, b, NULL, NULL, &res, &err), &err);
		floe_batch_builder_free(b);
		CHECK_EQ_INT(res.unchanged, 0);
		CHECK_EQ_INT(res.updated, 1);
		CHECK(res.data_files_removed >= 1);
	}
	CHECK_EQ_INT(scan_model(t, NULL, got, &err), 5000);
	CHECK_EQ_INT(got[1501], 1501);
	CHECK_EQ_INT(got[3600], -36);
	CHECK_EQ_INT(got[1201], ABSENT);
	CHECK_EQ_INT(got[20000], 7);
	CHECK_EQ_INT(got[501], 501);
	free(got);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}
