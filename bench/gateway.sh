#!/usr/bin/env bash
# bench/gateway.sh — the gateway against nginx as the same reverse proxy.
#
#   make bench-gateway              builds build/sluice, then runs this
#   make bench                      the compute kernels, then this (BENCH_GATEWAY=0 skips it)
#   BUILD=build bench/gateway.sh    run directly
#
# What runs, all on 127.0.0.1, from a temporary directory removed on exit:
#   upstream   nginx, 1 worker, answers every request with a 20-byte body
#              (bench/gateway/upstream.conf)
#   nginx      nginx as reverse proxy, 1 worker, pooled keep-alive upstream
#              connections, no access log (bench/gateway/nginx-proxy.conf)
#   sluice     `sluice gateway` with workers: 1, no access log, one route to
#              a cluster holding the upstream (bench/gateway/sluice.yaml)
#
# Then, for each proxy:
#   memory     VmRSS right after start (no traffic yet); then VmRSS with
#              IDLE_CONNS idle keep-alive connections open (each has carried
#              one request; bench/gateway/idle_conns.py), minus VmRSS just
#              before they were opened: bytes per idle connection (user
#              memory only: the kernel's socket buffers count for neither).
#   throughput WARMUP_SECONDS of wrk, then ROUNDS measured wrk runs per proxy,
#              interleaved (nginx, sluice, then sluice, nginx, ...) so drift
#              in machine load hits both alike. Each run records the proxy's
#              CPU time (utime+stime from /proc/PID/stat, all threads; for
#              nginx master + worker) over the run, divided by the requests
#              wrk completed: CPU us per request.
#   The table reports, per proxy, the median of its runs, each column taken
#   on its own. Median rather than best-of: on a small shared machine a
#   single disturbed run can carry a p99 ten times the others, and the
#   best-requests/s run is not the best-p99 one; with 3 runs, one outlier
#   moves no figure. Every run is listed under the table so the spread is
#   visible (the load average at start and end says how busy the box was).
#
# Targets (the gateway issue): requests/s >= 1.2x nginx's with p99 no worse;
# <= 12 us of gateway CPU per proxied request; <= 10 MB RSS idle; <= 4 KB
# per idle keep-alive connection. Each is printed with PASS or MISS.
#
# Environment (all optional):
#   BUILD=build  SLUICE=$BUILD/sluice  NGINX=nginx  WRK=wrk
#   BENCH_SECONDS=10   seconds per measured wrk run
#   WARMUP_SECONDS=2   seconds of wrk per proxy before measuring
#   ROUNDS=3           measured runs per proxy
#   WRK_THREADS=2 WRK_CONNS=50
#   IDLE_CONNS=1000    idle keep-alive connections for the memory figure (0 skips)
#   BENCH_STRICT=1     a MISS also makes the exit status 1
#   GW_BENCH_SELFTEST=1  put a second nginx proxy in the sluice slot (checks
#                      this script without a gateway)
#
# Results go to stdout only; nothing is written outside the temporary
# directory. Exit status: 0 when both proxies were measured without errors;
# 1 when something failed (a proxy did not start, wrk saw errors or non-2xx
# answers), or, with BENCH_STRICT=1, a target was missed; 2 when a needed tool
# is missing.
set -uo pipefail # no -e: every failure is handled and reported in the table

cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
SLUICE=${SLUICE:-$BUILD/sluice}
WRK=${WRK:-wrk}
BENCH_SECONDS=${BENCH_SECONDS:-10}
WARMUP_SECONDS=${WARMUP_SECONDS:-2}
ROUNDS=${ROUNDS:-3}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-50}
IDLE_CONNS=${IDLE_CONNS:-1000}
BENCH_STRICT=${BENCH_STRICT:-0}
GW_BENCH_SELFTEST=${GW_BENCH_SELFTEST:-0}
HERE=bench/gateway

# shellcheck source=bench/lib.sh
. bench/lib.sh

# ---- tools -------------------------------------------------------------------

bench_check_tools gateway

# ---- set-up ------------------------------------------------------------------

bench_setup_tmp sluice-gwbench
IDLE_FD=""   # write end of the idle_conns.py stdin fifo while it runs (closed by bench_cleanup)

# More descriptors for the idle-connection test (children inherit this).
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 65536 ]; then ulimit -n 65536 2>/dev/null || true; else ulimit -n "$hard" 2>/dev/null || true; fi

# Four free ports on 127.0.0.1 (the kernel picks them; closed again at once).
read -r P_UP P_NGINX P_SLUICE P_ADMIN < <(free_ports 4)

# ---- process helpers ---------------------------------------------------------
# PROC_PIDS[NAME] holds a space-separated PID list, deliberately expanded
# unquoted where it is passed on.
# shellcheck disable=SC2086

declare -A MAIN_PID PROC_PIDS WORKER_PID PORT WHY LOG OK IDLE_RSS PER_CONN WHY_MEM RUNS MED ERR PEAK_RSS END_RSS

# start_nginx NAME CONF PORT: runs nginx from $TMP; PROC_PIDS = master + worker.
start_nginx() {
  local name=$1 conf=$2 port=$3 w
  LOG[$name]=$TMP/$name.error.log
  PORT[$name]=$port
  if ! bench_start_nginx "$name" "$conf" "$port"; then
    MAIN_PID[$name]=$NX_PID
    WHY[$name]="did not start: $(cat "$TMP/$name.out" "$TMP/$name.error.log" 2>/dev/null | tail -n 3 | tr '\n' ' ')"
    return 1
  fi
  MAIN_PID[$name]=$NX_PID
  w=${NX_WORKERS%% *} # nginx runs 1 worker
  WORKER_PID[$name]=${w:-$NX_PID}
  PROC_PIDS[$name]="$NX_PID${w:+ $w}"
}

# start_sluice NAME: the gateway with a config generated from sluice.yaml.
start_sluice() {
  local name=$1 pid
  if [ ! -x "$SLUICE" ]; then
    WHY[$name]="$SLUICE not built"
    return 1
  fi
  fill "$HERE/sluice.yaml" "$TMP/sluice.yaml" "$P_SLUICE"
  LOG[$name]=$TMP/sluice.log
  # PORT would override the first listener's address (Knative convention).
  env -u PORT "$SLUICE" gateway -c "$TMP/sluice.yaml" >"$TMP/sluice.log" 2>&1 </dev/null &
  pid=$!
  PIDS+=("$pid")
  MAIN_PID[$name]=$pid
  PORT[$name]=$P_SLUICE
  if ! wait_port "$P_SLUICE" "$pid"; then
    WHY[$name]="did not start: $(tail -n 3 "$TMP/sluice.log" 2>/dev/null | tr '\n' ' ')"
    return 1
  fi
  WORKER_PID[$name]=$pid
  PROC_PIDS[$name]=$pid
}

alive() { # alive NAME: every process of NAME still runs
  local p
  [ -n "${PROC_PIDS[$1]:-}" ] || return 1
  for p in ${PROC_PIDS[$1]}; do kill -0 "$p" 2>/dev/null || return 1; done
}

# ---- start -------------------------------------------------------------------

PROXIES="nginx sluice"
if ! start_nginx upstream "$HERE/upstream.conf" "$P_UP"; then
  note "bench/gateway: upstream nginx ${WHY[upstream]}"
  exit 1
fi
for px in $PROXIES; do
  OK[$px]=1
  case $px in
    nginx) start_nginx nginx "$HERE/nginx-proxy.conf" "$P_NGINX" || OK[$px]=0 ;;
    sluice)
      if [ "$GW_BENCH_SELFTEST" = 1 ]; then
        start_nginx sluice "$HERE/nginx-proxy.conf" "$P_SLUICE" || OK[$px]=0
      else
        start_sluice sluice || OK[$px]=0
      fi ;;
  esac
  [ "${OK[$px]}" = 1 ] || note "bench/gateway: $px ${WHY[$px]}"
done

# A proxied request must come back with the upstream's body.
for px in $PROXIES; do
  [ "${OK[$px]}" = 1 ] || continue
  sleep 0.3 # let start-up allocations settle before the idle reading
  IDLE_RSS[$px]=$(proc_kb VmRSS ${PROC_PIDS[$px]})
  body=$(curl -s --max-time 5 "http://127.0.0.1:${PORT[$px]}/" || true)
  if [ "$body" != "hello from upstream" ]; then
    OK[$px]=0
    WHY[$px]="GET / did not return the upstream's body (got: '${body:0:80}')"
    note "bench/gateway: $px ${WHY[$px]}"
  fi
done

# ---- memory: idle, and per idle keep-alive connection ------------------------

idle_conn_bytes() { # idle_conn_bytes NAME -> PER_CONN[NAME] (bytes) or WHY
  local name=$1 port=${PORT[$1]} before after i fifo=$TMP/idle.fifo pid
  local urls=()
  for ((i = 0; i < 20; i++)); do urls+=("http://127.0.0.1:$port/"); done
  curl -s --max-time 10 "${urls[@]}" >/dev/null || true # warm the upstream pool
  sleep 0.3
  before=$(proc_kb VmRSS "${WORKER_PID[$name]}")
  rm -f "$fifo"
  mkfifo "$fifo"
  python3 "$HERE/idle_conns.py" "$IDLE_CONNS" 127.0.0.1 "$port" <"$fifo" >"$TMP/idle.out" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  exec {IDLE_FD}>"$fifo"
  for ((i = 0; i < 300; i++)); do
    grep -q '^ready' "$TMP/idle.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if grep -q '^ready' "$TMP/idle.out"; then
    sleep 0.5
    after=$(proc_kb VmRSS "${WORKER_PID[$name]}")
    PER_CONN[$name]=$(((after - before) * 1024 / IDLE_CONNS))
  else
    PER_CONN[$name]=""
    WHY_MEM[$name]=$(tr '\n' ' ' <"$TMP/idle.out" | cut -c1-200)
    note "bench/gateway: $name idle connections: ${WHY_MEM[$name]}"
  fi
  exec {IDLE_FD}>&-
  IDLE_FD=""
  wait "$pid" 2>/dev/null || true
  rm -f "$fifo"
}
if [ "$IDLE_CONNS" -gt 0 ]; then
  for px in $PROXIES; do
    [ "${OK[$px]}" = 1 ] && idle_conn_bytes "$px"
  done
fi

# ---- throughput --------------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')

# run_wrk NAME SECONDS OUT -> R_LINE "rps req p50 p99 non2xx serr cpu_us_per_req"
run_wrk() { bench_run_wrk "$2" "$3" "${PROC_PIDS[$1]}" "http://127.0.0.1:${PORT[$1]}/"; }

for px in $PROXIES; do
  [ "${OK[$px]}" = 1 ] || continue
  progress '  warm-up %s ' "$px"
  run_wrk "$px" "$WARMUP_SECONDS" "$TMP/wrk.$px.warmup" || true
done

read -ra order <<<"$PROXIES"
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2 == 0)); then seq=("${order[1]}" "${order[0]}"); else seq=("${order[0]}" "${order[1]}"); fi
  for px in "${seq[@]}"; do
    [ "${OK[$px]}" = 1 ] || continue
    progress '  round %d/%d %s ' "$r" "$ROUNDS" "$px"
    if ! alive "$px"; then
      OK[$px]=0
      WHY[$px]="exited during the benchmark: $(tail -n 3 "${LOG[$px]}" | tr '\n' ' ')"
      continue
    fi
    bench_record_run "$px" "$r"
  done
done
progress
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')

# The reported figures: per proxy, the median of its runs, each column on its
# own (with an even count, the mean of the middle two).
# shellcheck disable=SC2086 # PROXIES is a list of names
bench_medians $PROXIES

for px in $PROXIES; do
  if [ "${OK[$px]}" = 1 ] && ! alive "$px"; then
    OK[$px]=0
    WHY[$px]="exited during the benchmark: $(tail -n 3 "${LOG[$px]}" | tr '\n' ' ')"
  fi
  if [ "${OK[$px]}" = 1 ]; then
    PEAK_RSS[$px]=$(proc_kb VmHWM ${PROC_PIDS[$px]})
    END_RSS[$px]=$(proc_kb VmRSS ${PROC_PIDS[$px]})
  fi
done

# ---- report ------------------------------------------------------------------

STATUS=0
MISSED=0
label() { if [ "$1" = sluice ] && [ "$GW_BENCH_SELFTEST" = 1 ]; then echo "sluice*"; else echo "$1"; fi; }
field() { med_field "$@"; } # field NAME INDEX
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) printf "n/a"; else printf "%.2fx", a / b }'; }
target() { bench_target 34 10 "$@"; } # target TEXT VALUE MET(1, else a miss)

echo "gateway: wrk -t$WRK_THREADS -c$WRK_CONNS -d${BENCH_SECONDS}s --latency, one worker per proxy, upstream nginx (1 worker), all on 127.0.0.1"
echo "median of $ROUNDS interleaved runs per proxy, each column on its own; CPU = the proxy's utime+stime / requests"
[ "$GW_BENCH_SELFTEST" = 1 ] && echo "SELF-TEST: the sluice* row is a second nginx proxy, not the gateway"
echo
{
  printf 'proxy\treq/s\tp50 us\tp99 us\tCPU us/req\n'
  for px in $PROXIES; do
    if [ -n "${MED[$px]:-}" ]; then
      awk -v n="$(label "$px")" -v l="${MED[$px]}" 'BEGIN { split(l, f, " ");
        printf "%s\t%.0f\t%.0f\t%.0f\t%.2f\n", n, f[1], f[3], f[4], f[7] }'
    else
      printf '%s\tfail\t\t\t\n' "$(label "$px")"
    fi
  done
  if [ -n "${MED[sluice]:-}" ] && [ -n "${MED[nginx]:-}" ]; then
    printf '%s/nginx\t%s\t%s\t%s\t%s\n' "$(label sluice)" \
      "$(ratio "$(field sluice 0)" "$(field nginx 0)")" "$(ratio "$(field sluice 2)" "$(field nginx 2)")" \
      "$(ratio "$(field sluice 3)" "$(field nginx 3)")" "$(ratio "$(field sluice 6)" "$(field nginx 6)")"
  fi
} | awk -F'\t' '
  { for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } if (NF > nf) nf = NF }
  END {
    for (r = 1; r <= NR; r++) {
      line = ""
      for (i = 1; i <= nf; i++) line = line sprintf(i == 1 ? "%-" w[i] "s" : "  %" w[i] "s", c[r, i])
      print line
      if (r == 1) { sep = ""; for (i = 1; i <= nf; i++) { sep = sep (i > 1 ? "  " : ""); for (j = 0; j < w[i]; j++) sep = sep "-" } print sep }
    }
  }'

echo
echo "memory (VmRSS):"
for px in $PROXIES; do
  [ "${OK[$px]}" = 1 ] || [ -n "${IDLE_RSS[$px]:-}" ] || continue
  line=$(printf '  %-8s idle after start %s' "$(label "$px")" "$(mb "${IDLE_RSS[$px]:-0}")")
  [ "${WORKER_PID[$px]:-}" != "${MAIN_PID[$px]:-}" ] && line+=" (master + worker)"
  if [ -n "${PER_CONN[$px]:-}" ]; then
    line+=$(printf ', %d B per idle keep-alive connection (%d open)' "${PER_CONN[$px]}" "$IDLE_CONNS")
  elif [ "$IDLE_CONNS" -gt 0 ]; then
    line+=", idle connections: fail ${WHY_MEM[$px]:-}"
  fi
  [ -n "${PEAK_RSS[$px]:-}" ] && line+=$(printf ', %s after the runs (peak %s)' "$(mb "${END_RSS[$px]}")" "$(mb "${PEAK_RSS[$px]}")")
  echo "$line"
done

echo
echo "targets ($(label sluice)):"
if [ -n "${MED[sluice]:-}" ] && [ -n "${MED[nginx]:-}" ]; then
  a=$(field sluice 0) b=$(field nginx 0)
  target "requests/s >= 1.2x nginx" "$(ratio "$a" "$b")" "$(awk -v a="$a" -v b="$b" 'BEGIN { print (a >= 1.2 * b) }')"
  a=$(field sluice 3) b=$(field nginx 3)
  target "p99 no worse than nginx" "$(ratio "$a" "$b")" "$(awk -v a="$a" -v b="$b" 'BEGIN { print (a <= b) }')"
else
  target "requests/s >= 1.2x nginx" n/a n/a
  target "p99 no worse than nginx" n/a n/a
fi
if [ -n "${MED[sluice]:-}" ]; then
  c=$(field sluice 6)
  target "CPU <= 12 us per request" "$c us" "$(awk -v c="$c" 'BEGIN { print (c <= 12) }')"
else
  target "CPU <= 12 us per request" n/a n/a
fi
if [ -n "${IDLE_RSS[sluice]:-}" ]; then
  target "idle RSS <= 10 MB" "$(mb "${IDLE_RSS[sluice]}")" "$(awk -v k="${IDLE_RSS[sluice]}" 'BEGIN { print (k <= 10240) }')"
else
  target "idle RSS <= 10 MB" n/a n/a
fi
if [ -n "${PER_CONN[sluice]:-}" ]; then
  target "<= 4 KB per idle keep-alive conn" "${PER_CONN[sluice]} B" "$(awk -v b="${PER_CONN[sluice]}" 'BEGIN { print (b <= 4096) }')"
elif [ "$IDLE_CONNS" -gt 0 ]; then
  target "<= 4 KB per idle keep-alive conn" n/a n/a
fi

echo
echo "all runs (req/s, p50 us, p99 us, CPU us/req, non-2xx, socket errors):"
for px in $PROXIES; do
  if [ -n "${RUNS[$px]:-}" ]; then
    printf '%s' "${RUNS[$px]}" | awk -v n="$(label "$px")" '
      NF { printf "  %-8s %10.0f %8.0f %8.0f %8.2f %6d %6d\n", n, $1, $3, $4, $7, $5, $6 }'
  fi
done

problems=()
for px in $PROXIES; do
  [ "${OK[$px]}" = 1 ] || { problems+=("$(label "$px"): ${WHY[$px]:-failed}"); STATUS=1; }
  [ -n "${ERR[$px]:-}" ] && { problems+=("$(label "$px"): ${ERR[$px]%; }"); STATUS=1; }
done
if [ "${#problems[@]}" -gt 0 ]; then
  echo
  echo "problems:"
  printf '  %s\n' "${problems[@]}"
fi
echo
echo "load average $LOAD0 before the runs, $LOAD1 after ($(nproc 2>/dev/null || echo '?') cores; wrk, the upstream and the proxy share them)"
[ "$BENCH_STRICT" = 1 ] && [ "$MISSED" = 1 ] && STATUS=1
exit "$STATUS"
