/* iceberg/table_meta.c - the listings behind Iceberg's metadata tables
 * (include/floe/meta.h): live files with column metrics and typed
 * partition values, manifests with decoded partition summaries, refs, and
 * the snapshot log with current ancestry. Used by the SQL metadata tables
 * (src/sql/meta.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/meta.h"
#include "iceberg/deletes.h"
#include "iceberg/table_int.h"
#include "iceberg/transform.h"
#include "iceberg/value.h"
#include "util/buf.h"

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

/* ---- values ------------------------------------------------------------- */

/* Fill `out` from datum `d`, its text in `arena`. */
static int meta_value(floe_meta_value *out, const ice_datum *d, floe_arena *arena, floe_buf *tmp)
{
	out->type = d->type;
	out->is_null = d->is_null;
	out->v = d->v;
	floe_buf_clear(tmp);
	if (ice_datum_format(tmp, d))
		return FLOE_ENOMEM;
	out->text = floe_arena_strndup(arena, tmp->len ? (const char *)tmp->data : "", tmp->len);
	return out->text ? 0 : FLOE_ENOMEM;
}

/* Decode a bound (single-value serialization) of `type`; false when it
 * does not decode (the listing shows it as absent rather than failing). */
static bool meta_bound(floe_meta_value *out, const floe_type *type, const uint8_t *p, size_t n,
                       floe_arena *arena, floe_buf *tmp, int *rc)
{
	ice_datum d;
	memset(&d, 0, sizeof d);
	d.type = *type;
	if (!p || ice_value_deserialize(&d.v, type, p, n, arena, NULL))
		return false;
	*rc = meta_value(out, &d, arena, tmp);
	return *rc == 0;
}

/* ---- column names by field id ---------------------------------------------- */

typedef struct field_ref {
	int32_t id;
	const char *name;     /* NULL when no schema has the id */
	const ice_type *type;
} field_ref;

typedef struct field_cache {
	const ice_table_metadata *m;
	floe_arena *arena;    /* the names (outlive one manifest's arena) */
	field_ref *refs;
	int n, cap;
} field_cache;

/* Name and type of field `id`: the current schema first, then the others
 * newest first (a dropped column keeps its last name), then the reserved
 * columns of position delete files. */
static const field_ref *field_lookup(field_cache *c, int32_t id)
{
	for (int i = 0; i < c->n; i++)
		if (c->refs[i].id == id)
			return &c->refs[i];
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 32;
		field_ref *r = realloc(c->refs, (size_t)cap * sizeof *r);
		if (!r)
			return NULL;
		c->refs = r;
		c->cap = cap;
	}
	field_ref *fr = &c->refs[c->n];
	memset(fr, 0, sizeof *fr);
	fr->id = id;
	char path[1024];
	const ice_field *f = ice_schema_find_id(ice_metadata_current_schema(c->m), id, path,
	                                        (int)sizeof path);
	for (int i = c->m->nschemas - 1; !f && i >= 0; i--)
		f = ice_schema_find_id(&c->m->schemas[i], id, path, (int)sizeof path);
	if (f) {
		fr->name = floe_arena_strdup(c->arena, path[0] ? path : f->name);
		if (!fr->name)
			return NULL;
		fr->type = f->type;
	} else {
		/* the columns of position delete files (spec "Reserved Field IDs") */
		static const ice_type string_type = { .kind = ICE_PRIMITIVE,
		                                      .prim = { .id = FLOE_TYPE_STRING } };
		static const ice_type long_type = { .kind = ICE_PRIMITIVE,
		                                    .prim = { .id = FLOE_TYPE_LONG } };
		if (id == ICE_FIELD_DELETE_FILE_PATH) {
			fr->name = "file_path";
			fr->type = &string_type;
		} else if (id == ICE_FIELD_DELETE_POS) {
			fr->name = "pos";
			fr->type = &long_type;
		}
	}
	c->n++;
	return fr;
}

/* ---- files ------------------------------------------------------------ */

static int meta_file(const floe_table *t, const ice_manifest_entry *e, field_cache *fc,
                     floe_arena *arena, floe_buf *tmp, floe_buf *part, floe_meta_file *out,
                     floe_error *err)
{
	const ice_data_file *df = &e->file;
	const ice_partition_spec *spec = ice_metadata_spec(t->meta, df->spec_id);
	int rc = 0;
	memset(out, 0, sizeof *out);

	floe_buf_clear(part);
	if (spec && df->npartition > 0 && ice_partition_path(part, spec, df->partition, df->npartition))
		return oom(err);
	if (floe_buf_putc(part, 0))
		return oom(err);
	floe_file_info *fi = &out->info;
	char lp[4096];
	fi->path = df->file_path;
	fi->local_path = ice_table_local_path(t, df->file_path, lp, sizeof lp);
	fi->local_path = floe_arena_strdup(arena, fi->local_path ? fi->local_path : df->file_path);
	if (!fi->local_path)
		return oom(err);
	fi->format = df->file_format;
	fi->content = df->content;
	fi->spec_id = df->spec_id;
	fi->partition = (const char *)part->data;
	fi->record_count = df->record_count;
	fi->file_size = df->file_size_in_bytes;
	fi->sequence_number = e->sequence_number;
	out->snapshot_id = e->snapshot_id;
	out->file_sequence_number = e->file_sequence_number;

	floe_meta_partition_value *pv = NULL;
	if (df->npartition > 0) {
		pv = floe_arena_calloc(arena, (size_t)df->npartition, sizeof *pv);
		if (!pv)
			return oom(err);
	}
	for (int i = 0; i < df->npartition; i++) {
		const ice_partition_field *pf = spec && i < spec->nfields ? &spec->fields[i] : NULL;
		char tn[64], name[32];
		if (pf) {
			pv[i].name = pf->name;
			pv[i].field_id = pf->field_id;
			pv[i].transform = floe_arena_strdup(
				arena, ice_transform_format(&pf->transform, tn, (int)sizeof tn));
		} else {
			/* a spec the metadata lacks: positions stand in for names */
			snprintf(name, sizeof name, "_%d", i);
			pv[i].name = floe_arena_strdup(arena, name);
			pv[i].field_id = -1;
			pv[i].transform = "";
		}
		if (!pv[i].name || !pv[i].transform ||
		    meta_value(&pv[i].value, &df->partition[i], arena, tmp))
			return oom(err);
	}
	out->npartition = df->npartition;
	out->partition = pv;

	floe_meta_column *cols = NULL;
	if (df->nmetrics > 0) {
		cols = floe_arena_calloc(arena, (size_t)df->nmetrics, sizeof *cols);
		if (!cols)
			return oom(err);
	}
	for (int i = 0; i < df->nmetrics; i++) {
		const ice_column_metrics *cm = &df->metrics[i];
		floe_meta_column *c = &cols[i];
		const field_ref *fr = field_lookup(fc, cm->field_id);
		if (!fr)
			return oom(err);
		c->field_id = cm->field_id;
		c->name = fr->name;
		c->column_size = cm->column_size;
		c->value_count = cm->value_count;
		c->null_count = cm->null_count;
		c->nan_count = cm->nan_count;
		if (!fr->type || fr->type->kind != ICE_PRIMITIVE)
			continue;
		c->has_lower = meta_bound(&c->lower, &fr->type->prim, cm->lower, cm->lower_len, arena,
		                          tmp, &rc);
		if (rc)
			return oom(err);
		c->has_upper = meta_bound(&c->upper, &fr->type->prim, cm->upper, cm->upper_len, arena,
		                          tmp, &rc);
		if (rc)
			return oom(err);
	}
	out->ncolumns = df->nmetrics;
	out->columns = cols;
	out->has_sort_order_id = df->has_sort_order_id;
	out->sort_order_id = df->sort_order_id;
	out->nequality_ids = df->nequality_ids;
	out->equality_ids = df->equality_ids;
	out->nsplit_offsets = df->nsplit_offsets;
	out->split_offsets = df->split_offsets;
	return 0;
}

int floe_meta_files(floe_table *t, const floe_snapshot_sel *sel, floe_meta_file_fn fn, void *ctx,
                    floe_error *err)
{
	const ice_snapshot *snap;
	int rc = ice_table_select(t, sel, &snap, err);
	if (rc || !snap)
		return rc;
	floe_arena *arena = floe_arena_new(0);
	floe_arena *marena = floe_arena_new(0); /* one manifest at a time */
	floe_buf tmp = FLOE_BUF_INIT, part = FLOE_BUF_INIT;
	field_cache fc = { t->meta, arena, NULL, 0, 0 };
	ice_manifest_file *mfs;
	size_t nm;
	if (!arena || !marena) {
		rc = oom(err);
		goto done;
	}
	if ((rc = ice_table_snapshot_manifests(t, snap, arena, &mfs, &nm, err)))
		goto done;
	for (size_t i = 0; i < nm && !rc; i++) {
		char local[4096];
		if (!ice_table_local_path(t, mfs[i].manifest_path, local, sizeof local)) {
			rc = floe_error_set(err, FLOE_EINVALID, "path too long: %s", mfs[i].manifest_path);
			break;
		}
		floe_arena_reset(marena);
		ice_manifest_entry *ents;
		size_t ne;
		if ((rc = ice_manifest_read(&mfs[i], local, t->meta, marena, &ents, &ne, err)))
			break;
		for (size_t k = 0; k < ne && !rc; k++) {
			if (ents[k].status == ICE_STATUS_DELETED)
				continue;
			floe_meta_file f;
			if ((rc = meta_file(t, &ents[k], &fc, marena, &tmp, &part, &f, err)))
				break;
			rc = fn(ctx, &f, err);
		}
	}
done:
	free(fc.refs);
	floe_buf_free(&tmp);
	floe_buf_free(&part);
	floe_arena_free(marena);
	floe_arena_free(arena);
	return rc;
}

/* ---- manifests ------------------------------------------------------------ */

int floe_meta_manifests(floe_table *t, const floe_snapshot_sel *sel, floe_meta_manifest_fn fn,
                        void *ctx, floe_error *err)
{
	const ice_snapshot *snap;
	int rc = ice_table_select(t, sel, &snap, err);
	if (rc || !snap)
		return rc;
	floe_arena *arena = floe_arena_new(0);
	floe_buf tmp = FLOE_BUF_INIT;
	ice_manifest_file *mfs;
	size_t nm;
	if (!arena) {
		rc = oom(err);
		goto done;
	}
	if ((rc = ice_table_snapshot_manifests(t, snap, arena, &mfs, &nm, err)))
		goto done;
	const ice_schema *schema = ice_metadata_current_schema(t->meta);
	for (size_t i = 0; i < nm && !rc; i++) {
		const ice_manifest_file *mf = &mfs[i];
		floe_meta_manifest m;
		memset(&m, 0, sizeof m);
		m.path = mf->manifest_path;
		m.length = mf->manifest_length;
		m.content = mf->content;
		m.spec_id = mf->partition_spec_id;
		m.sequence_number = mf->sequence_number;
		m.min_sequence_number = mf->min_sequence_number;
		m.added_snapshot_id = mf->added_snapshot_id;
		m.added_files_count = mf->added_files_count;
		m.existing_files_count = mf->existing_files_count;
		m.deleted_files_count = mf->deleted_files_count;
		m.added_rows_count = mf->added_rows_count;
		m.existing_rows_count = mf->existing_rows_count;
		m.deleted_rows_count = mf->deleted_rows_count;
		const ice_partition_spec *spec = ice_metadata_spec(t->meta, mf->partition_spec_id);
		floe_type *types = NULL;
		if (spec && ice_partition_types(spec, schema, arena, &types, NULL))
			types = NULL; /* summaries then show no bounds */
		floe_meta_field_summary *ps = NULL;
		if (mf->partitions && mf->npartitions > 0) {
			ps = floe_arena_calloc(arena, (size_t)mf->npartitions, sizeof *ps);
			if (!ps) {
				rc = oom(err);
				break;
			}
		}
		for (int k = 0; ps && k < mf->npartitions && !rc; k++) {
			const ice_field_summary *fs = &mf->partitions[k];
			bool known = spec && k < spec->nfields;
			ps[k].name = known ? spec->fields[k].name : NULL;
			ps[k].contains_null = fs->contains_null;
			ps[k].contains_nan = fs->contains_nan;
			if (!known || !types)
				continue;
			ps[k].has_lower = meta_bound(&ps[k].lower, &types[k], fs->lower, fs->lower_len,
			                             arena, &tmp, &rc);
			if (!rc)
				ps[k].has_upper = meta_bound(&ps[k].upper, &types[k], fs->upper,
				                             fs->upper_len, arena, &tmp, &rc);
			if (rc)
				rc = oom(err);
		}
		if (rc)
			break;
		m.npartitions = ps ? mf->npartitions : 0;
		m.partitions = ps;
		rc = fn(ctx, &m, err);
	}
done:
	floe_buf_free(&tmp);
	floe_arena_free(arena);
	return rc;
}

/* ---- refs and history ---------------------------------------------------- */

int floe_meta_refs(floe_table *t, floe_meta_ref **out, int *n, floe_error *err)
{
	const ice_table_metadata *m = t->meta;
	*out = NULL;
	*n = 0;
	if (m->nrefs == 0)
		return 0;
	floe_meta_ref *v = calloc((size_t)m->nrefs, sizeof *v);
	if (!v)
		return oom(err);
	for (int i = 0; i < m->nrefs; i++) {
		const ice_ref *r = &m->refs[i];
		v[i].name = r->name;
		v[i].is_tag = r->is_tag;
		v[i].snapshot_id = r->snapshot_id;
		v[i].max_ref_age_ms = r->max_ref_age_ms;
		v[i].min_snapshots_to_keep = r->min_snapshots_to_keep;
		v[i].max_snapshot_age_ms = r->max_snapshot_age_ms;
	}
	*out = v;
	*n = m->nrefs;
	return 0;
}

/* Index of snapshot `id` in m->snapshots, or -1. */
static int snapshot_index(const ice_table_metadata *m, int64_t id)
{
	for (int i = m->nsnapshots - 1; i >= 0; i--)
		if (m->snapshots[i].snapshot_id == id)
			return i;
	return -1;
}

int floe_meta_history(floe_table *t, floe_meta_history_entry **out, int *n, floe_error *err)
{
	const ice_table_metadata *m = t->meta;
	*out = NULL;
	*n = 0;
	int count = m->nsnapshot_log > 0 ? m->nsnapshot_log : m->nsnapshots;
	if (count == 0)
		return 0;
	floe_meta_history_entry *v = calloc((size_t)count, sizeof *v);
	bool *ancestor = calloc((size_t)m->nsnapshots + 1, sizeof *ancestor);
	if (!v || !ancestor) {
		free(v);
		free(ancestor);
		return oom(err);
	}
	/* the current snapshot's ancestry by parent ids (steps capped: a parent
	 * cycle in bad metadata must not loop) */
	int cur = m->has_current_snapshot ? snapshot_index(m, m->current_snapshot_id) : -1;
	for (int steps = 0; cur >= 0 && !ancestor[cur] && steps < m->nsnapshots; steps++) {
		ancestor[cur] = true;
		const ice_snapshot *s = &m->snapshots[cur];
		cur = s->has_parent ? snapshot_index(m, s->parent_id) : -1;
	}
	for (int i = 0; i < count; i++) {
		int64_t id = m->nsnapshot_log > 0 ? m->snapshot_log[i].snapshot_id
		                                  : m->snapshots[i].snapshot_id;
		int k = snapshot_index(m, id);
		v[i].snapshot_id = id;
		v[i].made_current_ms = m->nsnapshot_log > 0 ? m->snapshot_log[i].timestamp_ms
		                                           : m->snapshots[i].timestamp_ms;
		if (k >= 0) {
			v[i].has_parent = m->snapshots[k].has_parent;
			v[i].parent_id = m->snapshots[k].parent_id;
			v[i].is_current_ancestor = ancestor[k];
		}
	}
	free(ancestor);
	*out = v;
	*n = count;
	return 0;
}
