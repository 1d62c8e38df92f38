# tests/plugins/body.sh — sourced by suite.sh: request bodies through plugin
# body callbacks (proxy routes). The body streams chunk by chunk through the
# chain and goes upstream chunked; a plugin may buffer it (StopIteration-
# AndBuffer) and change it, or answer instead of the upstream. Responses
# go the same way in reverse, re-framed chunked to the client.
section "request bodies through plugins"
RB=$PWD/build/wasm/plugins/request-block.wasm
BASIC=$PWD/build/wasm/tests/proxywasm/basic.wasm
if [ ! -f "$RB" ] || [ ! -f "$BASIC" ]; then
    not_ok "body: plugins built" "$RB or $BASIC missing (make)"
else
    cat >"$TMP/body.yaml" <<EOF
listeners: [{address: 127.0.0.1:$PORT}]
admin: {address: 127.0.0.1:$ADMIN}
workers: 2
limits: {max_body_bytes: 64MiB}
clusters:
  - {name: up, endpoints: [127.0.0.1:$UP_up]}
plugins:
  - name: rb
    module: $RB
    configuration: {block_bodies: ["DROP TABLE"]}
  - name: splice
    module: $BASIC
routes:
  - {name: rb, match: {path: {prefix: /rb/}}, plugins: [rb], proxy: {cluster: up, prefix_rewrite: /}}
  - {name: splice, match: {path: {prefix: /splice/}}, plugins: [splice], proxy: {cluster: up, prefix_rewrite: /}}
EOF
    if start_gateway body "$TMP/body.yaml"; then
        out=$(hc -w ' %{http_code}' -d 'SELECT 1; DROP TABLE users' "http://127.0.0.1:$PORT/rb/echo")
        expect_eq "body: a body rule blocks -> 403 from the plugin" "request blocked 403" "$(echo $out)"
        body=$(hc -d 'an innocent body' "http://127.0.0.1:$PORT/rb/echo")
        expect_eq "body: an allowed body reaches the upstream intact" \
            "16 $(printf 'an innocent body' | sha256sum | cut -c1-64)" \
            "$(ej "$body" 'str(d["body_len"]) + " " + d["body_sha256"]')"
        expect_eq "body: ... framed chunked upstream (plugins may change its length)" "chunked" \
            "$(ej "$body" 'h.get("transfer-encoding","")')"
        body=$(hc -H 'Transfer-Encoding: chunked' -d 'chunked innocent' "http://127.0.0.1:$PORT/rb/echo")
        expect_eq "body: a chunked request body passes" 16 "$(ej "$body" 'd["body_len"]')"
        out=$(hc -w ' %{http_code}' -H 'Transfer-Encoding: chunked' -d 'x; DROP TABLE t' "http://127.0.0.1:$PORT/rb/echo")
        expect_eq "body: a chunked body is inspected too" "request blocked 403" "$(echo $out)"
        head -c 3000000 /dev/urandom >"$TMP/big.bin"
        want=$(sha256sum "$TMP/big.bin" | cut -c1-64)
        got=$(hc --data-binary @"$TMP/big.bin" "http://127.0.0.1:$PORT/rb/sink")
        expect_eq "body: 3 MB stream through a body plugin arrives byte for byte" "3000000 $want" \
            "$(ej "$got" 'str(d["size"]) + " " + d["sha256"]')"
        # basic.c, x-test: body -> buffers to the end, then prepend "PRE-",
        # append "-POST", and replace bytes 4..9 with "[mid]"
        body=$(hc -H 'x-test: body' -d 'hello world' "http://127.0.0.1:$PORT/splice/echo")
        want=$(printf 'PRE-[mid] world-POST' | sha256sum | cut -c1-64)
        expect_eq "body: a plugin's buffered, spliced body is what the upstream gets" "20 $want" \
            "$(ej "$body" 'str(d["body_len"]) + " " + d["body_sha256"]')"
        expect_match "body: ... and the plugin saw the whole body at the end of the stream" \
            'req_body [0-9]+ 11 1' "$(cat "$GW_ERR")"
        # ---- responses through response body callbacks
        hdrs=$(hc -D - -o "$TMP/resp.bin" "http://127.0.0.1:$PORT/rb/bytes/3000000")
        expect_eq "body: a 3 MB response through a body plugin arrives byte for byte" \
            "$($UPSTREAM --sha 3000000)" "$(sha256sum "$TMP/resp.bin" | cut -c1-64)"
        expect_match "body: ... re-framed chunked (plugins may change its length)" \
            $'[Tt]ransfer-[Ee]ncoding: chunked\r' "$hdrs"
        expect_nomatch "body: ... without the upstream's Content-Length" '[Cc]ontent-[Ll]ength' "$hdrs"
        out=$(curl -s -0 --max-time 10 -w ' %{http_code}' "http://127.0.0.1:$PORT/rb/ok")
        expect_eq "body: an HTTP/1.0 client gets the body close-delimited" "ok 200" "$(echo $out)"
        expect_eq "body: HEAD through a body plugin" "200" \
            "$(code "http://127.0.0.1:$PORT/rb/bytes/100" -I)"
        out=$(hc -H 'x-test: resp-body' "http://127.0.0.1:$PORT/splice/ok")
        expect_eq "body: a plugin buffers the response and appends to it" "$(printf 'ok\n-TAIL')" "$out"
        expect_match "body: ... it saw the whole body at the end" 'resp_body [0-9]+ 3 1' "$(cat "$GW_ERR")"
        gw_alive && ok "body: gateway alive" || not_ok "body: gateway alive"
        stop_gateway
    else
        not_ok "body: gateway starts" "$(trunc "$(cat "$GW_ERR")")"
    fi
fi
