/*
 * sl_module.c — the public face of a module: creation (decode, validate,
 * lower), freeing, and import/export introspection; plus the engine-wide
 * diagnostic helper sl__diag and function type equality.
 *
 * Layer:     engine (src/vm). Implements the "modules" part of sluice/vm.h
 *            and sl__diag / sl__functype_equal of sl_module.h.
 * Ownership: sl_module_new returns an owned module whose every pointer is
 *            owned by it (see sl_module.h); the caller's bytes are borrowed
 *            only for the duration of the call. Strings handed out by the
 *            introspection functions live as long as the module.
 * Threads:   a finished module is immutable (its cache excepted: memory
 *            image and import resolution, sl_image.c and sl_instance.c);
 *            all readers here are const.
 * Not here:  the binary format and validation rules (sl_decode.c,
 *            sl_decode_sections.c), function bodies (sl_lower.c),
 *            instantiation (sl_instance.c).
 */
#include "sl_module.h"
#include "sl_runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sl_err
sl__diag(sl_diag *diag, sl_err err, size_t offset, const char *fmt, ...)
{
    if (!diag)
        return err;
    diag->err = err;
    diag->offset = offset;
    diag->func = UINT32_MAX;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(diag->msg, sizeof diag->msg, fmt, ap);
    va_end(ap);
    return err;
}

uint32_t
sl__functype_hash(const sl_functype *ft)
{
    uint32_t h = 2166136261u; /* FNV-1a over the counts and the types */
    uint32_t n = ft->n_params + ft->n_results;
    h = (h ^ ft->n_params) * 16777619u;
    h = (h ^ ft->n_results) * 16777619u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ ft->types[i]) * 16777619u;
    return h;
}

bool
sl__functype_equal(const sl_functype *a, const sl_functype *b)
{
    if (a == b)
        return true;
    if (a->n_params != b->n_params || a->n_results != b->n_results || a->hash != b->hash)
        return false;
    size_t n = (size_t)a->n_params + a->n_results;
    return n == 0 || memcmp(a->types, b->types, n) == 0;
}

struct sl_module_cache *
sl__module_cache_new(void)
{
    struct sl_module_cache *c = calloc(1, sizeof *c);
    if (c) {
        atomic_init(&c->state, SL_IMAGE_UNBUILT);
        c->img.fd = -1;
        atomic_init(&c->imports, NULL);
    }
    return c;
}

void
sl__module_cache_free(struct sl_module_cache *c)
{
    if (!c)
        return;
    sl__image_drop(c);
    sl__imports_drop(c);
    free(c);
}

sl_err
sl_module_new(sl_engine *engine, const uint8_t *bytes, size_t len, sl_module **out,
              sl_diag *diag)
{
    if (out)
        *out = NULL;
    if (!engine || !out || (!bytes && len > 0))
        return sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "bad argument");
    sl_module *m = calloc(1, sizeof *m);
    if (!m)
        return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");
    m->engine = engine;
    sl_err err = sl__module_decode(m, bytes, len, diag);
    if (err != SL_OK) {
        sl__module_clear(m);
        free(m);
        return err;
    }
    sl__diag(diag, SL_OK, SIZE_MAX, "ok");
    /* Without a cache (out of memory) instances copy data segments and
     * resolve imports each time. */
    m->cache = sl__module_cache_new();
    *out = m;
    return SL_OK;
}

void
sl_module_free(sl_module *module)
{
    if (!module)
        return;
    if (module->snapshot_of) {
        sl__snapshot_free(module);
        return;
    }
    void (*hook)(const sl_module *) = sl__module_free_hook;
    if (hook)
        hook(module);
    sl__native_detach(module->cache);
    sl__module_cache_free(module->cache);
    sl__module_clear(module);
    free(module);
}

size_t
sl_module_import_count(const sl_module *m)
{
    return m ? m->n_imports : 0;
}

void
sl_module_import(const sl_module *m, size_t i, const char **module, const char **name,
                 sl_externkind *kind)
{
    const sl_import *im = m && i < m->n_imports ? &m->imports[i] : NULL;
    if (module)
        *module = im ? im->module : NULL;
    if (name)
        *name = im ? im->name : NULL;
    if (kind)
        *kind = im ? im->kind : SL_EXTERN_FUNC;
}

size_t
sl_module_export_count(const sl_module *m)
{
    return m ? m->n_exports : 0;
}

void
sl_module_export(const sl_module *m, size_t i, const char **name, sl_externkind *kind)
{
    const sl_export *e = m && i < m->n_exports ? &m->exports[i] : NULL;
    if (name)
        *name = e ? e->name : NULL;
    if (kind)
        *kind = e ? e->kind : SL_EXTERN_FUNC;
}
