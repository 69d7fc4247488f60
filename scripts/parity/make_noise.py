"""Write a noise file for sd_reference.py: standard normal float32 tensors from
a seeded torch generator.

Tensors, each [1, latent_channels, height / f, width / f] with f the VAE scale
factor: `noise` (initial latent noise), `step_noise_0` .. `step_noise_<steps-1>`
(per-step noise of ancestral schedulers) and, with --encoder-noise K,
`encoder_noise_0` .. `encoder_noise_<K-1>` (samples of the VAE encoder's
latent distribution). They are drawn in that order from one generator.
"""

import argparse
from pathlib import Path

import torch
from safetensors.torch import save_file


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="safetensors file to write")
    parser.add_argument("--width", type=int, required=True, help="image width in pixels")
    parser.add_argument("--height", type=int, required=True, help="image height in pixels")
    parser.add_argument(
        "--vae-scale-factor",
        type=int,
        required=True,
        help="image pixels per latent pixel: 8 for SD 1.5, 2 for the default tiny model",
    )
    parser.add_argument("--steps", type=int, default=0, help="number of step_noise tensors (default 0)")
    parser.add_argument("--encoder-noise", type=int, default=0, help="number of encoder_noise tensors (default 0)")
    parser.add_argument("--latent-channels", type=int, default=4, help="latent channels (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="torch generator seed (default 0)")
    arguments = parser.parse_args()

    scale = arguments.vae_scale_factor
    if scale < 1 or arguments.width % scale or arguments.height % scale:
        parser.error(f"--width and --height must be multiples of --vae-scale-factor {scale}")
    if arguments.steps < 0 or arguments.encoder_noise < 0:
        parser.error("--steps and --encoder-noise must not be negative")
    return arguments


def main() -> None:
    arguments = parse_arguments()
    shape = (
        1,
        arguments.latent_channels,
        arguments.height // arguments.vae_scale_factor,
        arguments.width // arguments.vae_scale_factor,
    )
    generator = torch.Generator().manual_seed(arguments.seed)

    names = ["noise"]
    names += [f"step_noise_{i}" for i in range(arguments.steps)]
    names += [f"encoder_noise_{i}" for i in range(arguments.encoder_noise)]
    tensors = {name: torch.randn(shape, generator=generator, dtype=torch.float32) for name in names}

    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, arguments.out, metadata={"seed": str(arguments.seed)})
    print(f"wrote {len(tensors)} tensors of shape {list(shape)} to {arguments.out}")


if __name__ == "__main__":
    main()
