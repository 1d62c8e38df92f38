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

/* ---- HTTP calls ------------------------------------------------------------ */

typedef struct call {
    pw_vm *vm; /* reference: the answer needs it */
    uint32_t token;
} call;

static void on_call_done(void *user, gw_callout_result result, const gw_callout_response *resp)
{
    call *c = user;
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
        pw_map_clear(&h);
        free(h.e);
    }
    pw_vm_unref(c->vm);
    free(c);
}

static pw_status host_http_call(void *user, pw_vm *vm, uint32_t token, const char *cluster,
                                size_t cluster_len, const pw_map *headers, const uint8_t *body,
                                size_t body_len, const pw_map *trailers, uint32_t timeout_ms)
{
    gw_worker *w = gw_worker_plugins_worker(user);
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
    call *c = malloc(sizeof *c);
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
    c->vm = vm;
    c->token = token;
    gw_callout_result r;
    if (gw_callout_start(w, &req, on_call_done, c, &r)) {
        pw_vm_ref(vm);
        c = NULL; /* owned by the callback now */
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

typedef struct rcall {
    pw_vm *vm;
    uint32_t token;
} rcall;

static void on_redis_done(void *user, int status, const char *reply, size_t reply_len)
{
    rcall *c = user;
    pw_vm_redis_call_done(c->vm, c->token, status, (const uint8_t *)reply, reply_len);
    pw_vm_unref(c->vm);
    free(c);
}

static pw_status host_redis_init(void *user, pw_vm *vm, const char *cluster, size_t cluster_len,
                                 const char *username, size_t username_len, const char *password,
                                 size_t password_len, uint32_t timeout_ms)
{
    gw_worker *w = gw_worker_plugins_worker(user);
    char name[256];
    cluster_name(cluster, cluster_len, name, sizeof name);
    const gw_cluster_conf *cc = name[0] ? find_cluster(w->gen->cfg, name) : NULL;
    if (!cc)
        return PW_BAD_ARGUMENT;
    const char *q = memchr(cluster, '?', cluster_len);
    char opts[256] = "";
    if (q) {
        size_t n = cluster_len - (size_t)(q + 1 - cluster);
        if (n >= sizeof opts)
            n = sizeof opts - 1;
        memcpy(opts, q + 1, n);
        opts[n] = '\0';
    }
    char *user_s = strndup(username, username_len), *pass_s = strndup(password, password_len);
    int r = -1;
    if (user_s && pass_s)
        r = gw_redis_init(w, cc->name, user_s, pass_s, opts, timeout_ms);
    free(user_s);
    free(pass_s);
    return r == 0 ? PW_OK : PW_INTERNAL_FAILURE;
}

static pw_status host_redis_call(void *user, pw_vm *vm, uint32_t token, const char *cluster,
                                 size_t cluster_len, const uint8_t *query, size_t query_len)
{
    gw_worker *w = gw_worker_plugins_worker(user);
    char name[256];
    cluster_name(cluster, cluster_len, name, sizeof name);
    const gw_cluster_conf *cc = name[0] ? find_cluster(w->gen->cfg, name) : NULL;
    if (!cc)
        return PW_BAD_ARGUMENT;
    rcall *c = malloc(sizeof *c);
    if (!c)
        return PW_INTERNAL_FAILURE;
    c->vm = vm;
    c->token = token;
    if (gw_redis_call(w, cc->name, (const char *)query, query_len, on_redis_done, c) < 0) {
        free(c);
        return PW_INTERNAL_FAILURE;
    }
    pw_vm_ref(vm);
    return PW_OK;
}

void gw_plugin_host_calls(pw_host *h)
{
    h->http_call = host_http_call;
    h->redis_init = host_redis_init;
    h->redis_call = host_redis_call;
}
