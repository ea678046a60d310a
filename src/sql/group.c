/* sql/group.c - rows handed to SQLite grouped by key columns, so that a
 * GROUP BY on plain columns runs as one streaming pass instead of through
 * SQLite's sorter. The scan's rows (only the columns the statement uses)
 * are copied into column buffers, each row gets a group by hashing its key
 * (xxHash) into an open-addressing table, and a counting sort by group
 * gives the order rows leave in. Memory is bounded: past a budget the
 * caller restarts with the rows split by key hash into partitions, read
 * one partition per pass (a group lives in exactly one partition). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "sql/sql_int.h"

typedef struct colbuf {
	floe_column col;        /* view handed out: values/offsets/data/validity */
	size_t vcap, dcap, bcap; /* capacities: values bytes, data bytes, validity bytes */
	int width;              /* fixed width, 0 = variable */
	bool is_double, is_float;
} colbuf;

struct sq_group {
	int ncols;
	colbuf *cols;
	int *keys;
	int nkeys;
	int64_t nrows, rows_cap;
	uint64_t *hash;         /* per row */
	int64_t *order;         /* rows in group order */
	size_t bytes;           /* held by the buffers (capacity) */
	size_t used;            /* taken by the rows now held */
	size_t budget;
};

int sq_group_new(sq_group **out, const floe_batch *like, const int *keys, int nkeys,
                 size_t budget)
{
	sq_group *g = calloc(1, sizeof *g);
	if (!g)
		return FLOE_ENOMEM;
	g->ncols = like->ncols;
	g->cols = calloc((size_t)like->ncols + 1, sizeof *g->cols);
	g->keys = malloc(((size_t)nkeys + 1) * sizeof *g->keys);
	if (!g->cols || !g->keys) {
		sq_group_free(g);
		return FLOE_ENOMEM;
	}
	for (int c = 0; c < like->ncols; c++) {
		colbuf *cb = &g->cols[c];
		cb->col.type = like->cols[c].type;
		cb->width = floe_type_value_width(&cb->col.type);
		cb->is_double = cb->col.type.id == FLOE_TYPE_DOUBLE;
		cb->is_float = cb->col.type.id == FLOE_TYPE_FLOAT;
	}
	memcpy(g->keys, keys, (size_t)nkeys * sizeof *keys);
	g->nkeys = nkeys;
	g->budget = budget;
	*out = g;
	return 0;
}

void sq_group_free(sq_group *g)
{
	if (!g)
		return;
	for (int c = 0; c < g->ncols && g->cols; c++) {
		free(g->cols[c].col.values);
		free(g->cols[c].col.validity);
		free(g->cols[c].col.offsets);
		free(g->cols[c].col.data);
	}
	free(g->cols);
	free(g->keys);
	free(g->hash);
	free(g->order);
	free(g);
}

void sq_group_clear(sq_group *g)
{
	g->nrows = 0;
	g->used = 0;
	for (int c = 0; c < g->ncols; c++)
		g->cols[c].col.null_count = 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t *bytes)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 4096;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n);
	if (!q)
		return FLOE_ENOMEM;
	*bytes += n - *cap;
	*p = q;
	*cap = n;
	return 0;
}

/* The hash of row `r`'s key in batch `b`. Doubles hash by value as SQLite
 * compares them: -0.0 as 0.0, NaN (NULL to SQLite) as NULL. */
static uint64_t key_hash(const sq_group *g, const floe_batch *b, int64_t r)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;
	for (int k = 0; k < g->nkeys; k++) {
		const floe_column *col = &b->cols[g->keys[k]];
		const colbuf *cb = &g->cols[g->keys[k]];
		if (!floe_column_is_valid(col, r)) {
			h = XXH3_64bits_withSeed("\0", 1, h);
			continue;
		}
		if (cb->width == 0) {
			h = XXH3_64bits_withSeed(col->data + col->offsets[r],
			                         (size_t)(col->offsets[r + 1] - col->offsets[r]), h + 1);
		} else if (cb->is_double || cb->is_float) {
			double d = cb->is_double ? ((const double *)col->values)[r]
			                         : ((const float *)col->values)[r];
			if (isnan(d)) {
				h = XXH3_64bits_withSeed("\0", 1, h);
				continue;
			}
			if (d == 0)
				d = 0;
			h = XXH3_64bits_withSeed(&d, sizeof d, h + 1);
		} else {
			h = XXH3_64bits_withSeed((const uint8_t *)col->values + (size_t)r * cb->width,
			                         (size_t)cb->width, h + 1);
		}
	}
	return h;
}

/* Copy row `r` of `b` to the end of the buffers. */
static int put_row(sq_group *g, const floe_batch *b, int64_t r)
{
	int64_t at = g->nrows;
	for (int c = 0; c < g->ncols; c++) {
		colbuf *cb = &g->cols[c];
		const floe_column *src = &b->cols[c];
		size_t vb = ((size_t)at + 8) / 8 + 1;
		if (grow((void **)&cb->col.validity, &cb->bcap, vb, &g->bytes))
			return FLOE_ENOMEM;
		bool valid = floe_column_is_valid(src, r);
		floe_bitmap_set(cb->col.validity, at, valid);
		cb->col.null_count += !valid;
		if (cb->width == 0) {
			size_t need = ((size_t)at + 2) * sizeof(int64_t);
			size_t ocap = cb->vcap;
			if (grow((void **)&cb->col.offsets, &ocap, need, &g->bytes))
				return FLOE_ENOMEM;
			cb->vcap = ocap;
			int64_t start = at ? cb->col.offsets[at] : 0;
			int64_t len = valid ? src->offsets[r + 1] - src->offsets[r] : 0;
			if (grow((void **)&cb->col.data, &cb->dcap, (size_t)(start + len) + 1, &g->bytes))
				return FLOE_ENOMEM;
			if (len)
				memcpy(cb->col.data + start, src->data + src->offsets[r], (size_t)len);
			g->used += (size_t)len + sizeof(int64_t);
			cb->col.offsets[at] = start;
			cb->col.offsets[at + 1] = start + len;
		} else {
			if (grow((void **)&cb->col.values, &cb->vcap, ((size_t)at + 1) * cb->width,
			         &g->bytes))
				return FLOE_ENOMEM;
			memcpy((uint8_t *)cb->col.values + (size_t)at * cb->width,
			       (const uint8_t *)src->values + (size_t)r * cb->width, (size_t)cb->width);
			g->used += (size_t)cb->width;
		}
	}
	g->nrows++;
	return 0;
}

/* Copy all of `b` to the end of the buffers, column by column. */
static int put_batch(sq_group *g, const floe_batch *b)
{
	int64_t at = g->nrows, n = b->nrows;
	for (int c = 0; c < g->ncols; c++) {
		colbuf *cb = &g->cols[c];
		const floe_column *src = &b->cols[c];
		if (grow((void **)&cb->col.validity, &cb->bcap, ((size_t)(at + n) + 8) / 8 + 1,
		         &g->bytes))
			return FLOE_ENOMEM;
		for (int64_t r = 0; r < n; r++) {
			bool valid = floe_column_is_valid(src, r);
			floe_bitmap_set(cb->col.validity, at + r, valid);
		}
		cb->col.null_count += src->validity ? src->null_count : 0;
		if (cb->width == 0) {
			size_t ocap = cb->vcap;
			if (grow((void **)&cb->col.offsets, &ocap, ((size_t)(at + n) + 1) * sizeof(int64_t),
			         &g->bytes))
				return FLOE_ENOMEM;
			cb->vcap = ocap;
			int64_t start = at ? cb->col.offsets[at] : 0;
			int64_t len = src->offsets[n] - src->offsets[0];
			if (grow((void **)&cb->col.data, &cb->dcap, (size_t)(start + len) + 1, &g->bytes))
				return FLOE_ENOMEM;
			if (len)
				memcpy(cb->col.data + start, src->data + src->offsets[0], (size_t)len);
			int64_t shift = start - src->offsets[0];
			cb->col.offsets[at] = start;
			for (int64_t r = 0; r < n; r++)
				cb->col.offsets[at + r + 1] = src->offsets[r + 1] + shift;
			g->used += (size_t)len + (size_t)n * sizeof(int64_t);
		} else {
			size_t w = (size_t)cb->width;
			if (grow((void **)&cb->col.values, &cb->vcap, (size_t)(at + n) * w, &g->bytes))
				return FLOE_ENOMEM;
			memcpy((uint8_t *)cb->col.values + (size_t)at * w, src->values, (size_t)n * w);
			g->used += (size_t)n * w;
		}
	}
	g->nrows += n;
	g->used += (size_t)n * (sizeof *g->hash + 3 * sizeof(int64_t));
	return 0;
}

int sq_group_add(sq_group *g, const floe_batch *b, int part, int nparts)
{
	if (g->nrows + b->nrows > g->rows_cap) {
		int64_t cap = g->rows_cap ? g->rows_cap : 65536;
		while (cap < g->nrows + b->nrows)
			cap *= 2;
		uint64_t *h = realloc(g->hash, (size_t)cap * sizeof *h);
		if (!h)
			return FLOE_ENOMEM;
		g->bytes += (size_t)(cap - g->rows_cap) * sizeof *h;
		g->hash = h;
		g->rows_cap = cap;
	}
	if (nparts == 1) {
		for (int64_t r = 0; r < b->nrows; r++)
			g->hash[g->nrows + r] = key_hash(g, b, r);
		if (put_batch(g, b))
			return FLOE_ENOMEM;
		return g->used > g->budget ? 1 : 0;
	}
	for (int64_t r = 0; r < b->nrows; r++) {
		uint64_t h = key_hash(g, b, r);
		if ((int)((h >> 40) % (uint64_t)nparts) != part)
			continue;
		g->hash[g->nrows] = h;
		if (put_row(g, b, r))
			return FLOE_ENOMEM;
		g->used += sizeof *g->hash + 3 * sizeof(int64_t); /* + the finish arrays */
	}
	return g->used > g->budget ? 1 : 0;
}

size_t sq_group_bytes(const sq_group *g)
{
	return g->used;
}

static bool same_key(const sq_group *g, int64_t a, int64_t b)
{
	for (int k = 0; k < g->nkeys; k++) {
		const colbuf *cb = &g->cols[g->keys[k]];
		const floe_column *col = &cb->col;
		bool va = floe_column_is_valid(col, a), vb = floe_column_is_valid(col, b);
		if (cb->is_double || cb->is_float) {
			double x = va ? (cb->is_double ? ((const double *)col->values)[a]
			                               : ((const float *)col->values)[a]) : NAN;
			double y = vb ? (cb->is_double ? ((const double *)col->values)[b]
			                               : ((const float *)col->values)[b]) : NAN;
			if (isnan(x) != isnan(y) || (!isnan(x) && x != y))
				return false;
			continue;
		}
		if (va != vb)
			return false;
		if (!va)
			continue;
		if (cb->width == 0) {
			int64_t la = col->offsets[a + 1] - col->offsets[a];
			int64_t lb = col->offsets[b + 1] - col->offsets[b];
			if (la != lb || memcmp(col->data + col->offsets[a], col->data + col->offsets[b],
			                       (size_t)la) != 0)
				return false;
		} else if (memcmp((const uint8_t *)col->values + (size_t)a * cb->width,
		                  (const uint8_t *)col->values + (size_t)b * cb->width,
		                  (size_t)cb->width) != 0)
			return false;
	}
	return true;
}

int sq_group_finish(sq_group *g)
{
	int64_t n = g->nrows;
	free(g->order);
	g->order = NULL;
	if (n == 0)
		return 0;
	size_t slots = 1024;
	while (slots < (size_t)n * 2 && slots < ((size_t)1 << 40))
		slots *= 2;
	/* slot -> first row of its group + 1; rows -> group id */
	int64_t *table = calloc(slots, sizeof *table);
	int64_t *gid = malloc((size_t)n * sizeof *gid);
	int64_t *first = malloc((size_t)n * sizeof *first);
	g->order = malloc((size_t)n * sizeof *g->order);
	if (!table || !gid || !first || !g->order) {
		free(table);
		free(gid);
		free(first);
		return FLOE_ENOMEM;
	}
	int64_t ngroups = 0;
	for (int64_t r = 0; r < n; r++) {
		size_t s = (size_t)g->hash[r] & (slots - 1);
		for (;;) {
			int64_t e = table[s];
			if (e == 0) {
				table[s] = r + 1;
				first[ngroups] = 0;
				gid[r] = ngroups++;
				break;
			}
			int64_t o = e - 1;
			if (g->hash[o] == g->hash[r] && same_key(g, o, r)) {
				gid[r] = gid[o];
				break;
			}
			s = (s + 1) & (slots - 1);
		}
	}
	/* counting sort by group, rows in scan order within a group */
	for (int64_t r = 0; r < n; r++)
		first[gid[r]]++;
	int64_t sum = 0;
	for (int64_t k = 0; k < ngroups; k++) {
		int64_t c = first[k];
		first[k] = sum;
		sum += c;
	}
	for (int64_t r = 0; r < n; r++)
		g->order[first[gid[r]]++] = r;
	free(table);
	free(gid);
	free(first);
	return 0;
}

int64_t sq_group_rows(const sq_group *g)
{
	return g->nrows;
}

const floe_column *sq_group_column(const sq_group *g, int c)
{
	return &g->cols[c].col;
}

int64_t sq_group_row(const sq_group *g, int64_t i)
{
	return g->order[i];
}
