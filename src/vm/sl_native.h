/*
 * sl_native.h — the one ABI between native (AOT-compiled) code and the
 * engine. Generated C includes this header (the AOT compiler ships it next
 * to the generated file); the engine implements its side in sl_native.c.
 *
 * Layer:     engine (src/vm). The translator and the artifact loader live in
 *            src/aot; the engine only knows this interface: an attached
 *            library (sl_native_lib) gives, per defined function, a typed C
 *            function and a generic entry for its type.
 * Contract:  every generated function takes `sl_nctx *I` first, then its
 *            Wasm parameters as C values (i32/i64 as uint32_t/uint64_t,
 *            f32/f64 as float/double, references as void *), and returns
 *            void, its one result, or a struct of its results.
 *            Traps never return: I->rt->trap and the calls below
 *            siglongjmp to the engine's entry (sl_exec.c). Memory faults in
 *            the guard-page build arrive there through SIGSEGV.
 *            Only the leading fields of sl_memory, sl_global, sl_table and
 *            sl_func are visible here (the sl_n* prefixes); sl_native.c
 *            checks the offsets at compile time.
 * Versioning: SL_NATIVE_ABI changes whenever anything in this file does;
 *            artifacts carry it and are refused on mismatch.
 * Not here:  the translator (src/aot/sl_aot_emit.c), artifacts and dlopen
 *            (src/aot/sl_aot_load.c).
 */
#ifndef SL_NATIVE_H
#define SL_NATIVE_H

#include <stdatomic.h>
#include <stdint.h>

#define SL_NATIVE_ABI 2u

typedef union sl_nval {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    void *ref;
    uint64_t bits;
} sl_nval; /* layout of sl_val */

typedef struct sl_nmem {
    uint8_t *base;
    uint64_t size; /* bytes */
} sl_nmem;         /* prefix of sl_memory */

typedef struct sl_ntable {
    sl_nval *elems;
    uint32_t size;
} sl_ntable; /* prefix of sl_table */

typedef struct sl_nctx sl_nctx;

/* Generic entry of one function type: reads the parameters from ar, calls
 * fn, writes the results to ar (as sl_func_call's arrays). */
typedef void (*sl_nentry)(sl_nctx *I, const void *fn, sl_nval *ar);

typedef struct sl_nfunc {
    const void *native; /* typed function, or NULL (host or interpreted) */
    sl_nentry entry;    /* generic entry for native's type */
    sl_nctx *nctx;      /* the instance context native runs with */
    uint32_t type_id;   /* the smallest type index structurally equal to its
                         * type, in its own module */
} sl_nfunc;              /* prefix of sl_func */

/* Engine services, called by generated code for what is not inlined. */
typedef struct sl_nrt {
    __attribute__((noreturn)) void (*trap)(sl_nctx *I, int kind);
    /* Calls any function (import, other instance, host) with the generic
     * array; traps propagate. */
    void (*call)(sl_nctx *I, void *func, sl_nval *ar);
    /* call_indirect's slow path: checks f against type index `type` of I's
     * module (trapping on mismatch), then calls as `call`. */
    void (*call_checked)(sl_nctx *I, void *func, uint32_t type, sl_nval *ar);
    int32_t (*memory_grow)(sl_nctx *I, uint32_t delta);
    void (*memory_init)(sl_nctx *I, uint32_t seg, uint32_t d, uint32_t s, uint32_t n);
    void (*data_drop)(sl_nctx *I, uint32_t seg);
    void (*memory_copy)(sl_nctx *I, uint32_t d, uint32_t s, uint32_t n);
    void (*memory_fill)(sl_nctx *I, uint32_t d, uint32_t v, uint32_t n);
    void *(*table_get)(sl_nctx *I, uint32_t t, uint32_t i);
    void (*table_set)(sl_nctx *I, uint32_t t, uint32_t i, void *v);
    int32_t (*table_grow)(sl_nctx *I, uint32_t t, void *init, uint32_t n);
    void (*table_fill)(sl_nctx *I, uint32_t t, uint32_t i, void *v, uint32_t n);
    void (*table_copy)(sl_nctx *I, uint32_t dt, uint32_t st, uint32_t d, uint32_t s, uint32_t n);
    void (*table_init)(sl_nctx *I, uint32_t t, uint32_t seg, uint32_t d, uint32_t s, uint32_t n);
    void (*elem_drop)(sl_nctx *I, uint32_t seg);
    void (*interrupted)(sl_nctx *I); /* traps "interrupted" and clears the flag */
    /* The entry check failed: traps "interrupted" (sl_instance_interrupt
     * lowers stack_limit to catch loop-free code at its next call) or
     * "call stack exhausted", or returns when neither holds. */
    void (*enter_slow)(sl_nctx *I);
} sl_nrt;

/* Per-instance context (embedded in sl_instance). */
struct sl_nctx {
    sl_nmem *mem0;          /* memory 0, or an empty memory */
    sl_nval **globals;      /* each global's value (sl_global starts with it) */
    sl_ntable **tables;
    sl_nfunc **funcs;       /* every function, imports first */
    atomic_int *interrupt;
    const char *stack_limit; /* entry check: a frame below it calls enter_slow;
                              * the stack floor, or UINTPTR_MAX when an
                              * interrupt is pending (set from any thread) */
    const char *stack_floor; /* lowest frame address allowed */
    const sl_nrt *rt;
};

/* What an artifact's shared object exports as `sl_aot_manifest`. */
typedef struct sl_nmanifest {
    uint32_t abi;            /* SL_NATIVE_ABI */
    uint32_t n_funcs;        /* defined functions */
    uint8_t module_sha256[32];
    const void *const *funcs;  /* typed function of each defined function */
    const sl_nentry *entries;  /* its generic entry */
} sl_nmanifest;

#endif /* SL_NATIVE_H */
