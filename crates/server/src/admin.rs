//! `/api/admin/keys`: API key management, guarded by the admin key.

use axum::extract::{Path, Query, State};
use axum::routing::{delete, post};
use axum::{Json, Router};
use engine::keys::{self, KeyError};
use protocol::keys::{KeyCreated, KeyDeleted, KeyInfo};
use protocol::{ErrorDetail, HttpValidationError};
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/keys", post(keys_create).get(keys_list))
        .route("/api/admin/keys/{key_id}", delete(keys_delete))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NameQuery {
    /// Name of the key: 3 to 50 letters, digits, spaces, '_' or '-'.
    name: Option<String>,
}

/// Creates an API key and returns it; the key is not shown again.
#[utoipa::path(
    post, path = "/api/admin/keys", operation_id = "keys_create", tag = "admin",
    params(NameQuery),
    responses(
        (status = 200, description = "The new key", body = KeyCreated),
        (status = 400, description = "Key name already exists", body = ErrorDetail),
        (status = 403, description = "Wrong admin key", body = ErrorDetail),
        (status = 422, description = "Validation Error", body = HttpValidationError),
    ),
    security(("APIKeyHeader" = []))
)]
async fn keys_create(
    State(state): State<AppState>,
    Query(query): Query<NameQuery>,
) -> Result<Json<KeyCreated>, ApiError> {
    let Some(name) = query.name else {
        return Err(ApiError::Validation(vec![protocol::ValidationError::new(
            vec!["query".into(), "name".into()],
            "Field required: add ?name=<key name> to the URL",
            "missing",
        )]));
    };
    match keys::create(state.engine.pool(), &name).await {
        Ok((api_key, stored)) => {
            tracing::info!(key_id = %stored.key_id, name = %stored.name, "API key created");
            Ok(Json(KeyCreated {
                api_key,
                name: stored.name,
            }))
        }
        Err(error @ KeyError::InvalidName(_)) => Err(ApiError::Validation(vec![protocol::ValidationError::new(
            vec!["query".into(), "name".into()],
            error.to_string(),
            "value_error",
        )])),
        Err(error @ KeyError::DuplicateName(_)) => {
            Err(ApiError::BadRequest(format!("Key name already exists: {error}")))
        }
        Err(error) => Err(ApiError::internal(error)),
    }
}

/// Lists API keys without their secrets.
#[utoipa::path(
    get, path = "/api/admin/keys", operation_id = "keys_list", tag = "admin",
    responses(
        (status = 200, description = "Stored keys", body = Vec<KeyInfo>),
        (status = 403, description = "Wrong admin key", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn keys_list(State(state): State<AppState>) -> Result<Json<Vec<KeyInfo>>, ApiError> {
    let keys = keys::list(state.engine.pool()).await.map_err(ApiError::internal)?;
    Ok(Json(
        keys.into_iter()
            .map(|k| KeyInfo {
                key_id: k.key_id,
                name: k.name,
                created_at: k.created_at,
            })
            .collect(),
    ))
}

/// Revokes an API key at once.
#[utoipa::path(
    delete, path = "/api/admin/keys/{key_id}", operation_id = "keys_delete", tag = "admin",
    params(("key_id" = String, Path, description = "Key ID, the part between `dd_` and the second `_`")),
    responses(
        (status = 200, description = "Key revoked", body = KeyDeleted),
        (status = 403, description = "Wrong admin key", body = ErrorDetail),
        (status = 404, description = "Key not found", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn keys_delete(State(state): State<AppState>, Path(key_id): Path<String>) -> Result<Json<KeyDeleted>, ApiError> {
    if keys::revoke(state.engine.pool(), &key_id)
        .await
        .map_err(ApiError::internal)?
    {
        tracing::info!(%key_id, "API key revoked");
        Ok(Json(KeyDeleted { deleted: true }))
    } else {
        Err(ApiError::NotFound(format!(
            "Key not found: no key has the id {key_id:?}"
        )))
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(keys_create, keys_list, keys_delete))]
pub struct AdminApi;
