/* fuzz/targets_sql.h - body of the SQL fuzz target, shared by
 * fuzz/fuzz_sql_rewrite.c and tests/sql/test_fuzz_regressions_sql.c: the
 * bytes as SQL statements given to floe_sql_prepare (which reads them for
 * aggregations floe computes itself, src/sql/rewrite.c) over a small floe
 * table, each prepared statement stepped to its end under a bound on
 * SQLite's VM steps. SQL errors are fine; a crash, a sanitizer report or a
 * rewrite that claims more text than it was given is not. */
#ifndef FLOE_FUZZ_TARGETS_SQL_H
#define FLOE_FUZZ_TARGETS_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floe/floe.h"
#include "sql/sql_int.h"

typedef struct fts_env {
	char dir[64];
	floe_catalog *cat;
	floe_sql *s;
	int uses;
} fts_env;

static int fts_progress(void *ctx)
{
	int *left = ctx;
	return --*left <= 0; /* nonzero interrupts the statement */
}

/* A warehouse with m.t (NULLs, NaN, -0.0, extreme integers) in a fresh
 * directory under `base`; 0 or -1. */
static inline int fts_open(fts_env *e, const char *base)
{
	floe_error err;
	memset(e, 0, sizeof *e);
	snprintf(e->dir, sizeof e->dir, "%s/fts-XXXXXX", base);
	if (!mkdtemp(e->dir) || floe_catalog_open(&e->cat, e->dir, NULL, &err))
		return -1;
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, sym string, px double, qty int, ts timestamptz, d date";
	co.partition = "day(ts)";
	floe_table *t;
	if (floe_table_create(&t, e->cat, "m.t", &co, &err))
		return -1;
	/* the builder's own schema: the table's goes with the metadata the
	 * commit replaces */
	floe_arena *ar = floe_arena_new(0);
	floe_schema *sc;
	floe_batch_builder *b;
	if (!ar || floe_schema_parse(&sc, co.schema, ar, &err) ||
	    floe_batch_builder_new(&b, sc, &err)) {
		floe_arena_free(ar);
		floe_table_close(t);
		return -1;
	}
	static const double px[4] = { 1.5, -0.0, 0.0, 1e300 };
	int rc = 0;
	for (int i = 0; i < 24 && !rc; i++) {
		rc = floe_batch_builder_i64(b, 0, i == 5 ? INT64_MIN : i == 6 ? INT64_MAX : i, &err);
		rc = rc || (i % 5 == 0 ? floe_batch_builder_null(b, 1, &err)
		                       : floe_batch_builder_bytes(b, 1, i % 2 ? "a" : "B'\"", i % 2 ? 1 : 3,
		                                                  &err));
		rc = rc || (i % 7 == 0 ? floe_batch_builder_f64(b, 2, 0.0 / 0.0, &err)
		                       : floe_batch_builder_f64(b, 2, px[i % 4] * i, &err));
		rc = rc || (i % 3 == 0 ? floe_batch_builder_null(b, 3, &err)
		                       : floe_batch_builder_i32(b, 3, i % 2 ? INT32_MAX : -i, &err));
		rc = rc || floe_batch_builder_i64(b, 4, INT64_C(1793491200000000) +
		                                  (int64_t)i * 3600 * 1000000 * 5, &err);
		rc = rc || floe_batch_builder_i32(b, 5, 20000 + i, &err);
	}
	floe_append *a = NULL;
	rc = rc || floe_append_begin(&a, t, &err) ||
	     floe_append_batch(a, floe_batch_builder_view(b), &err) ||
	     floe_append_commit(a, NULL, &err);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
	floe_table_close(t);
	if (rc)
		return -1;
	floe_sql_options o;
	floe_sql_options_init(&o);
	o.group_bytes = 1 << 16;
	return floe_sql_open(&e->s, e->cat, &o, &err) ? -1 : 0;
}

static inline void fts_close(fts_env *e)
{
	floe_sql_close(e->s);
	floe_catalog_close(e->cat);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", e->dir);
}

/* Run the bytes; returns a description of a broken invariant, or NULL. */
static inline const char *fts_sql(fts_env *e, const uint8_t *data, size_t size)
{
	if (size > 4096)
		return NULL;
	char *text = malloc(size + 1);
	if (!text)
		return NULL;
	memcpy(text, data, size);
	text[size] = 0;
	const char *bug = NULL;
	char *out = NULL;
	int used = 0;
	if (sq_rewrite(e->s, text, (int)size, &out, &used) == 0 && out &&
	    (used < 0 || (size_t)used > size))
		bug = "the rewrite claims more text than it was given";
	sqlite3_free(out);
	sqlite3 *db = floe_sql_db(e->s);
	const char *p = text;
	for (int k = 0; k < 8 && *p && !bug; k++) {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		int rc = floe_sql_prepare(e->s, p, -1, &st, &tail);
		if (st) {
			int left = 200;
			sqlite3_progress_handler(db, 1000, fts_progress, &left);
			int steps = 0;
			while (sqlite3_step(st) == SQLITE_ROW && ++steps < 10000)
				for (int c = 0; c < sqlite3_column_count(st); c++)
					(void)sqlite3_column_text(st, c);
			sqlite3_progress_handler(db, 0, NULL, NULL);
			sqlite3_finalize(st);
		}
		if (tail && (tail < p || tail > text + size))
			bug = "prepare's tail is outside the text";
		if (rc != SQLITE_OK || !tail || tail == p)
			break;
		p = tail;
	}
	/* a transaction the input left open would make the next input's
	 * statements part of it */
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	free(text);
	return bug;
}

#endif
