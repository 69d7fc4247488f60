//! Writes the inputs of the parity check: the tiny SD 1.5 and SD 2.1
//! fixtures in diffusers layout (`sd15-model`, `sd21-model`), copies with the
//! inpainting UNet (`*-inpaint-model`), the plate and mask, and one noise
//! file per case. `scripts/parity/make_references.sh` runs it.
//!
//! Usage: `cargo run -p ddiffusion-images --example parity_inputs -- OUT_DIR`

use std::collections::HashMap;
use std::path::Path;

use ddiffusion_images::fixtures::{write_tiny_sd, Family};
use ddiffusion_images::parity::{mask, named_noise, plate, repos, CASES};

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).ok_or("usage: parity_inputs OUT_DIR")?;
    let out = Path::new(&out);
    let cache = out.join("hub");
    for (family, folder) in [(Family::Sd15, "sd15"), (Family::Sd21, "sd21")] {
        let (repo, inpainting_repo) = repos(family);
        let snapshot = write_tiny_sd(&cache, repo, inpainting_repo, family)?;
        copy_tree(&snapshot, &out.join(format!("{folder}-model")))?;
        copy_tree(&snapshot, &out.join(format!("{folder}-inpaint-model")))?;
        let inpainting_unet = cache
            .join(format!("models--{}/snapshots", inpainting_repo.replace('/', "--")))
            .join(ddiffusion_images::fixtures::FIXTURE_COMMIT)
            .join("unet");
        copy_tree(&inpainting_unet, &out.join(format!("{folder}-inpaint-model/unet")))?;
    }

    plate().save(out.join("plate.png"))?;
    mask().save(out.join("mask.png"))?;
    for case in CASES {
        let tensors: HashMap<String, candle_core::Tensor> = named_noise(case)?.into_iter().collect();
        candle_core::safetensors::save(&tensors, out.join(format!("noise-{}.safetensors", case.name)))?;
        println!("{}", case.name);
    }
    Ok(())
}
