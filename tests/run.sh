#!/usr/bin/env bash
# run.sh — runs every test suite and prints one final verdict.
#
# Contract (for suite authors):
#   * A suite is tests/<name>/suite.sh, run with bash from the repository
#     root, with BUILD (default "build"), and CC/SAN/DEFS when make passes
#     them. It may print anything, but its LAST line must be the summary
#       <name>: N passed, N failed[, N skipped]
#     and it should exit non-zero when anything failed.
#   * A suite whose last line is not a summary (crash, missing build, killed
#     after SUITE_TIMEOUT seconds, default 3600) counts as 1 failed. So does
#     a suite that exits non-zero while reporting 0 failed.
# Output: every suite's output as it runs, then exactly one final line
#   N passed, N failed[, N skipped]
# Exit status: 0 when nothing failed, 1 otherwise.
set -u
cd "$(dirname "$0")/.." || exit 1
export BUILD="${BUILD:-build}"
timeout_s="${SUITE_TIMEOUT:-3600}"

passed=0 failed=0 skipped=0
summary_re='^[A-Za-z0-9_.-]+: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$'
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for suite in tests/*/suite.sh; do
    [ -f "$suite" ] || continue
    name=$(basename "$(dirname "$suite")")
    timeout --foreground "$timeout_s" bash "$suite" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    last=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1)
    if [[ $last =~ $summary_re ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[4]:-0}
        if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
            echo "$name: suite exited with status $status but reported no failure"
            f=1
        fi
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    else
        if [ "$status" -eq 124 ]; then
            echo "$name: suite timed out after ${timeout_s}s (no summary line)"
        else
            echo "$name: suite crashed (exit status $status, no summary line)"
        fi
        failed=$((failed + 1))
    fi
done

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
