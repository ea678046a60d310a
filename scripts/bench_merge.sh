#!/usr/bin/env bash
# Row-level benchmark: upserts of keyed trades (10% updates of recent trades)
# into an N-row table partitioned by day(ts), in merge-on-read and
# copy-on-write modes; read slowdown before and after compaction; the peak
# memory of a 1M-row MERGE; DuckDB upserting the same batches into a table
# with a primary key, and rewriting the files each compaction read, as
# references. floe is single-threaded.
# usage: scripts/bench_merge.sh [N] (default 10000000)
# Env: BENCH_DIR (work folder, default build/bench-data; this uses its
# merge/ subfolder), BENCH_BATCHES (default 10), BENCH_BATCH_ROWS (100000).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${1:-10000000}
work=${BENCH_DIR:-build/bench-data}/merge
batches=${BENCH_BATCHES:-10}
rows=${BENCH_BATCH_ROWS:-100000}
peers=build/peers
make --no-print-directory >&2
scripts/deps.sh build test
rm -rf "$work"
mkdir -p "$work/dump"
scripts/bench_peers.sh bench/duckdb_merge.mjs
echo "bench: merge, $n rows, $batches batches of $rows -> $work" >&2
build/release/bench/bench_merge "$work" "$n" --batches "$batches" --batch-rows "$rows" \
	--dump "$work/dump" | tee "$work/merge.jsonl" >&2
echo "bench: duckdb upserts of the same rows (INSERT OR REPLACE, primary key)" >&2
node "$peers/duckdb_merge.mjs" "$work/dump" | tee "$work/duckdb_merge.jsonl" >&2
node - "$work/merge.jsonl" "$work/duckdb_merge.jsonl" <<'JS'
const fs = require('fs');
const l = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map(JSON.parse);
const get = (p, m) => l.find((x) => x.phase === p && x.mode === m);
const dk = fs.readFileSync(process.argv[3], 'utf8').trim().split('\n').map(JSON.parse);
const d1 = dk.find((x) => x.threads_label === '1' && !x.phase), dd = dk.find((x) => x.threads_label === 'default');
const rw = (m) => dk.find((x) => x.phase === 'rewrite' && x.mode === m);
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const out = [];
const row = (...c) => out.push('| ' + c.join(' | ') + ' |');
row('measure', 'merge-on-read', 'copy-on-write');
row('---', '---:', '---:');
const m = get('summary', 'merge-on-read'), c = get('summary', 'copy-on-write');
const bm = get('big_merge', 'merge-on-read'), bc = get('big_merge', 'copy-on-write');
row(`upsert rows/s (${m.batches} x ${fmt(m.rows_merged / m.batches)} rows)`, fmt(m.rows_per_s), fmt(c.rows_per_s));
row('DuckDB INSERT OR REPLACE of the same batches, rows/s (1 thread / default)', `${fmt(d1.rows_per_s)} / ${fmt(dd.rows_per_s)}`, '');
row('floe / DuckDB 1 thread', (m.rows_per_s / d1.rows_per_s).toFixed(2) + 'x', (c.rows_per_s / d1.rows_per_s).toFixed(2) + 'x');
row('write amplification (bytes written / bytes of the rows as appended)', m.write_amplification.toFixed(2), c.write_amplification.toFixed(2));
row('data files rewritten / data files in the table at each merge', `${m.data_files_rewritten} / ${m.data_files_seen}`, `${c.data_files_rewritten} / ${c.data_files_seen}`);
row('full scan before the upserts (s)', m.scan_seconds_before.toFixed(3), c.scan_seconds_before.toFixed(3));
row('full scan after (s) / slowdown', `${m.scan_seconds_after.toFixed(3)} / ${m.read_slowdown.toFixed(2)}x`, `${c.scan_seconds_after.toFixed(3)} / ${c.read_slowdown.toFixed(2)}x`);
row('compaction: files in (of which copied row group by row group), seconds, MB/s read', `${m.compact_files} (${m.compact_files_copied}), ${m.compact_seconds.toFixed(3)}, ${m.compact_mb_per_s.toFixed(1)}`, `${c.compact_files} (${c.compact_files_copied}), ${c.compact_seconds.toFixed(3)}, ${c.compact_mb_per_s.toFixed(1)}`);
row('compaction: CPU s; MB/s per CPU s of file bytes / of bytes before compression', `${m.compact_cpu_seconds.toFixed(3)}; ${m.compact_mb_per_cpu_s.toFixed(1)} / ${m.compact_uncompressed_mb_per_cpu_s.toFixed(1)}`, `${c.compact_cpu_seconds.toFixed(3)}; ${c.compact_mb_per_cpu_s.toFixed(1)} / ${c.compact_uncompressed_mb_per_cpu_s.toFixed(1)}`);
const rm = rw('mor'), rc = rw('cow');
const rwc = (x) => (x ? `${x.files}, ${x.seconds.toFixed(3)}, ${x.mb_per_s.toFixed(1)}` : 'n/a');
row('DuckDB (1 thread) rewriting the same files as one Parquet file, no deletes applied: files, seconds, MB/s', rwc(rm), rwc(rc));
row('floe compaction / DuckDB rewrite, MB/s', rm ? (m.compact_mb_per_s / rm.mb_per_s).toFixed(2) + 'x' : 'n/a', rc ? (c.compact_mb_per_s / rc.mb_per_s).toFixed(2) + 'x' : 'n/a');
row('full scan after compaction (s) / slowdown', `${m.scan_seconds_compacted.toFixed(3)} / ${m.read_slowdown_compacted.toFixed(2)}x`, `${c.scan_seconds_compacted.toFixed(3)} / ${c.read_slowdown_compacted.toFixed(2)}x`);
row(`MERGE of ${fmt(bm.rows)} rows into ${fmt(bm.into_rows)}: rows/s`, fmt(bm.rows_per_s), fmt(bc.rows_per_s));
row('  its peak RSS (MiB; of which shared with the parent at fork)', `${bm.child_peak_rss_mib.toFixed(0)} (${bm.rss_at_fork_mib.toFixed(0)})`, `${bc.child_peak_rss_mib.toFixed(0)} (${bc.rss_at_fork_mib.toFixed(0)})`);
console.log(out.join('\n'));
const t = [];
t.push(`merge-on-read upserts >= 1M rows/s: ${m.rows_per_s >= 1e6 ? 'met' : 'NOT met'}`);
t.push(`copy-on-write rewrites only files holding keys: ${c.data_files_rewritten} of ${c.data_files_seen} files seen`);
const cub = Math.min(m.compact_uncompressed_mb_per_cpu_s, c.compact_uncompressed_mb_per_cpu_s);
t.push(`compaction >= 100 MB/s per core, counted in the bytes before compression (docs/performance.md): ${cub >= 100 ? 'met' : 'NOT met'} (${m.compact_uncompressed_mb_per_cpu_s.toFixed(1)} / ${c.compact_uncompressed_mb_per_cpu_s.toFixed(1)} MB per CPU s; of file bytes ${m.compact_mb_per_cpu_s.toFixed(1)} / ${c.compact_mb_per_cpu_s.toFixed(1)})`);
t.push(`1M-row MERGE under 512 MiB: ${Math.max(bm.child_peak_rss_mib, bc.child_peak_rss_mib) < 512 ? 'met' : 'NOT met'}`);
console.log('\ntargets: ' + t.join('; '));
JS
