;; bulk_memory: memory.fill, memory.copy, memory.init, data.drop, passive
;; data segments; bounds checks happen before any byte is written.
;; Written for sluice from the WebAssembly 2.0 spec (bulk memory operations).

;; ---------------------------------------------------------------- memory.fill
(module
  (memory 1)
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "checksum") (param i32 i32) (result i32) (local i32)
    ;; sum of bytes in [p0, p0+p1)
    (block $d (loop $l
      (br_if $d (i32.eqz (local.get 1)))
      (local.set 2 (i32.add (local.get 2) (i32.load8_u (local.get 0))))
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
      (br $l)))
    (local.get 2))
)
(assert_return (invoke "fill" (i32.const 1) (i32.const 0xff) (i32.const 3)))
(assert_return (invoke "load8" (i32.const 0)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 1)) (i32.const 0xff))
(assert_return (invoke "load8" (i32.const 3)) (i32.const 0xff))
(assert_return (invoke "load8" (i32.const 4)) (i32.const 0))
;; only the low byte of the value is used
(assert_return (invoke "fill" (i32.const 10) (i32.const 0x12345678) (i32.const 2)))
(assert_return (invoke "load8" (i32.const 10)) (i32.const 0x78))
(assert_return (invoke "load8" (i32.const 11)) (i32.const 0x78))
(assert_return (invoke "load8" (i32.const 12)) (i32.const 0))
(assert_return (invoke "fill" (i32.const 20) (i32.const -1) (i32.const 1)))
(assert_return (invoke "load8" (i32.const 20)) (i32.const 0xff))
;; zero length: no effect, even at the end of memory
(assert_return (invoke "fill" (i32.const 30) (i32.const 7) (i32.const 0)))
(assert_return (invoke "load8" (i32.const 30)) (i32.const 0))
(assert_return (invoke "fill" (i32.const 0x10000) (i32.const 7) (i32.const 0)))
;; the whole page
(assert_return (invoke "fill" (i32.const 0) (i32.const 1) (i32.const 0x10000)))
(assert_return (invoke "checksum" (i32.const 0) (i32.const 0x10000)) (i32.const 0x10000))
(assert_return (invoke "fill" (i32.const 0) (i32.const 0) (i32.const 0x10000)))
(assert_return (invoke "checksum" (i32.const 0) (i32.const 0x10000)) (i32.const 0))
;; up to the end
(assert_return (invoke "fill" (i32.const 0xfff0) (i32.const 2) (i32.const 16)))
(assert_return (invoke "checksum" (i32.const 0xfff0) (i32.const 16)) (i32.const 32))
;; out of bounds: trap, and nothing is written
(assert_trap (invoke "fill" (i32.const 0x10001) (i32.const 9) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const 0xfff0) (i32.const 9) (i32.const 17)) "out of bounds memory access")
(assert_return (invoke "checksum" (i32.const 0xfff0) (i32.const 16)) (i32.const 32))
(assert_trap (invoke "fill" (i32.const 0) (i32.const 9) (i32.const 0x10001)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 0)) (i32.const 0))
(assert_trap (invoke "fill" (i32.const 1) (i32.const 9) (i32.const -1)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const -1) (i32.const 9) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const -1) (i32.const 9) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const 0x80000000) (i32.const 9) (i32.const 0x80000000)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 1)) (i32.const 0))

;; ---------------------------------------------------------------- memory.copy
(module
  (memory 1)
  (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a")
  (data (i32.const 0xfffc) "\fc\fd\fe\ff")
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
)
(assert_return (invoke "copy" (i32.const 100) (i32.const 0) (i32.const 10)))
(assert_return (invoke "load64" (i32.const 100)) (i64.const 0x0807060504030201))
(assert_return (invoke "load8" (i32.const 108)) (i32.const 9))
(assert_return (invoke "load8" (i32.const 109)) (i32.const 10))
(assert_return (invoke "load8" (i32.const 110)) (i32.const 0))
;; overlapping, destination after source: behaves like memmove
(assert_return (invoke "copy" (i32.const 102) (i32.const 100) (i32.const 8)))
(assert_return (invoke "load64" (i32.const 100)) (i64.const 0x0605040302010201))
(assert_return (invoke "load64" (i32.const 104)) (i64.const 0x0000080706050403))
;; overlapping, destination before source
(assert_return (invoke "copy" (i32.const 200) (i32.const 0) (i32.const 10)))
(assert_return (invoke "copy" (i32.const 199) (i32.const 200) (i32.const 10)))
(assert_return (invoke "load64" (i32.const 199)) (i64.const 0x0807060504030201))
(assert_return (invoke "load8" (i32.const 207)) (i32.const 9))
(assert_return (invoke "load8" (i32.const 208)) (i32.const 10))
(assert_return (invoke "load8" (i32.const 209)) (i32.const 10))
;; same source and destination
(assert_return (invoke "copy" (i32.const 0) (i32.const 0) (i32.const 10)))
(assert_return (invoke "load8" (i32.const 9)) (i32.const 10))
;; zero length at the end of memory is allowed
(assert_return (invoke "copy" (i32.const 0x10000) (i32.const 0) (i32.const 0)))
(assert_return (invoke "copy" (i32.const 0) (i32.const 0x10000) (i32.const 0)))
(assert_return (invoke "copy" (i32.const 0x10000) (i32.const 0x10000) (i32.const 0)))
;; exactly up to the end
(assert_return (invoke "copy" (i32.const 300) (i32.const 0xfffc) (i32.const 4)))
(assert_return (invoke "load8" (i32.const 303)) (i32.const 0xff))
(assert_return (invoke "copy" (i32.const 0xfff8) (i32.const 0xfffc) (i32.const 4)))
(assert_return (invoke "load64" (i32.const 0xfff8)) (i64.const 0xfffefdfcfffefdfc))
;; out of bounds source or destination: trap before writing
(assert_trap (invoke "copy" (i32.const 0x10001) (i32.const 0) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 0) (i32.const 0x10001) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 400) (i32.const 0xfffd) (i32.const 4)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 400)) (i32.const 0))
(assert_trap (invoke "copy" (i32.const 0xfffd) (i32.const 0) (i32.const 4)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 0xfffd)) (i32.const 0xfd))
(assert_trap (invoke "copy" (i32.const 0) (i32.const 0) (i32.const 0x10001)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 0) (i32.const 1) (i32.const -1)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const -1) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 0) (i32.const -1) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 0x80000000) (i32.const 0) (i32.const 0x80000000)) "out of bounds memory access")
;; overlapping copies that run off the end write nothing
(assert_trap (invoke "copy" (i32.const 0xfffe) (i32.const 0xfffc) (i32.const 4)) "out of bounds memory access")
(assert_return (invoke "load64" (i32.const 0xfff8)) (i64.const 0xfffefdfcfffefdfc))
(assert_trap (invoke "copy" (i32.const 0xfffc) (i32.const 0xfffe) (i32.const 4)) "out of bounds memory access")
(assert_return (invoke "load64" (i32.const 0xfff8)) (i64.const 0xfffefdfcfffefdfc))

;; ---------------------------------------------------------------- memory.init / data.drop
(module
  (memory 1)
  (data $p0 "\aa\bb\cc\dd")
  (data $a (i32.const 0x20) "\11\22")     ;; active: dropped after instantiation
  (data $p1 "")                          ;; passive, empty
  (data $p2 "0123456789")
  (func (export "init0") (param i32 i32 i32) (memory.init $p0 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init-active") (param i32 i32 i32) (memory.init $a (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init-empty") (param i32 i32 i32) (memory.init $p1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init2") (param i32 i32 i32) (memory.init $p2 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop0") (data.drop $p0))
  (func (export "drop-active") (data.drop $a))
  (func (export "drop2") (data.drop $p2))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
)
(assert_return (invoke "load32" (i32.const 0x20)) (i32.const 0x2211))
(assert_return (invoke "init0" (i32.const 0) (i32.const 0) (i32.const 4)))
(assert_return (invoke "load32" (i32.const 0)) (i32.const 0xddccbbaa))
(assert_return (invoke "init0" (i32.const 10) (i32.const 1) (i32.const 2)))
(assert_return (invoke "load32" (i32.const 10)) (i32.const 0xccbb))
(assert_return (invoke "init0" (i32.const 0xfffc) (i32.const 0) (i32.const 4)))
(assert_return (invoke "load32" (i32.const 0xfffc)) (i32.const 0xddccbbaa))
;; zero-length inits at the limits are fine
(assert_return (invoke "init0" (i32.const 0x10000) (i32.const 0) (i32.const 0)))
(assert_return (invoke "init0" (i32.const 0) (i32.const 4) (i32.const 0)))
(assert_return (invoke "init0" (i32.const 0x10000) (i32.const 4) (i32.const 0)))
;; out of bounds in the segment or in memory
(assert_trap (invoke "init0" (i32.const 0) (i32.const 5) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "init0" (i32.const 0x10001) (i32.const 0) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "init0" (i32.const 100) (i32.const 1) (i32.const 4)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 100)) (i32.const 0))
(assert_trap (invoke "init0" (i32.const 0xfffd) (i32.const 0) (i32.const 4)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 0xfffd)) (i32.const 0xbb))
(assert_trap (invoke "init0" (i32.const 0) (i32.const 0) (i32.const -1)) "out of bounds memory access")
(assert_trap (invoke "init0" (i32.const 0) (i32.const -1) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "init0" (i32.const -1) (i32.const 0) (i32.const 1)) "out of bounds memory access")
;; empty passive segment
(assert_return (invoke "init-empty" (i32.const 0) (i32.const 0) (i32.const 0)))
(assert_return (invoke "init-empty" (i32.const 0x10000) (i32.const 0) (i32.const 0)))
(assert_trap (invoke "init-empty" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "init-empty" (i32.const 0) (i32.const 1) (i32.const 0)) "out of bounds memory access")
;; an active segment behaves as dropped after instantiation
(assert_return (invoke "init-active" (i32.const 0) (i32.const 0) (i32.const 0)))
(assert_trap (invoke "init-active" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "drop-active"))
(assert_return (invoke "drop-active"))
;; data.drop: length becomes 0; dropping again is allowed
(assert_return (invoke "init2" (i32.const 0x40) (i32.const 2) (i32.const 8)))
(assert_return (invoke "load32" (i32.const 0x40)) (i32.const 0x35343332))
(assert_return (invoke "drop2"))
(assert_return (invoke "init2" (i32.const 0x40) (i32.const 0) (i32.const 0)))
(assert_trap (invoke "init2" (i32.const 0x40) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "init2" (i32.const 0x40) (i32.const 1) (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "drop2"))
(assert_return (invoke "load32" (i32.const 0x40)) (i32.const 0x35343332))
(assert_return (invoke "drop0"))
(assert_trap (invoke "init0" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "init0" (i32.const 0) (i32.const 0) (i32.const 0)))

;; dropping is per instance: a second instance of the same module has its segments
(module
  (memory 1)
  (data "\01\02\03")
  (func (export "init") (param i32 i32 i32) (memory.init 0 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (data.drop 0))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
)
(assert_return (invoke "drop"))
(assert_trap (invoke "init" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(module
  (memory 1)
  (data "\01\02\03")
  (func (export "init") (param i32 i32 i32) (memory.init 0 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
)
(assert_return (invoke "init" (i32.const 5) (i32.const 0) (i32.const 3)))
(assert_return (invoke "load8" (i32.const 7)) (i32.const 3))

;; bulk operations on an imported memory are seen by the exporter
(module $M
  (memory (export "mem") 1)
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
)
(register "M" $M)
(module
  (import "M" "mem" (memory 1))
  (data "\de\ad")
  (func (export "go")
    (memory.fill (i32.const 0) (i32.const 0x42) (i32.const 4))
    (memory.copy (i32.const 8) (i32.const 0) (i32.const 2))
    (memory.init 0 (i32.const 16) (i32.const 0) (i32.const 2)))
)
(assert_return (invoke "go"))
(assert_return (invoke $M "load8" (i32.const 3)) (i32.const 0x42))
(assert_return (invoke $M "load8" (i32.const 4)) (i32.const 0))
(assert_return (invoke $M "load8" (i32.const 9)) (i32.const 0x42))
(assert_return (invoke $M "load8" (i32.const 10)) (i32.const 0))
(assert_return (invoke $M "load8" (i32.const 16)) (i32.const 0xde))
(assert_return (invoke $M "load8" (i32.const 17)) (i32.const 0xad))

;; bulk operations on a zero-page memory
(module
  (memory 0)
  (data "x")
  (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 0) (local.get 1)))
  (func (export "copy") (param i32 i32) (memory.copy (local.get 0) (i32.const 0) (local.get 1)))
  (func (export "init") (param i32 i32) (memory.init 0 (local.get 0) (i32.const 0) (local.get 1)))
)
(assert_return (invoke "fill" (i32.const 0) (i32.const 0)))
(assert_trap (invoke "fill" (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const 1) (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "copy" (i32.const 0) (i32.const 0)))
(assert_trap (invoke "copy" (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "init" (i32.const 0) (i32.const 0)))
(assert_trap (invoke "init" (i32.const 0) (i32.const 1)) "out of bounds memory access")

;; ---------------------------------------------------------------- validation
(assert_invalid (module (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0)))) "unknown memory")
(assert_invalid (module (func (memory.copy (i32.const 0) (i32.const 0) (i32.const 0)))) "unknown memory")
(assert_invalid (module (data "") (func (memory.init 0 (i32.const 0) (i32.const 0) (i32.const 0)))) "unknown memory")
(assert_invalid (module (memory 1) (func (memory.init 1 (i32.const 0) (i32.const 0) (i32.const 0))) (data "")) "unknown data segment")
(assert_invalid (module (memory 1) (func (data.drop 1)) (data "")) "unknown data segment")
;; data count 0 present, no data section, data.drop 0 in code
(assert_invalid
  (module binary
    "\00asm" "\01\00\00\00"
    "\01\04\01\60\00\00"         ;; type section
    "\03\02\01\00"                 ;; function section
    "\05\03\01\00\01"             ;; memory section
    "\0c\01\00"                     ;; data count section: 0
    "\0a\07\01\05\00\fc\09\00\0b" ;; code: data.drop 0
  )
  "unknown data segment")
(assert_invalid (module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i64.const 0)))) "type mismatch")
(assert_invalid (module (memory 1) (func (memory.fill (i32.const 0) (f32.const 0) (i32.const 0)))) "type mismatch")
(assert_invalid (module (memory 1) (func (memory.copy (i64.const 0) (i32.const 0) (i32.const 0)))) "type mismatch")
(assert_invalid (module (memory 1) (func (memory.copy (i32.const 0) (i32.const 0)))) "type mismatch")
(assert_invalid (module (memory 1) (data "") (func (memory.init 0 (i32.const 0) (i32.const 0) (f64.const 0)))) "type mismatch")
(assert_invalid (module (memory 1) (func (result i32) (memory.fill (i32.const 0) (i32.const 0) (i32.const 0)))) "type mismatch")
