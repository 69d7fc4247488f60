//! Parity with diffusers: our pipeline and diffusers 0.42.1 (float32, CPU)
//! run the same tiny SD 1.5 and SD 2.1 weights with the same noise, and the prompt
//! embeddings, final latents and decoded images must agree.
//!
//! The references in `tests/parity/` come from `scripts/parity/make_references.sh`.
//! Tolerances: 1e-4 absolute on embeddings, 2e-3 relative to the largest
//! value on latents, 2e-3 absolute on images in 0..=1. Measured on 2026-12-04:
//! latents 2.1e-4 to 3.0e-4, images 3.1e-4 to 4.5e-4, from float32 kernels
//! that sum in another order and candle's GELU in the UNet. A wiring error
//! (a wrong timestep, scale or noise order) differs by 1e-1 or more.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use ddiffusion_images::fixtures::{diffusers_files, write_tiny_sd, Family, FIXTURE_COMMIT};
use ddiffusion_images::noise::Noise;
use ddiffusion_images::parity::{
    mask, plate, repos, Mode, CASES, GUIDANCE, NEGATIVE_PROMPT, PROMPT, SEED, SIZE, STEPS,
};
use ddiffusion_images::pipeline::{from_rgb32f, mask_from_luma32f, Generation, Inputs, SdPipeline};

fn files(snapshot: &Path, roles: &[(&str, &str)]) -> BTreeMap<String, PathBuf> {
    roles
        .iter()
        .map(|(role, file)| (role.to_string(), snapshot.join(file)))
        .collect()
}

fn load_pipeline(cache: &Path, family: Family) -> SdPipeline {
    let (repo, inpainting_repo) = repos(family);
    write_tiny_sd(cache, repo, inpainting_repo, family).unwrap();
    let snapshot = |repo: &str| {
        cache
            .join(format!("models--{}/snapshots", repo.replace('/', "--")))
            .join(FIXTURE_COMMIT)
    };
    let base = diffusers_files(&snapshot(repo));
    let inpainting = files(
        &snapshot(inpainting_repo),
        &[
            ("unet_config", "unet/config.json"),
            ("unet", "unet/diffusion_pytorch_model.safetensors"),
        ],
    );
    SdPipeline::load(&base, &inpainting, &Device::Cpu, family.pad_token()).unwrap()
}

fn reference(case: &str) -> HashMap<String, Tensor> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/parity")
        .join(format!("{case}.safetensors"));
    candle_core::safetensors::load(&path, &Device::Cpu).unwrap()
}

/// Largest absolute difference between two tensors of the same shape.
fn max_difference(ours: &Tensor, theirs: &Tensor) -> f32 {
    assert_eq!(ours.dims(), theirs.dims());
    let difference =
        (ours.to_dtype(candle_core::DType::F32).unwrap() - theirs.to_dtype(candle_core::DType::F32).unwrap()).unwrap();
    difference
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

fn max_magnitude(tensor: &Tensor) -> f32 {
    tensor
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

#[test]
fn pipeline_matches_diffusers() {
    let dir = tempfile::tempdir().unwrap();
    let sd15 = load_pipeline(dir.path(), Family::Sd15);
    let sd21 = load_pipeline(dir.path(), Family::Sd21);
    let pipeline = &sd15;
    let plate = from_rgb32f(&image::DynamicImage::ImageRgb8(plate()).to_rgb32f(), &Device::Cpu).unwrap();
    let mask = mask_from_luma32f(&image::DynamicImage::ImageLuma8(mask()).to_luma32f(), &Device::Cpu).unwrap();

    let expected = reference("txt2img-ddim");
    let embeddings = pipeline.encode_prompt(PROMPT).unwrap();
    assert!(
        max_difference(&embeddings, &expected["prompt_embeds"]) < 1e-4,
        "prompt embeddings differ"
    );
    let negative = pipeline.encode_prompt(NEGATIVE_PROMPT).unwrap();
    assert!(
        max_difference(&negative, &expected["negative_prompt_embeds"]) < 1e-4,
        "negative embeddings differ"
    );

    let mut report = Vec::new();
    for case in CASES {
        let expected = reference(case.name);
        let pipeline = if case.family == Family::Sd21 { &sd21 } else { &sd15 };
        let generation = Generation {
            prompt: PROMPT.into(),
            negative_prompt: NEGATIVE_PROMPT.into(),
            width: SIZE,
            height: SIZE,
            steps: STEPS,
            guidance: GUIDANCE,
            scheduler: case.scheduler,
        };
        let inputs = match case.mode {
            Mode::Text => Inputs::Text,
            Mode::Image { strength } => Inputs::Image {
                image: plate.clone(),
                strength,
            },
            Mode::Inpaint { strength } => Inputs::Inpaint {
                image: plate.clone(),
                mask: mask.clone(),
                strength,
            },
        };
        let latents = pipeline
            .generate_latents(&generation, &inputs, &mut Noise::new(SEED), &mut |_, _| Ok(()))
            .unwrap();
        let image = pipeline.decode(&latents).unwrap();

        let latent_error =
            max_difference(&latents, &expected["final_latents"]) / max_magnitude(&expected["final_latents"]).max(1.0);
        let image_error = max_difference(&image, &expected["image"]);
        report.push(format!(
            "{}: latents {latent_error:.2e} (relative), image {image_error:.2e}",
            case.name
        ));
        assert!(
            latent_error < 2e-3,
            "{}: final latents differ by {latent_error:.2e}\n{}",
            case.name,
            report.join("\n")
        );
        assert!(
            image_error < 2e-3,
            "{}: images differ by {image_error:.2e}\n{}",
            case.name,
            report.join("\n")
        );
    }
    println!("{}", report.join("\n"));
}
