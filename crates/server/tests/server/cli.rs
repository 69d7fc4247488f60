//! The `ddiffusion` command line: keys and submit.

use std::process::Command;

use crate::harness::{binary, run_cli, Server};

#[tokio::test]
async fn submit_downloads_outputs() {
    let server = Server::start("");
    let out = tempfile::tempdir().unwrap();
    let plate = out.path().join("plate.png");
    std::fs::write(&plate, crate::harness::png(12, 12)).unwrap();
    let output = tokio::process::Command::new(binary())
        .args([
            "submit",
            "images",
            "--model",
            "dev-local",
            "--prompt",
            "steps=2",
            "--image",
        ])
        .arg(&plate)
        .arg("--out")
        .arg(out.path().join("renders"))
        .env("DDIFFUSION_API_ADDRESS", &server.base)
        .env("DDIFFUSION_API_KEY", &server.key)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let written = String::from_utf8(output.stdout).unwrap();
    let path = std::path::PathBuf::from(written.trim());
    assert!(path.starts_with(out.path().join("renders")), "{written}");
    assert!(image::open(&path).is_ok());
    assert!(stderr.contains("Task ID:"));
    assert!(
        stderr.contains("Inference step 2/2"),
        "logs reach stderr without a terminal: {stderr}"
    );
}

#[tokio::test]
async fn submit_reports_failure_and_validation() {
    let server = Server::start("");
    let run = |args: &[&str]| {
        Command::new(binary())
            .args(args)
            .env("DDIFFUSION_API_ADDRESS", &server.base)
            .env("DDIFFUSION_API_KEY", &server.key)
            .output()
            .unwrap()
    };
    let failed = run(&[
        "submit",
        "texts",
        "--model",
        "dev-local",
        "--prompt",
        "steps=1 fail=no_gpu",
    ]);
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("Task failed with error: no gpu"));

    let invalid = run(&["submit", "videos", "--model", "ltx-video", "--num-frames", "5"]);
    assert!(!invalid.status.success());
    let message = String::from_utf8_lossy(&invalid.stderr);
    assert!(
        message.contains("422") && message.contains("body.num_frames"),
        "{message}"
    );
}

#[test]
fn keys_commands_manage_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let key = run_cli(dir.path(), &["keys", "create", "nuke-01"]);
    let key_id = key.trim().split('_').nth(1).unwrap().to_owned();
    let listed = run_cli(dir.path(), &["keys", "list"]);
    assert!(listed.contains(&key_id), "{listed}");
    assert!(listed.contains("nuke-01"), "{listed}");
    assert!(!listed.contains(key.trim()), "keys list must not print secrets");
    run_cli(dir.path(), &["keys", "revoke", &key_id]);
    assert!(!run_cli(dir.path(), &["keys", "list"]).contains(&key_id));

    let again = Command::new(binary())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["keys", "revoke", &key_id])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no key has the ID"));
}

#[test]
fn closed_stdout_ends_quietly() {
    let mut child = std::process::Command::new(crate::harness::binary())
        .arg("openapi")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn unset_settings_read_their_variables() {
    let server = crate::harness::Server::start_with_env("", &[("DDIFFUSION_PUBLIC_URL", "http://gpu-box:5000")]);
    let id = server.submit_image("dev-local", "steps=1 step_ms=1").await;
    let job = server
        .wait_finished(protocol::Domain::Images, id, std::time::Duration::from_secs(30))
        .await;
    let url = &job.output_urls()[0];
    assert!(url.starts_with("http://gpu-box:5000/api/files/"), "{url}");
}
