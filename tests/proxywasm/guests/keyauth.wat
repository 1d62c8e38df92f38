;; Minimal key-auth-like guest for the cost check: on_request_headers reads
;; x-api-key (one hostcall + one guest allocation) and compares it with
;; "secret"; a mismatch sends a 401 local reply. Bump allocator reset per
;; request. Exports create/log/done/delete so the whole lifecycle runs.
(module
  (import "env" "proxy_get_header_map_value" (func $hget (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $hp (mut i32) (i32.const 4096))
  (data (i32.const 100) "x-api-key")
  (data (i32.const 120) "secret")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $hp))
    (global.set $hp (i32.add (global.get $hp) (local.get $n)))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (global.set $hp (i32.const 4096))
    (if (i32.eqz (call $hget (i32.const 0) (i32.const 100) (i32.const 9) (i32.const 200) (i32.const 204)))
      (then
        (if (i32.and (i32.eq (i32.load (i32.const 204)) (i32.const 6))
                     (i64.eq (i64.load (i32.load (i32.const 200))) (i64.load (i32.const 120))))
          (then (return (i32.const 0))))))
    (drop (call $reply (i32.const 401) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1)))
    (i32.const 0))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
