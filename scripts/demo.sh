#!/usr/bin/env bash
# The README's main-job command (`make demo`), until the Silver/Gold pipeline
# exists: the built-in simulator makes a past trading session (with a few
# faults) as rolled NDJSON files, `floe ingest` loads them exactly once into
# the Bronze table of a local warehouse (SQLite catalog) with bad records
# quarantined, then a live feed streams in for a few seconds; the table is
# queried with a pruned one-hour filter, its snapshot history shown, and
# travelled back in time; then the Parquet layer on its own. Safe to run
# again (starts from scratch).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make --no-print-directory all >/dev/null
floe=build/release/floe
out=build/demo
rm -rf "$out" && mkdir -p "$out"
rows=${DEMO_ROWS:-200000}
wh="$out/warehouse"
export FLOE_WAREHOUSE="$wh"

echo "== 1. The simulator: $rows trades of a past session, with faults ($out/in/)"
$floe simulate --count "$rows" --seed 42 --start 2026-11-20T14:30:00Z --sim-rate 20 \
	--faults dup=0.01,ooo=0.05,bad=0.001 --roll-events $(( (rows + 2) / 3 )) --to "$out/in/"
ls "$out/in" | sed 's/^/   /'
head -n 2 "$out/in/trades-000001.ndjson" | sed 's/^/   /'

echo
echo "== 2. floe ingest: Bronze table + quarantine in a local warehouse ($wh, SQLite catalog)"
$floe ingest bronze.trades --from "$out/in" --trigger available-now \
	--max-batch-rows $(( (rows + 2) / 3 )) 2>/dev/null | sed 's/^/   /'
echo "   again (nothing new: the table holds the position):"
$floe ingest bronze.trades --from "$out/in" --trigger available-now 2>/dev/null | sed 's/^/   /'
echo "   quarantined, with reasons:"
$floe scan bronze.trades_rejected --columns _reason,_offset --limit 4 --format csv | sed 's/^/   /'

echo
echo "== 3. A live feed for a few seconds: simulate -> ingest with a 1 s trigger"
$floe simulate --rate 5000 --count 15000 --symbols AAPL,MSFT |
	$floe ingest bronze.live --kind trades --from - --trigger 1s
echo "   $($floe scan bronze.live --columns trade_id --format csv | tail -n +2 | wc -l) rows in bronze.live"

echo
echo "== 4. Snapshot history of bronze.trades (source positions in each summary)"
$floe snapshots bronze.trades --format table
first=$($floe snapshots bronze.trades --format jsonl | head -n 1 | sed 's/.*"snapshot_id":\([0-9]*\).*/\1/')

echo
echo "== 5. One hour of TSLA trades: partitions, manifests and column bounds prune the files"
$floe scan bronze.trades --columns trade_id,symbol,price,volume,timestamp \
	--where "symbol = 'TSLA' and timestamp >= '2026-11-20T16:00:00Z' and timestamp < '2026-11-20T17:00:00Z'" \
	--limit 5 --format table --stats 2> "$out/stats.json"
echo "   scan statistics: $(cat "$out/stats.json")"

echo
echo "== 6. Time travel: rows now and as of the first batch (snapshot $first)"
now=$($floe scan bronze.trades --columns trade_id --format csv | tail -n +2 | wc -l)
then=$($floe scan bronze.trades --columns trade_id --snapshot "$first" --format csv | tail -n +2 | wc -l)
echo "   now: $now rows; as of snapshot $first: $then rows"

echo
echo "== 7. Schema evolution without rewriting data: add a column, old files read it as NULL"
$floe alter bronze.trades add-column venue string
$floe scan bronze.trades --columns trade_id,venue,price --limit 2 --format table

echo
echo "== 8. The data files (Parquet, readable by any engine)"
$floe files bronze.trades --format csv | head -n 4
echo "   ... $(( $($floe files bronze.trades --format csv | wc -l) - 1 )) files"

echo
echo "== 9. The Parquet layer alone: NDJSON -> Parquet (ZSTD, dictionary, page index, field ids)"
$floe scan bronze.trades --columns trade_id,symbol,price,volume,timestamp,trade_type,exchange \
	--format jsonl > "$out/clean.ndjson"
$floe parquet write "$out/trades.parquet" \
	--schema "trade_id string not null, symbol string not null, price double, volume long, timestamp timestamptz not null, trade_type string, exchange string" \
	--codec zstd --row-group-bytes 2000000 "$out/clean.ndjson"
ls -l "$out/clean.ndjson" "$out/trades.parquet" | awk '{print "   " $5 " bytes  " $9}'
$floe parquet inspect "$out/trades.parquet" > "$out/inspect.json"
echo "   footer as JSON in $out/inspect.json"

echo
echo "Done. Try: FLOE_WAREHOUSE=$wh $floe scan bronze.trades --where \"price > 300\" --limit 5"
echo "     and:  FLOE_WAREHOUSE=$wh $floe simulate --rate 1000 | $floe ingest bronze.live --kind trades --from -"
