;; stack: call stack exhaustion (assert_exhaustion) through every kind of
;; call, deep-but-finite recursion that must succeed, and recovery: the
;; instance stays usable after the stack was exhausted.
;; Written for sluice from the WebAssembly 2.0 spec.

(module
  (type $v-v (func))
  (type $i-i (func (param i32) (result i32)))
  (table funcref (elem $runaway-indirect $count-indirect))

  (func $runaway (call $runaway))
  (func $runaway-with-result (result i32) (i32.add (call $runaway-with-result) (i32.const 1)))
  (func $ping (call $pong))
  (func $pong (call $ping))
  (func $runaway-indirect (call_indirect (type $v-v) (i32.const 0)))
  (func $runaway-in-loop (loop $l (call $runaway-in-loop) (br $l)))
  (func $runaway-big-frame (param i64 i64 i64 i64 f64 f64 f64 f64) (result i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 f64 f64 f64 f64 f64 f64 f64 f64)
    (i64.add (local.get 0)
      (call $runaway-big-frame (local.get 1) (local.get 2) (local.get 3) (local.get 0)
                               (local.get 4) (local.get 5) (local.get 6) (local.get 7))))
  (func $runaway-deep-operands (result i32)
    ;; keeps values on the operand stack across each recursive call
    (i32.add (i32.const 1) (i32.add (i32.const 2) (i32.add (i32.const 3) (i32.add (i32.const 4)
      (i32.add (i32.const 5) (i32.add (i32.const 6) (i32.add (i32.const 7) (i32.add (i32.const 8)
        (call $runaway-deep-operands))))))))))

  (func $count (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $count (i32.sub (local.get 0) (i32.const 1)))))))
  (func $count-indirect (type $i-i)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1)
        (call_indirect (type $i-i) (i32.sub (local.get 0) (i32.const 1)) (i32.const 1))))))

  (func (export "runaway") (call $runaway))
  (func (export "runaway-with-result") (result i32) (call $runaway-with-result))
  (func (export "mutual") (call $ping))
  (func (export "runaway-indirect") (call $runaway-indirect))
  (func (export "runaway-in-loop") (call $runaway-in-loop))
  (func (export "runaway-big-frame") (result i64)
    (call $runaway-big-frame (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4)
                             (f64.const 1) (f64.const 2) (f64.const 3) (f64.const 4)))
  (func (export "runaway-deep-operands") (result i32) (call $runaway-deep-operands))
  (func (export "count") (param i32) (result i32) (call $count (local.get 0)))
  (func (export "count-indirect") (param i32) (result i32) (call $count-indirect (local.get 0)))
)

(assert_exhaustion (invoke "runaway") "call stack exhausted")
(assert_exhaustion (invoke "runaway-with-result") "call stack exhausted")
(assert_exhaustion (invoke "mutual") "call stack exhausted")
(assert_exhaustion (invoke "runaway-indirect") "call stack exhausted")
(assert_exhaustion (invoke "runaway-in-loop") "call stack exhausted")
(assert_exhaustion (invoke "runaway-big-frame") "call stack exhausted")
(assert_exhaustion (invoke "runaway-deep-operands") "call stack exhausted")

;; finite recursion of moderate depth must work, before and after exhaustion
(assert_return (invoke "count" (i32.const 0)) (i32.const 0))
(assert_return (invoke "count" (i32.const 100)) (i32.const 100))
(assert_return (invoke "count" (i32.const 1000)) (i32.const 1000))
(assert_return (invoke "count" (i32.const 1200)) (i32.const 1200))
(assert_return (invoke "count-indirect" (i32.const 1000)) (i32.const 1000))
(assert_exhaustion (invoke "runaway") "call stack exhausted")
(assert_return (invoke "count" (i32.const 1000)) (i32.const 1000))
(assert_exhaustion (invoke "mutual") "call stack exhausted")
(assert_return (invoke "count-indirect" (i32.const 1000)) (i32.const 1000))

;; exhaustion across module boundaries
(module $R
  (import "spectest" "print_i32" (func $print (param i32)))
  (func $self (export "self") (param i32) (call $self (i32.add (local.get 0) (i32.const 1))))
)
(register "R" $R)
(module
  (import "R" "self" (func $other (param i32)))
  (func $bounce (export "bounce") (param i32) (call $other (local.get 0)))
  (func (export "ok") (result i32) (i32.const 1))
)
(assert_exhaustion (invoke "bounce" (i32.const 0)) "call stack exhausted")
(assert_return (invoke "ok") (i32.const 1))

;; ping-pong between two modules through imports
(module $P
  (import "spectest" "global_i32" (global i32))
  (table (export "tab") 1 funcref)
  (type $v-v (func))
  (func (export "call-tab") (call_indirect (type $v-v) (i32.const 0)))
)
(register "P" $P)
(module
  (import "P" "tab" (table 1 funcref))
  (import "P" "call-tab" (func $call-tab))
  (func $back (call $call-tab))
  (elem (i32.const 0) $back)
  (func (export "go") (call $back))
)
(assert_exhaustion (invoke "go") "call stack exhausted")
