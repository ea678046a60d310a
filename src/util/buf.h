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

/* Ensure room for `extra` more bytes. 0 or FLOE_ENOMEM (also on overflow). */
int floe_buf_reserve(floe_buf *b, size_t extra);
int floe_buf_append(floe_buf *b, const void *p, size_t n);
int floe_buf_putc(floe_buf *b, uint8_t c);
/* Append little-endian integers. */
int floe_buf_put_u32le(floe_buf *b, uint32_t v);
int floe_buf_put_u64le(floe_buf *b, uint64_t v);
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
	return v; /* floe supports little-endian hosts only (checked in build) */
}
static inline uint64_t floe_load_u64le(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
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
