//! Choice of the compute device from the `device` setting.

use candle_core::Device;

/// Opens the device that `setting` names: `auto` (a CUDA GPU, then Metal,
/// then the CPU), `cpu`, `cuda`, `cuda:N` or `metal`.
///
/// CUDA and Metal need a build with the `cuda` or `metal` cargo feature;
/// without it, naming them returns an error that names the feature.
pub fn open(setting: &str) -> Result<Device, String> {
    let setting = setting.trim().to_ascii_lowercase();
    let cuda = |ordinal: usize| {
        Device::new_cuda(ordinal).map_err(|error| {
            format!("device {setting:?} is not available: {error}; build with `--features cuda` on a machine with an NVIDIA driver, or set device = \"cpu\"")
        })
    };
    match setting.as_str() {
        "auto" => {
            if candle_core::utils::cuda_is_available() {
                cuda(0)
            } else if candle_core::utils::metal_is_available() {
                Device::new_metal(0).map_err(|error| format!("the Metal device failed to open: {error}"))
            } else {
                Ok(Device::Cpu)
            }
        }
        "cpu" => Ok(Device::Cpu),
        "cuda" => cuda(0),
        "metal" => Device::new_metal(0).map_err(|error| {
            format!("device \"metal\" is not available: {error}; build with `--features metal` on macOS, or set device = \"cpu\"")
        }),
        other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(ordinal)) => cuda(ordinal),
            _ => Err(format!(
                "invalid device {setting:?}; use auto, cpu, cuda, cuda:N (such as cuda:1) or metal"
            )),
        },
    }
}

/// Names a device as the `device` setting and `GET /api/system` write it.
pub fn name(device: &Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(_) => match device.location() {
            candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
            _ => "cuda".into(),
        },
        Device::Metal(_) => "metal".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_auto_open_without_a_gpu() {
        assert!(open("cpu").unwrap().is_cpu());
        assert!(open(" CPU ").unwrap().is_cpu());
        if !candle_core::utils::cuda_is_available() && !candle_core::utils::metal_is_available() {
            assert!(open("auto").unwrap().is_cpu());
        }
        assert_eq!(name(&Device::Cpu), "cpu");
    }

    #[test]
    fn unknown_device_names_the_choices() {
        let error = open("tpu").unwrap_err();
        assert!(error.contains("\"tpu\""), "{error}");
        assert!(error.contains("cuda:N"), "{error}");
        let error = open("cuda:x").unwrap_err();
        assert!(error.contains("invalid device"), "{error}");
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_feature_names_it() {
        let error = open("cuda:1").unwrap_err();
        assert!(error.contains("--features cuda"), "{error}");
    }
}
