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
 *            The same matcher serves `sluice wagi` and any gateway route
 *            that mounts a modules.toml (gw_wagi_toml.c): there is one.
 *            _routes sub-routes: the caller runs the export (wagi.h,
 *            wagi_handler_routes) and hands its output to
 *            wagi_modules_add_subroutes, which parses, joins and checks it.
 * Not here:  compiling modules and running them (wagi.h), HTTP framing,
 *            WAGI's bindle and OCI sources.
 * Errors:    one message, "FILE:LINE:COL: module[2].route: problem" (the
 *            position of the offending value or key; "FILE:LINE:COL:
 *            problem" for TOML syntax errors, "FILE: problem" for I/O).
 * Warnings:  keys WAGI defines that sluice accepts but does not act on
 *            (bindle_server, repository, allowed_hosts), and a route that
 *            WAGI 0.8.1 (first match in file order) would never reach
 *            because an earlier route covers it, load fine and leave one
 *            line each in wagi_modules.warnings, in the same format, for
 *            the caller to log.
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
    uint32_t http_max_concurrency; /* 0 = unlimited; else at most this many
                                      requests run this module at once (per
                                      process; over it: 503 + Retry-After) */
    uint32_t timeout_ms;           /* 0 = not set (handler default); `timeout =
                                      "5s"` or an integer of ms (extension) */
    uint32_t max_memory_pages;     /* 0 = not set (engine default); `max_memory =
                                      "64MiB"` (bytes, rounded up to 64 KiB
                                      pages) or an integer of pages (extension) */
    char *init;                    /* NULL, or an export run once at load whose
                                      effect is snapshotted (`init =
                                      "wizer.initialize"`, extension) */
    sl_runtime runtime;            /* `runtime = "interp" | "aot" | "auto"`
                                      (extension; default interp) */
    bool has_subroutes;            /* wagi_modules_add_subroutes added some */
    size_t line;                   /* where its [[module]] table starts, for messages */
} wagi_module_spec;

/* A route a module's _routes export printed ("/sub entrypoint"). */
typedef struct wagi_subroute {
    char *route;      /* the full pattern: the parent's fixed part joined with
                         the printed one ("/x/..." + "/hi" = "/x/hi") */
    char *entrypoint; /* the export to run */
    size_t module;    /* index into items */
    size_t seq;       /* 1-based line number in the _routes output */
} wagi_subroute;

typedef struct wagi_modules {
    wagi_module_spec *items; /* in file order */
    size_t n;
    char **warnings; /* "FILE:LINE:COL: module[0].bindle_server: ignored (...)" */
    size_t n_warnings;
    wagi_subroute *subs; /* added by wagi_modules_add_subroutes */
    size_t n_subs;
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

/* The full answer of the matcher, sub-routes included. Ranking: an exact
 * route beats a prefix route, a longer prefix a shorter one; for the same
 * pattern (only possible between a module's route and its own sub-routes)
 * a sub-route beats its parent and a later _routes line an earlier one
 * (WAGI's rules). */
typedef struct wagi_match {
    size_t module;          /* index into items */
    const char *route;      /* the matched pattern, for X_MATCHED_ROUTE */
    const char *entrypoint; /* the module's, or the sub-route's */
    size_t script_name_len; /* as wagi_modules_match */
    const wagi_subroute *sub; /* NULL for the module's own route */
} wagi_match;

/* Returns false when nothing matches (*out untouched). */
bool wagi_modules_lookup(const wagi_modules *m, const char *path, size_t path_len,
                         wagi_match *out);

/* Adds the sub-routes module `module`'s _routes export printed (text[0..len)),
 * WAGI's format: one route per non-empty line, exactly two fields separated
 * by spaces or tabs, "SUBPATH ENTRYPOINT"; SUBPATH is joined onto the
 * module's route (its "/..." dropped) with one '/', and may end in "/...".
 * Errors (-1, message in err, nothing added): no non-empty line, a line
 * without exactly two fields, a joined route that is not a valid route, a
 * route another module (or another module's sub-route) already uses.
 * Sets items[module].has_subroutes. Not thread-safe with lookups. */
int wagi_modules_add_subroutes(wagi_modules *m, size_t module, const char *text, size_t len,
                               char *err, size_t err_len);

#endif
