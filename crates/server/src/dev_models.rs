//! Test models that exercise the queue without loading weights.
//!
//! With `dev_models = true` (or `DDIFFUSION_DEV_MODELS=1`) the server lists
//! `dev-local` (local lane) and `dev-external` (external lane) under images
//! and texts. They read directives from the prompt, separated by spaces:
//!
//! - `steps=N`: number of steps (default 3),
//! - `step_ms=N`: milliseconds per step (default 50),
//! - `fail=MESSAGE`: fail after the steps with MESSAGE (underscores become spaces),
//! - `panic`: panic after the steps.
//!
//! Each step checks for cancellation, logs `Inference step i/N (p%)` and
//! reports progress. Image jobs then write a PNG of the requested size,
//! capped at 256 pixels a side, filled with a colour derived from the seed.
//! Text jobs return the prompt.

use std::sync::Arc;
use std::time::Duration;

use engine::{Executor, ExecutorFuture, JobContext, JobError, JobOutput};
use protocol::images::{ImageRequest, ImagesModelInfo};
use protocol::texts::{TextRequest, TextsModelInfo};
use protocol::{Domain, Provider};

use crate::state::AppState;

/// Registers the test models in the images and texts domains.
pub fn register(state: &AppState) {
    for (name, lane) in [("dev-local", "local"), ("dev-external", "external")] {
        let description = format!("Test model on the {lane} lane: sleeps, logs and writes a flat image; no weights");
        let info = ImagesModelInfo {
            external: lane != "local",
            provider: Provider::Local,
            text_to_image: true,
            image_to_image: true,
            inpainting: true,
            references: true,
            description: Some(description.clone()),
        };
        state.register_model(Domain::Images, name, info, lane, Arc::new(DevImage));
        let info = TextsModelInfo {
            provider: Provider::Local,
            external: lane != "local",
            description: Some(description),
        };
        state.register_model(Domain::Texts, name, info, lane, Arc::new(DevText));
    }
}

struct Directives {
    steps: u32,
    step: Duration,
    fail: Option<String>,
    panic: bool,
}

fn directives(prompt: &str) -> Directives {
    let mut parsed = Directives {
        steps: 3,
        step: Duration::from_millis(50),
        fail: None,
        panic: false,
    };
    for word in prompt.split_whitespace() {
        match word.split_once('=') {
            Some(("steps", n)) => parsed.steps = n.parse().unwrap_or(parsed.steps),
            Some(("step_ms", n)) => parsed.step = n.parse().map(Duration::from_millis).unwrap_or(parsed.step),
            Some(("fail", message)) => parsed.fail = Some(message.replace('_', " ")),
            None if word == "panic" => parsed.panic = true,
            _ => {}
        }
    }
    parsed
}

/// Runs the steps; returns an error when cancelled or asked to fail.
async fn run_steps(ctx: &JobContext, directives: &Directives) -> Result<(), JobError> {
    ctx.log(format!("Context created {}, {} steps", ctx.model, directives.steps));
    let token = ctx.cancellation_token();
    for step in 1..=directives.steps {
        ctx.check_cancelled()?;
        tokio::select! {
            _ = tokio::time::sleep(directives.step) => {}
            _ = token.cancelled() => return Err(JobError::Cancelled),
        }
        let percent = step * 100 / directives.steps.max(1);
        ctx.log(format!("Inference step {step}/{} ({percent}%)", directives.steps));
        ctx.progress(step as f64 / directives.steps.max(1) as f64);
    }
    if directives.panic {
        panic!("dev model asked to panic");
    }
    match &directives.fail {
        Some(message) => Err(JobError::Failed(message.clone())),
        None => Ok(()),
    }
}

struct DevImage;

impl Executor for DevImage {
    fn run(&self, ctx: JobContext) -> ExecutorFuture<'_> {
        Box::pin(async move {
            let request: ImageRequest = ctx.request()?;
            run_steps(&ctx, &directives(&request.prompt)).await?;
            let width = request.width.clamp(1, 256) as u32;
            let height = request.height.clamp(1, 256) as u32;
            let seed = request.seed as u64;
            let colour = [
                (seed & 0xFF) as u8,
                ((seed >> 8) & 0xFF) as u8,
                ((seed >> 16) & 0xFF) as u8,
            ];
            let image = image::RgbImage::from_pixel(width, height, image::Rgb(colour));
            let mut png = Vec::new();
            image
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .map_err(|error| JobError::failed(format!("PNG encoding failed: {error}")))?;
            let path = ctx.write_output(0, "png", &png).await?;
            Ok(JobOutput {
                files: vec![path],
                text: None,
            })
        })
    }
}

struct DevText;

impl Executor for DevText {
    fn run(&self, ctx: JobContext) -> ExecutorFuture<'_> {
        Box::pin(async move {
            let request: TextRequest = ctx.request()?;
            run_steps(&ctx, &directives(&request.prompt)).await?;
            Ok(JobOutput {
                files: Vec::new(),
                text: Some(format!("{} ({} images)", request.prompt, request.images.len())),
            })
        })
    }
}
