/*
 * proxy_wasm.h — sluice's guest-side C SDK for proxy-wasm plugins (ABI
 * 0.2.1 + the Higress Redis extension). Compile with
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
 *         -Isdk/c plugin.c sdk/c/\*.c -o plugin.wasm
 *
 * Owns:     the module's exports (ABI marker, proxy_on_memory_allocate and
 *           every proxy_on_* callback), the context registry (root and
 *           stream contexts with per-context user data), per-request
 *           selection of the plugin configuration (Higress _rules_), async
 *           call bookkeeping (HTTP and Redis callouts resume on the stream
 *           that issued them), and typed wrappers for the env.proxy_*
 *           hostcalls.
 * Not here: helpers that do not need the host — px_json.h, px_crypto.h,
 *           px_base64.h, px_jwt.h, px_rules.h, px_resp.h, px_pairs.h,
 *           px_text.h (all included below for convenience).
 *
 * A plugin defines exactly one `const px_plugin px_plugin_def = {...};`.
 * Every callback is optional. Memory the SDK hands out (px_bytes, strings)
 * is malloc'd and NUL-terminated; the caller frees it.
 */
#ifndef PROXY_WASM_H
#define PROXY_WASM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>  /* snprintf for plugins */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "px_base64.h"
#include "px_crypto.h"
#include "px_json.h"
#include "px_jwt.h"
#include "px_pairs.h"
#include "px_resp.h"
#include "px_rules.h"
#include "px_text.h"

/* ---- ABI enumerations (ABI doc §2.1, §2.2, §3.2) ---------------------------- */

typedef enum {
    PX_OK = 0,
    PX_NOT_FOUND = 1,
    PX_BAD_ARGUMENT = 2,
    PX_SERIALIZATION_FAILURE = 3,
    PX_PARSE_FAILURE = 4,
    PX_BAD_EXPRESSION = 5,
    PX_INVALID_MEMORY_ACCESS = 6,
    PX_EMPTY = 7,
    PX_CAS_MISMATCH = 8,
    PX_RESULT_MISMATCH = 9,
    PX_INTERNAL_FAILURE = 10,
    PX_BROKEN_CONNECTION = 11,
    PX_UNIMPLEMENTED = 12
} px_status;

typedef enum {
    PX_LOG_TRACE, PX_LOG_DEBUG, PX_LOG_INFO, PX_LOG_WARN, PX_LOG_ERROR, PX_LOG_CRITICAL
} px_log_level;

typedef enum {
    PX_MAP_REQUEST_HEADERS = 0,
    PX_MAP_REQUEST_TRAILERS = 1,
    PX_MAP_RESPONSE_HEADERS = 2,
    PX_MAP_RESPONSE_TRAILERS = 3,
    PX_MAP_GRPC_INITIAL_METADATA = 4,
    PX_MAP_GRPC_TRAILING_METADATA = 5,
    PX_MAP_HTTP_CALL_RESPONSE_HEADERS = 6,
    PX_MAP_HTTP_CALL_RESPONSE_TRAILERS = 7
} px_map_type;

typedef enum {
    PX_BUFFER_REQUEST_BODY = 0,
    PX_BUFFER_RESPONSE_BODY = 1,
    PX_BUFFER_DOWNSTREAM_DATA = 2,
    PX_BUFFER_UPSTREAM_DATA = 3,
    PX_BUFFER_HTTP_CALL_RESPONSE_BODY = 4,
    PX_BUFFER_GRPC_CALL_MESSAGE = 5,
    PX_BUFFER_VM_CONFIGURATION = 6,
    PX_BUFFER_PLUGIN_CONFIGURATION = 7,
    PX_BUFFER_FOREIGN_FUNCTION_ARGUMENTS = 8,
    PX_BUFFER_REDIS_CALL_RESPONSE = 9
} px_buffer_type;

typedef enum {
    PX_STREAM_REQUEST = 0, PX_STREAM_RESPONSE = 1, PX_STREAM_DOWNSTREAM = 2, PX_STREAM_UPSTREAM = 3
} px_stream_type;

typedef enum { PX_METRIC_COUNTER = 0, PX_METRIC_GAUGE = 1, PX_METRIC_HISTOGRAM = 2 } px_metric_type;

/* Header-callback results (FilterHeadersStatus). */
typedef enum {
    PX_HEADERS_CONTINUE = 0,
    PX_HEADERS_STOP = 1,                  /* StopIteration (hosts may turn it into 4) */
    PX_HEADERS_STOP_ALL_AND_BUFFER = 3,
    PX_HEADERS_STOP_ALL_AND_WATERMARK = 4
} px_headers_action;

/* Body-callback results (FilterDataStatus). */
typedef enum {
    PX_DATA_CONTINUE = 0,
    PX_DATA_STOP_AND_BUFFER = 1,          /* "Pause": next call sees the accumulated body */
    PX_DATA_STOP_AND_WATERMARK = 2,
    PX_DATA_STOP_NO_BUFFER = 3
} px_data_action;

typedef enum { PX_TRAILERS_CONTINUE = 0, PX_TRAILERS_STOP = 1 } px_trailers_action;

/* ---- contexts ------------------------------------------------------------------ */

typedef struct px_context px_context;
struct px_context {
    uint32_t id;
    px_context *root;  /* the root context (itself for a root context) */
    void *data;        /* plugin-owned per-context data; the SDK never touches it */

    /* SDK-private below. */
    bool is_root;
    struct px_config_set *configs; /* root: current parsed configuration;
                                      stream: the one its config came from
                                      (reference-counted, so reconfiguring a
                                      root never frees a config in use) */
    char *config_text;         /* root: raw plugin configuration (NUL-terminated) */
    size_t config_len;
    const void *config;        /* stream: selected config */
    bool config_selected;      /* stream: selection done */
    px_context *next;          /* hash chain */
};

/* ---- the plugin ---------------------------------------------------------------- */

typedef struct px_plugin {
    const char *name; /* used as the log prefix */

    /* Configuration. When parse_config is set the SDK reads the plugin
     * configuration in proxy_on_configure, parses it as JSON with the
     * Higress _rules_ convention (px_rules.h) and fails configuration when
     * parsing fails. Stream callbacks then run only for requests that have
     * a config (px_config(ctx) != NULL): no matching rule and no global
     * config, or a "_disable_" rule, skips the plugin. */
    px_config_parse_fn parse_config;
    px_config_free_fn free_config;

    /* Root-context callbacks. on_configure runs after parse_config. */
    bool (*on_vm_start)(px_context *root);
    bool (*on_configure)(px_context *root);
    void (*on_tick)(px_context *root);
    void (*on_queue_ready)(px_context *root, uint32_t queue_id);
    bool (*on_root_done)(px_context *root); /* plugin shutdown; false = call px_done() later */

    /* Stream callbacks (ctx->root is the plugin's root context). */
    void (*on_stream_create)(px_context *ctx);
    px_headers_action (*on_request_headers)(px_context *ctx, uint32_t num_headers, bool end_of_stream);
    px_data_action (*on_request_body)(px_context *ctx, size_t body_size, bool end_of_stream);
    px_trailers_action (*on_request_trailers)(px_context *ctx, uint32_t num_trailers);
    px_headers_action (*on_response_headers)(px_context *ctx, uint32_t num_headers, bool end_of_stream);
    px_data_action (*on_response_body)(px_context *ctx, size_t body_size, bool end_of_stream);
    px_trailers_action (*on_response_trailers)(px_context *ctx, uint32_t num_trailers);
    void (*on_log)(px_context *ctx);

    /* TCP (network filter) callbacks; results 0 = continue, 1 = pause. */
    uint32_t (*on_new_connection)(px_context *ctx);
    uint32_t (*on_downstream_data)(px_context *ctx, size_t data_size, bool end_of_stream);
    uint32_t (*on_upstream_data)(px_context *ctx, size_t data_size, bool end_of_stream);
    void (*on_downstream_close)(px_context *ctx, uint32_t peer_type);
    void (*on_upstream_close)(px_context *ctx, uint32_t peer_type);

    /* Host-specific call into the plugin (arguments: buffer 8). */
    void (*on_foreign_function)(px_context *ctx, uint32_t function_id, size_t args_size);

    /* Last call for any context (root or stream): free ctx->data here. */
    void (*on_delete)(px_context *ctx);
} px_plugin;

/* Defined by the plugin. */
extern const px_plugin px_plugin_def;

/* The configuration selected for this stream (first matching _rules_
 * entry, else the global config), or for a root context its global config.
 * NULL when none applies. Computed once per stream, on first use. */
const void *px_config(px_context *ctx);
/* Raw plugin configuration text of a root context (never NULL). */
const char *px_config_text(const px_context *root, size_t *len);
/* The context the host is currently calling (NULL outside callbacks). */
px_context *px_current_context(void);
px_context *px_context_by_id(uint32_t id);

/* ---- owned byte strings ------------------------------------------------------- */

typedef struct {
    char *data;  /* malloc'd, NUL-terminated (NUL not counted), NULL when len 0 */
    size_t len;
} px_bytes;

void px_bytes_free(px_bytes *b);

/* ---- logging --------------------------------------------------------------------- */

px_status px_log(px_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
px_status px_logv(px_log_level level, const char *fmt, va_list ap);
px_log_level px_get_log_level(void);
#define px_debug(...) px_log(PX_LOG_DEBUG, __VA_ARGS__)
#define px_info(...) px_log(PX_LOG_INFO, __VA_ARGS__)
#define px_warn(...) px_log(PX_LOG_WARN, __VA_ARGS__)
#define px_error(...) px_log(PX_LOG_ERROR, __VA_ARGS__)

/* ---- headers (proxy_*_header_map_*) ------------------------------------------ */

/* Malloc'd NUL-terminated first value, or NULL when absent. */
char *px_get_header(px_map_type map, const char *key);
px_status px_get_header_bytes(px_map_type map, const char *key, px_bytes *out);
px_status px_add_header(px_map_type map, const char *key, const char *value);
px_status px_replace_header(px_map_type map, const char *key, const char *value);
px_status px_remove_header(px_map_type map, const char *key);
px_status px_get_header_pairs(px_map_type map, px_pairs *out);
px_status px_set_header_pairs(px_map_type map, const px_pairs *pairs);
/* Shorthands for the request/response header maps. */
#define px_get_request_header(k) px_get_header(PX_MAP_REQUEST_HEADERS, (k))
#define px_get_response_header(k) px_get_header(PX_MAP_RESPONSE_HEADERS, (k))

/* ---- buffers (proxy_get/set_buffer_bytes) --------------------------------------- */

px_status px_get_buffer(px_buffer_type type, size_t start, size_t max_size, px_bytes *out);
/* Replace size bytes at start with data (append: start ≥ length). */
px_status px_set_buffer(px_buffer_type type, size_t start, size_t size, const void *data,
                        size_t len);

/* ---- properties (path segments joined with NUL) ------------------------------- */

px_status px_get_property_raw(const char *path, size_t path_len, px_bytes *out);
/* Segments as a NULL-terminated argument list:
 *   px_get_property(&out, "request", "path", NULL) */
px_status px_get_property(px_bytes *out, const char *segment, ...);
/* Single-segment property as a malloc'd string, or NULL. */
char *px_get_property_str(const char *name);
px_status px_set_property(const char *path, size_t path_len, const void *value, size_t len);

/* ---- stream control ---------------------------------------------------------------- */

/* headers may be NULL. grpc_status -1 = not a gRPC reply. details may be NULL. */
px_status px_send_local_response(uint32_t status, const char *details, const void *body,
                                 size_t body_len, const px_pairs *headers, int32_t grpc_status);
px_status px_continue_stream(px_stream_type type);
px_status px_close_stream(px_stream_type type);
px_status px_set_effective_context(uint32_t context_id);
px_status px_done(void);

/* ---- time ---------------------------------------------------------------------------- */

uint64_t px_now_ns(void);   /* wall clock, Unix epoch */
int64_t px_now_seconds(void);
px_status px_set_tick_period_ms(uint32_t period_ms);

/* ---- HTTP callouts -------------------------------------------------------------- */

/* Called on the issuing context after the response arrived; the effective
 * context has already been switched to it, so px_continue_stream and
 * px_send_local_response act on that stream. ctx is NULL when that stream
 * is gone (free arg then). Response data: px_get_header(
 * PX_MAP_HTTP_CALL_RESPONSE_HEADERS, ":status"), px_get_buffer(
 * PX_BUFFER_HTTP_CALL_RESPONSE_BODY, …). num_headers == 0 means failure. */
typedef void (*px_http_callback)(px_context *ctx, uint32_t num_headers, size_t body_size,
                                 uint32_t num_trailers, void *arg);
/* headers must hold :method, :path, :authority. */
px_status px_http_call(const char *cluster, const px_pairs *headers, const void *body,
                       size_t body_len, const px_pairs *trailers, uint32_t timeout_ms,
                       px_http_callback cb, void *arg);

/* ---- Higress Redis (ABI doc §5.1) ---------------------------------------------- */

px_status px_redis_init(const char *cluster, const char *username, const char *password,
                        uint32_t timeout_ms);
/* status 0 = a reply arrived (read it with px_get_buffer(
 * PX_BUFFER_REDIS_CALL_RESPONSE, 0, size, …)), non-zero = transport error.
 * ctx as for px_http_callback. */
typedef void (*px_redis_callback)(px_context *ctx, int status, size_t response_size, void *arg);
px_status px_redis_call(const char *cluster, const char *query, size_t query_len,
                        px_redis_callback cb, void *arg);

/* ---- shared data and queues ---------------------------------------------------- */

px_status px_get_shared_data(const char *key, px_bytes *value, uint32_t *cas);
/* cas 0 = unconditional; otherwise PX_CAS_MISMATCH when it changed. */
px_status px_set_shared_data(const char *key, const void *value, size_t len, uint32_t cas);
px_status px_register_shared_queue(const char *name, uint32_t *queue_id);
px_status px_resolve_shared_queue(const char *vm_id, const char *name, uint32_t *queue_id);
px_status px_enqueue_shared_queue(uint32_t queue_id, const void *value, size_t len);
px_status px_dequeue_shared_queue(uint32_t queue_id, px_bytes *value);

/* ---- metrics --------------------------------------------------------------------- */

px_status px_define_metric(px_metric_type type, const char *name, uint32_t *metric_id);
px_status px_increment_metric(uint32_t metric_id, int64_t offset);
px_status px_record_metric(uint32_t metric_id, uint64_t value);
px_status px_get_metric(uint32_t metric_id, uint64_t *value);

/* ---- convenience ----------------------------------------------------------------- */

/* Local reply with a plain-text body and optional extra headers given as
 * alternating name, value strings ending with NULL:
 *   px_reply(403, "blocked\n", "x-why", "rule", NULL) */
px_status px_reply(uint32_t status, const char *body, ...);

#endif
