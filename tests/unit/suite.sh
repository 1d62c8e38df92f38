#!/usr/bin/env bash
# suite.sh (unit) — C unit tests.
#
# Compiles each tests/unit/test_*.c against $BUILD/libsluice.a (with $CC,
# default cc, and $SAN / $DEFS from make so ASan builds test the ASan
# library) into $BUILD/tests/unit/, runs it, and sums the counts of its
# last line "N passed, N failed". A test prints "ok - X" / "not ok - X"
# lines. A test that does not compile or link (e.g. it carries stub
# definitions that clash with the real engine), crashes, exceeds
# UNIT_TIMEOUT seconds (default 300) or prints no count line counts as 1
# failure. Last line: "unit: N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD="${BUILD:-build}"
CC="${CC:-cc}"
SAN="${SAN:-}"
DEFS="${DEFS:-}"
lib="$BUILD/libsluice.a"
out="$BUILD/tests/unit"
mkdir -p "$out"
passed=0 failed=0
count_re='^([0-9]+) passed, ([0-9]+) failed$'

if [ ! -f "$lib" ]; then
    echo "unit: $lib is not built"
    echo "unit: 0 passed, 1 failed"
    exit 1
fi

for src in tests/unit/test_*.c; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c)
    exe="$out/$name"
    # shellcheck disable=SC2086  # SAN and DEFS are flag lists
    if ! $CC -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Wno-unused-parameter $SAN $DEFS \
        -Iinclude -Isrc/util -Isrc/vm -Isrc/wasi -Isrc/wagi -Isrc/proxywasm -Isrc/gateway -Isrc/cli -Isdk/c \
        "$src" "$lib" -luv -lssl -lcrypto -lpcre2-8 -lyaml -lhiredis -lm -lpthread -o "$exe" >"$exe.build.log" 2>&1; then
        echo "not ok - $name: does not compile or link against $lib"
        grep -E 'error|multiple definition' "$exe.build.log" | head -n 5 | sed 's/^/#   /'
        failed=$((failed + 1))
        continue
    fi
    result=$(timeout "${UNIT_TIMEOUT:-300}" "$exe" 2>&1)
    status=$?
    printf '%s\n' "$result"
    last=$(printf '%s\n' "$result" | grep -v '^[[:space:]]*$' | tail -n 1)
    if [[ $last =~ $count_re ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
        if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
            echo "not ok - $name: exited with status $status"
            f=1
        fi
        passed=$((passed + p)) failed=$((failed + f))
    else
        echo "not ok - $name: crashed or printed no count line (exit status $status)"
        failed=$((failed + 1))
    fi
done

echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
