/* tests/sql/test_sql_meta.c - the SQL metadata tables ("ns.t$snapshots",
 * history, files, manifests, partitions, refs) over a warehouse built with
 * the library (partitioned appends, a merge-on-read delete, a
 * copy-on-write delete, a tag, a hand-written metadata file with a
 * branch off the current line): rows checked against floe_table_snapshots,
 * floe_table_files, scans and GROUP BY over the data, _as_of time travel,
 * and the errors of a dropped table and of unreadable metadata. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "floe/floe.h"
#include "harness.h"
#include "sql/sql_int.h"

#define T0_US INT64_C(1704067200000000) /* 2024-01-01 00:00:00 UTC */
#define STEP_US INT64_C(600000000)      /* ten minutes between ids */
#define NSYMS 3
static const char *const SYMS[NSYMS] = { "AAPL", "MSFT", "\xc3\x84\"q" }; /* Ä"q */

typedef struct menv {
	floe_catalog *cat;
	floe_sql *s;
	sqlite3 *db;
	int64_t snap[3];      /* the three appends of mkt.trades */
	int64_t snap_ms[3];
	int64_t del_snap;     /* its merge-on-read delete */
	int64_t rows_deleted, delete_files;
	int64_t nulls;        /* NULL notes appended */
} menv;

static void must(int rc, const floe_error *err, const char *what)
{
	if (rc) {
		th_fail(__FILE__, __LINE__, "%s: %s", what, err->msg);
		exit(1);
	}
}

static void pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000 };
	nanosleep(&ts, NULL);
}

/* Rows id in [from, to) of mkt.trades: symbol SYMS[id % 3], ts ten minutes
 * apart from T0 (144 ids a day), note NULL for every 4th id. */
static int64_t append_trades(menv *e, floe_table *t, int64_t from, int64_t to)
{
	floe_error err;
	floe_arena *ar = floe_arena_new(0);
	floe_schema *sc;
	floe_batch_builder *b;
	floe_append *a;
	int64_t snap;
	must(floe_schema_parse(&sc, "id long not null, symbol string, price double, "
	                       "ts timestamptz, note string", ar, &err), &err, "schema");
	must(floe_batch_builder_new(&b, sc, &err), &err, "builder");
	for (int64_t id = from; id < to; id++) {
		const char *sym = SYMS[id % NSYMS];
		must(floe_batch_builder_i64(b, 0, id, &err) ||
		     floe_batch_builder_bytes(b, 1, sym, (int64_t)strlen(sym), &err) ||
		     floe_batch_builder_f64(b, 2, 100 + (double)(id % 40) * 0.5, &err) ||
		     floe_batch_builder_i64(b, 3, T0_US + id * STEP_US, &err) ||
		     (id % 4 == 0 ? floe_batch_builder_null(b, 4, &err)
		                  : floe_batch_builder_bytes(b, 4, "n", 1, &err)), &err, "row");
		if (id % 4 == 0)
			e->nulls++;
	}
	must(floe_append_begin(&a, t, &err), &err, "begin");
	must(floe_append_batch(a, floe_batch_builder_view(b), &err), &err, "batch");
	must(floe_append_commit(a, &snap, &err), &err, "commit");
	floe_batch_builder_free(b);
	floe_arena_free(ar);
	return snap;
}

static void append_plain(floe_table *t, int from, int to)
{
	floe_error err;
	floe_arena *ar = floe_arena_new(0);
	floe_schema *sc;
	floe_batch_builder *b;
	floe_append *a;
	must(floe_schema_parse(&sc, "k int, v string", ar, &err), &err, "schema");
	must(floe_batch_builder_new(&b, sc, &err), &err, "builder");
	for (int k = from; k < to; k++)
		must(floe_batch_builder_i32(b, 0, k, &err) || floe_batch_builder_bytes(b, 1, "v", 1, &err),
		     &err, "row");
	must(floe_append_begin(&a, t, &err), &err, "begin");
	must(floe_append_batch(a, floe_batch_builder_view(b), &err), &err, "batch");
	must(floe_append_commit(a, NULL, &err), &err, "commit");
	floe_batch_builder_free(b);
	floe_arena_free(ar);
}

/* A table registered from a hand-written metadata file: snapshots 1 <- 2
 * and 1 <- 3, current 3 (2 was current once, then a rollback moved main
 * to the other child); a branch "exp" on 2 with retention settings. Its
 * manifest lists do not exist. */
static void make_forked(menv *e)
{
	floe_error err;
	char dir[4096], path[4200];
	snprintf(dir, sizeof dir, "%s/mkt/forked/metadata", floe_catalog_warehouse(e->cat));
	char *out = NULL;
	if (th_run(&out, "mkdir -p '%s'", dir) != 0) {
		th_fail(__FILE__, __LINE__, "mkdir %s", dir);
		exit(1);
	}
	free(out);
	snprintf(path, sizeof path, "%s/00001-forked.metadata.json", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		exit(1);
	fprintf(f,
	        "{\"format-version\":2,\"table-uuid\":\"0d6a1c70-8f43-4b53-9a4e-4d0f1b2c3d4e\","
	        "\"location\":\"%s/mkt/forked\",\"last-sequence-number\":3,"
	        "\"last-updated-ms\":1704070000000,\"last-column-id\":1,\"current-schema-id\":0,"
	        "\"schemas\":[{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
	        "{\"id\":1,\"name\":\"x\",\"required\":false,\"type\":\"long\"}]}],"
	        "\"default-spec-id\":0,\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
	        "\"last-partition-id\":999,\"default-sort-order-id\":0,"
	        "\"sort-orders\":[{\"order-id\":0,\"fields\":[]}],\"properties\":{},"
	        "\"current-snapshot-id\":3,"
	        "\"refs\":{\"main\":{\"snapshot-id\":3,\"type\":\"branch\"},"
	        "\"exp\":{\"snapshot-id\":2,\"type\":\"branch\",\"max-ref-age-ms\":86400000,"
	        "\"min-snapshots-to-keep\":5,\"max-snapshot-age-ms\":3600000}},"
	        "\"snapshots\":["
	        "{\"snapshot-id\":1,\"sequence-number\":1,\"timestamp-ms\":1704067200000,"
	        "\"manifest-list\":\"%s/mkt/forked/metadata/snap-1.avro\","
	        "\"summary\":{\"operation\":\"append\"},\"schema-id\":0},"
	        "{\"snapshot-id\":2,\"parent-snapshot-id\":1,\"sequence-number\":2,"
	        "\"timestamp-ms\":1704067260000,"
	        "\"manifest-list\":\"%s/mkt/forked/metadata/snap-2.avro\","
	        "\"summary\":{\"operation\":\"append\"},\"schema-id\":0},"
	        "{\"snapshot-id\":3,\"parent-snapshot-id\":1,\"sequence-number\":3,"
	        "\"timestamp-ms\":1704067320000,"
	        "\"manifest-list\":\"%s/mkt/forked/metadata/snap-3.avro\","
	        "\"summary\":{\"operation\":\"overwrite\"},\"schema-id\":0}],"
	        "\"snapshot-log\":[{\"timestamp-ms\":1704067200000,\"snapshot-id\":1},"
	        "{\"timestamp-ms\":1704067260000,\"snapshot-id\":2},"
	        "{\"timestamp-ms\":1704067380000,\"snapshot-id\":3}],"
	        "\"metadata-log\":[]}",
	        floe_catalog_warehouse(e->cat), floe_catalog_warehouse(e->cat),
	        floe_catalog_warehouse(e->cat), floe_catalog_warehouse(e->cat));
	fclose(f);
	floe_ident id;
	must(floe_ident_parse(&id, "mkt.forked", &err), &err, "ident");
	must(floe_catalog_create_table(e->cat, &id, path, true, &err), &err, "register forked");
}

static void open_menv(menv *e)
{
	memset(e, 0, sizeof *e);
	floe_error err;
	must(floe_catalog_open(&e->cat, th_path("wh"), NULL, &err), &err, "catalog");
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, symbol string, price double, ts timestamptz, note string";
	co.partition = "day(ts), symbol";
	const char *props[1] = { "write.delete.mode=merge-on-read" };
	co.properties = props;
	co.nproperties = 1;
	floe_table *t;
	must(floe_table_create(&t, e->cat, "mkt.trades", &co, &err), &err, "create trades");
	const floe_snapshot_info *si;
	int n;
	for (int i = 0; i < 3; i++) {
		if (i)
			pause_ms(5); /* distinct commit times for time travel */
		e->snap[i] = append_trades(e, t, i * 300, (i + 1) * 300);
		must(floe_table_snapshots(t, &si, &n, &err), &err, "snapshots");
		e->snap_ms[i] = si[n - 1].timestamp_ms;
		if (i == 1)
			must(floe_table_create_tag(t, "v1", e->snap[1], &err), &err, "tag");
	}
	pause_ms(5);
	floe_delete_result dr;
	must(floe_table_delete(t, "id < 50", &dr, &err), &err, "delete");
	e->del_snap = dr.snapshot_id;
	e->rows_deleted = dr.rows_deleted;
	e->delete_files = dr.delete_files_added;
	floe_table_close(t);

	co.schema = "k int, v string";
	co.partition = NULL;
	co.properties = NULL;
	co.nproperties = 0;
	must(floe_table_create(&t, e->cat, "mkt.plain", &co, &err), &err, "create plain");
	append_plain(t, 0, 10);
	append_plain(t, 10, 20);
	floe_delete_result pr;
	must(floe_table_delete(t, "k = 3", &pr, &err), &err, "delete plain");
	floe_table_close(t);

	make_forked(e);
	must(floe_sql_open(&e->s, e->cat, NULL, &err), &err, "sql open");
	e->db = floe_sql_db(e->s);
}

static void close_menv(menv *e)
{
	floe_sql_close(e->s);
	floe_catalog_close(e->cat);
}

/* The first column of the one-row result as an integer; -999 (and a
 * failure) on an error. */
static int64_t qi(menv *e, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(e->db, sql, -1, &st, NULL) != SQLITE_OK) {
		th_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(e->db));
		return -999;
	}
	int64_t v = -999;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		th_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(e->db));
	sqlite3_finalize(st);
	return v;
}

/* The error a statement stops with ("" when it runs through). */
static const char *q_error(menv *e, const char *sql)
{
	static char msg[1024];
	msg[0] = '\0';
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(e->db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(e->db));
		return msg;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(e->db));
	sqlite3_finalize(st);
	return msg;
}

static sqlite3_stmt *prep(menv *e, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(e->db, sql, -1, &st, NULL) != SQLITE_OK)
		th_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(e->db));
	return st;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "(null)";
}

/* ---- names and columns ------------------------------------------------------ */

TEST(sql_meta_columns_named_as_spark_and_trino)
{
	menv e;
	open_menv(&e);
	/* one string per kind (parenthesized: joined literals, not a list) */
	static const char *const expect[6] = {
		("committed_at,snapshot_id,parent_id,operation,manifest_list,summary"),
		("made_current_at,snapshot_id,parent_id,is_current_ancestor"),
		("content,file_path,file_format,spec_id,partition,record_count,file_size_in_bytes,"
		 "column_sizes,value_counts,null_value_counts,nan_value_counts,lower_bounds,"
		 "upper_bounds,sort_order_id,equality_ids,split_offsets"),
		("content,path,length,partition_spec_id,added_snapshot_id,added_data_files_count,"
		 "existing_data_files_count,deleted_data_files_count,added_delete_files_count,"
		 "existing_delete_files_count,deleted_delete_files_count,partition_summaries"),
		("partition,spec_id,record_count,file_count,total_data_file_size_in_bytes,"
		 "position_delete_record_count,position_delete_file_count,"
		 "equality_delete_record_count,equality_delete_file_count,last_updated_at,"
		 "last_updated_snapshot_id"),
		("name,type,snapshot_id,max_reference_age_in_ms,min_snapshots_to_keep,"
		 "max_snapshot_age_in_ms"),
	};
	int k = 0;
	for (; sq_meta_kinds[k]; k++) {
		REQUIRE(k < 6);
		/* both spellings: one quoted name in main, and the namespace schema */
		for (int form = 0; form < 2; form++) {
			char sql[160], names[1024] = "";
			if (form == 0)
				snprintf(sql, sizeof sql, "SELECT * FROM \"mkt.trades$%s\"", sq_meta_kinds[k]);
			else
				snprintf(sql, sizeof sql, "SELECT * FROM mkt.\"trades$%s\"", sq_meta_kinds[k]);
			sqlite3_stmt *st = prep(&e, sql);
			REQUIRE(st);
			for (int i = 0; i < sqlite3_column_count(st); i++) {
				size_t n = strlen(names);
				snprintf(names + n, sizeof names - n, "%s%s", i ? "," : "",
				         sqlite3_column_name(st, i));
			}
			CHECK_EQ_STR(names, expect[k]);
			int rows = 0;
			while (sqlite3_step(st) == SQLITE_ROW)
				rows++;
			CHECK(rows > 0);
			sqlite3_finalize(st);
		}
	}
	CHECK_EQ_INT(k, 6);
	/* the two spellings read the same rows */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$files\""),
	             qi(&e, "SELECT count(*) FROM mkt.\"trades$files\""));
	CHECK(qi(&e, "SELECT count(*) FROM (SELECT file_path FROM \"mkt.trades$files\" EXCEPT "
	             "SELECT file_path FROM mkt.\"trades$files\")") == 0);
	close_menv(&e);
}

/* ---- snapshots and history ---------------------------------------------------- */

TEST(sql_meta_snapshots_equal_table_snapshots)
{
	menv e;
	open_menv(&e);
	floe_error err;
	floe_table *t;
	REQUIRE_OK(floe_table_open(&t, e.cat, "mkt.trades", &err), &err);
	const floe_snapshot_info *si;
	int n;
	REQUIRE_OK(floe_table_snapshots(t, &si, &n, &err), &err);
	CHECK_EQ_INT(n, 4);
	sqlite3_stmt *st = prep(&e, "SELECT committed_at, snapshot_id, parent_id, operation, "
	                            "manifest_list, summary, typeof(parent_id) "
	                            "FROM \"mkt.trades$snapshots\"");
	REQUIRE(st);
	int i = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		REQUIRE(i < n);
		char when[48];
		sq_format_timestamp_us(when, si[i].timestamp_ms * 1000);
		CHECK_EQ_STR(col_text(st, 0), when);
		CHECK_EQ_INT(sqlite3_column_int64(st, 1), si[i].snapshot_id);
		if (si[i].has_parent)
			CHECK_EQ_INT(sqlite3_column_int64(st, 2), si[i].parent_id);
		else
			CHECK_EQ_STR(col_text(st, 6), "null");
		CHECK_EQ_STR(col_text(st, 3), si[i].operation);
		CHECK_EQ_STR(col_text(st, 4), si[i].manifest_list);
		CHECK_EQ_STR(col_text(st, 5), si[i].summary_json);
		i++;
	}
	sqlite3_finalize(st);
	CHECK_EQ_INT(i, n);
	CHECK_EQ_INT(si[0].snapshot_id, e.snap[0]);
	/* operations as committed: three appends, then the delete */
	CHECK(qi(&e, "SELECT count(*) FROM \"mkt.trades$snapshots\" WHERE operation = 'append'") == 3);
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"mkt.trades$snapshots\" WHERE "
	         "snapshot_id = %" PRId64 " AND operation = 'delete' AND "
	         "json_extract(summary, '$.added-position-deletes') = '%" PRId64 "'", e.del_snap,
	         e.rows_deleted);
	CHECK_EQ_INT(qi(&e, sql), 1);
	/* the summary is JSON that SQLite reads */
	CHECK(qi(&e, "SELECT min(json_valid(summary)) FROM \"mkt.trades$snapshots\"") == 1);
	CHECK(qi(&e, "SELECT sum(json_extract(summary, '$.added-records')) "
	             "FROM \"mkt.trades$snapshots\" WHERE operation = 'append'") == 900);
	floe_table_close(t);
	close_menv(&e);
}

TEST(sql_meta_history_marks_current_ancestors)
{
	menv e;
	open_menv(&e);
	/* a straight line: every entry is an ancestor of the current snapshot */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$history\""), 4);
	CHECK_EQ_INT(qi(&e, "SELECT sum(is_current_ancestor) FROM \"mkt.trades$history\""), 4);
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$history\" h JOIN "
	                    "\"mkt.trades$snapshots\" s USING (snapshot_id) "
	                    "WHERE h.parent_id IS s.parent_id AND h.made_current_at = s.committed_at"),
	             4);
	/* a fork: 2 was current once, but 3 (a child of 1) is current now */
	sqlite3_stmt *st = prep(&e, "SELECT made_current_at, snapshot_id, parent_id, "
	                            "is_current_ancestor FROM mkt.\"forked$history\"");
	REQUIRE(st);
	static const struct {
		const char *when;
		int64_t id, parent, anc;
	} want[3] = {
		{ "2024-01-01 00:00:00.000000", 1, -1, 1 },
		{ "2024-01-01 00:01:00.000000", 2, 1, 0 },
		{ "2024-01-01 00:03:00.000000", 3, 1, 1 },
	};
	int i = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		REQUIRE(i < 3);
		CHECK_EQ_STR(col_text(st, 0), want[i].when);
		CHECK_EQ_INT(sqlite3_column_int64(st, 1), want[i].id);
		if (want[i].parent < 0)
			CHECK(sqlite3_column_type(st, 2) == SQLITE_NULL);
		else
			CHECK_EQ_INT(sqlite3_column_int64(st, 2), want[i].parent);
		CHECK_EQ_INT(sqlite3_column_int64(st, 3), want[i].anc);
		i++;
	}
	sqlite3_finalize(st);
	CHECK_EQ_INT(i, 3);
	close_menv(&e);
}

/* ---- files ---------------------------------------------------------------------- */

typedef struct flist {
	char path[64][512];
	int64_t records[64];
	int content[64];
	int n;
} flist;

static int collect_file(void *ctx, const floe_file_info *f, floe_error *err)
{
	flist *l = ctx;
	if (l->n == 64)
		return floe_error_set(err, FLOE_EINVALID, "more than 64 files");
	snprintf(l->path[l->n], sizeof l->path[0], "%s", f->path);
	l->records[l->n] = f->record_count;
	l->content[l->n] = f->content;
	l->n++;
	return 0;
}

static int64_t scan_count(floe_table *t)
{
	floe_error err;
	floe_scan_options o;
	floe_scan_options_init(&o);
	floe_scan *s;
	if (floe_scan_open(&s, t, &o, &err))
		return -1;
	const floe_batch *b;
	int64_t n = 0;
	int rc;
	while ((rc = floe_scan_next(s, &b, &err)) == 1)
		n += b->nrows;
	floe_scan_free(s);
	return rc < 0 ? -1 : n;
}

TEST(sql_meta_files_equal_table_files)
{
	menv e;
	open_menv(&e);
	floe_error err;
	floe_table *t;
	REQUIRE_OK(floe_table_open(&t, e.cat, "mkt.trades", &err), &err);
	static flist l;
	REQUIRE_OK(floe_table_files(t, NULL, collect_file, &l, &err), &err);
	REQUIRE(l.n > 3);
	sqlite3_stmt *st = prep(&e, "SELECT file_path, record_count, content, file_format, spec_id "
	                            "FROM \"mkt.trades$files\"");
	REQUIRE(st);
	int i = 0;
	int64_t data_rows = 0, deleted = 0, ndel = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		REQUIRE(i < l.n);
		CHECK_EQ_STR(col_text(st, 0), l.path[i]);
		CHECK_EQ_INT(sqlite3_column_int64(st, 1), l.records[i]);
		CHECK_EQ_INT(sqlite3_column_int(st, 2), l.content[i]);
		CHECK_EQ_STR(col_text(st, 3), "PARQUET");
		CHECK_EQ_INT(sqlite3_column_int(st, 4), 0);
		if (l.content[i] == 0)
			data_rows += l.records[i];
		else {
			deleted += l.records[i];
			ndel++;
		}
		i++;
	}
	sqlite3_finalize(st);
	CHECK_EQ_INT(i, l.n);
	/* data rows less position deletes are the table's rows */
	CHECK_EQ_INT(data_rows, 900);
	CHECK_EQ_INT(deleted, e.rows_deleted);
	CHECK_EQ_INT(ndel, e.delete_files);
	CHECK(ndel > 0);
	CHECK_EQ_INT(data_rows - deleted, scan_count(t));
	CHECK_EQ_INT(qi(&e, "SELECT sum(CASE content WHEN 0 THEN record_count ELSE -record_count END) "
	                    "FROM \"mkt.trades$files\""), 900 - 50);

	/* every JSON column is valid JSON (a symbol with a quote and an Ä) */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$files\" WHERE NOT (json_valid(partition) "
	                    "AND json_valid(value_counts) AND json_valid(null_value_counts) AND "
	                    "json_valid(coalesce(column_sizes, '{}')) AND "
	                    "json_valid(coalesce(lower_bounds, '{}')) AND "
	                    "json_valid(coalesce(upper_bounds, '{}')))"), 0);
	CHECK(qi(&e, "SELECT count(*) FROM \"mkt.trades$files\" WHERE content = 0 AND "
	             "json_extract(partition, '$.symbol') = 'Ä\"q'") > 0);
	/* data files: metrics keyed by column name agree with the partition */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$files\" WHERE content = 0 AND NOT ("
	                    "json_extract(value_counts, '$.id') = record_count AND "
	                    "json_extract(lower_bounds, '$.symbol') = json_extract(partition, '$.symbol') "
	                    "AND json_extract(upper_bounds, '$.symbol') = json_extract(partition, '$.symbol') "
	                    "AND substr(json_extract(lower_bounds, '$.ts'), 1, 10) = "
	                    "json_extract(partition, '$.ts_day') "
	                    "AND substr(json_extract(upper_bounds, '$.ts'), 1, 10) = "
	                    "json_extract(partition, '$.ts_day') "
	                    "AND json_extract(lower_bounds, '$.id') <= json_extract(upper_bounds, '$.id') "
	                    "AND json_type(lower_bounds, '$.price') = 'real' "
	                    "AND json_extract(column_sizes, '$.id') > 0 "
	                    "AND equality_ids IS NULL)"), 0);
	/* bounds read like the data: the smallest id and its time */
	CHECK_EQ_INT(qi(&e, "SELECT min(json_extract(lower_bounds, '$.id')) FROM \"mkt.trades$files\" "
	                    "WHERE content = 0"), 0);
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$files\" WHERE content = 0 AND "
	                    "json_extract(lower_bounds, '$.ts') = '2024-01-01 00:00:00.000000'"), 1);
	CHECK_EQ_INT(qi(&e, "SELECT sum(json_extract(null_value_counts, '$.note')) FROM "
	                    "\"mkt.trades$files\" WHERE content = 0"), e.nulls);
	/* delete files: position deletes named by partition of the files they cover */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$files\" WHERE content = 1 AND "
	                    "json_extract(partition, '$.ts_day') = '2024-01-01'"), ndel);
	/* their metrics name the reserved columns; the bounds of file_path
	 * name the data file they apply to */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$files\" d JOIN \"mkt.trades$files\" f "
	                    "ON f.file_path = json_extract(d.lower_bounds, '$.file_path') AND "
	                    "f.file_path = json_extract(d.upper_bounds, '$.file_path') "
	                    "WHERE d.content = 1 AND f.content = 0 AND "
	                    "json_extract(d.value_counts, '$.pos') = d.record_count"), ndel);
	/* unpartitioned: {} */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.plain$files\" WHERE partition <> '{}'"), 0);
	CHECK_EQ_INT(qi(&e, "SELECT sum(record_count) FROM \"mkt.plain$files\""), 19);
	floe_table_close(t);
	close_menv(&e);
}

/* ---- manifests ------------------------------------------------------------------ */

TEST(sql_meta_manifests_count_live_files)
{
	menv e;
	open_menv(&e);
	/* one manifest per append, one delete manifest for the merge-on-read
	 * delete */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$manifests\" WHERE content = 0"), 3);
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$manifests\" WHERE content = 1"), 1);
	CHECK_EQ_INT(qi(&e, "SELECT sum(added_data_files_count + existing_data_files_count) "
	                    "FROM \"mkt.trades$manifests\""),
	             qi(&e, "SELECT count(*) FROM \"mkt.trades$files\" WHERE content = 0"));
	CHECK_EQ_INT(qi(&e, "SELECT sum(added_delete_files_count + existing_delete_files_count) "
	                    "FROM \"mkt.trades$manifests\""),
	             qi(&e, "SELECT count(*) FROM \"mkt.trades$files\" WHERE content <> 0"));
	/* a data manifest counts no delete files and the other way round */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$manifests\" WHERE "
	                    "(content = 0 AND added_delete_files_count + existing_delete_files_count + "
	                    "deleted_delete_files_count <> 0) OR (content = 1 AND "
	                    "added_data_files_count + existing_data_files_count + "
	                    "deleted_data_files_count <> 0)"), 0);
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"mkt.trades$manifests\" WHERE content = 1 "
	         "AND added_snapshot_id = %" PRId64, e.del_snap);
	CHECK_EQ_INT(qi(&e, sql), 1);
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$manifests\" WHERE added_snapshot_id "
	                    "NOT IN (SELECT snapshot_id FROM \"mkt.trades$snapshots\")"), 0);
	/* summaries: one per partition field, bounds in order */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$manifests\" WHERE "
	                    "json_array_length(partition_summaries) <> 2 OR partition_spec_id <> 0"), 0);
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$manifests\" WHERE content = 0 AND "
	                    "json_extract(partition_summaries, '$[0].lower_bound') <= "
	                    "json_extract(partition_summaries, '$[0].upper_bound') AND "
	                    "json_extract(partition_summaries, '$[0].contains_null') = 0 AND "
	                    "json_extract(partition_summaries, '$[1].lower_bound') = 'AAPL' AND "
	                    "json_extract(partition_summaries, '$[1].upper_bound') = 'Ä\"q'"), 3);
	/* the first append covers 2024-01-01 .. 2024-01-03 */
	snprintf(sql, sizeof sql, "SELECT json_extract(partition_summaries, '$[0].upper_bound') = "
	         "'2024-01-03' FROM \"mkt.trades$manifests\" WHERE added_snapshot_id = %" PRId64,
	         e.snap[0]);
	CHECK_EQ_INT(qi(&e, sql), 1);
	/* length is the manifest file's size */
	sqlite3_stmt *st = prep(&e, "SELECT path, length FROM \"mkt.trades$manifests\"");
	REQUIRE(st);
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct stat sb;
		const char *p = col_text(st, 0);
		if (strncmp(p, "file:", 5) == 0)
			p += 5;
		while (p[0] == '/' && p[1] == '/')
			p++;
		CHECK(stat(p, &sb) == 0);
		CHECK_EQ_INT(sqlite3_column_int64(st, 1), sb.st_size);
		n++;
	}
	sqlite3_finalize(st);
	CHECK_EQ_INT(n, 4);
	close_menv(&e);
}

/* ---- partitions ------------------------------------------------------------------ */

TEST(sql_meta_partitions_match_group_by_over_data)
{
	menv e;
	open_menv(&e);
	int64_t groups = qi(&e, "SELECT count(*) FROM (SELECT date(ts), symbol FROM \"mkt.trades\" "
	                        "GROUP BY 1, 2)");
	CHECK(groups >= 7 * NSYMS);
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$partitions\""), groups);
	/* rows in data files less rows position deletes remove = the rows */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$partitions\" p JOIN "
	                    "(SELECT date(ts) AS d, symbol AS s, count(*) AS n FROM \"mkt.trades\" "
	                    "GROUP BY 1, 2) g ON json_extract(p.partition, '$.ts_day') = g.d AND "
	                    "json_extract(p.partition, '$.symbol') = g.s "
	                    "WHERE p.record_count - p.position_delete_record_count = g.n"), groups);
	CHECK_EQ_INT(qi(&e, "SELECT sum(record_count) FROM \"mkt.trades$partitions\""), 900);
	CHECK_EQ_INT(qi(&e, "SELECT sum(file_count) FROM \"mkt.trades$partitions\""),
	             qi(&e, "SELECT count(*) FROM \"mkt.trades$files\" WHERE content = 0"));
	CHECK_EQ_INT(qi(&e, "SELECT sum(total_data_file_size_in_bytes) FROM \"mkt.trades$partitions\""),
	             qi(&e, "SELECT sum(file_size_in_bytes) FROM \"mkt.trades$files\" WHERE content = 0"));
	CHECK_EQ_INT(qi(&e, "SELECT sum(position_delete_record_count) FROM \"mkt.trades$partitions\""),
	             e.rows_deleted);
	CHECK_EQ_INT(qi(&e, "SELECT sum(position_delete_file_count) FROM \"mkt.trades$partitions\""),
	             e.delete_files);
	CHECK_EQ_INT(qi(&e, "SELECT sum(equality_delete_file_count) + "
	                    "sum(equality_delete_record_count) FROM \"mkt.trades$partitions\""), 0);
	/* the partitions the delete touched were last updated by it */
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"mkt.trades$partitions\" p JOIN "
	         "\"mkt.trades$snapshots\" s ON s.snapshot_id = p.last_updated_snapshot_id "
	         "WHERE p.position_delete_file_count > 0 AND p.last_updated_snapshot_id = %" PRId64
	         " AND p.last_updated_at = s.committed_at", e.del_snap);
	CHECK_EQ_INT(qi(&e, sql), e.delete_files);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"mkt.trades$partitions\" WHERE "
	         "json_extract(partition, '$.ts_day') = '2024-01-07' AND "
	         "last_updated_snapshot_id = %" PRId64, e.snap[2]);
	CHECK_EQ_INT(qi(&e, sql), NSYMS);
	/* unpartitioned: one row for the whole table */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.plain$partitions\""), 1);
	CHECK_EQ_INT(qi(&e, "SELECT record_count FROM \"mkt.plain$partitions\" "
	                    "WHERE partition = '{}'"), 19);
	close_menv(&e);
}

/* ---- refs ---------------------------------------------------------------------- */

TEST(sql_meta_refs_list_branches_and_tags)
{
	menv e;
	open_menv(&e);
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"mkt.trades$refs\" WHERE name = 'main' AND "
	         "type = 'BRANCH' AND snapshot_id = %" PRId64, e.del_snap);
	CHECK_EQ_INT(qi(&e, sql), 1);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"mkt.trades$refs\" WHERE name = 'v1' AND "
	         "type = 'TAG' AND snapshot_id = %" PRId64 " AND max_reference_age_in_ms IS NULL AND "
	         "min_snapshots_to_keep IS NULL AND max_snapshot_age_in_ms IS NULL", e.snap[1]);
	CHECK_EQ_INT(qi(&e, sql), 1);
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$refs\""), 2);
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.forked$refs\" WHERE name = 'exp' AND "
	                    "type = 'BRANCH' AND snapshot_id = 2 AND "
	                    "max_reference_age_in_ms = 86400000 AND min_snapshots_to_keep = 5 AND "
	                    "max_snapshot_age_in_ms = 3600000"), 1);
	CHECK_EQ_INT(qi(&e, "SELECT snapshot_id FROM \"mkt.forked$refs\" WHERE name = 'main'"), 3);
	close_menv(&e);
}

/* ---- time travel ---------------------------------------------------------------- */

TEST(sql_meta_as_of_snapshot_tag_and_time)
{
	menv e;
	open_menv(&e);
	floe_error err;
	floe_table *t;
	REQUIRE_OK(floe_table_open(&t, e.cat, "mkt.trades", &err), &err);
	static flist l;
	floe_snapshot_sel sel = { .kind = FLOE_SNAPSHOT_REF, .ref = "v1" };
	REQUIRE_OK(floe_table_files(t, &sel, collect_file, &l, &err), &err);
	REQUIRE(l.n > 0);
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$files\" WHERE _as_of = 'v1'"), l.n);
	CHECK_EQ_INT(qi(&e, "SELECT sum(record_count) FROM \"mkt.trades$files\" WHERE _as_of = 'v1'"),
	             600);
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"mkt.trades$files\" WHERE _as_of = %" PRId64,
	         e.snap[1]);
	CHECK_EQ_INT(qi(&e, sql), l.n);
	for (int i = 0; i < l.n; i++) {
		char *q = sqlite3_mprintf("SELECT count(*) FROM \"mkt.trades$files\" WHERE _as_of = "
		                          "'v1' AND file_path = %Q", l.path[i]);
		CHECK_EQ_INT(qi(&e, q), 1);
		sqlite3_free(q);
	}
	/* a time: the snapshot current then (the first append) */
	char when[48];
	sq_format_timestamp_us(when, e.snap_ms[0] * 1000);
	snprintf(sql, sizeof sql, "SELECT sum(record_count) FROM \"mkt.trades$partitions\" "
	         "WHERE _as_of = '%s'", when);
	CHECK_EQ_INT(qi(&e, sql), 300);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"mkt.trades$manifests\" WHERE _as_of = '%s'",
	         when);
	CHECK_EQ_INT(qi(&e, sql), 1);
	/* current without _as_of; _as_of from a join */
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$manifests\""), 4);
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$refs\" r JOIN "
	                    "\"mkt.trades$manifests\" m ON m._as_of = r.name WHERE r.name = 'v1'"), 2);
	/* what is not there */
	const char *msg = q_error(&e, "SELECT * FROM \"mkt.trades$files\" WHERE _as_of = 'nope'");
	CHECK(strstr(msg, "mkt.trades$files") != NULL);
	CHECK(strstr(msg, "no tag or branch 'nope'") != NULL);
	msg = q_error(&e, "SELECT * FROM \"mkt.trades$files\" WHERE _as_of = 12345");
	CHECK(strstr(msg, "has no snapshot 12345") != NULL);
	floe_table_close(t);
	close_menv(&e);
}

/* ---- errors ---------------------------------------------------------------------- */

TEST(sql_meta_dropped_table_and_missing_files_are_clear_errors)
{
	menv e;
	open_menv(&e);
	floe_error err;
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.trades$snapshots\""), 4);
	REQUIRE_OK(floe_table_drop(e.cat, "mkt.trades", false, &err), &err);
	for (int k = 0; sq_meta_kinds[k]; k++) {
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT * FROM \"mkt.trades$%s\"", sq_meta_kinds[k]);
		const char *msg = q_error(&e, sql);
		if (!strstr(msg, "no table mkt.trades in the catalog") ||
		    !strstr(msg, "floe_sql_refresh"))
			th_fail(__FILE__, __LINE__, "%s: '%s'", sql, msg);
	}
	/* after a refresh the metadata tables are gone with the table */
	REQUIRE_OK(floe_sql_refresh(e.s, &err), &err);
	CHECK(strstr(q_error(&e, "SELECT * FROM \"mkt.trades$refs\""), "no such table") != NULL);
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.plain$snapshots\""), 3);
	/* metadata that names a missing manifest list: the error says which
	 * table and which file; the snapshot listing still works */
	const char *msg = q_error(&e, "SELECT * FROM \"mkt.forked$files\"");
	CHECK(strncmp(msg, "mkt.forked$files: ", 18) == 0);
	CHECK(strstr(msg, "snap-3.avro") != NULL);
	CHECK_EQ_INT(qi(&e, "SELECT count(*) FROM \"mkt.forked$snapshots\""), 3);
	close_menv(&e);
}
