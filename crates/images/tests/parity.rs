//! Parity with diffusers: our pipeline and diffusers 0.42.1 (float32, CPU)
//! run the same tiny SD 1.5, SD 2.1 and SDXL weights with the same noise, and
//! the prompt embeddings, final latents and decoded images must agree.
//!
//! The references in `tests/parity/` come from `scripts/parity/make_references.sh`.
//! Tolerances: 1e-4 absolute on embeddings, 2e-3 relative to the largest
//! value on latents, 2e-3 absolute on images in 0..=1. Measured on 2026-12-04:
//! latents 2.1e-4 to 3.0e-4, images 3.1e-4 to 4.5e-4, from float32 kernels
//! that sum in another order and candle's GELU in the UNet. A wiring error
//! (a wrong timestep, scale or noise order) differs by 1e-1 or more.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use ddiffusion_images::fixtures::{diffusers_files, inpainting_files, write_tiny};
use ddiffusion_images::noise::Noise;
use ddiffusion_images::parity::{
    folder, mask, plate, Mode, CASES, GUIDANCE, NEGATIVE_PROMPT, PROMPT, SEED, SIZE, STEPS,
};
use ddiffusion_images::pipeline::{from_rgb32f, mask_from_luma32f, Architecture, Generation, Inputs, SdPipeline};

fn load_pipeline(root: &Path, architecture: Architecture) -> SdPipeline {
    let model = root.join(folder(architecture));
    write_tiny(&model, architecture).unwrap();
    SdPipeline::load(
        &diffusers_files(&model),
        &inpainting_files(&model),
        &Device::Cpu,
        architecture,
    )
    .unwrap()
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
    let pipelines: HashMap<Architecture, SdPipeline> = [Architecture::Sd15, Architecture::Sd21, Architecture::Sdxl]
        .into_iter()
        .map(|architecture| (architecture, load_pipeline(dir.path(), architecture)))
        .collect();
    let plate = from_rgb32f(&image::DynamicImage::ImageRgb8(plate()).to_rgb32f(), &Device::Cpu).unwrap();
    let mask = mask_from_luma32f(&image::DynamicImage::ImageLuma8(mask()).to_luma32f(), &Device::Cpu).unwrap();

    for (architecture, case) in [
        (Architecture::Sd15, "txt2img-ddim"),
        (Architecture::Sdxl, "sdxl-txt2img-euler"),
    ] {
        let pipeline = &pipelines[&architecture];
        let expected = reference(case);
        let prompt = pipeline.encode_prompt(PROMPT).unwrap();
        let negative = pipeline.encode_negative_prompt(NEGATIVE_PROMPT, &prompt).unwrap();
        for (name, ours) in [
            ("prompt_embeds", Some(&prompt.hidden)),
            ("negative_prompt_embeds", Some(&negative.hidden)),
            ("pooled_prompt_embeds", prompt.pooled.as_ref()),
            ("negative_pooled_prompt_embeds", negative.pooled.as_ref()),
        ] {
            match (ours, expected.get(name)) {
                (Some(ours), Some(theirs)) => {
                    let difference = max_difference(ours, theirs);
                    assert!(difference < 1e-4, "{case}: {name} differ by {difference:.2e}");
                }
                (None, None) => {}
                (ours, theirs) => panic!(
                    "{case}: {name} is {} here and {} in diffusers",
                    if ours.is_some() { "present" } else { "absent" },
                    if theirs.is_some() { "present" } else { "absent" },
                ),
            }
        }
    }

    let mut report = Vec::new();
    for case in CASES {
        let expected = reference(case.name);
        let pipeline = &pipelines[&case.architecture];
        let generation = Generation {
            prompt: PROMPT.into(),
            negative_prompt: case.negative_prompt.into(),
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
