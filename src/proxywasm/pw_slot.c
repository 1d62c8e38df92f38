/*
 * pw_slot.c — "the current healthy VM of this plugin on this worker":
 * creates it lazily, replaces it after a failure (or when the plugin set
 * wasm_need_rebuild) at most once per PW_RECOVER_MIN_MS. A replaced VM
 * lives on until its last stream drops its reference.
 * Not here:  what a failure is (pw_vm.c).
 */
#include <stdio.h>

#include "pw_int.h"

void pw_slot_init(pw_slot *s, pw_plugin *p, sl_engine *engine, const pw_host *host)
{
    memset(s, 0, sizeof *s);
    s->plugin = pw_plugin_ref(p);
    s->engine = engine;
    if (host)
        s->host = *host;
}

pw_vm *pw_slot_vm(pw_slot *s, uint64_t now_ms)
{
    pw_vm *vm = s->vm;
    if (vm && !vm->failed && !vm->need_rebuild)
        return vm;
    if (vm && !vm->failed && vm->need_rebuild) {
        /* healthy but asked to be rebuilt: keep serving it until allowed */
        if (now_ms < s->next_try_ms)
            return vm;
    } else if (now_ms < s->next_try_ms) {
        return NULL;
    }
    bool recovering = vm && vm->failed, rebuilding = vm && !vm->failed;
    s->next_try_ms = now_ms + PW_RECOVER_MIN_MS;
    pw_vm *nvm = pw_vm_new(s->plugin, s->engine, &s->host, s->last_error, sizeof s->last_error);
    if (!nvm) {
        pw__logf(s->plugin->name, PW_LOG_ERROR, "cannot create the plugin VM: %s",
                 s->last_error);
        return rebuilding ? vm : NULL;
    }
    if (recovering)
        atomic_fetch_add_explicit(&s->plugin->stats->recoveries, 1, memory_order_relaxed);
    if (rebuilding)
        atomic_fetch_add_explicit(&s->plugin->stats->rebuilds, 1, memory_order_relaxed);
    pw_vm_unref(vm);
    s->vm = nvm;
    return nvm;
}

void pw_slot_fini(pw_slot *s)
{
    pw_vm_unref(s->vm);
    pw_plugin_unref(s->plugin);
    memset(s, 0, sizeof *s);
}
