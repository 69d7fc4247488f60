//! Image domain of Deferred Diffusion: Stable Diffusion pipelines on candle.
//!
//! [`pipeline::SdPipeline`] loads a repository in diffusers layout and runs
//! it with our CLIP tokenizer and text encoder ([`tokenizer`], [`clip`]),
//! candle's UNet and VAE, our schedulers ([`schedulers`]) and seeded noise
//! ([`noise`]). [`fixtures`] writes tiny random-weight models for tests.

pub mod clip;
pub mod config;
pub mod device;
pub mod executor;
pub mod fixtures;
pub mod inputs;
pub mod noise;
pub mod output;
pub mod parity;
pub mod pipeline;
pub mod schedulers;
pub mod tokenizer;
pub mod unet;
pub mod vae_decoder;
pub mod vae_encoder;
pub mod weights;
