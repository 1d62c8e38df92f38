#!/usr/bin/env bash
# bench/plugins.sh — what each proxy-wasm plugin costs on the gateway's
# request path (the Higress "V8 -> WAMR" table, for sluice's interpreter and
# its AOT tier side by side).
#
#   make bench-plugins              builds build/sluice and the plugins, then runs this
#   make bench                      kernels, gateway bench, then this (BENCH_PLUGINS=0 skips it)
#   BUILD=build bench/plugins.sh    run directly
#
# What runs, all on 127.0.0.1, from a temporary directory removed on exit:
#   upstream   nginx, 1 worker, a 20-byte answer (bench/gateway/upstream.conf)
#   sluice     ONE `sluice gateway` (workers: 1, access_log: false) with one
#              route per plugin, /<plugin>/, all to the same upstream, plus
#              /none/ without a plugin (config written by this script), every
#              plugin with `runtime: interp`
#   sluice-aot a second, identical gateway with `runtime: aot` on every
#              plugin and `aot_cache: $TMP/aot-cache`; its routes are listed
#              as <plugin>@aot (none@aot is its own baseline). The cache is
#              filled before it starts: `sluice compile` of each plugin into
#              <cache>/<sha256 of the wasm>.<target>.slaot (sl_aot_cache_path;
#              the target is read from the artifact's header), so no compile
#              time falls into a measurement. A gateway that rejects the
#              runtime:/aot_cache: keys (older than that change) gets no AOT
#              routes: the script says so and measures the interpreter only
#              (and then writes no runtime: key for it either).
#
# Routes and the credentials the script makes for them:
#   none        no plugin
#   key-auth    x-api-key: <key>
#   basic-auth  Authorization: Basic base64(user:password)
#   jwt-auth    Authorization: Bearer <HS256 JWT, exp = now + 1 day>, signed here
#   hmac-auth   x-hmac-access-key, x-hmac-signature, date: the signature covers
#               the Date header, so it is computed ONCE at start (IMF-fixdate of
#               the start time) and every request of the run reuses it; the
#               plugin's clock_skew is set to 3600 s so a long run stays valid
#   oauth       Authorization: Bearer <token>, fetched first from the plugin's
#               token endpoint (GET /oauth/oauth2/token?grant_type=client_credentials...)
#   bot-detect  a desktop Chrome User-Agent (default deny list)
#   rate-limit  local mode, key per client IP, limit 1e9 per 60 s (never hit)
#
# Before measuring, every route must answer 200 with its credentials (and the
# upstream's body), each auth route 401 without them, bot-detect 403 for a
# Googlebot User-Agent, rate-limit must add x-ratelimit-limit. A route that
# fails this is not measured. A wrk run with non-2xx answers or socket errors
# makes its row "invalid" (a benchmark of 401s is worthless).
#
# Measurement: WARMUP_SECONDS of wrk per route, then ROUNDS rounds; in each
# round every route gets one wrk run (-t2 -c50 -d BENCH_SECONDS --latency),
# the route order rotating from round to round so drift in machine load hits
# all routes alike. Per run: requests/s, p50, p99 (wrk --latency) and gateway
# CPU per request = (utime+stime of the gateway process, all threads, from
# /proc/PID/stat) / requests. Per route the median of its runs, each column on
# its own. "+" columns are the difference to the none route of the same run
# set, "vs none" is requests/s / none's requests/s.
#
# Targets (the plugin issue): key-auth adds <= 3 us of gateway CPU per request
# and keeps >= 95% of none's throughput; jwt-auth adds <= 15 us. Per plugin VM
# memory beyond linear memory <= 1 MB: printed from /stats when it exposes a
# per-plugin memory series; it does not today, so instead one gateway per
# plugin is started and compared with a plugin-less one via /proc/PID/smaps
# (anonymous memory, minus the pages inside the linear memories' guard
# reservations; MEM_BASELINE=0 skips this).
#
# Environment (all optional):
#   BUILD=build  SLUICE=$BUILD/sluice  PLUGIN_DIR=$BUILD/../build/wasm/plugins
#   NGINX=nginx  WRK=wrk
#   BENCH_SECONDS=5    seconds per measured wrk run
#   WARMUP_SECONDS=1   seconds of wrk per route before measuring
#   ROUNDS=3           measured runs per route
#   WRK_THREADS=2 WRK_CONNS=50
#   PLUGINS="key-auth ..."  subset of plugin routes (none is always measured)
#   PLUGIN_RUNTIMES="interp aot"  "interp" alone skips the AOT gateway
#   MEM_BASELINE=1     the per-plugin memory gateways (0 skips them)
#   KEEP_RUNNING=SECONDS  after the report, keep everything up this long and
#                      print the ports (for profiling by hand)
#   BENCH_STRICT=1     a MISS also makes the exit status 1
#
# Exit status: 0 when every route was verified and measured without errors;
# 1 when something failed (or, with BENCH_STRICT=1, a target was missed);
# 2 when a needed tool is missing.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
SLUICE=${SLUICE:-$BUILD/sluice}
PLUGIN_DIR=${PLUGIN_DIR:-build/wasm/plugins}
WRK=${WRK:-wrk}
BENCH_SECONDS=${BENCH_SECONDS:-5}
WARMUP_SECONDS=${WARMUP_SECONDS:-1}
ROUNDS=${ROUNDS:-3}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-50}
PLUGINS=${PLUGINS:-key-auth basic-auth jwt-auth hmac-auth oauth bot-detect rate-limit}
PLUGIN_RUNTIMES=${PLUGIN_RUNTIMES:-interp aot}
MEM_BASELINE=${MEM_BASELINE:-1}
KEEP_RUNNING=${KEEP_RUNNING:-0}
BENCH_STRICT=${BENCH_STRICT:-0}
HERE=bench/gateway

# shellcheck source=bench/lib.sh
. bench/lib.sh

# ---- tools -------------------------------------------------------------------

bench_check_tools plugins
if [ ! -x "$SLUICE" ]; then
  note "bench/plugins: $SLUICE not built (make)"
  exit 1
fi
for p in $PLUGINS; do
  if [ ! -f "$PLUGIN_DIR/$p.wasm" ]; then
    note "bench/plugins: $PLUGIN_DIR/$p.wasm not built (make plugins)"
    exit 1
  fi
done

# ---- set-up ------------------------------------------------------------------

bench_setup_tmp sluice-plbench
read -r P_UP P_GW P_ADMIN < <(free_ports 3)

# ---- credentials -------------------------------------------------------------

KEY=bench-4f1c2d9e-7a55-4b0e-9c1d-6f3e2a8b7c01
BASIC_USER=bench BASIC_PASS=bench-pass-0123
JWT_SECRET=bench-jwt-secret-0123456789abcdef
HMAC_AK=ak-bench HMAC_SK=sk-bench-0123456789
OAUTH_ID=bench-client-0b1d-11ee OAUTH_SECRET=bench-secret-9e55de56
OAUTH_KEY=bench-oauth-signing-key-0123456789abcdef
UA_BROWSER='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
UA_BOT='Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'

# basic header, JWT, hmac date and signature (signed once, now)
mapfile -t CRED < <(python3 - "$BASIC_USER:$BASIC_PASS" "$JWT_SECRET" "$HMAC_AK" "$HMAC_SK" <<'EOF'
import base64, hashlib, hmac, json, sys, time
from email.utils import formatdate
basic, jwt_secret, ak, sk = sys.argv[1:5]
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
head = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
body = b64u(json.dumps({"sub": "bench", "iat": now, "exp": now + 86400}, separators=(",", ":")).encode())
sig = b64u(hmac.new(jwt_secret.encode(), (head + "." + body).encode(), hashlib.sha256).digest())
date = formatdate(now, usegmt=True)
sts = "GET\n/hmac-auth/\n%s\n%s\n" % (ak, date)
hsig = base64.b64encode(hmac.new(sk.encode(), sts.encode(), hashlib.sha256).digest()).decode()
print(base64.b64encode(basic.encode()).decode())
print(head + "." + body + "." + sig)
print(date)
print(hsig)
EOF
)
if [ "${#CRED[@]}" != 4 ]; then
  note "bench/plugins: could not make the credentials"
  exit 1
fi
BASIC_B64=${CRED[0]} JWT=${CRED[1]} HMAC_DATE=${CRED[2]} HMAC_SIG=${CRED[3]}

# ---- config ------------------------------------------------------------------

plugin_conf() { # JSON configuration of a plugin
  case $1 in
    key-auth) echo "{\"consumers\":[{\"name\":\"bench\",\"credential\":\"$KEY\"}],\"keys\":[\"x-api-key\"]}" ;;
    basic-auth) echo "{\"consumers\":[{\"name\":\"bench\",\"credential\":\"$BASIC_USER:$BASIC_PASS\"}]}" ;;
    jwt-auth) echo "{\"consumers\":[{\"name\":\"bench\",\"secret\":\"$JWT_SECRET\"}]}" ;;
    hmac-auth) echo "{\"consumers\":[{\"name\":\"bench\",\"access_key\":\"$HMAC_AK\",\"secret_key\":\"$HMAC_SK\"}],\"clock_skew\":3600}" ;;
    oauth) echo "{\"consumers\":[{\"name\":\"bench\",\"client_id\":\"$OAUTH_ID\",\"client_secret\":\"$OAUTH_SECRET\"}],\"signing_key\":\"$OAUTH_KEY\",\"token_ttl\":86400}" ;;
    bot-detect) echo "{}" ;;
    rate-limit) echo "{\"mode\":\"local\",\"key\":{\"type\":\"ip\"},\"limit\":1000000000,\"window_seconds\":60}" ;;
  esac
}

# write_config FILE PORT ADMIN_PORT "PLUGIN..." [RUNTIME]: RUNTIME "aot"
# adds aot_cache: $AOT_CACHE and runtime: aot to every plugin; "interp" adds
# runtime: interp; empty (a gateway without the key) adds nothing.
write_config() {
  local f=$1 p rt=${5:-}
  {
    echo "# written by bench/plugins.sh"
    echo "listeners: [{name: bench, address: 127.0.0.1:$2}]"
    echo "admin: {address: 127.0.0.1:$3}"
    echo "workers: 1"
    echo "access_log: false"
    [ "$rt" = aot ] && echo "aot_cache: $AOT_CACHE"
    echo "clusters: [{name: origin, endpoints: [127.0.0.1:$P_UP]}]"
    if [ -n "$4" ]; then
      echo "plugins:"
      for p in $4; do
        echo "  - name: $p"
        echo "    module: $PWD/$PLUGIN_DIR/$p.wasm"
        [ -n "$rt" ] && echo "    runtime: $rt"
        echo "    configuration: '$(plugin_conf "$p")'"
      done
    fi
    echo "routes:"
    echo "  - {name: none, match: {path: {prefix: /none/}}, proxy: {cluster: origin}}"
    for p in $4; do
      echo "  - {name: $p, match: {path: {prefix: /$p/}}, proxy: {cluster: origin}, plugins: [$p]}"
    done
  } >"$f"
}

# ---- start -------------------------------------------------------------------

if ! bench_start_nginx upstream "$HERE/upstream.conf" "$P_UP"; then
  note "bench/plugins: upstream nginx did not start: $(tail -n 3 "$TMP/upstream.out" "$TMP/upstream.error.log" 2>/dev/null | tr '\n' ' ')"
  exit 1
fi

start_gw() { # start_gw NAME CONFIG PORT -> GW_PID
  env -u PORT SLUICE_PLUGIN_LOG="${SLUICE_PLUGIN_LOG:-warn}" "$SLUICE" gateway -c "$2" >"$TMP/$1.log" 2>&1 </dev/null &
  GW_PID=$!
  PIDS+=("$GW_PID")
  if ! wait_port "$3" "$GW_PID"; then
    note "bench/plugins: gateway ($1) did not start: $(tail -n 5 "$TMP/$1.log" | tr '\n' ' ')"
    return 1
  fi
}

# AOT first: whether this gateway knows runtime:/aot_cache: decides whether
# the interpreter gateway gets an explicit runtime: interp (a future default
# of auto must not turn the interpreter column into AOT).
AOT=0 AOT_WHY="" RT_KEY=""
AOT_CACHE=$TMP/aot-cache
if [[ " $PLUGIN_RUNTIMES " == *" aot "* ]]; then
  mkdir -p "$AOT_CACHE"
  AOT=1
  for p in $PLUGINS; do # fill the cache: <sha256>.<target>.slaot (sl_aot_cache_path)
    progress '  sluice compile %s ' "$p"
    if ! "$SLUICE" compile -q "$PLUGIN_DIR/$p.wasm" -o "$AOT_CACHE/tmp.slaot" 2>"$TMP/compile.$p.err"; then
      progress
      AOT=0 AOT_WHY="sluice compile $PLUGIN_DIR/$p.wasm failed: $(head -c 300 "$TMP/compile.$p.err" | tr '\n' ' ')"
      break
    fi
    # header: magic[8] abi u32 header_size u32 module_sha256[32] payload_len u64
    # payload_sha256[32] target[24] headers_sha256[32] (src/aot/sl_aot.h)
    target=$(dd if="$AOT_CACHE/tmp.slaot" bs=1 skip=88 count=24 status=none | tr -d '\0')
    sha=$(sha256sum "$PLUGIN_DIR/$p.wasm" | cut -d' ' -f1)
    mv "$AOT_CACHE/tmp.slaot" "$AOT_CACHE/$sha.$target.slaot"
  done
  progress
  if [ "$AOT" = 1 ]; then
    read -r P_GW_AOT P_ADMIN_AOT < <(free_ports 2)
    write_config "$TMP/sluice-aot.yaml" "$P_GW_AOT" "$P_ADMIN_AOT" "$PLUGINS" aot
    if start_gw sluice-aot "$TMP/sluice-aot.yaml" "$P_GW_AOT" 2>/dev/null; then
      GW_AOT=$GW_PID
      RT_KEY=interp
    else
      AOT=0
      if grep -qE '(runtime|aot_cache): unknown key' "$TMP/sluice-aot.log"; then
        AOT_WHY="AOT plugin runs need the runtime: key (per plugin) and aot_cache: in the gateway config; this gateway rejects them ($(grep -m1 -oE '(runtime|aot_cache): unknown key' "$TMP/sluice-aot.log")): interpreter table only"
      else
        AOT_WHY="the AOT gateway did not start: $(tail -n 3 "$TMP/sluice-aot.log" | tr '\n' ' ')"
      fi
    fi
  fi
  [ "$AOT" = 1 ] || echo "plugins: $AOT_WHY"
fi

write_config "$TMP/sluice.yaml" "$P_GW" "$P_ADMIN" "$PLUGINS" "$RT_KEY"
start_gw sluice "$TMP/sluice.yaml" "$P_GW" || exit 1
GW=$GW_PID

# ---- per-route request headers, and verification ------------------------------

declare -A HDRS OK WHY RUNS MED ERR
ROUTES="none $PLUGINS"
AOT_ROUTES=""
if [ "$AOT" = 1 ]; then for r in $ROUTES; do AOT_ROUTES+="$r@aot "; done; fi
ALL_ROUTES="$ROUTES $AOT_ROUTES"

# A route name is <route> (the interpreter gateway) or <route>@aot (the AOT
# gateway); the URL path is /<route>/ on either.
gw_port() { if [[ $1 == *@aot ]]; then echo "$P_GW_AOT"; else echo "$P_GW"; fi; }
gw_pid() { if [[ $1 == *@aot ]]; then echo "$GW_AOT"; else echo "$GW"; fi; }

status_of() { # status_of PATH [curl args...] -> HTTP status (000 on failure); port $CUR_PORT
  local path=$1
  shift
  curl -s -o "$TMP/body" -w '%{http_code}' --max-time 5 "$@" "http://127.0.0.1:${CUR_PORT:-$P_GW}$path" || true
}

# oauth: fetch a token from the plugin's token endpoint first (from each
# gateway: a token need not be valid on the other one).
declare -A OAUTH_TOKEN OAUTH_WHY
for gw in "" @aot; do
  OAUTH_TOKEN[x$gw]=""
  [[ " $PLUGINS " == *" oauth "* ]] || continue
  [ "$gw" = @aot ] && [ "$AOT" != 1 ] && continue
  CUR_PORT=$(gw_port "oauth$gw")
  st=$(status_of "/oauth/oauth2/token?grant_type=client_credentials&client_id=$OAUTH_ID&client_secret=$OAUTH_SECRET")
  tok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$TMP/body" 2>/dev/null || true)
  [ "$st" = 200 ] && [ -n "$tok" ] || tok=""
  OAUTH_TOKEN[x$gw]=$tok
  OAUTH_WHY[x$gw]="token endpoint answered $st: $(head -c 120 "$TMP/body" 2>/dev/null)"
done
CUR_PORT=$P_GW

# HDRS[route]: the request headers, one per line.
HDRS[none]=""
HDRS[key-auth]="x-api-key: $KEY"
HDRS[basic-auth]="Authorization: Basic $BASIC_B64"
HDRS[jwt-auth]="Authorization: Bearer $JWT"
HDRS[hmac-auth]=$(printf 'x-hmac-access-key: %s\nx-hmac-signature: %s\ndate: %s' "$HMAC_AK" "$HMAC_SIG" "$HMAC_DATE")
HDRS[oauth]="Authorization: Bearer ${OAUTH_TOKEN[x]}"
HDRS[bot-detect]="User-Agent: $UA_BROWSER"
HDRS[rate-limit]=""
for r in $ROUTES; do HDRS[$r@aot]=${HDRS[$r]}; done
HDRS[oauth@aot]="Authorization: Bearer ${OAUTH_TOKEN[x@aot]}"

hdr_args() { # hdr_args ROUTE -> HARGS (-H ... for curl and wrk)
  local l
  HARGS=()
  while IFS= read -r l; do [ -n "$l" ] && HARGS+=(-H "$l"); done <<<"${HDRS[$1]}"
  return 0
}

verify() { # verify ROUTE -> OK/WHY
  local rr=$1 r=${1%@aot} st body tok=${OAUTH_TOKEN[x]}
  [[ $rr == *@aot ]] && tok=${OAUTH_TOKEN[x@aot]}
  CUR_PORT=$(gw_port "$rr")
  hdr_args "$rr"
  st=$(status_of "/$r/" "${HARGS[@]}" -D "$TMP/head")
  body=$(cat "$TMP/body" 2>/dev/null)
  if [ "$st" != 200 ] || [ "$body" != "hello from upstream" ]; then
    WHY[$rr]="with credentials: $st '${body:0:80}'"
    return 1
  fi
  case $r in
    key-auth | basic-auth | jwt-auth | hmac-auth | oauth)
      st=$(status_of "/$r/")
      [ "$st" = 401 ] || { WHY[$rr]="without credentials: $st (expected 401)"; return 1; } ;;
  esac
  case $r in
    key-auth) st=$(status_of "/$r/" -H "x-api-key: wrong") ;;
    basic-auth) st=$(status_of "/$r/" -H "Authorization: Basic $(printf 'bench:wrong' | base64)") ;;
    jwt-auth) st=$(status_of "/$r/" -H "Authorization: Bearer ${JWT%?}x") ;;
    hmac-auth) st=$(status_of "/$r/" -H "x-hmac-access-key: $HMAC_AK" -H "x-hmac-signature: x$HMAC_SIG" -H "date: $HMAC_DATE") ;;
    oauth) st=$(status_of "/$r/" -H "Authorization: Bearer ${tok%?}x") ;;
    bot-detect) st=$(status_of "/$r/" -H "User-Agent: $UA_BOT")
      [ "$st" = 403 ] || { WHY[$rr]="Googlebot answered $st (expected 403)"; return 1; }
      st=401 ;;
    rate-limit)
      grep -qi '^x-ratelimit-limit:' "$TMP/head" || { WHY[$rr]="no x-ratelimit-limit header: the plugin did not run"; return 1; }
      st=401 ;;
    none) st=401 ;;
  esac
  [ "$st" = 401 ] || { WHY[$rr]="wrong credentials answered $st (expected 401)"; return 1; }
  return 0
}

echo "plugins: verifying each route (200 with credentials, 401 without)"
for r in $ALL_ROUTES; do
  OK[$r]=1
  if [ "${r%@aot}" = oauth ] && [ -z "${OAUTH_TOKEN[x${r#oauth}]}" ]; then
    OK[$r]=0
    WHY[$r]=${OAUTH_WHY[x${r#oauth}]}
  elif ! verify "$r"; then
    OK[$r]=0
  fi
  if [ "${OK[$r]}" = 1 ]; then echo "  $r: ok"; else echo "  $r: FAILED: ${WHY[$r]}"; fi
done

# ---- throughput --------------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)

run_wrk() { # run_wrk ROUTE SECONDS OUT -> R_LINE "rps req p50 p99 non2xx serr cpu_us"
  hdr_args "$1"
  bench_run_wrk "$2" "$3" "$(gw_pid "$1")" "http://127.0.0.1:$(gw_port "$1")/${1%@aot}/" "${HARGS[@]}"
}

read -ra order <<<"$ALL_ROUTES"
for r in "${order[@]}"; do
  [ "${OK[$r]}" = 1 ] || continue
  progress '  warm-up %s ' "$r"
  run_wrk "$r" "$WARMUP_SECONDS" "$TMP/wrk.$r.warmup" || true
done
n=${#order[@]}
for ((k = 1; k <= ROUNDS; k++)); do
  for ((j = 0; j < n; j++)); do
    r=${order[$(((j + k - 1) % n))]} # rotate the order each round
    [ "${OK[$r]}" = 1 ] || continue
    progress '  round %d/%d %s ' "$k" "$ROUNDS" "$r"
    if ! kill -0 "$(gw_pid "$r")" 2>/dev/null; then
      OK[$r]=0
      log=$TMP/sluice.log
      [[ $r == *@aot ]] && log=$TMP/sluice-aot.log
      WHY[$r]="gateway exited: $(tail -n 3 "$log" | tr '\n' ' ')"
      continue
    fi
    bench_record_run "$r" "$k"
  done
done
progress
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
T1=$(date +%s)

# shellcheck disable=SC2086 # ALL_ROUTES is a list of names
bench_medians $ALL_ROUTES
field() { med_field "$@"; } # field ROUTE INDEX
valid() { [ "${OK[$1]:-0}" = 1 ] && [ -n "${MED[$1]:-}" ] && [ -z "${ERR[$1]:-}" ]; }

# ---- memory ------------------------------------------------------------------

STATS=$(curl -s --max-time 5 "http://127.0.0.1:$P_ADMIN/stats" || true)
# A per-plugin memory figure would look like sluice_wasm_..._bytes{plugin="..."}.
MEM_LINES=$(printf '%s\n' "$STATS" | grep -E '^sluice_wasm_[a-z_]*(mem|bytes)[a-z_]*\{plugin=' || true)
PW_NAMES=$(printf '%s\n' "$STATS" | grep -oE '^sluice_wasm_[a-z_]+' | sort -u | tr '\n' ' ')

# mem_of PID -> "anon_kb linear_anon_kb memories": anonymous memory of the
# process, the part of it inside linear memories (the guard-page
# reservations: 8 GiB + 64 KiB each, contiguous VMAs in smaps, split by
# mprotect), and the number of linear memories.
mem_of() {
  python3 - "$1" <<'EOF2'
import re, sys
vmas = []
cur = None
for line in open("/proc/%s/smaps" % sys.argv[1]):
    m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) [-rwxsp]{4} ", line)
    if m:
        cur = [int(m.group(1), 16), int(m.group(2), 16), 0, line.split()[1]]
        vmas.append(cur)
    elif line.startswith("Anonymous:") and cur:
        cur[2] = int(line.split()[1])
# Anonymous (private, written) pages only: clean shared-library text that
# the plugin path happens to page in (libcrypto, ...) is not VM memory.
anon = sum(v[2] for v in vmas)
# A reservation is RESERVATION bytes from its base: the memory's pages
# (read-write, or the module's image mapped copy-on-write) then PROT_NONE up
# to the end. Find each PROT_NONE VMA ending a RESERVATION-long contiguous run.
RES = (8 << 30) + (64 << 10)
starts = {v[0]: i for i, v in enumerate(vmas)}
lin = n = 0
for i, v in enumerate(vmas):
    if v[3] != "---p" or v[1] - v[0] < (1 << 30):
        continue
    j = starts.get(v[1] - RES)
    if j is None or j > i or any(vmas[k][1] != vmas[k + 1][0] for k in range(j, i)):
        continue
    lin += sum(vmas[k][2] for k in range(j, i + 1))
    n += 1
print(anon, lin, n)
EOF2
}

# Per plugin: a gateway with only that plugin (and /none/), after 1 s of wrk
# on its route, against a gateway without plugins after 1 s on /none/. The
# difference in RSS minus the plugin gateway's linear-memory RSS is what the
# plugin's VM(s) cost beyond linear memory (module copy, lowered code,
# instance, host-side contexts, plugin configuration).
declare -A MEMR
if [ -z "$MEM_LINES" ] && [ "$MEM_BASELINE" = 1 ]; then
  for r in none $PLUGINS; do
    [ "${OK[$r]}" = 1 ] || continue
    if [ "$r" = none ]; then list=""; else list=$r; fi
    started=0
    for _ in 1 2 3; do # the free ports are picked, then closed: another process may take one first
      read -r p1 p2 < <(free_ports 2)
      write_config "$TMP/mem.$r.yaml" "$p1" "$p2" "$list" "$RT_KEY"
      if start_gw "mem.$r" "$TMP/mem.$r.yaml" "$p1" 2>"$TMP/mem.$r.why"; then started=1; break; fi
      wait "$GW_PID" 2>/dev/null
    done
    [ "$started" = 1 ] || { cat "$TMP/mem.$r.why" >&2; continue; }
    hdr_args "$r"
    timeout 30 "$WRK" -t"$WRK_THREADS" -c"$WRK_CONNS" -d1s "${HARGS[@]}" "http://127.0.0.1:$p1/$r/" \
      >"$TMP/wrk.mem.$r" 2>&1 || true
    sleep 0.3
    MEMR[$r]=$(mem_of "$GW_PID")
    kill -TERM "$GW_PID" 2>/dev/null
    wait "$GW_PID" 2>/dev/null
  done
fi

# ---- report ------------------------------------------------------------------

STATUS=0
MISSED=0
target() { bench_target 52 18 "$@"; } # target TEXT VALUE MET(1 = pass, na = not measured, else miss)

echo
echo "plugins: wrk -t$WRK_THREADS -c$WRK_CONNS -d${BENCH_SECONDS}s --latency per run, $ROUNDS interleaved rounds, median per column"
if [ "$AOT" = 1 ]; then
  echo "two sluice gateways (workers: 1, access_log: false), runtime: interp and runtime: aot (artifacts compiled into aot_cache before the start),"
  echo "one route per plugin on each, upstream nginx (1 worker), all on 127.0.0.1; the runs of both gateways interleaved in every round"
  echo "\"+\" = difference to the none route of the same gateway; CPU = that gateway's utime+stime / requests"
else
  echo "one sluice gateway (workers: 1, access_log: false), one route per plugin, upstream nginx (1 worker), all on 127.0.0.1"
  echo "\"+\" = difference to the none route of this run; CPU = gateway utime+stime / requests"
fi
echo "hmac-auth: one signature made at start (its Date included) is reused by every request; clock_skew 3600 s"
echo
if [ "$AOT" = 1 ]; then
  # Side by side: interp | aot per column, "+" against each gateway's own none.
  echo "| route | req/s interp | req/s aot | vs none interp | vs none aot | +p50 us interp | +p50 us aot | +p99 us interp | +p99 us aot | CPU us/req interp | CPU us/req aot | +CPU us/req interp | +CPU us/req aot |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for r in $ROUTES; do
    awk -v r="$r" -v li="${MED[$r]:-}" -v la="${MED[$r@aot]:-}" -v bi="${MED[none]:-}" -v ba="${MED[none@aot]:-}" \
      -v badi="$(valid "$r" || echo 1)" -v bada="$(valid "$r@aot" || echo 1)" 'BEGIN {
      ni = split(li, fi, " "); na = split(la, fa, " "); nbi = split(bi, zi, " "); nba = split(ba, za, " ")
      name = r (badi ? " (interp invalid)" : "") (bada ? " (aot invalid)" : "")
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name,
        ni ? sprintf("%.0f", fi[1]) : "fail", na ? sprintf("%.0f", fa[1]) : "fail",
        ni && nbi ? sprintf("%.2fx", fi[1] / zi[1]) : "n/a", na && nba ? sprintf("%.2fx", fa[1] / za[1]) : "n/a",
        ni && nbi ? sprintf("%+.0f", fi[3] - zi[3]) : "n/a", na && nba ? sprintf("%+.0f", fa[3] - za[3]) : "n/a",
        ni && nbi ? sprintf("%+.0f", fi[4] - zi[4]) : "n/a", na && nba ? sprintf("%+.0f", fa[4] - za[4]) : "n/a",
        ni ? sprintf("%.2f", fi[7]) : "fail", na ? sprintf("%.2f", fa[7]) : "fail",
        ni && nbi ? sprintf("%+.2f", fi[7] - zi[7]) : "n/a", na && nba ? sprintf("%+.2f", fa[7] - za[7]) : "n/a"
    }'
  done
else
  [[ " $PLUGIN_RUNTIMES " == *" aot "* ]] && echo "$AOT_WHY" && echo
echo "| route | req/s | vs none | p50 us | +p50 us | p99 us | +p99 us | CPU us/req | +CPU us/req |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for r in $ROUTES; do
  if [ -z "${MED[$r]:-}" ]; then
    echo "| $r | fail |  |  |  |  |  |  |  |"
    continue
  fi
  awk -v r="$r" -v l="${MED[$r]}" -v b="${MED[none]:-}" -v bad="$(valid "$r" || echo 1)" 'BEGIN {
    split(l, f, " "); nb = split(b, z, " ")
    name = bad ? r " (invalid)" : r
    if (nb) printf "| %s | %.0f | %.2fx | %.0f | %+.0f | %.0f | %+.0f | %.2f | %+.2f |\n", name, f[1], f[1] / z[1], f[3], f[3] - z[3], f[4], f[4] - z[4], f[7], f[7] - z[7]
    else printf "| %s | %.0f | n/a | %.0f | n/a | %.0f | n/a | %.2f | n/a |\n", name, f[1], f[3], f[4], f[7]
  }'
done
fi

echo
echo "targets:"
in_run() { [[ " $PLUGINS " == *" $1 "* ]]; }
if ! in_run key-auth; then
  echo "  key-auth: not in PLUGINS, its targets not checked"
elif valid none && valid key-auth; then
  d=$(awk -v a="$(field key-auth 6)" -v b="$(field none 6)" 'BEGIN { printf "%+.2f", a - b }')
  target "key-auth adds <= 3 us gateway CPU per request" "$d us" "$(awk -v d="$d" 'BEGIN { print (d <= 3) }')"
  q=$(awk -v a="$(field key-auth 0)" -v b="$(field none 0)" 'BEGIN { printf "%.1f", 100 * a / b }')
  target "key-auth keeps >= 95% of none's throughput" "$q%" "$(awk -v q="$q" 'BEGIN { print (q >= 95) }')"
else
  target "key-auth adds <= 3 us gateway CPU per request" n/a 0
  target "key-auth keeps >= 95% of none's throughput" n/a 0
fi
if ! in_run jwt-auth; then
  echo "  jwt-auth: not in PLUGINS, its target not checked"
elif valid none && valid jwt-auth; then
  d=$(awk -v a="$(field jwt-auth 6)" -v b="$(field none 6)" 'BEGIN { printf "%+.2f", a - b }')
  target "jwt-auth adds <= 15 us gateway CPU per request" "$d us" "$(awk -v d="$d" 'BEGIN { print (d <= 15) }')"
else
  target "jwt-auth adds <= 15 us gateway CPU per request" n/a 0
fi
if [ "$AOT" = 1 ]; then # the same targets for the AOT gateway (against its own none)
  for t in key-auth:3 jwt-auth:15; do
    p=${t%%:*} lim=${t#*:}
    in_run "$p" || continue
    if valid none@aot && valid "$p@aot"; then
      d=$(awk -v a="$(field "$p@aot" 6)" -v b="$(field none@aot 6)" 'BEGIN { printf "%+.2f", a - b }')
      target "aot: $p adds <= $lim us gateway CPU per request" "$d us" "$(awk -v d="$d" -v l="$lim" 'BEGIN { print (d <= l) }')"
    else
      target "aot: $p adds <= $lim us gateway CPU per request" n/a 0
    fi
  done
fi

echo
echo "plugin VM memory (target: <= 1 MB per plugin VM beyond its linear memory):"
if [ -n "$MEM_LINES" ]; then
  printf '%s\n' "$MEM_LINES" | sed 's/^/  /'
else
  echo "  not exposed: /stats has no per-plugin memory figure (plugin series: ${PW_NAMES:-none})"
  if [ -n "${MEMR[none]:-}" ]; then
    echo "  measured instead from /proc/PID/smaps: one gateway per plugin (workers: 1) after 1 s of traffic on its"
    echo "  route, against a gateway without plugins. Counted: anonymous (private, written) memory from smaps, so the"
    echo "  shared-library text a plugin path pages in (libcrypto: ~1.6 MB of clean, shared RSS) is left out; linear"
    echo "  memory = the anonymous pages inside the 8 GiB guard reservations"
    echo
    echo "| plugin | gateway anon KB | + vs no plugins KB | linear memory KB | linear memories | beyond linear KB per VM |"
    echo "|---|---:|---:|---:|---:|---:|"
    read -r base _ _ <<<"${MEMR[none]}"
    echo "| (none) | $base |  |  |  |  |"
    worst=""
    for r in $PLUGINS; do
      [ -n "${MEMR[$r]:-}" ] || { echo "| $r | fail |  |  |  |  |"; worst=fail; continue; }
      read -r rss lin nmem <<<"${MEMR[$r]}"
      per=$(awk -v a="$rss" -v b="$base" -v l="$lin" -v n="$nmem" 'BEGIN { printf "%.0f", (a - b - l) / (n > 0 ? n : 1) }')
      echo "| $r | $rss | $((rss - base)) | $lin | $nmem | $per |"
      if [ "$worst" != fail ] && { [ -z "$worst" ] || [ "$per" -gt "$worst" ]; }; then worst=$per; fi
    done
    echo
    if [ "$worst" = fail ] || [ -z "$worst" ]; then
      target "<= 1 MB per plugin VM beyond linear memory" "n/a" 0
    else
      target "<= 1 MB per plugin VM beyond linear memory (worst)" "$worst KB" "$(awk -v w="$worst" 'BEGIN { print (w <= 1024) }')"
    fi
  else
    target "<= 1 MB per plugin VM beyond linear memory" "not measured" na
  fi
fi

echo
echo "all runs (req/s, p50 us, p99 us, CPU us/req, non-2xx, socket errors):"
for r in $ALL_ROUTES; do
  [ -n "${RUNS[$r]:-}" ] || continue
  printf '%s' "${RUNS[$r]}" | awk -v n="$r" 'NF { printf "  %-15s %8.0f %7.0f %7.0f %7.2f %6d %6d\n", n, $1, $3, $4, $7, $5, $6 }'
done

problems=()
for r in $ALL_ROUTES; do
  [ "${OK[$r]}" = 1 ] || { problems+=("$r: ${WHY[$r]:-failed}"); STATUS=1; }
  [ -n "${ERR[$r]:-}" ] && { problems+=("$r: ${ERR[$r]%; } (row invalid)"); STATUS=1; }
done
if [ "${#problems[@]}" -gt 0 ]; then
  echo
  echo "problems:"
  printf '  %s\n' "${problems[@]}"
fi
echo
echo "load average $LOAD0 before the runs, $LOAD1 after ($((T1 - T0)) s; $(nproc) cores shared by wrk, the upstream, the gateway and anything else running)"

if [ "$KEEP_RUNNING" -gt 0 ] 2>/dev/null; then
  echo "keeping the gateway (pid $GW, http://127.0.0.1:$P_GW/<route>/) up for $KEEP_RUNNING s"
  for r in $ROUTES; do
    hdr_args "$r"
    printf '  %s:' "$r"
    printf ' %q' "$WRK" -t"$WRK_THREADS" -c"$WRK_CONNS" -d10s "${HARGS[@]}" "http://127.0.0.1:$P_GW/$r/"
    echo
  done
  sleep "$KEEP_RUNNING"
fi
[ "$BENCH_STRICT" = 1 ] && [ "$MISSED" = 1 ] && STATUS=1
exit "$STATUS"
