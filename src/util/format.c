/* util/format.c - floe_batches printed as CSV or JSON lines for `floe scan`, `floe parquet
 * cat`: one text form per logical type (see format.h). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "util/format.h"
#include "util/text.h"

int floe_format_kind_parse(floe_format_kind *out, const char *name, floe_error *err)
{
	if (name && strcasecmp(name, "csv") == 0) {
		*out = FLOE_FORMAT_CSV;
		return 0;
	}
	if (name && (strcasecmp(name, "jsonl") == 0 || strcasecmp(name, "ndjson") == 0 ||
	             strcasecmp(name, "json") == 0)) {
		*out = FLOE_FORMAT_JSONL;
		return 0;
	}
	return floe_error_set(err, FLOE_EINVALID, "unknown output format '%s' (use csv or jsonl)",
	                      name ? name : "");
}

static int puts_buf(floe_buf *out, const char *s)
{
	return floe_buf_append(out, s, strlen(s));
}

/* Shortest of %.Ng (N from lo to hi) that reads back as the same value. */
void floe_format_shortest(char *buf, size_t cap, double d, bool is_float)
{
	if (isnan(d)) {
		snprintf(buf, cap, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, cap, d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	int lo = is_float ? 6 : 15, hi = is_float ? 9 : 17;
	for (int prec = lo; prec <= hi; prec++) {
		snprintf(buf, cap, "%.*g", prec, d);
		if (is_float ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d)
			return;
	}
}

int floe_format_decimal(floe_buf *out, __int128 v, int scale)
{
	char digits[48];
	int n = 0;
	if (scale < 0 || scale > 38)
		scale = 0;
	bool neg = v < 0;
	unsigned __int128 u = neg ? (unsigned __int128)0 - (unsigned __int128)v
	                          : (unsigned __int128)v;
	do {
		digits[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	while (n <= scale)
		digits[n++] = '0';
	char text[64];
	int k = 0;
	if (neg)
		text[k++] = '-';
	for (int i = n - 1; i >= 0; i--) {
		text[k++] = digits[i];
		if (i == scale && scale > 0)
			text[k++] = '.';
	}
	return floe_buf_append(out, text, (size_t)k);
}

/* floor division and modulo for negative epoch values */
static void split(int64_t v, int64_t unit, int64_t *q, int64_t *r)
{
	*q = v / unit;
	*r = v % unit;
	if (*r < 0) {
		*r += unit;
		(*q)--;
	}
}

int floe_format_date(floe_buf *out, int64_t days)
{
	int64_t y;
	unsigned m, d;
	char t[48];
	floe_civil_from_days(days, &y, &m, &d);
	/* ISO 8601: years beyond 0000..9999 carry a sign (expanded form) */
	snprintf(t, sizeof t, "%s%04lld-%02u-%02u", y < 0 ? "-" : y > 9999 ? "+" : "",
	         (long long)(y < 0 ? -y : y), m, d);
	return puts_buf(out, t);
}

static int put_time(floe_buf *out, int64_t tod, int64_t unit)
{
	int64_t secs, frac;
	char t[48];
	split(tod, unit, &secs, &frac);
	snprintf(t, sizeof t, "%02lld:%02lld:%02lld.%0*lld", (long long)(secs / 3600),
	         (long long)(secs / 60 % 60), (long long)(secs % 60), unit == 1000000 ? 6 : 9,
	         (long long)frac);
	return puts_buf(out, t);
}

static int put_json_string(floe_buf *out, const uint8_t *p, size_t n)
{
	if (floe_buf_putc(out, '"'))
		return FLOE_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		char esc[8];
		const char *e = NULL;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof esc, "\\u%04x", c);
				e = esc;
			}
		}
		if (e ? puts_buf(out, e) : floe_buf_putc(out, c))
			return FLOE_ENOMEM;
	}
	return floe_buf_putc(out, '"');
}

int floe_format_value(floe_buf *out, const floe_column *col, int64_t row, bool json)
{
	const floe_type *t = &col->type;
	char tmp[64];
	floe_buf text = FLOE_BUF_INIT;
	int rc = 0;
	if (!floe_column_is_valid(col, row))
		return json ? puts_buf(out, "null") : 0;
	if (floe_type_is_variable(t)) {
		const uint8_t *p = col->data + col->offsets[row];
		size_t n = (size_t)(col->offsets[row + 1] - col->offsets[row]);
		if (t->id == FLOE_TYPE_BINARY) {
			rc = floe_base64_encode(&text, p, n);
			if (rc == 0)
				rc = json ? put_json_string(out, text.data, text.len)
				          : floe_buf_append(out, text.data, text.len);
			floe_buf_free(&text);
			return rc;
		}
		if (t->id == FLOE_TYPE_JSON && json) {
			/* raw JSON when it parses, else as a string */
			json_t *j = json_loadb((const char *)p, n, JSON_DECODE_ANY, NULL);
			if (j) {
				json_decref(j);
				return floe_buf_append(out, p, n);
			}
		}
		return json ? put_json_string(out, p, n) : floe_buf_append(out, p, n);
	}
	const uint8_t *v = (const uint8_t *)col->values;
	int w = floe_type_value_width(t);
	const uint8_t *at = v + (size_t)row * (size_t)w;
	int64_t i64 = 0;
	int32_t i32 = 0;
	if (w == 8)
		memcpy(&i64, at, 8);
	else if (w == 4)
		memcpy(&i32, at, 4);
	bool quote = false; /* json: this text form is a string */
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN:
		snprintf(tmp, sizeof tmp, "%s", at[0] ? "true" : "false");
		break;
	case FLOE_TYPE_INT:
		if (t->is_unsigned)
			snprintf(tmp, sizeof tmp, "%" PRIu32, (uint32_t)i32);
		else
			snprintf(tmp, sizeof tmp, "%" PRId32, i32);
		break;
	case FLOE_TYPE_LONG:
		if (t->is_unsigned)
			snprintf(tmp, sizeof tmp, "%" PRIu64, (uint64_t)i64);
		else
			snprintf(tmp, sizeof tmp, "%" PRId64, i64);
		break;
	case FLOE_TYPE_FLOAT: {
		float f;
		memcpy(&f, at, 4);
		floe_format_shortest(tmp, sizeof tmp, f, true);
		quote = !isfinite(f);
		break;
	}
	case FLOE_TYPE_DOUBLE: {
		double d;
		memcpy(&d, at, 8);
		floe_format_shortest(tmp, sizeof tmp, d, false);
		quote = !isfinite(d);
		break;
	}
	case FLOE_TYPE_DECIMAL: {
		__int128 d = i64;
		if (w == 16) {
			unsigned __int128 u = 0;
			for (int k = 0; k < 16; k++)
				u = u << 8 | at[k];
			d = (__int128)u;
		}
		/* decimals print as JSON numbers: exact text, no float on the way */
		return floe_format_decimal(out, d, t->scale);
	}
	case FLOE_TYPE_DATE:
		rc = json ? floe_buf_putc(out, '"') : 0;
		if (rc == 0)
			rc = floe_format_date(out, i32);
		if (rc == 0 && json)
			rc = floe_buf_putc(out, '"');
		return rc;
	case FLOE_TYPE_TIME:
		rc = json ? floe_buf_putc(out, '"') : 0;
		if (rc == 0)
			rc = put_time(out, i64, 1000000);
		if (rc == 0 && json)
			rc = floe_buf_putc(out, '"');
		return rc;
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS: {
		bool ns = t->id == FLOE_TYPE_TIMESTAMP_NS || t->id == FLOE_TYPE_TIMESTAMPTZ_NS;
		bool tz = t->id == FLOE_TYPE_TIMESTAMPTZ || t->id == FLOE_TYPE_TIMESTAMPTZ_NS;
		int64_t unit = ns ? 1000000000 : 1000000, days, rest;
		split(i64, 86400 * unit, &days, &rest);
		rc = json ? floe_buf_putc(out, '"') : 0;
		if (rc == 0)
			rc = floe_format_date(out, days);
		if (rc == 0)
			rc = floe_buf_putc(out, 'T');
		if (rc == 0)
			rc = put_time(out, rest, unit);
		if (rc == 0 && tz)
			rc = floe_buf_putc(out, 'Z');
		if (rc == 0 && json)
			rc = floe_buf_putc(out, '"');
		return rc;
	}
	case FLOE_TYPE_UUID: {
		static const char hx[] = "0123456789abcdef";
		int k = 0;
		if (json)
			tmp[k++] = '"';
		for (int b = 0; b < 16; b++) {
			if (b == 4 || b == 6 || b == 8 || b == 10)
				tmp[k++] = '-';
			tmp[k++] = hx[at[b] >> 4];
			tmp[k++] = hx[at[b] & 15];
		}
		if (json)
			tmp[k++] = '"';
		return floe_buf_append(out, tmp, (size_t)k);
	}
	case FLOE_TYPE_FIXED:
		rc = floe_base64_encode(&text, at, (size_t)w);
		if (rc == 0)
			rc = json ? put_json_string(out, text.data, text.len)
			          : floe_buf_append(out, text.data, text.len);
		floe_buf_free(&text);
		return rc;
	default:
		snprintf(tmp, sizeof tmp, "?");
		break;
	}
	if (json && quote)
		return put_json_string(out, (const uint8_t *)tmp, strlen(tmp));
	return puts_buf(out, tmp);
}

/* RFC 4180: quote a field holding a comma, quote, CR or LF, and an empty
 * string (an empty unquoted field reads back as NULL). */
static int put_csv_field(floe_buf *line, const uint8_t *p, size_t n, bool is_null)
{
	bool q = !is_null && n == 0;
	for (size_t i = 0; i < n && !q; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n')
			q = true;
	if (!q)
		return floe_buf_append(line, p, n);
	if (floe_buf_putc(line, '"'))
		return FLOE_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' && floe_buf_putc(line, '"'))
			return FLOE_ENOMEM;
		if (floe_buf_putc(line, p[i]))
			return FLOE_ENOMEM;
	}
	return floe_buf_putc(line, '"');
}

static const char *col_name(const floe_batch *batch, int c, char *buf, size_t cap)
{
	if (batch->schema && c < batch->schema->nfields && batch->schema->fields[c].name)
		return batch->schema->fields[c].name;
	snprintf(buf, cap, "c%d", c);
	return buf;
}

int floe_format_batch(FILE *f, const floe_batch *batch, floe_format_kind kind,
                      bool *header_done, const uint8_t *keep, floe_error *err)
{
	floe_buf line = FLOE_BUF_INIT, val = FLOE_BUF_INIT;
	char nb[32];
	int rc = 0;
	if (kind == FLOE_FORMAT_CSV && !*header_done) {
		for (int c = 0; c < batch->ncols && rc == 0; c++) {
			const char *name = col_name(batch, c, nb, sizeof nb);
			if (c > 0)
				rc = floe_buf_putc(&line, ',');
			if (rc == 0)
				rc = put_csv_field(&line, (const uint8_t *)name, strlen(name), false);
		}
		if (rc == 0)
			rc = floe_buf_putc(&line, '\n');
		if (rc)
			goto done;
		*header_done = true;
	}
	for (int64_t r = 0; r < batch->nrows; r++) {
		if (keep && !keep[r])
			continue;
		if (kind == FLOE_FORMAT_JSONL && floe_buf_putc(&line, '{'))
			goto nomem;
		for (int c = 0; c < batch->ncols; c++) {
			const floe_column *col = &batch->cols[c];
			if (c > 0 && floe_buf_putc(&line, ','))
				goto nomem;
			floe_buf_clear(&val);
			if (kind == FLOE_FORMAT_JSONL) {
				const char *name = col_name(batch, c, nb, sizeof nb);
				if (put_json_string(&line, (const uint8_t *)name, strlen(name)) ||
				    floe_buf_putc(&line, ':') || floe_format_value(&line, col, r, true))
					goto nomem;
			} else {
				if (floe_format_value(&val, col, r, false) ||
				    put_csv_field(&line, val.data, val.len, !floe_column_is_valid(col, r)))
					goto nomem;
			}
		}
		if ((kind == FLOE_FORMAT_JSONL && floe_buf_putc(&line, '}')) ||
		    floe_buf_putc(&line, '\n'))
			goto nomem;
		if (line.len >= 1 << 16) {
			if (fwrite(line.data, 1, line.len, f) != line.len) {
				rc = floe_error_set(err, FLOE_EIO, "write to output failed");
				goto done;
			}
			floe_buf_clear(&line);
		}
	}
	if (line.len && fwrite(line.data, 1, line.len, f) != line.len)
		rc = floe_error_set(err, FLOE_EIO, "write to output failed");
	goto done;
nomem:
	rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
done:
	floe_buf_free(&line);
	floe_buf_free(&val);
	return rc;
}
