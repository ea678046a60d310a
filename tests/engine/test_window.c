/* tests/engine/test_window.c - floe_window: one-minute OHLC bars over a
 * Silver trades batch checked value by value against a plain reference,
 * independence from row order and batching, hopping windows, from/to,
 * negative times, empty input, NULL arguments, string min/max, overflow
 * and spec errors. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "floe/window.h"
#include "harness.h"

#define MIN_US INT64_C(60000000)
#define T0 INT64_C(1704205800000000) /* 2024-01-02T14:30:00Z */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

typedef struct trade {
	char id[24];
	const char *symbol;
	double price;
	bool price_null;
	int64_t volume;
	const char *side;
	const char *exchange;
	int64_t t;
} trade;

static const char *trades_schema = "trade_id string not null, symbol string not null, "
                                   "price double, volume long, side string, exchange string, "
                                   "event_time timestamptz not null";

/* n trades over `minutes` minutes from `base`: ids unrelated to time,
 * times on a 250 ms grid so many trades share a time. */
static trade *make_trades(int n, int64_t base, int minutes)
{
	static const char *syms[] = { "AAPL", "MSFT", "GOOG", "NVDA" };
	static const char *exch[] = { "NASDAQ", "NYSE", "ARCA" };
	trade *t = calloc((size_t)n, sizeof *t);
	double px[4] = { 185.0, 370.0, 140.0, 480.0 };
	for (int i = 0; i < n; i++) {
		int s = (int)(rnd() % 4);
		px[s] *= 1.0 + ((double)(rnd() % 2001) - 1000.0) / 1e6;
		snprintf(t[i].id, sizeof t[i].id, "T%07d", (int)((uint64_t)i * 7919 % 1000003));
		t[i].symbol = syms[s];
		t[i].price = px[s];
		t[i].volume = (int64_t)(rnd() % 1000) + 1;
		t[i].side = rnd() % 2 ? "BUY" : "SELL";
		t[i].exchange = exch[rnd() % 3];
		t[i].t = base + (int64_t)(rnd() % (uint64_t)(minutes * 240)) * 250000;
	}
	return t;
}

static void shuffle_idx(int *idx, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(rnd() % (uint64_t)(i + 1)), x = idx[i];
		idx[i] = idx[j];
		idx[j] = x;
	}
}

/* A builder holding trades idx[0..n) in that order. */
static floe_batch_builder *build(const floe_schema *s, const trade *t, const int *idx, int n)
{
	floe_batch_builder *b = NULL;
	floe_error err;
	if (floe_batch_builder_new(&b, s, &err) != 0)
		return NULL;
	for (int k = 0; k < n; k++) {
		const trade *x = &t[idx ? idx[k] : k];
		floe_batch_builder_bytes(b, 0, x->id, (int64_t)strlen(x->id), &err);
		floe_batch_builder_bytes(b, 1, x->symbol, (int64_t)strlen(x->symbol), &err);
		if (x->price_null)
			floe_batch_builder_null(b, 2, &err);
		else
			floe_batch_builder_f64(b, 2, x->price, &err);
		floe_batch_builder_i64(b, 3, x->volume, &err);
		floe_batch_builder_bytes(b, 4, x->side, (int64_t)strlen(x->side), &err);
		floe_batch_builder_bytes(b, 5, x->exchange, (int64_t)strlen(x->exchange), &err);
		floe_batch_builder_i64(b, 6, x->t, &err);
	}
	return b;
}

static const char *bar_names[] = { "open", "high", "low", "close", "volume", "trade_count",
	                           "vwap", "buy_volume", "volatility" };
static const char *bar_exprs[] = {
	"first(price)", "max(price)", "min(price)", "last(price)", "sum(volume)", "count(*)",
	"sum(price * volume) / sum(volume)",
	"sum(CASE WHEN side = 'BUY' THEN volume ELSE 0 END)",
	"stddev_samp(ln(price / lag(price)))",
};
static const char *bar_keys[] = { "symbol" };
static const char *bar_order[] = { "trade_id" };

static floe_window_spec bar_spec(int64_t size, int64_t slide)
{
	floe_window_spec ws;
	memset(&ws, 0, sizeof ws);
	ws.keys = bar_keys;
	ws.nkeys = 1;
	ws.time = "event_time";
	ws.size_us = size;
	ws.slide_us = slide;
	ws.order = bar_order;
	ws.norder = 1;
	ws.names = bar_names;
	ws.exprs = bar_exprs;
	ws.nout = 9;
	return ws;
}

/* ---- the reference ------------------------------------------------------------ */

typedef struct ref_bar {
	const char *symbol;
	int64_t start;
	double open, high, low, close, vwap, volatility;
	bool price_any, vol_null;
	int64_t volume, count, buy;
} ref_bar;

static int by_time_id(const void *a, const void *b)
{
	const trade *x = *(const trade *const *)a, *y = *(const trade *const *)b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b < 0) ? q - 1 : q;
}

/* The bar of the trades of `sym` with t in [start, start + size), taken in
 * (time, trade_id) order. Returns false when there are none. */
static bool ref_window(const trade *t, int n, const char *sym, int64_t start, int64_t size,
                       ref_bar *out)
{
	const trade **rows = malloc((size_t)n * sizeof *rows);
	int m = 0;
	for (int i = 0; i < n; i++)
		if (strcmp(t[i].symbol, sym) == 0 && t[i].t >= start && t[i].t < start + size)
			rows[m++] = &t[i];
	if (m == 0) {
		free(rows);
		return false;
	}
	qsort(rows, (size_t)m, sizeof *rows, by_time_id);
	memset(out, 0, sizeof *out);
	out->symbol = sym;
	out->start = start;
	out->count = m;
	double pv = 0;
	double *rets = malloc((size_t)m * sizeof *rets);
	int nret = 0;
	const trade *prev = NULL;
	for (int i = 0; i < m; i++) {
		const trade *x = rows[i];
		out->volume += x->volume;
		if (strcmp(x->side, "BUY") == 0)
			out->buy += x->volume;
		if (!x->price_null) {
			if (!out->price_any) {
				out->open = out->high = out->low = x->price;
				out->price_any = true;
			}
			if (x->price > out->high)
				out->high = x->price;
			if (x->price < out->low)
				out->low = x->price;
			out->close = x->price;
			pv += x->price * (double)x->volume;
		}
		/* lag(price): the previous row of the window, NULL or not */
		if (prev && !prev->price_null && !x->price_null)
			rets[nret++] = log(x->price / prev->price);
		prev = x;
	}
	out->vwap = pv / (double)out->volume;
	out->vol_null = nret < 2;
	if (nret >= 2) {
		double mean = 0, ss = 0;
		for (int i = 0; i < nret; i++)
			mean += rets[i];
		mean /= nret;
		for (int i = 0; i < nret; i++)
			ss += (rets[i] - mean) * (rets[i] - mean);
		out->volatility = sqrt(ss / (nret - 1));
	}
	free(rets);
	free(rows);
	return true;
}

/* Every bar of the trades, sorted by (start, symbol): *out malloc'ed. */
static int ref_bars(const trade *t, int n, int64_t size, int64_t slide, int64_t from, int64_t to,
                    ref_bar **out)
{
	static const char *syms[] = { "AAPL", "GOOG", "MSFT", "NVDA" }; /* byte order */
	int cap = 64, m = 0;
	ref_bar *bars = malloc((size_t)cap * sizeof *bars);
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (int i = 0; i < n; i++) {
		if (t[i].t < lo)
			lo = t[i].t;
		if (t[i].t > hi)
			hi = t[i].t;
	}
	for (int64_t st = floor_div(lo - size, slide) * slide; st <= hi && n > 0; st += slide)
		for (int s = 0; s < 4; s++) {
			if (st < from || st >= to)
				continue;
			ref_bar b;
			if (!ref_window(t, n, syms[s], st, size, &b))
				continue;
			if (m == cap)
				bars = realloc(bars, (size_t)(cap *= 2) * sizeof *bars);
			bars[m++] = b;
		}
	*out = bars;
	return m;
}

static bool close_to(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static double f64(const floe_batch *b, int c, int64_t r)
{
	return ((const double *)b->cols[c].values)[r];
}

static int64_t i64(const floe_batch *b, int c, int64_t r)
{
	return ((const int64_t *)b->cols[c].values)[r];
}

static bool str_is(const floe_batch *b, int c, int64_t r, const char *s)
{
	const floe_column *col = &b->cols[c];
	int64_t len = col->offsets[r + 1] - col->offsets[r];
	return floe_column_is_valid(col, r) && len == (int64_t)strlen(s) &&
	       memcmp(col->data + col->offsets[r], s, (size_t)len) == 0;
}

/* The bars batch (symbol, window_start, window_end, open..volatility)
 * against the reference; returns the number of mismatches (reported). */
static int check_bars(const floe_batch *out, const ref_bar *ref, int nref, int64_t size)
{
	int bad = 0;
	if (out->nrows != nref) {
		th_fail(__FILE__, __LINE__, "%lld bars, the reference has %d", (long long)out->nrows,
		        nref);
		return 1;
	}
	int nsd = 0;
	for (int r = 0; r < nref; r++)
		nsd += !ref[r].vol_null;
	if (nref > 20 && nsd < nref / 2) {
		th_fail(__FILE__, __LINE__, "weak data: %d of %d bars have a volatility", nsd, nref);
		bad++;
	}
	for (int r = 0; r < nref && bad < 5; r++) {
		const ref_bar *w = &ref[r];
		int before = bad;
		if (!str_is(out, 0, r, w->symbol) || i64(out, 1, r) != w->start ||
		    i64(out, 2, r) != w->start + size)
			bad++;
		else if (f64(out, 3, r) != w->open || f64(out, 4, r) != w->high ||
		         f64(out, 5, r) != w->low || f64(out, 6, r) != w->close)
			bad++;
		else if (i64(out, 7, r) != w->volume || i64(out, 8, r) != w->count ||
		         i64(out, 10, r) != w->buy)
			bad++;
		else if (!close_to(f64(out, 9, r), w->vwap))
			bad++;
		else if (floe_column_is_valid(&out->cols[11], r) == w->vol_null ||
		         (!w->vol_null && !close_to(f64(out, 11, r), w->volatility)))
			bad++;
		if (bad > before)
			th_fail(__FILE__, __LINE__,
			        "bar %d (%s @%" PRId64 "): got open %.17g close %.17g vol %lld n %lld "
			        "vwap %.17g sd %.17g; want %.17g %.17g %lld %lld %.17g %.17g",
			        r, w->symbol, w->start, f64(out, 3, r), f64(out, 6, r),
			        (long long)i64(out, 7, r), (long long)i64(out, 8, r), f64(out, 9, r),
			        f64(out, 11, r), w->open, w->close, (long long)w->volume,
			        (long long)w->count, w->vwap, w->volatility);
	}
	return bad;
}

/* Byte-identical batches (values, NULLs, string bytes). */
static bool same_batch(const floe_batch *a, const floe_batch *b)
{
	if (a->nrows != b->nrows || a->ncols != b->ncols)
		return false;
	for (int c = 0; c < a->ncols; c++) {
		const floe_column *x = &a->cols[c], *y = &b->cols[c];
		if (x->type.id != y->type.id)
			return false;
		for (int64_t r = 0; r < a->nrows; r++) {
			bool vx = floe_column_is_valid(x, r), vy = floe_column_is_valid(y, r);
			if (vx != vy)
				return false;
			if (!vx)
				continue;
			if (floe_type_is_variable(&x->type)) {
				int64_t lx = x->offsets[r + 1] - x->offsets[r];
				if (lx != y->offsets[r + 1] - y->offsets[r] ||
				    memcmp(x->data + x->offsets[r], y->data + y->offsets[r], (size_t)lx))
					return false;
			} else {
				int w = floe_type_value_width(&x->type);
				if (memcmp((const uint8_t *)x->values + r * w,
				           (const uint8_t *)y->values + r * w, (size_t)w))
					return false;
			}
		}
	}
	return true;
}

typedef struct fixture {
	floe_arena *a;
	floe_schema *s;
	trade *t;
	int n;
	floe_window *w;
} fixture;

static bool setup(fixture *f, int n, int minutes, int64_t size, int64_t slide)
{
	floe_error err;
	memset(f, 0, sizeof *f);
	f->a = floe_arena_new(0);
	if (floe_schema_parse(&f->s, trades_schema, f->a, &err) != 0) {
		th_fail(__FILE__, __LINE__, "%s", err.msg);
		return false;
	}
	f->n = n;
	f->t = make_trades(n, T0, minutes);
	floe_window_spec ws = bar_spec(size, slide);
	if (floe_window_new(&f->w, &ws, f->s, &err) != 0) {
		th_fail(__FILE__, __LINE__, "floe_window_new: %s", err.msg);
		return false;
	}
	return true;
}

static void teardown(fixture *f)
{
	floe_window_free(f->w);
	free(f->t);
	floe_arena_free(f->a);
}

static int run_order(fixture *f, const int *idx, int n, int64_t from, int64_t to,
                     floe_batch *out, floe_error *err)
{
	floe_batch_builder *b = build(f->s, f->t, idx, n);
	int rc = floe_window_run(f->w, floe_batch_builder_view(b), from, to, out, f->a, err);
	floe_batch_builder_free(b);
	return rc;
}

TEST(window_bars_match_reference)
{
	fixture f;
	REQUIRE(setup(&f, 3000, 30, MIN_US, 0));
	const floe_schema *os = floe_window_schema(f.w);
	REQUIRE(os->nfields == 12);
	CHECK_EQ_STR(os->fields[0].name, "symbol");
	CHECK_EQ_STR(os->fields[1].name, "window_start");
	CHECK_EQ_STR(os->fields[2].name, "window_end");
	CHECK_EQ_STR(os->fields[3].name, "open");
	CHECK_EQ_STR(os->fields[11].name, "volatility");
	CHECK_EQ_INT(os->fields[1].type.id, FLOE_TYPE_TIMESTAMPTZ);
	CHECK_EQ_INT(os->fields[3].type.id, FLOE_TYPE_DOUBLE);
	CHECK_EQ_INT(os->fields[7].type.id, FLOE_TYPE_LONG);
	CHECK_EQ_INT(os->fields[8].type.id, FLOE_TYPE_LONG);
	CHECK_EQ_INT(os->fields[9].type.id, FLOE_TYPE_DOUBLE);
	CHECK_EQ_INT(os->fields[10].type.id, FLOE_TYPE_LONG);
	floe_batch out;
	floe_error err;
	REQUIRE_OK(run_order(&f, NULL, f.n, INT64_MIN, INT64_MAX, &out, &err), &err);
	CHECK(out.schema == os);
	ref_bar *ref = NULL;
	int nref = ref_bars(f.t, f.n, MIN_US, MIN_US, INT64_MIN, INT64_MAX, &ref);
	CHECK(nref > 100);
	CHECK_EQ_INT(check_bars(&out, ref, nref, MIN_US), 0);
	free(ref);
	teardown(&f);
}

TEST(window_result_independent_of_row_order)
{
	fixture f;
	REQUIRE(setup(&f, 2000, 20, MIN_US, 0));
	int *idx = malloc((size_t)f.n * sizeof *idx);
	for (int i = 0; i < f.n; i++)
		idx[i] = i;
	floe_batch first, again;
	floe_error err;
	REQUIRE_OK(run_order(&f, idx, f.n, INT64_MIN, INT64_MAX, &first, &err), &err);
	for (int round = 0; round < 3; round++) {
		shuffle_idx(idx, f.n);
		REQUIRE_OK(run_order(&f, idx, f.n, INT64_MIN, INT64_MAX, &again, &err), &err);
		CHECK(same_batch(&first, &again));
	}
	free(idx);
	teardown(&f);
}

/* Rows of disjoint windows given in two calls give the rows of one call;
 * so do two from/to ranges over all rows. */
TEST(window_split_batches_equal_one_call)
{
	fixture f;
	REQUIRE(setup(&f, 2000, 20, MIN_US, 0));
	int64_t cut = T0 + 9 * MIN_US;
	int *lo = malloc((size_t)f.n * sizeof *lo), *hi = malloc((size_t)f.n * sizeof *hi);
	int nlo = 0, nhi = 0;
	for (int i = 0; i < f.n; i++) {
		if (f.t[i].t < cut)
			lo[nlo++] = i;
		else
			hi[nhi++] = i;
	}
	CHECK(nlo > 0 && nhi > 0);
	floe_batch all, p1, p2, joined, r1, r2;
	floe_error err;
	REQUIRE_OK(run_order(&f, NULL, f.n, INT64_MIN, INT64_MAX, &all, &err), &err);
	REQUIRE_OK(run_order(&f, lo, nlo, INT64_MIN, INT64_MAX, &p1, &err), &err);
	REQUIRE_OK(run_order(&f, hi, nhi, INT64_MIN, INT64_MAX, &p2, &err), &err);
	/* bars come in window order: the two calls' bars, one after the other,
	 * are the one call's */
	const floe_batch *parts[] = { &p1, &p2 };
	REQUIRE_OK(floe_batch_concat(parts, 2, &joined, f.a, &err), &err);
	CHECK(same_batch(&all, &joined));
	/* from/to: windows starting before the cut, then the rest */
	REQUIRE_OK(run_order(&f, NULL, f.n, INT64_MIN, cut, &r1, &err), &err);
	REQUIRE_OK(run_order(&f, NULL, f.n, cut, INT64_MAX, &r2, &err), &err);
	CHECK(same_batch(&r1, &p1));
	CHECK(same_batch(&r2, &p2));
	CHECK_EQ_INT(r1.nrows + r2.nrows, all.nrows);
	free(lo);
	free(hi);
	teardown(&f);
}

TEST(window_from_to_selects_window_starts)
{
	fixture f;
	REQUIRE(setup(&f, 1500, 15, MIN_US, 0));
	int64_t from = T0 + 3 * MIN_US + 1, to = T0 + 7 * MIN_US;
	floe_batch out;
	floe_error err;
	REQUIRE_OK(run_order(&f, NULL, f.n, from, to, &out, &err), &err);
	ref_bar *ref = NULL;
	int nref = ref_bars(f.t, f.n, MIN_US, MIN_US, from, to, &ref);
	CHECK_EQ_INT(nref, 4 * 3); /* starts 4, 5, 6 minutes in; four symbols */
	CHECK_EQ_INT(check_bars(&out, ref, nref, MIN_US), 0);
	for (int64_t r = 0; r < out.nrows; r++)
		CHECK(i64(&out, 1, r) >= from && i64(&out, 1, r) < to);
	free(ref);
	teardown(&f);
}

TEST(window_hopping_matches_reference)
{
	fixture f;
	REQUIRE(setup(&f, 1500, 20, 5 * MIN_US, MIN_US));
	floe_batch out;
	floe_error err;
	REQUIRE_OK(run_order(&f, NULL, f.n, INT64_MIN, INT64_MAX, &out, &err), &err);
	ref_bar *ref = NULL;
	int nref = ref_bars(f.t, f.n, 5 * MIN_US, MIN_US, INT64_MIN, INT64_MAX, &ref);
	/* 20 minutes of trades: starts from 4 minutes before the first */
	CHECK(nref >= 4 * 23);
	CHECK_EQ_INT(check_bars(&out, ref, nref, 5 * MIN_US), 0);
	/* and shuffled */
	int *idx = malloc((size_t)f.n * sizeof *idx);
	for (int i = 0; i < f.n; i++)
		idx[i] = i;
	shuffle_idx(idx, f.n);
	floe_batch again;
	REQUIRE_OK(run_order(&f, idx, f.n, INT64_MIN, INT64_MAX, &again, &err), &err);
	CHECK(same_batch(&out, &again));
	/* from/to with hopping windows */
	int64_t from = T0 + 2 * MIN_US, to = T0 + 4 * MIN_US;
	REQUIRE_OK(run_order(&f, NULL, f.n, from, to, &again, &err), &err);
	free(ref);
	nref = ref_bars(f.t, f.n, 5 * MIN_US, MIN_US, from, to, &ref);
	CHECK_EQ_INT(nref, 8);
	CHECK_EQ_INT(check_bars(&again, ref, nref, 5 * MIN_US), 0);
	free(idx);
	free(ref);
	teardown(&f);
}

/* Windows before 1970 start at floor(t / size) * size. */
TEST(window_negative_times_floor)
{
	fixture f;
	REQUIRE(setup(&f, 400, 3, MIN_US, 0));
	for (int i = 0; i < f.n; i++)
		f.t[i].t = f.t[i].t - T0 - 90 * INT64_C(1000000); /* from -90 s to +90 s */
	f.t[0].t = -MIN_US;   /* exactly on a boundary: window [-60 s, 0) */
	f.t[1].t = -1;        /* window [-60 s, 0) */
	f.t[2].t = 0;         /* window [0, 60 s) */
	floe_batch out;
	floe_error err;
	REQUIRE_OK(run_order(&f, NULL, f.n, INT64_MIN, INT64_MAX, &out, &err), &err);
	ref_bar *ref = NULL;
	int nref = ref_bars(f.t, f.n, MIN_US, MIN_US, INT64_MIN, INT64_MAX, &ref);
	CHECK_EQ_INT(check_bars(&out, ref, nref, MIN_US), 0);
	bool seen_m120 = false, seen_m60 = false, seen_0 = false;
	for (int64_t r = 0; r < out.nrows; r++) {
		int64_t s = i64(&out, 1, r);
		CHECK(s % MIN_US == 0);
		seen_m120 |= s == -2 * MIN_US;
		seen_m60 |= s == -MIN_US;
		seen_0 |= s == 0;
	}
	CHECK(seen_m120 && seen_m60 && seen_0);
	free(ref);
	teardown(&f);
}

TEST(window_empty_input)
{
	fixture f;
	REQUIRE(setup(&f, 1, 1, MIN_US, 0));
	floe_batch out;
	floe_error err;
	REQUIRE_OK(run_order(&f, NULL, 0, INT64_MIN, INT64_MAX, &out, &err), &err);
	CHECK_EQ_INT(out.nrows, 0);
	CHECK_EQ_INT(out.ncols, 12);
	REQUIRE(out.cols[0].offsets != NULL);
	CHECK_EQ_INT(out.cols[0].offsets[0], 0);
	/* rows, but none in [from, to) */
	REQUIRE_OK(run_order(&f, NULL, 1, 0, 1, &out, &err), &err);
	CHECK_EQ_INT(out.nrows, 0);
	teardown(&f);
}

/* NULL prices: first/last/min/max skip them, count(price) does not count
 * them, sums of nothing are NULL, lag() of a NULL is NULL. */
/* min() and max() of doubles and longs (compared in place) agree with
 * the general comparison (here: of the same values as float and int):
 * NaN above +Infinity, -0.0 equal to 0.0 so the first of them stays. */
TEST(window_min_max_fast_types_match_general_order)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL;
	floe_error err;
	REQUIRE_OK(floe_schema_parse(&s, trades_schema, a, &err), &err);
	enum { N = 16 };
	/* four windows of four rows, in time order */
	double pr[N] = { 0.0, -0.0, 1.5, 0.0, -0.0, 0.0, -2.25, -5,
		         NAN, 3, INFINITY, -INFINITY, -INFINITY, NAN, 1, -1 };
	int64_t vol[N] = { -5, 7, -9, 7, 0, -1, -1, 2, 3, 3, -3, 1, 9, -9, 9, -9 };
	trade t[N];
	memset(t, 0, sizeof t);
	for (int i = 0; i < N; i++) {
		snprintf(t[i].id, sizeof t[i].id, "X%02d", i);
		t[i].symbol = "AAPL";
		t[i].price = pr[i];
		t[i].volume = vol[i];
		t[i].side = "BUY";
		t[i].exchange = "IEX";
		t[i].t = T0 + (i / 4) * MIN_US + i % 4;
	}
	static const char *names[] = { "lo", "hi", "lof", "hif", "vlo", "vhi", "vloi", "vhii" };
	static const char *exprs[] = { "min(price)", "max(price)", "min(CAST(price AS float))",
		                       "max(CAST(price AS float))", "min(volume)", "max(volume)",
		                       "min(CAST(volume AS int))", "max(CAST(volume AS int))" };
	floe_window_spec ws = bar_spec(MIN_US, 0);
	ws.names = names;
	ws.exprs = exprs;
	ws.nout = 8;
	floe_window *w = NULL;
	REQUIRE_OK(floe_window_new(&w, &ws, s, &err), &err);
	floe_batch_builder *b = build(s, t, NULL, N);
	floe_batch out;
	REQUIRE_OK(floe_window_run(w, floe_batch_builder_view(b), INT64_MIN, INT64_MAX, &out, a, &err),
	           &err);
	REQUIRE(out.nrows == 4);
	for (int64_t r = 0; r < 4; r++) {
		for (int k = 0; k < 2; k++) {
			double d = f64(&out, 3 + k, r);
			double f = ((const float *)out.cols[5 + k].values)[r];
			/* the same value, and the same zero: bit for bit */
			if (!(isnan(d) && isnan(f)) && memcmp(&d, &f, sizeof d) != 0)
				th_fail(__FILE__, __LINE__, "window %lld %s: double %g, float %g", (long long)r,
				        names[k], d, f);
		}
		CHECK_EQ_INT(i64(&out, 7, r), ((const int32_t *)out.cols[9].values)[r]);
		CHECK_EQ_INT(i64(&out, 8, r), ((const int32_t *)out.cols[10].values)[r]);
	}
	/* the order itself: the first zero stays, NaN is the largest */
	CHECK(f64(&out, 3, 0) == 0 && !signbit(f64(&out, 3, 0)));
	CHECK(f64(&out, 4, 1) == 0 && signbit(f64(&out, 4, 1)));
	CHECK(isnan(f64(&out, 4, 2)) && f64(&out, 3, 2) == -INFINITY);
	CHECK(isnan(f64(&out, 4, 3)) && f64(&out, 3, 3) == -INFINITY);
	CHECK_EQ_INT(i64(&out, 7, 0), -9);
	CHECK_EQ_INT(i64(&out, 8, 3), 9);
	floe_batch_builder_free(b);
	floe_window_free(w);
	floe_arena_free(a);
}

TEST(window_null_arguments)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL;
	floe_error err;
	REQUIRE_OK(floe_schema_parse(&s, trades_schema, a, &err), &err);
	trade t[6];
	memset(t, 0, sizeof t);
	/* window A (minute 0): NULL, 10, 12, NULL; window B (minute 1): NULL, NULL */
	int64_t at[] = { 0, 1, 2, 3, MIN_US, MIN_US + 5 };
	bool nul[] = { true, false, false, true, true, true };
	double pr[] = { 0, 10, 12, 0, 0, 0 };
	for (int i = 0; i < 6; i++) {
		snprintf(t[i].id, sizeof t[i].id, "X%d", i);
		t[i].symbol = "AAPL";
		t[i].price = pr[i];
		t[i].price_null = nul[i];
		t[i].volume = 100 + i;
		t[i].side = "BUY";
		t[i].exchange = "IEX";
		t[i].t = T0 + at[i];
	}
	static const char *names[] = { "o", "c", "lo", "hi", "n", "np", "sp", "ap", "sd", "sdp",
		                       "lagged" };
	static const char *exprs[] = { "first(price)", "last(price)", "min(price)", "max(price)",
		                       "count(*)", "count(price)", "sum(price)", "avg(price)",
		                       "stddev_samp(price)", "stddev_pop(price)",
		                       "count(lag(price))" };
	floe_window_spec ws = bar_spec(MIN_US, 0);
	ws.names = names;
	ws.exprs = exprs;
	ws.nout = 11;
	floe_window *w = NULL;
	REQUIRE_OK(floe_window_new(&w, &ws, s, &err), &err);
	floe_batch_builder *b = build(s, t, NULL, 6);
	floe_batch out;
	REQUIRE_OK(floe_window_run(w, floe_batch_builder_view(b), INT64_MIN, INT64_MAX, &out, a, &err),
	           &err);
	REQUIRE(out.nrows == 2);
	CHECK_EQ_INT(out.cols[4].type.id, FLOE_TYPE_DOUBLE);
	CHECK(f64(&out, 3, 0) == 10 && f64(&out, 4, 0) == 12);
	CHECK(f64(&out, 5, 0) == 10 && f64(&out, 6, 0) == 12);
	CHECK_EQ_INT(i64(&out, 7, 0), 4);
	CHECK_EQ_INT(i64(&out, 8, 0), 2);
	CHECK(f64(&out, 9, 0) == 22 && f64(&out, 10, 0) == 11);
	CHECK(close_to(f64(&out, 11, 0), sqrt(2.0)));
	CHECK(close_to(f64(&out, 12, 0), 1.0));
	CHECK_EQ_INT(i64(&out, 13, 0), 2); /* lag of rows 1..3: NULL, 10, 12 */
	for (int c = 3; c <= 6; c++)
		CHECK(!floe_column_is_valid(&out.cols[c], 1));
	CHECK_EQ_INT(i64(&out, 7, 1), 2);
	CHECK_EQ_INT(i64(&out, 8, 1), 0);
	for (int c = 9; c <= 12; c++)
		CHECK(!floe_column_is_valid(&out.cols[c], 1));
	CHECK_EQ_INT(i64(&out, 13, 1), 0);
	floe_batch_builder_free(b);
	floe_window_free(w);
	floe_arena_free(a);
}

TEST(window_string_min_max_first_last)
{
	fixture f;
	REQUIRE(setup(&f, 800, 5, MIN_US, 0));
	static const char *names[] = { "lo_id", "hi_id", "first_ex", "last_ex", "n" };
	static const char *exprs[] = { "min(trade_id)", "max(trade_id)", "first(exchange)",
		                       "last(exchange)", "count(*)" };
	floe_window_spec ws = bar_spec(MIN_US, 0);
	ws.names = names;
	ws.exprs = exprs;
	ws.nout = 5;
	floe_window *w = NULL;
	floe_error err;
	REQUIRE_OK(floe_window_new(&w, &ws, f.s, &err), &err);
	CHECK_EQ_INT(floe_window_schema(w)->fields[3].type.id, FLOE_TYPE_STRING);
	floe_batch_builder *b = build(f.s, f.t, NULL, f.n);
	floe_batch out;
	REQUIRE_OK(floe_window_run(w, floe_batch_builder_view(b), INT64_MIN, INT64_MAX, &out, f.a,
	                           &err),
	           &err);
	CHECK(out.nrows >= 16);
	int bad = 0;
	for (int64_t r = 0; r < out.nrows; r++) {
		const char *sym = NULL;
		for (int k = 0; k < f.n && !sym; k++)
			if (str_is(&out, 0, r, f.t[k].symbol))
				sym = f.t[k].symbol;
		int64_t st = i64(&out, 1, r);
		const trade *lo = NULL, *hi = NULL, *fi = NULL, *la = NULL;
		int64_t n = 0;
		for (int k = 0; k < f.n; k++) {
			const trade *x = &f.t[k];
			if (!sym || strcmp(x->symbol, sym) != 0 || x->t < st || x->t >= st + MIN_US)
				continue;
			n++;
			if (!lo || strcmp(x->id, lo->id) < 0)
				lo = x;
			if (!hi || strcmp(x->id, hi->id) > 0)
				hi = x;
			if (!fi || x->t < fi->t || (x->t == fi->t && strcmp(x->id, fi->id) < 0))
				fi = x;
			if (!la || x->t > la->t || (x->t == la->t && strcmp(x->id, la->id) > 0))
				la = x;
		}
		if (!lo || n != i64(&out, 7, r) || !str_is(&out, 3, r, lo->id) ||
		    !str_is(&out, 4, r, hi->id) || !str_is(&out, 5, r, fi->exchange) ||
		    !str_is(&out, 6, r, la->exchange))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	floe_batch_builder_free(b);
	floe_window_free(w);
	teardown(&f);
}

/* Outputs may combine aggregates with keys and window columns; identical
 * aggregates share one placeholder. */
TEST(window_outputs_use_keys_and_window_columns)
{
	fixture f;
	REQUIRE(setup(&f, 500, 4, MIN_US, 0));
	static const char *names[] = { "sym", "mins", "range", "avg_vol" };
	static const char *exprs2[] = { "lower(symbol)", "window_start", "max(price) - min(price)",
		                        "CAST(sum(volume) AS double) / count(*)" };
	floe_window_spec ws = bar_spec(MIN_US, 0);
	ws.names = names;
	ws.exprs = exprs2;
	ws.nout = 4;
	floe_window *w = NULL;
	floe_error err;
	REQUIRE_OK(floe_window_new(&w, &ws, f.s, &err), &err);
	floe_batch_builder *b = build(f.s, f.t, NULL, f.n);
	floe_batch out;
	REQUIRE_OK(floe_window_run(w, floe_batch_builder_view(b), INT64_MIN, INT64_MAX, &out, f.a,
	                           &err),
	           &err);
	ref_bar *ref = NULL;
	int nref = ref_bars(f.t, f.n, MIN_US, MIN_US, INT64_MIN, INT64_MAX, &ref);
	REQUIRE(out.nrows == nref);
	for (int r = 0; r < nref; r++) {
		char low[8];
		size_t k = 0;
		for (; ref[r].symbol[k] && k < 7; k++)
			low[k] = (char)(ref[r].symbol[k] - 'A' + 'a');
		low[k] = 0;
		CHECK(str_is(&out, 3, r, low));
		CHECK_EQ_INT(i64(&out, 4, r), ref[r].start);
		CHECK(close_to(f64(&out, 5, r), ref[r].high - ref[r].low));
		CHECK(close_to(f64(&out, 6, r), (double)ref[r].volume / (double)ref[r].count));
	}
	free(ref);
	floe_batch_builder_free(b);
	floe_window_free(w);
	teardown(&f);
}

static int new_err(const floe_schema *s, floe_window_spec *ws, floe_error *err)
{
	floe_window *w = NULL;
	int rc = floe_window_new(&w, ws, s, err);
	floe_window_free(w);
	return rc;
}

TEST(window_spec_errors)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL;
	floe_error err;
	REQUIRE_OK(floe_schema_parse(&s, trades_schema, a, &err), &err);
	static const char *one_name[] = { "x" };
	static const char *bad_col[] = { "sum(qty)" };
	static const char *nested[] = { "sum(max(price))" };
	static const char *not_num[] = { "sum(side)" };
	static const char *raw_col[] = { "price" };
	static const char *lag_out[] = { "lag(sum(volume))" };
	floe_window_spec ws = bar_spec(MIN_US, 0);
	ws.names = one_name;
	ws.nout = 1;

	ws.exprs = bad_col;
	CHECK_EQ_INT(new_err(s, &ws, &err), FLOE_ENOTFOUND);
	CHECK(strncmp(err.msg, "output x: ", 10) == 0 && strstr(err.msg, "qty"));
	ws.exprs = nested;
	CHECK_EQ_INT(new_err(s, &ws, &err), FLOE_EINVALID);
	CHECK(strncmp(err.msg, "output x: ", 10) == 0);
	ws.exprs = not_num;
	CHECK_EQ_INT(new_err(s, &ws, &err), FLOE_EINVALID);
	CHECK(strncmp(err.msg, "output x: ", 10) == 0 && strstr(err.msg, "sum"));
	ws.exprs = raw_col; /* not a key, not in an aggregate */
	CHECK(new_err(s, &ws, &err) != 0);
	CHECK(strncmp(err.msg, "output x: ", 10) == 0 && strstr(err.msg, "price"));
	ws.exprs = lag_out; /* series functions only inside aggregates */
	CHECK(new_err(s, &ws, &err) != 0);
	CHECK(strncmp(err.msg, "output x: ", 10) == 0);

	ws = bar_spec(5 * MIN_US, 2 * MIN_US);
	CHECK_EQ_INT(new_err(s, &ws, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "divide") != NULL);
	ws = bar_spec(MIN_US, 2 * MIN_US);
	CHECK_EQ_INT(new_err(s, &ws, &err), FLOE_EINVALID);
	ws = bar_spec(0, 0);
	CHECK_EQ_INT(new_err(s, &ws, &err), FLOE_EINVALID);
	ws = bar_spec(MIN_US, 0);
	ws.time = "price";
	CHECK_EQ_INT(new_err(s, &ws, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "timestamp") != NULL);
	ws.time = "ts";
	CHECK_EQ_INT(new_err(s, &ws, &err), FLOE_ENOTFOUND);
	CHECK(strstr(err.msg, "'ts'") && strstr(err.msg, "event_time"));
	ws = bar_spec(MIN_US, 0);
	static const char *bad_key[] = { "sym" };
	ws.keys = bad_key;
	CHECK_EQ_INT(new_err(s, &ws, &err), FLOE_ENOTFOUND);
	ws = bar_spec(MIN_US, 0);
	static const char *bad_order[] = { "id" };
	ws.order = bad_order;
	CHECK_EQ_INT(new_err(s, &ws, &err), FLOE_ENOTFOUND);
	ws = bar_spec(MIN_US, 0);
	static const char *clash[] = { "open", "window_end" };
	static const char *two[] = { "first(price)", "last(price)" };
	ws.names = clash;
	ws.exprs = two;
	ws.nout = 2;
	CHECK_EQ_INT(new_err(s, &ws, &err), FLOE_EINVALID);
	CHECK(strncmp(err.msg, "output window_end: ", 19) == 0);
	floe_arena_free(a);
}

TEST(window_run_errors_null_time_and_overflow)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL, *loose = NULL;
	floe_error err;
	REQUIRE_OK(floe_schema_parse(&s, trades_schema, a, &err), &err);
	REQUIRE_OK(floe_schema_parse(&loose, "trade_id string, symbol string, price double, "
	                                     "volume long, side string, exchange string, "
	                                     "event_time timestamptz",
	                             a, &err),
	           &err);
	static const char *names[] = { "v" };
	static const char *exprs[] = { "sum(volume)" };
	floe_window_spec ws = bar_spec(MIN_US, 0);
	ws.names = names;
	ws.exprs = exprs;
	ws.nout = 1;
	floe_window *w = NULL;
	REQUIRE_OK(floe_window_new(&w, &ws, loose, &err), &err);
	trade t[3];
	memset(t, 0, sizeof t);
	for (int i = 0; i < 3; i++) {
		snprintf(t[i].id, sizeof t[i].id, "Y%d", i);
		t[i].symbol = "MSFT";
		t[i].side = "SELL";
		t[i].exchange = "NYSE";
		t[i].volume = INT64_MAX / 2;
		t[i].t = T0 + i;
	}
	floe_batch_builder *b = build(loose, t, NULL, 3);
	floe_batch out;
	CHECK_EQ_INT(floe_window_run(w, floe_batch_builder_view(b), INT64_MIN, INT64_MAX, &out, a,
	                             &err),
	             FLOE_EINVALID);
	CHECK(strstr(err.msg, "overflow") && strstr(err.msg, "MSFT") &&
	      strstr(err.msg, "2024-01-02T14:30:00") && strstr(err.msg, "output v"));
	/* a NULL time */
	floe_batch_builder_free(b);
	b = build(loose, t, NULL, 1);
	floe_batch_builder_bytes(b, 0, "Z", 1, &err);
	floe_batch_builder_bytes(b, 1, "MSFT", 4, &err);
	floe_batch_builder_f64(b, 2, 1, &err);
	floe_batch_builder_i64(b, 3, 1, &err);
	floe_batch_builder_null(b, 4, &err);
	floe_batch_builder_null(b, 5, &err);
	floe_batch_builder_null(b, 6, &err);
	CHECK_EQ_INT(floe_window_run(w, floe_batch_builder_view(b), INT64_MIN, INT64_MAX, &out, a,
	                             &err),
	             FLOE_EINVALID);
	CHECK(strstr(err.msg, "row 1") && strstr(err.msg, "event_time") && strstr(err.msg, "NULL"));
	/* a batch of another layout */
	floe_schema *other = NULL;
	REQUIRE_OK(floe_schema_parse(&other, "x long", a, &err), &err);
	floe_batch_builder *ob = NULL;
	REQUIRE_OK(floe_batch_builder_new(&ob, other, &err), &err);
	CHECK_EQ_INT(floe_window_run(w, floe_batch_builder_view(ob), INT64_MIN, INT64_MAX, &out, a,
	                             &err),
	             FLOE_EINVALID);
	floe_batch_builder_free(ob);
	floe_batch_builder_free(b);
	floe_window_free(w);
	floe_arena_free(a);
}

/* An expression failing on a row names the window, the output and, for an
 * aggregate's argument, the input row (not a row of the sorted copy). */
TEST(window_eval_errors_name_the_window_and_row)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s = NULL;
	floe_error err;
	REQUIRE_OK(floe_schema_parse(&s, trades_schema, a, &err), &err);
	trade t[4];
	memset(t, 0, sizeof t);
	const char *sym[] = { "AAPL", "MSFT", "MSFT", "AAPL" };
	const char *exch[] = { "1", "12.5", "oops", "7" };
	for (int i = 0; i < 4; i++) {
		snprintf(t[i].id, sizeof t[i].id, "E%d", i);
		t[i].symbol = sym[i];
		t[i].price = 10 + i;
		t[i].volume = 1;
		t[i].side = i % 2 ? "SELL" : "BUY";
		t[i].exchange = exch[i];
		t[i].t = T0 + 2 * MIN_US + 1000 * (4 - i);
	}
	floe_batch_builder *b = build(s, t, NULL, 4);
	static const char *names[] = { "x" };
	static const char *arg_bad[] = { "sum(CAST(exchange AS double))" };
	static const char *out_bad[] = { "CAST(min(side) AS long)" };
	floe_window_spec ws = bar_spec(MIN_US, 0);
	ws.names = names;
	ws.nout = 1;
	floe_batch out;
	for (int round = 0; round < 2; round++) {
		ws.exprs = round ? out_bad : arg_bad;
		floe_window *w = NULL;
		REQUIRE_OK(floe_window_new(&w, &ws, s, &err), &err);
		CHECK_EQ_INT(floe_window_run(w, floe_batch_builder_view(b), INT64_MIN, INT64_MAX, &out,
		                             a, &err),
		             FLOE_EINVALID);
		CHECK(strncmp(err.msg, "window [2024-01-02T14:32:00", 27) == 0);
		if (round == 0)
			CHECK(strstr(err.msg, "of symbol=MSFT: output x: sum(): row 2: ") &&
			      strstr(err.msg, "oops"));
		else
			CHECK(strstr(err.msg, "of symbol=AAPL: output x: ") &&
			      strstr(err.msg, "BUY") && !strstr(err.msg, "row "));
		floe_window_free(w);
	}
	floe_batch_builder_free(b);
	floe_arena_free(a);
}

/* The bars of a trades batch agree with DuckDB's (an independent engine):
 * first/last ordered by (event_time, trade_id) over non-NULL prices, lag()
 * partitioned by symbol and minute. */
TEST(window_bars_agree_with_duckdb)
{
	const char *peers = th_peers();
	fixture f;
	REQUIRE(setup(&f, 1200, 12, MIN_US, 0));
	f.t[5].price_null = true;
	f.t[77].price_null = true;
	const char *csv = th_path("trades.csv");
	FILE *fp = fopen(csv, "w");
	REQUIRE(fp);
	fprintf(fp, "trade_id,symbol,price,volume,side,exchange,t_us\n");
	for (int i = 0; i < f.n; i++) {
		const trade *x = &f.t[i];
		fprintf(fp, "%s,%s,", x->id, x->symbol);
		if (!x->price_null)
			fprintf(fp, "%.17g", x->price);
		fprintf(fp, ",%lld,%s,%s,%lld\n", (long long)x->volume, x->side, x->exchange,
		        (long long)x->t);
	}
	fclose(fp);
	char *out = NULL;
	int st = th_run(
		&out,
		"node '%s/duckdb-query.mjs' --no-header \"set threads=1; "
		"create table t as select * from read_csv('%s', header=true, columns={"
		"'trade_id':'VARCHAR','symbol':'VARCHAR','price':'DOUBLE','volume':'BIGINT',"
		"'side':'VARCHAR','exchange':'VARCHAR','t_us':'BIGINT'}); "
		"create table r as select *, t_us // 60000000 * 60000000 as ws, "
		"lag(price) over (partition by symbol, t_us // 60000000 order by t_us, trade_id) as lp "
		"from t; "
		"select symbol, cast(ws as varchar), "
		"first(price order by t_us, trade_id) filter (where price is not null), "
		"max(price), min(price), "
		"last(price order by t_us, trade_id) filter (where price is not null), "
		"cast(sum(volume) as varchar), cast(count(*) as varchar), "
		"sum(price * volume) / sum(volume), "
		"cast(sum(case when side = 'BUY' then volume else 0 end) as varchar), "
		"stddev_samp(ln(price / lp)) "
		"from r group by symbol, ws order by ws, symbol\" 2>&1",
		peers, csv);
	if (st != 0) {
		th_fail(__FILE__, __LINE__, "duckdb failed (%d): %s", st, out ? out : "");
		free(out);
		teardown(&f);
		return;
	}
	floe_batch bars;
	floe_error err;
	REQUIRE_OK(run_order(&f, NULL, f.n, INT64_MIN, INT64_MAX, &bars, &err), &err);
	int64_t row = 0;
	int bad = 0;
	for (char *line = out, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!*line)
			continue;
		char sym[16];
		long long ws, vol, cnt, buy;
		double v[7];
		char sd[64] = "";
		int got = sscanf(line, "%15[^,],%lld,%lf,%lf,%lf,%lf,%lld,%lld,%lf,%lld,%63s", sym, &ws,
		                 &v[0], &v[1], &v[2], &v[3], &vol, &cnt, &v[4], &buy, sd);
		if (row >= bars.nrows || got < 10) {
			bad++;
			th_fail(__FILE__, __LINE__, "duckdb row %lld: %s", (long long)row, line);
			break;
		}
		bool sd_null = got < 11 || sd[0] == 0;
		bool ok = str_is(&bars, 0, row, sym) && i64(&bars, 1, row) == ws &&
		          f64(&bars, 3, row) == v[0] && f64(&bars, 4, row) == v[1] &&
		          f64(&bars, 5, row) == v[2] && f64(&bars, 6, row) == v[3] &&
		          i64(&bars, 7, row) == vol && i64(&bars, 8, row) == cnt &&
		          close_to(f64(&bars, 9, row), v[4]) && i64(&bars, 10, row) == buy &&
		          floe_column_is_valid(&bars.cols[11], row) == !sd_null &&
		          (sd_null || close_to(f64(&bars, 11, row), strtod(sd, NULL)));
		if (!ok && bad++ < 3)
			th_fail(__FILE__, __LINE__, "row %lld differs from duckdb's: %s", (long long)row,
			        line);
		row++;
	}
	CHECK_EQ_INT(row, bars.nrows);
	CHECK_EQ_INT(bad, 0);
	free(out);
	teardown(&f);
}
