//! `/api/profiles`: remote server profiles for the desktop app. Keys are
//! write-only: they can be set, never read back.

use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use protocol::ErrorDetail;
use serde::Deserialize;

use crate::error::ApiError;
use crate::profiles::{ProfileCheck, ProfileInfo};
use crate::state::AppState;

/// Listing and checking profiles: any API key.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/profiles", get(profiles_list))
        .route("/api/profiles/{name}/test", post(profiles_test))
}

/// Adding, changing and removing profiles: the admin key only, since a
/// changed URL would receive the stored key of the remote server.
pub fn admin_router() -> Router<AppState> {
    Router::new().route("/api/profiles/{name}", put(profiles_put).delete(profiles_delete))
}

/// Body of `PUT /api/profiles/{name}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ProfileUpdate {
    /// Base URL of the remote server, such as `http://gpu-box:5000`.
    pub base_url: String,
    /// API key for the remote; left out, the stored key is kept.
    pub api_key: Option<String>,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

/// Lists the remote server profiles, without their keys.
#[utoipa::path(
    get, path = "/api/profiles", operation_id = "profiles_list", tag = "profiles",
    responses(
        (status = 200, description = "Profiles", body = Vec<ProfileInfo>),
        (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn profiles_list(State(state): State<AppState>) -> Json<Vec<ProfileInfo>> {
    Json(state.profiles.list())
}

/// Adds or updates a remote server profile (admin key).
#[utoipa::path(
    put, path = "/api/profiles/{name}", operation_id = "profiles_put", tag = "profiles",
    params(("name" = String, Path, description = "Profile name, such as gpu-box")),
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "The stored profile", body = ProfileInfo),
        (status = 403, description = "Wrong admin key", body = ErrorDetail),
        (status = 422, description = "Invalid name or URL", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn profiles_put(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(update): Json<ProfileUpdate>,
) -> Result<Json<ProfileInfo>, ApiError> {
    state
        .profiles
        .put(&name, &update.base_url, update.api_key, update.enabled)
        .map_err(|error| ApiError::field("base_url", error.to_string()))?;
    tracing::info!(profile = %name, base_url = %update.base_url, "profile saved");
    let stored = state.profiles.list().into_iter().find(|profile| profile.name == name);
    stored
        .map(Json)
        .ok_or_else(|| ApiError::internal("the saved profile is missing"))
}

/// Removes a remote server profile and its routing rules (admin key).
#[utoipa::path(
    delete, path = "/api/profiles/{name}", operation_id = "profiles_delete", tag = "profiles",
    params(("name" = String, Path, description = "Profile name")),
    responses(
        (status = 200, description = "Removed", body = Vec<ProfileInfo>),
        (status = 403, description = "Wrong admin key", body = ErrorDetail),
        (status = 404, description = "No profile has this name", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn profiles_delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<ProfileInfo>>, ApiError> {
    let removed = state.profiles.remove(&name).map_err(ApiError::internal)?;
    if !removed {
        return Err(ApiError::NotFound(format!("no profile named {name:?}")));
    }
    Ok(Json(state.profiles.list()))
}

/// Checks a profile: the remote's health, the key, its version and models.
#[utoipa::path(
    post, path = "/api/profiles/{name}/test", operation_id = "profiles_test", tag = "profiles",
    params(("name" = String, Path, description = "Profile name")),
    responses(
        (status = 200, description = "The remote responded and accepted the key", body = ProfileCheck),
        (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
        (status = 404, description = "No profile has this name", body = ErrorDetail),
        (status = 422, description = "The remote is unreachable or rejected the key", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn profiles_test(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ProfileCheck>, ApiError> {
    let profile = state
        .profiles
        .get(&name)
        .ok_or_else(|| ApiError::NotFound(format!("no profile named {name:?}")))?;
    crate::profiles::check(&name, &profile)
        .await
        .map(Json)
        .map_err(|error| ApiError::field("name", format!("{error:#}")))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(profiles_list, profiles_put, profiles_delete, profiles_test))]
pub struct ProfilesApi;
