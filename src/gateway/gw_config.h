/*
 * gw_config.h — the gateway's configuration: one immutable, reference-
 * counted *generation* built from a YAML file (docs/config.md).
 *
 * Layer:     gateway. Knows YAML (libyaml), addresses and PCRE2 patterns;
 *            knows nothing of sockets, threads or the event loop.
 * Owns:      the config structs, loading + validating them in full (every
 *            error carries file:line:column and a field path), defaults,
 *            and the JSON dump for GET /config_dump.
 * Not here:  matching requests against routes (gw_router.c), applying a
 *            generation to running workers (gw_server.c).
 *
 * A generation is never modified after gw_config_load returns, so worker
 * threads read it without locks. Each holder takes a reference
 * (gw_config_ref) and drops it (gw_config_unref); the last unref frees.
 * All strings are NUL-terminated and owned by the generation.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ut_buf.h"

typedef struct gw_sockaddr {
    struct sockaddr_storage ss;
    socklen_t len;
} gw_sockaddr;

typedef struct gw_listener_conf {
    char *name;    /* "listener0" when not given */
    char *address; /* as written: "0.0.0.0:8080", "[::1]:8443" */
    gw_sockaddr addr;
    char *tls_cert; /* PEM file paths; both NULL = plain HTTP */
    char *tls_key;
} gw_listener_conf;

typedef enum gw_lb_kind {
    GW_LB_ROUND_ROBIN,
    GW_LB_LEAST_REQUEST,
    GW_LB_RANDOM,
} gw_lb_kind;

typedef struct gw_endpoint_conf {
    char *address; /* as written: "127.0.0.1:8080" or "backend.local:80" */
    char *host;    /* host part, used for the Host header of health checks */
    uint16_t port;
    gw_sockaddr addr; /* resolved once at load (getaddrinfo) */
} gw_endpoint_conf;

typedef struct gw_health_conf {
    bool enabled;           /* true when the cluster has a health_check block */
    char *path;             /* default "/healthz" */
    char *host;             /* Host header; default the endpoint's host */
    uint32_t interval_ms;   /* default 5000 */
    uint32_t timeout_ms;    /* default 1000 */
    uint32_t healthy_threshold;   /* consecutive passes to become healthy, default 2 */
    uint32_t unhealthy_threshold; /* consecutive failures to become unhealthy, default 3 */
} gw_health_conf;

typedef struct gw_cluster_conf {
    char *name;
    gw_endpoint_conf *endpoints;
    size_t n_endpoints;
    gw_lb_kind lb;                /* default round_robin */
    uint32_t connect_timeout_ms;  /* default 2000 */
    uint32_t request_timeout_ms;  /* wait for response head, and max upstream
                                     read inactivity; default 15000 */
    uint32_t idle_timeout_ms;     /* pooled keep-alive connection; default 60000 */
    uint32_t max_connections;     /* per endpoint per worker; 0 = unlimited (default 1024) */
    uint32_t retries;             /* extra attempts; default 1 */
    bool retry_on_connect_failure;/* default true */
    bool retry_on_5xx;            /* idempotent requests only; default false */
    gw_health_conf health;
    uint32_t eject_consecutive_failures; /* passive ejection; 0 = off (default 5) */
    uint32_t eject_ms;                   /* how long an endpoint stays out, default 10000 */
    uint32_t stat_slot;                  /* filled in by the server (gw_stats) */
} gw_cluster_conf;

typedef enum gw_path_kind {
    GW_PATH_ANY,
    GW_PATH_EXACT,
    GW_PATH_PREFIX,
    GW_PATH_REGEX, /* PCRE2, anchored at both ends, matched on the path without query */
} gw_path_kind;

typedef struct gw_header_match {
    char *name;  /* lowercase */
    char *value; /* NULL = the header must be present; else exact value */
} gw_header_match;

typedef struct gw_kv {
    char *name;
    char *value;
} gw_kv;

typedef enum gw_action_kind {
    GW_ACTION_PROXY,
    GW_ACTION_DIRECT,
    GW_ACTION_REDIRECT,
    GW_ACTION_WAGI,
} gw_action_kind;

/* How a Wasm module's code runs (plugins and WAGI modules; docs/config.md
 * "runtime"): the glue maps it to sluice/aot.h's sl_runtime. */
typedef enum gw_runtime {
    GW_RUNTIME_INTERP, /* default */
    GW_RUNTIME_AOT,
    GW_RUNTIME_AUTO,
} gw_runtime;

const char *gw_runtime_name(gw_runtime r); /* "interp", "aot", "auto" */

typedef struct gw_route_conf {
    char *name; /* "route0"... when not given; unique */
    /* match (every given condition must hold) */
    char **hosts; /* lowercase; "example.com", "*.example.com" (suffix,
                     at least one label), or "*"; empty = any host */
    size_t n_hosts;
    gw_path_kind path_kind;
    char *path;         /* exact/prefix string or regex source */
    void *path_regex;   /* pcre2_code * for GW_PATH_REGEX */
    char **methods;     /* uppercase; empty = any method */
    size_t n_methods;
    gw_header_match *headers;
    size_t n_headers;

    gw_action_kind action;
    /* GW_ACTION_PROXY */
    char *cluster_name;
    struct gw_cluster_conf *cluster; /* resolved; never NULL for PROXY */
    char *prefix_rewrite;            /* replaces the matched prefix (PREFIX routes) */
    char *host_rewrite;              /* replaces the Host header */
    /* GW_ACTION_DIRECT */
    int status;
    char *body;
    size_t body_len;
    gw_kv *response_headers;
    size_t n_response_headers;
    /* GW_ACTION_REDIRECT: each NULL part keeps the request's own */
    int redirect_status; /* 301, 302, 303, 307 or 308; default 301 */
    char *redirect_scheme;
    char *redirect_host;
    char *redirect_path;
    /* GW_ACTION_WAGI: a CGI-over-WASI handler, fresh instance per request */
    char *wagi_module;     /* .wasm path; relative = to the config file's directory */
    char *wagi_modules;    /* or: a WAGI modules.toml whose table serves this route
                              (one matcher: wagi_modules_lookup); exclusive with
                              wagi_module and the per-module keys below */
    char *wagi_init;       /* NULL, or an export run once at load and snapshotted */
    gw_runtime wagi_runtime; /* default interp */
    uint32_t wagi_max_concurrency; /* 0 = unlimited; over it 503 + Retry-After */
    char *wagi_entrypoint; /* NULL = "_start" */
    char *wagi_argv;       /* NULL = WAGI's default argv */
    char *wagi_script_name;/* SCRIPT_NAME; NULL = the route's exact path or prefix
                              without its trailing '/' */
    gw_kv *wagi_env;
    size_t n_wagi_env;
    gw_kv *wagi_volumes;   /* name = host directory, value = guest path */
    size_t n_wagi_volumes;
    uint32_t wagi_timeout_ms;       /* default 30000 */
    uint32_t wagi_max_memory_pages; /* 0 = engine default */
    uint64_t wagi_max_body_bytes;   /* request body cap, default 16 MiB */

    /* Plugin chains (docs/config.md "plugins"), resolved at load:
     * plugin_chains[0] applies when the request's host matches no entry of
     * plugin_domains, plugin_chains[d + 1] when it matches domain d first.
     * Each holds n_plugin_domains + 1 chains (NULL when no plugins). */
    struct gw_plugin_chain *plugin_chains;

    uint32_t stat_slot; /* filled in by the server (gw_stats) */
} gw_route_conf;

/* ---- proxy-wasm plugins (gw_config_plugins.c) ---------------------------- */

typedef enum gw_plugin_failure {
    GW_PLUGIN_FAIL_CLOSED, /* default: a broken plugin answers 503 */
    GW_PLUGIN_FAIL_OPEN,   /* a broken plugin is skipped */
} gw_plugin_failure;

typedef struct gw_plugin_conf {
    char *name;          /* unique */
    char *module;        /* file modules: the path as resolved (relative paths
                            joined to the config file's directory); NULL for url */
    char *url;           /* url modules: http(s)://...; NULL for files */
    char *cache_path;    /* url modules: the on-disk cache file */
    bool sha256_given;   /* sha256 was in the config (checked) */
    unsigned char sha256[32]; /* of the module bytes, always set */
    char sha256_hex[65];
    const unsigned char *module_bytes; /* owned by the generation (shared between
                                          plugins with the same sha256) */
    size_t module_len;
    char *root_id;       /* "" when not given */
    char *vm_id;         /* "" when not given */
    char *vm_config;     /* JSON text, or NULL when not given */
    size_t vm_config_len;
    gw_kv *env;          /* WASI environment of the VM */
    size_t n_env;
    uint64_t max_memory_bytes;   /* default 16 MiB */
    uint32_t cpu_per_callback_ms;/* default 50 */
    gw_plugin_failure failure_policy;
    char *configuration; /* JSON text: the plugin's default configuration;
                            "" when not given (empty PLUGIN_CONFIGURATION) */
    size_t configuration_len;
    bool header_stop_iteration_set;
    bool header_stop_iteration;
    gw_runtime runtime;  /* default interp */
} gw_plugin_conf;

/* One distinct (plugin, configuration JSON) pair of the generation. */
typedef struct gw_plugin_config {
    uint32_t plugin;     /* index in gw_config.plugins */
    const char *json;    /* NUL-terminated; "" = empty configuration */
    size_t json_len;
} gw_plugin_config;

typedef struct gw_plugin_ref {
    uint32_t plugin;     /* index in gw_config.plugins */
    uint32_t config;     /* index in gw_config.plugin_configs */
} gw_plugin_ref;

typedef struct gw_plugin_chain {
    gw_plugin_ref *refs; /* in execution order (request phases) */
    size_t n;
} gw_plugin_chain;

typedef struct gw_plugin_domain {
    char **hosts;        /* lowercase patterns, as routes' match.host */
    size_t n_hosts;
} gw_plugin_domain;

typedef struct gw_limits_conf {
    uint32_t max_header_bytes;    /* default 65536 */
    uint32_t max_headers;         /* default 100 */
    uint32_t max_request_line;    /* default 8192 */
    uint64_t max_body_bytes;      /* request body; 0 = unlimited; default 0 */
    uint32_t max_connections;     /* downstream, whole gateway; default 100000 */
} gw_limits_conf;

typedef struct gw_timeouts_conf {
    uint32_t header_timeout_ms;    /* to receive a full request head; default 30000 */
    uint32_t keepalive_timeout_ms; /* idle downstream connection; default 60000 */
    uint32_t drain_timeout_ms;     /* graceful shutdown; default 30000 */
} gw_timeouts_conf;

typedef struct gw_config {
    atomic_uint refs;
    uint64_t generation; /* set by the server: 1, 2, ... */
    char *source;        /* file path, or the name given to load_string */

    gw_listener_conf *listeners;
    size_t n_listeners; /* at least one */
    char *admin_address; /* default "127.0.0.1:9901" */
    gw_sockaddr admin_addr;
    unsigned workers;    /* 0 in the file = number of CPUs (resolved at load) */

    gw_cluster_conf *clusters;
    size_t n_clusters;
    gw_route_conf *routes;
    size_t n_routes;

    gw_plugin_conf *plugins;
    size_t n_plugins;
    gw_plugin_config *plugin_configs; /* distinct (plugin, configuration) pairs */
    size_t n_plugin_configs;
    gw_plugin_domain *plugin_domains;
    size_t n_plugin_domains;
    char *plugin_cache_dir; /* url modules' cache; default $XDG_CACHE_HOME/sluice,
                               else /tmp/sluice-cache */
    char *aot_cache;        /* AOT artifact cache (plugins and WAGI); relative =
                               to the config file's directory; NULL = the
                               engine's default ($SLUICE_AOT_CACHE, else
                               ~/.cache/sluice/aot) */

    bool access_log; /* default true */
    gw_limits_conf limits;
    gw_timeouts_conf timeouts;
} gw_config;

/* Loads and validates a whole config. On error returns NULL and writes a
 * message like "gateway.yaml:12:7: clusters[0].endpoints[1]: bad port
 * '99999'" to err (always NUL-terminated). Validation includes: unknown
 * keys (an error, to catch typos), types, ranges, duplicate names, routes
 * naming unknown clusters, regexes that do not compile, unresolvable
 * endpoint hosts, TLS files that are not readable. Never crashes on bad
 * input. The result has refs == 1. */
gw_config *gw_config_load_file(const char *path, char *err, size_t err_len);
gw_config *gw_config_load_string(const char *yaml, size_t len, const char *source, char *err,
                                 size_t err_len);

gw_config *gw_config_ref(gw_config *c);
void gw_config_unref(gw_config *c);

/* Appends the generation as JSON (every field, defaults filled in) to out. */
void gw_config_dump_json(const gw_config *c, ut_buf *out);

/* The plugin chain of route rt for a request whose Host header is host
 * (port stripped, case-insensitive; the first plugin domain that matches
 * wins). NULL or an empty chain = no plugins. */
const gw_plugin_chain *gw_config_plugin_chain(const gw_config *c, const gw_route_conf *rt,
                                              const char *host, size_t host_len);

/* True when plugin a (of one generation) and b (of another) are the same
 * plugin: name, module sha256, root_id, vm_id, vm_config, env, limits,
 * failure policy, default configuration, header_stop_iteration and runtime. A glue
 * layer may then keep b's compiled module and VMs for a. */
bool gw_plugin_conf_same(const gw_plugin_conf *a, const gw_plugin_conf *b);
/* True when both generations have the same plugins (gw_plugin_conf_same, in
 * order) and the same configuration table. */
bool gw_config_plugins_same(const gw_config *a, const gw_config *b);

/* YAML value -> JSON (for tests and tools): parses yaml (one document) and
 * serializes its root like plugin configurations. Returns a malloc'd
 * NUL-terminated string or NULL with err set. */
char *gw_config_yaml_to_json(const char *yaml, size_t len, char *err, size_t err_len);

/* Parses "host:port", "[v6]:port" or ":port"/"port" (any address) into addr,
 * resolving names with getaddrinfo. Returns 0 or -1 with a message in err. */
int gw_config_parse_address(const char *s, gw_sockaddr *addr, char *err, size_t err_len);

/* Process-wide switch for tests and fuzzing (default on): when off, host
 * names other than "localhost" are not looked up (no DNS); numeric
 * addresses still resolve and a name is an "unresolvable" error. */
void gw_config_set_name_lookups(bool enabled);

#endif
