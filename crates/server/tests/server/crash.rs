//! A server killed mid-job loses nothing when it starts again.

use std::collections::HashSet;

use protocol::{Domain, TaskStatus};

use crate::harness::{wait_for, Server, LONG};

#[tokio::test]
async fn killed_server_resumes_every_job() {
    let mut server = Server::start("");
    let interrupted = server.submit_image("dev-local", "steps=30 step_ms=100").await;
    let waiting: Vec<_> = [
        server.submit_image("dev-local", "steps=2 step_ms=50").await,
        server.submit_image("dev-local", "steps=2 step_ms=50").await,
        server.submit_image("dev-local", "steps=2 step_ms=50").await,
    ]
    .into();
    wait_for(LONG, || async {
        let job = server.job(Domain::Images, interrupted).await;
        job.logs
            .iter()
            .any(|line| line.starts_with("Inference step 2/"))
            .then_some(())
    })
    .await
    .expect("the first job runs");

    server.kill();
    server.restart();

    let job = server.wait_finished(Domain::Images, interrupted, LONG).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    assert_eq!(job.task_info["retries"], 1);
    assert!(
        job.logs
            .iter()
            .any(|line| line.contains("server restart interrupted attempt 1")),
        "{:?}",
        job.logs
    );
    assert_eq!(job.output_urls().len(), 1);

    let mut starts = Vec::new();
    for id in &waiting {
        let job = server.wait_finished(Domain::Images, *id, LONG).await;
        assert_eq!(job.status, TaskStatus::Success);
        assert_eq!(job.task_info["retries"], 0, "a waiting job runs once");
        starts.push(job.task_info["started"].as_str().unwrap().to_owned());
    }
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted, "waiting jobs kept their order");

    let list = server.client().jobs(&Default::default()).await.unwrap();
    assert_eq!(list.total, 4);
    let ids: HashSet<_> = list.jobs.iter().map(|job| job.id).collect();
    assert_eq!(ids.len(), 4, "no job is duplicated");
}

#[tokio::test]
async fn job_interrupted_twice_fails() {
    let mut server = Server::start("");
    let id = server.submit_image("dev-local", "steps=100 step_ms=100").await;
    for attempt in 1..=2 {
        wait_for(LONG, || async {
            let job = server.job(Domain::Images, id).await;
            (job.status == TaskStatus::Started
                && job.logs.iter().filter(|l| l.starts_with("Started")).count() == attempt)
                .then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("attempt {attempt} starts"));
        server.kill();
        server.restart();
    }
    let job = server.wait_finished(Domain::Images, id, LONG).await;
    assert_eq!(job.status, TaskStatus::Failure);
    assert!(job.error_message.unwrap().contains("interrupted by a server restart"));
}

#[tokio::test]
async fn stopped_server_requeues_running_job() {
    let mut server = Server::start("");
    let id = server.submit_image("dev-local", "steps=40 step_ms=100").await;
    wait_for(LONG, || async {
        (server.job(Domain::Images, id).await.status == TaskStatus::Started).then_some(())
    })
    .await
    .unwrap();

    server.terminate();
    server.restart();
    let job = server.wait_finished(Domain::Images, id, LONG).await;
    assert_eq!(job.status, TaskStatus::Success);
    assert_eq!(
        job.task_info["retries"], 0,
        "a graceful stop does not count as an attempt"
    );
    assert!(
        job.logs.iter().any(|line| line.contains("the server shut down")),
        "{:?}",
        job.logs
    );
}
