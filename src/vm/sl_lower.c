/*
 * sl_lower.c — validates one function body and lowers it, in the same pass,
 * into the slot-based internal code of sl_lower.h.
 *
 * Layer:     engine (src/vm). Called by the decoder (sl__lower_funcs) once per
 *            defined function after every section decoded; reads the module
 *            read-only except for that function's sl_code.
 * Algorithm: the validation algorithm of the spec's appendix (operand and
 *            control stacks, polymorphic stack after unconditional
 *            branches), extended so that each operand-stack entry also knows
 *            where its value lives: its own canonical stack slot, a local's
 *            slot (local.get is not copied until needed) or a constant-pool
 *            slot. Instructions read their operands from wherever the
 *            values live and write results to the canonical slot; a
 *            local.set right after an operation retargets that operation's
 *            destination to the local. Stack and constant slots are only
 *            known at the end (the constant pool sits below the operand
 *            stack), so their operands are tagged and relocated then.
 * Invariants: values that cross a block boundary live in canonical slots;
 *            a block/loop/if entry copies any pending local references,
 *            since the body may overwrite the local before a branch.
 * Ownership: the code and constant arrays are malloc'd into the function's
 *            sl_code (freed by sl__module_clear); scratch is freed here.
 * Not here:  section structure and module-level rules (sl_decode.c);
 *            execution (sl_interp.c).
 */
#include "sl_lower.h"
#include "ut_leb128.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* For every operation of a forwarding family (sl_lower.h): its variant, how
 * many leading sources may come from the accumulator, and whether it has a
 * destination that may go there. Zero for every other operation. */
typedef struct fwd_info {
    uint8_t variant, n_srcs, has_dst;
} fwd_info;

#define FWD6_(id, ns, hd)                                                      \
    [SL_IOP_##id] = {0, ns, hd}, [SL_IOP_##id##__1] = {1, ns, hd},             \
    [SL_IOP_##id##__2] = {2, ns, hd}, [SL_IOP_##id##__3] = {3, ns, hd},        \
    [SL_IOP_##id##__4] = {4, ns, hd}, [SL_IOP_##id##__5] = {5, ns, hd},

static const fwd_info fwd_table[SL_IOP_COUNT_] = {
#define SL_UNOP(c, id, ...) FWD6_(id, 1, 1)
#define SL_BINOP(c, id, ...) FWD6_(id, 2, 1)
#define SL_LOAD(c, id, ...) FWD6_(id, 1, 1) FWD6_(id##_add, 2, 1)
#define SL_STORE(c, id, ...) FWD6_(id, 2, 0) FWD6_(id##_add, 2, 0)
#include "sl_ops.def"
#define SL_FWD_CMPBR_(name, op, type, inv) FWD6_(br_##name, 2, 0) FWD6_(br_##name##_back, 2, 0)
    SL_CMP_BRANCHES(SL_FWD_CMPBR_)
#undef SL_FWD_CMPBR_
#define SL_FWD_OTHER_(id) FWD6_(id, 1, 0)
    SL_IOPS_FORWARDING(SL_FWD_OTHER_)
#undef SL_FWD_OTHER_
};
#undef FWD6_

#define TAG_STACK 0x80000000u
#define TAG_CONST 0x40000000u
#define SLOT_MASK 0x3FFFFFFFu
#define T_UNKNOWN 0 /* the bottom type of an unreachable stack */

enum { K_BLOCK, K_LOOP, K_IF, K_ELSE, K_FUNC };

typedef struct ventry {
    uint8_t type;
    uint32_t slot;  /* where the value is: local slot, or tagged */
    uint32_t canon; /* its canonical operand-stack slot (untagged index) */
} ventry;

typedef struct ctrl {
    uint8_t kind;
    bool unreachable;
    uint8_t single;           /* storage for a one-result block type */
    const uint8_t *params, *results;
    uint32_t n_params, n_results;
    uint32_t height;          /* operand-stack entries below the params */
    uint32_t loop_pc;         /* K_LOOP: branch target */
    int32_t fixups;           /* forward branches to patch at end, or -1 */
    int32_t else_fixup;       /* K_IF: the jump to the else arm, or -1 */
} ctrl;

typedef struct fixup {
    uint32_t instr, pos; /* instruction start cell, operand index in u32s */
    int32_t next;
} fixup;

typedef struct lower {
    sl_module *m;
    const uint8_t *p, *end, *base; /* base = start of the module bytes */
    sl_diag *diag;
    sl_err err;

    const sl_functype *ft;
    uint32_t n_locals;     /* params + declared */
    uint8_t *local_types;
    uint32_t *local_slot;  /* slot of each local */
    uint32_t cap_local_types, cap_local_slot;
    uint32_t n_local_slots;

    ventry *vs;
    uint32_t n_vs, cap_vs;
    ctrl *cs;
    uint32_t n_cs, cap_cs;
    uint32_t max_stack; /* slots */

    sl_cell *code;
    uint32_t n_code, cap_code;
    uint32_t last_dst;  /* u32 index of the last instruction's destination, or 0 */
    uint32_t last_instr; /* first cell of the last instruction emitted */
    sl_iop last_op;      /* and its operation */
    uint32_t label_pos;  /* code position of the latest branch target */
    uint32_t *relocs;
    uint32_t n_relocs, cap_relocs;
    fixup *fixups;
    uint32_t n_fixups, cap_fixups;
    uint64_t *consts;
    uint32_t n_consts, cap_consts;
    uint32_t const_cache[256]; /* hash of a constant's bits -> its index */
} lower;

/* ---- errors and bytes ----------------------------------------------------- */

#define FAIL(L, e, ...) return fail_at((L), (e), __VA_ARGS__)
#define TRY(x)                                                                  \
    do {                                                                        \
        if (!(x))                                                               \
            return false;                                                       \
    } while (0)

static bool
fail_at(lower *L, sl_err e, const char *msg, ...)
{
    if (L->err == SL_OK) {
        char buf[200];
        va_list ap;
        va_start(ap, msg);
        vsnprintf(buf, sizeof buf, msg, ap);
        va_end(ap);
        L->err = e;
        sl__diag(L->diag, e, (size_t)(L->p - L->base), "%s", buf);
    }
    return false;
}

static bool
oom(lower *L)
{
    return fail_at(L, SL_ERR_NOMEM, "out of memory");
}

static bool
read_u8(lower *L, uint8_t *out)
{
    if (L->p >= L->end)
        FAIL(L, SL_ERR_MALFORMED, "unexpected end");
    *out = *L->p++;
    return true;
}

/* Reads a LEB128 of at most `bits` bits; signed when is_signed. */
static bool
read_leb(lower *L, unsigned bits, bool is_signed, uint64_t *out)
{
    if (L->p < L->end && !(*L->p & 0x80)) { /* one byte: most immediates */
        uint64_t v = *L->p++;
        *out = is_signed && (v & 0x40) ? v | ~0x7Full : v;
        return true;
    }
    size_t pos = (size_t)(L->p - L->base), len = (size_t)(L->end - L->base);
    ut_leb_err e = is_signed ? ut_leb_read_signed(L->base, len, &pos, bits, (int64_t *)out)
                             : ut_leb_read_unsigned(L->base, len, &pos, bits, out);
    L->p = L->base + pos;
    if (e != UT_LEB_OK)
        FAIL(L, SL_ERR_MALFORMED, "%s", ut_leb_err_str(e));
    return true;
}

static bool
read_u32(lower *L, uint32_t *out)
{
    uint64_t v;
    TRY(read_leb(L, 32, false, &v));
    *out = (uint32_t)v;
    return true;
}

static bool
read_zero(lower *L)
{
    uint8_t b = 0;
    TRY(read_u8(L, &b));
    if (b != 0)
        FAIL(L, SL_ERR_MALFORMED, "zero byte expected");
    return true;
}

/* ---- growable arrays ------------------------------------------------------ */

static bool
grow(lower *L, void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    uint32_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > UINT32_MAX / 2)
            return oom(L);
        n *= 2;
    }
    void *p = realloc(*arr, (size_t)n * elem);
    if (!p)
        return oom(L);
    *arr = p;
    *cap = n;
    return true;
}

#define GROW(L, arr, cap, need)                                                \
    ((need) <= (cap) || grow((L), (void **)&(arr), &(cap), (need), sizeof *(arr)))

/* ---- code emission -------------------------------------------------------- */

static bool
reachable(lower *L)
{
    return !L->cs[L->n_cs - 1].unreachable;
}

static uint32_t *
opnds(lower *L, uint32_t instr)
{
    return (uint32_t *)(L->code + instr + 1);
}

/* Appends an instruction; returns its first cell index via *at. */
static bool
emit(lower *L, sl_iop op, uint32_t n_operands, uint32_t *at)
{
    uint32_t n = sl__instr_cells(n_operands);
    TRY(GROW(L, L->code, L->cap_code, L->n_code + n));
    *at = L->n_code;
    L->last_instr = L->n_code;
    L->last_op = op;
    L->code[L->n_code] = sl__interp_op_cell(op);
    memset(L->code + L->n_code + 1, 0, (n - 1) * sizeof(sl_cell));
    L->n_code += n;
    L->last_dst = 0;
    return true;
}

static bool
set_opnd(lower *L, uint32_t instr, uint32_t k, uint32_t v)
{
    opnds(L, instr)[k] = v;
    if (v & (TAG_STACK | TAG_CONST)) {
        TRY(GROW(L, L->relocs, L->cap_relocs, L->n_relocs + 1));
        L->relocs[L->n_relocs++] = (uint32_t)((instr + 1) * 2 + k);
    }
    return true;
}

/* The destination operand k of instr is the canonical slot `canon`; remember
 * it so a following local.set can retarget it. */
static bool
set_dst(lower *L, uint32_t instr, uint32_t k, uint32_t canon)
{
    TRY(set_opnd(L, instr, k, TAG_STACK | canon));
    L->last_dst = (instr + 1) * 2 + k;
    return true;
}

/* Records that code position n_code is a branch target: no peephole may
 * merge an instruction after it with one before it. */
static void
bind_label(lower *L)
{
    L->label_pos = L->n_code;
    L->last_dst = 0;
}

static bool
emit_move(lower *L, uint32_t src, uint32_t dst)
{
    uint32_t at;
    if (src == dst)
        return true;
    /* A move right after a move (no label between): one move2 dispatch. */
    if (L->n_code && L->last_op == SL_IOP_move && L->last_instr + 2 == L->n_code &&
        L->label_pos != L->n_code) {
        at = L->last_instr;
        TRY(GROW(L, L->code, L->cap_code, L->n_code + 1));
        L->code[at] = sl__interp_op_cell(SL_IOP_move2);
        L->code[L->n_code++].u64 = 0;
        L->last_op = SL_IOP_move2;
        L->last_dst = 0;
        TRY(set_opnd(L, at, 2, src));
        return set_opnd(L, at, 3, dst);
    }
    TRY(emit(L, SL_IOP_move, 2, &at));
    TRY(set_opnd(L, at, 0, src));
    return set_opnd(L, at, 1, dst);
}

/* A branch operand to patch when the target is known. */
static bool
add_fixup(lower *L, int32_t *list, uint32_t instr, uint32_t k)
{
    TRY(GROW(L, L->fixups, L->cap_fixups, L->n_fixups + 1));
    L->fixups[L->n_fixups] = (fixup){instr, (instr + 1) * 2 + k, *list};
    *list = (int32_t)L->n_fixups++;
    return true;
}

static void
patch_list(lower *L, int32_t list, uint32_t target)
{
    uint32_t *code32 = (uint32_t *)L->code;
    for (int32_t i = list; i >= 0; i = L->fixups[i].next)
        code32[L->fixups[i].pos] = target - L->fixups[i].instr;
}

/* Interns a constant; a small direct-mapped cache finds repeats. */
static bool
add_const(lower *L, uint64_t bits, uint32_t *slot)
{
    uint32_t h = (uint32_t)((bits * 0x9E3779B97F4A7C15ull) >> 56);
    uint32_t i = L->const_cache[h];
    if (i < L->n_consts && L->consts[i] == bits) {
        *slot = TAG_CONST | i;
        return true;
    }
    if (L->n_consts >= SLOT_MASK)
        FAIL(L, SL_ERR_INVALID, "function too large");
    TRY(GROW(L, L->consts, L->cap_consts, L->n_consts + 1));
    L->consts[L->n_consts] = bits;
    L->const_cache[h] = L->n_consts;
    *slot = TAG_CONST | L->n_consts++;
    return true;
}

/* ---- operand stack -------------------------------------------------------- */

static uint32_t
next_canon(lower *L)
{
    if (L->n_vs == 0)
        return 0;
    ventry *e = &L->vs[L->n_vs - 1];
    return e->canon + sl__slots_of(e->type);
}

static bool
push_at(lower *L, uint8_t type, uint32_t slot)
{
    TRY(GROW(L, L->vs, L->cap_vs, L->n_vs + 1));
    uint32_t canon = next_canon(L);
    if (canon + 2 >= SLOT_MASK)
        FAIL(L, SL_ERR_INVALID, "function too large");
    L->vs[L->n_vs++] = (ventry){type, slot == UINT32_MAX ? (TAG_STACK | canon) : slot, canon};
    if (canon + sl__slots_of(type) > L->max_stack)
        L->max_stack = canon + sl__slots_of(type);
    return true;
}

static bool
push(lower *L, uint8_t type)
{
    return push_at(L, type, UINT32_MAX);
}

static bool
pop_any(lower *L, ventry *out)
{
    ctrl *c = &L->cs[L->n_cs - 1];
    if (L->n_vs == c->height) {
        if (c->unreachable) {
            *out = (ventry){T_UNKNOWN, TAG_STACK | next_canon(L), next_canon(L)};
            return true;
        }
        FAIL(L, SL_ERR_INVALID, "type mismatch");
    }
    *out = L->vs[--L->n_vs];
    return true;
}

static bool
pop_expect(lower *L, uint8_t want, ventry *out)
{
    TRY(pop_any(L, out));
    if (out->type != want && out->type != T_UNKNOWN && want != T_UNKNOWN)
        FAIL(L, SL_ERR_INVALID, "type mismatch");
    return true;
}

/* Copies entry i into its canonical slot if it lives elsewhere. */
static bool
materialize(lower *L, uint32_t i)
{
    ventry *e = &L->vs[i];
    uint32_t canon = TAG_STACK | e->canon;
    if (e->slot == canon)
        return true;
    if (reachable(L))
        TRY(emit_move(L, e->slot, canon));
    L->vs[i].slot = canon;
    return true;
}

/* Copies every pending reference to `local` (all locals if UINT32_MAX). */
static bool
materialize_locals(lower *L, uint32_t local_slot)
{
    for (uint32_t i = 0; i < L->n_vs; i++) {
        uint32_t s = L->vs[i].slot;
        if (!(s & (TAG_STACK | TAG_CONST)) && (local_slot == UINT32_MAX || s == local_slot))
            TRY(materialize(L, i));
    }
    return true;
}

static bool
materialize_top(lower *L, uint32_t n)
{
    for (uint32_t i = L->n_vs - n; i < L->n_vs; i++)
        TRY(materialize(L, i));
    return true;
}

/* Pops the types[0..n) in reverse, checking each. */
static bool
pop_types(lower *L, const uint8_t *types, uint32_t n)
{
    ventry e;
    for (uint32_t i = n; i-- > 0;)
        TRY(pop_expect(L, types[i], &e));
    return true;
}

static bool
push_types(lower *L, const uint8_t *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        TRY(push(L, types[i]));
    return true;
}

/* Checks that the top n entries have these types without popping them
 * (entries below the frame's height count as unknown when unreachable). */
static bool
check_top(lower *L, const uint8_t *types, uint32_t n)
{
    const ctrl *c = &L->cs[L->n_cs - 1];
    for (uint32_t i = 0; i < n; i++) {
        uint8_t want = types[n - 1 - i];
        if (L->n_vs - c->height <= i) {
            if (c->unreachable)
                return true; /* the rest come from the polymorphic bottom */
            FAIL(L, SL_ERR_INVALID, "type mismatch");
        }
        uint8_t have = L->vs[L->n_vs - 1 - i].type;
        if (have != want && have != T_UNKNOWN && want != T_UNKNOWN)
            FAIL(L, SL_ERR_INVALID, "type mismatch");
    }
    return true;
}

/* ---- control stack -------------------------------------------------------- */

static bool
push_ctrl(lower *L, uint8_t kind, const uint8_t *params, uint32_t np, const uint8_t *results,
          uint32_t nr, uint8_t single)
{
    TRY(GROW(L, L->cs, L->cap_cs, L->n_cs + 1));
    ctrl *c = &L->cs[L->n_cs++];
    *c = (ctrl){.kind = kind, .params = params, .n_params = np, .results = results,
                .n_results = nr, .height = L->n_vs, .fixups = -1, .else_fixup = -1,
                .single = single};
    return true;
}

static void
set_unreachable(lower *L)
{
    ctrl *c = &L->cs[L->n_cs - 1];
    L->n_vs = c->height;
    c->unreachable = true;
}

/* A one-value block type is stored in the frame itself, so read it through
 * here: the control stack may move when it grows. */
static const uint8_t *
ctrl_results(const ctrl *c)
{
    return c->results ? c->results : &c->single;
}

static const uint8_t *
label_types(ctrl *c, uint32_t *n)
{
    if (c->kind == K_LOOP) {
        *n = c->n_params;
        return c->params;
    }
    *n = c->n_results;
    return ctrl_results(c);
}

/* Canonical slot of the first value a branch to c carries. */
static uint32_t
label_base(lower *L, ctrl *c)
{
    if (c->height == 0)
        return 0;
    ventry *e = &L->vs[c->height - 1];
    return e->canon + sl__slots_of(e->type);
}

/* Reads a block type into params/results of a new control frame. */
static bool
read_blocktype(lower *L, const uint8_t **params, uint32_t *np, const uint8_t **results,
               uint32_t *nr, uint8_t *single)
{
    if (L->p >= L->end)
        FAIL(L, SL_ERR_MALFORMED, "unexpected end");
    uint8_t b = *L->p;
    *params = *results = NULL;
    *np = *nr = 0;
    if (b == 0x40) {
        L->p++;
        return true;
    }
    if (sl__is_valtype(b)) {
        L->p++;
        *single = b;
        *nr = 1;
        return true;
    }
    uint64_t idx;
    TRY(read_leb(L, 33, true, &idx));
    if ((int64_t)idx < 0)
        FAIL(L, SL_ERR_MALFORMED, "malformed value type");
    if (idx >= L->m->n_types)
        FAIL(L, SL_ERR_INVALID, "unknown type %llu", (unsigned long long)idx);
    const sl_functype *ft = &L->m->types[idx];
    *params = ft->types;
    *np = ft->n_params;
    *results = ft->types + ft->n_params;
    *nr = ft->n_results;
    return true;
}

/* When entry e is the value the last instruction just wrote to its
 * canonical slot, makes that instruction write it to `slot` instead (a
 * local, a result slot, a label's slot) and returns true. The caller must
 * not need e's canonical slot any more. */
static bool
retarget_last(lower *L, const ventry *e, uint32_t slot)
{
    uint32_t *code32 = (uint32_t *)L->code;
    if (!L->last_dst || e->slot != (TAG_STACK | e->canon) || code32[L->last_dst] != e->slot)
        return false;
    code32[L->last_dst] = slot;
    L->last_dst = 0;
    return true;
}

/* Moves the top n values to the slots a branch to c expects. */
static bool
branch_moves(lower *L, ctrl *c, uint32_t n)
{
    uint32_t dst = label_base(L, c);
    for (uint32_t i = L->n_vs - n; i < L->n_vs; i++) {
        TRY(emit_move(L, L->vs[i].slot, TAG_STACK | dst));
        dst += sl__slots_of(L->vs[i].type);
    }
    return true;
}

static bool
branch_needs_moves(lower *L, ctrl *c, uint32_t n)
{
    uint32_t dst = label_base(L, c);
    for (uint32_t i = L->n_vs - n; i < L->n_vs; i++) {
        if (L->vs[i].slot != (TAG_STACK | dst))
            return true;
        dst += sl__slots_of(L->vs[i].type);
    }
    return false;
}

/* Emits the moves of a `return` and the return itself. */
static bool
emit_return(lower *L)
{
    uint32_t nr = L->ft->n_results, at;
    if (nr > 1) /* results overwrite low slots: copy locals out first */
        for (uint32_t i = L->n_vs - nr; i < L->n_vs; i++)
            if (!(L->vs[i].slot & (TAG_STACK | TAG_CONST)))
                TRY(materialize(L, i));
    if (nr == 1 && retarget_last(L, &L->vs[L->n_vs - 1], 0))
        return emit(L, SL_IOP_return, 0, &at);
    uint32_t dst = 0;
    for (uint32_t i = L->n_vs - nr; i < L->n_vs; i++) {
        TRY(emit_move(L, L->vs[i].slot, dst));
        dst += sl__slots_of(L->vs[i].type);
    }
    return emit(L, SL_IOP_return, 0, &at);
}

/* Emits an unconditional jump to the label of control frame c. */
static bool
emit_jump(lower *L, ctrl *c)
{
    uint32_t at;
    if (c->kind == K_FUNC)
        return emit_return(L);
    if (c->kind == K_LOOP) {
        TRY(emit(L, SL_IOP_br_back, 1, &at));
        opnds(L, at)[0] = c->loop_pc - at;
        return true;
    }
    TRY(emit(L, SL_IOP_br, 1, &at));
    return add_fixup(L, &c->fixups, at, 0);
}

static bool
read_label(lower *L, ctrl **out)
{
    uint32_t depth;
    TRY(read_u32(L, &depth));
    if (depth >= L->n_cs)
        FAIL(L, SL_ERR_INVALID, "unknown label");
    *out = &L->cs[L->n_cs - 1 - depth];
    return true;
}

#include "sl_lower_ops.inc"

/* ---- driver ----------------------------------------------------------------- */

static bool
setup_locals(lower *L, const sl_funcdef *fd)
{
    const sl_functype *ft = L->ft;
    uint64_t n = (uint64_t)ft->n_params + fd->n_locals;
    if (n > SLOT_MASK)
        FAIL(L, SL_ERR_LIMIT, "too many locals");
    L->n_locals = (uint32_t)n;
    TRY(GROW(L, L->local_types, L->cap_local_types, L->n_locals + 1));
    TRY(GROW(L, L->local_slot, L->cap_local_slot, L->n_locals + 1));
    memcpy(L->local_types, ft->types, ft->n_params);
    if (fd->n_locals)
        memcpy(L->local_types + ft->n_params, fd->local_types, fd->n_locals);
    uint32_t slot = 0;
    for (uint32_t i = 0; i < n; i++) {
        L->local_slot[i] = slot;
        slot += sl__slots_of(L->local_types[i]);
    }
    L->n_local_slots = slot;
    return true;
}

/* Rewrites tagged operands now that the frame layout is known. */
static void
relocate(lower *L, uint32_t const_base, uint32_t stack_base)
{
    uint32_t *code32 = (uint32_t *)L->code;
    for (uint32_t i = 0; i < L->n_relocs; i++) {
        uint32_t v = code32[L->relocs[i]];
        if (v & TAG_STACK)
            code32[L->relocs[i]] = stack_base + (v & SLOT_MASK);
        else if (v & TAG_CONST)
            code32[L->relocs[i]] = const_base + (v & SLOT_MASK);
    }
}

/* Moves the finished code into exact-size allocations owned by the module;
 * the scratch buffers stay with L for the next function. */
static bool
finish(lower *L, sl_code *code)
{
    uint32_t results = L->ft->n_result_slots;
    uint32_t s = L->n_local_slots > results ? L->n_local_slots : results;
    uint64_t frame = (uint64_t)s + L->n_consts + L->max_stack + 2;
    if (frame > SLOT_MASK)
        FAIL(L, SL_ERR_INVALID, "function too large");
    relocate(L, s, s + L->n_consts);
    /* The frame image: zeros for locals and padding, then the constants. */
    uint32_t n_zero = s - L->ft->n_param_slots, n_init = n_zero + L->n_consts;
    code->cells = malloc((size_t)L->n_code * sizeof *code->cells);
    code->consts = n_init ? calloc(n_init, sizeof *code->consts) : NULL;
    if (!code->cells || (n_init && !code->consts))
        return oom(L); /* sl__module_clear frees whichever succeeded */
    memcpy(code->cells, L->code, (size_t)L->n_code * sizeof *code->cells);
    if (L->n_consts)
        memcpy(code->consts + n_zero, L->consts, (size_t)L->n_consts * sizeof *code->consts);
    code->n_init = n_init;
    code->n_cells = L->n_code;
    code->n_param_slots = L->ft->n_param_slots;
    code->n_local_slots = L->n_local_slots;
    code->const_base = s;
    code->n_consts = L->n_consts;
    code->frame_slots = (uint32_t)frame;
    return true;
}

static bool
lower_body(lower *L)
{
    TRY(push_ctrl(L, K_FUNC, NULL, 0, L->ft->types + L->ft->n_params, L->ft->n_results, 0));
    while (L->n_cs > 0) {
        if (L->p >= L->end)
            FAIL(L, SL_ERR_MALFORMED, "unexpected end of section or function");
        TRY(lower_instr(L));
    }
    if (L->p != L->end)
        FAIL(L, SL_ERR_MALFORMED, "section size mismatch");
    return true;
}

/* Clears the per-function state of L, keeping its scratch buffers. */
static void
reset(lower *L, const sl_funcdef *fd)
{
    L->p = L->base + fd->body_offset;
    L->end = L->p + fd->body_len;
    L->ft = &L->m->types[fd->type_index];
    L->n_vs = L->n_cs = L->max_stack = 0;
    L->n_code = L->n_relocs = L->n_fixups = L->n_consts = 0;
    L->last_dst = L->last_instr = L->label_pos = 0;
    L->last_op = (sl_iop)0;
}

/* Lowers defined functions [first, last) with one scratch state. */
static sl_err
lower_range(sl_module *m, const uint8_t *bytes, uint32_t first, uint32_t last, sl_diag *diag)
{
    lower L = {.m = m, .base = bytes, .diag = diag};
    for (uint32_t i = first; i < last && L.err == SL_OK; i++) {
        sl_funcdef *fd = &m->funcs[i];
        reset(&L, fd);
        if (!(setup_locals(&L, fd) && lower_body(&L) && finish(&L, &fd->code))) {
            if (L.err == SL_OK)
                fail_at(&L, SL_ERR_INVALID, "invalid function body");
            if (diag)
                diag->func = m->n_func_imports + i;
        }
    }
    free(L.local_types);
    free(L.local_slot);
    free(L.vs);
    free(L.cs);
    free(L.code);
    free(L.relocs);
    free(L.fixups);
    free(L.consts);
    return L.err;
}

/* Large modules are lowered by several threads, each over a contiguous
 * range of functions (balanced by body size); the error reported is the one
 * of the lowest failing function, as in a sequential run. */
#define PARALLEL_MIN_BYTES (256u * 1024u)
#define MAX_LOWER_THREADS 4

typedef struct lower_job {
    sl_module *m;
    const uint8_t *bytes;
    uint32_t first, last;
    sl_diag diag;
    sl_err err;
} lower_job;

static void *
lower_job_run(void *arg)
{
    lower_job *j = arg;
    j->diag.err = SL_OK;
    j->err = lower_range(j->m, j->bytes, j->first, j->last, &j->diag);
    return NULL;
}

static uint32_t
lower_thread_count(const sl_module *m, uint32_t n_defined, uint64_t *total)
{
    *total = 0;
    for (uint32_t i = 0; i < n_defined; i++)
        *total += m->funcs[i].body_len;
    if (*total < PARALLEL_MIN_BYTES || n_defined < 2)
        return 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 2)
        return 1;
    return cpus < MAX_LOWER_THREADS ? (uint32_t)cpus : MAX_LOWER_THREADS;
}

sl_err
sl__lower_funcs(sl_module *m, const uint8_t *bytes, sl_diag *diag)
{
    uint32_t n_defined = m->n_funcs - m->n_func_imports;
    uint64_t total;
    uint32_t n_threads = lower_thread_count(m, n_defined, &total);
    if (n_threads == 1)
        return lower_range(m, bytes, 0, n_defined, diag);

    lower_job jobs[MAX_LOWER_THREADS];
    pthread_t tids[MAX_LOWER_THREADS];
    bool started[MAX_LOWER_THREADS] = {false};
    uint32_t next = 0;
    uint64_t done = 0;
    for (uint32_t t = 0; t < n_threads; t++) {
        uint64_t target = total * (t + 1) / n_threads;
        uint32_t first = next;
        while (next < n_defined && (t == n_threads - 1 || done < target))
            done += m->funcs[next++].body_len;
        jobs[t] = (lower_job){.m = m, .bytes = bytes, .first = first, .last = next};
        started[t] = t > 0 && pthread_create(&tids[t], NULL, lower_job_run, &jobs[t]) == 0;
    }
    for (uint32_t t = 0; t < n_threads; t++)
        if (!started[t])
            lower_job_run(&jobs[t]); /* thread 0, or a thread that failed to start */
    sl_err err = SL_OK;
    for (uint32_t t = 0; t < n_threads; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        if (jobs[t].err != SL_OK && err == SL_OK) {
            err = jobs[t].err;
            if (diag)
                *diag = jobs[t].diag;
        }
    }
    return err;
}
