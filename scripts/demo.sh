#!/usr/bin/env bash
# The README's main-job command (`make demo`): the reference stock-trading
# pipeline (examples/stock/pipeline.yaml) in a local warehouse with a
# SQLite catalog. A past session from the built-in simulator is backfilled
# Bronze -> Silver -> Gold; then the simulator streams live events through
# the same steps for a while with a live progress view; then, through
# `floe sql`, a few Gold rows, the quarantine's reasons, the snapshot
# history and a time-travel comparison. Starts from
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
echo "== 4. Gold (SQL): the latest one-minute bars of AAPL, and their ML features"
$floe sql --format table "SELECT window_start, open, high, low, close, volume, trade_count,
	round(vwap, 4) AS vwap, round(volatility, 6) AS volatility, is_final
	FROM gold.bars_1m WHERE symbol = 'AAPL' ORDER BY window_start DESC LIMIT 4" | sed 's/^/   /'
$floe sql --format table "SELECT minute, round(ret_1m, 6) AS ret_1m, round(ret_5m, 6) AS ret_5m,
	round(ret_15m, 6) AS ret_15m, round(volatility_15m, 6) AS vol_15m,
	round(vwap_deviation, 6) AS vwap_dev, round(order_flow_imbalance, 4) AS ofi
	FROM gold.features WHERE symbol = 'AAPL' ORDER BY minute DESC LIMIT 3" | sed 's/^/   /'

echo
echo "== 5. Quarantine: what was rejected, and why"
$floe sql --format table "SELECT 'bronze.trades' AS stage, _reason AS reason, count(*) AS n
	FROM bronze.trades_rejected GROUP BY _reason
	UNION ALL SELECT 'silver.trades', _reason, count(*) FROM silver.trades_rejected GROUP BY _reason
	UNION ALL SELECT 'silver.quotes', _reason, count(*) FROM silver.quotes_rejected GROUP BY _reason
	ORDER BY stage, n DESC" | sed 's/^/   /'

echo
echo "== 6. Snapshot history of gold.bars_1m (each step commit carries its upstream position)"
$floe sql --format table "SELECT committed_at, snapshot_id, operation,
	json_extract(summary, '\$.\"floe.pipeline.bars_1m.position\"') AS upstream_position
	FROM \"gold.bars_1m\$snapshots\" ORDER BY committed_at DESC LIMIT 5" | sed 's/^/   /'

echo
echo "== 7. Time travel: gold.bars_1m now and as of the end of the backfill (snapshot $backfilled)"
$floe sql --format table "SELECT (SELECT count(*) FROM gold.bars_1m) AS bars_now,
	(SELECT count(*) FROM gold.bars_1m($backfilled)) AS bars_after_backfill" | sed 's/^/   /'
$floe sql --format table "SELECT cur.window_start, old.close AS close_then, cur.close AS close_now,
	old.is_final AS final_then, cur.is_final AS final_now
	FROM gold.bars_1m AS cur JOIN gold.bars_1m($backfilled) AS old USING (symbol, window_start)
	WHERE cur.symbol = 'MSFT' ORDER BY cur.window_start DESC LIMIT 3" | sed 's/^/   /'

echo
echo "Done. Warehouse: $wh (SQLite catalog, Iceberg tables). Try:"
echo "   FLOE_WAREHOUSE=$wh $floe sql        (an SQL shell: .tables, .schema gold.bars_5m; docs/queries.md)"
echo "   FLOE_WAREHOUSE=$wh $floe run $out/pipeline.yaml --simulate     (Ctrl-C stops)"
