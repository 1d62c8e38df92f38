#!/usr/bin/env bash
# bench/aot.sh — the AOT tier's compile and load costs (issue "AOT tier", How
# good); its run-time speed is the aot column of bench/run.sh.
#
#   make bench-aot              builds build/sluice, then runs this
#   BUILD=build bench/aot.sh    run directly
#
# 1. Compile time: `sluice compile --jobs 1` and `--jobs 2` (parallel chunks)
#    of every kernel's wasm ($BUILD/bench/wasm/<k>.wasm, built here with
#    run.sh's flags when missing) and of the large modules:
#      big-c    bench/tools/gen_big.py BIG_FUNCS (6000) distinct C functions,
#               clang --target=wasm32-wasi -O2: about 2 MB of wasm from our own
#               C (the first build takes clang ~1.5 min; cached after that)
#      big-ttf  $BUILD/bench/big-ttf.wasm, binaryen's random module (~2 MB),
#               made by run.sh's engine section (or here, with wasm-opt)
#    Reported: seconds, s/MB (MB = 10^6 bytes of wasm), artifact size.
#    One compile per module and --jobs value (COMPILE_RUNS to repeat; median).
# 2. Correctness of the large module: big-c run by the interpreter and from
#    its artifact must print the same checksum.
# 3. Loading a cached artifact: bench/tools/aot_load.c, in process, median of
#    LOAD_RUNS: sl_module_new (decode/validate/lower, needed either way) and
#    then sl_aot_load (header and SHA-256 checks, memfd, dlopen, attach).
#    Target: under 5 ms. Also the whole process (fork to exit, median of
#    STARTUP_RUNS, bench/tools/startup.c) of `sluice run` against
#    `sluice run --aot-file` for hello.wasm and big-c.wasm.
# WAMR's wamrc is not packaged in Debian, so WAMR AOT is not run here; the
# issue's anchors are printed as reference lines only.
#
# Environment (all optional): BUILD=build SLUICE=$BUILD/sluice BIG_FUNCS=6000
# JOBS="1 2" COMPILE_RUNS=1 LOAD_RUNS=21 STARTUP_RUNS=10
# MODULES="fib ... big-c big-ttf" (default: every kernel, then big-c, big-ttf)
# Exit status: 1 when a compile, load or the big-c checksum fails, else 0.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
OUT=$BUILD/bench
SLUICE=${SLUICE:-$BUILD/sluice}
BIG_FUNCS=${BIG_FUNCS:-6000}
JOBS=${JOBS:-1 2}
COMPILE_RUNS=${COMPILE_RUNS:-1}
LOAD_RUNS=${LOAD_RUNS:-21}
STARTUP_RUNS=${STARTUP_RUNS:-10}
CC_NATIVE=${CC_NATIVE:-gcc}
CC_WASM=${CC_WASM:-clang --target=wasm32-wasi --sysroot=/usr}
KFLAGS="-O2 -std=c11 -Wall -Wextra -ffp-contract=off" # as bench/run.sh
A=$OUT/aot-bench
mkdir -p "$OUT/wasm" "$A"
note() { printf '%s\n' "$*" >&2; }
if [ -t 2 ]; then progress() { printf "\r%-60s\r${1:-}" "" "${@:2}" >&2; }; else progress() { :; }; fi
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if [ ! -x "$SLUICE" ] || [ ! -f "$BUILD/libsluice.a" ]; then
  note "bench/aot: $SLUICE or $BUILD/libsluice.a not built (make)"
  exit 1
fi
STATUS=0
PROBLEMS=()

# ---- modules -----------------------------------------------------------------

if [ -z "${MODULES:-}" ]; then
  MODULES=""
  for f in bench/kernels/*.c; do MODULES+="$(basename "$f" .c) "; done
  MODULES+="big-c big-ttf"
fi
declare -A WASM
for m in $MODULES; do
  case $m in
    big-c)
      if [ ! -f "$A/big-c.wasm" ] || [ bench/tools/gen_big.py -nt "$A/big-c.wasm" ]; then
        progress '  building big-c.wasm (%s functions; clang takes a while) ' "$BIG_FUNCS"
        python3 bench/tools/gen_big.py "$BIG_FUNCS" 1 >"$A/big-c.c" &&
          $CC_WASM -O2 -std=c11 -o "$A/big-c.wasm" "$A/big-c.c" 2>"$A/big-c.cc.err" ||
          { rm -f "$A/big-c.wasm"; note "bench/aot: big-c build failed (see $A/big-c.cc.err)"; }
        progress
      fi
      WASM[$m]=$A/big-c.wasm ;;
    big-ttf)
      BIG=$OUT/big-ttf.wasm
      if [ ! -f "$BIG" ] && command -v wasm-opt >/dev/null; then # as bench/run.sh
        python3 -c "import random,sys; random.seed(1); sys.stdout.buffer.write(bytes(random.getrandbits(8) for _ in range(10_000_000)))" >"$OUT/big-ttf.seed"
        wasm-opt -ttf "$OUT/big-ttf.seed" -o "$BIG" --mvp-features --enable-sign-ext \
          --enable-nontrapping-float-to-int --enable-bulk-memory --enable-mutable-globals 2>/dev/null || true
      fi
      WASM[$m]=$BIG ;;
    *)
      w=$OUT/wasm/$m.wasm
      if [ ! -f "$w" ] || [ "bench/kernels/$m.c" -nt "$w" ]; then
        # shellcheck disable=SC2086
        $CC_WASM $KFLAGS -o "$w" "bench/kernels/$m.c" 2>/dev/null || rm -f "$w"
      fi
      WASM[$m]=$w ;;
  esac
  if [ ! -f "${WASM[$m]}" ]; then
    PROBLEMS+=("$m: no wasm (${WASM[$m]})")
    STATUS=1
  fi
done
if [ ! -f "$OUT/wasm/hello.wasm" ] || [ bench/hello.c -nt "$OUT/wasm/hello.wasm" ]; then
  $CC_WASM -O2 -o "$OUT/wasm/hello.wasm" bench/hello.c
fi
$CC_NATIVE -O2 -Wall -Wextra -Iinclude -o "$A/aot_load" bench/tools/aot_load.c "$BUILD/libsluice.a" \
  -lcrypto -lm -lpthread -ldl || exit 1
[ -x "$OUT/startup" ] && [ "$OUT/startup" -nt bench/tools/startup.c ] ||
  $CC_NATIVE -O2 -Wall -Wextra -o "$OUT/startup" bench/tools/startup.c || exit 1

# ---- compile time --------------------------------------------------------------

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A CS CM ASZ
for m in $MODULES; do
  [ -f "${WASM[$m]}" ] || continue
  for j in $JOBS; do
    ts=""
    for ((r = 1; r <= COMPILE_RUNS; r++)); do
      progress '  compile %s --jobs %s (%d/%d) ' "$m" "$j" "$r" "$COMPILE_RUNS"
      rm -f "$A/$m.slaot"
      if "$SLUICE" compile --jobs "$j" "${WASM[$m]}" -o "$A/$m.slaot" 2>"$A/$m.j$j.err" </dev/null; then
        ts+="$(sed -n 's/^sluice compile: .*: \([0-9.]*\) s, [0-9]* bytes of wasm, [0-9.]* s\/MB$/\1/p' "$A/$m.j$j.err") "
      else
        progress
        PROBLEMS+=("$m: sluice compile --jobs $j ${WASM[$m]} failed: $(head -c 300 "$A/$m.j$j.err" | tr '\n' ' ')")
        STATUS=1
        ts=""
        break
      fi
    done
    progress
    if [ -n "$ts" ]; then
      CS[$m.$j]=$(printf '%s\n' $ts | median)
      CM[$m.$j]=$(awk -v s="${CS[$m.$j]}" -v b="$(stat -c %s "${WASM[$m]}")" 'BEGIN { printf "%.2f", s / (b / 1e6) }')
      ASZ[$m]=$(stat -c %s "$A/$m.slaot")
    fi
  done
done

# ---- big-c: interpreter and artifact agree ------------------------------------------

BIGC_LINE=""
if [ -f "$A/big-c.slaot" ]; then
  i_sum=$(timeout 120 "$SLUICE" run "${WASM[big-c]}" 2>&1 | sed -n 's/^checksum=//p')
  a_sum=$(timeout 120 "$SLUICE" run --aot-file "$A/big-c.slaot" "${WASM[big-c]}" 2>&1 | sed -n 's/^checksum=//p')
  if [ -n "$i_sum" ] && [ "$i_sum" = "$a_sum" ]; then
    BIGC_LINE="big-c checksum: interpreter $i_sum, aot $a_sum: agree"
  else
    BIGC_LINE="big-c checksum: interpreter '${i_sum}', aot '${a_sum}': MISMATCH"
    PROBLEMS+=("$BIGC_LINE")
    STATUS=1
  fi
fi

# ---- loading a cached artifact ----------------------------------------------------

hello_aot=$A/hello.slaot
"$SLUICE" compile -q "$OUT/wasm/hello.wasm" -o "$hello_aot" || STATUS=1
pairs=("$OUT/wasm/hello.wasm" "$hello_aot")
for m in $MODULES; do
  [ -f "$A/$m.slaot" ] && pairs+=("${WASM[$m]}" "$A/$m.slaot")
done
progress '  loading artifacts '
LOAD_OUT=$("$A/aot_load" --runs "$LOAD_RUNS" "${pairs[@]}") || {
  STATUS=1
  PROBLEMS+=("aot_load failed: $(grep -v '^load ' <<<"$LOAD_OUT" | head -3 | tr '\n' ' ')")
}
progress
worst=$(sed -n 's/.*+ artifact \([0-9.]*\) ms.*/\1/p' <<<"$LOAD_OUT" | sort -g | tail -1)

declare -A SU
su_rows=()
for m in hello big-c; do
  if [ "$m" = hello ]; then w=$OUT/wasm/hello.wasm art=$hello_aot; else w=${WASM[big-c]:-} art=$A/big-c.slaot; fi
  [ -f "$w" ] && [ -f "$art" ] || continue
  for mode in interp aot; do
    progress '  start-up %s %s ' "$m" "$mode"
    if [ "$mode" = interp ]; then cmd=("$SLUICE" run "$w"); else cmd=("$SLUICE" run --aot-file "$art" "$w"); fi
    line=$("$OUT/startup" "$STARTUP_RUNS" 30 "${cmd[@]}" || true)
    if [[ $line == *median_ms=* ]]; then
      med=${line#*median_ms=} min=${line#*min_ms=}
      SU[$m.$mode]="${med%% *} ${min%% *}"
    else
      SU[$m.$mode]="fail fail"
      PROBLEMS+=("start-up $m $mode: ${line#error=}")
    fi
  done
  su_rows+=("$m")
done
progress
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ----------------------------------------------------------------------

report() { # $1 = md for markdown
  local md=${1:-} m j
  if [ "$md" = md ]; then
    echo "| module | wasm KB | artifact KB |$(for j in $JOBS; do printf ' --jobs %s s | s/MB |' "$j"; done)"
    echo "|---|---:|---:|$(for _ in $JOBS; do printf -- '---:|---:|'; done)"
  else
    printf '  %-9s %8s %11s' module "wasm KB" "artifact KB"
    for j in $JOBS; do printf '  %9s %7s' "jobs $j s" "s/MB"; done
    echo
  fi
  for m in $MODULES; do
    local kb=n/a akb=n/a
    [ -f "${WASM[$m]}" ] && kb=$(( $(stat -c %s "${WASM[$m]}") / 1000 ))
    [ -n "${ASZ[$m]:-}" ] && akb=$((ASZ[$m] / 1000))
    if [ "$md" = md ]; then
      printf '| %s | %s | %s |' "$m" "$kb" "$akb"
      for j in $JOBS; do printf ' %s | %s |' "${CS[$m.$j]:-fail}" "${CM[$m.$j]:-fail}"; done
      echo
    else
      printf '  %-9s %8s %11s' "$m" "$kb" "$akb"
      for j in $JOBS; do printf '  %9s %7s' "${CS[$m.$j]:-fail}" "${CM[$m.$j]:-fail}"; done
      echo
    fi
  done
}

target_line() {
  if [ -z "$worst" ]; then echo "cached artifact loads in < 5 ms: n/a"; else
    echo "cached artifact loads in < 5 ms (worst median of sl_aot_load over the modules above): $worst ms $(awk -v w="$worst" 'BEGIN { print (w < 5) ? "PASS" : "MISS" }')"
  fi
}
REF1="WAMR AOT: not run (wamrc is not packaged in Debian); reference only, the issue's anchors:"
REF2="WAMR AOT CoreMark 1.24x native, PolyBench 0.74-1.46x; node CoreMark 1.15x, PolyBench 1.35-3.1x"

echo "aot: sluice compile (cc = ${SLUICE_CC:-cc}: $(cc --version | head -1)), $COMPILE_RUNS compile(s) per cell (median); MB = 10^6 bytes of wasm"
report
[ -n "$BIGC_LINE" ] && echo "  $BIGC_LINE"
echo
echo "aot: loading a cached artifact, in process (bench/tools/aot_load.c, median of $LOAD_RUNS):"
sed 's/^/  /' <<<"$LOAD_OUT"
echo "  $(target_line)"
echo
echo "aot: process start-up, fork to exit, median of $STARTUP_RUNS (min): sluice run vs sluice run --aot-file"
for m in "${su_rows[@]}"; do
  read -r im imin <<<"${SU[$m.interp]}"
  read -r am amin <<<"${SU[$m.aot]}"
  printf '  %-6s interp %8s ms (%s)   aot %8s ms (%s)\n' "$m" "$im" "$imin" "$am" "$amin"
done
echo
echo "$REF1"
echo "  $REF2"
if [ "${#PROBLEMS[@]}" -gt 0 ]; then
  echo
  echo "problems:"
  printf '  %s\n' "${PROBLEMS[@]}"
fi
echo
echo "load average $LOAD0 at start, $LOAD1 at end ($(nproc) cores). Markdown: $A/aot.md"

{
  echo "## AOT compile and load"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)')"
  echo "- cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) × $(nproc); load average $LOAD0 at start, $LOAD1 at end"
  echo "- cc: $(cc --version | head -1); $COMPILE_RUNS compile(s) per cell; MB = 10^6 bytes of wasm"
  echo
  report md
  [ -n "$BIGC_LINE" ] && { echo; echo "$BIGC_LINE"; }
  echo
  echo "loading a cached artifact, in process (median of $LOAD_RUNS):"
  echo
  sed 's/^/    /' <<<"$LOAD_OUT"
  echo
  echo "$(target_line)"
  echo
  echo "| start-up (fork to exit, median of $STARTUP_RUNS) | sluice run ms | sluice run --aot-file ms |"
  echo "|---|---:|---:|"
  for m in "${su_rows[@]}"; do echo "| $m | ${SU[$m.interp]%% *} | ${SU[$m.aot]%% *} |"; done
  echo
  echo "$REF1 $REF2"
  if [ "${#PROBLEMS[@]}" -gt 0 ]; then
    echo
    printf -- '- problem: %s\n' "${PROBLEMS[@]}"
  fi
} >"$A/aot.md"
exit "$STATUS"
