/* parquet/reader_scan.c - scans: projection, row-group skipping from column
 * chunk statistics, page decoding (v1/v2, every value encoding) streamed
 * page by page into floe_batch output of at most batch_rows rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "floe/parquet.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/meta.h"
#include "parquet/reader_int.h"

/* A growable buffer a column cursor reuses (capacity counted in mem_bytes). */
typedef struct sbuf {
	uint8_t *p;
	size_t cap;
} sbuf;

typedef struct page_index {
	pq_offset_index oi;
	pq_column_index ci;
	bool has_oi, has_ci;
} page_index;

/* A projected column: a cursor over its chunk in the current row group that
 * holds one decoded page (plus the chunk's dictionary) at a time, and the
 * output buffers of the current batch. */
typedef struct scan_col {
	int leaf;
	const pq_leaf *lf;
	int owidth;              /* floe storage bytes per value; 0 = variable */
	/* chunk */
	const pq_column_meta *cm;
	uint64_t start;          /* file offset of the chunk */
	size_t len, pos;         /* chunk bytes; next page header at start + pos */
	const uint8_t *mem;      /* the chunk, when the file is in memory */
	sbuf win;                /* else chunk bytes [win_off, win_off + win_len) */
	size_t win_off, win_len;
	int64_t row, nrows;      /* next row of the chunk; rows in it */
	page_index pi;           /* offset index when rows are selected */
	uint32_t dpage;          /* data pages seen */
	/* dictionary, in floe storage (owidth each) or pq_bytes into dictbuf */
	bool has_dict;
	/* kept across floe_parquet_scan_restart: the dictionary of row group
	 * dict_rg (page at dict_off) and the data page decoded last (row group
	 * dec_rg, page at dec_off, dec_rows rows), reused when the restarted
	 * scan reaches them again; dict_seen = the kept dictionary's page was
	 * passed in this pass over the chunk */
	int dict_rg, dec_rg;
	uint64_t dict_off, dec_off;
	size_t dict_len;         /* the dictionary page's bytes, header included */
	int64_t dec_rows;
	bool dict_seen, dec_valid;
	int rg;                  /* row group of the chunk */
	sbuf dictbuf, dictvals;
	size_t dict_n;
	uint32_t dict_maxlen;
	/* current page: rows [pg_pos, pg_rows) left, non-null values from pg_vpos */
	int64_t pg_rows, pg_pos;
	size_t pg_vpos, pg_nvalid;
	const uint32_t *defs;    /* definition levels; NULL = no nulls */
	const uint8_t *vfix;     /* owidth values, or */
	const pq_bytes *vbytes;  /* byte values, or */
	const uint32_t *vidx;    /* dictionary indices (checked < dict_n) */
	bool slack;              /* byte values may be over-read by SLACK bytes */
	sbuf pagebuf, defbuf, valbuf, idxbuf, rawbuf;
	floe_arena *page_arena;  /* rare decoders' scratch, reset per page */
	/* row filtering (filter_rows): predicates on this column, whether a
	 * null passes them all, and per dictionary entry whether it does */
	int npreds;
	bool null_ok, dmatch_ok;
	bool proved;             /* the row group's statistics prove all pass */
	sbuf dmatch;
	/* batch output */
	sbuf out_vals, out_offs, out_data, out_valid;
	int64_t null_count;
} scan_col;

typedef struct scan_pred {
	int leaf;
	floe_parquet_predicate p;
} scan_pred;

struct floe_parquet_scan {
	floe_parquet_reader *r;
	int ncols;
	scan_col *cols;
	floe_field *fields;
	floe_schema schema;
	scan_pred *preds;
	int npreds, cappreds;
	int64_t batch_rows;
	bool verify_crc;
	bool filter_rows;    /* asked for */
	bool filtering;      /* and some predicate is on a projected column */
	bool rg_filter;      /* and the row group's statistics leave it to rows */
	int64_t eval_end;    /* rows of the row group before it are filtered */
	floe_parquet_scan_stats stats;
	int rg;              /* next row group to load */
	int64_t rg_rows, rg_pos;
	bool loaded;
	uint8_t *rowsel;     /* per row of the row group: 1 = selected; NULL = all */
	floe_arena *rg_arena;  /* page indexes, row selection */
	floe_arena *hdr_arena; /* one page header */
	int64_t mem_bytes, mem_peak; /* capacity of the columns' buffers */
	floe_column *out;
	floe_batch batch;
};

static void col_release(scan_col *c);

void floe_parquet_scan_options_init(floe_parquet_scan_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->batch_rows = 65536;
	opts->verify_crc = true;
}

/* ---- values compared by predicates ------------------------------------ */

enum { K_NONE, K_INT, K_DBL, K_BYTES };

typedef struct sval {
	int64_t i;
	double d;
	const uint8_t *p;
	size_t n;
} sval;

static int value_kind(const pq_leaf *lf)
{
	if (lf->type.is_unsigned)
		return K_NONE;
	switch (lf->type.id) {
	case FLOE_TYPE_BOOLEAN: case FLOE_TYPE_INT: case FLOE_TYPE_DATE: case FLOE_TYPE_LONG:
	case FLOE_TYPE_TIME: case FLOE_TYPE_TIMESTAMP: case FLOE_TYPE_TIMESTAMPTZ:
		return lf->conv == PQ_CONV_INT96 ? K_NONE : K_INT;
	case FLOE_TYPE_TIMESTAMP_NS: case FLOE_TYPE_TIMESTAMPTZ_NS:
		return lf->conv == PQ_CONV_INT96 ? K_NONE : K_INT;
	case FLOE_TYPE_DECIMAL:
		return lf->type.width == 0 && lf->conv != PQ_CONV_DEC_BYTES ? K_INT : K_NONE;
	case FLOE_TYPE_FLOAT:
		return lf->conv == PQ_CONV_F16 ? K_NONE : K_DBL;
	case FLOE_TYPE_DOUBLE:
		return K_DBL;
	case FLOE_TYPE_STRING: case FLOE_TYPE_BINARY: case FLOE_TYPE_JSON:
		return K_BYTES;
	default:
		return K_NONE;
	}
}

static int find_leaf(const floe_parquet_reader *r, const char *name, int32_t id)
{
	int i = name ? floe_schema_find(&r->schema, name) : floe_schema_find_id(&r->schema, id);
	return i;
}

/* Is `name` (or `id`) a column that exists but is not flat? */
static bool is_nested_name(const floe_parquet_reader *r, const char *name, int32_t id)
{
	for (uint32_t i = 1; i < r->meta.num_schema; i++) {
		const pq_schema_element *e = &r->meta.schema[i];
		if (name ? (e->name.len == strlen(name) && memcmp(e->name.ptr, name, e->name.len) == 0)
		         : (e->has_field_id && e->field_id == id))
			return true;
	}
	return false;
}

static int resolve(const floe_parquet_reader *r, const char *name, int32_t id, floe_error *err)
{
	int i = find_leaf(r, name, id);
	if (i >= 0)
		return i;
	if (is_nested_name(r, name, id)) {
		if (name)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: column %s is nested or of an unsupported type", r->name, name);
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: field id %d is nested or of an unsupported type", r->name, id);
	}
	if (name)
		return floe_error_set(err, FLOE_ENOTFOUND, "%s: no column %s", r->name, name);
	return floe_error_set(err, FLOE_ENOTFOUND, "%s: no column with field id %d", r->name, id);
}

/* Resolve and check `n` predicates into s->preds (sized for them). */
static int set_predicates(floe_parquet_scan *s, const floe_parquet_predicate *preds, int n,
                          floe_error *err)
{
	s->npreds = 0;
	for (int i = 0; i < n; i++) {
		const floe_parquet_predicate *p = &preds[i];
		int li = resolve(s->r, p->column, p->field_id, err);
		if (li < 0)
			return li;
		if (p->op < FLOE_PARQUET_EQ || p->op > FLOE_PARQUET_IS_NULL ||
		    (p->op != FLOE_PARQUET_IS_NULL && (!p->values || p->nvalues < 1)) ||
		    (p->op != FLOE_PARQUET_IN && p->op != FLOE_PARQUET_IS_NULL && p->nvalues != 1))
			return floe_error_set(err, FLOE_EINVALID, "predicate %d: bad operator or values", i);
		s->preds[i].leaf = li;
		s->preds[i].p = *p;
	}
	s->npreds = n;
	s->filtering = false;
	for (int j = 0; j < s->ncols; j++) {
		scan_col *c = &s->cols[j];
		c->npreds = 0;
		c->null_ok = true;
		c->dmatch_ok = false;
		/* the first projection of a leaf carries its predicates */
		bool first = true;
		for (int k = 0; k < j; k++)
			first = first && s->cols[k].leaf != c->leaf;
		if (!first || !s->filter_rows || value_kind(c->lf) == K_NONE)
			continue;
		for (int i = 0; i < n; i++)
			if (s->preds[i].leaf == c->leaf) {
				c->npreds++;
				c->null_ok = c->null_ok && s->preds[i].p.op == FLOE_PARQUET_IS_NULL;
			}
		s->filtering = s->filtering || c->npreds > 0;
	}
	return 0;
}

int floe_parquet_scan_restart(floe_parquet_scan *s, const floe_parquet_predicate *preds, int n,
                              floe_error *err)
{
	if (n < 0)
		return floe_error_set(err, FLOE_EINVALID, "negative predicate count");
	if (n > s->cappreds) {
		scan_pred *np = realloc(s->preds, (size_t)n * sizeof *np);
		if (!np)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		s->preds = np;
		s->cappreds = n;
	}
	int rc = set_predicates(s, preds, n, err);
	if (rc < 0) {
		s->npreds = 0;
		return rc;
	}
	memset(&s->stats, 0, sizeof s->stats);
	s->stats.row_groups = (int)s->r->meta.num_row_groups;
	s->rg = 0;
	s->rg_rows = s->rg_pos = 0;
	s->loaded = false;
	s->rowsel = NULL;
	s->eval_end = 0;
	return 0;
}

int floe_parquet_scan_open(floe_parquet_scan **out, floe_parquet_reader *r,
                           const floe_parquet_scan_options *opts, floe_error *err)
{
	floe_parquet_scan_options defaults;
	floe_parquet_scan *s;
	int rc = 0;

	*out = NULL;
	if (!opts) {
		floe_parquet_scan_options_init(&defaults);
		opts = &defaults;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	s->r = r;
	s->batch_rows = opts->batch_rows > 0 ? opts->batch_rows : 65536;
	s->verify_crc = opts->verify_crc;
	s->filter_rows = opts->filter_rows;
	s->rg_arena = floe_arena_new(0);
	s->hdr_arena = floe_arena_new(4096);
	int n = opts->columns ? opts->ncolumns : opts->field_ids ? opts->nfield_ids : r->nleaves;
	if (n < 0 || opts->npredicates < 0) {
		rc = floe_error_set(err, FLOE_EINVALID, "negative column or predicate count");
		goto done;
	}
	s->cols = calloc((size_t)n + 1, sizeof(scan_col));
	s->fields = calloc((size_t)n + 1, sizeof(floe_field));
	s->preds = calloc((size_t)opts->npredicates + 1, sizeof(scan_pred));
	s->cappreds = opts->npredicates + 1;
	s->out = calloc((size_t)n + 1, sizeof(floe_column));
	if (!s->rg_arena || !s->hdr_arena || !s->out || !s->cols || !s->fields || !s->preds) {
		rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
		goto done;
	}
	for (int i = 0; i < n; i++) {
		int li = opts->columns ? resolve(r, opts->columns[i], 0, err)
		       : opts->field_ids ? resolve(r, NULL, opts->field_ids[i], err) : i;
		if (li < 0) {
			rc = li;
			goto done;
		}
		s->cols[i].leaf = li;
		s->cols[i].lf = &r->leaves[li];
		s->cols[i].owidth = floe_type_value_width(&r->leaves[li].type);
		s->fields[i] = r->schema.fields[li];
	}
	s->ncols = n;
	s->schema.nfields = n;
	s->schema.fields = s->fields;
	if ((rc = set_predicates(s, opts->predicates, opts->npredicates, err)) < 0)
		goto done;
	s->stats.row_groups = (int)r->meta.num_row_groups;
	s->batch.schema = &s->schema;
done:
	if (rc < 0)
		floe_parquet_scan_free(s);
	else
		*out = s;
	return rc;
}

void floe_parquet_scan_free(floe_parquet_scan *s)
{
	if (!s)
		return;
	for (int i = 0; s->cols && i < s->ncols; i++)
		col_release(&s->cols[i]);
	floe_arena_free(s->rg_arena);
	floe_arena_free(s->hdr_arena);
	free(s->out);
	free(s->cols);
	free(s->fields);
	free(s->preds);
	free(s);
}

void floe_parquet_scan_get_stats(const floe_parquet_scan *s, floe_parquet_scan_stats *out)
{
	*out = s->stats;
}

/* ---- statistics-based skipping ---------------------------------------- */

/* A fixed-width value in floe storage (K_INT or K_DBL); false for NaN,
 * which no comparison decides. */
static bool storage_value(sval *out, const pq_leaf *lf, int kind, const uint8_t *p)
{
	if (kind == K_INT) {
		int w = floe_type_value_width(&lf->type);
		if (w == 1)
			out->i = p[0];
		else if (w == 4) {
			int32_t v;
			memcpy(&v, p, 4);
			out->i = v;
		} else
			memcpy(&out->i, p, 8);
		return true;
	}
	if (lf->type.id == FLOE_TYPE_FLOAT) {
		float f;
		memcpy(&f, p, 4);
		out->d = f;
	} else
		memcpy(&out->d, p, 8);
	return !isnan(out->d);
}

/* Decode a statistics value (PLAIN bytes of the physical type). */
static bool stat_value(sval *out, const pq_leaf *lf, int kind, pq_bytes b)
{
	uint8_t tmp[16];
	pq_bytes bo = { NULL, 0 };
	if (!b.ptr)
		return false;
	if (lf->pwidth > 0 && b.len != (uint32_t)lf->pwidth)
		return false;
	if (pq_convert(lf, tmp, &bo, b.ptr, b, NULL) < 0)
		return false;
	memset(out, 0, sizeof(*out));
	if (kind == K_BYTES) {
		out->p = bo.ptr;
		out->n = bo.len;
		return true;
	}
	return kind != K_NONE && storage_value(out, lf, kind, tmp);
}

static int cmp(int kind, const sval *a, const sval *b)
{
	if (kind == K_INT)
		return a->i < b->i ? -1 : a->i > b->i;
	if (kind == K_DBL)
		return a->d < b->d ? -1 : a->d > b->d;
	size_t n = a->n < b->n ? a->n : b->n;
	int c = n ? memcmp(a->p, b->p, n) : 0;
	if (c)
		return c < 0 ? -1 : 1;
	return a->n < b->n ? -1 : a->n > b->n;
}

static void lit_value(sval *out, const floe_value *v, int kind)
{
	memset(out, 0, sizeof(*out));
	out->i = v->i;
	out->d = v->d;
	out->p = v->bytes;
	out->n = v->len > 0 ? (size_t)v->len : 0;
	if (kind == K_INT && v->bytes == NULL && v->i == 0 && v->b)
		out->i = 1;
}

/* The bounds of the non-null values that statistics give; false when they
 * give none to rely on. */
static bool stat_bounds(const pq_leaf *lf, int kind, const pq_statistics *st, bool signed_ok, sval *mn,
                        sval *mx)
{
	pq_bytes bmin = st->min_value, bmax = st->max_value;
	if (!bmin.ptr || !bmax.ptr) {
		if (!signed_ok || kind == K_BYTES)
			return false; /* deprecated min/max: signed order only */
		bmin = st->min;
		bmax = st->max;
	}
	return stat_value(mn, lf, kind, bmin) && stat_value(mx, lf, kind, bmax);
}

/* true when every value in [mn, mx] satisfies comparison p. */
static bool range_includes(const floe_parquet_predicate *p, int kind, const sval *mn, const sval *mx)
{
	if (p->op == FLOE_PARQUET_IS_NULL)
		return false;
	for (int k = 0; k < (p->op == FLOE_PARQUET_IN ? p->nvalues : 1); k++) {
		sval v;
		lit_value(&v, &p->values[k], kind);
		if (kind == K_DBL && isnan(v.d))
			return false;
		bool all;
		switch (p->op) {
		case FLOE_PARQUET_EQ: case FLOE_PARQUET_IN:
			all = cmp(kind, mn, &v) == 0 && cmp(kind, mx, &v) == 0; break;
		case FLOE_PARQUET_LT: all = cmp(kind, mx, &v) < 0; break;
		case FLOE_PARQUET_LE: all = cmp(kind, mx, &v) <= 0; break;
		case FLOE_PARQUET_GT: all = cmp(kind, mn, &v) > 0; break;
		case FLOE_PARQUET_GE: all = cmp(kind, mn, &v) >= 0; break;
		default: all = false; break;
		}
		if (all)
			return true;
	}
	return false;
}

/* true when no non-null value in [mn, mx] satisfies comparison p. */
static bool range_excludes(const floe_parquet_predicate *p, int kind, const sval *mn, const sval *mx)
{
	for (int k = 0; k < (p->op == FLOE_PARQUET_IN ? p->nvalues : 1); k++) {
		sval v;
		lit_value(&v, &p->values[k], kind);
		if (kind == K_DBL && isnan(v.d))
			return false;
		bool excl;
		switch (p->op) {
		case FLOE_PARQUET_EQ: case FLOE_PARQUET_IN:
			excl = cmp(kind, &v, mn) < 0 || cmp(kind, &v, mx) > 0; break;
		case FLOE_PARQUET_LT: excl = cmp(kind, mn, &v) >= 0; break;
		case FLOE_PARQUET_LE: excl = cmp(kind, mn, &v) > 0; break;
		case FLOE_PARQUET_GT: excl = cmp(kind, mx, &v) <= 0; break;
		case FLOE_PARQUET_GE: excl = cmp(kind, mx, &v) < 0; break;
		default: excl = false; break;
		}
		if (!excl)
			return false;
	}
	return true;
}

/* true when min/max/null_count prove no row of `nrows` can match. */
static bool pred_excludes(const scan_pred *sp, const pq_leaf *lf, const pq_statistics *st,
                          bool signed_ok, int64_t nrows)
{
	const floe_parquet_predicate *p = &sp->p;
	if (p->op == FLOE_PARQUET_IS_NULL)
		return st->has_null_count && st->null_count == 0;
	if (st->has_null_count && st->null_count == nrows && nrows > 0)
		return true; /* all null: no comparison is true */
	int kind = value_kind(lf);
	sval mn, mx;
	if (kind == K_NONE || !stat_bounds(lf, kind, st, signed_ok, &mn, &mx))
		return false;
	return range_excludes(p, kind, &mn, &mx);
}

/* false when non-null value `v` provably fails predicate p (a NaN on
 * either side decides nothing). */
static bool value_may_match(const floe_parquet_predicate *p, int kind, const sval *v)
{
	return p->op != FLOE_PARQUET_IS_NULL && !range_excludes(p, kind, v, v);
}

/* Do the row group's statistics prove that every row passes the
 * predicates on column c (no nulls, all values within them)? */
static bool rg_proves(const floe_parquet_scan *s, const scan_col *c, const pq_row_group *rg)
{
	const pq_column_chunk *cc = &rg->columns[c->lf->chunk];
	if (!cc->has_meta || !cc->meta.has_statistics)
		return false;
	const pq_statistics *st = &cc->meta.statistics;
	int kind = value_kind(c->lf);
	sval mn, mx;
	if (!st->has_null_count || st->null_count != 0 ||
	    !stat_bounds(c->lf, kind, st, c->lf->type.id != FLOE_TYPE_STRING, &mn, &mx))
		return false;
	for (int i = 0; i < s->npreds; i++)
		if (s->preds[i].leaf == c->leaf && !range_includes(&s->preds[i].p, kind, &mn, &mx))
			return false;
	return true;
}

static bool rg_excluded(floe_parquet_scan *s, const pq_row_group *rg)
{
	for (int i = 0; i < s->npreds; i++) {
		const pq_leaf *lf = &s->r->leaves[s->preds[i].leaf];
		const pq_column_chunk *cc = &rg->columns[lf->chunk];
		if (!cc->has_meta || !cc->meta.has_statistics)
			continue;
		if (pred_excludes(&s->preds[i], lf, &cc->meta.statistics, lf->type.id != FLOE_TYPE_STRING,
		                  rg->num_rows))
			return true;
	}
	return false;
}

/* ---- page index --------------------------------------------------------- */

static int read_index(floe_parquet_scan *s, const pq_column_chunk *cc, page_index *pi, bool want_ci,
                      floe_error *err)
{
	floe_parquet_reader *r = s->r;
	memset(pi, 0, sizeof(*pi));
	if (cc->has_offset_index && cc->offset_index_length > 0) {
		uint8_t *b = floe_arena_alloc(s->rg_arena, (size_t)cc->offset_index_length);
		if (!b)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		int rc = cc->offset_index_offset < 0 ? floe_error_corrupt(err, r->name, 0, "negative offset index offset")
		       : pq_read_at(r, b, (size_t)cc->offset_index_length, (uint64_t)cc->offset_index_offset, err);
		if (rc == 0)
			rc = pq_meta_decode_offset_index(&pi->oi, b, (size_t)cc->offset_index_length, r->name,
			                                 (uint64_t)cc->offset_index_offset, s->rg_arena, err);
		if (rc < 0)
			return rc;
		pi->has_oi = true;
	}
	if (want_ci && cc->has_column_index && cc->column_index_length > 0) {
		uint8_t *b = floe_arena_alloc(s->rg_arena, (size_t)cc->column_index_length);
		if (!b)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		int rc = cc->column_index_offset < 0 ? floe_error_corrupt(err, r->name, 0, "negative column index offset")
		       : pq_read_at(r, b, (size_t)cc->column_index_length, (uint64_t)cc->column_index_offset, err);
		if (rc == 0)
			rc = pq_meta_decode_column_index(&pi->ci, b, (size_t)cc->column_index_length, r->name,
			                                 (uint64_t)cc->column_index_offset, s->rg_arena, err);
		if (rc < 0)
			return rc;
		pi->has_ci = true;
	}
	return 0;
}

/* Row range [*lo, *hi) of page k per the offset index; false when invalid. */
static bool page_rows(const pq_offset_index *oi, uint32_t k, int64_t nrows, int64_t *lo, int64_t *hi)
{
	*lo = oi->pages[k].first_row_index;
	*hi = k + 1 < oi->num_pages ? oi->pages[k + 1].first_row_index : nrows;
	return *lo >= 0 && *lo <= *hi && *hi <= nrows;
}

/* Clear rowsel for rows of pages whose ColumnIndex proves no match. Rows
 * outside the selection are provably non-matching. */
static int select_rows(floe_parquet_scan *s, const pq_row_group *rg, floe_error *err)
{
	s->rowsel = NULL;
	for (int i = 0; i < s->npreds; i++) {
		const pq_leaf *lf = &s->r->leaves[s->preds[i].leaf];
		page_index pi;
		int rc = read_index(s, &rg->columns[lf->chunk], &pi, true, err);
		if (rc < 0)
			return rc;
		if (!pi.has_oi || !pi.has_ci || pi.oi.num_pages != pi.ci.num_pages)
			continue;
		for (uint32_t k = 0; k < pi.oi.num_pages; k++) {
			int64_t lo, hi;
			if (!page_rows(&pi.oi, k, rg->num_rows, &lo, &hi))
				break;
			pq_statistics st;
			memset(&st, 0, sizeof(st));
			bool excl;
			if (pi.ci.null_pages[k]) {
				excl = s->preds[i].p.op != FLOE_PARQUET_IS_NULL;
			} else {
				st.min_value = pi.ci.min_values[k];
				st.max_value = pi.ci.max_values[k];
				if (pi.ci.null_counts) {
					st.has_null_count = true;
					st.null_count = pi.ci.null_counts[k];
				}
				excl = pred_excludes(&s->preds[i], lf, &st, false, hi - lo);
			}
			if (!excl)
				continue;
			if (!s->rowsel) {
				s->rowsel = floe_arena_alloc(s->rg_arena, (size_t)rg->num_rows + 1);
				if (!s->rowsel)
					return floe_error_set(err, FLOE_ENOMEM, "out of memory");
				memset(s->rowsel, 1, (size_t)rg->num_rows + 1);
			}
			memset(s->rowsel + lo, 0, (size_t)(hi - lo));
		}
	}
	return 0;
}

/* ---- scratch buffers ------------------------------------------------------
 * Every buffer the scan decodes into is owned by a column cursor and reused
 * page after page and batch after batch; s->mem_bytes counts their capacity
 * so tests can prove the footprint does not grow with the row group. */

#define SLACK 16 /* readable/writable bytes past the end of byte buffers */

static int sbuf_need(floe_parquet_scan *s, sbuf *b, size_t n, floe_error *err)
{
	if (n <= b->cap)
		return 0;
	/* exact at first (a window or a page keeps its size), doubling after */
	size_t cap = b->cap ? b->cap : n;
	while (cap < n)
		cap = cap > SIZE_MAX / 2 ? n : cap * 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory for a %zu byte buffer", n);
	s->mem_bytes += (int64_t)(cap - b->cap);
	if (s->mem_bytes > s->mem_peak)
		s->mem_peak = s->mem_bytes;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void sbuf_free(sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}

#define COL_SBUFS(c)                                                                          \
	{ &(c)->win, &(c)->dictbuf, &(c)->dictvals, &(c)->pagebuf, &(c)->defbuf, &(c)->valbuf,     \
	  &(c)->idxbuf, &(c)->rawbuf, &(c)->out_vals, &(c)->out_offs, &(c)->out_data,             \
	  &(c)->out_valid, &(c)->dmatch }

static void col_release(scan_col *c)
{
	sbuf *all[] = COL_SBUFS(c);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		sbuf_free(all[i]);
	floe_arena_free(c->page_arena);
	c->page_arena = NULL;
}

void floe_parquet_scan_adopt_buffers(floe_parquet_scan *to, floe_parquet_scan *from)
{
	if (!to || !from)
		return;
	int n = to->ncols < from->ncols ? to->ncols : from->ncols;
	for (int i = 0; i < n; i++) {
		sbuf *dst[] = COL_SBUFS(&to->cols[i]), *src[] = COL_SBUFS(&from->cols[i]);
		for (size_t k = 0; k < sizeof(dst) / sizeof(dst[0]); k++) {
			if (dst[k]->p || !src[k]->p)
				continue;
			*dst[k] = *src[k];
			to->mem_bytes += (int64_t)src[k]->cap;
			from->mem_bytes -= (int64_t)src[k]->cap;
			src[k]->p = NULL;
			src[k]->cap = 0;
		}
	}
	if (to->mem_bytes > to->mem_peak)
		to->mem_peak = to->mem_bytes;
}

int64_t pq_scan_buffer_peak(const floe_parquet_scan *s)
{
	int64_t arenas = 0;
	for (int i = 0; i < s->ncols; i++)
		arenas += s->cols[i].page_arena ? (int64_t)floe_arena_footprint(s->cols[i].page_arena) : 0;
	return s->mem_peak + arenas;
}

/* ---- page decoding ----------------------------------------------------- */

typedef struct raw_vals {
	size_t n;
	uint8_t *fixed;   /* pwidth * n */
	pq_bytes *bytes;  /* n, for BYTE_ARRAY / FLBA */
} raw_vals;

/* Decode `count` non-dictionary values of encoding `enc` from src[0..n)
 * into *out (physical form) using the column's raw buffer and page arena. */
static int decode_values(floe_parquet_scan *s, scan_col *c, raw_vals *out, sbuf *into, int enc,
                         const uint8_t *src, size_t n, size_t count, floe_error *err)
{
	const pq_leaf *lf = c->lf;
	floe_arena *a = c->page_arena;
	size_t used, need;
	int pw = lf->pwidth;
	bool flba = lf->phys == PQ_FIXED_LEN_BYTE_ARRAY;
	size_t fw = flba ? (size_t)lf->type_length : (size_t)pw;

	out->n = count;
	out->fixed = NULL;
	out->bytes = NULL;
	if (floe_mul_overflow(count ? count : 1, pw > 0 ? (size_t)pw : sizeof(pq_bytes), &need))
		return floe_error_set(err, FLOE_ECORRUPT, "size overflow");
	int rc = sbuf_need(s, into, need, err);
	if (rc < 0)
		return rc;
	if (pw > 0)
		out->fixed = into->p;
	else
		out->bytes = (pq_bytes *)(void *)into->p;
	switch (enc) {
	case PQ_PLAIN:
		if (lf->phys == PQ_BOOLEAN)
			return pq_plain_decode_bool(out->fixed, count, src, n, &used, err);
		if (lf->phys == PQ_BYTE_ARRAY)
			return pq_plain_decode_byte_array(out->bytes, count, src, n, &used, err);
		if (flba) {
			if (floe_mul_overflow(count, fw, &need) || need > n)
				return floe_error_set(err, FLOE_ECORRUPT, "PLAIN fixed values run past the page");
			for (size_t i = 0; i < count; i++) {
				out->bytes[i].ptr = src + i * fw;
				out->bytes[i].len = (uint32_t)fw;
			}
			return 0;
		}
		return pq_plain_decode_fixed(out->fixed, count, (size_t)pw, src, n, &used, err);
	case PQ_RLE:
		if (lf->phys != PQ_BOOLEAN)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "RLE value encoding on %s", pq_type_name(lf->phys));
		{
			if (n < 4)
				return floe_error_set(err, FLOE_ECORRUPT, "RLE booleans without length");
			uint32_t len = floe_load_u32le(src);
			if (len > n - 4)
				return floe_error_set(err, FLOE_ECORRUPT, "RLE boolean length %u past the page", len);
			uint32_t *tmp = floe_arena_alloc(a, (count ? count : 1) * sizeof(uint32_t));
			if (!tmp)
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			rc = pq_rle_decode(tmp, count, src + 4, len, 1, err);
			for (size_t i = 0; rc == 0 && i < count; i++)
				out->fixed[i] = (uint8_t)tmp[i];
			return rc;
		}
	case PQ_DELTA_BINARY_PACKED:
		if (lf->phys == PQ_INT32)
			return pq_delta_decode_i32((int32_t *)(void *)out->fixed, count, src, n, &used, err);
		if (lf->phys == PQ_INT64)
			return pq_delta_decode_i64((int64_t *)(void *)out->fixed, count, src, n, &used, err);
		return floe_error_set(err, FLOE_ECORRUPT, "DELTA_BINARY_PACKED on %s", pq_type_name(lf->phys));
	case PQ_DELTA_LENGTH_BYTE_ARRAY:
		if (lf->phys != PQ_BYTE_ARRAY)
			return floe_error_set(err, FLOE_ECORRUPT, "DELTA_LENGTH_BYTE_ARRAY on %s", pq_type_name(lf->phys));
		return pq_delta_length_decode(out->bytes, count, src, n, err);
	case PQ_DELTA_BYTE_ARRAY:
		if (pw > 0)
			return floe_error_set(err, FLOE_ECORRUPT, "DELTA_BYTE_ARRAY on %s", pq_type_name(lf->phys));
		return pq_delta_byte_array_decode(out->bytes, count, src, n, a, err);
	case PQ_BYTE_STREAM_SPLIT:
		if (lf->phys == PQ_BOOLEAN || lf->phys == PQ_BYTE_ARRAY || lf->phys == PQ_INT96)
			return floe_error_set(err, FLOE_ECORRUPT, "BYTE_STREAM_SPLIT on %s", pq_type_name(lf->phys));
		if (flba) {
			if (floe_mul_overflow(count, fw, &need))
				return floe_error_set(err, FLOE_ECORRUPT, "size overflow");
			uint8_t *buf = floe_arena_alloc(a, need ? need : 1);
			if (!buf)
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			rc = pq_bss_decode(buf, count, fw, src, n, err);
			for (size_t i = 0; rc == 0 && i < count; i++) {
				out->bytes[i].ptr = buf + i * fw;
				out->bytes[i].len = (uint32_t)fw;
			}
			return rc;
		}
		return pq_bss_decode(out->fixed, count, (size_t)pw, src, n, err);
	default:
		return floe_error_set(err, FLOE_EUNSUPPORTED, "value encoding %s (%d)", pq_encoding_name(enc), enc);
	}
}

/* Physical values -> floe storage: fixed-width into `into` (owidth each),
 * or byte views (PQ_CONV_BYTES, which needs nothing). */
static int convert_vals(floe_parquet_scan *s, scan_col *c, const uint8_t **fix, const pq_bytes **bytes,
                        sbuf *into, const raw_vals *rv, floe_error *err)
{
	const pq_leaf *lf = c->lf;
	*fix = NULL;
	*bytes = NULL;
	if (!c->owidth) {
		*bytes = rv->bytes;
		return 0;
	}
	if (lf->conv == PQ_CONV_COPY && rv->fixed && lf->pwidth == c->owidth) {
		*fix = rv->fixed;
		return 0;
	}
	size_t need;
	if (floe_mul_overflow(rv->n ? rv->n : 1, (size_t)c->owidth, &need))
		return floe_error_set(err, FLOE_ECORRUPT, "size overflow");
	int rc = sbuf_need(s, into, need, err);
	if (rc < 0)
		return rc;
	pq_bytes none = { NULL, 0 };
	for (size_t i = 0; i < rv->n; i++) {
		rc = pq_convert(lf, into->p + i * (size_t)c->owidth, NULL,
		                rv->fixed ? rv->fixed + i * (size_t)lf->pwidth : NULL,
		                rv->bytes ? rv->bytes[i] : none, err);
		if (rc < 0)
			return rc;
	}
	*fix = into->p;
	return 0;
}

static int decode_levels(floe_parquet_scan *s, scan_col *c, int enc, const uint8_t *src, size_t n,
                         size_t count, floe_error *err)
{
	int rc = sbuf_need(s, &c->defbuf, (count ? count : 1) * sizeof(uint32_t), err);
	if (rc < 0)
		return rc;
	uint32_t *d = (uint32_t *)(void *)c->defbuf.p;
	if (enc == PQ_BIT_PACKED)
		rc = pq_bitpacked_msb_decode(d, count, src, n, 1, err);
	else if (enc == PQ_RLE)
		rc = pq_rle_decode(d, count, src, n, 1, err);
	else
		return floe_error_set(err, FLOE_EUNSUPPORTED, "definition level encoding %d", enc);
	if (rc < 0)
		return rc;
	uint32_t mx = 0;
	size_t valid = 0;
	for (size_t i = 0; i < count; i++) {
		mx = d[i] > mx ? d[i] : mx;
		valid += d[i] == (uint32_t)c->lf->max_def;
	}
	if (mx > (uint32_t)c->lf->max_def)
		return floe_error_set(err, FLOE_ECORRUPT, "definition level %u above the maximum %d",
		                      mx, c->lf->max_def);
	c->defs = valid == count ? NULL : d; /* no nulls: same as a required page */
	c->pg_nvalid = valid;
	return 0;
}

static int decompress(floe_parquet_scan *s, scan_col *c, const uint8_t **out, int codec, const uint8_t *src,
                      size_t n, size_t expected, floe_error *err)
{
	if (codec == FLOE_PARQUET_UNCOMPRESSED) {
		if (n != expected)
			return floe_error_set(err, FLOE_ECORRUPT, "uncompressed page of %zu bytes, header says %zu",
			                      n, expected);
		*out = src;
		return 0;
	}
	c->dec_valid = false; /* the page decoded last lived here */
	int rc = sbuf_need(s, &c->pagebuf, expected + SLACK, err);
	if (rc < 0)
		return rc;
	memset(c->pagebuf.p + expected, 0, SLACK);
	*out = c->pagebuf.p;
	return pq_codec_decompress(c->pagebuf.p, expected, codec, src, n, err);
}

/* Bytes [pos, pos+need) of the column chunk: a view of the file in memory,
 * or a window read with pread into the column's buffer (SLACK zero bytes
 * follow it). At least `need` bytes must remain in the chunk. */
static int fetch(floe_parquet_scan *s, scan_col *c, size_t pos, size_t need, const uint8_t **out,
                 floe_error *err)
{
	if (c->mem) {
		*out = c->mem + pos;
		return 0;
	}
	if (pos >= c->win_off && need <= c->win_len && pos - c->win_off <= c->win_len - need) {
		*out = c->win.p + (pos - c->win_off);
		return 0;
	}
	size_t want = need > (256 << 10) ? need : (256 << 10);
	if (want > c->len - pos)
		want = c->len - pos;
	c->win_len = 0;
	if (c->cm->codec == FLOE_PARQUET_UNCOMPRESSED)
		c->dec_valid = false; /* its values may have pointed into the window */
	int rc = sbuf_need(s, &c->win, want + SLACK, err);
	if (rc == 0)
		rc = pq_read_at(s->r, c->win.p, want, c->start + pos, err);
	if (rc < 0)
		return rc;
	memset(c->win.p + want, 0, SLACK);
	s->stats.bytes_read += (int64_t)want;
	c->win_off = pos;
	c->win_len = want;
	*out = c->win.p;
	return 0;
}

/* Dictionary page: decoded once per chunk into floe storage; byte values
 * point into the column's own copy of the page (with SLACK after it). */
static int load_dict(floe_parquet_scan *s, scan_col *c, const pq_page_header *h, const uint8_t *pb, size_t pn,
                     uint64_t poff, floe_error *err)
{
	const pq_leaf *lf = c->lf;
	const char *name = s->r->name;
	if (!h->has_dict)
		return floe_error_corrupt(err, name, poff, "dictionary page without its header");
	if (c->has_dict)
		return floe_error_corrupt(err, name, poff, "second dictionary page in a column chunk");
	if (h->dict.num_values < 0)
		return floe_error_corrupt(err, name, poff, "negative dictionary size");
	{
		/* PLAIN needs at least this many bits per entry */
		uint64_t bits = lf->phys == PQ_BOOLEAN ? 1
		              : lf->phys == PQ_BYTE_ARRAY ? 32
		              : lf->phys == PQ_FIXED_LEN_BYTE_ARRAY ? (uint64_t)lf->type_length * 8
		              : (uint64_t)lf->pwidth * 8;
		if ((uint64_t)h->dict.num_values * bits > (uint64_t)h->uncompressed_page_size * 8)
			return floe_error_corrupt(err, name, poff, "dictionary of %d entries in %d bytes",
			                          h->dict.num_values, h->uncompressed_page_size);
	}
	if (h->dict.encoding != PQ_PLAIN && h->dict.encoding != PQ_PLAIN_DICTIONARY)
		return floe_error_corrupt(err, name, poff, "dictionary page encoding %d", h->dict.encoding);
	size_t un = (size_t)h->uncompressed_page_size;
	const uint8_t *data;
	int rc = decompress(s, c, &data, c->cm->codec, pb, pn, un, err);
	if (rc == 0)
		rc = sbuf_need(s, &c->dictbuf, un + SLACK, err);
	if (rc < 0)
		return floe_error_locate(err, name, poff);
	memcpy(c->dictbuf.p, data, un);
	memset(c->dictbuf.p + un, 0, SLACK);
	raw_vals rv;
	const uint8_t *fix;
	const pq_bytes *bytes;
	size_t n = (size_t)h->dict.num_values;
	rc = decode_values(s, c, &rv, &c->rawbuf, PQ_PLAIN, c->dictbuf.p, un, n, err);
	if (rc == 0)
		rc = convert_vals(s, c, &fix, &bytes, &c->valbuf, &rv, err);
	if (rc < 0)
		return floe_error_locate(err, name, poff);
	/* keep the converted entries in dictvals (rawbuf/valbuf are per page) */
	size_t w = c->owidth ? (size_t)c->owidth : sizeof(pq_bytes);
	rc = sbuf_need(s, &c->dictvals, (n ? n : 1) * w, err);
	if (rc < 0)
		return rc;
	if (n)
		memcpy(c->dictvals.p, c->owidth ? (const void *)fix : (const void *)bytes, n * w);
	c->dict_maxlen = 0;
	if (!c->owidth)
		for (size_t i = 0; i < n; i++)
			c->dict_maxlen = bytes[i].len > c->dict_maxlen ? bytes[i].len : c->dict_maxlen;
	c->dict_n = n;
	c->has_dict = true;
	c->dmatch_ok = false;
	c->dict_rg = c->rg;
	c->dict_off = poff;
	c->dict_seen = true;
	return 0;
}

/* Prepare the next data page of the chunk. When the offset index shows the
 * page's rows all lie within the next `skip` rows, the page is passed over
 * without decompressing it and *skipped = its rows. */
static int next_page(floe_parquet_scan *s, scan_col *c, int64_t skip, int64_t *skipped, floe_error *err)
{
	floe_parquet_reader *r = s->r;
	const pq_leaf *lf = c->lf;
	const pq_column_meta *cm = c->cm;
	int64_t nrows = c->nrows;
	int rc;

	*skipped = 0;
	for (;;) {
		uint64_t poff = c->start + c->pos;
		/* the dictionary kept from the pass before a restart: passed over
		 * without reading it again */
		if (c->has_dict && !c->dict_seen && c->dict_rg == c->rg && c->dict_off == poff &&
		    c->dict_len > 0 && c->dict_len <= c->len - c->pos) {
			c->pos += c->dict_len;
			c->dict_seen = true;
			continue;
		}
		/* a data page the offset index locates here and whose rows all lie
		 * within the skip: passed over without reading its header */
		if (c->pi.has_oi && c->dpage < c->pi.oi.num_pages && skip > 0) {
			const pq_page_location *pl = &c->pi.oi.pages[c->dpage];
			int64_t lo, hi;
			if (pl->offset >= 0 && (uint64_t)pl->offset == poff && pl->compressed_page_size > 0 &&
			    (size_t)pl->compressed_page_size <= c->len - c->pos &&
			    page_rows(&c->pi.oi, c->dpage, nrows, &lo, &hi) && lo == c->row &&
			    hi - lo <= skip) {
				c->dpage++;
				c->pos += (size_t)pl->compressed_page_size;
				s->stats.pages++;
				s->stats.pages_skipped++;
				*skipped = hi - lo;
				c->row = hi;
				return 0;
			}
		}
		pq_page_header h;
		size_t hl = 0;
		const uint8_t *hb;
		if (c->pos >= c->len)
			return floe_error_corrupt(err, r->name, poff, "column chunk ends after %lld of %lld rows",
			                          (long long)c->row, (long long)nrows);
		/* a header is small; read a window and widen it when the header
		 * (large statistics) does not fit */
		size_t left = c->len - c->pos, try = left < (64 << 10) ? left : (64 << 10);
		for (;;) {
			rc = fetch(s, c, c->pos, try, &hb, err);
			if (rc < 0)
				return rc;
			floe_arena_reset(s->hdr_arena);
			rc = pq_meta_decode_page_header(&h, &hl, hb, try, r->name, poff, s->hdr_arena, err);
			if (rc == 0 || try == left || rc != FLOE_ECORRUPT)
				break;
			try = try > left / 4 ? left : try * 4;
		}
		if (rc < 0)
			return rc;
		if (h.compressed_page_size < 0 || h.uncompressed_page_size < 0 ||
		    (size_t)h.compressed_page_size > left - hl)
			return floe_error_corrupt(err, r->name, poff, "page of %d bytes runs past the column chunk",
			                          h.compressed_page_size);
		if (h.uncompressed_page_size > (1 << 30))
			return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: page at byte %llu of %d bytes (limit 1 GiB)",
			                      r->name, (unsigned long long)poff, h.uncompressed_page_size);
		size_t pn = (size_t)h.compressed_page_size, body = c->pos + hl;
		c->pos += hl + pn;
		if (h.type == PQ_INDEX_PAGE)
			continue;
		bool is_data = h.type == PQ_DATA_PAGE || h.type == PQ_DATA_PAGE_V2;
		if (h.type != PQ_DICTIONARY_PAGE && !is_data)
			return floe_error_corrupt(err, r->name, poff, "unknown page type %d", h.type);
		if (is_data) {
			s->stats.pages++;
			if (c->pi.has_oi && c->dpage < c->pi.oi.num_pages) {
				int64_t lo, hi;
				uint32_t k = c->dpage++;
				if (page_rows(&c->pi.oi, k, nrows, &lo, &hi) && lo == c->row && hi - lo <= skip) {
					s->stats.pages_skipped++;
					*skipped = hi - lo;
					c->row = hi;
					return 0;
				}
			}
			/* decoded by the pass before a restart, and still intact */
			if (c->dec_valid && c->dec_rg == c->rg && c->dec_off == poff &&
			    c->dec_rows <= nrows - c->row) {
				c->pg_rows = c->dec_rows;
				c->pg_pos = 0;
				c->pg_vpos = 0;
				return 0;
			}
		} else if (h.type == PQ_DICTIONARY_PAGE && c->has_dict && !c->dict_seen &&
		           c->dict_rg == c->rg && c->dict_off == poff) {
			c->dict_seen = true; /* kept from the pass before a restart */
			continue;
		}
		const uint8_t *pb;
		rc = fetch(s, c, body, pn, &pb, err);
		if (rc < 0)
			return rc;
		if (s->verify_crc && h.has_crc && (uint32_t)h.crc != pq_crc32(pb, pn))
			return floe_error_corrupt(err, r->name, poff, "page CRC mismatch");
		if (h.type == PQ_DICTIONARY_PAGE) {
			rc = load_dict(s, c, &h, pb, pn, poff, err);
			if (rc < 0)
				return rc;
			c->dict_len = hl + pn;
			continue;
		}
		int32_t nv = h.type == PQ_DATA_PAGE ? h.data.num_values : h.data_v2.num_values;
		if ((h.type == PQ_DATA_PAGE && !h.has_data) || (h.type == PQ_DATA_PAGE_V2 && !h.has_data_v2))
			return floe_error_corrupt(err, r->name, poff, "data page without its header");
		if (nv < 0 || nv > nrows - c->row)
			return floe_error_corrupt(err, r->name, poff, "page of %d values exceeds the %lld rows left",
			                          nv, (long long)(nrows - c->row));
		floe_arena_reset(c->page_arena);
		c->defs = NULL;
		c->pg_nvalid = (size_t)nv;
		const uint8_t *vsrc;
		size_t vn;
		int enc;
		bool own; /* values live in a buffer of ours (SLACK bytes after) */
		if (h.type == PQ_DATA_PAGE) {
			const uint8_t *data;
			size_t un = (size_t)h.uncompressed_page_size;
			rc = decompress(s, c, &data, cm->codec, pb, pn, un, err);
			if (rc < 0)
				return floe_error_locate(err, r->name, poff);
			size_t p = 0;
			if (lf->max_def > 0) {
				if (h.data.definition_level_encoding == PQ_RLE) {
					if (un < 4 || floe_load_u32le(data) > un - 4)
						return floe_error_corrupt(err, r->name, poff, "definition levels run past the page");
					uint32_t dl = floe_load_u32le(data);
					rc = decode_levels(s, c, PQ_RLE, data + 4, dl, (size_t)nv, err);
					p = 4 + (size_t)dl;
				} else {
					size_t bytes = ((size_t)nv + 7) / 8;
					if (bytes > un)
						return floe_error_corrupt(err, r->name, poff, "definition levels run past the page");
					rc = decode_levels(s, c, h.data.definition_level_encoding, data, bytes, (size_t)nv, err);
					p = bytes;
				}
				if (rc < 0)
					return floe_error_locate(err, r->name, poff);
			}
			vsrc = data + p;
			vn = un - p;
			enc = h.data.encoding;
			own = !c->mem || cm->codec != FLOE_PARQUET_UNCOMPRESSED;
		} else {
			const pq_data_page_header_v2 *v2 = &h.data_v2;
			int32_t rl = v2->repetition_levels_byte_length, dl = v2->definition_levels_byte_length;
			if (rl < 0 || dl < 0 || (size_t)rl + (size_t)dl > pn ||
			    (size_t)rl + (size_t)dl > (size_t)h.uncompressed_page_size)
				return floe_error_corrupt(err, r->name, poff, "level lengths exceed the page");
			if (v2->num_rows != nv)
				return floe_error_corrupt(err, r->name, poff, "flat column page with %d rows and %d values",
				                          v2->num_rows, nv);
			if (lf->max_def > 0) {
				rc = decode_levels(s, c, PQ_RLE, pb + rl, (size_t)dl, (size_t)nv, err);
				if (rc < 0)
					return floe_error_locate(err, r->name, poff);
			} else if (dl != 0) {
				return floe_error_corrupt(err, r->name, poff, "definition levels in a required column");
			}
			size_t lv = (size_t)rl + (size_t)dl;
			size_t un = (size_t)h.uncompressed_page_size - lv;
			const uint8_t *data;
			bool comp = v2->is_compressed && cm->codec != FLOE_PARQUET_UNCOMPRESSED && pn - lv > 0;
			rc = decompress(s, c, &data, comp ? cm->codec : FLOE_PARQUET_UNCOMPRESSED, pb + lv, pn - lv, un, err);
			if (rc < 0)
				return floe_error_locate(err, r->name, poff);
			vsrc = data;
			vn = un;
			enc = v2->encoding;
			own = !c->mem || comp;
		}
		size_t count = c->pg_nvalid;
		c->vfix = NULL;
		c->vbytes = NULL;
		c->vidx = NULL;
		c->slack = false;
		if (enc == PQ_PLAIN_DICTIONARY || enc == PQ_RLE_DICTIONARY) {
			if (!c->has_dict)
				rc = floe_error_set(err, FLOE_ECORRUPT, "dictionary-encoded page without a dictionary page");
			else if (count > 0 && vn < 1)
				rc = floe_error_set(err, FLOE_ECORRUPT, "dictionary page data without bit width");
			else if (count > 0)
				rc = sbuf_need(s, &c->idxbuf, count * sizeof(uint32_t), err);
			if (rc == 0 && count > 0) {
				uint32_t *idx = (uint32_t *)(void *)c->idxbuf.p;
				rc = pq_rle_decode(idx, count, vsrc + 1, vn - 1, vsrc[0], err);
				uint32_t mx = 0;
				for (size_t i = 0; rc == 0 && i < count; i++)
					mx = idx[i] > mx ? idx[i] : mx;
				if (rc == 0 && mx >= c->dict_n)
					rc = floe_error_set(err, FLOE_ECORRUPT, "dictionary index %u out of range (%zu entries)",
					                    mx, c->dict_n);
				c->vidx = idx;
			}
			c->slack = true;
		} else {
			raw_vals rv;
			rc = decode_values(s, c, &rv, &c->rawbuf, enc, vsrc, vn, count, err);
			if (rc == 0)
				rc = convert_vals(s, c, &c->vfix, &c->vbytes, &c->valbuf, &rv, err);
			c->slack = own && (enc == PQ_PLAIN || enc == PQ_DELTA_LENGTH_BYTE_ARRAY);
		}
		if (rc < 0)
			return floe_error_locate(err, r->name, poff);
		c->pg_rows = nv;
		c->pg_pos = 0;
		c->pg_vpos = 0;
		/* values in buffers of ours (or a file in memory) outlive the
		 * window: the page can serve a restarted scan */
		c->dec_valid = c->mem || cm->codec != FLOE_PARQUET_UNCOMPRESSED;
		c->dec_rg = c->rg;
		c->dec_off = poff;
		c->dec_rows = nv;
		return 0;
	}
}

/* Start the cursor of column `c` on its chunk in row group `rg`. */
static int open_chunk(floe_parquet_scan *s, scan_col *c, const pq_row_group *rg, floe_error *err)
{
	floe_parquet_reader *r = s->r;
	const pq_leaf *lf = c->lf;
	const pq_column_chunk *cc = &rg->columns[lf->chunk];
	const pq_column_meta *cm = &cc->meta;

	if (cc->encrypted)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: encrypted column chunk", r->name);
	if (cc->file_path.ptr)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: column chunk in another file (file_path)", r->name);
	if (!cc->has_meta)
		return floe_error_corrupt(err, r->name, r->footer_offset, "column chunk without metadata");
	if (cm->type != lf->phys)
		return floe_error_corrupt(err, r->name, r->footer_offset, "column chunk type %d differs from the schema's %d",
		                          cm->type, lf->phys);
	if (cm->codec == FLOE_PARQUET_LZO)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: LZO compression is not supported", r->name);
	int64_t start = pq_chunk_start(cm);
	int64_t len = cm->total_compressed_size;
	if (start < 4 || len < 0 || (uint64_t)start > r->footer_offset ||
	    (uint64_t)len > r->footer_offset - (uint64_t)start)
		return floe_error_corrupt(err, r->name, (uint64_t)(start < 0 ? 0 : start),
		                          "column chunk range [%lld, +%lld) outside the data before the footer at %llu",
		                          (long long)start, (long long)len, (unsigned long long)r->footer_offset);
	if (cm->num_values != rg->num_rows)
		return floe_error_corrupt(err, r->name, (uint64_t)start,
		                          "column chunk has %lld values for %lld rows", (long long)cm->num_values,
		                          (long long)rg->num_rows);
	/* after a restart, the window may still hold bytes of this chunk */
	bool same_chunk = c->cm == cm && c->rg == s->rg - 1;
	c->cm = cm;
	c->start = (uint64_t)start;
	c->len = (size_t)len;
	c->pos = 0;
	c->row = 0;
	c->nrows = rg->num_rows;
	c->mem = r->mem ? r->mem + start : NULL;
	if (r->mem)
		s->stats.bytes_read += len;
	if (!same_chunk) {
		c->win_off = 0;
		c->win_len = 0;
	}
	c->dec_valid = c->dec_valid && c->dec_rg == s->rg - 1;
	if (!(c->has_dict && c->dict_rg == s->rg - 1)) {
		c->has_dict = false;
		c->dict_n = 0;
	}
	c->dict_seen = false;
	c->rg = s->rg - 1;
	c->pg_rows = c->pg_pos = 0;
	c->dpage = 0;
	memset(&c->pi, 0, sizeof(c->pi));
	if (!c->page_arena) {
		c->page_arena = floe_arena_new(0);
		if (!c->page_arena)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	if (s->rowsel)
		return read_index(s, cc, &c->pi, false, err);
	return 0;
}

/* Pass over `n` rows of the column. */
static int col_skip(floe_parquet_scan *s, scan_col *c, int64_t n, floe_error *err)
{
	while (n > 0) {
		if (c->pg_pos == c->pg_rows) {
			int64_t skipped;
			int rc = next_page(s, c, n, &skipped, err);
			if (rc < 0)
				return rc;
			n -= skipped;
			continue;
		}
		int64_t m = c->pg_rows - c->pg_pos;
		if (m > n)
			m = n;
		if (m == c->pg_rows - c->pg_pos) {
			c->pg_vpos = c->pg_nvalid; /* the rest of the page */
		} else if (c->defs) {
			size_t v = 0;
			const uint32_t *d = c->defs + c->pg_pos;
			for (int64_t i = 0; i < m; i++)
				v += d[i] == (uint32_t)c->lf->max_def;
			c->pg_vpos += v;
		} else {
			c->pg_vpos += (size_t)m;
		}
		c->pg_pos += m;
		c->row += m;
		n -= m;
	}
	return 0;
}

/* ---- row filtering (filter_rows) --------------------------------------- */

/* Does non-null value v pass every predicate on column c? */
static bool col_value_ok(const floe_parquet_scan *s, const scan_col *c, int kind, const sval *v)
{
	for (int i = 0; i < s->npreds; i++)
		if (s->preds[i].leaf == c->leaf && !value_may_match(&s->preds[i].p, kind, v))
			return false;
	return true;
}

/* The comparisons on an integer column as one interval [*lo, *hi]; false
 * when one of its predicates is not a single comparison (IN, IS NULL). */
static bool int_interval(const floe_parquet_scan *s, const scan_col *c, int64_t *lo, int64_t *hi)
{
	*lo = INT64_MIN;
	*hi = INT64_MAX;
	for (int i = 0; i < s->npreds; i++) {
		const floe_parquet_predicate *p = &s->preds[i].p;
		if (s->preds[i].leaf != c->leaf)
			continue;
		if (p->op == FLOE_PARQUET_IN || p->op == FLOE_PARQUET_IS_NULL)
			return false;
		sval l;
		lit_value(&l, &p->values[0], K_INT);
		int64_t a = INT64_MIN, b = INT64_MAX;
		switch (p->op) {
		case FLOE_PARQUET_EQ: a = b = l.i; break;
		case FLOE_PARQUET_LE: b = l.i; break;
		case FLOE_PARQUET_GE: a = l.i; break;
		case FLOE_PARQUET_LT:
			if (l.i == INT64_MIN)
				a = 1, b = 0; /* empty */
			else
				b = l.i - 1;
			break;
		case FLOE_PARQUET_GT:
			if (l.i == INT64_MAX)
				a = 1, b = 0;
			else
				a = l.i + 1;
			break;
		default:
			return false;
		}
		*lo = a > *lo ? a : *lo;
		*hi = b < *hi ? b : *hi;
	}
	return true;
}

/* Whether each dictionary entry passes the column's predicates, once per
 * dictionary and predicate set. */
static int dict_match(floe_parquet_scan *s, scan_col *c, int kind, floe_error *err)
{
	int rc = sbuf_need(s, &c->dmatch, c->dict_n + 1, err);
	if (rc < 0)
		return rc;
	for (size_t e = 0; e < c->dict_n; e++) {
		sval v;
		memset(&v, 0, sizeof v);
		bool nan = false;
		if (kind == K_BYTES) {
			const pq_bytes *b = (const pq_bytes *)(void *)c->dictvals.p + e;
			v.p = b->ptr;
			v.n = b->len;
		} else {
			nan = !storage_value(&v, c->lf, kind, c->dictvals.p + e * (size_t)c->owidth);
		}
		c->dmatch.p[e] = nan || col_value_ok(s, c, kind, &v);
	}
	c->dmatch_ok = true;
	return 0;
}

/* Clear sel[i] for each of the next m rows of the current page (which holds
 * them) that fails a predicate on column c; the cursor does not move. */
static int col_match(floe_parquet_scan *s, scan_col *c, int64_t m, uint8_t *sel, floe_error *err)
{
	int kind = value_kind(c->lf);
	const uint32_t *defs = c->defs ? c->defs + c->pg_pos : NULL;
	uint32_t maxd = (uint32_t)c->lf->max_def;
	size_t v = c->pg_vpos;
	int64_t lo, hi;
	if (!c->vidx && kind == K_INT && c->owidth == 8 && int_interval(s, c, &lo, &hi)) {
		for (int64_t i = 0; i < m; i++) {
			if (defs && defs[i] != maxd) {
				sel[i] = 0;
				continue;
			}
			if (v >= c->pg_nvalid)
				return floe_error_set(err, FLOE_ECORRUPT, "%s: fewer values than definition levels say",
				                      s->r->name);
			int64_t x;
			memcpy(&x, c->vfix + v * 8, 8);
			v++;
			sel[i] &= (uint8_t)(x >= lo && x <= hi);
		}
		return 0;
	}
	if (c->vidx && !c->dmatch_ok) {
		int rc = dict_match(s, c, kind, err);
		if (rc < 0)
			return rc;
	}
	for (int64_t i = 0; i < m; i++) {
		if (defs && defs[i] != maxd) {
			sel[i] &= (uint8_t)c->null_ok;
			continue;
		}
		if (v >= c->pg_nvalid)
			return floe_error_set(err, FLOE_ECORRUPT, "%s: fewer values than definition levels say",
			                      s->r->name);
		if (!sel[i]) {
			v++;
			continue;
		}
		if (c->vidx) {
			sel[i] = c->dmatch.p[c->vidx[v++]];
			continue;
		}
		sval x;
		memset(&x, 0, sizeof x);
		if (kind == K_BYTES) {
			x.p = c->vbytes[v].ptr;
			x.n = c->vbytes[v].len;
		} else if (!storage_value(&x, c->lf, kind, c->vfix + v * (size_t)c->owidth)) {
			v++;
			continue; /* NaN: kept */
		}
		v++;
		sel[i] = col_value_ok(s, c, kind, &x);
	}
	return 0;
}

/* Filter rows [a, e) of the row group, e the first page end of a predicate
 * column after a: each predicate column is moved to row a with its page
 * decoded, and rowsel keeps the rows that pass them all. */
static int eval_segment(floe_parquet_scan *s, int64_t a, floe_error *err)
{
	int64_t e = s->rg_rows;
	for (int i = 0; i < s->ncols; i++) {
		scan_col *c = &s->cols[i];
		if (!c->npreds || c->proved)
			continue;
		int rc = col_skip(s, c, a - c->row, err);
		while (rc == 0 && c->pg_pos == c->pg_rows) {
			int64_t skipped;
			rc = next_page(s, c, 0, &skipped, err);
		}
		if (rc < 0)
			return rc;
		int64_t pe = c->row + (c->pg_rows - c->pg_pos);
		e = pe < e ? pe : e;
	}
	int64_t before = 0, after = 0;
	for (int64_t r = a; r < e; r++)
		before += s->rowsel[r];
	for (int i = 0; i < s->ncols; i++) {
		scan_col *c = &s->cols[i];
		if (c->npreds && !c->proved) {
			int rc = col_match(s, c, e - a, s->rowsel + a, err);
			if (rc < 0)
				return rc;
		}
	}
	for (int64_t r = a; r < e; r++)
		after += s->rowsel[r];
	s->stats.rows_filtered += before - after;
	s->eval_end = e;
	return 0;
}

/* Gather fixed-width dictionary entries. */
static void gather_fixed(uint8_t *dst, const uint8_t *dict, const uint32_t *idx, int64_t n, int w)
{
	if (w == 8) {
		for (int64_t i = 0; i < n; i++)
			memcpy(dst + i * 8, dict + (size_t)idx[i] * 8, 8);
	} else if (w == 4) {
		for (int64_t i = 0; i < n; i++)
			memcpy(dst + i * 4, dict + (size_t)idx[i] * 4, 4);
	} else {
		for (int64_t i = 0; i < n; i++)
			memcpy(dst + i * w, dict + (size_t)idx[i] * (size_t)w, (size_t)w);
	}
}

/* Append m rows of the current page to output rows [k, k+m). */
static int fill(floe_parquet_scan *s, scan_col *c, int64_t k, int64_t m, floe_error *err)
{
	const uint32_t *defs = c->defs ? c->defs + c->pg_pos : NULL;
	uint32_t maxd = (uint32_t)c->lf->max_def;
	size_t v0 = c->pg_vpos, nv = (size_t)m;
	int64_t nulls = 0;
	if (defs) {
		uint8_t *bits = c->out_valid.p;
		nv = 0;
		for (int64_t i = 0; i < m; i++) {
			bool ok = defs[i] == maxd;
			nv += ok;
			bits[(k + i) >> 3] |= (uint8_t)((unsigned)ok << ((k + i) & 7));
		}
		nulls = m - (int64_t)nv;
		c->null_count += nulls;
	} else if (c->lf->max_def > 0) {
		uint8_t *bits = c->out_valid.p;
		for (int64_t i = 0; i < m; i++)
			bits[(k + i) >> 3] |= (uint8_t)(1u << ((k + i) & 7));
	}
	if (nv > c->pg_nvalid - v0)
		return floe_error_set(err, FLOE_ECORRUPT, "%s: fewer values than definition levels say", s->r->name);
	if (c->owidth) {
		size_t w = (size_t)c->owidth;
		uint8_t *dst = c->out_vals.p + (size_t)k * w;
		if (!defs) {
			if (c->vidx)
				gather_fixed(dst, c->dictvals.p, c->vidx + v0, m, c->owidth);
			else
				memcpy(dst, c->vfix + v0 * w, (size_t)m * w);
		} else {
			size_t v = v0;
			for (int64_t i = 0; i < m; i++) {
				if (defs[i] == maxd) {
					const uint8_t *src = c->vidx ? c->dictvals.p + (size_t)c->vidx[v] * w : c->vfix + v * w;
					memcpy(dst + (size_t)i * w, src, w);
					v++;
				} else {
					memset(dst + (size_t)i * w, 0, w);
				}
			}
		}
	} else {
		/* offsets in a tight loop, then one pass of copies */
		const pq_bytes *dict = (const pq_bytes *)(void *)c->dictvals.p;
		const uint32_t *idx = c->vidx ? c->vidx + v0 : NULL;
		const pq_bytes *vb = c->vbytes ? c->vbytes + v0 : NULL;
		int64_t *off = (int64_t *)(void *)c->out_offs.p + k;
		uint64_t total = (uint64_t)off[0];
		uint32_t mx = 0;
		if (!defs) {
			if (idx) {
				for (int64_t i = 0; i < m; i++) {
					total += dict[idx[i]].len;
					off[i + 1] = (int64_t)total;
				}
				mx = c->dict_maxlen;
			} else {
				for (int64_t i = 0; i < m; i++) {
					uint32_t l = vb[i].len;
					mx = l > mx ? l : mx;
					total += l;
					off[i + 1] = (int64_t)total;
				}
			}
		} else {
			size_t v = 0;
			for (int64_t i = 0; i < m; i++) {
				if (defs[i] == maxd) {
					uint32_t l = idx ? dict[idx[v]].len : vb[v].len;
					mx = l > mx ? l : mx;
					total += l;
					v++;
				}
				off[i + 1] = (int64_t)total;
			}
		}
		if (total > (uint64_t)INT64_MAX / 2)
			return floe_error_set(err, FLOE_ENOMEM, "batch too large");
		int rc = sbuf_need(s, &c->out_data, (size_t)total + SLACK, err);
		if (rc < 0)
			return rc;
		uint8_t *data = c->out_data.p;
		bool wide = !(c->slack && mx <= SLACK);
		size_t v = 0;
		for (int64_t i = 0; i < m; i++) {
			if (defs && defs[i] != maxd)
				continue;
			const pq_bytes *b = idx ? &dict[idx[v]] : &vb[v];
			v++;
			if (!wide)
				memcpy(data + off[i], b->ptr, SLACK);
			else if (b->len)
				memcpy(data + off[i], b->ptr, b->len);
		}
	}
	c->pg_vpos += nv;
	c->pg_pos += m;
	c->row += m;
	return 0;
}

/* Read `n` rows of the column into output rows [k, k+n). */
static int col_read(floe_parquet_scan *s, scan_col *c, int64_t k, int64_t n, floe_error *err)
{
	while (n > 0) {
		if (c->pg_pos == c->pg_rows) {
			int64_t skipped;
			int rc = next_page(s, c, 0, &skipped, err);
			if (rc < 0)
				return rc;
			continue;
		}
		int64_t m = c->pg_rows - c->pg_pos;
		if (m > n)
			m = n;
		int rc = fill(s, c, k, m, err);
		if (rc < 0)
			return rc;
		k += m;
		n -= m;
	}
	return 0;
}

/* ---- batches ----------------------------------------------------------- */

/* Size the output buffers of every column for `n` rows. */
static int batch_begin(floe_parquet_scan *s, int64_t n, floe_error *err)
{
	for (int i = 0; i < s->ncols; i++) {
		scan_col *c = &s->cols[i];
		int rc = 0;
		c->null_count = 0;
		if (c->owidth)
			rc = sbuf_need(s, &c->out_vals, (size_t)n * (size_t)c->owidth + 1, err);
		else {
			rc = sbuf_need(s, &c->out_offs, ((size_t)n + 1) * sizeof(int64_t), err);
			if (rc == 0)
				rc = sbuf_need(s, &c->out_data, SLACK, err);
			if (rc == 0)
				((int64_t *)(void *)c->out_offs.p)[0] = 0;
		}
		if (rc == 0 && c->lf->max_def > 0) {
			rc = sbuf_need(s, &c->out_valid, (size_t)(n + 7) / 8 + 1, err);
			if (rc == 0)
				memset(c->out_valid.p, 0, (size_t)(n + 7) / 8 + 1);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void batch_end(floe_parquet_scan *s, int64_t n)
{
	for (int i = 0; i < s->ncols; i++) {
		scan_col *c = &s->cols[i];
		floe_column *o = &s->out[i];
		memset(o, 0, sizeof(*o));
		o->type = c->lf->type;
		o->null_count = c->null_count;
		o->validity = c->null_count ? c->out_valid.p : NULL;
		if (c->owidth)
			o->values = c->out_vals.p;
		else {
			o->offsets = (int64_t *)(void *)c->out_offs.p;
			o->data = c->out_data.p;
		}
	}
	s->batch.nrows = n;
	s->batch.ncols = s->ncols;
	s->batch.cols = s->out;
	s->stats.rows_returned += n;
}

/* Start row group s->rg - 1: row selection, column cursors. */
static int open_rg(floe_parquet_scan *s, const pq_row_group *rg, floe_error *err)
{
	floe_arena_reset(s->rg_arena);
	int rc = s->npreds ? select_rows(s, rg, err) : 0;
	s->rg_filter = false;
	for (int i = 0; s->filtering && i < s->ncols; i++) {
		scan_col *c = &s->cols[i];
		c->proved = c->npreds && rg_proves(s, c, rg);
		s->rg_filter = s->rg_filter || (c->npreds && !c->proved);
	}
	if (rc == 0 && s->rg_filter && !s->rowsel) {
		s->rowsel = floe_arena_alloc(s->rg_arena, (size_t)rg->num_rows + 1);
		if (!s->rowsel)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		memset(s->rowsel, 1, (size_t)rg->num_rows + 1);
	}
	s->eval_end = 0;
	for (int i = 0; rc == 0 && i < s->ncols; i++)
		rc = open_chunk(s, &s->cols[i], rg, err);
	if (rc < 0)
		return rc;
	s->rg_rows = rg->num_rows;
	s->rg_pos = 0;
	s->loaded = true;
	return 0;
}

int floe_parquet_scan_next(floe_parquet_scan *s, const floe_batch **out, floe_error *err)
{
	const pq_file_meta *m = &s->r->meta;
	int rc;
	*out = NULL;
	for (;;) {
		if (s->loaded && s->rg_pos < s->rg_rows) {
			int64_t want = s->rg_rows - s->rg_pos, k = 0;
			if (want > s->batch_rows)
				want = s->batch_rows;
			rc = batch_begin(s, want, err);
			if (rc < 0)
				return rc;
			while (k < want && s->rg_pos < s->rg_rows) {
				/* next run [a, b) of selected rows */
				int64_t a = s->rg_pos, b;
				if (s->rowsel)
					while (a < s->rg_rows && !s->rowsel[a])
						a++;
				if (s->rg_filter && a < s->rg_rows && a >= s->eval_end) {
					/* compare the predicate columns first */
					rc = eval_segment(s, a, err);
					if (rc < 0)
						return rc;
					s->rg_pos = a;
					continue;
				}
				b = a;
				if (s->rowsel)
					while (b < s->rg_rows && b - a < want - k && s->rowsel[b] &&
					       (!s->rg_filter || b < s->eval_end))
						b++;
				else
					b = a + (want - k < s->rg_rows - a ? want - k : s->rg_rows - a);
				for (int i = 0; i < s->ncols; i++) {
					scan_col *c = &s->cols[i];
					/* once no row is selected, walk the pages to the end of
					 * the chunk (page index skips them unread) */
					int64_t to = a < s->rg_rows ? a : s->rg_rows;
					rc = col_skip(s, c, to - c->row, err);
					if (rc == 0)
						rc = col_read(s, c, k, b - a, err);
					if (rc < 0)
						return rc;
				}
				k += b - a;
				s->rg_pos = b;
			}
			if (k > 0) {
				batch_end(s, k);
				*out = &s->batch;
				return 1;
			}
			continue;
		}
		s->loaded = false;
		if ((uint32_t)s->rg >= m->num_row_groups)
			return 0;
		const pq_row_group *rg = &m->row_groups[s->rg++];
		if (rg->num_rows == 0)
			continue;
		if (s->npreds && rg_excluded(s, rg)) {
			s->stats.row_groups_skipped++;
			continue;
		}
		if (rg->num_rows > INT32_MAX)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: row group %d has %lld rows (limit 2^31)",
			                      s->r->name, s->rg - 1, (long long)rg->num_rows);
		rc = open_rg(s, rg, err);
		if (rc < 0)
			return rc;
	}
}
