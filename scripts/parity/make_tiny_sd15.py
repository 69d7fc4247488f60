"""Write a tiny Stable Diffusion 1.5 model with random weights in diffusers layout.

The model has SD 1.5's architecture and configuration fields at a much smaller
width, so that diffusers and our Rust pipelines can be compared on it in
seconds on a CPU:

- unet: UNet2DConditionModel, block_out_channels (32, 64), one layer per block,
  down blocks (CrossAttnDownBlock2D, DownBlock2D), up blocks (UpBlock2D,
  CrossAttnUpBlock2D), cross_attention_dim 32, attention_head_dim 8. With
  --inpainting it takes 9 input channels like SD 1.5's inpainting UNet
  (latents, mask, masked-image latents).
- vae: AutoencoderKL with one DownEncoderBlock2D/UpDecoderBlock2D per entry of
  --vae-block-out-channels, latent_channels 4, norm_num_groups 32, and SD 1.5's
  scaling factor 0.18215. The VAE halves the resolution once per block after
  the first, so the default (32, 64) has a scale factor of 2, not SD 1.5's 8.
- text_encoder: CLIPTextModel, hidden_size 32, 2 layers, 4 heads,
  intermediate_size 37, 77 positions, vocab_size 49408, quick_gelu.
- tokenizer: the real CLIP BPE tokenizer (49408 tokens). vocab.json and
  merges.txt are derived from open_clip/bpe_simple_vocab_16e6.txt.gz in the
  open-clip-torch wheel from PyPI (see build_clip_vocab).
- scheduler: SD 1.5's scheduler_config.json (PNDMScheduler), field for field.

Weights are float32 safetensors under diffusers' standard file names. Each
component is initialised from its own torch seed, derived from --seed.
"""

import argparse
import gzip
import importlib.metadata
import json
import sys
import tempfile
from pathlib import Path

import diffusers
import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

# SD 1.5 uses the first 48894 merges of the 262144 in the BPE file: 49408
# tokens minus 256 byte tokens, 256 byte tokens with "</w>", and 2 specials.
CLIP_VOCAB_SIZE = 49408
CLIP_MERGE_COUNT = CLIP_VOCAB_SIZE - 2 * 256 - 2
CLIP_BOS = "<|startoftext|>"
CLIP_EOS = "<|endoftext|>"
CLIP_MAX_LENGTH = 77

# scheduler/scheduler_config.json of stable-diffusion-v1-5 as published.
# It has no timestep_spacing field, so each scheduler built from it with
# from_config uses its own default ("leading" for DDIM, "linspace" for Euler).
SD15_SCHEDULER_CONFIG = {
    "_class_name": "PNDMScheduler",
    "_diffusers_version": "0.6.0",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
    "clip_sample": False,
}

# tokenizer/tokenizer_config.json of stable-diffusion-v1-5, without its
# machine-specific name_or_path. The padding token is <|endoftext|>.
SD15_TOKENIZER_CONFIG = {
    "add_prefix_space": False,
    "bos_token": {
        "__type": "AddedToken",
        "content": CLIP_BOS,
        "lstrip": False,
        "normalized": True,
        "rstrip": False,
        "single_word": False,
    },
    "do_lower_case": True,
    "eos_token": {
        "__type": "AddedToken",
        "content": CLIP_EOS,
        "lstrip": False,
        "normalized": True,
        "rstrip": False,
        "single_word": False,
    },
    "errors": "replace",
    "model_max_length": CLIP_MAX_LENGTH,
    "pad_token": CLIP_EOS,
    "tokenizer_class": "CLIPTokenizer",
    "unk_token": {
        "__type": "AddedToken",
        "content": CLIP_EOS,
        "lstrip": False,
        "normalized": True,
        "rstrip": False,
        "single_word": False,
    },
}

SD15_SPECIAL_TOKENS_MAP = {
    "bos_token": CLIP_BOS,
    "eos_token": CLIP_EOS,
    "pad_token": CLIP_EOS,
    "unk_token": CLIP_EOS,
}

UNET_WEIGHTS_FILE = "unet/diffusion_pytorch_model.safetensors"
WEIGHTS_FILES = ("text_encoder/model.safetensors", UNET_WEIGHTS_FILE, "vae/diffusion_pytorch_model.safetensors")

# Offsets added to --seed so that each component has its own random stream.
TEXT_ENCODER_SEED_OFFSET = 0
UNET_SEED_OFFSET = 1
VAE_SEED_OFFSET = 2


def read_clip_bpe_merges() -> list[str]:
    """Read the CLIP merges from open_clip's bpe_simple_vocab_16e6.txt.gz.

    The file comes from the installed open-clip-torch distribution, which is
    not imported because it would need torchvision. Its first line is a
    version header. Returns the 48894 merges that CLIP uses, as "left right"
    lines.
    """
    relative_path = "open_clip/bpe_simple_vocab_16e6.txt.gz"
    try:
        distribution = importlib.metadata.distribution("open-clip-torch")
    except importlib.metadata.PackageNotFoundError:
        sys.exit(
            "error: open-clip-torch is not installed; it provides the CLIP BPE "
            "merges. Run scripts/parity/install.sh first."
        )
    path = Path(distribution.locate_file(relative_path))
    if not path.is_file():
        sys.exit(f"error: {path} not found in the open-clip-torch installation")

    lines = gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")
    merges = lines[1 : 1 + CLIP_MERGE_COUNT]
    if len(merges) != CLIP_MERGE_COUNT or any(len(m.split(" ")) != 2 for m in merges):
        sys.exit(f"error: {path} does not contain {CLIP_MERGE_COUNT} BPE merges")
    return merges


def byte_level_alphabet() -> list[str]:
    """Return the 256 characters that byte-level BPE uses for bytes 0..255, in
    vocabulary order.

    Bytes that are printable Latin-1 characters stand for themselves. The
    other bytes map, in increasing byte order, to the code points from 256
    on. The vocabulary lists the printable bytes first, then the others.
    """
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    printable_set = set(printable)
    remapped = [b for b in range(256) if b not in printable_set]
    characters = {b: chr(b) for b in printable}
    for index, byte in enumerate(remapped):
        characters[byte] = chr(256 + index)
    return [characters[b] for b in printable + remapped]


def build_clip_vocab(merges: list[str]) -> dict[str, int]:
    """Build CLIP's token-to-id map from its merges.

    The order is the one of OpenAI's CLIP tokenizer: the 256 byte characters,
    the same 256 with the end-of-word marker "</w>", one token per merge (the
    two parts joined), then <|startoftext|> (49406) and <|endoftext|> (49407).
    """
    alphabet = byte_level_alphabet()
    tokens = alphabet + [character + "</w>" for character in alphabet]
    tokens += [merge.replace(" ", "") for merge in merges]
    tokens += [CLIP_BOS, CLIP_EOS]
    vocab = {token: token_id for token_id, token in enumerate(tokens)}
    if len(vocab) != CLIP_VOCAB_SIZE:
        sys.exit(f"error: built {len(vocab)} distinct CLIP tokens, expected {CLIP_VOCAB_SIZE}")
    return vocab


def write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_tokenizer(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    merges = read_clip_bpe_merges()
    write_json(folder / "vocab.json", build_clip_vocab(merges))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    write_json(folder / "tokenizer_config.json", SD15_TOKENIZER_CONFIG)
    write_json(folder / "special_tokens_map.json", SD15_SPECIAL_TOKENS_MAP)


def make_text_encoder(seed: int) -> CLIPTextModel:
    # bos/eos/pad ids 0, 2, 1 are copied from SD 1.5's text_encoder/config.json.
    # They do not match the tokenizer; CLIPTextModel only uses eos_token_id for
    # the pooled output, which SD 1.5 does not use.
    config = CLIPTextConfig(
        vocab_size=CLIP_VOCAB_SIZE,
        hidden_size=32,
        intermediate_size=37,
        projection_dim=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=CLIP_MAX_LENGTH,
        hidden_act="quick_gelu",
        layer_norm_eps=1e-5,
        attention_dropout=0.0,
        dropout=0.0,
        initializer_range=0.02,
        initializer_factor=1.0,
        bos_token_id=0,
        eos_token_id=2,
        pad_token_id=1,
    )
    torch.manual_seed(seed)
    return CLIPTextModel(config).eval()


def write_text_encoder(folder: Path, text_encoder: CLIPTextModel) -> None:
    """Write the text encoder with SD 1.5's key names ("text_model." prefix).

    transformers 5 saves CLIPTextModel keys without that prefix but loads
    either form. Published SD 1.5 checkpoints have the prefix, which the Rust
    loader must read.
    """
    folder.mkdir(parents=True, exist_ok=True)
    text_encoder.config.save_pretrained(folder)
    state_dict = {f"text_model.{key}": tensor.contiguous() for key, tensor in text_encoder.state_dict().items()}
    save_file(state_dict, folder / "model.safetensors", metadata={"format": "pt"})


def make_unet(seed: int, in_channels: int) -> UNet2DConditionModel:
    torch.manual_seed(seed)
    # attention_head_dim is diffusers' legacy name for the number of heads in
    # SD 1.x configs: 8 heads in every attention layer, so the head size is
    # 32 / 8 = 4 in the first block and 64 / 8 = 8 in the second.
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=in_channels,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        block_out_channels=(32, 64),
        layers_per_block=1,
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=32,
        norm_eps=1e-5,
        act_fn="silu",
        flip_sin_to_cos=True,
        freq_shift=0,
        downsample_padding=1,
        mid_block_scale_factor=1,
        use_linear_projection=False,
    )
    return unet.eval()


def make_vae(seed: int, block_out_channels: tuple[int, ...]) -> AutoencoderKL:
    torch.manual_seed(seed)
    block_count = len(block_out_channels)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * block_count,
        up_block_types=("UpDecoderBlock2D",) * block_count,
        block_out_channels=block_out_channels,
        layers_per_block=1,
        act_fn="silu",
        latent_channels=4,
        norm_num_groups=32,
        sample_size=64,
        scaling_factor=0.18215,
    )
    return vae.eval()


def write_model_index(folder: Path, inpainting: bool) -> None:
    pipeline_class = "StableDiffusionInpaintPipeline" if inpainting else "StableDiffusionPipeline"
    write_json(
        folder / "model_index.json",
        {
            "_class_name": pipeline_class,
            "_diffusers_version": diffusers.__version__,
            "feature_extractor": [None, None],
            "image_encoder": [None, None],
            "requires_safety_checker": False,
            "safety_checker": [None, None],
            "scheduler": ["diffusers", "PNDMScheduler"],
            "text_encoder": ["transformers", "CLIPTextModel"],
            "tokenizer": ["transformers", "CLIPTokenizer"],
            "unet": ["diffusers", "UNet2DConditionModel"],
            "vae": ["diffusers", "AutoencoderKL"],
        },
    )


def describe_weights_file(path: Path) -> list[str]:
    """Return "key dtype shape" for each tensor in a safetensors file, sorted by key."""
    with safe_open(path, framework="pt") as weights:
        return [
            f"{key} {str(weights.get_slice(key).get_dtype()).lower()} {weights.get_slice(key).get_shape()}"
            for key in sorted(weights.keys())
        ]


def write_keys_file(path: Path, model_folder: Path, unet_in_channels: int, alternative_unet_folder: Path) -> None:
    """Write the key, dtype and shape of every tensor in the model's weights files.

    The UNet in `alternative_unet_folder` has the other input channel count
    (4 or 9). Only its entries that differ from the written UNet are listed.
    """
    lines = [
        "# State-dict keys of the tiny SD 1.5 model written by make_tiny_sd15.py,",
        "# one tensor per line: key, dtype, shape. Keys are sorted.",
    ]
    for weights_file in WEIGHTS_FILES:
        entries = describe_weights_file(model_folder / weights_file)
        title = weights_file
        if weights_file.startswith("unet/"):
            title += f" (in_channels {unet_in_channels})"
        lines += ["", f"## {title}: {len(entries)} tensors"]
        lines += entries

    unet_entries = set(describe_weights_file(model_folder / UNET_WEIGHTS_FILE))
    alternative_entries = describe_weights_file(alternative_unet_folder / UNET_WEIGHTS_FILE)
    alternative_in_channels = 4 if unet_in_channels == 9 else 9
    lines += ["", f"## {UNET_WEIGHTS_FILE} with in_channels {alternative_in_channels}: entries that differ"]
    lines += [entry for entry in alternative_entries if entry not in unet_entries]

    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def parse_channels(text: str) -> tuple[int, ...]:
    try:
        channels = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not channels or any(c <= 0 or c % 32 != 0 for c in channels):
        raise argparse.ArgumentTypeError(
            f"expected positive multiples of 32 (norm_num_groups is 32), got {text!r}"
        )
    return channels


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="model folder to write; existing files are overwritten")
    parser.add_argument(
        "--inpainting",
        action="store_true",
        help="write a UNet with 9 input channels, like SD 1.5's inpainting model",
    )
    parser.add_argument("--seed", type=int, default=0, help="base torch seed of the random weights (default 0)")
    parser.add_argument(
        "--vae-block-out-channels",
        type=parse_channels,
        default=(32, 64),
        help="VAE block widths, comma-separated (default 32,64: scale factor 2; "
        "32,32,64,64 gives SD 1.5's scale factor 8)",
    )
    parser.add_argument(
        "--keys-file",
        type=Path,
        help="also write the state-dict keys and shapes of every component to this file",
    )
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    out: Path = arguments.out
    out.mkdir(parents=True, exist_ok=True)

    write_tokenizer(out / "tokenizer")
    tokenizer = CLIPTokenizer.from_pretrained(out / "tokenizer")
    if len(tokenizer) != CLIP_VOCAB_SIZE:
        sys.exit(f"error: the written tokenizer has {len(tokenizer)} tokens, expected {CLIP_VOCAB_SIZE}")

    (out / "scheduler").mkdir(exist_ok=True)
    write_json(out / "scheduler" / "scheduler_config.json", SD15_SCHEDULER_CONFIG)

    text_encoder = make_text_encoder(arguments.seed + TEXT_ENCODER_SEED_OFFSET)
    unet_in_channels = 9 if arguments.inpainting else 4
    unet = make_unet(arguments.seed + UNET_SEED_OFFSET, unet_in_channels)
    vae = make_vae(arguments.seed + VAE_SEED_OFFSET, arguments.vae_block_out_channels)

    write_text_encoder(out / "text_encoder", text_encoder)
    unet.save_pretrained(out / "unet", safe_serialization=True)
    vae.save_pretrained(out / "vae", safe_serialization=True)
    write_model_index(out, arguments.inpainting)

    if arguments.keys_file is not None:
        alternative_in_channels = 4 if arguments.inpainting else 9
        alternative_unet = make_unet(arguments.seed + UNET_SEED_OFFSET, alternative_in_channels)
        with tempfile.TemporaryDirectory() as temporary_folder:
            alternative_unet.save_pretrained(Path(temporary_folder) / "unet", safe_serialization=True)
            write_keys_file(arguments.keys_file, out, unet_in_channels, Path(temporary_folder))

    print(f"wrote a tiny SD 1.5 model with a {unet_in_channels}-channel UNet to {out}")


if __name__ == "__main__":
    main()
