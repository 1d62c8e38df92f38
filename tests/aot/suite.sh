#!/usr/bin/env bash
# suite.sh (aot) — the AOT tier against the real binary:
#   * the whole spec suite (tests/wast/*.wast) with `sluice spectest --aot`;
#   * traps, the interrupt (timeout) in a loop, guard-page faults, stack
#     exhaustion and backtrace names in native code (tests/aot/loop.wat);
#   * artifacts: a good one runs; a truncated, a corrupted, another
#     module's and a wrong-ABI one are each refused with a message naming
#     the problem, and never run.
# Artifacts go to $BUILD/tests/aot/ (cache included), never $HOME.
# Needs a C compiler at run time (cc); without one the suite says so and
# fails, since AOT is a supported feature. Last line:
# "aot: N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD="${BUILD:-build}"
out="$BUILD/tests/aot"
sluice="$BUILD/sluice"
cache="$out/cache"
passed=0 failed=0 skipped=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
bad() { echo "not ok - $1"; failed=$((failed + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

rm -rf "$out"
mkdir -p "$out" "$cache"
if [ ! -x "$sluice" ] || ! command -v "${SLUICE_CC:-cc}" >/dev/null 2>&1; then
    echo "aot: needs $sluice and a C compiler (cc)"
    echo "aot: 0 passed, 1 failed, 0 skipped"
    exit 1
fi

# ---- the spec suite in AOT mode ----
count_re=': ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$'
for wast in tests/wast/*.wast; do
    name=$(basename "$wast" .wast)
    dir="$out/wast/$name"
    mkdir -p "$dir"
    if ! wast2json "$wast" -o "$dir/$name.json" >"$dir/wast2json.log" 2>&1; then
        bad "$wast: wast2json failed"
        continue
    fi
    result=$("$sluice" spectest --aot-cache "$cache" "$dir/$name.json" 2>&1)
    line=$(printf '%s\n' "$result" | grep -E "$count_re" | tail -n 1)
    if [[ $line =~ $count_re ]]; then
        echo "$wast [aot]: ${BASH_REMATCH[1]} passed, ${BASH_REMATCH[2]} failed, ${BASH_REMATCH[3]} skipped"
        printf '%s\n' "$result" | grep -E '^  line' | head -n 5
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        skipped=$((skipped + BASH_REMATCH[3]))
    else
        bad "$wast [aot]: no result"
        printf '%s\n' "$result" | tail -n 5 | sed 's/^/#   /'
    fi
done

# ---- traps, interrupts, faults, stack, names ----
wat2wasm --debug-names tests/aot/loop.wat -o "$out/loop.wasm"
"$sluice" compile --quiet "$out/loop.wasm" -o "$out/loop.slaot" 2>"$out/compile.err"
check "compile writes an artifact" '[ -s "$out/loop.slaot" ]'
run() { # run FUNC [ARGS...]
    local f=$1
    shift
    "$sluice" run --aot-file "$out/loop.slaot" --invoke "$f" "$out/loop.wasm" "$@"
}

start=$(date +%s%N)
msg=$("$sluice" run --aot-file "$out/loop.slaot" --timeout 200 --invoke spin "$out/loop.wasm" 2>&1)
st=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "a native endless loop is interrupted by --timeout (${ms} ms)" \
    '[ $st -eq 134 ] && [[ $msg == *interrupted* ]] && [ $ms -lt 5000 ]'
msg=$(run outer 0 2>&1); st=$?
msg2=$(run outer 3 2>&1)
check "a native trap: divide by zero, exit 134" '[ $st -eq 134 ] && [[ $msg == *"integer divide by zero"* ]]'
check "the native backtrace names the frames, innermost first" \
    '[[ $msg2 == *"0: inner"*": outer"* ]] && [ $st -eq 134 ]'
echo "$msg2" | sed 's/^/#   /'
msg=$(run oob 2>&1); st=$?
check "a guard-page fault in native code is an out-of-bounds trap" \
    '[ $st -eq 134 ] && [[ $msg == *"out of bounds memory access"* ]] && [[ $msg == *oob* ]]'
msg=$(run deep 10000 2>&1); st=$?
check "deep but finite recursion (10000) runs: $msg" '[ $st -eq 0 ] && [ "$msg" = 10000 ]'
msg=$(run rec 2>&1); st=$?
check "endless recursion exhausts the stack and traps" \
    '[ $st -eq 134 ] && [[ $msg == *"call stack exhausted"* ]]'
check "the interpreter gives the same deep result" \
    '[ "$("$sluice" run --invoke deep "$out/loop.wasm" 10000 2>&1)" = 10000 ]'

# ---- artifact safety ----
# Each bad artifact must be refused before it runs: exit 1 (load error),
# never 0 or a crash, with a message naming the problem.
refuse() { # refuse NAME FILE PATTERN
    pat=$3
    msg=$("$sluice" run --aot-file "$2" --invoke outer "$out/loop.wasm" 1 2>&1)
    st=$?
    check "$1 is refused: ${msg%%$'\n'*}" '[ $st -eq 1 ] && [[ $msg == *"$pat"* ]]'
}
size=$(stat -c %s "$out/loop.slaot")
head -c $((size / 2)) "$out/loop.slaot" >"$out/truncated.slaot"
refuse "a truncated artifact" "$out/truncated.slaot" "truncated"
head -c 40 "$out/loop.slaot" >"$out/stub.slaot"
refuse "a header-only stub" "$out/stub.slaot" "truncated"
cp "$out/loop.slaot" "$out/corrupt.slaot"
printf '\xff\xfe' | dd of="$out/corrupt.slaot" bs=1 seek=$((size - 300)) conv=notrunc status=none
refuse "a corrupted artifact" "$out/corrupt.slaot" "corrupted"
cp "$out/loop.slaot" "$out/abi.slaot"
printf '\x63' | dd of="$out/abi.slaot" bs=1 seek=8 conv=notrunc status=none
refuse "an artifact of another engine ABI" "$out/abi.slaot" "ABI"
cp "$out/loop.slaot" "$out/build.slaot"
printf '\x5a' | dd of="$out/build.slaot" bs=1 seek=115 conv=notrunc status=none
refuse "an artifact of another sluice build (headers hash)" "$out/build.slaot" "another sluice build"
printf 'not an artifact at all, just text\n%.0s' {1..10} >"$out/text.slaot"
refuse "a file that is not an artifact" "$out/text.slaot" "not a sluice artifact"
printf '(module (func (export "outer") (param i32) (result i32) (local.get 0)))' >"$out/other.wat"
wat2wasm "$out/other.wat" -o "$out/other.wasm"
"$sluice" compile --quiet "$out/other.wasm" -o "$out/other.slaot"
refuse "another module's artifact" "$out/other.slaot" "another module"
msg=$("$sluice" run --aot-file "$out/loop.slaot" --invoke deep "$out/loop.wasm" 1 2>&1); st=$?
check "the good artifact still runs after all that" '[ $st -eq 0 ] && [ "$msg" = 1 ]'

# ---- the cache ----
rm -rf "$out/c2"
msg=$("$sluice" run --aot --aot-cache "$out/c2" --invoke deep "$out/loop.wasm" 7 2>&1)
check "run --aot compiles into the cache on first use" \
    '[ "$msg" = 7 ] && [ "$(ls "$out/c2"/*.slaot | wc -l)" = 1 ]'
f=$(ls "$out/c2"/*.slaot | head -n 1)
printf "\xff\xfe\xfd" | dd of="$f" bs=1 seek=$(( $(stat -c %s "$f") - 300 )) conv=notrunc status=none
msg=$("$sluice" run --aot --aot-cache "$out/c2" --invoke deep "$out/loop.wasm" 8 2>&1)
st=$?
check "a corrupted cache entry is refused, recompiled, and the call works" \
    '[ $st -eq 0 ] && [[ $msg == *corrupted* ]] && [[ $msg == *8 ]]'

echo "aot: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
