#!/usr/bin/env bash
# Pipeline benchmark: the reference stock pipeline (examples/stock/pipeline.yaml)
#  1. backfill of N simulated trades (with duplicates, late, out-of-order and
#     malformed events) through Bronze -> Silver -> Gold (bars_1m, bars_5m,
#     features): events/s per core (events / CPU seconds of the process),
#     wall time, peak memory; and DuckDB doing the same transformations in SQL
#     over the same NDJSON in the same run (threads=1 and default);
#  2. streaming at a steady rate (default 10,000 events/s, trades and quotes)
#     with a 1 s trigger: end-to-end freshness from event time to the Gold
#     commit that holds it, p50/p99.
# usage: scripts/bench_pipeline.sh [N] (default 10000000)
# Env: BENCH_DIR (default build/bench-data; uses its pipeline/ subfolder),
# BENCH_BUILD (default build/release), BENCH_STREAM_SECONDS (default 60),
# BENCH_STREAM_RATE (events/s, default 10000).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${1:-10000000}
work=${BENCH_DIR:-build/bench-data}/pipeline
bdir=${BENCH_BUILD:-build/release}
secs=${BENCH_STREAM_SECONDS:-60}
rate=${BENCH_STREAM_RATE:-10000}
peers=build/peers
floe=$root/$bdir/floe
timefmt='{"user":%U,"sys":%S,"wall":%e,"maxrss_kib":%M}'
for v in "$n" "$secs" "$rate"; do
	case "$v" in '' | *[!0-9]* | 0)
		echo "bench: '$v' is not a positive number (usage: scripts/bench_pipeline.sh [N])" >&2
		exit 2 ;;
	esac
done

make --no-print-directory B="$bdir" >&2
scripts/deps.sh build test
scripts/bench_peers.sh bench/duckdb_pipeline.mjs
rm -rf "$work"
mkdir -p "$work/backfill" "$work/stream"

trades="$work/trades.ndjson"
echo "bench: simulating $n trades -> $trades" >&2
"$floe" simulate --count "$n" --seed 7 --start 2026-11-20T14:30:00Z --sim-rate 1000 \
	--faults dup=0.01,ooo=0.02,late=0.005,bad=0.001 --to "$trades"

echo "bench: floe run --backfill (Bronze -> Silver -> Gold)" >&2
cp examples/stock/pipeline.yaml "$work/backfill/pipeline.yaml"
/usr/bin/time -f "$timefmt" -o "$work/floe_backfill.time" \
	"$floe" run "$work/backfill/pipeline.yaml" --warehouse "$work/backfill/wh" \
	--backfill "trades=$trades" --json-status 2> "$work/floe_backfill.log" | tee "$work/floe_backfill.out" >&2
for t in bronze.trades silver.trades gold.bars_1m gold.bars_5m gold.features; do
	printf '%s %s\n' "$t" "$("$floe" scan "$t" --warehouse "$work/backfill/wh" --columns symbol \
		--format csv | tail -n +2 | wc -l)"
done > "$work/floe_rows.txt"
cat "$work/floe_rows.txt" >&2

echo "bench: duckdb (same transformations in SQL, same NDJSON)" >&2
node "$peers/duckdb_pipeline.mjs" "$trades" --threads 1 > "$work/duckdb_1.json"
node "$peers/duckdb_pipeline.mjs" "$trades" --threads default > "$work/duckdb_d.json"
cat "$work/duckdb_1.json" "$work/duckdb_d.json" >&2

echo "bench: streaming ${secs}s at $rate events/s with a 1 s trigger" >&2
sed -e "s/^  rate: .*/  rate: $rate/" examples/stock/pipeline.yaml > "$work/stream/pipeline.yaml"
/usr/bin/time -f "$timefmt" -o "$work/floe_stream.time" \
	"$floe" run "$work/stream/pipeline.yaml" --warehouse "$work/stream/wh" --simulate \
	--duration "${secs}s" --trigger 1s --json-status 2> "$work/floe_stream.log" |
	tee "$work/floe_stream.out" >&2

node - "$work" "$n" "$secs" "$rate" <<'JS'
const fs = require('fs'), path = require('path');
const [dir, n, secs, rate] = process.argv.slice(2);
const tm = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const b = tm('floe_backfill.time'), s = tm('floe_stream.time');
const d1 = tm('duckdb_1.json'), dd = tm('duckdb_d.json');
const out = fs.readFileSync(path.join(dir, 'floe_stream.out'), 'utf8');
const m = out.match(/Gold freshness p50 (\d+) ms, p99 (\d+) ms/);
const ev = Number(n), cpu = b.user + b.sys;
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const perCore = ev / cpu;
const lines = [];
lines.push('| run | events | wall s | CPU s | events/s per core | events/s wall | peak RSS MiB |');
lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
lines.push(`| floe backfill | ${fmt(ev)} | ${b.wall.toFixed(1)} | ${cpu.toFixed(1)} | ${fmt(perCore)} | ${fmt(ev / b.wall)} | ${(b.maxrss_kib / 1024).toFixed(0)} |`);
for (const d of [d1, dd])
  lines.push(`| duckdb threads=${d.threads} | ${fmt(d.events)} | ${d.wall_s.toFixed(1)} | ${d.cpu_s.toFixed(1)} | ${fmt(d.events / d.cpu_s)} | ${fmt(d.events / d.wall_s)} | ${(d.peak_rss_bytes / 1048576).toFixed(0)} |`);
lines.push('');
lines.push(`floe/duckdb(1 thread) per core: ${(perCore / (d1.events / d1.cpu_s)).toFixed(2)}x; wall vs duckdb(default): ${((ev / b.wall) / (dd.events / dd.wall_s)).toFixed(2)}x`);
lines.push(`rows: ${fs.readFileSync(path.join(dir, 'floe_rows.txt'), 'utf8').trim().replace(/\n/g, ', ')}`);
lines.push(`stream: ${secs}s at ${rate} events/s, 1 s trigger: Gold freshness p50 ${m ? m[1] : '?'} ms, p99 ${m ? m[2] : '?'} ms; peak RSS ${(s.maxrss_kib / 1024).toFixed(0)} MiB (incl. nothing of the simulator, a child process)`);
const p99 = m ? Number(m[2]) : Infinity;
lines.push(`targets: backfill >= 500,000 events/s per core: ${perCore >= 500000 ? 'met' : 'NOT met'}; ` +
  `freshness p99 < 3 s: ${p99 < 3000 ? 'met' : 'NOT met'}; peak memory < 512 MiB: ` +
  `${Math.max(b.maxrss_kib, s.maxrss_kib) / 1024 < 512 ? 'met' : 'NOT met'}`);
console.log(lines.join('\n'));
JS
