/* iceberg/table_merge.c - MERGE (upsert by key): source rows keyed by the
 * `on` columns (duplicates an error unless a precombine column picks the
 * winner, as Hudi's precombine field does), then when matched update (the
 * source row replaces the target row), when matched and the delete
 * condition holds delete, when not matched insert. With precombine_table a
 * source row older than the table's row of its key is left out. copy-on-
 * write rewrites only the data files that hold a matching key (files
 * skipped by the key columns' bounds first); merge-on-read is a blind
 * upsert: one global equality delete file of the source keys plus the new
 * rows, without reading the table (but for the older rows of
 * precombine_table). One commit either way (iceberg/rowdelta.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iceberg/deletes.h"
#include "iceberg/rowdelta.h"
#include "iceberg/value.h"
#include "floe/parquet.h"

#define MERGE_MAX_KEYS 16
#define MERGE_CHUNK 32   /* source keys hashed and prefetched together */

/* One distinct source key and the row that carries it. */
typedef struct src_key {
	uint64_t hash;
	size_t off, len;         /* key bytes in m->keys */
	uint32_t batch, row;
	bool matched;            /* a target row has this key */
	bool noop;               /* copy-on-write: its one target row equals it */
	bool stale;              /* precombine_table: a target row with its key
	                            has a larger precombine value */
	uint32_t hits;           /* target rows with this key (up to 2) */
} src_key;

struct floe_merge {
	floe_table *t;
	ice_meta_ref *mref;
	ice_rowdelta d;
	floe_append *ins;        /* new rows (and copy-on-write rewrites) */
	floe_arena *src_arena;   /* source rows, table-shaped */
	floe_schema *fs;         /* the table's flat schema */
	int nkeys;
	int kcol[MERGE_MAX_KEYS];
	int pcol;                /* precombine column or -1 */
	bool pcol_table;         /* the precombine value also decides against
	                            the table's row (floe_merge_options) */
	ice_expr *del_expr;
	floe_batch *src;
	size_t nsrc, capsrc;
	floe_buf keys;
	src_key *ents;
	size_t nents, capents;
	uint64_t *slots;         /* hash table of ents: the hash's high 32 bits
	                            above index + 1 (0 = empty) */
	size_t nslots;
	ice_keyfilter filter;    /* of the ents, once every source row is in */
	floe_buf cbuf;           /* the keys of a chunk of source rows */
	int64_t source_rows;
	/* key bounds of the source, per key column (for file skipping) */
	bool has_bounds;
	floe_value lo[MERGE_MAX_KEYS], hi[MERGE_MAX_KEYS];
	floe_scan *keys_scan;    /* holds the data files the hits point to */
	int64_t bloom_skipped;   /* files a Bloom filter showed hold no key */
	bool bloom_key;          /* the table writes filters on the one key */
};

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

void floe_merge_options_init(floe_merge_options *o)
{
	memset(o, 0, sizeof *o);
}

void floe_merge_abort(floe_merge *m)
{
	if (!m)
		return;
	ice_rowdelta_release(&m->d); /* before the append: source rows use its schema */
	floe_scan_free(m->keys_scan);
	floe_append_abort(m->ins);
	floe_arena_free(m->src_arena);
	floe_buf_free(&m->keys);
	floe_buf_free(&m->cbuf);
	free(m->ents);
	free(m->slots);
	ice_keyfilter_free(&m->filter);
	free(m->src);
	ice_meta_ref_drop(m->mref);
	free(m);
}

static int find_column(const floe_schema *fs, const char *name)
{
	int k = floe_schema_find(fs, name);
	for (int i = 0; k < 0 && i < fs->nfields; i++)
		if (strcasecmp(fs->fields[i].name, name) == 0)
			k = i;
	return k;
}

int floe_merge_begin(floe_merge **out, floe_table *t, const floe_merge_options *o,
                     floe_error *err)
{
	*out = NULL;
	if (!o || o->non <= 0 || o->non > MERGE_MAX_KEYS)
		return floe_error_set(err, FLOE_EINVALID, "a merge needs 1 to %d key columns (on)",
		                      MERGE_MAX_KEYS);
	floe_merge *m = calloc(1, sizeof *m);
	if (!m)
		return oom(err);
	m->t = t;
	m->pcol = -1;
	int rc = ice_rowdelta_init(&m->d, t, "merge", err);
	if (rc) {
		floe_merge_abort(m);
		return rc;
	}
	m->mref = ice_meta_ref_take(t->mref);
	const ice_table_metadata *md = m->d.m;
	const char *mode = ice_metadata_property(md, "write.merge.mode");
	if (mode && strcmp(mode, "merge-on-read") != 0 && strcmp(mode, "copy-on-write") != 0) {
		rc = floe_error_set(err, FLOE_EINVALID, "%s: table property write.merge.mode is '%s'; use "
		                    "copy-on-write or merge-on-read", t->ident, mode);
		goto fail;
	}
	m->d.mor = mode && strcmp(mode, "merge-on-read") == 0;
	m->src_arena = floe_arena_new(1 << 20);
	if (!m->src_arena) {
		rc = oom(err);
		goto fail;
	}
	if ((rc = ice_schema_to_floe(&m->fs, ice_metadata_current_schema(md), m->d.arena, err)))
		goto fail;
	m->nkeys = o->non;
	for (int i = 0; i < o->non; i++) {
		int k = find_column(m->fs, o->on[i]);
		if (k < 0) {
			rc = floe_error_set(err, FLOE_ENOTFOUND, "%s has no column '%s' to merge on",
			                    t->ident, o->on[i]);
			goto fail;
		}
		for (int j = 0; j < i; j++)
			if (m->kcol[j] == k) {
				rc = floe_error_set(err, FLOE_EINVALID, "key column '%s' given twice", o->on[i]);
				goto fail;
			}
		const floe_type *ty = &m->fs->fields[k].type;
		if (ty->id == FLOE_TYPE_FLOAT || ty->id == FLOE_TYPE_DOUBLE) {
			rc = floe_error_set(err, FLOE_EINVALID, "key column '%s' is %s; floating-point keys "
			                    "are not allowed (as for Iceberg identifier fields)", o->on[i],
			                    ty->id == FLOE_TYPE_FLOAT ? "float" : "double");
			goto fail;
		}
		m->kcol[i] = k;
	}
	if (o->precombine && *o->precombine && (m->pcol = find_column(m->fs, o->precombine)) < 0) {
		rc = floe_error_set(err, FLOE_ENOTFOUND, "%s has no precombine column '%s'", t->ident,
		                    o->precombine);
		goto fail;
	}
	if (o->precombine_table && m->pcol < 0) {
		rc = floe_error_set(err, FLOE_EINVALID, "precombine against the table needs a "
		                    "precombine column");
		goto fail;
	}
	m->pcol_table = o->precombine_table;
	if (o->delete_when && *o->delete_when) {
		ice_expr *parsed;
		if ((rc = ice_expr_parse(&parsed, o->delete_when, m->d.arena, err)) ||
		    (rc = ice_expr_bind(&m->del_expr, parsed, ice_metadata_current_schema(md), m->d.arena,
		                        err)))
			goto fail;
	}
	if (m->nkeys == 1) {
		char key[512];
		snprintf(key, sizeof key, "write.parquet.bloom-filter-enabled.column.%s",
		         m->fs->fields[m->kcol[0]].name);
		const char *v = ice_metadata_property(md, key);
		m->bloom_key = v && strcasecmp(v, "true") == 0;
	}
	if ((rc = floe_append_begin(&m->ins, t, err)))
		goto fail;
	*out = m;
	return 0;
fail:
	floe_merge_abort(m);
	return rc;
}

/* ---- source rows ------------------------------------------------------------ */

int ice_cell_cmp(const floe_column *a, int64_t ra, const floe_column *b, int64_t rb)
{
	bool va = floe_column_is_valid(a, ra), vb = floe_column_is_valid(b, rb);
	if (!va || !vb)
		return va - vb;
	const floe_type *t = &a->type;
	if (floe_type_is_variable(t)) {
		size_t la = (size_t)(a->offsets[ra + 1] - a->offsets[ra]);
		size_t lb = (size_t)(b->offsets[rb + 1] - b->offsets[rb]);
		size_t k = la < lb ? la : lb;
		int c = k ? memcmp(a->data + a->offsets[ra], b->data + b->offsets[rb], k) : 0;
		return c ? c : (la > lb) - (la < lb);
	}
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN: {
		int x = ((const uint8_t *)a->values)[ra] != 0, y = ((const uint8_t *)b->values)[rb] != 0;
		return x - y;
	}
	case FLOE_TYPE_INT: case FLOE_TYPE_DATE: {
		int32_t x = ((const int32_t *)a->values)[ra], y = ((const int32_t *)b->values)[rb];
		return (x > y) - (x < y);
	}
	case FLOE_TYPE_FLOAT: {
		float x = ((const float *)a->values)[ra], y = ((const float *)b->values)[rb];
		return (x > y) - (x < y);
	}
	case FLOE_TYPE_DOUBLE: {
		double x = ((const double *)a->values)[ra], y = ((const double *)b->values)[rb];
		return (x > y) - (x < y);
	}
	default:
		if (floe_type_value_width(t) == 8) {
			int64_t x = ((const int64_t *)a->values)[ra], y = ((const int64_t *)b->values)[rb];
			return (x > y) - (x < y);
		}
		return memcmp((const uint8_t *)a->values + (size_t)ra * 16,
		              (const uint8_t *)b->values + (size_t)rb * 16, 16);
	}
}

#define SLOT_TAG(h) ((h) & 0xFFFFFFFF00000000ull)

/* A slot's entry only when its tag matches: most probes of a key that is
 * not there never touch ents. */
static src_key *key_find(const floe_merge *m, const uint8_t *k, size_t len, uint64_t h)
{
	if (!m->nslots)
		return NULL;
	for (size_t j = h & (m->nslots - 1);; j = (j + 1) & (m->nslots - 1)) {
		uint64_t v = m->slots[j];
		if (!v)
			return NULL;
		if (SLOT_TAG(v) != SLOT_TAG(h))
			continue;
		src_key *e = &m->ents[(v & 0xFFFFFFFFu) - 1];
		if (e->hash == h && e->len == len && memcmp(m->keys.data + e->off, k, len) == 0)
			return e;
	}
}

/* The source keys of rows [r0, r0 + n) of key columns kc (n at most
 * MERGE_CHUNK) into e[] (NULL where the source has none): the chunk's keys
 * and hashes first, their slots prefetched, then looked up. */
static int chunk_find(floe_merge *m, const floe_column *const *kc, int64_t r0, int64_t n,
                      src_key **e)
{
	size_t koff[MERGE_CHUNK + 1];
	uint64_t hs[MERGE_CHUNK];
	bool maybe[MERGE_CHUNK];
	floe_buf_clear(&m->cbuf);
	if (ice_keys_of(&m->cbuf, koff, hs, kc, m->nkeys, r0, r0 + n))
		return FLOE_ENOMEM;
	for (int64_t j = 0; j < n; j++) {
		maybe[j] = m->nslots && ice_keyfilter_maybe(&m->filter, hs[j]);
		if (maybe[j])
			__builtin_prefetch(&m->slots[hs[j] & (m->nslots - 1)]);
	}
	for (int64_t j = 0; j < n; j++)
		e[j] = maybe[j] ? key_find(m, m->cbuf.data + koff[j], koff[j + 1] - koff[j], hs[j])
		                : NULL;
	return 0;
}

static void slot_put(uint64_t *slots, size_t nslots, uint64_t h, size_t idx)
{
	size_t j = h & (nslots - 1);
	while (slots[j])
		j = (j + 1) & (nslots - 1);
	slots[j] = SLOT_TAG(h) | (uint64_t)(idx + 1);
}

/* Room for `want` keys in all: the slots at most half full, the entries
 * allocated (doubling, so that the keys are placed again rarely). */
static int key_reserve(floe_merge *m, size_t want)
{
	if (want >= UINT32_MAX - 1)
		return FLOE_ENOMEM; /* slots keep the index in 32 bits */
	if (want * 2 > m->nslots) {
		size_t ns = m->nslots ? m->nslots : 4096;
		while (want * 2 > ns)
			ns *= 2;
		uint64_t *v = calloc(ns, sizeof *v);
		if (!v)
			return FLOE_ENOMEM;
		for (size_t i = 0; i < m->nents; i++)
			slot_put(v, ns, m->ents[i].hash, i);
		free(m->slots);
		m->slots = v;
		m->nslots = ns;
	}
	if (want > m->capents) {
		size_t cap = m->capents ? m->capents : 4096;
		while (want > cap)
			cap *= 2;
		src_key *v = realloc(m->ents, cap * sizeof *v);
		if (!v)
			return FLOE_ENOMEM;
		m->ents = v;
		m->capents = cap;
	}
	return 0;
}

/* Add key k[0..len) (hash h) for source row (batch, row). */
static int key_add(floe_merge *m, const uint8_t *k, size_t len, uint64_t h, uint32_t batch,
                   uint32_t row)
{
	int rc = key_reserve(m, m->nents + 1);
	if (rc)
		return rc;
	src_key *e = &m->ents[m->nents];
	e->hash = h;
	e->off = m->keys.len;
	e->len = len;
	e->batch = batch;
	e->row = row;
	e->matched = false;
	e->noop = false;
	e->stale = false;
	e->hits = 0;
	if (floe_buf_append(&m->keys, k, len))
		return FLOE_ENOMEM;
	slot_put(m->slots, m->nslots, h, m->nents++);
	return 0;
}

int floe_merge_set_summary(floe_merge *m, const char *key, const char *value,
                           floe_error *err)
{
	return ice_summary_extra_set(m->src_arena, &m->d.extra, &m->d.nextra, key, value, err);
}

/* Source row r of batch bi (in sb), key k[0..len) with hash h: a new key,
 * or a duplicate that the precombine column decides. */
static int source_row(floe_merge *m, const floe_batch *sb, uint32_t bi, int64_t r,
                      const uint8_t *k, size_t len, uint64_t h, floe_error *err)
{
	src_key *e = key_find(m, k, len, h);
	if (!e) {
		if (key_add(m, k, len, h, bi, (uint32_t)r))
			return oom(err);
		return 0;
	}
	if (m->pcol < 0)
		return floe_error_set(err, FLOE_EINVALID, "merge source row %" PRId64 ": its key "
		                      "appears twice in the source; give a precombine column to pick "
		                      "the row that wins", m->source_rows + r + 1);
	/* the larger precombine value wins; on a tie the later row */
	const floe_column *pc = &sb->cols[m->pcol];
	const floe_column *oc = &m->src[e->batch].cols[m->pcol];
	if (ice_cell_cmp(pc, r, oc, e->row) >= 0) {
		e->batch = bi;
		e->row = (uint32_t)r;
	}
	return 0;
}

int floe_merge_batch(floe_merge *m, const floe_batch *b, floe_error *err)
{
	if (b->nrows == 0)
		return 0;
	if (m->nsrc >= UINT32_MAX - 1)
		return floe_error_set(err, FLOE_EINVALID, "too many source batches");
	if (m->nsrc == m->capsrc) {
		size_t cap = m->capsrc ? m->capsrc * 2 : 16;
		floe_batch *v = realloc(m->src, cap * sizeof *v);
		if (!v)
			return oom(err);
		m->src = v;
		m->capsrc = cap;
	}
	floe_batch *sb = &m->src[m->nsrc];
	int rc = ice_append_map(m->ins, b, m->src_arena, sb, err);
	if (rc)
		return floe_error_prefix(err, "merge source");
	uint32_t bi = (uint32_t)m->nsrc++;
	const floe_column *kc[MERGE_MAX_KEYS];
	for (int i = 0; i < m->nkeys; i++)
		kc[i] = &sb->cols[m->kcol[i]];
	/* room for every row's key up front; then by chunks: the keys and
	 * hashes of a chunk first, their slots prefetched, then looked up
	 * (each lookup was a wait on memory) */
	if (key_reserve(m, m->nents + (size_t)sb->nrows))
		return oom(err);
	size_t koff[MERGE_CHUNK + 1];
	uint64_t hs[MERGE_CHUNK];
	for (int64_t r0 = 0; r0 < sb->nrows; r0 += MERGE_CHUNK) {
		int64_t nc = sb->nrows - r0 < MERGE_CHUNK ? sb->nrows - r0 : MERGE_CHUNK;
		for (int64_t r = r0; r < r0 + nc; r++)
			for (int i = 0; i < m->nkeys; i++)
				if (!floe_column_is_valid(kc[i], r))
					return floe_error_set(err, FLOE_EINVALID, "merge source row %" PRId64
					                      ": key column '%s' is NULL", m->source_rows + r + 1,
					                      m->fs->fields[m->kcol[i]].name);
		floe_buf_clear(&m->cbuf);
		if (ice_keys_of(&m->cbuf, koff, hs, kc, m->nkeys, r0, r0 + nc))
			return oom(err);
		if (m->nslots)
			for (int64_t j = 0; j < nc; j++)
				__builtin_prefetch(&m->slots[hs[j] & (m->nslots - 1)]);
		for (int64_t j = 0; j < nc; j++)
			if ((rc = source_row(m, sb, bi, r0 + j, m->cbuf.data + koff[j],
			                     koff[j + 1] - koff[j], hs[j], err)))
				return rc;
	}
	m->source_rows += sb->nrows;
	return 0;
}


/* ---- commit --------------------------------------------------------------------- */

/* Per source batch: 1 for the rows that carry a key (the winners). */
static int winners(floe_merge *m, uint8_t **win, floe_error *err)
{
	for (size_t b = 0; b < m->nsrc; b++)
		if (!(win[b] = floe_arena_calloc(m->src_arena, (size_t)m->src[b].nrows + 1, 1)))
			return oom(err);
	for (size_t i = 0; i < m->nents; i++)
		win[m->ents[i].batch][m->ents[i].row] = 1;
	return 0;
}

/* Rows of source batch `b` where keep[r] as a batch (in src_arena). */
static int select_rows(floe_merge *m, size_t b, const uint8_t *keep, floe_batch *out, floe_error *err)
{
	const floe_batch *sb = &m->src[b];
	int32_t *idx = floe_arena_alloc(m->src_arena, (size_t)sb->nrows * 4 + 4);
	if (!idx)
		return oom(err);
	int64_t k = 0;
	for (int64_t r = 0; r < sb->nrows; r++)
		if (keep[r])
			idx[k++] = (int32_t)r;
	return ice_batch_gather(m->src_arena, sb, idx, k, out, err);
}

/* Source key bounds per key column (orderable primitive types). */
static void source_bounds(floe_merge *m)
{
	m->has_bounds = m->nents > 0;
	for (int i = 0; i < m->nkeys && m->has_bounds; i++) {
		const floe_type *t = &m->fs->fields[m->kcol[i]].type;
		if (t->id == FLOE_TYPE_BOOLEAN || t->id == FLOE_TYPE_BINARY || t->id == FLOE_TYPE_FIXED ||
		    (t->id == FLOE_TYPE_DECIMAL && t->precision > 18))
			m->has_bounds = false;
	}
	for (int i = 0; i < m->nkeys && m->has_bounds; i++) {
		const floe_type *t = &m->fs->fields[m->kcol[i]].type;
		for (size_t e = 0; e < m->nents; e++) {
			const floe_column *c = &m->src[m->ents[e].batch].cols[m->kcol[i]];
			int64_t r = m->ents[e].row;
			floe_value v;
			memset(&v, 0, sizeof v);
			if (floe_type_is_variable(t)) {
				v.bytes = c->data + c->offsets[r];
				v.len = c->offsets[r + 1] - c->offsets[r];
			} else if (floe_type_value_width(t) == 4) {
				v.i = ((const int32_t *)c->values)[r];
			} else {
				v.i = ((const int64_t *)c->values)[r];
			}
			if (e == 0 || ice_value_compare(t, &v, &m->lo[i]) < 0)
				m->lo[i] = v;
			if (e == 0 || ice_value_compare(t, &v, &m->hi[i]) > 0)
				m->hi[i] = v;
		}
	}
}

/* A data file whose key-column bounds cannot overlap the source keys. */
static bool may_hold_keys(void *ctx, const ice_data_file *f)
{
	const floe_merge *m = ctx;
	if (!m->has_bounds)
		return true;
	for (int i = 0; i < m->nkeys; i++) {
		const floe_field *fld = &m->fs->fields[m->kcol[i]];
		for (int k = 0; k < f->nmetrics; k++) {
			const ice_column_metrics *cm = &f->metrics[k];
			if (cm->field_id != fld->field_id)
				continue;
			floe_value lo, hi;
			if (cm->upper && ice_value_deserialize(&hi, &fld->type, cm->upper, cm->upper_len, m->d.arena, NULL) == 0 &&
			    ice_value_compare(&fld->type, &hi, &m->lo[i]) < 0)
				return false;
			if (cm->lower && ice_value_deserialize(&lo, &fld->type, cm->lower, cm->lower_len, m->d.arena, NULL) == 0 &&
			    ice_value_compare(&fld->type, &lo, &m->hi[i]) > 0)
				return false;
		}
	}
	return true;
}

/* The plain bytes of the single key of source entry `e` (Parquet PLAIN:
 * string bytes, little-endian numbers at the column's physical width). */
static const void *source_key_plain(const floe_merge *m, const src_key *e, size_t *n)
{
	const floe_column *c = &m->src[e->batch].cols[m->kcol[0]];
	if (c->offsets) {
		*n = (size_t)(c->offsets[e->row + 1] - c->offsets[e->row]);
		return c->data + c->offsets[e->row];
	}
	*n = (size_t)floe_type_value_width(&c->type);
	return (const uint8_t *)c->values + (size_t)e->row * *n;
}

/* Whether any source key may be in data file `f` by the Bloom filters of
 * its key column (single-column keys; true when the file has none). */
static bool bloom_may_hold(floe_merge *m, const ice_data_file *f)
{
	if (!m->bloom_key)
		return true; /* no reader opened for files without filters */
	char local[4096];
	if (!ice_table_local_path(m->t, f->file_path, local, sizeof local))
		return true;
	floe_parquet_reader *r = NULL;
	floe_error e2;
	if (floe_parquet_reader_open(&r, local, &e2) != 0)
		return true; /* the scan will report it */
	const floe_schema *fsch = floe_parquet_reader_schema(r);
	int col = floe_schema_find_id(fsch, m->fs->fields[m->kcol[0]].field_id);
	bool any = col < 0;
	int nrg = floe_parquet_reader_num_row_groups(r);
	for (int g = 0; g < nrg && !any; g++) {
		uint8_t *bits;
		uint32_t nb;
		if (floe_parquet_reader_bloom_load(r, g, col, &bits, &nb, &e2) != 0 || !bits) {
			any = true;
			free(bits);
			break;
		}
		for (size_t i = 0; i < m->nents && !any; i++) {
			size_t n;
			const void *p = source_key_plain(m, &m->ents[i], &n);
			any = floe_parquet_bloom_check(bits, nb, p, n);
		}
		free(bits);
	}
	floe_parquet_reader_free(r);
	if (!any)
		m->bloom_skipped++;
	return any;
}

static bool scan_wants(void *ctx, const ice_data_file *f)
{
	return may_hold_keys(ctx, f) && bloom_may_hold(ctx, f);
}

#define NOOP_HOLD_BYTES (64LL << 20)

/* The copy-on-write rewrite of one data file while it may still be a
 * no-op: the rows it keeps (batches in `arena`) and the source keys of
 * its matched rows, each found equal so far. */
typedef struct noop_file {
	const ice_data_file *f;
	size_t at;               /* into its hit's keyed rows */
	bool same;
	floe_arena *arena;
	floe_buf held;           /* floe_batch */
	floe_buf keys;           /* src_key * */
} noop_file;

/* Whether row r of scanned batch b (table column c at cmap[c]) equals row
 * sr of source batch sb, every column, NULLs alike, values bit for bit. */
static bool same_row(const floe_merge *m, const floe_batch *b, const int *cmap, int64_t r,
                     const floe_batch *sb, int64_t sr)
{
	for (int c = 0; c < m->fs->nfields; c++) {
		const floe_column *x = &b->cols[cmap[c]], *y = &sb->cols[c];
		bool vx = floe_column_is_valid(x, r), vy = floe_column_is_valid(y, sr);
		if (vx != vy)
			return false;
		if (!vx)
			continue;
		if (floe_type_is_variable(&y->type)) {
			int64_t lx = x->offsets[r + 1] - x->offsets[r], ly = y->offsets[sr + 1] - y->offsets[sr];
			if (lx != ly || (lx && memcmp(x->data + x->offsets[r], y->data + y->offsets[sr],
			                              (size_t)lx) != 0))
				return false;
			continue;
		}
		if (y->type.id == FLOE_TYPE_BOOLEAN) {
			if ((((const uint8_t *)x->values)[r] != 0) != (((const uint8_t *)y->values)[sr] != 0))
				return false;
			continue;
		}
		size_t w = (size_t)floe_type_value_width(&y->type);
		if (x->type.id != y->type.id ||
		    memcmp((const uint8_t *)x->values + (size_t)r * w,
		           (const uint8_t *)y->values + (size_t)sr * w, w) != 0)
			return false;
	}
	return true;
}

/* The file turned out to change: its held rows go to the rewrite. */
static int noop_flush(floe_merge *m, noop_file *nf, floe_error *err)
{
	const floe_batch *v = (const floe_batch *)nf->held.data;
	size_t n = nf->held.len / sizeof *v;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = floe_append_batch(m->ins, &v[i], err);
	floe_buf_clear(&nf->held);
	floe_buf_clear(&nf->keys);
	floe_arena_reset(nf->arena);
	return rc;
}

/* The end of a file's rows: unchanged, it stays in the table and its
 * matched keys are no-ops; else whatever it still holds is written. */
static int noop_end(floe_merge *m, noop_file *nf, floe_error *err)
{
	if (!nf->f)
		return 0;
	if (!nf->same)
		return noop_flush(m, nf, err);
	ice_hit *h = ice_rowdelta_find(&m->d, nf->f->file_path);
	if (h) {
		h->remove = false;
		h->matched = 0;
	}
	src_key *const *k = (src_key *const *)nf->keys.data;
	for (size_t i = 0; i < nf->keys.len / sizeof *k; i++)
		k[i]->noop = true;
	floe_buf_clear(&nf->held);
	floe_buf_clear(&nf->keys);
	floe_arena_reset(nf->arena);
	nf->f = NULL;
	return 0;
}

/* The table rows that carry a source key (key columns, and the precombine
 * column with precombine_table; files skipped by key bounds and Bloom
 * filters): each such key is matched, and stale when a row of the table
 * orders after its source row. Copy-on-write (`hits`) also records the
 * files to rewrite. > 0 when done, else a negative code. */
static int match_keys(floe_merge *m, bool hits, floe_error *err)
{
	/* the table's rows mostly lack a source key: a filter turns them away
	 * before the slots are probed */
	if (!m->filter.w && m->nents) {
		if (ice_keyfilter_init(&m->filter, m->nents))
			return oom(err);
		for (size_t i = 0; i < m->nents; i++)
			ice_keyfilter_add(&m->filter, m->ents[i].hash);
	}
	const char *names[MERGE_MAX_KEYS + 1];
	int nc = m->nkeys;
	for (int i = 0; i < m->nkeys; i++)
		names[i] = m->fs->fields[m->kcol[i]].name;
	if (m->pcol_table)
		names[nc++] = m->fs->fields[m->pcol].name;
	floe_scan_options so;
	floe_scan_options_init(&so);
	so.columns = names;
	so.ncolumns = nc;
	ice_scan_ex ex;
	memset(&ex, 0, sizeof ex);
	ex.want_file = scan_wants;
	ex.ctx = m;
	floe_scan *s = NULL;
	int rc = ice_scan_open_ex(&s, m->t, &so, &ex, err);
	m->keys_scan = s; /* the hits point into it: freed with the merge */
	const floe_batch *b;
	ice_hit *cur = NULL;
	if (!rc) {
		/* the snapshot the decisions rest on: commits after it are
		 * validated against the source keys */
		const ice_snapshot *snap = ice_scan_snapshot(s);
		m->d.base_id = snap ? snap->snapshot_id : -1;
	}
	while (!rc && (rc = floe_scan_next(s, &b, err)) == 1) {
		rc = 0;
		const floe_column *kc[MERGE_MAX_KEYS];
		for (int i = 0; i < m->nkeys; i++)
			kc[i] = &b->cols[i];
		src_key *found[MERGE_CHUNK];
		for (int64_t r = 0; !rc && r < b->nrows; r++) {
			int64_t j = r % MERGE_CHUNK;
			if (j == 0 && chunk_find(m, kc, r, b->nrows - r < MERGE_CHUNK ? b->nrows - r
			                                                               : MERGE_CHUNK, found)) {
				rc = oom(err);
				break;
			}
			src_key *e = found[j];
			if (!e)
				continue;
			e->matched = true;
			if (m->pcol_table && ice_cell_cmp(&b->cols[m->nkeys], r,
			                                  &m->src[e->batch].cols[m->pcol], e->row) > 0)
				e->stale = true;
			if (!hits)
				continue;
			if (e->hits < 2)
				e->hits++;
			const ice_partition_spec *spec;
			bool has_del;
			const ice_data_file *f = ice_scan_file(s, NULL, &spec, &has_del);
			if (!cur || cur->f != f) {
				cur = ice_rowdelta_find(&m->d, f->file_path);
				if (!cur && (rc = ice_rowdelta_hit(&m->d, f, spec, has_del, &cur, err)))
					break;
			}
			cur->matched++;
			cur->remove = true;
			/* the rewrite finds the row's key again by its position */
			ice_keyed kp = { ice_scan_positions(s)[r], e };
			if (floe_buf_append(&cur->keyed, &kp, sizeof kp)) {
				rc = oom(err);
				break;
			}
		}
	}
	return rc < 0 ? rc : 1;
}

/* copy-on-write: find the files holding source keys (match_keys), then
 * rewrite them without the rows of those keys (but the rows of stale
 * keys, which stay). */
static int cow_rewrite(floe_merge *m, uint8_t *const *del, floe_error *err)
{
	int rc = match_keys(m, true, err);
	const floe_batch *b;
	if (rc < 0)
		goto done;
	rc = 0;
	if (m->d.nhits == 0)
		goto done;
	/* the rewrite: every live row of those files whose key the source
	 * does not carry. A file whose matched rows all equal their source
	 * rows bit for bit would be written again unchanged: its rows are held
	 * until one differs, and if none does the file stays and its keys are
	 * no-ops (as long as the held rows fit NOOP_HOLD_BYTES) */
	floe_scan *s2 = NULL;
	floe_scan_options so2;
	floe_scan_options_init(&so2);
	floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, m->d.base_id, 0, NULL };
	so2.snapshot = sel;
	ice_scan_ex ex2;
	memset(&ex2, 0, sizeof ex2);
	ex2.all_rows = true;
	ex2.want_file = ice_rowdelta_want_hit;
	ex2.ctx = &m->d;
	noop_file nf;
	memset(&nf, 0, sizeof nf);
	floe_arena *ga = floe_arena_new(1 << 20);
	nf.arena = floe_arena_new(1 << 20);
	rc = ga && nf.arena ? ice_scan_open_ex(&s2, m->t, &so2, &ex2, err) : oom(err);
	while (!rc && (rc = floe_scan_next(s2, &b, err)) == 1) {
		rc = 0;
		floe_arena_reset(ga);
		const ice_data_file *f = ice_scan_file(s2, NULL, NULL, NULL);
		if (f != nf.f) {
			if ((rc = noop_end(m, &nf, err)))
				break;
			nf.f = f;
			nf.at = 0;
			nf.same = true;
		}
		const floe_schema *os = floe_scan_schema(s2);
		for (int i = 0; i < m->nkeys; i++)
			if (floe_schema_find_id(os, m->fs->fields[m->kcol[i]].field_id) < 0) {
				rc = floe_error_set(err, FLOE_EINVALID, "key column missing in the rewrite");
				break;
			}
		int cmap[256];
		for (int c = 0; !rc && c < m->fs->nfields; c++)
			if (c >= 256 || (cmap[c] = floe_schema_find_id(os, m->fs->fields[c].field_id)) < 0)
				nf.same = false; /* a column the file lacks: not comparable */
		int32_t *idx = rc ? NULL : floe_arena_alloc(ga, (size_t)b->nrows * 4 + 4);
		if (!rc && !idx)
			rc = oom(err);
		int64_t k = 0;
		/* the rows match_keys matched, by position (both scans read the
		 * base snapshot's live rows in file order) */
		const ice_hit *hit = rc ? NULL : ice_rowdelta_find(&m->d, f->file_path);
		const ice_keyed *kp = hit ? (const ice_keyed *)hit->keyed.data : NULL;
		size_t nkp = hit ? hit->keyed.len / sizeof *kp : 0;
		const int64_t *pv = ice_scan_positions(s2);
		for (int64_t r = 0; !rc && r < b->nrows; r++) {
			while (nf.at < nkp && kp[nf.at].pos < pv[r])
				nf.at++;
			src_key *e = nf.at < nkp && kp[nf.at].pos == pv[r] ? kp[nf.at].key : NULL;
			if (!e || e->stale) {
				idx[k++] = (int32_t)r;
				continue;
			}
			if (!nf.same)
				continue;
			if (e->hits != 1 || del[e->batch][e->row] ||
			    !same_row(m, b, cmap, r, &m->src[e->batch], e->row))
				nf.same = false;
			else if (floe_buf_append(&nf.keys, &e, sizeof e))
				rc = oom(err);
		}
		if (rc)
			break;
		if (nf.same && floe_arena_footprint(nf.arena) > NOOP_HOLD_BYTES)
			nf.same = false;
		if (!nf.same && (rc = noop_flush(m, &nf, err)))
			break;
		floe_batch keep;
		if (k == 0)
			continue;
		if ((rc = ice_batch_gather(nf.same ? nf.arena : ga, b, idx, k, &keep, err)))
			break;
		if (nf.same)
			rc = floe_buf_append(&nf.held, &keep, sizeof keep) ? oom(err) : 0;
		else
			rc = floe_append_batch(m->ins, &keep, err);
	}
	if (rc > 0)
		rc = 0;
	if (!rc)
		rc = noop_end(m, &nf, err);
	floe_scan_free(s2);
	floe_arena_free(ga);
	floe_arena_free(nf.arena);
	floe_buf_free(&nf.held);
	floe_buf_free(&nf.keys);
done:
	return rc;
}

int floe_merge_commit(floe_merge *m, floe_merge_result *res, floe_error *err)
{
	floe_merge_result dummy;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	res->snapshot_id = -1;
	res->merge_on_read = m->d.mor;
	res->source_rows = m->source_rows;
	int rc = 0;
	uint8_t **win = NULL, **del = NULL;
	if (m->nsrc == 0) {
		const ice_snapshot *cur = ice_metadata_current_snapshot(m->d.m);
		res->snapshot_id = cur ? cur->snapshot_id : -1;
		goto done;
	}
	win = calloc(m->nsrc, sizeof *win);
	del = calloc(m->nsrc, sizeof *del);
	if (!win || !del) {
		rc = oom(err);
		goto done;
	}
	if ((rc = winners(m, win, err)))
		goto done;
	/* rows the delete condition picks */
	for (size_t b = 0; b < m->nsrc; b++) {
		if (!(del[b] = floe_arena_calloc(m->src_arena, (size_t)m->src[b].nrows + 1, 1))) {
			rc = oom(err);
			goto done;
		}
		if (m->del_expr && (rc = ice_expr_eval_batch(m->del_expr, &m->src[b], del[b], err)))
			goto done;
	}
	source_bounds(m);
	if (m->d.mor && m->pcol_table) {
		/* a blind upsert reads the table only for the stale keys */
		if ((rc = match_keys(m, false, err)) < 0)
			goto done;
		rc = 0;
		for (size_t i = 0; i < m->nents; i++)
			if (m->ents[i].stale)
				win[m->ents[i].batch][m->ents[i].row] = 0;
	}
	if (m->d.mor) {
		/* blind upsert: every source key is deleted where it was, then the
		 * rows that stay are added (same commit: the equality deletes do
		 * not apply to them) */
		floe_field *kf = floe_arena_calloc(m->src_arena, (size_t)m->nkeys, sizeof *kf);
		floe_schema *ks = floe_arena_calloc(m->src_arena, 1, sizeof *ks);
		floe_batch *kb = floe_arena_calloc(m->src_arena, m->nsrc, sizeof *kb);
		if (!kf || !ks || !kb) {
			rc = oom(err);
			goto done;
		}
		for (int i = 0; i < m->nkeys; i++)
			kf[i] = m->fs->fields[m->kcol[i]];
		ks->nfields = m->nkeys;
		ks->fields = kf;
		size_t nk = 0;
		for (size_t b = 0; b < m->nsrc; b++) {
			floe_batch sel;
			if ((rc = select_rows(m, b, win[b], &sel, err)))
				goto done;
			if (sel.nrows == 0)
				continue;
			floe_column *cols = floe_arena_calloc(m->src_arena, (size_t)m->nkeys, sizeof *cols);
			if (!cols) {
				rc = oom(err);
				goto done;
			}
			for (int i = 0; i < m->nkeys; i++)
				cols[i] = sel.cols[m->kcol[i]];
			kb[nk].nrows = sel.nrows;
			kb[nk].ncols = m->nkeys;
			kb[nk].cols = cols;
			kb[nk].schema = ks;
			nk++;
		}
		if ((rc = ice_rowdelta_write_equality_deletes(&m->d, kb, nk, err)))
			goto done;
		if (m->pcol_table) {
			/* it read the table: a commit since that may hold a key
			 * could hold a newer row, so it conflicts */
			m->d.conflicts = may_hold_keys;
			m->d.cctx = m;
		} else {
			m->d.conflicts = ice_rowdelta_no_conflicts; /* the last upsert wins */
			const ice_snapshot *cur = ice_metadata_current_snapshot(m->d.m);
			m->d.base_id = cur ? cur->snapshot_id : -1;
		}
	} else {
		if ((rc = cow_rewrite(m, del, err)))
			goto done;
		m->d.conflicts = may_hold_keys;
		m->d.cctx = m;
	}
	int64_t inserted = 0, updated = 0, deleted = 0, dropped = 0, unchanged = 0, stale = 0;
	for (size_t i = 0; i < m->nents; i++) {
		const src_key *e = &m->ents[i];
		bool d = del[e->batch][e->row] != 0;
		if (e->stale) {
			stale++;
			win[e->batch][e->row] = 0; /* older than the table's row */
			continue;
		}
		if (m->d.mor)
			continue;
		if (e->noop) {
			unchanged++;
			win[e->batch][e->row] = 0; /* the table holds it already */
		} else if (e->matched && d)
			deleted++;
		else if (e->matched)
			updated++;
		else if (d)
			dropped++;
		else
			inserted++;
	}
	int64_t upserted = 0;
	for (size_t b = 0; b < m->nsrc; b++) {
		uint8_t *keep = win[b];
		for (int64_t r = 0; r < m->src[b].nrows; r++) {
			keep[r] = keep[r] && !del[b][r];
			upserted += keep[r];
		}
		floe_batch sel;
		if ((rc = select_rows(m, b, keep, &sel, err)))
			goto done;
		if (sel.nrows && (rc = floe_append_batch(m->ins, &sel, err)))
			goto done;
	}
	m->d.rewrite = m->ins; /* owned by the commit from here on */
	m->ins = NULL;
	m->d.op_name = "overwrite";
	if ((rc = ice_rowdelta_commit(&m->d, err)))
		goto done;
	res->snapshot_id = m->d.snapshot_id;
	res->data_files_removed = m->d.removed_files;
	res->data_files_skipped_by_bloom = m->bloom_skipped;
	res->data_files_added = (int64_t)m->d.nadded;
	res->delete_files_added = (int64_t)m->d.neqdels_written;
	res->stale = stale;
	if (m->d.mor) {
		res->upserted = upserted;
		res->inserted = res->updated = -1;
		res->deleted = -1;
	} else {
		res->inserted = inserted;
		res->updated = updated;
		res->deleted = deleted;
		res->upserted = inserted + updated;
		res->unchanged = unchanged;
	}
	(void)dropped;
done:
	free(win);
	free(del);
	floe_merge_abort(m);
	return rc;
}
