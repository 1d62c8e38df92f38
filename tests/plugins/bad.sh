# tests/plugins/bad.sh — sourced by suite.sh: deliberately bad plugins never
# take the gateway down. The guest is tests/proxywasm/guests/basic.c (raw
# ABI); the request header x-test picks what it does: trap, loop (forever),
# grow (memory without end), resp-trap (trap in response headers),
# enqueue (shared queue). Checked: the failure policy answers the request,
# the trap is logged with the plugin name and a backtrace, the VM is
# re-created and later requests are fine, other routes and plugins are not
# affected, /stats counts it all; a shared queue delivers across workers.
section "bad plugins: failure policy, self-healing, isolation"
BASIC=$PWD/build/wasm/tests/proxywasm/basic.wasm
if [ ! -f "$BASIC" ]; then
    not_ok "bad: test guest built" "$BASIC missing (make wasm)"
else
    cat >"$TMP/bad.yaml" <<EOF
listeners: [{address: 127.0.0.1:$PORT}]
admin: {address: 127.0.0.1:$ADMIN}
workers: 2
clusters:
  - {name: up, endpoints: [127.0.0.1:$UP_up]}
plugins:
  - name: closed
    module: $BASIC
    limits: {max_memory: 4MiB, cpu_per_callback: 100ms}
    failure_policy: fail_closed
  - name: open
    module: $BASIC
    limits: {max_memory: 4MiB, cpu_per_callback: 100ms}
    failure_policy: fail_open
  - name: queue
    module: $BASIC
    vm_id: qvm
    configuration: queue-owner
routes:
  - {name: closed, match: {path: {prefix: /closed/}}, plugins: [closed], proxy: {cluster: up, prefix_rewrite: /echo/}}
  - {name: open, match: {path: {prefix: /open/}}, plugins: [open], proxy: {cluster: up, prefix_rewrite: /echo/}}
  - {name: queue, match: {path: {prefix: /q/}}, plugins: [queue], proxy: {cluster: up, prefix_rewrite: /echo/}}
  - {name: plain, match: {path: {prefix: /plain/}}, proxy: {cluster: up, prefix_rewrite: /echo/}}
EOF
    # n requests on fresh connections (so both workers serve some): codes
    codes() {
        local url=$1 n=$2 i out=""
        shift 2
        for i in $(seq "$n"); do out+="$(code "$url" "$@") "; done
        echo "${out% }"
    }
    all_200() { [[ $(codes "$@") =~ ^(200 ?)+$ ]]; }

    if start_gateway bad "$TMP/bad.yaml"; then
        expect_eq "bad: the plugin serves normally first" "200 200 200 200" \
            "$(codes "http://127.0.0.1:$PORT/closed/x" 4)"

        # ---- trap
        expect_eq "bad: trap in request headers, fail-closed -> 503" 503 \
            "$(code "http://127.0.0.1:$PORT/closed/x" -H 'x-test: trap')"
        expect_match "bad: the trap is logged with the plugin's name and a backtrace" \
            'plugin closed.*(trap|unreachable).*'$'\n''.*#0 ' "$(cat "$GW_ERR")"
        expect_eq "bad: other routes are unaffected meanwhile" "200 200 200 200" \
            "$(codes "http://127.0.0.1:$PORT/plain/x" 4)"
        expect_eq "bad: another plugin of the same module is unaffected" "200 200 200 200" \
            "$(codes "http://127.0.0.1:$PORT/open/x" 4)"
        sleep 1.2 # PW_RECOVER_MIN_MS: a crash loop cannot spin
        expect_eq "bad: after the backoff the VM is re-created and requests pass" \
            "200 200 200 200 200 200" "$(codes "http://127.0.0.1:$PORT/closed/x" 6)"
        expect_ge "bad: /stats counts the trap" 1 "$(metric sluice_wasm_traps_total plugin=closed)"
        expect_ge "bad: /stats counts the recovery" 1 "$(metric sluice_wasm_recoveries_total plugin=closed)"

        # ---- infinite loop: the CPU limit interrupts it
        t0=$(date +%s%N)
        c=$(code "http://127.0.0.1:$PORT/closed/x" -H 'x-test: loop')
        ms=$((($(date +%s%N) - t0) / 1000000))
        expect_eq "bad: infinite loop -> 503" 503 "$c"
        expect_le "bad: ... stopped by cpu_per_callback (100 ms), answered within 2 s" 2000 "$ms"
        expect_ge "bad: /stats counts the CPU-limit hit" 1 "$(metric sluice_wasm_cpu_limit_total plugin=closed)"
        expect_eq "bad: the gateway keeps serving during and after the loop" "200 200 200 200" \
            "$(codes "http://127.0.0.1:$PORT/plain/x" 4)"

        # ---- memory without end: the memory limit
        sleep 1.2
        expect_eq "bad: memory grown past max_memory -> 503" 503 \
            "$(code "http://127.0.0.1:$PORT/closed/x" -H 'x-test: grow')"
        sleep 1.2
        expect_eq "bad: recovered after the memory failure" "200 200 200 200" \
            "$(codes "http://127.0.0.1:$PORT/closed/x" 4)"

        # ---- trap in the response phase
        expect_eq "bad: trap in response headers, fail-closed -> 503" 503 \
            "$(code "http://127.0.0.1:$PORT/closed/x" -H 'x-test: resp-trap')"

        # ---- fail-open: the request goes on without the plugin
        out=$(hc -w ' %{http_code}' -H 'x-test: trap' "http://127.0.0.1:$PORT/open/x")
        expect_match "bad: trap with fail-open -> the upstream answers" ' 200$' "$out"
        expect_eq "bad: fail-open passes the request through unchanged" "trap" \
            "$(ej "${out% *}" 'h.get("x-test","")')"
        expect_eq "bad: fail-open route keeps serving (plugin skipped while in backoff)" \
            "200 200 200 200" "$(codes "http://127.0.0.1:$PORT/open/x" 4)"

        # ---- a shared queue across the two workers
        expect_eq "bad: enqueue requests pass" "200 200 200 200 200 200 200 200" \
            "$(codes "http://127.0.0.1:$PORT/q/x" 8 -H 'x-test: enqueue')"
        wait_until 3 grep -q 'queue_ready .* 0 hello' "$GW_ERR"
        expect_match "bad: on_queue_ready delivered on the queue's owner, item dequeued" \
            'queue_ready [0-9]+ [0-9]+ 0 hello' "$(cat "$GW_ERR")"
        n_enq=$(grep -c 'enqueue 0 0 1' "$GW_ERR")
        expect_eq "bad: every enqueue succeeded (and an unknown queue id is NOT_FOUND)" 8 "$n_enq"

        gw_alive && ok "bad: gateway alive after every failure" || not_ok "bad: gateway alive"
        stop_gateway
        expect_eq "bad: clean exit" 0 "$GW_RC"
    else
        not_ok "bad: gateway starts" "$(trunc "$(cat "$GW_ERR")")"
    fi
fi
