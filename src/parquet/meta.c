/* parquet/meta.c - decode and encode the parquet.thrift structures floe uses
 * (FileMetaData, PageHeader, ColumnIndex, OffsetIndex) in compact protocol. */
#include "parquet/meta.h"

#include <string.h>

#include "parquet/thrift.h"

/* Field loop of one struct: F(id, type) is dispatched by the caller. */
#define BEGIN_STRUCT(r)                                                       \
	int16_t last_ = 0, id;                                                \
	int t;                                                                \
	bool bv;                                                              \
	int rc = pq_tr_enter(r);                                              \
	if (rc)                                                               \
		return rc;                                                    \
	for (;;) {                                                            \
		if ((rc = pq_tr_field(r, &last_, &t, &id, &bv)))              \
			return rc;                                            \
		if (t == PQ_T_STOP)                                           \
			break;                                                \
		switch (id) {
#define END_STRUCT(r)                                                         \
		default:                                                      \
			rc = pq_tr_skip(r, t);                                \
		}                                                             \
		if (rc)                                                       \
			return rc;                                            \
	}                                                                     \
	pq_tr_leave(r)

static int range(pq_tr *r, int32_t v, int32_t lo, int32_t hi, const char *what)
{
	if (v < lo || v > hi)
		return pq_tr_corrupt(r, "invalid %s %d", what, (int)v);
	return 0;
}

static int missing(pq_tr *r, const char *what)
{
	return pq_tr_corrupt(r, "required field %s missing", what);
}

static int negative(pq_tr *r, int64_t v, const char *what)
{
	if (v < 0)
		return pq_tr_corrupt(r, "negative %s %lld", what, (long long)v);
	return 0;
}

static void *arr(pq_tr *r, floe_arena *a, uint32_t n, size_t size, int *rc)
{
	if (n == 0)
		n = 1;
	void *p = floe_arena_calloc(a, n, size);
	if (!p)
		*rc = floe_error_set(r->err, FLOE_ENOMEM, "out of memory decoding metadata");
	return p;
}

/* ---- Statistics (parquet.thrift struct Statistics) ---- */
static int rd_stats(pq_tr *r, pq_statistics *s)
{
	memset(s, 0, sizeof *s);
	BEGIN_STRUCT(r)
	case 1: rc = pq_tr_binary(r, t, &s->max); break;
	case 2: rc = pq_tr_binary(r, t, &s->min); break;
	case 3: rc = pq_tr_i64(r, t, &s->null_count); s->has_null_count = true; break;
	case 4: rc = pq_tr_i64(r, t, &s->distinct_count); s->has_distinct_count = true; break;
	case 5: rc = pq_tr_binary(r, t, &s->max_value); break;
	case 6: rc = pq_tr_binary(r, t, &s->min_value); break;
	case 7: rc = pq_tr_bool(r, t, bv, &s->is_max_value_exact); s->has_is_max_value_exact = true; break;
	case 8: rc = pq_tr_bool(r, t, bv, &s->is_min_value_exact); s->has_is_min_value_exact = true; break;
	END_STRUCT(r);
	return 0;
}

/* TimeUnit union: 1 MILLIS, 2 MICROS, 3 NANOS (each an empty struct). */
static int rd_unit(pq_tr *r, int *unit)
{
	*unit = 0;
	BEGIN_STRUCT(r)
	case 1: case 2: case 3:
		if (t != PQ_T_STRUCT)
			return pq_tr_corrupt(r, "time unit member is not a struct");
		*unit = id;
		rc = pq_tr_skip(r, t);
		break;
	END_STRUCT(r);
	if (!*unit)
		return pq_tr_corrupt(r, "time unit missing or unknown");
	return 0;
}

static int rd_lt_member(pq_tr *r, int kind, pq_logical_type *lt)
{
	BEGIN_STRUCT(r)
	case 1:
		if (kind == PQ_LT_DECIMAL)
			rc = pq_tr_i32(r, t, &lt->scale);
		else if (kind == PQ_LT_TIME || kind == PQ_LT_TIMESTAMP)
			rc = pq_tr_bool(r, t, bv, &lt->is_adjusted_to_utc);
		else if (kind == PQ_LT_INTEGER) {
			if (t != PQ_T_BYTE)
				return pq_tr_corrupt(r, "integer bit width type mismatch");
			if (r->p >= r->end)
				return pq_tr_corrupt(r, "integer bit width truncated");
			lt->bit_width = (int8_t)*r->p++;
			if (lt->bit_width != 8 && lt->bit_width != 16 &&
			    lt->bit_width != 32 && lt->bit_width != 64)
				return pq_tr_corrupt(r, "invalid integer bit width %d", lt->bit_width);
		} else
			rc = pq_tr_skip(r, t);
		break;
	case 2:
		if (kind == PQ_LT_DECIMAL)
			rc = pq_tr_i32(r, t, &lt->precision);
		else if (kind == PQ_LT_TIME || kind == PQ_LT_TIMESTAMP) {
			if (t != PQ_T_STRUCT)
				return pq_tr_corrupt(r, "time unit type mismatch");
			rc = rd_unit(r, &lt->unit);
		} else if (kind == PQ_LT_INTEGER)
			rc = pq_tr_bool(r, t, bv, &lt->is_signed);
		else
			rc = pq_tr_skip(r, t);
		break;
	END_STRUCT(r);
	return 0;
}

/* LogicalType union: exactly one member struct, id = kind (9 unused). */
static int rd_logical(pq_tr *r, pq_logical_type *lt)
{
	memset(lt, 0, sizeof *lt);
	BEGIN_STRUCT(r)
	case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8:
	case 10: case 11: case 12: case 13: case 14: case 15: case 16: case 17: case 18:
		if (t != PQ_T_STRUCT)
			return pq_tr_corrupt(r, "logical type member is not a struct");
		lt->kind = id;
		rc = rd_lt_member(r, id, lt);
		break;
	END_STRUCT(r);
	if ((lt->kind == PQ_LT_TIME || lt->kind == PQ_LT_TIMESTAMP) && !lt->unit)
		return pq_tr_corrupt(r, "time/timestamp logical type without unit");
	return 0;
}

static int rd_schema(pq_tr *r, pq_schema_element *e)
{
	memset(e, 0, sizeof *e);
	e->type = -1;
	e->repetition = -1;
	e->converted_type = -1;
	BEGIN_STRUCT(r)
	case 1: rc = pq_tr_i32(r, t, &e->type); if (!rc) rc = range(r, e->type, 0, 7, "physical type"); break;
	case 2: rc = pq_tr_i32(r, t, &e->type_length); if (!rc) rc = negative(r, e->type_length, "type_length"); break;
	case 3: rc = pq_tr_i32(r, t, &e->repetition); if (!rc) rc = range(r, e->repetition, 0, 2, "repetition type"); break;
	case 4: rc = pq_tr_binary(r, t, &e->name); break;
	case 5: rc = pq_tr_i32(r, t, &e->num_children); if (!rc) rc = negative(r, e->num_children, "num_children"); break;
	case 6: rc = pq_tr_i32(r, t, &e->converted_type); if (!rc) rc = range(r, e->converted_type, 0, 21, "converted type"); break;
	case 7: rc = pq_tr_i32(r, t, &e->scale); e->has_scale = true; break;
	case 8: rc = pq_tr_i32(r, t, &e->precision); e->has_precision = true; break;
	case 9: rc = pq_tr_i32(r, t, &e->field_id); e->has_field_id = true; break;
	case 10:
		if (t != PQ_T_STRUCT)
			return pq_tr_corrupt(r, "logicalType type mismatch");
		rc = rd_logical(r, &e->logical);
		break;
	END_STRUCT(r);
	if (!e->name.ptr)
		return missing(r, "SchemaElement.name");
	return 0;
}

static int rd_kv(pq_tr *r, pq_key_value *kv)
{
	memset(kv, 0, sizeof *kv);
	BEGIN_STRUCT(r)
	case 1: rc = pq_tr_binary(r, t, &kv->key); break;
	case 2: rc = pq_tr_binary(r, t, &kv->value); break;
	END_STRUCT(r);
	if (!kv->key.ptr)
		return missing(r, "KeyValue.key");
	return 0;
}

static int rd_kv_list(pq_tr *r, int t, floe_arena *a, pq_key_value **out, uint32_t *n)
{
	int et, rc = pq_tr_list(r, t, PQ_T_STRUCT, &et, n);
	if (rc)
		return rc;
	*out = arr(r, a, *n, sizeof **out, &rc);
	for (uint32_t i = 0; i < *n && !rc; i++)
		rc = rd_kv(r, &(*out)[i]);
	return rc;
}

static int rd_pes(pq_tr *r, pq_page_encoding_stats *s)
{
	bool h1 = false, h2 = false, h3 = false;
	memset(s, 0, sizeof *s);
	BEGIN_STRUCT(r)
	case 1: rc = pq_tr_i32(r, t, &s->page_type); h1 = true; if (!rc) rc = range(r, s->page_type, 0, 3, "page type"); break;
	case 2: rc = pq_tr_i32(r, t, &s->encoding); h2 = true; break;
	case 3: rc = pq_tr_i32(r, t, &s->count); h3 = true; break;
	END_STRUCT(r);
	if (!h1 || !h2 || !h3)
		return missing(r, "PageEncodingStats.page_type/encoding/count");
	return 0;
}

static int rd_colmeta(pq_tr *r, floe_arena *a, pq_column_meta *m)
{
	bool ht = false, hc = false, hnv = false, hus = false, hcs = false, hdo = false, hpath = false, henc = false;
	int et;
	memset(m, 0, sizeof *m);
	BEGIN_STRUCT(r)
	case 1: rc = pq_tr_i32(r, t, &m->type); ht = true; if (!rc) rc = range(r, m->type, 0, 7, "physical type"); break;
	case 2:
		henc = true;
		if ((rc = pq_tr_list(r, t, PQ_T_I32, &et, &m->num_encodings)))
			return rc;
		m->encodings = arr(r, a, m->num_encodings, sizeof *m->encodings, &rc);
		for (uint32_t i = 0; i < m->num_encodings && !rc; i++)
			rc = pq_tr_zz32(r, &m->encodings[i]);
		break;
	case 3:
		hpath = true;
		if ((rc = pq_tr_list(r, t, PQ_T_BINARY, &et, &m->path_len)))
			return rc;
		m->path_in_schema = arr(r, a, m->path_len, sizeof *m->path_in_schema, &rc);
		for (uint32_t i = 0; i < m->path_len && !rc; i++)
			rc = pq_tr_bytes(r, &m->path_in_schema[i]);
		break;
	case 4: rc = pq_tr_i32(r, t, &m->codec); hc = true; if (!rc) rc = range(r, m->codec, 0, 7, "compression codec"); break;
	case 5: rc = pq_tr_i64(r, t, &m->num_values); hnv = true; if (!rc) rc = negative(r, m->num_values, "num_values"); break;
	case 6: rc = pq_tr_i64(r, t, &m->total_uncompressed_size); hus = true; if (!rc) rc = negative(r, m->total_uncompressed_size, "total_uncompressed_size"); break;
	case 7: rc = pq_tr_i64(r, t, &m->total_compressed_size); hcs = true; if (!rc) rc = negative(r, m->total_compressed_size, "total_compressed_size"); break;
	case 8: rc = rd_kv_list(r, t, a, &m->kv, &m->num_kv); break;
	case 9: rc = pq_tr_i64(r, t, &m->data_page_offset); hdo = true; if (!rc) rc = negative(r, m->data_page_offset, "data_page_offset"); break;
	case 10: rc = pq_tr_i64(r, t, &m->index_page_offset); break;
	case 11: rc = pq_tr_i64(r, t, &m->dictionary_page_offset); m->has_dictionary_page_offset = true; break;
	case 12:
		if (t != PQ_T_STRUCT)
			return pq_tr_corrupt(r, "statistics type mismatch");
		rc = rd_stats(r, &m->statistics);
		m->has_statistics = true;
		break;
	case 13:
		if ((rc = pq_tr_list(r, t, PQ_T_STRUCT, &et, &m->num_encoding_stats)))
			return rc;
		m->encoding_stats = arr(r, a, m->num_encoding_stats, sizeof *m->encoding_stats, &rc);
		for (uint32_t i = 0; i < m->num_encoding_stats && !rc; i++)
			rc = rd_pes(r, &m->encoding_stats[i]);
		break;
	case 14: rc = pq_tr_i64(r, t, &m->bloom_filter_offset); m->has_bloom_filter_offset = true; break;
	case 15:
		/* a 2018 parquet-mr pre-release wrote a list under id 15 before
		 * bloom_filter_length took it: skip anything but an i32 */
		if (t != PQ_T_I32) {
			rc = pq_tr_skip(r, t);
			break;
		}
		rc = pq_tr_i32(r, t, &m->bloom_filter_length);
		m->has_bloom_filter_length = true;
		break;
	END_STRUCT(r);
	if (!ht) return missing(r, "ColumnMetaData.type");
	if (!henc) return missing(r, "ColumnMetaData.encodings");
	if (!hpath) return missing(r, "ColumnMetaData.path_in_schema");
	if (!hc) return missing(r, "ColumnMetaData.codec");
	if (!hnv) return missing(r, "ColumnMetaData.num_values");
	if (!hus) return missing(r, "ColumnMetaData.total_uncompressed_size");
	if (!hcs) return missing(r, "ColumnMetaData.total_compressed_size");
	if (!hdo) return missing(r, "ColumnMetaData.data_page_offset");
	return 0;
}

static int rd_chunk(pq_tr *r, floe_arena *a, pq_column_chunk *c)
{
	bool hoi = false, hol = false, hci = false, hcl = false;
	memset(c, 0, sizeof *c);
	BEGIN_STRUCT(r)
	case 1: rc = pq_tr_binary(r, t, &c->file_path); break;
	case 2: rc = pq_tr_i64(r, t, &c->file_offset); break;
	case 3:
		if (t != PQ_T_STRUCT)
			return pq_tr_corrupt(r, "meta_data type mismatch");
		rc = rd_colmeta(r, a, &c->meta);
		c->has_meta = true;
		break;
	case 4: rc = pq_tr_i64(r, t, &c->offset_index_offset); hoi = true; break;
	case 5: rc = pq_tr_i32(r, t, &c->offset_index_length); hol = true; break;
	case 6: rc = pq_tr_i64(r, t, &c->column_index_offset); hci = true; break;
	case 7: rc = pq_tr_i32(r, t, &c->column_index_length); hcl = true; break;
	case 8: case 9:
		c->encrypted = true;
		rc = pq_tr_skip(r, t);
		break;
	END_STRUCT(r);
	c->has_offset_index = hoi && hol;
	c->has_column_index = hci && hcl;
	if (c->has_offset_index && ((rc = negative(r, c->offset_index_offset, "offset_index_offset")) ||
	                            (rc = negative(r, c->offset_index_length, "offset_index_length"))))
		return rc;
	if (c->has_column_index && ((rc = negative(r, c->column_index_offset, "column_index_offset")) ||
	                            (rc = negative(r, c->column_index_length, "column_index_length"))))
		return rc;
	return 0;
}

static int rd_row_group(pq_tr *r, floe_arena *a, pq_row_group *g)
{
	bool hcols = false, hbs = false, hnr = false;
	int et;
	memset(g, 0, sizeof *g);
	BEGIN_STRUCT(r)
	case 1:
		hcols = true;
		if ((rc = pq_tr_list(r, t, PQ_T_STRUCT, &et, &g->num_columns)))
			return rc;
		g->columns = arr(r, a, g->num_columns, sizeof *g->columns, &rc);
		for (uint32_t i = 0; i < g->num_columns && !rc; i++)
			rc = rd_chunk(r, a, &g->columns[i]);
		break;
	case 2: rc = pq_tr_i64(r, t, &g->total_byte_size); hbs = true; break;
	case 3: rc = pq_tr_i64(r, t, &g->num_rows); hnr = true; if (!rc) rc = negative(r, g->num_rows, "RowGroup.num_rows"); break;
	case 5: rc = pq_tr_i64(r, t, &g->file_offset); g->has_file_offset = true; break;
	case 6: rc = pq_tr_i64(r, t, &g->total_compressed_size); g->has_total_compressed_size = true; break;
	case 7: rc = pq_tr_i16(r, t, &g->ordinal); g->has_ordinal = true; break;
	END_STRUCT(r);
	if (!hcols) return missing(r, "RowGroup.columns");
	if (!hbs) return missing(r, "RowGroup.total_byte_size");
	if (!hnr) return missing(r, "RowGroup.num_rows");
	return 0;
}

/* ColumnOrder union: 1 TYPE_ORDER (empty struct); others kept by id. */
static int rd_column_order(pq_tr *r, int32_t *out)
{
	*out = 0;
	BEGIN_STRUCT(r)
	default:
		*out = id;
		rc = pq_tr_skip(r, t);
		break;
	case 0:
		rc = pq_tr_skip(r, t);
		break;
	}
	if (rc)
		return rc;
	}
	pq_tr_leave(r);
	return 0;
}

static int rd_file(pq_tr *r, floe_arena *a, pq_file_meta *m)
{
	bool hv = false, hs = false, hn = false, hrg = false;
	int et;
	memset(m, 0, sizeof *m);
	BEGIN_STRUCT(r)
	case 1: rc = pq_tr_i32(r, t, &m->version); hv = true; break;
	case 2:
		hs = true;
		if ((rc = pq_tr_list(r, t, PQ_T_STRUCT, &et, &m->num_schema)))
			return rc;
		m->schema = arr(r, a, m->num_schema, sizeof *m->schema, &rc);
		for (uint32_t i = 0; i < m->num_schema && !rc; i++)
			rc = rd_schema(r, &m->schema[i]);
		break;
	case 3: rc = pq_tr_i64(r, t, &m->num_rows); hn = true; if (!rc) rc = negative(r, m->num_rows, "FileMetaData.num_rows"); break;
	case 4:
		hrg = true;
		if ((rc = pq_tr_list(r, t, PQ_T_STRUCT, &et, &m->num_row_groups)))
			return rc;
		m->row_groups = arr(r, a, m->num_row_groups, sizeof *m->row_groups, &rc);
		for (uint32_t i = 0; i < m->num_row_groups && !rc; i++)
			rc = rd_row_group(r, a, &m->row_groups[i]);
		break;
	case 5: rc = rd_kv_list(r, t, a, &m->kv, &m->num_kv); break;
	case 6: rc = pq_tr_binary(r, t, &m->created_by); break;
	case 7:
		if ((rc = pq_tr_list(r, t, PQ_T_STRUCT, &et, &m->num_column_orders)))
			return rc;
		m->column_orders = arr(r, a, m->num_column_orders, sizeof *m->column_orders, &rc);
		for (uint32_t i = 0; i < m->num_column_orders && !rc; i++)
			rc = rd_column_order(r, &m->column_orders[i]);
		break;
	case 8:
		m->encrypted = true;
		rc = pq_tr_skip(r, t);
		break;
	END_STRUCT(r);
	if (!hv) return missing(r, "FileMetaData.version");
	if (!hs) return missing(r, "FileMetaData.schema");
	if (!hn) return missing(r, "FileMetaData.num_rows");
	if (!hrg) return missing(r, "FileMetaData.row_groups");
	return 0;
}

int pq_meta_decode_file(pq_file_meta *out, const uint8_t *buf, size_t len,
                        const char *file, uint64_t file_offset,
                        floe_arena *arena, floe_error *err)
{
	pq_tr r;
	pq_tr_init(&r, buf, len, file, file_offset, err);
	return rd_file(&r, arena, out);
}

/* ---- page headers ---- */
static int rd_dph(pq_tr *r, pq_data_page_header *d)
{
	bool h1 = false, h2 = false, h3 = false, h4 = false;
	memset(d, 0, sizeof *d);
	BEGIN_STRUCT(r)
	case 1: rc = pq_tr_i32(r, t, &d->num_values); h1 = true; if (!rc) rc = negative(r, d->num_values, "DataPageHeader.num_values"); break;
	case 2: rc = pq_tr_i32(r, t, &d->encoding); h2 = true; break;
	case 3: rc = pq_tr_i32(r, t, &d->definition_level_encoding); h3 = true; break;
	case 4: rc = pq_tr_i32(r, t, &d->repetition_level_encoding); h4 = true; break;
	case 5:
		if (t != PQ_T_STRUCT)
			return pq_tr_corrupt(r, "statistics type mismatch");
		rc = rd_stats(r, &d->statistics);
		d->has_statistics = true;
		break;
	END_STRUCT(r);
	if (!h1) return missing(r, "DataPageHeader.num_values");
	if (!h2) return missing(r, "DataPageHeader.encoding");
	if (!h3) return missing(r, "DataPageHeader.definition_level_encoding");
	if (!h4) return missing(r, "DataPageHeader.repetition_level_encoding");
	return 0;
}

static int rd_dict(pq_tr *r, pq_dictionary_page_header *d)
{
	bool h1 = false, h2 = false;
	memset(d, 0, sizeof *d);
	BEGIN_STRUCT(r)
	case 1: rc = pq_tr_i32(r, t, &d->num_values); h1 = true; if (!rc) rc = negative(r, d->num_values, "DictionaryPageHeader.num_values"); break;
	case 2: rc = pq_tr_i32(r, t, &d->encoding); h2 = true; break;
	case 3: rc = pq_tr_bool(r, t, bv, &d->is_sorted); break;
	END_STRUCT(r);
	if (!h1) return missing(r, "DictionaryPageHeader.num_values");
	if (!h2) return missing(r, "DictionaryPageHeader.encoding");
	return 0;
}

static int rd_dph2(pq_tr *r, pq_data_page_header_v2 *d)
{
	bool h[7] = { false };
	memset(d, 0, sizeof *d);
	d->is_compressed = true;
	BEGIN_STRUCT(r)
	case 1: rc = pq_tr_i32(r, t, &d->num_values); h[1] = true; if (!rc) rc = negative(r, d->num_values, "DataPageHeaderV2.num_values"); break;
	case 2: rc = pq_tr_i32(r, t, &d->num_nulls); h[2] = true; if (!rc) rc = negative(r, d->num_nulls, "DataPageHeaderV2.num_nulls"); break;
	case 3: rc = pq_tr_i32(r, t, &d->num_rows); h[3] = true; if (!rc) rc = negative(r, d->num_rows, "DataPageHeaderV2.num_rows"); break;
	case 4: rc = pq_tr_i32(r, t, &d->encoding); h[4] = true; break;
	case 5: rc = pq_tr_i32(r, t, &d->definition_levels_byte_length); h[5] = true; if (!rc) rc = negative(r, d->definition_levels_byte_length, "definition_levels_byte_length"); break;
	case 6: rc = pq_tr_i32(r, t, &d->repetition_levels_byte_length); h[6] = true; if (!rc) rc = negative(r, d->repetition_levels_byte_length, "repetition_levels_byte_length"); break;
	case 7: rc = pq_tr_bool(r, t, bv, &d->is_compressed); break;
	case 8:
		if (t != PQ_T_STRUCT)
			return pq_tr_corrupt(r, "statistics type mismatch");
		rc = rd_stats(r, &d->statistics);
		d->has_statistics = true;
		break;
	END_STRUCT(r);
	for (int i = 1; i <= 6; i++)
		if (!h[i])
			return missing(r, "DataPageHeaderV2 num_values/num_nulls/num_rows/encoding/level lengths");
	return 0;
}

int pq_meta_decode_page_header(pq_page_header *out, size_t *consumed,
                               const uint8_t *buf, size_t len,
                               const char *file, uint64_t file_offset,
                               floe_arena *arena, floe_error *err)
{
	pq_tr r0, *r = &r0;
	bool ht = false, hu = false, hc = false;
	pq_page_header *h = out;

	(void)arena;
	pq_tr_init(r, buf, len, file, file_offset, err);
	memset(h, 0, sizeof *h);
	{
		BEGIN_STRUCT(r)
		case 1: rc = pq_tr_i32(r, t, &h->type); ht = true; if (!rc) rc = range(r, h->type, 0, 3, "page type"); break;
		case 2: rc = pq_tr_i32(r, t, &h->uncompressed_page_size); hu = true; if (!rc) rc = negative(r, h->uncompressed_page_size, "uncompressed_page_size"); break;
		case 3: rc = pq_tr_i32(r, t, &h->compressed_page_size); hc = true; if (!rc) rc = negative(r, h->compressed_page_size, "compressed_page_size"); break;
		case 4: rc = pq_tr_i32(r, t, &h->crc); h->has_crc = true; break;
		case 5:
			if (t != PQ_T_STRUCT)
				return pq_tr_corrupt(r, "data_page_header type mismatch");
			rc = rd_dph(r, &h->data);
			h->has_data = true;
			break;
		case 7:
			if (t != PQ_T_STRUCT)
				return pq_tr_corrupt(r, "dictionary_page_header type mismatch");
			rc = rd_dict(r, &h->dict);
			h->has_dict = true;
			break;
		case 8:
			if (t != PQ_T_STRUCT)
				return pq_tr_corrupt(r, "data_page_header_v2 type mismatch");
			rc = rd_dph2(r, &h->data_v2);
			h->has_data_v2 = true;
			break;
		END_STRUCT(r);
	}
	if (!ht) return missing(r, "PageHeader.type");
	if (!hu) return missing(r, "PageHeader.uncompressed_page_size");
	if (!hc) return missing(r, "PageHeader.compressed_page_size");
	*consumed = (size_t)(r->p - buf);
	return 0;
}

/* ---- page index ---- */
static int rd_i64_list(pq_tr *r, int t, floe_arena *a, int64_t **out, uint32_t *n)
{
	int et, rc = pq_tr_list(r, t, PQ_T_I64, &et, n);
	if (rc)
		return rc;
	*out = arr(r, a, *n, sizeof **out, &rc);
	for (uint32_t i = 0; i < *n && !rc; i++)
		rc = pq_tr_zz64(r, &(*out)[i]);
	return rc;
}

static int rd_bytes_list(pq_tr *r, int t, floe_arena *a, pq_bytes **out, uint32_t *n)
{
	int et, rc = pq_tr_list(r, t, PQ_T_BINARY, &et, n);
	if (rc)
		return rc;
	*out = arr(r, a, *n, sizeof **out, &rc);
	for (uint32_t i = 0; i < *n && !rc; i++)
		rc = pq_tr_bytes(r, &(*out)[i]);
	return rc;
}

static int rd_column_index(pq_tr *r, floe_arena *a, pq_column_index *ci)
{
	bool h1 = false, h2 = false, h3 = false, h4 = false;
	uint32_t nmin = 0, nmax = 0, nnc = 0;
	int et;
	memset(ci, 0, sizeof *ci);
	BEGIN_STRUCT(r)
	case 1:
		h1 = true;
		if ((rc = pq_tr_list(r, t, PQ_T_TRUE, &et, &ci->num_pages)))
			return rc;
		ci->null_pages = arr(r, a, ci->num_pages, sizeof *ci->null_pages, &rc);
		for (uint32_t i = 0; i < ci->num_pages && !rc; i++) {
			/* bool list element: one byte, 1 = true, 0 or 2 = false */
			uint8_t b = *r->p;
			if (b > 2)
				return pq_tr_corrupt(r, "invalid bool %d", b);
			ci->null_pages[i] = b == 1;
			r->p++;
		}
		break;
	case 2: h2 = true; rc = rd_bytes_list(r, t, a, &ci->min_values, &nmin); break;
	case 3: h3 = true; rc = rd_bytes_list(r, t, a, &ci->max_values, &nmax); break;
	case 4: h4 = true; rc = pq_tr_i32(r, t, &ci->boundary_order); if (!rc) rc = range(r, ci->boundary_order, 0, 2, "boundary order"); break;
	case 5: rc = rd_i64_list(r, t, a, &ci->null_counts, &nnc); break;
	END_STRUCT(r);
	if (!h1) return missing(r, "ColumnIndex.null_pages");
	if (!h2) return missing(r, "ColumnIndex.min_values");
	if (!h3) return missing(r, "ColumnIndex.max_values");
	if (!h4) return missing(r, "ColumnIndex.boundary_order");
	if (nmin != ci->num_pages || nmax != ci->num_pages ||
	    (ci->null_counts && nnc != ci->num_pages))
		return pq_tr_corrupt(r, "ColumnIndex list lengths differ");
	return 0;
}

int pq_meta_decode_column_index(pq_column_index *out, const uint8_t *buf, size_t len,
                                const char *file, uint64_t file_offset,
                                floe_arena *arena, floe_error *err)
{
	pq_tr r;
	pq_tr_init(&r, buf, len, file, file_offset, err);
	return rd_column_index(&r, arena, out);
}

static int rd_page_location(pq_tr *r, pq_page_location *l)
{
	bool h1 = false, h2 = false, h3 = false;
	memset(l, 0, sizeof *l);
	BEGIN_STRUCT(r)
	case 1: rc = pq_tr_i64(r, t, &l->offset); h1 = true; if (!rc) rc = negative(r, l->offset, "PageLocation.offset"); break;
	case 2: rc = pq_tr_i32(r, t, &l->compressed_page_size); h2 = true; if (!rc) rc = negative(r, l->compressed_page_size, "PageLocation.compressed_page_size"); break;
	case 3: rc = pq_tr_i64(r, t, &l->first_row_index); h3 = true; if (!rc) rc = negative(r, l->first_row_index, "PageLocation.first_row_index"); break;
	END_STRUCT(r);
	if (!h1 || !h2 || !h3)
		return missing(r, "PageLocation.offset/compressed_page_size/first_row_index");
	return 0;
}

static int rd_offset_index(pq_tr *r, floe_arena *a, pq_offset_index *oi)
{
	bool h1 = false;
	int et;
	memset(oi, 0, sizeof *oi);
	BEGIN_STRUCT(r)
	case 1:
		h1 = true;
		if ((rc = pq_tr_list(r, t, PQ_T_STRUCT, &et, &oi->num_pages)))
			return rc;
		oi->pages = arr(r, a, oi->num_pages, sizeof *oi->pages, &rc);
		for (uint32_t i = 0; i < oi->num_pages && !rc; i++)
			rc = rd_page_location(r, &oi->pages[i]);
		break;
	case 2: rc = rd_i64_list(r, t, a, &oi->unencoded_byte_array_data_bytes, &oi->num_unencoded); break;
	END_STRUCT(r);
	if (!h1)
		return missing(r, "OffsetIndex.page_locations");
	return 0;
}

int pq_meta_decode_offset_index(pq_offset_index *out, const uint8_t *buf, size_t len,
                                const char *file, uint64_t file_offset,
                                floe_arena *arena, floe_error *err)
{
	pq_tr r;
	pq_tr_init(&r, buf, len, file, file_offset, err);
	return rd_offset_index(&r, arena, out);
}

/* ---- encoders ---- */
static void wr_bin(pq_tw *w, int16_t id, pq_bytes b)
{
	if (b.ptr)
		pq_tw_binary(w, id, b.ptr, b.len);
}

static void wr_stats(pq_tw *w, int16_t id, const pq_statistics *s)
{
	pq_tw_begin(w, id);
	wr_bin(w, 1, s->max);
	wr_bin(w, 2, s->min);
	if (s->has_null_count) pq_tw_i64(w, 3, s->null_count);
	if (s->has_distinct_count) pq_tw_i64(w, 4, s->distinct_count);
	wr_bin(w, 5, s->max_value);
	wr_bin(w, 6, s->min_value);
	if (s->has_is_max_value_exact) pq_tw_bool(w, 7, s->is_max_value_exact);
	if (s->has_is_min_value_exact) pq_tw_bool(w, 8, s->is_min_value_exact);
	pq_tw_end(w);
}

static void wr_unit(pq_tw *w, int16_t id, int unit)
{
	pq_tw_begin(w, id);
	pq_tw_begin(w, (int16_t)unit);
	pq_tw_end(w);
	pq_tw_end(w);
}

static void wr_logical(pq_tw *w, const pq_logical_type *lt)
{
	pq_tw_begin(w, 10);
	pq_tw_begin(w, (int16_t)lt->kind);
	switch (lt->kind) {
	case PQ_LT_DECIMAL:
		pq_tw_i32(w, 1, lt->scale);
		pq_tw_i32(w, 2, lt->precision);
		break;
	case PQ_LT_TIME:
	case PQ_LT_TIMESTAMP:
		pq_tw_bool(w, 1, lt->is_adjusted_to_utc);
		wr_unit(w, 2, lt->unit);
		break;
	case PQ_LT_INTEGER:
		pq_tw_field(w, PQ_T_BYTE, 1);
		if (!w->rc)
			w->rc = floe_buf_putc(w->b, (uint8_t)lt->bit_width);
		pq_tw_bool(w, 2, lt->is_signed);
		break;
	default:
		break;
	}
	pq_tw_end(w);
	pq_tw_end(w);
}

static void wr_schema(pq_tw *w, const pq_schema_element *e)
{
	pq_tw_begin(w, 0);
	if (e->type >= 0) pq_tw_i32(w, 1, e->type);
	if (e->type_length > 0) pq_tw_i32(w, 2, e->type_length);
	if (e->repetition >= 0) pq_tw_i32(w, 3, e->repetition);
	pq_tw_binary(w, 4, e->name.ptr ? e->name.ptr : (const uint8_t *)"", e->name.len);
	if (e->num_children > 0) pq_tw_i32(w, 5, e->num_children);
	if (e->converted_type >= 0) pq_tw_i32(w, 6, e->converted_type);
	if (e->has_scale) pq_tw_i32(w, 7, e->scale);
	if (e->has_precision) pq_tw_i32(w, 8, e->precision);
	if (e->has_field_id) pq_tw_i32(w, 9, e->field_id);
	if (e->logical.kind != PQ_LT_NONE) wr_logical(w, &e->logical);
	pq_tw_end(w);
}

static void wr_kv_list(pq_tw *w, int16_t id, const pq_key_value *kv, uint32_t n)
{
	pq_tw_list(w, id, PQ_T_STRUCT, n);
	for (uint32_t i = 0; i < n; i++) {
		pq_tw_begin(w, 0);
		wr_bin(w, 1, kv[i].key);
		wr_bin(w, 2, kv[i].value);
		pq_tw_end(w);
	}
}

static void wr_colmeta(pq_tw *w, const pq_column_meta *m)
{
	pq_tw_begin(w, 3);
	pq_tw_i32(w, 1, m->type);
	pq_tw_list(w, 2, PQ_T_I32, m->num_encodings);
	for (uint32_t i = 0; i < m->num_encodings; i++)
		pq_tw_zz(w, m->encodings[i]);
	pq_tw_list(w, 3, PQ_T_BINARY, m->path_len);
	for (uint32_t i = 0; i < m->path_len; i++)
		pq_tw_bytes(w, m->path_in_schema[i].ptr, m->path_in_schema[i].len);
	pq_tw_i32(w, 4, m->codec);
	pq_tw_i64(w, 5, m->num_values);
	pq_tw_i64(w, 6, m->total_uncompressed_size);
	pq_tw_i64(w, 7, m->total_compressed_size);
	if (m->kv) wr_kv_list(w, 8, m->kv, m->num_kv);
	pq_tw_i64(w, 9, m->data_page_offset);
	if (m->index_page_offset) pq_tw_i64(w, 10, m->index_page_offset);
	if (m->has_dictionary_page_offset) pq_tw_i64(w, 11, m->dictionary_page_offset);
	if (m->has_statistics) wr_stats(w, 12, &m->statistics);
	if (m->encoding_stats) {
		pq_tw_list(w, 13, PQ_T_STRUCT, m->num_encoding_stats);
		for (uint32_t i = 0; i < m->num_encoding_stats; i++) {
			pq_tw_begin(w, 0);
			pq_tw_i32(w, 1, m->encoding_stats[i].page_type);
			pq_tw_i32(w, 2, m->encoding_stats[i].encoding);
			pq_tw_i32(w, 3, m->encoding_stats[i].count);
			pq_tw_end(w);
		}
	}
	if (m->has_bloom_filter_offset) pq_tw_i64(w, 14, m->bloom_filter_offset);
	if (m->has_bloom_filter_length) pq_tw_i32(w, 15, m->bloom_filter_length);
	pq_tw_end(w);
}

static void wr_chunk(pq_tw *w, const pq_column_chunk *c)
{
	pq_tw_begin(w, 0);
	wr_bin(w, 1, c->file_path);
	pq_tw_i64(w, 2, c->file_offset);
	if (c->has_meta) wr_colmeta(w, &c->meta);
	if (c->has_offset_index) {
		pq_tw_i64(w, 4, c->offset_index_offset);
		pq_tw_i32(w, 5, c->offset_index_length);
	}
	if (c->has_column_index) {
		pq_tw_i64(w, 6, c->column_index_offset);
		pq_tw_i32(w, 7, c->column_index_length);
	}
	pq_tw_end(w);
}

int pq_meta_encode_file(floe_buf *out, const pq_file_meta *m)
{
	pq_tw w;
	pq_tw_init(&w, out);
	pq_tw_begin(&w, 0);
	pq_tw_i32(&w, 1, m->version);
	pq_tw_list(&w, 2, PQ_T_STRUCT, m->num_schema);
	for (uint32_t i = 0; i < m->num_schema; i++)
		wr_schema(&w, &m->schema[i]);
	pq_tw_i64(&w, 3, m->num_rows);
	pq_tw_list(&w, 4, PQ_T_STRUCT, m->num_row_groups);
	for (uint32_t i = 0; i < m->num_row_groups; i++) {
		const pq_row_group *g = &m->row_groups[i];
		pq_tw_begin(&w, 0);
		pq_tw_list(&w, 1, PQ_T_STRUCT, g->num_columns);
		for (uint32_t j = 0; j < g->num_columns; j++)
			wr_chunk(&w, &g->columns[j]);
		pq_tw_i64(&w, 2, g->total_byte_size);
		pq_tw_i64(&w, 3, g->num_rows);
		if (g->has_file_offset) pq_tw_i64(&w, 5, g->file_offset);
		if (g->has_total_compressed_size) pq_tw_i64(&w, 6, g->total_compressed_size);
		if (g->has_ordinal) {
			pq_tw_field(&w, PQ_T_I16, 7);
			pq_tw_zz(&w, g->ordinal);
		}
		pq_tw_end(&w);
	}
	if (m->kv) wr_kv_list(&w, 5, m->kv, m->num_kv);
	wr_bin(&w, 6, m->created_by);
	if (m->column_orders) {
		pq_tw_list(&w, 7, PQ_T_STRUCT, m->num_column_orders);
		for (uint32_t i = 0; i < m->num_column_orders; i++) {
			pq_tw_begin(&w, 0);
			pq_tw_begin(&w, (int16_t)(m->column_orders[i] ? m->column_orders[i] : 1));
			pq_tw_end(&w);
			pq_tw_end(&w);
		}
	}
	pq_tw_end(&w);
	return w.rc;
}

int pq_meta_encode_page_header(floe_buf *out, const pq_page_header *h)
{
	pq_tw w;
	pq_tw_init(&w, out);
	pq_tw_begin(&w, 0);
	pq_tw_i32(&w, 1, h->type);
	pq_tw_i32(&w, 2, h->uncompressed_page_size);
	pq_tw_i32(&w, 3, h->compressed_page_size);
	if (h->has_crc) pq_tw_i32(&w, 4, h->crc);
	if (h->has_data) {
		const pq_data_page_header *d = &h->data;
		pq_tw_begin(&w, 5);
		pq_tw_i32(&w, 1, d->num_values);
		pq_tw_i32(&w, 2, d->encoding);
		pq_tw_i32(&w, 3, d->definition_level_encoding);
		pq_tw_i32(&w, 4, d->repetition_level_encoding);
		if (d->has_statistics) wr_stats(&w, 5, &d->statistics);
		pq_tw_end(&w);
	}
	if (h->has_dict) {
		pq_tw_begin(&w, 7);
		pq_tw_i32(&w, 1, h->dict.num_values);
		pq_tw_i32(&w, 2, h->dict.encoding);
		pq_tw_bool(&w, 3, h->dict.is_sorted);
		pq_tw_end(&w);
	}
	if (h->has_data_v2) {
		const pq_data_page_header_v2 *d = &h->data_v2;
		pq_tw_begin(&w, 8);
		pq_tw_i32(&w, 1, d->num_values);
		pq_tw_i32(&w, 2, d->num_nulls);
		pq_tw_i32(&w, 3, d->num_rows);
		pq_tw_i32(&w, 4, d->encoding);
		pq_tw_i32(&w, 5, d->definition_levels_byte_length);
		pq_tw_i32(&w, 6, d->repetition_levels_byte_length);
		pq_tw_bool(&w, 7, d->is_compressed);
		if (d->has_statistics) wr_stats(&w, 8, &d->statistics);
		pq_tw_end(&w);
	}
	pq_tw_end(&w);
	return w.rc;
}

int pq_meta_encode_column_index(floe_buf *out, const pq_column_index *ci)
{
	pq_tw w;
	pq_tw_init(&w, out);
	pq_tw_begin(&w, 0);
	pq_tw_list(&w, 1, PQ_T_TRUE, ci->num_pages);
	for (uint32_t i = 0; i < ci->num_pages && !w.rc; i++)
		w.rc = floe_buf_putc(out, ci->null_pages[i] ? 1 : 0);
	pq_tw_list(&w, 2, PQ_T_BINARY, ci->num_pages);
	for (uint32_t i = 0; i < ci->num_pages; i++)
		pq_tw_bytes(&w, ci->min_values[i].ptr, ci->min_values[i].len);
	pq_tw_list(&w, 3, PQ_T_BINARY, ci->num_pages);
	for (uint32_t i = 0; i < ci->num_pages; i++)
		pq_tw_bytes(&w, ci->max_values[i].ptr, ci->max_values[i].len);
	pq_tw_i32(&w, 4, ci->boundary_order);
	if (ci->null_counts) {
		pq_tw_list(&w, 5, PQ_T_I64, ci->num_pages);
		for (uint32_t i = 0; i < ci->num_pages; i++)
			pq_tw_zz(&w, ci->null_counts[i]);
	}
	pq_tw_end(&w);
	return w.rc;
}

int pq_meta_encode_offset_index(floe_buf *out, const pq_offset_index *oi)
{
	pq_tw w;
	pq_tw_init(&w, out);
	pq_tw_begin(&w, 0);
	pq_tw_list(&w, 1, PQ_T_STRUCT, oi->num_pages);
	for (uint32_t i = 0; i < oi->num_pages; i++) {
		pq_tw_begin(&w, 0);
		pq_tw_i64(&w, 1, oi->pages[i].offset);
		pq_tw_i32(&w, 2, oi->pages[i].compressed_page_size);
		pq_tw_i64(&w, 3, oi->pages[i].first_row_index);
		pq_tw_end(&w);
	}
	if (oi->unencoded_byte_array_data_bytes) {
		pq_tw_list(&w, 2, PQ_T_I64, oi->num_unencoded);
		for (uint32_t i = 0; i < oi->num_unencoded; i++)
			pq_tw_zz(&w, oi->unencoded_byte_array_data_bytes[i]);
	}
	pq_tw_end(&w);
	return w.rc;
}

/* ---- names ---- */
#define NAME(tab, v) ((v) >= 0 && (size_t)(v) < sizeof tab / sizeof tab[0] && tab[v] ? tab[v] : "?")

const char *pq_type_name(int type)
{
	static const char *const n[] = { "BOOLEAN", "INT32", "INT64", "INT96", "FLOAT",
	                                 "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY" };
	return NAME(n, type);
}

const char *pq_repetition_name(int rep)
{
	static const char *const n[] = { "REQUIRED", "OPTIONAL", "REPEATED" };
	return NAME(n, rep);
}

const char *pq_encoding_name(int enc)
{
	static const char *const n[] = { "PLAIN", NULL, "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
	                                 "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY",
	                                 "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT" };
	return NAME(n, enc);
}

const char *pq_page_type_name(int type)
{
	static const char *const n[] = { "DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE", "DATA_PAGE_V2" };
	return NAME(n, type);
}

const char *pq_converted_name(int ct)
{
	static const char *const n[] = {
		"UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL", "DATE", "TIME_MILLIS",
		"TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS", "UINT_8", "UINT_16",
		"UINT_32", "UINT_64", "INT_8", "INT_16", "INT_32", "INT_64", "JSON", "BSON",
		"INTERVAL"
	};
	return NAME(n, ct);
}

int64_t pq_chunk_start(const pq_column_meta *m)
{
	if (m->has_dictionary_page_offset && m->dictionary_page_offset > 0 &&
	    m->dictionary_page_offset < m->data_page_offset)
		return m->dictionary_page_offset;
	return m->data_page_offset;
}

const char *pq_codec_name(int codec)
{
	static const char *const n[] = { "UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI",
	                                 "LZ4", "ZSTD", "LZ4_RAW" };
	return NAME(n, codec);
}
