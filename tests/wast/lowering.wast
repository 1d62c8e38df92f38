;; Cases aimed at the lowerer's shortcuts (sl_lower.c): deferred local.get,
;; constant slots, destination retargeting (local.set, return, br), fused
;; compare-branches, fused address adds and accumulator forwarding. Each
;; asserts a value that a wrong shortcut would change.

(module
  (memory 1)
  ;; br carrying a value computed straight into the label slot, above another value
  (func (export "br-retarget") (param i32) (result i32)
    (block (result i32)
      (i32.const 2)
      (i32.add (local.get 0) (i32.const 1))
      (br 0)))
  (func (export "br-retarget-sum") (param i32) (result i32)
    (i32.add (i32.const 100)
      (block (result i32)
        (i32.const 7)
        (drop)
        (i32.const 2)
        (i32.mul (local.get 0) (i32.const 3))
        (br 0))))
  ;; a deferred local.get must see the value from before the local.set
  (func (export "deferred-local") (param i32) (result i32)
    (local.get 0)
    (local.set 0 (i32.const 99))
    (local.get 0)
    (i32.sub))
  ;; ... also across a block that overwrites the local then branches out
  (func (export "deferred-block") (param i32) (result i32)
    (local.get 0)
    (block
      (local.set 0 (i32.const 5))
      (br_if 0 (i32.const 1))
      (local.set 0 (i32.const 6)))
    (local.get 0)
    (i32.add))
  ;; local.tee keeps the value on the stack while the local changes later
  (func (export "tee-then-set") (param i32) (result i32)
    (local.tee 0 (i32.add (local.get 0) (i32.const 1)))
    (local.set 0 (i32.const 1000))
    (local.get 0)
    (i32.add))
  ;; two results returned swapped: parallel move into the result slots
  (func (export "swap") (param i32 i32) (result i32 i32)
    (local.get 1) (local.get 0))
  ;; fused compare + br_if, forward and backward, signed and unsigned
  (func (export "count-down") (param i32) (result i32) (local i32)
    (block
      (loop
        (br_if 1 (i32.le_s (local.get 0) (i32.const 0)))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br_if 0 (i32.gt_u (local.get 0) (i32.const 0)))))
    (local.get 1))
  ;; if on a fused, inverted compare with a pending local reference below
  (func (export "if-cmp") (param i32 i32) (result i32)
    (local.get 0)
    (if (result i32) (i32.lt_u (local.get 0) (local.get 1))
      (then (i32.const 10))
      (else (i32.const 20)))
    (i32.add))
  ;; i32.eqz folded into the branch sense
  (func (export "eqz-branch") (param i32) (result i32)
    (block (br_if 0 (i32.eqz (local.get 0))) (return (i32.const 1)))
    (i32.const 0))
  ;; address adds fused into loads and stores, the sum wrapping at 2^32
  (func (export "store-load-add") (param i32 i32) (result i32)
    (i32.store offset=4 (i32.add (local.get 0) (local.get 1)) (i32.const 0x12345678))
    (i32.load offset=4 (i32.add (local.get 0) (local.get 1))))
  (func (export "load-add-wrap") (result i32)
    (i32.store (i32.const 8) (i32.const 77))
    (i32.load (i32.add (i32.const -8) (i32.const 16))))
  ;; an accumulator chain mixing i32 and i64
  (func (export "chain") (param i64) (result i32)
    (i32.wrap_i64 (i64.rotl (i64.xor (i64.mul (local.get 0) (i64.const 3)) (i64.const 0xff)) (i64.const 8))))
  ;; a value forwarded into a store's value operand
  (func (export "store-forward") (param i32) (result i32)
    (i32.store (i32.const 32) (i32.xor (local.get 0) (i32.const -1)))
    (i32.load (i32.const 32)))
  ;; select with constant operands and a forwarded condition
  (func (export "select-cmp") (param i32) (result i32)
    (select (i32.const 1) (i32.const 2) (i32.gt_s (local.get 0) (i32.const 0))))
)

(assert_return (invoke "br-retarget" (i32.const 41)) (i32.const 42))
(assert_return (invoke "br-retarget-sum" (i32.const 5)) (i32.const 115))
(assert_return (invoke "deferred-local" (i32.const 100)) (i32.const 1))
(assert_return (invoke "deferred-block" (i32.const 10)) (i32.const 15))
(assert_return (invoke "tee-then-set" (i32.const 1)) (i32.const 1002))
(assert_return (invoke "swap" (i32.const 1) (i32.const 2)) (i32.const 2) (i32.const 1))
(assert_return (invoke "count-down" (i32.const 5)) (i32.const 5))
(assert_return (invoke "count-down" (i32.const -3)) (i32.const 0))
(assert_return (invoke "if-cmp" (i32.const 1) (i32.const 2)) (i32.const 11))
(assert_return (invoke "if-cmp" (i32.const 3) (i32.const 2)) (i32.const 23))
(assert_return (invoke "eqz-branch" (i32.const 0)) (i32.const 0))
(assert_return (invoke "eqz-branch" (i32.const 9)) (i32.const 1))
(assert_return (invoke "store-load-add" (i32.const 100) (i32.const 20)) (i32.const 0x12345678))
(assert_return (invoke "load-add-wrap") (i32.const 77))
(assert_return (invoke "chain" (i64.const 0x0102030405060708)) (i32.const 0x1215e703))
(assert_return (invoke "store-forward" (i32.const 0)) (i32.const -1))
(assert_return (invoke "select-cmp" (i32.const 5)) (i32.const 1))
(assert_return (invoke "select-cmp" (i32.const -5)) (i32.const 2))
