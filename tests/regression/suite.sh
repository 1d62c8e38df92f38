#!/usr/bin/env bash
# suite.sh (regression) — replays saved fuzzer inputs through plain builds of
# the fuzz targets.
#
# For every tests/regression/<target>/ whose tests/fuzz/<target>.c exists,
# compiles that target with tests/fuzz/replay_main.c (no libFuzzer) against
# $BUILD/libsluice.a with $CC (default cc), $SAN and $DEFS as make passes
# them, into $BUILD/tests/regression/, and runs it on each input file in the
# directory (one process per input, REGRESSION_TIMEOUT seconds each, default
# 60). An input is "ok" when the replay exits 0 after printing "ok FILE":
# no crash, no sanitizer report, no leak.
# Inputs are data files named <what>.input (never .wasm: *.wasm files are
# build outputs here): crashers copied by tests/fuzz/run.sh
# (<kind>-<sha1>.input) and hand-made nasty inputs.
# tests/regression/known_failures.txt lists "<target>/<file> reason" lines
# for engine bugs reported but not fixed yet: such an input that still fails
# counts as skipped (and is shown), one that passes says it can be removed.
# Last line: "regression: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
CC="${CC:-cc}"
SAN="${SAN:-}"
DEFS="${DEFS:-}"
lib="$BUILD/libsluice.a"
out="$BUILD/tests/regression"
known_file="tests/regression/known_failures.txt"
limit="${REGRESSION_TIMEOUT:-60}"
passed=0 failed=0 skipped=0

if [ ! -f "$lib" ]; then
    echo "regression: $lib is not built"
    echo "regression: 0 passed, 1 failed, 0 skipped"
    exit 1
fi
mkdir -p "$out"

known_reason() { # known_reason TARGET/FILE -> prints the reason, or fails
    [ -f "$known_file" ] || return 1
    awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; found = 1 } END { exit !found }' \
        "$known_file"
}

for dir in tests/regression/*/; do
    target=$(basename "$dir")
    src="tests/fuzz/$target.c"
    if [ ! -f "$src" ]; then
        echo "not ok - $dir: no fuzz target $src"
        failed=$((failed + 1))
        continue
    fi
    exe="$out/$target"
    # shellcheck disable=SC2086  # SAN and DEFS are flag lists
    if ! $CC -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra $SAN $DEFS \
        -Iinclude -Isrc/util -Isrc/gateway "$src" tests/fuzz/replay_main.c "$lib" -luv -lssl -lcrypto -lpcre2-8 -lyaml -lm -lpthread \
        -o "$exe" >"$exe.build.log" 2>&1; then
        echo "not ok - $target: replay binary does not build"
        sed 's/^/#   /' "$exe.build.log" | head -n 10
        failed=$((failed + 1))
        continue
    fi
    n=0
    for input in "$dir"*; do
        [ -f "$input" ] || continue
        n=$((n + 1))
        input=${input%/}
        key="$target/$(basename "$input")"
        log="$out/$target.$(basename "$input").log"
        status=0
        timeout "$limit" "$exe" "$input" >"$log" 2>&1 || status=$?
        if [ "$status" -eq 0 ] && grep -qxF "ok $input" "$log"; then
            if reason=$(known_reason "$key"); then
                echo "ok - $key (listed in $known_file but passes now: remove it)"
            else
                echo "ok - $key"
            fi
            passed=$((passed + 1))
        elif reason=$(known_reason "$key"); then
            echo "skip - $key: KNOWN ENGINE BUG, still failing (status $status): $reason"
            skipped=$((skipped + 1))
        else
            [ "$status" -eq 124 ] && echo "#   timed out after ${limit}s"
            echo "not ok - $key (exit status $status); reproduce: $exe $input"
            grep -E 'ERROR|runtime error|SUMMARY|#[0-9] ' "$log" | head -n 12 | sed 's/^/#   /'
            failed=$((failed + 1))
        fi
    done
    if [ "$n" -eq 0 ]; then
        echo "# $target: no inputs"
    fi
done

echo "regression: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
