"""Run a Stable Diffusion 1.x, 2.x or XL pipeline with diffusers on the CPU in
float32 and save reference tensors for the parity tests of the Rust pipelines.

The model folder must be in diffusers layout (model_index.json, scheduler/,
text_encoder/, tokenizer/, unet/, vae/, and text_encoder_2/ and tokenizer_2/
for SDXL) with safetensors weights. The SDXL pipelines are used when
model_index.json names StableDiffusionXLPipeline; for them an empty
--negative-prompt is passed as None, so that models with
force_zeros_for_empty_prompt use zero negative embeddings. Without
--image the run is text-to-image, with --image image-to-image, and with
--image and --mask inpainting.

All randomness comes from the --noise safetensors file, so that Rust can use
the same numbers. diffusers draws random tensors through `randn_tensor`, and
this script replaces that function in three modules:

- pipeline module: the initial latent noise is the tensor `noise`, float32
  [1, 4, H / f, W / f], where f is the VAE scale factor (8 for SD 1.5). For
  text-to-image and inpainting at strength 1 the first latents are
  `noise * init_noise_sigma`. For image-to-image, and inpainting below
  strength 1, they are `scheduler.add_noise(image_latents, noise, t0)`.
- scheduler module: stochastic schedulers (euler_a) draw one tensor per
  denoising step. Step i (0-based, in the order of the steps that run) uses
  `step_noise_<i>`, same shape as `noise`. Step i first computes the Euler
  step down to sigma_down and then adds `step_noise_<i> * sigma_up`; the last
  step also draws a tensor but multiplies it by sigma_up = 0.
- VAE module: each sample of the encoder's latent distribution (image-to-image
  and inpainting) uses `encoder_noise_<k>`, in call order, or zeros when the
  file has no such tensor. Zeros give the distribution's mean. For inpainting,
  the order is the init image (only below strength 1, or with a 4-channel
  UNet) and then the masked image.

A missing tensor, or a tensor of the wrong shape or dtype, stops the run.

Tensors in the output file (B = 2 when guidance > 1, the unconditional half
first, else 1; h = H / f, w = W / f):

  input_ids               int64 [1, 77]  token ids of --prompt, BOS first, EOS
                          last, padded with <|endoftext|> (49407), truncated
                          to 77
  negative_input_ids      int64 [1, 77]  the same for --negative-prompt
  prompt_embeds           float32 [1, 77, D]  CLIPTextModel last_hidden_state
                          (after final_layer_norm) for --prompt
  negative_prompt_embeds  float32 [1, 77, D]  the same for --negative-prompt;
                          computed even when guidance <= 1 disables it
  pooled_prompt_embeds    float32 [1, P]  SDXL only: projected pooled output
                          of the second text encoder for --prompt
  negative_pooled_prompt_embeds  float32 [1, P]  SDXL only: the same for
                          the negative prompt
  add_time_ids            float32 [B, 6]  SDXL only: size and crop ids
                          passed to the UNet
  timesteps               [N]  timesteps of the steps that ran, in order;
                          int64 for ddim and dpmpp_2m_karras, float32 for
                          euler and euler_a
  sigmas                  float32 [M + 1]  the scheduler's whole sigma
                          schedule, ending with 0 (not for ddim)
  init_noise_sigma        float32 []  the scheduler's init_noise_sigma
  initial_latents         float32 [1, 4, h, w]  latents entering step 0
  unet_input_step_0       float32 [B, C, h, w]  UNet input at step 0, after
                          scale_model_input (C = 9 for inpainting UNets)
  unet_timestep_step_0    the timestep passed to the UNet at step 0
  unet_output_step_0      float32 [B, 4, h, w]  UNet output at step 0,
                          before classifier-free guidance
  latents_step_<i>        float32 [1, 4, h, w]  latents after step i (after
                          the mask blend of 4-channel inpainting)
  final_latents           float32 [1, 4, h, w]  latents after the last step,
                          before the division by the VAE scaling factor
  image                   float32 [1, 3, H, W]  decoded image in [0, 1]
  init_image              float32 [1, 3, H, W]  --image scaled to [-1, 1]
                          (image-to-image and inpainting)
  mask                    float32 [1, 1, H, W]  --mask binarised to 0 or 1,
                          1 = repaint (inpainting)
  mask_latents            float32 [1, 1, h, w]  mask resized to latent size
  masked_image_latents    float32 [1, 4, h, w]  VAE latents of the masked
                          image, times the scaling factor

The safetensors metadata records the arguments, the scheduler's class and
config, and the diffusers, transformers and torch versions.
"""

import argparse
import functools
import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

# Load local files only, so that a wrong path fails instead of trying the Hugging Face Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import diffusers  # noqa: E402
import PIL.Image  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from diffusers import (  # noqa: E402
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    StableDiffusionImg2ImgPipeline,
    StableDiffusionInpaintPipeline,
    StableDiffusionPipeline,
    StableDiffusionXLImg2ImgPipeline,
    StableDiffusionXLInpaintPipeline,
    StableDiffusionXLPipeline,
)
from diffusers.models.autoencoders import vae as vae_module  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

# Scheduler names accepted by --scheduler: the diffusers class and the
# overrides applied on top of the model's scheduler config.
SCHEDULERS = {
    "ddim": (DDIMScheduler, {}),
    "euler": (EulerDiscreteScheduler, {}),
    "euler_a": (EulerAncestralDiscreteScheduler, {}),
    "dpmpp_2m_karras": (
        DPMSolverMultistepScheduler,
        {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True},
    ),
}

# Strength defaults of diffusers' image-to-image and inpainting pipelines.
DEFAULT_IMG2IMG_STRENGTH = 0.8
DEFAULT_INPAINT_STRENGTH = 1.0


class InvalidInputError(Exception):
    """An invalid input; main() prints the message and exits with status 2."""


class NoiseFeed:
    """Serve the tensors of the noise file in place of diffusers' randn_tensor."""

    def __init__(self, tensors: dict[str, torch.Tensor], noise_path: Path, scheduler_name: str):
        self.tensors = tensors
        self.noise_path = noise_path
        self.scheduler_name = scheduler_name
        self.initial_noise_draws = 0
        self.step_noise_draws = 0
        self.encoder_noise_draws = 0
        self.encoder_noise_from_file = 0

    def take(self, name: str, shape, dtype) -> torch.Tensor:
        tensor = self.tensors[name]
        expected_shape = list(shape)
        if list(tensor.shape) != expected_shape or tensor.dtype != torch.float32:
            raise InvalidInputError(
                f"tensor {name} in {self.noise_path} is {tensor.dtype} {list(tensor.shape)}, "
                f"expected torch.float32 {expected_shape}; write a noise file for this image size "
                f"and model with make_noise.py"
            )
        return tensor.clone().to(dtype=dtype or torch.float32)

    def initial_noise(self, shape, generator=None, device=None, dtype=None, layout=None) -> torch.Tensor:
        self.initial_noise_draws += 1
        if self.initial_noise_draws > 1:
            raise InvalidInputError("the pipeline drew initial noise twice; this script expects one draw")
        if "noise" not in self.tensors:
            raise InvalidInputError(f"{self.noise_path} has no tensor named noise, shape {list(shape)}")
        return self.take("noise", shape, dtype)

    def step_noise(self, shape, generator=None, device=None, dtype=None, layout=None) -> torch.Tensor:
        name = f"step_noise_{self.step_noise_draws}"
        self.step_noise_draws += 1
        if name not in self.tensors:
            raise InvalidInputError(
                f"{self.noise_path} has no tensor named {name}: the {self.scheduler_name} scheduler "
                f"draws one float32 {list(shape)} tensor per denoising step"
            )
        return self.take(name, shape, dtype)

    def encoder_noise(self, shape, generator=None, device=None, dtype=None, layout=None) -> torch.Tensor:
        name = f"encoder_noise_{self.encoder_noise_draws}"
        self.encoder_noise_draws += 1
        if name not in self.tensors:
            return torch.zeros(shape, dtype=dtype or torch.float32)
        self.encoder_noise_from_file += 1
        return self.take(name, shape, dtype)

    def unused_tensor_names(self) -> list[str]:
        used = {"noise"}
        used.update(f"step_noise_{i}" for i in range(self.step_noise_draws))
        used.update(f"encoder_noise_{i}" for i in range(self.encoder_noise_draws))
        return sorted(set(self.tensors) - used)


class RunRecorder:
    """Record the scheduler's first input, the UNet's step-0 call and the latents
    after every step, through a scheduler.step wrapper, a UNet forward hook and
    the pipeline's callback_on_step_end."""

    def __init__(self):
        self.initial_latents: torch.Tensor | None = None
        self.unet_input: torch.Tensor | None = None
        self.unet_timestep: torch.Tensor | None = None
        self.unet_output: torch.Tensor | None = None
        self.timesteps: list[torch.Tensor] = []
        self.step_latents: list[torch.Tensor] = []
        self.mask_latents: torch.Tensor | None = None
        self.masked_image_latents: torch.Tensor | None = None
        self.add_time_ids: torch.Tensor | None = None

    def wrap_scheduler_step(self, scheduler) -> None:
        original_step = scheduler.step

        # functools.wraps keeps the signature, which the pipeline inspects to
        # decide whether to pass eta and generator.
        @functools.wraps(original_step)
        def recording_step(model_output, timestep, sample, *args, **kwargs):
            if self.initial_latents is None:
                self.initial_latents = sample.detach().clone()
            return original_step(model_output, timestep, sample, *args, **kwargs)

        scheduler.step = recording_step

    def unet_hook(self, module, args, kwargs, output) -> None:
        if self.unet_output is not None:
            return
        sample = args[0] if args else kwargs["sample"]
        timestep = args[1] if len(args) > 1 else kwargs["timestep"]
        self.unet_input = sample.detach().clone()
        self.unet_timestep = torch.as_tensor(timestep).detach().clone()
        self.unet_output = output[0].detach().clone()

    def on_step_end(self, pipeline, step_index, timestep, callback_kwargs) -> dict:
        self.timesteps.append(torch.as_tensor(timestep).detach().clone())
        self.step_latents.append(callback_kwargs["latents"].detach().clone())
        if "mask" in callback_kwargs and self.mask_latents is None:
            # The pipeline doubles both for classifier-free guidance. The two
            # halves are equal, so one of them is kept.
            self.mask_latents = callback_kwargs["mask"][-1:].detach().clone()
            self.masked_image_latents = callback_kwargs["masked_image_latents"][-1:].detach().clone()
        if "add_time_ids" in callback_kwargs and self.add_time_ids is None:
            self.add_time_ids = callback_kwargs["add_time_ids"].detach().clone()
        return {}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run Stable Diffusion 1.x, 2.x or XL with diffusers on the CPU and save reference tensors.",
        epilog="See the top of this file for the tensors in the noise and output files.",
    )
    parser.add_argument("--model", type=Path, required=True, help="model folder in diffusers layout")
    parser.add_argument("--out", type=Path, required=True, help="safetensors file to write")
    parser.add_argument("--prompt", required=True, help="text prompt")
    parser.add_argument("--negative-prompt", default="", help="negative prompt (default: empty)")
    parser.add_argument("--steps", type=int, required=True, help="number of inference steps")
    parser.add_argument("--guidance", type=float, default=7.5, help="classifier-free guidance scale (default 7.5)")
    parser.add_argument("--scheduler", choices=sorted(SCHEDULERS), default="ddim", help="scheduler (default ddim)")
    parser.add_argument("--width", type=int, required=True, help="image width in pixels, a multiple of 8")
    parser.add_argument("--height", type=int, required=True, help="image height in pixels, a multiple of 8")
    parser.add_argument("--noise", type=Path, required=True, help="safetensors file with the noise tensors")
    parser.add_argument("--image", type=Path, help="init image (PNG or JPEG) of exactly --width x --height")
    parser.add_argument(
        "--strength",
        type=float,
        help=f"share of the schedule to run on --image, in (0, 1] "
        f"(default {DEFAULT_IMG2IMG_STRENGTH} for image-to-image, {DEFAULT_INPAINT_STRENGTH} for inpainting)",
    )
    parser.add_argument(
        "--mask",
        type=Path,
        help="inpainting mask of exactly --width x --height; white pixels are repainted",
    )
    arguments = parser.parse_args()

    if arguments.mask is not None and arguments.image is None:
        parser.error("--mask needs --image")
    if arguments.strength is not None and arguments.image is None:
        parser.error("--strength needs --image")
    if arguments.strength is not None and not 0.0 < arguments.strength <= 1.0:
        parser.error(f"--strength must be in (0, 1], got {arguments.strength}")
    if arguments.steps < 1:
        parser.error(f"--steps must be at least 1, got {arguments.steps}")
    return arguments


def open_image(path: Path, mode: str, width: int, height: int) -> PIL.Image.Image:
    """Open an image in the PIL mode `mode` and check its size, because diffusers
    would otherwise resize it with a PIL filter that the Rust side need not match."""
    try:
        image = PIL.Image.open(path)
        image.load()
    except (OSError, PIL.UnidentifiedImageError) as error:
        raise InvalidInputError(f"cannot read image {path}: {error}")
    if image.size != (width, height):
        raise InvalidInputError(f"{path} is {image.size[0]}x{image.size[1]}, expected {width}x{height}")
    return image.convert(mode)


def is_sdxl(model: Path) -> bool:
    index = model / "model_index.json"
    if not index.is_file():
        raise InvalidInputError(f"{model} has no model_index.json; expected a diffusers model folder")
    return json.loads(index.read_text()).get("_class_name") == "StableDiffusionXLPipeline"


def load_pipeline(arguments: argparse.Namespace):
    if is_sdxl(arguments.model):
        classes = (StableDiffusionXLPipeline, StableDiffusionXLImg2ImgPipeline, StableDiffusionXLInpaintPipeline)
        extra = {}
    else:
        classes = (StableDiffusionPipeline, StableDiffusionImg2ImgPipeline, StableDiffusionInpaintPipeline)
        extra = {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}
    if arguments.mask is not None:
        pipeline_class = classes[2]
    elif arguments.image is not None:
        pipeline_class = classes[1]
    else:
        pipeline_class = classes[0]

    pipeline = pipeline_class.from_pretrained(
        arguments.model,
        dtype=torch.float32,
        use_safetensors=True,
        local_files_only=True,
        **extra,
    )
    pipeline.set_progress_bar_config(disable=True)

    # from_config ignores the fields that the new class lacks, and fields
    # missing from the model's file keep the new class's defaults. SD 1.5's
    # file has no timestep_spacing, so DDIM uses "leading" and Euler
    # "linspace".
    scheduler_class, overrides = SCHEDULERS[arguments.scheduler]
    pipeline.scheduler = scheduler_class.from_config(pipeline.scheduler.config, **overrides)
    return pipeline


def tokenize(pipeline, text: str) -> torch.Tensor:
    """Tokenize like StableDiffusionPipeline.encode_prompt does."""
    tokenizer = pipeline.tokenizer
    return tokenizer(
        text,
        padding="max_length",
        max_length=tokenizer.model_max_length,
        truncation=True,
        return_tensors="pt",
    ).input_ids.to(torch.int64)


def build_metadata(arguments: argparse.Namespace, pipeline, mode: str, strength, feed: NoiseFeed) -> dict[str, str]:
    if feed.encoder_noise_draws == 0:
        encoder_sampling = "not used"
    elif feed.encoder_noise_from_file == feed.encoder_noise_draws:
        encoder_sampling = "encoder_noise tensors from the noise file"
    else:
        encoder_sampling = "distribution mean (zero noise) for draws without an encoder_noise tensor"
    return {
        "format": "pt",
        "mode": mode,
        "model": str(arguments.model),
        "prompt": arguments.prompt,
        "negative_prompt": arguments.negative_prompt,
        "steps": str(arguments.steps),
        "guidance": repr(arguments.guidance),
        "width": str(arguments.width),
        "height": str(arguments.height),
        "strength": "" if strength is None else repr(strength),
        "scheduler": arguments.scheduler,
        "scheduler_class": type(pipeline.scheduler).__name__,
        "scheduler_config": json.dumps(dict(pipeline.scheduler.config), default=str, sort_keys=True),
        "vae_scale_factor": str(pipeline.vae_scale_factor),
        "vae_scaling_factor": repr(pipeline.vae.config.scaling_factor),
        "encoder_sampling": encoder_sampling,
        "step_noise_used": str(feed.step_noise_draws),
        "diffusers_version": diffusers.__version__,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
    }


def run(arguments: argparse.Namespace) -> None:
    if not arguments.noise.is_file():
        raise InvalidInputError(f"noise file {arguments.noise} not found")
    noise_tensors = load_file(arguments.noise)

    pipeline = load_pipeline(arguments)
    scale = pipeline.vae_scale_factor
    if arguments.width % scale or arguments.height % scale:
        raise InvalidInputError(f"--width and --height must be multiples of the VAE scale factor {scale}")

    if arguments.mask is not None:
        mode = "inpaint"
        strength = DEFAULT_INPAINT_STRENGTH if arguments.strength is None else arguments.strength
    elif arguments.image is not None:
        mode = "img2img"
        strength = DEFAULT_IMG2IMG_STRENGTH if arguments.strength is None else arguments.strength
    else:
        mode = "txt2img"
        strength = None

    tensors: dict[str, torch.Tensor] = {}
    call_arguments = {}
    if arguments.image is not None:
        image = open_image(arguments.image, "RGB", arguments.width, arguments.height)
        call_arguments["image"] = image
        call_arguments["strength"] = strength
        tensors["init_image"] = pipeline.image_processor.preprocess(
            image, height=arguments.height, width=arguments.width
        )
    if arguments.mask is not None:
        mask = open_image(arguments.mask, "L", arguments.width, arguments.height)
        call_arguments["mask_image"] = mask
        tensors["mask"] = pipeline.mask_processor.preprocess(mask, height=arguments.height, width=arguments.width)

    sdxl = is_sdxl(arguments.model)
    with torch.no_grad():
        if sdxl:
            prompt_embeds, negative_prompt_embeds, pooled, negative_pooled = pipeline.encode_prompt(
                prompt=arguments.prompt,
                device=torch.device("cpu"),
                num_images_per_prompt=1,
                do_classifier_free_guidance=True,
                negative_prompt=arguments.negative_prompt or None,
            )
            call_arguments["pooled_prompt_embeds"] = pooled
            call_arguments["negative_pooled_prompt_embeds"] = negative_pooled
            tensors["pooled_prompt_embeds"] = pooled
            tensors["negative_pooled_prompt_embeds"] = negative_pooled
        else:
            prompt_embeds, negative_prompt_embeds = pipeline.encode_prompt(
                arguments.prompt,
                torch.device("cpu"),
                num_images_per_prompt=1,
                do_classifier_free_guidance=True,
                negative_prompt=arguments.negative_prompt,
            )
    tensors["input_ids"] = tokenize(pipeline, arguments.prompt)
    tensors["negative_input_ids"] = tokenize(pipeline, arguments.negative_prompt)
    tensors["prompt_embeds"] = prompt_embeds
    tensors["negative_prompt_embeds"] = negative_prompt_embeds

    feed = NoiseFeed(noise_tensors, arguments.noise, arguments.scheduler)
    recorder = RunRecorder()
    recorder.wrap_scheduler_step(pipeline.scheduler)
    callback_inputs = ["latents"]
    if mode == "inpaint":
        callback_inputs += ["mask", "masked_image_latents"]
    if sdxl:
        callback_inputs += ["add_time_ids"]

    pipeline_module = sys.modules[type(pipeline).__module__]
    scheduler_module = sys.modules[type(pipeline.scheduler).__module__]
    with ExitStack() as patches, torch.no_grad():
        patches.enter_context(mock.patch.object(pipeline_module, "randn_tensor", feed.initial_noise))
        patches.enter_context(mock.patch.object(scheduler_module, "randn_tensor", feed.step_noise))
        patches.enter_context(mock.patch.object(vae_module, "randn_tensor", feed.encoder_noise))
        hook = pipeline.unet.register_forward_hook(recorder.unet_hook, with_kwargs=True)
        try:
            result = pipeline(
                prompt_embeds=prompt_embeds,
                negative_prompt_embeds=negative_prompt_embeds,
                num_inference_steps=arguments.steps,
                guidance_scale=arguments.guidance,
                height=arguments.height,
                width=arguments.width,
                output_type="pt",
                callback_on_step_end=recorder.on_step_end,
                callback_on_step_end_tensor_inputs=callback_inputs,
                **call_arguments,
            )
        finally:
            hook.remove()

    if feed.initial_noise_draws != 1:
        raise InvalidInputError(f"the pipeline drew initial noise {feed.initial_noise_draws} times, expected once")
    unused = feed.unused_tensor_names()
    if unused:
        print(f"warning: tensors in {arguments.noise} that this run did not use: {', '.join(unused)}", file=sys.stderr)

    tensors["timesteps"] = torch.stack(recorder.timesteps)
    if getattr(pipeline.scheduler, "sigmas", None) is not None:
        tensors["sigmas"] = pipeline.scheduler.sigmas.to(torch.float32)
    tensors["init_noise_sigma"] = torch.tensor(float(pipeline.scheduler.init_noise_sigma), dtype=torch.float32)
    tensors["initial_latents"] = recorder.initial_latents
    tensors["unet_input_step_0"] = recorder.unet_input
    tensors["unet_timestep_step_0"] = recorder.unet_timestep
    tensors["unet_output_step_0"] = recorder.unet_output
    for index, latents in enumerate(recorder.step_latents):
        tensors[f"latents_step_{index}"] = latents
    tensors["final_latents"] = recorder.step_latents[-1].clone()
    tensors["image"] = result.images.to(torch.float32)
    if sdxl:
        tensors["add_time_ids"] = recorder.add_time_ids.to(torch.float32)
    if mode == "inpaint":
        tensors["mask_latents"] = recorder.mask_latents
        tensors["masked_image_latents"] = recorder.masked_image_latents

    metadata = build_metadata(arguments, pipeline, mode, strength, feed)
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    save_file({name: tensor.detach().contiguous() for name, tensor in tensors.items()}, arguments.out, metadata)
    print(
        f"wrote {len(tensors)} tensors to {arguments.out} "
        f"({mode}, {arguments.scheduler}, {len(recorder.timesteps)} steps)"
    )


def main() -> None:
    arguments = parse_arguments()
    try:
        run(arguments)
    except InvalidInputError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
