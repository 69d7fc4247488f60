//! `GET /api/models`, `DELETE /api/models/{name}`, `GET /api/jobs/{id}`, and
//! the admin routes for settings and provider keys.

use std::process::Command;
use std::time::Duration;

use protocol::{Domain, TaskStatus};
use serde_json::{json, Value};

use crate::harness::{base64, binary, png, run_cli, wait_for, Server, ADMIN_KEY, LONG};

/// Starts a server with an empty Hugging Face cache, offline, and no OpenAI key.
fn server(config: &str) -> (tempfile::TempDir, Server) {
    let hf_home = tempfile::tempdir().unwrap();
    let home = hf_home.path().to_str().unwrap().to_owned();
    let server = Server::start_with_env(
        config,
        &[
            ("HF_HOME", &home),
            ("HF_HUB_OFFLINE", "1"),
            ("OPENAI_API_KEY", ""),
            ("REPLICATE_API_TOKEN", ""),
        ],
    );
    (hf_home, server)
}

fn write_fixture(hf_home: &std::path::Path, name: &str) {
    let status = Command::new(binary())
        .args(["dev", "fixtures", name])
        .env("HF_HOME", hf_home)
        .env_remove("HF_HUB_CACHE")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

async fn catalogue_entry(server: &Server, name: &str) -> Value {
    let (status, listed) = server.get("/api/models").await;
    assert_eq!(status, 200, "{listed}");
    listed
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} missing from {listed}"))
}

/// Sends `method path` with the admin key, or with `key` when given.
async fn send(server: &Server, method: &str, path: &str, body: Option<Value>, key: &str) -> (u16, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = server.http().request(method, server.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn admin(server: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let (status, text) = send(server, method, path, body, ADMIN_KEY).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn models_list_install_state_and_size() {
    let (hf_home, server) = server("");
    let (status, _) = send(&server, "GET", "/api/models", None, "dd_wrong_key").await;
    assert_eq!(status, 403);

    let sd15 = catalogue_entry(&server, "sd-1.5").await;
    assert_eq!(sd15["domain"], "images", "{sd15}");
    assert_eq!(sd15["provider"], "local", "{sd15}");
    assert_eq!(sd15["installed"], false, "{sd15}");
    assert_eq!(sd15["size_bytes"], 0, "{sd15}");
    assert_eq!(sd15["license"], "creativeml-openrail-m", "{sd15}");
    assert_eq!(sd15["loaded"], false, "{sd15}");
    let external = catalogue_entry(&server, "gpt-image-1").await;
    assert_eq!(external["provider"], "openai", "{external}");
    assert_eq!(external["installed"], false, "no OpenAI key is set: {external}");
    assert!(external["size_bytes"].is_null(), "{external}");

    let (_, images) = server.get("/api/images/models").await;
    let listed = &images["models"]["sd-1.5"];
    assert_eq!(
        listed["schedulers"],
        json!(["ddim", "euler", "euler_a", "dpmpp_2m_karras"]),
        "{listed}"
    );
    assert!(images["models"]["gpt-image-1"].get("schedulers").is_none(), "{images}");

    write_fixture(hf_home.path(), "sd-1.5");
    let sd15 = catalogue_entry(&server, "sd-1.5").await;
    assert_eq!(sd15["installed"], true, "{sd15}");
    assert!(sd15["size_bytes"].as_u64().unwrap() > 0, "{sd15}");

    let request = json!({"model": "sd-1.5", "prompt": "a kite", "width": 16, "height": 16, "steps": 1});
    let (status, created) = server.post("/api/images", &request).await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().parse().unwrap();
    let job = server.wait_finished(Domain::Images, id, Duration::from_secs(120)).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    let sd15 = catalogue_entry(&server, "sd-1.5").await;
    assert_eq!(sd15["loaded"], true, "{sd15}");
    assert!(sd15.get("runs_on").is_none(), "{sd15}");

    let profile = json!({"base_url": "http://127.0.0.1:9", "api_key": "dd_remote_key", "enabled": true});
    let (status, refused) = send(
        &server,
        "PUT",
        "/api/profiles/gpu-box",
        Some(profile.clone()),
        &server.key,
    )
    .await;
    assert_eq!(status, 403, "an API key cannot point a profile elsewhere: {refused}");
    let (status, _) = admin(&server, "PUT", "/api/profiles/gpu-box", Some(profile)).await;
    assert_eq!(status, 200);
    run_cli(&server.data_dir(), &["profiles", "route", "sd-xl", "gpu-box"]);
    let sdxl = catalogue_entry(&server, "sd-xl").await;
    assert_eq!(sdxl["runs_on"], "gpu-box", "{sdxl}");
}

#[tokio::test]
async fn model_delete_frees_files_and_checks_jobs() {
    let (hf_home, server) = server("");
    write_fixture(hf_home.path(), "sd-1.5");
    let size = catalogue_entry(&server, "sd-1.5").await["size_bytes"].as_u64().unwrap();

    // A dev-local job occupies the local lane, so the sd-1.5 job waits behind it.
    let blocker = server.submit_image("dev-local", "steps=200 step_ms=100").await;
    let request = json!({"model": "sd-1.5", "prompt": "a kite", "width": 16, "height": 16, "steps": 1});
    let (_, created) = server.post("/api/images", &request).await;
    let waiting = created["id"].as_str().unwrap().to_owned();
    let (status, body) = send(&server, "DELETE", "/api/models/sd-1.5", None, &server.key).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains(&waiting), "the message names the job: {body}");
    assert!(hf_home
        .path()
        .join("hub/models--stable-diffusion-v1-5--stable-diffusion-v1-5")
        .exists());

    for id in [blocker.to_string(), waiting.clone()] {
        let (status, _) = send(&server, "DELETE", &format!("/api/images/{id}"), None, &server.key).await;
        assert_eq!(status, 200);
    }
    for id in [blocker, waiting.parse().unwrap()] {
        server.wait_finished(Domain::Images, id, LONG).await;
    }

    let (status, body) = send(&server, "DELETE", "/api/models/no-such-model", None, &server.key).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no-such-model"), "{body}");
    let (status, body) = send(&server, "DELETE", "/api/models/gpt-image-1", None, &server.key).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("external models have no files to delete"), "{body}");

    let (status, body) = send(&server, "DELETE", "/api/models/sd-1.5", None, &server.key).await;
    assert_eq!(status, 200, "{body}");
    let removed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(removed["freed_bytes"], size, "{removed}");
    assert!(removed["removed_paths"].as_u64().unwrap() >= 1, "{removed}");
    assert!(!hf_home
        .path()
        .join("hub/models--stable-diffusion-v1-5--stable-diffusion-v1-5")
        .exists());
    let sd15 = catalogue_entry(&server, "sd-1.5").await;
    assert_eq!(sd15["installed"], false, "{sd15}");
    assert_eq!(sd15["size_bytes"], 0, "{sd15}");
}

#[tokio::test]
async fn model_delete_conflicts_with_running_job() {
    let (hf_home, server) = server("");
    write_fixture(hf_home.path(), "sd-1.5");
    // Enough steps on the tiny model to stay running for the DELETE below.
    let request = json!({"model": "sd-1.5", "prompt": "a kite", "width": 256, "height": 256, "steps": 150});
    let (_, created) = server.post("/api/images", &request).await;
    let id: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let started = wait_for(LONG, || async {
        let job = server.job(Domain::Images, id).await;
        (job.status != TaskStatus::Pending).then_some(job.status)
    })
    .await;
    assert_eq!(started, Some(TaskStatus::Started), "the job did not start running");

    let (status, body) = send(&server, "DELETE", "/api/models/sd-1.5", None, &server.key).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains(&id.to_string()), "{body}");
    let job = server.job(Domain::Images, id).await;
    assert_eq!(
        job.status,
        TaskStatus::Started,
        "the job ended before the DELETE, so the check proves nothing"
    );

    send(&server, "DELETE", &format!("/api/images/{id}"), None, &server.key).await;
    server.wait_finished(Domain::Images, id, LONG).await;
}

#[tokio::test]
async fn model_delete_unloads_loaded_model() {
    let (hf_home, server) = server("");
    write_fixture(hf_home.path(), "sd-1.5");
    let request = json!({"model": "sd-1.5", "prompt": "a kite", "width": 16, "height": 16, "steps": 1});
    let (_, created) = server.post("/api/images", &request).await;
    let id = created["id"].as_str().unwrap().parse().unwrap();
    server.wait_finished(Domain::Images, id, Duration::from_secs(120)).await;

    let (status, removed) = admin(&server, "DELETE", "/api/models/sd-1.5", None).await;
    assert_eq!(status, 403, "the admin key is not an API key: {removed}");
    let (status, body) = send(&server, "DELETE", "/api/models/sd-1.5", None, &server.key).await;
    assert_eq!(status, 200, "{body}");
    let removed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(removed["unloaded"], true, "{removed}");
    let (_, system) = server.get("/api/system").await;
    assert_eq!(system["loaded_models"], json!([]), "{system}");
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn settings_round_trip_through_config_file() {
    let original = "# studio settings\nretention_days = 7.0 # a week\n\n# the GPU box\nlocal_time_limit_seconds = 0\n";
    let (_hf, server) = server(original);
    let config = server.data_dir().join("config.toml");

    let (status, _) = send(&server, "GET", "/api/admin/settings", None, &server.key).await;
    assert_eq!(status, 403, "an API key is not the admin key");
    let (status, settings) = admin(&server, "GET", "/api/admin/settings", None).await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(settings["device"], "auto", "{settings}");
    assert_eq!(settings["auto_download"], true, "{settings}");
    assert_eq!(settings["data_dir"], server.data_dir().to_str().unwrap(), "{settings}");
    assert_eq!(settings["config_file"], config.to_str().unwrap(), "{settings}");
    assert_eq!(settings["provider_keys"][0]["provider"], "openai", "{settings}");
    assert_eq!(settings["provider_keys"][0]["configured"], false, "{settings}");
    assert_eq!(settings["provider_keys"][0]["source"], "none", "{settings}");

    let update = json!({
        "device": "cpu", "memory_budget_gb": 6.5, "keep_alive_seconds": 60,
        "auto_download": false, "bind": "127.0.0.1:5123",
    });
    let (status, saved) = admin(&server, "PUT", "/api/admin/settings", Some(update)).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["restart_required"].as_array().unwrap().len(), 5, "{saved}");
    assert!(saved.get("warning").is_none(), "{saved}");
    assert_eq!(saved["settings"]["device"], "cpu", "{saved}");
    assert_eq!(saved["settings"]["memory_budget_gb"], 6.5, "{saved}");

    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.starts_with("# studio settings\nretention_days = 7.0 # a week\n\n# the GPU box\n"),
        "{text}"
    );
    assert!(text.contains("device = \"cpu\"\n"), "{text}");
    assert!(text.contains("bind = \"127.0.0.1:5123\"\n"), "{text}");
    assert!(text.contains("auto_download = false\n"), "{text}");
    #[cfg(unix)]
    assert_eq!(mode(&config), 0o600);

    let (status, settings) = admin(&server, "GET", "/api/admin/settings", None).await;
    assert_eq!(status, 200);
    assert_eq!(settings["keep_alive_seconds"], 60, "{settings}");
    assert_eq!(settings["bind"], "127.0.0.1:5123", "{settings}");
    assert_eq!(settings["auto_download"], false, "{settings}");

    // A second write changes the line in place.
    let (status, saved) = admin(&server, "PUT", "/api/admin/settings", Some(json!({"device": "cuda:1"}))).await;
    assert_eq!(status, 200, "{saved}");
    let rewritten = std::fs::read_to_string(&config).unwrap();
    assert_eq!(rewritten, text.replace("device = \"cpu\"", "device = \"cuda:1\""));

    let (status, saved) = admin(
        &server,
        "PUT",
        "/api/admin/settings",
        Some(json!({"bind": "0.0.0.0:5000"})),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let warning = saved["warning"].as_str().unwrap_or_default();
    assert!(warning.contains("other machines"), "{saved}");
}

#[tokio::test]
async fn settings_reject_bad_values() {
    let (_hf, server) = server("# keep me\n");
    let config = server.data_dir().join("config.toml");
    let cases = [
        (json!({"device": "gpu"}), "device", "cuda:N"),
        (json!({"bind": "localhost"}), "bind", "host:port"),
        (json!({"bind": "127.0.0.1:http"}), "bind", "65535"),
        (
            json!({"memory_budget_gb": -1.5}),
            "memory_budget_gb",
            "0 (one model at a time)",
        ),
    ];
    for (body, field, fix) in cases {
        let (status, answer) = admin(&server, "PUT", "/api/admin/settings", Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(answer["detail"][0]["loc"], json!(["body", field]), "{answer}");
        let message = answer["detail"][0]["msg"].as_str().unwrap();
        let value = body[field].to_string();
        assert!(message.contains(value.trim_matches('"')), "{message}");
        assert!(message.contains(fix), "{message}");
    }
    let (status, answer) = admin(
        &server,
        "PUT",
        "/api/admin/settings",
        Some(json!({"retention_days": 3})),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "# keep me\n");
}

#[tokio::test]
async fn provider_key_applies_without_restart() {
    let (_hf, server) = server("");
    let config = server.data_dir().join("config.toml");
    let secret = "sk-test-secret-0123456789";
    let path = "/api/admin/provider-keys/openai";

    let (status, _) = send(&server, "PUT", path, Some(json!({"key": secret})), &server.key).await;
    assert_eq!(status, 403, "an API key is not the admin key");
    let (status, body) = send(&server, "PUT", path, Some(json!({"key": secret})), ADMIN_KEY).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains(secret), "{body}");
    let saved: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(saved["configured"], true, "{saved}");
    assert_eq!(saved["source"], "config_file", "{saved}");

    let external = catalogue_entry(&server, "gpt-image-1").await;
    assert_eq!(external["installed"], true, "{external}");
    let (_, models) = server.get("/api/images/models").await;
    let description = models["models"]["gpt-image-1"]["description"].as_str().unwrap();
    assert!(!description.contains("not configured"), "{description}");
    let (status, body) = send(&server, "GET", "/api/admin/settings", None, ADMIN_KEY).await;
    assert_eq!(status, 200);
    assert!(!body.contains(secret), "{body}");
    assert!(body.contains("\"configured\":true"), "{body}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains(&format!("openai_api_key = \"{secret}\"")), "{text}");
    #[cfg(unix)]
    assert_eq!(mode(&config), 0o600);
    assert!(!server.log().contains(secret), "the key is never logged");

    let (status, cleared) = admin(&server, "PUT", path, Some(json!({"key": ""}))).await;
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(cleared["configured"], false, "{cleared}");
    assert!(!std::fs::read_to_string(&config).unwrap().contains("openai_api_key"));
    let external = catalogue_entry(&server, "gpt-image-1").await;
    assert_eq!(external["installed"], false, "{external}");

    let (status, body) = admin(
        &server,
        "PUT",
        "/api/admin/provider-keys/acme",
        Some(json!({"key": "x"})),
    )
    .await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn job_detail_has_request_with_input_urls() {
    let (_hf, server) = server("");
    let plate = png(16, 8);
    let request = json!({"model": "dev-local", "prompt": "a plate", "image": base64(&plate), "strength": 0.5});
    let response = server
        .http()
        .post(server.url("/api/images"))
        .bearer_auth(&server.key)
        .header("x-user-id", "ana")
        .header("x-machine-id", "ws-12")
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    server.wait_finished(Domain::Images, id.parse().unwrap(), LONG).await;

    let (status, job) = server.get(&format!("/api/jobs/{id}")).await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["domain"], "images", "{job}");
    assert_eq!(job["model"], "dev-local", "{job}");
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["user_id"], "ana", "{job}");
    assert_eq!(job["machine_id"], "ws-12", "{job}");
    assert_eq!(job["request"]["prompt"], "a plate", "{job}");
    assert_eq!(job["request"]["strength"], 0.5, "{job}");
    assert!(!job["logs"].as_array().unwrap().is_empty(), "{job}");
    assert_eq!(job["outputs"].as_array().unwrap().len(), 1, "{job}");
    assert!(job["started_at"].is_string(), "{job}");

    let input_url = job["request"]["image"].as_str().unwrap();
    assert!(input_url.contains("/api/files/"), "{input_url}");
    let bytes = server
        .http()
        .get(input_url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), plate.as_slice());

    let (status, _) = server.get("/api/jobs/not-a-uuid").await;
    assert_eq!(status, 422);
    let (status, missing) = server.get(&format!("/api/jobs/{}", uuid::Uuid::new_v4())).await;
    assert_eq!(status, 404, "{missing}");
}
