#!/usr/bin/env bash
# tests/cli/suite.sh — the engine's limits and failure paths through the real
# `sluice` binary: interrupts (--timeout) in loops and in recursion without
# loops, call-stack exhaustion without a native overflow, trap backtraces with
# names from the name section, the memory-page limit, exit codes, and
# load/validation errors with byte offsets. Modules are written in WAT here
# and assembled with wabt's wat2wasm at test time.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SLUICE=$BUILD/sluice
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1 ($2)"; failed=$((failed + 1)); }

wat() { # name, then WAT text on stdin
    wat2wasm --debug-names - -o "$tmp/$1.wasm" 2>"$tmp/$1.err" || { cat "$tmp/$1.err"; return 1; }
}
run() { # run sluice with a time bound; sets rc, out, err
    timeout 20 "$SLUICE" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

wat loops <<'W'
(module
  (func $spin (export "spin") (loop (br 0)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (call $recurse (i32.add (local.get 0) (i32.const 1))))
  (func $mutual_a (param i32) (result i32) (call $mutual_b (local.get 0)))
  (func $mutual_b (param i32) (result i32) (call $mutual_a (local.get 0)))
  (func (export "mutual") (result i32) (call $mutual_a (i32.const 0)))
  (func $inner (export "inner") (result i32) (i32.div_s (i32.const 1) (i32.const 0)))
  (func $middle (result i32) (call $inner))
  (func $outer (export "outer") (result i32) (call $middle))
  (memory 1 100)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "add") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  ;; exponential recursion without any loop: only the call-site poll can stop it
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2))))))))
W

# ---- interrupts -------------------------------------------------------------------
start=$(date +%s%N)
run run --timeout 200 --invoke spin "$tmp/loops.wasm"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$rc" = 134 ] && grep -q "interrupted" <<<"$err" && [ "$ms" -lt 5000 ]; then
    ok "--timeout interrupts an infinite loop (${ms} ms, exit 134)"
else
    not_ok "--timeout interrupts an infinite loop" "rc=$rc ms=$ms err=$err"
fi

run run --timeout 200 --invoke fib "$tmp/loops.wasm" 60
if [ "$rc" = 134 ] && grep -q "interrupted" <<<"$err" && grep -q "fib" <<<"$err"; then
    ok "--timeout interrupts loop-free recursion (polled at calls)"
else
    not_ok "--timeout in recursion" "rc=$rc err=$(head -c 300 <<<"$err")"
fi

# Recursion that only stops at the stack limit also stops on interrupt or exhaustion.
run run --timeout 5000 --invoke recurse "$tmp/loops.wasm" 0
if [ "$rc" = 134 ] && grep -q "call stack exhausted" <<<"$err"; then
    ok "unbounded recursion traps with 'call stack exhausted'"
else
    not_ok "unbounded recursion traps" "rc=$rc err=$(head -c 300 <<<"$err")"
fi
run run --invoke mutual "$tmp/loops.wasm"
if [ "$rc" = 134 ] && grep -q "call stack exhausted" <<<"$err"; then
    ok "mutual recursion traps cleanly, the process survives"
else
    not_ok "mutual recursion" "rc=$rc err=$(head -c 300 <<<"$err")"
fi

# ---- backtraces ---------------------------------------------------------------------
run run --invoke outer "$tmp/loops.wasm"
if [ "$rc" = 134 ] && grep -q "integer divide by zero" <<<"$err" &&
   grep -n "inner" <<<"$err" | head -1 | grep -q . &&
   awk '/inner/{i=NR} /middle/{m=NR} /outer/{o=NR} END{exit !(i && m && o && i<m && m<o)}' <<<"$err"; then
    ok "trap backtrace names inner, middle, outer (innermost first)"
else
    not_ok "trap backtrace" "rc=$rc err=$err"
fi

# ---- memory limit ---------------------------------------------------------------------
run run --max-memory-pages 4 --invoke grow "$tmp/loops.wasm" 3
r1=$out
run run --max-memory-pages 4 --invoke grow "$tmp/loops.wasm" 4
if [ "$r1" = 1 ] && [ "$out" = -1 ]; then
    ok "--max-memory-pages 4: grow to 4 pages works, to 5 returns -1"
else
    not_ok "--max-memory-pages" "grow 3 -> '$r1', grow 4 -> '$out'"
fi

# ---- values and usage -------------------------------------------------------------------
run run --invoke add "$tmp/loops.wasm" 9223372036854775807 1
if [ "$rc" = 0 ] && [ "$out" = -9223372036854775808 ]; then
    ok "--invoke i64 arguments and wrapping result"
else
    not_ok "--invoke add" "rc=$rc out=$out"
fi
run run --invoke nope "$tmp/loops.wasm"
if [ "$rc" = 1 ]; then ok "missing export: exit 1"; else not_ok "missing export" "rc=$rc"; fi
run frobnicate
if [ "$rc" = 2 ]; then ok "unknown command: exit 2"; else not_ok "unknown command" "rc=$rc"; fi

# ---- load errors ------------------------------------------------------------------------
printf '\0asm\1\0\0\0\1\5\1\140\0\1' >"$tmp/trunc.wasm"
run validate "$tmp/trunc.wasm"
if [ "$rc" = 1 ] && grep -q "unexpected end\|length out of bounds" <<<"$out$err" && grep -q "offset" <<<"$out$err"; then
    ok "validate: truncated module rejected with message and offset"
else
    not_ok "validate truncated" "rc=$rc out=$out err=$err"
fi
printf 'not wasm' >"$tmp/junk.wasm"
run run "$tmp/junk.wasm"
if [ "$rc" = 1 ] && grep -q "magic header not detected" <<<"$err"; then
    ok "run: junk file rejected ('magic header not detected')"
else
    not_ok "junk" "rc=$rc err=$err"
fi
wat2wasm --no-check - -o "$tmp/invalid.wasm" <<<'(module (func (result i32) (i64.const 1)))' 2>/dev/null
run validate "$tmp/invalid.wasm"
if [ "$rc" = 1 ] && grep -q "type mismatch" <<<"$out$err"; then
    ok "validate: type error reported as 'type mismatch'"
else
    not_ok "validate invalid" "rc=$rc out=$out err=$err"
fi

# ---- the embedding example of docs/embedding.md ----------------------------------------
wat embed_guest <<'W'
(module
  (import "env" "log" (func $log (param i32 i32)))
  (memory 1)
  (data (i32.const 8) "fib starts")
  (func $fib (export "fib") (param i32) (result i32)
    (if (i32.eq (local.get 0) (i32.const 30)) (then (call $log (i32.const 8) (i32.const 10))))
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2))))))))
W
if ${CC:-cc} -std=c11 -Wall -Wextra -Iinclude ${SAN:-} examples/embed/embed.c "$BUILD/libsluice.a" -lm -lpthread \
       -o "$tmp/embed" 2>"$tmp/cc.err"; then
    run_embed=$(timeout 20 "$tmp/embed" "$tmp/embed_guest.wasm" 2>&1)
    if [ "$run_embed" = $'guest: fib starts\nfib(30) = 832040' ]; then
        ok "examples/embed/embed.c (docs/embedding.md) builds and runs"
    else
        not_ok "examples/embed/embed.c" "output: $run_embed"
    fi
else
    not_ok "examples/embed/embed.c" "does not build: $(head -c 300 "$tmp/cc.err")"
fi

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
