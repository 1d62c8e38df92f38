/*
 * ut_leb128.h — LEB128 readers that fail exactly where the WebAssembly
 * reference decoder (spec interpreter, binary/decode.ml vuN/vsN) fails.
 *
 * Layer:     util. Header-only (static inline); no allocation, no globals.
 * Contract:  every reader takes the whole input (buf, len) and a cursor
 *            *pos. On success it stores the value and advances *pos past the
 *            number. On failure it stores nothing and sets *pos to the byte
 *            offset of the problem (len for UT_LEB_END).
 * Errors:    UT_LEB_END       input ended inside the number;
 *            UT_LEB_TOO_LONG  more bytes than ceil(bits/7)
 *                             ("integer representation too long");
 *            UT_LEB_TOO_LARGE the last byte has bits beyond `bits` that are
 *                             not zero (unsigned) or not a sign extension
 *                             (signed) ("integer too large").
 *            Non-minimal encodings within the byte budget are accepted.
 * Not here:  the decoder's messages and offsets policy (src/vm/sl_decode.c).
 */
#ifndef UT_LEB128_H
#define UT_LEB128_H

#include <stddef.h>
#include <stdint.h>

typedef enum ut_leb_err {
    UT_LEB_OK = 0,
    UT_LEB_END,
    UT_LEB_TOO_LONG,
    UT_LEB_TOO_LARGE,
} ut_leb_err;

/* The spec test suite's wording for each error. */
static inline const char *
ut_leb_err_str(ut_leb_err e)
{
    switch (e) {
    case UT_LEB_OK:
        return "ok";
    case UT_LEB_END:
        return "unexpected end of section or function";
    case UT_LEB_TOO_LONG:
        return "integer representation too long";
    case UT_LEB_TOO_LARGE:
        return "integer too large";
    }
    return "?";
}

/* Unsigned LEB128 of at most `bits` (1..64) significant bits. */
static inline ut_leb_err
ut_leb_read_unsigned(const uint8_t *buf, size_t len, size_t *pos, unsigned bits, uint64_t *out)
{
    uint64_t result = 0;
    unsigned shift = 0;
    size_t p = *pos;
    int n = (int)bits; /* bits still allowed, as in the spec's vuN */
    for (;;) {
        if (n <= 0) {
            *pos = p;
            return UT_LEB_TOO_LONG;
        }
        if (p >= len) {
            *pos = len;
            return UT_LEB_END;
        }
        uint8_t b = buf[p++];
        if (n < 7 && (unsigned)(b & 0x7f) >= (1u << n)) {
            *pos = p - 1;
            return UT_LEB_TOO_LARGE;
        }
        result |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
        n -= 7;
    }
    *out = result;
    *pos = p;
    return UT_LEB_OK;
}

/* Signed LEB128 of at most `bits` (1..64) significant bits, sign-extended. */
static inline ut_leb_err
ut_leb_read_signed(const uint8_t *buf, size_t len, size_t *pos, unsigned bits, int64_t *out)
{
    uint64_t result = 0;
    unsigned shift = 0;
    size_t p = *pos;
    int n = (int)bits;
    for (;;) {
        if (n <= 0) {
            *pos = p;
            return UT_LEB_TOO_LONG;
        }
        if (p >= len) {
            *pos = len;
            return UT_LEB_END;
        }
        uint8_t b = buf[p++];
        if (n < 7) {
            /* The unused high bits must all equal the sign bit. */
            uint8_t mask = (uint8_t)((0xffu << (n - 1)) & 0x7f);
            if ((b & mask) != 0 && (b & mask) != mask) {
                *pos = p - 1;
                return UT_LEB_TOO_LARGE;
            }
        }
        result |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                result |= ~(uint64_t)0 << shift;
            break;
        }
        n -= 7;
    }
    *out = (int64_t)result;
    *pos = p;
    return UT_LEB_OK;
}

static inline ut_leb_err
ut_leb_u32(const uint8_t *buf, size_t len, size_t *pos, uint32_t *out)
{
    uint64_t v;
    ut_leb_err e = ut_leb_read_unsigned(buf, len, pos, 32, &v);
    if (e == UT_LEB_OK)
        *out = (uint32_t)v;
    return e;
}

static inline ut_leb_err
ut_leb_u64(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out)
{
    return ut_leb_read_unsigned(buf, len, pos, 64, out);
}

static inline ut_leb_err
ut_leb_s32(const uint8_t *buf, size_t len, size_t *pos, int32_t *out)
{
    int64_t v;
    ut_leb_err e = ut_leb_read_signed(buf, len, pos, 32, &v);
    if (e == UT_LEB_OK)
        *out = (int32_t)v;
    return e;
}

/* Block types: a negative value is a value type or 0x40; else a type index. */
static inline ut_leb_err
ut_leb_s33(const uint8_t *buf, size_t len, size_t *pos, int64_t *out)
{
    return ut_leb_read_signed(buf, len, pos, 33, out);
}

static inline ut_leb_err
ut_leb_s64(const uint8_t *buf, size_t len, size_t *pos, int64_t *out)
{
    return ut_leb_read_signed(buf, len, pos, 64, out);
}

#endif /* UT_LEB128_H */
