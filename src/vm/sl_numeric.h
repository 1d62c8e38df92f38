/*
 * sl_numeric.h — the few WebAssembly numeric semantics that C operators do
 * not give directly: IEEE-754 min/max with NaN and signed zeros, bitwise
 * abs/neg/copysign (no NaN canonicalisation), and the range checks of the
 * float-to-int conversions. Used by the handler bodies of sl_ops.def.
 *
 * Layer: engine (src/vm), internal; pure functions, no state.
 */
#ifndef SL_NUMERIC_H
#define SL_NUMERIC_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float
sl__f32_bits_op(float a, uint32_t and_mask, uint32_t xor_mask)
{
    uint32_t u;
    memcpy(&u, &a, 4);
    u = (u & and_mask) ^ xor_mask;
    memcpy(&a, &u, 4);
    return a;
}

static inline double
sl__f64_bits_op(double a, uint64_t and_mask, uint64_t xor_mask)
{
    uint64_t u;
    memcpy(&u, &a, 8);
    u = (u & and_mask) ^ xor_mask;
    memcpy(&a, &u, 8);
    return a;
}

static inline float
sl__f32_copysign(float a, float b)
{
    uint32_t ua, ub;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    ua = (ua & 0x7FFFFFFFu) | (ub & 0x80000000u);
    memcpy(&a, &ua, 4);
    return a;
}

static inline double
sl__f64_copysign(double a, double b)
{
    uint64_t ua, ub;
    memcpy(&ua, &a, 8);
    memcpy(&ub, &b, 8);
    ua = (ua & 0x7FFFFFFFFFFFFFFFull) | (ub & 0x8000000000000000ull);
    memcpy(&a, &ua, 8);
    return a;
}

/* NaN in, NaN out (a + b propagates an arithmetic NaN); -0 < +0. */
static inline float
sl__f32_min(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}

static inline float
sl__f32_max(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

static inline double
sl__f64_min(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}

static inline double
sl__f64_max(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* Rounding functions may return a signalling NaN unchanged; Wasm wants it
 * quieted (an arithmetic NaN). */
#define SL_FROUND(fn, a) ((a) != (a) ? (a) + (a) : fn(a))

/* Trapping truncation: NaN is an invalid conversion, out of range an overflow. */
#define SL_TRUNC_CHECK(a, in_range)                                            \
    do {                                                                       \
        if ((a) != (a))                                                        \
            TRAP(SL_TRAP_INVALID_CONVERSION);                                  \
        if (!(in_range))                                                       \
            TRAP(SL_TRAP_INT_OVERFLOW);                                        \
    } while (0)

/* Saturating truncation: NaN is 0, out of range clamps. */
#define SL_SAT(a, T, lo, hi, minv, maxv)                                       \
    ((a) != (a) ? (T)0 : (a) < (lo) ? (T)(minv) : (a) >= (hi) ? (T)(maxv) : (T)(a))

#endif /* SL_NUMERIC_H */
