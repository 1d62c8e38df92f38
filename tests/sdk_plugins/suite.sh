#!/usr/bin/env bash
# suite.sh (sdk_plugins) — static checks of the C proxy-wasm plugins built by
# `make wasm` / `make plugins` into build/wasm/plugins/<name>.wasm.
#
# For every plugins/<name>/ directory: the module exists, passes
# wasm-validate (wabt) and `$BUILD/sluice validate` (when built), exports
# memory, the ABI marker proxy_abi_version_0_2_1, the allocator
# proxy_on_memory_allocate and the stream callbacks, and imports nothing
# but env.proxy_* and wasi_snapshot_preview1.* (no Emscripten helpers);
# plugins/<name>/README.md exists and has a "Test cases" section.
# Behaviour is unit-tested natively on a mock host (tests/unit/
# test_sdk_plugin_*.c). Last line: sdk_plugins: N passed, N failed[, N skipped]
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD="${BUILD:-build}"
passed=0 failed=0 skipped=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1 ($2)"; failed=$((failed + 1)); }
skip() { echo "ok - $1 # skip $2"; skipped=$((skipped + 1)); }

have_wabt=1
command -v wasm-objdump >/dev/null && command -v wasm-validate >/dev/null || have_wabt=0

for dir in plugins/*/; do
    name=$(basename "$dir")
    wasm="build/wasm/plugins/$name.wasm"
    if [ ! -f "$wasm" ]; then
        not_ok "$name: built" "$wasm missing (make wasm)"
        continue
    fi
    ok "$name: built"
    if [ -f "$dir/README.md" ] && grep -qi '^#* *Test cases' "$dir/README.md"; then
        ok "$name: README.md with test cases"
    else
        not_ok "$name: README.md with test cases" "missing README.md or its Test cases section"
    fi
    if [ "$have_wabt" -eq 0 ]; then
        skip "$name: wabt checks" "wasm-validate / wasm-objdump not installed"
        continue
    fi
    if wasm-validate "$wasm" 2>/dev/null; then ok "$name: wasm-validate"; else not_ok "$name: wasm-validate" "invalid module"; fi
    if [ -x "$BUILD/sluice" ]; then
        if "$BUILD/sluice" validate "$wasm" >/dev/null 2>&1; then ok "$name: sluice validate"; else not_ok "$name: sluice validate" "rejected"; fi
    else
        skip "$name: sluice validate" "$BUILD/sluice not built"
    fi
    dump=$(wasm-objdump -x "$wasm" 2>/dev/null)
    exports=$(printf '%s\n' "$dump" | sed -n 's/.* -> "\(.*\)"$/\1/p')
    missing=""
    for want in memory proxy_abi_version_0_2_1 proxy_on_memory_allocate proxy_on_context_create \
        proxy_on_vm_start proxy_on_configure proxy_on_request_headers proxy_on_response_headers \
        proxy_on_log proxy_on_done proxy_on_delete proxy_on_http_call_response \
        proxy_on_redis_call_response; do
        printf '%s\n' "$exports" | grep -qx "$want" || missing="$missing $want"
    done
    if [ -z "$missing" ]; then ok "$name: exports ABI marker, allocator, callbacks"; else not_ok "$name: exports" "missing:$missing"; fi
    if printf '%s\n' "$exports" | grep -qx malloc; then
        not_ok "$name: allocator" "exports malloc (the SDK's allocator is proxy_on_memory_allocate)"
    else
        ok "$name: allocator is proxy_on_memory_allocate only"
    fi
    imports=$(printf '%s\n' "$dump" | sed -n 's/.* <- \([^ ]*\)$/\1/p')
    bad=$(printf '%s\n' "$imports" | grep -v -e '^env\.proxy_[a-z_]*$' -e '^wasi_snapshot_preview1\.[a-z_]*$' | grep -v '^$' | tr '\n' ' ')
    if [ -z "$bad" ] && printf '%s\n' "$imports" | grep -q '^env\.proxy_log$'; then
        ok "$name: imports only env.proxy_* and WASI"
    else
        not_ok "$name: imports" "unexpected: ${bad:-no env.proxy_log}"
    fi
done

echo "sdk_plugins: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
