#!/usr/bin/env bash
# Installs the Python environment of the diffusers parity check in
# target/parity-venv: CPU-only use of PyPI's torch, diffusers, transformers,
# safetensors and numpy, at the versions pinned in requirements.txt.
#
# Every package is installed with --no-deps from the complete pinned list, so
# torch's CUDA dependencies that the CPU never loads (triton, cuSOLVER, ...)
# are skipped. requirements.txt explains which ones are kept and why.
# Skips the work when the stamp file is newer than requirements.txt. Packages
# dropped from requirements.txt stay installed until the folder is deleted.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv="target/parity-venv"
requirements="scripts/parity/requirements.txt"
stamp="$venv/.installed"

if [ -f "$stamp" ] && [ ! "$requirements" -nt "$stamp" ]; then
    echo "$venv is up to date"
    exit 0
fi

if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends python3-venv
fi

python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --no-deps -r "$requirements"

# A smoke test, because a missing shared library only shows at import time:
# torch must run a convolution and a matrix product on the CPU.
"$venv/bin/python" - <<'EOF'
import torch
import diffusers
import transformers

conv = torch.nn.Conv2d(3, 4, kernel_size=3)
features = conv(torch.ones(1, 3, 8, 8))
product = torch.ones(4, 5) @ torch.ones(5, 6)
assert features.shape == (1, 4, 6, 6), features.shape
assert product[0, 0].item() == 5.0, product
print(f"torch {torch.__version__}, diffusers {diffusers.__version__}, "
      f"transformers {transformers.__version__}: CPU smoke test passed")
EOF

touch "$stamp"
