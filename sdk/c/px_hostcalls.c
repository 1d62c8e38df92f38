/*
 * px_hostcalls.c — typed wrappers around the env.proxy_* imports.
 *
 * Owns:     argument marshalling, ownership of host-returned blocks
 *           (they come from proxy_on_memory_allocate and are NUL-terminated).
 * Not here: callback dispatch and the context registry (proxy_wasm.c).
 */
#include "proxy_wasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "px_imports.h"

bool px_internal_track_call(uint32_t token, bool is_redis, px_http_callback http_cb,
                            px_redis_callback redis_cb, void *arg);

void px_bytes_free(px_bytes *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

/* ---- logging ---------------------------------------------------------------------- */

px_status px_logv(px_log_level level, const char *fmt, va_list ap)
{
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0)
        return PX_BAD_ARGUMENT;
    size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    return (px_status)proxy_log((uint32_t)level, buf, len);
}

px_status px_log(px_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    px_status s = px_logv(level, fmt, ap);
    va_end(ap);
    return s;
}

px_log_level px_get_log_level(void)
{
    uint32_t level = PX_LOG_INFO;
    if (proxy_get_log_level(&level) != PX_OK || level > PX_LOG_CRITICAL)
        return PX_LOG_INFO;
    return (px_log_level)level;
}

/* ---- headers ---------------------------------------------------------------------- */

px_status px_get_header_bytes(px_map_type map, const char *key, px_bytes *out)
{
    out->data = NULL;
    out->len = 0;
    return (px_status)proxy_get_header_map_value((uint32_t)map, key, strlen(key), &out->data,
                                                 &out->len);
}

char *px_get_header(px_map_type map, const char *key)
{
    px_bytes b;
    if (px_get_header_bytes(map, key, &b) != PX_OK) {
        px_bytes_free(&b);
        return NULL;
    }
    if (!b.data) /* present but empty */
        return px_strndup("", 0);
    return b.data;
}

px_status px_add_header(px_map_type map, const char *key, const char *value)
{
    return (px_status)proxy_add_header_map_value((uint32_t)map, key, strlen(key), value,
                                                 strlen(value));
}

px_status px_replace_header(px_map_type map, const char *key, const char *value)
{
    return (px_status)proxy_replace_header_map_value((uint32_t)map, key, strlen(key), value,
                                                     strlen(value));
}

px_status px_remove_header(px_map_type map, const char *key)
{
    return (px_status)proxy_remove_header_map_value((uint32_t)map, key, strlen(key));
}

px_status px_get_header_pairs(px_map_type map, px_pairs *out)
{
    char *buf = NULL;
    size_t len = 0;
    px_pairs_init(out);
    px_status s = (px_status)proxy_get_header_map_pairs((uint32_t)map, &buf, &len);
    if (s != PX_OK) {
        free(buf);
        return s;
    }
    return px_pairs_parse(out, buf, len) ? PX_OK : PX_SERIALIZATION_FAILURE;
}

px_status px_set_header_pairs(px_map_type map, const px_pairs *pairs)
{
    size_t len;
    char *buf = px_pairs_serialize(pairs, &len);
    if (!buf)
        return PX_INTERNAL_FAILURE;
    px_status s = (px_status)proxy_set_header_map_pairs((uint32_t)map, buf, len);
    free(buf);
    return s;
}

/* ---- buffers ---------------------------------------------------------------------- */

px_status px_get_buffer(px_buffer_type type, size_t start, size_t max_size, px_bytes *out)
{
    out->data = NULL;
    out->len = 0;
    return (px_status)proxy_get_buffer_bytes((uint32_t)type, start, max_size, &out->data,
                                             &out->len);
}

px_status px_set_buffer(px_buffer_type type, size_t start, size_t size, const void *data,
                        size_t len)
{
    return (px_status)proxy_set_buffer_bytes((uint32_t)type, start, size, data, len);
}

/* ---- properties ------------------------------------------------------------------ */

px_status px_get_property_raw(const char *path, size_t path_len, px_bytes *out)
{
    out->data = NULL;
    out->len = 0;
    return (px_status)proxy_get_property(path, path_len, &out->data, &out->len);
}

px_status px_get_property(px_bytes *out, const char *segment, ...)
{
    char path[512];
    size_t n = 0;
    va_list ap;
    va_start(ap, segment);
    for (const char *s = segment; s; s = va_arg(ap, const char *)) {
        size_t l = strlen(s);
        if (n + l + 1 > sizeof path) {
            va_end(ap);
            return PX_BAD_ARGUMENT;
        }
        if (n)
            path[n++] = '\0';
        memcpy(path + n, s, l);
        n += l;
    }
    va_end(ap);
    return px_get_property_raw(path, n, out);
}

char *px_get_property_str(const char *name)
{
    px_bytes b;
    if (px_get_property_raw(name, strlen(name), &b) != PX_OK) {
        px_bytes_free(&b);
        return NULL;
    }
    return b.data ? b.data : px_strndup("", 0);
}

px_status px_set_property(const char *path, size_t path_len, const void *value, size_t len)
{
    return (px_status)proxy_set_property(path, path_len, value, len);
}

/* ---- stream control ------------------------------------------------------------------ */

px_status px_send_local_response(uint32_t status, const char *details, const void *body,
                                 size_t body_len, const px_pairs *headers, int32_t grpc_status)
{
    size_t hl = 0;
    char *hb = NULL;
    if (headers && headers->count) {
        hb = px_pairs_serialize(headers, &hl);
        if (!hb)
            return PX_INTERNAL_FAILURE;
    }
    if (!details)
        details = "";
    px_status s = (px_status)proxy_send_local_response(
        status, details, strlen(details), body, body_len, hb, hl, grpc_status);
    free(hb);
    return s;
}

px_status px_reply(uint32_t status, const char *body, ...)
{
    px_pairs h;
    px_pairs_init(&h);
    va_list ap;
    va_start(ap, body);
    for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        if (!v)
            break;
        px_pairs_add(&h, k, v);
    }
    va_end(ap);
    if (!px_pairs_get(&h, "content-type") && body && body[0])
        px_pairs_add(&h, "content-type", "text/plain; charset=utf-8");
    px_status s = px_send_local_response(status, px_plugin_def.name, body,
                                         body ? strlen(body) : 0, &h, -1);
    px_pairs_free(&h);
    return s;
}

px_status px_continue_stream(px_stream_type type)
{
    return (px_status)proxy_continue_stream((uint32_t)type);
}

px_status px_close_stream(px_stream_type type)
{
    return (px_status)proxy_close_stream((uint32_t)type);
}

px_status px_set_effective_context(uint32_t context_id)
{
    return (px_status)proxy_set_effective_context(context_id);
}

px_status px_done(void)
{
    return (px_status)proxy_done();
}

/* ---- time -------------------------------------------------------------------------------- */

uint64_t px_now_ns(void)
{
    uint64_t ns = 0;
    if (proxy_get_current_time_nanoseconds(&ns) == PX_OK && ns)
        return ns;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t px_now_seconds(void)
{
    return (int64_t)(px_now_ns() / 1000000000u);
}

px_status px_set_tick_period_ms(uint32_t period_ms)
{
    return (px_status)proxy_set_tick_period_milliseconds(period_ms);
}

/* ---- callouts ---------------------------------------------------------------------------- */

px_status px_http_call(const char *cluster, const px_pairs *headers, const void *body,
                       size_t body_len, const px_pairs *trailers, uint32_t timeout_ms,
                       px_http_callback cb, void *arg)
{
    size_t hl = 0, tl = 0;
    char *hb = px_pairs_serialize(headers, &hl);
    char *tb = trailers ? px_pairs_serialize(trailers, &tl) : NULL;
    if (!hb || (trailers && !tb)) {
        free(hb);
        free(tb);
        return PX_INTERNAL_FAILURE;
    }
    uint32_t token = 0;
    px_status s = (px_status)proxy_http_call(cluster, strlen(cluster), hb, hl, body, body_len,
                                             tb, tl, timeout_ms, &token);
    free(hb);
    free(tb);
    if (s == PX_OK && !px_internal_track_call(token, false, cb, NULL, arg))
        return PX_INTERNAL_FAILURE;
    return s;
}

px_status px_redis_init(const char *cluster, const char *username, const char *password,
                        uint32_t timeout_ms)
{
    username = username ? username : "";
    password = password ? password : "";
    return (px_status)proxy_redis_init(cluster, strlen(cluster), username, strlen(username),
                                       password, strlen(password), timeout_ms);
}

px_status px_redis_call(const char *cluster, const char *query, size_t query_len,
                        px_redis_callback cb, void *arg)
{
    uint32_t token = 0;
    /* The Redis client is keyed by the cluster name without "?options". */
    size_t cl = strcspn(cluster, "?");
    px_status s = (px_status)proxy_redis_call(cluster, cl, query, query_len, &token);
    if (s == PX_OK && !px_internal_track_call(token, true, NULL, cb, arg))
        return PX_INTERNAL_FAILURE;
    return s;
}

/* ---- shared data and queues ------------------------------------------------------------- */

px_status px_get_shared_data(const char *key, px_bytes *value, uint32_t *cas)
{
    uint32_t c = 0;
    value->data = NULL;
    value->len = 0;
    px_status s = (px_status)proxy_get_shared_data(key, strlen(key), &value->data, &value->len,
                                                   &c);
    if (cas)
        *cas = c;
    return s;
}

px_status px_set_shared_data(const char *key, const void *value, size_t len, uint32_t cas)
{
    return (px_status)proxy_set_shared_data(key, strlen(key), value, len, cas);
}

px_status px_register_shared_queue(const char *name, uint32_t *queue_id)
{
    return (px_status)proxy_register_shared_queue(name, strlen(name), queue_id);
}

px_status px_resolve_shared_queue(const char *vm_id, const char *name, uint32_t *queue_id)
{
    vm_id = vm_id ? vm_id : "";
    return (px_status)proxy_resolve_shared_queue(vm_id, strlen(vm_id), name, strlen(name),
                                                 queue_id);
}

px_status px_enqueue_shared_queue(uint32_t queue_id, const void *value, size_t len)
{
    return (px_status)proxy_enqueue_shared_queue(queue_id, value, len);
}

px_status px_dequeue_shared_queue(uint32_t queue_id, px_bytes *value)
{
    value->data = NULL;
    value->len = 0;
    return (px_status)proxy_dequeue_shared_queue(queue_id, &value->data, &value->len);
}

/* ---- metrics ------------------------------------------------------------------------------ */

px_status px_define_metric(px_metric_type type, const char *name, uint32_t *metric_id)
{
    return (px_status)proxy_define_metric((uint32_t)type, name, strlen(name), metric_id);
}

px_status px_increment_metric(uint32_t metric_id, int64_t offset)
{
    return (px_status)proxy_increment_metric(metric_id, offset);
}

px_status px_record_metric(uint32_t metric_id, uint64_t value)
{
    return (px_status)proxy_record_metric(metric_id, value);
}

px_status px_get_metric(uint32_t metric_id, uint64_t *value)
{
    return (px_status)proxy_get_metric(metric_id, value);
}
