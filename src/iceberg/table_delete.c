/* iceberg/table_delete.c - DELETE WHERE: find the matching rows (with
 * their data file and position), then either rewrite the files that hold
 * them without those rows (copy-on-write) or write position delete files
 * (merge-on-read), and commit (iceberg/rowdelta.h). A data file whose every
 * row matches is removed whole in both modes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/rowdelta.h"

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

static int find_rows(ice_rowdelta *d, floe_scan **scan, const char *where, floe_error *err)
{
	static const char *const none[1] = { NULL };
	floe_scan_options so;
	floe_scan_options_init(&so);
	so.columns = none; /* only what the filter reads */
	so.ncolumns = 0;
	so.where = where;
	ice_scan_ex ex;
	memset(&ex, 0, sizeof ex);
	int rc = ice_scan_open_ex(scan, d->t, &so, &ex, err);
	if (rc)
		return rc;
	const ice_snapshot *snap = ice_scan_snapshot(*scan);
	d->base_id = snap ? snap->snapshot_id : -1;
	const floe_batch *b;
	ice_hit *cur = NULL;
	while ((rc = floe_scan_next(*scan, &b, err)) == 1) {
		const ice_partition_spec *spec;
		bool has_del;
		const ice_data_file *f = ice_scan_file(*scan, NULL, &spec, &has_del);
		if (!cur || cur->f != f) {
			cur = ice_rowdelta_find(d, f->file_path);
			if (!cur && (rc = ice_rowdelta_hit(d, f, spec, has_del, &cur, err)))
				return rc;
		}
		cur->matched += b->nrows;
		if (d->mor && floe_buf_append(&cur->pos, ice_scan_positions(*scan),
		                              (size_t)b->nrows * sizeof(int64_t)))
			return oom(err);
	}
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < d->nhits; i++) {
		ice_hit *x = &d->hits[i];
		/* every row of a file without deletes matched: remove it whole */
		x->remove = !d->mor || (!x->has_deletes && x->matched == x->f->record_count);
	}
	return 0;
}

/* ---- copy-on-write: the rows that stay, into new files -------------------- */

static int rewrite_files(ice_rowdelta *d, floe_error *err)
{
	bool any = false;
	for (size_t i = 0; i < d->nhits && !any; i++)
		any = !(d->hits[i].f->record_count == d->hits[i].matched && !d->hits[i].has_deletes);
	if (!any)
		return 0; /* only whole files */
	if (ice_schema_has_nested(d->m))
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s has nested columns, which copy-on-write "
		                      "cannot rewrite yet; set write.delete.mode=merge-on-read", d->t->ident);
	floe_scan *s = NULL;
	floe_scan_options so;
	floe_scan_options_init(&so);
	floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, d->base_id, 0, NULL };
	so.snapshot = sel;
	so.where = NULL;
	ice_scan_ex ex;
	memset(&ex, 0, sizeof ex);
	ex.all_rows = true;
	ex.want_file = ice_rowdelta_want_hit;
	ex.ctx = d;
	/* the filter marks rows; rows it marks are left out */
	floe_arena *ga = floe_arena_new(1 << 20);
	int rc = ga ? 0 : oom(err);
	if (!rc)
		rc = floe_append_begin(&d->rewrite, d->t, err);
	so.where = d->where;
	if (!rc)
		rc = ice_scan_open_ex(&s, d->t, &so, &ex, err);
	const floe_batch *b;
	while (!rc && (rc = floe_scan_next(s, &b, err)) == 1) {
		rc = 0;
		floe_arena_reset(ga);
		if ((rc = ice_rowdelta_keep_rows(d, b, ice_scan_matches(s), ga, err)))
			break;
	}
	if (rc > 0)
		rc = 0;
	floe_scan_free(s);
	floe_arena_free(ga);
	return rc;
}

/* ---- merge-on-read: position delete files ---------------------------------- */

int floe_table_delete(floe_table *t, const char *where, floe_delete_result *res, floe_error *err)
{
	floe_delete_result dummy;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	res->snapshot_id = -1;
	ice_rowdelta d;
	int rc = ice_rowdelta_init(&d, t, "delete", err);
	if (rc) {
		ice_rowdelta_release(&d);
		return rc;
	}
	ice_meta_ref *mref = ice_meta_ref_take(t->mref);
	floe_scan *scan = NULL;
	const char *mode = ice_metadata_property(d.m, "write.delete.mode");
	if (!rc && mode && strcmp(mode, "merge-on-read") != 0 && strcmp(mode, "copy-on-write") != 0)
		rc = floe_error_set(err, FLOE_EINVALID, "%s: table property write.delete.mode is '%s'; use "
		                    "copy-on-write or merge-on-read", t->ident, mode);
	d.mor = mode && strcmp(mode, "merge-on-read") == 0;
	d.where = where && *where ? where : NULL;
	res->merge_on_read = d.mor;
	if (!rc && d.where) {
		ice_expr *parsed;
		if ((rc = ice_expr_parse(&parsed, where, d.arena, err)) == 0)
			rc = ice_expr_bind(&d.expr, parsed, ice_metadata_current_schema(d.m), d.arena, err);
	}
	d.conflicts = ice_rowdelta_filter_conflicts;
	d.cctx = d.expr;
	if (!rc)
		rc = find_rows(&d, &scan, d.where, err);
	int64_t matched = 0;
	for (size_t i = 0; i < d.nhits; i++)
		matched += d.hits[i].matched;
	if (!rc && matched == 0) {
		res->snapshot_id = d.base_id;
		goto done;
	}
	if (!rc && !d.mor)
		rc = rewrite_files(&d, err);
	if (!rc && d.mor)
		rc = ice_rowdelta_write_position_deletes(&d, err);
	if (!rc)
		rc = ice_rowdelta_commit(&d, err);
	if (!rc) {
		res->snapshot_id = d.snapshot_id;
		res->rows_deleted = matched;
		res->delete_files_added = (int64_t)d.ndels_written;
		res->data_files_removed = d.removed_files;
		res->data_files_added = (int64_t)d.nadded;
	}
done:
	ice_rowdelta_release(&d);
	floe_scan_free(scan);
	ice_meta_ref_drop(mref);
	return rc;
}
