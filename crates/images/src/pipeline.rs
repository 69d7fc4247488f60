//! The Stable Diffusion pipeline for SD 1.x, SD 2.x and SDXL: CLIP text
//! encoders, UNet, scheduler and VAE, loaded from a repository in diffusers
//! layout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, IndexOp, Tensor};
use candle_nn::VarBuilder;

use crate::clip::{ClipTextConfig, ClipTextModel};
use crate::config::{UNetConfig, VaeConfig};
use crate::noise::Noise;
use crate::schedulers::{Kind, Scheduler, SchedulerConfig};
use crate::tokenizer::ClipTokenizer;
use crate::unet::{AddedConditioning, Unet};
use crate::vae_decoder::VaeDecoder;
use crate::vae_encoder::VaeEncoder;

/// The model families the pipeline runs. Each fixes what its files leave
/// unsaid: the padding tokens and which text encoder outputs condition the UNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Architecture {
    /// SD 1.x: one CLIP encoder, its last hidden state, padding with `<|endoftext|>`.
    Sd15,
    /// SD 2.x: one OpenCLIP encoder, its last hidden state, padding with `!`.
    Sd21,
    /// SDXL: two encoders whose penultimate hidden states are concatenated,
    /// plus the second one's pooled output and the size ids as added
    /// conditioning. An empty negative prompt gives zero embeddings.
    Sdxl,
}

impl Architecture {
    /// Parses the catalogue's `architecture` field.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "sd15" => Some(Self::Sd15),
            "sd21" => Some(Self::Sd21),
            "sdxl" => Some(Self::Sdxl),
            _ => None,
        }
    }

    /// Text of the first tokenizer's padding token.
    pub fn pad_token(self) -> &'static str {
        match self {
            Self::Sd15 | Self::Sdxl => "<|endoftext|>",
            Self::Sd21 => "!",
        }
    }
}

/// A prompt encoded for the UNet.
#[derive(Debug, Clone)]
pub struct PromptEmbeds {
    /// Cross-attention input, `[1, 77, cross_attention_dim]`.
    pub hidden: Tensor,
    /// Pooled output of the second encoder, `[1, projection]` (SDXL only).
    pub pooled: Option<Tensor>,
}

/// A tokenizer and its text encoder.
struct TextEncoder {
    tokenizer: ClipTokenizer,
    model: ClipTextModel,
}

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
    #[error("{0}")]
    Input(String),
    #[error("cancelled")]
    Cancelled,
}

/// Parameters of one generation.
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

/// The inputs that decide the mode of a run.
pub enum Inputs {
    Text,
    /// Image-to-image from `image`, `[1, 3, height, width]` in 0..=1.
    Image {
        image: Tensor,
        strength: f64,
    },
    /// Inpainting of `image` where `mask` (`[1, 1, height, width]` in 0..=1) is white.
    Inpaint {
        image: Tensor,
        mask: Tensor,
        strength: f64,
    },
}

/// A loaded pipeline, ready to generate.
pub struct SdPipeline {
    device: Device,
    dtype: DType,
    architecture: Architecture,
    text_encoder: TextEncoder,
    /// SDXL's second tokenizer and encoder (OpenCLIP ViT-bigG with projection).
    text_encoder_2: Option<TextEncoder>,
    unet: Unet,
    vae: VaeDecoder,
    vae_encoder: VaeEncoder,
    /// The 9-channel UNet of the inpainting variant, when the model has one.
    inpaint_unet: Option<Unet>,
    vae_scaling: f64,
    latent_channels: usize,
    /// Pixels per latent cell: 2 to the number of VAE downsamplings.
    pub vae_scale_factor: usize,
    scheduler_config: SchedulerConfig,
    /// Embeddings of recent prompts, so a re-run with other settings skips the text encoders.
    prompt_cache: std::sync::Mutex<lru::LruCache<String, PromptEmbeds>>,
}

/// Prompts whose embeddings a pipeline keeps.
const PROMPT_CACHE_SIZE: usize = 32;

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
    let file = crate::weights::SafetensorsFile::open(path)?;
    Ok(VarBuilder::from_backend(Box::new(file), dtype, device.clone()))
}

impl SdPipeline {
    /// Loads every component from files keyed by role (`unet`, `unet_config`,
    /// `vae`, `vae_config`, `text_encoder`, `text_encoder_config`,
    /// `tokenizer_vocab`, `tokenizer_merges`, `scheduler`, and for SDXL also
    /// `text_encoder_2`, `text_encoder_2_config`, `tokenizer_2_vocab` and
    /// `tokenizer_2_merges`).
    ///
    /// `inpainting_files` has the `unet` and `unet_config` of the inpainting
    /// variant. An empty map loads no inpainting UNet.
    pub fn load(
        files: &BTreeMap<String, PathBuf>,
        inpainting_files: &BTreeMap<String, PathBuf>,
        device: &Device,
        architecture: Architecture,
    ) -> Result<Self, PipelineError> {
        let file = |role: &str| {
            files
                .get(role)
                .ok_or_else(|| PipelineError::MissingFile(role.to_owned()))
        };
        let dtype = if device.is_cpu() { DType::F32 } else { DType::F16 };

        let text_encoder = |suffix: &str, pad_token: &str, with_projection: bool| -> Result<_, PipelineError> {
            let tokenizer = ClipTokenizer::from_files(
                file(&format!("tokenizer{suffix}_vocab"))?,
                file(&format!("tokenizer{suffix}_merges"))?,
                pad_token,
            )?;
            let config: ClipTextConfig = read_json(file(&format!("text_encoder{suffix}_config"))?)?;
            let weights = weights(file(&format!("text_encoder{suffix}"))?, dtype, device)?;
            let model = ClipTextModel::new(weights, &config, with_projection)?;
            Ok(TextEncoder { tokenizer, model })
        };
        let text_encoder_1 = text_encoder("", architecture.pad_token(), false)?;
        let text_encoder_2 = match architecture {
            Architecture::Sdxl => Some(text_encoder("_2", "!", true)?),
            Architecture::Sd15 | Architecture::Sd21 => None,
        };

        let unet_config: UNetConfig = read_json(file("unet_config")?)?;
        let unet = Unet::new(weights(file("unet")?, dtype, device)?, &unet_config)?;
        let inpaint_unet = match (inpainting_files.get("unet"), inpainting_files.get("unet_config")) {
            (Some(weights_file), Some(config_file)) => {
                let config: UNetConfig = read_json(config_file)?;
                Some(Unet::new(weights(weights_file, dtype, device)?, &config)?)
            }
            _ => None,
        };

        let vae_config: VaeConfig = read_json(file("vae_config")?)?;
        let vae = VaeDecoder::new(weights(file("vae")?, dtype, device)?, &vae_config)?;
        let vae_encoder = VaeEncoder::new(weights(file("vae")?, dtype, device)?, &vae_config)?;
        let scheduler_config: SchedulerConfig = read_json(file("scheduler")?)?;

        Ok(Self {
            device: device.clone(),
            dtype,
            architecture,
            text_encoder: text_encoder_1,
            text_encoder_2,
            unet,
            vae,
            vae_encoder,
            inpaint_unet,
            vae_scaling: vae_config.scaling_factor,
            latent_channels: vae_config.latent_channels,
            vae_scale_factor: 1 << (vae_config.block_out_channels.len().saturating_sub(1)),
            scheduler_config,
            prompt_cache: std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(PROMPT_CACHE_SIZE).expect("the cache size is above 0"),
            )),
        })
    }

    /// Encodes a prompt into the UNet's conditioning, from the cache when the
    /// prompt was encoded recently.
    pub fn encode_prompt(&self, prompt: &str) -> Result<PromptEmbeds, PipelineError> {
        if let Some(cached) = self.prompt_cache.lock().unwrap().get(prompt) {
            return Ok(cached.clone());
        }
        let embeds = self.encode_prompt_uncached(prompt)?;
        self.prompt_cache.lock().unwrap().put(prompt.to_owned(), embeds.clone());
        Ok(embeds)
    }

    fn encode_prompt_uncached(&self, prompt: &str) -> Result<PromptEmbeds, PipelineError> {
        let run = |encoder: &TextEncoder| -> Result<_, PipelineError> {
            let ids = encoder.tokenizer.encode(prompt);
            let ids = Tensor::new(ids.as_slice(), &self.device)?.unsqueeze(0)?;
            Ok(encoder.model.forward(&ids)?)
        };
        let first = run(&self.text_encoder)?;
        match &self.text_encoder_2 {
            None => Ok(PromptEmbeds {
                hidden: first.last_hidden_state,
                pooled: None,
            }),
            Some(second) => {
                let second = run(second)?;
                Ok(PromptEmbeds {
                    hidden: Tensor::cat(&[first.penultimate_hidden_state, second.penultimate_hidden_state], 2)?,
                    pooled: Some(second.pooled),
                })
            }
        }
    }

    /// Encodes the negative prompt. SDXL models give zeros for an empty one,
    /// as diffusers does for their `force_zeros_for_empty_prompt` setting.
    pub fn encode_negative_prompt(
        &self,
        negative_prompt: &str,
        prompt: &PromptEmbeds,
    ) -> Result<PromptEmbeds, PipelineError> {
        if self.architecture == Architecture::Sdxl && negative_prompt.is_empty() {
            return Ok(PromptEmbeds {
                hidden: prompt.hidden.zeros_like()?,
                pooled: prompt.pooled.as_ref().map(Tensor::zeros_like).transpose()?,
            });
        }
        self.encode_prompt(negative_prompt)
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Returns true if the model has an inpainting UNet.
    pub fn can_inpaint(&self) -> bool {
        self.inpaint_unet.is_some()
    }

    /// Runs text-to-image. See [`SdPipeline::generate`].
    pub fn text_to_image(
        &self,
        generation: &Generation,
        noise: &mut Noise,
        on_step: &mut dyn FnMut(usize, usize) -> Result<(), PipelineError>,
    ) -> Result<Tensor, PipelineError> {
        self.generate(generation, &Inputs::Text, noise, on_step)
    }

    /// Runs the mode `inputs` selects and returns the decoded image,
    /// `[1, 3, height, width]` with values in 0..=1. Input images must have
    /// the generation's size. `on_step(done, total)` runs after each step; an
    /// error from it stops the run.
    ///
    /// Noise is drawn in diffusers' order: the posterior sample of the input
    /// image (image-to-image, and inpainting below full strength), then the
    /// initial latent noise, then the posterior sample of the masked image
    /// (inpainting), then one draw per Euler ancestral step.
    pub fn generate(
        &self,
        generation: &Generation,
        inputs: &Inputs,
        noise: &mut Noise,
        on_step: &mut dyn FnMut(usize, usize) -> Result<(), PipelineError>,
    ) -> Result<Tensor, PipelineError> {
        let latents = self.generate_latents(generation, inputs, noise, on_step)?;
        self.decode(&latents)
    }

    /// Runs [`SdPipeline::generate`] up to the final latents, before the VAE decode.
    pub fn generate_latents(
        &self,
        generation: &Generation,
        inputs: &Inputs,
        noise: &mut Noise,
        on_step: &mut dyn FnMut(usize, usize) -> Result<(), PipelineError>,
    ) -> Result<Tensor, PipelineError> {
        let guided = generation.guidance > 1.0;
        let prompt = self.encode_prompt(&generation.prompt)?;
        let (conditioning, pooled) = if guided {
            let negative = self.encode_negative_prompt(&generation.negative_prompt, &prompt)?;
            let pooled = match (negative.pooled, prompt.pooled) {
                (Some(negative), Some(positive)) => Some(Tensor::cat(&[negative, positive], 0)?),
                _ => None,
            };
            (Tensor::cat(&[negative.hidden, prompt.hidden], 0)?, pooled)
        } else {
            (prompt.hidden, prompt.pooled)
        };
        let rows = conditioning.dim(0)?;
        // SDXL's size conditioning: original size, crop origin and target
        // size, all the generation's size and no crop.
        let added = match pooled {
            Some(text_embeds) => {
                let (height, width) = (generation.height as f32, generation.width as f32);
                let ids = [height, width, 0.0, 0.0, height, width];
                let time_ids = Tensor::new(&ids, &self.device)?
                    .unsqueeze(0)?
                    .repeat((rows, 1))?
                    .to_dtype(self.dtype)?;
                Some(AddedConditioning { text_embeds, time_ids })
            }
            None => None,
        };

        let scheduler = Scheduler::new(generation.scheduler, &self.scheduler_config, generation.steps);
        let shape = [
            1,
            self.latent_channels,
            generation.height / self.vae_scale_factor,
            generation.width / self.vae_scale_factor,
        ];
        let (mut latents, start, extra, unet) = match inputs {
            Inputs::Text => {
                let latents =
                    (noise.tensor(&shape, &self.device)?.to_dtype(self.dtype)? * scheduler.init_noise_sigma())?;
                (latents, 0, None, &self.unet)
            }
            Inputs::Image { image, strength } => {
                let start = scheduler.start_index(*strength);
                let clean = self.encode_image(image, noise)?;
                let fresh = noise.tensor(&shape, &self.device)?.to_dtype(self.dtype)?;
                (scheduler.add_noise(&clean, &fresh, start)?, start, None, &self.unet)
            }
            Inputs::Inpaint { image, mask, strength } => {
                let unet = self
                    .inpaint_unet
                    .as_ref()
                    .ok_or_else(|| PipelineError::MissingFile("inpainting unet".into()))?;
                let start = scheduler.start_index(*strength);
                let full_strength = *strength >= 1.0;
                let clean = if full_strength {
                    None
                } else {
                    Some(self.encode_image(image, noise)?)
                };
                let fresh = noise.tensor(&shape, &self.device)?.to_dtype(self.dtype)?;
                let latents = match clean {
                    None => (fresh * scheduler.init_noise_sigma())?,
                    Some(clean) => scheduler.add_noise(&clean, &fresh, start)?,
                };
                let mask = mask.to_dtype(self.dtype)?.ge(0.5)?.to_dtype(self.dtype)?;
                let keep = (1.0 - &mask)?;
                let masked_image = self.encode_image_masked(image, &keep, noise)?;
                let latent_mask = downsample_nearest(&mask, self.vae_scale_factor)?;
                (
                    latents,
                    start,
                    Some(Tensor::cat(&[latent_mask, masked_image], 1)?),
                    unet,
                )
            }
        };

        let timesteps = &scheduler.timesteps()[start..];
        let total = timesteps.len();
        for (offset, &timestep) in timesteps.iter().enumerate() {
            let index = start + offset;
            let input = if guided {
                Tensor::cat(&[&latents, &latents], 0)?
            } else {
                latents.clone()
            };
            let mut input = scheduler.scale_model_input(&input, index)?;
            if let Some(extra) = &extra {
                let extra = if guided {
                    Tensor::cat(&[extra, extra], 0)?
                } else {
                    extra.clone()
                };
                input = Tensor::cat(&[input, extra], 1)?;
            }
            let predicted = unet.forward(&input, timestep, &conditioning, added.as_ref())?;
            let predicted = if guided {
                let parts = predicted.chunk(2, 0)?;
                (&parts[0] + ((&parts[1] - &parts[0])? * generation.guidance)?)?
            } else {
                predicted
            };
            latents = scheduler.step(&predicted, index, &latents, noise)?;
            on_step(offset + 1, total)?;
        }
        Ok(latents)
    }

    /// Runs one text-to-image step, and one inpainting step when the model
    /// can inpaint, at the smallest size, and checks that the images are finite.
    pub fn verify(&self) -> Result<(), PipelineError> {
        let side = self.vae_scale_factor * 8;
        let generation = Generation {
            prompt: "a grey cube on a table".into(),
            negative_prompt: "blurry".into(),
            width: side,
            height: side,
            steps: 1,
            guidance: 5.0,
            scheduler: Kind::Euler,
        };
        let mut ignore = |_: usize, _: usize| Ok(());
        let mut runs = vec![Inputs::Text];
        if self.can_inpaint() {
            let image = Tensor::full(0.5f32, (1, 3, side, side), &self.device)?;
            let mask = Tensor::ones((1, 1, side, side), DType::F32, &self.device)?;
            runs.push(Inputs::Inpaint {
                image,
                mask,
                strength: 1.0,
            });
        }
        for inputs in &runs {
            let image = self.generate(&generation, inputs, &mut Noise::new(0), &mut ignore)?;
            let finite = image
                .flatten_all()?
                .to_vec1::<f32>()?
                .iter()
                .all(|value| value.is_finite());
            if !finite {
                return Err(PipelineError::Input(
                    "the generated image has NaN or infinite values; the weights may be damaged, so delete and pull the model again".into(),
                ));
            }
        }
        Ok(())
    }

    /// Encodes an image in 0..=1 into scaled latents, sampling the posterior.
    fn encode_image(&self, image: &Tensor, noise: &mut Noise) -> Result<Tensor, PipelineError> {
        let normalized = ((image.to_dtype(self.dtype)? * 2.0)? - 1.0)?;
        self.encode_normalized(&normalized, noise)
    }

    /// Encodes the part of an image that `keep` (1 = keep) leaves, with the
    /// masked part set to 0 in -1..=1 space, as diffusers' inpainting does.
    fn encode_image_masked(&self, image: &Tensor, keep: &Tensor, noise: &mut Noise) -> Result<Tensor, PipelineError> {
        let normalized = ((image.to_dtype(self.dtype)? * 2.0)? - 1.0)?;
        self.encode_normalized(&normalized.broadcast_mul(keep)?, noise)
    }

    fn encode_normalized(&self, normalized: &Tensor, noise: &mut Noise) -> Result<Tensor, PipelineError> {
        let posterior = self.vae_encoder.encode(normalized)?;
        Ok((posterior.sample(noise)? * self.vae_scaling)?)
    }

    /// Decodes latents into an image with values in 0..=1. Latents larger
    /// than [`TILE_LATENTS`] a side are decoded in overlapping tiles.
    pub fn decode(&self, latents: &Tensor) -> Result<Tensor, PipelineError> {
        self.decode_tiled(latents, TILE_LATENTS, TILE_OVERLAP)
    }

    /// Decodes latents in tiles of `tile` latents a side that overlap by
    /// `overlap`, blending the overlaps with linear ramps. The VAE's attention
    /// needs memory that grows with the square of the pixel count, so tiles
    /// bound it. A latent no larger than one tile is decoded whole.
    pub fn decode_tiled(&self, latents: &Tensor, tile: usize, overlap: usize) -> Result<Tensor, PipelineError> {
        let scaled = (latents / self.vae_scaling)?;
        let (_, _, height, width) = scaled.dims4()?;
        let image = if height <= tile && width <= tile {
            self.vae.decode(&scaled)?
        } else {
            let factor = self.vae_scale_factor;
            let rows = tile_starts(height, tile, overlap);
            let columns = tile_starts(width, tile, overlap);
            let mut sum = Tensor::zeros((1, 3, height * factor, width * factor), DType::F32, &self.device)?;
            let mut weights = Tensor::zeros((1, 1, height * factor, width * factor), DType::F32, &self.device)?;
            for &top in &rows {
                for &left in &columns {
                    let (tile_height, tile_width) = (tile.min(height - top), tile.min(width - left));
                    let part = scaled.narrow(2, top, tile_height)?.narrow(3, left, tile_width)?;
                    let decoded = self.vae.decode(&part)?.to_dtype(DType::F32)?;
                    let ramp = |start: usize, length: usize, total: usize| {
                        blend_ramp(length * factor, overlap * factor, start > 0, start + length < total)
                    };
                    let vertical = Tensor::new(ramp(top, tile_height, height), &self.device)?;
                    let horizontal = Tensor::new(ramp(left, tile_width, width), &self.device)?;
                    let weight = vertical
                        .reshape((1, 1, tile_height * factor, 1))?
                        .broadcast_mul(&horizontal.reshape((1, 1, 1, tile_width * factor))?)?;
                    let rows = top * factor..(top + tile_height) * factor;
                    let columns = left * factor..(left + tile_width) * factor;
                    let weighted = decoded.broadcast_mul(&weight)?;
                    let region = [0..1, 0..3, rows.clone(), columns.clone()];
                    let current = sum.i((.., .., rows.clone(), columns.clone()))?;
                    sum = sum.slice_assign(&region, &(current + weighted)?)?;
                    let region = [0..1, 0..1, rows.clone(), columns.clone()];
                    let current = weights.i((.., .., rows, columns))?;
                    weights = weights.slice_assign(&region, &(current + weight)?)?;
                }
            }
            sum.broadcast_div(&weights)?
        };
        Ok(((image / 2.0)? + 0.5)?.clamp(0f32, 1f32)?.to_dtype(DType::F32)?)
    }
}

/// Side of a decoder tile in latents: 1024 pixels for a VAE that scales by 8.
pub const TILE_LATENTS: usize = 128;
/// Overlap of neighbouring decoder tiles in latents.
pub const TILE_OVERLAP: usize = 16;

/// Returns the first row (or column) of each tile along a side of `length`
/// latents, the last tile ending at the edge.
fn tile_starts(length: usize, tile: usize, overlap: usize) -> Vec<usize> {
    let stride = tile.saturating_sub(overlap).max(1);
    let mut starts: Vec<usize> = (0..length.saturating_sub(tile)).step_by(stride).collect();
    starts.push(length.saturating_sub(tile));
    starts.dedup();
    starts
}

/// Returns blend weights along one side of a tile of `length` pixels: 1 in
/// the middle, rising linearly over `overlap` pixels at each edge that has a
/// neighbour. Weights stay above 0 so every pixel has a weight.
fn blend_ramp(length: usize, overlap: usize, before: bool, after: bool) -> Vec<f32> {
    (0..length)
        .map(|index| {
            let mut weight = 1.0f32;
            if before && index < overlap {
                weight = weight.min((index as f32 + 1.0) / (overlap as f32 + 1.0));
            }
            if after && length - index <= overlap {
                weight = weight.min((length - index) as f32 / (overlap as f32 + 1.0));
            }
            weight
        })
        .collect()
}

/// Shrinks a `[batch, channels, height, width]` mask by `factor`, taking the
/// top-left pixel of each cell (PyTorch's `interpolate` in `nearest` mode).
fn downsample_nearest(mask: &Tensor, factor: usize) -> candle_core::Result<Tensor> {
    let (_, _, height, width) = mask.dims4()?;
    let rows: Vec<u32> = (0..height / factor).map(|row| (row * factor) as u32).collect();
    let columns: Vec<u32> = (0..width / factor).map(|column| (column * factor) as u32).collect();
    let device = mask.device();
    mask.index_select(&Tensor::new(rows.as_slice(), device)?, 2)?
        .index_select(&Tensor::new(columns.as_slice(), device)?, 3)
}

/// Converts an RGB image with values in 0..=1 to `[1, 3, height, width]`.
pub fn from_rgb32f(image: &image::Rgb32FImage, device: &Device) -> candle_core::Result<Tensor> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    Tensor::from_vec(image.as_raw().clone(), (height, width, 3), device)?
        .permute((2, 0, 1))?
        .unsqueeze(0)
}

/// Converts a grey mask with values in 0..=1 to `[1, 1, height, width]`.
pub fn mask_from_luma32f(
    mask: &image::ImageBuffer<image::Luma<f32>, Vec<f32>>,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let (width, height) = (mask.width() as usize, mask.height() as usize);
    Tensor::from_vec(mask.as_raw().clone(), (1, 1, height, width), device)
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
