/*
 * pw.h — the proxy-wasm host (src/proxywasm, prefix pw_): runs Envoy /
 * Istio / Higress plugins (ABI 0.1.0, 0.2.0, 0.2.1, 0.2.100) on the sluice
 * engine. ../shared/docs/proxy-wasm-abi.md is the reference; the section
 * numbers below (§) point into it.
 *
 * Layer:     host ABI above the engine: includes <sluice/vm.h>, the WASI
 *            layer and util. It knows nothing of sockets, HTTP/1 framing,
 *            libuv or the gateway's config; the gateway drives it through
 *            this header and serves its requests through pw_host /
 *            pw_stream_host callbacks.
 *
 * Objects, from shared to per request:
 *   pw_module   a compiled plugin module (ABI detected, exports checked).
 *               Immutable, refcounted, shared by every worker.
 *   pw_plugin   one configured plugin: a module plus VM-level settings
 *               (name, vm_id, vm_config, env, limits) and the list of its
 *               root configurations (root_id, plugin configuration, failure
 *               policy). Each (plugin, configuration) pair attached anywhere
 *               in the gateway config is one root config, identified by its
 *               index. Immutable, refcounted, shared by every worker.
 *   pw_vm       one instance of a pw_plugin on one worker thread, with one
 *               root context per root config (created, vm_start and
 *               configure at pw_vm_new). Refcounted: streams hold a
 *               reference, so a VM replaced after a failure lives until its
 *               last stream ends. Used by one thread only.
 *   pw_slot     "the current healthy VM of this plugin on this worker":
 *               creates it lazily and re-creates it after a failure, at most
 *               once per PW_RECOVER_MIN_MS (crash loops do not spin).
 *   pw_stream   one HTTP request/response pair on one root context.
 *
 * Data model: the host layer owns the request/response header maps and
 * body buffers of a stream (pw_map, pw_body). The gateway fills them before
 * a callback and reads them back after it: header edits, body edits and
 * local replies are data, not callbacks into the gateway, so every effect
 * of a hostcall is naturally deferred until the guest returns (§1.7).
 *
 * Failures: a trap, a memory-limit hit or a CPU-time-limit hit in any
 * callback fails the whole VM (§1.10): the trap and backtrace are logged
 * with the plugin's name, pw_stats counts it, the VM makes no further guest
 * calls, and every stream on it follows its root's failure policy: the
 * callback returns PW_CONTINUE (fail-open) or PW_LOCAL_REPLY with a 503
 * (fail-closed). The gateway never has to know which.
 *
 * Threads: pw_module and pw_plugin are shared read-only. Everything else is
 * used by the worker thread that created it, except the process-wide shared
 * data, shared queues and metrics, which are internally locked.
 */
#ifndef SLUICE_PW_H
#define SLUICE_PW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/aot.h>
#include <sluice/vm.h>

#include "ut_buf.h"

/* ---- enums of the ABI (§2.1, §2.2) ------------------------------------- */

typedef enum pw_abi {
    PW_ABI_0_1_0,
    PW_ABI_0_2_0,
    PW_ABI_0_2_1,
    PW_ABI_0_2_100, /* Higress */
} pw_abi;

const char *pw_abi_name(pw_abi abi); /* "0.2.1" */

typedef enum pw_status {
    PW_OK = 0,
    PW_NOT_FOUND = 1,
    PW_BAD_ARGUMENT = 2,
    PW_SERIALIZATION_FAILURE = 3,
    PW_PARSE_FAILURE = 4,
    PW_INVALID_MEMORY_ACCESS = 6,
    PW_EMPTY = 7,
    PW_CAS_MISMATCH = 8,
    PW_INTERNAL_FAILURE = 10,
    PW_BROKEN_CONNECTION = 11,
    PW_UNIMPLEMENTED = 12,
} pw_status;

typedef enum pw_map_type {
    PW_MAP_REQUEST_HEADERS = 0,
    PW_MAP_REQUEST_TRAILERS = 1,
    PW_MAP_RESPONSE_HEADERS = 2,
    PW_MAP_RESPONSE_TRAILERS = 3,
    PW_MAP_COUNT_STREAM = 4, /* maps a stream owns */
} pw_map_type;

typedef enum pw_log_level {
    PW_LOG_TRACE, PW_LOG_DEBUG, PW_LOG_INFO, PW_LOG_WARN, PW_LOG_ERROR, PW_LOG_CRITICAL,
} pw_log_level;

typedef enum pw_failure_policy {
    PW_FAIL_CLOSED, /* 503 local reply */
    PW_FAIL_OPEN,   /* continue without the plugin */
} pw_failure_policy;

/* ---- header maps ----------------------------------------------------------- */

/* An ordered multimap of byte strings (keys lower-case), owned by its
 * stream. Request maps carry the pseudo-headers :method :path :authority
 * :scheme first; response maps carry :status. `dirty` is set by any guest
 * mutation so the gateway can keep its zero-copy path when nothing
 * changed. `present` is false for a map that does not exist (no trailers).
 * Entries are owned by the map: add them with pw_map_add only (one
 * allocation per entry; .value points into the block that starts at .key). */
typedef struct pw_map_entry {
    char *key;
    size_t key_len;
    char *value;
    size_t value_len;
} pw_map_entry;

typedef struct pw_map {
    pw_map_entry *e;
    size_t n, cap;
    bool present;
    bool dirty;
    struct pw_map_chunk *chunks; /* entry bytes, bump-allocated (pw_map.c) */
} pw_map;

/* Appends a copy of key (lower-cased) and value. Returns false on OOM. */
bool pw_map_add(pw_map *m, const char *key, size_t key_len, const char *value, size_t value_len);
/* First value for key (case-insensitive) or NULL. */
const pw_map_entry *pw_map_get(const pw_map *m, const char *key, size_t key_len);
/* Removes every entry (keeps storage for reuse). */
void pw_map_clear(pw_map *m);
/* Removes every entry and frees all storage; the map is empty and valid. */
void pw_map_free(pw_map *m);

/* ---- modules and plugins ---------------------------------------------------- */

typedef struct pw_module pw_module;

/* How a module's code runs (sluice/aot.h). A zeroed struct (or NULL) is
 * the interpreter. */
typedef struct pw_module_opts {
    sl_runtime runtime;    /* interp; aot (native code at load, failure = load
                              error); auto (cached artifact, else interpret
                              while a background compile runs: VMs created
                              after it finishes run native code) */
    const char *aot_cache; /* artifact cache directory; NULL = aot.h's default */
} pw_module_opts;

/* Compiles a plugin module: validates it with the engine, detects the ABI
 * marker export (rejects modules without one), requires an exported memory
 * and an allocator (malloc or proxy_on_memory_allocate), prepares the
 * runtime opt asks for and checks that every import is one this host
 * serves (else the error names it). Borrows bytes. opt may be NULL.
 * Returns owned (refcount 1) or NULL with err filled. */
pw_module *pw_module_load(sl_engine *engine, const uint8_t *bytes, size_t len,
                          const pw_module_opts *opt, char *err, size_t err_len);
pw_module *pw_module_ref(pw_module *m);
void pw_module_unref(pw_module *m);
pw_abi pw_module_abi(const pw_module *m);
/* True once native code is attached (runtime aot, or auto after its compile). */
bool pw_module_native(const pw_module *m);

typedef struct pw_root_conf {
    const char *root_id;           /* "" allowed */
    const uint8_t *configuration;  /* PLUGIN_CONFIGURATION bytes (JSON) */
    size_t configuration_len;
    pw_failure_policy failure;
} pw_root_conf;

typedef struct pw_plugin_conf {
    const char *name;              /* plugin_name property, logs, stats */
    const char *vm_id;             /* shared data / queue namespace; "" allowed */
    const uint8_t *vm_configuration; /* VM_CONFIGURATION bytes */
    size_t vm_configuration_len;
    const char *const *env;        /* "KEY=VALUE", for WASI environ_* */
    size_t env_count;
    uint32_t max_memory_pages;     /* 0 = engine default */
    uint32_t callback_cpu_ms;      /* per guest call; 0 = no limit */
    int header_stop_iteration;     /* -1 = by ABI (§3.3), 0 = 1→4, 1 = honour 1 */
    const pw_root_conf *roots;     /* at least one */
    size_t root_count;
} pw_plugin_conf;

typedef struct pw_plugin pw_plugin;

/* Copies conf (every string and byte array). Takes its own module
 * reference (the caller keeps its own).
 * Returns owned (refcount 1) or NULL with err. */
pw_plugin *pw_plugin_new(pw_module *m, const pw_plugin_conf *conf, char *err, size_t err_len);
pw_plugin *pw_plugin_ref(pw_plugin *p);
void pw_plugin_unref(pw_plugin *p);
const char *pw_plugin_name(const pw_plugin *p);
size_t pw_plugin_root_count(const pw_plugin *p);

/* Runs the plugin once in a throw-away VM (the canary, §1.3 step 6): init,
 * then vm_start and configure for every root. Returns 0, or -1 with err
 * naming the failing root and why. The gateway calls it while validating a
 * new config generation so a plugin that rejects its configuration rejects
 * the reload. */
int pw_plugin_check(const pw_plugin *p, sl_engine *engine, char *err, size_t err_len);

/* ---- the host's side ------------------------------------------------------------ */

typedef struct pw_vm pw_vm;
typedef struct pw_stream pw_stream;

/* What a VM needs from its embedder (the gateway worker). Every callback
 * may be NULL: the matching hostcall then returns the documented "not
 * available" status (HTTP call: BAD_ARGUMENT for the unknown cluster). */
typedef struct pw_host {
    void *user;
    /* Start an HTTP call to cluster. headers include :method :path
     * :authority. On completion, in a later loop iteration, the host calls
     * pw_vm_http_call_done(vm, token, ...). Returns PW_OK,
     * PW_BAD_ARGUMENT (unknown cluster) or PW_INTERNAL_FAILURE. */
    pw_status (*http_call)(void *user, pw_vm *vm, uint32_t token, const char *cluster,
                           size_t cluster_len, const pw_map *headers, const uint8_t *body,
                           size_t body_len, const pw_map *trailers, uint32_t timeout_ms);
    /* Higress Redis (§5.1). redis_init names the cluster (text before '?';
     * the gateway keys clients by plugin, calling root and that name) with
     * credentials and a timeout; redis_call sends one RESP command;
     * completion: pw_vm_redis_call_done. */
    pw_status (*redis_init)(void *user, pw_vm *vm, const char *cluster, size_t cluster_len,
                            const char *username, size_t username_len, const char *password,
                            size_t password_len, uint32_t timeout_ms);
    pw_status (*redis_call)(void *user, pw_vm *vm, uint32_t token, const char *cluster,
                            size_t cluster_len, const uint8_t *query, size_t query_len);
    /* Arm (period_ms > 0) or disarm the tick timer of root `root_index`;
     * the host calls pw_vm_tick(vm, root_index) each period. */
    void (*set_tick)(void *user, pw_vm *vm, size_t root_index, uint32_t period_ms);
    /* Run fn(arg) on this VM's thread soon. Called from ANY thread (shared
     * queue delivery). Must not call fn synchronously. */
    void (*post)(void *user, void (*fn)(void *arg), void *arg);
} pw_host;

/* ---- VMs -------------------------------------------------------------------------- */

/* Instantiates the plugin on the calling thread: links env.proxy_* (the
 * union of every ABI version), the emscripten helpers and WASI, runs
 * _initialize (+ main) or _start, then creates every root context and
 * calls on_vm_start and on_configure. Returns owned (refcount 1), or NULL
 * with err when instantiation, init, vm_start or configure failed. host is
 * copied. */
pw_vm *pw_vm_new(const pw_plugin *p, sl_engine *engine, const pw_host *host, char *err,
                 size_t err_len);
pw_vm *pw_vm_ref(pw_vm *vm);
/* Drops a reference; the last one calls on_done/on_delete for the roots
 * (unless failed) and frees the instance. */
void pw_vm_unref(pw_vm *vm);
bool pw_vm_failed(const pw_vm *vm);
const pw_plugin *pw_vm_plugin(const pw_vm *vm);
/* The root index of the context running now (inside a hostcall: the caller's
 * root; a stream's root for stream contexts). */
size_t pw_vm_current_root(const pw_vm *vm);
uint64_t pw_vm_memory_bytes(const pw_vm *vm);

/* Async completions (the host calls these on the VM's thread). A token
 * unknown to the VM, or a VM that failed meanwhile, is ignored; so is a
 * completion delivered while a guest call of this VM is running (call these
 * from the event loop, never from inside a pw_* callback).
 * status 0 = success; otherwise the call failed (the guest sees counts 0
 * and proxy_get_status 11 "reset"). */
void pw_vm_http_call_done(pw_vm *vm, uint32_t token, int status, const pw_map *headers,
                          const uint8_t *body, size_t body_len, const pw_map *trailers);
void pw_vm_redis_call_done(pw_vm *vm, uint32_t token, int status, const uint8_t *resp,
                           size_t resp_len);
void pw_vm_tick(pw_vm *vm, size_t root_index);

/* ---- slots: self-healing per worker ------------------------------------------------- */

#define PW_RECOVER_MIN_MS 1000

typedef struct pw_slot {
    pw_plugin *plugin;   /* reference */
    sl_engine *engine;
    pw_host host;
    pw_vm *vm;           /* current, or NULL */
    uint64_t next_try_ms;/* no re-creation before this (monotonic ms) */
    char last_error[256];
} pw_slot;

void pw_slot_init(pw_slot *s, pw_plugin *p, sl_engine *engine, const pw_host *host);
/* The current healthy VM, creating or re-creating it when allowed; NULL
 * while the plugin cannot run (backoff after a failure): the caller applies
 * the failure policy of the root (pw_plugin_failure). Borrowed. */
pw_vm *pw_slot_vm(pw_slot *s, uint64_t now_ms);
void pw_slot_fini(pw_slot *s);
pw_failure_policy pw_plugin_failure(const pw_plugin *p, size_t root_index);

/* ---- streams -------------------------------------------------------------------------- */

/* What a stream needs from its embedder. */
typedef struct pw_stream_host {
    void *user;
    /* Properties the host layer cannot derive from the maps (§6.3):
     * "source.address", "source.port", "destination.address",
     * "destination.port", "connection.id", "connection.tls_version",
     * "route_name", "cluster_name", "xds.route_name", "xds.cluster_name",
     * "request.time", "request.protocol", "response.code", "upstream.address"
     * ... path segments joined with '.'. Append the serialized value to out
     * (§6.3 encodings) and return PW_OK, or PW_NOT_FOUND. */
    pw_status (*property)(void *user, const char *path, ut_buf *out);
    /* A plugin changed the stream from outside a stream callback (from an
     * HTTP call response, a tick, a queue): the host should look at
     * pw_stream_state again: resumed, local reply pending, or closed.
     * Called after the guest call returned, never inside it. */
    void (*wake)(void *user, pw_stream *s);
} pw_stream_host;

/* What a stream callback asks of the gateway. */
typedef enum pw_action {
    PW_CONTINUE,      /* forward (maps / body may have changed) */
    PW_PAUSE,         /* hold this direction until pw_stream_state says resumed */
    PW_BUFFER,        /* body: keep the bytes in the pw_body and call again with more */
    PW_LOCAL_REPLY,   /* answer with pw_stream_local_reply(); stop calling request callbacks */
    PW_CLOSE,         /* reset the stream (proxy_close_stream) */
} pw_action;

/* Creates the stream context lazily (on_context_create happens just before
 * the first callback). Takes a VM reference. NULL on OOM. */
pw_stream *pw_stream_new(pw_vm *vm, size_t root_index, const pw_stream_host *host);

/* The stream's maps and body buffers; fill them before the callbacks. The
 * body buffer holds the chunk of the current callback (or everything kept
 * since the last PW_BUFFER); after the callback, what it holds is what to
 * forward. */
pw_map *pw_stream_map(pw_stream *s, pw_map_type type);
ut_buf *pw_stream_body(pw_stream *s, bool response);

/* True when the plugin exports proxy_on_request_body (response: ..._body):
 * the gateway then passes the body through pw_stream_request_body chunk by
 * chunk instead of forwarding it untouched. */
bool pw_stream_has_body_callback(const pw_stream *s, bool response);

pw_action pw_stream_request_headers(pw_stream *s, bool end_of_stream);
pw_action pw_stream_request_body(pw_stream *s, bool end_of_stream);
pw_action pw_stream_request_trailers(pw_stream *s);
pw_action pw_stream_response_headers(pw_stream *s, bool end_of_stream);
pw_action pw_stream_response_body(pw_stream *s, bool end_of_stream);
pw_action pw_stream_response_trailers(pw_stream *s);

/* After PW_LOCAL_REPLY (or a wake): the reply to send. Owned by the stream. */
typedef struct pw_local_reply {
    int status;
    const char *details;     /* response-code-details token */
    const uint8_t *body;
    size_t body_len;
    const pw_map *headers;   /* additional headers */
} pw_local_reply;

typedef struct pw_stream_state {
    bool request_paused;
    bool response_paused;
    bool local_reply;        /* pw_stream_local_reply() is set */
    bool closed;
    /* Headers held by an honoured StopIteration (§3.3, header result 1 on
     * 0.2.100 or header_stop_iteration = 1): keep delivering body chunks
     * of that direction to the plugin; a CONTINUE from a body callback (or
     * a resume) releases headers and body together. */
    bool request_body_wanted;
    bool response_body_wanted;
} pw_stream_state;

pw_stream_state pw_stream_state_of(const pw_stream *s);
const pw_local_reply *pw_stream_local_reply(const pw_stream *s);

/* The stream is over: on_log, on_done, on_delete (only if the context was
 * created; log strictly before delete), then frees the stream and drops
 * its VM reference. Safe on a failed VM (no guest calls). */
void pw_stream_finish(pw_stream *s);

/* ---- process-wide: metrics, stats, logging --------------------------------------------- */

/* Plugin-defined metrics (§2.14), summed over every worker: appended to out
 * as Prometheus text, names prefixed "sluice_plugin_". */
void pw_metrics_write_prometheus(ut_buf *out);

/* Host-side counters per plugin name (traps, VM creations, recoveries,
 * callbacks, CPU time in guest code), Prometheus text. */
void pw_stats_write_prometheus(ut_buf *out);

/* Where plugin logs go (proxy_log, fd_write 1/2, traps). Default: stderr,
 * one line "[plugin NAME] LEVEL message". Set once before any VM runs. */
typedef void (*pw_log_fn)(void *user, const char *plugin, pw_log_level level, const char *msg,
                          size_t len);
void pw_set_log(pw_log_fn fn, void *user, pw_log_level min_level);

#endif /* SLUICE_PW_H */
