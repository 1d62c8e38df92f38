/*
 * px_imports.h — declarations of the env.proxy_* host functions with the
 * exact ABI signatures (ABI doc §2.3). Private to the SDK; plugins use the
 * px_* wrappers in proxy_wasm.h.
 *
 * Owns:     import names and parameter types.
 * Not here: any logic.
 */
#ifndef PX_IMPORTS_H
#define PX_IMPORTS_H

#include <stddef.h>
#include <stdint.h>

/* Natively (unit tests with a mock host) these are plain extern functions. */
#if defined(__wasm__)
#define PX_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#else
#define PX_IMPORT(name)
#endif

PX_IMPORT(proxy_log) uint32_t proxy_log(uint32_t level, const char *msg, size_t len);
PX_IMPORT(proxy_get_log_level) uint32_t proxy_get_log_level(uint32_t *level);
PX_IMPORT(proxy_get_current_time_nanoseconds)
uint32_t proxy_get_current_time_nanoseconds(uint64_t *ns);
PX_IMPORT(proxy_set_tick_period_milliseconds) uint32_t proxy_set_tick_period_milliseconds(uint32_t ms);
PX_IMPORT(proxy_get_property)
uint32_t proxy_get_property(const char *path, size_t path_len, char **ret, size_t *ret_len);
PX_IMPORT(proxy_set_property)
uint32_t proxy_set_property(const char *path, size_t path_len, const char *val, size_t val_len);
PX_IMPORT(proxy_continue_stream) uint32_t proxy_continue_stream(uint32_t type);
PX_IMPORT(proxy_close_stream) uint32_t proxy_close_stream(uint32_t type);
PX_IMPORT(proxy_send_local_response)
uint32_t proxy_send_local_response(uint32_t status, const char *details, size_t details_len,
                                   const char *body, size_t body_len, const char *headers,
                                   size_t headers_len, int32_t grpc_status);
PX_IMPORT(proxy_get_header_map_value)
uint32_t proxy_get_header_map_value(uint32_t map, const char *key, size_t key_len, char **ret,
                                    size_t *ret_len);
PX_IMPORT(proxy_add_header_map_value)
uint32_t proxy_add_header_map_value(uint32_t map, const char *key, size_t key_len,
                                    const char *val, size_t val_len);
PX_IMPORT(proxy_replace_header_map_value)
uint32_t proxy_replace_header_map_value(uint32_t map, const char *key, size_t key_len,
                                        const char *val, size_t val_len);
PX_IMPORT(proxy_remove_header_map_value)
uint32_t proxy_remove_header_map_value(uint32_t map, const char *key, size_t key_len);
PX_IMPORT(proxy_get_header_map_pairs)
uint32_t proxy_get_header_map_pairs(uint32_t map, char **ret, size_t *ret_len);
PX_IMPORT(proxy_set_header_map_pairs)
uint32_t proxy_set_header_map_pairs(uint32_t map, const char *pairs, size_t len);
PX_IMPORT(proxy_get_buffer_bytes)
uint32_t proxy_get_buffer_bytes(uint32_t type, size_t start, size_t max, char **ret,
                                size_t *ret_len);
PX_IMPORT(proxy_set_buffer_bytes)
uint32_t proxy_set_buffer_bytes(uint32_t type, size_t start, size_t size, const char *data,
                                size_t len);
PX_IMPORT(proxy_http_call)
uint32_t proxy_http_call(const char *upstream, size_t upstream_len, const char *headers,
                         size_t headers_len, const char *body, size_t body_len,
                         const char *trailers, size_t trailers_len, uint32_t timeout_ms,
                         uint32_t *token);
PX_IMPORT(proxy_get_shared_data)
uint32_t proxy_get_shared_data(const char *key, size_t key_len, char **ret, size_t *ret_len,
                               uint32_t *cas);
PX_IMPORT(proxy_set_shared_data)
uint32_t proxy_set_shared_data(const char *key, size_t key_len, const char *val, size_t val_len,
                               uint32_t cas);
PX_IMPORT(proxy_register_shared_queue)
uint32_t proxy_register_shared_queue(const char *name, size_t name_len, uint32_t *id);
PX_IMPORT(proxy_resolve_shared_queue)
uint32_t proxy_resolve_shared_queue(const char *vm_id, size_t vm_id_len, const char *name,
                                    size_t name_len, uint32_t *id);
PX_IMPORT(proxy_enqueue_shared_queue)
uint32_t proxy_enqueue_shared_queue(uint32_t id, const char *val, size_t len);
PX_IMPORT(proxy_dequeue_shared_queue)
uint32_t proxy_dequeue_shared_queue(uint32_t id, char **ret, size_t *ret_len);
PX_IMPORT(proxy_define_metric)
uint32_t proxy_define_metric(uint32_t type, const char *name, size_t name_len, uint32_t *id);
PX_IMPORT(proxy_increment_metric) uint32_t proxy_increment_metric(uint32_t id, int64_t offset);
PX_IMPORT(proxy_record_metric) uint32_t proxy_record_metric(uint32_t id, uint64_t value);
PX_IMPORT(proxy_get_metric) uint32_t proxy_get_metric(uint32_t id, uint64_t *value);
PX_IMPORT(proxy_set_effective_context) uint32_t proxy_set_effective_context(uint32_t id);
PX_IMPORT(proxy_done) uint32_t proxy_done(void);
PX_IMPORT(proxy_redis_init)
uint32_t proxy_redis_init(const char *upstream, size_t upstream_len, const char *user,
                          size_t user_len, const char *pass, size_t pass_len,
                          uint32_t timeout_ms);
PX_IMPORT(proxy_redis_call)
uint32_t proxy_redis_call(const char *upstream, size_t upstream_len, const char *query,
                          size_t query_len, uint32_t *token);

#endif
