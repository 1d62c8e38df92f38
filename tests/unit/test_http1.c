/*
 * test_http1.c — unit tests for the HTTP/1.1 framing parser
 * (src/gateway/gw_http1.c).
 *
 * Owns:     request and response heads (fields, keep-alive, Host, Expect,
 *           body kind), incremental feeding (byte at a time gives AGAIN
 *           until the end and then the same head as one call), the
 *           request-smuggling table (raw head -> expected status, each also
 *           fed byte by byte), limits (414, 431), the body decoder (Content-
 *           Length, until-close, chunked split at every boundary, malformed
 *           chunked framing and trailers), hop-by-hop and lookup helpers, and
 *           a micro-benchmark (printed as a comment line, never asserted).
 * Not here: forwarding policy (gw_proxy.c), sockets.
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#include "gw_http1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"

static const gw_http1_limits limits = {
    .max_head_bytes = 8192,
    .max_headers = 64,
    .max_request_line = 4096,
};

enum { CAP = 128 };

typedef struct parsed {
    gw_http1_parser p;
    gw_http1_head h;
    gw_header hdr[CAP];
    ssize_t r;
} parsed;

/* One call on the whole buffer. */
static ssize_t parse_with(parsed *x, bool resp, bool was_head, const gw_http1_limits *lim,
                          const char *s, size_t n)
{
    gw_http1_parser_init(&x->p, resp, lim, x->hdr, CAP);
    x->p.request_was_head = was_head;
    memset(&x->h, 0, sizeof x->h);
    x->r = gw_http1_parse_head(&x->p, s, n, &x->h);
    return x->r;
}

static ssize_t parse_req(parsed *x, const char *s)
{
    return parse_with(x, false, false, &limits, s, strlen(s));
}

static ssize_t parse_resp(parsed *x, const char *s, bool was_head)
{
    return parse_with(x, true, was_head, &limits, s, strlen(s));
}

/* The status a request gets: 0 when it parses, -1 when incomplete. */
static int outcome(const parsed *x)
{
    if (x->r > 0)
        return 0;
    if (x->r == GW_HTTP1_AGAIN)
        return -1;
    return x->p.status;
}

static bool str_is(gw_str s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.base, lit, s.len) == 0;
}

static bool same_str(gw_str a, gw_str b)
{
    return a.base == b.base && a.len == b.len;
}

static bool same_head(const gw_http1_head *a, const gw_http1_head *b)
{
    if (!same_str(a->method, b->method) || !same_str(a->target, b->target) ||
        a->status != b->status || !same_str(a->reason, b->reason) ||
        a->minor_version != b->minor_version || a->n_headers != b->n_headers ||
        a->head_len != b->head_len || a->body != b->body ||
        a->content_length != b->content_length || a->connection != b->connection ||
        a->keep_alive != b->keep_alive || a->expect_continue != b->expect_continue ||
        (a->host == NULL) != (b->host == NULL))
        return false;
    if (a->host && (a->host - a->headers) != (b->host - b->headers))
        return false;
    for (size_t i = 0; i < a->n_headers; i++)
        if (!same_str(a->headers[i].name, b->headers[i].name) ||
            !same_str(a->headers[i].value, b->headers[i].value))
            return false;
    return true;
}

/* Feeds s one byte more per call. True when every call before the last
 * returned AGAIN (with scanned == len), the last returned what one call on
 * the whole buffer returns, and the heads (or error statuses) agree. */
static bool bytewise_matches(bool resp, bool was_head, const gw_http1_limits *lim, const char *s,
                             size_t n)
{
    static parsed whole, inc;
    parse_with(&whole, resp, was_head, lim, s, n);
    gw_http1_parser_init(&inc.p, resp, lim, inc.hdr, CAP);
    inc.p.request_was_head = was_head;
    memset(&inc.h, 0, sizeof inc.h);
    inc.r = GW_HTTP1_AGAIN;
    size_t k;
    for (k = 1; k <= n; k++) {
        inc.r = gw_http1_parse_head(&inc.p, s, k, &inc.h);
        if (inc.r != GW_HTTP1_AGAIN)
            break;
        if (inc.p.scanned != k)
            return false;
    }
    if (inc.r != whole.r)
        return false;
    if (whole.r > 0)
        return k == (size_t)whole.r && same_head(&inc.h, &whole.h);
    if (whole.r == GW_HTTP1_ERROR)
        return inc.p.status == whole.p.status && inc.p.error == whole.p.error;
    return true;
}

/* ---- requests ------------------------------------------------------------ */

static void test_get(void)
{
    static parsed x;
    const char *s = "GET /index.html?q=1 HTTP/1.1\r\n"
                    "Host: example.com\r\n"
                    "User-Agent:  curl/8.0 \t\r\n"
                    "X-Empty:\r\n"
                    "Accept: */*\r\n"
                    "\r\n";
    ssize_t r = parse_req(&x, s);
    check(r == (ssize_t)strlen(s) && x.h.head_len == strlen(s), "GET: complete, head_len");
    check(str_is(x.h.method, "GET") && str_is(x.h.target, "/index.html?q=1") &&
              x.h.minor_version == 1,
          "GET: request line");
    check(x.h.n_headers == 4 && x.h.headers == x.hdr && str_is(x.hdr[1].name, "User-Agent") &&
              str_is(x.hdr[1].value, "curl/8.0") && str_is(x.hdr[2].value, "") &&
              str_is(x.hdr[3].value, "*/*"),
          "GET: fields, values trimmed");
    check(x.h.host == &x.hdr[0] && str_is(x.h.host->value, "example.com"), "GET: host");
    check(x.h.body == GW_BODY_NONE && x.h.keep_alive && x.h.connection == 0 &&
              !x.h.expect_continue,
          "GET: no body, keep-alive by default");
    const gw_header *ua = gw_http1_find(&x.h, "user-agent");
    check(ua == &x.hdr[1] && gw_http1_find(&x.h, "X-Missing") == NULL &&
              gw_http1_find(&x.h, "accept") == &x.hdr[3],
          "gw_http1_find is case-insensitive");
    for (size_t k = 0; k < strlen(s); k++) {
        parsed *y = &x;
        gw_http1_parser_init(&y->p, false, &limits, y->hdr, CAP);
        if (gw_http1_parse_head(&y->p, s, k, &y->h) != GW_HTTP1_AGAIN) {
            check(0, "GET: every proper prefix is AGAIN");
            return;
        }
    }
    check(1, "GET: every proper prefix is AGAIN");
    check(bytewise_matches(false, false, &limits, s, strlen(s)),
          "GET: byte at a time equals one call");
}

static void test_post_length(void)
{
    static parsed x;
    const char *s = "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n"
                    "Expect: 100-Continue\r\n\r\nhello worldGET";
    ssize_t r = parse_req(&x, s);
    check(r > 0 && x.h.body == GW_BODY_LENGTH && x.h.content_length == 11 &&
              x.h.expect_continue,
          "POST: Content-Length body, Expect: 100-continue");
    gw_http1_body b;
    gw_http1_body_init(&b, &x.h, 8192);
    const char *d;
    size_t dl;
    ssize_t c = gw_http1_body_decode(&b, s + r, strlen(s + r), &d, &dl);
    check(c == 11 && d == s + r && dl == 11 && b.done && b.received == 11,
          "POST: body decoded, next message not consumed");
    check(gw_http1_body_decode(&b, s + r + c, 3, &d, &dl) == 0 && dl == 0,
          "LENGTH: nothing consumed after done");

    gw_http1_body_init(&b, &x.h, 8192);
    size_t got = 0;
    for (size_t i = 0; i < 11; i++) {
        c = gw_http1_body_decode(&b, s + r + i, 1, &d, &dl);
        if (c != 1 || dl != 1 || d != s + r + i)
            break;
        got++;
    }
    check(got == 11 && b.done && b.remaining == 0, "LENGTH: byte at a time");

    parse_req(&x, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    gw_http1_body_init(&b, &x.h, 8192);
    check(x.h.body == GW_BODY_LENGTH && x.h.content_length == 0 && b.done,
          "Content-Length: 0 is LENGTH, done at once");
    parse_req(&x, "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nContent-Length: 7\r\n"
                  "Content-Length: 7 , 7\r\n\r\n");
    check(x.r > 0 && x.h.content_length == 7, "identical Content-Length values accepted");
    parse_req(&x, "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n");
    check(x.r > 0 && x.h.expect_continue && x.h.body == GW_BODY_NONE, "Expect without body");
    parse_req(&x, "POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
    check(x.r > 0 && !x.h.expect_continue, "Expect ignored on HTTP/1.0");
    parse_req(&x, "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue-ish\r\n\r\n");
    check(x.r > 0 && !x.h.expect_continue, "other Expect values are not 100-continue");
}

static void test_chunked_request(void)
{
    static parsed x;
    const char *s = "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n0\r\n\r\n";
    ssize_t r = parse_req(&x, s);
    check(r > 0 && x.h.body == GW_BODY_CHUNKED, "chunked request");
    gw_http1_body b;
    gw_http1_body_init(&b, &x.h, 8192);
    const char *d;
    size_t dl;
    size_t len = strlen(s + r);
    /* The framing after the last span is consumed in the same call. */
    ssize_t c = gw_http1_body_decode(&b, s + r, len, &d, &dl);
    check(c == (ssize_t)len && dl == 5 && memcmp(d, "hello", 5) == 0 && b.done &&
              b.received == 5,
          "chunked request: span, then done at the final CRLF");
    parse_req(&x, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n");
    check(x.r > 0 && x.h.body == GW_BODY_CHUNKED, "chunked is case-insensitive");
    parse_req(&x, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked \r\n\r\n");
    check(x.r > 0 && x.h.body == GW_BODY_CHUNKED, "TE value OWS trimmed");
}

static void test_pipelined(void)
{
    static parsed x;
    const char *s = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                    "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    size_t n = strlen(s);
    ssize_t r = parse_with(&x, false, false, &limits, s, n);
    check(r > 0 && str_is(x.h.target, "/a") && x.h.keep_alive, "pipelined: first head");
    gw_http1_body b;
    gw_http1_body_init(&b, &x.h, 8192);
    const char *d;
    size_t dl;
    ssize_t c = gw_http1_body_decode(&b, s + r, n - (size_t)r, &d, &dl);
    check(c == 3 && b.done && dl == 3 && memcmp(d, "abc", 3) == 0, "pipelined: first body");
    size_t off = (size_t)r + (size_t)c;
    ssize_t r2 = parse_with(&x, false, false, &limits, s + off, n - off);
    check(r2 == (ssize_t)(n - off) && str_is(x.h.target, "/b") && !x.h.keep_alive &&
              x.h.connection == GW_CONN_CLOSE,
          "pipelined: second head, Connection: close");

    /* Two GETs in one buffer: the first head stops at its blank line. */
    const char *g = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
    r = parse_req(&x, g);
    check(r == (ssize_t)(strlen(g) / 2) && x.h.body == GW_BODY_NONE,
          "pipelined GETs: first head only");
    r2 = parse_req(&x, g + r);
    check(r2 == r && str_is(x.h.target, "/2"), "pipelined GETs: second head");
}

static void test_connection(void)
{
    static parsed x;
    parse_req(&x, "GET / HTTP/1.0\r\n\r\n");
    check(x.r > 0 && !x.h.keep_alive && x.h.host == NULL && x.h.minor_version == 0,
          "HTTP/1.0: close by default, no Host needed");
    parse_req(&x, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    check(x.r > 0 && x.h.keep_alive && x.h.connection == GW_CONN_KEEP_ALIVE,
          "HTTP/1.0 keep-alive");
    parse_req(&x, "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
    check(x.r > 0 && !x.h.keep_alive, "HTTP/1.0: close beats keep-alive");
    parse_req(&x, "GET / HTTP/1.1\r\nHost: a\r\nConnection: x-foo,, CLOSE \r\n\r\n");
    check(x.r > 0 && !x.h.keep_alive && x.h.connection == (GW_CONN_CLOSE | GW_CONN_OTHER),
          "HTTP/1.1: close among tokens (empty elements ignored)");
    parse_req(&x, "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                  "connection: keep-alive\r\n\r\n");
    check(x.r > 0 && x.h.keep_alive &&
              x.h.connection == (GW_CONN_UPGRADE | GW_CONN_KEEP_ALIVE),
          "several Connection fields combine");
    parse_req(&x, "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n");
    check(x.r > 0 && x.h.keep_alive && x.h.connection == GW_CONN_OTHER,
          "Connection: closed is not close");
    parse_req(&x, "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    check(x.r == (ssize_t)strlen("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") &&
              str_is(x.h.method, "GET"),
          "empty lines before the request line are skipped");
}

/* ---- the smuggling table ------------------------------------------------- */

typedef struct row {
    const char *s;
    size_t n;
    int status; /* 0: parses */
} row;

#define R(lit, st) {lit, sizeof(lit) - 1, st}
#define H(fields) "POST / HTTP/1.1\r\nHost: a\r\n" fields "\r\n"

static const row table[] = {
    /* valid */
    R("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0),
    R("GET / HTTP/1.0\r\n\r\n", 0),
    R("get /x HTTP/1.1\r\nHost: a\r\n\r\n", 0),
    R("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0),
    R("GET http://a/b?c#d HTTP/1.1\r\nHost: a\r\n\r\n", 0),
    R(H("Content-Length: 5\r\n"), 0),
    R(H("Content-Length: 5\r\nContent-Length: 5\r\n"), 0),
    R(H("Content-Length: 5, 5\r\n"), 0),
    R(H("Content-Length: 005\r\n"), 0),
    R(H("Content-Length: 9223372036854775807\r\n"), 0),
    R(H("Transfer-Encoding: chunked\r\n"), 0),
    R(H("Transfer_Encoding: chunked\r\n"), 0),
    R(H("X: \x80\xff obs-text\r\n"), 0),
    R(H("X: a\tb\r\n"), 0),
    R(H("X:\r\n"), 0),
    R(H("X: \r\n"), 0),
    R("GET / HTTP/1.1\r\nHost:\r\n\r\n", 0),
    R("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 0),
    R("GET / HTTP/1.1\r\nHost: xn--bcher-kva.example:80\r\n\r\n", 0),
    R("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0),
    /* CL.TE / TE.CL / TE.TE */
    R(H("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n"), 400),
    R(H("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n"), 400),
    R(H("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"), 400),
    R(H("Transfer-Encoding : chunked\r\n"), 400),
    R(H("Transfer-Encoding\t: chunked\r\n"), 400),
    R(H(" Transfer-Encoding: chunked\r\n"), 400),
    R(H("Transfer-Encoding: xchunked\r\n"), 400),
    R(H("Transfer-Encoding: chunkedx\r\n"), 400),
    R(H("Transfer-Encoding: chunked, identity\r\n"), 400),
    R(H("Transfer-Encoding: identity\r\n"), 400),
    R(H("Transfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n"), 400),
    R(H("Transfer-Encoding: chunked\r\nTransfer-encoding: identity\r\n"), 400),
    R(H("Transfer-Encoding: chunked, chunked\r\n"), 400),
    R(H("Transfer-Encoding: chunked;q=1\r\n"), 400),
    R(H("Transfer-Encoding: \"chunked\"\r\n"), 400),
    R(H("Transfer-Encoding: ,chunked\r\n"), 400),
    R(H("Transfer-Encoding: chunked,\r\n"), 400),
    R(H("Transfer-Encoding:\r\n"), 400),
    R(H("Transfer-Encoding:\x0b" "chunked\r\n"), 400),
    R(H("Transfer-Encoding: chu\x00nked\r\n"), 400),
    R(H("Transfer-Encoding: gzip, chunked\r\n"), 501),
    R(H("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 501),
    R("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    /* Content-Length */
    R(H("Content-Length: 5\r\nContent-Length: 6\r\n"), 400),
    R(H("Content-Length: +5\r\n"), 400),
    R(H("Content-Length: -5\r\n"), 400),
    R(H("Content-Length: 1 2\r\n"), 400),
    R(H("Content-Length: 1,2\r\n"), 400),
    R(H("Content-Length: 5,\r\n"), 400),
    R(H("Content-Length: ,5\r\n"), 400),
    R(H("Content-Length: 0x10\r\n"), 400),
    R(H("Content-Length: 5.0\r\n"), 400),
    R(H("Content-Length:\r\n"), 400),
    R(H("Content-Length : 5\r\n"), 400),
    R(H("Content-Length: 9223372036854775808\r\n"), 413),
    R(H("Content-Length: 99999999999999999999999\r\n"), 413),
    /* line structure */
    R(H("X: a\r\n b\r\n"), 400),                  /* obs-fold */
    R(H("X: a\r\n\tb\r\n"), 400),                 /* obs-fold, HTAB */
    R("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400), /* fold after the request line */
    R("GET / HTTP/1.1\nHost: a\r\n\r\n", 400),    /* bare LF */
    R("GET / HTTP/1.1\r\nHost: a\n\r\n", 400),
    R("GET / HTTP/1.1\r\nHost: a\r\n\n", 400),
    R("GET / HTTP/1.1\r\nHost: a\n\n", 400),
    R("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    R(H("X: a\rb\r\n"), 400), /* bare CR */
    R(H("X: a\r\r\n"), 400),
    R("GET / HTTP/1.1\rHost: a\r\n\r\n", 400),
    R("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    R(H("X\r: a\r\n"), 400),
    R(H("X: a\x00b\r\n"), 400), /* NUL */
    R(H("X: a\x7f\r\n"), 400),  /* DEL */
    R(H("X: a\x1b[0m\r\n"), 400),
    R(H("X Y: a\r\n"), 400), /* space in name */
    R(H("X@Y: a\r\n"), 400),
    R(H("X\x80: a\r\n"), 400),
    R(H(": a\r\n"), 400),
    R(H("NoColon\r\n"), 400),
    /* request line */
    R("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    R("GE\x00T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    R(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    R("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    R("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    R("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    R("GET /\tHTTP/1.1\r\nHost: a\r\n\r\n", 400),
    R("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400),
    R("GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    R("GET / \r\nHost: a\r\n\r\n", 400),
    R("GET /\r\nHost: a\r\n\r\n", 400),
    R("GET\r\nHost: a\r\n\r\n", 400),
    R("GET / HTTP/1.1\r\n\r\n", 400), /* missing Host */
    R("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400),
    R("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    R("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    R("GET / HTTP/1.1\r\nHost: user@evil\r\n\r\n", 400),
    R("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
    R("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505),
    R("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    R("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505),
    R("GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400),
    R("GET / HTTP/2\r\nHost: a\r\n\r\n", 400),
    R("GET / http/1.1\r\nHost: a\r\n\r\n", 400),
    R("GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400),
    R("GET / HTTP/1.1\r\n\r\n\r\n", 400),
    R("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      400),
};

static void test_table(void)
{
    int all = 1, inc = 1;
    static parsed x;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const row *t = &table[i];
        parse_with(&x, false, false, &limits, t->s, t->n);
        int got = outcome(&x);
        if (got != t->status || (got == 0 && x.r != (ssize_t)t->n) ||
            (got > 0 && x.p.error == NULL)) {
            printf("# row %zu: expected %d, got %d (%s): ", i, t->status, got,
                   x.p.error ? x.p.error : "-");
            for (size_t k = 0; k < t->n; k++)
                printf(t->s[k] >= 0x20 && t->s[k] < 0x7f ? "%c" : "\\x%02x",
                       (unsigned char)t->s[k]);
            printf("\n");
            all = 0;
        }
        if (!bytewise_matches(false, false, &limits, t->s, t->n)) {
            printf("# row %zu: byte-at-a-time feeding differs\n", i);
            inc = 0;
        }
    }
    check(all, "smuggling table: every head gets its status");
    check(inc, "smuggling table: byte-at-a-time feeding gives the same result");
}

/* ---- limits -------------------------------------------------------------- */

static char big[70000];

/* "GET /aaa... HTTP/1.1" of `line` bytes, then Host; returns the length. */
static size_t request_with_line(size_t line)
{
    size_t n = (size_t)sprintf(big, "GET /");
    memset(big + n, 'a', line - 14);
    n += line - 14;
    n += (size_t)sprintf(big + n, " HTTP/1.1\r\nHost: a\r\n\r\n");
    return n;
}

static void test_limits(void)
{
    static parsed x;
    /* 414: request line longer than max_request_line. */
    size_t n = 0;
    n += (size_t)sprintf(big + n, "GET /");
    memset(big + n, 'a', 5000);
    n += 5000;
    n += (size_t)sprintf(big + n, " HTTP/1.1\r\nHost: a\r\n\r\n");
    parse_with(&x, false, false, &limits, big, n);
    check(outcome(&x) == 414, "huge request line: 414");
    check(bytewise_matches(false, false, &limits, big, n), "414 byte at a time");
    parse_with(&x, false, false, &limits, big, 4200);
    check(outcome(&x) == 414, "414 before the line is complete");
    /* Exactly at the limit (request line without CRLF = 4096): fine. */
    n = request_with_line(4096);
    parse_with(&x, false, false, &limits, big, n);
    check(outcome(&x) == 0 && x.h.target.len == 4096 - 13, "request line at the limit parses");
    check(bytewise_matches(false, false, &limits, big, n), "at the limit, bytewise");
    n = request_with_line(4097);
    parse_with(&x, false, false, &limits, big, n);
    check(outcome(&x) == 414, "request line one past the limit: 414");
    check(bytewise_matches(false, false, &limits, big, n), "one past the limit, bytewise");

    /* Too many fields: 64 fine (Host + 63), 65 is 431. */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 63; i++)
        n += (size_t)sprintf(big + n, "X-%d: v\r\n", i);
    n += (size_t)sprintf(big + n, "\r\n");
    parse_with(&x, false, false, &limits, big, n);
    check(outcome(&x) == 0 && x.h.n_headers == 64, "64 fields parse");
    n -= 2;
    n += (size_t)sprintf(big + n, "X-last: v\r\n\r\n");
    parse_with(&x, false, false, &limits, big, n);
    check(outcome(&x) == 431, "too many fields: 431");
    check(bytewise_matches(false, false, &limits, big, n), "too many fields, bytewise");
    /* cap below max_headers bounds the parse too */
    gw_http1_parser_init(&x.p, false, &limits, x.hdr, 3);
    x.r = gw_http1_parse_head(&x.p, big, n, &x.h);
    check(outcome(&x) == 431, "caller's cap bounds the fields");

    /* Head larger than max_head_bytes: 431, complete or not. */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    memset(big + n, 'b', 9000);
    n += 9000;
    n += (size_t)sprintf(big + n, "\r\n\r\n");
    parse_with(&x, false, false, &limits, big, n);
    check(outcome(&x) == 431, "head too big: 431");
    parse_with(&x, false, false, &limits, big, 8192);
    check(outcome(&x) == 431, "head too big: 431 at max_head_bytes");
    parse_with(&x, false, false, &limits, big, 8191);
    check(outcome(&x) == -1, "one below max_head_bytes: AGAIN");
    check(bytewise_matches(false, false, &limits, big, n), "head too big, bytewise");
    /* A head of exactly max_head_bytes parses. */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    memset(big + n, 'b', 8192 - n - 4);
    n = 8192 - 4;
    n += (size_t)sprintf(big + n, "\r\n\r\n");
    parse_with(&x, false, false, &limits, big, n);
    check(outcome(&x) == 0 && x.r == 8192, "head of exactly max_head_bytes parses");

    /* Many short lines fed byte by byte. */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
    while (n < 8000)
        n += (size_t)sprintf(big + n, "A:b\r\n");
    n += (size_t)sprintf(big + n, "\r\n");
    check(bytewise_matches(false, false, &limits, big, n), "431 many fields, bytewise");
}

/* ---- responses ----------------------------------------------------------- */

static void test_responses(void)
{
    static parsed x;
    parse_resp(&x, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: s\r\n\r\nhello", false);
    check(x.r > 0 && x.h.status == 200 && str_is(x.h.reason, "OK") && x.h.minor_version == 1 &&
              x.h.body == GW_BODY_LENGTH && x.h.content_length == 5 && x.h.keep_alive &&
              x.h.host == NULL && x.h.method.len == 0,
          "response 200 with Content-Length");
    parse_resp(&x, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false);
    check(x.r > 0 && x.h.body == GW_BODY_NONE, "204: no body");
    parse_resp(&x, "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", false);
    check(x.r > 0 && x.h.body == GW_BODY_NONE, "304: no body");
    parse_resp(&x, "HTTP/1.1 100 Continue\r\n\r\n", false);
    check(x.r > 0 && x.h.body == GW_BODY_NONE && x.h.status == 100, "1xx: no body");
    parse_resp(&x, "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
                   "Upgrade: websocket\r\n\r\n", false);
    check(x.r > 0 && x.h.body == GW_BODY_NONE && (x.h.connection & GW_CONN_UPGRADE),
          "101: no body, Connection: upgrade");
    parse_resp(&x, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true);
    check(x.r > 0 && x.h.body == GW_BODY_NONE, "response to HEAD: no body");
    parse_resp(&x, "HTTP/1.1 200 OK\r\n\r\nsome body", false);
    check(x.r > 0 && x.h.body == GW_BODY_UNTIL_CLOSE && !x.h.keep_alive,
          "no framing: until close, not keep-alive");
    parse_resp(&x, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false);
    check(x.r > 0 && x.h.body == GW_BODY_CHUNKED, "chunked response");
    parse_resp(&x, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
               false);
    gw_http1_body b;
    gw_http1_body_init(&b, &x.h, 0);
    check(x.r > 0 && x.h.minor_version == 0 && x.h.keep_alive && x.h.body == GW_BODY_LENGTH &&
              b.done,
          "HTTP/1.0 keep-alive response with Content-Length: 0");
    parse_resp(&x, "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", false);
    check(x.r > 0 && !x.h.keep_alive, "HTTP/1.0 response: close by default");
    parse_resp(&x, "HTTP/1.1 200\r\n\r\n", false);
    check(x.r > 0 && x.h.status == 200 && x.h.reason.len == 0, "status line without reason");
    parse_resp(&x, "HTTP/1.1 404 \r\n\r\n", false);
    check(x.r > 0 && x.h.status == 404 && x.h.reason.len == 0, "empty reason");
    parse_resp(&x, "HTTP/1.1 599 Very \x80 Custom\tReason\r\n\r\n", false);
    check(x.r > 0 && x.h.status == 599 && x.h.reason.len == 20, "odd reason phrase");

    static const row bad[] = {
        R("HTTP/1.1 20 OK\r\n\r\n", 502),
        R("HTTP/1.1 2000 OK\r\n\r\n", 502),
        R("HTTP/1.1 099 Low\r\n\r\n", 502),
        R("HTTP/1.1 2x0 OK\r\n\r\n", 502),
        R("HTTP/1.1  200 OK\r\n\r\n", 502),
        R("HTTP/1.1 200OK\r\n\r\n", 502),
        R("HTTP/2.0 200 OK\r\n\r\n", 502),
        R("HTTP/1.2 200 OK\r\n\r\n", 502),
        R("HTTP/1.1\r\n\r\n", 502),
        R("\r\nHTTP/1.1 200 OK\r\n\r\n", 502),
        R("HTTP/1.1 200 O\x01K\r\n\r\n", 502),
        R("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", 502),
        R("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 502),
        R("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 502),
        R("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", 502),
        R("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 502),
        R("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 502),
        R("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 502),
        R("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", 502),
        R("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", 502),
        R("HTTP/1.1 200 OK\r\nX: \x00\r\n\r\n", 502),
    };
    int all = 1, inc = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parse_with(&x, true, false, &limits, bad[i].s, bad[i].n);
        if (outcome(&x) != bad[i].status) {
            printf("# response row %zu: got %d (%s)\n", i, outcome(&x),
                   x.p.error ? x.p.error : "-");
            all = 0;
        }
        if (!bytewise_matches(true, false, &limits, bad[i].s, bad[i].n))
            inc = 0;
    }
    check(all, "malformed responses: 502");
    check(inc, "malformed responses: byte at a time gives the same result");
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n";
    check(bytewise_matches(true, false, &limits, ok, strlen(ok)), "response byte at a time");
}

/* ---- body decoder ---------------------------------------------------------- */

typedef struct decoded {
    char out[8192];
    size_t out_len;
    size_t consumed;
    bool error;
    bool done;
    const char *why;
} decoded;

static gw_http1_head chunked_head(void)
{
    gw_http1_head h;
    memset(&h, 0, sizeof h);
    h.body = GW_BODY_CHUNKED;
    return h;
}

/* Decodes s[0..n) fed in pieces ending at the given cut points. */
static void decode_pieces(const char *s, size_t n, const size_t *cuts, size_t n_cuts,
                          size_t max_trailer, decoded *d)
{
    gw_http1_head h = chunked_head();
    gw_http1_body b;
    gw_http1_body_init(&b, &h, max_trailer);
    memset(d, 0, sizeof *d);
    size_t pos = 0;
    for (size_t c = 0; c <= n_cuts && !d->error && !b.done; c++) {
        size_t end = c < n_cuts ? cuts[c] : n;
        while (pos < end && !b.done) {
            const char *dp;
            size_t dl;
            ssize_t r = gw_http1_body_decode(&b, s + pos, end - pos, &dp, &dl);
            if (r < 0) {
                d->error = true;
                d->why = b.error;
                break;
            }
            if (dl) {
                if (dp < s + pos || dp + dl > s + pos + (size_t)r ||
                    d->out_len + dl > sizeof d->out) {
                    d->error = true;
                    d->why = "span outside the consumed range";
                    break;
                }
                memcpy(d->out + d->out_len, dp, dl);
                d->out_len += dl;
            }
            pos += (size_t)r;
            if (r == 0 && !b.done)
                break; /* needs more input */
        }
    }
    d->consumed = pos;
    d->done = b.done;
    if (!d->error && b.received != d->out_len) {
        d->error = true;
        d->why = "received disagrees with the spans";
    }
}

static void decode_whole(const char *s, size_t n, size_t max_trailer, decoded *d)
{
    decode_pieces(s, n, NULL, 0, max_trailer, d);
}

static bool same_decode(const decoded *a, const decoded *b)
{
    return a->error == b->error && a->done == b->done && a->out_len == b->out_len &&
           memcmp(a->out, b->out, a->out_len) == 0 && (a->error || a->consumed == b->consumed) &&
           (!a->error || a->why == b->why);
}

static void test_chunked_decoder(void)
{
    static decoded whole, part;
    const char msg[] = "4;name=value;q=\"x y\"\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
                       "00\r\nX-Trailer: 1\r\nX-Other:two \r\n\r\nGET / HTTP/1.1";
    size_t n = sizeof msg - 1;
    size_t tail = strlen("GET / HTTP/1.1");
    const char *payload = "Wikipedia in\r\n\r\nchunks.";
    decode_whole(msg, n, 4096, &whole);
    check(!whole.error && whole.done && whole.consumed == n - tail &&
              whole.out_len == strlen(payload) && memcmp(whole.out, payload, whole.out_len) == 0,
          "chunked: payload, trailers dropped, next message not consumed");
    int all = 1;
    for (size_t k = 0; k <= n; k++) {
        decode_pieces(msg, n, &k, 1, 4096, &part);
        if (!same_decode(&whole, &part)) {
            printf("# split at %zu differs\n", k);
            all = 0;
        }
    }
    check(all, "chunked: split at every byte boundary gives the same payload");
    size_t cuts[sizeof msg];
    for (size_t k = 0; k < n; k++)
        cuts[k] = k + 1;
    decode_pieces(msg, n, cuts, n, 4096, &part);
    check(same_decode(&whole, &part), "chunked: byte at a time gives the same payload");
    all = 1;
    for (size_t a = 1; a < n && all; a += 3)
        for (size_t b2 = a; b2 < n && all; b2 += 5) {
            size_t c2[2] = {a, b2};
            decode_pieces(msg, n, c2, 2, 4096, &part);
            if (!same_decode(&whole, &part))
                all = 0;
        }
    check(all, "chunked: three pieces, many splits");

    /* One call stops before a second span. */
    {
        gw_http1_head h = chunked_head();
        gw_http1_body b;
        gw_http1_body_init(&b, &h, 0);
        const char *s = "1\r\na\r\n1\r\nb\r\n0\r\n\r\n";
        const char *dp;
        size_t dl;
        ssize_t r = gw_http1_body_decode(&b, s, strlen(s), &dp, &dl);
        check(r == 9 && dl == 1 && *dp == 'a', "chunked: one span per call");
        ssize_t r2 = gw_http1_body_decode(&b, s + r, strlen(s) - (size_t)r, &dp, &dl);
        check(r2 == (ssize_t)(strlen(s) - (size_t)r) && dl == 1 && *dp == 'b' && b.done,
              "chunked: second span, then done");
    }
    /* An error after a span: the span is delivered first. */
    {
        gw_http1_head h = chunked_head();
        gw_http1_body b;
        gw_http1_body_init(&b, &h, 0);
        const char *s = "5\r\nhello\r\nZ\r\n";
        const char *dp;
        size_t dl;
        ssize_t r = gw_http1_body_decode(&b, s, strlen(s), &dp, &dl);
        ssize_t r2 = gw_http1_body_decode(&b, s + r, strlen(s) - (size_t)r, &dp, &dl);
        ssize_t r3 = gw_http1_body_decode(&b, s + r, strlen(s) - (size_t)r, &dp, &dl);
        check(r == 10 && r2 == GW_HTTP1_ERROR && r3 == GW_HTTP1_ERROR && b.error != NULL,
              "chunked: error after a span is reported on the next call, and sticks");
    }

    static const row good[] = {
        R("0\r\n\r\n", 0),
        R("7fffffffffffffff\r\n", 0), /* the largest size; data never comes */
        R("000000000000000a\r\n0123456789\r\n0\r\n\r\n", 0),
        R("A\r\n0123456789\r\n0\r\n\r\n", 0),
        R("1;\r\nx\r\n0\r\n\r\n", 0),
        R("1;a=b;c\r\nx\r\n0;last\r\n\r\n", 0),
        R("0\r\nA:\r\nB: c\r\n\r\n", 0),
    };
    all = 1;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        decode_whole(good[i].s, good[i].n, 4096, &whole);
        if (whole.error) {
            printf("# good chunked %zu: %s\n", i, whole.why);
            all = 0;
        }
    }
    check(all, "chunked: valid framings accepted");

    static const row bad[] = {
        R("\r\n", 1),                      /* empty size */
        R(";ext\r\n", 1),                  /* empty size with extension */
        R("g\r\n", 1),                     /* non-hex */
        R("0x5\r\n", 1),
        R("-1\r\n", 1),
        R("+1\r\n", 1),
        R(" 1\r\n", 1),
        R("1 \r\n", 1),
        R("1\t;a\r\n", 1),
        R("10000000000000000\r\n", 1),     /* 17 hex digits, overflow */
        R("00000000000000001\r\n", 1),     /* 17 digits even with zeros */
        R("8000000000000000\r\n", 1),      /* 2^63 */
        R("ffffffffffffffff\r\n", 1),
        R("1\nx\r\n", 1),                  /* bare LF after size */
        R("1\rx\r\n", 1),                  /* CR not followed by LF */
        R("1\r\nab\r\n", 1),               /* data not followed by CRLF */
        R("1\r\na\n0\r\n\r\n", 1),
        R("1\r\na\r0\r\n\r\n", 1),
        R("1;a\x01\r\nx\r\n", 1),          /* CTL in extension */
        R("1;a\nx\r\n", 1),
        R("0\r\nX: a\r\n b\r\n\r\n", 1),   /* obs-fold in trailer */
        R("0\r\nX a: b\r\n\r\n", 1),       /* space in trailer name */
        R("0\r\n: b\r\n\r\n", 1),
        R("0\r\nXa\r\n\r\n", 1),
        R("0\r\nX: a\n\r\n", 1),
        R("0\r\nX: a\x00\r\n\r\n", 1),
        R("0\r\nX: a\r\r\n", 1),
        R("0\r\n\rx", 1),
        R("0\r\n\n", 1),
    };
    all = 1;
    int inc = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        decode_whole(bad[i].s, bad[i].n, 4096, &whole);
        if (!whole.error || !whole.why) {
            printf("# bad chunked %zu accepted\n", i);
            all = 0;
        }
        for (size_t k = 0; k < bad[i].n; k++)
            cuts[k] = k + 1;
        decode_pieces(bad[i].s, bad[i].n, cuts, bad[i].n, 4096, &part);
        if (!same_decode(&whole, &part))
            inc = 0;
    }
    check(all, "chunked: malformed framings rejected");
    check(inc, "chunked: malformed framings fail the same byte at a time");

    /* Extensions are bounded per line. */
    static char ext[6000];
    size_t m = (size_t)sprintf(ext, "1;");
    memset(ext + m, 'e', 4094);
    m += 4094;
    m += (size_t)sprintf(ext + m, "\r\nx\r\n0\r\n\r\n");
    decode_whole(ext, m, 0, &whole);
    check(!whole.error && whole.done, "chunk line of 4096 bytes accepted");
    m = (size_t)sprintf(ext, "1;");
    memset(ext + m, 'e', 4095);
    m += 4095;
    m += (size_t)sprintf(ext + m, "\r\nx\r\n0\r\n\r\n");
    decode_whole(ext, m, 0, &whole);
    check(whole.error, "chunk line of 4097 bytes rejected");
    m = (size_t)sprintf(ext, "1;");
    memset(ext + m, 'e', 5000);
    m += 5000;
    m += (size_t)sprintf(ext + m, "\r\nx\r\n0\r\n\r\n");
    decode_whole(ext, m, 0, &whole);
    check(whole.error, "chunk extensions too long rejected");

    /* Trailers are bounded by max_trailer_bytes. */
    const char *tr = "0\r\nX-A: 0123456789\r\n\r\n"; /* 17 bytes of trailer */
    decode_whole(tr, strlen(tr), 17, &whole);
    check(!whole.error && whole.done, "trailer at the bound accepted");
    decode_whole(tr, strlen(tr), 16, &whole);
    check(whole.error, "trailer over the bound rejected");
    decode_whole("0\r\n\r\n", 5, 0, &whole);
    check(!whole.error && whole.done, "no trailers with a zero bound");
    static char many[8192];
    size_t mm = (size_t)sprintf(many, "0\r\n");
    for (int i = 0; i < 500; i++)
        mm += (size_t)sprintf(many + mm, "T%d: x\r\n", i);
    mm += (size_t)sprintf(many + mm, "\r\n");
    decode_whole(many, mm, 1024, &whole);
    check(whole.error, "many small trailers: total bounded");

    /* Until close and none. */
    {
        gw_http1_head h;
        memset(&h, 0, sizeof h);
        h.body = GW_BODY_UNTIL_CLOSE;
        gw_http1_body b;
        gw_http1_body_init(&b, &h, 0);
        const char *dp;
        size_t dl;
        ssize_t r = gw_http1_body_decode(&b, "abcdef", 6, &dp, &dl);
        check(r == 6 && dl == 6 && !b.done && b.received == 6, "until close: everything");
        h.body = GW_BODY_NONE;
        gw_http1_body_init(&b, &h, 0);
        r = gw_http1_body_decode(&b, "abcdef", 6, &dp, &dl);
        check(b.done && r == 0 && dl == 0, "none: done at once, nothing consumed");
    }
}

/* ---- helpers ------------------------------------------------------------- */

static gw_str S(const char *s)
{
    gw_str r = {s, strlen(s)};
    return r;
}

static void test_helpers(void)
{
    static parsed x;
    parse_req(&x, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Foo ,\r\n"
                  "Connection: x-bar\r\nX-Foo: 1\r\nX-Baz: 2\r\n\r\n");
    check(x.r > 0, "hop-by-hop: head parses");
    static const char *hop[] = {"Connection", "keep-alive", "Proxy-Connection", "TE", "Trailer",
                                "Transfer-Encoding", "UPGRADE", "Proxy-Authenticate",
                                "proxy-authorization", "x-foo", "X-Bar", "close"};
    static const char *end[] = {"Host", "X-Baz", "Content-Length", "X-Fo", "X-Foo2", "T",
                                "Trailers", "Keep-Alive2", ""};
    int all = 1;
    for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
        if (!gw_http1_is_hop_by_hop(&x.h, S(hop[i]))) {
            printf("# %s should be hop-by-hop\n", hop[i]);
            all = 0;
        }
    for (size_t i = 0; i < sizeof end / sizeof end[0]; i++)
        if (gw_http1_is_hop_by_hop(&x.h, S(end[i]))) {
            printf("# %s should be end-to-end\n", end[i]);
            all = 0;
        }
    check(all, "hop-by-hop: static list and names listed in Connection");
    check(gw_http1_is_hop_by_hop(NULL, S("te")) && !gw_http1_is_hop_by_hop(NULL, S("x-foo")),
          "hop-by-hop without a head");

    check(gw_str_ieq(S("Content-Length"), "content-length") && gw_str_ieq(S(""), "") &&
              !gw_str_ieq(S("Content"), "content-length") &&
              !gw_str_ieq(S("content-length"), "content") && !gw_str_ieq(S("a"), "b"),
          "gw_str_ieq");
    gw_str nul = {"ab\0", 3};
    check(!gw_str_ieq(nul, "ab"), "gw_str_ieq: embedded NUL does not match the terminator");

    static const int codes[] = {100, 101, 200, 201, 202, 203, 204, 205, 206, 301, 302, 303, 304,
                                307, 308, 400, 401, 403, 404, 405, 408, 411, 413, 414, 415, 417,
                                426, 429, 431, 500, 501, 502, 503, 504, 505};
    all = 1;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(gw_http1_reason(codes[i]), "Unknown") == 0)
            all = 0;
    check(all && strcmp(gw_http1_reason(400), "Bad Request") == 0 &&
              strcmp(gw_http1_reason(200), "OK") == 0 &&
              strcmp(gw_http1_reason(799), "Unknown") == 0 &&
              strcmp(gw_http1_reason(-1), "Unknown") == 0,
          "gw_http1_reason");
}

/* ---- micro-benchmark ----------------------------------------------------- */

static void bench(void)
{
    const char *s =
        "GET /assets/app/main.3f9a2c.js?v=20240611 HTTP/1.1\r\n"
        "Host: www.example.com\r\n"
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0\r\n"
        "Accept: */*\r\n"
        "Accept-Language: en-US,en;q=0.5\r\n"
        "Accept-Encoding: gzip, deflate, br, zstd\r\n"
        "Referer: https://www.example.com/products/list?page=2\r\n"
        "Connection: keep-alive\r\n"
        "Cookie: sid=8f2d1c0b7a6e; theme=dark\r\n"
        "Sec-Fetch-Dest: script\r\n"
        "Sec-Fetch-Mode: no-cors\r\n"
        "\r\n";
    size_t n = strlen(s);
    static parsed x;
    enum { ITERS = 1000000 };
    struct timespec t0, t1;
    size_t sum = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < ITERS; i++) {
        gw_http1_parser_init(&x.p, false, &limits, x.hdr, CAP);
        sum += (size_t)gw_http1_parse_head(&x.p, s, n, &x.h);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / ITERS;
    check(sum == (size_t)ITERS * n && x.h.n_headers == 10, "benchmark head parses");
    printf("# bench: %zu-byte request head, %d parses: %.1f ns/parse\n", n, (int)ITERS, ns);
}

int main(void)
{
    test_get();
    test_post_length();
    test_chunked_request();
    test_pipelined();
    test_connection();
    test_table();
    test_limits();
    test_responses();
    test_chunked_decoder();
    test_helpers();
    bench();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
