//! Tiny Stable Diffusion models with deterministic random weights, written
//! into a Hugging Face cache under a real repository id, so that tests load
//! them through the same code path as downloaded weights.
//!
//! The architectures are the real ones (candle's UNet and VAE, our CLIP)
//! built with small widths. Every weight comes from a seeded stream, so the
//! files are the same on every run and machine.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::stable_diffusion::{unet_2d::UNet2DConditionModel, vae::AutoEncoderKL};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde_json::json;

use crate::clip::{ClipTextConfig, ClipTextModel};
use crate::config::{UNetConfig, VaeConfig};

/// Files of a folder in diffusers layout, by the roles the catalogue and
/// [`crate::pipeline::SdPipeline::load`] use.
pub fn diffusers_files(folder: &Path) -> std::collections::BTreeMap<String, PathBuf> {
    let roles = [
        ("scheduler", "scheduler/scheduler_config.json"),
        ("text_encoder_config", "text_encoder/config.json"),
        ("text_encoder", "text_encoder/model.safetensors"),
        ("tokenizer_vocab", "tokenizer/vocab.json"),
        ("tokenizer_merges", "tokenizer/merges.txt"),
        ("unet_config", "unet/config.json"),
        ("unet", "unet/diffusion_pytorch_model.safetensors"),
        ("vae_config", "vae/config.json"),
        ("vae", "vae/diffusion_pytorch_model.safetensors"),
    ];
    roles
        .iter()
        .map(|(role, file)| (role.to_string(), folder.join(file)))
        .collect()
}

/// Commit id under which fixtures are written.
pub const FIXTURE_COMMIT: &str = "f1c7u2e5f1c7u2e5f1c7u2e5f1c7u2e5f1c7u2e5";

/// Which family a fixture imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// SD 1.x: quick_gelu CLIP, epsilon prediction, padding with `<|endoftext|>`.
    Sd15,
    /// SD 2.x: gelu CLIP, linear projections in the UNet's attention, one head
    /// count per block, v-prediction, padding with `!`.
    Sd21,
}

impl Family {
    /// Text of the tokenizer's padding token.
    pub fn pad_token(self) -> &'static str {
        match self {
            Self::Sd15 => "<|endoftext|>",
            Self::Sd21 => "!",
        }
    }
}

fn text_encoder_config(family: Family) -> serde_json::Value {
    let activation = if family == Family::Sd21 { "gelu" } else { "quick_gelu" };
    json!({
        "architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "torch_dtype": "float32",
        "vocab_size": 49408, "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
        "num_attention_heads": 4, "max_position_embeddings": 77, "hidden_act": activation,
        "layer_norm_eps": 1e-5, "projection_dim": 32, "bos_token_id": 49406, "eos_token_id": 49407, "pad_token_id": 1
    })
}

fn unet_config(family: Family, in_channels: usize) -> serde_json::Value {
    let mut config = json!({
        "_class_name": "UNet2DConditionModel", "in_channels": in_channels, "out_channels": 4, "sample_size": 8,
        "block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
        "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "layers_per_block": 1, "cross_attention_dim": 32,
        "attention_head_dim": 8, "norm_num_groups": 32, "norm_eps": 1e-5, "flip_sin_to_cos": true, "freq_shift": 0,
        "downsample_padding": 1, "mid_block_scale_factor": 1, "act_fn": "silu", "center_input_sample": false
    });
    if family == Family::Sd21 {
        config["attention_head_dim"] = json!([2, 4]);
        config["use_linear_projection"] = json!(true);
    }
    config
}

fn vae_config() -> serde_json::Value {
    json!({
        "_class_name": "AutoencoderKL", "in_channels": 3, "out_channels": 3, "sample_size": 64,
        "block_out_channels": [32, 32, 64, 64],
        "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
        "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
        "latent_channels": 4, "layers_per_block": 1,
        "norm_num_groups": 32, "act_fn": "silu", "scaling_factor": 0.18215
    })
}

fn scheduler_config(family: Family) -> serde_json::Value {
    let prediction = if family == Family::Sd21 {
        "v_prediction"
    } else {
        "epsilon"
    };
    json!({
        "_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
        "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1,
        "clip_sample": false, "prediction_type": prediction
    })
}

/// Replaces every variable with seeded values: norm weights near 1, biases
/// near 0, other weights scaled by 1/sqrt(fan-in) so activations stay finite.
fn fill(varmap: &VarMap, seed: u64) -> candle_core::Result<()> {
    let data = varmap.data().lock().unwrap();
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for name in names {
        let var = &data[name];
        let shape = var.shape().clone();
        let count = shape.elem_count();
        let fan_in = if shape.rank() > 1 {
            count / shape.dims()[0]
        } else {
            count
        };
        let is_norm = name.contains("norm") && name.ends_with("weight");
        let values: Vec<f32> = (0..count)
            .map(|_| {
                let sample: f32 = StandardNormal.sample(&mut rng);
                if is_norm {
                    1.0 + 0.1 * sample
                } else if name.ends_with("bias") {
                    0.02 * sample
                } else if name.contains("embedding") {
                    0.5 * sample
                } else {
                    sample / (fan_in as f32).sqrt()
                }
            })
            .collect();
        var.set(&Tensor::from_vec(values, shape, &Device::Cpu)?)?;
    }
    Ok(())
}

fn write_json(path: &Path, value: &serde_json::Value) -> std::io::Result<()> {
    std::fs::create_dir_all(path.parent().unwrap())?;
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap())
}

fn save(varmap: &VarMap, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(path.parent().unwrap())?;
    varmap.save(path)?;
    Ok(())
}

/// Writes a tiny SD 1.5 repository (with a 9-channel inpainting UNet under
/// `inpainting_repo`) into the cache at `cache_root`, and returns the
/// snapshot folder of `repo`.
pub fn write_tiny_sd15(
    cache_root: &Path,
    repo: &str,
    inpainting_repo: &str,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    write_tiny_sd(cache_root, repo, inpainting_repo, Family::Sd15)
}

/// Writes an SD 1.5 repository with the real model sizes (UNet 320-1280
/// channels, VAE 128-512, CLIP ViT-L/14 text encoder) and seeded random
/// weights, for benchmarks. About 4.3 GB in float32.
pub fn write_full_size_sd15(cache_root: &Path, repo: &str) -> Result<PathBuf, Box<dyn std::error::Error>> {
    write_sd(cache_root, repo, None, Family::Sd15, Size::Full)
}

/// Writes a tiny repository of `family` as [`write_tiny_sd15`] does.
pub fn write_tiny_sd(
    cache_root: &Path,
    repo: &str,
    inpainting_repo: &str,
    family: Family,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    write_sd(cache_root, repo, Some(inpainting_repo), family, Size::Tiny)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    Tiny,
    Full,
}

/// Overrides the tiny widths with SD 1.5's real ones.
fn full_size(text: &mut serde_json::Value, unet: &mut serde_json::Value, vae: &mut serde_json::Value) {
    for (key, value) in [
        ("hidden_size", json!(768)),
        ("intermediate_size", json!(3072)),
        ("num_hidden_layers", json!(12)),
        ("num_attention_heads", json!(12)),
        ("projection_dim", json!(768)),
    ] {
        text[key] = value;
    }
    for (key, value) in [
        ("block_out_channels", json!([320, 640, 1280, 1280])),
        (
            "down_block_types",
            json!([
                "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D",
                "DownBlock2D"
            ]),
        ),
        (
            "up_block_types",
            json!([
                "UpBlock2D",
                "CrossAttnUpBlock2D",
                "CrossAttnUpBlock2D",
                "CrossAttnUpBlock2D"
            ]),
        ),
        ("layers_per_block", json!(2)),
        ("cross_attention_dim", json!(768)),
        ("sample_size", json!(64)),
    ] {
        unet[key] = value;
    }
    for (key, value) in [
        ("block_out_channels", json!([128, 256, 512, 512])),
        ("layers_per_block", json!(2)),
        ("sample_size", json!(512)),
    ] {
        vae[key] = value;
    }
}

fn write_sd(
    cache_root: &Path,
    repo: &str,
    inpainting_repo: Option<&str>,
    family: Family,
    size: Size,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let snapshot = |repo: &str| -> std::io::Result<PathBuf> {
        let folder = cache_root.join(format!("models--{}", repo.replace('/', "--")));
        std::fs::create_dir_all(folder.join("refs"))?;
        std::fs::write(folder.join("refs/main"), FIXTURE_COMMIT)?;
        Ok(folder.join("snapshots").join(FIXTURE_COMMIT))
    };
    let root = snapshot(repo)?;
    let device = Device::Cpu;

    write_json(
        &root.join("model_index.json"),
        &json!({
            "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.30.0", "scheduler": ["diffusers", "PNDMScheduler"],
            "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
            "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
            "safety_checker": [null, null], "feature_extractor": [null, null], "requires_safety_checker": false
        }),
    )?;
    write_json(&root.join("scheduler/scheduler_config.json"), &scheduler_config(family))?;

    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/clip");
    std::fs::create_dir_all(root.join("tokenizer"))?;
    std::fs::copy(assets.join("vocab.json"), root.join("tokenizer/vocab.json"))?;
    std::fs::copy(assets.join("merges.txt"), root.join("tokenizer/merges.txt"))?;
    write_json(
        &root.join("tokenizer/special_tokens_map.json"),
        &json!({
            "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": family.pad_token(), "unk_token": "<|endoftext|>"
        }),
    )?;
    write_json(
        &root.join("tokenizer/tokenizer_config.json"),
        &json!({
            "tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "do_lower_case": true,
            "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": family.pad_token(), "unk_token": "<|endoftext|>"
        }),
    )?;

    let mut text = text_encoder_config(family);
    let mut unet_base = unet_config(family, 4);
    let mut vae = vae_config();
    if size == Size::Full {
        full_size(&mut text, &mut unet_base, &mut vae);
    }
    write_json(&root.join("text_encoder/config.json"), &text)?;
    let varmap = VarMap::new();
    let config: ClipTextConfig = serde_json::from_value(text)?;
    ClipTextModel::new(VarBuilder::from_varmap(&varmap, DType::F32, &device), &config, false)?;
    fill(&varmap, 1)?;
    save(&varmap, &root.join("text_encoder/model.safetensors"))?;

    write_json(&root.join("vae/config.json"), &vae)?;
    let varmap = VarMap::new();
    let config: VaeConfig = serde_json::from_value(vae)?;
    AutoEncoderKL::new(
        VarBuilder::from_varmap(&varmap, DType::F32, &device),
        3,
        3,
        config.candle(),
    )?;
    fill(&varmap, 2)?;
    save(&varmap, &root.join("vae/diffusion_pytorch_model.safetensors"))?;

    let mut unets = vec![(root.clone(), 4, 3)];
    if let Some(inpainting_repo) = inpainting_repo {
        unets.push((snapshot(inpainting_repo)?, 9, 4));
    }
    for (folder, in_channels, seed) in unets {
        let mut unet = unet_base.clone();
        unet["in_channels"] = json!(in_channels);
        write_json(&folder.join("unet/config.json"), &unet)?;
        let varmap = VarMap::new();
        let config: UNetConfig = serde_json::from_value(unet)?;
        UNet2DConditionModel::new(
            VarBuilder::from_varmap(&varmap, DType::F32, &device),
            in_channels,
            4,
            false,
            config.candle(),
        )?;
        fill(&varmap, seed)?;
        save(&varmap, &folder.join("unet/diffusion_pytorch_model.safetensors"))?;
    }
    Ok(root)
}
