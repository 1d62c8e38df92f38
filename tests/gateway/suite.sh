#!/usr/bin/env bash
# tests/gateway/suite.sh — end-to-end tests of `sluice gateway` over real
# sockets on 127.0.0.1: real curl, wrk and python clients against the real
# binary, with our own upstream (upstream.py) behind it and raw-byte tests
# through rawclient.py.
#
# Six gateways run one after the other, each with its own config (the
# section names select them: GW_SECTIONS="main faults" runs only those):
#   main     routing table, forwarding headers, keep-alive (client and upstream
#            side), pipelining, chunked both ways, close-delimited upstream,
#            HEAD, 100-continue, 100 MB bodies with bounded RSS, slow client,
#            slow upstream, the malformed/smuggling table, admin endpoints and
#            metrics, access log; ends with the SIGTERM drain
#   limits   $PORT, 431 / 413 / 414, header / keepalive / drain timeouts,
#            max_connections
#   faults   502, 504 (response and connect timeouts), retries (connect
#            failure, 5xx), broken upstream responses, stale pooled
#            connections, active health checks, passive ejection, 503 with no
#            healthy endpoint, lb random
#   reload   20 reloads (SIGHUP, POST /reload, file rewrites) under wrk,
#            in-flight and idle connections across reloads, bad configs,
#            moving endpoints and listeners
#   cm       a Kubernetes-ConfigMap-style symlink swap, ${VAR} expansion,
#            SIGINT exit
#   tls      a TLS listener next to a plain one
# Before them: start-up config errors; after them: sanitizer reports in the
# gateways' stderr. Runs in about 75 s. KEEP_TMP=1 keeps the logs, configs
# and access logs in /tmp/sluice-gw.*; RSS_LIMIT_KB (40960) is the memory
# bound. Needs curl, wrk, python3 (scripts/deps.sh); openssl for the TLS part.
set -u
cd "$(dirname "$0")/../.."
. tests/gateway/lib.sh

need_tools
if [ ! -x "$SLUICE" ]; then
    not_ok "sluice binary present" "$SLUICE missing: run make first"
    finish
fi
if "$SLUICE" gateway --help 2>&1 | grep -q "unknown command"; then
    not_ok "sluice has a gateway command" "$SLUICE gateway: unknown command"
    finish
fi

MiB=1048576
BIG=$((100 * MiB))
RSS_LIMIT_KB=${RSS_LIMIT_KB:-40960}
rss_check() { # ASan's shadow memory and quarantine make RSS meaningless
    if [[ ${SAN:-} == *address* ]]; then skip "$1" "ASan build"; else expect_le "$1" "$RSS_LIMIT_KB" "$2"; fi
}

read -r P1 P2 P2ENV P3 P4 P4B P5 P6 P6B ADMIN1 ADMIN2 ADMIN3 ADMIN4 ADMIN5 ADMIN6 DEAD1 DEAD2 DEAD3 <<<"$(free_ports 18)"

for u in A B C D E F; do
    start_upstream "$u" || { not_ok "upstream $u starts" "see $TMP/up-$u.err"; finish; }
done
echo "# upstreams: A=$UP_A B=$UP_B C=$UP_C D=$UP_D E=$UP_E F=$UP_F; tmp=$TMP"

U1="http://127.0.0.1:$P1"
$UPSTREAM --gen 300000 >"$TMP/300k"
sha300k=$(sha256sum <"$TMP/300k" | cut -d' ' -f1)
$UPSTREAM --gen 1000000 >"$TMP/1m"

# ===================================================================================
# start-up config errors (docs/config.md: exit 1, FILE:LINE:COLUMN: path: problem)
# ===================================================================================
section "config errors at start-up"
bad_start() { # bad_start NAME [VAR=value...] < yaml: runs the gateway, sets rc and err
    local f="$TMP/$1.yaml"
    shift
    cat >"$f"
    env "$@" timeout 10 "$SLUICE" gateway -c "$f" >/dev/null 2>"$TMP/bad.err"
    rc=$?
    err=$(cat "$TMP/bad.err")
}
bad_start bad-cluster <<EOF
listeners: [{address: 127.0.0.1:$P1}]
admin: {address: 127.0.0.1:$ADMIN1}
clusters: [{name: api, endpoints: [127.0.0.1:$UP_A]}]
routes:
  - match: {path: {prefix: /}}
    proxy: {cluster: apii}
EOF
expect_eq "start-up: unknown cluster -> exit 1" "1" "$rc"
expect_match "start-up: the error is FILE:LINE:COL: routes[0].proxy.cluster: ..." 'bad-cluster\.yaml:6:[0-9]+: routes\[0\]\.proxy\.cluster: .*apii' "$err"
bad_start bad-key <<EOF
listeners: [{address: 127.0.0.1:$P1}]
admin: {address: 127.0.0.1:$ADMIN1}
clusters: [{name: api, endpoints: [127.0.0.1:$UP_A], retries: {tries: 2}}]
EOF
expect_match "start-up: a typo'd key is an error naming it" '^1 .*bad-key\.yaml:3:[0-9]+: clusters\[0\]\.retries\.tries: unknown key' "$rc $err"
bad_start bad-yaml <<EOF
listeners: [{address: 127.0.0.1:$P1}
admin: {address: 127.0.0.1:$ADMIN1}
EOF
expect_match "start-up: broken YAML -> exit 1 with a yaml: error" '^1 .*bad-yaml\.yaml:[0-9]+:[0-9]+: .*yaml' "$rc $err"
bad_start bad-port PORT=99999 <<EOF
listeners: [{address: 127.0.0.1:$P1}]
admin: {address: 127.0.0.1:$ADMIN1}
EOF
expect_match "start-up: PORT=99999 -> exit 1 naming PORT" '^1 .*PORT' "$rc $err"

# ===================================================================================
# main gateway
# ===================================================================================
proxy_routes() { # proxy_routes CLUSTER PREFIX...: one prefix route per prefix
    local cluster=$1 p
    shift
    for p in "$@"; do
        local n=${p//\//-}
        n=${n#-}
        n=${n%-}
        cat <<EOF
  - name: up-$n
    match: {path: {prefix: "$p"}}
    proxy: {cluster: $cluster}
EOF
    done
}

cat >"$TMP/main.yaml" <<EOF
# main gateway of the e2e suite
listeners:
  - address: 127.0.0.1:$P1
admin:
  address: 127.0.0.1:$ADMIN1
workers: 2
access_log: true
timeouts: {header: 5s, keepalive: 30s, drain: 5s}
clusters:
  - name: main
    endpoints: [127.0.0.1:$UP_A]
    lb: round_robin
    connect_timeout: 1s
    request_timeout: 10s
routes:
  - name: host-exact
    match: {host: [exact.test]}
    direct: {status: 200, body: "host-exact"}
  - name: host-wild
    match: {host: ["*.wild.test"]}
    direct: {status: 200, body: "host-wild"}
  - name: path-exact
    match: {path: {exact: /exact}}
    direct: {status: 200, body: "path-exact"}
  - name: path-regex
    match: {path: {regex: "/re/[0-9]+"}}
    direct: {status: 200, body: "path-regex"}
  - name: method-write
    match: {path: {prefix: /meth}, methods: [PUT, DELETE]}
    direct: {status: 200, body: "method-write"}
  - name: method-any
    match: {path: {prefix: /meth}}
    direct: {status: 200, body: "method-any"}
  - name: header-canary
    match: {path: {prefix: /hdr}, headers: [{name: X-Canary, value: "1"}]}
    direct: {status: 200, body: "header-canary"}
  - name: header-present
    match: {path: {prefix: /hdr}, headers: [{name: X-Present}]}
    direct: {status: 200, body: "header-present"}
  - name: header-none
    match: {path: {prefix: /hdr}}
    direct: {status: 200, body: "header-none"}
  - name: order-first
    match: {path: {prefix: /order}}
    direct: {status: 200, body: "order-first"}
  - name: order-second
    match: {path: {prefix: /order/deeper}}
    direct: {status: 200, body: "order-second"}
  - name: direct
    match: {path: {exact: /direct}}
    direct:
      status: 203
      body: "direct body"
      headers: {X-Direct: "yes", Content-Type: text/plain}
  - name: weird
    match: {path: {exact: /weird}}
    direct: {status: 200, body: "q\"b\\\\s\nn\tt\u00e9\x01z"}
  - name: redirect-full
    match: {path: {exact: /old}}
    redirect: {status: 308, scheme: https, host: new.test, path: /new}
  - name: redirect-host
    match: {path: {exact: /old2}}
    redirect: {host: other.test}
  - name: rewrite
    match: {path: {prefix: /api/}}
    proxy: {cluster: main, prefix_rewrite: /echo/, host_rewrite: backend.internal}
  - name: strip
    match: {path: {prefix: /strip}}
    proxy: {cluster: main, prefix_rewrite: /}
$(proxy_routes main /echo /bytes/ /sink /slowsink /status/ /slow/ /close/ /drip/ /hop /ok /t/ /smuggled /count)
EOF

ADMIN=$ADMIN1
if ! want main; then
    MAIN_UP=0
elif start_gateway main "$TMP/main.yaml"; then
    MAIN_UP=1
else
    not_ok "main gateway starts and becomes ready" "$(trunc "$(cat "$GW_ERR")")"
    MAIN_UP=0
fi

if [ "$MAIN_UP" = 1 ]; then
    section "routing table"
    body() { hc "$@" 2>&1; }
    expect_eq "route: host exact" "host-exact" "$(body -H 'Host: exact.test' "$U1/anything")"
    expect_eq "route: host exact is case-insensitive and ignores the port" "host-exact" \
        "$(body -H 'Host: EXACT.test:8080' "$U1/anything")"
    expect_eq "route: host with a trailing dot" "host-exact" "$(body -H 'Host: exact.test.:80' "$U1/anything")"
    expect_eq "route: host wildcard one label" "host-wild" "$(body -H 'Host: a.wild.test' "$U1/x")"
    expect_eq "route: host wildcard two labels" "host-wild" "$(body -H 'Host: b.c.wild.test' "$U1/x")"
    expect_eq "route: *.wild.test does not match wild.test (falls through to 404)" "404" \
        "$(code "$U1/x" -H 'Host: wild.test')"
    expect_eq "route: path exact" "path-exact" "$(body "$U1/exact")"
    expect_eq "route: path exact ignores the query" "path-exact" "$(body "$U1/exact?a=1")"
    expect_eq "route: path exact does not match /exact/" "404" "$(code "$U1/exact/")"
    expect_eq "route: path regex" "path-regex" "$(body "$U1/re/123")"
    expect_eq "route: path regex ignores the query" "path-regex" "$(body "$U1/re/42?x=y")"
    expect_eq "route: path regex is anchored at the end" "404" "$(code "$U1/re/123/x")"
    expect_eq "route: path regex mismatch" "404" "$(code "$U1/re/12a")"
    expect_eq "route: method PUT" "method-write" "$(body -X PUT "$U1/meth")"
    expect_eq "route: method DELETE" "method-write" "$(body -X DELETE "$U1/meth/x")"
    expect_eq "route: method GET falls to the next route" "method-any" "$(body "$U1/meth")"
    expect_eq "route: header value match" "header-canary" "$(body -H 'X-Canary: 1' "$U1/hdr")"
    expect_eq "route: header value mismatch" "header-none" "$(body -H 'X-Canary: 2' "$U1/hdr")"
    expect_eq "route: header name match is case-insensitive" "header-canary" "$(body -H 'x-canary: 1' "$U1/hdr")"
    expect_eq "route: header value match on any of several fields" "header-canary" "$(body -H 'X-Canary: 2' -H 'X-Canary: 1' "$U1/hdr")"
    expect_eq "route: header presence" "header-present" "$(body -H 'X-Present: anything' "$U1/hdr")"
    expect_eq "route: no header" "header-none" "$(body "$U1/hdr")"
    expect_eq "route: first match wins (config order)" "order-first" "$(body "$U1/order/deeper")"
    expect_eq "route: no route -> 404" "404" "$(code "$U1/nowhere")"

    resp=$(hc -i "$U1/direct" | tr -d '\r' | tr 'A-Z' 'a-z')
    expect_match "direct response: status 203, headers, body" \
        $'^http/1.1 203[^\n]*\n(.*\n)?x-direct: yes\n(.*\n)*\ndirect body$' "$resp"
    resp=$(hc -i "$U1/old" | tr -d '\r')
    expect_match "redirect: 308 to https://new.test/new" $'^HTTP/1.1 308.*\n[Ll]ocation: https://new\\.test/new(\n|$)' "$resp"
    resp=$(hc -i -H 'Host: h.test' "$U1/old2?a=1" | tr -d '\r')
    expect_match "redirect: default 301 keeps scheme and path" $'^HTTP/1.1 301.*\n[Ll]ocation: http://other\\.test/old2' "$resp"
    resp=$(hc -H 'Host: front.test' "$U1/api/x/y?q=1")
    expect_eq "prefix_rewrite: /api/x/y?q=1 reaches the upstream as /echo/x/y?q=1" "/echo/x/y?q=1" "$(ej "$resp" 'd["target"]')"
    expect_eq "host_rewrite: upstream sees Host: backend.internal" "backend.internal" "$(ej "$resp" 'h["host"]')"
    resp=$(hc "$U1/strip/echo?x=1")
    expect_eq "prefix_rewrite /strip -> /: one slash dropped (/strip/echo?x=1 -> /echo?x=1)" "/echo?x=1" "$(ej "$resp" 'd["target"]')"

    section "forwarding headers"
    resp=$(hc -H 'Host: front.test' -H 'Connection: keep-alive, X-Drop-Me' -H 'X-Drop-Me: 1' \
        -H 'Keep-Alive: timeout=5' -H 'TE: trailers' -H 'Trailer: X-T' -H 'Upgrade: foo/1' \
        -H 'Proxy-Authorization: Basic Zm9vOmJhcg==' -H 'Proxy-Connection: keep-alive' \
        -H 'X-Keep: yes' "$U1/echo?fwd=1")
    expect_eq "forward: upstream got the request line" "GET /echo?fwd=1" "$(ej "$resp" 'd["method"]+" "+d["target"]')"
    expect_eq "forward: Host preserved without host_rewrite" "front.test" "$(ej "$resp" 'h.get("host")')"
    expect_match "forward: Via added" '^(HTTP/)?1\.1 [^ ]+' "$(ej "$resp" 'h.get("via","")')"
    expect_eq "forward: X-Forwarded-For is the client address" "127.0.0.1" "$(ej "$resp" 'h.get("x-forwarded-for")')"
    expect_eq "forward: X-Forwarded-Proto http" "http" "$(ej "$resp" 'h.get("x-forwarded-proto")')"
    expect_match "forward: X-Request-Id generated" '^[A-Za-z0-9._-]{8,}$' "$(ej "$resp" 'h.get("x-request-id","")')"
    expect_eq "forward: end-to-end header kept" "yes" "$(ej "$resp" 'h.get("x-keep")')"
    expect_eq "forward: hop-by-hop headers removed (Connection, named, Keep-Alive, TE, Trailer, Upgrade, Proxy-*)" "[]" \
        "$(ej "$resp" 'sorted(k for k in h if k in ("connection","x-drop-me","keep-alive","te","trailer","upgrade","proxy-authorization","proxy-connection"))')"
    resp=$(hc -H 'X-Dup: 1' -H 'X-Dup: 2' -H 'X-Empty;' "$U1/echo")
    expect_eq "forward: repeated fields kept in order, empty value kept" "1, 2|True" \
        "$(ej "$resp" 'h.get("x-dup")')|$(ej "$resp" 'h.get("x-empty") == ""')"
    many=()
    for i in $(seq 80); do many+=(-H "X-Many-$i: v$i"); done
    resp=$(hc "${many[@]}" "$U1/echo")
    expect_eq "forward: 80 header fields all reach the upstream" "80" "$(ej "$resp" 'len([k for k in h if k.startswith("x-many-")])')"
    longpath="/echo/$(printf 'p%.0s' $(seq 7000))"
    expect_eq "forward: a 7000-byte target is forwarded intact" "7006" "$(ej "$(hc "$U1$longpath")" 'len(d["target"])')"
    id1=$(ej "$(hc "$U1/echo")" 'h.get("x-request-id")')
    id2=$(ej "$(hc "$U1/echo")" 'h.get("x-request-id")')
    if [ -n "$id1" ] && [ "$id1" != "$id2" ]; then ok "forward: generated X-Request-Ids differ"; else not_ok "forward: generated X-Request-Ids differ" "'$id1' '$id2'"; fi
    resp=$(hc "$U1/echo/a%20b/%2F?x=%2F&y=1+2")
    expect_eq "forward: the target is forwarded byte for byte (percent-encoding, query)" "/echo/a%20b/%2F?x=%2F&y=1+2" "$(ej "$resp" 'd["target"]')"
    resp=$(hc -H 'X-Request-Id: client-id-123' -H 'X-Forwarded-For: 10.1.2.3' "$U1/echo")
    expect_eq "forward: client X-Request-Id kept" "client-id-123" "$(ej "$resp" 'h.get("x-request-id")')"
    expect_match "forward: X-Forwarded-For appended to the client's" '^10\.1\.2\.3, ?127\.0\.0\.1$' "$(ej "$resp" 'h.get("x-forwarded-for")')"
    resp=$(hc -D - -o /dev/null "$U1/hop" | tr -d '\r')
    expect_match "response: end-to-end upstream header kept" $'\n[Xx]-[Uu]p-[Kk]eep: kept' "$resp"
    expect_eq "response: two Set-Cookie fields both kept, in order" "a=1; Path=/|b=2; Path=/" \
        "$(awk -F': ' 'tolower($1)=="set-cookie"{print $2}' <<<"$resp" | paste -sd'|')"
    expect_nomatch "response: upstream hop-by-hop headers removed" \
        '(X-Up-Hop|timeout=9|Proxy-Authenticate|Proxy-Connection|X-Up-Trailer|up-proto)' "$resp"

    section "keep-alive and pipelining"
    hc -v "$U1/echo?ka=1" "$U1/echo?ka=2" >"$TMP/ka.out" 2>"$TMP/ka.err"
    expect_match "keep-alive: curl reuses the client connection" 'Re-using existing connection' "$(cat "$TMP/ka.err")"
    c1=$(sed -n 1p "$TMP/ka.out") c2=$(sed -n 2p "$TMP/ka.out")
    ids="$(ej "$c1" 'd["conn"]') $(ej "$c2" 'd["conn"]')"
    if [[ $ids =~ ^([0-9]+)\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]; then
        ok "keep-alive: both requests on one pooled upstream connection (upstream conn ids $ids)"
    else
        not_ok "keep-alive: both requests on one pooled upstream connection" "upstream conn ids: $ids"
    fi
    up_reset "$UP_A"
    urls=()
    for i in $(seq 20); do urls+=("$U1/ok?i=$i"); done
    hc "${urls[@]}" >/dev/null
    expect_eq "keep-alive: 20 requests on one client connection reach the upstream over at most 1 new upstream connection" \
        "20 True" "$(up_count "$UP_A" '"%d %s" % (d["requests"], d["connections"] - 1 <= 1)')"

    out=$($RAW --port "$P1" --timeout 1 --show-body \
        -d 'GET /echo?n=1 HTTP/1.1\r\nHost: p\r\n\r\nGET /slow/300 HTTP/1.1\r\nHost: p\r\n\r\nGET /echo?n=3 HTTP/1.1\r\nHost: p\r\n\r\n')
    expect_match "pipelining: three requests in one write, answered in order" \
        $'^HTTP/1.1 200[^\n]*\n  body: [^\n]*echo\\?n=1[^\n]*\nHTTP/1.1 200[^\n]*\n  body: slow 300[^\n]*\nHTTP/1.1 200[^\n]*\n  body: [^\n]*echo\\?n=3[^\n]*\nTIMEOUT$' "$out"
    $PY -c 'import sys; sys.stdout.write("".join("GET /echo?n=%d HTTP/1.1\r\nHost: p\r\n\r\n" % i for i in range(100)))' >"$TMP/p100"
    out=$($RAW --port "$P1" --timeout 1 --json -f "$TMP/p100")
    expect_eq "pipelining: 100 requests in one write, 100 responses in order" "100 True TIMEOUT" \
        "$(ej "$out" '"%d %s %s" % (len(d["responses"]), [json.loads(r["body"])["target"] for r in d["responses"]] == ["/echo?n=%d" % i for i in range(100)], d["end"])')"
    out=$($RAW --port "$P1" --timeout 1 --show-body -d 'GET /slow/300 HTTP/1.1\r\nHost: p\r\n\r\nGET /direct HTTP/1.1\r\nHost: p\r\n\r\nGET /echo HTTP/1.1\r\nHost: p\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: p\r\n\r\nGET /old HTTP/1.1\r\nHost: p\r\n\r\nGET /ok HTTP/1.1\r\nHost: p\r\n\r\n' | awk '/^HTTP/{printf "%s ", $2} /body: slow 300/{printf "(slow) "} END{print $0}')
    expect_eq "pipelining across actions (slow proxy, direct, proxy, 404, redirect, proxy) answered in order" "200 (slow) 203 200 404 308 200 TIMEOUT" "$out"
    out=$($RAW --port "$P1" --timeout 1 --split 7 --gap 5 \
        -d 'GET /ok HTTP/1.1\r\nHost: p\r\n\r\nGET /ok HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n')
    expect_eq "pipelining: requests trickled in 7-byte pieces; Connection: close honoured" \
        $'HTTP/1.1 200 OK\nHTTP/1.1 200 OK\nCLOSED' "$out"
    out=$($RAW --port "$P1" --timeout 1 \
        -d 'GET /status/204 HTTP/1.1\r\nHost: p\r\n\r\nGET /status/304 HTTP/1.1\r\nHost: p\r\n\r\nGET /ok HTTP/1.1\r\nHost: p\r\n\r\n')
    expect_eq "pipelining: bodiless 204 and 304 responses, then a 200" \
        $'HTTP/1.1 204 No Content\nHTTP/1.1 304 Not Modified\nHTTP/1.1 200 OK\nTIMEOUT' "$out"
    out=$($RAW --port "$P1" --timeout 1 -d 'GET /ok HTTP/1.0\r\nHost: p\r\n\r\n')
    expect_match "HTTP/1.0 request without keep-alive: answered, then closed" $'^HTTP/1.[01] 200[^\n]*\nCLOSED$' "$out"
    wrk -t2 -c200 -d2s "$U1/echo" >"$TMP/wrk200.out" 2>&1
    echo "# wrk -c200: $(grep -E 'requests in|Requests/sec|Socket|Non-2xx' "$TMP/wrk200.out" | tr '\n' ' ')"
    expect_ge "200 concurrent keep-alive connections (wrk -c200 -d2s): requests completed" 1000 "$(awk '/requests in/{print $1}' "$TMP/wrk200.out")"
    expect_eq "200 concurrent connections: no socket errors, no non-2xx" "" "$(grep -E 'Socket errors|Non-2xx' "$TMP/wrk200.out")"
    cat >"$TMP/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = string.rep("x", 20000)
wrk.headers["Content-Type"] = "application/octet-stream"
EOF
    for load in "POST 20 KB bodies:-s $TMP/post.lua $U1/sink" "chunked 100 KB responses:$U1/bytes/100000?chunked=1" \
        "close-delimited upstream responses:$U1/close/20000"; do
        wrk -t2 -c50 -d2s ${load#*:} >"$TMP/wrkmix.out" 2>&1
        echo "# wrk ${load%%:*}: $(grep -E 'requests in|Socket|Non-2xx' "$TMP/wrkmix.out" | tr '\n' ' ')"
        n=$(awk '/requests in/{print $1}' "$TMP/wrkmix.out")
        if [ "${n:-0}" -ge 200 ] && ! grep -qE 'Socket errors|Non-2xx' "$TMP/wrkmix.out"; then
            ok "load (wrk -c50 -d2s), ${load%%:*}: $n requests, no errors"
        else
            not_ok "load (wrk -c50 -d2s), ${load%%:*}" "$(grep -E 'requests in|Socket|Non-2xx' "$TMP/wrkmix.out" | tr '\n' ' ')"
        fi
    done

    section "chunked, close-delimited, HEAD, 100-continue"
    resp=$(hc -X POST -T - "$U1/echo" <"$TMP/300k")
    expect_eq "chunked request (curl -T -): upstream got 300000 bytes, same sha256" "300000 $sha300k" \
        "$(ej "$resp" '"%s %s" % (d["body_len"], d["body_sha256"])')"
    expect_match "chunked request: upstream saw chunked or the exact length" '^(chunked|300000)$' \
        "$(ej "$resp" 'h.get("transfer-encoding") or h.get("content-length")')"
    out=$($RAW --port "$P1" --timeout 1 --show-body \
        -d 'POST /echo HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nGET /ok HTTP/1.1\r\nHost: p\r\n\r\n')
    sha_hw=$(printf 'hello world' | sha256sum | cut -d' ' -f1)
    expect_match "chunked request with extensions and trailers, then a pipelined GET" \
        "^HTTP/1.1 200[^
]*
  body: [^
]*\"body_len\": 11, \"body_sha256\": \"$sha_hw\"[^
]*
HTTP/1.1 200[^
]*
  body: ok.*
TIMEOUT$" "$out"
    out=$($RAW --port "$P1" --timeout 1 --split 1 --show-body \
        -d 'POST /echo HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n')
    expect_match "chunked request sent one byte per write" "^HTTP/1.1 200 .*\"body_len\": 11, \"body_sha256\": \"$sha_hw\".*TIMEOUT\$" "$out"
    sha1m=$($UPSTREAM --sha 1000000)
    got=$(hc -D "$TMP/ch.h" "$U1/bytes/1000000?chunked=1&chunk=7001" | sha256sum | cut -d' ' -f1)
    expect_eq "chunked response: 1000000 bytes intact" "$sha1m" "$got"
    expect_match "chunked response: client sees Transfer-Encoding: chunked" '[Tt]ransfer-[Ee]ncoding: chunked' "$(cat "$TMP/ch.h")"
    sha500k=$($UPSTREAM --sha 500000)
    got=$(hc -D "$TMP/cl.h" "$U1/close/500000" | sha256sum | cut -d' ' -f1)
    expect_eq "close-delimited upstream body: 500000 bytes intact" "$sha500k" "$got"
    expect_match "close-delimited upstream body: re-framed (chunked or Content-Length) for HTTP/1.1" \
        '([Tt]ransfer-[Ee]ncoding: chunked|[Cc]ontent-[Ll]ength: 500000)' "$(cat "$TMP/cl.h")"
    hc -v -o /dev/null -o /dev/null "$U1/close/100000" "$U1/ok" 2>"$TMP/cl2.err"
    expect_match "close-delimited upstream body: client connection stays open" 'Re-using existing connection' "$(cat "$TMP/cl2.err")"
    got=$(hc -0 "$U1/close/500000" | sha256sum | cut -d' ' -f1)
    expect_eq "close-delimited upstream body to an HTTP/1.0 client" "$sha500k" "$got"
    sha100k=$($UPSTREAM --sha 100000)
    out=$($RAW --port "$P1" --timeout 2 --json -d 'GET /bytes/100000?chunked=1&chunk=3000 HTTP/1.0\r\nHost: p\r\n\r\n')
    expect_eq "HTTP/1.0 client, chunked upstream: no chunked framing to the client, body intact" "False 100000 $sha100k" \
        "$(ej "$out" '"%s %d %s" % (any("chunked" in v.lower() for k, v in d["responses"][0]["headers"] if k.lower() == "transfer-encoding"), len(d["responses"][0]["body"]), __import__("hashlib").sha256(d["responses"][0]["body"].encode("latin-1")).hexdigest())')"
    resp=$(hc -I "$U1/bytes/12345" | tr -d '\r')
    expect_match "HEAD: 200 with the GET's Content-Length" $'^HTTP/1.1 200[^\n]*\n(.*\n)*[Cc]ontent-[Ll]ength: 12345(\n|$)' "$resp"
    out=$($RAW --port "$P1" --timeout 1 --head \
        -d 'HEAD /bytes/12345 HTTP/1.1\r\nHost: p\r\n\r\nHEAD /bytes/99?chunked=1 HTTP/1.1\r\nHost: p\r\n\r\n' --dump "$TMP/head.raw")
    expect_eq "HEAD: two pipelined HEADs (Content-Length and chunked heads), no body bytes, connection kept" $'HTTP/1.1 200 OK\nHTTP/1.1 200 OK\nTIMEOUT' "$out"
    expect_eq "HEAD: nothing after the second head" "0" \
        "$($PY -c 'import sys; d=open(sys.argv[1],"rb").read(); print(len(d.split(b"\r\n\r\n")[2]) if d.count(b"\r\n\r\n")>=2 else -1)' "$TMP/head.raw")"
    out=$($RAW --port "$P1" --timeout 1.5 --await-interim --show-body \
        -d 'POST /echo HTTP/1.1\r\nHost: p\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n' -d 'hello world')
    expect_match "100-continue: exactly one 100 Continue before the body is sent, then 200" \
        "^HTTP/1.1 100 [^
]*
HTTP/1.1 200 [^
]*
  body: [^
]*\"body_len\": 11, [^
]*
TIMEOUT$" "$out"
    $UPSTREAM --gen 20000 >"$TMP/20k"
    t0=$(date +%s%N)
    resp=$(hc -v -H 'Expect: 100-continue' --expect100-timeout 5 --data-binary @"$TMP/20k" "$U1/sink" 2>"$TMP/cont.err")
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_match "100-continue (curl): client got 100 Continue" '< HTTP/1.1 100' "$(cat "$TMP/cont.err")"
    expect_eq "100-continue (curl): body arrived" "20000" "$(ej "$resp" 'd["size"]')"
    expect_le "100-continue (curl): no waiting for the expect timeout (ms)" 2500 "$ms"

    section "100 MB bodies, bounded memory"
    in0=$(metric sluice_downstream_received_bytes_total)
    out0=$(metric sluice_downstream_sent_bytes_total)
    shabig=$($UPSTREAM --sha $BIG)
    $UPSTREAM --gen $BIG >"$TMP/big"
    rss0=$(awk '/^VmRSS/{print $2}' "/proc/$GW_PID/status")
    echo "# gateway RSS at rest: ${rss0} kB"
    rss_start "$GW_PID" "$TMP/rss1"
    resp=$(hc --max-time 60 -X POST -T "$TMP/big" "$U1/sink")
    expect_eq "100 MB upload (Content-Length) streamed to /sink intact" "$BIG $shabig" "$(ej "$resp" '"%s %s" % (d["size"], d["sha256"])')"
    resp=$(hc --max-time 60 -X POST -T - "$U1/sink" <"$TMP/big")
    expect_eq "100 MB upload (chunked) streamed to /sink intact" "$BIG $shabig" "$(ej "$resp" '"%s %s" % (d["size"], d["sha256"])')"
    got=$(hc --max-time 60 "$U1/bytes/$BIG" | sha256sum | cut -d' ' -f1)
    expect_eq "100 MB download (Content-Length) intact" "$shabig" "$got"
    got=$(hc --max-time 60 "$U1/bytes/$BIG?chunked=1" | sha256sum | cut -d' ' -f1)
    expect_eq "100 MB download (chunked) intact" "$shabig" "$got"
    in1=$(metric sluice_downstream_received_bytes_total)
    out1=$(metric sluice_downstream_sent_bytes_total)
    expect_eq "stats: downstream received/sent bytes moved by at least 200 MB each" "True True" \
        "$($PY -c 'import sys; a = [int(float(x or 0)) for x in sys.argv[1:]]; print(a[1] - a[0] >= 2 * a[4], a[3] - a[2] >= 2 * a[4])' "$in0" "$in1" "$out0" "$out1" "$BIG")"
    rss_stop
    echo "# gateway max RSS while streaming: $(rss_max "$TMP/rss1") kB"
    rss_check "gateway VmRSS stays below $RSS_LIMIT_KB kB while 400 MB stream through" "$(rss_max "$TMP/rss1")"
    rss_start "$GW_PID" "$TMP/rss3"
    hc --max-time 3 -X POST -T "$TMP/big" -o /dev/null "$U1/slowsink" 2>/dev/null
    rc=$?
    rss_stop
    echo "# gateway max RSS uploading to a slow upstream: $(rss_max "$TMP/rss3") kB"
    expect_eq "100 MB upload to an upstream reading ~3 MB/s: cut by curl after 3 s" "28" "$rc"
    rss_check "upload to a slow upstream: gateway VmRSS stays below $RSS_LIMIT_KB kB (backpressure)" "$(rss_max "$TMP/rss3")"
    resp=$(hc -X POST -T "$TMP/300k" "$U1/sink")
    expect_eq "after the client aborted its upload, uploads work again" "300000 $sha300k" "$(ej "$resp" '"%s %s" % (d["size"], d["sha256"])')"
    rm -f "$TMP/big"
    rss_start "$GW_PID" "$TMP/rss2"
    hc --max-time 3 --limit-rate 2M -o /dev/null -w '%{size_download}' "$U1/bytes/$BIG" >"$TMP/slow.size" 2>/dev/null
    rc=$?
    rss_stop
    echo "# gateway max RSS with the slow client: $(rss_max "$TMP/rss2") kB, client got $(cat "$TMP/slow.size") bytes"
    expect_eq "slow client (2 MB/s) of a 100 MB response: aborted by curl after 3 s" "28" "$rc"
    rss_check "slow client: gateway VmRSS stays below $RSS_LIMIT_KB kB (backpressure)" "$(rss_max "$TMP/rss2")"
    expect_eq "slow client: gateway still serves afterwards" "ok" "$(hc "$U1/ok")"

    section "malformed requests and smuggling"
    up_reset "$UP_A"
    bad0=$(metric sluice_downstream_bad_requests_total)
    SMUG='GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'
    # name ~ where the error is (head, body; ok = valid) ~ expected tokens (a regex) ~ raw request
    cases=(
        "cl-conflict~head~400 CLOSED~POST /t/cl-conflict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhelloX$SMUG"
        "cl-list-conflict~head~400 CLOSED~POST /t/cl-list-conflict HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhelloX$SMUG"
        "cl-plus~head~400 CLOSED~POST /t/cl-plus HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello$SMUG"
        "cl-negative~head~400 CLOSED~POST /t/cl-negative HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n$SMUG"
        "cl-hex~head~400 CLOSED~POST /t/cl-hex HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello$SMUG"
        "cl-inner-space~head~400 CLOSED~POST /t/cl-inner-space HTTP/1.1\r\nHost: x\r\nContent-Length: 1 0\r\n\r\n0123456789$SMUG"
        "cl-overflow~head~(400|413) CLOSED~POST /t/cl-overflow HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n$SMUG"
        "cl-te~head~400 CLOSED~POST /t/cl-te HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$SMUG"
        "te-cl~head~400 CLOSED~POST /t/te-cl HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 36\r\n\r\n0\r\n\r\n$SMUG"
        "te-not-last~head~400 CLOSED~POST /t/te-not-last HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n$SMUG"
        "te-two-fields~head~(400|501) CLOSED~POST /t/te-two-fields HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x-custom\r\n\r\n0\r\n\r\n$SMUG"
        "te-gzip-chunked~head~(400|501) CLOSED~POST /t/te-gzip-chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n$SMUG"
        "te-xchunked~head~(400|501) CLOSED~POST /t/te-xchunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n$SMUG"
        "te-space-before-colon~head~400 CLOSED~POST /t/te-space-before-colon HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n$SMUG"
        "te-http10~head~400 CLOSED~POST /t/te-http10 HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$SMUG"
        "chunk-size-bad~body~400 CLOSED~POST /t/chunk-size-bad HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n$SMUG"
        "chunk-size-overflow~body~400 CLOSED~POST /t/chunk-size-overflow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nhello\r\n0\r\n\r\n$SMUG"
        "chunk-size-negative~body~400 CLOSED~POST /t/chunk-size-negative HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n$SMUG"
        "chunk-size-0x~body~400 CLOSED~POST /t/chunk-size-0x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n$SMUG"
        "chunk-data-no-crlf~body~400 CLOSED~POST /t/chunk-data-no-crlf HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n$SMUG"
        "chunk-size-bare-lf~body~400 CLOSED~POST /t/chunk-size-bare-lf HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n$SMUG"
        "obs-fold~head~400 CLOSED~GET /t/obs-fold HTTP/1.1\r\nHost: x\r\nX-Foo: a\r\n b\r\n\r\n$SMUG"
        "fold-first-header~head~400 CLOSED~GET /t/fold-first-header HTTP/1.1\r\n Host: x\r\n\r\n$SMUG"
        "bare-lf~head~400 CLOSED~GET /t/bare-lf HTTP/1.1\nHost: x\n\n$SMUG"
        "bare-lf-in-head~head~400 CLOSED~GET /t/bare-lf-in-head HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n$SMUG"
        "bare-cr~head~400 CLOSED~GET /t/bare-cr HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n$SMUG"
        "header-name-space~head~400 CLOSED~GET /t/header-name-space HTTP/1.1\r\nHost: x\r\nX Foo: a\r\n\r\n$SMUG"
        "header-space-before-colon~head~400 CLOSED~GET /t/header-space-before-colon HTTP/1.1\r\nHost: x\r\nX-Foo : a\r\n\r\n$SMUG"
        "header-name-bad-char~head~400 CLOSED~GET /t/header-name-bad-char HTTP/1.1\r\nHost: x\r\nX@Foo: a\r\n\r\n$SMUG"
        "header-empty-name~head~400 CLOSED~GET /t/header-empty-name HTTP/1.1\r\nHost: x\r\n: a\r\n\r\n$SMUG"
        "header-no-colon~head~400 CLOSED~GET /t/header-no-colon HTTP/1.1\r\nHost: x\r\nX-Foo\r\n\r\n$SMUG"
        "header-nul~head~400 CLOSED~GET /t/header-nul HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n$SMUG"
        "header-ctl~head~400 CLOSED~GET /t/header-ctl HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n$SMUG"
        "no-host~head~400 CLOSED~GET /t/no-host HTTP/1.1\r\nX-A: b\r\n\r\n$SMUG"
        "two-hosts~head~400 CLOSED~GET /t/two-hosts HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n$SMUG"
        "version-2.0~head~(505|400) CLOSED~GET /t/version-2.0 HTTP/2.0\r\nHost: x\r\n\r\n$SMUG"
        "version-garbage~head~400 CLOSED~GET /t/version-garbage HTTX/1.1\r\nHost: x\r\n\r\n$SMUG"
        "version-lowercase~head~400 CLOSED~GET /t/version-lowercase http/1.1\r\nHost: x\r\n\r\n$SMUG"
        "request-line-double-space~head~400 CLOSED~GET  /t/request-line-double-space HTTP/1.1\r\nHost: x\r\n\r\n$SMUG"
        "request-line-no-version~head~400 CLOSED~GET /t/request-line-no-version\r\nHost: x\r\n\r\n$SMUG"
        "request-target-space~head~400 CLOSED~GET /t/request target HTTP/1.1\r\nHost: x\r\n\r\n$SMUG"
        "method-bad-char~head~400 CLOSED~G(T /t/method-bad-char HTTP/1.1\r\nHost: x\r\n\r\n$SMUG"
        "te-chunked-twice~head~(400|501) CLOSED~POST /t/te-chunked-twice HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$SMUG"
        "cl-empty~head~400 CLOSED~POST /t/cl-empty HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n$SMUG"
        "header-tab-before-colon~head~400 CLOSED~GET /t/header-tab-before-colon HTTP/1.1\r\nHost: x\r\nX-Foo\t: a\r\n\r\n$SMUG"
        "header-del~head~400 CLOSED~GET /t/header-del HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n$SMUG"
        "request-line-tabs~head~400 CLOSED~GET\t/t/request-line-tabs\tHTTP/1.1\r\nHost: x\r\n\r\n$SMUG"
        "request-line-trailing-space~head~400 CLOSED~GET /t/request-line-trailing-space HTTP/1.1 \r\nHost: x\r\n\r\n$SMUG"
        "target-nul~head~400 CLOSED~GET /t/target-nul\x00x HTTP/1.1\r\nHost: x\r\n\r\n$SMUG"
        "chunk-ext-huge~body~(400|413) CLOSED~POST /t/chunk-ext-huge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=$(printf 'e%.0s' $(seq 70000))\r\nhello\r\n0\r\n\r\n$SMUG"
        "garbage~head~400 CLOSED~\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n"
        # bodies of requests answered by the gateway itself must be skipped, not parsed
        # as the next request (35 = 0x23 = length of $SMUG)
        "body-on-404~ok~404 (200 TIMEOUT|CLOSED)~POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\n\r\n${SMUG}GET /t/after-body-on-404 HTTP/1.1\r\nHost: x\r\n\r\n"
        "chunked-body-on-404~ok~404 (200 TIMEOUT|CLOSED)~POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n23\r\n$SMUG\r\n0\r\n\r\nGET /t/after-chunked-body-on-404 HTTP/1.1\r\nHost: x\r\n\r\n"
        "body-on-direct~ok~203 (200 TIMEOUT|CLOSED)~POST /direct HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\n\r\n${SMUG}GET /t/after-body-on-direct HTTP/1.1\r\nHost: x\r\n\r\n"
        "body-on-redirect~ok~308 (200 TIMEOUT|CLOSED)~POST /old HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\n\r\n${SMUG}GET /t/after-body-on-redirect HTTP/1.1\r\nHost: x\r\n\r\n"
        "valid-pipelined~ok~200 200 TIMEOUT~GET /t/valid-pipelined HTTP/1.1\r\nHost: x\r\n\r\nGET /t/valid-pipelined HTTP/1.1\r\nHost: x\r\n\r\n"
        "valid-get-with-cl-body~ok~200 TIMEOUT~GET /t/valid-get-with-cl-body HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\n\r\n$SMUG"
        "valid-chunked-then-get~ok~200 200 TIMEOUT~POST /t/valid-chunked-then-get HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /t/valid-chunked-then-get HTTP/1.1\r\nHost: x\r\n\r\n"
        "valid-obs-text-value~ok~200 TIMEOUT~GET /t/valid-obs-text-value HTTP/1.1\r\nHost: x\r\nX-Latin: caf\xe9\r\n\r\n"
        "valid-te-uppercase~ok~200 TIMEOUT~POST /t/valid-te-uppercase HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        "cl-repeated-same~either~(200 TIMEOUT|400 CLOSED)~POST /t/valid-cl-repeated-same HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"
    )
    head_rejected=()
    for c in "${cases[@]}"; do
        IFS='~' read -r name where want raw <<<"$c"
        if [ "$where" = head ] || [ "$where" = body ]; then t=2; else t=0.7; fi
        out=$($RAW --port "$P1" --timeout "$t" -d "$raw" | awk '/^HTTP\//{printf "%s ", $2; next} {printf "%s ", $1}')
        out=${out% }
        expect_match "malformed: $name -> $want" "^$want\$" "$out"
        [ "$where" = head ] && head_rejected+=("/t/$name")
    done
    paths=$(up_count "$UP_A" 'json.dumps(d["paths"])')
    expect_eq "smuggling: no smuggled request reached the upstream" "0" "$(ej "$paths" 'd.get("/smuggled", 0)')"
    expect_eq "malformed heads never reach the upstream" "[]" \
        "$(ej "$paths" "[p for p in d if p in '${head_rejected[*]}'.split()]")"
    expect_eq "valid controls reached the upstream exactly as sent" "2 1 2 1 1" \
        "$(ej "$paths" '" ".join(str(d.get("/t/"+n, 0)) for n in ("valid-pipelined","valid-get-with-cl-body","valid-chunked-then-get","valid-te-uppercase","valid-obs-text-value"))')"
    expect_eq "gateway alive and serving after the malformed table" "ok" "$(hc "$U1/ok")"
    bad1=$(metric sluice_downstream_bad_requests_total)
    expect_ge "stats: sluice_downstream_bad_requests_total moved by at least the ${#head_rejected[@]} malformed heads" \
        "${#head_rejected[@]}" "$((${bad1:-0} - ${bad0:-0}))"

    curl -s -o /dev/null --max-time 0.3 "$U1/slow/2000"
    expect_eq "client gives up on a slow upstream response (curl exit 28)" "28" "$?"
    expect_eq "... and the gateway serves on" "ok" "$(hc "$U1/ok")"
    wait_until 3 stat_eq sluice_downstream_connections_active 0
    expect_eq "stats: sluice_downstream_connections_active back to 0 when every client is gone (no leaked connections)" \
        "0" "$(metric sluice_downstream_connections_active)"

    section "admin endpoints, stats, access log"
    expect_eq "admin: GET /healthz -> 200" "200" "$(code "http://127.0.0.1:$ADMIN/healthz")"
    expect_eq "admin: GET /ready -> 200" "200" "$(code "http://127.0.0.1:$ADMIN/ready")"
    before=$(metric sluice_requests_total route=up-ok class=2xx)
    before404=$(metric sluice_requests_total class=4xx)
    hist0=$(metric sluice_request_duration_seconds_count)
    for i in $(seq 7); do hc -o /dev/null "$U1/ok?stat=$i"; done
    hc "$U1/nowhere-stat" "$U1/nowhere-stat2" >/dev/null
    after=$(metric sluice_requests_total route=up-ok class=2xx)
    after404=$(metric sluice_requests_total class=4xx)
    expect_eq "stats: sluice_requests_total{route=\"up-ok\",class=\"2xx\"} moved by 7" "7" "$((${after:-0} - ${before:-0}))"
    expect_ge "stats: sluice_requests_total{class=\"4xx\"} moved by at least 2" 2 "$((${after404:-0} - ${before404:-0}))"
    stats=$(hc "http://127.0.0.1:$ADMIN/stats")
    expect_match "stats: latency histogram has a +Inf bucket" 'sluice_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} [0-9]+' "$stats"
    hist1=$(metric sluice_request_duration_seconds_count)
    expect_ge "stats: latency histogram count moved by at least 9" 9 "$((${hist1:-0} - ${hist0:-0}))"
    expect_eq "stats: sluice_config_generation 1" "1" "$(metric sluice_config_generation)"
    expect_eq "stats: sluice_config_reloads_total 0" "0" "$(metric sluice_config_reloads_total)"
    expect_eq "stats: sluice_config_reload_errors_total 0" "0" "$(metric sluice_config_reload_errors_total)"
    expect_match "admin: GET /metrics (docs/config.md) serves the Prometheus text too" $'^sluice_config_generation [0-9]+\n200$' \
        "$(hc -w '\n%{http_code}' "http://127.0.0.1:$ADMIN/metrics" | grep -E '^sluice_config_generation |^[0-9]{3}$')"
    dump=$(hc "http://127.0.0.1:$ADMIN/config_dump")
    expect_eq "config_dump: JSON string escaping of a direct body with quote, backslash, LF, TAB, UTF-8, 0x01" "True" \
        "$(printf '%s' "$dump" | json_get '[r for r in d["routes"] if r["name"] == "weird"][0]["direct"]["body"] == "q\"b\\s\nn\tt\u00e9\x01z"')"
    expect_eq "direct body bytes served as configured" "7122625c730a6e0974c3a9017a" "$(hc "$U1/weird" | od -An -tx1 | tr -d ' \n')"
    expect_eq "config_dump: valid JSON naming the routes, the cluster and its endpoint" "True True True" \
        "$(printf '%s' "$dump" | json_get '" ".join(str(s in json.dumps(d)) for s in ("host-exact", "redirect-full", "127.0.0.1:'"$UP_A"'"))')"
    $RAW --port "$P1" --timeout 0.5 -d 'GET /echo?q="quote\\back\xe9 HTTP/1.1\r\nHost: x\r\nX-Request-Id: id"with\\odd\r\nUser-Agent: ua"\\\r\n\r\n' >/dev/null
    hc -o /dev/null "$U1/ok?alog=marker-7781"
    sleep 0.5
    expect_match "access log: one JSON line per request on stdout, flushed promptly" 'marker-7781' "$(cat "$GW_OUT")"
    expect_eq "access log: the line has the method and the status" "True" \
        "$(grep marker-7781 "$GW_OUT" | head -1 | json_get '"GET" in d.values() and 200 in d.values()')"
    expect_eq "access log: every line is a JSON object" "True" \
        "$($PY -c 'import json,sys; ls=[l for l in open(sys.argv[1]) if l.strip()]; print(len(ls) > 50 and all(isinstance(json.loads(l), dict) for l in ls))' "$GW_OUT" 2>&1 | tail -1)"
    resp=$(hc -X POST -w '\n%{http_code}' "http://127.0.0.1:$ADMIN/reload")
    expect_match "admin: POST /reload -> 200" $'\n200$' "$resp"
    expect_eq "admin: generation 2 after POST /reload" "2 1" "$(metric sluice_config_generation) $(metric sluice_config_reloads_total)"

    section "graceful shutdown"
    hc --max-time 10 -o "$TMP/drain.body" -w '%{http_code}' "$U1/slow/1500" >"$TMP/drain.code" 2>/dev/null &
    DRAIN_CURL=$!
    $RAW --port "$P1" --timeout 8 -d 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n' >"$TMP/drain.idle" &
    DRAIN_IDLE=$!
    sleep 0.4
    t0=$(date +%s%N)
    kill -TERM "$GW_PID"
    sleep 0.3
    rcode=$(code "http://127.0.0.1:$ADMIN/ready" --max-time 2)
    expect_match "drain: /ready is no longer 200 after SIGTERM" '^(503|000)$' "$rcode"
    curl -s -o /dev/null --max-time 2 "$U1/ok"
    rc=$?
    expect_eq "drain: new connections are refused (curl exit 7)" "7" "$rc"
    wait "$DRAIN_CURL"
    expect_eq "drain: the in-flight /slow/1500 completed" "200 slow 1500" "$(cat "$TMP/drain.code") $(cat "$TMP/drain.body")"
    stop_gateway 0
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_eq "drain: exit code 0" "0" "$GW_RC"
    expect_le "drain: exited soon after the in-flight request, not at the 5 s drain timeout (ms since SIGTERM)" 3500 "$ms"
    wait "$DRAIN_IDLE"
    expect_eq "drain: an idle keep-alive connection is closed" $'HTTP/1.1 200 OK\nCLOSED' "$(cat "$TMP/drain.idle")"
fi

# ===================================================================================
# limits + $PORT
# ===================================================================================
ADMIN=$ADMIN2
cat >"$TMP/limits.yaml" <<EOF
listeners:
  - address: 127.0.0.1:$P2
admin: {address: 127.0.0.1:$ADMIN2}
workers: 1
access_log: false
limits: {max_header_bytes: 4096, max_headers: 20, max_request_line: 1024, max_body_bytes: 100000, max_connections: 4}
timeouts: {header: 1s, keepalive: 1s, drain: 1s}
clusters:
  - name: main
    endpoints: [127.0.0.1:$UP_A]
routes:
$(proxy_routes main /echo /sink /ok /slow/)
EOF
section "limits and \$PORT"
if ! want limits; then
    :
elif start_gateway limits "$TMP/limits.yaml" PORT="$P2ENV"; then
    U2="http://127.0.0.1:$P2ENV"
    expect_eq "\$PORT overrides the listener port" "ok" "$(hc "$U2/ok")"
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$P2/ok"
    expect_eq "\$PORT: the configured port is not listened on" "7" "$?"
    expect_match "\$PORT: /config_dump shows the address actually used" "127\\.0\\.0\\.1:$P2ENV" \
        "$(hc "http://127.0.0.1:$ADMIN2/config_dump" | json_get 'd["listeners"][0]["address"]')"
    expect_nomatch "access_log: false prints nothing on stdout" '.' "$(cat "$GW_OUT")"
    long=$(printf 'a%.0s' $(seq 1100))
    tok() { awk '/^HTTP\//{printf "%s ", $2; next} {printf "%s ", $1}' | sed 's/ $//'; }
    expect_eq "request line over max_request_line -> 414, closed" "414 CLOSED" \
        "$($RAW --port "$P2ENV" --timeout 2 -d "GET /echo?$long HTTP/1.1\r\nHost: x\r\n\r\n" | tok)"
    expect_eq "request line just under the limit -> 200" "200 TIMEOUT" \
        "$($RAW --port "$P2ENV" --timeout 0.5 -d "GET /echo?${long:0:900} HTTP/1.1\r\nHost: x\r\n\r\n" | tok)"
    hdrs=""
    for i in $(seq 25); do hdrs+="X-H$i: v\r\n"; done
    expect_eq "more than max_headers fields -> 431, closed" "431 CLOSED" \
        "$($RAW --port "$P2ENV" --timeout 2 -d "GET /echo HTTP/1.1\r\nHost: x\r\n$hdrs\r\n" | tok)"
    big=$(printf 'b%.0s' $(seq 5000))
    expect_eq "head over max_header_bytes -> 431, closed" "431 CLOSED" \
        "$($RAW --port "$P2ENV" --timeout 2 -d "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: $big\r\n\r\n" | tok)"
    expect_eq "431 via curl" "431" "$(code "$U2/echo" -H "X-Big: $big")"
    expect_eq "Content-Length over max_body_bytes -> 413 before the body is sent, closed" "413 CLOSED" \
        "$($RAW --port "$P2ENV" --timeout 2 -d "POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" | tok)"
    $UPSTREAM --gen 200000 >"$TMP/200k"
    expect_eq "413 via curl --data-binary (200000 > 100000)" "413" "$(code "$U2/sink" --data-binary @"$TMP/200k")"
    expect_match "chunked body over max_body_bytes -> 413 (or reset), closed" '^(413 )?CLOSED$' \
        "$($PY - "$P2ENV" <<'PYEOF' | tok
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
except OSError:
    print("CONNECT-FAILED")
    sys.exit(0)
s.sendall(b"POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
try:
    for i in range(12):  # 12 x 16 KiB > 100000
        s.sendall(b"4000\r\n" + b"c" * 0x4000 + b"\r\n")
    s.sendall(b"0\r\n\r\n")
except OSError:
    pass
data, end = b"", "CLOSED"
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
except socket.timeout:
    end = "TIMEOUT"
except OSError:
    pass
if data.startswith(b"HTTP/"):
    print(data.split(b"\r\n")[0].decode())
print(end)
PYEOF
)"
    head -c 90000 "$TMP/200k" >"$TMP/90k"
    resp=$(hc --data-binary @"$TMP/90k" "$U2/sink")
    expect_eq "body under max_body_bytes passes" "90000" "$(ej "$resp" 'd["size"]')"
    expect_eq "Expect: 100-continue with Content-Length over the limit -> 413, no 100 Continue" "413 CLOSED" \
        "$($RAW --port "$P2ENV" --timeout 2 -d 'POST /sink HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 200000\r\n\r\n' | tok)"

    t0=$(date +%s%N)
    out=$($RAW --port "$P2ENV" --timeout 4 -d 'GET /ok HTTP/1.1\r\nHost: x\r\n' | tok)
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_match "timeouts.header 1s: an incomplete head is cut off (408 or close)" '^(408 )?CLOSED$' "$out"
    if [ "$ms" -ge 700 ] && [ "$ms" -le 2500 ]; then ok "timeouts.header: after about 1 s ($ms ms)"; else not_ok "timeouts.header: after about 1 s" "$ms ms"; fi
    t0=$(date +%s%N)
    out=$($RAW --port "$P2ENV" --timeout 4 --split 1 --gap 200 -d 'GET /ok HTTP/1.1\r\nHost: x\r\nX-Pad: slowloris-slowloris\r\n\r\n' | tok)
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_match "timeouts.header: a head trickled 1 byte / 200 ms is cut off too (slowloris)" '^(408 )?CLOSED$' "$out"
    expect_le "timeouts.header: slowloris cut within 2.5 s (ms)" 2500 "$ms"
    t0=$(date +%s%N)
    out=$($RAW --port "$P2ENV" --timeout 4 -d 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n' | tok)
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_eq "timeouts.keepalive 1s: idle keep-alive connection closed" "200 CLOSED" "$out"
    if [ "$ms" -ge 700 ] && [ "$ms" -le 2500 ]; then ok "timeouts.keepalive: after about 1 s ($ms ms)"; else not_ok "timeouts.keepalive: after about 1 s" "$ms ms"; fi

    out=$($PY - "$P2ENV" <<'PYEOF'
import socket, sys, time
port = int(sys.argv[1])
slow = []
for i in range(4):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /slow/1500 HTTP/1.1\r\nHost: x\r\n\r\n")
    slow.append(s)
time.sleep(0.3)
fifth = "NONE"
try:
    f = socket.create_connection(("127.0.0.1", port), timeout=0.8)
    f.sendall(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
    d = f.recv(100)
    fifth = d.split(b"\r\n")[0].decode() if d else "CLOSED"
except socket.timeout:
    fifth = "NONE"
except OSError as e:
    fifth = "CLOSED"
codes = []
for s in slow:
    try:
        d = s.recv(100)
        codes.append(d.split(b" ")[1].decode() if d else "CLOSED")
    except OSError:
        codes.append("ERR")
print(" ".join(codes), "fifth:", fifth)
PYEOF
)
    expect_match "limits.max_connections 4: four in flight are served, a fifth is not served meanwhile" \
        '^200 200 200 200 fifth: (NONE|CLOSED|HTTP/1.1 503.*)$' "$out"
    expect_eq "limits.max_connections: served again once connections are free" "ok" "$(hc "$U2/ok")"

    hc -o /dev/null -w '%{http_code}' "$U2/slow/5000" >"$TMP/cut.code" 2>/dev/null &
    CUT=$!
    sleep 0.3
    t0=$(date +%s%N)
    stop_gateway TERM
    ms=$((($(date +%s%N) - t0) / 1000000))
    wait "$CUT"
    echo "# limits gateway exit status after a cut drain: $GW_RC"
    expect_le "timeouts.drain 1s: exits after about 1 s although a 5 s request is in flight (ms)" 2500 "$ms"
    expect_nomatch "timeouts.drain: the cut request did not get a 200" '^200$' "$(cat "$TMP/cut.code")"
else
    not_ok "limits gateway starts with PORT=$P2ENV" "$(trunc "$(cat "$GW_ERR")")"
fi

# ===================================================================================
# faults: 502, 504, retries, health checks, ejection
# ===================================================================================
ADMIN=$ADMIN3
U3="http://127.0.0.1:$P3"
UP_HOLE=1
want faults && start_upstream HOLE 0 --blackhole
HC='health_check: {path: /healthz, interval: 200ms, timeout: 200ms, healthy_threshold: 1, unhealthy_threshold: 2}'
cat >"$TMP/faults.yaml" <<EOF
listeners:
  - address: 127.0.0.1:$P3
admin: {address: 127.0.0.1:$ADMIN3}
workers: 2
access_log: false
clusters:
  - name: dead
    endpoints: [127.0.0.1:$DEAD1]
    connect_timeout: 500ms
    retries: {attempts: 0}
  - name: slow
    endpoints: [127.0.0.1:$UP_A]
    request_timeout: 500ms
  - name: blackhole
    endpoints: [127.0.0.1:$UP_HOLE]
    connect_timeout: 300ms
    retries: {attempts: 0}
  - name: retry
    endpoints: [127.0.0.1:$DEAD2, 127.0.0.1:$UP_B]
    lb: round_robin
    connect_timeout: 500ms
    retries: {attempts: 1, on_connect_failure: true}
  - name: retrybody
    endpoints: [127.0.0.1:$DEAD2, 127.0.0.1:$UP_B]
    lb: round_robin
    retries: {attempts: 1, on_connect_failure: true}
    outlier: {consecutive_failures: 0}
  - name: flaky
    endpoints: [127.0.0.1:$UP_A]
    retries: {attempts: 1, on_5xx: true}
  - name: noretry
    endpoints: [127.0.0.1:$UP_A]
    retries: {attempts: 1, on_5xx: false}
  - name: hc
    endpoints: [127.0.0.1:$UP_C, 127.0.0.1:$UP_D]
    lb: round_robin
    $HC
  - name: hc1
    endpoints: [127.0.0.1:$UP_E]
    $HC
  - name: single
    endpoints: [127.0.0.1:$UP_A]
    retries: {attempts: 0}
    outlier: {consecutive_failures: 0}
  - name: rand
    endpoints: [127.0.0.1:$UP_C, 127.0.0.1:$UP_D]
    lb: random
  - name: passive
    endpoints: [127.0.0.1:$DEAD3, 127.0.0.1:$UP_F]
    lb: round_robin
    connect_timeout: 500ms
    retries: {attempts: 0}
    outlier: {consecutive_failures: 3, ejection_time: 30s}
routes:
  - {name: dead, match: {path: {prefix: /dead/}}, proxy: {cluster: dead, prefix_rewrite: /}}
  - {name: slow, match: {path: {prefix: /slow-up/}}, proxy: {cluster: slow, prefix_rewrite: /}}
  - {name: blackhole, match: {path: {prefix: /hole/}}, proxy: {cluster: blackhole, prefix_rewrite: /}}
  - {name: retry, match: {path: {prefix: /retry/}}, proxy: {cluster: retry, prefix_rewrite: /}}
  - {name: flaky, match: {path: {prefix: /flaky/}}, proxy: {cluster: flaky}}
  - {name: retrybody, match: {path: {prefix: /retrybody/}}, proxy: {cluster: retrybody, prefix_rewrite: /}}
  - {name: noretry, match: {path: {prefix: /noretry/}}, proxy: {cluster: noretry, prefix_rewrite: /}}
  - {name: hc, match: {path: {prefix: /hc/}}, proxy: {cluster: hc, prefix_rewrite: /}}
  - {name: hc1, match: {path: {prefix: /hc1/}}, proxy: {cluster: hc1, prefix_rewrite: /}}
  - {name: passive, match: {path: {prefix: /passive/}}, proxy: {cluster: passive, prefix_rewrite: /}}
  - {name: single, match: {path: {prefix: /single/}}, proxy: {cluster: single, prefix_rewrite: /}}
  - {name: rand, match: {path: {prefix: /rand/}}, proxy: {cluster: rand, prefix_rewrite: /}}
EOF
section "upstream faults"
if ! want faults; then
    :
elif start_gateway faults "$TMP/faults.yaml"; then
    t0=$(date +%s%N)
    resp=$(hc -w '\n%{http_code}' "$U3/dead/ok")
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_match "upstream refused -> 502" $'\n502$' "$resp"
    expect_match "502 body says what happened" '(upstream|connect|refused)' "$(tr 'A-Z' 'a-z' <<<"$resp")"
    expect_le "502 comes quickly (ms)" 2000 "$ms"
    expect_ge "stats: sluice_upstream_connect_failures_total{cluster=\"dead\"} moved" 1 "$(metric sluice_upstream_connect_failures_total cluster=dead)"
    expect_ge "stats: sluice_requests_total{route=\"dead\",class=\"5xx\"} moved" 1 "$(metric sluice_requests_total route=dead class=5xx)"
    t0=$(date +%s%N)
    resp=$(hc -w '\n%{http_code}' "$U3/slow-up/slow/3000")
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_match "upstream slower than request_timeout (500ms) -> 504" $'\n504$' "$resp"
    expect_match "504 body says what happened" '(time|upstream)' "$(tr 'A-Z' 'a-z' <<<"$resp")"
    if [ "$ms" -ge 400 ] && [ "$ms" -le 2000 ]; then ok "504 after about request_timeout ($ms ms)"; else not_ok "504 after about request_timeout" "$ms ms"; fi
    expect_eq "upstream within request_timeout -> 200" "slow 100" "$(hc "$U3/slow-up/slow/100")"
    t0=$(date +%s%N)
    curl -s -o /dev/null --max-time 5 "$U3/slow-up/drip/5/1000"
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_eq "upstream silent mid-body longer than request_timeout: the client sees a cut transfer (curl exit 18)" "18" "$rc"
    expect_le "... after about request_timeout (ms)" 2000 "$ms"
    t0=$(date +%s%N)
    resp=$(hc -w '\n%{http_code}' "$U3/hole/ok")
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_match "connect_timeout (300ms) exceeded -> 504" $'\n504$' "$resp"
    if [ "$ms" -ge 250 ] && [ "$ms" -le 1500 ]; then ok "connect timeout after about connect_timeout ($ms ms)"; else not_ok "connect timeout after about connect_timeout" "$ms ms"; fi

    up_reset "$UP_B"
    codes=""
    for i in $(seq 10); do codes+="$(code "$U3/retry/ok?i=$i") "; done
    expect_eq "retry on connect failure: 10/10 succeed with one dead + one live endpoint" \
        "200 200 200 200 200 200 200 200 200 200 " "$codes"
    expect_eq "retry on connect failure: the live endpoint served all 10" "10" "$(up_count "$UP_B" 'd["requests"]')"
    expect_ge "stats: connect failures counted for cluster retry" 1 "$(metric sluice_upstream_connect_failures_total cluster=retry)"
    res=""
    for i in $(seq 6); do
        r=$(hc -X POST -H 'Expect:' --data-binary @"$TMP/300k" -w '\n%{http_code}' "$U3/retrybody/sink")
        if [ "${r##*$'\n'}" = 200 ]; then
            res+="$(json_get 'd["size"] == 300000 and d["sha256"] == "'"$sha300k"'"' <<<"${r%$'\n'*}") "
        else
            res+="${r##*$'\n'}:$(head -c 40 <<<"${r%$'\n'*}") "
        fi
    done
    expect_ge "retry on connect failure with bodies: the dead endpoint was tried" 1 "$(metric sluice_upstream_connect_failures_total cluster=retrybody)"
    expect_eq "retry on connect failure: 6 POSTs with 300 KB bodies (nothing sent yet, so retriable) all arrive intact" "True True True True True True " "$res"
    res=""
    for i in $(seq 6); do
        res+="$(hc -X POST --data-binary hello "$U3/retrybody/sink" | json_get 'd["size"]') "
    done
    expect_eq "retry on connect failure: 6 POSTs with 5-byte bodies all arrive" "5 5 5 5 5 5 " "$res"

    up_reset "$UP_A"
    expect_eq "retry on 5xx: GET /flaky/1 answered 200 after one 503" "flaky ok after 1 len=0" "$(hc "$U3/flaky/1")"
    expect_eq "retry on 5xx: the upstream saw the request twice" "2" "$(up_count "$UP_A" 'd["paths"].get("/flaky/1")')"
    # /flaky/0...01 fail once, then succeed: a retry would turn these into 200
    expect_eq "retry on 5xx: POST (not idempotent) is not retried -> 503" "503" "$(code "$U3/flaky/0001" -X POST -d x)"
    expect_eq "retry on 5xx: ... and reached the upstream once" "1" "$(up_count "$UP_A" 'd["paths"].get("/flaky/0001")')"
    expect_eq "retry on 5xx: PUT (idempotent) with a small body is retried, body replayed" "flaky ok after 1 len=5" \
        "$(hc -X PUT --data-binary hello "$U3/flaky/01")"
    expect_eq "retry on 5xx: ... the upstream saw the PUT twice" "2" "$(up_count "$UP_A" 'd["paths"].get("/flaky/01")')"
    expect_eq "retry on 5xx: PUT with a 1 MB body (not replayable, docs/gateway.md) is not retried -> 503" "503" \
        "$(code "$U3/flaky/001" -X PUT -H 'Expect:' --data-binary @"$TMP/1m")"
    expect_eq "retry on 5xx: ... and reached the upstream once" "1" "$(up_count "$UP_A" 'd["paths"].get("/flaky/001")')"
    expect_eq "on_5xx: false -> the 503 is passed through" "503" "$(code "$U3/noretry/flaky/00001")"
    expect_eq "on_5xx: false -> reached the upstream once" "1" "$(up_count "$UP_A" 'd["paths"].get("/flaky/00001")')"

    seen=""
    for i in $(seq 10); do seen+="$(hc -D - -o /dev/null "$U3/hc/ok" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-upstream"{print $2}')"; done
    [[ $seen == *C* && $seen == *D* ]] && ok "health checks: both endpoints serve while healthy ($seen)" ||
        not_ok "health checks: both endpoints serve while healthy" "$seen"
    expect_ge "health checks: the gateway probes /healthz" 2 "$(up_count "$UP_C" 'd["healthz"]')"
    hc -o /dev/null "http://127.0.0.1:$UP_D/admin/unhealthy"
    sleep 1.2
    seen=""
    for i in $(seq 12); do seen+="$(hc -D - -o /dev/null "$U3/hc/ok" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-upstream"{print $2}')"; done
    expect_eq "health checks: endpoint failing /healthz is ejected; all 12 go to C" "CCCCCCCCCCCC" "$seen"
    hc -o /dev/null "http://127.0.0.1:$UP_D/admin/healthy"
    sleep 1.0
    seen=""
    for i in $(seq 10); do seen+="$(hc -D - -o /dev/null "$U3/hc/ok" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-upstream"{print $2}')"; done
    [[ $seen == *D* ]] && ok "health checks: endpoint back in rotation when /healthz passes again ($seen)" ||
        not_ok "health checks: endpoint back in rotation" "$seen"

    expect_eq "single health-checked endpoint, healthy -> 200" "200" "$(code "$U3/hc1/ok")"
    hc -o /dev/null "http://127.0.0.1:$UP_E/admin/unhealthy"
    sleep 1.2
    resp=$(hc -w '\n%{http_code}' "$U3/hc1/ok")
    expect_match "no healthy endpoint -> 503" $'\n503$' "$resp"
    expect_match "503 body says what happened" '(healthy|unavailable|upstream)' "$(tr 'A-Z' 'a-z' <<<"$resp")"
    up_reset "$UP_E"
    hc -o /dev/null "http://127.0.0.1:$UP_E/admin/healthy"
    sleep 1.0
    expect_eq "endpoint healthy again -> 200" "200" "$(code "$U3/hc1/ok")"

    seen=""
    for i in $(seq 30); do seen+="$(hc -D - -o /dev/null "$U3/rand/ok" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-upstream"{print $2}')"; done
    [[ $seen == *C* && $seen == *D* && ${#seen} == 30 ]] && ok "lb random: both endpoints serve ($seen)" ||
        not_ok "lb random: both endpoints serve" "$seen"

    for r in garbage empty cl-conflict cl-te bare-lf obs-fold bad-status; do
        expect_eq "broken upstream response ($r) -> 502" "502" "$(code "$U3/single/raw/$r")"
    done
    for r in truncated truncated-chunked; do
        t0=$(date +%s%N)
        curl -s -o /dev/null --max-time 5 "$U3/single/raw/$r"
        rc=$?
        ms=$((($(date +%s%N) - t0) / 1000000))
        expect_eq "upstream closes mid-body ($r): the client sees a truncated transfer (curl exit 18)" "18" "$rc"
        expect_le "upstream closes mid-body ($r): promptly (ms)" 2000 "$ms"
    done
    expect_eq "upstream 103 Early Hints, then 200: the client gets the 200 and its body" "200 after hints" \
        "$(hc -w '%{http_code} ' -o "$TMP/hints.body" "$U3/single/raw/early-hints")$(cat "$TMP/hints.body")"
    expect_eq "upstream HTTP/1.0 close-delimited response: 200 with its body" "200 body-of-http10" \
        "$(hc -w '%{http_code} ' -o "$TMP/r.body" "$U3/single/raw/http10-close")$(cat "$TMP/r.body")"
    expect_eq "upstream chunked response with extensions and trailers: body intact" "200 hello" \
        "$(hc -w '%{http_code} ' -o "$TMP/r.body" "$U3/single/raw/chunked-trailers")$(cat "$TMP/r.body")"
    head -c 5000000 /dev/zero >"$TMP/5m"
    for st in 200 413; do
        expect_eq "upstream answers $st before reading a 5 MB upload (Content-Length): the client gets it" "$st early $st" \
            "$(hc -w '%{http_code} ' -o "$TMP/r.body" -H 'Expect:' --data-binary @"$TMP/5m" "$U3/single/early/$st")$(cat "$TMP/r.body")"
        expect_eq "upstream answers $st before reading a 5 MB upload (chunked): the client gets it" "$st early $st" \
            "$(hc -w '%{http_code} ' -o "$TMP/r.body" -X POST -T - "$U3/single/early/$st" <"$TMP/5m")$(cat "$TMP/r.body")"
    done
    expect_eq "after broken responses the cluster still serves" "ok" "$(hc "$U3/single/ok")"
    stop_pid "$UPPID_A"
    start_upstream A "$UP_A"
    codes=""
    for i in $(seq 6); do codes+="$(code "$U3/single/ok?i=$i") "; done
    expect_eq "upstream restarted: stale pooled connections are not used (6/6 succeed, no retries)" \
        "200 200 200 200 200 200 " "$codes"

    expect_ge "stats: sluice_upstream_retries_total{cluster=\"retry\"} (connect failures retried)" 1 "$(metric sluice_upstream_retries_total cluster=retry)"
    expect_ge "stats: sluice_upstream_retries_total{cluster=\"flaky\"} (5xx retried)" 1 "$(metric sluice_upstream_retries_total cluster=flaky)"
    expect_ge "stats: sluice_upstream_timeouts_total{cluster=\"slow\"} (response timeout)" 1 "$(metric sluice_upstream_timeouts_total cluster=slow)"
    expect_ge "stats: sluice_upstream_timeouts_total{cluster=\"blackhole\"} (connect timeout; HELP: \"connect or response timeouts\")" 1 "$(metric sluice_upstream_timeouts_total cluster=blackhole)"
    up_reset "$UP_F"
    codes=()
    for i in $(seq 40); do codes+=("$(code "$U3/passive/ok?i=$i")"); done
    fails=0
    for c in "${codes[@]}"; do [ "$c" = 200 ] || fails=$((fails + 1)); done
    echo "# passive ejection codes: ${codes[*]}"
    expect_le "passive ejection: at most 3 failures per worker before the dead endpoint is ejected" 6 "$fails"
    expect_ge "stats: sluice_upstream_ejections_total{cluster=\"passive\"} moved" 1 "$(metric sluice_upstream_ejections_total cluster=passive)"
    expect_eq "passive ejection: the last 10 requests all succeed" "200 200 200 200 200 200 200 200 200 200" "$(echo "${codes[@]:30}")"
    stop_gateway TERM
    expect_eq "faults gateway: exit code 0" "0" "$GW_RC"
else
    not_ok "faults gateway starts" "$(trunc "$(cat "$GW_ERR")")"
fi

# ===================================================================================
# reloads under load
# ===================================================================================
ADMIN=$ADMIN4
U4="http://127.0.0.1:$P4"
RCONF="$TMP/reload.yaml"
reload_conf() { # reload_conf TAG [extra yaml at the end]
    cat <<EOF
listeners:
  - address: 127.0.0.1:${RELOAD_PORT:-$P4}
admin: {address: 127.0.0.1:$ADMIN4}
workers: 2
access_log: false
timeouts: {drain: 5s}
clusters:
  - name: main
    endpoints: [127.0.0.1:${RELOAD_EP:-$UP_B}]
routes:
  - name: gen-$1
    match: {path: {exact: /gen}}
    direct: {status: 200, body: "gen $1"}
$(proxy_routes main /ok /slow/ /echo)
${2:-}
EOF
}
atomic_write() { cat >"$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"; }
reload_conf 0 >"$RCONF"
section "reloads"
if ! want reload; then
    :
elif start_gateway reload "$RCONF"; then
    gen0=$(metric sluice_config_generation)
    err0=$(metric sluice_config_reload_errors_total)
    wrk -t2 -c20 -d8s "$U4/ok" >"$TMP/wrk.out" 2>&1 &
    WRK=$!
    PIDS+=("$WRK")
    sleep 0.5
    steps_ok=0 steps_bad=""
    for k in $(seq 1 20); do
        g=$(metric sluice_config_generation)
        case $((k % 3)) in
        0)
            kill -HUP "$GW_PID"
            how=SIGHUP
            wait_until 2 stat_gt sluice_config_generation "$g"
            ;;
        1)
            c=$(code "http://127.0.0.1:$ADMIN4/reload" -X POST)
            how="POST /reload ($c)"
            [ "$c" = 200 ] && wait_until 2 stat_gt sluice_config_generation "$g"
            ;;
        2)
            # the file steps also move cluster main between endpoints B and C
            if [ $((k % 2)) = 0 ]; then ep=$UP_C; else ep=$UP_B; fi
            RELOAD_EP=$ep reload_conf "$k" | atomic_write "$RCONF"
            how="file rewrite"
            wait_until 2 body_is "$U4/gen" "gen $k"
            ;;
        esac
        if [ $? = 0 ]; then steps_ok=$((steps_ok + 1)); else steps_bad+=" $k:$how"; fi
        sleep 0.15
    done
    wait "$WRK"
    echo "# wrk: $(tr '\n' ' ' <"$TMP/wrk.out" | sed 's/  */ /g')"
    expect_eq "20 reloads (6 SIGHUP, 7 POST /reload, 7 file rewrites moving the cluster between endpoints) each took effect" "20" "$steps_ok${steps_bad:+ (failed:$steps_bad)}"
    reqs=$(awk '/requests in/{print $1}' "$TMP/wrk.out")
    expect_ge "wrk through the reloads: at least 2000 requests completed" 2000 "${reqs:-0}"
    expect_eq "wrk through the reloads: no non-2xx responses" "0" "$(awk -F': *' '/Non-2xx/{print $2}' "$TMP/wrk.out" | grep . || echo 0)"
    expect_eq "wrk through the reloads: no socket errors" "" "$(grep 'Socket errors' "$TMP/wrk.out")"
    gen1=$(metric sluice_config_generation)
    expect_ge "sluice_config_generation moved by at least 20" 20 "$((${gen1:-0} - ${gen0:-0}))"
    expect_ge "sluice_config_reloads_total at least 20" 20 "$(metric sluice_config_reloads_total)"
    expect_eq "no reload errors during the good reloads" "${err0:-0}" "$(metric sluice_config_reload_errors_total)"
    expect_eq "config_dump shows the last file's route" "True" \
        "$(hc "http://127.0.0.1:$ADMIN4/config_dump" | json_get '"gen-20" in json.dumps(d)')"

    hc -o "$TMP/inflight.body" -w '%{http_code}' "$U4/slow/1200" >"$TMP/inflight.code" 2>/dev/null &
    IF=$!
    $RAW --port "$P4" --timeout 1 --show-body -d 'GET /gen HTTP/1.1\r\nHost: x\r\n\r\n' -d 'GET /gen HTTP/1.1\r\nHost: x\r\n\r\n' --gap 1500 >"$TMP/idle.out" &
    IDLE=$!
    sleep 0.4
    g=$(metric sluice_config_generation)
    reload_conf 21 | atomic_write "$RCONF"
    kill -HUP "$GW_PID"
    wait "$IF" "$IDLE"
    expect_eq "in-flight request survives a reload" "200 slow 1200" "$(cat "$TMP/inflight.code") $(cat "$TMP/inflight.body")"
    expect_eq "idle keep-alive connection survives a reload; its next request sees the new config" \
        $'HTTP/1.1 200 OK\n  body: gen 20\nHTTP/1.1 200 OK\n  body: gen 21\nTIMEOUT' "$(cat "$TMP/idle.out")"
    expect_eq "the reload happened meanwhile" "gen 21" "$(hc "$U4/gen")"

    g=$(metric sluice_config_generation)
    e=$(metric sluice_config_reload_errors_total)
    reload_conf bad "  - name: broken
    match: {path: {prefix: /broken}}
    proxy: {cluster: no-such-cluster}" | atomic_write "$RCONF"
    resp=$(hc -X POST -w '\n%{http_code}' "http://127.0.0.1:$ADMIN4/reload")
    expect_match "bad config (unknown cluster): POST /reload -> 4xx/5xx" $'\n[45][0-9][0-9]$' "$resp"
    expect_match "bad config: the error names the problem" 'no-such-cluster' "$resp"
    wait_until 2 stat_gt sluice_config_reload_errors_total "${e:-0}"
    expect_ge "bad config: sluice_config_reload_errors_total +1" "$((${e:-0} + 1))" "$(metric sluice_config_reload_errors_total)"
    expect_eq "bad config: the old config keeps serving" "gen 21 ok" "$(hc "$U4/gen") $(hc "$U4/ok")"
    expect_eq "bad config: generation unchanged" "$g" "$(metric sluice_config_generation)"
    expect_eq "bad config: sluice_config_last_reload_success 0" "0" "$(metric sluice_config_last_reload_success)"
    e=$(metric sluice_config_reload_errors_total)
    printf 'listeners: [\n  {address: "unterminated\n' | atomic_write "$RCONF"
    kill -HUP "$GW_PID"
    wait_until 3 stat_gt sluice_config_reload_errors_total "${e:-0}"
    expect_ge "bad YAML via SIGHUP/file change: reload errors counted" "$((${e:-0} + 1))" "$(metric sluice_config_reload_errors_total)"
    expect_eq "bad YAML: still serving the old config" "gen 21 ok" "$(hc "$U4/gen") $(hc "$U4/ok")"
    expect_eq "gateway alive after bad reloads" "yes" "$(gw_alive && echo yes || echo no)"
    reload_conf 21 | atomic_write "$RCONF"
    g=$(metric sluice_config_generation)
    for i in $(seq 20); do kill -HUP "$GW_PID"; done
    for i in $(seq 5); do curl -s -o /dev/null --max-time 5 -X POST "http://127.0.0.1:$ADMIN4/reload" & done
    wait_until 3 stat_gt sluice_config_generation "$g"
    sleep 0.5
    expect_eq "20 SIGHUPs and 5 concurrent POST /reload at once: alive, serving, generation moved" "yes gen 21 ok True" \
        "$(gw_alive && echo yes || echo no) $(hc "$U4/gen") $(hc "$U4/ok") $([ "$(metric sluice_config_generation)" -gt "$g" ] && echo True || echo False)"
    reload_conf 22 >"$RCONF"   # in place (truncate + write), not atomic
    wait_until 4 body_is "$U4/gen" "gen 22"
    expect_eq "in-place rewrite of the file triggers a reload" "gen 22" "$(hc "$U4/gen")"
    RELOAD_EP=$UP_C reload_conf 23 | atomic_write "$RCONF"
    expect_eq "reload moving cluster main from endpoint B to C: POST /reload -> 200" "200" "$(code "http://127.0.0.1:$ADMIN4/reload" -X POST)"
    expect_eq "good reload: sluice_config_last_reload_success 1" "1" "$(metric sluice_config_last_reload_success)"
    seen=""
    for i in $(seq 5); do seen+="$(hc -D - -o /dev/null "$U4/ok" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-upstream"{print $2}')"; done
    expect_eq "after the reload every request goes to the new endpoint" "CCCCC" "$seen"
    RELOAD_EP=$UP_C RELOAD_PORT=$P4B reload_conf 24 | atomic_write "$RCONF"
    expect_eq "reload moving the listener: POST /reload -> 200" "200" "$(code "http://127.0.0.1:$ADMIN4/reload" -X POST)"
    expect_eq "the new listener address serves" "gen 24" "$(hc "http://127.0.0.1:$P4B/gen")"
    curl -s -o /dev/null --max-time 2 "$U4/gen"
    expect_eq "the old listener address is closed (curl exit 7)" "7" "$?"
    stop_gateway TERM
    expect_eq "reload gateway: exit code 0" "0" "$GW_RC"
else
    not_ok "reload gateway starts" "$(trunc "$(cat "$GW_ERR")")"
fi

# ===================================================================================
# Kubernetes ConfigMap symlink swap
# ===================================================================================
ADMIN=$ADMIN5
U5="http://127.0.0.1:$P5"
CM="$TMP/configmap"
cm_conf() {
    cat <<EOF
listeners:
  - address: 127.0.0.1:$P5
admin: {address: 127.0.0.1:$ADMIN5}
workers: 1
access_log: false
routes:
  - name: cm-$1
    match: {path: {exact: /cm}}
    direct: {status: 200, body: "cm $1"}
  - name: env
    match: {path: {exact: /env}}
    direct: {status: 200, body: "\${SLUICE_E2E_GREETING} \${SLUICE_E2E_UNSET:-fallback} \$\${literal}"}
EOF
}
cm_publish() { # like the kubelet: new timestamped dir, new ..data link renamed over the old
    local ts="..2026_01_01_00_00_0$1.$$" old
    old=$(readlink "$CM/..data" 2>/dev/null)
    mkdir "$CM/$ts"
    cm_conf "$1" >"$CM/$ts/gateway.yaml"
    ln -s "$ts" "$CM/..data_tmp"
    mv -T "$CM/..data_tmp" "$CM/..data"
    [ -e "$CM/gateway.yaml" ] || ln -s ..data/gateway.yaml "$CM/gateway.yaml"
    [ -n "$old" ] && rm -rf "${CM:?}/$old"
    return 0
}
mkdir -p "$CM"
cm_publish a
section "ConfigMap symlink swap"
if ! want cm; then
    :
elif start_gateway cm "$CM/gateway.yaml" SLUICE_E2E_GREETING=hello-env; then
    expect_eq "configmap: initial config served" "cm a" "$(hc "$U5/cm")"
    expect_eq "\${VAR}, \${VAR:-default} and \$\${ in config values" 'hello-env fallback ${literal}' "$(hc "$U5/env")"
    cm_publish b
    wait_until 5 body_is "$U5/cm" "cm b"
    expect_eq "configmap: ..data symlink swap triggers a reload" "cm b" "$(hc "$U5/cm")"
    expect_eq "configmap: config_dump shows the new route" "True" \
        "$(hc "http://127.0.0.1:$ADMIN5/config_dump" | json_get '"cm-b" in json.dumps(d)')"
    cm_publish c
    wait_until 5 body_is "$U5/cm" "cm c"
    expect_eq "configmap: a second swap is seen too (the watch survives)" "cm c" "$(hc "$U5/cm")"
    stop_gateway INT
    expect_eq "SIGINT: exit code 0" "0" "$GW_RC"
else
    not_ok "configmap gateway starts" "$(trunc "$(cat "$GW_ERR")")"
fi

# ===================================================================================
# TLS listener next to a plain one
# ===================================================================================
ADMIN=$ADMIN6
section "TLS listener"
if ! want tls; then
    :
elif ! command -v openssl >/dev/null; then
    skip "TLS tests" "openssl missing (scripts/deps.sh installs it)"
elif ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>"$TMP/openssl.err"; then
    not_ok "self-signed certificate for the TLS tests" "$(cat "$TMP/openssl.err")"
else
    cat >"$TMP/tls.yaml" <<EOF
listeners:
  - name: secure
    address: 127.0.0.1:$P6
    tls: {cert: $TMP/cert.pem, key: $TMP/key.pem}
  - name: plain
    address: 127.0.0.1:$P6B
admin: {address: 127.0.0.1:$ADMIN6}
workers: 2
access_log: false
clusters:
  - name: main
    endpoints: [127.0.0.1:$UP_B]
routes:
  - name: redirect-host
    match: {path: {exact: /old2}}
    redirect: {host: other.test}
$(proxy_routes main /echo /bytes/ /sink /ok)
EOF
    if start_gateway tls "$TMP/tls.yaml"; then
        U6="https://127.0.0.1:$P6"
        resp=$(hc --cacert "$TMP/cert.pem" "$U6/echo")
        expect_eq "TLS: request over HTTPS verified against our certificate reaches the upstream" "GET /echo" "$(ej "$resp" 'd["method"]+" "+d["target"]')"
        expect_eq "TLS: X-Forwarded-Proto https" "https" "$(ej "$resp" 'h.get("x-forwarded-proto")')"
        expect_eq "plain listener next to it: X-Forwarded-Proto http" "http" "$(ej "$(hc "http://127.0.0.1:$P6B/echo")" 'h.get("x-forwarded-proto")')"
        got=$(hc --cacert "$TMP/cert.pem" "$U6/bytes/1000000?chunked=1" | sha256sum | cut -d' ' -f1)
        expect_eq "TLS: 1 MB chunked download intact" "$($UPSTREAM --sha 1000000)" "$got"
        resp=$(hc --max-time 5 --cacert "$TMP/cert.pem" -H 'Expect:' --data-binary @"$TMP/1m" "$U6/sink" 2>&1)
        expect_eq "TLS: 1 MB upload (Content-Length) intact" "1000000 $($UPSTREAM --sha 1000000)" "$(ej "$resp" '"%s %s" % (d["size"], d["sha256"])')"
        resp=$(hc --max-time 5 --cacert "$TMP/cert.pem" -X POST -T - "$U6/sink" <"$TMP/1m" 2>&1)
        expect_eq "TLS: 1 MB upload (chunked) intact" "1000000 $($UPSTREAM --sha 1000000)" "$(ej "$resp" '"%s %s" % (d["size"], d["sha256"])')"
        rss_start "$GW_PID" "$TMP/rss-tls"
        got=$(hc --max-time 60 --cacert "$TMP/cert.pem" "$U6/bytes/$BIG" | sha256sum | cut -d' ' -f1)
        rss_stop
        echo "# TLS gateway max RSS during a 100 MB download: $(rss_max "$TMP/rss-tls") kB"
        expect_eq "TLS: 100 MB download intact" "$($UPSTREAM --sha $BIG)" "$got"
        rss_check "TLS: gateway VmRSS stays below $RSS_LIMIT_KB kB during the 100 MB download" "$(rss_max "$TMP/rss-tls")"
        hc --cacert "$TMP/cert.pem" -v -o /dev/null -o /dev/null "$U6/ok" "$U6/ok" 2>"$TMP/tls-ka.err"
        expect_match "TLS: keep-alive reuses the TLS connection" 'Re-using existing connection' "$(cat "$TMP/tls-ka.err")"
        resp=$(hc --cacert "$TMP/cert.pem" -i "$U6/old2" | tr -d '\r')
        expect_match "TLS: a redirect keeping the scheme says https" $'^HTTP/1.1 301.*\n[Ll]ocation: https://other\\.test/old2' "$resp"
        c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$P6/ok")
        expect_nomatch "TLS: plain HTTP to the TLS port is not served" '^200$' "$c"
        $PY - "$P6" <<'PYEOF' >"$TMP/tls-garbage.out"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(b"\x16\x03\x01\x00\x05garbage-not-a-client-hello" * 4)
try:
    while s.recv(4096):
        pass
    print("CLOSED")
except socket.timeout:
    print("TIMEOUT")
except OSError:
    print("CLOSED")
PYEOF
        expect_eq "TLS: a garbage handshake is closed" "CLOSED" "$(cat "$TMP/tls-garbage.out")"
        expect_eq "TLS: still serving afterwards" "ok" "$(hc --cacert "$TMP/cert.pem" "$U6/ok")"
        stop_gateway TERM
        expect_eq "TLS gateway: exit code 0" "0" "$GW_RC"
    else
        not_ok "TLS gateway starts" "$(trunc "$(cat "$GW_ERR")")"
    fi
fi

# ===================================================================================
section "gateway logs"
reports=$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:|Assertion .* failed' "$TMP"/gw-*.err 2>/dev/null)
if [ -z "$reports" ]; then
    ok "no sanitizer reports or assertion failures in the gateways' stderr"
else
    for f in $reports; do echo "# $f:"; grep -m5 -A8 -E 'AddressSanitizer|LeakSanitizer|runtime error:|Assertion' "$f" | sed 's/^/#   /'; done
    not_ok "no sanitizer reports or assertion failures in the gateways' stderr" "$(echo $reports)"
fi

finish
