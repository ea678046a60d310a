/* iceberg/table_changes.c - change reads (Delta's change data feed,
 * Iceberg's changelog view): for each snapshot in (from, to], the rows it
 * inserted (data files it added), the rows it deleted (data files it
 * removed, and rows of older files its new delete files remove), with
 * copy-on-write carry-over removed (a row deleted and inserted unchanged
 * by the same commit is no change) and, when the table has identifier
 * fields, a delete and an insert of one key paired as update pre/post
 * images. Columns of the current schema (or the caller's projection of
 * them) plus _change_type, _commit_snapshot_id and
 * _commit_sequence_number. One snapshot's changes are held in memory at a
 * time. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "iceberg/deletes.h"
#include "iceberg/table_int.h"
#include "util/buf.h"

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

enum { CH_DELETE, CH_INSERT, CH_UPDATE_BEFORE, CH_UPDATE_AFTER };
static const char *const CHANGE_NAMES[4] = { "delete", "insert", "update_before", "update_after" };

/* A set of data file paths (the files a snapshot added, removed, or that
 * its new deletes may touch). */
typedef struct pathset {
	const char **v;
	size_t n, cap;
} pathset;

static int pathset_add(pathset *p, const char *s)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		const char **v = realloc(p->v, cap * sizeof *v);
		if (!v)
			return FLOE_ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = s;
	return 0;
}

static bool pathset_has(void *ctx, const ice_data_file *f)
{
	const pathset *p = ctx;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i], f->file_path) == 0)
			return true;
	return false;
}

/* One side of a snapshot's changes: rows (copies) and a kind per row. */
typedef struct rows {
	floe_batch *b;
	size_t n, cap;
} rows;

struct floe_changes {
	floe_table *t;
	floe_schema *cols;          /* the data columns */
	floe_schema *out;           /* cols (or pcols) + the three change columns */
	const char **names;         /* cols' names, for scans */
	int *proj;                  /* projected: the output's data columns in cols */
	int nproj;                  /* -1: no projection */
	floe_schema *pcols;         /* projected: those columns */
	const char **pnames;        /* projected: their names, for scans */
	bool narrow;                /* del/ins hold only the projected columns */
	const ice_snapshot **snaps; /* oldest first */
	int nsnaps, cur;
	floe_arena *arena;          /* the current snapshot's rows */
	rows del, ins;
	uint8_t **kind;             /* per row of del/ins batches (CH_*, 255 gone) */
	size_t emit;                /* next batch to emit (del batches, then ins) */
	int *ident;                 /* identifier columns in cols */
	int nident;
	floe_batch outb;
	floe_buf key;
	floe_arena *schema_arena;   /* cols, out, names, ident */
};

const floe_schema *floe_changes_schema(const floe_changes *c)
{
	return c->out;
}

int floe_changes_project(floe_changes *c, const char *const *columns, int ncolumns,
                         floe_error *err)
{
	if (c->cur >= 0 || c->nproj >= 0)
		return floe_error_set(err, FLOE_EINVALID, "project a change read once, before its "
		                      "first batch");
	if (ncolumns < 0 || (ncolumns > 0 && !columns))
		return floe_error_set(err, FLOE_EINVALID, "bad column list for a change read");
	floe_arena *sa = c->schema_arena;
	const floe_schema *all = c->cols;
	int *proj = floe_arena_calloc(sa, (size_t)ncolumns + 1, sizeof *proj);
	floe_schema *pcols = floe_arena_calloc(sa, 1, sizeof *pcols);
	floe_field *pf = floe_arena_calloc(sa, (size_t)ncolumns + 1, sizeof *pf);
	const char **pnames = floe_arena_calloc(sa, (size_t)ncolumns + 1, sizeof *pnames);
	floe_field *of = floe_arena_calloc(sa, (size_t)ncolumns + 3, sizeof *of);
	if (!proj || !pcols || !pf || !pnames || !of)
		return oom(err);
	for (int i = 0; i < ncolumns; i++) {
		int k = columns[i] ? floe_schema_find(all, columns[i]) : -1;
		if (k < 0)
			return floe_error_set(err, FLOE_ENOTFOUND, "%s has no column %s", c->t->ident,
			                      columns[i] ? columns[i] : "(null)");
		for (int j = 0; j < i; j++)
			if (proj[j] == k)
				return floe_error_set(err, FLOE_EINVALID, "column %s is named twice in a "
				                      "change read", columns[i]);
		proj[i] = k;
		pf[i] = all->fields[k];
		pnames[i] = all->fields[k].name;
		of[i] = all->fields[k];
	}
	/* the change columns follow the data columns, as without a projection */
	memcpy(&of[ncolumns], &c->out->fields[all->nfields], 3 * sizeof *of);
	pcols->nfields = ncolumns;
	pcols->fields = pf;
	c->out->nfields = ncolumns + 3;
	c->out->fields = of;
	c->proj = proj;
	c->nproj = ncolumns;
	c->pcols = pcols;
	c->pnames = pnames;
	return 0;
}

void floe_changes_free(floe_changes *c)
{
	if (!c)
		return;
	free(c->del.b);
	free(c->ins.b);
	free(c->kind);
	free(c->snaps);
	floe_arena_free(c->arena);
	floe_arena_free(c->schema_arena);
	floe_buf_free(&c->key);
	free(c);
}

static int rows_add(rows *r, floe_arena *arena, const floe_batch *b, const int32_t *idx, int64_t n,
                    floe_error *err)
{
	if (n == 0)
		return 0;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		floe_batch *v = realloc(r->b, cap * sizeof *v);
		if (!v)
			return oom(err);
		r->b = v;
		r->cap = cap;
	}
	int32_t *all = NULL;
	if (!idx) {
		all = floe_arena_alloc(arena, (size_t)n * 4 + 4);
		if (!all)
			return oom(err);
		for (int64_t i = 0; i < n; i++)
			all[i] = (int32_t)i;
		idx = all;
	}
	return ice_batch_gather(arena, b, idx, n, &r->b[r->n++], err);
}

/* Rows of the files in `want` as of snapshot `snap`, into `r` (every
 * row), or, when `live_at` is given, only the rows that are no longer live
 * at that later snapshot (positions compared per file). The columns: all
 * of c->cols, or c->pcols when c->narrow. */
static int read_files(floe_changes *c, const ice_snapshot *snap, pathset *want,
                      const ice_snapshot *live_at, rows *r, floe_error *err)
{
	const floe_schema *cols = c->narrow ? c->pcols : c->cols;
	if (want->n == 0)
		return 0;
	/* positions live at `live_at`, per file path */
	typedef struct live {
		const char *path;
		floe_buf pos;
	} live;
	live *lv = NULL;
	size_t nlv = 0;
	floe_scan_options so;
	ice_scan_ex ex;
	floe_scan *s = NULL;
	const floe_batch *b;
	int rc = 0;
	if (live_at) {
		lv = calloc(want->n, sizeof *lv);
		if (!lv)
			return oom(err);
		floe_scan_options_init(&so);
		so.columns = c->names;
		so.ncolumns = 0; /* positions only */
		floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, live_at->snapshot_id, 0, NULL };
		so.snapshot = sel;
		memset(&ex, 0, sizeof ex);
		ex.want_file = pathset_has;
		ex.ctx = want;
		ex.current_schema = true;
		rc = ice_scan_open_ex(&s, c->t, &so, &ex, err);
		while (!rc && (rc = floe_scan_next(s, &b, err)) == 1) {
			rc = 0;
			const ice_data_file *f = ice_scan_file(s, NULL, NULL, NULL);
			size_t k;
			for (k = 0; k < nlv; k++)
				if (strcmp(lv[k].path, f->file_path) == 0)
					break;
			if (k == nlv) {
				if (nlv == want->n) {
					rc = floe_error_set(err, FLOE_EINVALID, "unexpected file in a change read");
					break;
				}
				lv[nlv].path = floe_arena_strdup(c->arena, f->file_path);
				if (!lv[nlv++].path) {
					rc = oom(err);
					break;
				}
			}
			if (floe_buf_append(&lv[k].pos, ice_scan_positions(s), (size_t)b->nrows * 8))
				rc = oom(err);
		}
		if (rc > 0)
			rc = 0;
		floe_scan_free(s);
		s = NULL;
	}
	floe_scan_options_init(&so);
	so.columns = c->narrow ? c->pnames : c->names;
	so.ncolumns = cols->nfields;
	floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, snap->snapshot_id, 0, NULL };
	so.snapshot = sel;
	memset(&ex, 0, sizeof ex);
	ex.want_file = pathset_has;
	ex.ctx = want;
	ex.current_schema = true;
	if (!rc)
		rc = ice_scan_open_ex(&s, c->t, &so, &ex, err);
	floe_arena *tmp = floe_arena_new(1 << 16);
	if (!rc && !tmp)
		rc = oom(err);
	while (!rc && (rc = floe_scan_next(s, &b, err)) == 1) {
		rc = 0;
		floe_batch view = *b;
		view.schema = cols;
		if (!live_at) {
			rc = rows_add(r, c->arena, &view, NULL, b->nrows, err);
			continue;
		}
		const ice_data_file *f = ice_scan_file(s, NULL, NULL, NULL);
		const int64_t *pv = NULL;
		size_t np = 0;
		for (size_t k = 0; k < nlv; k++)
			if (strcmp(lv[k].path, f->file_path) == 0) {
				pv = (const int64_t *)lv[k].pos.data;
				np = lv[k].pos.len / 8;
			}
		/* positions come in ascending order in both scans */
		const int64_t *pos = ice_scan_positions(s);
		floe_arena_reset(tmp);
		int32_t *idx = floe_arena_alloc(tmp, (size_t)b->nrows * 4 + 4);
		if (!idx) {
			rc = oom(err);
			break;
		}
		int64_t k = 0;
		size_t j = 0;
		for (int64_t i = 0; i < b->nrows; i++) {
			while (j < np && pv[j] < pos[i])
				j++;
			if (j >= np || pv[j] != pos[i])
				idx[k++] = (int32_t)i;
		}
		rc = rows_add(r, c->arena, &view, idx, k, err);
	}
	if (rc > 0)
		rc = 0;
	floe_scan_free(s);
	floe_arena_free(tmp);
	for (size_t k = 0; k < nlv; k++)
		floe_buf_free(&lv[k].pos);
	free(lv);
	return rc;
}

/* Hash table over rows of `r` by a key of columns `kc` (all when NULL). */
typedef struct rowref {
	uint64_t h;
	uint32_t b, row;
} rowref;

static int row_key(floe_changes *c, const floe_batch *b, const int *kc, int nk, int64_t r)
{
	const floe_column *cols[256];
	int n = kc ? nk : b->ncols;
	if (n > 256)
		n = 256;
	for (int i = 0; i < n; i++)
		cols[i] = &b->cols[kc ? kc[i] : i];
	return ice_key_of(&c->key, cols, n, r);
}

/* Pair rows of del and ins that are equal on `kc` (all columns when NULL):
 * mark both `gone` (carry-over) or as update images. */
static int pair_rows(floe_changes *c, const int *kc, int nk, bool as_update, floe_error *err)
{
	size_t total = 0;
	for (size_t b = 0; b < c->del.n; b++)
		total += (size_t)c->del.b[b].nrows;
	if (total == 0 || c->ins.n == 0)
		return 0;
	size_t ns = 16;
	while (ns < total * 2)
		ns *= 2;
	rowref *slots = calloc(ns, sizeof *slots);
	floe_buf keys = FLOE_BUF_INIT;
	size_t *koff = malloc((ns + 1) * sizeof *koff);
	if (!slots || !koff) {
		free(slots);
		free(koff);
		return oom(err);
	}
	/* slot i: h != 0 occupied; key bytes at koff[i] in `keys` */
	int rc = 0;
	for (size_t b = 0; b < c->del.n && !rc; b++)
		for (int64_t r = 0; r < c->del.b[b].nrows; r++) {
			if (c->kind[b][r] != CH_DELETE)
				continue;
			if (row_key(c, &c->del.b[b], kc, nk, r)) {
				rc = oom(err);
				break;
			}
			uint64_t h = XXH3_64bits(c->key.data, c->key.len) | 1;
			size_t j = h & (ns - 1);
			while (slots[j].h)
				j = (j + 1) & (ns - 1);
			slots[j].h = h;
			slots[j].b = (uint32_t)b;
			slots[j].row = (uint32_t)r;
			koff[j] = keys.len;
			uint32_t len = (uint32_t)c->key.len;
			if (floe_buf_append(&keys, &len, 4) || floe_buf_append(&keys, c->key.data, c->key.len)) {
				rc = oom(err);
				break;
			}
		}
	for (size_t b = 0; b < c->ins.n && !rc; b++)
		for (int64_t r = 0; r < c->ins.b[b].nrows; r++) {
			uint8_t *ik = &c->kind[c->del.n + b][r];
			if (*ik != CH_INSERT)
				continue;
			if (row_key(c, &c->ins.b[b], kc, nk, r)) {
				rc = oom(err);
				break;
			}
			uint64_t h = XXH3_64bits(c->key.data, c->key.len) | 1;
			for (size_t j = h & (ns - 1); slots[j].h; j = (j + 1) & (ns - 1)) {
				if (slots[j].h != h)
					continue;
				uint8_t *dk = &c->kind[slots[j].b][slots[j].row];
				if (*dk != CH_DELETE)
					continue;
				uint32_t len;
				memcpy(&len, keys.data + koff[j], 4);
				if (len != c->key.len || memcmp(keys.data + koff[j] + 4, c->key.data, len) != 0)
					continue;
				if (as_update) {
					*dk = CH_UPDATE_BEFORE;
					*ik = CH_UPDATE_AFTER;
				} else {
					*dk = 255; /* carried over unchanged */
					*ik = 255;
				}
				break;
			}
		}
	floe_buf_free(&keys);
	free(koff);
	free(slots);
	return rc;
}

/* The changes of snapshot c->snaps[c->cur] into del/ins. */
static int load_snapshot(floe_changes *c, floe_error *err)
{
	const ice_snapshot *s = c->snaps[c->cur];
	const ice_table_metadata *m = c->t->meta;
	const ice_snapshot *p = s->has_parent ? ice_metadata_snapshot(m, s->parent_id) : NULL;
	floe_arena_reset(c->arena);
	c->del.n = c->ins.n = 0;
	c->emit = 0;
	pathset added = { 0 }, removed = { 0 }, touched = { 0 };
	ice_deletes *nd = NULL;
	ice_manifest_file *mfs;
	size_t nm;
	int rc = ice_table_snapshot_manifests(c->t, s, c->arena, &mfs, &nm, err);
	if (!rc)
		rc = ice_deletes_new(&nd, c->t, err);
	for (size_t i = 0; !rc && i < nm; i++) {
		if (mfs[i].added_snapshot_id != s->snapshot_id && mfs[i].content == ICE_CONTENT_DATA &&
		    mfs[i].added_files_count + mfs[i].deleted_files_count == 0)
			continue;
		char local[4096];
		if (!ice_table_local_path(c->t, mfs[i].manifest_path, local, sizeof local)) {
			rc = floe_error_set(err, FLOE_EINVALID, "path too long");
			break;
		}
		ice_manifest_entry *ents;
		size_t ne;
		if ((rc = ice_manifest_read(&mfs[i], local, m, c->arena, &ents, &ne, err)))
			break;
		for (size_t k = 0; k < ne && !rc; k++) {
			const ice_manifest_entry *e = &ents[k];
			if (e->snapshot_id != s->snapshot_id || e->status == ICE_STATUS_EXISTING)
				continue;
			if (e->file.content == ICE_CONTENT_DATA)
				rc = pathset_add(e->status == ICE_STATUS_ADDED ? &added : &removed, e->file.file_path)
				             ? oom(err) : 0;
			else if (e->status == ICE_STATUS_ADDED)
				rc = ice_deletes_add(nd, e, ice_metadata_spec(m, e->file.spec_id), err);
		}
	}
	/* data files of the parent that the new delete files may touch */
	if (!rc && p && ice_deletes_count(nd) > 0) {
		ice_manifest_file *pm;
		size_t npm;
		rc = ice_table_snapshot_manifests(c->t, p, c->arena, &pm, &npm, err);
		for (size_t i = 0; !rc && i < npm; i++) {
			if (pm[i].content != ICE_CONTENT_DATA)
				continue;
			char local[4096];
			if (!ice_table_local_path(c->t, pm[i].manifest_path, local, sizeof local)) {
				rc = floe_error_set(err, FLOE_EINVALID, "path too long");
				break;
			}
			ice_manifest_entry *ents;
			size_t ne;
			if ((rc = ice_manifest_read(&pm[i], local, m, c->arena, &ents, &ne, err)))
				break;
			for (size_t k = 0; k < ne && !rc; k++) {
				if (ents[k].status == ICE_STATUS_DELETED || pathset_has(&removed, &ents[k].file))
					continue;
				bool may = false;
				for (int d = 0; d < ice_deletes_count(nd) && !may; d++)
					may = ice_deletes_may_apply(nd, d, &ents[k].file, ents[k].sequence_number);
				if (may && pathset_add(&touched, ents[k].file.file_path))
					rc = oom(err);
			}
		}
	}
	/* only appended: no row to pair, so the projected columns are enough */
	c->narrow = !rc && c->nproj >= 0 && removed.n == 0 && touched.n == 0;
	if (!rc && p)
		rc = read_files(c, p, &removed, NULL, &c->del, err);
	if (!rc && p)
		rc = read_files(c, p, &touched, s, &c->del, err);
	if (!rc)
		rc = read_files(c, s, &added, NULL, &c->ins, err);
	ice_deletes_free(nd);
	free(added.v);
	free(removed.v);
	free(touched.v);
	if (rc)
		return rc;
	/* a kind per row; carry-over out; updates by identifier fields */
	free(c->kind);
	c->kind = calloc(c->del.n + c->ins.n + 1, sizeof *c->kind);
	if (!c->kind)
		return oom(err);
	for (size_t b = 0; b < c->del.n + c->ins.n; b++) {
		const floe_batch *bb = b < c->del.n ? &c->del.b[b] : &c->ins.b[b - c->del.n];
		if (!(c->kind[b] = floe_arena_alloc(c->arena, (size_t)bb->nrows + 1)))
			return oom(err);
		memset(c->kind[b], b < c->del.n ? CH_DELETE : CH_INSERT, (size_t)bb->nrows);
	}
	if ((rc = pair_rows(c, NULL, 0, false, err)))
		return rc;
	if (c->nident > 0)
		rc = pair_rows(c, c->ident, c->nident, true, err);
	return rc;
}

int floe_changes_open(floe_changes **out, floe_table *t, int64_t from_snapshot_id,
                      int64_t to_snapshot_id, floe_error *err)
{
	*out = NULL;
	const ice_table_metadata *m = t->meta;
	const ice_snapshot *to = to_snapshot_id < 0 ? ice_metadata_current_snapshot(m)
	                                            : ice_metadata_snapshot(m, to_snapshot_id);
	if (!to)
		return floe_error_set(err, FLOE_ENOTFOUND, "%s has no snapshot %" PRId64 " (see 'floe "
		                      "snapshots %s')", t->ident, to_snapshot_id, t->ident);
	if (from_snapshot_id >= 0 && !ice_metadata_snapshot(m, from_snapshot_id))
		return floe_error_set(err, FLOE_ENOTFOUND, "%s has no snapshot %" PRId64 " (see 'floe "
		                      "snapshots %s'; expired snapshots cannot be read)", t->ident,
		                      from_snapshot_id, t->ident);
	floe_changes *c = calloc(1, sizeof *c);
	if (!c || !(c->arena = floe_arena_new(1 << 20))) {
		free(c);
		return oom(err);
	}
	c->t = t;
	c->nproj = -1;
	int rc = 0;
	/* the snapshots from `to` back to `from` (exclusive), oldest first;
	 * a `replace` (compaction, rewritten manifests) changes no row by the
	 * spec's definition, so its files are not read to find that out */
	int n = 0;
	for (const ice_snapshot *x = to; x && x->snapshot_id != from_snapshot_id;
	     x = x->has_parent ? ice_metadata_snapshot(m, x->parent_id) : NULL) {
		const char *op = ice_snapshot_summary(x, "operation");
		if (!op || strcmp(op, "replace") != 0) {
			const ice_snapshot **v = realloc(c->snaps, ((size_t)n + 1) * sizeof *v);
			if (!v) {
				rc = oom(err);
				goto fail;
			}
			c->snaps = v;
			c->snaps[n++] = x;
		}
		if (!x->has_parent && from_snapshot_id >= 0) {
			rc = floe_error_set(err, FLOE_EINVALID, "%s: snapshot %" PRId64 " is not an ancestor "
			                    "of %" PRId64, t->ident, from_snapshot_id, to->snapshot_id);
			goto fail;
		}
	}
	for (int i = 0; i < n / 2; i++) {
		const ice_snapshot *x = c->snaps[i];
		c->snaps[i] = c->snaps[n - 1 - i];
		c->snaps[n - 1 - i] = x;
	}
	c->nsnaps = n;
	c->cur = -1;
	/* the columns: the current schema's, then the change columns */
	floe_schema *all;
	floe_arena *sa = floe_arena_new(0);
	if (!sa) {
		rc = oom(err);
		goto fail;
	}
	if ((rc = ice_schema_to_floe(&all, ice_metadata_current_schema(m), sa, err))) {
		floe_arena_free(sa);
		goto fail;
	}
	c->cols = all;
	c->out = floe_arena_calloc(sa, 1, sizeof *c->out);
	floe_field *of = floe_arena_calloc(sa, (size_t)all->nfields + 3, sizeof *of);
	c->names = floe_arena_calloc(sa, (size_t)all->nfields + 1, sizeof *c->names);
	c->ident = floe_arena_calloc(sa, (size_t)all->nfields + 1, sizeof *c->ident);
	if (!c->out || !of || !c->names || !c->ident) {
		floe_arena_free(sa);
		rc = oom(err);
		goto fail;
	}
	for (int i = 0; i < all->nfields; i++) {
		of[i] = all->fields[i];
		c->names[i] = all->fields[i].name;
	}
	const ice_schema *cs = ice_metadata_current_schema(m);
	for (int i = 0; i < cs->nidentifier; i++) {
		int k = floe_schema_find_id(all, cs->identifier_field_ids[i]);
		if (k >= 0)
			c->ident[c->nident++] = k;
	}
	static const char *const extra[3] = { "_change_type", "_commit_snapshot_id",
	                                      "_commit_sequence_number" };
	for (int i = 0; i < 3; i++) {
		floe_field *f = &of[all->nfields + i];
		memset(f, 0, sizeof *f);
		f->name = extra[i];
		f->type.id = i == 0 ? FLOE_TYPE_STRING : FLOE_TYPE_LONG;
		f->required = true;
		f->field_id = -1;
	}
	c->out->nfields = all->nfields + 3;
	c->out->fields = of;
	c->schema_arena = sa;
	*out = c;
	return 0;
fail:
	floe_changes_free(c);
	return rc;
}

int floe_changes_next(floe_changes *c, const floe_batch **out, floe_error *err)
{
	for (;;) {
		size_t total = c->del.n + c->ins.n;
		if (c->cur < 0 || c->emit >= total) {
			if (c->cur + 1 >= c->nsnaps)
				return 0;
			c->cur++;
			int rc = load_snapshot(c, err);
			if (rc)
				return rc;
			continue;
		}
		size_t bi = c->emit++;
		const floe_batch *b = bi < c->del.n ? &c->del.b[bi] : &c->ins.b[bi - c->del.n];
		const uint8_t *kind = c->kind[bi];
		/* one output batch per kind present, in a fixed order */
		int order[4] = { CH_DELETE, CH_UPDATE_BEFORE, CH_INSERT, CH_UPDATE_AFTER };
		int64_t cnt[4] = { 0, 0, 0, 0 };
		for (int64_t r = 0; r < b->nrows; r++)
			if (kind[r] < 4)
				cnt[kind[r]]++;
		int64_t n = 0;
		for (int k = 0; k < 4; k++)
			n += cnt[k];
		if (n == 0)
			continue;
		int32_t *idx = floe_arena_alloc(c->arena, (size_t)n * 4 + 4);
		const char **kn = floe_arena_alloc(c->arena, (size_t)n * sizeof *kn + 8);
		if (!idx || !kn)
			return oom(err);
		int64_t k = 0;
		bool same = n == b->nrows; /* every row, in the batch's order */
		for (int o = 0; o < 4; o++)
			for (int64_t r = 0; r < b->nrows; r++)
				if (kind[r] == order[o]) {
					kn[k] = CHANGE_NAMES[order[o]];
					same &= r == k;
					idx[k++] = (int32_t)r;
				}
		/* the projected columns of b (del/ins batches may hold all) */
		floe_batch view = *b;
		if (c->nproj >= 0 && !c->narrow) {
			view.cols = floe_arena_calloc(c->arena, (size_t)c->nproj + 1, sizeof *view.cols);
			if (!view.cols)
				return oom(err);
			for (int i = 0; i < c->nproj; i++)
				view.cols[i] = b->cols[c->proj[i]];
			view.ncols = c->nproj;
		}
		/* the rows as they are (they live in c->arena until the next
		 * snapshot), or the picked rows in kind order */
		floe_batch g = view;
		int rc = same ? 0 : ice_batch_gather(c->arena, &view, idx, n, &g, err);
		if (rc)
			return rc;
		floe_column *cols = floe_arena_calloc(c->arena, (size_t)c->out->nfields + 1, sizeof *cols);
		if (!cols)
			return oom(err);
		memcpy(cols, g.cols, (size_t)g.ncols * sizeof *cols);
		/* _change_type */
		floe_column *ct = &cols[g.ncols];
		ct->type.id = FLOE_TYPE_STRING;
		ct->offsets = floe_arena_alloc(c->arena, (size_t)(n + 1) * 8);
		ct->data = floe_arena_alloc(c->arena, (size_t)n * 13 + 1);
		if (!ct->offsets || !ct->data)
			return oom(err);
		ct->offsets[0] = 0;
		for (int64_t r = 0; r < n; r++) {
			size_t l = strlen(kn[r]);
			memcpy(ct->data + ct->offsets[r], kn[r], l);
			ct->offsets[r + 1] = ct->offsets[r] + (int64_t)l;
		}
		const ice_snapshot *s = c->snaps[c->cur];
		ice_datum d;
		memset(&d, 0, sizeof d);
		d.type.id = FLOE_TYPE_LONG;
		d.v.i = s->snapshot_id;
		if ((rc = ice_const_column(c->arena, &d, n, &cols[g.ncols + 1], err)))
			return rc;
		d.v.i = s->sequence_number;
		if ((rc = ice_const_column(c->arena, &d, n, &cols[g.ncols + 2], err)))
			return rc;
		c->outb.nrows = n;
		c->outb.ncols = c->out->nfields;
		c->outb.cols = cols;
		c->outb.schema = c->out;
		*out = &c->outb;
		return 1;
	}
}
