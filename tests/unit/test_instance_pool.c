/*
 * test_instance_pool.c — unit tests for per-request instantiation: the
 * prepared memory image (sl_image.c), the reservation pool and in-place
 * scrubbing (sl_memory.c), and the single-allocation instance
 * (sl_instance.c), through real modules loaded with sl_module_new.
 *
 * Owns:     what instantiating and freeing must guarantee however fast it
 *           is: a new instance sees exactly the module's initial memory
 *           whatever earlier instances wrote; traps at instantiation are
 *           the spec's; passive segments, memory.grow and concurrent
 *           instantiation work; the pool stays within its cap; cached
 *           import resolutions follow the linker. Also sl_module_snapshot
 *           (sl_snapshot.c).
 * Build:    tests/unit/suite.sh builds it against $BUILD/libsluice.a (make
 *           test, test-check, test-asan). By hand, from the repository root:
 *   make build/libsluice.a && cc -std=c11 -D_GNU_SOURCE -g -Wall -Wextra \
 *      -Wno-unused-parameter -Iinclude -Isrc/util -Isrc/vm \
 *      tests/unit/test_instance_pool.c build/libsluice.a -lm -lpthread \
 *      -o build/test_instance_pool && build/test_instance_pool
 * Modules:  the bytes below are wat2wasm output of the text in the comment
 *           above each array.
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#include "sl_linker.h"
#include "tap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/*
 * (module
 *   (memory (export "mem") 2 8)
 *   (data (i32.const 16) "hello, image")
 *   (data (i32.const 65636) "second page")
 *   (data $p "passive!")
 *   (global (export "g") (mut i32) (i32.const 7))
 *   (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
 *   (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
 *   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
 *   (func (export "init") (param i32 i32 i32) (memory.init $p (local.get 0) (local.get 1) (local.get 2)))
 *   (func (export "drop") (data.drop $p)))
 */
static const uint8_t mod_a[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x14, 0x04, 0x60,
    0x02, 0x7f, 0x7f, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x03, 0x7f,
    0x7f, 0x7f, 0x00, 0x60, 0x00, 0x00, 0x03, 0x06, 0x05, 0x00, 0x01, 0x01,
    0x02, 0x03, 0x05, 0x04, 0x01, 0x01, 0x02, 0x08, 0x06, 0x06, 0x01, 0x7f,
    0x01, 0x41, 0x07, 0x0b, 0x07, 0x2e, 0x07, 0x03, 0x6d, 0x65, 0x6d, 0x02,
    0x00, 0x01, 0x67, 0x03, 0x00, 0x04, 0x70, 0x6f, 0x6b, 0x65, 0x00, 0x00,
    0x04, 0x70, 0x65, 0x65, 0x6b, 0x00, 0x01, 0x04, 0x67, 0x72, 0x6f, 0x77,
    0x00, 0x02, 0x04, 0x69, 0x6e, 0x69, 0x74, 0x00, 0x03, 0x04, 0x64, 0x72,
    0x6f, 0x70, 0x00, 0x04, 0x0c, 0x01, 0x03, 0x0a, 0x2d, 0x05, 0x09, 0x00,
    0x20, 0x00, 0x20, 0x01, 0x3a, 0x00, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00,
    0x2d, 0x00, 0x00, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b, 0x0c,
    0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfc, 0x08, 0x02, 0x00, 0x0b,
    0x05, 0x00, 0xfc, 0x09, 0x02, 0x0b, 0x0b, 0x2e, 0x03, 0x00, 0x41, 0x10,
    0x0b, 0x0c, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x69, 0x6d, 0x61,
    0x67, 0x65, 0x00, 0x41, 0xe4, 0x80, 0x04, 0x0b, 0x0b, 0x73, 0x65, 0x63,
    0x6f, 0x6e, 0x64, 0x20, 0x70, 0x61, 0x67, 0x65, 0x01, 0x08, 0x70, 0x61,
    0x73, 0x73, 0x69, 0x76, 0x65, 0x21,
};

/*
 * (module
 *   (memory 1)
 *   (data (i32.const 0) "first")
 *   (data (i32.const 65530) "0123456789"))
 */
static const uint8_t mod_oob[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00,
    0x01, 0x0b, 0x1c, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x05, 0x66, 0x69, 0x72,
    0x73, 0x74, 0x00, 0x41, 0xfa, 0xff, 0x03, 0x0b, 0x0a, 0x30, 0x31, 0x32,
    0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
};

/*
 * (module
 *   (import "env" "off" (global i32))
 *   (memory (export "mem") 1)
 *   (data (i32.const 8) "abc")
 *   (data (global.get 0) "xyz"))
 */
static const uint8_t mod_global_off[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02, 0x0c, 0x01, 0x03,
    0x65, 0x6e, 0x76, 0x03, 0x6f, 0x66, 0x66, 0x03, 0x7f, 0x00, 0x05, 0x03,
    0x01, 0x00, 0x01, 0x07, 0x07, 0x01, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00,
    0x0b, 0x11, 0x02, 0x00, 0x41, 0x08, 0x0b, 0x03, 0x61, 0x62, 0x63, 0x00,
    0x23, 0x00, 0x0b, 0x03, 0x78, 0x79, 0x7a,
};

/*
 * (module
 *   (import "env" "tab" (table 2 funcref))
 *   (memory 1)
 *   (func $peek (param i32) (result i32) (i32.load8_u (local.get 0)))
 *   (elem (i32.const 0) $peek)
 *   (elem (i32.const 5) $peek)
 *   (data (i32.const 10) "Z"))
 */
static const uint8_t mod_elem_trap[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x02, 0x0d, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03,
    0x74, 0x61, 0x62, 0x01, 0x70, 0x00, 0x02, 0x03, 0x02, 0x01, 0x00, 0x05,
    0x03, 0x01, 0x00, 0x01, 0x09, 0x0d, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x01,
    0x00, 0x00, 0x41, 0x05, 0x0b, 0x01, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00,
    0x20, 0x00, 0x2d, 0x00, 0x00, 0x0b, 0x0b, 0x07, 0x01, 0x00, 0x41, 0x0a,
    0x0b, 0x01, 0x5a,
};

/*
 * (module
 *   (memory (export "mem") 1)
 *   (data (i32.const 100) "other module")
 *   (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
 *   (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))
 */
static const uint8_t mod_other[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0b, 0x02, 0x60,
    0x02, 0x7f, 0x7f, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03, 0x03, 0x02,
    0x00, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x15, 0x03, 0x03, 0x6d,
    0x65, 0x6d, 0x02, 0x00, 0x04, 0x70, 0x6f, 0x6b, 0x65, 0x00, 0x00, 0x04,
    0x70, 0x65, 0x65, 0x6b, 0x00, 0x01, 0x0a, 0x13, 0x02, 0x09, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x3a, 0x00, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d,
    0x00, 0x00, 0x0b, 0x0b, 0x13, 0x01, 0x00, 0x41, 0xe4, 0x00, 0x0b, 0x0c,
    0x6f, 0x74, 0x68, 0x65, 0x72, 0x20, 0x6d, 0x6f, 0x64, 0x75, 0x6c, 0x65,
};

/*
 * (module
 *   (memory (export "mem") 1)
 *   (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
 *   (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))
 */
static const uint8_t mod_plain[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0b, 0x02, 0x60,
    0x02, 0x7f, 0x7f, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03, 0x03, 0x02,
    0x00, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x15, 0x03, 0x03, 0x6d,
    0x65, 0x6d, 0x02, 0x00, 0x04, 0x70, 0x6f, 0x6b, 0x65, 0x00, 0x00, 0x04,
    0x70, 0x65, 0x65, 0x6b, 0x00, 0x01, 0x0a, 0x13, 0x02, 0x09, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x3a, 0x00, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d,
    0x00, 0x00, 0x0b,
};

/*
 * (module
 *   (memory (export "mem") 24)
 *   (data (i32.const 1500000) "big"))
 */
static const uint8_t mod_big[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00,
    0x18, 0x07, 0x07, 0x01, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x0b, 0x0c,
    0x01, 0x00, 0x41, 0xe0, 0xc6, 0xdb, 0x00, 0x0b, 0x03, 0x62, 0x69, 0x67,
};

/*
 * (module
 *   (import "env" "tab" (table 2 funcref))
 *   (table $own 4 funcref)
 *   (func $f (table.init $own 1 (i32.const 0) (i32.const 0) (i32.const 1)))
 *   (elem (table 0) (i32.const 0) func $f)
 *   (elem (table 0) (i32.const 5) func $f))
 */
static const uint8_t mod_elem_keep[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
    0x00, 0x00, 0x02, 0x0d, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x74, 0x61,
    0x62, 0x01, 0x70, 0x00, 0x02, 0x03, 0x02, 0x01, 0x00, 0x04, 0x04, 0x01,
    0x70, 0x00, 0x04, 0x09, 0x0d, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00,
    0x00, 0x41, 0x05, 0x0b, 0x01, 0x00, 0x0a, 0x0e, 0x01, 0x0c, 0x00, 0x41,
    0x00, 0x41, 0x00, 0x41, 0x01, 0xfc, 0x0c, 0x01, 0x01, 0x0b,
};

/*
 * (module
 *   (import "w" "poke" (func $poke (param i32 i32)))
 *   (func (export "go") (param i32 i32) (call $poke (local.get 0) (local.get 1))))
 */
static const uint8_t mod_caller[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60,
    0x02, 0x7f, 0x7f, 0x00, 0x02, 0x0a, 0x01, 0x01, 0x77, 0x04, 0x70, 0x6f,
    0x6b, 0x65, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x06, 0x01, 0x02,
    0x67, 0x6f, 0x00, 0x01, 0x0a, 0x0a, 0x01, 0x08, 0x00, 0x20, 0x00, 0x20,
    0x01, 0x10, 0x00, 0x0b,
};

/*
 * (module
 *   (type $ii (func (param i32) (result i32)))
 *   (memory (export "mem") 1 4)
 *   (global $counter (export "counter") (mut i32) (i32.const 0))
 *   (global $k (export "k") i32 (i32.const 5))
 *   (global $fp (mut funcref) (ref.null func))
 *   (global $ext (mut externref) (ref.null extern))
 *   (table $t 2 funcref)
 *   (elem (i32.const 0) $get)
 *   (elem $pe func $get)
 *   (elem $pk func $get)
 *   (data (i32.const 100) "orig")
 *   (data $pas "passive")
 *   (data $keep "kept")
 *   (func $start (global.set $counter (i32.add (global.get $counter) (i32.const 1))))
 *   (start $start)
 *   (func (export "init")
 *     (i32.store (i32.const 200) (i32.const 0x11223344))
 *     (drop (memory.grow (i32.const 1)))
 *     (memory.fill (i32.const 70000) (i32.const 7) (i32.const 10))
 *     (global.set $counter (i32.const 42))
 *     (global.set $fp (ref.func $get))
 *     (data.drop $pas)
 *     (elem.drop $pe))
 *   (func $get (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
 *   (func (export "use_fp") (param i32) (result i32)
 *     (table.set $t (i32.const 1) (global.get $fp))
 *     (call_indirect (type $ii) (local.get 0) (i32.const 1)))
 *   (func (export "init_pas") (param i32 i32 i32) (memory.init $pas (local.get 0) (local.get 1) (local.get 2)))
 *   (func (export "init_keep") (param i32 i32 i32) (memory.init $keep (local.get 0) (local.get 1) (local.get 2)))
 *   (func (export "tinit_pe") (param i32) (table.init $t $pe (i32.const 1) (i32.const 0) (local.get 0)))
 *   (func (export "tinit_pk") (param i32) (table.init $t $pk (i32.const 1) (i32.const 0) (local.get 0)))
 *   (func (export "set_ext") (param externref) (global.set $ext (local.get 0)))
 *   (func (export "break_table") (table.set $t (i32.const 1) (ref.func $get))))
 */
static const uint8_t mod_snap[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x17, 0x05, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00, 0x60, 0x03, 0x7f, 0x7f, 0x7f,
    0x00, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x01, 0x6f, 0x00, 0x03, 0x0b, 0x0a,
    0x01, 0x01, 0x00, 0x00, 0x02, 0x02, 0x03, 0x03, 0x04, 0x01, 0x04, 0x04,
    0x01, 0x70, 0x00, 0x02, 0x05, 0x04, 0x01, 0x01, 0x01, 0x04, 0x06, 0x15,
    0x04, 0x7f, 0x01, 0x41, 0x00, 0x0b, 0x7f, 0x00, 0x41, 0x05, 0x0b, 0x70,
    0x01, 0xd0, 0x70, 0x0b, 0x6f, 0x01, 0xd0, 0x6f, 0x0b, 0x07, 0x71, 0x0c,
    0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x07, 0x63, 0x6f, 0x75, 0x6e, 0x74,
    0x65, 0x72, 0x03, 0x00, 0x01, 0x6b, 0x03, 0x01, 0x04, 0x69, 0x6e, 0x69,
    0x74, 0x00, 0x01, 0x04, 0x70, 0x65, 0x65, 0x6b, 0x00, 0x02, 0x06, 0x75,
    0x73, 0x65, 0x5f, 0x66, 0x70, 0x00, 0x03, 0x08, 0x69, 0x6e, 0x69, 0x74,
    0x5f, 0x70, 0x61, 0x73, 0x00, 0x04, 0x09, 0x69, 0x6e, 0x69, 0x74, 0x5f,
    0x6b, 0x65, 0x65, 0x70, 0x00, 0x05, 0x08, 0x74, 0x69, 0x6e, 0x69, 0x74,
    0x5f, 0x70, 0x65, 0x00, 0x06, 0x08, 0x74, 0x69, 0x6e, 0x69, 0x74, 0x5f,
    0x70, 0x6b, 0x00, 0x07, 0x07, 0x73, 0x65, 0x74, 0x5f, 0x65, 0x78, 0x74,
    0x00, 0x08, 0x0b, 0x62, 0x72, 0x65, 0x61, 0x6b, 0x5f, 0x74, 0x61, 0x62,
    0x6c, 0x65, 0x00, 0x09, 0x08, 0x01, 0x00, 0x09, 0x0f, 0x03, 0x00, 0x41,
    0x00, 0x0b, 0x01, 0x02, 0x01, 0x00, 0x01, 0x02, 0x01, 0x00, 0x01, 0x02,
    0x0c, 0x01, 0x03, 0x0a, 0x94, 0x01, 0x0a, 0x09, 0x00, 0x23, 0x00, 0x41,
    0x01, 0x6a, 0x24, 0x00, 0x0b, 0x2c, 0x00, 0x41, 0xc8, 0x01, 0x41, 0xc4,
    0xe6, 0x88, 0x89, 0x01, 0x36, 0x02, 0x00, 0x41, 0x01, 0x40, 0x00, 0x1a,
    0x41, 0xf0, 0xa2, 0x04, 0x41, 0x07, 0x41, 0x0a, 0xfc, 0x0b, 0x00, 0x41,
    0x2a, 0x24, 0x00, 0xd2, 0x02, 0x24, 0x02, 0xfc, 0x09, 0x01, 0xfc, 0x0d,
    0x01, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x0b, 0x0f, 0x00,
    0x41, 0x01, 0x23, 0x02, 0x26, 0x00, 0x20, 0x00, 0x41, 0x01, 0x11, 0x00,
    0x00, 0x0b, 0x0c, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfc, 0x08,
    0x01, 0x00, 0x0b, 0x0c, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfc,
    0x08, 0x02, 0x00, 0x0b, 0x0c, 0x00, 0x41, 0x01, 0x41, 0x00, 0x20, 0x00,
    0xfc, 0x0c, 0x01, 0x00, 0x0b, 0x0c, 0x00, 0x41, 0x01, 0x41, 0x00, 0x20,
    0x00, 0xfc, 0x0c, 0x02, 0x00, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x24, 0x03,
    0x0b, 0x08, 0x00, 0x41, 0x01, 0xd2, 0x02, 0x26, 0x00, 0x0b, 0x0b, 0x1a,
    0x03, 0x00, 0x41, 0xe4, 0x00, 0x0b, 0x04, 0x6f, 0x72, 0x69, 0x67, 0x01,
    0x07, 0x70, 0x61, 0x73, 0x73, 0x69, 0x76, 0x65, 0x01, 0x04, 0x6b, 0x65,
    0x70, 0x74,
};

/*
 * (module
 *   (import "env" "f" (func $f (result i32)))
 *   (func (export "g") (result i32) (call $f)))
 */
static const uint8_t mod_import[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60,
    0x00, 0x01, 0x7f, 0x02, 0x09, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x66,
    0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x67, 0x00,
    0x01, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x10, 0x00, 0x0b,
};

static sl_module *
load(sl_engine *e, const uint8_t *bytes, size_t len)
{
    sl_module *m = NULL;
    sl_diag d;
    if (sl_module_new(e, bytes, len, &m, &d) != SL_OK)
        printf("# load: %s\n", d.msg);
    return m;
}
#define LOAD(e, arr) load(e, arr, sizeof arr)

static sl_instance *
inst_new(sl_linker *l, const sl_module *m)
{
    sl_instance *inst = NULL;
    sl_trap *t = NULL;
    sl_diag d;
    if (sl_instantiate(l, m, NULL, &inst, &d, &t) != SL_OK) {
        printf("# instantiate: %s\n", d.msg);
        sl_trap_free(t);
        return NULL;
    }
    return inst;
}

/* Calls a (param i32 i32), (param i32) (result i32) or (param i32 i32 i32)
 * export; returns the trap kind (SL_TRAP_NONE on success). */
static sl_trap_kind
call(sl_instance *inst, const char *name, uint32_t a, uint32_t b, uint32_t c, int32_t *result)
{
    sl_func *f = sl_instance_func(inst, name);
    if (!f)
        return SL_TRAP_HOST;
    sl_val args[3] = {{.i32 = (int32_t)a}, {.i32 = (int32_t)b}, {.i32 = (int32_t)c}}, res[1];
    sl_trap *t = sl_func_call(f, args, res);
    sl_trap_kind k = t ? sl_trap_kind_of(t) : SL_TRAP_NONE;
    sl_trap_free(t);
    if (!k && result && sl_func_result_count(f))
        *result = res[0].i32;
    return k;
}

static void
poke(sl_instance *inst, uint32_t addr, uint8_t v)
{
    call(inst, "poke", addr, v, 0, NULL);
}

static int
peek(sl_instance *inst, uint32_t addr)
{
    int32_t r = -1;
    return call(inst, "peek", addr, 0, 0, &r) ? -1 : r;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Module A's initial memory: exactly its two active segments, zero elsewhere. */
static bool
a_is_pristine(sl_instance *inst)
{
    sl_memory *mem = sl_instance_memory(inst, "mem");
    if (!mem || sl_memory_size(mem) != 2 * 65536)
        return false;
    const uint8_t *p = sl_memory_data(mem);
    return all_zero(p, 16) && !memcmp(p + 16, "hello, image", 12) &&
           all_zero(p + 28, 65636 - 28) && !memcmp(p + 65636, "second page", 11) &&
           all_zero(p + 65647, 2 * 65536 - 65647) &&
           sl_global_get(sl_instance_global(inst, "g")).i32 == 7;
}

/* ---- the image ------------------------------------------------------------ */

static void
test_image_choice(sl_engine *e, sl_linker *l)
{
    sl_module *a = LOAD(e, mod_a), *f = LOAD(e, mod_plain), *c = LOAD(e, mod_global_off);
    check(a && f && c && a->cache && f->cache && c->cache, "image: caches created at load");
    sl_instance *ia = a ? inst_new(l, a) : NULL;
    check(ia && ia->mem0_imaged == SL_MEM_GUARDED,
          "image: used for i32.const segments (guard build)");
    check(ia && a_is_pristine(ia), "image: initial contents are the data segments");
    if (SL_MEM_GUARDED && ia)
        check(atomic_load(&a->cache->state) == SL_IMAGE_READY && a->cache->img.len == 69632 &&
                  ia->mem0->image_len == 69632,
              "image: covers up to the last segment's page, not the whole memory");
    sl_instance *i2 = a ? inst_new(l, a) : NULL;
    check(i2 && i2->mem0_imaged == SL_MEM_GUARDED && i2->mem0->base != ia->mem0->base,
          "image: second live instance has its own memory");
    sl_instance_free(i2);
    sl_instance_free(ia);

    sl_instance *inf = f ? inst_new(l, f) : NULL;
    check(inf && !inf->mem0_imaged && all_zero(inf->mem0->base, 65536),
          "image: none for a module without data");
    sl_instance_free(inf);

    sl_linker *lg = sl_linker_new(e);
    sl_linker_define_global(lg, "env", "off", SL_I32, false, (sl_val){.i32 = 100});
    sl_instance *ic = c ? inst_new(lg, c) : NULL;
    check(ic && !ic->mem0_imaged && !memcmp(ic->mem0->base + 8, "abc", 3) &&
              !memcmp(ic->mem0->base + 100, "xyz", 3),
          "image: global.get offset falls back to copying");
    sl_instance_free(ic);
    sl_linker_free(lg);
    lg = sl_linker_new(e);
    sl_linker_define_global(lg, "env", "off", SL_I32, false, (sl_val){.i32 = 65534});
    sl_instance *bad = NULL;
    sl_trap *t = NULL;
    sl_diag d;
    check(c && sl_instantiate(lg, c, NULL, &bad, &d, &t) == SL_ERR_TRAP && !bad && t &&
              sl_trap_kind_of(t) == SL_TRAP_MEMORY_OOB,
          "image: global.get offset out of bounds still traps");
    sl_trap_free(t);
    sl_linker_free(lg);
    sl_module_free(a);
    sl_module_free(f);
    sl_module_free(c);
}

static void
test_oob_data(sl_engine *e, sl_linker *l)
{
    sl_module *b = LOAD(e, mod_oob);
    for (int i = 0; i < 2; i++) {
        sl_instance *inst = NULL;
        sl_trap *t = NULL;
        sl_diag d;
        sl_err err = b ? sl_instantiate(l, b, NULL, &inst, &d, &t) : SL_ERR_ARG;
        check(err == SL_ERR_TRAP && !inst && t && sl_trap_kind_of(t) == SL_TRAP_MEMORY_OOB &&
                  !strcmp(d.msg, "out of bounds memory access"),
              i ? "oob data: traps again (no image cached)" : "oob data: traps at instantiation");
        sl_trap_free(t);
    }
    check(b && atomic_load(&b->cache->state) != SL_IMAGE_READY, "oob data: no image built");
    sl_module_free(b);
}

/* An element segment traps before any data segment is applied: the data of
 * the failed instance's own memory must not be there, image or not. Its
 * function escaped into the imported table by the first segment. */
static void
test_elem_trap(sl_engine *e)
{
    sl_module *m = LOAD(e, mod_elem_trap);
    sl_linker *l = sl_linker_new(e);
    sl_linker_define_table(l, "env", "tab", SL_FUNCREF, 2, UINT32_MAX);
    sl_instance *inst = NULL;
    sl_trap *t = NULL;
    sl_diag d;
    sl_err err = m ? sl_instantiate(l, m, NULL, &inst, &d, &t) : SL_ERR_ARG;
    check(err == SL_ERR_TRAP && t && sl_trap_kind_of(t) == SL_TRAP_TABLE_OOB,
          "elem trap: instantiation traps");
    sl_trap_free(t);
    sl_extern x = {0};
    bool found = sl__linker_lookup(l, "env", 3, "tab", 3, &x);
    sl_func *f = found ? x.table->elems[0].ref : NULL;
    sl_val args[1] = {{.i32 = 10}}, res[1] = {{.i32 = -1}};
    t = f ? sl_func_call(f, args, res) : NULL;
    check(f && !t && res[0].i32 == 0, "elem trap: no data segment visible in the failed instance");
    sl_trap_free(t);
    sl_linker_free(l);
    sl_module_free(m);

    /* The trapping segment was never dropped: table.init from it works. */
    m = LOAD(e, mod_elem_keep);
    l = sl_linker_new(e);
    sl_linker_define_table(l, "env", "tab", SL_FUNCREF, 2, UINT32_MAX);
    t = NULL;
    err = m ? sl_instantiate(l, m, NULL, &inst, &d, &t) : SL_ERR_ARG;
    sl_trap_free(t);
    found = sl__linker_lookup(l, "env", 3, "tab", 3, &x);
    f = found ? x.table->elems[0].ref : NULL;
    t = f ? sl_func_call(f, NULL, NULL) : NULL;
    check(err == SL_ERR_TRAP && f && !t && f->inst->tables[1]->elems[0].ref == f,
          "elem trap: the trapping segment stays available to table.init");
    sl_trap_free(t);
    sl_linker_free(l);
    sl_module_free(m);
}

/* ---- isolation --------------------------------------------------------------- */

static void
test_isolation(sl_engine *e, sl_linker *l)
{
    sl_module *a = LOAD(e, mod_a);
    sl_instance *i1 = a ? inst_new(l, a) : NULL;
    if (!i1) {
        check(0, "isolation: instantiate");
        return;
    }
    poke(i1, 16, 'X');
    poke(i1, 40000, 1);
    poke(i1, 65636, 'Y');
    sl_global_set(sl_instance_global(i1, "g"), (sl_val){.i32 = 99});
    sl_instance *i2 = inst_new(l, a);
    check(i2 && a_is_pristine(i2) && peek(i1, 16) == 'X' && peek(i1, 65636) == 'Y',
          "isolation: writes in A are not seen by a fresh B");
    sl_instance_free(i2);
    sl_instance_free(i1);

    /* 1000 cycles, each writing somewhere else: image page, segment bytes,
     * anonymous pages, the second page's segment, the last byte. */
    bool clean = true;
    uint32_t seed = 12345;
    for (int i = 0; i < 1000 && clean; i++) {
        sl_instance *inst = inst_new(l, a);
        if (!inst || !a_is_pristine(inst)) {
            printf("# dirty at cycle %d\n", i);
            clean = false;
        }
        if (!inst)
            break;
        for (int k = 0; k < 8; k++) {
            seed = seed * 1103515245u + 12345u;
            poke(inst, (seed >> 8) % (2 * 65536), (uint8_t)(seed | 1));
        }
        poke(inst, 16 + (uint32_t)(i % 12), '#');
        poke(inst, 2 * 65536 - 1, 0xFF);
        sl_global_set(sl_instance_global(inst, "g"), (sl_val){.i32 = i});
        sl_instance_free(inst);
    }
    check(clean, "isolation: 1000 instantiate/write/free cycles always start clean");

    /* Untouched instances (nothing ran, no pointer handed out) skip the
     * scrub; the next one is still pristine. */
    for (int i = 0; i < 3; i++) {
        sl_instance *u = inst_new(l, a);
        /* (The explicit-check build copies the segments: not pristine.) */
        check(u && u->mem0->pristine == SL_MEM_GUARDED,
              "isolation: a fresh memory from an image is pristine");
        sl_instance_free(u);
    }
    sl_instance *u = inst_new(l, a);
    check(u && a_is_pristine(u) && !u->mem0->pristine,
          "isolation: after untouched instances, contents intact (and reading clears pristine)");
    sl_instance_free(u);

    /* Written only by a call from another instance (no sl_func_call on it). */
    sl_module *x = LOAD(e, mod_caller);
    sl_linker *l2 = sl_linker_new(e);
    sl_instance *w = inst_new(l2, a), *xi = NULL;
    if (w && x && sl_linker_define_instance(l2, "w", w) == SL_OK)
        xi = inst_new(l2, x);
    check(xi && call(xi, "go", 16, 'Q', 0, NULL) == SL_TRAP_NONE && !w->mem0->pristine &&
              w->mem0->base[16] == 'Q',
          "isolation: a cross-instance call writes the callee's memory");
    sl_instance_free(xi);
    sl_instance_free(w);
    sl_linker_free(l2); /* drops the last reference: w's memory is pooled */
    u = inst_new(l, a);
    check(u && a_is_pristine(u), "isolation: ... and is scrubbed when released");
    sl_instance_free(u);
    sl_module_free(x);

    /* Host writes through the public API are scrubbed too. */
    sl_instance *h = inst_new(l, a);
    if (h) {
        memset(sl_memory_data(sl_instance_memory(h, "mem")), 0x5A, 2 * 65536);
        sl_instance_free(h);
    }
    h = inst_new(l, a);
    check(h && a_is_pristine(h), "isolation: host writes over the whole memory are gone");
    sl_instance_free(h);
    h = inst_new(l, a);
    uint8_t *p = NULL;
    if (h && sl_mem_slice(h, 16, 4, &p))
        memcpy(p, "ZZZZ", 4);
    sl_instance_free(h);
    h = inst_new(l, a);
    check(p && h && a_is_pristine(h), "isolation: host writes through sl_mem_slice are gone");
    sl_instance_free(h);
    sl_module_free(a);
}

static void
test_grow(sl_engine *e, sl_linker *l)
{
    sl_module *a = LOAD(e, mod_a);
    sl_instance *inst = a ? inst_new(l, a) : NULL;
    int32_t r = -1;
    check(inst && call(inst, "grow", 1, 0, 0, &r) == SL_TRAP_NONE && r == 2 &&
              peek(inst, 2 * 65536 + 5) == 0,
          "grow: past the image, new page zero");
    if (inst) {
        poke(inst, 2 * 65536 + 5, 77);
        poke(inst, 3 * 65536 - 1, 78);
    }
    check(inst && peek(inst, 2 * 65536 + 5) == 77 && a_is_pristine(inst) == false,
          "grow: new page writable");
    sl_instance_free(inst);
    inst = a ? inst_new(l, a) : NULL;
    check(inst && a_is_pristine(inst) &&
              call(inst, "peek", 2 * 65536 + 5, 0, 0, &r) == SL_TRAP_MEMORY_OOB,
          "grow: next instance has the initial size again (the old page traps)");
    check(inst && call(inst, "grow", 6, 0, 0, &r) == SL_TRAP_NONE && r == 2 &&
              peek(inst, 2 * 65536 + 5) == 0 && peek(inst, 3 * 65536 - 1) == 0 &&
              call(inst, "grow", 1, 0, 0, &r) == SL_TRAP_NONE && r == -1,
          "grow: regrown pages are zero, max still applies");
    if (inst)
        memset(sl_memory_data(sl_instance_memory(inst, "mem")), 0xA5, 8 * 65536);
    sl_instance_free(inst);
    inst = a ? inst_new(l, a) : NULL;
    check(inst && a_is_pristine(inst) && call(inst, "grow", 6, 0, 0, &r) == SL_TRAP_NONE &&
              all_zero(sl_memory_data(sl_instance_memory(inst, "mem")) + 2 * 65536, 6 * 65536),
          "grow: a memory dirtied all over comes back clean");
    sl_instance_free(inst);
    sl_module_free(a);

    /* A memory grown to 2 MiB and dirtied all over, then reused at 1 page:
     * the tail is dropped and made inaccessible again. */
    sl_module *f = LOAD(e, mod_plain);
    bool ok = f != NULL;
    for (int i = 0; i < 3 && ok; i++) {
        inst = inst_new(l, f);
        sl_memory *mem = inst ? sl_instance_memory(inst, "mem") : NULL;
        ok = mem && sl_memory_size(mem) == 65536 && sl_memory_grow(mem, 31) == 1 &&
             all_zero(sl_memory_data(mem), 32 * 65536);
        if (ok)
            memset(sl_memory_data(mem), 0x3C, 32 * 65536);
        sl_instance_free(inst);
    }
    check(ok, "grow: 2 MiB dirtied, reused at 1 page and regrown: clean (3 rounds)");
    sl_module_free(f);

    /* 1.5 MiB dirtied inside the initial size, more than a pooled
     * reservation keeps resident: the scrub falls back to dropping pages. */
    sl_module *g = LOAD(e, mod_big);
    ok = g != NULL;
    for (int i = 0; i < 3 && ok; i++) {
        inst = inst_new(l, g);
        sl_memory *mem = inst ? sl_instance_memory(inst, "mem") : NULL;
        uint8_t *p = mem ? sl_memory_data(mem) : NULL;
        ok = p && sl_memory_size(mem) == 24 * 65536 && all_zero(p, 1500000) &&
             !memcmp(p + 1500000, "big", 3) && all_zero(p + 1500003, 24 * 65536 - 1500003);
        if (ok)
            memset(p, 0x3C, 24 * 65536);
        sl_instance_free(inst);
    }
    check(ok, "grow: 1.5 MiB dirtied, dropped, clean again (3 rounds)");
    sl_module_free(g);
}

static void
test_passive(sl_engine *e, sl_linker *l)
{
    sl_module *a = LOAD(e, mod_a);
    for (int round = 0; round < 2; round++) {
        sl_instance *inst = a ? inst_new(l, a) : NULL;
        const uint8_t *p = inst ? sl_memory_data(sl_instance_memory(inst, "mem")) : NULL;
        check(inst && all_zero(p + 1000, 8) &&
                  call(inst, "init", 1000, 0, 8, NULL) == SL_TRAP_NONE &&
                  !memcmp(p + 1000, "passive!", 8) &&
                  call(inst, "init", 65536 * 2 - 4, 0, 8, NULL) == SL_TRAP_MEMORY_OOB,
              round ? "passive: memory.init again in a new instance (previous copy gone)"
                    : "passive: memory.init copies, bounds checked");
        check(inst && call(inst, "drop", 0, 0, 0, NULL) == SL_TRAP_NONE &&
                  call(inst, "init", 0, 0, 1, NULL) == SL_TRAP_MEMORY_OOB &&
                  call(inst, "init", 0, 0, 0, NULL) == SL_TRAP_NONE,
              "passive: data.drop empties the segment");
        sl_instance_free(inst);
    }
    sl_module_free(a);
}

/* Reservations go from one module's image to another's and to none. */
static void
test_switching(sl_engine *e, sl_linker *l)
{
    sl_module *a = LOAD(e, mod_a), *o = LOAD(e, mod_other), *f = LOAD(e, mod_plain);
    bool ok = a && o && f;
    for (int i = 0; i < 60 && ok; i++) {
        sl_instance *ia = inst_new(l, a), *io = inst_new(l, o), *inf = inst_new(l, f);
        if (!ia || !io || !inf) {
            ok = false;
        } else {
            const uint8_t *po = sl_memory_data(sl_instance_memory(io, "mem"));
            const uint8_t *pf = sl_memory_data(sl_instance_memory(inf, "mem"));
            ok = a_is_pristine(ia) && all_zero(po, 100) && !memcmp(po + 100, "other module", 12) &&
                 all_zero(po + 112, 65536 - 112) && all_zero(pf, 65536);
            for (uint32_t k = 0; k < 65536; k += 4093) {
                poke(ia, k, 1);
                poke(io, k, 2);
                poke(inf, k, 3);
            }
        }
        /* Free in a rotating order so each reservation changes hands. */
        sl_instance *v[3] = {ia, io, inf};
        for (int k = 0; k < 3; k++)
            sl_instance_free(v[(i + k) % 3]);
    }
    check(ok, "switching: images, no image and other modules share the pool cleanly");
    sl_module_free(a);
    sl_module_free(o);
    sl_module_free(f);
}

/* ---- import resolution cache ------------------------------------------------------- */

static sl_trap *
host_const(sl_instance *caller, sl_val *args, void *user)
{
    args[0].i32 = (int32_t)(intptr_t)user;
    return NULL;
}

static sl_linker *
const_linker(sl_engine *e, intptr_t v)
{
    sl_linker *l = sl_linker_new(e);
    sl_linker_define_func(l, "env", "f", ":i", host_const, (void *)v);
    return l;
}

/* Instantiates m through l and returns g(), or -1. */
static int32_t
import_g(sl_linker *l, const sl_module *m)
{
    sl_instance *inst = inst_new(l, m);
    int32_t r = -1;
    if (inst && call(inst, "g", 0, 0, 0, &r) != SL_TRAP_NONE)
        r = -1;
    sl_instance_free(inst);
    return r;
}

static void
test_import_cache(sl_engine *e)
{
    sl_module *m = LOAD(e, mod_import);
    sl_linker *l1 = const_linker(e, 1), *l2 = const_linker(e, 2);
    bool ok = m != NULL;
    for (int i = 0; i < 200 && ok; i++)
        ok = import_g(l1, m) == 1 && import_g(l2, m) == 2;
    check(ok, "imports: two linkers alternating, each instance gets its own");
    ok = m && import_g(l1, m) == 1; /* cached for l1 as it is now */
    sl_linker_define_func(l1, "env", "f", ":i", host_const, (void *)3);
    check(ok && import_g(l1, m) == 3, "imports: a redefinition is seen at once");
    sl_linker_define_func(l1, "env", "f", "i:i", host_const, (void *)4);
    sl_instance *inst = NULL;
    sl_trap *t = NULL;
    sl_diag d;
    check(m && sl_instantiate(l1, m, NULL, &inst, &d, &t) == SL_ERR_LINK && !inst &&
              strstr(d.msg, "incompatible import type"),
          "imports: an incompatible redefinition fails to link");
    sl_linker_free(l1);
    sl_linker_free(l2);
    for (intptr_t v = 5; v < 10; v++) { /* new linkers, likely at the same address */
        sl_linker *l = const_linker(e, v);
        ok &= m && import_g(l, m) == v;
        sl_linker_free(l);
    }
    check(ok, "imports: a freed linker's resolution is not reused");
    sl_linker *empty = sl_linker_new(e);
    check(m && sl_instantiate(empty, m, NULL, &inst, &d, &t) == SL_ERR_LINK &&
              strstr(d.msg, "unknown import"),
          "imports: unknown import still fails");
    sl_linker_free(empty);
    sl_module_free(m);
}

/* ---- threads --------------------------------------------------------------------- */

typedef struct worker {
    sl_linker *l;
    const sl_module *m;
    pthread_barrier_t *start;
    int id;
    bool ok;
} worker;

static void *
work(void *arg)
{
    worker *w = arg;
    w->ok = true;
    pthread_barrier_wait(w->start);
    for (int i = 0; i < 300 && w->ok; i++) {
        sl_instance *inst = inst_new(w->l, w->m);
        if (!inst || !a_is_pristine(inst)) {
            w->ok = false;
        } else {
            poke(inst, 16, (uint8_t)w->id);
            poke(inst, 30000 + (uint32_t)w->id, 0xEE);
            poke(inst, 65636 + (uint32_t)(i % 11), '!');
            w->ok = peek(inst, 16) == w->id && peek(inst, 30000 + (uint32_t)w->id) == 0xEE;
        }
        sl_instance_free(inst);
    }
    return NULL;
}

static void *
work_imports(void *arg)
{
    worker *w = arg;
    w->ok = true;
    pthread_barrier_wait(w->start);
    for (int i = 0; i < 300 && w->ok; i++)
        w->ok = import_g(w->l, w->m) == 7;
    return NULL;
}

static void
test_threads(sl_engine *e, sl_linker *l)
{
    enum { N = 4 };
    /* Fresh modules: the threads race to build the image and to resolve
     * the imports. */
    sl_module *mi = LOAD(e, mod_import);
    sl_linker *li = const_linker(e, 7);
    pthread_barrier_t start_i;
    pthread_barrier_init(&start_i, NULL, N);
    worker wi[N];
    pthread_t thi[N];
    for (int i = 0; i < N; i++) {
        wi[i] = (worker){.l = li, .m = mi, .start = &start_i, .id = i + 1};
        pthread_create(&thi[i], NULL, work_imports, &wi[i]);
    }
    bool ok_i = mi != NULL;
    for (int i = 0; i < N; i++) {
        pthread_join(thi[i], NULL);
        ok_i &= wi[i].ok;
    }
    pthread_barrier_destroy(&start_i);
    check(ok_i, "threads: 4 threads instantiate a module with imports 300 times each");
    sl_linker_free(li);
    sl_module_free(mi);

    sl_module *a = LOAD(e, mod_a);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, N);
    worker w[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker){.l = l, .m = a, .start = &start, .id = i + 1};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    bool ok = a != NULL;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ok &= w[i].ok;
    }
    pthread_barrier_destroy(&start);
    check(ok, "threads: 4 threads instantiate one module 300 times each, always clean");
    sl_module_free(a);
}

/* ---- the pool ---------------------------------------------------------------------- */

static void
test_pool(sl_engine *e, sl_linker *l)
{
    if (!SL_MEM_GUARDED) {
        check(sl__memory_pool_count() == 0, "pool: none in the explicit-check build");
        return;
    }
    sl_module *a = LOAD(e, mod_a), *f = LOAD(e, mod_plain);
    enum { LIVE = SL_MEMORY_POOL_MAX + 10 };
    static sl_instance *v[LIVE];
    sl__memory_pool_drain();
    check(sl__memory_pool_count() == 0, "pool: drained");
    int n = 0;
    while (n < LIVE && (v[n] = inst_new(l, f)) != NULL)
        n++;
    uint8_t *base = n ? v[0]->mem0->base : NULL;
    check(n == LIVE && sl__memory_owns_fault(base), "pool: live reservation is registered");
    for (int i = 0; i < n; i++)
        sl_instance_free(v[i]);
    check(sl__memory_pool_count() == SL_MEMORY_POOL_MAX, "pool: capped at SL_MEMORY_POOL_MAX");
    check(!sl__memory_owns_fault(base), "pool: pooled reservation is not registered");
    sl_instance *inst = inst_new(l, f);
    check(inst && sl__memory_pool_count() == SL_MEMORY_POOL_MAX - 1 &&
              sl__memory_owns_fault(inst->mem0->base),
          "pool: reused reservation is registered again");
    sl_instance_free(inst);

    check(sl__memory_pool_set_cap(3) == SL_MEMORY_POOL_MAX && sl__memory_pool_count() == 3,
          "pool: lowering the cap unmaps the excess");
    sl__memory_pool_set_cap(0);
    inst = inst_new(l, f);
    sl_instance_free(inst);
    check(inst && sl__memory_pool_count() == 0, "pool: cap 0 disables it");
    sl__memory_pool_set_cap(SL_MEMORY_POOL_MAX);

    /* Freeing a module unmaps the pooled reservations that map its image. */
    sl_instance *x = inst_new(l, a), *y = inst_new(l, f);
    sl_instance_free(x);
    sl_instance_free(y);
    check(sl__memory_pool_count() == 2, "pool: two reservations pooled");
    sl_module_free(a);
    check(sl__memory_pool_count() == 1, "pool: module free forgets its image's reservations");
    sl_module_free(f);

    sl_engine *e2 = sl_engine_new(NULL);
    sl_engine_free(e2);
    check(sl__memory_pool_count() == 1, "pool: kept while an engine lives");
}

/* ---- snapshots (sl_module_snapshot) ------------------------------------------------ */

static int32_t
global_i32(sl_instance *inst, const char *name)
{
    sl_global *g = sl_instance_global(inst, name);
    return g ? sl_global_get(g).i32 : -1;
}

/* The state module S's "init" leaves, seen from a fresh instance. */
static bool
snap_state_ok(sl_instance *s)
{
    int32_t r = -1;
    sl_memory *mem = s ? sl_instance_memory(s, "mem") : NULL;
    return mem && sl_memory_size(mem) == 2 * 65536 && global_i32(s, "counter") == 42 &&
           global_i32(s, "k") == 5 && peek(s, 100) == 'o' && peek(s, 103) == 'g' &&
           peek(s, 200) == 0x44 && peek(s, 203) == 0x11 && peek(s, 69999) == 0 &&
           peek(s, 70000) == 7 && peek(s, 70009) == 7 && peek(s, 70010) == 0 &&
           peek(s, 300) == 0 && call(s, "use_fp", 100, 0, 0, &r) == SL_TRAP_NONE && r == 'o';
}

static void
test_snapshot(sl_engine *e, sl_linker *l)
{
    sl_module *m = LOAD(e, mod_snap), *snap = NULL, *snap2 = NULL;
    sl_instance *inst = m ? inst_new(l, m) : NULL;
    sl_diag d;
    check(inst && global_i32(inst, "counter") == 1 && call(inst, "init", 0, 0, 0, NULL) == 0 &&
              sl_module_snapshot(inst, &snap, &d) == SL_OK && snap,
          "snapshot: taken after init");
    sl_instance_free(inst);

    sl_instance *s = snap ? inst_new(l, snap) : NULL;
    check(s && snap_state_ok(s), "snapshot: memory, size and globals as init left them, "
                                 "start not run again");
    check(s && s->mem0_imaged == SL_MEM_GUARDED, "snapshot: instances map a prepared image");
    check(s && call(s, "init_pas", 0, 0, 1, NULL) == SL_TRAP_MEMORY_OOB &&
              call(s, "init_pas", 0, 0, 0, NULL) == SL_TRAP_NONE &&
              call(s, "init_keep", 300, 0, 4, NULL) == SL_TRAP_NONE && peek(s, 300) == 'k',
          "snapshot: data segment dropped by init stays dropped, the other is kept");
    check(s && call(s, "tinit_pe", 1, 0, 0, NULL) == SL_TRAP_TABLE_OOB &&
              call(s, "tinit_pk", 1, 0, 0, NULL) == SL_TRAP_NONE,
          "snapshot: element segment dropped by init stays dropped, the other is kept");
    sl_instance_free(s);
    s = snap ? inst_new(l, snap) : NULL;
    check(s && snap_state_ok(s), "snapshot: a second instance starts clean");
    sl_instance_free(s);
    s = snap ? inst_new(l, snap) : NULL; /* untouched: use_fp sets a table slot */
    check(s && sl_module_snapshot(s, &snap2, &d) == SL_OK && snap2,
          "snapshot: of an instance of a snapshot");
    sl_instance_free(s);
    s = snap2 ? inst_new(l, snap2) : NULL;
    check(s && snap_state_ok(s) && peek(s, 300) == 0, "snapshot: ... which starts the same");
    sl_instance_free(s);
    sl_module_free(snap2);
    sl_module_free(snap);

    sl_module *bad = NULL;
    inst = m ? inst_new(l, m) : NULL;
    check(inst && call(inst, "break_table", 0, 0, 0, NULL) == SL_TRAP_NONE &&
              sl_module_snapshot(inst, &bad, &d) == SL_ERR_ARG && !bad &&
              strstr(d.msg, "table 0 changed"),
          "snapshot: refused when a table changed");
    sl_instance_free(inst);
    inst = m ? inst_new(l, m) : NULL;
    sl_func *set_ext = inst ? sl_instance_func(inst, "set_ext") : NULL;
    sl_val arg[1] = {{.ref = &n_pass}};
    sl_trap *t = set_ext ? sl_func_call(set_ext, arg, NULL) : NULL;
    check(set_ext && !t && sl_module_snapshot(inst, &bad, &d) == SL_ERR_ARG && !bad &&
              strstr(d.msg, "global"),
          "snapshot: refused when a global holds a host reference");
    sl_trap_free(t);
    sl_instance_free(inst);
    check(sl_module_snapshot(NULL, &bad, &d) == SL_ERR_ARG, "snapshot: NULL instance");
    sl_module_free(m);
}

int
main(void)
{
    sl_engine *e = sl_engine_new(NULL);
    sl_linker *l = sl_linker_new(e);
    test_image_choice(e, l);
    test_oob_data(e, l);
    test_elem_trap(e);
    test_import_cache(e);
    test_isolation(e, l);
    test_grow(e, l);
    test_passive(e, l);
    test_switching(e, l);
    test_threads(e, l);
    test_snapshot(e, l);
    test_pool(e, l);
    sl_linker_free(l);
    sl_engine_free(e);
    check(sl__memory_pool_count() == 0, "pool: emptied when the last engine is freed");
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
