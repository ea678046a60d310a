/* iceberg/table_append.c - appends: rows matched to the table's columns,
 * routed to partitions by the spec's transforms (hidden partitioning),
 * written as Parquet data files rolled at the target size with Iceberg
 * column metrics, then committed as one "append" snapshot whose manifest
 * is written once and re-listed on a new base when a concurrent commit
 * wins (spec: "Commit retry" / sequence number inheritance). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <xxhash.h>

#include "iceberg/table_int.h"
#include "iceberg/transform.h"
#include "iceberg/value.h"
#include "util/buf.h"
#include "util/fs.h"

#define BOUND_TRUNCATE 16 /* write.metadata.metrics.default = truncate(16) */

typedef struct col_metrics {
	int64_t values, nulls, nans;
	bool has;          /* min/max set */
	floe_value min, max;
	floe_buf minb, maxb; /* storage of byte-valued bounds */
} col_metrics;

typedef struct part_writer {
	uint64_t hash;
	ice_datum *key;            /* npart values (arena) */
	floe_parquet_writer *w;    /* NULL between files */
	char *path, *tmp;
	int64_t rows;
	int64_t last_batch;        /* the last batch that wrote to it */
	col_metrics *cm;
} part_writer;

struct floe_append {
	floe_table *t;
	floe_arena *arena;          /* metadata copy, keys, finished entries */
	floe_arena *batch_arena;    /* reset per batch */
	ice_table_metadata *m;      /* the metadata the append started from */
	ice_meta_ref *mref;         /* keeps `m` alive */
	const ice_schema *schema;
	const ice_partition_spec *spec;
	floe_type *ptypes;
	int *psrc;                  /* flat column of each partition source */
	floe_schema *fs;            /* flat table schema */
	part_writer *pw;
	int npw, cappw;
	int last_pw;
	ice_manifest_entry *done;
	size_t ndone, capdone;
	ice_kv *extra;
	int nextra;
	int64_t rows;
	int64_t nbatches;           /* batches seen */
	int64_t idle_batches;       /* close a file after this many batches without rows */
	int max_open;               /* open files at most (least recently used closed) */
	int64_t target_bytes;
	floe_parquet_write_options popt;
	char uuid[37];
	int file_counter;
	char data_dir[4096];
	/* commit */
	int64_t snapshot_id;
	char manifest_path[4096];
	ice_manifest_file mf;
	char list_path[4096];
	ice_paths merged;           /* manifests merged by the current attempt:
	                               removed when it fails, kept once committed
	                               (or when the outcome is unknown) */
	int64_t added_bytes;
	int changed_partitions;
	char **dirs;                /* directories of closed files, to fsync */
	int ndirs, capdirs;
};

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

/* ---- metrics ----------------------------------------------------------- */

static bool bytes_valued(const floe_type *t)
{
	switch (t->id) {
	case FLOE_TYPE_STRING: case FLOE_TYPE_JSON: case FLOE_TYPE_BINARY:
	case FLOE_TYPE_FIXED: case FLOE_TYPE_UUID:
		return true;
	case FLOE_TYPE_DECIMAL:
		return t->precision > 18;
	default:
		return false;
	}
}

static int set_bytes(floe_buf *b, floe_value *v, const uint8_t *p, int64_t n)
{
	floe_buf_clear(b);
	if (n > 0 && floe_buf_append(b, p, (size_t)n))
		return FLOE_ENOMEM;
	v->bytes = b->data;
	v->len = n;
	return 0;
}

static inline int bytes_cmp(const uint8_t *a, int64_t an, const uint8_t *b, int64_t bn)
{
	int64_t n = an < bn ? an : bn;
	int c = n > 0 ? memcmp(a, b, (size_t)n) : 0;
	if (c)
		return c;
	return (an > bn) - (an < bn);
}

/* Strings, binary, fixed and uuid take their bounds from the Parquet
 * writer's statistics (same order: unsigned bytes, shorter first), which
 * it keeps anyway, instead of comparing every value a second time. */
static bool writer_bounds(const floe_type *t)
{
	return bytes_valued(t) && t->id != FLOE_TYPE_DECIMAL;
}

/* Fold a batch's extremes lo <= hi into the integer bounds of `cm`. */
static void metrics_fold_ints(col_metrics *cm, int64_t lo, int64_t hi)
{
	if (!cm->has || lo < cm->min.i) cm->min.i = lo;
	if (!cm->has || hi > cm->max.i) cm->max.i = hi;
	cm->has = true;
}

/* Fold a batch's finite extremes lo <= hi into the double bounds of `cm`
 * (-0.0 orders below 0.0: iceberg spec, bounds). */
static void metrics_fold_doubles(col_metrics *cm, double lo, double hi)
{
	if (!cm->has || lo < cm->min.d || (lo == cm->min.d && signbit(lo))) cm->min.d = lo;
	if (!cm->has || hi > cm->max.d || (hi == cm->max.d && !signbit(hi))) cm->max.d = hi;
	cm->has = true;
}

/* Bounds and NaN count of n doubles without NULLs: one pass of plain
 * comparisons (NaN compares false, so it never becomes a bound; the loop
 * vectorizes), and a second pass only when a bound is zero, to give -0.0
 * and 0.0 their order. */
static int metrics_doubles(col_metrics *cm, const double *v, int64_t n)
{
	double lo = INFINITY, hi = -INFINITY;
	int64_t nans = 0;
	for (int64_t r = 0; r < n; r++) {
		lo = v[r] < lo ? v[r] : lo;
		hi = v[r] > hi ? v[r] : hi;
		nans += v[r] != v[r];
	}
	cm->nans += nans;
	if (nans == n)
		return 0;
	if (lo == 0.0 || hi == 0.0) {
		bool neg = false, pos = false;
		for (int64_t r = 0; r < n; r++)
			if (v[r] == 0.0) {
				if (signbit(v[r]))
					neg = true;
				else
					pos = true;
			}
		if (lo == 0.0)
			lo = neg ? -0.0 : 0.0;
		if (hi == 0.0)
			hi = pos ? 0.0 : -0.0;
	}
	metrics_fold_doubles(cm, lo, hi);
	return 0;
}

/* Fold rows [0, n) of `col` into `cm`. */
static int metrics_update(col_metrics *cm, const floe_column *col, int64_t n)
{
	const floe_type *t = &col->type;
	cm->values += n;
	int64_t nulls = 0;
	if (col->validity)
		for (int64_t r = 0; r < n; r++)
			nulls += !floe_column_is_valid(col, r);
	cm->nulls += nulls;
	if (nulls == n || writer_bounds(t))
		return 0;
#define VALID(r) (!col->validity || floe_column_is_valid(col, r))
	/* extremes of the valid values of v[0, n); without NULLs in a loop
	 * the compiler vectorizes */
#define INT_EXTREMES(v, lo, hi)                                   \
	do {                                                      \
		if (!col->validity) {                             \
			for (int64_t r = 0; r < n; r++) {         \
				lo = (v)[r] < lo ? (v)[r] : lo;   \
				hi = (v)[r] > hi ? (v)[r] : hi;   \
			}                                         \
			break;                                    \
		}                                                 \
		for (int64_t r = 0; r < n; r++) {                 \
			if (!VALID(r))                            \
				continue;                         \
			lo = (v)[r] < lo ? (v)[r] : lo;           \
			hi = (v)[r] > hi ? (v)[r] : hi;           \
		}                                                 \
	} while (0)
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN: {
		const uint8_t *v = col->values;
		for (int64_t r = 0; r < n; r++) {
			if (!VALID(r))
				continue;
			int64_t x = v[r] != 0;
			if (!cm->has) {
				cm->min.b = cm->max.b = x;
				cm->has = true;
			}
			if (x < cm->min.b) cm->min.b = false;
			if (x > cm->max.b) cm->max.b = true;
		}
		return 0;
	}
	case FLOE_TYPE_INT: case FLOE_TYPE_DATE: {
		const int32_t *v = col->values;
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		INT_EXTREMES(v, lo, hi);
		metrics_fold_ints(cm, lo, hi);
		return 0;
	}
	case FLOE_TYPE_DOUBLE:
		if (!col->validity)
			return metrics_doubles(cm, col->values, n);
		/* fall through */
	case FLOE_TYPE_FLOAT: {
		double lo = INFINITY, hi = -INFINITY;
		bool any = false;
		for (int64_t r = 0; r < n; r++) {
			if (!VALID(r))
				continue;
			double x = t->id == FLOE_TYPE_FLOAT ? (double)((const float *)col->values)[r]
			                                    : ((const double *)col->values)[r];
			if (isnan(x)) {
				cm->nans++;
				continue;
			}
			any = true;
			/* -0.0 orders below 0.0 (iceberg spec: bounds) */
			if (x < lo || (x == lo && signbit(x))) lo = x;
			if (x > hi || (x == hi && !signbit(x))) hi = x;
		}
		if (any)
			metrics_fold_doubles(cm, lo, hi);
		return 0;
	}
	default:
		break;
	}
	if (!bytes_valued(t)) { /* int64 storage */
		const int64_t *v = col->values;
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		INT_EXTREMES(v, lo, hi);
		metrics_fold_ints(cm, lo, hi);
		return 0;
	}
	/* byte-valued: find this batch's extremes, then fold. Strings, binary,
	 * fixed and uuid order as unsigned bytes, shorter first (a direct
	 * memcmp loop: this runs for every value); decimals P > 18 go through
	 * the generic order. */
	int64_t lo = -1, hi = -1;
	floe_value lv, hv, x;
	memset(&lv, 0, sizeof lv);
	memset(&hv, 0, sizeof hv);
	memset(&x, 0, sizeof x);
	int w = floe_type_value_width(t);
	bool generic = t->id == FLOE_TYPE_DECIMAL;
	for (int64_t r = 0; r < n; r++) {
		if (!VALID(r))
			continue;
		if (col->offsets) {
			x.bytes = col->data + col->offsets[r];
			x.len = col->offsets[r + 1] - col->offsets[r];
		} else {
			x.bytes = (const uint8_t *)col->values + (size_t)r * (size_t)w;
			x.len = w;
		}
		if (lo < 0) {
			lo = hi = r;
			lv = hv = x;
			continue;
		}
		if (generic) {
			if (ice_value_compare(t, &x, &lv) < 0) {
				lo = r;
				lv = x;
			} else if (ice_value_compare(t, &x, &hv) > 0) {
				hi = r;
				hv = x;
			}
			continue;
		}
		if (bytes_cmp(x.bytes, x.len, lv.bytes, lv.len) < 0) {
			lo = r;
			lv = x;
		} else if (bytes_cmp(x.bytes, x.len, hv.bytes, hv.len) > 0) {
			hi = r;
			hv = x;
		}
	}
#undef INT_EXTREMES
#undef VALID
	if (lo < 0)
		return 0;
	if (!cm->has || ice_value_compare(t, &lv, &cm->min) < 0)
		if (set_bytes(&cm->minb, &cm->min, lv.bytes, lv.len))
			return FLOE_ENOMEM;
	if (!cm->has || ice_value_compare(t, &hv, &cm->max) > 0)
		if (set_bytes(&cm->maxb, &cm->max, hv.bytes, hv.len))
			return FLOE_ENOMEM;
	cm->has = true;
	return 0;
}

/* Length of the first `k` code points of UTF-8 `p[0..n)`. */
static size_t utf8_prefix(const uint8_t *p, size_t n, size_t k)
{
	size_t i = 0;
	while (i < n && k > 0) {
		i++;
		while (i < n && (p[i] & 0xC0) == 0x80)
			i++;
		k--;
	}
	return i;
}

/* Upper bound of truncated UTF-8: increment the last code point that can
 * be incremented, dropping what follows; 0 when none can. */
static size_t utf8_increment(uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t s = n - 1;
		while (s > 0 && (p[s] & 0xC0) == 0x80)
			s--;
		uint32_t cp;
		size_t len = n - s;
		if (len == 1) cp = p[s];
		else if (len == 2) cp = (uint32_t)(p[s] & 0x1F) << 6 | (p[s + 1] & 0x3F);
		else if (len == 3) cp = (uint32_t)(p[s] & 0x0F) << 12 | (uint32_t)(p[s + 1] & 0x3F) << 6 | (p[s + 2] & 0x3F);
		else cp = (uint32_t)(p[s] & 0x07) << 18 | (uint32_t)(p[s + 1] & 0x3F) << 12 |
		          (uint32_t)(p[s + 2] & 0x3F) << 6 | (p[s + 3] & 0x3F);
		cp++;
		if (cp >= 0xD800 && cp <= 0xDFFF)
			cp = 0xE000;
		if (cp <= 0x10FFFF) {
			uint8_t *q = p + s;
			if (cp < 0x80) { q[0] = (uint8_t)cp; return s + 1; }
			if (cp < 0x800) { q[0] = (uint8_t)(0xC0 | cp >> 6); q[1] = (uint8_t)(0x80 | (cp & 0x3F)); return s + 2; }
			if (cp < 0x10000) {
				if (len < 3) { n = s; continue; } /* would not fit in place: drop it */
				q[0] = (uint8_t)(0xE0 | cp >> 12); q[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
				q[2] = (uint8_t)(0x80 | (cp & 0x3F));
				return s + 3;
			}
			if (len < 4) { n = s; continue; }
			q[0] = (uint8_t)(0xF0 | cp >> 18); q[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
			q[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); q[3] = (uint8_t)(0x80 | (cp & 0x3F));
			return s + 4;
		}
		n = s;
	}
	return 0;
}

/* Serialize a bound into `arena`; strings and binary truncated to 16 code
 * points / bytes (upper bounds rounded up). *p NULL when there is none. */
static int bound_bytes(floe_arena *arena, const floe_type *t, const floe_value *v, bool upper,
                       const uint8_t **p, size_t *n, floe_error *err)
{
	*p = NULL;
	*n = 0;
	floe_buf b = FLOE_BUF_INIT;
	int rc = ice_value_serialize(&b, t, v, err);
	if (rc) {
		floe_buf_free(&b);
		return rc;
	}
	size_t len = b.len;
	if (t->id == FLOE_TYPE_STRING) {
		size_t k = utf8_prefix(b.data, b.len, BOUND_TRUNCATE);
		if (k < b.len)
			len = upper ? utf8_increment(b.data, k) : k;
		if (upper && k < b.len && len == 0) {
			floe_buf_free(&b);
			return 0;
		}
	} else if (t->id == FLOE_TYPE_BINARY && b.len > BOUND_TRUNCATE) {
		len = BOUND_TRUNCATE;
		if (upper) {
			while (len > 0 && b.data[len - 1] == 0xFF)
				len--;
			if (len == 0) {
				floe_buf_free(&b);
				return 0;
			}
			b.data[len - 1]++;
		}
	}
	uint8_t *q = floe_arena_alloc(arena, len ? len : 1);
	if (!q) {
		floe_buf_free(&b);
		return oom(err);
	}
	if (len)
		memcpy(q, b.data, len);
	floe_buf_free(&b);
	*p = q;
	*n = len;
	return 0;
}

/* ---- writers ------------------------------------------------------------- */

static void pw_discard(part_writer *p)
{
	if (p->w) {
		floe_parquet_writer_abort(p->w);
		p->w = NULL;
	}
	free(p->path);
	free(p->tmp);
	p->path = p->tmp = NULL;
}

static int pw_open(floe_append *a, part_writer *p, floe_error *err)
{
	floe_buf part = FLOE_BUF_INIT;
	int rc = 0;
	if (a->spec->nfields > 0 && ice_partition_path(&part, a->spec, p->key, a->spec->nfields))
		return oom(err);
	char dir[4096], path[4096], tmp[4200];
	int w = snprintf(dir, sizeof dir, "%s%s%.*s", a->data_dir, part.len ? "/" : "", (int)part.len,
	                 part.len ? (const char *)part.data : "");
	floe_buf_free(&part);
	if (w < 0 || (size_t)w >= sizeof dir)
		return floe_error_set(err, FLOE_EINVALID, "data file path too long");
	if ((rc = floe_fs_mkdirs(dir, err)))
		return rc;
	a->file_counter++;
	w = snprintf(path, sizeof path, "%s/%05d-%s.parquet", dir, a->file_counter, a->uuid);
	if (w < 0 || (size_t)w >= sizeof path)
		return floe_error_set(err, FLOE_EINVALID, "data file path too long");
	snprintf(tmp, sizeof tmp, "%s/.%05d-%s.parquet.tmp", dir, a->file_counter, a->uuid);
	p->path = strdup(path);
	p->tmp = strdup(tmp);
	if (!p->path || !p->tmp) {
		pw_discard(p);
		return oom(err);
	}
	if ((rc = floe_parquet_writer_open(&p->w, p->tmp, a->fs, &a->popt, err))) {
		pw_discard(p);
		return rc;
	}
	char schema_note[64];
	snprintf(schema_note, sizeof schema_note, "%d", a->schema->schema_id);
	(void)floe_parquet_writer_set_kv(p->w, "iceberg.schema-id", schema_note, NULL);
	p->rows = 0;
	for (int c = 0; c < a->fs->nfields; c++) {
		floe_buf_free(&p->cm[c].minb);
		floe_buf_free(&p->cm[c].maxb);
		memset(&p->cm[c], 0, sizeof p->cm[c]);
	}
	return 0;
}

static int note_dir(floe_append *a, const char *path, floe_error *err)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	for (int i = a->ndirs - 1; i >= 0; i--)
		if (strlen(a->dirs[i]) == n && strncmp(a->dirs[i], path, n) == 0)
			return 0;
	if (a->ndirs == a->capdirs) {
		int cap = a->capdirs ? a->capdirs * 2 : 16;
		char **v = realloc(a->dirs, (size_t)cap * sizeof *v);
		if (!v)
			return oom(err);
		a->dirs = v;
		a->capdirs = cap;
	}
	if (!(a->dirs[a->ndirs] = strndup(path, n)))
		return oom(err);
	a->ndirs++;
	return 0;
}

static int push_done(floe_append *a, const ice_manifest_entry *e, floe_error *err)
{
	if (a->ndone == a->capdone) {
		size_t cap = a->capdone ? a->capdone * 2 : 16;
		ice_manifest_entry *d = realloc(a->done, cap * sizeof *d);
		if (!d)
			return oom(err);
		a->done = d;
		a->capdone = cap;
	}
	a->done[a->ndone++] = *e;
	return 0;
}

/* Close the current file of `p`: footer, write-back started (the fsync
 * comes at commit), rename into place, and its manifest entry with metrics. */
static int pw_close(floe_append *a, part_writer *p, floe_error *err)
{
	if (!p->w)
		return 0;
	floe_parquet_file_info info;
	int64_t *sizes = floe_arena_calloc(a->arena, (size_t)a->fs->nfields + 1, sizeof(int64_t));
	if (!sizes)
		return oom(err);
	floe_parquet_writer *w = p->w;
	p->w = NULL;
	int rc = floe_parquet_writer_flush_row_group(w, err);
	for (int c = 0; !rc && c < a->fs->nfields; c++) {
		sizes[c] = floe_parquet_writer_column_bytes(w, c);
		col_metrics *cm = &p->cm[c];
		floe_parquet_minmax mm;
		if (!writer_bounds(&a->fs->fields[c].type) ||
		    floe_parquet_writer_column_minmax(w, c, &mm) <= 0)
			continue;
		if (set_bytes(&cm->minb, &cm->min, mm.min, (int64_t)mm.min_len) ||
		    set_bytes(&cm->maxb, &cm->max, mm.max, (int64_t)mm.max_len))
			rc = oom(err);
		cm->has = true;
	}
	if (rc) {
		floe_parquet_writer_abort(w);
		pw_discard(p);
		return rc;
	}
	rc = floe_parquet_writer_close(w, &info, err);
	if (rc) {
		pw_discard(p);
		return rc;
	}
	if (rename(p->tmp, p->path) != 0) {
		unlink(p->tmp);
		rc = floe_error_set(err, FLOE_EIO, "%s: rename: %m", p->path);
		pw_discard(p);
		return rc;
	}
	/* the directory entry is made durable at commit, once per directory */
	if ((rc = note_dir(a, p->path, err)))
		goto fail;
	ice_manifest_entry e;
	memset(&e, 0, sizeof e);
	e.status = ICE_STATUS_ADDED;
	e.snapshot_id = -1;
	e.sequence_number = -1;
	e.file_sequence_number = -1;
	ice_data_file *f = &e.file;
	f->content = ICE_CONTENT_DATA;
	f->file_path = floe_arena_strdup(a->arena, p->path);
	f->file_format = "PARQUET";
	f->spec_id = a->spec->spec_id;
	f->npartition = a->spec->nfields;
	f->partition = p->key;
	f->record_count = info.num_rows;
	f->file_size_in_bytes = info.file_bytes;
	f->nmetrics = a->fs->nfields;
	f->metrics = floe_arena_calloc(a->arena, (size_t)a->fs->nfields + 1, sizeof *f->metrics);
	if (!f->file_path || !f->metrics) {
		rc = oom(err);
		goto fail;
	}
	for (int c = 0; c < a->fs->nfields; c++) {
		const floe_field *fld = &a->fs->fields[c];
		ice_column_metrics *cm = &f->metrics[c];
		col_metrics *src = &p->cm[c];
		cm->field_id = fld->field_id;
		cm->column_size = sizes[c];
		cm->value_count = src->values;
		cm->null_count = src->nulls;
		cm->nan_count = (fld->type.id == FLOE_TYPE_FLOAT || fld->type.id == FLOE_TYPE_DOUBLE)
		                        ? src->nans : -1;
		if (src->has) {
			if ((rc = bound_bytes(a->arena, &fld->type, &src->min, false, &cm->lower,
			                      &cm->lower_len, err)) ||
			    (rc = bound_bytes(a->arena, &fld->type, &src->max, true, &cm->upper,
			                      &cm->upper_len, err)))
				goto fail;
		}
	}
	/* metrics sorted by field id */
	for (int i = 1; i < f->nmetrics; i++)
		for (int j = i; j > 0 && f->metrics[j - 1].field_id > f->metrics[j].field_id; j--) {
			ice_column_metrics tmpm = f->metrics[j];
			f->metrics[j] = f->metrics[j - 1];
			f->metrics[j - 1] = tmpm;
		}
	if ((rc = push_done(a, &e, err)))
		goto fail;
	a->added_bytes += info.file_bytes;
	free(p->path);
	free(p->tmp);
	p->path = p->tmp = NULL;
	return 0;
fail:
	unlink(p->path);
	free(p->path);
	free(p->tmp);
	p->path = p->tmp = NULL;
	return rc;
}

/* ---- begin --------------------------------------------------------------- */

int floe_append_begin(floe_append **out, floe_table *t, floe_error *err)
{
	*out = NULL;
	if (!t->cat)
		return floe_error_set(err, FLOE_EINVALID,
		                      "%s was opened from a metadata file and is read-only", t->ident);
	floe_append *a = calloc(1, sizeof *a);
	if (!a)
		return oom(err);
	a->t = t;
	a->last_pw = -1;
	a->arena = floe_arena_new(0);
	a->batch_arena = floe_arena_new(1 << 20);
	int rc = 0;
	if (!a->arena || !a->batch_arena) {
		rc = oom(err);
		goto fail;
	}
	/* the table's current parse, kept alive for this append */
	a->mref = ice_meta_ref_take(t->mref);
	a->m = t->meta;
	a->schema = ice_metadata_current_schema(a->m);
	a->spec = ice_metadata_default_spec(a->m);
	if (!a->schema || !a->spec) {
		rc = floe_error_set(err, FLOE_ECORRUPT, "%s: no current schema or partition spec", t->metadata_location);
		goto fail;
	}
	if ((rc = ice_schema_to_floe(&a->fs, a->schema, a->arena, err)) ||
	    (rc = ice_partition_types(a->spec, a->schema, a->arena, &a->ptypes, err)))
		goto fail;
	/* nested columns are not written yet: optional ones stay absent from
	 * the data files, which readers see as NULL (spec: "Schema Evolution") */
	for (int i = 0; i < a->schema->nfields; i++) {
		const ice_field *f = &a->schema->fields[i];
		if (f->type->kind != ICE_PRIMITIVE && f->required) {
			rc = floe_error_set(err, FLOE_EUNSUPPORTED,
			                    "%s: column '%s' is a required nested column; appending nested "
			                    "values is not supported yet", t->ident, f->name);
			goto fail;
		}
	}
	a->psrc = floe_arena_calloc(a->arena, (size_t)a->spec->nfields + 1, sizeof *a->psrc);
	if (!a->psrc) {
		rc = oom(err);
		goto fail;
	}
	for (int k = 0; k < a->spec->nfields; k++) {
		const ice_partition_field *pf = &a->spec->fields[k];
		a->psrc[k] = floe_schema_find_id(a->fs, pf->source_id);
		if (pf->transform.kind == ICE_T_UNKNOWN) {
			rc = floe_error_set(err, FLOE_EUNSUPPORTED, "%s: partition transform '%s' is unknown to floe",
			                    t->ident, pf->transform.unknown_name ? pf->transform.unknown_name : "?");
			goto fail;
		}
		if (a->psrc[k] < 0 && pf->transform.kind != ICE_T_VOID) {
			rc = floe_error_set(err, FLOE_ECORRUPT, "%s: partition field '%s' has no source column",
			                    t->ident, pf->name);
			goto fail;
		}
	}
	a->idle_batches = ice_table_prop_int(a->m, "write.floe.idle-batches", 4);
	a->max_open = (int)ice_table_prop_int(a->m, "write.floe.max-open-files", 64);
	if (a->idle_batches < 1)
		a->idle_batches = 1;
	if (a->max_open < 1)
		a->max_open = 1;
	a->target_bytes = ice_table_prop_int(a->m, "write.target-file-size-bytes", 512LL << 20);
	if (a->target_bytes < 1)
		a->target_bytes = 512LL << 20;
	floe_parquet_write_options_init(&a->popt);
	int64_t rg = ice_table_prop_int(a->m, "write.parquet.row-group-size-bytes", 128LL << 20);
	if (rg > 0)
		a->popt.row_group_bytes = rg;
	int64_t pg = ice_table_prop_int(a->m, "write.parquet.page-size-bytes", 1LL << 20);
	if (pg > 0)
		a->popt.page_bytes = pg;
	const char *codec = ice_metadata_property(a->m, "write.parquet.compression-codec");
	if (codec && floe_parquet_codec_parse(&a->popt.codec, codec, err)) {
		rc = floe_error_prefix(err, "table property write.parquet.compression-codec");
		goto fail;
	}
	int64_t lvl = ice_table_prop_int(a->m, "write.parquet.compression-level", 0);
	if (lvl > 0)
		a->popt.codec_level = (int)lvl;
	a->popt.fsync = false; /* fsynced together at commit */
	/* Bloom filters: write.parquet.bloom-filter-enabled.column.NAME=true
	 * (Iceberg's property names); the smallest per-column fpp applies */
	static const char bpre[] = "write.parquet.bloom-filter-enabled.column.";
	static const char fpre[] = "write.parquet.bloom-filter-fpp.column.";
	double minfpp = 0;
	const char **bcols = floe_arena_calloc(a->arena, (size_t)a->m->nproperties + 1, sizeof *bcols);
	if (!bcols) {
		rc = oom(err);
		goto fail;
	}
	for (int i = 0; i < a->m->nproperties; i++) {
		const ice_kv *kv = &a->m->properties[i];
		if (strncmp(kv->key, bpre, sizeof bpre - 1) == 0 && strcasecmp(kv->value, "true") == 0)
			bcols[a->popt.nbloom_columns++] = kv->key + sizeof bpre - 1;
		if (strncmp(kv->key, fpre, sizeof fpre - 1) == 0) {
			double f = strtod(kv->value, NULL);
			if (f > 0 && f < 1 && (minfpp == 0 || f < minfpp))
				minfpp = f;
		}
	}
	if (minfpp > 0)
		a->popt.bloom_fpp = minfpp;
	a->popt.bloom_columns = bcols;
	int64_t bmax = ice_table_prop_int(a->m, "write.parquet.bloom-filter-max-bytes", 1 << 20);
	if (bmax > 0)
		a->popt.bloom_max_bytes = bmax;
	if ((rc = ice_table_data_dir(a->m, a->data_dir, sizeof a->data_dir, err)))
		goto fail;
	if (!floe_fs_within(floe_catalog_warehouse(t->cat), a->data_dir)) {
		rc = floe_error_set(err, FLOE_EINVALID, "%s: data path %s is outside the warehouse", t->ident,
		                    a->data_dir);
		goto fail;
	}
	floe_uuid4(a->uuid);
	a->snapshot_id = ice_new_snapshot_id();
	*out = a;
	return 0;
fail:
	floe_append_abort(a);
	return rc;
}

int64_t floe_append_rows(const floe_append *a)
{
	return a->rows;
}

int ice_summary_extra_set(floe_arena *arena, const ice_kv **extra, int *nextra,
                          const char *key, const char *value, floe_error *err)
{
	static const char *const reserved[] = { "operation", "added-data-files", "added-records",
		"added-files-size", "changed-partition-count", "total-records", "total-files-size",
		"total-data-files", "total-delete-files", "total-position-deletes",
		"total-equality-deletes", NULL };
	for (int i = 0; reserved[i]; i++)
		if (strcmp(key, reserved[i]) == 0)
			return floe_error_set(err, FLOE_EINVALID, "summary key '%s' is set by floe", key);
	ice_kv *kv = floe_arena_calloc(arena, (size_t)*nextra + 1, sizeof *kv);
	if (!kv)
		return oom(err);
	int n = 0;
	for (int i = 0; i < *nextra; i++)
		if (strcmp((*extra)[i].key, key) != 0)
			kv[n++] = (*extra)[i];
	kv[n].key = floe_arena_strdup(arena, key);
	kv[n].value = floe_arena_strdup(arena, value);
	if (!kv[n].key || !kv[n].value)
		return oom(err);
	*extra = kv;
	*nextra = n + 1;
	return 0;
}

int floe_append_set_summary(floe_append *a, const char *key, const char *value, floe_error *err)
{
	const ice_kv *extra = a->extra;
	int rc = ice_summary_extra_set(a->arena, &extra, &a->nextra, key, value, err);
	a->extra = (ice_kv *)extra;
	return rc;
}

/* ---- rows ------------------------------------------------------------------ */

/* Column `src` (type st) widened into type `dt` in `arena`. */
int ice_column_widen(floe_arena *arena, const floe_column *src, const floe_type *dt, int64_t n,
                        floe_column *out, floe_error *err)
{
	*out = *src;
	out->type = *dt;
	const floe_type *st = &src->type;
	if (st->id == dt->id && st->id != FLOE_TYPE_DECIMAL)
		return 0;
	if (st->id == FLOE_TYPE_INT && dt->id == FLOE_TYPE_LONG) {
		int64_t *v = floe_arena_alloc(arena, (size_t)n * 8 + 8);
		if (!v)
			return oom(err);
		for (int64_t r = 0; r < n; r++)
			v[r] = ((const int32_t *)src->values)[r];
		out->values = v;
		return 0;
	}
	if (st->id == FLOE_TYPE_FLOAT && dt->id == FLOE_TYPE_DOUBLE) {
		double *v = floe_arena_alloc(arena, (size_t)n * 8 + 8);
		if (!v)
			return oom(err);
		for (int64_t r = 0; r < n; r++)
			v[r] = ((const float *)src->values)[r];
		out->values = v;
		return 0;
	}
	if (st->id == FLOE_TYPE_DECIMAL && dt->id == FLOE_TYPE_DECIMAL && st->scale == dt->scale &&
	    st->precision <= dt->precision) {
		if ((st->precision <= 18) == (dt->precision <= 18))
			return 0;
		uint8_t *v = floe_arena_alloc(arena, (size_t)n * 16 + 16);
		if (!v)
			return oom(err);
		for (int64_t r = 0; r < n; r++) {
			int64_t x = ((const int64_t *)src->values)[r];
			for (int b = 0; b < 16; b++)
				v[r * 16 + b] = (uint8_t)(b < 8 ? (x < 0 ? 0xFF : 0) : (uint64_t)x >> (8 * (15 - b)));
		}
		out->values = v;
		out->type.width = 16;
		return 0;
	}
	/* the same storage under another annotation: strings and binary
	 * written without a logical type, uuid as plain fixed[16] */
	bool sv = st->id == FLOE_TYPE_STRING || st->id == FLOE_TYPE_BINARY || st->id == FLOE_TYPE_JSON;
	bool dv = dt->id == FLOE_TYPE_STRING || dt->id == FLOE_TYPE_BINARY;
	if (sv && dv)
		return 0;
	if ((st->id == FLOE_TYPE_FIXED || st->id == FLOE_TYPE_UUID) &&
	    (dt->id == FLOE_TYPE_FIXED || dt->id == FLOE_TYPE_UUID) && st->width == dt->width)
		return 0;
	char a[64], b[64];
	return floe_error_set(err, FLOE_EINVALID, "type %s cannot be written to a %s column",
	                      floe_type_format(st, a, sizeof a), floe_type_format(dt, b, sizeof b));
}

/* The input batch as the table's columns, in table order. */
static int map_batch(floe_append *a, const floe_batch *b, floe_batch *out, floe_error *err)
{
	const floe_schema *fs = a->fs;
	floe_column *cols = floe_arena_calloc(a->batch_arena, (size_t)fs->nfields + 1, sizeof *cols);
	if (!cols)
		return oom(err);
	for (int c = 0; c < fs->nfields; c++) {
		const floe_field *f = &fs->fields[c];
		int k = -1;
		if (b->schema) {
			k = floe_schema_find(b->schema, f->name);
			for (int i = 0; k < 0 && i < b->schema->nfields; i++)
				if (strcasecmp(b->schema->fields[i].name, f->name) == 0)
					k = i;
		} else if (b->ncols == fs->nfields) {
			k = c;
		}
		if (k >= 0 && k < b->ncols) {
			int rc = ice_column_widen(a->batch_arena, &b->cols[k], &f->type, b->nrows, &cols[c], err);
			if (rc)
				return floe_error_prefix(err, "column '%s'", f->name);
			if (f->required && b->cols[k].validity) {
				for (int64_t r = 0; r < b->nrows; r++)
					if (!floe_column_is_valid(&b->cols[k], r))
						return floe_error_set(err, FLOE_EINVALID,
						                      "column '%s' is not null but row %" PRId64 " is null",
						                      f->name, r + a->rows);
			}
			continue;
		}
		if (f->required)
			return floe_error_set(err, FLOE_EINVALID,
			                      "column '%s' is not null but the input has no such column", f->name);
		/* all-NULL column */
		floe_column *col = &cols[c];
		col->type = f->type;
		col->null_count = b->nrows;
		size_t vb = (size_t)(b->nrows + 7) / 8 + 1;
		col->validity = floe_arena_calloc(a->batch_arena, vb, 1);
		if (floe_type_is_variable(&f->type)) {
			col->offsets = floe_arena_calloc(a->batch_arena, (size_t)b->nrows + 1, 8);
			col->data = floe_arena_alloc(a->batch_arena, 1);
			if (!col->offsets || !col->data)
				return oom(err);
		} else {
			col->values = floe_arena_calloc(a->batch_arena, (size_t)b->nrows + 1,
			                                (size_t)floe_type_value_width(&f->type));
			if (!col->values)
				return oom(err);
		}
		if (!col->validity)
			return oom(err);
	}
	/* an input column the table does not have would be lost: refuse */
	for (int i = 0; b->schema && i < b->schema->nfields; i++) {
		const char *nm = b->schema->fields[i].name;
		int c;
		for (c = 0; c < fs->nfields; c++)
			if (strcasecmp(fs->fields[c].name, nm) == 0)
				break;
		if (c == fs->nfields)
			return floe_error_set(err, FLOE_EINVALID,
			                      "the input has a column '%s' the table does not have; add it "
			                      "first (floe alter TABLE add-column %s TYPE) or leave it out",
			                      nm, nm);
	}
	out->nrows = b->nrows;
	out->ncols = fs->nfields;
	out->cols = cols;
	out->schema = fs;
	return 0;
}

/* Rows idx[0..n) of `src` into a new batch in `arena`. */
int ice_batch_gather(floe_arena *arena, const floe_batch *src, const int32_t *idx, int64_t n,
                  floe_batch *out, floe_error *err)
{
	floe_column *cols = floe_arena_calloc(arena, (size_t)src->ncols + 1, sizeof *cols);
	if (!cols)
		return oom(err);
	for (int c = 0; c < src->ncols; c++) {
		const floe_column *s = &src->cols[c];
		floe_column *d = &cols[c];
		d->type = s->type;
		if (s->validity) {
			d->validity = floe_arena_calloc(arena, (size_t)(n + 7) / 8 + 1, 1);
			if (!d->validity)
				return oom(err);
			int64_t nulls = 0;
			for (int64_t r = 0; r < n; r++) {
				bool v = floe_column_is_valid(s, idx[r]);
				floe_bitmap_set(d->validity, r, v);
				nulls += !v;
			}
			d->null_count = nulls;
		}
		if (s->offsets) {
			int64_t total = 0;
			for (int64_t r = 0; r < n; r++)
				total += s->offsets[idx[r] + 1] - s->offsets[idx[r]];
			d->offsets = floe_arena_alloc(arena, (size_t)(n + 1) * 8);
			d->data = floe_arena_alloc(arena, (size_t)total + 1);
			if (!d->offsets || !d->data)
				return oom(err);
			/* runs of consecutive source rows (most of a selection that
			 * keeps most rows) are one copy of their bytes */
			int64_t pos = 0;
			d->offsets[0] = 0;
			for (int64_t r = 0; r < n;) {
				int64_t e = r + 1;
				while (e < n && idx[e] == idx[e - 1] + 1)
					e++;
				int64_t from = s->offsets[idx[r]], to = s->offsets[idx[e - 1] + 1];
				if (to > from)
					memcpy(d->data + pos, s->data + from, (size_t)(to - from));
				for (int64_t k = r; k < e; k++)
					d->offsets[k + 1] = pos + s->offsets[idx[k] + 1] - from;
				pos += to - from;
				r = e;
			}
		} else {
			size_t w = (size_t)floe_type_value_width(&s->type);
			uint8_t *v = floe_arena_alloc(arena, (size_t)n * w + 1);
			if (!v)
				return oom(err);
			const uint8_t *sv = s->values;
			for (int64_t r = 0; r < n;) {
				int64_t e = r + 1;
				while (e < n && idx[e] == idx[e - 1] + 1)
					e++;
				memcpy(v + (size_t)r * w, sv + (size_t)idx[r] * w, (size_t)(e - r) * w);
				r = e;
			}
			d->values = v;
		}
	}
	out->nrows = n;
	out->ncols = src->ncols;
	out->cols = cols;
	out->schema = src->schema;
	return 0;
}

static uint64_t datum_hash(const ice_datum *d, uint64_t h)
{
	if (d->is_null)
		return XXH3_64bits_withSeed("\0null", 5, h);
	if (bytes_valued(&d->type))
		return XXH3_64bits_withSeed(d->v.bytes, (size_t)d->v.len, h ^ 0x9E3779B97F4A7C15ull);
	if (d->type.id == FLOE_TYPE_BOOLEAN) {
		uint8_t b = d->v.b;
		return XXH3_64bits_withSeed(&b, 1, h);
	}
	if (d->type.id == FLOE_TYPE_FLOAT || d->type.id == FLOE_TYPE_DOUBLE)
		return XXH3_64bits_withSeed(&d->v.d, 8, h);
	return XXH3_64bits_withSeed(&d->v.i, 8, h);
}

/* Same partition value: the bits the hash reads are equal. */
static bool datum_eq(const ice_datum *x, const ice_datum *y)
{
	if (x->is_null || y->is_null)
		return x->is_null == y->is_null;
	if (bytes_valued(&x->type))
		return x->v.len == y->v.len &&
		       (x->v.len == 0 || memcmp(x->v.bytes, y->v.bytes, (size_t)x->v.len) == 0);
	if (x->type.id == FLOE_TYPE_BOOLEAN)
		return x->v.b == y->v.b;
	if (x->type.id == FLOE_TYPE_FLOAT || x->type.id == FLOE_TYPE_DOUBLE)
		return memcmp(&x->v.d, &y->v.d, sizeof x->v.d) == 0;
	return x->v.i == y->v.i;
}

/* The writer for partition tuple `key` (npart datums, borrowed), created
 * (and its key copied) when new. */
static int find_writer(floe_append *a, const ice_datum *const *cols, int64_t row, int *out,
                       floe_error *err)
{
	int np = a->spec->nfields;
	uint64_t h = 0;
	for (int k = 0; k < np; k++)
		h = datum_hash(&cols[k][row], h);
	if (a->last_pw >= 0 && a->pw[a->last_pw].hash == h) {
		part_writer *p = &a->pw[a->last_pw];
		int k;
		for (k = 0; k < np; k++)
			if (!datum_eq(&p->key[k], &cols[k][row]))
				break;
		if (k == np) {
			*out = a->last_pw;
			return 0;
		}
	}
	for (int i = 0; i < a->npw; i++) {
		part_writer *p = &a->pw[i];
		if (p->hash != h)
			continue;
		int k;
		for (k = 0; k < np; k++)
			if (!datum_eq(&p->key[k], &cols[k][row]))
				break;
		if (k == np) {
			*out = a->last_pw = i;
			return 0;
		}
	}
	if (a->npw == a->cappw) {
		int cap = a->cappw ? a->cappw * 2 : 8;
		part_writer *v = realloc(a->pw, (size_t)cap * sizeof *v);
		if (!v)
			return oom(err);
		a->pw = v;
		a->cappw = cap;
	}
	part_writer *p = &a->pw[a->npw];
	memset(p, 0, sizeof *p);
	p->hash = h;
	p->key = floe_arena_calloc(a->arena, (size_t)np + 1, sizeof *p->key);
	p->cm = calloc((size_t)a->fs->nfields + 1, sizeof *p->cm);
	if (!p->key || !p->cm) {
		free(p->cm);
		return oom(err);
	}
	for (int k = 0; k < np; k++) {
		int rc = ice_datum_copy(&p->key[k], &cols[k][row], a->arena);
		if (rc) {
			free(p->cm);
			return floe_error_set(err, rc, "out of memory");
		}
	}
	*out = a->last_pw = a->npw++;
	a->changed_partitions++;
	return 0;
}

/* Keep memory bounded: a file's row group in progress lives in memory, so
 * files of partitions the input has moved past (no rows for idle_batches
 * batches: a time-ordered stream leaves yesterday behind) are closed, and
 * at most max_open files are open (the least recently written closes). A
 * partition that receives rows again gets a new file. */
static int close_idle(floe_append *a, floe_error *err)
{
	for (int i = 0; i < a->npw; i++) {
		part_writer *p = &a->pw[i];
		if (p->w && a->nbatches - p->last_batch > a->idle_batches) {
			int rc = pw_close(a, p, err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int make_room(floe_append *a, floe_error *err)
{
	int open = 0, lru = -1;
	for (int i = 0; i < a->npw; i++)
		if (a->pw[i].w) {
			open++;
			if (lru < 0 || a->pw[i].last_batch < a->pw[lru].last_batch)
				lru = i;
		}
	if (open < a->max_open || lru < 0)
		return 0;
	return pw_close(a, &a->pw[lru], err);
}

/* Rows [from, from + n) of `b` as a view (from a multiple of 8, so the
 * validity bitmaps stay byte-aligned; offsets index `data` absolutely). */
static void slice_view(const floe_batch *b, int64_t from, int64_t n, floe_column *cols,
                       floe_batch *out)
{
	for (int c = 0; c < b->ncols; c++) {
		const floe_column *s = &b->cols[c];
		floe_column *d = &cols[c];
		*d = *s;
		d->null_count = -1;
		if (s->validity)
			d->validity = s->validity + from / 8;
		if (s->offsets)
			d->offsets = s->offsets + from;
		else
			d->values = (uint8_t *)s->values + (size_t)from * (size_t)floe_type_value_width(&s->type);
	}
	out->nrows = n;
	out->ncols = b->ncols;
	out->cols = cols;
	out->schema = b->schema;
}

/* Write rows of `b` (table columns) to writer `i`, in slices so a file is
 * closed near the target size even when batches are large. */
static int write_rows(floe_append *a, int i, const floe_batch *b, floe_error *err)
{
	part_writer *p = &a->pw[i];
	int rc;
	const int64_t slice = 8192;
	p->last_batch = a->nbatches;
	floe_column *cols = NULL;
	for (int64_t from = 0; from < b->nrows; from += slice) {
		const floe_batch *part = b;
		floe_batch view;
		int64_t n = b->nrows - from < slice ? b->nrows - from : slice;
		if (from > 0 || n < b->nrows) {
			if (!cols && !(cols = floe_arena_calloc(a->batch_arena, (size_t)b->ncols + 1, sizeof *cols)))
				return oom(err);
			slice_view(b, from, n, cols, &view);
			part = &view;
		}
		if (!p->w && ((rc = make_room(a, err)) || (rc = pw_open(a, p, err))))
			return rc;
		if ((rc = floe_parquet_writer_write(p->w, part, err)))
			return rc;
		for (int c = 0; c < part->ncols; c++)
			if (metrics_update(&p->cm[c], &part->cols[c], part->nrows))
				return oom(err);
		p->rows += part->nrows;
		if (floe_parquet_writer_bytes(p->w) >= a->target_bytes && (rc = pw_close(a, p, err)))
			return rc;
	}
	return 0;
}

/* Routing of floe_append_batch, rows of `tb` to writer indexes wid[]:
 * one partition field with an integer result (day or hour of a timestamp,
 * identity of an integer; ice_transform_apply_ints) and no NULLs. The
 * writer is looked up once per run of equal values. 1 when the field is
 * not of that kind. */
static int route_ints(floe_append *a, const floe_batch *tb, int32_t *wid, floe_error *err)
{
	enum { ROUTE_CHUNK = 1024 };
	const ice_partition_field *pf = &a->spec->fields[0];
	if (a->psrc[0] < 0)
		return 1;
	int64_t *vals = floe_arena_alloc(a->batch_arena, ROUTE_CHUNK * sizeof *vals);
	if (!vals)
		return oom(err);
	const floe_column *src = &tb->cols[a->psrc[0]];
	int64_t last = 0;
	int last_w = -1;
	for (int64_t base = 0; base < tb->nrows; base += ROUTE_CHUNK) {
		int64_t n = tb->nrows - base < ROUTE_CHUNK ? tb->nrows - base : ROUTE_CHUNK;
		floe_column col = *src;
		col.values = (uint8_t *)col.values + (size_t)base * (size_t)floe_type_value_width(&col.type);
		int rc = ice_transform_apply_ints(&pf->transform, &col.type, &col, n, vals, err);
		if (rc == 1)
			return 1;
		if (rc)
			return floe_error_prefix(err, "partition field '%s'", pf->name);
		for (int64_t r = 0; r < n; r++) {
			if (last_w >= 0 && vals[r] == last) {
				wid[base + r] = last_w;
				continue;
			}
			ice_datum d;
			memset(&d, 0, sizeof d);
			d.type = a->ptypes[0];
			d.v.i = vals[r];
			const ice_datum *one = &d;
			int i;
			if ((rc = find_writer(a, &one, 0, &i, err)))
				return rc;
			wid[base + r] = last_w = i;
			last = vals[r];
		}
	}
	return 0;
}

/* Routing of floe_append_batch in general: partition tuples as datums. */
static int route_datums(floe_append *a, const floe_batch *tb, int32_t *wid, floe_error *err)
{
	enum { ROUTE_CHUNK = 1024 };
	int np = a->spec->nfields;
	int rc;
	ice_datum **pcols = floe_arena_calloc(a->batch_arena, (size_t)np, sizeof *pcols);
	ice_datum **prev = floe_arena_calloc(a->batch_arena, (size_t)np, sizeof *prev);
	if (!pcols || !prev)
		return oom(err);
	for (int k = 0; k < np; k++) {
		pcols[k] = floe_arena_calloc(a->batch_arena, ROUTE_CHUNK, sizeof **pcols);
		prev[k] = floe_arena_calloc(a->batch_arena, 1, sizeof **prev);
		if (!pcols[k] || !prev[k])
			return oom(err);
	}
	for (int64_t base = 0; base < tb->nrows; base += ROUTE_CHUNK) {
		int64_t n = tb->nrows - base < ROUTE_CHUNK ? tb->nrows - base : ROUTE_CHUNK;
		for (int k = 0; k < np; k++) {
			const ice_partition_field *pf = &a->spec->fields[k];
			if (a->psrc[k] < 0) { /* void of a dropped column */
				for (int64_t r = 0; r < n; r++) {
					memset(&pcols[k][r], 0, sizeof pcols[k][r]);
					pcols[k][r].type = a->ptypes[k];
					pcols[k][r].is_null = true;
				}
				continue;
			}
			floe_column col = tb->cols[a->psrc[k]];
			if (col.validity) /* base is a multiple of 8 */
				col.validity += base / 8;
			if (col.offsets)
				col.offsets += base;
			else
				col.values = (uint8_t *)col.values +
				             (size_t)base * (size_t)floe_type_value_width(&col.type);
			if ((rc = ice_transform_apply_column(&pf->transform, &col.type, &col, n, pcols[k], err)))
				return floe_error_prefix(err, "partition field '%s'", pf->name);
		}
		for (int64_t r = 0; r < n; r++) {
			int i;
			if (base + r > 0) {
				int k;
				for (k = 0; k < np; k++)
					if (!datum_eq(&pcols[k][r], r > 0 ? &pcols[k][r - 1] : prev[k]))
						break;
				if (k == np) {
					wid[base + r] = wid[base + r - 1];
					continue;
				}
			}
			if ((rc = find_writer(a, (const ice_datum *const *)pcols, r, &i, err)))
				return rc;
			wid[base + r] = i;
		}
		/* the last tuple, for the first row of the next chunk (byte
		 * values point into the batch, which outlives the loop) */
		for (int k = 0; k < np; k++)
			*prev[k] = pcols[k][n - 1];
	}
	return 0;
}

int floe_append_batch(floe_append *a, const floe_batch *b, floe_error *err)
{
	if (b->nrows == 0)
		return 0;
	if (b->nrows > INT32_MAX)
		return floe_error_set(err, FLOE_EINVALID, "batch too large");
	floe_arena_reset(a->batch_arena);
	a->nbatches++;
	floe_batch tb;
	int rc = close_idle(a, err);
	if (rc)
		return rc;
	rc = map_batch(a, b, &tb, err);
	if (rc)
		return rc;
	int np = a->spec->nfields;
	if (np == 0) {
		if (a->npw == 0) {
			int idx;
			if ((rc = find_writer(a, NULL, 0, &idx, err)))
				return rc;
		}
		rc = write_rows(a, 0, &tb, err);
		if (!rc)
			a->rows += tb.nrows;
		return rc;
	}
	/* Route rows to writers: partition values are computed in chunks of
	 * ROUTE_CHUNK rows into small (cache-resident) arrays; a row with the
	 * tuple of the row before goes to the same writer. */
	int32_t *wid = floe_arena_alloc(a->batch_arena, (size_t)tb.nrows * 4);
	if (!wid)
		return oom(err);
	rc = np == 1 ? route_ints(a, &tb, wid, err) : 1;
	if (rc < 0)
		return rc;
	if (rc == 1 && (rc = route_datums(a, &tb, wid, err)))
		return rc;
	/* ordered input (a stream crossing midnight) comes in a few runs of
	 * rows per partition: write each run as a view instead of copying */
	int64_t runs = 1;
	bool aligned = true, has_validity = false;
	for (int c = 0; c < tb.ncols; c++)
		has_validity |= tb.cols[c].validity != NULL;
	for (int64_t r = 1; r < tb.nrows && runs <= 16; r++)
		if (wid[r] != wid[r - 1]) {
			runs++;
			aligned &= (r % 8) == 0;
		}
	if (runs == 1) {
		rc = write_rows(a, wid[0], &tb, err);
	} else if (runs <= 16 && (aligned || !has_validity)) {
		floe_column *cols = floe_arena_calloc(a->batch_arena, (size_t)tb.ncols + 1, sizeof *cols);
		if (!cols)
			return oom(err);
		int64_t from = 0;
		for (int64_t r = 1; r <= tb.nrows && !rc; r++) {
			if (r < tb.nrows && wid[r] == wid[from])
				continue;
			floe_batch view;
			slice_view(&tb, from, r - from, cols, &view);
			rc = write_rows(a, wid[from], &view, err);
			from = r;
		}
	} else {
		/* counting sort of rows by writer, then one gather per writer */
		int32_t *count = floe_arena_calloc(a->batch_arena, (size_t)a->npw + 1, 4);
		int32_t *start = floe_arena_calloc(a->batch_arena, (size_t)a->npw + 1, 4);
		int32_t *order = floe_arena_alloc(a->batch_arena, (size_t)tb.nrows * 4);
		if (!count || !start || !order)
			return oom(err);
		for (int64_t r = 0; r < tb.nrows; r++)
			count[wid[r]]++;
		for (int i = 1; i <= a->npw; i++)
			start[i] = start[i - 1] + count[i - 1];
		for (int64_t r = 0; r < tb.nrows; r++)
			order[start[wid[r]]++] = (int32_t)r;
		int32_t pos = 0;
		for (int i = 0; i < a->npw && !rc; i++) {
			if (!count[i])
				continue;
			floe_batch sub;
			if ((rc = ice_batch_gather(a->batch_arena, &tb, order + pos, count[i], &sub, err)))
				break;
			rc = write_rows(a, i, &sub, err);
			pos += count[i];
		}
	}
	if (!rc)
		a->rows += tb.nrows;
	return rc;
}

/* ---- commit ------------------------------------------------------------- */

static void remove_done_files(floe_append *a)
{
	for (size_t i = 0; i < a->ndone; i++)
		unlink(a->done[i].file.file_path);
}

void floe_append_abort(floe_append *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->npw; i++) {
		pw_discard(&a->pw[i]);
		for (int c = 0; a->fs && c < a->fs->nfields; c++) {
			floe_buf_free(&a->pw[i].cm[c].minb);
			floe_buf_free(&a->pw[i].cm[c].maxb);
		}
		free(a->pw[i].cm);
	}
	remove_done_files(a);
	if (a->manifest_path[0])
		unlink(a->manifest_path);
	ice_paths_forget(&a->merged, true);
	free(a->pw);
	free(a->done);
	for (int i = 0; i < a->ndirs; i++)
		free(a->dirs[i]);
	free(a->dirs);
	floe_arena_free(a->arena);
	floe_arena_free(a->batch_arena);
	ice_meta_ref_drop(a->mref);
	free(a);
}

static int append_update(void *ctx, const floe_table *t, const ice_table_metadata *base, int attempt,
                         floe_arena *arena, ice_table_metadata **out, floe_error *err)
{
	floe_append *a = ctx;
	if (!base->table_uuid || !a->m->table_uuid || strcmp(base->table_uuid, a->m->table_uuid) != 0)
		return floe_error_set(err, FLOE_ECONFLICT,
		                      "%s was dropped and re-created while appending; the append cannot apply",
		                      t->ident);
	if (!ice_metadata_spec(base, a->spec->spec_id))
		return floe_error_set(err, FLOE_ECONFLICT, "%s: partition spec %d no longer exists", t->ident,
		                      a->spec->spec_id);
	const ice_snapshot *parent = ice_metadata_current_snapshot(base);
	ice_manifest_file *old = NULL;
	size_t nold = 0;
	int rc;
	if (parent && (rc = ice_table_snapshot_manifests(t, parent, arena, &old, &nold, err)))
		return rc;
	ice_manifest_file *list = floe_arena_calloc(arena, nold + 1, sizeof *list);
	if (!list)
		return oom(err);
	list[0] = a->mf;
	list[0].sequence_number = -1;
	list[0].min_sequence_number = -1;
	for (size_t i = 0; i < nold; i++) {
		list[i + 1] = old[i];
		if (list[i + 1].partition_spec_id < 0)
			list[i + 1].partition_spec_id = 0;
	}
	ice_mmerge_sink sink;
	memset(&sink, 0, sizeof sink);
	sink.note = ice_paths_note;
	sink.ctx = &a->merged;
	ice_manifest_file *merged;
	size_t nlist;
	const ice_kv *extra = a->extra;
	int nextra = a->nextra;
	if ((rc = ice_mmerge_commit(t, base, a->snapshot_id, list, nold + 1, &sink, arena, &merged,
	                            &nlist, err)) ||
	    (rc = ice_mmerge_summary(&sink, arena, &extra, &nextra, err)))
		return rc;
	int64_t recs = 0;
	for (size_t i = 0; i < a->ndone; i++)
		recs += a->done[i].file.record_count;
	ice_snapshot_change c;
	memset(&c, 0, sizeof c);
	c.operation = "append";
	c.snapshot_id = a->snapshot_id;
	c.added_data_files = (int64_t)a->ndone;
	c.added_records = recs;
	c.added_size = a->added_bytes;
	c.changed_partitions = a->changed_partitions;
	c.extra = extra;
	c.nextra = nextra;
	return ice_commit_snapshot(t, base, &c, merged, nlist, attempt, a->list_path,
	                           sizeof a->list_path, arena, out, err);
}

static void append_cleanup(void *ctx)
{
	floe_append *a = ctx;
	if (a->list_path[0])
		unlink(a->list_path);
	a->list_path[0] = 0;
	ice_paths_forget(&a->merged, true);
}

int ice_append_map(floe_append *a, const floe_batch *b, floe_arena *arena, floe_batch *out,
                   floe_error *err)
{
	floe_arena_reset(a->batch_arena);
	floe_batch tb;
	int rc = map_batch(a, b, &tb, err);
	if (rc)
		return rc;
	int32_t *idx = floe_arena_alloc(a->batch_arena, (size_t)tb.nrows * 4 + 4);
	if (!idx)
		return oom(err);
	for (int64_t r = 0; r < tb.nrows; r++)
		idx[r] = (int32_t)r;
	return ice_batch_gather(arena, &tb, idx, tb.nrows, out, err);
}

int ice_append_finish(floe_append *a, const ice_manifest_entry **entries, size_t *n,
                      floe_error *err)
{
	int rc = 0;
	for (int i = 0; i < a->npw && !rc; i++)
		rc = pw_close(a, &a->pw[i], err);
	for (size_t i = 0; i < a->ndone && !rc; i++)
		rc = floe_fs_fsync_file(a->done[i].file.file_path, err);
	for (int i = 0; i < a->ndirs && !rc; i++)
		rc = floe_fs_fsync_dir(a->dirs[i], err);
	*entries = a->done;
	*n = rc ? 0 : a->ndone;
	return rc;
}

/* ---- whole files copied in (compaction) ---------------------------------- */

/* A copied file's metrics are the sum of its own: counts for every column,
 * and bounds for the columns whose bounds are not the Parquet writer's
 * (those fold in from the copied chunks' statistics). */
static bool file_metrics_complete(const floe_append *a, const ice_data_file *f)
{
	for (int c = 0; c < a->fs->nfields; c++) {
		const floe_type *t = &a->fs->fields[c].type;
		const ice_column_metrics *m = ice_data_file_metrics(f, a->fs->fields[c].field_id);
		bool fp = t->id == FLOE_TYPE_FLOAT || t->id == FLOE_TYPE_DOUBLE;
		if (!m || m->value_count < 0 || m->null_count < 0 || (fp && m->nan_count < 0))
			return false;
		int64_t bounded = m->value_count - m->null_count - (fp ? m->nan_count : 0);
		if (bounded > 0 && !writer_bounds(t) && (!m->lower || !m->upper))
			return false;
	}
	return true;
}

static int fold_file_metrics(floe_append *a, part_writer *p, const ice_data_file *f,
                             floe_error *err)
{
	for (int c = 0; c < a->fs->nfields; c++) {
		const floe_type *t = &a->fs->fields[c].type;
		const ice_column_metrics *m = ice_data_file_metrics(f, a->fs->fields[c].field_id);
		col_metrics *cm = &p->cm[c];
		cm->values += m->value_count;
		cm->nulls += m->null_count;
		if (m->nan_count > 0)
			cm->nans += m->nan_count;
		if (writer_bounds(t) || !m->lower || !m->upper)
			continue;
		floe_value lo, hi;
		int rc;
		if ((rc = ice_value_deserialize(&lo, t, m->lower, m->lower_len, a->batch_arena, err)) ||
		    (rc = ice_value_deserialize(&hi, t, m->upper, m->upper_len, a->batch_arena, err)))
			return rc;
		bool lower = !cm->has || ice_value_compare(t, &lo, &cm->min) < 0;
		bool upper = !cm->has || ice_value_compare(t, &hi, &cm->max) > 0;
		if (bytes_valued(t)) {
			if ((lower && set_bytes(&cm->minb, &cm->min, lo.bytes, lo.len)) ||
			    (upper && set_bytes(&cm->maxb, &cm->max, hi.bytes, hi.len)))
				return oom(err);
		} else {
			if (lower)
				cm->min = lo;
			if (upper)
				cm->max = hi;
		}
		cm->has = true;
	}
	return 0;
}

int ice_append_copy_file(floe_append *a, const ice_data_file *f, const char *local,
                         int64_t min_row_group_bytes, bool *copied, floe_error *err)
{
	*copied = false;
	if (f->spec_id != a->spec->spec_id || f->npartition != a->spec->nfields ||
	    !file_metrics_complete(a, f))
		return 0;
	floe_parquet_reader *r;
	int rc = floe_parquet_reader_open(&r, local, err);
	if (rc)
		return rc;
	if (!floe_parquet_can_copy(r, a->fs, &a->popt, min_row_group_bytes, NULL))
		goto done;
	const ice_datum *key[64];
	if (a->spec->nfields > 64)
		goto done;
	for (int k = 0; k < a->spec->nfields; k++)
		key[k] = &f->partition[k];
	int i;
	if ((rc = find_writer(a, key, 0, &i, err)))
		goto done;
	part_writer *p = &a->pw[i];
	p->last_batch = a->nbatches;
	if (p->w && p->rows > 0 &&
	    floe_parquet_writer_bytes(p->w) + f->file_size_in_bytes > a->target_bytes &&
	    (rc = pw_close(a, p, err)))
		goto done;
	if (!p->w && ((rc = make_room(a, err)) || (rc = pw_open(a, p, err))))
		goto done;
	if ((rc = floe_parquet_writer_copy(p->w, r, err)) ||
	    (rc = fold_file_metrics(a, p, f, err))) {
		pw_discard(p);
		goto done;
	}
	p->rows += f->record_count;
	a->rows += f->record_count;
	*copied = true;
	if (floe_parquet_writer_bytes(p->w) >= a->target_bytes)
		rc = pw_close(a, p, err);
done:
	floe_parquet_reader_free(r);
	return rc;
}

void ice_append_set_target(floe_append *a, int64_t bytes)
{
	if (bytes > 0)
		a->target_bytes = bytes;
}

void ice_append_release(floe_append *a)
{
	if (!a)
		return;
	a->ndone = 0; /* committed by the caller: nothing to remove */
	floe_append_abort(a);
}

int floe_append_commit(floe_append *a, int64_t *snapshot_id, floe_error *err)
{
	int rc = 0;
	for (int i = 0; i < a->npw && !rc; i++)
		rc = pw_close(a, &a->pw[i], err);
	if (rc)
		goto fail;
	if (a->ndone == 0) {
		if (snapshot_id) {
			const ice_snapshot *cur = ice_metadata_current_snapshot(a->t->meta);
			*snapshot_id = cur ? cur->snapshot_id : -1;
		}
		floe_append_abort(a);
		return 0;
	}
	/* data files were closed without fsync (their write-back started at
	 * close, so these are quick): durable before any metadata names them */
	for (size_t i = 0; i < a->ndone && !rc; i++)
		rc = floe_fs_fsync_file(a->done[i].file.file_path, err);
	for (int i = 0; i < a->ndirs && !rc; i++)
		rc = floe_fs_fsync_dir(a->dirs[i], err);
	if (rc)
		goto fail;
	char uuid[37];
	floe_uuid4(uuid);
	int w = snprintf(a->manifest_path, sizeof a->manifest_path, "%s/metadata/%s-m0.avro",
	                 a->m->location, uuid);
	if (w < 0 || (size_t)w >= sizeof a->manifest_path) {
		a->manifest_path[0] = 0;
		rc = floe_error_set(err, FLOE_EINVALID, "table location too long");
		goto fail;
	}
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/metadata", a->m->location);
	if ((rc = floe_fs_mkdirs(dir, err)))
		goto fail;
	ice_manifest_write_info info;
	memset(&info, 0, sizeof info);
	info.schema = a->schema;
	info.spec = a->spec;
	info.partition_types = a->ptypes;
	info.content = ICE_CONTENT_DATA;
	info.snapshot_id = a->snapshot_id;
	info.sequence_number = -1;
	for (size_t i = 0; i < a->ndone; i++)
		a->done[i].snapshot_id = a->snapshot_id;
	if ((rc = ice_manifest_write(a->manifest_path, &info, a->done, a->ndone, a->arena, &a->mf, err)))
		goto fail;
	rc = ice_table_commit(a->t, append_update, append_cleanup, a, err);
	if (rc == FLOE_ECOMMIT_UNKNOWN) {
		/* keep every file: the commit may have happened */
		a->ndone = 0;
		a->manifest_path[0] = 0;
		ice_paths_forget(&a->merged, false);
		goto fail;
	}
	if (rc)
		goto fail;
	if (snapshot_id)
		*snapshot_id = a->snapshot_id;
	a->ndone = 0;           /* committed: nothing to remove */
	a->manifest_path[0] = 0;
	ice_paths_forget(&a->merged, false);
	floe_append_abort(a);
	return 0;
fail:
	floe_append_abort(a);
	return rc;
}
