//! External providers: OpenAI (images, texts, Sora videos) and Replicate
//! predictions (image and video models), as engine executors.
//!
//! Each model's request mapping lives in [`images`], [`videos`] and
//! [`texts`]; [`openai`] and [`replicate`] speak the providers' HTTP APIs
//! through [`http`], which retries rate limits and server errors.

pub mod config;
pub mod http;
pub mod images;
pub mod inputs;
pub mod openai;
pub mod replicate;
pub mod texts;
pub mod videos;

pub use config::{Keys, ProviderConfig};
