//! Weights read tensor by tensor from a safetensors file.
//!
//! A memory-mapped file keeps every page it has touched resident until it is
//! unmapped, so loading a model through a map keeps the file's pages and the
//! converted copies at the same time: about twice the model's size at peak.
//! Reading each tensor with a positioned read keeps one copy.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;

use candle_core::{DType, Device, Result, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use serde::Deserialize;

/// One entry of a safetensors header.
#[derive(Debug, Deserialize)]
struct Entry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [u64; 2],
}

/// An open safetensors file and its header.
pub struct SafetensorsFile {
    file: Mutex<File>,
    path: String,
    entries: HashMap<String, Entry>,
    data_start: u64,
}

impl SafetensorsFile {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path) -> Result<Self> {
        let display = path.display().to_string();
        let invalid = |what: &str| candle_core::Error::Msg(format!("invalid safetensors file {display}: {what}"));
        let mut file =
            File::open(path).map_err(|error| candle_core::Error::Msg(format!("could not open {display}: {error}")))?;
        let mut length = [0u8; 8];
        file.read_exact(&mut length)?;
        let header_length = u64::from_le_bytes(length);
        if header_length > 100 * 1024 * 1024 {
            return Err(invalid("the header is over 100 MB"));
        }
        let mut header = vec![0u8; header_length as usize];
        file.read_exact(&mut header)?;
        let mut raw: HashMap<String, serde_json::Value> =
            serde_json::from_slice(&header).map_err(|error| invalid(&error.to_string()))?;
        raw.remove("__metadata__");
        let entries = raw
            .into_iter()
            .map(|(name, value)| {
                let entry: Entry =
                    serde_json::from_value(value).map_err(|error| invalid(&format!("{name}: {error}")))?;
                Ok((name, entry))
            })
            .collect::<Result<HashMap<_, _>>>()?;
        Ok(Self {
            file: Mutex::new(file),
            path: display,
            entries,
            data_start: 8 + header_length,
        })
    }

    fn read(&self, name: &str, dtype: DType, device: &Device) -> Result<Tensor> {
        let entry = self
            .entries
            .get(name)
            .ok_or_else(|| candle_core::Error::Msg(format!("tensor {name} is missing from {}", self.path)))?;
        let stored = match entry.dtype.as_str() {
            "F32" => DType::F32,
            "F16" => DType::F16,
            "BF16" => DType::BF16,
            "F64" => DType::F64,
            "U8" => DType::U8,
            "U32" => DType::U32,
            "I64" => DType::I64,
            other => candle_core::bail!("tensor {name} in {} has unsupported dtype {other}", self.path),
        };
        let [start, end] = entry.data_offsets;
        let mut bytes = vec![0u8; (end - start) as usize];
        let read = {
            let mut file = self.file.lock().unwrap();
            file.seek(SeekFrom::Start(self.data_start + start))
                .and_then(|_| file.read_exact(&mut bytes))
        };
        read.map_err(|error| {
            candle_core::Error::Msg(format!(
                "reading tensor {name} from {} failed: {error}; the file may be damaged: delete the model with \
                 `ddiffusion models rm` and download it again",
                self.path
            ))
        })?;
        let tensor = Tensor::from_raw_buffer(&bytes, stored, &entry.shape, &Device::Cpu)?;
        tensor.to_dtype(dtype)?.to_device(device)
    }
}

impl SimpleBackend for SafetensorsFile {
    fn get(&self, shape: Shape, name: &str, _: candle_nn::Init, dtype: DType, device: &Device) -> Result<Tensor> {
        let tensor = self.read(name, dtype, device)?;
        if tensor.shape() != &shape {
            candle_core::bail!(
                "tensor {name} in {} has shape {:?}, but the model's config expects {:?}",
                self.path,
                tensor.dims(),
                shape.dims()
            );
        }
        Ok(tensor)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, device: &Device) -> Result<Tensor> {
        self.read(name, dtype, device)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_converts_and_checks_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let half = Tensor::new(&[[1.5f32, -2.0], [0.25, 4.0]], &Device::Cpu)
            .unwrap()
            .to_dtype(DType::F16)
            .unwrap();
        candle_core::safetensors::save(&HashMap::from([("layer.weight".to_owned(), half)]), &path).unwrap();

        let file = SafetensorsFile::open(&path).unwrap();
        assert!(file.contains_tensor("layer.weight"));
        let read = file
            .get(
                (2, 2).into(),
                "layer.weight",
                candle_nn::Init::Const(0.0),
                DType::F32,
                &Device::Cpu,
            )
            .unwrap();
        assert_eq!(read.to_vec2::<f32>().unwrap(), vec![vec![1.5, -2.0], vec![0.25, 4.0]]);

        let error = file
            .get(
                (4,).into(),
                "layer.weight",
                candle_nn::Init::Const(0.0),
                DType::F32,
                &Device::Cpu,
            )
            .unwrap_err()
            .to_string();
        assert!(error.contains("has shape [2, 2]"), "{error}");
        let error = file
            .get_unchecked("other", DType::F32, &Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(error.contains("tensor other is missing"), "{error}");

        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let truncated = SafetensorsFile::open(&path).unwrap();
        assert!(truncated
            .get_unchecked("layer.weight", DType::F32, &Device::Cpu)
            .is_err());
    }
}
