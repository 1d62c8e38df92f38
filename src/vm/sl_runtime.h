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
#include "sl_native.h"

#include <stdatomic.h>

#define SL_PAGE_SIZE 65536u
#define SL_MAX_PAGES 65536u

struct sl_engine {
    sl_limits limits; /* defaults resolved: no zero fields */
};

/* Fills zero fields of *l from base. */
void sl__limits_inherit(sl_limits *l, const sl_limits *base);

struct sl_func {
    sl_nfunc nat;        /* native code (sl_native.h); zero when interpreted */
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
    /* Guard build: the prepared image mapped copy-on-write over [0,
     * image_len) of the reservation, or 0, 0 and NULL. image_master is the
     * image's read-only copy (valid while its module lives). */
    uint64_t image_id;
    size_t image_len;
    const uint8_t *image_master;
    /* Nothing can have written a byte since creation, so release need not
     * scrub it. Set only for instance-owned memories right after they are
     * created; cleared by everything that hands out or writes the bytes:
     * entering wasm code of an instance using it (sl_interp.c RELOAD_MEM),
     * sl_memory_data, sl_mem_slice, copying data segments. */
    bool pristine;
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

/* A prepared memory image (sl_image.c): the initial contents of a module's
 * memory 0 with its active data segments applied, in a sealed memfd, built
 * once per module and mapped copy-on-write into each new instance's memory
 * (guard build only). Immutable once built. */
typedef struct sl_mem_image {
    int fd;                /* sealed memfd of len bytes */
    size_t len;            /* host-page multiple, <= the memory's initial size */
    uint64_t id;           /* unique within the process, never 0 (pool matching) */
    const uint8_t *master; /* the memfd mapped read-only: restores written pages */
} sl_mem_image;

/* A module's caches (sl_module.cache); modules made by sl_module_new have
 * one, hand-built ones (unit tests) have none. The import resolutions are
 * struct sl_import_res (sl_linker.h). */
struct sl_import_res;
struct sl_module_cache {
    atomic_int state; /* image: SL_IMAGE_UNBUILT, _READY or _NONE (fall back) */
    sl_mem_image img;
    _Atomic(struct sl_import_res *) imports; /* the latest resolution, or NULL */
    struct sl_import_res *retired;           /* older ones (sl_instance.c's lock) */
    _Atomic(struct sl_native_lib *) native;  /* attached native code, or NULL */
};
enum { SL_IMAGE_UNBUILT, SL_IMAGE_READY, SL_IMAGE_NONE };

/* Returns NULL (apply data segments the ordinary way) or m's image of
 * memory 0, building it on the first call. Thread-safe. An image exists
 * only when memory 0 is defined, every active data segment targets it at
 * an i32.const offset and fits in its initial size (so applying the
 * segments cannot trap), and at least one segment has bytes. */
const sl_mem_image *sl__module_image(const sl_module *m);
/* sl_module.c; free after every instance of the module is freed. */
struct sl_module_cache *sl__module_cache_new(void);
void sl__module_cache_free(struct sl_module_cache *c);
void sl__image_drop(struct sl_module_cache *c);   /* sl_image.c */
void sl__imports_drop(struct sl_module_cache *c); /* sl_instance.c */

/* Like sl__memory_new, with [0, img->len) holding the image (img may be
 * NULL). The caller checked that min_pages covers the image. */
sl_memory *sl__memory_new_image(uint32_t min_pages, uint32_t max_pages, const sl_mem_image *img);
/* Zeroes the bytes an image put into a memory (an instantiation that traps
 * before its data segments must not show them). */
void sl__memory_unimage(sl_memory *mem);

/* The reservation pool (guard build): released memories' reservations are
 * kept, scrubbed and unregistered, up to a cap, and handed to the next
 * sl__memory_new*. Thread-safe. */
#define SL_MEMORY_POOL_MAX 64
size_t sl__memory_pool_count(void);
/* Sets the cap (clamped to SL_MEMORY_POOL_MAX; 0 disables pooling), unmaps
 * what exceeds it and returns the previous cap. */
unsigned sl__memory_pool_set_cap(unsigned cap);
void sl__memory_pool_drain(void); /* unmaps every pooled reservation */
/* Unmaps pooled reservations that hold this image (its module is freed). */
void sl__memory_pool_forget(uint64_t image_id);

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

    /* Evaluated references of every element segment (NULL once dropped,
     * and for active and declarative segments once instantiated). */
    sl_val **elem_values;
    uint32_t *elem_sizes;
    bool *data_dropped;
    sl_val *unapplied_elems; /* owned: segments left by a trapped instantiation */

    sl_instance **deps; /* instances we import functions from (referenced) */
    uint32_t n_deps;

    atomic_int interrupt;
    const struct sl_native_lib *native; /* set: own functions run native code */
    sl_nctx nctx;                       /* what that code sees of us */
    bool mem0_imaged; /* memory 0 came from the module's image: its active
                       * data segments are already in place */
};

void sl__instance_release(sl_instance *inst);
/* Value of a constant expression in inst (validated: indices in range). */
sl_val sl__eval_const(const sl_instance *inst, const sl_constexpr *e);
/* Frees a module made by sl_module_snapshot (sl_module_free calls it). */
void sl__snapshot_free(sl_module *s);

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

/* ---- native code (sl_native.c) ---- */

typedef struct sl_native_sym {
    uintptr_t addr; /* entry of a defined function's typed code */
    uint32_t func;  /* its function index */
} sl_native_sym;

/* A loaded library of native code for one module, filled by its loader
 * (src/aot): man, text_lo/hi (the code's address range), release and
 * handle; the rest belongs to sl_native.c. */
typedef struct sl_native_lib {
    const sl_nmanifest *man;
    uintptr_t text_lo, text_hi;
    void (*release)(struct sl_native_lib *lib); /* unloads and frees lib */
    void *handle;
    const sl_module *module;
    sl_native_sym *syms; /* sorted by addr */
    struct sl_native_lib *next;
} sl_native_lib;

/* Attaches lib to m (not a snapshot; snapshots of m share it): instances
 * created afterwards run native code. Takes lib on success (released with
 * the module). SL_ERR_ARG when m already has a library or the function
 * count differs. Thread-safe. */
sl_err sl__module_attach_native(sl_module *m, sl_native_lib *lib);
const sl_native_lib *sl__module_native(const sl_module *m);
void sl__native_detach(struct sl_module_cache *c); /* sl_module_free */
/* Called by sl_module_free first, when set (src/aot forgets pending
 * background compiles of the module). */
extern void (*_Atomic sl__module_free_hook)(const sl_module *m);
/* The first type index of m structurally equal to type index t (native
 * code compares functions' types by it; sl_aot_emit.c names types by it). */
uint32_t sl__canonical_type(const sl_module *m, uint32_t t);
/* Wires inst's defined functions to its module's library, if any; called
 * once functions, memories, tables and globals exist. */
void sl__native_setup(sl_instance *inst);
/* sl_instance_interrupt's part for native code: the next entry check of
 * inst's native code fails (any thread). */
void sl__native_interrupt(sl_instance *inst);
/* Appends the native frames found by walking frame pointers from fp (or
 * from pc then fp) to t. */
void sl__native_backtrace(sl_trap *t, void *const *fp, uintptr_t pc);
/* Leaves native code with t (owned) through the innermost entry
 * (sl_exec.c). */
__attribute__((noreturn)) void sl__exec_raise(sl_trap *t);

/* Appends a frame (innermost first) to a trap; ignores allocation failure. */
void sl__trap_push_frame(sl_trap *t, uint32_t func, const char *name);

#endif /* SL_RUNTIME_H */
