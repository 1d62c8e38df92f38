# tests/plugins/aot.sh — sourced by suite.sh: plugins with runtime: aot and
# auto (native code through the AOT tier). key-auth's allow/deny, a trapping
# plugin failing closed with 503 and recovering, a CPU-limit loop stopped in
# native code, and auto's tier-up (the artifact appears in the background,
# a reload then reports native code). Native code is proven by the load log
# ("plugin NAME: runtime aot (native)") and the artifacts in aot_cache.
section "plugins with runtime: aot / auto"
KA=$PWD/build/wasm/plugins/key-auth.wasm RB=$PWD/build/wasm/plugins/request-block.wasm
BASIC=$PWD/build/wasm/tests/proxywasm/basic.wasm
PAOT="$TMP/plugin-aot"
if [ ! -f "$KA" ] || [ ! -f "$RB" ] || [ ! -f "$BASIC" ]; then
    not_ok "aot: plugins built" "missing $KA, $RB or $BASIC (make wasm)"
else
    cat >"$TMP/aot.yaml" <<EOF
listeners: [{address: 127.0.0.1:$PORT}]
admin: {address: 127.0.0.1:$ADMIN}
workers: 2
aot_cache: $PAOT
clusters:
  - {name: up, endpoints: [127.0.0.1:$UP_up]}
plugins:
  - name: keyauth
    module: $KA
    runtime: aot
    configuration: '{"consumers": [{"name": "alice", "credential": "k-alice"}], "keys": ["x-api-key"]}'
  - name: closed
    module: $BASIC
    runtime: aot
    limits: {max_memory: 4MiB, cpu_per_callback: 100ms}
    failure_policy: fail_closed
  - name: block
    module: $RB
    runtime: auto
    configuration: '{"block_urls": ["/admin"]}'
routes:
  - {name: ka, match: {path: {prefix: /ka/}}, plugins: [keyauth], proxy: {cluster: up, prefix_rewrite: /echo/}}
  - {name: closed, match: {path: {prefix: /closed/}}, plugins: [closed], proxy: {cluster: up, prefix_rewrite: /echo/}}
  - {name: blk, match: {path: {prefix: /blk/}}, plugins: [block], proxy: {cluster: up, prefix_rewrite: /echo/}}
EOF
    if GW_START_S=120 start_gateway aot "$TMP/aot.yaml"; then
        expect_match "aot: key-auth runs native code" 'plugin keyauth: runtime aot \(native\)' "$(cat "$GW_ERR")"
        expect_match "aot: the trap plugin runs native code" 'plugin closed: runtime aot \(native\)' "$(cat "$GW_ERR")"
        expect_match "auto: request-block starts on the interpreter" \
            'plugin block: runtime auto \(interpreting' "$(cat "$GW_ERR")"
        expect_ge "aot: artifacts in aot_cache" 2 "$(ls "$PAOT"/*.slaot 2>/dev/null | wc -l)"
        expect_eq "aot: key-auth without a key -> 401" 401 "$(code "http://127.0.0.1:$PORT/ka/x")"
        expect_eq "aot: key-auth with a wrong key -> 401" 401 \
            "$(code "http://127.0.0.1:$PORT/ka/x" -H 'x-api-key: nope')"
        expect_eq "aot: key-auth with alice's key -> 200" 200 \
            "$(code "http://127.0.0.1:$PORT/ka/x" -H 'x-api-key: k-alice')"
        expect_match "aot: the upstream sees x-mse-consumer: alice" '"x-mse-consumer", "alice"|x-mse-consumer.{0,4}alice' \
            "$(hc -H 'x-api-key: k-alice' "http://127.0.0.1:$PORT/ka/x" | tr 'A-Z' 'a-z')"
        expect_eq "aot: the trap plugin serves normally first" 200 "$(code "http://127.0.0.1:$PORT/closed/x")"
        expect_eq "aot: trap in native code, fail-closed -> 503" 503 \
            "$(code "http://127.0.0.1:$PORT/closed/x" -H 'x-test: trap')"
        expect_match "aot: the trap is logged with a backtrace" \
            'plugin closed.*(trap|unreachable).*'$'\n''.*#0 ' "$(cat "$GW_ERR")"
        sleep 1.2 # PW_RECOVER_MIN_MS
        expect_eq "aot: recovered (a new native VM)" "200 200 200 200" \
            "$(for i in 1 2 3 4; do code "http://127.0.0.1:$PORT/closed/x"; echo; done | tr '\n' ' ' | sed 's/ $//')"
        t0=$(date +%s%N)
        c=$(code "http://127.0.0.1:$PORT/closed/x" -H 'x-test: loop')
        ms=$((($(date +%s%N) - t0) / 1000000))
        expect_eq "aot: endless loop in native code -> 503" 503 "$c"
        expect_le "aot: ... stopped by cpu_per_callback (interrupt check in native code), within 2 s" 2000 "$ms"
        expect_eq "auto: request-block denies /admin at once (interpreter)" 403 \
            "$(code "http://127.0.0.1:$PORT/blk/admin")"
        expect_eq "auto: and lets /x through" 200 "$(code "http://127.0.0.1:$PORT/blk/x")"
        artifacts_ge() { [ "$(ls "$PAOT"/*.slaot 2>/dev/null | wc -l)" -ge "$1" ]; }
        if wait_until 60 artifacts_ge 3; then # a one-job compile on a busy machine
            ok "auto: the background compile wrote its artifact"
        else
            not_ok "auto: the background compile wrote its artifact" "$(ls "$PAOT"; tail -c 500 "$GW_ERR")"
        fi
        reload_says_native() {
            curl -sS --max-time 20 -X POST "http://127.0.0.1:$ADMIN/reload" >/dev/null
            grep -q 'plugin block: runtime auto (native)' "$GW_ERR"
        }
        if wait_until 5 reload_says_native; then
            ok "auto: after the compile the module reports native code"
        else
            not_ok "auto: after the compile the module reports native code" "$(tail -c 500 "$GW_ERR")"
        fi
        expect_eq "auto: still denies /admin" 403 "$(code "http://127.0.0.1:$PORT/blk/admin")"
        expect_eq "auto: still lets /x through" 200 "$(code "http://127.0.0.1:$PORT/blk/x")"
        stop_gateway
        expect_eq "aot: clean exit" 0 "$GW_RC"
    else
        not_ok "aot: gateway with runtime: aot plugins starts" "$(tail -c 800 "$GW_ERR")"
    fi
    sed 's/runtime: aot/runtime: jit/' "$TMP/aot.yaml" >"$TMP/aot-jit.yaml"
    "$SLUICE" gateway -c "$TMP/aot-jit.yaml" >/dev/null 2>"$TMP/aot-jit.err"
    expect_match "runtime: jit is refused, naming the key" \
        "plugins\[0\]\.runtime: unknown runtime 'jit' \(expected interp, aot or auto\)" \
        "$(cat "$TMP/aot-jit.err")"
fi
