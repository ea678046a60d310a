/* floe/simulate.h - a stock market simulator: trades and quotes as NDJSON
 * lines with per-symbol random-walk prices, realistic spreads, trades at
 * the quotes, heavy-tailed volumes and several exchanges; optionally with
 * faults (duplicates, out-of-order and late events, malformed records) for
 * testing pipelines. With a simulated clock and a seed the output is the
 * same byte for byte on every run. See docs/simulate.md. */
#ifndef FLOE_SIMULATE_H
#define FLOE_SIMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "floe/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum floe_sim_kind { FLOE_SIM_TRADE = 1, FLOE_SIM_QUOTE = 2 } floe_sim_kind;

typedef struct floe_sim_options {
	uint64_t seed;               /* default 1 */
	const char *const *symbols;  /* NULL: AAPL, GOOGL, MSFT, AMZN, TSLA */
	int nsymbols;
	int generated_symbols;       /* > 0: that many symbols SYM0001, SYM0002, ... */
	bool trades, quotes;         /* kinds to generate (default trades only) */
	double quote_share;          /* with both kinds: share of quotes (default 0.5) */
	int64_t count;               /* events to generate (faults included); 0 = no limit */
	bool sim_clock;              /* timestamps from a simulated clock (else the wall clock) */
	int64_t start_us;            /* simulated clock start (epoch microseconds) */
	int64_t end_us;              /* stop when the simulated clock passes it (0: never) */
	double sim_rate;             /* events per simulated second (default 1000) */
	double dup, ooo, late, bad;  /* fault shares in [0, 1] */
	int64_t late_by_us;          /* how late a late event is (default 30 s) */
} floe_sim_options;

void floe_sim_options_init(floe_sim_options *o);

typedef struct floe_sim floe_sim;

int floe_sim_new(floe_sim **out, const floe_sim_options *o, floe_error *err);

/* The next event: 1 with its kind, symbol and NDJSON line (no newline;
 * valid until the next call), or 0 at the count or the end time. */
int floe_sim_next(floe_sim *s, floe_sim_kind *kind, const char **symbol, const char **line,
                  size_t *len);

/* The clock of the last event (simulated, or the wall clock), epoch us. */
int64_t floe_sim_clock_us(const floe_sim *s);
/* Events handed out so far. */
int64_t floe_sim_events(const floe_sim *s);
void floe_sim_free(floe_sim *s);

/* "dup=0.02,late=0.05,ooo=0.1,bad=0.005" into the options' fault shares. */
int floe_sim_parse_faults(floe_sim_options *o, const char *text, floe_error *err);

#ifdef __cplusplus
}
#endif
#endif
