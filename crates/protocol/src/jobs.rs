//! Types this server adds to the original contract: the job listing, the
//! event stream and the system status.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::TaskStatus;

/// A family of requests with its own routes under `/api/{domain}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Domain {
    Images,
    Texts,
    Videos,
    Workflows,
}

impl Domain {
    pub const ALL: [Domain; 4] = [Domain::Images, Domain::Texts, Domain::Videos, Domain::Workflows];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Images => "images",
            Self::Texts => "texts",
            Self::Videos => "videos",
            Self::Workflows => "workflows",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|domain| domain.as_str() == name)
    }
}

impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Place of a waiting job in its lane, 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuePosition {
    pub position: i64,
    pub queue: String,
    pub total: i64,
}

/// One job as the job listing and the event stream show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobSummary {
    pub id: Uuid,
    pub domain: Domain,
    pub model: String,
    pub status: TaskStatus,
    /// Lane the job runs in: `local`, `external` or `remote`.
    pub lane: String,
    pub priority: i64,
    /// Fraction done, from 0.0 to 1.0.
    pub progress: f64,
    pub attempts: i64,
    /// RFC 3339 timestamps in UTC.
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub error_message: Option<String>,
    pub queue_position: Option<QueuePosition>,
    pub user_id: String,
    pub machine_id: String,
    pub key_name: Option<String>,
}

/// Response of `GET /api/jobs`, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobList {
    pub jobs: Vec<JobSummary>,
    /// Number of jobs matching the filters, over all pages.
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// A change to a job, as sent by `GET /api/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum JobEvent {
    /// The job's current state; sent on every status change and on connect.
    State { job: Box<JobSummary> },
    /// A line appended to the job's logs.
    Log { id: Uuid, line: String },
    /// New progress of a running job, from 0.0 to 1.0.
    Progress { id: Uuid, progress: f64 },
}

impl JobEvent {
    pub fn job_id(&self) -> Uuid {
        match self {
            Self::State { job } => job.id,
            Self::Log { id, .. } | Self::Progress { id, .. } => *id,
        }
    }
}

/// Status of one lane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LaneStatus {
    pub name: String,
    pub concurrency: i64,
    pub running: i64,
    pub waiting: i64,
    /// Seconds a job may run before it fails; null for no limit.
    pub time_limit_seconds: Option<u64>,
}

/// Response of `GET /api/system`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemStatus {
    pub version: String,
    /// Random id of this server's database, stable across restarts.
    pub instance_id: String,
    pub started_at: String,
    pub lanes: Vec<LaneStatus>,
    /// Device local models run on, such as `cpu` or `cuda:0`.
    pub devices: Vec<String>,
    /// Local models loaded in memory now, most recently used first.
    #[serde(default)]
    pub loaded_models: Vec<String>,
    /// Jobs waiting in all lanes, counted against `backlog_limit`.
    pub waiting: i64,
    pub backlog_limit: i64,
}

/// Response of any domain's POST.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedJob {
    pub id: Uuid,
    pub status: TaskStatus,
}

/// Response of any domain's GET, with `output` left as JSON: a list of URLs for
/// images, videos and workflows, a string for texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResponse {
    pub id: Uuid,
    pub status: TaskStatus,
    #[serde(default)]
    pub output: serde_json::Value,
    pub error_message: Option<String>,
    #[serde(default)]
    pub logs: Vec<String>,
    #[serde(default)]
    pub task_info: serde_json::Map<String, serde_json::Value>,
}

impl JobResponse {
    /// Download URLs of the outputs; empty for text jobs.
    pub fn output_urls(&self) -> Vec<String> {
        match &self.output {
            serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        }
    }

    /// Generated text of a text job.
    pub fn output_text(&self) -> Option<&str> {
        self.output.as_str()
    }
}

/// Response of `GET /api/jobs/{id}`: a job of any domain with its request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobDetail {
    /// Status, timings, progress and source (`user_id`, `machine_id`, `key_name`).
    #[serde(flatten)]
    pub job: JobSummary,
    /// The request as submitted, with each input image, mask or video
    /// replaced by a signed download URL instead of its base64.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub request: serde_json::Value,
    pub logs: Vec<String>,
    /// Signed URLs of the outputs; empty until the job succeeds.
    pub outputs: Vec<String>,
    /// Generated text of a text job.
    pub output_text: Option<String>,
}
