/* util/sort.c - radix sort of 64-bit unsigned integers: one histogram
 * pass, then a stable scatter per byte that is not the same in every
 * value. Linear in n, no comparisons, sequential memory traffic. */
#include <string.h>

#include "util/sort.h"

void floe_sort_u64(uint64_t *v, uint64_t *scratch, size_t n)
{
	if (n < 2)
		return;
	size_t hist[8][256];
	memset(hist, 0, sizeof hist);
	for (size_t i = 0; i < n; i++) {
		uint64_t x = v[i];
		for (int p = 0; p < 8; p++)
			hist[p][(x >> (p * 8)) & 255]++;
	}
	uint64_t *src = v, *dst = scratch;
	for (int p = 0; p < 8; p++) {
		size_t *h = hist[p];
		int shift = p * 8;
		if (h[(src[0] >> shift) & 255] == n)
			continue; /* every value has this byte */
		size_t sum = 0;
		for (int d = 0; d < 256; d++) {
			size_t c = h[d];
			h[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[h[(src[i] >> shift) & 255]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof *v);
}
