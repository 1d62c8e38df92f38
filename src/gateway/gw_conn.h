/*
 * gw_conn.h — a downstream (client) connection and the request/response
 * exchange on it (gw_stream), HTTP/1.1 only: one exchange at a time,
 * pipelined requests wait in the read buffer.
 *
 * Layer:     gateway.
 * Owns:      gw_conn (socket, optional TLS, read buffer, keep-alive and
 *            header timeouts, close semantics), gw_stream (one request:
 *            parse, route, direct response / redirect / hand-off to the
 *            proxy, access log, stats), writing to the client with
 *            backpressure (gw_conn_write), and gw_pipe, the body re-framer
 *            shared by both directions.
 * Not here:  talking to upstreams (gw_proxy.c, gw_upstream.c).
 */
#ifndef GW_CONN_H
#define GW_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "gw_http1.h"
#include "gw_plugin.h"
#include "gw_upstream.h"
#include "gw_worker.h"

/* Re-frames a decoded body into write vectors: identity (Content-Length
 * or close-delimited) or chunked. Spans point into the source buffer,
 * which must not be overwritten until the write completes. */
#define GW_PIPE_SPANS 8
typedef struct gw_pipe {
    gw_http1_body dec;
    bool chunked_out;  /* emit chunked framing */
    bool end_written;  /* the terminating "0\r\n\r\n" (or nothing) is queued */
    char hex[GW_PIPE_SPANS][20];
    uint64_t bytes;    /* payload bytes passed */
} gw_pipe;

/* Appends to iov (from *n, at most max entries) the framed payload decoded
 * from buf[*pos..len); advances *pos past the consumed bytes. Returns 0 or
 * -1 on a framing error (p->dec.error). When the source message is done
 * and chunked_out, the terminator is appended once. */
int gw_pipe_fill(gw_pipe *p, const char *buf, size_t *pos, size_t len, uv_buf_t *iov, unsigned *n,
                 unsigned max);

/* Appends p[0..n) as one chunk of chunked encoding ("HEX\r\n" data
 * "\r\n"); nothing for n == 0 (that would be the terminator). */
void gw_chunk_frame(ut_buf *dst, const char *p, size_t n);

typedef struct gw_stream gw_stream;
typedef struct gw_conn gw_conn;
typedef void (*gw_write_cb)(gw_conn *c, int status);

/* Which deadline a connection is under (checked by gw_conn_sweep). */
enum {
    GW_CONN_TIMER_NONE,
    GW_CONN_TIMER_IDLE,   /* keep-alive idle: close */
    GW_CONN_TIMER_HEADER, /* request head incomplete: 408 */
    GW_CONN_TIMER_WRITE,  /* client not reading our response: close */
    GW_CONN_TIMER_LINGER, /* after the last response: close */
};

struct gw_conn {
    uv_tcp_t tcp;
    uint64_t deadline;       /* loop time (ms) when timer_kind expires */
    uint8_t timer_kind;
    uv_write_t wreq;
    gw_worker *w;
    gw_gen *gen;
    gw_link link;            /* in w->conns */
    size_t listener_index;
    gw_tls *tls;
    char *tls_in;            /* ciphertext read buffer */

    char *buf;               /* plaintext read buffer, NULL while idle */
    size_t cap, pos, len;
    gw_stream *stream;       /* current exchange, or NULL */

    gw_write_cb write_cb;    /* pending write completion */
    bool writing;
    bool reading;
    bool closing;
    bool keep_alive;         /* may serve another request after this one */
    bool eof;                /* client closed its side */
    char peer[48];           /* client IP as text (X-Forwarded-For, log) */
    unsigned requests;
    int handles_open;
};

struct gw_stream {
    gw_conn *c;
    gw_worker *w;
    gw_gen *gen;
    const gw_route_conf *route;
    uint32_t route_slot;
    uint64_t start_ns;

    gw_http1_parser parser;
    gw_http1_head req;
    gw_header *headers;      /* headers_cap entries (>= max_headers) */
    size_t headers_cap;
    bool is_head;
    bool idempotent;
    bool replayable;         /* whole request is in c->buf: retries possible */
    size_t head_pos;         /* offset of the head in c->buf */
    size_t body_pos;         /* offset of the first body byte in c->buf */

    /* request body, client -> upstream */
    gw_pipe req_pipe;
    bool req_done;           /* whole request written upstream */
    bool body_taken;         /* body bytes were consumed from c->buf */
    bool req_writing;
    bool sent_continue;
    bool body_filter;        /* the body goes through plugins (gw_plugin_body) */
    ut_buf body_in;          /* ... decoded payload read this turn */
    ut_buf up_body;          /* ... framed bytes being written upstream */
    bool resp_filter;        /* the response body goes through plugins */
    bool resp_filter_finished; /* ... its last bytes are being written */
    ut_buf resp_body_out;    /* ... framed bytes being written to the client */

    /* response, upstream -> client */
    ut_buf head_out;         /* response head for the client */
    gw_pipe resp_pipe;
    bool resp_started;       /* head sent to the client: no retry now */
    bool resp_done;
    bool resp_writing;
    int status;
    uint64_t bytes_out;

    /* upstream side (gw_proxy.c) */
    gw_cluster_state *cluster;
    gw_endpoint_state *ep;
    gw_upconn *up;
    ut_buf up_head;          /* request head for the upstream (kept for retries) */
    bool up_head_sent;       /* in this attempt */
    gw_http1_parser resp_parser;
    gw_http1_head resp;
    gw_header *resp_headers;
    unsigned attempts;
    bool up_timer_is_request;
    const char *error;       /* why the exchange failed, for the log */
    /* WAGI routes (gw_wagi.c) */
    ut_buf wagi_head;        /* copy of the request head */
    ut_buf wagi_body;        /* the whole request body */
    struct wagi_response *wagi_resp;
    gw_stream_plugins plugins; /* proxy-wasm chain state (gw_plugin.c) */
    char request_id[40];
    char method[16];
    ut_buf log_target;       /* method target host for the access log */
};

/* Accept callback target: sets up a connection for a new client. */
void gw_conn_accept(gw_worker *w, uv_stream_t *server, size_t listener_index, bool is_tls);

/* Writes with uv_try_write first and queues the rest with uv_write.
 * Returns GW_WRITE_DONE (everything written now; cb is NOT called),
 * GW_WRITE_PENDING (cb runs when the queued part is written) or a negative
 * UV error (cb is not called). The iov array may be on the caller's stack;
 * the bytes must stay put until the write completes. */
#define GW_WRITE_DONE    1
#define GW_WRITE_PENDING 0
int gw_write_iov(uv_stream_t *st, uv_write_t *req, const uv_buf_t *iov, unsigned n, uv_write_cb cb);

/* The same to the client (through TLS when the connection has it); one
 * write at a time; cb(c, status) for GW_WRITE_PENDING. */
int gw_conn_write(gw_conn *c, const uv_buf_t *iov, unsigned n, gw_write_cb cb);

/* Resume / pause reading the client (request body backpressure). */
void gw_conn_read_resume(gw_conn *c);
void gw_conn_read_pause(gw_conn *c);

/* The stream is over (response fully written, or failed). Logs, counts,
 * then continues with the next request, or closes. */
void gw_stream_finish(gw_stream *s);

/* Sends a complete small response (status + text body) and finishes the
 * stream; if the response head was already sent, just closes. */
void gw_stream_respond_error(gw_stream *s, int status, const char *message);

/* A complete response generated by the gateway itself (direct response,
 * error, redirect, WAGI output, plugin local reply), in two steps:
 * gw_stream_head_begin writes the status line and Date into s->head_out
 * and returns it for the caller's header lines ("Name: value\r\n" each,
 * already validated); gw_stream_head_send adds Content-Length (not for
 * 1xx/204/304), a text/plain Content-Type when default_type and there is a
 * body, Connection, and writes head and body (no body for HEAD). body is
 * borrowed until the write completes: keep it in stream-owned memory.
 * The stream finishes when the write is done. */
ut_buf *gw_stream_head_begin(gw_stream *s, int status);
void gw_stream_head_send(gw_stream *s, const void *body, size_t body_len, bool default_type);

/* Runs the matched route's action (direct response, redirect, proxy,
 * WAGI); the plugin glue calls it when a paused request resumes. */
void gw_stream_run_action(gw_stream *s);
/* Matches the route again after a plugin changed the request; on no match
 * answers 404 and leaves s->route NULL. */
void gw_stream_reroute(gw_stream *s);

/* Closes the connection (and aborts its stream). */
void gw_conn_close(gw_conn *c);

/* Called by the proxy when request-body bytes were consumed from c->buf and
 * written upstream: makes buffer room and reads more if needed. */
void gw_conn_body_consumed(gw_conn *c);

/* Expires connection deadlines; the worker calls it every
 * GW_CONN_SWEEP_MS, so timeouts are accurate to that. */
#define GW_CONN_SWEEP_MS 100
void gw_conn_sweep(gw_worker *w);

/* Drain: close idle connections now; busy ones close after their exchange. */
void gw_conn_drain_all(gw_worker *w);

/* Frees the worker's cache of finished streams (at worker exit). */
void gw_worker_free_streams(gw_worker *w);

/* WAGI entry points (gw_wagi.c). */
void gw_wagi_start(gw_stream *s);
void gw_wagi_on_client_data(gw_stream *s);
void gw_wagi_stream_done(gw_stream *s); /* frees the WAGI response */

/* Proxy entry points (gw_proxy.c). */
void gw_proxy_start(gw_stream *s);
void gw_proxy_abort(gw_stream *s);      /* client went away: drop upstream */
void gw_proxy_on_client_data(gw_stream *s); /* more request body in c->buf */
void gw_proxy_resume_response(gw_stream *s); /* a plugin released a held response body */

#endif
