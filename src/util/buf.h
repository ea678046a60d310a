/* util/buf.h - growable byte buffer (malloc'ed), used by every encoder.
 * Internal to libfloe. */
#ifndef FLOE_UTIL_BUF_H
#define FLOE_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct floe_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
} floe_buf;

#define FLOE_BUF_INIT { NULL, 0, 0 }

/* Encoders store integers in the host's byte order as little-endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "floe supports little-endian hosts only");

/* Room for `extra` more bytes past len (the slow path of reserve and
 * append, out of line). 0 or FLOE_ENOMEM (also on overflow). */
int floe_buf_grow(floe_buf *b, size_t extra);

/* Ensure room for `extra` more bytes. 0 or FLOE_ENOMEM (also on overflow).
 * Inline: encoders call these per value. */
static inline int floe_buf_reserve(floe_buf *b, size_t extra)
{
	return extra <= b->cap - b->len ? 0 : floe_buf_grow(b, extra);
}

static inline int floe_buf_append(floe_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	int rc;
	if (n > b->cap - b->len && (rc = floe_buf_grow(b, n)) != 0)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static inline int floe_buf_putc(floe_buf *b, uint8_t c)
{
	int rc;
	if (b->len == b->cap && (rc = floe_buf_grow(b, 1)) != 0)
		return rc;
	b->data[b->len++] = c;
	return 0;
}
/* Append little-endian integers (the host's order: little-endian hosts
 * only, the assertion above). */
static inline int floe_buf_put_u32le(floe_buf *b, uint32_t v)
{
	return floe_buf_append(b, &v, 4);
}

static inline int floe_buf_put_u64le(floe_buf *b, uint64_t v)
{
	return floe_buf_append(b, &v, 8);
}
/* Append an unsigned LEB128 varint. */
int floe_buf_put_uvarint(floe_buf *b, uint64_t v);
/* Grow len by n (after reserve), returning a pointer to the new bytes. */
uint8_t *floe_buf_extend(floe_buf *b, size_t n);
void floe_buf_clear(floe_buf *b); /* len = 0, keep memory */
void floe_buf_free(floe_buf *b);  /* release memory; b becomes empty */

/* Little-endian loads from possibly unaligned memory. */
static inline uint32_t floe_load_u32le(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v; /* little-endian hosts only (the assertion above) */
}
static inline uint64_t floe_load_u64le(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}
/* The n <= 8 bytes at p as one word, never reading past them: two
 * overlapping 4-byte loads for 4-8 bytes, three single bytes for 1-3. Two
 * byte strings of one length are equal exactly when their words are. */
static inline uint64_t floe_load_key8(const uint8_t *p, size_t n)
{
	if (n >= 4)
		return (uint64_t)floe_load_u32le(p) | (uint64_t)floe_load_u32le(p + n - 4) << 32;
	if (n)
		return (uint64_t)p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16;
	return 0;
}

/* Overflow-checked size arithmetic: return 1 on overflow. */
static inline int floe_add_overflow(size_t a, size_t b, size_t *out)
{
	return __builtin_add_overflow(a, b, out);
}
static inline int floe_mul_overflow(size_t a, size_t b, size_t *out)
{
	return __builtin_mul_overflow(a, b, out);
}

#endif
