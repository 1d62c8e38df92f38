#!/usr/bin/env bash
# suite.sh (wasi) — runs the WASI guest programs of tests/wasi/*.c with
# `$BUILD/sluice run` and checks their stdout, stderr and exit status.
#
# Needs: $BUILD/sluice (BUILD defaults to "build") and the guests built by
# `make wasm` into build/wasm/tests/NAME.wasm. Run from anywhere:
#   BUILD=build tests/wasi/suite.sh
# Prints "ok - NAME" / "not ok - NAME (why)" per case, and last
#   wasi: N passed, N failed[, N skipped]
# Exit status: 0 when nothing failed.
# The fileio case is run twice: normally (openat2 sandbox) and, when strace
# can inject faults here, with openat2 failing ENOSYS so the component-walk
# fallback is exercised end to end (skipped otherwise).
set -u
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
SLUICE="$BUILD/sluice"
WASM="build/wasm/tests"
CASE_TIMEOUT="${CASE_TIMEOUT:-60}"

passed=0 failed=0 skipped=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-wasi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1 ($2)"; failed=$((failed + 1)); }
skip() { echo "ok - $1 # skip $2"; skipped=$((skipped + 1)); }

# run NAME [sluice run options and args...] — stdin from $STDIN (default
# /dev/null); sets $rc, $out (stdout file) and $err (stderr file).
STDIN=/dev/null
PREFIX=()
run() {
    local name=$1
    shift
    out="$tmp/$name.out" err="$tmp/$name.err"
    timeout "$CASE_TIMEOUT" "${PREFIX[@]}" "$SLUICE" run "$@" <"$STDIN" >"$out" 2>"$err"
    rc=$?
}

# expect NAME WANT_RC WANT_STDOUT_FILE — compares the last run.
expect() {
    local name=$1 want_rc=$2 want=$3
    if [ "$rc" -eq 124 ]; then
        not_ok "$name" "timed out after ${CASE_TIMEOUT}s"
    elif [ "$rc" -ne "$want_rc" ]; then
        not_ok "$name" "exit $rc, want $want_rc; stderr: $(head -c 300 "$err" | tr '\n' ' ')"
    elif ! cmp -s "$out" "$want"; then
        not_ok "$name" "stdout differs: $(diff "$want" "$out" | head -n 6 | tr '\n' ' ')"
    else
        ok "$name"
    fi
}

# expect_report NAME SUMMARY — a self-checking guest: exit 0, no FAIL lines,
# and SUMMARY as its last stdout line.
expect_report() {
    local name=$1 summary=$2
    if [ "$rc" -eq 124 ]; then
        not_ok "$name" "timed out after ${CASE_TIMEOUT}s"
    elif grep -q '^FAIL' "$out"; then
        not_ok "$name" "$(grep '^FAIL' "$out" | head -n 3 | tr '\n' ';') exit $rc"
    elif [ "$rc" -ne 0 ]; then
        not_ok "$name" "exit $rc; stderr: $(head -c 300 "$err" | tr '\n' ' ')"
    elif [ "$(tail -n 1 "$out")" != "$summary" ]; then
        not_ok "$name" "last line '$(tail -n 1 "$out")', want '$summary'"
    else
        ok "$name"
    fi
}

if [ ! -x "$SLUICE" ]; then
    echo "not ok - wasi suite ($SLUICE is not built)"
    echo "wasi: 0 passed, 1 failed"
    exit 1
fi
missing=0
for g in hello args_env exitcode trap stdin_echo clock_random fileio wasi_raw; do
    if [ ! -f "$WASM/$g.wasm" ]; then
        not_ok "$g" "$WASM/$g.wasm is not built (make wasm)"
        missing=1
    fi
done
if [ "$missing" -ne 0 ]; then
    echo "wasi: $passed passed, $failed failed"
    exit 1
fi

# ---- hello ------------------------------------------------------------------
printf 'hello, world\n' >"$tmp/want"
run hello "$WASM/hello.wasm"
expect "hello" 0 "$tmp/want"

# ---- args and environment ---------------------------------------------------------
cat >"$tmp/want" <<'EOF'
argc=3
argv[0]=args_env.wasm
argv[1]=one
argv[2]=two words
FOO=bar
EMPTY=
MISSING=<unset>
environ=3
EOF
run args_env --env FOO=bar --env EMPTY= --env OTHER=x=y "$WASM/args_env.wasm" one "two words"
expect "args_env: argv and --env" 0 "$tmp/want"

cat >"$tmp/want" <<'EOF'
argc=1
argv[0]=args_env.wasm
FOO=<unset>
EMPTY=<unset>
MISSING=<unset>
environ=0
EOF
run args_env0 "$WASM/args_env.wasm"
expect "args_env: no args, empty environment" 0 "$tmp/want"

# ---- exit codes and traps -------------------------------------------------------------
printf 'exiting with 7\n' >"$tmp/want"
run exitcode "$WASM/exitcode.wasm"
expect "exitcode: exit(7) propagates, buffered stdout flushed" 7 "$tmp/want"

run trap "$WASM/trap.wasm"
if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
    not_ok "trap" "exit $rc, want non-zero"
elif grep -q 'after trap' "$out"; then
    not_ok "trap" "code after the trap ran"
elif ! grep -q 'about to trap' "$err"; then
    not_ok "trap" "stderr lost: $(head -c 200 "$err" | tr '\n' ' ')"
else
    ok "trap: non-zero exit ($rc), nothing runs after it"
fi

# ---- stdin ---------------------------------------------------------------------------------
printf 'line one\nline two\n' >"$tmp/in.small"
STDIN="$tmp/in.small"
run stdin_small "$WASM/stdin_echo.wasm"
expect "stdin_echo: small input" 0 "$tmp/in.small"

: >"$tmp/in.empty"
STDIN="$tmp/in.empty"
run stdin_empty "$WASM/stdin_echo.wasm"
expect "stdin_echo: empty stdin is EOF" 0 "$tmp/in.empty"

head -c 1048576 /dev/urandom >"$tmp/in.big"
STDIN="$tmp/in.big"
run stdin_big "$WASM/stdin_echo.wasm"
expect "stdin_echo: 1 MiB of binary" 0 "$tmp/in.big"

# stdin from a pipe rather than a file
out="$tmp/stdin_pipe.out" err="$tmp/stdin_pipe.err"
printf 'piped\n' | timeout "$CASE_TIMEOUT" "$SLUICE" run "$WASM/stdin_echo.wasm" >"$out" 2>"$err"
rc=$?
printf 'piped\n' >"$tmp/want"
expect "stdin_echo: from a pipe" 0 "$tmp/want"
STDIN=/dev/null

# ---- clocks and randomness -------------------------------------------------------------------
run clock_random "$WASM/clock_random.wasm"
expect_report "clock_random" "clock_random: 0 failed"

# ---- files and the sandbox ----------------------------------------------------------------------
# make_tree DIR — the layout fileio.wasm expects (see its header).
make_tree() {
    rm -rf "$1"
    mkdir -p "$1/data"
    printf 'secret\n' >"$1/outside.txt"
    printf 'inside\n' >"$1/data/inside.txt"
    ln -s inside.txt "$1/data/link_in"
    ln -s ../outside.txt "$1/data/link_out"
    ln -s "$(cd "$1" && pwd)/outside.txt" "$1/data/link_abs"
    ln -s .. "$1/data/link_updir"
}

# check_tree NAME DIR — nothing outside data/ changed, data/ is as it was.
check_tree() {
    local name=$1 d=$2
    if [ "$(cat "$d/outside.txt")" != "secret" ]; then
        not_ok "$name: host files" "outside.txt was modified"
    elif [ -e "$d/escape_dir" ] || [ -e "$d/stolen.txt" ] || [ -e "$d/hard.txt" ]; then
        not_ok "$name: host files" "something was created outside the preopen"
    elif [ "$(cd "$d/data" && ls -A | sort | tr '\n' ' ')" != \
        "inside.txt link_abs link_in link_out link_updir " ]; then
        not_ok "$name: host files" "data/ left as: $(cd "$d/data" && ls -A | tr '\n' ' ')"
    else
        ok "$name: host files untouched outside the preopen"
    fi
}

make_tree "$tmp/fs"
run fileio --dir "$tmp/fs/data::/data" "$WASM/fileio.wasm"
expect_report "fileio" "fileio: 0 failed"
check_tree "fileio" "$tmp/fs"

# The same with openat2 unavailable (as on kernels < 5.6 or under seccomp).
if command -v strace >/dev/null 2>&1 &&
    strace -f -qq -o /dev/null -e trace=openat2 -e inject=openat2:error=ENOSYS true 2>/dev/null; then
    make_tree "$tmp/fs2"
    # LeakSanitizer cannot run under ptrace: turn it off for ASan builds.
    PREFIX=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
        strace -f -qq -o /dev/null -e trace=openat2 -e inject=openat2:error=ENOSYS)
    run fileio_walk --dir "$tmp/fs2/data::/data" "$WASM/fileio.wasm"
    PREFIX=()
    expect_report "fileio (openat2 disabled: component walk)" "fileio: 0 failed"
    check_tree "fileio (openat2 disabled)" "$tmp/fs2"
else
    skip "fileio (openat2 disabled: component walk)" "strace cannot inject faults here"
fi

# ---- raw WASI calls: errno values, EFAULT, preview0 layouts ------------------------------------------
mkdir -p "$tmp/raw"
run wasi_raw --dir "$tmp/raw::/data" "$WASM/wasi_raw.wasm"
expect_report "wasi_raw: errno values, bad pointers, preview0" "wasi_raw: 0 failed"
if [ -n "$(ls -A "$tmp/raw")" ]; then
    not_ok "wasi_raw: cleanup" "left: $(ls -A "$tmp/raw" | tr '\n' ' ')"
else
    ok "wasi_raw: cleanup"
fi

line="wasi: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
