#!/usr/bin/env bash
# Runs the Nuke and Houdini plug-in tests (plugins/tests) against a built
# server binary. Builds nothing: set DDIFFUSION_BINARY to the binary to test
# (default target/debug/ddiffusion). Creates target/plugins-venv with the
# pinned packages of plugins/requirements-test.txt when it is missing; that
# needs python3 with venv support (Debian and Ubuntu: python3-venv).
# Extra arguments go to pytest, for example -k nuke or -x.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export DDIFFUSION_BINARY="$(realpath "${DDIFFUSION_BINARY:-target/debug/ddiffusion}")"
if [ ! -x "$DDIFFUSION_BINARY" ]; then
    echo "error: server binary $DDIFFUSION_BINARY not found; build it with 'cargo build -p ddiffusion-server' or set DDIFFUSION_BINARY" >&2
    exit 2
fi

# shellcheck source=../plugins/tools/venv.sh
source plugins/tools/venv.sh
ensure_plugins_venv "$root"

report="$(mktemp)"
trap 'rm -f "$report"' EXIT

status=0
"$PLUGINS_PYTHON" -m pytest plugins/tests -p no:cacheprovider --timeout=180 \
    --junitxml="$report" "$@" || status=$?

"$PLUGINS_PYTHON" - "$report" <<'PY'
import sys
import xml.etree.ElementTree as ElementTree

try:
    suites = ElementTree.parse(sys.argv[1]).getroot()
except (OSError, ElementTree.ParseError):
    print("plugin tests: no report was written")
    sys.exit(0)
suites = [suites] if suites.tag == "testsuite" else list(suites)
total = sum(int(suite.get("tests", 0)) for suite in suites)
failed = sum(int(suite.get("failures", 0)) + int(suite.get("errors", 0)) for suite in suites)
skipped = sum(int(suite.get("skipped", 0)) for suite in suites)
seconds = sum(float(suite.get("time", 0)) for suite in suites)
print("plug-in tests took %.0f s" % seconds)
print("plugins: %d passed, %d failed, %d skipped" % (total - failed - skipped, failed, skipped))
PY
exit "$status"
