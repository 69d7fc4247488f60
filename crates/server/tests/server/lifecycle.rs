//! A job from submission to its outputs, and to its failure.

use protocol::{Domain, TaskStatus};
use serde_json::json;

use crate::harness::{wait_for, Server, LONG};

#[tokio::test]
async fn image_job_runs_to_signed_outputs() {
    let server = Server::start("");
    let id = server.submit_image("dev-local", "steps=6 step_ms=150").await;

    let running = wait_for(LONG, || async {
        let job = server.job(Domain::Images, id).await;
        (job.status == TaskStatus::Started && job.logs.iter().any(|l| l.starts_with("Inference step"))).then_some(job)
    })
    .await
    .expect("job reports STARTED with step logs");
    assert!(running.output_urls().is_empty());
    assert!(running.task_info["progress"].as_f64().unwrap() > 0.0);

    let done = server.wait_finished(Domain::Images, id, LONG).await;
    assert_eq!(done.status, TaskStatus::Success, "{done:?}");
    assert_eq!(done.error_message, None);
    assert!(
        done.logs.contains(&"Inference step 6/6 (100%)".to_owned()),
        "{:?}",
        done.logs
    );
    let urls = done.output_urls();
    assert_eq!(urls.len(), 1);
    assert!(
        urls[0].contains(&format!("/api/files/images/dev-local/{id}-0.png?expires=")),
        "{}",
        urls[0]
    );

    // The signature is the credential: no API key is sent.
    let bytes = reqwest::get(&urls[0]).await.unwrap().bytes().await.unwrap();
    let image = image::load_from_memory(&bytes).expect("output is an image");
    assert_eq!((image.width(), image.height()), (16, 8));
}

#[tokio::test]
async fn waiting_job_reports_queue_position() {
    let server = Server::start("");
    let first = server.submit_image("dev-local", "steps=40 step_ms=100").await;
    let second = server.submit_image("dev-local", "steps=1").await;
    let third = server.submit_image("dev-local", "steps=1").await;

    let job = server.job(Domain::Images, third).await;
    assert_eq!(job.status, TaskStatus::Pending);
    assert_eq!(
        job.logs.last().map(String::as_str),
        Some("Queue local position: 2 / 2"),
        "{:?}",
        job.logs
    );
    let job = server.job(Domain::Images, second).await;
    assert_eq!(job.logs.last().map(String::as_str), Some("Queue local position: 1 / 2"));
    server.client().cancel(Domain::Images, first).await.unwrap();
}

#[tokio::test]
async fn failing_job_reports_error() {
    let server = Server::start("");
    let id = server
        .submit_image("dev-local", "steps=1 fail=out_of_memory_on_step_1")
        .await;
    let job = server.wait_finished(Domain::Images, id, LONG).await;
    assert_eq!(job.status, TaskStatus::Failure);
    assert_eq!(
        job.error_message.as_deref(),
        Some("Task failed with error: out of memory on step 1")
    );
    assert!(job.output_urls().is_empty());
}

#[tokio::test]
async fn panicking_executor_fails_only_its_job() {
    let server = Server::start("");
    let crashing = server.submit_image("dev-local", "steps=1 panic").await;
    let next = server.submit_image("dev-local", "steps=1").await;
    let job = server.wait_finished(Domain::Images, crashing, LONG).await;
    assert_eq!(job.status, TaskStatus::Failure);
    assert!(job.error_message.unwrap().contains("executor panicked"));
    assert_eq!(
        server.wait_finished(Domain::Images, next, LONG).await.status,
        TaskStatus::Success
    );
}

#[tokio::test]
async fn text_job_returns_text_output() {
    let server = Server::start("");
    let (status, body) = server
        .post(
            "/api/texts",
            &json!({"model": "dev-local", "prompt": "describe steps=1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap().parse().unwrap();
    let job = server.wait_finished(Domain::Texts, id, LONG).await;
    assert_eq!(job.status, TaskStatus::Success);
    assert_eq!(job.output_text(), Some("describe steps=1 (0 images)"));
}

#[tokio::test]
async fn input_images_are_stored_as_files() {
    let server = Server::start("");
    let plate = crate::harness::png(24, 16);
    let encoded = crate::harness::base64(&plate);
    let body = json!({"model": "dev-local", "prompt": "steps=1", "image": encoded, "mask": encoded, "references": [{"image": encoded}]});
    let (status, created) = server.post("/api/images", &body).await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap();
    let folder = server.data_dir().join("storage/inputs").join(id);
    for name in ["image.png", "mask.png", "references-0-image.png"] {
        assert_eq!(std::fs::read(folder.join(name)).unwrap(), plate, "{name}");
    }
    let database = std::fs::read(server.data_dir().join("ddiffusion.db")).unwrap();
    let needle = &encoded.as_bytes()[..64];
    assert!(
        !database.windows(needle.len()).any(|w| w == needle),
        "the job row must hold paths, not base64"
    );
}

#[tokio::test]
async fn identity_headers_are_recorded() {
    let server = Server::start("");
    let response = server
        .http()
        .post(server.url("/api/images"))
        .bearer_auth(&server.key)
        .header("x-user-id", "comp-artist")
        .header("x-machine-id", "ws-042")
        .json(&json!({"model": "dev-local", "prompt": "steps=1"}))
        .send()
        .await
        .unwrap();
    let id: uuid::Uuid = response.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let job = server.wait_finished(Domain::Images, id, LONG).await;
    assert_eq!(job.task_info["user_id"], "comp-artist");
    assert_eq!(job.task_info["machine_id"], "ws-042");
    assert_eq!(job.task_info["key_name"], "test key");

    let list = server.client().jobs(&Default::default()).await.unwrap();
    assert_eq!(list.jobs[0].id, id);
    assert_eq!(list.jobs[0].user_id, "comp-artist");
    assert_eq!(list.jobs[0].machine_id, "ws-042");
}
