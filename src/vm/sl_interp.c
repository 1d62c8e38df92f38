/*
 * sl_interp.c — the interpreter: one dispatch loop over the lowered code of
 * sl_lower.h, threaded with computed goto (GCC/clang), or a plain switch
 * when built with -DSL_DISPATCH_SWITCH (debugging, other compilers). Each
 * handler is written once; numeric, load and store handlers are generated
 * from sl_ops.def.
 *
 * Layer:     engine (src/vm). Entered only through sl__interp_run (sl_exec.c).
 * Hot state: pc, fp, the instance, and the memory base live in locals; they
 *            are reloaded only after calls, returns and memory.grow.
 *            Interrupts are polled at loop headers and calls.
 * Traps:     a handler jumps to `trap` with a kind; guard-page faults arrive
 *            by siglongjmp in sl_exec.c instead. Wasm-to-wasm calls never
 *            recurse on the native stack.
 * Not here:  the value stack and signal set-up (sl_exec.c), lowering.
 */
#include "sl_exec.h"
#include "sl_lower.h"
#include "sl_numeric.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CT_I32 uint32_t
#define CT_I64 uint64_t
#define CT_F32 float
#define CT_F64 double
#define GET_I32(s) ((uint32_t)fp[s].i32)
#define GET_I64(s) ((uint64_t)fp[s].i64)
#define GET_F32(s) (fp[s].f32)
#define GET_F64(s) (fp[s].f64)
#define SET_I32(s, v) (fp[s].i32 = (int32_t)(v))
#define SET_I64(s, v) (fp[s].i64 = (int64_t)(v))
#define SET_F32(s, v) (fp[s].f32 = (v))
#define SET_F64(s, v) (fp[s].f64 = (v))

#define OP(k) (((const uint32_t *)(pc + 1))[k])
#define TRAP(kind)                                                             \
    do {                                                                       \
        trap_kind = (kind);                                                    \
        goto trap;                                                             \
    } while (0)

#ifdef SL_DISPATCH_SWITCH
#define CASE(id) case SL_IOP_##id:
#define NEXT(n)                                                                \
    do {                                                                       \
        pc += (n);                                                             \
        goto dispatch;                                                         \
    } while (0)
#else
#define CASE(id) L_##id:
#define NEXT(n)                                                                \
    do {                                                                       \
        pc += (n);                                                             \
        goto *pc->handler;                                                     \
    } while (0)
#endif

#ifdef SL_MEMCHECK_EXPLICIT
#define CHECK_MEM(ea, n)                                                       \
    do {                                                                       \
        if ((ea) + (n) > mem_size)                                             \
            TRAP(SL_TRAP_MEMORY_OOB);                                          \
    } while (0)
#define RELOAD_AFTER_CALL() RELOAD_MEM()
#else
#define CHECK_MEM(ea, n) ((void)0)
#define RELOAD_AFTER_CALL() ((void)0)
#endif

#define POLL_INTERRUPT()                                                       \
    do {                                                                       \
        if (atomic_load_explicit(interrupt, memory_order_relaxed))             \
            TRAP(SL_TRAP_INTERRUPTED);                                         \
    } while (0)

/* Entering an instance's code may write its memory: not pristine any more
 * (sl_runtime.h; the pool then scrubs it on release). */
#define RELOAD_MEM()                                                           \
    do {                                                                       \
        if (inst->mem0)                                                        \
            inst->mem0->pristine = false;                                      \
        mem0 = inst->mem0 ? inst->mem0 : &no_memory;                           \
        mem = mem0->base;                                                      \
        mem_size = mem0->size;                                                 \
    } while (0)

static sl_memory no_memory;

/* -DSL_PROFILE_OPS (with -DSL_DISPATCH_SWITCH) counts executed operations and
 * pairs of consecutive operations, printed at exit: the data behind fused
 * instructions. Handler bodies are unchanged. */
#ifdef SL_PROFILE_OPS
#include <stdio.h>
static uint64_t profile_ops[SL_IOP_COUNT_], profile_pairs[SL_IOP_COUNT_][SL_IOP_COUNT_];
static _Thread_local sl_iop profile_prev;
#define SL_N6_(id) #id, #id "__1", #id "__2", #id "__3", #id "__4", #id "__5",
static const char *const profile_names[] = {
#define SL_N_(code, id, ...) SL_N6_(id)
#define SL_UNOP SL_N_
#define SL_BINOP SL_N_
#define SL_LOAD SL_N_
#define SL_STORE SL_N_
#include "sl_ops.def"
#undef SL_N_
#define SL_N_(code, id, ...) SL_N6_(id##_add)
#define SL_LOAD SL_N_
#define SL_STORE SL_N_
#include "sl_ops.def"
#undef SL_N_
#define SL_N_(name, op, type, inv) SL_N6_(br_##name) SL_N6_(br_##name##_back)
    SL_CMP_BRANCHES(SL_N_)
#undef SL_N_
#define SL_N_(id) SL_N6_(id)
    SL_IOPS_FORWARDING(SL_N_)
#undef SL_N_
#define SL_N_(id, n) #id,
    SL_IOPS_SPECIAL(SL_N_)
#undef SL_N_
};
static void
profile_dump(void)
{
    uint64_t total = 0;
    for (int i = 0; i < SL_IOP_COUNT_; i++)
        total += profile_ops[i];
    fprintf(stderr, "ops executed: %llu\n", (unsigned long long)total);
    for (int n = 0; n < 40; n++) { /* top pairs, selection by repeated max */
        uint64_t best = 0;
        int bi = 0, bj = 0;
        for (int i = 0; i < SL_IOP_COUNT_; i++)
            for (int j = 0; j < SL_IOP_COUNT_; j++)
                if (profile_pairs[i][j] > best)
                    best = profile_pairs[i][j], bi = i, bj = j;
        if (!best)
            break;
        fprintf(stderr, "%6.2f%% %s -> %s\n", 100.0 * (double)best / (double)total,
                profile_names[bi], profile_names[bj]);
        profile_pairs[bi][bj] = 0;
    }
}
#define SL_PROFILE_COUNT(op)                                                   \
    do {                                                                       \
        static int registered_;                                                \
        if (!registered_++)                                                    \
            atexit(profile_dump);                                              \
        profile_ops[op]++;                                                     \
        profile_pairs[profile_prev][op]++;                                     \
        profile_prev = (op);                                                   \
    } while (0)
#else
#define SL_PROFILE_COUNT(op) ((void)0)
#endif
#ifndef SL_DISPATCH_SWITCH
static const void *handler_table[SL_IOP_COUNT_];
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static void run_init(void);
#endif

sl_cell
sl__interp_op_cell(sl_iop op)
{
    sl_cell c;
#ifdef SL_DISPATCH_SWITCH
    c.u64 = (uint64_t)op;
#else
    pthread_once(&handler_once, run_init);
    c.handler = handler_table[op];
#endif
    return c;
}

/* Bounds check for bulk operations: [a, a+n) within size. */
static inline bool
out_of_bounds(uint64_t a, uint64_t n, uint64_t size)
{
    return a + n > size;
}

/* The frame set-up loops copy a few slots; compilers like to turn them into
 * calls to memset/memcpy, which cost more than the loop at these sizes.
 * clang: this attribute; gcc: -fno-tree-loop-distribute-patterns on this
 * file (Makefile), since gcc's optimize attribute resets other options. */
#if defined(__clang__)
#define SL_NO_LIBCALLS __attribute__((no_builtin("memset", "memcpy")))
#else
#define SL_NO_LIBCALLS
#endif

SL_NO_LIBCALLS sl_trap *
sl__interp_run(sl__exec *ex, sl_func *f, sl_val *fp, const sl_val *stack_end, uint32_t max_depth)
{
#ifndef SL_DISPATCH_SWITCH
    if (f == NULL) { /* fill the handler table (run_init) */
        for (int i = 0; i < SL_IOP_COUNT_; i++) /* variants no family uses */
            handler_table[i] = &&L_bad_variant;
#define SL_FWD_TABLE
#include "sl_interp_fwd.inc"
#undef SL_FWD_TABLE
#define SL_H_(id, n) handler_table[SL_IOP_##id] = &&L_##id;
        SL_IOPS_SPECIAL(SL_H_)
#undef SL_H_
        return NULL;
    }
#endif
    const uint32_t base = ex->depth + 1;
    sl__frame *const frames = ex->frames;
    atomic_int *const interrupt = ex->interrupt;
    sl_instance *inst = f->inst;
    const sl_code *code;
    const sl_cell *pc, *ret_pc = NULL;
    sl_memory *mem0;
    uint8_t *mem;
    uint64_t mem_size;
    sl_trap_kind trap_kind = SL_TRAP_NONE;
    sl_trap *trap = NULL;
    sl_func *callee = f;
    const sl_code *ccode; /* the callee's code, while entering it */
    sl_val *newfp = fp;
    uint64_t acc = 0; /* the accumulators of the forwarding variants */
    float facc32 = 0;
    double facc64 = 0;
    (void)mem_size;

    RELOAD_MEM();
    pc = NULL;
    ccode = f->code;
    goto enter;

#ifdef SL_DISPATCH_SWITCH
dispatch:
    SL_PROFILE_COUNT((sl_iop)pc->u64);
    switch ((sl_iop)pc->u64) {
#endif

    /* ---- forwarding families: numeric, loads, stores, branches, move ---- */
#include "sl_interp_fwd.inc"

    /* ---- data movement and control ---- */
    CASE(move2)
    {
        fp[OP(1)] = fp[OP(0)];
        fp[OP(3)] = fp[OP(2)];
        NEXT(3);
    }
    CASE(br)
    {
        pc += (int32_t)OP(0);
        NEXT(0);
    }
    CASE(br_table)
    {
        uint32_t i = GET_I32(OP(0)), n = OP(1);
        POLL_INTERRUPT(); /* a br_table may target a loop header */
        pc += (int32_t)OP(2 + (i < n ? i : n));
        NEXT(0);
    }
    CASE(br_back)
    {
        POLL_INTERRUPT();
        pc += (int32_t)OP(0);
        NEXT(0);
    }
    CASE(unreachable)
    {
        TRAP(SL_TRAP_UNREACHABLE);
    }
#ifndef SL_DISPATCH_SWITCH
L_bad_variant: /* never emitted by the lowerer */
    TRAP(SL_TRAP_UNREACHABLE);
#endif
    CASE(select)
    {
        fp[OP(3)] = fp[OP(0)].i32 ? fp[OP(1)] : fp[OP(2)];
        NEXT(3);
    }
    CASE(global_get)
    {
        fp[OP(0)] = inst->globals[OP(1)]->val;
        NEXT(2);
    }
    CASE(global_set)
    {
        inst->globals[OP(0)]->val = fp[OP(1)];
        NEXT(2);
    }

    /* ---- calls ---- */
    CASE(call)
    {
        callee = inst->funcs[OP(0)];
        newfp = fp + OP(1);
        ret_pc = pc + 2;
        goto call;
    }
    CASE(call_direct)
    {
        /* A function of this module: its code's address is in the
         * instruction, and it runs in the same instance. */
        ccode = (const sl_code *)(uintptr_t)(OP(0) | (uint64_t)OP(1) << 32);
        callee = inst->own_funcs + OP(3);
        newfp = fp + OP(2);
        ret_pc = pc + 3;
        POLL_INTERRUPT();
        goto enter;
    }
    CASE(call_indirect)
    {
        sl_table *t = inst->tables[OP(3)];
        uint32_t i = GET_I32(OP(2));
        const sl_functype *want = &inst->module->types[OP(0)];
        if (i >= t->size)
            TRAP(SL_TRAP_UNDEFINED_ELEMENT);
        callee = (sl_func *)t->elems[i].ref;
        if (!callee)
            TRAP(SL_TRAP_UNINITIALIZED_ELEMENT);
        if (callee->type != want && !sl__functype_equal(callee->type, want))
            TRAP(SL_TRAP_INDIRECT_TYPE);
        newfp = fp + OP(1);
        ret_pc = pc + 3;
        goto call;
    }
    CASE(return)
    {
        uint32_t d = ex->depth;
        sl_func *caller;
        if (d == base)
            goto done;
        pc = frames[d].ret_pc;
        ex->depth = --d;
        fp = frames[d].fp;
        caller = frames[d].func;
        code = caller->code;
        if (caller->inst != inst) {
            inst = caller->inst;
            RELOAD_MEM();
        } else {
            RELOAD_AFTER_CALL();
        }
        NEXT(0);
    }

    /* ---- memory ---- */
    CASE(memory_size)
    {
        SET_I32(OP(0), mem0->pages);
        NEXT(2);
    }
    CASE(memory_grow)
    {
        int64_t old = inst->mem0 ? sl_memory_grow(inst->mem0, GET_I32(OP(0))) : -1;
        SET_I32(OP(1), (uint32_t)old);
        RELOAD_MEM();
        NEXT(2);
    }
    CASE(memory_init)
    {
        const sl_data *seg = &inst->module->datas[OP(3)];
        uint64_t d = GET_I32(OP(0)), s = GET_I32(OP(1)), n = GET_I32(OP(2));
        uint64_t len = inst->data_dropped[OP(3)] ? 0 : seg->len;
        if (out_of_bounds(s, n, len) || out_of_bounds(d, n, mem0->size))
            TRAP(SL_TRAP_MEMORY_OOB);
        if (n)
            memcpy(mem + d, seg->bytes + s, n);
        NEXT(3);
    }
    CASE(data_drop)
    {
        inst->data_dropped[OP(0)] = true;
        NEXT(2);
    }
    CASE(memory_copy)
    {
        uint64_t d = GET_I32(OP(0)), s = GET_I32(OP(1)), n = GET_I32(OP(2));
        if (out_of_bounds(s, n, mem0->size) || out_of_bounds(d, n, mem0->size))
            TRAP(SL_TRAP_MEMORY_OOB);
        memmove(mem + d, mem + s, n);
        NEXT(3);
    }
    CASE(memory_fill)
    {
        uint64_t d = GET_I32(OP(0)), n = GET_I32(OP(2));
        if (out_of_bounds(d, n, mem0->size))
            TRAP(SL_TRAP_MEMORY_OOB);
        memset(mem + d, (int)(uint8_t)GET_I32(OP(1)), n);
        NEXT(3);
    }

    /* ---- tables and references ---- */
    CASE(table_get)
    {
        sl_table *t = inst->tables[OP(2)];
        uint32_t i = GET_I32(OP(0));
        if (i >= t->size)
            TRAP(SL_TRAP_TABLE_OOB);
        fp[OP(1)] = t->elems[i];
        NEXT(3);
    }
    CASE(table_set)
    {
        sl_table *t = inst->tables[OP(2)];
        uint32_t i = GET_I32(OP(0));
        if (i >= t->size)
            TRAP(SL_TRAP_TABLE_OOB);
        t->elems[i] = fp[OP(1)];
        NEXT(3);
    }
    CASE(table_size)
    {
        SET_I32(OP(0), inst->tables[OP(1)]->size);
        NEXT(2);
    }
    CASE(table_grow)
    {
        sl_table *t = inst->tables[OP(3)];
        int64_t old = sl__table_grow(t, GET_I32(OP(1)), fp[OP(0)], inst->limits.max_table_elems);
        SET_I32(OP(2), (uint32_t)old);
        NEXT(3);
    }
    CASE(table_fill)
    {
        sl_table *t = inst->tables[OP(3)];
        uint64_t i = GET_I32(OP(0)), n = GET_I32(OP(2));
        sl_val v = fp[OP(1)];
        if (out_of_bounds(i, n, t->size))
            TRAP(SL_TRAP_TABLE_OOB);
        for (uint64_t k = 0; k < n; k++)
            t->elems[i + k] = v;
        NEXT(3);
    }
    CASE(table_copy)
    {
        sl_table *dt = inst->tables[OP(3)], *st = inst->tables[OP(4)];
        uint64_t d = GET_I32(OP(0)), s = GET_I32(OP(1)), n = GET_I32(OP(2));
        if (out_of_bounds(s, n, st->size) || out_of_bounds(d, n, dt->size))
            TRAP(SL_TRAP_TABLE_OOB);
        memmove(dt->elems + d, st->elems + s, n * sizeof(sl_val));
        NEXT(4);
    }
    CASE(table_init)
    {
        sl_table *t = inst->tables[OP(3)];
        uint32_t seg = OP(4);
        uint64_t d = GET_I32(OP(0)), s = GET_I32(OP(1)), n = GET_I32(OP(2));
        uint64_t len = inst->elem_values[seg] ? inst->elem_sizes[seg] : 0;
        if (out_of_bounds(s, n, len) || out_of_bounds(d, n, t->size))
            TRAP(SL_TRAP_TABLE_OOB);
        if (n)
            memcpy(t->elems + d, inst->elem_values[seg] + s, n * sizeof(sl_val));
        NEXT(4);
    }
    CASE(elem_drop)
    {
        inst->elem_sizes[OP(0)] = 0;
        NEXT(2);
    }
    CASE(ref_is_null)
    {
        SET_I32(OP(1), fp[OP(0)].ref == NULL);
        NEXT(2);
    }
    CASE(ref_func)
    {
        fp[OP(0)].ref = inst->funcs[OP(1)];
        NEXT(2);
    }

#ifdef SL_DISPATCH_SWITCH
    default:
        TRAP(SL_TRAP_UNREACHABLE);
    }
#endif

call:
    POLL_INTERRUPT();
    if (callee->host) {
        ex->top = fp + code->frame_slots;
        trap = callee->host(inst, newfp, callee->user);
        if (trap)
            goto unwind;
        RELOAD_MEM();
        pc = ret_pc;
        NEXT(0);
    }
    if (callee->nat.native) { /* compiled code of another instance */
        ex->top = fp + code->frame_slots;
        trap = sl__invoke(callee, newfp);
        if (trap)
            goto unwind;
        RELOAD_MEM();
        pc = ret_pc;
        NEXT(0);
    }
    ccode = callee->code;
enter:
    if (ex->depth + 1 >= max_depth || newfp + ccode->frame_slots > stack_end)
        TRAP(SL_TRAP_STACK_EXHAUSTED);
    {
        uint32_t d = ++ex->depth;
        frames[d].ret_pc = ret_pc;
        frames[d].fp = newfp;
        frames[d].func = callee;
    }
    fp = newfp;
    code = ccode;
    /* Zeroed locals and the constants, one image: usually a handful of
     * slots, so a plain loop beats a call to memcpy here. */
    {
        sl_val *dst = fp + code->n_param_slots;
        const uint64_t *src = code->consts;
        for (uint32_t i = 0, n = code->n_init; i < n; i++)
            dst[i].bits = src[i];
    }
    if (callee->inst != inst) {
        inst = callee->inst;
        RELOAD_MEM();
    }
    pc = code->cells;
    NEXT(0);

done:
    ex->depth = base - 1;
    return NULL;

trap:
    trap = sl_trap_new(trap_kind, NULL);
    if (trap_kind == SL_TRAP_INTERRUPTED)
        atomic_store(interrupt, 0);
unwind:
    if (trap)
        sl__exec_backtrace(ex, trap, base);
    ex->depth = base - 1;
    return trap;
}

#ifndef SL_DISPATCH_SWITCH
static void
run_init(void)
{
    sl__exec ex = {0};
    sl__interp_run(&ex, NULL, NULL, NULL, 0);
}
#endif
