/*
 * gw_wagi.c — the gateway side of WAGI routes: collects the request body
 * (bounded), hands the complete request to the route's wagi_handler (a
 * fresh Wasm instance per request), follows local redirects, and writes
 * the CGI response back with proper framing.
 *
 * Owns:      the glue between a gw_stream and src/wagi/ (the CGI contract
 *            itself lives there); for a route with `wagi: {modules: FILE}`,
 *            picking the handler, entrypoint, SCRIPT_NAME and
 *            X_MATCHED_ROUTE from the table with wagi_modules_lookup (the
 *            one modules.toml matcher; no match: 404), also for local
 *            redirects.
 * Not here:  CGI variables, running Wasm, parsing CGI output (wagi/),
 *            connections and timeouts (gw_conn.c).
 *
 * The handler runs on the worker thread: a hello-world module takes tens
 * of microseconds, less than a thread hand-off would cost. The route's
 * timeout bounds how long a worker can be held (the wagi watchdog
 * interrupts the instance).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_conn.h"
#include "gw_wagi_toml.h"
#include "wagi.h"

#define MAX_LOCAL_REDIRECTS 5

/* The head's strings point into c->buf, which body reads may overwrite:
 * copy the head and re-point the parsed fields into the copy. */
static bool keep_head(gw_stream *s)
{
    gw_conn *c = s->c;
    const char *base = c->buf + s->head_pos;
    size_t len = s->body_pos - s->head_pos;
    ut_buf_reset(&s->wagi_head);
    ut_buf_append(&s->wagi_head, base, len);
    if (s->wagi_head.oom)
        return false;
    const char *nb = s->wagi_head.data;
    /* Fields a plugin rebuilt live in the stream's own block: leave them. */
#define REPOINT(str)                                                                  \
    ((str).base = (str).base && (str).base >= base && (str).base <= base + len         \
                      ? nb + ((str).base - base)                                      \
                      : (str).base)
    REPOINT(s->req.method);
    REPOINT(s->req.target);
    for (size_t i = 0; i < s->req.n_headers; i++) {
        REPOINT(s->req.headers[i].name);
        REPOINT(s->req.headers[i].value);
    }
#undef REPOINT
    return true;
}

static uint16_t listener_port(gw_stream *s)
{
    const gw_config *cfg = s->gen->cfg;
    size_t i = s->c->listener_index;
    if (i >= cfg->n_listeners)
        return 80;
    const struct sockaddr_storage *ss = &cfg->listeners[i].addr.ss;
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void respond(gw_stream *s, wagi_response *r)
{
    ut_buf *b = gw_stream_head_begin(s, r->status);
    ut_buf_append(b, r->headers.data, r->headers.len);
    gw_stream_head_send(s, r->body, r->body_len, false);
}

/* With a modules.toml table: the handler, entrypoint, X_MATCHED_ROUTE and
 * SCRIPT_NAME for target (wagi_modules_lookup, the one matcher). NULL when
 * no route matches. */
static const wagi_handler *pick(const gw_wagi_table *t, wagi_request *rq)
{
    const char *q = memchr(rq->target, '?', rq->target_len);
    size_t plen = q ? (size_t)(q - rq->target) : rq->target_len;
    wagi_match m;
    if (!wagi_modules_lookup(&t->mods, rq->target, plen, &m))
        return NULL;
    rq->script_name = rq->target;
    rq->script_name_len = m.script_name_len;
    rq->matched_route = m.route;
    rq->entrypoint = m.sub ? m.entrypoint : NULL;
    return t->h[m.module];
}

/* A local redirect to a path no table route matches. */
static void no_route(wagi_response *r)
{
    static const char body[] = "Not Found\n";
    ut_buf_reset(&r->headers);
    ut_buf_puts(&r->headers, "Content-Type: text/plain; charset=utf-8\r\n");
    r->status = 404;
    r->body = (const uint8_t *)body;
    r->body_len = sizeof body - 1;
    r->error = "local redirect to a path no WAGI route matches";
}

static void run(gw_stream *s)
{
    gw_conn *c = s->c;
    const gw_route_conf *rt = s->route;
    size_t ri = (size_t)(rt - s->gen->cfg->routes);
    const gw_wagi_table *table = s->gen->wagi_tables ? s->gen->wagi_tables[ri] : NULL;
    const wagi_handler *h = s->gen->wagi ? s->gen->wagi[ri] : NULL;
    if (!h && !table) {
        gw_stream_respond_error(s, 503, "WAGI handler not loaded");
        return;
    }
    /* wagi_header view of the request's fields */
    size_t nh = s->req.n_headers;
    wagi_header *hdrs = calloc(nh ? nh : 1, sizeof *hdrs);
    if (!hdrs) {
        gw_stream_respond_error(s, 503, "out of memory");
        return;
    }
    for (size_t i = 0; i < nh; i++) {
        hdrs[i].name = s->req.headers[i].name.base;
        hdrs[i].name_len = s->req.headers[i].name.len;
        hdrs[i].value = s->req.headers[i].value.base;
        hdrs[i].value_len = s->req.headers[i].value.len;
    }
    /* SCRIPT_NAME: the route's fixed path part, without a trailing '/' */
    const char *sn = "";
    size_t sn_len = 0;
    if (rt->wagi_script_name) {
        sn = rt->wagi_script_name;
        sn_len = strlen(sn);
    } else if (rt->path &&
               (rt->path_kind == GW_PATH_PREFIX || rt->path_kind == GW_PATH_EXACT)) {
        sn = rt->path;
        sn_len = strlen(sn);
        if (rt->path_kind == GW_PATH_PREFIX && sn_len && sn[sn_len - 1] == '/')
            sn_len--;
    }
    wagi_request rq = {
        .method = s->req.method.base,
        .method_len = s->req.method.len,
        .target = s->req.target.base,
        .target_len = s->req.target.len,
        .script_name = sn,
        .script_name_len = sn_len,
        .server_protocol = s->req.minor_version == 0 ? "HTTP/1.0" : "HTTP/1.1",
        .remote_addr = c->peer,
        .scheme = c->tls ? "https" : "http",
        .default_host = "localhost",
        .default_port = listener_port(s),
        .headers = hdrs,
        .n_headers = nh,
        .body = (const uint8_t *)s->wagi_body.data,
        .body_len = s->wagi_body.len,
    };
    if (table && !(h = pick(table, &rq))) {
        free(hdrs);
        gw_stream_respond_error(s, 404, "no WAGI route matches");
        return;
    }
    wagi_response *r = calloc(1, sizeof *r);
    if (!r) {
        free(hdrs);
        gw_stream_respond_error(s, 503, "out of memory");
        return;
    }
    wagi_handler_run(h, &rq, r);
    for (int hop = 0; r->local_redirect && hop < MAX_LOCAL_REDIRECTS; hop++) {
        /* RFC 3875 §6.2.2: run the new path as a GET, without the body */
        char *target = r->local_redirect;
        r->local_redirect = NULL;
        wagi_response_free(r);
        memset(r, 0, sizeof *r);
        rq.method = "GET";
        rq.method_len = 3;
        rq.target = target;
        rq.target_len = strlen(target);
        rq.body = NULL;
        rq.body_len = 0;
        const wagi_handler *to = table ? pick(table, &rq) : h;
        if (to)
            wagi_handler_run(to, &rq, r);
        else
            no_route(r);
        free(target);
    }
    free(hdrs);
    if (r->local_redirect) {
        wagi_response_free(r);
        free(r);
        gw_stream_respond_error(s, 500, "too many local redirects");
        return;
    }
    if (r->error) {
        s->error = r->error;
        gw_log("warn", "wagi route %s: %s%s%s", rt->name, r->error, r->detail[0] ? ": " : "",
               r->detail);
    }
    s->wagi_resp = r;
    respond(s, r);
}

static void collect(gw_stream *s)
{
    gw_conn *c = s->c;
    gw_http1_body *dec = &s->req_pipe.dec;
    while (!dec->done && c->pos < c->len) {
        const char *d;
        size_t dl = 0;
        ssize_t n = gw_http1_body_decode(dec, c->buf + c->pos, c->len - c->pos, &d, &dl);
        if (n < 0) {
            c->keep_alive = false;
            gw_stream_respond_error(s, 400, "malformed chunked request body");
            return;
        }
        c->pos += (size_t)n;
        if (dl) {
            if (s->wagi_body.len + dl > s->route->wagi_max_body_bytes) {
                c->keep_alive = false;
                gw_stream_respond_error(s, 413, "request body too large");
                return;
            }
            ut_buf_append(&s->wagi_body, d, dl);
            if (s->wagi_body.oom) {
                gw_stream_respond_error(s, 503, "out of memory");
                return;
            }
        }
        if (n == 0 && dl == 0)
            break;
    }
    if (!dec->done) {
        if (s->req.expect_continue && !s->sent_continue) {
            static char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            uv_buf_t b = uv_buf_init(cont, sizeof cont - 1);
            s->sent_continue = true;
            if (gw_conn_write(c, &b, 1, NULL) < 0) {
                gw_conn_close(c);
                return;
            }
        }
        gw_conn_body_consumed(c);
        return;
    }
    s->req_done = true;
    run(s);
}

void gw_wagi_start(gw_stream *s)
{
    const gw_route_conf *rt = s->route;
    if (s->req.body == GW_BODY_LENGTH && s->req.content_length > rt->wagi_max_body_bytes) {
        s->c->keep_alive = false;
        gw_stream_respond_error(s, 413, "request body too large");
        return;
    }
    if (!keep_head(s)) {
        gw_stream_respond_error(s, 503, "out of memory");
        return;
    }
    ut_buf_reset(&s->wagi_body);
    memset(&s->req_pipe, 0, sizeof s->req_pipe);
    gw_http1_body_init(&s->req_pipe.dec, &s->req, s->gen->cfg->limits.max_header_bytes);
    collect(s);
}

void gw_wagi_on_client_data(gw_stream *s)
{
    if (!s->req_done && !s->resp_started)
        collect(s);
}

void gw_wagi_stream_done(gw_stream *s)
{
    if (s->wagi_resp) {
        wagi_response_free(s->wagi_resp);
        free(s->wagi_resp);
        s->wagi_resp = NULL;
    }
}
