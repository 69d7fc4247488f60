//! Writes the inputs of the parity check: the tiny SD 1.5, SD 2.1 and SDXL
//! fixtures in diffusers layout (`sd15-model`, ...), copies with the
//! inpainting UNet in place of the base one (`*-inpaint-model`), the plate
//! and mask, and one noise file per case. `scripts/parity/make_references.sh` runs it.
//!
//! Usage: `cargo run -p ddiffusion-images --example parity_inputs -- OUT_DIR`

use std::collections::HashMap;
use std::path::Path;

use ddiffusion_images::fixtures::{write_tiny, INPAINTING};
use ddiffusion_images::parity::{folder, mask, named_noise, plate, CASES};
use ddiffusion_images::pipeline::Architecture;

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
    for architecture in [Architecture::Sd15, Architecture::Sd21, Architecture::Sdxl] {
        let folder = folder(architecture);
        let model = out.join(format!("{folder}-model"));
        write_tiny(&model, architecture)?;
        let inpaint_model = out.join(format!("{folder}-inpaint-model"));
        copy_tree(&model, &inpaint_model)?;
        std::fs::remove_dir_all(inpaint_model.join("unet"))?;
        std::fs::rename(inpaint_model.join(INPAINTING).join("unet"), inpaint_model.join("unet"))?;
        std::fs::remove_dir_all(inpaint_model.join(INPAINTING))?;
        std::fs::remove_dir_all(model.join(INPAINTING))?;
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
