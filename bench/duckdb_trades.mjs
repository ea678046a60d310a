#!/usr/bin/env node
// DuckDB side of the trades benchmark: same rows, same codec (ZSTD), timed with
// threads=1 and with DuckDB's default thread count. Prints one JSON line per run.
// usage: node duckdb_trades.mjs FLOE_FILE WORK_DIR [--repeat N]
// Needs '@duckdb/node-api' resolvable from this file's folder (scripts/bench.sh
// copies this file into the peers folder and runs it there).
import { DuckDBInstance } from '@duckdb/node-api';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
let repeat = 1;
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--repeat') repeat = Math.max(1, parseInt(args[++i], 10) || 1);
  else pos.push(args[i]);
}
if (pos.length !== 2) {
  console.error('usage: duckdb_trades.mjs FLOE_FILE WORK_DIR [--repeat N]');
  process.exit(2);
}
const floeFile = resolve(pos[0]);
const work = resolve(pos[1]);
const q = (s) => `'${s.replace(/'/g, "''")}'`;

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const one = async (sql) => (await con.runAndReadAll(sql)).getRowsJson()[0];

// best (smallest) wall time of `repeat` runs of fn
async function timed(fn) {
  let best = Infinity, result;
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    result = await fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  return [best, result];
}

const defaultThreads = Number((await one("SELECT current_setting('threads')"))[0]);

// untimed: load floe's rows into an in-memory table
await con.run(`CREATE TABLE trades AS SELECT * FROM read_parquet(${q(floeFile)})`);
const rows = Number((await one('SELECT count(*) FROM trades'))[0]);

// every column is decoded: string lengths, numeric sums, timestamp epochs
const scanSql = (f) => `SELECT sum(length(trade_id)) + sum(length(symbol)) + sum(length(side))
  + sum(length(exchange)) AS str_bytes, sum(price) AS sum_price, sum(volume) AS sum_volume,
  sum(epoch_us(ts)) AS sum_ts FROM read_parquet(${q(f)})`;

const emit = (o) => console.log(JSON.stringify({ engine: 'duckdb', rows, ...o,
  rows_per_s: Math.round(rows / o.seconds) }));

for (const [label, threads] of [['1', 1], ['default', defaultThreads]]) {
  await con.run(`SET threads = ${threads}`);
  const out = join(work, `duckdb_trades_t${label}.parquet`);
  const [ws] = await timed(() =>
    con.run(`COPY trades TO ${q(out)} (FORMAT parquet, COMPRESSION zstd)`));
  emit({ op: 'write', threads, threads_label: label, seconds: ws, bytes: statSync(out).size });
  const [rs, r1] = await timed(() => one(scanSql(out)));
  emit({ op: 'read', file: 'duckdb', threads, threads_label: label, seconds: rs,
    str_bytes: String(r1[0]) });
  const [fs, r2] = await timed(() => one(scanSql(floeFile)));
  emit({ op: 'read', file: 'floe', threads, threads_label: label, seconds: fs,
    str_bytes: String(r2[0]), sum_price: String(r2[1]) });
}
