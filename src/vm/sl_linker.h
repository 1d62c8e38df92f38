/*
 * sl_linker.h — what sl_instance.c and sl_linker.c share and nobody else
 * needs: the linker's lookup, and creation/release of globals (which both
 * the linker and instances create).
 *
 * Layer:     engine (src/vm), internal.
 * Not here:  the public linker API (sluice/vm.h), run-time structs
 *            (sl_runtime.h).
 */
#ifndef SL_LINKER_H
#define SL_LINKER_H

#include "sl_runtime.h"

/* One linkable definition. The pointer is borrowed from the linker: an
 * importer that keeps it takes its own reference (memories, tables and
 * globals: refs++; functions of an instance: a reference on f->inst). */
typedef struct sl_extern {
    sl_externkind kind;
    union {
        sl_func *func;
        sl_table *table;
        sl_memory *mem;
        sl_global *global;
    };
    sl_instance *owner; /* the instance that exported it; NULL for host objects */
} sl_extern;

/* A module's imports as one linker state resolved them (the linker's stamp
 * names that state), in import order: Wasmtime's InstancePre. Kept in the
 * module's cache (sl_runtime.h) so that instantiating the same module
 * through an unchanged linker skips the lookups. Immutable once published;
 * a replaced one is kept until the module is freed, as another thread may
 * still read it. */
typedef struct sl_import_res {
    uint64_t stamp;
    struct sl_import_res *retired; /* the next older one */
    sl_extern ext[];               /* n_imports */
} sl_import_res;

/* Finds module.name (byte strings: Wasm names may contain NUL); false when
 * undefined. */
bool sl__linker_lookup(const sl_linker *l, const char *module, uint32_t module_len,
                       const char *name, uint32_t name_len, sl_extern *out);
sl_engine *sl__linker_engine(const sl_linker *l);
/* Names the linker's current set of definitions; changes with each one. */
uint64_t sl__linker_stamp(const sl_linker *l);
/* Takes one reference on inst, dropped by sl_linker_free. Used for an
 * instance whose instantiation trapped after references to its functions
 * may have escaped into shared tables or globals (spec 2.0 keeps those
 * writes). On allocation failure the reference is leaked rather than
 * dropped, which is safe. */
void sl__linker_adopt(sl_linker *l, sl_instance *inst);

/* Returns owned (refs = 1) or NULL; implemented in sl_instance.c. */
sl_global *sl__global_new(uint8_t type, bool is_mutable, sl_val val);
void sl__global_release(sl_global *g); /* drops one reference */

#endif /* SL_LINKER_H */
