//! Model downloads through the API: `POST /api/models/{name}/pull` starts
//! one in the background, `GET /api/models/{name}/pull` reads its state and
//! `GET /api/models/events` streams every change as server-sent events.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{Stream, StreamExt};
use protocol::ErrorDetail;
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use crate::error::ApiError;
use crate::state::AppState;

/// State of a model download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PullStatus {
    Downloading,
    Done,
    Failed,
}

/// Progress of one file of a download.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FileProgress {
    pub file: String,
    pub done_bytes: u64,
    pub total_bytes: u64,
}

/// A model download and its progress.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModelPull {
    pub name: String,
    pub status: PullStatus,
    /// Files started so far, in the order they started.
    pub files: Vec<FileProgress>,
    /// Reason the download failed, with what to do next.
    pub error: Option<String>,
}

/// Downloads started through the API, by model name, and their event channel.
#[derive(Clone)]
pub struct Pulls {
    states: Arc<Mutex<HashMap<String, ModelPull>>>,
    events: broadcast::Sender<ModelPull>,
}

impl Default for Pulls {
    fn default() -> Self {
        Self {
            states: Arc::default(),
            events: broadcast::channel(256).0,
        }
    }
}

impl Pulls {
    fn get(&self, name: &str) -> Option<ModelPull> {
        self.states.lock().unwrap().get(name).cloned()
    }

    /// True while a download of the model started through the API runs.
    pub fn is_downloading(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|pull| pull.status == PullStatus::Downloading)
    }

    /// Stores `pull` and sends it to the event stream.
    fn publish(&self, pull: ModelPull) {
        self.states.lock().unwrap().insert(pull.name.clone(), pull.clone());
        // No subscriber is not an error.
        let _ = self.events.send(pull);
    }

    /// Records `done` of `total` bytes of `file`; publishes when the file is
    /// new, finished, or a whole percent further.
    fn progress(&self, name: &str, file: &str, done: u64, total: u64) {
        let mut states = self.states.lock().unwrap();
        let Some(pull) = states.get_mut(name) else {
            return;
        };
        let percent = |done: u64, total: u64| done.saturating_mul(100).checked_div(total).unwrap_or(0);
        let publish = match pull.files.iter_mut().find(|entry| entry.file == file) {
            Some(entry) => {
                let changed = percent(done, total) != percent(entry.done_bytes, entry.total_bytes) || done == total;
                entry.done_bytes = done;
                entry.total_bytes = total;
                changed
            }
            None => {
                pull.files.push(FileProgress {
                    file: file.to_owned(),
                    done_bytes: done,
                    total_bytes: total,
                });
                true
            }
        };
        if publish {
            let _ = self.events.send(pull.clone());
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/models/{name}/pull", post(pull_start).get(pull_state))
        .route("/api/models/events", get(pull_events))
}

fn not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!(
        "model {name:?} is not a local model of this server; GET /api/images/models lists them"
    ))
}

/// Starts downloading a local model into the Hugging Face cache, unless it
/// is downloaded or downloading already.
#[utoipa::path(
    post, path = "/api/models/{name}/pull", operation_id = "models_pull", tag = "models",
    params(("name" = String, Path, description = "Model name, such as sd-xl")),
    responses(
        (status = 200, description = "The model is downloaded", body = ModelPull),
        (status = 202, description = "The download runs; follow it with GET or /api/models/events", body = ModelPull),
        (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
        (status = 404, description = "No local model has this name", body = ErrorDetail),
        (status = 409, description = "The server runs offline (HF_HUB_OFFLINE) and cannot download", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn pull_start(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<ModelPull>), ApiError> {
    let entry = state
        .models
        .get(&name)
        .filter(|entry| entry.provider == protocol::Provider::Local)
        .cloned()
        .ok_or_else(|| not_found(&name))?;
    if state.cache.is_installed(&entry) {
        let done = ModelPull {
            name: name.clone(),
            status: PullStatus::Done,
            files: Vec::new(),
            error: None,
        };
        return Ok((StatusCode::OK, Json(done)));
    }
    if state.cache.is_offline() {
        return Err(ApiError::Conflict(format!(
            "model {name:?} is not downloaded and this server runs with HF_HUB_OFFLINE set, so it downloads nothing; \
             unset HF_HUB_OFFLINE and restart the server, or copy the model's files into the Hugging Face cache at {}",
            state.cache.root().display()
        )));
    }
    if let Some(running) = state
        .pulls
        .get(&name)
        .filter(|pull| pull.status == PullStatus::Downloading)
    {
        return Ok((StatusCode::ACCEPTED, Json(running)));
    }

    let started = ModelPull {
        name: name.clone(),
        status: PullStatus::Downloading,
        files: Vec::new(),
        error: None,
    };
    state.pulls.publish(started.clone());
    tracing::info!(model = %name, "model download started");
    let pulls = state.pulls.clone();
    let cache = state.cache.clone();
    let fallback = started.clone();
    tokio::spawn(async move {
        let reporter = {
            let pulls = pulls.clone();
            let name = name.clone();
            move |file: &str, done: u64, total: u64| pulls.progress(&name, file, done, total)
        };
        let result = cache.pull(&entry, reporter).await;
        let mut pull = pulls.get(&name).unwrap_or(fallback);
        match result {
            Ok(()) => {
                tracing::info!(model = %name, "model download finished");
                pull.status = PullStatus::Done;
            }
            Err(error) => {
                tracing::warn!(model = %name, %error, "model download failed");
                pull.status = PullStatus::Failed;
                pull.error = Some(error.to_string());
            }
        }
        pulls.publish(pull);
    });
    Ok((StatusCode::ACCEPTED, Json(started)))
}

/// State of the latest download of a model started through the API.
#[utoipa::path(
    get, path = "/api/models/{name}/pull", operation_id = "models_pull_state", tag = "models",
    params(("name" = String, Path, description = "Model name, such as sd-xl")),
    responses(
        (status = 200, description = "The latest download", body = ModelPull),
        (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
        (status = 404, description = "No download of this model was started since the server started", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn pull_state(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<ModelPull>, ApiError> {
    state.pulls.get(&name).map(Json).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no download of {name:?} was started since the server started; POST /api/models/{name}/pull starts one"
        ))
    })
}

/// Server-sent `pull` events with a [`ModelPull`] each time a download
/// starts, advances by a percent, or ends. The stream starts with the
/// downloads that are running.
#[utoipa::path(
    get, path = "/api/models/events", operation_id = "models_events", tag = "models",
    responses(
        (status = 200, description = "Stream of `pull` events", content_type = "text/event-stream", body = ModelPull),
        (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn pull_events(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.pulls.events.subscribe();
    let running: Vec<ModelPull> = state
        .pulls
        .states
        .lock()
        .unwrap()
        .values()
        .filter(|pull| pull.status == PullStatus::Downloading)
        .cloned()
        .collect();
    let to_event = |pull: &ModelPull| {
        Event::default()
            .event("pull")
            .data(serde_json::to_string(pull).unwrap_or_default())
    };
    let initial = futures_util::stream::iter(running.into_iter().map(move |pull| Ok(to_event(&pull))));
    let live = BroadcastStream::new(receiver)
        .filter_map(move |item| async move { item.ok().map(|pull| Ok(to_event(&pull))) })
        .take_until(state.shutdown.clone().cancelled_owned());
    Sse::new(initial.chain(live)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(pull_start, pull_state, pull_events))]
pub struct PullsApi;
