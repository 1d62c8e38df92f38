/*
 * sl_native.c — the engine's side of native (AOT) code: attaching a
 * library to a module, wiring an instance's functions to it, the services
 * generated code calls (sl_nrt), and backtraces through native frames.
 *
 * Layer:     engine (src/vm). Knows the interface of sl_native.h only; how
 *            a library is produced and loaded is src/aot's business (it
 *            fills an sl_native_lib and calls sl__module_attach_native).
 * Semantics: every service does exactly what the interpreter's handler of
 *            the same operation does (sl_interp.c); traps leave through
 *            sl__exec_raise.
 * Threads:   attach is atomic (the first library wins); the registry of
 *            live libraries (for backtraces) is under a mutex.
 */
#include "sl_exec.h"
#include "sl_native.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(offsetof(sl_memory, base) == offsetof(sl_nmem, base) &&
                   offsetof(sl_memory, size) == offsetof(sl_nmem, size),
               "sl_nmem is a prefix of sl_memory");
_Static_assert(offsetof(sl_table, elems) == offsetof(sl_ntable, elems) &&
                   offsetof(sl_table, size) == offsetof(sl_ntable, size),
               "sl_ntable is a prefix of sl_table");
_Static_assert(offsetof(sl_global, val) == 0, "a global starts with its value");
_Static_assert(offsetof(sl_func, nat) == 0, "sl_func starts with sl_nfunc");
_Static_assert(sizeof(sl_val) == sizeof(sl_nval), "sl_nval is sl_val");

/* ---- attaching ------------------------------------------------------------ */

void (*_Atomic sl__module_free_hook)(const sl_module *m);

static pthread_mutex_t libs_mu = PTHREAD_MUTEX_INITIALIZER;
static sl_native_lib *libs; /* live libraries, for backtraces */

static struct sl_module_cache *
cache_of(const sl_module *m)
{
    while (m && m->snapshot_of)
        m = m->snapshot_of;
    return m ? m->cache : NULL;
}

const sl_native_lib *
sl__module_native(const sl_module *m)
{
    struct sl_module_cache *c = cache_of(m);
    return c ? atomic_load_explicit(&c->native, memory_order_acquire) : NULL;
}

bool
sl_module_native(const sl_module *m)
{
    return sl__module_native(m) != NULL;
}

static int
cmp_addr(const void *a, const void *b)
{
    const sl_native_sym *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

sl_err
sl__module_attach_native(sl_module *m, sl_native_lib *lib)
{
    struct sl_module_cache *c = cache_of(m);
    if (!c || m->snapshot_of || !lib || !lib->man ||
        lib->man->n_funcs != m->n_funcs - m->n_func_imports)
        return SL_ERR_ARG;
    uint32_t n = lib->man->n_funcs;
    lib->module = m;
    lib->syms = malloc((n ? n : 1) * sizeof *lib->syms);
    if (!lib->syms)
        return SL_ERR_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        lib->syms[i].addr = (uintptr_t)lib->man->funcs[i];
        lib->syms[i].func = m->n_func_imports + i;
    }
    qsort(lib->syms, n, sizeof *lib->syms, cmp_addr);
    sl_native_lib *none = NULL;
    if (!atomic_compare_exchange_strong(&c->native, &none, lib)) {
        free(lib->syms);
        lib->syms = NULL;
        return SL_ERR_ARG; /* one library per module, for its whole life */
    }
    pthread_mutex_lock(&libs_mu);
    lib->next = libs;
    libs = lib;
    pthread_mutex_unlock(&libs_mu);
    return SL_OK;
}

void
sl__native_detach(struct sl_module_cache *c)
{
    sl_native_lib *lib = c ? atomic_exchange(&c->native, NULL) : NULL;
    if (!lib)
        return;
    pthread_mutex_lock(&libs_mu);
    for (sl_native_lib **p = &libs; *p; p = &(*p)->next)
        if (*p == lib) {
            *p = lib->next;
            break;
        }
    pthread_mutex_unlock(&libs_mu);
    free(lib->syms);
    lib->syms = NULL;
    if (lib->release)
        lib->release(lib);
}

/* ---- instances -------------------------------------------------------------- */

static const sl_nrt rt;
static sl_memory no_memory;

uint32_t
sl__canonical_type(const sl_module *m, uint32_t t)
{
    for (uint32_t i = 0; i < t; i++)
        if (m->types[i].hash == m->types[t].hash && sl__functype_equal(&m->types[i], &m->types[t]))
            return i;
    return t;
}

void
sl__native_setup(sl_instance *inst)
{
    const sl_module *m = inst->module;
    const sl_native_lib *lib = sl__module_native(m);
    if (!lib)
        return;
    inst->native = lib;
    sl_nctx *c = &inst->nctx;
    c->mem0 = (sl_nmem *)(inst->mem0 ? inst->mem0 : &no_memory);
    c->globals = (sl_nval **)(void *)inst->globals;
    c->tables = (sl_ntable **)(void *)inst->tables;
    c->funcs = (sl_nfunc **)(void *)inst->funcs;
    c->interrupt = &inst->interrupt;
    c->rt = &rt;
    for (uint32_t i = 0; i < m->n_funcs - m->n_func_imports; i++) {
        sl_func *f = &inst->own_funcs[i];
        f->nat.native = lib->man->funcs[i];
        f->nat.entry = lib->man->entries[i];
        f->nat.nctx = c;
        f->nat.type_id = sl__canonical_type(m, m->funcs[i].type_index);
    }
    if (inst->mem0)
        inst->mem0->pristine = false; /* native code writes without telling */
}

static sl_instance *
inst_of(sl_nctx *c)
{
    return (sl_instance *)(void *)((char *)c - offsetof(sl_instance, nctx));
}

/* ---- backtraces --------------------------------------------------------------- */

static const sl_native_lib *
lib_at(uintptr_t pc, uint32_t *func)
{
    for (const sl_native_lib *l = libs; l; l = l->next) {
        if (pc < l->text_lo || pc >= l->text_hi)
            continue;
        uint32_t lo = 0, hi = l->man->n_funcs;
        while (lo < hi) { /* last symbol at or below pc */
            uint32_t mid = (lo + hi) / 2;
            if (l->syms[mid].addr <= pc)
                lo = mid + 1;
            else
                hi = mid;
        }
        *func = lo ? l->syms[lo - 1].func : UINT32_MAX;
        return l;
    }
    return NULL;
}

/* This thread's stack, for checking frame pointers before following them
 * (a fault can leave any value in the frame-pointer register). */
static bool
stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t a;
    void *base = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return false;
    bool ok = pthread_attr_getstack(&a, &base, &size) == 0 && base;
    pthread_attr_destroy(&a);
    *lo = (uintptr_t)base;
    *hi = (uintptr_t)base + size;
    return ok;
}

void
sl__native_backtrace(sl_trap *t, void *const *fp, uintptr_t pc)
{
    uintptr_t lo = 0, hi = 0;
    if (!stack_bounds(&lo, &hi))
        fp = NULL;
    pthread_mutex_lock(&libs_mu);
    for (int n = 0; n < 256; n++) {
        if (fp && ((uintptr_t)fp < lo || (uintptr_t)fp + 2 * sizeof(void *) > hi ||
                   ((uintptr_t)fp & 7)))
            fp = NULL;
        if (!pc) {
            if (!fp)
                break;
            pc = (uintptr_t)fp[1];
        }
        uint32_t func;
        const sl_native_lib *l = lib_at(pc, &func);
        if (!l)
            break;
        if (func != UINT32_MAX) {
            const sl_module *m = l->module;
            sl__trap_push_frame(t, func, m->func_names ? m->func_names[func] : NULL);
        }
        void *const *next = fp ? (void *const *)fp[0] : NULL;
        if (!next || next <= fp || ((uintptr_t)next & 7))
            break;
        fp = next;
        pc = 0;
    }
    pthread_mutex_unlock(&libs_mu);
}

__attribute__((noreturn, noinline)) static void
raise_here(sl_trap *t, void *const *fp)
{
    sl__native_backtrace(t, fp, 0);
    sl__exec_raise(t);
}

/* ---- services ------------------------------------------------------------------- */

__attribute__((noreturn, noinline)) static void
rt_trap(sl_nctx *c, int kind)
{
    (void)c;
    raise_here(sl_trap_new((sl_trap_kind)kind, NULL), __builtin_frame_address(0));
}

__attribute__((noreturn, noinline)) static void
rt_interrupted(sl_nctx *c)
{
    atomic_store(c->interrupt, 0);
    raise_here(sl_trap_new(SL_TRAP_INTERRUPTED, NULL), __builtin_frame_address(0));
}

/* Calls f (any kind) from the native code of c's instance. Native code of
 * another instance runs on this entry's jump buffer and stack limit. */
static sl_trap *
call_any(sl_nctx *c, sl_func *f, sl_val *ar)
{
    if (f->host)
        return f->host(inst_of(c), ar, f->user);
    if (f->nat.native) {
        sl_nctx *callee = f->nat.nctx;
        callee->stack_floor = c->stack_floor;
        callee->stack_limit = atomic_load(callee->interrupt) ? (const char *)UINTPTR_MAX
                                                              : c->stack_floor;
        f->nat.entry(callee, f->nat.native, (sl_nval *)ar);
        return NULL;
    }
    return sl__invoke(f, ar);
}

__attribute__((noinline)) static void
rt_call(sl_nctx *c, void *func, sl_nval *ar)
{
    sl_trap *t = call_any(c, func, (sl_val *)ar);
    if (t)
        raise_here(t, __builtin_frame_address(0));
}

__attribute__((noinline)) static void
rt_call_checked(sl_nctx *c, void *func, uint32_t type, sl_nval *ar)
{
    sl_func *f = func;
    const sl_functype *want = &inst_of(c)->module->types[type];
    if (f->type != want && !sl__functype_equal(f->type, want))
        raise_here(sl_trap_new(SL_TRAP_INDIRECT_TYPE, NULL), __builtin_frame_address(0));
    sl_trap *t = call_any(c, f, (sl_val *)ar);
    if (t)
        raise_here(t, __builtin_frame_address(0));
}

#define FAIL(kind) raise_here(sl_trap_new(kind, NULL), __builtin_frame_address(0))

static inline bool
out_of_bounds(uint64_t a, uint64_t n, uint64_t size)
{
    return a + n > size;
}

static int32_t
rt_memory_grow(sl_nctx *c, uint32_t delta)
{
    sl_instance *inst = inst_of(c);
    return inst->mem0 ? (int32_t)sl_memory_grow(inst->mem0, delta) : -1;
}

__attribute__((noinline)) static void
rt_memory_init(sl_nctx *c, uint32_t seg, uint32_t d, uint32_t s, uint32_t n)
{
    sl_instance *inst = inst_of(c);
    const sl_data *data = &inst->module->datas[seg];
    uint64_t len = inst->data_dropped[seg] ? 0 : data->len;
    if (out_of_bounds(s, n, len) || out_of_bounds(d, n, c->mem0->size))
        FAIL(SL_TRAP_MEMORY_OOB);
    if (n)
        memcpy(c->mem0->base + d, data->bytes + s, n);
}

static void
rt_data_drop(sl_nctx *c, uint32_t seg)
{
    inst_of(c)->data_dropped[seg] = true;
}

__attribute__((noinline)) static void
rt_memory_copy(sl_nctx *c, uint32_t d, uint32_t s, uint32_t n)
{
    if (out_of_bounds(s, n, c->mem0->size) || out_of_bounds(d, n, c->mem0->size))
        FAIL(SL_TRAP_MEMORY_OOB);
    memmove(c->mem0->base + d, c->mem0->base + s, n);
}

__attribute__((noinline)) static void
rt_memory_fill(sl_nctx *c, uint32_t d, uint32_t v, uint32_t n)
{
    if (out_of_bounds(d, n, c->mem0->size))
        FAIL(SL_TRAP_MEMORY_OOB);
    memset(c->mem0->base + d, (int)(uint8_t)v, n);
}

__attribute__((noinline)) static void *
rt_table_get(sl_nctx *c, uint32_t t, uint32_t i)
{
    sl_table *tab = inst_of(c)->tables[t];
    if (i >= tab->size)
        FAIL(SL_TRAP_TABLE_OOB);
    return tab->elems[i].ref;
}

__attribute__((noinline)) static void
rt_table_set(sl_nctx *c, uint32_t t, uint32_t i, void *v)
{
    sl_table *tab = inst_of(c)->tables[t];
    if (i >= tab->size)
        FAIL(SL_TRAP_TABLE_OOB);
    tab->elems[i].ref = v;
}

static int32_t
rt_table_grow(sl_nctx *c, uint32_t t, void *init, uint32_t n)
{
    sl_instance *inst = inst_of(c);
    return (int32_t)sl__table_grow(inst->tables[t], n, (sl_val){.ref = init},
                                   inst->limits.max_table_elems);
}

__attribute__((noinline)) static void
rt_table_fill(sl_nctx *c, uint32_t t, uint32_t i, void *v, uint32_t n)
{
    sl_table *tab = inst_of(c)->tables[t];
    if (out_of_bounds(i, n, tab->size))
        FAIL(SL_TRAP_TABLE_OOB);
    for (uint64_t k = 0; k < n; k++)
        tab->elems[i + k].ref = v;
}

__attribute__((noinline)) static void
rt_table_copy(sl_nctx *c, uint32_t dt, uint32_t st, uint32_t d, uint32_t s, uint32_t n)
{
    sl_instance *inst = inst_of(c);
    sl_table *dtab = inst->tables[dt], *stab = inst->tables[st];
    if (out_of_bounds(s, n, stab->size) || out_of_bounds(d, n, dtab->size))
        FAIL(SL_TRAP_TABLE_OOB);
    memmove(dtab->elems + d, stab->elems + s, (size_t)n * sizeof(sl_val));
}

__attribute__((noinline)) static void
rt_table_init(sl_nctx *c, uint32_t t, uint32_t seg, uint32_t d, uint32_t s, uint32_t n)
{
    sl_instance *inst = inst_of(c);
    sl_table *tab = inst->tables[t];
    uint64_t len = inst->elem_values[seg] ? inst->elem_sizes[seg] : 0;
    if (out_of_bounds(s, n, len) || out_of_bounds(d, n, tab->size))
        FAIL(SL_TRAP_TABLE_OOB);
    if (n)
        memcpy(tab->elems + d, inst->elem_values[seg] + s, (size_t)n * sizeof(sl_val));
}

static void
rt_elem_drop(sl_nctx *c, uint32_t seg)
{
    inst_of(c)->elem_sizes[seg] = 0;
}

__attribute__((noinline)) static void
rt_enter_slow(sl_nctx *c)
{
    __atomic_store_n(&c->stack_limit, c->stack_floor, __ATOMIC_RELAXED);
    if (atomic_load(c->interrupt))
        rt_interrupted(c);
    if ((const char *)__builtin_frame_address(0) < c->stack_floor + 256)
        raise_here(sl_trap_new(SL_TRAP_STACK_EXHAUSTED, NULL), __builtin_frame_address(0));
}

static const sl_nrt rt = {
    .trap = rt_trap,
    .call = rt_call,
    .call_checked = rt_call_checked,
    .memory_grow = rt_memory_grow,
    .memory_init = rt_memory_init,
    .data_drop = rt_data_drop,
    .memory_copy = rt_memory_copy,
    .memory_fill = rt_memory_fill,
    .table_get = rt_table_get,
    .table_set = rt_table_set,
    .table_grow = rt_table_grow,
    .table_fill = rt_table_fill,
    .table_copy = rt_table_copy,
    .table_init = rt_table_init,
    .elem_drop = rt_elem_drop,
    .interrupted = rt_interrupted,
    .enter_slow = rt_enter_slow,
};

void
sl__native_interrupt(sl_instance *inst)
{
    if (inst->native)
        __atomic_store_n(&inst->nctx.stack_limit, (const char *)UINTPTR_MAX, __ATOMIC_RELAXED);
}
