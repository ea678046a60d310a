#!/usr/bin/env bash
# Fuzzes the readers of hostile bytes with libFuzzer + ASan + UBSan.
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS (default 60) is the TOTAL time, split evenly across the targets run
#   (at least 1 s each); TARGETs default to all of: parquet_reader avro_reader
#   iceberg_metadata iceberg_manifest ingest_record expr sql_rewrite (fuzz/fuzz_TARGET.c).
#   Extra libFuzzer flags: FUZZ_FLAGS="-jobs=4 -workers=4" (given to every target).
# fuzz/TARGET.dict, when present, is given as the libFuzzer dictionary.
# Findings (crash-*, timeout-*, leak-*, oom-*) are copied into fuzz/regressions/
# (parquet_reader) or fuzz/regressions/TARGET/ (the others), and the script exits 1.
# One line per target goes to build/fuzz/results.txt: "TARGET ok|fail SECONDS".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
all_targets="parquet_reader avro_reader iceberg_metadata iceberg_manifest ingest_record expr sql_rewrite"
secs=${1:-60}
case "$secs" in
'' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...] (targets: $all_targets)" >&2; exit 2 ;;
esac
[ $# -gt 0 ] && shift
targets=${*:-$all_targets}
for t in $targets; do
	[ -f "fuzz/fuzz_$t.c" ] || { echo "fuzz: unknown target $t (targets: $all_targets)" >&2; exit 2; }
done
ntargets=$(echo $targets | wc -w)
each=$((secs / ntargets))
[ "$each" -ge 1 ] || each=1
out=build/fuzz
shared=${FLOE_SHARED:-$root/../shared}
interop=$shared/testdata/iceberg-interop

scripts/deps.sh build test
mkdir -p "$out/obj" fuzz/regressions
: > "$out/results.txt"

# The same packages as the Makefile's PKGS.
pkgs="libzstd snappy zlib liblz4 libxxhash jansson libbrotlienc libbrotlidec sqlite3 rdkafka yaml-0.1"
libs=$(pkg-config --libs $pkgs 2>/dev/null || echo -lzstd -lsnappy -lz -llz4 -lxxhash -ljansson -lbrotlienc -lbrotlidec -lsqlite3 -lrdkafka -lyaml)
cflags="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Iinclude -Isrc $(pkg-config --cflags $pkgs 2>/dev/null || true)"
san="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -DFLOE_ASAN=1"

# The library once (instrumented), then one binary per target.
echo "fuzz: building the library into $out/obj" >&2
export cflags san out
# shellcheck disable=SC2016
printf '%s\n' src/util/*.c src/parquet/*.c src/avro/*.c src/iceberg/*.c src/ingest/*.c src/engine/*.c src/pipeline/*.c src/sql/*.c |
	xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} sh -c \
		'o="$out/obj/$(echo "{}" | tr / _).o"; clang $cflags $san -c -o "$o" "{}"'
objs=()
for f in src/util/*.c src/parquet/*.c src/avro/*.c src/iceberg/*.c src/ingest/*.c src/engine/*.c src/pipeline/*.c src/sql/*.c; do
	objs+=("$out/obj/$(echo "$f" | tr / _).o")
done
for t in $targets; do
	echo "fuzz: building $out/fuzz_$t" >&2
	# shellcheck disable=SC2086
	clang $cflags ${san/fuzzer-no-link/fuzzer} -o "$out/fuzz_$t" "fuzz/fuzz_$t.c" "${objs[@]}" \
		$libs -lm -lpthread
done

# seed DIR FILE...: copy files (<= 1 MB) into the corpus, named by content.
seed() {
	local dir=$1 f n=0
	shift
	for f in "$@"; do
		[ -f "$f" ] && [ "$(stat -c %s "$f")" -le 1048576 ] || continue
		cp -f "$f" "$dir/seed_$(sha1sum "$f" | cut -c1-16)"
		n=$((n + 1))
	done
	echo "$n"
}

found=0
failed=0
for t in $targets; do
	corpus=$out/corpus/$t
	art=$out/artifacts/$t
	mkdir -p "$corpus" "$art"
	if [ "$t" = parquet_reader ]; then
		regdir=fuzz/regressions
		files=()
		for dir in "$shared/testdata/parquet-testing/data" "$shared/testdata/parquet-testing/bad_data"; do
			[ -d "$dir" ] || { echo "fuzz: no $dir (seeding from regressions only)" >&2; continue; }
			while IFS= read -r -d '' f; do files+=("$f"); done \
				< <(find "$dir" -maxdepth 1 -type f -name '*.parquet' -print0)
		done
	else
		regdir=fuzz/regressions/$t
		mkdir -p "$regdir"
		files=()
		[ -d "$interop" ] || echo "fuzz: no $interop (seeding from regressions only)" >&2
		if [ -d "$interop" ] && [ "$t" = iceberg_metadata ]; then
			while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$interop/metadata" \
				"$interop/tables" -type f -name '*.metadata.json' -print0 2>/dev/null)
		elif [ -d "$interop" ] && [ "$t" != ingest_record ] && [ "$t" != expr ] && [ "$t" != sql_rewrite ]; then
			while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$interop/avro" \
				-type f -name '*.avro' -print0 2>/dev/null; find "$interop/tables" -type f \
				-path '*/metadata/*' -name '*.avro' -print0 2>/dev/null)
		fi
	fi
	seeded=$(seed "$corpus" ${files[@]+"${files[@]}"})
	regs=()
	for f in "$regdir"/*; do
		[ -f "$f" ] || continue
		case "$f" in *.md) continue ;; esac
		regs+=("$f")
	done
	seeded=$((seeded + $(seed "$corpus" ${regs[@]+"${regs[@]}"})))
	echo "fuzz: $t: $seeded seed files; running for ${each}s" >&2

	rm -f "$art"/crash-* "$art"/timeout-* "$art"/leak-* "$art"/oom-*
	dict=()
	[ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
	rc=0
	# shellcheck disable=SC2086
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$out/fuzz_$t" "$corpus" -max_total_time="$each" -max_len=1048576 \
		-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$art/" ${dict[@]+"${dict[@]}"} ${FUZZ_FLAGS:-} || rc=$?

	n=0
	for f in "$art"/crash-* "$art"/timeout-* "$art"/leak-* "$art"/oom-*; do
		[ -f "$f" ] || continue
		cp -f "$f" "$regdir/"
		echo "fuzz: $t: saved $regdir/$(basename "$f")" >&2
		n=$((n + 1))
	done
	if [ "$n" -gt 0 ] || [ "$rc" -ne 0 ]; then
		echo "fuzz: $t: FAILED ($n finding(s), libFuzzer exit $rc)" >&2
		echo "$t fail $each" >> "$out/results.txt"
		found=$((found + n))
		failed=$((failed + 1))
	else
		echo "fuzz: $t: no findings in ${each}s" >&2
		echo "$t ok $each" >> "$out/results.txt"
	fi
done

if [ "$failed" -gt 0 ]; then
	echo "fuzz: $found finding(s) copied to fuzz/regressions/: fix them, then commit the files" >&2
	echo "fuzz: (make test replays them: tests/parquet/test_fuzz_regressions.c and" >&2
	echo "fuzz:  tests/iceberg/test_fuzz_regressions_iceberg.c)" >&2
	exit 1
fi
echo "fuzz: no findings" >&2
exit 0
