/*
 * gw_callout.c — one HTTP/1.1 request to a named cluster from a worker,
 * response collected in full (gw_callout.h).
 *
 * Owns:      the exchange on a gw_upconn: request bytes, response head and
 *            body framing, the total deadline (own timer), the body cap,
 *            one retry on a fresh connection when a pooled keep-alive
 *            connection turns out stale, passive-ejection accounting.
 * Not here:  endpoint choice and pools (gw_upstream.c), parsing rules
 *            (gw_http1.c).
 */
#include "gw_callout.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_upstream.h"
#include "ut_buf.h"

#define DEFAULT_MAX_BODY (4u << 20)
#define MAX_HEADERS 128

struct gw_callout {
    gw_worker *w;
    gw_cluster_state *cs;
    gw_endpoint_state *ep;
    gw_upconn *u;
    uv_timer_t timer;
    gw_callout_cb cb;
    void *user;
    ut_buf req;
    ut_buf head_copy;
    ut_buf body;
    size_t max_body;
    gw_http1_parser parser;
    gw_http1_head head;
    gw_http1_body dec;
    gw_header headers[MAX_HEADERS];
    gw_callout_result soon; /* result to report from the timer (async failure) */
    bool head_done;
    bool writing;
    bool retried;
    bool done;
};

static void on_connected(gw_upconn *u, int status);
static void on_data(gw_upconn *u, ssize_t nread);
static void attempt(gw_callout *c);

const char *gw_callout_result_name(gw_callout_result r)
{
    static const char *const names[] = {"ok", "no_cluster", "no_endpoint", "connect_failed",
                                        "reset", "timeout", "too_large", "bad_response"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

static void on_timer_closed(uv_handle_t *h)
{
    gw_callout *c = h->data;
    ut_buf_free(&c->req);
    ut_buf_free(&c->head_copy);
    ut_buf_free(&c->body);
    free(c);
}

/* Gives the connection back (reusable) or closes it. */
static void detach(gw_callout *c, bool reusable)
{
    gw_upconn *u = c->u;
    if (!u)
        return;
    c->u = NULL;
    if (c->ep && c->ep->n_active)
        c->ep->n_active--;
    u->on_timeout = NULL;
    if (reusable && !c->writing && !u->eof && u->pos == u->len)
        gw_upstream_release(u);
    else
        gw_upstream_close(u);
}

static void finish(gw_callout *c, gw_callout_result result)
{
    if (c->done)
        return;
    c->done = true;
    detach(c, false);
    uv_timer_stop(&c->timer);
    if (c->cs && c->cs->users)
        c->cs->users--;
    gw_callout_cb cb = c->cb;
    c->cb = NULL;
    if (cb && result != GW_CALLOUT_OK)
        cb(c->user, result, NULL);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

static void succeed(gw_callout *c)
{
    gw_callout_response resp = {
        .status = c->head.status,
        .headers = c->head.headers,
        .n_headers = c->head.n_headers,
        .body = c->body.data ? c->body.data : "",
        .body_len = c->body.len,
    };
    bool reusable = c->head.keep_alive && c->dec.kind != GW_BODY_UNTIL_CLOSE;
    if (c->ep)
        gw_upstream_report(c->ep, c->head.status < 500);
    detach(c, reusable);
    gw_callout_cb cb = c->cb;
    c->cb = NULL;
    if (cb)
        cb(c->user, GW_CALLOUT_OK, &resp);
    finish(c, GW_CALLOUT_OK);
}

static void on_timer(uv_timer_t *t)
{
    gw_callout *c = t->data;
    finish(c, c->soon ? c->soon : GW_CALLOUT_TIMEOUT);
}

static void fail_soon(gw_callout *c, gw_callout_result r)
{
    c->soon = r;
    uv_timer_start(&c->timer, on_timer, 0, 0);
}

static void on_written(uv_write_t *req, int status)
{
    gw_upconn *u = req->data;
    if (u->closing || !u->owner)
        return;
    gw_callout *c = u->owner;
    c->writing = false;
    if (status < 0)
        finish(c, GW_CALLOUT_RESET);
}

static void send_request(gw_callout *c)
{
    gw_upconn *u = c->u;
    uv_buf_t b = uv_buf_init(c->req.data, (unsigned)c->req.len);
    u->wreq.data = u;
    c->writing = true;
    gw_upstream_read_resume(u);
    if (uv_write(&u->wreq, (uv_stream_t *)&u->tcp, &b, 1, on_written) < 0) {
        c->writing = false;
        finish(c, GW_CALLOUT_RESET);
    }
}

/* A pooled connection that closes before any response byte was stale:
 * try once more on a new one. */
static bool retry_stale(gw_callout *c)
{
    gw_upconn *u = c->u;
    if (c->retried || !u || !u->reused || u->len != 0 || c->head_done)
        return false;
    c->retried = true;
    c->writing = false; /* the write (if any) fails with the old conn */
    detach(c, false);
    attempt(c);
    return true;
}

static void pump(gw_callout *c)
{
    gw_upconn *u = c->u;
    while (!c->head_done) {
        ssize_t r = gw_http1_parse_head(&c->parser, u->buf + u->pos, u->len - u->pos, &c->head);
        if (r == GW_HTTP1_AGAIN) {
            if (u->eof) {
                if (!retry_stale(c))
                    finish(c, GW_CALLOUT_RESET);
            } else if (u->len - u->pos >= GW_BUF_SIZE) {
                finish(c, GW_CALLOUT_TOO_LARGE);
            }
            return;
        }
        if (r == GW_HTTP1_ERROR) {
            finish(c, GW_CALLOUT_BAD_RESPONSE);
            return;
        }
        if (c->head.status < 200) { /* interim: drop */
            u->pos += (size_t)r;
            c->parser.scanned = 0;
            continue;
        }
        /* Keep the head: the read buffer is compacted later. */
        ut_buf_append(&c->head_copy, u->buf + u->pos, (size_t)r);
        if (c->head_copy.oom) {
            finish(c, GW_CALLOUT_TOO_LARGE);
            return;
        }
        u->pos += (size_t)r;
        gw_http1_limits lim = {65536, MAX_HEADERS, 8192};
        gw_http1_parser_init(&c->parser, true, &lim, c->headers, MAX_HEADERS);
        c->parser.request_was_head = false;
        gw_http1_parse_head(&c->parser, c->head_copy.data, c->head_copy.len, &c->head);
        if (c->head.body == GW_BODY_LENGTH && c->head.content_length > c->max_body) {
            finish(c, GW_CALLOUT_TOO_LARGE);
            return;
        }
        gw_http1_body_init(&c->dec, &c->head, 16384);
        c->head_done = true;
    }
    while (u->pos < u->len && !c->dec.done) {
        const char *data;
        size_t n;
        ssize_t used = gw_http1_body_decode(&c->dec, u->buf + u->pos, u->len - u->pos, &data, &n);
        if (used == GW_HTTP1_ERROR) {
            finish(c, GW_CALLOUT_BAD_RESPONSE);
            return;
        }
        u->pos += (size_t)used;
        if (c->body.len + n > c->max_body) {
            finish(c, GW_CALLOUT_TOO_LARGE);
            return;
        }
        ut_buf_append(&c->body, data, n);
        if (c->body.oom) {
            finish(c, GW_CALLOUT_TOO_LARGE);
            return;
        }
    }
    if (u->pos == u->len)
        u->pos = u->len = 0;
    if (!c->dec.done && u->eof) {
        if (c->dec.kind == GW_BODY_UNTIL_CLOSE) {
            c->dec.done = true;
        } else {
            finish(c, GW_CALLOUT_RESET);
            return;
        }
    }
    if (c->dec.done)
        succeed(c);
}

static void on_data(gw_upconn *u, ssize_t nread)
{
    gw_callout *c = u->owner;
    if (!c)
        return;
    if (nread == UV_ENOBUFS) {
        gw_upstream_read_pause(u);
        finish(c, GW_CALLOUT_TOO_LARGE);
        return;
    }
    if (nread < 0) {
        u->eof = true;
        gw_upstream_read_pause(u);
    } else {
        u->len += (size_t)nread;
    }
    pump(c);
}

static void on_connected(gw_upconn *u, int status)
{
    gw_callout *c = u->owner;
    if (!c)
        return;
    if (status < 0) {
        if (c->ep)
            gw_upstream_report(c->ep, false);
        finish(c, GW_CALLOUT_CONNECT_FAILED);
        return;
    }
    send_request(c);
}

static void attempt(gw_callout *c)
{
    c->ep = gw_upstream_pick(c->cs, NULL);
    if (!c->ep) {
        fail_soon(c, GW_CALLOUT_NO_ENDPOINT);
        return;
    }
    gw_http1_limits lim = {65536, MAX_HEADERS, 8192};
    gw_http1_parser_init(&c->parser, true, &lim, c->headers, MAX_HEADERS);
    int err = 0;
    gw_upconn *u = gw_upstream_acquire(c->ep, c, on_connected, on_data, &err);
    if (!u) {
        fail_soon(c, GW_CALLOUT_NO_ENDPOINT);
        return;
    }
    c->u = u;
    c->ep->n_active++;
    if (u->connected)
        send_request(c);
}

static bool skip_header(gw_str name)
{
    return gw_str_ieq(name, "host") || gw_str_ieq(name, "content-length") ||
           gw_str_ieq(name, "transfer-encoding") || gw_str_ieq(name, "connection") ||
           (name.len && name.base[0] == ':');
}

gw_callout *gw_callout_start(gw_worker *w, const gw_callout_request *req, gw_callout_cb cb,
                             void *user, gw_callout_result *result)
{
    gw_cluster_state *cs = NULL;
    for (gw_cluster_state *s = w->clusters; s && req->cluster; s = s->next)
        if (!s->removed && s->conf && !strcmp(s->name, req->cluster))
            cs = s;
    if (!cs) {
        *result = GW_CALLOUT_NO_CLUSTER;
        return NULL;
    }
    gw_callout *c = calloc(1, sizeof *c);
    if (!c) {
        *result = GW_CALLOUT_RESET;
        return NULL;
    }
    c->w = w;
    c->cs = cs;
    c->cb = cb;
    c->user = user;
    c->max_body = req->max_body ? req->max_body : DEFAULT_MAX_BODY;
    ut_buf *b = &c->req;
    ut_buf_printf(b, "%s %s HTTP/1.1\r\nHost: %s\r\n", req->method ? req->method : "GET",
                  req->path && req->path[0] ? req->path : "/",
                  req->authority ? req->authority : cs->name);
    for (size_t i = 0; i < req->n_headers; i++) {
        const gw_header *h = &req->headers[i];
        if (skip_header(h->name))
            continue;
        ut_buf_append(b, h->name.base, h->name.len);
        ut_buf_append(b, ": ", 2);
        ut_buf_append(b, h->value.base, h->value.len);
        ut_buf_append(b, "\r\n", 2);
    }
    if (req->body_len || (req->method && (!strcasecmp(req->method, "POST") ||
                                          !strcasecmp(req->method, "PUT"))))
        ut_buf_printf(b, "Content-Length: %zu\r\n", req->body_len);
    ut_buf_append(b, "\r\n", 2);
    if (req->body_len)
        ut_buf_append(b, req->body, req->body_len);
    if (b->oom) {
        ut_buf_free(b);
        free(c);
        *result = GW_CALLOUT_RESET;
        return NULL;
    }
    uv_timer_init(&w->loop, &c->timer);
    c->timer.data = c;
    uint32_t t = req->timeout_ms ? req->timeout_ms : cs->conf->request_timeout_ms;
    uv_timer_start(&c->timer, on_timer, t, 0);
    cs->users++;
    *result = GW_CALLOUT_OK;
    attempt(c);
    return c;
}

void gw_callout_cancel(gw_callout *c)
{
    if (!c || c->done)
        return;
    c->cb = NULL;
    finish(c, GW_CALLOUT_RESET);
}
