/*
 * gw_redis.h — a Redis client for one worker loop, bound to the endpoints
 * of a named cluster (for Higress proxy_redis_init / proxy_redis_call).
 *
 * Layer:     gateway. One gw_redis per (worker, cluster, options); used on
 *            the worker's loop thread only.
 * Owns:      the connection (hiredis async on libuv, hiredis' own libuv
 *            adapter), AUTH (user + password, or password) and SELECT db
 *            on every (re)connect, raw RESP commands in and complete RESP
 *            replies out, per-call timeouts, reconnecting with backoff
 *            (100 ms doubling to 5 s, reset on success), rotating through
 *            the cluster's endpoints on failure, cancellation.
 * Not here:  plugin tokens and buffers (the proxy-wasm glue), keying
 *            clients by cluster name (the glue keeps one per upstream).
 *
 * Results: GW_REDIS_OK means a reply arrived, including Redis error
 * replies (-ERR, -NOAUTH ...): the reply bytes say so. Anything else is a
 * transport failure. A call timing out also resets the connection (a
 * server that stopped answering would otherwise pile up calls); the next
 * call reconnects.
 *
 * Lifetime: each call ends in exactly one callback, or none when it was
 * cancelled (gw_redis_cancel) or the client freed (gw_redis_free) first.
 * Callbacks never run inside gw_redis_call.
 */
#ifndef GW_REDIS_H
#define GW_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "gw_config.h"

typedef enum gw_redis_result {
    GW_REDIS_OK = 0,
    GW_REDIS_CONNECT_FAILED, /* cannot connect (or in reconnect backoff) */
    GW_REDIS_DISCONNECTED,   /* the connection broke before the reply */
    GW_REDIS_TIMEOUT,        /* no reply within the call's timeout */
    GW_REDIS_BAD_COMMAND,    /* empty command / out of memory */
} gw_redis_result;

typedef struct gw_redis_options {
    const char *username; /* NULL or "" = AUTH with the password only */
    const char *password; /* NULL or "" = no AUTH */
    uint32_t db;          /* SELECT db when non-zero */
    uint32_t timeout_ms;  /* default per call; 0 = 1000 */
    uint32_t connect_timeout_ms; /* 0 = the cluster's connect_timeout */
} gw_redis_options;

typedef struct gw_redis gw_redis;
typedef struct gw_redis_call gw_redis_call;

/* reply/len: one complete RESP value, valid during the callback only
 * (NULL/0 unless GW_REDIS_OK). */
typedef void (*gw_redis_cb)(void *user, gw_redis_result result, const char *reply, size_t len);

/* Splits a Higress upstream string "cluster?db=1&buffer_flush_timeout=3"
 * into the cluster name (NUL-terminated into name[cap]) and db (0 when
 * absent). Other options are accepted and ignored. Returns 0, or -1 when
 * the name does not fit or db is not a number. */
int gw_redis_parse_upstream(const char *s, size_t len, char *name, size_t cap, uint32_t *db);

/* A client for cluster's endpoints (copied: the generation may go). Does
 * not connect until the first call. NULL on OOM or no endpoints. */
gw_redis *gw_redis_new(uv_loop_t *loop, const gw_cluster_conf *cluster,
                       const gw_redis_options *opts);

/* True when a client built from (cluster, opts) would be identical, so an
 * existing client (and its connection) can be kept on re-init. */
bool gw_redis_same(const gw_redis *r, const gw_cluster_conf *cluster,
                   const gw_redis_options *opts);

/* Sends cmd[0..len) (RESP, e.g. "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") as is.
 * timeout_ms 0 = the client's default. Returns the call, or NULL when it
 * cannot be queued at all (then no callback). */
gw_redis_call *gw_redis_call_raw(gw_redis *r, const void *cmd, size_t len, uint32_t timeout_ms,
                                 gw_redis_cb cb, void *user);

/* The call's callback will not run. Safe until the callback has run. */
void gw_redis_cancel(gw_redis_call *c);

/* Closes the connection; pending calls end without callbacks. Handles
 * close asynchronously: run the loop to finish freeing. */
void gw_redis_free(gw_redis *r);

const char *gw_redis_result_name(gw_redis_result r);

#endif
