/* bench/trades_gen.h - the synthetic stock trades both benchmarks write:
 * 500 symbols with skewed popularity, random-walk prices in cents, Pareto
 * volumes, unique trade ids, time-ordered timestamps. Deterministic (fixed
 * seed); one reusable batch of BATCH_ROWS rows. Include after bench_util.h. */
#ifndef FLOE_BENCH_TRADES_GEN_H
#define FLOE_BENCH_TRADES_GEN_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "floe/batch.h"

#define BATCH_ROWS 65536
#define NSYMBOLS 500

static const char *const SCHEMA =
	"trade_id string not null, symbol string not null, price double not null, "
	"volume long not null, ts timestamptz not null, side string not null, "
	"exchange string not null";

static const char *const EXCHANGES[6] = { "NYSE", "NASDAQ", "ARCA", "BATS", "IEX", "EDGX" };


/* One batch with malloc'ed column buffers. */
typedef struct gen_batch {
	floe_batch b;
	floe_column cols[7];
} gen_batch;

typedef struct gen_state {
	char symbols[NSYMBOLS][8];
	double prices[NSYMBOLS];
	int64_t next_id;
	int64_t ts;    /* micros since epoch */
	uint64_t step; /* ts rises by 0 .. step-1 micros per trade */
} gen_state;

/* Start (or restart) the stream: the same seed, so every run and every
 * phase sees the same rows; timestamps from 2024-01-01 rising by 0 ..
 * step-1 micros per trade. */
static void gen_init(gen_state *g, uint64_t step)
{
	rng_state = 0x9E3779B97F4A7C15ull;
	for (int i = 0; i < NSYMBOLS; i++) {
		int len = 3 + (int)(rng_next() % 3); /* 3..5 letters */
		for (int j = 0; j < len; j++)
			g->symbols[i][j] = (char)('A' + rng_next() % 26);
		g->symbols[i][len] = 0;
		g->prices[i] = 5.0 + rng_unit() * 495.0;
	}
	g->next_id = 1;
	g->ts = 1704067200000000LL; /* 2024-01-01T00:00:00Z */
	g->step = step ? step : 1;
}

/* "T" + 12 zero-padded decimal digits (ids stay below 10^12) */
static void format_id(char id[13], int64_t v)
{
	id[0] = 'T';
	for (int i = 12; i >= 1; i--) {
		id[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

static void str_col_alloc(floe_column *c, int64_t n, int64_t maxlen)
{
	c->type.id = FLOE_TYPE_STRING;
	c->offsets = malloc((size_t)(n + 1) * sizeof(int64_t));
	c->data = malloc((size_t)(n * maxlen));
	if (c->offsets)
		c->offsets[0] = 0;
}

static void str_put(floe_column *c, int64_t row, const char *s, size_t len)
{
	int64_t off = c->offsets[row];
	memcpy(c->data + off, s, len);
	c->offsets[row + 1] = off + (int64_t)len;
}

/* Allocate buffers for BATCH_ROWS rows; 0 or -1 when out of memory. */
static int gen_alloc(gen_batch *gb, const floe_schema *schema)
{
	floe_column *c = gb->cols;
	int64_t n = BATCH_ROWS;

	memset(gb, 0, sizeof(*gb));
	str_col_alloc(&c[0], n, 13);
	str_col_alloc(&c[1], n, 5);
	c[2].type.id = FLOE_TYPE_DOUBLE;
	c[2].values = malloc((size_t)n * sizeof(double));
	c[3].type.id = FLOE_TYPE_LONG;
	c[3].values = malloc((size_t)n * sizeof(int64_t));
	c[4].type.id = FLOE_TYPE_TIMESTAMPTZ;
	c[4].values = malloc((size_t)n * sizeof(int64_t));
	str_col_alloc(&c[5], n, 4);
	str_col_alloc(&c[6], n, 6);
	gb->b.ncols = 7;
	gb->b.cols = gb->cols;
	gb->b.schema = schema;
	for (int i = 0; i < 7; i++)
		if ((c[i].type.id == FLOE_TYPE_STRING && (!c[i].offsets || !c[i].data)) ||
		    (c[i].type.id != FLOE_TYPE_STRING && !c[i].values))
			return -1;
	return 0;
}

/* Fill `gb` with the next `n` (<= BATCH_ROWS) rows of the generator. */
static void gen_fill(gen_batch *gb, gen_state *g, int64_t n)
{
	floe_column *c = gb->cols;
	double *price = c[2].values;
	int64_t *vol = c[3].values, *ts = c[4].values;

	for (int64_t r = 0; r < n; r++) {
		char id[13];
		format_id(id, g->next_id++);
		str_put(&c[0], r, id, 13);
		/* skewed symbol popularity: squaring a uniform favours low ids */
		double u = rng_unit();
		int s = (int)(u * u * NSYMBOLS);
		if (s >= NSYMBOLS)
			s = NSYMBOLS - 1;
		str_put(&c[1], r, g->symbols[s], strlen(g->symbols[s]));
		/* random walk in cents, kept positive */
		double p = g->prices[s] + ((double)(int)(rng_next() % 21) - 10.0) * 0.01;
		if (p < 1.0)
			p = 1.0;
		g->prices[s] = p;
		price[r] = round(p * 100.0) / 100.0;
		/* heavy tail: Pareto(alpha 1.2) number of 100-share lots, capped */
		double v = 1.0 / pow(1.0 - rng_unit() * 0.999999, 1.0 / 1.2);
		if (v > 1e6)
			v = 1e6;
		vol[r] = (int64_t)v * 100;
		g->ts += (int64_t)(rng_next() % g->step);
		ts[r] = g->ts;
		if (rng_next() & 1)
			str_put(&c[5], r, "BUY", 3);
		else
			str_put(&c[5], r, "SELL", 4);
		const char *ex = EXCHANGES[rng_next() % 6];
		str_put(&c[6], r, ex, strlen(ex));
	}
	gb->b.nrows = n;
}

static void gen_free(gen_batch *gb)
{
	for (int i = 0; i < 7; i++) {
		free(gb->cols[i].values);
		free(gb->cols[i].offsets);
		free(gb->cols[i].data);
	}
}

#endif
