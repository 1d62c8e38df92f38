;; nan_bits: NaN payloads (signalling and quiet, both signs) are preserved
;; bit for bit by every instruction that only moves values: constants in
;; code, global initialisers and data, locals, globals, blocks and branches,
;; select, calls (direct, indirect, across modules), memory, and the
;; bitwise float operations abs / neg / copysign.
;; Written for sluice from the WebAssembly 2.0 spec.

(module $M
  (memory 1)
  (data (i32.const 0) "\01\00\a0\7f" "\01\00\00\00\00\00\f4\ff")
  (global $gs (mut f32) (f32.const nan:0x200001))
  (global $gd (mut f64) (f64.const -nan:0x4000000000001))
  (global (export "g32") f32 (f32.const -nan:0x1))
  (global (export "g64") f64 (f64.const nan:0x1))
  (type $ff (func (param f32) (result f32)))
  (type $dd (func (param f64) (result f64)))
  (table funcref (elem $id32 $id64))

  (func $id32 (type $ff) (local.get 0))
  (func $id64 (type $dd) (local.get 0))

  ;; constants inside code
  (func (export "c32-snan") (result f32) (f32.const nan:0x200000))
  (func (export "c32-snan-neg") (result f32) (f32.const -nan:0x1))
  (func (export "c32-qnan-payload") (result f32) (f32.const nan:0x7fffff))
  (func (export "c32-snan-max") (result f32) (f32.const -nan:0x3fffff))
  (func (export "c64-snan") (result f64) (f64.const nan:0x4000000000000))
  (func (export "c64-snan-neg") (result f64) (f64.const -nan:0x1))
  (func (export "c64-qnan-payload") (result f64) (f64.const nan:0xfffffffffffff))
  (func (export "c64-snan-max") (result f64) (f64.const -nan:0x7ffffffffffff))
  (func (export "c32-bits") (result i32) (i32.reinterpret_f32 (f32.const nan:0x200000)))
  (func (export "c64-bits") (result i64) (i64.reinterpret_f64 (f64.const -nan:0x1)))

  ;; data, memory
  (func (export "data32") (result f32) (f32.load (i32.const 0)))
  (func (export "data64") (result f64) (f64.load (i32.const 4)))
  (func (export "mem32") (param f32) (result f32) (f32.store (i32.const 16) (local.get 0)) (f32.load (i32.const 16)))
  (func (export "mem64") (param f64) (result f64) (f64.store (i32.const 24) (local.get 0)) (f64.load (i32.const 24)))

  ;; globals
  (func (export "gs") (result f32) (global.get $gs))
  (func (export "gd") (result f64) (global.get $gd))
  (func (export "set-gs") (param f32) (global.set $gs (local.get 0)))
  (func (export "set-gd") (param f64) (global.set $gd (local.get 0)))

  ;; locals, blocks, branches, select
  (func (export "local32") (param f32) (result f32) (local f32) (local.set 1 (local.get 0)) (local.get 1))
  (func (export "tee64") (param f64) (result f64) (local f64) (local.tee 1 (local.get 0)))
  (func (export "block32") (param f32) (result f32) (block (result f32) (local.get 0)))
  (func (export "br64") (param f64) (result f64) (block (result f64) (br 0 (local.get 0)) ))
  (func (export "br_if32") (param f32) (result f32) (block (result f32) (br_if 0 (local.get 0) (i32.const 1))))
  (func (export "br_table64") (param f64) (result f64)
    (block (result f64) (block (result f64) (br_table 0 1 (local.get 0) (i32.const 1)))))
  (func (export "if32") (param f32 i32) (result f32)
    (if (result f32) (local.get 1) (then (local.get 0)) (else (f32.const nan:0x3))))
  (func (export "loop64") (param f64) (result f64) (loop (result f64) (local.get 0)))
  (func (export "select32") (param f32 f32 i32) (result f32) (select (local.get 0) (local.get 1) (local.get 2)))
  (func (export "select64-typed") (param f64 f64 i32) (result f64)
    (select (result f64) (local.get 0) (local.get 1) (local.get 2)))

  ;; calls
  (func (export "call32") (param f32) (result f32) (call $id32 (local.get 0)))
  (func (export "call64") (param f64) (result f64) (call $id64 (local.get 0)))
  (func (export "indirect32") (param f32) (result f32) (call_indirect (type $ff) (local.get 0) (i32.const 0)))
  (func (export "indirect64") (param f64) (result f64) (call_indirect (type $dd) (local.get 0) (i32.const 1)))
  (func (export "id32") (param f32) (result f32) (local.get 0))
  (func (export "multi") (param f32 f64) (result f64 f32) (local.get 1) (local.get 0))

  ;; bitwise operations keep the payload
  (func (export "abs32") (param f32) (result f32) (f32.abs (local.get 0)))
  (func (export "neg32") (param f32) (result f32) (f32.neg (local.get 0)))
  (func (export "copysign32") (param f32 f32) (result f32) (f32.copysign (local.get 0) (local.get 1)))
  (func (export "abs64") (param f64) (result f64) (f64.abs (local.get 0)))
  (func (export "neg64") (param f64) (result f64) (f64.neg (local.get 0)))
  (func (export "copysign64") (param f64 f64) (result f64) (f64.copysign (local.get 0) (local.get 1)))
  (func (export "neg-const32") (result f32) (f32.neg (f32.const nan:0x200000)))
  (func (export "abs-const64") (result f64) (f64.abs (f64.const -nan:0x4000000000000)))
)
(register "M" $M)

(assert_return (invoke "c32-snan") (f32.const nan:0x200000))
(assert_return (invoke "c32-snan-neg") (f32.const -nan:0x1))
(assert_return (invoke "c32-qnan-payload") (f32.const nan:0x7fffff))
(assert_return (invoke "c32-snan-max") (f32.const -nan:0x3fffff))
(assert_return (invoke "c64-snan") (f64.const nan:0x4000000000000))
(assert_return (invoke "c64-snan-neg") (f64.const -nan:0x1))
(assert_return (invoke "c64-qnan-payload") (f64.const nan:0xfffffffffffff))
(assert_return (invoke "c64-snan-max") (f64.const -nan:0x7ffffffffffff))
(assert_return (invoke "c32-bits") (i32.const 0x7fa00000))
(assert_return (invoke "c64-bits") (i64.const 0xfff0000000000001))

(assert_return (invoke "data32") (f32.const nan:0x200001))
(assert_return (invoke "data64") (f64.const -nan:0x4000000000001))
(assert_return (invoke "mem32" (f32.const -nan:0x12345)) (f32.const -nan:0x12345))
(assert_return (invoke "mem64" (f64.const nan:0x123456789)) (f64.const nan:0x123456789))

(assert_return (invoke "gs") (f32.const nan:0x200001))
(assert_return (invoke "gd") (f64.const -nan:0x4000000000001))
(assert_return (get "g32") (f32.const -nan:0x1))
(assert_return (get "g64") (f64.const nan:0x1))
(assert_return (invoke "set-gs" (f32.const -nan:0x2)))
(assert_return (invoke "gs") (f32.const -nan:0x2))
(assert_return (invoke "set-gd" (f64.const nan:0x2)))
(assert_return (invoke "gd") (f64.const nan:0x2))

(assert_return (invoke "local32" (f32.const nan:0x1)) (f32.const nan:0x1))
(assert_return (invoke "tee64" (f64.const -nan:0x8000000000000)) (f64.const -nan:0x8000000000000))
(assert_return (invoke "block32" (f32.const -nan:0x200000)) (f32.const -nan:0x200000))
(assert_return (invoke "br64" (f64.const nan:0x1)) (f64.const nan:0x1))
(assert_return (invoke "br_if32" (f32.const nan:0x5)) (f32.const nan:0x5))
(assert_return (invoke "br_table64" (f64.const -nan:0x5)) (f64.const -nan:0x5))
(assert_return (invoke "if32" (f32.const nan:0x6) (i32.const 1)) (f32.const nan:0x6))
(assert_return (invoke "if32" (f32.const nan:0x6) (i32.const 0)) (f32.const nan:0x3))
(assert_return (invoke "loop64" (f64.const nan:0x7)) (f64.const nan:0x7))
(assert_return (invoke "select32" (f32.const nan:0x8) (f32.const -nan:0x9) (i32.const 1)) (f32.const nan:0x8))
(assert_return (invoke "select32" (f32.const nan:0x8) (f32.const -nan:0x9) (i32.const 0)) (f32.const -nan:0x9))
(assert_return (invoke "select64-typed" (f64.const nan:0x8) (f64.const -nan:0x9) (i32.const 0)) (f64.const -nan:0x9))

(assert_return (invoke "call32" (f32.const nan:0x100)) (f32.const nan:0x100))
(assert_return (invoke "call64" (f64.const -nan:0x100)) (f64.const -nan:0x100))
(assert_return (invoke "indirect32" (f32.const -nan:0x1)) (f32.const -nan:0x1))
(assert_return (invoke "indirect64" (f64.const nan:0x1)) (f64.const nan:0x1))
(assert_return (invoke "multi" (f32.const nan:0xa) (f64.const -nan:0xb)) (f64.const -nan:0xb) (f32.const nan:0xa))

(assert_return (invoke "abs32" (f32.const -nan:0x200000)) (f32.const nan:0x200000))
(assert_return (invoke "neg32" (f32.const nan:0x1)) (f32.const -nan:0x1))
(assert_return (invoke "copysign32" (f32.const nan:0x3) (f32.const -0)) (f32.const -nan:0x3))
(assert_return (invoke "copysign32" (f32.const -nan:0x3) (f32.const nan:0x1)) (f32.const nan:0x3))
(assert_return (invoke "abs64" (f64.const -nan:0x1)) (f64.const nan:0x1))
(assert_return (invoke "neg64" (f64.const -nan:0x4000000000000)) (f64.const nan:0x4000000000000))
(assert_return (invoke "copysign64" (f64.const nan:0x1) (f64.const -inf)) (f64.const -nan:0x1))
(assert_return (invoke "neg-const32") (f32.const -nan:0x200000))
(assert_return (invoke "abs-const64") (f64.const nan:0x4000000000000))

;; across modules: imported functions and globals
(module
  (import "M" "id32" (func $id (param f32) (result f32)))
  (import "M" "g32" (global $g f32))
  (import "M" "g64" (global $h f64))
  (global $copy f32 (global.get $g))
  (func (export "via-import") (param f32) (result f32) (call $id (local.get 0)))
  (func (export "copy") (result f32) (global.get $copy))
  (func (export "h") (result f64) (global.get $h))
)
(assert_return (invoke "via-import" (f32.const nan:0x200000)) (f32.const nan:0x200000))
(assert_return (invoke "via-import" (f32.const -nan:0x7fffff)) (f32.const -nan:0x7fffff))
(assert_return (invoke "copy") (f32.const -nan:0x1))
(assert_return (invoke "h") (f64.const nan:0x1))
