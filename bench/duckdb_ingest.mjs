#!/usr/bin/env node
// DuckDB side of the ingest benchmark: the same NDJSON trades file that floe
// ingests, read with read_ndjson (the 7 trade columns, typed) and written to
// one ZSTD Parquet file with COPY, timed with the given thread setting. One
// JSON line: rows, wall seconds, CPU seconds of the process during the COPY
// (all threads), rows/s, bytes in and out, peak RSS of this Node process.
// usage: node duckdb_ingest.mjs NDJSON_FILE OUT_PARQUET --threads 1|default [--repeat N]
// Needs '@duckdb/node-api' resolvable from this file's folder
// (scripts/bench_ingest.sh copies it into the peers folder and runs it there).
import { DuckDBInstance } from '@duckdb/node-api';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
let repeat = 1, threadsLabel = null;
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--repeat') repeat = Math.max(1, parseInt(args[++i], 10) || 1);
  else if (args[i] === '--threads') threadsLabel = args[++i];
  else pos.push(args[i]);
}
if (pos.length !== 2 || (threadsLabel !== '1' && threadsLabel !== 'default')) {
  console.error('usage: duckdb_ingest.mjs NDJSON_FILE OUT_PARQUET --threads 1|default [--repeat N]');
  process.exit(2);
}
const input = resolve(pos[0]);
const out = resolve(pos[1]);
const q = (s) => `'${s.replace(/'/g, "''")}'`;

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const one = async (sql) => (await con.runAndReadAll(sql)).getRows()[0];
const defaultThreads = Number((await one("SELECT current_setting('threads')"))[0]);
const threads = threadsLabel === '1' ? 1 : defaultThreads;
await con.run(`SET threads = ${threads}`);

// the fields of floe's built-in `trades` record spec, typed as floe types them
const columns = `{trade_id: 'VARCHAR', symbol: 'VARCHAR', price: 'DOUBLE', volume: 'BIGINT',
  timestamp: 'TIMESTAMPTZ', trade_type: 'VARCHAR', exchange: 'VARCHAR'}`;
const sql = `COPY (SELECT * FROM read_ndjson(${q(input)}, columns = ${columns}))
  TO ${q(out)} (FORMAT parquet, COMPRESSION zstd)`;

let best = null;
for (let i = 0; i < repeat; i++) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await con.run(sql);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  if (!best || seconds < best.seconds) best = { seconds, cpu_seconds: cpu };
}
// untimed: what the file holds
const rows = Number((await one(`SELECT count(*) FROM read_parquet(${q(out)})`))[0]);
console.log(JSON.stringify({
  engine: 'duckdb', op: 'read_ndjson_to_parquet', threads, threads_label: threadsLabel, rows,
  seconds: best.seconds, cpu_seconds: best.cpu_seconds,
  rows_per_s: Math.round(rows / best.seconds),
  rows_per_cpu_s: Math.round(rows / best.cpu_seconds),
  input_bytes: statSync(input).size, bytes: statSync(out).size,
  peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
}));
