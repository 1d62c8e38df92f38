/*
 * gw_worker.c — the worker thread: its loop, SO_REUSEPORT listeners,
 * accepting, switching to a new generation, draining and stopping, and
 * small per-worker services (buffers, access log, request ids, Date).
 *
 * Owns:      what gw_worker.h declares, plus gw_gen's lifetime.
 * Not here:  the HTTP exchange (gw_conn.c, gw_proxy.c), the main thread
 *            (gw_server.c).
 */
#include "gw_worker.h"
#include "gw_wagi_toml.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gw_conn.h"
#include "gw_server.h"
#include "gw_upstream.h"
#include "wagi.h"

/* ---- generations -------------------------------------------------------- */

gw_gen *gw_gen_ref(gw_gen *g)
{
    atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
    return g;
}

void gw_gen_unref(gw_gen *g)
{
    if (!g || atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (g->tls) {
        for (size_t i = 0; i < g->cfg->n_listeners; i++)
            if (g->tls[i])
                gw_tls_ctx_free(g->tls[i]);
        free(g->tls);
    }
    gw_plugins_free(&g->plugins);
    if (g->wagi) {
        for (size_t i = 0; i < g->cfg->n_routes; i++)
            if (g->wagi[i])
                wagi_handler_free(g->wagi[i]);
        free(g->wagi);
    }
    if (g->wagi_tables) {
        for (size_t i = 0; i < g->cfg->n_routes; i++)
            gw_wagi_table_free(g->wagi_tables[i]);
        free(g->wagi_tables);
    }
    gw_config_unref(g->cfg);
    free(g);
}

/* ---- logging ------------------------------------------------------------ */

void gw_log(const char *level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s sluice: %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level,
            msg);
}

/* "ip:port" for a socket address (listener keys and logs). */
static void addr_text(const gw_sockaddr *a, char *out, size_t len)
{
    char ip[64] = "?";
    int port = 0;
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;
        uv_ip6_name(s6, ip, sizeof ip);
        port = ntohs(s6->sin6_port);
        snprintf(out, len, "[%s]:%d", ip, port);
        return;
    }
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;
    uv_ip4_name(s4, ip, sizeof ip);
    port = ntohs(s4->sin_port);
    snprintf(out, len, "%s:%d", ip, port);
}

/* ---- small services ----------------------------------------------------- */

char *gw_worker_buf_get(gw_worker *w)
{
    if (w->n_free_bufs)
        return w->free_bufs[--w->n_free_bufs];
    return malloc(GW_BUF_SIZE);
}

void gw_worker_buf_put(gw_worker *w, char *buf)
{
    if (w->n_free_bufs < sizeof w->free_bufs / sizeof w->free_bufs[0])
        w->free_bufs[w->n_free_bufs++] = buf;
    else
        free(buf);
}

uint64_t gw_worker_rand(gw_worker *w)
{
    uint64_t x = w->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    w->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

const char *gw_worker_date(gw_worker *w)
{
    uint64_t sec = uv_now(&w->loop) / 1000;
    if (sec != w->date_sec || !w->date[0]) {
        static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char *mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(w->date, sizeof w->date, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                 tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        snprintf(w->iso, sizeof w->iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        w->date_sec = sec;
    }
    return w->date;
}

const char *gw_worker_iso_time(gw_worker *w)
{
    gw_worker_date(w);
    return w->iso;
}

static void flush_log(gw_worker *w)
{
    size_t off = 0;
    while (off < w->log.len) {
        ssize_t n = write(STDOUT_FILENO, w->log.data + off, w->log.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    ut_buf_reset(&w->log);
}

static void on_prepare(uv_prepare_t *p)
{
    gw_worker *w = p->data;
    if (w->log.len)
        flush_log(w);
}

static void on_sweep(uv_timer_t *t)
{
    gw_conn_sweep(t->data);
}

/* ---- listeners ---------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
    gw_listener *l = server->data;
    if (status < 0 || l->closing)
        return;
    gw_conn_accept(l->w, server, l->index, l->is_tls);
}

static void on_listener_closed(uv_handle_t *h)
{
    gw_listener *l = h->data;
    free(l->address);
    free(l);
}

static void close_listener(gw_listener *l)
{
    l->closing = true;
    uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
}

static gw_listener *open_listener(gw_worker *w, const gw_listener_conf *lc, size_t index,
                                  char *err, size_t err_len)
{
    char key[96];
    addr_text(&lc->addr, key, sizeof key);
    int fd = socket(lc->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_len, "listener %s: socket: %s", key, strerror(errno));
        return NULL;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
        snprintf(err, err_len, "listener %s: SO_REUSEPORT: %s", key, strerror(errno));
        close(fd);
        return NULL;
    }
    if (lc->addr.ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&lc->addr.ss, lc->addr.len) < 0) {
        snprintf(err, err_len, "listener %s: bind: %s", key, strerror(errno));
        close(fd);
        return NULL;
    }
    gw_listener *l = calloc(1, sizeof *l);
    if (!l || !(l->address = strdup(key))) {
        free(l);
        close(fd);
        snprintf(err, err_len, "listener %s: out of memory", key);
        return NULL;
    }
    l->w = w;
    l->index = index;
    l->is_tls = lc->tls_cert != NULL;
    uv_tcp_init(&w->loop, &l->tcp);
    l->tcp.data = l;
    int r = uv_tcp_open(&l->tcp, fd);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&l->tcp, 4096, on_connection);
    if (r < 0) {
        snprintf(err, err_len, "listener %s: listen: %s", key, uv_strerror(r));
        close_listener(l);
        return NULL;
    }
    return l;
}

/* Opens, keeps or closes listeners to match gen. Returns 0, or -1 when a
 * new listener could not be opened (the others still apply). */
static int apply_listeners(gw_worker *w, const gw_gen *gen, char *err, size_t err_len)
{
    const gw_config *cfg = gen->cfg;
    gw_listener *keep = NULL, **tail = &keep;
    int rc = 0;
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        const gw_listener_conf *lc = &cfg->listeners[i];
        char key[96];
        addr_text(&lc->addr, key, sizeof key);
        bool is_tls = lc->tls_cert != NULL;
        gw_listener **pp = &w->listeners, *found = NULL;
        for (; *pp; pp = &(*pp)->next) {
            if (!strcmp((*pp)->address, key) && (*pp)->is_tls == is_tls) {
                found = *pp;
                *pp = found->next;
                break;
            }
        }
        if (!found) {
            found = open_listener(w, lc, i, err, err_len);
            if (!found) {
                rc = -1;
                continue;
            }
        }
        found->index = i;
        found->next = NULL;
        *tail = found;
        tail = &found->next;
    }
    for (gw_listener *l = w->listeners, *next; l; l = next) {
        next = l->next;
        close_listener(l);
    }
    w->listeners = keep;
    return rc;
}

/* ---- generations, drain, stop ------------------------------------------ */

static void close_all_handles(gw_worker *w)
{
    for (gw_listener *l = w->listeners, *next; l; l = next) {
        next = l->next;
        close_listener(l);
    }
    w->listeners = NULL;
    gw_upstream_close_idle(w);
    gw_worker_plugins_close(w);
    if (!uv_is_closing((uv_handle_t *)&w->wake)) {
        uv_close((uv_handle_t *)&w->wake, NULL);
        uv_close((uv_handle_t *)&w->flush, NULL);
        uv_close((uv_handle_t *)&w->sweep, NULL);
    }
}

static void maybe_finished(gw_worker *w)
{
    if (w->draining && w->n_conns == 0)
        close_all_handles(w);
}

void gw_worker_conn_closed(gw_worker *w)
{
    maybe_finished(w);
}

static void apply_gen(gw_worker *w, gw_gen *g)
{
    char err[256];
    if (!w->draining && apply_listeners(w, g, err, sizeof err) < 0)
        gw_log("error", "worker %u: %s", w->id, err);
    if (gw_upstream_apply(w, g->cfg) < 0 || gw_worker_plugins_apply(w, g) < 0) {
        gw_log("error", "worker %u: out of memory applying generation %llu", w->id,
               (unsigned long long)g->cfg->generation);
        gw_gen_unref(g);
        return;
    }
    gw_gen *old = w->gen;
    w->gen = g;
    gw_gen_unref(old);
}

static void on_wake(uv_async_t *a)
{
    gw_worker *w = a->data;
    gw_gen *g = atomic_exchange(&w->pending_gen, NULL);
    if (g)
        apply_gen(w, g);
    if (atomic_load(&w->stop_requested)) {
        w->draining = true;
        gw_link *l = w->conns.next;
        while (l != &w->conns) {
            gw_conn *c = GW_CONTAINER(l, gw_conn, link);
            l = l->next;
            gw_conn_close(c);
        }
        close_all_handles(w);
        return;
    }
    if (atomic_load(&w->drain_requested) && !w->draining) {
        w->draining = true;
        for (gw_listener *l = w->listeners, *next; l; l = next) {
            next = l->next;
            close_listener(l);
        }
        w->listeners = NULL;
        gw_upstream_close_idle(w);
        gw_conn_drain_all(w);
        maybe_finished(w);
    }
}

/* ---- lifetime ------------------------------------------------------------ */

int gw_worker_init(gw_worker *w, unsigned id, struct gw_server *s, gw_gen *gen,
                   gw_worker_stats *stats, struct gw_health *health, char *err, size_t err_len)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    w->server = s;
    w->stats = stats;
    w->health = health;
    gw_link_init(&w->conns);
    atomic_init(&w->pending_gen, NULL);
    if (uv_loop_init(&w->loop) < 0) {
        snprintf(err, err_len, "worker %u: cannot create its event loop", id);
        return -1;
    }
    uv_async_init(&w->loop, &w->wake, on_wake);
    w->wake.data = w;
    uv_prepare_init(&w->loop, &w->flush);
    w->flush.data = w;
    uv_prepare_start(&w->flush, on_prepare);
    uv_timer_init(&w->loop, &w->sweep);
    w->sweep.data = w;
    uv_timer_start(&w->sweep, on_sweep, GW_CONN_SWEEP_MS, GW_CONN_SWEEP_MS);

    unsigned char rnd[16] = {0};
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memcpy(rnd, &w, sizeof w);
    snprintf(w->request_id_prefix, sizeof w->request_id_prefix, "%02x%02x%02x%02x%02x%02x%02x%02x",
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], (unsigned char)(id & 0xff));
    memcpy(&w->rng, rnd + 8, 8);
    w->rng |= 1;

    w->gen = gw_gen_ref(gen);
    if (apply_listeners(w, gen, err, err_len) < 0 || gw_upstream_apply(w, gen->cfg) < 0 ||
        gw_worker_plugins_apply(w, gen) < 0) {
        if (!err[0])
            snprintf(err, err_len, "worker %u: out of memory", id);
        return -1;
    }
    return 0;
}

static void worker_main(void *arg)
{
    gw_worker *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    flush_log(w);
    atomic_store(&w->exited, true);
    gw_server_worker_exited(w->server);
}

int gw_worker_start(gw_worker *w)
{
    return uv_thread_create(&w->thread, worker_main, w);
}

void gw_worker_post_gen(gw_worker *w, gw_gen *gen)
{
    gw_gen *old = atomic_exchange(&w->pending_gen, gw_gen_ref(gen));
    if (old)
        gw_gen_unref(old);
    uv_async_send(&w->wake);
}

void gw_worker_request_drain(gw_worker *w)
{
    atomic_store(&w->drain_requested, true);
    uv_async_send(&w->wake);
}

void gw_worker_request_stop(gw_worker *w)
{
    atomic_store(&w->stop_requested, true);
    uv_async_send(&w->wake);
}

/* Closes what a never-started (or finished) loop still holds. */
static void walk_close(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void gw_worker_join(gw_worker *w)
{
    uv_thread_join(&w->thread);
    gw_worker_plugins_close(w);
    uv_walk(&w->loop, walk_close, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    gw_upstream_free_all(w);
    gw_worker_plugins_free(w);
    gw_gen *g = atomic_exchange(&w->pending_gen, NULL);
    if (g)
        gw_gen_unref(g);
    gw_gen_unref(w->gen);
    w->gen = NULL;
    while (w->n_free_bufs)
        free(w->free_bufs[--w->n_free_bufs]);
    gw_worker_free_streams(w);
    ut_buf_free(&w->log);
}

/* Frees a worker whose thread never started (startup failed). */
void gw_worker_discard(gw_worker *w)
{
    for (gw_listener *l = w->listeners, *next; l; l = next) {
        next = l->next;
        close_listener(l);
    }
    w->listeners = NULL;
    gw_worker_plugins_close(w);
    uv_walk(&w->loop, walk_close, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    gw_upstream_free_all(w);
    gw_worker_plugins_free(w);
    gw_gen_unref(w->gen);
    w->gen = NULL;
    while (w->n_free_bufs)
        free(w->free_bufs[--w->n_free_bufs]);
}
