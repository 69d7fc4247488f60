#!/usr/bin/env bash
# Installs what building and testing Deferred Diffusion need on Debian or
# Ubuntu, skipping whatever is already there.
set -euo pipefail

minimum_rust="1.90"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi

apt_install() {
    echo "Installing Debian packages: $*"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@"
}

# A C compiler builds the bundled SQLite.
missing=()
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if [ ! -e /etc/ssl/certs/ca-certificates.crt ]; then
    missing+=(ca-certificates)
fi
# Python runs the Nuke and Houdini plug-in tests in a virtual environment.
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
# The web UI's browser tests drive headless Chromium through chromedriver,
# and npm installs wasm-opt (binaryen) for the UI build.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# The desktop app (src-tauri) builds against WebKitGTK, GTK and the
# AppIndicator tray library; its tests run it in Xvfb with a private D-Bus
# session and take screenshots with ImageMagick.
desktop_libraries=(
    "webkit2gtk-4.1:libwebkit2gtk-4.1-dev"
    "javascriptcoregtk-4.1:libjavascriptcoregtk-4.1-dev"
    "libsoup-3.0:libsoup-3.0-dev"
    "gtk+-3.0:libgtk-3-dev"
    "librsvg-2.0:librsvg2-dev"
    "ayatana-appindicator3-0.1:libayatana-appindicator3-dev"
    "openssl:libssl-dev"
)
for entry in "${desktop_libraries[@]}"; do
    if ! pkg-config --exists "${entry%%:*}" 2>/dev/null; then
        missing+=("${entry#*:}")
    fi
done
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb xauth)
command -v dbus-daemon >/dev/null 2>&1 || missing+=(dbus)
command -v import >/dev/null 2>&1 || missing+=(imagemagick)
command -v xdotool >/dev/null 2>&1 || missing+=(xdotool)
if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
fi

# The Rust toolchain: rustup from Debian (13 and later) or Ubuntu (24.04 and
# later) when cargo is missing.
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
    apt_install rustup
    rustup default stable
fi

version="$(rustc --version | awk '{print $2}')"
if [ "$(printf '%s\n%s\n' "$minimum_rust" "$version" | sort -V | head -n1)" != "$minimum_rust" ]; then
    echo "rustc $version is older than $minimum_rust; run 'rustup update stable' and try again" >&2
    exit 1
fi
