#!/usr/bin/env bash
# Iceberg table benchmark: append N trades to a day(ts)-partitioned table (one
# commit, and a commit every 65,536 rows) next to a raw Parquet write of the same
# rows, commit latency of 200 small appends, a pruned one-hour scan and a full
# scan next to DuckDB over the same data files. floe is single-threaded.
# usage: scripts/bench_table.sh [N] (default 10000000)
# Env: BENCH_DIR (work folder, default build/bench-data; the table work goes in
# its table/ subfolder), BENCH_TARGET_BYTES (write.target-file-size-bytes,
# default 1048576), BENCH_REPEAT (best-of for the one-hour scans, default 2),
# BENCH_WRITE_REPEAT (best-of for the one-file raw write and the one-commit
# append, default 3).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${1:-10000000}
work=${BENCH_DIR:-build/bench-data}/table
target=${BENCH_TARGET_BYTES:-1048576}
repeat=${BENCH_REPEAT:-2}
write_repeat=${BENCH_WRITE_REPEAT:-3}
bin=build/release/bench/bench_table
peers=build/peers

make --no-print-directory >&2
scripts/deps.sh build test
rm -rf "$work"
mkdir -p "$work"
scripts/bench_peers.sh bench/duckdb_table.mjs

echo "bench: floe table, $n rows, target file size $target bytes -> $work" >&2
"$bin" "$work" "$n" --target-bytes "$target" --write-repeat "$write_repeat" | tee "$work/floe_table.jsonl" >&2
from=$(sed -n 's/.*"phase":"config".*"hour_from":"\([^"]*\)".*/\1/p' "$work/floe_table.jsonl")
to=$(sed -n 's/.*"phase":"config".*"hour_to":"\([^"]*\)".*/\1/p' "$work/floe_table.jsonl")
echo "bench: duckdb over the table's data files" >&2
node "$peers/duckdb_table.mjs" "$work/table_files.txt" "$from" "$to" --repeat "$repeat" |
	tee "$work/duckdb_table.jsonl" >&2

node - "$work" <<'JS'
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
const lines = (f) => fs.readFileSync(path.join(dir, f), 'utf8').trim().split('\n').map(JSON.parse);
const f = lines('floe_table.jsonl'), d = lines('duckdb_table.jsonl');
const ph = (p) => f.filter((x) => x.phase === p);
const dk = (op, label) => d.find((x) => x.op === op && x.threads_label === label);
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const ms = (x) => x.toFixed(2) + ' ms';
const ratio = (a, b) => (b ? (a / b).toFixed(2) + 'x' : 'n/a');
const best = (p) => ph(p).reduce((a, b) => (b.rows_per_s > a.rows_per_s ? b : a));
const raw = best('raw_write'), rolled = ph('raw_write_rolled')[0], byday = ph('raw_write_by_day')[0];
const one = best('append_one_commit'), many = ph('append_many_commits')[0];
const cl = ph('commit_latency')[0], cfg = ph('config')[0];
const hour = ph('scan_hour').reduce((a, b) => (b.seconds < a.seconds ? b : a));
const full = ph('scan_full')[0], hourMany = ph('scan_hour_many_commits')[0];
const h1 = dk('scan_hour', '1'), hd = dk('scan_hour', 'default');
const f1 = dk('scan_full', '1'), fd = dk('scan_full', 'default');
const out = [];
const row = (...c) => out.push('| ' + c.join(' | ') + ' |');
row('measure', 'floe', 'reference', 'floe / reference');
row('---', '---:', '---:', '---:');
row(`append ${fmt(one.rows)} rows, 1 commit (rows/s)`, fmt(one.rows_per_s),
  `raw Parquet write ${fmt(raw.rows_per_s)}`, ratio(one.rows_per_s, raw.rows_per_s));
row(`append, ${many.commits} commits of ${fmt(cfg.commit_rows)} rows (rows/s)`, fmt(many.rows_per_s),
  `raw Parquet write ${fmt(raw.rows_per_s)}`, ratio(many.rows_per_s, raw.rows_per_s));
row(`raw write rolled at ${fmt(cfg.target_file_bytes)} bytes (rows/s, ${rolled.files} files)`,
  fmt(rolled.rows_per_s), `raw Parquet write ${fmt(raw.rows_per_s)}`,
  ratio(rolled.rows_per_s, raw.rows_per_s));
row(`raw write, one file per day (rows/s, ${byday.files} files)`, fmt(byday.rows_per_s),
  `raw Parquet write ${fmt(raw.rows_per_s)}`, ratio(byday.rows_per_s, raw.rows_per_s));
row(`append ${fmt(one.rows)} rows, 1 commit (rows/s)`, fmt(one.rows_per_s),
  `raw write, one file per day ${fmt(byday.rows_per_s)}`, ratio(one.rows_per_s, byday.rows_per_s));
row(`commit latency, ${cl.appends} appends of ${fmt(cl.rows_each)} rows: p50 / p99`,
  `${ms(cl.commit_ms_p50)} / ${ms(cl.commit_ms_p99)}`, 'target p50 < 10 ms', '');
row(`commit latency in the ${many.commits}-commit append: p50 / p99`,
  `${ms(many.commit_ms_p50)} / ${ms(many.commit_ms_p99)}`, '', '');
row('one-hour scan: elapsed', ms(hour.ms), `DuckDB 1 thread ${ms(h1.ms)}`, ratio(h1.ms, hour.ms) + ' faster');
row('one-hour scan: elapsed', ms(hour.ms), `DuckDB default (${hd.threads} threads) ${ms(hd.ms)}`,
  ratio(hd.ms, hour.ms) + ' faster');
row('one-hour scan: matching rows/s', fmt(hour.rows_per_s), `DuckDB 1 thread ${fmt(h1.rows_per_s)}`,
  ratio(hour.rows_per_s, h1.rows_per_s));
row('one-hour scan: data files read / total', `${hour.files_read} / ${one.data_files} ` +
  `(${(100 * hour.files_read / one.data_files).toFixed(2)}%)`, `DuckDB opens all ${h1.files}`, '');
row('full scan (rows/s)', fmt(full.rows_per_s), `DuckDB 1 thread ${fmt(f1.rows_per_s)}`,
  ratio(full.rows_per_s, f1.rows_per_s));
row('full scan (rows/s)', fmt(full.rows_per_s), `DuckDB default ${fmt(fd.rows_per_s)}`,
  ratio(full.rows_per_s, fd.rows_per_s));
out.push('');
out.push(`data files: ${one.data_files} (${fmt(one.data_bytes)} bytes) after the 1-commit append; ` +
  `${many.data_files} after the ${many.commits}-commit append; raw file ${fmt(raw.bytes)} bytes`);
out.push(`one-hour window ${cfg.hour_from} .. ${cfg.hour_to}: ${fmt(hour.rows)} rows; ` +
  `files ${hour.files} in the manifests, ${hour.files_skipped} skipped, ${hour.files_read} read; ` +
  `rows decoded ${fmt(hour.rows_scanned)}; on the ${many.commits}-commit table ${ms(hourMany.ms)}, ` +
  `manifests ${hourMany.manifests} (${hourMany.manifests_skipped} skipped), files read ${hourMany.files_read}`);
out.push(`best of ${ph('raw_write').length} runs each: raw write ${ph('raw_write').map((x) => fmt(x.rows_per_s)).join(', ')}; ` +
  `1-commit append ${ph('append_one_commit').map((x) => fmt(x.rows_per_s)).join(', ')} rows/s`);
out.push(`commit of the 1-commit append (closes every open file): ${ms(one.commit_ms_p50)}; ` +
  `commit latency min / max ${ms(cl.commit_ms_min)} / ${ms(cl.commit_ms_max)}, ` +
  `whole begin..commit p50 / p99 ${ms(cl.append_total_ms_p50)} / ${ms(cl.append_total_ms_p99)}`);
out.push(`floe peak RSS (getrusage ru_maxrss, whole process, cumulative): after raw writes ` +
  `${rolled.peak_rss_mib} MiB, after appends ${many.peak_rss_mib} MiB, at the end ${cfg.peak_rss_mib} MiB`);
const same = (a, b) => a.rows === b.rows && String(a.string_bytes) === b.str_bytes;
out.push(`checks: DuckDB and floe agree on the rows and string bytes of the one-hour scan: ` +
  `${same(hour, h1) ? 'yes' : 'NO'}; of the full scan: ${same(full, f1) ? 'yes' : 'NO'}`);
out.push(`targets: append >= 0.80x raw write: ${one.rows_per_s >= 0.8 * raw.rows_per_s ? 'met' : 'NOT met'} ` +
  `(${ratio(one.rows_per_s, raw.rows_per_s)} of one big file, ${ratio(one.rows_per_s, byday.rows_per_s)} ` +
  `of the same files written by hand); commit p50 < 10 ms: ` +
  `${cl.commit_ms_p50 < 10 ? 'met' : 'NOT met'}; one-hour scan reads < 2% of the data files: ` +
  `${hour.files_read < 0.02 * one.data_files ? 'met' : 'NOT met'}`);
console.log(out.join('\n'));
JS
