/* iceberg/manifest_read.c - reading manifests and manifest lists written by
 * v1 and v2 writers (iceberg spec "Manifests", "Manifest Lists", "Sequence
 * Number Inheritance"). Used by the table layer's scans and commits. */
#include "iceberg/manifest.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "floe/avro.h"
#include "iceberg/transform.h"
#include "util/buf.h"

/* ---- small helpers ----------------------------------------------------- */

static int nomem(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

/* ---- reading helpers ---------------------------------------------------- */

typedef struct rd {
	const char *name;  /* file, for messages */
	size_t record;     /* record index, for messages */
	floe_error *err;
} rd;

static int rd_bad(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rd_bad(rd *r, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return floe_error_set(r->err, FLOE_ECORRUPT, "%s: corrupt manifest: record %zu: %s", r->name,
	                      r->record, why);
}

/* Field of a record (schema rec, value v) by field id, falling back to
 * name (old writers); NULL when absent. Unions are unwrapped; a null value
 * is returned as a FLOE_AVRO_NULL value. */
static const floe_avro_value *fld(const floe_avro_schema *rec, const floe_avro_value *v,
                                  int64_t id, const char *name, const floe_avro_schema **type)
{
	size_t idx;
	const floe_avro_field *f = floe_avro_field_by_id(rec, id, &idx);
	if (!f && name)
		f = floe_avro_field_by_name(rec, name, &idx);
	if (!f || !v || v->kind != FLOE_AVRO_RECORD || idx >= v->n)
		return NULL;
	if (type)
		*type = f->type;
	return floe_avro_value_unwrap(&v->items[idx]);
}

/* Record schema inside a field type (through a ["null", record] union). */
static const floe_avro_schema *unwrap_schema(const floe_avro_schema *s)
{
	if (s && s->kind == FLOE_AVRO_UNION)
		for (size_t k = 0; k < s->nbranches; k++)
			if (s->branches[k]->kind != FLOE_AVRO_NULL)
				return s->branches[k];
	return s;
}

static bool is_null(const floe_avro_value *v)
{
	return !v || v->kind == FLOE_AVRO_NULL;
}

static int get_long(rd *r, const floe_avro_value *v, const char *what, bool required,
                    int64_t dflt, int64_t *out)
{
	if (is_null(v)) {
		if (required)
			return rd_bad(r, "missing %s", what);
		*out = dflt;
		return 0;
	}
	if (floe_avro_value_int64(v, out))
		return rd_bad(r, "%s is not an integer", what);
	return 0;
}

static int get_int(rd *r, const floe_avro_value *v, const char *what, bool required,
                   int32_t dflt, int32_t *out)
{
	int64_t x;
	int rc = get_long(r, v, what, required, dflt, &x);
	if (rc)
		return rc;
	if (x < INT32_MIN || x > INT32_MAX)
		return rd_bad(r, "%s %" PRId64 " out of int range", what, x);
	*out = (int32_t)x;
	return 0;
}

static const char *get_str(rd *r, const floe_avro_value *v, const char *what, bool required,
                           floe_arena *arena, int *rc)
{
	if (is_null(v)) {
		if (required)
			*rc = rd_bad(r, "missing %s", what);
		return NULL;
	}
	if (v->kind != FLOE_AVRO_STRING) {
		*rc = rd_bad(r, "%s is not a string", what);
		return NULL;
	}
	char *s = floe_arena_strndup(arena, (const char *)v->bytes, v->len);
	if (!s)
		*rc = nomem(r->err);
	return s;
}

static const uint8_t *get_bytes(rd *r, const floe_avro_value *v, const char *what, size_t *len,
                                floe_arena *arena, int *rc)
{
	if (is_null(v))
		return NULL;
	if (v->kind != FLOE_AVRO_BYTES && v->kind != FLOE_AVRO_FIXED) {
		*rc = rd_bad(r, "%s is not bytes", what);
		return NULL;
	}
	uint8_t *p = floe_arena_alloc(arena, v->len ? v->len : 1);
	if (!p) {
		*rc = nomem(r->err);
		return NULL;
	}
	if (v->len)
		memcpy(p, v->bytes, v->len);
	*len = v->len;
	return p;
}

/* ---- partition values --------------------------------------------------- */

/* The stored schema JSON of the partition struct's fields ("fields" of the
 * record at data_file (2) -> partition (102)), for the type attributes the
 * Avro model does not keep (decimal precision/scale, adjust-to-utc). */
static json_t *json_field_type(json_t *fields, int64_t id, const char *name)
{
	size_t k;
	json_t *f;
	json_array_foreach(fields, k, f) {
		json_t *fid = json_object_get(f, "field-id");
		const char *fname = json_string_value(json_object_get(f, "name"));
		if ((json_is_integer(fid) && json_integer_value(fid) == id) ||
		    (!json_is_integer(fid) && fname && strcmp(fname, name) == 0))
			return json_object_get(f, "type");
	}
	return NULL;
}

/* Non-null branch of a union; a named reference is looked up in `root`. */
static json_t *json_find_named(json_t *j, const char *name, int depth)
{
	if (depth > 64)
		return NULL;
	if (json_is_object(j)) {
		const char *n = json_string_value(json_object_get(j, "name"));
		const char *t = json_string_value(json_object_get(j, "type"));
		if (n && t && strcmp(n, name) == 0 &&
		    (!strcmp(t, "fixed") || !strcmp(t, "record") || !strcmp(t, "enum")))
			return j;
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v) {
			json_t *r = json_find_named(v, name, depth + 1);
			if (r)
				return r;
		}
	} else if (json_is_array(j)) {
		size_t k;
		json_t *v;
		json_array_foreach(j, k, v) {
			json_t *r = json_find_named(v, name, depth + 1);
			if (r)
				return r;
		}
	}
	return NULL;
}

static json_t *json_branch(json_t *root, json_t *t)
{
	if (json_is_array(t)) {
		size_t k;
		json_t *b, *pick = NULL;
		json_array_foreach(t, k, b) {
			if (!(json_is_string(b) && strcmp(json_string_value(b), "null") == 0))
				pick = b;
		}
		t = pick;
	}
	if (json_is_string(t)) {
		json_t *named = json_find_named(root, json_string_value(t), 0);
		if (named)
			t = named;
	}
	return t;
}

/* Refine `t` (from the Avro model) with the JSON attributes of the
 * partition field at position `idx`: decimal(P,S) and timestamps without
 * adjust-to-utc. Returns 0 when the type is known afterwards. */
static int refine_from_json(floe_avro_reader *ar, size_t idx, floe_type *t, int known)
{
	size_t len;
	const char *text = floe_avro_reader_schema_json(ar, &len);
	json_t *root = text ? json_loadb(text, len, 0, NULL) : NULL;
	int rc = known ? 0 : FLOE_EUNSUPPORTED;
	if (!root)
		return rc;
	json_t *df = json_branch(root, json_field_type(json_object_get(root, "fields"), 2,
	                                               "data_file"));
	json_t *pt = json_branch(root, json_field_type(json_object_get(df, "fields"), 102,
	                                               "partition"));
	json_t *f = json_array_get(json_object_get(pt, "fields"), idx);
	json_t *ft = json_branch(root, json_object_get(f, "type"));
	const char *lt = json_string_value(json_object_get(ft, "logicalType"));
	if (lt && strcmp(lt, "decimal") == 0) {
		json_t *p = json_object_get(ft, "precision"), *sc = json_object_get(ft, "scale");
		int64_t pv = json_integer_value(p), sv = json_is_integer(sc) ? json_integer_value(sc) : 0;
		if (json_is_integer(p) && pv >= 1 && pv <= 38 && sv >= 0 && sv <= pv) {
			memset(t, 0, sizeof *t);
			t->id = FLOE_TYPE_DECIMAL;
			t->precision = (int32_t)pv;
			t->scale = (int32_t)sv;
			t->width = pv > 18 ? 16 : 0;
			rc = 0;
		}
	} else if (lt && (strcmp(lt, "timestamp-micros") == 0 || strcmp(lt, "timestamp-nanos") == 0)) {
		json_t *adj = json_object_get(ft, "adjust-to-utc");
		if (json_is_false(adj))
			t->id = strcmp(lt, "timestamp-micros") == 0 ? FLOE_TYPE_TIMESTAMP
			                                            : FLOE_TYPE_TIMESTAMP_NS;
	}
	json_decref(root);
	return rc;
}

/* floe type of an Avro partition field, for files read without a spec. */
static int avro_to_floe_type(const floe_avro_schema *s, floe_type *t)
{
	s = unwrap_schema(s);
	memset(t, 0, sizeof *t);
	const char *lt = s->logical_type;
	switch (s->kind) {
	case FLOE_AVRO_BOOLEAN: t->id = FLOE_TYPE_BOOLEAN; return 0;
	case FLOE_AVRO_INT:
		t->id = lt && strcmp(lt, "date") == 0 ? FLOE_TYPE_DATE : FLOE_TYPE_INT;
		return 0;
	case FLOE_AVRO_LONG:
		t->id = FLOE_TYPE_LONG;
		if (lt && strcmp(lt, "time-micros") == 0)
			t->id = FLOE_TYPE_TIME;
		else if (lt && strcmp(lt, "timestamp-micros") == 0)
			t->id = FLOE_TYPE_TIMESTAMPTZ; /* adjust-to-utc decides; tz is the common case */
		else if (lt && strcmp(lt, "timestamp-nanos") == 0)
			t->id = FLOE_TYPE_TIMESTAMPTZ_NS;
		else if (lt && strcmp(lt, "local-timestamp-micros") == 0)
			t->id = FLOE_TYPE_TIMESTAMP;
		return 0;
	case FLOE_AVRO_FLOAT: t->id = FLOE_TYPE_FLOAT; return 0;
	case FLOE_AVRO_DOUBLE: t->id = FLOE_TYPE_DOUBLE; return 0;
	case FLOE_AVRO_STRING: t->id = FLOE_TYPE_STRING; return 0;
	case FLOE_AVRO_BYTES: t->id = FLOE_TYPE_BINARY; return 0;
	case FLOE_AVRO_FIXED:
		if (lt && strcmp(lt, "uuid") == 0 && s->fixed_size == 16) {
			t->id = FLOE_TYPE_UUID;
			t->width = 16;
		} else if (lt && strcmp(lt, "decimal") == 0) {
			return FLOE_EUNSUPPORTED; /* precision is in the attributes */
		} else {
			t->id = FLOE_TYPE_FIXED;
			t->width = (int32_t)s->fixed_size;
		}
		return 0;
	default: return FLOE_EUNSUPPORTED;
	}
}

static int partition_value(rd *r, ice_datum *d, const floe_type *t, const floe_avro_value *v,
                           floe_arena *arena)
{
	memset(d, 0, sizeof *d);
	d->type = *t;
	if (is_null(v)) {
		d->is_null = true;
		return 0;
	}
	floe_value *x = &d->v;
	int64_t i;
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN:
		if (v->kind != FLOE_AVRO_BOOLEAN)
			break;
		x->b = v->i != 0;
		x->i = x->b;
		return 0;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE:
		if (floe_avro_value_int64(v, &i) || i < INT32_MIN || i > INT32_MAX)
			break;
		x->i = i;
		return 0;
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		if (floe_avro_value_int64(v, &x->i))
			break;
		return 0;
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
		if (v->kind != FLOE_AVRO_FLOAT && v->kind != FLOE_AVRO_DOUBLE)
			break;
		x->d = v->d;
		return 0;
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_JSON:
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_UUID:
	case FLOE_TYPE_FIXED: {
		bool str = t->id == FLOE_TYPE_STRING || t->id == FLOE_TYPE_JSON;
		if (str ? v->kind != FLOE_AVRO_STRING
		        : (v->kind != FLOE_AVRO_BYTES && v->kind != FLOE_AVRO_FIXED))
			break;
		int32_t want = t->id == FLOE_TYPE_UUID ? 16 : t->id == FLOE_TYPE_FIXED ? t->width : -1;
		if (want >= 0 && v->len != (size_t)want)
			break;
		/* strings keep a NUL after them for callers that print them */
		uint8_t *p = floe_arena_alloc(arena, v->len + 1);
		if (!p)
			return nomem(r->err);
		if (v->len)
			memcpy(p, v->bytes, v->len);
		p[v->len] = 0;
		x->bytes = p;
		x->len = (int64_t)v->len;
		return 0;
	}
	case FLOE_TYPE_DECIMAL: {
		if ((v->kind != FLOE_AVRO_BYTES && v->kind != FLOE_AVRO_FIXED) || v->len < 1 ||
		    v->len > 16)
			break;
		uint8_t be[16];
		memset(be, (v->bytes[0] & 0x80) ? 0xff : 0, 16);
		memcpy(be + 16 - v->len, v->bytes, v->len);
		if (t->precision > 18) {
			uint8_t *p = floe_arena_alloc(arena, 16);
			if (!p)
				return nomem(r->err);
			memcpy(p, be, 16);
			x->bytes = p;
			x->len = 16;
			return 0;
		}
		uint8_t sign = (be[0] & 0x80) ? 0xff : 0;
		for (int k = 0; k < 8; k++)
			if (be[k] != sign)
				return rd_bad(r, "decimal partition value out of range");
		uint64_t u = 0;
		for (int k = 8; k < 16; k++)
			u = (u << 8) | be[k];
		x->i = (int64_t)u;
		return 0;
	}
	}
	return rd_bad(r, "partition value of Avro kind %d does not match type %d", (int)v->kind,
	              (int)t->id);
}

/* ---- metrics maps ------------------------------------------------------- */

typedef struct metrics_acc {
	ice_column_metrics *m;
	int n, cap;
} metrics_acc;

static ice_column_metrics *metrics_get(metrics_acc *a, int32_t id, floe_arena *arena)
{
	for (int k = 0; k < a->n; k++)
		if (a->m[k].field_id == id)
			return &a->m[k];
	if (a->n == a->cap) {
		int cap = a->cap ? a->cap * 2 : 16;
		ice_column_metrics *m = floe_arena_alloc(arena, (size_t)cap * sizeof *m);
		if (!m)
			return NULL;
		if (a->n)
			memcpy(m, a->m, (size_t)a->n * sizeof *m);
		a->m = m;
		a->cap = cap;
	}
	ice_column_metrics *c = &a->m[a->n++];
	memset(c, 0, sizeof *c);
	c->field_id = id;
	c->column_size = c->value_count = c->null_count = c->nan_count = -1;
	return c;
}

static int cmp_metrics(const void *a, const void *b)
{
	int32_t x = ((const ice_column_metrics *)a)->field_id;
	int32_t y = ((const ice_column_metrics *)b)->field_id;
	return x < y ? -1 : x > y;
}

/* A metrics map (spec "Appendix A: Avro": maps with non-string keys are
 * arrays of key/value records). */
static int read_map(rd *r, metrics_acc *a, const floe_avro_value *v, int which,
                    floe_arena *arena)
{
	if (is_null(v))
		return 0;
	if (v->kind != FLOE_AVRO_ARRAY)
		return rd_bad(r, "metrics map %d is not an array of key/value records", which);
	for (size_t k = 0; k < v->n; k++) {
		const floe_avro_value *kv = floe_avro_value_unwrap(&v->items[k]);
		int32_t key;
		int rc;
		if (kv->kind != FLOE_AVRO_RECORD || kv->n != 2)
			return rd_bad(r, "metrics map entry is not a key/value record");
		if ((rc = get_int(r, floe_avro_value_unwrap(&kv->items[0]), "metrics key", true, 0,
		                  &key)))
			return rc;
		ice_column_metrics *c = metrics_get(a, key, arena);
		if (!c)
			return nomem(r->err);
		const floe_avro_value *val = floe_avro_value_unwrap(&kv->items[1]);
		if (which >= 4) {
			size_t len = 0;
			const uint8_t *p = get_bytes(r, val, "bound", &len, arena, &rc);
			if (rc)
				return rc;
			if (!p)
				return rd_bad(r, "null bound");
			if (which == 4) {
				c->lower = p;
				c->lower_len = len;
			} else {
				c->upper = p;
				c->upper_len = len;
			}
			continue;
		}
		int64_t x;
		if ((rc = get_long(r, val, "metrics value", true, 0, &x)))
			return rc;
		if (which == 0)
			c->column_size = x;
		else if (which == 1)
			c->value_count = x;
		else if (which == 2)
			c->null_count = x;
		else
			c->nan_count = x;
	}
	return 0;
}

/* ---- partition types of the spec ---------------------------------------- */

static const ice_field *find_field(const ice_field *fields, int n, int32_t id, int depth)
{
	if (depth > 32)
		return NULL;
	for (int k = 0; k < n; k++) {
		const ice_field *f = &fields[k];
		if (f->id == id)
			return f;
		const ice_type *t = f->type;
		if (!t)
			continue;
		const ice_field *g = NULL;
		if (t->kind == ICE_STRUCT)
			g = find_field(t->fields, t->nfields, id, depth + 1);
		else if (t->kind == ICE_LIST)
			g = find_field(&t->element, 1, id, depth + 1);
		else if (t->kind == ICE_MAP)
			g = find_field(&t->key, 1, id, depth + 1) ?
			        find_field(&t->key, 1, id, depth + 1) :
			        find_field(&t->value, 1, id, depth + 1);
		if (g)
			return g;
	}
	return NULL;
}

/* Result type of spec field k over the schema; false when the source is
 * gone or not primitive (the Avro type is used then). */
static bool spec_result_type(const ice_schema *s, const ice_partition_field *pf, floe_type *out)
{
	if (!s)
		return false;
	const ice_field *f = find_field(s->fields, s->nfields, pf->source_id, 0);
	if (!f || !f->type || f->type->kind != ICE_PRIMITIVE)
		return false;
	return ice_transform_result_type(&pf->transform, &f->type->prim, out, NULL) == 0;
}

/* ---- ice_manifest_read -------------------------------------------------- */

const ice_column_metrics *ice_data_file_metrics(const ice_data_file *f, int32_t field_id)
{
	for (int i = 0; i < f->nmetrics; i++)
		if (f->metrics[i].field_id == field_id)
			return &f->metrics[i];
	return NULL;
}

int ice_manifest_read(const ice_manifest_file *mf, const char *path_override,
                      const ice_table_metadata *m, floe_arena *arena,
                      ice_manifest_entry **out, size_t *n, floe_error *err)
{
	floe_avro_reader *ar = NULL;
	floe_arena *scratch = NULL;
	ice_manifest_entry *entries = NULL;
	size_t count = 0, cap = 0;
	int rc = 0;
	const char *path = path_override ? path_override : (mf ? mf->manifest_path : NULL);
	rd r = { path, 0, err };

	if (!mf || !path || !arena || !out || !n)
		return floe_error_set(err, FLOE_EINVALID, "manifest read: bad arguments");
	*out = NULL;
	*n = 0;
	if ((rc = floe_avro_reader_open_file(&ar, path, err)))
		goto done;
	if (!(scratch = floe_arena_new(0))) {
		rc = nomem(err);
		goto done;
	}
	const floe_avro_schema *es = floe_avro_reader_schema(ar);
	const floe_avro_field *dff;
	if (es->kind != FLOE_AVRO_RECORD ||
	    !((dff = floe_avro_field_by_id(es, 2, NULL)) || (dff = floe_avro_field_by_name(es, "data_file", NULL))) ||
	    unwrap_schema(dff->type)->kind != FLOE_AVRO_RECORD) {
		rc = rd_bad(&r, "not a manifest (no data_file record)");
		goto done;
	}
	const floe_avro_schema *ds = unwrap_schema(dff->type);
	const floe_avro_field *pff = floe_avro_field_by_id(ds, 102, NULL);
	if (!pff)
		pff = floe_avro_field_by_name(ds, "partition", NULL);
	const floe_avro_schema *ps = pff ? unwrap_schema(pff->type) : NULL;
	if (ps && ps->kind != FLOE_AVRO_RECORD) {
		rc = rd_bad(&r, "partition is not a record");
		goto done;
	}

	/* the spec: the manifest list's, else the file's partition-spec-id */
	int32_t spec_id = mf->partition_spec_id;
	if (spec_id < 0) {
		size_t len;
		const uint8_t *p = floe_avro_reader_meta(ar, "partition-spec-id", &len);
		spec_id = p ? (int32_t)strtol((const char *)p, NULL, 10) : 0;
	}
	const ice_partition_spec *spec = m ? ice_metadata_spec(m, spec_id) : NULL;
	const ice_schema *schema = m ? ice_metadata_current_schema(m) : NULL;
	int np = spec ? spec->nfields : ps ? (int)ps->nfields : 0;
	floe_type *ptypes = floe_arena_calloc(arena, np ? (size_t)np : 1, sizeof *ptypes);
	int *pidx = floe_arena_calloc(arena, np ? (size_t)np : 1, sizeof *pidx);
	if (!ptypes || !pidx) {
		rc = nomem(err);
		goto done;
	}
	for (int k = 0; k < np; k++) {
		size_t idx = (size_t)k;
		const floe_avro_field *af = NULL;
		if (spec) {
			af = ps ? floe_avro_field_by_id(ps, spec->fields[k].field_id, &idx) : NULL;
			/* position only where the file's field carries no id */
			if (!af && ps && (size_t)k < ps->nfields && !ps->fields[k].has_field_id) {
				idx = (size_t)k;
				af = &ps->fields[k];
			}
		} else {
			af = &ps->fields[k];
		}
		pidx[k] = af ? (int)idx : -1;
		if (spec && spec_result_type(schema, &spec->fields[k], &ptypes[k]))
			continue;
		if (!af || refine_from_json(ar, idx, &ptypes[k],
		                            avro_to_floe_type(af->type, &ptypes[k]) == 0)) {
			rc = floe_error_set(err, FLOE_EUNSUPPORTED,
			                    "%s: partition field %d: type unknown without its spec", path,
			                    k);
			goto done;
		}
	}

	for (;;) {
		const floe_avro_value *v;
		floe_arena_reset(scratch);
		rc = floe_avro_reader_next(ar, scratch, &v, err);
		if (rc == 0)
			break;
		if (rc < 0)
			goto done;
		rc = 0;
		r.record = count;
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			ice_manifest_entry *ne = floe_arena_alloc(arena, ncap * sizeof *ne);
			if (!ne || ncap > SIZE_MAX / sizeof *ne) {
				rc = nomem(err);
				goto done;
			}
			if (count)
				memcpy(ne, entries, count * sizeof *ne);
			entries = ne;
			cap = ncap;
		}
		ice_manifest_entry *e = &entries[count];
		memset(e, 0, sizeof *e);
		ice_data_file *f = &e->file;
		int32_t st;
		if ((rc = get_int(&r, fld(es, v, 0, "status", NULL), "status", true, 0, &st)))
			goto done;
		if (st < ICE_STATUS_EXISTING || st > ICE_STATUS_DELETED) {
			rc = rd_bad(&r, "unknown status %d", (int)st);
			goto done;
		}
		e->status = st;
		/* iceberg spec "Snapshot ID Inheritance" and "Sequence Number
		 * Inheritance": null (or absent, v1) values come from the manifest
		 * list entry. */
		if ((rc = get_long(&r, fld(es, v, 1, "snapshot_id", NULL), "snapshot_id", false,
		                   mf->added_snapshot_id, &e->snapshot_id)) ||
		    (rc = get_long(&r, fld(es, v, 3, "sequence_number", NULL), "sequence_number", false,
		                   mf->sequence_number, &e->sequence_number)) ||
		    (rc = get_long(&r, fld(es, v, 4, "file_sequence_number", NULL),
		                   "file_sequence_number", false, mf->sequence_number,
		                   &e->file_sequence_number)))
			goto done;
		const floe_avro_value *dv = fld(es, v, 2, "data_file", NULL);
		if (is_null(dv) || dv->kind != FLOE_AVRO_RECORD) {
			rc = rd_bad(&r, "missing data_file");
			goto done;
		}
		int32_t content;
		if ((rc = get_int(&r, fld(ds, dv, 134, "content", NULL), "content", false, 0, &content)))
			goto done;
		if (content < 0 || content > 2) {
			rc = rd_bad(&r, "unknown content %d", (int)content);
			goto done;
		}
		f->content = content;
		f->file_path = get_str(&r, fld(ds, dv, 100, "file_path", NULL), "file_path", true, arena, &rc);
		if (rc)
			goto done;
		f->file_format = get_str(&r, fld(ds, dv, 101, "file_format", NULL), "file_format", true,
		                         arena, &rc);
		if (rc)
			goto done;
		f->spec_id = spec_id;
		f->npartition = np;
		f->partition = floe_arena_calloc(arena, np ? (size_t)np : 1, sizeof *f->partition);
		if (!f->partition) {
			rc = nomem(err);
			goto done;
		}
		const floe_avro_value *pv = pff ? fld(ds, dv, 102, "partition", NULL) : NULL;
		if (ps && np && (is_null(pv) || pv->kind != FLOE_AVRO_RECORD || pv->n != ps->nfields)) {
			rc = rd_bad(&r, "missing partition tuple");
			goto done;
		}
		for (int k = 0; k < np; k++) {
			const floe_avro_value *x =
			    pidx[k] >= 0 ? floe_avro_value_unwrap(&pv->items[pidx[k]]) : NULL;
			if ((rc = partition_value(&r, &f->partition[k], &ptypes[k], x, arena)))
				goto done;
		}
		if ((rc = get_long(&r, fld(ds, dv, 103, "record_count", NULL), "record_count", true, 0,
		                   &f->record_count)) ||
		    (rc = get_long(&r, fld(ds, dv, 104, "file_size_in_bytes", NULL),
		                   "file_size_in_bytes", true, 0, &f->file_size_in_bytes)))
			goto done;
		metrics_acc ma = { NULL, 0, 0 };
		static const int map_ids[6] = { 108, 109, 110, 137, 125, 128 };
		static const char *const map_names[6] = { "column_sizes", "value_counts",
		                                          "null_value_counts", "nan_value_counts",
		                                          "lower_bounds", "upper_bounds" };
		for (int w = 0; w < 6; w++)
			if ((rc = read_map(&r, &ma, fld(ds, dv, map_ids[w], map_names[w], NULL), w, arena)))
				goto done;
		if (ma.n > 1)
			qsort(ma.m, (size_t)ma.n, sizeof *ma.m, cmp_metrics);
		f->nmetrics = ma.n;
		f->metrics = ma.m;
		f->key_metadata = get_bytes(&r, fld(ds, dv, 131, "key_metadata", NULL), "key_metadata",
		                            &f->key_metadata_len, arena, &rc);
		if (rc)
			goto done;
		const floe_avro_value *lv[2] = { fld(ds, dv, 132, "split_offsets", NULL),
		                                 fld(ds, dv, 135, "equality_ids", NULL) };
		for (int w = 0; w < 2; w++) {
			if (is_null(lv[w]))
				continue;
			if (lv[w]->kind != FLOE_AVRO_ARRAY || lv[w]->n > INT32_MAX) {
				rc = rd_bad(&r, "%s is not an array", w ? "equality_ids" : "split_offsets");
				goto done;
			}
			size_t cnt = lv[w]->n;
			int64_t *so = w ? NULL : floe_arena_calloc(arena, cnt ? cnt : 1, sizeof *so);
			int32_t *eq = w ? floe_arena_calloc(arena, cnt ? cnt : 1, sizeof *eq) : NULL;
			if (!so && !eq) {
				rc = nomem(err);
				goto done;
			}
			for (size_t k = 0; k < cnt; k++) {
				const floe_avro_value *x = floe_avro_value_unwrap(&lv[w]->items[k]);
				if (w)
					rc = get_int(&r, x, "equality id", true, 0, &eq[k]);
				else
					rc = get_long(&r, x, "split offset", true, 0, &so[k]);
				if (rc)
					goto done;
			}
			if (w) {
				f->nequality_ids = (int)cnt;
				f->equality_ids = eq;
			} else {
				f->nsplit_offsets = (int)cnt;
				f->split_offsets = so;
			}
		}
		const floe_avro_value *so_v = fld(ds, dv, 140, "sort_order_id", NULL);
		f->has_sort_order_id = !is_null(so_v);
		if (f->has_sort_order_id &&
		    (rc = get_int(&r, so_v, "sort_order_id", true, 0, &f->sort_order_id)))
			goto done;
		f->referenced_data_file = get_str(&r, fld(ds, dv, 143, "referenced_data_file", NULL),
		                                  "referenced_data_file", false, arena, &rc);
		if (rc)
			goto done;
		count++;
	}
	*out = entries;
	*n = count;
done:
	floe_avro_reader_free(ar);
	floe_arena_free(scratch);
	return rc;
}

/* ---- manifest lists (spec "Manifest Lists") ----------------------------- */

int ice_manifest_list_read(const char *path, floe_arena *arena, ice_manifest_file **out,
                           size_t *n, floe_error *err)
{
	floe_avro_reader *ar = NULL;
	floe_arena *scratch = NULL;
	ice_manifest_file *list = NULL;
	size_t count = 0, cap = 0;
	int rc = 0;
	rd r = { path, 0, err };

	if (!path || !arena || !out || !n)
		return floe_error_set(err, FLOE_EINVALID, "manifest list read: bad arguments");
	*out = NULL;
	*n = 0;
	if ((rc = floe_avro_reader_open_file(&ar, path, err)))
		goto done;
	if (!(scratch = floe_arena_new(0))) {
		rc = nomem(err);
		goto done;
	}
	const floe_avro_schema *s = floe_avro_reader_schema(ar);
	if (s->kind != FLOE_AVRO_RECORD) {
		rc = rd_bad(&r, "not a manifest list");
		goto done;
	}
	const floe_avro_field *pf = floe_avro_field_by_id(s, 507, NULL);
	if (!pf)
		pf = floe_avro_field_by_name(s, "partitions", NULL);
	const floe_avro_schema *psum = NULL;
	if (pf) {
		const floe_avro_schema *arr = unwrap_schema(pf->type);
		if (arr->kind != FLOE_AVRO_ARRAY || unwrap_schema(arr->items)->kind != FLOE_AVRO_RECORD) {
			rc = rd_bad(&r, "partitions is not an array of records");
			goto done;
		}
		psum = unwrap_schema(arr->items);
	}
	for (;;) {
		const floe_avro_value *v;
		floe_arena_reset(scratch);
		rc = floe_avro_reader_next(ar, scratch, &v, err);
		if (rc == 0)
			break;
		if (rc < 0)
			goto done;
		rc = 0;
		r.record = count;
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			ice_manifest_file *nl = floe_arena_alloc(arena, ncap * sizeof *nl);
			if (!nl || ncap > SIZE_MAX / sizeof *nl) {
				rc = nomem(err);
				goto done;
			}
			if (count)
				memcpy(nl, list, count * sizeof *nl);
			list = nl;
			cap = ncap;
		}
		ice_manifest_file *mf = &list[count];
		memset(mf, 0, sizeof *mf);
		mf->manifest_path = get_str(&r, fld(s, v, 500, "manifest_path", NULL), "manifest_path",
		                            true, arena, &rc);
		if (rc)
			goto done;
		int32_t content;
		/* v1 lists lack content and sequence numbers: data, 0 (spec
		 * "Sequence Number Inheritance": v1 files have sequence number 0);
		 * the counts were optional in v1 (-1 when absent). */
		if ((rc = get_long(&r, fld(s, v, 501, "manifest_length", NULL), "manifest_length",
		                   true, 0, &mf->manifest_length)) ||
		    (rc = get_int(&r, fld(s, v, 502, "partition_spec_id", NULL), "partition_spec_id",
		                  true, 0, &mf->partition_spec_id)) ||
		    (rc = get_int(&r, fld(s, v, 517, "content", NULL), "content", false, 0, &content)) ||
		    (rc = get_long(&r, fld(s, v, 515, "sequence_number", NULL), "sequence_number",
		                   false, 0, &mf->sequence_number)) ||
		    (rc = get_long(&r, fld(s, v, 516, "min_sequence_number", NULL),
		                   "min_sequence_number", false, 0, &mf->min_sequence_number)) ||
		    (rc = get_long(&r, fld(s, v, 503, "added_snapshot_id", NULL), "added_snapshot_id",
		                   false, -1, &mf->added_snapshot_id)) ||
		    (rc = get_int(&r, fld(s, v, 504, "added_files_count", NULL), "added_files_count",
		                  false, -1, &mf->added_files_count)) ||
		    (rc = get_int(&r, fld(s, v, 505, "existing_files_count", NULL),
		                  "existing_files_count", false, -1, &mf->existing_files_count)) ||
		    (rc = get_int(&r, fld(s, v, 506, "deleted_files_count", NULL),
		                  "deleted_files_count", false, -1, &mf->deleted_files_count)) ||
		    (rc = get_long(&r, fld(s, v, 512, "added_rows_count", NULL), "added_rows_count",
		                   false, -1, &mf->added_rows_count)) ||
		    (rc = get_long(&r, fld(s, v, 513, "existing_rows_count", NULL),
		                   "existing_rows_count", false, -1, &mf->existing_rows_count)) ||
		    (rc = get_long(&r, fld(s, v, 514, "deleted_rows_count", NULL),
		                   "deleted_rows_count", false, -1, &mf->deleted_rows_count)))
			goto done;
		if (content != 0 && content != 1) {
			rc = rd_bad(&r, "unknown manifest content %d", (int)content);
			goto done;
		}
		mf->content = content;
		const floe_avro_value *pv = pf ? fld(s, v, 507, "partitions", NULL) : NULL;
		if (!is_null(pv)) {
			if (pv->kind != FLOE_AVRO_ARRAY || pv->n > INT32_MAX) {
				rc = rd_bad(&r, "partitions is not an array");
				goto done;
			}
			mf->npartitions = (int)pv->n;
			mf->partitions = floe_arena_calloc(arena, pv->n ? pv->n : 1, sizeof *mf->partitions);
			if (!mf->partitions) {
				rc = nomem(err);
				goto done;
			}
			for (size_t k = 0; k < pv->n; k++) {
				const floe_avro_value *sv = floe_avro_value_unwrap(&pv->items[k]);
				ice_field_summary *fs = &mf->partitions[k];
				if (sv->kind != FLOE_AVRO_RECORD) {
					rc = rd_bad(&r, "partition summary is not a record");
					goto done;
				}
				const floe_avro_value *cn = fld(psum, sv, 509, "contains_null", NULL);
				const floe_avro_value *cnan = fld(psum, sv, 518, "contains_nan", NULL);
				if (is_null(cn) || cn->kind != FLOE_AVRO_BOOLEAN ||
				    (!is_null(cnan) && cnan->kind != FLOE_AVRO_BOOLEAN)) {
					rc = rd_bad(&r, "bad contains_null/contains_nan");
					goto done;
				}
				fs->contains_null = cn->i != 0;
				fs->contains_nan = is_null(cnan) ? -1 : cnan->i != 0;
				fs->lower = get_bytes(&r, fld(psum, sv, 510, "lower_bound", NULL), "lower_bound",
				                      &fs->lower_len, arena, &rc);
				if (!rc)
					fs->upper = get_bytes(&r, fld(psum, sv, 511, "upper_bound", NULL),
					                      "upper_bound", &fs->upper_len, arena, &rc);
				if (rc)
					goto done;
			}
		}
		mf->key_metadata = get_bytes(&r, fld(s, v, 519, "key_metadata", NULL), "key_metadata",
		                             &mf->key_metadata_len, arena, &rc);
		if (rc)
			goto done;
		count++;
	}
	*out = list;
	*n = count;
done:
	floe_avro_reader_free(ar);
	floe_arena_free(scratch);
	return rc;
}
