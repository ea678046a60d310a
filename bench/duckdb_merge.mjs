#!/usr/bin/env node
// DuckDB side of the row-level benchmark: the same upserts into a DuckDB table
// with a PRIMARY KEY on trade_id (INSERT OR REPLACE from each batch's Parquet
// file), with threads=1 and the default thread count. DuckDB keeps its own
// storage (not an Iceberg table), so this is a reference for upsert speed of a
// database, not a like-for-like lakehouse write. Prints one JSON line per mode.
// Then, for each compacted_MODE.txt in DUMP_DIR (the data files floe's
// compaction read, one a line), DuckDB on one thread rewrites those files as
// one ZSTD Parquet file (best of 2 runs; no deletes applied): a reference for
// Parquet re-encoding speed in MB/s of files read. One JSON line per list.
// usage: node duckdb_merge.mjs DUMP_DIR   (base.parquet and batch_NNN.parquet,
// written by bench_merge --dump). Needs '@duckdb/node-api' resolvable from this
// file's folder (scripts/bench_merge.sh copies it into the peers folder).
import { DuckDBInstance } from '@duckdb/node-api';
import { readdirSync, readFileSync, statSync, rmSync } from 'node:fs';
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

for (const list of readdirSync(dir).filter((f) => /^compacted_\w+\.txt$/.test(f)).sort()) {
  const files = readFileSync(join(dir, list), 'utf8').split('\n').filter((l) => l);
  if (!files.length) continue;
  const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
  const out = resolve(join(dir, 'rewrite.parquet'));
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  await con.run('SET threads = 1');
  let best = Infinity;
  for (let run = 0; run < 2; run++) {
    const t0 = process.hrtime.bigint();
    await con.run(`COPY (SELECT * FROM read_parquet([${files.map(q).join(', ')}])) TO ${q(out)}
      (FORMAT parquet, COMPRESSION zstd)`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  rmSync(out, { force: true });
  console.log(JSON.stringify({ peer: 'duckdb', phase: 'rewrite', mode: list.slice(10, -4),
    threads_label: '1', files: files.length, bytes, seconds: best, mb_per_s: bytes / 1e6 / best }));
}
