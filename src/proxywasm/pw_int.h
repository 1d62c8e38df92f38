/*
 * pw_int.h — internals shared by the files of src/proxywasm (prefix pw__).
 *
 * Layer:     proxy-wasm host. Includes <sluice/vm.h>, wasi.h, util.
 * Files:     pw_map.c        pw_map ops and the serialized pair format (§2.7)
 *            pw_log.c        plugin log sink (pw_set_log)
 *            pw_stats.c      host-side counters per plugin name
 *            pw_metrics.c    plugin-defined metrics, process-wide, lock-free updates
 *            pw_shared.c     shared data (CAS) and shared queues, process-wide
 *            pw_module.c     load, ABI detection, import/export checks
 *            pw_plugin.c     plugin configuration copies, canary check
 *            pw_vm.c         instantiate, init, root contexts, call wrapper
 *                            (deadline, trap → failure), async completions
 *            pw_ctx.c        context-id table, effective context, wake list
 *            pw_slot.c       self-healing slot
 *            pw_stream.c     stream lifecycle and action mapping (§3.3)
 *            pw_link.c       the import table (every env.proxy_* of every ABI,
 *                            helpers, WASI) and guest-memory helpers
 *            pw_hostcalls_*.c the hostcalls, one file per group
 */
#ifndef SLUICE_PW_INT_H
#define SLUICE_PW_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sluice/vm.h>

#include "pw.h"
#include "wasi.h"

/* ---- callbacks (exports) looked up once per VM --------------------------------- */

#define PW__CALLBACKS(X)                                                    \
    X(CB_CONTEXT_CREATE, "proxy_on_context_create")                         \
    X(CB_VM_START, "proxy_on_vm_start")                                     \
    X(CB_CONFIGURE, "proxy_on_configure")                                   \
    X(CB_TICK, "proxy_on_tick")                                             \
    X(CB_QUEUE_READY, "proxy_on_queue_ready")                               \
    X(CB_REQUEST_HEADERS, "proxy_on_request_headers")                       \
    X(CB_REQUEST_BODY, "proxy_on_request_body")                             \
    X(CB_REQUEST_TRAILERS, "proxy_on_request_trailers")                     \
    X(CB_RESPONSE_HEADERS, "proxy_on_response_headers")                     \
    X(CB_RESPONSE_BODY, "proxy_on_response_body")                           \
    X(CB_RESPONSE_TRAILERS, "proxy_on_response_trailers")                   \
    X(CB_HTTP_CALL_RESPONSE, "proxy_on_http_call_response")                 \
    X(CB_REDIS_CALL_RESPONSE, "proxy_on_redis_call_response")               \
    X(CB_DONE, "proxy_on_done")                                             \
    X(CB_LOG, "proxy_on_log")                                               \
    X(CB_DELETE, "proxy_on_delete")

typedef enum pw__cb {
#define PW_X_(id, name) PW__##id,
    PW__CALLBACKS(PW_X_)
#undef PW_X_
    PW__CB_COUNT
} pw__cb;

extern const char *const pw__cb_names[PW__CB_COUNT];

/* What the VM is running now: decides which buffers/maps are readable. */
typedef enum pw__phase {
    PW__PH_NONE,
    PW__PH_INIT,          /* _initialize / main / _start */
    PW__PH_ROOT_CREATE,   /* root on_context_create: plugin config readable */
    PW__PH_VM_START,
    PW__PH_CONFIGURE,     /* plugin config readable */
    PW__PH_STREAM,        /* a stream callback */
    PW__PH_HTTP_RESPONSE, /* maps 6/7, buffer 4 */
    PW__PH_REDIS_RESPONSE,/* buffer 9 */
    PW__PH_ROOT_OTHER,    /* tick, queue, done, delete */
} pw__phase;

/* ---- module, plugin --------------------------------------------------------------- */

struct pw_module {
    atomic_int refs;
    sl_module *mod;
    pw_abi abi;
    bool has_cb[PW__CB_COUNT];
    size_t header_params; /* 2 (0.1.0) or 3 */
};

typedef struct pw__stats pw__stats;

typedef struct pw__root_conf {
    char *root_id;
    uint8_t *configuration;
    size_t configuration_len;
    pw_failure_policy failure;
} pw__root_conf;

struct pw_plugin {
    atomic_int refs;
    pw_module *module;
    char *name;
    char *vm_id;
    uint8_t *vm_configuration;
    size_t vm_configuration_len;
    char **env;
    size_t env_count;
    uint32_t max_memory_pages;
    uint32_t callback_cpu_ms;
    bool honour_stop_iteration;
    pw__root_conf *roots;
    size_t root_count;
    pw__stats *stats;
};

/* ---- VM --------------------------------------------------------------------------- */

typedef struct pw__root {
    uint32_t id;
    bool created;
    uint32_t tick_ms;
} pw__root;

typedef struct pw__pending {
    uint32_t token;
    size_t root;
} pw__pending;

/* The current (or effective) context of a guest call. */
typedef struct pw__ctxref {
    uint32_t id;    /* 0 = none */
    size_t root;    /* root index */
    pw_stream *s;   /* NULL for a root context */
} pw__ctxref;

typedef struct pw__ctx_ent {
    uint32_t id; /* 0 = empty */
    size_t root;
    pw_stream *s;
} pw__ctx_ent;

/* A queue owner: lets another thread post on_queue_ready to a VM safely.
 * refs is atomic (queues and in-flight posts hold references); vm is read
 * and cleared only on the VM's own thread. */
typedef struct pw__owner {
    atomic_int refs;
    pw_vm *vm;
    void (*post)(void *user, void (*fn)(void *arg), void *arg);
    void *post_user;
} pw__owner;

struct pw_vm {
    int refs;
    pw_plugin *plugin;
    sl_engine *engine;
    pw_host host;
    sl_linker *linker;
    sl_instance *inst;
    wasi_ctx *wasi;
    sl_memory *mem;
    sl_func *fn[PW__CB_COUNT];
    sl_func *alloc;
    sl_deadline dl;
    bool dl_registered;
    uint64_t cpu_ns; /* callback_cpu_ms in ns, 0 = none */
    bool failed;
    bool need_rebuild;
    bool initialized; /* roots configured: failure stats count as runtime */
    int depth;        /* guest calls on the stack */
    pw__phase phase;
    pw__ctxref cur, eff;
    pw__root *roots;

    /* context ids */
    uint32_t next_id;
    pw__ctx_ent *ctx;
    size_t ctx_cap, ctx_n;

    /* outbound calls */
    uint32_t next_http_token, next_redis_token;
    pw__pending *pending;
    size_t pending_n, pending_cap;
    const pw_map *call_headers, *call_trailers;
    const uint8_t *call_body;
    size_t call_body_len;
    uint32_t status_code;
    const char *status_msg;

    /* streams to wake after the top-level call returns */
    pw_stream **wake;
    size_t wake_n, wake_cap;

    pw__owner *owner;

    /* fd_write 1/2 line assembly */
    char line[2][512];
    size_t line_len[2];
    ut_buf scratch; /* property values etc.; reused */
};

/* Stream. */
typedef struct pw__kv {
    char *key;
    size_t key_len;
    uint8_t *val;
    size_t val_len;
} pw__kv;

struct pw_stream {
    pw_vm *vm;
    size_t root;
    pw_stream_host host;
    uint32_t id;
    bool created, finished;
    pw_map maps[PW_MAP_COUNT_STREAM];
    ut_buf body[2];
    pw_stream_state st;
    bool body_wanted[2];   /* StopIteration honoured: headers held, bodies delivered */
    bool in_cb;            /* a stream callback of this stream is running */
    bool cont[2];          /* continue_stream during the current callback */
    bool lr_now;           /* local reply set during the current callback */
    bool wake_pending;
    pw_local_reply reply;
    char *reply_details;
    uint8_t *reply_body;
    pw_map reply_headers;
    pw__kv *fs;            /* filter state set by proxy_set_property */
    size_t fs_n, fs_cap;
};

/* ---- pw_vm.c ----------------------------------------------------------------------- */

/* Calls a callback (or the allocator) with the wrapper: top-level calls
 * reset the effective context, arm the deadline, account time, and after
 * return flush the wake list. A trap fails the VM. Returns false when the
 * call did not complete (VM failed, now or before). */
bool pw__call(pw_vm *vm, sl_func *f, const sl_val *args, sl_val *res);
/* Calls callback cb if exported; *ret gets its i32 result (def if absent). */
bool pw__cb_call(pw_vm *vm, pw__cb cb, const uint32_t *args, size_t nargs, uint32_t *ret,
                 uint32_t def);
void pw__vm_fail(pw_vm *vm, const char *why, const sl_trap *trap);
/* Guest allocation of n > 0 bytes; returns the guest address or 0 (status 6). */
uint32_t pw__guest_alloc(pw_vm *vm, uint32_t n);
sl_trap *pw__failed_trap(void);

/* ---- pw_ctx.c ---------------------------------------------------------------------- */

uint32_t pw__ctx_new_id(pw_vm *vm, size_t root, pw_stream *s);
void pw__ctx_remove(pw_vm *vm, uint32_t id);
const pw__ctx_ent *pw__ctx_find(const pw_vm *vm, uint32_t id);
void pw__wake_add(pw_vm *vm, pw_stream *s);
void pw__wake_remove(pw_vm *vm, pw_stream *s);
void pw__wake_flush(pw_vm *vm);

/* ---- pw_stream.c ------------------------------------------------------------------- */

void pw__stream_set_reply(pw_stream *s, int status, const char *details, size_t details_len,
                          const uint8_t *body, size_t body_len);
/* The VM failed: apply s's root policy, wake it when paused. */
void pw__stream_vm_failed(pw_stream *s);
/* A state change from a hostcall: wake later unless inside s's own callback. */
void pw__stream_touched(pw_stream *s);

/* ---- pw_map.c ---------------------------------------------------------------------- */

#define PW__MAP_MAX_PAIRS 1024
#define PW__MAP_MAX_BYTES (1u << 20)

size_t pw__map_serialized_size(const pw_map *m);
void pw__map_serialize(const pw_map *m, uint8_t *out);
/* Strict parse of a serialized map (§2.7) into m (appended). Accepts the
 * three empty forms. Returns PW_OK, PW_BAD_ARGUMENT or PW_INTERNAL_FAILURE (OOM). */
pw_status pw__map_parse(const uint8_t *p, size_t n, pw_map *m);
size_t pw__map_remove(pw_map *m, const char *key, size_t key_len);
size_t pw__map_bytes(const pw_map *m);
bool pw__key_eq(const char *a, size_t an, const char *b, size_t bn); /* ASCII case-insensitive */

/* ---- pw_link.c: guest memory ------------------------------------------------------- */

sl_linker *pw__link(pw_vm *vm, sl_engine *engine, wasi_ctx *wasi); /* vm may be NULL (check) */
bool pw__rd(pw_vm *vm, uint32_t p, uint32_t n, const uint8_t **out);
bool pw__wr32(pw_vm *vm, uint32_t p, uint32_t v);
bool pw__wr64(pw_vm *vm, uint32_t p, uint64_t v);
/* Writes (ptr,len) of a copy of data into the guest: 0/0 without allocating
 * when n == 0; checks both out-pointers first. */
pw_status pw__ret_bytes(pw_vm *vm, uint32_t ptr_ptr, uint32_t len_ptr, const void *data,
                        size_t n);
pw_status pw__ret_map(pw_vm *vm, uint32_t ptr_ptr, uint32_t len_ptr, const pw_map *m);

/* Host-call definition tables, one per hostcall file. */
typedef struct pw__def {
    const char *name;
    const char *sig;
    sl_host_fn fn;
} pw__def;

extern const pw__def pw__defs_core[];   /* log, time, config, status, stream control */
extern const pw__def pw__defs_maps[];   /* header maps, buffers */
extern const pw__def pw__defs_props[];  /* properties */
extern const pw__def pw__defs_async[];  /* http, grpc, redis, ticks, foreign, Higress */
extern const pw__def pw__defs_shared[]; /* shared data, queues, metrics */

#define PW__HOSTCALL(fn)                                                  \
    static sl_trap *h_##fn(sl_instance *caller_, sl_val *a_, void *user_) \
    {                                                                     \
        (void)caller_;                                                    \
        pw_vm *vm_ = user_;                                               \
        if (!vm_ || vm_->failed)                                          \
            return pw__failed_trap();                                     \
        a_[0].i32 = (int32_t)fn(vm_, a_);                                 \
        return vm_->failed ? pw__failed_trap() : NULL;                    \
    }

#define PW__A(i) ((uint32_t)a_[i].i32)

/* ---- pw_log.c, pw_stats.c ---------------------------------------------------------- */

void pw__log(const char *plugin, pw_log_level level, const char *msg, size_t len);
void pw__logf(const char *plugin, pw_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
pw_log_level pw__log_min(void);

struct pw__stats {
    struct pw__stats *next;
    char *name;
    atomic_ullong vm_created, vm_failed, traps, cpu_limit, recoveries, rebuilds, callbacks,
        guest_ns;
};
pw__stats *pw__stats_get(const char *name); /* process-wide, never freed; NULL on OOM */

/* ---- pw_shared.c ------------------------------------------------------------------- */

pw_status pw__shared_get(const char *vm_id, const char *key, size_t key_len, ut_buf *out,
                         uint32_t *cas);
pw_status pw__shared_set(const char *vm_id, const char *key, size_t key_len,
                         const uint8_t *val, size_t val_len, uint32_t cas);
pw_status pw__queue_register(pw_vm *vm, const char *name, size_t name_len, uint32_t *id);
pw_status pw__queue_resolve(const char *vm_id, size_t vm_id_len, const char *name,
                            size_t name_len, uint32_t *id);
pw_status pw__queue_enqueue(uint32_t id, const uint8_t *val, size_t len);
pw_status pw__queue_dequeue(uint32_t id, ut_buf *out);
void pw__owner_unref(pw__owner *o);
void pw__vm_queue_ready(pw_vm *vm, size_t root, uint32_t qid); /* pw_vm.c */

/* ---- pw_metrics.c ------------------------------------------------------------------ */

pw_status pw__metric_define(uint32_t type, const char *name, size_t len, uint32_t *id);
pw_status pw__metric_increment(uint32_t id, int64_t delta);
pw_status pw__metric_record(uint32_t id, uint64_t value);
pw_status pw__metric_get(uint32_t id, uint64_t *value);

#endif /* SLUICE_PW_INT_H */
