/* tests/iceberg/test_changes.c - incremental reads (appends between two
 * snapshots, refused across other operations) and change reads (inserts,
 * deletes, update pre/post images with identifier fields, copy-on-write
 * carry-over removed, merge-on-read position and equality deletes) in both
 * write modes, whole rows and projected to some columns. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floe/catalog.h"
#include "floe/floe.h"
#include "floe/table.h"
#include "harness.h"

#define T0 1704067200000000LL

static int append_ids(floe_table *t, int64_t from, int64_t to, floe_error *err)
{
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	floe_batch_builder *b = NULL;
	floe_append *a = NULL;
	int rc = floe_schema_parse(&s, "id long not null, v long, ts timestamptz", ar, err);
	if (!rc)
		rc = floe_batch_builder_new(&b, s, err);
	for (int64_t id = from; !rc && id < to; id++)
		if ((rc = floe_batch_builder_i64(b, 0, id, err)) ||
		    (rc = floe_batch_builder_i64(b, 1, id, err)) ||
		    (rc = floe_batch_builder_i64(b, 2, T0 + (id % 2) * 86400000000LL, err)))
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

static int64_t last_snapshot(floe_table *t)
{
	const floe_snapshot_info *si;
	int ns;
	floe_error err;
	if (floe_table_snapshots(t, &si, &ns, &err) || ns == 0)
		return -1;
	return si[ns - 1].snapshot_id;
}

/* The changes as "kind:id:v;" lines sorted within each snapshot, with the
 * snapshot's position in the list: "1 insert:3:3". With `proj`, the read
 * is projected to those columns (which must name id and v). */
static char *changes_text_of(floe_table *t, int64_t from, int64_t to, const char *const *proj,
                             int nproj)
{
	floe_error err;
	floe_changes *c;
	if (floe_changes_open(&c, t, from, to, &err)) {
		th_fail(__FILE__, __LINE__, "changes: %s", err.msg);
		return NULL;
	}
	if (proj && floe_changes_project(c, proj, nproj, &err)) {
		th_fail(__FILE__, __LINE__, "project: %s", err.msg);
		floe_changes_free(c);
		return NULL;
	}
	const floe_schema *s = floe_changes_schema(c);
	int ci = floe_schema_find(s, "id"), cv = floe_schema_find(s, "v");
	int ck = floe_schema_find(s, "_change_type"), cs = floe_schema_find(s, "_commit_snapshot_id");
	int cq = floe_schema_find(s, "_commit_sequence_number");
	CHECK(ci >= 0 && cv >= 0 && ck >= 0 && cs >= 0 && cq >= 0);
	char *lines[512];
	int n = 0;
	const floe_batch *b;
	int rc;
	while ((rc = floe_changes_next(c, &b, &err)) == 1)
		for (int64_t r = 0; r < b->nrows && n < 512; r++) {
			const floe_column *kc = &b->cols[ck];
			char line[128];
			snprintf(line, sizeof line, "%02" PRId64 " %.*s:%" PRId64 ":%" PRId64,
			         ((const int64_t *)b->cols[cq].values)[r],
			         (int)(kc->offsets[r + 1] - kc->offsets[r]), kc->data + kc->offsets[r],
			         ((const int64_t *)b->cols[ci].values)[r],
			         floe_column_is_valid(&b->cols[cv], r) ? ((const int64_t *)b->cols[cv].values)[r]
			                                              : -1);
			lines[n++] = strdup(line);
		}
	CHECK_EQ_INT(rc, 0);
	floe_changes_free(c);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
			char *x = lines[j];
			lines[j] = lines[j - 1];
			lines[j - 1] = x;
		}
	size_t len = 1;
	for (int i = 0; i < n; i++)
		len += strlen(lines[i]) + 1;
	char *out = calloc(1, len);
	for (int i = 0; i < n; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
		free(lines[i]);
	}
	return out;
}

static char *changes_text(floe_table *t, int64_t from, int64_t to)
{
	return changes_text_of(t, from, to, NULL, 0);
}

static floe_table *make(floe_catalog *c, const char *name, const char *mode, bool ident)
{
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, v long, ts timestamptz";
	co.partition = "day(ts)";
	co.identifier = ident ? "id" : NULL;
	char p[3][64];
	snprintf(p[0], sizeof p[0], "write.update.mode=%s", mode);
	snprintf(p[1], sizeof p[1], "write.delete.mode=%s", mode);
	snprintf(p[2], sizeof p[2], "write.merge.mode=%s", mode);
	const char *props[3] = { p[0], p[1], p[2] };
	co.properties = props;
	co.nproperties = 3;
	floe_table *t = NULL;
	if (floe_table_create(&t, c, name, &co, &err))
		th_fail(__FILE__, __LINE__, "create: %s", err.msg);
	return t;
}

static void upsert(floe_table *t, int64_t id, int64_t v)
{
	floe_error err;
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	floe_batch_builder *b;
	REQUIRE_OK(floe_schema_parse(&s, "id long not null, v long, ts timestamptz", ar, &err), &err);
	REQUIRE_OK(floe_batch_builder_new(&b, s, &err), &err);
	floe_batch_builder_i64(b, 0, id, &err);
	floe_batch_builder_i64(b, 1, v, &err);
	floe_batch_builder_i64(b, 2, T0 + (id % 2) * 86400000000LL, &err);
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
}

/* A table (copy-on-write or merge-on-read, with or without identifier
 * fields) with ten appended rows (snapshot *s1), then an update, a delete,
 * an upsert of an existing and of a new key, and two appended rows. */
static floe_table *with_history(floe_catalog *c, const char *name, int mode, int ident,
                                int64_t *s1)
{
	floe_error err;
	floe_table *t = make(c, name, mode ? "merge-on-read" : "copy-on-write", ident);
	if (!t)
		return NULL;
	CHECK_OK(append_ids(t, 0, 10, &err), &err);
	*s1 = last_snapshot(t);
	CHECK_OK(floe_table_update(t, "v = 100", "id = 3", NULL, &err), &err);
	CHECK_OK(floe_table_delete(t, "id = 5", NULL, &err), &err);
	upsert(t, 7, 70);
	upsert(t, 20, 200);
	CHECK_OK(append_ids(t, 30, 32, &err), &err);
	return t;
}

/* A projected change read gives the same changes as the whole rows: the
 * appends read for the projected columns alone, the copy-on-write and
 * merge-on-read commits paired on whole rows and projected after. */
static void check_projection(floe_table *t, int mode, int ident)
{
	floe_error err;
	static const char *const vi[2] = { "v", "id" };
	char *all = changes_text(t, -1, -1), *some = changes_text_of(t, -1, -1, vi, 2);
	CHECK(all && some && strstr(all, "insert:31:31") && strstr(all, ":5:5"));
	if (!all || !some || strcmp(all, some) != 0)
		th_fail(__FILE__, __LINE__, "mode %d ident %d: whole rows\n%s\nprojected\n%s", mode,
		        ident, all ? all : "(null)", some ? some : "(null)");
	free(all);
	free(some);
	/* the projected schema: those columns, then the change columns */
	floe_changes *ch;
	REQUIRE_OK(floe_changes_open(&ch, t, -1, -1, &err), &err);
	REQUIRE_OK(floe_changes_project(ch, vi, 2, &err), &err);
	const floe_schema *s = floe_changes_schema(ch);
	CHECK_EQ_INT(s->nfields, 5);
	CHECK_EQ_STR(s->fields[0].name, "v");
	CHECK_EQ_STR(s->fields[1].name, "id");
	CHECK_EQ_STR(s->fields[2].name, "_change_type");
	CHECK_EQ_STR(s->fields[4].name, "_commit_sequence_number");
	const floe_batch *b;
	CHECK_EQ_INT(floe_changes_next(ch, &b, &err), 1);
	CHECK_EQ_INT(b->ncols, 5);
	CHECK_EQ_INT(floe_changes_project(ch, vi, 2, &err), FLOE_EINVALID);
	floe_changes_free(ch);
	static const char *const bad[1] = { "nope" };
	REQUIRE_OK(floe_changes_open(&ch, t, -1, -1, &err), &err);
	CHECK_EQ_INT(floe_changes_project(ch, bad, 1, &err), FLOE_ENOTFOUND);
	floe_changes_free(ch);
}

TEST(changes_inserts_deletes_updates_projected_both_modes)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	for (int mode = 0; mode < 2; mode++) {
		for (int ident = 0; ident < 2; ident++) {
			char name[32];
			snprintf(name, sizeof name, "db.ch%d%d", mode, ident);
			int64_t s1;
			floe_table *t = with_history(c, name, mode, ident, &s1);
			REQUIRE(t);
			char *got = changes_text(t, s1, -1);
			const char *want = ident ? "02 update_after:3:100\n02 update_before:3:3\n"
			                           "03 delete:5:5\n"
			                           "04 update_after:7:70\n04 update_before:7:7\n"
			                           "05 insert:20:200\n"
			                           "06 insert:30:30\n06 insert:31:31\n"
			                         : "02 delete:3:3\n02 insert:3:100\n"
			                           "03 delete:5:5\n"
			                           "04 delete:7:7\n04 insert:7:70\n"
			                           "05 insert:20:200\n"
			                           "06 insert:30:30\n06 insert:31:31\n";
			if (!got || strcmp(got, want) != 0)
				th_fail(__FILE__, __LINE__, "mode %d ident %d: got\n%s", mode, ident,
				        got ? got : "(null)");
			free(got);
			/* from the beginning: the first append's ten inserts too */
			got = changes_text(t, -1, s1);
			CHECK(got && strncmp(got, "01 insert:0:0\n01 insert:1:1\n", 28) == 0);
			CHECK(got && strlen(got) > 0 && got[strlen(got) - 1] == '\n');
			free(got);
			check_projection(t, mode, ident);
			floe_table_close(t);
		}
	}
	floe_catalog_close(c);
}

typedef struct cut_files {
	int64_t seq; /* files of this data sequence number are truncated */
	int64_t cut;
} cut_files;

static int cut_file(void *ctx, const floe_file_info *f, floe_error *err)
{
	(void)err;
	cut_files *cf = ctx;
	if (f->content == 0 && f->sequence_number == cf->seq)
		cf->cut += truncate(f->local_path, 0) == 0;
	return 0;
}

/* A compaction (`replace`) changes no row: the changes across it are
 * those of the snapshots around it, and the files it wrote are not read
 * to find that out (here they are made unreadable). */
TEST(changes_skip_compaction_without_reading_it)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make(c, "db.cmp", "merge-on-read", true);
	REQUIRE(t);
	REQUIRE_OK(append_ids(t, 0, 4, &err), &err);
	int64_t s1 = last_snapshot(t);
	REQUIRE_OK(append_ids(t, 4, 6, &err), &err);
	floe_compact_result cr;
	REQUIRE_OK(floe_table_compact(t, NULL, &cr, &err), &err);
	REQUIRE(cr.data_files_added > 0);
	REQUIRE_OK(append_ids(t, 6, 7, &err), &err);
	/* the compaction's new files (its sequence number): truncated */
	const floe_snapshot_info *si;
	int ns;
	REQUIRE_OK(floe_table_snapshots(t, &si, &ns, &err), &err);
	cut_files cf = { -1, 0 };
	for (int i = 0; i < ns; i++)
		if (si[i].snapshot_id == cr.snapshot_id)
			cf.seq = si[i].sequence_number;
	floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, cr.snapshot_id, 0, NULL };
	REQUIRE_OK(floe_table_files(t, &sel, cut_file, &cf, &err), &err);
	CHECK_EQ_INT(cf.cut, cr.data_files_added);
	char *got = changes_text(t, s1, -1);
	CHECK_EQ_STR(got, "02 insert:4:4\n02 insert:5:5\n04 insert:6:6\n");
	free(got);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(changes_incremental_reads_appends_only)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table *t = make(c, "db.inc", "merge-on-read", false);
	REQUIRE(t);
	REQUIRE_OK(append_ids(t, 0, 10, &err), &err);
	int64_t s1 = last_snapshot(t);
	REQUIRE_OK(append_ids(t, 10, 15, &err), &err);
	REQUIRE_OK(append_ids(t, 15, 18, &err), &err);
	int64_t s3 = last_snapshot(t);
	floe_scan_options o;
	floe_scan_options_init(&o);
	o.incremental = true;
	o.from_snapshot_id = s1;
	floe_scan *s;
	REQUIRE_OK(floe_scan_open(&s, t, &o, &err), &err);
	const floe_batch *b;
	int64_t n = 0, sum = 0;
	while (floe_scan_next(s, &b, &err) == 1)
		for (int64_t r = 0; r < b->nrows; r++, n++)
			sum += ((const int64_t *)b->cols[0].values)[r];
	floe_scan_free(s);
	CHECK_EQ_INT(n, 8);
	CHECK_EQ_INT(sum, 10 + 11 + 12 + 13 + 14 + 15 + 16 + 17);
	/* from the last snapshot: nothing */
	o.from_snapshot_id = s3;
	REQUIRE_OK(floe_scan_open(&s, t, &o, &err), &err);
	CHECK_EQ_INT(floe_scan_next(s, &b, &err), 0);
	floe_scan_free(s);
	/* across a delete: refused, naming the snapshot */
	REQUIRE_OK(floe_table_delete(t, "id = 2", NULL, &err), &err);
	REQUIRE_OK(append_ids(t, 18, 20, &err), &err);
	o.from_snapshot_id = s1;
	CHECK_EQ_INT(floe_scan_open(&s, t, &o, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "not an append") && strstr(err.msg, "floe changes"));
	o.from_snapshot_id = 12345;
	CHECK_EQ_INT(floe_scan_open(&s, t, &o, &err), FLOE_ENOTFOUND);
	floe_table_close(t);
	floe_catalog_close(c);
}
