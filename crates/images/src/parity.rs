//! Cases of the parity check against diffusers, shared by the example that
//! writes diffusers' inputs and the test that compares with its outputs.
//!
//! Each case runs a tiny fixture at 64×64 for 4 steps. Its noise is
//! drawn from [`Noise`] in the order the pipeline draws it, and named as
//! `scripts/parity/sd_reference.py` expects: `noise` for the initial latent
//! noise, `encoder_noise_<k>` for VAE posterior samples, `step_noise_<i>` for
//! Euler ancestral steps.

use candle_core::{Device, Result, Tensor};

use crate::noise::Noise;
use crate::pipeline::Architecture;
use crate::schedulers::Kind;

pub const SIZE: usize = 64;
pub const STEPS: usize = 4;
pub const SEED: i64 = 1234;
pub const PROMPT: &str = "a photo of a cat";
pub const NEGATIVE_PROMPT: &str = "blurry";
pub const GUIDANCE: f64 = 7.5;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Text,
    Image { strength: f64 },
    Inpaint { strength: f64 },
}

#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub name: &'static str,
    pub architecture: Architecture,
    pub scheduler: Kind,
    pub scheduler_name: &'static str,
    pub mode: Mode,
    pub negative_prompt: &'static str,
}

pub const CASES: &[Case] = &[
    Case {
        architecture: Architecture::Sd15,
        name: "txt2img-ddim",
        scheduler: Kind::Ddim,
        scheduler_name: "ddim",
        mode: Mode::Text,
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sd15,
        name: "txt2img-euler",
        scheduler: Kind::Euler,
        scheduler_name: "euler",
        mode: Mode::Text,
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sd15,
        name: "txt2img-euler-a",
        scheduler: Kind::EulerAncestral,
        scheduler_name: "euler_a",
        mode: Mode::Text,
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sd15,
        name: "img2img-ddim",
        scheduler: Kind::Ddim,
        scheduler_name: "ddim",
        mode: Mode::Image { strength: 0.5 },
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sd15,
        name: "img2img-euler-a",
        scheduler: Kind::EulerAncestral,
        scheduler_name: "euler_a",
        mode: Mode::Image { strength: 0.75 },
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sd15,
        name: "inpaint-ddim",
        scheduler: Kind::Ddim,
        scheduler_name: "ddim",
        mode: Mode::Inpaint { strength: 1.0 },
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sd15,
        name: "inpaint-euler",
        scheduler: Kind::Euler,
        scheduler_name: "euler",
        mode: Mode::Inpaint { strength: 0.75 },
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sd21,
        name: "sd21-txt2img-ddim",
        scheduler: Kind::Ddim,
        scheduler_name: "ddim",
        mode: Mode::Text,
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sd21,
        name: "sd21-txt2img-euler",
        scheduler: Kind::Euler,
        scheduler_name: "euler",
        mode: Mode::Text,
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sd21,
        name: "sd21-img2img-euler-a",
        scheduler: Kind::EulerAncestral,
        scheduler_name: "euler_a",
        mode: Mode::Image { strength: 0.5 },
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sd15,
        name: "txt2img-dpmpp",
        scheduler: Kind::DpmPp2mKarras,
        scheduler_name: "dpmpp_2m_karras",
        mode: Mode::Text,
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sd15,
        name: "img2img-dpmpp",
        scheduler: Kind::DpmPp2mKarras,
        scheduler_name: "dpmpp_2m_karras",
        mode: Mode::Image { strength: 0.75 },
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sd21,
        name: "sd21-txt2img-dpmpp",
        scheduler: Kind::DpmPp2mKarras,
        scheduler_name: "dpmpp_2m_karras",
        mode: Mode::Text,
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sdxl,
        name: "sdxl-txt2img-euler",
        scheduler: Kind::Euler,
        scheduler_name: "euler",
        mode: Mode::Text,
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sdxl,
        name: "sdxl-txt2img-dpmpp-zero-negative",
        scheduler: Kind::DpmPp2mKarras,
        scheduler_name: "dpmpp_2m_karras",
        mode: Mode::Text,
        negative_prompt: "",
    },
    Case {
        architecture: Architecture::Sdxl,
        name: "sdxl-img2img-euler-a",
        scheduler: Kind::EulerAncestral,
        scheduler_name: "euler_a",
        mode: Mode::Image { strength: 0.75 },
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sdxl,
        name: "sdxl-inpaint-ddim",
        scheduler: Kind::Ddim,
        scheduler_name: "ddim",
        mode: Mode::Inpaint { strength: 1.0 },
        negative_prompt: NEGATIVE_PROMPT,
    },
    Case {
        architecture: Architecture::Sdxl,
        name: "sdxl-inpaint-euler",
        scheduler: Kind::Euler,
        scheduler_name: "euler",
        mode: Mode::Inpaint { strength: 0.75 },
        negative_prompt: NEGATIVE_PROMPT,
    },
];

/// Folder name of an architecture's fixture among the parity inputs.
pub fn folder(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::Sd15 => "sd15",
        Architecture::Sd21 => "sd21",
        Architecture::Sdxl => "sdxl",
    }
}

/// Returns the plate of the image cases, a smooth colour ramp.
pub fn plate() -> image::RgbImage {
    image::RgbImage::from_fn(SIZE as u32, SIZE as u32, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 4) as u8, 160])
    })
}

/// Returns the mask of the inpainting cases, which repaints the right half.
pub fn mask() -> image::GrayImage {
    image::GrayImage::from_fn(SIZE as u32, SIZE as u32, |x, _| {
        image::Luma([if x >= SIZE as u32 / 2 { 255 } else { 0 }])
    })
}

/// Steps that run for a strength, as the scheduler counts them.
fn steps_run(mode: Mode) -> usize {
    match mode {
        Mode::Text => STEPS,
        Mode::Image { strength } | Mode::Inpaint { strength } => ((STEPS as f64 * strength) as usize).clamp(1, STEPS),
    }
}

/// Draws the case's noise from `Noise::new(SEED)` in the pipeline's order and names each tensor.
pub fn named_noise(case: &Case) -> Result<Vec<(String, Tensor)>> {
    let shape = [1, 4, SIZE / 8, SIZE / 8];
    let mut noise = Noise::new(SEED);
    let mut draw = |name: String| -> Result<(String, Tensor)> { Ok((name, noise.tensor(&shape, &Device::Cpu)?)) };
    let mut named = Vec::new();
    match case.mode {
        Mode::Text => named.push(draw("noise".into())?),
        Mode::Image { .. } => {
            named.push(draw("encoder_noise_0".into())?);
            named.push(draw("noise".into())?);
        }
        Mode::Inpaint { strength } if strength >= 1.0 => {
            named.push(draw("noise".into())?);
            named.push(draw("encoder_noise_0".into())?);
        }
        Mode::Inpaint { .. } => {
            named.push(draw("encoder_noise_0".into())?);
            named.push(draw("noise".into())?);
            named.push(draw("encoder_noise_1".into())?);
        }
    }
    if case.scheduler == Kind::EulerAncestral {
        for step in 0..steps_run(case.mode) {
            named.push(draw(format!("step_noise_{step}"))?);
        }
    }
    Ok(named)
}
