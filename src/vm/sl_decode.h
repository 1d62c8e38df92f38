/*
 * sl_decode.h — private interface between sl_decode.c (reader primitives,
 * types, constant expressions, the section loop, finishing) and
 * sl_decode_sections.c (one function per non-custom section).
 *
 * Layer:     engine (src/vm), internal to the decoder: only those two files
 *            include it. Everything else sees sl__module_decode in sl_module.h.
 * Reading:   as in the spec's reference decoder, a section's content is read
 *            from the whole input, not from a window of the declared size:
 *            reading past the declared size is found afterwards ("section size
 *            mismatch"), running off the input is "unexpected end of section
 *            or function", and lengths are checked against the input
 *            ("length out of bounds"; see sl__dec_len). That is what makes
 *            every message the one the official test suite expects.
 * Errors:    structural problems return SL_ERR_MALFORMED at once through
 *            d->diag. Validation problems are noted in d->deferred (the first
 *            one wins) and decoding goes on, so a module that is both invalid
 *            and malformed is reported as malformed, as the spec requires.
 * Sizes:     a vector is never allocated for more items than the bytes left
 *            could hold (sl__dec_grow), so adversarial counts cost nothing.
 */
#ifndef SL_DECODE_H
#define SL_DECODE_H

#include "sl_module.h"

#include <stddef.h>

#define SL_MSG_END "unexpected end of section or function"
/* Section out of order or repeated. Older spec interpreters (and the 2.0-era
 * test suite) say "junk after last section", current ones "unexpected content
 * after last section"; this message starts with the new wording and contains
 * the old one, so either suite's substring check passes. */
#define SL_MSG_JUNK "unexpected content after last section (junk after last section)"

/* Declared locals per function beyond which we refuse a body (SL_ERR_LIMIT).
 * The spec's own bound is 2^32-1 (SL_ERR_MALFORMED beyond it). */
#define SL_MAX_LOCALS 50000u

typedef struct sl_dec {
    sl_module *m;
    const uint8_t *buf;
    size_t len;
    size_t pos;
    sl_diag *diag;    /* immediate errors; never NULL */
    sl_diag deferred; /* first validation error; err == SL_OK while none */

    uint32_t n_func_decls; /* entries of the function section */
    uint32_t n_code;       /* entries of the code section */
    size_t mem2_at;        /* offset of the second memory, or 0 */
    bool has_name_sec;     /* payload of the first "name" custom section: */
    size_t name_off, name_end;
} sl_dec;

/* ---- errors ---------------------------------------------------------------- */

/* Fails now with SL_ERR_MALFORMED at byte offset off. */
sl_err sl__dec_fail(sl_dec *d, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fails now with SL_ERR_NOMEM. */
sl_err sl__dec_nomem(sl_dec *d);
/* Fails now with SL_ERR_INVALID: valid WebAssembly we do not implement. */
sl_err sl__dec_unsupported(sl_dec *d, size_t off, const char *what);
/* Records a validation error into *v unless one is already there. */
void sl__dec_note(sl_diag *v, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Moves the error in *v (if any) into d->deferred unless one is there. */
void sl__dec_defer(sl_dec *d, const sl_diag *v);

/* ---- values ---------------------------------------------------------------- */

sl_err sl__dec_byte(sl_dec *d, uint8_t *out);
sl_err sl__dec_u32(sl_dec *d, uint32_t *out);
/* A u32 length or vector count, at most the bytes left from its first byte. */
sl_err sl__dec_len(sl_dec *d, uint32_t *out);
/* n raw bytes; *out points into the input. */
sl_err sl__dec_bytes(sl_dec *d, uint32_t n, const uint8_t **out);
/* A UTF-8 name. copy (may be NULL) gets a malloc'd NUL-terminated copy; raw
 * (may be NULL) points into the input; n (may be NULL) gets the byte length. */
sl_err sl__dec_name(sl_dec *d, char **copy, const uint8_t **raw, uint32_t *n);
/* The spec's vs7 type byte: one byte without continuation bit. */
sl_err sl__dec_s7(sl_dec *d, uint8_t *out);

/* Grows arr (which holds `have` items) for a vector of `count` items each at
 * least min_bytes long, zeroing the new items. Allocates only as many as the
 * bytes left could hold (*n_alloc <= count; less only when decoding must fail
 * before the end of the vector). Returns NULL (diag set) when out of memory;
 * arr is then unchanged and still owned by the caller. */
void *sl__dec_grow(sl_dec *d, void *arr, uint32_t have, uint32_t count, size_t min_bytes,
                   size_t elem, uint32_t *n_alloc);

/* ---- types ----------------------------------------------------------------- */

sl_err sl__dec_valtype(sl_dec *d, uint8_t *out);
sl_err sl__dec_reftype(sl_dec *d, uint8_t *out);
sl_err sl__dec_limits(sl_dec *d, sl_limits_def *out);
sl_err sl__dec_globaltype(sl_dec *d, sl_globaltype *out);
const char *sl__valtype_name(uint8_t t);

/* Validation of table and memory types (deferred). */
void sl__dec_check_table(sl_dec *d, const sl_tabletype *t, size_t at);
void sl__dec_check_mem(sl_dec *d, const sl_memtype *t, size_t at);

/* A constant expression up to and including its `end`. Structural errors are
 * returned; validation errors (against `expected`, with global.get limited to
 * imported immutable globals) go to *verr, which is cleared first. *out gets
 * the first instruction (the only one when valid). */
sl_err sl__dec_constexpr(sl_dec *d, uint8_t expected, sl_constexpr *out, sl_diag *verr);

/* ---- sections (sl_decode_sections.c) ---------------------------------------- */

sl_err sl__dec_type_section(sl_dec *d);
sl_err sl__dec_import_section(sl_dec *d);
sl_err sl__dec_func_section(sl_dec *d);
sl_err sl__dec_table_section(sl_dec *d);
sl_err sl__dec_memory_section(sl_dec *d);
sl_err sl__dec_global_section(sl_dec *d);
sl_err sl__dec_export_section(sl_dec *d);
sl_err sl__dec_start_section(sl_dec *d);
sl_err sl__dec_elem_section(sl_dec *d);
sl_err sl__dec_datacount_section(sl_dec *d);
sl_err sl__dec_code_section(sl_dec *d);
sl_err sl__dec_data_section(sl_dec *d);

#endif /* SL_DECODE_H */
