#!/usr/bin/env bash
# Installs the tools that build the web UI (ui/) into .tools/, skipping those
# already there: trunk, wasm-bindgen-cli at the version of the wasm-bindgen
# crate in ui/Cargo.lock, wasm-opt from the npm package binaryen, and the
# wasm32-unknown-unknown target. Everything comes from crates.io and npm, so
# trunk never has to download a tool itself (ui/Trunk.toml sets offline mode).
# Cold, on 2 cores: about 7 minutes, mostly compiling trunk.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
trunk_version="0.21.14"
binaryen_version="132.0.0"
wasm_bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' "$root/ui/Cargo.lock")"
if [ -z "$wasm_bindgen_version" ]; then
    echo "error: ui/Cargo.lock names no wasm-bindgen version" >&2
    exit 1
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi

if [ "$("$tools/bin/trunk" --version 2>/dev/null)" != "trunk $trunk_version" ]; then
    cargo install --locked --root "$tools" "trunk@$trunk_version"
fi

# Without --locked: the lockfile published with wasm-bindgen-cli names a crate
# version that some registry mirrors lack, and cargo then fails to install.
if [ "$("$tools/bin/wasm-bindgen" --version 2>/dev/null)" != "wasm-bindgen $wasm_bindgen_version" ]; then
    cargo install --force --root "$tools" "wasm-bindgen-cli@$wasm_bindgen_version"
fi

if [ ! -x "$tools/node_modules/.bin/wasm-opt" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "error: npm is missing; it installs wasm-opt (binaryen). On Debian or Ubuntu: apt-get install npm" >&2
        exit 1
    fi
    npm install --no-save --no-audit --no-fund --prefix "$tools" "binaryen@$binaryen_version"
fi
mkdir -p "$tools/bin"
ln -sf ../node_modules/.bin/wasm-opt "$tools/bin/wasm-opt"

echo "UI tools in $tools/bin: $("$tools/bin/trunk" --version), $("$tools/bin/wasm-bindgen" --version), wasm-opt $("$tools/bin/wasm-opt" --version | awk '{print $3}')"
