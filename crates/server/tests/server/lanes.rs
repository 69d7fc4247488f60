//! Lane concurrency and time limits.

use std::time::Duration;

use protocol::{Domain, TaskStatus};

use crate::harness::{Server, LONG};

/// Started and finished times of a finished job, as RFC 3339 strings (which sort by time).
async fn interval(server: &Server, id: uuid::Uuid) -> (String, String) {
    let job = server.wait_finished(Domain::Images, id, LONG).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    let text = |key: &str| job.task_info[key].as_str().unwrap().to_owned();
    (text("started"), text("succeeded"))
}

#[tokio::test]
async fn local_jobs_never_overlap() {
    let server = Server::start("");
    let ids = [
        server.submit_image("dev-local", "steps=3 step_ms=100").await,
        server.submit_image("dev-local", "steps=3 step_ms=100").await,
        server.submit_image("dev-local", "steps=3 step_ms=100").await,
    ];
    let mut intervals = Vec::new();
    for id in ids {
        intervals.push(interval(&server, id).await);
    }
    for pair in intervals.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "a local job started at {} before the previous one finished at {}",
            pair[1].0,
            pair[0].1
        );
    }
}

#[tokio::test]
async fn external_jobs_run_together() {
    let server = Server::start("");
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(server.submit_image("dev-external", "steps=10 step_ms=100").await);
    }
    let mut intervals = Vec::new();
    for id in ids {
        intervals.push(interval(&server, id).await);
    }
    let last_start = intervals.iter().map(|i| i.0.clone()).max().unwrap();
    let first_end = intervals.iter().map(|i| i.1.clone()).min().unwrap();
    assert!(
        last_start < first_end,
        "the four external jobs did not all run at once: {intervals:?}"
    );
}

#[tokio::test]
async fn job_past_time_limit_fails() {
    let server = Server::start("external_time_limit_seconds = 1\n");
    let id = server.submit_image("dev-external", "steps=100 step_ms=100").await;
    let job = server.wait_finished(Domain::Images, id, Duration::from_secs(20)).await;
    assert_eq!(job.status, TaskStatus::Failure);
    let message = job.error_message.unwrap();
    assert!(message.contains("external lane's time limit of 1 s"), "{message}");

    let system = server.client().system().await.unwrap();
    let external = system.lanes.iter().find(|lane| lane.name == "external").unwrap();
    assert_eq!(
        (external.concurrency, external.running, external.time_limit_seconds),
        (4, 0, Some(1))
    );
}
