//! Model catalogue and Hugging Face cache of Deferred Diffusion.
//!
//! [`Catalog`] reads `models.toml`: the models the product ships with, plus
//! the entries of a user file that add or override models. [`HfCache`] finds
//! their weights in the standard Hugging Face cache, in the layout Python's
//! huggingface_hub writes, so weights downloaded by Python tools are reused.

pub mod cache;
pub mod catalog;

pub use cache::{CacheError, HfCache, ModelFiles};
pub use catalog::{Catalog, CatalogError, Component, ModelEntry};
