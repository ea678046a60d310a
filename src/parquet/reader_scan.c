/* parquet/reader_scan.c - scans: projection, row-group skipping from column
 * chunk statistics, page decoding (v1/v2, every value encoding) into
 * floe_batch output of at most batch_rows rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "floe/parquet.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/meta.h"
#include "parquet/reader_int.h"

/* A projected column's decoded values for the current row group. */
typedef struct scan_col {
	int leaf;
	const pq_leaf *lf;
	int owidth;          /* floe storage bytes per value; 0 = variable */
	uint8_t *valid;      /* one byte per row */
	uint8_t *vals;       /* owidth * rows */
	pq_bytes *bvals;     /* rows (variable width) */
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
	int npreds;
	int64_t batch_rows;
	bool verify_crc;
	floe_parquet_scan_stats stats;
	int rg;              /* next row group to load */
	int64_t rg_rows, rg_pos;
	bool loaded;
	uint8_t *rowsel;     /* per row of the row group: 1 = selected; NULL = all */
	int64_t *sel;        /* selected row numbers when rowsel is set */
	floe_arena *rg_arena;
	floe_arena *batch_arena;
	floe_batch batch;
};

void floe_parquet_scan_options_init(floe_parquet_scan_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->batch_rows = 65536;
	opts->verify_crc = true;
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
	s->rg_arena = floe_arena_new(0);
	s->batch_arena = floe_arena_new(0);
	int n = opts->columns ? opts->ncolumns : opts->field_ids ? opts->nfield_ids : r->nleaves;
	if (n < 0 || opts->npredicates < 0) {
		rc = floe_error_set(err, FLOE_EINVALID, "negative column or predicate count");
		goto done;
	}
	s->cols = calloc((size_t)n + 1, sizeof(scan_col));
	s->fields = calloc((size_t)n + 1, sizeof(floe_field));
	s->preds = calloc((size_t)opts->npredicates + 1, sizeof(scan_pred));
	if (!s->rg_arena || !s->batch_arena || !s->cols || !s->fields || !s->preds) {
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
	for (int i = 0; i < opts->npredicates; i++) {
		const floe_parquet_predicate *p = &opts->predicates[i];
		int li = resolve(r, p->column, p->field_id, err);
		if (li < 0) {
			rc = li;
			goto done;
		}
		if (p->op < FLOE_PARQUET_EQ || p->op > FLOE_PARQUET_IS_NULL ||
		    (p->op != FLOE_PARQUET_IS_NULL && (!p->values || p->nvalues < 1)) ||
		    (p->op != FLOE_PARQUET_IN && p->op != FLOE_PARQUET_IS_NULL && p->nvalues != 1)) {
			rc = floe_error_set(err, FLOE_EINVALID, "predicate %d: bad operator or values", i);
			goto done;
		}
		s->preds[i].leaf = li;
		s->preds[i].p = *p;
	}
	s->npreds = opts->npredicates;
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
	floe_arena_free(s->rg_arena);
	floe_arena_free(s->batch_arena);
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
	switch (kind) {
	case K_INT: {
		int w = floe_type_value_width(&lf->type);
		if (w == 1)
			out->i = tmp[0];
		else if (w == 4) {
			int32_t v;
			memcpy(&v, tmp, 4);
			out->i = v;
		} else
			memcpy(&out->i, tmp, 8);
		return true;
	}
	case K_DBL:
		if (lf->type.id == FLOE_TYPE_FLOAT) {
			float f;
			memcpy(&f, tmp, 4);
			out->d = f;
		} else
			memcpy(&out->d, tmp, 8);
		return !isnan(out->d);
	case K_BYTES:
		out->p = bo.ptr;
		out->n = bo.len;
		return true;
	}
	return false;
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
	if (kind == K_NONE)
		return false;
	sval mn, mx;
	pq_bytes bmin = st->min_value, bmax = st->max_value;
	if (!bmin.ptr || !bmax.ptr) {
		if (!signed_ok || kind == K_BYTES)
			return false; /* deprecated min/max: signed order only */
		bmin = st->min;
		bmax = st->max;
	}
	if (!stat_value(&mn, lf, kind, bmin) || !stat_value(&mx, lf, kind, bmax))
		return false;
	for (int k = 0; k < (p->op == FLOE_PARQUET_IN ? p->nvalues : 1); k++) {
		sval v;
		lit_value(&v, &p->values[k], kind);
		if (kind == K_DBL && isnan(v.d))
			return false;
		bool excl;
		switch (p->op) {
		case FLOE_PARQUET_EQ: case FLOE_PARQUET_IN:
			excl = cmp(kind, &v, &mn) < 0 || cmp(kind, &v, &mx) > 0; break;
		case FLOE_PARQUET_LT: excl = cmp(kind, &mn, &v) >= 0; break;
		case FLOE_PARQUET_LE: excl = cmp(kind, &mn, &v) > 0; break;
		case FLOE_PARQUET_GT: excl = cmp(kind, &mx, &v) <= 0; break;
		case FLOE_PARQUET_GE: excl = cmp(kind, &mx, &v) < 0; break;
		default: excl = false; break;
		}
		if (!excl)
			return false;
	}
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

typedef struct page_index {
	pq_offset_index oi;
	pq_column_index ci;
	bool has_oi, has_ci;
} page_index;

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

/* ---- page decoding ----------------------------------------------------- */

typedef struct raw_vals {
	size_t n;
	uint8_t *fixed;   /* pwidth * n */
	pq_bytes *bytes;  /* n, for BYTE_ARRAY / FLBA */
} raw_vals;

typedef struct chunk_ctx {
	floe_parquet_scan *s;
	const pq_leaf *lf;
	const char *file;
	raw_vals dict;
	bool has_dict;
} chunk_ctx;

/* Decode `count` values of encoding `enc` from src[0..n) into *out. */
static int decode_values(chunk_ctx *c, raw_vals *out, int enc, const uint8_t *src, size_t n,
                         size_t count, floe_error *err)
{
	const pq_leaf *lf = c->lf;
	floe_arena *a = c->s->rg_arena;
	size_t used;
	int pw = lf->pwidth;
	bool flba = lf->phys == PQ_FIXED_LEN_BYTE_ARRAY;
	size_t fw = flba ? (size_t)lf->type_length : (size_t)pw;

	out->n = count;
	out->fixed = NULL;
	out->bytes = NULL;
	if (pw > 0) {
		out->fixed = floe_arena_calloc(a, count ? count : 1, (size_t)pw);
		if (!out->fixed)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	} else {
		out->bytes = floe_arena_calloc(a, count ? count : 1, sizeof(pq_bytes));
		if (!out->bytes)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	switch (enc) {
	case PQ_PLAIN:
		if (lf->phys == PQ_BOOLEAN)
			return pq_plain_decode_bool(out->fixed, count, src, n, &used, err);
		if (lf->phys == PQ_BYTE_ARRAY)
			return pq_plain_decode_byte_array(out->bytes, count, src, n, &used, err);
		if (flba) {
			size_t need;
			if (floe_mul_overflow(count, fw, &need) || need > n)
				return floe_error_set(err, FLOE_ECORRUPT, "PLAIN fixed values run past the page");
			for (size_t i = 0; i < count; i++) {
				out->bytes[i].ptr = src + i * fw;
				out->bytes[i].len = (uint32_t)fw;
			}
			return 0;
		}
		return pq_plain_decode_fixed(out->fixed, count, (size_t)pw, src, n, &used, err);
	case PQ_PLAIN_DICTIONARY:
	case PQ_RLE_DICTIONARY: {
		if (!c->has_dict)
			return floe_error_set(err, FLOE_ECORRUPT, "dictionary-encoded page without a dictionary page");
		if (count == 0)
			return 0;
		if (n < 1)
			return floe_error_set(err, FLOE_ECORRUPT, "dictionary page data without bit width");
		uint32_t *idx = floe_arena_calloc(a, count, sizeof(uint32_t));
		if (!idx)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		int rc = pq_rle_decode(idx, count, src + 1, n - 1, src[0], err);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < count; i++) {
			if (idx[i] >= c->dict.n)
				return floe_error_set(err, FLOE_ECORRUPT, "dictionary index %u out of range (%zu entries)",
				                      idx[i], c->dict.n);
			if (pw > 0)
				memcpy(out->fixed + i * (size_t)pw, c->dict.fixed + (size_t)idx[i] * (size_t)pw, (size_t)pw);
			else
				out->bytes[i] = c->dict.bytes[idx[i]];
		}
		return 0;
	}
	case PQ_RLE:
		if (lf->phys != PQ_BOOLEAN)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "RLE value encoding on %s", pq_type_name(lf->phys));
		{
			if (n < 4)
				return floe_error_set(err, FLOE_ECORRUPT, "RLE booleans without length");
			uint32_t len = floe_load_u32le(src);
			if (len > n - 4)
				return floe_error_set(err, FLOE_ECORRUPT, "RLE boolean length %u past the page", len);
			uint32_t *tmp = floe_arena_calloc(a, count ? count : 1, sizeof(uint32_t));
			if (!tmp)
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			int rc = pq_rle_decode(tmp, count, src + 4, len, 1, err);
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
			size_t need;
			if (floe_mul_overflow(count, fw, &need))
				return floe_error_set(err, FLOE_ECORRUPT, "size overflow");
			uint8_t *buf = floe_arena_alloc(a, need ? need : 1);
			if (!buf)
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			int rc = pq_bss_decode(buf, count, fw, src, n, err);
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

/* Place `nv` levels + values of one page at rows [row, row+nv). */
static int scatter(chunk_ctx *c, scan_col *col, int64_t row, const uint32_t *defs, size_t nv,
                   const raw_vals *rv, floe_error *err)
{
	const pq_leaf *lf = c->lf;
	size_t j = 0;
	for (size_t i = 0; i < nv; i++) {
		int64_t at = row + (int64_t)i;
		bool valid = defs == NULL || defs[i] == (uint32_t)lf->max_def;
		col->valid[at] = valid;
		if (!valid)
			continue;
		if (j >= rv->n)
			return floe_error_set(err, FLOE_ECORRUPT, "fewer values than definition levels say");
		pq_bytes b = { NULL, 0 };
		const uint8_t *p = NULL;
		if (rv->fixed)
			p = rv->fixed + j * (size_t)lf->pwidth;
		else
			b = rv->bytes[j];
		j++;
		int rc = pq_convert(lf, col->owidth ? col->vals + (size_t)at * (size_t)col->owidth : NULL,
		                    col->bvals ? &col->bvals[at] : NULL, p, b, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int decode_levels(uint32_t **out, chunk_ctx *c, int enc, const uint8_t *src, size_t n,
                         size_t count, floe_error *err)
{
	uint32_t *d = floe_arena_calloc(c->s->rg_arena, count ? count : 1, sizeof(uint32_t));
	if (!d)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	int rc;
	if (enc == PQ_BIT_PACKED)
		rc = pq_bitpacked_msb_decode(d, count, src, n, 1, err);
	else if (enc == PQ_RLE)
		rc = pq_rle_decode(d, count, src, n, 1, err);
	else
		return floe_error_set(err, FLOE_EUNSUPPORTED, "definition level encoding %d", enc);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < count; i++)
		if (d[i] > (uint32_t)c->lf->max_def)
			return floe_error_set(err, FLOE_ECORRUPT, "definition level %u above the maximum %d",
			                      d[i], c->lf->max_def);
	*out = d;
	return 0;
}

static size_t count_valid(const uint32_t *defs, size_t n, int max_def)
{
	if (!defs)
		return n;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += defs[i] == (uint32_t)max_def;
	return k;
}

static int decompress(uint8_t **out, chunk_ctx *c, int codec, const uint8_t *src, size_t n,
                      size_t expected, floe_error *err)
{
	if (codec == FLOE_PARQUET_UNCOMPRESSED) {
		if (n != expected)
			return floe_error_set(err, FLOE_ECORRUPT, "uncompressed page of %zu bytes, header says %zu",
			                      n, expected);
		*out = (uint8_t *)src;
		return 0;
	}
	uint8_t *dst = floe_arena_alloc(c->s->rg_arena, expected ? expected : 1);
	if (!dst)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory for a %zu byte page", expected);
	*out = dst;
	return pq_codec_decompress(dst, expected, codec, src, n, err);
}

/* Decode the column chunk of row group `g` for projected column `col`. */
static int load_chunk(floe_parquet_scan *s, scan_col *col, const pq_row_group *rg, floe_error *err)
{
	floe_parquet_reader *r = s->r;
	const pq_leaf *lf = col->lf;
	const pq_column_chunk *cc = &rg->columns[lf->chunk];
	const pq_column_meta *cm = &cc->meta;
	chunk_ctx c = { s, lf, r->name, { 0, NULL, NULL }, false };
	int64_t nrows = rg->num_rows;
	int rc = 0;

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
	int64_t start = cm->data_page_offset;
	if (cm->has_dictionary_page_offset && cm->dictionary_page_offset > 0 &&
	    cm->dictionary_page_offset < start)
		start = cm->dictionary_page_offset;
	int64_t len = cm->total_compressed_size;
	if (start < 4 || len < 0 || (uint64_t)start > r->footer_offset ||
	    (uint64_t)len > r->footer_offset - (uint64_t)start)
		return floe_error_corrupt(err, r->name, (uint64_t)(start < 0 ? 0 : start),
		                          "column chunk range [%lld, +%lld) outside the data before the footer at %llu",
		                          (long long)start, (long long)len, (unsigned long long)r->footer_offset);
	if (cm->num_values != nrows)
		return floe_error_corrupt(err, r->name, (uint64_t)start,
		                          "column chunk has %lld values for %lld rows", (long long)cm->num_values,
		                          (long long)nrows);
	const uint8_t *chunk;
	if (r->mem) {
		chunk = r->mem + start;
	} else {
		/* values may point into the chunk's bytes until the row group is
		 * emitted, so the bytes live in the row-group arena */
		uint8_t *buf = floe_arena_alloc(s->rg_arena, (size_t)len ? (size_t)len : 1);
		if (!buf)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory for a %lld byte column chunk", (long long)len);
		rc = pq_read_at(r, buf, (size_t)len, (uint64_t)start, err);
		if (rc < 0)
			return rc;
		chunk = buf;
	}
	s->stats.bytes_read += len;

	/* every row costs a validity byte plus its value slot while the row
	 * group is decoded; refuse sizes no sane file needs (hostile counts) */
	if ((uint64_t)nrows > (UINT64_C(1) << 34) / (uint64_t)(1 + (col->owidth ? col->owidth : 16)))
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: row group of %lld rows is too large to decode",
		                      r->name, (long long)nrows);
	col->valid = floe_arena_calloc(s->rg_arena, (size_t)nrows + 1, 1);
	if (col->owidth)
		col->vals = floe_arena_calloc(s->rg_arena, (size_t)nrows + 1, (size_t)col->owidth);
	else
		col->bvals = floe_arena_calloc(s->rg_arena, (size_t)nrows + 1, sizeof(pq_bytes));
	if (!col->valid || (!col->vals && !col->bvals))
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");

	page_index pi;
	memset(&pi, 0, sizeof(pi));
	if (s->rowsel) {
		rc = read_index(s, cc, &pi, false, err);
		if (rc < 0)
			return rc;
	}
	uint32_t dpage = 0;
	int64_t row = 0;
	size_t pos = 0;
	while (row < nrows) {
		uint64_t poff = (uint64_t)start + pos;
		pq_page_header h;
		size_t hl;
		if (pos >= (size_t)len)
			return floe_error_corrupt(err, r->name, poff, "column chunk ends after %lld of %lld rows",
			                          (long long)row, (long long)nrows);
		rc = pq_meta_decode_page_header(&h, &hl, chunk + pos, (size_t)len - pos, r->name, poff,
		                                s->rg_arena, err);
		if (rc < 0)
			return rc;
		if (h.compressed_page_size < 0 || h.uncompressed_page_size < 0 ||
		    (size_t)h.compressed_page_size > (size_t)len - pos - hl)
			return floe_error_corrupt(err, r->name, poff, "page of %d bytes runs past the column chunk",
			                          h.compressed_page_size);
		if (h.uncompressed_page_size > (1 << 30))
			return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: page at byte %llu of %d bytes (limit 1 GiB)",
			                      r->name, (unsigned long long)poff, h.uncompressed_page_size);
		const uint8_t *pb = chunk + pos + hl;
		size_t pn = (size_t)h.compressed_page_size;
		pos += hl + pn;
		if (h.type == PQ_INDEX_PAGE)
			continue;
		if (s->verify_crc && h.has_crc && (uint32_t)h.crc != pq_crc32(pb, pn))
			return floe_error_corrupt(err, r->name, poff, "page CRC mismatch");
		if (h.type == PQ_DICTIONARY_PAGE) {
			if (!h.has_dict)
				return floe_error_corrupt(err, r->name, poff, "dictionary page without its header");
			if (c.has_dict)
				return floe_error_corrupt(err, r->name, poff, "second dictionary page in a column chunk");
			if (h.dict.num_values < 0)
				return floe_error_corrupt(err, r->name, poff, "negative dictionary size");
			{
				/* PLAIN needs at least this many bits per entry */
				uint64_t bits = lf->phys == PQ_BOOLEAN ? 1
				              : lf->phys == PQ_BYTE_ARRAY ? 32
				              : lf->phys == PQ_FIXED_LEN_BYTE_ARRAY ? (uint64_t)lf->type_length * 8
				              : (uint64_t)lf->pwidth * 8;
				if ((uint64_t)h.dict.num_values * bits > (uint64_t)h.uncompressed_page_size * 8)
					return floe_error_corrupt(err, r->name, poff, "dictionary of %d entries in %d bytes",
					                          h.dict.num_values, h.uncompressed_page_size);
			}
			if (h.dict.encoding != PQ_PLAIN && h.dict.encoding != PQ_PLAIN_DICTIONARY)
				return floe_error_corrupt(err, r->name, poff, "dictionary page encoding %d", h.dict.encoding);
			uint8_t *data;
			rc = decompress(&data, &c, cm->codec, pb, pn, (size_t)h.uncompressed_page_size, err);
			if (rc == 0)
				rc = decode_values(&c, &c.dict, PQ_PLAIN, data, (size_t)h.uncompressed_page_size,
				                   (size_t)h.dict.num_values, err);
			if (rc < 0)
				return floe_error_locate(err, r->name, poff);
			c.has_dict = true;
			continue;
		}
		if (h.type != PQ_DATA_PAGE && h.type != PQ_DATA_PAGE_V2)
			return floe_error_corrupt(err, r->name, poff, "unknown page type %d", h.type);
		s->stats.pages++;
		if (pi.has_oi && dpage < pi.oi.num_pages) {
			int64_t lo, hi;
			bool any = false;
			uint32_t k = dpage++;
			if (page_rows(&pi.oi, k, nrows, &lo, &hi) && lo == row) {
				for (int64_t q = lo; q < hi && !any; q++)
					any = s->rowsel[q];
				if (!any) {
					s->stats.pages_skipped++;
					row = hi;
					continue;
				}
			}
		}
		int32_t nv = h.type == PQ_DATA_PAGE ? h.data.num_values : h.data_v2.num_values;
		if ((h.type == PQ_DATA_PAGE && !h.has_data) || (h.type == PQ_DATA_PAGE_V2 && !h.has_data_v2))
			return floe_error_corrupt(err, r->name, poff, "data page without its header");
		if (nv < 0 || nv > nrows - row)
			return floe_error_corrupt(err, r->name, poff, "page of %d values exceeds the %lld rows left",
			                          nv, (long long)(nrows - row));
		uint32_t *defs = NULL;
		const uint8_t *vsrc;
		size_t vn;
		int enc;
		if (h.type == PQ_DATA_PAGE) {
			uint8_t *data;
			size_t un = (size_t)h.uncompressed_page_size;
			rc = decompress(&data, &c, cm->codec, pb, pn, un, err);
			if (rc < 0)
				return floe_error_locate(err, r->name, poff);
			size_t p = 0;
			if (lf->max_def > 0) {
				if (h.data.definition_level_encoding == PQ_RLE) {
					if (un < 4 || floe_load_u32le(data) > un - 4)
						return floe_error_corrupt(err, r->name, poff, "definition levels run past the page");
					uint32_t dl = floe_load_u32le(data);
					rc = decode_levels(&defs, &c, PQ_RLE, data + 4, dl, (size_t)nv, err);
					p = 4 + (size_t)dl;
				} else {
					size_t bytes = ((size_t)nv + 7) / 8;
					if (bytes > un)
						return floe_error_corrupt(err, r->name, poff, "definition levels run past the page");
					rc = decode_levels(&defs, &c, h.data.definition_level_encoding, data, bytes,
					                   (size_t)nv, err);
					p = bytes;
				}
				if (rc < 0)
					return floe_error_locate(err, r->name, poff);
			}
			vsrc = data + p;
			vn = un - p;
			enc = h.data.encoding;
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
				rc = decode_levels(&defs, &c, PQ_RLE, pb + rl, (size_t)dl, (size_t)nv, err);
				if (rc < 0)
					return floe_error_locate(err, r->name, poff);
			} else if (dl != 0) {
				return floe_error_corrupt(err, r->name, poff, "definition levels in a required column");
			}
			size_t lv = (size_t)rl + (size_t)dl;
			size_t un = (size_t)h.uncompressed_page_size - lv;
			uint8_t *data;
			if (v2->is_compressed && cm->codec != FLOE_PARQUET_UNCOMPRESSED && pn - lv > 0)
				rc = decompress(&data, &c, cm->codec, pb + lv, pn - lv, un, err);
			else
				rc = decompress(&data, &c, FLOE_PARQUET_UNCOMPRESSED, pb + lv, pn - lv, un, err);
			if (rc < 0)
				return floe_error_locate(err, r->name, poff);
			vsrc = data;
			vn = un;
			enc = v2->encoding;
		}
		size_t nvalid = count_valid(defs, (size_t)nv, lf->max_def);
		raw_vals rv;
		rc = decode_values(&c, &rv, enc, vsrc, vn, nvalid, err);
		if (rc == 0)
			rc = scatter(&c, col, row, defs, (size_t)nv, &rv, err);
		if (rc < 0)
			return floe_error_locate(err, r->name, poff);
		row += nv;
	}
	return 0;
}

/* ---- batches ----------------------------------------------------------- */

static int emit(floe_parquet_scan *s, int64_t n, floe_error *err)
{
	floe_arena *a = s->batch_arena;
	floe_arena_reset(a);
	floe_column *cols = floe_arena_calloc(a, (size_t)s->ncols + 1, sizeof(floe_column));
	if (!cols)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	int64_t base = s->rg_pos;
	int64_t *rows = NULL;
	if (s->sel) {
		rows = floe_arena_alloc(a, (size_t)n * sizeof(int64_t) + 1);
		if (!rows)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		memcpy(rows, s->sel + base, (size_t)n * sizeof(int64_t));
	} else {
		rows = floe_arena_alloc(a, (size_t)n * sizeof(int64_t) + 1);
		if (!rows)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		for (int64_t k = 0; k < n; k++)
			rows[k] = base + k;
	}
	for (int i = 0; i < s->ncols; i++) {
		scan_col *sc = &s->cols[i];
		floe_column *c = &cols[i];
		c->type = sc->lf->type;
		int64_t nulls = 0;
		for (int64_t k = 0; k < n; k++)
			nulls += !sc->valid[rows[k]];
		c->null_count = nulls;
		if (nulls) {
			c->validity = floe_arena_calloc(a, (size_t)(n + 7) / 8 + 1, 1);
			if (!c->validity)
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			for (int64_t k = 0; k < n; k++)
				if (sc->valid[rows[k]])
					floe_bitmap_set(c->validity, k, true);
		}
		if (sc->owidth) {
			size_t bytes = (size_t)n * (size_t)sc->owidth;
			c->values = floe_arena_alloc(a, bytes ? bytes : 1);
			if (!c->values)
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			for (int64_t k = 0; k < n; k++)
				memcpy((uint8_t *)c->values + (size_t)k * (size_t)sc->owidth,
				       sc->vals + (size_t)rows[k] * (size_t)sc->owidth, (size_t)sc->owidth);
			continue;
		}
		c->offsets = floe_arena_alloc(a, ((size_t)n + 1) * sizeof(int64_t));
		if (!c->offsets)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		size_t total = 0;
		for (int64_t k = 0; k < n; k++) {
			c->offsets[k] = (int64_t)total;
			if (sc->valid[rows[k]] && floe_add_overflow(total, sc->bvals[rows[k]].len, &total))
				return floe_error_set(err, FLOE_ENOMEM, "batch too large");
		}
		c->offsets[n] = (int64_t)total;
		c->data = floe_arena_alloc(a, total ? total : 1);
		if (!c->data)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		for (int64_t k = 0; k < n; k++)
			if (sc->valid[rows[k]] && sc->bvals[rows[k]].len)
				memcpy(c->data + c->offsets[k], sc->bvals[rows[k]].ptr, sc->bvals[rows[k]].len);
	}
	s->batch.nrows = n;
	s->batch.ncols = s->ncols;
	s->batch.cols = cols;
	s->rg_pos += n;
	s->stats.rows_returned += n;
	return 1;
}

int floe_parquet_scan_next(floe_parquet_scan *s, const floe_batch **out, floe_error *err)
{
	const pq_file_meta *m = &s->r->meta;
	*out = NULL;
	for (;;) {
		if (s->loaded && s->rg_pos < s->rg_rows) {
			int64_t n = s->rg_rows - s->rg_pos;
			if (n > s->batch_rows)
				n = s->batch_rows;
			int rc = emit(s, n, err);
			if (rc < 0)
				return rc;
			*out = &s->batch;
			return 1;
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
		floe_arena_reset(s->rg_arena);
		s->sel = NULL;
		int rc = s->npreds ? select_rows(s, rg, err) : 0;
		if (rc < 0)
			return rc;
		int64_t nsel = rg->num_rows;
		if (s->rowsel) {
			s->sel = floe_arena_alloc(s->rg_arena, (size_t)rg->num_rows * sizeof(int64_t) + 1);
			if (!s->sel)
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			nsel = 0;
			for (int64_t q = 0; q < rg->num_rows; q++)
				if (s->rowsel[q])
					s->sel[nsel++] = q;
		}
		for (int i = 0; i < s->ncols; i++) {
			rc = load_chunk(s, &s->cols[i], rg, err);
			if (rc < 0)
				return rc;
		}
		s->rg_rows = nsel;
		s->rg_pos = 0;
		s->loaded = true;
	}
}
