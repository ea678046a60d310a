#!/usr/bin/env node
// An independent check of the stock pipeline's Gold tables
// (examples/stock/pipeline.yaml): the live data files of each table's
// current snapshot are found from its Iceberg metadata (manifest list and
// manifests read with avsc), the Gold tables are recomputed from the Silver
// data files with plain DuckDB SQL, and floe's Gold rows are compared with
// them: the same keys, every column equal (strings, longs, booleans and
// timestamps exactly; doubles within 1e-9 relative, or both NULL). Silver
// is checked too: no duplicate key and every validate rule holding.
// gold.features is recomputed from floe's own gold.bars_1m rows (the table
// that step reads), which are themselves checked against Silver.
// Prints one JSON line {"tables": {NAME: {"rows": N, "mismatches": M}}};
// on any mismatch the first differences go to stderr and the exit status
// is 1 (2: usage or unreadable input).
// usage: node gold_check.mjs PEERS_DIR SILVER_TRADES_METADATA GOLD_BARS_1M_METADATA
//          [--bars5m META] [--silver-quotes META [--spreads META]] [--features META]
//          [--lateness SECONDS] [--show N]
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const USAGE = 'usage: gold_check.mjs PEERS_DIR SILVER_TRADES_METADATA GOLD_BARS_1M_METADATA ' +
  '[--bars5m META] [--silver-quotes META [--spreads META]] [--features META] ' +
  '[--lateness SECONDS] [--show N]';
const args = process.argv.slice(2);
const pos = [];
const opt = { lateness: 10, show: 10 };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const val = () => {
    if (i + 1 >= args.length) usage(`${a} needs a value`);
    return args[++i];
  };
  if (a === '--bars5m') opt.bars5m = val();
  else if (a === '--silver-quotes') opt.silverQuotes = val();
  else if (a === '--spreads') opt.spreads = val();
  else if (a === '--features') opt.features = val();
  else if (a === '--lateness') opt.lateness = Number(val());
  else if (a === '--show') opt.show = Number(val());
  else if (a.startsWith('--')) usage(`unknown option ${a}`);
  else pos.push(a);
}
if (pos.length !== 3) usage('PEERS_DIR, SILVER_TRADES_METADATA and GOLD_BARS_1M_METADATA are required');
if (opt.spreads && !opt.silverQuotes) usage('--spreads needs --silver-quotes (the table it is computed from)');
if (!Number.isFinite(opt.lateness) || opt.lateness < 0) usage('--lateness takes seconds >= 0');
if (!Number.isInteger(opt.show) || opt.show < 0) usage('--show takes a count >= 0');
const [peers, silverTradesMeta, bars1mMeta] = pos;

function usage(msg) {
  console.error(`gold_check: ${msg}\n${USAGE}`);
  process.exit(2);
}
// Unreadable input (not a mismatch): exit 2 with what to do next.
function die(msg) {
  console.error(`gold_check: ${msg}`);
  process.exit(2);
}
// A table this check cannot vouch for (delete files, a wrong schema): exit 1.
function fail(msg) {
  console.error(`gold_check: ${msg}`);
  process.exit(1);
}

const require = createRequire(peers + '/package.json');
let avro, DuckDBInstance;
try {
  avro = require('avsc');
  ({ DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href));
} catch (e) {
  die(`cannot load avsc and @duckdb/node-api from ${peers}/node_modules (install the test peers): ${e.message}`);
}

// ---- Iceberg: metadata JSON -> manifest list -> manifests -> data files ----

// Avro longs as BigInt: snapshot ids use all 64 bits.
const long64 = avro.types.LongType.__with({
  fromBuffer: (b) => b.readBigInt64LE(),
  toBuffer: (n) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n)); return b; },
  fromJSON: (x) => BigInt(x),
  toJSON: (n) => Number(n),
  isValid: (n) => typeof n === 'bigint',
  compare: (a, b) => (a === b ? 0 : a < b ? -1 : 1),
});

function readAvro(path) {
  return new Promise((resolve, reject) => {
    const records = [];
    avro.createFileDecoder(path, {
      parseHook: (s) => avro.Type.forSchema(s, { registry: { long: long64 } }),
    })
      .on('data', (r) => records.push(r))
      .on('error', (e) => reject(new Error(`${path}: ${e.message}`)))
      .on('end', () => resolve(records));
  });
}

// Integers of 16+ digits outside JSON strings become strings, so 64-bit
// snapshot ids stay exact (summary values may hold JSON text with ids).
function quoteLongs(text) {
  const parts = [];
  let last = 0, i = 0;
  while (i < text.length) {
    const ch = text.charCodeAt(i);
    if (ch === 34) { // a string: skip it, escapes included
      i++;
      while (i < text.length && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
      i++;
    } else if (ch === 45 || (ch >= 48 && ch <= 57)) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      const len = m ? m[0].length : 1;
      if (m && !m[1] && !m[2] && m[0].replace('-', '').length >= 16) {
        parts.push(text.slice(last, i), `"${m[0]}"`);
        last = i + len;
      }
      i += len;
    } else {
      i++;
    }
  }
  parts.push(text.slice(last));
  return parts.join('');
}

const localPath = (p) => (p.startsWith('file://') ? decodeURIComponent(p.slice(7)) : p);

// The current schema and the live data files of the current snapshot. A
// delete file is an error: the checked tables are written copy-on-write.
async function liveFiles(metaPath, name) {
  let text;
  try {
    text = readFileSync(metaPath, 'utf8');
  } catch (e) {
    die(`${name}: cannot read the metadata file ${metaPath} (${e.code ?? e.message}); ` +
      'give the metadata-location that `floe describe TABLE` prints');
  }
  let meta;
  try {
    meta = JSON.parse(quoteLongs(text));
  } catch (e) {
    die(`${name}: ${metaPath} is not JSON (${e.message})`);
  }
  const schema = (meta.schemas || []).find((s) => s['schema-id'] === meta['current-schema-id']);
  if (!schema) die(`${name}: ${metaPath} has no current schema`);
  const snapId = meta['current-snapshot-id'];
  const snap = (meta.snapshots || []).find((s) => String(s['snapshot-id']) === String(snapId));
  const files = [];
  if (snapId === undefined || snapId === null || String(snapId) === '-1' || !snap)
    return { schema, files, snapshot: null };
  for (const m of await readAvro(localPath(snap['manifest-list']))) {
    if (m.content !== 0)
      fail(`${name}: snapshot ${snapId} has a delete manifest (${m.manifest_path}); ` +
        'this check reads copy-on-write tables only: compact the table first (floe compact)');
    for (const e of await readAvro(localPath(m.manifest_path))) {
      if (e.status === 2) continue; // deleted in this snapshot
      if (e.data_file.content !== 0)
        fail(`${name}: ${e.data_file.file_path} is a delete file; this check reads ` +
          'copy-on-write tables only: compact the table first (floe compact)');
      files.push(localPath(e.data_file.file_path));
    }
  }
  return { schema, files, snapshot: String(snapId) };
}

// ---- DuckDB ----

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const run = (sql) => con.run(sql);
const rows = async (sql) => (await con.runAndReadAll(sql)).getRows();
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const id = (s) => `"${String(s).replace(/"/g, '""')}"`;
await run("SET TimeZone = 'UTC'");

const duckType = {
  boolean: 'BOOLEAN', int: 'INTEGER', long: 'BIGINT', float: 'FLOAT', double: 'DOUBLE',
  date: 'DATE', time: 'TIME', timestamp: 'TIMESTAMP', timestamptz: 'TIMESTAMPTZ',
  string: 'VARCHAR', uuid: 'UUID', binary: 'BLOB',
};

// Load a table's live rows into DuckDB table `dst`, typed by the Iceberg
// schema, and check that it has the columns the pipeline declares.
async function loadTable(metaPath, name, dst, want) {
  const t = await liveFiles(metaPath, name);
  const cols = t.schema.fields.map((f) => {
    const ty = typeof f.type !== 'string' ? null
      : duckType[f.type] ?? (/^decimal\(\d+, *\d+\)$/.test(f.type) ? f.type.toUpperCase() : null);
    if (!ty) die(`${name}: column ${f.name} has type ${JSON.stringify(f.type)}, which this check does not read`);
    return { name: f.name, type: ty };
  });
  for (const [c, ty] of Object.entries(want)) {
    const have = cols.find((x) => x.name === c);
    if (!have)
      fail(`${name}: the table has no column ${c} (${ty}); its schema must be the one in ` +
        'examples/stock/pipeline.yaml');
    if (have.type !== ty) fail(`${name}: column ${c} is ${have.type}, the pipeline declares ${ty}`);
  }
  await run(`CREATE TABLE ${dst} (${cols.map((c) => `${id(c.name)} ${c.type}`).join(', ')})`);
  if (t.files.length) {
    try {
      await run(`INSERT INTO ${dst} BY NAME SELECT ${cols.map((c) => id(c.name)).join(', ')} ` +
        `FROM read_parquet([${t.files.map(q).join(', ')}], union_by_name = true)`);
    } catch (e) {
      die(`${name}: DuckDB cannot read its data files: ${e.message}`);
    }
  }
  return { files: t.files.length, snapshot: t.snapshot };
}

const tables = {};
const diffs = [];
let mismatches = 0;

function report(name, got, bad, extra = {}) {
  tables[name] = { rows: got, mismatches: bad, ...extra };
  mismatches += bad;
}

// ---- Silver ----

const TRADES_COLS = {
  trade_id: 'VARCHAR', symbol: 'VARCHAR', price: 'DOUBLE', volume: 'BIGINT', side: 'VARCHAR',
  exchange: 'VARCHAR', event_time: 'TIMESTAMPTZ',
};
const QUOTES_COLS = {
  quote_id: 'VARCHAR', symbol: 'VARCHAR', bid: 'DOUBLE', ask: 'DOUBLE', exchange: 'VARCHAR',
  event_time: 'TIMESTAMPTZ',
};
const BARS_COLS = {
  symbol: 'VARCHAR', window_start: 'TIMESTAMPTZ', window_end: 'TIMESTAMPTZ', open: 'DOUBLE',
  high: 'DOUBLE', low: 'DOUBLE', close: 'DOUBLE', volume: 'BIGINT', trade_count: 'BIGINT',
  vwap: 'DOUBLE', buy_volume: 'BIGINT', sell_volume: 'BIGINT', volatility: 'DOUBLE',
  is_final: 'BOOLEAN',
};
const SPREADS_COLS = {
  symbol: 'VARCHAR', window_start: 'TIMESTAMPTZ', window_end: 'TIMESTAMPTZ', avg_spread: 'DOUBLE',
  max_spread: 'DOUBLE', mid_price: 'DOUBLE', quote_count: 'BIGINT', is_final: 'BOOLEAN',
};
const FEATURES_COLS = {
  symbol: 'VARCHAR', minute: 'TIMESTAMPTZ', close: 'DOUBLE', ret_1m: 'DOUBLE', ret_5m: 'DOUBLE',
  ret_15m: 'DOUBLE', volatility_15m: 'DOUBLE', vwap_deviation: 'DOUBLE', order_flow_imbalance: 'DOUBLE',
};
const EXCHANGES = "('NASDAQ', 'NYSE', 'ARCA', 'BATS', 'IEX')";

// Duplicate keys and rows breaking the step's validate rules (after the
// derive: symbols and exchanges upper-cased and trimmed).
async function checkSilver(name, tbl, key, rules) {
  const [n] = (await rows(`SELECT count(*) FROM ${tbl}`))[0];
  let bad = 0;
  const dups = await rows(`SELECT k, n, count(*) OVER () FROM (SELECT ${key} AS k, count(*) AS n ` +
    `FROM ${tbl} GROUP BY ${key} HAVING count(*) > 1) ORDER BY k LIMIT ${opt.show + 1}`);
  if (dups.length) bad += Number(dups[0][2]);
  for (const [k, cnt] of dups)
    diffs.push(`${name} ${key} ${k}: ${cnt} rows (the dedup step keeps one per ${key})`);
  for (const [rule, why] of rules) {
    const r = await rows(`SELECT ${key}, count(*) OVER () FROM ${tbl} WHERE (${rule}) IS NOT TRUE ` +
      `ORDER BY ${key} LIMIT 3`);
    if (!r.length) continue;
    bad += Number(r[0][1]);
    diffs.push(`${name}: ${r[0][1]} rows break "${rule}" (${why}), e.g. ${key} ${r.map((x) => x[0]).join(', ')}`);
  }
  return { rows: Number(n), bad };
}

const silverRules = (extra) => [
  ["symbol <> '' AND symbol = upper(trim(symbol))", 'symbol: upper(trim(symbol)), not empty'],
  [`exchange IN ${EXCHANGES}`, 'known exchange'],
  ...extra,
];

const st = await loadTable(silverTradesMeta, 'silver.trades', 'silver_trades', TRADES_COLS);
{
  const r = await checkSilver('silver.trades', 'silver_trades', 'trade_id', silverRules([
    ['price > 0 AND volume > 0', 'price and volume positive'],
    ["side IN ('BUY', 'SELL')", 'side BUY or SELL'],
  ]));
  report('silver.trades', r.rows, r.bad, { files: st.files });
}
let sq = null;
if (opt.silverQuotes) {
  sq = await loadTable(opt.silverQuotes, 'silver.quotes', 'silver_quotes', QUOTES_COLS);
  const r = await checkSilver('silver.quotes', 'silver_quotes', 'quote_id', silverRules([
    ['bid > 0 AND ask > 0', 'bid and ask positive'],
    ['bid < ask', 'not crossed'],
  ]));
  report('silver.quotes', r.rows, r.bad, { files: sq.files });
}

// ---- Gold, recomputed ----

const lateUs = BigInt(Math.round(opt.lateness * 1e6));
// Tumbling windows aligned to the epoch: start = floor(t / size) * size.
const bucket = (us, size) => `(${us} - ((${us} % ${size}) + ${size}) % ${size})`;

// Bars of `size` microseconds from silver_trades. open/close: the first and
// last trade in (event_time, trade_id) order; volatility: the sample
// standard deviation of the log returns between consecutive trades of the
// same symbol and window; final when the window ends at or before the
// watermark (the latest Silver event time minus the lateness).
async function wantBars(dst, size) {
  await run(`CREATE TABLE ${dst} AS
    WITH t AS (
      SELECT symbol, price, volume, side, trade_id, epoch_us(event_time) AS ev,
             ${bucket('epoch_us(event_time)', size)} AS ws
      FROM silver_trades),
    r AS (
      SELECT *, ln(price / lag(price) OVER (PARTITION BY symbol, ws ORDER BY ev, trade_id)) AS lr
      FROM t)
    SELECT symbol, make_timestamptz(ws) AS window_start, make_timestamptz(ws + ${size}) AS window_end,
      first(price ORDER BY ev, trade_id) AS open,
      max(price) AS high,
      min(price) AS low,
      last(price ORDER BY ev, trade_id) AS close,
      sum(volume)::BIGINT AS volume,
      count(*)::BIGINT AS trade_count,
      (sum(price * volume) / sum(volume)::DOUBLE)::DOUBLE AS vwap,
      sum(CASE WHEN side = 'BUY' THEN volume ELSE 0 END)::BIGINT AS buy_volume,
      sum(CASE WHEN side = 'SELL' THEN volume ELSE 0 END)::BIGINT AS sell_volume,
      stddev_samp(lr) AS volatility,
      ws + ${size} <= (SELECT max(epoch_us(event_time)) FROM silver_trades) - ${lateUs} AS is_final
    FROM r GROUP BY symbol, ws`);
}

async function wantSpreads(dst, size) {
  await run(`CREATE TABLE ${dst} AS
    WITH t AS (
      SELECT symbol, bid, ask, quote_id, epoch_us(event_time) AS ev,
             ${bucket('epoch_us(event_time)', size)} AS ws
      FROM silver_quotes)
    SELECT symbol, make_timestamptz(ws) AS window_start, make_timestamptz(ws + ${size}) AS window_end,
      avg(ask - bid) AS avg_spread,
      max(ask - bid) AS max_spread,
      last((bid + ask) / 2 ORDER BY ev, quote_id) AS mid_price,
      count(*)::BIGINT AS quote_count,
      ws + ${size} <= (SELECT max(epoch_us(event_time)) FROM silver_quotes) - ${lateUs} AS is_final
    FROM t GROUP BY symbol, ws`);
}

// Features from floe's gold.bars_1m (got_bars_1m): a lag is the close of the
// same symbol's bar exactly that many minutes earlier (NULL when missing);
// volatility_15m over the bars with minute in (m - 15 minutes, m].
async function wantFeatures(dst) {
  const M = 60000000n;
  await run(`CREATE TABLE ${dst} AS
    WITH b AS (
      SELECT symbol, epoch_us(window_start) AS m, close, vwap, volume, buy_volume, sell_volume
      FROM got_bars_1m),
    l AS (
      SELECT b.*, p1.close AS c1, p5.close AS c5, p15.close AS c15, ln(b.close / p1.close) AS lr
      FROM b
      LEFT JOIN b p1 ON p1.symbol = b.symbol AND p1.m = b.m - ${M}
      LEFT JOIN b p5 ON p5.symbol = b.symbol AND p5.m = b.m - ${5n * M}
      LEFT JOIN b p15 ON p15.symbol = b.symbol AND p15.m = b.m - ${15n * M}),
    v AS (
      SELECT x.symbol, x.m, stddev_samp(y.lr) AS vol
      FROM l x JOIN l y ON y.symbol = x.symbol AND y.m > x.m - ${15n * M} AND y.m <= x.m
      GROUP BY x.symbol, x.m)
    SELECT l.symbol, make_timestamptz(l.m) AS minute, l.close,
      l.close / l.c1 - 1 AS ret_1m,
      l.close / l.c5 - 1 AS ret_5m,
      l.close / l.c15 - 1 AS ret_15m,
      v.vol AS volatility_15m,
      l.close / l.vwap - 1 AS vwap_deviation,
      (l.buy_volume - l.sell_volume)::DOUBLE / l.volume::DOUBLE AS order_flow_imbalance
    FROM l JOIN v ON v.symbol = l.symbol AND v.m = l.m`);
}

// ---- comparison ----

// floe's rows (got_X) against the recomputed ones (want_X): the same keys
// once each, then every column; doubles within 1e-9 relative.
async function compare(name, got, want, keys, cols) {
  const show = (alias) => keys.map((k) => `${alias}.${id(k)}::VARCHAR`).join(` || ', ' || `);
  let bad = 0;
  const note = (s) => { bad++; diffs.push(s); };
  const kl = keys.map(id).join(', ');
  const examples = (r) => r.slice(0, 3).map((x) => `[${x[0]}]`).join(', ');
  for (const [k, n] of await rows(`SELECT ${show('g')}, count(*) FROM ${got} g GROUP BY ${kl} ` +
    `HAVING count(*) > 1 ORDER BY ${kl} LIMIT ${opt.show + 1}`))
    note(`${name} [${k}]: ${n} rows with this key in floe's table`);
  const on = keys.map((k) => `g.${id(k)} = w.${id(k)}`).join(' AND ');
  const missing = await rows(`SELECT ${show('w')}, count(*) OVER () FROM ${want} w ` +
    `WHERE NOT EXISTS (SELECT 1 FROM ${got} g WHERE ${on}) ORDER BY ${kl} LIMIT 3`);
  if (missing.length) {
    bad += Number(missing[0][1]) - 1;
    note(`${name}: ${missing[0][1]} expected rows are missing from floe's table, e.g. ${examples(missing)}`);
  }
  const extra = await rows(`SELECT ${show('g')}, count(*) OVER () FROM ${got} g ` +
    `WHERE NOT EXISTS (SELECT 1 FROM ${want} w WHERE ${on}) ORDER BY ${kl} LIMIT 3`);
  if (extra.length) {
    bad += Number(extra[0][1]) - 1;
    note(`${name}: ${extra[0][1]} rows of floe's table are not expected (no Silver row makes them), ` +
      `e.g. ${examples(extra)}`);
  }
  const parts = [];
  for (const [c, ty] of Object.entries(cols)) {
    if (keys.includes(c)) continue;
    const g = `g.${id(c)}`, w = `w.${id(c)}`;
    const same = ty === 'DOUBLE'
      ? `((${g} IS NULL AND ${w} IS NULL) OR ${g} = ${w} OR ` +
        `abs(${g} - ${w}) <= 1e-9 * greatest(abs(${g}), abs(${w})))`
      : `${g} IS NOT DISTINCT FROM ${w}`;
    const rel = ty === 'DOUBLE' ? `abs(${g} - ${w}) / greatest(abs(${g}), abs(${w}))` : 'NULL::DOUBLE';
    parts.push(`SELECT ${show('g')} AS k, ${q(c)} AS col, ${g}::VARCHAR AS gv, ${w}::VARCHAR AS wv, ` +
      `${rel} AS rel FROM ${got} g JOIN ${want} w ON ${on} WHERE (${same}) IS NOT TRUE`);
  }
  const found = await rows(`SELECT k, col, gv, wv, rel, count(*) OVER () ` +
    `FROM (${parts.join(' UNION ALL ')}) ` +
    `ORDER BY k, col LIMIT ${opt.show + 1}`);
  if (found.length) bad += Number(found[0][5]);
  for (const [k, c, gv, wv, rel] of found)
    diffs.push(`${name} [${k}] column ${c}: floe ${gv ?? 'NULL'}, duckdb ${wv ?? 'NULL'}` +
      (rel !== null ? ` (relative difference ${Number(rel).toExponential(2)})` : ''));
  const [[n]] = await rows(`SELECT count(*) FROM ${got}`);
  const [[e]] = await rows(`SELECT count(*) FROM ${want}`);
  report(name, Number(n), bad, { expected: Number(e) });
}

const MIN = 60000000n;
await loadTable(bars1mMeta, 'gold.bars_1m', 'got_bars_1m', BARS_COLS);
await wantBars('want_bars_1m', MIN);
await compare('gold.bars_1m', 'got_bars_1m', 'want_bars_1m', ['symbol', 'window_start'], BARS_COLS);
if (opt.bars5m) {
  await loadTable(opt.bars5m, 'gold.bars_5m', 'got_bars_5m', BARS_COLS);
  await wantBars('want_bars_5m', 5n * MIN);
  await compare('gold.bars_5m', 'got_bars_5m', 'want_bars_5m', ['symbol', 'window_start'], BARS_COLS);
}
if (opt.spreads) {
  await loadTable(opt.spreads, 'gold.spreads_1m', 'got_spreads_1m', SPREADS_COLS);
  await wantSpreads('want_spreads_1m', MIN);
  await compare('gold.spreads_1m', 'got_spreads_1m', 'want_spreads_1m', ['symbol', 'window_start'],
    SPREADS_COLS);
}
if (opt.features) {
  await loadTable(opt.features, 'gold.features', 'got_features', FEATURES_COLS);
  await wantFeatures('want_features');
  await compare('gold.features', 'got_features', 'want_features', ['symbol', 'minute'], FEATURES_COLS);
}

console.log(JSON.stringify({ tables }));
if (mismatches) {
  for (const d of diffs.slice(0, Math.max(opt.show, 1))) console.error(`gold_check: ${d}`);
  if (diffs.length > opt.show) console.error(`gold_check: ... (${mismatches} mismatches in all)`);
  process.exit(1);
}
