/* tests/sql/test_sql_queries.c - the seed queries of docs/queries.md run as
 * written. Every ```sql block of the file (read from the repository at test
 * time) runs through floe_sql on tables the reference pipeline built from
 * simulated trades and quotes (two backfills, so gold.bars_1m has an
 * earlier snapshot); the one placeholder, :snapshot, is bound to that
 * earlier snapshot's id. Each block must run and return rows, and the
 * blocks named below (by their first "-- " line) must return the right
 * ones, computed here from floe scans of the tables (the library, not
 * SQL): the latest bar per symbol, the last hour's movers, VWAP from trades
 * and from bars, the backtest's bars per day and PnL, the bars changed since
 * the snapshot, the counts then and now, and the snapshot history. */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "floe/floe.h"
#include "harness.h"

#define MIN_US INT64_C(60000000)
#define DAY_US INT64_C(86400000000)

static char floe_bin[PATH_MAX + 16];

static const char *floe_path(void)
{
	if (!floe_bin[0]) {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n <= 0)
			return "floe";
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(floe_bin, sizeof floe_bin, "%s/floe", self);
	}
	return floe_bin;
}

static void fmt_ts(char *out, size_t cap, int64_t us)
{
	int64_t s = us / 1000000, f = us % 1000000;
	if (f < 0) {
		f += 1000000;
		s--;
	}
	time_t t = (time_t)s;
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out + n, cap - n, ".%06u", (unsigned)f);
}

/* ---- the pipeline's tables ------------------------------------------------- */

typedef struct world {
	char dir[PATH_MAX], wh[PATH_MAX + 8];
	int64_t earlier; /* gold.bars_1m after the first backfill */
} world;

static bool write_half(const char *in, const char *out, bool first)
{
	size_t len;
	char *text = th_read_file(in, &len);
	if (!text)
		return false;
	int lines = 0, line = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	FILE *f = fopen(out, "w");
	for (char *p = text; f && *p;) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if ((line < lines / 2) == first)
			fwrite(p, 1, n, f);
		line++;
		p += n;
	}
	free(text);
	return f && fclose(f) == 0 && lines > 1000;
}

/* About three hours of trades and quotes from 14:30 UTC on 2026-11-20 (the
 * day docs/queries.md names), backfilled in two halves. */
static bool make_world(world *w)
{
	snprintf(w->dir, sizeof w->dir, "%.*s", PATH_MAX - 64, th_path("p"));
	snprintf(w->wh, sizeof w->wh, "%s/wh", w->dir);
	if (th_run(NULL, "mkdir -p '%s/landing/trades' '%s/landing/quotes' && "
	           "cp examples/stock/pipeline.yaml '%s/'", w->dir, w->dir, w->dir) != 0 ||
	    th_run(NULL, "%s simulate --count 60000 --seed 17 --start 2026-11-20T14:30:00Z "
	           "--sim-rate 5 --faults dup=0.01,ooo=0.02,late=0.01,bad=0.005 "
	           "--to '%s/trades.ndjson' --quotes-to '%s/quotes.ndjson'", floe_path(), w->dir,
	           w->dir) != 0) {
		th_fail(__FILE__, __LINE__, "cannot set up %s (run from the repository)", w->dir);
		return false;
	}
	char in[PATH_MAX + 64], out[PATH_MAX + 64];
	for (int half = 1; half <= 2; half++) {
		const char *streams[] = { "trades", "quotes" };
		for (int s = 0; s < 2; s++) {
			snprintf(in, sizeof in, "%s/%s.ndjson", w->dir, streams[s]);
			snprintf(out, sizeof out, "%s/%s-%d.ndjson", w->dir, streams[s], half);
			if (!write_half(in, out, half == 1)) {
				th_fail(__FILE__, __LINE__, "cannot split %s", in);
				return false;
			}
		}
		if (th_run(NULL, "%s run '%s/pipeline.yaml' --warehouse '%s' --backfill "
		           "'trades=%s/trades-%d.ndjson' 'quotes=%s/quotes-%d.ndjson' "
		           "2>>'%s/run.log' >/dev/null", floe_path(), w->dir, w->wh, w->dir, half, w->dir,
		           half, w->dir) != 0) {
			th_fail(__FILE__, __LINE__, "floe run, backfill %d, failed (see %s/run.log)", half,
			        w->dir);
			return false;
		}
		if (half == 1) {
			floe_catalog *cat;
			floe_table *t;
			floe_error err;
			const floe_snapshot_info *si;
			int n;
			w->earlier = -1;
			if (floe_catalog_open(&cat, w->wh, NULL, &err) == 0) {
				if (floe_table_open(&t, cat, "gold.bars_1m", &err) == 0) {
					if (floe_table_snapshots(t, &si, &n, &err) == 0)
						for (int i = 0; i < n; i++)
							if (si[i].is_current)
								w->earlier = si[i].snapshot_id;
					floe_table_close(t);
				}
				floe_catalog_close(cat);
			}
			if (w->earlier < 0) {
				th_fail(__FILE__, __LINE__, "no gold.bars_1m snapshot after the first backfill");
				return false;
			}
		}
	}
	return true;
}

/* ---- the models, from floe scans ------------------------------------------- */

typedef struct bar {
	char sym[8];
	int64_t ws;
	double open, close, vwap;
	int64_t volume, trades;
	bool final;
} bar;

typedef struct trade {
	char sym[8];
	int64_t ts, volume;
	double price;
} trade;

static void text_at(char *out, size_t cap, const floe_column *c, int64_t r)
{
	int64_t n = c->offsets[r + 1] - c->offsets[r];
	snprintf(out, cap, "%.*s", (int)n, (const char *)c->data + c->offsets[r]);
}

static double f64_at(const floe_column *c, int64_t r)
{
	return floe_column_is_valid(c, r) ? ((const double *)c->values)[r] : NAN;
}

static int64_t i64_at(const floe_column *c, int64_t r)
{
	return ((const int64_t *)c->values)[r];
}

/* Every row of `ident` at snapshot `snap` (-1: current), columns `cols`,
 * handed batch by batch to `fn`. */
typedef void (*batch_fn)(void *ctx, const floe_batch *b);

static bool scan_all(floe_catalog *cat, const char *ident, int64_t snap, const char *const *cols,
                     int ncols, batch_fn fn, void *ctx)
{
	floe_error err;
	floe_table *t;
	floe_scan *sc = NULL;
	const floe_batch *b;
	if (floe_table_open(&t, cat, ident, &err)) {
		th_fail(__FILE__, __LINE__, "open %s: %s", ident, err.msg);
		return false;
	}
	floe_scan_options o;
	floe_scan_options_init(&o);
	o.columns = cols;
	o.ncolumns = ncols;
	if (snap >= 0) {
		o.snapshot.kind = FLOE_SNAPSHOT_ID;
		o.snapshot.snapshot_id = snap;
	}
	int rc = floe_scan_open(&sc, t, &o, &err);
	while (rc == 0 && (rc = floe_scan_next(sc, &b, &err)) == 1) {
		fn(ctx, b);
		rc = 0;
	}
	if (rc < 0)
		th_fail(__FILE__, __LINE__, "scan %s: %s", ident, err.msg);
	floe_scan_free(sc);
	floe_table_close(t);
	return rc == 0;
}

typedef struct bars {
	bar *v;
	int n, cap;
} bars;

static void add_bars(void *ctx, const floe_batch *b)
{
	bars *x = ctx;
	for (int64_t r = 0; r < b->nrows; r++) {
		if (x->n == x->cap)
			x->v = realloc(x->v, (size_t)(x->cap = x->cap ? 2 * x->cap : 1024) * sizeof *x->v);
		bar *o = &x->v[x->n++];
		text_at(o->sym, sizeof o->sym, &b->cols[0], r);
		o->ws = i64_at(&b->cols[1], r);
		o->open = f64_at(&b->cols[2], r);
		o->close = f64_at(&b->cols[3], r);
		o->vwap = f64_at(&b->cols[4], r);
		o->volume = i64_at(&b->cols[5], r);
		o->trades = i64_at(&b->cols[6], r);
		o->final = ((const uint8_t *)b->cols[7].values)[r] != 0;
	}
}

static int cmp_bar(const void *pa, const void *pb)
{
	const bar *a = pa, *b = pb;
	int c = strcmp(a->sym, b->sym);
	return c ? c : a->ws < b->ws ? -1 : a->ws > b->ws;
}

/* The bars of `ident` at `snap` (-1: current), by (symbol, window_start). */
static bars load_bars(floe_catalog *cat, const char *ident, int64_t snap)
{
	static const char *const cols[] = { "symbol", "window_start", "open", "close", "vwap",
		                             "volume", "trade_count", "is_final" };
	bars x = { NULL, 0, 0 };
	scan_all(cat, ident, snap, cols, 8, add_bars, &x);
	if (x.n)
		qsort(x.v, (size_t)x.n, sizeof *x.v, cmp_bar);
	return x;
}

typedef struct trades {
	trade *v;
	int n, cap;
} trades;

static void add_trades(void *ctx, const floe_batch *b)
{
	trades *x = ctx;
	for (int64_t r = 0; r < b->nrows; r++) {
		if (x->n == x->cap)
			x->v = realloc(x->v, (size_t)(x->cap = x->cap ? 2 * x->cap : 4096) * sizeof *x->v);
		trade *o = &x->v[x->n++];
		text_at(o->sym, sizeof o->sym, &b->cols[0], r);
		o->price = f64_at(&b->cols[1], r);
		o->volume = i64_at(&b->cols[2], r);
		o->ts = i64_at(&b->cols[3], r);
	}
}

/* ---- running the blocks ---------------------------------------------------- */

typedef struct block {
	char title[128];
	char *sql;
} block;

/* The ```sql blocks of `text`, each titled by its first "-- " line (""
 * when it has none). Returns the count; blocks are malloc'ed. */
static int sql_blocks(const char *text, block *out, int max)
{
	int n = 0;
	const char *p = text;
	while ((p = strstr(p, "```sql\n")) && n < max) {
		p += 7;
		const char *end = strstr(p, "\n```");
		if (!end)
			break;
		block *b = &out[n++];
		size_t len = (size_t)(end - p) + 1;
		b->sql = malloc(len + 1);
		memcpy(b->sql, p, len);
		b->sql[len] = '\0';
		b->title[0] = '\0';
		if (strncmp(b->sql, "-- ", 3) == 0)
			snprintf(b->title, sizeof b->title, "%.*s", (int)strcspn(b->sql + 3, "\n"),
			         b->sql + 3);
		p = end + 4;
	}
	return n;
}

static json_t *value_json(sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(st, col));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(st, col));
	case SQLITE_TEXT:
		return json_stringn((const char *)sqlite3_column_text(st, col),
		                    (size_t)sqlite3_column_bytes(st, col));
	case SQLITE_BLOB:
		return json_string("(blob)");
	default:
		return json_null();
	}
}

/* Run one block with :snapshot bound to `snap`: its rows as a JSON array
 * of arrays, or NULL with the message in `msg`. */
static json_t *run_block(floe_sql *s, const char *sql, int64_t snap, char *msg, size_t cap)
{
	sqlite3 *db = floe_sql_db(s);
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	if (floe_sql_prepare(s, sql, -1, &st, &tail) != SQLITE_OK || !st) {
		snprintf(msg, cap, "%s", st ? sqlite3_errmsg(db) : "no statement");
		sqlite3_finalize(st);
		return NULL;
	}
	while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t'))
		tail++;
	if (tail && *tail) {
		snprintf(msg, cap, "more than one statement (from \"%.40s\")", tail);
		sqlite3_finalize(st);
		return NULL;
	}
	int k = sqlite3_bind_parameter_index(st, ":snapshot");
	if (k > 0)
		sqlite3_bind_int64(st, k, snap);
	if (sqlite3_bind_parameter_count(st) != (k > 0 ? 1 : 0)) {
		snprintf(msg, cap, "a placeholder other than :snapshot");
		sqlite3_finalize(st);
		return NULL;
	}
	json_t *rows = json_array();
	int rc, ncol = sqlite3_column_count(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = json_array();
		for (int i = 0; i < ncol; i++)
			json_array_append_new(row, value_json(st, i));
		json_array_append_new(rows, row);
	}
	if (rc != SQLITE_DONE) {
		snprintf(msg, cap, "%s", sqlite3_errmsg(db));
		json_decref(rows);
		rows = NULL;
	}
	sqlite3_finalize(st);
	return rows;
}

static const json_t *cell(const json_t *rows, size_t r, size_t c)
{
	return json_array_get(json_array_get(rows, r), c);
}

static const char *cell_text(const json_t *rows, size_t r, size_t c)
{
	const char *s = json_string_value(cell(rows, r, c));
	return s ? s : "(not text)";
}

static double cell_num(const json_t *rows, size_t r, size_t c)
{
	const json_t *v = cell(rows, r, c);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static bool close_to(double a, double b, double rel)
{
	return a == b || fabs(a - b) <= rel * fmax(fabs(a), fabs(b));
}

/* ---- the checks ------------------------------------------------------------ */

typedef struct ctx {
	floe_catalog *cat;
	int64_t earlier;
	bars now, then, five; /* gold.bars_1m now and at `earlier`; gold.bars_5m */
	trades tr;            /* silver.trades */
} ctx;

/* A wrong answer, reported at most 5 times per block (the first report
 * fails the test; the rest would only flood the log). */
static int fail_budget;
#define FAILQ(fmt, ...)                                                                     \
	do {                                                                                \
		if (fail_budget-- > 0)                                                      \
			th_fail(__FILE__, __LINE__, "\"%s\": " fmt, __VA_ARGS__);           \
	} while (0)

/* Columns: symbol, window_start, open, high, low, close, volume, vwap,
 * is_final; one row per symbol, its newest bar. */
static void check_latest(const ctx *c, const char *title, const json_t *rows)
{
	size_t r = 0;
	for (int i = 0; i < c->now.n; i++) {
		const bar *b = &c->now.v[i];
		if (i + 1 < c->now.n && strcmp(c->now.v[i + 1].sym, b->sym) == 0)
			continue; /* not the symbol's newest */
		char ws[48];
		fmt_ts(ws, sizeof ws, b->ws);
		if (strcmp(cell_text(rows, r, 0), b->sym) || strcmp(cell_text(rows, r, 1), ws) ||
		    cell_num(rows, r, 5) != b->close || cell_num(rows, r, 6) != (double)b->volume ||
		    cell_num(rows, r, 8) != (b->final ? 1 : 0))
			FAILQ("row %zu is %s %s close %g, want %s %s close %g volume %" PRId64,
			      title, r, cell_text(rows, r, 0), cell_text(rows, r, 1), cell_num(rows, r, 5),
			      b->sym, ws, b->close, b->volume);
		r++;
	}
	CHECK_EQ_INT(json_array_size(rows), r);
	CHECK(r >= 5);
}

typedef struct move {
	char sym[8];
	double first_open, last_close, m;
} move;

static int cmp_move(const void *pa, const void *pb)
{
	const move *a = pa, *b = pb;
	if (fabs(a->m) != fabs(b->m))
		return fabs(a->m) > fabs(b->m) ? -1 : 1;
	return strcmp(a->sym, b->sym);
}

/* Columns: symbol, first_open, last_close, move_pct, ...: the bars from
 * the newest window_start less 59 minutes, by |move| descending. */
static void check_movers(const ctx *c, const char *title, const json_t *rows)
{
	int64_t newest = INT64_MIN;
	for (int i = 0; i < c->now.n; i++)
		if (c->now.v[i].ws > newest)
			newest = c->now.v[i].ws;
	move mv[64];
	int n = 0;
	for (int i = 0; i < c->now.n && n < 64; i++) {
		const bar *b = &c->now.v[i];
		if (b->ws < newest - 59 * MIN_US)
			continue;
		if (n == 0 || strcmp(mv[n - 1].sym, b->sym) != 0) {
			snprintf(mv[n].sym, sizeof mv[n].sym, "%s", b->sym);
			mv[n++].first_open = b->open;
		}
		mv[n - 1].last_close = b->close; /* bars are in time order */
	}
	for (int i = 0; i < n; i++)
		mv[i].m = mv[i].last_close / mv[i].first_open - 1;
	qsort(mv, (size_t)n, sizeof *mv, cmp_move);
	CHECK_EQ_INT(json_array_size(rows), n < 10 ? n : 10);
	for (int i = 0; i < n && i < 10 && (size_t)i < json_array_size(rows); i++) {
		double pct = round(100 * mv[i].m * 1000) / 1000;
		if (strcmp(cell_text(rows, (size_t)i, 0), mv[i].sym) ||
		    cell_num(rows, (size_t)i, 1) != mv[i].first_open ||
		    cell_num(rows, (size_t)i, 2) != mv[i].last_close ||
		    fabs(cell_num(rows, (size_t)i, 3) - pct) > 1e-9)
			FAILQ("row %d is %s %g -> %g (%g%%), want %s %g -> %g (%g%%)", title, i,
			      cell_text(rows, (size_t)i, 0), cell_num(rows, (size_t)i, 1),
			      cell_num(rows, (size_t)i, 2), cell_num(rows, (size_t)i, 3), mv[i].sym,
			      mv[i].first_open, mv[i].last_close, pct);
	}
	CHECK(n >= 5);
}

/* Columns: symbol, vwap, volume, trades for 2026-11-20 UTC, from every
 * Silver trade of that day (both VWAP queries). */
static void check_vwap(const ctx *c, const char *title, const json_t *rows)
{
	const int64_t day0 = INT64_C(1795132800000000); /* 2026-11-20 00:00:00 UTC */
	typedef struct {
		char sym[8];
		double pv;
		int64_t v, n;
	} acc;
	acc a[64];
	int na = 0;
	for (int i = 0; i < c->tr.n; i++) {
		const trade *t = &c->tr.v[i];
		if (t->ts < day0 || t->ts >= day0 + DAY_US)
			continue;
		int k = 0;
		while (k < na && strcmp(a[k].sym, t->sym))
			k++;
		if (k == na) {
			if (na == 64)
				continue;
			memset(&a[na], 0, sizeof a[na]);
			snprintf(a[na++].sym, sizeof a[0].sym, "%s", t->sym);
		}
		a[k].pv += t->price * (double)t->volume;
		a[k].v += t->volume;
		a[k].n++;
	}
	CHECK_EQ_INT(json_array_size(rows), na);
	for (size_t r = 0; r < json_array_size(rows); r++) {
		const char *sym = cell_text(rows, r, 0);
		int k = 0;
		while (k < na && strcmp(a[k].sym, sym))
			k++;
		if (k == na) {
			FAILQ("symbol %s has no trades on 2026-11-20", title, sym);
			continue;
		}
		if (r > 0 && strcmp(cell_text(rows, r - 1, 0), sym) >= 0)
			FAILQ("rows not in symbol order at %s", title, sym);
		double want = a[k].pv / (double)a[k].v;
		if (!close_to(cell_num(rows, r, 1), want, 1e-9) ||
		    cell_num(rows, r, 2) != (double)a[k].v || cell_num(rows, r, 3) != (double)a[k].n)
			FAILQ("%s: vwap %.12g volume %g trades %g, want %.12g %" PRId64 " %" PRId64,
			      title, sym, cell_num(rows, r, 1), cell_num(rows, r, 2), cell_num(rows, r, 3),
			      want, a[k].v, a[k].n);
	}
	CHECK(na >= 5);
}

/* Columns: day, symbols, bars, bars_long, pnl_per_share: the crossover of
 * 6- and 24-bar average closes per symbol over the 5-minute bars, the
 * position held to the next bar's close. Days where the two averages tie
 * within rounding are checked for bars and symbols only. */
static void check_backtest(const ctx *c, const char *title, const json_t *rows)
{
	typedef struct {
		char day[16];
		int bars, longs, nsym;
		char syms[16][8];
		double pnl;
		bool tie;
	} dayacc;
	dayacc d[32];
	int nd = 0;
	const bars *x = &c->five;
	for (int i = 0; i < x->n; i++) {
		const bar *b = &x->v[i];
		int first = i;
		while (first > 0 && strcmp(x->v[first - 1].sym, b->sym) == 0 && i - first < 23)
			first--;
		if (i + 1 >= x->n || strcmp(x->v[i + 1].sym, b->sym) != 0)
			continue; /* the symbol's last bar: no next close */
		double fast = 0, slow = 0;
		int nf = 0, ns = 0;
		for (int k = i; k >= first; k--) {
			slow += x->v[k].close;
			ns++;
			if (i - k < 6) {
				fast += x->v[k].close;
				nf++;
			}
		}
		fast /= nf;
		slow /= ns;
		char ts[48];
		fmt_ts(ts, sizeof ts, b->ws);
		ts[10] = '\0';
		int k = 0;
		while (k < nd && strcmp(d[k].day, ts))
			k++;
		if (k == nd) {
			if (nd == 32)
				continue;
			memset(&d[nd], 0, sizeof d[nd]);
			snprintf(d[nd++].day, sizeof d[0].day, "%.10s", ts);
		}
		d[k].bars++;
		int s = 0;
		while (s < d[k].nsym && strcmp(d[k].syms[s], b->sym))
			s++;
		if (s == d[k].nsym && s < 16)
			snprintf(d[k].syms[d[k].nsym++], 8, "%s", b->sym);
		if (fabs(fast - slow) <= 1e-9 * fabs(slow))
			d[k].tie = true;
		if (fast > slow) {
			d[k].longs++;
			d[k].pnl += x->v[i + 1].close - b->close;
		}
	}
	CHECK_EQ_INT(json_array_size(rows), nd);
	for (size_t r = 0; r < json_array_size(rows) && (int)r < nd; r++) {
		const dayacc *a = &d[r];
		if (strcmp(cell_text(rows, r, 0), a->day) || cell_num(rows, r, 1) != a->nsym ||
		    cell_num(rows, r, 2) != a->bars)
			FAILQ("row %zu: %s %g symbols %g bars, want %s %d %d", title, r,
			      cell_text(rows, r, 0), cell_num(rows, r, 1), cell_num(rows, r, 2), a->day,
			      a->nsym, a->bars);
		if (!a->tie && (cell_num(rows, r, 3) != a->longs ||
		                fabs(cell_num(rows, r, 4) - a->pnl) > 0.5e-4 + 1e-9))
			FAILQ("%s: %g bars long, PnL %g; want %d, %.6f", title, a->day,
			      cell_num(rows, r, 3), cell_num(rows, r, 4), a->longs, a->pnl);
	}
	CHECK(nd >= 1 && d[0].bars > 100 && d[0].longs > 0 && d[0].longs < d[0].bars);
}

static const bar *find_bar(const bars *x, const char *sym, int64_t ws)
{
	bar key;
	snprintf(key.sym, sizeof key.sym, "%s", sym);
	key.ws = ws;
	return x->n ? bsearch(&key, x->v, (size_t)x->n, sizeof *x->v, cmp_bar) : NULL;
}

/* Columns: symbol, window_start, close then, close now, volume then,
 * volume now, final then, final now: the bars new since the snapshot or
 * changed, in key order. */
static void check_changed(const ctx *c, const char *title, const json_t *rows)
{
	size_t r = 0;
	int added = 0, changed = 0;
	for (int i = 0; i < c->now.n; i++) {
		const bar *n = &c->now.v[i];
		const bar *o = find_bar(&c->then, n->sym, n->ws);
		if (o && o->close == n->close && o->volume == n->volume && o->final == n->final)
			continue;
		added += !o;
		changed += o != NULL;
		char ws[48];
		fmt_ts(ws, sizeof ws, n->ws);
		if (strcmp(cell_text(rows, r, 0), n->sym) || strcmp(cell_text(rows, r, 1), ws) ||
		    json_is_null(cell(rows, r, 2)) != !o || cell_num(rows, r, 3) != n->close ||
		    cell_num(rows, r, 5) != (double)n->volume ||
		    (o && (cell_num(rows, r, 2) != o->close || cell_num(rows, r, 4) != (double)o->volume)))
			FAILQ("row %zu is %s %s, want %s %s (%s)", title, r, cell_text(rows, r, 0),
			      cell_text(rows, r, 1), n->sym, ws, o ? "changed" : "new");
		r++;
	}
	CHECK_EQ_INT(json_array_size(rows), r);
	/* the second backfill adds bars and finishes the first one's open ones */
	CHECK(added > 100);
	CHECK(changed >= 1);
	CHECK_EQ_INT(added, c->now.n - c->then.n);
}

/* Columns: bars_then, bars_now, newest_then, newest_now. */
static void check_then_now(const ctx *c, const char *title, const json_t *rows)
{
	int64_t nt = INT64_MIN, nn = INT64_MIN;
	for (int i = 0; i < c->then.n; i++)
		nt = c->then.v[i].ws > nt ? c->then.v[i].ws : nt;
	for (int i = 0; i < c->now.n; i++)
		nn = c->now.v[i].ws > nn ? c->now.v[i].ws : nn;
	char a[48], b[48];
	fmt_ts(a, sizeof a, nt);
	fmt_ts(b, sizeof b, nn);
	if (json_array_size(rows) != 1 || cell_num(rows, 0, 0) != c->then.n ||
	    cell_num(rows, 0, 1) != c->now.n || strcmp(cell_text(rows, 0, 2), a) ||
	    strcmp(cell_text(rows, 0, 3), b))
		FAILQ("got %g %g %s %s, want %d %d %s %s", title, cell_num(rows, 0, 0),
		      cell_num(rows, 0, 1), cell_text(rows, 0, 2), cell_text(rows, 0, 3), c->then.n,
		      c->now.n, a, b);
	CHECK(c->then.n < c->now.n);
}

/* Columns: committed_at, snapshot_id, parent_id, operation, added_records,
 * total_records: every snapshot of gold.bars_1m, oldest first. */
static void check_history(const ctx *c, const char *title, const json_t *rows)
{
	floe_error err;
	floe_table *t;
	const floe_snapshot_info *si;
	int n;
	if (floe_table_open(&t, c->cat, "gold.bars_1m", &err) ||
	    floe_table_snapshots(t, &si, &n, &err)) {
		th_fail(__FILE__, __LINE__, "snapshots: %s", err.msg);
		return;
	}
	CHECK_EQ_INT(json_array_size(rows), n);
	bool seen_earlier = false;
	for (size_t r = 0; r < json_array_size(rows); r++) {
		json_int_t id = json_integer_value(cell(rows, r, 1));
		int k = 0;
		while (k < n && si[k].snapshot_id != id)
			k++;
		if (k == n) {
			FAILQ("row %zu: no snapshot %lld", title, r, (long long)id);
			continue;
		}
		seen_earlier |= id == c->earlier;
		char at[48];
		fmt_ts(at, sizeof at, si[k].timestamp_ms * 1000);
		if (strcmp(cell_text(rows, r, 0), at) || strcmp(cell_text(rows, r, 3), si[k].operation) ||
		    json_is_null(cell(rows, r, 2)) == si[k].has_parent ||
		    (si[k].has_parent && json_integer_value(cell(rows, r, 2)) != si[k].parent_id))
			FAILQ("row %zu (snapshot %lld) does not match the table's", title, r,
			      (long long)id);
		if (r > 0 && strcmp(cell_text(rows, r - 1, 0), cell_text(rows, r, 0)) > 0)
			FAILQ("rows not oldest first at %zu", title, r);
	}
	CHECK(seen_earlier);
	CHECK(n >= 2);
	floe_table_close(t);
}

typedef void (*check_fn)(const ctx *c, const char *title, const json_t *rows);

static const struct {
	const char *title;
	check_fn fn;
} checks[] = {
	{ "Latest bar per symbol", check_latest },
	{ "Top movers in the last hour of data", check_movers },
	{ "VWAP by symbol for a day, from the trades", check_vwap },
	{ "VWAP by symbol for a day, from the 1-minute bars", check_vwap },
	{ "Backtest: moving-average crossover on 5-minute bars, PnL by day", check_backtest },
	{ "Gold as of an earlier snapshot compared with now", check_changed },
	{ "Bars then and now", check_then_now },
	{ "Snapshot history of a table", check_history },
};

#define NCHECKS (sizeof checks / sizeof checks[0])

TEST(sql_seed_queries_of_docs_run_and_answer_right)
{
	size_t len;
	char *doc = th_read_file("docs/queries.md", &len);
	REQUIRE(doc != NULL);
	static block blocks[64];
	int nb = sql_blocks(doc, blocks, 64);
	free(doc);
	CHECK(nb >= (int)NCHECKS);
	static world w;
	REQUIRE(make_world(&w));
	static ctx c;
	floe_error err;
	floe_sql *s;
	REQUIRE_OK(floe_catalog_open(&c.cat, w.wh, NULL, &err), &err);
	REQUIRE_OK(floe_sql_open(&s, c.cat, NULL, &err), &err);
	c.earlier = w.earlier;
	c.now = load_bars(c.cat, "gold.bars_1m", -1);
	c.then = load_bars(c.cat, "gold.bars_1m", w.earlier);
	c.five = load_bars(c.cat, "gold.bars_5m", -1);
	static const char *const tcols[] = { "symbol", "price", "volume", "event_time" };
	REQUIRE(scan_all(c.cat, "silver.trades", -1, tcols, 4, add_trades, &c.tr));
	REQUIRE(c.now.n > 500 && c.then.n > 100 && c.five.n > 100 && c.tr.n > 10000);
	bool used[NCHECKS] = { false };
	for (int i = 0; i < nb; i++) {
		char msg[512];
		json_t *rows = run_block(s, blocks[i].sql, w.earlier, msg, sizeof msg);
		if (!rows) {
			th_fail(__FILE__, __LINE__, "docs/queries.md block %d \"%s\": %s", i + 1,
			        blocks[i].title, msg);
		} else if (json_array_size(rows) == 0) {
			th_fail(__FILE__, __LINE__, "docs/queries.md block %d \"%s\" returns no rows", i + 1,
			        blocks[i].title);
		} else {
			for (size_t k = 0; k < NCHECKS; k++)
				if (strcmp(blocks[i].title, checks[k].title) == 0) {
					fail_budget = 5;
					checks[k].fn(&c, blocks[i].title, rows);
					used[k] = true;
				}
		}
		json_decref(rows);
		free(blocks[i].sql);
	}
	for (size_t k = 0; k < NCHECKS; k++)
		if (!used[k])
			th_fail(__FILE__, __LINE__, "docs/queries.md has no working block titled \"-- %s\"",
			        checks[k].title);
	free(c.now.v);
	free(c.then.v);
	free(c.five.v);
	free(c.tr.v);
	floe_sql_close(s);
	floe_catalog_close(c.cat);
}
