/*
 * sl_runtime.h — run-time objects of the engine: engine, function, memory,
 * table, global, instance, linker and trap, as the interpreter sees them.
 *
 * Layer:     engine (src/vm), internal. Implemented by sl_engine.c,
 *            sl_memory.c, sl_table.c, sl_instance.c, sl_linker.c, sl_trap.c;
 *            read on the hot path by sl_interp.c.
 * Ownership: an instance owns its defined memories, tables, globals and
 *            functions. Imported ones belong to their exporter: memories,
 *            tables and globals are reference-counted; an instance keeps a
 *            reference on every instance it imports functions from.
 * Threads:   an instance is used by one thread at a time; only `interrupt`
 *            is written from other threads.
 */
#ifndef SL_RUNTIME_H
#define SL_RUNTIME_H

#include "sl_module.h"

#include <stdatomic.h>

#define SL_PAGE_SIZE 65536u
#define SL_MAX_PAGES 65536u

struct sl_engine {
    sl_limits limits; /* defaults resolved: no zero fields */
};

/* Fills zero fields of *l from base. */
void sl__limits_inherit(sl_limits *l, const sl_limits *base);

struct sl_func {
    const sl_functype *type;
    sl_instance *inst;   /* owning instance; NULL for host functions */
    const sl_code *code; /* wasm functions: lowered body */
    uint32_t index;      /* index in the owning module (wasm functions) */
    sl_host_fn host;     /* host functions */
    void *user;
    char *debug_name;    /* host functions: "module.name" */
};

struct sl_memory {
    uint8_t *base;
    uint64_t size;      /* bytes = pages * 64 KiB */
    uint32_t pages, max_pages;
    size_t reserved;    /* bytes mapped (guard build) or allocated (explicit) */
    uint32_t decl_max;  /* declared maximum for import matching; UINT32_MAX = none
                         * (max_pages may be lower: the instance limit) */
    uint32_t refs;
};

/* Guard-page memories reserve 8 GiB so that any i32 address + u32 offset
 * faults instead of touching another object; SL_MEMCHECK_EXPLICIT builds use
 * an explicit bounds check and a plain allocation. */
#ifdef SL_MEMCHECK_EXPLICIT
#define SL_MEM_GUARDED 0
#else
#define SL_MEM_GUARDED 1
#endif

sl_memory *sl__memory_new(uint32_t min_pages, uint32_t max_pages);
void sl__memory_release(sl_memory *mem); /* drops one reference */
/* True when addr lies in a guarded reservation of a live memory (SIGSEGV). */
bool sl__memory_owns_fault(const void *addr);

struct sl_table {
    sl_val *elems;
    uint32_t size, max; /* max = UINT32_MAX when unbounded */
    uint8_t elem_type;
    uint32_t refs;
};

sl_table *sl__table_new(uint8_t elem_type, uint32_t min, uint32_t max, sl_val init);
void sl__table_release(sl_table *t);
/* Returns the old size, or -1 when the limit or memory forbids it. */
int64_t sl__table_grow(sl_table *t, uint32_t delta, sl_val init, uint32_t limit);

struct sl_global {
    sl_val val;
    uint8_t type;
    bool is_mutable;
    uint32_t refs;
};

struct sl_instance {
    const sl_module *module;
    sl_engine *engine;
    sl_limits limits;
    uint32_t refs;
    void *user_data;

    sl_func **funcs;     /* n_funcs: imports point into other instances/linker */
    sl_func *own_funcs;  /* defined functions */
    sl_table **tables;   /* n_tables */
    sl_memory **mems;    /* n_mems */
    sl_global **globals; /* n_globals */
    sl_memory *mem0;     /* mems[0] or NULL: the interpreter's fast path */

    /* Evaluated references of every element segment (NULL once dropped). */
    sl_val **elem_values;
    uint32_t *elem_sizes;
    bool *data_dropped;

    sl_instance **deps; /* instances we import functions from (referenced) */
    uint32_t n_deps;

    atomic_int interrupt;
};

void sl__instance_release(sl_instance *inst);

/* Calls f with args in args_results[0..n_params) and writes results into
 * args_results[0..n_results). Returns NULL or an owned trap. Implemented by
 * the interpreter (sl_interp.c); reentrant from host functions. */
sl_trap *sl__invoke(sl_func *f, sl_val *args_results);

struct sl_trap {
    sl_trap_kind kind;
    int exit_code;
    char *msg;
    uint32_t n_frames;
    uint32_t *frame_funcs;
    char **frame_names;
};

/* Appends a frame (innermost first) to a trap; ignores allocation failure. */
void sl__trap_push_frame(sl_trap *t, uint32_t func, const char *name);

#endif /* SL_RUNTIME_H */
