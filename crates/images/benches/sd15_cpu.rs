//! SD 1.5 on the CPU against diffusers: seconds per denoising step and peak
//! memory, on the full-size architecture with seeded random weights at
//! 512×512 (DDIM, guidance 7.5, so two UNet passes per step).
//!
//! Run with `cargo bench -p ddiffusion-images --bench sd15_cpu` after
//! `scripts/parity/install.sh`. It writes the weights once to
//! `target/bench-sd15` (4.3 GB), measures our pipeline in a child process so
//! that its peak memory is its own, then runs `scripts/parity/bench_diffusers.py`
//! on the same folder. `BENCH_STEPS` (default 3) sets the timed steps.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use candle_core::Device;
use ddiffusion_images::fixtures::{diffusers_files, write_full_size_sd15, FIXTURE_COMMIT};
use ddiffusion_images::noise::Noise;
use ddiffusion_images::pipeline::{Architecture, Generation, Inputs, SdPipeline};
use ddiffusion_images::schedulers::Kind;

const SIZE: usize = 512;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn snapshot() -> PathBuf {
    workspace()
        .join("target/bench-sd15/models--bench--sd15-full-size/snapshots")
        .join(FIXTURE_COMMIT)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// Measures our pipeline; runs in a child process.
fn run_ours(steps: usize) {
    let folder = snapshot();
    let files = diffusers_files(&folder);
    let started = Instant::now();
    let pipeline = SdPipeline::load(&files, &Default::default(), &Device::Cpu, Architecture::Sd15).unwrap();
    let load_seconds = started.elapsed().as_secs_f64();

    let generation = |steps| Generation {
        prompt: "a photo of a cat".into(),
        negative_prompt: String::new(),
        width: SIZE,
        height: SIZE,
        steps,
        guidance: 7.5,
        scheduler: Kind::Ddim,
    };
    let mut ignore = |_: usize, _: usize| Ok(());
    pipeline
        .generate_latents(&generation(1), &Inputs::Text, &mut Noise::new(0), &mut ignore)
        .unwrap();

    let mut step_times = Vec::new();
    let mut last = Instant::now();
    let mut on_step = |_: usize, _: usize| {
        step_times.push(last.elapsed().as_secs_f64());
        last = Instant::now();
        Ok(())
    };
    pipeline
        .generate_latents(&generation(steps), &Inputs::Text, &mut Noise::new(0), &mut on_step)
        .unwrap();
    // The first timed step also encodes the prompt, as diffusers' first step does.
    let seconds_per_step = step_times.iter().sum::<f64>() / step_times.len() as f64;
    println!(
        "{{\"seconds_per_step\": {seconds_per_step}, \"load_seconds\": {load_seconds}, \"peak_rss_mib\": {}}}",
        peak_rss_mib()
    );
}

fn parse(output: std::process::Output, who: &str) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{who} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .unwrap_or_else(|| panic!("{who} printed no figures: {text}"));
    serde_json::from_str(line).unwrap()
}

fn main() {
    let steps: usize = std::env::var("BENCH_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    if std::env::args().any(|arg| arg == "--ours") {
        run_ours(steps);
        return;
    }

    if !snapshot().join("unet/diffusion_pytorch_model.safetensors").exists() {
        eprintln!("writing full-size SD 1.5 random weights to target/bench-sd15 ...");
        write_full_size_sd15(&snapshot()).unwrap();
    }
    let ours = parse(
        Command::new(std::env::current_exe().unwrap())
            .arg("--ours")
            .output()
            .unwrap(),
        "our pipeline",
    );
    let python = workspace().join("target/parity-venv/bin/python");
    let theirs = parse(
        Command::new(&python)
            .arg(workspace().join("scripts/parity/bench_diffusers.py"))
            .args([
                "--model",
                snapshot().to_str().unwrap(),
                "--steps",
                &steps.to_string(),
                "--size",
                &SIZE.to_string(),
            ])
            .output()
            .expect("run scripts/parity/install.sh first"),
        "diffusers",
    );

    let figure = |value: &serde_json::Value, key: &str| value[key].as_f64().unwrap();
    println!(
        "| measure | Deferred Diffusion (candle) | diffusers (torch {}) | ratio (ours / diffusers) |",
        theirs["torch"].as_str().unwrap_or("?")
    );
    println!("|---|---|---|---|");
    for (label, key) in [
        ("seconds per step", "seconds_per_step"),
        ("peak RSS, MiB", "peak_rss_mib"),
        ("load, seconds", "load_seconds"),
    ] {
        let (a, b) = (figure(&ours, key), figure(&theirs, key));
        println!("| {label} | {a:.2} | {b:.2} | {:.2} |", a / b);
    }
}
