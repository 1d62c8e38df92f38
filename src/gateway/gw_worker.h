/*
 * gw_worker.h — a data-plane worker: one thread, one libuv loop, its own
 * SO_REUSEPORT listeners, connections, upstream pools and counters.
 * Nothing on the request path is shared with other threads.
 *
 * Layer:     gateway.
 * Owns:      gw_gen (a config generation plus what the server derived from
 *            it: TLS contexts), the worker thread and loop, listeners,
 *            accepting, applying a new generation, draining, the access
 *            log buffer and the request-id source.
 * Not here:  HTTP exchange on a connection (gw_conn.c), proxying
 *            (gw_proxy.c), upstream pools (gw_upstream.c), the main thread
 *            (gw_server.c).
 *
 * Threading: a worker touches only its own fields, except `pending_gen`,
 * `drain_requested` and `stop_requested`, which the main thread sets before
 * waking the loop with uv_async_send.
 */
#ifndef GW_WORKER_H
#define GW_WORKER_H

#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "gw_config.h"
#include "gw_plugin.h"
#include "gw_stats.h"
#include "gw_tls.h"
#include "ut_buf.h"

struct gw_server;
struct gw_conn;
struct gw_cluster_state;
struct gw_health;

/* A config generation as the data plane uses it. Shared read-only by all
 * workers; reference counted across threads. */
typedef struct gw_gen {
    atomic_uint refs;
    gw_config *cfg;
    gw_tls_ctx **tls; /* per listener, NULL for plain HTTP */
    struct wagi_handler **wagi; /* per route, NULL unless a WAGI route */
    struct gw_wagi_table **wagi_tables; /* per route, NULL unless `wagi: {modules}` */
    gw_gen_plugins plugins;     /* compiled proxy-wasm plugins */
} gw_gen;

gw_gen *gw_gen_ref(gw_gen *g);
void gw_gen_unref(gw_gen *g);

/* Intrusive doubly linked list (uv's QUEUE is private in 1.44). */
typedef struct gw_link {
    struct gw_link *prev, *next;
} gw_link;

static inline void gw_link_init(gw_link *h) { h->prev = h->next = h; }
static inline bool gw_link_empty(const gw_link *h) { return h->next == h; }
static inline void gw_link_insert(gw_link *h, gw_link *n)
{
    n->next = h->next;
    n->prev = h;
    h->next->prev = n;
    h->next = n;
}
static inline void gw_link_remove(gw_link *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}
#define GW_CONTAINER(ptr, type, field) ((type *)((char *)(ptr) - offsetof(type, field)))

typedef struct gw_listener {
    uv_tcp_t tcp;
    struct gw_worker *w;
    char *address;     /* key for reconciling on reload */
    char *tls_cert;
    char *tls_key;
    size_t index;      /* in the generation that opened it */
    bool is_tls;
    bool closing;
    struct gw_listener *next;
} gw_listener;

typedef struct gw_worker {
    unsigned id;
    struct gw_server *server;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wake;
    uv_prepare_t flush; /* flushes the access log once per loop turn */
    uv_timer_t sweep;   /* expires connection deadlines (gw_conn_sweep) */

    gw_gen *gen;                  /* the current generation */
    _Atomic(gw_gen *) pending_gen; /* set by the main thread */
    atomic_bool drain_requested;
    atomic_bool stop_requested;
    atomic_bool exited;
    bool draining;

    gw_listener *listeners;
    gw_link conns;   /* every downstream gw_conn */
    unsigned n_conns;

    struct gw_cluster_state *clusters; /* linked by ->next, keyed by name */
    struct gw_cluster_state **by_index; /* for `gen`: cluster i -> state */
    struct gw_health *health;           /* shared, owned by the server */
    struct gw_worker_plugins *plugins;  /* VM slots for `gen` (gw_plugin.c) */

    gw_worker_stats *stats;
    ut_buf log;        /* access log lines, flushed each loop turn */
    uint64_t next_request_id;
    char request_id_prefix[17];
    uint64_t rng;      /* xorshift state for random LB */

    /* Freed read buffers, reused (each GW_BUF_SIZE bytes). */
    char *free_bufs[64];
    unsigned n_free_bufs;
    /* Finished streams kept for reuse with their header arrays. */
    struct gw_stream *free_streams[32];
    unsigned n_free_streams;

    /* Cached "Date: ..." header value for direct responses. */
    char date[40];
    char iso[64];
    uint64_t date_sec;
} gw_worker;

#define GW_BUF_SIZE (16 * 1024)

/* Creates a worker for `gen` on the calling thread: its loop and
 * listeners are set up here, so bind errors reach the caller. Returns 0 or
 * -1 with err set. */
int gw_worker_init(gw_worker *w, unsigned id, struct gw_server *s, gw_gen *gen,
                   gw_worker_stats *stats, struct gw_health *health, char *err, size_t err_len);
int gw_worker_start(gw_worker *w);            /* starts the thread */
void gw_worker_post_gen(gw_worker *w, gw_gen *gen); /* takes a reference */
void gw_worker_request_drain(gw_worker *w);
void gw_worker_request_stop(gw_worker *w);
void gw_worker_join(gw_worker *w);            /* joins and frees everything */
void gw_worker_discard(gw_worker *w);         /* frees a worker never started */

/* Read buffers (GW_BUF_SIZE) from the worker's free list. */
char *gw_worker_buf_get(gw_worker *w);
void gw_worker_buf_put(gw_worker *w, char *buf);

uint64_t gw_worker_rand(gw_worker *w);
const char *gw_worker_date(gw_worker *w);     /* IMF-fixdate for now (Date header) */
const char *gw_worker_iso_time(gw_worker *w); /* "2026-11-22T06:53:56Z" (access log) */
void gw_worker_conn_closed(gw_worker *w); /* a downstream conn went away */

/* Logging to stderr, one line, with the worker id. */
void gw_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
