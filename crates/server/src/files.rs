//! Signed download URLs for stored outputs, and the route that serves them.
//!
//! A URL carries `expires` (Unix seconds) and `sig`, the hex HMAC-SHA256 of
//! `GET:<path>:<expires>` under a key derived from the admin key. The
//! signature is the only credential, so plug-ins download without an API key;
//! changing the admin key invalidates every URL issued before.

use std::path::{Component, Path};

use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// Creates and checks file URL signatures.
#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
    lifetime_seconds: u64,
}

impl Signer {
    pub fn from_admin_key(admin_key: &str, lifetime_seconds: u64) -> Self {
        let key = Sha256::digest(format!("{admin_key}:ddiffusion-file-url-signing").as_bytes()).into();
        Self { key, lifetime_seconds }
    }

    fn signature(&self, path: &str, expires: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(format!("GET:{path}:{expires}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Returns `<base>/api/files/<path>?expires=..&sig=..`, valid for the configured lifetime.
    pub fn url(&self, base: &str, path: &str) -> String {
        let expires = chrono::Utc::now().timestamp() + self.lifetime_seconds as i64;
        self.url_expiring(base, path, expires)
    }

    pub fn url_expiring(&self, base: &str, path: &str, expires: i64) -> String {
        format!(
            "{}/api/files/{path}?expires={expires}&sig={}",
            base.trim_end_matches('/'),
            self.signature(path, expires)
        )
    }

    /// Returns true if `sig` signs `path` and `expires` is in the future.
    pub fn verify(&self, path: &str, expires: i64, sig: &str) -> bool {
        if expires < chrono::Utc::now().timestamp() {
            return false;
        }
        self.signature(path, expires).as_bytes().ct_eq(sig.as_bytes()).into()
    }
}

/// Returns true for a relative path that stays inside the storage folder.
pub fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && !path.contains('\0')
        && Path::new(path)
            .components()
            .all(|component| matches!(component, Component::Normal(_)))
}

#[derive(Deserialize)]
pub struct FileQuery {
    expires: Option<i64>,
    sig: Option<String>,
}

/// Serves a stored file to anyone holding a valid signed URL.
#[utoipa::path(
    get,
    path = "/api/files/{file_id}",
    operation_id = "files_get",
    tag = "files",
    params(
        ("file_id" = String, Path, description = "Path of the file in storage"),
        ("expires" = i64, Query, description = "Expiry time, Unix seconds"),
        ("sig" = String, Query, description = "HMAC-SHA256 signature"),
    ),
    responses(
        (status = 200, description = "The file"),
        (status = 403, description = "Invalid or expired signature, or an invalid path", body = protocol::ErrorDetail),
        (status = 404, description = "File not found", body = protocol::ErrorDetail),
    )
)]
pub async fn get_file(
    State(state): State<AppState>,
    UrlPath(file_id): UrlPath<String>,
    Query(query): Query<FileQuery>,
) -> Result<Response, ApiError> {
    if !is_safe_relative(&file_id) {
        return Err(ApiError::Forbidden(format!(
            "Invalid file path {file_id:?}: it must be relative and must not contain '..'"
        )));
    }
    let (Some(expires), Some(sig)) = (query.expires, query.sig) else {
        return Err(ApiError::Forbidden(
            "Invalid or expired signature: the URL needs `expires` and `sig`".into(),
        ));
    };
    if !state.signer.verify(&file_id, expires, &sig) {
        return Err(ApiError::Forbidden(
            "Invalid or expired signature; poll the task again for fresh output URLs".into(),
        ));
    }
    let path = state.engine.storage_dir().join(&file_id);
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::NotFound(format!("File not found: {file_id}")));
        }
        Err(error) => return Err(ApiError::internal(format!("could not open {file_id}: {error}"))),
    };
    let length = file.metadata().await.map(|m| m.len()).ok();
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&file_id)));
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    Ok(response)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("").to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "exr" => "image/x-exr",
        "tif" | "tiff" => "image/tiff",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "txt" => "text/plain; charset=utf-8",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_round_trip_and_tampering() {
        let signer = Signer::from_admin_key(&"k".repeat(32), 3600);
        let expires = chrono::Utc::now().timestamp() + 60;
        let url = signer.url_expiring("http://x", "images/m/a-0.png", expires);
        let sig = url.split("sig=").nth(1).unwrap();
        assert!(signer.verify("images/m/a-0.png", expires, sig));
        assert!(!signer.verify("images/m/a-1.png", expires, sig));
        assert!(!signer.verify("images/m/a-0.png", expires + 1, sig));
        assert!(!signer.verify("images/m/a-0.png", chrono::Utc::now().timestamp() - 1, sig));
        let other = Signer::from_admin_key(&"j".repeat(32), 3600);
        assert!(!other.verify("images/m/a-0.png", expires, sig));
    }

    #[test]
    fn unsafe_paths_are_rejected() {
        assert!(is_safe_relative("images/sd-xl/x-0.png"));
        for bad in ["", "/etc/passwd", "../secret", "images/../../x", "a\\b", "./a"] {
            assert!(!is_safe_relative(bad), "{bad} should be rejected");
        }
    }
}
