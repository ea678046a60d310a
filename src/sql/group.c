/* sql/group.c - rows handed to SQLite grouped by key columns, so that a
 * GROUP BY on plain columns runs as one streaming pass instead of through
 * SQLite's sorter. The scan's rows (only the columns the statement uses)
 * are copied into column buffers, each row gets a group by hashing its key
 * (xxHash) into an open-addressing table, the groups are put in the order
 * of their keys as SQLite compares them (with each key's direction), and a
 * counting sort by group gives the order rows leave in. Memory is bounded: past a budget the
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
	bool *desc;
	int nkeys;
	int64_t nrows, rows_cap;
	uint64_t *hash;         /* per row */
	int64_t *order;         /* rows in group order */
	size_t bytes;           /* held by the buffers (capacity) */
	size_t used;            /* taken by the rows now held */
	size_t budget;
	struct sq_group *bounds; /* split points on the first key, ascending */
};

int sq_group_new(sq_group **out, const floe_batch *like, const int *keys, const bool *desc,
                 int nkeys, size_t budget)
{
	sq_group *g = calloc(1, sizeof *g);
	if (!g)
		return FLOE_ENOMEM;
	g->ncols = like->ncols;
	g->cols = calloc((size_t)like->ncols + 1, sizeof *g->cols);
	g->keys = malloc(((size_t)nkeys + 1) * sizeof *g->keys);
	g->desc = malloc(((size_t)nkeys + 1) * sizeof *g->desc);
	if (!g->cols || !g->keys || !g->desc) {
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
	memcpy(g->desc, desc, (size_t)nkeys * sizeof *desc);
	g->nkeys = nkeys;
	g->budget = budget;
	*out = g;
	return 0;
}

static int cmp_cols(const colbuf *cb, const floe_column *ca, int64_t a, const floe_column *cx,
                    int64_t b);

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
	sq_group_free(g->bounds);
	free(g->keys);
	free(g->desc);
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

/* The pass of row r of b: how many split points its first key lies
 * above (counted from the far end for a descending first key). */
static int row_part(const sq_group *g, const floe_batch *b, int64_t r, int nparts)
{
	const sq_group *bd = g->bounds;
	if (!bd)
		return 0;
	int k0 = g->keys[0];
	const colbuf *cb = &bd->cols[k0];
	int64_t lo = 0, hi = bd->nrows; /* first bound >= key */
	while (lo < hi) {
		int64_t mid = (lo + hi) / 2;
		if (cmp_cols(cb, &cb->col, mid, &b->cols[k0], r) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	int p = (int)lo;
	if (p >= nparts)
		p = nparts - 1;
	return g->desc[0] ? nparts - 1 - p : p;
}

int sq_group_split(sq_group *g, int nparts)
{
	if (sq_group_finish(g))
		return FLOE_ENOMEM;
	sq_group_free(g->bounds);
	g->bounds = NULL;
	floe_batch view = { .nrows = g->nrows, .ncols = g->ncols };
	view.cols = malloc((size_t)g->ncols * sizeof *view.cols);
	if (!view.cols)
		return FLOE_ENOMEM;
	for (int c = 0; c < g->ncols; c++)
		view.cols[c] = g->cols[c].col;
	bool asc = false;
	int rc = sq_group_new(&g->bounds, &view, g->keys, &asc, 1, SIZE_MAX);
	/* rows leave in key order (descending first keys reversed): take
	 * every n/nparts-th row's key as a split point, ascending */
	for (int p = 1; p < nparts && !rc; p++) {
		int64_t i = g->nrows * p / nparts;
		int64_t row = g->order[g->desc[0] ? g->nrows - 1 - i : i];
		if (g->bounds->nrows > 0) {
			const colbuf *cb = &g->bounds->cols[g->keys[0]];
			if (cmp_cols(cb, &cb->col, g->bounds->nrows - 1, &view.cols[g->keys[0]], row) >= 0)
				continue; /* the same first key again */
		}
		rc = put_row(g->bounds, &view, row);
	}
	free(view.cols);
	return rc;
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
	int k0 = g->keys[0], last = -1;
	const colbuf *cb0 = &g->cols[k0];
	for (int64_t r = 0; r < b->nrows; r++) {
		/* runs of one first key (sorted files) share the pass */
		if (last < 0 || cmp_cols(cb0, &b->cols[k0], r - 1, &b->cols[k0], r) != 0)
			last = row_part(g, b, r, nparts);
		if (last != part)
			continue;
		uint64_t h = key_hash(g, b, r);
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

/* A key column's value at row r as SQLite orders it: NULL (and NaN, which
 * SQLite reads as NULL) first, numbers by value, text and blobs by bytes. */
static int cmp_cols(const colbuf *cb, const floe_column *ca, int64_t a, const floe_column *cx,
                    int64_t b)
{
	bool va = floe_column_is_valid(ca, a), vb = floe_column_is_valid(cx, b);
	double x = 0, y = 0;
	if (cb->is_double || cb->is_float) {
		if (va)
			x = cb->is_double ? ((const double *)ca->values)[a] : ((const float *)ca->values)[a];
		if (vb)
			y = cb->is_double ? ((const double *)cx->values)[b] : ((const float *)cx->values)[b];
		va = va && !isnan(x);
		vb = vb && !isnan(y);
	}
	if (!va || !vb)
		return (int)va - (int)vb;
	if (cb->is_double || cb->is_float)
		return (x > y) - (x < y);
	if (cb->width == 0) {
		int64_t la = ca->offsets[a + 1] - ca->offsets[a];
		int64_t lb = cx->offsets[b + 1] - cx->offsets[b];
		int c = memcmp(ca->data + ca->offsets[a], cx->data + cx->offsets[b],
		               (size_t)(la < lb ? la : lb));
		return c ? c : (la > lb) - (la < lb);
	}
	const floe_type *t = &cb->col.type;
	const uint8_t *pa = (const uint8_t *)ca->values + (size_t)a * cb->width;
	const uint8_t *pb = (const uint8_t *)cx->values + (size_t)b * cb->width;
	switch (t->id) {
	case FLOE_TYPE_BOOLEAN:
		return (int)*pa - (int)*pb;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_DATE: {
		int32_t i, j;
		memcpy(&i, pa, 4);
		memcpy(&j, pb, 4);
		return (i > j) - (i < j);
	}
	case FLOE_TYPE_DECIMAL:
		if (cb->width == 16) { /* big-endian two's complement */
			if ((pa[0] ^ pb[0]) & 0x80)
				return (pa[0] & 0x80) ? -1 : 1;
			return memcmp(pa, pb, 16);
		}
		/* fall through */
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS: {
		int64_t i, j;
		memcpy(&i, pa, 8);
		memcpy(&j, pb, 8);
		if (t->is_unsigned)
			return ((uint64_t)i > (uint64_t)j) - ((uint64_t)i < (uint64_t)j);
		return (i > j) - (i < j);
	}
	default: /* uuid (its text sorts as its bytes), fixed */
		return memcmp(pa, pb, (size_t)cb->width);
	}
}

static const sq_group *sort_group; /* qsort has no context argument */
static const int64_t *sort_first;

static int cmp_groups(const void *x, const void *y)
{
	int64_t a = sort_first[*(const int64_t *)x], b = sort_first[*(const int64_t *)y];
	for (int k = 0; k < sort_group->nkeys; k++) {
		const colbuf *cb = &sort_group->cols[sort_group->keys[k]];
		int c = cmp_cols(cb, &cb->col, a, &cb->col, b);
		if (c)
			return sort_group->desc[k] ? -c : c;
	}
	return 0;
}

/* Put the rows in g->order's order once (SQLite then reads the columns
 * front to back instead of jumping through the order for every value);
 * afterwards row i is the i-th to leave. Holds twice the rows briefly. */
static int gather(sq_group *g)
{
	int64_t n = g->nrows;
	const int64_t *ord = g->order;
	for (int c = 0; c < g->ncols; c++) {
		colbuf *cb = &g->cols[c];
		floe_column *col = &cb->col;
		size_t vb = ((size_t)n + 8) / 8 + 1;
		uint8_t *valid = malloc(vb);
		if (!valid)
			return FLOE_ENOMEM;
		memset(valid, 0, vb);
		for (int64_t i = 0; i < n; i++)
			if (floe_column_is_valid(col, ord[i]))
				valid[i >> 3] |= (uint8_t)(1u << (i & 7));
		if (cb->width == 0) {
			int64_t *off = malloc(((size_t)n + 1) * sizeof *off);
			uint8_t *data = malloc((size_t)col->offsets[n] + 1);
			if (!off || !data) {
				free(valid);
				free(off);
				free(data);
				return FLOE_ENOMEM;
			}
			int64_t at = 0;
			off[0] = 0;
			for (int64_t i = 0; i < n; i++) {
				int64_t a = col->offsets[ord[i]], len = col->offsets[ord[i] + 1] - a;
				memcpy(data + at, col->data + a, (size_t)len);
				at += len;
				off[i + 1] = at;
			}
			free(col->offsets);
			free(col->data);
			col->offsets = off;
			col->data = data;
			cb->vcap = ((size_t)n + 1) * sizeof *off;
			cb->dcap = (size_t)at + 1;
		} else {
			size_t w = (size_t)cb->width;
			uint8_t *vals = malloc((size_t)n * w + 1);
			if (!vals) {
				free(valid);
				return FLOE_ENOMEM;
			}
			const uint8_t *src = col->values;
			if (w == 8)
				for (int64_t i = 0; i < n; i++)
					memcpy(vals + (size_t)i * 8, src + (size_t)ord[i] * 8, 8);
			else
				for (int64_t i = 0; i < n; i++)
					memcpy(vals + (size_t)i * w, src + (size_t)ord[i] * w, w);
			free(col->values);
			col->values = vals;
			cb->vcap = (size_t)n * w + 1;
		}
		free(col->validity);
		col->validity = valid;
		cb->bcap = vb;
	}
	for (int64_t i = 0; i < n; i++)
		g->order[i] = i;
	return 0;
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
				first[ngroups] = r; /* the group's first row */
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
	/* the groups in key order: rank[group] */
	int64_t *byrank = malloc((size_t)ngroups * sizeof *byrank);
	if (!byrank) {
		free(table);
		free(gid);
		free(first);
		return FLOE_ENOMEM;
	}
	for (int64_t k = 0; k < ngroups; k++)
		byrank[k] = k;
	sort_group = g;
	sort_first = first;
	qsort(byrank, (size_t)ngroups, sizeof *byrank, cmp_groups);
	int64_t *rank = table; /* the hash table is done with */
	for (int64_t k = 0; k < ngroups; k++)
		rank[byrank[k]] = k;
	free(byrank);
	for (int64_t r = 0; r < n; r++)
		gid[r] = rank[gid[r]];
	/* counting sort by group, rows in scan order within a group */
	memset(first, 0, (size_t)ngroups * sizeof *first);
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
	return gather(g);
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
