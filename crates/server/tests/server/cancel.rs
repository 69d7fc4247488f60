//! Cancellation of waiting, running, finished and unknown jobs.

use std::time::{Duration, Instant};

use protocol::{Domain, TaskStatus};

use crate::harness::{wait_for, Server, LONG};

#[tokio::test]
async fn waiting_job_is_revoked_at_once() {
    let server = Server::start("");
    let client = server.client();
    let running = server.submit_image("dev-local", "steps=40 step_ms=100").await;
    let waiting = server.submit_image("dev-local", "steps=1").await;

    let answer = client.cancel(Domain::Images, waiting).await.unwrap();
    assert_eq!(answer.status, TaskStatus::Revoked);
    assert_eq!(answer.message, "Task cancellation requested");
    assert_eq!(server.job(Domain::Images, waiting).await.status, TaskStatus::Revoked);

    let again = client.cancel(Domain::Images, waiting).await.unwrap();
    assert_eq!(
        (again.status, again.message.as_str()),
        (TaskStatus::Revoked, "Task already completed")
    );
    client.cancel(Domain::Images, running).await.unwrap();
}

#[tokio::test]
async fn running_job_stops_within_one_step() {
    let server = Server::start("");
    let id = server.submit_image("dev-local", "steps=100 step_ms=200").await;
    wait_for(LONG, || async {
        (server.job(Domain::Images, id).await.status == TaskStatus::Started).then_some(())
    })
    .await
    .expect("job starts");

    let cancelled_at = Instant::now();
    let answer = server.client().cancel(Domain::Images, id).await.unwrap();
    assert_eq!(answer.status, TaskStatus::Revoked);
    let job = server.wait_finished(Domain::Images, id, Duration::from_secs(5)).await;
    assert_eq!(job.status, TaskStatus::Revoked);
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(2),
        "took {:?}",
        cancelled_at.elapsed()
    );
    assert!(job.output_urls().is_empty());
}

#[tokio::test]
async fn finished_job_answers_already_completed() {
    let server = Server::start("");
    let id = server.submit_image("dev-local", "steps=1").await;
    server.wait_finished(Domain::Images, id, LONG).await;
    let answer = server.client().cancel(Domain::Images, id).await.unwrap();
    assert_eq!(answer.status, TaskStatus::Success);
    assert_eq!(answer.message, "Task already completed");
    assert_eq!(server.job(Domain::Images, id).await.output_urls().len(), 1);
}

#[tokio::test]
async fn unknown_or_malformed_id_is_rejected() {
    let server = Server::start("");
    let client = server.client();
    let error = client.cancel(Domain::Images, uuid::Uuid::new_v4()).await.unwrap_err();
    assert_eq!(error.status(), Some(404), "{error}");
    let error = client.get(Domain::Videos, uuid::Uuid::new_v4()).await.unwrap_err();
    assert_eq!(error.status(), Some(404), "{error}");

    // A job is only found under its own domain.
    let id = server.submit_image("dev-local", "steps=1").await;
    assert_eq!(client.get(Domain::Texts, id).await.unwrap_err().status(), Some(404));

    let (status, body) = server.get("/api/images/not-a-uuid").await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["loc"], serde_json::json!(["path", "id"]));
}

#[tokio::test]
async fn cancelling_one_job_leaves_the_others_intact() {
    let server = Server::start("");
    let client = server.client();
    let running = server.submit_image("dev-local", "steps=10 step_ms=100").await;
    let first = server.submit_image("dev-local", "steps=2").await;
    let second = server.submit_image("dev-local", "steps=2").await;
    let third = server.submit_image("dev-local", "steps=2").await;

    client.cancel(Domain::Images, third).await.unwrap();
    for id in [running, first, second] {
        assert_ne!(server.job(Domain::Images, id).await.status, TaskStatus::Revoked);
    }
    client.cancel(Domain::Images, first).await.unwrap();
    assert_eq!(server.job(Domain::Images, second).await.status, TaskStatus::Pending);

    for id in [running, second] {
        let job = server.wait_finished(Domain::Images, id, LONG).await;
        assert_eq!(job.status, TaskStatus::Success, "{job:?}");
        let response = reqwest::get(&job.output_urls()[0]).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    for id in [first, third] {
        let job = server.job(Domain::Images, id).await;
        assert_eq!(job.status, TaskStatus::Revoked);
        assert!(job.output_urls().is_empty());
    }
    let storage = server.data_dir().join("storage/images/dev-local");
    assert_eq!(
        std::fs::read_dir(storage).unwrap().count(),
        2,
        "only the two finished jobs wrote outputs"
    );
}
