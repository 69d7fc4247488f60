//! The VAE encoder with access to its posterior's mean and standard deviation.
//!
//! candle's `AutoEncoderKL::encode` samples the posterior with an unseeded
//! generator and hides the mean and deviation, so image-to-image and
//! inpainting could not be reproduced. This module builds the same encoder
//! from candle's public blocks and the same weights (`encoder.*`, `quant_conv.*`).

use candle_core::{Module, Result, Tensor};
use candle_nn::{conv2d, group_norm, Conv2d, Conv2dConfig, GroupNorm, VarBuilder};
use candle_transformers::models::stable_diffusion::unet_2d_blocks::{
    DownEncoderBlock2D, DownEncoderBlock2DConfig, UNetMidBlock2D, UNetMidBlock2DConfig,
};

use crate::config::VaeConfig;
use crate::noise::Noise;

/// The diagonal Gaussian the encoder returns for an image.
pub struct Posterior {
    pub mean: Tensor,
    pub std: Tensor,
}

impl Posterior {
    /// Draws `mean + std × noise`, taking the noise from `noise` as diffusers
    /// takes it from its generator.
    pub fn sample(&self, noise: &mut Noise) -> Result<Tensor> {
        let fresh = noise
            .tensor(self.mean.dims(), self.mean.device())?
            .to_dtype(self.mean.dtype())?;
        &self.mean + (&self.std * fresh)?
    }
}

pub struct VaeEncoder {
    conv_in: Conv2d,
    down_blocks: Vec<DownEncoderBlock2D>,
    mid_block: UNetMidBlock2D,
    conv_norm_out: GroupNorm,
    conv_out: Conv2d,
    quant_conv: Option<Conv2d>,
}

impl VaeEncoder {
    /// Builds the encoder from the weights of a whole `AutoencoderKL`.
    pub fn new(vb: VarBuilder, config: &VaeConfig) -> Result<Self> {
        let padded = Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        let encoder = vb.pp("encoder");
        let channels = &config.block_out_channels;
        let conv_in = conv2d(3, channels[0], 3, padded, encoder.pp("conv_in"))?;
        let mut down_blocks = Vec::new();
        for (index, &out_channels) in channels.iter().enumerate() {
            let in_channels = if index == 0 { channels[0] } else { channels[index - 1] };
            let block = DownEncoderBlock2DConfig {
                num_layers: config.layers_per_block,
                resnet_eps: 1e-6,
                resnet_groups: config.norm_num_groups,
                add_downsample: index + 1 < channels.len(),
                downsample_padding: 0,
                ..Default::default()
            };
            down_blocks.push(DownEncoderBlock2D::new(
                encoder.pp("down_blocks").pp(index),
                in_channels,
                out_channels,
                block,
            )?);
        }
        let last = *channels.last().expect("a VAE has at least one block");
        let mid = UNetMidBlock2DConfig {
            resnet_eps: 1e-6,
            output_scale_factor: 1.0,
            attn_num_head_channels: None,
            resnet_groups: Some(config.norm_num_groups),
            ..Default::default()
        };
        let mid_block = UNetMidBlock2D::new(encoder.pp("mid_block"), last, None, mid)?;
        let conv_norm_out = group_norm(config.norm_num_groups, last, 1e-6, encoder.pp("conv_norm_out"))?;
        let conv_out = conv2d(last, 2 * config.latent_channels, 3, padded, encoder.pp("conv_out"))?;
        let quant_conv = if config.use_quant_conv {
            let moments = 2 * config.latent_channels;
            Some(conv2d(moments, moments, 1, Default::default(), vb.pp("quant_conv"))?)
        } else {
            None
        };
        Ok(Self {
            conv_in,
            down_blocks,
            mid_block,
            conv_norm_out,
            conv_out,
            quant_conv,
        })
    }

    /// Encodes an image with values in -1..=1, `[batch, 3, height, width]`.
    pub fn encode(&self, image: &Tensor) -> Result<Posterior> {
        let mut xs = self.conv_in.forward(image)?;
        for block in &self.down_blocks {
            xs = block.forward(&xs)?;
        }
        let xs = self.conv_norm_out.forward(&self.mid_block.forward(&xs, None)?)?;
        let mut moments = self.conv_out.forward(&candle_nn::ops::silu(&xs)?)?;
        if let Some(quant_conv) = &self.quant_conv {
            moments = quant_conv.forward(&moments)?;
        }
        let halves = moments.chunk(2, 1)?;
        let log_variance = halves[1].clamp(-30f32, 20f32)?;
        Ok(Posterior {
            mean: halves[0].clone(),
            std: (log_variance * 0.5)?.exp()?,
        })
    }
}
