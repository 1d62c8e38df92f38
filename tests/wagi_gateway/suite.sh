#!/usr/bin/env bash
# tests/wagi_gateway/suite.sh — WAGI routes end to end: the real `sluice
# gateway` (a YAML route with a `wagi` action) and `sluice wagi -c
# modules.toml`, over 127.0.0.1 with curl and wrk, running the C guest
# modules of tests/wagi/ (built here with Debian's clang for wasm32-wasi).
# Covers: hello, CGI variables (CONTENT_TYPE, PATH_INFO, SCRIPT_NAME,
# QUERY_STRING, HTTP_*), stdin (5 MB body, chunked), state isolation under
# keep-alive and concurrency (a counter module answers 1 every time),
# trap -> 500, endless loop -> 504 within the route timeout and the worker
# keeps serving, redirects, Status codes, modules.toml with "/..." routes and
# the built-in /healthz, a reload that swaps the module; one matcher (most
# specific wins, the loader's warning logged), _routes sub-routes, init
# snapshots (init runs once), http_max_concurrency (503 + Retry-After), the
# compiled-module cache across reloads (/stats counters), the refusal of
# wasi_experimental_http imports; runtime: aot / auto (native code: hello,
# counter isolation, trap, the 504 interrupt, init snapshots, the auto
# tier-up) and runtime in modules.toml.
# Last line: "wagi_gateway: N passed, N failed[, N skipped]".
set -u
cd "$(dirname "$0")/../.."
SUITE_NAME=wagi_gateway
. tests/gateway/lib.sh
need_tools

if [ ! -x "$SLUICE" ]; then
    not_ok "sluice binary present" "$SLUICE missing: run make first"
    finish
fi
MODS="$TMP/mods"
mkdir -p "$MODS"
for m in hello env echo counter loop trap redirect status routes; do
    if ! clang --target=wasm32-wasi --sysroot=/usr -O2 "tests/wagi/$m.c" -o "$MODS/$m.wasm" \
        2>"$TMP/cc-$m.err"; then
        not_ok "build tests/wagi/$m.c for wasm32-wasi" "$(head -c 300 "$TMP/cc-$m.err")"
        finish
    fi
done
for m in init outbound; do
    if ! wat2wasm "tests/wagi/$m.wat" -o "$MODS/$m.wasm" 2>"$TMP/wat-$m.err"; then
        not_ok "build tests/wagi/$m.wat" "$(head -c 300 "$TMP/wat-$m.err")"
        finish
    fi
done

read -r PORT ADMIN PORT2 ADMIN2 <<<"$(free_ports 4)"
CONF="$TMP/gw.yaml"
write_conf() { # write_conf HELLO_MODULE
    cat >"$CONF" <<YAML
listeners: [{address: 127.0.0.1:$PORT}]
admin: {address: 127.0.0.1:$ADMIN}
workers: 2
access_log: true
routes:
  - {name: hello, match: {path: {exact: /hello}}, wagi: {module: $1}}
  - {name: env, match: {path: {prefix: /env/}}, wagi: {module: mods/env.wasm, env: {FROM_CONFIG: yes, REQUEST_METHOD: overridden}}}
  - {name: echo, match: {path: {exact: /echo}}, wagi: {module: mods/echo.wasm, max_body: 8MiB}}
  - {name: counter, match: {path: {exact: /counter}}, wagi: {module: mods/counter.wasm}}
  - {name: loop, match: {path: {exact: /loop}}, wagi: {module: mods/loop.wasm, timeout: 300ms}}
  - {name: trap, match: {path: {exact: /trap}}, wagi: {module: mods/trap.wasm}}
  - {name: redirect, match: {path: {exact: /redirect}}, wagi: {module: mods/redirect.wasm}}
  - {name: status, match: {path: {exact: /status}}, wagi: {module: mods/status.wasm}}
  - {name: direct, match: {path: {exact: /direct}}, direct: {status: 200, body: "hello, world\n"}}
  - {name: init, match: {path: {exact: /init}}, wagi: {module: mods/init.wasm, init: wizer.initialize}}
YAML
}
write_conf mods/hello.wasm
if ! start_gateway wagi "$CONF"; then
    not_ok "gateway with WAGI routes starts" "$(tail -c 500 "$GW_ERR")"
    finish
fi
U="http://127.0.0.1:$PORT"

section "basic"
expect_eq "hello: body" "hello, world" "$(hc "$U/hello")"
resp=$(hc -i "$U/hello" | tr -d '\r')
expect_match "hello: 200 with Content-Type and Content-Length" \
    $'^HTTP/1.1 200[^\n]*\n(.*\n)*[Cc]ontent-[Tt]ype: text/plain\n' "$resp"
expect_match "hello: Content-Length framed by the gateway" $'[Cc]ontent-[Ll]ength: 13\n' "$resp"
expect_eq "HEAD: no body" "" "$(hc -I -s "$U/hello" | tr -d '\r' | sed '1,/^$/d')"

section "CGI variables"
envout=$(hc -X POST -H 'Content-Type: application/x-test' -H 'X-Foo: bar' --data 'abc' \
    "$U/env/a%2Fb/c?x=1&y=2")
expect_match "REQUEST_METHOD=POST (the request wins over the config's env)" $'(^|\n)REQUEST_METHOD=POST(\n|$)' "$envout"
expect_match "CONTENT_TYPE is the real Content-Type" 'CONTENT_TYPE=application/x-test' "$envout"
expect_match "CONTENT_LENGTH=3" 'CONTENT_LENGTH=3' "$envout"
expect_match "QUERY_STRING" 'QUERY_STRING=x=1&y=2' "$envout"
expect_match "SCRIPT_NAME is the route prefix" 'SCRIPT_NAME=/env' "$envout"
expect_match "PATH_INFO is percent-decoded" 'PATH_INFO=/a/b/c' "$envout"
expect_match "X_RAW_PATH_INFO keeps the encoding" 'X_RAW_PATH_INFO=/a%2Fb/c' "$envout"
expect_match "HTTP_X_FOO from the header" 'HTTP_X_FOO=bar' "$envout"
expect_match "SERVER_PORT from Host" "SERVER_PORT=$PORT" "$envout"
expect_match "REMOTE_ADDR is the client" 'REMOTE_ADDR=127.0.0.1' "$envout"
expect_match "GATEWAY_INTERFACE=CGI/1.1" 'GATEWAY_INTERFACE=CGI/1.1' "$envout"
expect_match "config env reaches the module" 'FROM_CONFIG=yes' "$envout"

section "stdin"
printf 'Content-Type: text/plain\n\nsmall body' >"$TMP/small"
expect_eq "echo: body through stdin to stdout" "small body" "$(hc --data-binary @"$TMP/small" "$U/echo")"
{ printf 'Content-Type: application/octet-stream\n\n'; head -c 5000000 /dev/urandom; } >"$TMP/big"
want=$(sed '1,2d' "$TMP/big" | sha256sum | cut -d' ' -f1)
got=$(hc --data-binary @"$TMP/big" "$U/echo" | sha256sum | cut -d' ' -f1)
expect_eq "echo: 5 MB body intact (Content-Length)" "$want" "$got"
got=$(hc -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big" "$U/echo" | sha256sum | cut -d' ' -f1)
expect_eq "echo: 5 MB body intact (chunked)" "$want" "$got"
head -c 9000000 /dev/zero >"$TMP/huge"
expect_eq "body over max_body -> 413" "413" "$(code "$U/echo" --data-binary @"$TMP/huge")"

section "isolation"
out=$(for i in $(seq 20); do echo "url = \"$U/counter\""; done | curl -sS --max-time 10 -K - | tr -d '\n')
expect_eq "counter: a fresh instance per request (20 on one connection)" \
    "11111111111111111111" "$out"
wrk -t2 -c20 -d2s "$U/counter" >"$TMP/wrk-counter.txt" 2>&1
expect_nomatch "counter under wrk -c20: no errors" 'Non-2xx|Socket errors' "$(cat "$TMP/wrk-counter.txt")"
expect_eq "counter after load still 1" "1" "$(hc "$U/counter" | tr -d '\n')"

section "init (snapshot) on a YAML route"
expect_eq "init: the request sees the snapshot (g=7 c=1)" "g=7 c=1" "$(hc "$U/init")"
expect_eq "init: again, not re-run (c stays 1)" "g=7 c=1" "$(hc "$U/init")"
expect_eq "init: its stderr line logged once at load" "1" "$(grep -c 'wagi\[/init\] init ran' "$GW_ERR")"

section "failures"
expect_eq "trap -> 500" "500" "$(code "$U/trap")"
start=$(date +%s%N)
c=$(code "$U/loop")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "endless loop -> 504" "504" "$c"
expect_le "504 arrives within about the 300 ms timeout (ms)" 1500 "$ms"
expect_eq "the worker serves again after the timeout" "hello, world" "$(hc "$U/hello")"
expect_eq "Status: 404 from the module" "404" "$(code "$U/status?404%20Not%20Found")"
resp=$(hc -i "$U/redirect?abs301" | tr -d '\r')
expect_match "Status 301 + Location -> 301 (explicit Status wins)" $'^HTTP/1.1 301' "$resp"
resp=$(hc -i "$U/redirect?abs" | tr -d '\r')
expect_match "Location alone -> 302" $'^HTTP/1.1 302[^\n]*\n(.*\n)*[Ll]ocation: http://example.com/next' "$resp"
expect_eq "gateway alive after the failures" "hello, world" "$(hc "$U/hello")"
grep -q 'wagi route trap' "$GW_ERR" && ok "trap reported in the log" || not_ok "trap reported in the log" "$(tail -c 300 "$GW_ERR")"

section "reload swaps the module"
write_conf mods/env.wasm
curl -sS --max-time 10 -X POST "http://127.0.0.1:$ADMIN/reload" >/dev/null
expect_match "after reload /hello runs the new module" 'GATEWAY_INTERFACE=CGI/1.1' "$(hc "$U/hello")"
cat >"$TMP/bad.yaml" <<YAML
listeners: [{address: 127.0.0.1:$PORT}]
admin: {address: 127.0.0.1:$ADMIN}
routes: [{match: {path: {exact: /x}}, wagi: {module: mods/missing.wasm}}]
YAML
cp "$TMP/bad.yaml" "$CONF"
c=$(curl -s -o "$TMP/reload.txt" -w '%{http_code}' --max-time 10 -X POST "http://127.0.0.1:$ADMIN/reload")
expect_eq "reload with a missing module fails (400)" "400" "$c"
expect_match "the error names the module" 'missing.wasm' "$(cat "$TMP/reload.txt")"
expect_match "the old config keeps serving" 'GATEWAY_INTERFACE' "$(hc "$U/hello")"
stop_gateway
expect_eq "gateway exits 0 after SIGTERM" "0" "$GW_RC"

section "runtime: aot and auto (native code through the AOT tier)"
AOT="$TMP/aot-cache"
cat >"$TMP/aot.yaml" <<YAML
listeners: [{address: 127.0.0.1:$PORT}]
admin: {address: 127.0.0.1:$ADMIN}
workers: 2
aot_cache: $AOT
routes:
  - {name: hello, match: {path: {exact: /hello}}, wagi: {module: mods/hello.wasm, runtime: aot}}
  - {name: counter, match: {path: {exact: /counter}}, wagi: {module: mods/counter.wasm, runtime: aot}}
  - {name: loop, match: {path: {exact: /loop}}, wagi: {module: mods/loop.wasm, timeout: 300ms, runtime: aot}}
  - {name: trap, match: {path: {exact: /trap}}, wagi: {module: mods/trap.wasm, runtime: aot}}
  - {name: init, match: {path: {exact: /init}}, wagi: {module: mods/init.wasm, init: wizer.initialize, runtime: aot}}
  - {name: echo-auto, match: {path: {exact: /echo}}, wagi: {module: mods/echo.wasm, runtime: auto}}
YAML
if GW_START_S=120 start_gateway aot "$TMP/aot.yaml"; then
    expect_match "aot: each aot route logs that it runs native code" \
        'wagi hello: runtime aot \(native\)' "$(cat "$GW_ERR")"
    expect_eq "aot: five aot routes native at load" "5" \
        "$(grep -c 'wagi [a-z]*: runtime aot (native)' "$GW_ERR")"
    expect_eq "aot: artifacts written to aot_cache (hello, counter, loop, trap, init)" "5" \
        "$(ls "$AOT"/*.slaot 2>/dev/null | wc -l)"
    expect_eq "aot: hello answers" "hello, world" "$(hc "$U/hello")"
    out=$(for i in $(seq 20); do echo "url = \"$U/counter\""; done | curl -sS --max-time 10 -K - | tr -d '\n')
    expect_eq "aot: counter sees 1 every time (fresh native instance per request)" \
        "11111111111111111111" "$out"
    expect_eq "aot: init snapshot shared with native code (g=7 c=1)" "g=7 c=1 g=7 c=1" \
        "$(for i in 1 2; do hc "$U/init"; done | tr '\n' ' ' | sed 's/ $//')"
    expect_eq "aot: trap -> 500" "500" "$(code "$U/trap")"
    start=$(date +%s%N)
    c=$(code "$U/loop")
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    expect_eq "aot: endless loop in native code -> 504 (interrupt check)" "504" "$c"
    expect_le "aot: ... within about the 300 ms timeout (ms)" 1500 "$ms"
    expect_eq "aot: the worker serves again" "hello, world" "$(hc "$U/hello")"
    # auto: the cache had no artifact for echo: interpreted at once, compiled behind
    expect_match "auto: echo starts on the interpreter" \
        'wagi echo-auto: runtime auto \(interpreting' "$(cat "$GW_ERR")"
    expect_nomatch "auto: no fallback message (nothing failed)" 'runtime auto: .*interpreting$' \
        "$(cat "$GW_ERR")"
    expect_eq "auto: first request answered at once" "small body" \
        "$(hc --data-binary @"$TMP/small" "$U/echo")"
    artifacts_ge() { [ "$(ls "$AOT"/*.slaot 2>/dev/null | wc -l)" -ge "$1" ]; }
    if wait_until 60 artifacts_ge 6; then # a one-job compile on a busy machine
        ok "auto: the background compile wrote its artifact"
    else
        not_ok "auto: the background compile wrote its artifact" "$(ls "$AOT"; tail -c 500 "$GW_ERR")"
    fi
    expect_eq "auto: requests after the tier-up still answer" "small body small body small body" \
        "$(for i in 1 2 3; do hc --data-binary @"$TMP/small" "$U/echo"; echo; done | tr '\n' ' ' | sed 's/ $//')"
    # the artifact is renamed into place just before it is attached; a
    # reload (the handler is reused from the cache) logs what it runs now
    reload_says_native() {
        curl -sS --max-time 20 -X POST "http://127.0.0.1:$ADMIN/reload" >/dev/null
        grep -q 'wagi echo-auto: runtime auto (native)' "$GW_ERR"
    }
    if wait_until 5 reload_says_native; then
        ok "auto: after a reload the reused handler reports native code"
    else
        not_ok "auto: after a reload the reused handler reports native code" "$(tail -c 500 "$GW_ERR")"
    fi
    expect_eq "auto: native requests answer" "small body" "$(hc --data-binary @"$TMP/small" "$U/echo")"
    stop_gateway
    expect_eq "aot: gateway exits 0" "0" "$GW_RC"
else
    not_ok "gateway with runtime: aot routes starts" "$(tail -c 800 "$GW_ERR")"
fi
sed 's/runtime: aot}}/runtime: jit}}/' "$TMP/aot.yaml" >"$TMP/gw-jit.yaml"
"$SLUICE" gateway -c "$TMP/gw-jit.yaml" >/dev/null 2>"$TMP/jit.err"
expect_match "runtime: jit is refused, naming the key" \
    "routes\[0\]\.wagi\.runtime: unknown runtime 'jit' \(expected interp, aot or auto\)" \
    "$(cat "$TMP/jit.err")"

section "sluice wagi -c modules.toml"
ADMIN_SAVED=$ADMIN
ADMIN=$ADMIN2 # metric() reads this admin port
write_toml() { # write_toml HELLO_MODULE [EXTRA_TOML]
    cat >"$TMP/modules.toml" <<TOML
# a catch-all first: WAGI (first match) would send everything here
[[module]]
route = "/..."
module = "mods/counter.wasm"

[[module]]
route = "/hello"
module = "$1"

[[module]]
route = "/env/..."
module = "mods/env.wasm"
environment = { GREETING = "hi" }

[[module]]
route = "/healthz"
module = "mods/trap.wasm"

[[module]]
route = "/r/..."
module = "mods/routes.wasm"

[[module]]
route = "/init"
module = "mods/init.wasm"
init = "wizer.initialize"
runtime = "aot"

[[module]]
route = "/slow"
module = "mods/loop.wasm"
timeout = "700ms"
http_max_concurrency = 1
${2:-}
TOML
}
write_toml mods/hello.wasm
SLUICE_AOT_CACHE="$TMP/aot-toml" "$SLUICE" wagi -c "$TMP/modules.toml" --listen "127.0.0.1:$PORT2" --admin "127.0.0.1:$ADMIN2" \
    --workers 4 >"$TMP/wagi.out" 2>"$TMP/wagi.err" &
WPID=$!
PIDS+=("$WPID")
wait_until 10 body_is "http://127.0.0.1:$PORT2/hello" "hello, world"
W="http://127.0.0.1:$PORT2"
expect_eq "modules.toml: exact route" "hello, world" "$(hc "$W/hello")"
envout=$(hc "$W/env")
expect_match "modules.toml: /env/... matches /env itself" 'SCRIPT_NAME=/env' "$envout"
envout=$(hc "$W/env/deep/er?q=1")
expect_match "modules.toml: /env/... matches below it (PATH_INFO)" 'PATH_INFO=/deep/er' "$envout"
expect_match "modules.toml: environment table" 'GREETING=hi' "$envout"
expect_match "modules.toml: X_MATCHED_ROUTE is the configured route" 'X_MATCHED_ROUTE=/env/...' "$envout"
expect_eq "modules.toml: /envx falls to the catch-all (not under /env/...)" "1" "$(hc "$W/envx" | tr -d '\n')"
expect_eq "modules.toml: built-in /healthz wins over a module route" "OK" "$(hc "$W/healthz")"

section "precedence: one matcher, most specific wins"
expect_eq "an exact route beats an earlier /... (WAGI would pick /...)" "hello, world" "$(hc "$W/hello")"
expect_eq "/hello/ is not /hello: the catch-all" "1" "$(hc "$W/hello/" | tr -d '\n')"
expect_match "the loader's warning is logged (WAGI would never reach /hello)" \
    'modules.toml:[0-9]+:[0-9]+: module\[1\]\.route: "/hello" comes after "/\.\.\." \(module\[0\]\), which covers it' \
    "$(cat "$TMP/wagi.err")"

section "_routes sub-routes"
out=$(hc "$W/r/hello")
expect_eq "/r/hello runs the export 'hello' (a sub-route)" \
    "hello SCRIPT_NAME=/r/hello PATH_INFO= X_MATCHED_ROUTE=/r/hello" "$out"
out=$(hc "$W/r/goodbye/a/b")
expect_eq "/r/goodbye/... sub-route: SCRIPT_NAME and PATH_INFO" \
    "goodbye SCRIPT_NAME=/r/goodbye PATH_INFO=/a/b X_MATCHED_ROUTE=/r/goodbye/..." "$out"
out=$(hc "$W/r/other")
expect_eq "other paths under /r/... run _start" \
    "main SCRIPT_NAME=/r PATH_INFO=/other X_MATCHED_ROUTE=/r/..." "$out"

section "init (Wizer-style snapshot)"
expect_eq "init: every request starts from the snapshot" "g=7 c=1 g=7 c=1 g=7 c=1" \
    "$(for i in 1 2 3; do hc "$W/init"; done | tr '\n' ' ' | sed 's/ $//')"
expect_eq "init ran once (one stderr line)" "1" "$(grep -c 'wagi\[/init\] init ran' "$TMP/wagi.err")"
expect_match "modules.toml runtime = \"aot\": /init runs native code" \
    'wagi /init: runtime aot \(native\)' "$(cat "$TMP/wagi.err")"
expect_eq "... its artifact in \$SLUICE_AOT_CACHE" "1" "$(ls "$TMP/aot-toml"/*.slaot 2>/dev/null | wc -l)"

section "http_max_concurrency"
for i in $(seq 8); do
    curl -s -o /dev/null -D "$TMP/slow-$i.h" --max-time 10 "$W/slow" &
done
wait_for_curls() { local j; for j in $(jobs -p); do [ "$j" = "$WPID" ] || wait "$j"; done; }
wait_for_curls
n503=$(grep -l '^HTTP/1.1 503' "$TMP"/slow-*.h | wc -l)
n504=$(grep -l '^HTTP/1.1 504' "$TMP"/slow-*.h | wc -l)
expect_ge "8 concurrent requests, limit 1 over 4 workers: some get 503" 1 "$n503"
expect_ge "... and some run (504 from the 700 ms timeout)" 1 "$n504"
expect_eq "every answer is 503 or 504" "8" "$((n503 + n504))"
f503=$(grep -l '^HTTP/1.1 503' "$TMP"/slow-*.h | head -1)
expect_match "503 carries Retry-After: 1" $'[Rr]etry-[Aa]fter: 1\r' "$(cat "${f503:-/dev/null}")"
expect_eq "sequentially the limit never refuses" "504" "$(code "$W/slow")"

section "compiled modules cached across reloads"
expect_eq "7 modules compiled at start" "7" "$(metric sluice_wagi_module_compiles_total)"
expect_eq "no cache hits yet" "0" "$(metric sluice_wagi_module_cache_hits_total)"
c=$(curl -s -o "$TMP/r1.txt" -w '%{http_code}' --max-time 20 -X POST "http://127.0.0.1:$ADMIN2/reload")
expect_eq "reload with nothing changed: 200" "200" "$c"
expect_eq "unchanged modules are not recompiled" "7" "$(metric sluice_wagi_module_compiles_total)"
expect_eq "... but reused (7 hits)" "7" "$(metric sluice_wagi_module_cache_hits_total)"
expect_eq "init not re-run for a reused module" "1" "$(grep -c 'wagi\[/init\] init ran' "$TMP/wagi.err")"
expect_eq "after the reload /hello still answers" "hello, world" "$(hc "$W/hello")"
expect_eq "after the reload sub-routes still answer" \
    "hello SCRIPT_NAME=/r/hello PATH_INFO= X_MATCHED_ROUTE=/r/hello" "$(hc "$W/r/hello")"
cp "$MODS/env.wasm" "$MODS/hello2.wasm"
write_toml mods/hello2.wasm
curl -s -o /dev/null --max-time 20 -X POST "http://127.0.0.1:$ADMIN2/reload"
expect_eq "a changed module (new file) is compiled: 8" "8" "$(metric sluice_wagi_module_compiles_total)"
expect_match "... and serves" 'GATEWAY_INTERFACE=CGI/1.1' "$(hc "$W/hello")"
cp "$MODS/hello.wasm" "$MODS/hello2.wasm" # same path, other bytes
curl -s -o /dev/null --max-time 20 -X POST "http://127.0.0.1:$ADMIN2/reload"
expect_eq "same path, changed bytes: recompiled (9)" "9" "$(metric sluice_wagi_module_compiles_total)"
expect_eq "... and the new bytes serve" "hello, world" "$(hc "$W/hello")"
write_toml mods/hello2.wasm $'[[module]]\nroute = "/out"\nmodule = "mods/outbound.wasm"\nallowed_hosts = ["https://example.com"]'
c=$(curl -s -o "$TMP/r2.txt" -w '%{http_code}' --max-time 20 -X POST "http://127.0.0.1:$ADMIN2/reload")
expect_eq "a module importing wasi_experimental_http: reload refused (400)" "400" "$c"
expect_match "... saying outbound HTTP is not implemented" 'wasi_experimental_http.*not implemented' "$(cat "$TMP/r2.txt")"
expect_match "allowed_hosts warns it is not acted on" 'allowed_hosts: stored, but outbound HTTP' "$(cat "$TMP/wagi.err")"
expect_eq "the previous table keeps serving" "hello, world" "$(hc "$W/hello")"
expect_eq "the failed attempt counts its one compile (outbound.wasm): 10" "10" \
    "$(metric sluice_wagi_module_compiles_total)"
write_toml mods/hello2.wasm
curl -s -o /dev/null --max-time 20 -X POST "http://127.0.0.1:$ADMIN2/reload"
expect_eq "after the failed reload, the cache still has every module (no compile)" "10" \
    "$(metric sluice_wagi_module_compiles_total)"
ADMIN=$ADMIN_SAVED
kill -TERM "$WPID"
wait "$WPID"
expect_eq "sluice wagi exits 0 on SIGTERM" "0" "$?"

if grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$TMP"/gw-*.err "$TMP/wagi.err" 2>/dev/null; then
    not_ok "no sanitizer reports" "$(grep -hE 'ERROR|runtime error' "$TMP"/*.err | head -3)"
else
    ok "no sanitizer reports"
fi
finish
