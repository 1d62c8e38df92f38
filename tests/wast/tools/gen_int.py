#!/usr/bin/env python3
"""Generate i32.wast and i64.wast (all integer numeric instructions)."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wastlib import *

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

DZ = ("trap", "integer divide by zero")
OV = ("trap", "integer overflow")

def tdiv(a, b):
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q

def make_ops(N):
    M = (1 << N) - 1
    S = lambda v: signed(v, N)
    I = lambda v: ("i", N, mask(v, N))
    B = lambda c: ("i", 32, 1 if c else 0)
    def div_s(a, b):
        if b == 0: return DZ
        if S(a) == -(1 << (N - 1)) and S(b) == -1: return OV
        return I(tdiv(S(a), S(b)))
    def rem_s(a, b):
        if b == 0: return DZ
        q = tdiv(S(a), S(b))
        return I(S(a) - q * S(b))
    def div_u(a, b):
        return DZ if b == 0 else I(a // b)
    def rem_u(a, b):
        return DZ if b == 0 else I(a % b)
    def rotl(a, b):
        k = b % N
        return I((a << k) | (a >> (N - k)))
    def rotr(a, b):
        k = b % N
        return I((a >> k) | (a << (N - k)))
    def clz(a):
        return I(N - a.bit_length())
    def ctz(a):
        if a == 0: return I(N)
        return I((a & -a).bit_length() - 1)
    binops = {
        "add": lambda a, b: I(a + b),
        "sub": lambda a, b: I(a - b),
        "mul": lambda a, b: I(a * b),
        "div_s": div_s, "div_u": div_u, "rem_s": rem_s, "rem_u": rem_u,
        "and": lambda a, b: I(a & b),
        "or": lambda a, b: I(a | b),
        "xor": lambda a, b: I(a ^ b),
    }
    shiftops = {
        "shl": lambda a, b: I(a << (b % N)),
        "shr_s": lambda a, b: I(S(a) >> (b % N)),
        "shr_u": lambda a, b: I(a >> (b % N)),
        "rotl": rotl, "rotr": rotr,
    }
    unops = {
        "clz": clz, "ctz": ctz,
        "popcnt": lambda a: I(bin(a).count("1")),
    }
    testops = {"eqz": lambda a: B(a == 0)}
    relops = {
        "eq": lambda a, b: B(a == b), "ne": lambda a, b: B(a != b),
        "lt_s": lambda a, b: B(S(a) < S(b)), "lt_u": lambda a, b: B(a < b),
        "gt_s": lambda a, b: B(S(a) > S(b)), "gt_u": lambda a, b: B(a > b),
        "le_s": lambda a, b: B(S(a) <= S(b)), "le_u": lambda a, b: B(a <= b),
        "ge_s": lambda a, b: B(S(a) >= S(b)), "ge_u": lambda a, b: B(a >= b),
    }
    return binops, shiftops, unops, testops, relops

def values(N):
    MIN = 1 << (N - 1)
    M = (1 << N) - 1
    if N == 32:
        arith = [0, 1, 2, 3, 7, 0x10, 0x7fffffff, 0x80000000, 0x80000001,
                 0xffffffff, 0xfffffffe, 0xfffffff9, 0x12345678, 0xf0f0f0f0]
        shifts_v = [0, 1, 0x80000000, 0xffffffff, 0x7fffffff, 0x12345678, 0xabcd9876, 0x40000001]
        counts = [0, 1, 4, 15, 31, 32, 33, 63, 64, 0x7fffffff, 0x80000000, 0xffffffff, 0xffffffe1]
        rel = [0, 1, 2, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff, 0xfffffffe, 0x10000, 0x8000]
        un = [0, 1, 2, 3, 0x80, 0x8000, 0x10000, 0x7fffffff, 0x80000000, 0x80000001,
              0xffffffff, 0xfffffffe, 0x00ff8000, 0x0f0f0f0f, 0xaaaaaaaa, 0x55555555,
              0xdeadbeef, 0x12345678, 0x00000100, 0x40000000, 0x00008000, 0x01000000,
              0xfffe0000, 0x00000007, 0x80008000]
    else:
        arith = [0, 1, 2, 7, 0x7fffffffffffffff, 0x8000000000000000,
                 0x8000000000000001, 0xffffffffffffffff, 0xfffffffffffffffe,
                 0xfffffffffffffff9, 0x100000000, 0xffffffff, 0x123456789abcdef0,
                 0x80000000]
        shifts_v = [0, 1, 0x8000000000000000, 0xffffffffffffffff, 0x7fffffffffffffff,
                    0x123456789abcdef0, 0xabcd987602468ace, 0x4000000000000001, 0x80000000]
        counts = [0, 1, 4, 31, 32, 33, 63, 64, 65, 0x7fffffffffffffff,
                  0x8000000000000000, 0xffffffffffffffff, 0xffffffffffffffc1]
        rel = [0, 1, 2, 0x7fffffffffffffff, 0x8000000000000000, 0x8000000000000001,
               0xffffffffffffffff, 0xfffffffffffffffe, 0x100000000, 0xffffffff, 0x80000000]
        un = [0, 1, 2, 3, 0x80, 0x8000, 0x80000000, 0x100000000, 0xffffffff,
              0x7fffffffffffffff, 0x8000000000000000, 0x8000000000000001,
              0xffffffffffffffff, 0xfffffffffffffffe, 0x00ff8000, 0x0f0f0f0f0f0f0f0f,
              0xaaaaaaaaaaaaaaaa, 0x5555555555555555, 0xdeadbeefdeadbeef,
              0x123456789abcdef0, 0x4000000000000000, 0x0000000100000000,
              0xfffe000000000000, 0x7, 0x8000000080000000, 0x0000800000000000]
    return arith, shifts_v, counts, rel, un

def gen(N):
    t = "i%d" % N
    binops, shiftops, unops, testops, relops = make_ops(N)
    arith, shifts_v, counts, rel, un = values(N)
    out = [header("%s: every %s numeric instruction" % (t, t), "gen_int.py")]
    out.append("(module")
    for op in list(binops) + list(shiftops):
        out.append('  (func (export "%s") (param $x %s) (param $y %s) (result %s) (%s.%s (local.get $x) (local.get $y)))' % (op, t, t, t, t, op))
    for op in unops:
        out.append('  (func (export "%s") (param $x %s) (result %s) (%s.%s (local.get $x)))' % (op, t, t, t, op))
    for op in testops:
        out.append('  (func (export "%s") (param $x %s) (result i32) (%s.%s (local.get $x)))' % (op, t, t, op))
    for op in relops:
        out.append('  (func (export "%s") (param $x %s) (param $y %s) (result i32) (%s.%s (local.get $x) (local.get $y)))' % (op, t, t, t, op))
    out.append(")\n")
    n = 0
    def emit(name, args, r):
        nonlocal n
        out.append(assertion(name, [iconst(a, N) for a in args], r)); n += 1
    # binary arithmetic / bitwise: full cross product of the value table
    for op, f in binops.items():
        out.append(";; %s.%s" % (t, op))
        for a in arith:
            for b in arith:
                emit(op, (a, b), f(a, b))
        out.append("")
    # targeted division / remainder cases
    MIN = 1 << (N - 1); M = (1 << N) - 1
    extra = [(7, 2), (M - 6, 2), (7, M - 1), (M - 6, M - 1), (11, 5), (M - 10, 5), (5, M - 10),
             (MIN, M), (MIN, 2), (MIN + 1, M), (M, MIN), (MIN, MIN), (0, M), (17, 7),
             (1000000007, 1000), (M - 1000000006, 1000), (M, 1), (M, 0), (0, 0), (MIN, 0)]
    out.append(";; division and remainder: truncation toward zero, sign of the dividend")
    for op in ("div_s", "div_u", "rem_s", "rem_u"):
        for a, b in extra:
            emit(op, (a, b), binops[op](a, b))
    out.append("")
    for op, f in shiftops.items():
        out.append(";; %s.%s (the count is taken modulo %d)" % (t, op, N))
        for a in shifts_v:
            for b in counts:
                emit(op, (a, b), f(a, b))
        out.append("")
    for op, f in list(unops.items()) + list(testops.items()):
        out.append(";; %s.%s" % (t, op))
        for a in un:
            emit(op, (a,), f(a))
        for k in range(N):
            emit(op, (1 << k,), f(1 << k))
        out.append("")
    for op, f in relops.items():
        out.append(";; %s.%s" % (t, op))
        for a in rel:
            for b in rel:
                emit(op, (a, b), f(a, b))
        out.append("")

    # constant operands, so that an engine which folds or specialises constants is tested too
    out.append(";; the same operations on constant operands inside the function body")
    out.append("(module")
    cases = []
    k = 0
    for op, (a, b) in [("div_s", (M - 6, 2)), ("div_u", (M - 6, 2)), ("rem_s", (M - 6, 2)),
                       ("rem_u", (M - 6, 2)), ("shl", (1, N + 3)), ("shr_s", (MIN, N + 1)),
                       ("shr_u", (MIN, N + 1)), ("rotl", (MIN | 1, 1)), ("rotr", (MIN | 1, 1)),
                       ("mul", (MIN, M)), ("sub", (0, MIN)), ("add", (M, 2))]:
        f = binops.get(op) or shiftops[op]
        name = "c%d_%s" % (k, op); k += 1
        out.append('  (func (export "%s") (result %s) (%s.%s %s %s))' % (name, t, t, op, iconst(a, N), iconst(b, N)))
        cases.append((name, f(a, b)))
    for op, a in [("clz", 0), ("ctz", 0), ("popcnt", M), ("clz", 1), ("ctz", MIN)]:
        name = "c%d_%s" % (k, op); k += 1
        out.append('  (func (export "%s") (result %s) (%s.%s %s))' % (name, t, t, op, iconst(a, N)))
        cases.append((name, unops[op](a)))
    tr = []
    for op, (a, b), r in [("div_s", (1, 0), DZ), ("div_u", (1, 0), DZ), ("rem_s", (1, 0), DZ),
                          ("rem_u", (1, 0), DZ), ("div_s", (MIN, M), OV)]:
        name = "c%d_%s" % (k, op); k += 1
        out.append('  (func (export "%s") (result %s) (%s.%s %s %s))' % (name, t, t, op, iconst(a, N), iconst(b, N)))
        cases.append((name, r))
    name = "c%d_rem_s" % k
    out.append('  (func (export "%s") (result %s) (%s.rem_s %s %s))' % (name, t, t, iconst(MIN, N), iconst(M, N)))
    cases.append((name, ("i", N, 0)))
    # trapping instruction whose result is dropped must still trap
    out.append('  (func (export "dropped_div_by_zero") (%s.div_u %s %s) (drop))' % (t, iconst(1, N), iconst(0, N)))
    out.append('  (func (export "dropped_overflow") (drop (%s.div_s %s %s)))' % (t, iconst(MIN, N), iconst(M, N)))
    out.append('  (func (export "dropped_rem_ok") (drop (%s.rem_s %s %s)))' % (t, iconst(MIN, N), iconst(M, N)))
    out.append(")\n")
    for name, r in cases:
        out.append(assertion(name, [], r)); n += 1
    out.append('(assert_trap (invoke "dropped_div_by_zero") "integer divide by zero")')
    out.append('(assert_trap (invoke "dropped_overflow") "integer overflow")')
    out.append('(assert_return (invoke "dropped_rem_ok"))')
    n += 3
    path = os.path.join(OUT, "%s.wast" % t)
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")
    print(path, n)

if __name__ == "__main__":
    gen(32)
    gen(64)
