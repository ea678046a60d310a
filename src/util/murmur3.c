/* util/murmur3.c - MurmurHash3 x86 32-bit (Austin Appleby's public-domain
 * algorithm), used by the Iceberg bucket transform (iceberg spec, Appendix B). */
#include <string.h>

#include "util/murmur3.h"

static inline uint32_t rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static inline uint32_t mix_k(uint32_t k)
{
	k *= 0xcc9e2d51u;
	k = rotl32(k, 15);
	k *= 0x1b873593u;
	return k;
}

uint32_t floe_murmur3_32(const void *data, size_t len, uint32_t seed)
{
	const uint8_t *p = data;
	uint32_t h = seed;
	size_t nblocks = len / 4;

	/* body: little-endian 4-byte blocks */
	for (size_t i = 0; i < nblocks; i++) {
		uint32_t k;
		memcpy(&k, p + 4 * i, 4); /* little-endian hosts only (buf.h) */
		h ^= mix_k(k);
		h = rotl32(h, 13);
		h = h * 5u + 0xe6546b64u;
	}

	/* tail: the 0..3 remaining bytes */
	const uint8_t *tail = p + 4 * nblocks;
	uint32_t k = 0;
	switch (len & 3) {
	case 3:
		k ^= (uint32_t)tail[2] << 16;
		/* fall through */
	case 2:
		k ^= (uint32_t)tail[1] << 8;
		/* fall through */
	case 1:
		k ^= tail[0];
		h ^= mix_k(k);
	}

	/* finalization: avalanche */
	h ^= (uint32_t)len;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}
