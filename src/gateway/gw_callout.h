/*
 * gw_callout.h — one HTTP/1.1 request from a worker to a named cluster,
 * with the whole response collected (for proxy-wasm proxy_http_call).
 *
 * Layer:     gateway. Per worker, on its loop thread; no locks.
 * Owns:      picking an endpoint (gw_upstream: LB, ejection, health,
 *            keep-alive pool, connect timeout), writing the request,
 *            reading the response with gw_http1 (Content-Length, chunked,
 *            until close), a total deadline, a body cap, cancellation.
 * Not here:  plugin tokens and buffers (the proxy-wasm glue).
 *
 * Lifetime: gw_callout_start returns a handle; exactly one of these
 * happens: the callback runs once (the handle is invalid after it
 * returns), or the caller calls gw_callout_cancel before it ran (then the
 * callback never runs). Nothing leaks either way.
 */
#ifndef GW_CALLOUT_H
#define GW_CALLOUT_H

#include <stddef.h>
#include <stdint.h>

#include "gw_http1.h"
#include "gw_worker.h"

typedef enum gw_callout_result {
    GW_CALLOUT_OK = 0,
    GW_CALLOUT_NO_CLUSTER,     /* unknown cluster name (reported by start) */
    GW_CALLOUT_NO_ENDPOINT,    /* no healthy endpoint / connection limit */
    GW_CALLOUT_CONNECT_FAILED, /* refused, unreachable, connect timeout */
    GW_CALLOUT_RESET,          /* closed or failed before the response ended */
    GW_CALLOUT_TIMEOUT,        /* the total deadline passed */
    GW_CALLOUT_TOO_LARGE,      /* body over max_body or head over 64 KiB */
    GW_CALLOUT_BAD_RESPONSE,   /* malformed HTTP */
} gw_callout_result;

typedef struct gw_callout_request {
    const char *cluster;   /* cluster name in the worker's generation */
    const char *method;    /* "GET", ... */
    const char *path;      /* "/x?y" */
    const char *authority; /* Host header */
    const gw_header *headers; /* extra headers (no Host / Content-Length /
                                 Transfer-Encoding / Connection: dropped) */
    size_t n_headers;
    const void *body;      /* sent with Content-Length when body_len > 0 */
    size_t body_len;
    uint32_t timeout_ms;   /* whole exchange; 0 = the cluster's request_timeout */
    size_t max_body;       /* response body cap; 0 = 4 MiB */
} gw_callout_request;

typedef struct gw_callout_response {
    int status;
    const gw_header *headers; /* in arrival order, names as sent */
    size_t n_headers;
    const char *body;
    size_t body_len;
} gw_callout_response;

typedef struct gw_callout gw_callout;

/* resp is non-NULL only for GW_CALLOUT_OK and valid during the call. */
typedef void (*gw_callout_cb)(void *user, gw_callout_result result,
                              const gw_callout_response *resp);

/* Starts the request. Returns the handle, or NULL with *result set when it
 * cannot start (unknown cluster, out of memory); the callback is then not
 * called. Never calls cb synchronously. */
gw_callout *gw_callout_start(gw_worker *w, const gw_callout_request *req, gw_callout_cb cb,
                             void *user, gw_callout_result *result);

/* Cancels a call whose callback has not run: no callback, the connection
 * is closed, memory is freed (after the loop closes the handles). */
void gw_callout_cancel(gw_callout *c);

const char *gw_callout_result_name(gw_callout_result r);

#endif
