/*
 * sl_snapshot.c — Wizer-style pre-initialisation: sl_module_snapshot turns
 * an instance's current state into a module whose instances start in it.
 *
 * Layer:     engine (src/vm). Uses sl_module.h, sl_runtime.h; evaluates
 *            constant expressions with sl__eval_const (sl_instance.c).
 * What:      the snapshot shares its code, types, imports, exports, names
 *            and tables' declarations with the module it was taken from
 *            and owns four arrays of its own:
 *              mems     memory 0's initial size = its current size;
 *              globals  each defined mutable global starts at its current
 *                       value (immutable ones keep their initialiser);
 *              datas    the original segments, all passive: active ones
 *                       and dropped passive ones empty (as dropped ones
 *                       read), others shared; then one active i32.const
 *                       segment per run of non-zero bytes of memory 0, so
 *                       the snapshot gets a prepared image (sl_image.c);
 *              elems    passive segments dropped in the instance empty.
 *            There is no start function (it ran in the instance).
 * Refuses:   (SL_ERR_ARG, diag says why) state a module cannot express:
 *            an imported memory, a defined table whose size or contents
 *            differ from what the element segments give at instantiation,
 *            a mutable global holding a reference other than null or a
 *            function of the instance.
 * Ownership: returns an owned module; free it with sl_module_free before
 *            the module it was taken from.
 * Not here:  running the initialisation (the embedder calls its export,
 *            e.g. "wizer.initialize", before taking the snapshot).
 */
#include "sl_runtime.h"

#include <stdlib.h>
#include <string.h>

/* Zero bytes shorter than this between two non-zero runs join them into one
 * segment: fewer segments, a few zeros more in the image. */
#define GAP 64

static bool
table_unchanged(const sl_instance *inst, uint32_t ti)
{
    const sl_module *m = inst->module;
    const sl_table *t = inst->tables[ti];
    if (t->size != m->tables[ti].limits.min)
        return false;
    sl_val *want = calloc(t->size ? t->size : 1, sizeof *want);
    if (!want)
        return false;
    for (uint32_t i = 0; i < m->n_elems; i++) {
        const sl_elem *e = &m->elems[i];
        if (e->mode != SL_SEG_ACTIVE || e->table != ti)
            continue;
        uint64_t off = (uint32_t)sl__eval_const(inst, &e->offset).i32;
        for (uint32_t j = 0; j < e->n_items && off + j < t->size; j++)
            want[off + j] = sl__eval_const(inst, &e->items[j]);
    }
    bool same = true;
    for (uint32_t i = 0; i < t->size && same; i++)
        same = want[i].ref == t->elems[i].ref;
    free(want);
    return same;
}

/* The constant expression that yields v, a value of type `type` in inst. */
static bool
const_of(const sl_instance *inst, uint8_t type, sl_val v, sl_constexpr *out)
{
    const sl_module *m = inst->module;
    memset(out, 0, sizeof *out);
    switch (type) {
    case SL_I32:
        out->op = SL_CONST_I32;
        out->value.i32 = v.i32;
        return true;
    case SL_I64:
        out->op = SL_CONST_I64;
        out->value.i64 = v.i64;
        return true;
    case SL_F32:
        out->op = SL_CONST_F32;
        out->value.f32 = v.f32;
        return true;
    case SL_F64:
        out->op = SL_CONST_F64;
        out->value.f64 = v.f64;
        return true;
    case SL_FUNCREF:
    case SL_EXTERNREF:
        if (!v.ref) {
            out->op = SL_CONST_REF_NULL;
            out->reftype = type;
            return true;
        }
        if (type == SL_EXTERNREF)
            return false;
        for (uint32_t i = 0; i < m->n_funcs; i++)
            if (inst->funcs[i] == v.ref) {
                out->op = SL_CONST_REF_FUNC;
                out->index = i;
                return true;
            }
        return false;
    }
    return false;
}

/* Active data segments for the non-zero runs of mem: counts them and their
 * bytes (segs == NULL), or fills segs and bytes. */
static void
memory_segments(const sl_memory *mem, sl_data *segs, uint8_t *bytes, uint32_t *n_segs,
                size_t *n_bytes)
{
    const uint8_t *p = mem->base;
    uint64_t size = mem->size, i = 0;
    *n_segs = 0;
    *n_bytes = 0;
    while (i < size) {
        while (i < size && !p[i])
            i++;
        if (i == size)
            break;
        uint64_t start = i, end = i;
        for (;;) {
            /* A segment's length is a u32: cut runs at 1 GiB. */
            while (end < size && p[end] && end - start < ((uint64_t)1 << 30))
                end++;
            if (end - start >= ((uint64_t)1 << 30))
                break;
            uint64_t z = end;
            while (z < size && !p[z] && z - end < GAP)
                z++;
            if (z < size && z - end < GAP) {
                end = z; /* a short gap: keep going */
                continue;
            }
            break;
        }
        if (segs) {
            memcpy(bytes + *n_bytes, p + start, end - start);
            segs[*n_segs] = (sl_data){.mode = SL_SEG_ACTIVE,
                                      .offset = {.op = SL_CONST_I32,
                                                 .value = {.i32 = (int32_t)(uint32_t)start}},
                                      .len = (uint32_t)(end - start),
                                      .bytes = bytes + *n_bytes};
        }
        (*n_segs)++;
        *n_bytes += end - start;
        i = end;
    }
}

void
sl__snapshot_free(sl_module *s)
{
    sl__module_cache_free(s->cache);
    free(s->mems);
    free(s->globals);
    free(s->elems);
    free(s->datas);
    free(s->snap_bytes);
    free(s);
}

sl_err
sl_module_snapshot(const sl_instance *inst, sl_module **out, sl_diag *diag)
{
    if (out)
        *out = NULL;
    if (!inst || !out)
        return sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "bad argument");
    const sl_module *m = inst->module;
    if (m->n_mem_imports || m->n_mems > 1)
        return sl__diag(diag, SL_ERR_ARG, SIZE_MAX,
                        "snapshot: memory 0 is imported (its state is not the instance's)");
    for (uint32_t i = m->n_table_imports; i < m->n_tables; i++)
        if (!table_unchanged(inst, i))
            return sl__diag(diag, SL_ERR_ARG, SIZE_MAX,
                            "snapshot: table %u changed since instantiation", (unsigned)i);

    sl_module *s = malloc(sizeof *s);
    if (!s)
        return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");
    *s = *m;
    s->snapshot_of = m;
    s->cache = NULL;
    s->mems = NULL;
    s->globals = NULL;
    s->elems = NULL;
    s->datas = NULL;
    s->snap_bytes = NULL;
    s->has_start = false;

    uint32_t n_def_globals = m->n_globals - m->n_global_imports;
    uint32_t n_segs = 0;
    size_t n_bytes = 0;
    if (m->n_mems)
        memory_segments(inst->mems[0], NULL, NULL, &n_segs, &n_bytes);
    if ((uint64_t)m->n_datas + n_segs > UINT32_MAX)
        goto nomem;
    s->n_datas = m->n_datas + n_segs;
    s->data_count = s->n_datas;
    s->mems = malloc((m->n_mems ? m->n_mems : 1) * sizeof *s->mems);
    s->globals = malloc((n_def_globals ? n_def_globals : 1) * sizeof *s->globals);
    s->elems = malloc((m->n_elems ? m->n_elems : 1) * sizeof *s->elems);
    s->datas = calloc(s->n_datas ? s->n_datas : 1, sizeof *s->datas);
    s->snap_bytes = malloc(n_bytes ? n_bytes : 1);
    if (!s->mems || !s->globals || !s->elems || !s->datas || !s->snap_bytes)
        goto nomem;

    if (m->n_mems) {
        memcpy(s->mems, m->mems, m->n_mems * sizeof *s->mems);
        s->mems[0].limits.min = inst->mems[0]->pages;
    }
    for (uint32_t i = 0; i < n_def_globals; i++) {
        s->globals[i] = m->globals[i];
        const sl_global *g = inst->globals[m->n_global_imports + i];
        if (g->is_mutable && !const_of(inst, g->type, g->val, &s->globals[i].init)) {
            sl__diag(diag, SL_ERR_ARG, SIZE_MAX,
                     "snapshot: global %u holds a reference a module cannot name",
                     (unsigned)(m->n_global_imports + i));
            sl__snapshot_free(s);
            return SL_ERR_ARG;
        }
    }
    for (uint32_t i = 0; i < m->n_elems; i++) {
        s->elems[i] = m->elems[i];
        if (m->elems[i].mode == SL_SEG_PASSIVE && inst->elem_sizes[i] == 0)
            s->elems[i].n_items = 0; /* dropped */
    }
    for (uint32_t i = 0; i < m->n_datas; i++) {
        const sl_data *d = &m->datas[i];
        bool empty = d->mode == SL_SEG_ACTIVE || inst->data_dropped[i];
        s->datas[i] = (sl_data){.mode = SL_SEG_PASSIVE, .len = empty ? 0 : d->len,
                                .bytes = empty ? NULL : d->bytes};
    }
    if (m->n_mems)
        memory_segments(inst->mems[0], s->datas + m->n_datas, s->snap_bytes, &n_segs, &n_bytes);

    s->cache = sl__module_cache_new(); /* NULL (no image, copying) is fine */
    *out = s;
    sl__diag(diag, SL_OK, SIZE_MAX, "ok");
    return SL_OK;

nomem:
    sl__snapshot_free(s);
    return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");
}
