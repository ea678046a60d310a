/* iceberg/table_compact.c - compaction (Iceberg's rewrite_data_files,
 * bin-pack): per partition, small data files and files that deletes apply
 * to are read (deletes applied) and written again as target-sized files of
 * the current spec (a file without deletes whose row groups are large
 * enough has them copied as they are, not decoded); delete files that then
 * apply to no remaining data file are dropped; one "replace" commit that
 * fails cleanly when a concurrent commit added delete files or removed a
 * file it rewrites. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/deletes.h"
#include "iceberg/rowdelta.h"
#include "iceberg/transform.h"

#define SORT_RUN_BYTES (256LL << 20)

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
	bool copied;             /* its row groups went into a new file as they are */
} cfile;

static int cmp_partition(const void *a, const void *b)
{
	const ice_data_file *x = &((const cfile *)a)->e->file, *y = &((const cfile *)b)->e->file;
	if (x->spec_id != y->spec_id)
		return x->spec_id < y->spec_id ? -1 : 1;
	return ice_partition_compare(x->partition, x->npartition, y->partition, y->npartition);
}

/* ---- sorting by the table's sort order ---------------------------------------- */

typedef struct sort_key {
	int col;                 /* in the scan's columns */
	bool desc, nulls_first;
} sort_key;

typedef struct row_ref {
	uint32_t b, r;
} row_ref;

typedef struct sorter {
	floe_batch *b;           /* buffered batches (copies) */
	size_t n, cap;
	int64_t rows, bytes;
	floe_arena *arena;
	const sort_key *keys;
	int nkeys;
} sorter;

static int ref_cmp(const sorter *so, row_ref x, row_ref y)
{
	for (int k = 0; k < so->nkeys; k++) {
		const sort_key *sk = &so->keys[k];
		const floe_column *a = &so->b[x.b].cols[sk->col], *b = &so->b[y.b].cols[sk->col];
		bool na = !floe_column_is_valid(a, x.r), nb = !floe_column_is_valid(b, y.r);
		if (na || nb) {
			if (na && nb)
				continue;
			return (na ? -1 : 1) * (sk->nulls_first ? 1 : -1);
		}
		int c = ice_cell_cmp(a, x.r, b, y.r);
		if (c)
			return sk->desc ? -c : c;
	}
	/* stable: the order rows were read in */
	if (x.b != y.b)
		return x.b < y.b ? -1 : 1;
	return (x.r > y.r) - (x.r < y.r);
}

/* Merge sort of v[0..n) with tmp of n (a comparator with context). */
static void sort_refs(const sorter *so, row_ref *v, row_ref *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	sort_refs(so, v, tmp, h);
	sort_refs(so, v + h, tmp, n - h);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = ref_cmp(so, v[j], v[i]) < 0 ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

/* Rows refs[0..n) of the buffered batches as one batch in `arena`. */
static int gather_refs(const sorter *so, const row_ref *refs, int64_t n, floe_arena *arena,
                       floe_batch *out, floe_error *err)
{
	const floe_batch *b0 = &so->b[refs[0].b];
	floe_column *cols = floe_arena_calloc(arena, (size_t)b0->ncols + 1, sizeof *cols);
	if (!cols)
		return oom(err);
	for (int c = 0; c < b0->ncols; c++) {
		floe_column *d = &cols[c];
		d->type = b0->cols[c].type;
		d->validity = floe_arena_calloc(arena, (size_t)(n + 7) / 8 + 1, 1);
		if (!d->validity)
			return oom(err);
		int64_t nulls = 0;
		for (int64_t i = 0; i < n; i++) {
			bool v = floe_column_is_valid(&so->b[refs[i].b].cols[c], refs[i].r);
			floe_bitmap_set(d->validity, i, v);
			nulls += !v;
		}
		d->null_count = nulls;
		if (floe_type_is_variable(&d->type)) {
			int64_t total = 0;
			for (int64_t i = 0; i < n; i++) {
				const floe_column *s = &so->b[refs[i].b].cols[c];
				total += s->offsets[refs[i].r + 1] - s->offsets[refs[i].r];
			}
			d->offsets = floe_arena_alloc(arena, (size_t)(n + 1) * 8);
			d->data = floe_arena_alloc(arena, (size_t)total + 1);
			if (!d->offsets || !d->data)
				return oom(err);
			d->offsets[0] = 0;
			for (int64_t i = 0; i < n; i++) {
				const floe_column *s = &so->b[refs[i].b].cols[c];
				int64_t len = s->offsets[refs[i].r + 1] - s->offsets[refs[i].r];
				if (len)
					memcpy(d->data + d->offsets[i], s->data + s->offsets[refs[i].r], (size_t)len);
				d->offsets[i + 1] = d->offsets[i] + len;
			}
		} else {
			size_t w = (size_t)floe_type_value_width(&d->type);
			uint8_t *v = floe_arena_alloc(arena, (size_t)n * w + 1);
			if (!v)
				return oom(err);
			for (int64_t i = 0; i < n; i++)
				memcpy(v + (size_t)i * w,
				       (const uint8_t *)so->b[refs[i].b].cols[c].values + (size_t)refs[i].r * w, w);
			d->values = v;
		}
	}
	out->nrows = n;
	out->ncols = b0->ncols;
	out->cols = cols;
	out->schema = b0->schema;
	return 0;
}

/* Sort what is buffered and append it; empty the buffer. */
static int sorter_flush(sorter *so, floe_append *a, floe_error *err)
{
	if (so->rows == 0)
		return 0;
	row_ref *v = malloc((size_t)so->rows * sizeof *v), *tmp = malloc((size_t)so->rows * sizeof *tmp);
	int rc = v && tmp ? 0 : oom(err);
	int64_t k = 0;
	for (size_t b = 0; !rc && b < so->n; b++)
		for (int64_t r = 0; r < so->b[b].nrows; r++) {
			v[k].b = (uint32_t)b;
			v[k++].r = (uint32_t)r;
		}
	if (!rc)
		sort_refs(so, v, tmp, (size_t)k);
	floe_arena *oa = rc ? NULL : floe_arena_new(1 << 20);
	if (!rc && !oa)
		rc = oom(err);
	for (int64_t i = 0; !rc && i < k; i += 65536) {
		int64_t m = k - i < 65536 ? k - i : 65536;
		floe_batch out;
		floe_arena_reset(oa);
		if (!(rc = gather_refs(so, v + i, m, oa, &out, err)))
			rc = floe_append_batch(a, &out, err);
	}
	floe_arena_free(oa);
	free(v);
	free(tmp);
	so->n = 0;
	so->rows = so->bytes = 0;
	floe_arena_reset(so->arena);
	return rc;
}

static int sorter_add(sorter *so, const floe_batch *b, floe_append *a, floe_error *err)
{
	if (so->n == so->cap) {
		size_t cap = so->cap ? so->cap * 2 : 16;
		floe_batch *v = realloc(so->b, cap * sizeof *v);
		if (!v)
			return oom(err);
		so->b = v;
		so->cap = cap;
	}
	int32_t *idx = floe_arena_alloc(so->arena, (size_t)b->nrows * 4 + 4);
	if (!idx)
		return oom(err);
	for (int64_t r = 0; r < b->nrows; r++)
		idx[r] = (int32_t)r;
	int rc = ice_batch_gather(so->arena, b, idx, b->nrows, &so->b[so->n++], err);
	if (rc)
		return rc;
	so->rows += b->nrows;
	for (int c = 0; c < b->ncols; c++)
		so->bytes += b->cols[c].offsets ? b->cols[c].offsets[b->nrows] - b->cols[c].offsets[0] +
		                                          b->nrows * 8
		                                : b->nrows * floe_type_value_width(&b->cols[c].type);
	/* a sorted run is at most SORT_RUN_BYTES of rows (memory stays bounded;
	 * each run becomes files of its own) */
	if (so->bytes >= SORT_RUN_BYTES || so->rows >= INT32_MAX / 2)
		return sorter_flush(so, a, err);
	return 0;
}

typedef struct group_want {
	const cfile *files;
	size_t from, to;
} group_want;

static bool want_group(void *ctx, const ice_data_file *f)
{
	const group_want *g = ctx;
	for (size_t i = g->from; i < g->to; i++)
		if (g->files[i].chosen && !g->files[i].copied &&
		    strcmp(g->files[i].e->file.file_path, f->file_path) == 0)
			return true;
	return false;
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
	int64_t small_below = o->min_file_size > 0 ? o->min_file_size : target * 3 / 4;
	if (!snap)
		goto done;
	res->snapshot_id = d.base_id = snap->snapshot_id;
	if (ice_schema_has_nested(d.m)) {
		rc = floe_error_set(err, FLOE_EUNSUPPORTED, "%s has nested columns, which compaction "
		                    "cannot rewrite yet", t->ident);
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
			files[nfiles].small = ents[k].file.file_size_in_bytes < small_below;
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
	/* the rewrite: every live row of the chosen files; with a sort order,
	 * partition by partition, each run of rows sorted before it is written */
	if ((rc = floe_append_begin(&d.rewrite, t, err)))
		goto done;
	ice_append_set_target(d.rewrite, target);
	const ice_sort_order *order = NULL;
	for (int i = 0; i < d.m->nsort_orders; i++)
		if (d.m->sort_orders[i].order_id == d.m->default_sort_order_id &&
		    d.m->sort_orders[i].nfields > 0)
			order = &d.m->sort_orders[i];
	sort_key keys[32];
	int nkeys = 0;
	floe_schema *cur_flat = NULL;
	if (order && (rc = ice_schema_to_floe(&cur_flat, ice_metadata_current_schema(d.m), d.arena, err)))
		goto done;
	for (int i = 0; order && i < order->nfields && nkeys < 32; i++) {
		const ice_sort_field *sf = &order->fields[i];
		/* order-preserving transforms sort as their source column does;
		 * bucket and void add no order */
		if (sf->transform.kind != ICE_T_IDENTITY && !ice_transform_preserves_order(&sf->transform))
			continue;
		int col = floe_schema_find_id(cur_flat, sf->source_id);
		if (col < 0)
			continue;
		keys[nkeys].col = col;
		keys[nkeys].desc = sf->descending;
		keys[nkeys].nulls_first = sf->nulls_first;
		nkeys++;
	}
	/* files without deletes whose row groups are large enough go in as they
	 * are, unless rows must be sorted: no decoding, no encoding */
	int64_t copy_min = o->copy_min_row_group_bytes > 0
	                           ? o->copy_min_row_group_bytes
	                           : ice_table_prop_int(d.m, "write.parquet.row-group-size-bytes",
	                                                128LL << 20) / 16;
	for (size_t i = 0; i < nfiles && nkeys == 0 && !o->rewrite_all; i++) {
		if (!files[i].chosen || files[i].has_deletes)
			continue;
		char local[4096];
		if (!ice_table_local_path(t, files[i].e->file.file_path, local, sizeof local)) {
			rc = floe_error_set(err, FLOE_EINVALID, "path too long");
			goto done;
		}
		if ((rc = ice_append_copy_file(d.rewrite, &files[i].e->file, local, copy_min,
		                               &files[i].copied, err)))
			goto done;
		if (files[i].copied) {
			res->data_files_copied++;
			res->rows += files[i].e->file.record_count;
		}
	}
	/* the equality deletes load only keys within the bounds of the files
	 * read */
	for (size_t i = 0; i < nfiles; i++)
		if (files[i].chosen && !files[i].copied)
			ice_deletes_plan(dels, &files[i].e->file, files[i].e->sequence_number);
	sorter so;
	memset(&so, 0, sizeof so);
	so.keys = keys;
	so.nkeys = nkeys;
	if (nkeys && !(so.arena = floe_arena_new(1 << 20))) {
		rc = oom(err);
		goto done;
	}
	for (size_t g0 = 0; g0 < nfiles && !rc;) {
		/* one scan per partition: its files' rows arrive together, so
		 * they pack into target-sized files (rows of a partition spread
		 * over a scan of every partition would find its file closed as
		 * idle and start another) and, with a sort order, sort together */
		size_t g1 = g0 + 1;
		while (g1 < nfiles && cmp_partition(&files[g0], &files[g1]) == 0)
			g1++;
		group_want gw = { files, g0, g1 };
		bool any = false;
		for (size_t i = g0; i < g1; i++)
			any |= files[i].chosen && !files[i].copied;
		g0 = g1;
		if (!any)
			continue;
		floe_scan_options so2;
		floe_scan_options_init(&so2);
		floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, d.base_id, 0, NULL };
		so2.snapshot = sel;
		ice_scan_ex ex;
		memset(&ex, 0, sizeof ex);
		ex.want_file = want_group;
		ex.ctx = &gw;
		ex.deletes = dels; /* loaded once for every partition's scan */
		ex.current_schema = true;
		floe_scan_free(scan);
		scan = NULL;
		if ((rc = ice_scan_open_ex(&scan, t, &so2, &ex, err)))
			break;
		const floe_batch *b;
		while ((rc = floe_scan_next(scan, &b, err)) == 1) {
			rc = nkeys ? sorter_add(&so, b, d.rewrite, err) : floe_append_batch(d.rewrite, b, err);
			if (rc)
				break;
			res->rows += b->nrows;
		}
		if (rc > 0)
			rc = 0;
		if (!rc && nkeys)
			rc = sorter_flush(&so, d.rewrite, err);
	}
	free(so.b);
	floe_arena_free(so.arena);
	if (rc)
		goto done;
	d.conflicts = ice_rowdelta_no_conflicts;
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
