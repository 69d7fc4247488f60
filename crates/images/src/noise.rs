//! Seeded Gaussian noise that is the same on every device.
//!
//! Noise is drawn on the CPU from ChaCha8 seeded with the request's seed, then
//! moved to the device, so a seed gives the same image on CPU, CUDA and Metal
//! (up to the device's arithmetic).

use candle_core::{Device, Result, Tensor};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// A stream of standard normal samples for one job.
pub struct Noise {
    rng: rand_chacha::ChaCha8Rng,
}

impl Noise {
    /// Seeds the stream. Negative seeds are valid and distinct.
    pub fn new(seed: i64) -> Self {
        Self {
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed as u64),
        }
    }

    /// Draws a tensor of standard normal f32 values with the given shape.
    pub fn tensor(&mut self, shape: &[usize], device: &Device) -> Result<Tensor> {
        let count: usize = shape.iter().product();
        let values: Vec<f32> = (0..count).map(|_| StandardNormal.sample(&mut self.rng)).collect();
        Tensor::from_vec(values, shape, &Device::Cpu)?.to_device(device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_noise() {
        let a = Noise::new(42)
            .tensor(&[1, 4, 2, 2], &Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let b = Noise::new(42)
            .tensor(&[1, 4, 2, 2], &Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let c = Noise::new(43)
            .tensor(&[1, 4, 2, 2], &Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        assert!(mean.abs() < 1.0);
    }
}
