//! Jobs forwarded to a remote server profile: two real server processes on
//! 127.0.0.1, a "local" one that artists' tools talk to and a "remote" one
//! that runs the work.

use std::process::Command;
use std::time::Duration;

use protocol::{Domain, TaskStatus};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::{binary, run_cli, wait_for, Server};

const SLOW: Duration = Duration::from_secs(90);

/// Starts a server whose Hugging Face cache has the tiny `sd-xl`, offline.
fn remote_with_sd_xl() -> (tempfile::TempDir, Server) {
    let hf_home = tempfile::tempdir().unwrap();
    let status = Command::new(binary())
        .args(["dev", "fixtures", "sd-xl"])
        .env("HF_HOME", hf_home.path())
        .env_remove("HF_HUB_CACHE")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let home = hf_home.path().to_str().unwrap().to_owned();
    let server = Server::start_with_env("", &[("HF_HOME", &home), ("HF_HUB_OFFLINE", "1")]);
    (hf_home, server)
}

/// Starts a server with an empty Hugging Face cache, offline, that polls remotes often.
fn local_server(config: &str) -> (tempfile::TempDir, Server) {
    let hf_home = tempfile::tempdir().unwrap();
    let home = hf_home.path().to_str().unwrap().to_owned();
    let config = format!("remote_poll_ms = 100\n{config}");
    let server = Server::start_with_env(&config, &[("HF_HOME", &home), ("HF_HUB_OFFLINE", "1")]);
    (hf_home, server)
}

async fn add_profile(server: &Server, name: &str, remote: &Server, key: &str) {
    let body = json!({"base_url": remote.base, "api_key": key});
    let response = server
        .http()
        .put(server.url(&format!("/api/profiles/{name}")))
        .bearer_auth(crate::harness::ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn submit(server: &Server, path: &str, body: Value) -> Uuid {
    let (status, created) = server.post(path, &body).await;
    assert_eq!(status, 200, "{created}");
    created["id"].as_str().unwrap().parse().unwrap()
}

/// Jobs the remote has, newest first.
async fn remote_jobs(remote: &Server) -> Vec<Value> {
    let (_, list) = remote.get("/api/jobs").await;
    list["jobs"].as_array().cloned().unwrap_or_default()
}

async fn wait_forwarded(server: &Server, domain: Domain, id: Uuid) {
    wait_for(SLOW, || async {
        let job = server.job(domain, id).await;
        job.logs
            .iter()
            .any(|line| line.starts_with("[gpu-box] Inference step"))
            .then_some(())
    })
    .await
    .expect("the remote runs the job");
}

/// Sends a `dev-local` job of `steps` steps of 100 ms to gpu-box and waits
/// until the remote runs it.
async fn forward_slow_job(local: &Server, steps: u32) -> Uuid {
    let prompt = format!("steps={steps} step_ms=100");
    let id = submit(
        local,
        "/api/images?target=gpu-box",
        json!({"model": "dev-local", "prompt": prompt}),
    )
    .await;
    wait_forwarded(local, Domain::Images, id).await;
    id
}

#[tokio::test]
async fn forwards_by_target_rule_and_need() {
    let (_remote_hf, remote) = remote_with_sd_xl();
    let (_local_hf, local) = local_server("");
    add_profile(&local, "gpu-box", &remote, &remote.key).await;
    let (_, profiles) = local.get("/api/profiles").await;
    assert_eq!(
        profiles,
        json!([{"name": "gpu-box", "base_url": remote.base, "enabled": true, "has_key": true}])
    );

    // An explicit target, by query parameter, from an artist's workstation.
    let created: Value = local
        .http()
        .post(local.url("/api/images?target=gpu-box"))
        .bearer_auth(&local.key)
        .header("x-user-id", "artist")
        .header("x-machine-id", "ws-12")
        .json(&json!({"model": "dev-local", "prompt": "steps=3 step_ms=20"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let job = local.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}\n{}", local.log());
    assert!(
        job.logs
            .iter()
            .any(|line| line == "[gpu-box] Inference step 3/3 (100%)"),
        "{:?}",
        job.logs
    );
    let url = &job.output_urls()[0];
    assert!(
        url.starts_with(&local.base),
        "outputs come from the local server: {url}"
    );
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let forwarded = &remote_jobs(&remote).await[0];
    assert_eq!(
        forwarded["user_id"], "artist",
        "the submitter is passed on: {forwarded}"
    );
    assert_eq!(forwarded["machine_id"], "ws-12");

    // The same by header, for a text job.
    let response = local
        .http()
        .post(local.url("/api/texts"))
        .bearer_auth(&local.key)
        .header("x-dd-target", "gpu-box")
        .json(&json!({"model": "dev-local", "prompt": "hello"}))
        .send()
        .await
        .unwrap();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().parse().unwrap();
    let job = local.wait_finished(Domain::Texts, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    assert!(job.output_text().is_some_and(|text| !text.is_empty()), "{job:?}");
    assert_eq!(remote_jobs(&remote).await.len(), 2);

    // A routing rule written by the CLI reaches the running server.
    run_cli(&local.data_dir(), &["profiles", "route", "dev-external", "gpu-box"]);
    let id = submit(
        &local,
        "/api/images",
        json!({"model": "dev-external", "prompt": "steps=2 step_ms=20"}),
    )
    .await;
    let job = local.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    assert!(
        job.logs.iter().any(|line| line.starts_with("Forwarded to gpu-box")),
        "{:?}",
        job.logs
    );
    assert_eq!(remote_jobs(&remote).await.len(), 3);

    // sd-xl is not downloaded here and cannot be while offline: it goes to the remote.
    let plate = crate::harness::base64(&crate::harness::png(40, 24));
    let id = submit(
        &local,
        "/api/images",
        json!({"model": "sd-xl", "prompt": "a quay", "image": plate, "steps": 2}),
    )
    .await;
    let job = local.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    let bytes = reqwest::get(&job.output_urls()[0])
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!((image.width(), image.height()), (40, 24));
    assert_eq!(images::output::read_parameters(&bytes).unwrap()["model"], "sd-xl");
}

#[tokio::test]
async fn local_cancel_revokes_the_remote_job() {
    let remote = Server::start("");
    let (_hf, local) = local_server("");
    add_profile(&local, "gpu-box", &remote, &remote.key).await;
    let id = forward_slow_job(&local, 100).await;
    let response = local
        .http()
        .delete(local.url(&format!("/api/images/{id}")))
        .bearer_auth(&local.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        local.wait_finished(Domain::Images, id, SLOW).await.status,
        TaskStatus::Revoked
    );
    let remote_id = remote_jobs(&remote).await[0]["id"].as_str().unwrap().parse().unwrap();
    let remote_job = remote.wait_finished(Domain::Images, remote_id, SLOW).await;
    assert_eq!(remote_job.status, TaskStatus::Revoked);
}

#[tokio::test]
async fn lost_remote_fails_after_the_window_or_recovers() {
    let mut remote = Server::start("");
    let (_hf, local) = local_server("remote_lost_timeout_seconds = 3\n");
    add_profile(&local, "gpu-box", &remote, &remote.key).await;

    let id = forward_slow_job(&local, 400).await;
    remote.kill();
    let job = local.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Failure);
    let message = job.error_message.unwrap_or_default();
    assert!(
        message.contains("lost contact with remote profile gpu-box"),
        "{message}"
    );

    // Once the remote is back, the job the local server gave up on is cancelled there.
    remote.restart();
    let abandoned: Uuid = remote_jobs(&remote).await[0]["id"].as_str().unwrap().parse().unwrap();
    let abandoned = remote.wait_finished(Domain::Images, abandoned, SLOW).await;
    assert_eq!(abandoned.status, TaskStatus::Revoked, "{abandoned:?}");

    // Restarted within the window, the remote finishes the job it had.
    let (_hf2, patient) = local_server("remote_lost_timeout_seconds = 60\n");
    add_profile(&patient, "gpu-box", &remote, &remote.key).await;
    let id = forward_slow_job(&patient, 30).await;
    remote.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    remote.restart();
    let job = patient.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    assert!(
        job.logs.iter().any(|line| line.contains("is not responding")),
        "{:?}",
        job.logs
    );
}

#[tokio::test]
async fn unreachable_remote_fails_at_submission() {
    let (_hf, local) = local_server("remote_submit_timeout_seconds = 2\n");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let body = json!({"base_url": dead, "api_key": "dd_nothing"});
    local
        .http()
        .put(local.url("/api/profiles/gpu-box"))
        .bearer_auth(crate::harness::ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let id = submit(
        &local,
        "/api/images?target=gpu-box",
        json!({"model": "dev-local", "prompt": "steps=1"}),
    )
    .await;
    let job = local.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Failure);
    let message = job.error_message.unwrap_or_default();
    assert!(
        message.contains("remote profile gpu-box") && message.contains("is unreachable"),
        "{message}"
    );

    let (status, answer) = local
        .post("/api/images?target=nowhere", &json!({"model": "dev-local"}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(answer["detail"][0]["loc"], json!(["query", "target"]));
}

#[tokio::test]
async fn local_restart_resumes_following() {
    let remote = Server::start("");
    let (_hf, mut local) = local_server("");
    add_profile(&local, "gpu-box", &remote, &remote.key).await;
    let id = forward_slow_job(&local, 30).await;
    local.kill();
    local.restart();
    let job = local.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    assert!(
        job.logs.iter().any(|line| line.starts_with("Resuming remote job")),
        "{:?}",
        job.logs
    );
    let steps: Vec<&String> = job
        .logs
        .iter()
        .filter(|line| line.starts_with("[gpu-box] Inference step"))
        .collect();
    let mut unique = steps.clone();
    unique.dedup();
    assert_eq!(steps.len(), unique.len(), "remote lines are copied once: {steps:?}");
    // A line mirrored just before the kill may be lost, never copied twice.
    assert!(
        steps
            .last()
            .is_some_and(|line| line.starts_with("[gpu-box] Inference step 30/30")),
        "{steps:?}"
    );
    assert_eq!(remote_jobs(&remote).await.len(), 1, "the remote ran the job once");
}

#[tokio::test]
async fn wrong_key_is_reported() {
    let remote = Server::start("");
    let (_hf, local) = local_server("");
    let output = Command::new(binary())
        .args([
            "--data-dir",
            local.data_dir().to_str().unwrap(),
            "profiles",
            "add",
            "gpu-box",
            &remote.base,
        ])
        .args(["--key", "dd_wrong"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let output = Command::new(binary())
        .args([
            "--data-dir",
            local.data_dir().to_str().unwrap(),
            "profiles",
            "test",
            "gpu-box",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("rejected the API key"), "{stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(local.data_dir().join("profiles.toml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the profiles file holds keys");
    }

    let id = submit(
        &local,
        "/api/images?target=gpu-box",
        json!({"model": "dev-local", "prompt": "steps=1"}),
    )
    .await;
    let job = local.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Failure);
    let message = job.error_message.unwrap_or_default();
    assert!(message.contains("rejected the job with HTTP 403"), "{message}");

    let output = Command::new(binary())
        .args([
            "--data-dir",
            local.data_dir().to_str().unwrap(),
            "profiles",
            "add",
            "gpu-box",
            &remote.base,
        ])
        .args(["--key", &remote.key])
        .output()
        .unwrap();
    assert!(output.status.success());
    let checked = run_cli(&local.data_dir(), &["profiles", "test", "gpu-box"]);
    assert!(checked.contains("gpu-box: ok, version"), "{checked}");
    assert!(
        checked.contains("images: ") && checked.contains("dev-local"),
        "{checked}"
    );
    assert!(!local.log().contains(&remote.key), "keys never reach the log");

    // Disabling keeps the profile and its key; enabling brings it back.
    run_cli(&local.data_dir(), &["profiles", "disable", "gpu-box"]);
    let listed = run_cli(&local.data_dir(), &["profiles", "list"]);
    assert!(listed.contains("disabled") && listed.contains("key set"), "{listed}");
    run_cli(&local.data_dir(), &["profiles", "enable", "gpu-box"]);
    let listed = run_cli(&local.data_dir(), &["profiles", "list"]);
    assert!(listed.contains("enabled") && !listed.contains("disabled"), "{listed}");
    let output = Command::new(binary())
        .args([
            "--data-dir",
            local.data_dir().to_str().unwrap(),
            "profiles",
            "enable",
            "nowhere",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(r#"no profile named "nowhere""#), "{stderr}");
}

#[tokio::test]
async fn forwarding_loops_are_rejected() {
    let (_hf_a, a) = local_server("");
    let (_hf_b, b) = local_server("");
    add_profile(&a, "gpu-box", &b, &b.key).await;
    add_profile(&b, "back", &a, &a.key).await;
    run_cli(&a.data_dir(), &["profiles", "route", "dev-local", "gpu-box"]);
    run_cli(&b.data_dir(), &["profiles", "route", "dev-local", "back"]);
    let id = submit(&a, "/api/images", json!({"model": "dev-local", "prompt": "steps=1"})).await;
    let job = a.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Failure);
    let message = job.error_message.unwrap_or_default();
    assert!(message.contains("forwarding loop"), "{message}");
}

#[tokio::test]
async fn revoked_key_fails_at_once() {
    let remote = Server::start("");
    let (_hf, local) = local_server("");
    let key = run_cli(&remote.data_dir(), &["keys", "create", "desktops"])
        .trim()
        .to_owned();
    add_profile(&local, "gpu-box", &remote, &key).await;
    let id = forward_slow_job(&local, 100).await;
    let listed = run_cli(&remote.data_dir(), &["keys", "list"]);
    let key_id = listed
        .lines()
        .find(|line| line.contains("desktops"))
        .and_then(|line| line.split_whitespace().next())
        .unwrap_or_else(|| panic!("no key named desktops in {listed}"))
        .to_owned();
    run_cli(&remote.data_dir(), &["keys", "revoke", &key_id]);
    let started = std::time::Instant::now();
    let job = local.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Failure);
    let message = job.error_message.unwrap_or_default();
    assert!(message.contains("rejected the API key"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "no wait for the lost-remote window"
    );
}

#[tokio::test]
async fn auto_forward_skips_unrunnable_remote() {
    let (_remote_hf, remote) = local_server("");
    let (_local_hf, local) = local_server("");
    add_profile(&local, "gpu-box", &remote, &remote.key).await;
    let (_, models) = remote.get("/api/images/models").await;
    assert_eq!(models["models"]["sd-xl"]["runnable_now"], false, "{models}");
    let (status, answer) = local
        .post("/api/images", &json!({"model": "sd-xl", "prompt": "x"}))
        .await;
    assert_eq!(status, 422, "not forwarded to a remote without the weights: {answer}");
    assert!(remote_jobs(&remote).await.is_empty());
}
