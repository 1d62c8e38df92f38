#!/usr/bin/env bash
# suite.sh (diff) — differential tests: random valid modules from binaryen's
# `wasm-opt -ttf`, run in sluice (tests/diff/diff_host.c) and in V8 (node,
# tests/diff/run_node.mjs); their logs must be identical. See README.md.
#
#   DIFF_COUNT   modules to test (default 30)
#   DIFF_SEED    seed name (default "ci"; "random" picks a fresh one, printed)
#   DIFF_FIRST   index of the first module (default 1), to rerun one module
#   DIFF_CALL_MS sluice watchdog per call (default 2000)
#   DIFF_NODE_TIMEOUT seconds for one node run (default 30)
#   DIFF_KEEP=1  keep every module and log, not only the failing ones
#   DIFF_REFS=1  also enable reference types (see below)
#
# Module i is `wasm-opt -ttf` of 2-48 KiB of SHAKE-256("sluice-diff-SEED-i"),
# so a (SEED, i) pair always gives the same module; every 4th module (i%4=1)
# is also optimized with -O2 and every (i%4=3) with -O3, for code shapes that
# -ttf alone does not make. Features: WebAssembly
# 2.0 (MVP + sign-ext, non-trapping float-to-int, bulk memory, multi-value,
# mutable globals) without reference types by default: binaryen 108's -ttf
# with reference types emits pre-standard code (anyref, typed references,
# ref.as_non_null) that both engines rightly reject in ~95% of modules.
# With DIFF_REFS=1 a module both engines reject is regenerated from the
# same seed without reference types (the log says "refs off").
# Compared: every line. When the logs differ, the module is run again after
# `wasm-opt --denan`; if that agrees, the difference was only in the bits of
# NaNs (nondeterministic in the spec) and the module passes, saying so. A call that sluice's watchdog interrupted, or a
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
first="${DIFF_FIRST:-1}"
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
echo "diff: seed $seed, $count modules from $first (rerun with DIFF_SEED=$seed DIFF_FIRST=$first DIFF_COUNT=$count)"

rm -rf "$out/work" "$out/fail"
mkdir -p "$out/work" "$out/fail"
# shellcheck disable=SC2086  # SAN and DEFS are flag lists
if ! $CC -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra $SAN $DEFS -Iinclude \
    tests/diff/diff_host.c "$lib" -lcrypto -lm -lpthread -o "$host" >"$out/diff_host.build.log" 2>&1; then
    sed 's/^/#   /' "$out/diff_host.build.log" | head -n 10
    summary_fail "tests/diff/diff_host.c does not build against $lib"
fi

# Interpreter-vs-AOT comparison needs a C compiler at run time.
aot_ok=0
command -v "${SLUICE_CC:-cc}" >/dev/null 2>&1 && aot_ok=1
[ "$aot_ok" = 1 ] || echo "# no C compiler: the interpreter-vs-AOT comparison is skipped"

# All seed files in one go.
python3 - "$seed" "$first" "$count" "$out/work" <<'EOF'
import hashlib, sys
seed, first, count, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
for i in range(first, first + count):
    key = f"sluice-diff-{seed}-{i}".encode()
    n = 2048 + int.from_bytes(hashlib.sha256(key).digest()[:4], "little") % (46 * 1024)
    with open(f"{d}/m{i}.seed", "wb") as f:
        f.write(hashlib.shake_256(key).digest(n))
EOF

base_feats=(--mvp-features --enable-sign-ext --enable-nontrapping-float-to-int
    --enable-bulk-memory --enable-multivalue --enable-mutable-globals)

# normalize LOG > OUT: error messages differ between engines by design.
normalize() {
    sed -E 's/^(load error|instantiate error) .*/\1/' "$1"
}

# cut_len LOG: prints how many leading lines are comparable, or "all". A
# log is cut at the "call" line of a call that did not finish: sluice's
# "skip NAME interrupted", or a node log without "end".
cut_len() {
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

# host_ok PREFIX: false (and says why) when diff_host crashed or hung.
host_ok() {
    local sst
    sst=$(cat "$1.sluice.status")
    if [ "$sst" -eq 0 ] && grep -qx end "$1.sluice"; then
        return 0
    fi
    if [ "$sst" -eq 124 ]; then
        echo "not ok - m$i ($refs): diff_host hung (killed after 300 s)"
    else
        echo "not ok - m$i ($refs): diff_host crashed (exit status $sst)"
    fi
    grep -E 'ERROR|runtime error|SUMMARY|#[0-9] ' "$1.sluice.err" | head -n 12 | sed 's/^/#   /'
    return 1
}

# judge PREFIX: compares PREFIX.sluice and PREFIX.node. Sets verdict
# (same, differ, nothing), n (lines compared), note and what.
judge() {
    local cs cn calls
    normalize "$1.sluice" >"$1.s"
    normalize "$1.node" >"$1.n"
    cs=$(cut_len "$1.s")
    cn=$(cut_len "$1.n")
    note=""
    [ "$cs" != all ] && note=" (sluice interrupted: compared up to line $cs)"
    [ "$cn" != all ] && note="$note (node timed out/died: compared up to line $cn)"
    if [ "$cs" = all ] && [ "$cn" = all ]; then
        n=$(wc -l <"$1.s")
        [ "$(wc -l <"$1.n")" -gt "$n" ] && n=$(wc -l <"$1.n")
    elif [ "$cs" = all ]; then
        n=$cn
    elif [ "$cn" = all ]; then
        n=$cs
    else
        n=$((cs < cn ? cs : cn))
    fi
    calls=$(head -n "$n" "$1.s" | grep -c '^call ' || true)
    what="$calls calls"
    grep -q '^load error' "$1.s" && what="both reject it"
    grep -q '^instantiate ' "$1.s" && ! grep -q '^instantiate ok' "$1.s" \
        && what="both fail to instantiate"
    if ! cmp -s <(head -n "$n" "$1.s") <(head -n "$n" "$1.n"); then
        verdict=differ
    elif [ "$n" -le 1 ] || { [ "$calls" -eq 0 ] && [ -n "$note" ]; }; then
        verdict=nothing
    else
        verdict=same
    fi
}

for i in $(seq "$first" $((first + count - 1))); do
    m="$out/work/m$i"
    refs="refs off"
    ref_feats=()
    if [ "${DIFF_REFS:-0}" = 1 ]; then
        refs="refs on"
        ref_feats=(--enable-reference-types)
    fi
    opt=()
    case $((i % 4)) in 1) opt=(-O2) ;; 3) opt=(-O3) ;; esac
    refs="$refs${opt[0]:+, ${opt[0]}}"
    if ! wasm-opt "$m.seed" -ttf "${base_feats[@]}" ${ref_feats[@]+"${ref_feats[@]}"} \
        ${opt[@]+"${opt[@]}"} -o "$m.wasm" >"$m.wasmopt.log" 2>&1; then
        refs="refs off${opt[0]:+, ${opt[0]}}"
        ref_feats=()
        if ! wasm-opt "$m.seed" -ttf "${base_feats[@]}" ${opt[@]+"${opt[@]}"} -o "$m.wasm" \
            >"$m.wasmopt.log" 2>&1; then
            echo "skip - m$i: wasm-opt -ttf failed: $(head -n 1 "$m.wasmopt.log")"
            skipped=$((skipped + 1))
            continue
        fi
    fi
    run_pair "$m.wasm" "$m"
    if [ "${refs:0:7}" = "refs on" ] && [ "$(head -n 1 "$m.node" | cut -c1-10)" = "load error" ] \
        && [ "$(head -n 1 "$m.sluice" | cut -c1-10)" = "load error" ]; then
        refs="refs off${opt[0]:+, ${opt[0]}}"
        ref_feats=()
        wasm-opt "$m.seed" -ttf "${base_feats[@]}" ${opt[@]+"${opt[@]}"} -o "$m.wasm" \
            >"$m.wasmopt.log" 2>&1
        run_pair "$m.wasm" "$m"
    fi
    if ! host_ok "$m"; then
        cp "$m.wasm" "$m.sluice" "$m.sluice.err" "$m.node" "$out/fail/"
        echo "#   reproduce: $host $out/fail/m$i.wasm"
        failed=$((failed + 1))
        continue
    fi
    judge "$m"
    if [ "$verdict" = differ ]; then
        # Arithmetic NaN results may legally differ in sign and payload; when
        # they reach memory or an integer they change hashes and logs. Rerun
        # with binaryen's --denan (every NaN a float op makes becomes 0): if
        # the logs agree then, the difference was NaN bits only.
        cp "$m.s" "$m.raw.s"
        cp "$m.n" "$m.raw.n"
        raw_n=$n
        if wasm-opt "$m.wasm" "${base_feats[@]}" ${ref_feats[@]+"${ref_feats[@]}"} --denan \
            -o "$m.denan.wasm" >/dev/null 2>&1; then
            run_pair "$m.denan.wasm" "$m.denan"
            if host_ok "$m.denan"; then
                judge "$m.denan"
                [ "$verdict" = differ ] || verdict=nan_only
            else
                cp "$m.denan.wasm" "$out/fail/m$i.denan.wasm"
                verdict=differ
            fi
        fi
    fi
    # Interpreter vs AOT: the same host, the module's native code. Both are
    # sluice on this machine, so the logs must match line for line up to
    # where either run was interrupted (AOT is faster: it may get further).
    if [ "$aot_ok" = 1 ] && [ "$verdict" != differ ]; then
        st=0
        SLUICE_DIFF_AOT="$out/aot-cache" timeout 300 "$host" "$m.wasm" "$call_ms" \
            >"$m.aot" 2>"$m.aot.err" || st=$?
        normalize "$m.aot" >"$m.a"
        ca=$(cut_len "$m.a")
        cs=$(cut_len "$m.s")
        if [ "$cs" = all ] && [ "$ca" = all ]; then
            na=$(wc -l <"$m.s")
            [ "$(wc -l <"$m.a")" -gt "$na" ] && na=$(wc -l <"$m.a")
        elif [ "$cs" = all ]; then na=$ca
        elif [ "$ca" = all ]; then na=$cs
        else na=$((cs < ca ? cs : ca)); fi
        if [ "$st" -ne 0 ] || ! grep -qx end "$m.aot"; then
            echo "not ok - m$i ($refs): AOT run failed (exit status $st)"
            head -n 5 "$m.aot.err" | sed 's/^/#   /'
            cp "$m.wasm" "$m.sluice" "$m.aot" "$out/fail/"
            failed=$((failed + 1))
            continue
        elif ! cmp -s <(head -n "$na" "$m.s") <(head -n "$na" "$m.a"); then
            echo "not ok - m$i ($refs): interpreter and AOT differ"
            diff <(head -n "$na" "$m.s") <(head -n "$na" "$m.a") | head -n 12 | sed 's/^/#   /' || true
            cp "$m.wasm" "$m.sluice" "$m.aot" "$out/fail/"
            echo "#   reproduce: SLUICE_DIFF_AOT=/tmp/c $host $out/fail/m$i.wasm"
            failed=$((failed + 1))
            continue
        fi
        note="$note (AOT agrees)"
    fi
    case "$verdict" in
    same)
        echo "ok - m$i ($refs): $what$note"
        passed=$((passed + 1))
        ;;
    nan_only)
        echo "ok - m$i ($refs): NaN bits differ (legal), the --denan build agrees: $what$note"
        passed=$((passed + 1))
        ;;
    nothing)
        echo "skip - m$i ($refs): nothing comparable$note"
        skipped=$((skipped + 1))
        ;;
    *)
        echo "not ok - m$i ($refs): sluice and V8 differ$note"
        diff <(head -n "$raw_n" "$m.raw.s") <(head -n "$raw_n" "$m.raw.n") | head -n 12 \
            | sed 's/^/#   /' || true
        cp "$m.wasm" "$m.sluice" "$m.node" "$out/fail/"
        echo "#   module: $out/fail/m$i.wasm (seed $seed, i=$i)"
        echo "#   reproduce: $host $out/fail/m$i.wasm; node tests/diff/run_node.mjs $out/fail/m$i.wasm"
        failed=$((failed + 1))
        ;;
    esac
    if [ "${DIFF_KEEP:-0}" = 1 ]; then
        mkdir -p "$out/keep" && cp "$m.wasm" "$m.sluice" "$m.node" "$out/keep/"
    fi
done

[ "${DIFF_KEEP:-0}" = 1 ] || rm -rf "$out/work"
echo "diff: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
