"""Time diffusers' StableDiffusionPipeline on the CPU for the SD 1.5 benchmark.

Runs text-to-image at the given size with float32 weights from --model (a
folder in diffusers layout), after one warm-up step, and prints one JSON line:
seconds per denoising step, load time, and peak resident memory of this
process in MiB (ru_maxrss). The Rust bench binary `sd15_cpu` calls it on the
same weights in the same run.
"""

import argparse
import json
import resource
import time

import torch
from diffusers import DDIMScheduler, StableDiffusionPipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="SD 1.5 folder in diffusers layout")
    parser.add_argument("--steps", type=int, default=3, help="denoising steps to time")
    parser.add_argument("--size", type=int, default=512, help="width and height in pixels")
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 keeps torch's default")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    started = time.perf_counter()
    pipe = StableDiffusionPipeline.from_pretrained(args.model, torch_dtype=torch.float32, safety_checker=None)
    pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    load_seconds = time.perf_counter() - started

    step_times = []
    last = [time.perf_counter()]

    def on_step(pipeline, step, timestep, kwargs):
        now = time.perf_counter()
        step_times.append(now - last[0])
        last[0] = now
        return kwargs

    generator = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        pipe("warm up", num_inference_steps=1, width=args.size, height=args.size, generator=generator, output_type="latent")
        last[0] = time.perf_counter()
        step_times.clear()
        pipe(
            "a photo of a cat",
            num_inference_steps=args.steps,
            width=args.size,
            height=args.size,
            generator=generator,
            output_type="latent",
            callback_on_step_end=on_step,
        )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "seconds_per_step": sum(step_times) / len(step_times),
        "load_seconds": load_seconds,
        "peak_rss_mib": peak_mib,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
