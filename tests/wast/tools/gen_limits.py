#!/usr/bin/env python3
"""Generate limits.wast: large but reasonable modules (deep nesting, many
locals / params / results / globals / functions, huge br_table, long
bodies, deep operand stacks) that every engine must handle."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wastlib import header

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

def gen():
    o = [header("limits: large modules that are well within any reasonable implementation limit", "gen_limits.py")]
    n = 0
    def a(s):
        nonlocal n
        o.append(s); n += 1

    o.append("(module")
    # 1. 1000 nested blocks, branch from the innermost to each depth
    D = 1000
    o.append('  (func (export "nested-blocks") (param i32) (result i32)')
    o.append("    " + "(block (result i32) " * D)
    o.append("      (br_table %s (i32.const 7) (local.get 0))" % " ".join(str(i) for i in range(0, D, 7)))
    o.append("    " + ")" * D + ")")
    # 2. 500 nested loops each entered once
    L = 500
    o.append('  (func (export "nested-loops") (result i32) (local i32)')
    o.append("    " + "(loop " * L + "(local.set 0 (i32.add (local.get 0) (i32.const 1)))" + ")" * L)
    o.append("    (local.get 0))")
    # 3. 300 nested ifs
    I = 300
    o.append('  (func (export "nested-ifs") (param i32) (result i32)')
    o.append("    " + "(if (result i32) (local.get 0) (then " * I + "(i32.const 1)" + ") (else (i32.const 0)))" * I + ")")
    # 4. deep operand stack: 2000 pending additions
    S = 1000
    o.append('  (func (export "deep-stack") (result i32)')
    o.append("    " + "(i32.const 1) " * S + "(i32.add) " * (S - 1) + ")")
    o.append('  (func (export "deep-expr") (param i32) (result i32)')
    o.append("    " + "(i32.add (local.get 0) " * S + "(i32.const 0)" + ")" * S + ")")
    # 5. many locals
    NL = 5000
    o.append('  (func (export "many-locals") (param i64) (result i64)')
    o.append("    (local i32) (local f64) (local %s)" % " ".join(["i64"] * NL))
    o.append("    (local.set %d (local.get 0))" % (NL + 2))
    o.append("    (local.set %d (i64.const 5))" % (NL // 2))
    o.append("    (i64.add (i64.add (local.get %d) (local.get %d)) (local.get %d)))" % (NL + 2, NL // 2, NL + 1))
    # 6. many params
    NP = 200
    o.append('  (func $many-params (param %s) (result i64)' % " ".join(["i64"] * NP))
    o.append("    (i64.add (i64.mul (local.get 0) (i64.const 1000)) (i64.add (local.get 1) (local.get %d))))" % (NP - 1))
    o.append('  (func (export "many-params") (result i64)')
    o.append("    (call $many-params %s))" % " ".join("(i64.const %d)" % i for i in range(1, NP + 1)))
    o.append('  (func (export "many-params-indirect") (result i64)')
    o.append("    (call_indirect (param %s) (result i64) %s (i32.const 0)))" % (" ".join(["i64"] * NP), " ".join("(i64.const %d)" % (i * 2) for i in range(1, NP + 1))))
    o.append("  (table funcref (elem $many-params))")
    # 7. many results
    NR = 100
    o.append('  (func $many-results (result %s)' % " ".join(["i32"] * NR))
    o.append("    %s)" % " ".join("(i32.const %d)" % i for i in range(NR)))
    o.append('  (func (export "many-results-sum") (result i32)')
    o.append("    (call $many-results) " + "(i32.add) " * (NR - 1) + ")")
    o.append('  (func (export "many-results-block") (result i32)')
    o.append("    (block (result %s) (call $many-results)) " % " ".join(["i32"] * NR) + "(drop) " * (NR - 2) + "(i32.sub))")
    # 8. big br_table
    BT = 10000
    o.append('  (func (export "big-br_table") (param i32) (result i32)')
    o.append("    (block $b2 (block $b1 (block $b0")
    o.append("      (br_table %s $b2 (local.get 0)))" % " ".join(["$b0", "$b1"][(i // 3) % 2] for i in range(BT)))
    o.append("      (return (i32.const 100)))")
    o.append("    (return (i32.const 101)))")
    o.append("    (i32.const 102))")
    # 9. long straight-line body
    LB = 500
    o.append('  (func (export "long-body") (result i64) (local i64)')
    for i in range(LB):
        o.append("    (local.set 0 (i64.add (local.get 0) (i64.const %d)))" % i)
    o.append("    (local.get 0))")
    o.append(")")
    a('(assert_return (invoke "nested-blocks" (i32.const 0)) (i32.const 7))')
    a('(assert_return (invoke "nested-blocks" (i32.const 5)) (i32.const 7))')
    a('(assert_return (invoke "nested-blocks" (i32.const 142)) (i32.const 7))')
    a('(assert_return (invoke "nested-blocks" (i32.const 143)) (i32.const 7))')
    a('(assert_return (invoke "nested-blocks" (i32.const -1)) (i32.const 7))')
    a('(assert_return (invoke "nested-loops") (i32.const 1))')
    a('(assert_return (invoke "nested-ifs" (i32.const 1)) (i32.const 1))')
    a('(assert_return (invoke "nested-ifs" (i32.const 0)) (i32.const 0))')
    a('(assert_return (invoke "deep-stack") (i32.const %d))' % S)
    a('(assert_return (invoke "deep-expr" (i32.const 3)) (i32.const %d))' % (3 * S))
    a('(assert_return (invoke "many-locals" (i64.const 37)) (i64.const 42))')
    a('(assert_return (invoke "many-params") (i64.const %d))' % (1 * 1000 + 2 + NP))
    a('(assert_return (invoke "many-params-indirect") (i64.const %d))' % (2 * 1000 + 4 + 2 * NP))
    a('(assert_return (invoke "many-results-sum") (i32.const %d))' % sum(range(NR)))
    a('(assert_return (invoke "many-results-block") (i32.const -1))')
    for i in (0, 1, 2, 3, 5, 6, 4999, 9998, 9999, 10000, 10001, -1):
        r = 102 if not (0 <= i < BT) else (100 if ((i // 3) % 2) == 0 else 101)
        a('(assert_return (invoke "big-br_table" (i32.const %d)) (i32.const %d))' % (i, r))
    a('(assert_return (invoke "long-body") (i64.const %d))' % sum(range(LB)))

    # many functions calling each other in a chain, many globals, big table, big data
    NF = 600
    o.append("\n(module")
    for i in range(NF):
        if i == NF - 1:
            o.append("  (func $f%d (param i32) (result i32) (i32.add (local.get 0) (i32.const %d)))" % (i, i))
        else:
            o.append("  (func $f%d (param i32) (result i32) (call $f%d (i32.add (local.get 0) (i32.const %d))))" % (i, i + 1, i))
    o.append('  (export "chain" (func $f0))')
    o.append('  (export "last" (func $f%d))' % (NF - 1))
    NG = 500
    for i in range(NG):
        o.append("  (global $g%d (mut i32) (i32.const %d))" % (i, i))
    o.append('  (func (export "sum-globals") (result i32)')
    o.append("    " + " ".join("(global.get $g%d)" % i for i in range(NG)) + " " + "(i32.add) " * (NG - 1) + ")")
    o.append('  (func (export "bump-last") (global.set $g%d (i32.add (global.get $g%d) (i32.const 1))))' % (NG - 1, NG - 1))
    NT = 10000
    o.append("  (table $t %d funcref)" % NT)
    o.append("  (elem (i32.const 0) %s)" % " ".join("$f%d" % ((i * 7) % NF) for i in range(NT)))
    o.append('  (func (export "call-table") (param i32 i32) (result i32) (call_indirect $t (param i32) (result i32) (local.get 1) (local.get 0)))')
    o.append("  (memory 2)")
    big = bytes((i * 31 + 7) & 0xff for i in range(8192))
    o.append('  (data (i32.const 1) "%s")' % "".join("\\%02x" % c for c in big))
    o.append('  (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0)))')
    o.append(")")
    tri = lambda k: k * (k - 1) // 2
    a('(assert_return (invoke "chain" (i32.const 0)) (i32.const %d))' % tri(NF))
    a('(assert_return (invoke "last" (i32.const 1)) (i32.const %d))' % (1 + NF - 1))
    a('(assert_return (invoke "sum-globals") (i32.const %d))' % tri(NG))
    a('(assert_return (invoke "bump-last"))')
    a('(assert_return (invoke "sum-globals") (i32.const %d))' % (tri(NG) + 1))
    for i in (0, 1, 142, 143, 9999):
        f = (i * 7) % NF
        # $f calls down the chain from f to the end: sum of f..NF-1
        a('(assert_return (invoke "call-table" (i32.const %d) (i32.const 0)) (i32.const %d))' % (i, tri(NF) - tri(f)))
    a('(assert_trap (invoke "call-table" (i32.const %d) (i32.const 0)) "undefined element")' % NT)
    for i in (0, 1, 2, 8191, 8192, 8193, 8194):
        v = big[i - 1] if 1 <= i <= 8192 else 0
        a('(assert_return (invoke "byte" (i32.const %d)) (i32.const %d))' % (i, v))

    path = os.path.join(OUT, "limits.wast")
    with open(path, "w") as fh:
        fh.write("\n".join(o) + "\n")
    print(path, n)

if __name__ == "__main__":
    gen()
