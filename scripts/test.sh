#!/usr/bin/env bash
# The whole test suite, as the README's test command (`make test`) runs it:
# installs missing Debian packages, builds the release and the ASan+UBSan
# builds, installs the test peers (DuckDB, hyparquet, parquet-wasm) into
# build/peers when ../shared is present, runs every test under both builds,
# replays the fuzz target briefly, and closes with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

scripts/deps.sh build test || { echo "floe: could not install the packages in deps.txt (see above)"; echo "0 passed, 1 failed"; exit 1; }

shared=${FLOE_SHARED:-$top/../shared}
if [ -d "$shared" ]; then
	export FLOE_SHARED=$(cd "$shared" && pwd)
	if [ -d "$FLOE_SHARED/peers" ]; then
		peers=$top/build/peers
		mkdir -p "$peers"
		# ../shared may be read-only: install the peers in our own ignored folder
		if ! cmp -s "$FLOE_SHARED/peers/package-lock.json" "$peers/package-lock.json" || [ ! -d "$peers/node_modules" ]; then
			cp -r "$FLOE_SHARED/peers/." "$peers/"
			rm -rf "$peers/node_modules"
			echo "floe: installing test peers into build/peers (npm install)" >&2
			(cd "$peers" && npm install --no-audit --no-fund --loglevel=error >&2) || echo "floe: npm install of the peers failed; interop tests will fail" >&2
		fi
		export FLOE_PEERS=$peers
	fi
else
	echo "floe: $shared is absent: conformance and interop tests will be skipped (they always run in CI)" >&2
fi

jobs=$(nproc 2>/dev/null || echo 2)
total_pass=0
total_fail=0
total_skip=0
summary=()

count_line() { # $1 = label, $2 = log file
	local line p f s
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
	if [ -z "$line" ]; then
		total_fail=$((total_fail + 1))
		summary+=("$1: the test runner did not finish (see $2)")
		return
	fi
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + ${s:-0}))
	summary+=("$1: $line")
}

for mode in release asan; do
	log=build/test-$mode.log
	mkdir -p build
	if ! make --no-print-directory -j"$jobs" MODE=$mode build > build/build-$mode.log 2>&1; then
		cat build/build-$mode.log
		total_fail=$((total_fail + 1))
		summary+=("$mode: build failed (build/build-$mode.log)")
		continue
	fi
	echo "== tests ($mode build) =="
	if [ "$mode" = asan ]; then
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	fi
	build/$mode/floe-tests "$@" 2>&1 | tee "$log"
	count_line "$mode" "$log"
done

# Fuzz every target briefly (CI, or when FLOE_FUZZ_SECONDS is set): the
# seconds are the total, split evenly across the targets by scripts/fuzz.sh;
# one summary line per target. The regression files are replayed by the
# test binaries above in every run.
fuzz_secs=${FLOE_FUZZ_SECONDS:-}
[ -z "$fuzz_secs" ] && [ "${CI:-}" = true ] && fuzz_secs=100
if [ -n "$fuzz_secs" ] && [ $# -eq 0 ]; then
	echo "== fuzz (all targets, $fuzz_secs s in total) =="
	rm -f build/fuzz/results.txt
	scripts/fuzz.sh "$fuzz_secs" > build/fuzz.log 2>&1
	fuzz_rc=$?
	grep -E '^fuzz: [a-z_]+: (no findings|FAILED|saved)' build/fuzz.log
	nbad=0
	if [ -f build/fuzz/results.txt ]; then
		while read -r target result secs; do
			if [ "$result" = ok ]; then
				total_pass=$((total_pass + 1))
				summary+=("fuzz $target: no findings in $secs s")
			else
				nbad=$((nbad + 1))
				total_fail=$((total_fail + 1))
				summary+=("fuzz $target: FAILED (findings in fuzz/regressions/; build/fuzz.log)")
			fi
		done < build/fuzz/results.txt
	fi
	if [ "$fuzz_rc" -ne 0 ] && [ "$nbad" -eq 0 ]; then
		tail -n 40 build/fuzz.log
		total_fail=$((total_fail + 1))
		summary+=("fuzz: scripts/fuzz.sh failed (build/fuzz.log)")
	fi
fi

echo "== summary =="
for s in "${summary[@]}"; do echo "  $s"; done
if [ "$total_skip" -gt 0 ]; then
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
	echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
