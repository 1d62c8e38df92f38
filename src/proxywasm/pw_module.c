/*
 * pw_module.c — loading a plugin module: engine validation, ABI marker
 * detection (§0; the first marker export wins), required exports (memory,
 * malloc or proxy_on_memory_allocate), and a dry link: the module is
 * instantiated once against the full import table (pw_link.c) without
 * running any export, so an unknown import or a wrong import signature is
 * refused at load with the engine's message naming it. The dry instance
 * also checks the signature of every exported callback. The runtime
 * (interpreter or AOT native code, sluice/aot.h) is prepared before it.
 * Not here:  running anything (pw_vm.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "pw_int.h"

const char *const pw__cb_names[PW__CB_COUNT] = {
#define PW_X_(id, name) name,
    PW__CALLBACKS(PW_X_)
#undef PW_X_
};

const char *pw_abi_name(pw_abi abi)
{
    switch (abi) {
    case PW_ABI_0_1_0: return "0.1.0";
    case PW_ABI_0_2_0: return "0.2.0";
    case PW_ABI_0_2_1: return "0.2.1";
    case PW_ABI_0_2_100: return "0.2.100";
    }
    return "?";
}

static const struct {
    const char *name;
    pw_abi abi;
} markers[] = {
    {"proxy_abi_version_0_1_0", PW_ABI_0_1_0},
    {"proxy_abi_version_0_2_0", PW_ABI_0_2_0},
    {"proxy_abi_version_0_2_1", PW_ABI_0_2_1},
    {"proxy_abi_version_0_2_100", PW_ABI_0_2_100},
};

/* params, results (all i32); params 0xff = by ABI (header callbacks) */
static const uint8_t cb_sig[PW__CB_COUNT][2] = {
    [PW__CB_CONTEXT_CREATE] = {2, 0},      [PW__CB_VM_START] = {2, 1},
    [PW__CB_CONFIGURE] = {2, 1},           [PW__CB_TICK] = {1, 0},
    [PW__CB_QUEUE_READY] = {2, 0},         [PW__CB_REQUEST_HEADERS] = {0xff, 1},
    [PW__CB_REQUEST_BODY] = {3, 1},        [PW__CB_REQUEST_TRAILERS] = {2, 1},
    [PW__CB_RESPONSE_HEADERS] = {0xff, 1}, [PW__CB_RESPONSE_BODY] = {3, 1},
    [PW__CB_RESPONSE_TRAILERS] = {2, 1},   [PW__CB_HTTP_CALL_RESPONSE] = {5, 0},
    [PW__CB_REDIS_CALL_RESPONSE] = {4, 0}, [PW__CB_DONE] = {1, 1},
    [PW__CB_LOG] = {1, 0},                 [PW__CB_DELETE] = {1, 0},
};

static bool sig_ok(const sl_func *f, size_t np, size_t nr)
{
    if (sl_func_param_count(f) != np || sl_func_result_count(f) != nr)
        return false;
    for (size_t i = 0; i < np; i++)
        if (sl_func_param_type(f, i) != SL_I32)
            return false;
    for (size_t i = 0; i < nr; i++)
        if (sl_func_result_type(f, i) != SL_I32)
            return false;
    return true;
}

static int dry_link(pw_module *pm, sl_engine *engine, char *err, size_t err_len)
{
    sl_linker *l = pw__link(NULL, engine, NULL);
    if (!l) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    sl_instance *inst = NULL;
    sl_trap *trap = NULL;
    sl_diag d;
    d.msg[0] = '\0';
    int rc = 0;
    sl_err e = sl_instantiate(l, pm->mod, NULL, &inst, &d, &trap);
    if (e) {
        snprintf(err, err_len, "%s%s%s", sl_err_str(e), d.msg[0] ? ": " : "",
                 trap ? sl_trap_message(trap) : d.msg);
        rc = -1;
        goto out;
    }
    sl_func *alloc = sl_instance_func(inst, "malloc");
    if (!alloc)
        alloc = sl_instance_func(inst, "proxy_on_memory_allocate");
    if (!alloc || !sig_ok(alloc, 1, 1)) {
        snprintf(err, err_len, "%s", alloc ? "allocator export has the wrong signature"
                                           : "missing malloc or proxy_on_memory_allocate export");
        rc = -1;
        goto out;
    }
    for (int cb = 0; cb < PW__CB_COUNT; cb++) {
        sl_func *f = sl_instance_func(inst, pw__cb_names[cb]);
        pm->has_cb[cb] = f != NULL;
        size_t np = cb_sig[cb][0] == 0xff ? pm->header_params : cb_sig[cb][0];
        if (f && !sig_ok(f, np, cb_sig[cb][1])) {
            snprintf(err, err_len, "export %s has the wrong signature for ABI %s (want %zu params)",
                     pw__cb_names[cb], pw_abi_name(pm->abi), np);
            rc = -1;
            goto out;
        }
    }
out:
    sl_trap_free(trap);
    sl_instance_free(inst);
    sl_linker_free(l);
    return rc;
}

pw_module *pw_module_load(sl_engine *engine, const uint8_t *bytes, size_t len,
                          const pw_module_opts *opt, char *err, size_t err_len)
{
    char dummy[8];
    if (!err || !err_len)
        err = dummy, err_len = sizeof dummy;
    err[0] = '\0';
    pw_module *pm = calloc(1, sizeof *pm);
    if (!pm) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    atomic_init(&pm->refs, 1);
    sl_diag d;
    d.msg[0] = '\0';
    sl_err e = sl_module_new(engine, bytes, len, &pm->mod, &d);
    if (e) {
        snprintf(err, err_len, "%s%s%s", sl_err_str(e), d.msg[0] ? ": " : "", d.msg);
        free(pm);
        return NULL;
    }
    bool marker = false, memory = false;
    for (size_t i = 0, n = sl_module_export_count(pm->mod); i < n; i++) {
        const char *name;
        sl_externkind kind;
        sl_module_export(pm->mod, i, &name, &kind);
        if (kind == SL_EXTERN_MEMORY && !strcmp(name, "memory"))
            memory = true;
        if (kind != SL_EXTERN_FUNC || marker)
            continue;
        for (size_t k = 0; k < sizeof markers / sizeof markers[0]; k++)
            if (!strcmp(name, markers[k].name)) {
                pm->abi = markers[k].abi;
                marker = true;
            }
    }
    if (!marker) {
        snprintf(err, err_len, "missing or unknown Proxy-Wasm ABI version marker export");
        goto fail;
    }
    if (!memory) {
        snprintf(err, err_len, "module does not export its memory");
        goto fail;
    }
    pm->header_params = pm->abi == PW_ABI_0_1_0 ? 2 : 3;
    if (opt && opt->runtime != SL_RUNTIME_INTERP) {
        /* before any instance, while the bytes are at hand */
        d.msg[0] = '\0';
        e = sl_aot_prepare(pm->mod, bytes, len, opt->runtime, opt->aot_cache, &d);
        if (opt->runtime == SL_RUNTIME_AUTO && (e || d.msg[0])) {
            fprintf(stderr, "proxy-wasm: runtime auto: %s; interpreting\n",
                    d.msg[0] ? d.msg : sl_err_str(e));
        } else if (e) {
            snprintf(err, err_len, "runtime %s: %s", sl_runtime_name(opt->runtime),
                     d.msg[0] ? d.msg : sl_err_str(e));
            goto fail;
        }
    }
    if (dry_link(pm, engine, err, err_len))
        goto fail;
    return pm;
fail:
    sl_module_free(pm->mod);
    free(pm);
    return NULL;
}

pw_module *pw_module_ref(pw_module *m)
{
    if (m)
        atomic_fetch_add(&m->refs, 1);
    return m;
}

void pw_module_unref(pw_module *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
        sl_module_free(m->mod);
        free(m);
    }
}

pw_abi pw_module_abi(const pw_module *m)
{
    return m->abi;
}

bool pw_module_native(const pw_module *m)
{
    return m && sl_module_native(m->mod);
}
