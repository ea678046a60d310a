/* floe/arena.h - region allocator for bounded work (a batch, a page, a footer):
 * many small allocations released together by one reset or free. */
#ifndef FLOE_ARENA_H
#define FLOE_ARENA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct floe_arena floe_arena;

/* New arena whose blocks are at least `block_size` bytes (0 = 64 KiB).
 * Returns NULL when out of memory. Free with floe_arena_free. */
floe_arena *floe_arena_new(size_t block_size);

/* `n` bytes aligned to 16, owned by the arena; NULL on out-of-memory.
 * n == 0 returns a valid unique pointer. */
void *floe_arena_alloc(floe_arena *arena, size_t n);

/* Zeroed `count * size` bytes; NULL on overflow or out-of-memory. */
void *floe_arena_calloc(floe_arena *arena, size_t count, size_t size);

/* Copy of `n` bytes of `s` plus a NUL terminator; NULL on out-of-memory. */
char *floe_arena_strndup(floe_arena *arena, const char *s, size_t n);
char *floe_arena_strdup(floe_arena *arena, const char *s);

/* Release every allocation; keeps the first block for reuse. */
void floe_arena_reset(floe_arena *arena);

/* Bytes currently held from the system (for memory accounting). */
size_t floe_arena_footprint(const floe_arena *arena);

/* Free the arena and everything in it; NULL is allowed. */
void floe_arena_free(floe_arena *arena);

#ifdef __cplusplus
}
#endif
#endif
