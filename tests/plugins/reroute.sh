# tests/plugins/reroute.sh — sourced by suite.sh: a plugin that changes
# :path moves the request to another route; that route's plugins run too
# (those not run yet), so a rewrite can never skip the target route's auth.
section "re-routing by a plugin runs the new route's plugins"
PR=$PWD/build/wasm/plugins/path-rewrite.wasm
KA=$PWD/build/wasm/plugins/key-auth.wasm
if [ ! -f "$PR" ] || [ ! -f "$KA" ]; then
    not_ok "reroute: plugins built" "missing (make)"
else
    cat >"$TMP/reroute.yaml" <<EOF
listeners: [{address: 127.0.0.1:$PORT}]
admin: {address: 127.0.0.1:$ADMIN}
workers: 2
clusters:
  - {name: up, endpoints: [127.0.0.1:$UP_up]}
plugins:
  - name: rw
    module: $PR
    configuration: {rules: [{match: "^/old/(.*)", replace: "/secure/\\\\1"}, {match: "^/loop/(.*)", replace: "/loop2/\\\\1"}]}
  - name: ka
    module: $KA
    configuration: {consumers: [{name: alice, credential: k-alice}]}
routes:
  - {name: old, match: {path: {prefix: /old/}}, plugins: [rw], proxy: {cluster: up}}
  - {name: secure, match: {path: {prefix: /secure/}}, plugins: [ka], proxy: {cluster: up, prefix_rewrite: /echo/}}
  - {name: loop, match: {path: {prefix: /loop/}}, plugins: [rw], proxy: {cluster: up}}
  - {name: loop2, match: {path: {prefix: /loop2/}}, plugins: [{plugin: rw, configuration: {rules: [{match: "^/loop2/(.*)", replace: "/secure/\\\\1"}]}}], proxy: {cluster: up}}
EOF
    if start_gateway reroute "$TMP/reroute.yaml"; then
        expect_eq "reroute: the secure route needs a key" 401 "$(code "http://127.0.0.1:$PORT/secure/x")"
        expect_eq "reroute: rewritten into the secure route without a key -> 401 (its key-auth ran)" 401 \
            "$(code "http://127.0.0.1:$PORT/old/x")"
        body=$(hc -H 'x-api-key: k-alice' "http://127.0.0.1:$PORT/old/x")
        expect_eq "reroute: ... with the key -> the secure route's upstream, consumer set" \
            "/echo/x alice" "$(ej "$body" 'd["target"] + " " + h.get("x-mse-consumer","")')"
        expect_eq "reroute: moved twice by plugins -> 500, not an unchecked route" 500 \
            "$(code "http://127.0.0.1:$PORT/loop/x")"
        stop_gateway
    else
        not_ok "reroute: gateway starts" "$(trunc "$(cat "$GW_ERR")")"
    fi
fi
