#!/usr/bin/env python3
"""Generate validation_ops.wast: operand/result typing of every numeric and memory opcode."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wastlib import header

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
T = ["i32", "i64", "f32", "f64"]

def ops():
    res = []
    for t in ("i32", "i64"):
        for o in ("clz", "ctz", "popcnt", "extend8_s", "extend16_s"):
            res.append(("%s.%s" % (t, o), [t], [t]))
        if t == "i64":
            res.append(("i64.extend32_s", [t], [t]))
        res.append(("%s.eqz" % t, [t], ["i32"]))
        for o in ("add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor",
                  "shl", "shr_s", "shr_u", "rotl", "rotr"):
            res.append(("%s.%s" % (t, o), [t, t], [t]))
        for o in ("eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"):
            res.append(("%s.%s" % (t, o), [t, t], ["i32"]))
    for t in ("f32", "f64"):
        for o in ("abs", "neg", "sqrt", "ceil", "floor", "trunc", "nearest"):
            res.append(("%s.%s" % (t, o), [t], [t]))
        for o in ("add", "sub", "mul", "div", "min", "max", "copysign"):
            res.append(("%s.%s" % (t, o), [t, t], [t]))
        for o in ("eq", "ne", "lt", "gt", "le", "ge"):
            res.append(("%s.%s" % (t, o), [t, t], ["i32"]))
    res.append(("i32.wrap_i64", ["i64"], ["i32"]))
    res.append(("i64.extend_i32_s", ["i32"], ["i64"]))
    res.append(("i64.extend_i32_u", ["i32"], ["i64"]))
    for it in ("i32", "i64"):
        for ft in ("f32", "f64"):
            for s in "su":
                res.append(("%s.trunc_%s_%s" % (it, ft, s), [ft], [it]))
                res.append(("%s.trunc_sat_%s_%s" % (it, ft, s), [ft], [it]))
                res.append(("%s.convert_%s_%s" % (ft, it, s), [it], [ft]))
    res.append(("f32.demote_f64", ["f64"], ["f32"]))
    res.append(("f64.promote_f32", ["f32"], ["f64"]))
    res.append(("i32.reinterpret_f32", ["f32"], ["i32"]))
    res.append(("i64.reinterpret_f64", ["f64"], ["i64"]))
    res.append(("f32.reinterpret_i32", ["i32"], ["f32"]))
    res.append(("f64.reinterpret_i64", ["i64"], ["f64"]))
    return res

MEM = [("i32.load", "i32"), ("i64.load", "i64"), ("f32.load", "f32"), ("f64.load", "f64"),
       ("i32.load8_s", "i32"), ("i32.load8_u", "i32"), ("i32.load16_s", "i32"), ("i32.load16_u", "i32"),
       ("i64.load8_s", "i64"), ("i64.load8_u", "i64"), ("i64.load16_s", "i64"), ("i64.load16_u", "i64"),
       ("i64.load32_s", "i64"), ("i64.load32_u", "i64")]
STO = [("i32.store", "i32"), ("i64.store", "i64"), ("f32.store", "f32"), ("f64.store", "f64"),
       ("i32.store8", "i32"), ("i32.store16", "i32"), ("i64.store8", "i64"), ("i64.store16", "i64"),
       ("i64.store32", "i64")]

def c(t):
    return "(%s.const 0)" % t

def other(t):
    return {"i32": "i64", "i64": "f32", "f32": "f64", "f64": "i32"}[t]

def inv(out, body, result=None, mem=False):
    r = " (result %s)" % result if result else ""
    m = "(memory 1) " if mem else ""
    out.append('(assert_invalid (module %s(func%s %s)) "type mismatch")' % (m, r, body))

def gen():
    out = [header("validation_ops: operand and result typing of every numeric and memory instruction", "gen_validation_ops.py")]
    n = 0
    for name, params, results in ops():
        out.append(";; %s" % name)
        r = results[0]
        good = " ".join(c(p) for p in params)
        # a valid use, so the opcode itself is known to be accepted
        out.append('(module (func (result %s) (%s %s)))' % (r, name, good))
        # every operand position with a wrong type
        for i in range(len(params)):
            args = [c(p) for p in params]
            args[i] = c(other(params[i]))
            inv(out, "(%s %s)" % (name, " ".join(args)), r); n += 1
        # missing operands
        inv(out, "(%s)" % name, r); n += 1
        if len(params) == 2:
            inv(out, "(%s %s)" % (name, c(params[0])), r); n += 1
        # result of the wrong type
        inv(out, "(%s %s)" % (name, good), other(r)); n += 1
        # result left on the stack of a function without results
        inv(out, "(%s %s)" % (name, good)); n += 1
    out.append("")
    for name, t in MEM:
        out.append(";; %s" % name)
        out.append('(module (memory 1) (func (result %s) (%s (i32.const 0))))' % (t, name))
        inv(out, "(%s (i64.const 0))" % name, t, True); n += 1
        inv(out, "(%s (f32.const 0))" % name, t, True); n += 1
        inv(out, "(%s)" % name, t, True); n += 1
        inv(out, "(%s (i32.const 0))" % name, other(t), True); n += 1
    for name, t in STO:
        out.append(";; %s" % name)
        out.append('(module (memory 1) (func (%s (i32.const 0) %s)))' % (name, c(t)))
        inv(out, "(%s (i64.const 0) %s)" % (name, c(t)), None, True); n += 1
        inv(out, "(%s (i32.const 0) %s)" % (name, c(other(t))), None, True); n += 1
        inv(out, "(%s (i32.const 0))" % name, None, True); n += 1
        inv(out, "(%s)" % name, None, True); n += 1
        inv(out, "(%s (i32.const 0) %s)" % (name, c(t)), "i32", True); n += 1
    out.append(";; memory.size / memory.grow")
    out.append('(module (memory 1) (func (result i32) (memory.grow (memory.size))))')
    inv(out, "(memory.size)", "i64", True); n += 1
    inv(out, "(memory.size)", None, True); n += 1
    inv(out, "(memory.grow)", "i32", True); n += 1
    inv(out, "(memory.grow (i64.const 1))", "i32", True); n += 1
    inv(out, "(memory.grow (i32.const 1))", "f32", True); n += 1
    out.append(";; const")
    for t in T:
        inv(out, c(t), other(t)); n += 1
    path = os.path.join(OUT, "validation_ops.wast")
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")
    print(path, n)

if __name__ == "__main__":
    gen()
