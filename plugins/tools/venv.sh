# Sourced by scripts/plugin-tests.sh and plugins/generate-client.sh.
# Sets PLUGINS_VENV and PLUGINS_PYTHON. A PLUGINS_VENV given by the caller is
# used as it is. Otherwise target/plugins-venv is (re)created with the exact
# versions of plugins/requirements-test.txt when it is missing or when that
# file changed since it was built.

ensure_plugins_venv() {
    local root="$1"
    local requirements="$root/plugins/requirements-test.txt"
    if [ -n "${PLUGINS_VENV:-}" ]; then
        PLUGINS_PYTHON="$PLUGINS_VENV/bin/python"
        if [ ! -x "$PLUGINS_PYTHON" ]; then
            echo "error: PLUGINS_VENV=$PLUGINS_VENV has no bin/python" >&2
            return 1
        fi
        return 0
    fi
    PLUGINS_VENV="$root/target/plugins-venv"
    PLUGINS_PYTHON="$PLUGINS_VENV/bin/python"
    local stamp="$PLUGINS_VENV/requirements-test.txt"

    if [ -x "$PLUGINS_PYTHON" ] && cmp -s "$requirements" "$stamp"; then
        return 0
    fi
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        echo "error: python3 cannot create virtual environments; on Debian or Ubuntu run: apt-get install python3-venv" >&2
        return 1
    fi
    echo "Creating $PLUGINS_VENV from plugins/requirements-test.txt" >&2
    rm -rf "$PLUGINS_VENV"
    python3 -m venv "$PLUGINS_VENV"
    "$PLUGINS_PYTHON" -m pip install --quiet --disable-pip-version-check \
        --requirement "$requirements"
    cp "$requirements" "$stamp"
}
