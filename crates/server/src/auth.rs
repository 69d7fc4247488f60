//! API key and admin key checks.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use engine::Identity;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// Identity of the caller, recorded with its jobs and in the access log.
#[derive(Debug, Clone)]
pub struct Caller(pub Identity);

/// Returns the token of the `Authorization` header, with or without `Bearer `.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?.trim();
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => value,
    };
    (!token.is_empty()).then_some(token)
}

fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().chars().take(200).collect::<String>())
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Middleware for routes that need an API key: 403 without a valid key,
/// otherwise the request and its response carry the [`Caller`].
pub async fn require_key(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(token) = bearer_token(request.headers()) else {
        return ApiError::Forbidden("Missing authorization token: send `Authorization: Bearer <API key>`".into())
            .into_response();
    };
    let key = match engine::keys::verify(state.engine.pool(), token).await {
        Ok(Some(key)) => key,
        Ok(None) => return ApiError::Forbidden("Invalid or revoked token".into()).into_response(),
        Err(error) => return ApiError::internal(error).into_response(),
    };
    let client_addr = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    let identity = Identity {
        key_id: Some(key.key_id),
        key_name: Some(key.name),
        user_id: header_text(request.headers(), "x-user-id"),
        machine_id: header_text(request.headers(), "x-machine-id"),
        client_addr,
    };
    let caller = Caller(identity);
    request.extensions_mut().insert(caller.clone());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(caller);
    response
}

/// Middleware for `/api/admin`: 403 unless the admin key is sent.
pub async fn require_admin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let matches = bearer_token(request.headers())
        .map(|token| bool::from(token.as_bytes().ct_eq(state.admin_key.as_bytes())))
        .unwrap_or(false);
    if !matches {
        return ApiError::Forbidden("Forbidden: this route needs the admin key (DDIFFUSION_ADMIN_KEY)".into())
            .into_response();
    }
    next.run(request).await
}

/// Reads the admin key from `DDIFFUSION_ADMIN_KEY`, or from `admin.key` in the
/// data folder, creating that file with a random key on first start.
pub fn load_admin_key(data_dir: &std::path::Path) -> anyhow::Result<String> {
    if let Ok(key) = std::env::var("DDIFFUSION_ADMIN_KEY") {
        let key = key.trim().to_owned();
        anyhow::ensure!(
            key.chars().count() >= 32,
            "DDIFFUSION_ADMIN_KEY has {} characters, but it needs at least 32; generate one with `openssl rand -hex 32`",
            key.chars().count()
        );
        return Ok(key);
    }
    let path = data_dir.join("admin.key");
    if path.exists() {
        let key = std::fs::read_to_string(&path)?.trim().to_owned();
        anyhow::ensure!(
            key.len() >= 32,
            "{} holds a key shorter than 32 characters; delete it to generate a new one",
            path.display()
        );
        return Ok(key);
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let key = hex::encode(bytes);
    write_owner_only(&path, &key)?;
    tracing::info!(path = %path.display(), "generated an admin key; it guards /api/admin/keys");
    Ok(key)
}

#[cfg(unix)]
fn write_owner_only(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

// NOTE: on Windows the admin key file gets the folder's default permissions.
#[cfg(not(unix))]
fn write_owner_only(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}
