;; outbound.wat — a WAGI guest importing wasi_experimental_http (WAGI's
;; outbound HTTP API), which sluice does not implement: loading it must
;; fail with a message that says so.
(module
  (import "wasi_experimental_http" "req"
    (func $req (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
