//! The SD 1.5 pipeline on a tiny random-weight model written to a temporary
//! Hugging Face cache and loaded through the catalogue's file list.

use candle_core::Device;
use ddiffusion_images::fixtures::write_tiny_sd15;
use ddiffusion_images::noise::Noise;
use ddiffusion_images::pipeline::{to_rgb8, Generation, SdPipeline};
use ddiffusion_images::schedulers::Kind;

fn pipeline() -> (tempfile::TempDir, SdPipeline) {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_sd15(
        dir.path(),
        "stable-diffusion-v1-5/stable-diffusion-v1-5",
        "stable-diffusion-v1-5/stable-diffusion-inpainting",
    )
    .unwrap();
    let catalog = hub::Catalog::load(None).unwrap();
    let entry = catalog.get("sd-1.5").unwrap();
    let cache = hub::HfCache::new(dir.path());
    let files = cache
        .model_files(entry)
        .expect("the fixture provides every file the catalogue lists");
    let pipeline = SdPipeline::load(&files.files, &Device::Cpu, "<|endoftext|>").unwrap();
    (dir, pipeline)
}

fn generate(pipeline: &SdPipeline, seed: i64, scheduler: Kind) -> image::RgbImage {
    let generation = Generation {
        prompt: "a red barn in a snowy field".into(),
        negative_prompt: String::new(),
        width: 24,
        height: 16,
        steps: 3,
        guidance: 7.5,
        scheduler,
    };
    let mut steps = Vec::new();
    let image = pipeline
        .text_to_image(&generation, &mut Noise::new(seed), &mut |done, total| {
            steps.push((done, total));
            Ok(())
        })
        .unwrap();
    assert_eq!(steps, vec![(1, 3), (2, 3), (3, 3)]);
    let values = image.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!(
        values.iter().all(|v| v.is_finite()),
        "{scheduler:?} produced NaN or infinity"
    );
    to_rgb8(&image).unwrap()
}

#[test]
fn text_to_image_is_deterministic_per_seed() {
    let (_dir, pipeline) = pipeline();
    for scheduler in [Kind::Ddim, Kind::Euler, Kind::EulerAncestral] {
        let first = generate(&pipeline, 42, scheduler);
        assert_eq!((first.width(), first.height()), (24, 16));
        assert_eq!(
            first,
            generate(&pipeline, 42, scheduler),
            "{scheduler:?}: same seed, same pixels"
        );
        assert_ne!(
            first,
            generate(&pipeline, 7, scheduler),
            "{scheduler:?}: another seed, other pixels"
        );
    }
}

#[test]
fn cancellation_stops_between_steps() {
    let (_dir, pipeline) = pipeline();
    let generation = Generation {
        prompt: "x".into(),
        negative_prompt: String::new(),
        width: 8,
        height: 8,
        steps: 5,
        guidance: 1.0,
        scheduler: Kind::Ddim,
    };
    let mut seen = 0;
    let result = pipeline.text_to_image(&generation, &mut Noise::new(1), &mut |done, _| {
        seen = done;
        if done == 2 {
            Err(ddiffusion_images::pipeline::PipelineError::Cancelled)
        } else {
            Ok(())
        }
    });
    assert!(matches!(
        result,
        Err(ddiffusion_images::pipeline::PipelineError::Cancelled)
    ));
    assert_eq!(seen, 2);
}
