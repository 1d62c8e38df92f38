/*
 * wagi.h — WAGI handlers: CGI 1.1 over WASI, one fresh instance per
 * request (docs/wagi.md; ../shared/docs/wagi-wasi-knative.md §2).
 *
 * Layer:     host ABI (like wasi/), built only on include/sluice/vm.h and
 *            src/wasi/wasi.h. Knows CGI, not sockets: the gateway (or a
 *            test) hands in a complete request and gets a complete
 *            response back.
 * Owns:      a handler (module compiled once + linker + its settings),
 *            building the CGI environment and argv, running the entrypoint
 *            in a fresh instance with stdin = the request body and stdout
 *            captured (bounded), the per-request deadline (a watchdog
 *            thread interrupts instances that overrun), and parsing stdout
 *            as a CGI response (document, local redirect, client redirect).
 * Not here:  route matching, HTTP framing, modules.toml (wagi_modules.c).
 *
 * Threads: a wagi_handler is immutable after wagi_handler_new and may be
 * used by many threads at once; each wagi_handler_run call is independent.
 */
#ifndef SLUICE_WAGI_H
#define SLUICE_WAGI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/aot.h>
#include <sluice/vm.h>

#include "ut_buf.h"

typedef struct wagi_kv {
    const char *name;
    const char *value;
} wagi_kv;

/* Where a route's stderr lines go (one call per line, without the newline).
 * NULL in the config = the process's stderr, "wagi[ROUTE] line". */
typedef void (*wagi_log_fn)(void *user, const char *route, const char *line, size_t len);

typedef struct wagi_handler_conf {
    const char *route;       /* as configured, e.g. "/hello" or "/static/..." (for
                                X_MATCHED_ROUTE and logs) */
    const char *module_path; /* .wasm file */
    const char *entrypoint;  /* NULL = "_start" */
    const char *argv;        /* NULL = WAGI default (path, then query split on '&');
                                else a template with ${SCRIPT_NAME} and ${ARGS} */
    const wagi_kv *env;      /* extra environment, lowest precedence */
    size_t n_env;
    const wagi_kv *volumes;  /* name = host directory, value = guest path */
    size_t n_volumes;
    uint32_t timeout_ms;       /* 0 = 30000; overrun -> 504, instance interrupted */
    uint32_t max_memory_pages; /* 0 = engine default */
    size_t max_output_bytes;   /* stdout cap; 0 = 64 MiB; over -> 500 */
    uint32_t max_concurrency;  /* 0 = unlimited; else at most this many runs of
                                  this handler at once (all threads); one more
                                  gets 503 with Retry-After: 1 */
    const char *init;          /* NULL, or an export (no params, no results) run
                                  once at load in a fresh instance; the state it
                                  leaves (memory, mutable globals) is snapshotted
                                  and every request starts from it (Wizer-style;
                                  e.g. "wizer.initialize") */
    const uint8_t *module_bytes; /* non-NULL: compile these bytes (borrowed,
                                    only during wagi_handler_new) instead of
                                    reading module_path (still used in messages) */
    size_t module_len;
    sl_runtime runtime;        /* SL_RUNTIME_INTERP (default), _AOT (native code
                                  at load: the cached artifact or a compile now;
                                  failure = load error) or _AUTO (cached
                                  artifact, else interpret while a background
                                  compile runs; later instances tier up) */
    const char *aot_cache;     /* artifact cache directory; NULL = sluice/aot.h's
                                  default */
    wagi_log_fn log;
    void *log_user;
} wagi_handler_conf;

typedef struct wagi_handler wagi_handler;

/* Reads and compiles the module (once), checks the entrypoint export exists
 * and that every import is WASI, prepares the linker. Returns NULL with a
 * message in err on failure. The engine must outlive the handler. */
wagi_handler *wagi_handler_new(sl_engine *engine, const wagi_handler_conf *conf, char *err,
                               size_t err_len);
/* Handlers are reference counted (atomically): wagi_handler_new returns
 * one reference, wagi_handler_ref adds one, wagi_handler_free drops one and
 * frees the handler with the last. */
wagi_handler *wagi_handler_ref(wagi_handler *h);
/* True once native code is attached to the handler's module (runtime aot,
 * or auto after its background compile): new requests then run it. */
bool wagi_handler_native(const wagi_handler *h);
void wagi_handler_free(wagi_handler *h);

/* 0 when the module exports a function `name` that takes no parameters
 * and returns nothing (usable as an entrypoint), else -1 with err set. */
int wagi_handler_check_entrypoint(const wagi_handler *h, const char *name, char *err,
                                  size_t err_len);

/* WAGI's _routes convention: when the module exports "_routes", runs it
 * once in a fresh instance (no args, no environment, no stdin, no volumes;
 * stderr logged) under min(timeout, 10 s), capturing at most 64 KiB of
 * stdout. Returns 1 with the output in *out (owned, NUL-terminated,
 * *out_len bytes), 0 when there is no such export, -1 with err set when it
 * traps, exits non-zero, overruns or prints too much. */
int wagi_handler_routes(const wagi_handler *h, char **out, size_t *out_len, char *err,
                        size_t err_len);

typedef struct wagi_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} wagi_header;

/* One complete request. Strings need not be NUL-terminated. */
typedef struct wagi_request {
    const char *method;
    size_t method_len;
    const char *target; /* raw request target: path + optional ?query */
    size_t target_len;
    const char *script_name; /* the matched route prefix, e.g. "/static" ("" for "/...") */
    size_t script_name_len;
    const char *server_protocol; /* "HTTP/1.1" */
    const char *remote_addr;     /* client IP text */
    const char *scheme;          /* "http" or "https" */
    const char *default_host;    /* used when there is no Host header, "localhost" */
    uint16_t default_port;       /* the listener's port */
    const wagi_header *headers;
    size_t n_headers;
    const uint8_t *body;
    size_t body_len;
    const char *entrypoint;    /* NULL = the handler's; else an export checked
                                  with wagi_handler_check_entrypoint (a _routes
                                  sub-route) */
    const char *matched_route; /* X_MATCHED_ROUTE; NULL = the handler's route */
} wagi_request;

typedef struct wagi_response {
    int status;
    ut_buf headers;     /* "Name: value\r\n" lines to send (no status line,
                           no Content-Length: the caller frames the body) */
    const uint8_t *body; /* points into `out` (or a static string) */
    size_t body_len;
    ut_buf out;          /* the captured stdout */
    const char *error;   /* for the log when we made the status (trap, timeout,
                            bad CGI output), else NULL */
    char detail[256];    /* e.g. the trap message */
    /* Local redirect (RFC 3875 §6.2.2): the module answered only
     * "Location: /path"; the caller should run that path as a new GET
     * (bounded by a redirect limit). NULL otherwise. */
    char *local_redirect;
} wagi_response;

/* Runs the request in a fresh instance on the calling thread and fills
 * resp (zero it first; free with wagi_response_free). Always produces a
 * response: the failure rules are
 *   trap                          -> 500, trap message in resp->detail
 *   deadline (timeout_ms)         -> 504, instance interrupted
 *   proc_exit(n != 0)             -> 500, unless the CGI output was complete
 *                                    (headers ended and, if the module sent
 *                                    Content-Length, the body has that length)
 *   memory limit (growth refused) -> 500
 *   max_concurrency runs already  -> 503 + "Retry-After: 1", not run
 *   no Content-Type/Location/Status, bad Status, a bad header name or value,
 *   output over max_output_bytes  -> 500 (bad Status value: 502)
 * Returns 0, or -1 only when out of memory (resp then holds a 500). */
int wagi_handler_run(const wagi_handler *h, const wagi_request *req, wagi_response *resp);
void wagi_response_free(wagi_response *resp);

#endif
