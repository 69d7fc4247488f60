//! The engine executor that runs catalogue models of the Stable Diffusion 1.x family.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use candle_core::Device;
use engine::{Executor, ExecutorFuture, JobContext, JobError, JobOutput};
use hub::{HfCache, ModelEntry};
use protocol::images::ImageRequest;

use crate::noise::Noise;
use crate::pipeline::{to_rgb8, Generation, PipelineError, SdPipeline};
use crate::schedulers::Kind;

/// Architectures this crate can run.
pub const ARCHITECTURES: &[&str] = &["sd15"];

/// The one pipeline kept loaded between jobs, with the model name it belongs
/// to. Loading another model replaces it, so at most one model holds memory.
#[derive(Default, Clone)]
pub struct LoadedPipeline {
    slot: Arc<Mutex<Option<Loaded>>>,
}

/// A loaded pipeline and the name of its model.
type Loaded = (String, Arc<SdPipeline>);

impl LoadedPipeline {
    fn get(&self, model: &str) -> Option<Arc<SdPipeline>> {
        let slot = self.slot.lock().unwrap();
        slot.as_ref()
            .filter(|(name, _)| name == model)
            .map(|(_, pipeline)| pipeline.clone())
    }

    fn set(&self, model: &str, pipeline: Arc<SdPipeline>) {
        *self.slot.lock().unwrap() = Some((model.to_owned(), pipeline));
    }

    /// Drops the loaded pipeline, if any; returns the name of its model.
    pub fn unload(&self) -> Option<String> {
        self.slot.lock().unwrap().take().map(|(name, _)| name)
    }
}

/// Runs jobs of one catalogue model.
pub struct SdExecutor {
    entry: ModelEntry,
    cache: HfCache,
    device: Device,
    loaded: LoadedPipeline,
}

impl SdExecutor {
    pub fn new(entry: ModelEntry, cache: HfCache, loaded: LoadedPipeline) -> Self {
        Self {
            entry,
            cache,
            device: Device::Cpu,
            loaded,
        }
    }

    /// What the model can do with this build: text-to-image only so far.
    pub fn info(entry: &ModelEntry) -> protocol::images::ImagesModelInfo {
        let mut info = entry.images_info();
        // NOTE: image-to-image and inpainting need the VAE encoder's moments, which candle keeps private; until our own encoder lands they are off.
        info.image_to_image = false;
        info.inpainting = false;
        info.references = false;
        info
    }

    async fn pipeline(&self, ctx: &JobContext) -> Result<Arc<SdPipeline>, JobError> {
        if let Some(pipeline) = self.loaded.get(&self.entry.name) {
            return Ok(pipeline);
        }
        let files = self.cache.model_files(&self.entry).map_err(JobError::failed)?;
        ctx.log(format!("Loading pipeline {} ...", self.entry.name));
        let started = Instant::now();
        let device = self.device.clone();
        // The previous model is dropped before the next one loads.
        self.loaded.unload();
        let pipeline = tokio::task::spawn_blocking(move || SdPipeline::load(&files.files, &device, "<|endoftext|>"))
            .await
            .map_err(JobError::failed)?
            .map_err(|error| JobError::failed(format!("loading {} failed: {error}", self.entry.name)))?;
        let pipeline = Arc::new(pipeline);
        ctx.log(format!("Pipeline loaded in {:.1}s", started.elapsed().as_secs_f64()));
        self.loaded.set(&self.entry.name, pipeline.clone());
        Ok(pipeline)
    }
}

/// Rounds a side to the nearest positive multiple of `factor`.
fn computable_side(side: i64, factor: usize) -> usize {
    let factor = factor as i64;
    (((side + factor / 2) / factor).max(1) * factor) as usize
}

impl Executor for SdExecutor {
    fn run(&self, ctx: JobContext) -> ExecutorFuture<'_> {
        Box::pin(async move {
            let request: ImageRequest = ctx.request()?;
            if request.image.is_some() || request.mask.is_some() {
                return Err(JobError::failed(format!(
                    "{} runs text-to-image only in this version; send the request without image and mask",
                    self.entry.name
                )));
            }
            let pipeline = self.pipeline(&ctx).await?;
            let scheduler_name = request
                .scheduler
                .clone()
                .or_else(|| self.entry.scheduler.clone())
                .unwrap_or_else(|| "ddim".into());
            let scheduler = Kind::parse(&scheduler_name).ok_or_else(|| {
                JobError::failed(format!(
                    "scheduler {scheduler_name:?} is not available for {}",
                    self.entry.name
                ))
            })?;
            let factor = pipeline.vae_scale_factor;
            let generation = Generation {
                prompt: request.cleaned_prompt(),
                negative_prompt: request
                    .negative_prompt
                    .clone()
                    .or_else(|| self.entry.negative_prompt.clone())
                    .unwrap_or_default(),
                width: computable_side(request.width, factor),
                height: computable_side(request.height, factor),
                steps: request.steps.or(self.entry.steps.map(i64::from)).unwrap_or(30).max(1) as usize,
                guidance: request.guidance_scale.or(self.entry.guidance).unwrap_or(7.5),
                scheduler,
            };
            ctx.log(format!(
                "Context created {}, {}x{}",
                self.entry.name, request.width, request.height
            ));

            let reporter = ctx.reporter();
            let seed = request.seed;
            let run = {
                let pipeline = pipeline.clone();
                let generation = generation.clone();
                move || -> Result<image::RgbImage, PipelineError> {
                    let mut on_step = |done: usize, total: usize| {
                        reporter.log(format!("Inference step {done}/{total} ({}%)", done * 100 / total));
                        reporter.progress(done as f64 / total as f64);
                        if reporter.is_cancelled() {
                            Err(PipelineError::Cancelled)
                        } else {
                            Ok(())
                        }
                    };
                    let image = pipeline.text_to_image(&generation, &mut Noise::new(seed), &mut on_step)?;
                    to_rgb8(&image)
                }
            };
            let image = match tokio::task::spawn_blocking(run).await.map_err(JobError::failed)? {
                Ok(image) => image,
                Err(PipelineError::Cancelled) => return Err(JobError::Cancelled),
                Err(error) => return Err(JobError::failed(error)),
            };

            // The output has the requested size even when the model computed at the nearest size it can.
            let (width, height) = (request.width as u32, request.height as u32);
            let image = if (image.width(), image.height()) == (width, height) {
                image
            } else {
                ctx.log(format!(
                    "Computed at {}x{}, resized to {width}x{height}",
                    image.width(),
                    image.height()
                ));
                image::imageops::resize(&image, width, height, image::imageops::FilterType::Lanczos3)
            };
            let parameters = serde_json::json!({
                "model": self.entry.name, "prompt": generation.prompt, "negative_prompt": generation.negative_prompt,
                "seed": seed, "steps": generation.steps, "guidance_scale": generation.guidance, "scheduler": scheduler_name,
                "width": width, "height": height, "job_id": ctx.id.to_string(),
            });
            let png = crate::output::encode_png(&image, &parameters).map_err(JobError::failed)?;
            let path = ctx.write_output(0, "png", &png).await?;
            Ok(JobOutput {
                files: vec![path],
                text: None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::computable_side;

    #[test]
    fn sides_round_to_the_vae_factor() {
        assert_eq!(computable_side(513, 8), 512);
        assert_eq!(computable_side(517, 8), 520);
        assert_eq!(computable_side(1, 8), 8);
        assert_eq!(computable_side(720, 8), 720);
    }
}
