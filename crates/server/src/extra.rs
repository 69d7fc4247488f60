//! Routes this server adds to the original contract: `/api/jobs`,
//! `/api/jobs/{id}`, `/api/events` and `/api/system`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use engine::JobState;
use futures_util::{Stream, StreamExt};
use protocol::{Domain, ErrorDetail, HttpValidationError, JobDetail, JobEvent, JobList, SystemStatus, TaskStatus};
use serde::Deserialize;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/jobs", get(jobs_list))
        .route("/api/jobs/{id}", get(job_detail))
        .route("/api/events", get(events_stream))
        .route("/api/system", get(system_status))
        .route("/api/models/{name}/unload", axum::routing::post(models_unload))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// Only jobs with this status.
    status: Option<TaskStatus>,
    /// Only jobs of this domain.
    domain: Option<Domain>,
    /// Jobs to skip, newest first.
    offset: Option<i64>,
    /// Jobs to return, 1 to 500; 50 by default.
    limit: Option<i64>,
}

/// Lists jobs of every domain, newest first.
#[utoipa::path(
    get, path = "/api/jobs", operation_id = "jobs_list", tag = "jobs",
    params(JobsQuery),
    responses(
        (status = 200, description = "One page of jobs", body = JobList),
        (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
        (status = 422, description = "Invalid filter", body = HttpValidationError),
    ),
    security(("APIKeyHeader" = []))
)]
async fn jobs_list(
    State(state): State<AppState>,
    query: Result<Query<JobsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<JobList>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::Validation(vec![protocol::ValidationError::new(
            vec!["query".into()],
            format!(
                "{}; status is one of PENDING, STARTED, SUCCESS, FAILURE, REVOKED, domain one of images, texts, \
                 videos, workflows, and offset and limit are whole numbers",
                rejection.body_text()
            ),
            "value_error",
        )])
    })?;
    let state_filter = match query.status {
        None => None,
        Some(status) => match JobState::from_task_status(status) {
            Some(job_state) => Some(job_state),
            None => {
                return Ok(Json(JobList {
                    jobs: Vec::new(),
                    total: 0,
                    offset: query.offset.unwrap_or(0),
                    limit: 0,
                }))
            }
        },
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::Validation(vec![protocol::ValidationError::new(
            vec!["query".into(), "limit".into()],
            format!("limit is {limit}, but it must be between 1 and 500"),
            "value_error",
        )]));
    }
    let offset = query.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::Validation(vec![protocol::ValidationError::new(
            vec!["query".into(), "offset".into()],
            format!("offset is {offset}, but it must be 0 or more"),
            "value_error",
        )]));
    }
    Ok(Json(
        state.engine.list(state_filter, query.domain, offset, limit).await?,
    ))
}

/// Replaces every string of `value` that is a stored input path with its signed URL.
fn link_inputs(value: &mut serde_json::Value, inputs: &[String], link: &dyn Fn(&str) -> String) {
    match value {
        serde_json::Value::String(text) if inputs.contains(text) => *text = link(text),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|item| link_inputs(item, inputs, link)),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(|item| link_inputs(item, inputs, link)),
        _ => {}
    }
}

/// A job of any domain with its request, logs, outputs, timings and source.
///
/// Inputs appear in the request as signed download URLs, not as the base64
/// that was submitted.
#[utoipa::path(
    get, path = "/api/jobs/{id}", operation_id = "jobs_get", tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id returned by the POST")),
    responses(
        (status = 200, description = "The job", body = JobDetail),
        (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
        (status = 404, description = "No job has this id", body = ErrorDetail),
        (status = 422, description = "The id is not a UUID", body = HttpValidationError),
    ),
    security(("APIKeyHeader" = []))
)]
async fn job_detail(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<JobDetail>, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| {
        ApiError::Validation(vec![protocol::ValidationError::new(
            vec!["path".into(), "id".into()],
            format!(
                "Input should be a valid UUID, not {:?}",
                crate::guard::truncate(&id, 64)
            ),
            "uuid_parsing",
        )])
    })?;
    let Some(record) = state.engine.job(id).await? else {
        return Err(ApiError::NotFound(format!(
            "Task {id} not found: it never existed or it has expired"
        )));
    };
    let position = state.engine.queue_position(&record).await?;
    let logs = state.engine.logs(id).await?;
    let base = crate::routes::public_base(&state, &headers);
    let link = |path: &str| state.signer.url(&base, path);

    let inputs = record.input_paths();
    let mut request: serde_json::Value = serde_json::from_str(&record.request).unwrap_or_default();
    link_inputs(&mut request, &inputs, &link);
    let outputs = if record.state() == JobState::Done {
        record.output_paths().iter().map(|path| link(path)).collect()
    } else {
        Vec::new()
    };
    Ok(Json(JobDetail {
        request,
        logs,
        outputs,
        output_text: record.output_text.clone(),
        job: record.summary(position),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Follow only this job.
    job: Option<Uuid>,
}

/// Streams job events as server-sent events.
///
/// On connect it sends the current state of the job, or of every waiting and
/// running job, so a client that reconnects misses nothing. Then it sends each
/// state change, log line and progress update.
#[utoipa::path(
    get, path = "/api/events", operation_id = "events_stream", tag = "jobs",
    params(EventsQuery),
    responses(
        (status = 200, description = "text/event-stream of JobEvent objects", body = JobEvent, content_type = "text/event-stream"),
        (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
        (status = 404, description = "Unknown job", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn events_stream(
    State(state): State<AppState>,
    Query(query): Query<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Subscribe before reading the snapshot, so no change falls between the two.
    let receiver = state.engine.subscribe();
    let snapshot = snapshot(&state, query.job).await?;
    let filter = query.job;

    let initial = futures_util::stream::iter(snapshot.into_iter().map(|event| Ok(to_sse(&event))));
    let live = BroadcastStream::new(receiver).filter_map(move |item| async move {
        match item {
            Ok(event) if filter.is_none_or(|id| id == event.job_id()) => Some(Ok(to_sse(&event))),
            Ok(_) => None,
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                tracing::warn!(missed, "event stream client fell behind; it should reload the job list");
                Some(Ok(Event::default().event("lagged").data(missed.to_string())))
            }
        }
    });
    let live = live.take_until(state.shutdown.clone().cancelled_owned());
    Ok(Sse::new(initial.chain(live)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn snapshot(state: &AppState, job: Option<Uuid>) -> Result<Vec<JobEvent>, ApiError> {
    let records = match job {
        Some(id) => match state.engine.job(id).await? {
            Some(record) => vec![record],
            None => {
                return Err(ApiError::NotFound(format!(
                    "Task {id} not found: it never existed or it has expired"
                )))
            }
        },
        None => {
            let mut active = state.engine.list(Some(JobState::Running), None, 0, 500).await?.jobs;
            active.extend(state.engine.list(Some(JobState::Queued), None, 0, 500).await?.jobs);
            return Ok(active
                .into_iter()
                .map(|job| JobEvent::State { job: Box::new(job) })
                .collect());
        }
    };
    let mut events = Vec::new();
    for record in records {
        let position = state.engine.queue_position(&record).await?;
        events.push(JobEvent::State {
            job: Box::new(record.summary(position)),
        });
    }
    Ok(events)
}

fn to_sse(event: &JobEvent) -> Event {
    let name = match event {
        JobEvent::State { .. } => "state",
        JobEvent::Log { .. } => "log",
        JobEvent::Progress { .. } => "progress",
    };
    Event::default()
        .event(name)
        .data(serde_json::to_string(event).unwrap_or_default())
}

/// Server version, instance id, lanes and devices.
#[utoipa::path(
    get, path = "/api/system", operation_id = "system_status", tag = "jobs",
    responses(
        (status = 200, description = "Server status", body = SystemStatus),
        (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn system_status(State(state): State<AppState>) -> Result<Json<SystemStatus>, ApiError> {
    Ok(Json(SystemStatus {
        version: env!("CARGO_PKG_VERSION").into(),
        instance_id: state.engine.instance_id().into(),
        started_at: engine::store::rfc3339(state.engine.started_at()),
        lanes: state.engine.lane_status().await?,
        devices: vec![state.device_name.to_string()],
        loaded_models: state.loaded_pipeline.loaded_models(),
        waiting: state.engine.waiting_count().await?,
        backlog_limit: state.engine.backlog_limit(),
    }))
}

/// Response of `POST /api/models/{name}/unload`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Unloaded {
    pub name: String,
    /// False when the model was not in memory.
    pub unloaded: bool,
}

/// Frees the memory of a local model's loaded pipeline. The next job of that
/// model loads it again.
#[utoipa::path(
    post, path = "/api/models/{name}/unload", operation_id = "models_unload", tag = "models",
    params(("name" = String, Path, description = "Model name, such as sd-1.5")),
    responses(
        (status = 200, description = "The model is not in memory now", body = Unloaded),
        (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
        (status = 404, description = "No local model has this name", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn models_unload(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Result<Json<Unloaded>, ApiError> {
    if state.catalog.info(Domain::Images, &name).is_none() {
        return Err(ApiError::NotFound(format!(
            "model {name:?} is not a model of this server; GET /api/images/models lists them"
        )));
    }
    let unloaded = state.loaded_pipeline.unload_model(&name);
    if unloaded {
        tracing::info!(model = %name, "pipeline unloaded");
    }
    Ok(Json(Unloaded { name, unloaded }))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(jobs_list, job_detail, events_stream, system_status, models_unload))]
pub struct ExtraApi;
