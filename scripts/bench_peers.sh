#!/usr/bin/env bash
# The DuckDB peers of the benchmarks: ../shared/peers copied into
# build/peers and installed there with npm once (../shared may be
# read-only), then each benchmark's own .mjs scripts copied next to them.
# usage: scripts/bench_peers.sh [bench/NAME.mjs ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=$root/build/peers
if [ ! -d "$peers/node_modules" ]; then
	echo "bench: installing DuckDB peers into $peers" >&2
	mkdir -p "$peers"
	cp -r "$root/../shared/peers/." "$peers/"
	(cd "$peers" && npm install --no-audit --no-fund >&2)
fi
for f in "$@"; do
	cp "$root/$f" "$peers/"
done
