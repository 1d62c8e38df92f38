/*
 * gw_upstream.c — per-worker upstream state: clusters and endpoints that
 * survive reloads, load balancing, keep-alive pools, connecting with a
 * timeout, and passive ejection.
 *
 * Owns:      everything declared in gw_upstream.h.
 * Not here:  the bytes exchanged on a connection (gw_proxy.c), active
 *            health checks (gw_health.c).
 */
#include "gw_upstream.h"

#include <stdlib.h>
#include <string.h>

#include "gw_health.h"

static _Thread_local char idle_scratch[256];

/* ---- cluster and endpoint states --------------------------------------- */

static void close_idle(gw_endpoint_state *ep)
{
    while (!gw_link_empty(&ep->idle)) {
        gw_upconn *u = GW_CONTAINER(ep->idle.next, gw_upconn, link);
        gw_upstream_close(u);
    }
}

static void free_endpoint(gw_endpoint_state *ep)
{
    free(ep->address);
    free(ep);
}

/* Drops an endpoint from its cluster; freed now or by its last conn. */
static void retire_endpoint(gw_endpoint_state *ep)
{
    ep->removed = true;
    close_idle(ep);
    if (ep->n_conns == 0)
        free_endpoint(ep);
}

static gw_endpoint_state *new_endpoint(gw_cluster_state *cs, const gw_endpoint_conf *ec)
{
    gw_endpoint_state *ep = calloc(1, sizeof *ep);
    if (!ep)
        return NULL;
    ep->address = strdup(ec->address);
    if (!ep->address) {
        free(ep);
        return NULL;
    }
    ep->addr = ec->addr;
    ep->cluster = cs;
    gw_link_init(&ep->idle);
    return ep;
}

static gw_cluster_state *find_cluster(gw_worker *w, const char *name)
{
    for (gw_cluster_state *cs = w->clusters; cs; cs = cs->next)
        if (!strcmp(cs->name, name))
            return cs;
    return NULL;
}

static int apply_cluster(gw_worker *w, gw_cluster_state *cs, const gw_cluster_conf *cc)
{
    size_t n = cc->n_endpoints;
    gw_endpoint_state **eps = calloc(n ? n : 1, sizeof *eps);
    size_t *from = calloc(n ? n : 1, sizeof *from); /* old index + 1, 0 = new */
    if (!eps || !from)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const gw_endpoint_conf *ec = &cc->endpoints[i];
        for (size_t j = 0; j < cs->n_endpoints; j++) {
            gw_endpoint_state *old = cs->endpoints[j];
            if (old && !strcmp(old->address, ec->address)) {
                eps[i] = old;
                from[i] = j + 1;
                cs->endpoints[j] = NULL;
                break;
            }
        }
        if (!eps[i] && !(eps[i] = new_endpoint(cs, ec)))
            goto fail;
        eps[i]->addr = ec->addr;
        eps[i]->health = gw_health_flag_for(w->health, cc->name, ec->address);
    }
    for (size_t j = 0; j < cs->n_endpoints; j++)
        if (cs->endpoints[j])
            retire_endpoint(cs->endpoints[j]);
    free(cs->endpoints);
    free(from);
    cs->endpoints = eps;
    cs->n_endpoints = n;
    cs->conf = cc;
    cs->removed = false;
    return 0;
fail:
    for (size_t i = 0; eps && from && i < n; i++) {
        if (!eps[i])
            continue;
        if (from[i])
            cs->endpoints[from[i] - 1] = eps[i];
        else
            free_endpoint(eps[i]);
    }
    free(eps);
    free(from);
    return -1;
}

int gw_upstream_apply(gw_worker *w, const gw_config *cfg)
{
    gw_cluster_state **idx = calloc(cfg->n_clusters ? cfg->n_clusters : 1, sizeof *idx);
    if (!idx)
        return -1;
    for (gw_cluster_state *cs = w->clusters; cs; cs = cs->next)
        cs->removed = true;
    for (size_t i = 0; i < cfg->n_clusters; i++) {
        const gw_cluster_conf *cc = &cfg->clusters[i];
        gw_cluster_state *cs = find_cluster(w, cc->name);
        if (!cs) {
            cs = calloc(1, sizeof *cs);
            if (!cs || !(cs->name = strdup(cc->name))) {
                free(cs);
                free(idx);
                return -1;
            }
            cs->w = w;
            cs->next = w->clusters;
            w->clusters = cs;
        }
        if (apply_cluster(w, cs, cc) < 0) {
            free(idx);
            return -1;
        }
        idx[i] = cs;
    }
    /* Clusters gone from the config: drop their endpoints now. Streams
     * still using them keep the state (and its endpoint array) alive. */
    for (gw_cluster_state *cs = w->clusters; cs; cs = cs->next) {
        if (!cs->removed || !cs->n_endpoints)
            continue;
        for (size_t j = 0; j < cs->n_endpoints; j++)
            if (cs->endpoints[j])
                retire_endpoint(cs->endpoints[j]);
        free(cs->endpoints);
        cs->endpoints = NULL;
        cs->n_endpoints = 0;
        cs->conf = NULL;
    }
    free(w->by_index);
    w->by_index = idx;
    return 0;
}

void gw_upstream_close_idle(gw_worker *w)
{
    for (gw_cluster_state *cs = w->clusters; cs; cs = cs->next)
        for (size_t j = 0; j < cs->n_endpoints; j++)
            close_idle(cs->endpoints[j]);
}

void gw_upstream_free_all(gw_worker *w)
{
    gw_cluster_state *cs = w->clusters;
    while (cs) {
        gw_cluster_state *next = cs->next;
        for (size_t j = 0; j < cs->n_endpoints; j++)
            if (cs->endpoints[j])
                free_endpoint(cs->endpoints[j]);
        free(cs->endpoints);
        free(cs->name);
        free(cs);
        cs = next;
    }
    w->clusters = NULL;
    free(w->by_index);
    w->by_index = NULL;
}

/* ---- picking ------------------------------------------------------------ */

static bool available(gw_endpoint_state *ep, uint64_t now)
{
    if (ep->removed || !gw_health_is_up(ep->health))
        return false;
    if (ep->ejected_until_ms) {
        if (now < ep->ejected_until_ms)
            return false;
        ep->ejected_until_ms = 0;
    }
    uint32_t max = ep->cluster->conf ? ep->cluster->conf->max_connections : 0;
    return !max || ep->n_conns < max || ep->n_idle > 0;
}

gw_endpoint_state *gw_upstream_pick(gw_cluster_state *cs, const gw_endpoint_state *avoid)
{
    size_t n = cs->n_endpoints;
    if (n == 0 || !cs->conf)
        return NULL;
    uint64_t now = uv_now(&cs->w->loop);
    gw_lb_kind lb = cs->conf->lb;
    size_t start = lb == GW_LB_RANDOM ? (size_t)(gw_worker_rand(cs->w) % n) : (size_t)(cs->rr++ % n);
    gw_endpoint_state *best = NULL, *fallback = NULL;
    for (size_t k = 0; k < n; k++) {
        gw_endpoint_state *ep = cs->endpoints[(start + k) % n];
        if (!available(ep, now))
            continue;
        if (ep == avoid) {
            fallback = ep; /* only if nothing else is available */
            continue;
        }
        if (lb != GW_LB_LEAST_REQUEST)
            return ep; /* round_robin and random: first available from start */
        if (!best || ep->n_active < best->n_active)
            best = ep;
    }
    return best ? best : fallback;
}

void gw_upstream_report(gw_endpoint_state *ep, bool ok)
{
    if (ok) {
        ep->consecutive_failures = 0;
        return;
    }
    const gw_cluster_conf *cc = ep->cluster->conf;
    if (!cc || !cc->eject_consecutive_failures)
        return;
    if (++ep->consecutive_failures >= cc->eject_consecutive_failures) {
        ep->consecutive_failures = 0;
        ep->ejected_until_ms = uv_now(&ep->cluster->w->loop) + cc->eject_ms;
        gw_worker *w = ep->cluster->w;
        gw_stats_cluster_ejection(w->stats, cc->stat_slot);
        gw_log("warn", "upstream %s in cluster %s ejected for %u ms after consecutive failures",
               ep->address, cc->name, cc->eject_ms);
    }
}

/* ---- connections -------------------------------------------------------- */

static void on_upconn_closed(uv_handle_t *h)
{
    gw_upconn *u = h->data;
    if (--u->handles_open > 0)
        return;
    gw_endpoint_state *ep = u->ep;
    gw_worker *w = u->w;
    if (u->buf)
        gw_worker_buf_put(w, u->buf);
    free(u);
    ep->n_conns--;
    if (ep->removed && ep->n_conns == 0)
        free_endpoint(ep);
}

void gw_upstream_close(gw_upconn *u)
{
    if (u->closing)
        return;
    u->closing = true;
    u->owner = NULL;
    if (u->link.next != &u->link) {
        gw_link_remove(&u->link);
        u->ep->n_idle--;
    }
    gw_stats_cluster_conn_close(u->w->stats, u->stat_slot);
    uv_close((uv_handle_t *)&u->tcp, on_upconn_closed);
    uv_close((uv_handle_t *)&u->timer, on_upconn_closed);
}

static void connect_timed_out(gw_upconn *u)
{
    if (u->connected || u->closing)
        return;
    gw_upconn_connect_cb cb = u->on_connect;
    u->on_connect = NULL;
    if (cb && u->owner)
        cb(u, u->connect_error ? u->connect_error : UV_ETIMEDOUT);
    else
        gw_upstream_close(u);
}

/* One timer per connection, re-armed lazily: moving a deadline later is a
 * store; the timer re-arms itself for the rest when it fires early. */
static void on_timer(uv_timer_t *t)
{
    gw_upconn *u = t->data;
    if (u->closing || u->timer_purpose == GW_UP_TIMER_NONE)
        return;
    uint64_t now = uv_now(&u->w->loop);
    if (now < u->deadline) {
        uv_timer_start(&u->timer, on_timer, u->deadline - now, 0);
        return;
    }
    uint8_t purpose = u->timer_purpose;
    u->timer_purpose = GW_UP_TIMER_NONE;
    switch (purpose) {
    case GW_UP_TIMER_CONNECT:
        connect_timed_out(u);
        break;
    case GW_UP_TIMER_IDLE:
        gw_upstream_close(u);
        break;
    case GW_UP_TIMER_OWNER:
        if (u->owner && u->on_timeout)
            u->on_timeout(u);
        break;
    }
}

static void arm(gw_upconn *u, uint8_t purpose, uint32_t ms)
{
    u->timer_purpose = purpose;
    u->deadline = uv_now(&u->w->loop) + ms;
    if (!uv_is_active((uv_handle_t *)&u->timer) || uv_timer_get_due_in(&u->timer) > ms)
        uv_timer_start(&u->timer, on_timer, ms, 0);
}

void gw_upstream_set_deadline(gw_upconn *u, uint32_t ms)
{
    arm(u, GW_UP_TIMER_OWNER, ms);
}

void gw_upstream_clear_deadline(gw_upconn *u)
{
    u->timer_purpose = GW_UP_TIMER_NONE;
}

static void on_connect(uv_connect_t *req, int status)
{
    gw_upconn *u = req->data;
    if (u->closing)
        return;
    u->timer_purpose = GW_UP_TIMER_NONE;
    gw_upconn_connect_cb cb = u->on_connect;
    u->on_connect = NULL;
    if (status == 0)
        u->connected = true;
    if (cb && u->owner)
        cb(u, status);
    else
        gw_upstream_close(u);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    gw_upconn *u = h->data;
    if (!u->owner) {
        *out = uv_buf_init(idle_scratch, sizeof idle_scratch);
        return;
    }
    if (!u->buf) {
        u->buf = gw_worker_buf_get(u->w);
        u->pos = u->len = 0;
        if (!u->buf) {
            *out = uv_buf_init(NULL, 0);
            return;
        }
    }
    if (u->len == GW_BUF_SIZE && u->pos > 0) {
        memmove(u->buf, u->buf + u->pos, u->len - u->pos);
        u->len -= u->pos;
        u->pos = 0;
    }
    *out = uv_buf_init(u->buf + u->len, (unsigned)(GW_BUF_SIZE - u->len));
}

gw_upconn *gw_upstream_acquire(gw_endpoint_state *ep, void *owner, gw_upconn_connect_cb cb,
                               gw_upconn_data_cb on_data, int *err)
{
    gw_worker *w = ep->cluster->w;
    if (!gw_link_empty(&ep->idle)) {
        gw_upconn *u = GW_CONTAINER(ep->idle.next, gw_upconn, link);
        gw_link_remove(&u->link);
        ep->n_idle--;
        u->timer_purpose = GW_UP_TIMER_NONE;
        u->owner = owner;
        u->reused = true;
        u->eof = false;
        u->pos = u->len = 0;
        u->on_connect = cb;
        u->on_data = on_data;
        return u; /* still reading: the proxy's read callback stays on */
    }
    const gw_cluster_conf *cc = ep->cluster->conf;
    if (cc->max_connections && ep->n_conns >= cc->max_connections) {
        *err = UV_EBUSY;
        return NULL;
    }
    gw_upconn *u = calloc(1, sizeof *u);
    if (!u) {
        *err = UV_ENOMEM;
        return NULL;
    }
    u->w = w;
    u->ep = ep;
    u->owner = owner;
    u->on_connect = cb;
    u->on_data = on_data;
    gw_link_init(&u->link);
    uv_tcp_init(&w->loop, &u->tcp);
    uv_timer_init(&w->loop, &u->timer);
    u->tcp.data = u->timer.data = u->connect_req.data = u;
    u->handles_open = 2;
    ep->n_conns++;
    u->stat_slot = cc->stat_slot;
    gw_stats_cluster_conn_open(w->stats, cc->stat_slot);
    uv_tcp_nodelay(&u->tcp, 1);
    int r = uv_tcp_connect(&u->connect_req, &u->tcp, (const struct sockaddr *)&ep->addr.ss, on_connect);
    if (r < 0) {
        /* Report asynchronously, like any other connect failure. */
        u->connect_error = r;
        arm(u, GW_UP_TIMER_CONNECT, 0);
        return u;
    }
    arm(u, GW_UP_TIMER_CONNECT, cc->connect_timeout_ms);
    return u;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    gw_upconn *u = st->data;
    if (nread == 0)
        return;
    if (!u->owner) {
        gw_upstream_close(u); /* data or EOF while idle: not reusable */
        return;
    }
    u->on_data(u, nread);
}

void gw_upstream_read_resume(gw_upconn *u)
{
    if (u->reading || u->closing)
        return;
    if (uv_read_start((uv_stream_t *)&u->tcp, on_alloc, on_read) == 0)
        u->reading = true;
}

void gw_upstream_read_pause(gw_upconn *u)
{
    if (!u->reading)
        return;
    uv_read_stop((uv_stream_t *)&u->tcp);
    u->reading = false;
}

void gw_upstream_release(gw_upconn *u)
{
    gw_endpoint_state *ep = u->ep;
    gw_worker *w = u->w;
    if (ep->removed || !ep->cluster->conf || w->draining || u->closing) {
        gw_upstream_close(u);
        return;
    }
    u->owner = NULL;
    u->requests++;
    if (u->buf) {
        gw_worker_buf_put(w, u->buf);
        u->buf = NULL;
    }
    u->pos = u->len = 0;
    gw_link_insert(&ep->idle, &u->link);
    ep->n_idle++;
    arm(u, GW_UP_TIMER_IDLE, ep->cluster->conf->idle_timeout_ms);
    gw_upstream_read_resume(u); /* to notice the upstream closing it */
}
