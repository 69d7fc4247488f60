//! The SD 1.5 pipeline on a tiny random-weight model written to a temporary
//! Hugging Face cache and loaded through the catalogue's file list.

use candle_core::Device;
use ddiffusion_images::fixtures::install_tiny;
use ddiffusion_images::noise::Noise;
use ddiffusion_images::pipeline::{from_rgb32f, to_rgb8, Architecture, Generation, Inputs, SdPipeline};
use ddiffusion_images::schedulers::Kind;

fn pipeline() -> (tempfile::TempDir, SdPipeline) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = hub::Catalog::load(None).unwrap();
    let entry = catalog.get("sd-1.5").unwrap();
    install_tiny(dir.path(), entry).unwrap();
    let cache = hub::HfCache::new(dir.path());
    let files = cache
        .model_files(entry)
        .expect("the fixture provides every file the catalogue lists");
    let pipeline = SdPipeline::load(&files.files, &files.inpainting_files, &Device::Cpu, Architecture::Sd15).unwrap();
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

fn plate() -> candle_core::Tensor {
    let plate = image::Rgb32FImage::from_fn(24, 16, |x, y| image::Rgb([x as f32 / 24.0, y as f32 / 16.0, 0.5]));
    from_rgb32f(&plate, &Device::Cpu).unwrap()
}

/// Runs `inputs` with 4 DDIM steps and returns the step count and the image.
fn run(pipeline: &SdPipeline, inputs: &Inputs, seed: i64) -> (usize, Vec<f32>) {
    let generation = Generation {
        prompt: "a lighthouse".into(),
        negative_prompt: "blurry".into(),
        width: 24,
        height: 16,
        steps: 4,
        guidance: 5.0,
        scheduler: Kind::Ddim,
    };
    let mut total_steps = 0;
    let image = pipeline
        .generate(&generation, inputs, &mut Noise::new(seed), &mut |_, total| {
            total_steps = total;
            Ok(())
        })
        .unwrap();
    assert_eq!(image.dims(), &[1, 3, 16, 24]);
    let values = image.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!(values.iter().all(|v| v.is_finite()));
    (total_steps, values)
}

#[test]
fn image_to_image_runs_strength_share_of_steps() {
    let (_dir, pipeline) = pipeline();
    for (strength, expected_steps) in [(1.0, 4), (0.5, 2), (0.3, 1), (0.0, 1)] {
        let (steps, _) = run(
            &pipeline,
            &Inputs::Image {
                image: plate(),
                strength,
            },
            3,
        );
        assert_eq!(steps, expected_steps, "strength {strength}");
    }
    let (_, first) = run(
        &pipeline,
        &Inputs::Image {
            image: plate(),
            strength: 0.5,
        },
        3,
    );
    let (_, second) = run(
        &pipeline,
        &Inputs::Image {
            image: plate(),
            strength: 0.5,
        },
        3,
    );
    assert_eq!(first, second, "same seed, same image");
}

#[test]
fn inpainting_uses_nine_channel_unet() {
    let (_dir, pipeline) = pipeline();
    assert!(pipeline.can_inpaint());
    let values: Vec<f32> = (0..16 * 24).map(|i| if (i % 24) >= 12 { 1.0 } else { 0.0 }).collect();
    let mask = candle_core::Tensor::from_vec(values, (1, 1, 16, 24), &Device::Cpu).unwrap();
    for strength in [1.0, 0.75] {
        let inputs = Inputs::Inpaint {
            image: plate(),
            mask: mask.clone(),
            strength,
        };
        let (steps, first) = run(&pipeline, &inputs, 9);
        assert_eq!(steps, if strength == 1.0 { 4 } else { 3 });
        assert_eq!(first, run(&pipeline, &inputs, 9).1, "same seed, same image");
        assert_ne!(first, run(&pipeline, &inputs, 10).1, "another seed, another image");
    }
}

#[test]
fn tiled_decode_matches_whole_decode() {
    let (_dir, pipeline) = pipeline();
    let latents = ddiffusion_images::noise::Noise::new(3)
        .tensor(&[1, 4, 24, 40], &Device::Cpu)
        .unwrap();
    let whole = pipeline.decode_tiled(&latents, 64, 8).unwrap();
    assert_eq!(whole.dims(), &[1, 3, 192, 320]);
    assert_eq!(
        whole.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        pipeline
            .decode(&latents)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap(),
        "latents within one tile decode whole"
    );

    let tiled = pipeline.decode_tiled(&latents, 16, 4).unwrap();
    assert_eq!(tiled.dims(), whole.dims());
    let difference = (&tiled - &whole).unwrap().abs().unwrap();
    let mean = difference.mean_all().unwrap().to_scalar::<f32>().unwrap();
    let values = tiled.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!(values.iter().all(|value| (0.0..=1.0).contains(value)));
    // The VAE's group norms and attention see one tile at a time, so tiles
    // differ from the whole image a little, as in diffusers' tiled decode.
    assert!(mean < 0.05, "tiled decode differs by {mean} on average");
}
