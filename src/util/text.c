/* util/text.c - CSV (RFC 4180) and NDJSON input for appends, `floe parquet write` and
 * `--where` literals: text to typed values, streamed into floe_batches. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "util/text.h"

/* ---- calendar (Howard Hinnant's days_from_civil) ---------------------- */

int64_t floe_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void floe_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

/* ---- base64 ------------------------------------------------------------ */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int floe_base64_encode(floe_buf *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = { b64chars[(v >> 18) & 63], b64chars[(v >> 12) & 63],
			      i + 1 < n ? b64chars[(v >> 6) & 63] : '=',
			      i + 2 < n ? b64chars[v & 63] : '=' };
		if (floe_buf_append(out, q, 4))
			return FLOE_ENOMEM;
	}
	return 0;
}

static int b64val(char c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;
	return p ? (int)(p - b64chars) : -1;
}

int floe_base64_decode(floe_buf *out, const char *s, size_t n)
{
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return FLOE_EINVALID;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64val(s[i]);
		if (v < 0)
			return FLOE_EINVALID;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (floe_buf_putc(out, (uint8_t)(acc >> bits)))
				return FLOE_ENOMEM;
		}
	}
	return 0;
}

/* ---- scalar parsers ---------------------------------------------------- */

/* Reads exactly `k` digits at *p into *v. */
static bool digits(const char **p, const char *end, int k, int64_t *v)
{
	int64_t x = 0;
	for (int i = 0; i < k; i++) {
		if (*p >= end || !isdigit((unsigned char)**p))
			return false;
		x = x * 10 + (**p - '0');
		(*p)++;
	}
	*v = x;
	return true;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool parse_date_part(const char **p, const char *end, int64_t *days)
{
	int64_t y, m, d;
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	/* ISO 8601 years: 4 digits, or a sign and 4 to 9 digits (expanded) */
	bool neg = false, sign = *p < end && (**p == '-' || **p == '+');
	if (sign)
		neg = *(*p)++ == '-';
	if (!digits(p, end, 4, &y))
		return false;
	for (int extra = 0; sign && extra < 5 && *p < end && isdigit((unsigned char)**p); extra++)
		y = y * 10 + (*(*p)++ - '0');
	if (neg)
		y = -y;
	if (*p >= end || **p != '-')
		return false;
	(*p)++;
	if (!digits(p, end, 2, &m) || *p >= end || **p != '-')
		return false;
	(*p)++;
	if (!digits(p, end, 2, &d))
		return false;
	if (m < 1 || m > 12 || d < 1)
		return false;
	if (d > mdays[m - 1] + (m == 2 && is_leap(y)))
		return false;
	*days = floe_days_from_civil(y, (unsigned)m, (unsigned)d);
	return true;
}

/* HH:MM:SS[.fraction] as units of 10^-digits seconds (digits 6 or 9). */
static const char *parse_time_part(const char **p, const char *end, int fdigits,
                                   int64_t *out)
{
	int64_t h, mi, sec, frac = 0;
	if (!digits(p, end, 2, &h) || *p >= end || **p != ':')
		return "expected HH:MM:SS";
	(*p)++;
	if (!digits(p, end, 2, &mi) || *p >= end || **p != ':')
		return "expected HH:MM:SS";
	(*p)++;
	if (!digits(p, end, 2, &sec))
		return "expected HH:MM:SS";
	if (h > 23 || mi > 59 || sec > 59)
		return "hour, minute or second out of range";
	if (*p < end && **p == '.') {
		(*p)++;
		int k = 0;
		while (*p < end && isdigit((unsigned char)**p)) {
			if (k == fdigits)
				return fdigits == 6 ? "more than 6 fraction digits (micros)"
				                    : "more than 9 fraction digits (nanos)";
			frac = frac * 10 + (**p - '0');
			k++;
			(*p)++;
		}
		if (k == 0)
			return "expected digits after '.'";
		for (; k < fdigits; k++)
			frac *= 10;
	}
	int64_t unit = fdigits == 6 ? 1000000 : 1000000000;
	*out = ((h * 60 + mi) * 60 + sec) * unit + frac;
	return NULL;
}

static bool token_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* NUL-terminated copy of s[0..n) for strto* (small values only). */
static bool small_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n == 0 || n >= cap)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

static int parse_decimal(floe_value *out, const floe_type *type, const char *s,
                         size_t n, floe_buf *scratch, floe_error *err)
{
	const char *p = s, *end = s + n;
	bool neg = false;
	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	__int128 v = 0;
	int int_digits = 0, frac_digits = 0;
	bool any = false, seen_nonzero = false;
	while (p < end && isdigit((unsigned char)*p)) {
		if (*p != '0')
			seen_nonzero = true;
		if (seen_nonzero)
			int_digits++;
		if (int_digits > 38)
			return floe_error_set(err, FLOE_EINVALID, "decimal '%.*s' has too many digits",
			                      (int)n, s);
		v = v * 10 + (*p - '0');
		any = true;
		p++;
	}
	if (p < end && *p == '.') {
		p++;
		while (p < end && isdigit((unsigned char)*p)) {
			if (frac_digits == type->scale)
				return floe_error_set(err, FLOE_EINVALID,
				                      "decimal '%.*s' has more than %d fraction digits",
				                      (int)n, s, (int)type->scale);
			v = v * 10 + (*p - '0');
			frac_digits++;
			any = true;
			p++;
		}
	}
	if (!any || p != end)
		return floe_error_set(err, FLOE_EINVALID, "bad decimal '%.*s'", (int)n, s);
	if (int_digits + type->scale > type->precision)
		return floe_error_set(err, FLOE_EINVALID,
		                      "decimal '%.*s' does not fit decimal(%d,%d)", (int)n, s,
		                      (int)type->precision, (int)type->scale);
	for (; frac_digits < type->scale; frac_digits++)
		v *= 10;
	if (neg)
		v = -v;
	memset(out, 0, sizeof *out);
	if (type->precision <= 18) {
		out->i = (int64_t)v;
		return 0;
	}
	/* DECIMAL P>18: 16 bytes, big-endian two's complement (floe/schema.h) */
	floe_buf_clear(scratch);
	if (floe_buf_reserve(scratch, 16))
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	uint8_t *b = floe_buf_extend(scratch, 16);
	unsigned __int128 u = (unsigned __int128)v;
	for (int i = 15; i >= 0; i--) {
		b[i] = (uint8_t)u;
		u >>= 8;
	}
	out->bytes = b;
	out->len = 16;
	return 0;
}

static int parse_timestamp(floe_value *out, const floe_type *type, const char *s,
                           size_t n, floe_error *err)
{
	const char *p = s, *end = s + n;
	bool nanos = type->id == FLOE_TYPE_TIMESTAMP_NS || type->id == FLOE_TYPE_TIMESTAMPTZ_NS;
	bool tz = type->id == FLOE_TYPE_TIMESTAMPTZ || type->id == FLOE_TYPE_TIMESTAMPTZ_NS;
	int64_t days, tod, offset_s = 0;
	bool digits_only = n > 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && !(i == 0 && s[i] == '-'))
			digits_only = false;
	if (digits_only)
		return floe_error_set(err, FLOE_EINVALID,
		                      "timestamp '%.*s' is a number; epoch values are not "
		                      "accepted, write YYYY-MM-DDTHH:MM:SS[.ffffff]", (int)n, s);
	if (!parse_date_part(&p, end, &days))
		return floe_error_set(err, FLOE_EINVALID,
		                      "bad timestamp '%.*s': expected a valid YYYY-MM-DD date", (int)n, s);
	if (p >= end || (*p != 'T' && *p != 't' && *p != ' '))
		return floe_error_set(err, FLOE_EINVALID,
		                      "bad timestamp '%.*s': expected 'T' or ' ' before the time",
		                      (int)n, s);
	p++;
	const char *why = parse_time_part(&p, end, nanos ? 9 : 6, &tod);
	if (why)
		return floe_error_set(err, FLOE_EINVALID, "bad timestamp '%.*s': %s", (int)n, s, why);
	if (p < end) {
		if (!tz)
			return floe_error_set(err, FLOE_EINVALID,
			                      "timestamp '%.*s' has a zone or offset; a timestamp "
			                      "without time zone takes none (use timestamptz)",
			                      (int)n, s);
		if ((*p == 'Z' || *p == 'z') && p + 1 == end) {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1;
			int64_t oh, om;
			p++;
			if (!digits(&p, end, 2, &oh) || p >= end || *p != ':')
				goto bad_offset;
			p++;
			if (!digits(&p, end, 2, &om) || p != end || oh > 23 || om > 59)
				goto bad_offset;
			offset_s = sign * (oh * 3600 + om * 60);
		} else {
			goto bad_offset;
		}
	}
	int64_t unit = nanos ? 1000000000 : 1000000, v;
	/* local = days*86400*unit + tod; UTC = local - offset */
	if (__builtin_mul_overflow(days, 86400 * unit, &v) ||
	    __builtin_add_overflow(v, tod, &v) ||
	    __builtin_sub_overflow(v, offset_s * unit, &v))
		return floe_error_set(err, FLOE_EINVALID, "timestamp '%.*s' out of range%s",
		                      (int)n, s, nanos ? " for nanoseconds (1677..2262)" : "");
	memset(out, 0, sizeof *out);
	out->i = v;
	return 0;
bad_offset:
	return floe_error_set(err, FLOE_EINVALID,
	                      "bad timestamp '%.*s': expected Z, +HH:MM or -HH:MM after the time",
	                      (int)n, s);
}

size_t floe_utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	size_t k;
	uint32_t cp;
	if (c >= 0xC2 && c <= 0xDF)
		k = 1, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		k = 2, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		k = 3, cp = c & 0x07;
	else
		return 0;
	if (n <= k)
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if ((p[j] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[j] & 0x3F);
	}
	if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return k + 1;
}

/* Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static bool utf8_valid(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = floe_utf8_seq(p + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int floe_text_parse(floe_value *out, const floe_type *type, const char *s, size_t n,
                    floe_buf *scratch, floe_error *err)
{
	char tmp[128];
	char *end;
	memset(out, 0, sizeof *out);
	switch (type->id) {
	case FLOE_TYPE_BOOLEAN:
		if (token_is(s, n, "true") || token_is(s, n, "1"))
			out->b = true;
		else if (token_is(s, n, "false") || token_is(s, n, "0"))
			out->b = false;
		else
			return floe_error_set(err, FLOE_EINVALID,
			                      "bad boolean '%.*s': expected true, false, 1 or 0",
			                      (int)(n > 64 ? 64 : n), s);
		return 0;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_LONG: {
		if (!small_copy(tmp, sizeof tmp, s, n) || isspace((unsigned char)tmp[0]))
			goto bad_int;
		errno = 0;
		long long v;
		if (type->is_unsigned && type->id == FLOE_TYPE_LONG) {
			if (tmp[0] == '-')
				goto range;
			unsigned long long u = strtoull(tmp, &end, 10);
			v = (long long)u;
		} else {
			v = strtoll(tmp, &end, 10);
		}
		if (*end != '\0' || end == tmp)
			goto bad_int;
		if (errno == ERANGE)
			goto range;
		if (type->id == FLOE_TYPE_INT) {
			long long lo = type->is_unsigned ? 0 : INT32_MIN;
			long long hi = type->is_unsigned ? UINT32_MAX : INT32_MAX;
			if (v < lo || v > hi)
				goto range;
		}
		out->i = v;
		return 0;
	bad_int:
		return floe_error_set(err, FLOE_EINVALID, "bad integer '%.*s'",
		                      (int)(n > 64 ? 64 : n), s);
	range:
		return floe_error_set(err, FLOE_EINVALID, "integer '%.*s' out of range for %s",
		                      (int)(n > 64 ? 64 : n), s,
		                      type->id == FLOE_TYPE_INT ? "int (32-bit)" : "long (64-bit)");
	}
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
		if (!small_copy(tmp, sizeof tmp, s, n) || isspace((unsigned char)tmp[0]))
			goto bad_float;
		errno = 0;
		if (type->id == FLOE_TYPE_FLOAT) {
			float f = strtof(tmp, &end);
			if (errno == ERANGE && isinf(f))
				goto bad_float;
			out->d = f;
		} else {
			out->d = strtod(tmp, &end);
			if (errno == ERANGE && isinf(out->d))
				goto bad_float;
		}
		if (*end != '\0' || end == tmp)
			goto bad_float;
		return 0;
	bad_float:
		return floe_error_set(err, FLOE_EINVALID, "bad %s '%.*s'",
		                      type->id == FLOE_TYPE_FLOAT ? "float" : "double",
		                      (int)(n > 64 ? 64 : n), s);
	case FLOE_TYPE_DECIMAL:
		return parse_decimal(out, type, s, n, scratch, err);
	case FLOE_TYPE_DATE: {
		const char *p = s;
		int64_t days;
		if (!parse_date_part(&p, s + n, &days) || p != s + n)
			return floe_error_set(err, FLOE_EINVALID,
			                      "bad date '%.*s': expected a valid YYYY-MM-DD",
			                      (int)(n > 64 ? 64 : n), s);
		out->i = days;
		return 0;
	}
	case FLOE_TYPE_TIME: {
		const char *p = s;
		int64_t us;
		const char *why = parse_time_part(&p, s + n, 6, &us);
		if (!why && p != s + n)
			why = "trailing characters";
		if (why)
			return floe_error_set(err, FLOE_EINVALID, "bad time '%.*s': %s",
			                      (int)(n > 64 ? 64 : n), s, why);
		out->i = us;
		return 0;
	}
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		return parse_timestamp(out, type, s, n, err);
	case FLOE_TYPE_STRING:
		if (!utf8_valid((const uint8_t *)s, n))
			return floe_error_set(err, FLOE_EINVALID,
			                      "string is not valid UTF-8 (use a binary column "
			                      "for raw bytes)");
		out->bytes = (const uint8_t *)s;
		out->len = (int64_t)n;
		return 0;
	case FLOE_TYPE_JSON: {
		json_error_t je;
		json_t *j = json_loadb(s, n, JSON_DECODE_ANY, &je);
		if (!j)
			return floe_error_set(err, FLOE_EINVALID, "bad JSON text: %s", je.text);
		json_decref(j);
		out->bytes = (const uint8_t *)s;
		out->len = (int64_t)n;
		return 0;
	}
	case FLOE_TYPE_UUID: {
		static const int groups[] = { 8, 4, 4, 4, 12 };
		floe_buf_clear(scratch);
		if (floe_buf_reserve(scratch, 16))
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		uint8_t *b = floe_buf_extend(scratch, 16);
		size_t pos = 0;
		int k = 0;
		if (n != 36)
			goto bad_uuid;
		for (int g = 0; g < 5; g++) {
			if (g > 0 && s[pos++] != '-')
				goto bad_uuid;
			for (int i = 0; i < groups[g]; i += 2) {
				int hi = hexval(s[pos]), lo = hexval(s[pos + 1]);
				if (hi < 0 || lo < 0)
					goto bad_uuid;
				b[k++] = (uint8_t)(hi << 4 | lo);
				pos += 2;
			}
		}
		out->bytes = b;
		out->len = 16;
		return 0;
	bad_uuid:
		return floe_error_set(err, FLOE_EINVALID,
		                      "bad uuid '%.*s': expected 8-4-4-4-12 hex digits",
		                      (int)(n > 64 ? 64 : n), s);
	}
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_FIXED: {
		floe_buf_clear(scratch);
		int rc = floe_base64_decode(scratch, s, n);
		if (rc == FLOE_ENOMEM)
			return floe_error_set(err, rc, "out of memory");
		if (rc)
			return floe_error_set(err, FLOE_EINVALID, "bad base64 '%.*s'",
			                      (int)(n > 64 ? 64 : n), s);
		if (type->id == FLOE_TYPE_FIXED && scratch->len != (size_t)type->width)
			return floe_error_set(err, FLOE_EINVALID,
			                      "fixed[%d] value decodes to %zu bytes",
			                      (int)type->width, scratch->len);
		out->bytes = scratch->data ? scratch->data : (const uint8_t *)"";
		out->len = (int64_t)scratch->len;
		return 0;
	}
	}
	return floe_error_set(err, FLOE_EUNSUPPORTED, "no text form for type %d", (int)type->id);
}

int floe_text_append(floe_batch_builder *bld, int col, const floe_type *type,
                     const floe_value *v, floe_error *err)
{
	switch (type->id) {
	case FLOE_TYPE_BOOLEAN:
		return floe_batch_builder_bool(bld, col, v->b, err);
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE:
		return floe_batch_builder_i32(bld, col, (int32_t)v->i, err);
	case FLOE_TYPE_FLOAT:
		return floe_batch_builder_f32(bld, col, (float)v->d, err);
	case FLOE_TYPE_DOUBLE:
		return floe_batch_builder_f64(bld, col, v->d, err);
	case FLOE_TYPE_DECIMAL:
		if (type->precision <= 18)
			return floe_batch_builder_i64(bld, col, v->i, err);
		return floe_batch_builder_bytes(bld, col, v->bytes, v->len, err);
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		return floe_batch_builder_i64(bld, col, v->i, err);
	default:
		return floe_batch_builder_bytes(bld, col, v->bytes, v->len, err);
	}
}

int floe_text_format_parse(floe_text_format *out, const char *name, floe_error *err)
{
	if (name && strcasecmp(name, "csv") == 0) {
		*out = FLOE_TEXT_CSV;
		return 0;
	}
	if (name && (strcasecmp(name, "ndjson") == 0 || strcasecmp(name, "jsonl") == 0 ||
	             strcasecmp(name, "json") == 0)) {
		*out = FLOE_TEXT_NDJSON;
		return 0;
	}
	return floe_error_set(err, FLOE_EINVALID,
	                      "unknown input format '%s' (use csv or ndjson)", name ? name : "");
}

int floe_text_format_from_path(floe_text_format *out, const char *path, floe_error *err)
{
	const char *dot = path ? strrchr(path, '.') : NULL;
	if (dot && floe_text_format_parse(out, dot + 1, NULL) == 0)
		return 0;
	return floe_error_set(err, FLOE_EINVALID,
	                      "cannot tell the format of '%s' from its name; pass "
	                      "--input-format csv|ndjson", path ? path : "");
}

/* ---- loader ------------------------------------------------------------ */

typedef struct loader {
	FILE *in;
	const char *name;
	const floe_schema *schema;
	floe_batch_builder *bld;
	int64_t batch_rows;
	floe_text_batch_fn fn;
	void *ctx;
	floe_buf scratch;
	int64_t rows;
	/* position of the record being read */
	int64_t line, rec_line;
	int64_t offset, rec_offset;
} loader;

/* Add "NAME:LINE (byte OFF): column 'c': " before err's message. */
static int record_error(loader *ld, int col, floe_error *err)
{
	if (col >= 0)
		return floe_error_prefix(err, "%s:%lld (byte %lld): column '%s'", ld->name,
		                         (long long)ld->rec_line, (long long)ld->rec_offset,
		                         ld->schema->fields[col].name);
	return floe_error_prefix(err, "%s:%lld (byte %lld)", ld->name,
	                         (long long)ld->rec_line, (long long)ld->rec_offset);
}

static int flush(loader *ld, bool final, floe_error *err)
{
	int64_t rows = floe_batch_builder_rows(ld->bld);
	if (rows == 0 || (!final && rows < ld->batch_rows))
		return 0;
	int rc = ld->fn(ld->ctx, floe_batch_builder_view(ld->bld), err);
	floe_batch_builder_clear(ld->bld);
	ld->rows += rows;
	return rc;
}

static int put_text(loader *ld, int col, const char *s, size_t n, floe_error *err)
{
	const floe_type *t = &ld->schema->fields[col].type;
	floe_value v;
	int rc = floe_text_parse(&v, t, s, n, &ld->scratch, err);
	if (rc == 0)
		rc = floe_text_append(ld->bld, col, t, &v, err);
	return rc ? record_error(ld, col, err) : 0;
}

static int put_null(loader *ld, int col, floe_error *err)
{
	if (ld->schema->fields[col].required) {
		floe_error_set(err, FLOE_EINVALID, "NULL in a 'not null' column");
		return record_error(ld, col, err);
	}
	return floe_batch_builder_null(ld->bld, col, err);
}

/* One CSV record (RFC 4180 section 2) into `text` (field bytes, each NUL
 * terminated) with starts[i] = offset of field i, quoted[i] set for quoted
 * fields. Returns 1 with a record, 0 at end of input, <0 on error. */
typedef struct csv_rec {
	floe_buf text;
	floe_buf starts; /* size_t per field */
	floe_buf quoted; /* uint8_t per field */
	int nfields;
} csv_rec;

static int csv_field_end(csv_rec *r, size_t start, bool q)
{
	size_t st = start;
	uint8_t qb = q;
	if (floe_buf_putc(&r->text, 0) || floe_buf_append(&r->starts, &st, sizeof st) ||
	    floe_buf_append(&r->quoted, &qb, 1))
		return FLOE_ENOMEM;
	r->nfields++;
	return 0;
}

static int csv_read(loader *ld, csv_rec *r, floe_error *err)
{
	floe_buf_clear(&r->text);
	floe_buf_clear(&r->starts);
	floe_buf_clear(&r->quoted);
	r->nfields = 0;
	ld->rec_line = ld->line;
	ld->rec_offset = ld->offset;
	int c = getc(ld->in);
	if (c == EOF)
		return 0;
	size_t start = 0;
	bool quoted = false, in_quotes = false, after_quote = false;
	for (;; c = getc(ld->in)) {
		if (c != EOF)
			ld->offset++;
		if (in_quotes) {
			if (c == EOF) {
				floe_error_set(err, FLOE_EINVALID, "unterminated quoted field");
				return record_error(ld, -1, err);
			}
			if (c == '"') {
				int d = getc(ld->in);
				if (d == '"') {
					ld->offset++;
					if (floe_buf_putc(&r->text, '"'))
						goto nomem;
					continue;
				}
				if (d != EOF)
					ungetc(d, ld->in);
				in_quotes = false;
				after_quote = true;
				continue;
			}
			if (c == '\n')
				ld->line++;
			if (floe_buf_putc(&r->text, (uint8_t)c))
				goto nomem;
			continue;
		}
		if (c == ',' || c == '\n' || c == EOF || c == '\r') {
			if (c == '\r') {
				int d = getc(ld->in);
				if (d != '\n') {
					if (d != EOF)
						ungetc(d, ld->in);
				} else {
					ld->offset++;
				}
				c = '\n';
			}
			if (csv_field_end(r, start, quoted))
				goto nomem;
			if (c == ',') {
				start = r->text.len;
				quoted = after_quote = false;
				continue;
			}
			if (c == '\n')
				ld->line++;
			return 1;
		}
		if (after_quote) {
			floe_error_set(err, FLOE_EINVALID,
			               "character '%c' after a closing quote (double a quote inside "
			               "a quoted field: \"\")", c);
			return record_error(ld, -1, err);
		}
		if (c == '"') {
			if (r->text.len != start) {
				floe_error_set(err, FLOE_EINVALID,
				               "quote inside an unquoted field (quote the whole field)");
				return record_error(ld, -1, err);
			}
			quoted = in_quotes = true;
			continue;
		}
		if (floe_buf_putc(&r->text, (uint8_t)c))
			goto nomem;
	}
nomem:
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

static int load_csv(loader *ld, floe_error *err)
{
	csv_rec r = { FLOE_BUF_INIT, FLOE_BUF_INIT, FLOE_BUF_INIT, 0 };
	int *map = NULL; /* header column -> schema field */
	int *seen = NULL;
	int nhdr = 0, rc;
	rc = csv_read(ld, &r, err);
	if (rc < 0)
		goto done;
	if (rc == 0) {
		rc = floe_error_set(err, FLOE_EINVALID,
		                    "%s: empty input: expected a header row naming the columns",
		                    ld->name);
		goto done;
	}
	nhdr = r.nfields;
	map = calloc((size_t)nhdr, sizeof *map);
	seen = calloc((size_t)ld->schema->nfields + 1, sizeof *seen);
	if (!map || !seen) {
		rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
		goto done;
	}
	const size_t *starts = (const size_t *)(void *)r.starts.data;
	for (int i = 0; i < nhdr; i++) {
		const char *h = (const char *)r.text.data + starts[i];
		if (i == 0 && (uint8_t)h[0] == 0xEF && (uint8_t)h[1] == 0xBB && (uint8_t)h[2] == 0xBF)
			h += 3; /* UTF-8 byte order mark */
		map[i] = floe_schema_find(ld->schema, h);
		if (map[i] < 0) {
			rc = floe_error_set(err, FLOE_EINVALID,
			                    "%s:1: header column '%s' is not in the schema (add it "
			                    "to --schema or remove it from the file)", ld->name, h);
			goto done;
		}
		if (seen[map[i]]++) {
			rc = floe_error_set(err, FLOE_EINVALID, "%s:1: header names column '%s' twice",
			                    ld->name, h);
			goto done;
		}
	}
	for (int f = 0; f < ld->schema->nfields; f++)
		if (!seen[f] && ld->schema->fields[f].required) {
			rc = floe_error_set(err, FLOE_EINVALID,
			                    "%s:1: the header lacks the 'not null' column '%s'",
			                    ld->name, ld->schema->fields[f].name);
			goto done;
		}
	for (;;) {
		rc = csv_read(ld, &r, err);
		if (rc <= 0)
			break;
		starts = (const size_t *)(void *)r.starts.data;
		if (r.nfields == 1 && r.text.len == 1 && !r.quoted.data[0])
			continue; /* blank line */
		if (r.nfields != nhdr) {
			floe_error_set(err, FLOE_EINVALID, "%d fields, the header has %d",
			               r.nfields, nhdr);
			rc = record_error(ld, -1, err);
			goto done;
		}
		for (int i = 0; i < nhdr && rc >= 0; i++) {
			const char *s = (const char *)r.text.data + starts[i];
			size_t n = (i + 1 < nhdr ? starts[i + 1] : r.text.len) - starts[i] - 1;
			if (n == 0 && !r.quoted.data[i])
				rc = put_null(ld, map[i], err);
			else
				rc = put_text(ld, map[i], s, n, err);
		}
		for (int f = 0; f < ld->schema->nfields && rc >= 0; f++)
			if (!seen[f])
				rc = put_null(ld, f, err);
		if (rc < 0)
			goto done;
		rc = flush(ld, false, err);
		if (rc)
			goto done;
	}
	if (rc == 0)
		rc = flush(ld, true, err);
done:
	free(map);
	free(seen);
	floe_buf_free(&r.text);
	floe_buf_free(&r.starts);
	floe_buf_free(&r.quoted);
	return rc;
}

/* Shortest "%.Ng" text of d that reads back as d. */
static void shortest_double(char *buf, size_t cap, double d)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

static int put_json(loader *ld, int col, json_t *v, floe_error *err)
{
	const floe_type *t = &ld->schema->fields[col].type;
	char tmp[64];
	if (!v || json_is_null(v))
		return put_null(ld, col, err);
	if (t->id == FLOE_TYPE_JSON) {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!s)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		int rc = floe_batch_builder_bytes(ld->bld, col, s, (int64_t)strlen(s), err);
		free(s);
		return rc ? record_error(ld, col, err) : 0;
	}
	if (json_is_string(v))
		return put_text(ld, col, json_string_value(v), json_string_length(v), err);
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN:
		if (json_is_boolean(v))
			return put_text(ld, col, json_is_true(v) ? "1" : "0", 1, err);
		break;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_LONG:
		if (json_is_integer(v)) {
			snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
			return put_text(ld, col, tmp, strlen(tmp), err);
		}
		break;
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
	case FLOE_TYPE_DECIMAL:
		if (json_is_integer(v)) {
			snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
			return put_text(ld, col, tmp, strlen(tmp), err);
		}
		if (json_is_real(v)) {
			shortest_double(tmp, sizeof tmp, json_real_value(v));
			return put_text(ld, col, tmp, strlen(tmp), err);
		}
		break;
	default:
		break;
	}
	char tb[48];
	floe_error_set(err, FLOE_EINVALID, "a JSON %s cannot be a %s%s",
	               json_is_integer(v) ? "integer" : json_is_real(v) ? "number" :
	               json_is_boolean(v) ? "boolean" : json_is_object(v) ? "object" :
	               json_is_array(v) ? "array" : "value",
	               floe_type_format(t, tb, sizeof tb),
	               (t->id >= FLOE_TYPE_TIMESTAMP && t->id <= FLOE_TYPE_TIMESTAMPTZ_NS)
	                       ? " (write timestamps as ISO-8601 strings; epoch numbers are not accepted)"
	                       : "");
	return record_error(ld, col, err);
}

static int load_ndjson(loader *ld, floe_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while ((len = getline(&line, &cap, ld->in)) >= 0) {
		ld->rec_line = ld->line;
		ld->rec_offset = ld->offset;
		ld->line++;
		ld->offset += len;
		size_t n = (size_t)len;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
		                 line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		size_t s = 0;
		while (s < n && (line[s] == ' ' || line[s] == '\t'))
			s++;
		if (s == n)
			continue;
		json_error_t je;
		json_t *obj = json_loadb(line + s, n - s, 0, &je);
		if (!obj || !json_is_object(obj)) {
			if (obj)
				floe_error_set(err, FLOE_EINVALID, "expected one JSON object per line");
			else
				floe_error_set(err, FLOE_EINVALID, "bad JSON at column %d: %s",
				               je.column, je.text);
			json_decref(obj);
			rc = record_error(ld, -1, err);
			goto done;
		}
		for (int f = 0; f < ld->schema->nfields && rc == 0; f++)
			rc = put_json(ld, f, json_object_get(obj, ld->schema->fields[f].name), err);
		json_decref(obj);
		if (rc)
			goto done;
		rc = flush(ld, false, err);
		if (rc)
			goto done;
	}
	if (ferror(ld->in)) {
		rc = floe_error_set(err, FLOE_EIO, "%s: read failed: %s", ld->name, strerror(errno));
		goto done;
	}
	rc = flush(ld, true, err);
done:
	free(line);
	return rc;
}

int floe_text_load(FILE *in, const char *name, floe_text_format fmt,
                   const floe_schema *schema, int64_t batch_rows,
                   floe_text_batch_fn fn, void *ctx, int64_t *rows_out,
                   floe_error *err)
{
	loader ld;
	memset(&ld, 0, sizeof ld);
	ld.in = in;
	ld.name = name ? name : "<input>";
	ld.schema = schema;
	ld.batch_rows = batch_rows > 0 ? batch_rows : 65536;
	ld.fn = fn;
	ld.ctx = ctx;
	ld.line = 1;
	int rc = floe_batch_builder_new(&ld.bld, schema, err);
	if (rc)
		return rc;
	if (fmt == FLOE_TEXT_CSV)
		rc = load_csv(&ld, err);
	else if (fmt == FLOE_TEXT_NDJSON)
		rc = load_ndjson(&ld, err);
	else
		rc = floe_error_set(err, FLOE_EINVALID, "unknown text format %d", (int)fmt);
	if (rc == 0 && fmt == FLOE_TEXT_CSV && ferror(in))
		rc = floe_error_set(err, FLOE_EIO, "%s: read failed", ld.name);
	if (rows_out)
		*rows_out = ld.rows;
	floe_batch_builder_free(ld.bld);
	floe_buf_free(&ld.scratch);
	return rc;
}
