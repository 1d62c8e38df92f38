#!/usr/bin/env python3
"""Generate malformed.wast: binary modules that must fail to decode
(assert_malformed), plus binary modules that must decode, built with
computed section sizes so that only the intended defect is present."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wastlib import header

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

def uleb(n, pad=0):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n or pad > 1:
            out.append(b | 0x80)
            pad -= 1
        else:
            out.append(b)
            break
    return bytes(out)

def uleb_len(n, length):
    """n encoded in exactly `length` bytes (non-minimal allowed)."""
    out = bytearray()
    for i in range(length):
        b = n & 0x7f
        n >>= 7
        out.append(b | (0x80 if i < length - 1 else 0))
    assert n == 0
    return bytes(out)

def vec(items):
    return uleb(len(items)) + b"".join(items)

def name(s):
    b = s.encode() if isinstance(s, str) else s
    return uleb(len(b)) + b

def sec(i, payload):
    return bytes([i]) + uleb(len(payload)) + payload

HDR = b"\x00asm\x01\x00\x00\x00"
FT_VV = b"\x60\x00\x00"                 # [] -> []
TYPE_VV = sec(1, vec([FT_VV]))
FUNC1 = sec(3, vec([b"\x00"]))
MEM1 = sec(5, vec([b"\x00\x01"]))

def body(code, locals_=b"\x00"):
    b = locals_ + code
    return uleb(len(b)) + b

def code_sec(*bodies):
    return sec(10, uleb(len(bodies)) + b"".join(bodies))

def fmt(bs, comment=None):
    s = "".join("\\%02x" % c for c in bs)
    return '"%s"' % s

class W:
    def __init__(self):
        self.out = []
        self.n = 0
    def text(self, s):
        self.out.append(s)
    def _mod(self, parts):
        lines = ["  (module binary"]
        for p in parts:
            if isinstance(p, tuple):
                bs, c = p
                lines.append("    %-44s ;; %s" % (fmt(bs), c))
            else:
                lines.append("    %s" % fmt(p))
        lines.append("  )")
        return lines
    def malformed(self, msg, *parts, comment=None):
        if comment:
            self.out.append(";; " + comment)
        self.out.append("(assert_malformed")
        self.out.extend(self._mod(parts))
        self.out.append('  "%s")' % msg)
        self.n += 1
    def ok(self, *parts, comment=None):
        if comment:
            self.out.append(";; " + comment)
        lines = self._mod(parts)
        self.out.append("(module binary")
        self.out.extend(lines[1:-1])
        self.out.append(")")
        self.n += 1

def gen():
    w = W()
    w.text(header("malformed: binary modules that must be rejected by the decoder (assert_malformed),\n"
                  ";; and unusual encodings that must be accepted", "gen_malformed.py"))
    H = (HDR, "header")

    # ------------------------------------------------------------ header
    w.text(";; ---------------------------------------------------------------- magic and version")
    w.ok(H, comment="the empty module")
    w.malformed("unexpected end", b"", comment="truncated header")
    w.malformed("unexpected end", b"\x00")
    w.malformed("unexpected end", b"\x00a")
    w.malformed("unexpected end", b"\x00asm")
    w.malformed("unexpected end", b"\x00asm\x01")
    w.malformed("unexpected end", b"\x00asm\x01\x00")
    w.malformed("unexpected end", b"\x00asm\x01\x00\x00")
    for m in [b"\x01asm", b"\x00Asm", b"\x00as\x6e", b"\x00bsm", b"asm\x00", b"\x00\x00\x00\x00",
              b"\xff\xff\xff\xff", b"\x00msa", b"\x00\x61\x73\x6d"[::-1], b"\xef\xbb\xbf\x00"]:
        w.malformed("magic header not detected", m + b"\x01\x00\x00\x00")
    w.malformed("magic header not detected", b"\x00ASM\x01\x00\x00\x00")
    for v in [b"\x00\x00\x00\x00", b"\x02\x00\x00\x00", b"\x00\x01\x00\x00", b"\x01\x00\x00\x01",
              b"\x01\x01\x00\x00", b"\xff\xff\xff\xff", b"\x0d\x00\x01\x00", b"\x00\x00\x00\x01"]:
        w.malformed("unknown binary version", b"\x00asm" + v)

    # ------------------------------------------------------------ section ids
    w.text("\n;; ---------------------------------------------------------------- section ids")
    for i in [13, 14, 0x20, 0x7f, 0x80, 0xfe, 0xff]:
        w.malformed("malformed section id", H, (bytes([i]) + b"\x00", "section id %d" % i))
    w.malformed("malformed section id", H, (TYPE_VV, "type section"), (b"\x11\x00", "section id 17"))

    # ------------------------------------------------------------ section sizes
    w.text("\n;; ---------------------------------------------------------------- section sizes and counts")
    w.malformed("section size mismatch", H,
                (b"\x01\x05" + vec([FT_VV]) + b"\x60", "type section: size 5, 1 type of 3 bytes + 1 stray byte"))
    w.malformed("section size mismatch", H,
                (sec(5, vec([b"\x00\x01"]) + b"\x00\x02"), "memory section: count 1, 2 memories given"))
    w.malformed("section size mismatch", H, TYPE_VV,
                (b"\x03\x03\x01\x00\x00", "function section: count 1, 2 indices given"),
                code_sec(body(b"\x0b")))
    w.malformed("section size mismatch", H,
                (sec(6, vec([b"\x7e\x00\x42\x00\x0b"]) + b"\x7e\x00\x42\x00\x0b"), "global section: count 1, 2 given"))
    w.malformed("section size mismatch", H, TYPE_VV, FUNC1,
                (sec(7, vec([name("a") + b"\x00\x00"]) + name("b") + b"\x00\x00"), "export section: count 1, 2 given"),
                code_sec(body(b"\x0b")))
    w.malformed("section size mismatch", H, TYPE_VV, FUNC1,
                (b"\x08\x02\x00\x00", "start section: size 2 for a 1-byte index"),
                code_sec(body(b"\x0b")))
    w.malformed("section size mismatch", H, MEM1,
                (sec(11, vec([b"\x00\x41\x00\x0b" + name("ab")]) + b"\x00"), "data section: one stray byte"))
    w.malformed("section size mismatch", H,
                (sec(12, b"\x01\x00"), "data count section: size 2 for a 1-byte count"),
                sec(11, vec([b"\x01" + name("x")])))
    w.malformed("unexpected end of section or function", H,
                (sec(1, b"\x02" + FT_VV), "type section: count 2, 1 type given, at the end of the module"))
    w.malformed("unexpected end of section or function", H,
                (sec(5, b"\x02\x00\x01"), "memory section: count 2, 1 given"))
    w.malformed("unexpected end of section or function", H,
                (sec(6, b"\x02\x7f\x00\x41\x00\x0b"), "global section: count 2, 1 given"))
    w.malformed("unexpected end of section or function", H, MEM1,
                (sec(11, b"\x01\x00\x41\x00\x0b\x05abc"), "data segment: 5 bytes declared, 3 given"))
    w.malformed("unexpected end", H, (b"\x01", "a section id with no size"))
    w.malformed("unexpected end", H, TYPE_VV, (b"\x0a", "a section id with no size after a complete section"))

    # ------------------------------------------------------------ LEB128
    w.text("\n;; ---------------------------------------------------------------- LEB128 integers")
    w.ok(H, (b"\x05\x07" + b"\x01" + b"\x00" + uleb_len(1, 5), "memory min 1 encoded in 5 bytes"),
         comment="non-minimal encodings are allowed up to the maximum length")
    w.ok(H, (b"\x01" + uleb_len(4, 5) + b"\x01\x60\x00\x00", "type section size encoded in 5 bytes"))
    w.ok(H, (b"\x01\x04" + uleb_len(1, 1) + b"\x60\x00\x00", "type section"),
         (b"\x03" + uleb_len(6, 1) + uleb_len(1, 5) + b"\x00", "function count 1 in 5 bytes"),
         code_sec(body(b"\x0b")))
    w.ok(H, (sec(6, vec([b"\x7f\x00\x41" + b"\xff\xff\xff\xff\x7f" + b"\x0b"])), "i32.const -1 in 5 bytes"))
    w.ok(H, (sec(6, vec([b"\x7e\x00\x42" + b"\x80" * 9 + b"\x00" + b"\x0b"])), "i64.const 0 in 10 bytes"))
    w.malformed("integer representation too long", H,
                (b"\x05\x08\x01\x00" + b"\x81\x80\x80\x80\x80\x00", "memory min: 6-byte u32"))
    w.malformed("integer representation too long", H,
                (b"\x01" + b"\x84\x80\x80\x80\x80\x00" + b"\x01\x60\x00\x00", "section size: 6-byte u32"))
    w.malformed("integer representation too long", H, TYPE_VV,
                (b"\x03\x07\x01" + b"\x80\x80\x80\x80\x80\x00", "function type index: 6-byte u32"),
                code_sec(body(b"\x0b")))
    w.malformed("integer representation too long", H,
                (sec(6, vec([b"\x7f\x00\x41" + b"\x80\x80\x80\x80\x80\x00" + b"\x0b"])), "i32.const: 6-byte s32"))
    w.malformed("integer representation too long", H,
                (sec(6, vec([b"\x7e\x00\x42" + b"\xff" * 10 + b"\x7f" + b"\x0b"])), "i64.const: 11-byte s64"))
    w.malformed("integer representation too long", H, TYPE_VV, FUNC1,
                code_sec(body(b"\x10" + b"\x80\x80\x80\x80\x80\x00" + b"\x0b")),
                comment="call with a 6-byte function index")
    w.malformed("integer representation too long", H, TYPE_VV, FUNC1, MEM1,
                code_sec(body(b"\x41\x00\x28\x02" + b"\x80\x80\x80\x80\x80\x00" + b"\x1a\x0b")),
                comment="i32.load with a 6-byte offset")
    w.malformed("integer representation too long", H, TYPE_VV, FUNC1,
                code_sec(body(b"\x0b", b"\x01" + b"\x81\x80\x80\x80\x80\x00" + b"\x7f")),
                comment="local count with 6 bytes")
    w.malformed("integer too large", H,
                (b"\x05\x07\x01\x00" + b"\x80\x80\x80\x80\x10", "memory min: bit 32 set in the 5th byte"))
    w.malformed("integer too large", H,
                (b"\x05\x07\x01\x00" + b"\xff\xff\xff\xff\x7f", "memory min: unused bits set"))
    w.malformed("integer too large", H,
                (sec(6, vec([b"\x7f\x00\x41" + b"\x80\x80\x80\x80\x40" + b"\x0b"])), "i32.const: sign bits inconsistent"))
    w.malformed("integer too large", H,
                (sec(6, vec([b"\x7f\x00\x41" + b"\xff\xff\xff\xff\x3f" + b"\x0b"])), "i32.const -1: sign bits unset"))
    w.malformed("integer too large", H,
                (sec(6, vec([b"\x7e\x00\x42" + b"\x80" * 9 + b"\x01" + b"\x0b"])), "i64.const: 10th byte has unused bits"))
    w.malformed("integer too large", H,
                (sec(6, vec([b"\x7e\x00\x42" + b"\xff" * 9 + b"\x3f" + b"\x0b"])), "i64.const -1: sign bits unset"))
    w.malformed("integer too large", H, TYPE_VV, FUNC1, MEM1,
                code_sec(body(b"\x41\x00\x28\x02" + b"\x80\x80\x80\x80\x20" + b"\x1a\x0b")),
                comment="i32.load offset with bits above 32")

    # ------------------------------------------------------------ function / code
    w.text("\n;; ---------------------------------------------------------------- function and code sections")
    w.malformed("function and code section have inconsistent lengths", H, TYPE_VV, FUNC1,
                comment="one function declared, no code section")
    w.malformed("function and code section have inconsistent lengths", H, TYPE_VV,
                code_sec(body(b"\x0b")), comment="a body but no function section")
    w.malformed("function and code section have inconsistent lengths", H, TYPE_VV,
                sec(3, vec([b"\x00", b"\x00", b"\x00"])), code_sec(body(b"\x0b"), body(b"\x0b")),
                comment="3 functions, 2 bodies")
    w.malformed("function and code section have inconsistent lengths", H, TYPE_VV, FUNC1,
                code_sec(body(b"\x0b"), body(b"\x0b")), comment="1 function, 2 bodies")
    w.ok(H, sec(3, b"\x00"), sec(10, b"\x00"), comment="zero functions and zero bodies")
    w.malformed("too many locals", H, TYPE_VV, FUNC1,
                code_sec(body(b"\x0b", b"\x02" + uleb(0x80000000) + b"\x7f" + uleb(0x80000000) + b"\x7e")),
                comment="2^31 + 2^31 locals")
    w.malformed("too many locals", H, TYPE_VV, FUNC1,
                code_sec(body(b"\x0b", b"\x03" + uleb(0xffffffff) + b"\x7d" + b"\x01\x7f" + b"\x00\x7e")),
                comment="2^32 - 1 + 1 locals")
    w.ok(H, TYPE_VV, FUNC1, code_sec(body(b"\x0b", b"\x03\x00\x7f\x00\x7e\x00\x7c")),
         comment="local groups of size zero are fine")

    # ------------------------------------------------------------ data count
    w.text("\n;; ---------------------------------------------------------------- data count section")
    PASSIVE = b"\x01" + name("x")
    w.malformed("data count and data section have inconsistent lengths", H,
                sec(12, b"\x02"), sec(11, vec([PASSIVE])), comment="count 2, one segment")
    w.malformed("data count and data section have inconsistent lengths", H,
                sec(12, b"\x00"), sec(11, vec([PASSIVE])), comment="count 0, one segment")
    # (count 1 with no data section at all is malformed too, but wabt 1.0.32 accepts it,
    #  so that case cannot be checked against the oracle and is left out)
    w.ok(H, sec(12, b"\x00"), comment="count 0, no data section")
    w.ok(H, sec(12, b"\x02"), sec(11, vec([PASSIVE, PASSIVE])), comment="count 2, two passive segments")
    w.malformed("data count section required", H, TYPE_VV, FUNC1, MEM1,
                code_sec(body(b"\x41\x00\x41\x00\x41\x00\xfc\x08\x00\x00\x0b")),
                sec(11, vec([PASSIVE])), comment="memory.init without a data count section")
    w.malformed("data count section required", H, TYPE_VV, FUNC1, MEM1,
                code_sec(body(b"\xfc\x09\x00\x0b")),
                sec(11, vec([PASSIVE])), comment="data.drop without a data count section")

    # ------------------------------------------------------------ reserved bytes
    w.text("\n;; ---------------------------------------------------------------- reserved zero bytes")
    MEM0 = sec(5, vec([b"\x00\x00"]))
    w.malformed("zero byte expected", H, TYPE_VV, FUNC1, MEM0,
                code_sec(body(b"\x3f\x01\x1a\x0b")), comment="memory.size 1")
    w.malformed("zero byte expected", H, TYPE_VV, FUNC1, MEM0,
                code_sec(body(b"\x3f\x80\x00\x1a\x0b")), comment="memory.size with a 2-byte zero")
    w.malformed("zero byte expected", H, TYPE_VV, FUNC1, MEM0,
                code_sec(body(b"\x41\x00\x40\x02\x1a\x0b")), comment="memory.grow 2")
    w.malformed("zero byte expected", H, TYPE_VV, FUNC1, MEM0,
                code_sec(body(b"\x41\x00\x40\x80\x80\x00\x1a\x0b")), comment="memory.grow with a 3-byte zero")
    w.malformed("zero byte expected", H, TYPE_VV, FUNC1, MEM0,
                code_sec(body(b"\x41\x00\x41\x00\x41\x00\xfc\x0b\x01\x0b")), comment="memory.fill 1")
    w.malformed("zero byte expected", H, TYPE_VV, FUNC1, MEM0,
                code_sec(body(b"\x41\x00\x41\x00\x41\x00\xfc\x0a\x00\x01\x0b")), comment="memory.copy 0 1")
    w.malformed("zero byte expected", H, TYPE_VV, FUNC1, MEM0,
                code_sec(body(b"\x41\x00\x41\x00\x41\x00\xfc\x0a\x01\x00\x0b")), comment="memory.copy 1 0")
    w.malformed("zero byte expected", H, TYPE_VV, FUNC1, MEM0, sec(12, b"\x01"),
                code_sec(body(b"\x41\x00\x41\x00\x41\x00\xfc\x08\x00\x01\x0b")),
                sec(11, vec([PASSIVE])), comment="memory.init 0 1")

    # ------------------------------------------------------------ illegal opcodes
    w.text("\n;; ---------------------------------------------------------------- opcodes that do not exist in WebAssembly 2.0")
    for op, what in [(b"\x06", "0x06"), (b"\x07", "0x07"), (b"\x08", "0x08"), (b"\x09", "0x09"), (b"\x0a", "0x0a"),
                     (b"\x12", "0x12 (return_call is not 2.0)"), (b"\x13", "0x13"), (b"\x14", "0x14"),
                     (b"\x18", "0x18"), (b"\x19", "0x19"), (b"\x1d", "0x1d"), (b"\x1e", "0x1e"), (b"\x1f", "0x1f"),
                     (b"\x27", "0x27"), (b"\xc5", "0xc5"), (b"\xcf", "0xcf"), (b"\xd3", "0xd3"), (b"\xe0", "0xe0"),
                     (b"\xfb\x00", "0xfb (gc prefix)"), (b"\xfe\x00", "0xfe (threads prefix)"), (b"\xff", "0xff"),
                     (b"\xfc\x12", "0xfc 18"), (b"\xfc\x7f", "0xfc 127"), (b"\xfc\x80\x01", "0xfc 128")]:
        w.malformed("illegal opcode", H, TYPE_VV, FUNC1, code_sec(body(op + b"\x0b")), comment="opcode " + what)
    w.ok(H, TYPE_VV, FUNC1,
         code_sec(body(b"\x43\x00\x00\x00\x00\xfc\x80\x00\x1a\x0b")),
         comment="0xfc sub-opcodes are u32 LEB128: i32.trunc_sat_f32_s encoded as 0xfc 0x80 0x00")

    # ------------------------------------------------------------ UTF-8 names
    w.text("\n;; ---------------------------------------------------------------- names must be valid UTF-8")
    TYPE_I = sec(1, vec([FT_VV]))
    bad = [(b"\x80", "lone continuation byte"), (b"\xbf", "lone continuation byte"),
           (b"\xc0\x80", "overlong 2-byte NUL"), (b"\xc1\xbf", "overlong 2-byte"),
           (b"\xc2", "truncated 2-byte sequence"), (b"\xc2\x41", "bad continuation"),
           (b"\xe0\x80\x80", "overlong 3-byte"), (b"\xe0\x9f\xbf", "overlong 3-byte"),
           (b"\xed\xa0\x80", "UTF-16 surrogate D800"), (b"\xed\xbf\xbf", "UTF-16 surrogate DFFF"),
           (b"\xe2\x82", "truncated 3-byte"), (b"\xf0\x80\x80\x80", "overlong 4-byte"),
           (b"\xf0\x8f\xbf\xbf", "overlong 4-byte"), (b"\xf4\x90\x80\x80", "above U+10FFFF"),
           (b"\xf5\x80\x80\x80", "invalid lead byte F5"), (b"\xf8\x88\x80\x80\x80", "5-byte form"),
           (b"\xfe", "byte FE"), (b"\xff", "byte FF"), (b"a\xffb", "FF in the middle")]
    for s, what in bad:
        w.malformed("malformed UTF-8 encoding", H, TYPE_I,
                    (sec(2, vec([name(s) + name("f") + b"\x00\x00"])), "import module name: " + what))
    for s, what in bad[:6]:
        w.malformed("malformed UTF-8 encoding", H, TYPE_I,
                    (sec(2, vec([name("m") + name(s) + b"\x00\x00"])), "import field name: " + what))
    for s, what in bad[6:12]:
        w.malformed("malformed UTF-8 encoding", H, TYPE_VV, FUNC1,
                    (sec(7, vec([name(s) + b"\x00\x00"])), "export name: " + what), code_sec(body(b"\x0b")))
    for s, what in bad[12:]:
        w.malformed("malformed UTF-8 encoding", H, (sec(0, name(s) + b"payload"), "custom section name: " + what))
    w.ok(H, TYPE_VV, FUNC1,
         (sec(7, vec([name("\u00e9\u20ac\U0001f600\u0000") + b"\x00\x00", name("\uffff\U0010ffff") + b"\x00\x00"])),
          "valid multi-byte export names, including U+0000, U+FFFF and U+10FFFF"),
         code_sec(body(b"\x0b")))
    w.ok(H, (sec(0, name("") + b"\xff\xfe\x80"), "custom section: empty name, payload need not be UTF-8"))

    # ------------------------------------------------------------ custom sections
    w.text("\n;; ---------------------------------------------------------------- custom sections may appear anywhere")
    C = lambda t: (sec(0, name(t) + b"data"), "custom section")
    w.ok(H, C("a"), TYPE_VV, C("b"), FUNC1, C("c"), MEM1, C("d"), sec(7, vec([name("f") + b"\x00\x00"])),
         C("e"), sec(12, b"\x00"), C("f"), code_sec(body(b"\x0b")), C("g"), sec(11, b"\x00"), C("h"))
    w.ok(H, C("x"), C("x"), comment="repeated custom sections with the same name")
    w.ok(H, (sec(0, name("name") + b"\x00\x00"), "a \"name\" section with garbage content is still a custom section"))
    w.malformed("unexpected end", H, (b"\x00\x00", "custom section of size 0: no room for its name"))
    w.malformed("length out of bounds", H,
                (b"\x00\x20" + name("custom") + b"payload", "custom section size 32, only 14 bytes follow"),
                comment="a section size beyond the end of the module (older suites said \"unexpected end\")")
    w.malformed("length out of bounds", H, TYPE_VV,
                (b"\x03\x7f\x01\x00", "function section size 127, 2 bytes follow"))

    # ------------------------------------------------------------ section order
    w.text("\n;; ---------------------------------------------------------------- section order and duplicates")
    w.malformed("unexpected content after last section", H, TYPE_VV, TYPE_VV, comment="two type sections")
    w.malformed("unexpected content after last section", H, TYPE_VV, FUNC1,
                (b"\x08\x01\x00", "start"), (b"\x08\x01\x00", "start again"), code_sec(body(b"\x0b")),
                comment="two start sections")
    w.malformed("unexpected content after last section", H, TYPE_VV, code_sec(body(b"\x0b")), FUNC1,
                comment="code section before the function section")
    w.malformed("unexpected content after last section", H, MEM1, TYPE_VV,
                comment="memory section before the type section")
    w.malformed("unexpected content after last section", H, sec(11, b"\x00"), sec(12, b"\x00"),
                comment="data count section after the data section")
    w.malformed("unexpected content after last section", H, MEM1, sec(4, vec([b"\x70\x00\x01"])),
                comment="table section after the memory section")

    # ------------------------------------------------------------ kinds, mutability, types
    w.text("\n;; ---------------------------------------------------------------- import kinds, mutability, reference types")
    for k in (b"\x04", b"\x05", b"\x7f", b"\x80"):
        w.malformed("malformed import kind", H, (sec(2, vec([name("m") + name("f") + k + b"\x00"])), "import kind %#x" % k[0]))
    for m in (b"\x02", b"\x7f", b"\xff"):
        w.malformed("malformed mutability", H, (sec(6, vec([b"\x7f" + m + b"\x41\x00\x0b"])), "global mutability %#x" % m[0]))
    w.malformed("malformed mutability", H,
                (sec(2, vec([name("m") + name("g") + b"\x03\x7f\x02"])), "imported global mutability 2"))
    for t in (b"\x7f", b"\x7c", b"\x40", b"\x00"):
        w.malformed("malformed reference type", H, (sec(4, vec([t + b"\x00\x01"])), "table element type %#x" % t[0]))

    path = os.path.join(OUT, "malformed.wast")
    with open(path, "w") as fh:
        fh.write("\n".join(w.out) + "\n")
    print(path, w.n)

if __name__ == "__main__":
    gen()
