/*
 * wagi_modules.h — WAGI's modules.toml: which module answers which route
 * (docs/wagi-modules.md; ../shared/docs/wagi-wasi-knative.md §1).
 *
 * Layer:     wagi. Built on src/util (ut_toml) and libc; libcrypto for the
 *            sha256 check. Knows files and routes, not HTTP or the engine.
 * Owns:      reading a modules.toml strictly (unknown keys are errors, so
 *            typos do not pass silently), resolving module and volume paths
 *            against the TOML file's directory, checking that they exist,
 *            verifying an optional sha256 of the module file, and matching a
 *            request path to a route (most specific wins).
 * Not here:  compiling modules and running them (wagi.h), the _routes
 *            sub-route export (the caller compiles the module, sets
 *            has_subroutes and adds what _routes prints), HTTP framing,
 *            WAGI's bindle and OCI sources.
 * Errors:    one message, "FILE:LINE:COL: module[2].route: problem" (the
 *            position of the offending value or key; "FILE:LINE:COL:
 *            problem" for TOML syntax errors, "FILE: problem" for I/O).
 * Warnings:  keys WAGI defines that sluice accepts but does not act on
 *            (bindle_server, repository, allowed_hosts,
 *            http_max_concurrency) load fine and leave one line each in
 *            wagi_modules.warnings, in the same format, for the caller to log.
 */
#ifndef SLUICE_WAGI_MODULES_H
#define SLUICE_WAGI_MODULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wagi.h"

typedef struct wagi_module_spec {
    char *route;      /* "/hello" exact, or "/static/..." prefix */
    char *module;     /* file path: relative paths resolved against the TOML
                         file's directory; "file://" URLs decoded */
    char *sha256;     /* NULL, or the expected digest (64 lowercase hex),
                         verified at load */
    char *entrypoint; /* default "_start" */
    char *argv;       /* NULL = WAGI default; else a template */
    wagi_kv *env;     /* `environment = { K = "V" }` (sluice extension) */
    size_t n_env;
    wagi_kv *volumes; /* `volumes = { "/guest" = "host/dir" }`: name = host
                         dir (resolved), value = guest path */
    size_t n_volumes;
    char **allowed_hosts; /* stored; outbound HTTP is not implemented yet */
    size_t n_allowed_hosts;
    uint32_t http_max_concurrency; /* 0 = unlimited */
    uint32_t timeout_ms;           /* 0 = not set (handler default); `timeout =
                                      "5s"` or an integer of ms (extension) */
    uint32_t max_memory_pages;     /* 0 = not set (engine default); `max_memory =
                                      "64MiB"` (bytes, rounded up to 64 KiB
                                      pages) or an integer of pages (extension) */
    bool has_subroutes;            /* the module exports _routes: set by the caller */
    size_t line;                   /* where its [[module]] table starts, for messages */
} wagi_module_spec;

typedef struct wagi_modules {
    wagi_module_spec *items; /* in file order */
    size_t n;
    char **warnings; /* "FILE:LINE:COL: module[0].bindle_server: ignored (...)" */
    size_t n_warnings;
} wagi_modules;

/* Reads and checks the file at path (at most 16 MiB). Relative module and
 * volume paths are resolved against the file's directory (made absolute
 * with the current directory when path is relative; symlinks are kept as
 * named). On success fills *out (owned: wagi_modules_free) and returns 0; on
 * failure returns -1 with a message in err (err may be NULL) and *out
 * zeroed. */
int wagi_modules_load_file(const char *path, wagi_modules *out, char *err, size_t err_len);

/* The same from memory: toml[0..len) (need not be NUL-terminated); source
 * names it in messages (NULL: "<modules.toml>"); base_dir is what relative
 * paths are resolved against (NULL: left relative, i.e. to the current
 * directory). */
int wagi_modules_load_string(const char *toml, size_t len, const char *source, const char *base_dir,
                             wagi_modules *out, char *err, size_t err_len);

/* Frees everything and zeroes *m. NULL and zeroed structs are fine. */
void wagi_modules_free(wagi_modules *m);

/* Route matching (WAGI's patterns, sluice's precedence): a route "/a/b" is
 * exact (byte-for-byte, no case folding, trailing slash significant); a
 * route "/a/..." matches "/a", and "/a/" followed by anything, but not
 * "/ab"; "/..." matches every path. The most specific match wins, whatever
 * the file order: an exact route, else the prefix route with the longest
 * prefix (WAGI 0.8.1 instead takes the first match in file order).
 * path is the raw request path (percent-encoded, as received); anything
 * from a '?' on is ignored. Returns the index into m->items, or -1; on a
 * match *script_name_len (may be NULL) gets the length of the matched
 * prefix — the whole path for an exact route, "/a" for "/a/...", 0 for
 * "/..." — i.e. SCRIPT_NAME = path[0..len), PATH_INFO = the rest. */
int wagi_modules_match(const wagi_modules *m, const char *path, size_t path_len,
                       size_t *script_name_len);

#endif
