/* iceberg/table_rows.c - row-level changes by row position: the rows a
 * positioned scan found (data file + position) are deleted, and new rows
 * may be appended, in one commit. This is how UPDATE and DELETE through
 * SQL reach a table: SQLite names the rows, not a filter. Copy-on-write
 * rewrites the files holding them; merge-on-read writes position delete
 * files; both through the row-delta commit the filter-based operations
 * use (rowdelta.h). */
#include <stdlib.h>
#include <string.h>

#include "iceberg/rowdelta.h"

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

static int cmp_ref(const void *a, const void *b)
{
	const floe_row_ref *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

typedef struct refs {
	floe_row_ref *v; /* sorted by file, then position; no repeats */
	int64_t n;
} refs;

/* The refs of `file`: [*lo, *hi). */
static void file_range(const refs *r, const char *file, int64_t *lo, int64_t *hi)
{
	int64_t a = 0, b = r->n;
	while (a < b) {
		int64_t m = (a + b) / 2;
		if (strcmp(r->v[m].file, file) < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	b = r->n;
	while (a < b) {
		int64_t m = (a + b) / 2;
		if (strcmp(r->v[m].file, file) <= 0)
			a = m + 1;
		else
			b = m;
	}
	*hi = a;
}

static bool want_ref_file(void *ctx, const ice_data_file *f)
{
	int64_t lo, hi;
	file_range(ctx, f->file_path, &lo, &hi);
	return hi > lo;
}

static bool has_pos(const refs *r, int64_t lo, int64_t hi, int64_t pos)
{
	while (lo < hi) {
		int64_t m = (lo + hi) / 2;
		if (r->v[m].pos < pos)
			lo = m + 1;
		else if (r->v[m].pos > pos)
			hi = m;
		else
			return true;
	}
	return false;
}

/* Mark the rows of the batch last returned whose positions are refs;
 * returns how many. */
static int64_t mark(const refs *r, const char *file, const int64_t *pos, int64_t n, uint8_t *hit)
{
	int64_t lo, hi, k = 0;
	file_range(r, file, &lo, &hi);
	for (int64_t i = 0; i < n; i++) {
		hit[i] = has_pos(r, lo, hi, pos[i]);
		k += hit[i];
	}
	return k;
}

int floe_table_delete_rows(floe_table *t, int64_t base_snapshot_id, const floe_row_ref *rows,
                           int64_t nrows, const floe_batch *insert, floe_delete_result *res,
                           floe_error *err)
{
	floe_delete_result dummy;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	res->snapshot_id = -1;
	if (nrows < 0 || (nrows > 0 && !rows))
		return floe_error_set(err, FLOE_EINVALID, "delete rows: no rows given");
	bool ins = insert && insert->nrows > 0;
	refs r = { NULL, 0 };
	if (nrows > 0) {
		r.v = malloc((size_t)nrows * sizeof *r.v);
		if (!r.v)
			return oom(err);
		memcpy(r.v, rows, (size_t)nrows * sizeof *r.v);
		qsort(r.v, (size_t)nrows, sizeof *r.v, cmp_ref);
		for (int64_t i = 0; i < nrows; i++)
			if (r.n == 0 || cmp_ref(&r.v[r.n - 1], &r.v[i]) != 0)
				r.v[r.n++] = r.v[i];
	}
	ice_rowdelta d;
	int rc = ice_rowdelta_init(&d, t, ins ? "update" : "delete", err);
	if (rc) {
		ice_rowdelta_release(&d);
		free(r.v);
		return rc;
	}
	ice_meta_ref *mref = ice_meta_ref_take(t->mref);
	floe_scan *scan = NULL, *scan2 = NULL; /* the hits' files live in the first */
	floe_arena *ga = floe_arena_new(1 << 20);
	const char *prop = ins ? "write.update.mode" : "write.delete.mode";
	const char *mode = ice_metadata_property(d.m, prop);
	if (!ga)
		rc = oom(err);
	if (!rc && mode && strcmp(mode, "merge-on-read") != 0 && strcmp(mode, "copy-on-write") != 0)
		rc = floe_error_set(err, FLOE_EINVALID, "%s: table property %s is '%s'; use "
		                    "copy-on-write or merge-on-read", t->ident, prop, mode);
	d.mor = mode && strcmp(mode, "merge-on-read") == 0;
	res->merge_on_read = d.mor;
	d.base_id = base_snapshot_id;
	d.conflicts = ice_rowdelta_no_conflicts; /* the rows are named: appends do not matter */
	if (!rc && !d.mor && ice_schema_has_nested(d.m))
		rc = floe_error_set(err, FLOE_EUNSUPPORTED, "%s has nested columns, which a "
		                    "copy-on-write rewrite cannot carry yet", t->ident);
	if (!rc)
		rc = floe_append_begin(&d.rewrite, t, err);
	floe_snapshot_sel base = { FLOE_SNAPSHOT_ID, base_snapshot_id, 0, NULL };
	/* pass 1: which refs are live rows, file by file (one narrow column) */
	int64_t matched = 0;
	if (!rc && r.n > 0) {
		const ice_schema *sc = ice_metadata_current_schema(d.m);
		floe_scan_options so;
		floe_scan_options_init(&so);
		so.snapshot = base;
		const char *first = sc && sc->nfields > 0 ? sc->fields[0].name : NULL;
		if (first) {
			so.columns = &first;
			so.ncolumns = 1;
		}
		ice_scan_ex ex;
		memset(&ex, 0, sizeof ex);
		ex.all_rows = true;
		ex.want_file = want_ref_file;
		ex.ctx = &r;
		rc = ice_scan_open_ex(&scan, t, &so, &ex, err);
		const floe_batch *b;
		ice_hit *cur = NULL;
		while (!rc && (rc = floe_scan_next(scan, &b, err)) == 1) {
			rc = 0;
			const ice_partition_spec *spec;
			bool has_del;
			const ice_data_file *f = ice_scan_file(scan, NULL, &spec, &has_del);
			floe_arena_reset(ga);
			uint8_t *hit = floe_arena_alloc(ga, (size_t)b->nrows + 1);
			if (!hit) {
				rc = oom(err);
				break;
			}
			const int64_t *pos = ice_scan_positions(scan);
			int64_t k = mark(&r, f->file_path, pos, b->nrows, hit);
			if (k == 0)
				continue;
			if (!cur || cur->f != f) {
				cur = ice_rowdelta_find(&d, f->file_path);
				if (!cur && (rc = ice_rowdelta_hit(&d, f, spec, has_del, &cur, err)))
					break;
			}
			cur->matched += k;
			matched += k;
			if (!d.mor)
				continue;
			for (int64_t i = 0; i < b->nrows && !rc; i++)
				if (hit[i] && floe_buf_append(&cur->pos, &pos[i], sizeof pos[i]))
					rc = oom(err);
		}
		if (rc > 0)
			rc = 0;
	}
	if (!rc && matched == 0 && !ins) {
		res->snapshot_id = base_snapshot_id;
		goto done;
	}
	if (!rc && matched > 0 && d.mor) {
		rc = ice_rowdelta_write_position_deletes(&d, err);
	} else if (!rc && matched > 0) {
		/* copy-on-write: the files holding the rows again, the others kept */
		for (size_t i = 0; i < d.nhits; i++)
			d.hits[i].remove = true;
		floe_scan_options so;
		floe_scan_options_init(&so);
		so.snapshot = base;
		ice_scan_ex ex;
		memset(&ex, 0, sizeof ex);
		ex.all_rows = true;
		ex.current_schema = true;
		ex.want_file = ice_rowdelta_want_hit;
		ex.ctx = &d;
		rc = ice_scan_open_ex(&scan2, t, &so, &ex, err);
		const floe_batch *b;
		while (!rc && (rc = floe_scan_next(scan2, &b, err)) == 1) {
			rc = 0;
			const ice_data_file *f = ice_scan_file(scan2, NULL, NULL, NULL);
			floe_arena_reset(ga);
			uint8_t *hit = floe_arena_alloc(ga, (size_t)b->nrows + 1);
			if (!hit) {
				rc = oom(err);
				break;
			}
			mark(&r, f->file_path, ice_scan_positions(scan2), b->nrows, hit);
			if ((rc = ice_rowdelta_keep_rows(&d, b, hit, ga, err)))
				break;
		}
		if (rc > 0)
			rc = 0;
	}
	if (!rc && ins)
		rc = floe_append_batch(d.rewrite, insert, err);
	d.op_name = ins ? "overwrite" : NULL;
	if (!rc)
		rc = ice_rowdelta_commit(&d, err);
	if (!rc) {
		res->snapshot_id = d.snapshot_id;
		res->rows_deleted = matched;
		res->data_files_removed = d.removed_files;
		res->data_files_added = (int64_t)d.nadded;
		res->delete_files_added = (int64_t)d.ndels_written;
	}
done:
	floe_scan_free(scan2);
	ice_rowdelta_release(&d);
	floe_scan_free(scan);
	floe_arena_free(ga);
	ice_meta_ref_drop(mref);
	free(r.v);
	return rc;
}
