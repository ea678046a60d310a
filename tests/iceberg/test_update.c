/* tests/iceberg/test_update.c - UPDATE SET ... WHERE in copy-on-write and
 * merge-on-read modes: random updates, deletes and appends checked against
 * an in-memory model after every step and at every earlier snapshot; SET
 * of NULL, of several columns, and the errors of bad assignments. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/catalog.h"
#include "floe/floe.h"
#include "floe/table.h"
#include "harness.h"

#define T0 1704067200000000LL
#define MAXID 12000
#define ABSENT (-2)
#define NULLV (-1)

static int append_ids(floe_table *t, int64_t from, int64_t to, floe_error *err)
{
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	floe_batch_builder *b = NULL;
	floe_append *a = NULL;
	int rc = floe_schema_parse(&s, "id long not null, v int, ts timestamptz, tag string", ar, err);
	if (!rc)
		rc = floe_batch_builder_new(&b, s, err);
	for (int64_t id = from; !rc && id < to; id++)
		if ((rc = floe_batch_builder_i64(b, 0, id, err)) ||
		    (rc = floe_batch_builder_i32(b, 1, (int32_t)(id % 1000), err)) ||
		    (rc = floe_batch_builder_i64(b, 2, T0 + id * 86400000000LL / 500, err)) ||
		    (rc = floe_batch_builder_bytes(b, 3, "a", 1, err)))
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

/* id -> v (NULLV for NULL, ABSENT when missing); -1 on error/duplicate. */
static int64_t scan_v(floe_table *t, const floe_snapshot_sel *sel, int32_t *got, floe_error *err)
{
	for (int i = 0; i < MAXID; i++)
		got[i] = ABSENT;
	floe_scan_options o;
	floe_scan_options_init(&o);
	static const char *const cols[2] = { "id", "v" };
	o.columns = cols;
	o.ncolumns = 2;
	if (sel)
		o.snapshot = *sel;
	floe_scan *s;
	if (floe_scan_open(&s, t, &o, err))
		return -1;
	const floe_batch *b;
	int rc;
	int64_t n = 0;
	while ((rc = floe_scan_next(s, &b, err)) == 1)
		for (int64_t r = 0; r < b->nrows; r++) {
			int64_t id = ((const int64_t *)b->cols[0].values)[r];
			if (id < 0 || id >= MAXID || got[id] != ABSENT) {
				floe_scan_free(s);
				return -1;
			}
			got[id] = floe_column_is_valid(&b->cols[1], r) ? ((const int32_t *)b->cols[1].values)[r]
			                                              : NULLV;
			n++;
		}
	floe_scan_free(s);
	return rc < 0 ? -1 : n;
}

static void property_run(const char *mode, uint64_t x)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, v int, ts timestamptz, tag string";
	co.partition = "day(ts)";
	char p1[64], p2[64];
	snprintf(p1, sizeof p1, "write.update.mode=%s", mode);
	snprintf(p2, sizeof p2, "write.delete.mode=%s", mode);
	const char *props[2] = { p1, p2 };
	co.properties = props;
	co.nproperties = 2;
	floe_table *t;
	REQUIRE_OK(floe_table_create(&t, c, mode[0] == 'c' ? "db.uc" : "db.um", &co, &err), &err);
	enum { STEPS = 22 };
	int32_t *model = malloc(MAXID * sizeof *model), *got = malloc(MAXID * sizeof *got);
	int32_t *hist = malloc((size_t)STEPS * MAXID * sizeof *hist);
	int64_t snaps[STEPS];
	REQUIRE(model && got && hist);
	for (int i = 0; i < MAXID; i++)
		model[i] = ABSENT;
	int64_t next = 0;
	int updates = 0;
	for (int step = 0; step < STEPS; step++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int kind = next == 0 ? 0 : (int)(x % 5);
		if (kind == 0 && next < MAXID - 1200) {
			int64_t n = 200 + (int64_t)(x % 1000);
			REQUIRE_OK(append_ids(t, next, next + n, &err), &err);
			for (int64_t id = next; id < next + n; id++)
				model[id] = (int32_t)(id % 1000);
			next += n;
		} else if (kind == 1) {
			int64_t a = (int64_t)((x >> 8) % (uint64_t)next);
			char where[96];
			snprintf(where, sizeof where, "id >= %" PRId64 " and id < %" PRId64, a, a + 90);
			REQUIRE_OK(floe_table_delete(t, where, NULL, &err), &err);
			for (int64_t id = a; id < a + 90 && id < MAXID; id++)
				model[id] = ABSENT;
		} else {
			int64_t a = (int64_t)((x >> 8) % (uint64_t)next);
			int32_t nv = (int32_t)((x >> 40) % 5000) + 2000;
			bool null = kind == 4;
			char set[96], where[96];
			if (null)
				snprintf(set, sizeof set, "v = NULL, tag = 'n'");
			else
				snprintf(set, sizeof set, "v = %d", nv);
			snprintf(where, sizeof where, "id >= %" PRId64 " and id < %" PRId64 " and v != 7", a,
			         a + 300);
			floe_update_result r;
			REQUIRE_OK(floe_table_update(t, set, where, &r, &err), &err);
			int64_t want = 0;
			for (int64_t id = a; id < a + 300 && id < MAXID; id++)
				if (model[id] != ABSENT && model[id] != NULLV && model[id] != 7) {
					model[id] = null ? NULLV : nv;
					want++;
				}
			CHECK_EQ_INT(r.rows_updated, want);
			CHECK_EQ_INT(r.merge_on_read, mode[0] == 'm');
			if (want && mode[0] == 'm')
				CHECK(r.delete_files_added >= 1 && r.data_files_removed == 0);
			if (want && mode[0] == 'c')
				CHECK(r.delete_files_added == 0 && r.data_files_removed >= 1);
			updates += want > 0;
		}
		const floe_snapshot_info *si;
		int ns;
		REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
		snaps[step] = ns ? si[ns - 1].snapshot_id : -1;
		memcpy(hist + (size_t)step * MAXID, model, MAXID * sizeof *model);
		REQUIRE(scan_v(t, NULL, got, &err) >= 0);
		if (memcmp(got, model, MAXID * sizeof *model) != 0)
			th_fail(__FILE__, __LINE__, "%s step %d: the scan differs from the model", mode, step);
	}
	for (int step = 0; step < STEPS; step++) {
		floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, snaps[step], 0, NULL };
		REQUIRE(scan_v(t, &sel, got, &err) >= 0);
		if (memcmp(got, hist + (size_t)step * MAXID, MAXID * sizeof *model) != 0)
			th_fail(__FILE__, __LINE__, "%s: snapshot of step %d reads differently now", mode, step);
	}
	CHECK(updates >= 5);
	free(model);
	free(got);
	free(hist);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(update_copy_on_write_matches_model)
{
	property_run("copy-on-write", 0x2545F4914F6CDD1Dull);
}

TEST(update_merge_on_read_matches_model)
{
	property_run("merge-on-read", 0x9E3779B97F4A7C15ull);
}

TEST(update_bad_assignments)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, v int, ts timestamptz, tag string";
	floe_table *t;
	REQUIRE_OK(floe_table_create(&t, c, "db.bad", &co, &err), &err);
	REQUIRE_OK(append_ids(t, 0, 10, &err), &err);
	static const struct {
		const char *set, *want;
	} bad[] = {
		{ "", "nothing to set" },
		{ "nosuch = 1", "nosuch" },
		{ "v = 'text'", "v" },
		{ "id = NULL", "not null" },
		{ "v = 1, v = 2", "twice" },
		{ "v > 1", "COLUMN = VALUE" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = floe_table_update(t, bad[i].set, "id = 1", NULL, &err);
		CHECK(rc == FLOE_EINVALID || (rc == FLOE_ENOTFOUND && i == 1));
		if (!strstr(err.msg, bad[i].want))
			th_fail(__FILE__, __LINE__, "set '%s': %s", bad[i].set, err.msg);
	}
	floe_update_result r;
	REQUIRE_OK(floe_table_update(t, "tag = 'it''s', v = 5", "id < 3", &r, &err), &err);
	CHECK_EQ_INT(r.rows_updated, 3);
	floe_scan_options o;
	floe_scan_options_init(&o);
	o.where = "tag = 'it''s' and v = 5";
	floe_scan *s;
	REQUIRE_OK(floe_scan_open(&s, t, &o, &err), &err);
	const floe_batch *b;
	int64_t n = 0;
	while (floe_scan_next(s, &b, &err) == 1)
		n += b->nrows;
	floe_scan_free(s);
	CHECK_EQ_INT(n, 3);
	floe_table_close(t);
	floe_catalog_close(c);
}
