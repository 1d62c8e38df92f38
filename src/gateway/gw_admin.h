/*
 * gw_admin.h — the admin HTTP listener: a tiny HTTP/1.1 server on one
 * libuv loop (the main thread's), separate from the data plane.
 *
 * Layer:     gateway. Knows libuv, sockets and HTTP framing (through
 *            gw_http1); knows nothing of the endpoints it serves.
 * Owns:      accepting admin connections (at most 64 at a time; more are
 *            closed on accept), reading one request per connection (head
 *            limits 16 KiB / 64 fields / 4 KiB request line; a body of up
 *            to 1 MiB is read and discarded, more is 413), the 10 s request
 *            deadline (408 if a partial request times out), writing the
 *            response with Content-Length and "Connection: close", and a
 *            lingering close so pipelined extra bytes do not turn into a
 *            reset that eats the response.
 * Not here:  what each path answers (the handler: gw_server.c provides
 *            /metrics, /config_dump, /ready and friends), TLS, keep-alive.
 *
 * Malformed requests get the parser's status (400, 413, 414, 431, 501,
 * 505) with its reason as the body; HEAD gets the head the handler's GET
 * answer would have (same Content-Length) without the body. The handler is
 * never called for a malformed request.
 */
#ifndef GW_ADMIN_H
#define GW_ADMIN_H

#include <stddef.h>
#include <uv.h>

#include "gw_config.h"
#include "gw_http1.h"
#include "ut_buf.h"

typedef struct gw_admin gw_admin;

typedef struct gw_admin_response {
    int status;               /* default 200; outside 200..599 becomes 500 */
    const char *content_type; /* default "text/plain; charset=utf-8"; must
                                 outlive the handler call (a literal) */
    ut_buf body;              /* handler appends; admin frees. OOM -> 500 */
} gw_admin_response;

/* Called once per well-formed request, on the loop thread. method and path
 * point into the request buffer and are valid during the call only; path
 * is the request target up to '?'. */
typedef void (*gw_admin_handler)(void *user, gw_str method, gw_str path, gw_admin_response *resp);

/* Binds addr (SO_REUSEADDR), listens and starts serving on loop. Returns 0,
 * or -1 with a message in err (always NUL-terminated when err_len > 0). */
int gw_admin_start(gw_admin **out, uv_loop_t *loop, const gw_sockaddr *addr,
                   gw_admin_handler handler, void *user, char *err, size_t err_len);

/* The bound TCP port (useful after binding port 0), or -1. */
int gw_admin_port(const gw_admin *a);

/* Changes the per-request deadline (default 10000 ms) for connections
 * accepted afterwards. For tests. */
void gw_admin_set_timeout_ms(gw_admin *a, unsigned ms);

/* Closes the listener and every connection (responses in flight are
 * dropped). on_closed(user) runs on the loop once every handle is closed;
 * a is freed then and must not be used after this call. The loop has to
 * keep running for that to happen. Calling it from inside the handler is
 * allowed (that request's response is dropped). on_closed may be NULL. */
void gw_admin_stop(gw_admin *a, void (*on_closed)(void *user), void *user);

#endif
