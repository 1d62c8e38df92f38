#!/usr/bin/env bash
# suite.sh (wast) — the WebAssembly spec-test suite.
#
# Converts every tests/wast/*.wast with wabt's wast2json (1.0.32 enables the
# WebAssembly 2.0 features by default) into $BUILD/tests/wast/NAME/, runs
# `$BUILD/sluice spectest` on each JSON, and prints its per-file line with
# the .wast path (line numbers in failures are .wast lines). Counts are
# assertions (every wast command is one), summed over files. A file that
# wast2json rejects, or a run that prints no count line, is 1 failure.
# Last line: "wast: N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD="${BUILD:-build}"
out="$BUILD/tests/wast"
sluice="$BUILD/sluice"
passed=0 failed=0 skipped=0

if [ ! -x "$sluice" ]; then
    echo "wast: $sluice is not built"
    echo "wast: 0 passed, 1 failed, 0 skipped"
    exit 1
fi
if ! command -v wast2json >/dev/null 2>&1; then
    echo "wast: wast2json not found (install wabt: make deps)"
    echo "wast: 0 passed, 1 failed, 0 skipped"
    exit 1
fi

count_re=': ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$'
for wast in tests/wast/*.wast; do
    [ -f "$wast" ] || continue
    name=$(basename "$wast" .wast)
    dir="$out/$name"
    rm -rf "$dir"
    mkdir -p "$dir"
    if ! wast2json "$wast" -o "$dir/$name.json" >"$dir/wast2json.log" 2>&1; then
        echo "$wast: wast2json failed: $(head -n 1 "$dir/wast2json.log")"
        failed=$((failed + 1))
        continue
    fi
    result=$("$sluice" spectest "$dir/$name.json" 2>&1)
    status=$?
    printf '%s\n' "$result" | sed "s|^$dir/$name.json:|$wast:|"
    line=$(printf '%s\n' "$result" | grep -E "^$dir/$name.json$count_re" | tail -n 1)
    if [[ $line =~ $count_re ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        skipped=$((skipped + BASH_REMATCH[3]))
    else
        echo "$wast: sluice spectest printed no result (exit status $status)"
        failed=$((failed + 1))
    fi
done

echo "wast: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
