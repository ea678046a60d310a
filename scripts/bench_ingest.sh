#!/usr/bin/env bash
# Streaming ingest benchmark: N simulated trades (`floe simulate`) into a
# Bronze table with `floe ingest`, from an NDJSON file and from a Kafka mock
# cluster (librdkafka's in-process mock, 127.0.0.1 only), with events/s per
# core (events / CPU seconds of the ingest process), bytes/s and peak memory;
# then freshness (event creation to committed snapshot) at a steady 10,000
# events/s with a 1 s trigger, through Kafka and through a pipe; and DuckDB's
# read_ndjson -> ZSTD Parquet on the same file in the same run (threads=1
# and default) for comparison. A summary table and the targets go to stdout.
# usage: scripts/bench_ingest.sh [N] (default 10000000)
# Env: BENCH_DIR (work folder, default build/bench-data; this uses its ingest/
# subfolder), BENCH_BUILD (build folder, default build/release),
# BENCH_KAFKA_EVENTS (events through Kafka, default N), BENCH_KAFKA_PARTITIONS
# (of the topic they go to, default 128), BENCH_KAFKA_CHUNK (0, the default:
# produce them all, then one ingest run drains the backlog; else rounds of
# produce + ingest of this many events), BENCH_FRESH_EVENTS (default 300000),
# BENCH_FRESH_RATE (events/s, default 10000), BENCH_REPEAT (DuckDB best-of,
# default 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${1:-10000000}
work=${BENCH_DIR:-build/bench-data}/ingest
bdir=${BENCH_BUILD:-build/release}
kafka_n=${BENCH_KAFKA_EVENTS:-$n}
chunk=${BENCH_KAFKA_CHUNK:-0}
parts=${BENCH_KAFKA_PARTITIONS:-128}
fresh_n=${BENCH_FRESH_EVENTS:-300000}
fresh_rate=${BENCH_FRESH_RATE:-10000}
repeat=${BENCH_REPEAT:-1}
peers=build/peers
floe=$bdir/floe
helper=$bdir/bench/bench_ingest_kafka
start_time=2026-11-20T14:30:00Z
timefmt='{"user":%U,"sys":%S,"wall":%e,"maxrss_kib":%M}'

[ "$chunk" = 0 ] && chunk=$kafka_n
for v in "$n" "$kafka_n" "$chunk" "$parts" "$fresh_n" "$fresh_rate"; do
	case "$v" in '' | *[!0-9]* | 0)
		echo "bench: '$v' is not a positive number (usage: scripts/bench_ingest.sh [N])" >&2
		exit 2 ;;
	esac
done

make --no-print-directory B="$bdir" >&2
scripts/deps.sh build test
mkdir -p "$work"
scripts/bench_peers.sh bench/duckdb_ingest.mjs

# Every background process is stopped by its PID when the script ends.
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT
# forget a process that has been waited for
reaped() {
	local keep=() p
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	pids=("${keep[@]}")
}

fail() {
	echo "bench: FAILED: $*" >&2
	exit 1
}

# total-records of the table's current snapshot (0 when it has none)
table_rows() {
	"$floe" snapshots "$2" --warehouse "$1" --format jsonl |
		node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
			const c=s.trim().split("\n").filter(Boolean).map(JSON.parse).find(x=>x.current);
			console.log(c?c.summary["total-records"]:0)})'
}

# "LOW HIGH": sums over a topic's partitions of the low watermarks (the
# oldest message the mock still keeps) and the high ones (every message ever
# produced)
topic_marks() {
	"$helper" watermarks "$bootstrap" "$1" | node -e 'let s="";
		process.stdin.on("data",d=>s+=d).on("end",()=>{const w=JSON.parse(s);
		console.log(w.low+" "+w.high)})'
}

# waits (up to $3 seconds) until status file $1 has a line matching node
# predicate $2 (on the parsed object x)
wait_status() {
	local file=$1 pred=$2 limit=$3 t=0
	until node -e 'const fs=require("fs");const l=fs.existsSync(process.argv[1])?
		fs.readFileSync(process.argv[1],"utf8").split("\n").filter(Boolean):[];
		const ok=l.some(s=>{try{const x=JSON.parse(s);return '"$pred"'}catch(e){return false}});
		process.exit(ok?0:1)' "$file"; do
		sleep 0.2
		t=$((t + 1))
		[ $t -lt $((limit * 5)) ] || return 1
	done
}

# 1. The trades, generated once per N (simulated clock, so byte-identical).
data=$work/trades.ndjson
gen_cmd="simulate --count $n --seed 42 --start $start_time"
if [ -f "$data" ] && [ "$(cat "$work/trades.cmd" 2>/dev/null)" = "$gen_cmd" ]; then
	echo "bench: reusing $data ($n trades)" >&2
else
	echo "bench: floe $gen_cmd --to $data" >&2
	rm -f "$data" "$work/trades.cmd"
	# shellcheck disable=SC2086
	"$floe" $gen_cmd --to "$data.part"
	mv "$data.part" "$data"
	echo "$gen_cmd" >"$work/trades.cmd"
fi
lines=$(wc -l <"$data")
[ "$lines" -eq "$n" ] || fail "$data has $lines lines, want $n"
data_bytes=$(stat -c %s "$data")

# 2. File source: one available-now run into a fresh warehouse.
echo "bench: floe ingest from the file ($data_bytes bytes)" >&2
rm -rf "$work/wh_file"
sync
/usr/bin/time -f "$timefmt" -o "$work/file_time.json" \
	"$floe" ingest bench.trades --warehouse "$work/wh_file" --from "$data" \
	--trigger available-now --json-status >"$work/file_ingest.out" 2>"$work/file_status.jsonl" ||
	fail "floe ingest from the file (see $work/file_status.jsonl)"
cat "$work/file_ingest.out" >&2
grep -q "^ingested $n rows into bench.trades, 0 rejected" "$work/file_ingest.out" ||
	fail "floe ingest did not report $n rows, 0 rejected"
rows=$(table_rows "$work/wh_file" bench.trades)
[ "$rows" -eq "$n" ] || fail "bench.trades holds $rows rows, want $n"
cat "$work/file_time.json" >&2

# 3. DuckDB on the same file.
for t in 1 default; do
	echo "bench: duckdb read_ndjson -> parquet, threads=$t" >&2
	node "$peers/duckdb_ingest.mjs" "$data" "$work/duckdb_t$t.parquet" --threads "$t" \
		--repeat "$repeat" | tee "$work/duckdb_t$t.json" >&2
done
rm -f "$work"/duckdb_t*.parquet

# 4. Kafka source: produce the events with `floe simulate`, check what the
# topic received, ingest them (available-now); by default all N at once, so
# one run drains a backlog of N (or in rounds, BENCH_KAFKA_CHUNK). The 2.0.2
# mock keeps at most 5 MiB / 100,000 message sets per partition and drops
# older data, hence the many partitions; a drop fails the run.
echo "bench: kafka mock cluster (topics trades:$parts, fresh:16, empty:16)" >&2
"$helper" mock "trades:$parts" fresh:16 empty:16 >"$work/mock.out" 2>"$work/mock.err" &
mock_pid=$!
pids+=("$mock_pid")
for _ in $(seq 50); do
	[ -s "$work/mock.out" ] && break
	sleep 0.1
done
bootstrap=$(head -1 "$work/mock.out")
[ -n "$bootstrap" ] || fail "the mock cluster did not start ($(cat "$work/mock.err"))"
url=kafka://$bootstrap/trades
# The fixed cost of one run (start, the mock's 3 s group join, bound, close):
# an available-now run over an empty topic, to estimate the wall time spent
# on records.
rm -rf "$work/wh_empty"
/usr/bin/time -f "$timefmt" -o "$work/kafka_empty_time.json" \
	"$floe" ingest bench.empty --kind trades --warehouse "$work/wh_empty" \
	--from "kafka://$bootstrap/empty" --group bench-empty --trigger available-now \
	--json-status >/dev/null 2>"$work/kafka_empty_status.jsonl" ||
	fail "floe ingest from an empty topic (see $work/kafka_empty_status.jsonl)"
rm -rf "$work/wh_kafka"
: >"$work/kafka_runs.jsonl"
done_n=0
i=0
while [ "$done_n" -lt "$kafka_n" ]; do
	c=$((kafka_n - done_n < chunk ? kafka_n - done_n : chunk))
	read -r _ before < <(topic_marks trades)
	# each round continues the simulated clock (1,000 events per simulated
	# second; trade ids restart at 1). The key is the symbol (5 of them by
	# default): the random partitioner spreads the messages over every
	# partition so that they fit the mock's limits.
	echo "bench: floe simulate --count $c --to $url" >&2
	t0=$(date +%s%N)
	"$floe" simulate --count "$c" --seed $((42 + i)) \
		--start "$(date -u -d "@$(($(date -d "$start_time" +%s) + done_n / 1000))" +%Y-%m-%dT%H:%M:%SZ)" \
		--to "$url" --kafka-conf partitioner=random || fail "floe simulate --to $url (round $i)"
	t1=$(date +%s%N)
	read -r low high < <(topic_marks trades)
	[ $((high - before)) -eq "$c" ] ||
		fail "round $i: the topic received $((high - before)) events, want $c"
	[ "$low" -le "$done_n" ] ||
		fail "the mock cluster dropped $((low - done_n)) events not yet read (its 5 MiB per" \
			"partition limit): raise BENCH_KAFKA_PARTITIONS or set BENCH_KAFKA_CHUNK"
	echo "bench: floe ingest from $url" >&2
	/usr/bin/time -f "$timefmt" -o "$work/kafka_time.json" \
		"$floe" ingest bench.trades --warehouse "$work/wh_kafka" --from "$url" \
		--group "bench-ingest-$i" --trigger available-now --json-status \
		>"$work/kafka_ingest.out" 2>"$work/kafka_status.jsonl" ||
		fail "floe ingest from $url (round $i; see $work/kafka_status.jsonl)"
	grep -q "^ingested $c rows into bench.trades, 0 rejected" "$work/kafka_ingest.out" ||
		fail "round $i: $(cat "$work/kafka_ingest.out"), want $c rows"
	done_n=$((done_n + c))
	node -e 'const fs=require("fs");const t=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));
		const st=fs.readFileSync(process.argv[2],"utf8").trim().split("\n").map(JSON.parse)
			.filter(x=>x.event==="stop").pop();
		console.log(JSON.stringify({round:+process.argv[3],events:+process.argv[4],
			produce_s:+process.argv[5],...t,bytes:st.bytes,batches:st.batches,
			peak_rss_bytes:st.peak_rss_bytes}))' \
		"$work/kafka_time.json" "$work/kafka_status.jsonl" "$i" "$c" \
		"$(((t1 - t0) / 1000000))e-3" | tee -a "$work/kafka_runs.jsonl" >&2
	i=$((i + 1))
done
rows=$(table_rows "$work/wh_kafka" bench.trades)
[ "$rows" -eq "$kafka_n" ] || fail "the Kafka-fed bench.trades holds $rows rows, want $kafka_n"

# 5. Freshness at a steady rate with a 1 s trigger (real-time clock: an
# event's timestamp is its creation time). Through Kafka first.
echo "bench: freshness through kafka, $fresh_n events at $fresh_rate/s" >&2
rm -rf "$work/wh_fresh"
"$floe" ingest bench.fresh --warehouse "$work/wh_fresh" --from "kafka://$bootstrap/fresh" \
	--kind trades --group bench-fresh --trigger 1s --json-status \
	>"$work/fresh_kafka.out" 2>"$work/fresh_kafka.jsonl" &
ipid=$!
pids+=("$ipid")
# start producing once the consumer has its partitions (lag known)
wait_status "$work/fresh_kafka.jsonl" 'x.event==="idle"&&x.lag>=0' 60 ||
	fail "floe ingest did not join the consumer group within 60 s"
"$floe" simulate --rate "$fresh_rate" --count "$fresh_n" --seed 7 \
	--to "kafka://$bootstrap/fresh" || fail "floe simulate --rate $fresh_rate --to kafka"
wait_status "$work/fresh_kafka.jsonl" "x.event===\"commit\"&&x.rows>=$fresh_n" 60 ||
	fail "the last freshness rows did not arrive within 60 s"
kill -TERM "$ipid"
wait "$ipid" || fail "floe ingest (freshness, kafka) exited with an error"
reaped "$ipid"
grep -q "^ingested $fresh_n rows" "$work/fresh_kafka.out" ||
	fail "freshness (kafka): $(cat "$work/fresh_kafka.out"), want $fresh_n rows"
rows=$(table_rows "$work/wh_fresh" bench.fresh)
[ "$rows" -eq "$fresh_n" ] || fail "bench.fresh holds $rows rows, want $fresh_n"

# Then through a pipe (the file-path figure): simulate | ingest --from -.
echo "bench: freshness through a pipe, $fresh_n events at $fresh_rate/s" >&2
rm -rf "$work/wh_pipe" "$work/pipe"
mkfifo "$work/pipe"
"$floe" ingest bench.fresh --warehouse "$work/wh_pipe" --from - --kind trades --trigger 1s \
	--json-status <"$work/pipe" >"$work/fresh_pipe.out" 2>"$work/fresh_pipe.jsonl" &
ipid=$!
pids+=("$ipid")
"$floe" simulate --rate "$fresh_rate" --count "$fresh_n" --seed 7 >"$work/pipe" ||
	fail "floe simulate --rate $fresh_rate (pipe)"
wait_status "$work/fresh_pipe.jsonl" "x.event===\"commit\"&&x.rows>=$fresh_n||x.event===\"stop\"" 60 ||
	fail "the last freshness rows did not arrive within 60 s (pipe)"
kill -TERM "$ipid" 2>/dev/null || true # it may have stopped at the end of its input
wait "$ipid" || fail "floe ingest (freshness, pipe) exited with an error"
reaped "$ipid"
rm -f "$work/pipe"
grep -q "^ingested $fresh_n rows" "$work/fresh_pipe.out" ||
	fail "freshness (pipe): $(cat "$work/fresh_pipe.out"), want $fresh_n rows"
rows=$(table_rows "$work/wh_pipe" bench.fresh)
[ "$rows" -eq "$fresh_n" ] || fail "bench.fresh (pipe) holds $rows rows, want $fresh_n"

kill -TERM "$mock_pid"
wait "$mock_pid" || true
reaped "$mock_pid"

# 6. Summary.
node - "$work" "$n" "$data_bytes" "$fresh_rate" <<'JS'
const fs = require('fs'), path = require('path');
const [dir, nArg, bytesArg, rateArg] = process.argv.slice(2);
const n = Number(nArg), fileBytes = Number(bytesArg);
const rd = (f) => fs.readFileSync(path.join(dir, f), 'utf8');
const jl = (f) => rd(f).trim().split('\n').filter(Boolean).map(JSON.parse);
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const mib = (b) => (b / 1048576).toFixed(1);
const mbs = (b, s) => (b / s / 1e6).toFixed(1);
const median = (a) => { const s = [...a].sort((x, y) => x - y), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

const ft = JSON.parse(rd('file_time.json'));
const fstop = jl('file_status.jsonl').filter((x) => x.event === 'stop').pop();
const fcpu = ft.user + ft.sys;
const d1 = JSON.parse(rd('duckdb_t1.json')), dd = JSON.parse(rd('duckdb_tdefault.json'));
const ch = jl('kafka_runs.jsonl');
const sum = (k) => ch.reduce((a, x) => a + x[k], 0);
const kn = sum('events'), kcpu = sum('user') + sum('sys'), kwall = sum('wall');
const kbytes = sum('bytes'), kprod = sum('produce_s');
const krss = Math.max(...ch.map((x) => x.maxrss_kib * 1024));
const kfixed = JSON.parse(rd('kafka_empty_time.json')).wall;
const kwallRec = Math.max(kwall - ch.length * kfixed, 0.001);

function fresh(f) {
  const l = jl(f);
  const c = l.filter((x) => x.event === 'commit' && x.batch_rows > 0);
  const stop = l.filter((x) => x.event === 'stop').pop();
  return { batches: c.length, p50: median(c.map((x) => x.freshness_p50_ms)),
    p99: Math.max(...c.map((x) => x.freshness_p99_ms)),
    p99med: median(c.map((x) => x.freshness_p99_ms)), rss: stop.peak_rss_bytes };
}
const fk = fresh('fresh_kafka.jsonl'), fp = fresh('fresh_pipe.jsonl');

const out = [];
const row = (...c) => out.push('| ' + c.join(' | ') + ' |');
row('measure', 'file (NDJSON)', 'Kafka (mock cluster)');
row('---', '---:', '---:');
row('events', fmt(n), fmt(kn) + (ch.length > 1 ? ` in ${ch.length} rounds of produce + ingest` :
  ' (one backlog, one run)'));
row('events/s per core (events / CPU s of floe ingest)', fmt(n / fcpu), fmt(kn / kcpu));
row('CPU seconds (user + sys)', `${fcpu.toFixed(2)} (${ft.user.toFixed(2)} + ${ft.sys.toFixed(2)})`,
  `${kcpu.toFixed(2)} (${sum('user').toFixed(2)} + ${sum('sys').toFixed(2)})`);
row('wall seconds', ft.wall.toFixed(2), `${kwall.toFixed(2)} (${ch.length} run${ch.length > 1 ? 's' : ''}; a run over an ` +
  `empty topic takes ${kfixed.toFixed(2)} s: start, group join, close)`);
row('events/s wall', fmt(n / ft.wall), `${fmt(kn / kwall)}; without the fixed cost of each ` +
  `run: ${fmt(kn / kwallRec)}`);
row('MB/s (input bytes / wall s)', `${mbs(fileBytes, ft.wall)} (file ${fmt(fileBytes)} bytes)`,
  `${mbs(kbytes, kwall)}; without the fixed cost: ${mbs(kbytes, kwallRec)} (payload ` +
  `${fmt(kbytes)} bytes)`);
row('MB/s per core (input bytes / CPU s)', mbs(fileBytes, fcpu), mbs(kbytes, kcpu));
row('batches (commits)', fstop.batches, sum('batches'));
row('peak RSS (MiB, max resident of the process)', mib(ft.maxrss_kib * 1024), mib(krss));
out.push('');
out.push(`producing into the mock (floe simulate --to kafka://, not part of the figures): ` +
  `${fmt(kn / kprod)} events/s`);
out.push('');
row('DuckDB read_ndjson -> ZSTD Parquet, same file', 'rows/s (wall)', 'rows per CPU s',
  'floe/DuckDB (floe file events/s wall)', 'peak RSS of the node process (MiB)');
row('---', '---:', '---:', '---:', '---:');
for (const d of [d1, dd])
  row(`threads = ${d.threads} (${d.threads_label})`, fmt(d.rows_per_s), fmt(d.rows_per_cpu_s),
    ((n / ft.wall) / d.rows_per_s).toFixed(2) + 'x', d.peak_rss_mib);
if (d1.rows !== n || dd.rows !== n) out.push(`WARNING: DuckDB wrote ${d1.rows} / ${dd.rows} rows, want ${n}`);
out.push('');
row(`freshness at ${fmt(Number(rateArg))} events/s, 1 s trigger`, 'batches',
  'median of batch p50 (ms)', 'max of batch p99 (ms)', 'median of batch p99 (ms)', 'peak RSS (MiB)');
row('---', '---:', '---:', '---:', '---:', '---:');
row('Kafka', fk.batches, fk.p50.toFixed(0), fk.p99.toFixed(0), fk.p99med.toFixed(0), mib(fk.rss));
row('pipe (simulate piped into ingest --from -)', fp.batches, fp.p50.toFixed(0), fp.p99.toFixed(0),
  fp.p99med.toFixed(0), mib(fp.rss));
console.log(out.join('\n'));
const peak = Math.max(ft.maxrss_kib * 1024, krss, fk.rss, fp.rss);
const met = (ok) => (ok ? 'met' : 'NOT met');
const t = [];
t.push(`file >= 1,000,000 events/s per core: ${met(n / fcpu >= 1e6)} (${fmt(n / fcpu)})`);
t.push(`Kafka >= 500,000 events/s per core: ${met(kn / kcpu >= 5e5)} (${fmt(kn / kcpu)})`);
t.push(`freshness p99 < 2 s: ${met(Math.max(fk.p99, fp.p99) < 2000)} ` +
  `(Kafka ${fk.p99.toFixed(0)} ms, pipe ${fp.p99.toFixed(0)} ms)`);
t.push(`peak memory < 256 MiB: ${met(peak < 256 * 1048576)} (file ${mib(ft.maxrss_kib * 1024)}, ` +
  `Kafka ${mib(krss)}, freshness runs ${mib(fk.rss)} / ${mib(fp.rss)} MiB)`);
console.log('\ntargets: ' + t.join('; '));
JS
