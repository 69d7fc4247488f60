#!/usr/bin/env bash
# Installs the reference service of the queue benchmark: Redis from Debian and
# a Python virtual environment with FastAPI, Celery and uvicorn in
# target/bench-reference-venv. Skips whatever is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

venv="target/bench-reference-venv"
requirements="benchmarks/reference/requirements.txt"
stamp="$venv/.installed"
if [ ! -f "$stamp" ] || [ "$requirements" -nt "$stamp" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$requirements"
    touch "$stamp"
fi
