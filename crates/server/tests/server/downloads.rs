//! Model downloads from a Hugging Face Hub stand-in on 127.0.0.1: through
//! `POST /api/models/{name}/pull` and by a job whose model is missing.
//!
//! The stand-in serves the files of a cache written by `ddiffusion dev
//! fixtures`, responding like the Hub's `resolve` endpoint: `x-repo-commit`,
//! the SHA-256 as ETag, and byte ranges with `206 Partial Content`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use protocol::{Domain, TaskStatus};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::harness::{binary, Server};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// Serves `GET /{org}/{name}/resolve/{revision}/{file}` from the snapshots of `source`.
async fn resolve(State(source): State<PathBuf>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    let parts: Vec<&str> = path.splitn(5, '/').collect();
    let [org, name, "resolve", _revision, file] = parts.as_slice() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let snapshot = source
        .join(format!("hub/models--{org}--{name}/snapshots"))
        .join(images::fixtures::FIXTURE_COMMIT);
    let Ok(bytes) = std::fs::read(snapshot.join(file)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag: String = Sha256::digest(&bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let last = bytes.len() - 1;
    let (start, end) = headers
        .get("range")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("bytes="))
        .and_then(|range| range.split_once('-'))
        .map(|(start, end)| (start.parse().unwrap_or(0), end.parse().unwrap_or(last).min(last)))
        .unwrap_or((0, last));
    let headers = [
        ("x-repo-commit", COMMIT.to_owned()),
        ("etag", format!("\"{etag}\"")),
        ("content-range", format!("bytes {start}-{end}/{}", bytes.len())),
    ];
    (StatusCode::PARTIAL_CONTENT, headers, bytes[start..=end].to_vec()).into_response()
}

/// Writes the `sd-1.5` fixture into a source cache and serves it; returns
/// the source folder (kept alive by the caller) and the stand-in's URL.
async fn hub_with_sd15() -> (tempfile::TempDir, String) {
    let source = tempfile::tempdir().unwrap();
    let status = Command::new(binary())
        .args(["dev", "fixtures", "sd-1.5"])
        .env("HF_HOME", source.path())
        .env_remove("HF_HUB_CACHE")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/{*path}", axum::routing::get(resolve))
        .with_state(source.path().to_owned());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (source, format!("http://{address}"))
}

/// Starts a server with an empty cache that downloads from `endpoint`.
fn server(endpoint: &str, config: &str) -> (tempfile::TempDir, Server) {
    let hf_home = tempfile::tempdir().unwrap();
    let home = hf_home.path().to_str().unwrap().to_owned();
    let server = Server::start_with_env(
        config,
        &[("HF_HOME", &home), ("HF_ENDPOINT", endpoint), ("HF_HUB_OFFLINE", "0")],
    );
    (hf_home, server)
}

#[tokio::test]
async fn pull_endpoint_downloads_with_events() {
    let (_source, endpoint) = hub_with_sd15().await;
    let (_hf, server) = server(&endpoint, "");

    let (status, answer) = server.get("/api/models/sd-1.5/pull").await;
    assert_eq!(status, 404, "{answer}");
    let (status, answer) = server.post("/api/models/no-such-model/pull", &json!({})).await;
    assert_eq!(status, 404, "{answer}");

    let events = server
        .http()
        .get(server.url("/api/models/events"))
        .bearer_auth(&server.key)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let (status, answer) = server.post("/api/models/sd-1.5/pull", &json!({})).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["status"], "downloading");

    // The stream reports progress and ends with the finished download.
    let mut body = events.bytes_stream();
    let mut text = String::new();
    let finished = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(chunk) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if text.contains("\"status\":\"done\"") || text.contains("\"status\":\"failed\"") {
                return;
            }
        }
    })
    .await;
    assert!(finished.is_ok(), "no final event: {text}");
    assert!(text.contains("event: pull"), "{text}");
    assert!(text.contains("unet/diffusion_pytorch_model.safetensors"), "{text}");
    assert!(text.contains("\"status\":\"done\""), "{text}");

    let (status, state) = server.get("/api/models/sd-1.5/pull").await;
    assert_eq!(status, 200);
    assert_eq!(state["status"], "done", "{state}");
    let (status, again) = server.post("/api/models/sd-1.5/pull", &json!({})).await;
    assert_eq!(status, 200, "a downloaded model is not downloaded again: {again}");

    let request = json!({"model": "sd-1.5", "prompt": "a kite", "width": 16, "height": 16, "steps": 1});
    let (_, created) = server.post("/api/images", &request).await;
    let id = created["id"].as_str().unwrap().parse().unwrap();
    let job = server.wait_finished(Domain::Images, id, Duration::from_secs(120)).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    assert!(
        !job.logs.iter().any(|line| line.starts_with("Downloading")),
        "{:?}",
        job.logs
    );
}

#[tokio::test]
async fn job_downloads_missing_model_first() {
    let (_source, endpoint) = hub_with_sd15().await;
    let (_hf, server) = server(&endpoint, "");
    let request = json!({"model": "sd-1.5", "prompt": "a kite", "width": 16, "height": 16, "steps": 1});
    let (_, created) = server.post("/api/images", &request).await;
    let id = created["id"].as_str().unwrap().parse().unwrap();
    let job = server.wait_finished(Domain::Images, id, Duration::from_secs(120)).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    for expected in [
        "Downloading sd-1.5 from the Hugging Face Hub ...",
        "Downloaded sd-1.5",
        "Loading pipeline sd-1.5 ...",
    ] {
        assert!(
            job.logs.iter().any(|line| line == expected),
            "missing {expected:?} in {:?}",
            job.logs
        );
    }
    assert!(
        job.logs
            .iter()
            .any(|line| line.starts_with("Downloading unet/diffusion_pytorch_model.safetensors: 100%")),
        "{:?}",
        job.logs
    );
}

#[tokio::test]
async fn auto_download_off_fails_with_pull_command() {
    let (_source, endpoint) = hub_with_sd15().await;
    let (_hf, server) = server(&endpoint, "auto_download = false\n");
    let request = json!({"model": "sd-1.5", "prompt": "a kite", "width": 16, "height": 16, "steps": 1});
    let (status, answer) = server.post("/api/images", &request).await;
    assert_eq!(status, 422, "{answer}");
    let message = answer["detail"][0]["msg"].as_str().unwrap_or_default();
    assert!(message.contains("run `ddiffusion models pull sd-1.5`"), "{message}");
    assert!(message.contains("auto_download is off"), "{message}");
}
