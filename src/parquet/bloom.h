/* parquet/bloom.h - split-block Bloom filters (apache/parquet-format
 * BloomFilter.md): sizing, insert and check of XXH64 hashes (seed 0) of a
 * value's PLAIN bytes, and the BloomFilterHeader. Internal. */
#ifndef FLOE_PARQUET_BLOOM_H
#define FLOE_PARQUET_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parquet/thrift.h"
#include "util/buf.h"

#define PQ_BLOOM_MIN_BYTES 32
#define PQ_BLOOM_MAX_BYTES (128u << 20) /* reader cap */

/* Bytes of a filter for `ndv` distinct values at false-positive rate
 * `fpp`: a power of two between 32 and `max_bytes`. */
uint32_t pq_bloom_size(uint64_t ndv, double fpp, uint32_t max_bytes);

uint64_t pq_bloom_hash(const void *p, size_t n);
void pq_bloom_insert(uint8_t *bitset, uint32_t nbytes, uint64_t h);
bool pq_bloom_check(const uint8_t *bitset, uint32_t nbytes, uint64_t h);

/* BloomFilterHeader (BLOCK, XXHASH, UNCOMPRESSED) for `nbytes`. */
int pq_bloom_encode_header(floe_buf *out, uint32_t nbytes);
/* Decode a header; anything but BLOCK/XXHASH/UNCOMPRESSED or a size that
 * is not a power of two in [32, PQ_BLOOM_MAX_BYTES] is FLOE_ECORRUPT or
 * FLOE_EUNSUPPORTED. */
int pq_bloom_decode_header(pq_tr *r, uint32_t *nbytes);

#endif
