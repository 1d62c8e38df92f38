/*
 * gw_conn.c — downstream connections: reading and parsing requests,
 * routing, direct responses and redirects, the hand-off to the proxy,
 * keep-alive, pipelining, timeouts, TLS, close semantics, access log.
 *
 * Owns:      everything on the client side of an exchange (see gw_conn.h).
 * Not here:  upstream I/O and the forwarding rules (gw_proxy.c), parsing
 *            rules (gw_http1.c), route matching (gw_router.c).
 *
 * Buffer discipline: c->buf holds the request head and whatever body or
 * pipelined bytes arrived with it. While the head is being read the
 * buffer may grow up to limits.max_header_bytes. Once a request is handed
 * to the proxy the head is no longer referenced (the proxy copies what it
 * needs), so body bytes may be overwritten once consumed. An idle
 * keep-alive connection gives its buffer back to the worker, keeping idle
 * connections small.
 */
#include "gw_conn.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_router.h"

#define TLS_WRITE_HIGH (256 * 1024) /* queued ciphertext before backpressure */

static void process(gw_conn *c);
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
static void close_after_write(gw_conn *c);

/* ---- writing ---------------------------------------------------------- */

int gw_write_iov(uv_stream_t *st, uv_write_t *req, const uv_buf_t *iov, unsigned n, uv_write_cb cb)
{
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += iov[i].len;
    int r = uv_try_write(st, iov, n);
    if (r == (int)total)
        return GW_WRITE_DONE;
    if (r < 0 && r != UV_EAGAIN)
        return r;
    size_t skip = r > 0 ? (size_t)r : 0;
    uv_buf_t rest[n];
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++) {
        if (skip >= iov[i].len) {
            skip -= iov[i].len;
            continue;
        }
        rest[m] = uv_buf_init(iov[i].base + skip, (unsigned)(iov[i].len - skip));
        skip = 0;
        m++;
    }
    r = uv_write(req, st, rest, m, cb);
    return r < 0 ? r : GW_WRITE_PENDING;
}

typedef struct tls_write {
    uv_write_t req;
    gw_conn *c;
    ut_buf data; /* ciphertext, owned by this write */
} tls_write;

static void on_tls_written(uv_write_t *req, int status)
{
    tls_write *tw = (tls_write *)req;
    gw_conn *c = tw->c;
    ut_buf_free(&tw->data);
    free(tw);
    if (c->closing)
        return;
    if (status < 0) {
        gw_conn_close(c);
        return;
    }
    if (c->writing && c->tcp.write_queue_size < TLS_WRITE_HIGH / 2) {
        c->timer_kind = GW_CONN_TIMER_NONE;
        c->writing = false;
        gw_write_cb cb = c->write_cb;
        c->write_cb = NULL;
        if (cb)
            cb(c, 0);
    }
}

/* Sends whatever ciphertext the TLS session has queued. The session hands
 * its buffer over to the write (no copy), and the write frees it. */
static int tls_flush(gw_conn *c)
{
    tls_write *tw = calloc(1, sizeof *tw);
    if (!tw)
        return UV_ENOMEM;
    if (gw_tls_take_output(c->tls, &tw->data) == 0) {
        bool oom = tw->data.oom;
        ut_buf_free(&tw->data);
        free(tw);
        return oom ? UV_ENOMEM : 0;
    }
    tw->c = c;
    uv_buf_t b = uv_buf_init(tw->data.data, (unsigned)tw->data.len);
    int r = uv_write(&tw->req, (uv_stream_t *)&c->tcp, &b, 1, on_tls_written);
    if (r < 0) {
        ut_buf_free(&tw->data);
        free(tw);
    }
    return r;
}

/* Connection timeouts are deadlines checked by the worker's sweep (see
 * gw_conn_sweep): arming one is a store, not a timer-heap operation. */
static void set_deadline(gw_conn *c, uint8_t kind, uint32_t ms)
{
    c->timer_kind = kind;
    c->deadline = uv_now(&c->w->loop) + ms;
}

/* A client that stops reading must not hold the exchange forever. */
static void arm_write_timer(gw_conn *c)
{
    set_deadline(c, GW_CONN_TIMER_WRITE, c->gen->cfg->timeouts.keepalive_timeout_ms);
}

static void on_conn_written(uv_write_t *req, int status)
{
    gw_conn *c = req->data;
    c->timer_kind = GW_CONN_TIMER_NONE;
    c->writing = false;
    gw_write_cb cb = c->write_cb;
    c->write_cb = NULL;
    if (c->closing)
        return;
    if (cb)
        cb(c, status);
}

int gw_conn_write(gw_conn *c, const uv_buf_t *iov, unsigned n, gw_write_cb cb)
{
    if (c->closing)
        return UV_ECANCELED;
    if (c->tls) {
        for (unsigned i = 0; i < n; i++)
            if (iov[i].len && gw_tls_write(c->tls, iov[i].base, iov[i].len) < 0)
                return UV_EPROTO;
        int r = tls_flush(c);
        if (r < 0)
            return r;
        if (c->tcp.write_queue_size < TLS_WRITE_HIGH)
            return GW_WRITE_DONE;
        c->writing = true;
        c->write_cb = cb;
        arm_write_timer(c);
        return GW_WRITE_PENDING;
    }
    c->wreq.data = c;
    int r = gw_write_iov((uv_stream_t *)&c->tcp, &c->wreq, iov, n, on_conn_written);
    if (r == GW_WRITE_PENDING) {
        c->writing = true;
        c->write_cb = cb;
        arm_write_timer(c);
    }
    return r;
}

/* ---- connection lifetime ---------------------------------------------- */

static void release_buf(gw_conn *c)
{
    if (!c->buf)
        return;
    if (c->cap == GW_BUF_SIZE)
        gw_worker_buf_put(c->w, c->buf);
    else
        free(c->buf);
    c->buf = NULL;
    c->cap = c->pos = c->len = 0;
}

static void stream_destroy(gw_stream *s)
{
    ut_buf_free(&s->head_out);
    ut_buf_free(&s->up_head);
    ut_buf_free(&s->log_target);
    ut_buf_free(&s->wagi_head);
    ut_buf_free(&s->wagi_body);
    ut_buf_free(&s->body_in);
    ut_buf_free(&s->up_body);
    ut_buf_free(&s->resp_body_out);
    free(s->headers);
    free(s->resp_headers);
    free(s);
}

/* Finished streams go back to the worker with their arrays and buffers. */
static void stream_free(gw_stream *s)
{
    gw_worker *w = s->w;
    gw_plugin_stream_finish(s);
    gw_wagi_stream_done(s);
    if (s->wagi_body.cap > (1u << 20))
        ut_buf_free(&s->wagi_body); /* keep big bodies out of the cache */
    if (s->body_in.cap > (1u << 20))
        ut_buf_free(&s->body_in);
    if (s->up_body.cap > (1u << 20))
        ut_buf_free(&s->up_body);
    if (s->resp_body_out.cap > (1u << 20))
        ut_buf_free(&s->resp_body_out);
    if (w->n_free_streams < sizeof w->free_streams / sizeof w->free_streams[0] &&
        s->head_out.cap <= 65536 && s->up_head.cap <= 65536) {
        w->free_streams[w->n_free_streams++] = s;
        return;
    }
    stream_destroy(s);
}

void gw_worker_free_streams(gw_worker *w)
{
    while (w->n_free_streams)
        stream_destroy(w->free_streams[--w->n_free_streams]);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    gw_conn *c = h->data;
    if (--c->handles_open > 0)
        return;
    release_buf(c);
    if (c->tls_in)
        gw_worker_buf_put(c->w, c->tls_in);
    if (c->tls)
        gw_tls_free(c->tls);
    if (c->gen)
        gw_gen_unref(c->gen);
    gw_worker *w = c->w;
    free(c);
    gw_worker_conn_closed(w);
}

void gw_conn_close(gw_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->stream) {
        gw_stream *s = c->stream;
        c->stream = NULL;
        gw_proxy_abort(s);
        stream_free(s);
    }
    gw_link_remove(&c->link);
    c->w->n_conns--;
    gw_stats_downstream_close(c->w->stats);
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    gw_conn *c = req->data;
    free(req);
    if (c->closing)
        return;
    if (status < 0 || c->eof) {
        gw_conn_close(c);
        return;
    }
    /* Read and discard what the client still sends (so our response is
     * not destroyed by a RST), until it closes or 2 s pass. */
    set_deadline(c, GW_CONN_TIMER_LINGER, 2000);
    gw_conn_read_resume(c);
}

/* After the final response is written: half-close, then close. */
static void close_after_write(gw_conn *c)
{
    if (c->closing)
        return;
    c->keep_alive = false;
    if (c->stream) {
        gw_stream *s = c->stream;
        c->stream = NULL;
        gw_proxy_abort(s);
        stream_free(s);
    }
    if (c->tls) {
        gw_tls_shutdown(c->tls);
        tls_flush(c);
    }
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req || uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        free(req);
        gw_conn_close(c);
        return;
    }
    req->data = c;
    c->pos = c->len = 0;
}

/* ---- timers ----------------------------------------------------------- */

static void on_header_timeout(gw_conn *c)
{
    if (c->stream && c->len > c->pos) {
        gw_stream_respond_error(c->stream, 408, "request head not received in time");
        return;
    }
    gw_conn_close(c);
}

static void arm_idle_timer(gw_conn *c)
{
    set_deadline(c, GW_CONN_TIMER_IDLE, c->gen->cfg->timeouts.keepalive_timeout_ms);
}

static void arm_header_timer(gw_conn *c)
{
    set_deadline(c, GW_CONN_TIMER_HEADER, c->gen->cfg->timeouts.header_timeout_ms);
}

void gw_conn_sweep(gw_worker *w)
{
    uint64_t now = uv_now(&w->loop);
    gw_link *l = w->conns.next;
    while (l != &w->conns) {
        gw_conn *c = GW_CONTAINER(l, gw_conn, link);
        l = l->next; /* c may close (and unlink) below */
        if (c->timer_kind == GW_CONN_TIMER_NONE || now < c->deadline || c->closing)
            continue;
        uint8_t kind = c->timer_kind;
        c->timer_kind = GW_CONN_TIMER_NONE;
        switch (kind) {
        case GW_CONN_TIMER_HEADER:
            on_header_timeout(c);
            break;
        case GW_CONN_TIMER_WRITE:
            if (c->stream)
                c->stream->error = "client did not read the response in time";
            gw_conn_close(c);
            break;
        default: /* idle keep-alive, lingering close */
            gw_conn_close(c);
            break;
        }
    }
}

/* ---- reading ---------------------------------------------------------- */

/* Room for at least one more read at c->buf + c->len. */
static bool make_room(gw_conn *c)
{
    if (!c->buf) {
        c->buf = gw_worker_buf_get(c->w);
        if (!c->buf)
            return false;
        c->cap = GW_BUF_SIZE;
        c->pos = c->len = 0;
    }
    gw_stream *s = c->stream;
    bool reading_head = s && !s->body_pos;
    /* A replayable request (retries) must stay where it is in the buffer
     * until its exchange ends; pipelined bytes may only be appended. */
    bool pinned = s && s->body_pos && s->replayable;
    if (!reading_head && !pinned && c->pos == c->len)
        c->pos = c->len = 0; /* everything consumed; the head is not needed */
    if (c->len < c->cap)
        return true;
    if (pinned)
        return false;
    /* Full: move the live bytes to the front, or grow for a large head. */
    size_t start = reading_head ? s->head_pos : c->pos;
    if (start > 0) {
        memmove(c->buf, c->buf + start, c->len - start);
        c->len -= start;
        c->pos -= start;
        if (reading_head)
            s->head_pos = 0;
        return true;
    }
    if (!reading_head)
        return false;
    size_t limit = c->gen->cfg->limits.max_header_bytes + 1024;
    if (c->cap >= limit)
        return false;
    size_t ncap = c->cap * 2 < limit ? c->cap * 2 : limit;
    char *nb = malloc(ncap);
    if (!nb)
        return false;
    memcpy(nb, c->buf, c->len);
    if (c->cap == GW_BUF_SIZE)
        gw_worker_buf_put(c->w, c->buf);
    else
        free(c->buf);
    c->buf = nb;
    c->cap = ncap;
    return true;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    gw_conn *c = h->data;
    if (c->tls) {
        if (!c->tls_in)
            c->tls_in = gw_worker_buf_get(c->w);
        *out = uv_buf_init(c->tls_in, c->tls_in ? GW_BUF_SIZE : 0);
        return;
    }
    if (!make_room(c)) {
        *out = uv_buf_init(NULL, 0);
        return;
    }
    *out = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static int tls_pull(gw_conn *c);

void gw_conn_read_resume(gw_conn *c)
{
    if (c->closing)
        return;
    if (c->tls) {
        /* Plaintext may already wait inside the TLS session (records read
         * while we were paused): no socket event will announce it. */
        size_t before = c->len;
        int r = tls_pull(c);
        if (r < 0 && r != UV_ENOBUFS && r != UV_EOF) {
            gw_conn_close(c);
            return;
        }
        if (r == UV_EOF)
            c->eof = true;
        if (c->len > before)
            process(c);
        if (c->closing)
            return;
    }
    if (c->reading || c->eof)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = true;
}

void gw_conn_read_pause(gw_conn *c)
{
    if (!c->reading)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

/* Decrypts everything the TLS session has into c->buf. */
static int tls_pull(gw_conn *c)
{
    for (;;) {
        if (!make_room(c))
            return UV_ENOBUFS;
        ssize_t n = gw_tls_read(c->tls, c->buf + c->len, c->cap - c->len);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        int r = tls_flush(c);
        if (n == GW_TLS_AGAIN)
            return r;
        if (n == GW_TLS_EOF)
            return UV_EOF;
        return UV_EPROTO;
    }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    gw_conn *c = st->data;
    if (nread == 0)
        return;
    if (nread == UV_ENOBUFS) {
        /* No room: a head over the limit is answered by the parser on the
         * bytes we have; otherwise wait for the consumer. */
        gw_conn_read_pause(c);
        if (c->stream && !c->stream->body_pos)
            process(c);
        return;
    }
    if (nread < 0) {
        c->eof = true;
        gw_conn_read_pause(c);
        if (c->stream && c->stream->body_pos) {
            /* The client went away mid-request. */
            c->stream->error = "client closed the connection";
            gw_conn_close(c);
            return;
        }
        if (!c->keep_alive && c->stream == NULL) {
            gw_conn_close(c); /* lingering close finished */
            return;
        }
        gw_conn_close(c);
        return;
    }
    GW_STAT_ADD(c->w->stats->bytes_in, (uint64_t)nread);
    if (!c->keep_alive && !c->stream) {
        /* Lingering after the last response: discard. */
        c->pos = c->len = 0;
        return;
    }
    if (c->tls) {
        if (gw_tls_feed(c->tls, buf->base, (size_t)nread) < 0) {
            tls_flush(c);
            gw_conn_close(c);
            return;
        }
        int r = tls_pull(c);
        if (r == UV_EOF) {
            c->eof = true;
        } else if (r < 0 && r != UV_ENOBUFS) {
            gw_conn_close(c);
            return;
        }
    } else {
        c->len += (size_t)nread;
    }
    process(c);
    if (!c->closing && c->eof && !c->stream)
        gw_conn_close(c);
}

/* ---- streams ---------------------------------------------------------- */

static gw_stream *stream_new(gw_conn *c)
{
    gw_worker *w = c->w;
    const gw_config *cfg = c->gen->cfg;
    size_t cap = cfg->limits.max_headers;
    gw_stream *s = NULL;
    if (w->n_free_streams) {
        s = w->free_streams[--w->n_free_streams];
        /* keep the allocations, reset everything else */
        gw_header *headers = s->headers, *resp_headers = s->resp_headers;
        size_t headers_cap = s->headers_cap;
        ut_buf head_out = s->head_out, up_head = s->up_head, log_target = s->log_target;
        ut_buf wagi_head = s->wagi_head, wagi_body = s->wagi_body;
        ut_buf body_in = s->body_in, up_body = s->up_body, resp_body_out = s->resp_body_out;
        memset(s, 0, sizeof *s);
        s->body_in = body_in;
        s->up_body = up_body;
        s->resp_body_out = resp_body_out;
        ut_buf_reset(&s->body_in);
        ut_buf_reset(&s->up_body);
        ut_buf_reset(&s->resp_body_out);
        s->headers = headers;
        s->headers_cap = headers_cap;
        s->resp_headers = resp_headers;
        s->head_out = head_out;
        s->up_head = up_head;
        s->log_target = log_target;
        s->wagi_head = wagi_head;
        s->wagi_body = wagi_body;
        ut_buf_reset(&s->wagi_head);
        ut_buf_reset(&s->wagi_body);
        ut_buf_reset(&s->head_out);
        ut_buf_reset(&s->up_head);
        ut_buf_reset(&s->log_target);
    } else {
        s = calloc(1, sizeof *s);
        if (!s)
            return NULL;
    }
    if (s->headers_cap < cap) {
        free(s->headers);
        s->headers = malloc(sizeof(gw_header) * cap);
        s->headers_cap = s->headers ? cap : 0;
        if (!s->headers) {
            stream_destroy(s);
            return NULL;
        }
    }
    gw_http1_limits lim = {cfg->limits.max_header_bytes, cfg->limits.max_headers,
                           cfg->limits.max_request_line};
    gw_http1_parser_init(&s->parser, false, &lim, s->headers, cap);
    s->c = c;
    s->w = w;
    s->gen = c->gen;
    s->head_pos = c->pos;
    s->start_ns = uv_hrtime();
    return s;
}

static void take_current_gen(gw_conn *c)
{
    gw_gen *g = c->w->gen;
    if (c->gen == g)
        return;
    gw_gen_ref(g);
    gw_gen_unref(c->gen);
    c->gen = g;
}

static bool is_idempotent(gw_str m)
{
    switch (m.len) {
    case 3:
        return !memcmp(m.base, "GET", 3) || !memcmp(m.base, "PUT", 3);
    case 4:
        return !memcmp(m.base, "HEAD", 4);
    case 5:
        return !memcmp(m.base, "TRACE", 5);
    case 6:
        return !memcmp(m.base, "DELETE", 6);
    case 7:
        return !memcmp(m.base, "OPTIONS", 7);
    }
    return false;
}

static void set_request_id(gw_stream *s)
{
    const gw_header *h = gw_http1_find(&s->req, "x-request-id");
    if (h && h->value.len > 0 && h->value.len < sizeof s->request_id) {
        bool ok = true;
        for (size_t i = 0; i < h->value.len; i++) {
            unsigned char ch = (unsigned char)h->value.base[i];
            if (ch <= ' ' || ch >= 0x7f || ch == '"' || ch == '\\')
                ok = false;
        }
        if (ok) {
            memcpy(s->request_id, h->value.base, h->value.len);
            s->request_id[h->value.len] = '\0';
            return;
        }
    }
    /* 16 hex digits of per-worker prefix + 16 of a counter */
    static const char hex[] = "0123456789abcdef";
    memcpy(s->request_id, s->w->request_id_prefix, 16);
    uint64_t n = ++s->w->next_request_id;
    for (int i = 31; i >= 16; i--, n >>= 4)
        s->request_id[i] = hex[n & 15];
    s->request_id[32] = '\0';
}

/* Splits an origin-form or absolute-form target into host and path. */
static void split_target(gw_str target, gw_str *host, gw_str *path)
{
    const char *p = target.base, *end = target.base + target.len;
    if (target.len > 7 && (p[0] == 'h' || p[0] == 'H')) {
        const char *sep = memchr(p, ':', target.len);
        if (sep && end - sep > 3 && sep[1] == '/' && sep[2] == '/') {
            const char *auth = sep + 3;
            const char *slash = memchr(auth, '/', (size_t)(end - auth));
            if (!slash)
                slash = end;
            host->base = auth;
            host->len = (size_t)(slash - auth);
            p = slash;
        }
    }
    const char *q = memchr(p, '?', (size_t)(end - p));
    path->base = p;
    path->len = (size_t)((q ? q : end) - p);
    if (path->len == 0) {
        path->base = "/";
        path->len = 1;
    }
}

static void on_direct_written(gw_conn *c, int status)
{
    if (status < 0) {
        gw_conn_close(c);
        return;
    }
    if (c->stream)
        gw_stream_finish(c->stream);
}

ut_buf *gw_stream_head_begin(gw_stream *s, int status)
{
    ut_buf *b = &s->head_out;
    ut_buf_reset(b);
    s->status = status;
    ut_buf_printf(b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, gw_http1_reason(status),
                  gw_worker_date(s->w));
    return b;
}

void gw_stream_head_send(gw_stream *s, const void *body, size_t body_len, bool default_type)
{
    gw_conn *c = s->c;
    ut_buf *b = &s->head_out;
    int status = s->status;
    bool bodiless = status < 200 || status == 204 || status == 304;
    if (!bodiless) {
        ut_buf_puts(b, "Content-Length: ");
        ut_buf_put_u64(b, body_len);
        ut_buf_puts(b, "\r\n");
        if (default_type && body_len)
            ut_buf_puts(b, "Content-Type: text/plain; charset=utf-8\r\n");
    }
    if (!c->keep_alive)
        ut_buf_puts(b, "Connection: close\r\n");
    else if (s->req.minor_version == 0)
        ut_buf_puts(b, "Connection: keep-alive\r\n");
    ut_buf_puts(b, "\r\n");
    if (b->oom) {
        gw_conn_close(c);
        return;
    }
    uv_buf_t iov[2] = {uv_buf_init(b->data, (unsigned)b->len),
                       uv_buf_init((char *)body, (unsigned)body_len)};
    unsigned n = (s->is_head || bodiless || body_len == 0) ? 1 : 2;
    s->resp_started = true;
    s->bytes_out = b->len + (n == 2 ? body_len : 0);
    int r = gw_conn_write(c, iov, n, on_direct_written);
    if (r == GW_WRITE_DONE)
        gw_stream_finish(s);
    else if (r < 0)
        gw_conn_close(c);
}

static void respond(gw_stream *s, int status, const gw_kv *headers, size_t n_headers,
                    const char *extra_header, const char *body, size_t body_len)
{
    ut_buf *b = gw_stream_head_begin(s, status);
    bool has_type = false;
    for (size_t i = 0; i < n_headers; i++) {
        if (!strcasecmp(headers[i].name, "content-type"))
            has_type = true;
        ut_buf_printf(b, "%s: %s\r\n", headers[i].name, headers[i].value);
    }
    if (extra_header)
        ut_buf_puts(b, extra_header);
    gw_stream_head_send(s, body, body_len, !has_type);
}

void gw_stream_respond_error(gw_stream *s, int status, const char *message)
{
    gw_conn *c = s->c;
    if (!s->error)
        s->error = message;
    if (s->resp_started || c->closing) {
        gw_conn_close(c);
        return;
    }
    /* Unread request body on the wire: the connection can't be reused. */
    if (!s->req_done && s->body_pos && s->req.body != GW_BODY_NONE)
        c->keep_alive = false;
    if (!s->body_pos)
        c->keep_alive = false;
    gw_proxy_abort(s);
    char body[256];
    int n = snprintf(body, sizeof body, "%s\n", message);
    if (n < 0 || (size_t)n >= sizeof body)
        n = (int)sizeof body - 1;
    /* respond() copies nothing: keep the body in head_out's tail. */
    ut_buf tmp = {0};
    ut_buf_append(&tmp, body, (size_t)n);
    char xid[64];
    snprintf(xid, sizeof xid, "X-Request-Id: %s\r\n", s->request_id[0] ? s->request_id : "-");
    ut_buf_free(&s->up_head);
    s->up_head = tmp; /* owned by the stream until it is freed */
    respond(s, status, NULL, 0, xid, s->up_head.data, s->up_head.len);
}

static void respond_redirect(gw_stream *s, gw_str host, gw_str path)
{
    const gw_route_conf *r = s->route;
    gw_str target = s->req.target;
    const char *q = memchr(target.base, '?', target.len);
    gw_str query = {q, q ? (size_t)(target.base + target.len - q) : 0};
    const char *scheme = r->redirect_scheme ? r->redirect_scheme
                                            : (s->gen->tls[s->c->listener_index] ? "https" : "http");
    ut_buf loc = {0};
    ut_buf_printf(&loc, "Location: %s://", scheme);
    if (r->redirect_host)
        ut_buf_puts(&loc, r->redirect_host);
    else
        ut_buf_append(&loc, host.base, host.len);
    if (r->redirect_path)
        ut_buf_puts(&loc, r->redirect_path);
    else
        ut_buf_append(&loc, path.base, path.len);
    ut_buf_append(&loc, query.base, query.len);
    ut_buf_puts(&loc, "\r\n");
    if (loc.oom) {
        ut_buf_free(&loc);
        gw_conn_close(s->c);
        return;
    }
    ut_buf_free(&s->up_head);
    s->up_head = loc;
    respond(s, r->redirect_status, NULL, 0, s->up_head.data, NULL, 0);
}

/* Skips a request body that is already complete in the buffer (direct
 * responses); otherwise the connection closes after the response. */
static void skip_body(gw_stream *s)
{
    gw_conn *c = s->c;
    if (s->req.body == GW_BODY_NONE) {
        s->req_done = true;
        return;
    }
    gw_http1_body b = {0};
    gw_http1_body_init(&b, &s->req, c->gen->cfg->limits.max_header_bytes);
    size_t pos = c->pos;
    while (!b.done && pos < c->len) {
        const char *d;
        size_t dl;
        ssize_t n = gw_http1_body_decode(&b, c->buf + pos, c->len - pos, &d, &dl);
        if (n < 0)
            break;
        pos += (size_t)n;
    }
    if (b.done) {
        c->pos = pos;
        s->req_done = true;
    } else {
        c->keep_alive = false;
    }
}

static void dispatch(gw_stream *s)
{
    gw_conn *c = s->c;
    gw_worker *w = c->w;
    const gw_config *cfg = c->gen->cfg;
    gw_http1_head *req = &s->req;

    c->timer_kind = GW_CONN_TIMER_NONE;
    c->requests++;
    gw_stats_request(w->stats);
    size_t ml = req->method.len < sizeof s->method - 1 ? req->method.len : sizeof s->method - 1;
    memcpy(s->method, req->method.base, ml);
    s->method[ml] = '\0';
    s->is_head = req->method.len == 4 && !memcmp(req->method.base, "HEAD", 4);
    s->idempotent = is_idempotent(req->method);
    set_request_id(s);
    c->keep_alive = req->keep_alive && !w->draining;

    gw_str host = req->host ? req->host->value : (gw_str){"", 0};
    gw_str path;
    split_target(req->target, &host, &path);
    if (cfg->access_log) {
        ut_buf_reset(&s->log_target);
        ut_buf_append(&s->log_target, req->target.base,
                      req->target.len < 2048 ? req->target.len : 2048);
        ut_buf_putc(&s->log_target, '\0');
        ut_buf_append(&s->log_target, host.base, host.len < 256 ? host.len : 256);
    }

    gw_route_request rr = {req->method, host, path, req->headers, req->n_headers};
    s->route = gw_router_match(cfg, &rr);
    if (!s->route) {
        s->route_slot = 0;
        skip_body(s);
        gw_stream_respond_error(s, 404, "no route matched this request");
        return;
    }
    s->route_slot = s->route->stat_slot;
    if (req->body == GW_BODY_LENGTH && cfg->limits.max_body_bytes &&
        req->content_length > cfg->limits.max_body_bytes) {
        c->keep_alive = false;
        gw_stream_respond_error(s, 413, "request body too large");
        return;
    }
    if (!gw_plugin_request(s))
        return; /* answered, closed, or paused by a plugin */
    gw_stream_run_action(s);
}

void gw_stream_reroute(gw_stream *s)
{
    gw_http1_head *req = &s->req;
    size_t ml = req->method.len < sizeof s->method - 1 ? req->method.len : sizeof s->method - 1;
    memcpy(s->method, req->method.base, ml);
    s->method[ml] = '\0';
    s->is_head = req->method.len == 4 && !memcmp(req->method.base, "HEAD", 4);
    s->idempotent = is_idempotent(req->method);
    gw_str host = req->host ? req->host->value : (gw_str){"", 0};
    gw_str path;
    split_target(req->target, &host, &path);
    gw_route_request rr = {req->method, host, path, req->headers, req->n_headers};
    s->route = gw_router_match(s->gen->cfg, &rr);
    if (!s->route) {
        s->route_slot = 0;
        skip_body(s);
        gw_stream_respond_error(s, 404, "no route matched this request");
        return;
    }
    s->route_slot = s->route->stat_slot;
}

void gw_stream_run_action(gw_stream *s)
{
    gw_http1_head *req = &s->req;
    gw_str host = req->host ? req->host->value : (gw_str){"", 0};
    gw_str path;
    split_target(req->target, &host, &path);
    switch (s->route->action) {
    case GW_ACTION_DIRECT:
        skip_body(s);
        respond(s, s->route->status, s->route->response_headers, s->route->n_response_headers,
                NULL, s->route->body, s->route->body_len);
        return;
    case GW_ACTION_REDIRECT:
        skip_body(s);
        respond_redirect(s, host, path);
        return;
    case GW_ACTION_PROXY:
        gw_proxy_start(s);
        return;
    case GW_ACTION_WAGI:
        gw_wagi_start(s);
        return;
    }
}

static void step(gw_conn *c)
{
    if (!c->stream) {
        if (c->pos == c->len) {
            if (c->buf && !c->writing) {
                release_buf(c);
                if (c->timer_kind != GW_CONN_TIMER_IDLE)
                    arm_idle_timer(c);
            }
            return;
        }
        take_current_gen(c);
        c->stream = stream_new(c);
        if (!c->stream) {
            gw_conn_close(c);
            return;
        }
        arm_header_timer(c);
    }
    gw_stream *s = c->stream;
    if (s->body_pos) {
        if (s->route && s->route->action == GW_ACTION_WAGI)
            gw_wagi_on_client_data(s);
        else
            gw_proxy_on_client_data(s);
        return;
    }
    ssize_t r = gw_http1_parse_head(&s->parser, c->buf + s->head_pos, c->len - s->head_pos, &s->req);
    if (r == GW_HTTP1_AGAIN) {
        if (c->eof)
            gw_conn_close(c);
        return;
    }
    if (r == GW_HTTP1_ERROR) {
        gw_stats_bad_request(c->w->stats);
        c->keep_alive = false;
        s->route_slot = 0;
        snprintf(s->method, sizeof s->method, "-");
        gw_stream_respond_error(s, s->parser.status, s->parser.error ? s->parser.error : "bad request");
        return;
    }
    c->pos = s->head_pos + (size_t)r;
    s->body_pos = c->pos;
    dispatch(s);
}

static _Thread_local gw_conn *process_conn;
static _Thread_local bool process_again;

/* Runs steps until nothing moves. Re-entrant calls (a response finished
 * synchronously inside a step) just ask for another turn. */
static void process(gw_conn *c)
{
    if (process_conn == c) {
        process_again = true;
        return;
    }
    gw_conn *outer = process_conn;
    bool outer_again = process_again;
    process_conn = c;
    do {
        process_again = false;
        if (c->closing)
            break;
        step(c);
        /* Between requests, read on (for TLS this may pull buffered
         * plaintext, which asks for another turn). */
        if (!process_again && !c->closing && !c->stream && !c->eof)
            gw_conn_read_resume(c);
    } while (process_again && !c->closing);
    process_conn = outer;
    process_again = outer_again;
}

void gw_stream_finish(gw_stream *s)
{
    gw_conn *c = s->c;
    gw_worker *w = c->w;
    uint64_t lat_us = (uv_hrtime() - s->start_ns) / 1000;
    gw_stats_observe_response(w->stats, s->route_slot, s->status, lat_us);
    if (c->gen->cfg->access_log) {
        ut_buf *l = &w->log;
        const char *target = s->log_target.len ? s->log_target.data : "";
        const char *host = s->log_target.len ? target + strlen(target) + 1 : "";
        ut_buf_puts(l, "{\"time\":\"");
        ut_buf_puts(l, gw_worker_iso_time(w));
        ut_buf_puts(l, "\",\"id\":");
        ut_buf_json_str(l, s->request_id, strlen(s->request_id));
        ut_buf_puts(l, ",\"client\":");
        ut_buf_json_str(l, c->peer, strlen(c->peer));
        ut_buf_puts(l, ",\"method\":");
        ut_buf_json_str(l, s->method, strlen(s->method));
        ut_buf_puts(l, ",\"target\":");
        ut_buf_json_str(l, target, strlen(target));
        ut_buf_puts(l, ",\"host\":");
        ut_buf_json_str(l, host, strlen(host));
        ut_buf_printf(l, ",\"status\":%d,\"bytes\":%llu,\"duration_ms\":%.3f,\"route\":", s->status,
                      (unsigned long long)s->bytes_out, (double)lat_us / 1000.0);
        const char *rn = s->route ? s->route->name : "";
        ut_buf_json_str(l, rn, strlen(rn));
        if (s->ep) {
            ut_buf_puts(l, ",\"upstream\":");
            ut_buf_json_str(l, s->ep->address, strlen(s->ep->address));
        }
        if (s->error) {
            ut_buf_puts(l, ",\"error\":");
            ut_buf_json_str(l, s->error, strlen(s->error));
        }
        ut_buf_puts(l, "}\n");
    }
    GW_STAT_ADD(w->stats->bytes_out, s->bytes_out + s->resp_pipe.bytes);
    c->stream = NULL;
    gw_proxy_abort(s);
    stream_free(s);
    if (!c->keep_alive || c->closing || (w->draining && c->pos == c->len)) {
        close_after_write(c);
        return;
    }
    process(c);
}

/* ---- accept ----------------------------------------------------------- */

void gw_conn_accept(gw_worker *w, uv_stream_t *server, size_t listener_index, bool is_tls)
{
    gw_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->w = w;
    uv_tcp_init(&w->loop, &c->tcp);
    c->tcp.data = c;
    c->handles_open = 1;
    gw_link_init(&c->link);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
        return;
    }
    c->handles_open = 1;
    c->gen = gw_gen_ref(w->gen);
    c->listener_index = listener_index;
    c->keep_alive = true;
    gw_link_insert(&w->conns, &c->link);
    w->n_conns++;
    gw_stats_downstream_open(w->stats);

    const gw_config *cfg = c->gen->cfg;
    unsigned per_worker = cfg->limits.max_connections / (cfg->workers ? cfg->workers : 1);
    if (per_worker == 0)
        per_worker = 1;
    if (w->n_conns > per_worker || w->draining) {
        gw_conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            uv_ip4_name((struct sockaddr_in *)&ss, c->peer, sizeof c->peer);
        else if (ss.ss_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer, sizeof c->peer);
    }
    if (is_tls && c->gen->tls[listener_index]) {
        c->tls = gw_tls_new(c->gen->tls[listener_index]);
        if (!c->tls) {
            gw_conn_close(c);
            return;
        }
    }
    arm_header_timer(c);
    gw_conn_read_resume(c);
}

void gw_conn_body_consumed(gw_conn *c)
{
    if (c->closing)
        return;
    if (c->pos == c->len) {
        c->pos = c->len = 0;
    }
    gw_conn_read_resume(c);
}

void gw_conn_drain_all(gw_worker *w)
{
    gw_link *l = w->conns.next;
    while (l != &w->conns) {
        gw_conn *c = GW_CONTAINER(l, gw_conn, link);
        l = l->next;
        c->keep_alive = false;
        if (!c->stream && !c->closing)
            gw_conn_close(c);
    }
}

/* ---- body re-framing ---------------------------------------------------- */

void gw_chunk_frame(ut_buf *dst, const char *p, size_t n)
{
    if (!n)
        return;
    char hex[20];
    size_t hl = ut_u64_to_text(n, 16, hex);
    ut_buf_append(dst, hex, hl);
    ut_buf_puts(dst, "\r\n");
    ut_buf_append(dst, p, n);
    ut_buf_puts(dst, "\r\n");
}

int gw_pipe_fill(gw_pipe *p, const char *buf, size_t *pos, size_t len, uv_buf_t *iov, unsigned *n,
                 unsigned max)
{
    unsigned spans = 0;
    while (!p->dec.done && *pos < len && *n + 3 <= max && spans < GW_PIPE_SPANS) {
        const char *d;
        size_t dl = 0;
        ssize_t r = gw_http1_body_decode(&p->dec, buf + *pos, len - *pos, &d, &dl);
        if (r < 0)
            return -1;
        *pos += (size_t)r;
        if (dl) {
            p->bytes += dl;
            if (p->chunked_out) {
                size_t hl = ut_u64_to_text(dl, 16, p->hex[spans]);
                p->hex[spans][hl++] = '\r';
                p->hex[spans][hl++] = '\n';
                iov[(*n)++] = uv_buf_init(p->hex[spans], (unsigned)hl);
                iov[(*n)++] = uv_buf_init((char *)d, (unsigned)dl);
                iov[(*n)++] = uv_buf_init((char *)"\r\n", 2);
            } else {
                iov[(*n)++] = uv_buf_init((char *)d, (unsigned)dl);
            }
            spans++;
        }
        if (r == 0 && dl == 0)
            break;
    }
    if (p->dec.done && !p->end_written && *n < max) {
        p->end_written = true;
        if (p->chunked_out)
            iov[(*n)++] = uv_buf_init((char *)"0\r\n\r\n", 5);
    }
    return 0;
}
