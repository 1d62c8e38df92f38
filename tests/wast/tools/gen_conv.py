#!/usr/bin/env python3
"""Generate conversions.wast, trunc_sat.wast and sign_ext.wast."""
import os, sys, math
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wastlib import *

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

def round_int(n, mbits):
    """Round integer n to the nearest float with an mbits-bit significand, ties to even."""
    if n == 0:
        return 0.0
    s = -1 if n < 0 else 1
    m = abs(n)
    L = m.bit_length()
    if L > mbits:
        sh = L - mbits
        q, r = m >> sh, m & ((1 << sh) - 1)
        half = 1 << (sh - 1)
        if r > half or (r == half and q & 1):
            q += 1
        m = q << sh
    return s * float(m)

def nan_res(b, fin, fout):
    return ("nan", fout, "canonical" if is_canonical_nan(b, fin) else "arithmetic")

def trunc_op(b, fbits, ibits, sgn, sat):
    if is_nan_bits(b, fbits):
        return ("i", ibits, 0) if sat else ("trap", "invalid conversion to integer")
    x = f_bits_to_float(b, fbits)
    lo, hi = (-(1 << (ibits - 1)), (1 << (ibits - 1)) - 1) if sgn else (0, (1 << ibits) - 1)
    if math.isinf(x):
        v = None
    else:
        v = math.trunc(x)
    if v is None or v < lo or v > hi:
        if not sat:
            return ("trap", "integer overflow")
        return ("i", ibits, mask(hi if x > 0 else lo, ibits))
    return ("i", ibits, mask(v, ibits))

def trunc_inputs(fbits, ibits, sgn):
    B = lambda x: fl(x, fbits)
    SB = sign_bit(fbits)
    inf = fl(math.inf, fbits)
    if fbits == 32:
        qnan, snan, qnan2, maxf = 0x7fc00000, 0x7fa00000, 0x7fe00000, 0x7f7fffff
    else:
        qnan, snan, qnan2, maxf = 0x7ff8000000000000, 0x7ff4000000000000, 0x7ffc000000000000, 0x7fefffffffffffff
    vals = [0, SB, 1, SB | 1, B(0.5), B(-0.5), B(1.0), B(-1.0), B(1.5), B(-1.5), B(1.9), B(-1.9),
            B(2.0), B(-2.0), B(100.7), B(-100.7), B(0.1), B(-0.99), B(1e8), B(-1e8), B(1e10), B(-1e10),
            B(1e30), B(-1e30), maxf, SB | maxf, inf, SB | inf, qnan, SB | qnan, snan, SB | qnan2,
            next_down_bits(B(1.0), fbits), next_up_bits(B(-1.0), fbits)]
    hi = float(1 << (ibits - 1)) if sgn else float(1 << ibits)     # first out-of-range value above
    lo = -float(1 << (ibits - 1)) if sgn else -1.0                 # lowest representable in-range-ish
    hb, lb = B(hi), B(lo)
    vals += [hb, next_down_bits(hb, fbits), next_down_bits(next_down_bits(hb, fbits), fbits),
             next_up_bits(hb, fbits), lb, next_up_bits(lb, fbits), next_down_bits(lb, fbits),
             next_down_bits(next_down_bits(lb, fbits), fbits)]
    if sgn:
        # -2^(N-1) - 1 and its neighbours (representable only when the float is wide enough)
        l1 = B(lo - 1.0)
        vals += [l1, next_up_bits(l1, fbits), next_down_bits(l1, fbits)]
    # the other integer width's limits too
    for w in (32, 64):
        if w != ibits:
            vals += [B(float(1 << (w - 1))), B(-float(1 << (w - 1))), B(float(1 << w))]
    seen, res = set(), []
    for v in vals:
        if v not in seen:
            seen.add(v); res.append(v)
    return res

TRUNCS = [(ib, fb, s) for ib in (32, 64) for fb in (32, 64) for s in (True, False)]

def gen_conversions():
    out = [header("conversions: wrap, extend, trunc (trapping), convert, demote, promote, reinterpret", "gen_conv.py")]
    out.append("(module")
    out.append('  (func (export "i32.wrap_i64") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))')
    out.append('  (func (export "i64.extend_i32_s") (param i32) (result i64) (i64.extend_i32_s (local.get 0)))')
    out.append('  (func (export "i64.extend_i32_u") (param i32) (result i64) (i64.extend_i32_u (local.get 0)))')
    for ib, fb, s in TRUNCS:
        nm = "i%d.trunc_f%d_%s" % (ib, fb, "s" if s else "u")
        out.append('  (func (export "%s") (param f%d) (result i%d) (%s (local.get 0)))' % (nm, fb, ib, nm))
    for fb in (32, 64):
        for ib in (32, 64):
            for s in "su":
                nm = "f%d.convert_i%d_%s" % (fb, ib, s)
                out.append('  (func (export "%s") (param i%d) (result f%d) (%s (local.get 0)))' % (nm, ib, fb, nm))
    out.append('  (func (export "f32.demote_f64") (param f64) (result f32) (f32.demote_f64 (local.get 0)))')
    out.append('  (func (export "f64.promote_f32") (param f32) (result f64) (f64.promote_f32 (local.get 0)))')
    out.append('  (func (export "i32.reinterpret_f32") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))')
    out.append('  (func (export "i64.reinterpret_f64") (param f64) (result i64) (i64.reinterpret_f64 (local.get 0)))')
    out.append('  (func (export "f32.reinterpret_i32") (param i32) (result f32) (f32.reinterpret_i32 (local.get 0)))')
    out.append('  (func (export "f64.reinterpret_i64") (param i64) (result f64) (f64.reinterpret_i64 (local.get 0)))')
    out.append(")\n")
    n = 0
    def emit(name, args, r):
        nonlocal n
        out.append(assertion(name, args, r)); n += 1

    i64vals = [0, 1, 0xffffffff, 0x100000000, 0x1ffffffff, 0xffffffff00000000, 0xffffffff7fffffff,
               0x0000000080000000, 0x123456789abcdef0, 0x8000000000000000, 0x7fffffffffffffff,
               0xffffffffffffffff, 0xfffffffe00000001, 0x00000000fffffffe]
    out.append(";; i32.wrap_i64")
    for v in i64vals:
        emit("i32.wrap_i64", [iconst(v, 64)], ("i", 32, v & 0xffffffff))
    i32vals = [0, 1, 2, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff, 0xfffffffe, 10000, 0xffffd8f0, 0x12345678, 0xdeadbeef]
    out.append(";; i64.extend_i32_s / i64.extend_i32_u")
    for v in i32vals:
        emit("i64.extend_i32_s", [iconst(v, 32)], ("i", 64, mask(signed(v, 32), 64)))
        emit("i64.extend_i32_u", [iconst(v, 32)], ("i", 64, v))
    out.append("")

    for ib, fb, s in TRUNCS:
        nm = "i%d.trunc_f%d_%s" % (ib, fb, "s" if s else "u")
        out.append(";; %s: NaN -> invalid conversion, out of range (incl. +-inf) -> integer overflow" % nm)
        for b in trunc_inputs(fb, ib, s):
            emit(nm, [fconst(b, fb)], trunc_op(b, fb, ib, s, False))
        out.append("")

    # int -> float
    conv_i32 = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x80000001, 0x7fffff80, 0x7fffffc0,
                0x7fffffbf, 16777216, 16777217, 16777218, 16777219, 0xfeffffff, 0xff000001,
                0x01000003, 123456789, 0xf8a432eb, 0x00800001, 0xffffff7f, 0x9abcdef1, 1234]
    conv_i64 = [0, 1, 0xffffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000, 0x8000000000000001,
                0x20000020000001, 0x20000000000001, 0x20000000000002, 0x20000000000003,
                0x1fffffffffffff, 0xffdfffffffffffff, 0xffe0000000000001, 0x7fffff4000000001,
                0x8000008000000001, 0x8000000000000401, 0x8000000000000400, 0x8000000000000c00,
                0xfffffffffffffbff, 0x7ffffffffffffdff, 0x7ffffffffffffe00, 16777217, 0x1000001,
                0x100000000, 0xffffffff, 9007199254740993, 0x0123456789abcdef, 0xfedcba9876543210]
    for fb in (32, 64):
        mb = 24 if fb == 32 else 53
        for ib, vals in ((32, conv_i32), (64, conv_i64)):
            for s in "su":
                nm = "f%d.convert_i%d_%s" % (fb, ib, s)
                out.append(";; %s (round to nearest, ties to even)" % nm)
                for v in vals:
                    x = signed(v, ib) if s == "s" else v
                    emit(nm, [iconst(v, ib)], ("f", fb, fl(round_int(x, mb), fb)))
                out.append("")

    # demote / promote
    out.append(";; f32.demote_f64")
    import struct
    F64 = lambda x: struct.unpack("<Q", struct.pack("<d", x))[0]
    maxf32 = 3.4028234663852886e38
    dvals = [0.0, -0.0, 1.0, -1.0, 0.1, -0.1, 1.0 / 3.0, maxf32, -maxf32,
             math.ldexp(1.0, -126), math.ldexp(1.0, -149), -math.ldexp(1.0, -149),
             math.ldexp(1.0, -150), math.ldexp(1.0, -150) * 1.0000001, -math.ldexp(1.0, -150),
             math.ldexp(3.0, -151), math.ldexp(1.0, -151),
             math.ldexp(0x1ffffff, 103), math.ldexp(0x1ffffff, 103) * (1 - 2 ** -52),  # max f32 + half ulp (ties to inf), just below
             math.ldexp(0x1fffffd, 103), math.ldexp(1.0, 128), 1e39, -1e39, 1e300, -1e300,
             1e-300, -1e-300, math.inf, -math.inf, 1 + 2 ** -24, 1 + 2 ** -24 + 2 ** -52, 1 + 3 * 2 ** -24,
             1 - 2 ** -25, 1 - 2 ** -25 - 2 ** -53, 16777217.0, 5e-324, -5e-324, 123456.789,
             math.ldexp(0x1fffffe, -151)]
    dbits = [F64(x) for x in dvals] + [0x7ff8000000000000, 0xfff8000000000000, 0x7ff4000000000000,
                                       0xfff0000000000001, 0x7ffc000000000000, 0x7fffffffffffffff]
    for b in dbits:
        if is_nan_bits(b, 64):
            r = nan_res(b, 64, 32)
        else:
            r = ("f", 32, fl(f_bits_to_float(b, 64), 32))
        emit("f32.demote_f64", [fconst(b, 64)], r)
    out.append("")
    out.append(";; f64.promote_f32 (exact)")
    fbits = [0, 0x80000000, 0x3f800000, 0xbf800000, 1, 0x80000001, 0x7fffff, 0x800000, 0x7f7fffff,
             0xff7fffff, 0x7f800000, 0xff800000, 0x3dcccccd, 0x3eaaaaab, 0x4b800001,
             0x7fc00000, 0xffc00000, 0x7fa00000, 0xff800001, 0x7fe00000, 0x7fffffff]
    for b in fbits:
        if is_nan_bits(b, 32):
            r = nan_res(b, 32, 64)
        else:
            r = ("f", 64, F64(f_bits_to_float(b, 32)))
        emit("f64.promote_f32", [fconst(b, 32)], r)
    out.append("")

    out.append(";; reinterpretations are bit-exact, including NaN payloads and signs")
    r32 = [0, 0x80000000, 1, 0x80000001, 0x3f800000, 0xbf800000, 0x7f7fffff, 0x7f800000, 0xff800000,
           0x7fc00000, 0xffc00000, 0x7fa00000, 0xffa00000, 0x7f800001, 0xff800001, 0x7fffffff,
           0xffffffff, 0x7fc00001, 0x12345678, 0xdeadbeef]
    for b in r32:
        emit("f32.reinterpret_i32", [iconst(b, 32)], ("f", 32, b))
        emit("i32.reinterpret_f32", [fconst(b, 32)], ("i", 32, b))
    r64 = [0, 0x8000000000000000, 1, 0x8000000000000001, 0x3ff0000000000000, 0xbff0000000000000,
           0x7fefffffffffffff, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000,
           0xfff8000000000000, 0x7ff4000000000000, 0xfff4000000000000, 0x7ff0000000000001,
           0xfff0000000000001, 0x7fffffffffffffff, 0xffffffffffffffff, 0x7ff8000000000001,
           0x0123456789abcdef, 0xdeadbeefcafebabe]
    for b in r64:
        emit("f64.reinterpret_i64", [iconst(b, 64)], ("f", 64, b))
        emit("i64.reinterpret_f64", [fconst(b, 64)], ("i", 64, b))
    out.append("")

    # round trips inside one function: no canonicalisation between instructions
    out.append("(module")
    out.append('  (func (export "f32_roundtrip") (param i32) (result i32) (i32.reinterpret_f32 (f32.reinterpret_i32 (local.get 0))))')
    out.append('  (func (export "f64_roundtrip") (param i64) (result i64) (i64.reinterpret_f64 (f64.reinterpret_i64 (local.get 0))))')
    out.append('  (func (export "f32_local_roundtrip") (param i32) (result i32) (local f32)')
    out.append('    (local.set 1 (f32.reinterpret_i32 (local.get 0))) (i32.reinterpret_f32 (local.get 1)))')
    out.append('  (func (export "f32_select_roundtrip") (param i32) (result i32)')
    out.append('    (i32.reinterpret_f32 (select (f32.reinterpret_i32 (local.get 0)) (f32.const 0) (i32.const 1))))')
    out.append('  (func (export "f64_block_roundtrip") (param i64) (result i64)')
    out.append('    (i64.reinterpret_f64 (block (result f64) (f64.reinterpret_i64 (local.get 0)))))')
    out.append('  (func (export "f32_neg_roundtrip") (param i32) (result i32) (i32.reinterpret_f32 (f32.neg (f32.reinterpret_i32 (local.get 0)))))')
    out.append('  (func (export "f64_abs_roundtrip") (param i64) (result i64) (i64.reinterpret_f64 (f64.abs (f64.reinterpret_i64 (local.get 0)))))')
    out.append('  (func (export "f32_copysign_roundtrip") (param i32 i32) (result i32)')
    out.append('    (i32.reinterpret_f32 (f32.copysign (f32.reinterpret_i32 (local.get 0)) (f32.reinterpret_i32 (local.get 1)))))')
    out.append(")\n")
    for b in r32:
        emit("f32_roundtrip", [iconst(b, 32)], ("i", 32, b))
        emit("f32_local_roundtrip", [iconst(b, 32)], ("i", 32, b))
        emit("f32_select_roundtrip", [iconst(b, 32)], ("i", 32, b))
        emit("f32_neg_roundtrip", [iconst(b, 32)], ("i", 32, b ^ 0x80000000))
        emit("f32_copysign_roundtrip", [iconst(b, 32), iconst(0x80000000, 32)], ("i", 32, b | 0x80000000))
        emit("f32_copysign_roundtrip", [iconst(b, 32), iconst(0x7fa00000, 32)], ("i", 32, b & 0x7fffffff))
    for b in r64:
        emit("f64_roundtrip", [iconst(b, 64)], ("i", 64, b))
        emit("f64_block_roundtrip", [iconst(b, 64)], ("i", 64, b))
        emit("f64_abs_roundtrip", [iconst(b, 64)], ("i", 64, b & 0x7fffffffffffffff))

    path = os.path.join(OUT, "conversions.wast")
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")
    print(path, n)

def gen_trunc_sat():
    out = [header("trunc_sat: non-trapping float-to-int conversions (saturating; NaN -> 0)", "gen_conv.py")]
    out.append("(module")
    for ib, fb, s in TRUNCS:
        nm = "i%d.trunc_sat_f%d_%s" % (ib, fb, "s" if s else "u")
        out.append('  (func (export "%s") (param f%d) (result i%d) (%s (local.get 0)))' % (nm, fb, ib, nm))
    out.append(")\n")
    n = 0
    for ib, fb, s in TRUNCS:
        nm = "i%d.trunc_sat_f%d_%s" % (ib, fb, "s" if s else "u")
        out.append(";; %s" % nm)
        for b in trunc_inputs(fb, ib, s):
            out.append(assertion(nm, [fconst(b, fb)], trunc_op(b, fb, ib, s, True))); n += 1
        out.append("")
    # constant operands
    out.append("(module")
    cases = []
    k = 0
    for ib, fb, s in TRUNCS:
        nm = "i%d.trunc_sat_f%d_%s" % (ib, fb, "s" if s else "u")
        for b in (fl(math.inf, fb), fl(-math.inf, fb), (0x7fc00000 if fb == 32 else 0x7ff8000000000000), fl(-7.5, fb)):
            name = "k%d" % k; k += 1
            out.append('  (func (export "%s") (result i%d) (%s %s))' % (name, ib, nm, fconst(b, fb)))
            cases.append((name, trunc_op(b, fb, ib, s, True)))
    out.append(")\n")
    for name, r in cases:
        out.append(assertion(name, [], r)); n += 1
    path = os.path.join(OUT, "trunc_sat.wast")
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")
    print(path, n)

def gen_sign_ext():
    out = [header("sign_ext: the sign-extension operators", "gen_conv.py")]
    ops = [("i32", "extend8_s", 32, 8), ("i32", "extend16_s", 32, 16),
           ("i64", "extend8_s", 64, 8), ("i64", "extend16_s", 64, 16), ("i64", "extend32_s", 64, 32)]
    out.append("(module")
    for t, op, N, w in ops:
        out.append('  (func (export "%s.%s") (param %s) (result %s) (%s.%s (local.get 0)))' % (t, op, t, t, t, op))
    out.append(")\n")
    n = 0
    for t, op, N, w in ops:
        out.append(";; %s.%s" % (t, op))
        base = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x17f, 0x180, 0x7fff, 0x8000, 0xffff, 0x10000, 0x18000,
                0x7fffffff, 0x80000000, 0xffffffff, 0x12345678, 0x9abcdef0, 0x01234580, 0xfedcba7f,
                0x5a5a5aa5, 0xa5a5a55a]
        if N == 64:
            base += [0x100000000, 0x17fffffff, 0x180000000, 0x7fffffffffffffff, 0x8000000000000000,
                     0xffffffffffffffff, 0x0123456789abcdef, 0xfedcba9876543210, 0xffffffff00000000,
                     0x00000000ffffffff, 0x8000000080808080]
        for v in base:
            low = v & ((1 << w) - 1)
            r = mask(signed(low, w), N)
            out.append(assertion("%s.%s" % (t, op), [iconst(v, N)], ("i", N, r))); n += 1
        out.append("")
    path = os.path.join(OUT, "sign_ext.wast")
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")
    print(path, n)

if __name__ == "__main__":
    gen_conversions()
    gen_trunc_sat()
    gen_sign_ext()
