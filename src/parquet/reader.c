/* parquet/reader.c - the hardened Parquet reader: footer, schema mapping
 * (legacy converted types, INT96, FLOAT16), row-group skipping and
 * batch-at-a-time decoding of flat columns into floe_batch. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "floe/parquet.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/meta.h"
#include "parquet/reader_int.h"

#define FOOTER_MAX (256u << 20) /* refuse footers larger than 256 MiB */

/* ---- type mapping ----------------------------------------------------- */

static void ftype(floe_type *t, floe_type_id id)
{
	memset(t, 0, sizeof(*t));
	t->id = id;
}

/* Map a primitive schema element to a floe type and a conversion (the
 * rules of docs/parquet-conformance.md). Returns 0, or FLOE_EUNSUPPORTED
 * with the feature named in err. */
int pq_map_type(pq_leaf *lf, const pq_schema_element *e, floe_error *err)
{
	const pq_logical_type *lt = &e->logical;
	int pt = e->type, ct = e->converted_type;
	floe_type *t = &lf->type;

	lf->conv = PQ_CONV_COPY;
	lf->phys = pt;
	lf->type_length = e->type_length;
	switch (pt) {
	case PQ_BOOLEAN: lf->pwidth = 1; break;
	case PQ_INT32: case PQ_FLOAT: lf->pwidth = 4; break;
	case PQ_INT64: case PQ_DOUBLE: lf->pwidth = 8; break;
	case PQ_INT96: lf->pwidth = 12; break;
	case PQ_BYTE_ARRAY: lf->pwidth = 0; break;
	case PQ_FIXED_LEN_BYTE_ARRAY:
		if (e->type_length <= 0)
			return floe_error_set(err, FLOE_ECORRUPT, "FIXED_LEN_BYTE_ARRAY without type_length");
		lf->pwidth = 0;
		break;
	default:
		return floe_error_set(err, FLOE_ECORRUPT, "unknown physical type %d", pt);
	}
	bool is_dec = lt->kind == PQ_LT_DECIMAL || (lt->kind == PQ_LT_NONE && ct == PQ_CT_DECIMAL);
	if (is_dec) {
		int32_t p = lt->kind == PQ_LT_DECIMAL ? lt->precision : e->precision;
		int32_t s = lt->kind == PQ_LT_DECIMAL ? lt->scale : e->scale;
		if (p <= 0 || p > 38 || s < 0 || s > p)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "DECIMAL(%d,%d) outside 1..38", p, s);
		ftype(t, FLOE_TYPE_DECIMAL);
		t->precision = p;
		t->scale = s;
		t->width = p > 18 ? 16 : 0;
		if (pt == PQ_INT32)
			lf->conv = PQ_CONV_DEC_I32;
		else if (pt == PQ_INT64)
			lf->conv = PQ_CONV_DEC_I64;
		else if (pt == PQ_BYTE_ARRAY || pt == PQ_FIXED_LEN_BYTE_ARRAY)
			lf->conv = PQ_CONV_DEC_BYTES;
		else
			return floe_error_set(err, FLOE_EUNSUPPORTED, "DECIMAL stored as %s", pq_type_name(pt));
		return 0;
	}
	int kind = lt->kind;
	if (kind == PQ_LT_NONE) {
		/* legacy converted types (LogicalTypes.md "backward compatibility") */
		switch (ct) {
		case PQ_CT_UTF8: kind = PQ_LT_STRING; break;
		case PQ_CT_ENUM: kind = PQ_LT_ENUM; break;
		case PQ_CT_JSON: kind = PQ_LT_JSON; break;
		case PQ_CT_BSON: kind = PQ_LT_BSON; break;
		case PQ_CT_DATE: kind = PQ_LT_DATE; break;
		case PQ_CT_TIME_MILLIS: case PQ_CT_TIME_MICROS:
			ftype(t, FLOE_TYPE_TIME);
			if (pt == PQ_INT32 && ct == PQ_CT_TIME_MILLIS) { lf->conv = PQ_CONV_I32_MS; return 0; }
			if (pt == PQ_INT64 && ct == PQ_CT_TIME_MICROS) return 0;
			return floe_error_set(err, FLOE_EUNSUPPORTED, "%s on %s", pq_converted_name(ct), pq_type_name(pt));
		case PQ_CT_TIMESTAMP_MILLIS: case PQ_CT_TIMESTAMP_MICROS:
			if (pt != PQ_INT64)
				return floe_error_set(err, FLOE_EUNSUPPORTED, "%s on %s", pq_converted_name(ct), pq_type_name(pt));
			ftype(t, FLOE_TYPE_TIMESTAMPTZ); /* adjusted to UTC for converted types */
			if (ct == PQ_CT_TIMESTAMP_MILLIS)
				lf->conv = PQ_CONV_I64_MS;
			return 0;
		case PQ_CT_UINT_8: case PQ_CT_UINT_16: case PQ_CT_UINT_32: case PQ_CT_UINT_64:
		case PQ_CT_INT_8: case PQ_CT_INT_16: case PQ_CT_INT_32: case PQ_CT_INT_64: {
			static const int8_t bw[] = { 8, 16, 32, 64, 8, 16, 32, 64 };
			kind = PQ_LT_INTEGER;
			lf->int_bits = bw[ct - PQ_CT_UINT_8];
			lf->int_signed = ct >= PQ_CT_INT_8;
			break;
		}
		case PQ_CT_INTERVAL:
			if (pt != PQ_FIXED_LEN_BYTE_ARRAY || e->type_length != 12)
				return floe_error_set(err, FLOE_EUNSUPPORTED, "INTERVAL not stored as fixed[12]");
			ftype(t, FLOE_TYPE_FIXED);
			t->width = 12;
			lf->conv = PQ_CONV_FIXED;
			return 0;
		case -1: break;
		default:
			return floe_error_set(err, FLOE_EUNSUPPORTED, "converted type %s", pq_converted_name(ct));
		}
	} else if (kind == PQ_LT_INTEGER) {
		lf->int_bits = lt->bit_width;
		lf->int_signed = lt->is_signed;
	}
	switch (kind) {
	case PQ_LT_NONE:
		break;
	case PQ_LT_STRING: case PQ_LT_ENUM: case PQ_LT_JSON: case PQ_LT_BSON:
		if (pt != PQ_BYTE_ARRAY)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "string annotation on %s", pq_type_name(pt));
		ftype(t, kind == PQ_LT_JSON ? FLOE_TYPE_JSON : kind == PQ_LT_BSON ? FLOE_TYPE_BINARY : FLOE_TYPE_STRING);
		lf->conv = PQ_CONV_BYTES;
		return 0;
	case PQ_LT_UUID:
		if (pt != PQ_FIXED_LEN_BYTE_ARRAY || e->type_length != 16)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "UUID not stored as fixed[16]");
		ftype(t, FLOE_TYPE_UUID);
		t->width = 16;
		lf->conv = PQ_CONV_FIXED;
		return 0;
	case PQ_LT_DATE:
		if (pt != PQ_INT32)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "DATE on %s", pq_type_name(pt));
		ftype(t, FLOE_TYPE_DATE);
		return 0;
	case PQ_LT_TIME:
		ftype(t, FLOE_TYPE_TIME);
		if (pt == PQ_INT32 && lt->unit == PQ_UNIT_MILLIS) { lf->conv = PQ_CONV_I32_MS; return 0; }
		if (pt == PQ_INT64 && lt->unit == PQ_UNIT_MICROS) return 0;
		if (pt == PQ_INT64 && lt->unit == PQ_UNIT_NANOS) { lf->conv = PQ_CONV_I64_NS; return 0; }
		return floe_error_set(err, FLOE_EUNSUPPORTED, "TIME unit %d on %s", lt->unit, pq_type_name(pt));
	case PQ_LT_TIMESTAMP:
		if (pt != PQ_INT64)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "TIMESTAMP on %s", pq_type_name(pt));
		if (lt->unit == PQ_UNIT_NANOS) {
			ftype(t, lt->is_adjusted_to_utc ? FLOE_TYPE_TIMESTAMPTZ_NS : FLOE_TYPE_TIMESTAMP_NS);
			return 0;
		}
		ftype(t, lt->is_adjusted_to_utc ? FLOE_TYPE_TIMESTAMPTZ : FLOE_TYPE_TIMESTAMP);
		if (lt->unit == PQ_UNIT_MILLIS)
			lf->conv = PQ_CONV_I64_MS;
		else if (lt->unit != PQ_UNIT_MICROS)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "TIMESTAMP unit %d", lt->unit);
		return 0;
	case PQ_LT_INTEGER: {
		int b = lf->int_bits;
		if (pt == PQ_INT32 && (b == 8 || b == 16 || b == 32)) {
			if (!lf->int_signed && b == 32) {
				ftype(t, FLOE_TYPE_LONG);
				t->is_unsigned = true;
				lf->conv = PQ_CONV_U32;
				return 0;
			}
			ftype(t, FLOE_TYPE_INT);
			t->is_unsigned = !lf->int_signed;
			return 0;
		}
		if (pt == PQ_INT64 && b == 64) {
			ftype(t, FLOE_TYPE_LONG);
			t->is_unsigned = !lf->int_signed;
			return 0;
		}
		return floe_error_set(err, FLOE_EUNSUPPORTED, "INTEGER(%d) on %s", b, pq_type_name(pt));
	}
	case PQ_LT_FLOAT16:
		if (pt != PQ_FIXED_LEN_BYTE_ARRAY || e->type_length != 2)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "FLOAT16 not stored as fixed[2]");
		ftype(t, FLOE_TYPE_FLOAT);
		lf->conv = PQ_CONV_F16;
		return 0;
	case PQ_LT_UNKNOWN:
		return floe_error_set(err, FLOE_EUNSUPPORTED, "logical type UNKNOWN (null column)");
	case PQ_LT_VARIANT:
		return floe_error_set(err, FLOE_EUNSUPPORTED, "logical type VARIANT");
	case PQ_LT_GEOMETRY: case PQ_LT_GEOGRAPHY:
		if (pt != PQ_BYTE_ARRAY)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "geospatial type on %s", pq_type_name(pt));
		ftype(t, FLOE_TYPE_BINARY);
		lf->conv = PQ_CONV_BYTES;
		return 0;
	default:
		return floe_error_set(err, FLOE_EUNSUPPORTED, "logical type %d", kind);
	}
	/* no annotation: the physical type */
	switch (pt) {
	case PQ_BOOLEAN: ftype(t, FLOE_TYPE_BOOLEAN); break;
	case PQ_INT32: ftype(t, FLOE_TYPE_INT); break;
	case PQ_INT64: ftype(t, FLOE_TYPE_LONG); break;
	case PQ_INT96: ftype(t, FLOE_TYPE_TIMESTAMP_NS); lf->conv = PQ_CONV_INT96; break;
	case PQ_FLOAT: ftype(t, FLOE_TYPE_FLOAT); break;
	case PQ_DOUBLE: ftype(t, FLOE_TYPE_DOUBLE); break;
	case PQ_BYTE_ARRAY: ftype(t, FLOE_TYPE_BINARY); lf->conv = PQ_CONV_BYTES; break;
	default:
		ftype(t, FLOE_TYPE_FIXED);
		t->width = e->type_length;
		lf->conv = PQ_CONV_FIXED;
		break;
	}
	return 0;
}

static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	if (exp == 0) {
		float f = ldexpf((float)man, -24);
		return sign ? -f : f;
	}
	if (exp == 31)
		bits = sign | 0x7f800000u | (man << 13);
	else
		bits = sign | ((exp + 112) << 23) | (man << 13);
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

/* Big-endian two's complement bytes -> 16 bytes sign extended, or int64. */
static int dec_from_be(uint8_t *out, int width, const uint8_t *p, size_t n, floe_error *err)
{
	if (n == 0)
		return floe_error_set(err, FLOE_ECORRUPT, "empty DECIMAL value");
	uint8_t fill = (p[0] & 0x80) ? 0xff : 0;
	uint8_t be[16];
	if (n > 16) {
		for (size_t i = 0; i < n - 16; i++)
			if (p[i] != fill)
				return floe_error_set(err, FLOE_ECORRUPT, "DECIMAL value wider than 16 bytes");
		p += n - 16;
		n = 16;
	}
	memset(be, fill, 16);
	memcpy(be + 16 - n, p, n);
	if (width == 16) {
		memcpy(out, be, 16);
		return 0;
	}
	uint64_t v = 0;
	for (int i = 8; i < 16; i++)
		v = (v << 8) | be[i];
	memcpy(out, &v, 8);
	return 0;
}

static void dec_from_i64(uint8_t *out, int width, int64_t v)
{
	if (width != 16) {
		memcpy(out, &v, 8);
		return;
	}
	uint64_t u = (uint64_t)v;
	memset(out, v < 0 ? 0xff : 0, 8);
	for (int i = 15; i >= 8; i--, u >>= 8)
		out[i] = (uint8_t)u;
}

/* Convert one physical value (fixed bytes `p`, or a byte string `b` for
 * BYTE_ARRAY/FLBA) into the floe storage at `out` (fixed width) or *bout. */
int pq_convert(const pq_leaf *lf, uint8_t *out, pq_bytes *bout, const uint8_t *p,
               pq_bytes b, floe_error *err)
{
	int64_t v64;
	int32_t v32;
	int w = lf->type.width;

	switch (lf->conv) {
	case PQ_CONV_COPY:
		memcpy(out, p, (size_t)lf->pwidth);
		return 0;
	case PQ_CONV_U32:
		memcpy(&v32, p, 4);
		v64 = (int64_t)(uint32_t)v32;
		memcpy(out, &v64, 8);
		return 0;
	case PQ_CONV_I32_MS:
		memcpy(&v32, p, 4);
		v64 = (int64_t)v32 * 1000;
		memcpy(out, &v64, 8);
		return 0;
	case PQ_CONV_I64_MS:
		memcpy(&v64, p, 8);
		v64 = (int64_t)((uint64_t)v64 * 1000u);
		memcpy(out, &v64, 8);
		return 0;
	case PQ_CONV_I64_NS:
		memcpy(&v64, p, 8);
		v64 /= 1000;
		memcpy(out, &v64, 8);
		return 0;
	case PQ_CONV_INT96: {
		/* 8 bytes nanos of day (LE) | 4 bytes Julian day (LE) */
		uint64_t nod = floe_load_u64le(p);
		int32_t jd = (int32_t)floe_load_u32le(p + 8); /* signed, like arrow */
		uint64_t ns = (uint64_t)((int64_t)jd - 2440588) * 86400000000000ull + nod;
		memcpy(out, &ns, 8);
		return 0;
	}
	case PQ_CONV_DEC_I32:
		memcpy(&v32, p, 4);
		dec_from_i64(out, w, v32);
		return 0;
	case PQ_CONV_DEC_I64:
		memcpy(&v64, p, 8);
		dec_from_i64(out, w, v64);
		return 0;
	case PQ_CONV_DEC_BYTES:
		return dec_from_be(out, w, b.ptr, b.len, err);
	case PQ_CONV_F16: {
		if (b.len != 2)
			return floe_error_set(err, FLOE_ECORRUPT, "FLOAT16 value of %u bytes", b.len);
		float f = half_to_float((uint16_t)(b.ptr[0] | (b.ptr[1] << 8)));
		memcpy(out, &f, 4);
		return 0;
	}
	case PQ_CONV_FIXED:
		if ((int)b.len != w)
			return floe_error_set(err, FLOE_ECORRUPT, "fixed value of %u bytes, expected %d", b.len, w);
		memcpy(out, b.ptr, (size_t)w);
		return 0;
	case PQ_CONV_BYTES:
		*bout = b;
		return 0;
	}
	return floe_error_set(err, FLOE_EINVALID, "bad conversion");
}

/* ---- open ------------------------------------------------------------- */

static int walk_schema(floe_parquet_reader *r, uint32_t *idx, int *leaf, int depth, bool top,
                       floe_error *err)
{
	const pq_file_meta *m = &r->meta;
	if (*idx >= m->num_schema)
		return floe_error_corrupt(err, r->name, r->footer_offset, "schema children run past the element list");
	if (depth > PQ_MAX_DEPTH)
		return floe_error_corrupt(err, r->name, r->footer_offset, "schema nested deeper than %d", PQ_MAX_DEPTH);
	const pq_schema_element *e = &m->schema[*idx];
	(*idx)++;
	if (e->num_children > 0 || e->type < 0) {
		if (e->num_children < 0)
			return floe_error_corrupt(err, r->name, r->footer_offset, "negative num_children");
		for (int32_t c = 0; c < e->num_children; c++) {
			int rc = walk_schema(r, idx, leaf, depth + 1, false, err);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	int my = (*leaf)++;
	if (!top || e->repetition == PQ_REPEATED)
		return 0;
	pq_leaf *lf = &r->leaves[r->nleaves];
	memset(lf, 0, sizeof(*lf));
	floe_error tmp;
	if (pq_map_type(lf, e, &tmp) < 0) {
		if (tmp.code == FLOE_ECORRUPT)
			return floe_error_corrupt(err, r->name, r->footer_offset, "column %.*s: %s",
			                          (int)e->name.len, (const char *)e->name.ptr, tmp.msg);
		return 0; /* an unsupported type: the column is left out */
	}
	lf->chunk = my;
	lf->elem = e;
	lf->max_def = e->repetition == PQ_OPTIONAL ? 1 : 0;
	floe_field *f = &r->schema.fields[r->nleaves];
	f->name = floe_arena_strndup(r->arena, (const char *)e->name.ptr, e->name.len);
	if (!f->name)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	f->type = lf->type;
	f->required = lf->max_def == 0;
	f->field_id = e->has_field_id ? e->field_id : -1;
	r->nleaves++;
	return 0;
}

static int reader_init(floe_parquet_reader *r, floe_error *err)
{
	uint8_t tail[8];
	if (r->file_size < 12)
		return floe_error_corrupt(err, r->name, 0, "file of %llu bytes is too short for Parquet",
		                          (unsigned long long)r->file_size);
	int rc = pq_read_at(r, tail, 4, 0, err);
	if (rc < 0)
		return rc;
	if (memcmp(tail, "PAR1", 4) != 0) {
		if (memcmp(tail, "PARE", 4) == 0)
			return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: encrypted Parquet (PARE) is not supported", r->name);
		return floe_error_corrupt(err, r->name, 0, "missing PAR1 magic");
	}
	rc = pq_read_at(r, tail, 8, r->file_size - 8, err);
	if (rc < 0)
		return rc;
	if (memcmp(tail + 4, "PARE", 4) == 0)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: encrypted footer (PARE) is not supported", r->name);
	if (memcmp(tail + 4, "PAR1", 4) != 0)
		return floe_error_corrupt(err, r->name, r->file_size - 4, "missing trailing PAR1 magic");
	uint32_t flen = floe_load_u32le(tail);
	if ((uint64_t)flen + 12 > r->file_size || flen > FOOTER_MAX || flen == 0)
		return floe_error_corrupt(err, r->name, r->file_size - 8,
		                          "footer length %u does not fit a file of %llu bytes", flen,
		                          (unsigned long long)r->file_size);
	r->footer_offset = r->file_size - 8 - flen;
	r->footer = malloc(flen);
	if (!r->footer)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory for a %u byte footer", flen);
	rc = pq_read_at(r, r->footer, flen, r->footer_offset, err);
	if (rc < 0)
		return rc;
	rc = pq_meta_decode_file(&r->meta, r->footer, flen, r->name, r->footer_offset, r->arena, err);
	if (rc < 0)
		return rc;
	const pq_file_meta *m = &r->meta;
	if (m->encrypted)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: encrypted Parquet is not supported", r->name);
	if (m->num_schema == 0)
		return floe_error_corrupt(err, r->name, r->footer_offset, "empty schema");
	if (m->num_rows < 0)
		return floe_error_corrupt(err, r->name, r->footer_offset, "negative num_rows");
	r->leaves = floe_arena_calloc(r->arena, m->num_schema, sizeof(pq_leaf));
	r->schema.fields = floe_arena_calloc(r->arena, m->num_schema, sizeof(floe_field));
	if (!r->leaves || !r->schema.fields)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	uint32_t idx = 1;
	int leaf = 0;
	const pq_schema_element *root = &m->schema[0];
	if (root->num_children < 0)
		return floe_error_corrupt(err, r->name, r->footer_offset, "negative num_children");
	for (int32_t c = 0; c < root->num_children; c++) {
		rc = walk_schema(r, &idx, &leaf, 1, true, err);
		if (rc < 0)
			return rc;
	}
	r->schema.nfields = r->nleaves;
	r->nchunks = leaf;
	int64_t total = 0;
	for (uint32_t g = 0; g < m->num_row_groups; g++) {
		const pq_row_group *rg = &m->row_groups[g];
		if (rg->num_columns != (uint32_t)leaf)
			return floe_error_corrupt(err, r->name, r->footer_offset,
			                          "row group %u has %u columns, schema has %d leaves", g,
			                          rg->num_columns, leaf);
		if (rg->num_rows < 0 || __builtin_add_overflow(total, rg->num_rows, &total))
			return floe_error_corrupt(err, r->name, r->footer_offset, "bad num_rows in row group %u", g);
	}
	r->rg_rows = total;
	return 0;
}

int pq_read_at(floe_parquet_reader *r, void *dst, size_t n, uint64_t off, floe_error *err)
{
	if (off > r->file_size || n > r->file_size - off)
		return floe_error_corrupt(err, r->name, off, "range of %zu bytes runs past the end of the file", n);
	if (r->mem) {
		memcpy(dst, r->mem + off, n);
		return 0;
	}
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(r->fd, (uint8_t *)dst + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return floe_error_set(err, FLOE_EIO, "%s: read at byte %llu: %s", r->name,
			                      (unsigned long long)(off + got), k < 0 ? strerror(errno) : "short read");
		got += (size_t)k;
	}
	return 0;
}

static int reader_new(floe_parquet_reader **out, const char *name, floe_error *err)
{
	floe_parquet_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	r->fd = -1;
	r->arena = floe_arena_new(0);
	r->name = strdup(name ? name : "(memory)");
	if (!r->arena || !r->name) {
		floe_parquet_reader_free(r);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

int floe_parquet_reader_open(floe_parquet_reader **out, const char *path, floe_error *err)
{
	floe_parquet_reader *r = NULL;
	struct stat st;
	*out = NULL;
	int rc = reader_new(&r, path, err);
	if (rc < 0)
		return rc;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		rc = floe_error_set(err, errno == ENOENT ? FLOE_ENOTFOUND : FLOE_EIO, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (fstat(r->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = floe_error_set(err, FLOE_EIO, "%s: not a regular file", path);
		goto done;
	}
	r->file_size = (uint64_t)st.st_size;
	rc = reader_init(r, err);
done:
	if (rc < 0)
		floe_parquet_reader_free(r);
	else
		*out = r;
	return rc;
}

int floe_parquet_reader_open_memory(floe_parquet_reader **out, const void *buf, size_t len,
                                    const char *name, floe_error *err)
{
	floe_parquet_reader *r = NULL;
	*out = NULL;
	int rc = reader_new(&r, name, err);
	if (rc < 0)
		return rc;
	r->mem = buf;
	r->file_size = len;
	rc = buf || len == 0 ? reader_init(r, err) : floe_error_set(err, FLOE_EINVALID, "NULL buffer");
	if (rc < 0)
		floe_parquet_reader_free(r);
	else
		*out = r;
	return rc;
}

void floe_parquet_reader_free(floe_parquet_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->footer);
	free(r->name);
	floe_arena_free(r->arena);
	free(r);
}

const floe_schema *floe_parquet_reader_schema(const floe_parquet_reader *r)
{
	return &r->schema;
}

/* The row groups' sum: some writers leave FileMetaData.num_rows at 0
 * (repeated_no_annotation.parquet), while the row groups are right. */
int64_t floe_parquet_reader_num_rows(const floe_parquet_reader *r)
{
	return r->rg_rows;
}

int floe_parquet_reader_num_row_groups(const floe_parquet_reader *r)
{
	return (int)r->meta.num_row_groups;
}

int64_t floe_parquet_reader_uncompressed_bytes(const floe_parquet_reader *r)
{
	int64_t n = 0;
	for (uint32_t g = 0; g < r->meta.num_row_groups; g++) {
		const pq_row_group *rg = &r->meta.row_groups[g];
		for (uint32_t c = 0; c < rg->num_columns; c++)
			if (rg->columns[c].has_meta && rg->columns[c].meta.total_uncompressed_size > 0)
				n += rg->columns[c].meta.total_uncompressed_size;
	}
	return n;
}

const char *floe_parquet_reader_kv(const floe_parquet_reader *r, const char *key)
{
	const char *found = NULL;
	size_t kl = strlen(key);
	for (uint32_t i = 0; i < r->meta.num_kv; i++) {
		const pq_key_value *kv = &r->meta.kv[i];
		if (kv->key.len != kl || memcmp(kv->key.ptr, key, kl) != 0 || !kv->value.ptr)
			continue;
		/* later pairs win; copy once into the reader's arena */
		char *s = floe_arena_strndup(r->arena, (const char *)kv->value.ptr, kv->value.len);
		if (s)
			found = s;
	}
	return found;
}
