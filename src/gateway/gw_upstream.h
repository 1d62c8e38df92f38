/*
 * gw_upstream.h — a worker's view of its upstream clusters: endpoint
 * state, load balancing, keep-alive connection pools, passive ejection.
 *
 * Layer:     gateway. Per worker, single-threaded: no locks.
 * Owns:      gw_cluster_state / gw_endpoint_state (surviving reloads by
 *            cluster name and endpoint address), picking an endpoint
 *            (round_robin, least_request, random; skipping ejected and
 *            health-check-failed endpoints), gw_upconn (connect with a
 *            timeout, keep in an idle pool, detect upstream close while
 *            idle, idle timeout), and failure accounting.
 * Not here:  what is sent on a connection (gw_proxy.c), active health
 *            checks (gw_health.c, which publishes a flag per endpoint).
 */
#ifndef GW_UPSTREAM_H
#define GW_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "gw_config.h"
#include "gw_worker.h"

struct gw_health_flag;
struct gw_upconn;

typedef struct gw_endpoint_state {
    char *address; /* key */
    gw_sockaddr addr;
    struct gw_cluster_state *cluster;
    const struct gw_health_flag *health; /* shared flag, or NULL (always healthy) */
    gw_link idle;           /* idle gw_upconn, most recently used first */
    unsigned n_idle;
    unsigned n_conns;       /* open connections (idle + busy + connecting) */
    unsigned n_active;      /* requests in flight (least_request) */
    unsigned consecutive_failures;
    uint64_t ejected_until_ms; /* loop time; 0 = not ejected */
    bool removed;           /* dropped from the config; freed when n_conns == 0 */
} gw_endpoint_state;

typedef struct gw_cluster_state {
    char *name; /* key */
    gw_worker *w;
    const gw_cluster_conf *conf; /* from the worker's current generation */
    gw_endpoint_state **endpoints;
    size_t n_endpoints;
    uint64_t rr;       /* round-robin cursor */
    unsigned users;    /* streams holding this state */
    bool removed;
    struct gw_cluster_state *next;
} gw_cluster_state;

/* A connection to an upstream endpoint. */
typedef void (*gw_upconn_connect_cb)(struct gw_upconn *u, int status); /* 0 or UV error */
/* Bytes (or EOF / error, nread < 0) read for the owner; buf is u->buf. */
typedef void (*gw_upconn_data_cb)(struct gw_upconn *u, ssize_t nread);

enum { GW_UP_TIMER_NONE, GW_UP_TIMER_CONNECT, GW_UP_TIMER_IDLE, GW_UP_TIMER_OWNER };

typedef struct gw_upconn {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_timer_t timer;      /* lazily re-armed, see gw_upstream_set_deadline */
    uint64_t deadline;     /* loop time (ms) */
    uint8_t timer_purpose; /* GW_UP_TIMER_* */
    void (*on_timeout)(struct gw_upconn *u); /* owner's deadline passed */
    gw_worker *w;
    gw_endpoint_state *ep;
    gw_link link;          /* in ep->idle while idle */
    void *owner;           /* the stream using it, or NULL when idle */
    gw_upconn_connect_cb on_connect;
    gw_upconn_data_cb on_data;
    char *buf;             /* read buffer (GW_BUF_SIZE), NULL while idle */
    size_t pos, len;
    uint64_t requests;     /* served on this connection */
    uv_write_t wreq;       /* the request write in flight */
    uint32_t stat_slot;    /* cluster stats slot */
    int connect_error;     /* uv_tcp_connect failed synchronously */
    bool connected;
    bool eof;              /* the upstream closed its side */
    bool reused;           /* handed out from the pool */
    bool closing;
    bool reading;
    int handles_open;
} gw_upconn;

/* Applies the worker's generation: binds cluster states by name, endpoint
 * states by address, creating and retiring as needed; fills w->by_index. */
int gw_upstream_apply(gw_worker *w, const gw_config *cfg);
void gw_upstream_free_all(gw_worker *w);
void gw_upstream_close_idle(gw_worker *w); /* drain: close every pooled conn */

/* Picks an available endpoint (not ejected, health flag up, below
 * max_connections unless it has an idle connection), avoiding `avoid` if
 * another one is available. NULL = no endpoint available. */
gw_endpoint_state *gw_upstream_pick(gw_cluster_state *cs, const gw_endpoint_state *avoid);

/* An idle pooled connection to ep (marked reused), or a new one being
 * connected (cb called later with the result). Returns NULL only when no
 * connection can be opened (max_connections, OOM); *err then holds a UV
 * error code. */
gw_upconn *gw_upstream_acquire(gw_endpoint_state *ep, void *owner, gw_upconn_connect_cb cb,
                               gw_upconn_data_cb on_data, int *err);

/* The owner's deadline (request/inactivity timeout): on_timeout runs
 * when it passes. Setting it again only moves it (no timer-heap work when
 * it moves later); clearing is free. */
void gw_upstream_set_deadline(gw_upconn *u, uint32_t ms);
void gw_upstream_clear_deadline(gw_upconn *u);

/* Reading stays on for the life of a connection (no epoll_ctl churn per
 * request); the owner pauses it only for backpressure. While idle in the
 * pool, data or EOF closes the connection. */
void gw_upstream_read_resume(gw_upconn *u);
void gw_upstream_read_pause(gw_upconn *u);

/* Returns a connection that finished a request cleanly to the pool. */
void gw_upstream_release(gw_upconn *u);
/* Closes a connection (error, or not reusable). */
void gw_upstream_close(gw_upconn *u);

/* Failure accounting for passive ejection. */
void gw_upstream_report(gw_endpoint_state *ep, bool ok);

#endif
