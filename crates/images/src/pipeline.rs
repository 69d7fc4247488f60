//! The Stable Diffusion 1.x and 2.x pipeline: CLIP text encoder, UNet,
//! scheduler and VAE decoder, loaded from a repository in diffusers layout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::stable_diffusion::{unet_2d::UNet2DConditionModel, vae::AutoEncoderKL};

use crate::clip::{ClipTextConfig, ClipTextModel};
use crate::config::{UNetConfig, VaeConfig};
use crate::noise::Noise;
use crate::schedulers::{Kind, Scheduler, SchedulerConfig};
use crate::tokenizer::ClipTokenizer;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("the model has no {0} file; check its entry in models.toml")]
    MissingFile(String),
    #[error("could not read {path}: {message}")]
    Config { path: String, message: String },
    #[error(transparent)]
    Tokenizer(#[from] crate::tokenizer::TokenizerError),
    #[error("{0}")]
    Candle(#[from] candle_core::Error),
    #[error("cancelled")]
    Cancelled,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Generation {
    pub prompt: String,
    pub negative_prompt: String,
    /// Output size in pixels; multiples of the VAE's scale factor.
    pub width: usize,
    pub height: usize,
    pub steps: usize,
    pub guidance: f64,
    pub scheduler: Kind,
}

/// A loaded pipeline, ready to generate.
pub struct SdPipeline {
    device: Device,
    dtype: DType,
    tokenizer: ClipTokenizer,
    text_encoder: ClipTextModel,
    unet: UNet2DConditionModel,
    vae: AutoEncoderKL,
    vae_scaling: f64,
    latent_channels: usize,
    /// Pixels per latent cell: 2 to the number of VAE downsamplings.
    pub vae_scale_factor: usize,
    scheduler_config: SchedulerConfig,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, PipelineError> {
    let text = std::fs::read_to_string(path).map_err(|error| PipelineError::Config {
        path: path.display().to_string(),
        message: error.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|error| PipelineError::Config {
        path: path.display().to_string(),
        message: error.to_string(),
    })
}

fn weights(path: &Path, dtype: DType, device: &Device) -> Result<VarBuilder<'static>, PipelineError> {
    // SAFETY: the weight files are memory-mapped read-only; the Hugging Face
    // cache never rewrites a blob in place (downloads are renamed into place).
    Ok(unsafe { VarBuilder::from_mmaped_safetensors(&[path], dtype, device)? })
}

impl SdPipeline {
    /// Loads every component from files keyed by role (`unet`, `unet_config`,
    /// `vae`, `vae_config`, `text_encoder`, `text_encoder_config`,
    /// `tokenizer_vocab`, `tokenizer_merges`, `scheduler`).
    pub fn load(files: &BTreeMap<String, PathBuf>, device: &Device, pad_token: &str) -> Result<Self, PipelineError> {
        let file = |role: &str| {
            files
                .get(role)
                .ok_or_else(|| PipelineError::MissingFile(role.to_owned()))
        };
        let dtype = if device.is_cpu() { DType::F32 } else { DType::F16 };

        let tokenizer = ClipTokenizer::from_files(file("tokenizer_vocab")?, file("tokenizer_merges")?, pad_token)?;
        let text_config: ClipTextConfig = read_json(file("text_encoder_config")?)?;
        let text_encoder = ClipTextModel::new(weights(file("text_encoder")?, dtype, device)?, &text_config, false)?;

        let unet_config: UNetConfig = read_json(file("unet_config")?)?;
        let unet = UNet2DConditionModel::new(
            weights(file("unet")?, dtype, device)?,
            unet_config.in_channels,
            unet_config.out_channels,
            false,
            unet_config.candle(),
        )?;

        let vae_config: VaeConfig = read_json(file("vae_config")?)?;
        let vae = AutoEncoderKL::new(weights(file("vae")?, dtype, device)?, 3, 3, vae_config.candle())?;
        let scheduler_config: SchedulerConfig = read_json(file("scheduler")?)?;

        Ok(Self {
            device: device.clone(),
            dtype,
            tokenizer,
            text_encoder,
            unet,
            vae,
            vae_scaling: vae_config.scaling_factor,
            latent_channels: vae_config.latent_channels,
            vae_scale_factor: 1 << (vae_config.block_out_channels.len().saturating_sub(1)),
            scheduler_config,
        })
    }

    /// Encodes a prompt into the UNet's conditioning, `[1, 77, hidden]`.
    pub fn encode_prompt(&self, prompt: &str) -> Result<Tensor, PipelineError> {
        let ids = self.tokenizer.encode(prompt);
        let ids = Tensor::new(ids.as_slice(), &self.device)?.unsqueeze(0)?;
        Ok(self.text_encoder.forward(&ids)?.last_hidden_state)
    }

    /// Runs text-to-image and returns the decoded image, `[1, 3, height, width]`
    /// with values in 0..=1. `on_step(done, total)` runs after each step; an
    /// error from it stops the run.
    pub fn text_to_image(
        &self,
        generation: &Generation,
        noise: &mut Noise,
        on_step: &mut dyn FnMut(usize, usize) -> Result<(), PipelineError>,
    ) -> Result<Tensor, PipelineError> {
        let guided = generation.guidance > 1.0;
        let prompt = self.encode_prompt(&generation.prompt)?;
        let conditioning = if guided {
            Tensor::cat(&[self.encode_prompt(&generation.negative_prompt)?, prompt], 0)?
        } else {
            prompt
        };

        let scheduler = Scheduler::new(generation.scheduler, &self.scheduler_config, generation.steps);
        let shape = [
            1,
            self.latent_channels,
            generation.height / self.vae_scale_factor,
            generation.width / self.vae_scale_factor,
        ];
        let mut latents = (noise.tensor(&shape, &self.device)?.to_dtype(self.dtype)? * scheduler.init_noise_sigma())?;

        let total = scheduler.timesteps().len();
        for (index, &timestep) in scheduler.timesteps().iter().enumerate() {
            let input = if guided {
                Tensor::cat(&[&latents, &latents], 0)?
            } else {
                latents.clone()
            };
            let input = scheduler.scale_model_input(&input, index)?;
            let predicted = self.unet.forward(&input, timestep, &conditioning)?;
            let predicted = if guided {
                let parts = predicted.chunk(2, 0)?;
                (&parts[0] + ((&parts[1] - &parts[0])? * generation.guidance)?)?
            } else {
                predicted
            };
            latents = scheduler.step(&predicted, index, &latents, noise)?;
            on_step(index + 1, total)?;
        }
        self.decode(&latents)
    }

    /// Decodes latents into an image with values in 0..=1.
    pub fn decode(&self, latents: &Tensor) -> Result<Tensor, PipelineError> {
        let image = self.vae.decode(&(latents / self.vae_scaling)?)?;
        Ok(((image / 2.0)? + 0.5)?.clamp(0f32, 1f32)?.to_dtype(DType::F32)?)
    }
}

/// Converts `[1, 3, height, width]` values in 0..=1 to an 8-bit RGB image.
pub fn to_rgb8(image: &Tensor) -> Result<image::RgbImage, PipelineError> {
    let (_, _, height, width) = image.dims4()?;
    let pixels = (image.get(0)?.permute((1, 2, 0))? * 255.0)?
        .round()?
        .clamp(0f32, 255f32)?
        .to_dtype(DType::U8)?;
    let bytes = pixels.flatten_all()?.to_vec1::<u8>()?;
    Ok(image::RgbImage::from_raw(width as u32, height as u32, bytes).expect("buffer has width × height × 3 bytes"))
}
