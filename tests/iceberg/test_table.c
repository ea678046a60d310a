/* tests/iceberg/test_table.c - Iceberg tables end to end through the
 * library: create, append with hidden partitioning, pruned scans, time
 * travel, schema and partition evolution, concurrent appends from two
 * processes, avsc reading what floe wrote, and tables written by other
 * engines (../shared/testdata/iceberg-interop) read with their live counts. */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "floe/floe.h"
#include "floe/catalog.h"
#include "floe/table.h"
#include "harness.h"
#include "iceberg/table_int.h"
#include "util/fs.h"

#define DAY_US 86400000000LL
#define T0 1704067200000000LL /* 2024-01-01T00:00:00Z in micros */

/* Stop the test (a failure) when a setup call fails. */
static void must(int rc, const floe_error *err, const char *what)
{
	if (rc) {
		th_fail(__FILE__, __LINE__, "%s: %s", what, err->msg);
		exit(1);
	}
}

static floe_catalog *open_wh(const char *name)
{
	floe_catalog *c = NULL;
	floe_error err;
	must(floe_catalog_open(&c, th_path(name), NULL, &err), &err, "open catalog");
	return c;
}

/* Rows id in [from, to): symbol S(id % 5), price id * 0.5, volume id,
 * ts = T0 + id hours, note NULL when id % 7 == 0, LONG_NOTE (18 characters,
 * 22 bytes) when id % 7 == 3, else "n". */
#define LONG_NOTE "n\xc3\xa9-long-note-\xc3\xa9\xc3\xa9\xc3\xa9-x"
static const char *const SYMS[5] = { "AAPL", "GOOGL", "MSFT", "AMZN", "TSLA" };

static const char *price_name = "price"; /* after a rename, the new name */

static void append_rows(floe_table *t, int64_t from, int64_t to, int64_t *snap)
{
	floe_error err;
	floe_schema *s;
	floe_arena *ar = floe_arena_new(0);
	char text[256];
	snprintf(text, sizeof text, "id long not null, symbol string, %s double, volume int, "
	         "ts timestamptz, note string", price_name);
	REQUIRE_OK(floe_schema_parse(&s, text, ar, &err), &err);
	floe_batch_builder *b;
	REQUIRE_OK(floe_batch_builder_new(&b, s, &err), &err);
	floe_append *a;
	REQUIRE_OK(floe_append_begin(&a, t, &err), &err);
	for (int64_t id = from; id < to; id++) {
		REQUIRE_OK(floe_batch_builder_i64(b, 0, id, &err), &err);
		const char *sym = SYMS[id % 5];
		REQUIRE_OK(floe_batch_builder_bytes(b, 1, sym, (int64_t)strlen(sym), &err), &err);
		REQUIRE_OK(floe_batch_builder_f64(b, 2, (double)id * 0.5, &err), &err);
		REQUIRE_OK(floe_batch_builder_i32(b, 3, (int32_t)id, &err), &err);
		REQUIRE_OK(floe_batch_builder_i64(b, 4, T0 + id * 3600000000LL, &err), &err);
		if (id % 7 == 0)
			REQUIRE_OK(floe_batch_builder_null(b, 5, &err), &err);
		else if (id % 7 == 3) /* past the 16 characters of a bound, multi-byte */
			REQUIRE_OK(floe_batch_builder_bytes(b, 5, LONG_NOTE, (int64_t)strlen(LONG_NOTE), &err),
			           &err);
		else
			REQUIRE_OK(floe_batch_builder_bytes(b, 5, "n", 1, &err), &err);
		if (floe_batch_builder_rows(b) == 1000) {
			REQUIRE_OK(floe_append_batch(a, floe_batch_builder_view(b), &err), &err);
			floe_batch_builder_clear(b);
		}
	}
	if (floe_batch_builder_rows(b) > 0)
		REQUIRE_OK(floe_append_batch(a, floe_batch_builder_view(b), &err), &err);
	REQUIRE_OK(floe_append_commit(a, snap, &err), &err);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
}

typedef struct scan_result {
	int64_t rows;
	int64_t id_sum;
	int64_t nulls_in_first_string;
	floe_scan_stats st;
} scan_result;

/* Scan and fold the "id" column (must be projected as column 0 when
 * present) into a count and a sum. */
static int do_scan(floe_table *t, const char *where, const floe_snapshot_sel *sel,
                   const char *const *cols, int ncols, scan_result *res, floe_error *err)
{
	memset(res, 0, sizeof *res);
	floe_scan_options o;
	floe_scan_options_init(&o);
	o.where = where;
	o.columns = cols;
	o.ncolumns = ncols;
	if (sel)
		o.snapshot = *sel;
	floe_scan *s;
	int rc = floe_scan_open(&s, t, &o, err);
	if (rc)
		return rc;
	const floe_schema *sch = floe_scan_schema(s);
	int idc = floe_schema_find(sch, "id");
	const floe_batch *b;
	while ((rc = floe_scan_next(s, &b, err)) == 1) {
		res->rows += b->nrows;
		if (idc >= 0 && b->cols[idc].type.id == FLOE_TYPE_LONG)
			for (int64_t r = 0; r < b->nrows; r++)
				res->id_sum += ((const int64_t *)b->cols[idc].values)[r];
		for (int c = 0; c < b->ncols; c++)
			if (b->cols[c].type.id == FLOE_TYPE_STRING) {
				for (int64_t r = 0; r < b->nrows; r++)
					res->nulls_in_first_string += !floe_column_is_valid(&b->cols[c], r);
				break;
			}
	}
	floe_scan_get_stats(s, &res->st);
	floe_scan_free(s);
	return rc < 0 ? rc : 0;
}

static floe_table *make_table(floe_catalog *c, const char *name, const char *partition)
{
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, symbol string, price double, volume int, ts timestamptz, note string";
	co.partition = partition;
	const char *props[] = { "write.parquet.compression-codec=zstd" };
	co.properties = props;
	co.nproperties = 1;
	floe_table *t = NULL;
	must(floe_table_create(&t, c, name, &co, &err), &err, "create table");
	return t;
}

TEST(table_append_scan_partitioned_and_pruned)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "market.trades", "day(ts), bucket(4, symbol)");
	int64_t snap;
	append_rows(t, 0, 24 * 10, &snap); /* ten days, one row per hour */
	floe_error err;
	scan_result r;
	REQUIRE_OK(do_scan(t, NULL, NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 240);
	CHECK_EQ_INT(r.id_sum, 239 * 240 / 2);
	/* 10 days x the buckets the 5 symbols fall in */
	CHECK(r.st.files % 10 == 0 && r.st.files >= 10 && r.st.files <= 40);
	int64_t per_day = r.st.files / 10;
	/* one hour of one day: partition pruning keeps that day's files only,
	 * metrics keep the file holding the hour */
	REQUIRE_OK(do_scan(t, "ts >= '2024-01-03T05:00:00Z' and ts < '2024-01-03T06:00:00Z'", NULL, NULL,
	                   0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 1);
	CHECK_EQ_INT(r.id_sum, 2 * 24 + 5);
	CHECK(r.st.files_read >= 1 && r.st.files_read <= per_day);
	CHECK_EQ_INT(r.st.files_skipped, r.st.files - r.st.files_read);
	/* bucket equality prunes by partition, IN, OR, NOT, IS NULL */
	REQUIRE_OK(do_scan(t, "symbol = 'MSFT'", NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 48);
	CHECK(r.st.files_read < r.st.files);
	REQUIRE_OK(do_scan(t, "symbol in ('AAPL', 'TSLA') and not (volume < 100)", NULL, NULL, 0, &r,
	                   &err), &err);
	int64_t want = 0;
	for (int id = 100; id < 240; id++)
		want += (id % 5 == 0 || id % 5 == 4);
	CHECK_EQ_INT(r.rows, want);
	REQUIRE_OK(do_scan(t, "note is null or id = 1", NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 240 / 7 + 1 + 1);
	/* projection with a filter on a column not returned */
	const char *cols[] = { "symbol" };
	REQUIRE_OK(do_scan(t, "price > 100", NULL, cols, 1, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 240 - 201);
	/* unknown column in the filter names the columns */
	CHECK(do_scan(t, "nope = 1", NULL, NULL, 0, &r, &err) == FLOE_ENOTFOUND);
	CHECK(strstr(err.msg, "nope") != NULL);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(table_time_travel_by_id_timestamp_and_tag)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.tt", "month(ts)");
	int64_t s1, s2, s3;
	append_rows(t, 0, 100, &s1);
	usleep(5000);
	append_rows(t, 100, 150, &s2);
	floe_error err;
	REQUIRE_OK(floe_table_create_tag(t, "v2", s2, &err), &err);
	usleep(5000);
	append_rows(t, 150, 160, &s3);
	const floe_snapshot_info *snaps;
	int n;
	REQUIRE_OK(floe_table_snapshots(t, &snaps, &n, &err), &err);
	REQUIRE(n == 3);
	CHECK(snaps[0].snapshot_id == s1 && snaps[1].snapshot_id == s2 && snaps[2].snapshot_id == s3);
	CHECK(snaps[1].has_parent && snaps[1].parent_id == s1);
	CHECK(snaps[2].is_current);
	CHECK(strstr(snaps[2].summary_json, "\"total-records\":\"160\"") != NULL);
	scan_result r;
	floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, s1, 0, NULL };
	REQUIRE_OK(do_scan(t, NULL, &sel, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 100);
	sel.kind = FLOE_SNAPSHOT_AS_OF;
	sel.timestamp_ms = snaps[1].timestamp_ms;
	REQUIRE_OK(do_scan(t, NULL, &sel, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 150);
	sel.timestamp_ms = snaps[1].timestamp_ms - 1;
	REQUIRE_OK(do_scan(t, NULL, &sel, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 100);
	sel.timestamp_ms = snaps[0].timestamp_ms - 1;
	CHECK(do_scan(t, NULL, &sel, NULL, 0, &r, &err) == FLOE_ENOTFOUND);
	sel.kind = FLOE_SNAPSHOT_REF;
	sel.ref = "v2";
	REQUIRE_OK(do_scan(t, NULL, &sel, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 150);
	sel.ref = "nope";
	CHECK(do_scan(t, NULL, &sel, NULL, 0, &r, &err) == FLOE_ENOTFOUND);
	sel.kind = FLOE_SNAPSHOT_ID;
	sel.snapshot_id = 12345;
	CHECK(do_scan(t, NULL, &sel, NULL, 0, &r, &err) == FLOE_ENOTFOUND);
	REQUIRE_OK(do_scan(t, NULL, NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 160);
	CHECK(floe_table_create_tag(t, "v2", -1, &err) == FLOE_EEXISTS);
	/* a reopened handle sees the same tag */
	floe_table *t2;
	REQUIRE_OK(floe_table_open(&t2, c, "db.tt", &err), &err);
	sel.kind = FLOE_SNAPSHOT_REF;
	sel.ref = "v2";
	REQUIRE_OK(do_scan(t2, NULL, &sel, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 150);
	floe_table_close(t2);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(table_schema_evolution_reads_old_files_by_field_id)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.evo", "");
	int64_t s1;
	append_rows(t, 0, 50, &s1);
	floe_error err;
	REQUIRE_OK(floe_table_rename_column(t, "price", "px", &err), &err);
	REQUIRE_OK(floe_table_widen_column(t, "volume", "long", &err), &err);
	REQUIRE_OK(floe_table_drop_column(t, "note", &err), &err);
	REQUIRE_OK(floe_table_add_column(t, "venue", "string", "after symbol", &err), &err);
	REQUIRE_OK(floe_table_move_column(t, "ts", "first", &err), &err);
	CHECK(floe_table_widen_column(t, "px", "float", &err) == FLOE_EINVALID);
	CHECK(floe_table_add_column(t, "px", "int", NULL, &err) == FLOE_EEXISTS);
	const floe_schema *s = floe_table_schema(t);
	REQUIRE(s->nfields == 6);
	CHECK_EQ_STR(s->fields[0].name, "ts");
	CHECK_EQ_STR(s->fields[1].name, "id");
	CHECK_EQ_STR(s->fields[3].name, "venue");
	CHECK_EQ_STR(s->fields[4].name, "px");
	CHECK_EQ_INT(s->fields[4].field_id, 3); /* the old id */
	CHECK(s->fields[5].type.id == FLOE_TYPE_LONG);
	CHECK_EQ_INT(s->fields[3].field_id, 7); /* a new id */
	/* old file: px read from "price" by id, volume widened, venue NULL */
	floe_error_clear(&err);
	floe_scan_options o;
	floe_scan_options_init(&o);
	o.where = "px >= 10";
	floe_scan *sc;
	REQUIRE_OK(floe_scan_open(&sc, t, &o, &err), &err);
	const floe_batch *b;
	int64_t rows = 0;
	while (floe_scan_next(sc, &b, &err) == 1) {
		REQUIRE(b->ncols == 6);
		for (int64_t r = 0; r < b->nrows; r++) {
			int64_t id = ((const int64_t *)b->cols[1].values)[r];
			CHECK(((const double *)b->cols[4].values)[r] == (double)id * 0.5);
			CHECK(((const int64_t *)b->cols[5].values)[r] == id);
			CHECK(!floe_column_is_valid(&b->cols[3], r));
			rows++;
		}
	}
	CHECK_EQ_STR(err.msg, "");
	floe_scan_free(sc);
	CHECK_EQ_INT(rows, 30);
	/* a dropped column's old name is free again and does not resurrect data */
	REQUIRE_OK(floe_table_add_column(t, "note", "string", NULL, &err), &err);
	scan_result r;
	REQUIRE_OK(do_scan(t, "note is not null", NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 0);
	/* time travel uses the snapshot's schema: "price" existed then */
	floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, s1, 0, NULL };
	REQUIRE_OK(do_scan(t, "price < 1", &sel, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 2);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(table_partition_evolution_prunes_across_specs)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.pe", "day(ts)");
	int64_t s;
	append_rows(t, 0, 96, &s); /* 4 days under day(ts) */
	floe_error err;
	REQUIRE_OK(floe_table_set_partition(t, "hour(ts), truncate(2, symbol)", &err), &err);
	append_rows(t, 96, 144, &s); /* 2 more days under the new spec */
	scan_result r;
	REQUIRE_OK(do_scan(t, NULL, NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 144);
	CHECK_EQ_INT(r.id_sum, 143 * 144 / 2);
	/* day 1 (old spec) and hour 100 (new spec) */
	REQUIRE_OK(do_scan(t, "ts < '2024-01-02' or ts = '2024-01-05T04:00:00Z'", NULL, NULL, 0, &r, &err),
	           &err);
	CHECK_EQ_INT(r.rows, 25);
	CHECK_EQ_INT(r.st.files_read, 2);
	char *json;
	REQUIRE_OK(floe_table_describe(&json, t, &err), &err);
	CHECK(strstr(json, "\"transform\": \"hour\"") != NULL);
	CHECK(strstr(json, "\"transform\": \"truncate[2]\"") != NULL);
	free(json);
	/* dropping a column the current spec uses is refused */
	CHECK(floe_table_drop_column(t, "symbol", &err) == FLOE_EINVALID);
	floe_table_close(t);
	floe_catalog_close(c);
}

static int count_file(void *ctx, const floe_file_info *f, floe_error *err)
{
	(void)err;
	int64_t *n = ctx;
	n[0]++;
	n[1] += f->record_count;
	return 0;
}

TEST(table_concurrent_appends_from_two_processes)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.conc", "bucket(2, symbol)");
	floe_table_close(t);
	floe_catalog_close(c);
	pid_t pids[2];
	for (int p = 0; p < 2; p++) {
		pids[p] = fork();
		REQUIRE(pids[p] >= 0);
		if (pids[p] == 0) {
			floe_catalog *cc = open_wh("wh");
			floe_table *tt;
			floe_error e;
			if (floe_table_open(&tt, cc, "db.conc", &e))
				_exit(2);
			for (int i = 0; i < 200; i++) {
				int64_t base = (int64_t)(p * 200 + i) * 3;
				append_rows(tt, base, base + 3, NULL);
				if (th_failures())
					_exit(3);
			}
			floe_table_close(tt);
			floe_catalog_close(cc);
			_exit(0);
		}
	}
	for (int p = 0; p < 2; p++) {
		int st;
		REQUIRE(waitpid(pids[p], &st, 0) == pids[p]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	c = open_wh("wh");
	floe_error err;
	REQUIRE_OK(floe_table_open(&t, c, "db.conc", &err), &err);
	const floe_snapshot_info *snaps;
	int n;
	REQUIRE_OK(floe_table_snapshots(t, &snaps, &n, &err), &err);
	CHECK_EQ_INT(n, 400);
	for (int i = 1; i < n; i++) {
		CHECK(snaps[i].has_parent && snaps[i].parent_id == snaps[i - 1].snapshot_id);
		CHECK_EQ_INT(snaps[i].sequence_number, i + 1);
	}
	scan_result r;
	REQUIRE_OK(do_scan(t, NULL, NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 1200);
	CHECK_EQ_INT(r.id_sum, 1199 * 1200 / 2);
	int64_t files[2] = { 0, 0 };
	REQUIRE_OK(floe_table_files(t, NULL, count_file, files, &err), &err);
	CHECK_EQ_INT(files[1], 1200);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(table_written_manifests_read_by_avsc_with_field_ids)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.avsc", "day(ts), identity(symbol)");
	int64_t s1;
	append_rows(t, 0, 30, &s1);
	floe_error err;
	char *json;
	REQUIRE_OK(floe_table_describe(&json, t, &err), &err);
	free(json);
	/* the manifest list named by the current metadata */
	char *meta = th_read_file(floe_table_metadata_location(t), NULL);
	REQUIRE(meta);
	char *ml = strstr(meta, "\"manifest-list\"");
	REQUIRE(ml);
	ml = strchr(ml + 15, '"');
	REQUIRE(ml);
	char list_path[1024];
	size_t k = 0;
	for (ml++; *ml && *ml != '"' && k + 1 < sizeof list_path; ml++)
		list_path[k++] = *ml;
	list_path[k] = 0;
	free(meta);
	char *out = NULL;
	REQUIRE(th_run(&out, "node %s/avro-dump.mjs '%s' --header", th_peers(), list_path) == 0);
	for (int id = 500; id <= 507; id++) {
		char needle[32];
		snprintf(needle, sizeof needle, "\"field-id\":%d", id);
		if (!strstr(out, needle)) {
			snprintf(needle, sizeof needle, "\"field-id\": %d", id);
			CHECK(strstr(out, needle) != NULL);
		}
	}
	free(out);
	out = NULL;
	REQUIRE(th_run(&out, "node %s/avro-dump.mjs '%s' --records", th_peers(), list_path) == 0);
	char snapid[32];
	snprintf(snapid, sizeof snapid, "%" PRId64, s1);
	CHECK(strstr(out, snapid) != NULL);
	char *mp = strstr(out, "\"manifest_path\"");
	REQUIRE(mp);
	mp = strchr(mp + 15, '"');
	REQUIRE(mp);
	char man[1024];
	k = 0;
	for (mp++; *mp && *mp != '"' && k + 1 < sizeof man; mp++)
		man[k++] = *mp;
	man[k] = 0;
	free(out);
	out = NULL;
	REQUIRE(th_run(&out, "node %s/avro-dump.mjs '%s' --header", th_peers(), man) == 0);
	CHECK(strstr(out, "102") && strstr(out, "r102"));
	CHECK(strstr(out, "ts_day") && strstr(out, "symbol"));
	free(out);
	out = NULL;
	REQUIRE(th_run(&out, "node %s/avro-dump.mjs '%s' --count", th_peers(), man) == 0);
	/* 2 days x 5 symbols */
	CHECK(atoi(out) == 10);
	free(out);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(table_identifier_and_drop)
{
	floe_catalog *c = open_wh("wh");
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "a int";
	const char *bad[] = { "x", "../x.t", "a.b/c", "a..b", "a.\x01t", ".t" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(floe_table_create(NULL, c, bad[i], &co, &err) == FLOE_EINVALID);
	REQUIRE_OK(floe_table_create(NULL, c, "ns.keep", &co, &err), &err);
	CHECK(floe_table_create(NULL, c, "ns.keep", &co, &err) == FLOE_EEXISTS);
	/* a location outside the warehouse is refused; one inside is fine */
	co.location = th_path("elsewhere");
	CHECK(floe_table_create(NULL, c, "ns.out", &co, &err) == FLOE_EINVALID);
	CHECK(strstr(err.msg, "outside the warehouse") != NULL);
	char inside[1024];
	snprintf(inside, sizeof inside, "%s/custom/place", floe_catalog_warehouse(c));
	co.location = inside;
	REQUIRE_OK(floe_table_create(NULL, c, "ns.in", &co, &err), &err);
	co.location = NULL;
	floe_table *t = make_table(c, "ns.gone", "");
	int64_t s;
	append_rows(t, 0, 10, &s);
	char loc[1024];
	snprintf(loc, sizeof loc, "%s", floe_table_location(t));
	floe_table_close(t);
	struct stat st;
	CHECK(stat(loc, &st) == 0);
	REQUIRE_OK(floe_table_drop(c, "ns.gone", true, &err), &err);
	CHECK(stat(loc, &st) != 0);
	CHECK(floe_table_open(&t, c, "ns.gone", &err) == FLOE_ENOTFOUND);
	REQUIRE_OK(floe_table_open(&t, c, "ns.keep", &err), &err);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* ---- tables written by other engines ---------------------------------- */

typedef struct interop_row {
	char folder[256];
	int version;
	char live[32];
	char metadata[256];
	int pos_files, eq_files;
	bool parquet;
} interop_row;

static void trim(char *s)
{
	char *p = s;
	while (*p == ' ' || *p == '`')
		p++;
	memmove(s, p, strlen(p) + 1);
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '`'))
		s[--n] = 0;
}

/* Rows of INDEX.md's tables/ section: | folder | source | v | writer | snaps
 * | sch | specs | data | pos | eq | live | expected | bytes | metadata | */
static int read_index(interop_row *rows, int cap)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/testdata/iceberg-interop/INDEX.md", th_shared());
	char *txt = th_read_file(path, NULL);
	if (!txt)
		return -1;
	int n = 0;
	bool in_tables = false;
	for (char *line = strtok(txt, "\n"); line && n < cap; line = strtok(NULL, "\n")) {
		if (strncmp(line, "## tables/", 10) == 0)
			in_tables = true;
		else if (strncmp(line, "## ", 3) == 0)
			in_tables = false;
		if (!in_tables || strncmp(line, "| `", 3) != 0)
			continue;
		char *cells[16];
		int nc = 0;
		char *p = line + 1;
		while (nc < 16) {
			char *bar = strchr(p, '|');
			if (!bar)
				break;
			*bar = 0;
			cells[nc++] = p;
			p = bar + 1;
		}
		if (nc < 14)
			continue;
		interop_row *r = &rows[n];
		memset(r, 0, sizeof *r);
		for (int i = 0; i < nc; i++)
			trim(cells[i]);
		snprintf(r->folder, sizeof r->folder, "%s", cells[0]);
		r->version = atoi(cells[2]);
		snprintf(r->live, sizeof r->live, "%s", cells[10]);
		char *m = cells[13];
		char *sp = strchr(m, ' ');
		if (sp)
			*sp = 0;
		trim(m);
		snprintf(r->metadata, sizeof r->metadata, "%s", m);
		r->pos_files = atoi(cells[8]);
		r->eq_files = atoi(cells[9]);
		n++;
	}
	free(txt);
	return n;
}

TEST(table_reads_foreign_tables_with_live_counts)
{
	interop_row rows[64];
	int n = read_index(rows, 64);
	REQUIRE(n > 20);
	int read = 0, with_deletes = 0, applied = 0;
	for (int i = 0; i < n; i++) {
		interop_row *r = &rows[i];
		char dir[1024], meta[1300];
		int w1 = snprintf(dir, sizeof dir, "%s/testdata/iceberg-interop/tables/%s", th_shared(),
		                  r->folder);
		int w2 = snprintf(meta, sizeof meta, "%s/%s", dir, r->metadata);
		REQUIRE(w1 > 0 && (size_t)w1 < sizeof dir && w2 > 0 && (size_t)w2 < sizeof meta);
		floe_error err;
		floe_table *t;
		int rc = floe_table_open_metadata(&t, meta, NULL, 0, &err);
		if (r->version > 2) {
			/* v3 tables: either read or refused cleanly, never crash */
			if (rc == 0)
				floe_table_close(t);
			continue;
		}
		if (rc) {
			CHECK_EQ_STR(err.msg, meta);
			continue;
		}
		/* Map the table root as the writer named it to the folder: its
		 * `location`, and the root its current manifest list lives under
		 * (tables copied from other repositories name relativized or
		 * rewritten paths there), each with up to two parent folders
		 * (data files may sit beside the table, as in column_mapping). */
		char roots[2][1024];
		int nroots = 0;
		snprintf(roots[nroots++], sizeof roots[0], "%s", floe_table_location(t));
		const floe_snapshot_info *snaps;
		int nsnaps;
		REQUIRE_OK(floe_table_snapshots(t, &snaps, &nsnaps, &err), &err);
		for (int k = 0; k < nsnaps; k++)
			if (snaps[k].is_current && snaps[k].manifest_list) {
				const char *ml = snaps[k].manifest_list;
				const char *md = strstr(ml, "/metadata/");
				if (md && nroots < 2)
					snprintf(roots[nroots++], sizeof roots[0], "%.*s", (int)(md - ml), ml);
			}
		floe_table_close(t);
		char mapbuf[6][2200];
		const char *maps[6];
		int nmaps = 0;
		for (int k = 0; k < nroots; k++) {
			char from[1024], to[1024];
			int w3 = snprintf(from, sizeof from, "%s", roots[k]);
			int w4 = snprintf(to, sizeof to, "%s", dir);
			REQUIRE(w3 > 0 && (size_t)w3 < sizeof from && w4 > 0 && (size_t)w4 < sizeof to);
			for (int up = 0; up < 3; up++) {
				snprintf(mapbuf[nmaps], sizeof mapbuf[0], "%s=%s", from, to);
				maps[nmaps] = mapbuf[nmaps];
				nmaps++;
				char *a = strrchr(from, '/'), *b = strrchr(to, '/');
				if (!a || !b || up == 2)
					break;
				*a = 0;
				*b = 0;
				/* never map above the table's folder under tables/ */
				if (strlen(to) < strlen(th_shared()) + strlen("/testdata/iceberg-interop/tables/x"))
					break;
			}
		}
		REQUIRE_OK(floe_table_open_metadata(&t, meta, maps, nmaps, &err), &err);
		scan_result res;
		rc = do_scan(t, NULL, NULL, NULL, 0, &res, &err);
		floe_table_close(t);
		bool has_deletes = r->pos_files > 0 || r->eq_files > 0;
		if (strcmp(r->live, "n/c") == 0) {
			/* not computed (missing files, no snapshot, ORC...): no crash */
			continue;
		}
		if (rc) {
			th_fail(__FILE__, __LINE__, "%s: %s", r->folder, err.msg);
			continue;
		}
		if (res.rows != atoll(r->live))
			th_fail(__FILE__, __LINE__, "%s: %" PRId64 " rows, INDEX.md says %s live", r->folder,
			        res.rows, r->live);
		read++;
		if (has_deletes) {
			with_deletes++;
			CHECK(res.st.delete_files > 0);
			/* a delete may be superseded (its rows rewritten since) */
			applied += res.st.rows_deleted > 0;
			printf("  %s: %" PRId64 " live, %" PRId64 " delete files, %" PRId64 " rows deleted\n",
			       r->folder, res.rows, res.st.delete_files, res.st.rows_deleted);
		}
	}
	printf("read %d foreign tables with their live counts, %d of them with delete files\n", read,
	       with_deletes);
	CHECK(read >= 31);
	CHECK(with_deletes >= 6);
	CHECK(applied >= 5);
}

/* ---- file sizing and metrics ------------------------------------------- */

#include "iceberg/manifest.h"

TEST(table_target_file_size_rolls_files_with_column_sizes)
{
	floe_catalog *c = open_wh("wh");
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, symbol string, price double, volume int, ts timestamptz, note string";
	const char *props[] = { "write.target-file-size-bytes=131072",
	                        "write.parquet.row-group-size-bytes=32768" };
	co.properties = props;
	co.nproperties = 2;
	floe_table *t = NULL;
	REQUIRE_OK(floe_table_create(&t, c, "db.roll", &co, &err), &err);
	int64_t snap;
	append_rows(t, 0, 60000, &snap);
	int64_t files[2] = { 0, 0 };
	REQUIRE_OK(floe_table_files(t, NULL, count_file, files, &err), &err);
	CHECK(files[0] >= 3);
	CHECK_EQ_INT(files[1], 60000);
	/* the manifest's column_sizes equal the Parquet footers' chunk sizes,
	 * as DuckDB reads them */
	const floe_snapshot_info *snaps;
	int n;
	REQUIRE_OK(floe_table_snapshots(t, &snaps, &n, &err), &err);
	REQUIRE(n == 1 && snaps[0].manifest_list);
	floe_arena *ar = floe_arena_new(0);
	ice_manifest_file *mfs;
	size_t nm;
	REQUIRE_OK(ice_manifest_list_read(snaps[0].manifest_list, ar, &mfs, &nm, &err), &err);
	REQUIRE(nm == 1);
	ice_manifest_entry *ents;
	size_t ne;
	REQUIRE_OK(ice_manifest_read(&mfs[0], NULL, NULL, ar, &ents, &ne, &err), &err);
	CHECK_EQ_INT((int64_t)ne, files[0]);
	for (size_t i = 0; i < ne && i < 2; i++) {
		const ice_data_file *f = &ents[i].file;
		CHECK(f->file_size_in_bytes < 131072 + 65536); /* target plus one row group at most */
		char *out = NULL;
		REQUIRE(th_run(&out, "node %s/duckdb-query.mjs --format csv \"select sum(total_compressed_size) "
		               "from parquet_metadata('%s') group by path_in_schema order by "
		               "min(column_id)\"", th_peers(), f->file_path) == 0);
		char *line = strtok(out, "\n");
		for (int col = 0; col < f->nmetrics; col++) {
			line = strtok(NULL, "\n"); /* skips the header first */
			REQUIRE(line);
			CHECK_EQ_INT(f->metrics[col].column_size, atoll(line));
			CHECK_EQ_INT(f->metrics[col].value_count, f->record_count);
		}
		free(out);
	}
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* ---- read back by an independent reader --------------------------------- */

TEST(table_read_by_independent_reader_every_snapshot)
{
	/* tests/iceberg/iceberg_read.mjs: metadata JSON with exact ids,
	 * manifests through avsc (field ids required), data through DuckDB */
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.indep", "day(ts), bucket(3, symbol)");
	floe_error err;
	int64_t s;
	append_rows(t, 0, 100, &s);
	append_rows(t, 100, 250, &s);
	REQUIRE_OK(floe_table_rename_column(t, "price", "px", &err), &err);
	REQUIRE_OK(floe_table_set_partition(t, "truncate(2, symbol)", &err), &err);
	price_name = "px";
	append_rows(t, 250, 300, &s);
	price_name = "price";
	REQUIRE_OK(floe_table_create_tag(t, "t3", -1, &err), &err);
	const floe_snapshot_info *snaps;
	int n;
	REQUIRE_OK(floe_table_snapshots(t, &snaps, &n, &err), &err);
	REQUIRE(n == 3);
	for (int i = 0; i < n; i++) {
		floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, snaps[i].snapshot_id, 0, NULL };
		scan_result r;
		REQUIRE_OK(do_scan(t, NULL, &sel, NULL, 0, &r, &err), &err);
		char *out = NULL;
		REQUIRE(th_run(&out, "node tests/iceberg/iceberg_read.mjs '%s' '%s' --snapshot %" PRId64
		               " --sum id", th_peers(), floe_table_metadata_location(t),
		               snaps[i].snapshot_id) == 0);
		char want[256];
		snprintf(want, sizeof want, "\"snapshot\":\"%" PRId64 "\",\"manifests\":%d,\"files\":%" PRId64
		         ",\"rows\":%" PRId64 ",\"sum\":\"%" PRId64 "\"", snaps[i].snapshot_id, i + 1,
		         r.st.files, r.rows, r.id_sum);
		if (!strstr(out, want))
			th_fail(__FILE__, __LINE__, "independent reader: %s, floe: %s", out, want);
		free(out);
	}
	floe_table_close(t);
	floe_catalog_close(c);
}

/* ---- nested types in the schema ----------------------------------------- */

TEST(table_nested_schema_ids_evolution_and_appends)
{
	floe_catalog *c = open_wh("wh");
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, tags list<string>, attrs map<string, double not null>, "
	            "addr struct<city: string, zip int not null, geo struct<lat double, lon double>>, "
	            "ts timestamptz";
	co.identifier = "id";
	floe_table *t = NULL;
	REQUIRE_OK(floe_table_create(&t, c, "db.nested", &co, &err), &err);
	char *json;
	REQUIRE_OK(floe_table_describe(&json, t, &err), &err);
	/* fresh ids: top-level 1..5, then tags.element 6, attrs key 7 value 8,
	 * addr fields 9..11, geo fields 12..13 */
	CHECK(strstr(json, "\"element-id\": 6") != NULL);
	CHECK(strstr(json, "\"key-id\": 7") != NULL && strstr(json, "\"value-id\": 8") != NULL);
	CHECK(strstr(json, "\"value-required\": true") != NULL);
	CHECK(strstr(json, "\"id\": 13") != NULL && strstr(json, "\"name\": \"lon\"") != NULL);
	free(json);
	/* the flat view holds the primitive top-level columns */
	const floe_schema *fs = floe_table_schema(t);
	REQUIRE(fs->nfields == 2);
	CHECK_EQ_STR(fs->fields[1].name, "ts");
	CHECK_EQ_INT(fs->fields[1].field_id, 5);
	/* nested evolution: into a struct, and a new struct column */
	REQUIRE_OK(floe_table_add_column(t, "addr.country", "string", "first", &err), &err);
	REQUIRE_OK(floe_table_add_column(t, "extra", "struct<a: int, b: list<long>>", NULL, &err), &err);
	REQUIRE_OK(floe_table_rename_column(t, "addr.geo.lat", "latitude", &err), &err);
	CHECK(floe_table_rename_column(t, "addr.nope", "x", &err) == FLOE_ENOTFOUND);
	REQUIRE_OK(floe_table_describe(&json, t, &err), &err);
	CHECK(strstr(json, "\"name\": \"country\"") && strstr(json, "\"id\": 14"));
	CHECK(strstr(json, "\"name\": \"extra\"") && strstr(json, "\"id\": 15"));
	CHECK(strstr(json, "\"element-id\": 18") != NULL); /* extra.b's element after a (16), b (17) */
	CHECK(strstr(json, "\"name\": \"latitude\"") != NULL);
	free(json);
	/* rows of the flat columns append; nested optional columns read as absent */
	floe_arena *ar = floe_arena_new(0);
	floe_schema *in;
	REQUIRE_OK(floe_schema_parse(&in, "id long not null, ts timestamptz", ar, &err), &err);
	floe_batch_builder *b;
	REQUIRE_OK(floe_batch_builder_new(&b, in, &err), &err);
	for (int64_t i = 0; i < 10; i++) {
		REQUIRE_OK(floe_batch_builder_i64(b, 0, i, &err), &err);
		REQUIRE_OK(floe_batch_builder_i64(b, 1, T0 + i, &err), &err);
	}
	floe_append *a;
	REQUIRE_OK(floe_append_begin(&a, t, &err), &err);
	REQUIRE_OK(floe_append_batch(a, floe_batch_builder_view(b), &err), &err);
	REQUIRE_OK(floe_append_commit(a, NULL, &err), &err);
	scan_result r;
	REQUIRE_OK(do_scan(t, "id >= 5", NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 5);
	CHECK_EQ_INT(r.id_sum, 5 + 6 + 7 + 8 + 9);
	/* bad nested forms */
	floe_table_create_options bad = co;
	const char *forms[] = { "a struct<b int", "a map<string>", "a list<>", "a.b int", "a int, a long",
	                        "a struct<x int, x int>", "a json" };
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		bad.schema = forms[i];
		bad.identifier = NULL;
		CHECK(floe_table_create(NULL, c, "db.bad", &bad, &err) == FLOE_EINVALID);
	}
	bad.schema = "id long, s struct<a int> not null";
	bad.identifier = "s";
	CHECK(floe_table_create(NULL, c, "db.bad", &bad, &err) == FLOE_EINVALID);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* ---- conflicts ---------------------------------------------------------- */

static int count_parquet(void *ud, const char *path, const struct stat *st)
{
	(void)st;
	size_t n = strlen(path);
	if (n > 8 && strcmp(path + n - 8, ".parquet") == 0)
		(*(int *)ud)++;
	return 0;
}

TEST(table_append_that_cannot_reapply_fails_with_conflict_and_cleans_up)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.cf", "day(ts)");
	floe_error err;
	/* an append in progress on this handle ... */
	floe_arena *ar = floe_arena_new(0);
	floe_schema *in;
	REQUIRE_OK(floe_schema_parse(&in, "id long not null, ts timestamptz", ar, &err), &err);
	floe_batch_builder *b;
	REQUIRE_OK(floe_batch_builder_new(&b, in, &err), &err);
	for (int64_t i = 0; i < 50; i++) {
		REQUIRE_OK(floe_batch_builder_i64(b, 0, i, &err), &err);
		REQUIRE_OK(floe_batch_builder_i64(b, 1, T0 + i * DAY_US / 10, &err), &err);
	}
	floe_append *a;
	REQUIRE_OK(floe_append_begin(&a, t, &err), &err);
	REQUIRE_OK(floe_append_batch(a, floe_batch_builder_view(b), &err), &err);
	/* ... while the table is dropped and created again elsewhere */
	REQUIRE_OK(floe_table_drop(c, "db.cf", false, &err), &err);
	floe_table *t2 = make_table(c, "db.cf", "");
	int64_t snap = 0;
	CHECK(floe_append_commit(a, &snap, &err) == FLOE_ECONFLICT);
	CHECK(strstr(err.msg, "re-created") != NULL);
	/* the new table has no snapshot and no data file of the failed append
	 * is left (both tables share the location) */
	const floe_snapshot_info *snaps;
	int n;
	REQUIRE_OK(floe_table_snapshots(t2, &snaps, &n, &err), &err);
	CHECK_EQ_INT(n, 0);
	int files = 0;
	REQUIRE_OK(floe_fs_walk(floe_table_location(t2), count_parquet, &files, &err), &err);
	CHECK_EQ_INT(files, 0);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
	floe_table_close(t2);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(table_append_matches_columns_by_name_and_refuses_unknown_ones)
{
	floe_catalog *c = open_wh("wh");
	floe_table *t = make_table(c, "db.names", "");
	floe_error err;
	floe_arena *ar = floe_arena_new(0);
	/* other order, other case, ids that mean nothing to the table */
	floe_schema *in;
	REQUIRE_OK(floe_schema_parse(&in, "TS timestamptz id 40, ID long not null id 41", ar, &err), &err);
	floe_batch_builder *b;
	REQUIRE_OK(floe_batch_builder_new(&b, in, &err), &err);
	REQUIRE_OK(floe_batch_builder_i64(b, 0, T0, &err), &err);
	REQUIRE_OK(floe_batch_builder_i64(b, 1, 7, &err), &err);
	floe_append *a;
	REQUIRE_OK(floe_append_begin(&a, t, &err), &err);
	REQUIRE_OK(floe_append_batch(a, floe_batch_builder_view(b), &err), &err);
	REQUIRE_OK(floe_append_commit(a, NULL, &err), &err);
	scan_result r;
	REQUIRE_OK(do_scan(t, "ts = '2024-01-01T00:00:00Z'", NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 1);
	CHECK_EQ_INT(r.id_sum, 7);
	floe_batch_builder_free(b);
	/* a column the table lacks would be dropped: refused */
	REQUIRE_OK(floe_schema_parse(&in, "id long not null, venue string", ar, &err), &err);
	REQUIRE_OK(floe_batch_builder_new(&b, in, &err), &err);
	REQUIRE_OK(floe_batch_builder_i64(b, 0, 8, &err), &err);
	REQUIRE_OK(floe_batch_builder_bytes(b, 1, "X", 1, &err), &err);
	REQUIRE_OK(floe_append_begin(&a, t, &err), &err);
	CHECK(floe_append_batch(a, floe_batch_builder_view(b), &err) == FLOE_EINVALID);
	CHECK(strstr(err.msg, "venue") != NULL);
	floe_append_abort(a);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(table_append_bounds_open_files_and_keeps_every_row)
{
	/* 5 symbol partitions in every batch, at most 2 files open: files
	 * close least recently written first and reopen as new files */
	floe_catalog *c = open_wh("wh");
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, symbol string, price double, volume int, ts timestamptz, note string";
	co.partition = "symbol";
	const char *props[] = { "write.floe.max-open-files=2", "write.floe.idle-batches=1" };
	co.properties = props;
	co.nproperties = 2;
	floe_table *t = NULL;
	REQUIRE_OK(floe_table_create(&t, c, "db.lru", &co, &err), &err);
	int64_t snap;
	append_rows(t, 0, 5000, &snap);
	int64_t files[2] = { 0, 0 };
	REQUIRE_OK(floe_table_files(t, NULL, count_file, files, &err), &err);
	CHECK(files[0] > 5);
	CHECK_EQ_INT(files[1], 5000);
	scan_result r;
	REQUIRE_OK(do_scan(t, "symbol = 'MSFT'", NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 1000);
	REQUIRE_OK(do_scan(t, NULL, NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.id_sum, 4999LL * 5000 / 2);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* ---- double bounds and NaN counts ------------------------------------ */

#include "floe/meta.h"

typedef struct dbl_case {
	int n;
	double v[7];
	int null_at;        /* row that is NULL, -1 for none */
	bool has_bounds;
	double lo, hi;      /* compared with their sign (-0.0 below 0.0) */
	int64_t nans;
} dbl_case;

static bool same_double(double a, double b)
{
	return a == b && signbit(a) == signbit(b);
}

static int check_dbl_file(void *ctx, const floe_meta_file *f, floe_error *err)
{
	(void)err;
	const dbl_case *cases = ctx;
	const dbl_case *k = NULL;
	for (int i = 0; i < 7; i++)
		if (cases[i].n == f->info.record_count)
			k = &cases[i];
	if (!k || f->ncolumns != 1) {
		th_fail(__FILE__, __LINE__, "unexpected file of %lld rows, %d columns",
		        (long long)f->info.record_count, f->ncolumns);
		return 0;
	}
	const floe_meta_column *m = &f->columns[0];
	CHECK_EQ_INT(m->value_count, k->n);
	CHECK_EQ_INT(m->null_count, k->null_at >= 0);
	CHECK_EQ_INT(m->nan_count, k->nans);
	CHECK(m->has_lower == k->has_bounds && m->has_upper == k->has_bounds);
	if (k->has_bounds && m->has_lower && m->has_upper &&
	    (!same_double(m->lower.v.d, k->lo) || !same_double(m->upper.v.d, k->hi)))
		th_fail(__FILE__, __LINE__, "%d rows: bounds %g..%g (signs %d %d), want %g..%g", k->n,
		        m->lower.v.d, m->upper.v.d, signbit(m->lower.v.d) != 0,
		        signbit(m->upper.v.d) != 0, k->lo, k->hi);
	return 0;
}

/* Appended doubles give Iceberg's bounds: NaN is counted and never a
 * bound, -0.0 orders below 0.0; with and without NULLs in the batch. */
TEST(table_append_double_bounds_nan_and_signed_zero)
{
	const double nan = NAN;
	const dbl_case cases[7] = {
		{ 5, { 1.5, nan, -0.0, 0.0, -3.0 }, -1, true, -3.0, 1.5, 1 },
		{ 2, { 0.0, -0.0 }, -1, true, -0.0, 0.0, 0 },
		{ 1, { -0.0 }, -1, true, -0.0, -0.0, 0 },
		{ 3, { nan, nan, nan }, -1, false, 0, 0, 3 },
		{ 4, { 0.0, 0.0, 2.0, 0.0 }, -1, true, 0.0, 2.0, 0 },
		{ 6, { -0.0, -1.0, -0.0, -0.0, -0.0, -0.0 }, -1, true, -1.0, -0.0, 0 },
		{ 7, { 0, -0.0, 0.0, nan, 7.0, 1.0, 2.0 }, 0, true, -0.0, 7.0, 1 },
	};
	floe_catalog *c = open_wh("wh");
	floe_error err;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "x double";
	floe_table *t = NULL;
	must(floe_table_create(&t, c, "db.doubles", &co, &err), &err, "create table");
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	REQUIRE_OK(floe_schema_parse(&s, "x double", ar, &err), &err);
	for (int i = 0; i < 7; i++) {
		floe_batch_builder *b;
		REQUIRE_OK(floe_batch_builder_new(&b, s, &err), &err);
		for (int r = 0; r < cases[i].n; r++)
			REQUIRE_OK(r == cases[i].null_at ? floe_batch_builder_null(b, 0, &err)
			                                  : floe_batch_builder_f64(b, 0, cases[i].v[r], &err),
			           &err);
		floe_append *a;
		REQUIRE_OK(floe_append_begin(&a, t, &err), &err);
		REQUIRE_OK(floe_append_batch(a, floe_batch_builder_view(b), &err), &err);
		REQUIRE_OK(floe_append_commit(a, NULL, &err), &err);
		floe_batch_builder_free(b);
	}
	REQUIRE_OK(floe_meta_files(t, NULL, check_dbl_file, (void *)cases, &err), &err);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}

/* ---- manifest cache ------------------------------------------------------ */

/* Move every manifest and manifest list (.avro) of the walked table aside
 * (`away`), or back. */
static int move_avro(void *ud, const char *path, const struct stat *st)
{
	(void)st;
	bool away = *(bool *)ud;
	size_t n = strlen(path);
	const char *ext = away ? ".avro" : ".avro.away";
	size_t k = strlen(ext);
	if (n <= k || strcmp(path + n - k, ext) != 0)
		return 0;
	char to[4096];
	if (away)
		snprintf(to, sizeof to, "%s.away", path);
	else
		snprintf(to, sizeof to, "%.*s", (int)(n - 5), path);
	return rename(path, to) == 0 ? 0 : -1;
}

static void manifests_away(bool away)
{
	floe_error err;
	REQUIRE(floe_fs_walk(th_path("mc/m/t/metadata"), move_avro, &away, &err) == 0);
}

/* A handle that caches manifests plans again without reading them (scans
 * still work with every manifest file moved away), sees new commits after
 * a refresh (a new manifest list), time-travels, and reads the files again
 * once caching is off. */
TEST(table_manifest_cache_plans_without_reading_and_stays_true)
{
	floe_catalog *c = open_wh("mc");
	floe_table *t = make_table(c, "m.t", "day(ts)");
	floe_error err;
	int64_t s1, s2;
	append_rows(t, 0, 48, &s1);
	floe_table_cache_manifests(t, 64 << 20);
	scan_result r;
	REQUIRE_OK(do_scan(t, NULL, NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 48);
	/* another writer commits; this handle refreshes and plans the new list */
	floe_table *w;
	must(floe_table_open(&w, c, "m.t", &err), &err, "open writer");
	append_rows(w, 48, 96, &s2);
	floe_table_close(w);
	REQUIRE_OK(floe_table_refresh(t, &err), &err);
	REQUIRE_OK(do_scan(t, "id >= 40", NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 56);
	CHECK_EQ_INT(r.id_sum, (40 + 95) * 56 / 2);
	manifests_away(true);
	/* planned from the cache alone */
	REQUIRE_OK(do_scan(t, NULL, NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 96);
	CHECK_EQ_INT(r.id_sum, 95 * 96 / 2);
	floe_snapshot_sel sel = { .kind = FLOE_SNAPSHOT_ID, .snapshot_id = s1 };
	REQUIRE_OK(do_scan(t, NULL, &sel, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 48);
	/* without the cache the files are needed */
	floe_table_cache_manifests(t, 0);
	CHECK(do_scan(t, NULL, NULL, NULL, 0, &r, &err) != 0);
	manifests_away(false);
	REQUIRE_OK(do_scan(t, NULL, NULL, NULL, 0, &r, &err), &err);
	CHECK_EQ_INT(r.rows, 96);
	/* a budget smaller than one manifest: every plan reads again, rightly */
	floe_table_cache_manifests(t, 1);
	for (int i = 0; i < 3; i++) {
		REQUIRE_OK(do_scan(t, "id < 10", NULL, NULL, 0, &r, &err), &err);
		CHECK_EQ_INT(r.rows, 10);
	}
	floe_table_close(t);
	floe_catalog_close(c);
}

/* ice_batch_gather: rows by index, runs of consecutive rows copied at once,
 * other orders, repeats and NULLs row by row: the same values either way. */
TEST(table_batch_gather_runs_and_single_rows)
{
	floe_error err;
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	REQUIRE_OK(floe_schema_parse(&s, "id long, name string, n int, ok boolean", ar, &err), &err);
	floe_batch_builder *b;
	REQUIRE_OK(floe_batch_builder_new(&b, s, &err), &err);
	const int N = 500;
	for (int r = 0; r < N; r++) {
		char txt[32];
		int len = snprintf(txt, sizeof txt, "%.*s", r % 9, "name-abcdefgh");
		if (r % 13 == 0)
			floe_batch_builder_null(b, 0, &err);
		else
			floe_batch_builder_i64(b, 0, r * 1000003LL, &err);
		if (r % 17 == 0)
			floe_batch_builder_null(b, 1, &err);
		else
			floe_batch_builder_bytes(b, 1, txt, len, &err);
		floe_batch_builder_i32(b, 2, -r, &err);
		REQUIRE_OK(floe_batch_builder_bool(b, 3, r % 3 == 0, &err), &err);
	}
	const floe_batch *src = floe_batch_builder_view(b);
	/* a long run, a gap, single rows backwards, a repeat, a run to the end */
	int32_t idx[700];
	int64_t n = 0;
	for (int r = 10; r < 200; r++)
		idx[n++] = r;
	for (int r = 150; r > 120; r -= 3)
		idx[n++] = r;
	idx[n++] = 7;
	idx[n++] = 7;
	idx[n++] = 8;
	for (int r = 420; r < N; r++)
		idx[n++] = r;
	idx[n++] = 0;
	floe_batch out;
	REQUIRE_OK(ice_batch_gather(ar, src, idx, n, &out, &err), &err);
	CHECK_EQ_INT(out.nrows, n);
	for (int64_t k = 0; k < n; k++) {
		int64_t r = idx[k];
		for (int c = 0; c < 4; c++)
			if (floe_column_is_valid(&out.cols[c], k) != floe_column_is_valid(&src->cols[c], r))
				th_fail(__FILE__, __LINE__, "row %lld column %d: validity differs", (long long)k, c);
		if (floe_column_is_valid(&src->cols[0], r))
			CHECK_EQ_INT(((const int64_t *)out.cols[0].values)[k], r * 1000003LL);
		const floe_column *sc = &src->cols[1], *dc = &out.cols[1];
		int64_t sl = sc->offsets[r + 1] - sc->offsets[r], dl = dc->offsets[k + 1] - dc->offsets[k];
		if (sl != dl || (sl && memcmp(sc->data + sc->offsets[r], dc->data + dc->offsets[k],
		                              (size_t)sl) != 0))
			th_fail(__FILE__, __LINE__, "row %lld: string differs", (long long)k);
		CHECK_EQ_INT(((const int32_t *)out.cols[2].values)[k], -r);
		CHECK_EQ_INT(((const uint8_t *)out.cols[3].values)[k] != 0, r % 3 == 0);
	}
	int64_t nulls = 0;
	for (int64_t k = 0; k < n; k++)
		nulls += idx[k] % 17 == 0;
	CHECK_EQ_INT(out.cols[1].null_count, nulls);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
}
