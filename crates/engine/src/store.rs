//! SQLite access: opening the database, job rows, log lines.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use protocol::{Domain, JobSummary, QueuePosition, TaskStatus};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use uuid::Uuid;

/// Engine-side state of a job. [`JobState::task_status`] maps it onto the
/// status strings of the HTTP contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    pub fn task_status(self) -> TaskStatus {
        match self {
            Self::Queued => TaskStatus::Pending,
            Self::Running => TaskStatus::Started,
            Self::Done => TaskStatus::Success,
            Self::Failed => TaskStatus::Failure,
            Self::Cancelled => TaskStatus::Revoked,
        }
    }

    /// Returns the engine state that a contract status filter selects, if any.
    pub fn from_task_status(status: TaskStatus) -> Option<Self> {
        Some(match status {
            TaskStatus::Pending => Self::Queued,
            TaskStatus::Started => Self::Running,
            TaskStatus::Success => Self::Done,
            TaskStatus::Failure => Self::Failed,
            TaskStatus::Revoked => Self::Cancelled,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Cancelled)
    }
}

/// One row of the `jobs` table.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRecord {
    pub seq: i64,
    pub id: String,
    pub domain: String,
    pub model: String,
    pub lane: String,
    pub request: String,
    pub status: String,
    pub priority: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub attempts: i64,
    pub error: Option<String>,
    pub outputs: String,
    pub output_text: Option<String>,
    pub inputs: String,
    pub progress: f64,
    pub key_id: Option<String>,
    pub key_name: Option<String>,
    pub user_id: String,
    pub machine_id: String,
    pub client_addr: Option<String>,
    /// The job's reference at another service; see [`crate::JobContext::set_external_ref`].
    pub external_ref: Option<String>,
}

impl JobRecord {
    pub fn uuid(&self) -> Uuid {
        Uuid::parse_str(&self.id).unwrap_or_default()
    }

    pub fn state(&self) -> JobState {
        JobState::parse(&self.status).unwrap_or(JobState::Failed)
    }

    /// Paths of the output files, relative to the storage folder.
    pub fn output_paths(&self) -> Vec<String> {
        serde_json::from_str(&self.outputs).unwrap_or_default()
    }

    /// Paths of the stored input files, relative to the storage folder.
    pub fn input_paths(&self) -> Vec<String> {
        serde_json::from_str(&self.inputs).unwrap_or_default()
    }

    pub fn summary(&self, queue_position: Option<QueuePosition>) -> JobSummary {
        JobSummary {
            id: self.uuid(),
            domain: Domain::parse(&self.domain).unwrap_or(Domain::Images),
            model: self.model.clone(),
            status: self.state().task_status(),
            lane: self.lane.clone(),
            priority: self.priority,
            progress: self.progress,
            attempts: self.attempts,
            created_at: rfc3339(self.created_at),
            started_at: self.started_at.map(rfc3339),
            finished_at: self.finished_at.map(rfc3339),
            error_message: self.error.clone(),
            queue_position,
            user_id: self.user_id.clone(),
            machine_id: self.machine_id.clone(),
            key_name: self.key_name.clone(),
        }
    }
}

/// Formats Unix milliseconds as an RFC 3339 UTC timestamp.
pub fn rfc3339(millis: i64) -> String {
    Utc.timestamp_millis_opt(millis)
        .single()
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

/// Opens (creating if needed) the database at `path` in WAL mode and applies
/// the embedded migrations.
pub async fn open(path: &Path) -> Result<SqlitePool, sqlx::Error> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    // The database contains key hashes and every request's prompt, so only its owner may read it.
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(pool)
}

pub(crate) const SELECT_JOB: &str = "SELECT seq, id, domain, model, lane, request, status, priority, created_at, \
     started_at, finished_at, attempts, error, outputs, output_text, inputs, progress, key_id, key_name, user_id, \
     machine_id, client_addr, external_ref FROM jobs";

pub(crate) async fn fetch_job(pool: &SqlitePool, id: &str) -> Result<Option<JobRecord>, sqlx::Error> {
    sqlx::query_as::<_, JobRecord>(&format!("{SELECT_JOB} WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub(crate) async fn fetch_logs(pool: &SqlitePool, id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar::<_, String>("SELECT line FROM job_logs WHERE job_id = ? ORDER BY line_id")
        .bind(id)
        .fetch_all(pool)
        .await
}

pub(crate) async fn append_log(pool: &SqlitePool, id: &str, line: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO job_logs (job_id, line) VALUES (?, ?)")
        .bind(id)
        .bind(line)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Returns the 1-based position of a waiting job in its lane and the lane's waiting count.
pub(crate) async fn queue_position(pool: &SqlitePool, job: &JobRecord) -> Result<(i64, i64), sqlx::Error> {
    let (ahead, total): (i64, i64) = sqlx::query_as(
        "SELECT \
           COALESCE(SUM(CASE WHEN priority > ?2 OR (priority = ?2 AND seq < ?3) THEN 1 ELSE 0 END), 0), \
           COUNT(*) \
         FROM jobs WHERE lane = ?1 AND status = 'queued'",
    )
    .bind(&job.lane)
    .bind(job.priority)
    .bind(job.seq)
    .fetch_one(pool)
    .await?;
    Ok((ahead + 1, total))
}
