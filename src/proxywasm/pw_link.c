/*
 * pw_link.c — the import table and guest-memory helpers.
 *
 * Owns:      one linker per VM: every env.proxy_* of every ABI version plus
 *            the Higress and Envoy extras (hostcall files' tables), the
 *            Emscripten helpers (emscripten_notify_memory_growth,
 *            pthread_equal), env.abort (traps) and env.seed, and WASI
 *            (src/wasi, both module names) configured like cpp-host §4: fd 1/2
 *            go to the plugin log (INFO/ERROR, one line per call), no
 *            preopens, env from the plugin, poll_oneoff returns at once with
 *            no events (overrides the WASI layer's sleeping version).
 *            Guest memory is reached only through sl_mem_slice.
 * Not here:  the hostcalls themselves (pw_hostcalls_*.c).
 */
#include <stdlib.h>
#include <time.h>

#include "pw_int.h"

bool pw__rd(pw_vm *vm, uint32_t p, uint32_t n, const uint8_t **out)
{
    uint8_t *q;
    if (!sl_mem_slice(vm->inst, p, n, &q))
        return false;
    *out = q;
    return true;
}

bool pw__wr32(pw_vm *vm, uint32_t p, uint32_t v)
{
    uint8_t *q;
    if (!sl_mem_slice(vm->inst, p, 4, &q))
        return false;
    q[0] = (uint8_t)v, q[1] = (uint8_t)(v >> 8), q[2] = (uint8_t)(v >> 16), q[3] = (uint8_t)(v >> 24);
    return true;
}

bool pw__wr64(pw_vm *vm, uint32_t p, uint64_t v)
{
    uint8_t *q;
    if (!sl_mem_slice(vm->inst, p, 8, &q))
        return false;
    for (int i = 0; i < 8; i++)
        q[i] = (uint8_t)(v >> (8 * i));
    return true;
}

static pw_status out_ptrs_ok(pw_vm *vm, uint32_t a, uint32_t b)
{
    uint8_t *q;
    return sl_mem_slice(vm->inst, a, 4, &q) && sl_mem_slice(vm->inst, b, 4, &q)
               ? PW_OK
               : PW_INVALID_MEMORY_ACCESS;
}

pw_status pw__ret_bytes(pw_vm *vm, uint32_t ptr_ptr, uint32_t len_ptr, const void *data, size_t n)
{
    if (out_ptrs_ok(vm, ptr_ptr, len_ptr))
        return PW_INVALID_MEMORY_ACCESS;
    if (n > UINT32_MAX)
        return PW_INVALID_MEMORY_ACCESS;
    uint32_t g = 0;
    if (n) {
        g = pw__guest_alloc(vm, (uint32_t)n);
        const uint8_t *dst;
        if (!g || !pw__rd(vm, g, (uint32_t)n, &dst))
            return PW_INVALID_MEMORY_ACCESS;
        memcpy((uint8_t *)dst, data, n);
    }
    if (!pw__wr32(vm, ptr_ptr, g) || !pw__wr32(vm, len_ptr, (uint32_t)n))
        return PW_INVALID_MEMORY_ACCESS;
    return PW_OK;
}

pw_status pw__ret_map(pw_vm *vm, uint32_t ptr_ptr, uint32_t len_ptr, const pw_map *m)
{
    if (out_ptrs_ok(vm, ptr_ptr, len_ptr))
        return PW_INVALID_MEMORY_ACCESS;
    size_t n = m ? pw__map_serialized_size(m) : 0;
    if (n > UINT32_MAX)
        return PW_INVALID_MEMORY_ACCESS;
    uint32_t g = 0;
    if (n) {
        g = pw__guest_alloc(vm, (uint32_t)n);
        const uint8_t *dst;
        if (!g || !pw__rd(vm, g, (uint32_t)n, &dst))
            return PW_INVALID_MEMORY_ACCESS;
        pw__map_serialize(m, (uint8_t *)dst); /* straight into guest memory */
    }
    if (!pw__wr32(vm, ptr_ptr, g) || !pw__wr32(vm, len_ptr, (uint32_t)n))
        return PW_INVALID_MEMORY_ACCESS;
    return PW_OK;
}

/* ---- small env helpers ----------------------------------------------------------------- */

static sl_trap *h_notify_growth(sl_instance *c, sl_val *a, void *u)
{
    return NULL;
}

static sl_trap *h_pthread_equal(sl_instance *c, sl_val *a, void *u)
{
    a[0].i32 = a[0].i32 == a[1].i32;
    return NULL;
}

static sl_trap *h_abort(sl_instance *c, sl_val *a, void *u)
{
    return sl_trap_new(SL_TRAP_HOST, "abort() called by the plugin");
}

static sl_trap *h_seed(sl_instance *c, sl_val *a, void *u)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    a[0].f64 = (double)ts.tv_nsec + (double)ts.tv_sec;
    return NULL;
}

/* cpp-host: poll_oneoff writes 0 events and returns at once (a sleep must
 * not block the worker). */
static sl_trap *h_poll_oneoff(sl_instance *c, sl_val *a, void *u)
{
    uint8_t *q;
    if (!sl_mem_slice(c, (uint32_t)a[3].i32, 4, &q)) {
        a[0].i32 = 21; /* EFAULT */
        return NULL;
    }
    memset(q, 0, 4);
    a[0].i32 = 0;
    return NULL;
}

static const pw__def env_helpers[] = {
    {"emscripten_notify_memory_growth", "i:", h_notify_growth},
    {"pthread_equal", "ii:i", h_pthread_equal},
    {"abort", "iiii:", h_abort},
    {"seed", ":F", h_seed},
    {NULL, NULL, NULL},
};

static bool define_all(sl_linker *l, const pw__def *defs, pw_vm *vm)
{
    for (; defs->name; defs++)
        if (sl_linker_define_func(l, "env", defs->name, defs->sig, defs->fn, vm))
            return false;
    return true;
}

sl_linker *pw__link(pw_vm *vm, sl_engine *engine, wasi_ctx *wasi)
{
    sl_linker *l = sl_linker_new(engine);
    if (!l)
        return NULL;
    const pw__def *tables[] = {pw__defs_core, pw__defs_maps, pw__defs_props,
                               pw__defs_async, pw__defs_shared, env_helpers};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (!define_all(l, tables[i], vm))
            goto fail;
    if (wasi_link(l, wasi))
        goto fail;
    if (sl_linker_define_func(l, "wasi_snapshot_preview1", "poll_oneoff", "iiii:i", h_poll_oneoff,
                              NULL) ||
        sl_linker_define_func(l, "wasi_unstable", "poll_oneoff", "iiii:i", h_poll_oneoff, NULL))
        goto fail;
    return l;
fail:
    sl_linker_free(l);
    return NULL;
}
