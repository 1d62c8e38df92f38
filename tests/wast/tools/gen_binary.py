#!/usr/bin/env python3
"""Generate binary.wast: hand-assembled binary modules that use every
encoding form of element segments (flags 0-7) and data segments (flags
0-2), non-minimal LEB128s, and other encodings that wast2json never emits,
then check their behaviour."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wastlib import header
from gen_malformed import uleb, uleb_len, vec, name, sec, HDR, fmt

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

def body(code, locals_=b"\x00"):
    b = locals_ + code
    return uleb(len(b)) + b

def module(parts):
    lines = ["(module binary"]
    for bs, c in parts:
        lines.append("  %-60s ;; %s" % (fmt(bs), c))
    lines.append(")")
    return "\n".join(lines)

END = b"\x0b"
def i32c(v):
    # signed LEB128 for small non-negative values
    assert 0 <= v < 64
    return b"\x41" + bytes([v])

def gen():
    o = [header("binary: every encoding of element and data segments, and other binary\n"
                ";; encodings that wast2json does not produce, checked by behaviour", "gen_binary.py")]
    n = 0
    # types: 0 = [] -> [i32], 1 = [i32] -> [i32], 2 = [] -> []
    types = sec(1, vec([b"\x60\x00\x01\x7f", b"\x60\x01\x7f\x01\x7f", b"\x60\x00\x00"]))
    # functions: f0..f3: type 0; f4 call: type 1; f5 init-tables: type 2; f6 init-mem: type 2;
    #            f7 load: type 0; f8 ref-declared: type 0
    funcs = sec(3, vec([b"\x00", b"\x00", b"\x00", b"\x00", b"\x01", b"\x02", b"\x02", b"\x00", b"\x00"]))
    table = sec(4, vec([b"\x70\x00\x0a"]))                 # funcref, min 10
    mem = sec(5, vec([b"\x00\x01"]))
    exports = sec(7, vec([name("call") + b"\x00\x04", name("init-tables") + b"\x00\x05",
                          name("init-mem") + b"\x00\x06", name("load") + b"\x00\x07",
                          name("ref-declared") + b"\x00\x08"]))
    RF = lambda f: b"\xd2" + bytes([f]) + END               # ref.func f
    RN = b"\xd0\x70" + END                                  # ref.null func
    elems = sec(9, vec([
        b"\x00" + i32c(0) + END + vec([b"\x00"]),                          # 0: active, table 0, funcidx
        b"\x01" + b"\x00" + vec([b"\x01"]),                               # 1: passive, elemkind, funcidx
        b"\x02" + b"\x00" + i32c(1) + END + b"\x00" + vec([b"\x02"]),      # 2: active, explicit table, elemkind
        b"\x03" + b"\x00" + vec([b"\x03"]),                               # 3: declarative, elemkind
        b"\x04" + i32c(2) + END + vec([RF(3)]),                           # 4: active, table 0, exprs
        b"\x05" + b"\x70" + vec([RN, RF(0)]),                             # 5: passive, reftype, exprs
        b"\x06" + b"\x00" + i32c(3) + END + b"\x70" + vec([RF(1)]),        # 6: active, explicit table, reftype, exprs
        b"\x07" + b"\x70" + vec([RF(2)]),                                 # 7: declarative, reftype, exprs
    ]))
    datacount = sec(12, b"\x03")
    codes = [
        body(i32c(0) + END), body(i32c(1) + END), body(i32c(2) + END), body(i32c(3) + END),
        body(b"\x20\x00" + b"\x11\x00\x00" + END),                               # call_indirect type 0 table 0
        body(i32c(5) + i32c(0) + i32c(1) + b"\xfc\x0c\x01\x00"                   # table.init seg 1 table 0
             + i32c(6) + i32c(0) + i32c(2) + b"\xfc\x0c\x05\x00"                 # table.init seg 5 table 0
             + b"\xfc\x0d\x01" + END),                                           # elem.drop 1
        body(i32c(2) + i32c(0) + i32c(2) + b"\xfc\x08\x01\x00"                   # memory.init seg 1
             + b"\xfc\x09\x01" + END),                                           # data.drop 1
        body(i32c(0) + b"\x28\x02\x00" + END),                                   # i32.load
        body(b"\xd2\x03\xd1" + END),                                             # ref.is_null (ref.func 3)
    ]
    code = sec(10, vec(codes))
    data = sec(11, vec([
        b"\x00" + i32c(0) + END + name("A"),                                     # 0: active, memory 0
        b"\x01" + name("BC"),                                                    # 1: passive
        b"\x02" + b"\x00" + i32c(1) + END + name("D"),                           # 2: active, explicit memory
    ]))
    o.append(";; element segment flags 0-7 and data segment flags 0-2 in one module")
    o.append(module([(HDR, "header"), (types, "types"), (funcs, "functions"), (table, "table"),
                     (mem, "memory"), (exports, "exports"), (elems, "8 element segments"),
                     (datacount, "data count 3"), (code, "code"), (data, "3 data segments")]))
    def a(s):
        nonlocal n
        o.append(s); n += 1
    a('(assert_return (invoke "call" (i32.const 0)) (i32.const 0))')
    a('(assert_return (invoke "call" (i32.const 1)) (i32.const 2))')
    a('(assert_return (invoke "call" (i32.const 2)) (i32.const 3))')
    a('(assert_return (invoke "call" (i32.const 3)) (i32.const 1))')
    a('(assert_trap (invoke "call" (i32.const 4)) "uninitialized element")')
    a('(assert_trap (invoke "call" (i32.const 10)) "undefined element")')
    a('(assert_return (invoke "load") (i32.const 0x4441))')
    a('(assert_return (invoke "ref-declared") (i32.const 0))')
    a('(assert_return (invoke "init-tables"))')
    a('(assert_return (invoke "call" (i32.const 5)) (i32.const 1))')
    a('(assert_trap (invoke "call" (i32.const 6)) "uninitialized element")')
    a('(assert_return (invoke "call" (i32.const 7)) (i32.const 0))')
    a('(assert_trap (invoke "init-tables") "out of bounds table access")')   # segment 1 was dropped
    a('(assert_return (invoke "init-mem"))')
    a('(assert_return (invoke "load") (i32.const 0x43424441))')
    a('(assert_trap (invoke "init-mem") "out of bounds memory access")')    # segment 1 was dropped

    # ------------------------------------------------------------------ non-minimal encodings
    o.append("\n;; non-minimal LEB128 encodings of indices, counts, immediates and sizes are accepted")
    types2 = sec(1, vec([b"\x60\x00\x01\x7f", b"\x60\x01\x7f\x01\x7f"]))
    funcs2 = b"\x03" + uleb_len(20, 1) + uleb_len(3, 5) + uleb_len(0, 5) + uleb_len(1, 5) + uleb_len(0, 5)
    glob2 = sec(6, vec([b"\x7f\x01" + b"\x41" + b"\xfb\xff\xff\xff\x7f" + END]))   # mut i32 = -5 (5-byte s32)
    exps2 = sec(7, vec([name("f") + b"\x00" + uleb_len(0, 5), name("g") + b"\x00" + uleb_len(1, 5),
                        name("h") + b"\x00" + uleb_len(2, 5)]))
    mem2 = sec(5, vec([b"\x00" + uleb_len(1, 5)]))
    # f: locals declared with a 5-byte count, i64.const with 10 bytes, call with 5-byte index
    f_body = (b"\x01" + uleb_len(2, 5) + b"\x7e"
              + b"\x42" + b"\x87\x80\x80\x80\x80\x80\x80\x80\x80\x00"   # i64.const 7 (10 bytes)
              + b"\x21" + uleb_len(1, 5)                                  # local.set 1 (5-byte index)
              + b"\x20" + uleb_len(1, 5) + b"\xa7"                        # local.get 1, i32.wrap_i64
              + b"\x10" + uleb_len(1, 5) + END)                           # call 1 (5-byte index)
    g_body = b"\x00" + b"\x20\x00" + b"\x23" + uleb_len(0, 5) + b"\x6a" + END   # local.get 0 + global.get 0
    # h: store/load with alignment and offset immediates in 5 bytes, memory.size with plain 0
    h_body = (b"\x00" + b"\x41\x08" + b"\x41\x2a" + b"\x36" + uleb_len(2, 5) + uleb_len(4, 5)
              + b"\x41\x08" + b"\x28" + uleb_len(0, 5) + uleb_len(4, 5) + END)
    code2 = sec(10, vec([uleb(len(f_body)) + f_body, uleb(len(g_body)) + g_body, uleb(len(h_body)) + h_body]))
    o.append(module([(HDR, "header"), (types2, "types"), (funcs2, "function section with 5-byte indices"),
                     (mem2, "memory min 1 (5 bytes)"), (glob2, "global: mut i32 -5 (5-byte s32)"),
                     (exps2, "exports with 5-byte indices"), (code2, "code")]))
    a('(assert_return (invoke "f") (i32.const 2))')
    a('(assert_return (invoke "g" (i32.const 7)) (i32.const 2))')
    a('(assert_return (invoke "h") (i32.const 42))')

    # ------------------------------------------------------------------ block types by type index
    o.append("\n;; block types given as a type index (s33), including a type with parameters")
    types3 = sec(1, vec([b"\x60\x00\x01\x7f", b"\x60\x02\x7f\x7f\x02\x7f\x7f", b"\x60\x01\x7f\x01\x7f"]))
    funcs3 = sec(3, vec([b"\x00", b"\x02"]))
    exps3 = sec(7, vec([name("swap-sub") + b"\x00\x00", name("loop-count") + b"\x00\x01"]))
    # swap-sub: 10 3 block(type 1){swap via locals} i32.sub  -> 3 - 10 = -7
    sw = (b"\x01\x02\x7f"
          + b"\x41\x0a\x41\x03"
          + b"\x02\x01" + b"\x21\x00\x21\x01\x20\x00\x20\x01" + END
          + b"\x6b" + END)
    # loop-count: counts its parameter down to 0 with a loop of type [i32] -> [i32] (type index 2)
    lc = (b"\x00"
          + b"\x20\x00"
          + b"\x03\x02"                                   # loop (type 2)
          + b"\x41\x01\x6b"                               # i32.const 1, i32.sub
          + b"\x22\x00"                                   # local.tee 0
          + b"\x20\x00\x0d\x00"                           # local.get 0, br_if 0
          + END
          + END)
    code3 = sec(10, vec([uleb(len(sw)) + sw, uleb(len(lc)) + lc]))
    o.append(module([(HDR, "header"), (types3, "types"), (funcs3, "functions"), (exps3, "exports"), (code3, "code")]))
    a('(assert_return (invoke "swap-sub") (i32.const -7))')
    a('(assert_return (invoke "loop-count" (i32.const 5)) (i32.const 0))')
    a('(assert_return (invoke "loop-count" (i32.const 1)) (i32.const 0))')

    # ------------------------------------------------------------------ empty sections, custom sections between every section
    o.append("\n;; every section present but empty")
    o.append(module([(HDR, "header")] + [(sec(i, b"\x00"), "empty section %d" % i) for i in (1, 2, 3, 4, 5, 6, 7, 9, 12, 10, 11)]))
    o.append("\n;; a function body with trailing unreachable code and an explicit empty else")
    types4 = sec(1, vec([b"\x60\x01\x7f\x01\x7f"]))
    b4 = (b"\x00" + b"\x20\x00" + b"\x04\x7f" + b"\x41\x01" + b"\x05" + b"\x41\x02" + END   # if (result i32) 1 else 2
          + b"\x0f" + b"\x1a\x1a\x1a\x00" + END)                                           # return; drop drop drop unreachable
    o.append(module([(HDR, "header"), (types4, "types"), (sec(3, vec([b"\x00"])), "functions"),
                     (sec(7, vec([name("f") + b"\x00\x00"])), "exports"),
                     (sec(10, vec([uleb(len(b4)) + b4])), "code")]))
    a('(assert_return (invoke "f" (i32.const 0)) (i32.const 2))')
    a('(assert_return (invoke "f" (i32.const 9)) (i32.const 1))')

    path = os.path.join(OUT, "binary.wast")
    with open(path, "w") as fh:
        fh.write("\n".join(o) + "\n")
    print(path, n)

if __name__ == "__main__":
    gen()
