/*
 * gw_redis.c — per-worker Redis client on hiredis' async API and its
 * libuv adapter (gw_redis.h).
 *
 * Owns:      connection state (idle / connecting / connected), AUTH and
 *            SELECT on connect, the connect timeout and per-call timeouts
 *            (own timers: hiredis 0.14 async has neither), backoff,
 *            endpoint rotation, re-serializing redisReply to RESP.
 * Not here:  what plugins send (raw RESP from the guest).
 *
 * Memory:    a call lives until both hiredis has let go of it (reply, or
 *            NULL when the context is freed) and its timer has closed.
 *            The client lives until its connect timer has closed.
 */
#include "gw_redis.h"

#include <arpa/inet.h>
#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_worker.h" /* gw_link */
#include "ut_buf.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

enum { ST_IDLE, ST_CONNECTING, ST_CONNECTED };

struct gw_redis {
    uv_loop_t *loop;
    char *cluster;
    char (*ips)[INET6_ADDRSTRLEN];
    uint16_t *ports;
    size_t n_eps, next_ep;
    char *username, *password;
    uint32_t db, timeout_ms, connect_timeout_ms;
    redisAsyncContext *ac;
    int state;
    uint32_t backoff_ms;
    uint64_t retry_at; /* loop time */
    uv_timer_t connect_timer;
    gw_link calls;
    bool freeing;
};

struct gw_redis_call {
    gw_redis *r;
    gw_link link;
    uv_timer_t timer;
    gw_redis_cb cb;
    void *user;
    gw_redis_result soon; /* failure delivered from the timer */
    bool in_hiredis;
    bool timer_open;
    bool done;
};

const char *gw_redis_result_name(gw_redis_result r)
{
    static const char *const names[] = {"ok", "connect_failed", "disconnected", "timeout",
                                        "bad_command"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

int gw_redis_parse_upstream(const char *s, size_t len, char *name, size_t cap, uint32_t *db)
{
    const char *q = memchr(s, '?', len);
    size_t nl = q ? (size_t)(q - s) : len;
    if (nl == 0 || nl >= cap)
        return -1;
    memcpy(name, s, nl);
    name[nl] = '\0';
    *db = 0;
    if (!q)
        return 0;
    const char *p = q + 1, *end = s + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        if (e - p > 3 && !memcmp(p, "db=", 3)) {
            uint64_t v = 0;
            for (const char *d = p + 3; d < e; d++) {
                if (*d < '0' || *d > '9' || v > 100000000)
                    return -1;
                v = v * 10 + (uint64_t)(*d - '0');
            }
            *db = (uint32_t)v;
        } else if (e - p == 3 && !memcmp(p, "db=", 3)) {
            return -1;
        }
        p = e + 1;
    }
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static void on_client_closed(uv_handle_t *h)
{
    gw_redis *r = h->data;
    free(r->cluster);
    free(r->ips);
    free(r->ports);
    free(r->username);
    free(r->password);
    free(r);
}

gw_redis *gw_redis_new(uv_loop_t *loop, const gw_cluster_conf *cc, const gw_redis_options *o)
{
    static const gw_redis_options none = {0};
    if (!o)
        o = &none;
    if (!cc || !cc->n_endpoints)
        return NULL;
    gw_redis *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->loop = loop;
    r->cluster = strdup(cc->name);
    r->ips = calloc(cc->n_endpoints, sizeof *r->ips);
    r->ports = calloc(cc->n_endpoints, sizeof *r->ports);
    r->username = dup_or_null(o->username);
    r->password = dup_or_null(o->password);
    if (!r->cluster || !r->ips || !r->ports || (o->password && *o->password && !r->password) ||
        (o->username && *o->username && !r->username)) {
        free(r->cluster);
        free(r->ips);
        free(r->ports);
        free(r->username);
        free(r->password);
        free(r);
        return NULL;
    }
    r->n_eps = cc->n_endpoints;
    for (size_t i = 0; i < cc->n_endpoints; i++) {
        const struct sockaddr_storage *ss = &cc->endpoints[i].addr.ss;
        if (ss->ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, r->ips[i],
                      sizeof r->ips[i]);
        else
            inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, r->ips[i],
                      sizeof r->ips[i]);
        r->ports[i] = cc->endpoints[i].port;
    }
    r->db = o->db;
    r->timeout_ms = o->timeout_ms ? o->timeout_ms : 1000;
    r->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms : cc->connect_timeout_ms;
    r->backoff_ms = BACKOFF_MIN_MS;
    gw_link_init(&r->calls);
    uv_timer_init(loop, &r->connect_timer);
    r->connect_timer.data = r;
    return r;
}

static bool str_same(const char *a, const char *b)
{
    if (a && !*a)
        a = NULL;
    if (b && !*b)
        b = NULL;
    return (!a && !b) || (a && b && !strcmp(a, b));
}

bool gw_redis_same(const gw_redis *r, const gw_cluster_conf *cc, const gw_redis_options *o)
{
    static const gw_redis_options none = {0};
    if (!o)
        o = &none;
    if (!r || !cc || strcmp(r->cluster, cc->name) != 0 || r->n_eps != cc->n_endpoints ||
        r->db != o->db || !str_same(r->username, o->username) ||
        !str_same(r->password, o->password) ||
        r->timeout_ms != (o->timeout_ms ? o->timeout_ms : 1000))
        return false;
    for (size_t i = 0; i < r->n_eps; i++)
        if (r->ports[i] != cc->endpoints[i].port)
            return false;
    return true;
}

/* ---- RESP ------------------------------------------------------------------ */

static void resp_write(ut_buf *b, const redisReply *rep)
{
    switch (rep->type) {
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        ut_buf_putc(b, rep->type == REDIS_REPLY_STATUS ? '+' : '-');
        ut_buf_append(b, rep->str, rep->len);
        ut_buf_append(b, "\r\n", 2);
        break;
    case REDIS_REPLY_INTEGER:
        ut_buf_printf(b, ":%lld\r\n", rep->integer);
        break;
    case REDIS_REPLY_NIL:
        ut_buf_puts(b, "$-1\r\n");
        break;
    case REDIS_REPLY_STRING:
        ut_buf_printf(b, "$%zu\r\n", rep->len);
        ut_buf_append(b, rep->str, rep->len);
        ut_buf_append(b, "\r\n", 2);
        break;
    case REDIS_REPLY_ARRAY:
        ut_buf_printf(b, "*%zu\r\n", rep->elements);
        for (size_t i = 0; i < rep->elements; i++)
            resp_write(b, rep->element[i]);
        break;
    default:
        ut_buf_puts(b, "-ERR unknown reply type\r\n");
    }
}

/* ---- calls ----------------------------------------------------------------- */

static void on_call_timer_closed(uv_handle_t *h)
{
    gw_redis_call *c = h->data;
    c->timer_open = false;
    if (!c->in_hiredis)
        free(c);
}

/* Ends a call: callback (unless cancelled), then release. */
static void call_end(gw_redis_call *c, gw_redis_result res, const char *reply, size_t len)
{
    if (c->done)
        return;
    c->done = true;
    gw_link_remove(&c->link);
    gw_redis_cb cb = c->cb;
    c->cb = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_call_timer_closed);
    if (cb)
        cb(c->user, res, reply, len);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    gw_redis_call *c = priv;
    c->in_hiredis = false;
    if (!c->done) {
        if (reply) {
            ut_buf b = {0};
            resp_write(&b, reply);
            if (b.oom)
                call_end(c, GW_REDIS_BAD_COMMAND, NULL, 0);
            else
                call_end(c, GW_REDIS_OK, b.data, b.len);
            ut_buf_free(&b);
        } else {
            call_end(c, GW_REDIS_DISCONNECTED, NULL, 0);
        }
    }
    if (!c->timer_open)
        free(c);
}

/* ---- connection ------------------------------------------------------------ */

/* Ends every call waiting on the connection with res (hiredis still lets
 * go of them later, with a NULL reply). */
static void fail_pending(gw_redis *r, gw_redis_result res)
{
    gw_link *l = r->calls.next;
    while (l != &r->calls) {
        gw_redis_call *c = GW_CONTAINER(l, gw_redis_call, link);
        l = l->next;
        if (c->in_hiredis)
            call_end(c, res, NULL, 0);
    }
}

/* Forgets the context and frees it: pending calls see NULL replies. */
static void drop_connection(gw_redis *r, bool failed)
{
    redisAsyncContext *ac = r->ac;
    if (r->state == ST_CONNECTING)
        fail_pending(r, GW_REDIS_CONNECT_FAILED);
    r->ac = NULL;
    r->state = ST_IDLE;
    uv_timer_stop(&r->connect_timer);
    if (failed) {
        r->retry_at = uv_now(r->loop) + r->backoff_ms;
        r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
        r->next_ep = (r->next_ep + 1) % r->n_eps;
    }
    if (ac) {
        ac->data = NULL;
        redisAsyncFree(ac);
    }
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    gw_redis *r = ac->data;
    if (!r || r->ac != ac)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees the context itself after this callback. */
        fail_pending(r, GW_REDIS_CONNECT_FAILED);
        r->ac = NULL;
        r->state = ST_IDLE;
        ((redisAsyncContext *)ac)->data = NULL;
        uv_timer_stop(&r->connect_timer);
        r->retry_at = uv_now(r->loop) + r->backoff_ms;
        r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
        r->next_ep = (r->next_ep + 1) % r->n_eps;
        return;
    }
    r->state = ST_CONNECTED;
    r->backoff_ms = BACKOFF_MIN_MS;
    uv_timer_stop(&r->connect_timer);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    gw_redis *r = ac->data;
    if (!r || r->ac != ac)
        return;
    r->ac = NULL; /* hiredis frees it */
    r->state = ST_IDLE;
    if (status != REDIS_OK) {
        r->retry_at = uv_now(r->loop) + r->backoff_ms;
        r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
        r->next_ep = (r->next_ep + 1) % r->n_eps;
    }
}

static void on_connect_timeout(uv_timer_t *t)
{
    gw_redis *r = t->data;
    if (r->state == ST_CONNECTING)
        drop_connection(r, true);
}

static void ignore_reply(redisAsyncContext *ac, void *reply, void *priv)
{
}

static bool connect_now(gw_redis *r)
{
    size_t i = r->next_ep % r->n_eps;
    redisAsyncContext *ac = redisAsyncConnect(r->ips[i], r->ports[i]);
    if (!ac)
        return false;
    if (ac->err || redisLibuvAttach(ac, r->loop) != REDIS_OK) {
        redisAsyncFree(ac);
        return false;
    }
    ac->data = r;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    r->ac = ac;
    r->state = ST_CONNECTING;
    uv_timer_start(&r->connect_timer, on_connect_timeout, r->connect_timeout_ms, 0);
    /* Queued before any call: hiredis sends them in order once connected.
     * A failed AUTH shows in the calls' replies (-NOAUTH). */
    if (r->password) {
        const char *argv[3] = {"AUTH", r->username ? r->username : r->password, r->password};
        int argc = r->username ? 3 : 2;
        redisAsyncCommandArgv(ac, ignore_reply, NULL, argc, argv, NULL);
    }
    if (r->db) {
        char db[16];
        snprintf(db, sizeof db, "%u", (unsigned)r->db);
        const char *argv[2] = {"SELECT", db};
        redisAsyncCommandArgv(ac, ignore_reply, NULL, 2, argv, NULL);
    }
    return true;
}

static void on_call_timer(uv_timer_t *t)
{
    gw_redis_call *c = t->data;
    gw_redis *r = c->r;
    if (c->soon) {
        call_end(c, c->soon, NULL, 0);
        return;
    }
    call_end(c, GW_REDIS_TIMEOUT, NULL, 0);
    /* Still waiting for the reply: this connection is unhealthy. */
    if (c->in_hiredis && r->ac)
        drop_connection(r, true);
}

gw_redis_call *gw_redis_call_raw(gw_redis *r, const void *cmd, size_t len, uint32_t timeout_ms,
                                 gw_redis_cb cb, void *user)
{
    if (!r || r->freeing)
        return NULL;
    gw_redis_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->r = r;
    c->cb = cb;
    c->user = user;
    uv_timer_init(r->loop, &c->timer);
    c->timer.data = c;
    c->timer_open = true;
    gw_link_insert(&r->calls, &c->link);
    if (!cmd || len == 0) {
        c->soon = GW_REDIS_BAD_COMMAND;
    } else if (!r->ac) {
        if (uv_now(r->loop) < r->retry_at || !connect_now(r)) {
            if (!r->ac && uv_now(r->loop) >= r->retry_at)
                r->retry_at = uv_now(r->loop) + BACKOFF_MIN_MS;
            c->soon = GW_REDIS_CONNECT_FAILED;
        }
    }
    if (!c->soon) {
        if (redisAsyncFormattedCommand(r->ac, on_reply, c, cmd, len) != REDIS_OK)
            c->soon = GW_REDIS_DISCONNECTED;
        else
            c->in_hiredis = true;
    }
    uv_timer_start(&c->timer, on_call_timer, c->soon ? 0 : (timeout_ms ? timeout_ms : r->timeout_ms),
                   0);
    return c;
}

void gw_redis_cancel(gw_redis_call *c)
{
    if (!c || c->done)
        return;
    c->cb = NULL;
    call_end(c, GW_REDIS_DISCONNECTED, NULL, 0);
}

void gw_redis_free(gw_redis *r)
{
    if (!r || r->freeing)
        return;
    r->freeing = true;
    while (!gw_link_empty(&r->calls)) {
        gw_redis_call *c = GW_CONTAINER(r->calls.next, gw_redis_call, link);
        gw_redis_cancel(c);
    }
    drop_connection(r, false);
    uv_close((uv_handle_t *)&r->connect_timer, on_client_closed);
}
