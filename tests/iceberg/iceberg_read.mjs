#!/usr/bin/env node
// An independent reader of an Iceberg table, for checking what floe writes:
// metadata JSON read with exact 64-bit ids, manifest list and manifests read
// with avsc (every schema field must carry a field-id), data files read by
// DuckDB. Prints one JSON line: snapshot, manifests, data files, rows, and
// the sum of a long column given with --sum.
// usage: node iceberg_read.mjs PEERS_DIR METADATA_JSON [--snapshot ID] [--sum COLUMN]
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [peers, metaPath, ...rest] = process.argv.slice(2);
if (!peers || !metaPath) {
  console.error('usage: iceberg_read.mjs PEERS_DIR METADATA_JSON [--snapshot ID] [--sum COLUMN]');
  process.exit(2);
}
let snapArg = null, sumCol = null;
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--snapshot') snapArg = rest[++i];
  else if (rest[i] === '--sum') sumCol = rest[++i];
  else { console.error(`unexpected argument: ${rest[i]}`); process.exit(2); }
}
const require = createRequire(peers + '/package.json');
const avro = require('avsc');
const { DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href);

const fail = (msg) => { console.error('iceberg_read: ' + msg); process.exit(1); };

// Integers of 16+ digits become strings so ids stay exact.
const text = readFileSync(metaPath, 'utf8').replace(/([:\[,]\s*)(-?\d{16,})(?=\s*[,}\]])/g, '$1"$2"');
const meta = JSON.parse(text);
if (meta['format-version'] !== 2) fail('format-version is not 2');
for (const k of ['table-uuid', 'location', 'last-sequence-number', 'last-updated-ms', 'last-column-id',
  'schemas', 'current-schema-id', 'partition-specs', 'default-spec-id', 'last-partition-id',
  'sort-orders', 'default-sort-order-id']) {
  if (!(k in meta)) fail(`v2 metadata lacks required field ${k}`);
}
const snapId = snapArg ?? String(meta['current-snapshot-id']);
const snap = (meta.snapshots || []).find((s) => String(s['snapshot-id']) === snapId);
if (!snap) { console.log(JSON.stringify({ snapshot: null, manifests: 0, files: 0, rows: 0, sum: 0 })); process.exit(0); }

// Every field of a record schema (recursively) must have a field-id.
function checkIds(schema, where) {
  if (Array.isArray(schema)) { schema.forEach((s) => checkIds(s, where)); return; }
  if (typeof schema !== 'object' || schema === null) return;
  if (schema.type === 'record') {
    for (const f of schema.fields) {
      if (typeof f['field-id'] !== 'number') fail(`${where}: field ${f.name} has no field-id`);
      checkIds(f.type, where);
    }
  } else if (schema.type === 'array') {
    checkIds(schema.items, where);
  } else if (schema.type === 'map') {
    checkIds(schema.values, where);
  }
}

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
    let schema = null;
    avro.createFileDecoder(path, {
      parseHook: (s) => { schema = s; return avro.Type.forSchema(s, { registry: { long: long64 } }); },
    })
      .on('data', (r) => records.push(r))
      .on('error', reject)
      .on('end', () => resolve({ schema, records, }));
  });
}

const list = await readAvro(snap['manifest-list']);
checkIds(list.schema, snap['manifest-list']);
const files = [];
let manifests = 0;
for (const m of list.records) {
  if (m.content !== 0) fail('unexpected delete manifest');
  manifests++;
  const man = await readAvro(m.manifest_path);
  checkIds(man.schema, m.manifest_path);
  for (const e of man.records) {
    if (e.status === 2) continue;
    if (e.data_file.content !== 0) fail('unexpected delete file');
    files.push({ path: e.data_file.file_path, records: Number(e.data_file.record_count), df: e.data_file });
  }
}
let rows = 0, sum = 0n;
if (files.length) {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const list2 = files.map((f) => `'${f.path.replace(/'/g, "''")}'`).join(',');
  const sel = sumCol ? `, sum("${sumCol}")::VARCHAR` : '';
  const res = await con.runAndReadAll(`select count(*)${sel} from read_parquet([${list2}])`);
  const row = res.getRows()[0];
  rows = Number(row[0]);
  if (sumCol) sum = BigInt(row[1] ?? 0);
  const listed = files.reduce((a, f) => a + f.records, 0);
  if (listed !== rows) fail(`manifests list ${listed} records, the data files hold ${rows}`);
  for (const f of files) await checkMetrics(con, f);
}

function kv(arr) {
  const m = new Map();
  for (const x of arr ?? []) m.set(x.key, x.value);
  return m;
}

async function checkMetrics(con, f) {
  const q = (p) => `'${p.replace(/'/g, "''")}'`;
  const cols = (await con.runAndReadAll(
    `select name, field_id, type, logical_type from parquet_schema(${q(f.path)}) where num_children is null`)).getRows();
  const vc = kv(f.df.value_counts), nc = kv(f.df.null_value_counts);
  const lb = kv(f.df.lower_bounds), ub = kv(f.df.upper_bounds);
  for (const [name, fid, type, logical] of cols) {
    if (fid === null) continue;
    const id = Number(fid), col = `"${name.replace(/"/g, '""')}"`;
    const r = (await con.runAndReadAll(
      `select count(${col}), count(*) - count(${col}), min(${col})::VARCHAR, max(${col})::VARCHAR ` +
      `from read_parquet(${q(f.path)})`)).getRows()[0];
    const where = `${f.path} column ${name} (field ${id})`;
    if (vc.has(id) && Number(vc.get(id)) !== f.records) fail(`${where}: value_count ${vc.get(id)} != ${f.records}`);
    if (nc.has(id) && Number(nc.get(id)) !== Number(r[1])) fail(`${where}: null_value_count ${nc.get(id)} != ${r[1]}`);
    if (r[2] === null) continue;
    const isString = type === 'BYTE_ARRAY' && /string|utf8/i.test(String(logical ?? ''));
    if (isString) {
      const mn = Buffer.from(r[2], 'utf8'), mx = Buffer.from(r[3], 'utf8');
      if (!lb.has(id) || !ub.has(id)) fail(`${where}: string bounds missing`);
      const lo = lb.get(id), hi = ub.get(id);
      if (Buffer.compare(lo, mn.subarray(0, lo.length)) !== 0) fail(`${where}: lower bound is not a prefix of min`);
      if (Buffer.compare(hi, mx) < 0) fail(`${where}: upper bound below max`);
    } else if ((type === 'INT32' || type === 'INT64') && logical === null) {
      if (!lb.has(id) || !ub.has(id)) fail(`${where}: bounds missing`);
      const dec = (b) => (b.length === 4 ? BigInt(b.readInt32LE()) : b.readBigInt64LE());
      if (dec(lb.get(id)) !== BigInt(r[2]) || dec(ub.get(id)) !== BigInt(r[3]))
        fail(`${where}: bounds ${dec(lb.get(id))}..${dec(ub.get(id))}, values ${r[2]}..${r[3]}`);
    }
  }
}
console.log(JSON.stringify({ snapshot: snapId, manifests, files: files.length, rows, sum: sum.toString() }));
