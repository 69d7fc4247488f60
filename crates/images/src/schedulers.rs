//! Noise schedulers with diffusers' arithmetic: DDIM (eta 0), Euler, Euler
//! ancestral and DPM++ 2M with Karras sigmas, read from a repository's
//! `scheduler/scheduler_config.json`.

use candle_core::{Result, Tensor};
use serde::Deserialize;

use crate::noise::Noise;

/// Scheduler names accepted in requests.
pub const NAMES: &[&str] = &["ddim", "euler", "euler_a", "dpmpp_2m_karras"];

/// Fields of `scheduler_config.json`; left-out fields take diffusers' defaults.
#[derive(Debug, Clone, Deserialize)]
pub struct SchedulerConfig {
    #[serde(default = "train_steps")]
    pub num_train_timesteps: usize,
    #[serde(default = "beta_start")]
    pub beta_start: f64,
    #[serde(default = "beta_end")]
    pub beta_end: f64,
    #[serde(default = "beta_schedule")]
    pub beta_schedule: String,
    #[serde(default = "prediction_type")]
    pub prediction_type: String,
    #[serde(default)]
    pub steps_offset: usize,
    #[serde(default = "yes")]
    pub set_alpha_to_one: bool,
    /// `leading`, `linspace` or `trailing`; when absent each scheduler uses
    /// diffusers' default for its class (DDIM `leading`, Euler `linspace`).
    #[serde(default)]
    pub timestep_spacing: Option<String>,
}

fn train_steps() -> usize {
    1000
}
fn beta_start() -> f64 {
    0.0001
}
fn beta_end() -> f64 {
    0.02
}
fn beta_schedule() -> String {
    "linear".into()
}
fn prediction_type() -> String {
    "epsilon".into()
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ddim,
    Euler,
    EulerAncestral,
    /// DPM-Solver++ 2M (second-order multistep, midpoint) on Karras sigmas.
    DpmPp2mKarras,
}

impl Kind {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ddim" => Some(Self::Ddim),
            "euler" => Some(Self::Euler),
            "euler_a" => Some(Self::EulerAncestral),
            "dpmpp_2m_karras" => Some(Self::DpmPp2mKarras),
            _ => None,
        }
    }
}

/// A scheduler set up for one run of `steps` steps.
pub struct Scheduler {
    kind: Kind,
    v_prediction: bool,
    alphas_cumprod: Vec<f64>,
    final_alpha_cumprod: f64,
    /// Timesteps passed to the UNet, from noisiest to cleanest.
    timesteps: Vec<f64>,
    /// Noise levels for the Euler schedulers, one more than the timesteps (ending at 0).
    sigmas: Vec<f64>,
    step_ratio: usize,
    init_noise_sigma: f64,
    /// DPM++ 2M's data prediction of the previous step.
    previous_prediction: std::sync::Mutex<Option<Tensor>>,
}

/// Karras et al.'s noise levels: `steps` sigmas from `max` to `min`, evenly
/// spaced in `sigma^(1/7)`.
fn karras_sigmas(min: f64, max: f64, steps: usize) -> Vec<f64> {
    let rho = 7.0;
    let (min_inv, max_inv) = (min.powf(1.0 / rho), max.powf(1.0 / rho));
    linspace(0.0, 1.0, steps)
        .into_iter()
        .map(|ramp| (max_inv + ramp * (min_inv - max_inv)).powf(rho))
        .collect()
}

/// Training timestep of a sigma, interpolated in log space between the two
/// training sigmas around it, as diffusers' `_sigma_to_t` does.
fn sigma_to_timestep(sigma: f64, log_sigmas: &[f64]) -> f64 {
    let log_sigma = sigma.ln();
    let low = log_sigmas
        .iter()
        .filter(|&&value| log_sigma - value >= 0.0)
        .count()
        .saturating_sub(1)
        .min(log_sigmas.len() - 2);
    let (low_value, high_value) = (log_sigmas[low], log_sigmas[low + 1]);
    let weight = ((low_value - log_sigma) / (low_value - high_value)).clamp(0.0, 1.0);
    (1.0 - weight) * low as f64 + weight * (low + 1) as f64
}

/// Signal and noise scales of the variance-preserving form for a sigma.
fn alpha_sigma(sigma: f64) -> (f64, f64) {
    let alpha = 1.0 / (sigma * sigma + 1.0).sqrt();
    (alpha, sigma * alpha)
}

fn linspace(start: f64, end: f64, count: usize) -> Vec<f64> {
    if count == 1 {
        return vec![start];
    }
    (0..count)
        .map(|i| start + (end - start) * i as f64 / (count - 1) as f64)
        .collect()
}

/// Linear interpolation of `values` (given at 0, 1, 2, ...) at position `x`.
fn interpolate(values: &[f64], x: f64) -> f64 {
    let low = (x.floor() as usize).min(values.len() - 1);
    let high = (low + 1).min(values.len() - 1);
    let fraction = x - low as f64;
    values[low] + (values[high] - values[low]) * fraction
}

impl Scheduler {
    pub fn new(kind: Kind, config: &SchedulerConfig, steps: usize) -> Self {
        let train = config.num_train_timesteps;
        let betas = match config.beta_schedule.as_str() {
            "scaled_linear" => linspace(config.beta_start.sqrt(), config.beta_end.sqrt(), train)
                .iter()
                .map(|b| b * b)
                .collect(),
            _ => linspace(config.beta_start, config.beta_end, train),
        };
        let mut alphas_cumprod = Vec::with_capacity(train);
        let mut product = 1.0;
        for beta in &betas {
            product *= 1.0 - beta;
            alphas_cumprod.push(product);
        }
        let steps = steps.max(1);
        let spacing = config.timestep_spacing.clone().unwrap_or_else(|| {
            if kind == Kind::Ddim {
                "leading".into()
            } else {
                "linspace".into()
            }
        });
        let step_ratio = train / steps;
        let timesteps: Vec<f64> = match spacing.as_str() {
            "linspace" => linspace(0.0, (train - 1) as f64, steps)
                .into_iter()
                .rev()
                .map(|t| if kind == Kind::Ddim { t.round() } else { t })
                .collect(),
            "trailing" => {
                let ratio = train as f64 / steps as f64;
                (0..steps)
                    .map(|i| (train as f64 - i as f64 * ratio).round() - 1.0)
                    .collect()
            }
            _ => (0..steps)
                .rev()
                .map(|i| (i * step_ratio + config.steps_offset) as f64)
                .collect(),
        };
        let train_sigmas: Vec<f64> = alphas_cumprod.iter().map(|a| ((1.0 - a) / a).sqrt()).collect();
        let (timesteps, mut sigmas) = if kind == Kind::DpmPp2mKarras {
            let log_sigmas: Vec<f64> = train_sigmas.iter().map(|sigma| sigma.ln()).collect();
            let sigmas = karras_sigmas(train_sigmas[0], train_sigmas[train - 1], steps);
            let timesteps = sigmas
                .iter()
                .map(|sigma| sigma_to_timestep(*sigma, &log_sigmas).round())
                .collect();
            (timesteps, sigmas)
        } else {
            let sigmas = timesteps.iter().map(|t| interpolate(&train_sigmas, *t)).collect();
            (timesteps, sigmas)
        };
        sigmas.push(0.0);
        let max_sigma = sigmas.iter().cloned().fold(0.0, f64::max);
        let init_noise_sigma = match kind {
            Kind::Ddim | Kind::DpmPp2mKarras => 1.0,
            _ if spacing == "linspace" || spacing == "trailing" => max_sigma,
            _ => (max_sigma * max_sigma + 1.0).sqrt(),
        };
        let final_alpha_cumprod = if config.set_alpha_to_one {
            1.0
        } else {
            alphas_cumprod[0]
        };
        Self {
            kind,
            v_prediction: config.prediction_type == "v_prediction",
            alphas_cumprod,
            final_alpha_cumprod,
            timesteps,
            sigmas,
            step_ratio,
            init_noise_sigma,
            previous_prediction: std::sync::Mutex::new(None),
        }
    }

    pub fn timesteps(&self) -> &[f64] {
        &self.timesteps
    }

    /// Factor applied to unit Gaussian noise to make the initial latents.
    pub fn init_noise_sigma(&self) -> f64 {
        self.init_noise_sigma
    }

    /// Scales the latents before they enter the UNet at step `index`.
    pub fn scale_model_input(&self, sample: &Tensor, index: usize) -> Result<Tensor> {
        match self.kind {
            Kind::Ddim | Kind::DpmPp2mKarras => Ok(sample.clone()),
            Kind::Euler | Kind::EulerAncestral => {
                let sigma = self.sigmas[index];
                sample / (sigma * sigma + 1.0).sqrt()
            }
        }
    }

    /// Noises clean latents to the level of step `index`, for image-to-image
    /// and inpainting that start part-way through the schedule.
    pub fn add_noise(&self, original: &Tensor, noise: &Tensor, index: usize) -> Result<Tensor> {
        match self.kind {
            Kind::Ddim => {
                let alpha = self.alphas_cumprod[self.timesteps[index] as usize];
                (original * alpha.sqrt())? + (noise * (1.0 - alpha).sqrt())?
            }
            Kind::Euler | Kind::EulerAncestral => original + (noise * self.sigmas[index])?,
            Kind::DpmPp2mKarras => {
                let (alpha, sigma) = alpha_sigma(self.sigmas[index]);
                (original * alpha)? + (noise * sigma)?
            }
        }
    }

    /// Index of the first step when only `strength` of the schedule runs, as
    /// diffusers computes it, except that at least one step always runs.
    pub fn start_index(&self, strength: f64) -> usize {
        let steps = self.timesteps.len();
        let run = ((steps as f64 * strength) as usize).clamp(1, steps);
        steps - run
    }

    /// Computes the latents of the next step from the UNet's output at step
    /// `index`. Euler ancestral draws fresh noise from `noise`.
    pub fn step(&self, model_output: &Tensor, index: usize, sample: &Tensor, noise: &mut Noise) -> Result<Tensor> {
        match self.kind {
            Kind::Ddim => self.ddim_step(model_output, index, sample),
            Kind::Euler | Kind::EulerAncestral => self.euler_step(model_output, index, sample, noise),
            Kind::DpmPp2mKarras => self.dpm_step(model_output, index, sample),
        }
    }

    /// Computes one DPM-Solver++ step: first order on the first and the last
    /// step, second order (midpoint) in between, as diffusers runs it with
    /// `lower_order_final` and a final sigma of 0.
    fn dpm_step(&self, model_output: &Tensor, index: usize, sample: &Tensor) -> Result<Tensor> {
        let (alpha_s, sigma_s) = alpha_sigma(self.sigmas[index]);
        let prediction = if self.v_prediction {
            ((sample * alpha_s)? - (model_output * sigma_s)?)?
        } else {
            ((sample - (model_output * sigma_s)?)? / alpha_s)?
        };
        let sigma_next = self.sigmas[index + 1];
        let mut previous = self.previous_prediction.lock().unwrap();
        let next = if sigma_next == 0.0 {
            // The limit of the update as sigma goes to 0 is the data prediction itself.
            prediction.clone()
        } else {
            let (alpha_t, sigma_t) = alpha_sigma(sigma_next);
            let lambda = |alpha: f64, sigma: f64| alpha.ln() - sigma.ln();
            let h = lambda(alpha_t, sigma_t) - lambda(alpha_s, sigma_s);
            let decay = (-h).exp() - 1.0;
            let first_order = ((sample * (sigma_t / sigma_s))? - (&prediction * (alpha_t * decay))?)?;
            let last_step = index + 2 == self.sigmas.len();
            match previous.as_ref() {
                Some(earlier) if index > 0 && !last_step => {
                    let (alpha_p, sigma_p) = alpha_sigma(self.sigmas[index - 1]);
                    let ratio = (lambda(alpha_s, sigma_s) - lambda(alpha_p, sigma_p)) / h;
                    let difference = ((&prediction - earlier)? / ratio)?;
                    (first_order - (difference * (0.5 * alpha_t * decay))?)?
                }
                _ => first_order,
            }
        };
        *previous = Some(prediction);
        Ok(next)
    }

    fn ddim_step(&self, model_output: &Tensor, index: usize, sample: &Tensor) -> Result<Tensor> {
        let timestep = self.timesteps[index] as i64;
        let previous = timestep - self.step_ratio as i64;
        let alpha = self.alphas_cumprod[timestep as usize];
        let alpha_previous = if previous >= 0 {
            self.alphas_cumprod[previous as usize]
        } else {
            self.final_alpha_cumprod
        };
        let (original, epsilon) = if self.v_prediction {
            let original = ((sample * alpha.sqrt())? - (model_output * (1.0 - alpha).sqrt())?)?;
            let epsilon = ((model_output * alpha.sqrt())? + (sample * (1.0 - alpha).sqrt())?)?;
            (original, epsilon)
        } else {
            let original = ((sample - (model_output * (1.0 - alpha).sqrt())?)? / alpha.sqrt())?;
            (original, model_output.clone())
        };
        (original * alpha_previous.sqrt())? + (epsilon * (1.0 - alpha_previous).sqrt())?
    }

    fn euler_step(&self, model_output: &Tensor, index: usize, sample: &Tensor, noise: &mut Noise) -> Result<Tensor> {
        let sigma = self.sigmas[index];
        let sigma_next = self.sigmas[index + 1];
        let original = if self.v_prediction {
            ((model_output * (-sigma / (sigma * sigma + 1.0).sqrt()))? + (sample / (sigma * sigma + 1.0))?)?
        } else {
            (sample - (model_output * sigma)?)?
        };
        let derivative = ((sample - original)? / sigma)?;
        if self.kind == Kind::Euler {
            return sample + (derivative * (sigma_next - sigma))?;
        }
        let sigma_up = (sigma_next * sigma_next * (sigma * sigma - sigma_next * sigma_next) / (sigma * sigma)).sqrt();
        let sigma_down = (sigma_next * sigma_next - sigma_up * sigma_up).sqrt();
        let moved = (sample + (derivative * (sigma_down - sigma))?)?;
        let fresh = noise.tensor(sample.dims(), sample.device())?.to_dtype(sample.dtype())?;
        moved + (fresh * sigma_up)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sd15() -> SchedulerConfig {
        serde_json::from_str(
            r#"{"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "num_train_timesteps": 1000,
                "set_alpha_to_one": false, "steps_offset": 1, "skip_prk_steps": true}"#,
        )
        .unwrap()
    }

    #[test]
    fn ddim_leading_timesteps_match_diffusers() {
        let scheduler = Scheduler::new(Kind::Ddim, &sd15(), 4);
        assert_eq!(scheduler.timesteps(), &[751.0, 501.0, 251.0, 1.0]);
        assert_eq!(scheduler.init_noise_sigma(), 1.0);
    }

    #[test]
    fn dpm_karras_timesteps_match_diffusers() {
        let scheduler = Scheduler::new(Kind::DpmPp2mKarras, &sd15(), 4);
        assert_eq!(scheduler.timesteps(), &[999.0, 687.0, 146.0, 0.0]);
        let expected = [14.614647, 3.168611, 0.446921, 0.029168, 0.0];
        for (ours, theirs) in scheduler.sigmas.iter().zip(expected) {
            assert!((ours - theirs).abs() < 1e-4, "{:?}", scheduler.sigmas);
        }
    }

    #[test]
    fn euler_linspace_sigmas_end_at_zero() {
        let scheduler = Scheduler::new(Kind::Euler, &sd15(), 4);
        assert_eq!(scheduler.timesteps(), &[999.0, 666.0, 333.0, 0.0]);
        assert_eq!(scheduler.sigmas.len(), 5);
        assert_eq!(*scheduler.sigmas.last().unwrap(), 0.0);
        // SD 1.5's largest training sigma is about 14.6.
        assert!(
            (scheduler.init_noise_sigma() - 14.6146).abs() < 1e-3,
            "{}",
            scheduler.init_noise_sigma()
        );
    }
}
