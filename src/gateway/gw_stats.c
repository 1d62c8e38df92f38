/*
 * gw_stats.c — the metrics store and its Prometheus rendering (see
 * gw_stats.h for the concurrency model).
 *
 * Owns:      allocation of the per-worker blocks, the route/cluster slot
 *            registries, process-wide config/reload state, Prometheus text
 *            format 0.0.4 (HELP/TYPE lines, label escaping, cumulative
 *            histogram buckets), RSS from /proc/self/statm and CPU time
 *            from getrusage.
 * Not here:  the per-request update helpers (static inline in gw_stats.h),
 *            serving the text over HTTP (gw_admin.c / gw_server.c).
 */
#include "gw_stats.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char NAME_NONE[] = "_none";
static const char NAME_OTHER[] = "_other";

/* A name -> slot table. Slots [first, next) hold strdup'd names; slot 0 of
 * routes holds "_none" and the last slot "_other" (literals, not freed). */
typedef struct registry {
    _Atomic(const char *) *names; /* cap entries; NULL = unregistered */
    uint32_t cap;
    uint32_t first; /* first slot for ordinary names */
    uint32_t next;  /* next free ordinary slot (writer thread only) */
    bool has_none;  /* "_none" is reserved at slot 0 */
} registry;

struct gw_stats {
    unsigned n_workers;
    gw_worker_stats *workers; /* n_workers contiguous, 64-byte aligned blocks */
    registry routes;
    registry clusters;

    _Atomic uint64_t config_generation;
    _Atomic uint64_t reloads_ok;
    _Atomic uint64_t reload_errors;
    _Atomic uint64_t last_reload_success; /* 0/1 */
    _Atomic uint64_t last_reload_unix_ms;
    _Atomic uint64_t start_unix_ms;
    atomic_bool draining;
    pthread_mutex_t err_mu;
    char last_error[256];
};

static uint64_t now_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool registry_init(registry *r, uint32_t cap, bool has_none)
{
    r->names = calloc(cap, sizeof *r->names);
    if (!r->names)
        return false;
    for (uint32_t i = 0; i < cap; i++)
        atomic_init(&r->names[i], NULL);
    r->cap = cap;
    r->has_none = has_none;
    r->first = has_none ? 1 : 0;
    r->next = r->first;
    if (has_none)
        atomic_store_explicit(&r->names[0], NAME_NONE, memory_order_release);
    return true;
}

static void registry_free(registry *r)
{
    if (!r->names)
        return;
    for (uint32_t i = r->first; i < r->next; i++)
        free((void *)atomic_load_explicit(&r->names[i], memory_order_relaxed));
    free(r->names);
    r->names = NULL;
}

static uint32_t registry_other(registry *r)
{
    uint32_t slot = r->cap - 1;
    if (!atomic_load_explicit(&r->names[slot], memory_order_relaxed))
        atomic_store_explicit(&r->names[slot], NAME_OTHER, memory_order_release);
    return slot;
}

static uint32_t registry_slot(registry *r, const char *name)
{
    if (!name)
        name = "";
    if (r->has_none && strcmp(name, NAME_NONE) == 0)
        return 0;
    if (strcmp(name, NAME_OTHER) == 0)
        return registry_other(r);
    for (uint32_t i = r->first; i < r->next; i++) {
        const char *n = atomic_load_explicit(&r->names[i], memory_order_relaxed);
        if (strcmp(n, name) == 0)
            return i;
    }
    if (r->next >= r->cap - 1)
        return registry_other(r);
    char *copy = strdup(name);
    if (!copy)
        return registry_other(r);
    uint32_t slot = r->next++;
    atomic_store_explicit(&r->names[slot], copy, memory_order_release);
    return slot;
}

static const char *registry_name(const registry *r, uint32_t slot)
{
    if (slot >= r->cap)
        return NULL;
    return atomic_load_explicit(&((registry *)r)->names[slot], memory_order_acquire);
}

gw_stats *gw_stats_new(unsigned n_workers)
{
    if (n_workers == 0 || n_workers > 65536)
        return NULL;
    gw_stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    size_t bytes = sizeof(gw_worker_stats) * n_workers; /* sizeof is a multiple of 64 */
    s->workers = aligned_alloc(_Alignof(gw_worker_stats), bytes);
    if (!s->workers || !registry_init(&s->routes, GW_STATS_MAX_ROUTES, true) ||
        !registry_init(&s->clusters, GW_STATS_MAX_CLUSTERS, false)) {
        registry_free(&s->routes);
        free(s->workers);
        free(s);
        return NULL;
    }
    /* All-zero bits are a valid zero for lock-free 64-bit atomics. */
    memset(s->workers, 0, bytes);
    s->n_workers = n_workers;
    atomic_init(&s->config_generation, 0);
    atomic_init(&s->reloads_ok, 0);
    atomic_init(&s->reload_errors, 0);
    atomic_init(&s->last_reload_success, 1);
    atomic_init(&s->last_reload_unix_ms, 0);
    atomic_init(&s->start_unix_ms, now_unix_ms());
    atomic_init(&s->draining, false);
    pthread_mutex_init(&s->err_mu, NULL);
    return s;
}

void gw_stats_free(gw_stats *s)
{
    if (!s)
        return;
    registry_free(&s->routes);
    registry_free(&s->clusters);
    pthread_mutex_destroy(&s->err_mu);
    free(s->workers);
    free(s);
}

unsigned gw_stats_n_workers(const gw_stats *s)
{
    return s ? s->n_workers : 0;
}

gw_worker_stats *gw_stats_worker(gw_stats *s, unsigned i)
{
    if (!s || i >= s->n_workers)
        return NULL;
    return &s->workers[i];
}

uint32_t gw_stats_route_slot(gw_stats *s, const char *name)
{
    return registry_slot(&s->routes, name);
}

uint32_t gw_stats_cluster_slot(gw_stats *s, const char *name)
{
    return registry_slot(&s->clusters, name);
}

const char *gw_stats_route_name(const gw_stats *s, uint32_t slot)
{
    return registry_name(&s->routes, slot);
}

const char *gw_stats_cluster_name(const gw_stats *s, uint32_t slot)
{
    return registry_name(&s->clusters, slot);
}

/* ---- process-wide ---- */

void gw_stats_config_applied(gw_stats *s, uint64_t generation, bool is_reload)
{
    atomic_store_explicit(&s->config_generation, generation, memory_order_relaxed);
    if (is_reload)
        GW_STAT_ADD(s->reloads_ok, 1);
    atomic_store_explicit(&s->last_reload_success, 1, memory_order_relaxed);
    atomic_store_explicit(&s->last_reload_unix_ms, now_unix_ms(), memory_order_relaxed);
    pthread_mutex_lock(&s->err_mu);
    s->last_error[0] = '\0';
    pthread_mutex_unlock(&s->err_mu);
}

void gw_stats_config_failed(gw_stats *s, const char *msg)
{
    GW_STAT_ADD(s->reload_errors, 1);
    atomic_store_explicit(&s->last_reload_success, 0, memory_order_relaxed);
    atomic_store_explicit(&s->last_reload_unix_ms, now_unix_ms(), memory_order_relaxed);
    pthread_mutex_lock(&s->err_mu);
    snprintf(s->last_error, sizeof s->last_error, "%s", msg ? msg : "");
    pthread_mutex_unlock(&s->err_mu);
}

void gw_stats_set_draining(gw_stats *s, bool draining)
{
    atomic_store_explicit(&s->draining, draining, memory_order_relaxed);
}

void gw_stats_process_get(gw_stats *s, gw_stats_process *out)
{
    memset(out, 0, sizeof *out);
    out->config_generation = GW_STAT_GET(s->config_generation);
    out->reloads_ok = GW_STAT_GET(s->reloads_ok);
    out->reload_errors = GW_STAT_GET(s->reload_errors);
    out->last_reload_success = GW_STAT_GET(s->last_reload_success) != 0;
    out->last_reload_unix_ms = GW_STAT_GET(s->last_reload_unix_ms);
    out->start_unix_ms = GW_STAT_GET(s->start_unix_ms);
    out->draining = atomic_load_explicit(&s->draining, memory_order_relaxed);
    pthread_mutex_lock(&s->err_mu);
    memcpy(out->last_reload_error, s->last_error, sizeof out->last_reload_error);
    pthread_mutex_unlock(&s->err_mu);
}

/* ---- rendering ---- */

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void gw_stats_escape_label(ut_buf *out, const char *v)
{
    const unsigned char *s = (const unsigned char *)v;
    size_t n = strlen(v);
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c == '\\') {
            ut_buf_append(out, "\\\\", 2);
            i++;
        } else if (c == '"') {
            ut_buf_append(out, "\\\"", 2);
            i++;
        } else if (c == '\n') {
            ut_buf_append(out, "\\n", 2);
            i++;
        } else {
            size_t len = utf8_seq(s + i, n - i);
            if (len == 0) {
                ut_buf_append(out, "\xef\xbf\xbd", 3);
                i++;
            } else {
                ut_buf_append(out, s + i, len);
                i += len;
            }
        }
    }
}

static void family(ut_buf *b, const char *name, const char *type, const char *help)
{
    ut_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{key="value"[,class="Nxx"]} */
static void series(ut_buf *b, const char *name, const char *key, const char *value)
{
    ut_buf_puts(b, name);
    ut_buf_putc(b, '{');
    ut_buf_puts(b, key);
    ut_buf_puts(b, "=\"");
    gw_stats_escape_label(b, value);
    ut_buf_putc(b, '"');
}

static void sample_u64(ut_buf *b, uint64_t v)
{
    ut_buf_printf(b, " %" PRIu64 "\n", v);
}

static void sample_i64(ut_buf *b, uint64_t v)
{
    ut_buf_printf(b, " %" PRId64 "\n", (int64_t)v);
}

/* Fixed-point seconds from micro- or milliseconds, exact. */
static void put_seconds_us(ut_buf *b, uint64_t us)
{
    ut_buf_printf(b, "%" PRIu64 ".%06" PRIu64, us / 1000000u, us % 1000000u);
}

static void put_seconds_ms(ut_buf *b, uint64_t ms)
{
    ut_buf_printf(b, "%" PRIu64 ".%03" PRIu64, ms / 1000u, ms % 1000u);
}

static const char *const CLASS_NAMES[GW_STATS_CLASSES] = {"5xx", "1xx", "2xx", "3xx", "4xx", "5xx"};
static const char *const LE_NAMES[GW_STATS_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf",
};

/* Sums over workers use 1..5 only; index 0 (a status below 100 written
 * by hand) is folded into 5xx. */
typedef struct route_totals {
    uint64_t responses[GW_STATS_CLASSES];
    uint64_t bucket[GW_STATS_BUCKETS];
    uint64_t sum_us;
} route_totals;

typedef struct cluster_totals {
    uint64_t requests, responses[GW_STATS_CLASSES], connect_failures, timeouts, retries,
        ejections, active;
} cluster_totals;

static void sum_route(gw_stats *s, uint32_t slot, route_totals *t)
{
    memset(t, 0, sizeof *t);
    for (unsigned w = 0; w < s->n_workers; w++) {
        gw_route_stats *r = &s->workers[w].routes[slot];
        for (unsigned c = 0; c < GW_STATS_CLASSES; c++)
            t->responses[c ? c : 5] += GW_STAT_GET(r->responses[c]);
        for (unsigned k = 0; k < GW_STATS_BUCKETS; k++)
            t->bucket[k] += GW_STAT_GET(r->latency_bucket[k]);
        t->sum_us += GW_STAT_GET(r->latency_sum_us);
    }
}

static void sum_cluster(gw_stats *s, uint32_t slot, cluster_totals *t)
{
    memset(t, 0, sizeof *t);
    for (unsigned w = 0; w < s->n_workers; w++) {
        gw_cluster_stats *c = &s->workers[w].clusters[slot];
        t->requests += GW_STAT_GET(c->requests);
        for (unsigned k = 0; k < GW_STATS_CLASSES; k++)
            t->responses[k ? k : 5] += GW_STAT_GET(c->responses[k]);
        t->connect_failures += GW_STAT_GET(c->connect_failures);
        t->timeouts += GW_STAT_GET(c->timeouts);
        t->retries += GW_STAT_GET(c->retries);
        t->ejections += GW_STAT_GET(c->ejections);
        t->active += GW_STAT_GET(c->active_connections);
    }
}

/* Worker-level fields, addressed by offset so one loop sums any of them. */
static uint64_t sum_worker_field(gw_stats *s, size_t offset)
{
    uint64_t t = 0;
    for (unsigned w = 0; w < s->n_workers; w++) {
        _Atomic uint64_t *f = (_Atomic uint64_t *)((char *)&s->workers[w] + offset);
        t += atomic_load_explicit(f, memory_order_relaxed);
    }
    return t;
}

static void render_routes(gw_stats *s, ut_buf *b)
{
    route_totals t;
    family(b, "sluice_requests_total", "counter",
           "Responses sent downstream, by route and status class (route \"_none\": no route "
           "matched).");
    for (uint32_t slot = 0; slot < GW_STATS_MAX_ROUTES; slot++) {
        const char *name = registry_name(&s->routes, slot);
        if (!name)
            continue;
        sum_route(s, slot, &t);
        for (unsigned c = 1; c < GW_STATS_CLASSES; c++) {
            series(b, "sluice_requests_total", "route", name);
            ut_buf_printf(b, ",class=\"%s\"}", CLASS_NAMES[c]);
            sample_u64(b, t.responses[c]);
        }
    }

    family(b, "sluice_request_duration_seconds", "histogram",
           "Time from the first byte of a request to the last byte of its response, by route.");
    for (uint32_t slot = 0; slot < GW_STATS_MAX_ROUTES; slot++) {
        const char *name = registry_name(&s->routes, slot);
        if (!name)
            continue;
        sum_route(s, slot, &t);
        uint64_t cum = 0;
        for (unsigned k = 0; k < GW_STATS_BUCKETS; k++) {
            cum += t.bucket[k];
            series(b, "sluice_request_duration_seconds_bucket", "route", name);
            ut_buf_printf(b, ",le=\"%s\"}", LE_NAMES[k]);
            sample_u64(b, cum);
        }
        series(b, "sluice_request_duration_seconds_sum", "route", name);
        ut_buf_puts(b, "} ");
        put_seconds_us(b, t.sum_us);
        ut_buf_putc(b, '\n');
        series(b, "sluice_request_duration_seconds_count", "route", name);
        ut_buf_putc(b, '}');
        sample_u64(b, cum);
    }
}

enum cluster_field { CF_REQUESTS, CF_CONNECT_FAILURES, CF_TIMEOUTS, CF_RETRIES, CF_EJECTIONS,
                     CF_ACTIVE };

static uint64_t cluster_field(const cluster_totals *t, enum cluster_field f)
{
    switch (f) {
    case CF_REQUESTS: return t->requests;
    case CF_CONNECT_FAILURES: return t->connect_failures;
    case CF_TIMEOUTS: return t->timeouts;
    case CF_RETRIES: return t->retries;
    case CF_EJECTIONS: return t->ejections;
    case CF_ACTIVE: return t->active;
    }
    return 0;
}

static void render_clusters(gw_stats *s, ut_buf *b)
{
    static const struct {
        const char *name, *type, *help;
        enum cluster_field field;
    } simple[] = {
        {"sluice_upstream_requests_total", "counter",
         "Requests sent to a cluster's endpoints, retries included.", CF_REQUESTS},
        {"sluice_upstream_connect_failures_total", "counter",
         "Failed connection attempts to a cluster's endpoints.", CF_CONNECT_FAILURES},
        {"sluice_upstream_timeouts_total", "counter",
         "Upstream connect or response timeouts.", CF_TIMEOUTS},
        {"sluice_upstream_retries_total", "counter", "Upstream request retries.", CF_RETRIES},
        {"sluice_upstream_ejections_total", "counter",
         "Endpoints ejected by passive outlier detection.", CF_EJECTIONS},
        {"sluice_upstream_connections_active", "gauge",
         "Open connections to a cluster's endpoints.", CF_ACTIVE},
    };
    cluster_totals t;
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        family(b, simple[i].name, simple[i].type, simple[i].help);
        for (uint32_t slot = 0; slot < GW_STATS_MAX_CLUSTERS; slot++) {
            const char *name = registry_name(&s->clusters, slot);
            if (!name)
                continue;
            sum_cluster(s, slot, &t);
            series(b, simple[i].name, "cluster", name);
            ut_buf_putc(b, '}');
            if (simple[i].field == CF_ACTIVE)
                sample_i64(b, cluster_field(&t, simple[i].field));
            else
                sample_u64(b, cluster_field(&t, simple[i].field));
        }
    }
    family(b, "sluice_upstream_responses_total", "counter",
           "Upstream response heads received, by cluster and status class.");
    for (uint32_t slot = 0; slot < GW_STATS_MAX_CLUSTERS; slot++) {
        const char *name = registry_name(&s->clusters, slot);
        if (!name)
            continue;
        sum_cluster(s, slot, &t);
        for (unsigned c = 1; c < GW_STATS_CLASSES; c++) {
            series(b, "sluice_upstream_responses_total", "cluster", name);
            ut_buf_printf(b, ",class=\"%s\"}", CLASS_NAMES[c]);
            sample_u64(b, t.responses[c]);
        }
    }
}

static void render_downstream(gw_stats *s, ut_buf *b)
{
    static const struct {
        const char *name, *type, *help;
        size_t offset;
    } fields[] = {
        {"sluice_downstream_connections_active", "gauge", "Open downstream connections.",
         offsetof(gw_worker_stats, downstream_active)},
        {"sluice_downstream_connections_total", "counter", "Accepted downstream connections.",
         offsetof(gw_worker_stats, downstream_total)},
        {"sluice_downstream_requests_total", "counter", "Request heads parsed successfully.",
         offsetof(gw_worker_stats, requests)},
        {"sluice_downstream_bad_requests_total", "counter",
         "Requests rejected by the HTTP parser.", offsetof(gw_worker_stats, bad_requests)},
        {"sluice_downstream_received_bytes_total", "counter", "Bytes read from clients.",
         offsetof(gw_worker_stats, bytes_in)},
        {"sluice_downstream_sent_bytes_total", "counter", "Bytes written to clients.",
         offsetof(gw_worker_stats, bytes_out)},
    };
    family(b, "sluice_workers", "gauge", "Worker threads.");
    ut_buf_printf(b, "sluice_workers %u\n", s->n_workers);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        family(b, fields[i].name, fields[i].type, fields[i].help);
        uint64_t v = sum_worker_field(s, fields[i].offset);
        ut_buf_puts(b, fields[i].name);
        if (fields[i].offset == offsetof(gw_worker_stats, downstream_active))
            sample_i64(b, v);
        else
            sample_u64(b, v);
    }
}

static void render_process(gw_stats *s, ut_buf *b)
{
    gw_stats_process p;
    gw_stats_process_get(s, &p);

    family(b, "sluice_config_generation", "gauge", "Generation of the config in use (0: none).");
    ut_buf_printf(b, "sluice_config_generation %" PRIu64 "\n", p.config_generation);
    family(b, "sluice_config_reloads_total", "counter", "Successful config reloads.");
    ut_buf_printf(b, "sluice_config_reloads_total %" PRIu64 "\n", p.reloads_ok);
    family(b, "sluice_config_reload_errors_total", "counter", "Failed config reloads.");
    ut_buf_printf(b, "sluice_config_reload_errors_total %" PRIu64 "\n", p.reload_errors);
    family(b, "sluice_config_last_reload_success", "gauge",
           "1 if the last config load or reload succeeded, else 0.");
    ut_buf_printf(b, "sluice_config_last_reload_success %d\n", p.last_reload_success ? 1 : 0);
    family(b, "sluice_config_last_reload_timestamp_seconds", "gauge",
           "Unix time of the last config load or reload attempt (0: none).");
    ut_buf_puts(b, "sluice_config_last_reload_timestamp_seconds ");
    put_seconds_ms(b, p.last_reload_unix_ms);
    ut_buf_putc(b, '\n');
    family(b, "sluice_draining", "gauge", "1 while the gateway drains connections to stop.");
    ut_buf_printf(b, "sluice_draining %d\n", p.draining ? 1 : 0);

    family(b, "sluice_process_start_time_seconds", "gauge", "Unix time the process started.");
    ut_buf_puts(b, "sluice_process_start_time_seconds ");
    put_seconds_ms(b, p.start_unix_ms);
    ut_buf_putc(b, '\n');

    unsigned long long pages_total = 0, pages_rss = 0;
    FILE *f = fopen("/proc/self/statm", "re");
    if (f) {
        if (fscanf(f, "%llu %llu", &pages_total, &pages_rss) != 2)
            pages_rss = 0;
        fclose(f);
    }
    long page = sysconf(_SC_PAGESIZE);
    family(b, "sluice_process_resident_memory_bytes", "gauge", "Resident set size in bytes.");
    ut_buf_printf(b, "sluice_process_resident_memory_bytes %llu\n",
                  pages_rss * (unsigned long long)(page > 0 ? page : 4096));

    struct rusage ru;
    uint64_t cpu_us = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
                 (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
    family(b, "sluice_process_cpu_seconds_total", "counter",
           "User and system CPU time spent, in seconds.");
    ut_buf_puts(b, "sluice_process_cpu_seconds_total ");
    put_seconds_us(b, cpu_us);
    ut_buf_putc(b, '\n');
}

void gw_stats_render_prometheus(gw_stats *s, ut_buf *out)
{
    render_downstream(s, out);
    render_routes(s, out);
    render_clusters(s, out);
    render_process(s, out);
}
