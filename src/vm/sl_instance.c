/*
 * sl_instance.c — instantiation (WebAssembly 2.0, "Instantiation"), the
 * instance object and its exports, globals, and the public call entry.
 *
 * Layer:     engine (src/vm). Uses sl_module.h (read-only), sl_runtime.h,
 *            sl_linker.h; calls sl__invoke (sl_interp.c) for the start
 *            function and sl_func_call.
 * Order:     resolve imports (once per module and linker state: cached in
 *            the module, see resolve_imports) → create tables, memories,
 *            functions, globals → evaluate passive element segments → apply
 *            active element segments (evaluated straight into the table:
 *            constant expressions have no effects, so this equals the
 *            spec's evaluate-all-first), then active data segments, in
 *            segment order → start.
 *            A trap while applying segments stops there; earlier writes stay
 *            visible through imported tables and memories, as the spec says.
 *            Memory 0 may instead start as the module's prepared image,
 *            which holds its active data segments already (sl_image.c: only
 *            when none of them can trap); an element segment that traps
 *            then takes the image back out, as if no data was applied.
 * Ownership: an instance owns its defined functions, tables, memories and
 *            globals and one reference on each imported table, memory and
 *            global, and on every instance it imports from (inst->deps).
 *            Instances are reference-counted: the linker may hold one. The
 *            instance struct and all its per-instance arrays are a single
 *            allocation (instance_alloc).
 * Lifetimes: funcrefs are bare sl_func pointers. A function written into a
 *            table or global of another instance must not be called after
 *            its own instance is freed. The engine guarantees this for
 *            instances kept by a linker (registered, or adopted when their
 *            instantiation trapped after such a write); embedders that free
 *            an instance which wrote into a shared table must not call
 *            through that table afterwards.
 * Threads:   an instance is used by one thread at a time; only `interrupt`
 *            may be written from any thread.
 * Not here:  the linker's map (sl_linker.c), executing code (sl_interp.c).
 */
#include "sl_linker.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- globals ------------------------------------------------------------- */

sl_global *
sl__global_new(uint8_t type, bool is_mutable, sl_val val)
{
    sl_global *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->val = val;
    g->type = type;
    g->is_mutable = is_mutable;
    g->refs = 1;
    return g;
}

void
sl__global_release(sl_global *g)
{
    if (g && !--g->refs)
        free(g);
}

sl_valtype
sl_global_type(const sl_global *g)
{
    return (sl_valtype)g->type;
}

sl_val
sl_global_get(const sl_global *g)
{
    return g->val;
}

bool
sl_global_set(sl_global *g, sl_val v)
{
    if (!g->is_mutable)
        return false;
    g->val = v;
    return true;
}

/* ---- the instance object -------------------------------------------------- */

void
sl__instance_release(sl_instance *inst)
{
    if (!inst || --inst->refs)
        return;
    const sl_module *m = inst->module;
    /* Entries may be NULL when instantiation failed part way. The arrays
     * themselves live in inst's own allocation (instance_alloc). */
    for (uint32_t i = 0; i < m->n_tables; i++)
        sl__table_release(inst->tables[i]);
    for (uint32_t i = 0; i < m->n_mems; i++)
        sl__memory_release(inst->mems[i]);
    for (uint32_t i = 0; i < m->n_globals; i++)
        sl__global_release(inst->globals[i]);
    for (uint32_t i = 0; i < inst->n_deps; i++)
        sl__instance_release(inst->deps[i]);
    free(inst->unapplied_elems);
    free(inst);
}

void
sl_instance_free(sl_instance *inst)
{
    sl__instance_release(inst);
}

void *
sl_instance_user_data(const sl_instance *inst)
{
    return inst ? inst->user_data : NULL;
}

const sl_module *
sl_instance_module(const sl_instance *inst)
{
    return inst ? inst->module : NULL;
}

void
sl_instance_interrupt(sl_instance *inst)
{
    if (inst) {
        atomic_store(&inst->interrupt, 1);
        sl__native_interrupt(inst);
    }
}

/* Lays out one array of n elements of `size` bytes at *at, aligned to
 * `align`; false on overflow. */
static bool
layout(size_t *at, size_t *offset, size_t n, size_t size, size_t align)
{
    size_t o = (*at + align - 1) / align * align;
    if (o < *at || (n && size > (SIZE_MAX - o) / n))
        return false;
    *offset = o;
    *at = o + n * size;
    return true;
}

/* The instance and all its per-instance arrays are one zeroed allocation
 * (per-request instantiation pays one malloc instead of ten): own
 * functions, the funcs/tables/mems/globals/elem/deps pointer arrays, the
 * values of passive element segments, elem_sizes and data_dropped. */
static sl_instance *
instance_alloc(const sl_module *m, sl_engine *engine, const sl_instance_config *cfg)
{
    size_t n_own = m->n_funcs - m->n_func_imports, n_passive = 0;
    for (uint32_t i = 0; i < m->n_elems; i++)
        if (m->elems[i].mode == SL_SEG_PASSIVE)
            n_passive += m->elems[i].n_items;
    /* Up to two deps per import: the exporter, and the function's own
     * instance when the exporter re-exports an imported function. */
    size_t at = sizeof(sl_instance), o_own, o_funcs, o_tables, o_mems, o_globals, o_evals,
           o_deps, o_passive, o_esizes, o_dropped;
    if (!layout(&at, &o_own, n_own, sizeof(sl_func), _Alignof(sl_func)) ||
        !layout(&at, &o_funcs, m->n_funcs, sizeof(sl_func *), _Alignof(sl_func *)) ||
        !layout(&at, &o_tables, m->n_tables, sizeof(sl_table *), _Alignof(sl_table *)) ||
        !layout(&at, &o_mems, m->n_mems, sizeof(sl_memory *), _Alignof(sl_memory *)) ||
        !layout(&at, &o_globals, m->n_globals, sizeof(sl_global *), _Alignof(sl_global *)) ||
        !layout(&at, &o_evals, m->n_elems, sizeof(sl_val *), _Alignof(sl_val *)) ||
        !layout(&at, &o_deps, 2 * (size_t)m->n_imports, sizeof(sl_instance *),
                _Alignof(sl_instance *)) ||
        !layout(&at, &o_passive, n_passive, sizeof(sl_val), _Alignof(sl_val)) ||
        !layout(&at, &o_esizes, m->n_elems, sizeof(uint32_t), _Alignof(uint32_t)) ||
        !layout(&at, &o_dropped, m->n_datas, sizeof(bool), _Alignof(bool)))
        return NULL;
    uint8_t *block = calloc(1, at);
    if (!block)
        return NULL;
    sl_instance *inst = (sl_instance *)(void *)block;
    inst->module = m;
    inst->engine = engine;
    inst->refs = 1;
    if (cfg) {
        inst->limits = cfg->limits;
        inst->user_data = cfg->user_data;
    }
    sl__limits_inherit(&inst->limits, &engine->limits);
    atomic_init(&inst->interrupt, 0);
    inst->own_funcs = (sl_func *)(void *)(block + o_own);
    inst->funcs = (sl_func **)(void *)(block + o_funcs);
    inst->tables = (sl_table **)(void *)(block + o_tables);
    inst->mems = (sl_memory **)(void *)(block + o_mems);
    inst->globals = (sl_global **)(void *)(block + o_globals);
    inst->elem_values = (sl_val **)(void *)(block + o_evals);
    inst->deps = (sl_instance **)(void *)(block + o_deps);
    inst->elem_sizes = (uint32_t *)(void *)(block + o_esizes);
    inst->data_dropped = (bool *)(void *)(block + o_dropped);
    sl_val *passive = (sl_val *)(void *)(block + o_passive);
    for (uint32_t i = 0; i < m->n_elems; i++)
        if (m->elems[i].mode == SL_SEG_PASSIVE && m->elems[i].n_items) {
            inst->elem_values[i] = passive;
            passive += m->elems[i].n_items;
        }
    return inst;
}

/* ---- exports --------------------------------------------------------------- */

static bool
find_export(const sl_instance *inst, const char *name, sl_externkind kind, uint32_t *index)
{
    if (!inst || !name)
        return false;
    size_t len = strlen(name);
    const sl_module *m = inst->module;
    for (uint32_t i = 0; i < m->n_exports; i++) {
        if (m->exports[i].kind == kind && m->exports[i].name_len == len &&
            !memcmp(m->exports[i].name, name, len)) {
            *index = m->exports[i].index;
            return true;
        }
    }
    return false;
}

sl_func *
sl_instance_func(sl_instance *inst, const char *name)
{
    uint32_t i;
    return find_export(inst, name, SL_EXTERN_FUNC, &i) ? inst->funcs[i] : NULL;
}

sl_memory *
sl_instance_memory(sl_instance *inst, const char *name)
{
    uint32_t i;
    return find_export(inst, name, SL_EXTERN_MEMORY, &i) ? inst->mems[i] : NULL;
}

sl_global *
sl_instance_global(sl_instance *inst, const char *name)
{
    uint32_t i;
    return find_export(inst, name, SL_EXTERN_GLOBAL, &i) ? inst->globals[i] : NULL;
}

sl_table *
sl_instance_table(sl_instance *inst, const char *name)
{
    uint32_t i;
    return find_export(inst, name, SL_EXTERN_TABLE, &i) ? inst->tables[i] : NULL;
}

/* ---- calling ----------------------------------------------------------------- */

size_t
sl_func_param_count(const sl_func *f)
{
    return f->type->n_params;
}

size_t
sl_func_result_count(const sl_func *f)
{
    return f->type->n_results;
}

sl_valtype
sl_func_param_type(const sl_func *f, size_t i)
{
    return i < f->type->n_params ? (sl_valtype)f->type->types[i] : (sl_valtype)0;
}

sl_valtype
sl_func_result_type(const sl_func *f, size_t i)
{
    const sl_functype *t = f->type;
    return i < t->n_results ? (sl_valtype)t->types[t->n_params + i] : (sl_valtype)0;
}

static uint32_t
max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

sl_trap *
sl_func_call(sl_func *f, const sl_val *args, sl_val *results)
{
    if (!f)
        return sl_trap_new(SL_TRAP_HOST, "call of a null function");
    const sl_functype *t = f->type;
    uint32_t n = max_u32(max_u32(t->n_params, t->n_results),
                         max_u32(t->n_param_slots, t->n_result_slots));
    sl_val local[16], *buf = local;
    if (n > 16) {
        buf = malloc(n * sizeof *buf);
        if (!buf)
            return sl_trap_new(SL_TRAP_OOM, NULL);
    }
    if (t->n_params)
        memcpy(buf, args, t->n_params * sizeof *buf);
    sl_trap *trap = sl__invoke(f, buf);
    if (!trap && t->n_results)
        memcpy(results, buf, t->n_results * sizeof *buf);
    if (buf != local)
        free(buf);
    return trap;
}

/* ---- instantiation: imports ------------------------------------------------------ */

static void
add_dep(sl_instance *inst, sl_instance *dep)
{
    if (!dep || dep == inst)
        return;
    for (uint32_t i = 0; i < inst->n_deps; i++)
        if (inst->deps[i] == dep)
            return;
    /* deps has room for two per import, and each import adds at most two. */
    dep->refs++;
    inst->deps[inst->n_deps++] = dep;
}

/* Limits subtyping: the import's current size must reach the declared min,
 * and if a max is declared the import must have one no larger. max is
 * UINT32_MAX when the import has none. */
static bool
limits_match(uint64_t size, uint32_t max, const sl_limits_def *d)
{
    if (size < d->min)
        return false;
    return !d->has_max || (max != UINT32_MAX && max <= d->max);
}

static bool
import_matches(const sl_module *m, const sl_import *imp, const sl_extern *x)
{
    if (x->kind != imp->kind)
        return false;
    switch (imp->kind) {
    case SL_EXTERN_FUNC:
        return sl__functype_equal(x->func->type, &m->types[imp->type_index]);
    case SL_EXTERN_TABLE:
        return x->table->elem_type == imp->table.elem &&
               limits_match(x->table->size, x->table->max, &imp->table.limits);
    case SL_EXTERN_MEMORY:
        return !imp->mem.is_64 && limits_match(x->mem->pages, x->mem->decl_max, &imp->mem.limits);
    case SL_EXTERN_GLOBAL:
        return x->global->type == imp->global.type &&
               x->global->is_mutable == imp->global.is_mutable;
    }
    return false;
}

/* Takes import i, resolved to x: counts[kind] says where it goes. */
static void
take_import(sl_instance *inst, const sl_import *imp, const sl_extern *x, uint32_t counts[4])
{
    switch (imp->kind) {
    case SL_EXTERN_FUNC:
        inst->funcs[counts[SL_EXTERN_FUNC]++] = x->func;
        add_dep(inst, x->func->inst);
        break;
    case SL_EXTERN_TABLE:
        x->table->refs++;
        inst->tables[counts[SL_EXTERN_TABLE]++] = x->table;
        break;
    case SL_EXTERN_MEMORY:
        x->mem->refs++;
        inst->mems[counts[SL_EXTERN_MEMORY]++] = x->mem;
        break;
    case SL_EXTERN_GLOBAL:
        x->global->refs++;
        inst->globals[counts[SL_EXTERN_GLOBAL]++] = x->global;
        break;
    }
    add_dep(inst, x->owner);
}

static sl_err
resolve_one(const sl_module *m, const sl_import *imp, const sl_linker *l, sl_extern *x,
            sl_diag *diag)
{
    if (!sl__linker_lookup(l, imp->module, imp->module_len, imp->name, imp->name_len, x))
        return sl__diag(diag, SL_ERR_LINK, SIZE_MAX, "unknown import \"%s\".\"%s\"", imp->module,
                        imp->name);
    if (!import_matches(m, imp, x))
        return sl__diag(diag, SL_ERR_LINK, SIZE_MAX, "incompatible import type \"%s\".\"%s\"",
                        imp->module, imp->name);
    return SL_OK;
}

/* Guards the retired lists of every module's import cache. */
static pthread_mutex_t imports_lock = PTHREAD_MUTEX_INITIALIZER;

/* Publishes r as m's import resolution and returns the one to use: r, or an
 * equal one another thread published first (r is then freed). */
static const sl_import_res *
publish_imports(struct sl_module_cache *c, sl_import_res *r)
{
    pthread_mutex_lock(&imports_lock);
    sl_import_res *old = atomic_load_explicit(&c->imports, memory_order_relaxed);
    if (old && old->stamp == r->stamp) {
        free(r);
        r = old;
    } else {
        if (old) {
            old->retired = c->retired;
            c->retired = old;
        }
        atomic_store_explicit(&c->imports, r, memory_order_release);
    }
    pthread_mutex_unlock(&imports_lock);
    return r;
}

void
sl__imports_drop(struct sl_module_cache *c)
{
    sl_import_res *r = atomic_load(&c->imports);
    if (r) {
        r->retired = c->retired;
        c->retired = r;
    }
    while ((r = c->retired) != NULL) {
        c->retired = r->retired;
        free(r);
    }
    atomic_store(&c->imports, NULL);
}

/* A resolution depends only on the linker's definitions: a match stays a
 * match (tables and memories only grow, types never change), so a cached
 * one is valid as long as the linker's stamp is the same. */
static sl_err
resolve_imports(sl_instance *inst, const sl_linker *l, sl_diag *diag)
{
    const sl_module *m = inst->module;
    struct sl_module_cache *c = m->cache;
    uint32_t counts[4] = {0};
    if (!m->n_imports)
        return SL_OK;
    uint64_t stamp = l ? sl__linker_stamp(l) : 0;
    const sl_import_res *r =
        c && l ? atomic_load_explicit(&c->imports, memory_order_acquire) : NULL;
    if (!r || r->stamp != stamp) {
        sl_import_res *fresh =
            c && l ? malloc(sizeof *fresh + (size_t)m->n_imports * sizeof(sl_extern)) : NULL;
        if (!fresh) { /* no cache: resolve and take one by one */
            for (uint32_t i = 0; i < m->n_imports; i++) {
                sl_extern x;
                sl_err err = resolve_one(m, &m->imports[i], l, &x, diag);
                if (err)
                    return err;
                take_import(inst, &m->imports[i], &x, counts);
            }
            return SL_OK;
        }
        for (uint32_t i = 0; i < m->n_imports; i++) {
            sl_err err = resolve_one(m, &m->imports[i], l, &fresh->ext[i], diag);
            if (err) {
                free(fresh);
                return err;
            }
        }
        fresh->stamp = stamp;
        fresh->retired = NULL;
        r = publish_imports(c, fresh);
    }
    for (uint32_t i = 0; i < m->n_imports; i++)
        take_import(inst, &m->imports[i], &r->ext[i], counts);
    return SL_OK;
}

/* ---- instantiation: defined entities ----------------------------------------------- */

/* A constant expression of 2.0. Validation guarantees every index. */
static sl_val
eval_const(const sl_instance *inst, const sl_constexpr *e)
{
    switch (e->op) {
    case SL_CONST_REF_NULL:
        return (sl_val){.bits = 0};
    case SL_CONST_REF_FUNC:
        return (sl_val){.ref = inst->funcs[e->index]};
    case SL_CONST_GLOBAL_GET:
        return inst->globals[e->index]->val;
    case SL_CONST_I32:
        /* An i32 lives in the low 32 bits with the rest zero. */
        return (sl_val){.bits = (uint32_t)e->value.i32};
    case SL_CONST_F32: {
        sl_val v = {.bits = 0};
        v.f32 = e->value.f32;
        return v;
    }
    case SL_CONST_I64:
    case SL_CONST_F64:
        break;
    }
    return e->value;
}

sl_val
sl__eval_const(const sl_instance *inst, const sl_constexpr *e)
{
    return eval_const(inst, e);
}

static sl_err
create_tables(sl_instance *inst, sl_diag *diag)
{
    const sl_module *m = inst->module;
    for (uint32_t i = m->n_table_imports; i < m->n_tables; i++) {
        const sl_tabletype *tt = &m->tables[i];
        if (tt->limits.min > inst->limits.max_table_elems)
            return sl__diag(diag, SL_ERR_LIMIT, SIZE_MAX,
                            "table %u: %llu elements exceed the limit of %u", (unsigned)i,
                            (unsigned long long)tt->limits.min,
                            (unsigned)inst->limits.max_table_elems);
        uint32_t max = tt->limits.has_max && tt->limits.max < UINT32_MAX
                           ? (uint32_t)tt->limits.max
                           : UINT32_MAX;
        inst->tables[i] = sl__table_new(tt->elem, (uint32_t)tt->limits.min, max,
                                        (sl_val){.ref = NULL});
        if (!inst->tables[i])
            return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");
    }
    return SL_OK;
}

static sl_err
create_memories(sl_instance *inst, sl_diag *diag)
{
    const sl_module *m = inst->module;
    for (uint32_t i = m->n_mem_imports; i < m->n_mems; i++) {
        const sl_memtype *mt = &m->mems[i];
        uint64_t cap = inst->limits.max_memory_pages;
        if (mt->limits.has_max && mt->limits.max < cap)
            cap = mt->limits.max;
        if (mt->is_64 || mt->limits.min > cap)
            return sl__diag(diag, SL_ERR_LIMIT, SIZE_MAX,
                            "memory %u: %llu pages exceed the limit of %llu", (unsigned)i,
                            (unsigned long long)mt->limits.min, (unsigned long long)cap);
        /* Memory 0 may start as the module's prepared image (sl_image.c):
         * its active data segments, mapped copy-on-write. */
        const sl_mem_image *img = i == 0 ? sl__module_image(m) : NULL;
        inst->mems[i] = sl__memory_new_image((uint32_t)mt->limits.min, (uint32_t)cap, img);
        inst->mem0_imaged = img != NULL;
        if (!inst->mems[i])
            return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");
        inst->mems[i]->pristine = true; /* until code, the host or a segment writes */
        inst->mems[i]->decl_max = mt->limits.has_max ? (uint32_t)mt->limits.max : UINT32_MAX;
    }
    inst->mem0 = m->n_mems ? inst->mems[0] : NULL;
    return SL_OK;
}

/* Functions come before globals and segments: ref.func needs their address. */
static void
create_funcs(sl_instance *inst)
{
    const sl_module *m = inst->module;
    for (uint32_t i = 0; i < m->n_funcs - m->n_func_imports; i++) {
        sl_func *f = &inst->own_funcs[i];
        f->type = &m->types[m->funcs[i].type_index];
        f->inst = inst;
        f->code = &m->funcs[i].code;
        f->index = m->n_func_imports + i;
        inst->funcs[f->index] = f;
    }
}

static sl_err
create_globals(sl_instance *inst, sl_diag *diag)
{
    const sl_module *m = inst->module;
    for (uint32_t i = m->n_global_imports; i < m->n_globals; i++) {
        const sl_global_def *def = &m->globals[i - m->n_global_imports];
        sl_val v = eval_const(inst, &def->init);
        inst->globals[i] = sl__global_new(def->type.type, def->type.is_mutable, v);
        if (!inst->globals[i])
            return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");
    }
    return SL_OK;
}

/* Evaluates the passive element segments into their slots in the
 * instance. Active ones are evaluated straight into their table when
 * applied, declarative ones never: constant expressions have no effects,
 * and funcs and globals are final by now, so the values are the same as
 * if every segment were evaluated first, as the spec words it. */
static void
eval_passive_elems(sl_instance *inst)
{
    const sl_module *m = inst->module;
    for (uint32_t i = 0; i < m->n_elems; i++) {
        const sl_elem *e = &m->elems[i];
        if (e->mode != SL_SEG_PASSIVE || !e->n_items)
            continue;
        for (uint32_t j = 0; j < e->n_items; j++)
            inst->elem_values[i][j] = eval_const(inst, &e->items[j]);
        inst->elem_sizes[i] = e->n_items;
    }
}

/* After segment `from` trapped: in the spec it and the segments after it
 * were never dropped, so table.init from a function of this (failed but
 * possibly reachable) instance still sees their elements. Best effort: on
 * allocation failure they read as dropped. */
static void
keep_unapplied_elems(sl_instance *inst, uint32_t from)
{
    const sl_module *m = inst->module;
    size_t n = 0;
    for (uint32_t i = from; i < m->n_elems; i++)
        if (m->elems[i].mode != SL_SEG_PASSIVE)
            n += m->elems[i].n_items;
    if (!n || !(inst->unapplied_elems = malloc(n * sizeof(sl_val))))
        return;
    sl_val *v = inst->unapplied_elems;
    for (uint32_t i = from; i < m->n_elems; i++) {
        const sl_elem *e = &m->elems[i];
        if (e->mode == SL_SEG_PASSIVE || !e->n_items)
            continue;
        inst->elem_values[i] = v;
        inst->elem_sizes[i] = e->n_items;
        for (uint32_t j = 0; j < e->n_items; j++)
            *v++ = eval_const(inst, &e->items[j]);
    }
}

/* table.init/elem.drop for active segments and memory.init/data.drop for
 * active data, in order; returns the first trap. */
static sl_trap *
apply_segments(sl_instance *inst)
{
    const sl_module *m = inst->module;
    for (uint32_t i = 0; i < m->n_elems; i++) {
        const sl_elem *e = &m->elems[i];
        if (e->mode != SL_SEG_ACTIVE)
            continue; /* passive: kept; declarative: dropped (never stored) */
        sl_table *t = inst->tables[e->table];
        uint64_t off = (uint32_t)eval_const(inst, &e->offset).i32;
        uint64_t n = e->n_items;
        if (off + n > t->size) {
            /* No data segment was applied yet: take the image back. */
            if (inst->mem0_imaged)
                sl__memory_unimage(inst->mems[0]);
            keep_unapplied_elems(inst, i);
            return sl_trap_new(SL_TRAP_TABLE_OOB, NULL);
        }
        for (uint32_t j = 0; j < n; j++)
            t->elems[off + j] = eval_const(inst, &e->items[j]);
    }
    for (uint32_t i = 0; i < m->n_datas; i++) {
        const sl_data *d = &m->datas[i];
        if (d->mode != SL_SEG_ACTIVE)
            continue;
        if (inst->mem0_imaged) { /* already in place, and known in bounds */
            inst->data_dropped[i] = true;
            continue;
        }
        sl_memory *mem = inst->mems[d->mem];
        uint64_t off = (uint32_t)eval_const(inst, &d->offset).i32;
        if (off + d->len > mem->size)
            return sl_trap_new(SL_TRAP_MEMORY_OOB, NULL);
        if (d->len) {
            memcpy(mem->base + off, d->bytes, d->len);
            mem->pristine = false;
        }
        inst->data_dropped[i] = true;
    }
    return NULL;
}

/* Could a trapped instantiation have left pointers to this instance's
 * functions somewhere that outlives it? Only through an imported table, an
 * imported mutable funcref global, or a funcref argument to an imported
 * function (called from the start function). */
static bool
refs_may_escape(const sl_module *m)
{
    for (uint32_t i = 0; i < m->n_imports; i++) {
        const sl_import *imp = &m->imports[i];
        if (imp->kind == SL_EXTERN_TABLE)
            return true;
        if (imp->kind == SL_EXTERN_GLOBAL && imp->global.is_mutable &&
            imp->global.type == SL_FUNCREF)
            return true;
        if (imp->kind == SL_EXTERN_FUNC) {
            const sl_functype *t = &m->types[imp->type_index];
            for (uint32_t j = 0; j < t->n_params; j++)
                if (t->types[j] == SL_FUNCREF)
                    return true;
        }
    }
    return false;
}

sl_err
sl_instantiate(sl_linker *l, const sl_module *m, const sl_instance_config *cfg,
               sl_instance **out, sl_diag *diag, sl_trap **trap)
{
    if (out)
        *out = NULL;
    if (trap)
        *trap = NULL;
    sl_engine *engine = l ? sl__linker_engine(l) : m ? m->engine : NULL;
    if (!m || !out || !engine)
        return sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "bad argument");
    sl_instance *inst = instance_alloc(m, engine, cfg);
    if (!inst)
        return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");

    sl_err err = resolve_imports(inst, l, diag);
    if (!err)
        err = create_tables(inst, diag);
    if (!err)
        err = create_memories(inst, diag);
    if (!err) {
        create_funcs(inst);
        err = create_globals(inst, diag);
    }
    if (!err)
        sl__native_setup(inst);
    if (!err)
        eval_passive_elems(inst);
    if (err) {
        sl__instance_release(inst);
        return err;
    }

    sl_trap *t = apply_segments(inst);
    if (!t && m->has_start) {
        sl_val none[1];
        t = sl__invoke(inst->funcs[m->start], none);
    }
    if (t) {
        sl__diag(diag, SL_ERR_TRAP, SIZE_MAX, "%s", sl_trap_message(t));
        if (trap)
            *trap = t;
        else
            sl_trap_free(t);
        if (l && refs_may_escape(m))
            sl__linker_adopt(l, inst);
        else
            sl__instance_release(inst);
        return SL_ERR_TRAP;
    }
    *out = inst;
    return SL_OK;
}
