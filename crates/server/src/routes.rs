//! The original contract's routes for images, texts, videos and workflows:
//! create, get, cancel and list models.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Extension, Json, Router};
use engine::{CancelOutcome, JobRecord, JobState, NewJob, SubmitError};
use protocol::images::{ImageCreateResponse, ImageModelsResponse, ImageRequest, ImageResponse, ImagesModelInfo};
use protocol::texts::{TextCreateResponse, TextModelsResponse, TextRequest, TextResponse};
use protocol::videos::{VideoCreateResponse, VideoModelsResponse, VideoRequest, VideoResponse, VideosModelInfo};
use protocol::workflows::{PatchClass, WorkflowCreateResponse, WorkflowRequest, WorkflowResponse};
use protocol::{
    CreatedJob, DeleteResponse, Domain, ErrorDetail, HttpValidationError, JobResponse, Location, TaskStatus,
    ValidationError,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ValidJson};
use crate::inputs::{self, Base64Field};
use crate::state::AppState;

/// Model name under which workflow jobs run.
pub const WORKFLOW_MODEL: &str = "comfy-workflow";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/images", axum::routing::post(images_create))
        .route("/api/images/models", get(images_list_models))
        .route("/api/images/{id}", get(images_get).delete(images_delete))
        .route("/api/texts", axum::routing::post(texts_create))
        .route("/api/texts/models", get(texts_list_models))
        .route("/api/texts/{id}", get(texts_get).delete(texts_delete))
        .route("/api/videos", axum::routing::post(videos_create))
        .route("/api/videos/models", get(videos_list_models))
        .route("/api/videos/{id}", get(videos_get).delete(videos_delete))
        .route("/api/workflows", axum::routing::post(workflows_create))
        .route("/api/workflows/{id}", get(workflows_get).delete(workflows_delete))
}

/// A domain's request type: its model, its checks and its base64 inputs.
trait DomainRequest: Serialize + DeserializeOwned + Send + 'static {
    const DOMAIN: Domain;

    fn model(&self) -> &str;

    /// Checks the request, with the model's catalogue information when the model exists.
    fn validate(&self, info: Option<&serde_json::Value>) -> Vec<ValidationError>;

    fn base64_fields(&mut self) -> Vec<Base64Field<'_>>;

    /// Checks the stored input files, whose paths replaced the base64 fields.
    fn check_inputs(&self, _storage: &std::path::Path) -> Vec<ValidationError> {
        Vec::new()
    }
}

fn body_loc(parts: &[Location]) -> Vec<Location> {
    let mut loc = vec![Location::from("body")];
    loc.extend_from_slice(parts);
    loc
}

fn info_as<T: DeserializeOwned>(info: Option<&serde_json::Value>) -> Option<T> {
    info.and_then(|info| serde_json::from_value(info.clone()).ok())
}

impl DomainRequest for ImageRequest {
    const DOMAIN: Domain = Domain::Images;

    fn model(&self) -> &str {
        &self.model
    }

    fn validate(&self, info: Option<&serde_json::Value>) -> Vec<ValidationError> {
        let mut errors = ImageRequest::validate(self);
        if let Some(info) = info_as::<ImagesModelInfo>(info) {
            errors.extend(self.validate_for(&info));
        }
        errors
    }

    fn check_inputs(&self, storage: &std::path::Path) -> Vec<ValidationError> {
        use protocol::images::{MAX_PIXELS, MAX_SIDE};
        let mut inputs: Vec<(Vec<Location>, &String)> = Vec::new();
        for (field, relative) in [("image", &self.image), ("mask", &self.mask)] {
            if let Some(relative) = relative {
                inputs.push((body_loc(&[field.into()]), relative));
            }
        }
        for (index, reference) in self.references.iter().enumerate() {
            inputs.push((
                body_loc(&["references".into(), index.into(), "image".into()]),
                &reference.image,
            ));
        }
        let mut errors = Vec::new();
        for (loc, relative) in inputs {
            match check_image(&storage.join(relative)) {
                Err(message) => errors.push(unreadable(loc, &message)),
                Ok((width, height)) if loc.last() == Some(&Location::from("image")) && loc.len() == 2 => {
                    let pixels = width as i64 * height as i64;
                    if width as i64 > MAX_SIDE || height as i64 > MAX_SIDE || pixels > MAX_PIXELS {
                        errors.push(ValidationError::field(
                            "image",
                            format!(
                                "image is {width} × {height} pixels, over the limit of {MAX_SIDE} pixels a side and {MAX_PIXELS} \
                                 pixels in all (2048 × 2048); scale the plate down before sending it"
                            ),
                            "value_error",
                        ));
                    }
                }
                Ok(_) => {}
            }
        }
        errors
    }

    fn base64_fields(&mut self) -> Vec<Base64Field<'_>> {
        let mut fields = Vec::new();
        if let Some(image) = self.image.as_mut() {
            fields.push(Base64Field {
                loc: body_loc(&["image".into()]),
                value: image,
            });
        }
        if let Some(mask) = self.mask.as_mut() {
            fields.push(Base64Field {
                loc: body_loc(&["mask".into()]),
                value: mask,
            });
        }
        for (index, reference) in self.references.iter_mut().enumerate() {
            fields.push(Base64Field {
                loc: body_loc(&["references".into(), index.into(), "image".into()]),
                value: &mut reference.image,
            });
        }
        fields
    }
}

/// Reads the size of a stored image from its header, without decoding it.
/// Largest side, in pixels, that [`check_image`] decodes fully; larger images
/// are rejected by the size limits before decoding.
const DECODE_CHECK_SIDE: u32 = 16_384;

/// Reads an input image's size and decodes it fully, so that a file that is
/// cut off or damaged is rejected at submission rather than in the job.
fn check_image(path: &std::path::Path) -> Result<(u32, u32), String> {
    let open = || {
        image::ImageReader::open(path)
            .and_then(|reader| reader.with_guessed_format())
            .map_err(|error| format!("it could not be read: {error}"))
    };
    let reader = open()?;
    if reader.format().is_none() {
        return Err("its format is not recognised".into());
    }
    let (width, height) = reader
        .into_dimensions()
        .map_err(|error| format!("its header is damaged: {error}"))?;
    if width <= DECODE_CHECK_SIDE && height <= DECODE_CHECK_SIDE {
        open()?
            .decode()
            .map_err(|error| format!("its data is damaged or cut off: {error}"))?;
    }
    Ok((width, height))
}

fn unreadable(loc: Vec<Location>, message: &str) -> ValidationError {
    let field = loc
        .iter()
        .skip(1)
        .map(|part| match part {
            Location::Index(index) => format!("[{index}]"),
            Location::Field(name) => format!(".{name}"),
        })
        .collect::<String>();
    let field = field.trim_start_matches('.').to_owned();
    ValidationError::new(
        loc,
        format!("{field} is not a readable image: {message}; send a PNG, JPEG, WebP, TIFF or EXR file"),
        "value_error",
    )
}

impl DomainRequest for TextRequest {
    const DOMAIN: Domain = Domain::Texts;

    fn model(&self) -> &str {
        &self.model
    }

    fn validate(&self, _info: Option<&serde_json::Value>) -> Vec<ValidationError> {
        Vec::new()
    }

    fn check_inputs(&self, storage: &std::path::Path) -> Vec<ValidationError> {
        self.images
            .iter()
            .enumerate()
            .filter_map(|(index, relative)| {
                let loc = body_loc(&["images".into(), index.into()]);
                check_image(&storage.join(relative))
                    .err()
                    .map(|message| unreadable(loc, &message))
            })
            .collect()
    }

    fn base64_fields(&mut self) -> Vec<Base64Field<'_>> {
        let images = self.images.iter_mut().enumerate().map(|(i, value)| Base64Field {
            loc: body_loc(&["images".into(), i.into()]),
            value,
        });
        let videos = self.videos.iter_mut().enumerate().map(|(i, value)| Base64Field {
            loc: body_loc(&["videos".into(), i.into()]),
            value,
        });
        images.chain(videos).collect()
    }
}

impl DomainRequest for VideoRequest {
    const DOMAIN: Domain = Domain::Videos;

    fn model(&self) -> &str {
        &self.model
    }

    fn validate(&self, info: Option<&serde_json::Value>) -> Vec<ValidationError> {
        let mut errors = VideoRequest::validate(self);
        if let Some(info) = info_as::<VideosModelInfo>(info) {
            errors.extend(self.validate_for(&info));
        }
        errors
    }

    fn check_inputs(&self, storage: &std::path::Path) -> Vec<ValidationError> {
        [("image", &self.image), ("last_image", &self.last_image)]
            .into_iter()
            .filter_map(|(field, relative)| {
                let message = check_image(&storage.join(relative.as_ref()?)).err()?;
                Some(unreadable(body_loc(&[field.into()]), &message))
            })
            .collect()
    }

    fn base64_fields(&mut self) -> Vec<Base64Field<'_>> {
        let mut fields = Vec::new();
        for (name, value) in [
            ("image", &mut self.image),
            ("last_image", &mut self.last_image),
            ("video", &mut self.video),
        ] {
            if let Some(value) = value.as_mut() {
                fields.push(Base64Field {
                    loc: body_loc(&[name.into()]),
                    value,
                });
            }
        }
        fields
    }
}

impl DomainRequest for WorkflowRequest {
    const DOMAIN: Domain = Domain::Workflows;

    fn model(&self) -> &str {
        WORKFLOW_MODEL
    }

    fn validate(&self, _info: Option<&serde_json::Value>) -> Vec<ValidationError> {
        WorkflowRequest::validate(self)
    }

    fn base64_fields(&mut self) -> Vec<Base64Field<'_>> {
        let mut fields = Vec::new();
        for (index, patch) in self.patches.iter_mut().enumerate() {
            if matches!(patch.class_type, PatchClass::LoadImage | PatchClass::LoadVideo) {
                if let serde_json::Value::String(value) = &mut patch.value {
                    fields.push(Base64Field {
                        loc: body_loc(&["patches".into(), index.into(), "value".into()]),
                        value,
                    });
                }
            }
        }
        fields
    }
}

/// Forwarding details of a request: the profile it names (the
/// `target` query parameter or the `x-dd-target` header), the servers it
/// came through, and the key of a forwarded submission.
pub struct Forwarding {
    target: Option<String>,
    via: Vec<String>,
    idempotency_key: Option<String>,
}

impl Forwarding {
    fn read(headers: &HeaderMap, query: Option<&str>) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let from_query = query.and_then(|query| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "target")
                .map(|(_, value)| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        });
        Self {
            target: from_query.or_else(|| header(crate::remote::TARGET_HEADER)),
            via: header(crate::remote::VIA_HEADER)
                .map(|via| {
                    via.split(',')
                        .map(|id| id.trim().to_owned())
                        .filter(|id| !id.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            idempotency_key: header(crate::remote::IDEMPOTENCY_HEADER),
        }
    }
}

/// Rejects a job for a local model whose weights are missing and cannot be
/// downloaded now (offline, or `auto_download` off), instead of queueing it.
fn missing_weights(state: &AppState, domain: Domain, model: &str) -> Option<ValidationError> {
    let entry = state
        .models
        .get_in(domain, model)
        .filter(|entry| entry.provider == protocol::Provider::Local && entry.architecture.is_some())?;
    let offline = state.cache.is_offline();
    if state.cache.is_installed(entry) || (state.settings.auto_download && !offline) {
        return None;
    }
    let error = state.cache.model_files(entry).err()?;
    let reason = if offline {
        "this server runs with HF_HUB_OFFLINE=1"
    } else {
        "auto_download is off on this server"
    };
    Some(ValidationError::field(
        "model",
        format!("{error}; {reason}"),
        "value_error",
    ))
}

/// Returns true if the local model can run here now: it is registered and,
/// for a local model, its weights are downloaded or can be.
fn runnable_here(state: &AppState, domain: Domain, model: &str) -> bool {
    if state.catalog.info(domain, model).is_none() {
        return false;
    }
    match state.models.get_in(domain, model) {
        Some(entry) if entry.provider == protocol::Provider::Local && entry.architecture.is_some() => {
            state.cache.is_installed(entry) || (state.settings.auto_download && !state.cache.is_offline())
        }
        _ => true,
    }
}

/// Returns a validation error for the `target` query parameter (or its `x-dd-target` header).
fn target_error(message: String) -> ApiError {
    ApiError::Validation(vec![ValidationError::new(
        vec!["query".into(), "target".into()],
        message,
        "value_error",
    )])
}

/// Chooses where a job runs: the profile the request names, the model's
/// routing rule, or, when the model cannot run here, the first enabled profile
/// that lists it. `None` runs it here. Also returns the model information
/// the request is checked against.
async fn choose_target(
    state: &AppState,
    forwarding: &Forwarding,
    domain: Domain,
    model: &str,
) -> Result<(Option<String>, Option<serde_json::Value>), ApiError> {
    let local = state.catalog.info(domain, model);
    let named = match &forwarding.target {
        Some(target) => Some(target.clone()),
        None => state.profiles.route(model),
    };
    let target = match named {
        Some(target) => {
            match state.profiles.get(&target) {
                Some(profile) if profile.enabled => {}
                Some(_) => {
                    return Err(target_error(format!(
                        "profile {target:?} is disabled; enable it with `ddiffusion profiles enable {target}` \
                         or, with the admin key, PUT /api/profiles/{target} with \"enabled\": true"
                    )))
                }
                None => {
                    return Err(target_error(format!(
                        "no remote profile named {target:?}; GET /api/profiles lists them"
                    )))
                }
            }
            Some(target)
        }
        None if runnable_here(state, domain, model) => None,
        None => {
            let mut found = None;
            for profile in state.profiles.enabled() {
                let listed = state.profiles.remote_models(&profile, domain).await;
                let runnable = listed
                    .get(model)
                    .is_some_and(|info| info.get("runnable_now") != Some(&serde_json::Value::Bool(false)));
                if runnable {
                    found = Some(profile);
                    break;
                }
            }
            found
        }
    };
    match target {
        None => Ok((None, local)),
        Some(target) => {
            let remote = state.profiles.remote_models(&target, domain).await.get(model).cloned();
            // A remote that cannot be listed now is checked against the local information.
            Ok((Some(target), remote.or(local)))
        }
    }
}

/// Validates a request, stores its inputs and queues it, here or for a remote profile.
async fn create<R: DomainRequest>(
    state: AppState,
    caller: Caller,
    forwarding: Forwarding,
    mut request: R,
) -> Result<Json<CreatedJob>, ApiError> {
    let domain = R::DOMAIN;
    let model = request.model().to_owned();
    let own_id = state.engine.instance_id().to_owned();
    if forwarding.via.contains(&own_id) {
        return Err(ApiError::field(
            "model",
            format!(
                "forwarding loop: this server ({own_id}) already passed this job on (via {}); check the routing \
                 rules of the remote profiles involved",
                forwarding.via.join(", ")
            ),
        ));
    }
    let (target, info) = choose_target(&state, &forwarding, domain, &model).await?;
    let mut errors = Vec::new();
    if target.is_none() {
        errors.extend(missing_weights(&state, domain, &model));
    }
    if info.is_none() {
        let available = state.catalog.names(domain);
        let field = if domain == Domain::Workflows {
            "workflow"
        } else {
            "model"
        };
        let hint = if available.is_empty() {
            format!("this server has no {domain} models yet")
        } else {
            format!("choose one of: {}", available.join(", "))
        };
        errors.push(ValidationError::field(
            field,
            format!("model {model:?} is not available for {domain} on this server; {hint}"),
            "enum",
        ));
    }
    if let Some(variable) = info
        .as_ref()
        .filter(|_| target.is_none())
        .and_then(|info| missing_key(&state, info))
    {
        errors.push(ValidationError::field(
            "model",
            format!(
                "model {model:?} runs at an external provider that has no API key on this server; set {variable} \
                 in the server's environment (or add the key in the settings) and restart it"
            ),
            "value_error",
        ));
    }
    errors.extend(request.validate(info.as_ref()));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    // Decoding up to 100 MiB per field is CPU work: keep it off the async threads.
    let id = Uuid::new_v4();
    let storage = state.engine.storage_dir().to_path_buf();
    let (request, stored) = tokio::task::spawn_blocking(move || {
        let stored = inputs::store(&storage, id, request.base64_fields());
        (request, stored)
    })
    .await
    .map_err(ApiError::internal)?;
    let stored = stored.map_err(ApiError::Validation)?;
    let storage = state.engine.storage_dir().to_path_buf();
    let (request, errors) = tokio::task::spawn_blocking(move || {
        let errors = request.check_inputs(&storage);
        (request, errors)
    })
    .await
    .map_err(ApiError::internal)?;
    if !errors.is_empty() {
        inputs::remove(state.engine.storage_dir(), &stored);
        return Err(ApiError::Validation(errors));
    }

    let request_json = serde_json::to_value(&request).map_err(ApiError::internal)?;
    let forward = target.map(|profile| {
        let mut via = forwarding.via.clone();
        via.push(own_id.clone());
        let forward = crate::remote::Forward {
            profile,
            via,
            remote_id: None,
            user_id: Some(caller.0.user_id.clone()),
            machine_id: Some(caller.0.machine_id.clone()),
            mirrored: 0,
        };
        serde_json::to_string(&forward).expect("the forward reference serializes")
    });
    let job = NewJob {
        id,
        domain,
        model: model.clone(),
        request: request_json,
        inputs: stored.clone(),
        priority: 0,
        identity: caller.0,
        lane: forward.as_ref().map(|_| crate::remote::REMOTE_LANE.to_owned()),
        external_ref: forward,
        idempotency_key: forwarding.idempotency_key.map(|key| format!("forwarded:{key}")),
    };
    match state.engine.submit(job).await {
        Ok(record) => {
            tracing::info!(job = %id, %domain, %model, lane = %record.lane, user = %record.user_id, machine = %record.machine_id, "job created");
            Ok(Json(CreatedJob {
                id,
                status: TaskStatus::Pending,
            }))
        }
        Err(error) => {
            inputs::remove(state.engine.storage_dir(), &stored);
            Err(match error {
                SubmitError::Backlog { .. } => ApiError::TooManyRequests(error.to_string()),
                SubmitError::UnknownModel { .. } | SubmitError::UnknownLane { .. } => {
                    ApiError::field("model", error.to_string())
                }
                SubmitError::Engine(error) => ApiError::Internal(format!("Error creating task: {error}")),
            })
        }
    }
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| {
        ApiError::Validation(vec![ValidationError::new(
            vec!["path".into(), "id".into()],
            format!("Input should be a valid UUID, not {:?}", crate::guard::truncate(id, 64)),
            "uuid_parsing",
        )])
    })
}

/// Returns the job if it exists in `domain`.
async fn find(state: &AppState, domain: Domain, id: Uuid) -> Result<JobRecord, ApiError> {
    match state.engine.job(id).await? {
        Some(record) if record.domain == domain.as_str() => Ok(record),
        _ => Err(ApiError::NotFound(format!(
            "Task {id} not found in {domain}: it never existed there or it has expired"
        ))),
    }
}

/// Base of signed URLs: the configured public URL, or the request's own host.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.settings.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:5000");
    format!("http://{host}")
}

/// Builds the GET response of a job.
async fn job_response(
    state: &AppState,
    headers: &HeaderMap,
    domain: Domain,
    id: &str,
) -> Result<Json<JobResponse>, ApiError> {
    let id = parse_id(id)?;
    let record = find(state, domain, id).await?;
    let job_state = record.state();
    let mut logs = state.engine.logs(id).await?;
    let position = state.engine.queue_position(&record).await?;
    if let Some(position) = &position {
        logs.push(format!(
            "Queue {} position: {} / {}",
            position.queue, position.position, position.total
        ));
    }
    let output = match (domain, job_state) {
        (Domain::Texts, _) => serde_json::Value::String(record.output_text.clone().unwrap_or_default()),
        (_, JobState::Done) => {
            let base = public_base(state, headers);
            record
                .output_paths()
                .iter()
                .map(|path| serde_json::Value::String(state.signer.url(&base, path)))
                .collect()
        }
        _ => serde_json::Value::Array(Vec::new()),
    };
    let error_message = match job_state {
        JobState::Failed => Some(format!(
            "Task failed with error: {}",
            record.error.as_deref().unwrap_or("unknown error")
        )),
        _ => None,
    };
    Ok(Json(JobResponse {
        id,
        status: job_state.task_status(),
        output,
        error_message,
        logs,
        task_info: task_info(&record, position),
    }))
}

/// Metadata of a job for the `task_info` field; empty values are left out.
fn task_info(
    record: &JobRecord,
    position: Option<protocol::QueuePosition>,
) -> serde_json::Map<String, serde_json::Value> {
    let summary = record.summary(position);
    let runtime = match (record.started_at, record.finished_at) {
        (Some(started), Some(finished)) => Some((finished - started) as f64 / 1000.0),
        _ => None,
    };
    let finished_key = match record.state() {
        JobState::Done => "succeeded",
        JobState::Failed => "failed",
        _ => "revoked",
    };
    let mut info = serde_json::Map::new();
    let mut put = |key: &str, value: serde_json::Value| {
        if !value.is_null() && value != serde_json::Value::String(String::new()) {
            info.insert(key.to_owned(), value);
        }
    };
    put("name", format!("{}.{}", record.domain, record.model).into());
    put("model", record.model.clone().into());
    put("lane", record.lane.clone().into());
    put("state", summary.status.as_str().into());
    put("received", summary.created_at.clone().into());
    put("started", summary.started_at.clone().into());
    put(finished_key, summary.finished_at.clone().into());
    put("runtime", runtime.into());
    put("retries", (record.attempts.max(1) - 1).into());
    put("progress", record.progress.into());
    put(
        "queue_position",
        serde_json::to_value(&summary.queue_position).unwrap_or_default(),
    );
    put("user_id", record.user_id.clone().into());
    put("machine_id", record.machine_id.clone().into());
    put("key_name", record.key_name.clone().into());
    put("client_ip", record.client_addr.clone().into());
    info
}

/// Cancels a job of `domain`.
async fn delete(state: &AppState, domain: Domain, id: &str) -> Result<Json<DeleteResponse>, ApiError> {
    let id = parse_id(id)?;
    find(state, domain, id).await?;
    let (status, message) = match state.engine.cancel(id).await? {
        CancelOutcome::Revoked | CancelOutcome::Requested => {
            (TaskStatus::Revoked, "Task cancellation requested".to_owned())
        }
        CancelOutcome::AlreadyFinished(job_state) => (job_state.task_status(), "Task already completed".to_owned()),
        CancelOutcome::NotFound => {
            return Err(ApiError::NotFound(format!(
                "Task {id} not found in {domain}: it never existed there or it has expired"
            )));
        }
    };
    Ok(Json(DeleteResponse { id, status, message }))
}

async fn models(state: &AppState, domain: Domain) -> Json<serde_json::Value> {
    let mut models = state.catalog.list(domain);
    // Beyond the contract's fields: whether a local model can run now, so
    // that the UI and forwarding servers can tell, and the schedulers a local
    // image model takes with the catalogue's default.
    for (name, info) in models.iter_mut() {
        let Some(entry) = state.models.get_in(domain, name) else {
            continue;
        };
        if entry.provider != protocol::Provider::Local {
            continue;
        }
        info["runnable_now"] = serde_json::json!(runnable_here(state, domain, name));
        if domain == Domain::Images && entry.architecture.is_some() {
            info["schedulers"] = serde_json::json!(images::schedulers::NAMES);
            info["default_scheduler"] = serde_json::json!(entry.scheduler);
        }
    }
    // Models that only a remote profile runs are listed with where they run.
    for profile in state.profiles.enabled() {
        for (name, mut info) in state.profiles.remote_models(&profile, domain).await {
            if models.contains_key(&name) {
                continue;
            }
            let description = info
                .get("description")
                .and_then(|value| value.as_str())
                .unwrap_or_default();
            info["description"] = serde_json::json!(format!("{description} (runs on {profile})").trim_start());
            models.insert(name, info);
        }
    }
    // The description of an external model whose provider has no key names the missing variable.
    for info in models.values_mut() {
        if let Some(variable) = missing_key(state, info) {
            let description = info
                .get("description")
                .and_then(|value| value.as_str())
                .unwrap_or_default();
            info["description"] = serde_json::json!(format!("{description} (not configured: set {variable})")
                .trim_start()
                .to_owned());
        }
    }
    Json(serde_json::json!({ "models": models }))
}

/// Returns the environment variable to set when the model's provider has no key.
fn missing_key(state: &AppState, info: &serde_json::Value) -> Option<&'static str> {
    let provider: protocol::Provider = serde_json::from_value(info.get("provider")?.clone()).ok()?;
    state.provider_keys.missing(provider)
}

macro_rules! domain_handlers {
    (
        $domain:expr, $tag:literal, $base:literal, $request:ty, $created:ty, $response:ty,
        $create:ident, $get:ident, $delete:ident
    ) => {
        #[utoipa::path(
                            post, path = $base, operation_id = concat!($tag, "_create"), tag = $tag,
                            request_body = $request,
                            responses(
                                (status = 200, description = "Task queued", body = $created),
                                (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
                                (status = 413, description = "Body over the size limit", body = ErrorDetail),
                                (status = 422, description = "Validation Error", body = HttpValidationError),
                                (status = 429, description = "Backlog limit reached", body = ErrorDetail),
                            ),
                            security(("APIKeyHeader" = []))
                        )]
        async fn $create(
            State(state): State<AppState>,
            Extension(caller): Extension<Caller>,
            headers: HeaderMap,
            axum::extract::RawQuery(query): axum::extract::RawQuery,
            ValidJson(request): ValidJson<$request>,
        ) -> Result<Json<CreatedJob>, ApiError> {
            let forwarding = Forwarding::read(&headers, query.as_deref());
            create(state, caller, forwarding, request).await
        }

        #[utoipa::path(
                            get, path = concat!($base, "/{id}"), operation_id = concat!($tag, "_get"), tag = $tag,
                            params(("id" = Uuid, Path, description = "Task ID")),
                            responses(
                                (status = 200, description = "Task status, logs and outputs", body = $response),
                                (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
                                (status = 404, description = "Unknown or expired task", body = ErrorDetail),
                                (status = 422, description = "Validation Error", body = HttpValidationError),
                            ),
                            security(("APIKeyHeader" = []))
                        )]
        async fn $get(
            State(state): State<AppState>,
            headers: HeaderMap,
            Path(id): Path<String>,
        ) -> Result<Json<JobResponse>, ApiError> {
            job_response(&state, &headers, $domain, &id).await
        }

        #[utoipa::path(
                            delete, path = concat!($base, "/{id}"), operation_id = concat!($tag, "_delete"), tag = $tag,
                            params(("id" = Uuid, Path, description = "Task ID")),
                            responses(
                                (status = 200, description = "Cancellation result", body = DeleteResponse),
                                (status = 403, description = "Missing, invalid or revoked API key", body = ErrorDetail),
                                (status = 404, description = "Unknown or expired task", body = ErrorDetail),
                                (status = 422, description = "Validation Error", body = HttpValidationError),
                            ),
                            security(("APIKeyHeader" = []))
                        )]
        async fn $delete(
            State(state): State<AppState>,
            Path(id): Path<String>,
        ) -> Result<Json<DeleteResponse>, ApiError> {
            delete(&state, $domain, &id).await
        }
    };
}

domain_handlers!(
    Domain::Images,
    "images",
    "/api/images",
    ImageRequest,
    ImageCreateResponse,
    ImageResponse,
    images_create,
    images_get,
    images_delete
);
domain_handlers!(
    Domain::Texts,
    "texts",
    "/api/texts",
    TextRequest,
    TextCreateResponse,
    TextResponse,
    texts_create,
    texts_get,
    texts_delete
);
domain_handlers!(
    Domain::Videos,
    "videos",
    "/api/videos",
    VideoRequest,
    VideoCreateResponse,
    VideoResponse,
    videos_create,
    videos_get,
    videos_delete
);
domain_handlers!(
    Domain::Workflows,
    "workflows",
    "/api/workflows",
    WorkflowRequest,
    WorkflowCreateResponse,
    WorkflowResponse,
    workflows_create,
    workflows_get,
    workflows_delete
);

#[utoipa::path(
    get, path = "/api/images/models", operation_id = "images_list_models", tag = "images",
    responses((status = 200, description = "Image models this server runs", body = ImageModelsResponse)),
    security(("APIKeyHeader" = []))
)]
async fn images_list_models(State(state): State<AppState>) -> Json<serde_json::Value> {
    models(&state, Domain::Images).await
}

#[utoipa::path(
    get, path = "/api/texts/models", operation_id = "texts_list_models", tag = "texts",
    responses((status = 200, description = "Text models this server runs", body = TextModelsResponse)),
    security(("APIKeyHeader" = []))
)]
async fn texts_list_models(State(state): State<AppState>) -> Json<serde_json::Value> {
    models(&state, Domain::Texts).await
}

#[utoipa::path(
    get, path = "/api/videos/models", operation_id = "videos_list_models", tag = "videos",
    responses((status = 200, description = "Video models this server runs", body = VideoModelsResponse)),
    security(("APIKeyHeader" = []))
)]
async fn videos_list_models(State(state): State<AppState>) -> Json<serde_json::Value> {
    models(&state, Domain::Videos).await
}

/// Paths of this module for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    images_create,
    images_list_models,
    images_get,
    images_delete,
    texts_create,
    texts_list_models,
    texts_get,
    texts_delete,
    videos_create,
    videos_list_models,
    videos_get,
    videos_delete,
    workflows_create,
    workflows_get,
    workflows_delete,
))]
pub struct DomainApi;
