/* iceberg/transform.c - partition transforms: names, result types, applying
 * them to values and columns (iceberg spec, "Partition Transforms", "Bucket
 * Transform Details", "Truncate Transform Details", Appendix B) and the
 * inclusive projection of predicates through them ("Scan Planning"). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "floe/parquet.h"
#include "iceberg/transform.h"
#include "util/murmur3.h"
#include "util/text.h"

#define US_PER_HOUR INT64_C(3600000000)
#define US_PER_DAY INT64_C(86400000000)
#define NS_PER_HOUR INT64_C(3600000000000)
#define NS_PER_DAY INT64_C(86400000000000)

static inline int64_t floor_div(int64_t v, int64_t unit)
{
	int64_t q = v / unit;
	if ((v % unit) < 0)
		q--;
	return q;
}

/* ---- names ---------------------------------------------------------- */

/* "[N]" with N a decimal in 1..INT32_MAX and nothing after. 1 if it is,
 * 0 if the text is not of that shape, -1 if N is out of range. */
static int parse_param(const char *s, int32_t *out)
{
	if (*s != '[' || s[1] < '0' || s[1] > '9')
		return 0;
	int64_t n = 0;
	const char *p = s + 1;
	bool big = false;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (*p - '0');
		if (n > INT32_MAX) {
			big = true;
			n = INT32_MAX;
		}
		p++;
	}
	if (p[0] != ']' || p[1] != 0)
		return 0;
	if (big || n < 1)
		return -1;
	*out = (int32_t)n;
	return 1;
}

/* Names are matched ignoring case, as the Java reference reads them. */
int ice_transform_parse(ice_transform *out, const char *text, floe_error *err)
{
	static const struct {
		const char *name;
		ice_transform_kind kind;
	} plain[] = {
		{"identity", ICE_T_IDENTITY}, {"year", ICE_T_YEAR}, {"month", ICE_T_MONTH},
		{"day", ICE_T_DAY},           {"hour", ICE_T_HOUR}, {"void", ICE_T_VOID},
	};
	memset(out, 0, sizeof *out);
	if (!text)
		return floe_error_set(err, FLOE_EINVALID, "transform name is NULL");
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		if (strcasecmp(text, plain[i].name) == 0) {
			out->kind = plain[i].kind;
			return 0;
		}
	}
	static const struct {
		const char *name;
		size_t len;
		ice_transform_kind kind;
	} param[] = {{"bucket", 6, ICE_T_BUCKET}, {"truncate", 8, ICE_T_TRUNCATE}};
	for (size_t i = 0; i < 2; i++) {
		if (strncasecmp(text, param[i].name, param[i].len) != 0)
			continue;
		int32_t n;
		int rc = parse_param(text + param[i].len, &n);
		if (rc < 0)
			return floe_error_set(err, FLOE_EINVALID,
			                      "transform '%.64s': width must be 1..%d", text,
			                      (int)INT32_MAX);
		if (rc > 0) {
			out->kind = param[i].kind;
			out->param = n;
			return 0;
		}
	}
	/* iceberg spec, "Scan Planning": unknown transforms are kept (and
	 * ignored for filtering) */
	out->kind = ICE_T_UNKNOWN;
	out->unknown_name = text;
	return 0;
}

const char *ice_transform_format(const ice_transform *t, char *buf, int bufsize)
{
	if (!buf || bufsize <= 0)
		return buf;
	size_t cap = (size_t)bufsize;
	switch (t->kind) {
	case ICE_T_IDENTITY:
		snprintf(buf, cap, "identity");
		break;
	case ICE_T_BUCKET:
		snprintf(buf, cap, "bucket[%" PRId32 "]", t->param);
		break;
	case ICE_T_TRUNCATE:
		snprintf(buf, cap, "truncate[%" PRId32 "]", t->param);
		break;
	case ICE_T_YEAR:
		snprintf(buf, cap, "year");
		break;
	case ICE_T_MONTH:
		snprintf(buf, cap, "month");
		break;
	case ICE_T_DAY:
		snprintf(buf, cap, "day");
		break;
	case ICE_T_HOUR:
		snprintf(buf, cap, "hour");
		break;
	case ICE_T_VOID:
		snprintf(buf, cap, "void");
		break;
	default:
		snprintf(buf, cap, "%s", t->unknown_name ? t->unknown_name : "unknown");
		break;
	}
	return buf;
}

/* ---- result types --------------------------------------------------- */

static bool is_timestamp(floe_type_id id)
{
	return id == FLOE_TYPE_TIMESTAMP || id == FLOE_TYPE_TIMESTAMPTZ ||
	       id == FLOE_TYPE_TIMESTAMP_NS || id == FLOE_TYPE_TIMESTAMPTZ_NS;
}

static bool is_nanos(floe_type_id id)
{
	return id == FLOE_TYPE_TIMESTAMP_NS || id == FLOE_TYPE_TIMESTAMPTZ_NS;
}

static bool valid_source(const ice_transform *t, floe_type_id id)
{
	switch (t->kind) {
	case ICE_T_IDENTITY:
	case ICE_T_VOID:
		return id >= FLOE_TYPE_BOOLEAN && id <= FLOE_TYPE_JSON;
	case ICE_T_BUCKET:
		return id == FLOE_TYPE_INT || id == FLOE_TYPE_LONG || id == FLOE_TYPE_DECIMAL ||
		       id == FLOE_TYPE_DATE || id == FLOE_TYPE_TIME || is_timestamp(id) ||
		       id == FLOE_TYPE_STRING || id == FLOE_TYPE_UUID || id == FLOE_TYPE_FIXED ||
		       id == FLOE_TYPE_BINARY;
	case ICE_T_TRUNCATE:
		return id == FLOE_TYPE_INT || id == FLOE_TYPE_LONG || id == FLOE_TYPE_DECIMAL ||
		       id == FLOE_TYPE_STRING || id == FLOE_TYPE_BINARY;
	case ICE_T_YEAR:
	case ICE_T_MONTH:
	case ICE_T_DAY:
		return id == FLOE_TYPE_DATE || is_timestamp(id);
	case ICE_T_HOUR:
		return is_timestamp(id);
	default:
		return false;
	}
}

int ice_transform_result_type(const ice_transform *t, const floe_type *src,
                              floe_type *out, floe_error *err)
{
	char tn[32], sn[64];
	if ((t->kind == ICE_T_BUCKET || t->kind == ICE_T_TRUNCATE) && t->param < 1)
		return floe_error_set(err, FLOE_EINVALID, "transform %s: width must be >= 1",
		                      ice_transform_format(t, tn, sizeof tn));
	if (!valid_source(t, src->id))
		return floe_error_set(err, FLOE_EINVALID,
		                      "transform %s cannot apply to a %s column",
		                      ice_transform_format(t, tn, sizeof tn),
		                      floe_type_format(src, sn, sizeof sn));
	memset(out, 0, sizeof *out);
	switch (t->kind) {
	case ICE_T_BUCKET:
	case ICE_T_YEAR:
	case ICE_T_MONTH:
	case ICE_T_HOUR:
		out->id = FLOE_TYPE_INT;
		break;
	case ICE_T_DAY:
		out->id = FLOE_TYPE_DATE;
		break;
	default:
		*out = *src;
		break;
	}
	return 0;
}

/* ---- hashing (iceberg spec, Appendix B) ----------------------------- */

static uint32_t hash_long(int64_t v)
{
	uint8_t b[8];
	uint64_t u = (uint64_t)v;
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(u >> (8 * i));
	return floe_murmur3_32(b, 8, 0);
}

/* two's complement big-endian in the fewest bytes (Appendix B note 2) */
static uint32_t hash_min_be(__int128 v)
{
	uint8_t b[16];
	unsigned __int128 u = (unsigned __int128)v;
	for (int i = 15; i >= 0; i--) {
		b[i] = (uint8_t)u;
		u >>= 8;
	}
	int s = 0;
	while (s < 15 && ((b[s] == 0x00 && !(b[s + 1] & 0x80)) ||
	                  (b[s] == 0xff && (b[s + 1] & 0x80))))
		s++;
	return floe_murmur3_32(b + s, (size_t)(16 - s), 0);
}

static __int128 be_to_i128(const uint8_t *p, size_t n)
{
	unsigned __int128 u = (n > 0 && (p[0] & 0x80)) ? ~(unsigned __int128)0 : 0;
	for (size_t i = 0; i < n; i++)
		u = (u << 8) | p[i];
	return (__int128)u;
}

static __int128 wide_decimal(const floe_value *v)
{
	if (!v->bytes || v->len <= 0)
		return 0;
	size_t n = (size_t)v->len;
	return n > 16 ? be_to_i128(v->bytes + n - 16, 16) : be_to_i128(v->bytes, n);
}

int32_t ice_transform_hash(const floe_type *src, const floe_value *v)
{
	uint32_t h = 0;
	switch (src->id) {
	case FLOE_TYPE_BOOLEAN:
		h = hash_long(v->b ? 1 : 0);
		break;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE:
		/* hashInt(v) is hashLong(long(v)) so int -> long keeps buckets */
		h = hash_long((int32_t)v->i);
		break;
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
		h = hash_long(v->i);
		break;
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		/* Appendix B note 3: hashed as microseconds */
		h = hash_long(floor_div(v->i, 1000));
		break;
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE: {
		/* note 5: canonical NaN, -0.0 as 0.0, floats widened to double */
		double d = src->id == FLOE_TYPE_FLOAT ? (double)(float)v->d : v->d;
		uint64_t bits;
		if (isnan(d))
			bits = UINT64_C(0x7ff8000000000000);
		else if (d == 0.0)
			bits = 0;
		else
			memcpy(&bits, &d, 8);
		h = hash_long((int64_t)bits);
		break;
	}
	case FLOE_TYPE_DECIMAL:
		h = hash_min_be(src->precision > 18 ? wide_decimal(v) : (__int128)v->i);
		break;
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_JSON:
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_FIXED:
	case FLOE_TYPE_UUID:
		h = floe_murmur3_32(v->len > 0 ? v->bytes : (const uint8_t *)"",
		                    v->len > 0 ? (size_t)v->len : 0, 0);
		break;
	}
	return (int32_t)h;
}

/* ---- applying ------------------------------------------------------- */

/* Length in bytes of the first `w` code points of p[0..n) (UTF-8; a code
 * point starts at every byte that is not a continuation byte 10xxxxxx). */
static size_t utf8_prefix(const uint8_t *p, size_t n, int64_t w)
{
	int64_t seen = 0;
	for (size_t i = 0; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			if (seen == w)
				return i;
			seen++;
		}
	}
	return n;
}

/* v - (v mod W) with a non-negative remainder ("Truncate Transform
 * Details" note 1). */
static __int128 trunc_int(__int128 v, int64_t w)
{
	__int128 r = v % w;
	if (r < 0)
		r += w;
	return v - r;
}

static int range_err(floe_error *err, const char *what)
{
	return floe_error_set(err, FLOE_EINVALID, "%s result out of the int range", what);
}

/* The core of ice_transform_apply for a non-NULL value; out->type is set. */
static int apply_value(const ice_transform *t, const floe_type *src, const floe_value *in,
                       floe_value *out, floe_error *err)
{
	memset(out, 0, sizeof *out);
	switch (t->kind) {
	case ICE_T_IDENTITY:
		*out = *in;
		return 0;
	case ICE_T_BUCKET: {
		uint32_t h = (uint32_t)ice_transform_hash(src, in);
		out->i = (int64_t)((h & 0x7fffffffu) % (uint32_t)t->param);
		return 0;
	}
	case ICE_T_TRUNCATE:
		switch (src->id) {
		case FLOE_TYPE_INT:
			/* results below INT32_MIN wrap as the Java reference's
			 * int arithmetic does */
			out->i = (int32_t)(uint32_t)(uint64_t)trunc_int((int32_t)in->i, t->param);
			return 0;
		case FLOE_TYPE_LONG:
			out->i = (int64_t)(uint64_t)trunc_int(in->i, t->param);
			return 0;
		case FLOE_TYPE_DECIMAL:
			/* the width is an unscaled count (note 2) */
			if (src->precision <= 18) {
				__int128 r = trunc_int(in->i, t->param);
				if (r < INT64_MIN)
					return range_err(err, "truncate");
				out->i = (int64_t)r;
				return 0;
			}
			if (trunc_int(wide_decimal(in), t->param) == wide_decimal(in)) {
				*out = *in;
				return 0;
			}
			return floe_error_set(err, FLOE_EUNSUPPORTED,
			                      "truncate of decimal with precision > 18");
		case FLOE_TYPE_STRING: {
			size_t n = in->len > 0 ? (size_t)in->len : 0;
			out->bytes = in->bytes;
			out->len = (int64_t)utf8_prefix(in->bytes, n, t->param);
			return 0;
		}
		case FLOE_TYPE_BINARY:
			out->bytes = in->bytes;
			out->len = in->len < t->param ? in->len : t->param;
			return 0;
		default:
			break;
		}
		break;
	case ICE_T_YEAR:
	case ICE_T_MONTH:
	case ICE_T_DAY:
	case ICE_T_HOUR: {
		int64_t days, r;
		if (src->id == FLOE_TYPE_DATE) {
			if (t->kind == ICE_T_HOUR)
				break;
			days = (int32_t)in->i;
		} else if (is_timestamp(src->id)) {
			bool ns = is_nanos(src->id);
			if (t->kind == ICE_T_HOUR) {
				r = floor_div(in->i, ns ? NS_PER_HOUR : US_PER_HOUR);
				if (r < INT32_MIN || r > INT32_MAX)
					return range_err(err, "hour");
				out->i = r;
				return 0;
			}
			days = floor_div(in->i, ns ? NS_PER_DAY : US_PER_DAY);
		} else {
			break;
		}
		if (t->kind == ICE_T_DAY) {
			if (days < INT32_MIN || days > INT32_MAX)
				return range_err(err, "day");
			out->i = days;
			return 0;
		}
		int64_t y;
		unsigned m, d;
		floe_civil_from_days(days, &y, &m, &d);
		r = t->kind == ICE_T_YEAR ? y - 1970 : (y - 1970) * 12 + (int64_t)m - 1;
		if (r < INT32_MIN || r > INT32_MAX)
			return range_err(err, t->kind == ICE_T_YEAR ? "year" : "month");
		out->i = r;
		return 0;
	}
	default:
		break;
	}
	char tn[32], sn[64];
	return floe_error_set(err, FLOE_EINVALID, "transform %s cannot apply to a %s value",
	                      ice_transform_format(t, tn, sizeof tn),
	                      floe_type_format(src, sn, sizeof sn));
}

int ice_transform_apply(const ice_transform *t, const floe_type *src, const ice_datum *in,
                        ice_datum *out, floe_error *err)
{
	floe_type rt;
	int rc = ice_transform_result_type(t, src, &rt, err);
	if (rc)
		return rc;
	memset(out, 0, sizeof *out);
	out->type = rt;
	if (in->is_null || t->kind == ICE_T_VOID) {
		out->is_null = true;
		return 0;
	}
	return apply_value(t, src, &in->v, &out->v, err);
}

/* Row `r` of `col` as a floe_value (storage per floe/schema.h). */
static void column_value(const floe_column *col, const floe_type *src, int64_t r,
                         floe_value *v)
{
	memset(v, 0, sizeof *v);
	switch (src->id) {
	case FLOE_TYPE_BOOLEAN:
		v->b = ((const uint8_t *)col->values)[r] != 0;
		v->i = v->b;
		break;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE: {
		int32_t x;
		memcpy(&x, (const uint8_t *)col->values + 4 * r, 4);
		v->i = x;
		break;
	}
	case FLOE_TYPE_FLOAT: {
		float f;
		memcpy(&f, (const uint8_t *)col->values + 4 * r, 4);
		v->d = f;
		break;
	}
	case FLOE_TYPE_DOUBLE:
		memcpy(&v->d, (const uint8_t *)col->values + 8 * r, 8);
		break;
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_JSON:
		v->bytes = col->data + col->offsets[r];
		v->len = col->offsets[r + 1] - col->offsets[r];
		break;
	case FLOE_TYPE_UUID:
	case FLOE_TYPE_FIXED:
		v->bytes = (const uint8_t *)col->values + (int64_t)src->width * r;
		v->len = src->width;
		break;
	case FLOE_TYPE_DECIMAL:
		if (src->precision > 18) {
			v->bytes = (const uint8_t *)col->values + 16 * r;
			v->len = 16;
		} else {
			memcpy(&v->i, (const uint8_t *)col->values + 8 * r, 8);
		}
		break;
	default: /* LONG, TIME, TIMESTAMP* */
		memcpy(&v->i, (const uint8_t *)col->values + 8 * r, 8);
		break;
	}
}

int ice_transform_apply_column(const ice_transform *t, const floe_type *src,
                               const floe_column *col, int64_t nrows, ice_datum *out,
                               floe_error *err)
{
	floe_type rt;
	int rc = ice_transform_result_type(t, src, &rt, err);
	if (rc)
		return rc;
	if (nrows < 0)
		return floe_error_set(err, FLOE_EINVALID, "negative row count");
	for (int64_t r = 0; r < nrows; r++) {
		ice_datum *o = &out[r];
		memset(o, 0, sizeof *o);
		o->type = rt;
		if (t->kind == ICE_T_VOID || !floe_column_is_valid(col, r)) {
			o->is_null = true;
			continue;
		}
		floe_value v;
		column_value(col, src, r, &v);
		/* the hot cases inline; the rest through apply_value */
		if (t->kind == ICE_T_IDENTITY) {
			o->v = v;
		} else if (t->kind == ICE_T_DAY && is_timestamp(src->id) && !is_nanos(src->id)) {
			int64_t days = floor_div(v.i, US_PER_DAY);
			if (days < INT32_MIN || days > INT32_MAX)
				return range_err(err, "day");
			o->v.i = days;
		} else if ((rc = apply_value(t, src, &v, &o->v, err)) != 0) {
			return rc;
		}
	}
	return 0;
}

int ice_transform_apply_ints(const ice_transform *t, const floe_type *src,
                             const floe_column *col, int64_t nrows, int64_t *out,
                             floe_error *err)
{
	if (col->validity || nrows < 0)
		return 1;
	if (t->kind == ICE_T_IDENTITY) {
		if (src->id == FLOE_TYPE_INT || src->id == FLOE_TYPE_DATE) {
			const int32_t *v = col->values;
			for (int64_t r = 0; r < nrows; r++)
				out[r] = v[r];
			return 0;
		}
		if (src->id == FLOE_TYPE_LONG || is_timestamp(src->id)) {
			memcpy(out, col->values, (size_t)nrows * sizeof *out);
			return 0;
		}
		return 1;
	}
	if ((t->kind != ICE_T_DAY && t->kind != ICE_T_HOUR) || !is_timestamp(src->id))
		return 1;
	bool ns = is_nanos(src->id);
	const int64_t *v = col->values;
	/* one loop per unit, so that each division is by a constant */
#define FLOOR_DIV_LOOP(unit) \
	for (int64_t r = 0; r < nrows; r++) \
		out[r] = floor_div(v[r], unit)
	if (t->kind == ICE_T_DAY && ns)
		FLOOR_DIV_LOOP(NS_PER_DAY);
	else if (t->kind == ICE_T_DAY)
		FLOOR_DIV_LOOP(US_PER_DAY);
	else if (ns)
		FLOOR_DIV_LOOP(NS_PER_HOUR);
	else
		FLOOR_DIV_LOOP(US_PER_HOUR);
#undef FLOOR_DIV_LOOP
	for (int64_t r = 0; r < nrows; r++)
		if (out[r] < INT32_MIN || out[r] > INT32_MAX)
			return range_err(err, t->kind == ICE_T_DAY ? "day" : "hour");
	return 0;
}

/* ---- inclusive projection (iceberg spec, "Scan Planning") ----------- */

bool ice_transform_preserves_order(const ice_transform *t)
{
	switch (t->kind) {
	case ICE_T_IDENTITY:
	case ICE_T_TRUNCATE:
	case ICE_T_YEAR:
	case ICE_T_MONTH:
	case ICE_T_DAY:
	case ICE_T_HOUR:
		return true;
	default:
		return false;
	}
}

/* Integer-like sources whose literal can step by one unit. */
static bool steps_by_one(const floe_type *src)
{
	switch (src->id) {
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE:
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		return true;
	case FLOE_TYPE_DECIMAL:
		return src->precision <= 18;
	default:
		return false;
	}
}

static void int_range(const floe_type *src, int64_t *lo, int64_t *hi)
{
	if (src->id == FLOE_TYPE_INT || src->id == FLOE_TYPE_DATE) {
		*lo = INT32_MIN;
		*hi = INT32_MAX;
	} else {
		*lo = INT64_MIN;
		*hi = INT64_MAX;
	}
}

int ice_transform_project(const ice_transform *t, const floe_type *src, int op,
                          const ice_datum *lit, int *out_op, ice_datum *out_value,
                          floe_error *err)
{
	floe_type rt;
	if (t->kind == ICE_T_VOID || t->kind == ICE_T_UNKNOWN)
		return 0; /* nothing to filter on: the projection is "true" */
	(void)err; /* never fails: a pair that cannot project prunes nothing */
	if (ice_transform_result_type(t, src, &rt, NULL))
		return 0;
	memset(out_value, 0, sizeof *out_value);
	out_value->type = rt;
	if (op == FLOE_PARQUET_IS_NULL) {
		/* every transform but void maps NULL to NULL and only NULL */
		*out_op = op;
		out_value->is_null = true;
		return 1;
	}
	if (op != FLOE_PARQUET_EQ && op != FLOE_PARQUET_LT && op != FLOE_PARQUET_LE &&
	    op != FLOE_PARQUET_GT && op != FLOE_PARQUET_GE)
		return 0;
	if (!lit || lit->is_null)
		return 0;
	if (t->kind == ICE_T_IDENTITY) {
		*out_op = op;
		out_value->v = lit->v;
		return 1;
	}
	if (t->kind == ICE_T_BUCKET) {
		/* hashing keeps no order: only equality projects */
		if (op != FLOE_PARQUET_EQ)
			return 0;
		if (apply_value(t, src, &lit->v, &out_value->v, NULL))
			return 0;
		*out_op = op;
		return 1;
	}

	/* order-preserving transforms: a strict bound first becomes an
	 * inclusive one on the source (x < X is x <= X-1 for integer-like
	 * sources), then maps through the transform. Bytes and strings cannot
	 * step, so x < "abc" becomes x <= truncate("abc"). */
	floe_value bound = lit->v;
	int pop = op;
	if (op == FLOE_PARQUET_LT || op == FLOE_PARQUET_GT) {
		pop = op == FLOE_PARQUET_LT ? FLOE_PARQUET_LE : FLOE_PARQUET_GE;
		if (steps_by_one(src)) {
			int64_t lo, hi;
			int_range(src, &lo, &hi);
			if (op == FLOE_PARQUET_LT) {
				if (bound.i <= lo)
					return 0; /* no value is below: leave unpruned */
				bound.i--;
			} else {
				if (bound.i >= hi)
					return 0;
				bound.i++;
			}
		} else if (src->id == FLOE_TYPE_DECIMAL) {
			return 0; /* wide decimals: no room to step */
		}
	}
	if (apply_value(t, src, &bound, &out_value->v, NULL))
		return 0;
	/* the adjusted bound points into a local; only integers step, and
	 * their results carry no bytes */
	*out_op = pop;
	return 1;
}
