/* tests/pipeline/test_spec.c - pipeline files into pl_spec (pipeline/spec.c):
 * the reference stock pipeline's structure (anchors, merge keys, key
 * order), step order, every class of error with its FILE:LINE:COL, alias
 * bombs, CRLF files, Kafka sources, durations, and truncated or mutated
 * files that must load or fail cleanly, never crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pipeline/spec.h"

#define EXAMPLE "examples/stock/pipeline.yaml"

/* Parse `text` as "t.yaml" in folder "/p"; 0 or the error code. */
static int parse_text(const char *text, size_t len, floe_error *err)
{
	floe_arena *a = floe_arena_new(0);
	pl_spec *s = NULL;
	int rc = pl_spec_parse(&s, text, len, "t.yaml", "/p", a, err);
	if (rc == 0 && !s)
		rc = -100;
	floe_arena_free(a);
	return rc;
}

/* 1-based line of the first occurrence of `needle` in `text`; 0 when absent. */
static int line_of(const char *text, const char *needle)
{
	const char *at = strstr(text, needle);
	if (!at)
		return 0;
	int line = 1;
	for (const char *p = text; p < at; p++)
		line += *p == '\n';
	return line;
}

static const pl_step *step_named(const pl_spec *s, const char *name)
{
	for (int i = 0; i < s->nsteps; i++)
		if (strcmp(s->steps[i].name, name) == 0)
			return &s->steps[i];
	return NULL;
}

static int order_pos(const pl_spec *s, const int *order, const char *name)
{
	for (int i = 0; i < s->nsteps; i++)
		if (strcmp(s->steps[order[i]].name, name) == 0)
			return i;
	return -1;
}

TEST(pipeline_spec_stock_example)
{
	floe_arena *a = floe_arena_new(0);
	floe_error err;
	pl_spec *s = NULL;
	size_t len;
	char *text = th_read_file(EXAMPLE, &len);
	REQUIRE(a && text);
	REQUIRE_OK(pl_spec_load(&s, EXAMPLE, a, &err), &err);
	CHECK_EQ_STR(s->path, EXAMPLE);
	CHECK_EQ_STR(s->dir, "examples/stock");
	CHECK_EQ_STR(s->name, "stock");

	/* simulator: values as text, in file order */
	REQUIRE(s->nsimulator == 5);
	CHECK_EQ_STR(s->simulator[0].key, "trades");
	CHECK_EQ_STR(s->simulator[0].value, "landing/trades/");
	CHECK_EQ_STR(s->simulator[2].key, "rate");
	CHECK_EQ_STR(s->simulator[2].value, "2000");
	CHECK_EQ_STR(s->simulator[3].value, "AAPL,GOOGL,MSFT,AMZN,TSLA");
	CHECK_EQ_STR(s->simulator[4].value, "dup=0.01,ooo=0.02,late=0.005,bad=0.002");
	CHECK_EQ_INT(s->simulator[0].line, line_of(text, "  trades: landing"));

	/* sources: paths resolved against the file's folder */
	REQUIRE(s->nsources == 2);
	CHECK_EQ_STR(s->sources[0].name, "trades");
	CHECK_EQ_INT(s->sources[0].kind, PL_SRC_FILES);
	CHECK_EQ_STR(s->sources[0].table, "bronze.trades");
	CHECK_EQ_STR(s->sources[0].spec, "trades");
	CHECK_EQ_STR(s->sources[0].path, "examples/stock/landing/trades/");
	CHECK_EQ_STR(s->sources[0].format, "ndjson");
	CHECK_EQ_STR(s->sources[1].name, "quotes");
	CHECK_EQ_STR(s->sources[1].table, "bronze.quotes");
	CHECK_EQ_STR(s->sources[1].path, "examples/stock/landing/quotes/");
	CHECK(pl_spec_source_for(s, "bronze.quotes") == &s->sources[1]);
	/* Bronze's raw lines are written with ZSTD level 1; its snapshots
	 * expire after an hour */
	for (int i = 0; i < 2; i++) {
		REQUIRE(s->sources[i].nproperties == 2);
		CHECK_EQ_STR(s->sources[i].properties[0].key, "write.parquet.compression-level");
		CHECK_EQ_STR(s->sources[i].properties[0].value, "1");
		CHECK_EQ_STR(s->sources[i].properties[1].key, "history.expire.max-snapshot-age-ms");
		CHECK_EQ_STR(s->sources[i].properties[1].value, "3600000");
	}
	CHECK_EQ_INT(s->upkeep_every_us, 600000000);
	CHECK_EQ_INT(s->upkeep_compact, 1);
	CHECK(pl_spec_source_for(s, "silver.quotes") == NULL);

	/* tables */
	static const char *const names[] = { "silver.trades", "silver.quotes", "gold.bars_1m",
		"gold.bars_5m", "gold.spreads_1m", "gold.features" };
	REQUIRE(s->ntables == 6);
	for (int i = 0; i < 6; i++) {
		CHECK_EQ_STR(s->tables[i].name, names[i]);
		CHECK(pl_spec_table(s, names[i]) == &s->tables[i]);
	}
	CHECK(pl_spec_table(s, "bronze.trades") == NULL);
	const pl_table *st = &s->tables[0];
	CHECK(strncmp(st->schema, "trade_id string not null, symbol string not null, price", 55) == 0);
	CHECK(strstr(st->schema, "event_time timestamptz not null") != NULL);
	CHECK(strchr(st->schema, '\n') == NULL); /* >- folds the lines */
	CHECK_EQ_STR(st->partition, "day(event_time)");
	CHECK(st->sort == NULL);
	REQUIRE(st->nidentifier == 1);
	CHECK_EQ_STR(st->identifier[0], "trade_id");
	REQUIRE(st->nproperties == 2);
	CHECK_EQ_STR(st->properties[0].key, "write.merge.mode");
	CHECK_EQ_STR(st->properties[0].value, "copy-on-write");
	CHECK_EQ_STR(st->properties[1].key, "write.parquet.bloom-filter-enabled.column.trade_id");
	CHECK_EQ_STR(st->properties[1].value, "true");
	CHECK_EQ_INT(st->line, line_of(text, "  silver.trades:"));
	/* gold.bars_5m: *bars is gold.bars_1m's mapping */
	const pl_table *b1 = &s->tables[2], *b5 = &s->tables[3];
	CHECK_EQ_STR(b5->schema, b1->schema);
	CHECK(strstr(b5->schema, "is_final boolean not null") != NULL);
	CHECK_EQ_STR(b5->partition, "day(window_start)");
	REQUIRE(b5->nidentifier == 2);
	CHECK_EQ_STR(b5->identifier[0], "symbol");
	CHECK_EQ_STR(b5->identifier[1], "window_start");
	CHECK_EQ_INT(b5->line, line_of(text, "  gold.bars_5m: *bars"));
	CHECK_EQ_STR(s->tables[5].identifier[1], "minute");

	/* steps and their kinds */
	REQUIRE(s->nsteps == 6);
	static const char *const steps[] = { "silver_trades", "silver_quotes", "bars_1m",
		"bars_5m", "spreads_1m", "features" };
	static const pl_step_kind kinds[] = { PL_STEP_TRANSFORM, PL_STEP_TRANSFORM,
		PL_STEP_AGGREGATE, PL_STEP_AGGREGATE, PL_STEP_AGGREGATE, PL_STEP_ROLLING };
	for (int i = 0; i < 6; i++) {
		CHECK_EQ_STR(s->steps[i].name, steps[i]);
		CHECK_EQ_INT(s->steps[i].kind, kinds[i]);
	}

	/* silver_trades: ops in order, derive columns in file order */
	const pl_step *t = step_named(s, "silver_trades");
	REQUIRE(t);
	CHECK_EQ_STR(t->from, "bronze.trades");
	CHECK_EQ_STR(t->to, "silver.trades");
	CHECK(t->quarantine == NULL);
	CHECK_EQ_INT(t->line, line_of(text, "  silver_trades:"));
	REQUIRE(t->nops == 3);
	CHECK_EQ_INT(t->ops[0].kind, PL_OP_DERIVE);
	CHECK_EQ_INT(t->ops[1].kind, PL_OP_VALIDATE);
	CHECK_EQ_INT(t->ops[2].kind, PL_OP_SELECT);
	REQUIRE(t->ops[0].ncols == 4);
	static const char *const dcols[] = { "symbol", "exchange", "side", "event_time" };
	static const char *const dexpr[] = { "upper(trim(symbol))", "upper(trim(exchange))",
		"upper(trade_type)", "timestamp" };
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_STR(t->ops[0].cols[i].key, dcols[i]);
		CHECK_EQ_STR(t->ops[0].cols[i].value, dexpr[i]);
	}
	REQUIRE(t->ops[1].nrules == 4);
	CHECK_EQ_STR(t->ops[1].rules[0].rule, "symbol <> ''");
	CHECK_EQ_STR(t->ops[1].rules[0].reason, "empty symbol");
	CHECK_EQ_STR(t->ops[1].rules[1].rule,
	             "exchange IN ('NASDAQ', 'NYSE', 'ARCA', 'BATS', 'IEX')");
	CHECK_EQ_STR(t->ops[1].rules[3].reason, "side must be BUY or SELL");
	CHECK_EQ_INT(t->ops[1].rules[0].line, line_of(text, "          - rule: symbol <> ''"));
	REQUIRE(t->ops[2].ncols == 7);
	CHECK_EQ_STR(t->ops[2].cols[0].key, "trade_id");
	CHECK_EQ_STR(t->ops[2].cols[6].key, "event_time");
	REQUIRE(t->ndedup_key == 1);
	CHECK_EQ_STR(t->dedup_key[0], "trade_id");
	CHECK_EQ_STR(t->dedup_order, "event_time");
	CHECK_EQ_STR(t->event_time, "event_time");
	CHECK_EQ_INT(t->late_horizon_us, 0);
	const pl_step *q = step_named(s, "silver_quotes");
	REQUIRE(q && q->nops == 3);
	CHECK_EQ_STR(q->ops[1].rules[3].reason, "crossed quote (bid >= ask)");
	CHECK_EQ_STR(q->dedup_key[0], "quote_id");

	/* bars_1m: the window in microseconds, outputs in file order */
	static const char *const outs[] = { "open", "high", "low", "close", "volume",
		"trade_count", "vwap", "buy_volume", "sell_volume", "volatility" };
	const pl_step *w1 = step_named(s, "bars_1m"), *w5 = step_named(s, "bars_5m");
	REQUIRE(w1 && w5);
	CHECK_EQ_STR(w1->from, "silver.trades");
	CHECK_EQ_STR(w1->to, "gold.bars_1m");
	CHECK_EQ_STR(w1->time, "event_time");
	CHECK_EQ_INT(w1->size_us, 60000000);
	CHECK_EQ_INT(w1->slide_us, 0);
	CHECK_EQ_INT(w1->lateness_us, 10000000);
	REQUIRE(w1->nkeys == 1 && w1->norder == 1);
	CHECK_EQ_STR(w1->keys[0], "symbol");
	CHECK_EQ_STR(w1->order[0], "trade_id");
	REQUIRE(w1->noutputs == 10);
	for (int i = 0; i < 10; i++)
		CHECK_EQ_STR(w1->outputs[i].key, outs[i]);
	CHECK_EQ_STR(w1->outputs[6].value, "sum(price * volume) / sum(volume)");
	CHECK_EQ_INT(w1->outputs[0].line, line_of(text, "      open: first(price)"));
	/* bars_5m: <<: *bars_step with to: and window: overridden */
	CHECK_EQ_STR(w5->from, "silver.trades");
	CHECK_EQ_STR(w5->to, "gold.bars_5m");
	CHECK_EQ_INT(w5->kind, PL_STEP_AGGREGATE);
	CHECK_EQ_INT(w5->size_us, 300000000);
	CHECK_EQ_INT(w5->lateness_us, 10000000);
	CHECK_EQ_STR(w5->keys[0], "symbol");
	CHECK_EQ_INT(w5->line, line_of(text, "  bars_5m:"));
	REQUIRE(w5->noutputs == 10);
	for (int i = 0; i < 10; i++) {
		CHECK_EQ_STR(w5->outputs[i].key, outs[i]);
		CHECK_EQ_STR(w5->outputs[i].value, w1->outputs[i].value);
	}
	const pl_step *sp = step_named(s, "spreads_1m");
	REQUIRE(sp && sp->noutputs == 4);
	CHECK_EQ_STR(sp->order[0], "quote_id");
	CHECK_EQ_STR(sp->outputs[2].key, "mid_price");
	CHECK_EQ_STR(sp->outputs[2].value, "last((bid + ask) / 2)");

	/* features: rolling keys, outputs order */
	const pl_step *f = step_named(s, "features");
	REQUIRE(f);
	CHECK_EQ_STR(f->from, "gold.bars_1m");
	CHECK_EQ_STR(f->time, "window_start");
	REQUIRE(f->nkeys == 1);
	CHECK_EQ_STR(f->keys[0], "symbol");
	CHECK_EQ_INT(f->norder, 0);
	CHECK_EQ_INT(f->size_us, 0);
	REQUIRE(f->noutputs == 9);
	CHECK_EQ_STR(f->outputs[0].key, "symbol");
	CHECK_EQ_STR(f->outputs[1].key, "minute");
	CHECK_EQ_STR(f->outputs[1].value, "window_start");
	CHECK_EQ_STR(f->outputs[6].key, "volatility_15m");
	CHECK_EQ_STR(f->outputs[8].key, "order_flow_imbalance");

	/* run order: Silver before Gold, features after bars_1m */
	int order[6];
	REQUIRE_OK(pl_spec_order(s, order, &err), &err);
	CHECK(order_pos(s, order, "silver_trades") < order_pos(s, order, "bars_1m"));
	CHECK(order_pos(s, order, "silver_trades") < order_pos(s, order, "bars_5m"));
	CHECK(order_pos(s, order, "silver_quotes") < order_pos(s, order, "spreads_1m"));
	CHECK(order_pos(s, order, "bars_1m") < order_pos(s, order, "features"));
	free(text);
	floe_arena_free(a);
}

/* Steps listed against the flow come out in dependency order; independent
 * steps keep the file's order. */
TEST(pipeline_spec_order_by_dependency)
{
	static const char text[] =
		"sources:\n"
		"  s: {table: bronze.a, spec: trades, path: in/}\n"
		"tables:\n"
		"  t.b: {schema: x int}\n"
		"  t.c: {schema: x int}\n"
		"  t.d: {schema: x int}\n"
		"  t.e: {schema: x int}\n"
		"  t.f: {schema: x int}\n"
		"steps:\n"
		"  last: {from: t.d, to: t.e}\n"
		"  third: {from: t.c, to: t.d}\n"
		"  side: {from: bronze.a, to: t.f}\n"
		"  second: {from: t.b, to: t.c}\n"
		"  first: {from: bronze.a, to: t.b}\n";
	floe_arena *a = floe_arena_new(0);
	floe_error err;
	pl_spec *s = NULL;
	REQUIRE_OK(pl_spec_parse(&s, text, strlen(text), "o.yaml", NULL, a, &err), &err);
	int order[5];
	REQUIRE_OK(pl_spec_order(s, order, &err), &err);
	static const char *const want[] = { "side", "first", "second", "third", "last" };
	for (int i = 0; i < 5; i++)
		CHECK_EQ_STR(s->steps[order[i]].name, want[i]);
	CHECK_EQ_STR(s->name, "o");
	CHECK_EQ_STR(s->dir, ".");
	CHECK_EQ_STR(s->sources[0].path, "in/"); /* folder "." leaves it as written */
	floe_arena_free(a);
}

/* pl_spec_order on a spec with a cycle (possible only when built in
 * memory or through the loader's unchecked paths) names its steps. */
TEST(pipeline_spec_order_cycle)
{
	pl_step st[4];
	memset(st, 0, sizeof st);
	const char *names[] = { "free", "a", "b", "c" };
	const char *from[] = { "x.in", "t.c", "t.a", "t.b" };
	const char *to[] = { "x.out", "t.a", "t.b", "t.c" };
	for (int i = 0; i < 4; i++) {
		st[i].name = names[i];
		st[i].from = from[i];
		st[i].to = to[i];
		st[i].line = 10 + i;
		st[i].kind = PL_STEP_TRANSFORM;
	}
	pl_spec s;
	memset(&s, 0, sizeof s);
	s.path = "c.yaml";
	s.steps = st;
	s.nsteps = 4;
	int order[4];
	floe_error err;
	CHECK_EQ_INT(pl_spec_order(&s, order, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "c.yaml:11:1: steps form a cycle: a -> b -> c -> a") != NULL);
	/* a step reading its own target is a cycle of one */
	st[1].from = "t.a";
	st[3].from = "x.out";
	CHECK_EQ_INT(pl_spec_order(&s, order, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "cycle: a -> a ") != NULL);
	/* and without the loop: b after a, c after b, c after free */
	st[1].from = "x.in";
	st[3].from = "t.b";
	REQUIRE_OK(pl_spec_order(&s, order, &err), &err);
	CHECK_EQ_INT(order[0], 0);
	CHECK_EQ_INT(order[1], 1);
	CHECK_EQ_INT(order[2], 2);
	CHECK_EQ_INT(order[3], 3);
}

#define BASE                                                                      \
	"sources:\n"                         /* 1 */                                  \
	"  s:\n"                             /* 2 */                                  \
	"    table: bronze.a\n"              /* 3 */                                  \
	"    spec: trades\n"                 /* 4 */                                  \
	"    path: in/\n"                    /* 5 */                                  \
	"tables:\n"                          /* 6 */                                  \
	"  silver.b:\n"                      /* 7 */                                  \
	"    schema: id string\n"            /* 8 */                                  \
	"  gold.c: {schema: id string}\n"    /* 9 */                                  \
	"steps:\n"                           /* 10 */
/* line 11 onwards: the test's steps */

static const struct {
	const char *text;
	const char *want; /* a substring of the message */
} bad[] = {
	/* unknown keys, with what is allowed there */
	{ BASE "  bars_1m:\n    from: bronze.a\n    to: silver.b\n    windw: {time: t, size: 1m}\n",
	  "t.yaml:14:5: unknown key 'windw' in step bars_1m (allowed: from, to, quarantine, ops, "
	  "dedup, event_time, late_horizon, window, rolling, outputs)" },
	{ BASE "  st:\n    from: bronze.a\n    to: silver.b\n    ops: [filter: x > 1]\n"
	  "    outputs: {a: b}\n",
	  "t.yaml:15:5: step st: outputs: does not belong in a transform step (allowed: from, to, "
	  "quarantine, ops, dedup, event_time, late_horizon)" },
	{ BASE "  st: {from: bronze.a, to: silver.b, window: {time: t, size: 1m, sise: 2m}, "
	  "outputs: {a: count(*)}}\n",
	  "t.yaml:11:66: unknown key 'sise' in window: of step st (allowed: time, size, slide, "
	  "keys, order, lateness)" },
	{ "name: x\nsteps: {}\nsource:\n  a: {}\n",
	  "t.yaml:3:1: unknown key 'source' in the pipeline (allowed: name, simulator, sources, "
	  "tables, steps, upkeep)" },
	/* upkeep: */
	{ "steps: {}\nupkeep: {compact: true}\n",
	  "t.yaml:2:9: upkeep: needs every: (how often, e.g. every: 10m)" },
	{ "steps: {}\nupkeep: {every: 0s}\n", "t.yaml:2:17: upkeep: every: must be longer than 0" },
	{ "steps: {}\nupkeep: {every: soon}\n", "t.yaml:2:17: upkeep: every: 'soon' is not a duration" },
	{ "steps: {}\nupkeep: {every: 1m, compact: yes}\n",
	  "t.yaml:2:30: upkeep: compact: 'yes' is not true or false" },
	{ "steps: {}\nupkeep: {every: 1m, expire: 1h}\n",
	  "t.yaml:2:21: unknown key 'expire' in upkeep: (allowed: every, compact)" },
	{ "steps: {}\nupkeep: 10m\n", "t.yaml:2:9: upkeep: expected a mapping" },
	{ "sources:\n  s: {table: bronze.a, spec: trades, pathh: in/}\n",
	  "t.yaml:2:38: unknown key 'pathh' in source s (allowed: table, spec, path, kafka, "
	  "format, properties)" },
	{ BASE "  st: {from: bronze.a, to: silver.b, ops: [{map: x}]}\n",
	  "t.yaml:11:45: unknown key 'map' in step st, op 1 (allowed: filter, derive, select, "
	  "validate)" },
	{ "tables:\n  a.b: {schema: x int, identifer: [x]}\nsources:\n"
	  "  s: {table: bronze.a, spec: trades, path: in/}\n",
	  "t.yaml:2:24: unknown key 'identifer' in table a.b (allowed: schema, partition, sort, "
	  "identifier, properties)" },
	/* wrong kinds of node */
	{ BASE "  st:\n    from: bronze.a\n    to: silver.b\n    ops:\n      - derive: [a, b]\n",
	  "t.yaml:15:17: step st, op 1, derive:: expected a mapping of column: expression, got a "
	  "list" },
	{ BASE "  st:\n    from: bronze.a\n    to: silver.b\n    ops:\n      - select:\n"
	  "          a: {x: 1}\n",
	  "t.yaml:16:14: step st, op 1, select:: expected a mapping of column: expression, but a "
	  "holds a mapping" },
	{ BASE "  st: {from: bronze.a, to: gold.c, rolling: {time: t}, outputs: [a]}\n",
	  "t.yaml:11:65: step st, outputs:: expected a mapping of column: expression, got a list" },
	{ BASE "  st: {from: [bronze.a], to: silver.b}\n",
	  "t.yaml:11:14: step st: expected text for from:, got a list" },
	{ BASE "  st: {from: bronze.a, to: silver.b, ops: {filter: x}}\n",
	  "t.yaml:11:43: step st: ops: expected a list" },
	{ BASE "  st: {from: bronze.a, to: silver.b, ops: [{filter: x, derive: {a: b}}]}\n",
	  "t.yaml:11:44: step st, op 1: an op is a mapping with one key" },
	{ "sources: [a, b]\n", "t.yaml:1:10: sources: expected a mapping of source name" },
	{ "- a\n- b\n", "t.yaml:1:1: expected a mapping at the top" },
	{ "just text\n", "t.yaml:1:1: expected a mapping at the top" },
	{ BASE "  st: {from: bronze.a, to: silver.b, dedup: {key: {a: 1}}}\n",
	  "t.yaml:11:51: dedup: of step st: expected a list of column names" },
	{ "simulator: {a: {b: c}}\nsteps: {}\n", "t.yaml:1:16: simulator:: a: expected text or a "
	  "list of text, got a mapping" },
	/* keys */
	{ BASE "  st:\n    from: bronze.a\n    to: silver.b\n    from: bronze.a\n",
	  "t.yaml:14:5: duplicate key 'from' (first at line 12); keep one" },
	{ "tables:\n  a.b: {schema: x}\n  a.b: {schema: y}\n",
	  "t.yaml:3:3: duplicate key 'a.b' (first at line 2)" },
	{ "? [a]\n: b\n", "t.yaml:1:3: a key must be text, not a list" },
	/* required entries */
	{ BASE "  st:\n    from: bronze.a\n", "t.yaml:11:3: step st needs to: (the table it writes" },
	{ BASE "  st: {from: bronze.a, to: silver.b, window: {time: t, size: 1m}}\n",
	  "t.yaml:11:38: step st needs outputs:" },
	{ BASE "  st: {from: bronze.a, to: silver.b, window: {size: 1m}, outputs: {a: b}}\n",
	  "t.yaml:11:46: window: of step st needs time:" },
	{ BASE "  st: {from: bronze.a, to: gold.c, window: {time: t}, outputs: {a: b}}\n",
	  "t.yaml:11:44: window: of step st needs size:" },
	{ "tables:\n  a.b: {partition: x}\n", "t.yaml:2:3: table a.b needs schema:" },
	{ "sources:\n  s: {table: bronze.a, path: in/}\n", "t.yaml:2:3: source s needs spec:" },
	{ "sources:\n  s: {table: bronze.a, spec: trades}\n",
	  "t.yaml:2:3: source s needs path: (a file or a folder of records) or kafka:" },
	{ "sources:\n  s: {table: bronze.a, spec: trades, path: in/, kafka: {topic: t}}\n",
	  "t.yaml:2:49: source s has both path: and kafka:" },
	{ "sources:\n  s: {table: bronze.a, spec: trades, kafka: {brokers: h:1}}\n",
	  "t.yaml:2:38: kafka: of source s needs topic:" },
	{ BASE "  st: {from: bronze.a, to: silver.b, dedup: {order: t}}\n",
	  "t.yaml:11:45: dedup: of step st needs key:" },
	{ BASE "  st: {from: bronze.a, to: silver.b, dedup: {key: [id]}}\n",
	  "t.yaml:11:45: dedup: of step st needs order: (the column whose greatest value wins" },
	{ BASE "  st: {from: bronze.a, to: silver.b, ops: [validate: [{reason: r}]]}\n",
	  "t.yaml:11:55: step st, op 1, validate: needs rule:" },
	{ BASE "  st: {from: bronze.a, to: silver.b, ops: [filter: ]}\n",
	  "t.yaml:11:44: step st, op 1: filter: needs a condition" },
	{ BASE "  st: {from: bronze.a, to: silver.b, ops: [derive: {a: }]}\n",
	  "t.yaml:11:53: step st, op 1, derive:: column a has no expression" },
	{ "name: x\n", "t.yaml:1:1: the pipeline has no sources: and no steps:" },
	/* references between sections */
	{ BASE "  st: {from: bronze.a, to: gold.zz}\n",
	  "t.yaml:11:28: step st writes gold.zz, which is not declared under tables:" },
	{ BASE "  st: {from: silver.nope, to: silver.b}\n",
	  "t.yaml:11:14: step st reads silver.nope, which is neither declared under tables: nor "
	  "fed by a source" },
	{ BASE "  one: {from: bronze.a, to: silver.b}\n  two: {from: bronze.a, to: silver.b}\n",
	  "t.yaml:12:29: steps one and two both write silver.b (one step per target table)" },
	{ BASE "  st: {from: silver.b, to: silver.b}\n",
	  "t.yaml:11:14: step st reads the table it writes (silver.b)" },
	{ BASE "  st: {from: gold.c, to: bronze.a}\n",
	  "t.yaml:11:26: step st writes bronze.a, which source s feeds" },
	{ "sources:\n  s: {table: bronze.a, spec: trades, path: in/}\n"
	  "  r: {table: bronze.a, spec: quotes, path: q/}\n",
	  "t.yaml:3:14: sources s and r both feed bronze.a" },
	{ BASE "  st: {from: bronze.a, to: silver.b, quarantine: gold.c}\n"
	  "  st2: {from: bronze.a, to: gold.c}\n",
	  "t.yaml:11:50: step st quarantines rejected rows in gold.c, which step st2 writes "
	  "(name another table" },
	{ "sources:\n  s: {table: bronze.a, spec: trades, path: in/}\n"
	  "  r: {table: silver.b_rejected, spec: quotes, path: q/}\n"
	  "tables: {silver.b: {schema: x int}}\n"
	  "steps: {st: {from: bronze.a, to: silver.b}}\n",
	  "t.yaml:5:34: step st quarantines rejected rows in silver.b_rejected, which source r "
	  "feeds (the default, TO_rejected)" },
	{ "sources:\n  s: {table: bronze.a, spec: trades, path: in/}\n"
	  "tables:\n  bronze.a: {schema: x int}\n",
	  "t.yaml:2:14: source s feeds bronze.a, which is also declared under tables:" },
	{ BASE "  st: {from: bronze.a, to: silvr}\n", "t.yaml:11:28: step st: invalid table "
	  "identifier \"silvr\": expected namespace.table" },
	{ BASE "  bad step: {from: bronze.a, to: silver.b}\n",
	  "t.yaml:11:3: step name 'bad step' may hold only letters, digits, _ and -" },
	{ BASE "  st: {from: bronze.a, to: silver.b, quarantine: silver.b}\n",
	  "t.yaml:11:50: step st: quarantine: must be a table of its own" },
	/* values */
	{ BASE "  st: {from: bronze.a, to: gold.c, window: {time: t, size: 5 parsecs}, outputs: "
	  "{a: b}}\n",
	  "t.yaml:11:60: window: of step st: size: '5 parsecs' is not a duration (write a number "
	  "and a unit" },
	{ BASE "  st: {from: bronze.a, to: gold.c, window: {time: t, size: 0}, outputs: {a: b}}\n",
	  "t.yaml:11:60: window: of step st: size: must be longer than 0" },
	{ BASE "  st: {from: bronze.a, to: gold.c, window: {time: t, size: 5m, slide: 2m}, "
	  "outputs: {a: b}}\n",
	  "t.yaml:11:71: window: of step st: slide: must divide size:" },
	{ BASE "  st: {from: bronze.a, to: silver.b, late_horizon: 1h}\n",
	  "t.yaml:11:38: step st: late_horizon: needs event_time:" },
	{ BASE "  st: {from: bronze.a, to: gold.c, window: {time: t, size: 1m}, rolling: {time: "
	  "t}, outputs: {a: b}}\n",
	  "t.yaml:11:65: step st has both window: and rolling:" },
	{ "sources:\n  s: {table: bronze.a, spec: trades, path: in/, format: xml}\n",
	  "t.yaml:2:57: source s: unknown format 'xml' (ndjson or csv)" },
	{ "tables:\n  a.b: {schema: x int, identifier: \"a,,b\"}\n",
	  "t.yaml:2:36: table a.b, identifier:: empty column name in 'a,,b'" },
	/* anchors and merge keys */
	{ BASE "  st: *nowhere\n", "t.yaml:11:7: unknown alias *nowhere (define &nowhere before" },
	{ "a: &x [1, *x]\n", "t.yaml:1:11: alias *x is used inside the node it names" },
	{ BASE "  st: {<<: [bronze.a], to: silver.b}\n",
	  "t.yaml:11:13: << merges a mapping or a list of mappings" },
	{ "a: &a {x: 1}\nb: {<<: *a, <<: *a}\n", "t.yaml:2:13: a second merge key <<" },
	/* the file as a whole */
	{ "", "t.yaml:1:1: the file is empty" },
	{ "# only a comment\n\n", "t.yaml:1:1: the file is empty" },
	{ "---\n...\n", "t.yaml:1:1: the file is empty" },
	{ "steps: {}\n---\nsteps: {}\n", "t.yaml:2:1: a second YAML document starts here" },
	{ "sources:\n  s: {table: bronze.a\n", "t.yaml:3:1: invalid YAML: did not find expected "
	  "',' or '}' (while parsing a flow mapping at line 2:6)" },
	{ "sources:\n  s:\n    table: a\n   spec: b\n", "t.yaml:4:4: invalid YAML:" },
	{ "a: \"unterminated\n", "t.yaml:2:1: invalid YAML: found unexpected end of stream" },
	{ "a: b\n\tc: d\n", "t.yaml:2:1: invalid YAML:" },
	{ "name: ok\nsteps: \xff\xfe\n", "t.yaml:2:8: not valid YAML text: invalid leading UTF-8 "
	  "octet (byte 0xff)" },
	{ "name: \"a\\0b\"\n", "t.yaml:1:7: the text holds a NUL character" },
};

TEST(pipeline_spec_errors_have_positions)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		floe_error err;
		memset(&err, 0, sizeof err);
		int rc = parse_text(bad[i].text, strlen(bad[i].text), &err);
		if (rc != FLOE_EINVALID || !strstr(err.msg, bad[i].want))
			th_fail(__FILE__, __LINE__, "case %zu: rc %d, message\n    %s\n  wanted\n    %s",
			        i, rc, err.msg, bad[i].want);
	}
}

TEST(pipeline_spec_missing_file_is_eio)
{
	floe_arena *a = floe_arena_new(0);
	floe_error err;
	pl_spec *s = (pl_spec *)1;
	CHECK_EQ_INT(pl_spec_load(&s, th_path("nope.yaml"), a, &err), FLOE_EIO);
	CHECK(s == NULL);
	CHECK(strstr(err.msg, "cannot read pipeline file") && strstr(err.msg, "nope.yaml"));
	/* a NULL err is fine too */
	CHECK_EQ_INT(pl_spec_parse(&s, "x: [", 4, "t.yaml", NULL, a, NULL), FLOE_EINVALID);
	floe_arena_free(a);
}

/* Billion laughs: nine levels of ten aliases each would be 10^9 nodes. */
TEST(pipeline_spec_alias_bomb_rejected)
{
	char text[2048];
	size_t n = (size_t)snprintf(text, sizeof text, "lol0: &l0 [lol, lol, lol, lol, lol, lol, "
	                            "lol, lol, lol, lol]\n");
	for (int i = 1; i < 10; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "lol%d: &l%d [*l%d, *l%d, *l%d, *l%d, "
		                      "*l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n", i, i, i - 1, i - 1,
		                      i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	floe_error err;
	CHECK_EQ_INT(parse_text(text, n, &err), FLOE_EINVALID);
	/* lol4 holds 10^5 leaves: the first over the limit */
	CHECK(strstr(err.msg, "t.yaml:5:7: this expands to more than 100000 nodes") != NULL);

	/* the same through the pipeline's own structure: 3000 ops naming one
	 * list of ten rules are few nodes in the file, but 150000 expanded */
	size_t cap = 1 << 17;
	char *big = malloc(cap);
	REQUIRE(big);
	n = (size_t)snprintf(big, cap, BASE "  st:\n    from: bronze.a\n    to: silver.b\n"
	                     "    ops:\n      - validate: &v0\n");
	for (int i = 0; i < 10; i++)
		n += (size_t)snprintf(big + n, cap - n, "        - {rule: x > %d, reason: r}\n", i);
	static const char st2[] = "  st2:\n    from: bronze.a\n    to: gold.c\n    ops:\n";
	size_t at_st2 = n;
	n += (size_t)snprintf(big + n, cap - n, "%s", st2);
	for (int i = 0; i < 3000 && n + 64 < cap; i++)
		n += (size_t)snprintf(big + n, cap - n, "      - validate: *v0\n");
	CHECK_EQ_INT(parse_text(big, n, &err), FLOE_EINVALID);
	/* the list of ops of st2 (line 30: after BASE, st and its ten rules) */
	CHECK(strstr(err.msg, "t.yaml:30:7: this expands to more than 100000 nodes") != NULL);
	/* 1000 of them are fine */
	n = at_st2 + strlen(st2);
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(big + n, cap - n, "      - validate: *v0\n");
	CHECK_OK(parse_text(big, n, &err), &err);
	free(big);

	/* deep nesting */
	char deep[512];
	n = 0;
	for (int i = 0; i < 100; i++)
		deep[n++] = '[';
	CHECK_EQ_INT(parse_text(deep, n, &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "t.yaml:1:65: nesting deeper than 64 levels") != NULL);
}

TEST(pipeline_spec_merge_keys)
{
	static const char text[] =
		"defaults: &d\n"
		"  size: 1m\n"
		"steps:\n"
		"  st: &base\n"
		"    from: bronze.a\n"
		"    to: t.b\n"
		"    ops:\n"
		"      - derive: &cols {a: '1', b: '2', c: '3'}\n"
		"      - derive: {<<: *cols, b: '20', d: '4'}\n"
		"      - select: &first {x: x1, y: y1}\n"
		"      - select: &second {y: y2, z: z2}\n"
		"      - select: {<<: [*first, *second], w: w0}\n"
		"  st2: {<<: *base, to: t.c}\n";
	/* `defaults:` is not a key of a pipeline: put the anchors where they are */
	const char *body = strstr(text, "steps:");
	char *full = malloc(strlen(text) + 256);
	REQUIRE(full);
	snprintf(full, strlen(text) + 256,
	         "sources: {s: {table: bronze.a, spec: trades, path: in/}}\n"
	         "tables: {t.b: {schema: x int}, t.c: {schema: x int}}\n%s", body);
	floe_arena *a = floe_arena_new(0);
	floe_error err;
	pl_spec *s = NULL;
	REQUIRE_OK(pl_spec_parse(&s, full, strlen(full), "m.yaml", NULL, a, &err), &err);
	REQUIRE(s->nsteps == 2);
	const pl_step *st = &s->steps[0], *st2 = &s->steps[1];
	REQUIRE(st->nops == 5);
	/* a local key overrides in place; new local keys come after */
	const pl_op *d = &st->ops[1];
	REQUIRE(d->ncols == 4);
	CHECK_EQ_STR(d->cols[0].key, "a");
	CHECK_EQ_STR(d->cols[1].key, "b");
	CHECK_EQ_STR(d->cols[1].value, "20");
	CHECK_EQ_STR(d->cols[2].key, "c");
	CHECK_EQ_STR(d->cols[3].key, "d");
	/* <<: [*first, *second]: the first listed wins, keys in listed order */
	const pl_op *m = &st->ops[4];
	REQUIRE(m->ncols == 4);
	CHECK_EQ_STR(m->cols[0].key, "x");
	CHECK_EQ_STR(m->cols[1].key, "y");
	CHECK_EQ_STR(m->cols[1].value, "y1");
	CHECK_EQ_STR(m->cols[2].key, "z");
	CHECK_EQ_STR(m->cols[3].key, "w");
	/* the whole step merged, `to` overridden */
	CHECK_EQ_STR(st2->from, "bronze.a");
	CHECK_EQ_STR(st2->to, "t.c");
	CHECK_EQ_INT(st2->nops, 5);
	CHECK_EQ_STR(st2->ops[1].cols[1].value, "20");
	/* the unused `defaults:` mapping is not part of the file: an error */
	CHECK_EQ_INT(parse_text(text, strlen(text), &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "t.yaml:1:1: unknown key 'defaults'") != NULL);
	free(full);
	floe_arena_free(a);
}

/* The reference file with CRLF line ends loads the same. */
TEST(pipeline_spec_crlf)
{
	size_t len;
	char *text = th_read_file(EXAMPLE, &len);
	REQUIRE(text);
	char *crlf = malloc(2 * len + 1);
	REQUIRE(crlf);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = text[i];
	}
	floe_arena *a = floe_arena_new(0);
	floe_error err;
	pl_spec *s = NULL, *u = NULL;
	REQUIRE_OK(pl_spec_parse(&s, text, len, "lf.yaml", NULL, a, &err), &err);
	REQUIRE_OK(pl_spec_parse(&u, crlf, n, "crlf.yaml", NULL, a, &err), &err);
	REQUIRE(s->ntables == u->ntables && s->nsteps == u->nsteps && s->nsources == u->nsources);
	for (int i = 0; i < s->ntables; i++) {
		CHECK_EQ_STR(u->tables[i].schema, s->tables[i].schema);
		CHECK_EQ_INT(u->tables[i].line, s->tables[i].line);
		CHECK(strchr(u->tables[i].schema, '\r') == NULL);
	}
	for (int i = 0; i < s->nsteps; i++) {
		CHECK_EQ_STR(u->steps[i].to, s->steps[i].to);
		CHECK_EQ_INT(u->steps[i].noutputs, s->steps[i].noutputs);
		CHECK_EQ_INT(u->steps[i].size_us, s->steps[i].size_us);
		CHECK_EQ_INT(u->steps[i].line, s->steps[i].line);
	}
	CHECK_EQ_STR(u->steps[0].ops[1].rules[2].reason, "price and volume must be positive");
	/* a CRLF file's errors count lines the same way */
	static const char e[] = "steps:\r\n  st:\r\n    from: a.b\r\n    windw: 1\r\n";
	CHECK_EQ_INT(parse_text(e, strlen(e), &err), FLOE_EINVALID);
	CHECK(strstr(err.msg, "t.yaml:4:5: unknown key 'windw'") != NULL);
	free(crlf);
	free(text);
	floe_arena_free(a);
}

TEST(pipeline_spec_kafka_source_and_defaults)
{
	static const char text[] =
		"simulator:\n"
		"  symbols: [AAPL, MSFT]\n"
		"  empty:\n"
		"sources:\n"
		"  orders:\n"
		"    table: bronze.orders\n"
		"    spec: specs/orders.json\n"
		"    format: csv\n"
		"    kafka:\n"
		"      brokers: 127.0.0.1:9092,127.0.0.1:9093\n"
		"      topic: orders\n"
		"      group: floe-orders\n"
		"      conf: {security.protocol: plaintext, fetch.wait.max.ms: 50, enable.idempotence: "
		"true}\n"
		"  files:\n"
		"    table: raw.files\n"
		"    spec: /abs/spec.json\n"
		"    path: /data/in\n"
		"    properties: {write.parquet.compression-codec: lz4_raw, write.x: 7}\n"
		"  local:\n"
		"    table: raw.local\n"
		"    spec: local.json\n"
		"    path: \"landing\"\n"
		"tables:\n"
		"  silver.orders:\n"
		"    schema: \"id string not null, qty long\"\n"
		"    identifier: \"id , qty\"\n"
		"    sort: id\n"
		"    properties: {format-version: 2, write.x: TRUE, empty: ''}\n"
		"steps:\n"
		"  clean:\n"
		"    from: bronze.orders\n"
		"    to: silver.orders\n"
		"    quarantine: silver.orders_bad\n"
		"    event_time: ts\n"
		"    late_horizon: 1h30m\n"
		"    dedup: {key: \"id, qty\", order: ts}\n"
		"    ops:\n"
		"      - filter: qty > 0\n"
		"      - validate:\n"
		"          - rule: id <> ''\n";
	floe_arena *a = floe_arena_new(0);
	floe_error err;
	pl_spec *s = NULL;
	REQUIRE_OK(pl_spec_parse(&s, text, strlen(text), "/srv/p/orders.yml", "/srv/p", a, &err),
	           &err);
	CHECK_EQ_STR(s->name, "orders");
	REQUIRE(s->nsimulator == 2);
	CHECK_EQ_STR(s->simulator[0].value, "AAPL,MSFT");
	CHECK_EQ_STR(s->simulator[1].key, "empty");
	CHECK_EQ_STR(s->simulator[1].value, "");
	REQUIRE(s->nsources == 3);
	const pl_source *k = &s->sources[0];
	CHECK_EQ_INT(k->kind, PL_SRC_KAFKA);
	CHECK_EQ_STR(k->table, "bronze.orders");
	CHECK_EQ_STR(k->spec, "/srv/p/specs/orders.json");
	CHECK_EQ_STR(k->format, "csv");
	CHECK(k->path == NULL);
	CHECK_EQ_STR(k->brokers, "127.0.0.1:9092,127.0.0.1:9093");
	CHECK_EQ_STR(k->topic, "orders");
	CHECK_EQ_STR(k->group, "floe-orders");
	REQUIRE(k->nconf == 3);
	CHECK_EQ_STR(k->conf[0].key, "security.protocol");
	CHECK_EQ_STR(k->conf[0].value, "plaintext");
	CHECK_EQ_STR(k->conf[1].key, "fetch.wait.max.ms");
	CHECK_EQ_STR(k->conf[1].value, "50");
	CHECK_EQ_STR(k->conf[2].value, "true");
	CHECK_EQ_INT(k->conf[0].line, 13);
	CHECK_EQ_INT(k->line, 5);
	const pl_source *f = &s->sources[1];
	CHECK_EQ_INT(f->kind, PL_SRC_FILES);
	CHECK_EQ_STR(f->spec, "/abs/spec.json");
	CHECK_EQ_STR(f->path, "/data/in");
	CHECK_EQ_STR(f->format, "ndjson");
	CHECK(f->brokers == NULL && f->nconf == 0);
	REQUIRE(f->nproperties == 2);
	CHECK_EQ_STR(f->properties[0].key, "write.parquet.compression-codec");
	CHECK_EQ_STR(f->properties[0].value, "lz4_raw");
	CHECK_EQ_STR(f->properties[1].value, "7");
	CHECK(k->nproperties == 0);
	CHECK_EQ_STR(s->sources[2].spec, "/srv/p/local.json");
	CHECK_EQ_STR(s->sources[2].path, "/srv/p/landing");
	const pl_table *t = &s->tables[0];
	REQUIRE(t->nidentifier == 2);
	CHECK_EQ_STR(t->identifier[0], "id");
	CHECK_EQ_STR(t->identifier[1], "qty");
	CHECK_EQ_STR(t->sort, "id");
	CHECK(t->partition == NULL);
	REQUIRE(t->nproperties == 3);
	CHECK_EQ_STR(t->properties[0].value, "2");
	CHECK_EQ_STR(t->properties[1].value, "TRUE");
	CHECK_EQ_STR(t->properties[2].value, "");
	const pl_step *st = &s->steps[0];
	CHECK_EQ_INT(st->kind, PL_STEP_TRANSFORM);
	CHECK_EQ_STR(st->quarantine, "silver.orders_bad");
	CHECK_EQ_STR(st->event_time, "ts");
	CHECK_EQ_INT(st->late_horizon_us, 5400000000LL);
	REQUIRE(st->ndedup_key == 2);
	CHECK_EQ_STR(st->dedup_key[1], "qty");
	CHECK_EQ_STR(st->dedup_order, "ts");
	REQUIRE(st->nops == 2);
	CHECK_EQ_INT(st->ops[0].kind, PL_OP_FILTER);
	CHECK_EQ_STR(st->ops[0].expr, "qty > 0");
	CHECK_EQ_INT(st->ops[0].line, 38);
	REQUIRE(st->ops[1].nrules == 1);
	CHECK_EQ_STR(st->ops[1].rules[0].reason, "id <> ''"); /* the rule when no reason */
	int order[1];
	CHECK_OK(pl_spec_order(s, order, &err), &err);
	CHECK_EQ_INT(order[0], 0);
	floe_arena_free(a);
}

/* upkeep: every and compact; unset compact is -1 (the --upkeep default
 * differs from a stream's), no section is every 0. */
TEST(pipeline_spec_upkeep)
{
	static const struct {
		const char *text;
		int64_t every;
		int compact;
	} cases[] = {
		{ BASE "upkeep: {every: 10m, compact: true}\n", 600000000, 1 },
		{ BASE "upkeep: {every: 250ms, compact: false}\n", 250000, 0 },
		{ BASE "upkeep:\n  every: 1h\n", 3600000000LL, -1 },
		{ BASE, 0, -1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		floe_arena *a = floe_arena_new(0);
		pl_spec *s = NULL;
		floe_error err;
		REQUIRE_OK(pl_spec_parse(&s, cases[i].text, strlen(cases[i].text), "t.yaml", "/p", a,
		                         &err), &err);
		CHECK_EQ_INT(s->upkeep_every_us, cases[i].every);
		CHECK_EQ_INT(s->upkeep_compact, cases[i].compact);
		floe_arena_free(a);
	}
}

TEST(pipeline_spec_durations)
{
	static const struct {
		const char *text;
		int64_t us;
	} ok[] = {
		{ "1m", 60000000 }, { "10s", 10000000 }, { "5 minutes", 300000000 },
		{ "1h", 3600000000LL }, { "250ms", 250000 }, { "0", 0 }, { "0s", 0 },
		{ "1.5s", 1500000 }, { "1h30m", 5400000000LL }, { "1m 30s", 90000000 },
		{ "2 Hours", 7200000000LL }, { "1d", 86400000000LL }, { "7us", 7 },
		{ " 3 sec ", 3000000 }, { "1 minute", 60000000 }, { "0.000001s", 1 },
		{ "\xc2\xb5s", -1 }, /* a unit needs a number: in bad[] below */
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (ok[i].us < 0)
			continue;
		int64_t us = -1;
		int rc = pl_duration_parse(&us, ok[i].text);
		if (rc != 0 || us != ok[i].us)
			th_fail(__FILE__, __LINE__, "'%s' -> rc %d, %lld us (want %lld)", ok[i].text, rc,
			        (long long)us, (long long)ok[i].us);
	}
	int64_t us;
	CHECK_OK(pl_duration_parse(&us, "3\xc2\xb5s"), (floe_error *)NULL);
	CHECK_EQ_INT(us, 3);
	static const char *const no[] = { "", "m", "5", "-1s", "1x", "1.s", ".5s", "1.0000001s",
		"0.5us", "1m30", "1 m s", "99999999999999999999s", "9223372036854775807h",
		"\xc2\xb5s", "5 parsecs", "1,5s" };
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (pl_duration_parse(&us, no[i]) != FLOE_EINVALID)
			th_fail(__FILE__, __LINE__, "'%s' parsed as %lld us", no[i], (long long)us);
}

/* Messages of a failed parse start "fuzz.yaml:LINE:COL: " with LINE and
 * COL positive. */
static bool has_position(const char *msg)
{
	const char *p = "fuzz.yaml:";
	if (strncmp(msg, p, strlen(p)) != 0)
		return false;
	char *end;
	long line = strtol(msg + strlen(p), &end, 10);
	if (line < 1 || *end != ':')
		return false;
	long col = strtol(end + 1, &end, 10);
	return col >= 1 && end[0] == ':' && end[1] == ' ';
}

static int fuzz_reports; /* failures reported (a few are enough) */

static void fuzz_one(const char *text, size_t len, int *loaded, int *failed)
{
	floe_arena *a = floe_arena_new(0);
	floe_error err;
	pl_spec *s = NULL;
	memset(&err, 0, sizeof err);
	int rc = pl_spec_parse(&s, text, len, "fuzz.yaml", "/p", a, &err);
	if (rc == 0) {
		int *order = malloc(((size_t)s->nsteps + 1) * sizeof *order);
		if (order && pl_spec_order(s, order, &err) != 0 && !strstr(err.msg, "cycle") &&
		    fuzz_reports++ < 10)
			th_fail(__FILE__, __LINE__, "order failed: %s", err.msg);
		free(order);
		++*loaded;
	} else {
		if ((rc != FLOE_EINVALID || !has_position(err.msg)) && fuzz_reports++ < 10)
			th_fail(__FILE__, __LINE__, "rc %d without a position: '%s' (input: '%.*s')", rc,
			        err.msg, (int)(len > 200 ? 200 : len), text);
		++*failed;
	}
	floe_arena_free(a);
}

/* Every prefix of the reference file, and a few thousand mutations of it:
 * each loads or fails with FILE:LINE:COL, never crashes (run under ASan). */
TEST(pipeline_spec_fuzz_prefixes_and_flips)
{
	size_t len;
	char *text = th_read_file(EXAMPLE, &len);
	REQUIRE(text);
	char *buf = malloc(len + 64);
	REQUIRE(buf);
	int loaded = 0, failed = 0;
	for (size_t n = 0; n <= len; n++) {
		memcpy(buf, text, n); /* a copy of exactly n bytes, so ASan sees overreads */
		fuzz_one(buf, n, &loaded, &failed);
	}
	CHECK(loaded > 0 && failed > 0);
	static const char specials[] = ":-&*<>[]{},#'\"|>!%@`?\t\r\n \\\x00\x80\xff";
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	for (int it = 0; it < 4000; it++) {
		memcpy(buf, text, len);
		size_t n = len;
		int flips = 1 + it % 4;
		for (int f = 0; f < flips; f++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			size_t at = (size_t)(rng % len);
			unsigned char v = (rng >> 32) & 1 ? specials[(rng >> 40) % (sizeof specials - 1)] :
			                                    (unsigned char)(rng >> 48);
			buf[at] = (char)v;
		}
		if (it % 5 == 0)
			n = (size_t)((rng >> 20) % (len + 1));
		fuzz_one(buf, n, &loaded, &failed);
	}
	free(buf);
	free(text);
}
