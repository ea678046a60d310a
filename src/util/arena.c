/* util/arena.c - region allocator (floe/arena.h). Blocks are chained; a
 * request larger than the block size gets a block of its own. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "floe/arena.h"

#define ARENA_ALIGN 16

typedef struct arena_block {
	struct arena_block *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char mem[];
} arena_block;

struct floe_arena {
	arena_block *head; /* current block (most recent) */
	size_t block_size;
	size_t footprint;
};

floe_arena *floe_arena_new(size_t block_size)
{
	floe_arena *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->block_size = block_size ? block_size : 64 * 1024;
	return a;
}

static arena_block *block_new(floe_arena *a, size_t need)
{
	size_t size = need > a->block_size ? need : a->block_size;
	if (size > SIZE_MAX - sizeof(arena_block))
		return NULL;
	arena_block *b = malloc(sizeof(arena_block) + size);
	if (!b)
		return NULL;
	b->size = size;
	b->used = 0;
	a->footprint += size;
	return b;
}

void *floe_arena_alloc(floe_arena *a, size_t n)
{
	if (n > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need == 0)
		need = ARENA_ALIGN;
	arena_block *b = a->head;
	if (!b || b->size - b->used < need) {
		arena_block *nb = block_new(a, need);
		if (!nb)
			return NULL;
		if (b && need > a->block_size) {
			/* oversized: keep the current block as head for small requests */
			nb->next = b->next;
			b->next = nb;
			nb->used = need;
			return nb->mem;
		}
		nb->next = b;
		a->head = b = nb;
	}
	void *p = b->mem + b->used;
	b->used += need;
	return p;
}

void *floe_arena_calloc(floe_arena *a, size_t count, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(count, size, &n))
		return NULL;
	void *p = floe_arena_alloc(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

char *floe_arena_strndup(floe_arena *a, const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *p = floe_arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *floe_arena_strdup(floe_arena *a, const char *s)
{
	return floe_arena_strndup(a, s, strlen(s));
}

void floe_arena_reset(floe_arena *a)
{
	if (!a || !a->head)
		return;
	/* keep the oldest standard-sized block, free the rest */
	arena_block *keep = NULL;
	arena_block *b = a->head;
	while (b) {
		arena_block *next = b->next;
		if (!keep && !next && b->size == a->block_size)
			keep = b;
		else {
			a->footprint -= b->size;
			free(b);
		}
		b = next;
	}
	a->head = keep;
	if (keep) {
		keep->used = 0;
		keep->next = NULL;
	}
}

size_t floe_arena_footprint(const floe_arena *a)
{
	return a ? a->footprint : 0;
}

void floe_arena_free(floe_arena *a)
{
	if (!a)
		return;
	arena_block *b = a->head;
	while (b) {
		arena_block *next = b->next;
		free(b);
		b = next;
	}
	free(a);
}
