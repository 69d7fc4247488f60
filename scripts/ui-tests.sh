#!/usr/bin/env bash
# Runs the browser tests of the web UI (tests/ui) in headless Chromium against
# a built server binary and the built UI. Builds nothing: set DDIFFUSION_BINARY
# to the binary to test (default target/debug/ddiffusion); debug binaries
# serve ui/dist from disk, so build it first with `make ui`. Needs python3,
# chromium and chromedriver (Debian: chromium, chromium-driver), nothing from
# PyPI. Screenshots go to target/ui-test-artefacts. The summary line is
# "ui: N passed, N failed".
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

binary="$(realpath "${DDIFFUSION_BINARY:-target/debug/ddiffusion}")"
if [ ! -x "$binary" ]; then
    echo "error: server binary $binary not found; build it with 'cargo build -p ddiffusion-server' or set DDIFFUSION_BINARY" >&2
    echo "ui: 0 passed, 1 failed"
    exit 2
fi
if [ ! -f ui/dist/index.html ]; then
    echo "error: ui/dist/index.html is missing; build the web UI with 'make ui'" >&2
    echo "ui: 0 passed, 1 failed"
    exit 2
fi

artefacts="$root/target/ui-test-artefacts"
rm -rf "$artefacts"
exec python3 -B tests/ui/run_ui_tests.py "$binary" "$artefacts"
