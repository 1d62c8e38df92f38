;; start: the start function, and every instantiation-time trap: data and
;; element segments out of bounds, a trapping start function.  WebAssembly
;; 2.0 initialises element segments, then data segments, in order, then runs
;; start; effects of the steps that completed before a trap remain visible
;; through imported (shared) memories, tables and globals.
;; Written for sluice from the WebAssembly 2.0 spec (section 4.5.4).

;; ---------------------------------------------------------------- start runs once, at instantiation
(module
  (memory 1)
  (global $count (mut i32) (i32.const 0))
  (func $start
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.store8 (i32.const 10) (i32.const 0x5a)))
  (start $start)
  (func (export "count") (result i32) (global.get $count))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "call-start") (call $start))
)
(assert_return (invoke "count") (i32.const 1))
(assert_return (invoke "load" (i32.const 10)) (i32.const 0x5a))
(assert_return (invoke "call-start"))
(assert_return (invoke "count") (i32.const 2))

;; start sees the data segments already written
(module
  (memory 1)
  (data (i32.const 0) "\07")
  (global $seen (mut i32) (i32.const -1))
  (func $start (global.set $seen (i32.load8_u (i32.const 0))))
  (start $start)
  (func (export "seen") (result i32) (global.get $seen))
)
(assert_return (invoke "seen") (i32.const 7))

;; start may be an imported function
(module
  (import "spectest" "print" (func $print))
  (start $print)
)

;; start may be exported as well
(module
  (global $g (mut i32) (i32.const 0))
  (func $s (export "s") (global.set $g (i32.add (global.get $g) (i32.const 10))))
  (start $s)
  (func (export "g") (result i32) (global.get $g))
)
(assert_return (invoke "g") (i32.const 10))
(assert_return (invoke "s"))
(assert_return (invoke "g") (i32.const 20))

;; ---------------------------------------------------------------- trapping start functions
(assert_trap (module (func $s (unreachable)) (start $s)) "unreachable")
(assert_trap
  (module (func $s (drop (i32.div_s (i32.const 1) (i32.const 0)))) (start $s))
  "integer divide by zero")
(assert_trap
  (module (func $s (drop (i32.div_s (i32.const 0x80000000) (i32.const -1)))) (start $s))
  "integer overflow")
(assert_trap
  (module (func $s (drop (i32.trunc_f32_s (f32.const nan)))) (start $s))
  "invalid conversion to integer")
(assert_trap
  (module (memory 1) (func $s (drop (i32.load (i32.const 65536)))) (start $s))
  "out of bounds memory access")
(assert_trap
  (module (memory 0) (func $s (i32.store8 (i32.const 0) (i32.const 1))) (start $s))
  "out of bounds memory access")
(assert_trap
  (module (table 1 funcref) (func $s (call_indirect (i32.const 0))) (start $s))
  "uninitialized element")
(assert_trap
  (module (table 1 funcref) (func $s (call_indirect (i32.const 1))) (start $s))
  "undefined element")
(assert_trap
  (module (table 1 funcref) (elem (i32.const 0) $t) (func $t (param i32))
    (func $s (call_indirect (i32.const 0))) (start $s))
  "indirect call type mismatch")
(assert_trap
  (module (table 1 externref) (func $s (drop (table.get 0 (i32.const 1)))) (start $s))
  "out of bounds table access")

;; ---------------------------------------------------------------- data segments out of bounds
(assert_trap
  (module (memory 1) (data (i32.const 65536) "a"))
  "out of bounds memory access")
(assert_trap
  (module (memory 1) (data (i32.const 65535) "ab"))
  "out of bounds memory access")
(assert_trap
  (module (memory 1) (data (i32.const 65537) ""))
  "out of bounds memory access")
(assert_trap
  (module (memory 1) (data (i32.const -1) "a"))
  "out of bounds memory access")
(assert_trap
  (module (memory 1) (data (i32.const -1) ""))
  "out of bounds memory access")
(assert_trap
  (module (memory 0) (data (i32.const 0) "a"))
  "out of bounds memory access")
(assert_trap
  (module (memory 0) (data (i32.const 1) ""))
  "out of bounds memory access")
(assert_trap
  (module (memory 2) (data (i32.const 0x1fffc) "\00\00\00\00\00"))
  "out of bounds memory access")
(assert_trap
  (module (global (import "spectest" "global_i32") i32) (memory 0) (data (global.get 0) "x"))
  "out of bounds memory access")
(assert_trap
  (module (import "spectest" "memory" (memory 1)) (data (i32.const 0x20000) "x"))
  "out of bounds memory access")
;; and in bounds at the very edge
(module (memory 1) (data (i32.const 65535) "a") (data (i32.const 65536) ""))
(module (memory 0) (data (i32.const 0) ""))

;; ---------------------------------------------------------------- element segments out of bounds
(assert_trap
  (module (table 1 funcref) (func $f) (elem (i32.const 1) $f))
  "out of bounds table access")
(assert_trap
  (module (table 2 funcref) (func $f) (elem (i32.const 1) $f $f))
  "out of bounds table access")
(assert_trap
  (module (table 1 funcref) (elem (i32.const 2) funcref))
  "out of bounds table access")
(assert_trap
  (module (table 1 funcref) (func $f) (elem (i32.const -1) $f))
  "out of bounds table access")
(assert_trap
  (module (table 0 funcref) (func $f) (elem (i32.const 0) $f))
  "out of bounds table access")
(assert_trap
  (module (table 5 externref) (elem (table 0) (i32.const 4) externref (ref.null extern) (ref.null extern)))
  "out of bounds table access")
(assert_trap
  (module (global (import "spectest" "global_i32") i32) (table 10 funcref) (func $f) (elem (global.get 0) $f))
  "out of bounds table access")
(assert_trap
  (module (import "spectest" "table" (table 10 funcref)) (func $f) (elem (i32.const 10) $f))
  "out of bounds table access")
;; in bounds at the edge
(module (table 1 funcref) (func $f) (elem (i32.const 0) $f) (elem (i32.const 1)))
(module (table 0 funcref) (elem (i32.const 0) funcref))

;; ---------------------------------------------------------------- partial initialisation is observable
(module $Shared
  (memory (export "mem") 1)
  (table (export "tab") 3 funcref)
  (global (export "g") (mut i32) (i32.const 0))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "tab-null") (param i32) (result i32) (ref.is_null (table.get 0 (local.get 0))))
  (func (export "get-g") (result i32) (global.get 0))
)
(register "Shared" $Shared)

;; the second data segment traps: the first was written
(assert_trap
  (module
    (import "Shared" "mem" (memory 1))
    (data (i32.const 0) "\11\22")
    (data (i32.const 65535) "\33\44")
    (data (i32.const 100) "\55"))
  "out of bounds memory access")
(assert_return (invoke $Shared "load8" (i32.const 0)) (i32.const 0x11))
(assert_return (invoke $Shared "load8" (i32.const 1)) (i32.const 0x22))
(assert_return (invoke $Shared "load8" (i32.const 65535)) (i32.const 0))
(assert_return (invoke $Shared "load8" (i32.const 100)) (i32.const 0))

;; an element segment traps: earlier element segments were written, no data segment was
(assert_trap
  (module
    (import "Shared" "mem" (memory 1))
    (import "Shared" "tab" (table 3 funcref))
    (func $f)
    (elem (i32.const 0) $f)
    (elem (i32.const 2) $f $f)
    (data (i32.const 200) "\66"))
  "out of bounds table access")
(assert_return (invoke $Shared "tab-null" (i32.const 0)) (i32.const 0))
(assert_return (invoke $Shared "tab-null" (i32.const 1)) (i32.const 1))
(assert_return (invoke $Shared "tab-null" (i32.const 2)) (i32.const 1))
(assert_return (invoke $Shared "load8" (i32.const 200)) (i32.const 0))

;; the data segments succeed and the start function traps halfway:
;; the segments and the start function's earlier effects remain
(assert_trap
  (module
    (import "Shared" "mem" (memory 1))
    (import "Shared" "g" (global $g (mut i32)))
    (data (i32.const 300) "\77")
    (func $start
      (global.set $g (i32.const 42))
      (unreachable)
      (global.set $g (i32.const 43)))
    (start $start))
  "unreachable")
(assert_return (invoke $Shared "load8" (i32.const 300)) (i32.const 0x77))
(assert_return (invoke $Shared "get-g") (i32.const 42))

;; a data segment traps: the start function does not run
(assert_trap
  (module
    (import "Shared" "mem" (memory 1))
    (import "Shared" "g" (global $g (mut i32)))
    (data (i32.const 0x10000) "\01")
    (func $start (global.set $g (i32.const 99)))
    (start $start))
  "out of bounds memory access")
(assert_return (invoke $Shared "get-g") (i32.const 42))

;; ---------------------------------------------------------------- validation
(assert_invalid (module (func $f (param i32)) (start $f)) "start function")
(assert_invalid (module (func $f (result i32) (i32.const 0)) (start $f)) "start function")
(assert_invalid (module (func $f (param i64) (result f32) (f32.const 0)) (start $f)) "start function")
(assert_invalid (module (import "spectest" "print_i32" (func $p (param i32))) (start $p)) "start function")
(assert_invalid (module (func) (start 1)) "unknown function")
