#!/usr/bin/env node
// DuckDB side of the pipeline benchmark (scripts/bench_pipeline.sh): the
// transformations of examples/stock/pipeline.yaml in plain SQL over the same
// NDJSON that `floe run --backfill` reads, in one timed run, each layer read
// back from the ZSTD Parquet file the layer before wrote (COPY):
//   Bronze: read_ndjson with the typed columns of the built-in trades/quotes
//           specs (ignore_errors), rows without every required field or
//           failing the spec's checks dropped;
//   Silver: symbol/exchange upper(trim()), side = upper(trade_type),
//           event_time = timestamp, the validate rules, dedup by trade_id
//           (quote_id) keeping the latest event_time;
//   Gold:   bars_1m and bars_5m (epoch-aligned tumbling windows; open/close
//           by (event_time, trade_id); volatility of the log returns within
//           the window; is_final against the latest event time minus 10 s),
//           features from bars_1m, and with --quotes spreads_1m.
// Prints one JSON line: events (input lines, malformed ones included), wall
// and CPU seconds of the whole run (CPU of the process, all threads),
// events/s, peak RSS of this Node process, the rows of every output and the
// wall seconds of each step.
// usage: node duckdb_pipeline.mjs TRADES_NDJSON --threads 1|default
//          [--quotes QUOTES_NDJSON] [--out DIR] [--repeat N]
// --out keeps the Parquet files in DIR (default: a temporary folder, removed);
// --repeat N runs the whole N times and reports the fastest.
// Needs '@duckdb/node-api' resolvable from this file's folder
// (scripts/bench_pipeline.sh copies it into the peers folder and runs it there).
import { DuckDBInstance } from '@duckdb/node-api';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const USAGE = 'usage: duckdb_pipeline.mjs TRADES_NDJSON --threads 1|default [--quotes QUOTES_NDJSON] ' +
  '[--out DIR] [--repeat N]';
const args = process.argv.slice(2);
let threadsLabel = null, quotesArg = null, outArg = null, repeat = 1;
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--threads') threadsLabel = args[++i];
  else if (args[i] === '--quotes') quotesArg = args[++i];
  else if (args[i] === '--out') outArg = args[++i];
  else if (args[i] === '--repeat') repeat = Math.max(1, parseInt(args[++i], 10) || 1);
  else if (args[i].startsWith('--')) { console.error(`duckdb_pipeline: unknown option ${args[i]}\n${USAGE}`); process.exit(2); }
  else pos.push(args[i]);
}
if (pos.length !== 1 || (threadsLabel !== '1' && threadsLabel !== 'default') ||
    (args.includes('--quotes') && !quotesArg) || (args.includes('--out') && !outArg)) {
  console.error(USAGE);
  process.exit(2);
}
const trades = resolve(pos[0]);
const quotes = quotesArg ? resolve(quotesArg) : null;
for (const f of [trades, quotes].filter(Boolean)) {
  try {
    statSync(f);
  } catch {
    console.error(`duckdb_pipeline: cannot read ${f}; give an NDJSON file from \`floe simulate\``);
    process.exit(2);
  }
}
const out = outArg ? resolve(outArg) : mkdtempSync(join(tmpdir(), 'duckdb-pipeline-'));
mkdirSync(out, { recursive: true });
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const file = (name) => join(out, `${name}.parquet`);

// Input lines, malformed ones included (untimed): the events floe ingests.
function countLines(path) {
  return new Promise((res, rej) => {
    let n = 0, last = 10;
    createReadStream(path)
      .on('data', (b) => {
        for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
        last = b[b.length - 1];
      })
      .on('error', rej)
      .on('end', () => res(n + (last === 10 ? 0 : 1)));
  });
}
const events = (await countLines(trades)) + (quotes ? await countLines(quotes) : 0);

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const one = async (sql) => (await con.runAndReadAll(sql)).getRows()[0];
const defaultThreads = Number((await one("SELECT current_setting('threads')"))[0]);
const threads = threadsLabel === '1' ? 1 : defaultThreads;
await con.run(`SET threads = ${threads}`);
await con.run("SET TimeZone = 'UTC'");

const ZSTD = '(FORMAT parquet, COMPRESSION zstd)';
const EXCHANGES = "('NASDAQ', 'NYSE', 'ARCA', 'BATS', 'IEX')";
const LATE_US = 10000000;
const MIN_US = 60000000;
const bucket = (us, size) => `(${us} - ((${us} % ${size}) + ${size}) % ${size})`;

// the fields of the built-in record specs, typed as floe types them
const tradeCols = `{trade_id: 'VARCHAR', symbol: 'VARCHAR', price: 'DOUBLE', volume: 'BIGINT',
  timestamp: 'TIMESTAMPTZ', trade_type: 'VARCHAR', exchange: 'VARCHAR'}`;
const quoteCols = `{quote_id: 'VARCHAR', symbol: 'VARCHAR', bid: 'DOUBLE', ask: 'DOUBLE',
  timestamp: 'TIMESTAMPTZ', exchange: 'VARCHAR'}`;

const bronzeTrades = `COPY (
  SELECT * FROM read_ndjson(${q(trades)}, columns = ${tradeCols}, ignore_errors = true)
  WHERE trade_id IS NOT NULL AND symbol IS NOT NULL AND price IS NOT NULL AND volume IS NOT NULL
    AND "timestamp" IS NOT NULL AND trade_type IS NOT NULL
    AND price > 0 AND volume > 0 AND trade_type IN ('BUY', 'SELL')
) TO ${q(file('bronze_trades'))} ${ZSTD}`;

const silverTrades = `COPY (
  SELECT trade_id, symbol, price, volume, side, exchange, event_time FROM (
    SELECT trade_id, upper(trim(symbol)) AS symbol, price, volume, upper(trade_type) AS side,
           upper(trim(exchange)) AS exchange, "timestamp" AS event_time
    FROM read_parquet(${q(file('bronze_trades'))}))
  WHERE symbol <> '' AND exchange IN ${EXCHANGES} AND price > 0 AND volume > 0
    AND side IN ('BUY', 'SELL')
  QUALIFY row_number() OVER (PARTITION BY trade_id ORDER BY event_time DESC) = 1
) TO ${q(file('silver_trades'))} ${ZSTD}`;

const bars = (name, size) => `COPY (
  WITH s AS (SELECT * FROM read_parquet(${q(file('silver_trades'))})),
  t AS (
    SELECT symbol, price, volume, side, trade_id, epoch_us(event_time) AS ev,
           ${bucket('epoch_us(event_time)', size)} AS ws
    FROM s),
  r AS (
    SELECT *, ln(price / lag(price) OVER (PARTITION BY symbol, ws ORDER BY ev, trade_id)) AS lr
    FROM t)
  SELECT symbol, make_timestamptz(ws) AS window_start, make_timestamptz(ws + ${size}) AS window_end,
    first(price ORDER BY ev, trade_id) AS open, max(price) AS high, min(price) AS low,
    last(price ORDER BY ev, trade_id) AS close, sum(volume)::BIGINT AS volume,
    count(*)::BIGINT AS trade_count, sum(price * volume) / sum(volume)::DOUBLE AS vwap,
    sum(CASE WHEN side = 'BUY' THEN volume ELSE 0 END)::BIGINT AS buy_volume,
    sum(CASE WHEN side = 'SELL' THEN volume ELSE 0 END)::BIGINT AS sell_volume,
    stddev_samp(lr) AS volatility,
    ws + ${size} <= (SELECT max(epoch_us(event_time)) FROM s) - ${LATE_US} AS is_final
  FROM r GROUP BY symbol, ws
  ORDER BY symbol, ws
) TO ${q(file(name))} ${ZSTD}`;

const features = `COPY (
  WITH b AS (
    SELECT symbol, epoch_us(window_start) AS m, close, vwap, volume, buy_volume, sell_volume
    FROM read_parquet(${q(file('bars_1m'))})),
  l AS (
    SELECT b.*, p1.close AS c1, p5.close AS c5, p15.close AS c15, ln(b.close / p1.close) AS lr
    FROM b
    LEFT JOIN b p1 ON p1.symbol = b.symbol AND p1.m = b.m - ${MIN_US}
    LEFT JOIN b p5 ON p5.symbol = b.symbol AND p5.m = b.m - ${5 * MIN_US}
    LEFT JOIN b p15 ON p15.symbol = b.symbol AND p15.m = b.m - ${15 * MIN_US}),
  v AS (
    SELECT x.symbol, x.m, stddev_samp(y.lr) AS vol
    FROM l x JOIN l y ON y.symbol = x.symbol AND y.m > x.m - ${15 * MIN_US} AND y.m <= x.m
    GROUP BY x.symbol, x.m)
  SELECT l.symbol, make_timestamptz(l.m) AS minute, l.close,
    l.close / l.c1 - 1 AS ret_1m, l.close / l.c5 - 1 AS ret_5m, l.close / l.c15 - 1 AS ret_15m,
    v.vol AS volatility_15m, l.close / l.vwap - 1 AS vwap_deviation,
    (l.buy_volume - l.sell_volume)::DOUBLE / l.volume::DOUBLE AS order_flow_imbalance
  FROM l JOIN v ON v.symbol = l.symbol AND v.m = l.m
  ORDER BY l.symbol, l.m
) TO ${q(file('features'))} ${ZSTD}`;

const bronzeQuotes = () => `COPY (
  SELECT * FROM read_ndjson(${q(quotes)}, columns = ${quoteCols}, ignore_errors = true)
  WHERE quote_id IS NOT NULL AND symbol IS NOT NULL AND bid IS NOT NULL AND ask IS NOT NULL
    AND "timestamp" IS NOT NULL AND bid > 0 AND ask > 0
) TO ${q(file('bronze_quotes'))} ${ZSTD}`;

const silverQuotes = `COPY (
  SELECT quote_id, symbol, bid, ask, exchange, event_time FROM (
    SELECT quote_id, upper(trim(symbol)) AS symbol, bid, ask, upper(trim(exchange)) AS exchange,
           "timestamp" AS event_time
    FROM read_parquet(${q(file('bronze_quotes'))}))
  WHERE symbol <> '' AND exchange IN ${EXCHANGES} AND bid > 0 AND ask > 0 AND bid < ask
  QUALIFY row_number() OVER (PARTITION BY quote_id ORDER BY event_time DESC) = 1
) TO ${q(file('silver_quotes'))} ${ZSTD}`;

const spreads = `COPY (
  WITH s AS (SELECT * FROM read_parquet(${q(file('silver_quotes'))})),
  t AS (
    SELECT symbol, bid, ask, quote_id, epoch_us(event_time) AS ev,
           ${bucket('epoch_us(event_time)', MIN_US)} AS ws
    FROM s)
  SELECT symbol, make_timestamptz(ws) AS window_start, make_timestamptz(ws + ${MIN_US}) AS window_end,
    avg(ask - bid) AS avg_spread, max(ask - bid) AS max_spread,
    last((bid + ask) / 2 ORDER BY ev, quote_id) AS mid_price, count(*)::BIGINT AS quote_count,
    ws + ${MIN_US} <= (SELECT max(epoch_us(event_time)) FROM s) - ${LATE_US} AS is_final
  FROM t GROUP BY symbol, ws
  ORDER BY symbol, ws
) TO ${q(file('spreads_1m'))} ${ZSTD}`;

const steps = [
  ['bronze_trades', bronzeTrades], ['silver_trades', silverTrades],
  ['bars_1m', bars('bars_1m', MIN_US)], ['bars_5m', bars('bars_5m', 5 * MIN_US)],
  ['features', features],
];
if (quotes)
  steps.push(['bronze_quotes', bronzeQuotes()], ['silver_quotes', silverQuotes], ['spreads_1m', spreads]);

let wall = Infinity, cpu = 0, stepSeconds = null;
for (let i = 0; i < repeat; i++) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const per = {};
  for (const [name, sql] of steps) {
    const s0 = process.hrtime.bigint();
    await con.run(sql);
    per[name] = Number(process.hrtime.bigint() - s0) / 1e9;
  }
  const w = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  if (w < wall) {
    wall = w;
    cpu = (c.user + c.system) / 1e6;
    stepSeconds = per;
  }
}

// untimed: what the files hold
const rows = {};
let bytes = 0;
for (const [name] of steps) {
  rows[name] = Number((await one(`SELECT count(*) FROM read_parquet(${q(file(name))})`))[0]);
  bytes += statSync(file(name)).size;
}
const inputBytes = statSync(trades).size + (quotes ? statSync(quotes).size : 0);
console.log(JSON.stringify({
  engine: 'duckdb', op: 'pipeline_ndjson_to_parquet', threads, threads_label: threadsLabel,
  events, repeat, wall_s: wall, cpu_s: cpu,
  events_per_s: Math.round(events / wall), events_per_cpu_s: Math.round(events / cpu),
  peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
  input_bytes: inputBytes, output_bytes: bytes, rows, step_seconds: stepSeconds,
  ...(outArg ? { out } : {}),
}));
if (!outArg) rmSync(out, { recursive: true, force: true });
