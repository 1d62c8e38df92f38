/*
 * rate-limit.c — proxy-wasm plugin: fixed-window request limits per key
 * (a header, the client IP, the authenticated consumer, or one global
 * bucket). "local" mode counts in the host's shared data with
 * compare-and-swap retries (one count per gateway process); "global" mode
 * counts in Redis with INCR + EXPIRE through Higress' proxy_redis_call
 * (shared by every replica) and fails open when Redis is unavailable.
 *
 * Owns:     key derivation, both counters, 429 replies, X-RateLimit-*.
 * Not here: sliding windows, token buckets, quotas per consumer group.
 */
#include "proxy_wasm.h"

typedef enum { KEY_GLOBAL, KEY_HEADER, KEY_IP, KEY_CONSUMER } key_type;

typedef struct {
    bool global_mode;
    key_type key;
    char *key_name;
    int64_t limit, window;
    uint32_t rejected_code;
    char *rejected_message;
    bool show_headers;
    char *prefix;          /* includes a fingerprint of the limit settings */
    char *redis_cluster;
    uint32_t redis_timeout_ms;
} config;

typedef struct {
    bool decided;          /* limit info below is valid */
    int64_t limit, remaining, reset;
    char *redis_key;
} stream;

static void config_free(void *p)
{
    config *c = p;
    free(c->key_name);
    free(c->rejected_message);
    free(c->prefix);
    free(c->redis_cluster);
    free(c);
}

static void *config_parse(const px_json *obj, char *err, size_t err_len)
{
    config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    const char *mode = px_json_get_str(obj, "mode", "local");
    if (strcmp(mode, "local") && strcmp(mode, "global")) {
        snprintf(err, err_len, "mode must be \"local\" or \"global\"");
        goto bad;
    }
    c->global_mode = strcmp(mode, "global") == 0;
    const px_json *key = px_json_get(obj, "key");
    const char *type = px_json_get_str(key, "type", "ip");
    c->key_name = strdup(px_json_get_str(key, "name", ""));
    if (!strcmp(type, "global"))
        c->key = KEY_GLOBAL;
    else if (!strcmp(type, "header"))
        c->key = KEY_HEADER;
    else if (!strcmp(type, "ip"))
        c->key = KEY_IP;
    else if (!strcmp(type, "consumer"))
        c->key = KEY_CONSUMER;
    else {
        snprintf(err, err_len, "key.type must be global, header, ip or consumer");
        goto bad;
    }
    if (c->key == KEY_HEADER && !c->key_name[0]) {
        snprintf(err, err_len, "key.name (the header) is required for key.type header");
        goto bad;
    }
    if (c->key == KEY_CONSUMER && !c->key_name[0]) {
        free(c->key_name);
        c->key_name = strdup("x-mse-consumer");
    }
    c->limit = (int64_t)px_json_get_num(obj, "limit", -1);
    c->window = (int64_t)px_json_get_num(obj, "window_seconds", 60);
    if (c->limit < 0 || c->window <= 0) {
        snprintf(err, err_len, "limit (>= 0) and window_seconds (> 0) are required");
        goto bad;
    }
    c->rejected_code = (uint32_t)px_json_get_num(obj, "rejected_code", 429);
    c->rejected_message = strdup(px_json_get_str(obj, "rejected_message", "Too Many Requests\n"));
    c->show_headers = px_json_get_bool(obj, "show_headers", true);
    /* Counters are shared by every config with the same prefix and settings. */
    char desc[512];
    snprintf(desc, sizeof desc, "%s|%lld|%lld|%d|%s", mode, (long long)c->limit,
             (long long)c->window, (int)c->key, c->key_name);
    uint8_t h[PX_SHA256_LEN];
    char hex[2 * PX_SHA256_LEN + 1];
    px_sha256(desc, strlen(desc), h);
    px_hex(h, 4, hex);
    const char *prefix = px_json_get_str(obj, "key_prefix", "sluice-rl");
    c->prefix = malloc(strlen(prefix) + 16);
    if (!c->prefix)
        goto bad;
    sprintf(c->prefix, "%s:%s", prefix, hex);
    if (c->global_mode) {
        const px_json *redis = px_json_get(obj, "redis");
        const char *cluster = px_json_get_str(redis, "cluster", NULL);
        if (!cluster || !cluster[0]) {
            snprintf(err, err_len, "global mode needs redis.cluster");
            goto bad;
        }
        c->redis_cluster = strdup(cluster);
        c->redis_timeout_ms = (uint32_t)px_json_get_num(redis, "timeout_ms", 1000);
        px_status s = px_redis_init(cluster, px_json_get_str(redis, "username", ""),
                                    px_json_get_str(redis, "password", ""),
                                    c->redis_timeout_ms);
        if (s != PX_OK) /* not fatal: requests fail open until Redis works */
            px_warn("rate-limit: redis_init(%s) returned %d", cluster, (int)s);
    }
    return c;
bad:
    config_free(c);
    return NULL;
}

/* The client key for this request, malloc'd; NULL = do not limit. */
static char *client_key(const config *c)
{
    switch (c->key) {
    case KEY_GLOBAL:
        return strdup("*");
    case KEY_HEADER:
    case KEY_CONSUMER: {
        char *v = px_get_request_header(c->key_name);
        if (v && !v[0]) {
            free(v);
            v = NULL;
        }
        return v;
    }
    case KEY_IP: {
        px_bytes b;
        if (px_get_property(&b, "source", "address", NULL) == PX_OK && b.data) {
            char *ip = px_host_strip_port(b.data);
            px_bytes_free(&b);
            return ip;
        }
        px_bytes_free(&b);
        char *xff = px_get_request_header("x-forwarded-for");
        if (xff) {
            xff[strcspn(xff, ", ")] = '\0';
            return xff;
        }
        return strdup("unknown");
    }
    }
    return NULL;
}

static stream *stream_of(px_context *ctx)
{
    if (!ctx->data)
        ctx->data = calloc(1, sizeof(stream));
    return ctx->data;
}

static void reject(const config *c, const stream *s)
{
    char limit[24], reset[24];
    snprintf(limit, sizeof limit, "%lld", (long long)s->limit);
    snprintf(reset, sizeof reset, "%lld", (long long)s->reset);
    if (c->show_headers)
        px_reply(c->rejected_code, c->rejected_message, "x-ratelimit-limit", limit,
                 "x-ratelimit-remaining", "0", "x-ratelimit-reset", reset, "retry-after", reset,
                 NULL);
    else
        px_reply(c->rejected_code, c->rejected_message, "retry-after", reset, NULL);
}

/* ---- local: shared data "window count" with CAS ---------------------------------- */

static px_headers_action limit_local(const config *c, stream *s, const char *key)
{
    int64_t now = px_now_seconds(), window = now / c->window;
    char skey[512];
    snprintf(skey, sizeof skey, "%s:%s", c->prefix, key);
    s->limit = c->limit;
    s->reset = (window + 1) * c->window - now;
    for (int attempt = 0; attempt < 16; attempt++) {
        px_bytes v;
        uint32_t cas = 0;
        long long stored_window = -1, count = 0;
        px_status st = px_get_shared_data(skey, &v, &cas);
        if (st == PX_OK && v.data)
            sscanf(v.data, "%lld %lld", &stored_window, &count);
        else if (st != PX_NOT_FOUND && st != PX_OK) {
            px_bytes_free(&v);
            return PX_HEADERS_CONTINUE; /* fail open */
        }
        px_bytes_free(&v);
        if (stored_window != window)
            count = 0;
        if (count >= c->limit) {
            s->decided = true;
            s->remaining = 0;
            reject(c, s);
            return PX_HEADERS_STOP_ALL_AND_WATERMARK;
        }
        char nv[48];
        snprintf(nv, sizeof nv, "%lld %lld", (long long)window, count + 1);
        st = px_set_shared_data(skey, nv, strlen(nv), cas);
        if (st == PX_OK) {
            s->decided = true;
            s->remaining = c->limit - (count + 1);
            return PX_HEADERS_CONTINUE;
        }
        if (st != PX_CAS_MISMATCH)
            break;
    }
    px_warn("rate-limit: shared data contention on %s; allowing", skey);
    return PX_HEADERS_CONTINUE;
}

/* ---- global: Redis INCR (+ EXPIRE on the first hit of a window) ------------------- */

static void on_expire_reply(px_context *ctx, int status, size_t size, void *arg)
{
    (void)ctx;
    (void)size;
    (void)arg;
    if (status != 0)
        px_warn("rate-limit: redis EXPIRE failed (status %d)", status);
}

static void on_incr_reply(px_context *ctx, int status, size_t size, void *arg)
{
    (void)arg;
    if (!ctx)
        return; /* the request is gone */
    const config *c = px_config(ctx);
    stream *s = ctx->data;
    if (!c || !s) {
        px_continue_stream(PX_STREAM_REQUEST);
        return;
    }
    long long count = -1;
    if (status == 0) {
        px_bytes b;
        px_resp r;
        if (px_get_buffer(PX_BUFFER_REDIS_CALL_RESPONSE, 0, size, &b) == PX_OK && b.data &&
            px_resp_parse(b.data, b.len, &r) > 0) {
            if (r.type == PX_RESP_INTEGER)
                count = r.integer;
            else if (r.type == PX_RESP_ERROR)
                px_warn("rate-limit: redis error: %.*s", (int)r.len, r.str);
            px_resp_free(&r);
        }
        px_bytes_free(&b);
    } else {
        px_warn("rate-limit: redis call failed (status %d); allowing", status);
    }
    if (count < 0) { /* fail open */
        px_continue_stream(PX_STREAM_REQUEST);
        return;
    }
    if (count == 1) {
        char ttl[24];
        snprintf(ttl, sizeof ttl, "%lld", (long long)c->window + 1);
        const char *argv[] = {"EXPIRE", s->redis_key, ttl};
        size_t ql;
        char *q = px_resp_command(&ql, 3, argv);
        if (q)
            px_redis_call(c->redis_cluster, q, ql, on_expire_reply, NULL);
        free(q);
    }
    s->decided = true;
    if (count > c->limit) {
        s->remaining = 0;
        reject(c, s);
        return;
    }
    s->remaining = c->limit - count;
    px_continue_stream(PX_STREAM_REQUEST);
}

static px_headers_action limit_global(const config *c, stream *s, const char *key)
{
    int64_t now = px_now_seconds(), window = now / c->window;
    char rkey[600];
    snprintf(rkey, sizeof rkey, "%s:%s:%lld", c->prefix, key, (long long)window);
    s->limit = c->limit;
    s->reset = (window + 1) * c->window - now;
    free(s->redis_key);
    s->redis_key = strdup(rkey);
    const char *argv[] = {"INCR", rkey};
    size_t ql;
    char *q = px_resp_command(&ql, 2, argv);
    px_status st = q ? px_redis_call(c->redis_cluster, q, ql, on_incr_reply, NULL)
                     : PX_INTERNAL_FAILURE;
    free(q);
    if (st != PX_OK) {
        px_warn("rate-limit: redis_call returned %d; allowing", (int)st);
        return PX_HEADERS_CONTINUE;
    }
    return PX_HEADERS_STOP_ALL_AND_WATERMARK; /* resumed by on_incr_reply */
}

static px_headers_action on_request_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    char *key = client_key(c);
    if (!key)
        return PX_HEADERS_CONTINUE;
    stream *s = stream_of(ctx);
    px_headers_action a = PX_HEADERS_CONTINUE;
    if (s)
        a = c->global_mode ? limit_global(c, s, key) : limit_local(c, s, key);
    free(key);
    return a;
}

static px_headers_action on_response_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    const stream *s = ctx->data;
    if (!s || !s->decided || !c->show_headers)
        return PX_HEADERS_CONTINUE;
    char v[24];
    snprintf(v, sizeof v, "%lld", (long long)s->limit);
    px_replace_header(PX_MAP_RESPONSE_HEADERS, "x-ratelimit-limit", v);
    snprintf(v, sizeof v, "%lld", (long long)s->remaining);
    px_replace_header(PX_MAP_RESPONSE_HEADERS, "x-ratelimit-remaining", v);
    snprintf(v, sizeof v, "%lld", (long long)s->reset);
    px_replace_header(PX_MAP_RESPONSE_HEADERS, "x-ratelimit-reset", v);
    return PX_HEADERS_CONTINUE;
}

static void on_delete(px_context *ctx)
{
    if (ctx->root != ctx && ctx->data) {
        stream *s = ctx->data;
        free(s->redis_key);
        free(s);
    }
    ctx->data = NULL;
}

const px_plugin px_plugin_def = {
    .name = "rate-limit",
    .parse_config = config_parse,
    .free_config = config_free,
    .on_request_headers = on_request_headers,
    .on_response_headers = on_response_headers,
    .on_delete = on_delete,
};
