#!/usr/bin/env node
// DuckDB side of the table benchmark: read_parquet over the table's data files
// (the list floe_table_files gave), a one-hour time filter and a full scan, with
// threads=1 and with DuckDB's default thread count. Prints one JSON line per run.
// usage: node duckdb_table.mjs FILE_LIST FROM TO [--repeat N]
// FILE_LIST has one Parquet path per line; FROM/TO are ISO timestamps with Z.
// Needs '@duckdb/node-api' resolvable from this file's folder (scripts/bench_table.sh
// copies this file into the peers folder and runs it there).
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
let repeat = 2;
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--repeat') repeat = Math.max(1, parseInt(args[++i], 10) || 1);
  else pos.push(args[i]);
}
if (pos.length !== 3) {
  console.error('usage: duckdb_table.mjs FILE_LIST FROM TO [--repeat N]');
  process.exit(2);
}
const [listFile, from, to] = pos;
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const files = readFileSync(listFile, 'utf8').split('\n').filter((l) => l.length > 0)
  .map((f) => resolve(f));
if (files.length === 0) {
  console.error(`duckdb_table: no files in ${listFile}`);
  process.exit(1);
}
const src = `read_parquet([${files.map(q).join(', ')}])`;

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const one = async (sql) => (await con.runAndReadAll(sql)).getRowsJson()[0];

// best (smallest) wall time of `n` runs of fn
async function timed(n, fn) {
  let best = Infinity, result;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    result = await fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  return [best, result];
}

const defaultThreads = Number((await one("SELECT current_setting('threads')"))[0]);

// every column of every matching row is decoded (as floe's scan returns them)
const scanSql = (where) => `SELECT count(*) AS n, sum(length(trade_id)) + sum(length(symbol))
  + sum(length(side)) + sum(length(exchange)) AS str_bytes, sum(price) AS sum_price,
  sum(volume) AS sum_volume, sum(epoch_us(ts)) AS sum_ts FROM ${src}${where}`;
const hourWhere = ` WHERE ts >= ${q(from)}::TIMESTAMPTZ AND ts < ${q(to)}::TIMESTAMPTZ`;

for (const [label, threads] of [['1', 1], ['default', defaultThreads]]) {
  await con.run(`SET threads = ${threads}`);
  for (const [op, where, n] of [['scan_hour', hourWhere, repeat], ['scan_full', '', 1]]) {
    const [s, r] = await timed(n, () => one(scanSql(where)));
    const rows = Number(r[0]);
    console.log(JSON.stringify({ engine: 'duckdb', op, threads, threads_label: label,
      files: files.length, rows, seconds: s, ms: s * 1e3, rows_per_s: Math.round(rows / s),
      str_bytes: String(r[1]), sum_price: String(r[2]), runs: n }));
  }
}
