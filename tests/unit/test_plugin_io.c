/*
 * test_plugin_io.c — the plugin glue's I/O clients on a real libuv loop
 * against real servers on 127.0.0.1:
 *   gw_callout: a small threaded HTTP server in this program (Content-Length
 *     with keep-alive, chunked, close-delimited, slow, big), connection
 *     refused, timeout, body cap, cancel;
 *   gw_redis: real redis-server processes started here on free ports (one
 *     plain, one with --requirepass): GET/SET/INCR, error replies, AUTH,
 *     SELECT, arrays, timeout, server killed, reconnect after restart,
 *     cancel. Skips (one "ok - skip" line) only when redis-server is absent.
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#include "gw_callout.h"
#include "gw_config.h"
#include "gw_redis.h"
#include "gw_stats.h"
#include "gw_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static gw_worker W;
static int http_port, dead_port, redis_port, redis2_port;

/* ---- helpers ------------------------------------------------------------- */

static void on_guard(uv_timer_t *t) { *(bool *)t->data = true; }

/* Runs the loop until *flag or ms pass. */
static bool run_until(volatile bool *flag, unsigned ms)
{
    uv_timer_t guard;
    bool expired = false;
    uv_timer_init(&W.loop, &guard);
    guard.data = &expired;
    uv_timer_start(&guard, on_guard, ms, 0);
    while (!*flag && !expired)
        uv_run(&W.loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&W.loop, UV_RUN_NOWAIT);
    return *flag;
}

static void sleep_loop(unsigned ms)
{
    bool never = false;
    run_until(&never, ms);
}

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_open(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* ---- the HTTP server (a thread per connection) --------------------------- */

static int http_fd;
static volatile int http_conns;

static void writes(int fd, const char *s) { (void)!write(fd, s, strlen(s)); }

static void *http_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[8192];
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
            ssize_t k = read(fd, buf + have, sizeof buf - have);
            if (k <= 0 || have + (size_t)k >= sizeof buf)
                goto out;
            have += (size_t)k;
        }
        size_t head = (size_t)(end - buf) + 4, body = 0;
        char *cl = strcasestr(buf, "content-length:");
        if (cl && cl < end)
            body = strtoul(cl + 15, NULL, 10);
        while (have < head + body) {
            ssize_t k = read(fd, buf + have, sizeof buf - have);
            if (k <= 0)
                goto out;
            have += (size_t)k;
        }
        char path[256] = "";
        sscanf(buf, "%*s %255s", path);
        if (!strcmp(path, "/cl")) {
            char resp[512];
            char *xh = strcasestr(buf, "x-test:");
            char xv[64] = "";
            if (xh && xh < end)
                sscanf(xh + 7, " %63[^\r]", xv);
            snprintf(resp, sizeof resp,
                     "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nX-Echo: %s\r\nX-Conns: %d\r\n\r\n",
                     body, xv, http_conns);
            writes(fd, resp);
            (void)!write(fd, buf + head, body);
        } else if (!strcmp(path, "/chunked")) {
            writes(fd, "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-T: 1\r\n\r\n");
        } else if (!strcmp(path, "/close")) {
            writes(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-close");
            goto out;
        } else if (!strcmp(path, "/slow")) {
            usleep(1500 * 1000);
            writes(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        } else if (!strcmp(path, "/big")) {
            writes(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
            static char z[100000];
            (void)!write(fd, z, sizeof z);
        } else if (!strcmp(path, "/reset")) {
            writes(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
            goto out;
        } else {
            writes(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
        memmove(buf, buf + head + body, have - head - body);
        have -= head + body;
    }
out:
    close(fd);
    return NULL;
}

static void *http_server(void *arg)
{
    for (;;) {
        int fd = accept(http_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        __atomic_add_fetch(&http_conns, 1, __ATOMIC_SEQ_CST);
        pthread_t t;
        pthread_create(&t, NULL, http_conn, (void *)(intptr_t)fd);
        pthread_detach(t);
    }
}

static int start_http(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    http_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(http_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(http_fd, 64) != 0)
        return -1;
    getsockname(http_fd, (struct sockaddr *)&a, &l);
    pthread_t t;
    pthread_create(&t, NULL, http_server, NULL);
    pthread_detach(t);
    return ntohs(a.sin_port);
}

/* ---- callouts -------------------------------------------------------------- */

typedef struct result {
    bool done;
    int calls;
    gw_callout_result res;
    int status;
    char body[256];
    size_t body_len;
    char echo[64];
    int conns;
    size_t n_headers;
} result;

static void on_callout(void *user, gw_callout_result res, const gw_callout_response *resp)
{
    result *r = user;
    r->done = true;
    r->calls++;
    r->res = res;
    if (!resp)
        return;
    r->status = resp->status;
    r->body_len = resp->body_len;
    memcpy(r->body, resp->body, resp->body_len < 255 ? resp->body_len : 255);
    r->n_headers = resp->n_headers;
    for (size_t i = 0; i < resp->n_headers; i++) {
        const gw_header *h = &resp->headers[i];
        if (gw_str_ieq(h->name, "x-echo"))
            snprintf(r->echo, sizeof r->echo, "%.*s", (int)h->value.len, h->value.base);
        if (gw_str_ieq(h->name, "x-conns"))
            r->conns = atoi(h->value.base);
    }
}

static gw_callout *call(const char *cluster, const char *method, const char *path,
                        const char *body, uint32_t timeout, size_t cap, result *r)
{
    static const gw_header hs[] = {{{"X-Test", 6}, {"abc", 3}}, {{"Content-Length", 14}, {"9", 1}}};
    gw_callout_request req = {.cluster = cluster, .method = method, .path = path,
                              .authority = "svc.local", .headers = hs, .n_headers = 2,
                              .body = body, .body_len = body ? strlen(body) : 0,
                              .timeout_ms = timeout, .max_body = cap};
    gw_callout_result res;
    memset(r, 0, sizeof *r);
    gw_callout *c = gw_callout_start(&W, &req, on_callout, r, &res);
    if (!c) {
        r->res = res;
        r->done = true;
    }
    return c;
}

static void test_callout(void)
{
    result r, r2;
    call("up", "POST", "/cl", "payload", 2000, 0, &r);
    check(!r.done, "callout: the callback never runs synchronously");
    run_until(&r.done, 3000);
    check(r.res == GW_CALLOUT_OK && r.status == 200 && r.body_len == 7 &&
              !memcmp(r.body, "payload", 7) && !strcmp(r.echo, "abc") && r.n_headers == 3,
          "callout: POST with Content-Length (body, extra header, header list)");
    int conns = r.conns;
    call("up", "GET", "/cl", NULL, 2000, 0, &r);
    run_until(&r.done, 3000);
    check(r.res == GW_CALLOUT_OK && r.conns == conns, "callout: keep-alive connection reused");

    call("up", "GET", "/chunked", NULL, 2000, 0, &r);
    run_until(&r.done, 3000);
    check(r.res == GW_CALLOUT_OK && r.status == 201 && r.body_len == 11 &&
              !memcmp(r.body, "hello world", 11),
          "callout: chunked response (extensions, trailers dropped)");
    call("up", "GET", "/close", NULL, 2000, 0, &r);
    run_until(&r.done, 3000);
    check(r.res == GW_CALLOUT_OK && r.body_len == 11 && !memcmp(r.body, "until-close", 11),
          "callout: close-delimited response");
    call("up", "GET", "/big", NULL, 2000, 1000, &r);
    run_until(&r.done, 3000);
    check(r.res == GW_CALLOUT_TOO_LARGE, "callout: body over the cap");
    call("up", "GET", "/big", NULL, 2000, 0, &r);
    run_until(&r.done, 3000);
    check(r.res == GW_CALLOUT_OK && r.body_len == 100000, "callout: 100 kB body collected");
    call("up", "GET", "/reset", NULL, 2000, 0, &r);
    run_until(&r.done, 3000);
    check(r.res == GW_CALLOUT_RESET, "callout: connection closed mid-body = reset");
    uint64_t t0 = uv_now(&W.loop);
    call("up", "GET", "/slow", NULL, 300, 0, &r);
    run_until(&r.done, 3000);
    uint64_t took = uv_now(&W.loop) - t0;
    check(r.res == GW_CALLOUT_TIMEOUT && took >= 250 && took < 1200, "callout: timeout");
    call("dead", "GET", "/", NULL, 2000, 0, &r);
    run_until(&r.done, 3000);
    check(r.res == GW_CALLOUT_CONNECT_FAILED, "callout: connection refused");
    gw_callout *c = call("nope", "GET", "/", NULL, 2000, 0, &r);
    check(!c && r.res == GW_CALLOUT_NO_CLUSTER, "callout: unknown cluster fails at start");

    /* Cancel: one in flight (slow) and one just started; no callbacks. */
    gw_callout *c1 = call("up", "GET", "/slow", NULL, 5000, 0, &r);
    sleep_loop(100);
    gw_callout_cancel(c1);
    gw_callout *c2 = call("up", "GET", "/cl", NULL, 5000, 0, &r2);
    gw_callout_cancel(c2);
    sleep_loop(300);
    check(r.calls == 0 && r2.calls == 0, "callout: cancelled calls never call back");
    /* Several at once. */
    result many[8];
    for (int i = 0; i < 8; i++)
        call("up", "GET", i % 2 ? "/chunked" : "/cl", NULL, 3000, 0, &many[i]);
    bool all = false;
    for (int k = 0; k < 40 && !all; k++) {
        sleep_loop(50);
        all = true;
        for (int i = 0; i < 8; i++)
            all = all && many[i].done;
    }
    int ok = 0;
    for (int i = 0; i < 8; i++)
        ok += many[i].res == GW_CALLOUT_OK && many[i].calls == 1;
    check(ok == 8, "callout: 8 concurrent calls");
}

/* ---- redis ----------------------------------------------------------------- */

static pid_t start_redis(int port, const char *pass)
{
    pid_t pid = fork();
    if (pid == 0) {
        char p[16];
        snprintf(p, sizeof p, "%d", port);
        int devnull = open("/dev/null", 1);
        dup2(devnull, 1);
        if (pass)
            execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--save",
                   "", "--appendonly", "no", "--requirepass", pass, (char *)NULL);
        else
            execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--save",
                   "", "--appendonly", "no", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && !port_open(port); i++)
        usleep(20000);
    return pid;
}

static void stop_redis(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

typedef struct rres {
    bool done;
    int calls;
    gw_redis_result res;
    char reply[256];
    size_t len;
} rres;

static void on_redis(void *user, gw_redis_result res, const char *reply, size_t len)
{
    rres *r = user;
    r->done = true;
    r->calls++;
    r->res = res;
    r->len = len;
    if (reply)
        memcpy(r->reply, reply, len < 255 ? len : 255);
    r->reply[len < 255 ? len : 255] = '\0';
}

static rres rcall(gw_redis *c, const char *cmd, uint32_t timeout)
{
    rres r = {0};
    gw_redis_call *k = gw_redis_call_raw(c, cmd, strlen(cmd), timeout, on_redis, &r);
    if (k)
        run_until(&r.done, 4000);
    return r;
}

static bool reply_is(rres r, const char *want)
{
    bool ok = r.res == GW_REDIS_OK && !strcmp(r.reply, want);
    if (!ok)
        printf("# got %s '%s', want '%s'\n", gw_redis_result_name(r.res), r.reply, want);
    return ok;
}

#define SET_K "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n"
#define GET_K "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"

static void test_redis(const gw_config *cfg)
{
    char name[64];
    uint32_t db = 7;
    check(gw_redis_parse_upstream("outbound|6379||r.dns?db=2&buffer_flush_timeout=3", 48, name,
                                  sizeof name, &db) == 0 &&
              !strcmp(name, "outbound|6379||r.dns") && db == 2,
          "redis: upstream string with options");
    check(gw_redis_parse_upstream("r", 1, name, sizeof name, &db) == 0 && db == 0 &&
              gw_redis_parse_upstream("r?db=x", 6, name, sizeof name, &db) < 0,
          "redis: upstream string without options; bad db");
    if (system("command -v redis-server >/dev/null 2>&1") != 0) {
        printf("ok - skip: redis-server is not installed (redis tests skipped)\n");
        n_pass++;
        return;
    }
    const gw_cluster_conf *rc = &cfg->clusters[2], *rc2 = &cfg->clusters[3];
    pid_t pid = start_redis(redis_port, NULL);
    pid_t pid2 = start_redis(redis2_port, "s3cret");
    check(port_open(redis_port) && port_open(redis2_port), "redis: servers started");

    gw_redis *c = gw_redis_new(&W.loop, rc, &(gw_redis_options){.timeout_ms = 1000});
    check(reply_is(rcall(c, SET_K, 0), "+OK\r\n"), "redis: SET");
    check(reply_is(rcall(c, GET_K, 0), "$5\r\nhello\r\n"), "redis: GET");
    check(reply_is(rcall(c, "*2\r\n$3\r\nGET\r\n$4\r\nnone\r\n", 0), "$-1\r\n"), "redis: GET nil");
    check(reply_is(rcall(c, "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n", 0), ":1\r\n") &&
              reply_is(rcall(c, "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n", 0), ":2\r\n"),
          "redis: INCR");
    check(reply_is(rcall(c, "*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n", 0),
                   "-ERR value is not an integer or out of range\r\n"),
          "redis: an error reply is status 0 with the -ERR bytes");
    rcall(c, "*4\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$2\r\nbc\r\n", 0);
    check(reply_is(rcall(c, "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n", 0),
                   "*2\r\n$1\r\na\r\n$2\r\nbc\r\n"),
          "redis: array reply");
    check(gw_redis_same(c, rc, &(gw_redis_options){.timeout_ms = 1000}) &&
              !gw_redis_same(c, rc, &(gw_redis_options){.timeout_ms = 1000, .db = 1}),
          "redis: same settings detected");
    /* Timeout: BLPOP on an empty list blocks past the call's timeout. */
    rres t = rcall(c, "*3\r\n$5\r\nBLPOP\r\n$5\r\nempty\r\n$1\r\n1\r\n", 100);
    check(t.res == GW_REDIS_TIMEOUT, "redis: per-call timeout");
    sleep_loop(100);
    check(reply_is(rcall(c, GET_K, 0), "$5\r\nhello\r\n"), "redis: works again after a timeout");
    /* Cancel. */
    rres x = {0};
    gw_redis_call *k = gw_redis_call_raw(c, GET_K, strlen(GET_K), 0, on_redis, &x);
    gw_redis_cancel(k);
    sleep_loop(100);
    check(x.calls == 0, "redis: cancelled call never calls back");
    /* Server killed. */
    stop_redis(pid);
    rres d = rcall(c, GET_K, 0);
    check(d.calls == 1 && d.res != GW_REDIS_OK, "redis: server killed -> failure status");
    rres d2 = rcall(c, GET_K, 0);
    check(d2.calls == 1 && d2.res == GW_REDIS_CONNECT_FAILED, "redis: no server -> connect failed");
    pid = start_redis(redis_port, NULL);
    rres ok = {0};
    for (int i = 0; i < 30 && !(ok.res == GW_REDIS_OK && ok.calls); i++) {
        sleep_loop(200);
        ok = rcall(c, "*1\r\n$4\r\nPING\r\n", 0);
    }
    check(reply_is(ok, "+PONG\r\n"), "redis: reconnects after the server is back");
    /* Free with a call in flight: no callback, no leak. */
    rres f = {0};
    gw_redis_call_raw(c, GET_K, strlen(GET_K), 0, on_redis, &f);
    gw_redis_free(c);
    sleep_loop(50);
    check(f.calls == 0, "redis: free with a call pending: no callback");

    /* AUTH + SELECT. */
    gw_redis *a = gw_redis_new(&W.loop, rc2, &(gw_redis_options){.password = "s3cret", .db = 3});
    check(reply_is(rcall(a, SET_K, 0), "+OK\r\n"), "redis: AUTH with password");
    check(reply_is(rcall(a, "*1\r\n$6\r\nDBSIZE\r\n", 0), ":1\r\n"), "redis: SELECT db applied");
    gw_redis *a2 = gw_redis_new(&W.loop, rc2, &(gw_redis_options){.password = "s3cret"});
    check(reply_is(rcall(a2, GET_K, 0), "$-1\r\n"), "redis: db 0 is another database");
    gw_redis *n = gw_redis_new(&W.loop, rc2, NULL);
    rres na = rcall(n, GET_K, 0);
    check(na.res == GW_REDIS_OK && !strncmp(na.reply, "-NOAUTH", 7),
          "redis: no password -> -NOAUTH reply (status 0)");
    gw_redis *w = gw_redis_new(&W.loop, rc2,
                               &(gw_redis_options){.username = "default", .password = "wrong"});
    rres wa = rcall(w, GET_K, 0);
    check(wa.res == GW_REDIS_OK && wa.reply[0] == '-', "redis: wrong password -> error reply");
    gw_redis *u = gw_redis_new(&W.loop, rc2,
                               &(gw_redis_options){.username = "default", .password = "s3cret"});
    check(reply_is(rcall(u, "*1\r\n$4\r\nPING\r\n", 0), "+PONG\r\n"),
          "redis: AUTH with username and password");
    gw_redis_free(a);
    gw_redis_free(a2);
    gw_redis_free(n);
    gw_redis_free(w);
    gw_redis_free(u);
    sleep_loop(50);
    stop_redis(pid);
    stop_redis(pid2);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    http_port = start_http();
    dead_port = free_port();
    redis_port = free_port();
    redis2_port = free_port();
    char yaml[1024], err[512];
    snprintf(yaml, sizeof yaml,
             "listeners: [{address: 127.0.0.1:1}]\n"
             "clusters:\n"
             "  - {name: up, endpoints: [127.0.0.1:%d]}\n"
             "  - {name: dead, endpoints: [127.0.0.1:%d], connect_timeout: 500ms}\n"
             "  - {name: redis, endpoints: [127.0.0.1:%d]}\n"
             "  - {name: redis2, endpoints: [127.0.0.1:%d]}\n",
             http_port, dead_port, redis_port, redis2_port);
    gw_config *cfg = gw_config_load_string(yaml, strlen(yaml), "io.yaml", err, sizeof err);
    if (!cfg || http_port < 0) {
        printf("# %s\nnot ok - setup\n0 passed, 1 failed\n", err);
        return 1;
    }
    uv_loop_init(&W.loop);
    gw_stats *st = gw_stats_new(1);
    W.stats = gw_stats_worker(st, 0);
    W.rng = 88172645463325252ull;
    gw_upstream_apply(&W, cfg);
    test_callout();
    test_redis(cfg);
    gw_upstream_close_idle(&W);
    sleep_loop(50);
    gw_upstream_free_all(&W);
    for (unsigned i = 0; i < W.n_free_bufs; i++)
        free(W.free_bufs[i]);
    check(uv_loop_close(&W.loop) == 0, "every handle closed");
    gw_config_unref(cfg);
    gw_stats_free(st);
    shutdown(http_fd, SHUT_RDWR);
    close(http_fd);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
