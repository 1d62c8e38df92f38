/*
 * fuzz_decode.c — libFuzzer target: decode, validate and lower one module.
 *
 * Owns:   the "any byte string" contract of sl_module_new: it must return
 *         SL_OK or an error with a diagnostic, never crash, leak or hit UB;
 *         on success the import/export accessors must be usable.
 * Build:  with libFuzzer by tests/fuzz/run.sh (clang -fsanitize=fuzzer,...);
 *         without it, linked with replay_main.c, by tests/regression/suite.sh.
 */
#include <sluice/vm.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static sl_engine *engine;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!engine) {
        engine = sl_engine_new(NULL);
        if (!engine)
            return 0;
    }
    sl_module *m = NULL;
    sl_diag d;
    memset(&d, 0, sizeof d);
    sl_err err = sl_module_new(engine, data, size, &m, &d);
    if (err != SL_OK) {
        /* The diagnostic must be a terminated string. */
        if (memchr(d.msg, 0, sizeof d.msg) == NULL) {
            fprintf(stderr, "fuzz_decode: unterminated diagnostic\n");
            __builtin_trap();
        }
        return 0;
    }
    size_t sum = 0;
    for (size_t i = 0; i < sl_module_import_count(m); i++) {
        const char *mod = NULL, *name = NULL;
        sl_externkind kind;
        sl_module_import(m, i, &mod, &name, &kind);
        sum += strlen(mod) + strlen(name) + (size_t)kind;
    }
    for (size_t i = 0; i < sl_module_export_count(m); i++) {
        const char *name = NULL;
        sl_externkind kind;
        sl_module_export(m, i, &name, &kind);
        sum += strlen(name) + (size_t)kind;
    }
    (void)sum;
    sl_module_free(m);
    return 0;
}
