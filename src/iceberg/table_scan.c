/* iceberg/table_scan.c - scans of a table snapshot: plan (manifest list ->
 * manifests pruned by partition summaries -> data files pruned by
 * partition values and column metrics), then read each Parquet file with
 * its columns resolved by field id (name mapping for files without ids,
 * identity partition values for columns a file lacks, NULL for columns
 * added later, widening for promoted types), skip row groups and pages by
 * statistics, drop the rows position and equality deletes remove
 * (iceberg/deletes.h) and keep the rows the filter accepts. Also `files`. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "iceberg/deletes.h"
#include "iceberg/expr.h"
#include "iceberg/table_int.h"
#include "iceberg/transform.h"
#include "iceberg/value.h"
#include "util/buf.h"

typedef struct scan_task {
	const ice_data_file *f;
	const ice_partition_spec *spec;
	int64_t seq;             /* data sequence number */
} scan_task;

/* The last file a scan read, kept open for a scan that takes it over
 * (floe_scan_options.reuse): its local path, its projected columns
 * ("a\nb\n") and the batch size it was opened with. */
typedef struct kept_file {
	floe_parquet_reader *r;
	floe_parquet_scan *ps;
	char *path, *cols;
	int64_t batch;
} kept_file;

/* one id -> names entry of schema.name-mapping.default (top level) */
typedef struct name_map {
	int32_t id;
	int nnames;
	const char **names;
} name_map;

struct floe_scan {
	floe_table *t;
	floe_arena *arena;       /* plan */
	floe_arena *barena;      /* per batch */
	const ice_snapshot *snap;
	const ice_schema *schema;
	floe_schema *out;        /* returned columns */
	floe_schema *need;       /* returned columns, then filter-only ones */
	ice_expr *expr;          /* bound filter or NULL */
	scan_task *tasks;
	size_t ntasks, cap, cur;
	name_map *nmap;
	int nnmap;
	/* current file */
	floe_parquet_reader *r;
	floe_parquet_scan *ps;
	const scan_task *task;
	const scan_task *last_task; /* the file of the batch returned last */
	bool last_had_deletes;
	int *src;                /* per need column: index in the file batch, -1 */
	ice_datum *consts;       /* per need column: constant (identity partition) */
	bool *is_const;
	int64_t const_rows_left; /* files read without any file column */
	ice_deletes *dels;       /* live delete files of the snapshot */
	ice_file_deletes fd;     /* those that apply to the current file */
	int64_t file_pos;        /* position in the file of the next row */
	ice_scan_ex ex;          /* row-level operation mode (zeroed otherwise) */
	bool rowops;             /* opened by ice_scan_open_ex */
	int64_t *posv;           /* of the batch returned (rowops) */
	uint8_t *matchv;
	bool incremental;        /* only data files added by inc_ids */
	int64_t *inc_ids;
	int ninc;
	floe_batch outb;
	floe_scan_stats st;
	int64_t batch_rows;
	ice_mcache *mhold;       /* the manifest cache the plan came from */
	kept_file kept;
	/* the last file's scan and reader, until the next file's scan takes
	 * over its buffers */
	floe_parquet_scan *spare_ps;
	floe_parquet_reader *spare_r;
	char *cur_cols;          /* the open file's column key */
};

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

void floe_scan_options_init(floe_scan_options *o)
{
	memset(o, 0, sizeof *o);
	o->snapshot.kind = FLOE_SNAPSHOT_CURRENT;
	o->batch_rows = 65536;
}

const floe_schema *floe_scan_schema(const floe_scan *s)
{
	return s->out;
}

void floe_scan_get_stats(const floe_scan *s, floe_scan_stats *out)
{
	*out = s->st;
	out->equality_keys = ice_deletes_keys(s->dels);
	if (s->ps) { /* the file being read counts too */
		floe_parquet_scan_stats ps;
		floe_parquet_scan_get_stats(s->ps, &ps);
		out->row_groups += ps.row_groups;
		out->row_groups_skipped += ps.row_groups_skipped;
		out->bytes_read += ps.bytes_read;
		out->rows_scanned += ps.rows_filtered;
	}
}

static void drop_kept(floe_scan *s)
{
	floe_parquet_scan_free(s->kept.ps);
	floe_parquet_reader_free(s->kept.r);
	free(s->kept.path);
	free(s->kept.cols);
	memset(&s->kept, 0, sizeof s->kept);
}

/* "name\n" for each of `n` file columns (malloc'ed), or NULL. */
static char *column_key(const char *const *names, int n)
{
	floe_buf b = FLOE_BUF_INIT;
	for (int i = 0; i < n; i++) {
		floe_buf_append(&b, names[i], strlen(names[i]));
		floe_buf_putc(&b, '\n');
	}
	floe_buf_putc(&b, 0);
	return (char *)b.data;
}

/* Keep the open file (read to its end, or given up) for a later scan. */
static void keep_file(floe_scan *s)
{
	char local[4096];
	if (!s->ps || !s->task ||
	    !ice_table_local_path(s->t, s->task->f->file_path, local, sizeof local))
		return;
	drop_kept(s);
	s->kept.path = strdup(local);
	s->kept.cols = s->cur_cols;
	s->cur_cols = NULL;
	if (!s->kept.path || !s->kept.cols) {
		drop_kept(s);
		return;
	}
	s->kept.r = s->r;
	s->kept.ps = s->ps;
	s->kept.batch = s->batch_rows;
	s->r = NULL;
	s->ps = NULL;
}

static void drop_spare(floe_scan *s)
{
	floe_parquet_scan_free(s->spare_ps);
	floe_parquet_reader_free(s->spare_r);
	s->spare_ps = NULL;
	s->spare_r = NULL;
}

static void close_file(floe_scan *s)
{
	drop_spare(s);
	floe_parquet_scan_free(s->ps);
	s->ps = NULL;
	floe_parquet_reader_free(s->r);
	s->r = NULL;
	s->task = NULL;
	free(s->cur_cols);
	s->cur_cols = NULL;
	s->const_rows_left = 0;
	memset(&s->fd, 0, sizeof s->fd);
	s->file_pos = 0;
}

void floe_scan_free(floe_scan *s)
{
	if (!s)
		return;
	close_file(s);
	drop_kept(s);
	if (!s->ex.deletes)
		ice_deletes_free(s->dels);
	free(s->tasks);
	ice_mcache_drop(s->mhold);
	floe_arena_free(s->arena);
	floe_arena_free(s->barena);
	free(s);
}

static int add_task(floe_scan *s, const ice_data_file *f, const ice_partition_spec *spec,
                    int64_t seq, floe_error *err)
{
	if (s->ntasks == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		scan_task *v = realloc(s->tasks, cap * sizeof *v);
		if (!v)
			return oom(err);
		s->tasks = v;
		s->cap = cap;
	}
	s->tasks[s->ntasks].f = f;
	s->tasks[s->ntasks].spec = spec;
	s->tasks[s->ntasks].seq = seq;
	s->ntasks++;
	return 0;
}

/* schema.name-mapping.default: [{"field-id": 1, "names": ["a"]}, ...] */
static int load_name_mapping(floe_scan *s, floe_error *err)
{
	const char *txt = ice_metadata_property(s->t->meta, "schema.name-mapping.default");
	if (!txt)
		return 0;
	json_error_t je;
	json_t *root = json_loads(txt, 0, &je);
	if (!root || !json_is_array(root)) {
		json_decref(root);
		return floe_error_set(err, FLOE_ECORRUPT,
		                      "%s: table property schema.name-mapping.default is not a JSON array",
		                      s->t->ident);
	}
	size_t n = json_array_size(root);
	s->nmap = floe_arena_calloc(s->arena, n + 1, sizeof *s->nmap);
	if (!s->nmap) {
		json_decref(root);
		return oom(err);
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(root, i);
		json_t *id = json_object_get(e, "field-id");
		json_t *names = json_object_get(e, "names");
		if (!json_is_integer(id) || !json_is_array(names))
			continue;
		name_map *m = &s->nmap[s->nnmap];
		m->id = (int32_t)json_integer_value(id);
		size_t k = json_array_size(names);
		m->names = floe_arena_calloc(s->arena, k + 1, sizeof *m->names);
		if (!m->names) {
			json_decref(root);
			return oom(err);
		}
		for (size_t j = 0; j < k; j++) {
			const char *nm = json_string_value(json_array_get(names, j));
			if (nm && (m->names[m->nnames] = floe_arena_strdup(s->arena, nm)))
				m->nnames++;
		}
		s->nnmap++;
	}
	json_decref(root);
	return 0;
}

/* Column index in the file for field `id` named `name` in the table. */
static int file_column(const floe_scan *s, const floe_schema *fsch, bool has_ids, int32_t id,
                       const char *name)
{
	if (has_ids)
		return floe_schema_find_id(fsch, id);
	for (int i = 0; i < s->nnmap; i++)
		if (s->nmap[i].id == id) {
			for (int j = 0; j < s->nmap[i].nnames; j++) {
				int k = floe_schema_find(fsch, s->nmap[i].names[j]);
				if (k >= 0)
					return k;
			}
			return -1;
		}
	return floe_schema_find(fsch, name);
}

/* ---- planning ----------------------------------------------------------- */

typedef struct spec_plan {
	int32_t spec_id;
	const ice_partition_spec *spec;
	floe_type *types;
	ice_expr *proj;
} spec_plan;

static int plan_for_spec(floe_scan *s, spec_plan **plans, int *nplans, int32_t spec_id,
                         spec_plan **out, floe_error *err)
{
	for (int i = 0; i < *nplans; i++)
		if ((*plans)[i].spec_id == spec_id) {
			*out = &(*plans)[i];
			return 0;
		}
	const ice_partition_spec *spec = ice_metadata_spec(s->t->meta, spec_id);
	if (!spec)
		return floe_error_set(err, FLOE_ECORRUPT, "%s: a manifest names partition spec %d, which the "
		                      "table metadata does not have", s->t->ident, spec_id);
	spec_plan *v = floe_arena_calloc(s->arena, (size_t)*nplans + 1, sizeof *v);
	if (!v)
		return oom(err);
	if (*nplans)
		memcpy(v, *plans, (size_t)*nplans * sizeof *v);
	spec_plan *p = &v[*nplans];
	p->spec_id = spec_id;
	p->spec = spec;
	const ice_schema *cur = ice_metadata_current_schema(s->t->meta);
	int rc = ice_partition_types(spec, cur, s->arena, &p->types, err);
	if (rc)
		return rc;
	if (s->expr && (rc = ice_expr_project(&p->proj, s->expr, spec, s->schema, s->arena, err)))
		return rc;
	*plans = v;
	(*nplans)++;
	*out = p;
	return 0;
}

/* Incremental scans: the snapshots in (from, s->snap], all appends; from
 * < 0: from the table's first snapshot. */
static int incremental_range(floe_scan *s, int64_t from, floe_error *err)
{
	const ice_table_metadata *m = s->t->meta;
	if (from >= 0 && !ice_metadata_snapshot(m, from))
		return floe_error_set(err, FLOE_ENOTFOUND, "%s has no snapshot %" PRId64 " to read from "
		                      "(see 'floe snapshots %s')", s->t->ident, from, s->t->ident);
	int n = 0;
	for (const ice_snapshot *x = s->snap; x && x->snapshot_id != from;
	     x = x->has_parent ? ice_metadata_snapshot(m, x->parent_id) : NULL) {
		const char *op = ice_snapshot_summary(x, "operation");
		if (!op || strcmp(op, "append") != 0)
			return floe_error_set(err, FLOE_EINVALID, "%s: snapshot %" PRId64 " between %" PRId64
			                      " and %" PRId64 " is a%s %s, not an append; an incremental read "
			                      "covers appends only (read the changes with 'floe changes')",
			                      s->t->ident, x->snapshot_id, from, s->snap->snapshot_id,
			                      op && (op[0] == 'o' || op[0] == 'a') ? "n" : "",
			                      op ? op : "snapshot without an operation");
		int64_t *v = floe_arena_alloc(s->arena, ((size_t)n + 1) * sizeof *v);
		if (!v)
			return oom(err);
		if (n)
			memcpy(v, s->inc_ids, (size_t)n * sizeof *v);
		v[n++] = x->snapshot_id;
		s->inc_ids = v;
		if (!x->has_parent && x->snapshot_id != from && from >= 0)
			return floe_error_set(err, FLOE_EINVALID, "%s: snapshot %" PRId64 " is not an ancestor "
			                      "of snapshot %" PRId64, s->t->ident, from, s->snap->snapshot_id);
	}
	s->ninc = n;
	s->incremental = true;
	return 0;
}

static bool in_range(const floe_scan *s, int64_t id)
{
	for (int i = 0; i < s->ninc; i++)
		if (s->inc_ids[i] == id)
			return true;
	return false;
}

static int plan(floe_scan *s, floe_error *err)
{
	ice_manifest_file *mfs;
	size_t nm;
	int rc = ice_table_plan_manifests(s->t, s->snap, s->arena, &s->mhold, &mfs, &nm, err);
	if (rc)
		return rc;
	spec_plan *plans = NULL;
	int nplans = 0;
	for (size_t i = 0; i < nm; i++) {
		const ice_manifest_file *mf = &mfs[i];
		char local[4096];
		if (!ice_table_local_path(s->t, mf->manifest_path, local, sizeof local))
			return floe_error_set(err, FLOE_EINVALID, "path too long: %s", mf->manifest_path);
		if (mf->content != ICE_CONTENT_DATA) {
			if ((mf->added_files_count == 0 && mf->existing_files_count == 0) ||
			    s->ex.deletes)
				continue;
			ice_manifest_entry *ents;
			size_t ne;
			if ((rc = ice_table_plan_manifest(s->t, s->mhold, mf, local, s->arena, &ents, &ne, err)))
				return rc;
			for (size_t k = 0; k < ne; k++) {
				if (ents[k].status == ICE_STATUS_DELETED)
					continue;
				if (!s->dels && (rc = ice_deletes_new(&s->dels, s->t, err)))
					return rc;
				const ice_partition_spec *ds = ice_metadata_spec(s->t->meta, ents[k].file.spec_id);
				if ((rc = ice_deletes_add(s->dels, &ents[k], ds, err)))
					return rc;
				s->st.delete_files++;
			}
			continue;
		}
		s->st.manifests++;
		spec_plan *p = NULL;
		if (mf->partition_spec_id >= 0) {
			if ((rc = plan_for_spec(s, &plans, &nplans, mf->partition_spec_id, &p, err)))
				return rc;
			if (p->proj && mf->partitions &&
			    !ice_expr_might_match_manifest(p->proj, p->spec, p->types, mf)) {
				s->st.manifests_skipped++;
				continue;
			}
		}
		ice_manifest_entry *ents;
		size_t ne;
		if ((rc = ice_table_plan_manifest(s->t, s->mhold, mf, local, s->arena, &ents, &ne, err)))
			return rc;
		for (size_t k = 0; k < ne; k++) {
			const ice_manifest_entry *e = &ents[k];
			if (e->status == ICE_STATUS_DELETED)
				continue;
			if (e->file.content != ICE_CONTENT_DATA)
				return floe_error_set(err, FLOE_ECORRUPT, "%s: data manifest %s lists delete file %s",
				                      s->t->ident, mf->manifest_path, e->file.file_path);
			s->st.files++;
			spec_plan *fp = p;
			if (!fp && (rc = plan_for_spec(s, &plans, &nplans, e->file.spec_id, &fp, err)))
				return rc;
			if (fp->proj && !ice_expr_eval_partition(fp->proj, fp->spec, e->file.partition,
			                                         e->file.npartition)) {
				s->st.files_skipped++;
				continue;
			}
			if (s->expr && !ice_expr_might_match_file(s->expr, &e->file)) {
				s->st.files_skipped++;
				continue;
			}
			if (s->ex.want_file && !s->ex.want_file(s->ex.ctx, &e->file))
				continue;
			if (s->incremental && !in_range(s, e->snapshot_id)) {
				s->st.files_skipped++;
				continue;
			}
			if ((rc = add_task(s, &e->file, fp->spec, e->sequence_number, err)))
				return rc;
		}
	}
	return 0;
}

int floe_scan_open(floe_scan **out, floe_table *t, const floe_scan_options *o, floe_error *err)
{
	if (o && o->positions) {
		ice_scan_ex ex;
		memset(&ex, 0, sizeof ex);
		return ice_scan_open_ex(out, t, o, &ex, err);
	}
	return ice_scan_open_ex(out, t, o, NULL, err);
}

int floe_scan_positions(const floe_scan *s, const char **file, const int64_t **pos,
                        floe_error *err)
{
	const ice_data_file *f = s->rowops ? ice_scan_file(s, NULL, NULL, NULL) : NULL;
	if (!f || !s->posv)
		return floe_error_set(err, FLOE_EINVALID, "the scan reports no positions: open it "
		                      "with floe_scan_options.positions and read a batch first");
	*file = f->file_path;
	*pos = s->posv;
	return 0;
}

const int64_t *ice_scan_positions(const floe_scan *s)
{
	return s->posv;
}

const uint8_t *ice_scan_matches(const floe_scan *s)
{
	return s->matchv;
}

const ice_data_file *ice_scan_file(const floe_scan *s, int64_t *seq,
                                   const ice_partition_spec **spec, bool *has_deletes)
{
	const scan_task *task = s->task ? s->task : s->last_task;
	if (!task)
		return NULL;
	if (seq)
		*seq = task->seq;
	if (spec)
		*spec = task->spec;
	if (has_deletes)
		*has_deletes = s->task ? (s->fd.npos > 0 || s->fd.neq > 0) : s->last_had_deletes;
	return task->f;
}

const ice_snapshot *ice_scan_snapshot(const floe_scan *s)
{
	return s->snap;
}

int ice_scan_open_ex(floe_scan **out, floe_table *t, const floe_scan_options *o,
                     const ice_scan_ex *ex, floe_error *err)
{
	*out = NULL;
	floe_scan_options dflt;
	if (!o) {
		floe_scan_options_init(&dflt);
		o = &dflt;
	}
	floe_scan *s = calloc(1, sizeof *s);
	if (!s)
		return oom(err);
	s->t = t;
	if (ex) {
		s->ex = *ex;
		s->rowops = true;
		s->dels = ex->deletes;
	}
	floe_scan *old = o ? o->reuse : NULL;
	if (old && old->t == t) {
		keep_file(old); /* a file it stopped reading part way */
		s->kept = old->kept;
		memset(&old->kept, 0, sizeof old->kept);
	}
	s->arena = floe_arena_new(0);
	s->barena = floe_arena_new(1 << 20);
	s->batch_rows = o->batch_rows > 0 ? o->batch_rows : 65536;
	s->st.snapshot_id = -1;
	int rc = 0;
	if (!s->arena || !s->barena) {
		rc = oom(err);
		goto fail;
	}
	if ((rc = ice_table_select(t, &o->snapshot, &s->snap, err)))
		goto fail;
	s->schema = ice_metadata_current_schema(t->meta);
	if (s->snap && o->snapshot.kind != FLOE_SNAPSHOT_CURRENT && s->snap->has_schema_id &&
	    !s->ex.current_schema) {
		const ice_schema *ss = ice_metadata_schema(t->meta, s->snap->schema_id);
		if (ss)
			s->schema = ss;
	}
	floe_schema *all;
	if ((rc = ice_schema_to_floe(&all, s->schema, s->arena, err)))
		goto fail;
	/* the returned columns */
	int nout = o->columns ? o->ncolumns : all->nfields;
	s->out = floe_arena_calloc(s->arena, 1, sizeof *s->out);
	floe_field *of = floe_arena_calloc(s->arena, (size_t)all->nfields + (size_t)nout + 1, sizeof *of);
	if (!s->out || !of) {
		rc = oom(err);
		goto fail;
	}
	for (int i = 0; i < nout; i++) {
		int k = o->columns ? floe_schema_find(all, o->columns[i]) : i;
		if (k < 0) {
			floe_buf names = FLOE_BUF_INIT;
			for (int j = 0; j < all->nfields; j++) {
				if (j)
					floe_buf_append(&names, ", ", 2);
				floe_buf_append(&names, all->fields[j].name, strlen(all->fields[j].name));
			}
			floe_buf_putc(&names, 0);
			rc = floe_error_set(err, FLOE_ENOTFOUND, "%s has no column '%s' (columns: %s)", t->ident,
			                    o->columns[i], names.data ? (const char *)names.data : "");
			floe_buf_free(&names);
			goto fail;
		}
		of[i] = all->fields[k];
	}
	s->out->nfields = nout;
	s->out->fields = of;
	s->need = floe_arena_calloc(s->arena, 1, sizeof *s->need);
	if (!s->need) {
		rc = oom(err);
		goto fail;
	}
	s->need->fields = of;
	s->need->nfields = nout;
	if (o->where && *o->where) {
		ice_expr *parsed;
		if ((rc = ice_expr_parse(&parsed, o->where, s->arena, err)) ||
		    (rc = ice_expr_bind(&s->expr, parsed, s->schema, s->arena, err)))
			goto fail;
		int32_t ids[256];
		int nids = ice_expr_field_ids(s->expr, ids, 256);
		for (int i = 0; i < nids; i++) {
			if (floe_schema_find_id(s->need, ids[i]) >= 0)
				continue;
			int k = floe_schema_find_id(all, ids[i]);
			if (k < 0) {
				rc = floe_error_set(err, FLOE_EUNSUPPORTED, "filter on a nested column is not supported");
				goto fail;
			}
			of[s->need->nfields++] = all->fields[k];
		}
	}
	if ((rc = load_name_mapping(s, err)))
		goto fail;
	if (o->incremental) {
		if (!s->snap) {
			rc = floe_error_set(err, FLOE_ENOTFOUND, "%s has no snapshots to read incrementally",
			                    t->ident);
			goto fail;
		}
		if ((rc = incremental_range(s, o->from_snapshot_id, err)))
			goto fail;
	}
	if (s->snap) {
		s->st.snapshot_id = s->snap->snapshot_id;
		if ((rc = plan(s, err)))
			goto fail;
		/* equality deletes of its own load only keys within the bounds
		 * of the files it reads (a shared set is its owner's to plan) */
		for (size_t i = 0; !s->ex.deletes && i < s->ntasks; i++)
			ice_deletes_plan(s->dels, s->tasks[i].f, s->tasks[i].seq);
	}
	/* equality deletes compare columns the query may not ask for */
	int32_t eqids[256];
	int neq = ice_deletes_equality_ids(s->dels, eqids, 256);
	if (neq > 256) {
		rc = floe_error_set(err, FLOE_EUNSUPPORTED, "%s: equality deletes over more than 256 columns",
		                    t->ident);
		goto fail;
	}
	for (int i = 0; i < neq; i++) {
		if (floe_schema_find_id(s->need, eqids[i]) >= 0)
			continue;
		int k = floe_schema_find_id(all, eqids[i]);
		if (k < 0) {
			rc = floe_error_set(err, FLOE_EUNSUPPORTED, "%s: equality deletes by field id %d, which "
			                    "is not a top-level column of the schema being read", t->ident,
			                    eqids[i]);
			goto fail;
		}
		of[s->need->nfields++] = all->fields[k];
	}
	*out = s;
	return 0;
fail:
	floe_scan_free(s);
	return rc;
}

/* ---- reading ------------------------------------------------------------ */

static bool same_storage(const floe_type *a, const floe_type *b)
{
	if (a->id != b->id)
		return false;
	if (a->id == FLOE_TYPE_DECIMAL)
		return (a->precision <= 18) == (b->precision <= 18) && a->scale == b->scale;
	if (a->id == FLOE_TYPE_FIXED)
		return a->width == b->width;
	return true;
}

static int open_file(floe_scan *s, const scan_task *task, floe_error *err)
{
	const ice_data_file *f = task->f;
	if (strcasecmp(f->file_format, "PARQUET") != 0)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: data file format %s is not supported "
		                      "(only Parquet)", f->file_path, f->file_format);
	char local[4096];
	if (!ice_table_local_path(s->t, f->file_path, local, sizeof local))
		return floe_error_set(err, FLOE_EINVALID, "path too long: %s", f->file_path);
	int rc = 0;
	if (s->kept.r && strcmp(s->kept.path, local) == 0) {
		s->r = s->kept.r; /* the file the scan this one reuses read last */
		s->kept.r = NULL;
	} else {
		/* another file: the kept one's buffers go to its scan */
		drop_spare(s);
		s->spare_ps = s->kept.ps;
		s->spare_r = s->kept.r;
		s->kept.ps = NULL;
		s->kept.r = NULL;
		drop_kept(s);
		rc = floe_parquet_reader_open(&s->r, local, err);
	}
	if (rc)
		return rc;
	const floe_schema *fsch = floe_parquet_reader_schema(s->r);
	bool has_ids = false;
	for (int i = 0; i < fsch->nfields; i++)
		if (fsch->fields[i].field_id >= 0)
			has_ids = true;
	int nneed = s->need->nfields;
	s->src = floe_arena_calloc(s->arena, (size_t)nneed + 1, sizeof *s->src);
	s->consts = floe_arena_calloc(s->arena, (size_t)nneed + 1, sizeof *s->consts);
	s->is_const = floe_arena_calloc(s->arena, (size_t)nneed + 1, sizeof *s->is_const);
	const char **names = floe_arena_calloc(s->arena, (size_t)nneed + 1, sizeof *names);
	int *fcols = floe_arena_calloc(s->arena, (size_t)nneed + 1, sizeof *fcols);
	if (!s->src || !s->consts || !s->is_const || !names || !fcols)
		return oom(err);
	int nproj = 0;
	for (int j = 0; j < nneed; j++) {
		const floe_field *nf = &s->need->fields[j];
		s->src[j] = -1;
		int k = file_column(s, fsch, has_ids, nf->field_id, nf->name);
		if (k >= 0) {
			int p;
			for (p = 0; p < nproj; p++)
				if (fcols[p] == k)
					break;
			if (p == nproj) {
				fcols[nproj] = k;
				names[nproj++] = fsch->fields[k].name;
			}
			s->src[j] = p;
			continue;
		}
		/* identity partition value of a column the file lacks */
		for (int q = 0; task->spec && q < task->spec->nfields && q < f->npartition; q++) {
			const ice_partition_field *pf = &task->spec->fields[q];
			if (pf->source_id == nf->field_id && pf->transform.kind == ICE_T_IDENTITY) {
				s->is_const[j] = true;
				s->consts[j] = f->partition[q];
				break;
			}
		}
		if (!s->is_const[j]) {
			s->is_const[j] = true; /* NULL */
			s->consts[j].is_null = true;
		}
		s->consts[j].type = nf->type;
	}
	if ((rc = ice_deletes_for_file(s->dels, f, task->seq, task->spec, s->need, &s->fd, err)))
		return rc;
	s->file_pos = 0;
	if (nproj == 0) {
		s->const_rows_left = floe_parquet_reader_num_rows(s->r);
		s->st.files_read++;
		return 0;
	}
	floe_parquet_scan_options po;
	floe_parquet_scan_options_init(&po);
	po.columns = names;
	po.ncolumns = nproj;
	po.batch_rows = s->batch_rows;
	/* positions count every row of the file: no row group or page may be
	 * skipped when position deletes apply */
	if (s->expr && s->fd.npos == 0 && !s->rowops) {
		floe_parquet_predicate *preds;
		int npreds = 0;
		if ((rc = ice_expr_to_parquet(s->expr, &preds, &npreds, s->arena, err)))
			return rc;
		int keep = 0;
		for (int i = 0; i < npreds; i++) {
			int j = floe_schema_find_id(s->need, preds[i].field_id);
			if (j < 0 || s->src[j] < 0)
				continue;
			const floe_field *ff = &fsch->fields[fcols[s->src[j]]];
			if (!same_storage(&ff->type, &s->need->fields[j].type))
				continue;
			preds[keep] = preds[i];
			preds[keep].column = ff->name;
			preds[keep].field_id = -1;
			keep++;
		}
		po.predicates = preds;
		po.npredicates = keep;
		po.filter_rows = true;
	}
	free(s->cur_cols);
	s->cur_cols = column_key(names, nproj);
	if (s->kept.ps) {
		/* the same file: reuse its scan when the columns are the same */
		if (s->cur_cols && s->kept.batch == s->batch_rows &&
		    strcmp(s->cur_cols, s->kept.cols) == 0 &&
		    floe_parquet_scan_restart(s->kept.ps, po.predicates, po.npredicates, err) == 0) {
			s->ps = s->kept.ps;
			s->kept.ps = NULL;
		}
		drop_kept(s);
		floe_error_clear(err);
	}
	if (!s->ps && (rc = floe_parquet_scan_open(&s->ps, s->r, &po, err)))
		return rc;
	floe_parquet_scan_adopt_buffers(s->ps, s->spare_ps);
	drop_spare(s);
	s->st.files_read++;
	return 0;
}

int ice_const_column(floe_arena *arena, const ice_datum *d, int64_t n, floe_column *out,
                        floe_error *err)
{
	memset(out, 0, sizeof *out);
	out->type = d->type;
	const floe_type *t = &d->type;
	if (d->is_null) {
		out->null_count = n;
		out->validity = floe_arena_calloc(arena, (size_t)(n + 7) / 8 + 1, 1);
		if (!out->validity)
			return oom(err);
	}
	if (floe_type_is_variable(t)) {
		int64_t len = d->is_null ? 0 : d->v.len;
		out->offsets = floe_arena_alloc(arena, (size_t)(n + 1) * 8);
		out->data = floe_arena_alloc(arena, (size_t)(len * n) + 1);
		if (!out->offsets || !out->data)
			return oom(err);
		out->offsets[0] = 0;
		for (int64_t r = 0; r < n; r++) {
			if (len)
				memcpy(out->data + r * len, d->v.bytes, (size_t)len);
			out->offsets[r + 1] = (r + 1) * len;
		}
		return 0;
	}
	int w = floe_type_value_width(t);
	uint8_t *v = floe_arena_calloc(arena, (size_t)n + 1, (size_t)w);
	if (!v)
		return oom(err);
	out->values = v;
	if (d->is_null)
		return 0;
	for (int64_t r = 0; r < n; r++) {
		uint8_t *p = v + (size_t)r * (size_t)w;
		switch (t->id) {
		case FLOE_TYPE_BOOLEAN: *p = d->v.b; break;
		case FLOE_TYPE_INT: case FLOE_TYPE_DATE: { int32_t x = (int32_t)d->v.i; memcpy(p, &x, 4); break; }
		case FLOE_TYPE_FLOAT: { float x = (float)d->v.d; memcpy(p, &x, 4); break; }
		case FLOE_TYPE_DOUBLE: memcpy(p, &d->v.d, 8); break;
		default:
			if (w == 8 && !(t->id == FLOE_TYPE_DECIMAL && t->precision > 18))
				memcpy(p, &d->v.i, 8);
			else if (d->v.bytes && d->v.len == w)
				memcpy(p, d->v.bytes, (size_t)w);
		}
	}
	return 0;
}

/* A batch of a row-level operation scan: deletes drop rows; the filter
 * drops rows too unless all_rows, where it only marks them; positions and
 * marks follow the rows returned. Returns 1, or 0 to read on (nothing left
 * of this batch), or an error. */
static int rowops_batch(floe_scan *s, floe_batch *nb, int64_t first_pos, bool dels,
                        const floe_batch **out, floe_error *err)
{
	int64_t n = nb->nrows;
	uint8_t *match = floe_arena_alloc(s->barena, (size_t)n + 1);
	uint8_t *live = floe_arena_alloc(s->barena, (size_t)n + 1);
	int32_t *idx = floe_arena_alloc(s->barena, (size_t)n * 4 + 4);
	if (!match || !live || !idx)
		return oom(err);
	int rc = 0;
	if (s->expr)
		rc = ice_expr_eval_batch(s->expr, nb, match, err);
	else
		memset(match, 1, (size_t)n);
	memset(live, 1, (size_t)n);
	if (!rc && dels)
		rc = ice_deletes_apply(&s->fd, nb, first_pos, live, &s->st.rows_deleted, err);
	if (rc)
		return rc;
	int64_t k = 0;
	for (int64_t r = 0; r < n; r++)
		if (live[r] && (s->ex.all_rows || match[r]))
			idx[k++] = (int32_t)r;
	if (k == 0)
		return 0;
	s->posv = floe_arena_alloc(s->barena, (size_t)k * sizeof *s->posv);
	s->matchv = floe_arena_alloc(s->barena, (size_t)k);
	if (!s->posv || !s->matchv)
		return oom(err);
	for (int64_t i = 0; i < k; i++) {
		s->posv[i] = first_pos + idx[i];
		s->matchv[i] = match[idx[i]] != 0;
	}
	nb->ncols = s->out->nfields;
	nb->schema = s->out;
	if (k == n)
		s->outb = *nb;
	else if ((rc = ice_batch_gather(s->barena, nb, idx, k, &s->outb, err)))
		return rc;
	s->st.rows_returned += k;
	*out = &s->outb;
	return 1;
}

int floe_scan_next(floe_scan *s, const floe_batch **out, floe_error *err)
{
	for (;;) {
		if (!s->task) {
			if (s->cur >= s->ntasks)
				return 0;
			const scan_task *task = &s->tasks[s->cur++];
			int rc = open_file(s, task, err);
			if (rc) {
				close_file(s);
				return rc;
			}
			s->task = task;
		}
		floe_arena_reset(s->barena);
		int64_t n;
		const floe_batch *pb = NULL;
		if (s->ps) {
			int rc = floe_parquet_scan_next(s->ps, &pb, err);
			if (rc < 0) {
				close_file(s);
				return rc;
			}
			if (rc == 0) {
				floe_parquet_scan_stats ps;
				floe_parquet_scan_get_stats(s->ps, &ps);
				s->st.row_groups += ps.row_groups;
				s->st.row_groups_skipped += ps.row_groups_skipped;
				s->st.bytes_read += ps.bytes_read;
				s->st.rows_scanned += ps.rows_filtered;
				keep_file(s);
				close_file(s);
				continue;
			}
			n = pb->nrows;
		} else {
			if (s->const_rows_left <= 0) {
				close_file(s);
				continue;
			}
			n = s->const_rows_left < s->batch_rows ? s->const_rows_left : s->batch_rows;
			s->const_rows_left -= n;
		}
		s->st.rows_scanned += n;
		int nneed = s->need->nfields;
		floe_column *cols = floe_arena_calloc(s->barena, (size_t)nneed + 1, sizeof *cols);
		if (!cols)
			return oom(err);
		for (int j = 0; j < nneed; j++) {
			int rc;
			if (s->src[j] >= 0)
				rc = ice_column_widen(s->barena, &pb->cols[s->src[j]], &s->need->fields[j].type, n,
				                      &cols[j], err);
			else
				rc = ice_const_column(s->barena, &s->consts[j], n, &cols[j], err);
			if (rc) {
				floe_error_prefix(err, "%s: column '%s'", s->task->f->file_path,
				                  s->need->fields[j].name);
				return rc;
			}
		}
		floe_batch nb = { n, nneed, cols, s->need };
		int64_t first_pos = s->file_pos;
		s->file_pos += n;
		bool dels = s->fd.npos > 0 || s->fd.neq > 0;
		s->last_task = s->task;
		s->last_had_deletes = dels;
		if (s->rowops) {
			int rc = rowops_batch(s, &nb, first_pos, dels, out, err);
			if (rc == 0)
				continue;
			return rc;
		}
		if (!s->expr && !dels) {
			s->outb = nb;
			s->outb.ncols = s->out->nfields;
			s->outb.schema = s->out;
			s->st.rows_returned += n;
			*out = &s->outb;
			return 1;
		}
		uint8_t *keep = floe_arena_alloc(s->barena, (size_t)n + 1);
		if (!keep)
			return oom(err);
		int rc = 0;
		if (s->expr)
			rc = ice_expr_eval_batch(s->expr, &nb, keep, err);
		else
			memset(keep, 1, (size_t)n);
		if (!rc && dels)
			rc = ice_deletes_apply(&s->fd, &nb, first_pos, keep, &s->st.rows_deleted, err);
		if (rc)
			return rc;
		int64_t kept = 0;
		for (int64_t r = 0; r < n; r++)
			kept += keep[r] != 0;
		if (kept == 0)
			continue;
		nb.ncols = s->out->nfields;
		nb.schema = s->out;
		if (kept == n) {
			s->outb = nb;
		} else {
			int32_t *idx = floe_arena_alloc(s->barena, (size_t)kept * 4);
			if (!idx)
				return oom(err);
			int64_t k = 0;
			for (int64_t r = 0; r < n; r++)
				if (keep[r])
					idx[k++] = (int32_t)r;
			if ((rc = ice_batch_gather(s->barena, &nb, idx, kept, &s->outb, err)))
				return rc;
		}
		s->st.rows_returned += kept;
		*out = &s->outb;
		return 1;
	}
}

/* ---- files -------------------------------------------------------------- */

int floe_table_files(floe_table *t, const floe_snapshot_sel *sel, floe_file_fn fn, void *ctx,
                     floe_error *err)
{
	const ice_snapshot *snap;
	int rc = ice_table_select(t, sel, &snap, err);
	if (rc || !snap)
		return rc;
	floe_arena *arena = floe_arena_new(0);
	if (!arena)
		return oom(err);
	ice_manifest_file *mfs;
	size_t nm;
	floe_buf part = FLOE_BUF_INIT;
	if ((rc = ice_table_snapshot_manifests(t, snap, arena, &mfs, &nm, err)))
		goto done;
	for (size_t i = 0; i < nm && !rc; i++) {
		char local[4096];
		if (!ice_table_local_path(t, mfs[i].manifest_path, local, sizeof local)) {
			rc = floe_error_set(err, FLOE_EINVALID, "path too long");
			break;
		}
		ice_manifest_entry *ents;
		size_t ne;
		if ((rc = ice_manifest_read(&mfs[i], local, t->meta, arena, &ents, &ne, err)))
			break;
		for (size_t k = 0; k < ne && !rc; k++) {
			const ice_manifest_entry *e = &ents[k];
			if (e->status == ICE_STATUS_DELETED)
				continue;
			const ice_partition_spec *spec = ice_metadata_spec(t->meta, e->file.spec_id);
			floe_buf_clear(&part);
			if (spec && e->file.npartition > 0 &&
			    ice_partition_path(&part, spec, e->file.partition, e->file.npartition)) {
				rc = oom(err);
				break;
			}
			floe_buf_putc(&part, 0);
			char lp[4096];
			floe_file_info fi;
			fi.path = e->file.file_path;
			fi.local_path = ice_table_local_path(t, e->file.file_path, lp, sizeof lp);
			if (!fi.local_path)
				fi.local_path = e->file.file_path;
			fi.format = e->file.file_format;
			fi.content = e->file.content;
			fi.spec_id = e->file.spec_id;
			fi.partition = (const char *)part.data;
			fi.record_count = e->file.record_count;
			fi.file_size = e->file.file_size_in_bytes;
			fi.sequence_number = e->sequence_number;
			rc = fn(ctx, &fi, err);
		}
	}
done:
	floe_buf_free(&part);
	floe_arena_free(arena);
	return rc;
}
