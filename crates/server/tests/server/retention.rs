//! Finished jobs and their files are deleted after the retention period.

use std::time::Duration;

use protocol::{Domain, TaskStatus};
use serde_json::json;

use crate::harness::{base64, png, wait_for, Server, LONG};

#[tokio::test]
async fn expired_jobs_and_files_are_deleted() {
    // 0.00003 days is about 2.6 s.
    let server = Server::start("retention_days = 0.00003\nretention_sweep_seconds = 1\n");
    let body = json!({"model": "dev-local", "prompt": "steps=1", "image": base64(&png(8, 8))});
    let (status, created) = server.post("/api/images", &body).await;
    assert_eq!(status, 200, "{created}");
    let id: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let job = server.wait_finished(Domain::Images, id, LONG).await;
    assert_eq!(job.status, TaskStatus::Success);

    let output = server.data_dir().join(format!("storage/images/dev-local/{id}-0.png"));
    let input = server.data_dir().join(format!("storage/inputs/{id}"));
    assert!(output.is_file());
    assert!(input.is_dir());

    let gone = wait_for(Duration::from_secs(20), || async {
        let missing = server
            .client()
            .get(Domain::Images, id)
            .await
            .err()
            .and_then(|e| e.status())
            == Some(404);
        (missing && !output.exists() && !input.exists()).then_some(())
    })
    .await;
    assert!(
        gone.is_some(),
        "job, output and inputs should be deleted; log:\n{}",
        server.log()
    );
}

#[tokio::test]
async fn unfinished_and_recent_jobs_are_kept() {
    let server = Server::start("retention_sweep_seconds = 1\n");
    let id = server.submit_image("dev-local", "steps=1").await;
    server.wait_finished(Domain::Images, id, LONG).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(server.job(Domain::Images, id).await.status, TaskStatus::Success);
}
