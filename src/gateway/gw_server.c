/*
 * gw_server.c — the main thread: loads the config, starts the workers,
 * serves the admin API, runs health checks, reloads on SIGHUP, POST
 * /reload or a changed file, and drains on SIGTERM/SIGINT.
 *
 * Owns:      generation building (config + TLS contexts + stat slots),
 *            reload policy (validate fully, keep the old on error),
 *            the admin endpoints, the shutdown sequence.
 * Not here:  the data plane (gw_worker.c and below), parsing the config
 *            (gw_config*.c), rendering metrics (gw_stats.c).
 *
 * Reload: the file is read and hashed; an unchanged file is not reloaded
 * when the trigger is the file watcher. The watcher polls with stat(2)
 * once a second, which follows symlinks, so a Kubernetes ConfigMap update
 * (an atomic swap of the "..data" symlink) is seen like any edit.
 */
#include "gw_server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_admin.h"
#include "gw_health.h"
#include "gw_stats.h"
#include "gw_wagi_toml.h"
#include "gw_worker.h"
#include "wagi.h"

typedef struct gw_server {
    uv_loop_t loop;
    char *config_path;
    gw_gen *gen;
    uint64_t generation;
    uint64_t config_hash;
    gw_stats *stats;
    gw_health *health;
    sl_engine *engine; /* for WAGI modules; created on first need */
    gw_wagi_cache *wagi_cache; /* compiled WAGI handlers kept across reloads */
    const gw_wagi_toml_opts *toml; /* set: config_path is a WAGI modules.toml */
    gw_worker *workers;
    unsigned n_workers;
    unsigned n_started;
    gw_admin *admin;
    uv_signal_t sig_hup, sig_term, sig_int;
    uv_fs_poll_t watch;
    uv_timer_t module_watch; /* plugin module files, once a second */
    struct module_stamp *stamps; /* of s->gen's file modules */
    size_t n_stamps;
    uv_async_t worker_exit;
    uv_timer_t drain_timer;
    bool draining;
    bool stopping;
} gw_server;

/* ---- config files and generations ---------------------------------------- */

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static char *read_file(const char *path, size_t *len, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    ut_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        ut_buf_append(&b, chunk, n);
        if (b.len > 16u << 20) {
            snprintf(err, err_len, "%s: larger than 16 MiB", path);
            fclose(f);
            ut_buf_free(&b);
            return NULL;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad || b.oom) {
        snprintf(err, err_len, "%s: read error", path);
        ut_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    if (!b.data)
        return strdup("");
    return b.data;
}

/* A path relative to the config file's directory. */
static void resolve_path(const gw_server *s, const char *p, char *out, size_t cap)
{
    const char *slash = strrchr(s->config_path, '/');
    if (p[0] == '/' || !slash || s->toml) /* modules.toml paths come resolved */
        snprintf(out, cap, "%s", p);
    else
        snprintf(out, cap, "%.*s/%s", (int)(slash - s->config_path), s->config_path, p);
}

/* Gets every WAGI route's handler (or modules.toml table) from the cache:
 * compiled only when new or changed since the last generation. */
static int load_wagi(gw_server *s, gw_gen *g, char *err, size_t err_len)
{
    const gw_config *cfg = g->cfg;
    for (size_t i = 0; i < cfg->n_routes; i++) {
        const gw_route_conf *rt = &cfg->routes[i];
        if (rt->action != GW_ACTION_WAGI)
            continue;
        if (!g->wagi && !(g->wagi = calloc(cfg->n_routes, sizeof *g->wagi)))
            goto oom;
        if (!g->wagi_tables && !(g->wagi_tables = calloc(cfg->n_routes, sizeof *g->wagi_tables)))
            goto oom;
        if (!s->engine && !(s->engine = sl_engine_new(NULL)))
            goto oom;
        if (!s->wagi_cache && !(s->wagi_cache = gw_wagi_cache_new(s->engine)))
            goto oom;
        if (rt->wagi_modules) {
            char path[4096], terr[1024] = "";
            resolve_path(s, rt->wagi_modules, path, sizeof path);
            g->wagi_tables[i] =
                gw_wagi_table_load(path, s->wagi_cache, cfg->aot_cache, terr, sizeof terr);
            if (!g->wagi_tables[i]) {
                snprintf(err, err_len, "route %.200s: %.800s", rt->name, terr);
                return -1;
            }
            continue;
        }
        char module[4096];
        resolve_path(s, rt->wagi_module, module, sizeof module);
        size_t nv = rt->n_wagi_volumes;
        wagi_kv *env = calloc(rt->n_wagi_env + 1, sizeof *env);
        wagi_kv *vol = calloc(nv + 1, sizeof *vol);
        char (*hosts)[4096] = calloc(nv + 1, sizeof *hosts);
        if (!env || !vol || !hosts) {
            free(env);
            free(vol);
            free(hosts);
            goto oom;
        }
        for (size_t j = 0; j < rt->n_wagi_env; j++)
            env[j] = (wagi_kv){rt->wagi_env[j].name, rt->wagi_env[j].value};
        for (size_t j = 0; j < nv; j++) {
            resolve_path(s, rt->wagi_volumes[j].name, hosts[j], sizeof hosts[j]);
            vol[j] = (wagi_kv){hosts[j], rt->wagi_volumes[j].value};
        }
        wagi_handler_conf hc = {
            .route = rt->path ? rt->path : rt->name,
            .module_path = module,
            .entrypoint = rt->wagi_entrypoint,
            .argv = rt->wagi_argv,
            .env = env,
            .n_env = rt->n_wagi_env,
            .volumes = vol,
            .n_volumes = nv,
            .timeout_ms = rt->wagi_timeout_ms,
            .max_memory_pages = rt->wagi_max_memory_pages,
            .max_concurrency = rt->wagi_max_concurrency,
            .init = rt->wagi_init,
            .runtime = gw_sl_runtime(rt->wagi_runtime),
            .aot_cache = cfg->aot_cache,
        };
        char herr[768] = "";
        g->wagi[i] = gw_wagi_cache_get(s->wagi_cache, &hc, herr, sizeof herr);
        free(env);
        free(vol);
        free(hosts);
        if (!g->wagi[i]) {
            snprintf(err, err_len, "route %.200s: wagi module %.300s: %.400s", rt->name, module,
                     herr);
            return -1;
        }
        gw_wagi_log_runtime(rt->name, &hc, g->wagi[i]);
    }
    return 0;
oom:
    snprintf(err, err_len, "out of memory");
    return -1;
}

/* Builds a generation from a loaded config: TLS contexts, WAGI handlers,
 * stat slots. */
static gw_gen *make_gen(gw_server *s, gw_config *cfg, char *err, size_t err_len)
{
    gw_gen *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, err_len, "out of memory");
        gw_config_unref(cfg);
        return NULL;
    }
    atomic_init(&g->refs, 1);
    g->cfg = cfg;
    g->tls = calloc(cfg->n_listeners, sizeof *g->tls);
    if (!g->tls) {
        snprintf(err, err_len, "out of memory");
        gw_gen_unref(g);
        return NULL;
    }
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        const gw_listener_conf *lc = &cfg->listeners[i];
        if (!lc->tls_cert)
            continue;
        char terr[256] = "";
        g->tls[i] = gw_tls_ctx_new(lc->tls_cert, lc->tls_key, terr, sizeof terr);
        if (!g->tls[i]) {
            snprintf(err, err_len, "listener %s: %s", lc->name, terr);
            gw_gen_unref(g);
            return NULL;
        }
    }
    if (s->wagi_cache)
        gw_wagi_cache_begin(s->wagi_cache);
    if (load_wagi(s, g, err, err_len) < 0) {
        gw_gen_unref(g);
        if (s->wagi_cache)
            gw_wagi_cache_abort(s->wagi_cache);
        return NULL;
    }
    if (cfg->n_plugins) {
        if (!s->engine && !(s->engine = sl_engine_new(NULL)))
            snprintf(err, err_len, "out of memory");
        const gw_gen *prev = s->gen;
        if (!s->engine || gw_plugins_load(&g->plugins, cfg, prev ? &prev->plugins : NULL,
                                          prev ? prev->cfg : NULL, s->engine, err, err_len) < 0) {
            gw_gen_unref(g);
            if (s->wagi_cache)
                gw_wagi_cache_abort(s->wagi_cache);
            return NULL;
        }
    }
    if (s->wagi_cache)
        gw_wagi_cache_commit(s->wagi_cache); /* the caller applies g from here on */
    for (size_t i = 0; i < cfg->n_routes; i++)
        cfg->routes[i].stat_slot = gw_stats_route_slot(s->stats, cfg->routes[i].name);
    for (size_t i = 0; i < cfg->n_clusters; i++)
        cfg->clusters[i].stat_slot = gw_stats_cluster_slot(s->stats, cfg->clusters[i].name);
    cfg->generation = ++s->generation;
    return g;
}

static gw_config *load(gw_server *s, uint64_t *hash, bool skip_if_same, bool *same, char *err,
                       size_t err_len)
{
    size_t len = 0;
    char *text = read_file(s->config_path, &len, err, err_len);
    if (!text)
        return NULL;
    *hash = fnv1a(text, len);
    if (skip_if_same && *hash == s->config_hash) {
        *same = true;
        free(text);
        return NULL;
    }
    if (s->toml) {
        size_t ylen = 0;
        char *yaml = gw_wagi_toml_to_yaml(s->config_path, s->toml, &ylen, err, err_len);
        free(text);
        if (!yaml)
            return NULL;
        text = yaml;
        len = ylen;
    }
    gw_config *cfg = gw_config_load_string(text, len, s->config_path, err, err_len);
    free(text);
    return cfg;
}

/* ---- plugin module files ---------------------------------------------------
 * A plugin's .wasm can change while the config file does not: the server
 * stats every file module of the current generation once a second and
 * reloads when one changed (size, mtime or inode: an atomic rename counts).
 * The reload keeps every unchanged plugin and its VMs (gw_plugins_load), so
 * only the changed plugin is rebuilt. */
typedef struct module_stamp {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} module_stamp;

static void stamp_take(module_stamp *m)
{
    struct stat st;
    if (stat(m->path, &st) < 0) {
        m->ino = 0;
        m->size = -1;
        return;
    }
    m->dev = st.st_dev;
    m->ino = st.st_ino;
    m->size = st.st_size;
    m->mtime = st.st_mtim;
}

static void stamps_free(gw_server *s)
{
    for (size_t i = 0; i < s->n_stamps; i++)
        free(s->stamps[i].path);
    free(s->stamps);
    s->stamps = NULL;
    s->n_stamps = 0;
}

static void stamps_take(gw_server *s)
{
    stamps_free(s);
    const gw_config *cfg = s->gen->cfg;
    if (!cfg->n_plugins || !(s->stamps = calloc(cfg->n_plugins, sizeof *s->stamps)))
        return;
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        if (!cfg->plugins[i].module || !(s->stamps[s->n_stamps].path = strdup(cfg->plugins[i].module)))
            continue;
        stamp_take(&s->stamps[s->n_stamps++]);
    }
}

static bool stamps_changed(gw_server *s)
{
    for (size_t i = 0; i < s->n_stamps; i++) {
        module_stamp now = {.path = s->stamps[i].path};
        stamp_take(&now);
        const module_stamp *was = &s->stamps[i];
        if (now.ino != was->ino || now.dev != was->dev || now.size != was->size ||
            now.mtime.tv_sec != was->mtime.tv_sec || now.mtime.tv_nsec != was->mtime.tv_nsec)
            return true;
    }
    return false;
}

/* Returns 0 on success, 1 when unchanged (file watcher), -1 on error. */
static int reload(gw_server *s, const char *why, bool only_if_changed, char *err, size_t err_len)
{
    if (s->draining)
        return 1;
    uint64_t hash = 0;
    bool same = false;
    gw_config *cfg = load(s, &hash, only_if_changed, &same, err, err_len);
    if (same)
        return 1;
    gw_gen *g = cfg ? make_gen(s, cfg, err, err_len) : NULL;
    if (!g) {
        gw_stats_config_failed(s->stats, err);
        gw_log("error", "reload (%s) failed, keeping generation %llu: %s", why,
               (unsigned long long)s->gen->cfg->generation, err);
        if (hash)
            s->config_hash = hash; /* the watcher does not retry (or re-report) this file */
        return -1;
    }
    if (g->cfg->workers != s->gen->cfg->workers)
        gw_log("warn", "reload (%s): 'workers' changes apply at the next restart (running %u)", why,
               s->n_workers);
    s->config_hash = hash;
    gw_health_apply(s->health, g->cfg);
    for (unsigned i = 0; i < s->n_workers; i++)
        gw_worker_post_gen(&s->workers[i], g);
    gw_gen_unref(s->gen);
    s->gen = g;
    gw_stats_config_applied(s->stats, g->cfg->generation, true);
    stamps_take(s);
    gw_log("info", "reload (%s): generation %llu applied (%zu routes, %zu clusters)", why,
           (unsigned long long)g->cfg->generation, g->cfg->n_routes, g->cfg->n_clusters);
    return 0;
}

/* ---- admin ---------------------------------------------------------------- */

static bool str_is(gw_str a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && memcmp(a.base, b, n) == 0;
}

static void on_admin(void *user, gw_str method, gw_str path, gw_admin_response *resp)
{
    gw_server *s = user;
    bool get = str_is(method, "GET") || str_is(method, "HEAD");
    if (str_is(path, "/healthz")) {
        if (!get)
            goto method;
        ut_buf_puts(&resp->body, "ok\n");
        return;
    }
    if (str_is(path, "/ready")) {
        if (!get)
            goto method;
        resp->status = s->draining ? 503 : 200;
        ut_buf_puts(&resp->body, s->draining ? "draining\n" : "ready\n");
        return;
    }
    if (str_is(path, "/stats") || str_is(path, "/metrics")) {
        if (!get)
            goto method;
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        gw_stats_render_prometheus(s->stats, &resp->body);
        pw_stats_write_prometheus(&resp->body);   /* plugin VMs: traps, recoveries, CPU */
        pw_metrics_write_prometheus(&resp->body); /* metrics plugins defined */
        if (s->wagi_cache)
            ut_buf_printf(&resp->body,
                          "# HELP sluice_wagi_module_compiles_total WAGI modules compiled (new or "
                          "changed; unchanged ones are reused across reloads).\n"
                          "# TYPE sluice_wagi_module_compiles_total counter\n"
                          "sluice_wagi_module_compiles_total %llu\n"
                          "# HELP sluice_wagi_module_cache_hits_total WAGI modules reused from "
                          "the previous generation at a reload.\n"
                          "# TYPE sluice_wagi_module_cache_hits_total counter\n"
                          "sluice_wagi_module_cache_hits_total %llu\n",
                          (unsigned long long)gw_wagi_cache_compiles(s->wagi_cache),
                          (unsigned long long)gw_wagi_cache_hits(s->wagi_cache));
        gw_stats_process p;
        gw_stats_process_get(s->stats, &p);
        if (!p.last_reload_success && p.last_reload_error[0]) {
            /* The message of a failing config, as an info-style metric. */
            ut_buf_puts(&resp->body,
                        "# HELP sluice_config_reload_error The last reload failed with this message "
                        "(the previous config is still serving).\n"
                        "# TYPE sluice_config_reload_error gauge\n"
                        "sluice_config_reload_error{message=\"");
            gw_stats_escape_label(&resp->body, p.last_reload_error);
            ut_buf_puts(&resp->body, "\"} 1\n");
        }
        return;
    }
    if (str_is(path, "/config_dump")) {
        if (!get)
            goto method;
        resp->content_type = "application/json";
        gw_config_dump_json(s->gen->cfg, &resp->body);
        ut_buf_putc(&resp->body, '\n');
        return;
    }
    if (str_is(path, "/reload")) {
        if (!str_is(method, "POST"))
            goto method;
        char err[1024] = "";
        int r = reload(s, "admin", false, err, sizeof err);
        if (r < 0) {
            resp->status = 400;
            ut_buf_printf(&resp->body, "reload failed: %s\n", err);
        } else {
            ut_buf_printf(&resp->body, "generation %llu\n",
                          (unsigned long long)s->gen->cfg->generation);
        }
        return;
    }
    resp->status = 404;
    ut_buf_puts(&resp->body, "not found; try /ready /healthz /stats /config_dump, POST /reload\n");
    return;
method:
    resp->status = 405;
    ut_buf_puts(&resp->body, "method not allowed\n");
}

/* ---- shutdown ------------------------------------------------------------- */

static void close_main_handles(gw_server *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    uv_close((uv_handle_t *)&s->sig_hup, NULL);
    uv_close((uv_handle_t *)&s->sig_term, NULL);
    uv_close((uv_handle_t *)&s->sig_int, NULL);
    uv_close((uv_handle_t *)&s->watch, NULL);
    uv_close((uv_handle_t *)&s->module_watch, NULL);
    uv_close((uv_handle_t *)&s->worker_exit, NULL);
    uv_close((uv_handle_t *)&s->drain_timer, NULL);
    if (s->admin) {
        gw_admin_stop(s->admin, NULL, NULL);
        s->admin = NULL;
    }
    gw_health_stop(s->health, NULL, NULL);
}

static void on_worker_exit(uv_async_t *a)
{
    gw_server *s = a->data;
    for (unsigned i = 0; i < s->n_workers; i++)
        if (!atomic_load(&s->workers[i].exited))
            return;
    gw_log("info", "all workers finished; exiting");
    close_main_handles(s);
}

void gw_server_worker_exited(struct gw_server *s)
{
    uv_async_send(&s->worker_exit);
}

static void on_drain_timeout(uv_timer_t *t)
{
    gw_server *s = t->data;
    gw_log("warn", "drain timeout: closing the remaining connections");
    for (unsigned i = 0; i < s->n_workers; i++)
        gw_worker_request_stop(&s->workers[i]);
}

static void start_drain(gw_server *s, const char *why)
{
    if (s->draining) {
        gw_log("warn", "%s again: stopping now", why);
        on_drain_timeout(&s->drain_timer);
        return;
    }
    s->draining = true;
    gw_stats_set_draining(s->stats, true);
    gw_log("info", "%s: draining (up to %u ms)", why, s->gen->cfg->timeouts.drain_timeout_ms);
    for (unsigned i = 0; i < s->n_workers; i++)
        gw_worker_request_drain(&s->workers[i]);
    uv_timer_start(&s->drain_timer, on_drain_timeout, s->gen->cfg->timeouts.drain_timeout_ms, 0);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    gw_server *s = sig->data;
    if (signum == SIGHUP) {
        char err[1024];
        reload(s, "SIGHUP", false, err, sizeof err);
        return;
    }
    start_drain(s, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_module_watch(uv_timer_t *t)
{
    gw_server *s = t->data;
    if (s->draining || !stamps_changed(s))
        return;
    char err[1024];
    if (reload(s, "plugin module changed", false, err, sizeof err) < 0)
        stamps_take(s); /* report a broken module once, not every second */
}

static void on_file_change(uv_fs_poll_t *h, int status, const uv_stat_t *prev, const uv_stat_t *cur)
{
    gw_server *s = h->data;
    if (status < 0)
        return; /* the file is missing for now (mid-swap); keep polling */
    char err[1024];
    reload(s, "file changed", true, err, sizeof err);
}

/* ---- run ------------------------------------------------------------------ */

static void describe(const gw_config *cfg, unsigned n_workers, int admin_port)
{
    for (size_t i = 0; i < cfg->n_listeners; i++)
        gw_log("info", "listening on %s%s", cfg->listeners[i].address,
               cfg->listeners[i].tls_cert ? " (TLS)" : "");
    gw_log("info", "admin on %s (port %d); %u workers; generation %llu", cfg->admin_address,
           admin_port, n_workers, (unsigned long long)cfg->generation);
}

static int run(const char *config_path, const gw_wagi_toml_opts *toml);

int gw_server_run(const char *config_path)
{
    return run(config_path, NULL);
}

int gw_server_run_wagi(const char *modules_toml, const gw_wagi_toml_opts *opts)
{
    static const gw_wagi_toml_opts defaults;
    return run(modules_toml, opts ? opts : &defaults);
}

static int run(const char *config_path, const gw_wagi_toml_opts *toml)
{
    gw_server srv = {0}, *s = &srv;
    s->toml = toml;
    int rc = 1;
    char err[1024] = "";
    signal(SIGPIPE, SIG_IGN);
    /* SLUICE_PLUGIN_LOG=trace|debug|info|warn|error|critical: the least
     * severe plugin log line printed (default info). */
    const char *pl = getenv("SLUICE_PLUGIN_LOG");
    if (pl && *pl) {
        static const char *const names[] = {"trace", "debug", "info", "warn", "error", "critical"};
        for (int i = 0; i < 6; i++)
            if (!strcmp(pl, names[i]))
                pw_set_log(NULL, NULL, (pw_log_level)i);
    }
    s->config_path = strdup(config_path);
    if (!s->config_path || uv_loop_init(&s->loop) < 0) {
        fprintf(stderr, "sluice: out of memory\n");
        free(s->config_path);
        return 1;
    }
    uint64_t hash = 0;
    bool same = false;
    gw_config *cfg = load(s, &hash, false, &same, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "sluice: %s\n", err);
        goto out_loop;
    }
    s->config_hash = hash;
    s->n_workers = cfg->workers ? cfg->workers : 1;
    s->stats = gw_stats_new(s->n_workers);
    s->health = gw_health_new(&s->loop);
    if (!s->stats || !s->health) {
        gw_config_unref(cfg);
        fprintf(stderr, "sluice: out of memory\n");
        goto out_loop;
    }
    s->gen = make_gen(s, cfg, err, sizeof err);
    if (!s->gen) {
        fprintf(stderr, "sluice: %s\n", err);
        goto out_loop;
    }
    gw_stats_config_applied(s->stats, s->gen->cfg->generation, false);
    gw_health_apply(s->health, s->gen->cfg);

    s->workers = calloc(s->n_workers, sizeof *s->workers);
    if (!s->workers) {
        fprintf(stderr, "sluice: out of memory\n");
        goto out_health;
    }
    unsigned n_init = 0;
    for (; n_init < s->n_workers; n_init++) {
        err[0] = '\0';
        if (gw_worker_init(&s->workers[n_init], n_init, s, s->gen,
                           gw_stats_worker(s->stats, n_init), s->health, err, sizeof err) < 0) {
            fprintf(stderr, "sluice: %s\n", err);
            gw_worker_discard(&s->workers[n_init]);
            for (unsigned i = 0; i < n_init; i++)
                gw_worker_discard(&s->workers[i]);
            goto out_health;
        }
    }
    if (gw_admin_start(&s->admin, &s->loop, &s->gen->cfg->admin_addr, on_admin, s, err,
                       sizeof err) < 0) {
        fprintf(stderr, "sluice: admin listener %s: %s\n", s->gen->cfg->admin_address, err);
        for (unsigned i = 0; i < s->n_workers; i++)
            gw_worker_discard(&s->workers[i]);
        goto out_health;
    }

    uv_signal_init(&s->loop, &s->sig_hup);
    uv_signal_init(&s->loop, &s->sig_term);
    uv_signal_init(&s->loop, &s->sig_int);
    s->sig_hup.data = s->sig_term.data = s->sig_int.data = s;
    uv_signal_start(&s->sig_hup, on_signal, SIGHUP);
    uv_signal_start(&s->sig_term, on_signal, SIGTERM);
    uv_signal_start(&s->sig_int, on_signal, SIGINT);
    uv_fs_poll_init(&s->loop, &s->watch);
    s->watch.data = s;
    uv_fs_poll_start(&s->watch, on_file_change, s->config_path, 1000);
    uv_timer_init(&s->loop, &s->module_watch);
    s->module_watch.data = s;
    stamps_take(s);
    uv_timer_start(&s->module_watch, on_module_watch, 1000, 1000);
    uv_async_init(&s->loop, &s->worker_exit, on_worker_exit);
    s->worker_exit.data = s;
    uv_timer_init(&s->loop, &s->drain_timer);
    s->drain_timer.data = s;

    for (unsigned i = 0; i < s->n_workers; i++) {
        if (gw_worker_start(&s->workers[i]) < 0) {
            fprintf(stderr, "sluice: cannot start worker thread %u\n", i);
            for (unsigned j = i; j < s->n_workers; j++)
                atomic_store(&s->workers[j].exited, true);
            break;
        }
        s->n_started++;
    }
    describe(s->gen->cfg, s->n_workers, gw_admin_port(s->admin));
    if (s->n_started < s->n_workers)
        start_drain(s, "startup failure");

    uv_run(&s->loop, UV_RUN_DEFAULT);
    for (unsigned i = 0; i < s->n_started; i++)
        gw_worker_join(&s->workers[i]);
    for (unsigned i = s->n_started; i < s->n_workers; i++)
        gw_worker_discard(&s->workers[i]);
    rc = s->n_started == s->n_workers ? 0 : 1;

out_health:
    free(s->workers);
    gw_health_stop(s->health, NULL, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
out_loop:
    stamps_free(s);
    if (s->gen)
        gw_gen_unref(s->gen);
    gw_health_free(s->health);
    gw_stats_free(s->stats);
    gw_wagi_cache_free(s->wagi_cache);
    if (s->engine)
        sl_engine_free(s->engine);
    uv_loop_close(&s->loop);
    free(s->config_path);
    return rc;
}
