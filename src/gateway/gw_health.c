/*
 * gw_health.c — active health checks on the main loop (see gw_health.h).
 *
 * Owns:      probes and the shared flags.
 * Not here:  how workers use the flags (gw_upstream.c).
 *
 * A probe exists per (cluster name, endpoint address) ever configured with
 * a health check; it is stopped, never freed, when a reload drops it, so a
 * worker holding its flag never reads freed memory. Flags start healthy.
 */
#include "gw_health.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_worker.h"

typedef struct probe probe;

typedef struct attempt {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_write_t write_req;
    probe *p;
    char buf[512];
    size_t len;
} attempt;

struct probe {
    gw_health *h;
    char *cluster;
    char *address;
    gw_health_flag flag;
    gw_sockaddr addr;
    char request[512];
    size_t request_len;
    uint32_t interval_ms, timeout_ms, healthy_threshold, unhealthy_threshold;
    unsigned passes, fails;
    bool active;
    uv_timer_t interval;
    uv_timer_t timeout;
    attempt *cur;
    probe *next;
};

struct gw_health {
    uv_loop_t *loop;
    pthread_mutex_t lock; /* guards the list shape for gw_health_flag_for */
    probe *probes;
    unsigned open_handles;
    void (*on_closed)(void *);
    void *on_closed_user;
    bool stopping;
};

gw_health *gw_health_new(uv_loop_t *loop)
{
    gw_health *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->loop = loop;
    pthread_mutex_init(&h->lock, NULL);
    return h;
}

static void finish(probe *p, bool ok);

static void on_attempt_closed(uv_handle_t *hd)
{
    attempt *a = hd->data;
    gw_health *h = a->p->h;
    free(a);
    h->open_handles--;
    if (h->stopping && h->open_handles == 0 && h->on_closed)
        h->on_closed(h->on_closed_user);
}

static void end_attempt(probe *p)
{
    attempt *a = p->cur;
    if (!a)
        return;
    p->cur = NULL;
    uv_timer_stop(&p->timeout);
    uv_close((uv_handle_t *)&a->tcp, on_attempt_closed);
}

static void finish(probe *p, bool ok)
{
    end_attempt(p);
    bool was = atomic_load(&p->flag.healthy);
    if (ok) {
        p->fails = 0;
        if (++p->passes >= p->healthy_threshold && !was) {
            atomic_store(&p->flag.healthy, true);
            gw_log("info", "health check: %s in cluster %s is healthy", p->address, p->cluster);
        }
    } else {
        p->passes = 0;
        if (++p->fails >= p->unhealthy_threshold && was) {
            atomic_store(&p->flag.healthy, false);
            gw_log("warn", "health check: %s in cluster %s is unhealthy", p->address, p->cluster);
        }
    }
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *out)
{
    attempt *a = hd->data;
    *out = uv_buf_init(a->buf + a->len, (unsigned)(sizeof a->buf - 1 - a->len));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    attempt *a = st->data;
    probe *p = a->p;
    if (p->cur != a)
        return;
    if (nread < 0) {
        finish(p, false);
        return;
    }
    a->len += (size_t)nread;
    a->buf[a->len] = '\0';
    char *eol = strstr(a->buf, "\r\n");
    if (!eol) {
        if (a->len >= sizeof a->buf - 1)
            finish(p, false);
        return;
    }
    int status = 0;
    bool ok = sscanf(a->buf, "HTTP/1.%*1d %3d", &status) == 1 && status >= 200 && status < 300;
    finish(p, ok);
}

static void on_written(uv_write_t *req, int status)
{
    attempt *a = req->data;
    if (status < 0 && a->p->cur == a)
        finish(a->p, false);
}

static void on_connect(uv_connect_t *req, int status)
{
    attempt *a = req->data;
    probe *p = a->p;
    if (p->cur != a)
        return;
    if (status < 0) {
        finish(p, false);
        return;
    }
    uv_buf_t b = uv_buf_init(p->request, (unsigned)p->request_len);
    a->write_req.data = a;
    if (uv_write(&a->write_req, (uv_stream_t *)&a->tcp, &b, 1, on_written) < 0 ||
        uv_read_start((uv_stream_t *)&a->tcp, on_alloc, on_read) < 0)
        finish(p, false);
}

static void on_timeout(uv_timer_t *t)
{
    probe *p = t->data;
    if (p->cur)
        finish(p, false);
}

static void on_interval(uv_timer_t *t)
{
    probe *p = t->data;
    if (p->cur || !p->active)
        return;
    attempt *a = calloc(1, sizeof *a);
    if (!a)
        return;
    a->p = p;
    uv_tcp_init(p->h->loop, &a->tcp);
    a->tcp.data = a;
    a->connect_req.data = a;
    p->h->open_handles++;
    p->cur = a;
    uv_timer_start(&p->timeout, on_timeout, p->timeout_ms, 0);
    if (uv_tcp_connect(&a->connect_req, &a->tcp, (const struct sockaddr *)&p->addr.ss, on_connect) < 0)
        finish(p, false);
}

static probe *find(gw_health *h, const char *cluster, const char *address)
{
    for (probe *p = h->probes; p; p = p->next)
        if (!strcmp(p->cluster, cluster) && !strcmp(p->address, address))
            return p;
    return NULL;
}

void gw_health_apply(gw_health *h, const gw_config *cfg)
{
    pthread_mutex_lock(&h->lock);
    for (probe *p = h->probes; p; p = p->next)
        p->active = false;
    for (size_t i = 0; i < cfg->n_clusters; i++) {
        const gw_cluster_conf *cc = &cfg->clusters[i];
        if (!cc->health.enabled)
            continue;
        for (size_t j = 0; j < cc->n_endpoints; j++) {
            const gw_endpoint_conf *ec = &cc->endpoints[j];
            probe *p = find(h, cc->name, ec->address);
            if (!p) {
                p = calloc(1, sizeof *p);
                if (!p)
                    continue;
                p->cluster = strdup(cc->name);
                p->address = strdup(ec->address);
                if (!p->cluster || !p->address) {
                    free(p->cluster);
                    free(p->address);
                    free(p);
                    continue;
                }
                p->h = h;
                atomic_init(&p->flag.healthy, true);
                uv_timer_init(h->loop, &p->interval);
                uv_timer_init(h->loop, &p->timeout);
                p->interval.data = p->timeout.data = p;
                h->open_handles += 2;
                p->next = h->probes;
                h->probes = p;
            }
            p->addr = ec->addr;
            const char *host = cc->health.host ? cc->health.host : ec->host;
            int n = snprintf(p->request, sizeof p->request,
                             "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: sluice-health-check\r\n"
                             "Connection: close\r\n\r\n",
                             cc->health.path, host ? host : "localhost");
            p->request_len = n > 0 && (size_t)n < sizeof p->request ? (size_t)n : 0;
            p->interval_ms = cc->health.interval_ms ? cc->health.interval_ms : 5000;
            p->timeout_ms = cc->health.timeout_ms ? cc->health.timeout_ms : 1000;
            p->healthy_threshold = cc->health.healthy_threshold ? cc->health.healthy_threshold : 1;
            p->unhealthy_threshold = cc->health.unhealthy_threshold ? cc->health.unhealthy_threshold : 1;
            p->active = true;
            /* first probe soon, then every interval */
            uv_timer_start(&p->interval, on_interval, 10, p->interval_ms);
        }
    }
    for (probe *p = h->probes; p; p = p->next) {
        if (!p->active) {
            uv_timer_stop(&p->interval);
            end_attempt(p);
            atomic_store(&p->flag.healthy, true);
        }
    }
    pthread_mutex_unlock(&h->lock);
}

const gw_health_flag *gw_health_flag_for(gw_health *h, const char *cluster, const char *address)
{
    if (!h)
        return NULL;
    pthread_mutex_lock(&h->lock);
    probe *p = find(h, cluster, address);
    const gw_health_flag *f = p && p->active ? &p->flag : NULL;
    pthread_mutex_unlock(&h->lock);
    return f;
}

static void on_timer_closed(uv_handle_t *hd)
{
    probe *p = hd->data;
    gw_health *h = p->h;
    h->open_handles--;
    if (h->stopping && h->open_handles == 0 && h->on_closed)
        h->on_closed(h->on_closed_user);
}

void gw_health_stop(gw_health *h, void (*on_closed)(void *), void *user)
{
    if (!h || h->stopping)
        return;
    h->stopping = true;
    h->on_closed = on_closed;
    h->on_closed_user = user;
    for (probe *p = h->probes; p; p = p->next) {
        p->active = false;
        end_attempt(p);
        uv_close((uv_handle_t *)&p->interval, on_timer_closed);
        uv_close((uv_handle_t *)&p->timeout, on_timer_closed);
    }
    if (h->open_handles == 0 && on_closed)
        on_closed(user);
}

void gw_health_free(gw_health *h)
{
    if (!h)
        return;
    probe *p = h->probes;
    while (p) {
        probe *next = p->next;
        free(p->cluster);
        free(p->address);
        free(p);
        p = next;
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}
