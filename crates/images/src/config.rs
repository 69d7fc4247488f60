//! Diffusers `config.json` files of the UNet and the VAE.

use candle_transformers::models::stable_diffusion::vae;
use serde::Deserialize;

/// A single value or one value per block, as diffusers writes `attention_head_dim`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PerBlock {
    One(usize),
    Each(Vec<usize>),
}

impl PerBlock {
    fn get(&self, index: usize) -> usize {
        match self {
            Self::One(value) => *value,
            Self::Each(values) => values[index.min(values.len() - 1)],
        }
    }
}

/// Fields of `unet/config.json` used by the UNet.
#[derive(Debug, Clone, Deserialize)]
pub struct UNetConfig {
    pub in_channels: usize,
    #[serde(default = "four")]
    pub out_channels: usize,
    pub block_out_channels: Vec<usize>,
    pub down_block_types: Vec<String>,
    #[serde(default = "two")]
    pub layers_per_block: usize,
    pub cross_attention_dim: usize,
    /// Number of attention heads per block (diffusers' historical name).
    pub attention_head_dim: PerBlock,
    #[serde(default)]
    pub num_attention_heads: Option<PerBlock>,
    #[serde(default)]
    pub transformer_layers_per_block: Option<PerBlock>,
    #[serde(default = "groups")]
    pub norm_num_groups: usize,
    #[serde(default = "eps")]
    pub norm_eps: f64,
    #[serde(default = "yes")]
    pub flip_sin_to_cos: bool,
    #[serde(default)]
    pub freq_shift: f64,
    #[serde(default = "one")]
    pub downsample_padding: usize,
    #[serde(default = "scale")]
    pub mid_block_scale_factor: f64,
    #[serde(default)]
    pub use_linear_projection: bool,
    #[serde(default)]
    pub center_input_sample: bool,
    #[serde(default)]
    pub addition_embed_type: Option<String>,
    /// Width of each of the six embedded size and crop numbers (SDXL).
    #[serde(default)]
    pub addition_time_embed_dim: Option<usize>,
    /// Input width of `add_embedding`: pooled text width plus six times `addition_time_embed_dim`.
    #[serde(default)]
    pub projection_class_embeddings_input_dim: Option<usize>,
}

fn four() -> usize {
    4
}
fn two() -> usize {
    2
}
fn one() -> usize {
    1
}
fn groups() -> usize {
    32
}
fn eps() -> f64 {
    1e-5
}
fn yes() -> bool {
    true
}
fn scale() -> f64 {
    1.0
}
fn scaling() -> f64 {
    0.18215
}

impl UNetConfig {
    /// Returns true if level `index` has cross-attention to the text.
    pub fn cross_attention(&self, index: usize) -> bool {
        self.down_block_types
            .get(index)
            .is_some_and(|kind| kind.starts_with("CrossAttn"))
    }

    /// Transformer blocks per attention layer at level `index`.
    pub fn transformer_layers(&self, index: usize) -> usize {
        self.transformer_layers_per_block
            .as_ref()
            .map(|layers| layers.get(index))
            .unwrap_or(1)
    }

    /// Attention heads at level `index`.
    pub fn heads(&self, index: usize) -> usize {
        self.num_attention_heads
            .as_ref()
            .unwrap_or(&self.attention_head_dim)
            .get(index)
    }
}

/// Fields of `vae/config.json` used by the autoencoder.
#[derive(Debug, Clone, Deserialize)]
pub struct VaeConfig {
    pub block_out_channels: Vec<usize>,
    #[serde(default = "one")]
    pub layers_per_block: usize,
    #[serde(default = "four")]
    pub latent_channels: usize,
    #[serde(default = "groups")]
    pub norm_num_groups: usize,
    #[serde(default = "scaling")]
    pub scaling_factor: f64,
    #[serde(default = "yes")]
    pub use_quant_conv: bool,
    #[serde(default = "yes")]
    pub use_post_quant_conv: bool,
}

impl VaeConfig {
    pub fn candle(&self) -> vae::AutoEncoderKLConfig {
        vae::AutoEncoderKLConfig {
            block_out_channels: self.block_out_channels.clone(),
            layers_per_block: self.layers_per_block,
            latent_channels: self.latent_channels,
            norm_num_groups: self.norm_num_groups,
            use_quant_conv: self.use_quant_conv,
            use_post_quant_conv: self.use_post_quant_conv,
        }
    }
}
