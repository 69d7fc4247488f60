//! Tiny Stable Diffusion models with deterministic random weights, written
//! as diffusers folders or into a Hugging Face cache under a catalogue
//! model's real repository ids and file names, so that tests load them
//! through the same code path as downloaded weights.
//!
//! The architectures are the real ones (our UNet and CLIP, candle's VAE)
//! built with small widths. Every weight comes from a seeded stream, so the
//! files are the same on every run and machine.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::stable_diffusion::vae::AutoEncoderKL;
use hub::ModelEntry;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde_json::json;

use crate::clip::{ClipTextConfig, ClipTextModel};
use crate::config::{UNetConfig, VaeConfig};
use crate::pipeline::Architecture;
use crate::unet::Unet;

type Error = Box<dyn std::error::Error>;

/// Files of a folder in diffusers layout, by the roles the catalogue and
/// [`crate::pipeline::SdPipeline::load`] use.
/// SDXL's second encoder and tokenizer count only when the folder has them.
pub fn diffusers_files(folder: &Path) -> std::collections::BTreeMap<String, PathBuf> {
    let roles = [
        ("scheduler", "scheduler/scheduler_config.json"),
        ("text_encoder_2_config", "text_encoder_2/config.json"),
        ("text_encoder_2", "text_encoder_2/model.safetensors"),
        ("tokenizer_2_vocab", "tokenizer_2/vocab.json"),
        ("tokenizer_2_merges", "tokenizer_2/merges.txt"),
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
        .filter(|(role, path)| !role.contains("_2") || path.exists())
        .collect()
}

/// Files of the inpainting UNet that [`write_tiny`] writes, by role.
pub fn inpainting_files(folder: &Path) -> std::collections::BTreeMap<String, PathBuf> {
    [
        ("unet_config", "unet/config.json"),
        ("unet", "unet/diffusion_pytorch_model.safetensors"),
    ]
    .iter()
    .map(|(role, file)| (role.to_string(), folder.join(INPAINTING).join(file)))
    .collect()
}

/// Subfolder of a tiny model that contains its 9-channel inpainting UNet.
pub const INPAINTING: &str = "inpainting";

/// Commit id under which fixtures are written.
pub const FIXTURE_COMMIT: &str = "f1c7u2e5f1c7u2e5f1c7u2e5f1c7u2e5f1c7u2e5";

fn text_encoder_config(architecture: Architecture) -> serde_json::Value {
    let activation = if architecture == Architecture::Sd21 {
        "gelu"
    } else {
        "quick_gelu"
    };
    json!({
        "architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "torch_dtype": "float32",
        "vocab_size": 49408, "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
        "num_attention_heads": 4, "max_position_embeddings": 77, "hidden_act": activation,
        "layer_norm_eps": 1e-5, "projection_dim": 32, "bos_token_id": 49406, "eos_token_id": 49407, "pad_token_id": 1
    })
}

/// SDXL's second encoder, with a projection. Its widths differ from the first
/// encoder's so that a swapped or misplaced concatenation fails to load.
fn text_encoder_2_config() -> serde_json::Value {
    json!({
        "architectures": ["CLIPTextModelWithProjection"], "model_type": "clip_text_model", "torch_dtype": "float32",
        "vocab_size": 49408, "hidden_size": 48, "intermediate_size": 53, "num_hidden_layers": 3,
        "num_attention_heads": 4, "max_position_embeddings": 77, "hidden_act": "gelu",
        "layer_norm_eps": 1e-5, "projection_dim": 40, "bos_token_id": 49406, "eos_token_id": 49407, "pad_token_id": 1
    })
}

fn unet_config(architecture: Architecture) -> serde_json::Value {
    let mut config = json!({
        "_class_name": "UNet2DConditionModel", "in_channels": 4, "out_channels": 4, "sample_size": 8,
        "block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
        "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "layers_per_block": 1, "cross_attention_dim": 32,
        "attention_head_dim": 8, "norm_num_groups": 32, "norm_eps": 1e-5, "flip_sin_to_cos": true, "freq_shift": 0,
        "downsample_padding": 1, "mid_block_scale_factor": 1, "act_fn": "silu", "center_input_sample": false
    });
    match architecture {
        Architecture::Sd15 => {}
        Architecture::Sd21 => {
            config["attention_head_dim"] = json!([2, 4]);
            config["use_linear_projection"] = json!(true);
        }
        // SDXL's layout: no attention at the first level, deeper transformers
        // below, and the pooled text (40) plus six size ids (6 × 8) added to
        // the timestep embedding.
        Architecture::Sdxl => {
            for (key, value) in [
                ("down_block_types", json!(["DownBlock2D", "CrossAttnDownBlock2D"])),
                ("up_block_types", json!(["CrossAttnUpBlock2D", "UpBlock2D"])),
                ("attention_head_dim", json!([2, 4])),
                ("transformer_layers_per_block", json!([1, 2])),
                ("use_linear_projection", json!(true)),
                ("cross_attention_dim", json!(80)),
                ("addition_embed_type", json!("text_time")),
                ("addition_embed_type_num_heads", json!(64)),
                ("addition_time_embed_dim", json!(8)),
                ("projection_class_embeddings_input_dim", json!(88)),
            ] {
                config[key] = value;
            }
        }
    }
    config
}

fn vae_config(architecture: Architecture) -> serde_json::Value {
    let scaling = if architecture == Architecture::Sdxl {
        0.13025
    } else {
        0.18215
    };
    json!({
        "_class_name": "AutoencoderKL", "in_channels": 3, "out_channels": 3, "sample_size": 64,
        "block_out_channels": [32, 32, 64, 64],
        "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
        "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
        "latent_channels": 4, "layers_per_block": 1,
        "norm_num_groups": 32, "act_fn": "silu", "scaling_factor": scaling
    })
}

fn scheduler_config(architecture: Architecture) -> serde_json::Value {
    match architecture {
        Architecture::Sd15 | Architecture::Sd21 => json!({
            "_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
            "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1,
            "clip_sample": false,
            "prediction_type": if architecture == Architecture::Sd21 { "v_prediction" } else { "epsilon" }
        }),
        Architecture::Sdxl => json!({
            "_class_name": "EulerDiscreteScheduler", "beta_start": 0.00085, "beta_end": 0.012,
            "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "steps_offset": 1,
            "timestep_spacing": "leading", "prediction_type": "epsilon", "interpolation_type": "linear",
            "use_karras_sigmas": false, "clip_sample": false, "sample_max_value": 1.0, "set_alpha_to_one": false,
            "skip_prk_steps": true
        }),
    }
}

fn model_index(architecture: Architecture) -> serde_json::Value {
    match architecture {
        Architecture::Sd15 | Architecture::Sd21 => json!({
            "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.30.0", "scheduler": ["diffusers", "PNDMScheduler"],
            "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
            "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
            "safety_checker": [null, null], "feature_extractor": [null, null], "requires_safety_checker": false
        }),
        Architecture::Sdxl => json!({
            "_class_name": "StableDiffusionXLPipeline", "_diffusers_version": "0.30.0",
            "force_zeros_for_empty_prompt": true, "scheduler": ["diffusers", "EulerDiscreteScheduler"],
            "text_encoder": ["transformers", "CLIPTextModel"], "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
            "tokenizer": ["transformers", "CLIPTokenizer"], "tokenizer_2": ["transformers", "CLIPTokenizer"],
            "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
            "image_encoder": [null, null], "feature_extractor": [null, null]
        }),
    }
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

fn save(varmap: &VarMap, path: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(path.parent().unwrap())?;
    varmap.save(path)?;
    Ok(())
}

/// Writes a tiny model of `architecture` in diffusers layout into `folder`,
/// with its 9-channel inpainting UNet in `folder/inpainting/unet`.
pub fn write_tiny(folder: &Path, architecture: Architecture) -> Result<(), Error> {
    write_model(folder, architecture, Size::Tiny)
}

/// Writes an SD 1.5 model with the real sizes (UNet 320-1280 channels, VAE
/// 128-512, CLIP ViT-L/14 text encoder) and seeded random weights into
/// `folder`, for benchmarks. About 4.3 GB in float32; no inpainting UNet.
pub fn write_full_size_sd15(folder: &Path) -> Result<(), Error> {
    write_model(folder, Architecture::Sd15, Size::Full)
}

/// Writes a tiny model of the catalogue entry's architecture into the
/// Hugging Face cache at `cache_root`, every file under the repository, the
/// revision and the path the entry names. Files whose name contains `.fp16.`
/// are stored in float16, as published. Returns the snapshot folder of the
/// entry's main repository.
pub fn install_tiny(cache_root: &Path, entry: &ModelEntry) -> Result<PathBuf, Error> {
    let architecture = entry
        .architecture
        .as_deref()
        .and_then(Architecture::parse)
        .ok_or_else(|| format!("model {} has no architecture this crate can write", entry.name))?;
    let work = tempfile::tempdir()?;
    write_tiny(work.path(), architecture)?;
    let sources = [
        (&entry.files, diffusers_files(work.path())),
        (&entry.inpainting_files, inpainting_files(work.path())),
    ];
    for (components, sources) in sources {
        for (role, component) in components {
            let source = sources
                .get(role)
                .ok_or_else(|| format!("model {}: no tiny file for role {role}", entry.name))?;
            let (repo, revision, file) = entry.resolve(component);
            let target = snapshot(cache_root, &repo, &revision)?.join(&file);
            std::fs::create_dir_all(target.parent().unwrap())?;
            if file.contains(".fp16.") {
                let tensors = candle_core::safetensors::load(source, &Device::Cpu)?;
                let halved = tensors
                    .into_iter()
                    .map(|(name, tensor)| Ok((name, tensor.to_dtype(DType::F16)?)))
                    .collect::<candle_core::Result<std::collections::HashMap<_, _>>>()?;
                candle_core::safetensors::save(&halved, &target)?;
            } else {
                std::fs::copy(source, &target)?;
            }
        }
    }
    let repo = entry.repo.clone().unwrap_or_default();
    Ok(snapshot(cache_root, &repo, &entry.revision)?)
}

/// Creates the cache folders of `repo` with `revision` pointing at
/// [`FIXTURE_COMMIT`], and returns the snapshot folder.
fn snapshot(cache_root: &Path, repo: &str, revision: &str) -> std::io::Result<PathBuf> {
    let folder = cache_root.join(format!("models--{}", repo.replace('/', "--")));
    std::fs::create_dir_all(folder.join("refs"))?;
    std::fs::write(folder.join("refs").join(revision), FIXTURE_COMMIT)?;
    let snapshot = folder.join("snapshots").join(FIXTURE_COMMIT);
    std::fs::create_dir_all(&snapshot)?;
    Ok(snapshot)
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

fn write_tokenizer(folder: &Path, pad_token: &str) -> std::io::Result<()> {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/clip");
    std::fs::create_dir_all(folder)?;
    std::fs::copy(assets.join("vocab.json"), folder.join("vocab.json"))?;
    std::fs::copy(assets.join("merges.txt"), folder.join("merges.txt"))?;
    write_json(
        &folder.join("special_tokens_map.json"),
        &json!({
            "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": pad_token, "unk_token": "<|endoftext|>"
        }),
    )?;
    write_json(
        &folder.join("tokenizer_config.json"),
        &json!({
            "tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "do_lower_case": true,
            "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": pad_token, "unk_token": "<|endoftext|>"
        }),
    )
}

fn write_text_encoder(folder: &Path, config: serde_json::Value, with_projection: bool, seed: u64) -> Result<(), Error> {
    write_json(&folder.join("config.json"), &config)?;
    let varmap = VarMap::new();
    let config: ClipTextConfig = serde_json::from_value(config)?;
    ClipTextModel::new(
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        &config,
        with_projection,
    )?;
    fill(&varmap, seed)?;
    save(&varmap, &folder.join("model.safetensors"))
}

fn write_model(root: &Path, architecture: Architecture, size: Size) -> Result<(), Error> {
    let device = Device::Cpu;
    write_json(&root.join("model_index.json"), &model_index(architecture))?;
    write_json(
        &root.join("scheduler/scheduler_config.json"),
        &scheduler_config(architecture),
    )?;
    write_tokenizer(&root.join("tokenizer"), architecture.pad_token())?;

    let mut text = text_encoder_config(architecture);
    let mut unet_base = unet_config(architecture);
    let mut vae = vae_config(architecture);
    if size == Size::Full {
        full_size(&mut text, &mut unet_base, &mut vae);
    }
    write_text_encoder(&root.join("text_encoder"), text, false, 1)?;
    if architecture == Architecture::Sdxl {
        write_tokenizer(&root.join("tokenizer_2"), "!")?;
        write_text_encoder(&root.join("text_encoder_2"), text_encoder_2_config(), true, 5)?;
    }

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

    let mut unets = vec![(root.join("unet"), 4, 3)];
    if size == Size::Tiny {
        unets.push((root.join(INPAINTING).join("unet"), 9, 4));
    }
    for (folder, in_channels, seed) in unets {
        let mut unet = unet_base.clone();
        unet["in_channels"] = json!(in_channels);
        write_json(&folder.join("config.json"), &unet)?;
        let varmap = VarMap::new();
        let config: UNetConfig = serde_json::from_value(unet)?;
        Unet::new(VarBuilder::from_varmap(&varmap, DType::F32, &device), &config)?;
        fill(&varmap, seed)?;
        save(&varmap, &folder.join("diffusion_pytorch_model.safetensors"))?;
    }
    Ok(())
}
