//! Base64 inputs: decoded when a job is created and written to
//! `<storage>/inputs/<job id>/`, so job rows and memory hold paths, not payloads.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use protocol::{Location, ValidationError, BASE64_MAX_LENGTH};

/// Standard base64 that accepts input with or without `=` padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One base64 string inside a request, with its location for error messages.
pub struct Base64Field<'a> {
    pub loc: Vec<Location>,
    pub value: &'a mut String,
}

/// Decodes each field, writes it under `inputs/<job id>/` and replaces the
/// field's value with the file's path relative to `storage`. Returns the
/// relative paths. On any invalid field nothing stays on disk.
pub fn store(
    storage: &Path,
    job_id: uuid::Uuid,
    fields: Vec<Base64Field<'_>>,
) -> Result<Vec<String>, Vec<ValidationError>> {
    let folder = storage.join("inputs").join(job_id.to_string());
    let mut stored = Vec::new();
    let mut errors = Vec::new();
    for field in fields {
        match store_one(storage, &folder, job_id, &field.loc, field.value) {
            Ok(relative) => {
                *field.value = relative.clone();
                stored.push(relative);
            }
            Err(message) => errors.push(ValidationError::new(field.loc, message, "value_error")),
        }
    }
    if !errors.is_empty() {
        remove(storage, &stored);
        return Err(errors);
    }
    Ok(stored)
}

/// Deletes stored inputs and their folder, for a job that was not created.
pub fn remove(storage: &Path, paths: &[String]) {
    for relative in paths {
        let _ = std::fs::remove_file(storage.join(relative));
    }
    if let Some(first) = paths.first() {
        if let Some(folder) = storage.join(first).parent() {
            let _ = std::fs::remove_dir(folder);
        }
    }
}

fn store_one(
    storage: &Path,
    folder: &Path,
    job_id: uuid::Uuid,
    loc: &[Location],
    value: &str,
) -> Result<String, String> {
    let field = field_name(loc);
    if value.len() > BASE64_MAX_LENGTH {
        return Err(format!(
            "{field} has {} base64 characters, more than the limit of {BASE64_MAX_LENGTH} (100 MiB); send a smaller file",
            value.len()
        ));
    }
    // A data URI prefix such as `data:image/png;base64,` is tolerated.
    let payload = match value.split_once(";base64,") {
        Some((prefix, rest)) if prefix.starts_with("data:") => rest,
        _ => value,
    };
    let compact: String = payload.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = BASE64
        .decode(compact.as_bytes())
        .map_err(|error| format!("{field} is not valid base64 ({error}); send the file's bytes as standard base64"))?;
    if bytes.is_empty() {
        return Err(format!("{field} is empty; send the file's bytes as standard base64"));
    }
    let name = format!("{}.{}", field.replace('.', "-"), sniff_extension(&bytes));
    let relative = format!("inputs/{job_id}/{name}");
    write_atomic(&storage.join(&relative), folder, &bytes)
        .map_err(|error| format!("could not store {field}: {error}"))?;
    Ok(relative)
}

fn field_name(loc: &[Location]) -> String {
    loc.iter()
        .skip(1)
        .map(|part| match part {
            Location::Field(name) => name.clone(),
            Location::Index(index) => index.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn write_atomic(path: &PathBuf, folder: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

/// Guesses a file extension from the first bytes of a file.
pub fn sniff_extension(bytes: &[u8]) -> &'static str {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => "png",
        [0xFF, 0xD8, 0xFF, ..] => "jpg",
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => "webp",
        [0x76, 0x2F, 0x31, 0x01, ..] => "exr",
        [b'I', b'I', 0x2A, 0x00, ..] | [b'M', b'M', 0x00, 0x2A, ..] => "tif",
        [b'G', b'I', b'F', b'8', ..] => "gif",
        [_, _, _, _, b'f', b't', b'y', b'p', b'q', b't', ..] => "mov",
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => "mp4",
        [0x1A, 0x45, 0xDF, 0xA3, ..] => "webm",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_fields_are_written_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let id = uuid::Uuid::new_v4();
        let mut image = BASE64.encode(b"\x89PNG\r\n\x1a\nrest");
        let stored = store(
            dir.path(),
            id,
            vec![Base64Field {
                loc: vec!["body".into(), "image".into()],
                value: &mut image,
            }],
        )
        .unwrap();
        assert_eq!(stored, vec![format!("inputs/{id}/image.png")]);
        assert_eq!(image, stored[0]);
        assert!(dir.path().join(&stored[0]).is_file());
    }

    #[test]
    fn invalid_field_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let id = uuid::Uuid::new_v4();
        let mut good = BASE64.encode(b"\xFF\xD8\xFFjpeg");
        let mut bad = "not base64!".to_owned();
        let errors = store(
            dir.path(),
            id,
            vec![
                Base64Field {
                    loc: vec!["body".into(), "image".into()],
                    value: &mut good,
                },
                Base64Field {
                    loc: vec!["body".into(), "mask".into()],
                    value: &mut bad,
                },
            ],
        )
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].loc, vec![Location::from("body"), Location::from("mask")]);
        assert!(!dir.path().join("inputs").join(id.to_string()).exists());
    }
}
