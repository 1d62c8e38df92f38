/*
 * sl_lower.h — the internal code format shared by the lowerer (sl_lower.c)
 * and the interpreter (sl_interp.c).
 *
 * An instruction is one handler cell followed by 32-bit operands packed two
 * per cell: operand k lives in ((uint32_t *)(pc + 1))[k], and an instruction
 * with n operands takes 1 + (n + 1) / 2 cells. Operands are frame-slot
 * indices (fp[slot]), immediates, or branch offsets in cells relative to the
 * first cell of the branching instruction.
 *
 * Frame layout of a function, in slots of 8 bytes:
 *     [0, P)            parameters (the caller wrote them there)
 *     [P, L)            declared locals, zeroed at entry
 *     [L, S)            padding so that S >= number of result slots
 *     [S, S + C)        constants, copied from code->consts at entry
 *     [S + C, ...)      operand stack; a call's arguments are at its top and
 *                       become the callee's frame, results come back in place
 * Results are returned in [0, R). No Wasm byte is decoded at run time.
 *
 * Internal operations: every numeric, load and store opcode of sl_ops.def is
 * its own operation; the rest are listed in SL_IOPS_SPECIAL with their
 * operands (d = destination slot, s/a/b = source slots).
 */
#ifndef SL_LOWER_H
#define SL_LOWER_H

#include "sl_module.h"

#define SL_IOPS_SPECIAL(X)                                                     \
    X(move, 2)          /* s, d */                                             \
    X(br, 1)            /* off */                                              \
    X(br_if, 2)         /* cond, off: jump when cond != 0 */                   \
    X(br_unless, 2)     /* cond, off: jump when cond == 0 */                   \
    X(br_table, 2)      /* idx, n, then n+1 offsets (last = default) */        \
    X(loop_check, 0)    /* loop header: interrupt check */                     \
    X(call, 2)          /* func, arg_base */                                   \
    X(call_indirect, 4) /* type, arg_base, elem slot, table */                 \
    X(return, 0)                                                               \
    X(unreachable, 0)                                                          \
    X(select, 4)        /* cond, a, b, d */                                    \
    X(global_get, 2)    /* d, idx */                                           \
    X(global_set, 2)    /* idx, s */                                           \
    X(memory_size, 1)   /* d */                                                \
    X(memory_grow, 2)   /* delta, d */                                         \
    X(memory_init, 4)   /* dst, src, n, seg */                                 \
    X(data_drop, 1)     /* seg */                                              \
    X(memory_copy, 3)   /* dst, src, n */                                      \
    X(memory_fill, 3)   /* dst, val, n */                                      \
    X(table_get, 3)     /* idx, d, table */                                    \
    X(table_set, 3)     /* idx, val, table */                                  \
    X(table_size, 2)    /* d, table */                                         \
    X(table_grow, 4)    /* init, n, d, table */                                \
    X(table_fill, 4)    /* i, val, n, table */                                 \
    X(table_copy, 5)    /* dst, src, n, dst table, src table */                \
    X(table_init, 5)    /* dst, src, n, table, seg */                          \
    X(elem_drop, 1)     /* seg */                                              \
    X(ref_is_null, 2)   /* s, d */                                             \
    X(ref_func, 2)      /* d, func */

typedef enum sl_iop {
#define SL_IOP_NUM_(code, id, ...) SL_IOP_##id,
#define SL_UNOP SL_IOP_NUM_
#define SL_BINOP SL_IOP_NUM_
#define SL_LOAD SL_IOP_NUM_
#define SL_STORE SL_IOP_NUM_
#include "sl_ops.def"
#undef SL_IOP_NUM_
#define SL_IOP_SPECIAL_(id, n) SL_IOP_##id,
    SL_IOPS_SPECIAL(SL_IOP_SPECIAL_)
#undef SL_IOP_SPECIAL_
    SL_IOP_COUNT_
} sl_iop;

/* Operands: loads are (addr, d, offset), stores (addr, val, offset), unary
 * ops (a, d), binary ops (a, b, d). */
#define SL_NOPS_LOAD 3
#define SL_NOPS_STORE 3
#define SL_NOPS_UNOP 2
#define SL_NOPS_BINOP 3

static inline uint32_t
sl__instr_cells(uint32_t n_operands)
{
    return 1 + (n_operands + 1) / 2;
}

/* The cell that starts an instruction of operation op: a handler address
 * (threaded build) or the op number (switch build). From sl_interp.c. */
sl_cell sl__interp_op_cell(sl_iop op);

#endif /* SL_LOWER_H */
