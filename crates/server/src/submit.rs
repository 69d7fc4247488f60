//! `ddiffusion submit`: send a request, show progress, download the outputs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use base64::Engine as _;
use clap::{Args, Subcommand};
use client::Client;
use indicatif::{ProgressBar, ProgressStyle};
use protocol::{Domain, TaskStatus};
use serde_json::{json, Map, Value};

#[derive(Debug, Subcommand)]
pub enum SubmitCommand {
    /// Generate or transform an image.
    Images(ImageArgs),
    /// Generate text, optionally about images or videos.
    Texts(TextArgs),
    /// Generate or transform a video.
    Videos(VideoArgs),
}

#[derive(Debug, Args)]
pub struct Common {
    /// Folder for the downloaded outputs.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Print the task ID and return without waiting.
    #[arg(long)]
    no_wait: bool,
}

#[derive(Debug, Args)]
pub struct ImageArgs {
    #[arg(long)]
    model: String,
    #[arg(long)]
    prompt: Option<String>,
    /// Width in pixels; an input image's size replaces it.
    #[arg(long)]
    width: Option<i64>,
    /// Height in pixels; an input image's size replaces it.
    #[arg(long)]
    height: Option<i64>,
    /// Seed of the random noise; the same seed gives the same result.
    #[arg(long, allow_negative_numbers = true)]
    seed: Option<i64>,
    /// Strength of the transformation of the input image, 0.0 to 1.0.
    #[arg(long)]
    strength: Option<f64>,
    /// Input image file for image-to-image or inpainting.
    #[arg(long)]
    image: Option<PathBuf>,
    /// Mask file for inpainting; white marks the area to change.
    #[arg(long)]
    mask: Option<PathBuf>,
    /// Reference image file; repeat for several.
    #[arg(long = "reference")]
    references: Vec<PathBuf>,
    /// Denoising steps [default: the model's].
    #[arg(long)]
    steps: Option<i64>,
    /// Classifier-free guidance scale [default: the model's].
    #[arg(long)]
    guidance_scale: Option<f64>,
    /// Scheduler: ddim, euler, euler_a or dpmpp_2m_karras [default: the model's].
    #[arg(long)]
    scheduler: Option<String>,
    /// Negative prompt [default: the model's].
    #[arg(long)]
    negative_prompt: Option<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub struct TextArgs {
    #[arg(long)]
    model: String,
    #[arg(long)]
    prompt: Option<String>,
    /// NONE, BASE, IMAGE_OPTIMIZER, VIDEO_OPTIMIZER or VIDEO_TRANSITION.
    #[arg(long)]
    system_prompt: Option<String>,
    /// Image file to ask about; repeat for several.
    #[arg(long = "image")]
    images: Vec<PathBuf>,
    /// Video file to ask about; repeat for several.
    #[arg(long = "video")]
    videos: Vec<PathBuf>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub struct VideoArgs {
    #[arg(long)]
    model: String,
    #[arg(long)]
    prompt: Option<String>,
    #[arg(long)]
    width: Option<i64>,
    #[arg(long)]
    height: Option<i64>,
    /// Number of frames, 24 to 250.
    #[arg(long)]
    num_frames: Option<i64>,
    /// Seed of the random noise; the same seed gives the same result.
    #[arg(long, allow_negative_numbers = true)]
    seed: Option<i64>,
    /// First frame or reference image file.
    #[arg(long)]
    image: Option<PathBuf>,
    /// Last frame image file; needs --image.
    #[arg(long)]
    last_image: Option<PathBuf>,
    /// Input video file for video-to-video or upscaling.
    #[arg(long)]
    video: Option<PathBuf>,
    /// Ask for an audio track where the model supports it.
    #[arg(long)]
    generate_audio: bool,
    #[command(flatten)]
    common: Common,
}

fn encode_file(path: &Path) -> anyhow::Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("could not read {}", path.display()))?;
    Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)))
}

fn put(body: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        body.insert(key.to_owned(), value);
    }
}

/// Builds the request body; options left out take the server's defaults.
fn request_body(command: &SubmitCommand) -> anyhow::Result<(Domain, Value, &Common)> {
    let mut body = Map::new();
    let file = |path: &Option<PathBuf>| path.as_deref().map(encode_file).transpose();
    let files = |paths: &[PathBuf]| paths.iter().map(|p| encode_file(p)).collect::<anyhow::Result<Vec<_>>>();
    match command {
        SubmitCommand::Images(args) => {
            body.insert("model".into(), json!(args.model));
            put(&mut body, "prompt", args.prompt.clone().map(Value::from));
            put(&mut body, "width", args.width.map(Value::from));
            put(&mut body, "height", args.height.map(Value::from));
            put(&mut body, "seed", args.seed.map(Value::from));
            put(&mut body, "strength", args.strength.map(Value::from));
            put(&mut body, "image", file(&args.image)?);
            put(&mut body, "mask", file(&args.mask)?);
            put(&mut body, "steps", args.steps.map(Value::from));
            put(&mut body, "guidance_scale", args.guidance_scale.map(Value::from));
            put(&mut body, "scheduler", args.scheduler.clone().map(Value::from));
            put(
                &mut body,
                "negative_prompt",
                args.negative_prompt.clone().map(Value::from),
            );
            let references: Vec<Value> = files(&args.references)?
                .into_iter()
                .map(|image| json!({ "image": image }))
                .collect();
            body.insert("references".into(), Value::Array(references));
            Ok((Domain::Images, Value::Object(body), &args.common))
        }
        SubmitCommand::Texts(args) => {
            body.insert("model".into(), json!(args.model));
            put(&mut body, "prompt", args.prompt.clone().map(Value::from));
            put(&mut body, "system_prompt", args.system_prompt.clone().map(Value::from));
            body.insert("images".into(), Value::Array(files(&args.images)?));
            body.insert("videos".into(), Value::Array(files(&args.videos)?));
            Ok((Domain::Texts, Value::Object(body), &args.common))
        }
        SubmitCommand::Videos(args) => {
            body.insert("model".into(), json!(args.model));
            put(&mut body, "prompt", args.prompt.clone().map(Value::from));
            put(&mut body, "width", args.width.map(Value::from));
            put(&mut body, "height", args.height.map(Value::from));
            put(&mut body, "num_frames", args.num_frames.map(Value::from));
            put(&mut body, "seed", args.seed.map(Value::from));
            put(&mut body, "image", file(&args.image)?);
            put(&mut body, "last_image", file(&args.last_image)?);
            put(&mut body, "video", file(&args.video)?);
            body.insert("generate_audio".into(), json!(args.generate_audio));
            Ok((Domain::Videos, Value::Object(body), &args.common))
        }
    }
}

/// Submits the request, follows it until it ends and downloads the outputs.
/// Ctrl-C cancels the job on the server.
pub async fn run(command: SubmitCommand) -> anyhow::Result<()> {
    let (domain, body, common) = request_body(&command)?;
    let client = Client::from_env()?;
    let created = client.submit(domain, &body).await?;
    eprintln!("Task ID: {}", created.id);
    if common.no_wait {
        println!("{}", created.id);
        return Ok(());
    }

    let bar = ProgressBar::new(100);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos:>3}% {msg}")
            .expect("progress template is valid"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    // Without a terminal (a farm job, a pipe) the bar is hidden, so log lines go to stderr as text.
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut shown_logs = 0;
    let wait = client.wait(domain, created.id, Duration::from_millis(500), |job| {
        for line in job.logs.iter().skip(shown_logs) {
            if terminal {
                bar.println(line);
            } else {
                eprintln!("{line}");
            }
        }
        shown_logs = shown_logs.max(job.logs.len());
        let progress = job.task_info.get("progress").and_then(Value::as_f64).unwrap_or(0.0);
        bar.set_position((progress * 100.0).round() as u64);
        bar.set_message(job.status.to_string());
    });
    let job = tokio::select! {
        job = wait => job?,
        _ = tokio::signal::ctrl_c() => {
            bar.abandon_with_message("cancelling");
            client.cancel(domain, created.id).await?;
            bail!("cancelled task {}", created.id);
        }
    };
    bar.finish_with_message(job.status.to_string());

    match job.status {
        TaskStatus::Success => {}
        TaskStatus::Failure => bail!("{}", job.error_message.unwrap_or_else(|| "task failed".into())),
        other => bail!("task {} ended as {other}", created.id),
    }
    if let Some(text) = job.output_text() {
        println!("{text}");
    }
    for url in job.output_urls() {
        let path = client.download(&url, &common.out).await?;
        println!("{}", path.display());
    }
    Ok(())
}
