#!/usr/bin/env node
// DuckDB side of the row-level benchmark: the same upserts into a DuckDB table
// with a PRIMARY KEY on trade_id (INSERT OR REPLACE from each batch's Parquet
// file), with threads=1 and the default thread count. DuckDB keeps its own
// storage (not an Iceberg table), so this is a reference for upsert speed of a
// database, not a like-for-like lakehouse write. Prints one JSON line per mode.
// usage: node duckdb_merge.mjs DUMP_DIR   (base.parquet and batch_NNN.parquet,
// written by bench_merge --dump). Needs '@duckdb/node-api' resolvable from this
// file's folder (scripts/bench_merge.sh copies it into the peers folder).
import { DuckDBInstance } from '@duckdb/node-api';
import { readdirSync } from 'node:fs';
import { resolve, join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: duckdb_merge.mjs DUMP_DIR');
  process.exit(2);
}
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const batches = readdirSync(dir).filter((f) => /^batch_\d+\.parquet$/.test(f)).sort()
  .map((f) => resolve(join(dir, f)));
const base = resolve(join(dir, 'base.parquet'));
for (const threads of ['1', 'default']) {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  if (threads === '1') await con.run('SET threads = 1');
  await con.run(`CREATE TABLE t (trade_id VARCHAR PRIMARY KEY, symbol VARCHAR, price DOUBLE,
    volume BIGINT, ts TIMESTAMPTZ, side VARCHAR, exchange VARCHAR)`);
  await con.run(`INSERT INTO t SELECT * FROM read_parquet(${q(base)})`);
  let rows = 0, secs = 0;
  for (const b of batches) {
    const n = Number((await con.runAndReadAll(`SELECT count(*) FROM read_parquet(${q(b)})`)).getRows()[0][0]);
    const t0 = process.hrtime.bigint();
    await con.run(`INSERT OR REPLACE INTO t SELECT * FROM read_parquet(${q(b)})`);
    secs += Number(process.hrtime.bigint() - t0) / 1e9;
    rows += n;
  }
  const total = Number((await con.runAndReadAll('SELECT count(*) FROM t')).getRows()[0][0]);
  console.log(JSON.stringify({ peer: 'duckdb', threads_label: threads, batches: batches.length,
    rows, seconds: secs, rows_per_s: rows / secs, table_rows: total }));
}
