#!/usr/bin/env node
// An independent reader of an Iceberg table, for checking what floe writes:
// metadata JSON read with exact 64-bit ids, manifest list and manifests read
// with avsc (every schema field must carry a field-id), data files read by
// DuckDB with the position and equality delete files applied by hand (the
// spec's scope rules: sequence numbers, partition, global equality deletes;
// positions through DuckDB's file_row_number, NULL matching NULL). Prints
// one JSON line: snapshot, data manifests, data files, live rows, and the
// sum of a long column given with --sum. The metrics of every data file are
// checked against DuckDB's reading of it: value and null counts of each
// column, and lower/upper bounds of string, int and long columns (a bound
// must not exclude any value; a truncated string lower bound is a prefix
// of the minimum).
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
const files = [], deletes = [];
let manifests = 0;
const partKey = (p) => JSON.stringify(p, (k, v) => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('hex') : v));
for (const m of list.records) {
  if (m.content === 0) manifests++;
  const man = await readAvro(m.manifest_path);
  checkIds(man.schema, m.manifest_path);
  for (const e of man.records) {
    if (e.status === 2) continue;
    // sequence number inheritance (spec): a null takes the manifest's
    const seq = e.sequence_number ?? m.sequence_number;
    const f = { path: e.data_file.file_path, records: Number(e.data_file.record_count), df: e.data_file,
      seq: BigInt(seq), spec: m.partition_spec_id, part: partKey(e.data_file.partition) };
    const content = e.data_file.content;
    if (m.content === 0 && content !== 0) fail('delete file in a data manifest');
    if (m.content === 1 && content === 0) fail('data file in a delete manifest');
    (content === 0 ? files : deletes).push(f);
  }
}
// scope rules of the spec's scan planning
const specFields = (id) => ((meta['partition-specs'] || []).find((s) => s['spec-id'] === id)?.fields || []);
const posFor = (d) => deletes.filter((x) => x.df.content === 1 && x.seq >= d.seq && x.spec === d.spec && x.part === d.part);
const eqFor = (d) => deletes.filter((x) => x.df.content === 2 && x.seq > d.seq &&
  (specFields(x.spec).length === 0 || (x.spec === d.spec && x.part === d.part)));
const schema = (meta.schemas || []).find((x) => x['schema-id'] === meta['current-schema-id']);
const colName = (id) => {
  const f = schema && schema.fields.find((x) => x.id === id);
  if (!f) fail(`no column with field id ${id}`);
  return `"${f.name.replace(/"/g, '""')}"`;
};
let rows = 0, sum = 0n;
if (files.length) {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const q = (p) => `'${p.replace(/'/g, "''")}'`;
  for (const f of files) {
    const conds = [];
    const pos = posFor(f);
    if (pos.length)
      conds.push(`not exists (select 1 from read_parquet([${pos.map((x) => q(x.path)).join(',')}]) p ` +
        `where p.file_path = ${q(f.path)} and p.pos = d.file_row_number)`);
    for (const e of eqFor(f)) {
      const ids = (e.df.equality_ids || []).map(Number);
      conds.push(`not exists (select 1 from read_parquet(${q(e.path)}) e where ` +
        ids.map((id) => `e.${colName(id)} is not distinct from d.${colName(id)}`).join(' and ') + ')');
    }
    const sel = sumCol ? `, sum("${sumCol}")::VARCHAR` : '';
    const where = conds.length ? ' where ' + conds.join(' and ') : '';
    const res = await con.runAndReadAll(
      `select count(*)${sel}, (select count(*) from read_parquet(${q(f.path)})) ` +
      `from read_parquet(${q(f.path)}, file_row_number = true) d${where}`);
    const row = res.getRows()[0];
    rows += Number(row[0]);
    if (sumCol) sum += BigInt(row[1] ?? 0);
    const held = Number(row[sumCol ? 2 : 1]);
    if (held !== f.records) fail(`${f.path}: the manifest lists ${f.records} records, the file holds ${held}`);
    await checkMetrics(con, f);
  }
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
