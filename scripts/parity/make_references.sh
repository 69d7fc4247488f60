#!/usr/bin/env bash
# Regenerates the committed parity references: writes the tiny SD 1.5, 2.1 and XL fixtures
# and the noise of each case with our Rust code, runs diffusers on them
# (sd_reference.py), and keeps the tensors the Rust test compares in
# crates/images/tests/parity/. Needs scripts/parity/install.sh first.
set -euo pipefail
cd "$(dirname "$0")/../.."

py=target/parity-venv/bin/python
work=target/parity/rust
out=crates/images/tests/parity
rm -rf "$work"
cargo run -q -p ddiffusion-images --example parity_inputs -- "$work" > "$work.cases" || {
    cat "$work.cases"
    exit 1
}
mkdir -p "$out"

# Case name → sd_reference.py arguments; keep in step with CASES in crates/images/src/parity.rs.
declare -A args=(
    [txt2img-ddim]="--scheduler ddim"
    [txt2img-euler]="--scheduler euler"
    [txt2img-euler-a]="--scheduler euler_a"
    [img2img-ddim]="--scheduler ddim --image $work/plate.png --strength 0.5"
    [img2img-euler-a]="--scheduler euler_a --image $work/plate.png --strength 0.75"
    [inpaint-ddim]="--scheduler ddim --image $work/plate.png --mask $work/mask.png --strength 1.0"
    [inpaint-euler]="--scheduler euler --image $work/plate.png --mask $work/mask.png --strength 0.75"
    [sd21-txt2img-ddim]="--scheduler ddim"
    [sd21-txt2img-euler]="--scheduler euler"
    [sd21-img2img-euler-a]="--scheduler euler_a --image $work/plate.png --strength 0.5"
    [txt2img-dpmpp]="--scheduler dpmpp_2m_karras"
    [img2img-dpmpp]="--scheduler dpmpp_2m_karras --image $work/plate.png --strength 0.75"
    [sd21-txt2img-dpmpp]="--scheduler dpmpp_2m_karras"
    [sdxl-txt2img-euler]="--scheduler euler"
    [sdxl-txt2img-dpmpp-zero-negative]="--scheduler dpmpp_2m_karras --negative-prompt="
    [sdxl-img2img-euler-a]="--scheduler euler_a --image $work/plate.png --strength 0.75"
    [sdxl-inpaint-ddim]="--scheduler ddim --image $work/plate.png --mask $work/mask.png --strength 1.0"
    [sdxl-inpaint-euler]="--scheduler euler --image $work/plate.png --mask $work/mask.png --strength 0.75"
)

while read -r case; do
    family=sd15
    case "$case" in sd21-*) family=sd21 ;; sdxl-*) family=sdxl ;; esac
    model="$work/$family-model"
    case "$case" in *inpaint-*) model="$work/$family-inpaint-model" ;; esac
    # shellcheck disable=SC2086
    "$py" scripts/parity/sd_reference.py --model "$model" --out "$work/ref-$case.safetensors" \
        --prompt "a photo of a cat" --negative-prompt "blurry" --steps 4 --guidance 7.5 \
        --width 64 --height 64 --noise "$work/noise-$case.safetensors" ${args[$case]} 2>/dev/null
    "$py" - "$work/ref-$case.safetensors" "$out/$case.safetensors" <<'PY'
import sys
from safetensors.numpy import load_file, save_file

kept = ["input_ids", "prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds",
        "negative_pooled_prompt_embeds", "add_time_ids", "latents_step_0", "final_latents", "image"]
tensors = load_file(sys.argv[1])
save_file({name: tensors[name] for name in kept if name in tensors}, sys.argv[2],
          metadata={"source": "diffusers via scripts/parity/sd_reference.py"})
PY
    echo "wrote $out/$case.safetensors"
done < "$work.cases"
