;; entry.wat — WAGI guest in text form: a custom entrypoint "handler" that
;; writes a response with fd_write, "takes_arg" (an export with the wrong
;; signature for an entrypoint), "mem" (not a function), and no _start.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global (export "mem") i32 (i32.const 0))
  (data (i32.const 64) "Content-Type: text/plain\n\ncustom entrypoint\n")
  (func (export "handler")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 44))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "takes_arg") (param i32)))
