/*
 * gw_proxy.c — forwards one exchange to an upstream cluster: builds the
 * upstream request head (forwarding headers, hop-by-hop removal,
 * rewrites), streams the request body up and the response back with
 * backpressure on both sides, re-frames bodies when the two sides need
 * different framing, retries, timeouts, and maps upstream failures to
 * 502/503/504.
 *
 * Owns:      the upstream half of gw_stream.
 * Not here:  the client connection (gw_conn.c), pools, load balancing and
 *            connecting (gw_upstream.c).
 *
 * Backpressure: at most one write per direction is in flight. While a
 * write toward the upstream is pending, the client is not read; while a
 * write toward the client is pending, the upstream is not read. Each side
 * keeps one read buffer, so a slow reader costs at most one buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_conn.h"
#include "gw_router.h"

#define IOV_MAX_N (2 + 3 * GW_PIPE_SPANS + 1)

static void req_pump(gw_stream *s);
static void resp_pump(gw_stream *s);
static void attempt(gw_stream *s);
static void on_up_data(gw_upconn *u, ssize_t nread);

static bool name_is(gw_str n, const char *lower, size_t len)
{
    return n.len == len && gw_str_ieq(n, lower);
}

/* ---- heads ------------------------------------------------------------ */

/* A head followed by a small body goes out as one buffer: one copy of a
 * few hundred bytes is cheaper than a scatter write and an extra segment.
 * iov[0] is the head in `head`; returns the new number of vectors. */
#define COALESCE_MAX 4096
static unsigned coalesce(ut_buf *head, uv_buf_t *iov, unsigned n)
{
    size_t body = 0;
    for (unsigned i = 1; i < n; i++)
        body += iov[i].len;
    if (n < 2 || body > COALESCE_MAX)
        return n;
    size_t head_len = iov[0].len;
    if (head_len != head->len || !ut_buf_reserve(head, body))
        return n;
    for (unsigned i = 1; i < n; i++)
        ut_buf_append(head, iov[i].base, iov[i].len);
    iov[0] = uv_buf_init(head->data, (unsigned)head->len);
    head->len = head_len; /* the head alone, should it be sent again (retry) */
    return 1;
}

static void build_up_head(gw_stream *s)
{
    gw_conn *c = s->c;
    const gw_route_conf *r = s->route;
    gw_http1_head *req = &s->req;
    ut_buf *b = &s->up_head;
    ut_buf_reset(b);

    ut_buf_append(b, req->method.base, req->method.len);
    ut_buf_putc(b, ' ');
    gw_str target = req->target;
    if (target.len && target.base[0] != '/' && target.base[0] != '*') {
        /* absolute-form: forward origin-form */
        const char *sep = memchr(target.base, ':', target.len);
        if (sep && (size_t)(target.base + target.len - sep) > 3 && sep[1] == '/' && sep[2] == '/') {
            const char *auth = sep + 3;
            const char *end = target.base + target.len;
            const char *slash = memchr(auth, '/', (size_t)(end - auth));
            target.base = slash ? slash : "/";
            target.len = slash ? (size_t)(end - slash) : 1;
        }
    }
    gw_router_rewrite_target(r, target, b);
    ut_buf_puts(b, " HTTP/1.1\r\nHost: ");
    if (r->host_rewrite)
        ut_buf_puts(b, r->host_rewrite);
    else if (req->host)
        ut_buf_append(b, req->host->value.base, req->host->value.len);
    else if (r->cluster->n_endpoints) /* HTTP/1.0 without Host */
        ut_buf_puts(b, r->cluster->endpoints[0].address);
    else
        ut_buf_puts(b, "localhost");
    ut_buf_puts(b, "\r\n");

    const gw_header *xff = NULL, *via = NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        const gw_header *h = &req->headers[i];
        gw_str n = h->name;
        switch (n.len) {
        case 3:
            if (name_is(n, "via", 3)) {
                via = h;
                continue;
            }
            break;
        case 4:
            if (name_is(n, "host", 4))
                continue;
            break;
        case 6:
            if (name_is(n, "expect", 6))
                continue;
            break;
        case 12:
            if (name_is(n, "x-request-id", 12))
                continue;
            break;
        case 14:
            if (name_is(n, "content-length", 14))
                continue;
            break;
        case 15:
            if (name_is(n, "x-forwarded-for", 15)) {
                xff = h; /* the last one wins; several are joined below */
                continue;
            }
            break;
        case 17:
            if (name_is(n, "x-forwarded-proto", 17))
                continue;
            break;
        }
        if (gw_http1_is_hop_by_hop(req, n))
            continue;
        ut_buf_append(b, n.base, n.len);
        ut_buf_puts(b, ": ");
        ut_buf_append(b, h->value.base, h->value.len);
        ut_buf_puts(b, "\r\n");
    }
    ut_buf_puts(b, "X-Forwarded-For: ");
    if (xff) {
        /* keep every X-Forwarded-For the client sent, in order */
        bool first = true;
        for (size_t i = 0; i < req->n_headers; i++) {
            const gw_header *h = &req->headers[i];
            if (h->name.len == 15 && name_is(h->name, "x-forwarded-for", 15) && h->value.len) {
                if (!first)
                    ut_buf_puts(b, ", ");
                ut_buf_append(b, h->value.base, h->value.len);
                first = false;
            }
        }
        if (!first)
            ut_buf_puts(b, ", ");
    }
    ut_buf_puts(b, c->peer);
    ut_buf_puts(b, c->tls ? "\r\nX-Forwarded-Proto: https\r\nVia: " : "\r\nX-Forwarded-Proto: http\r\nVia: ");
    if (via) {
        ut_buf_append(b, via->value.base, via->value.len);
        ut_buf_puts(b, ", ");
    }
    ut_buf_puts(b, req->minor_version == 0 ? "1.0 sluice\r\nX-Request-Id: " : "1.1 sluice\r\nX-Request-Id: ");
    ut_buf_puts(b, s->request_id);
    ut_buf_puts(b, "\r\n");
    if (s->body_filter && req->body != GW_BODY_NONE)
        ut_buf_puts(b, "Transfer-Encoding: chunked\r\n"); /* plugins may change the length */
    else if (req->body == GW_BODY_LENGTH) {
        ut_buf_puts(b, "Content-Length: ");
        ut_buf_put_u64(b, req->content_length);
        ut_buf_puts(b, "\r\n");
    }
    else if (req->body == GW_BODY_CHUNKED)
        ut_buf_puts(b, "Transfer-Encoding: chunked\r\n");
    ut_buf_puts(b, "\r\n");
}

/* Builds the client's response head from the upstream's; decides framing. */
static void build_down_head(gw_stream *s)
{
    gw_conn *c = s->c;
    gw_http1_head *resp = &s->resp;
    ut_buf *b = &s->head_out;
    ut_buf_reset(b);
    bool client10 = s->req.minor_version == 0;

    s->resp_pipe.chunked_out = false;
    gw_body_kind framing = resp->body;
    if (s->resp_filter)
        framing = GW_BODY_CHUNKED; /* plugins may change the length */
    switch (framing) {
    case GW_BODY_NONE:
    case GW_BODY_LENGTH:
        break;
    case GW_BODY_CHUNKED:
    case GW_BODY_UNTIL_CLOSE:
        if (client10)
            c->keep_alive = false; /* HTTP/1.0: close-delimited */
        else
            s->resp_pipe.chunked_out = true;
        break;
    }
    if (!s->req_done && s->req.body != GW_BODY_NONE)
        c->keep_alive = false; /* early response: the rest of the body is not read */

    ut_buf_puts(b, "HTTP/1.1 ");
    ut_buf_put_u64(b, (uint64_t)resp->status);
    ut_buf_putc(b, ' ');
    ut_buf_append(b, resp->reason.base, resp->reason.len);
    ut_buf_puts(b, "\r\n");
    for (size_t i = 0; i < resp->n_headers; i++) {
        const gw_header *h = &resp->headers[i];
        if (gw_http1_is_hop_by_hop(resp, h->name))
            continue;
        if (framing != GW_BODY_LENGTH && h->name.len == 14 &&
            name_is(h->name, "content-length", 14) && framing != GW_BODY_NONE)
            continue;
        ut_buf_append(b, h->name.base, h->name.len);
        ut_buf_puts(b, ": ");
        ut_buf_append(b, h->value.base, h->value.len);
        ut_buf_puts(b, "\r\n");
    }
    if (s->resp_pipe.chunked_out)
        ut_buf_puts(b, "Transfer-Encoding: chunked\r\n");
    if (!c->keep_alive)
        ut_buf_puts(b, "Connection: close\r\n");
    else if (client10)
        ut_buf_puts(b, "Connection: keep-alive\r\n");
    ut_buf_puts(b, "\r\n");
}

/* ---- failure and retry -------------------------------------------------- */

static void detach_up(gw_stream *s, bool reusable)
{
    gw_upconn *u = s->up;
    if (!u)
        return;
    s->up = NULL;
    u->owner = NULL;
    gw_upstream_clear_deadline(u);
    if (s->ep) {
        s->ep->n_active--;
    }
    if (reusable)
        gw_upstream_release(u);
    else
        gw_upstream_close(u);
}

void gw_proxy_abort(gw_stream *s)
{
    detach_up(s, false);
    if (s->cluster) {
        s->cluster->users--;
        s->cluster = NULL;
    }
}

static bool may_retry(gw_stream *s)
{
    const gw_cluster_conf *cc = s->route->cluster;
    return s->attempts <= cc->retries && !s->resp_started;
}

/* No byte of the request body was taken from the client yet (so any
 * request may be retried: the head is rebuilt, the body is still there). */
static bool nothing_sent(gw_stream *s)
{
    return !s->body_taken;
}

/* Rewinds the request so it can be sent again: always possible before
 * any body byte was taken; afterwards only for replayable requests. */
static bool rewind_request(gw_stream *s)
{
    if (s->body_taken) {
        if (!s->replayable)
            return false;
        s->c->pos = s->body_pos;
        s->body_taken = false;
    }
    memset(&s->req_pipe, 0, sizeof s->req_pipe);
    gw_http1_body_init(&s->req_pipe.dec, &s->req, s->c->gen->cfg->limits.max_header_bytes);
    s->req_pipe.chunked_out = s->req.body == GW_BODY_CHUNKED;
    s->req_done = false;
    return true;
}

static void fail(gw_stream *s, int status, const char *why)
{
    detach_up(s, false);
    gw_stream_respond_error(s, status, why);
}

/* The current attempt failed before a response was forwarded. */
static void attempt_failed(gw_stream *s, int status, const char *why, bool retry_allowed)
{
    if (s->ep)
        gw_upstream_report(s->ep, false);
    detach_up(s, false);
    if (retry_allowed && may_retry(s) && rewind_request(s)) {
        gw_stats_cluster_retry(s->w->stats, s->route->cluster->stat_slot);
        attempt(s);
        return;
    }
    fail(s, status, why);
}

static void on_up_timeout(gw_upconn *u)
{
    gw_stream *s = u->owner;
    if (!s)
        return;
    gw_stats_cluster_timeout(s->w->stats, s->route->cluster->stat_slot);
    if (s->resp_started) {
        s->error = "upstream timed out mid-response";
        gw_conn_close(s->c);
        return;
    }
    attempt_failed(s, 504, "upstream request timeout", false);
}

static void arm_request_timer(gw_stream *s)
{
    if (s->up)
        gw_upstream_set_deadline(s->up, s->route->cluster->request_timeout_ms);
}

/* ---- request direction: client -> upstream ------------------------------ */

static void on_req_written(uv_write_t *req, int status)
{
    gw_upconn *u = req->data;
    gw_stream *s = u->owner;
    if (!s)
        return;
    s->req_writing = false;
    if (status < 0) {
        attempt_failed(s, 502, "upstream write failed", s->up && s->up->reused && s->resp.status == 0);
        return;
    }
    arm_request_timer(s);
    req_pump(s);
}

static void send_continue(gw_stream *s);

/* The request body through the plugins' body callbacks: decoded payload is
 * copied out of the client buffer, run through the chain, and what the
 * plugins let through goes upstream chunked (s->up_body keeps it until
 * the write completes). */
static void req_pump_filtered(gw_stream *s)
{
    gw_conn *c = s->c;
    for (;;) {
        if (s->req_writing || s->req_done || !s->up || !s->up->connected)
            return;
        ut_buf *in = &s->body_in, *fwd = &s->up_body;
        ut_buf_reset(in);
        ut_buf_reset(fwd);
        bool held = s->plugins.hold[0].on, resume = gw_plugin_body_resumable(s, false);
        if (held && !resume) {
            if (!s->up_head_sent)
                goto write; /* the head goes up while the plugin holds the body */
            return;
        }
        size_t before = c->pos;
        while (!resume && !s->req_pipe.dec.done && c->pos < c->len) {
            const char *d;
            size_t dl = 0;
            ssize_t r = gw_http1_body_decode(&s->req_pipe.dec, c->buf + c->pos, c->len - c->pos, &d, &dl);
            if (r < 0) {
                s->error = s->req_pipe.dec.error;
                c->keep_alive = false;
                fail(s, 400, "malformed chunked request body");
                return;
            }
            c->pos += (size_t)r;
            ut_buf_append(in, d, dl);
            if (r == 0 && dl == 0)
                break;
        }
        if (c->pos != before)
            s->body_taken = true;
        s->req_pipe.bytes += in->len;
        uint64_t maxb = c->gen->cfg->limits.max_body_bytes;
        if (maxb && s->req_pipe.bytes > maxb) {
            c->keep_alive = false;
            fail(s, 413, "request body too large");
            return;
        }
        if (in->oom) {
            fail(s, 503, "out of memory");
            return;
        }
        bool eos = resume ? s->plugins.hold[0].eos : s->req_pipe.dec.done;
        if (!resume && in->len == 0 && !eos) {
            if (!s->up_head_sent)
                goto write;
            if (s->req.expect_continue && !s->sent_continue)
                send_continue(s);
            gw_conn_body_consumed(c); /* need more from the client */
            return;
        }
        gw_str payload;
        if (gw_plugin_body(s, false, resume ? NULL : in->data, resume ? 0 : in->len, eos, &payload))
            return; /* answered or closed by a plugin */
        gw_chunk_frame(fwd, payload.base, payload.len);
        if (eos && !s->plugins.hold[0].on) {
            ut_buf_puts(fwd, "0\r\n\r\n");
            s->req_done = true;
        }
        if (fwd->oom) {
            fail(s, 503, "out of memory");
            return;
        }
        gw_conn_body_consumed(c);
    write:;
        uv_buf_t iov[2];
        unsigned n = 0;
        if (!s->up_head_sent) {
            iov[n++] = uv_buf_init(s->up_head.data, (unsigned)s->up_head.len);
            s->up_head_sent = true;
        }
        if (fwd->len)
            iov[n++] = uv_buf_init(fwd->data, (unsigned)fwd->len);
        if (!n) {
            if (s->req_done) {
                arm_request_timer(s);
                return;
            }
            continue;
        }
        s->up->wreq.data = s->up;
        int r = gw_write_iov((uv_stream_t *)&s->up->tcp, &s->up->wreq, iov, n, on_req_written);
        if (r < 0) {
            attempt_failed(s, 502, "upstream write failed", false);
            return;
        }
        if (r == GW_WRITE_PENDING) {
            s->req_writing = true;
            gw_conn_read_pause(c);
            return;
        }
        if (s->req_done) {
            arm_request_timer(s);
            return;
        }
    }
}

static void req_pump(gw_stream *s)
{
    gw_conn *c = s->c;
    if (s->body_filter) {
        req_pump_filtered(s);
        return;
    }
    for (;;) {
        if (s->req_writing || s->req_done || !s->up || !s->up->connected)
            return;
        uv_buf_t iov[IOV_MAX_N];
        unsigned n = 0;
        if (!s->up_head_sent) {
            iov[n++] = uv_buf_init(s->up_head.data, (unsigned)s->up_head.len);
            s->up_head_sent = true;
        }
        size_t pos_before = c->pos;
        int fill = gw_pipe_fill(&s->req_pipe, c->buf, &c->pos, c->len, iov, &n, IOV_MAX_N);
        if (c->pos != pos_before)
            s->body_taken = true;
        if (fill < 0) {
            s->error = s->req_pipe.dec.error;
            c->keep_alive = false;
            fail(s, 400, "malformed chunked request body");
            return;
        }
        uint64_t maxb = c->gen->cfg->limits.max_body_bytes;
        if (maxb && s->req_pipe.bytes > maxb) {
            c->keep_alive = false;
            fail(s, 413, "request body too large");
            return;
        }
        if (n == 0) {
            if (s->req_pipe.dec.done && s->req_pipe.end_written) {
                s->req_done = true;
                arm_request_timer(s);
                return;
            }
            if (s->req.expect_continue && !s->sent_continue)
                send_continue(s);
            gw_conn_body_consumed(c); /* need more from the client */
            return;
        }
        s->up->wreq.data = s->up;
        if (iov[0].base == s->up_head.data)
            n = coalesce(&s->up_head, iov, n);
        int r = gw_write_iov((uv_stream_t *)&s->up->tcp, &s->up->wreq, iov, n, on_req_written);
        if (r < 0) {
            attempt_failed(s, 502, "upstream write failed", s->up->reused && nothing_sent(s));
            return;
        }
        if (r == GW_WRITE_PENDING) {
            s->req_writing = true;
            gw_conn_read_pause(c);
            return;
        }
    }
}

static void on_continue_written(gw_conn *c, int status)
{
    if (status < 0) {
        gw_conn_close(c);
        return;
    }
    gw_stream *s = c->stream;
    if (!s)
        return;
    req_pump(s);
    if (c->stream == s && !c->closing)
        resp_pump(s);
}

static void send_continue(gw_stream *s)
{
    static char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    s->sent_continue = true;
    uv_buf_t b = uv_buf_init(cont, sizeof cont - 1);
    int r = gw_conn_write(s->c, &b, 1, on_continue_written);
    if (r < 0)
        gw_conn_close(s->c);
}

void gw_proxy_resume_response(gw_stream *s)
{
    resp_pump(s);
}

void gw_proxy_on_client_data(gw_stream *s)
{
    if (s->up && s->up->connected)
        req_pump(s);
    else
        gw_conn_read_pause(s->c); /* wait for the connection */
}

/* ---- response direction: upstream -> client ---------------------------- */

static void exchange_done(gw_stream *s)
{
    gw_upconn *u = s->up;
    bool reusable = u && s->req_done && s->resp.keep_alive && s->resp.body != GW_BODY_UNTIL_CLOSE &&
                    u->pos == u->len && !s->resp_pipe.dec.error;
    if (s->ep)
        gw_upstream_report(s->ep, s->status < 500);
    if (!s->req_done)
        s->c->keep_alive = false;
    detach_up(s, reusable);
    gw_stream_finish(s);
}

static void on_resp_written(gw_conn *c, int status)
{
    gw_stream *s = c->stream;
    if (!s)
        return;
    s->resp_writing = false;
    if (status < 0) {
        s->error = "client write failed";
        gw_conn_close(c);
        return;
    }
    resp_pump(s);
}

static void up_read_resume(gw_upconn *u)
{
    gw_upstream_read_resume(u);
}

static void up_read_pause(gw_upconn *u)
{
    gw_upstream_read_pause(u);
}

static bool head_has_room(gw_upconn *u)
{
    return u->len < GW_BUF_SIZE;
}

/* The response body through the plugins' body callbacks (reverse chain
 * order): decoded upstream payload is copied out, passed to the plugins,
 * and what they let through goes to the client chunked (close-delimited
 * for HTTP/1.0). head is the response head when it has not been written
 * yet. Loops until it must wait for the client, the upstream or a plugin. */
static void resp_pump_filtered(gw_stream *s, const uv_buf_t *head)
{
    gw_conn *c = s->c;
    bool chunked = s->resp_pipe.chunked_out;
    for (;;) {
        gw_upconn *u = s->up;
        if (s->resp_writing || s->resp_done || !u || c->writing)
            return;
        if (s->resp_filter_finished) { /* the last write completed */
            s->resp_done = true;
            exchange_done(s);
            return;
        }
        ut_buf *in = &s->body_in, *out = &s->resp_body_out;
        ut_buf_reset(in);
        ut_buf_reset(out);
        gw_stream_plugins *sp = &s->plugins;
        bool resume = gw_plugin_body_resumable(s, true);
        if (sp->hold[1].on && !resume && !head)
            return; /* a plugin keeps the body until it continues */
        while (!sp->hold[1].on && !s->resp_pipe.dec.done && u->pos < u->len) {
            const char *d;
            size_t dl = 0;
            ssize_t r = gw_http1_body_decode(&s->resp_pipe.dec, u->buf + u->pos, u->len - u->pos, &d, &dl);
            if (r < 0) {
                s->error = "malformed response body from upstream";
                detach_up(s, false);
                gw_conn_close(c);
                return;
            }
            u->pos += (size_t)r;
            ut_buf_append(in, d, dl);
            if (r == 0 && dl == 0)
                break;
        }
        if (u->eof && s->resp_pipe.dec.kind == GW_BODY_UNTIL_CLOSE && u->pos == u->len)
            s->resp_pipe.dec.done = true;
        bool eos = resume ? sp->hold[1].eos : s->resp_pipe.dec.done;
        if (in->oom) {
            s->error = "out of memory";
            gw_conn_close(c);
            return;
        }
        if (resume || (!sp->hold[1].on && (in->len || eos))) {
            gw_str payload;
            if (gw_plugin_body(s, true, resume ? NULL : in->data, resume ? 0 : in->len, eos, &payload))
                return; /* closed */
            s->resp_pipe.bytes += payload.len;
            if (chunked)
                gw_chunk_frame(out, payload.base, payload.len);
            else
                ut_buf_append(out, payload.base, payload.len);
        }
        bool finished = eos && !sp->hold[1].on;
        if (finished && chunked)
            ut_buf_puts(out, "0\r\n\r\n");
        if (out->oom) {
            s->error = "out of memory";
            gw_conn_close(c);
            return;
        }
        uv_buf_t iov[2];
        unsigned n = 0;
        if (head) {
            iov[n++] = *head;
            head = NULL;
        }
        if (out->len)
            iov[n++] = uv_buf_init(out->data, (unsigned)out->len);
        if (n) {
            int r = gw_conn_write(c, iov, n, on_resp_written);
            if (r < 0) {
                s->error = "client write failed";
                gw_conn_close(c);
                return;
            }
            if (r == GW_WRITE_PENDING) {
                s->resp_writing = true;
                up_read_pause(u);
                gw_upstream_clear_deadline(u);
                if (finished)
                    s->resp_filter_finished = true;
                return;
            }
        }
        if (finished) {
            s->resp_done = true;
            exchange_done(s);
            return;
        }
        if (sp->hold[1].on)
            return; /* wait for the plugin (wake) */
        if (u->eof && !s->resp_pipe.dec.done) {
            s->error = "upstream closed mid-response";
            detach_up(s, false);
            gw_conn_close(c);
            return;
        }
        if (u->pos == u->len)
            u->pos = u->len = 0;
        if (!u->reading)
            arm_request_timer(s);
        up_read_resume(u);
        return;
    }
}

static void resp_pump(gw_stream *s)
{
    gw_conn *c = s->c;
    for (;;) {
        gw_upconn *u = s->up;
        if (s->resp_writing || s->resp_done || !u || c->writing)
            return;
        uv_buf_t iov[IOV_MAX_N];
        unsigned n = 0;
        if (!s->resp_started) {
            ssize_t r = gw_http1_parse_head(&s->resp_parser, u->buf + u->pos, u->len - u->pos, &s->resp);
            if (r == GW_HTTP1_AGAIN) {
                if (u->eof) {
                    bool stale = u->reused && u->len == 0;
                    attempt_failed(s, 502, "upstream closed the connection before responding",
                                   stale || (s->route->cluster->retry_on_5xx && s->idempotent));
                    return;
                }
                if (!head_has_room(u)) {
                    attempt_failed(s, 502, "upstream response head too large", false);
                    return;
                }
                up_read_resume(u);
                return;
            }
            if (r == GW_HTTP1_ERROR) {
                attempt_failed(s, 502, "malformed response from upstream", false);
                return;
            }
            if (s->resp.status < 200) {
                /* Interim responses: we answered 100 ourselves; drop them. */
                u->pos += (size_t)r;
                s->resp_parser.scanned = 0;
                if (s->resp.status == 101) {
                    attempt_failed(s, 502, "upstream switched protocols", false);
                    return;
                }
                continue;
            }
            const gw_cluster_conf *cc = s->route->cluster;
            if (s->resp.status >= 500 && cc->retry_on_5xx && s->idempotent && may_retry(s) &&
                (s->replayable || nothing_sent(s)) && s->req_done) {
                gw_stats_cluster_response(s->w->stats, cc->stat_slot, s->resp.status);
                attempt_failed(s, 502, "upstream 5xx", true);
                return;
            }
            u->pos += (size_t)r;
            s->status = s->resp.status;
            gw_stats_cluster_response(s->w->stats, cc->stat_slot, s->status);
            if (s->plugins.n && !gw_plugin_response_headers(s))
                return; /* replaced by a local reply, or closed */
            s->resp_filter = gw_plugin_filters_body(s, true);
            build_down_head(s);
            if (s->head_out.oom) {
                fail(s, 502, "out of memory");
                return;
            }
            memset(&s->resp_pipe.dec, 0, sizeof s->resp_pipe.dec);
            gw_http1_body_init(&s->resp_pipe.dec, &s->resp, 16384);
            s->resp_started = true;
            iov[n++] = uv_buf_init(s->head_out.data, (unsigned)s->head_out.len);
            s->bytes_out += s->head_out.len;
        }
        if (s->resp_filter) {
            resp_pump_filtered(s, n ? &iov[0] : NULL);
            return;
        }
        if (gw_pipe_fill(&s->resp_pipe, u->buf, &u->pos, u->len, iov, &n, IOV_MAX_N) < 0) {
            s->error = "malformed response body from upstream";
            detach_up(s, false);
            gw_conn_close(c);
            return;
        }
        if (u->eof && s->resp_pipe.dec.kind == GW_BODY_UNTIL_CLOSE && u->pos == u->len &&
            !s->resp_pipe.dec.done) {
            s->resp_pipe.dec.done = true;
            gw_pipe_fill(&s->resp_pipe, u->buf, &u->pos, u->len, iov, &n, IOV_MAX_N);
        }
        bool finished = s->resp_pipe.dec.done && s->resp_pipe.end_written;
        if (n == 0) {
            if (finished) {
                s->resp_done = true;
                exchange_done(s);
                return;
            }
            if (u->eof) {
                s->error = "upstream closed mid-response";
                detach_up(s, false);
                gw_conn_close(c);
                return;
            }
            if (u->pos == u->len)
                u->pos = u->len = 0;
            if (!u->reading)
                arm_request_timer(s);
            up_read_resume(u);
            return;
        }
        if (iov[0].base == s->head_out.data)
            n = coalesce(&s->head_out, iov, n);
        int r = gw_conn_write(c, iov, n, on_resp_written);
        if (r < 0) {
            s->error = "client write failed";
            gw_conn_close(c);
            return;
        }
        if (r == GW_WRITE_PENDING) {
            /* The client is slow: stop reading the upstream, and do not
             * count the wait against the upstream's timeout. */
            s->resp_writing = true;
            up_read_pause(u);
            gw_upstream_clear_deadline(u);
            return;
        }
        if (finished) {
            s->resp_done = true;
            exchange_done(s);
            return;
        }
    }
}

static void on_up_data(gw_upconn *u, ssize_t nread)
{
    gw_stream *s = u->owner;
    if (nread == UV_ENOBUFS) {
        up_read_pause(u); /* full: resp_pump decides (head too large) */
    } else if (nread < 0) {
        u->eof = true;
        up_read_pause(u);
    } else {
        u->len += (size_t)nread;
        if (s->resp_started)
            arm_request_timer(s); /* inactivity */
    }
    resp_pump(s);
}

/* ---- attempts ----------------------------------------------------------- */

static void on_connected(gw_upconn *u, int status)
{
    gw_stream *s = u->owner;
    if (!s)
        return;
    if (status < 0) {
        const gw_cluster_conf *cc = s->route->cluster;
        gw_stats_cluster_connect_failure(s->w->stats, cc->stat_slot);
        bool timeout = status == UV_ETIMEDOUT;
        if (timeout)
            gw_stats_cluster_timeout(s->w->stats, cc->stat_slot);
        attempt_failed(s, timeout ? 504 : 502,
                       timeout ? "upstream connect timeout" : "upstream connect error",
                       cc->retry_on_connect_failure);
        return;
    }
    arm_request_timer(s);
    up_read_resume(u);
    req_pump(s);
}

static void attempt(gw_stream *s)
{
    const gw_cluster_conf *cc = s->route->cluster;
    gw_endpoint_state *prev = s->ep;
    s->attempts++;
    s->ep = gw_upstream_pick(s->cluster, prev);
    if (!s->ep) {
        fail(s, 503, "no healthy upstream");
        return;
    }
    memset(&s->resp, 0, sizeof s->resp);
    gw_http1_limits lim = {65536, 128, 8192};
    gw_http1_parser_init(&s->resp_parser, true, &lim, s->resp_headers, 128);
    s->resp_parser.request_was_head = s->is_head;
    int err = 0;
    gw_stats_cluster_request(s->w->stats, cc->stat_slot);
    gw_upconn *u = gw_upstream_acquire(s->ep, s, on_connected, on_up_data, &err);
    if (!u) {
        fail(s, 503, err == UV_EBUSY ? "upstream connection limit reached" : "upstream unavailable");
        return;
    }
    s->up = u;
    u->on_timeout = on_up_timeout;
    s->ep->n_active++;
    s->up_head_sent = false;
    if (u->connected) {
        /* Pooled keep-alive connection. */
        arm_request_timer(s);
        up_read_resume(u);
        req_pump(s);
    }
}

void gw_proxy_start(gw_stream *s)
{
    gw_conn *c = s->c;
    const gw_route_conf *r = s->route;
    if (c->gen == c->w->gen) {
        s->cluster = c->w->by_index[r->cluster - c->gen->cfg->clusters];
    } else {
        for (gw_cluster_state *cs = c->w->clusters; cs; cs = cs->next)
            if (!cs->removed && !strcmp(cs->name, r->cluster->name))
                s->cluster = cs;
    }
    if (!s->cluster) {
        fail(s, 503, "cluster is being reconfigured");
        return;
    }
    s->cluster->users++;
    if (!s->resp_headers)
        s->resp_headers = malloc(sizeof(gw_header) * 128);
    if (!s->resp_headers) {
        fail(s, 503, "out of memory");
        return;
    }
    /* The whole request is here: it can be replayed on retry (not once
     * plugins have seen and maybe changed its body). */
    size_t have = c->len - c->pos;
    s->body_filter = gw_plugin_filters_body(s, false);
    s->replayable = s->req.body == GW_BODY_NONE ||
                    (!s->body_filter && s->req.body == GW_BODY_LENGTH &&
                     s->req.content_length <= have);
    memset(&s->req_pipe, 0, sizeof s->req_pipe);
    gw_http1_body_init(&s->req_pipe.dec, &s->req, c->gen->cfg->limits.max_header_bytes);
    s->req_pipe.chunked_out = s->req.body == GW_BODY_CHUNKED;
    build_up_head(s);
    if (s->up_head.oom) {
        fail(s, 503, "out of memory");
        return;
    }
    attempt(s);
}
