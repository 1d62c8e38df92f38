/*
 * proxy_wasm.c — the SDK's exports: ABI marker, guest allocator, every
 * proxy_on_* callback, the context registry, configuration selection and
 * async-call bookkeeping.
 *
 * Owns:     what the host calls into; dispatch to px_plugin_def.
 * Not here: hostcall wrappers (px_hostcalls.c), pure helpers.
 */
#include "proxy_wasm.h"

#include <stdlib.h>
#include <string.h>

#include "px_imports.h"

#if defined(__wasm__)
#define PX_EXPORT(name) __attribute__((export_name(#name)))
#else
#define PX_EXPORT(name) /* native builds (unit tests) call the functions directly */
#endif

/* ---- ABI marker and allocator ----------------------------------------------- */

PX_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

/* One extra zero byte after every host-written block: host data is always
 * NUL-terminated for the SDK's string helpers. */
PX_EXPORT(proxy_on_memory_allocate) void *proxy_on_memory_allocate(size_t size)
{
    char *p = malloc(size + 1);
    if (p)
        p[size] = '\0';
    return p;
}

/* ---- context registry ------------------------------------------------------------ */

#define BUCKETS 256
static px_context *table[BUCKETS];
static px_context *current;

px_context *px_context_by_id(uint32_t id)
{
    for (px_context *c = table[id % BUCKETS]; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

px_context *px_current_context(void)
{
    return current;
}

static void unlink_context(px_context *ctx)
{
    px_context **pp = &table[ctx->id % BUCKETS];
    while (*pp && *pp != ctx)
        pp = &(*pp)->next;
    if (*pp)
        *pp = ctx->next;
}

/* Sets the current context for a callback; NULL for an unknown id. */
static px_context *enter(uint32_t id)
{
    current = px_context_by_id(id);
    return current;
}

/* ---- async calls ------------------------------------------------------------------ */

typedef struct pending {
    uint32_t token;
    uint32_t origin_id;   /* context that issued the call */
    bool is_redis;
    px_http_callback http_cb;
    px_redis_callback redis_cb;
    void *arg;
    struct pending *next;
} pending;

static pending *pendings;

bool px_internal_track_call(uint32_t token, bool is_redis, px_http_callback http_cb,
                            px_redis_callback redis_cb, void *arg);
bool px_internal_track_call(uint32_t token, bool is_redis, px_http_callback http_cb,
                            px_redis_callback redis_cb, void *arg)
{
    pending *p = calloc(1, sizeof *p);
    if (!p)
        return false;
    p->token = token;
    p->origin_id = current ? current->id : 0;
    p->is_redis = is_redis;
    p->http_cb = http_cb;
    p->redis_cb = redis_cb;
    p->arg = arg;
    p->next = pendings;
    pendings = p;
    return true;
}

static pending *take_pending(uint32_t token, bool is_redis)
{
    for (pending **pp = &pendings; *pp; pp = &(*pp)->next) {
        if ((*pp)->token == token && (*pp)->is_redis == is_redis) {
            pending *p = *pp;
            *pp = p->next;
            return p;
        }
    }
    return NULL;
}

/* Switches to the issuing context; NULL when it is gone. */
static px_context *resume_origin(const pending *p)
{
    px_context *origin = p->origin_id ? px_context_by_id(p->origin_id) : NULL;
    if (origin && proxy_set_effective_context(origin->id) == PX_OK) {
        current = origin;
        return origin;
    }
    return NULL;
}

/* ---- configuration ------------------------------------------------------------ */

struct px_config_set {
    px_ruleset rules;
    int refs;
};

static struct px_config_set *config_ref(struct px_config_set *c)
{
    if (c)
        c->refs++;
    return c;
}

static void config_unref(struct px_config_set *c)
{
    if (c && --c->refs == 0) {
        px_ruleset_free(&c->rules);
        free(c);
    }
}

const char *px_config_text(const px_context *root, size_t *len)
{
    if (len)
        *len = root && root->config_text ? root->config_len : 0;
    return root && root->config_text ? root->config_text : "";
}

static const char *plugin_name(void)
{
    return px_plugin_def.name ? px_plugin_def.name : "plugin";
}

const void *px_config(px_context *ctx)
{
    if (!ctx)
        return NULL;
    if (ctx->is_root)
        return ctx->configs ? ctx->configs->rules.global : NULL;
    if (!ctx->config_selected) {
        ctx->config_selected = true;
        if (!ctx->root->configs)
            return NULL;
        ctx->configs = config_ref(ctx->root->configs);
        const px_ruleset *rs = &ctx->configs->rules;
        if (rs->count == 0) {
            ctx->config = rs->global;
        } else {
            char *route = px_get_property_str("route_name");
            char *cluster = px_get_property_str("cluster_name");
            char *host = px_get_header(PX_MAP_REQUEST_HEADERS, ":authority");
            ctx->config = px_ruleset_match(rs, route, host, cluster);
            free(route);
            free(cluster);
            free(host);
        }
    }
    return ctx->config;
}

/* true when stream callbacks should run for this stream. */
static bool active(px_context *ctx)
{
    if (!ctx)
        return false;
    if (!px_plugin_def.parse_config)
        return true;
    return px_config(ctx) != NULL;
}

/* ---- exports: lifecycle ---------------------------------------------------------- */

PX_EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t id, uint32_t parent)
{
    px_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return;
    ctx->id = id;
    if (parent == 0) {
        ctx->is_root = true;
        ctx->root = ctx;
    } else {
        ctx->root = px_context_by_id(parent);
        if (!ctx->root) {
            free(ctx);
            return;
        }
    }
    ctx->next = table[id % BUCKETS];
    table[id % BUCKETS] = ctx;
    current = ctx;
    if (!ctx->is_root && px_plugin_def.on_stream_create)
        px_plugin_def.on_stream_create(ctx);
}

PX_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t root_id, size_t vm_config_size)
{
    (void)vm_config_size;
    px_context *root = enter(root_id);
    if (!root || !px_plugin_def.on_vm_start)
        return 1;
    return px_plugin_def.on_vm_start(root);
}

PX_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t root_id, size_t config_size)
{
    px_context *root = enter(root_id);
    if (!root)
        return 0;
    px_bytes text = {0};
    if (config_size > 0 &&
        px_get_buffer(PX_BUFFER_PLUGIN_CONFIGURATION, 0, config_size, &text) != PX_OK) {
        px_error("%s: cannot read the plugin configuration", plugin_name());
        return 0;
    }
    if (px_plugin_def.parse_config) {
        struct px_config_set *set = calloc(1, sizeof *set);
        char err[256];
        if (!set || !px_ruleset_parse(&set->rules, text.data ? text.data : "", text.len,
                                      px_plugin_def.parse_config, px_plugin_def.free_config,
                                      err, sizeof err)) {
            px_error("%s: bad configuration: %s", plugin_name(), set ? err : "out of memory");
            free(set);
            px_bytes_free(&text);
            return 0;
        }
        set->refs = 1;
        config_unref(root->configs);
        root->configs = set;
    }
    free(root->config_text);
    root->config_text = text.data;
    root->config_len = text.len;
    if (px_plugin_def.on_configure)
        return px_plugin_def.on_configure(root);
    return 1;
}

PX_EXPORT(proxy_on_tick) void proxy_on_tick(uint32_t root_id)
{
    px_context *root = enter(root_id);
    if (root && px_plugin_def.on_tick)
        px_plugin_def.on_tick(root);
}

PX_EXPORT(proxy_on_queue_ready) void proxy_on_queue_ready(uint32_t root_id, uint32_t queue_id)
{
    px_context *root = enter(root_id);
    if (root && px_plugin_def.on_queue_ready)
        px_plugin_def.on_queue_ready(root, queue_id);
}

PX_EXPORT(proxy_on_done) uint32_t proxy_on_done(uint32_t id)
{
    px_context *ctx = enter(id);
    if (ctx && ctx->is_root && px_plugin_def.on_root_done)
        return px_plugin_def.on_root_done(ctx);
    return 1;
}

PX_EXPORT(proxy_on_log) void proxy_on_log(uint32_t id)
{
    px_context *ctx = enter(id);
    if (ctx && !ctx->is_root && px_plugin_def.on_log && active(ctx))
        px_plugin_def.on_log(ctx);
}

PX_EXPORT(proxy_on_delete) void proxy_on_delete(uint32_t id)
{
    px_context *ctx = enter(id);
    if (!ctx)
        return;
    if (px_plugin_def.on_delete)
        px_plugin_def.on_delete(ctx);
    unlink_context(ctx);
    config_unref(ctx->configs);
    if (ctx->is_root)
        free(ctx->config_text);
    free(ctx);
    current = NULL;
}

/* ---- exports: HTTP stream ------------------------------------------------------- */

PX_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t id, uint32_t num_headers, uint32_t end_of_stream)
{
    px_context *ctx = enter(id);
    if (!px_plugin_def.on_request_headers || !active(ctx))
        return PX_HEADERS_CONTINUE;
    return px_plugin_def.on_request_headers(ctx, num_headers, end_of_stream != 0);
}

PX_EXPORT(proxy_on_request_body)
uint32_t proxy_on_request_body(uint32_t id, size_t body_size, uint32_t end_of_stream)
{
    px_context *ctx = enter(id);
    if (!px_plugin_def.on_request_body || !active(ctx))
        return PX_DATA_CONTINUE;
    return px_plugin_def.on_request_body(ctx, body_size, end_of_stream != 0);
}

PX_EXPORT(proxy_on_request_trailers)
uint32_t proxy_on_request_trailers(uint32_t id, uint32_t num_trailers)
{
    px_context *ctx = enter(id);
    if (!px_plugin_def.on_request_trailers || !active(ctx))
        return PX_TRAILERS_CONTINUE;
    return px_plugin_def.on_request_trailers(ctx, num_trailers);
}

PX_EXPORT(proxy_on_response_headers)
uint32_t proxy_on_response_headers(uint32_t id, uint32_t num_headers, uint32_t end_of_stream)
{
    px_context *ctx = enter(id);
    if (!px_plugin_def.on_response_headers || !active(ctx))
        return PX_HEADERS_CONTINUE;
    return px_plugin_def.on_response_headers(ctx, num_headers, end_of_stream != 0);
}

PX_EXPORT(proxy_on_response_body)
uint32_t proxy_on_response_body(uint32_t id, size_t body_size, uint32_t end_of_stream)
{
    px_context *ctx = enter(id);
    if (!px_plugin_def.on_response_body || !active(ctx))
        return PX_DATA_CONTINUE;
    return px_plugin_def.on_response_body(ctx, body_size, end_of_stream != 0);
}

PX_EXPORT(proxy_on_response_trailers)
uint32_t proxy_on_response_trailers(uint32_t id, uint32_t num_trailers)
{
    px_context *ctx = enter(id);
    if (!px_plugin_def.on_response_trailers || !active(ctx))
        return PX_TRAILERS_CONTINUE;
    return px_plugin_def.on_response_trailers(ctx, num_trailers);
}

/* ---- exports: TCP stream and foreign functions ----------------------------------- */

PX_EXPORT(proxy_on_new_connection) uint32_t proxy_on_new_connection(uint32_t id)
{
    px_context *ctx = enter(id);
    if (!px_plugin_def.on_new_connection || !active(ctx))
        return 0;
    return px_plugin_def.on_new_connection(ctx);
}

PX_EXPORT(proxy_on_downstream_data)
uint32_t proxy_on_downstream_data(uint32_t id, size_t size, uint32_t end_of_stream)
{
    px_context *ctx = enter(id);
    if (!px_plugin_def.on_downstream_data || !active(ctx))
        return 0;
    return px_plugin_def.on_downstream_data(ctx, size, end_of_stream != 0);
}

PX_EXPORT(proxy_on_upstream_data)
uint32_t proxy_on_upstream_data(uint32_t id, size_t size, uint32_t end_of_stream)
{
    px_context *ctx = enter(id);
    if (!px_plugin_def.on_upstream_data || !active(ctx))
        return 0;
    return px_plugin_def.on_upstream_data(ctx, size, end_of_stream != 0);
}

PX_EXPORT(proxy_on_downstream_connection_close)
void proxy_on_downstream_connection_close(uint32_t id, uint32_t peer_type)
{
    px_context *ctx = enter(id);
    if (px_plugin_def.on_downstream_close && active(ctx))
        px_plugin_def.on_downstream_close(ctx, peer_type);
}

PX_EXPORT(proxy_on_upstream_connection_close)
void proxy_on_upstream_connection_close(uint32_t id, uint32_t peer_type)
{
    px_context *ctx = enter(id);
    if (px_plugin_def.on_upstream_close && active(ctx))
        px_plugin_def.on_upstream_close(ctx, peer_type);
}

PX_EXPORT(proxy_on_foreign_function)
void proxy_on_foreign_function(uint32_t id, uint32_t function_id, size_t args_size)
{
    px_context *ctx = enter(id);
    if (ctx && px_plugin_def.on_foreign_function)
        px_plugin_def.on_foreign_function(ctx, function_id, args_size);
}

/* ---- exports: async completions ------------------------------------------------- */

PX_EXPORT(proxy_on_http_call_response)
void proxy_on_http_call_response(uint32_t root_id, uint32_t token, uint32_t num_headers,
                                 size_t body_size, uint32_t num_trailers)
{
    enter(root_id);
    pending *p = take_pending(token, false);
    if (!p)
        return;
    px_context *origin = resume_origin(p);
    if (p->http_cb)
        p->http_cb(origin, num_headers, body_size, num_trailers, p->arg);
    free(p);
}

PX_EXPORT(proxy_on_redis_call_response)
void proxy_on_redis_call_response(uint32_t root_id, uint32_t token, uint32_t status,
                                  size_t response_size)
{
    enter(root_id);
    pending *p = take_pending(token, true);
    if (!p)
        return;
    px_context *origin = resume_origin(p);
    if (p->redis_cb)
        p->redis_cb(origin, (int)status, response_size, p->arg);
    free(p);
}
