//! The engine executor that runs catalogue models of the Stable Diffusion 1.x, 2.x and XL families.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// How long loaded pipelines stay in memory and how many fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CachePolicy {
    /// Sum of the catalogue's `memory_gb` that loaded models may reach. At 0,
    /// one model at a time.
    pub budget_gb: f64,
    /// Idle time after which a pipeline is dropped; `None` keeps it until
    /// another model needs the room, `Some(ZERO)` drops it after each job.
    pub keep_alive: Option<Duration>,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            budget_gb: 0.0,
            keep_alive: Some(Duration::from_secs(300)),
        }
    }
}

/// One loaded pipeline.
struct Slot {
    model: String,
    pipeline: Arc<SdPipeline>,
    memory_gb: f64,
    last_used: Instant,
}

/// Pipelines kept loaded between jobs, bounded by a [`CachePolicy`]. The
/// least recently used model is dropped first when a new one needs room.
#[derive(Default, Clone)]
pub struct LoadedPipeline {
    slots: Arc<Mutex<Vec<Slot>>>,
    policy: CachePolicy,
}

impl LoadedPipeline {
    pub fn new(policy: CachePolicy) -> Self {
        Self {
            slots: Arc::default(),
            policy,
        }
    }

    pub fn policy(&self) -> CachePolicy {
        self.policy
    }

    fn get(&self, model: &str) -> Option<Arc<SdPipeline>> {
        let mut slots = self.slots.lock().unwrap();
        let slot = slots.iter_mut().find(|slot| slot.model == model)?;
        slot.last_used = Instant::now();
        Some(slot.pipeline.clone())
    }

    /// Drops least recently used pipelines until `memory_gb` more fits the
    /// budget; returns the models dropped.
    fn make_room(&self, memory_gb: f64) -> Vec<String> {
        let mut slots = self.slots.lock().unwrap();
        let mut dropped = Vec::new();
        loop {
            let used: f64 = slots.iter().map(|slot| slot.memory_gb).sum();
            let fits = if self.policy.budget_gb <= 0.0 {
                slots.is_empty()
            } else {
                used + memory_gb <= self.policy.budget_gb
            };
            if fits || slots.is_empty() {
                return dropped;
            }
            let oldest = (0..slots.len()).min_by_key(|&index| slots[index].last_used).unwrap();
            dropped.push(slots.remove(oldest).model);
        }
    }

    fn touch(&self, model: &str) {
        let mut slots = self.slots.lock().unwrap();
        if let Some(slot) = slots.iter_mut().find(|slot| slot.model == model) {
            slot.last_used = Instant::now();
        }
    }

    fn set(&self, model: &str, pipeline: Arc<SdPipeline>, memory_gb: f64) {
        let mut slots = self.slots.lock().unwrap();
        slots.retain(|slot| slot.model != model);
        slots.push(Slot {
            model: model.to_owned(),
            pipeline,
            memory_gb,
            last_used: Instant::now(),
        });
    }

    /// Drops every loaded pipeline; returns the names of their models.
    pub fn unload(&self) -> Vec<String> {
        let mut slots = self.slots.lock().unwrap();
        slots.drain(..).map(|slot| slot.model).collect()
    }

    /// Drops the pipeline of `model`; returns true if it was loaded.
    pub fn unload_model(&self, model: &str) -> bool {
        let mut slots = self.slots.lock().unwrap();
        let before = slots.len();
        slots.retain(|slot| slot.model != model);
        slots.len() != before
    }

    /// Drops the pipelines idle for longer than the keep-alive; returns their models.
    pub fn unload_idle(&self) -> Vec<String> {
        let Some(keep_alive) = self.policy.keep_alive else {
            return Vec::new();
        };
        let mut slots = self.slots.lock().unwrap();
        let mut dropped = Vec::new();
        slots.retain(|slot| {
            let idle = slot.last_used.elapsed() >= keep_alive;
            if idle {
                dropped.push(slot.model.clone());
            }
            !idle
        });
        dropped
    }

    /// Names of the models whose pipelines are loaded, most recently used first.
    pub fn loaded_models(&self) -> Vec<String> {
        let slots = self.slots.lock().unwrap();
        let mut loaded: Vec<&Slot> = slots.iter().collect();
        loaded.sort_by_key(|slot| std::cmp::Reverse(slot.last_used));
        loaded.into_iter().map(|slot| slot.model.clone()).collect()
    }
}

/// Settings an executor takes from the server.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    pub device: Device,
    /// Download a model's missing files when a job needs them and the Hub is reachable.
    pub auto_download: bool,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        Self {
            device: Device::Cpu,
            auto_download: false,
        }
    }
}

/// Runs jobs of one catalogue model.
pub struct SdExecutor {
    entry: ModelEntry,
    cache: HfCache,
    options: ExecutorOptions,
    loaded: LoadedPipeline,
}

impl SdExecutor {
    pub fn new(entry: ModelEntry, cache: HfCache, loaded: LoadedPipeline, options: ExecutorOptions) -> Self {
        Self {
            entry,
            cache,
            options,
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

    /// Downloads the model's missing files, logging each file's progress in
    /// steps of 10 % and stopping when the job is cancelled.
    async fn download(&self, ctx: &JobContext) -> Result<(), JobError> {
        let name = &self.entry.name;
        ctx.log(format!("Downloading {name} from the Hugging Face Hub ..."));
        let reporter = ctx.reporter();
        let logged: Arc<Mutex<std::collections::HashMap<String, u64>>> = Arc::default();
        let progress = move |file: &str, done: u64, total: u64| {
            let tenth = done.saturating_mul(10).checked_div(total).unwrap_or(10);
            let mut logged = logged.lock().unwrap();
            if logged.get(file).is_none_or(|&last| tenth > last) {
                logged.insert(file.to_owned(), tenth);
                reporter.log(format!(
                    "Downloading {file}: {}% of {:.1} MB",
                    tenth * 10,
                    total as f64 / 1e6
                ));
            }
        };
        let token = ctx.cancellation_token();
        tokio::select! {
            result = self.cache.pull(&self.entry, progress) => {
                result.map_err(|error| JobError::failed(format!("downloading {name} failed: {error}")))?;
            }
            _ = token.cancelled() => return Err(JobError::Cancelled),
        }
        ctx.log(format!("Downloaded {name}"));
        Ok(())
    }

    async fn pipeline(&self, ctx: &JobContext) -> Result<Arc<SdPipeline>, JobError> {
        if let Some(pipeline) = self.loaded.get(&self.entry.name) {
            return Ok(pipeline);
        }
        let files = match self.cache.model_files(&self.entry) {
            Ok(files) => files,
            Err(_) if self.options.auto_download && !self.cache.is_offline() => {
                self.download(ctx).await?;
                self.cache.model_files(&self.entry).map_err(JobError::failed)?
            }
            Err(error) => return Err(JobError::failed(error)),
        };
        ctx.log(format!("Loading pipeline {} ...", self.entry.name));
        let started = Instant::now();
        let device = self.options.device.clone();
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
        let memory_gb = self.entry.memory_gb.unwrap_or(0.0);
        for dropped in self.loaded.make_room(memory_gb) {
            ctx.log(format!("Unloaded {dropped} to make room"));
        }
        let pipeline = tokio::task::spawn_blocking(move || {
            SdPipeline::load(&files.files, &files.inpainting_files, &device, architecture)
        })
        .await
        .map_err(JobError::failed)?
        .map_err(|error| JobError::failed(format!("loading {} failed: {error}", self.entry.name)))?;
        let pipeline = Arc::new(pipeline);
        ctx.log(format!("Pipeline loaded in {:.1}s", started.elapsed().as_secs_f64()));
        self.loaded.set(&self.entry.name, pipeline.clone(), memory_gb);
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
            // The keep-alive counts from the end of the last job.
            self.loaded.touch(&self.entry.name);
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
