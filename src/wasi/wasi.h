/*
 * wasi.h — public API of the WASI preview1 host layer (src/wasi).
 *
 * Layer:     host ABI above the engine; includes only <sluice/vm.h>. Used by
 *            the CLI (`sluice run`) and by WAGI (one context per request).
 * What:      a wasi_ctx holds everything one guest sees through WASI: argv,
 *            environ, the fd table (stdio, preopened directories, files it
 *            opened) and where stdio goes. wasi_link registers the 46
 *            preview1 functions on a linker, under "wasi_snapshot_preview1"
 *            and "wasi_unstable" (preview0).
 * Ownership: wasi_ctx_new copies its config; the context is owned by the
 *            caller and must outlive every instance that calls into it.
 * Threads:   a context is used by one instance (one thread) at a time. The
 *            functions registered by wasi_link are reentrant; a linker made
 *            with wasi_link(l, NULL) may serve instances on many threads.
 *
 * Usage (one run of a command module):
 *     wasi_config cfg = { .argc = 2, .argv = (const char *[]){"hello", "x"} };
 *     wasi_ctx *w = wasi_ctx_new(&cfg);
 *     wasi_link(linker, w);                       // or NULL + user_data
 *     sl_instantiate(linker, module, NULL, &inst, &diag, &trap);
 *     trap = sl_func_call(sl_instance_func(inst, "_start"), NULL, NULL);
 *     int code = !trap ? 0 : sl_trap_kind_of(trap) == SL_TRAP_EXIT
 *                          ? sl_trap_exit_code(trap) : 134;
 *     sl_instance_free(inst); wasi_ctx_free(w);
 */
#ifndef SLUICE_WASI_H
#define SLUICE_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/vm.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wasi_ctx wasi_ctx;

/* Receives each chunk the guest writes to stdout/stderr (one call per
 * non-empty iovec). Borrows p for the duration of the call. Return 0, or -1
 * to make the guest's fd_write fail with EPIPE (e.g. client went away). */
typedef int (*wasi_sink_fn)(void *user, const uint8_t *p, size_t n);

typedef struct wasi_config {
    int argc;
    const char *const *argv; /* argv[0] is the program name */
    int envc;
    const char *const *envp; /* "KEY=VALUE" */
    int n_preopens;          /* directories, fds 3, 4, ... in this order */
    const char *const *preopen_host;  /* host directory to open */
    const char *const *preopen_guest; /* name the guest sees, e.g. "/data" */
    /* stdio: by default fds 0, 1, 2 map to the host's 0, 1, 2 (never closed
     * by the guest). An embedder may redirect them: */
    const uint8_t *stdin_buf; /* read from memory, then EOF */
    size_t stdin_len;
    bool stdin_from_buf;
    wasi_sink_fn stdout_sink; /* NULL = host fd 1 */
    wasi_sink_fn stderr_sink; /* NULL = host fd 2 */
    void *sink_user;          /* passed to both sinks */
} wasi_config;

/* Creates a context. Copies every string, the stdin buffer and the preopen
 * names, and opens each preopen_host directory (O_DIRECTORY). Returns owned
 * (free with wasi_ctx_free), or NULL when out of memory, when the config is
 * inconsistent, or when a preopen cannot be opened; errno says which. */
wasi_ctx *wasi_ctx_new(const wasi_config *cfg);

/* Closes every host fd the context opened (never the host's stdio) and
 * frees it. NULL is ignored. */
void wasi_ctx_free(wasi_ctx *ctx);

/* Registers all 46 functions under "wasi_snapshot_preview1" and
 * "wasi_unstable". Borrows ctx: it must outlive the linker's instances.
 * If ctx is NULL, each call finds its context as
 * (wasi_ctx *)sl_instance_user_data(caller) — that is how one linker
 * serves many per-request instances (WAGI); a call from an instance with no
 * user data traps (SL_TRAP_HOST). Returns SL_OK or the linker's error. */
sl_err wasi_link(sl_linker *l, wasi_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_WASI_H */
