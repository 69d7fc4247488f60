//! The engine executor that runs catalogue models of the Stable Diffusion 1.x, 2.x and XL families.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use candle_core::Device;
use engine::{Executor, ExecutorFuture, JobContext, JobError, JobOutput};
use hub::{HfCache, ModelEntry};
use protocol::images::ImageRequest;

use crate::inputs::{read_mask, read_plate};
use crate::noise::Noise;
use crate::pipeline::{
    from_rgb32f, mask_from_luma32f, to_rgb8, Architecture, Generation, Inputs, PipelineError, SdPipeline,
};
use crate::schedulers::Kind;

/// Architectures this crate can run.
pub const ARCHITECTURES: &[&str] = &["sd15", "sd21", "sdxl"];

/// The one pipeline kept loaded between jobs, with the name of its model.
/// Loading another model replaces it, so at most one model uses memory.
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

    /// Drops the pipeline if it belongs to `model`; returns true if it did.
    pub fn unload_model(&self, model: &str) -> bool {
        let mut slot = self.slot.lock().unwrap();
        if slot.as_ref().is_some_and(|(name, _)| name == model) {
            *slot = None;
            true
        } else {
            false
        }
    }

    /// Name of the model whose pipeline is loaded.
    pub fn loaded_model(&self) -> Option<String> {
        self.slot.lock().unwrap().as_ref().map(|(name, _)| name.clone())
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

    /// Returns the model's capabilities in this build: its catalogue flags,
    /// with inpainting only when the catalogue names an inpainting UNet, and no
    /// reference images, which the Stable Diffusion family does not take.
    pub fn info(entry: &ModelEntry) -> protocol::images::ImagesModelInfo {
        let mut info = entry.images_info();
        info.inpainting &= entry.inpainting_files.contains_key("unet");
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
        let architecture = self
            .entry
            .architecture
            .as_deref()
            .and_then(Architecture::parse)
            .ok_or_else(|| {
                JobError::failed(format!(
                    "model {} has architecture {:?}, which this build cannot run",
                    self.entry.name, self.entry.architecture
                ))
            })?;
        // The previous model is dropped before the next one loads.
        self.loaded.unload();
        let pipeline = tokio::task::spawn_blocking(move || {
            SdPipeline::load(&files.files, &files.inpainting_files, &device, architecture)
        })
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

            // An input image fixes the output size; the model computes at the
            // nearest size its VAE can take and the result is resized back.
            let factor = pipeline.vae_scale_factor;
            let plate = match &request.image {
                Some(relative) => {
                    let path = ctx.input_path(relative);
                    Some(
                        tokio::task::spawn_blocking(move || read_plate("image", &path))
                            .await
                            .map_err(JobError::failed)?
                            .map_err(JobError::failed)?,
                    )
                }
                None => None,
            };
            let (width, height) = match &plate {
                Some(plate) => (plate.width() as i64, plate.height() as i64),
                None => (request.width, request.height),
            };
            let (compute_width, compute_height) = (computable_side(width, factor), computable_side(height, factor));
            let guidance = match request.mask {
                Some(_) => request
                    .guidance_scale
                    .or(self.entry.inpainting_guidance)
                    .or(self.entry.guidance),
                None => request.guidance_scale.or(self.entry.guidance),
            };
            let generation = Generation {
                prompt: request.cleaned_prompt(),
                negative_prompt: request
                    .negative_prompt
                    .clone()
                    .or_else(|| self.entry.negative_prompt.clone())
                    .unwrap_or_default(),
                width: compute_width,
                height: compute_height,
                steps: request.steps.or(self.entry.steps.map(i64::from)).unwrap_or(30).max(1) as usize,
                guidance: guidance.unwrap_or(7.5),
                scheduler,
            };
            let mode = match (&plate, &request.mask) {
                (Some(_), Some(_)) => "inpainting",
                (Some(_), None) => "image-to-image",
                _ => "text-to-image",
            };
            ctx.log(format!("Context created {}, {width}x{height}, {mode}", self.entry.name));
            let mask_path = request.mask.as_ref().map(|relative| ctx.input_path(relative));

            let reporter = ctx.reporter();
            let seed = request.seed;
            let run = {
                let pipeline = pipeline.clone();
                let generation = generation.clone();
                let strength = request.strength;
                move || -> Result<image::RgbImage, PipelineError> {
                    let size = (generation.width as u32, generation.height as u32);
                    let device = pipeline.device().clone();
                    let inputs = match (plate, mask_path) {
                        (None, _) => Inputs::Text,
                        (Some(plate), mask) => {
                            let plate =
                                image::imageops::resize(&plate, size.0, size.1, image::imageops::FilterType::Lanczos3);
                            let image = from_rgb32f(&plate, &device)?;
                            match mask {
                                None => Inputs::Image { image, strength },
                                Some(path) => {
                                    let mask = read_mask("mask", &path)
                                        .map_err(|error| PipelineError::Input(error.to_string()))?;
                                    let mask = image::imageops::resize(
                                        &mask,
                                        size.0,
                                        size.1,
                                        image::imageops::FilterType::Triangle,
                                    );
                                    Inputs::Inpaint {
                                        image,
                                        mask: mask_from_luma32f(&mask, &device)?,
                                        strength,
                                    }
                                }
                            }
                        }
                    };
                    let mut on_step = |done: usize, total: usize| {
                        reporter.log(format!("Inference step {done}/{total} ({}%)", done * 100 / total));
                        reporter.progress(done as f64 / total as f64);
                        if reporter.is_cancelled() {
                            Err(PipelineError::Cancelled)
                        } else {
                            Ok(())
                        }
                    };
                    let image = pipeline.generate(&generation, &inputs, &mut Noise::new(seed), &mut on_step)?;
                    to_rgb8(&image)
                }
            };
            let image = match tokio::task::spawn_blocking(run).await.map_err(JobError::failed)? {
                Ok(image) => image,
                Err(PipelineError::Cancelled) => return Err(JobError::Cancelled),
                Err(error) => return Err(JobError::failed(error)),
            };

            let (width, height) = (width as u32, height as u32);
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
                "width": width, "height": height, "mode": mode, "strength": request.strength, "job_id": ctx.id.to_string(),
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
