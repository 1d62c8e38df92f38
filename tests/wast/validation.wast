;; validation: modules that decode but are invalid (assert_invalid), one or
;; more cases for each validation error of WebAssembly 2.0.  Per-opcode
;; operand typing is in validation_ops.wast; validation cases close to a
;; feature also live in that feature's file.
;; Written for sluice from the WebAssembly 2.0 spec (section 3).

;; ---------------------------------------------------------------- type mismatch: function bodies
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_invalid (module (func (result i32) (nop))) "type mismatch")
(assert_invalid (module (func (i32.const 0))) "type mismatch")
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
(assert_invalid (module (func (result f32) (f64.const 0))) "type mismatch")
(assert_invalid (module (func (result i32 i64) (i64.const 0) (i32.const 0))) "type mismatch")
(assert_invalid (module (func (param i32) (result i64) (local.get 0))) "type mismatch")
(assert_invalid (module (func (i32.add (i32.const 0)) (drop))) "type mismatch")
(assert_invalid (module (func (drop))) "type mismatch")
(assert_invalid (module (func (result i32) (return))) "type mismatch")
(assert_invalid (module (func (result i32) (return (i64.const 1)))) "type mismatch")

;; ---------------------------------------------------------------- type mismatch: blocks
(assert_invalid (module (func (block (i32.const 0)))) "type mismatch")
(assert_invalid (module (func (result i32) (block (result i32)))) "type mismatch")
(assert_invalid (module (func (result i32) (block (result i32) (i64.const 0)))) "type mismatch")
(assert_invalid (module (func (result i32) (block (result i32) (i32.const 0) (i32.const 0)))) "type mismatch")
(assert_invalid (module (func (i32.const 0) (block (drop)))) "type mismatch")
(assert_invalid (module (func (result i32) (block (result i32) (br 0)))) "type mismatch")
(assert_invalid (module (func (result i32) (block (result i32) (br 0 (f32.const 0))))) "type mismatch")
(assert_invalid (module (func (result i32) (loop (result i32)))) "type mismatch")
(assert_invalid (module (func (result i32) (loop (result i32) (i64.const 0)))) "type mismatch")
(assert_invalid (module (func (loop (i32.const 1)))) "type mismatch")

;; ---------------------------------------------------------------- type mismatch: if
(assert_invalid (module (func (if (i64.const 1) (then)))) "type mismatch")
(assert_invalid (module (func (if (then)))) "type mismatch")
(assert_invalid (module (func (result i32) (if (result i32) (i32.const 1) (then (i32.const 1))))) "type mismatch")
(assert_invalid (module (func (result i32) (if (result i32) (i32.const 1) (then (i32.const 1)) (else)))) "type mismatch")
(assert_invalid (module (func (result i32) (if (result i32) (i32.const 1) (then) (else (i32.const 1))))) "type mismatch")
(assert_invalid (module (func (result i32) (if (result i32) (i32.const 1) (then (i64.const 1)) (else (i32.const 1))))) "type mismatch")
(assert_invalid (module (func (result i32) (if (result i32) (i32.const 1) (then (i32.const 1)) (else (f32.const 1))))) "type mismatch")
(assert_invalid (module (func (if (i32.const 1) (then (i32.const 1))))) "type mismatch")
(assert_invalid (module (func (if (i32.const 1) (then) (else (i32.const 1))))) "type mismatch")

;; ---------------------------------------------------------------- type mismatch: br_if / br_table
(assert_invalid (module (func (br_if 0))) "type mismatch")
(assert_invalid (module (func (br_if 0 (i64.const 1)))) "type mismatch")
(assert_invalid (module (func (result i32) (block (result i32) (br_if 0 (i32.const 1))))) "type mismatch")
(assert_invalid (module (func (result i32) (block (result i32) (br_if 0 (i64.const 1) (i32.const 1))))) "type mismatch")
(assert_invalid (module (func (block (br_if 0 (i32.const 1) (i32.const 1))))) "type mismatch")
(assert_invalid (module (func (block (br_table 0)))) "type mismatch")
(assert_invalid (module (func (block (br_table 0 (i64.const 0))))) "type mismatch")
(assert_invalid
  (module (func (result i32) (block (result i32) (br_table 0 0 (i32.const 0)))))
  "type mismatch")
(assert_invalid
  (module (func (result i32) (block (result i32) (br_table 0 (f32.const 0) (i32.const 0)))))
  "type mismatch")
;; all br_table targets must accept the operand types
(assert_invalid
  (module (func (result i32)
    (block $a (result i32) (block $b (result i64)
      (br_table $a $b (i32.const 0) (i32.const 0))) (drop) (i32.const 0))))
  "type mismatch")
(assert_invalid
  (module (func
    (block $a (block $b (result i32)
      (br_table $b $a (i32.const 0) (i32.const 0))) (drop))))
  "type mismatch")

;; ---------------------------------------------------------------- type mismatch: select / drop / call
(assert_invalid (module (func (result i32) (select (i32.const 0) (i32.const 0)))) "type mismatch")
(assert_invalid (module (func (result i32) (select (i32.const 0) (i64.const 0) (i32.const 1)))) "type mismatch")
(assert_invalid (module (func (result f64) (select (f32.const 0) (f32.const 0) (i32.const 1)))) "type mismatch")
(assert_invalid (module (func $f (param i32 i64)) (func (call $f (i64.const 0) (i32.const 0)))) "type mismatch")

;; ---------------------------------------------------------------- unknown label
(assert_invalid (module (func (br 1))) "unknown label")
(assert_invalid (module (func (block (br 2)))) "unknown label")
(assert_invalid (module (func (loop (br_if 2 (i32.const 1))))) "unknown label")
(assert_invalid (module (func (block (br_table 0 5 (i32.const 0))))) "unknown label")
(assert_invalid (module (func (block (br_table 3 0 (i32.const 0))))) "unknown label")
(assert_invalid (module (func (br 0x10000000))) "unknown label")

;; ---------------------------------------------------------------- unknown indices
(assert_invalid (module (func (local.get 0) (drop))) "unknown local")
(assert_invalid (module (func (param i32) (local i64) (local.set 2 (i32.const 0)))) "unknown local")
(assert_invalid (module (func (local.tee 0x10000 (i32.const 0)) (drop))) "unknown local")
(assert_invalid (module (func (global.get 0) (drop))) "unknown global")
(assert_invalid (module (global (mut i32) (i32.const 0)) (func (global.set 1 (i32.const 0)))) "unknown global")
(assert_invalid (module (func (call 1))) "unknown function")
(assert_invalid (module (func) (export "f" (func 1))) "unknown function")
(assert_invalid (module (func) (start 1)) "unknown function")
(assert_invalid (module (table 1 funcref) (elem (i32.const 0) 1)) "unknown function")
(assert_invalid (module (func (drop (ref.func 3)))) "unknown function")
(assert_invalid (module (func (drop (table.size 0)))) "unknown table")
(assert_invalid (module (type (func)) (func (call_indirect (type 0) (i32.const 0)))) "unknown table")
(assert_invalid (module (table 1 funcref) (export "t" (table 1))) "unknown table")
(assert_invalid (module (memory 1) (export "m" (memory 1))) "unknown memory")
(assert_invalid (module (func (drop (memory.size)))) "unknown memory")
(assert_invalid (module (func (i64.store (i32.const 0) (i64.const 0)))) "unknown memory")
(assert_invalid (module (global i32 (i32.const 0)) (export "g" (global 1))) "unknown global")
(assert_invalid
  (module binary
    "\00asm" "\01\00\00\00"
    "\01\04\01\60\00\00"            ;; type section: 1 type
    "\03\02\01\00"                    ;; function section
    "\04\04\01\70\00\01"            ;; table section: funcref 1
    "\0a\09\01\07\00"                ;; code section, body of 7 bytes
    "\41\00\11\01\00\0b"            ;; i32.const 0, call_indirect type 1 table 0, end
  )
  "unknown type")
(assert_invalid (module (type (func)) (func (type 1))) "unknown type")
(assert_invalid (module (type (func)) (import "m" "f" (func (type 2)))) "unknown type")
(assert_invalid
  (module binary
    "\00asm" "\01\00\00\00"
    "\01\04\01\60\00\00"            ;; type section: 1 type
    "\03\02\01\00"                    ;; function section
    "\0a\07\01\05\00"                ;; code section, body of 5 bytes
    "\02\05\0b\0b"                    ;; block (type 5) end end
  )
  "unknown type")
(assert_invalid (module (func (data.drop 1)) (data "")) "unknown data segment")
(assert_invalid (module (memory 1) (func (memory.init 1 (i32.const 0) (i32.const 0) (i32.const 0))) (data "")) "unknown data segment")
(assert_invalid (module (func (elem.drop 0))) "unknown elem segment")
(assert_invalid (module (table 1 funcref) (func (table.init 0 (i32.const 0) (i32.const 0) (i32.const 0)))) "unknown elem segment")

;; ---------------------------------------------------------------- immutability, constants, limits, exports
(assert_invalid (module (global i32 (i32.const 0)) (func (global.set 0 (i32.const 1)))) "global is immutable")
(assert_invalid (module (global $g f64 (f64.const 0)) (func (global.set $g (f64.const 1)))) "global is immutable")
(assert_invalid (module (global i32 (i32.const 0) (nop))) "constant expression required")
(assert_invalid (module (global i32 (i32.eqz (i32.const 0)))) "constant expression required")
(assert_invalid (module (global i64 (local.get 0))) "constant expression required")
(assert_invalid (module (memory 1) (data (i32.add (i32.const 0) (i32.const 0)) "")) "constant expression required")
(assert_invalid (module (table 1 funcref) (elem (i32.mul (i32.const 0) (i32.const 0)))) "constant expression required")
(assert_invalid (module (memory 1 0)) "size minimum must not be greater than maximum")
(assert_invalid (module (table 1 0 funcref)) "size minimum must not be greater than maximum")
(assert_invalid (module (memory 65537)) "memory size must be at most 65536 pages (4GiB)")
(assert_invalid (module (memory 1 65537)) "memory size must be at most 65536 pages (4GiB)")
(assert_invalid (module (memory 0xffffffff)) "memory size must be at most 65536 pages (4GiB)")
(assert_invalid (module (memory 0) (memory 0)) "multiple memories")
(assert_invalid (module (func) (export "a" (func 0)) (export "a" (func 0))) "duplicate export name")
(assert_invalid (module (func) (global i32 (i32.const 0)) (export "a" (func 0)) (export "a" (global 0))) "duplicate export name")
(assert_invalid (module (memory 1) (table 1 funcref) (export "" (memory 0)) (export "" (table 0))) "duplicate export name")

;; ---------------------------------------------------------------- undeclared function references
(assert_invalid (module (func $f) (func (drop (ref.func $f)))) "undeclared function reference")
(assert_invalid
  (module (func $f) (func $g) (elem declare func $g) (func (drop (ref.func $f))))
  "undeclared function reference")

;; ---------------------------------------------------------------- invalid result arity (select with several types)
(assert_invalid
  (module binary
    "\00asm" "\01\00\00\00"
    "\01\04\01\60\00\00"                ;; type section: [] -> []
    "\03\02\01\00"                      ;; function section
    "\0a\10\01"                         ;; code section, 1 body
    "\0e\00"                            ;; body size 14, no locals
    "\41\00\41\00\41\00"                ;; i32.const 0 x3
    "\1c\02\7f\7f"                      ;; select (result i32 i32)
    "\1a\1a\0b"                         ;; drop drop end
  )
  "invalid result arity")
(assert_invalid
  (module binary
    "\00asm" "\01\00\00\00"
    "\01\04\01\60\00\00"
    "\03\02\01\00"
    "\0a\0c\01"
    "\0a\00"
    "\41\00\41\00\41\00"
    "\1c\00"                            ;; select (result) -- zero types
    "\0b"
  )
  "invalid result arity")

;; ---------------------------------------------------------------- instructions after the end of the body are unreachable but still typed
(assert_invalid (module (func (unreachable) (i32.const 0) (i64.add))) "type mismatch")
(assert_invalid (module (func (br 0) (f32.const 0) (i32.eqz) (drop))) "type mismatch")
(assert_invalid (module (func (result i32) (return (i32.const 0)) (i64.const 0))) "type mismatch")
(assert_invalid (module (func (block (br 0) (i64.const 0)) )) "type mismatch")
(assert_invalid (module (func (loop (unreachable) (i32.const 0)))) "type mismatch")
