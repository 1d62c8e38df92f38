# tests/gateway/lib.sh — helpers for the gateway suite (sourced by suite.sh).
#
# Processes: every process started here is recorded in PIDS and stopped by
# the EXIT trap (TERM, then KILL), one pid at a time; nothing is left behind.
# Temporary files live in $TMP (kept when KEEP_TMP=1).
#
# Upstreams:  start_upstream NAME [PORT [ARGS...]] -> UP_NAME (port), UPPID_NAME
#             up_count PORT PYEXPR (on its /count JSON d), up_reset PORT
# Gateway:    start_gateway TAG CONF [VAR=value...]
#                                        -> GW_PID, GW_OUT (stdout: access
#                                           log), GW_ERR (stderr); waits
#                                           for /ready on $ADMIN
#             stop_gateway [SIG]         -> GW_RC (exit status), waits 15 s
#                                           (SIG 0: just wait)
# HTTP:       hc ARGS...                 curl -sS with --max-time $CURL_MAX
#             code URL [ARGS...]         prints the status code (000 on failure)
#             metric NAME [label=value...]  sums matching /stats samples
#             stat_gt / stat_eq NAME N, body_is URL TEXT (for wait_until)
# JSON:       ej JSON PYEXPR (d = doc, h = lowercase header dict of /echo)
#             json_get PYEXPR < JSON
# Misc:       wait_until SECONDS CMD..., rss_start PID FILE / rss_stop /
#             rss_max FILE, free_ports N, want SECTION, section TITLE
# Asserts:    ok NAME / not_ok NAME WHY / skip NAME WHY
#             expect_eq NAME WANT GOT / expect_match NAME REGEX GOT
#             expect_nomatch NAME REGEX GOT / expect_le NAME MAX GOT
#             expect_ge NAME MIN GOT
# The summary line: finish (prints "gateway: N passed, N failed[, N skipped]"
# and exits 1 on any failure).

GW_TESTDIR=tests/gateway
BUILD=${BUILD:-build}
SLUICE=${SLUICE:-$BUILD/sluice}
CURL_MAX=${CURL_MAX:-10}
# The Debian interpreter starts in 25 ms; a pyenv shim takes 150 ms.
if [ -z "${PY:-}" ]; then
    if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
fi
UPSTREAM="$PY $GW_TESTDIR/upstream.py"
RAW="$PY $GW_TESTDIR/rawclient.py"

passed=0 failed=0 skipped=0
PIDS=()
TMP=$(mktemp -d /tmp/sluice-gw.XXXXXX)

ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1 (${2:-})"; failed=$((failed + 1)); }
skip() { echo "skip - $1 (${2:-})"; skipped=$((skipped + 1)); }

trunc() { # shorten a value for a failure message
    local s=${1//$'\r'/\\r}
    s=${s//$'\n'/\\n}
    if [ ${#s} -gt 400 ]; then s="${s:0:400}..."; fi
    printf '%s' "$s"
}
expect_eq() {
    if [ "$3" == "$2" ]; then ok "$1"; else not_ok "$1" "want '$(trunc "$2")', got '$(trunc "$3")'"; fi
}
expect_match() {
    if [[ $3 =~ $2 ]]; then ok "$1"; else not_ok "$1" "want /$2/, got '$(trunc "$3")'"; fi
}
expect_nomatch() {
    if [[ $3 =~ $2 ]]; then not_ok "$1" "unwanted /$2/ in '$(trunc "$3")'"; else ok "$1"; fi
}
expect_le() {
    if [[ $3 =~ ^[0-9]+$ ]] && [ "$3" -le "$2" ]; then ok "$1"; else not_ok "$1" "want <= $2, got '$(trunc "$3")'"; fi
}
expect_ge() {
    if [[ $3 =~ ^[0-9]+$ ]] && [ "$3" -ge "$2" ]; then ok "$1"; else not_ok "$1" "want >= $2, got '$(trunc "$3")'"; fi
}

finish() {
    local line="${SUITE_NAME:-gateway}: $passed passed, $failed failed"
    [ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
    echo "$line"
    [ "$failed" -eq 0 ] && exit 0
    exit 1
}

# Stops one recorded process: TERM, up to 3 s, then KILL.
stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 30); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    wait 2>/dev/null
    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'echo "# interrupted"; exit 130' INT TERM

need_tools() {
    local missing=() t
    for t in curl wrk "$PY"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "gateway suite: missing tools: ${missing[*]} (install them with scripts/deps.sh)"
        not_ok "required tools present" "missing ${missing[*]}"
        finish
    fi
}

# Prints N free TCP ports on 127.0.0.1 (bound together, then released).
free_ports() {
    $PY - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# start_upstream NAME [PORT [ARGS...]]: runs upstream.py on PORT (default 0:
# a free one) with ARGS; sets UP_NAME, UPPID_NAME.
start_upstream() {
    local name=$1 out="$TMP/up-$1.out" i port="" uport=${2:-0}
    shift
    [ $# -gt 0 ] && shift
    : >"$out"
    $UPSTREAM --port "$uport" --name "$name" "$@" >"$out" 2>>"$TMP/up-$name.err" &
    local pid=$!
    PIDS+=("$pid")
    for i in $(seq 100); do
        port=$(awk '/^listening/{print $2}' "$out")
        [ -n "$port" ] && break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        echo "# upstream $name did not start: $(cat "$TMP/up-$name.err")"
        return 1
    fi
    printf -v "UP_$name" '%s' "$port"
    printf -v "UPPID_$name" '%s' "$pid"
}

up_count() { # up_count PORT PYEXPR-on-d  (d = the /count JSON)
    curl -sS --max-time 5 "http://127.0.0.1:$1/count" | $PY -c '
import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$2" 2>/dev/null
}
up_reset() { curl -sS --max-time 5 -o /dev/null "http://127.0.0.1:$1/admin/reset"; }

# start_gateway TAG CONF [VAR=value...]: needs ADMIN (the admin port).
# Waits GW_START_S seconds (default 10) for /ready.
start_gateway() {
    local tag=$1 conf=$2 i code limit=${GW_START_S:-10}
    shift 2
    GW_OUT="$TMP/gw-$tag.out" GW_ERR="$TMP/gw-$tag.err"
    env "$@" "$SLUICE" gateway -c "$conf" >"$GW_OUT" 2>"$GW_ERR" &
    GW_PID=$!
    PIDS+=("$GW_PID")
    for i in $(seq $((limit * 10))); do
        if ! kill -0 "$GW_PID" 2>/dev/null; then
            echo "# gateway $tag exited at start-up: $(tail -c 2000 "$GW_ERR")"
            return 1
        fi
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$ADMIN/ready")
        [ "$code" = 200 ] && return 0
        sleep 0.1
    done
    echo "# gateway $tag not ready after $limit s: $(tail -c 2000 "$GW_ERR")"
    return 1
}

# stop_gateway [SIGNAL]: sends the signal (TERM) and waits up to 15 s; GW_RC.
stop_gateway() {
    local sig=${1:-TERM} i
    GW_RC=""
    kill -"$sig" "$GW_PID" 2>/dev/null
    for i in $(seq 150); do
        if ! kill -0 "$GW_PID" 2>/dev/null; then
            wait "$GW_PID"
            GW_RC=$?
            return 0
        fi
        sleep 0.1
    done
    kill -KILL "$GW_PID" 2>/dev/null
    wait "$GW_PID" 2>/dev/null
    GW_RC=timeout
}

gw_alive() { kill -0 "$GW_PID" 2>/dev/null; }

hc() { curl -sS --max-time "$CURL_MAX" "$@"; }
code() { # code URL [curl args...]
    local url=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time "$CURL_MAX" "$@" "$url"
}

# metric NAME [label=value...]: sum of the samples of NAME whose labels
# include every label=value given (any order); empty when none matched.
metric() {
    local name=$1
    shift
    curl -sS --max-time 5 "http://127.0.0.1:$ADMIN/stats" | $PY -c '
import re, sys
name, want = sys.argv[1], sys.argv[2:]
total, seen = 0.0, False
for line in sys.stdin:
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)", line)
    if not m or m.group(1) != name:
        continue
    labels = dict(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=\"((?:[^\"\\]|\\.)*)\"", m.group(3) or ""))
    if all(labels.get(k) == v for k, v in (w.split("=", 1) for w in want)):
        total += float(m.group(4))
        seen = True
if seen:
    print(int(total) if total == int(total) else total)' "$name" "$@"
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s; status 0 when it held.
wait_until() {
    local limit=$1 i
    shift
    for i in $(seq $((limit * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}

stat_gt() { # stat_gt NAME N: the metric is above N
    local v
    v=$(metric "$1")
    [ -n "$v" ] && [ "${v%.*}" -gt "$2" ]
}
stat_eq() { [ "$(metric "$1")" = "$2" ]; }
body_is() { [ "$(curl -s --max-time 1 "$1")" = "$2" ]; }

# RSS sampling of a pid: rss_start PID FILE; rss_stop; rss_max FILE (kB)
rss_start() {
    (while [ -r "/proc/$1/status" ]; do
        awk '/^VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null
        sleep 0.05
    done) >"$2" &
    RSS_PID=$!
    PIDS+=("$RSS_PID")
}
rss_stop() { kill "$RSS_PID" 2>/dev/null; wait "$RSS_PID" 2>/dev/null; }
rss_max() { sort -n "$1" | tail -1; }

# ej JSON PYEXPR: evaluates PYEXPR on an /echo document: d is the document,
# h maps lowercase header names to their values joined with ", ".
ej() {
    printf '%s' "$1" | $PY -c '
import json, sys
raw = sys.stdin.read()
try:
    d = json.loads(raw)
except Exception as e:
    print("INVALID-JSON (%s): %r" % (e, raw[:160]))
    sys.exit(0)
h = {}
for k, v in d.get("headers", []):
    h[k.lower()] = h[k.lower()] + ", " + v if k.lower() in h else v
try:
    print(eval(sys.argv[1]))
except Exception as e:
    print("EVAL-ERROR: %r" % e)' "$2"
}

json_get() { # json_get PYEXPR-on-d < json
    $PY -c '
import json, sys
raw = sys.stdin.read()
try:
    d = json.loads(raw)
except Exception as e:
    print("INVALID-JSON (%s): %r" % (e, raw[:160]))
    sys.exit(0)
print(eval(sys.argv[1]))' "$1" 2>&1
}

want() { [ -z "${GW_SECTIONS:-}" ] || [[ " $GW_SECTIONS " == *" $1 "* ]]; }
section() { echo "# --- $1 (t=${SECONDS}s)"; }
