/* tests/pipeline/test_gold_check.c - the independent Gold check
 * (tests/pipeline/gold_check.mjs) checked itself. Silver trades and quotes
 * are generated here (several symbols, gaps, trades sharing a timestamp),
 * the Gold tables of examples/stock/pipeline.yaml are computed from them in
 * plain C, and all of them are written as Iceberg tables with the floe
 * command line (`floe create`, `floe append`). The check must pass on
 * those tables, and fail naming the table and column when one value is off
 * by 1e-6 relative, a row is missing, is_final is wrong, a NULL is lost,
 * Silver holds a duplicate key or a row its validate rules reject, or a
 * table has delete files. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli_run.h"
#include "harness.h"

#define NSYM 3
#define MIN_US 60000000LL
#define T0_US 1795185000000000LL /* 2026-11-20T14:30:00Z */
#define LATE_US 10000000LL       /* lateness: 10s in the pipeline */
#define MAXN 1024

static const char *const syms[NSYM] = { "AAPL", "MSFT", "TSLA" };
static const char *const exchanges[] = { "NASDAQ", "NYSE", "ARCA", "BATS", "IEX" };

/* the table schemas of examples/stock/pipeline.yaml */
static const char silver_trades_schema[] =
	"trade_id string not null, symbol string not null, price double not null, "
	"volume long not null, side string not null, exchange string not null, "
	"event_time timestamptz not null";
static const char silver_quotes_schema[] =
	"quote_id string not null, symbol string not null, bid double not null, "
	"ask double not null, exchange string not null, event_time timestamptz not null";
static const char bars_schema[] =
	"symbol string not null, window_start timestamptz not null, "
	"window_end timestamptz not null, open double, high double, low double, "
	"close double, volume long, trade_count long, vwap double, "
	"buy_volume long, sell_volume long, volatility double, is_final boolean not null";
static const char spreads_schema[] =
	"symbol string not null, window_start timestamptz not null, "
	"window_end timestamptz not null, avg_spread double, max_spread double, "
	"mid_price double, quote_count long, is_final boolean not null";
static const char features_schema[] =
	"symbol string not null, minute timestamptz not null, close double, "
	"ret_1m double, ret_5m double, ret_15m double, volatility_15m double, "
	"vwap_deviation double, order_flow_imbalance double";

/* ---- Silver rows -------------------------------------------------------- */

typedef struct {
	char id[16];
	int sym;
	int64_t ts; /* event_time, microseconds since the epoch */
	double price, bid, ask; /* price for trades; bid, ask for quotes */
	long long volume;
	bool buy;
	int exch;
} event;

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Events of minutes 0..23 after T0 for every symbol, 0 to 5 a minute (so
 * some minutes are missing, some hold one or two events), a quarter of them
 * at the same microsecond as the one before; ids are a permutation, so ties
 * on time are broken by ids in either order. The last event, at 24:00 plus
 * `tail_us`, sets the watermark. Returns the count. */
static int gen_events(event *ev, bool quotes, int64_t tail_us)
{
	int n = 0;
	int cents[NSYM] = { 18950, 37800, 24200 };
	rng_state = quotes ? 0x9E3779B97F4A7C15ULL : 0xD1B54A32D192ED03ULL;
	for (int m = 0; m < 24; m++) {
		for (int s = 0; s < NSYM; s++) {
			/* MSFT misses three minutes, TSLA every other early minute */
			if ((s == 1 && (m == 7 || m == 13 || m == 14)) || (s == 2 && m < 10 && m % 2))
				continue;
			int k = (int)(rng() % 6);
			for (int i = 0; i < k && n < MAXN - 1; i++) {
				event *e = &ev[n];
				memset(e, 0, sizeof *e);
				e->sym = s;
				if (i > 0 && rng() % 4 == 0)
					e->ts = ev[n - 1].ts;
				else
					e->ts = T0_US + m * MIN_US + (int64_t)(rng() % (uint64_t)MIN_US);
				cents[s] += (int)(rng() % 5) - 2; /* unchanged a fifth of the time */
				e->price = cents[s] / 100.0;
				e->bid = e->price;
				e->ask = (cents[s] + 1 + (int)(rng() % 5)) / 100.0;
				e->volume = 1 + (long long)(rng() % 1000);
				e->buy = rng() % 2;
				e->exch = (int)(rng() % 5);
				n++;
			}
		}
	}
	event *e = &ev[n];
	memset(e, 0, sizeof *e);
	e->sym = 0;
	e->ts = T0_US + 24 * MIN_US + tail_us;
	e->price = e->bid = cents[0] / 100.0;
	e->ask = (cents[0] + 3) / 100.0;
	e->volume = 100;
	e->buy = true;
	n++;
	for (int i = 0; i < n; i++)
		snprintf(ev[i].id, sizeof ev[i].id, "%c%06d", quotes ? 'Q' : 'T', (i * 7919) % 100003);
	return n;
}

/* ---- Gold rows, computed plainly ---------------------------------------- */

typedef struct {
	int sym;
	int64_t ws, we;
	double open, high, low, close, vwap, vol; /* vol: NAN = NULL */
	long long volume, count, buy, sell;
	double avg_spread, max_spread, mid;
	bool final;
} bar;

typedef struct {
	int sym;
	int64_t m;
	double close, r1, r5, r15, vol15, vdev, ofi; /* NAN = NULL */
} feature;

static int64_t sort_size;

static int64_t window_of(int64_t ts, int64_t size)
{
	int64_t r = ts % size;
	return ts - (r < 0 ? r + size : r);
}

/* (symbol, window_start, event_time, id) */
static int cmp_event(const void *pa, const void *pb)
{
	const event *a = pa, *b = pb;
	if (a->sym != b->sym)
		return a->sym < b->sym ? -1 : 1;
	int64_t wa = window_of(a->ts, sort_size), wb = window_of(b->ts, sort_size);
	if (wa != wb)
		return wa < wb ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* Sample standard deviation, two passes; NAN (NULL) under two values. */
static double stddev_samp(const double *x, int n)
{
	if (n < 2)
		return NAN;
	double mean = 0, ss = 0;
	for (int i = 0; i < n; i++)
		mean += x[i];
	mean /= n;
	for (int i = 0; i < n; i++)
		ss += (x[i] - mean) * (x[i] - mean);
	return sqrt(ss / (n - 1));
}

static int64_t max_ts(const event *ev, int n)
{
	int64_t m = INT64_MIN;
	for (int i = 0; i < n; i++)
		if (ev[i].ts > m)
			m = ev[i].ts;
	return m;
}

/* Tumbling windows of `size` over the events (trades or quotes), one bar
 * per (symbol, window_start) in that order. Returns the count. */
static int make_bars(bar *out, const event *in, int n, int64_t size)
{
	event *ev = malloc(sizeof *ev * (size_t)n);
	memcpy(ev, in, sizeof *ev * (size_t)n);
	sort_size = size;
	qsort(ev, (size_t)n, sizeof *ev, cmp_event);
	int64_t wm = max_ts(ev, n) - LATE_US;
	double rets[MAXN];
	int nb = 0;
	for (int i = 0; i < n;) {
		int j = i;
		int64_t ws = window_of(ev[i].ts, size);
		while (j < n && ev[j].sym == ev[i].sym && window_of(ev[j].ts, size) == ws)
			j++;
		bar *b = &out[nb++];
		memset(b, 0, sizeof *b);
		b->sym = ev[i].sym;
		b->ws = ws;
		b->we = ws + size;
		b->open = ev[i].price;
		b->close = ev[j - 1].price;
		b->high = b->low = ev[i].price;
		double pv = 0, spread_sum = 0;
		int nr = 0;
		b->max_spread = ev[i].ask - ev[i].bid;
		for (int k = i; k < j; k++) {
			const event *e = &ev[k];
			if (e->price > b->high)
				b->high = e->price;
			if (e->price < b->low)
				b->low = e->price;
			b->volume += e->volume;
			pv += e->price * (double)e->volume;
			if (e->buy)
				b->buy += e->volume;
			else
				b->sell += e->volume;
			if (k > i)
				rets[nr++] = log(e->price / ev[k - 1].price);
			double sp = e->ask - e->bid;
			spread_sum += sp;
			if (sp > b->max_spread)
				b->max_spread = sp;
		}
		b->count = j - i;
		b->vwap = pv / (double)b->volume;
		b->vol = stddev_samp(rets, nr);
		b->avg_spread = spread_sum / (double)b->count;
		b->mid = (ev[j - 1].bid + ev[j - 1].ask) / 2;
		b->final = b->we <= wm;
		i = j;
	}
	free(ev);
	return nb;
}

static const bar *bar_at(const bar *b, int n, int sym, int64_t ws)
{
	for (int i = 0; i < n; i++)
		if (b[i].sym == sym && b[i].ws == ws)
			return &b[i];
	return NULL;
}

/* The features step over the 1-minute bars: returns against the bar
 * exactly 1, 5 and 15 minutes earlier, the sample deviation of the 1-minute
 * log returns over (m - 15m, m], VWAP deviation and order-flow imbalance. */
static int make_features(feature *out, const bar *b, int n)
{
	for (int i = 0; i < n; i++) {
		feature *f = &out[i];
		const bar *p1 = bar_at(b, n, b[i].sym, b[i].ws - MIN_US);
		const bar *p5 = bar_at(b, n, b[i].sym, b[i].ws - 5 * MIN_US);
		const bar *p15 = bar_at(b, n, b[i].sym, b[i].ws - 15 * MIN_US);
		f->sym = b[i].sym;
		f->m = b[i].ws;
		f->close = b[i].close;
		f->r1 = p1 ? b[i].close / p1->close - 1 : NAN;
		f->r5 = p5 ? b[i].close / p5->close - 1 : NAN;
		f->r15 = p15 ? b[i].close / p15->close - 1 : NAN;
		double lr[16];
		int nl = 0;
		for (int k = 0; k < n; k++) {
			if (b[k].sym != b[i].sym || b[k].ws <= b[i].ws - 15 * MIN_US || b[k].ws > b[i].ws)
				continue;
			const bar *prev = bar_at(b, n, b[k].sym, b[k].ws - MIN_US);
			if (prev && nl < 16)
				lr[nl++] = log(b[k].close / prev->close);
		}
		f->vol15 = stddev_samp(lr, nl);
		f->vdev = b[i].close / b[i].vwap - 1;
		f->ofi = (double)(b[i].buy - b[i].sell) / (double)b[i].volume;
	}
	return n;
}

/* ---- NDJSON ------------------------------------------------------------- */

static void put_ts(FILE *f, const char *key, int64_t us)
{
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	fprintf(f, "\"%s\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\"", key, tm.tm_year + 1900,
	        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
}

static void put_d(FILE *f, const char *key, double v)
{
	if (isnan(v))
		fprintf(f, ",\"%s\":null", key);
	else
		fprintf(f, ",\"%s\":%.17g", key, v);
}

static char *events_ndjson(const event *ev, int n, bool quotes)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	for (int i = 0; i < n; i++) {
		const event *e = &ev[i];
		fprintf(f, "{\"%s\":\"%s\",\"symbol\":\"%s\"", quotes ? "quote_id" : "trade_id", e->id,
		        syms[e->sym]);
		if (quotes) {
			put_d(f, "bid", e->bid);
			put_d(f, "ask", e->ask);
		} else {
			put_d(f, "price", e->price);
			fprintf(f, ",\"volume\":%lld,\"side\":\"%s\"", e->volume, e->buy ? "BUY" : "SELL");
		}
		fprintf(f, ",\"exchange\":\"%s\",", exchanges[e->exch]);
		put_ts(f, "event_time", e->ts);
		fputs("}\n", f);
	}
	fclose(f);
	return text;
}

static void put_window(FILE *f, const bar *b)
{
	fprintf(f, "{\"symbol\":\"%s\",", syms[b->sym]);
	put_ts(f, "window_start", b->ws);
	fputc(',', f);
	put_ts(f, "window_end", b->we);
}

static char *bars_ndjson(const bar *b, int n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	for (int i = 0; i < n; i++) {
		put_window(f, &b[i]);
		put_d(f, "open", b[i].open);
		put_d(f, "high", b[i].high);
		put_d(f, "low", b[i].low);
		put_d(f, "close", b[i].close);
		fprintf(f, ",\"volume\":%lld,\"trade_count\":%lld", b[i].volume, b[i].count);
		put_d(f, "vwap", b[i].vwap);
		fprintf(f, ",\"buy_volume\":%lld,\"sell_volume\":%lld", b[i].buy, b[i].sell);
		put_d(f, "volatility", b[i].vol);
		fprintf(f, ",\"is_final\":%s}\n", b[i].final ? "true" : "false");
	}
	fclose(f);
	return text;
}

static char *spreads_ndjson(const bar *b, int n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	for (int i = 0; i < n; i++) {
		put_window(f, &b[i]);
		put_d(f, "avg_spread", b[i].avg_spread);
		put_d(f, "max_spread", b[i].max_spread);
		put_d(f, "mid_price", b[i].mid);
		fprintf(f, ",\"quote_count\":%lld,\"is_final\":%s}\n", b[i].count,
		        b[i].final ? "true" : "false");
	}
	fclose(f);
	return text;
}

static char *features_ndjson(const feature *ft, int n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	for (int i = 0; i < n; i++) {
		fprintf(f, "{\"symbol\":\"%s\",", syms[ft[i].sym]);
		put_ts(f, "minute", ft[i].m);
		put_d(f, "close", ft[i].close);
		put_d(f, "ret_1m", ft[i].r1);
		put_d(f, "ret_5m", ft[i].r5);
		put_d(f, "ret_15m", ft[i].r15);
		put_d(f, "volatility_15m", ft[i].vol15);
		put_d(f, "vwap_deviation", ft[i].vdev);
		put_d(f, "order_flow_imbalance", ft[i].ofi);
		fputs("}\n", f);
	}
	fclose(f);
	return text;
}

/* ---- tables through the floe command line ------------------------------- */

static char wh[512];

static int floe(char **out, char **errout, ...)
{
	const char *argv[24];
	int argc = 0;
	va_list ap;
	va_start(ap, errout);
	argv[argc++] = "floe";
	argv[argc++] = "--warehouse";
	argv[argc++] = wh;
	const char *a;
	while (argc < 23 && (a = va_arg(ap, const char *)) != NULL)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return cli_run_argv(NULL, out, errout, argc, argv);
}

/* Create `name` with the pipeline's schema and partitioning, append the
 * NDJSON rows (taking ownership of `rows`), and put its current metadata
 * file into meta. Extra properties: `prop` (NULL: none). */
static bool make_table(char *meta, size_t cap, const char *name, const char *schema,
                       const char *part, const char *ident, const char *prop, char *rows)
{
	char path[600], *o = NULL, *e = NULL;
	bool ok = false;
	snprintf(path, sizeof path, "%s", th_path(name));
	FILE *f = fopen(path, "w");
	if (!f || fputs(rows, f) < 0) {
		th_fail(__FILE__, __LINE__, "cannot write %s", path);
		if (f)
			fclose(f);
		goto done;
	}
	fclose(f);
	int rc = prop ? floe(&o, &e, "create", name, "--schema", schema, "--partition", part,
	                     "--identifier", ident, "--property", prop, NULL)
	              : floe(&o, &e, "create", name, "--schema", schema, "--partition", part,
	                     "--identifier", ident, NULL);
	if (rc != 0) {
		th_fail(__FILE__, __LINE__, "floe create %s: %s", name, e);
		goto done;
	}
	free(o), free(e);
	o = e = NULL;
	if (floe(&o, &e, "append", name, path, "--input-format", "ndjson", NULL) != 0) {
		th_fail(__FILE__, __LINE__, "floe append %s: %s", name, e);
		goto done;
	}
	free(o), free(e);
	o = e = NULL;
	if (floe(&o, &e, "describe", name, NULL) != 0) {
		th_fail(__FILE__, __LINE__, "floe describe %s: %s", name, e);
		goto done;
	}
	json_t *j = json_loads(o, 0, NULL);
	const char *loc = json_string_value(json_object_get(j, "metadata-location"));
	if (loc)
		snprintf(meta, cap, "%s", loc);
	else
		th_fail(__FILE__, __LINE__, "floe describe %s has no metadata-location: %s", name, o);
	ok = loc != NULL;
	json_decref(j);
done:
	free(o);
	free(e);
	free(rows);
	return ok;
}

/* The Silver and Gold tables, right. */
typedef struct {
	event trades[MAXN], quotes[MAXN];
	bar bars1[MAXN], bars5[MAXN], spreads[MAXN];
	feature features[MAXN];
	int ntrades, nquotes, nbars1, nbars5, nspreads;
	char silver_trades[1024], silver_quotes[1024], bars_1m[1024], bars_5m[1024];
	char spreads_1m[1024], gold_features[1024];
} world;

static bool make_world(world *w)
{
	snprintf(wh, sizeof wh, "%s", th_path("wh"));
	/* trades end at 24:10, so the watermark is 24:00 exactly: the windows
	 * ending then are final; quotes end at 24:05 (watermark 23:55), so
	 * their windows ending at 24:00 are not */
	w->ntrades = gen_events(w->trades, false, LATE_US);
	w->nquotes = gen_events(w->quotes, true, 5000000);
	w->nbars1 = make_bars(w->bars1, w->trades, w->ntrades, MIN_US);
	w->nbars5 = make_bars(w->bars5, w->trades, w->ntrades, 5 * MIN_US);
	w->nspreads = make_bars(w->spreads, w->quotes, w->nquotes, MIN_US);
	make_features(w->features, w->bars1, w->nbars1);
	const char *day = "day(event_time)", *wday = "day(window_start)";
	return make_table(w->silver_trades, sizeof w->silver_trades, "silver.trades",
	                  silver_trades_schema, day, "trade_id", NULL,
	                  events_ndjson(w->trades, w->ntrades, false)) &&
	       make_table(w->silver_quotes, sizeof w->silver_quotes, "silver.quotes",
	                  silver_quotes_schema, day, "quote_id", NULL,
	                  events_ndjson(w->quotes, w->nquotes, true)) &&
	       make_table(w->bars_1m, sizeof w->bars_1m, "gold.bars_1m", bars_schema, wday,
	                  "symbol,window_start", NULL, bars_ndjson(w->bars1, w->nbars1)) &&
	       make_table(w->bars_5m, sizeof w->bars_5m, "gold.bars_5m", bars_schema, wday,
	                  "symbol,window_start", NULL, bars_ndjson(w->bars5, w->nbars5)) &&
	       make_table(w->spreads_1m, sizeof w->spreads_1m, "gold.spreads_1m", spreads_schema,
	                  wday, "symbol,window_start", NULL, spreads_ndjson(w->spreads, w->nspreads)) &&
	       make_table(w->gold_features, sizeof w->gold_features, "gold.features", features_schema,
	                  "day(minute)", "symbol,minute", NULL,
	                  features_ndjson(w->features, w->nbars1));
}

/* Run the check on silver.trades and the given 1-minute bars plus `extra`
 * options; *out gets stdout and stderr. Returns the exit status. */
static int gold_check(char **out, const char *peers, const char *silver, const char *bars,
                      const char *extra)
{
	return th_run(out, "node tests/pipeline/gold_check.mjs '%s' '%s' '%s' %s 2>&1", peers,
	              silver, bars, extra ? extra : "");
}

/* tables.NAME.KEY of the check's JSON line (-1 when absent). */
static long long stat_of(const char *out, const char *table, const char *key)
{
	const char *line = strstr(out, "{\"tables\"");
	json_t *j = line ? json_loads(line, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	json_t *v = json_object_get(json_object_get(json_object_get(j, "tables"), table), key);
	long long r = json_is_integer(v) ? json_integer_value(v) : -1;
	json_decref(j);
	return r;
}

#define CHECK_HAS(hay, needle)                                                      \
	do {                                                                        \
		if (!strstr((hay), (needle)))                                       \
			th_fail(__FILE__, __LINE__, "\"%s\" not in: %s", (needle), (hay)); \
	} while (0)

static int count_final(const bar *b, int n, bool final)
{
	int c = 0;
	for (int i = 0; i < n; i++)
		c += b[i].final == final;
	return c;
}

/* A replacement gold.bars_1m: the right bars with one change made by
 * `edit` (it may drop a row by returning false for it). */
typedef bool (*bar_edit)(bar *b, int i);

static bool make_bars_table(char *meta, size_t cap, const world *w, const char *name,
                            bar_edit edit, const char *prop)
{
	bar *copy = malloc(sizeof *copy * (size_t)w->nbars1);
	int n = 0;
	for (int i = 0; i < w->nbars1; i++) {
		copy[n] = w->bars1[i];
		if (!edit || edit(&copy[n], i))
			n++;
	}
	bool ok = make_table(meta, cap, name, bars_schema, "day(window_start)",
	                     "symbol,window_start", prop, bars_ndjson(copy, n));
	free(copy);
	return ok;
}

/* ---- tests -------------------------------------------------------------- */

/* The data covers what the check must get right: ties on time, missing
 * minutes, windows with one trade (no return) and two (one return: NULL
 * volatility), final and open windows, 15-minute returns. */
TEST(gold_check_data_covers_the_cases)
{
	static world w;
	w.ntrades = gen_events(w.trades, false, LATE_US);
	w.nbars1 = make_bars(w.bars1, w.trades, w.ntrades, MIN_US);
	make_features(w.features, w.bars1, w.nbars1);
	int ties = 0, single = 0, null_vol = 0, r15 = 0, null_r1 = 0, at_wm = 0;
	for (int i = 1; i < w.ntrades; i++)
		ties += w.trades[i].ts == w.trades[i - 1].ts && w.trades[i].sym == w.trades[i - 1].sym;
	for (int i = 0; i < w.nbars1; i++) {
		single += w.bars1[i].count == 1;
		null_vol += isnan(w.bars1[i].vol) && w.bars1[i].count == 2;
		r15 += !isnan(w.features[i].r15);
		null_r1 += isnan(w.features[i].r1) && w.features[i].m > T0_US;
		/* a window ending exactly at the watermark is final */
		at_wm += w.bars1[i].we == T0_US + 24 * MIN_US && w.bars1[i].final;
	}
	CHECK(at_wm >= 2);
	CHECK(ties >= 5);
	CHECK(single >= 2);
	CHECK(null_vol >= 2);
	CHECK(r15 >= 5);
	CHECK(null_r1 >= 2);
	CHECK(count_final(w.bars1, w.nbars1, true) > 10);
	CHECK(count_final(w.bars1, w.nbars1, false) >= 1);
	CHECK(w.ntrades > 100 && w.ntrades < MAXN);
}

TEST(gold_check_passes_on_right_tables)
{
	const char *peers = th_peers();
	static world w;
	REQUIRE(make_world(&w));
	char extra[8192], *out = NULL;
	snprintf(extra, sizeof extra,
	         "--bars5m '%s' --silver-quotes '%s' --spreads '%s' --features '%s'", w.bars_5m,
	         w.silver_quotes, w.spreads_1m, w.gold_features);
	int rc = gold_check(&out, peers, w.silver_trades, w.bars_1m, extra);
	REQUIRE(out != NULL);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "gold_check -> %d: %s", rc, out);
	CHECK_EQ_INT(stat_of(out, "silver.trades", "rows"), w.ntrades);
	CHECK_EQ_INT(stat_of(out, "silver.quotes", "rows"), w.nquotes);
	CHECK_EQ_INT(stat_of(out, "gold.bars_1m", "rows"), w.nbars1);
	CHECK_EQ_INT(stat_of(out, "gold.bars_1m", "expected"), w.nbars1);
	CHECK_EQ_INT(stat_of(out, "gold.bars_5m", "rows"), w.nbars5);
	CHECK_EQ_INT(stat_of(out, "gold.spreads_1m", "rows"), w.nspreads);
	CHECK_EQ_INT(stat_of(out, "gold.features", "rows"), w.nbars1);
	const char *names[] = { "silver.trades", "silver.quotes", "gold.bars_1m", "gold.bars_5m",
		                "gold.spreads_1m", "gold.features" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		CHECK_EQ_INT(stat_of(out, names[i], "mismatches"), 0);
	free(out);
}

static bool edit_vwap_tiny(bar *b, int i)
{
	if (i == 4)
		b->vwap *= 1 + 1e-12;
	return true;
}

static bool edit_vwap_off(bar *b, int i)
{
	if (i == 4)
		b->vwap *= 1 + 1e-6;
	return true;
}

/* Rounding differences pass (1e-12 relative), a value off by 1e-6 does not. */
TEST(gold_check_fails_on_a_value_off_by_1e6)
{
	const char *peers = th_peers();
	static world w;
	REQUIRE(make_world(&w));
	char tiny[1024], off[1024], *out = NULL;
	REQUIRE(make_bars_table(tiny, sizeof tiny, &w, "gold.bars_tiny", edit_vwap_tiny, NULL));
	REQUIRE(make_bars_table(off, sizeof off, &w, "gold.bars_off", edit_vwap_off, NULL));
	int rc = gold_check(&out, peers, w.silver_trades, tiny, NULL);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "1e-12 relative must pass: %d: %s", rc, out);
	free(out);
	rc = gold_check(&out, peers, w.silver_trades, off, NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK_HAS(out, "gold.bars_1m [");
	CHECK_HAS(out, "column vwap: floe ");
	CHECK_HAS(out, "relative difference 1.00e-6");
	CHECK_EQ_INT(stat_of(out, "gold.bars_1m", "mismatches"), 1);
	free(out);
}

static bool edit_drop(bar *b, int i)
{
	(void)b;
	return i != 7;
}

TEST(gold_check_fails_on_a_missing_row)
{
	const char *peers = th_peers();
	static world w;
	REQUIRE(make_world(&w));
	char meta[1024], *out = NULL, want[128];
	REQUIRE(make_bars_table(meta, sizeof meta, &w, "gold.bars_missing", edit_drop, NULL));
	CHECK_EQ_INT(gold_check(&out, peers, w.silver_trades, meta, NULL), 1);
	CHECK_HAS(out, "gold.bars_1m: 1 expected rows are missing from floe's table");
	snprintf(want, sizeof want, "e.g. [%s, ", syms[w.bars1[7].sym]);
	CHECK_HAS(out, want);
	CHECK_EQ_INT(stat_of(out, "gold.bars_1m", "rows"), w.nbars1 - 1);
	CHECK_EQ_INT(stat_of(out, "gold.bars_1m", "mismatches"), 1);
	free(out);
}

/* is_final flipped both ways: a final window claimed open, and the last
 * (open) window claimed final. */
static int flip_at = -1;

static bool edit_final(bar *b, int i)
{
	if (i == flip_at)
		b->final = !b->final;
	return true;
}

TEST(gold_check_fails_on_a_wrong_is_final)
{
	const char *peers = th_peers();
	static world w;
	REQUIRE(make_world(&w));
	for (int way = 0; way < 2; way++) {
		flip_at = -1;
		for (int i = 0; i < w.nbars1 && flip_at < 0; i++)
			if (w.bars1[i].final == (way == 0))
				flip_at = i;
		REQUIRE(flip_at >= 0);
		char meta[1024], *out = NULL;
		REQUIRE(make_bars_table(meta, sizeof meta, &w, way ? "gold.bars_f1" : "gold.bars_f0",
		                        edit_final, NULL));
		CHECK_EQ_INT(gold_check(&out, peers, w.silver_trades, meta, NULL), 1);
		CHECK_HAS(out, "column is_final: floe ");
		CHECK_HAS(out, way == 0 ? "floe false, duckdb true" : "floe true, duckdb false");
		CHECK_EQ_INT(stat_of(out, "gold.bars_1m", "mismatches"), 1);
		free(out);
	}
	/* a lateness of 10.000001 s puts the watermark just before 24:00: the
	 * windows ending at 24:00 are then not final yet */
	char *out = NULL;
	CHECK_EQ_INT(gold_check(&out, peers, w.silver_trades, w.bars_1m, "--lateness 10.000001"), 1);
	CHECK_HAS(out, "14:53:00+00] column is_final: floe true, duckdb false");
	free(out);
}

/* A NULL where a value belongs (and the other way) is a mismatch, in the
 * features table too. */
TEST(gold_check_fails_on_a_lost_null)
{
	const char *peers = th_peers();
	static world w;
	REQUIRE(make_world(&w));
	int k = -1;
	for (int i = 0; i < w.nbars1 && k < 0; i++)
		if (!isnan(w.features[i].vol15))
			k = i;
	REQUIRE(k >= 0);
	w.features[k].vol15 = NAN;
	char meta[1024], extra[2048], *out = NULL;
	REQUIRE(make_table(meta, sizeof meta, "gold.features_null", features_schema, "day(minute)",
	                   "symbol,minute", NULL, features_ndjson(w.features, w.nbars1)));
	snprintf(extra, sizeof extra, "--features '%s'", meta);
	CHECK_EQ_INT(gold_check(&out, peers, w.silver_trades, w.bars_1m, extra), 1);
	CHECK_HAS(out, "gold.features [");
	CHECK_HAS(out, "column volatility_15m: floe NULL, duckdb ");
	CHECK_EQ_INT(stat_of(out, "gold.features", "mismatches"), 1);
	CHECK_EQ_INT(stat_of(out, "gold.bars_1m", "mismatches"), 0);
	free(out);
}

TEST(gold_check_fails_on_a_duplicate_silver_key)
{
	const char *peers = th_peers();
	static world w;
	REQUIRE(make_world(&w));
	/* the same trade twice; Gold computed from both copies */
	w.trades[w.ntrades] = w.trades[10];
	w.ntrades++;
	w.nbars1 = make_bars(w.bars1, w.trades, w.ntrades, MIN_US);
	char silver[1024], bars[1024], *out = NULL, want[128];
	REQUIRE(make_table(silver, sizeof silver, "silver.trades_dup", silver_trades_schema,
	                   "day(event_time)", "trade_id", NULL,
	                   events_ndjson(w.trades, w.ntrades, false)));
	REQUIRE(make_bars_table(bars, sizeof bars, &w, "gold.bars_dup", NULL, NULL));
	CHECK_EQ_INT(gold_check(&out, peers, silver, bars, NULL), 1);
	snprintf(want, sizeof want, "silver.trades trade_id %s: 2 rows", w.trades[10].id);
	CHECK_HAS(out, want);
	CHECK_EQ_INT(stat_of(out, "silver.trades", "mismatches"), 1);
	CHECK_EQ_INT(stat_of(out, "gold.bars_1m", "mismatches"), 0);
	free(out);
}

/* Position deletes (merge-on-read) are refused with a message, not read
 * wrongly. */
TEST(gold_check_refuses_delete_files)
{
	const char *peers = th_peers();
	static world w;
	REQUIRE(make_world(&w));
	char meta[1024], *out = NULL, *e = NULL;
	REQUIRE(make_bars_table(meta, sizeof meta, &w, "gold.bars_mor", NULL,
	                        "write.delete.mode=merge-on-read"));
	int rc = floe(&out, &e, "delete", "gold.bars_mor", "--where", "symbol = 'MSFT'", NULL);
	if (rc != 0)
		th_fail(__FILE__, __LINE__, "floe delete: %s", e);
	free(out), free(e);
	out = e = NULL;
	REQUIRE(floe(&out, &e, "describe", "gold.bars_mor", NULL) == 0);
	json_t *j = json_loads(out, 0, NULL);
	REQUIRE(j != NULL);
	snprintf(meta, sizeof meta, "%s", json_string_value(json_object_get(j, "metadata-location")));
	json_decref(j);
	free(out), free(e);
	out = NULL;
	CHECK_EQ_INT(gold_check(&out, peers, w.silver_trades, meta, NULL), 1);
	CHECK_HAS(out, "gold.bars_1m: ");
	CHECK_HAS(out, "copy-on-write tables only");
	free(out);
}

/* A Silver row that the validate rules would have rejected (a symbol not
 * upper-cased) is reported with the rule. */
TEST(gold_check_fails_on_a_silver_row_breaking_a_rule)
{
	const char *peers = th_peers();
	static world w;
	REQUIRE(make_world(&w));
	char *rows = events_ndjson(w.trades, w.ntrades, false);
	char *at = strstr(rows, "\"symbol\":\"MSFT\"");
	REQUIRE(at != NULL);
	memcpy(at, "\"symbol\":\"msft\"", 15);
	char silver[1024], *out = NULL;
	REQUIRE(make_table(silver, sizeof silver, "silver.trades_lower", silver_trades_schema,
	                   "day(event_time)", "trade_id", NULL, rows));
	CHECK_EQ_INT(gold_check(&out, peers, silver, w.bars_1m, NULL), 1);
	CHECK_HAS(out, "silver.trades: 1 rows break \"symbol <> '' AND symbol = upper(trim(symbol))\"");
	CHECK_EQ_INT(stat_of(out, "silver.trades", "mismatches"), 1);
	/* the bars then differ too: one MSFT trade fewer, one 'msft' bar more */
	CHECK(stat_of(out, "gold.bars_1m", "mismatches") >= 2);
	free(out);
}
