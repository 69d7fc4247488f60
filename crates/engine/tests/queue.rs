//! Engine tests on a real SQLite file, with executors defined here.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ddiffusion_engine::{
    Engine, EngineConfig, Executor, ExecutorFuture, Identity, JobContext, JobError, JobOutput, JobState, NewJob,
};
use protocol::Domain;
use uuid::Uuid;

/// Records the order in which jobs start; each job waits for `release`.
struct Recorder {
    started: Arc<Mutex<Vec<String>>>,
    release: Arc<tokio::sync::Notify>,
}

impl Executor for Recorder {
    fn run(&self, ctx: JobContext) -> ExecutorFuture<'_> {
        Box::pin(async move {
            let label = ctx.request_json()["label"].as_str().unwrap_or_default().to_owned();
            self.started.lock().unwrap().push(label.clone());
            if label == "blocker" {
                self.release.notified().await;
            }
            ctx.check_cancelled()?;
            let path = ctx.write_output(0, "txt", label.as_bytes()).await?;
            Ok(JobOutput {
                files: vec![path],
                text: None,
            })
        })
    }
}

fn job(label: &str, priority: i64) -> NewJob {
    NewJob {
        id: Uuid::new_v4(),
        domain: Domain::Texts,
        model: "recorder".into(),
        request: serde_json::json!({ "label": label }),
        inputs: Vec::new(),
        priority,
        identity: Identity::default(),
        lane: None,
        external_ref: None,
        idempotency_key: None,
    }
}

async fn wait_state(engine: &Engine, id: Uuid, state: JobState) {
    for _ in 0..400 {
        if engine.job(id).await.unwrap().unwrap().state() == state {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("job {id} never reached {state:?}");
}

#[tokio::test]
async fn lane_runs_by_priority_then_submission_order() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    let started = Arc::new(Mutex::new(Vec::new()));
    let release = Arc::new(tokio::sync::Notify::new());
    engine.register(
        Domain::Texts,
        "recorder",
        "local",
        Arc::new(Recorder {
            started: started.clone(),
            release: release.clone(),
        }),
    );
    engine.start().await.unwrap();

    let blocker = engine.submit(job("blocker", 0)).await.unwrap().uuid();
    wait_state(&engine, blocker, JobState::Running).await;
    let mut ids = Vec::new();
    for (label, priority) in [("low-a", 0), ("high", 5), ("low-b", 0), ("urgent", 9)] {
        ids.push(engine.submit(job(label, priority)).await.unwrap().uuid());
    }
    let positions: Vec<i64> = {
        let mut positions = Vec::new();
        for id in &ids {
            let record = engine.job(*id).await.unwrap().unwrap();
            positions.push(engine.queue_position(&record).await.unwrap().unwrap().position);
        }
        positions
    };
    assert_eq!(positions, vec![3, 2, 4, 1]);

    release.notify_one();
    for id in &ids {
        wait_state(&engine, *id, JobState::Done).await;
    }
    assert_eq!(
        *started.lock().unwrap(),
        vec!["blocker", "urgent", "high", "low-a", "low-b"]
    );
    let output = engine.job(ids[1]).await.unwrap().unwrap().output_paths();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("storage").join(&output[0])).unwrap(),
        "high"
    );
    engine.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn unknown_model_is_rejected_and_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    let error = engine.submit(job("x", 0)).await.unwrap_err();
    assert!(
        error.to_string().contains("model recorder is not available for texts"),
        "{error}"
    );
    assert_eq!(engine.list(None, None, 0, 10).await.unwrap().total, 0);
}

struct Failing;

impl Executor for Failing {
    fn run(&self, _ctx: JobContext) -> ExecutorFuture<'_> {
        Box::pin(async { Err(JobError::failed("weights are corrupt")) })
    }
}

#[tokio::test]
async fn failure_is_recorded_with_message_and_event() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    engine.register(Domain::Texts, "recorder", "external", Arc::new(Failing));
    let mut events = engine.subscribe();
    engine.start().await.unwrap();
    let id = engine.submit(job("x", 0)).await.unwrap().uuid();
    wait_state(&engine, id, JobState::Failed).await;
    let record = engine.job(id).await.unwrap().unwrap();
    assert_eq!(record.error.as_deref(), Some("weights are corrupt"));
    assert!(engine
        .logs(id)
        .await
        .unwrap()
        .contains(&"Failed: weights are corrupt".to_owned()));

    let mut saw_failure = false;
    while let Ok(event) = events.try_recv() {
        if let protocol::JobEvent::State { job } = event {
            saw_failure |= job.status == protocol::TaskStatus::Failure;
        }
    }
    assert!(saw_failure, "a FAILURE state event is published");
}

/// Writes the job's model and external reference into its output text.
struct EchoReference;

impl Executor for EchoReference {
    fn run(&self, ctx: JobContext) -> ExecutorFuture<'_> {
        Box::pin(async move {
            Ok(JobOutput {
                files: Vec::new(),
                text: Some(format!("{} {}", ctx.model, ctx.external_ref().unwrap_or("none"))),
            })
        })
    }
}

#[tokio::test]
async fn lane_executor_runs_jobs_sent_to_its_lane() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path());
    config.lanes.push(ddiffusion_engine::LaneConfig {
        name: "remote".into(),
        concurrency: 2,
        time_limit: None,
    });
    let engine = Engine::open(config).await.unwrap();
    engine.register_lane_executor("remote", Arc::new(EchoReference));
    engine.start().await.unwrap();

    let mut forwarded = job("x", 0);
    forwarded.lane = Some("remote".into());
    forwarded.external_ref = Some("remote:gpu-box".into());
    forwarded.idempotency_key = Some("forward-1".into());
    let first = engine.submit(forwarded.clone()).await.unwrap();
    assert_eq!(first.lane, "remote");

    // A retried submission with the same key finds the first job.
    let mut again = forwarded.clone();
    again.id = Uuid::new_v4();
    let second = engine.submit(again).await.unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(engine.list(None, None, 0, 10).await.unwrap().total, 1);

    wait_state(&engine, forwarded.id, JobState::Done).await;
    let done = engine.job(forwarded.id).await.unwrap().unwrap();
    assert_eq!(done.output_text.as_deref(), Some("recorder remote:gpu-box"));

    let mut unknown = job("y", 0);
    unknown.lane = Some("nowhere".into());
    assert!(engine
        .submit(unknown)
        .await
        .unwrap_err()
        .to_string()
        .contains("lane nowhere"));
}

#[cfg(unix)]
#[tokio::test]
async fn database_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig::new(dir.path());
    let database = config.database.clone();
    let _engine = Engine::open(config).await.unwrap();
    let mode = std::fs::metadata(&database).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}
