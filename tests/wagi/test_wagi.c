/*
 * test_wagi.c — tests of the WAGI handler (src/wagi, wagi.h) with the real
 * engine and the guests of tests/wagi/ (built by tests/wagi/suite.sh into
 * $WAGI_WASM, default build/tests/wagi).
 *
 * Builds wagi_request values by hand and checks the wagi_response: the CGI
 * environment and argv, stdin, stdout parsing (documents, redirects, bad
 * output), the failure rules (trap, deadline, exit codes, memory limit,
 * output cap), stderr to the log, load-time errors, 4 threads sharing a
 * handler. Then measures (never asserts) the time per wagi_handler_run for
 * hello and the share of it spent creating the WASI context and instance.
 * Prints "ok - X" / "not ok - X" lines and ends with "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sluice/vm.h>

#include "tap.h"
#include "wagi.h"
#include "wagi_int.h" /* the timing section looks at h->module and h->linker */
#include "wasi.h"

static const char *wasm_dir;
static sl_engine *engine;

/* ---- helpers ------------------------------------------------------------------- */

/* check() with a formatted name; control bytes in it are shown escaped so
 * every result stays on one line. */
static void checkf(int cond, const char *fmt, ...)
{
    char raw[512], name[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)raw; *p && k + 5 < sizeof name; p++) {
        if (*p == '\n' || *p == '\r') {
            name[k++] = '\\';
            name[k++] = *p == '\n' ? 'n' : 'r';
        } else if (*p < 0x20 || *p == 0x7f) {
            k += (size_t)snprintf(name + k, sizeof name - k, "\\x%02x", *p);
        } else {
            name[k++] = (char)*p;
        }
    }
    name[k] = '\0';
    check(cond, name);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *wasm_path(const char *name)
{
    static char buf[8][512];
    static int k;
    char *b = buf[k++ & 7];
    snprintf(b, 512, "%s/%s.wasm", wasm_dir, name);
    return b;
}

/* Loads a handler for guest `name` on route "/name" (conf may be NULL). */
static wagi_handler *load(const char *name, wagi_handler_conf *conf, char *err, size_t n)
{
    wagi_handler_conf c = {0};
    if (conf)
        c = *conf;
    c.module_path = wasm_path(name);
    if (!c.route)
        c.route = "/test/...";
    return wagi_handler_new(engine, &c, err, n);
}

static wagi_handler *must_load(const char *name, wagi_handler_conf *conf)
{
    char err[512] = "";
    wagi_handler *h = load(name, conf, err, sizeof err);
    if (!h)
        checkf(0, "load %s: %s", name, err);
    return h;
}

typedef struct hdrs {
    wagi_header h[32];
    size_t n;
} hdrs;

static void add_hdr(hdrs *hs, const char *name, const char *value)
{
    hs->h[hs->n++] = (wagi_header){name, strlen(name), value, strlen(value)};
}

static wagi_request mkreq(const char *method, const char *target, const char *script,
                          const hdrs *hs)
{
    wagi_request r = {
        .method = method,
        .method_len = strlen(method),
        .target = target,
        .target_len = strlen(target),
        .script_name = script,
        .script_name_len = strlen(script),
        .server_protocol = "HTTP/1.1",
        .remote_addr = "10.1.2.3",
        .scheme = "http",
        .default_host = "localhost",
        .default_port = 3000,
        .headers = hs ? hs->h : NULL,
        .n_headers = hs ? hs->n : 0,
    };
    return r;
}

/* Runs and returns a NUL-terminated copy of the body in *body (owned). */
static int run(const wagi_handler *h, const wagi_request *rq, wagi_response *resp, char **body)
{
    memset(resp, 0, sizeof *resp);
    int rc = wagi_handler_run(h, rq, resp);
    if (body) {
        *body = malloc(resp->body_len + 1);
        memcpy(*body, resp->body ? (const void *)resp->body : "", resp->body_len);
        (*body)[resp->body_len] = '\0';
    }
    return rc;
}

static int run_get(const wagi_handler *h, const char *target, wagi_response *resp, char **body)
{
    wagi_request rq = mkreq("GET", target, "/test", NULL);
    return run(h, &rq, resp, body);
}

/* The value of NAME in an env-module body ("NAME=value" lines), or NULL. */
static const char *env_of(const char *body, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = body; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            size_t vl = len - nl - 1 < cap - 1 ? len - nl - 1 : cap - 1;
            memcpy(out, p + nl + 1, vl);
            out[vl] = '\0';
            return out;
        }
        p = e ? e + 1 : p + len;
    }
    return NULL;
}

static void check_env(const char *body, const char *name, const char *want, const char *ctx)
{
    char v[1024];
    const char *got = env_of(body, name, v, sizeof v);
    if (!want)
        checkf(got == NULL, "%s: %s unset (got \"%s\")", ctx, name, got ? got : "");
    else
        checkf(got && !strcmp(got, want), "%s: %s=\"%s\" (got \"%s\")", ctx, name, want,
               got ? got : "(unset)");
}

static int count_lines(const char *body, const char *prefix)
{
    int n = 0;
    size_t pl = strlen(prefix);
    for (const char *p = body; p && *p;) {
        if (!strncmp(p, prefix, pl))
            n++;
        const char *e = strchr(p, '\n');
        p = e ? e + 1 : p + strlen(p);
    }
    return n;
}

static bool headers_are(const wagi_response *r, const char *want)
{
    size_t n = strlen(want);
    return r->headers.len == n && (!n || !memcmp(r->headers.data, want, n));
}

/* ---- environment ------------------------------------------------------------------ */

static void test_env(void)
{
    wagi_kv env[] = {{"FOO", "bar"},
                     {"SERVER_SOFTWARE", "evil"},
                     {"HTTP_X_A", "configured"},
                     {"HTTP_X_B", "configured"},
                     {"EMPTY", ""},
                     {"FOO", "later wins"}};
    wagi_handler_conf c = {.route = "/env/...", .env = env, .n_env = 6};
    wagi_handler *h = must_load("env", &c);
    if (!h)
        return;
    wagi_response r;
    char *b;

    /* the worked example of docs/wagi-wasi-knative.md §2.1 */
    hdrs hs = {0};
    add_hdr(&hs, "Host", "ex.com:8080");
    add_hdr(&hs, "X-Test-Header", "hello");
    add_hdr(&hs, "Authorization", "Bearer secret");
    add_hdr(&hs, "Connection", "keep-alive");
    add_hdr(&hs, "Accept", "text/html");
    add_hdr(&hs, "accept", "application/json");
    add_hdr(&hs, "Cookie", "a=1");
    add_hdr(&hs, "Cookie", "b=2");
    add_hdr(&hs, "X-A", "from request");
    add_hdr(&hs, "X-Ctl", "bad\001value");
    add_hdr(&hs, "X-Obs", "caf\xc3\xa9");
    add_hdr(&hs, "Bad Name", "x");
    wagi_request rq = mkreq("GET", "/env/a%2Fb?x=1&y=2", "/env", &hs);
    run(h, &rq, &r, &b);
    const char *ctx = "env (GET /env/a%2Fb?x=1&y=2)";
    checkf(r.status == 200 && !r.error, "%s: 200", ctx);
    check_env(b, "AUTH_TYPE", "", ctx);
    check_env(b, "CONTENT_LENGTH", "0", ctx);
    check_env(b, "CONTENT_TYPE", "", ctx);
    check_env(b, "GATEWAY_INTERFACE", "CGI/1.1", ctx);
    check_env(b, "PATH_INFO", "/a/b", ctx);
    check_env(b, "PATH_TRANSLATED", "/a/b", ctx);
    check_env(b, "QUERY_STRING", "x=1&y=2", ctx);
    check_env(b, "REMOTE_ADDR", "10.1.2.3", ctx);
    check_env(b, "REMOTE_HOST", "10.1.2.3", ctx);
    check_env(b, "REMOTE_USER", "", ctx);
    check_env(b, "REQUEST_METHOD", "GET", ctx);
    check_env(b, "SCRIPT_NAME", "/env", ctx);
    check_env(b, "SERVER_NAME", "ex.com", ctx);
    check_env(b, "SERVER_PORT", "8080", ctx);
    check_env(b, "SERVER_PROTOCOL", "HTTP/1.1", ctx);
    check_env(b, "SERVER_SOFTWARE", "sluice", ctx);
    check_env(b, "X_MATCHED_ROUTE", "/env/...", ctx);
    check_env(b, "X_FULL_URL", "http://ex.com:8080/env/a%2Fb?x=1&y=2", ctx);
    check_env(b, "X_RAW_PATH_INFO", "/a%2Fb", ctx);
    check_env(b, "HTTP_HOST", "ex.com:8080", ctx);
    check_env(b, "HTTP_X_TEST_HEADER", "hello", ctx);
    check_env(b, "HTTP_AUTHORIZATION", NULL, ctx);
    check_env(b, "HTTP_CONNECTION", NULL, ctx);
    check_env(b, "HTTP_ACCEPT", "text/html, application/json", ctx);
    check_env(b, "HTTP_COOKIE", "a=1; b=2", ctx);
    check_env(b, "HTTP_X_A", "from request", ctx);
    check_env(b, "HTTP_X_B", "configured", ctx);
    check_env(b, "HTTP_X_CTL", "CORRUPT VALUE", ctx);
    check_env(b, "HTTP_X_OBS", "CORRUPT VALUE", ctx);
    check_env(b, "FOO", "later wins", ctx);
    check_env(b, "EMPTY", "", ctx);
    checkf(count_lines(b, "HTTP_ACCEPT=") == 1 && count_lines(b, "HTTP_X_A=") == 1 &&
               count_lines(b, "SERVER_SOFTWARE=") == 1 && count_lines(b, "FOO=") == 1,
           "%s: every name once", ctx);
    checkf(count_lines(b, "HTTP_BAD") == 0, "%s: a header name that is not a token is skipped",
           ctx);
    wagi_response_free(&r);
    free(b);

    /* POST with a body: CONTENT_TYPE is the real Content-Type */
    hdrs hp = {0};
    add_hdr(&hp, "Host", "api.example");
    add_hdr(&hp, "Content-Type", "application/json; charset=utf-8");
    add_hdr(&hp, "Content-Length", "13");
    rq = mkreq("POST", "/env", "/env", &hp);
    rq.body = (const uint8_t *)"{\"a\": \"b\"}  ";
    rq.body_len = 13;
    rq.scheme = "https";
    rq.server_protocol = "HTTP/1.0";
    run(h, &rq, &r, &b);
    ctx = "env (POST /env, exact route, Host without port)";
    check_env(b, "CONTENT_TYPE", "application/json; charset=utf-8", ctx);
    check_env(b, "CONTENT_LENGTH", "13", ctx);
    check_env(b, "HTTP_CONTENT_TYPE", "application/json; charset=utf-8", ctx);
    check_env(b, "REQUEST_METHOD", "POST", ctx);
    check_env(b, "PATH_INFO", "", ctx);
    check_env(b, "X_RAW_PATH_INFO", "", ctx);
    check_env(b, "QUERY_STRING", "", ctx);
    check_env(b, "SERVER_NAME", "api.example", ctx);
    check_env(b, "SERVER_PORT", "3000", ctx);
    check_env(b, "SERVER_PROTOCOL", "HTTP/1.0", ctx);
    check_env(b, "X_FULL_URL", "https://api.example:3000/env", ctx);
    check_env(b, "HTTP_X_A", "configured", ctx);
    wagi_response_free(&r);
    free(b);

    /* no Host: default host and port; route "/..." has SCRIPT_NAME "" */
    rq = mkreq("GET", "/x/%C3%A9%20y?q", "", NULL);
    rq.default_host = "gw.local";
    rq.default_port = 8443;
    run(h, &rq, &r, &b);
    ctx = "env (no Host, SCRIPT_NAME \"\")";
    check_env(b, "SERVER_NAME", "gw.local", ctx);
    check_env(b, "SERVER_PORT", "8443", ctx);
    check_env(b, "SCRIPT_NAME", "", ctx);
    check_env(b, "PATH_INFO", "/x/\xc3\xa9 y", ctx);
    check_env(b, "X_RAW_PATH_INFO", "/x/%C3%A9%20y", ctx);
    check_env(b, "QUERY_STRING", "q", ctx);
    check_env(b, "X_FULL_URL", "http://gw.local:8443/x/%C3%A9%20y?q", ctx);
    wagi_response_free(&r);
    free(b);

    /* a decoded control byte makes PATH_INFO corrupt; IPv6 Host */
    hdrs h6 = {0};
    add_hdr(&h6, "Host", "[::1]:9090");
    rq = mkreq("GET", "/env/a%00b", "/env", &h6);
    run(h, &rq, &r, &b);
    ctx = "env (PATH_INFO with %00, IPv6 Host)";
    check_env(b, "PATH_INFO", "CORRUPT VALUE", ctx);
    check_env(b, "PATH_TRANSLATED", "CORRUPT VALUE", ctx);
    check_env(b, "X_RAW_PATH_INFO", "/a%00b", ctx);
    check_env(b, "SERVER_NAME", "[::1]", ctx);
    check_env(b, "SERVER_PORT", "9090", ctx);
    wagi_response_free(&r);
    free(b);
    wagi_handler_free(h);
}

/* ---- argv -------------------------------------------------------------------- */

static void test_argv(void)
{
    wagi_handler *h = must_load("argv", NULL);
    wagi_response r;
    char *b;
    if (h) {
        run_get(h, "/test/x%20y?a=1&b&&c=3", &r, &b);
        checkf(r.status == 200 && !strcmp(b, "argc=5\nargv[0]=[/test/x%20y]\nargv[1]=[a=1]\n"
                                             "argv[2]=[b]\nargv[3]=[]\nargv[4]=[c=3]\n"),
               "argv default: path, then the query split on '&' (got %s)", b);
        wagi_response_free(&r);
        free(b);
        run_get(h, "/test/only", &r, &b);
        checkf(!strcmp(b, "argc=1\nargv[0]=[/test/only]\n"), "argv default, no query (got %s)",
               b);
        wagi_response_free(&r);
        free(b);
        wagi_handler_free(h);
    }
    wagi_handler_conf c = {.argv = "${SCRIPT_NAME} --flag  ${ARGS} x${ARGS}y"};
    h = must_load("argv", &c);
    if (h) {
        run_get(h, "/test/p?a=1&b", &r, &b);
        checkf(!strcmp(b, "argc=6\nargv[0]=[/test/p]\nargv[1]=[--flag]\nargv[2]=[a=1]\n"
                          "argv[3]=[b]\nargv[4]=[xa=1]\nargv[5]=[by]\n"),
               "argv template: ${SCRIPT_NAME} = path, ${ARGS} = query with & as space, split "
               "on whitespace (got %s)",
               b);
        wagi_response_free(&r);
        free(b);
        run_get(h, "/test/p", &r, &b);
        checkf(!strcmp(b, "argc=3\nargv[0]=[/test/p]\nargv[1]=[--flag]\nargv[2]=[xy]\n"),
               "argv template, no query: empty items vanish (got %s)", b);
        wagi_response_free(&r);
        free(b);
        wagi_handler_free(h);
    }
}

/* ---- stdin ----------------------------------------------------------------------- */

static void test_stdin(void)
{
    wagi_handler *h = must_load("echo", NULL);
    if (!h)
        return;
    const char head[] = "Content-Type: application/octet-stream\n\n";
    size_t n = 5u << 20, hl = sizeof head - 1;
    uint8_t *in = malloc(hl + n);
    memcpy(in, head, hl);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        in[hl + i] = (uint8_t)(x >> 16);
    }
    wagi_request rq = mkreq("POST", "/test", "/test", NULL);
    rq.body = in;
    rq.body_len = hl + n;
    wagi_response r;
    double t0 = now_s();
    run(h, &rq, &r, NULL);
    double dt = now_s() - t0;
    checkf(r.status == 200 && r.body_len == n && !memcmp(r.body, in + hl, n),
           "stdin: a 5 MiB binary body comes back byte for byte (%.1f ms)", dt * 1e3);
    wagi_response_free(&r);

    /* output cap */
    wagi_handler_conf c = {.max_output_bytes = 1000};
    wagi_handler *hc = must_load("echo", &c);
    if (hc) {
        rq.body_len = 1000;
        run(hc, &rq, &r, NULL);
        checkf(r.status == 200 && r.body_len == 1000 - hl, "output cap: exactly at the cap is fine");
        wagi_response_free(&r);
        rq.body_len = 1001;
        run(hc, &rq, &r, NULL);
        checkf(r.status == 500 && r.error && strstr(r.error, "max_output_bytes"),
               "output cap: one byte over → 500 (%s)", r.error ? r.error : "no error");
        wagi_response_free(&r);
        wagi_handler_free(hc);
    }
    free(in);
    wagi_handler_free(h);

    c = (wagi_handler_conf){.max_output_bytes = 100000, .timeout_ms = 10000};
    hc = must_load("loop", &c);
    if (hc) {
        t0 = now_s();
        run_get(hc, "/test?spew", &r, NULL);
        dt = now_s() - t0;
        checkf(r.status == 500 && r.error && strstr(r.error, "max_output_bytes") && dt < 5,
               "output cap: a guest writing forever is stopped → 500 in %.1f ms, not 504",
               dt * 1e3);
        wagi_response_free(&r);
        wagi_handler_free(hc);
    }
}

/* ---- stdout parsing with the echo guest --------------------------------------------- */

typedef struct parse_case {
    const char *name;
    const char *out; /* what the module prints */
    size_t out_len;  /* 0 = strlen */
    int status;
    const char *headers; /* NULL = do not check */
    const char *body;    /* NULL = do not check */
    const char *local;   /* expected local_redirect, NULL = none */
    size_t body_len;     /* 0 = strlen(body) */
} parse_case;

#define BIN_OUT "Content-Type: b\n\n\0\1\2\n\n\0"
#define NUL_OUT "Content-Type: a\nX: a\0b\n\n"

static void test_parse(void)
{
    static const parse_case cases[] = {
        {"LF LF", "Content-Type: text/plain\n\nhi\r\n", 0, 200, "Content-Type: text/plain\r\n",
         "hi\r\n", NULL, 0},
        {"CRLF CRLF, CRs in the body kept", "Content-Type: a\r\n\r\nx\r\ny\r", 0, 200,
         "Content-Type: a\r\n", "x\r\ny\r", NULL, 0},
        {"CRLF LF", "Content-Type: a\r\n\nB", 0, 200, "Content-Type: a\r\n", "B", NULL, 0},
        {"LF CRLF", "Content-Type: a\n\r\nB", 0, 200, "Content-Type: a\r\n", "B", NULL, 0},
        {"binary body with NULs", BIN_OUT, sizeof BIN_OUT - 1, 200, NULL, "\0\1\2\n\n\0", NULL, 6},
        {"OWS trimmed", "Content-Type:   text/x  \t\nX-A:b\n\n", 0, 200,
         "Content-Type: text/x\r\nX-A: b\r\n", "", NULL, 0},
        {"obs-text value kept", "Content-Type: a\nX-Name: caf\xc3\xa9\n\n", 0, 200,
         "Content-Type: a\r\nX-Name: caf\xc3\xa9\r\n", "", NULL, 0},
        {"no blank line → 500", "Content-Type: a\n", 0, 500, NULL, NULL, NULL, 0},
        {"empty output → 500", "", 0, 500, NULL, NULL, NULL, 0},
        {"only a body → 500", "hello\n\nworld", 0, 500, NULL, NULL, NULL, 0},
        {"Status with reason", "Status: 404 Not Found\nContent-Type: text/plain\n\nnf", 0, 404,
         "Content-Type: text/plain\r\n", "nf", NULL, 0},
        {"Status alone is enough", "Status: 204\n\n", 0, 204, "", "", NULL, 0},
        {"Status letters → 502", "Status: abc\nContent-Type: a\n\n", 0, 502, NULL, NULL, NULL, 0},
        {"Status 2 digits → 502", "Status: 99\n\n", 0, 502, NULL, NULL, NULL, 0},
        {"Status 4 digits → 502", "Status: 2000\n\n", 0, 502, NULL, NULL, NULL, 0},
        {"Status 1xx → 502", "Status: 101\n\n", 0, 502, NULL, NULL, NULL, 0},
        {"Location then Status 301", "Location: http://x/\nStatus: 301\n\n", 0, 301,
         "Location: http://x/\r\n", "", NULL, 0},
        {"Status 301 then Location", "Status: 301\nLocation: http://x/\n\n", 0, 301,
         "Location: http://x/\r\n", "", NULL, 0},
        {"Location alone → 302", "Location: https://example.com/a?b\n\n", 0, 302,
         "Location: https://example.com/a?b\r\n", "", NULL, 0},
        {"local redirect", "Location: /next?x=1\n\n", 0, 302, "Location: /next?x=1\r\n", "",
         "/next?x=1", 0},
        {"local redirect with Content-Length: 0", "Location: /n\nContent-Length: 0\n\n", 0, 302,
         NULL, "", "/n", 0},
        {"//host Location is a client redirect", "Location: //evil/x\n\n", 0, 302, NULL, "",
         NULL, 0},
        {"Location + other header: client redirect", "Location: /x\nSet-Cookie: a=b\n\n", 0,
         302, "Location: /x\r\nSet-Cookie: a=b\r\n", "", NULL, 0},
        {"Location + body: client redirect", "Location: /x\n\nbody", 0, 302, NULL, "body",
         NULL, 0},
        {"Location + Status: no local redirect", "Location: /x\nStatus: 303\n\n", 0, 303, NULL,
         "", NULL, 0},
        {"repeated headers kept in order",
         "Set-Cookie: a=1\nContent-Type: t\nSet-Cookie: b=2\nX: 1\nx: 2\n\n", 0, 200,
         "Set-Cookie: a=1\r\nContent-Type: t\r\nSet-Cookie: b=2\r\nX: 1\r\nx: 2\r\n", "", NULL, 0},
        {"Content-Length and Transfer-Encoding dropped",
         "Content-Type: t\nContent-Length: 2\nTransfer-Encoding: chunked\n\nab", 0, 200,
         "Content-Type: t\r\n", "ab", NULL, 0},
        {"Content-Length mismatch on success: body as sent",
         "Content-Type: t\nContent-Length: 10\n\nab", 0, 200, "Content-Type: t\r\n", "ab", NULL, 0},
        {"bad Content-Length → 500", "Content-Type: t\nContent-Length: 1x\n\nab", 0, 500, NULL,
         NULL, NULL, 0},
        {"two different Content-Length → 500",
         "Content-Type: t\nContent-Length: 2\nContent-Length: 3\n\nab", 0, 500, NULL, NULL, NULL, 0},
        {"name with a space → 500", "Content-Type: a\nBad Name: x\n\n", 0, 500, NULL, NULL, NULL, 0},
        {"empty name → 500", "Content-Type: a\n: x\n\n", 0, 500, NULL, NULL, NULL, 0},
        {"folded line → 500", "Content-Type: a\n  folded\n\n", 0, 500, NULL, NULL, NULL, 0},
        {"line without ':' → 500", "Content-Type: a\nnocolon\n\n", 0, 500, NULL, NULL, NULL, 0},
        {"DEL in a value → 500", "Content-Type: a\nX: a\x7f\n\n", 0, 500, NULL, NULL, NULL, 0},
        {"NUL in a value → 500", NUL_OUT, sizeof NUL_OUT - 1, 500, NULL, NULL, NULL, 0},
        {"CR inside a header line is ignored", "Content-Type: te\rxt\n\n", 0, 200,
         "Content-Type: text\r\n", "", NULL, 0},
        {"Content-Type twice → 500", "Content-Type: a\nContent-Type: b\n\n", 0, 500, NULL, NULL,
         NULL, 0},
        {"Status twice → 500", "Status: 200\nstatus: 201\nContent-Type: a\n\n", 0, 500, NULL,
         NULL, NULL, 0},
        {"empty Location → 500", "Location:\n\n", 0, 500, NULL, NULL, NULL, 0},
        {"leading blank line → 500 (no headers)", "\nContent-Type: a\n\nx", 0, 500, NULL, NULL,
         NULL, 0},
    };
    wagi_handler *h = must_load("echo", NULL);
    if (!h)
        return;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const parse_case *pc = &cases[i];
        size_t ol = pc->out_len ? pc->out_len : strlen(pc->out);
        wagi_request rq = mkreq("POST", "/test", "/test", NULL);
        rq.body = (const uint8_t *)pc->out;
        rq.body_len = ol;
        wagi_response r;
        run(h, &rq, &r, NULL);
        bool ok = r.status == pc->status;
        if (pc->status >= 500)
            ok = ok && r.error != NULL && r.body_len > 0;
        else
            ok = ok && r.error == NULL;
        if (pc->headers)
            ok = ok && headers_are(&r, pc->headers);
        if (pc->body) {
            size_t bl = pc->body_len ? pc->body_len : strlen(pc->body);
            ok = ok && r.body_len == bl && !memcmp(r.body, pc->body, bl);
        }
        if (pc->local)
            ok = ok && r.local_redirect && !strcmp(r.local_redirect, pc->local);
        else
            ok = ok && !r.local_redirect;
        checkf(ok, "stdout: %s (status %d, error %s%s%s)", pc->name, r.status,
               r.error ? r.error : "none", r.detail[0] ? ": " : "", r.detail);
        wagi_response_free(&r);
    }
    wagi_handler_free(h);
}

/* ---- the dedicated guests ------------------------------------------------------------ */

static void first_line_log(void *user, const char *route, const char *line, size_t len)
{
    (void)route;
    char *dst = user;
    if (!dst[0])
        snprintf(dst, 256, "%.*s", (int)len, line);
}

static void test_guests(void)
{
    wagi_response r;
    char *b;
    wagi_handler *h = must_load("hello", NULL);
    if (h) {
        run_get(h, "/test", &r, &b);
        checkf(r.status == 200 && !r.error && !strcmp(b, "hello, world\n") &&
                   headers_are(&r, "Content-Type: text/plain\r\n"),
               "hello: 200, Content-Type, body");
        wagi_response_free(&r);
        free(b);
        wagi_handler_free(h);
    }

    if ((h = must_load("status", NULL))) {
        run_get(h, "/test?404%20Not%20Found", &r, &b);
        checkf(r.status == 404 && !strcmp(b, "status body\n"), "status: Status: 404 Not Found");
        wagi_response_free(&r);
        free(b);
        run_get(h, "/test?201", &r, NULL);
        checkf(r.status == 201, "status: Status: 201");
        wagi_response_free(&r);
        run_get(h, "/test?5xx", &r, NULL);
        checkf(r.status == 502 && r.error, "status: Status: 5xx → 502");
        wagi_response_free(&r);
        wagi_handler_free(h);
    }

    if ((h = must_load("redirect", NULL))) {
        static const struct {
            const char *q;
            int status;
            const char *headers, *local, *body;
        } rc[] = {
            {"abs", 302, "Location: http://example.com/next\r\n", NULL, ""},
            {"abs301", 301, "Location: http://example.com/moved\r\n", NULL, ""},
            {"loc301", 301, "Location: http://example.com/moved\r\n", NULL, ""},
            {"local", 302, "Location: /other\r\n", "/other", ""},
            {"localq", 302, "Location: /other?a=b\r\n", "/other?a=b", ""},
            {"netpath", 302, "Location: //evil.example/x\r\n", NULL, ""},
            {"doc", 302, "Location: http://example.com/doc\r\nContent-Type: text/html\r\n", NULL,
             "<a href=x>x</a>\n"},
        };
        for (size_t i = 0; i < sizeof rc / sizeof rc[0]; i++) {
            char t[64];
            snprintf(t, sizeof t, "/test?%s", rc[i].q);
            run_get(h, t, &r, &b);
            bool ok = r.status == rc[i].status && headers_are(&r, rc[i].headers) &&
                      !strcmp(b, rc[i].body) &&
                      (rc[i].local ? r.local_redirect && !strcmp(r.local_redirect, rc[i].local)
                                   : !r.local_redirect);
            checkf(ok, "redirect %s: %d%s%s (got %d, local %s)", rc[i].q, rc[i].status,
                   rc[i].local ? ", local redirect to " : "", rc[i].local ? rc[i].local : "",
                   r.status, r.local_redirect ? r.local_redirect : "none");
            wagi_response_free(&r);
            free(b);
        }
        wagi_handler_free(h);
    }

    if ((h = must_load("headers", NULL))) {
        run_get(h, "/test", &r, &b);
        checkf(r.status == 200 && !strcmp(b, "ok\n") &&
                   headers_are(&r, "Content-Type: text/plain\r\nSet-Cookie: a=1; Path=/\r\n"
                                   "X-Custom: yes\r\nSet-Cookie: b=2\r\n"),
               "headers: two Set-Cookie kept in order, custom header, no Content-Length (%s)",
               r.headers.data ? r.headers.data : "");
        wagi_response_free(&r);
        free(b);
        wagi_handler_free(h);
    }

    if ((h = must_load("badheader", NULL))) {
        run_get(h, "/test", &r, &b);
        checkf(r.status == 500 && r.error && strstr(r.error, "header value") &&
                   !strstr(b, "body") && !strstr(r.headers.data ? r.headers.data : "", "X-Bad"),
               "badheader: control byte in a value → 500 (%s: %s)", r.error ? r.error : "",
               r.detail);
        wagi_response_free(&r);
        free(b);
        wagi_handler_free(h);
    }

    if ((h = must_load("noheaders", NULL))) {
        run_get(h, "/test", &r, &b);
        checkf(r.status == 500 && r.error && !strstr(b, "just a body"),
               "noheaders: no CGI header → 500, module output not sent (%s)",
               r.error ? r.error : "");
        wagi_response_free(&r);
        free(b);
        wagi_handler_free(h);
    }

    if ((h = must_load("trap", NULL))) {
        run_get(h, "/test", &r, &b);
        checkf(r.status == 500 && r.error && strstr(r.detail, "unreachable") &&
                   !strstr(b, "before the trap"),
               "trap: 500, trap message in detail (%s: %s)", r.error ? r.error : "", r.detail);
        wagi_response_free(&r);
        free(b);
        wagi_handler_free(h);
    }

    if ((h = must_load("exit", NULL))) {
        run_get(h, "/test?partial", &r, &b);
        checkf(r.status == 500 && r.error && strstr(r.detail, "3") && !strstr(b, "hello"),
               "exit(3) after partial output (Content-Length not met) → 500 (%s: %s)",
               r.error ? r.error : "", r.detail);
        wagi_response_free(&r);
        free(b);
        run_get(h, "/test?complete", &r, &b);
        checkf(r.status == 200 && !r.error && !strcmp(b, "hello"),
               "exit(3) after complete output (Content-Length met) → the module's response");
        wagi_response_free(&r);
        free(b);
        run_get(h, "/test?noend", &r, NULL);
        checkf(r.status == 500 && r.error, "exit(3) inside the header section → 500");
        wagi_response_free(&r);
        run_get(h, "/test?zero", &r, &b);
        checkf(r.status == 200 && !r.error && !strcmp(b, "bye\n"),
               "exit(0) (proc_exit(0)) is success");
        wagi_response_free(&r);
        free(b);
        run_get(h, "/test", &r, NULL);
        checkf(r.status == 500 && r.error, "exit(3) with no output → 500");
        wagi_response_free(&r);
        wagi_handler_free(h);
    }

    static char hog_log[256];
    wagi_handler_conf c = {.max_memory_pages = 64, /* 4 MiB */
                           .log = first_line_log, .log_user = hog_log};
    if ((h = must_load("memhog", &c))) {
        run_get(h, "/test?n=2", &r, &b);
        checkf(r.status == 200 && !strcmp(b, "allocated 2 MiB\n"),
               "memhog: 2 MiB under a 4 MiB limit → 200 (%d %s)", r.status, b);
        wagi_response_free(&r);
        free(b);
        run_get(h, "/test", &r, NULL);
        checkf(r.status == 500 && r.error, "memhog: allocating until failure under 4 MiB → 500 (%d %s %s)",
               r.status, r.error ? r.error : "", r.detail);
        checkf(!strncmp(hog_log, "malloc failed after ", 20) && atoi(hog_log + 20) < 4,
               "memhog: memory.grow was refused below 4 MiB (log: %s)", hog_log);
        wagi_response_free(&r);
        wagi_handler_free(h);
    }

    if ((h = must_load("counter", NULL))) {
        bool all1 = true;
        for (int i = 0; i < 5; i++) {
            run_get(h, "/test", &r, &b);
            all1 = all1 && r.status == 200 && !strcmp(b, "1\n");
            wagi_response_free(&r);
            free(b);
        }
        check(all1, "counter: a fresh instance per request (always 1)");
        wagi_handler_free(h);
    }

    c = (wagi_handler_conf){.entrypoint = "handler"};
    if ((h = must_load("entry", &c))) {
        run_get(h, "/test", &r, &b);
        checkf(r.status == 200 && !strcmp(b, "custom entrypoint\n"),
               "entrypoint: a custom export is called");
        wagi_response_free(&r);
        free(b);
        wagi_handler_free(h);
    }
}

/* ---- deadline -------------------------------------------------------------------------- */

static void test_timeout(void)
{
    wagi_handler_conf c = {.timeout_ms = 200};
    wagi_handler *h = must_load("loop", &c);
    if (!h)
        return;
    wagi_response r;
    double t0 = now_s();
    run_get(h, "/test", &r, NULL);
    double dt = now_s() - t0;
    checkf(r.status == 504 && r.error && dt >= 0.195 && dt < 2.0,
           "timeout: an endless loop with timeout_ms 200 → 504 after %.0f ms", dt * 1e3);
    wagi_response_free(&r);
    /* the handler still works afterwards, and a fast run is not hit */
    wagi_handler *hh = must_load("hello", &c);
    if (hh) {
        run_get(hh, "/test", &r, NULL);
        checkf(r.status == 200, "timeout: a quick request under the same deadline is 200");
        wagi_response_free(&r);
        wagi_handler_free(hh);
    }
    wagi_handler_free(h);
}

/* ---- stderr ------------------------------------------------------------------------------- */

typedef struct logcap {
    char lines[16][5100];
    size_t len[16];
    char route[64];
    int n;
} logcap;

static void log_cb(void *user, const char *route, const char *line, size_t len)
{
    logcap *lc = user;
    if (lc->n < 16) {
        memcpy(lc->lines[lc->n], line, len < 5099 ? len : 5099);
        lc->lines[lc->n][len < 5099 ? len : 5099] = '\0';
        lc->len[lc->n] = len;
        snprintf(lc->route, sizeof lc->route, "%s", route);
    }
    lc->n++;
}

static void test_stderr(void)
{
    static logcap lc;
    wagi_handler_conf c = {.route = "/logs", .log = log_cb, .log_user = &lc};
    wagi_handler *h = must_load("stderr", &c);
    if (!h)
        return;
    wagi_response r;
    char *b;
    run_get(h, "/test", &r, &b);
    checkf(r.status == 200 && !strcmp(b, "logged\n"), "stderr: the response is unaffected");
    bool ok = lc.n == 6 && !strcmp(lc.lines[0], "line one") && !strcmp(lc.lines[1], "line two") &&
              !strcmp(lc.lines[2], "crlf line") && lc.len[3] == 4096 && lc.len[4] == 904 &&
              !strcmp(lc.lines[5], "partial") && !strcmp(lc.route, "/logs");
    checkf(ok, "stderr: lines reach the log callback (split, CR dropped, long line in "
               "pieces, last partial line flushed; got %d lines)",
           lc.n);
    wagi_response_free(&r);
    free(b);
    wagi_handler_free(h);

    /* default: the process's stderr, "wagi[ROUTE] line" */
    c = (wagi_handler_conf){.route = "/deflog"};
    h = must_load("stderr", &c);
    if (!h)
        return;
    char path[] = "/tmp/wagi-stderr-XXXXXX";
    int fd = mkstemp(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    run_get(h, "/test", &r, NULL);
    dup2(saved, 2);
    close(saved);
    char buf[16384] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    checkf(strstr(buf, "wagi[/deflog] line one\nwagi[/deflog] line two\n") &&
               strstr(buf, "wagi[/deflog] partial\n"),
           "stderr: without a callback, lines go to stderr as \"wagi[ROUTE] line\"");
    wagi_response_free(&r);
    wagi_handler_free(h);
}

/* ---- volumes ------------------------------------------------------------------------------------ */

static void test_volumes(void)
{
    char dir[] = "/tmp/wagi-vol-XXXXXX";
    if (!mkdtemp(dir)) {
        check(0, "volumes: mkdtemp");
        return;
    }
    char file[600];
    snprintf(file, sizeof file, "%s/hello.txt", dir);
    FILE *f = fopen(file, "w");
    fputs("from the volume\n", f);
    fclose(f);
    wagi_kv vols[] = {{dir, "/data"}};
    wagi_handler_conf c = {.volumes = vols, .n_volumes = 1};
    wagi_handler *h = must_load("readfile", &c);
    wagi_response r;
    char *b;
    if (h) {
        run_get(h, "/test", &r, &b);
        checkf(r.status == 200 && !strcmp(b, "from the volume\n"),
               "volumes: a preopened host directory is readable as /data");
        wagi_response_free(&r);
        free(b);
        wagi_handler_free(h);
    }
    if ((h = must_load("readfile", NULL))) {
        run_get(h, "/test", &r, NULL);
        checkf(r.status == 404, "volumes: without the volume the file is not there");
        wagi_response_free(&r);
        wagi_handler_free(h);
    }
    unlink(file);
    rmdir(dir);
}

/* ---- load-time errors ------------------------------------------------------------------------------ */

static void expect_load_error(const char *name, wagi_handler_conf *c, const char *what,
                              const char *needle1, const char *needle2)
{
    char err[512] = "";
    wagi_handler *h = load(name, c, err, sizeof err);
    checkf(!h && strstr(err, needle1) && (!needle2 || strstr(err, needle2)), "load error: %s (%s)",
           what, err);
    wagi_handler_free(h);
}

static void test_load_errors(void)
{
    expect_load_error("nonwasi", NULL, "a non-WASI import", "env.host_magic",
                      "wasi_snapshot_preview1");
    expect_load_error("outbound", NULL, "an outbound-HTTP import", "wasi_experimental_http.req",
                      "not implemented");
    wagi_handler_conf c = {.entrypoint = "nope"};
    expect_load_error("hello", &c, "missing entrypoint", "nope", NULL);
    c.entrypoint = "takes_arg";
    expect_load_error("entry", &c, "entrypoint with parameters", "takes_arg", "no parameters");
    c.entrypoint = "mem";
    expect_load_error("entry", &c, "entrypoint that is not a function", "mem", "not a function");
    expect_load_error("entry", NULL, "no _start", "_start", NULL);
    expect_load_error("does-not-exist", NULL, "missing file", "cannot open", NULL);
    c = (wagi_handler_conf){.max_memory_pages = 16};
    expect_load_error("bigmem", &c, "initial memory over max_memory_pages", "bigmem", NULL);
    wagi_kv vols[] = {{"/nonexistent/dir", "/data"}};
    c = (wagi_handler_conf){.volumes = vols, .n_volumes = 1};
    expect_load_error("hello", &c, "volume that cannot be opened", "/nonexistent/dir", NULL);
    wagi_kv env[] = {{"A=B", "x"}};
    c = (wagi_handler_conf){.env = env, .n_env = 1};
    expect_load_error("hello", &c, "env name with '='", "A=B", NULL);
}

/* ---- _routes, init, max_concurrency, refcounts ------------------------------------------------------- */

static void test_routes(void)
{
    wagi_handler_conf c = {.route = "/r/..."};
    wagi_handler *h = must_load("routes", &c);
    if (!h)
        return;
    char *out = NULL, err[512] = "";
    size_t len = 0;
    int rc = wagi_handler_routes(h, &out, &len, err, sizeof err);
    checkf(rc == 1 && out && !strcmp(out, "/hello hello\n/goodbye/... goodbye\n") &&
               len == strlen(out),
           "_routes: the export's stdout is returned (rc %d, \"%s\" %s)", rc, out ? out : "", err);
    free(out);
    checkf(wagi_handler_check_entrypoint(h, "hello", err, sizeof err) == 0 &&
               wagi_handler_check_entrypoint(h, "goodbye", err, sizeof err) == 0,
           "_routes: the printed entrypoints check out");
    checkf(wagi_handler_check_entrypoint(h, "nope", err, sizeof err) == -1 && strstr(err, "nope"),
           "_routes: a missing entrypoint is an error naming it (%s)", err);
    wagi_request rq = mkreq("GET", "/r/hello", "/r/hello", NULL);
    rq.entrypoint = "hello";
    rq.matched_route = "/r/hello";
    wagi_response r;
    char *b;
    run(h, &rq, &r, &b);
    checkf(r.status == 200 &&
               !strcmp(b, "hello SCRIPT_NAME=/r/hello PATH_INFO= X_MATCHED_ROUTE=/r/hello\n"),
           "_routes: a request with entrypoint + matched_route runs that export (%d \"%s\")",
           r.status, b);
    wagi_response_free(&r);
    free(b);
    rq = mkreq("GET", "/r/x", "/r", NULL);
    run(h, &rq, &r, &b);
    checkf(r.status == 200 && !strcmp(b, "main SCRIPT_NAME=/r PATH_INFO=/x X_MATCHED_ROUTE=/r/...\n"),
           "_routes: without an override the handler's entrypoint and route (\"%s\")", b);
    wagi_response_free(&r);
    free(b);
    wagi_handler_free(h);
    h = must_load("hello", NULL);
    out = (char *)1;
    checkf(h && wagi_handler_routes(h, &out, &len, err, sizeof err) == 0 && out == NULL,
           "_routes: a module without the export has no sub-routes");
    wagi_handler_free(h);
}

static void test_init(void)
{
    static logcap lc;
    memset(&lc, 0, sizeof lc);
    wagi_handler_conf c = {.route = "/init", .init = "wizer.initialize", .log = log_cb,
                           .log_user = &lc};
    wagi_handler *h = must_load("init", &c);
    if (!h)
        return;
    checkf(lc.n == 1 && !strcmp(lc.lines[0], "init ran"),
           "init: the init export ran once at load, its stderr logged (%d lines)", lc.n);
    int good = 0;
    for (int i = 0; i < 5; i++) {
        wagi_response r;
        char *b;
        run_get(h, "/init", &r, &b);
        good += r.status == 200 && !strcmp(b, "g=7 c=1\n");
        if (i == 0 && strcmp(b, "g=7 c=1\n"))
            printf("# got %d \"%s\"\n", r.status, b);
        wagi_response_free(&r);
        free(b);
    }
    checkf(good == 5 && lc.n == 1,
           "init: every request starts from the snapshot (global 7, counter 1), init not re-run "
           "(%d/5, %d log lines)", good, lc.n);
    wagi_handler_free(h);
    /* without init: the module as compiled */
    c.init = NULL;
    h = must_load("init", &c);
    if (h) {
        wagi_response r;
        char *b;
        run_get(h, "/init", &r, &b);
        checkf(r.status == 200 && !strcmp(b, "g=0 c=0\n"), "init: without it, g=0 c=0 (\"%s\")", b);
        wagi_response_free(&r);
        free(b);
        wagi_handler_free(h);
    }
    c = (wagi_handler_conf){.init = "missing"};
    expect_load_error("init", &c, "init export missing", "missing", NULL);
    c = (wagi_handler_conf){.init = "takes_arg", .entrypoint = "handler"};
    expect_load_error("entry", &c, "init with parameters", "takes_arg", "no parameters");
    c = (wagi_handler_conf){.init = "_start", .timeout_ms = 100};
    expect_load_error("loop", &c, "init that never ends", "ran longer than 100 ms", NULL);
    c = (wagi_handler_conf){.init = "_start"};
    expect_load_error("trap", &c, "init that traps", "trapped", NULL);
}

typedef struct slow {
    const wagi_handler *h;
    int status;
} slow;

static void *slow_main(void *arg)
{
    slow *s = arg;
    wagi_response r;
    run_get(s->h, "/test", &r, NULL);
    s->status = r.status;
    wagi_response_free(&r);
    return NULL;
}

static void test_concurrency(void)
{
    wagi_handler_conf c = {.timeout_ms = 400, .max_concurrency = 1};
    wagi_handler *h = must_load("loop", &c);
    if (!h)
        return;
    slow s = {h, 0};
    pthread_t th;
    pthread_create(&th, NULL, slow_main, &s);
    double t0 = now_s();
    while (atomic_load(&h->running) == 0 && now_s() - t0 < 2)
        usleep(1000);
    wagi_response r;
    run_get(h, "/test", &r, NULL);
    bool retry = r.headers.data && strstr(r.headers.data, "Retry-After: 1\r\n");
    checkf(r.status == 503 && retry && r.error && strstr(r.error, "http_max_concurrency"),
           "max_concurrency 1: a second concurrent run is 503 with Retry-After (%d)", r.status);
    wagi_response_free(&r);
    pthread_join(th, NULL);
    checkf(s.status == 504, "max_concurrency 1: the first run is unaffected (%d)", s.status);
    c.timeout_ms = 50;
    wagi_handler *h2 = must_load("loop", &c);
    if (h2) {
        run_get(h2, "/test", &r, NULL);
        int a = r.status;
        wagi_response_free(&r);
        run_get(h2, "/test", &r, NULL);
        checkf(a == 504 && r.status == 504 && atomic_load(&h2->running) == 0,
               "max_concurrency 1: sequential runs are never refused; the count returns to 0");
        wagi_response_free(&r);
        wagi_handler_free(h2);
    }
    wagi_handler_free(h);
}

static void test_refs_and_bytes(void)
{
    wagi_handler *h = must_load("hello", NULL);
    if (!h)
        return;
    checkf(wagi_handler_ref(h) == h, "refs: wagi_handler_ref returns the handler");
    wagi_handler_free(h); /* drops the extra reference */
    wagi_response r;
    char *b;
    run_get(h, "/test", &r, &b);
    checkf(r.status == 200 && !strcmp(b, "hello, world\n"), "refs: alive after one of two frees");
    wagi_response_free(&r);
    free(b);
    wagi_handler_free(h);
    FILE *f = fopen(wasm_path("hello"), "rb");
    static uint8_t buf[1 << 20];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    char err[512] = "";
    wagi_handler_conf c = {.module_path = "(in memory)", .module_bytes = buf, .module_len = n};
    h = wagi_handler_new(engine, &c, err, sizeof err);
    if (h) {
        run_get(h, "/test", &r, &b);
        checkf(r.status == 200 && !strcmp(b, "hello, world\n"),
               "module_bytes: compiled from memory, not from module_path");
        wagi_response_free(&r);
        free(b);
    } else {
        checkf(0, "module_bytes: %s", err);
    }
    wagi_handler_free(h);
}

/* ---- threads ---------------------------------------------------------------------------------------- */

typedef struct thr {
    const wagi_handler *argv_h, *counter_h;
    int id, bad;
} thr;

static void *thr_main(void *arg)
{
    thr *t = arg;
    for (int i = 0; i < 200; i++) {
        char target[64], want[160];
        snprintf(target, sizeof target, "/test/t%d?i=%d&x", t->id, i);
        snprintf(want, sizeof want, "argc=3\nargv[0]=[/test/t%d]\nargv[1]=[i=%d]\nargv[2]=[x]\n",
                 t->id, i);
        wagi_response r;
        char *b;
        run_get(i % 2 ? t->counter_h : t->argv_h, target, &r, &b);
        if (r.status != 200 || strcmp(b, i % 2 ? "1\n" : want))
            t->bad++;
        wagi_response_free(&r);
        free(b);
    }
    return NULL;
}

static void test_threads(void)
{
    wagi_handler *ha = must_load("argv", NULL), *hc = must_load("counter", NULL);
    if (!ha || !hc) {
        wagi_handler_free(ha);
        wagi_handler_free(hc);
        return;
    }
    pthread_t th[4];
    thr t[4];
    double t0 = now_s();
    for (int i = 0; i < 4; i++) {
        t[i] = (thr){ha, hc, i, 0};
        pthread_create(&th[i], NULL, thr_main, &t[i]);
    }
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        bad += t[i].bad;
    }
    checkf(bad == 0, "threads: 4 × 200 requests on shared handlers, all correct (%d wrong, %.0f ms)",
           bad, (now_s() - t0) * 1e3);
    wagi_handler_free(ha);
    wagi_handler_free(hc);
}

/* ---- timing (reported, not asserted) ---------------------------------------------------------------- */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int null_sink(void *user, const uint8_t *p, size_t n)
{
    (void)user, (void)p, (void)n;
    return 0;
}

static void test_timing(int runs)
{
    wagi_handler *h = must_load("hello", NULL);
    if (!h)
        return;
    enum { T_RUN, T_CGI, T_CTX, T_INST, T_CALL, T_FREE, T_N };
    static const char *const names[T_N] = {
        "wagi_handler_run (total)", "  argv + environ", "  wasi_ctx_new",
        "  sl_instantiate", "  call _start", "  free instance + context"};
    double *t[T_N];
    for (int k = 0; k < T_N; k++)
        t[k] = malloc((size_t)runs * sizeof(double));
    hdrs hs = {0};
    add_hdr(&hs, "Host", "example.com");
    add_hdr(&hs, "User-Agent", "curl/8.0");
    add_hdr(&hs, "Accept", "*/*");
    wagi_request rq = mkreq("GET", "/test/hello?name=x", "/test", &hs);
    int bad = 0;
    /* each iteration: one wagi_handler_run, then the same phases by hand
     * (wagi_int.h) to see where the time goes, under the same conditions */
    for (int i = 0; i < runs; i++) {
        wagi_response r;
        memset(&r, 0, sizeof r);
        double t0 = now_s();
        wagi_handler_run(h, &rq, &r);
        t[T_RUN][i] = now_s() - t0;
        bad += r.status != 200;
        wagi_response_free(&r);

        t0 = now_s();
        wagi__cgi cgi;
        wagi__cgi_build(h, &rq, &cgi);
        double t1 = now_s();
        wasi_config wc = {.argc = cgi.argc, .argv = cgi.ptrs, .envc = cgi.envc,
                          .envp = cgi.ptrs + cgi.argc, .stdin_from_buf = true,
                          .stdout_sink = null_sink, .stderr_sink = null_sink};
        wasi_ctx *ctx = wasi_ctx_new(&wc);
        wagi__cgi_free(&cgi);
        double t2 = now_s();
        sl_instance_config ic = {.user_data = ctx};
        sl_instance *inst = NULL;
        sl_trap *trap = NULL;
        sl_instantiate(h->linker, h->module, &ic, &inst, NULL, &trap);
        double t3 = now_s();
        trap = sl_func_call(sl_instance_func(inst, "_start"), NULL, NULL);
        double t4 = now_s();
        sl_trap_free(trap);
        sl_instance_free(inst);
        wasi_ctx_free(ctx);
        double t5 = now_s();
        t[T_CGI][i] = t1 - t0;
        t[T_CTX][i] = t2 - t1;
        t[T_INST][i] = t3 - t2;
        t[T_CALL][i] = t4 - t3;
        t[T_FREE][i] = t5 - t4;
    }
    for (int k = 0; k < T_N; k++)
        qsort(t[k], (size_t)runs, sizeof(double), cmp_d);
    double total = t[T_RUN][runs / 2];
    printf("# timing: hello, %d runs, medians (p90 of the total %.1f us; the phases are "
           "timed separately, so they need not add up exactly):\n",
           runs, t[T_RUN][runs * 9 / 10] * 1e6);
    for (int k = 0; k < T_N; k++)
        printf("# timing: %-26s %6.2f us %4.0f%%\n", names[k], t[k][runs / 2] * 1e6,
               100.0 * t[k][runs / 2] / total);
    printf("# timing: instantiate share (context + instance + their freeing) %.0f%%\n",
           100.0 * (t[T_CTX][runs / 2] + t[T_INST][runs / 2] + t[T_FREE][runs / 2]) / total);
    checkf(bad == 0, "timing loop: %d hello runs all 200", runs);
    for (int k = 0; k < T_N; k++)
        free(t[k]);
    wagi_handler_free(h);
}

int main(int argc, char **argv)
{
    wasm_dir = getenv("WAGI_WASM");
    if (!wasm_dir)
        wasm_dir = "build/tests/wagi";
    int runs = argc > 1 ? atoi(argv[1]) : 10000;
    engine = sl_engine_new(NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_env();
    test_argv();
    test_stdin();
    test_parse();
    test_guests();
    test_timeout();
    test_stderr();
    test_volumes();
    test_load_errors();
    test_routes();
    test_init();
    test_concurrency();
    test_refs_and_bytes();
    test_threads();
    if (runs > 0)
        test_timing(runs);
    sl_engine_free(engine);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
