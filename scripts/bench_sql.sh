#!/usr/bin/env bash
# SQL benchmark: dashboard and report queries over the reference pipeline's
# silver.trades (N simulated trades) and gold.bars_1m, through floe's SQLite
# layer (bench/bench_sql.c, in-process) and DuckDB over the same tables' live
# Parquet files (bench/duckdb_sql.mjs, threads=1 and default) in the same
# run: p50/p99 of each query, the ratios, what floe's scans read and
# skipped, a check that both engines return the same rows, and the targets.
# The warehouse is built once by `floe simulate` + `floe run --backfill` and
# kept under a key of its inputs (BENCH_REBUILD=1 builds it again).
# usage: scripts/bench_sql.sh [N] (default 10000000)
# Env: BENCH_DIR (default build/bench-data; uses its sql/ subfolder),
# BENCH_BUILD (default build/release), BENCH_RUNS (runs per query, the first
# not counted; default 30), BENCH_SYMBOLS (default 100), BENCH_SIM_RATE
# (trades per simulated second, default 30: 10M trades cover ~3.9 days),
# BENCH_SPLITS (1 = also time the parts of the slow queries; default 1),
# BENCH_REBUILD (1 = rebuild the warehouse).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${1:-10000000}
work=${BENCH_DIR:-build/bench-data}/sql
bdir=${BENCH_BUILD:-build/release}
runs=${BENCH_RUNS:-30}
symbols=${BENCH_SYMBOLS:-100}
simrate=${BENCH_SIM_RATE:-30}
splits=${BENCH_SPLITS:-1}
start=2026-11-20T00:00:00Z
seed=7
faults=dup=0.01,ooo=0.02,late=0.005,bad=0.001
peers=build/peers
floe=$root/$bdir/floe
timefmt='{"user":%U,"sys":%S,"wall":%e,"maxrss_kib":%M}'
for v in "$n" "$runs" "$symbols" "$simrate"; do
	case "$v" in '' | *[!0-9]* | 0)
		echo "bench: '$v' is not a positive number (usage: scripts/bench_sql.sh [N])" >&2
		exit 2 ;;
	esac
done

make --no-print-directory B="$bdir" >&2
scripts/deps.sh build test
scripts/bench_peers.sh bench/duckdb_sql.mjs
mkdir -p "$work"

# ---- the warehouse, built once per key --------------------------------------
key="n=$n seed=$seed start=$start sim-rate=$simrate symbols=$symbols faults=$faults"
key="$key pipeline=$(sha256sum examples/stock/pipeline.yaml | cut -c1-16)"
wh="$work/wh"
built=0
if [ "${BENCH_REBUILD:-0}" = 1 ] || [ ! -f "$work/key" ] || [ "$(cat "$work/key")" != "$key" ]; then
	rm -rf "$wh" "$work/key" "$work/backfill.time"
	trades="$work/trades.ndjson"
	echo "bench: simulating $n trades ($symbols symbols, $simrate per simulated second from $start) -> $trades" >&2
	"$floe" simulate --count "$n" --seed "$seed" --start "$start" --sim-rate "$simrate" \
		--symbols "$symbols" --faults "$faults" --to "$trades"
	echo "bench: floe run --backfill (Bronze -> Silver -> Gold) into $wh" >&2
	cp examples/stock/pipeline.yaml "$work/pipeline.yaml"
	/usr/bin/time -f "$timefmt" -o "$work/backfill.time" \
		"$floe" run "$work/pipeline.yaml" --warehouse "$wh" --backfill "trades=$trades" \
		--json-status 2> "$work/backfill.log" >&2
	rm -f "$trades"
	printf '%s\n' "$key" > "$work/key"
	built=1
else
	echo "bench: reusing $wh ($key)" >&2
fi

# ---- floe, then DuckDB, one after the other ----------------------------------
split_arg=()
[ "$splits" = 1 ] && split_arg=(--splits)
echo "bench: floe SQL ($runs runs per query)" >&2
"$root/$bdir/bench/bench_sql" "$wh" --runs "$runs" "${split_arg[@]}" > "$work/floe_sql.jsonl"
params=$(head -n 1 "$work/floe_sql.jsonl")
param() { node -e 'const p = JSON.parse(process.argv[1]).params; console.log(p[process.argv[2]])' "$params" "$1"; }
meta() { "$floe" describe "$1" --warehouse "$wh" | node -e \
	'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s)["metadata-location"]))'; }
echo "bench: DuckDB ($runs runs per query, threads=1 and default)" >&2
node "$peers/duckdb_sql.mjs" --table "silver.trades=$(meta silver.trades)" \
	--table "gold.bars_1m=$(meta gold.bars_1m)" --symbol "$(param symbol)" --day "$(param day)" \
	--next-day "$(param next_day)" --since "$(param since)" --runs "$runs" > "$work/duckdb_sql.jsonl"

# ---- the table ----------------------------------------------------------------
node - "$work" "$built" <<'JS'
const fs = require('fs'), path = require('path');
const [dir, built] = process.argv.slice(2);
const lines = (f) => fs.readFileSync(path.join(dir, f), 'utf8').trim().split('\n').map(JSON.parse);
const fl = lines('floe_sql.jsonl'), dk = lines('duckdb_sql.jsonl');
const head = fl[0], queries = fl.filter((x) => x.query), splits = fl.filter((x) => x.split);
const duck = (q, label) => dk.find((x) => x.query === q && x.threads_label === label);
const ms = (x) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const ratio = (a, b) => (b ? (a / b).toFixed(1) + 'x' : 'n/a');
const fmt = (x) => Math.round(x).toLocaleString('en-US');

// Same rows from both engines: strings and integers equal, reals within
// 1e-9 relative (sums are added in different orders).
function same(a, b) {
  if (!a || !b || a.length !== b.length) return `${a ? a.length : '?'} vs ${b ? b.length : '?'} rows`;
  for (let i = 0; i < a.length; i++) {
    if (a[i].length !== b[i].length) return `row ${i}: ${a[i].length} vs ${b[i].length} columns`;
    for (let j = 0; j < a[i].length; j++) {
      const x = a[i][j], y = b[i][j];
      if (typeof x === 'number' && typeof y === 'number') {
        if (Math.abs(x - y) > 1e-9 * Math.max(1, Math.abs(x), Math.abs(y)))
          return `row ${i} column ${j}: ${x} vs ${y}`;
      } else if (x !== y) return `row ${i} column ${j}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`;
    }
  }
  return null;
}

const out = [];
const d1Threads = (dk.find((x) => x.threads_label === 'default') || {}).threads;
out.push(`| query | floe p50 / p99 ms | DuckDB 1 thread p50 / p99 ms | DuckDB default (${d1Threads} threads) p50 / p99 ms | floe / DuckDB(1) p50 | floe / DuckDB(default) p50 | floe data files read / skipped (scans) | rows scanned by floe | same rows |`);
out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
const checks = [];
for (const q of queries) {
  const a = duck(q.query, '1'), b = duck(q.query, 'default');
  const diff = !a ? 'no DuckDB result' : q.result_rows !== a.result_rows
    ? `${fmt(q.result_rows)} rows from floe, ${fmt(a.result_rows)} from DuckDB` : same(q.result, a.result);
  if (diff) checks.push(`${q.query}: ${diff}`);
  out.push(`| ${q.query} | ${ms(q.p50_ms)} / ${ms(q.p99_ms)} | ${a ? ms(a.p50_ms) + ' / ' + ms(a.p99_ms) : 'n/a'} | ` +
    `${b ? ms(b.p50_ms) + ' / ' + ms(b.p99_ms) : 'n/a'} | ${a ? ratio(q.p50_ms, a.p50_ms) : 'n/a'} | ` +
    `${b ? ratio(q.p50_ms, b.p50_ms) : 'n/a'} | ${q.files_read} / ${q.files_skipped} (${q.scans}) | ` +
    `${fmt(q.rows_scanned)} | ${diff ? 'NO' : 'yes'} |`);
}
out.push('');
const p = head.params;
out.push(`parameters: symbol ${p.symbol}, day ${p.day}, newest bar ${p.newest_bar}, last hour from ${p.since}; ` +
  `live data files: silver.trades ${head.silver_trades_files}, gold.bars_1m ${head.gold_bars_1m_files}; ` +
  `${queries[0] ? queries[0].runs : 0} timed runs per query after one warm-up (p99 nearest rank: ` +
  `the slowest run when there are fewer than 100)`);
for (const q of queries) {
  const sc = q.scan_list.map((s) => `${s.table}${s.times > 1 ? ' x' + s.times : ''} [${s.where || 'no filter'}] ` +
    `${s.columns} cols, ${s.files_read} files, ${fmt(s.rows_scanned)} rows, ${fmt(s.bytes_read)} B`).join('; ');
  out.push(`floe scans of ${q.query}: ${sc}`);
}
if (splits.length) {
  out.push('');
  out.push('| where the time goes (floe, p50) | ms | rows |');
  out.push('| --- | ---: | ---: |');
  for (const s of splits) {
    const extra = s.open_p50_ms !== undefined ? ` (plan ${ms(s.open_p50_ms)} + decode ${ms(s.decode_p50_ms)})` : '';
    const what = s.sql ? s.sql.replace(/\|/g, '\\|') : `${s.table} [${s.where || 'no filter'}] ${s.columns} cols` +
      (s.batch_rows > 0 ? `, batches of ${s.batch_rows} row(s)` : '');
    out.push(`| ${s.split}: ${s.part}: ${what} | ${ms(s.p50_ms)}${extra} | ${fmt(s.result_rows ?? s.rows)} |`);
  }
}
out.push('');
const dash = queries.filter((q) => q.dashboard);
const slow = dash.filter((q) => q.p99_ms >= 50);
const vw = queries.find((q) => q.query === 'vwap_day'), vw1 = vw && duck('vwap_day', '1');
out.push(`targets: dashboard queries p99 < 50 ms: ${slow.length ? 'NOT met (' + slow.map((q) => `${q.query} ${ms(q.p99_ms)} ms`).join(', ') + ')' : 'met'}; ` +
  `full-day VWAP within 3x of DuckDB(1): ${vw && vw1 ? (vw.p50_ms <= 3 * vw1.p50_ms ? 'met' : 'NOT met') + ` (${ratio(vw.p50_ms, vw1.p50_ms)})` : 'n/a'}; ` +
  `same rows: ${checks.length ? 'NO: ' + checks.join('; ') : 'all queries'}`);
const bt = path.join(dir, 'backfill.time');
if (fs.existsSync(bt)) {
  const b = JSON.parse(fs.readFileSync(bt, 'utf8'));
  out.push(`warehouse: ${built === '1' ? 'built in this run' : 'reused (built by an earlier run)'}; ` +
    `floe run --backfill took ${b.wall.toFixed(1)} s wall, ${(b.user + b.sys).toFixed(1)} s CPU`);
}
console.log(out.join('\n'));
if (checks.length) process.exitCode = 1;
JS
