/*
 * gw_admin.c — the admin HTTP listener (see gw_admin.h): one request per
 * connection, answered with Content-Length and "Connection: close".
 *
 * Owns:      the listening socket (bound here with SO_REUSEADDR, then handed
 *            to libuv), the connection state machine
 *              HEAD -> BODY -> WRITE -> LINGER -> closed
 *            (HEAD: collect the request head in a 16 KiB+ buffer and parse
 *            it with gw_http1; BODY: decode and discard the body; WRITE: the
 *            response is queued, later input is discarded; LINGER: after
 *            shutdown(SHUT_WR), read and drop until EOF or 2 s, so a client
 *            that sent extra bytes still gets the response instead of a
 *            reset), the per-connection deadline timer, the 64-connection
 *            cap, and the bookkeeping that lets gw_admin_stop report when
 *            every handle is closed.
 * Not here:  HTTP syntax (gw_http1.c), what the endpoints answer (the
 *            handler), keep-alive and TLS (not offered).
 */
#include "gw_admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS        64u
#define HEAD_MAX         (16u * 1024u)
#define HEADERS_MAX      64u
#define LINE_MAX_BYTES   4096u
#define HEAD_BUF_CAP     (HEAD_MAX + 1024u) /* > HEAD_MAX so the parser sees the overflow */
#define BODY_MAX         (1024u * 1024u)
#define TRAILER_MAX      4096u
#define DEFAULT_TIMEOUT  10000u
#define LINGER_MS        2000u
#define LINGER_MAX_BYTES (1024u * 1024u)
#define SCRATCH_BYTES    (64u * 1024u)
#define DEFAULT_CTYPE    "text/plain; charset=utf-8"

typedef enum conn_state {
    ST_HEAD,    /* reading the request head */
    ST_BODY,    /* reading (and dropping) the request body */
    ST_WRITE,   /* response queued; input is dropped */
    ST_LINGER,  /* response sent, write side shut; waiting for EOF */
    ST_CLOSING, /* uv_close issued; waiting for the close callbacks */
} conn_state;

typedef struct conn conn;

struct gw_admin {
    uv_loop_t *loop;
    uv_tcp_t listener;
    gw_admin_handler handler;
    void *user;
    unsigned timeout_ms;
    unsigned n_conns;      /* connections in the list (not closing) */
    unsigned open_handles; /* handles not yet through their close callback */
    bool stopping;
    void (*on_closed)(void *user);
    void *closed_user;
    conn *conns; /* doubly linked, open connections only */
    char scratch[SCRATCH_BYTES]; /* read target for bytes we drop */
};

struct conn {
    gw_admin *a;
    conn *prev, *next;
    bool listed;
    uv_tcp_t tcp;
    uv_timer_t timer;
    unsigned handles; /* this connection's handles not yet closed */
    conn_state st;
    bool eof;
    bool is_head_req;

    char *buf; /* HEAD_BUF_CAP bytes: the request head (and maybe body bytes) */
    size_t len;
    gw_http1_parser parser;
    gw_header headers[HEADERS_MAX];
    gw_http1_head head;
    gw_http1_body body;

    ut_buf out_head, out_body;
    uv_write_t wr, wr_continue;
    uv_shutdown_t shut;
    size_t dropped; /* bytes discarded after the request */
};

static void set_err(char *err, size_t err_len, const char *fmt, const char *a, const char *b)
{
    if (err && err_len)
        snprintf(err, err_len, fmt, a, b);
}

/* ---- closing ---- */

static void handle_closed(gw_admin *a)
{
    if (--a->open_handles == 0 && a->stopping) {
        void (*cb)(void *) = a->on_closed;
        void *u = a->closed_user;
        free(a);
        if (cb)
            cb(u);
    }
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    conn *c = h->data;
    gw_admin *a = c->a;
    if (--c->handles == 0) {
        free(c->buf);
        ut_buf_free(&c->out_head);
        ut_buf_free(&c->out_body);
        free(c);
    }
    handle_closed(a);
}

static void unlink_conn(conn *c)
{
    if (!c->listed)
        return;
    gw_admin *a = c->a;
    if (c->prev)
        c->prev->next = c->next;
    else
        a->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->listed = false;
    a->n_conns--;
}

static void conn_close(conn *c)
{
    if (c->st == ST_CLOSING)
        return;
    c->st = ST_CLOSING;
    unlink_conn(c);
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
    if (c->handles == 2) {
        uv_timer_stop(&c->timer);
        uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
    }
}

/* ---- responding ---- */

static void on_timer(uv_timer_t *t);
static void on_shutdown(uv_shutdown_t *req, int status);

static void restart_timer(conn *c, unsigned ms)
{
    uv_timer_stop(&c->timer);
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void on_write(uv_write_t *req, int status)
{
    conn *c = req->data;
    if (c->st == ST_CLOSING)
        return;
    if (status < 0 || c->eof) {
        conn_close(c);
        return;
    }
    c->shut.data = c;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        conn_close(c);
        return;
    }
    c->st = ST_LINGER;
    restart_timer(c, LINGER_MS);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn *c = req->data;
    if (c->st == ST_CLOSING)
        return;
    if (status < 0)
        conn_close(c);
    /* else keep reading and dropping until EOF or the linger timer */
}

static bool valid_ctype(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char ch = (unsigned char)s[n];
        if (ch < 0x20 || ch == 0x7f)
            return false;
    }
    return n > 0 && n < 256;
}

/* Queues the response; takes ownership of *body (leaves it empty). */
static void respond(conn *c, int status, const char *ctype, ut_buf *body)
{
    ut_buf_free(&c->out_body);
    c->out_body = *body;
    memset(body, 0, sizeof *body);
    if (c->out_body.oom) {
        ut_buf_free(&c->out_body);
        ut_buf_puts(&c->out_body, "out of memory\n");
        status = 500;
        ctype = NULL;
    }
    if (status < 200 || status > 599)
        status = 500;
    if (!ctype || !valid_ctype(ctype))
        ctype = DEFAULT_CTYPE;

    bool no_body = status == 204 || status == 304;
    ut_buf_reset(&c->out_head);
    ut_buf_printf(&c->out_head, "HTTP/1.1 %d %s\r\n", status, gw_http1_reason(status));
    if (!no_body) {
        ut_buf_printf(&c->out_head, "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype,
                      c->out_body.len);
    }
    ut_buf_puts(&c->out_head, "Cache-Control: no-store\r\nConnection: close\r\n\r\n");
    if (c->out_head.oom || c->out_body.oom) {
        conn_close(c);
        return;
    }

    uv_buf_t bufs[2];
    unsigned n = 0;
    bufs[n++] = uv_buf_init(c->out_head.data, (unsigned)c->out_head.len);
    if (!no_body && !c->is_head_req && c->out_body.len > 0)
        bufs[n++] = uv_buf_init(c->out_body.data, (unsigned)c->out_body.len);

    c->st = ST_WRITE;
    c->dropped = 0;
    restart_timer(c, c->a->timeout_ms);
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, bufs, n, on_write) != 0)
        conn_close(c);
}

static void respond_error(conn *c, int status, const char *reason)
{
    ut_buf body = {0};
    ut_buf_puts(&body, reason && *reason ? reason : gw_http1_reason(status));
    ut_buf_putc(&body, '\n');
    respond(c, status, NULL, &body);
}

static void dispatch(conn *c)
{
    gw_admin *a = c->a;
    gw_str method = c->head.method;
    gw_str path = c->head.target;
    const char *q = memchr(path.base, '?', path.len);
    if (q)
        path.len = (size_t)(q - path.base);

    gw_admin_response resp = {.status = 200, .content_type = NULL, .body = {0}};
    a->handler(a->user, method, path, &resp);
    if (c->st == ST_CLOSING) { /* the handler stopped the admin */
        ut_buf_free(&resp.body);
        return;
    }
    respond(c, resp.status, resp.content_type, &resp.body);
}

/* ---- reading ---- */

static const char CONTINUE_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void on_write_continue(uv_write_t *req, int status)
{
    conn *c = req->data;
    if (c->st != ST_CLOSING && status < 0)
        conn_close(c);
}

static bool body_done(const conn *c)
{
    if (c->body.done || c->body.kind == GW_BODY_NONE)
        return true;
    return c->body.kind == GW_BODY_LENGTH && c->body.received >= c->head.content_length;
}

/* Feeds body bytes to the decoder; dispatches when the body is complete.
 * Bytes after the body (pipelined requests) are ignored. */
static void feed_body(conn *c, const char *data, size_t n)
{
    while (n > 0 && !body_done(c)) {
        const char *span;
        size_t span_len = 0;
        ssize_t r = gw_http1_body_decode(&c->body, data, n, &span, &span_len);
        if (r < 0) {
            respond_error(c, 400, c->body.error ? c->body.error : "malformed request body");
            return;
        }
        if (c->body.received > BODY_MAX) {
            respond_error(c, 413, "request body too large");
            return;
        }
        if (r == 0) { /* no progress on non-empty input: cannot happen with a sane decoder */
            respond_error(c, 400, "malformed request body");
            return;
        }
        data += r;
        n -= (size_t)r;
    }
    if (body_done(c))
        dispatch(c);
}

static void got_head(conn *c)
{
    const gw_http1_head *h = &c->head;
    c->is_head_req = h->method.len == 4 && memcmp(h->method.base, "HEAD", 4) == 0;
    if (h->body == GW_BODY_UNTIL_CLOSE) {
        respond_error(c, 400, "request body without framing");
        return;
    }
    if (h->body == GW_BODY_LENGTH && h->content_length > BODY_MAX) {
        respond_error(c, 413, "request body too large");
        return;
    }
    gw_http1_body_init(&c->body, h, TRAILER_MAX);
    c->st = ST_BODY;
    size_t head_len = h->head_len <= c->len ? h->head_len : c->len;
    bool need_continue = h->expect_continue && h->minor_version == 1;
    feed_body(c, c->buf + head_len, c->len - head_len);
    if (c->st == ST_BODY && need_continue) {
        c->wr_continue.data = c;
        uv_buf_t b = uv_buf_init((char *)CONTINUE_100, sizeof CONTINUE_100 - 1);
        if (uv_write(&c->wr_continue, (uv_stream_t *)&c->tcp, &b, 1, on_write_continue) != 0)
            conn_close(c);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn *c = h->data;
    (void)suggested;
    if (c->st == ST_HEAD && c->len < HEAD_BUF_CAP) {
        if (!c->buf)
            c->buf = malloc(HEAD_BUF_CAP);
        if (c->buf) {
            *buf = uv_buf_init(c->buf + c->len, (unsigned)(HEAD_BUF_CAP - c->len));
            return;
        }
    }
    *buf = uv_buf_init(c->a->scratch, SCRATCH_BYTES);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = s->data;
    if (c->st == ST_CLOSING || nread == 0)
        return;
    if (nread < 0) {
        c->eof = true;
        if (c->st == ST_WRITE && nread == UV_EOF)
            uv_read_stop(s); /* still deliver the response; on_write closes */
        else
            conn_close(c);
        return;
    }
    size_t n = (size_t)nread;
    switch (c->st) {
    case ST_HEAD: {
        if (!c->buf || buf->base != c->buf + c->len) { /* out of memory for the head */
            conn_close(c);
            return;
        }
        c->len += n;
        ssize_t r = gw_http1_parse_head(&c->parser, c->buf, c->len, &c->head);
        if (r == GW_HTTP1_AGAIN) {
            if (c->len >= HEAD_MAX)
                respond_error(c, 431, "request header fields too large");
            return;
        }
        if (r < 0) {
            respond_error(c, c->parser.status ? c->parser.status : 400, c->parser.error);
            return;
        }
        got_head(c);
        return;
    }
    case ST_BODY:
        feed_body(c, buf->base, n);
        return;
    case ST_WRITE:
    case ST_LINGER:
        c->dropped += n;
        if (c->dropped > LINGER_MAX_BYTES)
            conn_close(c);
        return;
    case ST_CLOSING:
        return;
    }
}

static void on_timer(uv_timer_t *t)
{
    conn *c = t->data;
    switch (c->st) {
    case ST_HEAD:
        if (c->len == 0) {
            conn_close(c);
            return;
        }
        /* fall through */
    case ST_BODY:
        respond_error(c, 408, "request timeout");
        return;
    case ST_WRITE:
    case ST_LINGER:
        conn_close(c);
        return;
    case ST_CLOSING:
        return;
    }
}

/* ---- accepting ---- */

static void on_reject_closed(uv_handle_t *h)
{
    gw_admin *a = h->data;
    free(h);
    handle_closed(a);
}

static void reject(gw_admin *a)
{
    uv_tcp_t *t = malloc(sizeof *t);
    if (!t || uv_tcp_init(a->loop, t) != 0) {
        free(t);
        /* Out of memory: the pending connection stays in the backlog and
         * libuv stops polling the listener until something accepts. */
        return;
    }
    t->data = a;
    a->open_handles++;
    uv_accept((uv_stream_t *)&a->listener, (uv_stream_t *)t);
    uv_close((uv_handle_t *)t, on_reject_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
    gw_admin *a = server->data;
    if (status < 0 || a->stopping)
        return;
    if (a->n_conns >= MAX_CONNS) {
        reject(a);
        return;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        reject(a);
        return;
    }
    c->a = a;
    if (uv_tcp_init(a->loop, &c->tcp) != 0) {
        free(c);
        reject(a);
        return;
    }
    c->tcp.data = c;
    c->handles = 1;
    a->open_handles++;
    if (uv_timer_init(a->loop, &c->timer) == 0) {
        c->timer.data = c;
        c->handles = 2;
        a->open_handles++;
    }
    /* listed before anything can close it, so conn_close's unlink balances */
    c->next = a->conns;
    if (a->conns)
        a->conns->prev = c;
    a->conns = c;
    c->listed = true;
    a->n_conns++;

    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || c->handles != 2) {
        conn_close(c);
        return;
    }
    static const gw_http1_limits limits = {
        .max_head_bytes = HEAD_MAX,
        .max_headers = HEADERS_MAX,
        .max_request_line = LINE_MAX_BYTES,
    };
    gw_http1_parser_init(&c->parser, false, &limits, c->headers, HEADERS_MAX);
    uv_tcp_nodelay(&c->tcp, 1);
    c->st = ST_HEAD;
    uv_timer_start(&c->timer, on_timer, a->timeout_ms, 0);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        conn_close(c);
}

/* ---- public ---- */

static void addr_text(const gw_sockaddr *addr, char *out, size_t out_len)
{
    char host[INET6_ADDRSTRLEN + 2] = "?", port[8] = "?";
    getnameinfo((const struct sockaddr *)&addr->ss, addr->len, host, sizeof host, port,
                sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(out, out_len, addr->ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

static void on_failed_listener_closed(uv_handle_t *h)
{
    free(h->data);
}

int gw_admin_start(gw_admin **out, uv_loop_t *loop, const gw_sockaddr *addr,
                   gw_admin_handler handler, void *user, char *err, size_t err_len)
{
    if (err && err_len)
        err[0] = '\0';
    if (out)
        *out = NULL;
    if (!out || !loop || !addr || !handler) {
        set_err(err, err_len, "admin: %s%s", "invalid arguments", "");
        return -1;
    }
    gw_sockaddr sa = *addr;
    int family = sa.ss.ss_family;
    if (family != AF_INET && family != AF_INET6) {
        set_err(err, err_len, "admin: %s%s", "address is not IPv4 or IPv6", "");
        return -1;
    }
    if (sa.len == 0 || sa.len > sizeof sa.ss)
        sa.len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    char where[INET6_ADDRSTRLEN + 16];
    addr_text(&sa, where, sizeof where);

    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        set_err(err, err_len, "admin: socket: %s%s", strerror(errno), "");
        return -1;
    }
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(fd, (const struct sockaddr *)&sa.ss, sa.len) != 0) {
        set_err(err, err_len, "admin: bind %s: %s", where, strerror(errno));
        close(fd);
        return -1;
    }

    gw_admin *a = calloc(1, sizeof *a);
    if (!a) {
        close(fd);
        set_err(err, err_len, "admin: %s%s", "out of memory", "");
        return -1;
    }
    a->loop = loop;
    a->handler = handler;
    a->user = user;
    a->timeout_ms = DEFAULT_TIMEOUT;
    int rc = uv_tcp_init(loop, &a->listener);
    if (rc != 0) {
        close(fd);
        free(a);
        set_err(err, err_len, "admin: %s%s", uv_strerror(rc), "");
        return -1;
    }
    a->listener.data = a;
    rc = uv_tcp_open(&a->listener, fd);
    if (rc != 0)
        close(fd);
    else
        rc = uv_listen((uv_stream_t *)&a->listener, 128, on_connection);
    if (rc != 0) {
        set_err(err, err_len, "admin: listen %s: %s", where, uv_strerror(rc));
        /* the handle is in the loop's list: it can only go through uv_close */
        uv_close((uv_handle_t *)&a->listener, on_failed_listener_closed);
        return -1;
    }
    a->open_handles = 1;
    *out = a;
    return 0;
}

int gw_admin_port(const gw_admin *a)
{
    if (!a)
        return -1;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getsockname(&a->listener, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

void gw_admin_set_timeout_ms(gw_admin *a, unsigned ms)
{
    if (a)
        a->timeout_ms = ms ? ms : 1;
}

static void on_listener_closed(uv_handle_t *h)
{
    handle_closed(h->data);
}

void gw_admin_stop(gw_admin *a, void (*on_closed)(void *user), void *user)
{
    if (!a || a->stopping)
        return;
    a->stopping = true;
    a->on_closed = on_closed;
    a->closed_user = user;
    uv_close((uv_handle_t *)&a->listener, on_listener_closed);
    while (a->conns)
        conn_close(a->conns);
}
