//! `HfCache::pull` against a Hugging Face Hub stand-in on 127.0.0.1 that
//! responds like the Hub's `resolve` endpoint: `x-repo-commit`, an ETag that
//! is the SHA-256 of LFS files, and byte ranges with `206 Partial Content`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ddiffusion_hub::cache::CacheError;
use ddiffusion_hub::{Catalog, HfCache};
use sha2::{Digest, Sha256};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// Files by `<repo>/<file>`, with the ETag to announce (the real SHA-256 unless a test lies).
#[derive(Clone, Default)]
struct Hub {
    files: Arc<HashMap<String, (Vec<u8>, String)>>,
    gated: bool,
    requests: Arc<Mutex<usize>>,
}

async fn resolve(State(hub): State<Hub>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    *hub.requests.lock().unwrap() += 1;
    if hub.gated {
        return (StatusCode::UNAUTHORIZED, "Access to this model is restricted").into_response();
    }
    // Paths look like `org/name/resolve/main/unet/w.safetensors`.
    let parts: Vec<&str> = path.splitn(5, '/').collect();
    let [org, name, "resolve", _revision, file] = parts.as_slice() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some((bytes, etag)) = hub.files.get(&format!("{org}/{name}/{file}")) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let range = headers
        .get("range")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("bytes="));
    let (start, end) = match range.and_then(|range| range.split_once('-')) {
        Some((start, end)) => {
            let start: usize = start.parse().unwrap_or(0);
            let end: usize = end.parse().unwrap_or(bytes.len() - 1).min(bytes.len() - 1);
            (start, end)
        }
        None => (0, bytes.len() - 1),
    };
    let headers = [
        ("x-repo-commit", COMMIT.to_owned()),
        ("etag", format!("\"{etag}\"")),
        ("content-range", format!("bytes {start}-{end}/{}", bytes.len())),
    ];
    (
        StatusCode::PARTIAL_CONTENT,
        headers.map(|(k, v)| (k, v)),
        bytes[start..=end].to_vec(),
    )
        .into_response()
}

async fn serve(hub: Hub) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/{*path}", axum::routing::get(resolve))
        .with_state(hub);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

fn sha256(bytes: &[u8]) -> String {
    hex_string(&Sha256::digest(bytes))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn entry() -> ddiffusion_hub::ModelEntry {
    let text = r#"
        [[model]]
        name = "tiny"
        domain = "images"
        provider = "local"
        repo = "org/tiny"
        files = { unet = { file = "unet/w.safetensors" }, config = { file = "unet/config.json" } }
    "#;
    Catalog::parse(text, "test").unwrap().get("tiny").unwrap().clone()
}

fn hub_with(weights: Vec<u8>, announced_etag: Option<String>) -> Hub {
    let etag = announced_etag.unwrap_or_else(|| sha256(&weights));
    let config = br#"{"in_channels": 4}"#.to_vec();
    let files = HashMap::from([
        ("org/tiny/unet/w.safetensors".to_owned(), (weights, etag)),
        // Small files kept in Git have a Git object id as ETag, not a SHA-256.
        ("org/tiny/unet/config.json".to_owned(), (config, "3f2a9c".to_owned())),
    ]);
    Hub {
        files: Arc::new(files),
        ..Default::default()
    }
}

#[tokio::test]
async fn pull_writes_huggingface_layout() {
    let weights: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let endpoint = serve(hub_with(weights.clone(), None)).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = HfCache::new(dir.path()).with_endpoint(endpoint);
    let entry = entry();

    let reported = Arc::new(Mutex::new(Vec::new()));
    let sink = reported.clone();
    cache
        .pull(&entry, move |file, done, total| {
            sink.lock().unwrap().push((file.to_owned(), done, total))
        })
        .await
        .unwrap();

    assert!(cache.is_installed(&entry));
    let files = cache.model_files(&entry).unwrap();
    assert_eq!(std::fs::read(&files.files["unet"]).unwrap(), weights);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("models--org--tiny/refs/main"))
            .unwrap()
            .trim(),
        COMMIT
    );
    assert!(
        dir.path()
            .join("models--org--tiny/blobs")
            .join(sha256(&weights))
            .is_file(),
        "blobs are named by their ETag"
    );
    let reported = reported.lock().unwrap();
    assert!(reported
        .iter()
        .any(|(file, done, total)| file == "unet/w.safetensors" && *done == 300_000 && *total == 300_000));
}

#[tokio::test]
async fn pull_rejects_corrupt_download() {
    let weights = vec![7u8; 4096];
    let wrong = sha256(b"other content");
    let endpoint = serve(hub_with(weights, Some(wrong.clone()))).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = HfCache::new(dir.path()).with_endpoint(endpoint);

    let error = cache.pull(&entry(), |_, _, _| {}).await.unwrap_err();
    assert!(matches!(error, CacheError::Checksum { .. }), "{error}");
    assert!(error.to_string().contains(&wrong), "{error}");
    assert!(
        !dir.path().join("models--org--tiny/blobs").join(&wrong).exists(),
        "the corrupt blob is deleted"
    );
    assert!(!cache.is_installed(&entry()));
}

#[tokio::test]
async fn pull_explains_gated_repository() {
    let mut hub = hub_with(vec![1u8; 16], None);
    hub.gated = true;
    let endpoint = serve(hub).await;
    let dir = tempfile::tempdir().unwrap();
    let error = HfCache::new(dir.path())
        .with_endpoint(endpoint)
        .pull(&entry(), |_, _, _| {})
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("org/tiny is gated") && message.contains("HF_TOKEN"),
        "{message}"
    );
}

#[tokio::test]
async fn pull_skips_installed_model() {
    let hub = hub_with(vec![3u8; 1024], None);
    let requests = hub.requests.clone();
    let endpoint = serve(hub).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = HfCache::new(dir.path()).with_endpoint(endpoint);
    cache.pull(&entry(), |_, _, _| {}).await.unwrap();
    let after_first = *requests.lock().unwrap();
    cache.pull(&entry(), |_, _, _| {}).await.unwrap();
    assert_eq!(*requests.lock().unwrap(), after_first, "nothing is downloaded twice");
}
