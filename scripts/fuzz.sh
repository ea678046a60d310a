#!/usr/bin/env bash
# Fuzzes the Parquet reader with libFuzzer + ASan + UBSan for SECONDS (default 60).
# usage: scripts/fuzz.sh [SECONDS]      extra libFuzzer flags: FUZZ_FLAGS="-jobs=4 -workers=4"
# Findings (crash-*, timeout-*, leak-*, oom-*) are copied into fuzz/regressions/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
secs=${1:-60}
out=build/fuzz
shared=${FLOE_SHARED:-$root/../shared}

scripts/deps.sh build test
mkdir -p "$out/corpus" "$out/artifacts" fuzz/regressions

pkgs="libzstd snappy zlib liblz4 libxxhash jansson libbrotlienc libbrotlidec"
libs=$(pkg-config --libs $pkgs 2>/dev/null || echo -lzstd -lsnappy -lz -llz4 -lxxhash -ljansson -lbrotlienc -lbrotlidec)
cflags="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Iinclude -Isrc $(pkg-config --cflags $pkgs 2>/dev/null || true)"
san="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
echo "fuzz: building $out/fuzz_parquet_reader" >&2
# shellcheck disable=SC2086
clang $cflags $san -o "$out/fuzz_parquet_reader" fuzz/fuzz_parquet_reader.c \
	src/util/*.c src/parquet/*.c $libs -lm

# Seed corpus: the parquet-testing files (<= 1 MB) and every past finding.
seeded=0
for dir in "$shared/testdata/parquet-testing/data" "$shared/testdata/parquet-testing/bad_data"; do
	[ -d "$dir" ] || { echo "fuzz: no $dir (seeding from regressions only)" >&2; continue; }
	while IFS= read -r -d '' f; do
		cp -f "$f" "$out/corpus/$(basename "$(dirname "$f")")_$(basename "$f")"
		seeded=$((seeded + 1))
	done < <(find "$dir" -maxdepth 1 -type f -name '*.parquet' -size -1025k -print0)
done
for f in fuzz/regressions/*; do
	[ -f "$f" ] || continue
	case "$f" in *.md) continue ;; esac
	cp -f "$f" "$out/corpus/regression_$(basename "$f")"
	seeded=$((seeded + 1))
done
echo "fuzz: $seeded seed files; running for ${secs}s" >&2

rc=0
# shellcheck disable=SC2086
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
"$out/fuzz_parquet_reader" "$out/corpus" -max_total_time="$secs" -max_len=1048576 \
	-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
	-artifact_prefix="$out/artifacts/" ${FUZZ_FLAGS:-} || rc=$?

found=0
for f in "$out"/artifacts/crash-* "$out"/artifacts/timeout-* "$out"/artifacts/leak-* "$out"/artifacts/oom-*; do
	[ -f "$f" ] || continue
	cp -f "$f" fuzz/regressions/
	echo "fuzz: saved fuzz/regressions/$(basename "$f")" >&2
	found=$((found + 1))
done
if [ "$found" -gt 0 ]; then
	echo "fuzz: $found finding(s) copied to fuzz/regressions/: fix them, then commit the files" >&2
	echo "fuzz: (tests/parquet/test_fuzz_regressions.c replays them in make test)" >&2
	exit 1
fi
echo "fuzz: no findings (libFuzzer exit $rc)" >&2
exit "$rc"
