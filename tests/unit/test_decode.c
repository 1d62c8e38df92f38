/*
 * test_decode.c — unit tests for the binary decoder and module-level
 * validation (src/vm/sl_decode.c, sl_decode_sections.c, sl_module.c) and
 * the LEB128 readers (src/util/ut_leb128.h).
 *
 * Owns:     the structural error messages of the spec test suite (cases taken
 *           from binary.wast, binary-leb128.wast and custom.wast), the
 *           module-level validation messages (modules made with
 *           `wat2wasm --no-check` from global/elem/data/imports/exports/
 *           start/memory/table style sources, shown above each case), the
 *           decoded contents of a module that uses every section, ownership
 *           of the input bytes, leniency about the name section, the
 *           implementation limit on locals, and a robustness sweep (every
 *           truncation and many byte flips must decode or fail cleanly).
 * Lowerer:  sl__lower_funcs is stubbed below as a weak symbol, so this file
 *           links with the decoder objects alone; linked together with the
 *           real sl_lower.o, the real one wins and the stub-only checks are
 *           reported as skipped.
 * Build:    from the repository root (add -fsanitize=address,undefined for
 *           the sanitizer run):
 *             cc -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Iinclude \
 *                -Isrc/util -Isrc/vm tests/unit/test_decode.c \
 *                src/vm/sl_decode.c src/vm/sl_decode_sections.c \
 *                src/vm/sl_module.c -o build/test_decode && build/test_decode
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#include "sl_module.h"
#include "sl_runtime.h"
#include "ut_leb128.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_pass, n_fail;

static void
check(int cond, const char *name)
{
    printf("%s - %s\n", cond ? "ok" : "not ok", name);
    if (cond)
        n_pass++;
    else
        n_fail++;
}

static struct sl_engine engine; /* the decoder only stores the pointer */

/* ---- the stub lowerer ------------------------------------------------------- */

static int stub_calls;
static uint32_t stub_order[64];

__attribute__((weak)) sl_err
sl__lower_funcs(sl_module *m, const uint8_t *bytes, sl_diag *diag)
{
    for (uint32_t i = 0; i + m->n_func_imports < m->n_funcs; i++) {
        uint32_t index = m->n_func_imports + i;
        const sl_funcdef *f = &m->funcs[i];
        if (stub_calls < 64)
            stub_order[stub_calls] = index;
        stub_calls++;
        /* A body is an expression: it ends with the end opcode. */
        if (f->body_len == 0 || bytes[f->body_offset + f->body_len - 1] != 0x0b) {
            sl__diag(diag, SL_ERR_MALFORMED, f->body_offset + f->body_len, "END opcode expected");
            diag->func = index;
            return SL_ERR_MALFORMED;
        }
    }
    return SL_OK;
}

/* ---- helpers ------------------------------------------------------------------ */

static sl_err
decode(const uint8_t *bytes, size_t len, sl_module **m, sl_diag *d)
{
    memset(d, 0, sizeof *d);
    return sl_module_new(&engine, bytes, len, m, d);
}

/* ---- LEB128 ---------------------------------------------------------------- */

static int
leb_u32(const char *s, size_t n, uint32_t want, ut_leb_err want_err, size_t want_pos)
{
    size_t pos = 0;
    uint32_t v = 0;
    ut_leb_err e = ut_leb_u32((const uint8_t *)s, n, &pos, &v);
    return e == want_err && pos == want_pos && (e != UT_LEB_OK || v == want);
}

static int
leb_s(const char *s, size_t n, unsigned bits, int64_t want, ut_leb_err want_err)
{
    size_t pos = 0;
    int64_t v = 0;
    ut_leb_err e = ut_leb_read_signed((const uint8_t *)s, n, &pos, bits, &v);
    return e == want_err && (e != UT_LEB_OK || (v == want && pos == n));
}

static void
test_leb(void)
{
    check(leb_u32("\x00", 1, 0, UT_LEB_OK, 1) && leb_u32("\x7f", 1, 127, UT_LEB_OK, 1) &&
              leb_u32("\x80\x01", 2, 128, UT_LEB_OK, 2) &&
              leb_u32("\xff\xff\xff\xff\x0f", 5, UINT32_MAX, UT_LEB_OK, 5) &&
              leb_u32("\x82\x80\x80\x80\x00", 5, 2, UT_LEB_OK, 5),
          "leb u32 values, non-minimal encodings accepted");
    check(leb_u32("\x82\x80\x80\x80\x80\x00", 6, 0, UT_LEB_TOO_LONG, 5) &&
              leb_u32("\x82\x80\x80\x80\x10", 5, 0, UT_LEB_TOO_LARGE, 4) &&
              leb_u32("\x80\x80", 2, 0, UT_LEB_END, 2) && leb_u32("", 0, 0, UT_LEB_END, 0),
          "leb u32 errors and their offsets");
    check(leb_s("\x7f", 1, 32, -1, UT_LEB_OK) && leb_s("\x40", 1, 32, -64, UT_LEB_OK) &&
              leb_s("\x80\x80\x80\x80\x78", 5, 32, INT32_MIN, UT_LEB_OK) &&
              leb_s("\xff\xff\xff\xff\x07", 5, 32, INT32_MAX, UT_LEB_OK),
          "leb s32 values and sign extension");
    check(leb_s("\x80\x80\x80\x80\x70", 5, 32, 0, UT_LEB_TOO_LARGE) &&
              leb_s("\xff\xff\xff\xff\x77", 5, 32, 0, UT_LEB_TOO_LARGE) &&
              leb_s("\xff\xff\xff\xff\x0f", 5, 32, 0, UT_LEB_TOO_LARGE) &&
              leb_s("\x80\x80\x80\x80\x80\x00", 6, 32, 0, UT_LEB_TOO_LONG),
          "leb s32 errors");
    check(leb_s("\xff\xff\xff\xff\x0f", 5, 33, 0xffffffffLL, UT_LEB_OK) &&
              leb_s("\x80\x80\x80\x80\x70", 5, 33, -(1LL << 32), UT_LEB_OK) &&
              leb_s("\x80\x80\x80\x80\x60", 5, 33, 0, UT_LEB_TOO_LARGE),
          "leb s33 (block types)");
    check(leb_s("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7f", 10, 64, INT64_MIN, UT_LEB_OK) &&
              leb_s("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00", 10, 64, INT64_MAX, UT_LEB_OK) &&
              leb_s("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7e", 10, 64, 0, UT_LEB_TOO_LARGE) &&
              leb_s("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x41", 10, 64, 0, UT_LEB_TOO_LARGE),
          "leb s64 limits");
    size_t pos = 0;
    uint64_t u = 0;
    int ok = ut_leb_u64((const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10, &pos,
                        &u) == UT_LEB_OK &&
             u == UINT64_MAX;
    pos = 0;
    ok = ok && ut_leb_u64((const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10, &pos,
                          &u) == UT_LEB_TOO_LARGE;
    check(ok, "leb u64 limits");
    check(strcmp(ut_leb_err_str(UT_LEB_TOO_LONG), "integer representation too long") == 0 &&
              strcmp(ut_leb_err_str(UT_LEB_TOO_LARGE), "integer too large") == 0,
          "leb error strings are the spec's");
}

/* ---- structural and validation messages -------------------------------------------- */

typedef struct bin_case {
    sl_err err;
    const char *msg; /* NULL: must decode; else a substring of the message */
    const char *bytes;
    size_t len;
} bin_case;

#define B(s) s, sizeof(s) - 1

/* Structural cases from the spec test suite (binary.wast, binary-leb128.wast,
 * custom.wast) plus our own (UTF-8, value types, constant-expression
 * structure, adversarial lengths, lenient name section). The suite's message
 * is a substring of ours; see SL_MSG_JUNK and sl__dec_len for the two cases
 * where we give both of its wordings. */
static const bin_case malformed_cases[] = {
    {SL_ERR_MALFORMED, "unexpected end",
     B("")},
    {SL_ERR_MALFORMED, "unexpected end",
     B("\001")},
    {SL_ERR_MALFORMED, "unexpected end",
     B("\000\141\163")},
    {SL_ERR_MALFORMED, "magic header not detected",
     B("\141\163\155\000")},
    {SL_ERR_MALFORMED, "magic header not detected",
     B("\000\101\123\115\001\000\000\000")},
    {SL_ERR_MALFORMED, "unexpected end",
     B("\000\141\163\155")},
    {SL_ERR_MALFORMED, "unexpected end",
     B("\000\141\163\155\001\000\000")},
    {SL_ERR_MALFORMED, "unknown binary version",
     B("\000\141\163\155\000\000\000\000")},
    {SL_ERR_MALFORMED, "unknown binary version",
     B("\000\141\163\155\015\000\000\000")},
    {SL_ERR_MALFORMED, "malformed section id",
     B("\000\141\163\155\001\000\000\000\015\000")},
    {SL_ERR_MALFORMED, "malformed section id",
     B("\000\141\163\155\001\000\000\000\177\000")},
    {SL_ERR_MALFORMED, "malformed section id",
     B("\000\141\163\155\001\000\000\000\200\000\001\000")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\005\004\001\000\202\000")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\005\007\001\000\202\200\200\200\000")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\006\007\001\177\000\101\200\000\013")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\006\012\001\177\000\101\377\377\377\377\177\013")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\006\017\001\176\000\102\200\200\200\200\200\200\200"
       "\200\200\000\013")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\005\003\001\000\000\013\006\001\000\101\000\013\000")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\004\004\001\160\000\000\011\006\001\000\101\000\013"
       "\000")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\005\003\001\000\000\013\007\001\200\000\101\000\013"
       "\000")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\004\004\001\160\000\000\011\011\001\002\200\000\101"
       "\000\013\000\000")},
    {SL_ERR_MALFORMED, "integer representation too long",
     B("\000\141\163\155\001\000\000\000\005\010\001\000\202\200\200\200\200\000")},
    {SL_ERR_MALFORMED, "integer representation too long",
     B("\000\141\163\155\001\000\000\000\006\013\001\177\000\101\200\200\200\200\200\000\013")},
    {SL_ERR_MALFORMED, "integer representation too long",
     B("\000\141\163\155\001\000\000\000\006\020\001\176\000\102\200\200\200\200\200\200\200"
       "\200\200\200\000\013")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\005\007\001\000\202\200\200\200\160")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\005\007\001\000\202\200\200\200\100")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\006\012\001\177\000\101\200\200\200\200\160\013")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\006\012\001\177\000\101\377\377\377\377\017\013")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\006\012\001\177\000\101\200\200\200\200\037\013")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\006\012\001\177\000\101\377\377\377\377\117\013")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\006\017\001\176\000\102\200\200\200\200\200\200\200"
       "\200\200\176\013")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\006\017\001\176\000\102\377\377\377\377\377\377\377"
       "\377\377\001\013")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\006\017\001\176\000\102\200\200\200\200\200\200\200"
       "\200\200\002\013")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\006\017\001\176\000\102\377\377\377\377\377\377\377"
       "\377\377\101\013")},
    {SL_ERR_MALFORMED, "too many locals",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\012\014\001"
       "\012\002\377\377\377\377\017\177\002\176\013")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\012\012\001"
       "\010\003\000\177\000\176\002\175\013")},
    {SL_ERR_MALFORMED, "function and code section have inconsistent lengths",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\003\002\000\000")},
    {SL_ERR_MALFORMED, "function and code section have inconsistent lengths",
     B("\000\141\163\155\001\000\000\000\012\004\001\002\000\013")},
    {SL_ERR_MALFORMED, "function and code section have inconsistent lengths",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\003\002\000\000\012\004"
       "\001\002\000\013")},
    {SL_ERR_MALFORMED, "function and code section have inconsistent lengths",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\012\007\002"
       "\002\000\013\002\000\013")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\003\001\000")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\012\001\000")},
    {SL_ERR_MALFORMED, "data count and data section have inconsistent lengths",
     B("\000\141\163\155\001\000\000\000\014\001\003\013\005\002\001\000\001\000")},
    {SL_ERR_MALFORMED, "data count and data section have inconsistent lengths",
     B("\000\141\163\155\001\000\000\000\014\001\001\013\005\002\001\000\001\000")},
    {SL_ERR_MALFORMED, "illegal opcode",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\004\004\001"
       "\160\000\000\005\003\001\000\000\011\007\001\005\160\001\325\000\013\012\004\001\002"
       "\000\013")},
    {SL_ERR_MALFORMED, "malformed reference type",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\004\004\001"
       "\160\000\000\005\003\001\000\000\011\007\001\005\177\001\322\000\013\012\004\001\002"
       "\000\013")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\004\004\001"
       "\160\000\000\005\003\001\000\000\011\007\001\005\160\001\322\000\013\012\004\001\002"
       "\000\013")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\004\004\001"
       "\160\000\000\005\003\001\000\000\011\007\001\005\160\001\320\160\013\012\004\001\002"
       "\000\013")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\001\001\000")},
    {SL_ERR_MALFORMED, "unexpected end of section or function",
     B("\000\141\163\155\001\000\000\000\001\007\002\140\000\000")},
    {SL_ERR_MALFORMED, "section size mismatch",
     B("\000\141\163\155\001\000\000\000\001\007\001\140\000\000\140\000\000")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\001\005\001\140\001\177\000\002\001\000")},
    {SL_ERR_MALFORMED, "malformed import kind",
     B("\000\141\163\155\001\000\000\000\002\004\001\000\000\004")},
    {SL_ERR_MALFORMED, "malformed import kind",
     B("\000\141\163\155\001\000\000\000\002\005\001\000\000\004\000")},
    {SL_ERR_MALFORMED, "malformed import kind",
     B("\000\141\163\155\001\000\000\000\002\004\001\000\000\005")},
    {SL_ERR_MALFORMED, "malformed import kind",
     B("\000\141\163\155\001\000\000\000\002\004\001\000\000\200")},
    {SL_ERR_MALFORMED, "unexpected end of section or function",
     B("\000\141\163\155\001\000\000\000\001\005\001\140\001\177\000\002\026\002\010\163\160"
       "\145\143\164\145\163\164\011\160\162\151\156\164\137\151\063\062\000\000")},
    {SL_ERR_MALFORMED, "section size mismatch",
     B("\000\141\163\155\001\000\000\000\001\011\002\140\001\177\000\140\001\175\000\002\053"
       "\001\010\163\160\145\143\164\145\163\164\011\160\162\151\156\164\137\151\063\062\000"
       "\000\010\163\160\145\143\164\145\163\164\011\160\162\151\156\164\137\146\063\062\000"
       "\001")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\004\001\000")},
    {SL_ERR_MALFORMED, "unexpected end of section or function",
     B("\000\141\163\155\001\000\000\000\004\001\001")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\005\003\001\160\002")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\005\004\001\160\002\000")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\005\006\001\160\201\000\000\000")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\005\001\000")},
    {SL_ERR_MALFORMED, "unexpected end of section or function",
     B("\000\141\163\155\001\000\000\000\005\001\001")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\005\002\001\002")},
    {SL_ERR_MALFORMED, "integer too large",
     B("\000\141\163\155\001\000\000\000\005\003\001\002\000")},
    {SL_ERR_MALFORMED, "integer representation too long",
     B("\000\141\163\155\001\000\000\000\005\005\001\201\000\000\000")},
    {SL_ERR_MALFORMED, "integer representation too long",
     B("\000\141\163\155\001\000\000\000\005\005\001\201\001\000\000")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\006\001\000")},
    {SL_ERR_MALFORMED, "unexpected end of section or function",
     B("\000\141\163\155\001\000\000\000\006\006\002\177\000\101\000\013")},
    {SL_ERR_MALFORMED, "section size mismatch",
     B("\000\141\163\155\001\000\000\000\006\013\001\177\000\101\000\013\177\000\101\000\013")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\003\002\000\000\007\001"
       "\000\012\007\002\002\000\013\002\000\013")},
    {SL_ERR_MALFORMED, "unexpected end of section or function",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\003\002\000\000\007\006"
       "\002\002\146\061\000\000\012\007\002\002\000\013\002\000\013")},
    {SL_ERR_MALFORMED, "section size mismatch",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\003\002\000\000\007\013"
       "\001\002\146\061\000\000\002\146\062\000\001\012\007\002\002\000\013\002\000\013")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\004\004\001"
       "\160\000\001\011\001\000\012\004\001\002\000\013")},
    {SL_ERR_MALFORMED, "malformed elements segment kind",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\004\004\001"
       "\160\000\001\011\007\002\000\101\000\013\001\000\012\004\001\002\000\013")},
    {SL_ERR_MALFORMED, "section size mismatch",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\004\004\001"
       "\160\000\001\011\015\001\000\101\000\013\001\000\000\101\000\013\001\000\012\004\001"
       "\002\000\013")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\005\003\001\000\001\013\001\000")},
    {SL_ERR_MALFORMED, "unexpected end of section or function",
     B("\000\141\163\155\001\000\000\000\005\003\001\000\001\013\007\002\000\101\000\013\001"
       "\141")},
    {SL_ERR_MALFORMED, "section size mismatch",
     B("\000\141\163\155\001\000\000\000\005\003\001\000\001\013\015\001\000\101\000\013\001"
       "\141\000\101\001\013\001\142")},
    {SL_ERR_MALFORMED, "unexpected end of section or function",
     B("\000\141\163\155\001\000\000\000\005\003\001\000\001\013\014\001\000\101\003\013\007"
       "\141\142\143\144\145\146")},
    {SL_ERR_MALFORMED, "section size mismatch",
     B("\000\141\163\155\001\000\000\000\005\003\001\000\001\013\014\001\000\101\000\013\005"
       "\141\142\143\144\145\146")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\010\001\000"
       "\012\004\001\002\000\013")},
    {SL_ERR_MALFORMED, "junk after last section",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\010\001\000"
       "\010\001\000\012\004\001\002\000\013")},
    {SL_ERR_MALFORMED, "unexpected content after last section",
     B("\000\141\163\155\001\000\000\000\004\001\000\003\001\000")},
    {SL_ERR_MALFORMED, "unexpected content after last section",
     B("\000\141\163\155\001\000\000\000\011\001\000\011\001\000")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\000\044\020\141\040\143\165\163\164\157\155\040\163"
       "\145\143\164\151\157\156\164\150\151\163\040\151\163\040\164\150\145\040\160\141\171"
       "\154\157\141\144\000\040\020\141\040\143\165\163\164\157\155\040\163\145\143\164\151"
       "\157\156\164\150\151\163\040\151\163\040\160\141\171\154\157\141\144\000\021\020\141"
       "\040\143\165\163\164\157\155\040\163\145\143\164\151\157\156\000\020\000\164\150\151"
       "\163\040\151\163\040\160\141\171\154\157\141\144\000\001\000\000\044\020\000\000\143"
       "\165\163\164\157\155\040\163\145\143\164\151\157\000\164\150\151\163\040\151\163\040"
       "\164\150\145\040\160\141\171\154\157\141\144\000\044\020\357\273\277\141\040\143\165"
       "\163\164\157\155\040\163\145\143\164\164\150\151\163\040\151\163\040\164\150\145\040"
       "\160\141\171\154\157\141\144\000\044\020\141\040\143\165\163\164\157\155\040\163\145"
       "\143\164\342\214\243\164\150\151\163\040\151\163\040\164\150\145\040\160\141\171\154"
       "\157\141\144\000\037\026\155\157\144\165\154\145\040\167\151\164\150\151\156\040\141"
       "\040\155\157\144\165\154\145\000\141\163\155\001\000\000\000")},
    {SL_ERR_MALFORMED, "unexpected end",
     B("\000\141\163\155\001\000\000\000\000")},
    {SL_ERR_MALFORMED, "unexpected end",
     B("\000\141\163\155\001\000\000\000\000\000")},
    {SL_ERR_MALFORMED, "unexpected end",
     B("\000\141\163\155\001\000\000\000\000\000\000\005\001\000\007\000\000")},
    {SL_ERR_MALFORMED, "unexpected end",
     B("\000\141\163\155\001\000\000\000\000\046\020\141\040\143\165\163\164\157\155\040\163"
       "\145\143\164\151\157\156\164\150\151\163\040\151\163\040\164\150\145\040\160\141\171"
       "\154\157\141\144")},
    {SL_ERR_MALFORMED, "malformed section id",
     B("\000\141\163\155\001\000\000\000\000\045\020\141\040\143\165\163\164\157\155\040\163"
       "\145\143\164\151\157\156\164\150\151\163\040\151\163\040\164\150\145\040\160\141\171"
       "\154\157\141\144\000\044\020\141\040\143\165\163\164\157\155\040\163\145\143\164\151"
       "\157\156\164\150\151\163\040\151\163\040\164\150\145\040\160\141\171\154\157\141\144")},
    {SL_ERR_MALFORMED, "function and code section have inconsistent lengths",
     B("\000\141\163\155\001\000\000\000\001\007\001\140\002\177\177\001\177\000\045\020\141"
       "\040\143\165\163\164\157\155\040\163\145\143\164\151\157\156\164\150\151\163\040\151"
       "\163\040\164\150\145\040\160\141\171\154\157\141\144\003\002\001\000\012\011\001\007"
       "\000\040\000\040\001\152\013\000\033\007\143\165\163\164\157\155\062\164\150\151\163"
       "\040\151\163\040\164\150\145\040\160\141\171\154\157\141\144")},
    {SL_ERR_MALFORMED, "length out of bounds",
     B("\000\141\163\155\001\000\000\000\000\141\163\155\001\000\000\000")},
    {SL_ERR_MALFORMED, "malformed UTF-8 encoding",
     B("\000\141\163\155\001\000\000\000\000\002\001\200")},
    {SL_ERR_MALFORMED, "malformed UTF-8 encoding",
     B("\000\141\163\155\001\000\000\000\000\003\002\300\200")},
    {SL_ERR_MALFORMED, "malformed UTF-8 encoding",
     B("\000\141\163\155\001\000\000\000\000\004\003\355\240\200")},
    {SL_ERR_MALFORMED, "malformed UTF-8 encoding",
     B("\000\141\163\155\001\000\000\000\000\005\004\364\220\200\200")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\000\005\004\364\217\277\277")},
    {SL_ERR_MALFORMED, "malformed UTF-8 encoding",
     B("\000\141\163\155\001\000\000\000\002\006\001\001\377\000\000\000")},
    {SL_ERR_MALFORMED, "malformed mutability",
     B("\000\141\163\155\001\000\000\000\006\006\001\177\002\101\000\013")},
    {SL_ERR_MALFORMED, "malformed mutability",
     B("\000\141\163\155\001\000\000\000\006\006\001\177\377\101\000\013")},
    {SL_ERR_MALFORMED, "malformed export kind",
     B("\000\141\163\155\001\000\000\000\007\004\001\000\004\000")},
    {SL_ERR_MALFORMED, "malformed function type",
     B("\000\141\163\155\001\000\000\000\001\004\001\141\000\000")},
    {SL_ERR_MALFORMED, "integer representation too long",
     B("\000\141\163\155\001\000\000\000\001\005\001\340\177\000\000")},
    {SL_ERR_MALFORMED, "malformed reference type",
     B("\000\141\163\155\001\000\000\000\001\005\001\140\001\100\000")},
    {SL_ERR_MALFORMED, "malformed vector type",
     B("\000\141\163\155\001\000\000\000\001\005\001\140\001\172\000")},
    {SL_ERR_INVALID, "unsupported",
     B("\000\141\163\155\001\000\000\000\001\005\001\140\001\173\000")},
    {SL_ERR_MALFORMED, "malformed data segment kind",
     B("\000\141\163\155\001\000\000\000\005\003\001\000\001\013\003\001\003\000")},
    {SL_ERR_MALFORMED, "malformed element kind",
     B("\000\141\163\155\001\000\000\000\011\004\001\001\001\000")},
    {SL_ERR_MALFORMED, "END opcode expected",
     B("\000\141\163\155\001\000\000\000\006\006\001\177\000\101\000\005")},
    {SL_ERR_MALFORMED, "zero byte expected",
     B("\000\141\163\155\001\000\000\000\006\006\001\177\000\077\001\013")},
    {SL_ERR_INVALID, "constant expression required",
     B("\000\141\163\155\001\000\000\000\006\006\001\177\000\077\000\013")},
    {SL_ERR_MALFORMED, "illegal opcode fc 12",
     B("\000\141\163\155\001\000\000\000\006\006\001\177\000\374\022\013")},
    {SL_ERR_MALFORMED, "illegal opcode 06",
     B("\000\141\163\155\001\000\000\000\006\005\001\177\000\006\013")},
    {SL_ERR_INVALID, "constant expression required",
     B("\000\141\163\155\001\000\000\000\006\014\001\177\000\004\177\101\000\005\101\001\013"
       "\013")},
    {SL_ERR_MALFORMED, "END opcode expected",
     B("\000\141\163\155\001\000\000\000\006\015\001\177\000\002\177\101\000\005\101\001\013"
       "\013\013")},
    {SL_ERR_MALFORMED, "END opcode expected",
     B("\000\141\163\155\001\000\000\000\006\015\001\177\000\004\177\101\000\005\101\001\005"
       "\013\013")},
    {SL_ERR_MALFORMED, "unexpected end of section or function",
     B("\000\141\163\155\001\000\000\000\006\006\001\177\000\002\100\013")},
    {SL_ERR_MALFORMED, "length out of bounds",
     B("\000\141\163\155\001\000\000\000\001\005\377\377\377\377\017")},
    {SL_ERR_MALFORMED, "unexpected end of section or function",
     B("\000\141\163\155\001\000\000\000\001\012\011\140\000\000\140\000\000")},
    {SL_ERR_MALFORMED, "length out of bounds",
     B("\000\141\163\155\001\000\000\000\013\007\001\001\377\377\377\377\017")},
    {SL_ERR_MALFORMED, "length out of bounds",
     B("\000\141\163\155\001\000\000\000\001\377\377\377\377\017")},
    {SL_ERR_MALFORMED, "unexpected end",
     B("\000\141\163\155\001\000\000\000\001\200")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\000\007\004\156\141\155\145\001\377")},
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\000\012\004\156\141\155\145\001\003\001\000\200")},
};

/* Module-level validation; each made by wat2wasm --no-check from the source
 * in the comment above it. */
static const bin_case invalid_cases[] = {
    /* (module (global i32 (global.get 0))) */
    {SL_ERR_INVALID, "unknown global 0",
     B("\000\141\163\155\001\000\000\000\006\006\001\177\000\043\000\013")},
    /* (module (global i32 (i32.const 0)) (global i32 (global.get 0))) */
    {SL_ERR_INVALID, "unknown global 0",
     B("\000\141\163\155\001\000\000\000\006\013\002\177\000\101\000\013\177\000\043\000\013")},
    /* (module (global (import "" "") i32) (global i32 (global.get 1))) */
    {SL_ERR_INVALID, "unknown global 1",
     B("\000\141\163\155\001\000\000\000\002\006\001\000\000\003\177\000\006\006\001\177\000"
       "\043\001\013")},
    /* (module (global (import "" "") (mut i32)) (global i32 (global.get 0))) */
    {SL_ERR_INVALID, "constant expression required",
     B("\000\141\163\155\001\000\000\000\002\006\001\000\000\003\177\001\006\006\001\177\000"
       "\043\000\013")},
    /* (module (global (import "" "") i64) (global i32 (global.get 0))) */
    {SL_ERR_INVALID, "type mismatch",
     B("\000\141\163\155\001\000\000\000\002\006\001\000\000\003\176\000\006\006\001\177\000"
       "\043\000\013")},
    /* (module (global i32 (i32.ctz (i32.const 0)))) */
    {SL_ERR_INVALID, "constant expression required",
     B("\000\141\163\155\001\000\000\000\006\007\001\177\000\101\000\150\013")},
    /* (module (global i32 (nop))) */
    {SL_ERR_INVALID, "constant expression required",
     B("\000\141\163\155\001\000\000\000\006\005\001\177\000\001\013")},
    /* (module (global i32 (i32.const 0) (i32.const 0))) */
    {SL_ERR_INVALID, "type mismatch",
     B("\000\141\163\155\001\000\000\000\006\010\001\177\000\101\000\101\000\013")},
    /* (module (global i32)) */
    {SL_ERR_INVALID, "type mismatch",
     B("\000\141\163\155\001\000\000\000\006\004\001\177\000\013")},
    /* (module (global i32 (i64.const 0))) */
    {SL_ERR_INVALID, "type mismatch",
     B("\000\141\163\155\001\000\000\000\006\006\001\177\000\102\000\013")},
    /* (module (global i32 (ref.null func))) */
    {SL_ERR_INVALID, "type mismatch",
     B("\000\141\163\155\001\000\000\000\006\006\001\177\000\320\160\013")},
    /* (module (global externref (ref.func 0)) (func)) */
    {SL_ERR_INVALID, "type mismatch",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\006\006\001"
       "\157\000\322\000\013\012\004\001\002\000\013")},
    /* (module (global funcref (ref.func 7))) */
    {SL_ERR_INVALID, "unknown function 7",
     B("\000\141\163\155\001\000\000\000\006\006\001\160\000\322\007\013")},
    /* (module (global i32 (block (result i32) (i32.const 0)))) */
    {SL_ERR_INVALID, "constant expression required",
     B("\000\141\163\155\001\000\000\000\006\011\001\177\000\002\177\101\000\013\013")},
    /* (module (global i32 (i32.const 0) (global.get 0)) (global i32 (i32.const 0))) */
    {SL_ERR_INVALID, "unknown global 0",
     B("\000\141\163\155\001\000\000\000\006\015\002\177\000\101\000\043\000\013\177\000\101"
       "\000\013")},
    /* (module (global i32 (global.get 0) (nop))) */
    {SL_ERR_INVALID, "unknown global 0",
     B("\000\141\163\155\001\000\000\000\006\007\001\177\000\043\000\001\013")},
    /* (module (func) (elem (i32.const 0) 0)) */
    {SL_ERR_INVALID, "unknown table 0",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\011\007\001"
       "\000\101\000\013\001\000\012\004\001\002\000\013")},
    /* (module (table 1 funcref) (elem (i64.const 0))) */
    {SL_ERR_INVALID, "type mismatch",
     B("\000\141\163\155\001\000\000\000\004\004\001\160\000\001\011\006\001\000\102\000\013"
       "\000")},
    /* (module (table 1 funcref) (elem (offset (i32.ctz (i32.const 0))))) */
    {SL_ERR_INVALID, "constant expression required",
     B("\000\141\163\155\001\000\000\000\004\004\001\160\000\001\011\007\001\000\101\000\150"
       "\013\000")},
    /* (module (table 1 funcref) (elem (global.get 0))) */
    {SL_ERR_INVALID, "unknown global 0",
     B("\000\141\163\155\001\000\000\000\004\004\001\160\000\001\011\006\001\000\043\000\013"
       "\000")},
    /* (module (global i32 (i32.const 0)) (table 1 funcref) (elem (global.get 0))) */
    {SL_ERR_INVALID, "unknown global 0",
     B("\000\141\163\155\001\000\000\000\004\004\001\160\000\001\006\006\001\177\000\101\000"
       "\013\011\006\001\000\043\000\013\000")},
    /* (module (global (import "" "") (mut i32)) (table 1 funcref) (elem (global.get 0))) */
    {SL_ERR_INVALID, "constant expression required",
     B("\000\141\163\155\001\000\000\000\002\006\001\000\000\003\177\001\004\004\001\160\000"
       "\001\011\006\001\000\043\000\013\000")},
    /* (module (table 1 funcref) (elem (i32.const 0) externref (ref.null extern))) */
    {SL_ERR_INVALID, "type mismatch",
     B("\000\141\163\155\001\000\000\000\004\004\001\160\000\001\011\013\001\006\000\101\000"
       "\013\157\001\320\157\013")},
    /* (module (table 1 funcref) (elem (i32.const 0) funcref (ref.null extern))) */
    {SL_ERR_INVALID, "type mismatch",
     B("\000\141\163\155\001\000\000\000\004\004\001\160\000\001\011\011\001\004\101\000\013"
       "\001\320\157\013")},
    /* (module (table 1 externref) (elem (i32.const 0) funcref (ref.null func))) */
    {SL_ERR_INVALID, "type mismatch",
     B("\000\141\163\155\001\000\000\000\004\004\001\157\000\001\011\011\001\004\101\000\013"
       "\001\320\160\013")},
    /* (module (table 1 funcref) (elem (i32.const 0) 3)) */
    {SL_ERR_INVALID, "unknown function 3",
     B("\000\141\163\155\001\000\000\000\004\004\001\160\000\001\011\007\001\000\101\000\013"
       "\001\003")},
    /* (module (data (i32.const 0) "")) */
    {SL_ERR_INVALID, "unknown memory 0",
     B("\000\141\163\155\001\000\000\000\013\006\001\000\101\000\013\000")},
    /* (module (memory 1) (data (i64.const 0))) */
    {SL_ERR_INVALID, "type mismatch",
     B("\000\141\163\155\001\000\000\000\005\003\001\000\001\013\006\001\000\102\000\013\000")},
    /* (module (memory 1) (data (offset (i32.const 0) (i32.const 0)))) */
    {SL_ERR_INVALID, "type mismatch",
     B("\000\141\163\155\001\000\000\000\005\003\001\000\001\013\010\001\000\101\000\101\000"
       "\013\000")},
    /* (module (memory 1) (data (offset (i32.const 0) (i32.add)))) */
    {SL_ERR_INVALID, "constant expression required",
     B("\000\141\163\155\001\000\000\000\005\003\001\000\001\013\007\001\000\101\000\152\013"
       "\000")},
    /* (module (memory 1) (data (global.get 0))) */
    {SL_ERR_INVALID, "unknown global 0",
     B("\000\141\163\155\001\000\000\000\005\003\001\000\001\013\006\001\000\043\000\013\000")},
    /* (module (import "" "" (func (type 1)))) */
    {SL_ERR_INVALID, "unknown type",
     B("\000\141\163\155\001\000\000\000\002\005\001\000\000\000\001")},
    /* (module (func (type 3))) */
    {SL_ERR_INVALID, "unknown type",
     B("\000\141\163\155\001\000\000\000\003\002\001\003\012\004\001\002\000\013")},
    /* (module (import "" "" (table 10 5 funcref))) */
    {SL_ERR_INVALID, "size minimum must not be greater than maximum",
     B("\000\141\163\155\001\000\000\000\002\010\001\000\000\001\160\001\012\005")},
    /* (module (table 10 5 funcref)) */
    {SL_ERR_INVALID, "size minimum must not be greater than maximum",
     B("\000\141\163\155\001\000\000\000\004\005\001\160\001\012\005")},
    /* (module (memory 2 1)) */
    {SL_ERR_INVALID, "size minimum must not be greater than maximum",
     B("\000\141\163\155\001\000\000\000\005\004\001\001\002\001")},
    /* (module (memory 65537)) */
    {SL_ERR_INVALID, "memory size must be at most 65536 pages (4GiB)",
     B("\000\141\163\155\001\000\000\000\005\005\001\000\201\200\004")},
    /* (module (memory 0 65537)) */
    {SL_ERR_INVALID, "memory size must be at most 65536 pages (4GiB)",
     B("\000\141\163\155\001\000\000\000\005\006\001\001\000\201\200\004")},
    /* (module (import "" "" (memory 0 65537))) */
    {SL_ERR_INVALID, "memory size must be at most 65536 pages (4GiB)",
     B("\000\141\163\155\001\000\000\000\002\011\001\000\000\002\001\000\201\200\004")},
    /* (module (memory 0) (memory 0)) */
    {SL_ERR_INVALID, "multiple memories",
     B("\000\141\163\155\001\000\000\000\005\005\002\000\000\000\000")},
    /* (module (import "" "" (memory 1)) (memory 0)) */
    {SL_ERR_INVALID, "multiple memories",
     B("\000\141\163\155\001\000\000\000\002\006\001\000\000\002\000\001\005\003\001\000\000")},
    /* (module (import "" "" (memory 1)) (import "" "" (memory 1))) */
    {SL_ERR_INVALID, "multiple memories",
     B("\000\141\163\155\001\000\000\000\002\013\002\000\000\002\000\001\000\000\002\000\001")},
    /* (module (func) (export "a" (func 1))) */
    {SL_ERR_INVALID, "unknown function 1",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\007\005\001"
       "\001\141\000\001\012\004\001\002\000\013")},
    /* (module (export "a" (global 0))) */
    {SL_ERR_INVALID, "unknown global 0",
     B("\000\141\163\155\001\000\000\000\007\005\001\001\141\003\000")},
    /* (module (export "a" (table 0))) */
    {SL_ERR_INVALID, "unknown table 0",
     B("\000\141\163\155\001\000\000\000\007\005\001\001\141\001\000")},
    /* (module (export "a" (memory 0))) */
    {SL_ERR_INVALID, "unknown memory 0",
     B("\000\141\163\155\001\000\000\000\007\005\001\001\141\002\000")},
    /* (module (func) (export "a" (func 0)) (export "a" (func 0))) */
    {SL_ERR_INVALID, "duplicate export name",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\007\011\002"
       "\001\141\000\000\001\141\000\000\012\004\001\002\000\013")},
    /* (module (func) (global i32 (i32.const 0)) (export "a" (func 0)) (export "b" (func 0))
       (export "a" (global 0))) */
    {SL_ERR_INVALID, "duplicate export name",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\006\006\001"
       "\177\000\101\000\013\007\015\003\001\141\000\000\001\142\000\000\001\141\003\000\012"
       "\004\001\002\000\013")},
    /* (module (func) (export "a" (func 0)) (export "a" (func 1))) */
    {SL_ERR_INVALID, "unknown function 1",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\007\011\002"
       "\001\141\000\000\001\141\000\001\012\004\001\002\000\013")},
    /* (module (func) (start 1)) */
    {SL_ERR_INVALID, "unknown function 1",
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\003\002\001\000\010\001\001"
       "\012\004\001\002\000\013")},
    /* (module (func (result i32) (i32.const 0)) (start 0)) */
    {SL_ERR_INVALID, "start function",
     B("\000\141\163\155\001\000\000\000\001\005\001\140\000\001\177\003\002\001\000\010\001"
       "\000\012\006\001\004\000\101\000\013")},
    /* (module (func (param i32)) (start 0)) */
    {SL_ERR_INVALID, "start function",
     B("\000\141\163\155\001\000\000\000\001\005\001\140\001\177\000\003\002\001\000\010\001"
       "\000\012\004\001\002\000\013")},
    /* (module (global (import "" "") i32) (memory 1) (data (global.get 0) "a") (table 1
       funcref) (elem (global.get 0) 0) (func)) */
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\002\006\001\000\000\003\177"
       "\000\003\002\001\000\004\004\001\160\000\001\005\003\001\000\001\011\007\001\000\043"
       "\000\013\001\000\012\004\001\002\000\013\013\007\001\000\043\000\013\001\141")},
    /* (module (global (import "" "") funcref) (table 1 funcref) (elem (i32.const 0) funcref
       (ref.null func) (ref.func 0)) (func)) */
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\001\004\001\140\000\000\002\006\001\000\000\003\160"
       "\000\003\002\001\000\004\004\001\160\000\001\011\014\001\004\101\000\013\002\320\160"
       "\013\322\000\013\012\004\001\002\000\013")},
    /* (module (import "a" "b" (global (mut i64))) (global (mut i32) (i32.const 0)) (export "g"
       (global 0)) (export "h" (global 1))) */
    {SL_OK, NULL,
     B("\000\141\163\155\001\000\000\000\002\010\001\001\141\001\142\003\176\001\006\006\001"
       "\177\001\101\000\013\007\011\002\001\147\003\000\001\150\003\001")},
};

static void
run_cases(const bin_case *cases, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        const bin_case *c = &cases[i];
        sl_module *m = (sl_module *)1;
        sl_diag d;
        sl_err err = decode((const uint8_t *)c->bytes, c->len, &m, &d);
        int ok = err == c->err;
        if (c->msg)
            ok = ok && m == NULL && strstr(d.msg, c->msg) != NULL && d.err == err &&
                 (d.offset <= c->len || d.offset == SIZE_MAX);
        else
            ok = ok && m != NULL;
        char name[200];
        snprintf(name, sizeof name, "%s #%zu: %s", what, i, c->msg ? c->msg : "decodes");
        check(ok, name);
        if (!ok)
            printf("# got err %d at %zu: %s\n", err, d.offset, d.msg);
        if (err == SL_OK)
            sl_module_free(m);
    }
}

static void
test_messages(void)
{
    run_cases(malformed_cases, sizeof malformed_cases / sizeof malformed_cases[0], "malformed");
    run_cases(invalid_cases, sizeof invalid_cases / sizeof invalid_cases[0], "invalid");
}

/* Where a diagnostic points. */
static void
test_offsets(void)
{
    static const struct {
        const char *bytes;
        size_t len, offset;
    } cases[] = {
        {B("\0ASM\1\0\0\0"), 0},
        {B("\0asm\2\0\0\0"), 4},
        {B("\0asm\1\0\0\0\15\0"), 8},
        /* type section: count 1, then 0x61 instead of 0x60 */
        {B("\0asm\1\0\0\0\1\4\1\141\0\0"), 11},
        /* memory section: min with a sixth byte (the spec points where it starts) */
        {B("\0asm\1\0\0\0\5\10\1\0\202\200\200\200\200\0"), 17},
        /* memory section: min whose fifth byte has bits beyond 32 */
        {B("\0asm\1\0\0\0\5\7\1\0\202\200\200\200\100"), 16},
        /* type section of declared size 7 holding 3 bytes: size mismatch at content */
        {B("\0asm\1\0\0\0\1\7\1\140\0\0\140\0\0"), 10},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_module *m;
        sl_diag d;
        if (decode((const uint8_t *)cases[i].bytes, cases[i].len, &m, &d) == SL_OK ||
            d.offset != cases[i].offset) {
            printf("# case %zu: offset %zu, want %zu (%s)\n", i, d.offset, cases[i].offset, d.msg);
            ok = 0;
        }
    }
    check(ok, "diagnostics point at the offending byte");
}

/* ---- a module with every section ---------------------------------------------------- */

/* wat2wasm --debug-names of:
 * (module $rich
 *   (type $v (func))
 *   (type $ii (func (param i32) (result i32)))
 *   (import "env" "f" (func $imp (type $ii)))
 *   (import "env" "tab" (table $it 2 10 funcref))
 *   (import "env" "g" (global $ig i32))
 *   (import "env" "gm" (global $igm (mut i64)))
 *   (func $a (type $v))
 *   (func $b (type $ii) (local i32 i64 i64) (local.get 0))
 *   (func $c (param f32 f64) (result f32 f64) (local.get 0) (local.get 1))
 *   (table $t 4 externref)
 *   (table $t2 1 funcref)
 *   (memory 1 2)
 *   (global $g1 i32 (global.get $ig))
 *   (global $g2 (mut f64) (f64.const 1.5))
 *   (global $g3 funcref (ref.func $b))
 *   (global $g4 externref (ref.null extern))
 *   (global $g5 i64 (i64.const -7))
 *   (export "a" (func $a))
 *   (export "mem" (memory 0))
 *   (export "g" (global $igm))
 *   (export "t" (table $t))
 *   (start $a)
 *   (elem (table $it) (i32.const 0) func $a $b)
 *   (elem func $c)
 *   (elem declare func $imp)
 *   (elem (table $t) (i32.const 1) externref (ref.null extern))
 *   (elem funcref (ref.func $a) (ref.null func))
 *   (data (i32.const 8) "hello")
 *   (data "passive")
 *   (func $d (data.drop 1)))
 */
static const uint8_t rich_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x10, 0x03, 0x60,
    0x00, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7d, 0x7c, 0x02,
    0x7d, 0x7c, 0x02, 0x29, 0x04, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x66, 0x00,
    0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x74, 0x61, 0x62, 0x01, 0x70, 0x01,
    0x02, 0x0a, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x67, 0x03, 0x7f, 0x00, 0x03,
    0x65, 0x6e, 0x76, 0x02, 0x67, 0x6d, 0x03, 0x7e, 0x01, 0x03, 0x05, 0x04,
    0x00, 0x01, 0x02, 0x00, 0x04, 0x07, 0x02, 0x6f, 0x00, 0x04, 0x70, 0x00,
    0x01, 0x05, 0x04, 0x01, 0x01, 0x01, 0x02, 0x06, 0x21, 0x05, 0x7f, 0x00,
    0x23, 0x00, 0x0b, 0x7c, 0x01, 0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xf8, 0x3f, 0x0b, 0x70, 0x00, 0xd2, 0x02, 0x0b, 0x6f, 0x00, 0xd0, 0x6f,
    0x0b, 0x7e, 0x00, 0x42, 0x79, 0x0b, 0x07, 0x13, 0x04, 0x01, 0x61, 0x00,
    0x01, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01, 0x67, 0x03, 0x01, 0x01,
    0x74, 0x01, 0x01, 0x08, 0x01, 0x01, 0x09, 0x23, 0x05, 0x00, 0x41, 0x00,
    0x0b, 0x02, 0x01, 0x02, 0x01, 0x00, 0x01, 0x03, 0x03, 0x00, 0x01, 0x00,
    0x06, 0x01, 0x41, 0x01, 0x0b, 0x6f, 0x01, 0xd0, 0x6f, 0x0b, 0x05, 0x70,
    0x02, 0xd2, 0x01, 0x0b, 0xd0, 0x70, 0x0b, 0x0c, 0x01, 0x02, 0x0a, 0x1a,
    0x04, 0x02, 0x00, 0x0b, 0x08, 0x02, 0x01, 0x7f, 0x02, 0x7e, 0x20, 0x00,
    0x0b, 0x06, 0x00, 0x20, 0x00, 0x20, 0x01, 0x0b, 0x05, 0x00, 0xfc, 0x09,
    0x01, 0x0b, 0x0b, 0x14, 0x02, 0x00, 0x41, 0x08, 0x0b, 0x05, 0x68, 0x65,
    0x6c, 0x6c, 0x6f, 0x01, 0x07, 0x70, 0x61, 0x73, 0x73, 0x69, 0x76, 0x65,
    0x00, 0x65, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x00, 0x05, 0x04, 0x72, 0x69,
    0x63, 0x68, 0x01, 0x12, 0x05, 0x00, 0x03, 0x69, 0x6d, 0x70, 0x01, 0x01,
    0x61, 0x02, 0x01, 0x62, 0x03, 0x01, 0x63, 0x04, 0x01, 0x64, 0x02, 0x0b,
    0x05, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x04,
    0x08, 0x02, 0x00, 0x01, 0x76, 0x01, 0x02, 0x69, 0x69, 0x05, 0x0c, 0x03,
    0x00, 0x02, 0x69, 0x74, 0x01, 0x01, 0x74, 0x02, 0x02, 0x74, 0x32, 0x07,
    0x1e, 0x07, 0x00, 0x02, 0x69, 0x67, 0x01, 0x03, 0x69, 0x67, 0x6d, 0x02,
    0x02, 0x67, 0x31, 0x03, 0x02, 0x67, 0x32, 0x04, 0x02, 0x67, 0x33, 0x05,
    0x02, 0x67, 0x34, 0x06, 0x02, 0x67, 0x35,
};

static int
types_are(const sl_functype *ft, const char *params, const char *results)
{
    size_t np = strlen(params), nr = strlen(results);
    if (ft->n_params != np || ft->n_results != nr || ft->n_param_slots != np ||
        ft->n_result_slots != nr)
        return 0;
    return memcmp(ft->types, params, np) == 0 && memcmp(ft->types + np, results, nr) == 0;
}

static void
check_rich_types_imports(const sl_module *m)
{
    check(m->n_types == 3 && types_are(&m->types[0], "", "") &&
              types_are(&m->types[1], "\x7f", "\x7f") &&
              types_are(&m->types[2], "\x7d\x7c", "\x7d\x7c"),
          "rich: types (multi-value included)");
    const sl_import *im = m->imports;
    check(m->n_imports == 4 && strcmp(im[0].module, "env") == 0 && strcmp(im[0].name, "f") == 0 &&
              im[0].kind == SL_EXTERN_FUNC && im[0].type_index == 1 &&
              im[1].kind == SL_EXTERN_TABLE && im[1].table.elem == SL_FUNCREF &&
              im[1].table.limits.min == 2 && im[1].table.limits.has_max &&
              im[1].table.limits.max == 10 && im[2].kind == SL_EXTERN_GLOBAL &&
              im[2].global.type == SL_I32 && !im[2].global.is_mutable &&
              im[3].global.type == SL_I64 && im[3].global.is_mutable,
          "rich: imports");
    check(m->n_func_imports == 1 && m->n_table_imports == 1 && m->n_mem_imports == 0 &&
              m->n_global_imports == 2,
          "rich: import counts per kind");
}

static void
check_rich_funcs(const sl_module *m)
{
    static const uint32_t ftypes[5] = {1, 0, 1, 2, 0};
    check(m->n_funcs == 5 && memcmp(m->func_types, ftypes, sizeof ftypes) == 0,
          "rich: function index space");
    const sl_funcdef *f = m->funcs;
    check(f[0].type_index == 0 && f[1].type_index == 1 && f[1].n_locals == 3 &&
              memcmp(f[1].local_types, "\x7f\x7e\x7e", 3) == 0 && f[0].n_locals == 0 &&
              f[2].n_locals == 0,
          "rich: locals");
    int bodies = 1;
    for (int i = 0; i < 4; i++)
        bodies = bodies && f[i].body_len > 0 &&
                 f[i].body_offset + f[i].body_len <= sizeof rich_wasm &&
                 rich_wasm[f[i].body_offset + f[i].body_len - 1] == 0x0b;
    /* $b's body is local.get 0, end: 0x20 0x00 0x0b */
    bodies = bodies && f[1].body_len == 3 &&
             memcmp(rich_wasm + f[1].body_offset, "\x20\x00\x0b", 3) == 0;
    check(bodies, "rich: body offsets cover the expression up to its end");
    check(m->has_start && m->start == 1, "rich: start");
}

static void
check_rich_tables_globals(const sl_module *m)
{
    check(m->n_tables == 3 && m->tables[1].elem == SL_EXTERNREF &&
              m->tables[1].limits.min == 4 && !m->tables[1].limits.has_max &&
              m->tables[2].elem == SL_FUNCREF,
          "rich: tables");
    check(m->n_mems == 1 && m->mems[0].limits.min == 1 && m->mems[0].limits.max == 2 &&
              m->mems[0].limits.has_max,
          "rich: memory");
    const sl_global_def *g = m->globals;
    check(m->n_globals == 7 && m->global_types[2].type == SL_I32 &&
              g[0].init.op == SL_CONST_GLOBAL_GET && g[0].init.index == 0 &&
              g[1].type.is_mutable && g[1].init.op == SL_CONST_F64 && g[1].init.value.f64 == 1.5 &&
              g[2].init.op == SL_CONST_REF_FUNC && g[2].init.index == 2 &&
              g[3].init.op == SL_CONST_REF_NULL && g[3].init.reftype == SL_EXTERNREF &&
              g[4].init.op == SL_CONST_I64 && g[4].init.value.i64 == -7 &&
              m->global_types[3].type == SL_F64 && m->global_types[3].is_mutable,
          "rich: globals and their initialisers");
}

static void
check_rich_exports_segments(const sl_module *m)
{
    const sl_export *e = m->exports;
    check(m->n_exports == 4 && strcmp(e[0].name, "a") == 0 && e[0].kind == SL_EXTERN_FUNC &&
              e[0].index == 1 && strcmp(e[1].name, "mem") == 0 && e[1].kind == SL_EXTERN_MEMORY &&
              e[2].kind == SL_EXTERN_GLOBAL && e[2].index == 1 && e[3].kind == SL_EXTERN_TABLE &&
              e[3].index == 1,
          "rich: exports");
    const sl_elem *s = m->elems;
    check(m->n_elems == 5 && s[0].mode == SL_SEG_ACTIVE && s[0].table == 0 &&
              s[0].offset.op == SL_CONST_I32 && s[0].n_items == 2 &&
              s[0].items[1].op == SL_CONST_REF_FUNC && s[0].items[1].index == 2 &&
              s[1].mode == SL_SEG_PASSIVE && s[1].items[0].index == 3 &&
              s[2].mode == SL_SEG_DECLARATIVE && s[2].items[0].index == 0 &&
              s[3].mode == SL_SEG_ACTIVE && s[3].table == 1 && s[3].reftype == SL_EXTERNREF &&
              s[3].offset.value.i32 == 1 && s[3].items[0].op == SL_CONST_REF_NULL &&
              s[4].mode == SL_SEG_PASSIVE && s[4].n_items == 2 &&
              s[4].items[1].op == SL_CONST_REF_NULL && s[4].items[1].reftype == SL_FUNCREF,
          "rich: element segments (several encodings)");
    const sl_data *d = m->datas;
    check(m->n_datas == 2 && m->has_data_count && m->data_count == 2 &&
              d[0].mode == SL_SEG_ACTIVE && d[0].mem == 0 && d[0].offset.value.i32 == 8 &&
              d[0].len == 5 && memcmp(d[0].bytes, "hello", 5) == 0 &&
              d[1].mode == SL_SEG_PASSIVE && d[1].len == 7 && memcmp(d[1].bytes, "passive", 7) == 0,
          "rich: data segments and data count");
    check(m->func_declared && m->func_declared[0] && m->func_declared[1] && m->func_declared[2] &&
              m->func_declared[3] && !m->func_declared[4],
          "rich: C.refs from exports, globals and elements (not bodies)");
    check(m->module_name && strcmp(m->module_name, "rich") == 0 && m->func_names &&
              strcmp(m->func_names[0], "imp") == 0 && strcmp(m->func_names[4], "d") == 0,
          "rich: name section");
}

static void
test_rich(void)
{
    /* Decode from a heap copy that is scribbled over and freed right away:
     * the module must own everything it keeps. */
    uint8_t *copy = malloc(sizeof rich_wasm);
    memcpy(copy, rich_wasm, sizeof rich_wasm);
    sl_module *m;
    sl_diag d;
    stub_calls = 0;
    sl_err err = decode(copy, sizeof rich_wasm, &m, &d);
    memset(copy, 0xAA, sizeof rich_wasm);
    free(copy);
    check(err == SL_OK && d.err == SL_OK, "rich: decodes");
    if (err != SL_OK) {
        printf("# %s at %zu\n", d.msg, d.offset);
        return;
    }
    check(m->engine == &engine, "rich: engine recorded");
    check_rich_types_imports(m);
    check_rich_funcs(m);
    check_rich_tables_globals(m);
    check_rich_exports_segments(m);
    if (stub_calls == 0) {
        printf("ok - rich: lowerer called per body, in order # skip real lowerer linked\n");
        n_pass++;
    } else {
        check(stub_calls == 4 && stub_order[0] == 1 && stub_order[3] == 4,
              "rich: lowerer called per body, in order");
    }
    const char *mod, *name;
    sl_externkind kind;
    sl_module_import(m, 1, &mod, &name, &kind);
    int ok = sl_module_import_count(m) == 4 && strcmp(name, "tab") == 0 && kind == SL_EXTERN_TABLE;
    sl_module_import(m, 4, &mod, &name, &kind);
    ok = ok && mod == NULL && name == NULL;
    sl_module_export(m, 1, &name, &kind);
    ok = ok && sl_module_export_count(m) == 4 && strcmp(name, "mem") == 0 &&
         kind == SL_EXTERN_MEMORY;
    sl_module_export(m, 9, &name, NULL);
    check(ok && name == NULL, "rich: import/export introspection");
    sl_module_free(m);
}

/* ---- API edges, lowering failures, limits --------------------------------------------- */

static void
test_api(void)
{
    static const uint8_t empty[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    sl_module *m = (sl_module *)1;
    sl_diag d;
    check(sl_module_new(NULL, empty, 8, &m, &d) == SL_ERR_ARG && m == NULL && d.err == SL_ERR_ARG,
          "api: NULL engine is a bad argument");
    check(sl_module_new(&engine, empty, 8, NULL, NULL) == SL_ERR_ARG, "api: NULL out");
    check(sl_module_new(&engine, NULL, 8, &m, NULL) == SL_ERR_ARG, "api: NULL bytes with a length");
    check(sl_module_new(&engine, NULL, 0, &m, &d) == SL_ERR_MALFORMED &&
              strncmp(d.msg, "unexpected end", 14) == 0,
          "api: no bytes at all is malformed");
    check(sl_module_new(&engine, empty, 8, &m, NULL) == SL_OK && m &&
              sl_module_import_count(m) == 0 && sl_module_export_count(m) == 0,
          "api: empty module, no diag");
    sl_module_free(m);
    sl_module_free(NULL);
    check(sl_module_import_count(NULL) == 0 && sl_module_export_count(NULL) == 0,
          "api: counts of NULL");
}

static void
test_lower_failure(void)
{
    /* (func) whose body is a lone nop without end: the stub rejects it and
     * the decoder reports the lowerer's diagnostic with the function index. */
    static const char bytes[] = "\0asm\1\0\0\0\1\4\1\140\0\0\2\7\1\1m\1f\0\0\3\2\1\0"
                                "\12\4\1\2\0\1";
    sl_module *m;
    sl_diag d;
    stub_calls = 0;
    sl_err err = decode((const uint8_t *)bytes, sizeof bytes - 1, &m, &d);
    check(err != SL_OK && m == NULL && d.func == 1,
          "lowering failure is reported with its function");
}

static void
test_locals_limit(void)
{
    for (int k = 0; k < 2; k++) {
        uint32_t n = k == 0 ? 50000 : 50001;
        /* type () -> (); one function; its body declares n i32 locals */
        uint8_t b[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
                       10, 8, 1, 6, 1, (uint8_t)(0x80 | (n & 0x7f)),
                       (uint8_t)(0x80 | ((n >> 7) & 0x7f)), (uint8_t)(n >> 14), 0x7f, 0x0b};
        sl_module *m;
        sl_diag d;
        sl_err err = decode(b, sizeof b, &m, &d);
        if (k == 0) {
            check(err == SL_OK && m->funcs[0].n_locals == 50000 &&
                      m->funcs[0].local_types[49999] == SL_I32,
                  "locals: 50000 accepted");
            if (err == SL_OK)
                sl_module_free(m);
            else
                printf("# %s\n", d.msg);
        } else {
            check(err == SL_ERR_LIMIT && strstr(d.msg, "too many locals"),
                  "locals: 50001 refused (implementation limit)");
        }
    }
}

static void
test_name_section_lenient(void)
{
    /* Good subsection 0 ("m"), then subsection 1 claiming 3 names with 1. */
    static const char bytes[] = "\0asm\1\0\0\0\0\17\4name\0\2\1m\1\4\3\0\1a";
    sl_module *m;
    sl_diag d;
    sl_err err = decode((const uint8_t *)bytes, sizeof bytes - 1, &m, &d);
    check(err == SL_OK && m->func_names == NULL && m->module_name == NULL,
          "name section: a malformed one is dropped, never an error");
    if (err == SL_OK)
        sl_module_free(m);
}

/* Huge declared counts must fail on the data, not on allocation. */
static void
test_adversarial_counts(void)
{
    size_t len = 1 << 20;
    uint8_t *b = calloc(1, len);
    memcpy(b, "\0asm\1\0\0\0", 8);
    /* a function section of ~1 MiB: count, then that many type indices 0 */
    b[8] = 3;
    uint32_t size = (uint32_t)(len - 12), count = size - 3;
    b[9] = (uint8_t)(0x80 | (size & 0x7f)), b[10] = (uint8_t)(0x80 | ((size >> 7) & 0x7f));
    b[11] = (uint8_t)((size >> 14) & 0x7f);
    b[12] = (uint8_t)(0x80 | (count & 0x7f)), b[13] = (uint8_t)(0x80 | ((count >> 7) & 0x7f));
    b[14] = (uint8_t)((count >> 14) & 0x7f);
    sl_module *m;
    sl_diag d;
    sl_err err = decode(b, len, &m, &d);
    /* Decoded to the end; malformed (no code section) wins over invalid
     * (no type 0), as in the spec. */
    check(err == SL_ERR_MALFORMED &&
              strstr(d.msg, "function and code section have inconsistent lengths"),
          "adversarial: a million functions are decoded to the end");
    /* the same count of types: each needs 3 bytes, so decoding runs out */
    b[8] = 1;
    b[15] = 0x60;
    err = decode(b, len, &m, &d);
    check(err == SL_ERR_MALFORMED && strstr(d.msg, "malformed function type"),
          "adversarial: a million types fail on the data");
    free(b);
}

/* Names are byte strings: "", "\0" and "a\0" are three different names. */
static void
test_nul_names(void)
{
    static const char three[] = "\0asm\1\0\0\0\1\4\1\140\0\0\3\2\1\0"
                                "\7\15\3\0\0\0\1\0\0\0\2a\0\0\0" /* "", "\0", "a\0" */
                                "\12\4\1\2\0\13";
    static const char same[] = "\0asm\1\0\0\0\1\4\1\140\0\0\3\2\1\0"
                               "\7\15\2\3a\0b\0\0\3a\0b\0\0" /* "a\0b" twice */
                               "\12\4\1\2\0\13";
    static const char differ[] = "\0asm\1\0\0\0\1\4\1\140\0\0\3\2\1\0"
                                 "\7\15\2\3a\0b\0\0\3a\0c\0\0" /* "a\0b", "a\0c" */
                                 "\12\4\1\2\0\13";
    sl_module *m;
    sl_diag d;
    sl_err err = decode((const uint8_t *)three, sizeof three - 1, &m, &d);
    check(err == SL_OK && m->n_exports == 3 && m->exports[0].name_len == 0 &&
              m->exports[1].name_len == 1 && m->exports[1].name[0] == '\0' &&
              m->exports[2].name_len == 2 && memcmp(m->exports[2].name, "a\0", 3) == 0,
          "names: NUL bytes kept, with byte lengths");
    if (err == SL_OK)
        sl_module_free(m);
    err = decode((const uint8_t *)same, sizeof same - 1, &m, &d);
    check(err == SL_ERR_INVALID && strstr(d.msg, "duplicate export name"),
          "names: duplicates found past a NUL byte");
    err = decode((const uint8_t *)differ, sizeof differ - 1, &m, &d);
    check(err == SL_OK, "names: names differing after a NUL byte are distinct");
    if (err == SL_OK)
        sl_module_free(m);
    /* imports keep their lengths too: (import "m\0" "" (func)) */
    static const char imp[] = "\0asm\1\0\0\0\1\4\1\140\0\0\2\7\1\2m\0\0\0\0";
    err = decode((const uint8_t *)imp, sizeof imp - 1, &m, &d);
    check(err == SL_OK && m->imports[0].module_len == 2 && m->imports[0].name_len == 0,
          "names: import module/name lengths");
    if (err == SL_OK)
        sl_module_free(m);
}

static void
test_functype_equal(void)
{
    uint8_t t1[] = {SL_I32, SL_I64}, t2[] = {SL_I32, SL_I64}, t3[] = {SL_I64, SL_I32};
    sl_functype a = {1, 1, t1, 1, 1, 7}, b = {1, 1, t2, 1, 1, 7}, c = {1, 1, t3, 1, 1, 7};
    sl_functype e1 = {0, 0, NULL, 0, 0, 3}, e2 = {0, 0, NULL, 0, 0, 3};
    check(sl__functype_equal(&a, &b) && !sl__functype_equal(&a, &c) && sl__functype_equal(&e1, &e2),
          "functype equality");
}

/* ---- robustness --------------------------------------------------------------------- */

static int
decodes_cleanly(const uint8_t *b, size_t len)
{
    sl_module *m = (sl_module *)1;
    sl_diag d;
    memset(&d, 0x5a, sizeof d);
    sl_err err = decode(b, len, &m, &d);
    if (err == SL_OK) {
        int ok = m != NULL;
        sl_module_free(m);
        return ok;
    }
    return m == NULL && d.err == err && d.msg[0] != '\0' && memchr(d.msg, 0, sizeof d.msg) &&
           (d.offset <= len || d.offset == SIZE_MAX);
}

static void
test_robustness(void)
{
    uint8_t buf[sizeof rich_wasm];
    int ok = 1;
    for (size_t n = 0; n < sizeof rich_wasm; n++) {
        uint8_t *p = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
        memcpy(p, rich_wasm, n);
        ok = ok && decodes_cleanly(p, n);
        free(p);
    }
    check(ok, "robustness: every truncation of the rich module");
    static const uint8_t flips[] = {0x01, 0x02, 0x40, 0x80, 0xff};
    ok = 1;
    for (size_t i = 8; i < sizeof rich_wasm; i++) {
        for (size_t k = 0; k < sizeof flips; k++) {
            memcpy(buf, rich_wasm, sizeof buf);
            buf[i] ^= flips[k];
            ok = ok && decodes_cleanly(buf, sizeof buf);
            buf[i] = 0x00;
            ok = ok && decodes_cleanly(buf, sizeof buf);
        }
    }
    check(ok, "robustness: byte flips of the rich module");
}

int
main(void)
{
    test_leb();
    test_messages();
    test_offsets();
    test_rich();
    test_api();
    test_lower_failure();
    test_locals_limit();
    test_name_section_lenient();
    test_nul_names();
    test_adversarial_counts();
    test_functype_equal();
    test_robustness();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
