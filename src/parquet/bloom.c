/* parquet/bloom.c - split-block Bloom filters (BloomFilter.md): a filter is
 * an array of 32-byte blocks of eight 32-bit words; a 64-bit XXH64 hash
 * picks a block with its upper half and sets one bit per word from its
 * lower half multiplied by the spec's eight salts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "floe/parquet.h"
#include "parquet/bloom.h"
#include "parquet/reader_int.h"

static const uint32_t SALT[8] = { 0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
	                          0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u };

uint32_t pq_bloom_size(uint64_t ndv, double fpp, uint32_t max_bytes)
{
	if (fpp <= 0.0 || fpp >= 1.0)
		fpp = 0.01;
	/* bits = -8 * ndv / ln(1 - fpp^(1/8)) (BloomFilter.md, sizing) */
	double bits = -8.0 * (double)ndv / log(1.0 - pow(fpp, 1.0 / 8.0));
	double bytes = bits / 8.0;
	uint32_t n = PQ_BLOOM_MIN_BYTES;
	while ((double)n < bytes && n < max_bytes && n < PQ_BLOOM_MAX_BYTES)
		n <<= 1;
	return n;
}

uint64_t pq_bloom_hash(const void *p, size_t n)
{
	return XXH64(p, n, 0);
}

static inline uint8_t *block_of(const uint8_t *bitset, uint32_t nbytes, uint64_t h)
{
	uint64_t nblocks = nbytes / 32;
	return (uint8_t *)bitset + (((h >> 32) * nblocks) >> 32) * 32;
}

void pq_bloom_insert(uint8_t *bitset, uint32_t nbytes, uint64_t h)
{
	uint8_t *b = block_of(bitset, nbytes, h);
	uint32_t key = (uint32_t)h;
	for (int i = 0; i < 8; i++) {
		uint32_t word;
		memcpy(&word, b + 4 * i, 4);
		word |= 1u << ((key * SALT[i]) >> 27);
		memcpy(b + 4 * i, &word, 4);
	}
}

bool pq_bloom_check(const uint8_t *bitset, uint32_t nbytes, uint64_t h)
{
	const uint8_t *b = block_of(bitset, nbytes, h);
	uint32_t key = (uint32_t)h;
	for (int i = 0; i < 8; i++) {
		uint32_t word;
		memcpy(&word, b + 4 * i, 4);
		if (!(word & (1u << ((key * SALT[i]) >> 27))))
			return false;
	}
	return true;
}

int pq_bloom_encode_header(floe_buf *out, uint32_t nbytes)
{
	pq_tw w;
	pq_tw_init(&w, out);
	pq_tw_begin(&w, 0);
	pq_tw_i32(&w, 1, (int32_t)nbytes);
	for (int16_t id = 2; id <= 4; id++) { /* algorithm BLOCK, hash XXHASH, UNCOMPRESSED */
		pq_tw_begin(&w, id);
		pq_tw_begin(&w, 1);
		pq_tw_end(&w);
		pq_tw_end(&w);
	}
	pq_tw_end(&w);
	return w.rc;
}

/* A union whose member 1 (an empty struct) must be set. */
static int union_member1(pq_tr *r, int type, const char *what)
{
	if (type != PQ_T_STRUCT)
		return pq_tr_corrupt(r, "bloom filter %s is not a struct", what);
	int rc = pq_tr_enter(r);
	if (rc)
		return rc;
	int16_t last = 0;
	bool seen = false;
	for (;;) {
		int t;
		int16_t id;
		bool bv;
		if ((rc = pq_tr_field(r, &last, &t, &id, &bv)))
			return rc;
		if (t == PQ_T_STOP)
			break;
		if (id == 1 && t == PQ_T_STRUCT)
			seen = true;
		else if (id >= 1 && id <= 8) {
			pq_tr_leave(r);
			return floe_error_set(r->err, FLOE_EUNSUPPORTED, "%s: bloom filter %s %d is not "
			                      "supported", r->file, what, id);
		}
		if ((rc = pq_tr_skip(r, t)))
			return rc;
	}
	pq_tr_leave(r);
	return seen ? 0 : pq_tr_corrupt(r, "bloom filter %s is not set", what);
}

int pq_bloom_decode_header(pq_tr *r, uint32_t *nbytes)
{
	int rc = pq_tr_enter(r);
	if (rc)
		return rc;
	int16_t last = 0;
	int32_t n = -1;
	int have = 0;
	for (;;) {
		int t;
		int16_t id;
		bool bv;
		if ((rc = pq_tr_field(r, &last, &t, &id, &bv)))
			return rc;
		if (t == PQ_T_STOP)
			break;
		if (id == 1)
			rc = pq_tr_i32(r, t, &n);
		else if (id == 2)
			rc = union_member1(r, t, "algorithm");
		else if (id == 3)
			rc = union_member1(r, t, "hash");
		else if (id == 4)
			rc = union_member1(r, t, "compression");
		else
			rc = pq_tr_skip(r, t);
		if (rc)
			return rc;
		if (id >= 1 && id <= 4)
			have |= 1 << id;
	}
	pq_tr_leave(r);
	if (have != 0x1e)
		return pq_tr_corrupt(r, "bloom filter header lacks a required field");
	if (n < PQ_BLOOM_MIN_BYTES || (uint32_t)n > PQ_BLOOM_MAX_BYTES || (n & (n - 1)) != 0)
		return pq_tr_corrupt(r, "bloom filter size %d is not a power of two from 32 to %u", n,
		                     PQ_BLOOM_MAX_BYTES);
	*nbytes = (uint32_t)n;
	return 0;
}

/* ---- probing a file's filters ------------------------------------------------ */

/* Where the bitset of the filter `m` names starts and its size, after
 * checking its header. */
static int locate(floe_parquet_reader *r, const pq_column_meta *m, uint64_t *bits_out,
                  uint32_t *nbytes_out, floe_error *err)
{
	uint64_t off = (uint64_t)m->bloom_filter_offset;
	/* header (at most a few dozen bytes) then the bitset */
	uint8_t head[64];
	size_t hl = sizeof head;
	if (off >= r->file_size)
		return floe_error_set(err, FLOE_ECORRUPT, "%s: corrupt at byte %llu: bloom filter offset "
		                      "past the end of the file", r->name, (unsigned long long)off);
	if (r->file_size - off < hl)
		hl = (size_t)(r->file_size - off);
	int rc = pq_read_at(r, head, hl, off, err);
	if (rc)
		return rc;
	pq_tr tr;
	pq_tr_init(&tr, head, hl, r->name, off, err);
	uint32_t nbytes;
	if ((rc = pq_bloom_decode_header(&tr, &nbytes)))
		return rc;
	uint64_t bits_at = off + (uint64_t)(tr.p - head);
	if (bits_at > r->file_size || r->file_size - bits_at < nbytes)
		return floe_error_set(err, FLOE_ECORRUPT, "%s: corrupt at byte %llu: bloom filter of %u "
		                      "bytes runs past the end of the file", r->name,
		                      (unsigned long long)bits_at, nbytes);
	if (m->has_bloom_filter_length && m->bloom_filter_length > 0 &&
	    (uint64_t)m->bloom_filter_length != bits_at - off + nbytes)
		return floe_error_set(err, FLOE_ECORRUPT, "%s: corrupt at byte %llu: bloom filter length "
		                      "%d disagrees with its header", r->name, (unsigned long long)off,
		                      m->bloom_filter_length);
	*bits_out = bits_at;
	*nbytes_out = nbytes;
	return 0;
}

/* The chunk metadata of row group / column, or NULL when out of range. */
static const pq_column_meta *chunk_meta(const floe_parquet_reader *r, int row_group, int column)
{
	if (row_group < 0 || (uint32_t)row_group >= (uint32_t)r->meta.num_row_groups || column < 0 ||
	    column >= r->nleaves)
		return NULL;
	const pq_leaf *lf = &r->leaves[column];
	const pq_row_group *rg = &r->meta.row_groups[row_group];
	if (lf->chunk < 0 || (uint32_t)lf->chunk >= rg->num_columns)
		return NULL;
	return &rg->columns[lf->chunk].meta;
}

int floe_parquet_reader_bloom_load(floe_parquet_reader *r, int row_group, int column,
                                   uint8_t **bits, uint32_t *nbytes, floe_error *err)
{
	*bits = NULL;
	*nbytes = 0;
	const pq_column_meta *m = chunk_meta(r, row_group, column);
	if (!m)
		return floe_error_set(err, FLOE_EINVALID, "%s: no row group %d / column %d", r->name,
		                      row_group, column);
	if (!m->has_bloom_filter_offset)
		return 0;
	uint64_t at;
	uint32_t n;
	int rc = locate(r, m, &at, &n, err);
	if (rc)
		return rc;
	uint8_t *b = malloc(n);
	if (!b)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	if ((rc = pq_read_at(r, b, n, at, err))) {
		free(b);
		return rc;
	}
	*bits = b;
	*nbytes = n;
	return 0;
}

bool floe_parquet_bloom_check(const uint8_t *bits, uint32_t nbytes, const void *plain, size_t n)
{
	return !bits || pq_bloom_check(bits, nbytes, pq_bloom_hash(plain, n));
}

int floe_parquet_reader_bloom_probe(floe_parquet_reader *r, int row_group, int column,
                                    const floe_value *v, bool *maybe, floe_error *err)
{
	*maybe = true;
	const pq_column_meta *m = chunk_meta(r, row_group, column);
	if (!m)
		return floe_error_set(err, FLOE_EINVALID, "%s: no row group %d / column %d", r->name,
		                      row_group, column);
	const pq_leaf *lf = &r->leaves[column];
	if (!m->has_bloom_filter_offset)
		return 0; /* no filter: anything may be there */
	/* the value's PLAIN bytes at the column's physical type */
	uint8_t buf[16];
	const void *p = buf;
	size_t n;
	switch (lf->phys) {
	case PQ_INT32: {
		int32_t x = (int32_t)v->i;
		memcpy(buf, &x, 4);
		n = 4;
		break;
	}
	case PQ_INT64:
		memcpy(buf, &v->i, 8);
		n = 8;
		break;
	case PQ_FLOAT: {
		float x = (float)v->d;
		memcpy(buf, &x, 4);
		n = 4;
		break;
	}
	case PQ_DOUBLE:
		memcpy(buf, &v->d, 8);
		n = 8;
		break;
	case PQ_BYTE_ARRAY:
	case PQ_FIXED_LEN_BYTE_ARRAY:
		p = v->bytes;
		n = v->len > 0 ? (size_t)v->len : 0;
		if (!p)
			p = buf;
		break;
	default:
		return 0;
	}
	uint64_t bits_at;
	uint32_t nbytes;
	int rc = locate(r, m, &bits_at, &nbytes, err);
	if (rc)
		return rc;
	/* only the block the hash selects is needed */
	uint64_t h = pq_bloom_hash(p, n);
	uint64_t block = ((h >> 32) * (nbytes / 32)) >> 32;
	uint8_t blk[32];
	if ((rc = pq_read_at(r, blk, 32, bits_at + block * 32, err)))
		return rc;
	/* check within the one block (block index 0 of a 32-byte filter) */
	*maybe = pq_bloom_check(blk, 32, (h & 0xffffffffu));
	return 0;
}
