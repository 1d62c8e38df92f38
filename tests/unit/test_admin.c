/*
 * test_admin.c — unit tests for the admin HTTP listener (src/gateway/gw_admin.c).
 *
 * Owns:     a real gw_admin on 127.0.0.1:0 with its libuv loop on a second
 *           thread, driven by blocking client sockets from the main thread:
 *           GET, HEAD, POST with Content-Length / chunked / Expect bodies,
 *           413, malformed heads (400/431), pipelined garbage (the response
 *           must arrive, not a reset), byte-at-a-time requests, handler
 *           status and content type, the request deadline (408 / silent
 *           close), the 64-connection cap, random garbage, bind errors,
 *           stopping with idle clients connected and stopping from inside
 *           the handler. Under ASan every path must be leak-free.
 * Not here: HTTP parsing rules themselves (gw_http1's own tests), the
 *           /metrics content (test_stats.c).
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#include "gw_admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int n_pass, n_fail;

static void check(int cond, const char *name)
{
    printf("%s - %s\n", cond ? "ok" : "not ok", name);
    fflush(stdout);
    if (cond)
        n_pass++;
    else
        n_fail++;
}

/* ---- the server under test ---- */

typedef struct server {
    uv_loop_t loop;
    uv_async_t stop_async;
    gw_admin *admin;
    int port;
    pthread_t thread;
    atomic_int closed;   /* on_closed ran */
    atomic_int handled;  /* handler calls */
    pthread_mutex_t mu;
    char last_method[32];
    char last_path[256];
} server;

static server srv;

static void on_admin_closed(void *user)
{
    server *s = user;
    atomic_fetch_add(&s->closed, 1);
    uv_close((uv_handle_t *)&s->stop_async, NULL);
}

static void on_stop_async(uv_async_t *h)
{
    server *s = h->data;
    gw_admin_stop(s->admin, on_admin_closed, s);
}

static void handler(void *user, gw_str method, gw_str path, gw_admin_response *resp)
{
    server *s = user;
    atomic_fetch_add(&s->handled, 1);
    pthread_mutex_lock(&s->mu);
    snprintf(s->last_method, sizeof s->last_method, "%.*s", (int)method.len, method.base);
    snprintf(s->last_path, sizeof s->last_path, "%.*s", (int)path.len, path.base);
    pthread_mutex_unlock(&s->mu);

#define IS(lit) (path.len == sizeof(lit) - 1 && memcmp(path.base, lit, path.len) == 0)
    if (IS("/hello")) {
        ut_buf_printf(&resp->body, "hello %.*s %.*s\n", (int)method.len, method.base,
                      (int)path.len, path.base);
    } else if (IS("/json")) {
        resp->status = 201;
        resp->content_type = "application/json";
        ut_buf_puts(&resp->body, "{\"ok\":true}");
    } else if (IS("/bad-ctype")) {
        resp->content_type = "text/plain\r\nX-Injected: 1";
        ut_buf_puts(&resp->body, "x");
    } else if (IS("/bad-status")) {
        resp->status = 42;
    } else if (IS("/nocontent")) {
        resp->status = 204;
        ut_buf_puts(&resp->body, "dropped");
    } else if (IS("/big")) {
        for (int i = 0; i < 300000; i++)
            ut_buf_putc(&resp->body, (char)('a' + i % 26));
    } else if (IS("/quit")) {
        gw_admin_stop(s->admin, on_admin_closed, s);
        ut_buf_puts(&resp->body, "bye");
    } else {
        resp->status = 404;
        ut_buf_puts(&resp->body, "not found\n");
    }
#undef IS
}

static void *loop_thread(void *p)
{
    server *s = p;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

static int server_start(unsigned timeout_ms)
{
    memset(&srv, 0, sizeof srv);
    pthread_mutex_init(&srv.mu, NULL);
    if (uv_loop_init(&srv.loop) != 0)
        return -1;
    gw_sockaddr addr = {0};
    struct sockaddr_in *in = (struct sockaddr_in *)&addr.ss;
    in->sin_family = AF_INET;
    in->sin_port = 0;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.len = sizeof *in;
    char err[256];
    if (gw_admin_start(&srv.admin, &srv.loop, &addr, handler, &srv, err, sizeof err) != 0) {
        printf("# gw_admin_start: %s\n", err);
        return -1;
    }
    if (timeout_ms)
        gw_admin_set_timeout_ms(srv.admin, timeout_ms);
    srv.port = gw_admin_port(srv.admin);
    uv_async_init(&srv.loop, &srv.stop_async, on_stop_async);
    srv.stop_async.data = &srv;
    pthread_create(&srv.thread, NULL, loop_thread, &srv);
    return 0;
}

/* Joins the loop thread (after a stop); checks that everything closed. */
static int server_join(void)
{
    pthread_join(srv.thread, NULL);
    int closed = atomic_load(&srv.closed);
    int rc = uv_loop_close(&srv.loop);
    pthread_mutex_destroy(&srv.mu);
    return closed == 1 && rc == 0;
}

static int server_stop(void)
{
    uv_async_send(&srv.stop_async);
    return server_join();
}

/* ---- client helpers ---- */

static int connect_admin(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)srv.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

typedef struct reply {
    char *data;
    size_t len;
    int eof;   /* clean EOF (not reset, not timeout) */
    int status;
    const char *body;
    size_t body_len;
} reply;

/* Reads until EOF/error/timeout. */
static void read_reply(int fd, reply *r)
{
    size_t cap = 1 << 16;
    r->data = malloc(cap + 1);
    r->len = 0;
    r->eof = 0;
    r->status = 0;
    r->body = NULL;
    r->body_len = 0;
    for (;;) {
        if (r->len == cap) {
            cap *= 2;
            r->data = realloc(r->data, cap + 1);
        }
        ssize_t n = recv(fd, r->data + r->len, cap - r->len, 0);
        if (n == 0) {
            r->eof = 1;
            break;
        }
        if (n < 0)
            break;
        r->len += (size_t)n;
    }
    r->data[r->len] = '\0';
    const char *p = r->data;
    /* skip interim 1xx responses */
    while (strncmp(p, "HTTP/1.1 1", 10) == 0) {
        const char *e = strstr(p, "\r\n\r\n");
        if (!e)
            break;
        p = e + 4;
    }
    if (strncmp(p, "HTTP/1.1 ", 9) == 0)
        r->status = atoi(p + 9);
    const char *e = strstr(p, "\r\n\r\n");
    if (e) {
        r->body = e + 4;
        r->body_len = r->len - (size_t)(r->body - r->data);
    }
}

/* The value of a header in the final response head, "" if absent. */
static const char *header(const reply *r, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    const char *end = r->body ? r->body : r->data + r->len;
    size_t n = strlen(name);
    const char *p = r->data;
    while (p < end && (p = strstr(p, "\r\n")) != NULL && p < end) {
        p += 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            const char *ve = strstr(v, "\r\n");
            size_t vl = ve ? (size_t)(ve - v) : strlen(v);
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
        }
    }
    return out;
}

static void exchange(const void *req, size_t len, reply *r)
{
    int fd = connect_admin();
    if (fd < 0 || send_all(fd, req, len) != 0) {
        memset(r, 0, sizeof *r);
        r->data = calloc(1, 1);
        if (fd >= 0)
            close(fd);
        return;
    }
    read_reply(fd, r);
    close(fd);
}

static void exchange_str(const char *req, reply *r)
{
    exchange(req, strlen(req), r);
}

static int body_is(const reply *r, const char *s)
{
    return r->body && r->body_len == strlen(s) && memcmp(r->body, s, r->body_len) == 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- tests ---- */

static void test_basic(void)
{
    reply r;
    char v[128];
    exchange_str("GET /hello?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    check(r.status == 200 && r.eof && body_is(&r, "hello GET /hello\n"), "GET: 200 with the handler's body");
    check(strcmp(header(&r, "Content-Length", v, sizeof v), "17") == 0 &&
              strcmp(header(&r, "Connection", v, sizeof v), "close") == 0 &&
              strcmp(header(&r, "Content-Type", v, sizeof v), "text/plain; charset=utf-8") == 0,
          "GET: Content-Length, Connection: close, default Content-Type");
    pthread_mutex_lock(&srv.mu);
    check(strcmp(srv.last_method, "GET") == 0 && strcmp(srv.last_path, "/hello") == 0,
          "handler sees method and path without query");
    pthread_mutex_unlock(&srv.mu);
    free(r.data);

    exchange_str("HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    check(r.status == 200 && r.eof && r.body && r.body_len == 0 &&
              strcmp(header(&r, "Content-Length", v, sizeof v), "18") == 0,
          "HEAD: GET's Content-Length, no body");
    free(r.data);

    exchange_str("GET /hello HTTP/1.0\r\n\r\n", &r);
    check(r.status == 200 && r.eof && body_is(&r, "hello GET /hello\n"), "HTTP/1.0 without Host");
    free(r.data);

    exchange_str("GET /json HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    check(r.status == 201 && body_is(&r, "{\"ok\":true}") &&
              strcmp(header(&r, "Content-Type", v, sizeof v), "application/json") == 0,
          "handler status and content type");
    free(r.data);

    exchange_str("GET /bad-ctype HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    check(r.status == 200 && !strstr(r.data, "X-Injected") &&
              strcmp(header(&r, "Content-Type", v, sizeof v), "text/plain; charset=utf-8") == 0,
          "a content type with CR/LF is replaced by the default");
    free(r.data);

    exchange_str("GET /bad-status HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    check(r.status == 500 && r.eof, "a nonsense handler status becomes 500");
    free(r.data);

    exchange_str("GET /nocontent HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    check(r.status == 204 && r.body && r.body_len == 0 && r.eof, "204 has no body");
    free(r.data);

    exchange_str("GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    check(r.status == 404 && body_is(&r, "not found\n"), "404 from the handler");
    free(r.data);

    exchange_str("GET /big HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    int ok = r.status == 200 && r.eof && r.body_len == 300000;
    for (size_t i = 0; ok && i < r.body_len; i++)
        ok = r.body[i] == (char)('a' + i % 26);
    check(ok, "a 300 KB response arrives whole");
    free(r.data);
}

static void test_bodies(void)
{
    reply r;
    int before = atomic_load(&srv.handled);
    size_t blen = 5000;
    char *req = malloc(blen + 200);
    int n = sprintf(req, "POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n", blen);
    memset(req + n, 'z', blen);
    exchange(req, (size_t)n + blen, &r);
    check(r.status == 200 && body_is(&r, "hello POST /hello\n") &&
              atomic_load(&srv.handled) == before + 1,
          "POST with a Content-Length body");
    free(r.data);

    /* head first, then the body in two later pieces */
    int fd = connect_admin();
    send_all(fd, req, (size_t)n);
    usleep(50000);
    send_all(fd, req + n, 1000);
    usleep(20000);
    send_all(fd, req + n + 1000, blen - 1000);
    read_reply(fd, &r);
    close(fd);
    check(r.status == 200 && body_is(&r, "hello POST /hello\n"), "body arriving in later reads");
    free(r.data);
    free(req);

    exchange_str("POST /hello HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n",
                 &r);
    check(r.status == 200 && body_is(&r, "hello POST /hello\n"), "POST with a chunked body");
    free(r.data);

    exchange_str("POST /hello HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", &r);
    check(r.status == 400 && r.eof, "malformed chunked body: 400");
    free(r.data);

    fd = connect_admin();
    send_all(fd, "POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
             strlen("POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
    char buf[64] = {0};
    ssize_t got = recv(fd, buf, sizeof buf - 1, 0);
    int cont = got > 0 && strncmp(buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0;
    send_all(fd, "abcd", 4);
    read_reply(fd, &r);
    close(fd);
    check(cont && r.status == 200 && body_is(&r, "hello POST /hello\n"),
          "Expect: 100-continue gets 100 Continue, then the response");
    free(r.data);

    exchange_str("POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", &r);
    check(r.status == 413 && r.eof, "Content-Length over 1 MiB: 413");
    free(r.data);

    /* a chunked body that grows past 1 MiB */
    before = atomic_load(&srv.handled);
    fd = connect_admin();
    const char *h = "POST /hello HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    send_all(fd, h, strlen(h));
    char *chunk = malloc(65536 + 16);
    int cl = sprintf(chunk, "10000\r\n");
    memset(chunk + cl, 'q', 65536);
    memcpy(chunk + cl + 65536, "\r\n", 2);
    int sent_ok = 1;
    for (int i = 0; i < 17 && sent_ok; i++)
        sent_ok = send_all(fd, chunk, (size_t)cl + 65536 + 2) == 0;
    read_reply(fd, &r);
    close(fd);
    free(chunk);
    check(r.status == 413 && atomic_load(&srv.handled) == before, "chunked body over 1 MiB: 413");
    free(r.data);
}

static void test_malformed(void)
{
    reply r;
    int before = atomic_load(&srv.handled);
    exchange_str("GET / HTTP/1.1\nHost: a\n\n", &r);
    check(r.status == 400 && r.eof && r.body_len > 1, "bare LF: 400 with a reason");
    printf("# reason: %.*s", (int)r.body_len, r.body ? r.body : "");
    free(r.data);

    exchange_str("GET / HTTP/1.1\r\n\r\n", &r);
    check(r.status == 400, "HTTP/1.1 without Host: 400");
    free(r.data);

    exchange_str("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &r);
    check(r.status == 505, "unsupported version: 505");
    free(r.data);

    char *big = malloc(20000 + 100);
    int n = sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    memset(big + n, 'b', 20000);
    memcpy(big + n + 20000, "\r\n\r\n", 5);
    exchange(big, (size_t)n + 20004, &r);
    check(r.status == 431 && r.eof, "a 20 KiB head: 431");
    free(r.data);
    n = sprintf(big, "GET /");
    memset(big + n, 'p', 5000);
    memcpy(big + n + 5000, " HTTP/1.1\r\nHost: a\r\n\r\n", 23);
    exchange(big, (size_t)n + 5022, &r);
    check(r.status == 414, "a 5 KB request line: 414");
    free(r.data);
    free(big);

    static const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n";
    exchange(hello, sizeof hello - 1, &r);
    check(r.status == 400 && r.eof, "a TLS ClientHello: 400");
    free(r.data);
    check(atomic_load(&srv.handled) == before, "the handler never sees malformed requests");

    /* a valid request followed by lots of pipelined garbage */
    size_t glen = 200000;
    const char *req = "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
    char *g = malloc(strlen(req) + glen);
    memcpy(g, req, strlen(req));
    for (size_t i = 0; i < glen; i++)
        g[strlen(req) + i] = (char)(i * 7919 % 251);
    before = atomic_load(&srv.handled);
    exchange(g, strlen(req) + glen, &r);
    check(r.status == 200 && r.eof && body_is(&r, "hello GET /hello\n") &&
              atomic_load(&srv.handled) == before + 1,
          "pipelined garbage: the response arrives whole and the connection ends cleanly");
    free(r.data);
    free(g);

    /* pipelined second request is ignored */
    before = atomic_load(&srv.handled);
    exchange_str("GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /json HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    check(r.status == 200 && body_is(&r, "hello GET /hello\n") &&
              atomic_load(&srv.handled) == before + 1,
          "a pipelined second request is not served (Connection: close)");
    free(r.data);

    /* byte at a time */
    int fd = connect_admin();
    const char *slow = "GET /hello HTTP/1.1\r\nHost: a\r\nUser-Agent: slow\r\n\r\n";
    for (size_t i = 0; slow[i]; i++) {
        send_all(fd, slow + i, 1);
        if (i % 8 == 0)
            usleep(1000);
    }
    read_reply(fd, &r);
    close(fd);
    check(r.status == 200 && body_is(&r, "hello GET /hello\n"), "a request sent one byte at a time");
    free(r.data);

    /* the client half-closes right after the request */
    fd = connect_admin();
    send_all(fd, req, strlen(req));
    shutdown(fd, SHUT_WR);
    read_reply(fd, &r);
    close(fd);
    check(r.status == 200 && r.eof && body_is(&r, "hello GET /hello\n"),
          "a client that half-closes after the request still gets the response");
    free(r.data);

    /* a client that disconnects mid-head, and one that resets */
    fd = connect_admin();
    send_all(fd, "GET /hel", 8);
    close(fd);
    fd = connect_admin();
    send_all(fd, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", strlen(req));
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd); /* RST */

    /* random garbage */
    unsigned seed = 4242;
    int all_ok = 1;
    static const char *pieces[] = {"GET ", "POST ", "/", " HTTP/1.1", "\r\n", "\n", "\r",
                                   "Host: a", "Content-Length: ", "5", "Transfer-Encoding: chunked",
                                   ":", " ", "\t", "\x00", "\xff", "0\r\n\r\n", "?q", "%"};
    for (int round = 0; round < 200; round++) {
        char buf[700];
        size_t len = 0;
        seed = seed * 1103515245u + 12345u;
        int parts = 1 + (int)((seed >> 8) % 40);
        for (int k = 0; k < parts && len < 600; k++) {
            seed = seed * 1103515245u + 12345u;
            unsigned pick = (seed >> 8) % 25;
            if (pick < sizeof pieces / sizeof pieces[0]) {
                const char *pc = pieces[pick];
                size_t pl = pick == 14 ? 1 : strlen(pc);
                memcpy(buf + len, pc, pl);
                len += pl;
            } else {
                buf[len++] = (char)(seed >> 16);
            }
        }
        fd = connect_admin();
        if (fd < 0) {
            all_ok = 0;
            break;
        }
        send_all(fd, buf, len);
        shutdown(fd, SHUT_WR);
        read_reply(fd, &r);
        close(fd);
        if (!(r.len == 0 || (r.status >= 200 && r.status < 600))) {
            printf("# round %d: odd reply %.40s\n", round, r.data);
            all_ok = 0;
        }
        free(r.data);
    }
    check(all_ok, "random garbage gets a response or a close, never a crash");
    exchange_str("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    check(r.status == 200, "still serving after the abuse");
    free(r.data);
}

static void test_conn_limit_and_stop(void)
{
    usleep(100000); /* let the server finish closing earlier connections */
    int idle[64];
    int opened = 0;
    for (int i = 0; i < 64; i++) {
        idle[i] = connect_admin();
        if (idle[i] >= 0)
            opened++;
    }
    /* the server accepts in FIFO order, so this one comes after the 64 */
    int extra = connect_admin();
    char b;
    ssize_t n = extra >= 0 ? recv(extra, &b, 1, 0) : 0;
    int refused = n == 0 || (n < 0 && errno == ECONNRESET);
    if (extra >= 0)
        close(extra);
    check(opened == 64 && refused, "the 65th concurrent connection is closed at once");

    close(idle[0]);
    idle[0] = -1;
    reply r = {0};
    int served = 0;
    for (int tries = 0; tries < 100 && !served; tries++) {
        exchange_str("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", &r);
        served = r.status == 200;
        free(r.data);
        if (!served)
            usleep(20000);
    }
    check(served, "a slot frees when a client goes away");

    /* stop while 63 idle clients (and maybe one half-sent request) are connected */
    int fd = connect_admin();
    if (fd >= 0)
        send_all(fd, "GET /hel", 8);
    check(server_stop(), "stop with idle clients: on_closed once, loop closes cleanly");
    int all_closed = 1;
    for (int i = 1; i < 64; i++) {
        if (idle[i] < 0)
            continue;
        char c;
        ssize_t k = recv(idle[i], &c, 1, 0);
        if (!(k == 0 || (k < 0 && errno == ECONNRESET)))
            all_closed = 0;
        close(idle[i]);
    }
    if (fd >= 0)
        close(fd);
    check(all_closed, "stop closed every client connection");
}

static void test_timeouts(void)
{
    if (server_start(300) != 0) {
        check(0, "server starts with a short deadline");
        return;
    }
    double t0 = now_s();
    int fd = connect_admin();
    char c;
    ssize_t k = recv(fd, &c, 1, 0);
    double dt = now_s() - t0;
    close(fd);
    check(k == 0 && dt >= 0.2 && dt < 3, "a silent client is closed after the deadline");

    reply r;
    fd = connect_admin();
    send_all(fd, "GET /hello HTTP/1.1\r\nHo", 23);
    read_reply(fd, &r);
    close(fd);
    check(r.status == 408 && r.eof, "a partial head gets 408 at the deadline");
    free(r.data);

    fd = connect_admin();
    const char *h = "POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc";
    send_all(fd, h, strlen(h));
    read_reply(fd, &r);
    close(fd);
    check(r.status == 408, "a partial body gets 408 at the deadline");
    free(r.data);

    exchange_str("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    check(r.status == 200, "a prompt client is unaffected by the short deadline");
    free(r.data);
    check(server_stop(), "stop after timeouts");
}

static void test_stop_from_handler(void)
{
    if (server_start(0) != 0) {
        check(0, "server starts");
        return;
    }
    int idle = connect_admin();
    reply r;
    exchange_str("GET /quit HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    check(r.status == 0 && r.len == 0, "stop from inside the handler drops that response");
    free(r.data);
    check(server_join(), "stop from inside the handler: on_closed once, loop closes cleanly");
    if (idle >= 0)
        close(idle);
}

static void test_start_errors(void)
{
    if (server_start(0) != 0) {
        check(0, "server starts");
        return;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    gw_sockaddr addr = {0};
    struct sockaddr_in *in = (struct sockaddr_in *)&addr.ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)srv.port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.len = sizeof *in;
    gw_admin *a = (gw_admin *)1;
    char err[256] = "";
    int rc = gw_admin_start(&a, &loop, &addr, handler, NULL, err, sizeof err);
    check(rc == -1 && a == NULL && strstr(err, "127.0.0.1") && strstr(err, "in use"),
          "binding a port in use fails with a message");
    printf("# %s\n", err);
    gw_sockaddr unix_addr = {0};
    unix_addr.ss.ss_family = AF_UNIX;
    rc = gw_admin_start(&a, &loop, &unix_addr, handler, NULL, err, sizeof err);
    check(rc == -1 && err[0], "a non-IP address is refused");
    rc = gw_admin_start(&a, &loop, &addr, NULL, NULL, err, sizeof err);
    check(rc == -1 && err[0], "a NULL handler is refused");
    check(uv_loop_close(&loop) == 0, "failed starts leave no handle on the loop");
    check(gw_admin_port(NULL) == -1, "gw_admin_port(NULL)");
    check(server_stop(), "stop");

    /* IPv6 loopback, if available */
    uv_loop_init(&loop);
    gw_sockaddr a6 = {0};
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a6.ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    a6.len = 0; /* derived from the family */
    rc = gw_admin_start(&a, &loop, &a6, handler, NULL, err, sizeof err);
    if (rc == 0) {
        int port = gw_admin_port(a);
        gw_admin_stop(a, NULL, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        check(port > 0 && uv_loop_close(&loop) == 0, "IPv6 listener starts and stops");
    } else {
        printf("# no IPv6: %s\n", err);
        uv_loop_close(&loop);
        check(1, "IPv6 listener starts and stops (skipped: no IPv6)");
    }
}

int main(void)
{
    if (server_start(0) != 0) {
        check(0, "server starts on 127.0.0.1:0");
        printf("%d passed, %d failed\n", n_pass, n_fail);
        return 1;
    }
    check(srv.port > 0, "gw_admin_port reports the bound port");
    test_basic();
    test_bodies();
    test_malformed();
    test_conn_limit_and_stop(); /* stops the server */
    test_timeouts();
    test_stop_from_handler();
    test_start_errors();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
