/* iceberg/value.c - one typed Iceberg value: the single-value binary
 * serialization of bounds and partition summaries (iceberg spec, "Appendix D:
 * Single-value serialization"), the order used for bounds, and a text form. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/value.h"
#include "util/format.h"
#include "util/text.h"

/* Types whose floe_value lives in bytes+len rather than i/d/b. */
static bool uses_bytes(const floe_type *type)
{
	switch (type->id) {
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_JSON:
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_FIXED:
	case FLOE_TYPE_UUID:
		return true;
	case FLOE_TYPE_DECIMAL:
		return type->precision > 18;
	default:
		return false;
	}
}

static const char *type_name(const floe_type *type, char *buf, int cap)
{
	return floe_type_format(type, buf, cap);
}

/* Sign-extend n (1..16) big-endian two's complement bytes. */
static __int128 be_to_i128(const uint8_t *p, size_t n)
{
	unsigned __int128 u = (n > 0 && (p[0] & 0x80)) ? ~(unsigned __int128)0 : 0;
	for (size_t i = 0; i < n; i++)
		u = (u << 8) | p[i];
	return (__int128)u;
}

/* The unscaled value of a decimal datum (bytes of any length up to 16). */
static __int128 decimal_unscaled(const floe_type *type, const floe_value *v)
{
	if (type->precision <= 18)
		return v->i;
	if (!v->bytes || v->len <= 0)
		return 0;
	size_t n = (size_t)v->len;
	if (n > 16) { /* only sign bytes can precede the low 16 */
		return be_to_i128(v->bytes + (n - 16), 16);
	}
	return be_to_i128(v->bytes, n);
}

/* iceberg spec, Appendix D: decimal "unscaled value as a two's-complement
 * big-endian binary, using the minimum number of bytes for the value". */
static int put_min_be(floe_buf *out, __int128 v)
{
	uint8_t b[16];
	unsigned __int128 u = (unsigned __int128)v;
	for (int i = 15; i >= 0; i--) {
		b[i] = (uint8_t)u;
		u >>= 8;
	}
	int s = 0;
	/* drop a leading byte while it only repeats the sign of the next one */
	while (s < 15 && ((b[s] == 0x00 && !(b[s + 1] & 0x80)) ||
	                  (b[s] == 0xff && (b[s + 1] & 0x80))))
		s++;
	return floe_buf_append(out, b + s, (size_t)(16 - s));
}

int ice_value_serialize(floe_buf *out, const floe_type *type, const floe_value *v,
                        floe_error *err)
{
	char tn[64];
	uint8_t b;
	switch (type->id) {
	case FLOE_TYPE_BOOLEAN:
		b = v->b ? 1 : 0;
		return floe_buf_append(out, &b, 1) ? FLOE_ENOMEM : 0;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE:
		return floe_buf_put_u32le(out, (uint32_t)(int32_t)v->i) ? FLOE_ENOMEM : 0;
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		return floe_buf_put_u64le(out, (uint64_t)v->i) ? FLOE_ENOMEM : 0;
	case FLOE_TYPE_FLOAT: {
		float f = (float)v->d;
		uint32_t u;
		memcpy(&u, &f, 4);
		return floe_buf_put_u32le(out, u) ? FLOE_ENOMEM : 0;
	}
	case FLOE_TYPE_DOUBLE: {
		uint64_t u;
		memcpy(&u, &v->d, 8);
		return floe_buf_put_u64le(out, u) ? FLOE_ENOMEM : 0;
	}
	case FLOE_TYPE_DECIMAL:
		if (type->precision > 18 && (v->len < 1 || v->len > 16 || !v->bytes))
			return floe_error_set(err, FLOE_EINVALID,
			                      "decimal value of %" PRId64 " bytes (want 1..16)",
			                      v->len);
		return put_min_be(out, decimal_unscaled(type, v)) ? FLOE_ENOMEM : 0;
	case FLOE_TYPE_UUID:
	case FLOE_TYPE_FIXED: {
		int64_t want = type->id == FLOE_TYPE_UUID ? 16 : type->width;
		if (v->len != want || (want > 0 && !v->bytes))
			return floe_error_set(err, FLOE_EINVALID,
			                      "%s value of %" PRId64 " bytes",
			                      type_name(type, tn, sizeof tn), v->len);
		return floe_buf_append(out, v->bytes, (size_t)want) ? FLOE_ENOMEM : 0;
	}
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_JSON:
	case FLOE_TYPE_BINARY:
		if (v->len < 0 || (v->len > 0 && !v->bytes))
			return floe_error_set(err, FLOE_EINVALID, "value of negative length");
		return floe_buf_append(out, v->bytes, (size_t)v->len) ? FLOE_ENOMEM : 0;
	}
	return floe_error_set(err, FLOE_EINVALID, "unknown type id %d", (int)type->id);
}

static int bad_size(floe_error *err, const floe_type *type, size_t n)
{
	char tn[64];
	return floe_error_set(err, FLOE_ECORRUPT, "single value of %zu bytes for type %s", n,
	                      type_name(type, tn, sizeof tn));
}

int ice_value_deserialize(floe_value *out, const floe_type *type, const uint8_t *p,
                          size_t n, floe_arena *arena, floe_error *err)
{
	memset(out, 0, sizeof *out);
	if (n > 0 && !p)
		return floe_error_set(err, FLOE_EINVALID, "NULL bytes");
	switch (type->id) {
	case FLOE_TYPE_BOOLEAN:
		if (n != 1)
			return bad_size(err, type, n);
		if (p[0] > 1)
			return floe_error_set(err, FLOE_ECORRUPT, "boolean byte 0x%02x", p[0]);
		out->b = p[0] == 1;
		out->i = p[0];
		return 0;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE:
		if (n != 4)
			return bad_size(err, type, n);
		out->i = (int32_t)floe_load_u32le(p);
		return 0;
	case FLOE_TYPE_LONG:
		/* a bound written before int -> long promotion is 4 bytes */
		if (n == 4) {
			out->i = (int32_t)floe_load_u32le(p);
			return 0;
		}
		if (n != 8)
			return bad_size(err, type, n);
		out->i = (int64_t)floe_load_u64le(p);
		return 0;
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		if (n != 8)
			return bad_size(err, type, n);
		out->i = (int64_t)floe_load_u64le(p);
		return 0;
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
		/* a double bound written before float -> double promotion is 4 bytes */
		if (n == 4) {
			uint32_t u = floe_load_u32le(p);
			float f;
			memcpy(&f, &u, 4);
			out->d = f;
			return 0;
		}
		if (n != 8 || type->id == FLOE_TYPE_FLOAT)
			return bad_size(err, type, n);
		{
			uint64_t u = floe_load_u64le(p);
			memcpy(&out->d, &u, 8);
		}
		return 0;
	case FLOE_TYPE_DECIMAL: {
		if (n < 1 || n > 16)
			return bad_size(err, type, n);
		__int128 v = be_to_i128(p, n);
		if (type->precision <= 18) {
			if (v < INT64_MIN || v > INT64_MAX)
				return floe_error_set(err, FLOE_ECORRUPT,
				                      "decimal of %zu bytes exceeds precision %d",
				                      n, (int)type->precision);
			out->i = (int64_t)v;
			return 0;
		}
		if (n == 16) {
			out->bytes = p;
			out->len = 16;
			return 0;
		}
		if (!arena)
			return floe_error_set(err, FLOE_EINVALID,
			                      "decimal widening needs an arena");
		uint8_t *w = floe_arena_alloc(arena, 16);
		if (!w)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		memset(w, (p[0] & 0x80) ? 0xff : 0x00, 16 - n);
		memcpy(w + (16 - n), p, n);
		out->bytes = w;
		out->len = 16;
		return 0;
	}
	case FLOE_TYPE_UUID:
		if (n != 16)
			return bad_size(err, type, n);
		out->bytes = p;
		out->len = 16;
		return 0;
	case FLOE_TYPE_FIXED:
		if (type->width < 0 || n != (size_t)type->width)
			return bad_size(err, type, n);
		out->bytes = p;
		out->len = (int64_t)n;
		return 0;
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_JSON:
	case FLOE_TYPE_BINARY:
		if (n > (size_t)INT64_MAX)
			return bad_size(err, type, n);
		out->bytes = p;
		out->len = (int64_t)n;
		return 0;
	}
	return floe_error_set(err, FLOE_EINVALID, "unknown type id %d", (int)type->id);
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/* NaN above everything (NaN == NaN), -0.0 below 0.0. */
static int cmp_double(double a, double b)
{
	bool na = isnan(a), nb = isnan(b);
	if (na || nb)
		return na && nb ? 0 : na ? 1 : -1;
	if (a < b)
		return -1;
	if (a > b)
		return 1;
	bool sa = signbit(a) != 0, sb = signbit(b) != 0;
	return sa == sb ? 0 : sa ? -1 : 1;
}

static int cmp_bytes(const floe_value *a, const floe_value *b)
{
	size_t la = a->len > 0 ? (size_t)a->len : 0, lb = b->len > 0 ? (size_t)b->len : 0;
	size_t m = la < lb ? la : lb;
	int c = m ? memcmp(a->bytes, b->bytes, m) : 0; /* memcmp is unsigned */
	if (c)
		return c < 0 ? -1 : 1;
	return la < lb ? -1 : la > lb;
}

int ice_value_compare(const floe_type *type, const floe_value *a, const floe_value *b)
{
	switch (type->id) {
	case FLOE_TYPE_BOOLEAN:
		return (int)a->b - (int)b->b;
	case FLOE_TYPE_LONG:
		if (type->is_unsigned) {
			uint64_t x = (uint64_t)a->i, y = (uint64_t)b->i;
			return x < y ? -1 : x > y;
		}
		return cmp_i64(a->i, b->i);
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		return cmp_i64(a->i, b->i);
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
		return cmp_double(a->d, b->d);
	case FLOE_TYPE_DECIMAL: {
		__int128 x = decimal_unscaled(type, a), y = decimal_unscaled(type, b);
		return x < y ? -1 : x > y;
	}
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_JSON:
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_FIXED:
	case FLOE_TYPE_UUID:
		return cmp_bytes(a, b);
	}
	return 0;
}

static int puts_buf(floe_buf *out, const char *s)
{
	return floe_buf_append(out, s, strlen(s)) ? FLOE_ENOMEM : 0;
}

/* floor division for values before the epoch */
static void floor_divmod(int64_t v, int64_t unit, int64_t *q, int64_t *r)
{
	*q = v / unit;
	*r = v % unit;
	if (*r < 0) {
		*r += unit;
		(*q)--;
	}
}

/* HH:MM:SS plus a fraction of `digits` digits when it is not zero */
static int put_time_of_day(floe_buf *out, int64_t secs, int64_t frac, int digits)
{
	char t[48];
	int k = snprintf(t, sizeof t, "%02lld:%02lld:%02lld", (long long)(secs / 3600),
	                 (long long)(secs / 60 % 60), (long long)(secs % 60));
	if (frac)
		snprintf(t + k, sizeof t - (size_t)k, ".%0*lld", digits, (long long)frac);
	return puts_buf(out, t);
}

int ice_datum_format(floe_buf *out, const ice_datum *d)
{
	const floe_type *type = &d->type;
	const floe_value *v = &d->v;
	char t[64];
	if (d->is_null)
		return puts_buf(out, "null");
	switch (type->id) {
	case FLOE_TYPE_BOOLEAN:
		return puts_buf(out, v->b ? "true" : "false");
	case FLOE_TYPE_INT:
		snprintf(t, sizeof t, "%" PRId32, (int32_t)v->i);
		return puts_buf(out, t);
	case FLOE_TYPE_LONG:
		if (type->is_unsigned)
			snprintf(t, sizeof t, "%" PRIu64, (uint64_t)v->i);
		else
			snprintf(t, sizeof t, "%" PRId64, v->i);
		return puts_buf(out, t);
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
		floe_format_shortest(t, sizeof t, v->d, type->id == FLOE_TYPE_FLOAT);
		return puts_buf(out, t);
	case FLOE_TYPE_DECIMAL:
		return floe_format_decimal(out, decimal_unscaled(type, v), type->scale);
	case FLOE_TYPE_DATE:
		return floe_format_date(out, (int32_t)v->i);
	case FLOE_TYPE_TIME: {
		int64_t secs, frac;
		floor_divmod(v->i, 1000000, &secs, &frac);
		return put_time_of_day(out, secs, frac, 6);
	}
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS: {
		bool ns = type->id == FLOE_TYPE_TIMESTAMP_NS ||
		          type->id == FLOE_TYPE_TIMESTAMPTZ_NS;
		bool tz = type->id == FLOE_TYPE_TIMESTAMPTZ ||
		          type->id == FLOE_TYPE_TIMESTAMPTZ_NS;
		int64_t secs, frac, days, tod;
		floor_divmod(v->i, ns ? 1000000000 : 1000000, &secs, &frac);
		floor_divmod(secs, 86400, &days, &tod);
		int rc = floe_format_date(out, days);
		if (!rc)
			rc = puts_buf(out, "T");
		if (!rc)
			rc = put_time_of_day(out, tod, frac, ns ? 9 : 6);
		if (!rc && tz)
			rc = puts_buf(out, "+00:00");
		return rc;
	}
	case FLOE_TYPE_UUID: {
		if (v->len != 16 || !v->bytes)
			return puts_buf(out, "(bad uuid)");
		char u[40];
		int k = 0;
		for (int i = 0; i < 16; i++) {
			if (i == 4 || i == 6 || i == 8 || i == 10)
				u[k++] = '-';
			k += snprintf(u + k, sizeof u - (size_t)k, "%02x", v->bytes[i]);
		}
		return puts_buf(out, u);
	}
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_FIXED:
		if (v->len <= 0)
			return 0;
		return floe_base64_encode(out, v->bytes, (size_t)v->len) ? FLOE_ENOMEM : 0;
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_JSON:
		if (v->len <= 0)
			return 0;
		return floe_buf_append(out, v->bytes, (size_t)v->len) ? FLOE_ENOMEM : 0;
	}
	return FLOE_EINVALID;
}

int ice_datum_copy(ice_datum *dst, const ice_datum *src, floe_arena *arena)
{
	ice_datum tmp = *src;
	if (!src->is_null && uses_bytes(&src->type) && src->v.bytes) {
		if (src->v.len < 0)
			return FLOE_EINVALID;
		uint8_t *p = floe_arena_alloc(arena, (size_t)src->v.len);
		if (!p)
			return FLOE_ENOMEM;
		if (src->v.len)
			memcpy(p, src->v.bytes, (size_t)src->v.len);
		tmp.v.bytes = p;
	}
	*dst = tmp;
	return 0;
}
