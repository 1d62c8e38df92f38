/*
 * wagi_handler.c — WAGI handlers: load a module once, run one request in a
 * fresh instance (wagi.h, docs/wagi.md).
 *
 * Owns:      wagi_handler_new / wagi_handler_free (read + compile the
 *            module, check its imports and entrypoint, the runtime (AOT
 *            native code attached before the first instance), one linker made
 *            with wasi_link(l, NULL), a trial instantiation so link errors
 *            and a wrong entrypoint signature show at load, volumes
 *            checked); wagi_handler_run (per request: a wasi_ctx with
 *            stdin = body and stdout/stderr sinks, an instance with the
 *            memory limit and the context as user data, the deadline
 *            registration around the entrypoint call, and the outcome:
 *            504 / 500 / the module's response).
 * Not here:  argv and environ (wagi_cgi.c), parsing stdout and the error
 *            responses (wagi_output.c), the deadline thread
 *            (the engine's sl_deadline thread, vm.h).
 * Threads:   the handler is read-only after wagi_handler_new; every run
 *            keeps its state on its own stack. The shared linker holds host
 *            functions only (imports are checked to be functions), which
 *            the engine allows to instantiate from many threads at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wagi_int.h"
#include "wasi.h"

#define DEFAULT_TIMEOUT_MS 30000u
#define DEFAULT_MAX_OUTPUT ((size_t)64 << 20)
#define LOG_LINE_MAX 4096 /* a longer stderr line is logged in pieces */

/* ---- loading ------------------------------------------------------------------- */

static bool read_file(const char *path, uint8_t **out, size_t *len, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
        return false;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *nb = cap < SIZE_MAX / 2 ? realloc(b, cap * 2) : NULL;
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int rerr = ferror(f);
    fclose(f);
    if (!b || rerr) {
        snprintf(err, err_len, "cannot read %s: %s", path, b ? "read error" : "out of memory");
        free(b);
        return false;
    }
    *out = b;
    *len = n;
    return true;
}

static bool check_imports_exports(const wagi_handler *h, char *err, size_t err_len)
{
    static const char *const kinds[] = {"function", "table", "memory", "global"};
    for (size_t i = 0; i < sl_module_import_count(h->module); i++) {
        const char *mod, *name;
        sl_externkind kind;
        sl_module_import(h->module, i, &mod, &name, &kind);
        if (!strncmp(mod, "wasi_experimental_http", 22)) {
            snprintf(err, err_len,
                     "%s imports %s.%s: outbound HTTP from WAGI modules "
                     "(wasi_experimental_http) is not implemented in sluice; allowed_hosts "
                     "is accepted but not acted on",
                     h->module_path, mod, name);
            return false;
        }
        if (kind != SL_EXTERN_FUNC ||
            (strcmp(mod, "wasi_snapshot_preview1") && strcmp(mod, "wasi_unstable"))) {
            snprintf(err, err_len,
                     "%s imports %s.%s (a %s): a WAGI module may import only functions "
                     "from wasi_snapshot_preview1 or wasi_unstable",
                     h->module_path, mod, name, kinds[kind & 3]);
            return false;
        }
    }
    bool found = false;
    for (size_t i = 0; i < sl_module_export_count(h->module) && !found; i++) {
        const char *name;
        sl_externkind kind;
        sl_module_export(h->module, i, &name, &kind);
        if (!strcmp(name, h->entrypoint)) {
            if (kind != SL_EXTERN_FUNC) {
                snprintf(err, err_len, "%s: the export \"%s\" is a %s, not a function",
                         h->module_path, h->entrypoint, kinds[kind & 3]);
                return false;
            }
            found = true;
        }
    }
    if (!found) {
        snprintf(err, err_len, "%s has no exported function \"%s\" (the entrypoint)",
                 h->module_path, h->entrypoint);
        return false;
    }
    return true;
}

static int discard(void *user, const uint8_t *p, size_t n)
{
    (void)user, (void)p, (void)n;
    return 0;
}

static bool entry_ok(const wagi_handler *h, sl_instance *inst, const char *name, char *err,
                     size_t err_len)
{
    sl_func *f = sl_instance_func(inst, name);
    if (!f) {
        snprintf(err, err_len, "%s has no exported function \"%s\"", h->module_path, name);
        return false;
    }
    if (sl_func_param_count(f) || sl_func_result_count(f)) {
        snprintf(err, err_len, "%s: the entrypoint \"%s\" must take no parameters and "
                               "return nothing", h->module_path, name);
        return false;
    }
    return true;
}

/* Instantiates once (no preopens, stdio discarded) so an unknown WASI name,
 * a wrong import type, an initial memory over the limit or an entrypoint
 * that takes parameters or returns results fail at load, not per request.
 * Runs the module's start function, if it has one; never the entrypoint. */
static bool trial_instance(const wagi_handler *h, char *err, size_t err_len)
{
    wasi_config wc = {.stdin_from_buf = true, .stdout_sink = discard, .stderr_sink = discard};
    wasi_ctx *ctx = wasi_ctx_new(&wc);
    if (!ctx) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    sl_instance_config ic = {.limits = {.max_memory_pages = h->max_memory_pages},
                             .user_data = ctx};
    sl_instance *inst = NULL;
    sl_trap *trap = NULL;
    sl_diag d = {0};
    sl_err e = sl_instantiate(h->linker, h->module, &ic, &inst, &d, &trap);
    bool ok = false;
    if (e) {
        snprintf(err, err_len, "%s cannot be instantiated: %s%s%s", h->module_path,
                 sl_err_str(e), d.msg[0] || trap ? ": " : "",
                 trap ? sl_trap_message(trap) : d.msg);
    } else {
        ok = entry_ok(h, inst, h->entrypoint, err, err_len);
    }
    sl_trap_free(trap);
    sl_instance_free(inst);
    wasi_ctx_free(ctx);
    return ok;
}

static bool prepare_volumes(wagi_handler *h, const wagi_handler_conf *conf, char *err,
                            size_t err_len)
{
    if (!conf->n_volumes)
        return true;
    if (!conf->volumes || conf->n_volumes > 1000) {
        snprintf(err, err_len, "volumes: bad list (%zu entries)", conf->n_volumes);
        return false;
    }
    h->pre_host = calloc(conf->n_volumes, sizeof *h->pre_host);
    h->pre_guest = calloc(conf->n_volumes, sizeof *h->pre_guest);
    if (!h->pre_host || !h->pre_guest) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    for (size_t i = 0; i < conf->n_volumes; i++) {
        const char *host = conf->volumes[i].name, *guest = conf->volumes[i].value;
        if (!host || !*host || !guest || !*guest) {
            snprintf(err, err_len, "volumes[%zu]: needs a host directory and a guest path", i);
            return false;
        }
        int fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, err_len, "volume %s (%s in the guest): %s", host, guest,
                     strerror(errno));
            return false;
        }
        close(fd);
        h->pre_host[i] = strdup(host);
        h->pre_guest[i] = strdup(guest);
        h->n_pre = (int)i + 1;
        if (!h->pre_host[i] || !h->pre_guest[i]) {
            snprintf(err, err_len, "out of memory");
            return false;
        }
    }
    return true;
}

static bool run_init(wagi_handler *h, const char *name, char *err, size_t err_len);

wagi_handler *wagi_handler_new(sl_engine *engine, const wagi_handler_conf *conf, char *err,
                               size_t err_len)
{
    char dummy[8];
    if (!err || !err_len)
        err = dummy, err_len = sizeof dummy;
    err[0] = '\0';
    if (!engine || !conf || !conf->module_path) {
        snprintf(err, err_len, "wagi_handler_new: engine, conf and module_path are required");
        return NULL;
    }
    wagi_handler *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    h->route = strdup(conf->route ? conf->route : "");
    h->entrypoint = strdup(conf->entrypoint && *conf->entrypoint ? conf->entrypoint : "_start");
    h->module_path = strdup(conf->module_path);
    if (!h->route || !h->entrypoint || !h->module_path) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    h->route_len = strlen(h->route);
    h->timeout_ns = (uint64_t)(conf->timeout_ms ? conf->timeout_ms : DEFAULT_TIMEOUT_MS) * 1000000u;
    h->max_memory_pages = conf->max_memory_pages;
    h->max_output_bytes = conf->max_output_bytes ? conf->max_output_bytes : DEFAULT_MAX_OUTPUT;
    h->log = conf->log;
    h->log_user = conf->log_user;
    h->max_concurrency = conf->max_concurrency;
    atomic_init(&h->refs, 1);
    atomic_init(&h->running, 0);
    h->running_p = &h->running;
    if (!wagi__cgi_prepare(h, conf, err, err_len) || !prepare_volumes(h, conf, err, err_len))
        goto fail;

    uint8_t *bytes = (uint8_t *)conf->module_bytes;
    size_t len = conf->module_len;
    if (!bytes && !read_file(conf->module_path, &bytes, &len, err, err_len))
        goto fail;
    sl_diag d = {0};
    sl_err e = sl_module_new(engine, bytes, len, &h->module, &d);
    if (e) {
        h->module = NULL;
        snprintf(err, err_len, "%s: %s: %s", conf->module_path, sl_err_str(e), d.msg);
    } else if (check_imports_exports(h, err, err_len)) {
        /* native code before any instance (the init snapshot shares it) */
        d = (sl_diag){0};
        e = sl_aot_prepare(h->module, bytes, len, conf->runtime, conf->aot_cache, &d);
        if (conf->runtime == SL_RUNTIME_AUTO && (e || d.msg[0])) {
            /* auto never fails a load: it stays on the interpreter */
            fprintf(stderr, "wagi[%s]: runtime auto: %s; interpreting\n", conf->module_path,
                    d.msg[0] ? d.msg : sl_err_str(e));
            e = SL_OK;
        }
        if (e)
            snprintf(err, err_len, "%s: runtime %s: %s", conf->module_path,
                     sl_runtime_name(conf->runtime), d.msg[0] ? d.msg : sl_err_str(e));
    } else {
        e = SL_ERR_ARG;
    }
    if (bytes != conf->module_bytes)
        free(bytes);
    if (e)
        goto fail;
    h->linker = sl_linker_new(engine);
    if (!h->linker || wasi_link(h->linker, NULL) != SL_OK) {
        snprintf(err, err_len, "cannot create the WASI linker");
        goto fail;
    }
    if (conf->init && !run_init(h, conf->init, err, err_len))
        goto fail;
    if (!trial_instance(h, err, err_len))
        goto fail;
    return h;
fail:
    wagi_handler_free(h);
    return NULL;
}

wagi_handler *wagi_handler_ref(wagi_handler *h)
{
    if (h)
        atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
    return h;
}

bool wagi_handler_native(const wagi_handler *h)
{
    return h && h->module && sl_module_native(h->module);
}

void wagi_handler_free(wagi_handler *h)
{
    if (!h || atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1)
        return;
    sl_linker_free(h->linker);
    sl_module_free(h->module); /* the snapshot first: it shares orig's code */
    sl_module_free(h->orig_module);
    wagi__cgi_unprepare(h);
    for (int i = 0; i < h->n_pre; i++) {
        free(h->pre_host[i]);
        free(h->pre_guest[i]);
    }
    free(h->pre_host);
    free(h->pre_guest);
    free(h->route);
    free(h->entrypoint);
    free(h->module_path);
    free(h);
}

/* ---- one request --------------------------------------------------------------- */

typedef struct run_state {
    const wagi_handler *h;
    wagi_response *resp;
    size_t cap; /* stdout limit */
    sl_instance *inst;
    bool overflow, oom;
    size_t line_len;
    char line[LOG_LINE_MAX];
} run_state;

static int out_sink(void *user, const uint8_t *p, size_t n)
{
    run_state *s = user;
    ut_buf *out = &s->resp->out;
    if (s->overflow || s->oom)
        return -1;
    if (n > s->cap - out->len) {
        /* the response is lost: stop the guest at its next call or loop */
        s->overflow = true;
        if (s->inst)
            sl_instance_interrupt(s->inst);
        return -1;
    }
    if (!out->cap)
        ut_buf_reserve(out, n > 4000 ? n : 4000);
    ut_buf_append(out, p, n);
    if (out->oom) {
        s->oom = true;
        return -1;
    }
    return 0;
}

static void log_line(run_state *s, const char *p, size_t n)
{
    const wagi_handler *h = s->h;
    if (n && p[n - 1] == '\r')
        n--;
    if (h->log) {
        h->log(h->log_user, h->route, p, n);
        return;
    }
    /* one write per line so lines of concurrent requests do not interleave */
    struct iovec iov[5] = {{(void *)"wagi[", 5},
                           {h->route_len ? h->route : h->module_path,
                            strlen(h->route_len ? h->route : h->module_path)},
                           {(void *)"] ", 2},
                           {(void *)p, n},
                           {(void *)"\n", 1}};
    ssize_t r;
    do
        r = writev(2, iov, 5);
    while (r < 0 && errno == EINTR);
}

static int err_sink(void *user, const uint8_t *p, size_t n)
{
    run_state *s = user;
    const char *c = (const char *)p;
    while (n) {
        const char *nl = memchr(c, '\n', n);
        size_t take = nl ? (size_t)(nl - c) : n;
        if (take > LOG_LINE_MAX - s->line_len)
            take = LOG_LINE_MAX - s->line_len;
        if (s->line_len == 0 && nl && take == (size_t)(nl - c)) {
            log_line(s, c, take); /* a whole line: no copy */
        } else {
            memcpy(s->line + s->line_len, c, take);
            s->line_len += take;
            if ((nl && take == (size_t)(nl - c)) || s->line_len == LOG_LINE_MAX) {
                log_line(s, s->line, s->line_len);
                s->line_len = 0;
            }
        }
        bool at_nl = nl && take == (size_t)(nl - c);
        c += take + at_nl;
        n -= take + at_nl;
    }
    return 0;
}

static void trap_detail(wagi_response *resp, const char *error, const sl_trap *t)
{
    size_t frames = sl_trap_frame_count(t);
    if (frames)
        wagi__fail(resp, 500, error, "%s (in %s)", sl_trap_message(t), sl_trap_frame_name(t, 0));
    else
        wagi__fail(resp, 500, error, "%s", sl_trap_message(t));
}

/* Turns how the entrypoint ended into the response (wagi.h failure rules). */
static void outcome(run_state *s, bool fired, const sl_trap *trap)
{
    wagi_response *resp = s->resp;
    sl_trap_kind kind = trap ? sl_trap_kind_of(trap) : SL_TRAP_NONE;
    if (s->oom) {
        wagi__fail(resp, 500, "out of memory", "capturing stdout");
    } else if (s->overflow) {
        wagi__fail(resp, 500, "output over max_output_bytes", "limit %zu bytes",
                   s->h->max_output_bytes);
    } else if (kind == SL_TRAP_INTERRUPTED && fired) {
        wagi__fail(resp, 504, "deadline exceeded", "%llu ms",
                   (unsigned long long)(s->h->timeout_ns / 1000000u));
    } else if (kind == SL_TRAP_NONE || (kind == SL_TRAP_EXIT && !sl_trap_exit_code(trap))) {
        wagi__cgi_parse(resp);
    } else if (kind == SL_TRAP_EXIT) {
        if (!wagi__cgi_parse(resp))
            wagi__fail(resp, 500, "module exited with an error before completing its output",
                       "exit status %d", sl_trap_exit_code(trap));
    } else {
        trap_detail(resp, kind == SL_TRAP_OOM ? "module ran out of memory" : "module trapped",
                    trap);
    }
}

static int run_one(const wagi_handler *h, const wagi_request *req, wagi_response *resp);

int wagi_handler_run(const wagi_handler *h, const wagi_request *req, wagi_response *resp)
{
    if (!h || !req) {
        wagi__fail(resp, 500, "wagi_handler_run: no handler or no request", NULL);
        return 0;
    }
    if (h->max_concurrency) {
        unsigned now = atomic_fetch_add_explicit(h->running_p, 1, memory_order_acq_rel);
        if (now >= h->max_concurrency) {
            atomic_fetch_sub_explicit(h->running_p, 1, memory_order_acq_rel);
            wagi__fail(resp, 503, "over http_max_concurrency", "%u running, limit %u", now,
                       h->max_concurrency);
            ut_buf_puts(&resp->headers, "Retry-After: 1\r\n");
            return 0;
        }
    }
    int rc = run_one(h, req, resp);
    if (h->max_concurrency)
        atomic_fetch_sub_explicit(h->running_p, 1, memory_order_acq_rel);
    return rc;
}

static int run_one(const wagi_handler *h, const wagi_request *req, wagi_response *resp)
{
    wagi__cgi cgi;
    if (!wagi__cgi_build(h, req, &cgi)) {
        wagi__cgi_free(&cgi);
        wagi__fail(resp, 500, "out of memory", "building the CGI environment");
        return -1;
    }
    run_state st, *s = &st;
    s->h = h;
    s->resp = resp;
    s->cap = h->max_output_bytes;
    s->inst = NULL;
    s->overflow = s->oom = false;
    s->line_len = 0;
    ut_buf_reset(&resp->out);

    int rc = 0;
    wasi_config wc = {
        .argc = cgi.argc,
        .argv = cgi.ptrs,
        .envc = cgi.envc,
        .envp = cgi.ptrs + cgi.argc,
        .n_preopens = h->n_pre,
        .preopen_host = (const char *const *)h->pre_host,
        .preopen_guest = (const char *const *)h->pre_guest,
        .stdin_buf = req->body,
        .stdin_len = req->body ? req->body_len : 0,
        .stdin_from_buf = true,
        .stdout_sink = out_sink,
        .stderr_sink = err_sink,
        .sink_user = s,
    };
    wasi_ctx *ctx = wasi_ctx_new(&wc);
    wagi__cgi_free(&cgi);
    if (!ctx) {
        int e = errno;
        wagi__fail(resp, 500, "cannot create the WASI context", "%s", strerror(e));
        rc = e == ENOMEM ? -1 : 0;
        goto out;
    }
    sl_instance_config ic = {.limits = {.max_memory_pages = h->max_memory_pages},
                             .user_data = ctx};
    sl_instance *inst = NULL;
    sl_trap *trap = NULL;
    sl_diag d;
    d.msg[0] = '\0';
    sl_err e = sl_instantiate(h->linker, h->module, &ic, &inst, &d, &trap);
    if (e) {
        if (trap)
            trap_detail(resp, "module trapped during instantiation", trap);
        else
            wagi__fail(resp, 500, "instantiation failed", "%s%s%s", sl_err_str(e),
                       d.msg[0] ? ": " : "", d.msg);
        rc = e == SL_ERR_NOMEM ? -1 : 0;
    } else {
        s->inst = inst;
        sl_deadline dl;
        int werr = sl_deadline_register(&dl, inst);
        /* checked at load (the handler's) or by wagi_handler_check_entrypoint */
        sl_func *f = sl_instance_func(inst, req->entrypoint ? req->entrypoint : h->entrypoint);
        if (werr) {
            trap = sl_trap_new(SL_TRAP_HOST, "cannot start the deadline thread");
        } else {
            sl_deadline_arm(&dl, sl_clock_ns() + h->timeout_ns);
            trap = f ? sl_func_call(f, NULL, NULL) : sl_trap_new(SL_TRAP_HOST, "no entrypoint");
        }
        bool fired = !werr && sl_deadline_disarm(&dl);
        if (!werr)
            sl_deadline_unregister(&dl);
        outcome(s, fired, trap);
        if (s->oom)
            rc = -1;
    }
    if (s->line_len) /* a last stderr line without a newline */
        log_line(s, s->line, s->line_len);
    sl_trap_free(trap);
    sl_instance_free(inst);
    wasi_ctx_free(ctx);
out:
    return rc;
}

/* ---- load-time calls: init (snapshot) and _routes ------------------------------ */

#define ROUTES_MAX_OUTPUT ((size_t)64 << 10)
#define ROUTES_MAX_NS (10ull * 1000000000ull)

/* Runs export `name` once in a fresh instance of h->module: no argv, no
 * environment, empty stdin, no volumes; stdout into resp->out (at most
 * cap), stderr logged; under a deadline of timeout_ns. With keep, the
 * instance (and its context, *keep_ctx) survive for the caller. Returns
 * false with err set. */
static bool call_once(const wagi_handler *h, const char *name, const char *what, size_t cap,
                      uint64_t timeout_ns, wagi_response *resp, sl_instance **keep,
                      wasi_ctx **keep_ctx, char *err, size_t err_len)
{
    run_state st = {.h = h, .resp = resp, .cap = cap};
    wasi_config wc = {.stdin_from_buf = true, .stdout_sink = out_sink, .stderr_sink = err_sink,
                      .sink_user = &st};
    wasi_ctx *ctx = wasi_ctx_new(&wc);
    if (!ctx) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    sl_instance_config ic = {.limits = {.max_memory_pages = h->max_memory_pages},
                             .user_data = ctx};
    sl_instance *inst = NULL;
    sl_trap *trap = NULL;
    sl_diag d = {0};
    bool ok = false;
    sl_err e = sl_instantiate(h->linker, h->module, &ic, &inst, &d, &trap);
    if (e) {
        snprintf(err, err_len, "%s cannot be instantiated for %s: %s%s%s", h->module_path, what,
                 sl_err_str(e), d.msg[0] || trap ? ": " : "",
                 trap ? sl_trap_message(trap) : d.msg);
        goto out;
    }
    if (!entry_ok(h, inst, name, err, err_len))
        goto out;
    st.inst = inst;
    sl_deadline dl;
    if (sl_deadline_register(&dl, inst)) {
        snprintf(err, err_len, "%s: cannot start the deadline thread", h->module_path);
        goto out;
    }
    sl_deadline_arm(&dl, sl_clock_ns() + timeout_ns);
    trap = sl_func_call(sl_instance_func(inst, name), NULL, NULL);
    bool fired = sl_deadline_disarm(&dl);
    sl_deadline_unregister(&dl);
    sl_trap_kind kind = trap ? sl_trap_kind_of(trap) : SL_TRAP_NONE;
    if (st.overflow || st.oom)
        snprintf(err, err_len, "%s: %s printed more than %zu bytes", h->module_path, what, cap);
    else if (kind == SL_TRAP_INTERRUPTED && fired)
        snprintf(err, err_len, "%s: %s ran longer than %llu ms", h->module_path, what,
                 (unsigned long long)(timeout_ns / 1000000u));
    else if (kind == SL_TRAP_EXIT && sl_trap_exit_code(trap))
        snprintf(err, err_len, "%s: %s exited with status %d", h->module_path, what,
                 sl_trap_exit_code(trap));
    else if (kind != SL_TRAP_NONE && kind != SL_TRAP_EXIT)
        snprintf(err, err_len, "%s: %s trapped: %s", h->module_path, what, sl_trap_message(trap));
    else
        ok = true;
out:
    if (st.line_len)
        log_line(&st, st.line, st.line_len);
    sl_trap_free(trap);
    if (ok && keep) {
        *keep = inst;
        *keep_ctx = ctx;
        return true;
    }
    sl_instance_free(inst);
    wasi_ctx_free(ctx);
    return ok;
}

/* Wizer-style: run the init export once, then every request instantiates
 * a snapshot of the state it left. */
static bool run_init(wagi_handler *h, const char *name, char *err, size_t err_len)
{
    wagi_response r = {0};
    sl_instance *inst = NULL;
    wasi_ctx *ctx = NULL;
    char what[96];
    snprintf(what, sizeof what, "the init export \"%.60s\"", name);
    bool ok = call_once(h, name, what, h->max_output_bytes, h->timeout_ns, &r, &inst, &ctx, err,
                        err_len);
    wagi_response_free(&r);
    if (!ok)
        return false;
    sl_module *snap = NULL;
    sl_diag d = {0};
    sl_err e = sl_module_snapshot(inst, &snap, &d);
    sl_instance_free(inst);
    wasi_ctx_free(ctx);
    if (e) {
        snprintf(err, err_len, "%s: cannot snapshot the state after %s: %s", h->module_path, what,
                 d.msg[0] ? d.msg : sl_err_str(e));
        return false;
    }
    h->orig_module = h->module;
    h->module = snap;
    return true;
}

int wagi_handler_check_entrypoint(const wagi_handler *h, const char *name, char *err,
                                  size_t err_len)
{
    char dummy[8];
    if (!err || !err_len)
        err = dummy, err_len = sizeof dummy;
    if (!h || !name || !*name) {
        snprintf(err, err_len, "no entrypoint name");
        return -1;
    }
    for (size_t i = 0; i < sl_module_export_count(h->module); i++) {
        const char *en;
        sl_externkind kind;
        sl_module_export(h->module, i, &en, &kind);
        if (strcmp(en, name))
            continue;
        if (kind != SL_EXTERN_FUNC) {
            snprintf(err, err_len, "%s: the export \"%s\" is not a function", h->module_path,
                     name);
            return -1;
        }
        /* the signature needs an instance to ask; one trial is cheap at load */
        wasi_config wc = {.stdin_from_buf = true, .stdout_sink = discard,
                          .stderr_sink = discard};
        wasi_ctx *ctx = wasi_ctx_new(&wc);
        sl_instance_config ic = {.limits = {.max_memory_pages = h->max_memory_pages},
                                 .user_data = ctx};
        sl_instance *inst = NULL;
        sl_trap *trap = NULL;
        sl_diag d = {0};
        bool ok = ctx && sl_instantiate(h->linker, h->module, &ic, &inst, &d, &trap) == SL_OK &&
                  entry_ok(h, inst, name, err, err_len);
        if (!ctx)
            snprintf(err, err_len, "out of memory");
        else if (!inst)
            snprintf(err, err_len, "%s cannot be instantiated", h->module_path);
        sl_trap_free(trap);
        sl_instance_free(inst);
        wasi_ctx_free(ctx);
        return ok ? 0 : -1;
    }
    snprintf(err, err_len, "%s has no exported function \"%s\"", h->module_path, name);
    return -1;
}

int wagi_handler_routes(const wagi_handler *h, char **out, size_t *out_len, char *err,
                        size_t err_len)
{
    char dummy[8];
    if (!err || !err_len)
        err = dummy, err_len = sizeof dummy;
    *out = NULL;
    *out_len = 0;
    bool has = false;
    for (size_t i = 0; i < sl_module_export_count(h->module) && !has; i++) {
        const char *en;
        sl_externkind kind;
        sl_module_export(h->module, i, &en, &kind);
        has = kind == SL_EXTERN_FUNC && !strcmp(en, "_routes");
    }
    if (!has)
        return 0;
    wagi_response r = {0};
    uint64_t t = h->timeout_ns < ROUTES_MAX_NS ? h->timeout_ns : ROUTES_MAX_NS;
    bool ok = call_once(h, "_routes", "the _routes export", ROUTES_MAX_OUTPUT, t, &r, NULL, NULL,
                        err, err_len);
    if (ok) {
        *out = malloc(r.out.len + 1);
        if (!*out) {
            snprintf(err, err_len, "out of memory");
            ok = false;
        } else {
            if (r.out.len)
                memcpy(*out, r.out.data, r.out.len);
            (*out)[r.out.len] = '\0';
            *out_len = r.out.len;
        }
    }
    wagi_response_free(&r);
    return ok ? 1 : -1;
}
