/*
 * sl_aot_prelude.h — included first by every C file the AOT translator
 * writes: the policy the generated code only names (bounds checks, trap
 * exits, interrupt polls, stack checks) and one inline function per
 * numeric, load and store operation, expanded from the engine's own
 * opcode table (sl_ops.def), so native code computes exactly what the
 * interpreter's handlers compute.
 *
 * Layer:     src/aot, compiled by the system C compiler at `sluice compile`
 *            time, never into sluice itself. It sees only sluice/vm.h (trap
 *            kinds), sl_native.h (the engine ABI), sl_numeric.h and
 *            sl_ops.def; the compiler ships the five files to its work
 *            directory.
 * Memory:    guard-page build: no checks (an i32 address plus a u32 offset
 *            stays inside the 8 GiB reservation; a fault becomes a trap in
 *            sl_exec.c); the translator forces (SL_FORCE_*) a loaded value
 *            wherever it could die, so a dead load still faults
 *            (sl_aot_emit.c, force). -DSL_MEMCHECK_EXPLICIT: an explicit
 *            check instead.
 */
#ifndef SL_AOT_PRELUDE_H
#define SL_AOT_PRELUDE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sluice/vm.h"
#include "sl_native.h"
#include "sl_numeric.h"

typedef uint32_t u32;
typedef uint64_t u64;
typedef float f32;
typedef double f64;
typedef void *ref;

#define SL_FN __attribute__((visibility("hidden")))
#define SL_LIKELY(x) __builtin_expect(!!(x), 1)
#define SL_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define TRAP(kind) I->rt->trap(I, (kind))

/* Loop heads: one load and compare. sl_instance_interrupt raises
 * stack_limit to the top (sl_native.h), and enter_slow sorts it out. */
#define SL_POLL()                                                              \
    do {                                                                       \
        if (SL_UNLIKELY(I->stack_limit == (const char *)UINTPTR_MAX))          \
            I->rt->enter_slow(I);                                              \
    } while (0)

/* One compare per call checks both the stack and a pending interrupt
 * (which raises stack_limit; see sl_native.h). */
#define SL_ENTER()                                                             \
    do {                                                                       \
        if (SL_UNLIKELY((const char *)__builtin_frame_address(0) < I->stack_limit)) \
            I->rt->enter_slow(I);                                              \
    } while (0)

/* The memory's base (and size) live in locals, reloaded after anything
 * that may move or grow the memory: calls and memory.grow. */
#define SL_RELOAD()                                                            \
    do {                                                                       \
        M = I->mem0->base;                                                     \
        MS = I->mem0->size;                                                    \
    } while (0)

#ifdef SL_MEMCHECK_EXPLICIT
#define SL_BOUNDS(ea, n)                                                       \
    do {                                                                       \
        if (SL_UNLIKELY((ea) + (n) > ms))                                      \
            TRAP(SL_TRAP_MEMORY_OOB);                                          \
    } while (0)
#define SL_FORCE_I32(v) ((void)0)
#define SL_FORCE_I64(v) ((void)0)
#define SL_FORCE_F32(v) ((void)0)
#define SL_FORCE_F64(v) ((void)0)
#else
#define SL_BOUNDS(ea, n) ((void)ms)
#if defined(__x86_64__)
#define SL_FORCE_F32(v) __asm__ volatile("" : : "x"(v))
#define SL_FORCE_F64(v) __asm__ volatile("" : : "x"(v))
#else
#define SL_FORCE_F32(v) __asm__ volatile("" : : "g"(v))
#define SL_FORCE_F64(v) __asm__ volatile("" : : "g"(v))
#endif
#define SL_FORCE_I32(v) __asm__ volatile("" : : "r"(v))
#define SL_FORCE_I64(v) __asm__ volatile("" : : "r"(v))
#endif

#define CT_I32 uint32_t
#define CT_I64 uint64_t
#define CT_F32 float
#define CT_F64 double

#define SL_UNOP(code, id, text, TA, TR, body)                                  \
    static inline __attribute__((always_inline)) CT_##TR op_##id(sl_nctx *I, CT_##TA a) \
    {                                                                          \
        CT_##TR r;                                                             \
        (void)I;                                                               \
        body;                                                                  \
        return r;                                                              \
    }
#define SL_BINOP(code, id, text, TA, TR, body)                                 \
    static inline __attribute__((always_inline)) CT_##TR op_##id(sl_nctx *I, CT_##TA a, \
                                                                 CT_##TA b)    \
    {                                                                          \
        CT_##TR r;                                                             \
        (void)I;                                                               \
        body;                                                                  \
        return r;                                                              \
    }
#define SL_LOAD(code, id, text, T, CTYPE, ALIGN)                               \
    static inline __attribute__((always_inline)) CT_##T op_##id(               \
        sl_nctx *I, uint8_t *m, uint64_t ms, uint32_t a, uint32_t off)         \
    {                                                                          \
        uint64_t ea = (uint64_t)a + off;                                       \
        CTYPE v;                                                               \
        (void)I;                                                               \
        SL_BOUNDS(ea, sizeof v);                                               \
        memcpy(&v, m + ea, sizeof v);                                          \
        return (CT_##T)v;                                                      \
    }
#define SL_STORE(code, id, text, T, CTYPE, ALIGN)                              \
    static inline __attribute__((always_inline)) void op_##id(                 \
        sl_nctx *I, uint8_t *m, uint64_t ms, uint32_t a, uint32_t off, CT_##T x) \
    {                                                                          \
        uint64_t ea = (uint64_t)a + off;                                       \
        CTYPE v = (CTYPE)x;                                                    \
        (void)I;                                                               \
        SL_BOUNDS(ea, sizeof v);                                               \
        memcpy(m + ea, &v, sizeof v);                                          \
    }
#include "sl_ops.def"

static inline float
sl_f32_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline double
sl_f64_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* call_indirect: the table element, trapping on a bad index or null. */
static inline sl_nfunc *
sl_table_func(sl_nctx *I, uint32_t t, uint32_t i)
{
    sl_ntable *tab = I->tables[t];
    if (SL_UNLIKELY(i >= tab->size))
        TRAP(SL_TRAP_UNDEFINED_ELEMENT);
    sl_nfunc *f = (sl_nfunc *)tab->elems[i].ref;
    if (SL_UNLIKELY(!f))
        TRAP(SL_TRAP_UNINITIALIZED_ELEMENT);
    return f;
}

#endif /* SL_AOT_PRELUDE_H */
