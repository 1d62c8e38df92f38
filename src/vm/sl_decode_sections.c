/*
 * sl_decode_sections.c — one decoder per non-custom section of a
 * WebAssembly 2.0 module (type ... data count), each with the module-level
 * validation rules that concern it.
 *
 * Layer:     engine (src/vm), part of the decoder; called only by
 *            sl_decode.c's section loop, with d->pos at the section content.
 *            Uses the reader primitives and rules of sl_decode.h.
 * Invariant: sections arrive in order, so every index space a rule needs
 *            (types, functions, tables, memories, imported globals) is
 *            complete when a later section refers to it. The decode order is
 *            also the order in which validation errors are noted.
 * Ownership: arrays are grown into the module as items are decoded, with
 *            their count updated together, so sl__module_clear can free a
 *            module abandoned at any point.
 * Not here:  custom/name sections, section order and sizes, end-of-module
 *            checks (sl_decode.c); function bodies (sl_lower.c).
 */
#include "sl_decode.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- type section ---------------------------------------------------------- */

/* Reads a vector of value types into ft->types[at...], growing it. */
static sl_err
dec_resulttype(sl_dec *d, sl_functype *ft, uint32_t at, uint32_t *n_out)
{
    uint32_t n = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    uint8_t *p = realloc(ft->types, (size_t)at + n + 1); /* n <= bytes left */
    if (!p)
        return sl__dec_nomem(d);
    ft->types = p;
    for (uint32_t i = 0; i < n; i++) {
        if ((r = sl__dec_valtype(d, &p[at + i])))
            return r;
    }
    *n_out = n;
    return SL_OK;
}

static sl_err
dec_functype(sl_dec *d, sl_functype *ft)
{
    size_t at = d->pos;
    uint8_t form = 0;
    sl_err r = sl__dec_s7(d, &form);
    if (r)
        return r;
    if (form != 0x60)
        return sl__dec_fail(d, at, "malformed function type");
    if ((r = dec_resulttype(d, ft, 0, &ft->n_params)) ||
        (r = dec_resulttype(d, ft, ft->n_params, &ft->n_results)))
        return r;
    ft->n_param_slots = ft->n_result_slots = 0;
    for (uint32_t i = 0; i < ft->n_params; i++)
        ft->n_param_slots += sl__slots_of(ft->types[i]);
    for (uint32_t i = 0; i < ft->n_results; i++)
        ft->n_result_slots += sl__slots_of(ft->types[ft->n_params + i]);
    ft->hash = sl__functype_hash(ft);
    return SL_OK;
}

sl_err
sl__dec_type_section(sl_dec *d)
{
    sl_module *m = d->m;
    uint32_t n = 0, n_alloc = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    sl_functype *types = sl__dec_grow(d, NULL, 0, n, 3, sizeof *types, &n_alloc);
    if (!types)
        return SL_ERR_NOMEM;
    m->types = types;
    m->n_types = n_alloc;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= n_alloc) /* unreachable: see sl__dec_grow */
            return sl__dec_fail(d, d->len, SL_MSG_END);
        if ((r = dec_functype(d, &types[i])))
            return r;
    }
    return SL_OK;
}

/* ---- import section --------------------------------------------------------- */

static sl_err
dec_import_desc(sl_dec *d, sl_import *im)
{
    sl_module *m = d->m;
    size_t at = d->pos;
    uint8_t kind = 0;
    sl_err r = sl__dec_byte(d, &kind);
    if (r)
        return r;
    switch (kind) {
    case SL_EXTERN_FUNC:
        if ((r = sl__dec_u32(d, &im->type_index)) == SL_OK && im->type_index >= m->n_types)
            sl__dec_note(&d->deferred, at + 1, "unknown type %" PRIu32, im->type_index);
        break;
    case SL_EXTERN_TABLE:
        if ((r = sl__dec_reftype(d, &im->table.elem)) == SL_OK &&
            (r = sl__dec_limits(d, &im->table.limits)) == SL_OK)
            sl__dec_check_table(d, &im->table, at + 1);
        break;
    case SL_EXTERN_MEMORY:
        if ((r = sl__dec_limits(d, &im->mem.limits)) == SL_OK)
            sl__dec_check_mem(d, &im->mem, at + 1);
        break;
    case SL_EXTERN_GLOBAL:
        r = sl__dec_globaltype(d, &im->global);
        break;
    default:
        return sl__dec_fail(d, at, "malformed import kind");
    }
    im->kind = (sl_externkind)kind;
    return r;
}

/* Builds the imported prefix of each index space. */
static sl_err
index_imports(sl_dec *d)
{
    sl_module *m = d->m;
    m->func_types = calloc(m->n_func_imports + 1, sizeof *m->func_types);
    m->tables = calloc(m->n_table_imports + 1, sizeof *m->tables);
    m->mems = calloc(m->n_mem_imports + 1, sizeof *m->mems);
    m->global_types = calloc(m->n_global_imports + 1, sizeof *m->global_types);
    if (!m->func_types || !m->tables || !m->mems || !m->global_types)
        return sl__dec_nomem(d);
    for (uint32_t i = 0; i < m->n_imports; i++) {
        const sl_import *im = &m->imports[i];
        if (im->kind == SL_EXTERN_FUNC)
            m->func_types[m->n_funcs++] = im->type_index;
        else if (im->kind == SL_EXTERN_TABLE)
            m->tables[m->n_tables++] = im->table;
        else if (im->kind == SL_EXTERN_MEMORY)
            m->mems[m->n_mems++] = im->mem;
        else
            m->global_types[m->n_globals++] = im->global;
    }
    return SL_OK;
}

sl_err
sl__dec_import_section(sl_dec *d)
{
    sl_module *m = d->m;
    uint32_t n = 0, n_alloc = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    sl_import *imports = sl__dec_grow(d, NULL, 0, n, 4, sizeof *imports, &n_alloc);
    if (!imports)
        return SL_ERR_NOMEM;
    m->imports = imports;
    m->n_imports = n_alloc;
    for (uint32_t i = 0; i < n; i++) {
        sl_import *im = &imports[i];
        if (i >= n_alloc)
            return sl__dec_fail(d, d->len, SL_MSG_END);
        if ((r = sl__dec_name(d, &im->module, NULL, &im->module_len)) ||
            (r = sl__dec_name(d, &im->name, NULL, &im->name_len)) || (r = dec_import_desc(d, im)))
            return r;
        m->n_func_imports += im->kind == SL_EXTERN_FUNC;
        m->n_table_imports += im->kind == SL_EXTERN_TABLE;
        m->n_global_imports += im->kind == SL_EXTERN_GLOBAL;
        if (im->kind == SL_EXTERN_MEMORY && ++m->n_mem_imports == 2)
            d->mem2_at = d->pos;
    }
    return index_imports(d);
}

/* ---- function, table and memory sections ------------------------------------- */

sl_err
sl__dec_func_section(sl_dec *d)
{
    sl_module *m = d->m;
    uint32_t n = 0, n_alloc = 0, x = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    if (n > UINT32_MAX - m->n_funcs)
        return sl__dec_fail(d, d->pos, "too many functions");
    uint32_t base = m->n_funcs;
    uint32_t *types = sl__dec_grow(d, m->func_types, base, n, 1, sizeof *types, &n_alloc);
    if (!types)
        return SL_ERR_NOMEM;
    m->func_types = types;
    m->n_funcs = base + n_alloc;
    d->n_func_decls = n;
    for (uint32_t i = 0; i < n; i++) {
        size_t at = d->pos;
        if (i >= n_alloc)
            return sl__dec_fail(d, d->len, SL_MSG_END);
        if ((r = sl__dec_u32(d, &x)))
            return r;
        types[base + i] = x;
        if (x >= m->n_types)
            sl__dec_note(&d->deferred, at, "unknown type %" PRIu32, x);
    }
    return SL_OK;
}

sl_err
sl__dec_table_section(sl_dec *d)
{
    sl_module *m = d->m;
    uint32_t n = 0, n_alloc = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    uint32_t base = m->n_tables;
    sl_tabletype *tables = sl__dec_grow(d, m->tables, base, n, 3, sizeof *tables, &n_alloc);
    if (!tables)
        return SL_ERR_NOMEM;
    m->tables = tables;
    m->n_tables = base + n_alloc;
    for (uint32_t i = 0; i < n; i++) {
        sl_tabletype *t = &tables[base + i];
        size_t at = d->pos;
        if (i >= n_alloc)
            return sl__dec_fail(d, d->len, SL_MSG_END);
        if ((r = sl__dec_reftype(d, &t->elem)) || (r = sl__dec_limits(d, &t->limits)))
            return r;
        sl__dec_check_table(d, t, at);
    }
    return SL_OK;
}

sl_err
sl__dec_memory_section(sl_dec *d)
{
    sl_module *m = d->m;
    uint32_t n = 0, n_alloc = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    uint32_t base = m->n_mems;
    sl_memtype *mems = sl__dec_grow(d, m->mems, base, n, 2, sizeof *mems, &n_alloc);
    if (!mems)
        return SL_ERR_NOMEM;
    m->mems = mems;
    m->n_mems = base + n_alloc;
    for (uint32_t i = 0; i < n; i++) {
        size_t at = d->pos;
        if (i >= n_alloc)
            return sl__dec_fail(d, d->len, SL_MSG_END);
        if ((r = sl__dec_limits(d, &mems[base + i].limits)))
            return r;
        sl__dec_check_mem(d, &mems[base + i], at);
        if (base + i == 1)
            d->mem2_at = at;
    }
    return SL_OK;
}

/* ---- global section ------------------------------------------------------------ */

sl_err
sl__dec_global_section(sl_dec *d)
{
    sl_module *m = d->m;
    uint32_t n = 0, n_alloc = 0, n_types = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    uint32_t base = m->n_globals;
    sl_global_def *globals = sl__dec_grow(d, NULL, 0, n, 3, sizeof *globals, &n_alloc);
    if (!globals)
        return SL_ERR_NOMEM;
    m->globals = globals;
    sl_globaltype *types =
        sl__dec_grow(d, m->global_types, base, n_alloc, 1, sizeof *types, &n_types);
    if (!types)
        return SL_ERR_NOMEM;
    m->global_types = types;
    m->n_globals = base + n_alloc;
    for (uint32_t i = 0; i < n; i++) {
        sl_global_def *g = &globals[i];
        sl_diag verr;
        if (i >= n_alloc)
            return sl__dec_fail(d, d->len, SL_MSG_END);
        if ((r = sl__dec_globaltype(d, &g->type)) ||
            (r = sl__dec_constexpr(d, g->type.type, &g->init, &verr)))
            return r;
        types[base + i] = g->type;
        sl__dec_defer(d, &verr);
    }
    return SL_OK;
}

/* ---- export section ------------------------------------------------------------ */

typedef struct export_key {
    const char *name;
    uint32_t len, i;
    size_t at;
} export_key;

static int
export_key_cmp(const void *a, const void *b)
{
    const export_key *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    int c = memcmp(x->name, y->name, x->len);
    if (c)
        return c;
    return x->i < y->i ? -1 : x->i > y->i;
}

static void
check_export_index(sl_dec *d, const sl_export *e, size_t at)
{
    static const char *const what[] = {"function", "table", "memory", "global"};
    const sl_module *m = d->m;
    uint32_t n = e->kind == SL_EXTERN_FUNC    ? m->n_funcs
                 : e->kind == SL_EXTERN_TABLE  ? m->n_tables
                 : e->kind == SL_EXTERN_MEMORY ? m->n_mems
                                               : m->n_globals;
    if (e->index >= n)
        sl__dec_note(&d->deferred, at, "unknown %s %" PRIu32, what[e->kind], e->index);
}

/* Index bounds, then name uniqueness, export by export as the spec does;
 * duplicates are found by sorting (names may be many and long). */
static sl_err
check_exports(sl_dec *d, export_key *keys, uint32_t n)
{
    bool *dup = calloc(n + 1, sizeof *dup);
    if (!dup)
        return sl__dec_nomem(d);
    qsort(keys, n, sizeof *keys, export_key_cmp);
    for (uint32_t k = 1; k < n; k++) {
        if (keys[k].len == keys[k - 1].len &&
            memcmp(keys[k].name, keys[k - 1].name, keys[k].len) == 0)
            dup[keys[k].i] = true;
    }
    size_t *at = malloc((n + 1) * sizeof *at);
    if (!at) {
        free(dup);
        return sl__dec_nomem(d);
    }
    for (uint32_t k = 0; k < n; k++)
        at[keys[k].i] = keys[k].at;
    for (uint32_t i = 0; i < n && d->deferred.err == SL_OK; i++) {
        check_export_index(d, &d->m->exports[i], at[i]);
        if (dup[i])
            sl__dec_note(&d->deferred, at[i], "duplicate export name");
    }
    free(at);
    free(dup);
    return SL_OK;
}

static sl_err
dec_export(sl_dec *d, sl_export *e, export_key *key)
{
    uint8_t kind = 0;
    key->at = d->pos;
    sl_err r = sl__dec_name(d, &e->name, NULL, &e->name_len);
    key->len = e->name_len;
    if (r == SL_OK)
        r = sl__dec_byte(d, &kind);
    if (r)
        return r;
    if (kind > SL_EXTERN_GLOBAL)
        return sl__dec_fail(d, d->pos - 1, "malformed export kind");
    e->kind = (sl_externkind)kind;
    key->name = e->name;
    return sl__dec_u32(d, &e->index);
}

sl_err
sl__dec_export_section(sl_dec *d)
{
    sl_module *m = d->m;
    uint32_t n = 0, n_alloc = 0, n_keys = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    sl_export *exports = sl__dec_grow(d, NULL, 0, n, 3, sizeof *exports, &n_alloc);
    if (!exports)
        return SL_ERR_NOMEM;
    m->exports = exports;
    m->n_exports = n_alloc;
    export_key *keys = sl__dec_grow(d, NULL, 0, n_alloc, 1, sizeof *keys, &n_keys);
    if (!keys)
        return SL_ERR_NOMEM;
    for (uint32_t i = 0; i < n && r == SL_OK; i++) {
        if (i >= n_alloc)
            r = sl__dec_fail(d, d->len, SL_MSG_END);
        else if ((r = dec_export(d, &exports[i], &keys[i])) == SL_OK)
            keys[i].i = i;
    }
    if (r == SL_OK)
        r = check_exports(d, keys, n);
    free(keys);
    return r;
}

/* ---- start and data count sections --------------------------------------------- */

sl_err
sl__dec_start_section(sl_dec *d)
{
    sl_module *m = d->m;
    size_t at = d->pos;
    sl_err r = sl__dec_u32(d, &m->start);
    if (r)
        return r;
    m->has_start = true;
    if (m->start >= m->n_funcs) {
        sl__dec_note(&d->deferred, at, "unknown function %" PRIu32, m->start);
        return SL_OK;
    }
    uint32_t t = m->func_types[m->start];
    if (t < m->n_types && (m->types[t].n_params || m->types[t].n_results))
        sl__dec_note(&d->deferred, at, "start function must not have parameters or results");
    return SL_OK;
}

sl_err
sl__dec_datacount_section(sl_dec *d)
{
    sl_err r = sl__dec_u32(d, &d->m->data_count);
    if (r == SL_OK)
        d->m->has_data_count = true;
    return r;
}

/* ---- element section ------------------------------------------------------------ */

static sl_err
dec_elem_items(sl_dec *d, sl_elem *e, bool exprs, sl_diag *verr)
{
    uint32_t n = 0, n_alloc = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    e->items = sl__dec_grow(d, NULL, 0, n, 1, sizeof *e->items, &n_alloc);
    if (!e->items)
        return SL_ERR_NOMEM;
    e->n_items = n_alloc;
    for (uint32_t i = 0; i < n; i++) {
        sl_constexpr *c = &e->items[i];
        size_t at = d->pos;
        sl_diag v;
        if (i >= n_alloc)
            return sl__dec_fail(d, d->len, SL_MSG_END);
        if (exprs) {
            if ((r = sl__dec_constexpr(d, e->reftype, c, &v)))
                return r;
            if (verr->err == SL_OK)
                *verr = v;
            continue;
        }
        c->op = SL_CONST_REF_FUNC;
        if ((r = sl__dec_u32(d, &c->index)))
            return r;
        if (c->index >= d->m->n_funcs)
            sl__dec_note(verr, at, "unknown function %" PRIu32, c->index);
    }
    return SL_OK;
}

/* The element type: a reftype (flags 5-7), elemkind 0x00 (flags 1-3), or
 * implicitly funcref (flags 0 and 4). */
static sl_err
dec_elem_type(sl_dec *d, sl_elem *e, uint32_t flags)
{
    uint8_t kind = 0;
    sl_err r;
    e->reftype = SL_FUNCREF;
    if ((flags & 3) == 0)
        return SL_OK;
    if (flags & 4)
        return sl__dec_reftype(d, &e->reftype);
    if ((r = sl__dec_byte(d, &kind)))
        return r;
    if (kind != 0x00)
        return sl__dec_fail(d, d->pos - 1, "malformed element kind");
    return SL_OK;
}

static sl_err
dec_elem(sl_dec *d, sl_elem *e)
{
    const sl_module *m = d->m;
    uint32_t flags = 0;
    sl_diag off_err = {.err = SL_OK}, items_err = {.err = SL_OK};
    sl_err r = sl__dec_u32(d, &flags);
    if (r)
        return r;
    if (flags > 7)
        return sl__dec_fail(d, d->pos - 1, "malformed elements segment kind");
    e->mode = !(flags & 1) ? SL_SEG_ACTIVE : (flags & 2) ? SL_SEG_DECLARATIVE : SL_SEG_PASSIVE;
    size_t table_at = d->pos;
    if (e->mode == SL_SEG_ACTIVE) {
        if ((flags & 2) && (r = sl__dec_u32(d, &e->table)))
            return r;
        if ((r = sl__dec_constexpr(d, SL_I32, &e->offset, &off_err)))
            return r;
    }
    if ((r = dec_elem_type(d, e, flags)) || (r = dec_elem_items(d, e, flags & 4, &items_err)))
        return r;
    /* The spec checks the items first, then the table, then the offset. */
    sl__dec_defer(d, &items_err);
    if (e->mode == SL_SEG_ACTIVE) {
        if (e->table >= m->n_tables)
            sl__dec_note(&d->deferred, table_at, "unknown table %" PRIu32, e->table);
        else if (m->tables[e->table].elem != e->reftype)
            sl__dec_note(&d->deferred, table_at,
                         "type mismatch: element segment's type %s does not match table's "
                         "element type %s",
                         sl__valtype_name(e->reftype), sl__valtype_name(m->tables[e->table].elem));
        sl__dec_defer(d, &off_err);
    }
    return SL_OK;
}

sl_err
sl__dec_elem_section(sl_dec *d)
{
    sl_module *m = d->m;
    uint32_t n = 0, n_alloc = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    sl_elem *elems = sl__dec_grow(d, NULL, 0, n, 3, sizeof *elems, &n_alloc);
    if (!elems)
        return SL_ERR_NOMEM;
    m->elems = elems;
    m->n_elems = n_alloc;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= n_alloc)
            return sl__dec_fail(d, d->len, SL_MSG_END);
        if ((r = dec_elem(d, &elems[i])))
            return r;
    }
    return SL_OK;
}

/* ---- code section ------------------------------------------------------------- */

/* Local declarations: vec of (count, valtype), their sum below 2^32 (the
 * spec) and not above SL_MAX_LOCALS (ours). Read twice: to check, then to
 * fill an array of the right size. */
static sl_err
dec_locals(sl_dec *d, sl_funcdef *f)
{
    size_t at = d->pos;
    uint32_t n = 0, count = 0;
    uint64_t total = 0;
    uint8_t t = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    size_t first = d->pos;
    for (uint32_t i = 0; i < n; i++) {
        if ((r = sl__dec_u32(d, &count)) || (r = sl__dec_valtype(d, &t)))
            return r;
        total += count;
    }
    if (total > UINT32_MAX)
        return sl__dec_fail(d, at, "too many locals");
    if (total > SL_MAX_LOCALS)
        return sl__diag(d->diag, SL_ERR_LIMIT, at, "too many locals (%" PRIu64 "; the limit is %u)",
                        total, SL_MAX_LOCALS);
    f->local_types = malloc((size_t)total + 1);
    if (!f->local_types)
        return sl__dec_nomem(d);
    f->n_locals = (uint32_t)total;
    d->pos = first;
    for (uint32_t i = 0, k = 0; i < n; i++) {
        if ((r = sl__dec_u32(d, &count)) || (r = sl__dec_valtype(d, &t)))
            return r;
        memset(f->local_types + k, t, count);
        k += count;
    }
    return SL_OK;
}

static sl_err
dec_body(sl_dec *d, sl_funcdef *f)
{
    uint32_t size = 0;
    sl_err r = sl__dec_len(d, &size);
    if (r)
        return r;
    size_t start = d->pos, end = start + size;
    if ((r = dec_locals(d, f)))
        return r;
    if (d->pos > end)
        return sl__dec_fail(d, start, "section size mismatch");
    if (end > d->len)
        return sl__dec_fail(d, d->len, SL_MSG_END);
    f->body_offset = (uint32_t)d->pos;
    f->body_len = (uint32_t)(end - d->pos);
    d->pos = end;
    return SL_OK;
}

sl_err
sl__dec_code_section(sl_dec *d)
{
    sl_module *m = d->m;
    uint32_t n = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    d->n_code = n;
    /* Bodies are kept only when they match the function section (otherwise
     * the module is rejected at the end) and could fit (2 bytes at least). */
    bool keep = n == d->n_func_decls && n <= (d->len - d->pos) / 2 + 1;
    if (keep && n > 0) {
        m->funcs = calloc(n, sizeof *m->funcs);
        if (!m->funcs)
            return sl__dec_nomem(d);
        for (uint32_t i = 0; i < n; i++)
            m->funcs[i].type_index = m->func_types[m->n_func_imports + i];
    }
    for (uint32_t i = 0; i < n; i++) {
        sl_funcdef scratch = {0};
        sl_funcdef *f = keep ? &m->funcs[i] : &scratch;
        r = dec_body(d, f);
        free(scratch.local_types);
        if (r) {
            d->diag->func = m->n_func_imports + i;
            return r;
        }
    }
    return SL_OK;
}

/* ---- data section ------------------------------------------------------------- */

static sl_err
dec_data(sl_dec *d, sl_data *s)
{
    uint32_t flags = 0, n = 0;
    const uint8_t *p = NULL;
    sl_diag off_err = {.err = SL_OK};
    sl_err r = sl__dec_u32(d, &flags);
    if (r)
        return r;
    if (flags > 2)
        return sl__dec_fail(d, d->pos - 1, "malformed data segment kind");
    size_t mem_at = d->pos;
    s->mode = flags == 1 ? SL_SEG_PASSIVE : SL_SEG_ACTIVE;
    if (flags == 2 && (r = sl__dec_u32(d, &s->mem)))
        return r;
    if (flags != 1 && (r = sl__dec_constexpr(d, SL_I32, &s->offset, &off_err)))
        return r;
    if ((r = sl__dec_len(d, &n)) || (r = sl__dec_bytes(d, n, &p)))
        return r;
    s->bytes = malloc((size_t)n + 1);
    if (!s->bytes)
        return sl__dec_nomem(d);
    memcpy(s->bytes, p, n);
    s->len = n;
    if (s->mode == SL_SEG_ACTIVE) {
        if (s->mem >= d->m->n_mems)
            sl__dec_note(&d->deferred, mem_at, "unknown memory %" PRIu32, s->mem);
        sl__dec_defer(d, &off_err);
    }
    return SL_OK;
}

sl_err
sl__dec_data_section(sl_dec *d)
{
    sl_module *m = d->m;
    uint32_t n = 0, n_alloc = 0;
    sl_err r = sl__dec_len(d, &n);
    if (r)
        return r;
    sl_data *datas = sl__dec_grow(d, NULL, 0, n, 2, sizeof *datas, &n_alloc);
    if (!datas)
        return SL_ERR_NOMEM;
    m->datas = datas;
    m->n_datas = n_alloc;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= n_alloc)
            return sl__dec_fail(d, d->len, SL_MSG_END);
        if ((r = dec_data(d, &datas[i])))
            return r;
    }
    return SL_OK;
}
