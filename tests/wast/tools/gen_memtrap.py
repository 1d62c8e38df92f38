#!/usr/bin/env python3
"""Generate memory_trap.wast: out-of-bounds loads and stores at every width."""
import os, sys, struct
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wastlib import *

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OOB = ("trap", "out of bounds memory access")

LOADS = [("i32.load8_s", 32, 1, True), ("i32.load8_u", 32, 1, False),
         ("i32.load16_s", 32, 2, True), ("i32.load16_u", 32, 2, False),
         ("i32.load", 32, 4, False),
         ("i64.load8_s", 64, 1, True), ("i64.load8_u", 64, 1, False),
         ("i64.load16_s", 64, 2, True), ("i64.load16_u", 64, 2, False),
         ("i64.load32_s", 64, 4, True), ("i64.load32_u", 64, 4, False),
         ("i64.load", 64, 8, False), ("f32.load", "f32", 4, False), ("f64.load", "f64", 8, False)]
STORES = [("i32.store8", "i32", 1), ("i32.store16", "i32", 2), ("i32.store", "i32", 4),
          ("i64.store8", "i64", 1), ("i64.store16", "i64", 2), ("i64.store32", "i64", 4),
          ("i64.store", "i64", 8), ("f32.store", "f32", 4), ("f64.store", "f64", 8)]

PAGE = 65536
TAIL = bytes(range(0xf0, 0x100))     # last 16 bytes of the first page

def mem_init(pages):
    m = bytearray(pages * PAGE)
    if pages:
        m[PAGE - 16:PAGE] = TAIL
    return m

def load_value(mem, op, addr):
    name, t, w, sgn = op
    b = bytes(mem[addr:addr + w])
    v = int.from_bytes(b, "little")
    if t == "f32":
        return ("f", 32, v)
    if t == "f64":
        return ("f", 64, v)
    if sgn:
        v = signed(v, w * 8)
    return ("i", t, mask(v, t))

def rt(op):
    t = op[1]
    return t if isinstance(t, str) else "i%d" % t

def loadname(op, off):
    return "%s@%d" % (op[0], off)

def gen():
    out = [header("memory_trap: out-of-bounds memory accesses at every width, at the boundary,\n"
                  ";; with static offsets (no 32-bit wrap-around of the effective address), after\n"
                  ";; memory.grow, and on a zero-page memory; a trapping store writes nothing",
                  "gen_memtrap.py")]
    offsets = [0, 1, 65535, 0xffffffff]
    n = 0
    def emit(name, args, r):
        nonlocal n
        out.append(assertion(name, args, r)); n += 1

    def module(pages, maxp):
        out.append("(module")
        out.append("  (memory %d%s)" % (pages, "" if maxp is None else " %d" % maxp))
        if pages:
            out.append('  (data (i32.const %d) "%s")' % (PAGE - 16, "".join("\\%02x" % c for c in TAIL)))
        for op in LOADS:
            for off in offsets:
                out.append('  (func (export "%s") (param i32) (result %s) (%s offset=%d (local.get 0)))'
                           % (loadname(op, off), rt(op), op[0], off))
        for name, t, w in STORES:
            for off in offsets:
                out.append('  (func (export "%s@%d") (param i32 %s) (%s offset=%d (local.get 0) (local.get 1)))'
                           % (name, off, t, name, off))
        out.append('  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))')
        out.append('  (func (export "size") (result i32) (memory.size))')
        out.append('  (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0)))')
        out.append(")\n")

    def check_loads(mem, pages):
        size = pages * PAGE
        for op in LOADS:
            w = op[2]
            out.append(";; %s with %d page(s)" % (op[0], pages))
            for off in offsets:
                addrs = {0, 1, size - w - 1, size - w, size - w + 1, size - 1, size, size + 1,
                         0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff, 0xffffffff - w + 1}
                if off == 0:
                    addrs |= set(range(max(0, size - w - 1), size + 2))
                for a in sorted(x for x in addrs if 0 <= x <= 0xffffffff):
                    ea = a + off
                    r = load_value(mem, op, ea) if ea + w <= size else OOB
                    emit(loadname(op, off), [iconst(a, 32)], r)
            out.append("")

    def store_arg(t, w):
        # a value whose every byte is non-zero so partial writes would be visible
        if t == "f32":
            return "(f32.const -0x1.a2c4e6p+99)"
        if t == "f64":
            return "(f64.const -0x1.a2c4e6f8a2c4ep+999)"
        return iconst(0xa1a2a3a4a5a6a7a8 & ((1 << int(t[1:])) - 1), int(t[1:]))

    def check_stores(mem, pages):
        size = pages * PAGE
        for name, t, w in STORES:
            out.append(";; %s with %d page(s)" % (name, pages))
            for off in offsets:
                addrs = {size - w + 1, size - 1, size, 0x80000000, 0xffffffff, 0xffffffff - w + 1}
                if off == 0:
                    addrs |= set(range(max(0, size - w + 1), size + 1))
                for a in sorted(x for x in addrs if 0 <= x <= 0xffffffff):
                    ea = a + off
                    if ea + w <= size:
                        continue       # in-bounds stores are tested in memory.wast
                    emit("%s@%d" % (name, off), [iconst(a, 32), store_arg(t, w)], OOB)
            out.append("")
        if size:
            out.append(";; a trapping store must not write any byte: the tail is unchanged")
            for a in range(size - 16, size):
                emit("byte", [iconst(a, 32)], ("i", 32, mem[a]))
            out.append("")

    # one page
    module(1, 2)
    mem = mem_init(1)
    check_loads(mem, 1)
    check_stores(mem, 1)
    # grow to two pages: the old boundary becomes accessible, the new one traps
    out.append(";; after memory.grow the boundary moves")
    emit("grow", [iconst(1, 32)], ("i", 32, 1))
    emit("size", [], ("i", 32, 2))
    mem = mem_init(1) + bytearray(PAGE)
    check_loads(mem, 2)
    check_stores(mem, 2)
    out.append(";; growing beyond the maximum fails and the boundary stays")
    emit("grow", [iconst(1, 32)], ("i", 32, 0xffffffff))
    emit("i64.load@0", [iconst(2 * PAGE - 8, 32)], ("i", 64, 0))
    emit("i64.load@0", [iconst(2 * PAGE - 7, 32)], OOB)
    out.append("")

    # zero pages
    out.append(";; a memory with zero pages: every access traps")
    out.append("(module")
    out.append("  (memory 0)")
    for op in LOADS:
        out.append('  (func (export "%s") (param i32) (result %s) (%s (local.get 0)))' % (op[0], rt(op), op[0]))
    for name, t, w in STORES:
        out.append('  (func (export "%s") (param i32 %s) (%s (local.get 0) (local.get 1)))' % (name, t, name))
    out.append('  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))')
    out.append(")\n")
    for op in LOADS:
        for a in (0, 1, 0xffffffff):
            emit(op[0], [iconst(a, 32)], OOB)
    for name, t, w in STORES:
        for a in (0, 0xffffffff):
            emit(name, [iconst(a, 32), store_arg(t, w)], OOB)
    emit("grow", [iconst(1, 32)], ("i", 32, 0))
    for op in LOADS:
        emit(op[0], [iconst(PAGE - op[2], 32)], ("i", op[1], 0) if not isinstance(op[1], str) else ("f", int(op[1][1:]), 0))
        emit(op[0], [iconst(PAGE - op[2] + 1, 32)], OOB)

    # traps in the middle of a computation leave earlier side effects in place
    out.append("")
    out.append(";; side effects before the trapping access persist")
    out.append("(module")
    out.append("  (memory 1)")
    out.append('  (func (export "store-then-trap") (param i32)')
    out.append('    (i32.store (i32.const 0) (i32.const 0x11223344))')
    out.append('    (i32.store (local.get 0) (i32.const 0x55667788)))')
    out.append('  (func (export "load0") (result i32) (i32.load (i32.const 0)))')
    out.append(")\n")
    emit("load0", [], ("i", 32, 0))
    emit("store-then-trap", [iconst(65533, 32)], OOB)
    emit("load0", [], ("i", 32, 0x11223344))

    path = os.path.join(OUT, "memory_trap.wast")
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")
    print(path, n)

if __name__ == "__main__":
    gen()
