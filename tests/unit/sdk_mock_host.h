/*
 * sdk_mock_host.h — a native stand-in for the proxy-wasm host, so the C
 * guest SDK (sdk/c) and the plugins (plugins/<name>) can be unit-tested
 * without a VM: the SDK's env.proxy_* imports become plain C functions
 * here, and tests drive the SDK's proxy_on_* exports directly.
 *
 * Owns:     header maps, properties, body, plugin configuration, local
 *           replies, shared data with CAS, Redis call capture, clock.
 * Not here: ABI-exact memory checks (the real host, src/proxywasm).
 * Include once per test program, after the SDK sources and the plugin.
 */
#ifndef SDK_MOCK_HOST_H
#define SDK_MOCK_HOST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOCK_MAX_SHARED 64

static struct {
    px_pairs req, resp, props;
    char *config;
    char body[4096];
    size_t body_len;
    /* the last local reply */
    uint32_t reply_status;
    char reply_body[1024];
    px_pairs reply_headers;
    int continued;
    uint64_t now_ns;
    struct { char *key; char *val; size_t len; uint32_t cas; } shared[MOCK_MAX_SHARED];
    size_t n_shared;
    uint32_t next_cas;
    int cas_conflicts; /* make the next N CAS sets fail */
    char redis_query[512];
    size_t redis_query_len;
    uint32_t redis_token;
    int redis_calls;
    char redis_reply[128];
    char last_log[1100];
    uint32_t next_ctx;
    int request_has_body; /* next mock_request: end_of_stream = 0 */
} mock;

static __attribute__((unused)) char *mock_copy_out(const char *data, size_t len, char **ret, size_t *ret_len)
{
    if (len == 0) {
        *ret = NULL;
        *ret_len = 0;
        return NULL;
    }
    char *p = proxy_on_memory_allocate(len);
    memcpy(p, data, len);
    *ret = p;
    *ret_len = len;
    return p;
}

static __attribute__((unused)) px_pairs *mock_map(uint32_t map)
{
    return map == 0 ? &mock.req : map == 2 ? &mock.resp : NULL;
}

static __attribute__((unused)) void mock_map_remove(px_pairs *m, const char *key, size_t kl)
{
    size_t w = 0;
    for (size_t i = 0; i < m->count; i++) {
        if (m->items[i].key_len == kl && strncasecmp(m->items[i].key, key, kl) == 0) {
            if (m->owned[i]) {
                free(m->items[i].key);
                free(m->items[i].value);
            }
            continue;
        }
        m->items[w] = m->items[i];
        m->owned[w] = m->owned[i];
        w++;
    }
    m->count = w;
}

static __attribute__((unused)) void mock_map_add_lower(px_pairs *m, const char *key, size_t kl, const char *val, size_t vl)
{
    char lower[256];
    size_t n = kl < sizeof lower - 1 ? kl : sizeof lower - 1;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)tolower((unsigned char)key[i]);
    px_pairs_addn(m, lower, n, val, vl);
}

/* ---- the imports ---------------------------------------------------------------- */

uint32_t proxy_log(uint32_t level, const char *msg, size_t len)
{
    (void)level;
    snprintf(mock.last_log, sizeof mock.last_log, "%.*s", (int)len, msg);
    if (getenv("MOCK_LOG"))
        printf("# log: %s\n", mock.last_log);
    return 0;
}
uint32_t proxy_get_log_level(uint32_t *level) { *level = 2; return 0; }
uint32_t proxy_get_current_time_nanoseconds(uint64_t *ns) { *ns = mock.now_ns; return 0; }
uint32_t proxy_set_tick_period_milliseconds(uint32_t ms) { (void)ms; return 0; }

uint32_t proxy_get_property(const char *path, size_t path_len, char **ret, size_t *ret_len)
{
    char key[256];
    size_t n = path_len < sizeof key - 1 ? path_len : sizeof key - 1;
    for (size_t i = 0; i < n; i++)
        key[i] = path[i] ? path[i] : '.';
    key[n] = '\0';
    const char *v = px_pairs_get(&mock.props, key);
    if (!v)
        return 1;
    mock_copy_out(v, strlen(v), ret, ret_len);
    return 0;
}
uint32_t proxy_set_property(const char *p, size_t pl, const char *v, size_t vl)
{
    (void)p; (void)pl; (void)v; (void)vl;
    return 0;
}
uint32_t proxy_continue_stream(uint32_t type) { (void)type; mock.continued++; return 0; }
uint32_t proxy_close_stream(uint32_t type) { (void)type; return 0; }

uint32_t proxy_send_local_response(uint32_t status, const char *details, size_t details_len,
                                   const char *body, size_t body_len, const char *headers,
                                   size_t headers_len, int32_t grpc_status)
{
    (void)details; (void)details_len; (void)grpc_status;
    mock.reply_status = status;
    snprintf(mock.reply_body, sizeof mock.reply_body, "%.*s", (int)body_len, body ? body : "");
    px_pairs_free(&mock.reply_headers);
    if (headers_len) {
        char *copy = malloc(headers_len);
        memcpy(copy, headers, headers_len);
        if (!px_pairs_parse(&mock.reply_headers, copy, headers_len))
            mock.reply_status = 999; /* malformed map from the SDK */
    }
    return 0;
}

uint32_t proxy_get_header_map_value(uint32_t map, const char *key, size_t key_len, char **ret,
                                    size_t *ret_len)
{
    px_pairs *m = mock_map(map);
    if (!m)
        return 1;
    for (size_t i = 0; i < m->count; i++)
        if (m->items[i].key_len == key_len && strncasecmp(m->items[i].key, key, key_len) == 0) {
            mock_copy_out(m->items[i].value, m->items[i].value_len, ret, ret_len);
            return 0;
        }
    return 1;
}
uint32_t proxy_add_header_map_value(uint32_t map, const char *key, size_t kl, const char *val,
                                    size_t vl)
{
    px_pairs *m = mock_map(map);
    if (!m)
        return 2;
    mock_map_add_lower(m, key, kl, val, vl);
    return 0;
}
uint32_t proxy_replace_header_map_value(uint32_t map, const char *key, size_t kl,
                                        const char *val, size_t vl)
{
    px_pairs *m = mock_map(map);
    if (!m)
        return 2;
    mock_map_remove(m, key, kl);
    mock_map_add_lower(m, key, kl, val, vl);
    return 0;
}
uint32_t proxy_remove_header_map_value(uint32_t map, const char *key, size_t kl)
{
    px_pairs *m = mock_map(map);
    if (!m)
        return 2;
    mock_map_remove(m, key, kl);
    return 0;
}
uint32_t proxy_get_header_map_pairs(uint32_t map, char **ret, size_t *ret_len)
{
    px_pairs *m = mock_map(map);
    if (!m)
        return 2;
    size_t n;
    char *buf = px_pairs_serialize(m, &n);
    mock_copy_out(buf, n, ret, ret_len);
    free(buf);
    return 0;
}
uint32_t proxy_set_header_map_pairs(uint32_t map, const char *pairs, size_t len)
{
    (void)map; (void)pairs; (void)len;
    return 12;
}

uint32_t proxy_get_buffer_bytes(uint32_t type, size_t start, size_t max, char **ret,
                                size_t *ret_len)
{
    const char *src;
    size_t len;
    if (type == 7) {
        if (!mock.config)
            return 1;
        src = mock.config;
        len = strlen(mock.config);
    } else if (type == 0) {
        src = mock.body;
        len = mock.body_len;
    } else if (type == 9) {
        src = mock.redis_reply;
        len = strlen(mock.redis_reply);
    } else {
        return 1;
    }
    if (start >= len) {
        *ret = NULL;
        *ret_len = 0;
        return 0;
    }
    size_t n = len - start < max ? len - start : max;
    mock_copy_out(src + start, n, ret, ret_len);
    return 0;
}
uint32_t proxy_set_buffer_bytes(uint32_t t, size_t s, size_t z, const char *d, size_t l)
{
    (void)t; (void)s; (void)z; (void)d; (void)l;
    return 0;
}

uint32_t proxy_http_call(const char *u, size_t ul, const char *h, size_t hl, const char *b,
                         size_t bl, const char *t, size_t tl, uint32_t ms, uint32_t *token)
{
    (void)u; (void)ul; (void)h; (void)hl; (void)b; (void)bl; (void)t; (void)tl; (void)ms;
    *token = 4;
    return 0;
}

static __attribute__((unused)) int mock_shared_find(const char *key, size_t kl)
{
    for (size_t i = 0; i < mock.n_shared; i++)
        if (strlen(mock.shared[i].key) == kl && memcmp(mock.shared[i].key, key, kl) == 0)
            return (int)i;
    return -1;
}
uint32_t proxy_get_shared_data(const char *key, size_t kl, char **ret, size_t *ret_len,
                               uint32_t *cas)
{
    int i = mock_shared_find(key, kl);
    if (i < 0)
        return 1;
    mock_copy_out(mock.shared[i].val, mock.shared[i].len, ret, ret_len);
    *cas = mock.shared[i].cas;
    return 0;
}
uint32_t proxy_set_shared_data(const char *key, size_t kl, const char *val, size_t vl,
                               uint32_t cas)
{
    int i = mock_shared_find(key, kl);
    if (i >= 0 && cas != 0 && (cas != mock.shared[i].cas || mock.cas_conflicts > 0)) {
        if (mock.cas_conflicts > 0)
            mock.cas_conflicts--;
        return 8;
    }
    if (i < 0) {
        if (mock.n_shared == MOCK_MAX_SHARED)
            return 10;
        i = (int)mock.n_shared++;
        mock.shared[i].key = px_strndup(key, kl);
        mock.shared[i].val = NULL;
    }
    free(mock.shared[i].val);
    mock.shared[i].val = px_strndup(val, vl);
    mock.shared[i].len = vl;
    mock.shared[i].cas = ++mock.next_cas;
    return 0;
}
uint32_t proxy_register_shared_queue(const char *n, size_t l, uint32_t *id) { (void)n; (void)l; *id = 1; return 0; }
uint32_t proxy_resolve_shared_queue(const char *v, size_t vl, const char *n, size_t nl, uint32_t *id) { (void)v; (void)vl; (void)n; (void)nl; *id = 1; return 0; }
uint32_t proxy_enqueue_shared_queue(uint32_t id, const char *v, size_t l) { (void)id; (void)v; (void)l; return 0; }
uint32_t proxy_dequeue_shared_queue(uint32_t id, char **r, size_t *rl) { (void)id; *r = NULL; *rl = 0; return 7; }
uint32_t proxy_define_metric(uint32_t t, const char *n, size_t l, uint32_t *id) { (void)t; (void)n; (void)l; *id = 4; return 0; }
uint32_t proxy_increment_metric(uint32_t id, int64_t o) { (void)id; (void)o; return 0; }
uint32_t proxy_record_metric(uint32_t id, uint64_t v) { (void)id; (void)v; return 0; }
uint32_t proxy_get_metric(uint32_t id, uint64_t *v) { (void)id; *v = 0; return 0; }
uint32_t proxy_set_effective_context(uint32_t id) { return px_context_by_id(id) ? 0 : 2; }
uint32_t proxy_done(void) { return 0; }
uint32_t proxy_redis_init(const char *u, size_t ul, const char *us, size_t usl, const char *p,
                          size_t pl, uint32_t ms)
{
    (void)u; (void)ul; (void)us; (void)usl; (void)p; (void)pl; (void)ms;
    return 0;
}
uint32_t proxy_redis_call(const char *u, size_t ul, const char *q, size_t ql, uint32_t *token)
{
    (void)u; (void)ul;
    snprintf(mock.redis_query, sizeof mock.redis_query, "%.*s", (int)ql, q);
    mock.redis_query_len = ql;
    mock.redis_calls++;
    *token = mock.redis_token = 3 + 4 * (uint32_t)mock.redis_calls;
    return 0;
}

/* ---- driving the plugin ------------------------------------------------------------ */

#define MOCK_ROOT 1

/* Creates the root context and configures it; returns proxy_on_configure. */
static __attribute__((unused)) int mock_configure(const char *json)
{
    free(mock.config);
    mock.config = json ? strdup(json) : NULL;
    if (!px_context_by_id(MOCK_ROOT)) {
        proxy_on_context_create(MOCK_ROOT, 0);
        proxy_on_vm_start(MOCK_ROOT, 0);
    }
    mock.next_ctx = mock.next_ctx ? mock.next_ctx : 2;
    return (int)proxy_on_configure(MOCK_ROOT, json ? strlen(json) : 0);
}

/* Starts a request: headers given as "name", "value" pairs ending with NULL.
 * Returns the stream id; *action gets the headers callback result. */
static __attribute__((unused)) uint32_t mock_request(uint32_t *action, const char *method, const char *path, ...)
{
    px_pairs_free(&mock.req);
    px_pairs_free(&mock.resp);
    px_pairs_free(&mock.reply_headers);
    mock.reply_status = 0;
    mock.reply_body[0] = '\0';
    mock.continued = 0;
    mock.body_len = 0;
    px_pairs_add(&mock.req, ":method", method);
    px_pairs_add(&mock.req, ":path", path);
    px_pairs_add(&mock.req, ":scheme", "http");
    va_list ap;
    va_start(ap, path);
    int has_authority = 0;
    for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        has_authority |= strcmp(k, ":authority") == 0;
        px_pairs_add(&mock.req, k, v);
    }
    va_end(ap);
    if (!has_authority)
        px_pairs_add(&mock.req, ":authority", "example.com");
    uint32_t id = mock.next_ctx++;
    proxy_on_context_create(id, MOCK_ROOT);
    uint32_t a = proxy_on_request_headers(id, (uint32_t)mock.req.count, !mock.request_has_body);
    if (action)
        *action = a;
    return id;
}

/* Delivers body (one chunk, then end of stream); returns the last result. */
static __attribute__((unused)) uint32_t mock_request_body(uint32_t id, const char *body)
{
    size_t n = strlen(body), half = n / 2;
    memcpy(mock.body, body, half);
    mock.body_len = half;
    uint32_t a = proxy_on_request_body(id, half, 0);
    if (a == 0 || mock.reply_status)
        return a;
    memcpy(mock.body, body, n); /* buffered: the host shows everything so far */
    mock.body_len = n;
    return proxy_on_request_body(id, n, 1);
}

/* Response headers for stream id; returns the callback result. */
static __attribute__((unused)) uint32_t mock_response(uint32_t id, const char *status)
{
    px_pairs_free(&mock.resp);
    px_pairs_add(&mock.resp, ":status", status);
    return proxy_on_response_headers(id, (uint32_t)mock.resp.count, 0);
}

static __attribute__((unused)) void mock_finish(uint32_t id)
{
    proxy_on_log(id);
    proxy_on_done(id);
    proxy_on_delete(id);
}

static __attribute__((unused)) const char *mock_reply_header(const char *name)
{
    return px_pairs_get(&mock.reply_headers, name);
}

static __attribute__((unused)) const char *mock_req_header(const char *name)
{
    return px_pairs_get(&mock.req, name);
}

static __attribute__((unused)) const char *mock_resp_header(const char *name)
{
    return px_pairs_get(&mock.resp, name);
}

/* Request status as the client would see it: a local reply or 200. */
static __attribute__((unused)) uint32_t mock_status(void)
{
    return mock.reply_status ? mock.reply_status : 200;
}

#endif
