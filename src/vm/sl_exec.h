/*
 * sl_exec.h — per-thread execution state shared by sl_exec.c (entry,
 * stacks, signals, backtraces) and sl_interp.c (the dispatch loop).
 *
 * Layer:   engine (src/vm), internal.
 * Threads: one sl__exec per thread, created on the thread's first call into
 *          wasm and reused by every later (and nested) call on that thread.
 */
#ifndef SL_EXEC_H
#define SL_EXEC_H

#include "sl_runtime.h"

#include <setjmp.h>
#include <signal.h>

/* frames[d] is the function active at depth d (1-based; 0 = none). */
typedef struct sl__frame {
    const sl_cell *ret_pc; /* where the caller continues */
    sl_val *fp;
    sl_func *func;
} sl__frame;

typedef struct sl__exec {
    sl_val *stack;         /* value stack: frames of all active calls */
    size_t n_slots;
    sl__frame *frames;
    uint32_t n_frames;     /* capacity */
    uint32_t depth;        /* innermost active frame */
    sl_val *top;           /* first free slot while a host function runs */
    sigjmp_buf *jmp;       /* innermost armed jump buffer (guard-page traps) */
    atomic_int *interrupt; /* flag of the instance called at top level */
    sl_trap *raised;       /* native code: the trap sl__exec_raise carries */
    void *fault_pc;        /* native code: the instruction of a guard-page fault */
} sl__exec;

/* Runs f, whose frame (arguments in place) starts at fp, at depth
 * ex->depth + 1, until it returns; results end in fp[0..). Returns NULL or
 * an owned trap with a backtrace; ex->depth is restored either way. */
sl_trap *sl__interp_run(sl__exec *ex, sl_func *f, sl_val *fp, const sl_val *stack_end,
                        uint32_t max_depth);

/* Appends the frames [lowest, ex->depth] (innermost first) to t. */
void sl__exec_backtrace(sl__exec *ex, sl_trap *t, uint32_t lowest);

#endif /* SL_EXEC_H */
