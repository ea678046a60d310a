/* iceberg/table_deletes.c - position and equality deletes applied at read
 * time: scoping by sequence number and partition (spec "Scan Planning"),
 * delete files read once per scan into a path -> positions map or a hash
 * map of equality keys to the sequence number that deletes them, and the
 * rows of a batch they delete. Global equality delete files over the same
 * columns share one map holding each key's highest sequence number, so a
 * row is looked up once however many of them apply. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xxhash.h>

#include "floe/parquet.h"
#include "iceberg/deletes.h"
#include "util/buf.h"

/* Positions one delete file holds for one data file path. */
typedef struct pos_list {
	int del;                 /* index of the delete file */
	int64_t *pos;
	int64_t n, cap;
	struct pos_list *next;
} pos_list;

typedef struct path_slot {
	uint64_t hash;
	char *path;              /* NULL = empty slot */
	pos_list *head;
} path_slot;

/* Keys of equality delete files over the same columns: each key is the
 * serialized tuple of its delete columns (null flag, then the value's
 * bytes, a variable-width value's length before them unless it is the
 * last column), with the highest data sequence number of the files that
 * hold it.
 * A key deletes the rows of a data file of sequence number S when that
 * number is above S (spec: equality deletes apply to data files with a
 * strictly lower sequence number). */
typedef struct ice_eq_set {
	int nids;
	int32_t *ids;
	floe_type *types;        /* compared as these (the scan's types) */
	floe_buf keys;
	uint64_t *slots;         /* hash << 32 | (entry index + 1), 0 = empty */
	uint32_t nslots;
	floe_buf ents;           /* eq_ent */
	ice_keyfilter filter;    /* of the keys held, sized with the slots */
	int64_t pending;         /* rows of files about to be loaded into it */
} ice_eq_set;

/* A key held in its entry when it fits (a one-column string key of up to
 * 15 bytes, any integer or timestamp key): a hit then reads the slot and
 * the entry, not a third line of key bytes. */
#define EQ_INLINE 16

typedef struct eq_ent {
	int64_t seq;             /* highest sequence number deleting the key */
	uint32_t len;
	uint32_t hlo;            /* low half of the key's hash (its slot holds the high half) */
	union {
		uint64_t off;            /* into keys, when len > EQ_INLINE */
		uint8_t in[EQ_INLINE];   /* the key, when it fits */
	} k;
} eq_ent;

_Static_assert(sizeof(eq_ent) == 32, "two entries to a cache line");

/* The values the data files an equality delete file will be read for
 * hold in one of its columns: the union of their bounds. A key outside it
 * cannot match a row of those files, so it is not loaded. */
typedef struct eq_range {
	bool seen;               /* a planned data file it applies to */
	bool open;               /* one without bounds for the column, or a
	                            type not compared by range: no filter */
	floe_value lo, hi;
} eq_range;

typedef struct del_file {
	const ice_manifest_entry *e;
	const ice_partition_spec *spec;
	bool global;             /* equality deletes of an unpartitioned spec */
	bool loaded;
	ice_eq_set *eq;          /* its keys: its own set, or (global) the set
	                            shared by the global files over its columns */
	eq_range *ranges;        /* per equality column (ice_deletes_plan), or
	                            NULL */
	bool ranged;             /* loaded without the keys outside ranges */
	bool unranged;           /* load every key: a data file outside the
	                            ranges asked for it */
} del_file;

struct ice_deletes {
	const floe_table *t;
	floe_arena *arena;
	del_file *files;
	int n, cap;
	path_slot *slots;
	size_t nslots, used;
	ice_eq_set **shared;     /* the sets of global equality deletes, one per
	                            list of columns */
	int nshared, capshared;
	floe_buf scratch;        /* positions of one data file */
	floe_buf key;
	floe_buf sel;            /* per file: an equality delete file that may
	                            apply to the data file asked about */
};

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

int ice_deletes_new(ice_deletes **out, const floe_table *t, floe_error *err)
{
	*out = NULL;
	ice_deletes *d = calloc(1, sizeof *d);
	if (!d || !(d->arena = floe_arena_new(0))) {
		free(d);
		return oom(err);
	}
	d->t = t;
	*out = d;
	return 0;
}

static void eq_free(ice_eq_set *s)
{
	if (!s)
		return;
	floe_buf_free(&s->keys);
	floe_buf_free(&s->ents);
	free(s->slots);
	ice_keyfilter_free(&s->filter);
}

/* Empty set s; every file that filled it loads again on next use, all
 * its keys this time (a data file outside their ranges needs them). */
static void eq_reset(ice_deletes *d, ice_eq_set *s)
{
	for (int i = 0; i < d->n; i++)
		if (d->files[i].eq == s) {
			d->files[i].loaded = false;
			d->files[i].ranged = false;
			d->files[i].unranged = true;
		}
	floe_buf_clear(&s->keys);
	floe_buf_clear(&s->ents);
	free(s->slots);
	s->slots = NULL;
	s->nslots = 0;
	ice_keyfilter_free(&s->filter);
}

void ice_deletes_free(ice_deletes *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->n; i++)
		if (!d->files[i].global)
			eq_free(d->files[i].eq);
	for (int i = 0; i < d->nshared; i++)
		eq_free(d->shared[i]);
	free(d->shared);
	for (size_t i = 0; i < d->nslots; i++)
		for (pos_list *p = d->slots[i].head, *next; p; p = next) {
			next = p->next;
			free(p->pos);
			free(p);
		}
	free(d->slots);
	free(d->files);
	floe_buf_free(&d->scratch);
	floe_buf_free(&d->key);
	floe_buf_free(&d->sel);
	floe_arena_free(d->arena);
	free(d);
}

int ice_deletes_count(const ice_deletes *d)
{
	return d ? d->n : 0;
}

int64_t ice_deletes_keys(const ice_deletes *d)
{
	int64_t n = 0;
	for (int i = 0; d && i < d->n; i++)
		if (!d->files[i].global && d->files[i].eq)
			n += (int64_t)(d->files[i].eq->ents.len / sizeof(eq_ent));
	for (int i = 0; d && i < d->nshared; i++)
		n += (int64_t)(d->shared[i]->ents.len / sizeof(eq_ent));
	return n;
}

int ice_deletes_add(ice_deletes *d, const ice_manifest_entry *e, const ice_partition_spec *spec,
                    floe_error *err)
{
	const ice_data_file *f = &e->file;
	if (f->content != ICE_CONTENT_POSITION_DELETES && f->content != ICE_CONTENT_EQUALITY_DELETES)
		return floe_error_set(err, FLOE_EINVALID, "not a delete file: %s", f->file_path);
	if (strcasecmp(f->file_format, "PARQUET") != 0)
		return floe_error_set(err, FLOE_EUNSUPPORTED,
		                      "%s: delete file %s is %s; floe reads Parquet delete files only "
		                      "(deletion vectors and ORC/Avro deletes are not supported)",
		                      d->t->ident, f->file_path, f->file_format);
	if (f->content == ICE_CONTENT_EQUALITY_DELETES && f->nequality_ids <= 0)
		return floe_error_set(err, FLOE_ECORRUPT, "%s: equality delete file %s has no equality_ids",
		                      d->t->ident, f->file_path);
	if (d->n == d->cap) {
		int cap = d->cap ? d->cap * 2 : 16;
		del_file *v = realloc(d->files, (size_t)cap * sizeof *v);
		if (!v)
			return oom(err);
		d->files = v;
		d->cap = cap;
	}
	del_file *df = &d->files[d->n++];
	memset(df, 0, sizeof *df);
	df->e = e;
	df->spec = spec;
	df->global = f->content == ICE_CONTENT_EQUALITY_DELETES && (!spec || spec->nfields == 0);
	return 0;
}

int ice_deletes_equality_ids(const ice_deletes *d, int32_t *ids, int cap)
{
	int n = 0;
	for (int i = 0; d && i < d->n; i++) {
		const ice_data_file *f = &d->files[i].e->file;
		if (f->content != ICE_CONTENT_EQUALITY_DELETES)
			continue;
		for (int k = 0; k < f->nequality_ids; k++) {
			int j;
			for (j = 0; j < n && j < cap; j++)
				if (ids[j] == f->equality_ids[k])
					break;
			if (j < n && j < cap)
				continue;
			if (n < cap)
				ids[n] = f->equality_ids[k];
			n++;
		}
	}
	return n;
}

/* ---- partitions ---------------------------------------------------------- */

static bool datum_same(const ice_datum *a, const ice_datum *b)
{
	if (a->is_null || b->is_null)
		return a->is_null == b->is_null;
	if (a->type.id == FLOE_TYPE_FLOAT || a->type.id == FLOE_TYPE_DOUBLE) {
		/* bits, NaNs normalized (spec, scan planning note 3) */
		double x = a->v.d, y = b->v.d;
		if (x != x || y != y)
			return x != x && y != y;
		return memcmp(&x, &y, sizeof x) == 0;
	}
	return ice_value_compare(&a->type, &a->v, &b->v) == 0;
}

int ice_partition_compare(const ice_datum *a, int na, const ice_datum *b, int nb)
{
	for (int i = 0; i < na && i < nb; i++) {
		const ice_datum *p = &a[i], *q = &b[i];
		if (p->is_null != q->is_null)
			return p->is_null ? -1 : 1;
		if (p->is_null)
			continue;
		int c = ice_value_compare(&p->type, &p->v, &q->v);
		if (c)
			return c;
	}
	return (na > nb) - (na < nb);
}

bool ice_partition_equal(const ice_datum *a, int na, const ice_datum *b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (!datum_same(&a[i], &b[i]))
			return false;
	return true;
}

/* An equality delete file whose key bounds cannot overlap data file `f`'s
 * on some key column (spec, scan planning: column metrics may show that a
 * delete file's rows cannot match). */
static bool eq_bounds_disjoint(const ice_deletes *d, const ice_data_file *del,
                               const ice_data_file *f)
{
	const ice_schema *sch = ice_metadata_current_schema(d->t->meta);
	for (int i = 0; i < del->nequality_ids; i++) {
		int32_t id = del->equality_ids[i];
		const ice_column_metrics *dm = ice_data_file_metrics(del, id), *fm = ice_data_file_metrics(f, id);
		const ice_field *fld = sch ? ice_schema_find_id(sch, id, NULL, 0) : NULL;
		if (!dm || !fm || !fld || fld->type->kind != ICE_PRIMITIVE)
			continue;
		const floe_type *t = &fld->type->prim;
		if (t->id == FLOE_TYPE_FLOAT || t->id == FLOE_TYPE_DOUBLE ||
		    (t->id == FLOE_TYPE_DECIMAL && t->precision > 18))
			continue;
		floe_value dlo, dhi, flo, fhi;
		if (dm->lower && fm->upper &&
		    ice_value_deserialize(&dlo, t, dm->lower, dm->lower_len, d->arena, NULL) == 0 &&
		    ice_value_deserialize(&fhi, t, fm->upper, fm->upper_len, d->arena, NULL) == 0 &&
		    ice_value_compare(t, &dlo, &fhi) > 0)
			return true;
		if (dm->upper && fm->lower &&
		    ice_value_deserialize(&dhi, t, dm->upper, dm->upper_len, d->arena, NULL) == 0 &&
		    ice_value_deserialize(&flo, t, fm->lower, fm->lower_len, d->arena, NULL) == 0 &&
		    ice_value_compare(t, &dhi, &flo) < 0)
			return true;
	}
	return false;
}

/* Scope rules of the spec's scan planning: sequence numbers, then the
 * partition (spec id and values) unless the equality delete is global. */
static bool applies(const del_file *df, const ice_data_file *f, int64_t seq)
{
	const ice_manifest_entry *e = df->e;
	if (e->file.content == ICE_CONTENT_POSITION_DELETES) {
		if (seq > e->sequence_number)
			return false;
		if (e->file.referenced_data_file && strcmp(e->file.referenced_data_file, f->file_path) != 0)
			return false;
	} else if (seq >= e->sequence_number) {
		return false;
	}
	if (df->global)
		return true;
	return e->file.spec_id == f->spec_id &&
	       ice_partition_equal(e->file.partition, e->file.npartition, f->partition, f->npartition);
}

/* ---- key ranges of the planned data files ----------------------------------- */

/* The type of equality column `id` when keys are filtered by range on it
 * (integers, dates, timestamps, strings, binary), else NULL. */
static const floe_type *range_type(const ice_deletes *d, int32_t id)
{
	const ice_schema *sch = ice_metadata_current_schema(d->t->meta);
	const ice_field *fld = sch ? ice_schema_find_id(sch, id, NULL, 0) : NULL;
	if (!fld || fld->type->kind != ICE_PRIMITIVE)
		return NULL;
	switch (fld->type->prim.id) {
	case FLOE_TYPE_INT:
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_DATE:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_BINARY:
		return &fld->type->prim;
	default:
		return NULL;
	}
}

/* Data file f's lower and upper bounds of column `id` as type t, or false
 * when it has none (truncated string bounds still enclose the values). */
static bool file_bounds(ice_deletes *d, const ice_data_file *f, int32_t id, const floe_type *t,
                        floe_value *lo, floe_value *hi)
{
	const ice_column_metrics *m = ice_data_file_metrics(f, id);
	return m && m->lower && m->upper &&
	       ice_value_deserialize(lo, t, m->lower, m->lower_len, d->arena, NULL) == 0 &&
	       ice_value_deserialize(hi, t, m->upper, m->upper_len, d->arena, NULL) == 0;
}

/* Does equality column c of df filter its keys by range? */
static bool range_active(const del_file *df, int c)
{
	return df->ranges && !df->unranged && df->ranges[c].seen && !df->ranges[c].open;
}

static bool any_range(const del_file *df)
{
	for (int c = 0; c < df->e->file.nequality_ids; c++)
		if (range_active(df, c))
			return true;
	return false;
}

void ice_deletes_plan(ice_deletes *d, const ice_data_file *f, int64_t seq)
{
	for (int i = 0; d && i < d->n; i++) {
		del_file *df = &d->files[i];
		const ice_data_file *del = &df->e->file;
		if (del->content != ICE_CONTENT_EQUALITY_DELETES || df->loaded || df->unranged ||
		    !applies(df, f, seq) || eq_bounds_disjoint(d, del, f))
			continue;
		int n = del->nequality_ids;
		if (!df->ranges && !(df->ranges = floe_arena_calloc(d->arena, (size_t)n, sizeof *df->ranges))) {
			df->unranged = true; /* no memory for ranges: load every key */
			continue;
		}
		for (int c = 0; c < n; c++) {
			eq_range *rg = &df->ranges[c];
			const floe_type *t = range_type(d, del->equality_ids[c]);
			floe_value lo, hi;
			if (rg->open)
				continue;
			if (!t || !file_bounds(d, f, del->equality_ids[c], t, &lo, &hi)) {
				rg->open = true;
			} else if (!rg->seen) {
				rg->lo = lo;
				rg->hi = hi;
				rg->seen = true;
			} else {
				if (ice_value_compare(t, &lo, &rg->lo) < 0)
					rg->lo = lo;
				if (ice_value_compare(t, &hi, &rg->hi) > 0)
					rg->hi = hi;
			}
		}
	}
}

/* Do df's ranges enclose data file f's bounds on every filtered column
 * (so the keys left out cannot match f's rows)? */
static bool ranges_cover(ice_deletes *d, const del_file *df, const ice_data_file *f)
{
	const ice_data_file *del = &df->e->file;
	for (int c = 0; c < del->nequality_ids; c++) {
		if (!range_active(df, c))
			continue;
		const floe_type *t = range_type(d, del->equality_ids[c]);
		floe_value lo, hi;
		if (!t || !file_bounds(d, f, del->equality_ids[c], t, &lo, &hi) ||
		    ice_value_compare(t, &lo, &df->ranges[c].lo) < 0 ||
		    ice_value_compare(t, &hi, &df->ranges[c].hi) > 0)
			return false;
	}
	return true;
}

static int cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t k = an < bn ? an : bn;
	int c = k ? memcmp(a, b, k) : 0;
	return c ? c : (an > bn) - (an < bn);
}

/* Is row r of column c (type t), NULL or inside rg? */
static bool value_in_range(const floe_column *c, int64_t r, const floe_type *t, const eq_range *rg)
{
	if (!floe_column_is_valid(c, r))
		return true;
	floe_value v;
	memset(&v, 0, sizeof v);
	if (c->offsets) {
		v.bytes = c->data + c->offsets[r];
		v.len = c->offsets[r + 1] - c->offsets[r];
	} else if (floe_type_value_width(t) == 4) {
		int32_t x;
		memcpy(&x, (const uint8_t *)c->values + (size_t)r * 4, 4);
		v.i = x;
	} else {
		memcpy(&v.i, (const uint8_t *)c->values + (size_t)r * 8, 8);
	}
	return ice_value_compare(t, &v, &rg->lo) >= 0 && ice_value_compare(t, &v, &rg->hi) <= 0;
}

/* Clear keep[k] for the rows of [0, n) whose value of column c lies
 * outside rg (a NULL never does); a column at a time, compared in place. */
static void range_filter(const floe_column *c, int64_t n, const floe_type *t,
                         const eq_range *rg, uint8_t *keep)
{
	if (c->offsets) {
		const uint8_t *lo = rg->lo.bytes, *hi = rg->hi.bytes;
		size_t lon = rg->lo.len, hin = rg->hi.len;
		for (int64_t k = 0; k < n; k++) {
			if (!keep[k] || !floe_column_is_valid(c, k))
				continue;
			const uint8_t *p = c->data + c->offsets[k];
			size_t len = (size_t)(c->offsets[k + 1] - c->offsets[k]);
			keep[k] = cmp_bytes(p, len, lo, lon) >= 0 && cmp_bytes(p, len, hi, hin) <= 0;
		}
		return;
	}
	if (t->is_unsigned || (floe_type_value_width(t) != 4 && floe_type_value_width(t) != 8)) {
		for (int64_t k = 0; k < n; k++)
			if (keep[k])
				keep[k] = value_in_range(c, k, t, rg);
		return;
	}
	int64_t lo = rg->lo.i, hi = rg->hi.i;
	bool w4 = floe_type_value_width(t) == 4;
	for (int64_t k = 0; k < n; k++) {
		if (!keep[k] || !floe_column_is_valid(c, k))
			continue;
		int64_t x;
		if (w4) {
			int32_t y;
			memcpy(&y, (const uint8_t *)c->values + (size_t)k * 4, 4);
			x = y;
		} else {
			memcpy(&x, (const uint8_t *)c->values + (size_t)k * 8, 8);
		}
		keep[k] = x >= lo && x <= hi;
	}
}

/* A position delete file whose file_path bounds exclude `path` (writers
 * that scope a delete file to one data file set both bounds to it; a
 * truncated upper bound is still above every value). */
static bool path_excluded(const ice_data_file *del, const char *path)
{
	const uint8_t *p = (const uint8_t *)path;
	size_t n = strlen(path);
	for (int i = 0; i < del->nmetrics; i++) {
		const ice_column_metrics *m = &del->metrics[i];
		if (m->field_id != ICE_FIELD_DELETE_FILE_PATH)
			continue;
		if (m->lower && cmp_bytes(p, n, m->lower, m->lower_len) < 0)
			return true;
		if (m->upper && cmp_bytes(p, n, m->upper, m->upper_len) > 0)
			return true;
	}
	return false;
}

bool ice_deletes_may_apply(const ice_deletes *d, int idx, const ice_data_file *f, int64_t seq)
{
	const del_file *df = &d->files[idx];
	if (!applies(df, f, seq))
		return false;
	if (df->e->file.content == ICE_CONTENT_EQUALITY_DELETES)
		return !eq_bounds_disjoint(d, &df->e->file, f);
	return !path_excluded(&df->e->file, f->file_path);
}

const ice_manifest_entry *ice_deletes_entry(const ice_deletes *d, int idx)
{
	return d->files[idx].e;
}

/* ---- reading delete files -------------------------------------------------- */

/* Open `f`'s Parquet file and scan the columns with field ids ids[0..n)
 * (names[] as fallbacks for files without ids). */
static int open_delete_file(ice_deletes *d, const ice_data_file *f, const int32_t *ids,
                            const char *const *fallback, int n, floe_parquet_reader **r,
                            floe_parquet_scan **ps, floe_error *err)
{
	char local[4096];
	if (!ice_table_local_path(d->t, f->file_path, local, sizeof local))
		return floe_error_set(err, FLOE_EINVALID, "path too long: %s", f->file_path);
	int rc = floe_parquet_reader_open(r, local, err);
	if (rc)
		return floe_error_prefix(err, "%s: delete file", d->t->ident);
	const floe_schema *fs = floe_parquet_reader_schema(*r);
	const char **names = floe_arena_calloc(d->arena, (size_t)n + 1, sizeof *names);
	if (!names)
		return oom(err);
	for (int i = 0; i < n; i++) {
		int k = floe_schema_find_id(fs, ids[i]);
		if (k < 0 && fallback && fallback[i])
			k = floe_schema_find(fs, fallback[i]);
		if (k < 0)
			return floe_error_set(err, FLOE_ECORRUPT, "%s: delete file %s has no column with field "
			                      "id %d", d->t->ident, f->file_path, ids[i]);
		names[i] = fs->fields[k].name;
	}
	floe_parquet_scan_options po;
	floe_parquet_scan_options_init(&po);
	po.columns = names;
	po.ncolumns = n;
	return floe_parquet_scan_open(ps, *r, &po, err);
}

static int slot_for_path(ice_deletes *d, const uint8_t *p, size_t len, bool create,
                         path_slot **out, floe_error *err)
{
	*out = NULL;
	if (create && (d->used + 1) * 2 > d->nslots) {
		size_t ns = d->nslots ? d->nslots * 2 : 64;
		path_slot *v = calloc(ns, sizeof *v);
		if (!v)
			return oom(err);
		for (size_t i = 0; i < d->nslots; i++) {
			if (!d->slots[i].path)
				continue;
			size_t j = d->slots[i].hash & (ns - 1);
			while (v[j].path)
				j = (j + 1) & (ns - 1);
			v[j] = d->slots[i];
		}
		free(d->slots);
		d->slots = v;
		d->nslots = ns;
	}
	if (!d->nslots)
		return 0;
	uint64_t h = XXH3_64bits(p, len);
	size_t j = h & (d->nslots - 1);
	while (d->slots[j].path) {
		if (d->slots[j].hash == h && strlen(d->slots[j].path) == len &&
		    memcmp(d->slots[j].path, p, len) == 0) {
			*out = &d->slots[j];
			return 0;
		}
		j = (j + 1) & (d->nslots - 1);
	}
	if (!create)
		return 0;
	char *s = floe_arena_alloc(d->arena, len + 1);
	if (!s)
		return oom(err);
	memcpy(s, p, len);
	s[len] = 0;
	d->slots[j].hash = h;
	d->slots[j].path = s;
	d->slots[j].head = NULL;
	d->used++;
	*out = &d->slots[j];
	return 0;
}

static int load_positions(ice_deletes *d, int idx, floe_error *err)
{
	const ice_data_file *f = &d->files[idx].e->file;
	static const int32_t ids[2] = { ICE_FIELD_DELETE_FILE_PATH, ICE_FIELD_DELETE_POS };
	static const char *const names[2] = { "file_path", "pos" };
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *ps = NULL;
	int rc = open_delete_file(d, f, ids, names, 2, &r, &ps, err);
	pos_list *cur = NULL;
	const char *cur_path = NULL;
	size_t cur_len = 0;
	while (!rc) {
		const floe_batch *b;
		rc = floe_parquet_scan_next(ps, &b, err);
		if (rc <= 0)
			break;
		rc = 0;
		const floe_column *pc = &b->cols[0], *oc = &b->cols[1];
		if (!floe_type_is_variable(&pc->type) ||
		    (oc->type.id != FLOE_TYPE_LONG && oc->type.id != FLOE_TYPE_INT)) {
			rc = floe_error_set(err, FLOE_ECORRUPT, "%s: position delete file %s: file_path must "
			                    "be a string and pos a long", d->t->ident, f->file_path);
			break;
		}
		for (int64_t i = 0; i < b->nrows && !rc; i++) {
			if (!floe_column_is_valid(pc, i) || !floe_column_is_valid(oc, i)) {
				rc = floe_error_set(err, FLOE_ECORRUPT, "%s: position delete file %s: NULL in "
				                    "row %" PRId64, d->t->ident, f->file_path, i);
				break;
			}
			const uint8_t *p = pc->data + pc->offsets[i];
			size_t len = (size_t)(pc->offsets[i + 1] - pc->offsets[i]);
			int64_t pos = oc->type.id == FLOE_TYPE_LONG ? ((const int64_t *)oc->values)[i]
			                                            : ((const int32_t *)oc->values)[i];
			if (pos < 0) {
				rc = floe_error_set(err, FLOE_ECORRUPT, "%s: position delete file %s: negative "
				                    "pos %" PRId64, d->t->ident, f->file_path, pos);
				break;
			}
			if (!cur || len != cur_len || memcmp(p, cur_path, len) != 0) {
				path_slot *slot;
				if ((rc = slot_for_path(d, p, len, true, &slot, err)))
					break;
				cur = slot->head;
				if (!cur || cur->del != idx) {
					cur = calloc(1, sizeof *cur);
					if (!cur) {
						rc = oom(err);
						break;
					}
					cur->del = idx;
					cur->next = slot->head;
					slot->head = cur;
				}
				cur_path = slot->path;
				cur_len = len;
			}
			if (cur->n == cur->cap) {
				int64_t cap = cur->cap ? cur->cap * 2 : 64;
				int64_t *v = realloc(cur->pos, (size_t)cap * sizeof *v);
				if (!v) {
					rc = oom(err);
					break;
				}
				cur->pos = v;
				cur->cap = cap;
			}
			cur->pos[cur->n++] = pos;
		}
	}
	floe_parquet_scan_free(ps);
	floe_parquet_reader_free(r);
	if (!rc)
		d->files[idx].loaded = true;
	return rc;
}

/* Append row r's key (cols[0..n)) to k; with bare_last, the last
 * column's value without its length (the key's own length gives it). */
static int key_append(floe_buf *k, const floe_column *const *cols, int n, int64_t r,
                      bool bare_last)
{
	for (int i = 0; i < n; i++) {
		const floe_column *c = cols[i];
		uint8_t flag = floe_column_is_valid(c, r) ? 1 : 0;
		if (floe_buf_append(k, &flag, 1))
			return FLOE_ENOMEM;
		if (!flag)
			continue;
		if (c->offsets) {
			uint32_t len = (uint32_t)(c->offsets[r + 1] - c->offsets[r]);
			if ((!(bare_last && i == n - 1) && floe_buf_append(k, &len, 4)) ||
			    (len && floe_buf_append(k, c->data + c->offsets[r], len)))
				return FLOE_ENOMEM;
		} else {
			size_t w = (size_t)floe_type_value_width(&c->type);
			if (floe_buf_append(k, (const uint8_t *)c->values + (size_t)r * w, w))
				return FLOE_ENOMEM;
		}
	}
	return 0;
}

int ice_key_of(floe_buf *k, const floe_column *const *cols, int n, int64_t r)
{
	floe_buf_clear(k);
	return key_append(k, cols, n, r, false);
}

/* Probes and inserts run this many rows behind the prefetch of their slot:
 * a set of a million keys is far larger than the caches, and a lone probe
 * waits on memory, while several in flight overlap. */
#define EQ_AHEAD 8

#if defined(__GNUC__) || defined(__clang__)
#define EQ_PREFETCH(p) __builtin_prefetch(p)
#else
#define EQ_PREFETCH(p) ((void)(p))
#endif

/* Rows whose keys are built and probed together (stack arrays). */
#define EQ_CHUNK 1024

#ifdef __SIZEOF_INT128__
/* 64x64 -> 128-bit multiply folded to 64 bits (as in wyhash). */
static inline uint64_t eq_mum(uint64_t a, uint64_t b)
{
	unsigned __int128 m = (unsigned __int128)a * b;
	return (uint64_t)m ^ (uint64_t)(m >> 64);
}
#endif

/* Hash of a key's n bytes: keys of up to 32 bytes (the usual one or two
 * columns) by word loads and multiplies, longer ones by XXH3. */
static inline uint64_t eq_hash(const uint8_t *p, size_t n)
{
#ifdef __SIZEOF_INT128__
	const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
	               k2 = 0x8ebc6af09c88c6e3ull, k3 = 0x589965cc75374cc3ull;
	uint64_t a, b;
	if (n > 32)
		return XXH3_64bits(p, n);
	if (n > 16) {
		a = eq_mum(floe_load_u64le(p) ^ k0, floe_load_u64le(p + 8) ^ k1);
		b = eq_mum(floe_load_u64le(p + n - 16) ^ k2, floe_load_u64le(p + n - 8) ^ k3);
	} else if (n > 8) {
		a = floe_load_u64le(p);
		b = floe_load_u64le(p + n - 8);
	} else {
		a = floe_load_key8(p, n);
		b = 0;
	}
	return eq_mum(eq_mum(a ^ k0, b ^ k1 ^ n) ^ k2, k3 ^ n);
#else
	return XXH3_64bits(p, n);
#endif
}

/* Keys of the rows r of [r0, r1) with keep[r] set (every row when keep is
 * NULL) appended to out, key i at koff[i]..koff[i + 1], its hash at hs[i]
 * and its row at rows[i] (rows may be NULL); bare_last as key_append.
 * Returns how many, or -1 when out of memory. Inlined into its two callers,
 * whose constant arguments give each a loop of its own. */
static inline __attribute__((always_inline)) int64_t
keys_into(floe_buf *out, const floe_column *const *cols, int n, int64_t r0, int64_t r1,
          const uint8_t *keep, bool bare_last, int64_t *rows, size_t *koff, uint64_t *hs)
{
	int64_t m = 0;
	const floe_column *c = cols[0];
	if (n == 1 && c->offsets && !c->validity) {
		/* one string column without NULLs (the usual key): the bytes of
		 * the keys reserved at once, each written in place */
		size_t head = bare_last ? 1 : 5;
		size_t need = (size_t)(c->offsets[r1] - c->offsets[r0]) + (size_t)(r1 - r0) * head;
		if (floe_buf_reserve(out, need))
			return -1;
		for (int64_t r = r0; r < r1; r++) {
			if (keep && !keep[r])
				continue;
			uint32_t len = (uint32_t)(c->offsets[r + 1] - c->offsets[r]);
			uint8_t *p = out->data + out->len;
			koff[m] = out->len;
			p[0] = 1;
			if (!bare_last)
				memcpy(p + 1, &len, 4);
			memcpy(p + head, c->data + c->offsets[r], len);
			out->len += head + (size_t)len;
			if (rows)
				rows[m] = r;
			m++;
		}
	} else {
		for (int64_t r = r0; r < r1; r++) {
			if (keep && !keep[r])
				continue;
			koff[m] = out->len;
			if (key_append(out, cols, n, r, bare_last))
				return -1;
			if (rows)
				rows[m] = r;
			m++;
		}
	}
	koff[m] = out->len;
	/* hashed once all are written: a word load over bytes just stored
	 * piecewise waits for them (no store forwarding) */
	for (int64_t i = 0; i < m; i++)
		hs[i] = eq_hash(out->data + koff[i], koff[i + 1] - koff[i]);
	return m;
}

int ice_keys_of(floe_buf *out, size_t *koff, uint64_t *hs, const floe_column *const *cols,
                int n, int64_t r0, int64_t r1)
{
	return keys_into(out, cols, n, r0, r1, NULL, false, NULL, koff, hs) < 0 ? FLOE_ENOMEM : 0;
}

int ice_keyfilter_init(ice_keyfilter *f, size_t nkeys)
{
	size_t words = 1;
	while (words * 8 < nkeys && words < ((size_t)1 << 32))
		words *= 2;
	f->w = calloc(words, sizeof *f->w);
	f->mask = words - 1;
	return f->w ? 0 : FLOE_ENOMEM;
}

void ice_keyfilter_free(ice_keyfilter *f)
{
	free(f->w);
	f->w = NULL;
	f->mask = 0;
}

/* p[0..n) == q[0..n); keys of up to 16 bytes compared by word loads. */
static inline bool eq_same(const uint8_t *p, const uint8_t *q, size_t n)
{
	if (n > 16)
		return memcmp(p, q, n) == 0;
	if (n >= 8)
		return floe_load_u64le(p) == floe_load_u64le(q) &&
		       floe_load_u64le(p + n - 8) == floe_load_u64le(q + n - 8);
	return floe_load_key8(p, n) == floe_load_key8(q, n);
}

/* Keys (into keys, cleared first; key i at koff[i]..koff[i+1]) and hashes
 * of the rows r of [r0, r1) with keep[r] set (every row when keep is NULL),
 * their numbers into rows[]. Returns how many, or -1 when out of memory. */
static int64_t chunk_keys(floe_buf *keys, const floe_column *const *cols, int n, int64_t r0,
                          int64_t r1, const uint8_t *keep, int64_t *rows, size_t *koff,
                          uint64_t *hs)
{
	floe_buf_clear(keys);
	return keys_into(keys, cols, n, r0, r1, keep, true, rows, koff, hs);
}

/* The entry of key k (len bytes, hash h), or NULL. */
static const eq_ent *eq_find(const ice_eq_set *s, const uint8_t *k, size_t len, uint64_t h)
{
	if (!s->nslots)
		return NULL;
	const eq_ent *ents = (const eq_ent *)s->ents.data;
	uint32_t hi = (uint32_t)(h >> 32);
	for (uint32_t j = (uint32_t)h & (s->nslots - 1);; j = (j + 1) & (s->nslots - 1)) {
		uint64_t v = s->slots[j];
		if (!v)
			return NULL;
		if ((uint32_t)(v >> 32) != hi)
			continue;
		const eq_ent *e = &ents[(uint32_t)v - 1];
		if (e->hlo == (uint32_t)h && e->len == len &&
		    eq_same(len <= EQ_INLINE ? e->k.in : s->keys.data + e->k.off, k, len))
			return e;
	}
}

/* Room for `more` keys beyond those held (at most half the slots used),
 * placing the entries again once when the slots grow (from the old slots,
 * which hold the high half of each hash). */
static int eq_reserve(ice_eq_set *s, int64_t more)
{
	size_t n = s->ents.len / sizeof(eq_ent);
	uint64_t need = ((uint64_t)n + (uint64_t)(more > 0 ? more : 0)) * 2;
	if (need <= s->nslots)
		return 0;
	uint64_t ns = s->nslots ? s->nslots : 1024;
	while (ns < need)
		ns *= 2;
	if (ns > (uint64_t)1 << 31 || floe_buf_reserve(&s->ents, (need / 2 - n) * sizeof(eq_ent)))
		return FLOE_ENOMEM;
	uint64_t *v = calloc(ns, sizeof *v);
	ice_keyfilter f;
	if (!v || ice_keyfilter_init(&f, ns / 2)) {
		free(v);
		return FLOE_ENOMEM;
	}
	const eq_ent *ents = (const eq_ent *)s->ents.data;
	for (uint32_t i = 0; i < s->nslots; i++) {
		uint64_t old = s->slots[i];
		if (!old)
			continue;
		uint32_t lo = ents[(uint32_t)old - 1].hlo;
		uint32_t j = lo & (uint32_t)(ns - 1);
		while (v[j])
			j = (j + 1) & (uint32_t)(ns - 1);
		v[j] = old;
		ice_keyfilter_add(&f, (old & 0xFFFFFFFF00000000ull) | lo);
	}
	ice_keyfilter_free(&s->filter);
	s->filter = f;
	free(s->slots);
	s->slots = v;
	s->nslots = (uint32_t)ns;
	return 0;
}

/* Add key k deleted at sequence number seq (keeping the highest). */
static int eq_insert(ice_eq_set *s, const uint8_t *k, size_t len, uint64_t h, int64_t seq)
{
	const eq_ent *found = eq_find(s, k, len, h);
	if (found) {
		eq_ent *e = (eq_ent *)(void *)found;
		if (e->seq < seq)
			e->seq = seq;
		return 0;
	}
	size_t n = s->ents.len / sizeof(eq_ent);
	if (n >= UINT32_MAX - 1 || len > UINT32_MAX || ((n + 1) * 2 > s->nslots && eq_reserve(s, 1)))
		return FLOE_ENOMEM;
	eq_ent e;
	memset(&e, 0, sizeof e);
	e.seq = seq;
	e.len = (uint32_t)len;
	e.hlo = (uint32_t)h;
	if (len <= EQ_INLINE) {
		if (len)
			memcpy(e.k.in, k, len);
	} else {
		e.k.off = s->keys.len;
		if (floe_buf_append(&s->keys, k, len))
			return FLOE_ENOMEM;
	}
	if (floe_buf_append(&s->ents, &e, sizeof e))
		return FLOE_ENOMEM;
	uint32_t j = (uint32_t)h & (s->nslots - 1);
	while (s->slots[j])
		j = (j + 1) & (s->nslots - 1);
	s->slots[j] = (h >> 32) << 32 | (uint64_t)(n + 1);
	ice_keyfilter_add(&s->filter, h);
	return 0;
}

/* A new empty set over the columns of equality delete file f, compared as
 * `schema`'s types of their field ids. */
static int eq_new(ice_deletes *d, const ice_data_file *f, const floe_schema *schema,
                  ice_eq_set **out, floe_error *err)
{
	int n = f->nequality_ids;
	ice_eq_set *s = floe_arena_calloc(d->arena, 1, sizeof *s);
	if (!s || !(s->types = floe_arena_calloc(d->arena, (size_t)n + 1, sizeof *s->types)))
		return oom(err);
	s->nids = n;
	s->ids = f->equality_ids;
	for (int i = 0; i < n; i++) {
		int k = floe_schema_find_id(schema, f->equality_ids[i]);
		if (k < 0)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: equality delete file %s deletes by "
			                      "field id %d, which the schema being read does not have",
			                      d->t->ident, f->file_path, f->equality_ids[i]);
		s->types[i] = schema->fields[k].type;
	}
	*out = s;
	return 0;
}

/* Do two lists of equality field ids match, in order? */
static bool same_ids(int na, const int32_t *a, int nb, const int32_t *b)
{
	return na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0;
}

/* The set delete file idx's keys go to: its own, or for a global file the
 * one shared by the global files over the same columns (made on first
 * use; freed with the index). */
static int eq_target(ice_deletes *d, int idx, const floe_schema *schema, floe_error *err)
{
	del_file *df = &d->files[idx];
	const ice_data_file *f = &df->e->file;
	if (df->eq)
		return 0;
	if (!df->global)
		return eq_new(d, f, schema, &df->eq, err);
	for (int i = 0; i < d->nshared; i++)
		if (same_ids(d->shared[i]->nids, d->shared[i]->ids, f->nequality_ids, f->equality_ids)) {
			df->eq = d->shared[i];
			return 0;
		}
	if (d->nshared == d->capshared) {
		int cap = d->capshared ? d->capshared * 2 : 4;
		ice_eq_set **v = realloc(d->shared, (size_t)cap * sizeof *v);
		if (!v)
			return oom(err);
		d->shared = v;
		d->capshared = cap;
	}
	int rc = eq_new(d, f, schema, &d->shared[d->nshared], err);
	if (rc)
		return rc;
	df->eq = d->shared[d->nshared++];
	return 0;
}

static int load_equality(ice_deletes *d, int idx, const floe_schema *schema, floe_error *err)
{
	del_file *df = &d->files[idx];
	const ice_data_file *f = &df->e->file;
	int n = f->nequality_ids;
	int rc = eq_target(d, idx, schema, err);
	if (rc)
		return rc;
	ice_eq_set *s = df->eq; /* freed with the index from here on */
	const char **names = floe_arena_calloc(d->arena, (size_t)n + 1, sizeof *names);
	const floe_column **cols = floe_arena_calloc(d->arena, (size_t)n + 1, sizeof *cols);
	floe_column *wide = floe_arena_calloc(d->arena, (size_t)n + 1, sizeof *wide);
	const floe_type **rt = floe_arena_calloc(d->arena, (size_t)n + 1, sizeof *rt);
	if (!names || !cols || !wide || !rt)
		return oom(err);
	/* columns whose values outside the planned data files' ranges are
	 * left out (read as the type the ranges were taken in) */
	df->ranged = false;
	for (int i = 0; i < n; i++) {
		const floe_type *t = range_active(df, i) ? range_type(d, f->equality_ids[i]) : NULL;
		if (t && t->id == s->types[i].id) {
			rt[i] = t;
			df->ranged = true;
		}
	}
	for (int i = 0; i < n; i++) {
		int k = floe_schema_find_id(schema, f->equality_ids[i]);
		names[i] = k >= 0 ? schema->fields[k].name : NULL;
	}
	int64_t *rows = malloc(EQ_CHUNK * sizeof *rows);
	size_t *koff = malloc((EQ_CHUNK + 1) * sizeof *koff);
	uint64_t *hs = malloc(EQ_CHUNK * sizeof *hs);
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *ps = NULL;
	floe_arena *ba = floe_arena_new(1 << 16);
	rc = ba && rows && koff && hs ? open_delete_file(d, f, f->equality_ids, names, n, &r, &ps, err)
	                              : oom(err);
	/* slots for the file's rows at once (as its footer counts them, up to
	 * 16M; beyond, the set grows as it fills), so none is placed twice;
	 * not when ranges leave keys out */
	if (!rc && !df->ranged) {
		int64_t want = floe_parquet_reader_num_rows(r);
		if (eq_reserve(s, want < ((int64_t)1 << 24) ? want : (int64_t)1 << 24))
			rc = oom(err);
	}
	while (!rc) {
		const floe_batch *b;
		rc = floe_parquet_scan_next(ps, &b, err);
		if (rc <= 0)
			break;
		rc = 0;
		floe_arena_reset(ba);
		for (int i = 0; i < n && !rc; i++) {
			rc = ice_column_widen(ba, &b->cols[i], &s->types[i], b->nrows, &wide[i], err);
			cols[i] = &wide[i];
		}
		if (rc) {
			floe_error_prefix(err, "%s: equality delete file %s", d->t->ident, f->file_path);
			break;
		}
		uint8_t *keep = NULL;
		if (df->ranged) {
			if (!(keep = floe_arena_alloc(ba, (size_t)b->nrows + 1))) {
				rc = oom(err);
				break;
			}
			memset(keep, 1, (size_t)b->nrows);
			for (int i = 0; i < n; i++)
				if (rt[i])
					range_filter(cols[i], b->nrows, rt[i], &df->ranges[i], keep);
		}
		for (int64_t c0 = 0; !rc && c0 < b->nrows; c0 += EQ_CHUNK) {
			int64_t c1 = c0 + EQ_CHUNK < b->nrows ? c0 + EQ_CHUNK : b->nrows;
			int64_t m = chunk_keys(&d->key, cols, n, c0, c1, keep, rows, koff, hs);
			if (m > 0 && (floe_buf_reserve(&s->keys, d->key.len) ||
			              floe_buf_reserve(&s->ents, (size_t)m * sizeof(eq_ent))))
				rc = oom(err);
			for (int64_t i = 0; !rc && i < m; i++) {
				if (i + EQ_AHEAD < m)
					EQ_PREFETCH(&s->slots[(uint32_t)hs[i + EQ_AHEAD] & (s->nslots - 1)]);
				if (eq_insert(s, d->key.data + koff[i], koff[i + 1] - koff[i], hs[i],
				              df->e->sequence_number))
					rc = oom(err);
			}
			if (m < 0)
				rc = oom(err);
		}
	}
	floe_parquet_scan_free(ps);
	floe_parquet_reader_free(r);
	floe_arena_free(ba);
	free(rows);
	free(koff);
	free(hs);
	if (!rc)
		df->loaded = true;
	return rc;
}

/* ---- per data file --------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int ice_deletes_for_file(ice_deletes *d, const ice_data_file *f, int64_t seq,
                         const ice_partition_spec *spec, const floe_schema *schema,
                         ice_file_deletes *out, floe_error *err)
{
	(void)spec;
	memset(out, 0, sizeof *out);
	if (!d || d->n == 0)
		return 0;
	int rc;
	bool any_pos = false;
	/* the equality delete files that may apply to f (scope, then bounds) */
	floe_buf_clear(&d->sel);
	if (floe_buf_reserve(&d->sel, (size_t)d->n))
		return oom(err);
	uint8_t *sel = d->sel.data;
	for (int i = 0; i < d->n; i++) {
		const del_file *df = &d->files[i];
		sel[i] = df->e->file.content == ICE_CONTENT_EQUALITY_DELETES && applies(df, f, seq) &&
		         !eq_bounds_disjoint(d, &df->e->file, f);
	}
	/* keys loaded (or to be loaded) for the planned data files' ranges
	 * must cover f's bounds; else the set loads again with every key */
	for (int i = 0; i < d->n; i++) {
		del_file *df = &d->files[i];
		if (!sel[i])
			continue;
		if (df->loaded && df->ranged && !ranges_cover(d, df, f))
			eq_reset(d, df->eq);
		else if (!df->loaded && any_range(df) && !ranges_cover(d, df, f))
			df->unranged = true;
	}
	/* the sets about to be filled get room for all their new keys at once
	 * (as the files' manifests count them, up to 16M a set), so no key is
	 * placed twice as a set grows through several files */
	for (int i = 0; i < d->n; i++) {
		del_file *df = &d->files[i];
		if (!sel[i] || df->loaded)
			continue;
		if ((rc = eq_target(d, i, schema, err)))
			return rc;
		if (!any_range(df))
			df->eq->pending += df->e->file.record_count > 0 ? df->e->file.record_count : 0;
	}
	for (int i = 0; i < d->n; i++) {
		ice_eq_set *s = d->files[i].eq;
		if (s && s->pending) {
			int64_t want = s->pending < ((int64_t)1 << 24) ? s->pending : (int64_t)1 << 24;
			s->pending = 0;
			if (eq_reserve(s, want))
				return oom(err);
		}
	}
	for (int i = 0; i < d->n; i++) {
		del_file *df = &d->files[i];
		if (!applies(df, f, seq))
			continue;
		if (df->e->file.content == ICE_CONTENT_POSITION_DELETES) {
			if (path_excluded(&df->e->file, f->file_path))
				continue;
			if (!df->loaded && (rc = load_positions(d, i, err)))
				return rc;
			any_pos = true;
			continue;
		}
		if (!sel[i])
			continue;
		if (!df->loaded && (rc = load_equality(d, i, schema, err)))
			return rc;
		/* each set once: the global files over the same columns share one */
		if (!out->eq && !(out->eq = floe_arena_calloc(d->arena, (size_t)d->n, sizeof *out->eq)))
			return oom(err);
		int j = 0;
		while (j < out->neq && out->eq[j] != df->eq)
			j++;
		if (j == out->neq)
			out->eq[out->neq++] = df->eq;
		out->seq = seq;
	}
	if (!any_pos)
		return 0;
	path_slot *slot;
	if ((rc = slot_for_path(d, (const uint8_t *)f->file_path, strlen(f->file_path), false, &slot,
	                        err)))
		return rc;
	if (!slot)
		return 0;
	floe_buf_clear(&d->scratch);
	for (pos_list *p = slot->head; p; p = p->next)
		if (applies(&d->files[p->del], f, seq) &&
		    floe_buf_append(&d->scratch, p->pos, (size_t)p->n * sizeof *p->pos))
			return oom(err);
	int64_t n = (int64_t)(d->scratch.len / sizeof(int64_t));
	if (n == 0)
		return 0;
	int64_t *v = floe_arena_alloc(d->arena, (size_t)n * sizeof *v);
	if (!v)
		return oom(err);
	memcpy(v, d->scratch.data, (size_t)n * sizeof *v);
	qsort(v, (size_t)n, sizeof *v, cmp_i64);
	int64_t m = 0;
	for (int64_t i = 0; i < n; i++)
		if (m == 0 || v[m - 1] != v[i])
			v[m++] = v[i];
	out->pos = v;
	out->npos = m;
	return 0;
}

/* Clear keep[] for rows whose key an equality delete set of fd holds at a
 * sequence number above the data file's. Per
 * chunk of rows and group of sets over the same columns, the keys and
 * hashes of the rows still kept are built once, then each set is probed
 * with its slots prefetched ahead. */
static int apply_equality(const ice_file_deletes *fd, const floe_batch *b, uint8_t *keep,
                          int64_t *dropped, floe_error *err)
{
	floe_buf keys = FLOE_BUF_INIT;
	int64_t rows[EQ_CHUNK];
	size_t koff[EQ_CHUNK + 1];
	uint64_t hs[EQ_CHUNK];
	bool maybe[EQ_CHUNK];
	int rc = 0;
	for (int k = 0; !rc && k < fd->neq;) {
		const ice_eq_set *s = fd->eq[k];
		int g = k + 1;
		while (g < fd->neq && same_ids(fd->eq[g]->nids, fd->eq[g]->ids, s->nids, s->ids))
			g++;
		const floe_column *cols[64];
		if (s->nids > 64) {
			rc = floe_error_set(err, FLOE_EUNSUPPORTED, "equality deletes over more than 64 columns");
			break;
		}
		for (int i = 0; !rc && i < s->nids; i++) {
			int c = b->schema ? floe_schema_find_id(b->schema, s->ids[i]) : -1;
			if (c < 0 || c >= b->ncols)
				rc = floe_error_set(err, FLOE_EINVALID, "equality delete column %d is not in the batch",
				                    s->ids[i]);
			else
				cols[i] = &b->cols[c];
		}
		for (int64_t c0 = 0; !rc && c0 < b->nrows; c0 += EQ_CHUNK) {
			int64_t c1 = c0 + EQ_CHUNK < b->nrows ? c0 + EQ_CHUNK : b->nrows;
			int64_t m = chunk_keys(&keys, cols, s->nids, c0, c1, keep, rows, koff, hs);
			if (m < 0)
				rc = oom(err);
			for (int j = k; !rc && j < g; j++) {
				const ice_eq_set *e = fd->eq[j];
				if (!e->nslots)
					continue;
				uint32_t mask = e->nslots - 1;
				const eq_ent *ents = (const eq_ent *)e->ents.data;
				/* most rows' keys are not in the set: its filter turns
				 * them away before their slots are fetched */
				for (int64_t i = 0; i < m; i++)
					maybe[i] = ice_keyfilter_maybe(&e->filter, hs[i]);
				for (int64_t i = 0; i < m; i++) {
					/* two stages: the slot of a row 2 * EQ_AHEAD on,
					 * then the entry its (by now loaded) slot names */
					if (i + 2 * EQ_AHEAD < m && maybe[i + 2 * EQ_AHEAD])
						EQ_PREFETCH(&e->slots[(uint32_t)hs[i + 2 * EQ_AHEAD] & mask]);
					if (i + EQ_AHEAD < m && maybe[i + EQ_AHEAD]) {
						uint64_t v = e->slots[(uint32_t)hs[i + EQ_AHEAD] & mask];
						if (v)
							EQ_PREFETCH(&ents[(uint32_t)v - 1]);
					}
					int64_t r = rows[i];
					if (!keep[r] || !maybe[i])
						continue;
					const eq_ent *x = eq_find(e, keys.data + koff[i], koff[i + 1] - koff[i], hs[i]);
					if (x && x->seq > fd->seq) {
						keep[r] = 0;
						(*dropped)++;
					}
				}
			}
		}
		k = g;
	}
	floe_buf_free(&keys);
	return rc;
}

int ice_deletes_apply(const ice_file_deletes *fd, const floe_batch *b, int64_t first_pos,
                      uint8_t *keep, int64_t *ndeleted, floe_error *err)
{
	int64_t n = b->nrows, dropped = 0;
	if (fd->npos) {
		/* first deleted position >= first_pos */
		int64_t lo = 0, hi = fd->npos;
		while (lo < hi) {
			int64_t mid = lo + (hi - lo) / 2;
			if (fd->pos[mid] < first_pos)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (int64_t i = lo; i < fd->npos && fd->pos[i] < first_pos + n; i++) {
			int64_t r = fd->pos[i] - first_pos;
			if (keep[r]) {
				keep[r] = 0;
				dropped++;
			}
		}
	}
	if (fd->neq) {
		int rc = apply_equality(fd, b, keep, &dropped, err);
		if (rc)
			return rc;
	}
	*ndeleted += dropped;
	return 0;
}
