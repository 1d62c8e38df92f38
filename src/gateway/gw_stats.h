/*
 * gw_stats.h — the gateway's metrics: per-worker counters that the data
 * plane updates without locks, a registry of stable slots for routes and
 * clusters, process-wide config/reload state, and the Prometheus text
 * exposition (format 0.0.4) that sums it all.
 *
 * Layer:     gateway. Knows nothing of sockets, libuv, HTTP or config
 *            files; route and cluster names come in as plain strings.
 * Owns:      the counter layout, the slot registry, status-class and
 *            latency-bucket mapping, metric names/HELP/TYPE, label
 *            escaping, and the process metrics read from /proc/self/statm
 *            and getrusage.
 * Not here:  serving /metrics over HTTP (gw_admin.c + gw_server.c), deciding
 *            when a request/response/failure happened (gw_proxy.c and
 *            friends call the helpers below), storing slots in the config
 *            (gw_server.c fills gw_route_conf.stat_slot / gw_cluster_conf
 *            .stat_slot from gw_stats_route_slot / gw_stats_cluster_slot).
 *
 * Concurrency model:
 *   - Every gw_worker_stats block is written by exactly one thread (its
 *     worker). Updates are a relaxed load + relaxed store (GW_STAT_ADD):
 *     no lock, no atomic read-modify-write; on x86-64 it is a plain add.
 *     Gauges (active connections) are incremented and decremented by the
 *     same worker, so each worker's value is never negative.
 *   - Any thread may render: it reads each counter with a relaxed load and
 *     sums over workers. A scrape may be slightly stale or see one counter
 *     of a request updated and another not yet; every counter is monotonic
 *     on its own. Histogram _count is rendered as the +Inf bucket so the
 *     two can never disagree within one scrape.
 *   - The slot registry is written by one thread at a time (the main
 *     thread, at start-up and on reload). Names are published with release
 *     stores, so rendering from another thread is safe. Slots are never
 *     reused or removed: a name keeps its slot across reloads, and a route
 *     that disappears keeps its (frozen) series.
 *   - Process-wide values are atomics written by the main thread; the last
 *     reload error message is guarded by a mutex.
 */
#ifndef GW_STATS_H
#define GW_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ut_buf.h"

#define GW_STATS_MAX_ROUTES   512u
#define GW_STATS_MAX_CLUSTERS 256u

/* Reserved route slots. "_none": requests that matched no route.
 * "_other": every route name registered after the table is full. */
#define GW_STATS_ROUTE_NONE    0u
#define GW_STATS_ROUTE_OTHER   (GW_STATS_MAX_ROUTES - 1u)
/* Reserved cluster slot: "_other", for names registered after it is full. */
#define GW_STATS_CLUSTER_OTHER (GW_STATS_MAX_CLUSTERS - 1u)

/* Response counters are indexed by the status's first digit: [1] = 1xx
 * ... [5] = 5xx, so `responses[status / 100]` works for 100..599.
 * gw_stats_status_class maps anything else to 5; a count that lands in
 * [0] anyway is rendered as 5xx. */
#define GW_STATS_CLASSES 6u

/* Latency histogram buckets (upper bounds, inclusive, in µs); the last
 * bucket is +Inf. Prometheus: 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05
 * 0.1 0.25 0.5 1 2.5 5 10 +Inf seconds. */
#define GW_STATS_BUCKETS 15u

/* counter += n, for a counter only the calling thread writes. */
#define GW_STAT_ADD(field, n)                                                                      \
    atomic_store_explicit(&(field),                                                                \
                          atomic_load_explicit(&(field), memory_order_relaxed) + (uint64_t)(n),    \
                          memory_order_relaxed)
/* gauge -= n, likewise (the same thread added it before). GW_STAT_ADD(g, -1)
 * does the same: the arithmetic wraps modulo 2^64. */
#define GW_STAT_SUB(field, n)                                                                      \
    atomic_store_explicit(&(field),                                                                \
                          atomic_load_explicit(&(field), memory_order_relaxed) - (uint64_t)(n),    \
                          memory_order_relaxed)
/* A relaxed read, for any thread. */
#define GW_STAT_GET(field) atomic_load_explicit(&(field), memory_order_relaxed)

typedef struct gw_route_stats {
    _Atomic uint64_t responses[GW_STATS_CLASSES]; /* by status / 100, see above */
    _Atomic uint64_t latency_bucket[GW_STATS_BUCKETS]; /* per bucket, NOT cumulative */
    _Atomic uint64_t latency_sum_us;
    /* the count of observations is the sum of latency_bucket */
} gw_route_stats;

typedef struct gw_cluster_stats {
    _Atomic uint64_t requests;                    /* requests sent upstream (incl. retries) */
    _Atomic uint64_t responses[GW_STATS_CLASSES]; /* upstream response heads, by status / 100 */
    _Atomic uint64_t connect_failures;
    _Atomic uint64_t timeouts;    /* connect or response timeouts */
    _Atomic uint64_t retries;
    _Atomic uint64_t ejections;   /* passive outlier ejections of an endpoint */
    _Atomic uint64_t active_connections; /* gauge: +1 on connect, -1 on close */
} gw_cluster_stats;

/* One worker's counters. Cache-line aligned so two workers never share a
 * line; allocate only through gw_stats_new. */
typedef struct gw_worker_stats {
    _Alignas(64) _Atomic uint64_t downstream_active; /* gauge */
    _Atomic uint64_t downstream_total; /* accepted connections */
    _Atomic uint64_t requests;     /* request heads parsed successfully */
    _Atomic uint64_t bad_requests; /* parser errors */
    _Atomic uint64_t bytes_in;     /* downstream bytes read */
    _Atomic uint64_t bytes_out;    /* downstream bytes written */
    gw_route_stats routes[GW_STATS_MAX_ROUTES];
    gw_cluster_stats clusters[GW_STATS_MAX_CLUSTERS];
} gw_worker_stats;

typedef struct gw_stats gw_stats;

/* A copy of the process-wide values (gw_stats_process_get). */
typedef struct gw_stats_process {
    uint64_t config_generation;
    uint64_t reloads_ok;
    uint64_t reload_errors;
    bool last_reload_success;      /* true until a reload fails */
    uint64_t last_reload_unix_ms;  /* last attempt, success or failure; 0 = none */
    uint64_t start_unix_ms;
    bool draining;
    char last_reload_error[256];   /* "" when none */
} gw_stats_process;

/* ---- lifetime (main thread) ---- */

/* n_workers blocks of zeroed counters, the registry with "_none" in route
 * slot 0, and start time = now. NULL on OOM or n_workers outside 1..65536. */
gw_stats *gw_stats_new(unsigned n_workers);
void gw_stats_free(gw_stats *s);
unsigned gw_stats_n_workers(const gw_stats *s);
/* Worker i's block (i < n_workers), else NULL. Stable for s's lifetime. */
gw_worker_stats *gw_stats_worker(gw_stats *s, unsigned i);

/* ---- slot registry (one thread at a time, normally main) ---- */

/* The slot for a name, registering it on first use. Always returns a valid
 * slot: when the table is full (or out of memory) the "_other" slot.
 * "_none" is route slot 0 and "_other" the last slot of each table. */
uint32_t gw_stats_route_slot(gw_stats *s, const char *name);
uint32_t gw_stats_cluster_slot(gw_stats *s, const char *name);
/* The name registered at a slot, or NULL. Safe from any thread. */
const char *gw_stats_route_name(const gw_stats *s, uint32_t slot);
const char *gw_stats_cluster_name(const gw_stats *s, uint32_t slot);

/* ---- process-wide state (main thread) ---- */

/* A generation was applied (the initial load: is_reload = false). */
void gw_stats_config_applied(gw_stats *s, uint64_t generation, bool is_reload);
/* A reload failed; msg is copied (truncated to 255 bytes). */
void gw_stats_config_failed(gw_stats *s, const char *msg);
void gw_stats_set_draining(gw_stats *s, bool draining);
/* Any thread. */
void gw_stats_process_get(gw_stats *s, gw_stats_process *out);

/* ---- exposition (any thread) ---- */

/* Appends every metric in Prometheus text format 0.0.4 to out (check
 * out->oom afterwards). Content-Type: text/plain; version=0.0.4. Only
 * registered slots are emitted. Callers may append more families after. */
void gw_stats_render_prometheus(gw_stats *s, ut_buf *out);

/* Appends v as a Prometheus label value body (no quotes): \ " and newline
 * escaped; invalid UTF-8 bytes become U+FFFD. */
void gw_stats_escape_label(ut_buf *out, const char *v);

/* ---- helpers for workers (the owning worker only) ---- */

/* 1..5 for 1xx..5xx; statuses outside 100..599 count as server errors. */
static inline unsigned gw_stats_status_class(int status)
{
    if (status >= 100 && status < 600)
        return (unsigned)(status / 100);
    return 5;
}

static inline unsigned gw_stats_latency_bucket(uint64_t us)
{
    static const uint64_t bounds[GW_STATS_BUCKETS - 1] = {
        500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
        1000000, 2500000, 5000000, 10000000,
    };
    unsigned i = 0;
    while (i < GW_STATS_BUCKETS - 1 && us > bounds[i])
        i++;
    return i;
}

/* A response was sent downstream for a request routed to route_slot
 * (GW_STATS_ROUTE_NONE when nothing matched); latency from the first byte
 * of the request to the last byte of the response. An out-of-range slot
 * counts as "_other". */
static inline void gw_stats_observe_response(gw_worker_stats *w, uint32_t route_slot, int status,
                                             uint64_t latency_us)
{
    if (route_slot >= GW_STATS_MAX_ROUTES)
        route_slot = GW_STATS_ROUTE_OTHER;
    gw_route_stats *r = &w->routes[route_slot];
    GW_STAT_ADD(r->responses[gw_stats_status_class(status)], 1);
    GW_STAT_ADD(r->latency_bucket[gw_stats_latency_bucket(latency_us)], 1);
    GW_STAT_ADD(r->latency_sum_us, latency_us);
}

static inline gw_cluster_stats *gw_stats_cluster(gw_worker_stats *w, uint32_t slot)
{
    return &w->clusters[slot < GW_STATS_MAX_CLUSTERS ? slot : GW_STATS_CLUSTER_OTHER];
}

static inline void gw_stats_cluster_request(gw_worker_stats *w, uint32_t slot)
{
    GW_STAT_ADD(gw_stats_cluster(w, slot)->requests, 1);
}
static inline void gw_stats_cluster_response(gw_worker_stats *w, uint32_t slot, int status)
{
    GW_STAT_ADD(gw_stats_cluster(w, slot)->responses[gw_stats_status_class(status)], 1);
}
static inline void gw_stats_cluster_connect_failure(gw_worker_stats *w, uint32_t slot)
{
    GW_STAT_ADD(gw_stats_cluster(w, slot)->connect_failures, 1);
}
static inline void gw_stats_cluster_timeout(gw_worker_stats *w, uint32_t slot)
{
    GW_STAT_ADD(gw_stats_cluster(w, slot)->timeouts, 1);
}
static inline void gw_stats_cluster_retry(gw_worker_stats *w, uint32_t slot)
{
    GW_STAT_ADD(gw_stats_cluster(w, slot)->retries, 1);
}
static inline void gw_stats_cluster_ejection(gw_worker_stats *w, uint32_t slot)
{
    GW_STAT_ADD(gw_stats_cluster(w, slot)->ejections, 1);
}
static inline void gw_stats_cluster_conn_open(gw_worker_stats *w, uint32_t slot)
{
    GW_STAT_ADD(gw_stats_cluster(w, slot)->active_connections, 1);
}
static inline void gw_stats_cluster_conn_close(gw_worker_stats *w, uint32_t slot)
{
    GW_STAT_SUB(gw_stats_cluster(w, slot)->active_connections, 1);
}

static inline void gw_stats_downstream_open(gw_worker_stats *w)
{
    GW_STAT_ADD(w->downstream_total, 1);
    GW_STAT_ADD(w->downstream_active, 1);
}
static inline void gw_stats_downstream_close(gw_worker_stats *w)
{
    GW_STAT_SUB(w->downstream_active, 1);
}
static inline void gw_stats_request(gw_worker_stats *w)
{
    GW_STAT_ADD(w->requests, 1);
}
static inline void gw_stats_bad_request(gw_worker_stats *w)
{
    GW_STAT_ADD(w->bad_requests, 1);
}
static inline void gw_stats_bytes(gw_worker_stats *w, uint64_t in, uint64_t out)
{
    if (in)
        GW_STAT_ADD(w->bytes_in, in);
    if (out)
        GW_STAT_ADD(w->bytes_out, out);
}

#endif
