/* parquet/writer.c - the streaming Parquet writer: flat schemas, PLAIN /
 * RLE_DICTIONARY / DELTA_BINARY_PACKED pages, statistics and the page index;
 * and the row groups of another file copied in as they are (compaction). */
#define _GNU_SOURCE /* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <xxhash.h>

#include "floe/arena.h"
#include "floe/parquet.h"
#include "parquet/bloom.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/meta.h"
#include "parquet/reader_int.h"
#include "util/buf.h"
#include "util/sort.h"

#define WR_SLICE_ROWS 4096      /* rows per column between row-group size checks */
#define WR_PAGE_MAX_ROWS 20000  /* a page is cut at this many rows whatever its size */
#define WR_OUT_BUF (4u << 20)

/* Sort order of a column's min/max (parquet.thrift ColumnOrder TYPE_ORDER). */
enum wr_order { WR_SIGNED_INT, WR_FLOAT, WR_UNSIGNED_BYTES, WR_SIGNED_BYTES, WR_BOOL };

/* Running min/max of a page or chunk, as PLAIN-encoded bytes. */
typedef struct wr_stats {
	bool has;
	floe_buf min, max;
	int64_t nulls;
} wr_stats;

typedef struct wr_page_loc {
	int64_t offset; /* within the chunk's data pages */
	int32_t size;   /* header + body */
	uint32_t hdr_len;
	size_t hdr_off;  /* into col->hdrs */
	size_t body_off; /* into col->chunk */
	int64_t first_row;
	int64_t nulls;
	bool all_null;
	uint32_t min_off, min_len, max_off, max_len; /* into col->pmm */
	bool has_minmax;
} wr_page_loc;

typedef struct wr_col {
	const floe_field *field;
	int ptype;      /* enum pq_type */
	int width;      /* physical bytes per value (bool 1, BA 0) */
	int order;      /* enum wr_order */
	bool optional;
	/* dictionary */
	bool use_dict;       /* this chunk is still dictionary-encoded */
	bool had_dict;       /* this chunk wrote dictionary-encoded pages */
	uint64_t *slots;     /* open addressing: 0 empty, else hash << 32 | index + 1 */
	uint32_t nslots;
	uint32_t ndict;
	floe_buf dict;       /* PLAIN-encoded entries */
	floe_buf dict_off;   /* BYTE_ARRAY: uint64 start offsets of entries in dict */
	floe_buf ehash;      /* uint32 hash of each entry (for growing the table) */
	floe_buf ekey, elen; /* BYTE_ARRAY: uint64 floe_load_key8 (len <= 8), uint32 length */
	bool dict_checked;   /* the pay-off check after the first page was made */
	int64_t page_plain_bytes; /* PLAIN size of the page's dictionary-coded values */
	floe_buf stamp;      /* uint32 per entry: last page that used it */
	uint32_t page_seq;
	/* current page */
	floe_buf idx;        /* uint32 dictionary indices */
	floe_buf defs;       /* uint32 definition levels */
	floe_buf vals;       /* PLAIN values (or bools as uint8) */
	int64_t page_rows, page_vals;
	int64_t page_first_row;
	wr_stats ps;
	/* chunk */
	floe_buf chunk;      /* body of each data page */
	floe_buf hdrs;       /* header of each data page */
	int64_t data_bytes;  /* headers + bodies so far */
	int64_t chunk_uncompressed;
	int64_t chunk_values;
	wr_stats cs;
	wr_stats fs;         /* the file's row groups so far */
	bool enc_plain, enc_delta, enc_dict;
	floe_buf pages;      /* wr_page_loc */
	floe_buf pmm;        /* page min/max bytes */
	bool bloom;          /* a Bloom filter per row group */
	floe_buf bhash;      /* uint64 XXH64 of the row group's values */
} wr_col;

struct floe_parquet_writer {
	char *path;
	int fd;
	floe_parquet_write_options o;
	floe_schema schema;
	floe_arena *arena;   /* schema copy, footer structures */
	wr_col *cols;
	int ncols;
	floe_buf out;        /* write buffer */
	int64_t file_pos;    /* bytes handed to out so far */
	int64_t rg_rows, total_rows;
	floe_buf rgs;        /* pq_row_group */
	floe_buf kvs;        /* pq_key_value */
	floe_buf scratch, tmp, comp;
	floe_buf rowpos, conv, vp, vl, hashes, keys8; /* per-slice gathering */
	floe_arena *page_arena; /* page statistics, reset per page */
	floe_buf ci_all, oi_all; /* encoded page indexes, in chunk order */
	floe_buf ci_pos;      /* int64 pairs (offset, length) into ci_all/oi_all */
};

static const char *const codec_names[] = { "uncompressed", "snappy", "gzip", "lzo",
					   "brotli", "lz4", "zstd", "lz4_raw" };

int floe_parquet_codec_parse(floe_parquet_codec *out, const char *name, floe_error *err)
{
	for (int i = 0; i < 8; i++) {
		if (name && strcasecmp(name, codec_names[i]) == 0) {
			*out = (floe_parquet_codec)i;
			return 0;
		}
	}
	if (name && strcasecmp(name, "none") == 0) {
		*out = FLOE_PARQUET_UNCOMPRESSED;
		return 0;
	}
	return floe_error_set(err, FLOE_EINVALID, "unknown parquet codec '%s'", name ? name : "");
}

const char *floe_parquet_codec_name(int codec)
{
	return codec >= 0 && codec < 8 ? codec_names[codec] : "?";
}

void floe_parquet_write_options_init(floe_parquet_write_options *o)
{
	memset(o, 0, sizeof *o);
	o->codec = FLOE_PARQUET_ZSTD;
	o->row_group_bytes = 128 << 20;
	o->page_bytes = 1 << 20;
	o->dictionary_bytes = 1 << 20;
	o->dictionary = true;
	o->delta = true;
	o->page_index = true;
	o->statistics = true;
	o->fsync = true;
	o->data_page_version = 1;
	o->stats_truncate = 64;
	o->bloom_fpp = 0.01;
	o->bloom_max_bytes = 1 << 20;
	o->created_by = "floe version 0.1.0";
}

/* ---- output ----------------------------------------------------------- */

static int wr_flush_out(floe_parquet_writer *w, floe_error *err)
{
	size_t done = 0;
	while (done < w->out.len) {
		ssize_t k = write(w->fd, w->out.data + done, w->out.len - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return floe_error_set(err, FLOE_EIO, "%s: write: %s", w->path, strerror(errno));
		done += (size_t)k;
	}
	floe_buf_clear(&w->out);
	return 0;
}

static int wr_emit(floe_parquet_writer *w, const void *p, size_t n, floe_error *err)
{
	if (w->out.len + n > WR_OUT_BUF) {
		int rc = wr_flush_out(w, err);
		if (rc)
			return rc;
	}
	if (n >= WR_OUT_BUF) {
		size_t done = 0;
		while (done < n) {
			ssize_t k = write(w->fd, (const uint8_t *)p + done, n - done);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return floe_error_set(err, FLOE_EIO, "%s: write: %s", w->path,
						      strerror(errno));
			done += (size_t)k;
		}
	} else if (floe_buf_append(&w->out, p, n)) {
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	w->file_pos += (int64_t)n;
	return 0;
}

/* ---- statistics ------------------------------------------------------- */

/* Unsigned lexicographic order of byte strings: 8 bytes at a time as
 * big-endian words (little-endian hosts only, see util/buf.h). */
static inline int wr_cmp_ub(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	size_t k = 0;
	for (; k + 8 <= n; k += 8) {
		uint64_t x, y;
		memcpy(&x, a + k, 8);
		memcpy(&y, b + k, 8);
		if (x != y) {
			x = __builtin_bswap64(x);
			y = __builtin_bswap64(y);
			return x < y ? -1 : 1;
		}
	}
	while (k < n && a[k] == b[k])
		k++;
	int c = k < n ? (int)a[k] - (int)b[k] : 0;
	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

/* <0, 0, >0 comparing two PLAIN values of the column's order. */
static inline int wr_cmp(int order, int ptype, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	switch (order) {
	case WR_BOOL:
		return (int)a[0] - (int)b[0];
	case WR_SIGNED_INT:
		if (ptype == PQ_INT32) {
			int32_t x, y;
			memcpy(&x, a, 4);
			memcpy(&y, b, 4);
			return (x > y) - (x < y);
		} else {
			int64_t x, y;
			memcpy(&x, a, 8);
			memcpy(&y, b, 8);
			return (x > y) - (x < y);
		}
	case WR_FLOAT:
		if (ptype == PQ_FLOAT) {
			float x, y;
			memcpy(&x, a, 4);
			memcpy(&y, b, 4);
			return (x > y) - (x < y);
		} else {
			double x, y;
			memcpy(&x, a, 8);
			memcpy(&y, b, 8);
			return (x > y) - (x < y);
		}
	case WR_SIGNED_BYTES: /* big-endian two's complement, equal lengths */
		if (alen && (a[0] ^ b[0]) & 0x80)
			return (a[0] & 0x80) ? -1 : 1;
		return memcmp(a, b, alen);
	default:
		return wr_cmp_ub(a, alen, b, blen);
	}
}

static bool wr_is_nan(int ptype, const uint8_t *p)
{
	if (ptype == PQ_FLOAT) {
		float f;
		memcpy(&f, p, 4);
		return f != f;
	}
	if (ptype == PQ_DOUBLE) {
		double d;
		memcpy(&d, p, 8);
		return d != d;
	}
	return false;
}

static int wr_set(floe_buf *b, const uint8_t *p, size_t n)
{
	floe_buf_clear(b);
	return n ? floe_buf_append(b, p, n) : 0;
}

static inline int wr_stats_add(wr_stats *s, const wr_col *c, const uint8_t *p, size_t n)
{
	if (c->order == WR_FLOAT && wr_is_nan(c->ptype, p))
		return 0; /* spec: NaN is never a min or max */
	if (!s->has) {
		s->has = true;
		if (wr_set(&s->min, p, n) || wr_set(&s->max, p, n))
			return FLOE_ENOMEM;
		return 0;
	}
	/* a new minimum cannot be a new maximum */
	if (wr_cmp(c->order, c->ptype, p, n, s->min.data, s->min.len) < 0)
		return wr_set(&s->min, p, n) ? FLOE_ENOMEM : 0;
	if (wr_cmp(c->order, c->ptype, p, n, s->max.data, s->max.len) > 0 &&
	    wr_set(&s->max, p, n))
		return FLOE_ENOMEM;
	return 0;
}

static int wr_stats_merge(wr_stats *dst, const wr_col *c, const wr_stats *src)
{
	dst->nulls += src->nulls;
	if (!src->has)
		return 0;
	int rc = wr_stats_add(dst, c, src->min.data, src->min.len);
	if (!rc)
		rc = wr_stats_add(dst, c, src->max.data, src->max.len);
	return rc;
}

/* Spec (parquet.thrift, ColumnOrder): a zero min is written as -0.0 and a
 * zero max as +0.0. */
static void wr_fix_zero(const wr_col *c, wr_stats *s)
{
	if (!s->has || c->order != WR_FLOAT)
		return;
	if (c->ptype == PQ_FLOAT) {
		float f;
		memcpy(&f, s->min.data, 4);
		if (f == 0.0f) { f = -0.0f; memcpy(s->min.data, &f, 4); }
		memcpy(&f, s->max.data, 4);
		if (f == 0.0f) { f = 0.0f; memcpy(s->max.data, &f, 4); }
	} else {
		double d;
		memcpy(&d, s->min.data, 8);
		if (d == 0.0) { d = -0.0; memcpy(s->min.data, &d, 8); }
		memcpy(&d, s->max.data, 8);
		if (d == 0.0) { d = 0.0; memcpy(s->max.data, &d, 8); }
	}
}

/* Truncated bounds for BYTE_ARRAY min/max: min = prefix; max = prefix with
 * its last non-0xFF byte incremented (0 length = no upper bound). */
static void wr_truncate(const wr_col *c, int32_t limit, const uint8_t *min, size_t minlen,
                        const uint8_t *max, size_t maxlen, uint8_t *maxbuf,
                        size_t *out_minlen, bool *min_exact, size_t *out_maxlen, bool *max_exact,
                        bool *has_max)
{
	(void)min;
	*out_minlen = minlen;
	*min_exact = true;
	*out_maxlen = maxlen;
	*max_exact = true;
	*has_max = true;
	if (c->ptype != PQ_BYTE_ARRAY || limit <= 0)
		return;
	if (minlen > (size_t)limit) {
		*out_minlen = (size_t)limit;
		*min_exact = false;
	}
	if (maxlen > (size_t)limit) {
		size_t n = (size_t)limit;
		memcpy(maxbuf, max, n);
		while (n > 0 && maxbuf[n - 1] == 0xFF)
			n--;
		if (n == 0) {
			*has_max = false;
		} else {
			maxbuf[n - 1]++;
			*out_maxlen = n;
			*max_exact = false;
		}
	}
}

/* ---- dictionary ------------------------------------------------------- */

/* 64 -> 32 bit mix for open addressing: one 64x64->128 multiply folded
 * (as in wyhash), else the murmur3 finalizer. Equal entries are confirmed
 * by comparing the values. */
static inline uint32_t wr_mix(uint64_t x)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 m = (unsigned __int128)(x ^ 0xa0761d6478bd642full) * 0xe7037ed1a0b428dbull;
	uint64_t f = (uint64_t)m ^ (uint64_t)(m >> 64);
	return (uint32_t)f ^ (uint32_t)(f >> 32);
#else
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (uint32_t)x;
#endif
}

/* Hash of a value of n <= 8 bytes from its floe_load_key8 word. */
static inline uint32_t wr_hash_key8(uint64_t k8, size_t n)
{
	return wr_mix(k8 ^ (uint64_t)n << 59);
}

/* Hash of n bytes: short values (<= 16 bytes, the usual strings) by two
 * overlapping word loads, longer ones by XXH3. */
static inline uint32_t wr_hash_bytes(const uint8_t *p, size_t n)
{
	if (n > 16)
		return (uint32_t)XXH3_64bits(p, n);
	if (n <= 8)
		return wr_hash_key8(floe_load_key8(p, n), n);
	uint64_t a, b;
	memcpy(&a, p, 8);
	memcpy(&b, p + n - 8, 8);
	return wr_mix(a ^ wr_mix(b ^ (uint64_t)n << 59));
}

/* Double the slot table; entries are placed again from their stored
 * hashes (c->ehash), so nothing is hashed twice. */
static int wr_dict_grow(wr_col *c)
{
	uint32_t n = c->nslots ? c->nslots * 2 : 1024;
	if (n < c->nslots)
		return FLOE_ENOMEM;
	uint64_t *s = calloc(n, sizeof *s);
	if (!s)
		return FLOE_ENOMEM;
	const uint32_t *eh = (const uint32_t *)c->ehash.data;
	for (uint32_t i = 0; i < c->ndict; i++) {
		uint32_t j = eh[i] & (n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = (uint64_t)eh[i] << 32 | (i + 1);
	}
	free(c->slots);
	c->slots = s;
	c->nslots = n;
	return 0;
}

/* p[0..n) == q[0..n); short values compared inline. */
static inline bool wr_eq(const uint8_t *p, const uint8_t *q, size_t n)
{
	if (n > 16)
		return memcmp(p, q, n) == 0;
	if (n >= 8) {
		uint64_t a, b, c, d;
		memcpy(&a, p, 8);
		memcpy(&b, q, 8);
		memcpy(&c, p + n - 8, 8);
		memcpy(&d, q + n - 8, 8);
		return a == b && c == d;
	}
	if (n >= 4) {
		uint32_t a, b, c, d;
		memcpy(&a, p, 4);
		memcpy(&b, q, 4);
		memcpy(&c, p + n - 4, 4);
		memcpy(&d, q + n - 4, 4);
		return a == b && c == d;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i] != q[i])
			return false;
	return true;
}

/* Add entry p[0..len) with hash h at free slot j; returns its index, -1
 * when the dictionary would outgrow `limit`, -2 when out of memory. */
static int64_t wr_dict_insert(wr_col *c, uint32_t j, uint32_t h, const uint8_t *p, size_t len,
                              int64_t limit)
{
	bool ba = c->ptype == PQ_BYTE_ARRAY;
	if ((int64_t)(c->dict.len + len + (ba ? 4 : 0)) > limit || c->ndict >= INT32_MAX - 1)
		return -1;
	if (ba && floe_buf_put_u32le(&c->dict, (uint32_t)len))
		return -2;
	if (floe_buf_append(&c->dict, p, len))
		return -2;
	uint32_t zero = 0;
	if (floe_buf_append(&c->stamp, &zero, 4) || floe_buf_append(&c->ehash, &h, 4))
		return -2;
	if (ba) {
		uint64_t end = c->dict.len;
		uint64_t key = len <= 8 ? floe_load_key8(p, len) : 0;
		uint32_t l32 = (uint32_t)len;
		if (floe_buf_append(&c->dict_off, &end, 8) || floe_buf_append(&c->ekey, &key, 8) ||
		    floe_buf_append(&c->elen, &l32, 4))
			return -2;
	}
	c->slots[j] = (uint64_t)h << 32 | ++c->ndict;
	int64_t k = c->ndict - 1;
	if ((uint64_t)c->ndict * 2 >= c->nslots && wr_dict_grow(c))
		return -2;
	return k;
}

/* Dictionary indices of n fixed-width (4 or 8 byte) PLAIN values v into
 * out. Returns how many values were indexed: fewer than n when the
 * dictionary filled up, -2 when out of memory. */
static inline uint64_t wr_load_fixed(const uint8_t *p, int width)
{
	if (width == 8) {
		uint64_t x;
		memcpy(&x, p, 8);
		return x;
	}
	uint32_t y;
	memcpy(&y, p, 4);
	return y;
}

/* Hashes come first for the whole slice so the probe loop can prefetch
 * the slot of a value WR_PREFETCH ahead (large dictionaries miss the
 * cache on nearly every probe otherwise). */
#define WR_PREFETCH 8

static inline int64_t wr_dict_fixed(wr_col *c, const uint8_t *v, int64_t n, int width,
                                    uint32_t *out, const uint32_t *hs, int64_t limit)
{
	for (int64_t i = 0; i < n; i++) {
		uint64_t x = wr_load_fixed(v + i * width, width);
		uint32_t h = hs[i];
		uint32_t mask = c->nslots - 1, j = h & mask;
		if (i + WR_PREFETCH < n)
			__builtin_prefetch(&c->slots[hs[i + WR_PREFETCH] & mask]);
		for (;;) {
			uint64_t s = c->slots[j];
			if (!s) {
				int64_t k = wr_dict_insert(c, j, h, v + i * width, (size_t)width, limit);
				if (k == -1)
					return i;
				if (k < 0)
					return -2;
				out[i] = (uint32_t)k;
				break;
			}
			if ((uint32_t)(s >> 32) == h) {
				uint32_t k = (uint32_t)s - 1;
				uint64_t y = 0;
				memcpy(&y, c->dict.data + (size_t)k * (size_t)width, (size_t)width);
				if (y == x) {
					out[i] = k;
					break;
				}
			}
			j = (j + 1) & mask;
		}
	}
	return n;
}

/* The same for byte values: value i is p[i][0..len[i]), k8[i] its
 * floe_load_key8 word when it has at most 8 bytes. */
static int64_t wr_dict_bytes(wr_col *c, const uint8_t *const *p, const uint32_t *len, int64_t n,
                             uint32_t *out, const uint32_t *hs, const uint64_t *k8, int64_t limit)
{
	bool ba = c->ptype == PQ_BYTE_ARRAY;
	for (int64_t i = 0; i < n; i++) {
		uint32_t h = hs[i];
		uint32_t mask = c->nslots - 1, j = h & mask;
		if (i + WR_PREFETCH < n)
			__builtin_prefetch(&c->slots[hs[i + WR_PREFETCH] & mask]);
		for (;;) {
			uint64_t s = c->slots[j];
			if (!s) {
				int64_t k = wr_dict_insert(c, j, h, p[i], len[i], limit);
				if (k == -1)
					return i;
				if (k < 0)
					return -2;
				out[i] = (uint32_t)k;
				break;
			}
			if ((uint32_t)(s >> 32) == h) {
				uint32_t k = (uint32_t)s - 1;
				bool eq;
				if (ba) {
					/* short values: one word compare, no trip to c->dict */
					const uint32_t *el = (const uint32_t *)(void *)c->elen.data;
					const uint64_t *ek = (const uint64_t *)(void *)c->ekey.data;
					const uint64_t *off = (const uint64_t *)(void *)c->dict_off.data;
					eq = el[k] == len[i] &&
					     (len[i] <= 8 ? ek[k] == k8[i]
							  : wr_eq(p[i], c->dict.data + off[k] + 4, len[i]));
				} else {
					eq = wr_eq(p[i], c->dict.data + (size_t)k * (size_t)c->width,
						   (size_t)c->width);
				}
				if (eq) {
					out[i] = k;
					break;
				}
			}
			j = (j + 1) & mask;
		}
	}
	return n;
}

/* ---- pages ------------------------------------------------------------ */

/* Uncompressed bytes the buffered page would take. */
static int64_t wr_page_estimate(const wr_col *c)
{
	int64_t levels = c->optional ? c->page_rows / 8 : 0;
	if (c->use_dict)
		return c->page_vals * (pq_bit_width(c->ndict) + 1) / 8 + 8 + levels;
	if (c->ptype == PQ_BOOLEAN)
		return (int64_t)c->vals.len / 8 + levels;
	return (int64_t)c->vals.len + levels;
}

/* Append the compressed form of p[0..n) to dst. */
static int wr_compress(floe_parquet_writer *w, floe_buf *dst, const uint8_t *p, size_t n,
                       floe_error *err)
{
	if (w->o.codec == FLOE_PARQUET_UNCOMPRESSED)
		return floe_buf_append(dst, p, n) ? floe_error_set(err, FLOE_ENOMEM, "out of memory") : 0;
	return pq_codec_compress(dst, w->o.codec, w->o.codec_level, p, n, err);
}

static void wr_fill_stats(floe_parquet_writer *w, const wr_col *c, const wr_stats *s,
                          pq_statistics *st, uint8_t **trunc, floe_arena *a, bool deprecated)
{
	memset(st, 0, sizeof *st);
	st->null_count = s->nulls;
	st->has_null_count = true;
	if (!s->has)
		return;
	size_t minlen, maxlen;
	bool mine, maxe, hasmax;
	uint8_t *mb = floe_arena_alloc(a, s->max.len + 1);
	if (!mb)
		return;
	wr_truncate(c, w->o.stats_truncate, s->min.data, s->min.len, s->max.data, s->max.len, mb,
		    &minlen, &mine, &maxlen, &maxe, &hasmax);
	uint8_t *mn = floe_arena_alloc(a, minlen + 1);
	if (!mn)
		return;
	if (minlen) /* an empty string has no bytes (data may be NULL) */
		memcpy(mn, s->min.data, minlen);
	st->min_value.ptr = mn;
	st->min_value.len = (uint32_t)minlen;
	st->is_min_value_exact = mine;
	st->has_is_min_value_exact = true;
	if (hasmax) {
		if (maxe && maxlen)
			memcpy(mb, s->max.data, maxlen);
		st->max_value.ptr = mb;
		st->max_value.len = (uint32_t)maxlen;
		st->is_max_value_exact = maxe;
		st->has_is_max_value_exact = true;
	}
	if (deprecated && (c->order == WR_SIGNED_INT || c->order == WR_FLOAT)) {
		st->min = st->min_value;
		st->max = st->max_value;
	}
	*trunc = mb;
}

/* Page statistics of a dictionary-encoded page from the entries it used
 * (each entry looked at once per page, marked in c->stamp). */
static int wr_dict_page_stats(wr_col *c, uint32_t *maxi_out)
{
	c->page_seq++;
	const uint32_t *ix = (const uint32_t *)c->idx.data;
	uint32_t *st = (uint32_t *)c->stamp.data;
	const uint64_t *off = (const uint64_t *)c->dict_off.data;
	bool ba = c->ptype == PQ_BYTE_ARRAY;
	uint32_t maxi = 0;
	int64_t nv = c->page_vals;
	for (int64_t i = 0; i < nv; i++) {
		uint32_t k = ix[i];
		if (k > maxi)
			maxi = k;
		if (st[k] == c->page_seq)
			continue;
		st[k] = c->page_seq;
		const uint8_t *p;
		size_t len;
		if (ba) {
			p = c->dict.data + off[k] + 4;
			len = (size_t)(off[k + 1] - off[k] - 4);
		} else {
			p = c->dict.data + (size_t)k * (size_t)c->width;
			len = (size_t)c->width;
		}
		if (wr_stats_add(&c->ps, c, p, len))
			return FLOE_ENOMEM;
	}
	*maxi_out = maxi;
	return 0;
}

static int wr_stats_fixed(wr_col *c, const uint8_t *v, int64_t n);

/* Encode, compress and keep the buffered page. The page body is built
 * once in w->comp (levels, then values) or, for a required PLAIN page,
 * compressed straight from c->vals; compressed bytes go straight into
 * c->chunk and the header into c->hdrs. */
static int wr_page_flush(floe_parquet_writer *w, wr_col *c, floe_error *err)
{
	int rc = 0;
	if (c->page_rows == 0)
		return 0;
	int nv = (int)c->page_vals;
	int nrows = (int)c->page_rows;
	int64_t nulls = c->page_rows - c->page_vals;
	bool v2 = w->o.data_page_version == 2;
	floe_buf *lv = &w->scratch, *enc = &w->comp;
	floe_buf_clear(lv);
	floe_buf_clear(enc);
	int encoding = PQ_PLAIN;

	/* definition levels: RLE hybrid, bit width 1; DataPage v1 prefixes
	 * them with their 4-byte length, v2 keeps them uncompressed apart */
	if (c->optional && (nulls ? pq_rle_encode(lv, (const uint32_t *)c->defs.data, (size_t)nrows, 1)
	                          : pq_rle_encode_repeat(lv, 1, (size_t)nrows, 1)))
		goto oom;
	if (!v2 && c->optional &&
	    (floe_buf_put_u32le(enc, (uint32_t)lv->len) || floe_buf_append(enc, lv->data, lv->len)))
		goto oom;
	size_t body_at = enc->len;
	const uint8_t *src = NULL; /* bytes to compress */
	size_t srclen = 0;

	c->ps.nulls = nulls;
	bool was_dict = c->use_dict;
	if (c->use_dict) {
		uint32_t maxi = 0;
		if (w->o.statistics && c->ptype != PQ_BYTE_ARRAY &&
		    c->ptype != PQ_FIXED_LEN_BYTE_ARRAY) {
			/* 4/8-byte values: look them up and take min/max typed */
			const uint32_t *ix = (const uint32_t *)c->idx.data;
			size_t width = (size_t)c->width;
			floe_buf_clear(&w->conv);
			if (floe_buf_reserve(&w->conv, (size_t)nv * width + 8))
				goto oom;
			uint8_t *d = w->conv.data;
			if (width == 8) {
				for (int i = 0; i < nv; i++) {
					maxi = ix[i] > maxi ? ix[i] : maxi;
					memcpy(d + (size_t)i * 8, c->dict.data + (size_t)ix[i] * 8, 8);
				}
			} else {
				for (int i = 0; i < nv; i++) {
					maxi = ix[i] > maxi ? ix[i] : maxi;
					memcpy(d + (size_t)i * 4, c->dict.data + (size_t)ix[i] * 4, 4);
				}
			}
			if (wr_stats_fixed(c, d, nv))
				goto oom;
		} else if (w->o.statistics) {
			if (wr_dict_page_stats(c, &maxi))
				goto oom;
		} else {
			const uint32_t *ix = (const uint32_t *)c->idx.data;
			for (int i = 0; i < nv; i++)
				maxi = ix[i] > maxi ? ix[i] : maxi;
		}
		/* bit width of the largest index, at least 1 */
		int bw = pq_bit_width(maxi);
		if (bw < 1)
			bw = 1;
		if (floe_buf_putc(enc, (uint8_t)bw) ||
		    pq_rle_encode(enc, (const uint32_t *)c->idx.data, (size_t)nv, bw))
			goto oom;
		encoding = PQ_RLE_DICTIONARY;
		c->enc_dict = true;
	} else if (c->ptype == PQ_BOOLEAN) {
		if (pq_plain_encode_bool(enc, c->vals.data, (size_t)nv))
			goto oom;
		c->enc_plain = true;
	} else {
		bool done = false;
		if (w->o.delta && (c->ptype == PQ_INT32 || c->ptype == PQ_INT64) && nv > 0) {
			if (c->ptype == PQ_INT32)
				rc = pq_delta_encode_i32(enc, (const int32_t *)c->vals.data, (size_t)nv);
			else
				rc = pq_delta_encode_i64(enc, (const int64_t *)c->vals.data, (size_t)nv);
			if (rc)
				goto oom;
			if (enc->len - body_at < c->vals.len) {
				encoding = PQ_DELTA_BINARY_PACKED;
				c->enc_delta = true;
				done = true;
			} else {
				enc->len = body_at;
			}
		}
		if (!done) {
			c->enc_plain = true;
			if (enc->len == 0) { /* nothing before the values: no copy */
				src = c->vals.data;
				srclen = c->vals.len;
			} else if (floe_buf_append(enc, c->vals.data, c->vals.len)) {
				goto oom;
			}
		}
	}
	if (!src) {
		src = enc->data;
		srclen = enc->len;
	}

	pq_page_header h;
	memset(&h, 0, sizeof h);
	size_t body_off = c->chunk.len;
	size_t uncompressed;
	if (v2) {
		if (floe_buf_append(&c->chunk, lv->data, lv->len))
			goto oom;
		uncompressed = lv->len + srclen;
		h.type = PQ_DATA_PAGE_V2;
		h.has_data_v2 = true;
		h.data_v2.num_values = nrows;
		h.data_v2.num_nulls = (int32_t)nulls;
		h.data_v2.num_rows = nrows;
		h.data_v2.encoding = encoding;
		h.data_v2.definition_levels_byte_length = (int32_t)lv->len;
		h.data_v2.repetition_levels_byte_length = 0;
		h.data_v2.is_compressed = w->o.codec != FLOE_PARQUET_UNCOMPRESSED;
	} else {
		uncompressed = srclen;
		h.type = PQ_DATA_PAGE;
		h.has_data = true;
		h.data.num_values = nrows;
		h.data.encoding = encoding;
		h.data.definition_level_encoding = PQ_RLE;
		h.data.repetition_level_encoding = PQ_RLE;
	}
	if ((rc = wr_compress(w, &c->chunk, src, srclen, err)))
		return rc;
	size_t body_len = c->chunk.len - body_off;
	if (uncompressed > INT32_MAX || body_len > INT32_MAX)
		return floe_error_set(err, FLOE_EINVALID, "parquet page larger than 2 GiB");
	h.uncompressed_page_size = (int32_t)uncompressed;
	h.compressed_page_size = (int32_t)body_len;

	wr_fix_zero(c, &c->ps);
	floe_arena_reset(w->page_arena);
	uint8_t *unused = NULL;
	if (w->o.statistics) {
		pq_statistics *st = v2 ? &h.data_v2.statistics : &h.data.statistics;
		wr_fill_stats(w, c, &c->ps, st, &unused, w->page_arena, false);
		if (v2)
			h.data_v2.has_statistics = true;
		else
			h.data.has_statistics = true;
	}
	size_t hdr_off = c->hdrs.len;
	if (pq_meta_encode_page_header(&c->hdrs, &h))
		goto oom;
	size_t hdr_len = c->hdrs.len - hdr_off;

	wr_page_loc loc;
	memset(&loc, 0, sizeof loc);
	loc.offset = c->data_bytes;
	loc.size = (int32_t)(hdr_len + body_len);
	loc.hdr_off = hdr_off;
	loc.hdr_len = (uint32_t)hdr_len;
	loc.body_off = body_off;
	loc.first_row = c->page_first_row;
	loc.nulls = nulls;
	loc.all_null = nv == 0;
	if (c->ps.has) {
		loc.has_minmax = true;
		loc.min_off = (uint32_t)c->pmm.len;
		loc.min_len = (uint32_t)c->ps.min.len;
		if (floe_buf_append(&c->pmm, c->ps.min.data, c->ps.min.len))
			goto oom;
		loc.max_off = (uint32_t)c->pmm.len;
		loc.max_len = (uint32_t)c->ps.max.len;
		if (floe_buf_append(&c->pmm, c->ps.max.data, c->ps.max.len))
			goto oom;
	}
	if (floe_buf_append(&c->pages, &loc, sizeof loc))
		goto oom;
	c->data_bytes += (int64_t)(hdr_len + body_len);
	c->chunk_uncompressed += (int64_t)(hdr_len + uncompressed);
	c->chunk_values += nrows;
	if (wr_stats_merge(&c->cs, c, &c->ps))
		goto oom;

	/* After the first dictionary page of a chunk: keep the dictionary
	 * only if it pays off (dictionary plus indices smaller than the
	 * PLAIN values); mostly-unique columns go PLAIN/DELTA right away
	 * instead of hashing every value of the chunk. */
	if (was_dict && !c->dict_checked && nv > 0) {
		c->dict_checked = true;
		int64_t dict_cost = (int64_t)c->dict.len +
				    (int64_t)nv * (pq_bit_width(c->ndict) + 1) / 8;
		if (dict_cost >= c->page_plain_bytes)
			c->use_dict = false;
	}

	c->page_first_row += nrows;
	c->page_rows = c->page_vals = 0;
	c->page_plain_bytes = 0;
	c->ps.has = false;
	c->ps.nulls = 0;
	floe_buf_clear(&c->idx);
	floe_buf_clear(&c->defs);
	floe_buf_clear(&c->vals);
	return 0;
oom:
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

/* ---- appending values ------------------------------------------------- */

/* Rows [from, from+n) of `col` as this column's PLAIN values, gathered for
 * the typed loops below: fixed 4/8-byte values contiguous in *fixed (the
 * batch's own memory when nothing needs converting or skipping), other
 * values as pointer/length pairs in w->vp/w->vl. rowpos[i] = row of value
 * i relative to `from` (only when the slice has nulls, else NULL). Nulls
 * in required columns were refused before (floe_parquet_writer_write). */
/* Rows [from, from+n) of col are all valid (null_count is not trusted:
 * the bitmap decides), whole bitmap bytes at a time. */
static bool wr_all_valid(const floe_column *col, int64_t from, int64_t n)
{
	if (!col->validity)
		return true;
	int64_t r = from, end = from + n;
	for (; r < end && (r & 7); r++)
		if (!((col->validity[r >> 3] >> (r & 7)) & 1))
			return false;
	for (; r + 8 <= end; r += 8)
		if (col->validity[r >> 3] != 0xFF)
			return false;
	for (; r < end; r++)
		if (!((col->validity[r >> 3] >> (r & 7)) & 1))
			return false;
	return true;
}

typedef struct wr_slice {
	int64_t nv;              /* non-null values */
	const uint8_t *fixed;    /* width 4/8 values, or NULL */
	const uint8_t **vp;      /* byte values */
	uint32_t *vl;
	const uint32_t *rowpos;
} wr_slice;

static bool wr_is_fast_fixed(const wr_col *c)
{
	return c->ptype == PQ_INT32 || c->ptype == PQ_INT64 || c->ptype == PQ_FLOAT ||
	       c->ptype == PQ_DOUBLE;
}

static int wr_gather(floe_parquet_writer *w, const wr_col *c, const floe_column *col, int64_t from,
                     int64_t n, wr_slice *s, floe_error *err)
{
	const floe_type *t = &c->field->type;
	bool nulls = !wr_all_valid(col, from, n);
	uint32_t *pos = NULL;
	memset(s, 0, sizeof *s);
	if (nulls) {
		floe_buf_clear(&w->rowpos);
		if (floe_buf_reserve(&w->rowpos, (size_t)n * 4))
			goto oom;
		pos = (uint32_t *)w->rowpos.data;
		int64_t k = 0;
		for (int64_t i = 0; i < n; i++) {
			int64_t r = from + i;
			pos[k] = (uint32_t)i;
			k += (col->validity[r >> 3] >> (r & 7)) & 1;
		}
		if (k == n)
			pos = NULL;
		s->nv = k;
	} else {
		s->nv = n;
	}
	s->rowpos = pos;
	int64_t nv = s->nv;
	bool dec9 = t->id == FLOE_TYPE_DECIMAL && t->precision <= 9;
	if (wr_is_fast_fixed(c) || c->ptype == PQ_BOOLEAN) {
		size_t width = c->ptype == PQ_BOOLEAN ? 1 : (size_t)c->width;
		if (!pos && !dec9 && c->ptype != PQ_BOOLEAN) {
			s->fixed = (const uint8_t *)col->values + (size_t)from * width;
			return 0;
		}
		floe_buf_clear(&w->conv);
		if (floe_buf_reserve(&w->conv, (size_t)nv * width + 8))
			goto oom;
		uint8_t *dst = w->conv.data;
		const uint8_t *base = (const uint8_t *)col->values;
		for (int64_t i = 0; i < nv; i++) {
			int64_t r = from + (pos ? pos[i] : i);
			if (c->ptype == PQ_BOOLEAN) {
				dst[i] = base[r] ? 1 : 0;
			} else if (dec9) {
				int64_t v;
				memcpy(&v, base + r * 8, 8);
				int32_t x = (int32_t)v;
				memcpy(dst + i * 4, &x, 4);
			} else {
				memcpy(dst + (size_t)i * width, base + (size_t)r * width, width);
			}
		}
		s->fixed = dst;
		return 0;
	}
	floe_buf_clear(&w->vp);
	floe_buf_clear(&w->vl);
	if (floe_buf_reserve(&w->vp, (size_t)nv * sizeof(uint8_t *)) ||
	    floe_buf_reserve(&w->vl, (size_t)nv * 4))
		goto oom;
	s->vp = (const uint8_t **)(void *)w->vp.data;
	s->vl = (uint32_t *)w->vl.data;
	if (c->ptype == PQ_BYTE_ARRAY) {
		const int64_t *off = col->offsets;
		for (int64_t i = 0; i < nv; i++) {
			int64_t r = from + (pos ? pos[i] : i);
			int64_t len = off[r + 1] - off[r];
			if (len < 0 || len > INT32_MAX)
				return floe_error_set(err, FLOE_EINVALID,
						      "column '%s': value of %lld bytes",
						      c->field->name, (long long)len);
			s->vp[i] = col->data + off[r];
			s->vl[i] = (uint32_t)len;
		}
	} else { /* FIXED_LEN_BYTE_ARRAY: decimal P>18 is the tail of 16 bytes */
		size_t stride = t->id == FLOE_TYPE_DECIMAL ? 16 : (size_t)c->width;
		size_t skip = stride - (size_t)c->width;
		const uint8_t *base = (const uint8_t *)col->values;
		for (int64_t i = 0; i < nv; i++) {
			int64_t r = from + (pos ? pos[i] : i);
			s->vp[i] = base + (size_t)r * stride + skip;
			s->vl[i] = (uint32_t)c->width;
		}
	}
	return 0;
oom:
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

/* Typed min and max (n bytes each) into the page statistics. */
static int wr_stats_pair(wr_col *c, const void *mn, const void *mx, size_t n)
{
	uint8_t a[8] = { 0 }, b[8] = { 0 };
	memcpy(a, mn, n);
	memcpy(b, mx, n);
	return wr_stats_add(&c->ps, c, a, n) || wr_stats_add(&c->ps, c, b, n) ? FLOE_ENOMEM : 0;
}

/* min/max of n fixed values in one typed pass, then into the page stats. */
static int wr_stats_fixed(wr_col *c, const uint8_t *v, int64_t n)
{
	if (n == 0)
		return 0;
	switch (c->ptype) {
	case PQ_BOOLEAN: {
		uint8_t mn = 1, mx = 0;
		for (int64_t i = 0; i < n; i++) {
			mn &= v[i];
			mx |= v[i];
		}
		return wr_stats_pair(c, &mn, &mx, 1);
	}
	case PQ_INT32: {
		int32_t mn, mx;
		memcpy(&mn, v, 4);
		mx = mn;
		for (int64_t i = 1; i < n; i++) {
			int32_t x;
			memcpy(&x, v + i * 4, 4);
			mn = x < mn ? x : mn;
			mx = x > mx ? x : mx;
		}
		return wr_stats_pair(c, &mn, &mx, 4);
	}
	case PQ_INT64: {
		int64_t mn, mx;
		memcpy(&mn, v, 8);
		mx = mn;
		for (int64_t i = 1; i < n; i++) {
			int64_t x;
			memcpy(&x, v + i * 8, 8);
			mn = x < mn ? x : mn;
			mx = x > mx ? x : mx;
		}
		return wr_stats_pair(c, &mn, &mx, 8);
	}
	case PQ_FLOAT: {
		/* NaN is never a min or max: comparisons with it are false */
		float mn = 0, mx = 0;
		bool any = false;
		for (int64_t i = 0; i < n; i++) {
			float x;
			memcpy(&x, v + i * 4, 4);
			if (x != x)
				continue;
			if (!any) {
				mn = mx = x;
				any = true;
			}
			mn = x < mn ? x : mn;
			mx = x > mx ? x : mx;
		}
		return any ? wr_stats_pair(c, &mn, &mx, 4) : 0;
	}
	default: { /* PQ_DOUBLE */
		double mn = 0, mx = 0;
		bool any = false;
		for (int64_t i = 0; i < n; i++) {
			double x;
			memcpy(&x, v + i * 8, 8);
			if (x != x)
				continue;
			if (!any) {
				mn = mx = x;
				any = true;
			}
			mn = x < mn ? x : mn;
			mx = x > mx ? x : mx;
		}
		return any ? wr_stats_pair(c, &mn, &mx, 8) : 0;
	}
	}
}

/* min/max of byte values, tracked as pointers, then into the page stats. */
static int wr_stats_bytes(wr_col *c, const uint8_t *const *p, const uint32_t *len, int64_t n)
{
	if (n == 0)
		return 0;
	int64_t mn = 0, mx = 0;
	if (c->order == WR_UNSIGNED_BYTES) { /* strings: the compare inlined */
		for (int64_t i = 1; i < n; i++) {
			if (wr_cmp_ub(p[i], len[i], p[mn], len[mn]) < 0)
				mn = i;
			else if (wr_cmp_ub(p[i], len[i], p[mx], len[mx]) > 0)
				mx = i;
		}
	} else {
		for (int64_t i = 1; i < n; i++) {
			if (wr_cmp(c->order, c->ptype, p[i], len[i], p[mn], len[mn]) < 0)
				mn = i;
			else if (wr_cmp(c->order, c->ptype, p[i], len[i], p[mx], len[mx]) > 0)
				mx = i;
		}
	}
	if (wr_stats_add(&c->ps, c, p[mn], len[mn]) || wr_stats_add(&c->ps, c, p[mx], len[mx]))
		return FLOE_ENOMEM;
	return 0;
}

/* Rows that still fit on the buffered page (at least 1). */
static int64_t wr_page_room(const floe_parquet_writer *w, const wr_col *c, const floe_column *col,
                            int64_t from, int64_t n)
{
	int64_t left = w->o.page_bytes - wr_page_estimate(c);
	int64_t rows = WR_PAGE_MAX_ROWS - c->page_rows;
	if (left < 1)
		left = 1;
	if (rows > n)
		rows = n;
	int64_t room;
	if (c->use_dict) {
		room = left * 8 / (pq_bit_width(c->ndict) + 1);
	} else if (c->ptype == PQ_BOOLEAN) {
		room = left * 8;
	} else if (c->ptype == PQ_BYTE_ARRAY) {
		/* walk the lengths up to the byte budget */
		const int64_t *off = col->offsets;
		int64_t k = 0, acc = 0;
		while (k < rows && acc < left) {
			acc += off[from + k + 1] - off[from + k] + 4;
			k++;
		}
		room = k;
	} else {
		room = (left + c->width - 1) / c->width;
	}
	if (room < 1)
		room = 1;
	return room < rows ? room : rows;
}

/* Append `nrows` definition levels for rows [from, from+nrows). */
static int wr_levels(wr_col *c, const floe_column *col, int64_t from, int64_t nrows)
{
	if (!c->optional || nrows == 0)
		return 0;
	if (floe_buf_reserve(&c->defs, (size_t)nrows * 4))
		return FLOE_ENOMEM;
	uint32_t *d = (uint32_t *)(void *)(c->defs.data + c->defs.len);
	if (!wr_all_valid(col, from, nrows)) {
		for (int64_t i = 0; i < nrows; i++) {
			int64_t r = from + i;
			d[i] = (col->validity[r >> 3] >> (r & 7)) & 1;
		}
	} else {
		for (int64_t i = 0; i < nrows; i++)
			d[i] = 1;
	}
	c->defs.len += (size_t)nrows * 4;
	return 0;
}

/* Append up to n rows from `from`; *used = rows taken (fewer than n when
 * the dictionary filled up: the caller flushes and goes on PLAIN). */
static int wr_append_slice(floe_parquet_writer *w, wr_col *c, const floe_column *col, int64_t from,
                           int64_t n, int64_t *used, floe_error *err)
{
	wr_slice s;
	int rc = wr_gather(w, c, col, from, n, &s, err);
	if (rc)
		return rc;
	int64_t nv = s.nv, took = nv;
	if (nv == 0) {
		/* only nulls: levels alone */
	} else if (c->use_dict) {
		if ((!c->slots && wr_dict_grow(c)) || floe_buf_reserve(&c->idx, (size_t)nv * 4))
			goto oom;
		floe_buf_clear(&w->hashes);
		floe_buf_clear(&w->keys8);
		if (floe_buf_reserve(&w->hashes, (size_t)nv * 4) ||
		    (!s.fixed && floe_buf_reserve(&w->keys8, (size_t)nv * 8)))
			goto oom;
		uint32_t *out = (uint32_t *)(void *)(c->idx.data + c->idx.len);
		uint32_t *hs = (uint32_t *)(void *)w->hashes.data;
		int64_t lim = w->o.dictionary_bytes;
		if (s.fixed && c->width == 8) {
			for (int64_t i = 0; i < nv; i++)
				hs[i] = wr_mix(wr_load_fixed(s.fixed + i * 8, 8));
			took = wr_dict_fixed(c, s.fixed, nv, 8, out, hs, lim);
		} else if (s.fixed) {
			for (int64_t i = 0; i < nv; i++)
				hs[i] = wr_mix(wr_load_fixed(s.fixed + i * 4, 4));
			took = wr_dict_fixed(c, s.fixed, nv, 4, out, hs, lim);
		} else {
			/* a short value's word once, for its hash and its probe */
			uint64_t *k8 = (uint64_t *)(void *)w->keys8.data;
			for (int64_t i = 0; i < nv; i++) {
				if (s.vl[i] <= 8) {
					k8[i] = floe_load_key8(s.vp[i], s.vl[i]);
					hs[i] = wr_hash_key8(k8[i], s.vl[i]);
				} else {
					hs[i] = wr_hash_bytes(s.vp[i], s.vl[i]);
				}
			}
			took = wr_dict_bytes(c, s.vp, s.vl, nv, out, hs, k8, lim);
		}
		if (took < 0)
			goto oom;
		c->idx.len += (size_t)took * 4;
		if (s.fixed) {
			c->page_plain_bytes += took * c->width;
		} else {
			int64_t b = 0;
			for (int64_t i = 0; i < took; i++)
				b += s.vl[i];
			c->page_plain_bytes += b + (c->ptype == PQ_BYTE_ARRAY ? 4 * took : 0);
		}
	} else if (s.fixed) {
		size_t width = c->ptype == PQ_BOOLEAN ? 1 : (size_t)c->width;
		if (floe_buf_append(&c->vals, s.fixed, (size_t)nv * width))
			goto oom;
		if (w->o.statistics && wr_stats_fixed(c, s.fixed, nv))
			goto oom;
	} else {
		bool ba = c->ptype == PQ_BYTE_ARRAY;
		size_t total = 0;
		for (int64_t i = 0; i < nv; i++)
			total += s.vl[i] + (ba ? 4 : 0);
		if (floe_buf_reserve(&c->vals, total))
			goto oom;
		uint8_t *d = c->vals.data + c->vals.len;
		for (int64_t i = 0; i < nv; i++) {
			uint32_t len = s.vl[i];
			if (ba) {
				memcpy(d, &len, 4); /* little-endian hosts only (util/buf.h) */
				d += 4;
			}
			if (len) /* empty values may point nowhere */
				memcpy(d, s.vp[i], len);
			d += len;
		}
		c->vals.len += total;
		if (w->o.statistics && wr_stats_bytes(c, s.vp, s.vl, nv))
			goto oom;
	}
	int64_t rows = took == nv ? n : (s.rowpos ? (int64_t)s.rowpos[took] : took);
	if (wr_levels(c, col, from, rows))
		goto oom;
	c->page_vals += took;
	c->page_rows += rows;
	*used = rows;
	return 0;
oom:
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

#define WR_DICT_PROBE 4096

/* Append rows [from, to) of `col`, cutting a page whenever the buffered one
 * reaches page_bytes (estimated, uncompressed) or WR_PAGE_MAX_ROWS. */
static int wr_append_rows(floe_parquet_writer *w, wr_col *c, const floe_column *col,
                          int64_t from, int64_t to, floe_error *err)
{
	int rc;
	for (int64_t r = from; r < to;) {
		int64_t n = wr_page_room(w, c, col, r, to - r), used = 0;
		/* before the first page's pay-off check, go in small steps so a
		 * column of distinct values (ids) is caught early */
		bool probing = c->use_dict && !c->dict_checked;
		if (probing && n > WR_DICT_PROBE)
			n = WR_DICT_PROBE;
		if ((rc = wr_append_slice(w, c, col, r, n, &used, err)))
			return rc;
		r += used;
		if (probing && used == n && c->page_vals >= WR_DICT_PROBE &&
		    (int64_t)c->ndict == c->page_vals) {
			/* every value so far is new: end the page now, and its
			 * pay-off check moves the chunk to PLAIN instead of hashing a
			 * whole page of unique values (once per chunk, so per file
			 * when a table writes many small files) */
			if ((rc = wr_page_flush(w, c, err)))
				return rc;
			continue;
		}
		if (used < n) {
			/* the dictionary is full: flush its page, go on PLAIN */
			if ((rc = wr_page_flush(w, c, err)))
				return rc;
			c->use_dict = false;
			continue;
		}
		if ((wr_page_estimate(c) >= w->o.page_bytes || c->page_rows >= WR_PAGE_MAX_ROWS) &&
		    (rc = wr_page_flush(w, c, err)))
			return rc;
	}
	return 0;
}

/* ---- row groups ------------------------------------------------------- */

static int wr_boundary(const wr_col *c, const wr_page_loc *pl, uint32_t n)
{
	bool asc = true, desc = true;
	const wr_page_loc *prev = NULL;
	for (uint32_t i = 0; i < n; i++) {
		if (!pl[i].has_minmax)
			continue;
		if (prev) {
			const uint8_t *mm = c->pmm.data;
			int a = wr_cmp(c->order, c->ptype, mm + pl[i].min_off, pl[i].min_len,
				       mm + prev->min_off, prev->min_len);
			int b = wr_cmp(c->order, c->ptype, mm + pl[i].max_off, pl[i].max_len,
				       mm + prev->max_off, prev->max_len);
			if (a < 0 || b < 0)
				asc = false;
			if (a > 0 || b > 0)
				desc = false;
		}
		prev = &pl[i];
	}
	return asc ? PQ_ASCENDING : desc ? PQ_DESCENDING : PQ_UNORDERED;
}

static int wr_index(floe_parquet_writer *w, wr_col *c, int64_t chunk_data_pos, floe_arena *a)
{
	const wr_page_loc *pl = (const wr_page_loc *)c->pages.data;
	uint32_t n = (uint32_t)(c->pages.len / sizeof *pl);
	pq_column_index ci;
	pq_offset_index oi;
	memset(&ci, 0, sizeof ci);
	memset(&oi, 0, sizeof oi);
	ci.num_pages = n;
	ci.null_pages = floe_arena_calloc(a, n ? n : 1, sizeof(bool));
	ci.min_values = floe_arena_calloc(a, n ? n : 1, sizeof(pq_bytes));
	ci.max_values = floe_arena_calloc(a, n ? n : 1, sizeof(pq_bytes));
	ci.null_counts = floe_arena_calloc(a, n ? n : 1, sizeof(int64_t));
	oi.pages = floe_arena_calloc(a, n ? n : 1, sizeof(pq_page_location));
	oi.num_pages = n;
	if (!ci.null_pages || !ci.min_values || !ci.max_values || !ci.null_counts || !oi.pages)
		return FLOE_ENOMEM;
	static const uint8_t empty[1] = { 0 };
	bool ok = true;
	for (uint32_t i = 0; i < n; i++) {
		ci.null_counts[i] = pl[i].nulls;
		ci.null_pages[i] = pl[i].all_null;
		if (!pl[i].all_null && !pl[i].has_minmax)
			ok = false; /* only NaNs: no valid bounds for the page */
		ci.min_values[i].ptr = empty;
		ci.max_values[i].ptr = empty;
		if (pl[i].has_minmax) {
			size_t minlen, maxlen;
			bool me, xe, hm;
			uint8_t *mb = floe_arena_alloc(a, pl[i].max_len + 1);
			uint8_t *mn = floe_arena_alloc(a, pl[i].min_len + 1);
			if (!mb || !mn)
				return FLOE_ENOMEM;
			wr_truncate(c, w->o.stats_truncate, c->pmm.data + pl[i].min_off, pl[i].min_len,
				    c->pmm.data + pl[i].max_off, pl[i].max_len, mb, &minlen, &me,
				    &maxlen, &xe, &hm);
			if (!hm)
				ok = false; /* no upper bound: cannot write a column index */
			if (minlen)
				memcpy(mn, c->pmm.data + pl[i].min_off, minlen);
			if (xe && maxlen)
				memcpy(mb, c->pmm.data + pl[i].max_off, maxlen);
			ci.min_values[i].ptr = mn;
			ci.min_values[i].len = (uint32_t)minlen;
			ci.max_values[i].ptr = mb;
			ci.max_values[i].len = (uint32_t)maxlen;
		}
		oi.pages[i].offset = chunk_data_pos + pl[i].offset;
		oi.pages[i].compressed_page_size = pl[i].size;
		oi.pages[i].first_row_index = pl[i].first_row;
	}
	ci.boundary_order = wr_boundary(c, pl, n);
	int64_t pos[4];
	pos[0] = ok && w->o.statistics ? (int64_t)w->ci_all.len : -1;
	if (ok && w->o.statistics && pq_meta_encode_column_index(&w->ci_all, &ci))
		return FLOE_ENOMEM;
	pos[1] = ok && w->o.statistics ? (int64_t)w->ci_all.len - pos[0] : 0;
	pos[2] = (int64_t)w->oi_all.len;
	if (pq_meta_encode_offset_index(&w->oi_all, &oi))
		return FLOE_ENOMEM;
	pos[3] = (int64_t)w->oi_all.len - pos[2];
	return floe_buf_append(&w->ci_pos, pos, sizeof pos) ? FLOE_ENOMEM : 0;
}

static void wr_chunk_reset(floe_parquet_writer *w, wr_col *c)
{
	c->use_dict = w->o.dictionary && c->ptype != PQ_BOOLEAN;
	c->ndict = 0;
	if (c->slots)
		memset(c->slots, 0, c->nslots * sizeof *c->slots);
	floe_buf_clear(&c->dict);
	floe_buf_clear(&c->dict_off);
	floe_buf_clear(&c->stamp);
	floe_buf_clear(&c->ehash);
	floe_buf_clear(&c->ekey);
	floe_buf_clear(&c->elen);
	floe_buf_clear(&c->hdrs);
	c->data_bytes = 0;
	c->dict_checked = false;
	c->page_plain_bytes = 0;
	uint64_t zero = 0;
	(void)floe_buf_append(&c->dict_off, &zero, 8); /* reserved in open */
	c->page_seq = 0;
	floe_buf_clear(&c->chunk);
	floe_buf_clear(&c->pages);
	floe_buf_clear(&c->pmm);
	c->chunk_uncompressed = c->chunk_values = 0;
	c->cs.has = false;
	c->cs.nulls = 0;
	c->enc_plain = c->enc_delta = c->enc_dict = false;
	c->page_first_row = 0;
}

/* XXH64 of each non-null value's PLAIN bytes (BYTE_ARRAY without its
 * length, numbers little-endian at their physical width). */
static int wr_bloom_hash(wr_col *c, const floe_column *col, int64_t n)
{
	if (floe_buf_reserve(&c->bhash, (size_t)n * 8))
		return FLOE_ENOMEM;
	uint64_t *h = (uint64_t *)(c->bhash.data + c->bhash.len);
	int64_t k = 0;
	int w = col->offsets ? 0 : floe_type_value_width(&col->type);
	for (int64_t r = 0; r < n; r++) {
		if (!floe_column_is_valid(col, r))
			continue;
		if (col->offsets)
			h[k++] = pq_bloom_hash(col->data + col->offsets[r],
			                       (size_t)(col->offsets[r + 1] - col->offsets[r]));
		else
			h[k++] = pq_bloom_hash((const uint8_t *)col->values + (size_t)r * (size_t)w, (size_t)w);
	}
	c->bhash.len += (size_t)k * 8;
	return 0;
}

/* The row group's filter of column `c`: sized by its distinct hashes,
 * written where the file is now; its offset and length into `m`. */
static int wr_bloom_emit(floe_parquet_writer *w, wr_col *c, pq_column_meta *m, floe_error *err)
{
	size_t n = c->bhash.len / 8;
	uint64_t *h = (uint64_t *)c->bhash.data;
	if (n == 0)
		return 0;
	/* distinct hashes, counted in sorted order */
	uint64_t *scratch = malloc(n * sizeof *scratch);
	if (!scratch)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	floe_sort_u64(h, scratch, n);
	free(scratch);
	size_t d = 1;
	for (size_t i = 1; i < n; i++)
		if (h[i] != h[d - 1])
			h[d++] = h[i];
	uint32_t max = w->o.bloom_max_bytes > 0 && w->o.bloom_max_bytes < PQ_BLOOM_MAX_BYTES
	                       ? (uint32_t)w->o.bloom_max_bytes
	                       : PQ_BLOOM_MAX_BYTES;
	uint32_t nbytes = pq_bloom_size(d, w->o.bloom_fpp, max);
	uint8_t *bits = calloc(nbytes, 1);
	if (!bits)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	for (size_t i = 0; i < d; i++)
		pq_bloom_insert(bits, nbytes, h[i]);
	floe_buf_clear(&w->tmp);
	int rc = pq_bloom_encode_header(&w->tmp, nbytes) ? FLOE_ENOMEM : 0;
	int64_t at = w->file_pos;
	if (rc)
		rc = floe_error_set(err, rc, "out of memory");
	else if (!(rc = wr_emit(w, w->tmp.data, w->tmp.len, err)))
		rc = wr_emit(w, bits, nbytes, err);
	free(bits);
	if (rc)
		return rc;
	m->bloom_filter_offset = at;
	m->has_bloom_filter_offset = true;
	m->bloom_filter_length = (int32_t)(w->file_pos - at);
	m->has_bloom_filter_length = true;
	floe_buf_clear(&c->bhash);
	return 0;
}

static int wr_row_group(floe_parquet_writer *w, floe_error *err)
{
	int rc;
	if (w->rg_rows == 0)
		return 0;
	pq_row_group rg;
	memset(&rg, 0, sizeof rg);
	rg.num_rows = w->rg_rows;
	rg.num_columns = (uint32_t)w->ncols;
	rg.columns = floe_arena_calloc(w->arena, (size_t)w->ncols, sizeof *rg.columns);
	if (!rg.columns)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	rg.file_offset = w->file_pos;
	rg.has_file_offset = true;
	rg.ordinal = (int16_t)(w->rgs.len / sizeof rg);
	rg.has_ordinal = w->rgs.len / sizeof rg < 32768;
	for (int i = 0; i < w->ncols; i++) {
		wr_col *c = &w->cols[i];
		if ((rc = wr_page_flush(w, c, err)))
			return rc;
		pq_column_chunk *cc = &rg.columns[i];
		pq_column_meta *m = &cc->meta;
		cc->has_meta = true;
		m->type = c->ptype;
		m->codec = w->o.codec;
		m->num_values = c->chunk_values;
		m->path_len = 1;
		m->path_in_schema = floe_arena_alloc(w->arena, sizeof(pq_bytes));
		if (!m->path_in_schema)
			goto oom;
		m->path_in_schema[0].ptr = (const uint8_t *)c->field->name;
		m->path_in_schema[0].len = (uint32_t)strlen(c->field->name);
		int64_t start = w->file_pos;
		int64_t dict_size = 0, dict_unc = 0;
		if (c->enc_dict) {
			floe_buf_clear(&w->comp);
			if ((rc = wr_compress(w, &w->comp, c->dict.data, c->dict.len, err)))
				return rc;
			pq_page_header h;
			memset(&h, 0, sizeof h);
			h.type = PQ_DICTIONARY_PAGE;
			h.uncompressed_page_size = (int32_t)c->dict.len;
			h.compressed_page_size = (int32_t)w->comp.len;
			h.has_dict = true;
			h.dict.num_values = (int32_t)c->ndict;
			h.dict.encoding = PQ_PLAIN;
			floe_buf_clear(&w->tmp);
			if (pq_meta_encode_page_header(&w->tmp, &h))
				goto oom;
			if ((rc = wr_emit(w, w->tmp.data, w->tmp.len, err)) ||
			    (rc = wr_emit(w, w->comp.data, w->comp.len, err)))
				return rc;
			dict_size = (int64_t)(w->tmp.len + w->comp.len);
			dict_unc = (int64_t)(w->tmp.len + c->dict.len);
			m->dictionary_page_offset = start;
			m->has_dictionary_page_offset = true;
		}
		int64_t data_pos = w->file_pos;
		const wr_page_loc *pl = (const wr_page_loc *)c->pages.data;
		size_t np = c->pages.len / sizeof *pl;
		for (size_t p = 0; p < np; p++) {
			if ((rc = wr_emit(w, c->hdrs.data + pl[p].hdr_off, pl[p].hdr_len, err)) ||
			    (rc = wr_emit(w, c->chunk.data + pl[p].body_off,
					  (size_t)pl[p].size - pl[p].hdr_len, err)))
				return rc;
		}
		m->data_page_offset = data_pos;
		m->total_compressed_size = dict_size + c->data_bytes;
		m->total_uncompressed_size = dict_unc + c->chunk_uncompressed;
		cc->file_offset = start;
		int32_t enc[4];
		uint32_t ne = 0;
		if (c->enc_plain || c->enc_dict)
			enc[ne++] = PQ_PLAIN;
		enc[ne++] = PQ_RLE;
		if (c->enc_dict)
			enc[ne++] = PQ_RLE_DICTIONARY;
		if (c->enc_delta)
			enc[ne++] = PQ_DELTA_BINARY_PACKED;
		m->encodings = floe_arena_alloc(w->arena, sizeof enc);
		if (!m->encodings)
			goto oom;
		memcpy(m->encodings, enc, sizeof enc);
		m->num_encodings = ne;
		if (w->o.statistics) {
			uint8_t *unused;
			if (wr_stats_merge(&c->fs, c, &c->cs))
				goto oom;
			wr_fix_zero(c, &c->cs);
			wr_fill_stats(w, c, &c->cs, &m->statistics, &unused, w->arena, true);
			m->has_statistics = true;
		}
		rg.total_byte_size += m->total_uncompressed_size;
		rg.total_compressed_size += m->total_compressed_size;
		if (w->o.page_index && wr_index(w, c, data_pos, w->arena))
			goto oom;
		wr_chunk_reset(w, c);
	}
	for (int i = 0; i < w->ncols; i++)
		if (w->cols[i].bloom && (rc = wr_bloom_emit(w, &w->cols[i], &rg.columns[i].meta, err)))
			return rc;
	rg.has_total_compressed_size = true;
	if (floe_buf_append(&w->rgs, &rg, sizeof rg))
		goto oom;
	w->rg_rows = 0;
	return 0;
oom:
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

static int64_t wr_rg_estimate(const floe_parquet_writer *w)
{
	int64_t n = 0;
	for (int i = 0; i < w->ncols; i++) {
		const wr_col *c = &w->cols[i];
		n += c->chunk_uncompressed + wr_page_estimate(c) + (int64_t)c->dict.len +
		     (int64_t)c->defs.len / 32;
	}
	return n;
}

/* ---- public API ------------------------------------------------------- */

static int wr_map(wr_col *c, const floe_field *f, floe_error *err)
{
	const floe_type *t = &f->type;
	c->order = WR_SIGNED_INT;
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN: c->ptype = PQ_BOOLEAN; c->width = 1; c->order = WR_BOOL; break;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE: c->ptype = PQ_INT32; c->width = 4; break;
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS: c->ptype = PQ_INT64; c->width = 8; break;
	case FLOE_TYPE_FLOAT: c->ptype = PQ_FLOAT; c->width = 4; c->order = WR_FLOAT; break;
	case FLOE_TYPE_DOUBLE: c->ptype = PQ_DOUBLE; c->width = 8; c->order = WR_FLOAT; break;
	case FLOE_TYPE_DECIMAL:
		if (t->precision < 1 || t->precision > 38 || t->scale < 0 || t->scale > t->precision)
			return floe_error_set(err, FLOE_EINVALID, "column '%s': bad decimal(%d,%d)",
					      f->name, t->precision, t->scale);
		if (t->precision <= 9) {
			c->ptype = PQ_INT32; c->width = 4;
		} else if (t->precision <= 18) {
			c->ptype = PQ_INT64; c->width = 8;
		} else {
			/* minimal bytes holding 10^P - 1 in two's complement */
			int bytes = 1;
			double lim = 1.0;
			for (int p = 0; p < t->precision; p++)
				lim *= 10.0;
			while (lim > 1.0) {
				double cap = 1.0;
				for (int b = 0; b < 8 * bytes - 1; b++)
					cap *= 2.0;
				if (cap >= lim)
					break;
				bytes++;
			}
			c->ptype = PQ_FIXED_LEN_BYTE_ARRAY;
			c->width = bytes > 16 ? 16 : bytes;
			c->order = WR_SIGNED_BYTES;
		}
		break;
	case FLOE_TYPE_UUID:
		c->ptype = PQ_FIXED_LEN_BYTE_ARRAY; c->width = 16; c->order = WR_UNSIGNED_BYTES; break;
	case FLOE_TYPE_FIXED:
		if (t->width <= 0)
			return floe_error_set(err, FLOE_EINVALID, "column '%s': bad fixed width", f->name);
		c->ptype = PQ_FIXED_LEN_BYTE_ARRAY; c->width = t->width; c->order = WR_UNSIGNED_BYTES;
		break;
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_JSON:
		c->ptype = PQ_BYTE_ARRAY; c->width = 0; c->order = WR_UNSIGNED_BYTES; break;
	default:
		return floe_error_set(err, FLOE_EUNSUPPORTED, "column '%s': type %d not writable",
				      f->name, (int)t->id);
	}
	if (t->is_unsigned)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "column '%s': unsigned ints not writable",
				      f->name);
	return 0;
}

static void wr_element(pq_schema_element *e, const wr_col *c)
{
	const floe_field *f = c->field;
	const floe_type *t = &f->type;
	memset(e, 0, sizeof *e);
	e->type = c->ptype;
	e->type_length = c->ptype == PQ_FIXED_LEN_BYTE_ARRAY ? c->width : 0;
	e->repetition = f->required ? PQ_REQUIRED : PQ_OPTIONAL;
	e->name.ptr = (const uint8_t *)f->name;
	e->name.len = (uint32_t)strlen(f->name);
	e->converted_type = -1;
	e->field_id = f->field_id;
	e->has_field_id = f->field_id >= 0;
	pq_logical_type *lt = &e->logical;
	switch (t->id) {
	case FLOE_TYPE_STRING: lt->kind = PQ_LT_STRING; e->converted_type = PQ_CT_UTF8; break;
	case FLOE_TYPE_JSON: lt->kind = PQ_LT_JSON; e->converted_type = PQ_CT_JSON; break;
	case FLOE_TYPE_UUID: lt->kind = PQ_LT_UUID; break;
	case FLOE_TYPE_DATE: lt->kind = PQ_LT_DATE; e->converted_type = PQ_CT_DATE; break;
	case FLOE_TYPE_TIME:
		lt->kind = PQ_LT_TIME; lt->unit = PQ_UNIT_MICROS; lt->is_adjusted_to_utc = false;
		/* TIME_MICROS only for adjusted TIME per LogicalTypes.md compat rules */
		break;
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		lt->kind = PQ_LT_TIMESTAMP;
		lt->is_adjusted_to_utc = t->id == FLOE_TYPE_TIMESTAMPTZ || t->id == FLOE_TYPE_TIMESTAMPTZ_NS;
		lt->unit = (t->id == FLOE_TYPE_TIMESTAMP || t->id == FLOE_TYPE_TIMESTAMPTZ) ?
				   PQ_UNIT_MICROS : PQ_UNIT_NANOS;
		if (lt->unit == PQ_UNIT_MICROS && lt->is_adjusted_to_utc)
			e->converted_type = PQ_CT_TIMESTAMP_MICROS;
		break;
	case FLOE_TYPE_DECIMAL:
		lt->kind = PQ_LT_DECIMAL;
		lt->precision = t->precision;
		lt->scale = t->scale;
		e->converted_type = PQ_CT_DECIMAL;
		e->precision = t->precision;
		e->scale = t->scale;
		e->has_precision = e->has_scale = true;
		break;
	default:
		break;
	}
}

int floe_parquet_writer_open(floe_parquet_writer **out, const char *path,
                             const floe_schema *schema,
                             const floe_parquet_write_options *opts, floe_error *err)
{
	int rc = 0;
	*out = NULL;
	if (!path || !schema || schema->nfields <= 0)
		return floe_error_set(err, FLOE_EINVALID, "parquet writer: no path or empty schema");
	floe_parquet_writer *w = calloc(1, sizeof *w);
	if (!w)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	w->fd = -1;
	if (opts)
		w->o = *opts;
	else
		floe_parquet_write_options_init(&w->o);
	if (w->o.data_page_version != 2)
		w->o.data_page_version = 1;
	if (w->o.row_group_bytes <= 0)
		w->o.row_group_bytes = 128 << 20;
	if (w->o.page_bytes <= 0)
		w->o.page_bytes = 1 << 20;
	if (w->o.dictionary_bytes <= 0)
		w->o.dictionary = false;
	if (w->o.codec != FLOE_PARQUET_UNCOMPRESSED && !pq_codec_can_write(w->o.codec)) {
		rc = floe_error_set(err, FLOE_EINVALID, "parquet codec %s cannot be written",
				    floe_parquet_codec_name(w->o.codec));
		goto done;
	}
	w->arena = floe_arena_new(64 * 1024);
	w->page_arena = floe_arena_new(1024);
	w->path = strdup(path);
	if (!w->arena || !w->page_arena || !w->path)
		goto oom;
	w->o.created_by = floe_arena_strdup(w->arena, w->o.created_by ? w->o.created_by
								       : "floe version 0.1.0");
	w->ncols = schema->nfields;
	w->schema.nfields = schema->nfields;
	w->schema.fields = floe_arena_calloc(w->arena, (size_t)w->ncols, sizeof(floe_field));
	w->cols = calloc((size_t)w->ncols, sizeof *w->cols);
	if (!w->schema.fields || !w->cols || !w->o.created_by)
		goto oom;
	for (int i = 0; i < w->ncols; i++) {
		floe_field *f = &w->schema.fields[i];
		*f = schema->fields[i];
		f->name = floe_arena_strdup(w->arena, schema->fields[i].name ? schema->fields[i].name : "");
		if (!f->name)
			goto oom;
		wr_col *c = &w->cols[i];
		c->field = f;
		c->optional = !f->required;
		if ((rc = wr_map(c, f, err)))
			goto done;
		wr_chunk_reset(w, c);
		for (int k = 0; k < w->o.nbloom_columns; k++)
			if (w->o.bloom_columns[k] && strcmp(w->o.bloom_columns[k], f->name) == 0)
				c->bloom = true;
		if (c->bloom && (f->type.id == FLOE_TYPE_BOOLEAN || f->type.id == FLOE_TYPE_DECIMAL)) {
			rc = floe_error_set(err, FLOE_EUNSUPPORTED, "%s: no Bloom filter for %s column '%s'",
			                    path, f->type.id == FLOE_TYPE_BOOLEAN ? "boolean" : "decimal",
			                    f->name);
			goto done;
		}
	}
	for (int k = 0; k < w->o.nbloom_columns; k++) {
		int i;
		for (i = 0; i < w->ncols; i++)
			if (w->o.bloom_columns[k] && strcmp(w->o.bloom_columns[k], w->schema.fields[i].name) == 0)
				break;
		if (i == w->ncols) {
			rc = floe_error_set(err, FLOE_ENOTFOUND, "%s: Bloom filter column '%s' is not in the "
			                    "schema", path, w->o.bloom_columns[k] ? w->o.bloom_columns[k] : "");
			goto done;
		}
	}
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		rc = floe_error_set(err, FLOE_EIO, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (floe_buf_reserve(&w->out, WR_OUT_BUF))
		goto oom;
	if ((rc = wr_emit(w, "PAR1", 4, err)))
		goto done;
	*out = w;
	return 0;
oom:
	rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
done:
	floe_parquet_writer_abort(w);
	return rc;
}

int floe_parquet_writer_write(floe_parquet_writer *w, const floe_batch *b, floe_error *err)
{
	int rc;
	if (!w || !b)
		return floe_error_set(err, FLOE_EINVALID, "parquet writer: NULL argument");
	if (b->ncols != w->ncols)
		return floe_error_set(err, FLOE_EINVALID, "parquet writer: batch has %d columns, schema %d",
				      b->ncols, w->ncols);
	for (int i = 0; i < w->ncols; i++)
		if (b->cols[i].type.id != w->cols[i].field->type.id)
			return floe_error_set(err, FLOE_EINVALID,
					      "parquet writer: column %d type differs from schema", i);
	/* refuse nulls in required columns before anything is buffered */
	for (int i = 0; i < w->ncols; i++) {
		const floe_column *col = &b->cols[i];
		if (!w->cols[i].optional && !wr_all_valid(col, 0, b->nrows))
			return floe_error_set(err, FLOE_EINVALID, "null in required column '%s'",
					      w->cols[i].field->name);
	}
	for (int i = 0; i < w->ncols; i++)
		if (w->cols[i].bloom && (rc = wr_bloom_hash(&w->cols[i], &b->cols[i], b->nrows)))
			return floe_error_set(err, rc, "out of memory");
	for (int64_t r = 0; r < b->nrows;) {
		int64_t end = r + WR_SLICE_ROWS < b->nrows ? r + WR_SLICE_ROWS : b->nrows;
		for (int i = 0; i < w->ncols; i++) {
			wr_col *c = &w->cols[i];
			if ((rc = wr_append_rows(w, c, &b->cols[i], r, end, err)))
				return rc;
		}
		w->rg_rows += end - r;
		w->total_rows += end - r;
		r = end;
		if (wr_rg_estimate(w) >= w->o.row_group_bytes && (rc = wr_row_group(w, err)))
			return rc;
	}
	return 0;
}

int floe_parquet_writer_flush_row_group(floe_parquet_writer *w, floe_error *err)
{
	return wr_row_group(w, err);
}

int64_t floe_parquet_writer_column_bytes(const floe_parquet_writer *w, int col)
{
	if (col < 0 || col >= w->ncols)
		return -1;
	const pq_row_group *rgs = (const pq_row_group *)w->rgs.data;
	size_t nrg = w->rgs.len / sizeof *rgs;
	int64_t total = 0;
	for (size_t g = 0; g < nrg; g++)
		total += rgs[g].columns[col].meta.total_compressed_size;
	return total;
}

int floe_parquet_writer_column_minmax(const floe_parquet_writer *w, int col,
                                      floe_parquet_minmax *out)
{
	memset(out, 0, sizeof *out);
	if (col < 0 || col >= w->ncols || !w->o.statistics)
		return -1;
	const wr_col *c = &w->cols[col];
	out->nulls = c->fs.nulls;
	if (!c->fs.has)
		return 0;
	out->min = c->fs.min.data;
	out->min_len = c->fs.min.len;
	out->max = c->fs.max.data;
	out->max_len = c->fs.max.len;
	return 1;
}

int64_t floe_parquet_writer_bytes(const floe_parquet_writer *w)
{
	int64_t n = w->file_pos;
	for (int c = 0; c < w->ncols; c++)
		n += w->cols[c].data_bytes;
	return n;
}

int floe_parquet_writer_set_kv(floe_parquet_writer *w, const char *key, const char *value,
                               floe_error *err)
{
	if (!w || !key)
		return floe_error_set(err, FLOE_EINVALID, "parquet writer: NULL key");
	pq_key_value *kv = (pq_key_value *)w->kvs.data;
	size_t n = w->kvs.len / sizeof *kv;
	pq_key_value nk;
	memset(&nk, 0, sizeof nk);
	char *k = floe_arena_strdup(w->arena, key);
	char *v = value ? floe_arena_strdup(w->arena, value) : NULL;
	if (!k || (value && !v))
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	nk.key.ptr = (const uint8_t *)k;
	nk.key.len = (uint32_t)strlen(k);
	if (v) {
		nk.value.ptr = (const uint8_t *)v;
		nk.value.len = (uint32_t)strlen(v);
	}
	for (size_t i = 0; i < n; i++) {
		if (kv[i].key.len == nk.key.len && memcmp(kv[i].key.ptr, k, nk.key.len) == 0) {
			kv[i] = nk;
			return 0;
		}
	}
	return floe_buf_append(&w->kvs, &nk, sizeof nk) ?
		       floe_error_set(err, FLOE_ENOMEM, "out of memory") : 0;
}

static void wr_free(floe_parquet_writer *w)
{
	if (!w)
		return;
	for (int i = 0; w->cols && i < w->ncols; i++) {
		wr_col *c = &w->cols[i];
		free(c->slots);
		floe_buf *bufs[] = { &c->dict, &c->dict_off, &c->stamp, &c->idx, &c->defs, &c->vals,
				     &c->ps.min, &c->ps.max, &c->chunk, &c->cs.min, &c->cs.max,
				     &c->fs.min, &c->fs.max, &c->bhash, &c->pages, &c->pmm, &c->ehash, &c->hdrs, &c->ekey, &c->elen };
		for (size_t j = 0; j < sizeof bufs / sizeof bufs[0]; j++)
			floe_buf_free(bufs[j]);
	}
	free(w->cols);
	floe_buf *bufs[] = { &w->out, &w->rgs, &w->kvs, &w->scratch, &w->tmp, &w->comp,
			     &w->ci_all, &w->oi_all, &w->ci_pos, &w->rowpos, &w->conv, &w->vp,
			     &w->vl, &w->hashes, &w->keys8 };
	for (size_t j = 0; j < sizeof bufs / sizeof bufs[0]; j++)
		floe_buf_free(bufs[j]);
	floe_arena_free(w->arena);
	floe_arena_free(w->page_arena);
	free(w->path);
	free(w);
}

void floe_parquet_writer_abort(floe_parquet_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->path);
	}
	wr_free(w);
}

/* ---- row groups copied as they are --------------------------------------- */

static bool wr_same_element(const pq_schema_element *a, const pq_schema_element *b)
{
	const pq_logical_type *x = &a->logical, *y = &b->logical;
	return a->type == b->type && a->type_length == b->type_length &&
	       a->repetition == b->repetition && a->num_children == 0 && a->has_field_id &&
	       b->has_field_id && a->field_id == b->field_id && x->kind == y->kind &&
	       x->scale == y->scale && x->precision == y->precision &&
	       x->is_adjusted_to_utc == y->is_adjusted_to_utc && x->unit == y->unit &&
	       x->bit_width == y->bit_width && x->is_signed == y->is_signed;
}

static bool wr_wants_bloom(const floe_parquet_write_options *o, const char *name)
{
	for (int k = 0; k < o->nbloom_columns; k++)
		if (o->bloom_columns[k] && name && strcmp(o->bloom_columns[k], name) == 0)
			return true;
	return false;
}

bool floe_parquet_can_copy(const floe_parquet_reader *r, const floe_schema *schema,
                           const floe_parquet_write_options *opts, int64_t min_row_group_bytes,
                           const char **why)
{
	floe_parquet_write_options dflt;
	const char *unused;
	if (!why)
		why = &unused;
	if (!opts) {
		floe_parquet_write_options_init(&dflt);
		opts = &dflt;
	}
	const pq_file_meta *m = &r->meta;
	int n = schema->nfields;
	if (r->nchunks != n || r->nleaves != n || m->num_schema != (uint32_t)n + 1) {
		*why = "its columns are not the table's flat columns";
		return false;
	}
	if (m->num_column_orders != (uint32_t)n) {
		*why = "it has no column orders, so its min/max statistics are not usable";
		return false;
	}
	for (int i = 0; i < n; i++) {
		wr_col c;
		pq_schema_element want;
		memset(&c, 0, sizeof c);
		c.field = &schema->fields[i];
		if (wr_map(&c, c.field, NULL) != 0) {
			*why = "a column has a type the writer cannot write";
			return false;
		}
		wr_element(&want, &c);
		if (!wr_same_element(r->leaves[i].elem, &want) || r->leaves[i].chunk != i) {
			*why = "its schema differs from the table's (field ids, types or nullability)";
			return false;
		}
		if (m->column_orders[i] != 1) {
			*why = "a column has no type-defined sort order";
			return false;
		}
	}
	for (uint32_t g = 0; g < m->num_row_groups; g++) {
		const pq_row_group *rg = &m->row_groups[g];
		if (rg->total_byte_size < min_row_group_bytes) {
			*why = "a row group is smaller than the minimum to copy";
			return false;
		}
		for (int i = 0; i < n; i++) {
			const pq_column_chunk *cc = &rg->columns[i];
			const pq_column_meta *cm = &cc->meta;
			if (!cc->has_meta || cc->encrypted || cc->file_path.ptr) {
				*why = "a column chunk is encrypted or in another file";
				return false;
			}
			if (cm->codec != (int32_t)opts->codec) {
				*why = "a column chunk has another compression codec than the table's";
				return false;
			}
			const pq_statistics *st = &cm->statistics;
			if (!cm->has_statistics || !st->has_null_count ||
			    (st->null_count < cm->num_values && (!st->min_value.ptr || !st->max_value.ptr))) {
				*why = "a column chunk has no min/max/null statistics";
				return false;
			}
			if (wr_wants_bloom(opts, schema->fields[i].name) &&
			    !(cm->has_bloom_filter_offset && cm->has_bloom_filter_length &&
			      cm->bloom_filter_length > 0)) {
				*why = "a column chunk has no Bloom filter where the table wants one";
				return false;
			}
		}
	}
	*why = NULL;
	return true;
}

/* The page headers of a chunk's bytes p[0..n) add up: each page fits, the
 * pages end where the chunk does and hold its num_values. The bodies are
 * not decompressed: a copy checks the structure it moves. */
static int wr_walk_chunk(const floe_parquet_reader *r, const uint8_t *p, size_t n,
                         int64_t at, int64_t num_values, floe_arena *a, floe_error *err)
{
	size_t pos = 0;
	int64_t values = 0;
	while (pos < n) {
		pq_page_header h;
		size_t used;
		int rc = pq_meta_decode_page_header(&h, &used, p + pos, n - pos, r->name,
		                                    (uint64_t)at + pos, a, err);
		if (rc)
			return rc;
		if (h.compressed_page_size < 0 || (size_t)h.compressed_page_size > n - pos - used)
			return floe_error_corrupt(err, r->name, (uint64_t)at + pos,
			                          "page of %d bytes runs past its column chunk",
			                          h.compressed_page_size);
		if (h.has_data)
			values += h.data.num_values;
		else if (h.has_data_v2)
			values += h.data_v2.num_values;
		pos += used + (size_t)h.compressed_page_size;
	}
	if (values != num_values)
		return floe_error_corrupt(err, r->name, (uint64_t)at,
		                          "column chunk pages hold %lld values, its metadata says %lld",
		                          (long long)values, (long long)num_values);
	return 0;
}

static int wr_copy_bytes(floe_arena *a, pq_bytes *dst, pq_bytes src)
{
	if (!src.ptr)
		return 0;
	uint8_t *q = floe_arena_alloc(a, src.len + 1);
	if (!q)
		return FLOE_ENOMEM;
	if (src.len)
		memcpy(q, src.ptr, src.len);
	dst->ptr = q;
	dst->len = src.len;
	return 0;
}

/* Chunk metadata of the copy, in the writer's arena, `delta` bytes later. */
static int wr_copy_meta(floe_parquet_writer *w, const wr_col *c, pq_column_meta *m,
                        const pq_column_meta *s, int64_t delta)
{
	memset(m, 0, sizeof *m);
	m->type = s->type;
	m->codec = s->codec;
	m->num_values = s->num_values;
	m->total_uncompressed_size = s->total_uncompressed_size;
	m->total_compressed_size = s->total_compressed_size;
	m->data_page_offset = s->data_page_offset + delta;
	if (pq_chunk_start(s) != s->data_page_offset) {
		m->dictionary_page_offset = s->dictionary_page_offset + delta;
		m->has_dictionary_page_offset = true;
	}
	m->path_len = 1;
	m->path_in_schema = floe_arena_alloc(w->arena, sizeof(pq_bytes));
	m->encodings = floe_arena_calloc(w->arena, s->num_encodings + 1, sizeof(int32_t));
	m->encoding_stats = floe_arena_calloc(w->arena, s->num_encoding_stats + 1,
	                                      sizeof(pq_page_encoding_stats));
	if (!m->path_in_schema || !m->encodings || !m->encoding_stats)
		return FLOE_ENOMEM;
	m->path_in_schema[0].ptr = (const uint8_t *)c->field->name;
	m->path_in_schema[0].len = (uint32_t)strlen(c->field->name);
	if (s->num_encodings)
		memcpy(m->encodings, s->encodings, s->num_encodings * sizeof(int32_t));
	m->num_encodings = s->num_encodings;
	if (s->num_encoding_stats)
		memcpy(m->encoding_stats, s->encoding_stats,
		       s->num_encoding_stats * sizeof(pq_page_encoding_stats));
	m->num_encoding_stats = s->num_encoding_stats;
	m->has_statistics = true;
	m->statistics = s->statistics;
	pq_statistics *st = &m->statistics;
	st->min = st->max = st->min_value = st->max_value = (pq_bytes){ NULL, 0 };
	if (wr_copy_bytes(w->arena, &st->min, s->statistics.min) ||
	    wr_copy_bytes(w->arena, &st->max, s->statistics.max) ||
	    wr_copy_bytes(w->arena, &st->min_value, s->statistics.min_value) ||
	    wr_copy_bytes(w->arena, &st->max_value, s->statistics.max_value))
		return FLOE_ENOMEM;
	return 0;
}

/* The file-level min/max folds in a copied chunk's statistics. */
static int wr_fold_copied(wr_col *c, const pq_statistics *st)
{
	wr_stats s;
	memset(&s, 0, sizeof s);
	s.nulls = st->null_count;
	int rc = 0;
	if (st->min_value.ptr && st->max_value.ptr) {
		s.has = true;
		if (wr_set(&s.min, st->min_value.ptr, st->min_value.len) ||
		    wr_set(&s.max, st->max_value.ptr, st->max_value.len))
			rc = FLOE_ENOMEM;
	}
	if (!rc)
		rc = wr_stats_merge(&c->fs, c, &s);
	floe_buf_free(&s.min);
	floe_buf_free(&s.max);
	return rc;
}

/* A chunk's page index, the offsets moved by `delta`, added to the
 * writer's (positions as wr_index records them; -1 = none). */
static int wr_copy_index(floe_parquet_writer *w, floe_parquet_reader *r, const pq_column_chunk *cc,
                         int64_t delta, floe_arena *a, floe_error *err)
{
	int64_t pos[4] = { -1, 0, -1, 0 };
	int rc;
	if (cc->has_column_index && cc->column_index_length > 0 && w->o.statistics) {
		size_t at = w->ci_all.len;
		if (floe_buf_reserve(&w->ci_all, (size_t)cc->column_index_length))
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		if ((rc = pq_read_at(r, w->ci_all.data + at, (size_t)cc->column_index_length,
		                     (uint64_t)cc->column_index_offset, err)))
			return rc;
		pq_column_index ci;
		if ((rc = pq_meta_decode_column_index(&ci, w->ci_all.data + at,
		                                      (size_t)cc->column_index_length, r->name,
		                                      (uint64_t)cc->column_index_offset, a, err)))
			return rc;
		w->ci_all.len = at + (size_t)cc->column_index_length;
		pos[0] = (int64_t)at;
		pos[1] = cc->column_index_length;
	}
	if (cc->has_offset_index && cc->offset_index_length > 0) {
		floe_buf_clear(&w->tmp);
		if (floe_buf_reserve(&w->tmp, (size_t)cc->offset_index_length))
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		if ((rc = pq_read_at(r, w->tmp.data, (size_t)cc->offset_index_length,
		                     (uint64_t)cc->offset_index_offset, err)))
			return rc;
		pq_offset_index oi;
		if ((rc = pq_meta_decode_offset_index(&oi, w->tmp.data, (size_t)cc->offset_index_length,
		                                      r->name, (uint64_t)cc->offset_index_offset, a, err)))
			return rc;
		for (uint32_t i = 0; i < oi.num_pages; i++)
			oi.pages[i].offset += delta;
		pos[2] = (int64_t)w->oi_all.len;
		if (pq_meta_encode_offset_index(&w->oi_all, &oi))
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		pos[3] = (int64_t)w->oi_all.len - pos[2];
	}
	return floe_buf_append(&w->ci_pos, pos, sizeof pos)
		       ? floe_error_set(err, FLOE_ENOMEM, "out of memory") : 0;
}

int floe_parquet_writer_copy(floe_parquet_writer *w, floe_parquet_reader *r, floe_error *err)
{
	const char *why;
	if (!floe_parquet_can_copy(r, &w->schema, &w->o, 0, &why))
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: row groups cannot be copied into %s: %s",
		                      r->name, w->path, why);
	int rc = wr_row_group(w, err);
	if (rc)
		return rc;
	floe_arena *a = floe_arena_new(16 * 1024);
	if (!a)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	const pq_file_meta *fm = &r->meta;
	for (uint32_t g = 0; g < fm->num_row_groups && !rc; g++) {
		const pq_row_group *src = &fm->row_groups[g];
		pq_row_group rg;
		memset(&rg, 0, sizeof rg);
		rg.num_rows = src->num_rows;
		rg.num_columns = (uint32_t)w->ncols;
		rg.columns = floe_arena_calloc(w->arena, (size_t)w->ncols, sizeof *rg.columns);
		if (!rg.columns) {
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
			break;
		}
		rg.file_offset = w->file_pos;
		rg.has_file_offset = true;
		rg.ordinal = (int16_t)(w->rgs.len / sizeof rg);
		rg.has_ordinal = w->rgs.len / sizeof rg < 32768;
		rg.has_total_compressed_size = true;
		for (int i = 0; i < w->ncols && !rc; i++) {
			wr_col *c = &w->cols[i];
			const pq_column_chunk *sc = &src->columns[i];
			const pq_column_meta *sm = &sc->meta;
			int64_t start = pq_chunk_start(sm), len = sm->total_compressed_size;
			if (start < 4 || len <= 0 || (uint64_t)start > r->footer_offset ||
			    (uint64_t)len > r->footer_offset - (uint64_t)start) {
				rc = floe_error_corrupt(err, r->name, (uint64_t)(start > 0 ? start : 0),
				                        "column chunk of %lld bytes does not fit before the footer",
				                        (long long)len);
				break;
			}
			floe_buf_clear(&w->scratch);
			if (floe_buf_reserve(&w->scratch, (size_t)len)) {
				rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
				break;
			}
			floe_arena_reset(a);
			if ((rc = pq_read_at(r, w->scratch.data, (size_t)len, (uint64_t)start, err)) ||
			    (rc = wr_walk_chunk(r, w->scratch.data, (size_t)len, start, sm->num_values, a, err)))
				break;
			int64_t at = w->file_pos, delta = at - start;
			if ((rc = wr_emit(w, w->scratch.data, (size_t)len, err)))
				break;
			pq_column_chunk *cc = &rg.columns[i];
			cc->has_meta = true;
			cc->file_offset = at;
			if (wr_copy_meta(w, c, &cc->meta, sm, delta) ||
			    (w->o.statistics && wr_fold_copied(c, &sm->statistics))) {
				rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
				break;
			}
			rg.total_byte_size += sm->total_uncompressed_size;
			rg.total_compressed_size += sm->total_compressed_size;
			if (w->o.page_index)
				rc = wr_copy_index(w, r, sc, delta, a, err);
		}
		/* Bloom filters after the chunks, as the writer places them */
		for (int i = 0; i < w->ncols && !rc; i++) {
			const pq_column_meta *sm = &src->columns[i].meta;
			if (!w->cols[i].bloom)
				continue;
			size_t blen = (size_t)sm->bloom_filter_length;
			floe_buf_clear(&w->scratch);
			if (floe_buf_reserve(&w->scratch, blen)) {
				rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
				break;
			}
			int64_t at = w->file_pos;
			if ((rc = pq_read_at(r, w->scratch.data, blen, (uint64_t)sm->bloom_filter_offset, err)) ||
			    (rc = wr_emit(w, w->scratch.data, blen, err)))
				break;
			pq_column_meta *m = &rg.columns[i].meta;
			m->bloom_filter_offset = at;
			m->has_bloom_filter_offset = true;
			m->bloom_filter_length = sm->bloom_filter_length;
			m->has_bloom_filter_length = true;
		}
		if (!rc && floe_buf_append(&w->rgs, &rg, sizeof rg))
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
		if (!rc)
			w->total_rows += src->num_rows;
	}
	floe_arena_free(a);
	return rc;
}

int floe_parquet_writer_close(floe_parquet_writer *w, floe_parquet_file_info *info,
                              floe_error *err)
{
	int rc;
	if (!w)
		return floe_error_set(err, FLOE_EINVALID, "parquet writer: NULL");
	if ((rc = wr_row_group(w, err)))
		goto fail;
	pq_row_group *rgs = (pq_row_group *)w->rgs.data;
	uint32_t nrg = (uint32_t)(w->rgs.len / sizeof *rgs);
	/* page index: all ColumnIndexes, then all OffsetIndexes (spec:
	 * PageIndex.md, after the row groups and before the footer) */
	if (w->o.page_index && nrg) {
		const int64_t *pos = (const int64_t *)w->ci_pos.data;
		int64_t ci_base = w->file_pos;
		if ((rc = wr_emit(w, w->ci_all.data, w->ci_all.len, err)))
			goto fail;
		int64_t oi_base = w->file_pos;
		if ((rc = wr_emit(w, w->oi_all.data, w->oi_all.len, err)))
			goto fail;
		size_t k = 0;
		for (uint32_t g = 0; g < nrg; g++) {
			for (uint32_t i = 0; i < rgs[g].num_columns; i++, k++) {
				pq_column_chunk *cc = &rgs[g].columns[i];
				if (pos[4 * k] >= 0) {
					cc->column_index_offset = ci_base + pos[4 * k];
					cc->column_index_length = (int32_t)pos[4 * k + 1];
					cc->has_column_index = true;
				}
				if (pos[4 * k + 2] < 0)
					continue; /* a copied chunk without one */
				cc->offset_index_offset = oi_base + pos[4 * k + 2];
				cc->offset_index_length = (int32_t)pos[4 * k + 3];
				cc->has_offset_index = true;
			}
		}
	}
	pq_file_meta fm;
	memset(&fm, 0, sizeof fm);
	fm.version = 2;
	fm.num_schema = (uint32_t)w->ncols + 1;
	fm.schema = floe_arena_calloc(w->arena, fm.num_schema, sizeof *fm.schema);
	fm.column_orders = floe_arena_calloc(w->arena, (size_t)w->ncols, sizeof(int32_t));
	if (!fm.schema || !fm.column_orders)
		goto oom;
	fm.schema[0].type = -1;
	fm.schema[0].repetition = -1;
	fm.schema[0].converted_type = -1;
	fm.schema[0].name.ptr = (const uint8_t *)"schema";
	fm.schema[0].name.len = 6;
	fm.schema[0].num_children = w->ncols;
	for (int i = 0; i < w->ncols; i++) {
		wr_element(&fm.schema[i + 1], &w->cols[i]);
		fm.column_orders[i] = 1;
	}
	fm.num_column_orders = (uint32_t)w->ncols;
	fm.num_rows = w->total_rows;
	fm.row_groups = rgs;
	fm.num_row_groups = nrg;
	fm.kv = (pq_key_value *)w->kvs.data;
	fm.num_kv = (uint32_t)(w->kvs.len / sizeof(pq_key_value));
	fm.created_by.ptr = (const uint8_t *)w->o.created_by;
	fm.created_by.len = (uint32_t)strlen(w->o.created_by);
	floe_buf_clear(&w->tmp);
	if (pq_meta_encode_file(&w->tmp, &fm) || floe_buf_put_u32le(&w->tmp, (uint32_t)w->tmp.len) ||
	    floe_buf_append(&w->tmp, "PAR1", 4))
		goto oom;
	if ((rc = wr_emit(w, w->tmp.data, w->tmp.len, err)) || (rc = wr_flush_out(w, err)))
		goto fail;
	if (w->o.fsync && fsync(w->fd) != 0) {
		rc = floe_error_set(err, FLOE_EIO, "%s: fsync: %s", w->path, strerror(errno));
		goto fail;
	}
#ifdef SYNC_FILE_RANGE_WRITE
	/* the caller fsyncs later: start the write-back now so that it runs
	 * while the next file is encoded (a hint; failures surface at fsync) */
	if (!w->o.fsync)
		(void)sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
	if (close(w->fd) != 0) {
		w->fd = -1;
		unlink(w->path);
		rc = floe_error_set(err, FLOE_EIO, "%s: close: %s", w->path, strerror(errno));
		wr_free(w);
		return rc;
	}
	w->fd = -1;
	if (info) {
		info->num_rows = w->total_rows;
		info->file_bytes = w->file_pos;
		info->num_row_groups = (int)nrg;
	}
	wr_free(w);
	return 0;
oom:
	rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
fail:
	floe_parquet_writer_abort(w);
	return rc;
}
