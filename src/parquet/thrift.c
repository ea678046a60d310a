/* parquet/thrift.c - Thrift compact protocol reader (bounded, hostile input)
 * and writer, per thrift/doc/specs/thrift-compact-protocol.md. */
#include "parquet/thrift.h"

#include <stdarg.h>
#include <stdio.h>

void pq_tr_init(pq_tr *r, const uint8_t *buf, size_t len, const char *file,
                uint64_t file_offset, floe_error *err)
{
	r->base = buf;
	r->p = buf;
	r->end = buf + len;
	r->file = file;
	r->file_offset = file_offset;
	r->err = err;
	r->depth = 0;
}

int pq_tr_corrupt(pq_tr *r, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return floe_error_corrupt(r->err, r->file ? r->file : "?",
	                          r->file_offset + (uint64_t)(r->p - r->base), "%s", why);
}

/* ULEB128: 7 bits a byte, low group first, high bit = more; at most 10
 * bytes for 64 bits. */
int pq_tr_varint(pq_tr *r, uint64_t *v)
{
	uint64_t x = 0;
	const uint8_t *p = r->p;

	for (int i = 0; i < 10; i++) {
		if (p >= r->end)
			return pq_tr_corrupt(r, "thrift varint truncated");
		uint8_t c = *p++;
		x |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			r->p = p;
			*v = x;
			return 0;
		}
	}
	return pq_tr_corrupt(r, "thrift varint longer than 10 bytes");
}

int pq_tr_zz64(pq_tr *r, int64_t *v)
{
	uint64_t u;
	int rc = pq_tr_varint(r, &u);

	if (rc)
		return rc;
	*v = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
	return 0;
}

int pq_tr_zz32(pq_tr *r, int32_t *v)
{
	int64_t x;
	const uint8_t *at = r->p;
	int rc = pq_tr_zz64(r, &x);

	if (rc)
		return rc;
	if (x < INT32_MIN || x > INT32_MAX) {
		r->p = at;
		return pq_tr_corrupt(r, "thrift i32 out of range");
	}
	*v = (int32_t)x;
	return 0;
}

int pq_tr_enter(pq_tr *r)
{
	if (r->depth >= PQ_MAX_DEPTH)
		return pq_tr_corrupt(r, "thrift structs nested deeper than %d", PQ_MAX_DEPTH);
	r->depth++;
	return 0;
}

void pq_tr_leave(pq_tr *r)
{
	r->depth--;
}

/* Field header, short form (delta 1..15 from the previous id):
 *   +--------+--------+
 *   | dddd   | tttt   |   one byte: delta << 4 | type
 *   +--------+--------+
 * long form (delta 0): the type byte, then the id as a zigzag varint i16:
 *   | 0000 tttt | zigzag varint id ... |
 * A 0x00 byte is STOP. Bool fields carry the value in the type (1 true,
 * 2 false). */
int pq_tr_field(pq_tr *r, int16_t *last, int *type, int16_t *id, bool *bval)
{
	if (r->p >= r->end)
		return pq_tr_corrupt(r, "thrift struct truncated (no STOP)");
	uint8_t c = *r->p;
	int t = c & 0x0f, delta = c >> 4;

	if (c == 0) {
		r->p++;
		*type = PQ_T_STOP;
		*id = 0;
		return 0;
	}
	if (t > PQ_T_STRUCT)
		return pq_tr_corrupt(r, "thrift field type %d unknown", t);
	r->p++;
	if (delta) {
		int nid = *last + delta;
		if (nid > INT16_MAX)
			return pq_tr_corrupt(r, "thrift field id overflow");
		*id = (int16_t)nid;
	} else {
		int32_t v;
		int rc = pq_tr_zz32(r, &v);
		if (rc)
			return rc;
		if (v < INT16_MIN || v > INT16_MAX)
			return pq_tr_corrupt(r, "thrift field id %d out of range", (int)v);
		*id = (int16_t)v;
	}
	*last = *id;
	*type = t;
	*bval = t == PQ_T_TRUE;
	return 0;
}

static int want_type(pq_tr *r, int type, int want)
{
	if (type != want)
		return pq_tr_corrupt(r, "thrift type mismatch: got %d, want %d", type, want);
	return 0;
}

int pq_tr_i32(pq_tr *r, int type, int32_t *v)
{
	int rc = want_type(r, type, PQ_T_I32);
	return rc ? rc : pq_tr_zz32(r, v);
}

int pq_tr_i64(pq_tr *r, int type, int64_t *v)
{
	int rc = want_type(r, type, PQ_T_I64);
	return rc ? rc : pq_tr_zz64(r, v);
}

int pq_tr_i16(pq_tr *r, int type, int16_t *v)
{
	int32_t x;
	int rc = want_type(r, type, PQ_T_I16);

	if (rc || (rc = pq_tr_zz32(r, &x)))
		return rc;
	if (x < INT16_MIN || x > INT16_MAX)
		return pq_tr_corrupt(r, "thrift i16 out of range");
	*v = (int16_t)x;
	return 0;
}

int pq_tr_bool(pq_tr *r, int type, bool bval, bool *v)
{
	if (type != PQ_T_TRUE && type != PQ_T_FALSE)
		return pq_tr_corrupt(r, "thrift type mismatch: got %d, want bool", type);
	*v = bval;
	return 0;
}

/* Binary: varint length, then that many bytes (checked against the end). */
int pq_tr_bytes(pq_tr *r, pq_bytes *v)
{
	uint64_t n;
	int rc = pq_tr_varint(r, &n);

	if (rc)
		return rc;
	if (n > (uint64_t)(r->end - r->p) || n > UINT32_MAX)
		return pq_tr_corrupt(r, "thrift binary length %llu past the end",
		                     (unsigned long long)n);
	v->ptr = r->p;
	v->len = (uint32_t)n;
	r->p += n;
	return 0;
}

int pq_tr_binary(pq_tr *r, int type, pq_bytes *v)
{
	int rc = want_type(r, type, PQ_T_BINARY);
	return rc ? rc : pq_tr_bytes(r, v);
}

/* List/set header, short form (size 0..14):
 *   | ssss tttt |            size << 4 | element type
 * long form:
 *   | 1111 tttt | varint size ... |
 * Every element takes at least one byte, so size <= remaining bytes. */
int pq_tr_list(pq_tr *r, int type, int want, int *elem, uint32_t *count)
{
	uint64_t n;

	if (type != PQ_T_LIST && type != PQ_T_SET)
		return pq_tr_corrupt(r, "thrift type mismatch: got %d, want list", type);
	if (r->p >= r->end)
		return pq_tr_corrupt(r, "thrift list header truncated");
	uint8_t c = *r->p++;
	int et = c & 0x0f;
	n = c >> 4;
	if (n == 15) {
		int rc = pq_tr_varint(r, &n);
		if (rc)
			return rc;
	}
	if (et < PQ_T_TRUE || et > PQ_T_STRUCT)
		return pq_tr_corrupt(r, "thrift list element type %d unknown", et);
	if (want >= 0) {
		bool ok = et == want ||
		          (want == PQ_T_TRUE && et == PQ_T_FALSE);
		if (!ok)
			return pq_tr_corrupt(r, "thrift list element type %d, want %d", et, want);
	}
	if (n > PQ_MAX_LIST)
		return pq_tr_corrupt(r, "thrift list of %llu elements exceeds the cap",
		                     (unsigned long long)n);
	if (n > (uint64_t)(r->end - r->p))
		return pq_tr_corrupt(r, "thrift list of %llu elements past the end",
		                     (unsigned long long)n);
	*elem = et;
	*count = (uint32_t)n;
	return 0;
}

static int skip_n(pq_tr *r, size_t n)
{
	if (n > (size_t)(r->end - r->p))
		return pq_tr_corrupt(r, "thrift value truncated");
	r->p += n;
	return 0;
}

/* Skip a value; `type` is a compact type (for list elements bool is a byte). */
static int skip_value(pq_tr *r, int type, bool in_list)
{
	uint64_t u;
	pq_bytes b;
	int rc = 0;

	switch (type) {
	case PQ_T_TRUE:
	case PQ_T_FALSE:
		return in_list ? skip_n(r, 1) : 0;
	case PQ_T_BYTE:
		return skip_n(r, 1);
	case PQ_T_I16:
	case PQ_T_I32:
	case PQ_T_I64:
		return pq_tr_varint(r, &u);
	case PQ_T_DOUBLE:
		return skip_n(r, 8);
	case PQ_T_BINARY:
		return pq_tr_bytes(r, &b);
	case PQ_T_LIST:
	case PQ_T_SET: {
		int et;
		uint32_t n;
		if ((rc = pq_tr_enter(r)))
			return rc;
		if ((rc = pq_tr_list(r, type, -1, &et, &n)))
			return rc;
		for (uint32_t i = 0; i < n && !rc; i++)
			rc = skip_value(r, et, true);
		pq_tr_leave(r);
		return rc;
	}
	case PQ_T_MAP: {
		/* map: varint size; if size > 0 one byte kkkk vvvv of types */
		if ((rc = pq_tr_varint(r, &u)))
			return rc;
		if (u == 0)
			return 0;
		if (u > PQ_MAX_LIST || u > (uint64_t)(r->end - r->p))
			return pq_tr_corrupt(r, "thrift map of %llu entries too large",
			                     (unsigned long long)u);
		uint8_t kv = *r->p++;
		int kt = kv >> 4, vt = kv & 0x0f;
		if (kt < 1 || kt > PQ_T_STRUCT || vt < 1 || vt > PQ_T_STRUCT)
			return pq_tr_corrupt(r, "thrift map types %d/%d unknown", kt, vt);
		if ((rc = pq_tr_enter(r)))
			return rc;
		for (uint64_t i = 0; i < u && !rc; i++) {
			rc = skip_value(r, kt, true);
			if (!rc)
				rc = skip_value(r, vt, true);
		}
		pq_tr_leave(r);
		return rc;
	}
	case PQ_T_STRUCT: {
		int16_t last = 0, id;
		int t;
		bool bv;
		if ((rc = pq_tr_enter(r)))
			return rc;
		for (;;) {
			if ((rc = pq_tr_field(r, &last, &t, &id, &bv)))
				return rc;
			if (t == PQ_T_STOP)
				break;
			if ((rc = skip_value(r, t, false)))
				return rc;
		}
		pq_tr_leave(r);
		return 0;
	}
	default:
		return pq_tr_corrupt(r, "thrift type %d unknown", type);
	}
}

int pq_tr_skip(pq_tr *r, int type)
{
	return skip_value(r, type, false);
}

/* ---- writer ---- */

void pq_tw_init(pq_tw *w, floe_buf *b)
{
	w->b = b;
	w->depth = 0;
	w->last[0] = 0;
	w->rc = 0;
}

static void put(pq_tw *w, uint8_t c)
{
	if (!w->rc)
		w->rc = floe_buf_putc(w->b, c);
}

void pq_tw_varint(pq_tw *w, uint64_t v)
{
	if (!w->rc)
		w->rc = floe_buf_put_uvarint(w->b, v);
}

void pq_tw_zz(pq_tw *w, int64_t v)
{
	pq_tw_varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void pq_tw_field(pq_tw *w, int type, int16_t id)
{
	int16_t *last = &w->last[w->depth];
	int delta = id - *last;

	if (delta > 0 && delta <= 15) {
		put(w, (uint8_t)(delta << 4 | type));
	} else {
		put(w, (uint8_t)type);
		pq_tw_zz(w, id);
	}
	*last = id;
}

void pq_tw_i32(pq_tw *w, int16_t id, int32_t v)
{
	pq_tw_field(w, PQ_T_I32, id);
	pq_tw_zz(w, v);
}

void pq_tw_i64(pq_tw *w, int16_t id, int64_t v)
{
	pq_tw_field(w, PQ_T_I64, id);
	pq_tw_zz(w, v);
}

void pq_tw_bool(pq_tw *w, int16_t id, bool v)
{
	pq_tw_field(w, v ? PQ_T_TRUE : PQ_T_FALSE, id);
}

void pq_tw_bytes(pq_tw *w, const uint8_t *p, uint32_t n)
{
	pq_tw_varint(w, n);
	if (!w->rc && n)
		w->rc = floe_buf_append(w->b, p, n);
}

void pq_tw_binary(pq_tw *w, int16_t id, const uint8_t *p, uint32_t n)
{
	pq_tw_field(w, PQ_T_BINARY, id);
	pq_tw_bytes(w, p, n);
}

void pq_tw_list_elems(pq_tw *w, int elem, uint32_t n)
{
	if (n < 15) {
		put(w, (uint8_t)(n << 4 | (uint32_t)elem));
	} else {
		put(w, (uint8_t)(0xf0 | elem));
		pq_tw_varint(w, n);
	}
}

void pq_tw_list(pq_tw *w, int16_t id, int elem, uint32_t n)
{
	pq_tw_field(w, PQ_T_LIST, id);
	pq_tw_list_elems(w, elem, n);
}

void pq_tw_begin(pq_tw *w, int16_t id)
{
	if (id)
		pq_tw_field(w, PQ_T_STRUCT, id);
	if (w->depth >= PQ_MAX_DEPTH) {
		if (!w->rc)
			w->rc = FLOE_EINVALID;
		return;
	}
	w->last[++w->depth] = 0;
}

void pq_tw_end(pq_tw *w)
{
	put(w, 0);
	if (w->depth > 0)
		w->depth--;
}
