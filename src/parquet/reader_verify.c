/* parquet/reader_verify.c - a full-file check: every page of every column
 * chunk, nested leaves included, has its levels and value sections checked
 * against the page headers, the chunk and the row group, and the data pages
 * against the chunk's offset index when it has one. */
#include <stdlib.h>
#include <string.h>

#include "floe/parquet.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/meta.h"
#include "parquet/reader_int.h"

#define MAX_PAGE_VALUES (1 << 28) /* levels held in memory for one page */

/* Max repetition and definition levels of one leaf (parquet-format
 * README "Nested Encoding": each REPEATED ancestor, the leaf included, adds
 * 1 to both; each OPTIONAL one adds 1 to the definition level). */
typedef struct vleaf {
	int max_rep, max_def;
	const pq_schema_element *e;
} vleaf;

typedef struct vstate {
	floe_parquet_reader *r;
	vleaf *leaves;
	int nleaves;
	floe_arena *hdr;
	void *reps, *defs, *idx;      /* per page scratch: uint32_t levels, indices */
	size_t rcap, dcap, icap;
	void *page;                   /* decompressed page */
	size_t page_cap;
	void *chunk;                  /* chunk bytes when the file is not in memory */
	size_t chunk_cap;
	int64_t pages;
	int64_t *locs;                /* per data page of a chunk: offset, size, first row */
	size_t lcap;
} vstate;

/* The chunk's offset index lists exactly its `n` data pages (locs). */
static int check_offset_index(vstate *v, const pq_column_chunk *cc, size_t n, floe_error *err)
{
	floe_parquet_reader *r = v->r;
	if (!cc->has_offset_index)
		return 0;
	if (cc->offset_index_offset < 4 || cc->offset_index_length <= 0 ||
	    (uint64_t)cc->offset_index_offset > r->footer_offset ||
	    (uint64_t)cc->offset_index_length > r->footer_offset - (uint64_t)cc->offset_index_offset)
		return floe_error_corrupt(err, r->name, r->footer_offset,
		                          "offset index at %lld (+%d) outside the data before the footer",
		                          (long long)cc->offset_index_offset, cc->offset_index_length);
	uint8_t *buf = malloc((size_t)cc->offset_index_length);
	if (!buf)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	uint64_t at = (uint64_t)cc->offset_index_offset;
	pq_offset_index oi;
	floe_arena_reset(v->hdr);
	int rc = pq_read_at(r, buf, (size_t)cc->offset_index_length, at, err);
	if (rc == 0)
		rc = pq_meta_decode_offset_index(&oi, buf, (size_t)cc->offset_index_length, r->name, at,
		                                 v->hdr, err);
	if (rc == 0 && oi.num_pages != n)
		rc = floe_error_corrupt(err, r->name, at, "offset index lists %u pages, the chunk has %zu",
		                        oi.num_pages, n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const pq_page_location *pl = &oi.pages[i];
		const int64_t *l = &v->locs[3 * i];
		if (pl->offset != l[0] || pl->compressed_page_size != l[1] || pl->first_row_index != l[2])
			rc = floe_error_corrupt(err, r->name, at,
			                        "offset index page %zu at %lld (+%d, row %lld), the page is "
			                        "at %lld (+%lld, row %lld)", i, (long long)pl->offset,
			                        pl->compressed_page_size, (long long)pl->first_row_index,
			                        (long long)l[0], (long long)l[1], (long long)l[2]);
	}
	free(buf);
	return rc;
}

static int levels_walk(vstate *v, uint32_t *idx, int *leaf, int depth, int rep, int def,
                       floe_error *err)
{
	const pq_file_meta *m = &v->r->meta;
	if (*idx >= m->num_schema || depth > PQ_MAX_DEPTH)
		return floe_error_corrupt(err, v->r->name, v->r->footer_offset, "malformed schema tree");
	const pq_schema_element *e = &m->schema[(*idx)++];
	if (e->repetition == PQ_REPEATED) {
		rep++;
		def++;
	} else if (e->repetition == PQ_OPTIONAL) {
		def++;
	}
	if (e->num_children > 0 || e->type < 0) {
		for (int32_t c = 0; c < e->num_children; c++) {
			int rc = levels_walk(v, idx, leaf, depth + 1, rep, def, err);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	if (*leaf >= v->nleaves)
		return floe_error_corrupt(err, v->r->name, v->r->footer_offset, "malformed schema tree");
	v->leaves[*leaf].max_rep = rep;
	v->leaves[*leaf].max_def = def;
	v->leaves[*leaf].e = e;
	(*leaf)++;
	return 0;
}

static int grow(void **p, size_t *cap, size_t n, floe_error *err)
{
	if (n <= *cap)
		return 0;
	void *q = realloc(*p, n);
	if (!q)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory for %zu bytes", n);
	*p = q;
	*cap = n;
	return 0;
}

/* Levels of a v1 page: RLE is [len:u32le][len bytes of RLE/bit-packed
 * hybrid]; legacy BIT_PACKED is ceil(n * width / 8) bytes, MSB first.
 * *used = bytes taken from src. */
static int levels_v1(uint32_t *out, size_t n, int enc, int max, const uint8_t *src, size_t len,
                     size_t *used, floe_error *err)
{
	int bw = pq_bit_width((uint64_t)max);
	if (enc == PQ_RLE) {
		if (len < 4 || floe_load_u32le(src) > len - 4)
			return floe_error_set(err, FLOE_ECORRUPT, "levels run past the page");
		*used = 4 + (size_t)floe_load_u32le(src);
		return pq_rle_decode(out, n, src + 4, *used - 4, bw, err);
	}
	if (enc == PQ_BIT_PACKED) {
		size_t bytes = (n * (size_t)bw + 7) / 8;
		if (bytes > len)
			return floe_error_set(err, FLOE_ECORRUPT, "levels run past the page");
		*used = bytes;
		return pq_bitpacked_msb_decode(out, n, src, bytes, bw, err);
	}
	return floe_error_set(err, FLOE_EUNSUPPORTED, "level encoding %d", enc);
}

/* Bytes per PLAIN value of a fixed-width physical type; 0 = variable. */
static size_t plain_width(const vleaf *lf)
{
	switch (lf->e->type) {
	case PQ_INT32: case PQ_FLOAT: return 4;
	case PQ_INT64: case PQ_DOUBLE: return 8;
	case PQ_INT96: return 12;
	case PQ_FIXED_LEN_BYTE_ARRAY: return lf->e->type_length > 0 ? (size_t)lf->e->type_length : 0;
	default: return 0;
	}
}

/* The value section of a data page holding `count` non-null values. */
static int check_values(vstate *v, const vleaf *lf, int enc, const uint8_t *p, size_t n, size_t count,
                        int64_t dict_n, floe_error *err)
{
	if (enc == PQ_PLAIN_DICTIONARY || enc == PQ_RLE_DICTIONARY) {
		if (dict_n < 0)
			return floe_error_set(err, FLOE_ECORRUPT, "dictionary-encoded page without a dictionary page");
		if (count == 0)
			return 0;
		/* [bit width: 1 byte][RLE/bit-packed hybrid indices] */
		if (n < 1)
			return floe_error_set(err, FLOE_ECORRUPT, "dictionary page data without bit width");
		int rc = grow(&v->idx, &v->icap, count * sizeof(uint32_t), err);
		if (rc < 0)
			return rc;
		uint32_t *idx = v->idx;
		rc = pq_rle_decode(idx, count, p + 1, n - 1, p[0], err);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < count; i++)
			if (idx[i] >= (uint64_t)dict_n)
				return floe_error_set(err, FLOE_ECORRUPT, "dictionary index %u out of range (%lld entries)",
				                      idx[i], (long long)dict_n);
		return 0;
	}
	if (enc != PQ_PLAIN)
		return 0; /* other encodings are checked by a scan of flat columns */
	size_t need;
	if (lf->e->type == PQ_BOOLEAN) {
		need = (count + 7) / 8;
	} else if (lf->e->type == PQ_BYTE_ARRAY) {
		/* [len:u32le][bytes] per value */
		size_t pos = 0;
		for (size_t i = 0; i < count; i++) {
			if (n - pos < 4 || floe_load_u32le(p + pos) > n - pos - 4)
				return floe_error_set(err, FLOE_ECORRUPT, "PLAIN value %zu of %zu runs past the page", i, count);
			pos += 4 + (size_t)floe_load_u32le(p + pos);
		}
		return 0;
	} else {
		size_t w = plain_width(lf);
		if (w == 0 || floe_mul_overflow(count, w, &need))
			return floe_error_set(err, FLOE_ECORRUPT, "bad fixed width for %zu values", count);
	}
	if (need > n)
		return floe_error_set(err, FLOE_ECORRUPT, "%zu PLAIN values need %zu bytes, page has %zu", count,
		                      need, n);
	return 0;
}

static int decompress(vstate *v, const uint8_t **out, int codec, const uint8_t *src, size_t n,
                      size_t expected, floe_error *err)
{
	if (codec == FLOE_PARQUET_UNCOMPRESSED) {
		if (n != expected)
			return floe_error_set(err, FLOE_ECORRUPT, "uncompressed page of %zu bytes, header says %zu",
			                      n, expected);
		*out = src;
		return 0;
	}
	int rc = grow(&v->page, &v->page_cap, expected ? expected : 1, err);
	if (rc < 0)
		return rc;
	*out = v->page;
	return pq_codec_decompress(v->page, expected, codec, src, n, err);
}

/* One column chunk: walk its pages. */
static int verify_chunk(vstate *v, const pq_row_group *rg, const pq_column_chunk *cc, const vleaf *lf,
                        floe_error *err)
{
	floe_parquet_reader *r = v->r;
	const pq_column_meta *cm = &cc->meta;
	if (cc->encrypted)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: encrypted column chunk", r->name);
	if (cc->file_path.ptr)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: column chunk in another file (file_path)", r->name);
	if (!cc->has_meta)
		return floe_error_corrupt(err, r->name, r->footer_offset, "column chunk without metadata");
	if (cm->type != lf->e->type)
		return floe_error_corrupt(err, r->name, r->footer_offset, "column chunk type %d differs from the schema's %d",
		                          cm->type, lf->e->type);
	if (cm->codec == FLOE_PARQUET_LZO)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: LZO compression is not supported", r->name);
	if (cm->num_values == 0 && rg->num_rows == 0)
		return 0; /* nothing to read (some writers leave its offsets at 0) */
	int64_t start = pq_chunk_start(cm);
	int64_t clen = cm->total_compressed_size;
	if (start < 4 || clen < 0 || (uint64_t)start > r->footer_offset ||
	    (uint64_t)clen > r->footer_offset - (uint64_t)start)
		return floe_error_corrupt(err, r->name, (uint64_t)(start < 0 ? 0 : start),
		                          "column chunk range [%lld, +%lld) outside the data before the footer",
		                          (long long)start, (long long)clen);
	if (cm->num_values < 0)
		return floe_error_corrupt(err, r->name, (uint64_t)start, "negative num_values");
	const uint8_t *cb;
	size_t len = (size_t)clen;
	if (r->mem) {
		cb = r->mem + start;
	} else {
		int rc = grow(&v->chunk, &v->chunk_cap, len ? len : 1, err);
		if (rc == 0)
			rc = pq_read_at(r, v->chunk, len, (uint64_t)start, err);
		if (rc < 0)
			return rc;
		cb = v->chunk;
	}
	int64_t values = 0, rows = 0, dict_n = -1;
	size_t pos = 0, ndata = 0;
	int rc;
	while (values < cm->num_values) {
		uint64_t poff = (uint64_t)start + pos;
		if (pos >= len)
			return floe_error_corrupt(err, r->name, poff, "column chunk ends after %lld of %lld values",
			                          (long long)values, (long long)cm->num_values);
		pq_page_header h;
		size_t hl = 0;
		floe_arena_reset(v->hdr);
		rc = pq_meta_decode_page_header(&h, &hl, cb + pos, len - pos, r->name, poff, v->hdr, err);
		if (rc < 0)
			return rc;
		if (h.compressed_page_size < 0 || h.uncompressed_page_size < 0 ||
		    (size_t)h.compressed_page_size > len - pos - hl)
			return floe_error_corrupt(err, r->name, poff, "page of %d bytes runs past the column chunk",
			                          h.compressed_page_size);
		const uint8_t *pb = cb + pos + hl;
		size_t pn = (size_t)h.compressed_page_size;
		pos += hl + pn;
		if (h.type == PQ_INDEX_PAGE)
			continue;
		if (h.type != PQ_DICTIONARY_PAGE && h.type != PQ_DATA_PAGE && h.type != PQ_DATA_PAGE_V2)
			return floe_error_corrupt(err, r->name, poff, "unknown page type %d", h.type);
		if (h.has_crc && (uint32_t)h.crc != pq_crc32(pb, pn))
			return floe_error_corrupt(err, r->name, poff, "page CRC mismatch");
		if (h.uncompressed_page_size > (1 << 30))
			return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: page at byte %llu of %d bytes (limit 1 GiB)",
			                      r->name, (unsigned long long)poff, h.uncompressed_page_size);
		size_t un = (size_t)h.uncompressed_page_size;
		const uint8_t *data;
		if (h.type == PQ_DICTIONARY_PAGE) {
			if (!h.has_dict)
				return floe_error_corrupt(err, r->name, poff, "dictionary page without its header");
			if (dict_n >= 0)
				return floe_error_corrupt(err, r->name, poff, "second dictionary page in a column chunk");
			if (h.dict.num_values < 0)
				return floe_error_corrupt(err, r->name, poff, "negative dictionary size");
			rc = decompress(v, &data, cm->codec, pb, pn, un, err);
			if (rc == 0)
				rc = check_values(v, lf, PQ_PLAIN, data, un, (size_t)h.dict.num_values, -1, err);
			if (rc < 0)
				return floe_error_locate(err, r->name, poff);
			dict_n = h.dict.num_values;
			continue;
		}
		v->pages++;
		if ((rc = grow((void **)&v->locs, &v->lcap, (ndata + 1) * 3 * sizeof(int64_t), err)) < 0)
			return rc;
		v->locs[3 * ndata] = (int64_t)poff;
		v->locs[3 * ndata + 1] = (int64_t)(hl + pn);
		v->locs[3 * ndata + 2] = rows;
		ndata++;
		bool v2 = h.type == PQ_DATA_PAGE_V2;
		if ((!v2 && !h.has_data) || (v2 && !h.has_data_v2))
			return floe_error_corrupt(err, r->name, poff, "data page without its header");
		int32_t nv = v2 ? h.data_v2.num_values : h.data.num_values;
		if (nv < 0 || nv > cm->num_values - values)
			return floe_error_corrupt(err, r->name, poff, "page of %d values exceeds the %lld values left in the chunk",
			                          nv, (long long)(cm->num_values - values));
		if (nv > MAX_PAGE_VALUES)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: page at byte %llu has %d values (limit %d)",
			                      r->name, (unsigned long long)poff, nv, MAX_PAGE_VALUES);
		size_t n = (size_t)nv, sz = (n ? n : 1) * sizeof(uint32_t);
		rc = grow(&v->reps, &v->rcap, sz, err);
		if (rc == 0)
			rc = grow(&v->defs, &v->dcap, sz, err);
		if (rc < 0)
			return rc;
		uint32_t *reps = v->reps, *defs = v->defs;
		const uint8_t *vals;
		size_t vn;
		int enc;
		if (!v2) {
			/* decompressed v1 page: [rep levels][def levels][values] */
			rc = decompress(v, &data, cm->codec, pb, pn, un, err);
			size_t p = 0, used = 0;
			if (rc == 0 && lf->max_rep > 0) {
				rc = levels_v1(reps, n, h.data.repetition_level_encoding, lf->max_rep, data, un, &used, err);
				p = used;
			}
			if (rc == 0 && lf->max_def > 0) {
				rc = levels_v1(defs, n, h.data.definition_level_encoding, lf->max_def, data + p, un - p,
				               &used, err);
				p += used;
			}
			if (rc < 0)
				return floe_error_locate(err, r->name, poff);
			vals = data + p;
			vn = un - p;
			enc = h.data.encoding;
		} else {
			/* v2 page: [rep levels: rl][def levels: dl] uncompressed, then values */
			const pq_data_page_header_v2 *d2 = &h.data_v2;
			int32_t rl = d2->repetition_levels_byte_length, dl = d2->definition_levels_byte_length;
			if (rl < 0 || dl < 0 || (size_t)rl + (size_t)dl > pn || (size_t)rl + (size_t)dl > un)
				return floe_error_corrupt(err, r->name, poff, "level lengths exceed the page");
			/* repetition level bytes of a non-repeated column are
			 * passed over: some writers emit them */
			if (lf->max_def == 0 && dl != 0)
				return floe_error_corrupt(err, r->name, poff, "definition levels in a required column");
			rc = 0;
			if (lf->max_rep > 0)
				rc = pq_rle_decode(reps, n, pb, (size_t)rl, pq_bit_width((uint64_t)lf->max_rep), err);
			if (rc == 0 && lf->max_def > 0)
				rc = pq_rle_decode(defs, n, pb + rl, (size_t)dl, pq_bit_width((uint64_t)lf->max_def), err);
			size_t lv = (size_t)rl + (size_t)dl;
			bool comp = d2->is_compressed && cm->codec != FLOE_PARQUET_UNCOMPRESSED && pn - lv > 0;
			if (rc == 0)
				rc = decompress(v, &vals, comp ? cm->codec : FLOE_PARQUET_UNCOMPRESSED, pb + lv, pn - lv,
				                un - lv, err);
			if (rc < 0)
				return floe_error_locate(err, r->name, poff);
			vn = un - lv;
			enc = d2->encoding;
		}
		/* levels within their maximum; a page starts a record */
		size_t nonnull = 0, prow = 0;
		for (size_t i = 0; i < n; i++) {
			uint32_t rp = lf->max_rep > 0 ? reps[i] : 0;
			uint32_t df = lf->max_def > 0 ? defs[i] : 0;
			if (rp > (uint32_t)lf->max_rep)
				return floe_error_corrupt(err, r->name, poff, "repetition level %u above the maximum %d",
				                          rp, lf->max_rep);
			if (df > (uint32_t)lf->max_def)
				return floe_error_corrupt(err, r->name, poff, "definition level %u above the maximum %d",
				                          df, lf->max_def);
			if (i == 0 && rp != 0)
				return floe_error_corrupt(err, r->name, poff,
				                          "data page starts with repetition level %u, not at a record", rp);
			prow += rp == 0;
			nonnull += df == (uint32_t)lf->max_def;
		}
		if (v2 && (int64_t)prow != h.data_v2.num_rows)
			return floe_error_corrupt(err, r->name, poff, "page header says %d rows, levels hold %zu",
			                          h.data_v2.num_rows, prow);
		rc = check_values(v, lf, enc, vals, vn, nonnull, dict_n, err);
		if (rc < 0)
			return floe_error_locate(err, r->name, poff);
		values += nv;
		rows += (int64_t)prow;
	}
	if (rows != rg->num_rows)
		return floe_error_corrupt(err, r->name, (uint64_t)start, "column chunk holds %lld rows, row group has %lld",
		                          (long long)rows, (long long)rg->num_rows);
	return check_offset_index(v, cc, ndata, err);
}

int pq_reader_verify(floe_parquet_reader *r, int64_t *pages, floe_error *err)
{
	vstate v;
	memset(&v, 0, sizeof(v));
	v.r = r;
	floe_parquet_scan *s = NULL;
	int rc = 0;
	if (pages)
		*pages = 0;
	v.nleaves = r->nchunks;
	v.leaves = calloc(r->nchunks > 0 ? (size_t)r->nchunks : 1, sizeof(vleaf));
	v.hdr = floe_arena_new(0);
	if (!v.leaves || !v.hdr) {
		rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
		goto done;
	}
	uint32_t idx = 1;
	int leaf = 0;
	for (int32_t c = 0; rc == 0 && c < r->meta.schema[0].num_children; c++)
		rc = levels_walk(&v, &idx, &leaf, 1, 0, 0, err);
	if (rc < 0)
		goto done;
	for (uint32_t g = 0; g < r->meta.num_row_groups; g++) {
		const pq_row_group *rg = &r->meta.row_groups[g];
		for (int c = 0; c < v.nleaves && (uint32_t)c < rg->num_columns; c++) {
			rc = verify_chunk(&v, rg, &rg->columns[c], &v.leaves[c], err);
			if (rc < 0)
				goto done;
		}
	}
	/* flat columns: a full decode of every value */
	if (r->nleaves > 0) {
		floe_parquet_scan_options o;
		floe_parquet_scan_options_init(&o);
		const floe_batch *b;
		rc = floe_parquet_scan_open(&s, r, &o, err);
		while (rc == 0 && (rc = floe_parquet_scan_next(s, &b, err)) == 1)
			rc = 0;
		if (rc < 0)
			goto done;
		rc = 0;
	}
	if (pages)
		*pages = v.pages;
done:
	floe_parquet_scan_free(s);
	floe_arena_free(v.hdr);
	free(v.leaves);
	free(v.reps);
	free(v.defs);
	free(v.idx);
	free(v.page);
	free(v.chunk);
	free(v.locs);
	return rc;
}

int floe_parquet_reader_verify(floe_parquet_reader *r, floe_error *err)
{
	return pq_reader_verify(r, NULL, err);
}
