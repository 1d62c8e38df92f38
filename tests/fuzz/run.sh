#!/usr/bin/env bash
# run.sh (fuzz) — builds the libFuzzer targets and runs each one for a while.
# Called by `make fuzz`; not part of `make test` (tests/regression replays
# what fuzzing found).
#
#   tests/fuzz/run.sh                       every target, FUZZ_SECONDS each
#   FUZZ_SECONDS=600 tests/fuzz/run.sh fuzz_run       one target, longer
#   FUZZ_FLAGS="-fork=2 -ignore_crashes=1" ...        extra libFuzzer flags
#
# Builds (clang, -fsanitize=fuzzer,address,undefined) into build-fuzz/: the
# engine library build-fuzz/libsluice.a (through the Makefile) and one
# binary per tests/fuzz/fuzz_*.c. Corpora live in build-fuzz/corpus/<target>/
# and grow across runs. Seeds: the modules and JSON that tests/wast makes
# under $BUILD/tests/wast/ (or, when `make test` has not run, wast2json on
# tests/wast/*.wast here), build/wasm/**/*.wasm, a few `wasm-opt -ttf`
# modules, and tests/regression/<target>/ inputs.
# Findings (libFuzzer's crash-/leak-/timeout-/oom-<sha1> artifacts) are
# copied to tests/regression/<target>/<kind>-<sha1>.input, where
# tests/regression/suite.sh replays them in `make test`.
# Last line: "fuzz: N passed, N failed" (one test per target; a target
# fails when it produced any artifact or did not build/run).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_FLAGS="${FUZZ_FLAGS:-}"
out=build-fuzz
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
passed=0 failed=0

targets=()
if [ $# -gt 0 ]; then
    targets=("$@")
else
    for src in tests/fuzz/fuzz_*.c; do
        targets+=("$(basename "$src" .c)")
    done
fi

echo "== building the engine with libFuzzer instrumentation ($out/libsluice.a)"
# Other people edit src/ while this runs. An object whose compile read a
# source just before it changed is newer than that source, so make would
# keep it, and a lowerer and interpreter from different versions crash in
# ways that are no engine bug. So: when anything under src/ or include/
# changed during the build, drop what this build compiled and build again.
mkdir -p "$out"
for attempt in 1 2 3 4; do
    stamp="$out/.build-start"
    touch "$stamp"
    make -s --no-print-directory BUILD="$out" CC=clang OPT=-O1 \
        SAN="-fsanitize=fuzzer-no-link $san" "$out/libsluice.a"
    changed=$(find src include Makefile -newer "$stamp" -print -quit)
    [ -z "$changed" ] && break
    echo "sources changed during the build ($changed): rebuilding"
    find "$out/src" -name '*.o' -newer "$stamp" -delete
    [ "$attempt" -eq 4 ] && { echo "fuzz: sources keep changing; try later"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
    sleep 20
done

# ---- seeds ------------------------------------------------------------------
seeds="$out/seeds"
mkdir -p "$seeds/wasm" "$seeds/json"
wast_dir="$BUILD/tests/wast"
if ! compgen -G "$wast_dir/*/*.wasm" >/dev/null; then
    wast_dir="$seeds/wast"
    if command -v wast2json >/dev/null 2>&1; then
        for wast in tests/wast/*.wast; do
            name=$(basename "$wast" .wast)
            mkdir -p "$wast_dir/$name"
            wast2json "$wast" -o "$wast_dir/$name/$name.json" >/dev/null 2>&1 || true
        done
    fi
fi
# Content-addressed copies, so reruns do not duplicate.
add_seed() { # add_seed DIR FILE
    local h
    h=$(sha1sum "$2" | cut -c1-40)
    [ -e "$1/$h" ] || cp "$2" "$1/$h"
}
while IFS= read -r -d '' f; do add_seed "$seeds/wasm" "$f"; done \
    < <(find "$wast_dir" build/wasm -name '*.wasm' -size -1000k -print0 2>/dev/null)
while IFS= read -r -d '' f; do add_seed "$seeds/json" "$f"; done \
    < <(find "$wast_dir" -name '*.json' -size -1000k -print0 2>/dev/null)
if command -v wasm-opt >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
    feats="--mvp-features --enable-sign-ext --enable-nontrapping-float-to-int
           --enable-bulk-memory --enable-reference-types --enable-multivalue
           --enable-mutable-globals"
    for i in $(seq 1 20); do
        python3 -c 'import hashlib,sys; sys.stdout.buffer.write(hashlib.shake_256(sys.argv[1].encode()).digest(int(sys.argv[2])))' \
            "fuzz-seed-$i" $((i * 400)) >"$seeds/ttf.bin"
        # shellcheck disable=SC2086  # feats is a flag list
        if wasm-opt "$seeds/ttf.bin" -ttf $feats -o "$seeds/ttf.out" >/dev/null 2>&1; then
            add_seed "$seeds/wasm" "$seeds/ttf.out"
        fi
    done
    rm -f "$seeds/ttf.bin" "$seeds/ttf.out"
fi
echo "seeds: $(find "$seeds/wasm" -type f | wc -l) modules, $(find "$seeds/json" -type f | wc -l) JSON documents"

# signature BIN INPUT: a one-line bug signature for deduplicating findings.
signature() {
    local log kind where
    log=$(timeout 60 "$1" "$2" 2>&1 || true)
    kind=$(printf '%s\n' "$log" | grep -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-z-]+|runtime error: [a-z -]+' | head -n 1)
    where=$(printf '%s\n' "$log" | grep -oE '(src|tests)/[a-z_/]+\.(c|inc|h):[0-9]+' | head -n 1)
    printf '%s @ %s\n' "${kind:-no report on replay}" "${where:-?}"
}

# ---- build and run each target ---------------------------------------------
for t in "${targets[@]}"; do
    src="tests/fuzz/$t.c"
    bin="$out/$t"
    echo "== $t"
    # shellcheck disable=SC2086  # san is a flag list
    if ! clang -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -fsanitize=fuzzer $san \
        -Iinclude -Isrc/util -Isrc/gateway "$src" "$out/libsluice.a" -luv -lssl -lcrypto -lpcre2-8 -lyaml -lm -lpthread -o "$bin"; then
        echo "$t: does not build"
        failed=$((failed + 1))
        continue
    fi
    corpus="$out/corpus/$t"
    art="$out/artifacts/$t"
    mkdir -p "$corpus" "$art" "tests/regression/$t"
    case "$t" in
        fuzz_json) seed_dirs=("$seeds/json") ;;
        *) seed_dirs=("$seeds/wasm") ;;
    esac
    reg=()
    compgen -G "tests/regression/$t/*" >/dev/null && reg=("tests/regression/$t")
    status=0
    # shellcheck disable=SC2086  # FUZZ_FLAGS is a flag list
    timeout --foreground $((FUZZ_SECONDS + 300)) "$bin" \
        -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=4096 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$art/" \
        $FUZZ_FLAGS "$corpus" "${seed_dirs[@]}" ${reg[@]+"${reg[@]}"} \
        >"$out/$t.log" 2>&1 || status=$?
    grep -E '^(stat::|Done|INFO: fuzzed for|==[0-9]+==ERROR|SUMMARY)' "$out/$t.log" | sed 's/^/  /' || true
    # -fork mode prints no final stats: its last progress line has the totals.
    grep -E '^#[0-9]+: cov:' "$out/$t.log" | tail -n 1 | sed 's/^/  /' || true
    # Findings, deduplicated by signature (sanitizer error kind + the first
    # frame in src/), keeping the smallest input of each.
    found=0
    declare -A best=()
    for a in "$art"/*; do
        [ -f "$a" ] || continue
        base=$(basename "$a")
        case "$base" in
            crash-*|leak-*|timeout-*|oom-*|slow-unit-*) ;;
            *) continue ;;
        esac
        sig=$(signature "$bin" "$a")
        if [ -z "${best[$sig]:-}" ] || [ "$(stat -c %s "$a")" -lt "$(stat -c %s "${best[$sig]}")" ]; then
            best[$sig]=$a
        fi
    done
    for sig in "${!best[@]}"; do
        a=${best[$sig]}
        dest="tests/regression/$t/$(basename "$a").input"
        cp "$a" "$dest"
        found=$((found + 1))
        echo "  NEW FINDING: $dest"
        echo "    signature: $sig"
        echo "    reproduce: $bin $dest"
        echo "          or: tests/regression/suite.sh (replays it on \$BUILD)"
        timeout 60 "$bin" "$a" 2>&1 | grep -E 'ERROR|runtime error|^    #[0-9] ' | head -n 8 | sed 's/^/    /' || true
    done
    unset best
    # Processed artifacts move aside, so the next run reports only its own.
    mkdir -p "$art/seen"
    find "$art" -maxdepth 1 -type f -exec mv -t "$art/seen/" {} +
    if [ "$found" -gt 0 ] || [ "$status" -ne 0 ]; then
        echo "$t: FAILED (exit status $status, $found new finding(s); log: $out/$t.log)"
        failed=$((failed + 1))
    else
        echo "$t: ok"
        passed=$((passed + 1))
    fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
