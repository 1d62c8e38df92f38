/*
 * gw_plugin.h — proxy-wasm plugins in the data plane: the glue between the
 * gateway (config generations, workers, streams) and src/proxywasm.
 *
 * Layer:     gateway.
 * Owns:      per generation, the compiled plugins (gw_gen_plugins, built on
 *            the main thread, reused across reloads when unchanged); per
 *            worker, the self-healing VM slots, tick timers, the cross-thread
 *            post queue and the pw_host served to VMs (HTTP calls, Redis);
 *            per stream, running the route's plugin chain: request headers,
 *            response headers, local replies, pauses resumed by plugins,
 *            and on_log/on_delete at the end.
 * Not here:  the ABI itself (src/proxywasm), parsing the plugin config
 *            (gw_config_plugins.c), the callout and Redis clients
 *            (gw_callout.c, gw_redis.c).
 *
 * A route's chain runs in order on the request and in reverse on the
 * response. Plugins see the request as Envoy presents HTTP/1 to filters:
 * pseudo-headers :method :path :authority :scheme first, then the fields
 * without Host and hop-by-hop ones. When a plugin changed the map, the
 * request the upstream sees is rebuilt from it, and the route is matched
 * again when :path, :authority or :method changed (Envoy's route cache
 * clearing); the new route's plugins that have not run yet run then, once
 * (a second move is refused), so a rewrite never skips a route's auth.
 */
#ifndef GW_PLUGIN_H
#define GW_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/vm.h>

#include "gw_config.h"
#include "gw_http1.h"
#include "pw.h"

struct gw_gen;
struct gw_worker;
struct gw_stream;

/* The plugins of one generation (shared read-only by the workers). */
typedef struct gw_gen_plugins {
    sl_engine *engine;     /* borrowed from the server */
    pw_plugin **plugin;    /* per gw_config.plugins (references) */
    pw_module **module;    /* per gw_config.plugins (references; shared by sha256) */
    uint32_t *config_root; /* per gw_config.plugin_configs: root index in its plugin */
    size_t n;
} gw_gen_plugins;

/* Main thread. Compiles cfg's plugins into out, reusing prev's compiled
 * modules (same sha256) and whole plugins (same settings and the same
 * configurations), so an unchanged plugin keeps its VMs across a reload.
 * Every new plugin runs its canary (init, vm_start, configure for each
 * configuration); a failure rejects the generation. prev may be NULL.
 * Returns 0 or -1 with err. */
int gw_plugins_load(gw_gen_plugins *out, const gw_config *cfg, const gw_gen_plugins *prev,
                    const gw_config *prev_cfg, sl_engine *engine, char *err, size_t err_len);
void gw_plugins_free(gw_gen_plugins *p);

typedef struct gw_worker_plugins gw_worker_plugins;

/* Worker thread: adopt a generation's plugins (slots of unchanged plugins
 * keep their VM), or free everything (at exit). */
int gw_worker_plugins_apply(struct gw_worker *w, const struct gw_gen *g);
void gw_worker_plugins_close(struct gw_worker *w); /* closes handles: the loop can end */
void gw_worker_plugins_free(struct gw_worker *w);  /* after the loop ended */

/* Outstanding HTTP/Redis calls and Redis clients of a worker
 * (gw_plugin_calls.c). */
typedef struct gw_plugin_calls gw_plugin_calls;
gw_plugin_calls *gw_plugin_calls_new(struct gw_worker *w);
void gw_plugin_calls_free(gw_plugin_calls *pc);
/* The call state of the worker whose pw_host.user this is. */
gw_plugin_calls *gw_worker_plugins_calls(void *host_user);

/* Fills h's http_call, redis_init and redis_call (gw_plugin_calls.c). */
void gw_plugin_host_calls(pw_host *h);

/* A body a plugin keeps (StopIterationAndBuffer at the end of the body)
 * until it continues the stream. */
typedef struct gw_body_hold {
    bool on;
    uint8_t at;  /* index of that plugin */
    bool eos;    /* the whole body has arrived */
} gw_body_hold;

/* Per-stream plugin state (lives in gw_stream). */
#define GW_PLUGIN_CHAIN_MAX 16
#define GW_PLUGIN_CHAIN_MAX_TEXT "16"
typedef struct gw_stream_plugins {
    pw_stream *ps[GW_PLUGIN_CHAIN_MAX];
    uint8_t n;
    gw_plugin_ref refs[GW_PLUGIN_CHAIN_MAX]; /* the chain so far (skipped fail-open ones too) */
    uint8_t n_refs;
    uint8_t rerouted;    /* the request moved to another route's chain */
    uint8_t paused_at;   /* request headers: index of the plugin holding the stream */
    bool request_paused;
    bool response_paused;
    bool applied;        /* request rebuilt from a plugin's map */
    ut_buf carry;        /* body bytes between two plugins */
    gw_body_hold hold[2];/* [0] request, [1] response body */
    void *req_block;     /* storage for the rebuilt request head */
    void *resp_block;    /* storage for the rebuilt response head */
    struct gw_stream *s;
    pw_stream_host host;
} gw_stream_plugins;

/* Runs the request-headers phase of s's chain (if its route has one).
 * Returns true when the stream goes on to the route's action now; false
 * when a plugin answered (local reply sent), closed the stream, or paused
 * it (gw_stream_run_action is called when it resumes). */
bool gw_plugin_request(struct gw_stream *s);

/* True when s's chain has a plugin with a body callback for that
 * direction and the message has a body: the proxy then passes the body
 * through gw_plugin_body instead of forwarding it untouched, re-framed
 * chunked (plugins may change its length). */
bool gw_plugin_filters_body(struct gw_stream *s, bool response);

/* Runs the body phase of one direction (request: chain order; response:
 * reverse) on data[0..len), the decoded payload just read (may be empty at
 * eos). *out is what goes on now (empty while a plugin buffers), valid
 * until the next call.
 * Returns 0, or 1 when the stream was answered or closed (the caller
 * stops). While hold[response].on, a plugin keeps the body; once
 * gw_plugin_body_resumable, call again with data NULL and eos =
 * hold[response].eos to let the held bytes out (a wake triggers that
 * through gw_proxy_on_client_data / gw_proxy_resume_response). A request
 * body plugin may still answer (local reply); on a response body the head
 * is out, so an answer resets the stream. */
int gw_plugin_body(struct gw_stream *s, bool response, const char *data, size_t len, bool eos,
                   gw_str *out);
bool gw_plugin_body_resumable(const struct gw_stream *s, bool response);

/* The upstream's response head is parsed (s->resp): runs the response-
 * headers phase in reverse order. Returns true to forward the (possibly
 * rewritten) response, false when a plugin replaced it with a local reply
 * (already sent) or closed the stream. */
bool gw_plugin_response_headers(struct gw_stream *s);

/* The stream is over: on_log, on_done, on_delete for each plugin. */
void gw_plugin_stream_finish(struct gw_stream *s);

/* The config's runtime as sluice/aot.h's (plugins here, WAGI routes in
 * gw_server.c). */
static inline sl_runtime gw_sl_runtime(gw_runtime r)
{
    return r == GW_RUNTIME_AOT ? SL_RUNTIME_AOT : r == GW_RUNTIME_AUTO ? SL_RUNTIME_AUTO
                                                                       : SL_RUNTIME_INTERP;
}

#endif
