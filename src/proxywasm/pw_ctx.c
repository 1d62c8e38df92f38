/*
 * pw_ctx.c — a VM's context ids and its deferred wake list.
 *
 * Ids:       one counter per VM starting at 1, never 0, skipping ids still
 *            in use (§1.4); live ids in an open-addressing table (linear
 *            probing, backward-shift deletion) for proxy_set_effective_context.
 * Wake list: streams whose state a hostcall changed outside their own
 *            callback; pw_stream_host.wake is called for each after the
 *            top-level guest call returned (pw__call), never inside it.
 * Not here:  what a context does (pw_vm.c, pw_stream.c).
 */
#include <stdlib.h>

#include "pw_int.h"

static size_t slot_of(uint32_t id, size_t cap)
{
    return (size_t)(id * 2654435761u) & (cap - 1);
}

static bool grow(pw_vm *vm)
{
    size_t cap = vm->ctx_cap ? vm->ctx_cap * 2 : 64;
    pw__ctx_ent *t = calloc(cap, sizeof *t);
    if (!t)
        return false;
    for (size_t i = 0; i < vm->ctx_cap; i++) {
        pw__ctx_ent *e = &vm->ctx[i];
        if (!e->id)
            continue;
        size_t j = slot_of(e->id, cap);
        while (t[j].id)
            j = (j + 1) & (cap - 1);
        t[j] = *e;
    }
    free(vm->ctx);
    vm->ctx = t;
    vm->ctx_cap = cap;
    return true;
}

const pw__ctx_ent *pw__ctx_find(const pw_vm *vm, uint32_t id)
{
    if (!id || !vm->ctx_cap)
        return NULL;
    for (size_t j = slot_of(id, vm->ctx_cap);; j = (j + 1) & (vm->ctx_cap - 1)) {
        if (vm->ctx[j].id == id)
            return &vm->ctx[j];
        if (!vm->ctx[j].id)
            return NULL;
    }
}

uint32_t pw__ctx_new_id(pw_vm *vm, size_t root, pw_stream *s)
{
    if ((vm->ctx_n + 1) * 2 > vm->ctx_cap && !grow(vm))
        return 0;
    uint32_t id;
    do {
        id = vm->next_id++;
        if (!vm->next_id)
            vm->next_id = 1;
    } while (!id || pw__ctx_find(vm, id));
    size_t j = slot_of(id, vm->ctx_cap);
    while (vm->ctx[j].id)
        j = (j + 1) & (vm->ctx_cap - 1);
    vm->ctx[j] = (pw__ctx_ent){id, root, s};
    vm->ctx_n++;
    return id;
}

void pw__ctx_remove(pw_vm *vm, uint32_t id)
{
    pw__ctx_ent *e = (pw__ctx_ent *)pw__ctx_find(vm, id);
    if (!e)
        return;
    size_t cap = vm->ctx_cap, i = (size_t)(e - vm->ctx);
    vm->ctx[i].id = 0;
    vm->ctx_n--;
    for (size_t j = (i + 1) & (cap - 1); vm->ctx[j].id; j = (j + 1) & (cap - 1)) {
        size_t home = slot_of(vm->ctx[j].id, cap);
        /* move j back into the hole i if its home is not in (i, j] */
        bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            vm->ctx[i] = vm->ctx[j];
            vm->ctx[j].id = 0;
            i = j;
        }
    }
}

void pw__wake_add(pw_vm *vm, pw_stream *s)
{
    if (s->wake_pending || !s->host.wake)
        return;
    if (vm->wake_n == vm->wake_cap) {
        size_t cap = vm->wake_cap ? vm->wake_cap * 2 : 8;
        pw_stream **w = realloc(vm->wake, cap * sizeof *w);
        if (!w)
            return;
        vm->wake = w;
        vm->wake_cap = cap;
    }
    vm->wake[vm->wake_n++] = s;
    s->wake_pending = true;
}

void pw__wake_remove(pw_vm *vm, pw_stream *s)
{
    if (!s->wake_pending)
        return;
    for (size_t i = 0; i < vm->wake_n; i++)
        if (vm->wake[i] == s) {
            vm->wake[i] = vm->wake[--vm->wake_n];
            break;
        }
    s->wake_pending = false;
}

void pw__wake_flush(pw_vm *vm)
{
    while (vm->wake_n && vm->depth == 0) {
        pw_stream *s = vm->wake[--vm->wake_n];
        s->wake_pending = false;
        s->host.wake(s->host.user, s); /* may finish s or run callbacks */
    }
}
