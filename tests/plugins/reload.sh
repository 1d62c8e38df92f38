# tests/plugins/reload.sh — sourced by suite.sh: hot reload of plugins.
# A change to one plugin's configuration (in the config file) or to its
# .wasm file (the config file untouched) reloads that plugin alone: its
# VMs are re-created, the other plugin keeps its VMs, and traffic running
# meanwhile sees no error. A configuration the plugin refuses (its
# on_configure returns false in the canary) is rejected and the running
# generation stays.
section "plugin hot reload"
ADD=$PWD/build/wasm/plugins/add-header.wasm
BASIC=$PWD/build/wasm/tests/proxywasm/basic.wasm
if [ ! -f "$ADD" ] || [ ! -f "$BASIC" ]; then
    not_ok "reload: plugins built" "$ADD or $BASIC missing (make)"
else
    cp "$ADD" "$TMP/pa.wasm"
    cp "$ADD" "$TMP/pb.wasm"
    reload_conf() { # reload_conf A-VALUE [A-CONFIG-OVERRIDE]
        cat >"$TMP/reload.yaml.new" <<EOF
listeners: [{address: 127.0.0.1:$PORT}]
admin: {address: 127.0.0.1:$ADMIN}
workers: 2
clusters:
  - {name: up, endpoints: [127.0.0.1:$UP_up]}
plugins:
  - name: pa
    module: $TMP/pa.wasm
    configuration: ${2:-{response_set: {x-pa: "$1"}}}
  - name: pb
    module: $TMP/pb.wasm
    configuration: {response_set: {x-pb: "b"}}
routes:
  - {name: a, match: {path: {prefix: /a/}}, plugins: [pa], proxy: {cluster: up, prefix_rewrite: /echo/}}
  - {name: b, match: {path: {prefix: /b/}}, plugins: [pb], proxy: {cluster: up, prefix_rewrite: /echo/}}
EOF
        mv "$TMP/reload.yaml.new" "$TMP/reload.yaml"
    }
    hdr() { hc -D - -o /dev/null "$1" | tr -d '\r' | awk -v h="$2" 'tolower($1) == tolower(h) ":" {print $2}'; }
    reload_conf one
    if start_gateway reload "$TMP/reload.yaml"; then
        expect_eq "reload: plugin a configured" "one" "$(hdr "http://127.0.0.1:$PORT/a/x" x-pa)"
        expect_eq "reload: plugin b configured" "b" "$(hdr "http://127.0.0.1:$PORT/b/x" x-pb)"
        # every worker has built both VMs by now (or builds them lazily on
        # first use): warm both workers on both routes
        for i in $(seq 6); do code "http://127.0.0.1:$PORT/a/x" >/dev/null; code "http://127.0.0.1:$PORT/b/x" >/dev/null; done
        a0=$(metric sluice_wasm_vm_created_total plugin=pa)
        b0=$(metric sluice_wasm_vm_created_total plugin=pb)
        gen0=$(metric sluice_config_generation)

        wrk -t2 -c10 -d6s "http://127.0.0.1:$PORT/b/x" >"$TMP/wrk-reload.txt" 2>&1 &
        WRK_PID=$!
        sleep 1
        # 1. configuration change of plugin a only (the file watcher)
        reload_conf two
        for i in $(seq 40); do [ "$(hdr "http://127.0.0.1:$PORT/a/x" x-pa)" = two ] && break; sleep 0.1; done
        expect_eq "reload: a's new configuration applies (config file watched)" "two" \
            "$(hdr "http://127.0.0.1:$PORT/a/x" x-pa)"
        # 2. a's .wasm replaced (config file untouched): basic.wasm adds no header
        cp "$BASIC" "$TMP/pa.wasm.new" && mv "$TMP/pa.wasm.new" "$TMP/pa.wasm"
        for i in $(seq 40); do [ -z "$(hdr "http://127.0.0.1:$PORT/a/x" x-pa)" ] && break; sleep 0.1; done
        expect_eq "reload: a's new module applies (module file watched)" "" \
            "$(hdr "http://127.0.0.1:$PORT/a/x" x-pa)"
        # 3. a configuration plugin a refuses: rejected, the generation stays
        cp "$ADD" "$TMP/pa.wasm.new" && mv "$TMP/pa.wasm.new" "$TMP/pa.wasm"
        for i in $(seq 40); do [ "$(hdr "http://127.0.0.1:$PORT/a/x" x-pa)" = two ] && break; sleep 0.1; done
        expect_eq "reload: back to add-header" "two" "$(hdr "http://127.0.0.1:$PORT/a/x" x-pa)"
        gen1=$(metric sluice_config_generation)
        reload_conf x '{request_add: [1]}'
        sleep 1.5
        expect_eq "reload: a refused configuration keeps the running generation" "$gen1" \
            "$(metric sluice_config_generation)"
        expect_match "reload: ... and says why" 'plugin pa' "$(cat "$GW_ERR")"
        expect_eq "reload: plugin a still serves its last good configuration" "two" \
            "$(hdr "http://127.0.0.1:$PORT/a/x" x-pa)"
        wait "$WRK_PID"
        expect_eq "reload: b kept its VMs through every reload" "$b0" \
            "$(metric sluice_wasm_vm_created_total plugin=pb)"
        expect_ge "reload: a's VMs were re-created" $((${a0%.*} + 2)) \
            "$(metric sluice_wasm_vm_created_total plugin=pa | cut -d. -f1)"
        expect_ge "reload: three generations applied" $((${gen0%.*} + 3)) \
            "$(metric sluice_config_generation | cut -d. -f1)"
        reqs=$(awk '/requests in/{print $1}' "$TMP/wrk-reload.txt")
        expect_ge "reload: traffic ran on b meanwhile" 100 "${reqs:-0}"
        expect_nomatch "reload: no socket errors on b during the reloads" 'Socket errors' "$(cat "$TMP/wrk-reload.txt")"
        expect_nomatch "reload: no non-2xx on b during the reloads" 'Non-2xx' "$(cat "$TMP/wrk-reload.txt")"
        stop_gateway
    else
        not_ok "reload: gateway starts" "$(trunc "$(cat "$GW_ERR")")"
    fi
fi
