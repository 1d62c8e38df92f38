#!/usr/bin/env bash
# suite.sh (wagi) — the WAGI handler (src/wagi) against real guests.
#
# Builds the guests tests/wagi/*.c (all but test_*.c) with
#   clang --target=wasm32-wasi --sysroot=/usr -O2
# and tests/wagi/*.wat with wat2wasm into $BUILD/tests/wagi/, then compiles
# tests/wagi/test_wagi.c against $BUILD/libsluice.a (with $CC, default cc,
# and $SAN / $DEFS from make, so ASan builds test the ASan library) and runs
# it with WAGI_WASM pointing at the guests. test_wagi prints "ok - X" /
# "not ok - X" lines, "# timing: ..." lines (measured, never asserted; the
# timing loop runs WAGI_TIMING_RUNS times, default 10000) and a count line.
# A guest that does not build, a test that does not compile, crashes,
# exceeds WAGI_TIMEOUT seconds (default 600) or prints no count line counts
# as a failure. Last line: "wagi: N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD="${BUILD:-build}"
CC="${CC:-cc}"
SAN="${SAN:-}"
DEFS="${DEFS:-}"
lib="$BUILD/libsluice.a"
out="$BUILD/tests/wagi"
mkdir -p "$out"
passed=0 failed=0
count_re='^([0-9]+) passed, ([0-9]+) failed$'

if [ ! -f "$lib" ]; then
    echo "not ok - wagi: $lib is not built"
    echo "wagi: 0 passed, 1 failed"
    exit 1
fi

# ---- guests ---------------------------------------------------------------------
for src in tests/wagi/*.c; do
    name=$(basename "$src" .c)
    case $name in test_*) continue ;; esac
    wasm="$out/$name.wasm"
    [ "$wasm" -nt "$src" ] && continue
    if ! clang --target=wasm32-wasi --sysroot=/usr -O2 "$src" -o "$wasm" >"$out/$name.build.log" 2>&1; then
        echo "not ok - guest $name does not build"
        head -n 5 "$out/$name.build.log" | sed 's/^/#   /'
        rm -f "$wasm"
        failed=$((failed + 1))
    fi
done
for src in tests/wagi/*.wat; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .wat)
    wasm="$out/$name.wasm"
    [ "$wasm" -nt "$src" ] && continue
    if ! wat2wasm "$src" -o "$wasm" >"$out/$name.build.log" 2>&1; then
        echo "not ok - guest $name (wat) does not build"
        head -n 5 "$out/$name.build.log" | sed 's/^/#   /'
        rm -f "$wasm"
        failed=$((failed + 1))
    fi
done

# ---- the test program -------------------------------------------------------------
exe="$out/test_wagi"
# shellcheck disable=SC2086  # SAN and DEFS are flag lists
if ! $CC -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Wno-unused-parameter $SAN $DEFS \
    -Iinclude -Isrc/util -Isrc/vm -Isrc/wasi -Isrc/wagi -Itests/unit \
    tests/wagi/test_wagi.c "$lib" -luv -lssl -lcrypto -lpcre2-8 -lyaml -lm -lpthread \
    -o "$exe" >"$exe.build.log" 2>&1; then
    echo "not ok - test_wagi does not compile or link against $lib"
    grep -E 'error|undefined' "$exe.build.log" | head -n 5 | sed 's/^/#   /'
    echo "wagi: $passed passed, $((failed + 1)) failed"
    exit 1
fi

result=$(WAGI_WASM="$out" timeout "${WAGI_TIMEOUT:-600}" "$exe" "${WAGI_TIMING_RUNS:-10000}" 2>&1)
status=$?
printf '%s\n' "$result"
last=$(printf '%s\n' "$result" | grep -v '^[[:space:]]*$' | tail -n 1)
if [[ $last =~ $count_re ]]; then
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - test_wagi exited with status $status"
        f=1
    fi
    passed=$((passed + p)) failed=$((failed + f))
else
    echo "not ok - test_wagi crashed or printed no count line (exit status $status)"
    failed=$((failed + 1))
fi

echo "wagi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
