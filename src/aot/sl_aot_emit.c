/*
 * sl_aot_emit.c — the translator: a decoded, validated module (plus its
 * bytes, for the function bodies) into C that includes sl_aot_prelude.h.
 *
 * Layer:     src/aot (engine tier). Reads sl_module; writes text only.
 * Shape:     one C function per defined Wasm function, `w<index>`, taking
 *            sl_nctx *I then its parameters (sl_native.h). The operand
 *            stack becomes C variables named by height and type (i3 is the
 *            i32 at height 3; l, f, d, r for i64, f32, f64, references), so
 *            the C compiler's register allocation sees plain SSA-able code.
 *            Blocks are labels (B<k> after a block, C<k> at a loop head,
 *            E<k> at an else); a branch copies its values to the target's
 *            slots and jumps. Unreachable code is not emitted.
 * Chunks:    the translation is split into `parts` files of similar code
 *            size: part 0 holds the manifest and the entries, every part
 *            declares every function (hidden visibility), so the parts
 *            compile in parallel and link into one shared object.
 * Trust:     the module is validated, so the emitter does not re-check
 *            types; it still never reads outside a body.
 * Not here:  running the C compiler and packaging (sl_aot_build.c).
 */
#include "sl_aot.h"

#include "ut_buf.h"
#include "ut_leb128.h"

#include <stdlib.h>
#include <string.h>

enum { K_FUNC, K_BLOCK, K_LOOP, K_IF };

typedef struct ctl {
    int kind;
    uint32_t label;
    uint32_t base;        /* stack height below the block's parameters */
    uint32_t np, nr;
    const uint8_t *pt, *rt; /* parameter and result types */
    bool dead;            /* the whole block is unreachable: not emitted */
    bool unreachable;     /* the rest of the block up to else/end is */
    bool has_else;
} ctl;

typedef struct emitter {
    const sl_module *m;
    const uint8_t *p, *end;
    ut_buf *o;
    uint8_t *vt;   /* types by height */
    uint8_t *used; /* by height: a bit per type class used there (declarations) */
    uint8_t *pend; /* by height: the value depends on a load not yet forced */
    uint32_t nvt, cap_vt, max_h;
    ctl *cs;
    uint32_t ncs, cap_cs;
    uint32_t labels;
    const uint8_t *local_types;
    uint32_t n_locals;
    const sl_functype *ft;
    uint32_t func_type;
    bool has_call; /* needs the entry check (stack, interrupt) */
    bool bad;
} emitter;

/* ---- names and types ------------------------------------------------------ */

/* Value types by class: the operand-stack variable's letter ('g' for f32:
 * 'f' would make f32 and f64 variable names), the C type and the sl_nval
 * field. */
enum { C_I32, C_I64, C_F32, C_F64, C_REF };
static const struct {
    char var;
    const char *ctype, *field;
} tinfo[] = {
    [C_I32] = {'i', "u32", "i32"}, [C_I64] = {'l', "u64", "i64"}, [C_F32] = {'g', "f32", "f32"},
    [C_F64] = {'d', "f64", "f64"}, [C_REF] = {'r', "ref", "ref"},
};

static int
tclass(uint8_t t)
{
    switch (t) {
    case SL_I32:
        return C_I32;
    case SL_I64:
        return C_I64;
    case SL_F32:
        return C_F32;
    case SL_F64:
        return C_F64;
    default:
        return C_REF;
    }
}

static char
tchar(uint8_t t)
{
    return tinfo[tclass(t)].var;
}

static const char *
ctype(uint8_t t)
{
    return tinfo[tclass(t)].ctype;
}

static const char *
vfield(uint8_t t)
{
    return tinfo[tclass(t)].field;
}


/* The C return type of type index t. */
static void
put_ret(ut_buf *o, const sl_module *m, uint32_t t)
{
    const sl_functype *ft = &m->types[t];
    if (ft->n_results == 0)
        ut_buf_puts(o, "void");
    else if (ft->n_results == 1)
        ut_buf_puts(o, ctype(ft->types[ft->n_params]));
    else
        ut_buf_printf(o, "R%u", sl__canonical_type(m, t));
}

/* "(sl_nctx *, u32, ...)" — a function pointer's parameter list. */
static void
put_param_types(ut_buf *o, const sl_functype *ft)
{
    ut_buf_puts(o, "(sl_nctx *");
    for (uint32_t i = 0; i < ft->n_params; i++)
        ut_buf_printf(o, ", %s", ctype(ft->types[i]));
    ut_buf_putc(o, ')');
}

/* ---- the operand stack ------------------------------------------------------- */

static void
var(emitter *E, uint32_t h)
{
    ut_buf_printf(E->o, "%c%u", tchar(E->vt[h]), h);
}

static uint32_t
push(emitter *E, uint8_t t)
{
    if (E->nvt == E->cap_vt) {
        uint32_t cap = E->cap_vt ? 2 * E->cap_vt : 64;
        uint8_t *n = realloc(E->vt, cap);
        if (n)
            E->vt = n;
        uint8_t *u = n ? realloc(E->used, cap) : NULL;
        if (u)
            E->used = u;
        uint8_t *pd = u ? realloc(E->pend, cap) : NULL;
        if (!pd) {
            E->bad = true;
            return 0;
        }
        memset(u + E->cap_vt, 0, cap - E->cap_vt);
        E->pend = pd;
        E->cap_vt = cap;
    }
    E->vt[E->nvt] = t;
    E->pend[E->nvt] = 0;
    E->used[E->nvt] |= (uint8_t)(1u << tclass(t));
    if (E->nvt + 1 > E->max_h)
        E->max_h = E->nvt + 1;
    return E->nvt++;
}

static uint32_t
pop(emitter *E)
{
    if (E->nvt == 0) {
        E->bad = true;
        return 0;
    }
    return --E->nvt;
}

/* Loads are not forced where they happen (that would keep the C compiler
 * from folding them into arithmetic or vectorising). A value that depends
 * on an unforced load is "pending"; it is forced (SL_FORCE_*) wherever it
 * could die or be moved past a point the trap must precede: dropped,
 * stored to a local, chosen by select, passed to a call, carried by a
 * branch, or left on the stack at any control transfer. A load whose value
 * reaches none of those is used by an operation that is itself used, so
 * the compiler must perform it. */
static void
force(emitter *E, uint32_t h)
{
    if (h < E->nvt && E->pend[h]) {
        static const char *const mac[] = {"I32", "I64", "F32", "F64", NULL};
        const char *m = mac[tclass(E->vt[h])];
        if (m)
            ut_buf_printf(E->o, "  SL_FORCE_%s(%c%u);\n", m, tchar(E->vt[h]), h);
        E->pend[h] = 0;
    }
}

/* Forces every pending value on the stack (before a control transfer). */
static void
force_all(emitter *E)
{
    for (uint32_t h = 0; h < E->nvt; h++)
        force(E, h);
}

/* Begins "dst = " for a new value of type t. */
static void
assign_new(emitter *E, uint8_t t)
{
    uint32_t h = push(E, t);
    ut_buf_puts(E->o, "  ");
    var(E, h);
    ut_buf_puts(E->o, " = ");
}

/* ---- reading ------------------------------------------------------------------- */

static uint32_t
rd_u32(emitter *E)
{
    size_t pos = 0, len = (size_t)(E->end - E->p);
    uint32_t v = 0;
    if (ut_leb_u32(E->p, len, &pos, &v))
        E->bad = true;
    E->p += pos;
    return v;
}

static int64_t
rd_s(emitter *E, unsigned bits)
{
    size_t pos = 0, len = (size_t)(E->end - E->p);
    int64_t v = 0;
    if (ut_leb_read_signed(E->p, len, &pos, bits, &v))
        E->bad = true;
    E->p += pos;
    return v;
}

static uint8_t
rd_byte(emitter *E)
{
    if (E->p >= E->end) {
        E->bad = true;
        return 0;
    }
    return *E->p++;
}

/* A little-endian constant of n (4 or 8) bytes. */
static uint64_t
rd_fixed(emitter *E, unsigned n)
{
    uint64_t v = 0;
    if (E->end - E->p < (ptrdiff_t)n) {
        E->bad = true;
        E->p = E->end;
        return 0;
    }
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)E->p[i] << (8 * i);
    E->p += n;
    return v;
}

static void
rd_blocktype(emitter *E, uint32_t *np, const uint8_t **pt, uint32_t *nr, const uint8_t **rt)
{
    if (E->p < E->end && *E->p == 0x40) {
        E->p++;
        *np = *nr = 0;
        *pt = *rt = NULL;
        return;
    }
    if (E->p < E->end && sl__is_valtype(*E->p)) {
        *np = 0;
        *pt = NULL;
        *nr = 1;
        *rt = E->p++; /* points into the bytes: stays valid */
        return;
    }
    int64_t t = rd_s(E, 33);
    if (t < 0 || (uint64_t)t >= E->m->n_types) {
        E->bad = true;
        *np = *nr = 0;
        return;
    }
    const sl_functype *ft = &E->m->types[t];
    *np = ft->n_params;
    *pt = ft->types;
    *nr = ft->n_results;
    *rt = ft->types + ft->n_params;
}

/* ---- control ------------------------------------------------------------------------ */

static ctl *
push_ctl(emitter *E, int kind)
{
    if (E->ncs == E->cap_cs) {
        uint32_t cap = E->cap_cs ? 2 * E->cap_cs : 16;
        ctl *n = realloc(E->cs, cap * sizeof *n);
        if (!n) {
            E->bad = true;
            return NULL;
        }
        E->cs = n;
        E->cap_cs = cap;
    }
    ctl *c = &E->cs[E->ncs++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->label = E->labels++;
    return c;
}

/* Resets the type stack to c's base plus n values of types ts. */
static void
reset_stack(emitter *E, const ctl *c, uint32_t n, const uint8_t *ts)
{
    E->nvt = c->base;
    for (uint32_t i = 0; i < n; i++)
        push(E, ts[i]);
}

/* Copies the top n values to the slots at c's base (the branch's values). */
static void
branch_copies(emitter *E, const ctl *c, uint32_t n)
{
    if (E->nvt < n) {
        E->bad = true;
        return;
    }
    uint32_t from = E->nvt - n;
    if (from == c->base)
        return;
    for (uint32_t i = 0; i < n; i++) {
        char t = tchar(E->vt[from + i]);
        ut_buf_printf(E->o, " %c%u = %c%u;", t, c->base + i, t, from + i);
    }
}

static void emit_return(emitter *E);

/* A branch to relative depth d: copies and a jump (or a return). */
static void
branch(emitter *E, uint32_t d)
{
    if (d >= E->ncs) {
        E->bad = true;
        return;
    }
    ctl *c = &E->cs[E->ncs - 1 - d];
    if (c->kind == K_FUNC) {
        emit_return(E);
        return;
    }
    if (c->kind == K_LOOP) {
        branch_copies(E, c, c->np);
        ut_buf_printf(E->o, " goto C%u;", c->label);
    } else {
        branch_copies(E, c, c->nr);
        ut_buf_printf(E->o, " goto B%u;", c->label);
    }
}

static void
emit_return(emitter *E)
{
    const sl_functype *ft = E->ft;
    uint32_t n = ft->n_results;
    if (E->nvt < n) {
        E->bad = true;
        return;
    }
    uint32_t from = E->nvt - n;
    if (n == 0) {
        ut_buf_puts(E->o, " return;");
    } else if (n == 1) {
        ut_buf_puts(E->o, " return ");
        var(E, from);
        ut_buf_putc(E->o, ';');
    } else {
        ut_buf_printf(E->o, " { R%u R_;", sl__canonical_type(E->m, E->func_type));
        for (uint32_t i = 0; i < n; i++) {
            ut_buf_printf(E->o, " R_.r%u = ", i);
            var(E, from + i);
            ut_buf_putc(E->o, ';');
        }
        ut_buf_puts(E->o, " return R_; }");
    }
}

static void
mark_unreachable(emitter *E)
{
    E->cs[E->ncs - 1].unreachable = true;
}

/* ---- calls ----------------------------------------------------------------------------- */

/* Pops the arguments of type ft into "a[i].x = v;" stores. */
static void
pack_args(emitter *E, const sl_functype *ft, uint32_t from)
{
    uint32_t n = ft->n_params > ft->n_results ? ft->n_params : ft->n_results;
    ut_buf_printf(E->o, " sl_nval a_[%u];", n ? n : 1);
    for (uint32_t i = 0; i < ft->n_params; i++) {
        ut_buf_printf(E->o, " a_[%u].%s = ", i, vfield(ft->types[i]));
        if (ft->types[i] == SL_I32)
            ut_buf_puts(E->o, "(int32_t)");
        else if (ft->types[i] == SL_I64)
            ut_buf_puts(E->o, "(int64_t)");
        var(E, from + i);
        ut_buf_putc(E->o, ';');
    }
}

static void
unpack_results(emitter *E, const sl_functype *ft)
{
    for (uint32_t i = 0; i < ft->n_results; i++) {
        uint8_t t = ft->types[ft->n_params + i];
        uint32_t h = push(E, t);
        ut_buf_putc(E->o, ' ');
        var(E, h);
        ut_buf_printf(E->o, " = (%s)a_[%u].%s;", ctype(t), i, vfield(t));
    }
}

static void
typed_call(emitter *E, const sl_functype *ft, uint32_t type, uint32_t from, const char *callee)
{
    if (ft->n_results == 1) {
        uint32_t h = push(E, ft->types[ft->n_params]);
        ut_buf_putc(E->o, ' ');
        var(E, h);
        ut_buf_puts(E->o, " =");
    } else if (ft->n_results > 1) {
        ut_buf_printf(E->o, " R%u R_ =", sl__canonical_type(E->m, type));
    }
    ut_buf_printf(E->o, " %s(I", callee);
    for (uint32_t i = 0; i < ft->n_params; i++) {
        ut_buf_puts(E->o, ", ");
        /* the arguments' slots: they were popped, names are by height */
        ut_buf_printf(E->o, "%c%u", tchar(ft->types[i]), from + i);
    }
    ut_buf_puts(E->o, ");");
    if (ft->n_results > 1)
        for (uint32_t i = 0; i < ft->n_results; i++) {
            uint32_t h = push(E, ft->types[ft->n_params + i]);
            ut_buf_putc(E->o, ' ');
            var(E, h);
            ut_buf_printf(E->o, " = R_.r%u;", i);
        }
}

static void
emit_call(emitter *E, uint32_t fi)
{
    const sl_module *m = E->m;
    if (fi >= m->n_funcs) {
        E->bad = true;
        return;
    }
    uint32_t type = m->func_types[fi];
    const sl_functype *ft = &m->types[type];
    if (E->nvt < ft->n_params) {
        E->bad = true;
        return;
    }
    uint32_t from = E->nvt - ft->n_params;
    E->nvt = from;
    E->has_call = true;
    ut_buf_puts(E->o, "  {");
    if (fi >= m->n_func_imports) {
        char name[24];
        snprintf(name, sizeof name, "w%u", fi);
        typed_call(E, ft, type, from, name);
    } else {
        pack_args(E, ft, from);
        ut_buf_printf(E->o, " I->rt->call(I, I->funcs[%u], a_);", fi);
        unpack_results(E, ft);
    }
    ut_buf_puts(E->o, " SL_RELOAD(); }\n");
}

static void
emit_call_indirect(emitter *E, uint32_t type, uint32_t table)
{
    const sl_module *m = E->m;
    if (type >= m->n_types || table >= m->n_tables) {
        E->bad = true;
        return;
    }
    const sl_functype *ft = &m->types[type];
    uint32_t hi = pop(E);
    if (E->nvt < ft->n_params) {
        E->bad = true;
        return;
    }
    uint32_t from = E->nvt - ft->n_params;
    E->nvt = from;
    E->has_call = true;
    ut_buf_printf(E->o, "  { sl_nfunc *F_ = sl_table_func(I, %u, i%u);\n", table, hi);
    ut_buf_printf(E->o, "    if (SL_LIKELY(F_->nctx == I && F_->type_id == %uu)) {", sl__canonical_type(m, type));
    /* typed path: cast the pointer to this type's function */
    ut_buf callee = {0};
    ut_buf_puts(&callee, "((");
    put_ret(&callee, m, type);
    ut_buf_puts(&callee, " (*)");
    put_param_types(&callee, ft);
    ut_buf_puts(&callee, ")F_->native)");
    uint32_t save = E->nvt;
    if (callee.oom)
        E->bad = true;
    else
        typed_call(E, ft, type, from, callee.data);
    ut_buf_free(&callee);
    ut_buf_puts(E->o, " } else {");
    E->nvt = save;
    pack_args(E, ft, from);
    ut_buf_printf(E->o, " I->rt->call_checked(I, F_, %u, a_);", type);
    unpack_results(E, ft);
    ut_buf_puts(E->o, " }\n    SL_RELOAD(); }\n");
}

/* ---- one function ------------------------------------------------------------------------- */

static const char *
load_name(uint32_t op)
{
    switch (op) {
#define SL_LOAD(code, id, text, T, CTYPE, ALIGN) \
    case code:                                   \
        return #id;
#define SL_STORE(code, id, text, T, CTYPE, ALIGN) \
    case code:                                    \
        return #id;
#include "sl_ops.def"
    }
    return NULL;
}

static uint8_t
load_type(uint32_t op, bool *is_store)
{
    switch (op) {
#define SL_LOAD(code, id, text, T, CTYPE, ALIGN) \
    case code:                                   \
        *is_store = false;                       \
        return SL_##T;
#define SL_STORE(code, id, text, T, CTYPE, ALIGN) \
    case code:                                    \
        *is_store = true;                         \
        return SL_##T;
#include "sl_ops.def"
    }
    return 0;
}

/* Numeric operations: name, arity, operand and result types. */
static bool
numeric(uint32_t op, const char **name, int *arity, uint8_t *ta, uint8_t *tr)
{
    switch (op) {
#define SL_UNOP(code, id, text, TA, TR, body) \
    case code:                                \
        *name = #id;                          \
        *arity = 1;                           \
        *ta = SL_##TA;                        \
        *tr = SL_##TR;                        \
        return true;
#define SL_BINOP(code, id, text, TA, TR, body) \
    case code:                                 \
        *name = #id;                           \
        *arity = 2;                            \
        *ta = SL_##TA;                         \
        *tr = SL_##TR;                         \
        return true;
#include "sl_ops.def"
    }
    return false;
}

/* Skips the immediates of op in dead code. */
static void
skip_immediates(emitter *E, uint32_t op)
{
    bool st;
    switch (op) {
    case 0x0C: case 0x0D: case 0x10: case 0x20: case 0x21: case 0x22: case 0x23: case 0x24:
    case 0x25: case 0x26: case 0xD2: case 0xFC09: case 0xFC0D: case 0xFC0F: case 0xFC10:
    case 0xFC11:
        rd_u32(E);
        return;
    case 0x3F: case 0x40: case 0xD0:
        rd_byte(E);
        return;
    case 0x0E: {
        uint32_t n = rd_u32(E);
        for (uint32_t i = 0; i <= n && !E->bad; i++)
            rd_u32(E);
        return;
    }
    case 0x11: case 0xFC0C: case 0xFC0E:
        rd_u32(E);
        rd_u32(E);
        return;
    case 0xFC08:
        rd_u32(E);
        rd_byte(E);
        return;
    case 0xFC0A:
        rd_byte(E);
        rd_byte(E);
        return;
    case 0xFC0B:
        rd_byte(E);
        return;
    case 0x1C: {
        uint32_t n = rd_u32(E);
        for (uint32_t i = 0; i < n && !E->bad; i++)
            rd_byte(E);
        return;
    }
    case 0x41:
        rd_s(E, 32);
        return;
    case 0x42:
        rd_s(E, 64);
        return;
    case 0x43:
        rd_fixed(E, 4);
        return;
    case 0x44:
        rd_fixed(E, 8);
        return;
    default:
        if (load_type(op, &st)) { /* memarg */
            rd_u32(E);
            rd_u32(E);
        }
        return;
    }
}

static uint8_t
local_type(emitter *E, uint32_t i)
{
    if (i < E->ft->n_params)
        return E->ft->types[i];
    i -= E->ft->n_params;
    if (i < E->n_locals)
        return E->local_types[i];
    E->bad = true;
    return SL_I32;
}

static uint8_t
global_type(emitter *E, uint32_t g)
{
    if (g >= E->m->n_globals) {
        E->bad = true;
        return SL_I32;
    }
    return E->m->global_types[g].type;
}

static void
open_block(emitter *E, int kind)
{
    uint32_t np, nr;
    const uint8_t *pt, *rt;
    rd_blocktype(E, &np, &pt, &nr, &rt);
    uint32_t cond = 0;
    if (kind == K_IF)
        cond = pop(E);
    ctl *c = push_ctl(E, kind);
    if (!c)
        return;
    c->np = np;
    c->nr = nr;
    c->pt = pt;
    c->rt = rt;
    c->base = E->nvt >= np ? E->nvt - np : 0;
    if (kind == K_LOOP)
        ut_buf_printf(E->o, " C%u:; SL_POLL();\n", c->label);
    else if (kind == K_IF)
        ut_buf_printf(E->o, "  if (!i%u) goto E%u;\n", cond, c->label);
}

/* Emits the body of defined function fi. */
static void
emit_body(emitter *E)
{
    ut_buf *o = E->o;
    while (!E->bad && E->ncs > 0) {
        uint32_t op = rd_byte(E);
        if (op == 0xFC)
            op = 0xFC00 | rd_u32(E);
        if (E->bad)
            break;
        ctl *top = &E->cs[E->ncs - 1];

        if (top->dead || top->unreachable) {
            /* Only structure matters until this block's else or end. */
            switch (op) {
            case 0x02: case 0x03: case 0x04: {
                uint32_t np, nr;
                const uint8_t *pt, *rt;
                rd_blocktype(E, &np, &pt, &nr, &rt);
                ctl *c = push_ctl(E, op == 0x03 ? K_LOOP : op == 0x04 ? K_IF : K_BLOCK);
                if (c)
                    c->dead = true;
                continue;
            }
            case 0x05:
                if (top->dead)
                    continue;
                break; /* a live if's else */
            case 0x0B:
                if (top->dead) {
                    E->ncs--;
                    continue;
                }
                break; /* a live block's end */
            default:
                skip_immediates(E, op);
                continue;
            }
        }

        switch (op) { /* control transfers: no load may move past them */
        case 0x00: case 0x02: case 0x03: case 0x04: case 0x05: case 0x0B: case 0x0C:
        case 0x0D: case 0x0E: case 0x0F: case 0x10: case 0x11:
            force_all(E);
            break;
        default:
            break;
        }

        switch (op) {
        case 0x00:
            ut_buf_puts(o, "  TRAP(SL_TRAP_UNREACHABLE);\n");
            mark_unreachable(E);
            break;
        case 0x01:
            break;
        case 0x02:
            open_block(E, K_BLOCK);
            break;
        case 0x03:
            open_block(E, K_LOOP);
            break;
        case 0x04:
            open_block(E, K_IF);
            break;
        case 0x05: { /* else */
            if (!top->unreachable) {
                ut_buf_puts(o, " ");
                branch_copies(E, top, top->nr);
                ut_buf_printf(o, " goto B%u;\n", top->label);
            }
            ut_buf_printf(o, " E%u:;\n", top->label);
            top->has_else = true;
            top->unreachable = false;
            reset_stack(E, top, top->np, top->pt);
            break;
        }
        case 0x0B: { /* end */
            if (top->kind == K_FUNC) {
                if (!top->unreachable) {
                    ut_buf_puts(o, " ");
                    emit_return(E);
                    ut_buf_putc(o, '\n');
                }
                E->ncs--;
                break;
            }
            if (top->kind == K_IF && !top->has_else)
                ut_buf_printf(o, " E%u:;\n", top->label);
            if (top->kind != K_LOOP)
                ut_buf_printf(o, " B%u:;\n", top->label);
            reset_stack(E, top, top->nr, top->rt);
            E->ncs--;
            break;
        }
        case 0x0C: /* br */
            ut_buf_puts(o, " ");
            branch(E, rd_u32(E));
            ut_buf_putc(o, '\n');
            mark_unreachable(E);
            break;
        case 0x0D: { /* br_if */
            uint32_t d = rd_u32(E);
            uint32_t c = pop(E);
            ut_buf_printf(o, "  if (i%u) {", c);
            branch(E, d);
            ut_buf_puts(o, " }\n");
            break;
        }
        case 0x0E: { /* br_table */
            uint32_t n = rd_u32(E);
            uint32_t c = pop(E);
            ut_buf_printf(o, "  switch (i%u) {\n", c);
            for (uint32_t i = 0; i <= n && !E->bad; i++) {
                uint32_t d = rd_u32(E);
                if (i < n)
                    ut_buf_printf(o, "  case %u:", i);
                else
                    ut_buf_puts(o, "  default:");
                branch(E, d);
                ut_buf_putc(o, '\n');
            }
            ut_buf_puts(o, "  }\n");
            mark_unreachable(E);
            break;
        }
        case 0x0F:
            ut_buf_puts(o, " ");
            emit_return(E);
            ut_buf_putc(o, '\n');
            mark_unreachable(E);
            break;
        case 0x10:
            emit_call(E, rd_u32(E));
            break;
        case 0x11: {
            uint32_t type = rd_u32(E);
            uint32_t table = rd_u32(E);
            emit_call_indirect(E, type, table);
            break;
        }
        case 0x1A:
            force(E, E->nvt - 1);
            pop(E);
            break;
        case 0x1B:
        case 0x1C: {
            if (op == 0x1C) {
                uint32_t n = rd_u32(E);
                for (uint32_t i = 0; i < n; i++)
                    rd_byte(E);
            }
            force(E, E->nvt - 1);
            force(E, E->nvt - 2);
            force(E, E->nvt - 3);
            uint32_t c = pop(E), b = pop(E), a = pop(E);
            uint8_t t = E->vt[a];
            uint32_t h = push(E, t);
            (void)h;
            ut_buf_printf(o, "  %c%u = i%u ? %c%u : %c%u;\n", tchar(t), a, c, tchar(t), a,
                          tchar(t), b);
            break;
        }
        case 0x20: {
            uint32_t i = rd_u32(E);
            assign_new(E, local_type(E, i));
            ut_buf_printf(o, "L%u;\n", i);
            break;
        }
        case 0x21:
        case 0x22: {
            uint32_t i = rd_u32(E);
            if (op == 0x21)
                force(E, E->nvt - 1);
            bool pending = E->nvt && E->pend[E->nvt - 1];
            uint32_t v = pop(E);
            ut_buf_printf(o, "  L%u = ", i);
            var(E, v);
            ut_buf_puts(o, ";\n");
            if (op == 0x22)
                E->pend[push(E, local_type(E, i))] = pending;
            break;
        }
        case 0x23: {
            uint32_t g = rd_u32(E);
            uint8_t t = global_type(E, g);
            assign_new(E, t);
            ut_buf_printf(o, "(%s)I->globals[%u]->%s;\n", ctype(t), g, vfield(t));
            break;
        }
        case 0x24: {
            uint32_t g = rd_u32(E);
            uint8_t t = global_type(E, g);
            uint32_t v = pop(E);
            ut_buf_printf(o, "  I->globals[%u]->%s = ", g, vfield(t));
            if (t == SL_I32)
                ut_buf_puts(o, "(int32_t)");
            else if (t == SL_I64)
                ut_buf_puts(o, "(int64_t)");
            var(E, v);
            ut_buf_puts(o, ";\n");
            break;
        }
        case 0x25: { /* table.get */
            uint32_t t = rd_u32(E);
            uint32_t i = pop(E);
            assign_new(E, SL_FUNCREF);
            ut_buf_printf(o, "I->rt->table_get(I, %u, i%u);\n", t, i);
            break;
        }
        case 0x26: { /* table.set */
            uint32_t t = rd_u32(E);
            uint32_t v = pop(E), i = pop(E);
            ut_buf_printf(o, "  I->rt->table_set(I, %u, i%u, r%u);\n", t, i, v);
            break;
        }
        case 0x3F:
            rd_byte(E);
            assign_new(E, SL_I32);
            ut_buf_puts(o, "(u32)(I->mem0->size >> 16);\n");
            break;
        case 0x40: {
            rd_byte(E);
            uint32_t d = pop(E);
            assign_new(E, SL_I32);
            ut_buf_printf(o, "(u32)I->rt->memory_grow(I, i%u); SL_RELOAD();\n", d);
            break;
        }
        case 0x41:
            assign_new(E, SL_I32);
            ut_buf_printf(o, "%uu;\n", (uint32_t)rd_s(E, 32));
            break;
        case 0x42:
            assign_new(E, SL_I64);
            ut_buf_printf(o, "%lluull;\n", (unsigned long long)(uint64_t)rd_s(E, 64));
            break;
        case 0x43:
            assign_new(E, SL_F32);
            ut_buf_printf(o, "sl_f32_bits(0x%08xu);\n", (uint32_t)rd_fixed(E, 4));
            break;
        case 0x44:
            assign_new(E, SL_F64);
            ut_buf_printf(o, "sl_f64_bits(0x%016llxull);\n", (unsigned long long)rd_fixed(E, 8));
            break;
        case 0xD0:
            rd_byte(E);
            assign_new(E, SL_FUNCREF);
            ut_buf_puts(o, "(ref)0;\n");
            break;
        case 0xD1: {
            uint32_t v = pop(E);
            assign_new(E, SL_I32);
            ut_buf_printf(o, "r%u == 0;\n", v);
            break;
        }
        case 0xD2: {
            uint32_t f = rd_u32(E);
            assign_new(E, SL_FUNCREF);
            ut_buf_printf(o, "(ref)I->funcs[%u];\n", f);
            break;
        }
        case 0xFC08: { /* memory.init */
            uint32_t seg = rd_u32(E);
            rd_byte(E);
            uint32_t n = pop(E), s = pop(E), d = pop(E);
            ut_buf_printf(o, "  I->rt->memory_init(I, %u, i%u, i%u, i%u);\n", seg, d, s, n);
            break;
        }
        case 0xFC09:
            ut_buf_printf(o, "  I->rt->data_drop(I, %u);\n", rd_u32(E));
            break;
        case 0xFC0A: {
            rd_byte(E);
            rd_byte(E);
            uint32_t n = pop(E), s = pop(E), d = pop(E);
            ut_buf_printf(o, "  I->rt->memory_copy(I, i%u, i%u, i%u);\n", d, s, n);
            break;
        }
        case 0xFC0B: {
            rd_byte(E);
            uint32_t n = pop(E), v = pop(E), d = pop(E);
            ut_buf_printf(o, "  I->rt->memory_fill(I, i%u, i%u, i%u);\n", d, v, n);
            break;
        }
        case 0xFC0C: {
            uint32_t seg = rd_u32(E), t = rd_u32(E);
            uint32_t n = pop(E), s = pop(E), d = pop(E);
            ut_buf_printf(o, "  I->rt->table_init(I, %u, %u, i%u, i%u, i%u);\n", t, seg, d, s, n);
            break;
        }
        case 0xFC0D:
            ut_buf_printf(o, "  I->rt->elem_drop(I, %u);\n", rd_u32(E));
            break;
        case 0xFC0E: {
            uint32_t dt = rd_u32(E), st = rd_u32(E);
            uint32_t n = pop(E), s = pop(E), d = pop(E);
            ut_buf_printf(o, "  I->rt->table_copy(I, %u, %u, i%u, i%u, i%u);\n", dt, st, d, s, n);
            break;
        }
        case 0xFC0F: { /* table.grow */
            uint32_t t = rd_u32(E);
            uint32_t n = pop(E), v = pop(E);
            assign_new(E, SL_I32);
            ut_buf_printf(o, "(u32)I->rt->table_grow(I, %u, r%u, i%u);\n", t, v, n);
            break;
        }
        case 0xFC10: {
            uint32_t t = rd_u32(E);
            assign_new(E, SL_I32);
            ut_buf_printf(o, "I->tables[%u]->size;\n", t);
            break;
        }
        case 0xFC11: {
            uint32_t t = rd_u32(E);
            uint32_t n = pop(E), v = pop(E), i = pop(E);
            ut_buf_printf(o, "  I->rt->table_fill(I, %u, i%u, r%u, i%u);\n", t, i, v, n);
            break;
        }
        default: {
            bool is_store = false;
            uint8_t lt = load_type(op, &is_store);
            if (lt) {
                rd_u32(E); /* alignment */
                uint32_t off = rd_u32(E);
                if (is_store) {
                    uint32_t v = pop(E), a = pop(E);
                    ut_buf_printf(o, "  op_%s(I, M, MS, i%u, %uu, ", load_name(op), a, off);
                    var(E, v);
                    ut_buf_puts(o, ");\n");
                } else {
                    uint32_t a = pop(E);
                    assign_new(E, lt);
                    ut_buf_printf(o, "op_%s(I, M, MS, i%u, %uu);\n", load_name(op), a, off);
                    E->pend[E->nvt - 1] = 1;
                }
                break;
            }
            const char *name;
            int arity;
            uint8_t ta, tr;
            if (!numeric(op, &name, &arity, &ta, &tr)) {
                E->bad = true;
                break;
            }
            bool pending = E->nvt && E->pend[E->nvt - 1];
            if (arity == 2 && E->nvt >= 2)
                pending |= E->pend[E->nvt - 2];
            uint32_t b = arity == 2 ? pop(E) : 0, a = pop(E);
            assign_new(E, tr);
            E->pend[E->nvt - 1] = pending;
            ut_buf_printf(o, "op_%s(I, %c%u", name, tchar(ta), a);
            if (arity == 2)
                ut_buf_printf(o, ", %c%u", tchar(ta), b);
            ut_buf_puts(o, ");\n");
            break;
        }
        }
    }
    if (E->ncs != 0 || E->p != E->end)
        E->bad = true;
}

static void
put_signature(ut_buf *o, const sl_module *m, uint32_t fi)
{
    uint32_t type = m->func_types[fi];
    const sl_functype *ft = &m->types[type];
    ut_buf_puts(o, "SL_FN ");
    put_ret(o, m, type);
    ut_buf_printf(o, " w%u(sl_nctx *I", fi);
    for (uint32_t i = 0; i < ft->n_params; i++)
        ut_buf_printf(o, ", %s L%u", ctype(ft->types[i]), i);
    ut_buf_putc(o, ')');
}

static sl_err
emit_function(const sl_module *m, const uint8_t *bytes, uint32_t di, ut_buf *out, sl_diag *diag)
{
    const sl_funcdef *fd = &m->funcs[di];
    uint32_t fi = m->n_func_imports + di;
    emitter E = {.m = m, .p = bytes + fd->body_offset, .end = bytes + fd->body_offset + fd->body_len,
                 .local_types = fd->local_types, .n_locals = fd->n_locals,
                 .ft = &m->types[fd->type_index], .func_type = fd->type_index};
    ut_buf body = {0};
    E.o = &body;
    ctl *c = push_ctl(&E, K_FUNC);
    if (c) {
        c->nr = E.ft->n_results;
        c->rt = E.ft->types + E.ft->n_params;
    }
    emit_body(&E);
    if (E.bad || body.oom) {
        free(E.vt);
        free(E.used);
        free(E.pend);
        free(E.cs);
        ut_buf_free(&body);
        return sl__diag(diag, E.bad ? SL_ERR_INVALID : SL_ERR_NOMEM, fd->body_offset,
                        "aot: cannot translate function %u", fi);
    }
    put_signature(out, m, fi);
    ut_buf_puts(out, "\n{\n");
    for (uint32_t i = 0; i < fd->n_locals; i++)
        ut_buf_printf(out, "  %s L%u = 0;\n", ctype(fd->local_types[i]), E.ft->n_params + i);
    /* Declare only the (height, type) variables the body uses. */
    for (int k = C_I32; k <= C_REF; k++) {
        const char *sep = NULL;
        for (uint32_t h = 0; h < E.max_h; h++)
            if (E.used[h] & (1u << k)) {
                if (!sep)
                    ut_buf_printf(out, "  %s", tinfo[k].ctype);
                ut_buf_printf(out, "%s%c%u", sep ? sep : " ", tinfo[k].var, h);
                sep = ", ";
            }
        if (sep)
            ut_buf_puts(out, ";\n");
    }
    ut_buf_puts(out, "  uint8_t *M; uint64_t MS; SL_RELOAD(); (void)M; (void)MS;\n");
    /* The entry check (stack limit, interrupt) is for functions that call:
     * without calls a function's own loops poll, and its frame fits in
     * the stack margin unless it is very large. */
    if (E.has_call || fd->n_locals + E.max_h > 2048)
        ut_buf_puts(out, "  SL_ENTER();\n");
    ut_buf_append(out, body.data, body.len);
    ut_buf_puts(out, "}\n\n");
    free(E.vt);
    free(E.used);
    free(E.pend);
    free(E.cs);
    ut_buf_free(&body);
    return SL_OK;
}

/* ---- the files ------------------------------------------------------------------------------ */

/* What every part starts with: the prelude, result structs, prototypes. */
static void
emit_header(const sl_module *m, ut_buf *o)
{
    ut_buf_puts(o, "/* generated by sluice compile: do not edit */\n#include \"sl_aot_prelude.h\"\n\n");
    for (uint32_t t = 0; t < m->n_types; t++) {
        const sl_functype *ft = &m->types[t];
        if (ft->n_results < 2 || sl__canonical_type(m, t) != t)
            continue;
        ut_buf_puts(o, "typedef struct {");
        for (uint32_t i = 0; i < ft->n_results; i++)
            ut_buf_printf(o, " %s r%u;", ctype(ft->types[ft->n_params + i]), i);
        ut_buf_printf(o, " } R%u;\n", t);
    }
    for (uint32_t fi = m->n_func_imports; fi < m->n_funcs; fi++) {
        put_signature(o, m, fi);
        ut_buf_puts(o, ";\n");
    }
    ut_buf_putc(o, '\n');
}

/* The entries (one per canonical type used by a defined function) and the
 * manifest. */
static void
emit_manifest(const sl_module *m, const uint8_t sha256[32], ut_buf *o)
{
    uint32_t nd = m->n_funcs - m->n_func_imports;
    for (uint32_t t = 0; t < m->n_types; t++) {
        if (sl__canonical_type(m, t) != t)
            continue;
        bool used = false;
        for (uint32_t i = 0; i < nd && !used; i++)
            used = sl__canonical_type(m, m->funcs[i].type_index) == t;
        if (!used)
            continue;
        const sl_functype *ft = &m->types[t];
        ut_buf_printf(o, "static void e%u(sl_nctx *I, const void *fn, sl_nval *a)\n{\n  ", t);
        if (ft->n_results) {
            put_ret(o, m, t);
            ut_buf_puts(o, " r = ");
        }
        ut_buf_puts(o, "((");
        put_ret(o, m, t);
        ut_buf_puts(o, " (*)");
        put_param_types(o, ft);
        ut_buf_puts(o, ")fn)(I");
        for (uint32_t i = 0; i < ft->n_params; i++)
            ut_buf_printf(o, ", (%s)a[%u].%s", ctype(ft->types[i]), i, vfield(ft->types[i]));
        ut_buf_puts(o, ");\n");
        for (uint32_t i = 0; i < ft->n_results; i++) {
            uint8_t rt = ft->types[ft->n_params + i];
            const char *cast = rt == SL_I32 ? "(int32_t)" : rt == SL_I64 ? "(int64_t)" : "";
            if (ft->n_results == 1)
                ut_buf_printf(o, "  a[0].%s = %sr;\n", vfield(rt), cast);
            else
                ut_buf_printf(o, "  a[%u].%s = %sr.r%u;\n", i, vfield(rt), cast, i);
        }
        ut_buf_puts(o, "}\n");
    }
    ut_buf_puts(o, "\nstatic const void *const funcs_[] = {");
    for (uint32_t i = 0; i < nd; i++)
        ut_buf_printf(o, "%s(const void *)w%u", i ? ", " : "", m->n_func_imports + i);
    if (!nd)
        ut_buf_puts(o, "0");
    ut_buf_puts(o, "};\nstatic const sl_nentry entries_[] = {");
    for (uint32_t i = 0; i < nd; i++)
        ut_buf_printf(o, "%se%u", i ? ", " : "", sl__canonical_type(m, m->funcs[i].type_index));
    if (!nd)
        ut_buf_puts(o, "0");
    ut_buf_printf(o, "};\n__attribute__((visibility(\"default\"))) const sl_nmanifest "
                     "sl_aot_manifest = {SL_NATIVE_ABI, %u, {",
                  nd);
    for (int i = 0; i < 32; i++)
        ut_buf_printf(o, "%s%u", i ? "," : "", sha256[i]);
    ut_buf_puts(o, "}, funcs_, entries_};\n");
}

sl_err
sl__aot_emit(const sl_module *m, const uint8_t *bytes, const uint8_t sha256[32], unsigned parts,
             ut_buf *out, sl_diag *diag)
{
    if (m->n_mems > 1)
        return sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "aot: more than one memory");
    if (parts == 0)
        parts = 1;
    uint32_t nd = m->n_funcs - m->n_func_imports;
    uint64_t total = 0;
    for (uint32_t i = 0; i < nd; i++)
        total += m->funcs[i].body_len;
    uint64_t per_part = total / parts + 1, acc = 0;
    unsigned part = 0;
    for (unsigned p = 0; p < parts; p++)
        emit_header(m, &out[p]);
    emit_manifest(m, sha256, &out[0]);
    for (uint32_t i = 0; i < nd; i++) {
        sl_err e = emit_function(m, bytes, i, &out[part], diag);
        if (e)
            return e;
        acc += m->funcs[i].body_len;
        if (acc >= per_part * (part + 1) && part + 1 < parts)
            part++;
    }
    for (unsigned p = 0; p < parts; p++)
        if (out[p].oom)
            return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");
    return SL_OK;
}
