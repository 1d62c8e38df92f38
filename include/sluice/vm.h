/*
 * sluice/vm.h — the public API of the sluice WebAssembly engine.
 *
 * Layer:     engine (src/vm). Everything above the engine (WASI, proxy-wasm,
 *            WAGI, the gateway, the CLI) includes only this header.
 * Lifetimes: engine ⊃ module ⊃ instance. A module is decoded, validated and
 *            lowered once, then immutable: any thread may instantiate it.
 *            An instance (memories, tables, globals) is used by one thread at
 *            a time. A linker holds host functions and registered instances
 *            and must outlive every instance created through it.
 * Errors:    load/link failures return sl_err plus an optional sl_diag with
 *            the spec-suite wording ("unexpected end", "type mismatch", ...).
 *            Execution failures are traps: values of type sl_trap, owned by
 *            the caller.
 * Ownership: every function says "borrows", "takes" or "returns owned".
 *
 * Embedding in 10 lines:
 *     sl_engine *e = sl_engine_new(NULL);
 *     sl_module *m; sl_diag d;
 *     if (sl_module_new(e, bytes, len, &m, &d)) { puts(d.msg); return 1; }
 *     sl_linker *l = sl_linker_new(e);
 *     sl_linker_define_func(l, "env", "log", "i:", my_log, NULL);
 *     sl_instance *i; sl_trap *t = NULL;
 *     if (sl_instantiate(l, m, NULL, &i, &d, &t)) { ... }
 *     sl_val args[1] = {{.i32 = 5}}, res[1];
 *     t = sl_func_call(sl_instance_func(i, "fib"), args, res);
 *     if (t) { puts(sl_trap_message(t)); sl_trap_free(t); }
 */
#ifndef SLUICE_VM_H
#define SLUICE_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- values ------------------------------------------------------------ */

/* Value types carry their binary encoding. V128 is reserved for SIMD. */
typedef enum sl_valtype {
    SL_I32 = 0x7F,
    SL_I64 = 0x7E,
    SL_F32 = 0x7D,
    SL_F64 = 0x7C,
    SL_V128 = 0x7B,
    SL_FUNCREF = 0x70,
    SL_EXTERNREF = 0x6F,
} sl_valtype;

/* One untagged 64-bit value slot. Arguments and results travel as arrays of
 * these; the function's type says how to read each one. A reference is a
 * pointer; NULL is the null reference. An i32 lives in the low 32 bits. */
typedef union sl_val {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    void *ref;
    uint64_t bits;
} sl_val;

/* ---- errors ------------------------------------------------------------ */

#define SL_ERR_LIST(X)                                  \
    X(SL_OK, "ok")                                      \
    X(SL_ERR_NOMEM, "out of memory")                    \
    X(SL_ERR_MALFORMED, "malformed module")             \
    X(SL_ERR_INVALID, "invalid module")                 \
    X(SL_ERR_LINK, "unlinkable")                        \
    X(SL_ERR_TRAP, "trap during instantiation")         \
    X(SL_ERR_IO, "i/o error")                           \
    X(SL_ERR_ARG, "bad argument")                       \
    X(SL_ERR_LIMIT, "resource limit exceeded")

typedef enum sl_err {
#define SL_X_(name, str) name,
    SL_ERR_LIST(SL_X_)
#undef SL_X_
} sl_err;

const char *sl_err_str(sl_err err);

/* Detail about a load or link failure. msg uses the spec test suite's
 * wording where it has one. offset is the byte offset in the module, or
 * SIZE_MAX when not applicable; func is the function index or UINT32_MAX. */
typedef struct sl_diag {
    sl_err err;
    size_t offset;
    uint32_t func;
    char msg[240];
} sl_diag;

/* ---- traps ------------------------------------------------------------- */

#define SL_TRAP_LIST(X)                                               \
    X(SL_TRAP_UNREACHABLE, "unreachable")                             \
    X(SL_TRAP_MEMORY_OOB, "out of bounds memory access")              \
    X(SL_TRAP_DIV_ZERO, "integer divide by zero")                     \
    X(SL_TRAP_INT_OVERFLOW, "integer overflow")                       \
    X(SL_TRAP_INVALID_CONVERSION, "invalid conversion to integer")    \
    X(SL_TRAP_TABLE_OOB, "out of bounds table access")                \
    X(SL_TRAP_UNDEFINED_ELEMENT, "undefined element")                 \
    X(SL_TRAP_UNINITIALIZED_ELEMENT, "uninitialized element")         \
    X(SL_TRAP_INDIRECT_TYPE, "indirect call type mismatch")           \
    X(SL_TRAP_STACK_EXHAUSTED, "call stack exhausted")                \
    X(SL_TRAP_INTERRUPTED, "interrupted")                             \
    X(SL_TRAP_OOM, "out of memory")                                   \
    X(SL_TRAP_EXIT, "exit")                                           \
    X(SL_TRAP_HOST, "host error")

typedef enum sl_trap_kind {
    SL_TRAP_NONE = 0,
#define SL_X_(name, str) name,
    SL_TRAP_LIST(SL_X_)
#undef SL_X_
} sl_trap_kind;

typedef struct sl_trap sl_trap;

/* Returns owned; free with sl_trap_free. msg may be NULL for the kind's
 * standard message. */
sl_trap *sl_trap_new(sl_trap_kind kind, const char *msg);
/* A trap that means "the guest asked to exit with this code" (proc_exit). */
sl_trap *sl_trap_exit(int code);
void sl_trap_free(sl_trap *trap);
sl_trap_kind sl_trap_kind_of(const sl_trap *trap);
const char *sl_trap_message(const sl_trap *trap); /* valid until freed */
int sl_trap_exit_code(const sl_trap *trap);       /* for SL_TRAP_EXIT */
/* Backtrace, innermost frame first. Names come from the name section, or
 * are "func[N]" when the module has none. Valid until the trap is freed. */
size_t sl_trap_frame_count(const sl_trap *trap);
const char *sl_trap_frame_name(const sl_trap *trap, size_t i);
uint32_t sl_trap_frame_func(const sl_trap *trap, size_t i);

/* ---- engine ------------------------------------------------------------ */

typedef struct sl_engine sl_engine;

/* Limits applied to every instance unless sl_instantiate gets others. */
typedef struct sl_limits {
    uint32_t max_memory_pages; /* per memory, 64 KiB pages; 0 = 65536 */
    uint32_t max_table_elems;  /* per table; 0 = 10,000,000 */
    uint32_t value_stack_slots;/* operand + locals, 8 bytes each; 0 = 1 Mi */
    uint32_t max_call_depth;   /* wasm frames; 0 = 20,000 */
} sl_limits;

typedef struct sl_engine_config {
    sl_limits limits;
} sl_engine_config;

/* Returns owned; free with sl_engine_free. cfg is borrowed (NULL = defaults). */
sl_engine *sl_engine_new(const sl_engine_config *cfg);
void sl_engine_free(sl_engine *engine);

/* ---- modules ----------------------------------------------------------- */

typedef struct sl_module sl_module;

typedef enum sl_externkind {
    SL_EXTERN_FUNC = 0,
    SL_EXTERN_TABLE = 1,
    SL_EXTERN_MEMORY = 2,
    SL_EXTERN_GLOBAL = 3,
} sl_externkind;

/* Decodes, validates and lowers a binary module. Borrows bytes (they may be
 * freed on return). On success *out is owned; free with sl_module_free after
 * every instance of it is freed. diag may be NULL. */
sl_err sl_module_new(sl_engine *engine, const uint8_t *bytes, size_t len, sl_module **out,
                     sl_diag *diag);
void sl_module_free(sl_module *module);

size_t sl_module_import_count(const sl_module *m);
/* Strings valid while the module lives. */
void sl_module_import(const sl_module *m, size_t i, const char **module, const char **name,
                      sl_externkind *kind);
size_t sl_module_export_count(const sl_module *m);
void sl_module_export(const sl_module *m, size_t i, const char **name, sl_externkind *kind);

/* ---- host objects -------------------------------------------------------- */

typedef struct sl_instance sl_instance;
typedef struct sl_func sl_func;
typedef struct sl_memory sl_memory;
typedef struct sl_table sl_table;
typedef struct sl_global sl_global;

/* A host function reads its arguments from args[0..nparams) and writes its
 * results to args[0..nresults) (the array is large enough for both). caller
 * is the calling instance (its memory 0 is reachable with sl_mem_slice);
 * user is the pointer given at definition. Return NULL to continue, or an
 * owned trap (sl_trap_new / sl_trap_exit) to stop the guest. */
typedef sl_trap *(*sl_host_fn)(sl_instance *caller, sl_val *args, void *user);

/* ---- linker -------------------------------------------------------------- */

typedef struct sl_linker sl_linker;

/* Returns owned; free with sl_linker_free after every instance made with it. */
sl_linker *sl_linker_new(sl_engine *engine);
void sl_linker_free(sl_linker *linker);

/* Defines module.name as a host function. sig is "params:results" with one
 * letter per value: i=i32 I=i64 f=f32 F=f64 r=externref R=funcref; e.g.
 * "iiii:i". Strings are copied. A later definition replaces an earlier one. */
sl_err sl_linker_define_func(sl_linker *l, const char *module, const char *name, const char *sig,
                             sl_host_fn fn, void *user);
/* Makes every export of inst importable as module.<export>. Borrows inst;
 * the linker keeps a reference so it stays alive as long as the linker. */
sl_err sl_linker_define_instance(sl_linker *l, const char *module, sl_instance *inst);
/* Host-created memories, tables and globals (the spectest module, embedders).
 * The linker takes the object. */
sl_err sl_linker_define_memory(sl_linker *l, const char *module, const char *name,
                               uint32_t min_pages, uint32_t max_pages /* UINT32_MAX = none */);
sl_err sl_linker_define_table(sl_linker *l, const char *module, const char *name,
                              sl_valtype elem, uint32_t min, uint32_t max /* UINT32_MAX = none */);
sl_err sl_linker_define_global(sl_linker *l, const char *module, const char *name,
                               sl_valtype type, bool mutable_, sl_val value);

/* ---- instances ----------------------------------------------------------- */

typedef struct sl_instance_config {
    sl_limits limits; /* zero fields inherit the engine's */
    void *user_data;  /* returned by sl_instance_user_data (host functions use it) */
} sl_instance_config;

/* Resolves imports through the linker, allocates memories/tables/globals,
 * applies segments and runs the start function. Returns SL_OK, or an error
 * with diag ("unknown import", "incompatible import type") or SL_ERR_TRAP
 * with *trap set (owned) when a segment or the start function trapped.
 * *out is owned; free with sl_instance_free. cfg may be NULL. */
sl_err sl_instantiate(sl_linker *l, const sl_module *m, const sl_instance_config *cfg,
                      sl_instance **out, sl_diag *diag, sl_trap **trap);
void sl_instance_free(sl_instance *inst);
void *sl_instance_user_data(const sl_instance *inst);
const sl_module *sl_instance_module(const sl_instance *inst);

/* Wizer-style pre-initialisation: returns (owned, in *out) a module whose
 * instances start in inst's current state instead of redoing its
 * initialisation: memory 0's current size and contents, every defined
 * mutable global's current value, passive segments dropped as in inst; the
 * start function does not run again. Tables and everything else start as
 * in inst's module. Call the initialisation export on inst first (e.g.
 * "wizer.initialize"). The snapshot shares code with inst's module: free it
 * with sl_module_free before that module. Returns SL_ERR_ARG, with diag,
 * when the state cannot be expressed by a module: memory 0 imported, a
 * defined table changed since instantiation, a global holding a reference
 * other than null or one of inst's functions. Borrows inst. */
sl_err sl_module_snapshot(const sl_instance *inst, sl_module **out, sl_diag *diag);

/* True when native code (sluice/aot.h) is attached to m, or to the module
 * m is a snapshot of: instances created from now on run it. */
bool sl_module_native(const sl_module *m);

/* Exports by name; NULL when absent or of another kind. Valid while the
 * instance lives. */
sl_func *sl_instance_func(sl_instance *inst, const char *name);
sl_memory *sl_instance_memory(sl_instance *inst, const char *name);
sl_global *sl_instance_global(sl_instance *inst, const char *name);
sl_table *sl_instance_table(sl_instance *inst, const char *name);

/* Asks running code in inst to stop: it traps "interrupted" at the next loop
 * back-edge or call. Safe to call from any thread (the gateway's deadline
 * timer). The request stays pending until code observes it: that call traps
 * and the flag is cleared; set while nothing runs, it stops the next call
 * at its first back-edge or call. */
void sl_instance_interrupt(sl_instance *inst);

/* ---- calling --------------------------------------------------------------- */

size_t sl_func_param_count(const sl_func *f);
size_t sl_func_result_count(const sl_func *f);
sl_valtype sl_func_param_type(const sl_func *f, size_t i);
sl_valtype sl_func_result_type(const sl_func *f, size_t i);

/* Calls f. Borrows args (param_count values); writes result_count values to
 * results. Returns NULL on success or an owned trap. */
sl_trap *sl_func_call(sl_func *f, const sl_val *args, sl_val *results);

/* ---- memory, globals, tables ------------------------------------------------ */

/* Checked access to the caller's memory 0: sets *ptr to the host address of
 * [off, off+len) and returns true, or returns false when out of bounds (or
 * there is no memory). The pointer is valid until the guest next runs. */
bool sl_mem_slice(sl_instance *inst, uint64_t off, uint64_t len, uint8_t **ptr);

uint8_t *sl_memory_data(sl_memory *mem);
uint64_t sl_memory_size(const sl_memory *mem); /* bytes */
/* Grows by delta pages; returns the old size in pages or -1 (limit). */
int64_t sl_memory_grow(sl_memory *mem, uint32_t delta);

sl_valtype sl_global_type(const sl_global *g);
sl_val sl_global_get(const sl_global *g);
bool sl_global_set(sl_global *g, sl_val v); /* false if immutable */

uint32_t sl_table_size(const sl_table *t);

/* ---- deadlines ---------------------------------------------------------------- */

/* A process-wide watchdog thread that calls sl_instance_interrupt on an
 * instance whose armed deadline has passed (WAGI per request, proxy-wasm
 * per guest callback). A node is embedded by the embedder (stack or
 * struct); its fields are private. register/unregister take one mutex
 * round; arm/disarm are lock-free (atomics), so a node can stay
 * registered for an instance's whole life and be armed around each call.
 * The thread ticks every millisecond while some node is armed and sleeps
 * on a condition variable once nothing has been armed for a while.
 * A deadline is wall-clock (CLOCK_MONOTONIC) time, not CPU time. */
typedef struct sl_deadline {
    struct sl_deadline *prev_, *next_;
    sl_instance *inst_;
    uint64_t at_ns_;    /* atomic */
    uint64_t state_;    /* atomic: sequence << 2 | phase */
} sl_deadline;

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t sl_clock_ns(void);
/* Starts the thread once per process and links d (disarmed) for inst.
 * Returns 0 or an errno. Borrows inst: unregister before freeing it. */
int sl_deadline_register(sl_deadline *d, sl_instance *inst);
/* Unlinks d; waits for a scan in progress, so inst may be freed after. */
void sl_deadline_unregister(sl_deadline *d);
/* Interrupt inst once sl_clock_ns() >= at_ns, until disarmed. */
void sl_deadline_arm(sl_deadline *d, uint64_t at_ns);
/* Disarms; returns true when the deadline fired since the last arm (the
 * instance was, or is about to be, interrupted). */
bool sl_deadline_disarm(sl_deadline *d);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_VM_H */
