#!/usr/bin/env bash
# Regenerates plugins/common/ddiffusion_api, the Python client of the
# server's API, from the OpenAPI document that `ddiffusion openapi` prints.
#
# Usage: plugins/generate-client.sh [OUTPUT_DIR]
#   DDIFFUSION_BINARY  server binary to ask for the document
#                      (default: target/debug/ddiffusion)
#   OUTPUT_DIR         where to write the package
#                      (default: plugins/common/ddiffusion_api)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -n "${PLUGINS_VENV:-}" ]; then
    PLUGINS_VENV="$(cd "$PLUGINS_VENV" && pwd)"
fi
binary="${DDIFFUSION_BINARY:-$root/target/debug/ddiffusion}"
output="${1:-$root/plugins/common/ddiffusion_api}"

# shellcheck source=tools/venv.sh
source "$root/plugins/tools/venv.sh"
ensure_plugins_venv "$root"

if [ ! -x "$binary" ]; then
    echo "error: server binary $binary not found; build it with 'cargo build -p ddiffusion-server' or set DDIFFUSION_BINARY" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$binary" openapi > "$work/openapi.json"
"$PLUGINS_PYTHON" "$root/plugins/tools/relax_model_enums.py" "$work/openapi.json" "$work/openapi-relaxed.json"

# The generator formats its output with the ruff of the virtual environment.
PATH="$PLUGINS_VENV/bin:$PATH" "$PLUGINS_VENV/bin/openapi-python-client" generate \
    --path "$work/openapi-relaxed.json" \
    --meta none \
    --output-path "$work/ddiffusion_api" \
    --overwrite > "$work/generate.log" 2>&1 || { cat "$work/generate.log" >&2; exit 1; }

rm -rf "$work/ddiffusion_api/.ruff_cache" "$output"
mkdir -p "$(dirname "$output")"
cp -R "$work/ddiffusion_api" "$output"
echo "wrote $output" >&2
