//! The VAE decoder alone, from candle's public blocks.
//!
//! candle's `AutoEncoderKL` always builds the encoder too, and the pipeline
//! has its own encoder ([`crate::vae_encoder`]), so the encoder's weights
//! would be in memory twice. This module reads only `decoder.*` and
//! `post_quant_conv.*`.

use candle_core::{Module, Result, Tensor};
use candle_nn::{conv2d, group_norm, Conv2d, Conv2dConfig, GroupNorm, VarBuilder};
use candle_transformers::models::stable_diffusion::unet_2d_blocks::{
    UNetMidBlock2D, UNetMidBlock2DConfig, UpDecoderBlock2D, UpDecoderBlock2DConfig,
};

use crate::config::VaeConfig;

pub struct VaeDecoder {
    post_quant_conv: Option<Conv2d>,
    conv_in: Conv2d,
    mid_block: UNetMidBlock2D,
    up_blocks: Vec<UpDecoderBlock2D>,
    conv_norm_out: GroupNorm,
    conv_out: Conv2d,
}

impl VaeDecoder {
    /// Builds the decoder from the weights of a whole `AutoencoderKL`.
    pub fn new(vb: VarBuilder, config: &VaeConfig) -> Result<Self> {
        let padded = Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        let latent = config.latent_channels;
        let post_quant_conv = if config.use_post_quant_conv {
            Some(conv2d(latent, latent, 1, Default::default(), vb.pp("post_quant_conv"))?)
        } else {
            None
        };
        let decoder = vb.pp("decoder");
        // The decoder runs the blocks from the widest to the narrowest.
        let channels: Vec<usize> = config.block_out_channels.iter().rev().copied().collect();
        let widest = channels[0];
        let conv_in = conv2d(latent, widest, 3, padded, decoder.pp("conv_in"))?;
        let mid = UNetMidBlock2DConfig {
            resnet_eps: 1e-6,
            output_scale_factor: 1.0,
            attn_num_head_channels: None,
            resnet_groups: Some(config.norm_num_groups),
            ..Default::default()
        };
        let mid_block = UNetMidBlock2D::new(decoder.pp("mid_block"), widest, None, mid)?;
        let mut up_blocks = Vec::new();
        for (index, &out_channels) in channels.iter().enumerate() {
            let in_channels = if index == 0 { widest } else { channels[index - 1] };
            let block = UpDecoderBlock2DConfig {
                num_layers: config.layers_per_block + 1,
                resnet_eps: 1e-6,
                resnet_groups: config.norm_num_groups,
                add_upsample: index + 1 < channels.len(),
                ..Default::default()
            };
            up_blocks.push(UpDecoderBlock2D::new(
                decoder.pp("up_blocks").pp(index),
                in_channels,
                out_channels,
                block,
            )?);
        }
        let narrowest = *channels.last().expect("a VAE has at least one block");
        Ok(Self {
            post_quant_conv,
            conv_in,
            mid_block,
            up_blocks,
            conv_norm_out: group_norm(config.norm_num_groups, narrowest, 1e-6, decoder.pp("conv_norm_out"))?,
            conv_out: conv2d(narrowest, 3, 3, padded, decoder.pp("conv_out"))?,
        })
    }

    /// Decodes unscaled latents into an image with values around -1..=1.
    pub fn decode(&self, latents: &Tensor) -> Result<Tensor> {
        let latents = match &self.post_quant_conv {
            Some(conv) => conv.forward(latents)?,
            None => latents.clone(),
        };
        let mut xs = self.mid_block.forward(&self.conv_in.forward(&latents)?, None)?;
        for block in &self.up_blocks {
            xs = block.forward(&xs)?;
        }
        let xs = candle_nn::ops::silu(&self.conv_norm_out.forward(&xs)?)?;
        self.conv_out.forward(&xs)
    }
}
