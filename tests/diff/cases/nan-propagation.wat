;; nan-propagation.wat — a LEGAL difference between sluice and V8 (not a bug).
;;
;; Found by the differential run DIFF_SEED=long2 (modules 305, 319, 516): a
;; NaN (in m305: from f64.min) was stored to memory, and the memory hashes
;; differed; all three agree after `wasm-opt --denan`. The spec only requires
;; an arithmetic NaN (quiet
;; bit set) when an operand is a non-canonical NaN; sign and payload are
;; nondeterministic. sluice's min/max propagate the operand's payload (and
;; quiet a signalling NaN); V8's (x86-64) return the default NaN
;; 0xfff8000000000000. For add both propagate the payload.
;; tests/diff/suite.sh now reruns such modules after `wasm-opt --denan` and
;; passes them when that build agrees.
;;
;;   wat2wasm nan-propagation.wat -o /tmp/nan.wasm
;;   build/sluice run --invoke min_a /tmp/nan.wasm 0   # -46179485934257 = 0xffffd60000251d4f
;;   V8: min_a(0) = 0xfff8000000000000, max_snan(0) = 0xfff8000000000000
(module
  (func (export "min_a") (param f64) (result i64)
    (i64.reinterpret_f64 (f64.min (local.get 0) (f64.const -nan:0xfd60000251d4f))))
  (func (export "max_snan") (param f64) (result i64)
    (i64.reinterpret_f64 (f64.max (local.get 0) (f64.const nan:0x4000000000001))))
  (func (export "add") (param f64) (result i64)
    (i64.reinterpret_f64 (f64.add (local.get 0) (f64.const -nan:0xfd60000251d4f))))
  (func (export "min32_snan") (param f32) (result i32)
    (i32.reinterpret_f32 (f32.min (local.get 0) (f32.const -nan:0x200001)))))
