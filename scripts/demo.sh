#!/usr/bin/env bash
# The README's main-job command (`make demo`), until the streaming pipeline
# exists: generate synthetic stock trades as CSV, load them in three commits
# into an Iceberg table of a local warehouse (SQLite catalog), query it with
# a pruned one-hour filter, show the snapshot history and travel back in
# time; then the Parquet layer on its own. Safe to run again (starts from
# scratch).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make --no-print-directory all >/dev/null
floe=build/release/floe
out=build/demo
rm -rf "$out" && mkdir -p "$out"
rows=${DEMO_ROWS:-200000}

echo "== 1. $rows synthetic trades as CSV ($out/trades.csv)"
awk -v n="$rows" 'BEGIN {
	srand(42); split("AAPL GOOGL MSFT AMZN TSLA", sym, " ");
	split("NASDAQ NYSE ARCA", ex, " ");
	for (i = 1; i <= 5; i++) px[i] = 100 + 50 * i;
	print "trade_id,symbol,price,volume,ts,side,exchange";
	t0 = 1700000000; # 2023-11-14T22:13:20Z
	for (i = 0; i < n; i++) {
		s = 1 + int(rand() * 5); px[s] *= 1 + (rand() - 0.5) / 500;
		vol = int(100 / (rand() + 0.01));
		ts = t0 + i * 0.25;
		us = int((ts - int(ts)) * 1000000);
		printf "T%09d,%s,%.2f,%d,%s.%06dZ,%s,%s\n", i, sym[s], px[s], vol,
		       strftime("%Y-%m-%dT%H:%M:%S", int(ts), 1), us,
		       (rand() < 0.5 ? "BUY" : "SELL"), ex[1 + int(rand() * 3)];
	}
}' > "$out/trades.csv"
head -n 3 "$out/trades.csv"

wh="$out/warehouse"
export FLOE_WAREHOUSE="$wh"
echo
echo "== 2. An Iceberg table in a local warehouse ($wh, SQLite catalog)"
$floe create market.trades \
	--schema "trade_id string not null, symbol string not null, price double, volume long, ts timestamptz not null, side string, exchange string" \
	--partition "day(ts), bucket(8, symbol)" --property write.parquet.compression-codec=zstd
third=$(( (rows + 2) / 3 ))
tail -n +2 "$out/trades.csv" | split -l "$third" -d - "$out/part-"
i=0
for part in "$out"/part-*; do
	i=$((i + 1))
	{ head -n 1 "$out/trades.csv"; cat "$part"; } > "$part.csv"
	echo "   load $i: $($floe append market.trades "$part.csv" 2>/dev/null)"
done

echo
echo "== 3. Snapshot history"
$floe snapshots market.trades --format table
first=$($floe snapshots market.trades --format jsonl | head -n 1 | sed 's/.*"snapshot_id":\([0-9]*\).*/\1/')

echo
echo "== 4. One hour of TSLA trades: partitions, manifests and column bounds prune the files"
last=$(tail -n 1 "$out/trades.csv" | cut -d, -f5)
hour="${last%??????????????}:00:00Z"
$floe scan market.trades --columns trade_id,symbol,price,volume,ts \
	--where "symbol = 'TSLA' and ts >= '$hour'" --limit 5 --format table --stats 2> "$out/stats.json"
echo "   scan statistics: $(cat "$out/stats.json")"

echo
echo "== 5. Time travel: rows now and as of the first load (snapshot $first)"
now=$($floe scan market.trades --columns trade_id --format csv | tail -n +2 | wc -l)
then=$($floe scan market.trades --columns trade_id --snapshot "$first" --format csv | tail -n +2 | wc -l)
echo "   now: $now rows; as of snapshot $first: $then rows"

echo
echo "== 6. Schema evolution without rewriting data: add a column, old files read it as NULL"
$floe alter market.trades add-column venue string
$floe scan market.trades --columns trade_id,venue,price --limit 2 --format table

echo
echo "== 7. The data files (Parquet, readable by any engine)"
$floe files market.trades --format csv | head -n 4
echo "   ... $(( $($floe files market.trades --format csv | wc -l) - 1 )) files"

echo
echo "== 8. The Parquet layer alone: CSV -> Parquet (ZSTD, dictionary, page index, field ids)"
$floe parquet write "$out/trades.parquet" \
	--schema "trade_id string not null, symbol string not null, price double, volume long, ts timestamptz not null, side string, exchange string" \
	--codec zstd --row-group-bytes 2000000 "$out/trades.csv"
ls -l "$out/trades.csv" "$out/trades.parquet" | awk '{print "   " $5 " bytes  " $9}'
$floe parquet inspect "$out/trades.parquet" > "$out/inspect.json"
echo "   footer as JSON in $out/inspect.json"

echo
echo "Done. Try: FLOE_WAREHOUSE=$wh $floe scan market.trades --where \"price > 300\" --limit 5"
echo "     and:  FLOE_WAREHOUSE=$wh $floe describe market.trades"
