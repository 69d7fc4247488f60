//! The server-sent event stream.

use std::time::Duration;

use futures_util::StreamExt;
use protocol::{JobEvent, TaskStatus};

use crate::harness::Server;

#[tokio::test]
async fn event_stream_follows_a_job() {
    let server = Server::start("");
    let client = server.client();
    let id = server.submit_image("dev-local", "steps=3 step_ms=100").await;
    let stream = client.events(Some(id)).await.unwrap();
    let events: Vec<JobEvent> = tokio::time::timeout(
        Duration::from_secs(30),
        stream
            .map(Result::unwrap)
            .take_while(|event| {
                let done = matches!(event, JobEvent::State { job } if job.status == TaskStatus::Success);
                std::future::ready(!done)
            })
            .collect(),
    )
    .await
    .expect("stream reaches SUCCESS");

    assert!(
        matches!(&events[0], JobEvent::State { job } if job.id == id),
        "first event is the current state: {:?}",
        events[0]
    );
    assert!(events.iter().all(|event| event.job_id() == id));
    let logs: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            JobEvent::Log { line, .. } => Some(line.as_str()),
            _ => None,
        })
        .collect();
    assert!(logs.contains(&"Inference step 3/3 (100%)"), "{logs:?}");
    assert!(events
        .iter()
        .any(|e| matches!(e, JobEvent::Progress { progress, .. } if *progress > 0.9)));
}

#[tokio::test]
async fn event_stream_starts_with_active_jobs() {
    let server = Server::start("");
    let running = server.submit_image("dev-local", "steps=50 step_ms=100").await;
    let waiting = server.submit_image("dev-local", "steps=1").await;
    let mut stream = Box::pin(server.client().events(None).await.unwrap());
    let mut seen = Vec::new();
    for _ in 0..2 {
        match tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            JobEvent::State { job } => seen.push(job.id),
            other => panic!("expected the snapshot first, got {other:?}"),
        }
    }
    seen.sort();
    let mut expected = vec![running, waiting];
    expected.sort();
    assert_eq!(seen, expected);
    assert_eq!(
        server
            .client()
            .events(Some(uuid::Uuid::new_v4()))
            .await
            .err()
            .and_then(|e| e.status()),
        Some(404)
    );
}
