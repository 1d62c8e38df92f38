/*
 * wagi_int.h — internals shared by the files of src/wagi (not installed).
 *
 * Layer:     host ABI (like wasi/): <sluice/vm.h>, wasi.h, ut_buf.h only.
 * What:      the handler structure (everything wagi_handler_new
 *            precomputes), and the wagi__* functions one file of the layer
 *            provides to another:
 *              wagi_handler.c   handler load/free, one request end to end
 *                               (context, instance, deadline, outcome)
 *              wagi_cgi.c       request → argv and environment
 *              wagi_output.c    stdout → response (CGI parsing), the error
 *                               responses we make, wagi_response_free
 */
#ifndef SLUICE_WAGI_INT_H
#define SLUICE_WAGI_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sluice/vm.h>

#include "wagi.h"

/* One piece of a compiled argv template. */
typedef enum { WAGI_SEG_TEXT, WAGI_SEG_PATH, WAGI_SEG_ARGS } wagi__seg_kind;

typedef struct wagi__seg {
    wagi__seg_kind kind;
    const char *text; /* WAGI_SEG_TEXT: points into wagi_handler.argv_tmpl */
    size_t len;
} wagi__seg;

/* A configured variable that survives load-time precedence, as "NAME=VALUE". */
typedef struct wagi__envvar {
    char *kv;
    size_t name_len;
    size_t kv_len;
    bool http; /* NAME starts with "HTTP_": a request header may override it */
} wagi__envvar;

struct wagi_handler {
    atomic_uint refs;
    sl_module *module;      /* what requests instantiate: the snapshot with init */
    sl_module *orig_module; /* with init: the compiled module (freed after the
                               snapshot, which shares its code) */
    sl_linker *linker;
    uint32_t max_concurrency; /* 0 = unlimited */
    atomic_uint running;      /* runs in progress (with max_concurrency) */
    atomic_uint *running_p;   /* = &running, usable through a const handler */
    char *route; /* "" when the config had none: X_MATCHED_ROUTE = SCRIPT_NAME */
    size_t route_len;
    char *entrypoint;
    char *module_path;
    uint64_t timeout_ns;
    uint32_t max_memory_pages;
    size_t max_output_bytes;
    wagi_log_fn log;
    void *log_user;

    wagi__envvar *env; /* configured env minus the names every request sets */
    size_t n_env;
    size_t env_bytes; /* sum of kv_len + 1 */
    char *const_env;  /* "NAME=VALUE\0" strings the same for every request */
    size_t const_len;
    size_t *const_off; /* where each starts in const_env */
    size_t n_const;

    char *argv_tmpl;  /* NULL = WAGI default argv */
    wagi__seg *segs;
    size_t n_segs;

    char **pre_host; /* volumes: host directory, guest path */
    char **pre_guest;
    int n_pre;
};

/* ---- small helpers ---------------------------------------------------------- */

/* RFC 9110 tchar. */
static inline bool wagi__is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* a[0..an) equals the lowercase NUL-terminated b, ignoring ASCII case. */
static inline bool wagi__ieq(const char *a, size_t an, const char *b)
{
    size_t i = 0;
    for (; i < an; i++) {
        unsigned char x = (unsigned char)a[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (!b[i] || x != (unsigned char)b[i])
            return false;
    }
    return b[i] == '\0';
}

/* ---- wagi_cgi.c -------------------------------------------------------------- */

/* The argv and environment of one request: every string NUL-terminated in
 * one buffer, then a pointer table (argv first, then environ). */
typedef union wagi__slot {
    size_t off;      /* while building: offset into buf */
    const char *ptr; /* once built: the string */
} wagi__slot;
_Static_assert(sizeof(wagi__slot) == sizeof(const char *), "slots double as a pointer array");

typedef struct wagi__cgi {
    ut_buf buf;
    wagi__slot *slots;
    size_t n, cap;
    const char *const *ptrs; /* &slots[0].ptr: argv[0..argc), then environ */
    int argc, envc;
} wagi__cgi;

/* Compiles conf->argv and conf->env into h. Returns false with err set. */
bool wagi__cgi_prepare(wagi_handler *h, const wagi_handler_conf *conf, char *err,
                       size_t err_len);
void wagi__cgi_unprepare(wagi_handler *h);

/* Builds argv and environ for req. Returns false when out of memory. */
bool wagi__cgi_build(const wagi_handler *h, const wagi_request *req, wagi__cgi *c);
void wagi__cgi_free(wagi__cgi *c);

/* ---- wagi_output.c ------------------------------------------------------------ */

/* Parses resp->out as CGI output into status, headers, body and
 * local_redirect, or turns resp into an error response (500 / 502).
 * Returns true when the output was complete: the header section ended
 * and, if the module sent Content-Length, the body has that length. */
bool wagi__cgi_parse(wagi_response *resp);

/* Makes resp an error response we produced: status, a short text/plain
 * body, resp->error = error (static string), detail from fmt. */
__attribute__((format(printf, 4, 5)))
void wagi__fail(wagi_response *resp, int status, const char *error, const char *fmt, ...);

#endif
