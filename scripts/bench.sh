#!/usr/bin/env bash
# Trades benchmark: floe write + read (single thread) next to DuckDB (threads=1
# and default) on the same rows with ZSTD. usage: scripts/bench.sh [N] (default 10000000)
# Env: BENCH_DIR (work folder, default build/bench-data), BENCH_REPEAT (DuckDB best-of, default 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${1:-10000000}
work=${BENCH_DIR:-build/bench-data}
repeat=${BENCH_REPEAT:-1}
bin=build/release/bench/bench_trades
peers=build/peers

make --no-print-directory >&2
scripts/deps.sh build test
mkdir -p "$work"
scripts/bench_peers.sh bench/duckdb_trades.mjs

floe_file="$work/floe_trades.parquet"
echo "bench: floe write $n rows -> $floe_file" >&2
"$bin" write "$floe_file" "$n" | tee "$work/floe_write.json" >&2
echo "bench: floe read" >&2
"$bin" read "$floe_file" | tee "$work/floe_read.json" >&2
echo "bench: duckdb" >&2
node "$peers/duckdb_trades.mjs" "$floe_file" "$work" --repeat "$repeat" | tee "$work/duckdb.jsonl" >&2

# Table: rows/s and the floe/duckdb ratios.
node - "$work" <<'JS'
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
const w = JSON.parse(fs.readFileSync(path.join(dir, 'floe_write.json'), 'utf8'));
const r = JSON.parse(fs.readFileSync(path.join(dir, 'floe_read.json'), 'utf8'));
const d = fs.readFileSync(path.join(dir, 'duckdb.jsonl'), 'utf8').trim().split('\n').map(JSON.parse);
const pick = (op, label, file) => d.find((x) => x.op === op && x.threads_label === label &&
  (file === undefined || x.file === file));
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const ratio = (a, b) => (b ? (a / b).toFixed(2) + 'x' : 'n/a');
const lines = [];
const row = (...c) => lines.push('| ' + c.join(' | ') + ' |');
row('operation', 'floe rows/s', 'duckdb 1 thread', 'duckdb default (' + pick('write', 'default').threads + ' threads)',
  'floe/duckdb(1)', 'floe/duckdb(default)');
row('---', '---:', '---:', '---:', '---:', '---:');
const w1 = pick('write', '1'), wd = pick('write', 'default');
row('write ZSTD', fmt(w.rows_per_s), fmt(w1.rows_per_s), fmt(wd.rows_per_s),
  ratio(w.rows_per_s, w1.rows_per_s), ratio(w.rows_per_s, wd.rows_per_s));
const r1 = pick('read', '1', 'duckdb'), rd = pick('read', 'default', 'duckdb');
row('full scan (own file)', fmt(r.rows_per_s), fmt(r1.rows_per_s), fmt(rd.rows_per_s),
  ratio(r.rows_per_s, r1.rows_per_s), ratio(r.rows_per_s, rd.rows_per_s));
const f1 = pick('read', '1', 'floe'), fd = pick('read', 'default', 'floe');
row('full scan (floe file)', fmt(r.rows_per_s), fmt(f1.rows_per_s), fmt(fd.rows_per_s),
  ratio(r.rows_per_s, f1.rows_per_s), ratio(r.rows_per_s, fd.rows_per_s));
lines.push('');
lines.push(`rows: ${w.rows}; file bytes: floe ${fmt(w.bytes)}, duckdb ${fmt(w1.bytes)}`);
lines.push(`floe peak RSS (getrusage ru_maxrss) while writing: ${w.peak_rss_mib} MiB ` +
  `(includes the one 64K-row input batch); while reading: ${r.peak_rss_mib} MiB`);
lines.push(`targets: write >= 1.50x duckdb(1): ${w.rows_per_s >= 1.5 * w1.rows_per_s ? 'met' : 'NOT met'}; ` +
  `read >= 1.00x duckdb(1) on its own file: ${r.rows_per_s >= r1.rows_per_s ? 'met' : 'NOT met'}; ` +
  `peak write memory < 256 MiB: ${w.peak_rss_mib < 256 ? 'met' : 'NOT met'}`);
lines.push('generation: ' + w.generation);
console.log(lines.join('\n'));
JS

# With no arguments (`make bench`), the Iceberg table benchmark follows on the same N.
if [ $# -eq 0 ]; then
	echo >&2
	echo "bench: Iceberg table benchmark (scripts/bench_table.sh)" >&2
	"$root/scripts/bench_table.sh"
	echo "bench: row-level benchmark (scripts/bench_merge.sh)" >&2
	"$root/scripts/bench_merge.sh"
	echo "bench: streaming ingest benchmark (scripts/bench_ingest.sh)" >&2
	"$root/scripts/bench_ingest.sh"
	echo "bench: pipeline benchmark (scripts/bench_pipeline.sh)" >&2
	"$root/scripts/bench_pipeline.sh"
	echo "bench: SQL benchmark (scripts/bench_sql.sh)" >&2
	"$root/scripts/bench_sql.sh"
fi
