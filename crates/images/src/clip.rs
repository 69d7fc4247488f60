//! CLIP text encoder, as `transformers`' `CLIPTextModel` and
//! `CLIPTextModelWithProjection` compute it.
//!
//! Our own module rather than candle's: Stable Diffusion 2 needs `gelu`, and
//! SDXL needs the penultimate hidden state and the projected pooled output.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{embedding, layer_norm, linear, linear_no_bias, Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

/// The fields of a text encoder's `config.json` that the computation needs.
#[derive(Debug, Clone, Deserialize)]
pub struct ClipTextConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_activation")]
    pub hidden_act: String,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub projection_dim: Option<usize>,
}

fn default_activation() -> String {
    "quick_gelu".into()
}

fn default_eps() -> f64 {
    1e-5
}

/// Hidden states of one forward pass.
pub struct TextOutput {
    /// Output of the last layer after the final layer norm, `[batch, tokens, hidden]`.
    pub last_hidden_state: Tensor,
    /// Output of the second-to-last layer, without the final layer norm.
    pub penultimate_hidden_state: Tensor,
    /// Final-layer-norm output at the end token, projected when the model has
    /// a text projection, `[batch, hidden or projection]`.
    pub pooled: Tensor,
}

struct Attention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    fn new(vb: VarBuilder, config: &ClipTextConfig) -> Result<Self> {
        let size = config.hidden_size;
        Ok(Self {
            q_proj: linear(size, size, vb.pp("q_proj"))?,
            k_proj: linear(size, size, vb.pp("k_proj"))?,
            v_proj: linear(size, size, vb.pp("v_proj"))?,
            out_proj: linear(size, size, vb.pp("out_proj"))?,
            heads: config.num_attention_heads,
            head_dim: size / config.num_attention_heads,
        })
    }

    fn forward(&self, xs: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (batch, tokens, size) = xs.dims3()?;
        let split = |t: Tensor| {
            t.reshape((batch, tokens, self.heads, self.head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let scale = (self.head_dim as f64).powf(-0.5);
        let q = split((self.q_proj.forward(xs)? * scale)?)?;
        let k = split(self.k_proj.forward(xs)?)?;
        let v = split(self.v_proj.forward(xs)?)?;
        let scores = q.matmul(&k.t()?)?.broadcast_add(mask)?;
        let weights = candle_nn::ops::softmax_last_dim(&scores.to_dtype(DType::F32)?)?.to_dtype(v.dtype())?;
        let attended = weights.matmul(&v)?.transpose(1, 2)?.reshape((batch, tokens, size))?;
        self.out_proj.forward(&attended)
    }
}

struct EncoderLayer {
    layer_norm1: LayerNorm,
    self_attn: Attention,
    layer_norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    quick_gelu: bool,
}

impl EncoderLayer {
    fn new(vb: VarBuilder, config: &ClipTextConfig) -> Result<Self> {
        let size = config.hidden_size;
        Ok(Self {
            layer_norm1: layer_norm(size, config.layer_norm_eps, vb.pp("layer_norm1"))?,
            self_attn: Attention::new(vb.pp("self_attn"), config)?,
            layer_norm2: layer_norm(size, config.layer_norm_eps, vb.pp("layer_norm2"))?,
            fc1: linear(size, config.intermediate_size, vb.pp("mlp").pp("fc1"))?,
            fc2: linear(config.intermediate_size, size, vb.pp("mlp").pp("fc2"))?,
            quick_gelu: config.hidden_act == "quick_gelu",
        })
    }

    fn forward(&self, xs: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let xs = (xs + self.self_attn.forward(&self.layer_norm1.forward(xs)?, mask)?)?;
        let hidden = self.fc1.forward(&self.layer_norm2.forward(&xs)?)?;
        let hidden = if self.quick_gelu {
            (&hidden * candle_nn::ops::sigmoid(&(&hidden * 1.702)?)?)?
        } else {
            hidden.gelu_erf()?
        };
        xs + self.fc2.forward(&hidden)?
    }
}

/// A CLIP text encoder with its weights.
pub struct ClipTextModel {
    token_embedding: Embedding,
    position_embedding: Embedding,
    layers: Vec<EncoderLayer>,
    final_layer_norm: LayerNorm,
    text_projection: Option<Linear>,
}

impl ClipTextModel {
    /// Builds the model from weights named as in `transformers`
    /// (`text_model.encoder.layers.0.self_attn.q_proj.weight`, ...).
    /// `with_projection` loads `text_projection.weight` for the pooled output.
    pub fn new(vb: VarBuilder, config: &ClipTextConfig, with_projection: bool) -> Result<Self> {
        let text = vb.pp("text_model");
        let embeddings = text.pp("embeddings");
        let layers = (0..config.num_hidden_layers)
            .map(|index| EncoderLayer::new(text.pp("encoder").pp("layers").pp(index), config))
            .collect::<Result<Vec<_>>>()?;
        let text_projection = if with_projection {
            let size = config.projection_dim.unwrap_or(config.hidden_size);
            Some(linear_no_bias(config.hidden_size, size, vb.pp("text_projection"))?)
        } else {
            None
        };
        Ok(Self {
            token_embedding: embedding(config.vocab_size, config.hidden_size, embeddings.pp("token_embedding"))?,
            position_embedding: embedding(
                config.max_position_embeddings,
                config.hidden_size,
                embeddings.pp("position_embedding"),
            )?,
            layers,
            final_layer_norm: layer_norm(config.hidden_size, config.layer_norm_eps, text.pp("final_layer_norm"))?,
            text_projection,
        })
    }

    /// Encodes token ids of shape `[batch, tokens]` (u32).
    pub fn forward(&self, ids: &Tensor) -> Result<TextOutput> {
        let (_, tokens) = ids.dims2()?;
        let device = ids.device();
        let positions = Tensor::arange(0u32, tokens as u32, device)?;
        let mut xs = self
            .token_embedding
            .forward(ids)?
            .broadcast_add(&self.position_embedding.forward(&positions)?)?;
        let mask = causal_mask(tokens, xs.dtype(), device)?;
        let mut penultimate = xs.clone();
        for (index, layer) in self.layers.iter().enumerate() {
            if index + 1 == self.layers.len() {
                penultimate = xs.clone();
            }
            xs = layer.forward(&xs, &mask)?;
        }
        let last_hidden_state = self.final_layer_norm.forward(&xs)?;

        // The end token has the highest id in CLIP's vocabulary, so its
        // position is the arg-max of the ids.
        let end_positions = ids.argmax(D::Minus1)?.to_vec1::<u32>()?;
        let pooled_rows = end_positions
            .iter()
            .enumerate()
            .map(|(row, position)| last_hidden_state.get(row)?.get(*position as usize))
            .collect::<Result<Vec<_>>>()?;
        let mut pooled = Tensor::stack(&pooled_rows, 0)?;
        if let Some(projection) = &self.text_projection {
            pooled = projection.forward(&pooled)?;
        }
        Ok(TextOutput {
            last_hidden_state,
            penultimate_hidden_state: penultimate,
            pooled,
        })
    }
}

/// Upper-triangular mask that stops a token from attending to later tokens.
fn causal_mask(tokens: usize, dtype: DType, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..tokens)
        .flat_map(|i| (0..tokens).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (tokens, tokens), device)?.to_dtype(dtype)
}
