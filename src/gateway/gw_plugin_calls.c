/*
 * gw_plugin_calls.c — the outbound calls plugins make: proxy_http_call
 * served by gw_callout (to a cluster of the worker's generation) and
 * Higress' proxy_redis_init / proxy_redis_call served by gw_redis.
 *
 * Owns:      translating between pw maps/tokens and the callout and Redis
 *            clients, keeping the calling VM alive until its answer comes.
 * Not here:  HTTP and RESP on the wire (gw_callout.c, gw_redis.c), tokens
 *            and delivering answers into the guest (src/proxywasm).
 *
 * Cluster names: plugins written for Istio/Higress name clusters like
 * "outbound|80||users.default.svc.cluster.local". A name that is not a
 * cluster of ours is tried again as its last '|' field, so the same
 * plugin config works with a cluster called users.default.svc.cluster.local.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_callout.h"
#include "gw_plugin.h"
#include "gw_redis.h"
#include "gw_worker.h"

/* Copies a cluster name to a C string; "" when it does not fit. */
static void cluster_name(const char *p, size_t n, char *out, size_t cap)
{
    const char *q = memchr(p, '?', n); /* Higress appends ?options to redis names */
    if (q)
        n = (size_t)(q - p);
    if (n >= cap)
        n = 0;
    memcpy(out, p, n);
    out[n] = '\0';
}

static const gw_cluster_conf *find_cluster(const gw_config *cfg, char *name)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cfg->n_clusters; i++)
            if (!strcmp(cfg->clusters[i].name, name))
                return &cfg->clusters[i];
        char *bar = strrchr(name, '|');
        if (!bar)
            return NULL;
        memmove(name, bar + 1, strlen(bar + 1) + 1);
    }
    return NULL;
}

/* ---- the worker's call state -------------------------------------------------- */

/* One outstanding call (HTTP or Redis), holding the VM that gets the answer. */
typedef struct call {
    pw_vm *vm; /* reference */
    uint32_t token;
    gw_callout *http;
    gw_redis_call *redis;
    struct gw_plugin_calls *owner;
    struct call *prev, *next;
} call;

/* Redis clients are per (plugin, root configuration, cluster): plugins sharing a
 * worker do not share credentials or databases, and two configurations of one
 * plugin naming "redis?db=1" and "redis?db=2" get two clients, although their
 * proxy_redis_call names only "redis" (Higress passes the ?options to init only). */
typedef struct redis_client {
    char *plugin;
    size_t root;
    char *cluster;
    gw_redis *r;
    bool retired; /* replaced by a re-init with other settings; kept for its calls */
    struct redis_client *next;
} redis_client;

struct gw_plugin_calls {
    gw_worker *w;
    call *calls; /* outstanding */
    redis_client *redis;
};

gw_plugin_calls *gw_plugin_calls_new(gw_worker *w)
{
    gw_plugin_calls *pc = calloc(1, sizeof *pc);
    if (pc)
        pc->w = w;
    return pc;
}

static call *call_new(gw_plugin_calls *pc, pw_vm *vm, uint32_t token)
{
    call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->vm = vm;
    c->token = token;
    c->owner = pc;
    return c;
}

static void call_link(call *c)
{
    gw_plugin_calls *pc = c->owner;
    pw_vm_ref(c->vm);
    c->next = pc->calls;
    if (pc->calls)
        pc->calls->prev = c;
    pc->calls = c;
}

static void call_free(call *c)
{
    gw_plugin_calls *pc = c->owner;
    if (c->prev)
        c->prev->next = c->next;
    else if (pc->calls == c)
        pc->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pw_vm_unref(c->vm);
    free(c);
}

/* Worker exit: cancels what is outstanding (no answers), frees clients. */
void gw_plugin_calls_free(gw_plugin_calls *pc)
{
    if (!pc)
        return;
    while (pc->calls) {
        call *c = pc->calls;
        if (c->http)
            gw_callout_cancel(c->http);
        if (c->redis)
            gw_redis_cancel(c->redis);
        call_free(c);
    }
    for (redis_client *rc = pc->redis, *next; rc; rc = next) {
        next = rc->next;
        gw_redis_free(rc->r);
        free(rc->plugin);
        free(rc->cluster);
        free(rc);
    }
    free(pc);
}

/* ---- HTTP calls ------------------------------------------------------------ */

static void on_call_done(void *user, gw_callout_result result, const gw_callout_response *resp)
{
    call *c = user;
    c->http = NULL;
    if (result != GW_CALLOUT_OK || !resp) {
        pw_vm_http_call_done(c->vm, c->token, 1, NULL, NULL, 0, NULL);
    } else {
        pw_map h = {0}, t = {0};
        char st[8];
        int n = snprintf(st, sizeof st, "%d", resp->status);
        h.present = true;
        bool ok = pw_map_add(&h, ":status", 7, st, (size_t)n);
        for (size_t i = 0; ok && i < resp->n_headers; i++)
            ok = pw_map_add(&h, resp->headers[i].name.base, resp->headers[i].name.len,
                            resp->headers[i].value.base, resp->headers[i].value.len);
        if (ok)
            pw_vm_http_call_done(c->vm, c->token, 0, &h, (const uint8_t *)resp->body,
                                 resp->body_len, &t);
        else
            pw_vm_http_call_done(c->vm, c->token, 1, NULL, NULL, 0, NULL);
        pw_map_free(&h);
    }
    call_free(c);
}

static pw_status host_http_call(void *user, pw_vm *vm, uint32_t token, const char *cluster,
                                size_t cluster_len, const pw_map *headers, const uint8_t *body,
                                size_t body_len, const pw_map *trailers, uint32_t timeout_ms)
{
    gw_plugin_calls *pc = gw_worker_plugins_calls(user);
    if (!pc)
        return PW_INTERNAL_FAILURE; /* the worker is shutting down */
    gw_worker *w = pc->w;
    char name[256];
    cluster_name(cluster, cluster_len, name, sizeof name);
    if (!name[0] || !find_cluster(w->gen->cfg, name))
        return PW_BAD_ARGUMENT;
    const pw_map_entry *m = pw_map_get(headers, ":method", 7), *p = pw_map_get(headers, ":path", 5),
                       *a = pw_map_get(headers, ":authority", 10);
    if (!m || !p || !a || !m->value_len || !p->value_len)
        return PW_BAD_ARGUMENT;
    char *method = strndup(m->value, m->value_len), *path = strndup(p->value, p->value_len),
         *auth = strndup(a->value, a->value_len);
    gw_header *extra = calloc(headers->n + 1, sizeof *extra);
    call *c = call_new(pc, vm, token);
    pw_status st = PW_INTERNAL_FAILURE;
    if (!method || !path || !auth || !extra || !c)
        goto out;
    size_t n = 0;
    for (size_t i = 0; i < headers->n; i++) {
        const pw_map_entry *e = &headers->e[i];
        if (e->key_len && e->key[0] == ':')
            continue;
        extra[n].name = (gw_str){e->key, e->key_len};
        extra[n].value = (gw_str){e->value, e->value_len};
        n++;
    }
    gw_callout_request req = {
        .cluster = name,
        .method = method,
        .path = path,
        .authority = auth,
        .headers = extra,
        .n_headers = n,
        .body = body,
        .body_len = body_len,
        .timeout_ms = timeout_ms,
    };
    gw_callout_result r;
    c->http = gw_callout_start(w, &req, on_call_done, c, &r);
    if (c->http) {
        call_link(c);
        c = NULL; /* answered through on_call_done */
        st = PW_OK;
    } else {
        st = r == GW_CALLOUT_NO_CLUSTER ? PW_BAD_ARGUMENT : PW_INTERNAL_FAILURE;
    }
out:
    (void)trailers; /* HTTP/1.1 callouts send no trailers */
    free(method);
    free(path);
    free(auth);
    free(extra);
    free(c);
    return st;
}

/* ---- Redis --------------------------------------------------------------------- */

/* any_root: also the newest client another root of the plugin initialized. */
static redis_client *find_redis(gw_plugin_calls *pc, const char *plugin, size_t root,
                                const char *cluster, bool any_root)
{
    for (redis_client *rc = pc->redis; rc; rc = rc->next)
        if (!rc->retired && !strcmp(rc->plugin, plugin) && !strcmp(rc->cluster, cluster) &&
            rc->root == root)
            return rc;
    if (any_root)
        for (redis_client *rc = pc->redis; rc; rc = rc->next)
            if (!rc->retired && !strcmp(rc->plugin, plugin) && !strcmp(rc->cluster, cluster))
                return rc;
    return NULL;
}

static const char *vm_plugin_name(const pw_vm *vm)
{
    const pw_plugin *p = vm ? pw_vm_plugin(vm) : NULL;
    const char *n = p ? pw_plugin_name(p) : NULL;
    return n ? n : "";
}

static void on_redis_done(void *user, gw_redis_result result, const char *reply, size_t len)
{
    call *c = user;
    c->redis = NULL;
    pw_vm_redis_call_done(c->vm, c->token, result == GW_REDIS_OK ? 0 : (int)result,
                          (const uint8_t *)reply, result == GW_REDIS_OK ? len : 0);
    call_free(c);
}

static pw_status host_redis_init(void *user, pw_vm *vm, const char *cluster, size_t cluster_len,
                                 const char *username, size_t username_len, const char *password,
                                 size_t password_len, uint32_t timeout_ms)
{
    gw_plugin_calls *pc = gw_worker_plugins_calls(user);
    if (!pc)
        return PW_INTERNAL_FAILURE; /* the worker is shutting down */
    char name[256];
    uint32_t db = 0;
    if (gw_redis_parse_upstream(cluster, cluster_len, name, sizeof name, &db) < 0)
        return PW_BAD_ARGUMENT;
    const gw_cluster_conf *cc = name[0] ? find_cluster(pc->w->gen->cfg, name) : NULL;
    if (!cc)
        return PW_BAD_ARGUMENT;
    char *user_s = strndup(username, username_len), *pass_s = strndup(password, password_len);
    pw_status st = PW_INTERNAL_FAILURE;
    if (!user_s || !pass_s)
        goto out;
    gw_redis_options o = {.username = user_s, .password = pass_s, .db = db, .timeout_ms = timeout_ms};
    const char *plugin = vm_plugin_name(vm);
    size_t root = pw_vm_current_root(vm);
    redis_client *rc = find_redis(pc, plugin, root, cc->name, false);
    if (rc && gw_redis_same(rc->r, cc, &o)) {
        st = PW_OK; /* same settings: keep the connection */
        goto out;
    }
    redis_client *n = calloc(1, sizeof *n);
    if (!n || !(n->plugin = strdup(plugin)) || !(n->cluster = strdup(cc->name)) ||
        !(n->r = gw_redis_new(&pc->w->loop, cc, &o))) {
        if (n) {
            free(n->plugin);
            free(n->cluster);
        }
        free(n);
        goto out;
    }
    n->root = root;
    if (rc)
        rc->retired = true; /* its outstanding calls still finish */
    n->next = pc->redis;
    pc->redis = n;
    st = PW_OK;
out:
    free(user_s);
    free(pass_s);
    return st;
}

static pw_status host_redis_call(void *user, pw_vm *vm, uint32_t token, const char *cluster,
                                 size_t cluster_len, const uint8_t *query, size_t query_len)
{
    gw_plugin_calls *pc = gw_worker_plugins_calls(user);
    if (!pc)
        return PW_INTERNAL_FAILURE; /* the worker is shutting down */
    char name[256];
    uint32_t db = 0;
    if (gw_redis_parse_upstream(cluster, cluster_len, name, sizeof name, &db) < 0)
        return PW_BAD_ARGUMENT;
    const gw_cluster_conf *cc = name[0] ? find_cluster(pc->w->gen->cfg, name) : NULL;
    redis_client *rc =
        cc ? find_redis(pc, vm_plugin_name(vm), pw_vm_current_root(vm), cc->name, true) : NULL;
    if (!rc)
        return PW_BAD_ARGUMENT; /* unknown cluster, or proxy_redis_init was not called */
    call *c = call_new(pc, vm, token);
    if (!c)
        return PW_INTERNAL_FAILURE;
    c->redis = gw_redis_call_raw(rc->r, query, query_len, 0, on_redis_done, c);
    if (!c->redis) {
        free(c);
        return PW_INTERNAL_FAILURE;
    }
    call_link(c);
    return PW_OK;
}

void gw_plugin_host_calls(pw_host *h)
{
    h->http_call = host_http_call;
    h->redis_init = host_redis_init;
    h->redis_call = host_redis_call;
}
