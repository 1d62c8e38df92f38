;; ABI 0.1.0 guest: 2-arg header callbacks, missing header → OK + empty,
;; proxy_get_configuration in on_configure. Bump allocator.
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $hget (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_configuration" (func $conf (param i32 i32) (result i32)))
  (import "env" "proxy_continue_request" (func $cont (result i32)))
  (memory (export "memory") 1)
  (global $hp (mut i32) (i32.const 4096))
  (data (i32.const 100) "missing")
  (data (i32.const 120) "ok-empty")
  (data (i32.const 140) "other")
  (func (export "proxy_abi_version_0_1_0"))
  (func (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    global.get $hp
    local.set $p
    global.get $hp
    local.get $n
    i32.add
    global.set $hp
    local.get $p)
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $conf (i32.const 200) (i32.const 204)))
    (drop (call $log (i32.const 2) (i32.load (i32.const 200)) (i32.load (i32.const 204))))
    i32.const 1)
  (func (export "proxy_on_request_headers") (param i32 i32) (result i32)
    (local $st i32)
    (local.set $st (call $hget (i32.const 0) (i32.const 100) (i32.const 7) (i32.const 208) (i32.const 212)))
    (if (i32.and (i32.eqz (local.get $st)) (i32.eqz (i32.load (i32.const 212))))
      (then (drop (call $log (i32.const 2) (i32.const 120) (i32.const 8))))
      (else (drop (call $log (i32.const 2) (i32.const 140) (i32.const 5)))))
    i32.const 0))
