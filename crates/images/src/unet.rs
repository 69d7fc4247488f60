//! The conditional UNet of Stable Diffusion 1.x, 2.x and SDXL, assembled from
//! candle's down, mid and up blocks.
//!
//! candle's `UNet2DConditionModel` builds the timestep embedding inside its
//! forward pass, so it cannot add SDXL's "text_time" conditioning. That
//! conditioning embeds the pooled text and six size and crop numbers and adds
//! them to the timestep embedding. This module computes the same network with
//! that addition, from weights named as in diffusers.

use candle_core::{Module, Result, Tensor};
use candle_nn::{conv2d, group_norm, Conv2d, Conv2dConfig, GroupNorm, VarBuilder};
use candle_transformers::models::stable_diffusion::embeddings::{TimestepEmbedding, Timesteps};
use candle_transformers::models::stable_diffusion::unet_2d_blocks::{
    CrossAttnDownBlock2D, CrossAttnDownBlock2DConfig, CrossAttnUpBlock2D, CrossAttnUpBlock2DConfig, DownBlock2D,
    DownBlock2DConfig, UNetMidBlock2DCrossAttn, UNetMidBlock2DCrossAttnConfig, UpBlock2D, UpBlock2DConfig,
};

use crate::config::UNetConfig;

/// SDXL's added conditioning for a batch of `B` rows.
#[derive(Debug, Clone)]
pub struct AddedConditioning {
    /// Pooled, projected output of the second text encoder, `[B, projection]`.
    pub text_embeds: Tensor,
    /// Original height and width, crop top and left, target height and width, `[B, 6]`.
    pub time_ids: Tensor,
}

/// The layers that embed [`AddedConditioning`] (`add_time_proj` and `add_embedding`).
struct Addition {
    time_proj: Timesteps,
    embedding: TimestepEmbedding,
}

enum Down {
    Plain(DownBlock2D),
    CrossAttention(CrossAttnDownBlock2D),
}

enum Up {
    Plain(UpBlock2D),
    CrossAttention(CrossAttnUpBlock2D),
}

impl Up {
    fn resnet_count(&self) -> usize {
        match self {
            Self::Plain(block) => block.resnets.len(),
            Self::CrossAttention(block) => block.upblock.resnets.len(),
        }
    }
}

/// A UNet with its weights.
pub struct Unet {
    conv_in: Conv2d,
    time_proj: Timesteps,
    time_embedding: TimestepEmbedding,
    addition: Option<Addition>,
    down: Vec<Down>,
    mid: UNetMidBlock2DCrossAttn,
    up: Vec<Up>,
    conv_norm_out: GroupNorm,
    conv_out: Conv2d,
    center_input_sample: bool,
}

/// One level of the UNet: its width, whether it attends to the text, and its
/// transformer depth and head count.
#[derive(Debug, Clone, Copy)]
struct Level {
    channels: usize,
    cross_attention: bool,
    transformer_layers: usize,
    heads: usize,
}

impl Unet {
    /// Builds the UNet described by `config` from weights named as in
    /// diffusers (`down_blocks.1.attentions.0.proj_in.weight`, ...).
    pub fn new(vb: VarBuilder, config: &UNetConfig) -> Result<Self> {
        let levels: Vec<Level> = (0..config.block_out_channels.len())
            .map(|index| Level {
                channels: config.block_out_channels[index],
                cross_attention: config.cross_attention(index),
                transformer_layers: config.transformer_layers(index),
                heads: config.heads(index),
            })
            .collect();
        let count = levels.len();
        let first = levels[0].channels;
        let time_embed_dim = first * 4;
        let padded = Conv2dConfig {
            padding: 1,
            ..Default::default()
        };

        let conv_in = conv2d(config.in_channels, first, 3, padded, vb.pp("conv_in"))?;
        let time_proj = Timesteps::new(first, config.flip_sin_to_cos, config.freq_shift);
        let time_embedding = TimestepEmbedding::new(vb.pp("time_embedding"), first, time_embed_dim)?;
        let addition = match config.addition_embed_type.as_deref() {
            None => None,
            Some("text_time") => {
                let missing = |field: &str| {
                    candle_core::Error::Msg(format!(
                        "invalid unet config: addition_embed_type is text_time but {field} is missing"
                    ))
                };
                let time_dim = config
                    .addition_time_embed_dim
                    .ok_or_else(|| missing("addition_time_embed_dim"))?;
                let input_dim = config
                    .projection_class_embeddings_input_dim
                    .ok_or_else(|| missing("projection_class_embeddings_input_dim"))?;
                Some(Addition {
                    time_proj: Timesteps::new(time_dim, config.flip_sin_to_cos, config.freq_shift),
                    embedding: TimestepEmbedding::new(vb.pp("add_embedding"), input_dim, time_embed_dim)?,
                })
            }
            Some(other) => {
                candle_core::bail!("unsupported unet addition_embed_type {other:?}; only text_time is supported")
            }
        };

        let plain_down = |index: usize| DownBlock2DConfig {
            num_layers: config.layers_per_block,
            resnet_eps: config.norm_eps,
            resnet_groups: config.norm_num_groups,
            add_downsample: index + 1 < count,
            downsample_padding: config.downsample_padding,
            ..Default::default()
        };
        let down = levels
            .iter()
            .enumerate()
            .map(|(index, level)| {
                let vb = vb.pp("down_blocks").pp(index);
                let in_channels = if index == 0 { first } else { levels[index - 1].channels };
                let temb = Some(time_embed_dim);
                if level.cross_attention {
                    let block_config = CrossAttnDownBlock2DConfig {
                        downblock: plain_down(index),
                        attn_num_head_channels: level.heads,
                        cross_attention_dim: config.cross_attention_dim,
                        sliced_attention_size: None,
                        use_linear_projection: config.use_linear_projection,
                        transformer_layers_per_block: level.transformer_layers,
                    };
                    CrossAttnDownBlock2D::new(vb, in_channels, level.channels, temb, false, block_config)
                        .map(Down::CrossAttention)
                } else {
                    DownBlock2D::new(vb, in_channels, level.channels, temb, plain_down(index)).map(Down::Plain)
                }
            })
            .collect::<Result<Vec<_>>>()?;

        let last = levels[count - 1];
        let mid = UNetMidBlock2DCrossAttn::new(
            vb.pp("mid_block"),
            last.channels,
            Some(time_embed_dim),
            false,
            UNetMidBlock2DCrossAttnConfig {
                resnet_eps: config.norm_eps,
                output_scale_factor: config.mid_block_scale_factor,
                cross_attn_dim: config.cross_attention_dim,
                attn_num_head_channels: last.heads,
                resnet_groups: Some(config.norm_num_groups),
                use_linear_projection: config.use_linear_projection,
                transformer_layers_per_block: last.transformer_layers,
                ..Default::default()
            },
        )?;

        // Up block `index` mirrors level `count - 1 - index`. It takes the
        // previous up block's output and the skip connections of its level
        // and the level below.
        let up = (0..count)
            .map(|index| {
                let level = levels[count - 1 - index];
                let vb = vb.pp("up_blocks").pp(index);
                let previous = if index == 0 {
                    last.channels
                } else {
                    levels[count - index].channels
                };
                let skip = levels[(count - 1 - index).saturating_sub(1)].channels;
                let plain = UpBlock2DConfig {
                    num_layers: config.layers_per_block + 1,
                    resnet_eps: config.norm_eps,
                    resnet_groups: config.norm_num_groups,
                    add_upsample: index + 1 < count,
                    ..Default::default()
                };
                let temb = Some(time_embed_dim);
                if level.cross_attention {
                    let block_config = CrossAttnUpBlock2DConfig {
                        upblock: plain,
                        attn_num_head_channels: level.heads,
                        cross_attention_dim: config.cross_attention_dim,
                        sliced_attention_size: None,
                        use_linear_projection: config.use_linear_projection,
                        transformer_layers_per_block: level.transformer_layers,
                    };
                    CrossAttnUpBlock2D::new(vb, skip, previous, level.channels, temb, false, block_config)
                        .map(Up::CrossAttention)
                } else {
                    UpBlock2D::new(vb, skip, previous, level.channels, temb, plain).map(Up::Plain)
                }
            })
            .collect::<Result<Vec<_>>>()?;

        Ok(Self {
            conv_in,
            time_proj,
            time_embedding,
            addition,
            down,
            mid,
            up,
            conv_norm_out: group_norm(config.norm_num_groups, first, config.norm_eps, vb.pp("conv_norm_out"))?,
            conv_out: conv2d(first, config.out_channels, 3, padded, vb.pp("conv_out"))?,
            center_input_sample: config.center_input_sample,
        })
    }

    /// Returns true if the UNet needs [`AddedConditioning`].
    pub fn needs_added_conditioning(&self) -> bool {
        self.addition.is_some()
    }

    /// Predicts the noise (or velocity) for latents `xs` (`[B, C, h, w]`) at
    /// `timestep`, conditioned on `text` (`[B, tokens, cross_attention_dim]`).
    pub fn forward(
        &self,
        xs: &Tensor,
        timestep: f64,
        text: &Tensor,
        added: Option<&AddedConditioning>,
    ) -> Result<Tensor> {
        let (batch, _, height, width) = xs.dims4()?;
        let device = xs.device();
        let dtype = xs.dtype();

        let steps = (Tensor::ones(batch, dtype, device)? * timestep)?;
        let mut emb = self.time_embedding.forward(&self.time_proj.forward(&steps)?)?;
        match (&self.addition, added) {
            (None, _) => {}
            (Some(addition), Some(added)) => {
                let time_ids = added.time_ids.to_dtype(dtype)?.flatten_all()?;
                let time_embeds = addition.time_proj.forward(&time_ids)?.reshape((batch, ()))?;
                let combined = Tensor::cat(&[&added.text_embeds.to_dtype(dtype)?, &time_embeds], 1)?;
                emb = (emb + addition.embedding.forward(&combined)?)?;
            }
            (Some(_), None) => candle_core::bail!(
                "missing added conditioning: this SDXL UNet needs the pooled text embedding and time ids"
            ),
        }

        let xs = if self.center_input_sample {
            ((xs * 2.0)? - 1.0)?
        } else {
            xs.clone()
        };
        let mut xs = self.conv_in.forward(&xs)?;
        let mut skips = vec![xs.clone()];
        for block in &self.down {
            let (out, states) = match block {
                Down::Plain(block) => block.forward(&xs, Some(&emb))?,
                Down::CrossAttention(block) => block.forward(&xs, Some(&emb), Some(text))?,
            };
            skips.extend(states);
            xs = out;
        }
        xs = self.mid.forward(&xs, Some(&emb), Some(text))?;

        // Sides that do not halve evenly at every level need the upsampler
        // to match the skip connection's size instead of doubling.
        let factor = 1usize << (self.up.len() - 1);
        let uneven = height % factor != 0 || width % factor != 0;
        for (index, block) in self.up.iter().enumerate() {
            let states = skips.split_off(skips.len() - block.resnet_count());
            let upsample_size = match skips.last() {
                Some(skip) if uneven && index + 1 < self.up.len() => {
                    let (_, _, h, w) = skip.dims4()?;
                    Some((h, w))
                }
                _ => None,
            };
            xs = match block {
                Up::Plain(block) => block.forward(&xs, &states, Some(&emb), upsample_size)?,
                Up::CrossAttention(block) => block.forward(&xs, &states, Some(&emb), upsample_size, Some(text))?,
            };
        }
        let xs = candle_nn::ops::silu(&self.conv_norm_out.forward(&xs)?)?;
        self.conv_out.forward(&xs)
    }
}
