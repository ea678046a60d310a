/* iceberg/manifest_write.c - writing manifests and manifest lists as Avro
 * object container files (iceberg spec "Manifests", "Manifest Lists") in
 * format v2 with the spec's field ids. Used by the table layer's commits. */
#include "iceberg/manifest.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "floe/avro.h"
#include "iceberg/transform.h"
#include "util/buf.h"

/* ---- small helpers ----------------------------------------------------- */

static int nomem(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

static int puts_buf(floe_buf *b, const char *s)
{
	return floe_buf_append(b, s, strlen(s));
}

static int printf_buf(floe_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int printf_buf(floe_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return FLOE_EINVALID;
	return floe_buf_append(b, tmp, (size_t)n);
}

/* Bytes of the smallest fixed that holds every unscaled value of a decimal
 * of precision P (iceberg spec, "Appendix A: Avro": decimal(P,S) is a fixed
 * of minimum size). */
static int decimal_fixed_size(int32_t precision)
{
	for (int n = 1; n <= 16; n++) {
		/* largest positive value of n bytes: 2^(8n-1) - 1 >= 10^P - 1 */
		if ((double)(8 * n - 1) * 0.30102999566398120 >= (double)precision)
			return n;
	}
	return 16;
}

/* ---- Avro value builders (in a scratch arena) -------------------------- */

typedef struct vb {
	floe_arena *a;
	int oom;
} vb;

static floe_avro_value *vb_new(vb *b, size_t n)
{
	floe_avro_value *v = floe_arena_calloc(b->a, n ? n : 1, sizeof *v);
	if (!v)
		b->oom = 1;
	return v;
}

static void v_long(floe_avro_value *v, floe_avro_kind kind, int64_t i)
{
	v->kind = kind;
	v->i = i;
}

static void v_bytes(floe_avro_value *v, floe_avro_kind kind, const void *p, size_t len)
{
	v->kind = kind;
	v->bytes = p ? p : (const uint8_t *)"";
	v->len = len;
}

/* union ["null", T]: null branch or branch 1 holding a fresh value */
static floe_avro_value *v_opt(vb *b, floe_avro_value *v, bool present)
{
	v->kind = FLOE_AVRO_UNION;
	v->n = 1;
	v->items = vb_new(b, 1);
	if (!v->items)
		return NULL;
	if (!present) {
		v->i = 0;
		v->items[0].kind = FLOE_AVRO_NULL;
		return NULL;
	}
	v->i = 1;
	return &v->items[0];
}

static void v_record(vb *b, floe_avro_value *v, size_t n)
{
	v->kind = FLOE_AVRO_RECORD;
	v->n = n;
	v->items = vb_new(b, n);
}

/* ---- manifest schema (iceberg spec "Manifests", Java's v2 layout) ------ */

/* Avro names allow [A-Za-z_][A-Za-z0-9_]*: other characters become "_x"
 * plus their hex code, a leading digit gets "_" (as Java Iceberg does). */
static int put_avro_name(floe_buf *b, const char *name)
{
	int rc = 0;
	for (size_t k = 0; name[k] && !rc; k++) {
		unsigned char c = (unsigned char)name[k];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		          (k > 0 && c >= '0' && c <= '9');
		if (ok)
			rc = floe_buf_putc(b, c);
		else if (k == 0 && c >= '0' && c <= '9')
			rc = printf_buf(b, "_%c", c);
		else
			rc = printf_buf(b, "_x%X", c);
	}
	if (!name[0])
		rc = puts_buf(b, "_");
	return rc;
}

/* Named fixed types may be defined once per schema; later uses name them. */
typedef struct names {
	char list[64][48];
	int n;
} names;

static int put_named(floe_buf *b, names *nm, const char *name, const char *def)
{
	for (int k = 0; k < nm->n; k++)
		if (strcmp(nm->list[k], name) == 0)
			return printf_buf(b, "\"%s\"", name);
	if (nm->n < 64)
		snprintf(nm->list[nm->n++], sizeof nm->list[0], "%s", name);
	return puts_buf(b, def);
}

/* Avro type of a partition value (spec "Appendix A: Avro"). */
static int put_partition_type(floe_buf *b, names *nm, const floe_type *t, floe_error *err)
{
	char name[48], def[192];
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN: return puts_buf(b, "\"boolean\"");
	case FLOE_TYPE_INT: return puts_buf(b, "\"int\"");
	case FLOE_TYPE_LONG: return puts_buf(b, "\"long\"");
	case FLOE_TYPE_FLOAT: return puts_buf(b, "\"float\"");
	case FLOE_TYPE_DOUBLE: return puts_buf(b, "\"double\"");
	case FLOE_TYPE_DATE: return puts_buf(b, "{\"type\":\"int\",\"logicalType\":\"date\"}");
	case FLOE_TYPE_TIME: return puts_buf(b, "{\"type\":\"long\",\"logicalType\":\"time-micros\"}");
	case FLOE_TYPE_TIMESTAMP:
		return puts_buf(b, "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\","
		                   "\"adjust-to-utc\":false}");
	case FLOE_TYPE_TIMESTAMPTZ:
		return puts_buf(b, "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\","
		                   "\"adjust-to-utc\":true}");
	case FLOE_TYPE_TIMESTAMP_NS:
		return puts_buf(b, "{\"type\":\"long\",\"logicalType\":\"timestamp-nanos\","
		                   "\"adjust-to-utc\":false}");
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		return puts_buf(b, "{\"type\":\"long\",\"logicalType\":\"timestamp-nanos\","
		                   "\"adjust-to-utc\":true}");
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_JSON: return puts_buf(b, "\"string\"");
	case FLOE_TYPE_BINARY: return puts_buf(b, "\"bytes\"");
	case FLOE_TYPE_UUID:
		return put_named(b, nm, "uuid_fixed",
		                 "{\"type\":\"fixed\",\"name\":\"uuid_fixed\",\"size\":16,"
		                 "\"logicalType\":\"uuid\"}");
	case FLOE_TYPE_FIXED:
		if (t->width <= 0)
			break;
		snprintf(name, sizeof name, "fixed_%d", (int)t->width);
		snprintf(def, sizeof def, "{\"type\":\"fixed\",\"name\":\"%s\",\"size\":%d}", name,
		         (int)t->width);
		return put_named(b, nm, name, def);
	case FLOE_TYPE_DECIMAL:
		if (t->precision < 1 || t->precision > 38 || t->scale < 0 || t->scale > t->precision)
			break;
		snprintf(name, sizeof name, "decimal_%d_%d", (int)t->precision, (int)t->scale);
		snprintf(def, sizeof def,
		         "{\"type\":\"fixed\",\"name\":\"%s\",\"size\":%d,\"logicalType\":\"decimal\","
		         "\"precision\":%d,\"scale\":%d}",
		         name, decimal_fixed_size(t->precision), (int)t->precision, (int)t->scale);
		return put_named(b, nm, name, def);
	}
	return floe_error_set(err, FLOE_EINVALID, "manifest: partition type %d cannot be written",
	                      (int)t->id);
}

static int put_map_field(floe_buf *b, const char *name, int id, int kid, int vid,
                         const char *vtype, const char *doc)
{
	return printf_buf(b,
	                  ",{\"name\":\"%s\",\"type\":[\"null\",{\"type\":\"array\",\"items\":"
	                  "{\"type\":\"record\",\"name\":\"k%d_v%d\",\"fields\":[{\"name\":\"key\","
	                  "\"type\":\"int\",\"field-id\":%d},{\"name\":\"value\",\"type\":\"%s\","
	                  "\"field-id\":%d}]},\"logicalType\":\"map\"}],",
	                  name, kid, vid, kid, vtype, vid) ||
	       printf_buf(b, "\"doc\":\"%s\",\"default\":null,\"field-id\":%d}", doc, id);
}

static int manifest_schema_json(floe_buf *b, const ice_partition_spec *spec,
                                const floe_type *types, floe_error *err)
{
	names nm;
	int rc;
	nm.n = 0;
	rc = puts_buf(b,
	    "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
	    "{\"name\":\"status\",\"type\":\"int\",\"field-id\":0},"
	    "{\"name\":\"snapshot_id\",\"type\":[\"null\",\"long\"],\"default\":null,\"field-id\":1},"
	    "{\"name\":\"sequence_number\",\"type\":[\"null\",\"long\"],\"default\":null,"
	    "\"field-id\":3},"
	    "{\"name\":\"file_sequence_number\",\"type\":[\"null\",\"long\"],\"default\":null,"
	    "\"field-id\":4},"
	    "{\"name\":\"data_file\",\"type\":{\"type\":\"record\",\"name\":\"r2\",\"fields\":["
	    "{\"name\":\"content\",\"type\":\"int\",\"doc\":\"Contents of the file: 0=data, "
	    "1=position deletes, 2=equality deletes\",\"field-id\":134},"
	    "{\"name\":\"file_path\",\"type\":\"string\",\"doc\":\"Location URI with FS scheme\","
	    "\"field-id\":100},"
	    "{\"name\":\"file_format\",\"type\":\"string\",\"doc\":\"File format name: avro, orc, "
	    "or parquet\",\"field-id\":101},"
	    "{\"name\":\"partition\",\"type\":{\"type\":\"record\",\"name\":\"r102\",\"fields\":[");
	for (int k = 0; !rc && k < spec->nfields; k++) {
		rc = puts_buf(b, k ? ",{\"name\":\"" : "{\"name\":\"");
		rc = rc ? rc : put_avro_name(b, spec->fields[k].name ? spec->fields[k].name : "");
		rc = rc ? rc : puts_buf(b, "\",\"type\":[\"null\",");
		if (!rc) {
			rc = put_partition_type(b, &nm, &types[k], err);
			if (rc == FLOE_EINVALID)
				return rc;
		}
		rc = rc ? rc : printf_buf(b, "],\"default\":null,\"field-id\":%d}",
		                          (int)spec->fields[k].field_id);
	}
	rc = rc ? rc : puts_buf(b,
	    "]},\"doc\":\"Partition data tuple, schema based on the partition spec\","
	    "\"field-id\":102},"
	    "{\"name\":\"record_count\",\"type\":\"long\",\"doc\":\"Number of records in the file\","
	    "\"field-id\":103},"
	    "{\"name\":\"file_size_in_bytes\",\"type\":\"long\",\"doc\":\"Total file size in bytes\","
	    "\"field-id\":104}");
	rc = rc ? rc : put_map_field(b, "column_sizes", 108, 117, 118, "long",
	                             "Map of column id to total size on disk");
	rc = rc ? rc : put_map_field(b, "value_counts", 109, 119, 120, "long",
	                             "Map of column id to total count, including null and NaN");
	rc = rc ? rc : put_map_field(b, "null_value_counts", 110, 121, 122, "long",
	                             "Map of column id to null value count");
	rc = rc ? rc : put_map_field(b, "nan_value_counts", 137, 138, 139, "long",
	                             "Map of column id to number of NaN values in the column");
	rc = rc ? rc : put_map_field(b, "lower_bounds", 125, 126, 127, "bytes",
	                             "Map of column id to lower bound");
	rc = rc ? rc : put_map_field(b, "upper_bounds", 128, 129, 130, "bytes",
	                             "Map of column id to upper bound");
	rc = rc ? rc : puts_buf(b,
	    ",{\"name\":\"key_metadata\",\"type\":[\"null\",\"bytes\"],\"doc\":\"Encryption key "
	    "metadata blob\",\"default\":null,\"field-id\":131},"
	    "{\"name\":\"split_offsets\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"long\","
	    "\"element-id\":133}],\"doc\":\"Splittable offsets\",\"default\":null,\"field-id\":132},"
	    "{\"name\":\"equality_ids\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"int\","
	    "\"element-id\":136}],\"doc\":\"Equality comparison field IDs\",\"default\":null,"
	    "\"field-id\":135},"
	    "{\"name\":\"sort_order_id\",\"type\":[\"null\",\"int\"],\"doc\":\"Sort order ID\","
	    "\"default\":null,\"field-id\":140},"
	    "{\"name\":\"referenced_data_file\",\"type\":[\"null\",\"string\"],\"doc\":\"Fully "
	    "qualified location (URI with FS scheme) of a data file that all deletes reference\","
	    "\"default\":null,\"field-id\":143}"
	    "]},\"field-id\":2}]}");
	return rc ? nomem(err) : 0;
}

/* ---- writing one entry -------------------------------------------------- */

/* Decimal unscaled value as big-endian two's complement in `size` bytes
 * (written into `out`); FLOE_EINVALID when it does not fit. */
static int decimal_to_fixed(uint8_t *out, int size, const floe_type *t, const floe_value *v)
{
	uint8_t be[16];
	if (t->precision <= 18) {
		uint64_t u = (uint64_t)v->i;
		memset(be, v->i < 0 ? 0xff : 0, 8);
		for (int k = 0; k < 8; k++)
			be[8 + k] = (uint8_t)(u >> (8 * (7 - k)));
	} else {
		if (!v->bytes || v->len != 16)
			return FLOE_EINVALID;
		memcpy(be, v->bytes, 16);
	}
	uint8_t sign = (be[0] & 0x80) ? 0xff : 0;
	for (int k = 0; k < 16 - size; k++)
		if (be[k] != sign)
			return FLOE_EINVALID;
	if (((be[16 - size] & 0x80) ? 0xff : 0) != sign)
		return FLOE_EINVALID;
	memcpy(out, be + 16 - size, (size_t)size);
	return 0;
}

static int partition_to_avro(vb *b, floe_avro_value *v, const floe_type *t, const ice_datum *d,
                             floe_error *err)
{
	const floe_value *x = &d->v;
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN: v_long(v, FLOE_AVRO_BOOLEAN, x->b ? 1 : 0); return 0;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE: v_long(v, FLOE_AVRO_INT, x->i); return 0;
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS: v_long(v, FLOE_AVRO_LONG, x->i); return 0;
	case FLOE_TYPE_FLOAT: v->kind = FLOE_AVRO_FLOAT; v->d = x->d; return 0;
	case FLOE_TYPE_DOUBLE: v->kind = FLOE_AVRO_DOUBLE; v->d = x->d; return 0;
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_JSON:
		if (x->len < 0)
			break;
		v_bytes(v, FLOE_AVRO_STRING, x->bytes, (size_t)x->len);
		return 0;
	case FLOE_TYPE_BINARY:
		if (x->len < 0)
			break;
		v_bytes(v, FLOE_AVRO_BYTES, x->bytes, (size_t)x->len);
		return 0;
	case FLOE_TYPE_UUID:
	case FLOE_TYPE_FIXED:
		if (!x->bytes || x->len != (t->id == FLOE_TYPE_UUID ? 16 : t->width))
			break;
		v_bytes(v, FLOE_AVRO_FIXED, x->bytes, (size_t)x->len);
		return 0;
	case FLOE_TYPE_DECIMAL: {
		int size = decimal_fixed_size(t->precision);
		uint8_t *p = floe_arena_alloc(b->a, 16);
		if (!p) {
			b->oom = 1;
			return 0;
		}
		if (decimal_to_fixed(p, size, t, x))
			break;
		v_bytes(v, FLOE_AVRO_FIXED, p, (size_t)size);
		return 0;
	}
	}
	return floe_error_set(err, FLOE_EINVALID,
	                      "manifest: partition value does not fit its type %d", (int)t->id);
}

/* One map field (array of key/value records) from the metrics; null when
 * no column has that metric. which: 0 sizes, 1 values, 2 nulls, 3 nans,
 * 4 lower, 5 upper. */
static void metrics_map(vb *b, floe_avro_value *v, const ice_data_file *f, int which)
{
	size_t n = 0;
	for (int k = 0; k < f->nmetrics; k++) {
		const ice_column_metrics *c = &f->metrics[k];
		int64_t x = which == 0 ? c->column_size : which == 1 ? c->value_count :
		            which == 2 ? c->null_count : c->nan_count;
		bool present = which == 4 ? c->lower != NULL : which == 5 ? c->upper != NULL : x >= 0;
		n += present;
	}
	floe_avro_value *arr = v_opt(b, v, n > 0);
	if (!arr)
		return;
	arr->kind = FLOE_AVRO_ARRAY;
	arr->n = n;
	arr->items = vb_new(b, n);
	if (!arr->items)
		return;
	size_t j = 0;
	for (int k = 0; k < f->nmetrics; k++) {
		const ice_column_metrics *c = &f->metrics[k];
		int64_t x = which == 0 ? c->column_size : which == 1 ? c->value_count :
		            which == 2 ? c->null_count : c->nan_count;
		bool present = which == 4 ? c->lower != NULL : which == 5 ? c->upper != NULL : x >= 0;
		if (!present)
			continue;
		floe_avro_value *r = &arr->items[j++];
		v_record(b, r, 2);
		if (!r->items)
			return;
		v_long(&r->items[0], FLOE_AVRO_INT, c->field_id);
		if (which == 4)
			v_bytes(&r->items[1], FLOE_AVRO_BYTES, c->lower, c->lower_len);
		else if (which == 5)
			v_bytes(&r->items[1], FLOE_AVRO_BYTES, c->upper, c->upper_len);
		else
			v_long(&r->items[1], FLOE_AVRO_LONG, x);
	}
}

static int entry_to_avro(vb *b, floe_avro_value **out, const ice_manifest_write_info *info,
                         const ice_manifest_entry *e, floe_error *err)
{
	const ice_data_file *f = &e->file;
	floe_avro_value *v = vb_new(b, 1), *x;
	int rc;
	if (!v)
		return nomem(err);
	if (e->status < ICE_STATUS_EXISTING || e->status > ICE_STATUS_DELETED)
		return floe_error_set(err, FLOE_EINVALID, "manifest: bad entry status %d", e->status);
	if (f->content < ICE_CONTENT_DATA || f->content > ICE_CONTENT_EQUALITY_DELETES ||
	    !f->file_path || !f->file_format)
		return floe_error_set(err, FLOE_EINVALID, "manifest: incomplete data file");
	if (f->npartition != info->spec->nfields || (f->npartition && !f->partition) ||
	    (f->nmetrics && !f->metrics) || (f->nsplit_offsets && !f->split_offsets) ||
	    (f->nequality_ids && !f->equality_ids) || f->nmetrics < 0 || f->nsplit_offsets < 0 ||
	    f->nequality_ids < 0)
		return floe_error_set(err, FLOE_EINVALID,
		                      "manifest: %s: %d partition values for spec %d of %d fields",
		                      f->file_path, f->npartition, (int)info->spec->spec_id,
		                      info->spec->nfields);
	v_record(b, v, 5);
	if (!v->items)
		return nomem(err);
	v_long(&v->items[0], FLOE_AVRO_INT, e->status);
	/* iceberg spec "Snapshot ID Inheritance", "Sequence Number Inheritance":
	 * ADDED entries of this commit carry its snapshot id; their sequence
	 * numbers are null when the commit assigns them later. */
	bool added = e->status == ICE_STATUS_ADDED;
	int64_t snap = added ? info->snapshot_id : e->snapshot_id;
	bool inherit = added && info->sequence_number < 0;
	int64_t seq = added ? info->sequence_number : e->sequence_number;
	int64_t fseq = added ? info->sequence_number : e->file_sequence_number;
	if ((x = v_opt(b, &v->items[1], true)))
		v_long(x, FLOE_AVRO_LONG, snap);
	if ((x = v_opt(b, &v->items[2], !inherit && seq >= 0)))
		v_long(x, FLOE_AVRO_LONG, seq);
	if ((x = v_opt(b, &v->items[3], !inherit && fseq >= 0)))
		v_long(x, FLOE_AVRO_LONG, fseq);

	floe_avro_value *df = &v->items[4];
	v_record(b, df, 17);
	if (!df->items)
		return nomem(err);
	floe_avro_value *it = df->items;
	v_long(&it[0], FLOE_AVRO_INT, f->content);
	v_bytes(&it[1], FLOE_AVRO_STRING, f->file_path, strlen(f->file_path));
	v_bytes(&it[2], FLOE_AVRO_STRING, f->file_format, strlen(f->file_format));
	v_record(b, &it[3], (size_t)f->npartition);
	if (!it[3].items)
		return nomem(err);
	for (int k = 0; k < f->npartition; k++) {
		const ice_datum *d = &f->partition[k];
		x = v_opt(b, &it[3].items[k], !d->is_null);
		if (x && (rc = partition_to_avro(b, x, &info->partition_types[k], d, err)))
			return rc;
	}
	v_long(&it[4], FLOE_AVRO_LONG, f->record_count);
	v_long(&it[5], FLOE_AVRO_LONG, f->file_size_in_bytes);
	for (int w = 0; w < 6; w++)
		metrics_map(b, &it[6 + w], f, w);
	if ((x = v_opt(b, &it[12], f->key_metadata != NULL)))
		v_bytes(x, FLOE_AVRO_BYTES, f->key_metadata, f->key_metadata_len);
	if ((x = v_opt(b, &it[13], f->nsplit_offsets > 0))) {
		x->kind = FLOE_AVRO_ARRAY;
		x->n = (size_t)f->nsplit_offsets;
		if ((x->items = vb_new(b, x->n)))
			for (size_t k = 0; k < x->n; k++)
				v_long(&x->items[k], FLOE_AVRO_LONG, f->split_offsets[k]);
	}
	if ((x = v_opt(b, &it[14], f->nequality_ids > 0))) {
		x->kind = FLOE_AVRO_ARRAY;
		x->n = (size_t)f->nequality_ids;
		if ((x->items = vb_new(b, x->n)))
			for (size_t k = 0; k < x->n; k++)
				v_long(&x->items[k], FLOE_AVRO_INT, f->equality_ids[k]);
	}
	if ((x = v_opt(b, &it[15], f->has_sort_order_id)))
		v_long(x, FLOE_AVRO_INT, f->sort_order_id);
	if ((x = v_opt(b, &it[16], f->referenced_data_file != NULL)))
		v_bytes(x, FLOE_AVRO_STRING, f->referenced_data_file, strlen(f->referenced_data_file));
	if (b->oom)
		return nomem(err);
	*out = v;
	return 0;
}

/* ---- partition summaries (spec "Manifest Lists": field_summary) --------- */

typedef struct summary_acc {
	bool contains_null, contains_nan, has;
	ice_datum lo, hi;
} summary_acc;

static void summary_update(summary_acc *s, const floe_type *t, const ice_datum *d)
{
	if (d->is_null) {
		s->contains_null = true;
		return;
	}
	if ((t->id == FLOE_TYPE_FLOAT || t->id == FLOE_TYPE_DOUBLE) && isnan(d->v.d)) {
		s->contains_nan = true;
		return;
	}
	if (!s->has) {
		s->lo = *d;
		s->hi = *d;
		s->has = true;
		return;
	}
	if (ice_value_compare(t, &d->v, &s->lo.v) < 0)
		s->lo = *d;
	if (ice_value_compare(t, &d->v, &s->hi.v) > 0)
		s->hi = *d;
}

static int serialize_copy(const uint8_t **out, size_t *len, const floe_type *t,
                          const floe_value *v, floe_arena *arena, floe_error *err)
{
	floe_buf b = FLOE_BUF_INIT;
	int rc = ice_value_serialize(&b, t, v, err);
	if (rc)
		goto done;
	uint8_t *p = floe_arena_alloc(arena, b.len ? b.len : 1);
	if (!p) {
		rc = nomem(err);
		goto done;
	}
	if (b.len)
		memcpy(p, b.data, b.len);
	*out = p;
	*len = b.len;
done:
	floe_buf_free(&b);
	return rc;
}

/* ---- ice_manifest_write ------------------------------------------------- */

int ice_manifest_write(const char *path, const ice_manifest_write_info *info,
                       const ice_manifest_entry *entries, size_t n, floe_arena *arena,
                       ice_manifest_file *out, floe_error *err)
{
	floe_buf schema = FLOE_BUF_INIT;
	char *schema_text = NULL, *spec_text = NULL;
	floe_avro_writer *w = NULL;
	floe_arena *scratch = NULL;
	summary_acc *acc = NULL;
	const uint8_t *data;
	size_t len;
	int rc;

	if (!path || !info || !info->schema || !info->spec || (n && !entries) ||
	    (info->spec->nfields && !info->partition_types) || (out && !arena) ||
	    (info->content != ICE_CONTENT_DATA && info->content != 1))
		return floe_error_set(err, FLOE_EINVALID, "manifest write: bad arguments");
	int nf = info->spec->nfields;
	if ((rc = manifest_schema_json(&schema, info->spec, info->partition_types, err)))
		goto done;
	if ((rc = ice_schema_to_json(&schema_text, info->schema, err)) ||
	    (rc = ice_spec_fields_to_json(&spec_text, info->spec, err)))
		goto done;
	char schema_id[24], spec_id[24];
	snprintf(schema_id, sizeof schema_id, "%d", (int)info->schema->schema_id);
	snprintf(spec_id, sizeof spec_id, "%d", (int)info->spec->spec_id);
	/* spec "Manifests": manifest file metadata */
	const char *meta[] = {
		"schema", schema_text,
		"schema-id", schema_id,
		"partition-spec", spec_text,
		"partition-spec-id", spec_id,
		"format-version", "2",
		"content", info->content == ICE_CONTENT_DATA ? "data" : "deletes",
	};
	floe_avro_writer_opts opts = { FLOE_AVRO_CODEC_DEFLATE, 0, 0 };
	if ((rc = floe_avro_writer_new(&w, (const char *)schema.data, schema.len, meta, 6, &opts,
	                               err)))
		goto done;
	if (!(scratch = floe_arena_new(0)) ||
	    !(acc = calloc(nf ? (size_t)nf : 1, sizeof *acc))) {
		rc = nomem(err);
		goto done;
	}
	int32_t counts[3] = { 0, 0, 0 };
	int64_t rows[3] = { 0, 0, 0 };
	int64_t min_seq = -1;
	for (size_t k = 0; k < n; k++) {
		const ice_manifest_entry *e = &entries[k];
		floe_avro_value *v = NULL;
		vb b = { scratch, 0 };
		floe_arena_reset(scratch);
		if ((rc = entry_to_avro(&b, &v, info, e, err)) ||
		    (rc = floe_avro_writer_append(w, v, err)))
			goto done;
		counts[e->status]++;
		if (__builtin_add_overflow(rows[e->status], e->file.record_count, &rows[e->status])) {
			rc = floe_error_set(err, FLOE_EINVALID, "manifest: row count overflow");
			goto done;
		}
		for (int j = 0; j < nf; j++)
			summary_update(&acc[j], &info->partition_types[j], &e->file.partition[j]);
		if (e->status != ICE_STATUS_DELETED) {
			int64_t s = e->status == ICE_STATUS_ADDED ? info->sequence_number
			                                          : e->sequence_number;
			if (s >= 0 && (min_seq < 0 || s < min_seq))
				min_seq = s;
		}
	}
	if ((rc = floe_avro_writer_finish(w, &data, &len, err)) ||
	    (rc = floe_avro_write_file(path, data, len, err)))
		goto done;
	if (!out)
		goto done;
	memset(out, 0, sizeof *out);
	if (!(out->manifest_path = floe_arena_strdup(arena, path)) ||
	    !(out->partitions = floe_arena_calloc(arena, nf ? (size_t)nf : 1, sizeof *out->partitions))) {
		rc = nomem(err);
		goto done;
	}
	out->manifest_length = (int64_t)len;
	out->partition_spec_id = info->spec->spec_id;
	out->content = info->content;
	out->sequence_number = info->sequence_number < 0 ? -1 : info->sequence_number;
	out->min_sequence_number = min_seq < 0 ? out->sequence_number : min_seq;
	out->added_snapshot_id = info->snapshot_id;
	out->added_files_count = counts[ICE_STATUS_ADDED];
	out->existing_files_count = counts[ICE_STATUS_EXISTING];
	out->deleted_files_count = counts[ICE_STATUS_DELETED];
	out->added_rows_count = rows[ICE_STATUS_ADDED];
	out->existing_rows_count = rows[ICE_STATUS_EXISTING];
	out->deleted_rows_count = rows[ICE_STATUS_DELETED];
	out->npartitions = nf;
	for (int j = 0; j < nf; j++) {
		ice_field_summary *s = &out->partitions[j];
		const floe_type *t = &info->partition_types[j];
		s->contains_null = acc[j].contains_null;
		s->contains_nan = acc[j].contains_nan ? 1 : 0;
		if (!acc[j].has)
			continue;
		if ((rc = serialize_copy(&s->lower, &s->lower_len, t, &acc[j].lo.v, arena, err)) ||
		    (rc = serialize_copy(&s->upper, &s->upper_len, t, &acc[j].hi.v, arena, err)))
			goto done;
	}
done:
	if (rc && err)
		floe_error_prefix(err, "%s", path ? path : "manifest");
	floe_buf_free(&schema);
	free(schema_text);
	free(spec_text);
	free(acc);
	floe_avro_writer_free(w);
	floe_arena_free(scratch);
	return rc;
}

/* ---- manifest lists (spec "Manifest Lists") ----------------------------- */

static const char manifest_list_schema[] =
    "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":["
    "{\"name\":\"manifest_path\",\"type\":\"string\",\"doc\":\"Location URI with FS scheme\","
    "\"field-id\":500},"
    "{\"name\":\"manifest_length\",\"type\":\"long\",\"doc\":\"Total file size in bytes\","
    "\"field-id\":501},"
    "{\"name\":\"partition_spec_id\",\"type\":\"int\",\"doc\":\"Spec ID used to write\","
    "\"field-id\":502},"
    "{\"name\":\"content\",\"type\":\"int\",\"doc\":\"Contents of the manifest: 0=data, "
    "1=deletes\",\"field-id\":517},"
    "{\"name\":\"sequence_number\",\"type\":\"long\",\"doc\":\"Sequence number when the "
    "manifest was added\",\"field-id\":515},"
    "{\"name\":\"min_sequence_number\",\"type\":\"long\",\"doc\":\"Lowest sequence number in "
    "the manifest\",\"field-id\":516},"
    "{\"name\":\"added_snapshot_id\",\"type\":\"long\",\"doc\":\"Snapshot ID that added the "
    "manifest\",\"field-id\":503},"
    "{\"name\":\"added_files_count\",\"type\":\"int\",\"doc\":\"Added entry count\","
    "\"field-id\":504},"
    "{\"name\":\"existing_files_count\",\"type\":\"int\",\"doc\":\"Existing entry count\","
    "\"field-id\":505},"
    "{\"name\":\"deleted_files_count\",\"type\":\"int\",\"doc\":\"Deleted entry count\","
    "\"field-id\":506},"
    "{\"name\":\"added_rows_count\",\"type\":\"long\",\"doc\":\"Added rows count\","
    "\"field-id\":512},"
    "{\"name\":\"existing_rows_count\",\"type\":\"long\",\"doc\":\"Existing rows count\","
    "\"field-id\":513},"
    "{\"name\":\"deleted_rows_count\",\"type\":\"long\",\"doc\":\"Deleted rows count\","
    "\"field-id\":514},"
    "{\"name\":\"partitions\",\"type\":[\"null\",{\"type\":\"array\",\"items\":{\"type\":"
    "\"record\",\"name\":\"r508\",\"fields\":["
    "{\"name\":\"contains_null\",\"type\":\"boolean\",\"doc\":\"True if any file has a null "
    "partition value\",\"field-id\":509},"
    "{\"name\":\"contains_nan\",\"type\":[\"null\",\"boolean\"],\"doc\":\"True if any file has "
    "a nan partition value\",\"default\":null,\"field-id\":518},"
    "{\"name\":\"lower_bound\",\"type\":[\"null\",\"bytes\"],\"doc\":\"Partition lower bound "
    "for all files\",\"default\":null,\"field-id\":510},"
    "{\"name\":\"upper_bound\",\"type\":[\"null\",\"bytes\"],\"doc\":\"Partition upper bound "
    "for all files\",\"default\":null,\"field-id\":511}"
    "]},\"element-id\":508}],\"doc\":\"Summary for each partition\",\"default\":null,"
    "\"field-id\":507},"
    "{\"name\":\"key_metadata\",\"type\":[\"null\",\"bytes\"],\"doc\":\"Encryption key "
    "metadata blob\",\"default\":null,\"field-id\":519}"
    "]}";

static int list_entry_to_avro(vb *b, floe_avro_value **out, const ice_manifest_file *mf,
                              int64_t sequence_number, floe_error *err)
{
	floe_avro_value *v = vb_new(b, 1), *x;
	if (!v)
		return nomem(err);
	if (!mf->manifest_path || mf->added_files_count < 0 || mf->existing_files_count < 0 ||
	    mf->deleted_files_count < 0 || mf->added_rows_count < 0 ||
	    mf->existing_rows_count < 0 || mf->deleted_rows_count < 0 ||
	    (mf->content != 0 && mf->content != 1) || mf->npartitions < 0)
		return floe_error_set(err, FLOE_EINVALID,
		                      "manifest list: incomplete entry (v2 requires every count)");
	v_record(b, v, 15);
	if (!v->items)
		return nomem(err);
	floe_avro_value *it = v->items;
	v_bytes(&it[0], FLOE_AVRO_STRING, mf->manifest_path, strlen(mf->manifest_path));
	v_long(&it[1], FLOE_AVRO_LONG, mf->manifest_length);
	v_long(&it[2], FLOE_AVRO_INT, mf->partition_spec_id);
	v_long(&it[3], FLOE_AVRO_INT, mf->content);
	/* spec "Sequence Number Inheritance": new manifests of this commit get
	 * its sequence number */
	v_long(&it[4], FLOE_AVRO_LONG, mf->sequence_number < 0 ? sequence_number : mf->sequence_number);
	v_long(&it[5], FLOE_AVRO_LONG,
	       mf->min_sequence_number < 0 ? sequence_number : mf->min_sequence_number);
	v_long(&it[6], FLOE_AVRO_LONG, mf->added_snapshot_id);
	v_long(&it[7], FLOE_AVRO_INT, mf->added_files_count);
	v_long(&it[8], FLOE_AVRO_INT, mf->existing_files_count);
	v_long(&it[9], FLOE_AVRO_INT, mf->deleted_files_count);
	v_long(&it[10], FLOE_AVRO_LONG, mf->added_rows_count);
	v_long(&it[11], FLOE_AVRO_LONG, mf->existing_rows_count);
	v_long(&it[12], FLOE_AVRO_LONG, mf->deleted_rows_count);
	if ((x = v_opt(b, &it[13], mf->partitions != NULL))) {
		x->kind = FLOE_AVRO_ARRAY;
		x->n = (size_t)mf->npartitions;
		x->items = vb_new(b, x->n);
		for (size_t k = 0; x->items && k < x->n; k++) {
			const ice_field_summary *s = &mf->partitions[k];
			floe_avro_value *r = &x->items[k], *y;
			v_record(b, r, 4);
			if (!r->items)
				break;
			v_long(&r->items[0], FLOE_AVRO_BOOLEAN, s->contains_null);
			if ((y = v_opt(b, &r->items[1], s->contains_nan >= 0)))
				v_long(y, FLOE_AVRO_BOOLEAN, s->contains_nan > 0);
			if ((y = v_opt(b, &r->items[2], s->lower != NULL)))
				v_bytes(y, FLOE_AVRO_BYTES, s->lower, s->lower_len);
			if ((y = v_opt(b, &r->items[3], s->upper != NULL)))
				v_bytes(y, FLOE_AVRO_BYTES, s->upper, s->upper_len);
		}
	}
	if ((x = v_opt(b, &it[14], mf->key_metadata != NULL)))
		v_bytes(x, FLOE_AVRO_BYTES, mf->key_metadata, mf->key_metadata_len);
	if (b->oom)
		return nomem(err);
	*out = v;
	return 0;
}

int ice_manifest_list_write(const char *path, int64_t snapshot_id, bool has_parent,
                            int64_t parent_id, int64_t sequence_number,
                            const ice_manifest_file *manifests, size_t n, floe_error *err)
{
	floe_avro_writer *w = NULL;
	floe_arena *scratch = NULL;
	const uint8_t *data;
	size_t len;
	int rc;
	char snap[24], parent[24], seq[24];

	if (!path || (n && !manifests) || sequence_number < 0)
		return floe_error_set(err, FLOE_EINVALID, "manifest list write: bad arguments");
	snprintf(snap, sizeof snap, "%" PRId64, snapshot_id);
	if (has_parent)
		snprintf(parent, sizeof parent, "%" PRId64, parent_id);
	else
		snprintf(parent, sizeof parent, "null");
	snprintf(seq, sizeof seq, "%" PRId64, sequence_number);
	const char *meta[] = {
		"snapshot-id", snap,
		"parent-snapshot-id", parent,
		"sequence-number", seq,
		"format-version", "2",
	};
	floe_avro_writer_opts opts = { FLOE_AVRO_CODEC_DEFLATE, 0, 0 };
	if ((rc = floe_avro_writer_new(&w, manifest_list_schema, sizeof manifest_list_schema - 1,
	                               meta, 4, &opts, err)))
		goto done;
	if (!(scratch = floe_arena_new(0))) {
		rc = nomem(err);
		goto done;
	}
	for (size_t k = 0; k < n; k++) {
		floe_avro_value *v = NULL;
		vb b = { scratch, 0 };
		floe_arena_reset(scratch);
		if ((rc = list_entry_to_avro(&b, &v, &manifests[k], sequence_number, err)) ||
		    (rc = floe_avro_writer_append(w, v, err)))
			goto done;
	}
	if ((rc = floe_avro_writer_finish(w, &data, &len, err)) ||
	    (rc = floe_avro_write_file(path, data, len, err)))
		goto done;
done:
	if (rc && err)
		floe_error_prefix(err, "%s", path ? path : "manifest list");
	floe_avro_writer_free(w);
	floe_arena_free(scratch);
	return rc;
}
