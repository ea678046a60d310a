#!/usr/bin/env bash
# The README's main-job command (`make demo`), until the streaming pipeline
# exists: generate a day of synthetic stock trades as CSV, convert them to a
# ZSTD Parquet file with field ids, inspect it, and query it with a filter
# that skips row groups and pages. Safe to run again (starts from scratch).
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

echo
echo "== 2. CSV -> Parquet (ZSTD, dictionary, page index, Iceberg field ids)"
$floe parquet write "$out/trades.parquet" \
	--schema "trade_id string not null, symbol string not null, price double, volume long, ts timestamptz not null, side string, exchange string" \
	--codec zstd --row-group-bytes 2000000 "$out/trades.csv"
ls -l "$out/trades.csv" "$out/trades.parquet" | awk '{print "   " $5 " bytes  " $9}'

echo
echo "== 3. floe parquet inspect (schema with field ids; first row group)"
$floe parquet inspect "$out/trades.parquet" > "$out/inspect.json"
head -n 40 "$out/inspect.json"
echo "   ... (full document in $out/inspect.json)"

echo
echo "== 4. The last TSLA trades of the file, with statistics-based skipping"
last=$(tail -n 1 "$out/trades.csv" | cut -d, -f5)
$floe parquet cat "$out/trades.parquet" --columns trade_id,symbol,price,volume,ts \
	--where "ts >= ${last%?????????????}00:00Z" --format csv --stats 2> "$out/stats.json" | grep -E 'trade_id|TSLA' | tail -n 5
echo "   scan statistics: $(cat "$out/stats.json")"
echo
echo "Done. Try: $floe parquet cat $out/trades.parquet --limit 5 --format jsonl"
