/* ingest/simulate.c - the stock market simulator. Each symbol has a mid
 * price following a geometric random walk (per-symbol volatility); quotes
 * put bid and ask around it with a spread of a few basis points that widens
 * with the size of the last move; a buy trades at or just under the ask, a
 * sell at or just over the bid; volumes are round lots with a Pareto tail
 * and some odd lots; exchanges are drawn with NASDAQ and NYSE most common.
 * Events are NDJSON lines formatted by hand (no printf per field). A
 * xoshiro256** generator seeded by splitmix64 makes runs with a simulated
 * clock identical byte for byte. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "floe/simulate.h"
#include "util/text.h"

#define MAX_LINE 512
#define DUP_SLOTS 16

typedef struct sym {
	char name[16];
	double mid;   /* dollars */
	double vol;   /* relative volatility per sqrt(second) */
	double last_move;
} sym;

typedef struct pending {
	int64_t due;  /* event number at which to re-send */
	floe_sim_kind kind;
	int sym;
	char line[MAX_LINE];
	size_t len;
} pending;

struct floe_sim {
	floe_sim_options o;
	uint64_t s[4];
	sym *syms;
	int nsyms;
	int64_t clock_us;
	int64_t events, trade_seq, quote_seq, bad_seq;
	char line[MAX_LINE];
	pending dup[DUP_SLOTS];
	int ndup;
	/* timestamp formatting cache: the second last formatted */
	int64_t ts_sec;
	char ts_prefix[32]; /* "2026-11-23T14:30:00." */
};

/* ---- random numbers ---------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next_u64(floe_sim *s)
{
	uint64_t r = rotl(s->s[1] * 5, 7) * 9, t = s->s[1] << 17;
	s->s[2] ^= s->s[0];
	s->s[3] ^= s->s[1];
	s->s[1] ^= s->s[2];
	s->s[0] ^= s->s[3];
	s->s[2] ^= t;
	s->s[3] = rotl(s->s[3], 45);
	return r;
}

/* Uniform in [0, 1). */
static double uniform(floe_sim *s)
{
	return (double)(next_u64(s) >> 11) * 0x1.0p-53;
}

static double normal(floe_sim *s)
{
	double u = uniform(s), v = uniform(s);
	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* ---- set-up -------------------------------------------------------------- */

void floe_sim_options_init(floe_sim_options *o)
{
	memset(o, 0, sizeof *o);
	o->seed = 1;
	o->trades = true;
	o->quote_share = 0.5;
	o->sim_rate = 1000;
	o->late_by_us = 30 * 1000000LL;
}

static const struct {
	const char *name;
	double price, vol;
} default_syms[] = {
	{ "AAPL", 189.50, 0.00040 }, { "GOOGL", 141.20, 0.00045 }, { "MSFT", 378.90, 0.00035 },
	{ "AMZN", 146.10, 0.00050 }, { "TSLA", 242.60, 0.00090 },
};

static int bad_share(floe_error *err, const char *what, double v)
{
	return floe_error_set(err, FLOE_EINVALID, "%s %g: a share is between 0 and 1", what, v);
}

int floe_sim_new(floe_sim **out, const floe_sim_options *o, floe_error *err)
{
	if (!o->trades && !o->quotes)
		return floe_error_set(err, FLOE_EINVALID, "nothing to simulate: pick trades, quotes or both");
	const double shares[] = { o->dup, o->ooo, o->late, o->bad, o->quote_share };
	const char *names[] = { "dup", "ooo", "late", "bad", "quote share" };
	for (int i = 0; i < 5; i++)
		if (!(shares[i] >= 0 && shares[i] <= 1))
			return bad_share(err, names[i], shares[i]);
	if (o->sim_clock && !(o->sim_rate > 0))
		return floe_error_set(err, FLOE_EINVALID, "the simulated event rate must be positive");
	floe_sim *s = calloc(1, sizeof *s);
	if (!s)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	s->o = *o;
	s->o.symbols = NULL;
	uint64_t x = o->seed;
	for (int i = 0; i < 4; i++)
		s->s[i] = splitmix64(&x);
	int n = o->generated_symbols > 0 ? o->generated_symbols
	        : o->symbols ? o->nsymbols : (int)(sizeof default_syms / sizeof default_syms[0]);
	if (n <= 0 || n > 100000) {
		free(s);
		return floe_error_set(err, FLOE_EINVALID, "%d symbols: give 1 to 100000", n);
	}
	s->syms = calloc((size_t)n, sizeof *s->syms);
	if (!s->syms) {
		free(s);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	s->nsyms = n;
	for (int i = 0; i < n; i++) {
		sym *y = &s->syms[i];
		int d = -1; /* a symbol with a known price and volatility */
		if (o->generated_symbols > 0) {
			snprintf(y->name, sizeof y->name, "SYM%04d", i + 1);
		} else if (o->symbols) {
			const char *name = o->symbols[i];
			size_t len = strlen(name);
			if (len == 0 || len >= sizeof y->name || strpbrk(name, "\"\\")) {
				floe_sim_free(s);
				return floe_error_set(err, FLOE_EINVALID, "symbol '%s': 1 to 15 characters, "
				                      "no quotes or backslashes", name);
			}
			memcpy(y->name, name, len + 1);
			for (int k = 0; k < (int)(sizeof default_syms / sizeof default_syms[0]); k++)
				if (strcmp(default_syms[k].name, name) == 0)
					d = k;
		} else {
			d = i;
			snprintf(y->name, sizeof y->name, "%s", default_syms[i].name);
		}
		if (d >= 0) {
			y->mid = default_syms[d].price;
			y->vol = default_syms[d].vol;
		} else {
			/* log-uniform prices from $5 to $800, volatility 2-10 bp per sqrt(s) */
			y->mid = exp(log(5.0) + uniform(s) * (log(800.0) - log(5.0)));
			y->vol = 0.0002 + uniform(s) * 0.0008;
		}
	}
	if (o->sim_clock)
		s->clock_us = o->start_us;
	s->ts_sec = INT64_MIN;
	*out = s;
	return 0;
}

void floe_sim_free(floe_sim *s)
{
	if (!s)
		return;
	free(s->syms);
	free(s);
}

int64_t floe_sim_clock_us(const floe_sim *s)
{
	return s->clock_us;
}

int64_t floe_sim_events(const floe_sim *s)
{
	return s->events;
}

int floe_sim_parse_faults(floe_sim_options *o, const char *text, floe_error *err)
{
	const char *p = text;
	while (*p) {
		const char *eq = strchr(p, '='), *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		if (!eq || eq > end)
			return floe_error_set(err, FLOE_EINVALID, "--faults '%s': want NAME=SHARE,... with "
			                      "NAME dup, ooo, late or bad", text);
		char *stop;
		double v = strtod(eq + 1, &stop);
		if (stop != end || !(v >= 0 && v <= 1))
			return floe_error_set(err, FLOE_EINVALID, "--faults '%s': '%.*s' is not a share "
			                      "between 0 and 1", text, (int)(end - eq - 1), eq + 1);
		size_t n = (size_t)(eq - p);
		if (n == 3 && !memcmp(p, "dup", 3))
			o->dup = v;
		else if (n == 3 && !memcmp(p, "ooo", 3))
			o->ooo = v;
		else if (n == 4 && !memcmp(p, "late", 4))
			o->late = v;
		else if (n == 3 && !memcmp(p, "bad", 3))
			o->bad = v;
		else
			return floe_error_set(err, FLOE_EINVALID, "--faults: unknown fault '%.*s' (there "
			                      "are dup, ooo, late and bad)", (int)n, p);
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* ---- formatting ---------------------------------------------------------- */

typedef struct out {
	char *p, *end;
} out;

static void put(out *o, const char *s, size_t n)
{
	if ((size_t)(o->end - o->p) > n) {
		memcpy(o->p, s, n);
		o->p += n;
	}
}

#define PUTS(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_str(out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_uint(out *o, uint64_t v, int width)
{
	char t[24];
	int n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		t[n++] = '0';
	if (o->end - o->p <= n)
		return;
	while (n)
		*o->p++ = t[--n];
}

/* Cents as dollars: 18723 -> "187.23" (negative allowed). */
static void put_cents(out *o, int64_t c)
{
	if (c < 0) {
		PUTS(o, "-");
		c = -c;
	}
	put_uint(o, (uint64_t)(c / 100), 1);
	PUTS(o, ".");
	put_uint(o, (uint64_t)(c % 100), 2);
}

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" */
static void put_ts(floe_sim *s, out *o, int64_t us)
{
	int64_t sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
	int64_t frac = us - sec * 1000000;
	if (sec != s->ts_sec) {
		int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
		int64_t tod = sec - days * 86400;
		int64_t y;
		unsigned m, d;
		floe_civil_from_days(days, &y, &m, &d);
		snprintf(s->ts_prefix, sizeof s->ts_prefix, "%04lld-%02u-%02uT%02d:%02d:%02d.",
		         (long long)y, m, d, (int)(tod / 3600), (int)(tod / 60 % 60), (int)(tod % 60));
		s->ts_sec = sec;
	}
	put_str(o, s->ts_prefix);
	put_uint(o, (uint64_t)frac, 6);
	PUTS(o, "Z");
}

static const char *exchange(floe_sim *s)
{
	double u = uniform(s);
	return u < 0.35 ? "NASDAQ" : u < 0.60 ? "NYSE" : u < 0.75 ? "ARCA" : u < 0.90 ? "BATS" : "IEX";
}

/* Round lots with a Pareto tail (alpha 1.6), and 15% odd lots. */
static int64_t volume(floe_sim *s)
{
	if (uniform(s) < 0.15)
		return 1 + (int64_t)(uniform(s) * 99);
	double u = uniform(s);
	if (u < 1e-12)
		u = 1e-12;
	double lots = pow(u, -1.0 / 1.6);
	if (lots > 10000)
		lots = 10000;
	return 100 * (int64_t)lots;
}

/* ---- events -------------------------------------------------------------- */

static void advance_clock(floe_sim *s)
{
	if (s->o.sim_clock) {
		double u = uniform(s);
		if (u < 1e-12)
			u = 1e-12;
		s->clock_us += (int64_t)(-log(u) / s->o.sim_rate * 1e6);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->clock_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Move a symbol's mid for the time since its last event (at least 1 ms). */
static void walk(floe_sim *s, sym *y, double dt_s)
{
	if (dt_s < 0.001)
		dt_s = 0.001;
	double z = normal(s);
	double move = y->vol * sqrt(dt_s) * z;
	y->mid *= exp(move);
	if (y->mid < 0.50)
		y->mid = 0.50;
	y->last_move = fabs(move);
}

/* Bid and ask in cents around the mid. */
static void quote_cents(floe_sim *s, const sym *y, int64_t *bid, int64_t *ask)
{
	double bp = 1.0 + 3.0 * uniform(s) + 2000.0 * y->last_move; /* basis points */
	double half = y->mid * bp / 20000.0;
	if (half < 0.005)
		half = 0.005;
	*bid = (int64_t)floor((y->mid - half) * 100.0);
	*ask = (int64_t)ceil((y->mid + half) * 100.0);
	if (*bid < 1)
		*bid = 1;
	if (*ask <= *bid)
		*ask = *bid + 1;
}

static int64_t event_time(floe_sim *s)
{
	int64_t ts = s->clock_us;
	if (s->o.ooo > 0 && uniform(s) < s->o.ooo)
		ts -= (int64_t)(uniform(s) * 2e6);
	if (s->o.late > 0 && uniform(s) < s->o.late)
		ts -= s->o.late_by_us;
	return ts;
}

static size_t make_trade(floe_sim *s, const sym *y, int bad)
{
	out o = { s->line, s->line + sizeof s->line };
	int64_t bid, ask;
	quote_cents(s, y, &bid, &ask);
	bool buy = uniform(s) < 0.5;
	int64_t spread = ask - bid;
	int64_t improve = (int64_t)(uniform(s) * (double)(spread / 2 + 1) * 0.5);
	int64_t price = buy ? ask - improve : bid + improve;
	int64_t vol = volume(s);
	int64_t ts = event_time(s);
	PUTS(&o, "{\"trade_id\":\"T");
	put_uint(&o, (uint64_t)++s->trade_seq, 12);
	PUTS(&o, "\",\"symbol\":\"");
	put_str(&o, y->name);
	if (bad != 2) { /* 2: a missing field */
		PUTS(&o, "\",\"price\":");
		put_cents(&o, bad == 3 ? -price : price);
		PUTS(&o, ",\"volume\":");
	} else {
		PUTS(&o, "\",\"volume\":");
	}
	if (bad == 6)
		PUTS(&o, "\"lots\"");
	else
		put_uint(&o, (uint64_t)vol, 1);
	PUTS(&o, ",\"timestamp\":\"");
	if (bad == 5)
		put_str(&o, s->bad_seq % 2 ? "2026-13-45T99:00:00Z" : "yesterday");
	else
		put_ts(s, &o, ts);
	PUTS(&o, "\",\"trade_type\":\"");
	put_str(&o, bad == 4 ? "HOLD" : buy ? "BUY" : "SELL");
	PUTS(&o, "\",\"exchange\":\"");
	put_str(&o, exchange(s));
	PUTS(&o, "\"}");
	size_t len = (size_t)(o.p - s->line);
	if (bad == 1) /* broken JSON: cut short */
		len = len / 2;
	return len;
}

static size_t make_quote(floe_sim *s, const sym *y, int bad)
{
	out o = { s->line, s->line + sizeof s->line };
	int64_t bid, ask;
	quote_cents(s, y, &bid, &ask);
	int64_t ts = event_time(s);
	PUTS(&o, "{\"quote_id\":\"Q");
	put_uint(&o, (uint64_t)++s->quote_seq, 12);
	if (bad == 4) { /* quotes have no trade_type: a null symbol instead */
		PUTS(&o, "\",\"symbol\":null,\"bid\":");
	} else {
		PUTS(&o, "\",\"symbol\":\"");
		put_str(&o, y->name);
		PUTS(&o, "\",\"bid\":");
	}
	put_cents(&o, bad == 3 ? -bid : bid);
	if (bad != 2) {
		PUTS(&o, ",\"ask\":");
		if (bad == 6)
			PUTS(&o, "\"wide\"");
		else
			put_cents(&o, ask);
	}
	PUTS(&o, ",\"timestamp\":\"");
	if (bad == 5)
		put_str(&o, s->bad_seq % 2 ? "2026-13-45T99:00:00Z" : "yesterday");
	else
		put_ts(s, &o, ts);
	PUTS(&o, "\",\"exchange\":\"");
	put_str(&o, exchange(s));
	PUTS(&o, "\"}");
	size_t len = (size_t)(o.p - s->line);
	if (bad == 1)
		len = len / 2;
	return len;
}

int floe_sim_next(floe_sim *s, floe_sim_kind *kind, const char **symbol, const char **line,
                  size_t *len)
{
	if (s->o.count > 0 && s->events >= s->o.count)
		return 0;
	/* a duplicate that is due goes first */
	for (int i = 0; i < s->ndup; i++) {
		if (s->dup[i].due > s->events)
			continue;
		memcpy(s->line, s->dup[i].line, s->dup[i].len);
		*len = s->dup[i].len;
		*kind = s->dup[i].kind;
		*symbol = s->syms[s->dup[i].sym].name;
		*line = s->line;
		s->dup[i] = s->dup[--s->ndup];
		s->events++;
		return 1;
	}
	int64_t before = s->clock_us;
	advance_clock(s);
	if (s->o.sim_clock && s->o.end_us > 0 && s->clock_us >= s->o.end_us) {
		s->clock_us = before;
		return 0;
	}
	int k = (int)(uniform(s) * s->nsyms);
	if (k >= s->nsyms)
		k = s->nsyms - 1;
	sym *y = &s->syms[k];
	double dt = s->o.sim_clock ? (double)s->nsyms / s->o.sim_rate : 0.001 * s->nsyms;
	walk(s, y, dt);
	floe_sim_kind kd = s->o.trades && s->o.quotes
	                           ? (uniform(s) < s->o.quote_share ? FLOE_SIM_QUOTE : FLOE_SIM_TRADE)
	                   : s->o.quotes ? FLOE_SIM_QUOTE : FLOE_SIM_TRADE;
	int bad = 0;
	if (s->o.bad > 0 && uniform(s) < s->o.bad)
		bad = 1 + (int)(s->bad_seq++ % 6);
	*len = kd == FLOE_SIM_TRADE ? make_trade(s, y, bad) : make_quote(s, y, bad);
	*kind = kd;
	*symbol = y->name;
	*line = s->line;
	s->events++;
	if (!bad && s->o.dup > 0 && s->ndup < DUP_SLOTS && uniform(s) < s->o.dup) {
		pending *p = &s->dup[s->ndup++];
		p->due = s->events + 1 + (int64_t)(uniform(s) * 10);
		p->kind = kd;
		p->sym = k;
		memcpy(p->line, s->line, *len);
		p->len = *len;
	}
	return 1;
}
