;; linking: imports and exports between modules through register, the
;; spectest host module, shared functions / globals / memories / tables,
;; re-exports, import matching (limits, mutability, signatures, kinds) and
;; link errors ("unknown import", "incompatible import type").
;; Written for sluice from the WebAssembly 2.0 spec (sections 4.5.4 and 7.x).

;; ---------------------------------------------------------------- spectest host module
(module
  (import "spectest" "print" (func $print))
  (import "spectest" "print_i32" (func $print_i32 (param i32)))
  (import "spectest" "print_i64" (func $print_i64 (param i64)))
  (import "spectest" "print_f32" (func $print_f32 (param f32)))
  (import "spectest" "print_f64" (func $print_f64 (param f64)))
  (import "spectest" "print_i32_f32" (func $print_i32_f32 (param i32 f32)))
  (import "spectest" "print_f64_f64" (func $print_f64_f64 (param f64 f64)))
  (import "spectest" "global_i32" (global $gi i32))
  (import "spectest" "global_i64" (global $gl i64))
  (import "spectest" "global_f32" (global $gf f32))
  (import "spectest" "global_f64" (global $gd f64))
  (import "spectest" "memory" (memory 1 2))
  (import "spectest" "table" (table 10 20 funcref))
  (func (export "print-all")
    (call $print)
    (call $print_i32 (i32.const 1))
    (call $print_i64 (i64.const 2))
    (call $print_f32 (f32.const 3))
    (call $print_f64 (f64.const 4))
    (call $print_i32_f32 (i32.const 5) (f32.const 6))
    (call $print_f64_f64 (f64.const 7) (f64.const 8)))
  (func (export "globals") (result i32 i64) (global.get $gi) (global.get $gl))
  (func (export "mem-size") (result i32) (memory.size))
  (func (export "mem-grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "table-size") (result i32) (table.size 0))
)
(assert_return (invoke "print-all"))
(assert_return (invoke "globals") (i32.const 666) (i64.const 666))
(assert_return (invoke "mem-size") (i32.const 1))
(assert_return (invoke "table-size") (i32.const 10))
(assert_return (invoke "mem-grow" (i32.const 2)) (i32.const -1))
(assert_return (invoke "mem-grow" (i32.const 1)) (i32.const 1))
(assert_return (invoke "mem-grow" (i32.const 1)) (i32.const -1))
(assert_return (invoke "mem-size") (i32.const 2))

;; import the same item several times, under different names
(module
  (import "spectest" "print_i32" (func $p1 (param i32)))
  (import "spectest" "print_i32" (func $p2 (param i32)))
  (import "spectest" "global_i32" (global $g1 i32))
  (import "spectest" "global_i32" (global $g2 i32))
  (func (export "sum") (result i32)
    (call $p1 (i32.const 10)) (call $p2 (i32.const 20))
    (i32.add (global.get $g1) (global.get $g2)))
)
(assert_return (invoke "sum") (i32.const 1332))

;; ---------------------------------------------------------------- functions
(module $Mf
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "seven") (result i64) (i64.const 7))
  (func $hidden (result i32) (i32.const 1))
  (func (export "also-hidden") (result i32) (call $hidden))
  (func (export "trap") (unreachable))
)
(register "Mf" $Mf)
(module $Nf
  (import "Mf" "add" (func $add (param i32 i32) (result i32)))
  (import "Mf" "seven" (func $seven (result i64)))
  (import "Mf" "trap" (func $trap))
  (func (export "add3") (param i32 i32 i32) (result i32)
    (call $add (call $add (local.get 0) (local.get 1)) (local.get 2)))
  (func (export "seven-plus") (param i64) (result i64) (i64.add (call $seven) (local.get 0)))
  (func (export "call-trap") (call $trap))
  ;; re-export an imported function under a new name
  (export "add-again" (func $add))
)
(register "Nf" $Nf)
(assert_return (invoke "add3" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 6))
(assert_return (invoke "seven-plus" (i64.const -8)) (i64.const -1))
(assert_trap (invoke "call-trap") "unreachable")
(assert_return (invoke "add-again" (i32.const 40) (i32.const 2)) (i32.const 42))
(module
  (import "Nf" "add-again" (func $add (param i32 i32) (result i32)))
  (func (export "twice") (param i32) (result i32) (call $add (local.get 0) (local.get 0)))
)
(assert_return (invoke "twice" (i32.const 21)) (i32.const 42))
(assert_return (invoke $Mf "also-hidden") (i32.const 1))

;; ---------------------------------------------------------------- globals
(module $Mg
  (global (export "const-i32") i32 (i32.const 55))
  (global (export "const-f64") f64 (f64.const -1.5))
  (global $mut (export "mut-i64") (mut i64) (i64.const 1))
  (global (export "mut-ext") (mut externref) (ref.null extern))
  (func (export "get-mut") (result i64) (global.get $mut))
  (func (export "set-mut") (param i64) (global.set $mut (local.get 0)))
)
(register "Mg" $Mg)
(module $Ng
  (import "Mg" "const-i32" (global $c i32))
  (import "Mg" "const-f64" (global $d f64))
  (import "Mg" "mut-i64" (global $m (mut i64)))
  (import "Mg" "mut-ext" (global $e (mut externref)))
  (global $derived i32 (global.get $c))
  (func (export "get") (result i32 f64 i64 i32) (global.get $c) (global.get $d) (global.get $m) (global.get $derived))
  (func (export "bump") (global.set $m (i64.add (global.get $m) (i64.const 100))))
  (func (export "set-ext") (param externref) (global.set $e (local.get 0)))
  (export "re-mut" (global $m))
)
(assert_return (invoke "get") (i32.const 55) (f64.const -1.5) (i64.const 1) (i32.const 55))
(assert_return (invoke "bump"))
(assert_return (invoke $Mg "get-mut") (i64.const 101))
(assert_return (invoke $Mg "set-mut" (i64.const -5)))
(assert_return (invoke $Ng "get") (i32.const 55) (f64.const -1.5) (i64.const -5) (i32.const 55))
(assert_return (get $Ng "re-mut") (i64.const -5))
(assert_return (invoke $Ng "set-ext" (ref.extern 3)))
(assert_return (get $Mg "mut-ext") (ref.extern 3))

;; ---------------------------------------------------------------- memories
(module $Mm
  (memory (export "mem") 1 4)
  (data (i32.const 0) "\01\02\03\04")
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "size") (result i32) (memory.size))
)
(register "Mm" $Mm)
(module $Nm
  (import "Mm" "mem" (memory 1))
  (data (i32.const 4) "\05\06")
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
)
(assert_return (invoke $Mm "load" (i32.const 3)) (i32.const 4))
(assert_return (invoke $Mm "load" (i32.const 4)) (i32.const 5))
(assert_return (invoke $Mm "load" (i32.const 5)) (i32.const 6))
(assert_return (invoke $Nm "store" (i32.const 100) (i32.const 99)))
(assert_return (invoke $Mm "load" (i32.const 100)) (i32.const 99))
;; growth through one instance is visible in the other; the exporter's maximum applies
(assert_return (invoke $Nm "grow" (i32.const 2)) (i32.const 1))
(assert_return (invoke $Mm "size") (i32.const 3))
(assert_return (invoke $Nm "load" (i32.const 0x2ffff)) (i32.const 0))
(assert_return (invoke $Nm "grow" (i32.const 2)) (i32.const -1))
(assert_return (invoke $Nm "grow" (i32.const 1)) (i32.const 3))
(assert_return (invoke $Mm "size") (i32.const 4))

;; an imported memory may be declared with a smaller minimum than it now has
(module
  (import "Mm" "mem" (memory 2))
  (func (export "size") (result i32) (memory.size))
)
(assert_return (invoke "size") (i32.const 4))
(module (import "Mm" "mem" (memory 4 4)))
(module (import "Mm" "mem" (memory 0 100)))

;; ---------------------------------------------------------------- tables
(module $Mt
  (type $v-i (func (result i32)))
  (table (export "tab") 3 5 funcref)
  (func $a (result i32) (i32.const 1))
  (elem (i32.const 0) $a)
  (func (export "call") (param i32) (result i32) (call_indirect (type $v-i) (local.get 0)))
)
(register "Mt" $Mt)
(module $Nt
  (import "Mt" "tab" (table 2 funcref))
  (func $b (result i32) (i32.const 2))
  (elem (i32.const 1) $b)
  (func (export "grow") (param i32) (result i32) (table.grow 0 (ref.null func) (local.get 0)))
)
(assert_return (invoke $Mt "call" (i32.const 0)) (i32.const 1))
(assert_return (invoke $Mt "call" (i32.const 1)) (i32.const 2))
(assert_trap (invoke $Mt "call" (i32.const 2)) "uninitialized element")
(assert_return (invoke $Nt "grow" (i32.const 2)) (i32.const 3))
(assert_return (invoke $Nt "grow" (i32.const 1)) (i32.const -1))
(assert_trap (invoke $Mt "call" (i32.const 4)) "uninitialized element")
(assert_trap (invoke $Mt "call" (i32.const 5)) "undefined element")

;; ---------------------------------------------------------------- unknown imports
(assert_unlinkable
  (module (import "nonexistent-module" "f" (func)))
  "unknown import")
(assert_unlinkable
  (module (import "spectest" "no-such-function" (func)))
  "unknown import")
(assert_unlinkable
  (module (import "Mf" "hidden" (func (result i32))))
  "unknown import")
(assert_unlinkable
  (module (import "Mg" "nothing" (global i32)))
  "unknown import")
(assert_unlinkable
  (module (import "Mm" "memory" (memory 1)))
  "unknown import")
(assert_unlinkable
  (module (import "Mt" "table" (table 1 funcref)))
  "unknown import")
(assert_unlinkable
  (module (import "spectest" "Print" (func)))
  "unknown import")

;; ---------------------------------------------------------------- incompatible imports
;; function signatures must match exactly
(assert_unlinkable
  (module (import "Mf" "add" (func (param i32) (result i32))))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mf" "add" (func (param i32 i32))))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mf" "add" (func (param i32 i32) (result i64))))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mf" "add" (func (param i64 i32) (result i32))))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mf" "add" (func (param i32 i32) (result i32 i32))))
  "incompatible import type")
(assert_unlinkable
  (module (import "spectest" "print_i32" (func (param i64))))
  "incompatible import type")
(assert_unlinkable
  (module (import "spectest" "print" (func (result i32))))
  "incompatible import type")
;; global types and mutability must match exactly
(assert_unlinkable
  (module (import "Mg" "const-i32" (global i64)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mg" "const-i32" (global (mut i32))))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mg" "mut-i64" (global i64)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mg" "mut-i64" (global (mut i32))))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mg" "mut-ext" (global (mut funcref))))
  "incompatible import type")
(assert_unlinkable
  (module (import "spectest" "global_f32" (global f64)))
  "incompatible import type")
;; memory limits: the actual minimum must be at least the declared one, and a
;; declared maximum needs an actual maximum that is not larger
(assert_unlinkable
  (module (import "Mm" "mem" (memory 5)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mm" "mem" (memory 1 3)))
  "incompatible import type")
(assert_unlinkable
  (module (import "spectest" "memory" (memory 3)))
  "incompatible import type")
(assert_unlinkable
  (module (import "spectest" "memory" (memory 1 1)))
  "incompatible import type")
(module $nomax (memory (export "m") 1))
(register "nomax" $nomax)
(assert_unlinkable
  (module (import "nomax" "m" (memory 1 65536)))
  "incompatible import type")
(module (import "nomax" "m" (memory 0)))
;; table limits and element type
(assert_unlinkable
  (module (import "Mt" "tab" (table 6 funcref)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mt" "tab" (table 1 4 funcref)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mt" "tab" (table 1 externref)))
  "incompatible import type")
(assert_unlinkable
  (module (import "spectest" "table" (table 10 15 funcref)))
  "incompatible import type")
(assert_unlinkable
  (module (import "spectest" "table" (table 21 funcref)))
  "incompatible import type")
(module (import "spectest" "table" (table 10 20 funcref)))
(module (import "spectest" "table" (table 0 funcref)))
(module (import "Mt" "tab" (table 5 5 funcref)))
;; the kind of the export must match the kind of the import
(assert_unlinkable
  (module (import "Mf" "add" (global i32)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mg" "const-i32" (func)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mm" "mem" (table 1 funcref)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mt" "tab" (memory 1)))
  "incompatible import type")
(assert_unlinkable
  (module (import "spectest" "global_i32" (memory 1)))
  "incompatible import type")
(assert_unlinkable
  (module (import "spectest" "print_i32" (table 1 funcref)))
  "incompatible import type")

;; a module that fails to link leaves the imported memory, table and global untouched
(assert_unlinkable
  (module
    (import "spectest" "does-not-exist" (func))
    (import "Mm" "mem" (memory 1))
    (import "Mg" "mut-i64" (global $g (mut i64)))
    (import "Mt" "tab" (table 1 funcref))
    (func $f (result i32) (i32.const 666))
    (elem (i32.const 0) $f)
    (data (i32.const 0) "\ff\ff")
    (func $start (global.set $g (i64.const 12345)))
    (start $start))
  "unknown import")
(assert_return (invoke $Mm "load" (i32.const 0)) (i32.const 1))
(assert_return (invoke $Mg "get-mut") (i64.const -5))
(assert_return (invoke $Mt "call" (i32.const 0)) (i32.const 1))
