#!/usr/bin/env bash
# Runs every test of the workspace and ends with one summary line,
# "tests: N passed, N failed", because cargo's own last line belongs to the
# doc tests of the last crate.
set -uo pipefail
cd "$(dirname "$0")/.."

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked --no-fail-fast "$@" 2>&1 | tee "$log"
status="${PIPESTATUS[0]}"

# The Nuke and Houdini plug-in tests run in Python against the server binary
# that `cargo test` built; their summary line is "plugins: N passed, ...".
plugins_status=0
./scripts/plugin-tests.sh 2>&1 | tee -a "$log"
plugins_status="${PIPESTATUS[0]}"

# The browser tests of the web UI run in headless Chromium against the same
# binary and ui/dist (`make ui`); their summary line is "ui: N passed, ...".
ui_status=0
./scripts/ui-tests.sh 2>&1 | tee -a "$log"
ui_status="${PIPESTATUS[0]}"

awk '/^test result:/ { passed += $4; failed += $6 }
     /^plugins: / { passed += $2; failed += $4 }
     /^ui: / { passed += $2; failed += $4 }
     END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
if [ "$status" -ne 0 ]; then
    exit "$status"
fi
if [ "$plugins_status" -ne 0 ]; then
    exit "$plugins_status"
fi
exit "$ui_status"
