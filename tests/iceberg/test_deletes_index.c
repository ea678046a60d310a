/* tests/iceberg/test_deletes_index.c - the read-time index of delete files
 * (iceberg/deletes.h) driven directly: an equality delete file loads only
 * the keys within the bounds of the data files planned for it, a data file
 * asked about outside those bounds gets every key (the set loads again),
 * and a planned file without bounds turns the filter off. The entries are
 * built by hand; the delete file is a real Parquet file. Also the Bloom
 * filter over key hashes that sets and MERGE probe first. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/catalog.h"
#include "floe/floe.h"
#include "floe/parquet.h"
#include "floe/table.h"
#include "harness.h"
#include "iceberg/deletes.h"
#include "iceberg/manifest.h"
#include "iceberg/table_int.h"

/* The delete keys on `note` (field id 2), a NULL among them. */
static const char *const del_notes[] = { "a10", "a20", "z10", "z20", NULL };
#define NDEL 5

typedef struct fixture {
	floe_catalog *c;
	floe_table *t;
	floe_arena *ar;
	ice_manifest_entry del;
	ice_data_file a, b, nobounds; /* notes a00..a99, z00..z99, no bounds */
	ice_column_metrics ma, mb;
} fixture;

static int write_delete_file(const char *local, floe_arena *ar, floe_error *err)
{
	floe_schema *s;
	int rc = floe_schema_parse(&s, "note string", ar, err);
	if (rc)
		return rc;
	s->fields[0].field_id = 2;
	floe_batch_builder *b = NULL;
	floe_parquet_writer *w = NULL;
	rc = floe_batch_builder_new(&b, s, err);
	for (int i = 0; !rc && i < NDEL; i++)
		rc = del_notes[i] ? floe_batch_builder_bytes(b, 0, del_notes[i], 3, err)
		                  : floe_batch_builder_null(b, 0, err);
	if (!rc)
		rc = floe_parquet_writer_open(&w, local, s, NULL, err);
	if (!rc)
		rc = floe_parquet_writer_write(w, floe_batch_builder_view(b), err);
	if (!rc) {
		rc = floe_parquet_writer_close(w, NULL, err);
		w = NULL;
	}
	floe_parquet_writer_abort(w);
	floe_batch_builder_free(b);
	return rc;
}

static void data_file(ice_data_file *f, const char *path, ice_column_metrics *m, const char *lo,
                      const char *hi)
{
	memset(f, 0, sizeof *f);
	f->content = ICE_CONTENT_DATA;
	f->file_path = path;
	f->file_format = "PARQUET";
	f->record_count = 100;
	if (m) {
		memset(m, 0, sizeof *m);
		m->field_id = 2;
		m->value_count = m->null_count = m->nan_count = m->column_size = -1;
		m->lower = (const uint8_t *)lo;
		m->lower_len = strlen(lo);
		m->upper = (const uint8_t *)hi;
		m->upper_len = strlen(hi);
		f->metrics = m;
		f->nmetrics = 1;
	}
}

static void fixture_open(fixture *x, const char *name)
{
	floe_error err;
	memset(x, 0, sizeof *x);
	x->ar = floe_arena_new(0);
	if (floe_catalog_open(&x->c, th_path("wh"), NULL, &err))
		th_fail(__FILE__, __LINE__, "catalog: %s", err.msg);
	floe_table_create_options co;
	memset(&co, 0, sizeof co);
	co.schema = "id long not null, note string";
	if (floe_table_create(&x->t, x->c, name, &co, &err))
		th_fail(__FILE__, __LINE__, "create: %s", err.msg);
	char path[4096], local[4096];
	snprintf(path, sizeof path, "%s/del-note.parquet", floe_table_location(x->t));
	if (!ice_table_local_path(x->t, path, local, sizeof local) ||
	    write_delete_file(local, x->ar, &err))
		th_fail(__FILE__, __LINE__, "delete file: %s", err.msg);
	ice_data_file *d = &x->del.file;
	x->del.status = ICE_STATUS_ADDED;
	x->del.sequence_number = x->del.file_sequence_number = 5;
	d->content = ICE_CONTENT_EQUALITY_DELETES;
	d->file_path = floe_arena_strdup(x->ar, path);
	d->file_format = "PARQUET";
	d->record_count = NDEL;
	static int32_t note_id[1] = { 2 };
	d->equality_ids = note_id;
	d->nequality_ids = 1;
	data_file(&x->a, "a.parquet", &x->ma, "a00", "a99");
	data_file(&x->b, "b.parquet", &x->mb, "z00", "z99");
	data_file(&x->nobounds, "n.parquet", NULL, NULL, NULL);
}

static void fixture_close(fixture *x)
{
	floe_table_close(x->t);
	floe_catalog_close(x->c);
	floe_arena_free(x->ar);
}

/* An index holding the delete file. */
static ice_deletes *index_of(fixture *x)
{
	floe_error err;
	ice_deletes *d = NULL;
	if (ice_deletes_new(&d, x->t, &err) ||
	    ice_deletes_add(d, &x->del, ice_metadata_spec(x->t->meta, 0), &err))
		th_fail(__FILE__, __LINE__, "index: %s", err.msg);
	return d;
}

/* Rows of data file f (sequence number 1) with these notes (NULL = a NULL
 * note) that the index deletes, or -1. */
static int64_t deleted(fixture *x, ice_deletes *d, const ice_data_file *f,
                       const char *const *notes, int n)
{
	floe_error err;
	const floe_schema *s = floe_table_schema(x->t);
	ice_file_deletes fd;
	if (ice_deletes_for_file(d, f, 1, ice_metadata_spec(x->t->meta, 0), s, &fd, &err)) {
		th_fail(__FILE__, __LINE__, "deletes for %s: %s", f->file_path, err.msg);
		return -1;
	}
	floe_batch_builder *b = NULL;
	if (floe_batch_builder_new(&b, s, &err))
		return -1;
	for (int i = 0; i < n; i++) {
		floe_batch_builder_i64(b, 0, i, &err);
		if (notes[i])
			floe_batch_builder_bytes(b, 1, notes[i], (int64_t)strlen(notes[i]), &err);
		else
			floe_batch_builder_null(b, 1, &err);
	}
	uint8_t keep[16];
	memset(keep, 1, sizeof keep);
	int64_t nd = 0;
	int rc = ice_deletes_apply(&fd, floe_batch_builder_view(b), 0, keep, &nd, &err);
	floe_batch_builder_free(b);
	return rc ? -1 : nd;
}

static const char *const a_rows[] = { "a10", "a11", "a20", NULL };
static const char *const z_rows[] = { "z10", "z11", "z20" };

/* Planned for A alone, the set holds A's keys and the NULL; B, asked about
 * without being planned, lies outside: the set loads again, every key, and
 * both files lose the right rows. */
TEST(deletes_index_loads_keys_within_the_planned_bounds)
{
	fixture x;
	fixture_open(&x, "db.idx1");
	ice_deletes *d = index_of(&x);
	ice_deletes_plan(d, &x.a, 1);
	CHECK_EQ_INT(deleted(&x, d, &x.a, a_rows, 4), 3); /* a10, a20, NULL */
	CHECK_EQ_INT(ice_deletes_keys(d), 3);
	CHECK_EQ_INT(deleted(&x, d, &x.b, z_rows, 3), 2);
	CHECK_EQ_INT(ice_deletes_keys(d), NDEL);
	CHECK_EQ_INT(deleted(&x, d, &x.a, a_rows, 4), 3);
	ice_deletes_free(d);
	fixture_close(&x);
}

/* Planned for A and B, the union of their bounds holds every key; asked
 * about B first, a set planned for A alone loads them all before use. */
TEST(deletes_index_unions_bounds_and_widens_before_loading)
{
	fixture x;
	fixture_open(&x, "db.idx2");
	ice_deletes *d = index_of(&x);
	ice_deletes_plan(d, &x.a, 1);
	ice_deletes_plan(d, &x.b, 1);
	CHECK_EQ_INT(deleted(&x, d, &x.b, z_rows, 3), 2);
	CHECK_EQ_INT(ice_deletes_keys(d), NDEL);
	ice_deletes_free(d);
	d = index_of(&x);
	ice_deletes_plan(d, &x.a, 1);
	CHECK_EQ_INT(deleted(&x, d, &x.b, z_rows, 3), 2);
	CHECK_EQ_INT(ice_deletes_keys(d), NDEL);
	CHECK_EQ_INT(deleted(&x, d, &x.a, a_rows, 4), 3);
	ice_deletes_free(d);
	fixture_close(&x);
}

/* A planned file without bounds on the key turns the filter off; a file
 * of a later sequence number (the delete does not apply) adds nothing. */
TEST(deletes_index_without_bounds_loads_every_key)
{
	fixture x;
	fixture_open(&x, "db.idx3");
	ice_deletes *d = index_of(&x);
	ice_deletes_plan(d, &x.a, 1);
	ice_deletes_plan(d, &x.nobounds, 1);
	CHECK_EQ_INT(deleted(&x, d, &x.a, a_rows, 4), 3);
	CHECK_EQ_INT(ice_deletes_keys(d), NDEL);
	ice_deletes_free(d);
	d = index_of(&x);
	ice_deletes_plan(d, &x.a, 1);
	ice_deletes_plan(d, &x.b, 5); /* not older than the delete file */
	CHECK_EQ_INT(deleted(&x, d, &x.a, a_rows, 4), 3);
	CHECK_EQ_INT(ice_deletes_keys(d), 3);
	ice_deletes_free(d);
	fixture_close(&x);
}

/* The key filter: every key added passes; of keys never added (trade-id
 * like strings, hashed as the sets hash them) few do, at the bits a key
 * it is sized for. */
TEST(deletes_key_filter_passes_every_key_and_few_others)
{
	enum { NKEYS = 100000, NPROBES = 400000 };
	floe_arena *ar = floe_arena_new(0);
	floe_schema *s;
	floe_error err;
	REQUIRE_OK(floe_schema_parse(&s, "k string", ar, &err), &err);
	floe_batch_builder *b = NULL;
	REQUIRE_OK(floe_batch_builder_new(&b, s, &err), &err);
	char text[32];
	for (int i = 0; i < NKEYS + NPROBES; i++) {
		int n = snprintf(text, sizeof text, "T%012d", i * 7 + 3);
		REQUIRE_OK(floe_batch_builder_bytes(b, 0, text, n, &err), &err);
	}
	const floe_batch *v = floe_batch_builder_view(b);
	const floe_column *cols[1] = { &v->cols[0] };
	floe_buf keys = FLOE_BUF_INIT;
	size_t *koff = malloc((size_t)(NKEYS + NPROBES + 1) * sizeof *koff);
	uint64_t *hs = malloc((size_t)(NKEYS + NPROBES) * sizeof *hs);
	REQUIRE(koff && hs);
	REQUIRE(ice_keys_of(&keys, koff, hs, cols, 1, 0, NKEYS + NPROBES) == 0);
	ice_keyfilter f;
	REQUIRE(ice_keyfilter_init(&f, NKEYS) == 0);
	for (int i = 0; i < NKEYS; i++)
		ice_keyfilter_add(&f, hs[i]);
	int missed = 0, passed = 0;
	for (int i = 0; i < NKEYS; i++)
		missed += !ice_keyfilter_maybe(&f, hs[i]);
	for (int i = NKEYS; i < NKEYS + NPROBES; i++)
		passed += ice_keyfilter_maybe(&f, hs[i]);
	CHECK_EQ_INT(missed, 0);
	/* two bits of a word, 8 to 16 bits a key: about 2-5% pass */
	CHECK(passed < NPROBES / 12);
	ice_keyfilter f0 = { NULL, 0 };
	CHECK(ice_keyfilter_maybe(&f0, hs[NKEYS])); /* no filter: all may be */
	ice_keyfilter_free(&f);
	free(koff);
	free(hs);
	floe_buf_free(&keys);
	floe_batch_builder_free(b);
	floe_arena_free(ar);
}
