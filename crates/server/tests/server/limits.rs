//! Backlog limit, body size limit and request validation.

use protocol::Domain;
use serde_json::{json, Value};

use crate::harness::{base64, png, Server};

#[tokio::test]
async fn backlog_limit_answers_429() {
    let server = Server::start("backlog_limit = 3\n");
    let blocker = server.submit_image("dev-local", "steps=100 step_ms=100").await;
    let mut accepted = 1;
    let rejection = loop {
        let (status, body) = server
            .post("/api/images", &json!({"model": "dev-local", "prompt": "steps=1"}))
            .await;
        match status {
            200 => accepted += 1,
            429 => break body,
            other => panic!("unexpected {other}: {body}"),
        }
        assert!(accepted < 10, "no 429 after {accepted} jobs");
    };
    let message = rejection["detail"].as_str().unwrap();
    assert!(
        message.contains("3 jobs are waiting") && message.contains("backlog limit of 3"),
        "{message}"
    );
    let system = server.client().system().await.unwrap();
    assert_eq!((system.waiting, system.backlog_limit), (3, 3));

    // Cancelling a waiting job makes room again.
    let waiting = server
        .client()
        .jobs(&client::JobQuery {
            status: Some(protocol::TaskStatus::Pending),
            ..Default::default()
        })
        .await
        .unwrap();
    server
        .client()
        .cancel(Domain::Images, waiting.jobs[0].id)
        .await
        .unwrap();
    let (status, _) = server
        .post("/api/images", &json!({"model": "dev-local", "prompt": "steps=1"}))
        .await;
    assert_eq!(status, 200);
    server.client().cancel(Domain::Images, blocker).await.unwrap();
}

#[tokio::test]
async fn oversized_body_answers_413() {
    let server = Server::start("body_limit_mb = 1\n");
    let body = json!({"model": "dev-local", "image": "A".repeat(2 * 1024 * 1024)});
    let (status, answer) = server.post("/api/images", &body).await;
    assert_eq!(status, 413, "{answer}");
    let message = answer["detail"].as_str().unwrap();
    assert!(message.contains("limit of 1 MiB"), "{answer}");
    assert!(message.contains("body_limit_mb"), "{answer}");
    let jobs = server.client().jobs(&Default::default()).await.unwrap();
    assert_eq!(jobs.total, 0);
}

async fn post_raw(server: &Server, content_type: &str, body: &str) -> (u16, Value) {
    let response = server
        .http()
        .post(server.url("/api/images"))
        .bearer_auth(&server.key)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Returns the location and type of the first error in a 422 response.
fn first_error(status: u16, body: &Value) -> (Value, String) {
    assert_eq!(status, 422, "{body}");
    let error = &body["detail"][0];
    assert!(error["msg"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    (error["loc"].clone(), error["type"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn malformed_bodies_answer_422() {
    let server = Server::start("");
    let cases = [
        ("application/json", "{}", json!(["body", "model"]), "missing"),
        ("application/json", "[]", json!(["body"]), "model_attributes_type"),
        ("application/json", "{\"model\": ", json!(["body", 10]), "json_invalid"),
        (
            "text/plain",
            "{\"model\": \"dev-local\"}",
            json!(["body"]),
            "model_attributes_type",
        ),
        (
            "application/json",
            "{\"model\": \"dev-local\", \"width\": \"wide\"}",
            json!(["body", "width"]),
            "type_error",
        ),
    ];
    for (content_type, body, loc, kind) in cases {
        let (status, answer) = post_raw(&server, content_type, body).await;
        assert_eq!(first_error(status, &answer), (loc, kind.to_owned()), "body {body:?}");
    }
}

#[tokio::test]
async fn invalid_requests_answer_422_naming_field() {
    let server = Server::start("");
    let plate = base64(&png(8, 8));
    let cases = [
        (json!({"model": "sd-9"}), json!(["body", "model"])),
        (json!({"model": "dev-local", "mask": plate}), json!(["body", "mask"])),
        (
            json!({"model": "dev-local", "image": "not base64!"}),
            json!(["body", "image"]),
        ),
        (
            json!({"model": "dev-local", "image": plate, "references": [{"image": "%%%"}]}),
            json!(["body", "references", 0, "image"]),
        ),
        (
            json!({"model": "dev-local", "strength": 1.5}),
            json!(["body", "strength"]),
        ),
    ];
    for (body, loc) in cases {
        let (status, answer) = server.post("/api/images", &body).await;
        assert_eq!(first_error(status, &answer).0, loc, "request {body}");
    }
    let (status, answer) = server
        .post("/api/videos", &json!({"model": "ltx-video", "num_frames": 10}))
        .await;
    let locations: Vec<Value> = answer["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["loc"].clone())
        .collect();
    assert_eq!(status, 422);
    assert!(
        locations.contains(&json!(["body", "model"])) && locations.contains(&json!(["body", "num_frames"])),
        "{answer}"
    );

    // Nothing was queued and no input was left behind.
    assert_eq!(server.client().jobs(&Default::default()).await.unwrap().total, 0);
    let inputs = server.data_dir().join("storage/inputs");
    assert!(!inputs.exists() || std::fs::read_dir(inputs).unwrap().count() == 0);
}

#[tokio::test]
async fn workflow_patches_are_checked() {
    let server = Server::start("");
    let workflow = json!({"1": {"class_type": "PrimitiveInt", "_meta": {"title": "width"}, "inputs": {"value": 1}}});
    let body = json!({"workflow": workflow, "patches": [
        {"title": "width", "class_type": "PrimitiveInt", "value": "wide"},
        {"title": "height", "class_type": "PrimitiveInt", "value": 5},
    ]});
    let (status, answer) = server.post("/api/workflows", &body).await;
    assert_eq!(status, 422);
    let locations: Vec<Value> = answer["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["loc"].clone())
        .collect();
    assert!(locations.contains(&json!(["body", "patches", 0, "value"])), "{answer}");
    assert!(locations.contains(&json!(["body", "patches", 1, "title"])), "{answer}");
}
