/* engine/rows.c - row operators over in-memory batches: a stable sort by
 * several columns (floe_batch_sort), gathering rows (floe_batch_take) and
 * appending batches (floe_batch_concat). Windowed aggregation, rolling
 * columns and the pipeline runner build on them.
 *
 * The sort is a least-significant-column-first radix sort: every key
 * column becomes one unsigned 64-bit key per row whose unsigned order is
 * the column's order (integers with the sign bit flipped, doubles by their
 * bits with negatives inverted, bytes by their rank among the column's
 * distinct values), the rows are sorted stably by the last column, then
 * the one before, ..., and after each column a stable pass moves its NULLs
 * to the front. Each radix pass only looks at the digits in which the keys
 * differ (the key minus the column's minimum), 11 bits a pass from 65,536
 * rows (8 below), so microsecond timestamps spanning a day take four passes
 * and a column of ranks usually one. A column
 * whose keys are already in order but for at most one in 16 (events by
 * time with a few late ones) skips the passes: the late keys are sorted
 * apart and merged back. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "engine/window_int.h"
#include "floe/window.h"

#define SIGN64 (UINT64_C(1) << 63)

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory sorting rows: give the step fewer rows at once");
}

/* ---- values in sort order ------------------------------------------------------ */

typedef enum key_kind {
	KEY_U8,      /* BOOLEAN */
	KEY_I32,     /* INT, DATE */
	KEY_U32,     /* unsigned INT */
	KEY_I64,     /* LONG, TIME, TIMESTAMP*, DECIMAL P <= 18 */
	KEY_U64,     /* unsigned LONG (UINT_64 bit pattern) */
	KEY_F32,
	KEY_F64,
	KEY_BYTES,   /* STRING, BINARY, JSON: offsets + data */
	KEY_FIXED,   /* UUID, FIXED: width bytes */
	KEY_DEC128   /* DECIMAL P > 18: 16 bytes big-endian two's complement */
} key_kind;

static key_kind kind_of(const floe_type *t)
{
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN:
		return KEY_U8;
	case FLOE_TYPE_INT:
		return t->is_unsigned ? KEY_U32 : KEY_I32;
	case FLOE_TYPE_DATE:
		return KEY_I32;
	case FLOE_TYPE_LONG:
		return t->is_unsigned ? KEY_U64 : KEY_I64;
	case FLOE_TYPE_FLOAT:
		return KEY_F32;
	case FLOE_TYPE_DOUBLE:
		return KEY_F64;
	case FLOE_TYPE_DECIMAL:
		return t->precision > 18 ? KEY_DEC128 : KEY_I64;
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_JSON:
		return KEY_BYTES;
	case FLOE_TYPE_UUID:
	case FLOE_TYPE_FIXED:
		return KEY_FIXED;
	default:
		return KEY_I64; /* TIME, TIMESTAMP, TIMESTAMPTZ and the _NS kinds */
	}
}

/* The unsigned key of a fixed-width numeric value (not KEY_BYTES/FIXED/DEC128). */
static uint64_t num_key(key_kind k, const floe_column *c, int64_t row)
{
	switch (k) {
	case KEY_U8:
		return ((const uint8_t *)c->values)[row] != 0;
	case KEY_I32:
		return (uint64_t)(int64_t)((const int32_t *)c->values)[row] ^ SIGN64;
	case KEY_U32:
		return (uint32_t)((const int32_t *)c->values)[row];
	case KEY_I64:
		return (uint64_t)((const int64_t *)c->values)[row] ^ SIGN64;
	case KEY_U64:
		return (uint64_t)((const int64_t *)c->values)[row];
	case KEY_F32:
		return eng_double_key(((const float *)c->values)[row]);
	case KEY_F64:
		return eng_double_key(((const double *)c->values)[row]);
	default:
		return 0;
	}
}

static int bytes_cmp(const uint8_t *a, int64_t alen, const uint8_t *b, int64_t blen)
{
	int64_t n = alen < blen ? alen : blen;
	int c = n > 0 ? memcmp(a, b, (size_t)n) : 0;
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* The bytes of row `row` of a bytes-kind column. */
static const uint8_t *bytes_of(key_kind k, const floe_column *c, int64_t row, int64_t *len)
{
	if (k == KEY_BYTES) {
		*len = c->offsets[row + 1] - c->offsets[row];
		return c->data + c->offsets[row];
	}
	int64_t w = c->type.width > 0 ? c->type.width : 16;
	*len = w;
	return (const uint8_t *)c->values + row * w;
}

/* Compare two values of one bytes-kind type. A 16-byte decimal is signed:
 * its first byte compares with the sign bit flipped. */
static int kind_bytes_cmp(key_kind k, const uint8_t *a, int64_t alen, const uint8_t *b,
                          int64_t blen)
{
	if (k == KEY_DEC128 && alen > 0 && blen > 0 && a[0] != b[0])
		return (a[0] ^ 0x80) < (b[0] ^ 0x80) ? -1 : 1;
	return bytes_cmp(a, alen, b, blen);
}

int eng_value_cmp(const floe_column *a, int64_t i, const floe_column *b, int64_t j)
{
	bool va = floe_column_is_valid(a, i), vb = floe_column_is_valid(b, j);
	if (!va || !vb)
		return va - vb; /* NULL first */
	key_kind k = kind_of(&a->type);
	if (k == KEY_BYTES || k == KEY_FIXED || k == KEY_DEC128) {
		int64_t la, lb;
		const uint8_t *pa = bytes_of(k, a, i, &la), *pb = bytes_of(k, b, j, &lb);
		return kind_bytes_cmp(k, pa, la, pb, lb);
	}
	uint64_t x = num_key(k, a, i), y = num_key(k, b, j);
	return x < y ? -1 : x > y;
}

/* ---- radix sort of (key, index) pairs ------------------------------------------- */

static int radix_pairs(uint64_t *key, int32_t *idx, uint64_t *tk, int32_t *ti, int64_t n,
                       floe_error *err);

/* Keys that are sorted but for a few (events by time with some late ones;
 * window starts once the rows are in time order): the keys below the
 * running maximum are taken out, sorted on their own and merged back.
 * Stable: a key taken out is preceded in the input by every kept key
 * equal to it (a later kept key is at least the running maximum, which
 * is above it), so on a tie the kept key goes first. 1 when more than
 * n / NEARLY_OUT keys are out of order (the caller radix sorts). */
#define NEARLY_OUT 16

static int nearly_sorted(uint64_t *key, int32_t *idx, uint64_t *tk, int32_t *ti, int64_t n,
                         floe_error *err)
{
	uint64_t mx = key[0];
	int64_t nout = 0, most = n / NEARLY_OUT;
	for (int64_t i = 1; i < n; i++) {
		if (key[i] >= mx)
			mx = key[i];
		else if (++nout > most)
			return 1; /* unordered: stop counting */
	}
	if (nout == 0)
		return 0;
	/* kept keys to the front of key/idx, the others to tk/ti */
	int64_t nk = 1, no = 0;
	mx = key[0];
	for (int64_t i = 1; i < n; i++) {
		if (key[i] < mx) {
			tk[no] = key[i];
			ti[no++] = idx[i];
		} else {
			mx = key[i];
			key[nk] = key[i];
			idx[nk++] = idx[i];
		}
	}
	/* nout <= n / 16: the rest of tk/ti is scratch enough */
	int rc = radix_pairs(tk, ti, tk + no, ti + no, no, err);
	if (rc)
		return rc;
	/* merge from the back: on a tie the key taken out goes last */
	int64_t i = nk - 1, j = no - 1, k = n - 1;
	while (j >= 0) {
		if (i >= 0 && key[i] > tk[j]) {
			key[k] = key[i];
			idx[k--] = idx[i--];
		} else {
			key[k] = tk[j];
			idx[k--] = ti[j--];
		}
	}
	return 0;
}

/* Sort key[0..n) with idx[] alongside, stably, by unsigned key. tk/ti are
 * scratch of n entries; the result (keys unchanged) ends in key/idx. */
static int radix_pairs(uint64_t *key, int32_t *idx, uint64_t *tk, int32_t *ti, int64_t n,
                       floe_error *err)
{
	if (n < 2)
		return 0;
	int nrc = nearly_sorted(key, idx, tk, ti, n, err);
	if (nrc <= 0)
		return nrc;
	uint64_t lo = key[0], hi = key[0];
	for (int64_t i = 1; i < n; i++) {
		if (key[i] < lo)
			lo = key[i];
		if (key[i] > hi)
			hi = key[i];
	}
	if (lo == hi)
		return 0;
	uint64_t range = hi - lo;
	int bits = 64 - __builtin_clzll(range);
	int w = n >= 65536 ? 11 : 8;
	int npass = (bits + w - 1) / w;
	size_t nb = (size_t)1 << w;
	uint32_t *hist = calloc((size_t)npass * nb, sizeof *hist);
	if (!hist)
		return oom(err);
	uint64_t mask = nb - 1;
	for (int64_t i = 0; i < n; i++) {
		uint64_t v = key[i] - lo;
		for (int p = 0; p < npass; p++)
			hist[(size_t)p * nb + ((v >> (p * w)) & mask)]++;
	}
	uint64_t *sk = key, *dk = tk;
	int32_t *si = idx, *di = ti;
	for (int p = 0; p < npass; p++) {
		uint32_t *h = hist + (size_t)p * nb;
		int shift = p * w;
		if (h[((sk[0] - lo) >> shift) & mask] == (uint64_t)n)
			continue; /* every key has this digit */
		uint32_t sum = 0;
		for (size_t d = 0; d < nb; d++) {
			uint32_t c = h[d];
			h[d] = sum;
			sum += c;
		}
		for (int64_t i = 0; i < n; i++) {
			uint32_t pos = h[((sk[i] - lo) >> shift) & mask]++;
			dk[pos] = sk[i];
			di[pos] = si[i];
		}
		uint64_t *t = sk;
		sk = dk;
		dk = t;
		int32_t *u = si;
		si = di;
		di = u;
	}
	if (sk != key) {
		memcpy(key, sk, (size_t)n * sizeof *key);
		memcpy(idx, si, (size_t)n * sizeof *idx);
	}
	free(hist);
	return 0;
}

/* ---- ranks of byte strings --------------------------------------------------------- */

typedef struct rank_ctx {
	key_kind kind;
	const floe_column *col;
	const int32_t *rows;  /* distinct value -> a row holding it */
	const uint64_t *pre;  /* distinct value -> its first 8 bytes, big-endian */
} rank_ctx;

static int distinct_cmp(const rank_ctx *c, int32_t a, int32_t b)
{
	if (c->pre[a] != c->pre[b])
		return c->pre[a] < c->pre[b] ? -1 : 1;
	int64_t la, lb;
	const uint8_t *pa = bytes_of(c->kind, c->col, c->rows[a], &la);
	const uint8_t *pb = bytes_of(c->kind, c->col, c->rows[b], &lb);
	return kind_bytes_cmp(c->kind, pa, la, pb, lb);
}

/* Merge sort of distinct ids (all different, so stability is moot). */
static void merge_sort_ids(const rank_ctx *c, int32_t *v, int32_t *tmp, int64_t n)
{
	if (n < 16) {
		for (int64_t i = 1; i < n; i++) {
			int32_t x = v[i];
			int64_t j = i;
			while (j > 0 && distinct_cmp(c, v[j - 1], x) > 0) {
				v[j] = v[j - 1];
				j--;
			}
			v[j] = x;
		}
		return;
	}
	int64_t h = n / 2;
	merge_sort_ids(c, v, tmp, h);
	merge_sort_ids(c, v + h, tmp, n - h);
	if (distinct_cmp(c, v[h - 1], v[h]) <= 0)
		return;
	memcpy(tmp, v, (size_t)h * sizeof *v);
	int64_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		v[k++] = distinct_cmp(c, v[j], tmp[i]) < 0 ? v[j++] : tmp[i++];
	while (i < h)
		v[k++] = tmp[i++];
}

static uint64_t prefix_key(key_kind k, const uint8_t *p, int64_t len)
{
	uint8_t b[8] = { 0 };
	memcpy(b, p, (size_t)(len < 8 ? len : 8));
	if (k == KEY_DEC128 && len > 0)
		b[0] ^= 0x80;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

/* out[i] = the rank of the value at position i among the distinct non-NULL
 * values of the column (equal values, equal rank); NULL positions get 0.
 * Distinct values are found with a hash table, then sorted. */
static int byte_ranks(const eng_sort_key *sk, key_kind k, int64_t n, uint64_t *out,
                      floe_error *err)
{
	int rc = 0;
	const floe_column *c = sk->col;
	size_t cap = 1024; /* doubles at half full: few distinct values stay small */
	int32_t *slot = calloc(cap, sizeof *slot);        /* distinct id + 1, 0 = empty */
	uint64_t *shash = malloc(cap * sizeof *shash);
	int32_t *rows = malloc((size_t)(n ? n : 1) * sizeof *rows);
	uint32_t *id = malloc((size_t)(n ? n : 1) * sizeof *id);
	uint64_t *pre = NULL, *rank = NULL;
	int32_t *order = NULL, *tmp = NULL;
	if (!slot || !shash || !rows || !id) {
		rc = oom(err);
		goto done;
	}
	int64_t nd = 0;
	for (int64_t i = 0; i < n; i++) {
		int64_t row = sk->map ? sk->map[i] : i;
		if (!floe_column_is_valid(c, row)) {
			id[i] = UINT32_MAX;
			continue;
		}
		int64_t len;
		const uint8_t *p = bytes_of(k, c, row, &len);
		uint64_t h = XXH3_64bits(p, (size_t)len);
		size_t at = (size_t)h & (cap - 1);
		for (;;) {
			int32_t d = slot[at];
			if (d == 0) {
				slot[at] = (int32_t)(nd + 1);
				shash[at] = h;
				rows[nd] = (int32_t)row;
				id[i] = (uint32_t)nd++;
				break;
			}
			if (shash[at] == h) {
				int64_t l2;
				const uint8_t *q = bytes_of(k, c, rows[d - 1], &l2);
				if (l2 == len && (len == 0 || memcmp(p, q, (size_t)len) == 0)) {
					id[i] = (uint32_t)(d - 1);
					break;
				}
			}
			at = (at + 1) & (cap - 1);
		}
		if ((size_t)nd * 2 > cap) {
			/* grow: re-insert every distinct value by its hash */
			size_t ncap = cap * 2;
			int32_t *ns = calloc(ncap, sizeof *ns);
			uint64_t *nh = malloc(ncap * sizeof *nh);
			if (!ns || !nh) {
				free(ns);
				free(nh);
				rc = oom(err);
				goto done;
			}
			for (size_t j = 0; j < cap; j++) {
				if (!slot[j])
					continue;
				size_t t = (size_t)shash[j] & (ncap - 1);
				while (ns[t])
					t = (t + 1) & (ncap - 1);
				ns[t] = slot[j];
				nh[t] = shash[j];
			}
			free(slot);
			free(shash);
			slot = ns;
			shash = nh;
			cap = ncap;
		}
	}
	pre = malloc((size_t)(nd ? nd : 1) * sizeof *pre);
	rank = malloc((size_t)(nd ? nd : 1) * sizeof *rank);
	order = malloc((size_t)(nd ? nd : 1) * sizeof *order);
	tmp = malloc((size_t)(nd ? nd : 1) * sizeof *tmp);
	if (!pre || !rank || !order || !tmp) {
		rc = oom(err);
		goto done;
	}
	for (int64_t d = 0; d < nd; d++) {
		int64_t len;
		const uint8_t *p = bytes_of(k, c, rows[d], &len);
		pre[d] = prefix_key(k, p, len);
		order[d] = (int32_t)d;
	}
	rank_ctx ctx = { k, c, rows, pre };
	merge_sort_ids(&ctx, order, tmp, nd);
	for (int64_t r = 0; r < nd; r++)
		rank[order[r]] = (uint64_t)r;
	for (int64_t i = 0; i < n; i++)
		out[i] = id[i] == UINT32_MAX ? 0 : rank[id[i]];
done:
	free(slot);
	free(shash);
	free(rows);
	free(id);
	free(pre);
	free(rank);
	free(order);
	free(tmp);
	return rc;
}

/* ---- the sort ------------------------------------------------------------------------- */

static bool is_bytes_kind(key_kind k)
{
	return k == KEY_BYTES || k == KEY_FIXED || k == KEY_DEC128;
}

/* Compare positions a and b on key columns [from, to). */
static int pos_cmp(const eng_sort_key *keys, int from, int to, int32_t a, int32_t b)
{
	for (int c = from; c < to; c++) {
		const eng_sort_key *k = &keys[c];
		int64_t ra = k->map ? k->map[a] : a, rb = k->map ? k->map[b] : b;
		int d = eng_value_cmp(k->col, ra, k->col, rb);
		if (d)
			return d;
	}
	return 0;
}

/* Stable merge sort of positions v[0..n) on key columns [from, to). */
static void merge_sort_pos(const eng_sort_key *keys, int from, int to, int32_t *v, int32_t *tmp,
                           int64_t n)
{
	if (n < 16) {
		for (int64_t i = 1; i < n; i++) {
			int32_t x = v[i];
			int64_t j = i;
			while (j > 0 && pos_cmp(keys, from, to, v[j - 1], x) > 0) {
				v[j] = v[j - 1];
				j--;
			}
			v[j] = x;
		}
		return;
	}
	int64_t h = n / 2;
	merge_sort_pos(keys, from, to, v, tmp, h);
	merge_sort_pos(keys, from, to, v + h, tmp, n - h);
	if (pos_cmp(keys, from, to, v[h - 1], v[h]) <= 0)
		return;
	memcpy(tmp, v, (size_t)h * sizeof *v);
	int64_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		v[k++] = pos_cmp(keys, from, to, v[j], tmp[i]) < 0 ? v[j++] : tmp[i++];
	while (i < h)
		v[k++] = tmp[i++];
}

/* Radix passes over key column c: perm reordered stably by it, NULLs first. */
static int radix_column(const eng_sort_key *sk, int64_t n, int32_t *perm, uint64_t *key,
                        uint64_t *tk, int32_t *ti, uint64_t **ranks, const eng_sort_key **ranked,
                        floe_error *err)
{
	int rc;
	const floe_column *col = sk->col;
	key_kind k = kind_of(&col->type);
	if (is_bytes_kind(k)) {
		if (!*ranks && !(*ranks = malloc((size_t)n * sizeof **ranks)))
			return oom(err);
		if ((rc = byte_ranks(sk, k, n, *ranks, err)))
			return rc;
		*ranked = sk;
		for (int64_t i = 0; i < n; i++)
			key[i] = (*ranks)[perm[i]];
	} else {
		/* a NULL slot holds any bytes: key 0, so NULLs keep the order of
		 * the columns after this one */
		for (int64_t i = 0; i < n; i++) {
			int64_t row = sk->map ? sk->map[perm[i]] : perm[i];
			key[i] = floe_column_is_valid(col, row) ? num_key(k, col, row) : 0;
		}
	}
	if ((rc = radix_pairs(key, perm, tk, ti, n, err)))
		return rc;
	if (col->validity) {
		/* stable partition: NULLs first */
		int64_t nn = 0, nv = 0;
		for (int64_t i = 0; i < n; i++) {
			int64_t row = sk->map ? sk->map[perm[i]] : perm[i];
			if (floe_column_is_valid(col, row))
				ti[nv++] = perm[i];
			else
				perm[nn++] = perm[i];
		}
		memcpy(perm + nn, ti, (size_t)nv * sizeof *perm);
	}
	return 0;
}

/* Byte-string columns after the last numeric key (the unique trade_id
 * after (symbol, window, time)) are not radix sorted: ranking millions of
 * distinct strings costs more than comparing the few rows that tie on
 * every earlier key. Those runs of ties are merge sorted by the trailing
 * columns instead. */
int eng_sort(const eng_sort_key *keys, int nkeys, int64_t n, int32_t *perm, floe_error *err)
{
	if (n > INT32_MAX)
		return floe_error_set(err, FLOE_EINVALID,
		                      "cannot sort %lld rows: at most %d at once; split the input",
		                      (long long)n, INT32_MAX);
	for (int64_t i = 0; i < n; i++)
		perm[i] = (int32_t)i;
	if (n < 2 || nkeys == 0)
		return 0;
	int split = 1;
	for (int c = 0; c < nkeys; c++)
		if (!is_bytes_kind(kind_of(&keys[c].col->type)))
			split = c + 1;
	int rc = 0;
	size_t sz = (size_t)n;
	uint64_t *key = malloc(sz * sizeof *key), *tk = malloc(sz * sizeof *tk);
	uint64_t *ranks = NULL;           /* by position, of column *ranked */
	const eng_sort_key *ranked = NULL;
	int32_t *ti = malloc(sz * sizeof *ti);
	if (!key || !tk || !ti) {
		rc = oom(err);
		goto done;
	}
	for (int c = split - 1; c >= 0; c--)
		if ((rc = radix_column(&keys[c], n, perm, key, tk, ti, &ranks, &ranked, err)))
			goto done;
	if (split < nkeys) {
		/* tie[i] = 1 when position perm[i] equals perm[i - 1] on every
		 * radix-sorted column, from each column's keys in the final order */
		uint8_t *tie = malloc(sz);
		if (!tie) {
			rc = oom(err);
			goto done;
		}
		memset(tie, 1, sz);
		tie[0] = 0;
		for (int c = 0; c < split; c++) {
			const eng_sort_key *sk = &keys[c];
			key_kind k = kind_of(&sk->col->type);
			if (is_bytes_kind(k)) {
				if (ranked != sk && (rc = byte_ranks(sk, k, n, ranks, err))) {
					free(tie);
					goto done;
				}
				ranked = sk;
				for (int64_t i = 0; i < n; i++)
					key[i] = ranks[perm[i]];
			} else {
				for (int64_t i = 0; i < n; i++) {
					int64_t row = sk->map ? sk->map[perm[i]] : perm[i];
					key[i] = num_key(k, sk->col, row);
				}
			}
			if (sk->col->validity)
				for (int64_t i = 0; i < n; i++) {
					int64_t row = sk->map ? sk->map[perm[i]] : perm[i];
					if (!floe_column_is_valid(sk->col, row))
						key[i] = 0, tk[i] = 0;
					else
						tk[i] = 1;
				}
			for (int64_t i = 1; i < n; i++)
				if (key[i] != key[i - 1] || (sk->col->validity && tk[i] != tk[i - 1]))
					tie[i] = 0;
		}
		int64_t i = 0;
		while (i < n) {
			int64_t j = i + 1;
			while (j < n && tie[j])
				j++;
			if (j - i > 1)
				merge_sort_pos(keys, split, nkeys, perm + i, ti, j - i);
			i = j;
		}
		free(tie);
	}
done:
	free(key);
	free(tk);
	free(ti);
	free(ranks);
	return rc;
}

int floe_batch_sort(const floe_batch *b, const int *cols, int ncols, int32_t **perm,
                    floe_arena *arena, floe_error *err)
{
	*perm = NULL;
	if (ncols < 0 || (ncols > 0 && !cols))
		return floe_error_set(err, FLOE_EINVALID, "sort: bad column list");
	eng_sort_key *keys = calloc((size_t)ncols + 1, sizeof *keys);
	if (!keys)
		return oom(err);
	int rc = 0;
	for (int i = 0; i < ncols; i++) {
		if (cols[i] < 0 || cols[i] >= b->ncols) {
			rc = floe_error_set(err, FLOE_EINVALID,
			                    "sort: column %d does not exist (the batch has %d)", cols[i],
			                    b->ncols);
			goto done;
		}
		keys[i].col = &b->cols[cols[i]];
	}
	int32_t *p = floe_arena_alloc(arena, (size_t)(b->nrows ? b->nrows : 1) * sizeof *p);
	if (!p) {
		rc = oom(err);
		goto done;
	}
	if ((rc = eng_sort(keys, ncols, b->nrows, p, err)))
		goto done;
	*perm = p;
done:
	free(keys);
	return rc;
}

/* ---- gathering ------------------------------------------------------------------------- */

bool eng_type_same(const floe_type *a, const floe_type *b)
{
	if (a->id != b->id)
		return false;
	if (a->id == FLOE_TYPE_DECIMAL)
		return a->precision == b->precision && a->scale == b->scale;
	if (a->id == FLOE_TYPE_FIXED)
		return a->width == b->width;
	return true;
}

int eng_column_empty(floe_column *out, const floe_type *type, floe_arena *arena, floe_error *err)
{
	memset(out, 0, sizeof *out);
	out->type = *type;
	out->values = floe_arena_alloc(arena, 0);
	out->offsets = floe_arena_calloc(arena, 1, sizeof *out->offsets);
	out->data = floe_arena_alloc(arena, 0);
	if (!out->values || !out->offsets || !out->data)
		return oom(err);
	return 0;
}

int eng_column_wrap(floe_column *out, const floe_type *type, void *values, const uint8_t *valid,
                    int64_t n, floe_arena *arena, floe_error *err)
{
	memset(out, 0, sizeof *out);
	out->type = *type;
	out->values = values;
	if (!valid)
		return 0;
	int64_t nulls = 0;
	for (int64_t i = 0; i < n; i++)
		nulls += !valid[i];
	if (nulls == 0)
		return 0;
	uint8_t *bits = floe_arena_calloc(arena, (size_t)(n + 7) / 8 + 1, 1);
	if (!bits)
		return oom(err);
	for (int64_t i = 0; i < n; i++)
		if (valid[i])
			floe_bitmap_set(bits, i, true);
	out->validity = bits;
	out->null_count = nulls;
	return 0;
}

int eng_column_take(floe_column *out, const floe_column *src, const int32_t *idx, int64_t n,
                    floe_arena *arena, floe_error *err)
{
	memset(out, 0, sizeof *out);
	out->type = src->type;
	int64_t nulls = 0;
	for (int64_t i = 0; i < n; i++)
		if (idx[i] < 0 || !floe_column_is_valid(src, idx[i]))
			nulls++;
	if (nulls) {
		uint8_t *bits = floe_arena_calloc(arena, (size_t)(n + 7) / 8 + 1, 1);
		if (!bits)
			return oom(err);
		for (int64_t i = 0; i < n; i++)
			if (idx[i] >= 0 && floe_column_is_valid(src, idx[i]))
				floe_bitmap_set(bits, i, true);
		out->validity = bits;
		out->null_count = nulls;
	}
	if (floe_type_is_variable(&src->type)) {
		int64_t *off = floe_arena_alloc(arena, (size_t)(n + 1) * sizeof *off);
		if (!off)
			return oom(err);
		off[0] = 0;
		for (int64_t i = 0; i < n; i++) {
			int64_t len = idx[i] < 0 ? 0 : src->offsets[idx[i] + 1] - src->offsets[idx[i]];
			off[i + 1] = off[i] + len;
		}
		uint8_t *data = floe_arena_alloc(arena, (size_t)off[n]);
		if (!data)
			return oom(err);
		for (int64_t i = 0; i < n; i++)
			if (idx[i] >= 0 && off[i + 1] > off[i])
				memcpy(data + off[i], src->data + src->offsets[idx[i]],
				       (size_t)(off[i + 1] - off[i]));
		out->offsets = off;
		out->data = data;
		return 0;
	}
	int w = floe_type_value_width(&src->type);
	if (w <= 0)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "cannot move values of type id %d",
		                      (int)src->type.id);
	uint8_t *v = floe_arena_alloc(arena, (size_t)n * (size_t)w);
	if (!v)
		return oom(err);
	const uint8_t *s = src->values;
	switch (w) {
	case 1:
		for (int64_t i = 0; i < n; i++)
			v[i] = idx[i] < 0 ? 0 : s[idx[i]];
		break;
	case 4:
		for (int64_t i = 0; i < n; i++) {
			uint32_t x = 0;
			if (idx[i] >= 0)
				memcpy(&x, s + (size_t)idx[i] * 4, 4);
			memcpy(v + (size_t)i * 4, &x, 4);
		}
		break;
	case 8:
		for (int64_t i = 0; i < n; i++) {
			uint64_t x = 0;
			if (idx[i] >= 0)
				memcpy(&x, s + (size_t)idx[i] * 8, 8);
			memcpy(v + (size_t)i * 8, &x, 8);
		}
		break;
	default:
		for (int64_t i = 0; i < n; i++) {
			if (idx[i] >= 0)
				memcpy(v + (size_t)i * (size_t)w, s + (size_t)idx[i] * (size_t)w, (size_t)w);
			else
				memset(v + (size_t)i * (size_t)w, 0, (size_t)w);
		}
	}
	out->values = v;
	return 0;
}

int eng_take_columns(floe_batch *out, const floe_batch *b, const bool *needed, const int32_t *idx,
                     int64_t n, floe_arena *arena, void **absent, floe_error *err)
{
	memset(out, 0, sizeof *out);
	*absent = NULL;
	floe_column *cols = floe_arena_calloc(arena, (size_t)b->ncols + 1, sizeof *cols);
	if (!cols)
		return oom(err);
	size_t width = 16; /* the widest value of an absent column, 8 for offsets */
	for (int c = 0; c < b->ncols; c++) {
		int w = floe_type_value_width(&b->cols[c].type);
		if (!needed[c] && w > 16)
			width = (size_t)w;
	}
	for (int c = 0; c < b->ncols; c++) {
		if (needed[c]) {
			int rc = eng_column_take(&cols[c], &b->cols[c], idx, n, arena, err);
			if (rc)
				return rc;
			continue;
		}
		if (!*absent) {
			/* one zeroed block serves as the bitmap, the values and the
			 * offsets of every absent column; calloc of a large block maps
			 * zero pages that nothing ever touches */
			size_t sz = (size_t)(n + 1) * width + 64;
			if (!(*absent = calloc(1, sz)))
				return oom(err);
		}
		cols[c].type = b->cols[c].type;
		cols[c].null_count = n;
		cols[c].validity = *absent;
		cols[c].values = *absent;
		cols[c].offsets = *absent;
		cols[c].data = *absent;
	}
	out->nrows = n;
	out->ncols = b->ncols;
	out->cols = cols;
	out->schema = b->schema;
	return 0;
}

int floe_batch_take(const floe_batch *b, const int32_t *idx, int64_t n, floe_batch *out,
                    floe_arena *arena, floe_error *err)
{
	memset(out, 0, sizeof *out);
	if (n < 0 || (n > 0 && !idx))
		return floe_error_set(err, FLOE_EINVALID, "take: bad row list");
	for (int64_t i = 0; i < n; i++)
		if (idx[i] < 0 || idx[i] >= b->nrows)
			return floe_error_set(err, FLOE_EINVALID,
			                      "take: row %d does not exist (the batch has %lld rows)",
			                      (int)idx[i], (long long)b->nrows);
	floe_column *cols = floe_arena_calloc(arena, (size_t)b->ncols + 1, sizeof *cols);
	if (!cols)
		return oom(err);
	for (int c = 0; c < b->ncols; c++) {
		int rc = eng_column_take(&cols[c], &b->cols[c], idx, n, arena, err);
		if (rc)
			return rc;
	}
	out->nrows = n;
	out->ncols = b->ncols;
	out->cols = cols;
	out->schema = b->schema;
	return 0;
}

int eng_check_time(const floe_column *col, int64_t nrows, const char *name, floe_error *err)
{
	if (col->type.id != FLOE_TYPE_TIMESTAMP && col->type.id != FLOE_TYPE_TIMESTAMPTZ)
		return floe_error_set(err, FLOE_EINVALID,
		                      "time column '%s' must be timestamp or timestamptz", name);
	if (col->validity)
		for (int64_t r = 0; r < nrows; r++)
			if (!floe_column_is_valid(col, r))
				return floe_error_set(err, FLOE_EINVALID,
				                      "row %lld: time column '%s' is NULL; filter such "
				                      "rows out in an earlier step",
				                      (long long)r, name);
	return 0;
}

/* ---- appending ------------------------------------------------------------------------- */

static int concat_column(floe_column *out, const floe_batch *const *bs, int nb, int c,
                         int64_t total, floe_arena *arena, floe_error *err)
{
	const floe_type *t = &bs[0]->cols[c].type;
	memset(out, 0, sizeof *out);
	out->type = *t;
	int64_t nulls = 0;
	for (int i = 0; i < nb; i++) {
		const floe_column *s = &bs[i]->cols[c];
		if (!s->validity)
			continue;
		for (int64_t r = 0; r < bs[i]->nrows; r++)
			nulls += !floe_column_is_valid(s, r);
	}
	if (nulls) {
		uint8_t *bits = floe_arena_calloc(arena, (size_t)(total + 7) / 8 + 1, 1);
		if (!bits)
			return oom(err);
		int64_t at = 0;
		for (int i = 0; i < nb; i++) {
			const floe_column *s = &bs[i]->cols[c];
			for (int64_t r = 0; r < bs[i]->nrows; r++, at++)
				if (floe_column_is_valid(s, r))
					floe_bitmap_set(bits, at, true);
		}
		out->validity = bits;
		out->null_count = nulls;
	}
	if (floe_type_is_variable(t)) {
		int64_t bytes = 0;
		for (int i = 0; i < nb; i++) {
			const floe_column *s = &bs[i]->cols[c];
			if (bs[i]->nrows)
				bytes += s->offsets[bs[i]->nrows] - s->offsets[0];
		}
		int64_t *off = floe_arena_alloc(arena, (size_t)(total + 1) * sizeof *off);
		uint8_t *data = floe_arena_alloc(arena, (size_t)bytes);
		if (!off || !data)
			return oom(err);
		int64_t at = 0, pos = 0;
		off[0] = 0;
		for (int i = 0; i < nb; i++) {
			const floe_column *s = &bs[i]->cols[c];
			int64_t nr = bs[i]->nrows;
			if (nr == 0)
				continue;
			int64_t base = s->offsets[0], len = s->offsets[nr] - base;
			if (len)
				memcpy(data + pos, s->data + base, (size_t)len);
			for (int64_t r = 0; r < nr; r++)
				off[at + r + 1] = pos + (s->offsets[r + 1] - base);
			pos += len;
			at += nr;
		}
		out->offsets = off;
		out->data = data;
		return 0;
	}
	int w = floe_type_value_width(t);
	if (w <= 0)
		return floe_error_set(err, FLOE_EUNSUPPORTED, "cannot move values of type id %d",
		                      (int)t->id);
	uint8_t *v = floe_arena_alloc(arena, (size_t)total * (size_t)w);
	if (!v)
		return oom(err);
	size_t pos = 0;
	for (int i = 0; i < nb; i++) {
		size_t len = (size_t)bs[i]->nrows * (size_t)w;
		if (len)
			memcpy(v + pos, bs[i]->cols[c].values, len);
		pos += len;
	}
	out->values = v;
	return 0;
}

int floe_batch_concat(const floe_batch *const *bs, int n, floe_batch *out, floe_arena *arena,
                      floe_error *err)
{
	memset(out, 0, sizeof *out);
	if (n < 1 || !bs)
		return floe_error_set(err, FLOE_EINVALID, "concat needs at least one batch");
	int64_t total = 0;
	for (int i = 0; i < n; i++) {
		if (bs[i]->ncols != bs[0]->ncols)
			return floe_error_set(err, FLOE_EINVALID,
			                      "concat: batch %d has %d columns, batch 0 has %d", i,
			                      bs[i]->ncols, bs[0]->ncols);
		for (int c = 0; c < bs[0]->ncols; c++)
			if (!eng_type_same(&bs[i]->cols[c].type, &bs[0]->cols[c].type))
				return floe_error_set(err, FLOE_EINVALID,
				                      "concat: column %d of batch %d differs in type from "
				                      "batch 0; cast the inputs to one schema first",
				                      c, i);
		if (__builtin_add_overflow(total, bs[i]->nrows, &total))
			return floe_error_set(err, FLOE_EINVALID, "concat: too many rows");
	}
	floe_column *cols = floe_arena_calloc(arena, (size_t)bs[0]->ncols + 1, sizeof *cols);
	if (!cols)
		return oom(err);
	for (int c = 0; c < bs[0]->ncols; c++) {
		int rc = concat_column(&cols[c], bs, n, c, total, arena, err);
		if (rc)
			return rc;
	}
	out->nrows = total;
	out->ncols = bs[0]->ncols;
	out->cols = cols;
	out->schema = bs[0]->schema;
	return 0;
}
