/* iceberg/table_compact.c - compaction (Iceberg's rewrite_data_files,
 * bin-pack): per partition, small data files and files that deletes apply
 * to are read (deletes applied) and written again as target-sized files of
 * the current spec; delete files that then apply to no remaining data file
 * are dropped; one "replace" commit that fails cleanly when a concurrent
 * commit added delete files or removed a file it rewrites. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/deletes.h"
#include "iceberg/rowdelta.h"

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

void floe_compact_options_init(floe_compact_options *o)
{
	memset(o, 0, sizeof *o);
}

typedef struct cfile {
	const ice_manifest_entry *e;
	bool small, has_deletes, chosen;
} cfile;

static int cmp_partition(const void *a, const void *b)
{
	const ice_data_file *x = &((const cfile *)a)->e->file, *y = &((const cfile *)b)->e->file;
	if (x->spec_id != y->spec_id)
		return x->spec_id < y->spec_id ? -1 : 1;
	for (int i = 0; i < x->npartition && i < y->npartition; i++) {
		const ice_datum *p = &x->partition[i], *q = &y->partition[i];
		if (p->is_null != q->is_null)
			return p->is_null ? -1 : 1;
		if (p->is_null)
			continue;
		int c = ice_value_compare(&p->type, &p->v, &q->v);
		if (c)
			return c;
	}
	return (x->npartition > y->npartition) - (x->npartition < y->npartition);
}

static bool no_conflict(void *ctx, const ice_data_file *f)
{
	(void)ctx;
	(void)f;
	return false; /* appends meanwhile do not touch what is rewritten */
}

int floe_table_compact(floe_table *t, const floe_compact_options *o, floe_compact_result *res,
                       floe_error *err)
{
	floe_compact_options dflt;
	floe_compact_result dres;
	if (!o) {
		floe_compact_options_init(&dflt);
		o = &dflt;
	}
	if (!res)
		res = &dres;
	memset(res, 0, sizeof *res);
	res->snapshot_id = -1;
	ice_rowdelta d;
	int rc = ice_rowdelta_init(&d, t, "compaction", err);
	if (rc) {
		ice_rowdelta_release(&d);
		return rc;
	}
	ice_meta_ref *mref = ice_meta_ref_take(t->mref);
	ice_deletes *dels = NULL;
	floe_scan *scan = NULL;
	cfile *files = NULL;
	size_t nfiles = 0, cap = 0;
	const ice_snapshot *snap = ice_metadata_current_snapshot(d.m);
	int64_t target = o->target_file_size > 0
	                         ? o->target_file_size
	                         : ice_table_prop_int(d.m, "write.target-file-size-bytes", 512LL << 20);
	if (!snap)
		goto done;
	res->snapshot_id = d.base_id = snap->snapshot_id;
	for (int i = 0; i < d.m->nschemas; i++)
		if (d.m->schemas[i].schema_id == d.m->current_schema_id)
			for (int k = 0; k < d.m->schemas[i].nfields; k++)
				if (d.m->schemas[i].fields[k].type->kind != ICE_PRIMITIVE) {
					rc = floe_error_set(err, FLOE_EUNSUPPORTED, "%s has nested columns, which "
					                    "compaction cannot rewrite yet", t->ident);
					goto done;
				}
	ice_expr *where = NULL;
	if (o->where && *o->where) {
		ice_expr *parsed;
		if ((rc = ice_expr_parse(&parsed, o->where, d.arena, err)) ||
		    (rc = ice_expr_bind(&where, parsed, ice_metadata_current_schema(d.m), d.arena, err)))
			goto done;
	}
	/* every live file of the snapshot */
	ice_manifest_file *mfs;
	size_t nm;
	if ((rc = ice_table_snapshot_manifests(t, snap, d.arena, &mfs, &nm, err)) ||
	    (rc = ice_deletes_new(&dels, t, err)))
		goto done;
	for (size_t i = 0; i < nm; i++) {
		char local[4096];
		if (!ice_table_local_path(t, mfs[i].manifest_path, local, sizeof local)) {
			rc = floe_error_set(err, FLOE_EINVALID, "path too long");
			goto done;
		}
		ice_manifest_entry *ents;
		size_t ne;
		if ((rc = ice_manifest_read(&mfs[i], local, d.m, d.arena, &ents, &ne, err)))
			goto done;
		for (size_t k = 0; k < ne; k++) {
			if (ents[k].status == ICE_STATUS_DELETED)
				continue;
			if (ents[k].file.content != ICE_CONTENT_DATA) {
				const ice_partition_spec *ds = ice_metadata_spec(d.m, ents[k].file.spec_id);
				if ((rc = ice_deletes_add(dels, &ents[k], ds, err)))
					goto done;
				continue;
			}
			if (nfiles == cap) {
				size_t nc = cap ? cap * 2 : 64;
				cfile *v = realloc(files, nc * sizeof *v);
				if (!v) {
					rc = oom(err);
					goto done;
				}
				files = v;
				cap = nc;
			}
			memset(&files[nfiles], 0, sizeof files[nfiles]);
			files[nfiles].e = &ents[k];
			files[nfiles].small = ents[k].file.file_size_in_bytes < target * 3 / 4;
			nfiles++;
		}
	}
	int ndel = ice_deletes_count(dels);
	for (size_t i = 0; i < nfiles; i++)
		for (int k = 0; k < ndel && !files[i].has_deletes; k++)
			files[i].has_deletes = ice_deletes_may_apply(dels, k, &files[i].e->file,
			                                             files[i].e->sequence_number);
	/* per partition: rewrite when two or more files are small, or any has
	 * deletes (then the partition's small files join it) */
	if (nfiles)
		qsort(files, nfiles, sizeof *files, cmp_partition);
	for (size_t i = 0; i < nfiles;) {
		size_t j = i + 1;
		while (j < nfiles && cmp_partition(&files[i], &files[j]) == 0)
			j++;
		int small = 0, withdel = 0;
		for (size_t k = i; k < j; k++) {
			bool in = !where || ice_expr_might_match_file(where, &files[k].e->file);
			small += in && files[k].small;
			withdel += in && files[k].has_deletes;
		}
		for (size_t k = i; k < j && (small >= 2 || withdel > 0); k++) {
			bool in = !where || ice_expr_might_match_file(where, &files[k].e->file);
			files[k].chosen = in && (files[k].has_deletes || files[k].small);
		}
		i = j;
	}
	for (size_t i = 0; i < nfiles; i++) {
		if (!files[i].chosen)
			continue;
		ice_hit *h;
		const ice_data_file *f = &files[i].e->file;
		if ((rc = ice_rowdelta_hit(&d, f, ice_metadata_spec(d.m, f->spec_id), files[i].has_deletes,
		                           &h, err)))
			goto done;
		h->matched = 1;
		h->remove = true;
		res->data_files_rewritten++;
		res->bytes_read += f->file_size_in_bytes;
	}
	if (d.nhits == 0)
		goto done; /* nothing worth rewriting */
	/* delete files no remaining data file needs */
	for (int k = 0; k < ndel; k++) {
		bool needed = false;
		for (size_t i = 0; i < nfiles && !needed; i++)
			needed = !files[i].chosen &&
			         ice_deletes_may_apply(dels, k, &files[i].e->file, files[i].e->sequence_number);
		if (needed)
			continue;
		const ice_manifest_entry *de = ice_deletes_entry(dels, k);
		ice_hit *h;
		if ((rc = ice_rowdelta_hit(&d, &de->file, ice_metadata_spec(d.m, de->file.spec_id), false,
		                           &h, err)))
			goto done;
		h->remove = true;
		d.drop_deletes = true;
	}
	/* the rewrite: every live row of the chosen files */
	if ((rc = floe_append_begin(&d.rewrite, t, err)))
		goto done;
	ice_append_set_target(d.rewrite, target);
	floe_scan_options so;
	floe_scan_options_init(&so);
	floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, d.base_id, 0, NULL };
	so.snapshot = sel;
	ice_scan_ex ex;
	memset(&ex, 0, sizeof ex);
	ex.want_file = ice_rowdelta_want_hit;
	ex.ctx = &d;
	if ((rc = ice_scan_open_ex(&scan, t, &so, &ex, err)))
		goto done;
	const floe_batch *b;
	while ((rc = floe_scan_next(scan, &b, err)) == 1) {
		if ((rc = floe_append_batch(d.rewrite, b, err)))
			goto done;
		res->rows += b->nrows;
	}
	if (rc < 0)
		goto done;
	d.conflicts = no_conflict;
	d.op_name = "replace";
	if ((rc = ice_rowdelta_commit(&d, err)))
		goto done;
	res->snapshot_id = d.snapshot_id;
	res->data_files_added = (int64_t)d.nadded;
	res->bytes_written = d.added_bytes;
	res->delete_files_removed = d.removed_delete_files;
done:
	floe_scan_free(scan);
	ice_rowdelta_release(&d);
	ice_deletes_free(dels);
	free(files);
	ice_meta_ref_drop(mref);
	return rc;
}
