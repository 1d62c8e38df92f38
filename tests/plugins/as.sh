# tests/plugins/as.sh — sourced by suite.sh: a plugin built with the public
# AssemblyScript SDK (@solo-io/proxy-runtime from npm), run unchanged.
# ---------------------------------------------------------------------------
# The AssemblyScript plugin: built with the public SDK from npm.
# ---------------------------------------------------------------------------
AS_DIR=tests/plugins/as
AS_WASM=build/wasm/tests/as_compat.wasm
build_as() {
    [ -f "$AS_WASM" ] && [ "$AS_WASM" -nt "$AS_DIR/assembly/index.ts" ] && return 0
    command -v npm >/dev/null || { echo "# npm missing (scripts/deps.sh installs it)"; return 1; }
    if [ ! -d "$AS_DIR/node_modules/@solo-io/proxy-runtime" ]; then
        (cd "$AS_DIR" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$TMP/npm.log" 2>&1 ||
            { echo "# npm ci failed: $(tail -c 1500 "$TMP/npm.log")"; return 1; }
    fi
    mkdir -p "$(dirname "$AS_WASM")"
    (cd "$AS_DIR" && timeout 300 npx asc assembly/index.ts -b "../../../$AS_WASM" \
        --use abort=abort_proc_exit --optimize) >"$TMP/asc.log" 2>&1 ||
        { echo "# asc failed: $(grep -i error "$TMP/asc.log" | head -5)"; return 1; }
}


    section "AssemblyScript SDK (@solo-io/proxy-runtime)"
    if build_as; then
        ok "as: plugin built with asc from npm"
        cat >"$TMP/as.yaml" <<EOF
listeners: [{address: 127.0.0.1:$PORT}]
admin: {address: 127.0.0.1:$ADMIN}
workers: 2
clusters:
  - {name: up, endpoints: [127.0.0.1:$UP_up]}
  - {name: as_callout, endpoints: [127.0.0.1:$UP_callout]}
plugins:
  - name: as
    module: $PWD/$AS_WASM
    root_id: as_compat
    configuration: from-config
routes:
  - name: as-route
    match: {path: {prefix: /as/}}
    plugins: [as]
    proxy: {cluster: up, prefix_rewrite: /echo/}
  - name: as-other
    match: {path: {prefix: /as2/}}
    plugins: [{plugin: as, configuration: per-route}]
    proxy: {cluster: up, prefix_rewrite: /echo/}
  - name: plain
    match: {path: {prefix: /plain/}}
    proxy: {cluster: up, prefix_rewrite: /echo/}
EOF
        if start_gateway as "$TMP/as.yaml"; then
            hdrs=$(hc -D - -o "$TMP/as.body" "http://127.0.0.1:$PORT/as/x")
            expect_match "as: response header from the plugin configuration" $'x-as-hello: from-config\r' "$hdrs"
            body=$(cat "$TMP/as.body")
            expect_eq "as: request header added for the upstream" "yes" \
                "$(ej "$body" 'h.get("x-as-seen","")')"
            hdrs=$(hc -D - -o /dev/null "http://127.0.0.1:$PORT/as2/x")
            expect_match "as: per-route configuration gets its own root context" $'x-as-hello: per-route\r' "$hdrs"
            hdrs=$(hc -D - -o /dev/null "http://127.0.0.1:$PORT/plain/x")
            expect_nomatch "as: routes without the plugin are untouched" 'x-as-hello' "$hdrs"
            out=$(hc -w ' %{http_code}' -H 'x-as-deny: 1' "http://127.0.0.1:$PORT/as/x")
            expect_eq "as: send_local_response -> 418 with the plugin's body" \
                "denied by assemblyscript 418" "$(echo $out)"
            body=$(hc -H 'x-as-callout: 1' "http://127.0.0.1:$PORT/as/x")
            expect_eq "as: paused for an HTTP call, resumed from its response" "200" \
                "$(ej "$body" 'h.get("x-as-callout-status","")')"
            expect_ge "as: the callout reached the cluster" 1 "$(up_count "$UP_callout" 'd["paths"].get("/ok",0)')"
            expect_ge "as: plugin counter exported on /stats" 3 \
                "$(metric sluice_plugin_as_requests)"
            gw_alive && ok "as: gateway alive" || not_ok "as: gateway alive"
            stop_gateway
        else
            not_ok "as: gateway starts with the AssemblyScript plugin" "$(trunc "$(cat "$GW_ERR")")"
        fi
    else
        not_ok "as: plugin built with asc from npm" "see above"
    fi
