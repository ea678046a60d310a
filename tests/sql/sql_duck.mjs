#!/usr/bin/env node
// DuckDB's side of the SQL differential tests (tests/sql/test_sql_duck.c):
// each Iceberg table named in the job file is read from its own metadata
// (metadata JSON -> manifest list -> manifests, read with avsc) as the live
// Parquet data files of one snapshot, and becomes a DuckDB view with floe's
// name (schema "gold", view "bars_1m", so `gold.bars_1m` reads the same in
// both engines); then every query of the job runs, single-threaded, in UTC.
// Values leave normalized the way floe's SQL layer spells them: timestamps
// as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text (9 digits for _ns), dates
// 'YYYY-MM-DD', times 'HH:MM:SS.ffffff', booleans 0/1, NaN as null, blobs
// as {"blob": HEX}, integers exact (64-bit and wider printed as digits),
// decimals as doubles.
//
// usage: node sql_duck.mjs PEERS_DIR JOB.json
//   JOB.json: {"tables": [{"view": "gold.bars_1m", "metadata": PATH,
//                          "snapshot": "ID" (optional: default current)}],
//              "queries": [{"name": N, "sql": SQL}]}
// Prints one JSON line per query: {"name", "columns": [...], "rows": [[...]]}
// or {"name", "error": MESSAGE}. Exit 0 when every query ran, 1 when one
// failed, 2 on usage or unreadable input (the message says which).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

function die(msg) {
  console.error(`sql_duck: ${msg}`);
  process.exit(2);
}

const [peers, jobPath] = process.argv.slice(2);
if (!peers || !jobPath || process.argv.length > 4)
  die('usage: sql_duck.mjs PEERS_DIR JOB.json');

const require = createRequire(peers + '/package.json');
let avro, duck;
try {
  avro = require('avsc');
  duck = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href);
} catch (e) {
  die(`cannot load avsc and @duckdb/node-api from ${peers}/node_modules (install the test peers): ${e.message}`);
}
const { DuckDBInstance, DuckDBTypeId } = duck;

let job;
try {
  job = JSON.parse(readFileSync(jobPath, 'utf8'));
} catch (e) {
  die(`${jobPath}: ${e.message}`);
}
if (!Array.isArray(job.tables) || !Array.isArray(job.queries))
  die(`${jobPath}: needs "tables" and "queries" arrays`);

// ---- Iceberg: which Parquet files a snapshot reads ----

// Avro longs as BigInt, so 64-bit ids and sizes stay exact.
const bigLong = avro.types.LongType.__with({
  fromBuffer: (b) => b.readBigInt64LE(),
  toBuffer: (n) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(n));
    return b;
  },
  fromJSON: (x) => BigInt(x),
  toJSON: (n) => String(n),
  isValid: (n) => typeof n === 'bigint',
  compare: (a, b) => (a === b ? 0 : a < b ? -1 : 1),
});

function avroRecords(path) {
  return new Promise((resolve, reject) => {
    const out = [];
    avro.createFileDecoder(path, {
      parseHook: (schema) => avro.Type.forSchema(schema, { registry: { long: bigLong } }),
    })
      .on('data', (r) => out.push(r))
      .on('error', (e) => reject(new Error(`${path}: ${e.message}`)))
      .on('end', () => resolve(out));
  });
}

const fsPath = (p) => (p.startsWith('file://') ? decodeURIComponent(p.slice(7)) : p);

// Snapshot ids use all 64 bits: read them as strings.
const idsAsText = (text) =>
  text.replace(/("(?:current-snapshot-id|snapshot-id|parent-snapshot-id)"\s*:\s*)(-?\d+)/g, '$1"$2"');

async function snapshotFiles(t) {
  let meta;
  try {
    meta = JSON.parse(idsAsText(readFileSync(t.metadata, 'utf8')));
  } catch (e) {
    die(`${t.view}: cannot read the metadata file ${t.metadata}: ${e.message}`);
  }
  const want = t.snapshot != null ? String(t.snapshot) : String(meta['current-snapshot-id'] ?? '-1');
  const snap = (meta.snapshots || []).find((s) => String(s['snapshot-id']) === want);
  if (!snap && want !== '-1')
    die(`${t.view}: ${t.metadata} has no snapshot ${want}`);
  // time travel reads the snapshot's own schema
  const sid = snap && snap['schema-id'] !== undefined ? snap['schema-id'] : meta['current-schema-id'];
  const schema = (meta.schemas || []).find((s) => s['schema-id'] === sid);
  if (!schema) die(`${t.view}: ${t.metadata} has no schema ${sid}`);
  const files = [];
  if (snap) {
    for (const m of await avroRecords(fsPath(snap['manifest-list']))) {
      if (m.content !== 0)
        die(`${t.view}: snapshot ${want} has delete manifests; this runner reads copy-on-write tables only`);
      for (const e of await avroRecords(fsPath(m.manifest_path))) {
        if (e.status === 2) continue; // removed by this snapshot
        if (e.data_file.content !== 0)
          die(`${t.view}: ${e.data_file.file_path} is a delete file; this runner reads copy-on-write tables only`);
        files.push(fsPath(e.data_file.file_path));
      }
    }
  }
  return { schema, files, snapshot: want };
}

// ---- DuckDB ----

const db = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await db.connect();
const run = (sql) => con.run(sql);
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const ident = (s) => `"${String(s).replace(/"/g, '""')}"`;
await run("SET TimeZone = 'UTC'");

const duckType = {
  boolean: 'BOOLEAN', int: 'INTEGER', long: 'BIGINT', float: 'FLOAT', double: 'DOUBLE',
  date: 'DATE', time: 'TIME', timestamp: 'TIMESTAMP', timestamptz: 'TIMESTAMPTZ',
  timestamp_ns: 'TIMESTAMP_NS', timestamptz_ns: 'TIMESTAMP_NS', string: 'VARCHAR',
  uuid: 'UUID', binary: 'BLOB',
};

function columnType(view, f) {
  if (typeof f.type === 'string') {
    if (duckType[f.type]) return duckType[f.type];
    if (/^decimal\(\d+, *\d+\)$/.test(f.type)) return f.type.toUpperCase();
    if (/^fixed\[\d+\]$/.test(f.type)) return 'BLOB';
  }
  die(`${view}: column ${f.name} has type ${JSON.stringify(f.type)}, which this runner does not read`);
}

for (const t of job.tables) {
  if (!t.view || !/^[A-Za-z_][\w]*\.[^.]+$/.test(t.view))
    die(`a table needs a view name NS.NAME, got ${JSON.stringify(t.view)}`);
  const dot = t.view.indexOf('.');
  const ns = t.view.slice(0, dot), name = t.view.slice(dot + 1);
  const { schema, files } = await snapshotFiles(t);
  const cols = schema.fields.map((f) => `CAST(${ident(f.name)} AS ${columnType(t.view, f)}) AS ${ident(f.name)}`);
  const from = files.length
    ? `read_parquet([${files.map(lit).join(', ')}], union_by_name = true)`
    : `(SELECT ${schema.fields.map((f) => `NULL AS ${ident(f.name)}`).join(', ')} WHERE false)`;
  try {
    await run(`CREATE SCHEMA IF NOT EXISTS ${ident(ns)}`);
    await run(`CREATE VIEW ${ident(ns)}.${ident(name)} AS SELECT ${cols.join(', ')} FROM ${from}`);
  } catch (e) {
    die(`${t.view}: DuckDB cannot read its data files: ${e.message}`);
  }
}

// ---- values as floe's SQL layer gives them ----

const pad = (n, w) => String(n).padStart(w, '0');

// 'YYYY-MM-DD HH:MM:SS' of whole seconds since the epoch, UTC
function civil(seconds) {
  const d = new Date(Number(seconds) * 1000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
}

function fromUnits(units, perSecond, digits) {
  let s = units / perSecond, f = units % perSecond;
  if (f < 0n) {
    f += perSecond;
    s -= 1n;
  }
  return `${civil(s)}.${pad(f, digits)}`;
}

// One JSON value per cell; bigints leave as tagged strings, unquoted later.
const BIG = '\u0000big:';
function cell(v, type) {
  if (v === null || v === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return v ? 1 : 0;
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return Number.isFinite(v) ? v : Number.isNaN(v) ? null : String(v);
    case DuckDBTypeId.DECIMAL:
      return v.toDouble();
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return fromUnits(v.micros, 1000000n, 6);
    case DuckDBTypeId.TIMESTAMP_NS:
      return fromUnits(v.nanos, 1000000000n, 9);
    case DuckDBTypeId.TIMESTAMP_MS:
      return fromUnits(v.millis * 1000n, 1000000n, 6);
    case DuckDBTypeId.TIMESTAMP_S:
      return fromUnits(v.seconds * 1000000n, 1000000n, 6);
    case DuckDBTypeId.DATE:
      return civil(BigInt(v.days) * 86400n).slice(0, 10);
    case DuckDBTypeId.TIME:
      return fromUnits(v.micros, 1000000n, 6).slice(11);
    case DuckDBTypeId.BLOB:
      return { blob: Buffer.from(v.bytes).toString('hex') };
    case DuckDBTypeId.VARCHAR:
      return String(v);
    default:
      if (typeof v === 'bigint') return BIG + v.toString();
      if (typeof v === 'number' || typeof v === 'string') return v;
      return String(v);
  }
}

const toJson = (x) =>
  JSON.stringify(x).replace(/"\\u0000big:(-?\d+)"/g, '$1');

let failed = 0;
for (const q of job.queries) {
  try {
    const reader = await con.runAndReadAll(q.sql);
    const types = reader.columnTypes();
    const rows = reader.getRows().map((r) => r.map((v, i) => cell(v, types[i])));
    process.stdout.write(toJson({ name: q.name, columns: reader.columnNames(), rows }) + '\n');
  } catch (e) {
    failed++;
    process.stdout.write(JSON.stringify({ name: q.name, error: String(e?.message ?? e) }) + '\n');
  }
}
process.exit(failed ? 1 : 0);
