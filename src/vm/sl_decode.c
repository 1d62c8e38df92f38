/*
 * sl_decode.c — decodes a WebAssembly 2.0 binary module into sl_module and
 * applies every module-level validation rule, then hands each function body
 * to the lowerer.
 *
 * Layer:     engine (src/vm). Entry points sl__module_decode and
 *            sl__module_clear (sl_module.h), called by sl_module_new. The
 *            per-section decoders live in sl_decode_sections.c; the shared
 *            reader state and rules are in sl_decode.h.
 * Order:     header; sections (custom ones anywhere, the others once each in
 *            the order type import function table memory global export start
 *            elem datacount code data); then the end-of-module structural
 *            checks; then the first validation error noted on the way (if
 *            any); then "multiple memories"; then C.refs (func_declared), the
 *            name section, and sl__lower_funcs for the bodies. Malformed always
 *            wins over invalid, as in the spec's decode-then-validate order.
 * Messages:  the official test suite's wording (binary.wast, custom.wast,
 *            binary-leb128.wast, global.wast, elem.wast, data.wast, ...).
 * Ownership: everything kept is copied into malloc'd memory owned by the
 *            module; nothing points into the caller's bytes after return.
 *            sl__module_clear frees a module in any state of decoding.
 * Not here:  function bodies (sl_lower.c: instruction decoding, typing,
 *            "data count section required", ref.func declaration checks);
 *            the public API (sl_module.c).
 */
#include "sl_decode.h"
#include "ut_leb128.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---------------------------------------------------------------- */

static sl_err
vdiag(sl_diag *diag, sl_err err, size_t off, const char *fmt, va_list ap)
{
    char msg[sizeof(((sl_diag *)0)->msg)];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return sl__diag(diag, err, off, "%s", msg);
}

sl_err
sl__dec_fail(sl_dec *d, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_err r = vdiag(d->diag, SL_ERR_MALFORMED, off, fmt, ap);
    va_end(ap);
    return r;
}

sl_err
sl__dec_nomem(sl_dec *d)
{
    return sl__diag(d->diag, SL_ERR_NOMEM, d->pos, "out of memory");
}

sl_err
sl__dec_unsupported(sl_dec *d, size_t off, const char *what)
{
    return sl__diag(d->diag, SL_ERR_INVALID, off, "unsupported: %s", what);
}

void
sl__dec_note(sl_diag *v, size_t off, const char *fmt, ...)
{
    if (v->err != SL_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    vdiag(v, SL_ERR_INVALID, off, fmt, ap);
    va_end(ap);
}

void
sl__dec_defer(sl_dec *d, const sl_diag *v)
{
    if (v->err != SL_OK && d->deferred.err == SL_OK)
        d->deferred = *v;
}

static sl_err
leb_fail(sl_dec *d, ut_leb_err e)
{
    /* ut_leb_* left d->pos at the offending byte (or at the end). */
    return sl__dec_fail(d, d->pos, "%s", ut_leb_err_str(e));
}

/* ---- values ---------------------------------------------------------------- */

sl_err
sl__dec_byte(sl_dec *d, uint8_t *out)
{
    if (d->pos >= d->len)
        return sl__dec_fail(d, d->len, SL_MSG_END);
    *out = d->buf[d->pos++];
    return SL_OK;
}

sl_err
sl__dec_u32(sl_dec *d, uint32_t *out)
{
    ut_leb_err e = ut_leb_u32(d->buf, d->len, &d->pos, out);
    return e ? leb_fail(d, e) : SL_OK;
}

sl_err
sl__dec_len(sl_dec *d, uint32_t *out)
{
    size_t at = d->pos;
    uint32_t n = 0;
    sl_err r = sl__dec_u32(d, &n);
    if (r)
        return r;
    /* The 2.0-era reference decoder compared n with the whole input length
     * (what it could not read was then "unexpected end"); today's compares
     * with what is left. Between the two, say both. */
    if ((uint64_t)n > d->len)
        return sl__dec_fail(d, at, "length out of bounds");
    if ((uint64_t)n > d->len - at)
        return sl__dec_fail(d, at, "length out of bounds (" SL_MSG_END ")");
    *out = n;
    return SL_OK;
}

sl_err
sl__dec_bytes(sl_dec *d, uint32_t n, const uint8_t **out)
{
    if ((uint64_t)n > d->len - d->pos)
        return sl__dec_fail(d, d->len, SL_MSG_END);
    *out = d->buf + d->pos;
    d->pos += n;
    return SL_OK;
}

sl_err
sl__dec_s7(sl_dec *d, uint8_t *out)
{
    sl_err r = sl__dec_byte(d, out);
    if (r == SL_OK && (*out & 0x80))
        return sl__dec_fail(d, d->pos, "integer representation too long");
    return r;
}

/* UTF-8 as the spec defines it: shortest form, no surrogates, <= U+10FFFF. */
static bool
utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t more;
        uint32_t cp, min;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xe0) == 0xc0) {
            more = 1, cp = b & 0x1fu, min = 0x80;
        } else if ((b & 0xf0) == 0xe0) {
            more = 2, cp = b & 0x0fu, min = 0x800;
        } else if ((b & 0xf8) == 0xf0) {
            more = 3, cp = b & 0x07u, min = 0x10000;
        } else {
            return false;
        }
        if (n - i - 1 < more)
            return false;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
            return false;
        i += more + 1;
    }
    return true;
}

sl_err
sl__dec_name(sl_dec *d, char **copy, const uint8_t **raw, uint32_t *n)
{
    size_t at = d->pos;
    uint32_t len = 0;
    const uint8_t *p = NULL;
    sl_err r = sl__dec_len(d, &len);
    if (r == SL_OK)
        r = sl__dec_bytes(d, len, &p);
    if (r)
        return r;
    if (!utf8_valid(p, len))
        return sl__dec_fail(d, at, "malformed UTF-8 encoding");
    if (copy) {
        char *s = malloc((size_t)len + 1);
        if (!s)
            return sl__dec_nomem(d);
        memcpy(s, p, len);
        s[len] = '\0';
        *copy = s;
    }
    if (raw)
        *raw = p;
    if (n)
        *n = len;
    return SL_OK;
}

void *
sl__dec_grow(sl_dec *d, void *arr, uint32_t have, uint32_t count, size_t min_bytes,
             size_t elem, uint32_t *n_alloc)
{
    /* Each item consumes at least min_bytes of what is left, so decoding
     * fails inside item room at the latest: room items always suffice. */
    size_t room = (d->len - d->pos) / min_bytes + 1;
    uint32_t n = (size_t)count < room ? count : (uint32_t)room;
    size_t total = (size_t)have + n;
    if (total == 0)
        total = 1;
    if (total > SIZE_MAX / elem) {
        sl__dec_nomem(d);
        return NULL;
    }
    char *p = realloc(arr, total * elem);
    if (!p) {
        sl__dec_nomem(d);
        return NULL;
    }
    memset(p + (size_t)have * elem, 0, (total - have) * elem);
    *n_alloc = n;
    return p;
}

/* ---- types ----------------------------------------------------------------- */

const char *
sl__valtype_name(uint8_t t)
{
    switch (t) {
    case SL_I32:
        return "i32";
    case SL_I64:
        return "i64";
    case SL_F32:
        return "f32";
    case SL_F64:
        return "f64";
    case SL_V128:
        return "v128";
    case SL_FUNCREF:
        return "funcref";
    case SL_EXTERNREF:
        return "externref";
    }
    return "?";
}

/* value_type of the 2.0 reference decoder: number types from 0x7c up, vector
 * types from 0x71 up, reference types below. */
sl_err
sl__dec_valtype(sl_dec *d, uint8_t *out)
{
    size_t at = d->pos;
    uint8_t b = 0;
    sl_err r = sl__dec_s7(d, &b);
    if (r)
        return r;
    if (b >= SL_F64 || sl__is_reftype(b)) {
        *out = b;
        return SL_OK;
    }
    if (b == SL_V128)
        return sl__dec_unsupported(d, at, "v128 (SIMD is not implemented yet)");
    if (b >= 0x71)
        return sl__dec_fail(d, at, "malformed vector type");
    return sl__dec_fail(d, at, "malformed reference type");
}

sl_err
sl__dec_reftype(sl_dec *d, uint8_t *out)
{
    size_t at = d->pos;
    uint8_t b = 0;
    sl_err r = sl__dec_s7(d, &b);
    if (r)
        return r;
    if (!sl__is_reftype(b))
        return sl__dec_fail(d, at, "malformed reference type");
    *out = b;
    return SL_OK;
}

sl_err
sl__dec_limits(sl_dec *d, sl_limits_def *out)
{
    uint64_t flag = 0;
    uint32_t v = 0;
    /* The flag is the spec's vu1: 0x02 is "integer too large", 0x81 "too long". */
    ut_leb_err e = ut_leb_read_unsigned(d->buf, d->len, &d->pos, 1, &flag);
    if (e)
        return leb_fail(d, e);
    sl_err r = sl__dec_u32(d, &v);
    if (r)
        return r;
    out->min = v;
    out->has_max = flag == 1;
    out->max = 0;
    if (out->has_max) {
        if ((r = sl__dec_u32(d, &v)))
            return r;
        out->max = v;
    }
    return SL_OK;
}

sl_err
sl__dec_globaltype(sl_dec *d, sl_globaltype *out)
{
    uint8_t mut = 0;
    sl_err r = sl__dec_valtype(d, &out->type);
    if (r == SL_OK)
        r = sl__dec_byte(d, &mut);
    if (r)
        return r;
    if (mut > 1)
        return sl__dec_fail(d, d->pos - 1, "malformed mutability");
    out->is_mutable = mut == 1;
    return SL_OK;
}

void
sl__dec_check_table(sl_dec *d, const sl_tabletype *t, size_t at)
{
    if (t->limits.has_max && t->limits.min > t->limits.max)
        sl__dec_note(&d->deferred, at, "size minimum must not be greater than maximum");
}

void
sl__dec_check_mem(sl_dec *d, const sl_memtype *t, size_t at)
{
    const sl_limits_def *l = &t->limits;
    if (l->min > 65536 || (l->has_max && l->max > 65536))
        sl__dec_note(&d->deferred, at, "memory size must be at most 65536 pages (4GiB)");
    else if (l->has_max && l->min > l->max)
        sl__dec_note(&d->deferred, at, "size minimum must not be greater than maximum");
}

/* ---- constant expressions ---------------------------------------------------- */

/* The reference interpreter decodes a constant expression as an ordinary
 * instruction sequence and only then checks it: (1) every instruction is
 * constant ("constant expression required"; global.get also "unknown global"),
 * (2) the sequence types as [] -> [expected] ("unknown function" for ref.func,
 * then "type mismatch"). Non-constant instructions are therefore skipped
 * structurally here (including nested blocks), so that their malformations
 * are still reported as such. */

enum { CX_BLOCK, CX_IF, CX_ELSE };

typedef struct cx_state {
    sl_dec *d;
    sl_diag *verr;     /* first failure of check (1) */
    sl_diag type_err;  /* first failure of check (2) */
    uint32_t n_values; /* values the top-level sequence leaves */
    uint8_t top;       /* type of the last one */
    uint8_t *blocks;   /* nesting of (non-constant) block/loop/if */
    uint32_t depth, cap;
    bool done;
} cx_state;

enum { IMM_NONE, IMM_IDX, IMM_IDX2, IMM_BR_TABLE, IMM_SELECT_T, IMM_ZERO, IMM_I32, IMM_I64,
       IMM_F32, IMM_F64, IMM_REFTYPE, IMM_ILLEGAL };

/* Immediates of the single-byte opcodes of WebAssembly 2.0 (without SIMD). */
static int
cx_imm_kind(uint8_t op)
{
    if (op <= 0x01 || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1 ||
        (op >= 0x45 && op <= 0xc4))
        return IMM_NONE;
    if (op == 0x0c || op == 0x0d || op == 0x10 || (op >= 0x20 && op <= 0x26) || op == 0xd2)
        return IMM_IDX;
    if (op == 0x11 || (op >= 0x28 && op <= 0x3e))
        return IMM_IDX2;
    switch (op) {
    case 0x0e:
        return IMM_BR_TABLE;
    case 0x1c:
        return IMM_SELECT_T;
    case 0x3f:
    case 0x40:
        return IMM_ZERO;
    case 0x41:
        return IMM_I32;
    case 0x42:
        return IMM_I64;
    case 0x43:
        return IMM_F32;
    case 0x44:
        return IMM_F64;
    case 0xd0:
        return IMM_REFTYPE;
    }
    return IMM_ILLEGAL;
}

static sl_err
cx_zero(sl_dec *d)
{
    uint8_t b = 0;
    sl_err r = sl__dec_byte(d, &b);
    if (r == SL_OK && b != 0)
        return sl__dec_fail(d, d->pos - 1, "zero byte expected");
    return r;
}

static sl_err
cx_vec(sl_dec *d, bool valtypes)
{
    uint32_t n = 0, x = 0;
    uint8_t t = 0;
    sl_err r = sl__dec_len(d, &n);
    for (uint32_t i = 0; r == SL_OK && i < n; i++)
        r = valtypes ? sl__dec_valtype(d, &t) : sl__dec_u32(d, &x);
    return r;
}

/* Skips the immediates of a non-constant opcode (not block/loop/if/0xfc). */
static sl_err
cx_skip_imm(sl_dec *d, uint8_t op, size_t at)
{
    uint32_t x = 0;
    int32_t i32 = 0;
    int64_t i64 = 0;
    const uint8_t *raw = NULL;
    uint8_t t = 0;
    ut_leb_err e;
    sl_err r;
    switch (cx_imm_kind(op)) {
    case IMM_NONE:
        return SL_OK;
    case IMM_IDX:
        return sl__dec_u32(d, &x);
    case IMM_IDX2:
        r = sl__dec_u32(d, &x);
        return r ? r : sl__dec_u32(d, &x);
    case IMM_BR_TABLE:
        r = cx_vec(d, false);
        return r ? r : sl__dec_u32(d, &x);
    case IMM_SELECT_T:
        return cx_vec(d, true);
    case IMM_ZERO:
        return cx_zero(d);
    case IMM_I32:
        e = ut_leb_s32(d->buf, d->len, &d->pos, &i32);
        return e ? leb_fail(d, e) : SL_OK;
    case IMM_I64:
        e = ut_leb_s64(d->buf, d->len, &d->pos, &i64);
        return e ? leb_fail(d, e) : SL_OK;
    case IMM_F32:
        return sl__dec_bytes(d, 4, &raw);
    case IMM_F64:
        return sl__dec_bytes(d, 8, &raw);
    case IMM_REFTYPE:
        return sl__dec_reftype(d, &t);
    }
    return sl__dec_fail(d, at, "illegal opcode %02x", op);
}

/* 0xfc prefix: saturating truncations, bulk memory and table instructions. */
static sl_err
cx_skip_fc(sl_dec *d, size_t at)
{
    uint32_t sub = 0, x = 0;
    sl_err r = sl__dec_u32(d, &sub);
    if (r)
        return r;
    switch (sub) {
    case 8:
        r = sl__dec_u32(d, &x);
        return r ? r : cx_zero(d);
    case 10:
        r = cx_zero(d);
        return r ? r : cx_zero(d);
    case 11:
        return cx_zero(d);
    case 12:
    case 14:
        r = sl__dec_u32(d, &x);
        return r ? r : sl__dec_u32(d, &x);
    case 9:
    case 13:
    case 15:
    case 16:
    case 17:
        return sl__dec_u32(d, &x);
    }
    if (sub <= 7)
        return SL_OK;
    return sl__dec_fail(d, at, "illegal opcode fc %02" PRIx32, sub);
}

static sl_err
cx_open_block(cx_state *cx, uint8_t op)
{
    sl_dec *d = cx->d;
    sl_err r = SL_OK;
    ut_leb_err e;
    int64_t idx = 0;
    uint8_t t = 0;
    if (d->pos >= d->len)
        return sl__dec_fail(d, d->len, SL_MSG_END);
    uint8_t b = d->buf[d->pos];
    if (b == 0x40)
        d->pos++;
    else if ((b & 0xc0) == 0x40)
        r = sl__dec_valtype(d, &t);
    else if ((e = ut_leb_s33(d->buf, d->len, &d->pos, &idx)) != UT_LEB_OK)
        r = leb_fail(d, e);
    if (r)
        return r;
    if (cx->depth == cx->cap) {
        uint32_t cap = cx->cap ? cx->cap * 2 : 16;
        uint8_t *p = realloc(cx->blocks, cap);
        if (!p)
            return sl__dec_nomem(d);
        cx->blocks = p, cx->cap = cap;
    }
    cx->blocks[cx->depth++] = op == 0x04 ? CX_IF : CX_BLOCK;
    return SL_OK;
}

/* end (0x0b) and else (0x05). */
static sl_err
cx_end_or_else(cx_state *cx, uint8_t op, size_t at)
{
    if (op == 0x0b) {
        if (cx->depth == 0)
            cx->done = true;
        else
            cx->depth--;
        return SL_OK;
    }
    if (cx->depth > 0 && cx->blocks[cx->depth - 1] == CX_IF) {
        cx->blocks[cx->depth - 1] = CX_ELSE;
        return SL_OK;
    }
    return sl__dec_fail(cx->d, at, "END opcode expected");
}

static void
cx_global_get(cx_state *cx, uint32_t x, size_t at, uint8_t *type)
{
    const sl_module *m = cx->d->m;
    if (x >= m->n_global_imports) {
        sl__dec_note(cx->verr, at, "unknown global %" PRIu32, x);
        *type = 0;
        return;
    }
    if (m->global_types[x].is_mutable)
        sl__dec_note(cx->verr, at, "constant expression required");
    *type = m->global_types[x].type;
}

/* One constant instruction at the top level of the expression. */
static sl_err
cx_const(cx_state *cx, uint8_t op, size_t at, sl_constexpr *out)
{
    sl_dec *d = cx->d;
    sl_constexpr c = {0};
    const uint8_t *raw = NULL;
    uint8_t t = 0;
    ut_leb_err e = UT_LEB_OK;
    sl_err r = SL_OK;
    switch (op) {
    case 0x41:
        c.op = SL_CONST_I32, t = SL_I32;
        e = ut_leb_s32(d->buf, d->len, &d->pos, &c.value.i32);
        break;
    case 0x42:
        c.op = SL_CONST_I64, t = SL_I64;
        e = ut_leb_s64(d->buf, d->len, &d->pos, &c.value.i64);
        break;
    case 0x43:
    case 0x44:
        c.op = op == 0x43 ? SL_CONST_F32 : SL_CONST_F64, t = op == 0x43 ? SL_F32 : SL_F64;
        if ((r = sl__dec_bytes(d, op == 0x43 ? 4 : 8, &raw)) == SL_OK) {
            for (int i = op == 0x43 ? 3 : 7; i >= 0; i--)
                c.value.bits = (c.value.bits << 8) | raw[i];
        }
        break;
    case 0x23:
        c.op = SL_CONST_GLOBAL_GET;
        if ((r = sl__dec_u32(d, &c.index)) == SL_OK)
            cx_global_get(cx, c.index, at, &t);
        break;
    case 0xd0:
        c.op = SL_CONST_REF_NULL;
        r = sl__dec_reftype(d, &c.reftype);
        t = c.reftype;
        break;
    default: /* 0xd2 */
        c.op = SL_CONST_REF_FUNC, t = SL_FUNCREF;
        if ((r = sl__dec_u32(d, &c.index)) == SL_OK && c.index >= d->m->n_funcs)
            sl__dec_note(&cx->type_err, at, "unknown function %" PRIu32, c.index);
        break;
    }
    if (e)
        return leb_fail(d, e);
    if (r)
        return r;
    if (++cx->n_values == 1)
        *out = c;
    cx->top = t;
    return SL_OK;
}

static bool
cx_is_const_op(uint8_t op)
{
    return (op >= 0x41 && op <= 0x44) || op == 0x23 || op == 0xd0 || op == 0xd2;
}

static sl_err
cx_step(cx_state *cx, sl_constexpr *out)
{
    sl_dec *d = cx->d;
    size_t at = d->pos;
    if (at >= d->len)
        return sl__dec_fail(d, d->len, SL_MSG_END);
    uint8_t op = d->buf[d->pos++];
    if (op == 0x0b || op == 0x05)
        return cx_end_or_else(cx, op, at);
    if (cx->depth == 0 && cx_is_const_op(op))
        return cx_const(cx, op, at, out);
    if (cx->depth == 0) {
        sl__dec_note(cx->verr, at, "constant expression required");
        cx->n_values++;
        cx->top = 0;
    }
    if (op >= 0x02 && op <= 0x04)
        return cx_open_block(cx, op);
    if (op == 0xfc)
        return cx_skip_fc(d, at);
    if (op == 0xfd)
        return sl__dec_unsupported(d, at, "SIMD instructions are not implemented yet");
    return cx_skip_imm(d, op, at);
}

sl_err
sl__dec_constexpr(sl_dec *d, uint8_t expected, sl_constexpr *out, sl_diag *verr)
{
    cx_state cx = {.d = d, .verr = verr};
    size_t start = d->pos;
    sl_err r;
    memset(out, 0, sizeof *out);
    memset(verr, 0, sizeof *verr);
    do
        r = cx_step(&cx, out);
    while (r == SL_OK && !cx.done);
    free(cx.blocks);
    if (r || verr->err)
        return r;
    if (cx.type_err.err) {
        *verr = cx.type_err;
    } else if (cx.n_values != 1 || cx.top != expected) {
        char got[32] = "";
        if (cx.n_values == 1)
            snprintf(got, sizeof got, "%s", sl__valtype_name(cx.top));
        else if (cx.n_values > 1)
            snprintf(got, sizeof got, "%" PRIu32 " values", cx.n_values);
        sl__dec_note(verr, start, "type mismatch: constant expression requires [%s] but has [%s]",
                     sl__valtype_name(expected), got);
    }
    return SL_OK;
}

/* ---- custom and name sections ------------------------------------------------ */

static sl_err
dec_custom(sl_dec *d, uint32_t size)
{
    size_t start = d->pos;
    const uint8_t *name = NULL;
    uint32_t n = 0;
    sl_err r = sl__dec_name(d, NULL, &name, &n);
    if (r)
        return r;
    size_t used = d->pos - start;
    /* The spec skips size - used bytes: negative or past the end is EOF. */
    if (used > size || size - used > d->len - d->pos)
        return sl__dec_fail(d, d->len, SL_MSG_END);
    if (n == 4 && memcmp(name, "name", 4) == 0 && !d->has_name_sec) {
        d->has_name_sec = true;
        d->name_off = d->pos;
        d->name_end = start + size;
    }
    d->pos = start + size;
    return SL_OK;
}

static void
drop_names(sl_module *m)
{
    if (m->func_names) {
        for (uint32_t i = 0; i < m->n_funcs; i++)
            free(m->func_names[i]);
        free(m->func_names);
        m->func_names = NULL;
    }
    free(m->module_name);
    m->module_name = NULL;
}

/* Subsection 1: vec of (funcidx, name). Later duplicates are ignored. */
static sl_err
dec_func_names(sl_dec *s)
{
    sl_module *m = s->m;
    uint32_t n = 0, idx = 0;
    sl_err r = sl__dec_len(s, &n);
    if (r)
        return r;
    if (!m->func_names) {
        m->func_names = calloc(m->n_funcs ? m->n_funcs : 1, sizeof *m->func_names);
        if (!m->func_names)
            return sl__dec_nomem(s);
    }
    for (uint32_t i = 0; i < n; i++) {
        char *name = NULL;
        if ((r = sl__dec_u32(s, &idx)) || (r = sl__dec_name(s, &name, NULL, NULL)))
            return r;
        if (idx < m->n_funcs && !m->func_names[idx])
            m->func_names[idx] = name;
        else
            free(name);
    }
    return SL_OK;
}

static sl_err
dec_name_subsection(sl_dec *s)
{
    uint8_t id = 0;
    uint32_t size = 0;
    sl_err r = sl__dec_byte(s, &id);
    if (r == SL_OK)
        r = sl__dec_len(s, &size);
    if (r)
        return r;
    if (size > s->len - s->pos)
        return sl__dec_fail(s, s->pos, SL_MSG_END);
    sl_dec sub = *s;
    sub.len = s->pos + size;
    if (id == 0 && !s->m->module_name)
        r = sl__dec_name(&sub, &s->m->module_name, NULL, NULL);
    else if (id == 1)
        r = dec_func_names(&sub);
    s->pos = sub.len;
    return r;
}

/* The "name" custom section is a debugging aid: whatever is malformed in it
 * makes us drop it, never the module. Only running out of memory fails. */
static sl_err
dec_names(sl_dec *d)
{
    if (!d->has_name_sec)
        return SL_OK;
    sl_diag scratch;
    sl_dec s = *d;
    s.diag = &scratch;
    s.pos = d->name_off;
    s.len = d->name_end;
    sl_err r = SL_OK;
    while (r == SL_OK && s.pos < s.len)
        r = dec_name_subsection(&s);
    if (r == SL_ERR_NOMEM)
        return sl__dec_nomem(d);
    if (r)
        drop_names(d->m);
    return SL_OK;
}

/* ---- the module ------------------------------------------------------------ */

static sl_err
dec_header(sl_dec *d)
{
    static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6d};
    static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
    if (d->len < 4)
        return sl__dec_fail(d, d->len, "unexpected end");
    if (memcmp(d->buf, magic, 4) != 0)
        return sl__dec_fail(d, 0, "magic header not detected");
    if (d->len < 8)
        return sl__dec_fail(d, d->len, "unexpected end");
    if (memcmp(d->buf + 4, version, 4) != 0)
        return sl__dec_fail(d, 4, "unknown binary version");
    d->pos = 8;
    return SL_OK;
}

static sl_err
dec_section(sl_dec *d, uint8_t id, uint32_t size)
{
    switch (id) {
    case 0:
        return dec_custom(d, size);
    case 1:
        return sl__dec_type_section(d);
    case 2:
        return sl__dec_import_section(d);
    case 3:
        return sl__dec_func_section(d);
    case 4:
        return sl__dec_table_section(d);
    case 5:
        return sl__dec_memory_section(d);
    case 6:
        return sl__dec_global_section(d);
    case 7:
        return sl__dec_export_section(d);
    case 8:
        return sl__dec_start_section(d);
    case 9:
        return sl__dec_elem_section(d);
    case 10:
        return sl__dec_code_section(d);
    case 11:
        return sl__dec_data_section(d);
    default:
        return sl__dec_datacount_section(d);
    }
}

static sl_err
dec_sections(sl_dec *d)
{
    /* Position of each section id in the required order (datacount, 12,
     * comes before code, 10). */
    static const uint8_t rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    unsigned last = 0;
    while (d->pos < d->len) {
        size_t at = d->pos;
        uint8_t id = d->buf[d->pos];
        if (id > 12)
            return sl__dec_fail(d, at, "malformed section id");
        if (id != 0) {
            if (rank[id] <= last)
                return sl__dec_fail(d, at, SL_MSG_JUNK);
            last = rank[id];
        }
        d->pos++;
        uint32_t size = 0;
        sl_err r = sl__dec_len(d, &size);
        if (r)
            return r;
        size_t start = d->pos;
        if ((r = dec_section(d, id, size)))
            return r;
        if (d->pos != start + size)
            return sl__dec_fail(d, start, "section size mismatch");
    }
    return SL_OK;
}

static void
mark_ref(sl_module *m, const sl_constexpr *c)
{
    if (c->op == SL_CONST_REF_FUNC && c->index < m->n_funcs)
        m->func_declared[c->index] = 1;
}

/* C.refs of the spec: functions named by ref.func outside function bodies
 * (global initialisers, element segments) or exported. */
static sl_err
mark_declared(sl_dec *d)
{
    sl_module *m = d->m;
    m->func_declared = calloc(m->n_funcs ? m->n_funcs : 1, 1);
    if (!m->func_declared)
        return sl__dec_nomem(d);
    for (uint32_t i = 0; i < m->n_globals - m->n_global_imports; i++)
        mark_ref(m, &m->globals[i].init);
    for (uint32_t i = 0; i < m->n_elems; i++) {
        mark_ref(m, &m->elems[i].offset);
        for (uint32_t j = 0; j < m->elems[i].n_items; j++)
            mark_ref(m, &m->elems[i].items[j]);
    }
    for (uint32_t i = 0; i < m->n_datas; i++)
        mark_ref(m, &m->datas[i].offset);
    for (uint32_t i = 0; i < m->n_exports; i++) {
        if (m->exports[i].kind == SL_EXTERN_FUNC && m->exports[i].index < m->n_funcs)
            m->func_declared[m->exports[i].index] = 1;
    }
    return SL_OK;
}

static sl_err
lower_all(sl_dec *d)
{
    sl__diag(d->diag, SL_OK, SIZE_MAX, "ok");
    return sl__lower_funcs(d->m, d->buf, d->diag);
}

static sl_err
dec_finish(sl_dec *d)
{
    sl_module *m = d->m;
    sl_err r;
    if (d->n_func_decls != d->n_code)
        return sl__dec_fail(d, d->len, "function and code section have inconsistent lengths");
    if (m->has_data_count && m->data_count != m->n_datas)
        return sl__dec_fail(d, d->len, "data count and data section have inconsistent lengths");
    if (d->n_code > 0 && !m->funcs) /* cannot happen: see sl__dec_code_section */
        return sl__dec_fail(d, d->len, SL_MSG_END);
    if (d->deferred.err != SL_OK) {
        *d->diag = d->deferred;
        return d->deferred.err;
    }
    if (m->n_mems > 1)
        return sl__diag(d->diag, SL_ERR_INVALID, d->mem2_at, "multiple memories");
    if ((r = mark_declared(d)) || (r = dec_names(d)))
        return r;
    return lower_all(d);
}

sl_err
sl__module_decode(sl_module *m, const uint8_t *bytes, size_t len, sl_diag *diag)
{
    static const uint8_t none[1];
    sl_diag local;
    sl_dec d = {.m = m, .buf = bytes ? bytes : none, .len = bytes ? len : 0};
    d.diag = diag ? diag : &local;
    sl__diag(&d.deferred, SL_OK, SIZE_MAX, "ok");
    /* Offsets are stored as uint32_t (sl_funcdef). */
    if (len > UINT32_MAX)
        return sl__diag(d.diag, SL_ERR_LIMIT, 0, "module too large (%zu bytes)", len);
    sl_err r = dec_header(&d);
    if (r == SL_OK)
        r = dec_sections(&d);
    if (r == SL_OK)
        r = dec_finish(&d);
    return r;
}

/* ---- freeing ---------------------------------------------------------------- */

static void
clear_funcs(sl_module *m)
{
    if (!m->funcs)
        return;
    uint32_t n = m->n_funcs >= m->n_func_imports ? m->n_funcs - m->n_func_imports : 0;
    for (uint32_t i = 0; i < n; i++) {
        free(m->funcs[i].local_types);
        free(m->funcs[i].code.cells);
        free(m->funcs[i].code.consts);
    }
    free(m->funcs);
}

void
sl__module_clear(sl_module *m)
{
    if (!m)
        return;
    sl_engine *engine = m->engine;
    for (uint32_t i = 0; m->types && i < m->n_types; i++)
        free(m->types[i].types);
    free(m->types);
    for (uint32_t i = 0; m->imports && i < m->n_imports; i++) {
        free(m->imports[i].module);
        free(m->imports[i].name);
    }
    free(m->imports);
    clear_funcs(m);
    free(m->func_types);
    free(m->tables);
    free(m->mems);
    free(m->global_types);
    free(m->globals);
    for (uint32_t i = 0; m->exports && i < m->n_exports; i++)
        free(m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; m->elems && i < m->n_elems; i++)
        free(m->elems[i].items);
    free(m->elems);
    for (uint32_t i = 0; m->datas && i < m->n_datas; i++)
        free(m->datas[i].bytes);
    free(m->datas);
    free(m->func_declared);
    drop_names(m);
    memset(m, 0, sizeof *m);
    m->engine = engine;
}
