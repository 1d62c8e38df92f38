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
 *     [S, S + C)        constants; [P, S + C) is copied at entry from one
 *                       image (code->consts: zeros, then the constants)
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
    X(br, 1)            /* off */                                              \
    X(move2, 4)         /* s1, d1, s2, d2: two moves in one dispatch */        \
    X(br_table, 2)      /* idx, n, then n+1 offsets (last = default) */        \
    X(br_back, 1)       /* br to a loop header: polls the interrupt flag */    \
    X(call, 2)          /* func, arg_base: an imported function */             \
    X(call_direct, 4)   /* code address (2 operands), arg_base, defined index */ \
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

/* Fused i32 compare + conditional branch: (a, b, off), jump when a OP b.
 * `_back` variants target a loop header and poll the interrupt flag. Each
 * row: name, C operator, C type, name of the inverse comparison. */
#define SL_CMP_BRANCHES(X)                                                     \
    X(eq, ==, uint32_t, ne)                                                    \
    X(ne, !=, uint32_t, eq)                                                    \
    X(lt_s, <, int32_t, ge_s)                                                  \
    X(lt_u, <, uint32_t, ge_u)                                                 \
    X(gt_s, >, int32_t, le_s)                                                  \
    X(gt_u, >, uint32_t, le_u)                                                 \
    X(le_s, <=, int32_t, gt_s)                                                 \
    X(le_u, <=, uint32_t, gt_u)                                                \
    X(ge_s, >=, int32_t, lt_s)                                                 \
    X(ge_u, >=, uint32_t, lt_u)

/* Forwarding families. The value an instruction computes is usually
 * consumed by the very next one; then the producer writes it to a register
 * (the accumulator) instead of its slot and the consumer reads it from
 * there. Every operation of a family therefore exists in six variants with
 * the same operand layout, numbered consecutively:
 *     v0 all operands in slots        v3 destination = accumulator
 *     v1 source 0 = accumulator       v4 source 0 and destination
 *     v2 source 1 = accumulator       v5 source 1 and destination
 * Only integer (i32/i64) values travel through the accumulator; variants a
 * family cannot use (a float source, a store's destination) stay unused.
 * Families beyond sl_ops.def's numeric, load and store operations: */
#define SL_IOPS_FORWARDING(X)                                                  \
    X(move)           /* s, d */                                               \
    X(br_if)          /* cond, off: jump when cond != 0 */                     \
    X(br_unless)      /* cond, off: jump when cond == 0 */                     \
    X(br_if_back)     /* the same, to a loop header: polls interrupts */       \
    X(br_unless_back)

#define SL_V6_(id)                                                             \
    SL_IOP_##id, SL_IOP_##id##__1, SL_IOP_##id##__2, SL_IOP_##id##__3,         \
        SL_IOP_##id##__4, SL_IOP_##id##__5,

typedef enum sl_iop {
#define SL_IOP_NUM_(code, id, ...) SL_V6_(id)
#define SL_UNOP SL_IOP_NUM_
#define SL_BINOP SL_IOP_NUM_
#define SL_LOAD SL_IOP_NUM_
#define SL_STORE SL_IOP_NUM_
#include "sl_ops.def"
#undef SL_IOP_NUM_
    /* Loads and stores whose address is an i32.add of two operands:
     * (a, b, d, offset) and (a, b, val, offset). */
#define SL_IOP_MEMADD_(code, id, ...) SL_V6_(id##_add)
#define SL_LOAD SL_IOP_MEMADD_
#define SL_STORE SL_IOP_MEMADD_
#include "sl_ops.def"
#undef SL_IOP_MEMADD_
#define SL_IOP_CMPBR_(name, op, type, inv) SL_V6_(br_##name) SL_V6_(br_##name##_back)
    SL_CMP_BRANCHES(SL_IOP_CMPBR_)
#undef SL_IOP_CMPBR_
#define SL_IOP_FWD_(id) SL_V6_(id)
    SL_IOPS_FORWARDING(SL_IOP_FWD_)
#undef SL_IOP_FWD_
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
