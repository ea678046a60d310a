/* iceberg/table_rowdelta.c - the commit of a row-level operation: data
 * files removed (their manifests rewritten with DELETED entries), data and
 * delete files added, position and equality delete files written, and the
 * validation of commits that happened since the operation read the table. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "floe/parquet.h"
#include "iceberg/deletes.h"
#include "iceberg/rowdelta.h"
#include "util/fs.h"

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

static uint64_t path_hash(const char *p)
{
	return XXH3_64bits(p, strlen(p)) | 1;
}

ice_hit *ice_rowdelta_find(const ice_rowdelta *d, const char *path)
{
	if (!d->nslots)
		return NULL;
	uint64_t h = path_hash(path);
	for (size_t j = h & (d->nslots - 1);; j = (j + 1) & (d->nslots - 1)) {
		uint64_t v = d->slots[j];
		if (!v)
			return NULL;
		ice_hit *x = &d->hits[v - 1];
		if (strcmp(x->f->file_path, path) == 0)
			return x;
	}
}

int ice_rowdelta_hit(ice_rowdelta *d, const ice_data_file *f, const ice_partition_spec *spec,
                     bool has_del, ice_hit **out, floe_error *err)
{
	if ((d->nhits + 1) * 2 > d->nslots) {
		size_t ns = d->nslots ? d->nslots * 2 : 64;
		uint64_t *v = calloc(ns, sizeof *v);
		if (!v)
			return oom(err);
		for (size_t i = 0; i < d->nhits; i++) {
			size_t j = path_hash(d->hits[i].f->file_path) & (ns - 1);
			while (v[j])
				j = (j + 1) & (ns - 1);
			v[j] = i + 1;
		}
		free(d->slots);
		d->slots = v;
		d->nslots = ns;
	}
	if (d->nhits == d->caphits) {
		size_t cap = d->caphits ? d->caphits * 2 : 16;
		ice_hit *v = realloc(d->hits, cap * sizeof *v);
		if (!v)
			return oom(err);
		d->hits = v;
		d->caphits = cap;
	}
	ice_hit *x = &d->hits[d->nhits];
	memset(x, 0, sizeof *x);
	x->f = f;
	x->spec = spec;
	x->has_deletes = has_del;
	size_t j = path_hash(f->file_path) & (d->nslots - 1);
	while (d->slots[j])
		j = (j + 1) & (d->nslots - 1);
	d->slots[j] = ++d->nhits;
	*out = x;
	return 0;
}

int ice_rowdelta_keep_rows(ice_rowdelta *d, const floe_batch *b, const uint8_t *drop,
                           floe_arena *ga, floe_error *err)
{
	int32_t *idx = floe_arena_alloc(ga, (size_t)b->nrows * 4 + 4);
	if (!idx)
		return oom(err);
	int64_t k = 0;
	for (int64_t r = 0; r < b->nrows; r++)
		if (!drop[r])
			idx[k++] = (int32_t)r;
	if (k == 0)
		return 0;
	floe_batch keep;
	int rc = ice_batch_gather(ga, b, idx, k, &keep, err);
	return rc ? rc : floe_append_batch(d->rewrite, &keep, err);
}

bool ice_rowdelta_want_hit(void *ctx, const ice_data_file *f)
{
	const ice_hit *x = ice_rowdelta_find(ctx, f->file_path);
	return x && x->matched > 0;
}

/* ---- finding the rows ------------------------------------------------------ */

typedef struct pos_row {
	const char *path;
	int64_t pos;
} pos_row;

static int cmp_pos_row(const void *a, const void *b)
{
	const pos_row *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

static int cmp_hit_partition(const void *a, const void *b)
{
	const ice_hit *x = *(ice_hit *const *)a, *y = *(ice_hit *const *)b;
	if (x->f->spec_id != y->f->spec_id)
		return x->f->spec_id < y->f->spec_id ? -1 : 1;
	int c = ice_partition_compare(x->f->partition, x->f->npartition, y->f->partition,
	                              y->f->npartition);
	return c ? c : strcmp(x->f->file_path, y->f->file_path);
}

static int set_bound(floe_arena *a, const uint8_t *p, size_t n, const uint8_t **out, size_t *len)
{
	uint8_t *c = floe_arena_alloc(a, n + 1);
	if (!c)
		return FLOE_ENOMEM;
	if (n)
		memcpy(c, p, n);
	*out = c;
	*len = n;
	return 0;
}

/* One position delete file for the hits group[0..n) (one partition). */
static int write_delete_file(ice_rowdelta *d, ice_hit **group, size_t n, int seqno, floe_error *err)
{
	const ice_data_file *first = group[0]->f;
	int64_t rows = 0;
	for (size_t i = 0; i < n; i++)
		rows += (int64_t)(group[i]->pos.len / sizeof(int64_t));
	pos_row *pr = malloc((size_t)rows * sizeof *pr + 1);
	if (!pr)
		return oom(err);
	int64_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const int64_t *p = (const int64_t *)group[i]->pos.data;
		for (size_t j = 0; j < group[i]->pos.len / sizeof(int64_t); j++) {
			pr[k].path = group[i]->f->file_path;
			pr[k++].pos = p[j];
		}
	}
	qsort(pr, (size_t)rows, sizeof *pr, cmp_pos_row);
	/* path: the data directory and the data file's partition path */
	floe_buf part = FLOE_BUF_INIT;
	const ice_partition_spec *spec = ice_metadata_spec(d->m, first->spec_id);
	char data[4096], dir[4096], path[4200], tmp[4300];
	int rc = ice_table_data_dir(d->m, data, sizeof data, err);
	if (!rc && spec && first->npartition > 0 &&
	    ice_partition_path(&part, spec, first->partition, first->npartition))
		rc = oom(err);
	int w = snprintf(dir, sizeof dir, "%s%s%.*s", data, part.len ? "/" : "", (int)part.len,
	                 part.data ? (const char *)part.data : "");
	floe_buf_free(&part);
	char uuid[37];
	floe_uuid4(uuid);
	if (!rc && (w < 0 || (size_t)w >= sizeof dir))
		rc = floe_error_set(err, FLOE_EINVALID, "delete file path too long");
	if (!rc) {
		snprintf(path, sizeof path, "%s/%05d-%s-deletes.parquet", dir, seqno, uuid);
		snprintf(tmp, sizeof tmp, "%s/.%05d-%s-deletes.parquet.tmp", dir, seqno, uuid);
		rc = floe_fs_mkdirs(dir, err);
	}
	floe_arena *sa = floe_arena_new(0);
	floe_schema *schema = NULL;
	floe_parquet_writer *pw = NULL;
	floe_batch_builder *bld = NULL;
	if (!rc && !sa)
		rc = oom(err);
	if (!rc)
		rc = floe_schema_parse(&schema, "file_path string not null id 2147483546, "
		                                "pos long not null id 2147483545", sa, err);
	floe_parquet_write_options po;
	floe_parquet_write_options_init(&po);
	const char *codec = ice_metadata_property(d->m, "write.parquet.compression-codec");
	if (!rc && codec)
		rc = floe_parquet_codec_parse(&po.codec, codec, err);
	if (!rc)
		rc = floe_parquet_writer_open(&pw, tmp, schema, &po, err);
	if (!rc)
		rc = floe_batch_builder_new(&bld, schema, err);
	for (int64_t i = 0; !rc && i < rows; i++) {
		if ((rc = floe_batch_builder_bytes(bld, 0, pr[i].path, (int64_t)strlen(pr[i].path), err)) ||
		    (rc = floe_batch_builder_i64(bld, 1, pr[i].pos, err)))
			break;
		if (floe_batch_builder_rows(bld) == 65536 || i + 1 == rows) {
			rc = floe_parquet_writer_write(pw, floe_batch_builder_view(bld), err);
			floe_batch_builder_clear(bld);
		}
	}
	floe_parquet_file_info info;
	if (!rc) {
		rc = floe_parquet_writer_close(pw, &info, err);
		pw = NULL;
	}
	floe_parquet_writer_abort(pw);
	floe_batch_builder_free(bld);
	if (!rc && rename(tmp, path) != 0)
		rc = floe_error_set(err, FLOE_EIO, "%s: rename: %m", path);
	if (rc)
		unlink(tmp);
	/* the manifest entry: data file's spec and partition, metrics */
	ice_manifest_entry *e = &d->dels[d->ndels];
	memset(e, 0, sizeof *e);
	if (!rc) {
		d->ndels++;
		e->status = ICE_STATUS_ADDED;
		e->snapshot_id = -1;
		e->sequence_number = -1;
		e->file_sequence_number = -1;
		ice_data_file *f = &e->file;
		f->content = ICE_CONTENT_POSITION_DELETES;
		f->file_path = floe_arena_strdup(d->arena, path);
		f->file_format = "PARQUET";
		f->spec_id = first->spec_id;
		f->npartition = first->npartition;
		f->partition = first->partition;
		f->record_count = info.num_rows;
		f->file_size_in_bytes = info.file_bytes;
		f->nmetrics = 2;
		f->metrics = floe_arena_calloc(d->arena, 2, sizeof *f->metrics);
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		for (int64_t i = 0; i < rows; i++) {
			lo = pr[i].pos < lo ? pr[i].pos : lo;
			hi = pr[i].pos > hi ? pr[i].pos : hi;
		}
		if (!f->file_path || !f->metrics) {
			rc = oom(err);
		} else {
			/* sorted: ids 2147483545 (pos) before 2147483546 (file_path);
			 * file_path bounds untruncated, so readers can scope exactly */
			ice_column_metrics *mp = &f->metrics[0], *mf = &f->metrics[1];
			mp->field_id = ICE_FIELD_DELETE_POS;
			mf->field_id = ICE_FIELD_DELETE_FILE_PATH;
			mp->column_size = mf->column_size = -1;
			mp->value_count = mf->value_count = rows;
			mp->null_count = mf->null_count = 0;
			mp->nan_count = mf->nan_count = -1;
			uint8_t lb[8], ub[8];
			for (int i = 0; i < 8; i++) {
				lb[i] = (uint8_t)((uint64_t)lo >> (8 * i));
				ub[i] = (uint8_t)((uint64_t)hi >> (8 * i));
			}
			const char *pl = pr[0].path, *ph = pr[rows - 1].path;
			if (set_bound(d->arena, lb, 8, &mp->lower, &mp->lower_len) ||
			    set_bound(d->arena, ub, 8, &mp->upper, &mp->upper_len) ||
			    set_bound(d->arena, (const uint8_t *)pl, strlen(pl), &mf->lower, &mf->lower_len) ||
			    set_bound(d->arena, (const uint8_t *)ph, strlen(ph), &mf->upper, &mf->upper_len))
				rc = oom(err);
		}
		if (!rc)
			rc = floe_fs_fsync_file(path, err);
		if (!rc)
			rc = floe_fs_fsync_dir(dir, err);
	}
	free(pr);
	floe_arena_free(sa);
	return rc;
}

int ice_rowdelta_write_position_deletes(ice_rowdelta *d, floe_error *err)
{
	ice_hit **v = malloc((d->nhits + 1) * sizeof *v);
	if (!v)
		return oom(err);
	size_t n = 0;
	for (size_t i = 0; i < d->nhits; i++)
		if (!d->hits[i].remove && d->hits[i].matched > 0)
			v[n++] = &d->hits[i];
	qsort(v, n, sizeof *v, cmp_hit_partition);
	d->dels = floe_arena_calloc(d->arena, n + 1, sizeof *d->dels);
	int rc = d->dels ? 0 : oom(err);
	for (size_t i = 0; !rc && i < n;) {
		size_t j = i + 1;
		while (j < n && v[j]->f->spec_id == v[i]->f->spec_id &&
		       ice_partition_equal(v[j]->f->partition, v[j]->f->npartition, v[i]->f->partition,
		                           v[i]->f->npartition))
			j++;
		rc = write_delete_file(d, v + i, j - i, (int)d->ndels, err);
		i = j;
	}
	free(v);
	return rc;
}

/* ---- the commit ------------------------------------------------------------- */

static int note_attempt_file(ice_rowdelta *d, const char *path)
{
	return floe_buf_append(&d->attempt_files, path, strlen(path) + 1) ? FLOE_ENOMEM : 0;
}

static int note_merged(void *ctx, const char *path, floe_error *err)
{
	return note_attempt_file(ctx, path) ? floe_error_set(err, FLOE_ENOMEM, "out of memory") : 0;
}

static void remove_attempt_files(ice_rowdelta *d)
{
	for (size_t i = 0; i < d->attempt_files.len;) {
		const char *p = (const char *)d->attempt_files.data + i;
		unlink(p);
		i += strlen(p) + 1;
	}
	floe_buf_clear(&d->attempt_files);
}

/* What commits since the snapshot this change read did: a conflict when
 * one added delete files, added a data file the filter may match, or
 * removed a file this change read (spec "Commit Conflict Resolution":
 * deletes and overwrites validate against concurrent changes). */
static int validate(ice_rowdelta *d, const ice_table_metadata *base, floe_arena *arena, floe_error *err)
{
	const ice_snapshot *s = ice_metadata_current_snapshot(base);
	while (s && s->snapshot_id != d->base_id) {
		ice_manifest_file *mfs;
		size_t nm;
		int rc = ice_table_snapshot_manifests(d->t, s, arena, &mfs, &nm, err);
		if (rc)
			return rc;
		for (size_t i = 0; i < nm; i++) {
			if (mfs[i].added_snapshot_id != s->snapshot_id)
				continue;
			char local[4096];
			if (!ice_table_local_path(d->t, mfs[i].manifest_path, local, sizeof local))
				return floe_error_set(err, FLOE_EINVALID, "path too long");
			ice_manifest_entry *ents;
			size_t ne;
			if ((rc = ice_manifest_read(&mfs[i], local, base, arena, &ents, &ne, err)))
				return rc;
			for (size_t k = 0; k < ne; k++) {
				const ice_manifest_entry *e = &ents[k];
				if (e->snapshot_id != s->snapshot_id || e->status == ICE_STATUS_EXISTING)
					continue;
				if (e->status == ICE_STATUS_DELETED && ice_rowdelta_find(d, e->file.file_path))
					return floe_error_set(err, FLOE_ECONFLICT,
					                      "%s: snapshot %" PRId64 " removed %s, which this %s "
					                      "changes; run it again", d->t->ident, s->snapshot_id,
					                      e->file.file_path, d->what);
				if (e->status != ICE_STATUS_ADDED)
					continue;
				if (e->file.content != ICE_CONTENT_DATA)
					return floe_error_set(err, FLOE_ECONFLICT,
					                      "%s: snapshot %" PRId64 " added delete files since this "
					                      "%s read the table; run it again", d->t->ident,
					                      s->snapshot_id, d->what);
				if (!d->conflicts || d->conflicts(d->cctx, &e->file))
					return floe_error_set(err, FLOE_ECONFLICT,
					                      "%s: snapshot %" PRId64 " added data this %s may have "
					                      "to change since it read the table; run it again",
					                      d->t->ident, s->snapshot_id, d->what);
			}
		}
		s = s->has_parent ? ice_metadata_snapshot(base, s->parent_id) : NULL;
	}
	if (!s && d->base_id >= 0)
		return floe_error_set(err, FLOE_ECONFLICT, "%s: the snapshot this %s read (%" PRId64 ") "
		                      "is no longer an ancestor of the current one", d->t->ident, d->what,
		                      d->base_id);
	return 0;
}

static int delete_update(void *ctx, const floe_table *t, const ice_table_metadata *base, int attempt,
                         floe_arena *arena, ice_table_metadata **out, floe_error *err)
{
	ice_rowdelta *d = ctx;
	remove_attempt_files(d);
	if (!base->table_uuid || !d->m->table_uuid || strcmp(base->table_uuid, d->m->table_uuid) != 0)
		return floe_error_set(err, FLOE_ECONFLICT, "%s was dropped and re-created; the %s "
		                      "cannot apply", t->ident, d->what);
	int rc = validate(d, base, arena, err);
	if (rc)
		return rc;
	const ice_snapshot *cur = ice_metadata_current_snapshot(base);
	ice_manifest_file *old = NULL;
	size_t nold = 0;
	if (cur && (rc = ice_table_snapshot_manifests(t, cur, arena, &old, &nold, err)))
		return rc;
	ice_manifest_file *list = floe_arena_calloc(arena, nold + 4, sizeof *list);
	if (!list)
		return oom(err);
	size_t n = 0;
	size_t found = 0;
	d->removed_files = d->removed_records = d->removed_size = 0;
	d->removed_delete_files = d->removed_pos = d->removed_eq = 0;
	for (size_t i = 0; i < nold; i++) {
		ice_manifest_file mf = old[i];
		if (mf.partition_spec_id < 0)
			mf.partition_spec_id = 0;
		if (mf.content != ICE_CONTENT_DATA && !d->drop_deletes) {
			list[n++] = mf;
			continue;
		}
		char local[4096];
		if (!ice_table_local_path(t, mf.manifest_path, local, sizeof local))
			return floe_error_set(err, FLOE_EINVALID, "path too long");
		ice_manifest_entry *ents;
		size_t ne;
		if ((rc = ice_manifest_read(&mf, local, base, arena, &ents, &ne, err)))
			return rc;
		size_t mine = 0;
		for (size_t k = 0; k < ne; k++) {
			const ice_hit *x = ents[k].status != ICE_STATUS_DELETED ? ice_rowdelta_find(d, ents[k].file.file_path)
			                                                    : NULL;
			mine += x && x->remove;
		}
		if (!mine) {
			list[n++] = mf;
			continue;
		}
		/* rewrite: our files DELETED, the others EXISTING */
		ice_manifest_entry *ne2 = floe_arena_calloc(arena, ne + 1, sizeof *ne2);
		if (!ne2)
			return oom(err);
		size_t m = 0;
		for (size_t k = 0; k < ne; k++) {
			if (ents[k].status == ICE_STATUS_DELETED)
				continue;
			ne2[m] = ents[k];
			const ice_hit *x = ice_rowdelta_find(d, ents[k].file.file_path);
			if (x && x->remove) {
				ne2[m].status = ICE_STATUS_DELETED;
				ne2[m].snapshot_id = d->snapshot_id;
				found++;
				d->removed_size += ents[k].file.file_size_in_bytes;
				if (ents[k].file.content == ICE_CONTENT_DATA) {
					d->removed_files++;
					d->removed_records += ents[k].file.record_count;
				} else {
					d->removed_delete_files++;
					if (ents[k].file.content == ICE_CONTENT_POSITION_DELETES)
						d->removed_pos += ents[k].file.record_count;
					else
						d->removed_eq += ents[k].file.record_count;
				}
			} else {
				ne2[m].status = ICE_STATUS_EXISTING;
			}
			m++;
		}
		const ice_partition_spec *spec = ice_metadata_spec(base, mf.partition_spec_id);
		floe_type *ptypes;
		if (!spec)
			return floe_error_set(err, FLOE_ECORRUPT, "%s: manifest %s names a missing spec %d",
			                      t->ident, mf.manifest_path, mf.partition_spec_id);
		if ((rc = ice_partition_types(spec, ice_metadata_current_schema(base), arena, &ptypes, err)))
			return rc;
		char uuid[37], path[4096];
		floe_uuid4(uuid);
		int w = snprintf(path, sizeof path, "%s/metadata/%s-m%d.avro", base->location, uuid, attempt);
		if (w < 0 || (size_t)w >= sizeof path)
			return floe_error_set(err, FLOE_EINVALID, "table location too long");
		ice_manifest_write_info info;
		memset(&info, 0, sizeof info);
		info.schema = ice_metadata_current_schema(base);
		info.spec = spec;
		info.partition_types = ptypes;
		info.content = mf.content;
		info.snapshot_id = d->snapshot_id;
		info.sequence_number = -1;
		if (note_attempt_file(d, path))
			return oom(err);
		if ((rc = ice_manifest_write(path, &info, ne2, m, arena, &list[n], err)))
			return rc;
		list[n].sequence_number = -1;
		list[n].min_sequence_number = -1;
		n++;
	}
	size_t want = 0;
	for (size_t i = 0; i < d->nhits; i++)
		want += d->hits[i].remove;
	if (found != want)
		return floe_error_set(err, FLOE_ECONFLICT, "%s: %zu of the data files this %s changes are "
		                      "no longer in the table; run it again", t->ident, want - found, d->what);
	if (d->nadded) {
		list[n] = d->data_mf;
		list[n].sequence_number = list[n].min_sequence_number = -1;
		n++;
	}
	if (d->ndels) {
		list[n] = d->delete_mf;
		list[n].sequence_number = list[n].min_sequence_number = -1;
		n++;
	}
	if (d->neqdels) {
		list[n] = d->eq_mf;
		list[n].sequence_number = list[n].min_sequence_number = -1;
		n++;
		/* the unpartitioned spec of global equality deletes */
		const ice_partition_spec *es = ice_metadata_spec(base, d->eq_spec_id);
		if (es && es->nfields > 0)
			return floe_error_set(err, FLOE_ECONFLICT, "%s: partition spec %d changed meanwhile; "
			                      "run the %s again", t->ident, d->eq_spec_id, d->what);
		if (!es) {
			ice_table_metadata *b2 = floe_arena_alloc(arena, sizeof *b2);
			ice_partition_spec *specs = floe_arena_calloc(arena, (size_t)base->nspecs + 1,
			                                              sizeof *specs);
			if (!b2 || !specs)
				return oom(err);
			*b2 = *base;
			if (base->nspecs)
				memcpy(specs, base->specs, (size_t)base->nspecs * sizeof *specs);
			specs[base->nspecs].spec_id = d->eq_spec_id;
			specs[base->nspecs].nfields = 0;
			b2->specs = specs;
			b2->nspecs = base->nspecs + 1;
			base = b2;
		}
	}
	ice_mmerge_sink sink;
	memset(&sink, 0, sizeof sink);
	sink.note = note_merged;
	sink.ctx = d;
	const ice_kv *extra = d->extra;
	int nextra = d->nextra;
	if ((rc = ice_mmerge_commit(t, base, d->snapshot_id, list, n, &sink, arena, &list, &n, err)) ||
	    (rc = ice_mmerge_summary(&sink, arena, &extra, &nextra, err)))
		return rc;
	ice_snapshot_change c;
	memset(&c, 0, sizeof c);
	c.operation = d->nadded ? "overwrite" : "delete";
	if (d->op_name)
		c.operation = d->op_name;
	c.snapshot_id = d->snapshot_id;
	c.extra = extra;
	c.nextra = nextra;
	c.removed_data_files = d->removed_files;
	c.removed_delete_files = d->removed_delete_files;
	c.removed_pos_deletes = d->removed_pos;
	c.removed_eq_deletes = d->removed_eq;
	c.removed_records = d->removed_records;
	c.removed_size = d->removed_size;
	c.added_data_files = (int64_t)d->nadded;
	for (size_t i = 0; i < d->nadded; i++) {
		c.added_records += d->added[i].file.record_count;
		c.added_size += d->added[i].file.file_size_in_bytes;
	}
	c.added_delete_files = (int64_t)(d->ndels + d->neqdels);
	for (size_t i = 0; i < d->ndels; i++) {
		c.added_pos_deletes += d->dels[i].file.record_count;
		c.added_size += d->dels[i].file.file_size_in_bytes;
	}
	for (size_t i = 0; i < d->neqdels; i++) {
		c.added_eq_deletes += d->eqdels[i].file.record_count;
		c.added_size += d->eqdels[i].file.file_size_in_bytes;
	}
	rc = ice_commit_snapshot(t, base, &c, list, n, attempt, d->list_path, sizeof d->list_path, arena,
	                         out, err);
	if (!rc && d->list_path[0] && note_attempt_file(d, d->list_path))
		return oom(err);
	return rc;
}

static void delete_cleanup(void *ctx)
{
	remove_attempt_files(ctx);
}

static int write_manifest(ice_rowdelta *d, const ice_manifest_entry *ents, size_t n, int content,
                          char *path, ice_manifest_file *out, floe_error *err)
{
	char uuid[37], dir[4096];
	floe_uuid4(uuid);
	int w = snprintf(path, 4096, "%s/metadata/%s-%s.avro", d->m->location, uuid,
	                 content == ICE_CONTENT_DATA ? "m0" : "d0");
	if (w < 0 || w >= 4096) {
		path[0] = 0;
		return floe_error_set(err, FLOE_EINVALID, "table location too long");
	}
	snprintf(dir, sizeof dir, "%s/metadata", d->m->location);
	int rc = floe_fs_mkdirs(dir, err);
	if (rc)
		return rc;
	/* one spec per manifest: entries of other specs go through the spec
	 * of the first (appends write the default spec only) */
	ice_partition_spec unpartitioned; /* of global equality deletes */
	memset(&unpartitioned, 0, sizeof unpartitioned);
	unpartitioned.spec_id = ents[0].file.spec_id;
	const ice_partition_spec *spec = ice_metadata_spec(d->m, ents[0].file.spec_id);
	if (content == ICE_CONTENT_EQUALITY_DELETES && !spec)
		spec = &unpartitioned;
	floe_type *ptypes;
	if (!spec)
		return floe_error_set(err, FLOE_ECORRUPT, "%s: missing partition spec %d", d->t->ident,
		                      ents[0].file.spec_id);
	for (size_t i = 1; i < n; i++)
		if (ents[i].file.spec_id != spec->spec_id)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: a delete across partition specs "
			                      "in merge-on-read mode is not supported yet", d->t->ident);
	if (spec->nfields == 0)
		ptypes = NULL;
	else if ((rc = ice_partition_types(spec, ice_metadata_current_schema(d->m), d->arena, &ptypes,
	                                   err)))
		return rc;
	ice_manifest_write_info info;
	memset(&info, 0, sizeof info);
	info.schema = ice_metadata_current_schema(d->m);
	info.spec = spec;
	info.partition_types = ptypes;
	info.content = content == ICE_CONTENT_DATA ? ICE_CONTENT_DATA : 1;
	info.snapshot_id = d->snapshot_id;
	info.sequence_number = -1;
	ice_manifest_entry *copy = floe_arena_calloc(d->arena, n + 1, sizeof *copy);
	if (!copy)
		return oom(err);
	for (size_t i = 0; i < n; i++) {
		copy[i] = ents[i];
		copy[i].snapshot_id = d->snapshot_id;
	}
	return ice_manifest_write(path, &info, copy, n, d->arena, out, err);
}

/* ---- set-up, commit, release ---------------------------------------------- */

int ice_rowdelta_init(ice_rowdelta *d, floe_table *t, const char *what, floe_error *err)
{
	memset(d, 0, sizeof d[0]);
	if (!t->cat)
		return floe_error_set(err, FLOE_EINVALID, "%s was opened from a metadata file and is "
		                      "read-only", t->ident);
	d->t = t;
	d->m = t->meta;
	d->what = what;
	d->base_id = -1;
	d->snapshot_id = ice_new_snapshot_id();
	d->arena = floe_arena_new(0);
	if (!d->arena)
		return oom(err);
	/* global equality deletes use an unpartitioned spec: the table's, or
	 * one added by the commit */
	d->eq_spec_id = -1;
	int32_t maxid = -1;
	for (int i = 0; i < d->m->nspecs; i++) {
		if (d->m->specs[i].nfields == 0 && d->eq_spec_id < 0)
			d->eq_spec_id = d->m->specs[i].spec_id;
		if (d->m->specs[i].spec_id > maxid)
			maxid = d->m->specs[i].spec_id;
	}
	if (d->eq_spec_id < 0)
		d->eq_spec_id = maxid + 1;
	return 0;
}

/* Value of row r of a non-null primitive column (no float/double/wide
 * decimal: those are never keys). */
static bool cell(const floe_column *c, int64_t r, floe_value *v)
{
	const floe_type *t = &c->type;
	memset(v, 0, sizeof *v);
	if (!floe_column_is_valid(c, r))
		return false;
	if (c->offsets) {
		v->bytes = c->data + c->offsets[r];
		v->len = c->offsets[r + 1] - c->offsets[r];
		return true;
	}
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN:
		v->b = ((const uint8_t *)c->values)[r] != 0;
		return true;
	case FLOE_TYPE_INT: case FLOE_TYPE_DATE:
		v->i = ((const int32_t *)c->values)[r];
		return true;
	case FLOE_TYPE_FLOAT: case FLOE_TYPE_DOUBLE:
		return false;
	case FLOE_TYPE_FIXED: case FLOE_TYPE_UUID: {
		int w = floe_type_value_width(t);
		v->bytes = (const uint8_t *)c->values + (size_t)r * (size_t)w;
		v->len = w;
		return true;
	}
	case FLOE_TYPE_DECIMAL:
		if (t->precision > 18)
			return false;
		/* fall through */
	default:
		v->i = ((const int64_t *)c->values)[r];
		return true;
	}
}

/* Lower/upper bounds and counts of the key columns of an equality delete
 * file, so that scans can skip it for data files whose bounds do not
 * overlap (sorted by field id, as manifests keep metrics). */
static int key_metrics(ice_rowdelta *d, const floe_batch *keys, size_t nkeys, int64_t rows,
                       ice_data_file *f)
{
	const floe_schema *ks = keys[0].schema;
	f->metrics = floe_arena_calloc(d->arena, (size_t)ks->nfields + 1, sizeof *f->metrics);
	if (!f->metrics)
		return FLOE_ENOMEM;
	floe_buf sb = FLOE_BUF_INIT;
	int rc = 0;
	for (int c = 0; c < ks->nfields && !rc; c++) {
		ice_column_metrics *m = &f->metrics[f->nmetrics++];
		m->field_id = ks->fields[c].field_id;
		m->column_size = -1;
		m->value_count = rows;
		m->null_count = 0;
		m->nan_count = -1;
		const floe_type *t = &ks->fields[c].type;
		floe_value lo, hi, v;
		bool have = false, ok = true;
		for (size_t b = 0; b < nkeys && ok; b++)
			for (int64_t r = 0; r < keys[b].nrows; r++) {
				if (!cell(&keys[b].cols[c], r, &v)) {
					ok = false;
					break;
				}
				if (!have || ice_value_compare(t, &v, &lo) < 0)
					lo = v;
				if (!have || ice_value_compare(t, &v, &hi) > 0)
					hi = v;
				have = true;
			}
		if (!have || !ok)
			continue;
		for (int side = 0; side < 2 && !rc; side++) {
			floe_buf_clear(&sb);
			if (ice_value_serialize(&sb, t, side ? &hi : &lo, NULL)) {
				rc = FLOE_ENOMEM;
				break;
			}
			uint8_t *p = floe_arena_alloc(d->arena, sb.len + 1);
			if (!p) {
				rc = FLOE_ENOMEM;
				break;
			}
			if (sb.len)
				memcpy(p, sb.data, sb.len);
			if (side) {
				m->upper = p;
				m->upper_len = sb.len;
			} else {
				m->lower = p;
				m->lower_len = sb.len;
			}
		}
	}
	floe_buf_free(&sb);
	for (int i = 1; i < f->nmetrics; i++)
		for (int j = i; j > 0 && f->metrics[j - 1].field_id > f->metrics[j].field_id; j--) {
			ice_column_metrics x = f->metrics[j];
			f->metrics[j] = f->metrics[j - 1];
			f->metrics[j - 1] = x;
		}
	return rc;
}

int ice_rowdelta_write_equality_deletes(ice_rowdelta *d, const floe_batch *keys, size_t nkeys,
                                        floe_error *err)
{
	if (nkeys == 0)
		return 0;
	const floe_schema *ks = keys[0].schema;
	char dir[4096], path[4200], tmp[4300], uuid[37];
	int rc = ice_table_data_dir(d->m, dir, sizeof dir, err);
	if (rc)
		return rc;
	floe_uuid4(uuid);
	snprintf(path, sizeof path, "%s/%s-eq-deletes.parquet", dir, uuid);
	snprintf(tmp, sizeof tmp, "%s/.%s-eq-deletes.parquet.tmp", dir, uuid);
	rc = floe_fs_mkdirs(dir, err);
	floe_parquet_write_options po;
	floe_parquet_write_options_init(&po);
	const char *codec = ice_metadata_property(d->m, "write.parquet.compression-codec");
	if (!rc && codec)
		rc = floe_parquet_codec_parse(&po.codec, codec, err);
	floe_parquet_writer *pw = NULL;
	if (!rc)
		rc = floe_parquet_writer_open(&pw, tmp, ks, &po, err);
	int64_t rows = 0;
	for (size_t i = 0; !rc && i < nkeys; i++) {
		rows += keys[i].nrows;
		rc = floe_parquet_writer_write(pw, &keys[i], err);
	}
	floe_parquet_file_info info;
	if (!rc) {
		rc = floe_parquet_writer_close(pw, &info, err);
		pw = NULL;
	}
	floe_parquet_writer_abort(pw);
	if (!rc && rename(tmp, path) != 0)
		rc = floe_error_set(err, FLOE_EIO, "%s: rename: %m", path);
	if (rc) {
		unlink(tmp);
		return rc;
	}
	if (!d->eqdels && !(d->eqdels = floe_arena_calloc(d->arena, 4, sizeof *d->eqdels))) {
		unlink(path);
		return oom(err);
	}
	if (d->neqdels >= 4) {
		unlink(path);
		return floe_error_set(err, FLOE_EINVALID, "too many equality delete files in one commit");
	}
	ice_manifest_entry *e = &d->eqdels[d->neqdels++];
	memset(e, 0, sizeof *e);
	e->status = ICE_STATUS_ADDED;
	e->snapshot_id = -1;
	e->sequence_number = -1;
	e->file_sequence_number = -1;
	ice_data_file *f = &e->file;
	f->content = ICE_CONTENT_EQUALITY_DELETES;
	f->file_path = floe_arena_strdup(d->arena, path);
	f->file_format = "PARQUET";
	f->spec_id = d->eq_spec_id;
	f->record_count = rows;
	f->file_size_in_bytes = info.file_bytes;
	f->nequality_ids = ks->nfields;
	f->equality_ids = floe_arena_calloc(d->arena, (size_t)ks->nfields + 1, sizeof *f->equality_ids);
	if (!f->file_path || !f->equality_ids)
		return oom(err);
	for (int i = 0; i < ks->nfields; i++)
		f->equality_ids[i] = ks->fields[i].field_id;
	if (key_metrics(d, keys, nkeys, rows, f))
		return oom(err);
	if ((rc = floe_fs_fsync_file(path, err)) || (rc = floe_fs_fsync_dir(dir, err)))
		return rc;
	return 0;
}

int ice_rowdelta_commit(ice_rowdelta *d, floe_error *err)
{
	int rc = 0;
	if (d->rewrite && !d->added && (rc = ice_append_finish(d->rewrite, &d->added, &d->nadded, err)))
		return rc;
	if (d->nadded && (rc = write_manifest(d, d->added, d->nadded, ICE_CONTENT_DATA, d->data_manifest,
	                                      &d->data_mf, err)))
		return rc;
	if (d->ndels && (rc = write_manifest(d, d->dels, d->ndels, ICE_CONTENT_POSITION_DELETES,
	                                     d->delete_manifest, &d->delete_mf, err)))
		return rc;
	if (d->neqdels && (rc = write_manifest(d, d->eqdels, d->neqdels, ICE_CONTENT_EQUALITY_DELETES,
	                                       d->eq_manifest, &d->eq_mf, err)))
		return rc;
	rc = ice_table_commit(d->t, delete_update, delete_cleanup, d, err);
	if (rc && rc != FLOE_ECOMMIT_UNKNOWN)
		return rc;
	/* committed, or maybe: remove nothing from here on */
	d->added_bytes = 0;
	for (size_t i = 0; i < d->nadded; i++)
		d->added_bytes += d->added[i].file.file_size_in_bytes;
	d->added = NULL; /* owned by the append released below */
	floe_buf_clear(&d->attempt_files);
	ice_append_release(d->rewrite);
	d->rewrite = NULL;
	d->ndels_written = d->ndels;
	d->neqdels_written = d->neqdels;
	d->ndels = d->neqdels = 0;
	d->data_manifest[0] = d->delete_manifest[0] = d->eq_manifest[0] = 0;
	d->committed = rc == 0;
	return rc;
}

void ice_rowdelta_release(ice_rowdelta *d)
{
	remove_attempt_files(d);
	if (d->data_manifest[0])
		unlink(d->data_manifest);
	if (d->delete_manifest[0])
		unlink(d->delete_manifest);
	if (d->eq_manifest[0])
		unlink(d->eq_manifest);
	for (size_t i = 0; i < d->ndels; i++)
		unlink(d->dels[i].file.file_path);
	for (size_t i = 0; i < d->neqdels; i++)
		unlink(d->eqdels[i].file.file_path);
	floe_append_abort(d->rewrite);
	d->rewrite = NULL;
	floe_buf_free(&d->attempt_files);
	for (size_t i = 0; i < d->nhits; i++) {
		floe_buf_free(&d->hits[i].pos);
		floe_buf_free(&d->hits[i].keyed);
	}
	free(d->hits);
	free(d->slots);
	d->hits = NULL;
	d->slots = NULL;
	d->nhits = 0;
	floe_arena_free(d->arena);
	d->arena = NULL;
}

bool ice_rowdelta_filter_conflicts(void *ctx, const ice_data_file *added)
{
	const ice_expr *e = ctx;
	return !e || ice_expr_might_match_file(e, added);
}

bool ice_rowdelta_no_conflicts(void *ctx, const ice_data_file *added)
{
	(void)ctx;
	(void)added;
	return false;
}
