/* util/sort.h - sorting plain arrays of integers faster than qsort (internal). */
#ifndef FLOE_UTIL_SORT_H
#define FLOE_UTIL_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Sort v[0..n) ascending (LSD radix sort, 8-bit digits, passes skipped
 * where every value has the same digit). `scratch` holds n values; the
 * result ends in v. */
void floe_sort_u64(uint64_t *v, uint64_t *scratch, size_t n);

#endif
