/*
 * sluice/aot.h — the ahead-of-time tier: Wasm modules compiled to native
 * code through C and the system C compiler, packed into checked artifacts,
 * cached by module hash, and attached to modules so that new instances run
 * native code with the interpreter's exact semantics.
 *
 * Layer:     src/aot, beside the engine (it includes only sluice/vm.h from
 *            above). Embedders (CLI, WAGI, proxy-wasm, gateway) use this
 *            header and sluice/vm.h only.
 * Artifacts: one file: a header (magic, engine ABI version, the SHA-256 of
 *            the module's bytes, target, the size and SHA-256 of the
 *            payload) then the payload, a shared object. Loading checks
 *            all of it before anything of the payload runs; a mismatched,
 *            truncated or corrupted artifact is refused with a message.
 * Threads:   every function is thread-safe; sl_aot_prepare's background
 *            compile attaches from its own thread (new instances switch
 *            over; running ones keep interpreting).
 */
#ifndef SLUICE_AOT_H
#define SLUICE_AOT_H

#include "sluice/vm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_aot_options {
    const char *cc;       /* C compiler; NULL = $SLUICE_CC, else "cc" */
    unsigned jobs;        /* parallel compiler processes; 0 = online CPUs */
    const char *work_dir; /* where sources are written; NULL = $TMPDIR or /tmp */
    bool keep_sources;    /* keep the generated C (prints its directory) */
    bool quiet;           /* no messages on stderr */
} sl_aot_options;

/* Translates and compiles the module in bytes into an artifact at out_path
 * (written atomically: a temporary file renamed). opt may be NULL. */
sl_err sl_aot_compile(sl_engine *engine, const uint8_t *bytes, size_t len, const char *out_path,
                      const sl_aot_options *opt, sl_diag *diag);

/* Verifies the artifact at path against the module's bytes and this
 * engine, loads it and attaches it to m (made from the same bytes).
 * Refusals are SL_ERR_ARG with a message naming what did not match. */
sl_err sl_aot_load(sl_module *m, const uint8_t *bytes, size_t len, const char *path,
                   sl_diag *diag);

/* "<dir>/<sha256 of bytes>.<target>.slaot" into out (n bytes); the target
 * (e.g. x86_64-linux-guard) keeps builds with other memory strategies
 * apart. False if too long. */
bool sl_aot_cache_path(const char *dir, const uint8_t *bytes, size_t len, char *out, size_t n);

typedef enum sl_runtime {
    SL_RUNTIME_INTERP = 0, /* interpret */
    SL_RUNTIME_AOT,        /* native code now: the cached artifact, or compile first */
    SL_RUNTIME_AUTO,       /* cached artifact if any; else interpret at once
                            * while a background thread compiles, then tier up */
} sl_runtime;

bool sl_runtime_parse(const char *s, sl_runtime *out); /* "interp" | "aot" | "auto" */
const char *sl_runtime_name(sl_runtime r);

/* Prepares m (made from bytes) for mode, with the artifact cache in
 * cache_dir (created if missing; NULL = $SLUICE_AOT_CACHE, else
 * $XDG_CACHE_HOME/sluice/aot, else ~/.cache/sluice/aot). A failed AOT
 * compile or load is an error for SL_RUNTIME_AOT and a logged fallback to
 * the interpreter for SL_RUNTIME_AUTO. */
sl_err sl_aot_prepare(sl_module *m, const uint8_t *bytes, size_t len, sl_runtime mode,
                      const char *cache_dir, sl_diag *diag);

/* Waits until no background compile is running (tests, orderly exit). */
void sl_aot_wait_idle(void);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_AOT_H */
