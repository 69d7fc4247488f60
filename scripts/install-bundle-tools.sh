#!/usr/bin/env bash
# Installs the Tauri CLI, which builds the desktop app's installers, into
# .tools (git-ignored) from crates.io, unless a matching one is there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
version="2.12.4"

if [ -x "$tools/bin/cargo-tauri" ] && "$tools/bin/cargo-tauri" --version | grep -q " $version\$"; then
    exit 0
fi
echo "Installing tauri-cli $version into $tools (about 7 minutes on 2 cores)"
cargo install --locked --root "$tools" "tauri-cli@$version"
