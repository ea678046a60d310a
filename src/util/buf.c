/* util/buf.c - growable byte buffer (util/buf.h). */
#include <stdlib.h>
#include <string.h>

#include "floe/error.h"
#include "util/buf.h"

int floe_buf_grow(floe_buf *b, size_t extra)
{
	size_t need;
	if (floe_add_overflow(b->len, extra, &need))
		return FLOE_ENOMEM;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return FLOE_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int floe_buf_put_uvarint(floe_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	do {
		uint8_t byte = v & 0x7f;
		v >>= 7;
		tmp[n++] = byte | (v ? 0x80 : 0);
	} while (v);
	return floe_buf_append(b, tmp, n);
}

uint8_t *floe_buf_extend(floe_buf *b, size_t n)
{
	if (floe_buf_reserve(b, n))
		return NULL;
	uint8_t *p = b->data + b->len;
	b->len += n;
	return p;
}

void floe_buf_clear(floe_buf *b)
{
	b->len = 0;
}

void floe_buf_free(floe_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
