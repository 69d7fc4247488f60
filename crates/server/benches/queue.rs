//! Queue overhead benchmark: start to healthy, idle memory, submit-to-SUCCESS
//! latency as a polling client sees it, and GET poll throughput.
//!
//! Run with `make bench` (or `cargo bench -p ddiffusion-server --bench queue`).
//! It starts the release `ddiffusion` binary on 127.0.0.1 with the dev models,
//! whose jobs return at once (`steps=0`), so the figures are the queue's own
//! cost. It prints a Markdown table for docs/benchmarks.md.
//! `BENCH_JOBS` (default 300) and `BENCH_POLL_SECONDS` (default 5) size the run.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ADMIN_KEY: &str = "bench-admin-key-0123456789abcdef0123456789";

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_ddiffusion")
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Starts the server and returns it with its base URL and the time to the first healthy answer.
fn start(data_dir: &std::path::Path) -> (Child, String, Duration) {
    let started = Instant::now();
    let mut child = Command::new(binary())
        .args(["--data-dir", data_dir.to_str().unwrap(), "serve", "--dev-models", "--bind", "127.0.0.1:0"])
        .env("DDIFFUSION_ADMIN_KEY", ADMIN_KEY)
        .env("DDIFFUSION_LOG", "warn")
        .env("DDIFFUSION_BACKLOG_LIMIT", "100000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.split_whitespace().find(|w| w.starts_with("http://")).expect("address line").to_owned();
    let health = format!("{base}/health");
    let client = reqwest::blocking::Client::new();
    while !client.get(&health).send().map(|r| r.status().is_success()).unwrap_or(false) {
        std::thread::sleep(Duration::from_micros(200));
    }
    (child, base, started.elapsed())
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// Submits `count` jobs one after another and polls each without pause until SUCCESS.
async fn latencies(http: &reqwest::Client, base: &str, key: &str, model: &str, count: u64) -> Vec<Duration> {
    let mut samples = Vec::new();
    for index in 0..count {
        let started = Instant::now();
        let body = json!({"model": model, "prompt": "steps=0", "seed": index});
        let created: Value = http.post(format!("{base}/api/images")).bearer_auth(key).json(&body).send().await.unwrap().json().await.unwrap();
        let url = format!("{base}/api/images/{}", created["id"].as_str().unwrap());
        loop {
            let job: Value = http.get(&url).bearer_auth(key).send().await.unwrap().json().await.unwrap();
            if job["status"] == "SUCCESS" {
                break;
            }
            assert_ne!(job["status"], "FAILURE", "{job}");
        }
        samples.push(started.elapsed());
    }
    samples.sort();
    samples
}

/// Polls one finished job from `clients` concurrent connections for `seconds`; returns polls per second.
async fn poll_throughput(base: &str, key: &str, url: String, clients: usize, seconds: u64) -> f64 {
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (count, url, key) = (count.clone(), url.clone(), key.to_owned());
        let http = reqwest::Client::new();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let response = http.get(&url).bearer_auth(&key).send().await.unwrap();
                assert!(response.status().is_success());
                response.bytes().await.unwrap();
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let _ = base;
    count.load(Ordering::Relaxed) as f64 / seconds as f64
}

fn main() {
    let jobs = env_number("BENCH_JOBS", 300);
    let poll_seconds = env_number("BENCH_POLL_SECONDS", 5);
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(binary()).arg("--data-dir").arg(dir.path()).args(["keys", "create", "bench"]).output().unwrap();
    let key = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    // Start to healthy: median of five starts on the same data folder.
    let mut starts = Vec::new();
    for _ in 0..4 {
        let (mut child, _, elapsed) = start(dir.path());
        starts.push(elapsed);
        child.kill().ok();
        child.wait().ok();
    }
    let (mut server, base, elapsed) = start(dir.path());
    starts.push(elapsed);
    starts.sort();
    std::thread::sleep(Duration::from_millis(500));
    let idle_rss = rss_kib(server.id());

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (external, local, polls) = runtime.block_on(async {
        let http = reqwest::Client::new();
        latencies(&http, &base, &key, "dev-external", 20).await;
        let external = latencies(&http, &base, &key, "dev-external", jobs).await;
        let local = latencies(&http, &base, &key, "dev-local", jobs).await;
        let body = json!({"model": "dev-local", "prompt": "steps=0"});
        let created: Value = http.post(format!("{base}/api/images")).bearer_auth(&key).json(&body).send().await.unwrap().json().await.unwrap();
        let url = format!("{base}/api/images/{}", created["id"].as_str().unwrap());
        tokio::time::sleep(Duration::from_millis(200)).await;
        let polls = poll_throughput(&base, &key, url, 16, poll_seconds).await;
        (external, local, polls)
    });
    let loaded_rss = rss_kib(server.id());
    server.kill().ok();
    server.wait().ok();

    println!("| measure | value |");
    println!("|---|---|");
    println!("| start to healthy, median of 5 | {} |", millis(starts[2]));
    println!("| idle RSS after start | {:.1} MiB |", idle_rss as f64 / 1024.0);
    println!("| RSS after the run ({} jobs) | {:.1} MiB |", 2 * jobs + 21, loaded_rss as f64 / 1024.0);
    for (lane, samples) in [("external", &external), ("local", &local)] {
        println!(
            "| submit → SUCCESS seen by poller, {lane} lane, p50 / p99 ({jobs} jobs) | {} / {} |",
            millis(percentile(samples, 0.5)),
            millis(percentile(samples, 0.99))
        );
    }
    println!("| GET polls of a finished job, 16 connections, {poll_seconds} s | {polls:.0} /s |");
}
