#!/usr/bin/env node
// DuckDB side of the SQL benchmark (scripts/bench_sql.sh): the queries of
// bench/bench_sql.c in DuckDB's dialect, over views of the same Iceberg
// tables' live Parquet data files. The files of each table's current
// snapshot are found from its metadata JSON -> manifest list -> manifests
// (read with avsc); the views are read_parquet over that list. Each query
// runs RUNS times (the first is a warm-up, not counted) with threads = 1,
// then again with DuckDB's default thread count; one JSON line per query
// and thread setting with p50/p99 (nearest rank), the rows of the last run
// (timestamps as floe prints them: 'YYYY-MM-DD HH:MM:SS.ffffff' UTC) for
// the comparison with floe, and the wall time includes planning and
// reading the result into JavaScript.
// usage: node duckdb_sql.mjs --table NS.NAME=METADATA_JSON ... --symbol S
//          --day YYYY-MM-DD --next-day YYYY-MM-DD --since 'YYYY-MM-DD HH:MM:SS'
//          [--runs N] [--threads 1|default|both] [--query NAME]...
// Needs '@duckdb/node-api' and 'avsc' resolvable from this file's folder
// (scripts/bench_sql.sh copies it into the peers folder and runs it there).
import { DuckDBInstance } from '@duckdb/node-api';
import avro from 'avsc';
import { readFileSync } from 'node:fs';

const USAGE = 'usage: duckdb_sql.mjs --table NS.NAME=METADATA_JSON ... --symbol S --day YYYY-MM-DD ' +
  "--next-day YYYY-MM-DD --since 'YYYY-MM-DD HH:MM:SS' [--runs N] [--threads 1|default|both] " +
  '[--query NAME]...';
const MAX_RESULT_ROWS = 200;

// The queries of bench/bench_sql.c; only the date arithmetic differs
// (SQLite's datetime(x, '-59 minutes') is x - INTERVAL 59 MINUTE here).
const QUERIES = [
  ['latest_bar',
    'SELECT symbol, close, window_start, open, high, low, volume, vwap ' +
    'FROM gold.bars_1m WHERE symbol = :symbol ORDER BY window_start DESC LIMIT 1'],
  ['latest_bars',
    'SELECT b.symbol, b.close, b.window_start, b.volume, b.vwap FROM gold.bars_1m b ' +
    'JOIN (SELECT symbol, max(window_start) AS ws FROM gold.bars_1m GROUP BY symbol) m ' +
    'ON b.symbol = m.symbol AND b.window_start = m.ws ORDER BY b.symbol'],
  ['latest_bars_clock',
    'SELECT b.symbol, b.close, b.window_start, b.volume, b.vwap FROM gold.bars_1m b ' +
    'JOIN (SELECT symbol, max(window_start) AS ws FROM gold.bars_1m ' +
    'WHERE window_start >= :since GROUP BY symbol) m ' +
    'ON b.symbol = m.symbol AND b.window_start = m.ws WHERE b.window_start >= :since ' +
    'ORDER BY b.symbol'],
  ['top_movers_1h',
    'SELECT symbol, last_close / first_open - 1 AS ret, first_open, last_close, bars FROM (' +
    'SELECT symbol, first_value(open) OVER w AS first_open, ' +
    'last_value(close) OVER w AS last_close, count(*) OVER w AS bars, ' +
    'row_number() OVER w AS rn FROM gold.bars_1m ' +
    'WHERE window_start >= (SELECT max(window_start) - INTERVAL 59 MINUTE FROM gold.bars_1m) ' +
    'WINDOW w AS (PARTITION BY symbol ORDER BY window_start ' +
    'ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) ' +
    'WHERE rn = 1 ORDER BY abs(ret) DESC, symbol LIMIT 10'],
  ['top_movers_1h_clock',
    'SELECT symbol, last_close / first_open - 1 AS ret, first_open, last_close, bars FROM (' +
    'SELECT symbol, first_value(open) OVER w AS first_open, ' +
    'last_value(close) OVER w AS last_close, count(*) OVER w AS bars, ' +
    'row_number() OVER w AS rn FROM gold.bars_1m WHERE window_start >= :since ' +
    'WINDOW w AS (PARTITION BY symbol ORDER BY window_start ' +
    'ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) ' +
    'WHERE rn = 1 ORDER BY abs(ret) DESC, symbol LIMIT 10'],
  ['vwap_day',
    'SELECT symbol, sum(price * volume) / sum(volume) AS vwap, sum(volume) AS volume, ' +
    'count(*) AS trades FROM silver.trades ' +
    'WHERE event_time >= :day AND event_time < :next_day GROUP BY symbol ORDER BY symbol'],
  ['vwap_day_gold',
    'SELECT symbol, sum(vwap * volume) / sum(volume) AS vwap, sum(volume) AS volume, ' +
    'sum(trade_count) AS trades FROM gold.bars_1m ' +
    'WHERE window_start >= :day AND window_start < :next_day GROUP BY symbol ORDER BY symbol'],
];

// ---- arguments ----

const args = process.argv.slice(2);
const tables = new Map();
const params = {};
const only = [];
let runs = 30, threadsArg = 'both';
function usage(msg) {
  console.error(`duckdb_sql: ${msg}\n${USAGE}`);
  process.exit(2);
}
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const val = () => {
    if (i + 1 >= args.length) usage(`${a} needs a value`);
    return args[++i];
  };
  if (a === '--table') {
    const v = val(), eq = v.indexOf('=');
    if (eq <= 0) usage(`--table takes NS.NAME=METADATA_JSON, not ${v}`);
    tables.set(v.slice(0, eq), v.slice(eq + 1));
  } else if (a === '--symbol') params.symbol = val();
  else if (a === '--day') params.day = val();
  else if (a === '--next-day') params.next_day = val();
  else if (a === '--since') params.since = val();
  else if (a === '--runs') runs = Number(val());
  else if (a === '--threads') threadsArg = val();
  else if (a === '--query') only.push(val());
  else usage(`unexpected argument ${a}`);
}
for (const k of ['symbol', 'day', 'next_day', 'since'])
  if (!params[k]) usage(`--${k.replace('_', '-')} is required`);
if (!Number.isInteger(runs) || runs < 1) usage('--runs takes a count >= 1');
if (!['1', 'default', 'both'].includes(threadsArg)) usage('--threads takes 1, default or both');
for (const t of ['silver.trades', 'gold.bars_1m'])
  if (!tables.has(t)) usage(`--table ${t}=METADATA_JSON is required`);
for (const n of only)
  if (!QUERIES.some(([name]) => name === n)) usage(`no query ${n}`);

const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const expand = (sql) => sql.replace(/:(symbol|next_day|day|since)\b/g, (_, k) => lit(params[k]));

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

const localPath = (p) => (p.startsWith('file://') ? decodeURIComponent(p.slice(7)) : p);

// The live data files of the current snapshot. Integers of 16+ digits
// outside strings are read as text (snapshot ids do not fit a double); the
// tables are copy-on-write, so a delete file is an error.
async function liveFiles(name, metaPath) {
  let text;
  try {
    text = readFileSync(metaPath, 'utf8');
  } catch (e) {
    usage(`${name}: cannot read ${metaPath} (${e.code ?? e.message}); give the ` +
      'metadata-location that `floe describe TABLE` prints');
  }
  const meta = JSON.parse(text.replace(/("(?:[^"\\]|\\.)*")|(-?\d{16,})(?![\d.eE])/g,
    (m, str, num) => str ?? `"${num}"`));
  const snapId = String(meta['current-snapshot-id']);
  const snap = (meta.snapshots || []).find((s) => String(s['snapshot-id']) === snapId);
  if (!snap) usage(`${name}: the table has no current snapshot`);
  const files = [];
  for (const m of await readAvro(localPath(snap['manifest-list']))) {
    if (m.content !== 0) usage(`${name}: a delete manifest; compact the table first (floe compact)`);
    for (const e of await readAvro(localPath(m.manifest_path))) {
      if (e.status === 2) continue; // deleted in this snapshot
      if (e.data_file.content !== 0) usage(`${name}: a delete file; compact the table first`);
      files.push(localPath(e.data_file.file_path));
    }
  }
  return files;
}

// ---- DuckDB ----

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");
const defaultThreads = Number((await con.runAndReadAll("SELECT current_setting('threads')"))
  .getRows()[0][0]);
const fileCounts = {};
for (const [name, meta] of tables) {
  const files = await liveFiles(name, meta);
  fileCounts[name] = files.length;
  const [ns] = name.split('.');
  await con.run(`CREATE SCHEMA IF NOT EXISTS ${ns}`);
  await con.run(`CREATE VIEW ${name} AS SELECT * FROM read_parquet([${files.map(lit).join(', ')}])`);
}

// Values as floe prints them: timestamps 'YYYY-MM-DD HH:MM:SS.ffffff' UTC,
// integers as numbers.
const pad = (n, w) => String(n).padStart(w, '0');
function plain(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && typeof v.micros === 'bigint') {
    const us = v.micros, s = us / 1000000n, frac = Number(us - s * 1000000n);
    const d = new Date(Number(s) * 1000);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
      `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.` +
      `${pad(frac, 6)}`;
  }
  if (typeof v === 'object') return String(v);
  return v;
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))];
const settings = threadsArg === 'both' ? [['1', 1], ['default', defaultThreads]]
  : threadsArg === '1' ? [['1', 1]] : [['default', defaultThreads]];
for (const [label, threads] of settings) {
  await con.run(`SET threads = ${threads}`);
  for (const [name, tpl] of QUERIES) {
    if (only.length && !only.includes(name)) continue;
    const sql = expand(tpl);
    const ms = [];
    let rows = [];
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      rows = (await con.runAndReadAll(sql)).getRows();
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const first = ms[0];
    const counted = (runs > 1 ? ms.slice(1) : ms).sort((a, b) => a - b);
    const mean = counted.reduce((a, b) => a + b, 0) / counted.length;
    console.log(JSON.stringify({
      engine: 'duckdb', query: name, threads, threads_label: label, runs: counted.length,
      p50_ms: pct(counted, 50), p99_ms: pct(counted, 99), min_ms: counted[0],
      max_ms: counted[counted.length - 1], mean_ms: mean, first_ms: first,
      result_rows: rows.length, files: fileCounts, sql,
      result: rows.slice(0, MAX_RESULT_ROWS).map((row) => row.map(plain)),
    }));
  }
}
