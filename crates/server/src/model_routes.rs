//! `GET /api/models`, the whole catalogue with install state, and
//! `DELETE /api/models/{name}`, which deletes a local model's files.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use engine::JobState;
use protocol::settings::{CatalogModel, ModelRemoved};
use protocol::{ErrorDetail, Provider};

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/models", get(models_catalog))
        .route("/api/models/{name}", axum::routing::delete(models_delete))
}

/// Lists every catalogue model, local and external, with whether it can run
/// here, its size on disk, licence and whether it is in memory.
#[utoipa::path(
    get, path = "/api/models", operation_id = "models_catalog", tag = "models",
    responses(
        (status = 200, description = "Catalogue models in catalogue order", body = Vec<CatalogModel>),
        (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn models_catalog(State(state): State<AppState>) -> Json<Vec<CatalogModel>> {
    let models = state.models.clone();
    let cache = state.cache.clone();
    let keys = state.provider_keys.clone();
    let loaded = state.loaded_pipeline.loaded_models();
    // NOTE: only routing rules are shown. A model that no local executor runs
    // may still be forwarded to the first profile listing it, which is known
    // only by asking each remote, so `runs_on` leaves that case out.
    let routes = state.profiles.routes();
    // Install checks and sizes read the file system.
    let listed = tokio::task::spawn_blocking(move || {
        models
            .entries()
            .iter()
            .map(|entry| {
                let local = entry.provider == Provider::Local;
                CatalogModel {
                    domain: entry.domain,
                    name: entry.name.clone(),
                    provider: entry.provider,
                    description: entry.description.clone(),
                    installed: if local {
                        cache.is_installed(entry)
                    } else {
                        keys.missing(entry.provider).is_none()
                    },
                    size_bytes: local.then(|| cache.size_on_disk(entry)),
                    license: entry.license.clone(),
                    gated: entry.gated,
                    loaded: loaded.contains(&entry.name),
                    runs_on: routes.get(&entry.name).cloned(),
                }
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    Json(listed)
}

/// Returns the ids of the waiting and running jobs of `model`.
async fn active_jobs(state: &AppState, model: &str) -> Result<Vec<String>, ApiError> {
    let mut ids = Vec::new();
    for job_state in [JobState::Running, JobState::Queued] {
        let mut offset = 0;
        loop {
            let page = state.engine.list(Some(job_state), None, offset, 500).await?;
            let count = page.jobs.len() as i64;
            ids.extend(
                page.jobs
                    .into_iter()
                    .filter(|job| job.model == model)
                    .map(|job| job.id.to_string()),
            );
            offset += count;
            if count == 0 || offset >= page.total {
                break;
            }
        }
    }
    Ok(ids)
}

/// Deletes a local model's files from the Hugging Face cache, unloading it
/// first. The next job of the model downloads it again when `auto_download` is on.
#[utoipa::path(
    delete, path = "/api/models/{name}", operation_id = "models_delete", tag = "models",
    params(("name" = String, Path, description = "Model name, such as sd-1.5")),
    responses(
        (status = 200, description = "The model's files are deleted", body = ModelRemoved),
        (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
        (status = 404, description = "No catalogue model has this name", body = ErrorDetail),
        (status = 409, description = "A job of the model is waiting or running, or it is downloading", body = ErrorDetail),
        (status = 422, description = "The model is external and has no files", body = protocol::HttpValidationError),
    ),
    security(("APIKeyHeader" = []))
)]
async fn models_delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ModelRemoved>, ApiError> {
    let Some(entry) = state.models.get(&name).cloned() else {
        return Err(ApiError::NotFound(format!(
            "model {name:?} is not in the catalogue; GET /api/models lists the models"
        )));
    };
    if entry.provider != Provider::Local {
        return Err(ApiError::Validation(vec![protocol::ValidationError::new(
            vec!["path".into(), "name".into()],
            format!(
                "{name} runs at {}: external models have no files to delete",
                crate::settings_routes::provider_name(entry.provider)
            ),
            "value_error",
        )]));
    }
    // NOTE: a job submitted between this check and the deletion starts
    // without files, and downloads them again or fails as for any missing model.
    let active = active_jobs(&state, &name).await?;
    if !active.is_empty() {
        return Err(ApiError::Conflict(format!(
            "model {name} has {} waiting or running job(s) ({}); cancel them or wait until they finish, then delete the model",
            active.len(),
            active.join(", ")
        )));
    }
    if state.pulls.is_downloading(&name) {
        return Err(ApiError::Conflict(format!(
            "model {name} is downloading; wait until GET /api/models/{name}/pull reports done or failed, then delete it"
        )));
    }

    let unloaded = state.loaded_pipeline.unload_model(&name);
    if unloaded {
        tracing::info!(model = %name, "pipeline unloaded before deleting its files");
    }
    let cache = state.cache.clone();
    let removed = tokio::task::spawn_blocking(move || crate::models::remove_files(&cache, &entry))
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| ApiError::internal(format!("deleting the files of {name} failed: {error}")))?;
    tracing::info!(model = %name, freed_bytes = removed.freed_bytes, folders = removed.folders.len(), "model files deleted");
    Ok(Json(ModelRemoved {
        name,
        freed_bytes: removed.freed_bytes,
        removed_paths: removed.folders.len(),
        unloaded,
    }))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(models_catalog, models_delete))]
pub struct ModelsApi;
