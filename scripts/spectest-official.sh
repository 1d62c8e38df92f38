#!/usr/bin/env bash
# spectest-official.sh — runs the official WebAssembly core test suite (.wast
# files kept OUTSIDE this repository) against build/sluice.
#
#   scripts/spectest-official.sh [DIR] [-- SPECTEST-OPTIONS...]
#
# DIR (or $SPEC_DIR) holds the official .wast files (e.g. a checkout of
# WebAssembly/testsuite, or its test/core in WebAssembly/spec, from the
# WebAssembly 2.0 era: wabt 1.0.32's wast2json must accept them). Each file is
# converted with wast2json into $BUILD/spec-official/NAME/ and run with
# `$BUILD/sluice spectest`; options after "--" (e.g. --verbose,
# --strict-messages) are passed to it. Prints each file's line (failure lines
# name the .wast line), then "official: N passed, N failed, N skipped" (a file
# that wast2json rejects counts as 1 failure and is listed at the end; so is
# a run that prints no count line). Exit status 1 if anything failed.
#
#   BUILD=build-check scripts/spectest-official.sh ~/testsuite
#   SPEC_DIR=/work/spec-tests scripts/spectest-official.sh -- --verbose
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD="${BUILD:-build}"
sluice="$BUILD/sluice"

dir="${SPEC_DIR:-}"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    dir="$1"
    shift
fi
[ "${1:-}" = "--" ] && shift
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    echo "usage: $0 DIR [-- SPECTEST-OPTIONS...]   (or SPEC_DIR=DIR)" >&2
    exit 2
fi
if [ ! -x "$sluice" ]; then
    echo "official: $sluice is not built (make BUILD=$BUILD)" >&2
    exit 2
fi
if ! command -v wast2json >/dev/null 2>&1; then
    echo "official: wast2json not found (install wabt: make deps)" >&2
    exit 2
fi

out="$BUILD/spec-official"
mkdir -p "$out"
passed=0 failed=0 skipped=0 files=0
not_converted=()
count_re=': ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$'

for wast in "$dir"/*.wast; do
    [ -f "$wast" ] || continue
    name=$(basename "$wast" .wast)
    d="$out/$name"
    rm -rf "$d"
    mkdir -p "$d"
    files=$((files + 1))
    if ! wast2json "$wast" -o "$d/$name.json" >"$d/wast2json.log" 2>&1; then
        echo "$name.wast: wast2json failed: $(head -n 1 "$d/wast2json.log")"
        not_converted+=("$name")
        failed=$((failed + 1))
        continue
    fi
    result=$("$sluice" spectest "$@" "$d/$name.json" 2>&1)
    status=$?
    printf '%s\n' "$result" | sed "s|^$d/$name.json|$name.wast|"
    line=$(printf '%s\n' "$result" | grep -E "^$d/$name.json$count_re" | tail -n 1)
    if [[ $line =~ $count_re ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        skipped=$((skipped + BASH_REMATCH[3]))
    else
        echo "$name.wast: sluice spectest printed no result (exit status $status)"
        failed=$((failed + 1))
    fi
done

if [ "${#not_converted[@]}" -gt 0 ]; then
    echo "official: not converted by wast2json: ${not_converted[*]}"
fi
echo "official: $files files"
echo "official: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
