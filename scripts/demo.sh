#!/usr/bin/env bash
# The README's main-job command (`make demo`): the reference stock-trading
# pipeline (examples/stock/pipeline.yaml) in a local warehouse with a
# SQLite catalog. A past session from the built-in simulator is backfilled
# Bronze -> Silver -> Gold; then the simulator streams live events through
# the same steps for a while with a live progress view; then a few Gold
# rows, the snapshot history and a time-travel comparison. Starts from
# scratch on every run.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make --no-print-directory all >/dev/null
floe=$top/build/release/floe
out=build/demo
rm -rf "$out" && mkdir -p "$out/history"
events=${DEMO_EVENTS:-200000}
live=${DEMO_SECONDS:-20}
wh="$out/warehouse"
export FLOE_WAREHOUSE="$wh"
cp examples/stock/pipeline.yaml "$out/pipeline.yaml"

echo "== 1. A past trading session from the simulator: $events trades and quotes with faults"
$floe simulate --count "$events" --seed 42 --start 2026-11-20T14:30:00Z --sim-rate 40 \
	--faults dup=0.01,ooo=0.03,late=0.005,bad=0.001 \
	--to "$out/history/trades.ndjson" --quotes-to "$out/history/quotes.ndjson"
wc -l "$out"/history/*.ndjson | sed 's/^/   /'

echo
echo "== 2. Backfill it through the pipeline: Bronze -> Silver (clean, dedup) -> Gold (bars, spreads, features)"
$floe run "$out/pipeline.yaml" --backfill "trades=$out/history/trades.ndjson" \
	"quotes=$out/history/quotes.ndjson" 2>/dev/null | sed 's/^/   /'
backfilled=$($floe snapshots gold.bars_1m --format jsonl | tail -n 1 | sed 's/.*"snapshot_id":\([0-9]*\).*/\1/')

echo
echo "== 3. Live: the simulator writes landing files, the same steps stream them (${live}s)"
$floe run "$out/pipeline.yaml" --simulate --duration "${live}s" --trigger 1s | sed 's/^/   /'

echo
echo "== 4. Gold: the latest one-minute bars of AAPL"
$floe scan gold.bars_1m --where "symbol = 'AAPL'" \
	--columns window_start,open,high,low,close,volume,trade_count,vwap,volatility,is_final \
	--format csv | (read -r header; echo "$header"; LC_ALL=C sort | tail -n 4) | column -t -s, | sed 's/^/   /'
echo "   ML features of the same minutes:"
$floe scan gold.features --where "symbol = 'AAPL'" \
	--columns minute,ret_1m,ret_5m,ret_15m,volatility_15m,vwap_deviation,order_flow_imbalance \
	--format csv | (read -r header; echo "$header"; LC_ALL=C sort | tail -n 3) | column -t -s, | sed 's/^/   /'

echo
echo "== 5. Quarantine: what was rejected, and why"
for t in bronze.trades_rejected silver.trades_rejected silver.quotes_rejected; do
	$floe scan "$t" --columns _reason --format csv 2>/dev/null | tail -n +2 | LC_ALL=C sort | uniq -c |
		sed "s/^/   $t: /"
done

echo
echo "== 6. Snapshot history of gold.bars_1m (each step commit carries its upstream position)"
$floe snapshots gold.bars_1m --format table | tail -n 6

echo
echo "== 7. Time travel: gold.bars_1m now and as of the end of the backfill (snapshot $backfilled)"
now=$($floe scan gold.bars_1m --columns symbol --format csv | tail -n +2 | wc -l)
then=$($floe scan gold.bars_1m --columns symbol --snapshot "$backfilled" --format csv | tail -n +2 | wc -l)
echo "   now: $now bars; after the backfill: $then bars"
$floe scan gold.bars_1m --snapshot "$backfilled" --where "symbol = 'MSFT'" \
	--columns window_start,close,vwap,is_final --format csv | (read -r h; echo "$h"; LC_ALL=C sort | tail -n 2) |
	column -t -s, | sed 's/^/   /'

echo
echo "Done. Warehouse: $wh (SQLite catalog, Iceberg tables). Try:"
echo "   FLOE_WAREHOUSE=$wh $floe scan gold.bars_5m --where \"symbol = 'TSLA'\" --limit 5"
echo "   FLOE_WAREHOUSE=$wh $floe run $out/pipeline.yaml --simulate     (Ctrl-C stops)"
