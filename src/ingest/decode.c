/* ingest/decode.c - raw records to Bronze rows or rejects. NDJSON is read
 * by a scanner of its own (one pass, no tree: keys matched to the spec's
 * fields, the next field's usual `"key":` compared as bytes before any
 * lookup, nested values kept as JSON text, strings unescaped only when they
 * hold escapes); CSV rows by RFC 4180 with each file's header naming the
 * columns. A record is converted whole before it is added, so a bad field
 * never leaves half a row; good rows go straight into Bronze's columns,
 * kept here in floe_batch_builder's layout without its per-value checks.
 * The spec's checks then run vectorized over chunks of rows, and the rows
 * failing them are moved out in place. Every reject carries a one-line
 * reason. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest_int.h"
#include "util/text.h"

typedef enum slot_kind {
	S_ABSENT = 0,
	S_NULL,
	S_STR,     /* p/n: the bytes (unescaped) */
	S_ESC,     /* unescaped into d->unesc at off/n */
	S_NUM,     /* a JSON number's text */
	S_TRUE,
	S_FALSE,
	S_RAW      /* an object or array: its JSON text */
} slot_kind;

typedef struct slot {
	const char *p;
	size_t off, n;
	slot_kind kind;
	bool quoted;  /* CSV: the field was quoted */
} slot;

/* A column of the pending good rows, laid out as floe_batch_builder lays
 * its columns out (floe/batch.h): fixed-width values, or int64 offsets +
 * data; the validity bitmap absent (len 0) until the column's first NULL,
 * its bits past the last row clear. Rows are added whole, so every column
 * holds d->nrows values. */
typedef enum ing_col_kind {
	ING_C_BYTES = 0, /* variable width: value.bytes/len */
	ING_C_FIXED,     /* fixed-width bytes (uuid, fixed, wide decimal) */
	ING_C_BOOL,
	ING_C_I32,
	ING_C_I64,
	ING_C_F32,
	ING_C_F64
} ing_col_kind;

typedef struct ing_col {
	floe_buf values, offsets, data, validity;
	int width; /* bytes per fixed-width value */
	ing_col_kind kind;
} ing_col;

/* A field's key with its quotes and colon, `"name":`, matched against the
 * record's bytes where the next field's key usually is: bytes that equal it
 * are that key, no escape or space in it. n 0: the name holds a quote, a
 * backslash or a control character, or is empty (keys of such names are
 * always looked up). The first and last eight bytes as words for the keys
 * of 8 to 16 bytes. */
typedef struct ing_key {
	char *text;
	size_t n;
	uint64_t head, tail;
} ing_key;

struct ing_decoder {
	const floe_record_spec *spec;
	ing_format fmt;
	int nf;
	floe_batch_builder *bad;
	ing_col *cols;         /* the good rows: Bronze's columns */
	floe_column *view_cols;
	floe_batch view;
	int64_t nrows;
	slot *slots;
	floe_value *vals;
	bool *isnull;
	size_t *name_len;      /* of each field's name */
	ing_key *keys;         /* each field's key as records usually write it */
	bool general;          /* no fast paths (ing_decoder_set_general) */
	int32_t ts_date;       /* fast_ts: the last date, YYYYMMDD, and its day */
	int64_t ts_days;
	const char *src;       /* the last ing_meta source and its length */
	size_t src_len;
	floe_buf *scratch;     /* one per field (floe_text_parse) */
	floe_buf unesc;
	char reason[FLOE_ERROR_MSG_MAX];
	/* CSV */
	int *csv_map;          /* header column -> field, -1 ignored */
	int ncsv, csv_cap;
	bool have_header;
	/* take */
	uint8_t *keep, *pass;
	int *why;
	size_t cap;
};

/* ---- set-up ------------------------------------------------------------- */

static ing_col_kind col_kind(const floe_type *t)
{
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN: return ING_C_BOOL;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE: return ING_C_I32;
	case FLOE_TYPE_FLOAT: return ING_C_F32;
	case FLOE_TYPE_DOUBLE: return ING_C_F64;
	case FLOE_TYPE_DECIMAL: return t->precision <= 18 ? ING_C_I64 : ING_C_FIXED;
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS: return ING_C_I64;
	case FLOE_TYPE_UUID:
	case FLOE_TYPE_FIXED: return ING_C_FIXED;
	default: return ING_C_BYTES;
	}
}

/* The columns of the Bronze schema, empty. */
static int cols_new(ing_decoder *d, floe_error *err)
{
	const floe_schema *s = d->spec->bronze;
	size_t n = s->nfields > 0 ? (size_t)s->nfields : 1;
	d->cols = calloc(n, sizeof *d->cols);
	d->view_cols = calloc(n, sizeof *d->view_cols);
	if (!d->cols || !d->view_cols)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	for (int i = 0; i < s->nfields; i++) {
		ing_col *c = &d->cols[i];
		const floe_type *t = &s->fields[i].type;
		c->kind = col_kind(t);
		c->width = floe_type_value_width(t);
		if (c->kind != ING_C_BYTES && c->width <= 0)
			return floe_error_set(err, FLOE_EINVALID, "column '%s' has no storage width",
			                      s->fields[i].name);
		if (c->kind == ING_C_BYTES && floe_buf_append(&c->offsets, &(int64_t){ 0 }, 8))
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	return 0;
}

static int keys_new(ing_decoder *d, floe_error *err)
{
	d->keys = calloc((size_t)d->nf + 1, sizeof *d->keys);
	if (!d->keys)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	for (int i = 0; i < d->nf; i++) {
		const char *name = d->spec->fields->fields[i].name;
		size_t n = d->name_len[i];
		bool plain = n > 0;
		for (size_t k = 0; k < n; k++)
			if (name[k] == '"' || name[k] == '\\' || (uint8_t)name[k] < 0x20)
				plain = false;
		if (!plain)
			continue;
		ing_key *k = &d->keys[i];
		if (!(k->text = malloc(n + 3)))
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		k->text[0] = '"';
		memcpy(k->text + 1, name, n);
		memcpy(k->text + n + 1, "\":", 2);
		k->n = n + 3;
		if (k->n >= 8) {
			memcpy(&k->head, k->text, 8);
			memcpy(&k->tail, k->text + k->n - 8, 8);
		}
	}
	return 0;
}

int ing_decoder_new(ing_decoder **out, const floe_record_spec *spec, ing_format fmt,
                    floe_error *err)
{
	ing_decoder *d = calloc(1, sizeof *d);
	if (!d)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	d->spec = spec;
	d->fmt = fmt;
	d->nf = spec->fields->nfields;
	d->ts_date = -1;
	int rc = 0;
	d->slots = calloc((size_t)d->nf, sizeof *d->slots);
	d->vals = calloc((size_t)d->nf, sizeof *d->vals);
	d->isnull = calloc((size_t)d->nf, sizeof *d->isnull);
	d->scratch = calloc((size_t)d->nf, sizeof *d->scratch);
	d->name_len = calloc((size_t)d->nf, sizeof *d->name_len);
	if (!d->slots || !d->vals || !d->isnull || !d->scratch || !d->name_len)
		rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
	if (!rc)
		rc = cols_new(d, err);
	if (!rc)
		rc = floe_batch_builder_new(&d->bad, spec->quarantine, err);
	if (rc) {
		ing_decoder_free(d);
		return rc;
	}
	for (int i = 0; i < d->nf; i++)
		d->name_len[i] = strlen(spec->fields->fields[i].name);
	if ((rc = keys_new(d, err))) {
		ing_decoder_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

void ing_decoder_set_general(ing_decoder *d, bool on)
{
	d->general = on;
}

void ing_decoder_free(ing_decoder *d)
{
	if (!d)
		return;
	floe_batch_builder_free(d->bad);
	if (d->cols)
		for (int i = 0; i < d->spec->bronze->nfields; i++) {
			floe_buf_free(&d->cols[i].values);
			floe_buf_free(&d->cols[i].offsets);
			floe_buf_free(&d->cols[i].data);
			floe_buf_free(&d->cols[i].validity);
		}
	free(d->cols);
	free(d->view_cols);
	if (d->scratch)
		for (int i = 0; i < d->nf; i++)
			floe_buf_free(&d->scratch[i]);
	free(d->scratch);
	free(d->slots);
	free(d->vals);
	free(d->isnull);
	free(d->name_len);
	if (d->keys)
		for (int i = 0; i < d->nf; i++)
			free(d->keys[i].text);
	free(d->keys);
	free(d->csv_map);
	floe_buf_free(&d->unesc);
	free(d->keep);
	free(d->pass);
	free(d->why);
	free(d);
}

/* ---- reasons ------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static int reject(ing_decoder *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof d->reason, fmt, ap);
	va_end(ap);
	return 1;
}

/* The bytes of a string slot (never NULL, also for an empty one). */
static const char *slot_text(const ing_decoder *d, const slot *v)
{
	if (v->kind == S_ESC)
		return d->unesc.data ? (const char *)d->unesc.data + v->off : "";
	return v->p ? v->p : "";
}

/* ---- UTF-8 -------------------------------------------------------------- */

/* Offset of the first byte that is not valid UTF-8, or n. */
static size_t utf8_check(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (i + 32 <= n) { /* ASCII runs: 32 bytes at a time */
			uint64_t w[4];
			memcpy(w, s + i, 32);
			if (!((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ull)) {
				i += 32;
				continue;
			}
		}
		if (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (!(w & 0x8080808080808080ull)) {
				i += 8;
				continue;
			}
		}
		uint8_t c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (i + len > n)
			return i;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return i;
		i += len;
	}
	return n;
}

/* ---- the NDJSON scanner -------------------------------------------------- */

typedef struct scan {
	const char *b, *p, *e; /* record start, cursor, end */
} scan;

static inline void skip_ws(scan *s)
{
	if (s->p < s->e && (uint8_t)*s->p > ' ')
		return; /* the usual case: no space at all */
	while (s->p < s->e && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
		s->p++;
}

static int bad_json(ing_decoder *d, const scan *s, const char *what)
{
	if (s->p >= s->e)
		return reject(d, "bad JSON: the record ends early (byte %zu): %s",
		              (size_t)(s->p - s->b), what);
	return reject(d, "bad JSON at byte %zu: %s", (size_t)(s->p - s->b), what);
}

static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int put_utf8(floe_buf *b, uint32_t cp)
{
	uint8_t t[4];
	size_t n;
	if (cp < 0x80) {
		t[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		t[0] = (uint8_t)(0xc0 | (cp >> 6));
		t[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		t[0] = (uint8_t)(0xe0 | (cp >> 12));
		t[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		t[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		t[0] = (uint8_t)(0xf0 | (cp >> 18));
		t[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		t[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		t[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return floe_buf_append(b, t, n);
}

/* The first byte in [p, e) that ends a run of plain string text: a quote,
 * a backslash or a control character (below 0x20); e when none. Eight
 * bytes at a time while eight are left: in each word, a byte equal to c
 * is a zero byte of word ^ c, and for the lowest flagged byte
 * (x - 0x01..) & ~x & 0x80.. is exact (a borrow only flags bytes above a
 * true one), as is (x - 0x20..) & ~x & 0x80.. for bytes below 0x20. */
static const char *plain_end(const char *p, const char *e)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
	while (e - p >= 8) {
		uint64_t x, q, b;
		memcpy(&x, p, 8);
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		uint64_t hit = (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x)) & highs;
		if (hit)
			return p + (__builtin_ctzll(hit) >> 3); /* little-endian: byte 0 lowest */
		p += 8;
	}
	while (p < e && *p != '"' && *p != '\\' && (uint8_t)*p >= 0x20)
		p++;
	return p;
}

/* A string at s->p (the opening quote). Without escapes the slot points
 * into the record; with them the text is unescaped into d->unesc.
 * Returns 0, 1 (rejected) or <0. */
static int scan_string(ing_decoder *d, scan *s, slot *out)
{
	const char *start = ++s->p;
	const char *p = plain_end(start, s->e);
	if (p < s->e && *p == '"') {
		out->kind = S_STR;
		out->p = start;
		out->n = (size_t)(p - start);
		s->p = p + 1;
		return 0;
	}
	size_t off = d->unesc.len;
	if (floe_buf_append(&d->unesc, start, (size_t)(p - start)))
		return FLOE_ENOMEM;
	for (;;) {
		s->p = p;
		if (p >= s->e)
			return bad_json(d, s, "unterminated string");
		uint8_t c = (uint8_t)*p;
		if (c == '"')
			break;
		if (c < 0x20)
			return bad_json(d, s, "control character in a string");
		if (c != '\\') {
			const char *q = plain_end(p, s->e);
			if (floe_buf_append(&d->unesc, p, (size_t)(q - p)))
				return FLOE_ENOMEM;
			p = q;
			continue;
		}
		if (p + 1 >= s->e)
			return bad_json(d, s, "unterminated string");
		char esc = p[1], ch;
		switch (esc) {
		case '"': ch = '"'; break;
		case '\\': ch = '\\'; break;
		case '/': ch = '/'; break;
		case 'b': ch = '\b'; break;
		case 'f': ch = '\f'; break;
		case 'n': ch = '\n'; break;
		case 'r': ch = '\r'; break;
		case 't': ch = '\t'; break;
		case 'u': {
			uint32_t cp, lo;
			if (s->e - p < 6 || hex4(p + 2, &cp))
				return bad_json(d, s, "bad \\u escape");
			p += 6;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (s->e - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					return bad_json(d, s, "unpaired surrogate in a \\u escape");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return bad_json(d, s, "unpaired surrogate in a \\u escape");
			}
			if (put_utf8(&d->unesc, cp))
				return FLOE_ENOMEM;
			continue;
		}
		default:
			return bad_json(d, s, "bad escape in a string");
		}
		if (floe_buf_putc(&d->unesc, (uint8_t)ch))
			return FLOE_ENOMEM;
		p += 2;
	}
	out->kind = S_ESC;
	out->off = off;
	out->n = d->unesc.len - off;
	s->p = p + 1;
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A number per JSON's grammar. */
static int scan_number(ing_decoder *d, scan *s, slot *out)
{
	const char *p = s->p, *e = s->e;
	if (p < e && *p == '-')
		p++;
	if (p >= e || !is_digit(*p))
		return bad_json(d, s, "bad number");
	if (*p == '0')
		p++;
	else
		while (p < e && is_digit(*p))
			p++;
	if (p < e && *p == '.') {
		p++;
		if (p >= e || !is_digit(*p)) {
			s->p = p;
			return bad_json(d, s, "bad number: digits expected after '.'");
		}
		while (p < e && is_digit(*p))
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || !is_digit(*p)) {
			s->p = p;
			return bad_json(d, s, "bad number: digits expected in the exponent");
		}
		while (p < e && is_digit(*p))
			p++;
	}
	out->kind = S_NUM;
	out->p = s->p;
	out->n = (size_t)(p - s->p);
	s->p = p;
	return 0;
}

static bool word(scan *s, const char *w, size_t n)
{
	if ((size_t)(s->e - s->p) < n || memcmp(s->p, w, n) != 0)
		return false;
	s->p += n;
	return true;
}

static int scan_value(ing_decoder *d, scan *s, slot *out, int depth);

/* An object or array kept as its JSON text (validated). */
static int scan_nested(ing_decoder *d, scan *s, slot *out, int depth)
{
	if (depth > 64)
		return bad_json(d, s, "nested more than 64 levels");
	const char *start = s->p;
	char close = *s->p == '{' ? '}' : ']';
	bool obj = close == '}';
	s->p++;
	skip_ws(s);
	if (s->p < s->e && *s->p == close) {
		s->p++;
	} else {
		for (;;) {
			slot tmp = { 0 };
			int rc;
			skip_ws(s);
			if (obj) {
				if (s->p >= s->e || *s->p != '"')
					return bad_json(d, s, "expected a key");
				size_t mark = d->unesc.len;
				if ((rc = scan_string(d, s, &tmp)))
					return rc;
				d->unesc.len = mark;
				skip_ws(s);
				if (s->p >= s->e || *s->p != ':')
					return bad_json(d, s, "expected ':'");
				s->p++;
				skip_ws(s);
			}
			size_t mark = d->unesc.len;
			if ((rc = scan_value(d, s, &tmp, depth + 1)))
				return rc;
			d->unesc.len = mark;
			skip_ws(s);
			if (s->p < s->e && *s->p == ',') {
				s->p++;
				continue;
			}
			if (s->p < s->e && *s->p == close) {
				s->p++;
				break;
			}
			return bad_json(d, s, obj ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	out->kind = S_RAW;
	out->p = start;
	out->n = (size_t)(s->p - start);
	return 0;
}

static int scan_value(ing_decoder *d, scan *s, slot *out, int depth)
{
	if (s->p >= s->e)
		return bad_json(d, s, "expected a value");
	switch (*s->p) {
	case '"':
		return scan_string(d, s, out);
	case '{':
	case '[':
		return scan_nested(d, s, out, depth);
	case 't':
		if (word(s, "true", 4)) {
			out->kind = S_TRUE;
			return 0;
		}
		break;
	case 'f':
		if (word(s, "false", 5)) {
			out->kind = S_FALSE;
			return 0;
		}
		break;
	case 'n':
		if (word(s, "null", 4)) {
			out->kind = S_NULL;
			return 0;
		}
		break;
	default:
		if (*s->p == '-' || is_digit(*s->p))
			return scan_number(d, s, out);
	}
	return bad_json(d, s, "expected a value");
}

/* Field index of a key; `hint` is tried first (keys usually come in the
 * same order in every record). */
static int find_field(const ing_decoder *d, const char *k, size_t n, int hint)
{
	const floe_field *f = d->spec->fields->fields;
	if (hint >= 0 && hint < d->nf && d->name_len[hint] == n && n > 0 &&
	    f[hint].name[0] == k[0] && memcmp(f[hint].name, k, n) == 0)
		return hint;
	for (int i = 0; i < d->nf; i++)
		if (d->name_len[i] == n && (n == 0 || f[i].name[0] == k[0]) &&
		    memcmp(f[i].name, k, n) == 0)
			return i;
	return -1;
}

/* Do the bytes at p (before e) start with key k? */
static inline bool key_at(const ing_key *k, const char *p, const char *e)
{
	if (k->n == 0 || (size_t)(e - p) < k->n)
		return false;
	if (k->n < 8 || k->n > 16)
		return memcmp(p, k->text, k->n) == 0;
	uint64_t head, tail;
	memcpy(&head, p, 8);
	memcpy(&tail, p + k->n - 8, 8);
	return head == k->head && tail == k->tail;
}

static int parse_ndjson(ing_decoder *d, const char *data, size_t len)
{
	scan s = { data, data, data + len };
	skip_ws(&s);
	if (s.p >= s.e || *s.p != '{')
		return bad_json(d, &s, "a record is a JSON object");
	s.p++;
	skip_ws(&s);
	if (s.p < s.e && *s.p == '}') {
		s.p++;
	} else {
		int hint = 0;
		for (;;) {
			int rc, f;
			skip_ws(&s);
			if (hint < d->nf && !d->general && key_at(&d->keys[hint], s.p, s.e)) {
				f = hint;
				s.p += d->keys[hint].n;
			} else {
				slot key = { 0 };
				if (s.p >= s.e || *s.p != '"')
					return bad_json(d, &s, "expected a key");
				size_t mark = d->unesc.len;
				if ((rc = scan_string(d, &s, &key)))
					return rc;
				f = find_field(d, slot_text(d, &key), key.n, hint);
				d->unesc.len = mark;
				skip_ws(&s);
				if (s.p >= s.e || *s.p != ':')
					return bad_json(d, &s, "expected ':'");
				s.p++;
			}
			skip_ws(&s);
			/* scanned in place: a slot stored whole after its fields were
			 * written one by one would wait for the stores to land */
			slot other, *v = f >= 0 ? &d->slots[f] : &other;
			*v = (slot){ 0 }; /* a repeated key: the last one wins */
			if ((rc = scan_value(d, &s, v, 1)))
				return rc;
			if (f >= 0)
				hint = f + 1;
			else if (v->kind == S_ESC)
				d->unesc.len = v->off; /* an unknown key's value is not kept */
			skip_ws(&s);
			if (s.p < s.e && *s.p == ',') {
				s.p++;
				continue;
			}
			if (s.p < s.e && *s.p == '}') {
				s.p++;
				break;
			}
			return bad_json(d, &s, "expected ',' or '}'");
		}
	}
	skip_ws(&s);
	if (s.p != s.e)
		return bad_json(d, &s, "text after the object");
	return 0;
}

/* ---- CSV ---------------------------------------------------------------- */

/* Split a CSV record into fields; fn(d, column, slot) for each. */
static int csv_split(ing_decoder *d, const char *data, size_t len,
                     int (*fn)(ing_decoder *d, int col, const slot *v))
{
	const char *p = data, *e = data + len;
	if (e > p && e[-1] == '\r')
		e--;
	int col = 0;
	for (;;) {
		slot v = { 0 };
		if (p < e && *p == '"') {
			size_t off = d->unesc.len;
			p++;
			for (;;) {
				const char *q = p;
				while (q < e && *q != '"')
					q++;
				if (q >= e)
					return reject(d, "CSV: unterminated quoted field (column %d)", col + 1);
				if (floe_buf_append(&d->unesc, p, (size_t)(q - p)))
					return FLOE_ENOMEM;
				if (q + 1 < e && q[1] == '"') {
					if (floe_buf_putc(&d->unesc, '"'))
						return FLOE_ENOMEM;
					p = q + 2;
					continue;
				}
				p = q + 1;
				break;
			}
			if (p < e && *p != ',')
				return reject(d, "CSV: text after a quoted field at byte %zu",
				              (size_t)(p - data));
			v.kind = S_ESC;
			v.off = off;
			v.n = d->unesc.len - off;
			v.quoted = true;
		} else {
			const char *q = p;
			while (q < e && *q != ',') {
				if (*q == '"')
					return reject(d, "CSV: quote inside an unquoted field at byte %zu",
					              (size_t)(q - data));
				q++;
			}
			v.kind = q == p ? S_NULL : S_STR;
			v.p = p;
			v.n = (size_t)(q - p);
			p = q;
		}
		int rc = fn(d, col, &v);
		if (rc)
			return rc;
		col++;
		if (p >= e)
			break;
		p++; /* the comma */
	}
	return 0;
}

static int csv_header_col(ing_decoder *d, int col, const slot *v)
{
	if (col >= d->csv_cap) {
		int cap = d->csv_cap ? d->csv_cap * 2 : 16;
		int *m = realloc(d->csv_map, (size_t)cap * sizeof *m);
		if (!m)
			return FLOE_ENOMEM;
		d->csv_map = m;
		d->csv_cap = cap;
	}
	const char *name = slot_text(d, v);
	size_t n = v->kind == S_NULL ? 0 : v->n;
	while (n && (*name == ' ' || *name == '\t'))
		name++, n--;
	while (n && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	d->csv_map[col] = find_field(d, name, n, col);
	d->ncsv = col + 1;
	return 0;
}

static int csv_row_col(ing_decoder *d, int col, const slot *v)
{
	if (col >= d->ncsv)
		return reject(d, "CSV: more fields than the header's %d", d->ncsv);
	int f = d->csv_map[col];
	if (f >= 0)
		d->slots[f] = *v;
	return 0;
}

/* ---- conversion ----------------------------------------------------------- */

static const double pow10_tab[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* A number's text (JSON grammar) as a double: exact when the digits fit
 * 2^53 and the power of ten is at most 22 (both exact, one rounding);
 * strtod otherwise. false when the text is not a number. */
static bool to_double(const char *p, size_t n, double *out)
{
	const char *e = p + n, *q = p;
	bool neg = false;
	if (q < e && (*q == '-' || *q == '+'))
		neg = *q++ == '-';
	uint64_t m = 0;
	int digits = 0, frac = 0;
	bool any = false;
	while (q < e && is_digit(*q)) {
		if (m || *q != '0')
			digits++;
		m = m * 10 + (uint64_t)(*q++ - '0');
		any = true;
		if (digits > 18)
			goto slow;
	}
	if (q < e && *q == '.') {
		q++;
		while (q < e && is_digit(*q)) {
			if (m || *q != '0')
				digits++;
			m = m * 10 + (uint64_t)(*q++ - '0');
			frac++;
			any = true;
			if (digits > 18)
				goto slow;
		}
	}
	if (!any)
		return false;
	if (q != e || m > (1ull << 53) || frac > 22)
		goto slow;
	double v = (double)m / pow10_tab[frac];
	*out = neg ? -v : v;
	return true;
slow:;
	char tmp[128];
	if (n >= sizeof tmp)
		return false;
	for (size_t i = 0; i < n; i++) /* strtod would also take hex, inf, nan */
		if (!is_digit(p[i]) && !strchr(".eE+-", p[i]))
			return false;
	memcpy(tmp, p, n);
	tmp[n] = 0;
	char *end;
	*out = strtod(tmp, &end);
	return end == tmp + n && n > 0;
}

/* A decimal integer's text; false on anything else or overflow. */
static bool to_long(const char *p, size_t n, int64_t *out)
{
	const char *e = p + n;
	bool neg = false;
	if (p < e && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (p >= e)
		return false;
	uint64_t v = 0;
	for (; p < e; p++) {
		if (!is_digit(*p))
			return false;
		unsigned dg = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - dg) / 10)
			return false;
		v = v * 10 + dg;
	}
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return false;
		*out = (int64_t)(0 - v);
	} else {
		if (v > (uint64_t)INT64_MAX)
			return false;
		*out = (int64_t)v;
	}
	return true;
}

/* The common case of a timestamptz, "YYYY-MM-DDTHH:MM:SS.ffffffZ" with a
 * day of month up to 28, parsed directly; false for anything else (the
 * general parser then decides, with its error messages). Eight bytes at a
 * time: xor with the pattern's bytes turns a digit into its value (0..9
 * exactly for '0'..'9') and a separator that matches into 0. The day
 * number of the last date is kept: records come in time order. */
static bool fast_ts(ing_decoder *d, const char *p, size_t n, int64_t *us)
{
	static const char pattern[32] = "0000-00-00T00:00:00.000000Z";
	/* 0xff at the separators (bytes 4, 7, 10, 13, 16, 19, 26) */
	static const uint64_t sep[4] = { UINT64_C(0xff0000ff00000000), UINT64_C(0x0000ff0000ff0000),
		                         UINT64_C(0x00000000ff0000ff), UINT64_C(0xff000000000000ff) };
	const uint64_t highs = UINT64_C(0x8080808080808080), nines = UINT64_C(0x7676767676767676);
	if (n != 27)
		return false;
	uint8_t v[32];
	uint64_t bad = 0;
	for (int w = 0; w < 4; w++) {
		size_t at = w < 3 ? (size_t)w * 8 : 19; /* the last word: bytes 19..26 */
		uint64_t x, t;
		memcpy(&x, p + at, 8);
		memcpy(&t, pattern + at, 8);
		t ^= x;
		bad |= (((t + nines) | t) & highs) | (t & sep[w]); /* a byte above 9, a separator */
		memcpy(v + at, &t, 8);
	}
	if (bad)
		return false;
	int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], mo = v[5] * 10 + v[6];
	int day = v[8] * 10 + v[9], h = v[11] * 10 + v[12], mi = v[14] * 10 + v[15];
	int sec = v[17] * 10 + v[18];
	if (mo < 1 || mo > 12 || day < 1 || day > 28 || h > 23 || mi > 59 || sec > 59)
		return false;
	int64_t frac = ((((v[20] * 10 + v[21]) * 10 + v[22]) * 10 + v[23]) * 10 + v[24]) * 10 + v[25];
	int32_t date = (y * 100 + mo) * 100 + day;
	if (date != d->ts_date) {
		d->ts_date = date;
		d->ts_days = floe_days_from_civil(y, (unsigned)mo, (unsigned)day);
	}
	*us = ((d->ts_days * 86400 + h * 3600 + mi * 60 + sec) * 1000000) + frac;
	return true;
}

static const char *kind_name(slot_kind k)
{
	switch (k) {
	case S_NUM: return "a number";
	case S_TRUE:
	case S_FALSE: return "a boolean";
	case S_RAW: return "an object or array";
	default: return "a string";
	}
}

/* Convert field i's slot into vals[i] / isnull[i]; 1 = rejected. */
static int convert(ing_decoder *d, int i)
{
	const floe_field *f = &d->spec->fields->fields[i];
	slot *v = &d->slots[i];
	d->isnull[i] = false;
	if (v->kind == S_ABSENT || v->kind == S_NULL) {
		if (f->required)
			return v->kind == S_ABSENT ? reject(d, "missing field '%s'", f->name)
			                           : reject(d, "field '%s' is null", f->name);
		d->isnull[i] = true;
		return 0;
	}
	const char *p = slot_text(d, v);
	size_t n = v->n;
	if (v->kind == S_TRUE)
		p = "true", n = 4;
	else if (v->kind == S_FALSE)
		p = "false", n = 5;
	floe_value *out = &d->vals[i];
	switch (f->type.id) {
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_JSON:
		if (f->type.id == FLOE_TYPE_STRING && v->kind == S_RAW)
			return reject(d, "field '%s': expected a string, got %s", f->name,
			              kind_name(v->kind));
		if (v->kind == S_ESC && utf8_check((const uint8_t *)p, n) != n)
			return reject(d, "field '%s': not valid UTF-8", f->name);
		out->bytes = (const uint8_t *)p;
		out->len = (int64_t)n;
		return 0;
	case FLOE_TYPE_LONG:
		if (v->kind == S_NUM || v->kind == S_STR || v->kind == S_ESC) {
			if (to_long(p, n, &out->i))
				return 0;
		}
		return reject(d, "field '%s': '%.*s' is not a long", f->name, (int)(n > 40 ? 40 : n), p);
	case FLOE_TYPE_DOUBLE:
	case FLOE_TYPE_FLOAT:
		if ((v->kind == S_NUM || v->kind == S_STR || v->kind == S_ESC) &&
		    to_double(p, n, &out->d))
			return 0;
		break;
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		if (v->kind != S_STR && v->kind != S_ESC)
			return reject(d, "field '%s': expected a timestamp string, got %s", f->name,
			              kind_name(v->kind));
		if (f->type.id == FLOE_TYPE_TIMESTAMPTZ && !d->general && fast_ts(d, p, n, &out->i))
			return 0;
		break;
	default:
		if (v->kind == S_RAW)
			return reject(d, "field '%s': expected a %s, got %s", f->name,
			              floe_type_format(&f->type, (char[40]){ 0 }, 40), kind_name(v->kind));
		break;
	}
	floe_error e = { 0 };
	if (floe_text_parse(out, &f->type, p, n, &d->scratch[i], &e))
		return reject(d, "field '%s': %s", f->name, e.msg);
	return 0;
}

/* ---- the pending good rows ---------------------------------------------- */

/* Row r's validity bit in c. No bitmap while every row is valid; the first
 * NULL makes one with the earlier rows' bits set. */
static int col_bit(ing_col *c, int64_t r, bool valid)
{
	if (c->validity.len == 0 && valid)
		return 0;
	size_t need = (size_t)(r >> 3) + 1;
	if (c->validity.len < need) {
		bool fresh = c->validity.len == 0;
		size_t add = need - c->validity.len;
		if (floe_buf_reserve(&c->validity, add))
			return FLOE_ENOMEM;
		memset(floe_buf_extend(&c->validity, add), fresh ? 0xff : 0, add);
		if (fresh)
			c->validity.data[need - 1] = (uint8_t)((1u << (r & 7)) - 1);
	}
	floe_bitmap_set(c->validity.data, r, valid);
	return 0;
}

static inline int col_put_fixed(ing_col *c, int64_t r, const void *p, size_t n)
{
	if (c->validity.len && col_bit(c, r, true))
		return FLOE_ENOMEM;
	return floe_buf_append(&c->values, p, n);
}

static inline int col_put_bytes(ing_col *c, int64_t r, const void *p, size_t n)
{
	if (c->validity.len && col_bit(c, r, true))
		return FLOE_ENOMEM;
	if (floe_buf_append(&c->data, p, n))
		return FLOE_ENOMEM;
	int64_t off = (int64_t)c->data.len;
	return floe_buf_append(&c->offsets, &off, sizeof off);
}

/* A NULL: no bytes, or a zeroed fixed-width value. */
static int col_put_null(ing_col *c, int64_t r)
{
	if (col_bit(c, r, false))
		return FLOE_ENOMEM;
	if (c->kind == ING_C_BYTES) {
		int64_t off = (int64_t)c->data.len;
		return floe_buf_append(&c->offsets, &off, sizeof off);
	}
	size_t w = (size_t)c->width;
	if (floe_buf_reserve(&c->values, w))
		return FLOE_ENOMEM;
	memset(c->values.data + c->values.len, 0, w);
	c->values.len += w;
	return 0;
}

/* A value as floe_text_parse leaves it, stored as floe_text_append stores
 * it. FLOE_EINVALID: fixed-width bytes of another length. */
static inline int col_put_value(ing_col *c, int64_t r, const floe_value *v)
{
	switch (c->kind) {
	case ING_C_BYTES:
		return col_put_bytes(c, r, v->bytes, (size_t)v->len);
	case ING_C_FIXED:
		if (v->len != c->width)
			return FLOE_EINVALID;
		return col_put_fixed(c, r, v->bytes, (size_t)v->len);
	case ING_C_BOOL:
		return col_put_fixed(c, r, &(uint8_t){ v->b ? 1 : 0 }, 1);
	case ING_C_I32:
		return col_put_fixed(c, r, &(int32_t){ (int32_t)v->i }, 4);
	case ING_C_I64:
		return col_put_fixed(c, r, &v->i, 8);
	case ING_C_F32:
		return col_put_fixed(c, r, &(float){ (float)v->d }, 4);
	case ING_C_F64:
		return col_put_fixed(c, r, &v->d, 8);
	}
	return FLOE_EINVALID;
}

/* Every column back to `rows` rows (a row that failed half-way). */
static void cols_truncate(ing_decoder *d, int64_t rows)
{
	for (int i = 0; i < d->spec->bronze->nfields; i++) {
		ing_col *c = &d->cols[i];
		if (c->kind == ING_C_BYTES) {
			c->offsets.len = (size_t)(rows + 1) * 8;
			c->data.len = (size_t)((const int64_t *)(void *)c->offsets.data)[rows];
		} else {
			c->values.len = (size_t)rows * (size_t)c->width;
		}
		if (c->validity.len > (size_t)(rows >> 3))
			floe_bitmap_set(c->validity.data, rows, false);
	}
}

static int add_row(ing_decoder *d, const char *data, size_t len, const ing_meta *m,
                   floe_error *err)
{
	int64_t r = d->nrows;
	ing_col *c = d->cols;
	int rc = 0;
	for (int i = 0; i < d->nf && !rc; i++)
		rc = d->isnull[i] ? col_put_null(&c[i], r) : col_put_value(&c[i], r, &d->vals[i]);
	c += d->nf;
	if (m->source != d->src) {
		d->src = m->source;
		d->src_len = strlen(m->source);
	}
	if (!rc)
		rc = col_put_bytes(&c[ING_META_RAW], r, data, len);
	if (!rc)
		rc = col_put_bytes(&c[ING_META_SOURCE], r, m->source, d->src_len);
	if (!rc)
		rc = m->partition < 0 ? col_put_null(&c[ING_META_PARTITION], r)
		                      : col_put_fixed(&c[ING_META_PARTITION], r, &m->partition, 4);
	if (!rc)
		rc = col_put_fixed(&c[ING_META_OFFSET], r, &m->offset, 8);
	if (!rc)
		rc = col_put_fixed(&c[ING_META_INGEST_TIME], r, &m->ingest_us, 8);
	if (rc) {
		cols_truncate(d, r);
		return rc == FLOE_ENOMEM ? floe_error_set(err, rc, "out of memory")
		                         : floe_error_set(err, rc, "a fixed-width value of the "
		                                          "wrong length");
	}
	d->nrows++;
	return 0;
}

/* The pending rows as a batch (valid until the next change). */
static const floe_batch *good_view(ing_decoder *d)
{
	const floe_schema *s = d->spec->bronze;
	for (int i = 0; i < s->nfields; i++) {
		const ing_col *c = &d->cols[i];
		floe_column *vc = &d->view_cols[i];
		memset(vc, 0, sizeof *vc);
		vc->type = s->fields[i].type;
		if (c->validity.len) {
			int64_t valid = 0; /* the bits past the last row are clear */
			for (size_t k = 0; k < c->validity.len; k++)
				valid += __builtin_popcount(c->validity.data[k]);
			vc->validity = c->validity.data;
			vc->null_count = d->nrows - valid;
		}
		if (c->kind == ING_C_BYTES) {
			vc->offsets = (int64_t *)(void *)c->offsets.data;
			vc->data = c->data.data ? c->data.data : (uint8_t *)"";
		} else {
			vc->values = c->values.data;
		}
	}
	d->view.nrows = d->nrows;
	d->view.ncols = s->nfields;
	d->view.cols = d->view_cols;
	d->view.schema = s;
	return &d->view;
}

/* Keep the rows of c that keep[] flags, in order: n rows, the first
 * dropped one at `first`, nk kept. Runs of kept rows move down whole. */
static void col_compact(ing_col *c, const uint8_t *keep, int64_t n, int64_t first, int64_t nk)
{
	int64_t *off = (int64_t *)(void *)c->offsets.data;
	size_t w = (size_t)c->width;
	int64_t k = first;
	for (int64_t r = first; r < n;) {
		if (!keep[r]) {
			r++;
			continue;
		}
		int64_t e = r;
		while (e < n && keep[e])
			e++;
		if (c->kind == ING_C_BYTES) {
			int64_t from = off[r], to = off[k];
			/* rows of empty strings only: there may be no data buffer */
			if (off[e] > from)
				memmove(c->data.data + to, c->data.data + from, (size_t)(off[e] - from));
			for (int64_t j = r; j < e; j++)
				off[k + (j - r) + 1] = off[j + 1] - from + to;
		} else if (w) {
			memmove(c->values.data + (size_t)k * w, c->values.data + (size_t)r * w,
			        (size_t)(e - r) * w);
		}
		if (c->validity.len)
			for (int64_t j = r; j < e; j++)
				floe_bitmap_set(c->validity.data, k + (j - r),
				                (c->validity.data[j >> 3] >> (j & 7)) & 1);
		k += e - r;
		r = e;
	}
	if (c->kind == ING_C_BYTES) {
		c->offsets.len = (size_t)(nk + 1) * 8;
		c->data.len = (size_t)off[nk];
	} else {
		c->values.len = (size_t)nk * w;
	}
	if (c->validity.len) { /* clear the bits past the last row */
		size_t b = (size_t)(nk >> 3);
		c->validity.data[b] &= (uint8_t)((1u << (nk & 7)) - 1);
		memset(c->validity.data + b + 1, 0, c->validity.len - b - 1);
	}
}

static int add_reject(ing_decoder *d, const void *data, size_t len, const char *reason,
                      const char *source, size_t source_len, int32_t partition, int64_t offset,
                      int64_t ingest_us, floe_error *err)
{
	floe_batch_builder *b = d->bad;
	int rc = floe_batch_builder_bytes(b, ING_Q_RAW, data, (int64_t)len, err);
	if (!rc)
		rc = floe_batch_builder_bytes(b, ING_Q_REASON, reason, (int64_t)strlen(reason), err);
	if (!rc)
		rc = floe_batch_builder_bytes(b, ING_Q_SOURCE, source, (int64_t)source_len, err);
	if (!rc)
		rc = partition < 0 ? floe_batch_builder_null(b, ING_Q_PARTITION, err)
		                   : floe_batch_builder_i32(b, ING_Q_PARTITION, partition, err);
	if (!rc)
		rc = floe_batch_builder_i64(b, ING_Q_OFFSET, offset, err);
	if (!rc)
		rc = floe_batch_builder_i64(b, ING_Q_INGEST_TIME, ingest_us, err);
	return rc;
}

int ing_decoder_add(ing_decoder *d, const char *data, size_t len, bool header,
                    const ing_meta *m, bool skip_reject, floe_error *err)
{
	int rc;
	d->unesc.len = 0;
	memset(d->slots, 0, (size_t)d->nf * sizeof *d->slots);
	if (d->fmt == ING_CSV && header) {
		d->ncsv = 0;
		rc = csv_split(d, data, len, csv_header_col);
		if (rc < 0)
			return floe_error_set(err, rc, "out of memory");
		d->have_header = rc == 0;
		if (rc == 0)
			return 0;
		d->ncsv = 0; /* a broken header: the file's rows are rejected */
		return add_reject(d, data, len, d->reason, m->source, strlen(m->source), m->partition,
		                  m->offset, m->ingest_us, err) ? -1 : 1;
	}
	size_t bad = utf8_check((const uint8_t *)data, len);
	if (bad != len) {
		rc = reject(d, "not valid UTF-8 at byte %zu", bad);
	} else if (d->fmt == ING_CSV) {
		rc = d->have_header ? csv_split(d, data, len, csv_row_col)
		                    : reject(d, "CSV: the file's header row is missing or broken");
	} else {
		rc = parse_ndjson(d, data, len);
	}
	for (int i = 0; rc == 0 && i < d->nf; i++)
		rc = convert(d, i);
	if (rc < 0)
		return floe_error_set(err, rc, "out of memory decoding a record");
	if (rc == 0)
		return add_row(d, data, len, m, err) ? -1 : 0;
	if (skip_reject)
		return 1;
	return add_reject(d, data, len, d->reason, m->source, strlen(m->source), m->partition,
	                  m->offset, m->ingest_us, err) ? -1 : 1;
}

int ing_decoder_reject(ing_decoder *d, const char *data, size_t len, const char *reason,
                       const ing_meta *m, floe_error *err)
{
	return add_reject(d, data, len, reason, m->source, strlen(m->source), m->partition,
	                  m->offset, m->ingest_us, err);
}

int64_t ing_decoder_pending(const ing_decoder *d)
{
	return d->nrows;
}

static int grow(ing_decoder *d, size_t n)
{
	if (n <= d->cap)
		return 0;
	size_t cap = n < 8192 ? 8192 : n;
	uint8_t *k = realloc(d->keep, cap), *p = realloc(d->pass, cap);
	if (k)
		d->keep = k;
	if (p)
		d->pass = p;
	int *w = realloc(d->why, cap * sizeof *w);
	if (w)
		d->why = w;
	if (!k || !p || !w)
		return FLOE_ENOMEM;
	d->cap = cap;
	return 0;
}

static const uint8_t *col_bytes(const floe_column *c, int64_t r, size_t *n)
{
	*n = (size_t)(c->offsets[r + 1] - c->offsets[r]);
	return c->data + c->offsets[r];
}

int ing_decoder_take(ing_decoder *d, const ing_pos *qpos, const floe_batch **out,
                     const int64_t **event_us, floe_error *err)
{
	const floe_batch *v = good_view(d);
	int64_t n = v->nrows;
	*out = v;
	*event_us = NULL;
	if (n == 0)
		return 0;
	const floe_record_spec *sp = d->spec;
	int rejected = 0;
	if (sp->nchecks > 0) {
		if (grow(d, (size_t)n))
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		memset(d->keep, 1, (size_t)n);
		for (int c = 0; c < sp->nchecks; c++) {
			int rc = ice_expr_eval_batch(sp->checks[c].bound, v, d->pass, err);
			if (rc)
				return rc;
			for (int64_t r = 0; r < n; r++)
				if (d->keep[r] && !d->pass[r]) {
					d->keep[r] = 0;
					d->why[r] = c;
				}
		}
		int64_t nk = 0, first = -1;
		for (int64_t r = 0; r < n; r++) {
			if (d->keep[r]) {
				nk++;
				continue;
			}
			if (first < 0)
				first = r;
			const floe_column *cols = v->cols + d->nf;
			size_t rawn, srcn;
			const uint8_t *raw = col_bytes(&cols[ING_META_RAW], r, &rawn);
			const uint8_t *src = col_bytes(&cols[ING_META_SOURCE], r, &srcn);
			int32_t part = floe_column_is_valid(&cols[ING_META_PARTITION], r)
			                       ? ((const int32_t *)cols[ING_META_PARTITION].values)[r]
			                       : -1;
			int64_t off = ((const int64_t *)cols[ING_META_OFFSET].values)[r];
			int64_t at = ((const int64_t *)cols[ING_META_INGEST_TIME].values)[r];
			rejected++;
			char file[4096];
			const char *fp = NULL;
			if (part < 0 && srcn < sizeof file) {
				memcpy(file, src, srcn);
				file[srcn] = 0;
				fp = file;
			}
			if (qpos && ing_pos_covers(qpos, part, fp, off))
				continue;
			char reason[FLOE_ERROR_MSG_MAX];
			snprintf(reason, sizeof reason, "check failed: %s (%s)", sp->checks[d->why[r]].reason,
			         sp->checks[d->why[r]].text);
			int rc = add_reject(d, raw, rawn, reason, (const char *)src, srcn, part, off, at,
			                    err);
			if (rc)
				return rc;
		}
		if (nk < n) { /* the failing rows out, in place */
			for (int i = 0; i < v->ncols; i++)
				col_compact(&d->cols[i], d->keep, n, first, nk);
			d->nrows = nk;
			*out = good_view(d);
		}
	}
	if (sp->event_col >= 0)
		*event_us = (const int64_t *)(*out)->cols[sp->event_col].values;
	return rejected;
}

void ing_decoder_release(ing_decoder *d)
{
	for (int i = 0; i < d->spec->bronze->nfields; i++) {
		ing_col *c = &d->cols[i];
		c->values.len = 0;
		c->data.len = 0;
		c->validity.len = 0;
		if (c->kind == ING_C_BYTES)
			c->offsets.len = 8; /* the first offset, 0 */
	}
	d->nrows = 0;
}

const floe_batch *ing_decoder_rejects(ing_decoder *d)
{
	return floe_batch_builder_view(d->bad);
}

void ing_decoder_clear_rejects(ing_decoder *d)
{
	floe_batch_builder_clear(d->bad);
}
