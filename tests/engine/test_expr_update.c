/* tests/engine/test_expr_update.c - UPDATE SET col = expression
 * (floe_expr_update) in copy-on-write and merge-on-read modes, checked
 * against a model of every row: arithmetic over other columns with the
 * cast to the column's type, assignments that read old values (a swap),
 * a time shift that moves rows across day partitions, NULL, commas inside
 * calls and quoted names; a failing expression commits nothing; and the
 * errors of bad assignments. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/catalog.h"
#include "floe/expr.h"
#include "floe/floe.h"
#include "floe/table.h"
#include "harness.h"

#define N 600
#define T0 1704067200000000LL /* 2024-01-01T00:00:00Z */
#define MIN_US 60000000LL

typedef struct row {
	bool present, v_null;
	int32_t v;
	double price;
	int64_t ts;
	char tag[32];
} row;

static void fill(floe_table *t)
{
	floe_error err;
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	REQUIRE_OK(floe_schema_parse(&s, "id long not null, v int, price double, ts timestamptz, "
	                                 "tag string", ar, &err), &err);
	floe_batch_builder *b;
	REQUIRE_OK(floe_batch_builder_new(&b, s, &err), &err);
	for (int64_t id = 0; id < N; id++) {
		char tag[4] = { 't', (char)('a' + id % 3), 0, 0 };
		REQUIRE_OK(floe_batch_builder_i64(b, 0, id, &err), &err);
		REQUIRE_OK(floe_batch_builder_i32(b, 1, (int32_t)(id % 100), &err), &err);
		REQUIRE_OK(floe_batch_builder_f64(b, 2, (double)id * 0.25, &err), &err);
		REQUIRE_OK(floe_batch_builder_i64(b, 3, T0 + id * 7 * MIN_US, &err), &err);
		REQUIRE_OK(floe_batch_builder_bytes(b, 4, tag, 2, &err), &err);
	}
	floe_append *a;
	REQUIRE_OK(floe_append_begin(&a, t, &err), &err);
	REQUIRE_OK(floe_append_batch(a, floe_batch_builder_view(b), &err), &err);
	REQUIRE_OK(floe_append_commit(a, NULL, &err), &err);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
}

/* A day(ts) table `name` in the test's warehouse with the N rows of fill(). */
static floe_table *make_table(floe_catalog **c, const char *name, const char *mode)
{
	floe_error err;
	if (floe_catalog_open(c, th_path("wh"), NULL, &err) != 0) {
		th_fail(__FILE__, __LINE__, "catalog: %s", err.msg);
		exit(1);
	}
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, v int, price double, ts timestamptz, tag string";
	co.partition = "day(ts)";
	char p1[64];
	snprintf(p1, sizeof p1, "write.update.mode=%s", mode);
	const char *props[1] = { p1 };
	co.properties = props;
	co.nproperties = 1;
	floe_table *t = NULL;
	if (floe_table_create(&t, *c, name, &co, &err) != 0) {
		th_fail(__FILE__, __LINE__, "create %s: %s", name, err.msg);
		exit(1);
	}
	fill(t);
	return t;
}

static void model_init(row *m)
{
	for (int id = 0; id < N; id++) {
		m[id].present = true;
		m[id].v_null = false;
		m[id].v = id % 100;
		m[id].price = id * 0.25;
		m[id].ts = T0 + (int64_t)id * 7 * MIN_US;
		snprintf(m[id].tag, sizeof m[id].tag, "t%c", 'a' + id % 3);
	}
}

/* The table's rows equal the model's. */
static void check_model(floe_table *t, const row *m, int line)
{
	floe_error err;
	floe_scan_options o;
	floe_scan_options_init(&o);
	floe_scan *s;
	REQUIRE_OK(floe_scan_open(&s, t, &o, &err), &err);
	static row got[N];
	memset(got, 0, sizeof got);
	const floe_batch *b;
	int rc, bad = 0;
	while ((rc = floe_scan_next(s, &b, &err)) == 1)
		for (int64_t r = 0; r < b->nrows; r++) {
			int64_t id = ((const int64_t *)b->cols[0].values)[r];
			if (id < 0 || id >= N || got[id].present) {
				bad++;
				continue;
			}
			row *g = &got[id];
			g->present = true;
			g->v_null = !floe_column_is_valid(&b->cols[1], r);
			g->v = g->v_null ? 0 : ((const int32_t *)b->cols[1].values)[r];
			g->price = ((const double *)b->cols[2].values)[r];
			g->ts = ((const int64_t *)b->cols[3].values)[r];
			int64_t o0 = b->cols[4].offsets[r], o1 = b->cols[4].offsets[r + 1];
			snprintf(g->tag, sizeof g->tag, "%.*s", (int)(o1 - o0),
			         (const char *)b->cols[4].data + o0);
		}
	floe_scan_free(s);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(bad, 0);
	int diffs = 0;
	for (int id = 0; id < N; id++) {
		const row *w = &m[id], *g = &got[id];
		bool same = w->present == g->present &&
		            (!w->present || (w->v_null == g->v_null && (w->v_null || w->v == g->v) &&
		                             w->price == g->price && w->ts == g->ts &&
		                             strcmp(w->tag, g->tag) == 0));
		if (!same && diffs++ < 3)
			th_fail(__FILE__, line, "id %d: got v=%d%s price=%g ts=%" PRId64 " tag=%s, want "
			        "v=%d%s price=%g ts=%" PRId64 " tag=%s", id, g->v, g->v_null ? "(null)" : "",
			        g->price, g->ts, g->tag, w->v, w->v_null ? "(null)" : "", w->price, w->ts,
			        w->tag);
	}
}

static int64_t current_snapshot(floe_table *t)
{
	floe_error err;
	floe_update_result r;
	/* an update that matches nothing reports the current snapshot */
	if (floe_expr_update(t, "v = v", "id < 0", &r, &err) != 0) {
		th_fail(__FILE__, __LINE__, "empty update: %s", err.msg);
		return -2;
	}
	return r.snapshot_id;
}

static void run_mode(const char *mode)
{
	floe_catalog *c = NULL;
	floe_error err;
	floe_table *t = make_table(&c, mode[0] == 'c' ? "db.ec" : "db.em", mode);
	static row m[N];
	model_init(m);
	floe_update_result r;

	/* arithmetic: a long result cast back to int; strings built from other columns */
	REQUIRE_OK(floe_expr_update(t, "v = v * 2 + 1, tag = upper(tag) || '-' || CAST(id AS string)",
	                            "id < 300", &r, &err), &err);
	CHECK_EQ_INT(r.rows_updated, 300);
	CHECK(r.merge_on_read == (mode[0] == 'm'));
	for (int id = 0; id < 300; id++) {
		m[id].v = m[id].v * 2 + 1;
		char up[32];
		snprintf(up, sizeof up, "T%c-%d", 'A' + id % 3, id);
		snprintf(m[id].tag, sizeof m[id].tag, "%s", up);
	}
	check_model(t, m, __LINE__);

	/* every assignment reads the old row: a swap, with the casts */
	REQUIRE_OK(floe_expr_update(t, "v = price, price = v", "id >= 100 and id < 140", &r, &err), &err);
	CHECK_EQ_INT(r.rows_updated, 40);
	for (int id = 100; id < 140; id++) {
		double p = m[id].price;
		m[id].price = m[id].v;
		m[id].v = (int32_t)nearbyint(p); /* doubles to integers: nearest, ties to even */
	}
	check_model(t, m, __LINE__);

	/* a time shift moves rows into other day partitions */
	char in[256] = "id in (7";
	for (int id = 57; id < N; id += 50)
		snprintf(in + strlen(in), sizeof in - strlen(in), ", %d", id);
	strcat(in, ")");
	REQUIRE_OK(floe_expr_update(t, "ts = ts + INTERVAL '20 hours'", in, &r, &err), &err);
	CHECK_EQ_INT(r.rows_updated, N / 50);
	for (int id = 7; id < N; id += 50)
		m[id].ts += 20 * 60 * MIN_US;
	check_model(t, m, __LINE__);

	/* NULL, a comma inside a call, a quoted name, text cast to a time */
	REQUIRE_OK(floe_expr_update(t, "v = NULL, tag = coalesce(NULL, 'a,b'), \"price\" = 0.5, "
	                               "ts = '2024-01-05T10:00:00+02:00'", "id = 5", &r, &err), &err);
	CHECK_EQ_INT(r.rows_updated, 1);
	m[5].v_null = true;
	snprintf(m[5].tag, sizeof m[5].tag, "a,b");
	m[5].price = 0.5;
	m[5].ts = T0 + 4 * 86400000000LL + 8 * 60 * MIN_US;
	check_model(t, m, __LINE__);

	/* a value that cannot be cast fails the update, naming the column
	 * and the value; nothing is committed */
	int64_t before = current_snapshot(t);
	int rc = floe_expr_update(t, "v = v + 1, price = CAST(tag AS double)", "id >= 0", &r, &err);
	CHECK(rc == FLOE_EINVALID);
	CHECK(strstr(err.msg, "--set price (double)") != NULL);
	CHECK(strstr(err.msg, "cannot cast") != NULL);
	CHECK(strstr(err.msg, "row ") == NULL);
	CHECK_EQ_INT(current_snapshot(t), before);
	/* so is an int overflow of the cast */
	rc = floe_expr_update(t, "v = id * 10000000", "id >= 300", &r, &err);
	CHECK(rc == FLOE_EINVALID);
	CHECK_EQ_INT(current_snapshot(t), before);
	check_model(t, m, __LINE__);

	floe_table_close(t);
	floe_catalog_close(c);
}

TEST(expr_update_copy_on_write_matches_model)
{
	run_mode("copy-on-write");
}

TEST(expr_update_merge_on_read_matches_model)
{
	run_mode("merge-on-read");
}

TEST(expr_update_bad_assignments)
{
	floe_catalog *c = NULL;
	floe_error err;
	floe_table *t = make_table(&c, "db.bad", "copy-on-write");
	static const struct {
		const char *set, *want;
		int code;
	} bad[] = {
		{ "", "nothing to set", FLOE_EINVALID },
		{ " , ", "nothing to set", FLOE_EINVALID },
		{ "nosuch = 1", "no column 'nosuch'", FLOE_ENOTFOUND },
		{ "v = 1, V = 2", "set twice", FLOE_EINVALID },
		{ "id = NULL", "'id' is not null", FLOE_EINVALID },
		{ "v > 1", "COLUMN = VALUE", FLOE_EINVALID },
		{ "v == 1", "COLUMN = VALUE", FLOE_EINVALID },
		{ "v =", "no value", FLOE_EINVALID },
		{ "v = nosuch + 1", "--set v (int)", FLOE_ENOTFOUND },
		{ "v = (1 +", "--set v (int)", FLOE_EINVALID },
		{ "ts = ts + 1", "--set ts (timestamptz)", FLOE_EINVALID },
		{ "\"v = 1", "unterminated", FLOE_EINVALID },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = floe_expr_update(t, bad[i].set, "id = 1", NULL, &err);
		if (rc != bad[i].code || !strstr(err.msg, bad[i].want))
			th_fail(__FILE__, __LINE__, "set '%s': rc %d: %s", bad[i].set, rc, err.msg);
	}
	floe_table_close(t);
	floe_catalog_close(c);
}

/* A column the language cannot produce (uuid) makes the SET take literals,
 * as floe_table_update does */
TEST(expr_update_uuid_column_takes_literals)
{
	floe_catalog *c = NULL;
	floe_error err;
	REQUIRE_OK(floe_catalog_open(&c, th_path("wh"), NULL, &err), &err);
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, u uuid, v int";
	floe_table *t;
	REQUIRE_OK(floe_table_create(&t, c, "db.uu", &co, &err), &err);
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	REQUIRE_OK(floe_schema_parse(&s, "id long not null, u uuid, v int", ar, &err), &err);
	floe_batch_builder *b;
	REQUIRE_OK(floe_batch_builder_new(&b, s, &err), &err);
	for (int id = 0; id < 3; id++) {
		uint8_t u[16] = { 0 };
		u[15] = (uint8_t)id;
		REQUIRE_OK(floe_batch_builder_i64(b, 0, id, &err), &err);
		REQUIRE_OK(floe_batch_builder_bytes(b, 1, u, 16, &err), &err);
		REQUIRE_OK(floe_batch_builder_i32(b, 2, id, &err), &err);
	}
	floe_append *a;
	REQUIRE_OK(floe_append_begin(&a, t, &err), &err);
	REQUIRE_OK(floe_append_batch(a, floe_batch_builder_view(b), &err), &err);
	REQUIRE_OK(floe_append_commit(a, NULL, &err), &err);
	floe_batch_builder_free(b);
	floe_update_result r;
	REQUIRE_OK(floe_expr_update(t, "u = '00000000-0000-0000-0000-0000000000ff', v = 7", "id = 1",
	                            &r, &err), &err);
	CHECK_EQ_INT(r.rows_updated, 1);
	floe_scan_options o;
	floe_scan_options_init(&o);
	o.where = "u = '00000000-0000-0000-0000-0000000000ff' and v = 7 and id = 1";
	floe_scan *sc;
	REQUIRE_OK(floe_scan_open(&sc, t, &o, &err), &err);
	const floe_batch *bb;
	int64_t n = 0;
	while (floe_scan_next(sc, &bb, &err) == 1)
		n += bb->nrows;
	floe_scan_free(sc);
	CHECK_EQ_INT(n, 1);
	/* an expression next to it is refused by the literal path */
	CHECK(floe_expr_update(t, "u = '00000000-0000-0000-0000-000000000001', v = v + 1", "id = 2",
	                       &r, &err) == FLOE_EINVALID);
	floe_arena_free(ar);
	floe_table_close(t);
	floe_catalog_close(c);
}
