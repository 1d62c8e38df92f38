;; smoke_binary.wast — binary modules, odd export names and instantiation
;; failures through `sluice spectest` (owned by the CLI; small on purpose).

;; A module given as bytes: (func (export "f") (result i32) (i32.const 42))
(module binary
  "\00asm" "\01\00\00\00"
  "\01\05\01\60\00\01\7f"          ;; type: [] -> [i32]
  "\03\02\01\00"                   ;; func 0 has type 0
  "\07\05\01\01\66\00\00"          ;; export "f" = func 0
  "\0a\06\01\04\00\41\2a\0b")      ;; body: i32.const 42
(assert_return (invoke "f") (i32.const 42))

;; Export names are UTF-8 and may hold anything but NUL here.
(module
  (func (export "\e2\82\ac") (result i32) (i32.const 1))
  (func (export "with space") (result i32) (i32.const 2))
  (func (export "") (result i32) (i32.const 3))
  (func (export "\"quoted\\") (result i32) (i32.const 4)))
(assert_return (invoke "\e2\82\ac") (i32.const 1))
(assert_return (invoke "with space") (i32.const 2))
(assert_return (invoke "") (i32.const 3))
(assert_return (invoke "\"quoted\\") (i32.const 4))

(assert_malformed (module binary "") "unexpected end")
(assert_malformed (module binary "\00asm") "unexpected end")
(assert_malformed (module binary "asm\00") "magic header not detected")
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\05\01\60\00\01")
  "unexpected end")

;; Instantiation traps: an active data segment out of bounds.
(assert_trap
  (module (memory 1) (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_trap
  (module (table 1 funcref) (func) (elem (i32.const 1) 0))
  "out of bounds table access")
