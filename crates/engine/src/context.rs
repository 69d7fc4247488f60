//! An executor's view of its job: the request, logging, progress,
//! cancellation and the place to write outputs.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Future returned by [`Executor::run`].
pub type ExecutorFuture<'a> = Pin<Box<dyn Future<Output = Result<JobOutput, JobError>> + Send + 'a>>;

/// Runs jobs of one (domain, model) pair.
///
/// `run` should check [`JobContext::check_cancelled`] between steps and
/// return [`JobError::Cancelled`] once the token is cancelled, so that a
/// cancelled or timed-out job frees its lane at the next step.
pub trait Executor: Send + Sync + 'static {
    fn run(&self, ctx: JobContext) -> ExecutorFuture<'_>;
}

/// What a successful job produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobOutput {
    /// Output files, relative to the storage folder, as returned by [`JobContext::write_output`].
    pub files: Vec<String>,
    /// Generated text, for text jobs.
    pub text: Option<String>,
}

/// Reason a job did not succeed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    Failed(String),
    #[error("cancelled")]
    Cancelled,
}

impl JobError {
    pub fn failed(message: impl std::fmt::Display) -> Self {
        Self::Failed(message.to_string())
    }
}

pub(crate) enum Update {
    Log(String),
    Progress(f64),
}

/// Handle an executor uses to read its request and report back to the engine.
pub struct JobContext {
    pub id: Uuid,
    pub domain: String,
    pub model: String,
    /// 1 for the first run, 2 when the job runs again after a server restart.
    pub attempt: i64,
    pub(crate) request: serde_json::Value,
    pub(crate) storage: PathBuf,
    pub(crate) token: CancellationToken,
    pub(crate) updates: mpsc::UnboundedSender<Update>,
    pub(crate) external_ref: Option<String>,
    pub(crate) pool: sqlx::SqlitePool,
}

impl JobContext {
    /// Parses the stored request. Base64 inputs appear as paths relative to
    /// the storage folder; [`JobContext::input_path`] resolves them.
    pub fn request<T: DeserializeOwned>(&self) -> Result<T, JobError> {
        serde_json::from_value(self.request.clone())
            .map_err(|error| JobError::Failed(format!("stored request does not parse: {error}")))
    }

    pub fn request_json(&self) -> &serde_json::Value {
        &self.request
    }

    /// Appends a line to the job's logs; clients see it on their next poll.
    pub fn log(&self, line: impl Into<String>) {
        self.reporter().log(line);
    }

    /// Sets the fraction done, clamped to 0.0..=1.0.
    pub fn progress(&self, fraction: f64) {
        self.reporter().progress(fraction);
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Returns `Err(JobError::Cancelled)` once the job is cancelled or past its time limit.
    pub fn check_cancelled(&self) -> Result<(), JobError> {
        if self.token.is_cancelled() {
            Err(JobError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Token cancelled when the job is cancelled, times out or the server shuts down.
    pub fn cancellation_token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Returns a handle for logging, progress and cancellation checks that can
    /// move into blocking code (`spawn_blocking`), where the context cannot go.
    pub fn reporter(&self) -> JobReporter {
        JobReporter {
            token: self.token.clone(),
            updates: self.updates.clone(),
        }
    }

    /// Returns the reference stored by [`JobContext::set_external_ref`] in an
    /// earlier run of this job, before a server restart.
    pub fn external_ref(&self) -> Option<&str> {
        self.external_ref.as_deref()
    }

    /// Stores the job's reference at another service (a provider's
    /// prediction id, a remote job id) with the job, so that a run after a
    /// restart can resume that work instead of starting it again.
    pub async fn set_external_ref(&self, reference: &str) -> Result<(), JobError> {
        sqlx::query("UPDATE jobs SET external_ref = ? WHERE id = ?")
            .bind(reference)
            .bind(self.id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|error| JobError::Failed(format!("storing the job's external reference failed: {error}")))?;
        Ok(())
    }

    /// Resolves a path relative to the storage folder.
    pub fn input_path(&self, relative: &str) -> PathBuf {
        self.storage.join(relative)
    }

    pub fn storage_dir(&self) -> &Path {
        &self.storage
    }

    /// Writes output number `index` as `<domain>/<model>/<job id>-<index>.<extension>`
    /// and returns its path relative to the storage folder.
    ///
    /// The bytes go to a temporary file that is renamed into place, so a
    /// reader never sees a half-written output.
    pub async fn write_output(&self, index: usize, extension: &str, bytes: &[u8]) -> Result<String, JobError> {
        let relative = format!("{}/{}/{}-{index}.{extension}", self.domain, self.model, self.id);
        let path = self.storage.join(&relative);
        let partial = path.with_extension(format!("{extension}.partial"));
        let write = async {
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            tokio::fs::write(&partial, bytes).await?;
            tokio::fs::rename(&partial, &path).await
        };
        write
            .await
            .map_err(|error| JobError::Failed(format!("writing output {} failed: {error}", path.display())))?;
        Ok(relative)
    }
}

/// Logging, progress and cancellation of one job, for blocking code.
#[derive(Clone)]
pub struct JobReporter {
    token: CancellationToken,
    updates: mpsc::UnboundedSender<Update>,
}

impl JobReporter {
    /// Appends a line to the job's logs.
    pub fn log(&self, line: impl Into<String>) {
        let _ = self.updates.send(Update::Log(line.into()));
    }

    /// Sets the fraction done, clamped to 0.0..=1.0.
    pub fn progress(&self, fraction: f64) {
        let _ = self.updates.send(Update::Progress(fraction.clamp(0.0, 1.0)));
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}
