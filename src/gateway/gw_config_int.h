/*
 * gw_config_int.h — private to the gw_config*.c files: the typed YAML
 * reader the loader walks the libyaml node tree with, and the helpers the
 * schema files share.
 *
 * Layer:     gateway, internal. Not for other modules: use gw_config.h.
 * Owns (declares): the generation's arena, the field path and
 *            "FILE:LINE:COL: path: problem" errors, node access with a work
 *            budget (alias bombs), scalar syntax (strings with ${ENV}
 *            expansion, whole numbers, booleans, durations, sizes) —
 *            gw_config_yaml.c; address syntax + resolution —
 *            gw_config_addr.c; name sets and validators — gw_config.c;
 *            clusters and routes — gw_config_routes.c.
 * Not here:  the JSON dump (gw_config_dump.c reads the public structs).
 *
 * Failure is sticky: the first error is kept in the caller's buffer and
 * sets r->failed; after that every gwc_* call is a cheap no-op that
 * returns "absent" (NULL / false), so schema code reads straight through
 * and checks r->failed only before it follows pointers it built.
 */
#ifndef GW_CONFIG_INT_H
#define GW_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "gw_config.h"

typedef struct gwc_block gwc_block; /* arena chunk list */

typedef struct gwc_reader {
    yaml_document_t *doc;
    const char *source;  /* file name for messages */
    char *err;           /* caller's buffer (may be NULL) */
    size_t err_len;
    bool failed;
    size_t budget;       /* node visits left (aliases can multiply work) */
    gwc_block **arena;   /* allocations of the generation being built */
    void **node_cache;   /* per node index (1-based), e.g. compiled regexes */
    size_t n_nodes;
    size_t path_len;
    char path[256];      /* "routes[3].match.path" */
} gwc_reader;

/* ---- arena ---------------------------------------------------------------- */
void *gwc_alloc(gwc_reader *r, size_t size); /* zeroed; NULL (and fails) on OOM */
void *gwc_array(gwc_reader *r, size_t n, size_t elem);
char *gwc_strndup(gwc_reader *r, const char *s, size_t n);
void gwc_arena_free(gwc_block *head);

/* ---- field path and errors ------------------------------------------------ */
size_t gwc_push_key(gwc_reader *r, const char *key);
size_t gwc_push_index(gwc_reader *r, size_t i);
void gwc_pop(gwc_reader *r, size_t mark);
/* "SOURCE:LINE:COL: PATH: message", position from node `at` (1:1 if NULL). */
void gwc_fail(gwc_reader *r, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes s[0..n) for a message: at most `max` bytes, control bytes as '?'. */
void gwc_quote(char *out, size_t cap, const char *s, size_t n);

/* ---- nodes ---------------------------------------------------------------- */
yaml_node_t *gwc_node(gwc_reader *r, int index); /* counts against the budget */
bool gwc_is_null(const yaml_node_t *n);          /* plain "", "~", "null" */
const char *gwc_kind(const yaml_node_t *n);      /* "mapping", "list", "value" */
/* Checks that map is a mapping whose keys are all in keys (NULL-terminated,
 * at most 32) and none repeats. Fails (with the right path) otherwise. */
bool gwc_check_keys(gwc_reader *r, yaml_node_t *map, const char *const *keys);
/* The value of key in map, or NULL when absent or null. */
yaml_node_t *gwc_get(gwc_reader *r, yaml_node_t *map, const char *key);
/* As gwc_get, but a missing key is an error "PATH.key: required". */
yaml_node_t *gwc_require(gwc_reader *r, yaml_node_t *map, const char *key);
/* Number of items of a list (fails, returning 0, if n is not a list). */
size_t gwc_seq_len(gwc_reader *r, yaml_node_t *n);
yaml_node_t *gwc_seq_at(gwc_reader *r, yaml_node_t *seq, size_t i);

/* ---- scalars (the path must already name the value) ----------------------- */
bool gwc_parse_uint(const char *s, size_t len, uint64_t *out); /* digits only */
/* The scalar's text after ${VAR} / ${VAR:-default} expansion ("$${" is a
 * literal "${"). May contain NUL bytes; *len is its length. */
const char *gwc_text(gwc_reader *r, yaml_node_t *n, size_t *len);
char *gwc_string(gwc_reader *r, yaml_node_t *n); /* arena copy; rejects NUL bytes */
bool gwc_uint(gwc_reader *r, yaml_node_t *n, uint64_t min, uint64_t max, uint64_t *out);
bool gwc_bool(gwc_reader *r, yaml_node_t *n, bool *out);
/* "250ms", "30s", "1.5m", "2h" or a whole number of milliseconds. */
bool gwc_duration(gwc_reader *r, yaml_node_t *n, uint32_t min_ms, uint32_t *out);
/* "65536", "64KiB", "10MB" (B, KB/kB, MB, GB = 1000^n; KiB/Ki, MiB/Mi, GiB/Gi = 1024^n). */
bool gwc_size(gwc_reader *r, yaml_node_t *n, uint64_t min, uint64_t max, uint64_t *out);

/* Optional map members: absent or null keeps *out (the default). */
void gwc_opt_string(gwc_reader *r, yaml_node_t *map, const char *key, char **out);
void gwc_opt_u32(gwc_reader *r, yaml_node_t *map, const char *key, uint32_t min, uint32_t max,
                 uint32_t *out);
void gwc_opt_bool(gwc_reader *r, yaml_node_t *map, const char *key, bool *out);
void gwc_opt_duration(gwc_reader *r, yaml_node_t *map, const char *key, uint32_t min_ms,
                      uint32_t *out);
void gwc_opt_size(gwc_reader *r, yaml_node_t *map, const char *key, uint64_t min, uint64_t max,
                  uint64_t *out);
/* "runtime: interp | aot | auto" (plugins and WAGI modules). */
void gwc_opt_runtime(gwc_reader *r, yaml_node_t *map, gw_runtime *out);

/* ---- addresses ------------------------------------------------------------ */
#define GWC_HOST_MAX 256
/* Splits "host:port", "[v6]:port", ":port" or "port". host gets the host
 * part without brackets ("" = any address); *v6 says it was bracketed. */
int gwc_split_address(const char *s, char *host, size_t host_cap, uint16_t *port, bool *v6,
                      char *err, size_t err_len);
/* Resolves host (numeric first, then names unless disabled) with port. */
int gwc_resolve(const char *host, bool v6, uint16_t port, gw_sockaddr *addr, char *err,
                size_t err_len);
/* "1.2.3.4:80" / "[::1]:80" for a resolved address. */
void gwc_format_addr(const gw_sockaddr *a, char *out, size_t cap);

/* ---- the loader (gw_config.c) --------------------------------------------- */
typedef struct gwc_impl {
    gw_config pub; /* first: gw_config * and gwc_impl * convert */
    gwc_block *arena;
    void **codes;  /* distinct pcre2_code * (aliases of one regex share one) */
    size_t n_codes;
} gwc_impl;

typedef struct gwc_name {
    const char *name;
    size_t idx;
} gwc_name;

typedef struct gwc_names { /* open addressing, power-of-two capacity */
    gwc_name *e;
    size_t cap;
} gwc_names;

typedef struct gwc_loader {
    gwc_reader r;
    gwc_impl *im;
    gw_config *c;
    gwc_names clusters;
    gwc_names plugins;
    yaml_node_t *root;
} gwc_loader;

void gwc_names_init(gwc_reader *r, gwc_names *s, size_t n);
const gwc_name *gwc_names_find(const gwc_names *s, const char *name);
/* Reads map.name, checks its syntax and uniqueness within set (section
 * names the list in messages); NULL when absent or bad. */
char *gwc_read_name(gwc_reader *r, yaml_node_t *map, bool required, gwc_names *set,
                    const char *section, size_t idx);
/* "route3", or "route3-2", ... when a given name already took it. */
char *gwc_default_name(gwc_reader *r, gwc_names *set, const char *base, size_t idx);
/* Parses and resolves address text s (from node n); fails at n. */
bool gwc_read_address(gwc_reader *r, yaml_node_t *n, const char *s, gw_sockaddr *addr,
                      char *host, uint16_t *port, bool *v6);

bool gwc_valid_token(const char *s);                  /* RFC 9110 token */
bool gwc_valid_path(const char *s, bool allow_query); /* "/..." visible ASCII */
bool gwc_valid_authority(const char *s);              /* host[:port] */
bool gwc_valid_field_value(const char *s);            /* no CTL but HTAB */
void gwc_lower(char *s);
void gwc_upper(char *s);

/* gw_config_routes.c */
void gwc_read_clusters(gwc_loader *L, yaml_node_t *root);
void gwc_read_routes(gwc_loader *L, yaml_node_t *root);

/* gw_config_plugins.c: plugins[] (modules read, fetched and checked),
 * plugin_cache_dir, plugin_domains[]; after the routes are read,
 * gwc_resolve_plugin_chains reads plugin_chain and routes[].plugins and
 * builds every route's chains and the configuration table. */
void gwc_read_plugins(gwc_loader *L, yaml_node_t *root);
void gwc_resolve_plugin_chains(gwc_loader *L, yaml_node_t *root);

/* gw_config_fetch.c: GET url (http:// or https://) with a total deadline;
 * the body (status 200 only) into out, at most max_bytes. Blocking: for
 * the loader on the main thread. Returns 0, or -1 with a message. */
int gwc_http_fetch(const char *url, uint32_t timeout_ms, size_t max_bytes, ut_buf *out,
                   char *err, size_t err_len);

#endif
