//! Many clients at once.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use protocol::{Domain, TaskStatus};
use serde_json::json;

use crate::harness::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_concurrent_submissions_are_all_accounted_for() {
    let server = Arc::new(Server::start("backlog_limit = 2000\nexternal_concurrency = 8\n"));
    let http = reqwest::Client::new();

    let mut posts = Vec::new();
    for index in 0..1000 {
        let (server, http) = (server.clone(), http.clone());
        posts.push(tokio::spawn(async move {
            let body = json!({"model": "dev-external", "prompt": "steps=1 step_ms=0", "seed": index});
            let response = http
                .post(server.url("/api/images"))
                .bearer_auth(&server.key)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "POST {index}");
            let created: protocol::CreatedJob = response.json().await.unwrap();
            // Poll the new job once at once, concurrently with the other POSTs.
            let poll = http
                .get(server.url(&format!("/api/images/{}", created.id)))
                .bearer_auth(&server.key)
                .send()
                .await
                .unwrap();
            assert!(!poll.status().is_server_error(), "poll answered {}", poll.status());
            created.id
        }));
    }
    let mut ids = HashSet::new();
    for post in posts {
        ids.insert(post.await.unwrap());
    }
    assert_eq!(ids.len(), 1000);

    let client = server.client();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let done = client
            .jobs(&client::JobQuery {
                status: Some(TaskStatus::Success),
                limit: Some(1),
                ..Default::default()
            })
            .await
            .unwrap();
        if done.total == 1000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of 1000 jobs succeeded",
            done.total
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let mut listed = HashSet::new();
    for offset in (0..1000).step_by(500) {
        let page = client
            .jobs(&client::JobQuery {
                offset: Some(offset),
                limit: Some(500),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.total, 1000);
        listed.extend(page.jobs.iter().map(|job| job.id));
    }
    assert_eq!(listed, ids, "every job is listed exactly once");
    let sample = *ids.iter().next().unwrap();
    assert_eq!(server.job(Domain::Images, sample).await.output_urls().len(), 1);
}
