#!/usr/bin/env python3
"""Generate f32.wast and f64.wast (all float numeric instructions)."""
import os, sys, math
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wastlib import *

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

class FOps:
    def __init__(self, N):
        self.N = N
        self.SB = sign_bit(N)
        self.ABS = self.SB - 1

    # -- helpers
    def val(self, b): return f_bits_to_float(b, self.N)
    def res(self, x):
        """Round a double result to this type and tag it."""
        if math.isnan(x):
            return ("nan", self.N, "canonical")
        return ("f", self.N, fl(x, self.N))
    def nan_result(self, *ins):
        nans = [b for b in ins if is_nan_bits(b, self.N)]
        if not nans:
            return None
        if all(is_canonical_nan(b, self.N) for b in nans):
            return ("nan", self.N, "canonical")
        return ("nan", self.N, "arithmetic")
    def isneg(self, b): return bool(b & self.SB)

    # -- binary arithmetic
    def add(self, a, b): return self.nan_result(a, b) or self.res(self.val(a) + self.val(b))
    def sub(self, a, b): return self.nan_result(a, b) or self.res(self.val(a) - self.val(b))
    def mul(self, a, b): return self.nan_result(a, b) or self.res(self.val(a) * self.val(b))
    def div(self, a, b):
        r = self.nan_result(a, b)
        if r: return r
        x, y = self.val(a), self.val(b)
        if y == 0:
            if x == 0: return ("nan", self.N, "canonical")
            neg = self.isneg(a) != self.isneg(b)
            return ("f", self.N, (self.SB if neg else 0) | fl(math.inf, self.N))
        return self.res(x / y)
    def min(self, a, b):
        r = self.nan_result(a, b)
        if r: return r
        x, y = self.val(a), self.val(b)
        if x == 0 and y == 0:
            return ("f", self.N, a | b)          # -0 if either is -0
        return ("f", self.N, a if x < y else b)
    def max(self, a, b):
        r = self.nan_result(a, b)
        if r: return r
        x, y = self.val(a), self.val(b)
        if x == 0 and y == 0:
            return ("f", self.N, a & b)          # +0 if either is +0
        return ("f", self.N, a if x > y else b)
    def copysign(self, a, b):
        return ("f", self.N, (a & self.ABS) | (b & self.SB))

    # -- unary
    def abs(self, a): return ("f", self.N, a & self.ABS)
    def neg(self, a): return ("f", self.N, a ^ self.SB)
    def sqrt(self, a):
        r = self.nan_result(a)
        if r: return r
        x = self.val(a)
        if x == 0: return ("f", self.N, a)       # sqrt(-0) = -0
        if x < 0: return ("nan", self.N, "canonical")
        if math.isinf(x): return ("f", self.N, a)
        return self.res(math.sqrt(x))
    def _rnd(self, a, f):
        r = self.nan_result(a)
        if r: return r
        x = self.val(a)
        if math.isinf(x) or x == 0: return ("f", self.N, a)
        y = float(f(x))
        if y == 0: return ("f", self.N, a & self.SB)   # keeps the sign of the operand
        return ("f", self.N, fl(y, self.N))
    def ceil(self, a): return self._rnd(a, math.ceil)
    def floor(self, a): return self._rnd(a, math.floor)
    def trunc(self, a): return self._rnd(a, math.trunc)
    def nearest(self, a): return self._rnd(a, round)   # Python's round() is ties-to-even

    # -- comparisons
    def _cmp(self, a, b, f):
        if is_nan_bits(a, self.N) or is_nan_bits(b, self.N):
            return ("i", 32, 1 if f is None else 0)
        return ("i", 32, 1 if f(self.val(a), self.val(b)) else 0)
    def eq(self, a, b): return self._cmp(a, b, lambda x, y: x == y)
    def ne(self, a, b):
        if is_nan_bits(a, self.N) or is_nan_bits(b, self.N): return ("i", 32, 1)
        return self._cmp(a, b, lambda x, y: x != y)
    def lt(self, a, b): return self._cmp(a, b, lambda x, y: x < y)
    def gt(self, a, b): return self._cmp(a, b, lambda x, y: x > y)
    def le(self, a, b): return self._cmp(a, b, lambda x, y: x <= y)
    def ge(self, a, b): return self._cmp(a, b, lambda x, y: x >= y)

BIN = ["add", "sub", "mul", "div", "min", "max", "copysign"]
UN = ["abs", "neg", "sqrt", "ceil", "floor", "trunc", "nearest"]
REL = ["eq", "ne", "lt", "gt", "le", "ge"]

def tables(N):
    B = lambda x: fl(x, N)
    SB = sign_bit(N)
    if N == 32:
        minsub, maxsub, minnorm, maxf = 0x1, 0x7fffff, 0x800000, 0x7f7fffff
        inf, qnan = 0x7f800000, 0x7fc00000
        snan = 0x7fa00000          # nan:0x200000 (signalling)
        qnan2 = 0x7fe00000         # nan:0x600000 (quiet, non-canonical)
        twopi = 0x40c90fdb
        half_ulp1 = B(2.0 ** -24)
        big_int = B(2.0 ** 23)
    else:
        minsub, maxsub, minnorm, maxf = 0x1, 0xfffffffffffff, 0x10000000000000, 0x7fefffffffffffff
        inf, qnan = 0x7ff0000000000000, 0x7ff8000000000000
        snan = 0x7ff4000000000000  # nan:0x4000000000000 (signalling)
        qnan2 = 0x7ffc000000000000 # nan:0xc000000000000 (quiet, non-canonical)
        twopi = 0x401921fb54442d18
        half_ulp1 = B(2.0 ** -53)
        big_int = B(2.0 ** 52)
    binv = [0, SB, minsub, SB | minsub, minnorm, SB | maxsub, B(0.5), B(-0.5), B(1.0), B(-1.0),
            twopi, SB | twopi, maxf, SB | maxf, inf, SB | inf, qnan, SB | snan, qnan2]
    relv = [0, SB, minsub, B(-1.0), B(1.0), B(0.5), maxf, SB | maxf, inf, SB | inf, qnan, SB | snan]
    unv = binv + [SB | qnan, snan, SB | qnan2, maxsub, SB | minnorm, SB | minsub,
                  B(1.5), B(-1.5), B(2.5), B(-2.5), B(3.5), B(-3.5), B(4.5), B(-4.5),
                  B(0.49999997 if N == 32 else 0.49999999999999994), B(-0.49999997 if N == 32 else -0.49999999999999994),
                  B(0.5000001 if N == 32 else 0.5000000000000001), B(-0.5000001 if N == 32 else -0.5000000000000001),
                  big_int, SB | big_int, big_int - 1, (big_int - 1) | SB, big_int + 1,
                  B(4.0), B(2.0), B(100.0), B(1e-10), B(-1e-10), B(1e30), B(-1e30),
                  B(123456.789), B(-123456.789), B(0.1), B(-0.1), B(9.99), B(-9.99), B(1e-38)]
    # extra pairs: rounding, overflow, underflow, cancellation
    one = B(1.0)
    ulp = lambda b: f_bits_to_float(next_up_bits(b, N), N) - f_bits_to_float(b, N)
    mx = f_bits_to_float(maxf, N)
    mnorm = f_bits_to_float(minnorm, N)
    msub = f_bits_to_float(minsub, N)
    pairs = {
        "add": [(one, half_ulp1), (one, B(3 * 2.0 ** (-24 if N == 32 else -53))), (next_up_bits(one, N), half_ulp1),
                (maxf, B(ulp(maxf) / 2)), (maxf, B(ulp(maxf) / 4)), (maxf, maxf), (SB | maxf, SB | maxf),
                (minsub, minsub), (maxsub, minsub), (B(0.1), B(0.2)), (B(1e30), B(-1e30)),
                (inf, SB | inf), (B(1.0), B(-1.0)), (SB, SB), (0, SB), (SB | minsub, minsub),
                (B(1e10), B(1.0)), (B(-1.0), B(1e-20))],
        "sub": [(one, half_ulp1), (one, B(2.0 ** (-25 if N == 32 else -54))), (inf, inf), (SB | inf, SB | inf),
                (0, 0), (SB, 0), (0, SB), (SB, SB), (minnorm, minsub), (minsub, minnorm),
                (B(1.0), B(1.0)), (SB | maxf, maxf), (B(0.3), B(0.1)), (B(1e30), B(1.0))],
        "mul": [(minnorm, B(0.5)), (minsub, B(0.5)), (minsub, B(1.5)), (B(3 * msub), B(0.5)),
                (minsub, SB | B(0.5)), (maxf, B(2.0)), (maxf, B(1.0000001 if N == 32 else 1.0000000000000002)),
                (inf, 0), (SB | inf, 0), (inf, SB), (0, SB), (SB, SB), (B(0.1), B(10.0)),
                (B(1e20), B(1e20)), (B(1e-20), B(1e-20)), (B(-1e20), B(1e20)), (B(3.0), B(1.0 / 3.0))],
        "div": [(B(1.0), B(3.0)), (B(2.0), B(3.0)), (B(-1.0), B(3.0)), (B(1.0), 0), (B(1.0), SB),
                (B(-1.0), 0), (B(-1.0), SB), (0, 0), (SB, 0), (inf, inf), (inf, B(2.0)), (B(2.0), inf),
                (B(2.0), SB | inf), (minnorm, B(2.0)), (minsub, B(2.0)), (B(3.0) if True else 0, B(2.0)),
                (maxf, B(0.5)), (maxf, minsub), (minsub, maxf), (B(1e30), B(1e-30)), (B(1e-30), B(1e30))],
        "min": [(0, SB), (SB, 0), (0, 0), (SB, SB), (qnan, B(1.0)), (B(1.0), SB | qnan), (snan, 0),
                (inf, SB | inf), (minsub, SB | minsub)],
        "max": [(0, SB), (SB, 0), (0, 0), (SB, SB), (qnan, B(1.0)), (B(1.0), SB | qnan), (snan, 0),
                (inf, SB | inf), (minsub, SB | minsub)],
        "copysign": [(qnan, SB), (SB | qnan, 0), (snan, SB | inf), (SB | snan, qnan), (qnan2, SB | qnan2),
                     (inf, SB | qnan), (minsub, SB | snan)],
    }
    return binv, relv, unv, pairs

def gen(N):
    t = "f%d" % N
    ops = FOps(N)
    binv, relv, unv, pairs = tables(N)
    out = [header("%s: every %s numeric instruction, IEEE-754 edge cases" % (t, t), "gen_float.py")]
    out.append(";; NaN results: nan:canonical when every NaN operand was canonical (or there was none),")
    out.append(";; nan:arithmetic otherwise; abs/neg/copysign are bitwise and keep payloads exactly.\n")
    out.append("(module")
    for op in BIN:
        out.append('  (func (export "%s") (param $x %s) (param $y %s) (result %s) (%s.%s (local.get $x) (local.get $y)))' % (op, t, t, t, t, op))
    for op in UN:
        out.append('  (func (export "%s") (param $x %s) (result %s) (%s.%s (local.get $x)))' % (op, t, t, t, op))
    for op in REL:
        out.append('  (func (export "%s") (param $x %s) (param $y %s) (result i32) (%s.%s (local.get $x) (local.get $y)))' % (op, t, t, t, op))
    out.append(")\n")
    n = 0
    def emit(name, args, r):
        nonlocal n
        out.append(assertion(name, [fconst(a, N) for a in args], r)); n += 1
    for op in BIN:
        f = getattr(ops, op)
        out.append(";; %s.%s" % (t, op))
        for a in binv:
            for b in binv:
                emit(op, (a, b), f(a, b))
        out.append(";; %s.%s: rounding, overflow, underflow, signed zeros" % (t, op))
        for a, b in pairs[op]:
            emit(op, (a, b), f(a, b))
            if op in ("add", "mul", "min", "max"):
                emit(op, (b, a), f(b, a))           # commutativity
        out.append("")
    for op in UN:
        f = getattr(ops, op)
        out.append(";; %s.%s" % (t, op))
        for a in unv:
            emit(op, (a,), f(a))
        out.append("")
    for op in REL:
        f = getattr(ops, op)
        out.append(";; %s.%s" % (t, op))
        for a in relv:
            for b in relv:
                emit(op, (a, b), f(a, b))
        out.append("")

    # constants in the body (no argument passing), NaN-producing operations
    out.append(";; constant operands, NaN generation from non-NaN operands")
    out.append("(module")
    cases = []
    SB = sign_bit(N)
    B = lambda x: fl(x, N)
    inf = fl(math.inf, N)
    for i, (op, args) in enumerate([("div", (0, 0)), ("div", (SB, 0)), ("sub", (inf, inf)),
                                    ("add", (inf, SB | inf)), ("mul", (inf, 0)), ("mul", (SB, SB | inf)),
                                    ("sqrt", (B(-1.0),)), ("sqrt", (SB | inf,)), ("div", (inf, SB | inf)),
                                    ("div", (B(1.0), SB)), ("min", (0, SB)), ("max", (SB, 0)),
                                    ("nearest", (B(-0.5),)), ("ceil", (B(-0.5),)), ("floor", (B(0.5),)),
                                    ("trunc", (B(-0.9),)), ("neg", (0,)), ("abs", (SB,))]):
        name = "k%d_%s" % (i, op)
        out.append('  (func (export "%s") (result %s) (%s.%s %s))' % (name, t, t, op, " ".join(fconst(a, N) for a in args)))
        cases.append((name, getattr(ops, op)(*args)))
    out.append(")\n")
    for name, r in cases:
        out.append(assertion(name, [], r)); n += 1

    path = os.path.join(OUT, "%s.wast" % t)
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")
    print(path, n)

if __name__ == "__main__":
    gen(32)
    gen(64)
