#!/usr/bin/env bash
# tests/plugins/suite.sh — proxy-wasm plugins end to end: the real gateway
# (build/sluice), a real upstream (tests/gateway/upstream.py), a real
# redis-server, our plugins (build/wasm/plugins/*.wasm, written with
# sdk/c), a plugin built here with the public AssemblyScript SDK
# (@solo-io/proxy-runtime from npm), and deliberately bad plugins
# (tests/proxywasm/guests).
#
# Sections (run a subset with ONLY="as bad"): as, plugins, body, reroute, bad, reload, aot.
# The last line is the summary "plugins: N passed, N failed[, N skipped]".
set -u
cd "$(dirname "$0")/../.." || exit 1
SUITE_NAME=plugins
. tests/gateway/lib.sh
need_tools

want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
section() { echo "# ---- $1"; }

if [ ! -x "$SLUICE" ]; then
    not_ok "sluice binary built" "$SLUICE missing (run make)"
    finish
fi
PLUGINS=build/wasm/plugins
GUESTS=build/wasm/tests/proxywasm

read -r PORT ADMIN UPPORT CALLPORT <<<"$(free_ports 4)"
start_upstream up "$UPPORT" || { not_ok "upstream starts"; finish; }
start_upstream callout "$CALLPORT" || { not_ok "callout upstream starts"; finish; }

# Each section is a file sourced here (they share lib.sh's counters, the
# ports and the upstreams above); each starts and stops its own gateway.
for sec in as plugins body reroute bad reload aot; do
    if [ -f "tests/plugins/$sec.sh" ] && want "$sec"; then
        . "tests/plugins/$sec.sh"
    fi
done

# Under ASan/UBSan (make test-asan) every gateway's stderr must be clean,
# including LeakSanitizer's report at exit.
if grep -lqE 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$TMP"/gw-*.err 2>/dev/null; then
    not_ok "no sanitizer reports in any gateway's stderr" \
        "$(grep -hE -A12 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$TMP"/gw-*.err | head -40)"
else
    ok "no sanitizer reports in any gateway's stderr"
fi

finish
