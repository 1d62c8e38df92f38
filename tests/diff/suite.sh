#!/usr/bin/env bash
# suite.sh (diff) — differential tests: random valid modules from binaryen's
# `wasm-opt -ttf`, run in sluice (tests/diff/diff_host.c) and in V8 (node,
# tests/diff/run_node.mjs); their logs must be identical. See README.md.
#
#   DIFF_COUNT   modules to test (default 30)
#   DIFF_SEED    seed name (default "ci"; "random" picks a fresh one, printed)
#   DIFF_CALL_MS sluice watchdog per call (default 2000)
#   DIFF_NODE_TIMEOUT seconds for one node run (default 30)
#   DIFF_KEEP=1  keep every module and log, not only the failing ones
#   DIFF_REFS=1  also enable reference types (see below)
#
# Module i is `wasm-opt -ttf` of 2-16 KiB of SHAKE-256("sluice-diff-SEED-i"),
# so a (SEED, i) pair always gives the same module. Features: WebAssembly
# 2.0 (MVP + sign-ext, non-trapping float-to-int, bulk memory, multi-value,
# mutable globals) without reference types by default: binaryen 108's -ttf
# with reference types emits pre-standard code (anyref, typed references,
# ref.as_non_null) that both engines rightly reject in ~95% of modules.
# With DIFF_REFS=1 a module both engines reject is regenerated from the
# same seed without reference types (the log says "refs off").
# Compared: every line. A call that sluice's watchdog interrupted, or a
# node run killed by its timeout, ends the comparison at that call (the rest
# of the module is not comparable). Load/instantiate error messages are
# compared as "error" only. A module passes when the compared logs are
# identical; it is skipped when wasm-opt failed or nothing could be compared.
# Failing modules and both logs are kept in $BUILD/tests/diff/fail/.
# Last line: "diff: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
CC="${CC:-cc}"
SAN="${SAN:-}"
DEFS="${DEFS:-}"
count="${DIFF_COUNT:-30}"
seed="${DIFF_SEED:-ci}"
call_ms="${DIFF_CALL_MS:-2000}"
node_timeout="${DIFF_NODE_TIMEOUT:-30}"
lib="$BUILD/libsluice.a"
out="$BUILD/tests/diff"
host="$out/diff_host"
passed=0 failed=0 skipped=0

summary_fail() {
    echo "diff: $1"
    echo "diff: 0 passed, 1 failed, 0 skipped"
    exit 1
}
[ -f "$lib" ] || summary_fail "$lib is not built"
for tool in wasm-opt node python3; do
    command -v "$tool" >/dev/null 2>&1 || summary_fail "$tool not found (make deps)"
done
if [ "$seed" = random ]; then
    seed=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
fi
echo "diff: seed $seed, $count modules (rerun with DIFF_SEED=$seed DIFF_COUNT=$count)"

rm -rf "$out/work" "$out/fail"
mkdir -p "$out/work" "$out/fail"
# shellcheck disable=SC2086  # SAN and DEFS are flag lists
if ! $CC -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra $SAN $DEFS -Iinclude \
    tests/diff/diff_host.c "$lib" -lm -lpthread -o "$host" >"$out/diff_host.build.log" 2>&1; then
    sed 's/^/#   /' "$out/diff_host.build.log" | head -n 10
    summary_fail "tests/diff/diff_host.c does not build against $lib"
fi

# All seed files in one go.
python3 - "$seed" "$count" "$out/work" <<'EOF'
import hashlib, sys
seed, count, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(1, count + 1):
    key = f"sluice-diff-{seed}-{i}".encode()
    n = 2048 + int.from_bytes(hashlib.sha256(key).digest()[:4], "little") % (14 * 1024)
    with open(f"{d}/m{i}.seed", "wb") as f:
        f.write(hashlib.shake_256(key).digest(n))
EOF

base_feats=(--mvp-features --enable-sign-ext --enable-nontrapping-float-to-int
    --enable-bulk-memory --enable-multivalue --enable-mutable-globals)

# normalize LOG > OUT: error messages differ between engines by design.
normalize() {
    sed -E 's/^(load error|instantiate error) .*/\1/' "$1"
}

# compare_prefix S N: prints the number of leading lines to compare, or
# "all". A log is cut at the "call" line of a call that did not finish:
# sluice's "skip NAME interrupted", or a node log without "end".
cut_len() { # cut_len LOG -> lines before the unfinished call, or "all"
    awk '
        /^call / { last_call = NR - 1 }
        /^skip / { print last_call; cut = 1; exit }
        /^end$/ { ended = 1 }
        END { if (!cut) print (ended ? "all" : last_call + 0) }
    ' "$1"
}

run_pair() { # run_pair WASM PREFIX: writes PREFIX.sluice, PREFIX.node
    local st=0
    timeout 300 "$host" "$1" "$call_ms" >"$2.sluice" 2>"$2.sluice.err" || st=$?
    echo "$st" >"$2.sluice.status"
    st=0
    timeout "$node_timeout" node tests/diff/run_node.mjs "$1" >"$2.node" 2>"$2.node.err" || st=$?
    echo "$st" >"$2.node.status"
}

for i in $(seq 1 "$count"); do
    m="$out/work/m$i"
    refs="refs off"
    ref_feats=()
    if [ "${DIFF_REFS:-0}" = 1 ]; then
        refs="refs on"
        ref_feats=(--enable-reference-types)
    fi
    if ! wasm-opt "$m.seed" -ttf "${base_feats[@]}" ${ref_feats[@]+"${ref_feats[@]}"} \
        -o "$m.wasm" >"$m.wasmopt.log" 2>&1; then
        refs="refs off"
        if ! wasm-opt "$m.seed" -ttf "${base_feats[@]}" -o "$m.wasm" >"$m.wasmopt.log" 2>&1; then
            echo "skip - m$i: wasm-opt -ttf failed: $(head -n 1 "$m.wasmopt.log")"
            skipped=$((skipped + 1))
            continue
        fi
    fi
    run_pair "$m.wasm" "$m"
    if [ "$refs" = "refs on" ] && [ "$(head -n 1 "$m.node" | cut -c1-10)" = "load error" ] \
        && [ "$(head -n 1 "$m.sluice" | cut -c1-10)" = "load error" ]; then
        refs="refs off"
        wasm-opt "$m.seed" -ttf "${base_feats[@]}" -o "$m.wasm" >"$m.wasmopt.log" 2>&1
        run_pair "$m.wasm" "$m"
    fi
    sst=$(cat "$m.sluice.status")
    if [ "$sst" -ne 0 ] || ! grep -qx end "$m.sluice"; then
        if [ "$sst" -eq 124 ]; then
            echo "not ok - m$i ($refs): diff_host hung (killed after 300 s)"
        else
            echo "not ok - m$i ($refs): diff_host crashed (exit status $sst)"
        fi
        grep -E 'ERROR|runtime error|SUMMARY|#[0-9] ' "$m.sluice.err" | head -n 12 | sed 's/^/#   /'
        echo "#   reproduce: $host $out/fail/m$i.wasm"
        cp "$m.wasm" "$m.sluice" "$m.sluice.err" "$m.node" "$out/fail/"
        failed=$((failed + 1))
        continue
    fi
    normalize "$m.sluice" >"$m.s"
    normalize "$m.node" >"$m.n"
    cs=$(cut_len "$m.s")
    cn=$(cut_len "$m.n")
    note=""
    [ "$cs" != all ] && note=" (sluice interrupted: compared up to line $cs)"
    [ "$cn" != all ] && note="$note (node timed out/died: compared up to line $cn)"
    if [ "$cs" = all ] && [ "$cn" = all ]; then
        n=$(wc -l <"$m.s")
        [ "$(wc -l <"$m.n")" -gt "$n" ] && n=$(wc -l <"$m.n")
    elif [ "$cs" = all ]; then
        n=$cn
    elif [ "$cn" = all ]; then
        n=$cs
    else
        n=$((cs < cn ? cs : cn))
    fi
    calls=$(head -n "$n" "$m.s" | grep -c '^call ' || true)
    if cmp -s <(head -n "$n" "$m.s") <(head -n "$n" "$m.n"); then
        if [ "$n" -le 1 ] || { [ "$calls" -eq 0 ] && [ -n "$note" ]; }; then
            echo "skip - m$i ($refs): nothing comparable$note"
            skipped=$((skipped + 1))
        else
            what="$calls calls"
            grep -q '^load error' "$m.s" && what="both reject it"
            grep -q '^instantiate ' "$m.s" && ! grep -q '^instantiate ok' "$m.s" \
                && what="both fail to instantiate"
            echo "ok - m$i ($refs): $what$note"
            passed=$((passed + 1))
        fi
        if [ "${DIFF_KEEP:-0}" = 1 ]; then
            mkdir -p "$out/keep" && cp "$m.wasm" "$m.sluice" "$m.node" "$out/keep/"
        fi
    else
        echo "not ok - m$i ($refs): sluice and V8 differ$note"
        diff <(head -n "$n" "$m.s") <(head -n "$n" "$m.n") | head -n 12 | sed 's/^/#   /' || true
        cp "$m.wasm" "$m.sluice" "$m.node" "$out/fail/"
        echo "#   module: $out/fail/m$i.wasm (seed $seed, i=$i)"
        echo "#   reproduce: $host $out/fail/m$i.wasm; node tests/diff/run_node.mjs $out/fail/m$i.wasm"
        failed=$((failed + 1))
    fi
done

[ "${DIFF_KEEP:-0}" = 1 ] || rm -rf "$out/work"
echo "diff: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
