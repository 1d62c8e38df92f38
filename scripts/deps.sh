#!/usr/bin/env bash
# deps.sh — installs the Debian 12 packages sluice needs to build, test and
# benchmark. Run as root (or it prints the apt-get line to run).
#   scripts/deps.sh              install everything listed below
#   scripts/deps.sh --if-missing install only when a needed tool is absent
set -euo pipefail

# npm (for the AssemblyScript SDK compat test) comes with the machine's
# Node.js (NodeSource build; Debian's npm package would conflict with it).
PKGS=(
  build-essential clang lld            # host compilers (gcc and clang; gcc is also the AOT
                                       # tier's compiler at run time), wasm linker
  wasi-libc libclang-rt-14-dev-wasm32  # C library and builtins for wasm32-wasi guests
  wabt binaryen                        # wast2json, wasm-interp, wasm-opt (tests)
  nodejs                               # second engine for differential tests and bench
  libclang-rt-14-dev                   # sanitizer and libFuzzer runtimes
  python3
  libuv1-dev libssl-dev libpcre2-dev libyaml-dev   # gateway: event loop, TLS, regex, config
  libhiredis-dev redis-server          # gateway: plugins' Redis calls (client; server for tests)
  curl wrk nginx-light openssl          # gateway tests and benchmarks
)

missing() {
  for t in cc clang wasm-ld wast2json wasm-opt node python3 redis-server; do
    command -v "$t" >/dev/null 2>&1 || return 0
  done
  for t in curl wrk nginx openssl; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || return 0
  done
  for h in uv.h openssl/ssl.h pcre2.h yaml.h hiredis/hiredis.h; do
    [ -e "/usr/include/$h" ] || return 0
  done
  [ -e /usr/lib/wasm32-wasi/libc.a ] || return 0
  ls /usr/lib/llvm-14/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 || return 0
  return 1
}

if [ "${1:-}" = "--if-missing" ] && ! missing; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "sluice needs these Debian packages; as root run:" >&2
  echo "  apt-get update && apt-get install -y ${PKGS[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
echo "deps: installed ${PKGS[*]}"
