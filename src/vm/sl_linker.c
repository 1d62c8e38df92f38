/*
 * sl_linker.c — the linker: a map from (module, name) to host functions,
 * host memories/tables/globals and the exports of registered instances,
 * through which sl_instantiate resolves imports.
 *
 * Layer:     engine (src/vm). Uses sl_runtime.h and sl_linker.h.
 * Structure: an open-addressing hash table (linear probing, load <= 1/2,
 *            no deletion); a later definition of the same key replaces the
 *            entry in place.
 * Ownership: the linker owns every host function it created, for its whole
 *            life, even after a definition is replaced: instances created
 *            earlier may still call it. Entries for memories, tables and
 *            globals each hold one reference. Registered (and adopted)
 *            instances hold one reference each. sl_linker_free drops all
 *            of them, so every instance made through the linker must be
 *            freed first (vm.h contract).
 * Threads:   definitions are not thread-safe. Once the linker is no longer
 *            modified, threads may instantiate through it concurrently as
 *            long as their modules import only host functions: importing a
 *            memory, table, global or an instance's export bumps plain
 *            (non-atomic) reference counts, and a trapped instantiation may
 *            be adopted by the linker (sl__linker_adopt).
 * Not here:  import type matching and instantiation (sl_instance.c).
 */
#include "sl_linker.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *module, *name; /* NULL module = empty slot; names may hold NULs */
    uint32_t module_len, name_len;
    uint32_t hash;
    sl_extern ext;
} entry;

/* A growable array of owned pointers. */
typedef struct ptr_vec {
    void **items;
    uint32_t n, cap;
} ptr_vec;

/* A host function with its type in the same allocation. */
typedef struct host_func {
    sl_func func; /* first: a host_func is freed through its sl_func */
    sl_functype type;
    uint8_t types[];
} host_func;

/* Stamps name linker states: every definition takes a new one, so a module's
 * cached import resolution (sl_instance.c) is valid while the stamp it was
 * made under is still the linker's. Unique in the process, never 0. */
static atomic_uint_fast64_t next_stamp = 1;

struct sl_linker {
    sl_engine *engine;
    uint64_t stamp;
    entry *slots;
    uint32_t cap, n; /* cap is 0 or a power of two */
    ptr_vec hosts;   /* host_func *, every one ever defined */
    ptr_vec insts;   /* sl_instance *, one reference each */
};

static bool
vec_push(ptr_vec *v, void *p)
{
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? 2 * v->cap : 8;
        void **items = realloc(v->items, cap * sizeof *items);
        if (!items)
            return false;
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = p;
    return true;
}

/* A name with its length: Wasm names are UTF-8 and may contain NUL. */
typedef struct key {
    const char *module, *name;
    uint32_t module_len, name_len;
} key;

static key
key_of(const char *module, const char *name)
{
    return (key){module, name, module ? (uint32_t)strlen(module) : 0,
                 name ? (uint32_t)strlen(name) : 0};
}

/* Eight bytes at a time (every instantiation hashes each import's names:
 * "wasi_snapshot_preview1" byte by byte was a quarter of instantiating a
 * small module). The lengths go in too, so module/name splits differ. */
static uint64_t
hash_mix(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static uint64_t
hash_bytes(uint64_t h, const char *p, uint32_t n)
{
    h = hash_mix(h, n);
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = hash_mix(h, v);
    }
    uint64_t tail = 0;
    memcpy(&tail, p, n);
    return hash_mix(h, tail);
}

static uint32_t
key_hash(key k)
{
    uint64_t h = hash_bytes(0x243F6A8885A308D3ull, k.module, k.module_len);
    h = hash_bytes(h, k.name, k.name_len);
    return (uint32_t)(h ^ (h >> 32));
}

static bool
key_is(const entry *e, uint32_t hash, key k)
{
    return e->hash == hash && e->module_len == k.module_len && e->name_len == k.name_len &&
           !memcmp(e->module, k.module, k.module_len) && !memcmp(e->name, k.name, k.name_len);
}

/* The slot holding module.name, or the empty slot where it would go. */
static entry *
find_slot(entry *slots, uint32_t cap, uint32_t hash, key k)
{
    for (uint32_t i = hash & (cap - 1);; i = (i + 1) & (cap - 1)) {
        entry *e = &slots[i];
        if (!e->module || key_is(e, hash, k))
            return e;
    }
}

static char *
dup_bytes(const char *p, uint32_t n)
{
    char *d = malloc((size_t)n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = 0;
    }
    return d;
}

static bool
rehash(sl_linker *l)
{
    uint32_t cap = l->cap ? 2 * l->cap : 16;
    if (cap < l->cap)
        return false;
    entry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (uint32_t i = 0; i < l->cap; i++) {
        entry *e = &l->slots[i];
        if (e->module)
            *find_slot(slots, cap, e->hash,
                       (key){e->module, e->name, e->module_len, e->name_len}) = *e;
    }
    free(l->slots);
    l->slots = slots;
    l->cap = cap;
    return true;
}

static void
extern_release(const sl_extern *x)
{
    switch (x->kind) {
    case SL_EXTERN_TABLE:
        sl__table_release(x->table);
        break;
    case SL_EXTERN_MEMORY:
        sl__memory_release(x->mem);
        break;
    case SL_EXTERN_GLOBAL:
        sl__global_release(x->global);
        break;
    case SL_EXTERN_FUNC:
        break; /* owned by l->hosts or by a referenced instance */
    }
}

/* Binds module.name to x. Takes x's reference, also on failure. */
static sl_err
define(sl_linker *l, key k, sl_extern x)
{
    l->stamp = atomic_fetch_add(&next_stamp, 1);
    if (!k.module || !k.name) {
        extern_release(&x);
        return SL_ERR_ARG;
    }
    if ((l->n + 1) * 2ull > l->cap && !rehash(l)) {
        extern_release(&x);
        return SL_ERR_NOMEM;
    }
    uint32_t hash = key_hash(k);
    entry *e = find_slot(l->slots, l->cap, hash, k);
    if (e->module) {
        extern_release(&e->ext);
        e->ext = x;
        return SL_OK;
    }
    char *m = dup_bytes(k.module, k.module_len), *n = dup_bytes(k.name, k.name_len);
    if (!m || !n) {
        free(m);
        free(n);
        extern_release(&x);
        return SL_ERR_NOMEM;
    }
    *e = (entry){.module = m, .name = n, .module_len = k.module_len, .name_len = k.name_len,
                 .hash = hash, .ext = x};
    l->n++;
    return SL_OK;
}

sl_linker *
sl_linker_new(sl_engine *engine)
{
    if (!engine)
        return NULL;
    sl_linker *l = calloc(1, sizeof *l);
    if (l) {
        l->engine = engine;
        l->stamp = atomic_fetch_add(&next_stamp, 1);
    }
    return l;
}

void
sl_linker_free(sl_linker *l)
{
    if (!l)
        return;
    for (uint32_t i = 0; i < l->cap; i++) {
        entry *e = &l->slots[i];
        if (!e->module)
            continue;
        extern_release(&e->ext);
        free(e->module);
        free(e->name);
    }
    free(l->slots);
    for (uint32_t i = 0; i < l->hosts.n; i++) {
        host_func *h = l->hosts.items[i];
        free(h->func.debug_name);
        free(h);
    }
    free(l->hosts.items);
    for (uint32_t i = 0; i < l->insts.n; i++)
        sl__instance_release(l->insts.items[i]);
    free(l->insts.items);
    free(l);
}

bool
sl__linker_lookup(const sl_linker *l, const char *module, uint32_t module_len, const char *name,
                  uint32_t name_len, sl_extern *out)
{
    if (!l || !l->n || !module || !name)
        return false;
    key k = {module, name, module_len, name_len};
    const entry *e = find_slot(l->slots, l->cap, key_hash(k), k);
    if (!e->module)
        return false;
    *out = e->ext;
    return true;
}

uint64_t
sl__linker_stamp(const sl_linker *l)
{
    return l->stamp;
}

sl_engine *
sl__linker_engine(const sl_linker *l)
{
    return l->engine;
}

void
sl__linker_adopt(sl_linker *l, sl_instance *inst)
{
    (void)vec_push(&l->insts, inst); /* on failure the reference leaks: safe */
}

/* ---- host functions ------------------------------------------------------ */

static uint8_t
sig_type(char c)
{
    switch (c) {
    case 'i':
        return SL_I32;
    case 'I':
        return SL_I64;
    case 'f':
        return SL_F32;
    case 'F':
        return SL_F64;
    case 'r':
        return SL_EXTERNREF;
    case 'R':
        return SL_FUNCREF;
    }
    return 0;
}

/* Parses "params:results" (vm.h) into a new host function, or NULL with
 * *err set. */
static host_func *
host_func_new(const char *sig, sl_err *err)
{
    const char *colon = sig ? strchr(sig, ':') : NULL;
    *err = SL_ERR_ARG;
    if (!colon || strchr(colon + 1, ':'))
        return NULL;
    size_t n_params = (size_t)(colon - sig), n_results = strlen(colon + 1);
    if (n_params + n_results > UINT16_MAX)
        return NULL;
    *err = SL_ERR_NOMEM;
    host_func *h = calloc(1, sizeof *h + n_params + n_results);
    if (!h)
        return NULL;
    sl_functype *t = &h->type;
    t->n_params = (uint32_t)n_params;
    t->n_results = (uint32_t)n_results;
    t->types = h->types;
    for (size_t i = 0; i < n_params + n_results; i++) {
        uint8_t vt = sig_type(i < n_params ? sig[i] : colon[1 + i - n_params]);
        if (!vt) {
            free(h);
            *err = SL_ERR_ARG;
            return NULL;
        }
        h->types[i] = vt;
        if (i < n_params)
            t->n_param_slots += sl__slots_of(vt);
        else
            t->n_result_slots += sl__slots_of(vt);
    }
    t->hash = sl__functype_hash(t);
    h->func.type = t;
    *err = SL_OK;
    return h;
}

sl_err
sl_linker_define_func(sl_linker *l, const char *module, const char *name, const char *sig,
                      sl_host_fn fn, void *user)
{
    if (!l || !module || !name || !fn)
        return SL_ERR_ARG;
    sl_err err;
    host_func *h = host_func_new(sig, &err);
    if (!h)
        return err;
    size_t len = strlen(module) + 1 + strlen(name) + 1;
    h->func.debug_name = malloc(len);
    if (!h->func.debug_name || !vec_push(&l->hosts, h)) {
        free(h->func.debug_name);
        free(h);
        return SL_ERR_NOMEM;
    }
    strcpy(h->func.debug_name, module);
    strcat(h->func.debug_name, ".");
    strcat(h->func.debug_name, name);
    h->func.host = fn;
    h->func.user = user;
    return define(l, key_of(module, name), (sl_extern){.kind = SL_EXTERN_FUNC, .func = &h->func});
}

/* ---- registered instances and host objects --------------------------------- */

sl_err
sl_linker_define_instance(sl_linker *l, const char *module, sl_instance *inst)
{
    if (!l || !module || !inst)
        return SL_ERR_ARG;
    if (!vec_push(&l->insts, inst))
        return SL_ERR_NOMEM;
    inst->refs++;
    const sl_module *m = inst->module;
    for (uint32_t i = 0; i < m->n_exports; i++) {
        const sl_export *x = &m->exports[i];
        sl_extern e = {.kind = x->kind, .owner = inst};
        switch (x->kind) {
        case SL_EXTERN_FUNC:
            e.func = inst->funcs[x->index];
            break;
        case SL_EXTERN_TABLE:
            e.table = inst->tables[x->index];
            e.table->refs++;
            break;
        case SL_EXTERN_MEMORY:
            e.mem = inst->mems[x->index];
            e.mem->refs++;
            break;
        case SL_EXTERN_GLOBAL:
            e.global = inst->globals[x->index];
            e.global->refs++;
            break;
        }
        key k = {module, x->name, (uint32_t)strlen(module), x->name_len};
        sl_err err = define(l, k, e);
        if (err)
            return err;
    }
    return SL_OK;
}

sl_err
sl_linker_define_memory(sl_linker *l, const char *module, const char *name, uint32_t min_pages,
                        uint32_t max_pages)
{
    bool has_max = max_pages != UINT32_MAX;
    if (!l || min_pages > SL_MAX_PAGES ||
        (has_max && (max_pages > SL_MAX_PAGES || min_pages > max_pages)))
        return SL_ERR_ARG;
    uint32_t cap = l->engine->limits.max_memory_pages;
    if (has_max && max_pages < cap)
        cap = max_pages;
    if (min_pages > cap)
        return SL_ERR_LIMIT;
    sl_memory *mem = sl__memory_new(min_pages, cap);
    if (!mem)
        return SL_ERR_NOMEM;
    mem->decl_max = max_pages;
    return define(l, key_of(module, name), (sl_extern){.kind = SL_EXTERN_MEMORY, .mem = mem});
}

sl_err
sl_linker_define_table(sl_linker *l, const char *module, const char *name, sl_valtype elem,
                       uint32_t min, uint32_t max)
{
    if (!l || !sl__is_reftype(elem) || min > max)
        return SL_ERR_ARG;
    if (min > l->engine->limits.max_table_elems)
        return SL_ERR_LIMIT;
    sl_table *t = sl__table_new(elem, min, max, (sl_val){.ref = NULL});
    if (!t)
        return SL_ERR_NOMEM;
    return define(l, key_of(module, name), (sl_extern){.kind = SL_EXTERN_TABLE, .table = t});
}

sl_err
sl_linker_define_global(sl_linker *l, const char *module, const char *name, sl_valtype type,
                        bool mutable_, sl_val value)
{
    if (!l || !sl__is_valtype(type))
        return SL_ERR_ARG;
    sl_global *g = sl__global_new(type, mutable_, value);
    if (!g)
        return SL_ERR_NOMEM;
    return define(l, key_of(module, name), (sl_extern){.kind = SL_EXTERN_GLOBAL, .global = g});
}
