#!/usr/bin/env bash
# bench/wagi.sh — WAGI throughput and cold start, measured side by side.
#
#   make bench-wagi        builds, then runs this
#   make bench             the kernels, the gateway bench, then this (BENCH_WAGI=0 skips it)
#
# One gateway (workers: CPUs, access log off) serves two routes on 127.0.0.1:
#   /hello   a WAGI route: tests/wagi/hello.c built for wasm32-wasi, a fresh
#            instance per request (CGI: env, argv, stdin, stdout parsed)
#   /direct  a direct response with the same body
# wrk -t2 -c100 (keep-alive) runs against each, interleaved for ROUNDS rounds
# of BENCH_SECONDS; the table gives the median requests/s, p50 and p99 of
# each and the ratio. Targets (issue #5): WAGI >= 50% of the direct
# response's requests/s, WAGI p99 <= 2 ms.
# Cold start: from exec of `sluice gateway` to the first 200 from /hello,
# polled every millisecond by a small Python client (median of 5 starts);
# target <= 20 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SLUICE=${SLUICE:-$BUILD/sluice}
SECS=${BENCH_SECONDS:-5}
ROUNDS=${ROUNDS:-3}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# shellcheck source=bench/lib.sh
. bench/lib.sh # free_ports only: the rest of this script is its own (wrk -c100, integer figures)
for t in wrk clang curl; do
    command -v "$t" >/dev/null || { echo "bench/wagi.sh: needs $t (scripts/deps.sh)"; exit 2; }
done
TMP=$(mktemp -d /tmp/sluice-wagi-bench.XXXXXX)
GW=""
cleanup() { [ -n "$GW" ] && kill "$GW" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
clang --target=wasm32-wasi --sysroot=/usr -O2 tests/wagi/hello.c -o "$TMP/hello.wasm"
read -r PORT ADMIN <<<"$(free_ports 2)"
cat >"$TMP/gw.yaml" <<YAML
listeners: [{address: 127.0.0.1:$PORT}]
admin: {address: 127.0.0.1:$ADMIN}
access_log: false
routes:
  - {match: {path: {exact: /hello}}, wagi: {module: hello.wasm}}
  - {match: {path: {exact: /direct}}, direct: {status: 200, body: "hello, world\n", headers: {content-type: text/plain}}}
YAML

cold_start() {
    $PY - "$SLUICE" "$TMP/gw.yaml" "$PORT" <<'PYEOF'
import socket, subprocess, sys, time
sluice, conf, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0 = time.monotonic()
p = subprocess.Popen([sluice, "gateway", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ms = None
while time.monotonic() - t0 < 5:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        d = s.recv(100)
        s.close()
        if d.startswith(b"HTTP/1.1 200"):
            ms = (time.monotonic() - t0) * 1000
            break
    except OSError:
        time.sleep(0.001)
p.terminate(); p.wait()
print("%.1f" % ms if ms is not None else "fail")
PYEOF
}
colds=()
for i in 1 2 3 4 5; do colds+=("$(cold_start)"); sleep 0.2; done
cold=$(printf '%s\n' "${colds[@]}" | sort -n | sed -n 3p)

"$SLUICE" gateway -c "$TMP/gw.yaml" >/dev/null 2>"$TMP/gw.err" &
GW=$!
for i in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/hello" && break
    sleep 0.05
done
wrk -t2 -c100 -d1s "http://127.0.0.1:$PORT/hello" >/dev/null 2>&1 || true

to_us() { # wrk latency ("1.23ms", "850.00us", "1.02s") -> microseconds
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print int(n); else if (v ~ /ms$/) print int(n * 1000); else print int(n * 1000000) }'
}
declare -A rps p50 p99
for r in $(seq "$ROUNDS"); do
    for path in hello direct; do
        out=$(wrk -t2 -c100 -d"${SECS}s" --latency "http://127.0.0.1:$PORT/$path" 2>&1)
        if echo "$out" | grep -qE 'Non-2xx|Socket errors'; then
            echo "bench/wagi.sh: errors under load on /$path:"; echo "$out"; exit 1
        fi
        rps[$path]+="$(echo "$out" | awk '/Requests\/sec/ {print int($2)}') "
        p50[$path]+="$(to_us "$(echo "$out" | awk '$1 == "50%" {print $2}')") "
        p99[$path]+="$(to_us "$(echo "$out" | awk '$1 == "99%" {print $2}')") "
    done
done
med() { printf '%s\n' $1 | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
wr=$(med "${rps[hello]}") dr=$(med "${rps[direct]}")
w99=$(med "${p99[hello]}") d99=$(med "${p99[direct]}")
echo "WAGI: wrk -t2 -c100 -d${SECS}s (keep-alive), median of $ROUNDS interleaved rounds, $(nproc) workers"
printf '%-28s %9s %8s %8s\n' route req/s "p50 us" "p99 us"
printf '%-28s %9s %8s %8s\n' "/hello (WAGI, fresh inst.)" "$wr" "$(med "${p50[hello]}")" "$w99"
printf '%-28s %9s %8s %8s\n' "/direct (direct response)" "$dr" "$(med "${p50[direct]}")" "$d99"
ratio=$(awk -v a="$wr" -v b="$dr" 'BEGIN { printf "%.2f", a / b }')
echo "WAGI / direct requests/s: ${ratio}x (all rounds: hello ${rps[hello]}| direct ${rps[direct]})"
echo "cold start to the first WAGI response: ${cold} ms (5 starts: ${colds[*]})"
echo
pass() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }
echo "targets:"
echo "  WAGI >= 50% of direct req/s   ${ratio}x   $(pass "$(awk -v r="$ratio" 'BEGIN { print (r >= 0.5) }')")"
echo "  WAGI p99 <= 2 ms               ${w99} us   $(pass "$(awk -v p="$w99" 'BEGIN { print (p <= 2000) }')")"
echo "  cold start <= 20 ms            ${cold} ms   $(pass "$(awk -v c="$cold" 'BEGIN { print (c != "fail" && c <= 20) }')")"
