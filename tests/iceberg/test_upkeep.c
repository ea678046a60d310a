/* tests/iceberg/test_upkeep.c - table upkeep: snapshot expiry (retention
 * rules, tags, files deleted only when unreferenced, with a concurrent
 * appender), orphan file removal, manifest rewrites, and manifests merged
 * by appends (also racing ones), checked by scans, time travel, incremental
 * reads and an independent reader. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "floe/catalog.h"
#include "floe/floe.h"
#include "floe/table.h"
#include "harness.h"
#include "iceberg/manifest.h"
#include "util/fs.h"

#define T0 1704067200000000LL /* 2024-01-01T00:00:00Z in micros */
#define DAY_MS 86400000LL
#define MAX_SNAPS 128

static floe_catalog *open_wh(const char *name)
{
	floe_catalog *c = NULL;
	floe_error err;
	if (floe_catalog_open(&c, th_path(name), NULL, &err)) {
		th_fail(__FILE__, __LINE__, "open catalog: %s", err.msg);
		exit(1);
	}
	return c;
}

static floe_table *make_table(floe_catalog *c, const char *name, const char *mode)
{
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, symbol string, ts timestamptz";
	co.partition = "identity(symbol)";
	char prop[64];
	snprintf(prop, sizeof prop, "write.delete.mode=%s", mode ? mode : "copy-on-write");
	const char *props[1] = { prop };
	co.properties = props;
	co.nproperties = 1;
	floe_table *t = NULL;
	if (floe_table_create(&t, c, name, &co, &err)) {
		th_fail(__FILE__, __LINE__, "create: %s", err.msg);
		exit(1);
	}
	return t;
}

static const char *const SYMS[3] = { "A", "B", "C" };

/* Rows id in [from, to): symbol SYMS[id % 3], ts T0 + id minutes. */
static int append_rows(floe_table *t, int64_t from, int64_t to, int64_t *snap, floe_error *err)
{
	floe_schema *s;
	floe_arena *ar = floe_arena_new(0);
	floe_batch_builder *b = NULL;
	floe_append *a = NULL;
	int rc = floe_schema_parse(&s, "id long not null, symbol string, ts timestamptz", ar, err);
	if (!rc)
		rc = floe_batch_builder_new(&b, s, err);
	if (!rc)
		rc = floe_append_begin(&a, t, err);
	for (int64_t id = from; id < to && !rc; id++) {
		const char *sym = SYMS[id % 3];
		if ((rc = floe_batch_builder_i64(b, 0, id, err)) ||
		    (rc = floe_batch_builder_bytes(b, 1, sym, (int64_t)strlen(sym), err)) ||
		    (rc = floe_batch_builder_i64(b, 2, T0 + id * 60000000LL, err)))
			break;
	}
	if (!rc)
		rc = floe_append_batch(a, floe_batch_builder_view(b), err);
	if (!rc) {
		rc = floe_append_commit(a, snap, err);
		a = NULL;
	}
	floe_append_abort(a);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
	return rc;
}

typedef struct scan_sum {
	int64_t rows, id_sum;
	floe_scan_stats st;
} scan_sum;

static int scan_at(floe_table *t, int64_t snapshot_id, scan_sum *r, floe_error *err)
{
	memset(r, 0, sizeof *r);
	floe_scan_options o;
	floe_scan_options_init(&o);
	if (snapshot_id >= 0) {
		o.snapshot.kind = FLOE_SNAPSHOT_ID;
		o.snapshot.snapshot_id = snapshot_id;
	}
	floe_scan *s;
	int rc = floe_scan_open(&s, t, &o, err);
	if (rc)
		return rc;
	int idc = floe_schema_find(floe_scan_schema(s), "id");
	const floe_batch *b;
	while ((rc = floe_scan_next(s, &b, err)) == 1) {
		r->rows += b->nrows;
		for (int64_t i = 0; i < b->nrows; i++)
			r->id_sum += ((const int64_t *)b->cols[idc].values)[i];
	}
	floe_scan_get_stats(s, &r->st);
	floe_scan_free(s);
	return rc < 0 ? rc : 0;
}

/* ---- an independent account of what the metadata references ------------ */

typedef struct refset {
	char **v;
	int n, cap;
} refset;

static void refset_add(refset *s, const char *p)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->v[i], p) == 0)
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = realloc(s->v, (size_t)s->cap * sizeof *s->v);
	}
	s->v[s->n++] = strdup(p);
}

static bool refset_has(const refset *s, const char *p)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->v[i], p) == 0)
			return true;
	return false;
}

static void refset_free(refset *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* The metadata file, the metadata log's files (from the JSON text), every
 * snapshot's manifest list, its manifests and the files of their live
 * entries (read with the manifest readers directly). */
static void collect_refs(floe_table *t, refset *out)
{
	floe_error err;
	refset_add(out, floe_table_metadata_location(t));
	char *json = th_read_file(floe_table_metadata_location(t), NULL);
	REQUIRE(json);
	for (char *p = json; (p = strstr(p, "\"metadata-file\"")) != NULL;) {
		p = strchr(p + 15, '"');
		if (!p)
			break;
		char *e = strchr(p + 1, '"');
		if (!e)
			break;
		*e = 0;
		refset_add(out, p + 1);
		p = e + 1;
	}
	free(json);
	const floe_snapshot_info *snaps;
	int n;
	REQUIRE_OK(floe_table_snapshots(t, &snaps, &n, &err), &err);
	floe_arena *ar = floe_arena_new(0);
	for (int i = 0; i < n; i++) {
		refset_add(out, snaps[i].manifest_list);
		ice_manifest_file *mf;
		size_t nmf;
		REQUIRE_OK(ice_manifest_list_read(snaps[i].manifest_list, ar, &mf, &nmf, &err), &err);
		for (size_t k = 0; k < nmf; k++) {
			refset_add(out, mf[k].manifest_path);
			ice_manifest_entry *e;
			size_t ne;
			REQUIRE_OK(ice_manifest_read(&mf[k], NULL, NULL, ar, &e, &ne, &err), &err);
			for (size_t q = 0; q < ne; q++)
				if (e[q].status != 2) /* DELETED: not in this snapshot */
					refset_add(out, e[q].file.file_path);
		}
	}
	floe_arena_free(ar);
}

typedef struct walk_acc {
	const refset *refs;
	int files, unreferenced;
	char first[1024];
} walk_acc;

static int walk_fn(void *ud, const char *path, const struct stat *st)
{
	(void)st;
	walk_acc *w = ud;
	w->files++;
	if (!refset_has(w->refs, path)) {
		if (!w->unreferenced++)
			snprintf(w->first, sizeof w->first, "%s", path);
	}
	return 0;
}

/* Every file under the location is referenced, and every referenced file
 * under it exists. Returns the number of files. */
static int check_tree(floe_table *t)
{
	refset refs;
	memset(&refs, 0, sizeof refs);
	collect_refs(t, &refs);
	walk_acc w;
	memset(&w, 0, sizeof w);
	w.refs = &refs;
	floe_error err;
	CHECK_OK(floe_fs_walk(floe_table_location(t), walk_fn, &w, &err), &err);
	if (w.unreferenced)
		th_fail(__FILE__, __LINE__, "%d unreferenced files, first %s", w.unreferenced, w.first);
	for (int i = 0; i < refs.n; i++)
		if (!floe_fs_exists(refs.v[i]))
			th_fail(__FILE__, __LINE__, "referenced file is gone: %s", refs.v[i]);
	refset_free(&refs);
	return w.files;
}

static int count_snapshots(floe_table *t, int64_t *ids)
{
	const floe_snapshot_info *snaps;
	int n;
	floe_error err;
	if (floe_table_snapshots(t, &snaps, &n, &err))
		return -1;
	for (int i = 0; i < n && ids; i++)
		ids[i] = snaps[i].snapshot_id;
	return n;
}

static bool has_snapshot(floe_table *t, int64_t id)
{
	int64_t ids[MAX_SNAPS];
	int n = count_snapshots(t, ids);
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* ---- expire -------------------------------------------------------------- */

TEST(upkeep_expire_retain_last_tags_and_file_cleanup)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.exp", "copy-on-write");
	floe_error err;
	int64_t s[8];
	scan_sum before[8];
	REQUIRE_OK(append_rows(t, 0, 30, &s[0], &err), &err);
	REQUIRE_OK(append_rows(t, 30, 60, &s[1], &err), &err);
	REQUIRE_OK(floe_table_create_tag(t, "keep", s[1], &err), &err);
	/* a copy-on-write delete removes and rewrites data files */
	floe_delete_result dr;
	REQUIRE_OK(floe_table_delete(t, "id < 10", &dr, &err), &err);
	s[2] = dr.snapshot_id;
	CHECK(dr.data_files_removed > 0);
	REQUIRE_OK(append_rows(t, 60, 90, &s[3], &err), &err);
	REQUIRE_OK(floe_table_delete(t, "symbol = 'B'", &dr, &err), &err);
	s[4] = dr.snapshot_id;
	REQUIRE_OK(append_rows(t, 90, 120, &s[5], &err), &err);
	for (int i = 0; i < 6; i++)
		REQUIRE_OK(scan_at(t, s[i], &before[i], &err), &err);
	int files_before = check_tree(t);

	floe_expire_options o = { floe_now_ms() + 1, 2, 0 };
	floe_expire_result res;
	REQUIRE_OK(floe_table_expire_snapshots(t, &o, &res, &err), &err);
	/* kept: the newest two (s4, s5) and the tagged s1 */
	CHECK_EQ_INT(res.snapshots_expired, 3);
	CHECK_EQ_INT(count_snapshots(t, NULL), 3);
	CHECK(has_snapshot(t, s[1]) && has_snapshot(t, s[4]) && has_snapshot(t, s[5]));
	CHECK(!has_snapshot(t, s[0]) && !has_snapshot(t, s[2]) && !has_snapshot(t, s[3]));
	CHECK_EQ_INT(res.manifest_lists_deleted, 3);
	/* the files of s0 that s2 rewrote are still in the tagged s1; those s4
	 * rewrote (symbol B, added by s1..s3) partly went with s2, s3 */
	CHECK(res.data_files_deleted > 0);
	CHECK(res.manifests_deleted > 0);
	int files_after = check_tree(t);
	/* one new metadata file */
	CHECK_EQ_INT(files_after, files_before + 1 - (int)(res.manifest_lists_deleted +
	                                                   res.manifests_deleted +
	                                                   res.data_files_deleted));
	int idx[3] = { 1, 4, 5 };
	for (int i = 0; i < 3; i++) {
		scan_sum r;
		REQUIRE_OK(scan_at(t, s[idx[i]], &r, &err), &err);
		CHECK_EQ_INT(r.rows, before[idx[i]].rows);
		CHECK_EQ_INT(r.id_sum, before[idx[i]].id_sum);
	}
	/* expired snapshots are gone for time travel */
	scan_sum r;
	CHECK(scan_at(t, s[0], &r, &err) != 0);

	/* a second run has nothing to do and commits nothing */
	const char *meta_before = floe_table_metadata_location(t);
	char mb[1024];
	snprintf(mb, sizeof mb, "%s", meta_before);
	REQUIRE_OK(floe_table_expire_snapshots(t, &o, &res, &err), &err);
	CHECK_EQ_INT(res.snapshots_expired, 0);
	CHECK_EQ_STR(floe_table_metadata_location(t), mb);

	/* the tag dropped, its snapshot goes, and with retain_last 1 so does s4 */
	REQUIRE_OK(floe_table_drop_tag(t, "keep", &err), &err);
	o.retain_last = 1;
	REQUIRE_OK(floe_table_expire_snapshots(t, &o, &res, &err), &err);
	CHECK_EQ_INT(res.snapshots_expired, 2);
	CHECK_EQ_INT(count_snapshots(t, NULL), 1);
	CHECK(has_snapshot(t, s[5]));
	check_tree(t);
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	CHECK_EQ_INT(r.rows, before[5].rows);
	CHECK_EQ_INT(r.id_sum, before[5].id_sum);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(upkeep_expire_older_than_and_the_current_snapshot)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.age", NULL);
	floe_error err;
	int64_t s[4];
	for (int i = 0; i < 4; i++) {
		REQUIRE_OK(append_rows(t, i * 10, i * 10 + 10, &s[i], &err), &err);
		usleep(20000);
	}
	const floe_snapshot_info *snaps;
	int n;
	REQUIRE_OK(floe_table_snapshots(t, &snaps, &n, &err), &err);
	REQUIRE(n == 4);
	int64_t ts2 = snaps[2].timestamp_ms;
	/* older than s2: s0 and s1 go; retain_last 1 does not hold back more */
	floe_expire_options o = { ts2, 1, 0 };
	floe_expire_result res;
	REQUIRE_OK(floe_table_expire_snapshots(t, &o, &res, &err), &err);
	CHECK_EQ_INT(res.snapshots_expired, 2);
	CHECK(has_snapshot(t, s[2]) && has_snapshot(t, s[3]));
	/* appends only: every data file is still live, none was deleted */
	CHECK_EQ_INT(res.data_files_deleted, 0);
	CHECK_EQ_INT(res.delete_files_deleted, 0);
	check_tree(t);
	/* retain_last larger than the history keeps everything */
	o.older_than_ms = floe_now_ms() + DAY_MS;
	o.retain_last = 10;
	REQUIRE_OK(floe_table_expire_snapshots(t, &o, &res, &err), &err);
	CHECK_EQ_INT(res.snapshots_expired, 0);
	/* the defaults (5 days) keep these young snapshots */
	REQUIRE_OK(floe_table_expire_snapshots(t, NULL, &res, &err), &err);
	CHECK_EQ_INT(res.snapshots_expired, 0);
	/* table properties set the defaults */
	REQUIRE_OK(floe_table_set_property(t, "history.expire.max-snapshot-age-ms", "0", &err), &err);
	usleep(5000);
	REQUIRE_OK(floe_table_expire_snapshots(t, NULL, &res, &err), &err);
	CHECK_EQ_INT(res.snapshots_expired, 1);
	/* the current snapshot never goes */
	CHECK_EQ_INT(count_snapshots(t, NULL), 1);
	CHECK(has_snapshot(t, s[3]));
	scan_sum r;
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 40);
	CHECK_EQ_INT(r.id_sum, 39 * 40 / 2);
	/* the snapshot log starts after the last expired snapshot */
	char *json = th_read_file(floe_table_metadata_location(t), NULL);
	REQUIRE(json);
	char id0[32];
	snprintf(id0, sizeof id0, "%" PRId64, s[0]);
	CHECK(strstr(json, id0) == NULL);
	free(json);
	check_tree(t);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* keep_after_sequence holds back what a reader has not read: snapshots
 * with a larger sequence number stay whatever their age; the one at the
 * sequence number itself may go. */
TEST(upkeep_expire_keeps_what_a_reader_has_not_read)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.unread", NULL);
	floe_error err;
	int64_t s[5];
	for (int i = 0; i < 5; i++)
		REQUIRE_OK(append_rows(t, i * 10, i * 10 + 10, &s[i], &err), &err);
	const floe_snapshot_info *snaps;
	int n;
	REQUIRE_OK(floe_table_snapshots(t, &snaps, &n, &err), &err);
	REQUIRE(n == 5);
	int64_t seq1 = -1;
	for (int i = 0; i < n; i++)
		if (snaps[i].snapshot_id == s[1])
			seq1 = snaps[i].sequence_number;
	REQUIRE(seq1 > 0);
	/* everything is old enough and retain_last is 1: only the reader
	 * position (s1 read) holds s2..s4 back */
	floe_expire_options o = { floe_now_ms() + 1, 1, seq1 };
	floe_expire_result res;
	REQUIRE_OK(floe_table_expire_snapshots(t, &o, &res, &err), &err);
	CHECK_EQ_INT(res.snapshots_expired, 2);
	CHECK(!has_snapshot(t, s[0]) && !has_snapshot(t, s[1]));
	CHECK(has_snapshot(t, s[2]) && has_snapshot(t, s[3]) && has_snapshot(t, s[4]));
	/* the reader moved on to s3 */
	o.keep_after_sequence = seq1 + 2;
	REQUIRE_OK(floe_table_expire_snapshots(t, &o, &res, &err), &err);
	CHECK_EQ_INT(res.snapshots_expired, 2);
	CHECK_EQ_INT(count_snapshots(t, NULL), 1);
	CHECK(has_snapshot(t, s[4]));
	scan_sum r;
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 50);
	check_tree(t);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* A writer whose handle is stale when an expiry deleted the manifest list
 * of the snapshot it last saw retries on the fresh metadata instead of
 * failing on the missing file. */
TEST(upkeep_append_on_a_handle_whose_snapshot_expired)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.stale", NULL);
	floe_error err;
	int64_t s0, s1, s2, s3;
	REQUIRE_OK(append_rows(t, 0, 10, &s0, &err), &err);
	floe_table *stale;
	REQUIRE_OK(floe_table_open(&stale, c, "db.stale", &err), &err);
	REQUIRE_OK(append_rows(t, 10, 20, &s1, &err), &err);
	REQUIRE_OK(append_rows(t, 20, 30, &s2, &err), &err);
	floe_expire_options o = { floe_now_ms() + 1, 1, 0 };
	floe_expire_result res;
	REQUIRE_OK(floe_table_expire_snapshots(t, &o, &res, &err), &err);
	CHECK_EQ_INT(res.snapshots_expired, 2);
	CHECK_EQ_INT(res.manifest_lists_deleted, 2);
	/* `stale` still sees s0, whose manifest list is gone */
	REQUIRE_OK(append_rows(stale, 30, 40, &s3, &err), &err);
	scan_sum r;
	REQUIRE_OK(scan_at(stale, -1, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 40);
	CHECK_EQ_INT(r.id_sum, 39 * 40 / 2);
	REQUIRE_OK(floe_table_refresh(t, &err), &err);
	check_tree(t);
	floe_table_close(stale);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(upkeep_expire_keeps_live_delete_files_and_removes_replaced_data)
{
	/* position delete files are manifest entries like data files: while
	 * live they stay (else deleted rows would come back), and the data
	 * files a copy-on-write delete replaced go with the expired snapshots */
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.mor", "merge-on-read");
	floe_error err;
	int64_t s0;
	REQUIRE_OK(append_rows(t, 0, 60, &s0, &err), &err);
	floe_delete_result dr;
	REQUIRE_OK(floe_table_delete(t, "id >= 3 and id < 7", &dr, &err), &err);
	REQUIRE(dr.delete_files_added > 0);
	REQUIRE_OK(floe_table_set_property(t, "write.delete.mode", "copy-on-write", &err), &err);
	REQUIRE_OK(floe_table_delete(t, "id = 30", &dr, &err), &err); /* symbol A */
	REQUIRE(dr.data_files_removed == 1);
	scan_sum before, after;
	REQUIRE_OK(scan_at(t, -1, &before, &err), &err);
	CHECK_EQ_INT(before.rows, 55);
	CHECK(before.st.delete_files > 0);
	floe_expire_options o = { floe_now_ms() + 1, 1, 0 };
	floe_expire_result res;
	REQUIRE_OK(floe_table_expire_snapshots(t, &o, &res, &err), &err);
	CHECK_EQ_INT(res.snapshots_expired, 2);
	CHECK_EQ_INT(count_snapshots(t, NULL), 1);
	CHECK_EQ_INT(res.data_files_deleted, 1);
	CHECK_EQ_INT(res.delete_files_deleted, 0);
	check_tree(t);
	REQUIRE_OK(scan_at(t, -1, &after, &err), &err);
	CHECK_EQ_INT(after.rows, before.rows);
	CHECK_EQ_INT(after.id_sum, before.id_sum);
	CHECK_EQ_INT(after.st.delete_files, before.st.delete_files);
	floe_table_close(t);
	floe_catalog_close(c);
}

static int count_metadata_json(void *ud, const char *path, const struct stat *st)
{
	(void)st;
	size_t n = strlen(path);
	if (n > 14 && strcmp(path + n - 14, ".metadata.json") == 0)
		(*(int *)ud)++;
	return 0;
}

TEST(upkeep_expire_deletes_metadata_files_that_left_the_log_when_asked)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.mlog", NULL);
	floe_error err;
	REQUIRE_OK(floe_table_set_property(t, "write.metadata.previous-versions-max", "2", &err), &err);
	REQUIRE_OK(floe_table_set_property(t, "write.metadata.delete-after-commit.enabled", "true",
	                                   &err), &err);
	for (int i = 0; i < 5; i++)
		REQUIRE_OK(append_rows(t, i * 10, i * 10 + 10, NULL, &err), &err);
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/metadata", floe_table_location(t));
	int before = 0, after = 0;
	REQUIRE_OK(floe_fs_walk(dir, count_metadata_json, &before, &err), &err);
	CHECK_EQ_INT(before, 8); /* create, 2 properties, 5 appends */
	floe_expire_options o = { floe_now_ms() + 1, 2, 0 };
	floe_expire_result res;
	REQUIRE_OK(floe_table_expire_snapshots(t, &o, &res, &err), &err);
	CHECK_EQ_INT(res.snapshots_expired, 3);
	/* the expiry's own file, the two the log keeps */
	REQUIRE_OK(floe_fs_walk(dir, count_metadata_json, &after, &err), &err);
	CHECK_EQ_INT(after, 3);
	CHECK_EQ_INT(res.metadata_files_deleted, 6);
	check_tree(t);
	scan_sum r;
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 50);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(upkeep_expire_while_another_process_appends)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.conc", NULL);
	floe_error e0;
	/* every metadata file stays in the log, so check_tree can account for it */
	CHECK_OK(floe_table_set_property(t, "write.metadata.previous-versions-max", "100000", &e0),
	         &e0);
	floe_table_close(t);
	floe_catalog_close(c);
	const int appends = 60;
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		floe_catalog *cc = open_wh("wh");
		floe_table *tt;
		floe_error e;
		if (floe_table_open(&tt, cc, "db.conc", &e))
			_exit(2);
		for (int i = 0; i < appends; i++)
			if (append_rows(tt, i * 5, i * 5 + 5, NULL, &e)) {
				fprintf(stderr, "append: %s\n", e.msg);
				_exit(3);
			}
		floe_table_close(tt);
		floe_catalog_close(cc);
		_exit(0);
	}
	c = open_wh("wh");
	floe_error err;
	REQUIRE_OK(floe_table_open(&t, c, "db.conc", &err), &err);
	int64_t expired = 0;
	for (int round = 0;; round++) {
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		floe_expire_options o = { floe_now_ms() + 1, 2, 0 };
		floe_expire_result res;
		CHECK_OK(floe_table_expire_snapshots(t, &o, &res, &err), &err);
		expired += res.snapshots_expired;
		/* every retained snapshot still reads whole */
		int64_t ids[MAX_SNAPS];
		int n = count_snapshots(t, ids);
		for (int i = 0; i < n && i < MAX_SNAPS; i++) {
			scan_sum r;
			CHECK_OK(scan_at(t, ids[i], &r, &err), &err);
		}
		if (w == pid) {
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
			break;
		}
		usleep(2000);
	}
	CHECK(expired > 0);
	scan_sum r;
	REQUIRE_OK(floe_table_refresh(t, &err), &err);
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	CHECK_EQ_INT(r.rows, appends * 5);
	CHECK_EQ_INT(r.id_sum, (int64_t)(appends * 5 - 1) * (appends * 5) / 2);
	check_tree(t);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* ---- orphans ------------------------------------------------------------- */

typedef struct orphan_list {
	char paths[16][1024];
	int n;
	int removed;
} orphan_list;

static int orphan_cb(void *ctx, const floe_orphan_file *f, floe_error *err)
{
	(void)err;
	orphan_list *l = ctx;
	if (l->n < 16)
		snprintf(l->paths[l->n], sizeof l->paths[0], "%s", f->path);
	l->n++;
	l->removed += f->removed;
	return 0;
}

static void plant(const char *path, int64_t age_ms)
{
	FILE *f = fopen(path, "w");
	REQUIRE(f);
	fputs("orphan", f);
	fclose(f);
	if (age_ms > 0) {
		struct timeval tv[2];
		int64_t when = floe_now_ms() - age_ms;
		tv[0].tv_sec = tv[1].tv_sec = (time_t)(when / 1000);
		tv[0].tv_usec = tv[1].tv_usec = 0;
		REQUIRE(utimes(path, tv) == 0);
	}
}

static void age_tree_fn_touch(const char *path, int64_t age_ms)
{
	struct timeval tv[2];
	int64_t when = floe_now_ms() - age_ms;
	tv[0].tv_sec = tv[1].tv_sec = (time_t)(when / 1000);
	tv[0].tv_usec = tv[1].tv_usec = 0;
	utimes(path, tv);
}

static int age_fn(void *ud, const char *path, const struct stat *st)
{
	(void)ud;
	(void)st;
	age_tree_fn_touch(path, 10 * DAY_MS);
	return 0;
}

TEST(upkeep_vacuum_removes_old_orphans_only)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.vac", NULL);
	floe_error err;
	int64_t s;
	REQUIRE_OK(append_rows(t, 0, 30, &s, &err), &err);
	REQUIRE_OK(append_rows(t, 30, 60, &s, &err), &err);
	/* a nested table below this one's location (namespace db.vac) */
	floe_table *inner = make_table(c, "db.vac.inner", NULL);
	REQUIRE_OK(append_rows(inner, 0, 5, &s, &err), &err);
	/* make every referenced file old too: only references protect them */
	REQUIRE_OK(floe_fs_walk(floe_table_location(t), age_fn, NULL, &err), &err);
	scan_sum before, after, inner_before, inner_after;
	REQUIRE_OK(scan_at(t, -1, &before, &err), &err);
	REQUIRE_OK(scan_at(inner, -1, &inner_before, &err), &err);
	char p1[1024], p2[1024], p3[1024], young[1024], outside[1024], link[1024];
	snprintf(p1, sizeof p1, "%s/data/symbol=A/old-orphan.parquet", floe_table_location(t));
	snprintf(p2, sizeof p2, "%s/metadata/old-orphan-m0.avro", floe_table_location(t));
	snprintf(p3, sizeof p3, "%s/stray.txt", floe_table_location(t));
	snprintf(young, sizeof young, "%s/data/young-orphan.parquet", floe_table_location(t));
	snprintf(outside, sizeof outside, "%s", th_path("outside.txt"));
	snprintf(link, sizeof link, "%s/data/link-out", floe_table_location(t));
	plant(p1, 5 * DAY_MS);
	plant(p2, 4 * DAY_MS);
	plant(p3, 30 * DAY_MS);
	plant(young, 0);
	plant(outside, 30 * DAY_MS);
	REQUIRE(symlink(outside, link) == 0);

	orphan_list l;
	memset(&l, 0, sizeof l);
	REQUIRE_OK(floe_table_remove_orphans(t, 0, true, orphan_cb, &l, &err), &err);
	CHECK_EQ_INT(l.n, 3);
	CHECK_EQ_INT(l.removed, 0);
	if (l.n == 3) {
		/* path order */
		CHECK_EQ_STR(l.paths[0], p1);
		CHECK_EQ_STR(l.paths[1], p2);
		CHECK_EQ_STR(l.paths[2], p3);
	}
	CHECK(floe_fs_exists(p1) && floe_fs_exists(p2) && floe_fs_exists(p3));

	memset(&l, 0, sizeof l);
	REQUIRE_OK(floe_table_remove_orphans(t, 0, false, orphan_cb, &l, &err), &err);
	CHECK_EQ_INT(l.n, 3);
	CHECK_EQ_INT(l.removed, 3);
	CHECK(!floe_fs_exists(p1) && !floe_fs_exists(p2) && !floe_fs_exists(p3));
	CHECK(floe_fs_exists(young));
	CHECK(floe_fs_exists(outside));
	CHECK(floe_fs_exists(link)); /* not a regular file: never touched */
	REQUIRE_OK(scan_at(t, -1, &after, &err), &err);
	CHECK_EQ_INT(after.rows, before.rows);
	CHECK_EQ_INT(after.id_sum, before.id_sum);
	REQUIRE_OK(floe_table_refresh(inner, &err), &err);
	REQUIRE_OK(scan_at(inner, -1, &inner_after, &err), &err);
	CHECK_EQ_INT(inner_after.rows, inner_before.rows);

	/* a cut-off in the future takes the young one as well */
	memset(&l, 0, sizeof l);
	REQUIRE_OK(floe_table_remove_orphans(t, floe_now_ms() + DAY_MS, false, orphan_cb, &l, &err),
	           &err);
	CHECK_EQ_INT(l.n, 1);
	CHECK(!floe_fs_exists(young));
	unlink(link);
	floe_table_close(inner);

	/* a table created at a renamed table's old location shares it: refused */
	floe_ident from, to;
	REQUIRE_OK(floe_ident_parse(&from, "db.vac", &err), &err);
	REQUIRE_OK(floe_ident_parse(&to, "db.vac_old", &err), &err);
	REQUIRE_OK(floe_catalog_rename_table(c, &from, &to, &err), &err);
	floe_table *again = make_table(c, "db.vac", NULL);
	CHECK_EQ_STR(floe_table_location(again), floe_table_location(t));
	memset(&l, 0, sizeof l);
	CHECK(floe_table_remove_orphans(again, floe_now_ms() + DAY_MS, false, orphan_cb, &l,
	                                &err) == FLOE_EINVALID);
	CHECK(strstr(err.msg, "db.vac_old") != NULL);
	CHECK_EQ_INT(l.n, 0);
	floe_table_close(again);
	floe_table_close(t);
	REQUIRE_OK(floe_table_open(&t, c, "db.vac_old", &err), &err);
	REQUIRE_OK(scan_at(t, -1, &after, &err), &err);
	CHECK_EQ_INT(after.rows, before.rows);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* ---- rewrite manifests --------------------------------------------------- */

TEST(upkeep_rewrite_manifests_50_to_1)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.rw", NULL);
	floe_error err;
	int64_t s[50];
	for (int i = 0; i < 50; i++)
		REQUIRE_OK(append_rows(t, i * 4, i * 4 + 4, &s[i], &err), &err);
	scan_sum before, mid;
	REQUIRE_OK(scan_at(t, -1, &before, &err), &err);
	CHECK_EQ_INT(before.st.manifests, 50);
	REQUIRE_OK(scan_at(t, s[20], &mid, &err), &err);

	floe_rewrite_result rr;
	REQUIRE_OK(floe_table_rewrite_manifests_ex(t, &rr, &err), &err);
	CHECK_EQ_INT(rr.manifests_replaced, 50);
	CHECK_EQ_INT(rr.manifests_created, 1);
	CHECK_EQ_INT(rr.manifests_kept, 0);
	CHECK_EQ_INT(rr.entries, before.st.files);
	const floe_snapshot_info *snaps;
	int n;
	REQUIRE_OK(floe_table_snapshots(t, &snaps, &n, &err), &err);
	REQUIRE(n == 51);
	CHECK_EQ_STR(snaps[50].operation, "replace");
	CHECK(snaps[50].snapshot_id == rr.snapshot_id && snaps[50].is_current);
	CHECK(strstr(snaps[50].summary_json, "\"manifests-created\":\"1\"") ||
	      strstr(snaps[50].summary_json, "\"manifests-created\": \"1\""));
	CHECK(strstr(snaps[50].summary_json, "total-records") != NULL);

	scan_sum after, mid2;
	REQUIRE_OK(scan_at(t, -1, &after, &err), &err);
	CHECK_EQ_INT(after.st.manifests, 1);
	CHECK_EQ_INT(after.rows, before.rows);
	CHECK_EQ_INT(after.id_sum, before.id_sum);
	CHECK_EQ_INT(after.st.files, before.st.files);
	REQUIRE_OK(scan_at(t, s[20], &mid2, &err), &err);
	CHECK_EQ_INT(mid2.rows, mid.rows);
	CHECK_EQ_INT(mid2.id_sum, mid.id_sum);
	/* a filter on the partition still prunes files in the new manifest */
	floe_scan_options o;
	floe_scan_options_init(&o);
	o.where = "symbol = 'A'";
	floe_scan *sc;
	REQUIRE_OK(floe_scan_open(&sc, t, &o, &err), &err);
	const floe_batch *b;
	int64_t rows = 0;
	int rc;
	while ((rc = floe_scan_next(sc, &b, &err)) == 1)
		rows += b->nrows;
	CHECK_EQ_INT(rc, 0);
	floe_scan_stats st;
	floe_scan_get_stats(sc, &st);
	floe_scan_free(sc);
	CHECK_EQ_INT(rows, (200 + 2) / 3);
	CHECK(st.files_skipped > 0);

	/* existing entries keep their snapshot ids and sequence numbers */
	floe_arena *ar = floe_arena_new(0);
	ice_manifest_file *mf;
	size_t nmf;
	REQUIRE_OK(ice_manifest_list_read(snaps[50].manifest_list, ar, &mf, &nmf, &err), &err);
	REQUIRE(nmf == 1);
	CHECK_EQ_INT(mf[0].existing_files_count, (int)before.st.files);
	CHECK_EQ_INT(mf[0].added_files_count, 0);
	CHECK_EQ_INT(mf[0].min_sequence_number, 1);
	CHECK_EQ_INT(mf[0].sequence_number, 51);
	ice_manifest_entry *e;
	size_t ne;
	REQUIRE_OK(ice_manifest_read(&mf[0], NULL, NULL, ar, &e, &ne, &err), &err);
	int64_t seq_sum = 0;
	for (size_t i = 0; i < ne; i++) {
		CHECK_EQ_INT(e[i].status, 0);
		bool known = false;
		for (int k = 0; k < 50; k++)
			if (e[i].snapshot_id == s[k]) {
				known = true;
				CHECK_EQ_INT(e[i].sequence_number, k + 1);
			}
		CHECK(known);
		seq_sum += e[i].sequence_number;
	}
	CHECK(seq_sum > 0);
	floe_arena_free(ar);

	/* nothing more to do: no commit */
	REQUIRE_OK(floe_table_rewrite_manifests_ex(t, &rr, &err), &err);
	CHECK_EQ_INT(rr.manifests_replaced, 0);
	CHECK(rr.snapshot_id == snaps[50].snapshot_id);

	/* an append after the rewrite, then expiry of everything older: the
	 * 50 old manifests go, every data file stays */
	int64_t s51;
	REQUIRE_OK(append_rows(t, 200, 210, &s51, &err), &err);
	floe_expire_options eo = { floe_now_ms() + 1, 1, 0 };
	floe_expire_result res;
	REQUIRE_OK(floe_table_expire_snapshots(t, &eo, &res, &err), &err);
	CHECK_EQ_INT(res.snapshots_expired, 51);
	CHECK_EQ_INT(res.manifests_deleted, 50);
	CHECK_EQ_INT(res.data_files_deleted, 0);
	check_tree(t);
	REQUIRE_OK(scan_at(t, -1, &after, &err), &err);
	CHECK_EQ_INT(after.rows, 210);
	CHECK_EQ_INT(after.id_sum, 209 * 210 / 2);

	/* the independent reader (avsc for manifests, DuckDB for data) agrees */
	const char *peers = th_peers();
	char *out = NULL;
	REQUIRE(th_run(&out, "node tests/iceberg/iceberg_read.mjs '%s' '%s' --sum id", peers,
	               floe_table_metadata_location(t)) == 0);
	char want[160];
	snprintf(want, sizeof want, "\"rows\":%" PRId64 ",\"sum\":\"%" PRId64 "\"", after.rows,
	         after.id_sum);
	if (!out || !strstr(out, want))
		th_fail(__FILE__, __LINE__, "independent reader: %s, floe: %s", out ? out : "", want);
	free(out);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(upkeep_rewrite_manifests_read_by_independent_reader_at_the_replace)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.rwi", NULL);
	floe_error err;
	for (int i = 0; i < 12; i++)
		REQUIRE_OK(append_rows(t, i * 7, i * 7 + 7, NULL, &err), &err);
	/* small target: several manifests come out, split by entry count */
	REQUIRE_OK(floe_table_set_property(t, "commit.manifest.target-size-bytes", "20000", &err),
	           &err);
	floe_rewrite_result rr;
	REQUIRE_OK(floe_table_rewrite_manifests_ex(t, &rr, &err), &err);
	CHECK_EQ_INT(rr.manifests_replaced, 12);
	CHECK(rr.manifests_created > 1 && rr.manifests_created < 12);
	scan_sum r;
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 84);
	CHECK_EQ_INT(r.id_sum, 83 * 84 / 2);
	CHECK_EQ_INT(r.st.manifests, rr.manifests_created + rr.manifests_kept);
	const char *peers = th_peers();
	char *out = NULL;
	REQUIRE(th_run(&out, "node tests/iceberg/iceberg_read.mjs '%s' '%s' --sum id", peers,
	               floe_table_metadata_location(t)) == 0);
	char want[200];
	snprintf(want, sizeof want, "\"manifests\":%" PRId64 ",\"files\":%" PRId64 ",\"rows\":84,"
	         "\"sum\":\"%d\"", r.st.manifests, r.st.files, 83 * 84 / 2);
	if (!out || !strstr(out, want))
		th_fail(__FILE__, __LINE__, "independent reader: %s, floe: %s", out ? out : "", want);
	free(out);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* ---- manifests merged on commit ----------------------------------------- */

/* Manifests of snapshot `snap`: count, entries it ADDED, and entries of
 * earlier snapshots in manifests merged since (EXISTING); every entry keeps
 * its snapshot id and sequence number (id s[k] carries k + 1). */
static void check_entries(const char *list, const int64_t *s, int ns, int64_t snap,
                          int *manifests, int *added, int *existing)
{
	floe_arena *ar = floe_arena_new(0);
	floe_error err;
	ice_manifest_file *mf;
	size_t nmf;
	*manifests = *added = *existing = 0;
	REQUIRE_OK(ice_manifest_list_read(list, ar, &mf, &nmf, &err), &err);
	*manifests = (int)nmf;
	for (size_t m = 0; m < nmf; m++) {
		ice_manifest_entry *e;
		size_t ne;
		REQUIRE_OK(ice_manifest_read(&mf[m], NULL, NULL, ar, &e, &ne, &err), &err);
		for (size_t i = 0; i < ne; i++) {
			bool known = false;
			for (int k = 0; k < ns; k++)
				if (e[i].snapshot_id == s[k]) {
					known = true;
					CHECK_EQ_INT(e[i].sequence_number, k + 1);
				}
			CHECK(known);
			if (e[i].snapshot_id == snap) {
				CHECK_EQ_INT(e[i].status, 1);
				CHECK(mf[m].added_snapshot_id == snap);
				(*added)++;
			} else if (mf[m].added_snapshot_id == e[i].snapshot_id) {
				CHECK_EQ_INT(e[i].status, 1); /* its own manifest */
			} else {
				CHECK_EQ_INT(e[i].status, 0);
				(*existing)++;
			}
		}
	}
	floe_arena_free(ar);
}

TEST(upkeep_appends_merge_manifests_at_the_min_count)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.ma", NULL);
	floe_error err;
	REQUIRE_OK(floe_table_set_property(t, "commit.manifest.min-count-to-merge", "5", &err), &err);
	enum { N = 13 };
	int64_t s[N];
	/* the first four appends add a manifest each; the fifth reaches the
	 * minimum count and merges the four before it into one */
	static const int want[N] = { 1, 2, 3, 4, 2, 3, 4, 2, 3, 4, 2, 3, 4 };
	for (int i = 0; i < N; i++) {
		REQUIRE_OK(append_rows(t, i * 4, i * 4 + 4, &s[i], &err), &err);
		const floe_snapshot_info *si;
		int n;
		REQUIRE_OK(floe_table_snapshots(t, &si, &n, &err), &err);
		REQUIRE(n == i + 1);
		CHECK_EQ_STR(si[i].operation, "append");
		int manifests, added, existing;
		check_entries(si[i].manifest_list, s, i + 1, s[i], &manifests, &added, &existing);
		if (manifests != want[i])
			th_fail(__FILE__, __LINE__, "append %d: %d manifests, want %d", i + 1, manifests,
			        want[i]);
		CHECK_EQ_INT(added, 3); /* one file per symbol */
		bool merged = want[i] == 2 && i > 1;
		if (merged) /* all but this append's own in one manifest */
			CHECK_EQ_INT(existing, 3 * i);
		CHECK_EQ_INT(strstr(si[i].summary_json, "manifests-replaced") != NULL, merged);
		if (i == 4)
			CHECK(strstr(si[i].summary_json, "\"manifests-replaced\":\"4\"") &&
			      strstr(si[i].summary_json, "\"manifests-created\":\"1\"") &&
			      strstr(si[i].summary_json, "\"entries-processed\":\"12\""));
	}
	/* every snapshot reads as it did, the current one from 4 manifests */
	for (int i = 0; i < N; i++) {
		scan_sum r;
		REQUIRE_OK(scan_at(t, s[i], &r, &err), &err);
		CHECK_EQ_INT(r.rows, 4 * (i + 1));
		CHECK_EQ_INT(r.id_sum, (int64_t)(4 * (i + 1) - 1) * (4 * (i + 1)) / 2);
		CHECK_EQ_INT(r.st.manifests, want[i]);
	}
	/* an incremental read still sees what each append added */
	floe_scan_options o;
	floe_scan_options_init(&o);
	o.incremental = true;
	o.from_snapshot_id = s[5];
	floe_scan *sc;
	REQUIRE_OK(floe_scan_open(&sc, t, &o, &err), &err);
	const floe_batch *b;
	int64_t rows = 0;
	int rc;
	while ((rc = floe_scan_next(sc, &b, &err)) == 1)
		rows += b->nrows;
	CHECK_EQ_INT(rc, 0);
	floe_scan_free(sc);
	CHECK_EQ_INT(rows, 4 * (N - 6));
	/* as does the independent reader */
	char *out = NULL;
	REQUIRE(th_run(&out, "node tests/iceberg/iceberg_read.mjs '%s' '%s' --sum id", th_peers(),
	               floe_table_metadata_location(t)) == 0);
	char wants[200];
	snprintf(wants, sizeof wants, "\"manifests\":4,\"files\":%d,\"rows\":%d,\"sum\":\"%d\"",
	         3 * N, 4 * N, (4 * N - 1) * 4 * N / 2);
	if (!out || !strstr(out, wants))
		th_fail(__FILE__, __LINE__, "independent reader: %s, floe: %s", out ? out : "", wants);
	free(out);
	/* expiry of all but the last snapshot leaves only what it lists */
	floe_expire_options eo = { floe_now_ms() + 1, 1, 0 };
	floe_expire_result res;
	REQUIRE_OK(floe_table_expire_snapshots(t, &eo, &res, &err), &err);
	CHECK_EQ_INT(res.data_files_deleted, 0);
	check_tree(t);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(upkeep_appends_keep_their_manifests_when_merging_is_off)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.mo", NULL);
	floe_error err;
	REQUIRE_OK(floe_table_set_property(t, "commit.manifest.min-count-to-merge", "3", &err), &err);
	REQUIRE_OK(floe_table_set_property(t, "commit.manifest-merge.enabled", "false", &err), &err);
	for (int i = 0; i < 8; i++)
		REQUIRE_OK(append_rows(t, i * 4, i * 4 + 4, NULL, &err), &err);
	scan_sum r;
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	CHECK_EQ_INT(r.st.manifests, 8);
	/* on again: the next append merges the eight before it */
	REQUIRE_OK(floe_table_set_property(t, "commit.manifest-merge.enabled", "true", &err), &err);
	REQUIRE_OK(append_rows(t, 32, 36, NULL, &err), &err);
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	CHECK_EQ_INT(r.st.manifests, 2);
	CHECK_EQ_INT(r.rows, 36);
	CHECK_EQ_INT(r.id_sum, 35 * 36 / 2);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* Manifests left holding only DELETED entries (a copy-on-write DELETE of
 * whole files) merge into nothing: the next commit drops them. */
TEST(upkeep_merged_manifests_of_deleted_files_vanish)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.md", NULL);
	floe_error err;
	REQUIRE_OK(floe_table_set_property(t, "commit.manifest.min-count-to-merge", "3", &err), &err);
	REQUIRE_OK(append_rows(t, 0, 6, NULL, &err), &err);
	REQUIRE_OK(append_rows(t, 6, 12, NULL, &err), &err);
	floe_delete_result dr;
	REQUIRE_OK(floe_table_delete(t, "id < 12", &dr, &err), &err);
	scan_sum r;
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 0);
	int64_t s3;
	REQUIRE_OK(append_rows(t, 12, 15, &s3, &err), &err);
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 3);
	CHECK_EQ_INT(r.id_sum, 12 + 13 + 14);
	CHECK_EQ_INT(r.st.manifests, 1);
	const floe_snapshot_info *si;
	int n;
	REQUIRE_OK(floe_table_snapshots(t, &si, &n, &err), &err);
	REQUIRE(n == 4 && si[3].snapshot_id == s3);
	CHECK(strstr(si[3].summary_json, "\"manifests-created\":\"0\"") &&
	      strstr(si[3].summary_json, "\"manifests-replaced\":\"2\""));
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(upkeep_appends_that_merge_race_and_leave_nothing_behind)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.mr", NULL);
	floe_error err;
	REQUIRE_OK(floe_table_set_property(t, "commit.manifest.min-count-to-merge", "4", &err), &err);
	REQUIRE_OK(floe_table_set_property(t, "write.metadata.previous-versions-max", "100000", &err),
	           &err);
	floe_table_close(t);
	floe_catalog_close(c);
	/* two writers: many commits lose a race and retry on the new base,
	 * merging again; what each failed attempt wrote must go */
	enum { WRITERS = 2, EACH = 25 };
	pid_t pids[WRITERS];
	for (int p = 0; p < WRITERS; p++) {
		pids[p] = fork();
		REQUIRE(pids[p] >= 0);
		if (pids[p] == 0) {
			floe_catalog *cc = open_wh("wh");
			floe_table *tt;
			floe_error e;
			if (floe_table_open(&tt, cc, "db.mr", &e))
				_exit(2);
			for (int i = 0; i < EACH; i++) {
				int64_t from = (int64_t)(p * EACH + i) * 3;
				if (append_rows(tt, from, from + 3, NULL, &e)) {
					fprintf(stderr, "append: %s\n", e.msg);
					_exit(3);
				}
			}
			floe_table_close(tt);
			floe_catalog_close(cc);
			_exit(0);
		}
	}
	for (int p = 0; p < WRITERS; p++) {
		int st;
		REQUIRE(waitpid(pids[p], &st, 0) == pids[p]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	c = open_wh("wh");
	REQUIRE_OK(floe_table_open(&t, c, "db.mr", &err), &err);
	scan_sum r;
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	const int64_t n = WRITERS * EACH * 3;
	CHECK_EQ_INT(r.rows, n);
	CHECK_EQ_INT(r.id_sum, (n - 1) * n / 2);
	CHECK(r.st.manifests < 4);
	check_tree(t);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(upkeep_rewrite_manifests_while_another_process_appends)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.rwc", NULL);
	floe_error e0;
	CHECK_OK(floe_table_set_property(t, "write.metadata.previous-versions-max", "100000", &e0),
	         &e0);
	floe_table_close(t);
	floe_catalog_close(c);
	const int appends = 40;
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		floe_catalog *cc = open_wh("wh");
		floe_table *tt;
		floe_error e;
		if (floe_table_open(&tt, cc, "db.rwc", &e))
			_exit(2);
		for (int i = 0; i < appends; i++)
			if (append_rows(tt, i * 3, i * 3 + 3, NULL, &e)) {
				fprintf(stderr, "append: %s\n", e.msg);
				_exit(3);
			}
		floe_table_close(tt);
		floe_catalog_close(cc);
		_exit(0);
	}
	c = open_wh("wh");
	floe_error err;
	REQUIRE_OK(floe_table_open(&t, c, "db.rwc", &err), &err);
	int64_t rewrites = 0;
	for (;;) {
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		floe_rewrite_result rr;
		CHECK_OK(floe_table_rewrite_manifests_ex(t, &rr, &err), &err);
		rewrites += rr.manifests_created > 0;
		scan_sum r;
		CHECK_OK(scan_at(t, -1, &r, &err), &err);
		if (w == pid) {
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
			break;
		}
		usleep(3000);
	}
	CHECK(rewrites > 0);
	floe_rewrite_result rr;
	REQUIRE_OK(floe_table_rewrite_manifests_ex(t, &rr, &err), &err);
	scan_sum r;
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	CHECK_EQ_INT(r.st.manifests, 1);
	CHECK_EQ_INT(r.rows, appends * 3);
	CHECK_EQ_INT(r.id_sum, (int64_t)(appends * 3 - 1) * (appends * 3) / 2);
	/* the attempts that lost a race left nothing behind */
	check_tree(t);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(upkeep_two_expiries_and_an_appender_at_once)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.three", NULL);
	floe_error err;
	REQUIRE_OK(floe_table_set_property(t, "write.metadata.previous-versions-max", "100000", &err),
	           &err);
	char stop[1024];
	snprintf(stop, sizeof stop, "%s", th_path("stop"));
	pid_t pids[2];
	for (int p = 0; p < 2; p++) {
		pids[p] = fork();
		REQUIRE(pids[p] >= 0);
		if (pids[p] == 0) {
			floe_catalog *cc = open_wh("wh");
			floe_table *tt;
			floe_error e;
			if (floe_table_open(&tt, cc, "db.three", &e))
				_exit(2);
			while (!floe_fs_exists(stop)) {
				floe_expire_options o = { floe_now_ms() + 1, 1 + p, 0 };
				if (floe_table_expire_snapshots(tt, &o, NULL, &e)) {
					fprintf(stderr, "expire: %s\n", e.msg);
					_exit(3);
				}
				usleep(1000);
			}
			floe_table_close(tt);
			floe_catalog_close(cc);
			_exit(0);
		}
	}
	for (int i = 0; i < 40; i++)
		CHECK_OK(append_rows(t, i * 2, i * 2 + 2, NULL, &err), &err);
	FILE *f = fopen(stop, "w");
	REQUIRE(f);
	fclose(f);
	for (int p = 0; p < 2; p++) {
		int st;
		REQUIRE(waitpid(pids[p], &st, 0) == pids[p]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	REQUIRE_OK(floe_table_refresh(t, &err), &err);
	scan_sum r;
	REQUIRE_OK(scan_at(t, -1, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 80);
	CHECK_EQ_INT(r.id_sum, 79 * 80 / 2);
	CHECK(count_snapshots(t, NULL) < 40);
	check_tree(t);
	floe_table_close(t);
	floe_catalog_close(c);
}
