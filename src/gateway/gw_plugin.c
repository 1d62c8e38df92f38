/*
 * gw_plugin.c — runs proxy-wasm plugin chains on gateway streams (see
 * gw_plugin.h for the model).
 *
 * Owns:      compiling a generation's plugins (reusing unchanged ones; the
 *            runtime each asks for, logged at load),
 *            the worker's VM slots, tick timers and post queue, the pw_host
 *            and pw_stream_host callbacks, converting HTTP/1 heads to
 *            plugin maps and back, local replies, resuming paused streams.
 * Not here:  the ABI (src/proxywasm), config parsing (gw_config_plugins.c),
 *            HTTP callouts (gw_callout.c) and Redis (gw_redis.c) clients.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gw_conn.h"
#include "gw_plugin.h"
#include "gw_router.h"
#include "gw_worker.h"

/* ---- generation: compile and reuse ------------------------------------------ */

/* The configurations of plugin i, in table order, are the same in both. */
static bool same_configs(const gw_config *a, size_t ia, const gw_config *b, size_t ib)
{
    size_t ja = 0, jb = 0;
    for (;;) {
        while (ja < a->n_plugin_configs && a->plugin_configs[ja].plugin != ia)
            ja++;
        while (jb < b->n_plugin_configs && b->plugin_configs[jb].plugin != ib)
            jb++;
        bool ea = ja == a->n_plugin_configs, eb = jb == b->n_plugin_configs;
        if (ea || eb)
            return ea && eb;
        const gw_plugin_config *ca = &a->plugin_configs[ja++], *cb = &b->plugin_configs[jb++];
        if (ca->json_len != cb->json_len || memcmp(ca->json, cb->json, ca->json_len))
            return false;
    }
}

/* A compiled module of the same bytes and runtime (an interpreted and a
 * native plugin of one module keep separate modules). */
static pw_module *find_module(const gw_gen_plugins *g, const gw_config *cfg, size_t upto,
                              const gw_plugin_conf *pc)
{
    if (!g || !cfg)
        return NULL;
    for (size_t k = 0; k < upto && k < g->n; k++)
        if (g->module[k] && !memcmp(cfg->plugins[k].sha256, pc->sha256, 32) &&
            cfg->plugins[k].runtime == pc->runtime)
            return g->module[k];
    return NULL;
}


/* "plugin NAME: runtime aot (native)": which code a plugin's new VMs run. */
static void log_runtime(const gw_plugin_conf *pc, const pw_module *m)
{
    if (pc->runtime != GW_RUNTIME_INTERP)
        gw_log("info", "plugin %s: runtime %s (%s)", pc->name, gw_runtime_name(pc->runtime),
               pw_module_native(m) ? "native" : "interpreting; compiling in the background");
}

static pw_plugin *build_plugin(const gw_config *cfg, size_t i, pw_module *m, char *err,
                               size_t err_len)
{
    const gw_plugin_conf *pc = &cfg->plugins[i];
    size_t nroots = 0;
    for (size_t j = 0; j < cfg->n_plugin_configs; j++)
        nroots += cfg->plugin_configs[j].plugin == i;
    pw_root_conf *roots = calloc(nroots ? nroots : 1, sizeof *roots);
    char **env = calloc(pc->n_env + 1, sizeof *env);
    pw_plugin *p = NULL;
    if (!roots || !env) {
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    pw_failure_policy fp = pc->failure_policy == GW_PLUGIN_FAIL_OPEN ? PW_FAIL_OPEN : PW_FAIL_CLOSED;
    size_t r = 0;
    for (size_t j = 0; j < cfg->n_plugin_configs; j++) {
        const gw_plugin_config *c = &cfg->plugin_configs[j];
        if (c->plugin != i)
            continue;
        roots[r++] = (pw_root_conf){pc->root_id, (const uint8_t *)c->json, c->json_len, fp};
    }
    if (!nroots) /* not attached anywhere: still compiled and checked */
        roots[r++] = (pw_root_conf){pc->root_id, (const uint8_t *)pc->configuration,
                                    pc->configuration_len, fp};
    for (size_t e = 0; e < pc->n_env; e++) {
        size_t len = strlen(pc->env[e].name) + strlen(pc->env[e].value) + 2;
        if (!(env[e] = malloc(len))) {
            snprintf(err, err_len, "out of memory");
            goto out;
        }
        snprintf(env[e], len, "%s=%s", pc->env[e].name, pc->env[e].value);
    }
    pw_plugin_conf c = {
        .name = pc->name,
        .vm_id = pc->vm_id,
        .vm_configuration = (const uint8_t *)pc->vm_config,
        .vm_configuration_len = pc->vm_config ? pc->vm_config_len : 0,
        .env = (const char *const *)env,
        .env_count = pc->n_env,
        .max_memory_pages = (uint32_t)((pc->max_memory_bytes + 65535) / 65536),
        .callback_cpu_ms = pc->cpu_per_callback_ms,
        .header_stop_iteration = pc->header_stop_iteration_set ? pc->header_stop_iteration : -1,
        .roots = roots,
        .root_count = r,
    };
    p = pw_plugin_new(m, &c, err, err_len);
out:
    if (env)
        for (size_t e = 0; e < pc->n_env; e++)
            free(env[e]);
    free(env);
    free(roots);
    return p;
}

int gw_plugins_load(gw_gen_plugins *out, const gw_config *cfg, const gw_gen_plugins *prev,
                    const gw_config *prev_cfg, sl_engine *engine, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    out->engine = engine;
    if (!cfg->n_plugins)
        return 0;
    out->plugin = calloc(cfg->n_plugins, sizeof *out->plugin);
    out->module = calloc(cfg->n_plugins, sizeof *out->module);
    out->config_root = calloc(cfg->n_plugin_configs + 1, sizeof *out->config_root);
    if (!out->plugin || !out->module || !out->config_root) {
        snprintf(err, err_len, "out of memory");
        gw_plugins_free(out);
        return -1;
    }
    out->n = cfg->n_plugins;
    for (size_t j = 0; j < cfg->n_plugin_configs; j++) {
        uint32_t root = 0;
        for (size_t k = 0; k < j; k++)
            root += cfg->plugin_configs[k].plugin == cfg->plugin_configs[j].plugin;
        out->config_root[j] = root;
    }
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        const gw_plugin_conf *pc = &cfg->plugins[i];
        /* The same plugin with the same configurations: keep it (and, on
         * the workers, its VMs). */
        if (prev && prev_cfg) {
            for (size_t k = 0; k < prev_cfg->n_plugins && k < prev->n; k++) {
                if (gw_plugin_conf_same(pc, &prev_cfg->plugins[k]) &&
                    same_configs(cfg, i, prev_cfg, k) && prev->plugin[k]) {
                    out->plugin[i] = pw_plugin_ref(prev->plugin[k]);
                    out->module[i] = pw_module_ref(prev->module[k]);
                    break;
                }
            }
            if (out->plugin[i]) {
                log_runtime(pc, out->module[i]);
                continue;
            }
        }
        pw_module *m = find_module(out, cfg, i, pc);
        if (!m)
            m = find_module(prev, prev_cfg, prev ? prev->n : 0, pc);
        char perr[512] = "";
        if (m) {
            m = pw_module_ref(m);
        } else {
            pw_module_opts mo = {gw_sl_runtime(pc->runtime), cfg->aot_cache};
            m = pw_module_load(engine, pc->module_bytes, pc->module_len, &mo, perr, sizeof perr);
            if (!m) {
                snprintf(err, err_len, "plugin %s: module %s: %s", pc->name,
                         pc->module ? pc->module : pc->url, perr);
                gw_plugins_free(out);
                return -1;
            }
        }
        out->module[i] = m;
        pw_plugin *p = build_plugin(cfg, i, m, perr, sizeof perr);
        if (!p || pw_plugin_check(p, engine, perr, sizeof perr) < 0) {
            snprintf(err, err_len, "plugin %s: %s", pc->name, perr);
            if (p)
                pw_plugin_unref(p);
            gw_plugins_free(out);
            return -1;
        }
        out->plugin[i] = p;
        log_runtime(pc, m);
    }
    return 0;
}

void gw_plugins_free(gw_gen_plugins *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->plugin && p->plugin[i])
            pw_plugin_unref(p->plugin[i]);
        if (p->module && p->module[i])
            pw_module_unref(p->module[i]);
    }
    free(p->plugin);
    free(p->module);
    free(p->config_root);
    memset(p, 0, sizeof *p);
}

/* ---- worker: slots, ticks, posts ---------------------------------------------- */

typedef struct tick {
    uv_timer_t timer;
    struct gw_worker_plugins *wp;
    pw_vm *vm; /* reference */
    size_t root;
    struct tick *next;
} tick;

typedef struct posted {
    void (*fn)(void *arg);
    void *arg;
    struct posted *next;
} posted;

struct gw_worker_plugins {
    gw_worker *w;
    pw_slot *slot; /* per plugin of w->gen */
    size_t n;
    uv_async_t async;
    pthread_mutex_t mu;
    posted *head, *tail; /* guarded by mu */
    bool accepting;      /* guarded by mu */
    tick *ticks;
    gw_plugin_calls *calls;
};

static void run_posted(gw_worker_plugins *wp)
{
    pthread_mutex_lock(&wp->mu);
    posted *p = wp->head;
    wp->head = wp->tail = NULL;
    pthread_mutex_unlock(&wp->mu);
    while (p) {
        posted *next = p->next;
        p->fn(p->arg);
        free(p);
        p = next;
    }
}

static void on_posted(uv_async_t *a)
{
    run_posted(a->data);
}

static void host_post(void *user, void (*fn)(void *arg), void *arg)
{
    gw_worker_plugins *wp = user;
    posted *p = malloc(sizeof *p);
    if (!p)
        return; /* the item stays queued in the plugin's queue; the next one wakes it */
    p->fn = fn;
    p->arg = arg;
    p->next = NULL;
    pthread_mutex_lock(&wp->mu);
    if (!wp->accepting) {
        pthread_mutex_unlock(&wp->mu);
        free(p);
        return;
    }
    if (wp->tail)
        wp->tail->next = p;
    else
        wp->head = p;
    wp->tail = p;
    uv_async_send(&wp->async);
    pthread_mutex_unlock(&wp->mu);
}

static void on_tick_closed(uv_handle_t *h)
{
    tick *t = h->data;
    pw_vm_unref(t->vm);
    free(t);
}

static void tick_remove(gw_worker_plugins *wp, tick *t)
{
    for (tick **pp = &wp->ticks; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    uv_close((uv_handle_t *)&t->timer, on_tick_closed);
}

static bool vm_is_current(gw_worker_plugins *wp, const pw_vm *vm)
{
    for (size_t i = 0; i < wp->n; i++)
        if (wp->slot[i].vm == vm)
            return true;
    return false;
}

static void on_tick(uv_timer_t *timer)
{
    tick *t = timer->data;
    if (pw_vm_failed(t->vm) || !vm_is_current(t->wp, t->vm)) {
        tick_remove(t->wp, t);
        return;
    }
    pw_vm_tick(t->vm, t->root);
}

static void host_set_tick(void *user, pw_vm *vm, size_t root, uint32_t period_ms)
{
    gw_worker_plugins *wp = user;
    if (!wp->accepting)
        return; /* the worker is closing its loop */
    tick *t = wp->ticks;
    while (t && !(t->vm == vm && t->root == root))
        t = t->next;
    if (!period_ms) {
        if (t)
            tick_remove(wp, t);
        return;
    }
    if (!t) {
        if (!(t = calloc(1, sizeof *t)))
            return;
        uv_timer_init(&wp->w->loop, &t->timer);
        t->timer.data = t;
        t->wp = wp;
        t->vm = pw_vm_ref(vm);
        t->root = root;
        t->next = wp->ticks;
        wp->ticks = t;
    }
    uv_timer_start(&t->timer, on_tick, period_ms, period_ms);
}

gw_plugin_calls *gw_worker_plugins_calls(void *host_user)
{
    return ((gw_worker_plugins *)host_user)->calls;
}

static pw_host worker_host(gw_worker_plugins *wp)
{
    pw_host h = {
        .user = wp,
        .set_tick = host_set_tick,
        .post = host_post,
    };
    gw_plugin_host_calls(&h); /* HTTP calls and Redis (gw_callout.c, gw_redis.c) */
    return h;
}

int gw_worker_plugins_apply(gw_worker *w, const gw_gen *g)
{
    const gw_gen_plugins *gp = &g->plugins;
    gw_worker_plugins *wp = w->plugins;
    if (!gp->n && !wp)
        return 0;
    if (!wp) {
        if (!(wp = calloc(1, sizeof *wp)))
            return -1;
        wp->w = w;
        pthread_mutex_init(&wp->mu, NULL);
        uv_async_init(&w->loop, &wp->async, on_posted);
        wp->async.data = wp;
        wp->accepting = true;
        if (!(wp->calls = gw_plugin_calls_new(w))) {
            uv_close((uv_handle_t *)&wp->async, NULL);
            pthread_mutex_destroy(&wp->mu);
            free(wp);
            return -1;
        }
        w->plugins = wp;
    }
    pw_slot *slots = gp->n ? calloc(gp->n, sizeof *slots) : NULL;
    if (gp->n && !slots)
        return -1;
    pw_host h = worker_host(wp);
    for (size_t i = 0; i < gp->n; i++) {
        bool kept = false;
        for (size_t k = 0; k < wp->n; k++) {
            if (wp->slot[k].plugin == gp->plugin[i]) {
                slots[i] = wp->slot[k]; /* keeps its VM */
                memset(&wp->slot[k], 0, sizeof wp->slot[k]);
                kept = true;
                break;
            }
        }
        if (!kept)
            pw_slot_init(&slots[i], gp->plugin[i], gp->engine, &h);
    }
    for (size_t k = 0; k < wp->n; k++)
        if (wp->slot[k].plugin)
            pw_slot_fini(&wp->slot[k]);
    free(wp->slot);
    wp->slot = slots;
    wp->n = gp->n;
    return 0;
}

/* Closes the worker's plugin handles so its loop can end. */
void gw_worker_plugins_close(gw_worker *w)
{
    gw_worker_plugins *wp = w->plugins;
    if (!wp)
        return;
    pthread_mutex_lock(&wp->mu);
    bool was = wp->accepting;
    wp->accepting = false;
    pthread_mutex_unlock(&wp->mu);
    if (!was)
        return;
    run_posted(wp);
    while (wp->ticks)
        tick_remove(wp, wp->ticks);
    gw_plugin_calls_free(wp->calls); /* closes Redis connections: before the loop ends */
    wp->calls = NULL;
    uv_close((uv_handle_t *)&wp->async, NULL);
}

void gw_worker_plugins_free(gw_worker *w)
{
    gw_worker_plugins *wp = w->plugins;
    if (!wp)
        return;
    run_posted(wp);
    for (size_t k = 0; k < wp->n; k++)
        if (wp->slot[k].plugin)
            pw_slot_fini(&wp->slot[k]);
    free(wp->slot);
    pthread_mutex_destroy(&wp->mu);
    free(wp);
    w->plugins = NULL;
}

/* ---- maps <-> HTTP/1 heads -------------------------------------------------------- */

static bool map_add(pw_map *m, const char *k, const char *v, size_t vlen)
{
    return pw_map_add(m, k, strlen(k), v, vlen);
}

static bool copy_map(pw_map *dst, const pw_map *src)
{
    pw_map_clear(dst);
    dst->present = src->present;
    for (size_t i = 0; i < src->n; i++)
        if (!pw_map_add(dst, src->e[i].key, src->e[i].key_len, src->e[i].value, src->e[i].value_len))
            return false;
    dst->dirty = false;
    return true;
}

/* The origin-form target of an absolute-form request target. */
static gw_str origin_form(gw_str t)
{
    if (t.len && t.base[0] != '/' && t.base[0] != '*') {
        const char *sep = memchr(t.base, ':', t.len);
        if (sep && (size_t)(t.base + t.len - sep) > 3 && sep[1] == '/' && sep[2] == '/') {
            const char *auth = sep + 3, *end = t.base + t.len;
            const char *slash = memchr(auth, '/', (size_t)(end - auth));
            return slash ? (gw_str){slash, (size_t)(end - slash)} : (gw_str){"/", 1};
        }
    }
    return t;
}

static bool fill_request_map(gw_stream *s, pw_map *m)
{
    const gw_http1_head *req = &s->req;
    gw_str path = origin_form(req->target);
    gw_str host = req->host ? req->host->value : (gw_str){"", 0};
    pw_map_clear(m);
    m->present = true;
    bool ok = map_add(m, ":method", req->method.base, req->method.len) &&
              map_add(m, ":path", path.base, path.len) &&
              map_add(m, ":authority", host.base, host.len) &&
              map_add(m, ":scheme", s->c->tls ? "https" : "http", s->c->tls ? 5 : 4);
    for (size_t i = 0; ok && i < req->n_headers; i++) {
        const gw_header *h = &req->headers[i];
        if ((h->name.len == 4 && gw_str_ieq(h->name, "host")) || gw_http1_is_hop_by_hop(req, h->name))
            continue;
        ok = pw_map_add(m, h->name.base, h->name.len, h->value.base, h->value.len);
    }
    m->dirty = false;
    return ok;
}

static bool fill_response_map(gw_stream *s, pw_map *m)
{
    const gw_http1_head *resp = &s->resp;
    char st[8];
    int n = snprintf(st, sizeof st, "%d", resp->status);
    pw_map_clear(m);
    m->present = true;
    bool ok = map_add(m, ":status", st, (size_t)n);
    for (size_t i = 0; ok && i < resp->n_headers; i++) {
        const gw_header *h = &resp->headers[i];
        if (gw_http1_is_hop_by_hop(resp, h->name))
            continue;
        ok = pw_map_add(m, h->name.base, h->name.len, h->value.base, h->value.len);
    }
    m->dirty = false;
    return ok;
}

static bool is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool valid_name(const char *p, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)p[i]))
            return false;
    return true;
}

static bool valid_value(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\r' || ch == '\n' || ch == 0)
            return false;
    }
    return true;
}

static bool name_eq(const pw_map_entry *e, const char *lower)
{
    size_t n = strlen(lower);
    return e->key_len == n && !strncasecmp(e->key, lower, n);
}

/* Framing and connection management stay the gateway's. */
static bool framing_field(const pw_map_entry *e)
{
    return name_eq(e, "content-length") || name_eq(e, "transfer-encoding") ||
           name_eq(e, "connection") || name_eq(e, "keep-alive") || name_eq(e, "upgrade") ||
           name_eq(e, "te") || name_eq(e, "trailer") || name_eq(e, "proxy-connection");
}

/* One block: the header array, then the strings. */
static void *head_block(const pw_map *m, size_t extra_headers, size_t extra_bytes, gw_header **arr,
                        char **strings)
{
    size_t bytes = extra_bytes;
    for (size_t i = 0; i < m->n; i++)
        bytes += m->e[i].key_len + m->e[i].value_len;
    size_t hsz = (m->n + extra_headers) * sizeof(gw_header);
    char *block = malloc(hsz + bytes + 1);
    if (!block)
        return NULL;
    *arr = (gw_header *)block;
    *strings = block + hsz;
    return block;
}

static gw_str put(char **cursor, const char *p, size_t n)
{
    gw_str r = {*cursor, n};
    if (n)
        memcpy(*cursor, p, n);
    *cursor += n;
    return r;
}

/* Rebuilds s->req from the plugins' request map. Returns 0, or -1 when a
 * plugin produced an invalid request (500), -2 on OOM. */
/* *old gets the previous rebuilt head's block (the caller frees it once it
 * no longer compares against the old request). */
static int apply_request_map(gw_stream *s, const pw_map *m, void **old)
{
    const pw_map_entry *method = pw_map_get(m, ":method", 7), *path = pw_map_get(m, ":path", 5),
                       *auth = pw_map_get(m, ":authority", 10);
    if (!method || !path || !valid_name(method->value, method->value_len) || !path->value_len ||
        (path->value[0] != '/' && path->value[0] != '*'))
        return -1;
    for (size_t i = 0; i < path->value_len; i++)
        if ((unsigned char)path->value[i] <= ' ' || path->value[i] == 0x7f)
            return -1;
    if (auth && !valid_value(auth->value, auth->value_len))
        return -1;
    gw_header *arr;
    char *cur;
    void *block = head_block(m, 1, 4, &arr, &cur);
    if (!block)
        return -2;
    gw_http1_head *req = &s->req;
    size_t n = 0;
    arr[n].name = put(&cur, "host", 4);
    arr[n].value = auth ? put(&cur, auth->value, auth->value_len) : (gw_str){"", 0};
    n++;
    req->method = put(&cur, method->value, method->value_len);
    req->target = put(&cur, path->value, path->value_len);
    for (size_t i = 0; i < m->n; i++) {
        const pw_map_entry *e = &m->e[i];
        if (e->key_len && e->key[0] == ':')
            continue;
        if (name_eq(e, "host") || framing_field(e))
            continue;
        if (!valid_name(e->key, e->key_len) || !valid_value(e->value, e->value_len)) {
            free(block);
            return -1;
        }
        arr[n].name = put(&cur, e->key, e->key_len);
        arr[n].value = put(&cur, e->value, e->value_len);
        n++;
    }
    *old = s->plugins.req_block;
    s->plugins.req_block = block;
    req->headers = arr;
    req->n_headers = n;
    req->host = &arr[0];
    return 0;
}

static int apply_response_map(gw_stream *s, const pw_map *m)
{
    const pw_map_entry *st = pw_map_get(m, ":status", 7);
    int status = s->resp.status;
    if (st) {
        int v = 0;
        if (st->value_len != 3)
            return -1;
        for (size_t i = 0; i < 3; i++) {
            if (st->value[i] < '0' || st->value[i] > '9')
                return -1;
            v = v * 10 + (st->value[i] - '0');
        }
        if (v < 200)
            return -1;
        status = v;
    }
    char cl[24];
    int cl_len = snprintf(cl, sizeof cl, "%llu", (unsigned long long)s->resp.content_length);
    gw_header *arr;
    char *cur;
    void *block = head_block(m, 1, 14 + (size_t)cl_len, &arr, &cur);
    if (!block)
        return -2;
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++) {
        const pw_map_entry *e = &m->e[i];
        if (e->key_len && e->key[0] == ':')
            continue;
        if (framing_field(e))
            continue;
        if (!valid_name(e->key, e->key_len) || !valid_value(e->value, e->value_len)) {
            free(block);
            return -1;
        }
        arr[n].name = put(&cur, e->key, e->key_len);
        arr[n].value = put(&cur, e->value, e->value_len);
        n++;
    }
    if (s->resp.body == GW_BODY_LENGTH) {
        arr[n].name = put(&cur, "content-length", 14);
        arr[n].value = put(&cur, cl, (size_t)cl_len);
        n++;
    }
    free(s->plugins.resp_block);
    s->plugins.resp_block = block;
    if (status != s->resp.status) {
        s->resp.status = status;
        const char *reason = gw_http1_reason(status);
        s->resp.reason = (gw_str){reason, strlen(reason)};
        s->status = status;
    }
    s->resp.headers = arr;
    s->resp.n_headers = n;
    return 0;
}

/* ---- local replies ------------------------------------------------------------------ */

#define NO_RESPONSE_PHASE ((size_t)-1)

/* The status in a map's ":status" (200..599), else dflt. */
static int map_status(const pw_map *m, int dflt)
{
    const pw_map_entry *st = m ? pw_map_get(m, ":status", 7) : NULL;
    if (!st || st->value_len != 3)
        return dflt;
    int v = 0;
    for (size_t i = 0; i < 3; i++) {
        if (st->value[i] < '0' || st->value[i] > '9')
            return dflt;
        v = v * 10 + (st->value[i] - '0');
    }
    return v >= 200 && v <= 599 ? v : dflt;
}

/* A local reply sent by plugin `from` during the request phase passes through
 * the response-header callbacks of that plugin and of the plugins before it,
 * in reverse chain order (docs/proxywasm.md: response callbacks still run for
 * the generated response; Envoy passes local replies through the encoder
 * filters, so e.g. cors adds its headers to key-auth's 401). Returns the
 * headers to send (":status" included) or NULL to send *lr as it is; *lr is
 * replaced when one of those callbacks answers with its own local reply. */
static const pw_map *local_reply_response_phase(gw_stream *s, const pw_local_reply **lr, size_t from,
                                                bool *closed)
{
    gw_stream_plugins *sp = &s->plugins;
    *closed = false;
    if (from == NO_RESPONSE_PHASE || from >= sp->n || !(*lr)->headers)
        return NULL;
    pw_map *m = pw_stream_map(sp->ps[from], PW_MAP_RESPONSE_HEADERS);
    char st[8];
    int n = snprintf(st, sizeof st, "%d", (*lr)->status >= 200 && (*lr)->status <= 599 ? (*lr)->status : 500);
    pw_map_clear(m);
    m->present = true;
    bool ok = map_add(m, ":status", st, (size_t)n);
    for (size_t i = 0; ok && i < (*lr)->headers->n; i++) {
        const pw_map_entry *e = &(*lr)->headers->e[i];
        if (!(e->key_len && e->key[0] == ':'))
            ok = pw_map_add(m, e->key, e->key_len, e->value, e->value_len);
    }
    m->dirty = false;
    if (!ok)
        return NULL;
    bool eos = (*lr)->body_len == 0;
    for (size_t k = from + 1; k-- > 0;) {
        pw_stream *ps = sp->ps[k];
        if (k < from && !copy_map(pw_stream_map(ps, PW_MAP_RESPONSE_HEADERS),
                                  pw_stream_map(sp->ps[k + 1], PW_MAP_RESPONSE_HEADERS)))
            return NULL;
        pw_action a = pw_stream_response_headers(ps, eos);
        if (a == PW_CLOSE) {
            *closed = true;
            return NULL;
        }
        if (a == PW_LOCAL_REPLY && k != from) {
            const pw_local_reply *r = pw_stream_local_reply(ps);
            if (r)
                *lr = r; /* that plugin's own reply replaces the one in flight */
            return NULL;
        }
    }
    return pw_stream_map(sp->ps[0], PW_MAP_RESPONSE_HEADERS);
}

static void send_local_reply(gw_stream *s, const pw_local_reply *lr, size_t from)
{
    gw_conn *c = s->c;
    if (!lr || s->resp_started || c->closing) {
        gw_conn_close(c);
        return;
    }
    gw_proxy_abort(s);
    if (!s->req_done && s->req.body != GW_BODY_NONE)
        c->keep_alive = false; /* the unread body is on the wire */
    bool closed;
    const pw_map *hm = local_reply_response_phase(s, &lr, from, &closed);
    if (closed) {
        s->error = "closed by plugin";
        gw_conn_close(c);
        return;
    }
    int status = lr->status >= 200 && lr->status <= 599 ? lr->status : 500;
    if (hm)
        status = map_status(hm, status);
    else
        hm = lr->headers;
    if (!s->error)
        s->error = lr->details && lr->details[0] ? lr->details : "plugin local reply";
    ut_buf *b = gw_stream_head_begin(s, status);
    bool has_type = false;
    if (hm) {
        for (size_t i = 0; i < hm->n; i++) {
            const pw_map_entry *e = &hm->e[i];
            if ((e->key_len && e->key[0] == ':') || framing_field(e) || name_eq(e, "date") ||
                !valid_name(e->key, e->key_len) || !valid_value(e->value, e->value_len))
                continue;
            if (name_eq(e, "content-type"))
                has_type = true;
            ut_buf_append(b, e->key, e->key_len);
            ut_buf_puts(b, ": ");
            ut_buf_append(b, e->value, e->value_len);
            ut_buf_puts(b, "\r\n");
        }
    }
    ut_buf_printf(b, "X-Request-Id: %s\r\n", s->request_id);
    gw_stream_head_send(s, lr->body, lr->body_len, !has_type);
}

static void fail_stream(gw_stream *s, int status, const char *why)
{
    gw_stream_respond_error(s, status, why);
}

/* ---- stream host callbacks ------------------------------------------------------------ */

static void put_i64(ut_buf *out, int64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)v >> (8 * i));
    ut_buf_append(out, b, 8);
}

static int sock_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void put_addr(ut_buf *out, const struct sockaddr_storage *ss)
{
    char ip[64] = "";
    if (ss->ss_family == AF_INET6) {
        uv_ip6_name((const struct sockaddr_in6 *)ss, ip, sizeof ip);
        ut_buf_printf(out, "[%s]:%d", ip, sock_port(ss));
    } else {
        uv_ip4_name((const struct sockaddr_in *)ss, ip, sizeof ip);
        ut_buf_printf(out, "%s:%d", ip, sock_port(ss));
    }
}

static pw_status stream_property(void *user, const char *path, ut_buf *out)
{
    gw_stream_plugins *sp = user;
    gw_stream *s = sp->s;
    gw_conn *c = s->c;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    bool src = !strcmp(path, "source.address") || !strcmp(path, "source.port");
    bool dst = !strcmp(path, "destination.address") || !strcmp(path, "destination.port");
    if (src || dst) {
        int r = src ? uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len)
                    : uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &len);
        if (r < 0)
            return PW_NOT_FOUND;
        if (!strcmp(strchr(path, '.'), ".address"))
            put_addr(out, &ss);
        else
            put_i64(out, sock_port(&ss));
        return PW_OK;
    }
    if (!strcmp(path, "route_name") || !strcmp(path, "xds.route_name")) {
        if (!s->route)
            return PW_NOT_FOUND;
        ut_buf_puts(out, s->route->name);
        return PW_OK;
    }
    if (!strcmp(path, "cluster_name") || !strcmp(path, "xds.cluster_name")) {
        if (!s->route || !s->route->cluster)
            return PW_NOT_FOUND;
        ut_buf_puts(out, s->route->cluster->name);
        return PW_OK;
    }
    if (!strcmp(path, "request.protocol")) {
        ut_buf_puts(out, s->req.minor_version ? "HTTP/1.1" : "HTTP/1.0");
        return PW_OK;
    }
    if (!strcmp(path, "request.id")) {
        ut_buf_puts(out, s->request_id);
        return PW_OK;
    }
    if (!strcmp(path, "request.time")) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        put_i64(out, (int64_t)(now - (uv_hrtime() - s->start_ns)));
        return PW_OK;
    }
    if (!strcmp(path, "response.code")) {
        if (!s->status)
            return PW_NOT_FOUND;
        put_i64(out, s->status);
        return PW_OK;
    }
    if (!strcmp(path, "connection.id")) {
        put_i64(out, (int64_t)(uintptr_t)c);
        return PW_OK;
    }
    if (!strcmp(path, "connection.mtls")) {
        ut_buf_putc(out, 0);
        return PW_OK;
    }
    if (!strcmp(path, "upstream.address")) {
        if (!s->ep)
            return PW_NOT_FOUND;
        ut_buf_puts(out, s->ep->address);
        return PW_OK;
    }
    return PW_NOT_FOUND;
}

static bool run_request(gw_stream *s, size_t from);

static void stream_wake(void *user, pw_stream *ps)
{
    gw_stream_plugins *sp = user;
    gw_stream *s = sp->s;
    pw_stream_state st = pw_stream_state_of(ps);
    if (st.closed) {
        s->error = "closed by plugin";
        gw_conn_close(s->c);
        return;
    }
    if (st.local_reply) {
        if (!s->resp_started) {
            size_t from = NO_RESPONSE_PHASE;
            for (size_t i = 0; i < sp->n; i++)
                if (sp->ps[i] == ps)
                    from = i;
            send_local_reply(s, pw_stream_local_reply(ps), from);
        }
        return;
    }
    /* a held body: the proxy pulls it out */
    if (gw_plugin_body_resumable(s, true) && ps == sp->ps[sp->hold[1].at]) {
        gw_proxy_resume_response(s);
        return;
    }
    if (gw_plugin_body_resumable(s, false) && ps == sp->ps[sp->hold[0].at]) {
        gw_proxy_on_client_data(s);
        return;
    }
    if (sp->request_paused && !st.request_paused && ps == sp->ps[sp->paused_at]) {
        sp->request_paused = false;
        if (pw_stream_map(ps, PW_MAP_REQUEST_HEADERS)->dirty)
            sp->applied = true; /* changed while paused (e.g. from a call response) */
        gw_conn_read_resume(s->c);
        if (run_request(s, sp->paused_at + 1u))
            gw_stream_run_action(s);
    }
}

/* ---- the chain ------------------------------------------------------------------------ */

/* Creates a stream context for every plugin of chain not already in the
 * stream's chain (same plugin and configuration). Returns false when the
 * stream was answered (a fail-closed plugin is down, the chain is too
 * long, or out of memory). */
static bool add_chain(gw_stream *s, const gw_plugin_chain *chain)
{
    const gw_gen *g = s->gen;
    gw_worker_plugins *wp = s->w->plugins;
    gw_stream_plugins *sp = &s->plugins;
    uint64_t now = uv_now(&s->w->loop);
    for (size_t i = 0; i < chain->n; i++) {
        const gw_plugin_ref *ref = &chain->refs[i];
        bool seen = false;
        for (size_t k = 0; k < sp->n_refs && !seen; k++)
            seen = sp->refs[k].plugin == ref->plugin && sp->refs[k].config == ref->config;
        if (seen)
            continue;
        if (sp->n_refs == GW_PLUGIN_CHAIN_MAX) {
            fail_stream(s, 500, "plugin chain longer than " GW_PLUGIN_CHAIN_MAX_TEXT);
            return false;
        }
        sp->refs[sp->n_refs++] = *ref;
        pw_slot *slot = &wp->slot[ref->plugin];
        size_t root = g->plugins.config_root[ref->config];
        pw_vm *vm = pw_slot_vm(slot, now);
        if (!vm) {
            if (pw_plugin_failure(slot->plugin, root) == PW_FAIL_OPEN)
                continue;
            /* The failure itself was logged (and counted) when it happened;
             * the slot retries after its backoff. */
            fail_stream(s, 503, "plugin unavailable");
            return false;
        }
        pw_stream *ps = pw_stream_new(vm, root, &sp->host);
        if (!ps) {
            fail_stream(s, 503, "out of memory");
            return false;
        }
        sp->ps[sp->n++] = ps;
    }
    return true;
}

static bool run_request(gw_stream *s, size_t from);

static bool finish_request(gw_stream *s, size_t last)
{
    gw_stream_plugins *sp = &s->plugins;
    const pw_map *m = pw_stream_map(sp->ps[last], PW_MAP_REQUEST_HEADERS);
    if (!sp->applied)
        return true;
    gw_str old_method = s->req.method, old_target = s->req.target;
    gw_str old_host = s->req.host ? s->req.host->value : (gw_str){"", 0};
    void *old_block = NULL;
    int r = apply_request_map(s, m, &old_block);
    bool moved = r == 0 &&
                 (old_method.len != s->req.method.len ||
                  memcmp(old_method.base, s->req.method.base, old_method.len) ||
                  old_target.len != s->req.target.len ||
                  memcmp(old_target.base, s->req.target.base, old_target.len) ||
                  old_host.len != s->req.host->value.len ||
                  memcmp(old_host.base, s->req.host->value.base, old_host.len));
    free(old_block); /* the old strings are not used past this point */
    if (r < 0) {
        fail_stream(s, r == -2 ? 503 : 500,
                    r == -2 ? "out of memory" : "a plugin produced an invalid request head");
        return false;
    }
    /* Envoy clears the route cache when a filter changes the request. */
    gw_str nh = s->req.host->value;
    if (moved) {
        const gw_route_conf *was = s->route;
        gw_stream_reroute(s);
        if (!s->route)
            return false; /* 404 sent */
        /* The new route's plugins (those not run yet) run too, so moving a
         * request to another route never skips that route's auth. Once. */
        if (s->route != was) {
            const gw_plugin_chain *nc = gw_config_plugin_chain(s->gen->cfg, s->route, nh.base, nh.len);
            size_t start = sp->n;
            if (nc && nc->n && !add_chain(s, nc))
                return false;
            if (sp->n > start) {
                if (sp->rerouted++) {
                    fail_stream(s, 500, "plugins re-routed the request twice");
                    return false;
                }
                sp->applied = false;
                return run_request(s, start);
            }
        }
    }
    return true;
}

static bool run_request(gw_stream *s, size_t from)
{
    gw_stream_plugins *sp = &s->plugins;
    bool eos = s->req.body == GW_BODY_NONE;
    for (size_t i = from; i < sp->n; i++) {
        if (i > 0 && !copy_map(pw_stream_map(sp->ps[i], PW_MAP_REQUEST_HEADERS),
                               pw_stream_map(sp->ps[i - 1], PW_MAP_REQUEST_HEADERS))) {
            fail_stream(s, 503, "out of memory");
            return false;
        }
        pw_action a = pw_stream_request_headers(sp->ps[i], eos);
        if (pw_stream_map(sp->ps[i], PW_MAP_REQUEST_HEADERS)->dirty)
            sp->applied = true;
        switch (a) {
        case PW_CONTINUE:
        case PW_BUFFER:
            continue;
        case PW_PAUSE:
            sp->request_paused = true;
            sp->paused_at = (uint8_t)i;
            gw_conn_read_pause(s->c);
            return false;
        case PW_LOCAL_REPLY:
            send_local_reply(s, pw_stream_local_reply(sp->ps[i]), i);
            return false;
        case PW_CLOSE:
            s->error = "closed by plugin";
            gw_conn_close(s->c);
            return false;
        }
    }
    return finish_request(s, sp->n - 1);
}

bool gw_plugin_request(gw_stream *s)
{
    const gw_gen *g = s->gen;
    gw_worker_plugins *wp = s->w->plugins;
    gw_str host = s->req.host ? s->req.host->value : (gw_str){"", 0};
    const gw_plugin_chain *chain = gw_config_plugin_chain(g->cfg, s->route, host.base, host.len);
    if (!chain || !chain->n)
        return true;
    if (!wp || g != s->w->gen || wp->n != g->plugins.n) {
        fail_stream(s, 503, "plugins are being reconfigured");
        return false;
    }
    gw_stream_plugins *sp = &s->plugins;
    sp->s = s;
    sp->host = (pw_stream_host){.user = sp, .property = stream_property, .wake = stream_wake};
    if (!add_chain(s, chain))
        return false;
    if (!sp->n)
        return true;
    if (!fill_request_map(s, pw_stream_map(sp->ps[0], PW_MAP_REQUEST_HEADERS))) {
        fail_stream(s, 503, "out of memory");
        return false;
    }
    return run_request(s, 0);
}

bool gw_plugin_response_headers(gw_stream *s)
{
    gw_stream_plugins *sp = &s->plugins;
    if (!sp->n)
        return true;
    bool eos = s->resp.body == GW_BODY_NONE;
    bool dirty = false;
    size_t last = sp->n - 1;
    if (!fill_response_map(s, pw_stream_map(sp->ps[last], PW_MAP_RESPONSE_HEADERS))) {
        fail_stream(s, 502, "out of memory");
        return false;
    }
    for (size_t k = sp->n; k-- > 0;) {
        pw_stream *ps = sp->ps[k];
        if (k < last && !copy_map(pw_stream_map(ps, PW_MAP_RESPONSE_HEADERS),
                                  pw_stream_map(sp->ps[k + 1], PW_MAP_RESPONSE_HEADERS))) {
            fail_stream(s, 502, "out of memory");
            return false;
        }
        pw_action a = pw_stream_response_headers(ps, eos);
        dirty |= pw_stream_map(ps, PW_MAP_RESPONSE_HEADERS)->dirty;
        if (a == PW_LOCAL_REPLY) {
            send_local_reply(s, pw_stream_local_reply(ps), NO_RESPONSE_PHASE);
            return false;
        }
        if (a == PW_CLOSE) {
            s->error = "closed by plugin";
            gw_conn_close(s->c);
            return false;
        }
        /* PW_PAUSE on response headers is not supported yet: forwarded. */
    }
    if (dirty) {
        int r = apply_response_map(s, pw_stream_map(sp->ps[0], PW_MAP_RESPONSE_HEADERS));
        if (r < 0) {
            fail_stream(s, 502, r == -2 ? "out of memory" : "a plugin produced an invalid response head");
            return false;
        }
    }
    return true;
}

bool gw_plugin_filters_body(gw_stream *s, bool response)
{
    gw_stream_plugins *sp = &s->plugins;
    if (response ? s->resp.body == GW_BODY_NONE || s->is_head : s->req.body == GW_BODY_NONE)
        return false;
    for (size_t i = 0; i < sp->n; i++)
        if (pw_stream_has_body_callback(sp->ps[i], response))
            return true;
    return false;
}

bool gw_plugin_body_resumable(const gw_stream *s, bool response)
{
    const gw_body_hold *h = &s->plugins.hold[response];
    if (!h->on)
        return false;
    pw_stream_state st = pw_stream_state_of(s->plugins.ps[h->at]);
    return !(response ? st.response_paused : st.request_paused);
}

/* What a plugin may keep buffered: the configured body limit, else 16 MiB. */
static uint64_t body_buffer_limit(const gw_stream *s)
{
    uint64_t m = s->gen->cfg->limits.max_body_bytes;
    return m ? m : (uint64_t)16 << 20;
}

/* The stream cannot go on: on the request side an answer is still
 * possible, on the response side (head sent) only a reset. */
static int body_fail(gw_stream *s, bool response, int status, const char *why)
{
    if (response) {
        s->error = why;
        gw_conn_close(s->c);
    } else {
        if (status == 413)
            s->c->keep_alive = false;
        fail_stream(s, status, why);
    }
    return 1;
}

int gw_plugin_body(gw_stream *s, bool response, const char *data, size_t len, bool eos,
                   gw_str *out)
{
    gw_stream_plugins *sp = &s->plugins;
    gw_body_hold *hold = &sp->hold[response];
    size_t n = sp->n, step = 0; /* plugins in order: request 0..n-1, response n-1..0 */
    ut_buf *in = &sp->carry;
    ut_buf_reset(in);
    if (hold->on) {
        /* resumed: the holding plugin's buffer goes on to the next one */
        ut_buf *b = pw_stream_body(sp->ps[hold->at], response);
        ut_buf_append(in, b->data, b->len);
        ut_buf_reset(b);
        step = (response ? n - 1 - hold->at : hold->at) + 1u;
        hold->on = false;
    } else {
        ut_buf_append(in, data, len);
    }
    for (; step < n; step++) {
        size_t i = response ? n - 1 - step : step;
        pw_stream *ps = sp->ps[i];
        if (!pw_stream_has_body_callback(ps, response))
            continue; /* passes through */
        ut_buf *b = pw_stream_body(ps, response);
        ut_buf_append(b, in->data, in->len);
        ut_buf_reset(in);
        if (b->oom || in->oom)
            return body_fail(s, response, 503, "out of memory");
        if (b->len > body_buffer_limit(s))
            return body_fail(s, response, 413, "body over the plugin buffer limit");
        pw_action a = response ? pw_stream_response_body(ps, eos) : pw_stream_request_body(ps, eos);
        switch (a) {
        case PW_CONTINUE:
            ut_buf_append(in, b->data, b->len);
            ut_buf_reset(b);
            continue;
        case PW_BUFFER:
        case PW_PAUSE:
            /* kept in the plugin's buffer; at the end of the body only the
             * plugin can move it on (continue_stream -> wake) */
            if (eos)
                *hold = (gw_body_hold){.on = true, .at = (uint8_t)i, .eos = true};
            *out = (gw_str){NULL, 0};
            return 0;
        case PW_LOCAL_REPLY:
            if (response)
                return body_fail(s, true, 0, "plugin replied after the response started");
            send_local_reply(s, pw_stream_local_reply(ps), i);
            return 1;
        case PW_CLOSE:
            s->error = "closed by plugin";
            gw_conn_close(s->c);
            return 1;
        }
    }
    if (in->oom)
        return body_fail(s, response, 503, "out of memory");
    *out = (gw_str){in->data, in->len}; /* stays in carry until the next call */
    return 0;
}

void gw_plugin_stream_finish(gw_stream *s)
{
    gw_stream_plugins *sp = &s->plugins;
    for (size_t i = 0; i < sp->n; i++)
        pw_stream_finish(sp->ps[i]);
    free(sp->req_block);
    free(sp->resp_block);
    ut_buf_free(&sp->carry);
    memset(sp, 0, sizeof *sp);
}
