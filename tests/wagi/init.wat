;; init.wat — WAGI guest for pre-initialisation (`init`): the export
;; "wizer.initialize" sets the mutable global $g to 7, adds 1 to the
;; counter byte at offset 112 (initially '0') and writes "init ran" to
;; stderr. _start stores '0' + $g at offset 108 and answers
;;   "Content-Type: text/plain\n\ng=G c=C\n"
;; so a request on the snapshot prints g=7 c=1; without the snapshot g=0
;; c=0; were init re-run on the snapshot, c=2.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $g (mut i32) (i32.const 0))
  ;; offset 80: "Content-Type: text/plain\n\n" (26 bytes) then "g=? c=0\n" (8)
  (data (i32.const 80) "Content-Type: text/plain\n\ng=? c=0\n")
  (data (i32.const 200) "init ran\n")
  (func (export "wizer.initialize")
    (global.set $g (i32.const 7))
    (i32.store8 (i32.const 112) (i32.add (i32.load8_u (i32.const 112)) (i32.const 1)))
    (i32.store (i32.const 0) (i32.const 200))
    (i32.store (i32.const 4) (i32.const 9))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (i32.store8 (i32.const 108) (i32.add (i32.const 48) (global.get $g)))
    (i32.store (i32.const 0) (i32.const 80))
    (i32.store (i32.const 4) (i32.const 34))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
