//! The scheduler: submission, lanes, running jobs, cancellation, restart
//! recovery, retention and events.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use protocol::{Domain, JobEvent, JobList, LaneStatus, QueuePosition};
use sqlx::sqlite::SqlitePool;
use tokio::sync::{broadcast, mpsc, Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::context::{Executor, JobContext, JobError, JobOutput, Update};
use crate::store::{self, now_millis, JobRecord, JobState, SELECT_JOB};

/// Settings of one lane.
#[derive(Debug, Clone)]
pub struct LaneConfig {
    pub name: String,
    /// Jobs that may run at once.
    pub concurrency: usize,
    /// Time a job may run before it fails; `None` for no limit.
    pub time_limit: Option<Duration>,
}

/// Settings of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// SQLite database file.
    pub database: PathBuf,
    /// Folder for inputs and outputs.
    pub storage: PathBuf,
    pub lanes: Vec<LaneConfig>,
    /// Waiting jobs, over all lanes, at which submissions are rejected.
    pub backlog_limit: i64,
    /// Age after which finished jobs and their files are deleted.
    pub retention: Duration,
    /// Time between two retention sweeps.
    pub retention_interval: Duration,
}

impl EngineConfig {
    /// Default settings for a data folder: `local` runs one job at a time with
    /// no time limit, `external` four at a time for at most 10 minutes each.
    pub fn new(data_dir: &std::path::Path) -> Self {
        Self {
            database: data_dir.join("ddiffusion.db"),
            storage: data_dir.join("storage"),
            lanes: vec![
                LaneConfig {
                    name: "local".into(),
                    concurrency: 1,
                    time_limit: None,
                },
                LaneConfig {
                    name: "external".into(),
                    concurrency: 4,
                    time_limit: Some(Duration::from_secs(600)),
                },
            ],
            backlog_limit: 100,
            retention: Duration::from_secs(30 * 24 * 3600),
            retention_interval: Duration::from_secs(3600),
        }
    }
}

/// Submitter of a job: API key, user, machine and address.
#[derive(Debug, Clone)]
pub struct Identity {
    pub key_id: Option<String>,
    pub key_name: Option<String>,
    pub user_id: String,
    pub machine_id: String,
    pub client_addr: Option<String>,
}

impl Default for Identity {
    fn default() -> Self {
        Self {
            key_id: None,
            key_name: None,
            user_id: "unknown".into(),
            machine_id: "unknown".into(),
            client_addr: None,
        }
    }
}

/// A job to store and queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Chosen by the caller, so that inputs can be stored under it before submission.
    pub id: Uuid,
    pub domain: Domain,
    pub model: String,
    /// Request JSON with base64 inputs already replaced by storage paths.
    pub request: serde_json::Value,
    /// Stored input files, relative to the storage folder.
    pub inputs: Vec<String>,
    /// Higher runs first within a lane; equal priorities run in submission order.
    pub priority: i64,
    pub identity: Identity,
    /// Runs the job on this lane with the lane's executor (see
    /// [`Engine::register_lane_executor`]) instead of the model's.
    pub lane: Option<String>,
    /// Initial value of the job's external reference.
    pub external_ref: Option<String>,
    /// A second submission with the same key returns the first job.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("model {model} is not available for {domain} on this server")]
    UnknownModel { domain: Domain, model: String },
    #[error("lane {lane} has no executor on this server")]
    UnknownLane { lane: String },
    #[error("{waiting} jobs are waiting, which is the backlog limit of {limit}; retry later or raise backlog_limit in config.toml")]
    Backlog { waiting: i64, limit: i64 },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<sqlx::Error> for SubmitError {
    fn from(error: sqlx::Error) -> Self {
        Self::Engine(error.into())
    }
}

/// Result of a cancellation request.
#[derive(Debug, Clone, PartialEq)]
pub enum CancelOutcome {
    /// The job was waiting and is now cancelled.
    Revoked,
    /// The job is running; its executor stops at its next check.
    Requested,
    /// The job had already finished in this state.
    AlreadyFinished(JobState),
    NotFound,
}

struct Registration {
    lane: String,
    executor: Arc<dyn Executor>,
}

struct Lane {
    config: LaneConfig,
    wake: Notify,
    slots: Arc<Semaphore>,
}

struct RunningJob {
    token: CancellationToken,
    progress: f64,
    cancel_requested: bool,
}

struct Inner {
    pool: SqlitePool,
    config: EngineConfig,
    lanes: HashMap<String, Arc<Lane>>,
    executors: RwLock<HashMap<(Domain, String), Registration>>,
    /// Executors that run every job of a lane, whatever its model.
    lane_executors: RwLock<HashMap<String, Arc<dyn Executor>>>,
    running: Mutex<HashMap<Uuid, RunningJob>>,
    events: broadcast::Sender<JobEvent>,
    shutdown: CancellationToken,
    tasks: tokio_util::task::TaskTracker,
    instance_id: String,
    started_at: i64,
}

/// The job queue. Cheap to clone; all clones share one queue.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// Opens the database, applies migrations and creates the storage folder.
    /// Jobs do not run until [`Engine::start`].
    pub async fn open(config: EngineConfig) -> Result<Self, EngineError> {
        if let Some(parent) = config.database.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::create_dir_all(&config.storage)?;
        let pool = store::open(&config.database).await?;
        let instance_id = instance_id(&pool).await?;
        let lanes = config
            .lanes
            .iter()
            .map(|lane| {
                let state = Lane {
                    config: lane.clone(),
                    wake: Notify::new(),
                    slots: Arc::new(Semaphore::new(lane.concurrency.max(1))),
                };
                (lane.name.clone(), Arc::new(state))
            })
            .collect();
        let (events, _) = broadcast::channel(4096);
        let inner = Inner {
            pool,
            config,
            lanes,
            executors: RwLock::new(HashMap::new()),
            lane_executors: RwLock::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
            events,
            shutdown: CancellationToken::new(),
            tasks: tokio_util::task::TaskTracker::new(),
            instance_id,
            started_at: now_millis(),
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Registers the executor for a (domain, model) pair on a lane.
    ///
    /// # Panics
    /// If `lane` is not one of the configured lanes.
    pub fn register(&self, domain: Domain, model: &str, lane: &str, executor: Arc<dyn Executor>) {
        assert!(self.inner.lanes.contains_key(lane), "lane {lane} is not configured");
        let registration = Registration {
            lane: lane.to_owned(),
            executor,
        };
        self.inner
            .executors
            .write()
            .unwrap()
            .insert((domain, model.to_owned()), registration);
    }

    /// Runs every job submitted with `lane` set to this lane on `executor`.
    pub fn register_lane_executor(&self, lane: &str, executor: Arc<dyn Executor>) {
        assert!(self.inner.lanes.contains_key(lane), "lane {lane} is not configured");
        self.inner
            .lane_executors
            .write()
            .unwrap()
            .insert(lane.to_owned(), executor);
    }

    /// Returns the lane of a registered model.
    pub fn lane_of(&self, domain: Domain, model: &str) -> Option<String> {
        self.inner
            .executors
            .read()
            .unwrap()
            .get(&(domain, model.to_owned()))
            .map(|r| r.lane.clone())
    }

    /// Registered model names of a domain, sorted.
    pub fn models(&self, domain: Domain) -> Vec<String> {
        let executors = self.inner.executors.read().unwrap();
        let mut names: Vec<String> = executors
            .keys()
            .filter(|(d, _)| *d == domain)
            .map(|(_, m)| m.clone())
            .collect();
        names.sort();
        names
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.inner.pool
    }

    pub fn storage_dir(&self) -> &std::path::Path {
        &self.inner.config.storage
    }

    pub fn instance_id(&self) -> &str {
        &self.inner.instance_id
    }

    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.inner.events.subscribe()
    }

    /// Recovers jobs interrupted by a crash, then starts the lane dispatchers
    /// and the retention sweep.
    pub async fn start(&self) -> Result<(), EngineError> {
        self.recover().await?;
        self.sweep_retention().await?;
        for lane in self.inner.lanes.values() {
            let engine = self.clone();
            let lane = lane.clone();
            self.inner.tasks.spawn(async move { engine.dispatch(lane).await });
        }
        let engine = self.clone();
        self.inner.tasks.spawn(async move { engine.retention_loop().await });
        Ok(())
    }

    /// Stops taking jobs from the lanes and puts running jobs back in the
    /// queue, waiting at most `grace` for their executors to stop.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.shutdown.cancel();
        for job in self.inner.running.lock().unwrap().values() {
            job.token.cancel();
        }
        self.inner.tasks.close();
        if tokio::time::timeout(grace, self.inner.tasks.wait()).await.is_err() {
            tracing::warn!(
                grace_seconds = grace.as_secs(),
                "running jobs did not stop in time; they run again at the next start"
            );
        }
    }

    /// Stores a job and queues it. The row is committed when this returns.
    pub async fn submit(&self, job: NewJob) -> Result<JobRecord, SubmitError> {
        let lane = match &job.lane {
            Some(lane) if self.inner.lane_executors.read().unwrap().contains_key(lane) => lane.clone(),
            Some(lane) => return Err(SubmitError::UnknownLane { lane: lane.clone() }),
            None => match self.lane_of(job.domain, &job.model) {
                Some(lane) => lane,
                None => {
                    return Err(SubmitError::UnknownModel {
                        domain: job.domain,
                        model: job.model,
                    })
                }
            },
        };
        if let Some(key) = &job.idempotency_key {
            let existing = sqlx::query_scalar::<_, String>("SELECT id FROM jobs WHERE idempotency_key = ?")
                .bind(key)
                .fetch_optional(&self.inner.pool)
                .await?;
            if let Some(id) = existing {
                let record = store::fetch_job(&self.inner.pool, &id)
                    .await?
                    .ok_or(sqlx::Error::RowNotFound)?;
                return Ok(record);
            }
        }
        let limit = self.inner.config.backlog_limit;
        let inserted = sqlx::query(
            "INSERT INTO jobs (id, domain, model, lane, request, status, priority, created_at, inputs, key_id, \
               key_name, user_id, machine_id, client_addr, external_ref, idempotency_key) \
             SELECT ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ? \
             WHERE (SELECT COUNT(*) FROM jobs WHERE status = 'queued') < ?",
        )
        .bind(job.id.to_string())
        .bind(job.domain.as_str())
        .bind(&job.model)
        .bind(&lane)
        .bind(job.request.to_string())
        .bind(job.priority)
        .bind(now_millis())
        .bind(serde_json::to_string(&job.inputs).unwrap_or_else(|_| "[]".into()))
        .bind(&job.identity.key_id)
        .bind(&job.identity.key_name)
        .bind(&job.identity.user_id)
        .bind(&job.identity.machine_id)
        .bind(&job.identity.client_addr)
        .bind(&job.external_ref)
        .bind(&job.idempotency_key)
        .bind(limit)
        .execute(&self.inner.pool)
        .await?;
        if inserted.rows_affected() == 0 {
            let waiting = self.waiting_count().await?;
            return Err(SubmitError::Backlog { waiting, limit });
        }

        let record = store::fetch_job(&self.inner.pool, &job.id.to_string())
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        self.publish_state(&record).await;
        if let Some(lane) = self.inner.lanes.get(&lane) {
            lane.wake.notify_one();
        }
        Ok(record)
    }

    /// Returns a job with its progress as the running executor last reported it.
    pub async fn job(&self, id: Uuid) -> Result<Option<JobRecord>, EngineError> {
        let Some(mut record) = store::fetch_job(&self.inner.pool, &id.to_string()).await? else {
            return Ok(None);
        };
        if let Some(running) = self.inner.running.lock().unwrap().get(&id) {
            record.progress = running.progress;
        }
        Ok(Some(record))
    }

    pub async fn logs(&self, id: Uuid) -> Result<Vec<String>, EngineError> {
        Ok(store::fetch_logs(&self.inner.pool, &id.to_string()).await?)
    }

    /// Position of a waiting job in its lane; `None` once it left the queue.
    pub async fn queue_position(&self, job: &JobRecord) -> Result<Option<QueuePosition>, EngineError> {
        if job.state() != JobState::Queued {
            return Ok(None);
        }
        let (position, total) = store::queue_position(&self.inner.pool, job).await?;
        Ok(Some(QueuePosition {
            position,
            queue: job.lane.clone(),
            total,
        }))
    }

    /// Lists jobs newest first, optionally filtered by state and domain.
    pub async fn list(
        &self,
        state: Option<JobState>,
        domain: Option<Domain>,
        offset: i64,
        limit: i64,
    ) -> Result<JobList, EngineError> {
        let filter = "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR domain = ?2)";
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM jobs {filter}"))
            .bind(state.map(JobState::as_str))
            .bind(domain.map(Domain::as_str))
            .fetch_one(&self.inner.pool)
            .await?;
        let records: Vec<JobRecord> =
            sqlx::query_as(&format!("{SELECT_JOB} {filter} ORDER BY seq DESC LIMIT ?3 OFFSET ?4"))
                .bind(state.map(JobState::as_str))
                .bind(domain.map(Domain::as_str))
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.inner.pool)
                .await?;
        let mut jobs = Vec::with_capacity(records.len());
        for mut record in records {
            if let Some(running) = self.inner.running.lock().unwrap().get(&record.uuid()) {
                record.progress = running.progress;
            }
            let position = self.queue_position(&record).await?;
            jobs.push(record.summary(position));
        }
        Ok(JobList {
            jobs,
            total,
            offset,
            limit,
        })
    }

    /// Cancels a job: a waiting one at once, a running one at its executor's next check.
    pub async fn cancel(&self, id: Uuid) -> Result<CancelOutcome, EngineError> {
        let updated =
            sqlx::query("UPDATE jobs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'queued'")
                .bind(now_millis())
                .bind(id.to_string())
                .execute(&self.inner.pool)
                .await?;
        if updated.rows_affected() == 1 {
            store::append_log(&self.inner.pool, &id.to_string(), "Cancelled while waiting").await?;
            if let Some(record) = store::fetch_job(&self.inner.pool, &id.to_string()).await? {
                self.publish_state(&record).await;
            }
            tracing::info!(job = %id, "cancelled waiting job");
            return Ok(CancelOutcome::Revoked);
        }

        // A dispatcher may claim the job between the UPDATE above and this
        // lookup. Its token is registered before the claim, so one more
        // lookup after reading the row finds it.
        for _ in 0..2 {
            if self.request_stop(id) {
                return Ok(CancelOutcome::Requested);
            }
            match store::fetch_job(&self.inner.pool, &id.to_string()).await? {
                None => return Ok(CancelOutcome::NotFound),
                Some(record) if record.state().is_finished() => {
                    return Ok(CancelOutcome::AlreadyFinished(record.state()));
                }
                Some(_) => tokio::task::yield_now().await,
            }
        }
        // Running in the database but not in this process: the server is
        // shutting down, and the job is queued again at the next start.
        Ok(CancelOutcome::Requested)
    }

    /// Cancels the token of a job running in this process; returns false if there is none.
    fn request_stop(&self, id: Uuid) -> bool {
        match self.inner.running.lock().unwrap().get_mut(&id) {
            Some(running) => {
                running.cancel_requested = true;
                running.token.cancel();
                tracing::info!(job = %id, "cancellation requested for running job");
                true
            }
            None => false,
        }
    }

    /// Running and waiting counts per lane.
    pub async fn lane_status(&self) -> Result<Vec<LaneStatus>, EngineError> {
        let counts: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT lane, status, COUNT(*) FROM jobs WHERE status IN ('queued', 'running') GROUP BY lane, status",
        )
        .fetch_all(&self.inner.pool)
        .await?;
        let count = |lane: &str, status: &str| {
            counts
                .iter()
                .find(|(l, s, _)| l == lane && s == status)
                .map(|(_, _, n)| *n)
                .unwrap_or(0)
        };
        let mut lanes: Vec<LaneStatus> = self
            .inner
            .config
            .lanes
            .iter()
            .map(|lane| LaneStatus {
                name: lane.name.clone(),
                concurrency: lane.concurrency as i64,
                running: count(&lane.name, "running"),
                waiting: count(&lane.name, "queued"),
                time_limit_seconds: lane.time_limit.map(|limit| limit.as_secs()),
            })
            .collect();
        lanes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(lanes)
    }

    pub async fn waiting_count(&self) -> Result<i64, EngineError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'queued'")
            .fetch_one(&self.inner.pool)
            .await?)
    }

    pub fn backlog_limit(&self) -> i64 {
        self.inner.config.backlog_limit
    }

    pub fn started_at(&self) -> i64 {
        self.inner.started_at
    }

    /// Deletes finished jobs older than the retention period, with their files.
    /// Returns the number of jobs deleted.
    pub async fn sweep_retention(&self) -> Result<usize, EngineError> {
        let cutoff = now_millis() - self.inner.config.retention.as_millis() as i64;
        let expired: Vec<JobRecord> = sqlx::query_as(&format!(
            "{SELECT_JOB} WHERE finished_at IS NOT NULL AND finished_at < ?"
        ))
        .bind(cutoff)
        .fetch_all(&self.inner.pool)
        .await?;
        for job in &expired {
            for relative in job.output_paths().iter().chain(job.input_paths().iter()) {
                let path = self.inner.config.storage.join(relative);
                if let Err(error) = tokio::fs::remove_file(&path).await {
                    if error.kind() != std::io::ErrorKind::NotFound {
                        tracing::warn!(job = %job.id, path = %path.display(), %error, "could not delete an expired file");
                    }
                }
            }
            let input_dir = self.inner.config.storage.join("inputs").join(&job.id);
            let _ = tokio::fs::remove_dir(&input_dir).await;
            sqlx::query("DELETE FROM jobs WHERE id = ?")
                .bind(&job.id)
                .execute(&self.inner.pool)
                .await?;
        }
        if !expired.is_empty() {
            tracing::info!(
                deleted = expired.len(),
                "retention deleted expired jobs and their files"
            );
        }
        Ok(expired.len())
    }

    async fn retention_loop(&self) {
        loop {
            tokio::select! {
                _ = self.inner.shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.inner.config.retention_interval) => {}
            }
            if let Err(error) = self.sweep_retention().await {
                tracing::error!(%error, "retention sweep failed");
            }
        }
    }

    /// Puts jobs left running by a crash back in the queue once, and fails
    /// those that were already on their second attempt.
    async fn recover(&self) -> Result<(), EngineError> {
        let pool = &self.inner.pool;
        let interrupted: Vec<(String, i64)> = sqlx::query_as("SELECT id, attempts FROM jobs WHERE status = 'running'")
            .fetch_all(pool)
            .await?;
        for (id, attempts) in interrupted {
            if attempts >= 2 {
                let message = format!("interrupted by a server restart on attempt {attempts}; not retried again");
                sqlx::query("UPDATE jobs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?")
                    .bind(now_millis())
                    .bind(&message)
                    .bind(&id)
                    .execute(pool)
                    .await?;
                store::append_log(pool, &id, &format!("Failed: {message}")).await?;
                tracing::warn!(job = %id, attempts, "job interrupted again by a restart; marked failed");
            } else {
                sqlx::query("UPDATE jobs SET status = 'queued', started_at = NULL, progress = 0 WHERE id = ?")
                    .bind(&id)
                    .execute(pool)
                    .await?;
                store::append_log(pool, &id, "Queued again: a server restart interrupted attempt 1").await?;
                tracing::warn!(job = %id, "job interrupted by a restart; queued again");
            }
        }
        Ok(())
    }

    /// Takes waiting jobs of one lane in order and runs them, at most
    /// `concurrency` at once.
    async fn dispatch(self, lane: Arc<Lane>) {
        loop {
            let permit = tokio::select! {
                _ = self.inner.shutdown.cancelled() => return,
                permit = lane.slots.clone().acquire_owned() => permit.expect("lane semaphore is never closed"),
            };
            let job = loop {
                match self.claim_next(&lane.config.name).await {
                    Ok(Some(job)) => break job,
                    Ok(None) => {}
                    Err(error) => {
                        tracing::error!(lane = %lane.config.name, %error, "could not take the next job")
                    }
                }
                tokio::select! {
                    _ = self.inner.shutdown.cancelled() => return,
                    _ = lane.wake.notified() => {}
                    // Also look again now and then, in case a wake-up was lost to an error.
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
            };
            let engine = self.clone();
            let time_limit = lane.config.time_limit;
            let lane_name = lane.config.name.clone();
            self.inner.tasks.spawn(async move {
                engine.run(job, &lane_name, time_limit).await;
                drop(permit);
            });
        }
    }

    /// Marks the next waiting job of a lane as running and registers its token.
    async fn claim_next(&self, lane: &str) -> Result<Option<(JobRecord, CancellationToken)>, EngineError> {
        let pool = &self.inner.pool;
        loop {
            let candidate: Option<String> = sqlx::query_scalar(
                "SELECT id FROM jobs WHERE lane = ? AND status = 'queued' ORDER BY priority DESC, seq LIMIT 1",
            )
            .bind(lane)
            .fetch_optional(pool)
            .await?;
            let Some(id) = candidate else { return Ok(None) };
            let uuid = Uuid::parse_str(&id).unwrap_or_default();

            // The token is registered before the row changes state, so a
            // cancellation that reads the job as running always finds its token.
            let token = self.inner.shutdown.child_token();
            self.inner.running.lock().unwrap().insert(
                uuid,
                RunningJob {
                    token: token.clone(),
                    progress: 0.0,
                    cancel_requested: false,
                },
            );
            let claimed = sqlx::query(
                "UPDATE jobs SET status = 'running', started_at = ?, attempts = attempts + 1, progress = 0 \
                 WHERE id = ? AND status = 'queued'",
            )
            .bind(now_millis())
            .bind(&id)
            .execute(pool)
            .await;
            match claimed {
                Ok(result) if result.rows_affected() == 1 => {
                    let record = store::fetch_job(pool, &id).await?.ok_or(sqlx::Error::RowNotFound)?;
                    return Ok(Some((record, token)));
                }
                Ok(_) => {
                    self.inner.running.lock().unwrap().remove(&uuid);
                }
                Err(error) => {
                    self.inner.running.lock().unwrap().remove(&uuid);
                    return Err(error.into());
                }
            }
        }
    }

    /// Runs one claimed job to its end and records the outcome.
    async fn run(&self, (job, token): (JobRecord, CancellationToken), lane: &str, time_limit: Option<Duration>) {
        let id = job.uuid();
        self.publish_state(&job).await;
        let lane_executor = self.inner.lane_executors.read().unwrap().get(&job.lane).cloned();
        let executor = lane_executor.or_else(|| {
            self.inner
                .executors
                .read()
                .unwrap()
                .get(&(
                    protocol::Domain::parse(&job.domain).unwrap_or(Domain::Images),
                    job.model.clone(),
                ))
                .map(|registration| registration.executor.clone())
        });

        let (updates, receiver) = mpsc::unbounded_channel();
        let writer = tokio::spawn(self.clone().write_updates(id, receiver));
        let _ = updates.send(Update::Log(format!(
            "Started on the {lane} lane, attempt {}",
            job.attempts
        )));

        let result = match executor {
            None => Err(JobError::Failed(format!(
                "no executor is registered for model {} in {} on this server",
                job.model, job.domain
            ))),
            Some(executor) => {
                let request = serde_json::from_str(&job.request).unwrap_or(serde_json::Value::Null);
                let ctx = JobContext {
                    id,
                    domain: job.domain.clone(),
                    model: job.model.clone(),
                    attempt: job.attempts,
                    request,
                    storage: self.inner.config.storage.clone(),
                    token: token.clone(),
                    updates: updates.clone(),
                    external_ref: job.external_ref.clone(),
                    pool: self.inner.pool.clone(),
                };
                run_with_limit(executor, ctx, token.clone(), time_limit).await
            }
        };
        drop(updates);
        let _ = writer.await;

        let cancel_requested = self
            .inner
            .running
            .lock()
            .unwrap()
            .get(&id)
            .is_some_and(|job| job.cancel_requested);
        let shutting_down = self.inner.shutdown.is_cancelled() && !cancel_requested;
        if let Err(error) = self
            .finish(&job, result, cancel_requested, shutting_down, lane, time_limit)
            .await
        {
            tracing::error!(job = %id, %error, "could not record the end of a job");
        }
        self.inner.running.lock().unwrap().remove(&id);
    }

    /// Writes an executor's log lines and progress in the order they were sent.
    async fn write_updates(self, id: Uuid, mut receiver: mpsc::UnboundedReceiver<Update>) {
        let id_text = id.to_string();
        while let Some(update) = receiver.recv().await {
            match update {
                Update::Log(line) => {
                    if let Err(error) = store::append_log(&self.inner.pool, &id_text, &line).await {
                        tracing::error!(job = %id, %error, "could not store a log line");
                    }
                    let _ = self.inner.events.send(JobEvent::Log { id, line });
                }
                Update::Progress(progress) => {
                    if let Some(job) = self.inner.running.lock().unwrap().get_mut(&id) {
                        job.progress = progress;
                    }
                    let _ = self.inner.events.send(JobEvent::Progress { id, progress });
                }
            }
        }
    }

    async fn finish(
        &self,
        job: &JobRecord,
        result: Result<JobOutput, JobError>,
        cancel_requested: bool,
        shutting_down: bool,
        lane: &str,
        time_limit: Option<Duration>,
    ) -> Result<(), EngineError> {
        let pool = &self.inner.pool;
        let id = job.id.as_str();
        let now = now_millis();
        let (state, error, output, log) = match result {
            Ok(output) => (JobState::Done, None, output, "Finished".to_owned()),
            Err(_) if shutting_down => {
                // Not counted as an attempt: the job did not fail, the server stopped.
                sqlx::query("UPDATE jobs SET status = 'queued', started_at = NULL, progress = 0, attempts = attempts - 1 WHERE id = ?")
                    .bind(id)
                    .execute(pool)
                    .await?;
                store::append_log(pool, id, "Queued again: the server shut down while this job ran").await?;
                tracing::info!(job = %id, "job queued again at shutdown");
                return Ok(());
            }
            Err(_) if cancel_requested => (
                JobState::Cancelled,
                None,
                JobOutput::default(),
                "Cancelled while running".to_owned(),
            ),
            Err(JobError::Cancelled) => {
                let message = match time_limit {
                    Some(limit) => format!("job exceeded the {lane} lane's time limit of {} s", limit.as_secs()),
                    None => "job was cancelled".to_owned(),
                };
                (
                    JobState::Failed,
                    Some(message.clone()),
                    JobOutput::default(),
                    format!("Failed: {message}"),
                )
            }
            Err(JobError::Failed(message)) => (
                JobState::Failed,
                Some(message.clone()),
                JobOutput::default(),
                format!("Failed: {message}"),
            ),
        };
        store::append_log(pool, id, &log).await?;
        sqlx::query(
            "UPDATE jobs SET status = ?, finished_at = ?, error = ?, outputs = ?, output_text = ?, \
             progress = CASE WHEN ? = 'done' THEN 1.0 ELSE progress END WHERE id = ?",
        )
        .bind(state.as_str())
        .bind(now)
        .bind(&error)
        .bind(serde_json::to_string(&output.files).unwrap_or_else(|_| "[]".into()))
        .bind(&output.text)
        .bind(state.as_str())
        .bind(id)
        .execute(pool)
        .await?;
        match &error {
            Some(error) => tracing::warn!(job = %id, model = %job.model, %error, "job failed"),
            None => {
                tracing::info!(job = %id, model = %job.model, status = state.as_str(), elapsed_ms = now - job.started_at.unwrap_or(now), "job finished")
            }
        }
        if let Some(record) = store::fetch_job(pool, id).await? {
            self.publish_state(&record).await;
        }
        Ok(())
    }

    async fn publish_state(&self, record: &JobRecord) {
        if self.inner.events.receiver_count() == 0 {
            return;
        }
        let position = self.queue_position(record).await.ok().flatten();
        let _ = self.inner.events.send(JobEvent::State {
            job: Box::new(record.summary(position)),
        });
    }
}

/// Runs an executor in its own task, so that a panic fails the job instead of
/// the lane, and cancels its token when the time limit passes.
async fn run_with_limit(
    executor: Arc<dyn Executor>,
    ctx: JobContext,
    token: CancellationToken,
    time_limit: Option<Duration>,
) -> Result<JobOutput, JobError> {
    let mut task = tokio::spawn(async move { executor.run(ctx).await });
    let joined = match time_limit {
        None => (&mut task).await,
        Some(limit) => match tokio::time::timeout(limit, &mut task).await {
            Ok(joined) => joined,
            Err(_) => {
                token.cancel();
                // Give the executor one step to notice, then drop it.
                match tokio::time::timeout(Duration::from_secs(5), &mut task).await {
                    Ok(_) => {}
                    Err(_) => task.abort(),
                }
                return Err(JobError::Cancelled);
            }
        },
    };
    match joined {
        Ok(result) => result,
        Err(error) if error.is_panic() => {
            let payload = error.into_panic();
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(JobError::Failed(format!("executor panicked: {message}")))
        }
        Err(_) => Err(JobError::Cancelled),
    }
}

async fn instance_id(pool: &SqlitePool) -> Result<String, sqlx::Error> {
    let fresh = Uuid::new_v4().to_string();
    sqlx::query("INSERT OR IGNORE INTO meta (key, value) VALUES ('instance_id', ?)")
        .bind(&fresh)
        .execute(pool)
        .await?;
    sqlx::query_scalar("SELECT value FROM meta WHERE key = 'instance_id'")
        .fetch_one(pool)
        .await
}
