/* tests/iceberg/test_delete.c - DELETE WHERE in copy-on-write and
 * merge-on-read modes: random sequences of appends and deletes checked
 * against an in-memory model after every step (and by an independent
 * reader applying the delete files with DuckDB), whole-file removal, time
 * travel across deletes, snapshot summaries, and conflicts with concurrent
 * writers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/catalog.h"
#include "floe/floe.h"
#include "floe/table.h"
#include "harness.h"

#define T0 1704067200000000LL /* 2024-01-01T00:00:00Z in micros */
#define MAXID 20000

static floe_catalog *open_wh(const char *name)
{
	floe_catalog *c = NULL;
	floe_error err;
	if (floe_catalog_open(&c, th_path(name), NULL, &err)) {
		th_fail(__FILE__, __LINE__, "open catalog: %s", err.msg);
		return NULL;
	}
	return c;
}

static floe_table *make_table(floe_catalog *c, const char *name, const char *mode)
{
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, symbol string, volume int, ts timestamptz, note string";
	co.partition = "day(ts)";
	char prop[64];
	snprintf(prop, sizeof prop, "write.delete.mode=%s", mode);
	const char *props[1] = { prop };
	co.properties = props;
	co.nproperties = 1;
	floe_table *t = NULL;
	if (floe_table_create(&t, c, name, &co, &err)) {
		th_fail(__FILE__, __LINE__, "create: %s", err.msg);
		return NULL;
	}
	return t;
}

/* Rows id in [from, to): symbol S(id % 3), volume id % 100, ts = T0 + id
 * minutes * 7 (a day holds about 205 ids), note NULL when id % 5 == 0. */
static int append_ids(floe_table *t, int64_t from, int64_t to, floe_error *err)
{
	static const char *const syms[3] = { "AAPL", "MSFT", "TSLA" };
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s = NULL;
	floe_batch_builder *b = NULL;
	floe_append *a = NULL;
	int rc = floe_schema_parse(&s, "id long not null, symbol string, volume int, ts timestamptz, "
	                           "note string", ar, err);
	if (!rc)
		rc = floe_batch_builder_new(&b, s, err);
	if (!rc)
		rc = floe_append_begin(&a, t, err);
	for (int64_t id = from; !rc && id < to; id++) {
		const char *sym = syms[id % 3];
		if ((rc = floe_batch_builder_i64(b, 0, id, err)) ||
		    (rc = floe_batch_builder_bytes(b, 1, sym, 4, err)) ||
		    (rc = floe_batch_builder_i32(b, 2, (int32_t)(id % 100), err)) ||
		    (rc = floe_batch_builder_i64(b, 3, T0 + id * 7 * 60000000LL, err)))
			break;
		rc = id % 5 == 0 ? floe_batch_builder_null(b, 4, err) : floe_batch_builder_bytes(b, 4, "n", 1, err);
	}
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

/* The ids a scan returns, as a bitmap; -1 on error or a duplicate. */
static int64_t scan_ids(floe_table *t, const floe_snapshot_sel *sel, uint8_t *seen, floe_error *err)
{
	memset(seen, 0, MAXID);
	floe_scan_options o;
	floe_scan_options_init(&o);
	static const char *const cols[1] = { "id" };
	o.columns = cols;
	o.ncolumns = 1;
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
			if (id < 0 || id >= MAXID || seen[id]) {
				floe_scan_free(s);
				return -1;
			}
			seen[id] = 1;
			n++;
		}
	floe_scan_free(s);
	return rc < 0 ? -1 : n;
}

static bool same_set(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, MAXID) == 0;
}

/* The model's view of a filter over the rows append_ids writes. */
typedef struct filt {
	char text[160];
	int kind;
	int64_t a, b;
} filt;

static bool filt_match(const filt *f, int64_t id)
{
	switch (f->kind) {
	case 0: return id >= f->a && id < f->b;
	case 1: return id % 100 == f->a;              /* volume = a */
	case 2: return id % 5 == 0 && id >= f->a;     /* note is null and id >= a */
	case 3: return id % 3 == f->a && id < f->b;   /* symbol = S and id < b */
	default: return false;
	}
}

static void filt_random(filt *f, uint64_t *x, int64_t hi)
{
	static const char *const syms[3] = { "AAPL", "MSFT", "TSLA" };
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	f->kind = (int)(*x % 4);
	f->a = (int64_t)((*x >> 8) % (uint64_t)(hi + 1));
	f->b = f->a + (int64_t)((*x >> 24) % 400);
	switch (f->kind) {
	case 0: snprintf(f->text, sizeof f->text, "id >= %" PRId64 " and id < %" PRId64, f->a, f->b); break;
	case 1: f->a %= 100; snprintf(f->text, sizeof f->text, "volume = %" PRId64, f->a); break;
	case 2: snprintf(f->text, sizeof f->text, "note is null and id >= %" PRId64, f->a); break;
	default:
		f->a %= 3;
		snprintf(f->text, sizeof f->text, "symbol = '%s' and id < %" PRId64, syms[f->a], f->b);
	}
}

/* Appends and deletes in random order; after each step the scan equals the
 * model, and every earlier snapshot still reads as it did. */
static void property_run(const char *mode, uint64_t seed)
{
	floe_catalog *c = open_wh("wh");
	REQUIRE(c);
	char name[64];
	snprintf(name, sizeof name, "db.prop_%s", mode[0] == 'c' ? "cow" : "mor");
	floe_table *t = make_table(c, name, mode);
	REQUIRE(t);
	floe_error err;
	uint8_t *model = calloc(MAXID, 1), *seen = malloc(MAXID);
	enum { STEPS = 24 };
	int64_t snaps[STEPS];
	uint8_t *hist = calloc((size_t)STEPS * MAXID, 1);
	REQUIRE(model && seen && hist);
	int64_t next = 0;
	uint64_t x = seed;
	int deletes = 0, removed_rows = 0, compactions = 0;
	for (int step = 0; step < STEPS; step++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (next > 0 && x % 7 == 1) {
			/* compaction between changes: same rows */
			floe_compact_result cr;
			REQUIRE_OK(floe_table_compact(t, NULL, &cr, &err), &err);
			compactions += cr.data_files_rewritten > 0;
		} else if (next == 0 || (x % 3 == 0 && next < MAXID - 1500)) {
			int64_t n = 300 + (int64_t)(x % 1200);
			REQUIRE_OK(append_ids(t, next, next + n, &err), &err);
			memset(model + next, 1, (size_t)n);
			next += n;
		} else {
			filt f;
			filt_random(&f, &x, next);
			floe_delete_result res;
			REQUIRE_OK(floe_table_delete(t, f.text, &res, &err), &err);
			int64_t want = 0;
			for (int64_t id = 0; id < next; id++)
				if (model[id] && filt_match(&f, id)) {
					model[id] = 0;
					want++;
				}
			if (res.rows_deleted != want)
				th_fail(__FILE__, __LINE__, "%s: delete '%s' removed %" PRId64 " rows, model %" PRId64,
				        mode, f.text, res.rows_deleted, want);
			CHECK_EQ_INT(res.merge_on_read, mode[0] == 'm');
			if (want && mode[0] == 'c')
				CHECK_EQ_INT(res.delete_files_added, 0);
			deletes++;
			removed_rows += (int)want;
		}
		const floe_snapshot_info *si;
		int ns;
		REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
		snaps[step] = si[ns - 1].snapshot_id;
		memcpy(hist + (size_t)step * MAXID, model, MAXID);
		int64_t n = scan_ids(t, NULL, seen, &err);
		REQUIRE(n >= 0);
		if (!same_set(seen, model))
			th_fail(__FILE__, __LINE__, "%s step %d: the scan differs from the model", mode, step);
	}
	/* time travel: every snapshot reads as it did */
	for (int step = 0; step < STEPS; step++) {
		floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, snaps[step], 0, NULL };
		REQUIRE(scan_ids(t, &sel, seen, &err) >= 0);
		if (!same_set(seen, hist + (size_t)step * MAXID))
			th_fail(__FILE__, __LINE__, "%s: snapshot of step %d reads differently now", mode, step);
	}
	CHECK(deletes >= 8);
	CHECK(compactions >= 1);
	CHECK(removed_rows > 0);
	free(model);
	free(seen);
	free(hist);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(delete_copy_on_write_matches_model)
{
	property_run("copy-on-write", 0x5DEECE66Dull);
}

TEST(delete_merge_on_read_matches_model)
{
	property_run("merge-on-read", 0x2545F4914F6CDD1Dull);
}

typedef struct file_count {
	int data, pos;
} file_count;

static int count_file(void *ctx, const floe_file_info *f, floe_error *err)
{
	(void)err;
	file_count *fc = ctx;
	if (f->content == 0)
		fc->data++;
	else if (f->content == 1)
		fc->pos++;
	return 0;
}

TEST(delete_modes_write_what_they_say)
{
	floe_catalog *c = open_wh("wh");
	REQUIRE(c);
	floe_error err;
	for (int mor = 0; mor < 2; mor++) {
		floe_table *t = make_table(c, mor ? "db.m" : "db.c", mor ? "merge-on-read" : "copy-on-write");
		REQUIRE(t);
		/* three days of ids: [0, 615) */
		REQUIRE_OK(append_ids(t, 0, 615, &err), &err);
		file_count before = { 0, 0 }, after = { 0, 0 };
		REQUIRE_OK(floe_table_files(t, NULL, count_file, &before, &err), &err);
		CHECK_EQ_INT(before.data, 3);
		/* a few rows of one day */
		floe_delete_result r;
		REQUIRE_OK(floe_table_delete(t, "id >= 10 and id < 20", &r, &err), &err);
		CHECK_EQ_INT(r.rows_deleted, 10);
		REQUIRE_OK(floe_table_files(t, NULL, count_file, &after, &err), &err);
		if (mor) {
			CHECK_EQ_INT(r.delete_files_added, 1);
			CHECK_EQ_INT(r.data_files_removed, 0);
			CHECK_EQ_INT(after.data, 3);
			CHECK_EQ_INT(after.pos, 1);
		} else {
			CHECK_EQ_INT(r.data_files_removed, 1);
			CHECK_EQ_INT(r.data_files_added, 1);
			CHECK_EQ_INT(after.data, 3);
			CHECK_EQ_INT(after.pos, 0);
		}
		const floe_snapshot_info *si;
		int ns;
		REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
		CHECK_EQ_STR(si[ns - 1].operation, mor ? "delete" : "overwrite");
		CHECK(strstr(si[ns - 1].summary_json, "\"total-records\":\"605\"") ||
		      (mor && strstr(si[ns - 1].summary_json, "\"added-position-deletes\":\"10\"")));
		/* a whole day (no deletes on it yet): the file goes, in both modes */
		int64_t day2_lo = 0, day2_hi = 0;
		uint8_t *seen = malloc(MAXID);
		REQUIRE(seen);
		REQUIRE_OK(floe_table_delete(t, "ts >= '2024-01-03T00:00:00Z'", &r, &err), &err);
		CHECK_EQ_INT(r.data_files_removed, 1);
		CHECK_EQ_INT(r.delete_files_added, 0);
		CHECK_EQ_INT(r.data_files_added, 0);
		for (int64_t id = 0; id < 615; id++)
			if (T0 + id * 7 * 60000000LL >= T0 + 2 * 86400000000LL) {
				if (!day2_lo)
					day2_lo = id;
				day2_hi = id + 1;
			}
		CHECK_EQ_INT(r.rows_deleted, day2_hi - day2_lo);
		REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
		CHECK_EQ_STR(si[ns - 1].operation, "delete");
		/* nothing matches: no commit */
		int64_t cur = si[ns - 1].snapshot_id;
		REQUIRE_OK(floe_table_delete(t, "id > 100000", &r, &err), &err);
		CHECK_EQ_INT(r.rows_deleted, 0);
		CHECK_EQ_INT(r.snapshot_id, cur);
		/* everything */
		REQUIRE_OK(floe_table_delete(t, NULL, &r, &err), &err);
		CHECK_EQ_INT(r.rows_deleted, day2_lo - 10);
		CHECK_EQ_INT(scan_ids(t, NULL, seen, &err), 0);
		free(seen);
		floe_table_close(t);
	}
	floe_catalog_close(c);
}

TEST(delete_conflicts_with_concurrent_writers)
{
	floe_catalog *c = open_wh("wh");
	REQUIRE(c);
	floe_error err;
	for (int mor = 0; mor < 2; mor++) {
		const char *name = mor ? "db.cm" : "db.cc";
		floe_table *t1 = make_table(c, name, mor ? "merge-on-read" : "copy-on-write");
		REQUIRE(t1);
		REQUIRE_OK(append_ids(t1, 0, 400, &err), &err);
		floe_table *t2;
		REQUIRE_OK(floe_table_open(&t2, c, name, &err), &err);
		/* t1 appends rows the filter cannot match: t2's delete (from the
		 * older snapshot) still commits on top */
		REQUIRE_OK(append_ids(t1, 1000, 1100, &err), &err);
		floe_delete_result r;
		REQUIRE_OK(floe_table_delete(t2, "id < 50", &r, &err), &err);
		CHECK_EQ_INT(r.rows_deleted, 50);
		REQUIRE_OK(floe_table_refresh(t1, &err), &err);
		uint8_t *seen = malloc(MAXID);
		REQUIRE(seen);
		CHECK_EQ_INT(scan_ids(t1, NULL, seen, &err), 350 + 100);
		/* t1 appends rows the filter matches: t2 (stale) must conflict */
		REQUIRE_OK(floe_table_refresh(t2, &err), &err);
		REQUIRE_OK(append_ids(t1, 2000, 2100, &err), &err);
		int rc = floe_table_delete(t2, "id >= 60 and id < 2050", &r, &err);
		CHECK_EQ_INT(rc, FLOE_ECONFLICT);
		/* t1 deletes rows t2 is about to delete too: conflict */
		REQUIRE_OK(floe_table_refresh(t2, &err), &err);
		REQUIRE_OK(floe_table_delete(t1, "id >= 100 and id < 110", &r, &err), &err);
		rc = floe_table_delete(t2, "id >= 105 and id < 120", &r, &err);
		CHECK_EQ_INT(rc, FLOE_ECONFLICT);
		/* after a refresh it applies */
		REQUIRE_OK(floe_table_refresh(t2, &err), &err);
		REQUIRE_OK(floe_table_delete(t2, "id >= 105 and id < 120", &r, &err), &err);
		CHECK_EQ_INT(r.rows_deleted, 10);
		REQUIRE_OK(floe_table_refresh(t1, &err), &err);
		CHECK_EQ_INT(scan_ids(t1, NULL, seen, &err), 350 + 100 + 100 - 20);
		free(seen);
		floe_table_close(t2);
		floe_table_close(t1);
	}
	floe_catalog_close(c);
}

/* Live rows and sum(id) by floe's scan. */
static void floe_count(floe_table *t, int64_t snap, int64_t *rows, int64_t *sum)
{
	floe_error err;
	uint8_t *seen = malloc(MAXID);
	REQUIRE(seen);
	floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, snap, 0, NULL };
	*rows = scan_ids(t, &sel, seen, &err);
	*sum = 0;
	for (int64_t id = 0; id < MAXID; id++)
		if (seen[id])
			*sum += id;
	free(seen);
}

/* An independent reader (tests/iceberg/iceberg_read.mjs: avsc for the
 * manifests, DuckDB for data and position delete files, the spec's scope
 * rules applied by hand) agrees with floe at every snapshot of a table
 * changed by appends and merge-on-read and copy-on-write deletes. */
TEST(delete_read_by_independent_reader_every_snapshot)
{
	const char *peers = th_peers();
	floe_catalog *c = open_wh("wh");
	REQUIRE(c);
	floe_error err;
	floe_table *t = make_table(c, "db.indep", "merge-on-read");
	REQUIRE(t);
	floe_delete_result r;
	REQUIRE_OK(append_ids(t, 0, 700, &err), &err);
	REQUIRE_OK(floe_table_delete(t, "id >= 5 and id < 9", &r, &err), &err);
	REQUIRE_OK(floe_table_delete(t, "volume = 42", &r, &err), &err);
	REQUIRE_OK(append_ids(t, 700, 900, &err), &err);
	/* the same rows again (already deleted) and more in the new file */
	REQUIRE_OK(floe_table_delete(t, "id >= 7 and id < 12 or id = 850", &r, &err), &err);
	CHECK_EQ_INT(r.rows_deleted, 4);
	REQUIRE_OK(floe_table_set_property(t, "write.delete.mode", "copy-on-write", &err), &err);
	REQUIRE_OK(floe_table_delete(t, "note is null and id < 300", &r, &err), &err);
	const floe_snapshot_info *si;
	int ns;
	REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
	CHECK_EQ_INT(ns, 6);
	for (int i = 0; i < ns; i++) {
		int64_t rows = 0, sum = 0;
		floe_count(t, si[i].snapshot_id, &rows, &sum);
		char *out = NULL;
		REQUIRE(th_run(&out, "node tests/iceberg/iceberg_read.mjs '%s' '%s' --snapshot %" PRId64
		               " --sum id", peers, floe_table_metadata_location(t), si[i].snapshot_id) == 0);
		char want[160];
		snprintf(want, sizeof want, "\"rows\":%" PRId64 ",\"sum\":\"%" PRId64 "\"", rows, sum);
		if (!out || !strstr(out, want))
			th_fail(__FILE__, __LINE__, "snapshot %d: independent reader %s, floe %s", i,
			        out ? out : "(nothing)", want);
		free(out);
	}
	floe_table_close(t);
	floe_catalog_close(c);
}
