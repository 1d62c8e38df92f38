#!/usr/bin/env bash
# bench/run.sh — compute kernels: native (gcc -O2) vs node (V8) vs sluice
# (interpreter) vs sluice's AOT tier (`sluice compile`, then run --aot-file).
#
#   make bench                 builds build/sluice, then runs this
#   BUILD=build bench/run.sh   run directly
#
# Environment (all optional):
#   BUILD=build        build directory; outputs go to $BUILD/bench/
#   RUNS=3             runs per kernel per runtime (the median is reported)
#   KERNELS="fib ..."  subset of kernels to run (default: all in bench/kernels/)
#   RUNTIMES="native node sluice aot"  subset of runtimes (aot = each kernel's
#                      wasm compiled once by `sluice compile` before any run,
#                      then `sluice run --aot-file`; compile time is reported
#                      on its own and is not in the kernel times)
#   AOT_JOBS=          --jobs for those compiles (default: sluice's, all CPUs)
#   SLUICE=$BUILD/sluice   the sluice binary
#   NODE=node          node binary
#   TIMEOUT=120        seconds per single run (a hung runtime cannot hang us)
#   SLOW_S=30          a run slower than this is not repeated (keeps the
#                      total bounded while an engine is still slow)
#   STARTUP_RUNS=20    runs for the start-up measurement (0 skips it)
#   BENCH_WAGI=1       then run bench/wagi.sh (WAGI route vs direct response)
#   BENCH_GATEWAY=1    then run bench/gateway.sh (gateway vs nginx as proxy;
#                      0 skips it; its own settings are listed in that file)
#   BENCH_PLUGINS=1    then run bench/plugins.sh (each proxy-wasm plugin's cost
#                      on the request path; 0 skips it)
#
# Each kernel prints checksum=... and time_ms=... (its own kernel section,
# timed with CLOCK_MONOTONIC, so process and engine start-up are excluded).
# Exit status: 0 when every runtime that ran agreed on every checksum;
# 1 on a checksum mismatch or a native/compile failure. A sluice failure
# shows "fail" in its cell but does not change the exit status
# (set BENCH_STRICT=1 to make it count); neither does a gateway bench that
# failed or missed its targets, nor does the plugin bench (with BENCH_STRICT=1
# they do).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=$BUILD/bench
RUNS=${RUNS:-3}
TIMEOUT=${TIMEOUT:-120}
SLOW_S=${SLOW_S:-30}
STARTUP_RUNS=${STARTUP_RUNS:-20}
SLUICE=${SLUICE:-$BUILD/sluice}
NODE=${NODE:-node}
RUNTIMES=${RUNTIMES:-native node sluice aot}
AOT_JOBS=${AOT_JOBS:-}
BENCH_STRICT=${BENCH_STRICT:-0}
if [ -z "${KERNELS:-}" ]; then
  KERNELS=""
  for k in fib sieve matmul sha256 crc32 nbody strparse bytecode; do
    [ -f "bench/kernels/$k.c" ] && KERNELS+="$k "
  done
  for f in bench/kernels/*.c; do # any kernel added later, after the fixed order
    k=$(basename "$f" .c)
    case " $KERNELS " in *" $k "*) ;; *) KERNELS+="$k " ;; esac
  done
fi

# --single-threaded-gc: node 20.20 (V8 11.3) segfaults at exit after the
# sha256/crc32 kernels when concurrent marking / parallel scavenge are on.
# GC does not run inside wasm code, so this does not change kernel times.
NODE_FLAGS=(--no-warnings --single-threaded-gc)

# Progress on a terminal only; logs of non-interactive runs stay clean.
if [ -t 2 ]; then progress() { printf "\r%-48s\r${1:-}" "" "${@:2}" >&2; }; else progress() { :; }; fi

CC_NATIVE=${CC_NATIVE:-gcc}
CC_WASM=${CC_WASM:-clang --target=wasm32-wasi --sysroot=/usr}
# -ffp-contract=off: no FMA contraction anywhere, so f64 results (matmul,
# nbody) are bit-identical between the native and the wasm build.
KFLAGS="-O2 -std=c11 -Wall -Wextra -ffp-contract=off"

mkdir -p "$OUT/native" "$OUT/wasm" "$OUT/logs" "$OUT/aot"
rm -f "$OUT"/logs/*

has_rt() { case " $RUNTIMES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
note() { printf '%s\n' "$*" >&2; }

# ---- build ---------------------------------------------------------------

# newer OUT SRC...: true when OUT is missing or older than any SRC.
newer() {
  local out=$1 s
  shift
  [ -e "$out" ] || return 0
  for s in "$@"; do [ "$s" -nt "$out" ] && return 0; done
  return 1
}

declare -A BUILT_NATIVE BUILT_WASM
for k in $KERNELS; do
  src=bench/kernels/$k.c
  deps=("$src" bench/kernels/bench.h bench/run.sh)
  BUILT_NATIVE[$k]=1
  BUILT_WASM[$k]=1
  if newer "$OUT/native/$k" "${deps[@]}"; then
    # shellcheck disable=SC2086
    if ! $CC_NATIVE $KFLAGS -o "$OUT/native/$k" "$src" -lm 2>"$OUT/logs/$k.cc-native.err"; then
      note "bench: native build of $k failed (see $OUT/logs/$k.cc-native.err)"
      rm -f "$OUT/native/$k"
      BUILT_NATIVE[$k]=0
    fi
  fi
  if newer "$OUT/wasm/$k.wasm" "${deps[@]}"; then
    # shellcheck disable=SC2086
    if ! $CC_WASM $KFLAGS -o "$OUT/wasm/$k.wasm" "$src" 2>"$OUT/logs/$k.cc-wasm.err"; then
      note "bench: wasm build of $k failed (see $OUT/logs/$k.cc-wasm.err)"
      rm -f "$OUT/wasm/$k.wasm"
      BUILT_WASM[$k]=0
    fi
  fi
done

if newer "$OUT/startup" bench/tools/startup.c; then
  $CC_NATIVE -O2 -Wall -Wextra -o "$OUT/startup" bench/tools/startup.c
fi
if newer "$OUT/native/hello" bench/hello.c; then
  $CC_NATIVE -O2 -o "$OUT/native/hello" bench/hello.c
fi
if newer "$OUT/wasm/hello.wasm" bench/hello.c; then
  # shellcheck disable=SC2086
  $CC_WASM -O2 -o "$OUT/wasm/hello.wasm" bench/hello.c
fi

SLUICE_OK=1
SLUICE_WHY=""
if has_rt sluice || has_rt aot; then
  if [ ! -x "$SLUICE" ]; then
    SLUICE_OK=0
    SLUICE_WHY="$SLUICE not built"
    note "bench: $SLUICE_WHY; sluice cells will say fail"
  fi
fi
NODE_OK=1
if has_rt node && ! command -v "$NODE" >/dev/null 2>&1; then
  NODE_OK=0
  note "bench: $NODE not found; node cells will say fail"
fi

# AOT: every kernel's wasm compiled once, before any run (always afresh: the
# artifact is tied to the engine build, and the compile time is reported).
# CT[k] = "seconds wasm_bytes s/MB" from `sluice compile`'s stderr line.
declare -A BUILT_AOT CT
aot_jobs=()
[ -n "$AOT_JOBS" ] && aot_jobs=(--jobs "$AOT_JOBS")
if has_rt aot; then
  for k in $KERNELS; do
    BUILT_AOT[$k]=0
    [ "${BUILT_WASM[$k]}" = 1 ] && [ "$SLUICE_OK" = 1 ] || continue
    progress '  aot compile %s ' "$k"
    rm -f "$OUT/aot/$k.slaot"
    if timeout -k 5 "$TIMEOUT" "$SLUICE" compile "${aot_jobs[@]}" "$OUT/wasm/$k.wasm" -o "$OUT/aot/$k.slaot" \
      2>"$OUT/logs/$k.aot-compile.err" </dev/null; then
      BUILT_AOT[$k]=1
      CT[$k]=$(sed -n 's/^sluice compile: .*: \([0-9.]*\) s, \([0-9]*\) bytes of wasm, \([0-9.]*\) s\/MB$/\1 \2 \3/p' "$OUT/logs/$k.aot-compile.err" | tail -1)
    else
      progress
      note "bench: sluice compile of $k failed (see $OUT/logs/$k.aot-compile.err): $(head -c 200 "$OUT/logs/$k.aot-compile.err" | tr '\n' ' ')"
    fi
  done
  progress
fi

# ---- run -----------------------------------------------------------------

# run_one RUNTIME KERNEL N: one run; sets R_MS, R_SUM, R_WALL (seconds)
# or returns 1 with R_WHY set.
run_one() {
  local rt=$1 k=$2 n=$3 log=$OUT/logs/$2.$1.$3 rc=0 t0 t1
  local -a cmd
  case $rt in
    native) cmd=("$OUT/native/$k") ;;
    node) cmd=("$NODE" "${NODE_FLAGS[@]}" bench/node_wasi.mjs "$OUT/wasm/$k.wasm") ;;
    sluice) cmd=("$SLUICE" run "$OUT/wasm/$k.wasm") ;;
    aot) cmd=("$SLUICE" run --aot-file "$OUT/aot/$k.slaot" "$OUT/wasm/$k.wasm") ;;
  esac
  t0=$EPOCHREALTIME
  # The outer 2>/dev/null only hides bash's own "Segmentation fault" notice.
  { timeout -k 5 "$TIMEOUT" "${cmd[@]}" >"$log.out" 2>"$log.err" </dev/null; } 2>/dev/null || rc=$?
  t1=$EPOCHREALTIME
  R_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  R_MS=$(sed -n 's/^time_ms=//p' "$log.out" | tail -1)
  R_SUM=$(sed -n 's/^checksum=//p' "$log.out" | tail -1)
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    R_WHY="timeout after ${TIMEOUT}s"
    return 1
  elif [ "$rc" != 0 ]; then
    R_WHY="exit $rc: $(sed -n 's/^error=//p' "$log.out" | head -1)$(head -c 200 "$log.err" | tr '\n' ' ')"
    return 1
  elif [ -z "$R_MS" ] || [ -z "$R_SUM" ]; then
    R_WHY="no time_ms/checksum in output"
    return 1
  fi
  return 0
}

median() { # numbers on stdin -> median
  sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A MED SUM WHY NRUNS
ERRORS=()
STATUS=0

total_t0=$EPOCHREALTIME
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
for k in $KERNELS; do
  declare -A times=() alive=()
  for rt in $RUNTIMES; do
    alive[$rt]=1
    times[$rt]=""
    SUM[$k.$rt]=""
    case $rt in
      native) [ "${BUILT_NATIVE[$k]}" = 1 ] || { alive[$rt]=0; WHY[$k.$rt]="build failed"; } ;;
      node) [ "${BUILT_WASM[$k]}" = 1 ] && [ "$NODE_OK" = 1 ] || { alive[$rt]=0; WHY[$k.$rt]="not runnable"; } ;;
      sluice) [ "${BUILT_WASM[$k]}" = 1 ] && [ "$SLUICE_OK" = 1 ] || { alive[$rt]=0; WHY[$k.$rt]=${SLUICE_WHY:-"wasm build failed"}; } ;;
      aot) [ "${BUILT_AOT[$k]:-0}" = 1 ] || { alive[$rt]=0; WHY[$k.$rt]=${SLUICE_WHY:-"sluice compile failed (see $OUT/logs/$k.aot-compile.err)"}; } ;;
    esac
  done
  # Interleave runtimes within each repetition so slow drift in machine load
  # (other builds on a 2-core box) hits every runtime alike.
  for ((n = 1; n <= RUNS; n++)); do
    for rt in $RUNTIMES; do
      [ "${alive[$rt]}" = 1 ] || continue
      progress '  %-9s %-6s run %d/%d ' "$k" "$rt" "$n" "$RUNS"
      if run_one "$rt" "$k" "$n"; then
        times[$rt]+="$R_MS "
        if [ -z "${SUM[$k.$rt]}" ]; then
          SUM[$k.$rt]=$R_SUM
        elif [ "${SUM[$k.$rt]}" != "$R_SUM" ]; then
          WHY[$k.$rt]="checksum changed between runs: ${SUM[$k.$rt]} vs $R_SUM"
          SUM[$k.$rt]="unstable"
        fi
        # Too slow to repeat: keep this one sample.
        if awk -v w="$R_WALL" -v s="$SLOW_S" 'BEGIN { exit !(w > s) }'; then
          alive[$rt]=0
        fi
      else
        alive[$rt]=0
        times[$rt]=""
        WHY[$k.$rt]=$R_WHY
        progress
        note "bench: $k on $rt failed: $R_WHY (logs: $OUT/logs/$k.$rt.$n.*)"
      fi
    done
  done
  progress
  for rt in $RUNTIMES; do
    if [ -n "${times[$rt]}" ]; then
      MED[$k.$rt]=$(printf '%s\n' ${times[$rt]} | median)
      NRUNS[$k.$rt]=$(wc -w <<<"${times[$rt]}")
    else
      MED[$k.$rt]=""
      SUM[$k.$rt]=""
    fi
  done
  unset times alive
done
total_s=$(awk -v a="$total_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

# ---- checksums -------------------------------------------------------------

declare -A REF BAD
for k in $KERNELS; do
  REF[$k]=""
  for rt in $RUNTIMES; do # the first runtime that produced one is the reference
    if [ -n "${SUM[$k.$rt]}" ] && [ "${SUM[$k.$rt]}" != unstable ]; then
      REF[$k]=${SUM[$k.$rt]}
      break
    fi
  done
  for rt in $RUNTIMES; do
    BAD[$k.$rt]=0
    if [ "${SUM[$k.$rt]}" = unstable ] ||
      { [ -n "${SUM[$k.$rt]}" ] && [ "${SUM[$k.$rt]}" != "${REF[$k]}" ]; }; then
      BAD[$k.$rt]=1
      ERRORS+=("$k: $rt checksum ${SUM[$k.$rt]} != ${REF[$k]}${WHY[$k.$rt]:+ (${WHY[$k.$rt]})}")
      STATUS=1
    fi
  done
  if has_rt native && [ -z "${MED[$k.native]}" ]; then
    ERRORS+=("$k: native failed: ${WHY[$k.native]:-?}")
    STATUS=1
  fi
  if has_rt node && [ -z "${MED[$k.node]}" ]; then
    ERRORS+=("$k: node failed: ${WHY[$k.node]:-?}")
    STATUS=1
  fi
  if has_rt sluice && [ -z "${MED[$k.sluice]}" ] && [ "$SLUICE_OK" = 1 ]; then
    ERRORS+=("$k: sluice failed: ${WHY[$k.sluice]:-?}")
    [ "$BENCH_STRICT" = 1 ] && STATUS=1
  fi
  if has_rt aot && [ -z "${MED[$k.aot]}" ] && [ "$SLUICE_OK" = 1 ]; then
    ERRORS+=("$k: aot failed: ${WHY[$k.aot]:-?}")
    [ "$BENCH_STRICT" = 1 ] && STATUS=1
  fi
done

if { has_rt sluice || has_rt aot; } && [ "$SLUICE_OK" = 0 ]; then
  ERRORS+=("sluice: $SLUICE_WHY (every sluice cell is fail)")
  [ "$BENCH_STRICT" = 1 ] && STATUS=1
fi

# ---- start-up --------------------------------------------------------------

HELLO=""
declare -A SU
if [ "$STARTUP_RUNS" -gt 0 ]; then
  ex=build/wasm/examples/hello.wasm # Makefile's WASM_OUT, independent of BUILD
  HELLO=$OUT/wasm/hello.wasm
  if [ -f "$ex" ]; then
    # Use the bundled example when it runs without extra arguments/preopens.
    if [ "$SLUICE_OK" = 1 ] && { has_rt sluice || has_rt aot; }; then
      timeout 10 "$SLUICE" run "$ex" >/dev/null 2>&1 </dev/null && HELLO=$ex
    elif [ "$NODE_OK" = 1 ]; then
      timeout 10 "$NODE" "${NODE_FLAGS[@]}" bench/node_wasi.mjs "$ex" >/dev/null 2>&1 </dev/null && HELLO=$ex
    fi
  fi
  # aot: the hello module compiled once, outside the timing; what is timed
  # is the process with the artifact loaded (checked, dlopen'ed) and run.
  HELLO_AOT=$OUT/aot/hello.slaot
  if has_rt aot && [ "$SLUICE_OK" = 1 ]; then
    "$SLUICE" compile -q "$HELLO" -o "$HELLO_AOT" 2>"$OUT/logs/hello.aot-compile.err" || rm -f "$HELLO_AOT"
  fi
  for rt in $RUNTIMES; do
    progress '  start-up %-6s ' "$rt"
    case $rt in
      native) cmd=("$OUT/native/hello") ;;
      node) [ "$NODE_OK" = 1 ] || { SU[$rt]="fail"; continue; }
        cmd=("$NODE" "${NODE_FLAGS[@]}" bench/node_wasi.mjs "$HELLO") ;;
      sluice) [ "$SLUICE_OK" = 1 ] || { SU[$rt]="fail"; continue; }
        cmd=("$SLUICE" run "$HELLO") ;;
      aot) [ "$SLUICE_OK" = 1 ] && [ -f "$HELLO_AOT" ] || { SU[$rt]="fail"; continue; }
        cmd=("$SLUICE" run --aot-file "$HELLO_AOT" "$HELLO") ;;
    esac
    line=$("$OUT/startup" "$STARTUP_RUNS" 10 "${cmd[@]}" || true)
    if [[ $line == *median_ms=* ]]; then
      med=${line#*median_ms=}
      med=${med%% *}
      min=${line#*min_ms=}
      min=${min%% *}
      SU[$rt]="$med|$min"
    else
      SU[$rt]="fail"
      progress
      note "bench: start-up on $rt failed: ${line#error=}"
    fi
  done
  progress
fi

# ---- report ----------------------------------------------------------------

fmt_ms() { awk -v v="$1" 'BEGIN { printf(v >= 100 ? "%.0f" : "%.1f", v) }'; }

# cell KERNEL RUNTIME -> text for one table cell
cell() {
  local k=$1 rt=$2 m=${MED[$1.$2]:-} base=${MED[$1.native]:-} s
  if [ -z "$m" ]; then
    s="fail"
  else
    s=$(fmt_ms "$m")
    if [ "$rt" != native ] && [ -n "$base" ]; then
      s+=" ($(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.2fx", a / b }'))"
    fi
    [ "${NRUNS[$k.$rt]:-$RUNS}" -lt "$RUNS" ] && s+=" [${NRUNS[$k.$rt]} run]"
  fi
  [ "${BAD[$k.$rt]:-0}" = 1 ] && s+=" CHECKSUM-MISMATCH"
  printf '%s' "$s"
}

geomean() { # RUNTIME [BASE=native] -> "1.23x (n/N)": geomean of RUNTIME/BASE
  local rt=$1 base=${2:-native} k logs="" n=0 total=0
  for k in $KERNELS; do
    total=$((total + 1))
    [ -n "${MED[$k.$rt]:-}" ] && [ -n "${MED[$k.$base]:-}" ] || continue
    [ "${BAD[$k.$rt]}" = 1 ] || [ "${BAD[$k.$base]}" = 1 ] && continue
    logs+="${MED[$k.$rt]} ${MED[$k.$base]} "
    n=$((n + 1))
  done
  if [ "$n" = 0 ]; then
    printf 'n/a'
  else
    awk -v l="$logs" -v n="$n" -v t="$total" 'BEGIN {
      c = split(l, v, " "); s = 0
      for (i = 1; i < c; i += 2) s += log(v[i] / v[i + 1])
      printf "%.2fx", exp(s / n); if (n < t) printf " (%d/%d kernels)", n, t }'
  fi
}

# aot_vs_node KERNEL -> "0.83x" (aot ms / node ms) or "n/a"
aot_vs_node() {
  local a=${MED[$1.aot]:-} b=${MED[$1.node]:-}
  if [ -z "$a" ] || [ -z "$b" ] || [ "${BAD[$1.aot]}" = 1 ] || [ "${BAD[$1.node]}" = 1 ]; then
    printf 'n/a'
  else
    awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }'
  fi
}
AOT_NODE=0
has_rt aot && has_rt node && AOT_NODE=1

read -ra RT_ARR <<<"$RUNTIMES"
header=("kernel")
for rt in "${RT_ARR[@]}"; do
  case $rt in
    native) header+=("native ms") ;;
    *) header+=("$rt ms (vs native)") ;;
  esac
done
[ "$AOT_NODE" = 1 ] && header+=("aot vs node")
rows=()
for k in $KERNELS; do
  row="$k"
  for rt in "${RT_ARR[@]}"; do row+=$'\t'"$(cell "$k" "$rt")"; done
  [ "$AOT_NODE" = 1 ] && row+=$'\t'"$(aot_vs_node "$k")"
  rows+=("$row")
done
gm="geomean"
for rt in "${RT_ARR[@]}"; do
  if [ "$rt" = native ]; then gm+=$'\t'"1.00x"; else gm+=$'\t'"$(geomean "$rt")"; fi
done
[ "$AOT_NODE" = 1 ] && gm+=$'\t'"$(geomean aot node)"

# AOT targets (the issue "AOT tier"): geomean aot/native <= 1.1x, and faster
# than node on every kernel. AOT_LINES: "text<TAB>value<TAB>PASS|MISS|n/a".
AOT_LINES=()
if has_rt aot; then
  g=$(geomean aot)
  if [ "$g" = n/a ]; then v=n/a; else v=$(awk -v g="${g%%x*}" -v p="$g" 'BEGIN { print (p ~ /kernels/) ? "MISS" : (g <= 1.10 ? "PASS" : "MISS") }'); fi
  AOT_LINES+=("geomean aot/native <= 1.10x"$'\t'"$g"$'\t'"$v")
  if [ "$AOT_NODE" = 1 ]; then
    faster=0 slower="" total=0
    for k in $KERNELS; do
      total=$((total + 1))
      r=$(aot_vs_node "$k")
      if [ "$r" != n/a ] && awk -v r="${r%x}" 'BEGIN { exit !(r < 1) }'; then faster=$((faster + 1)); else slower+="$k "; fi
    done
    v=PASS
    [ "$faster" = "$total" ] || v="MISS (not faster: ${slower% })"
    AOT_LINES+=("aot faster than node on every kernel"$'\t'"$faster/$total"$'\t'"$v")
  fi
fi
# Compile time per kernel (sluice compile, before the runs).
CT_ROWS=()
if has_rt aot; then
  for k in $KERNELS; do
    if [ -n "${CT[$k]:-}" ]; then
      read -r cs cb cm <<<"${CT[$k]}"
      CT_ROWS+=("$k"$'\t'"$(awk -v b="$cb" 'BEGIN { printf "%.0f", b / 1000 }')"$'\t'"$cs"$'\t'"$cm")
    else
      CT_ROWS+=("$k"$'\t'"fail"$'\t'$'\t')
    fi
  done
fi
AOT_REF="reference only, not run here (WAMR's wamrc is not packaged in Debian, so WAMR AOT cannot be run on these kernels): the issue's anchors are WAMR AOT CoreMark 1.24x native, PolyBench 0.74-1.46x; node CoreMark 1.15x, PolyBench 1.35-3.1x"

# Terminal table: column widths from the content.
{
  (IFS=$'\t'; echo "${header[*]}")
  printf '%s\n' "${rows[@]}"
  echo "$gm"
} | awk -F'\t' '
  { for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } if (NF > nf) nf = NF }
  END {
    for (r = 1; r <= NR; r++) {
      line = ""
      for (i = 1; i <= nf; i++) line = line sprintf(i == 1 ? "%-" w[i] "s" : "  %" w[i] "s", c[r, i])
      print line
      if (r == 1 || r == NR - 1) { sep = ""; for (i = 1; i <= nf; i++) { sep = sep (i > 1 ? "  " : ""); for (j = 0; j < w[i]; j++) sep = sep "-" } print sep }
    }
  }'

if [ "${#AOT_LINES[@]}" -gt 0 ]; then
  echo
  echo "aot targets:"
  for l in "${AOT_LINES[@]}"; do
    IFS=$'\t' read -r t v r <<<"$l"
    printf '  %-40s %-12s %s\n' "$t" "$v" "$r"
  done
  echo "  $AOT_REF"
fi
if [ "${#CT_ROWS[@]}" -gt 0 ]; then
  echo
  echo "aot compile (sluice compile${AOT_JOBS:+ --jobs $AOT_JOBS}, cc = ${SLUICE_CC:-cc}; not in the kernel times):"
  printf '  %-9s %8s %8s %8s\n' kernel "wasm KB" "s" "s/MB"
  for l in "${CT_ROWS[@]}"; do
    IFS=$'\t' read -r k kb cs cm <<<"$l"
    printf '  %-9s %8s %8s %8s\n' "$k" "$kb" "$cs" "$cm"
  done
fi

if [ "$STARTUP_RUNS" -gt 0 ]; then
  echo
  echo "start-up: $HELLO, wall time of the whole process, $STARTUP_RUNS runs (aot: run --aot-file of an artifact compiled beforehand)"
  for rt in "${RT_ARR[@]}"; do
    v=${SU[$rt]:-fail}
    if [ "$v" = fail ]; then
      printf '  %-7s fail\n' "$rt"
    else
      printf '  %-7s median %7.2f ms   min %7.2f ms\n' "$rt" "${v%|*}" "${v#*|}"
    fi
  done
fi

if [ "${#ERRORS[@]}" -gt 0 ]; then
  echo
  echo "problems:"
  printf '  %s\n' "${ERRORS[@]}"
fi
echo
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
echo "median of $RUNS runs each; kernel time only (time_ms). Took ${total_s}s; load average $LOAD0 at start, $LOAD1 at end (2 cores: above ~1 the numbers are noisy)."
echo "Markdown: $OUT/results.md"

# Markdown copy.
{
  echo "# sluice bench results"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)')"
  echo "- cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1) × $(nproc 2>/dev/null || echo '?')"
  echo "- native: $($CC_NATIVE --version | head -1) $KFLAGS"
  echo "- wasm: $(${CC_WASM%% *} --version | head -1) --target=wasm32-wasi $KFLAGS"
  if has_rt node; then echo "- node: $("$NODE" --version 2>/dev/null || echo missing)"; fi
  echo "- runs: median of $RUNS; numbers are the kernel's own time_ms (start-up excluded); ratio = runtime / native"
  echo "- load average: $LOAD0 at start, $LOAD1 at end (${total_s} s); on 2 cores, above ~1 means other work competed"
  echo
  printf '| %s ' "${header[@]}"; echo '|'
  printf '|---'; for _ in "${RT_ARR[@]}"; do printf '|---:'; done; [ "$AOT_NODE" = 1 ] && printf '|---:'; echo '|'
  for r in "${rows[@]}"; do echo "| ${r//$'\t'/ | } |"; done
  echo "| **${gm//$'\t'/** | **}** |"
  echo
  echo "checksums (all runtimes must agree):"
  echo
  for k in $KERNELS; do
    line="- $k: \`${REF[$k]:-none}\`"
    for rt in "${RT_ARR[@]}"; do
      [ "${BAD[$k.$rt]}" = 1 ] && line+=" — **$rt MISMATCH: \`${SUM[$k.$rt]}\`**"
    done
    echo "$line"
  done
  if [ "${#AOT_LINES[@]}" -gt 0 ]; then
    echo
    echo "aot targets:"
    echo
    for l in "${AOT_LINES[@]}"; do
      IFS=$'\t' read -r t v r <<<"$l"
      echo "- $t: $v — $r"
    done
    echo "- $AOT_REF"
  fi
  if [ "${#CT_ROWS[@]}" -gt 0 ]; then
    echo
    echo "aot compile (\`sluice compile${AOT_JOBS:+ --jobs $AOT_JOBS}\`, cc = ${SLUICE_CC:-cc}; not in the kernel times):"
    echo
    echo "| kernel | wasm KB | s | s/MB |"
    echo "|---|---:|---:|---:|"
    for l in "${CT_ROWS[@]}"; do echo "| ${l//$'\t'/ | } |"; done
  fi
  if [ "$STARTUP_RUNS" -gt 0 ]; then
    echo
    echo "start-up: \`$HELLO\`, wall time of the whole process (fork to exit), $STARTUP_RUNS runs"
    echo
    echo "| runtime | median ms | min ms |"
    echo "|---|---:|---:|"
    for rt in "${RT_ARR[@]}"; do
      v=${SU[$rt]:-fail}
      if [ "$v" = fail ]; then echo "| $rt | fail | fail |"; else echo "| $rt | ${v%|*} | ${v#*|} |"; fi
    done
  fi
  if [ "${#ERRORS[@]}" -gt 0 ]; then
    echo
    echo "problems:"
    echo
    printf -- '- %s\n' "${ERRORS[@]}"
  fi
} >"$OUT/results.md"

# ---- engine costs: load, instantiate, call, idle memory (bench/tools/engine_bench.c)
if [ -f "$BUILD/libsluice.a" ]; then
  $CC_NATIVE -O2 -Wall -Wextra -Iinclude -o "$OUT/engine_bench" bench/tools/engine_bench.c \
    "$BUILD/libsluice.a" -lm -lpthread
  # A deterministic ~2 MB module from binaryen's random module generator.
  BIG=$OUT/big-ttf.wasm
  if [ ! -f "$BIG" ] && command -v wasm-opt >/dev/null; then
    python3 -c "import random,sys; random.seed(1); sys.stdout.buffer.write(bytes(random.getrandbits(8) for _ in range(10_000_000)))" >"$OUT/big-ttf.seed"
    wasm-opt -ttf "$OUT/big-ttf.seed" -o "$BIG" --mvp-features --enable-sign-ext \
      --enable-nontrapping-float-to-int --enable-bulk-memory --enable-mutable-globals 2>/dev/null || true
  fi
  mods=()
  for k in $KERNELS; do [ -f "$OUT/wasm/$k.wasm" ] && mods+=("$OUT/wasm/$k.wasm"); done
  [ -f "$BIG" ] && mods+=("$BIG")
  echo
  echo "engine:"
  hello_arg=()
  [ -f "$OUT/wasm/hello.wasm" ] && hello_arg=(--hello "$OUT/wasm/hello.wasm")
  "$OUT/engine_bench" "${hello_arg[@]}" "${mods[@]}" | tee "$OUT/engine.txt" | sed 's/^/  /'
  { echo; echo "engine (bench/tools/engine_bench.c):"; echo; sed 's/^/    /' "$OUT/engine.txt"; } >>"$OUT/results.md"
fi

# ---- the gateway against nginx (bench/gateway.sh; results on stdout only) ---
if [ "${BENCH_GATEWAY:-1}" != 0 ]; then
  echo
  gw_rc=0
  BUILD=$BUILD SLUICE=$SLUICE bench/gateway.sh || gw_rc=$?
  if [ "$gw_rc" != 0 ] && [ "$BENCH_STRICT" = 1 ]; then STATUS=1; fi
fi

# ---- proxy-wasm plugins on the request path (bench/plugins.sh) ---------------
if [ "${BENCH_PLUGINS:-1}" != 0 ]; then
  echo
  pl_rc=0
  BUILD=$BUILD SLUICE=$SLUICE bench/plugins.sh || pl_rc=$?
  if [ "$pl_rc" != 0 ] && [ "$BENCH_STRICT" = 1 ]; then STATUS=1; fi
fi

# ---- WAGI: a fresh instance per request vs a direct response (bench/wagi.sh) --
if [ "${BENCH_WAGI:-1}" != 0 ]; then
  echo
  wagi_rc=0
  BUILD=$BUILD SLUICE=$SLUICE bench/wagi.sh || wagi_rc=$?
  if [ "$wagi_rc" != 0 ] && [ "$BENCH_STRICT" = 1 ]; then STATUS=1; fi
fi

exit "$STATUS"
