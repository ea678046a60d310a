/* parquet/reader_describe.c - the footer of a Parquet file as one JSON
 * document (floe_parquet_reader_describe), built with jansson. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "floe/parquet.h"
#include "parquet/meta.h"
#include "parquet/reader_int.h"

static json_t *jstr(pq_bytes b)
{
	if (!b.ptr)
		return json_null();
	json_t *s = NULL;
	if (!memchr(b.ptr, 0, b.len))
		s = json_stringn((const char *)b.ptr, b.len); /* NULL when not UTF-8 */
	if (s)
		return s;
	/* not UTF-8: hex */
	char *hex = malloc((size_t)b.len * 2 + 1);
	if (!hex)
		return json_null();
	for (uint32_t i = 0; i < b.len; i++) {
		static const char d[] = "0123456789abcdef";
		hex[2 * i] = d[b.ptr[i] >> 4];
		hex[2 * i + 1] = d[b.ptr[i] & 15];
	}
	hex[2 * (size_t)b.len] = 0;
	s = json_string(hex);
	free(hex);
	return s ? s : json_null();
}

static int set(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new(o, k, v ? v : json_null());
}

static json_t *logical_json(const pq_logical_type *lt)
{
	static const char *names[] = { NULL, "STRING", "MAP", "LIST", "ENUM", "DECIMAL", "DATE", "TIME",
		"TIMESTAMP", NULL, "INTEGER", "UNKNOWN", "JSON", "BSON", "UUID", "FLOAT16",
		"VARIANT", "GEOMETRY", "GEOGRAPHY" };
	static const char *units[] = { "?", "MILLIS", "MICROS", "NANOS" };
	if (lt->kind <= 0 || lt->kind >= (int)(sizeof(names) / sizeof(names[0])) || !names[lt->kind])
		return NULL;
	json_t *o = json_object();
	set(o, "type", json_string(names[lt->kind]));
	switch (lt->kind) {
	case PQ_LT_DECIMAL:
		set(o, "precision", json_integer(lt->precision));
		set(o, "scale", json_integer(lt->scale));
		break;
	case PQ_LT_TIME: case PQ_LT_TIMESTAMP:
		set(o, "unit", json_string(units[lt->unit >= 1 && lt->unit <= 3 ? lt->unit : 0]));
		set(o, "is_adjusted_to_utc", json_boolean(lt->is_adjusted_to_utc));
		break;
	case PQ_LT_INTEGER:
		set(o, "bit_width", json_integer(lt->bit_width));
		set(o, "is_signed", json_boolean(lt->is_signed));
		break;
	}
	return o;
}

/* A statistics value decoded to the column's floe type. */
static json_t *stat_json(const pq_leaf *lf, pq_bytes b)
{
	uint8_t tmp[16];
	pq_bytes bo = { NULL, 0 };
	if (!b.ptr)
		return NULL;
	if (!lf)
		return jstr(b);
	if (lf->pwidth > 0 && b.len != (uint32_t)lf->pwidth)
		return jstr(b);
	if (pq_convert(lf, tmp, &bo, b.ptr, b, NULL) < 0)
		return jstr(b);
	int64_t i64;
	int32_t i32;
	float f;
	double d;
	switch (lf->type.id) {
	case FLOE_TYPE_BOOLEAN:
		return json_boolean(tmp[0]);
	case FLOE_TYPE_INT: case FLOE_TYPE_DATE:
		memcpy(&i32, tmp, 4);
		return json_integer(lf->type.is_unsigned ? (json_int_t)(uint32_t)i32 : i32);
	case FLOE_TYPE_FLOAT:
		memcpy(&f, tmp, 4);
		return isfinite(f) ? json_real(f) : json_string(isnan(f) ? "NaN" : f > 0 ? "Infinity" : "-Infinity");
	case FLOE_TYPE_DOUBLE:
		memcpy(&d, tmp, 8);
		return isfinite(d) ? json_real(d) : json_string(isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
	case FLOE_TYPE_STRING: case FLOE_TYPE_JSON: case FLOE_TYPE_BINARY:
		return jstr(bo);
	case FLOE_TYPE_DECIMAL:
		if (lf->type.width == 16)
			return jstr((pq_bytes){ tmp, 16 });
		memcpy(&i64, tmp, 8);
		return json_integer(i64);
	case FLOE_TYPE_UUID: case FLOE_TYPE_FIXED:
		return jstr((pq_bytes){ tmp, (uint32_t)lf->type.width });
	default:
		memcpy(&i64, tmp, 8);
		return json_integer(i64);
	}
}

static json_t *stats_json(const pq_leaf *lf, const pq_statistics *st)
{
	json_t *o = json_object();
	if (st->min_value.ptr)
		set(o, "min_value", stat_json(lf, st->min_value));
	if (st->max_value.ptr)
		set(o, "max_value", stat_json(lf, st->max_value));
	if (st->min.ptr)
		set(o, "min", stat_json(lf, st->min));
	if (st->max.ptr)
		set(o, "max", stat_json(lf, st->max));
	if (st->has_null_count)
		set(o, "null_count", json_integer(st->null_count));
	if (st->has_distinct_count)
		set(o, "distinct_count", json_integer(st->distinct_count));
	return o;
}

int floe_parquet_reader_describe(char **out, floe_parquet_reader *r, floe_error *err)
{
	const pq_file_meta *m = &r->meta;
	json_t *doc = json_object();
	json_t *schema = json_array(), *kv = json_object(), *rgs = json_array();
	int rc = 0;

	*out = NULL;
	if (!doc || !schema || !kv || !rgs) {
		json_decref(doc);
		json_decref(schema);
		json_decref(kv);
		json_decref(rgs);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	set(doc, "file", json_string(r->name));
	set(doc, "version", json_integer(m->version));
	set(doc, "num_rows", json_integer(m->num_rows));
	set(doc, "created_by", jstr(m->created_by));
	for (uint32_t i = 0; i < m->num_schema; i++) {
		const pq_schema_element *e = &m->schema[i];
		json_t *o = json_object();
		set(o, "name", jstr(e->name));
		if (e->type >= 0)
			set(o, "type", json_string(pq_type_name(e->type)));
		if (e->type_length > 0)
			set(o, "type_length", json_integer(e->type_length));
		if (e->repetition >= 0)
			set(o, "repetition", json_string(pq_repetition_name(e->repetition)));
		if (e->num_children > 0)
			set(o, "num_children", json_integer(e->num_children));
		if (e->converted_type >= 0)
			set(o, "converted_type", json_string(pq_converted_name(e->converted_type)));
		if (e->has_scale)
			set(o, "scale", json_integer(e->scale));
		if (e->has_precision)
			set(o, "precision", json_integer(e->precision));
		if (e->has_field_id)
			set(o, "field_id", json_integer(e->field_id));
		json_t *lt = logical_json(&e->logical);
		if (lt)
			set(o, "logical_type", lt);
		json_array_append_new(schema, o);
	}
	set(doc, "schema", schema);
	for (uint32_t i = 0; i < m->num_kv; i++) {
		char *k = strndup((const char *)m->kv[i].key.ptr, m->kv[i].key.len);
		if (!k) {
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
			break;
		}
		set(kv, k, jstr(m->kv[i].value));
		free(k);
	}
	set(doc, "key_value_metadata", kv);
	for (uint32_t g = 0; g < m->num_row_groups; g++) {
		const pq_row_group *rg = &m->row_groups[g];
		json_t *o = json_object(), *cols = json_array();
		set(o, "num_rows", json_integer(rg->num_rows));
		set(o, "total_byte_size", json_integer(rg->total_byte_size));
		if (rg->has_total_compressed_size)
			set(o, "total_compressed_size", json_integer(rg->total_compressed_size));
		for (uint32_t c = 0; c < rg->num_columns; c++) {
			const pq_column_chunk *cc = &rg->columns[c];
			const pq_column_meta *cm = &cc->meta;
			const pq_leaf *lf = NULL;
			for (int k = 0; k < r->nleaves; k++)
				if (r->leaves[k].chunk == (int)c)
					lf = &r->leaves[k];
			json_t *co = json_object();
			if (cc->has_meta) {
				json_t *path = json_array(), *encs = json_array();
				for (uint32_t p = 0; p < cm->path_len; p++)
					json_array_append_new(path, jstr(cm->path_in_schema[p]));
				for (uint32_t p = 0; p < cm->num_encodings; p++)
					json_array_append_new(encs, json_string(pq_encoding_name(cm->encodings[p])));
				set(co, "path", path);
				set(co, "type", json_string(pq_type_name(cm->type)));
				set(co, "codec", json_string(pq_codec_name(cm->codec)));
				set(co, "encodings", encs);
				set(co, "num_values", json_integer(cm->num_values));
				set(co, "total_compressed_size", json_integer(cm->total_compressed_size));
				set(co, "total_uncompressed_size", json_integer(cm->total_uncompressed_size));
				set(co, "data_page_offset", json_integer(cm->data_page_offset));
				if (cm->has_dictionary_page_offset)
					set(co, "dictionary_page_offset", json_integer(cm->dictionary_page_offset));
				if (cm->has_statistics)
					set(co, "statistics", stats_json(lf, &cm->statistics));
			}
			set(co, "file_offset", json_integer(cc->file_offset));
			set(co, "has_column_index", json_boolean(cc->has_column_index));
			set(co, "has_offset_index", json_boolean(cc->has_offset_index));
			json_array_append_new(cols, co);
		}
		set(o, "columns", cols);
		json_array_append_new(rgs, o);
	}
	set(doc, "row_groups", rgs);
	if (rc == 0) {
		*out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (!*out)
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	json_decref(doc);
	return rc;
}
