# bench/lib.sh — shared pieces of the HTTP benchmarks; sourced, never run.
# shellcheck shell=bash disable=SC2034 # R_LINE, R_WHY, MISSED, NX_* are set for the caller
#
# Used by bench/gateway.sh and bench/plugins.sh (both the nginx upstream +
# wrk set-up) and, for free_ports only, bench/wagi.sh. It owns:
#   tools       bench_check_tools: NGINX lookup, wrk/nginx/python3/curl check
#   temp dir    bench_setup_tmp: $TMP, the PIDS list, the cleanup/exit traps
#   processes   ppid_of, children_of, cpu_ticks, proc_kb, wait_port
#   ports       free_ports, fill (the @...@ placeholders of bench/gateway/*)
#   nginx       bench_start_nginx: start an nginx from a template
#   wrk         wrk_parse, bench_run_wrk (one run + CPU per request),
#               bench_record_run (a measured run into RUNS/ERR), progress
#   results     median_columns, bench_medians, med_field, bench_target (PASS/MISS/n/a)
# It defines functions only; sourcing it runs nothing and sets no options.
# Globals it reads or sets are named in each function's comment.
#
# Conventions: all addresses are 127.0.0.1; every process a script starts is
# appended to PIDS so the EXIT trap stops it; functions that fail return 1
# and leave the message to the caller.

# note TEXT...: one line on stderr.
note() { printf '%s\n' "$*" >&2; }

# bench_check_tools NAME: finds nginx (sets NGINX unless given: PATH, then
# /usr/sbin/nginx) and checks for $WRK, nginx, python3 and curl. When any is
# missing, prints "bench/NAME: needs ..." with the apt-get line and exits 2.
bench_check_tools() {
  local missing=()
  if [ -z "${NGINX:-}" ]; then
    NGINX=$(command -v nginx 2>/dev/null || true)
    [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
  fi
  command -v "$WRK" >/dev/null 2>&1 || missing+=(wrk)
  [ -n "${NGINX:-}" ] && [ -x "$(command -v "$NGINX" 2>/dev/null || echo "$NGINX")" ] || missing+=(nginx-light)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [ "${#missing[@]}" -gt 0 ]; then
    note "bench/$1: needs ${missing[*]} (listed in scripts/deps.sh); as root run:"
    note "  apt-get install -y ${missing[*]}     (or: make deps)"
    exit 2
  fi
}

# bench_setup_tmp PREFIX: creates TMP=${TMPDIR:-/tmp}/PREFIX.XXXXXX (with
# $TMP/tmp for nginx), empties PIDS and installs the traps: on exit
# bench_cleanup; INT exits 130, TERM 143.
bench_setup_tmp() {
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  mkdir -p "$TMP/tmp"
  PIDS=() # every process we started, in start order
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# bench_cleanup: closes IDLE_FD if set (a descriptor a script holds open),
# sends TERM to the PIDS that are still ours (children of this shell, or of
# one of PIDS: a PID that exited early may have been reused), newest first,
# waits up to 2 s, KILLs what is left, removes $TMP.
bench_cleanup() {
  local i p pp mine=()
  [ -n "${IDLE_FD:-}" ] && exec {IDLE_FD}>&- 2>/dev/null
  for i in "${PIDS[@]}"; do
    pp=$(ppid_of "$i")
    [ -n "$pp" ] || continue
    if [ "$pp" = $$ ]; then
      mine+=("$i")
    else
      for p in "${PIDS[@]}"; do [ "$pp" = "$p" ] && mine+=("$i") && break; done
    fi
  done
  PIDS=("${mine[@]}")
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[i]}" 2>/dev/null || true
  done
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    p=""
    for i in "${PIDS[@]}"; do kill -0 "$i" 2>/dev/null && p=1; done
    [ -z "$p" ] && break
    sleep 0.1
  done
  for i in "${PIDS[@]}"; do kill -KILL "$i" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}

# ---- /proc helpers -------------------------------------------------------------

# ppid_of PID: prints its parent's PID (nothing when PID is gone).
ppid_of() {
  local line rest
  local -a fld
  { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 0
  rest=${line##*) }
  read -ra fld <<<"$rest"
  echo "${fld[1]}"
}

# children_of PID: prints the PIDs whose parent is PID, one a line.
children_of() {
  local f line rest
  local -a fld
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue # it may have exited since the glob
    rest=${line##*) }
    read -ra fld <<<"$rest"
    [ "${fld[1]}" = "$1" ] && echo "${f//[!0-9]/}"
  done
  return 0
}

# cpu_ticks PID...: prints utime+stime in clock ticks summed over the
# processes (all their threads); a PID that is gone counts 0.
cpu_ticks() {
  local p line rest sum=0
  local -a fld
  for p in "$@"; do
    { read -r line <"/proc/$p/stat"; } 2>/dev/null || continue
    rest=${line##*) }
    read -ra fld <<<"$rest"
    sum=$((sum + fld[11] + fld[12])) # fields 14 and 15 of stat(5)
  done
  echo "$sum"
}

# proc_kb FIELD PID...: prints a /proc/PID/status field (VmRSS, VmHWM) summed, in KiB.
proc_kb() {
  local f=$1 p sum=0 v
  shift
  for p in "$@"; do
    v=$(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null)
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

# wait_port PORT PID: returns 0 once 127.0.0.1:PORT accepts connections;
# 1 when PID exits first or after 10 s.
wait_port() {
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$2" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# ---- ports and templates -------------------------------------------------------

# free_ports N: prints N free ports on 127.0.0.1, space-separated (the kernel
# picks them; they are closed again at once, so another process may take one).
free_ports() {
  python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])' "$1"
}

# fill TEMPLATE OUT PORT: writes TEMPLATE to OUT with @DIR@ = $TMP, @USER@ =
# "user root;" when running as root (nginx workers would otherwise be nobody,
# without access to $TMP), @UPSTREAM_PORT@ = $P_UP, @PORT@ = PORT,
# @ADMIN_PORT@ = $P_ADMIN.
fill() {
  local user_line=""
  [ "$(id -u)" = 0 ] && user_line="user root;"
  sed -e "s|@DIR@|$TMP|g" -e "s|@USER@|$user_line|g" -e "s|@UPSTREAM_PORT@|$P_UP|g" \
    -e "s|@PORT@|$3|g" -e "s|@ADMIN_PORT@|${P_ADMIN:-}|g" "$1" >"$2"
}

# ---- nginx ---------------------------------------------------------------------

# bench_start_nginx NAME TEMPLATE PORT: fills TEMPLATE into $TMP/NAME.conf and
# runs $NGINX in the foreground from $TMP (error log $TMP/NAME.error.log,
# stdout/stderr $TMP/NAME.out). Sets NX_PID (the master) and, once PORT
# answers, NX_WORKERS (its children, space-separated; all appended to PIDS so
# cleanup reaches them even if the master dies first). Returns 1 when nginx
# did not come up within 10 s.
bench_start_nginx() {
  local name=$1 w
  fill "$2" "$TMP/$name.conf" "$3"
  "$NGINX" -p "$TMP/" -e "$TMP/$name.error.log" -c "$TMP/$name.conf" -g 'daemon off;' \
    >"$TMP/$name.out" 2>&1 </dev/null &
  NX_PID=$!
  NX_WORKERS=""
  PIDS+=("$NX_PID")
  wait_port "$3" "$NX_PID" || return 1
  for w in $(children_of "$NX_PID"); do
    PIDS+=("$w")
    NX_WORKERS+="${NX_WORKERS:+ }$w"
  done
  return 0
}

# ---- wrk -----------------------------------------------------------------------

# wrk_parse FILE: prints "rps requests p50_us p99_us non2xx socket_errors"
# from the output of wrk --latency.
wrk_parse() {
  awk '
    function us(s,   v) {
      v = s + 0
      if (s ~ /us$/) return v
      if (s ~ /ms$/) return v * 1000
      if (s ~ /m$/) return v * 60e6
      if (s ~ /s$/) return v * 1e6
      return v
    }
    /requests in/ { req = $1 }
    /^Requests\/sec:/ { rps = $2 }
    /Latency Distribution/ { dist = 1; next }
    dist && $1 == "50%" { p50 = us($2) }
    dist && $1 == "99%" { p99 = us($2); dist = 0 }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    /Socket errors:/ { gsub(",", ""); serr = $4 + $6 + $8 + $10 }
    END { printf "%s %s %s %s %d %d\n", rps, req, p50, p99, bad, serr }' "$1"
}

# bench_run_wrk SECONDS OUT "CPU_PIDS" URL [WRK_ARG...]: one run of
# $WRK -t$WRK_THREADS -c$WRK_CONNS -dSECONDSs --latency WRK_ARG... URL (in the
# background, so a signal to the script is handled at once; output to OUT),
# reading the CPU ticks of CPU_PIDS (space-separated) before and after.
# Needs CLK_TCK. Sets R_LINE = "rps req p50_us p99_us non2xx serr cpu_us_per_req"
# and returns 0; on failure R_LINE="" and R_WHY, returns 1.
bench_run_wrk() {
  local secs=$1 out=$2 cpids=$3 url=$4 c0 c1 rc=0 rps req p50 p99 bad serr
  shift 4
  # shellcheck disable=SC2086 # cpids is a PID list
  c0=$(cpu_ticks $cpids)
  timeout $((secs + 30)) "$WRK" -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${secs}s" --latency \
    "$@" "$url" >"$out" 2>&1 &
  PIDS+=($!)
  wait $! || rc=$?
  unset 'PIDS[-1]'
  # shellcheck disable=SC2086
  c1=$(cpu_ticks $cpids)
  if [ "$rc" != 0 ] || ! grep -q '^Requests/sec:' "$out"; then
    R_LINE=""
    R_WHY="wrk failed (exit $rc): $(tail -n 2 "$out" | tr '\n' ' ')"
    return 1
  fi
  read -r rps req p50 p99 bad serr <<<"$(wrk_parse "$out")"
  R_LINE="$rps $req $p50 $p99 $bad $serr $(awk -v d=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$req" \
    'BEGIN { printf "%.2f", (n > 0 ? d / hz * 1e6 / n : 0) }')"
}

# progress FORMAT [ARG...]: a transient status line on stderr when it is a
# terminal (nothing otherwise); progress with no argument clears it.
if [ -t 2 ]; then progress() { printf "\r%-60s\r${1:-}" "" "${@:2}" >&2; }; else progress() { :; }; fi

# bench_record_run NAME ROUND: one measured run of NAME (the caller's
# run_wrk NAME SECONDS OUT, BENCH_SECONDS long, output $TMP/wrk.NAME.ROUND).
# Appends its R_LINE to RUNS[NAME]; non-2xx answers, socket errors or a failed
# run are appended to ERR[NAME] as "round ROUND: ...; " (RUNS and ERR are the
# caller's associative arrays).
bench_record_run() {
  local bad serr
  if run_wrk "$1" "$BENCH_SECONDS" "$TMP/wrk.$1.$2"; then
    RUNS[$1]+="$R_LINE"$'\n'
    read -r _ _ _ _ bad serr _ <<<"$R_LINE"
    [ "$bad" != 0 ] && ERR[$1]+="round $2: $bad non-2xx answers; "
    [ "$serr" != 0 ] && ERR[$1]+="round $2: $serr socket errors; "
  else
    ERR[$1]+="round $2: $R_WHY; "
  fi
  return 0
}

# ---- results -------------------------------------------------------------------

# median_columns: reads lines of numbers on stdin (one run a line) and prints
# one line: the median of each column on its own (with an even count, the
# mean of the middle two).
median_columns() {
  awk '
    NF { n++; for (i = 1; i <= NF; i++) v[i, n] = $i; nf = NF }
    END {
      for (i = 1; i <= nf; i++) {
        for (a = 1; a <= n; a++) c[a] = v[i, a]
        for (a = 2; a <= n; a++) for (b = a; b > 1 && c[b - 1] + 0 > c[b] + 0; b--) { t = c[b]; c[b] = c[b - 1]; c[b - 1] = t }
        m = n % 2 ? c[(n + 1) / 2] : (c[n / 2] + c[n / 2 + 1]) / 2
        printf "%s%s", (i > 1 ? " " : ""), m
      }
      print ""
    }'
}

# bench_medians NAME...: MED[NAME] = median_columns of RUNS[NAME] for each
# NAME that has runs (MED and RUNS are the caller's associative arrays).
bench_medians() {
  local n
  for n in "$@"; do
    [ -n "${RUNS[$n]:-}" ] || continue
    # shellcheck disable=SC2004 # MED is associative: the $ is needed
    MED[$n]=$(printf '%s' "${RUNS[$n]}" | median_columns)
  done
}

# med_field NAME INDEX: prints column INDEX (0-based) of MED[NAME] (the
# caller's associative array of median_columns lines); empty when absent.
med_field() { local -a cols; read -ra cols <<<"${MED[$1]:-}"; echo "${cols[$2]:-}"; }

# bench_target W1 W2 TEXT VALUE MET: prints "  TEXT VALUE VERDICT" with TEXT
# and VALUE padded to W1 and W2 columns. MET 1 = PASS; na = n/a (not
# counted); anything else = MISS and sets MISSED=1.
bench_target() {
  local v=MISS
  if [ "$5" = 1 ]; then v=PASS; elif [ "$5" = na ]; then v=n/a; else MISSED=1; fi
  printf "  %-${1}s %-${2}s %s\n" "$3" "$4" "$v"
}
