//! Queue overhead benchmark: start to healthy, idle memory, submit-to-SUCCESS
//! latency as a polling client sees it, and GET poll throughput.
//!
//! Run with `make bench` (or `cargo bench -p ddiffusion-server --bench queue`).
//! It starts the release `ddiffusion` binary on 127.0.0.1 with the dev models,
//! whose jobs return at once (`steps=0`), so the figures are the queue's own
//! cost. It prints a Markdown table for docs/benchmarks.md.
//! `BENCH_JOBS` (default 300) and `BENCH_POLL_SECONDS` (default 5) size the run.
//!
//! With `BENCH_REFERENCE_PYTHON` set to a Python that has the packages of
//! `benchmarks/reference/requirements.txt`, and `redis-server` on the PATH
//! (`make bench` installs both), the same measures run in the same process
//! against the reference: FastAPI + Celery + Redis built like the original
//! server, so the table gives ratios.

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

/// Starts the server and returns it with its base URL and the time to the first healthy response.
fn start(data_dir: &std::path::Path) -> (Child, String, Duration) {
    use std::os::unix::process::CommandExt;
    let started = Instant::now();
    let mut child = Command::new(binary())
        .args([
            "--data-dir",
            data_dir.to_str().unwrap(),
            "serve",
            "--dev-models",
            "--bind",
            "127.0.0.1:0",
        ])
        .env("DDIFFUSION_ADMIN_KEY", ADMIN_KEY)
        .env("DDIFFUSION_LOG", "warn")
        .env("DDIFFUSION_BACKLOG_LIMIT", "100000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("address line")
        .to_owned();
    let health = format!("{base}/health");
    let client = reqwest::blocking::Client::new();
    while !client
        .get(&health)
        .send()
        .map(|r| r.status().is_success())
        .unwrap_or(false)
    {
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

/// Submits one job, polls it without pause until SUCCESS, and returns its GET URL.
async fn submit_and_wait(http: &reqwest::Client, base: &str, key: &str, model: &str, seed: u64) -> String {
    let body = json!({"model": model, "prompt": "steps=0", "seed": seed});
    let created: Value = http
        .post(format!("{base}/api/images"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = format!("{base}/api/images/{}", created["id"].as_str().unwrap());

    // The reference returns 404 while a task sits prefetched in its worker,
    // so any status other than SUCCESS or FAILURE means "poll again".
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "job {url} did not succeed within 60 s");
        let job: Value = http
            .get(&url)
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or(Value::Null);
        if job["status"] == "SUCCESS" {
            return url;
        }
        assert_ne!(job["status"], "FAILURE", "{job}");
    }
}

/// Submits `count` jobs one after another and returns each one's submit → SUCCESS time, sorted.
async fn latencies(http: &reqwest::Client, base: &str, key: &str, model: &str, count: u64) -> Vec<Duration> {
    let mut samples = Vec::new();
    for index in 0..count {
        let started = Instant::now();
        submit_and_wait(http, base, key, model, index).await;
        samples.push(started.elapsed());
    }
    samples.sort();
    samples
}

/// Polls one finished job from `clients` concurrent connections for `seconds`; returns polls per second.
async fn poll_throughput(key: &str, url: String, clients: usize, seconds: u64) -> f64 {
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
    count.load(Ordering::Relaxed) as f64 / seconds as f64
}

/// Figures of one system under test.
struct Figures {
    start: Duration,
    idle_rss_kib: u64,
    loaded_rss_kib: u64,
    /// Submit → SUCCESS latencies of the one-at-a-time lane, sorted.
    latency: Vec<Duration>,
    /// Submit → SUCCESS latencies of the concurrent lane, sorted; ours only.
    latency_external: Vec<Duration>,
    polls_per_second: f64,
}

/// Processes of a running system, each leading its own process group, stopped on drop.
struct Processes(Vec<Child>);

impl Processes {
    /// Resident memory of the processes and all their descendants.
    fn rss_kib(&self) -> u64 {
        let mut pids: Vec<u32> = self.0.iter().map(Child::id).collect();
        let mut index = 0;
        while index < pids.len() {
            pids.extend(children(pids[index]));
            index += 1;
        }
        pids.iter().map(|pid| rss_kib(*pid)).sum()
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            // Each child leads its own process group; signal the whole group.
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", child.id())])
                .status();
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_healthy(base: &str, timeout: Duration) {
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + timeout;
    while !client
        .get(format!("{base}/health"))
        .send()
        .map(|r| r.status().is_success())
        .unwrap_or(false)
    {
        assert!(Instant::now() < deadline, "{base} did not become healthy");
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Runs the latency and throughput measures against a started system.
fn measure(
    runtime: &tokio::runtime::Runtime,
    base: &str,
    key: &str,
    lanes: &[&str],
    jobs: u64,
    poll_seconds: u64,
) -> (Vec<Vec<Duration>>, f64) {
    runtime.block_on(async {
        let http = reqwest::Client::new();
        latencies(&http, base, key, lanes[0], 20).await;
        let mut samples = Vec::new();
        for model in lanes {
            samples.push(latencies(&http, base, key, model, jobs).await);
        }
        let url = submit_and_wait(&http, base, key, lanes[0], 0).await;
        (samples, poll_throughput(key, url, 16, poll_seconds).await)
    })
}

fn bench_ours(runtime: &tokio::runtime::Runtime, jobs: u64, poll_seconds: u64) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(binary())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["keys", "create", "bench"])
        .output()
        .unwrap();
    let key = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    // Start to healthy: median of five starts on the same data folder.
    let mut starts = Vec::new();
    for _ in 0..4 {
        let (mut child, _, elapsed) = start(dir.path());
        starts.push(elapsed);
        child.kill().ok();
        child.wait().ok();
    }
    let (server, base, elapsed) = start(dir.path());
    starts.push(elapsed);
    starts.sort();
    let server = Processes(vec![server]);
    std::thread::sleep(Duration::from_millis(500));
    let idle_rss_kib = server.rss_kib();

    let (mut samples, polls_per_second) =
        measure(runtime, &base, &key, &["dev-local", "dev-external"], jobs, poll_seconds);
    Figures {
        start: starts[2],
        idle_rss_kib,
        loaded_rss_kib: server.rss_kib(),
        latency_external: samples.pop().unwrap(),
        latency: samples.pop().unwrap(),
        polls_per_second,
    }
}

fn spawn_group(command: &mut Command) -> Child {
    use std::os::unix::process::CommandExt;
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("reference process starts")
}

fn bench_reference(runtime: &tokio::runtime::Runtime, python: &str, jobs: u64, poll_seconds: u64) -> Figures {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../../benchmarks/reference");
    let key = "dd_benchkey_0123456789abcdef";
    let redis_port = free_port();
    let redis = spawn_group(Command::new("redis-server").args([
        "--port",
        &redis_port.to_string(),
        "--save",
        "",
        "--appendonly",
        "no",
    ]));
    std::thread::sleep(Duration::from_millis(300));
    let environment = [
        ("REFERENCE_REDIS", format!("redis://127.0.0.1:{redis_port}")),
        ("REFERENCE_API_KEY", key.to_owned()),
    ];

    let worker = spawn_group(
        Command::new(python)
            .args([
                "-m",
                "celery",
                "-A",
                "reference_app",
                "worker",
                "-Q",
                "gpu",
                "--pool",
                "threads",
                "--concurrency",
                "1",
            ])
            .args([
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "warning",
            ])
            .current_dir(folder)
            .envs(environment.clone()),
    );

    // Start to healthy: the API with the original's four uvicorn workers; median of five starts.
    let mut starts = Vec::new();
    let mut api = None;
    let mut base = String::new();
    for _ in 0..5 {
        drop(api.take().map(|child| Processes(vec![child])));
        let port = free_port();
        base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        api = Some(spawn_group(
            Command::new(python)
                .args([
                    "-m",
                    "uvicorn",
                    "reference_app:api",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    &port.to_string(),
                ])
                .args(["--workers", "4", "--log-level", "warning"])
                .current_dir(folder)
                .envs(environment.clone()),
        ));
        wait_healthy(&base, Duration::from_secs(60));
        starts.push(started.elapsed());
    }
    starts.sort();
    let system = Processes(vec![api.unwrap(), worker, redis]);
    std::thread::sleep(Duration::from_secs(2));
    let idle_rss_kib = system.rss_kib();

    let (mut samples, polls_per_second) = measure(runtime, &base, key, &["dev-local"], jobs, poll_seconds);
    Figures {
        start: starts[2],
        idle_rss_kib,
        loaded_rss_kib: system.rss_kib(),
        latency: samples.pop().unwrap(),
        latency_external: Vec::new(),
        polls_per_second,
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn main() {
    let jobs = env_number("BENCH_JOBS", 300);
    let poll_seconds = env_number("BENCH_POLL_SECONDS", 5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ours = bench_ours(&runtime, jobs, poll_seconds);
    let reference = std::env::var("BENCH_REFERENCE_PYTHON")
        .ok()
        .map(|python| bench_reference(&runtime, &python, jobs, poll_seconds));

    let ratio =
        |ours: f64, theirs: Option<f64>| theirs.map(|t| format!("{:.3}", ours / t)).unwrap_or_else(|| "–".into());
    let reference_text = |text: Option<String>| text.unwrap_or_else(|| "not run".into());
    let p = |samples: &[Duration], q: f64| percentile(samples, q);

    println!("| measure | Deferred Diffusion | reference | ratio (ours / reference) |");
    println!("|---|---|---|---|");
    println!(
        "| start to healthy, median of 5 | {} | {} | {} |",
        millis(ours.start),
        reference_text(reference.as_ref().map(|r| millis(r.start))),
        ratio(
            ours.start.as_secs_f64(),
            reference.as_ref().map(|r| r.start.as_secs_f64())
        )
    );
    println!(
        "| idle RSS, all processes | {} | {} | {} |",
        mib(ours.idle_rss_kib),
        reference_text(reference.as_ref().map(|r| mib(r.idle_rss_kib))),
        ratio(
            ours.idle_rss_kib as f64,
            reference.as_ref().map(|r| r.idle_rss_kib as f64)
        )
    );
    println!(
        "| RSS after the run, all processes | {} | {} | {} |",
        mib(ours.loaded_rss_kib),
        reference_text(reference.as_ref().map(|r| mib(r.loaded_rss_kib))),
        ratio(
            ours.loaded_rss_kib as f64,
            reference.as_ref().map(|r| r.loaded_rss_kib as f64)
        )
    );
    for (label, q) in [("p50", 0.5), ("p99", 0.99)] {
        println!(
            "| submit → SUCCESS seen by poller, one-at-a-time lane, {label} ({jobs} jobs) | {} | {} | {} |",
            millis(p(&ours.latency, q)),
            reference_text(reference.as_ref().map(|r| millis(p(&r.latency, q)))),
            ratio(
                p(&ours.latency, q).as_secs_f64(),
                reference.as_ref().map(|r| p(&r.latency, q).as_secs_f64())
            )
        );
    }
    println!(
        "| submit → SUCCESS seen by poller, external lane, p50 / p99 ({jobs} jobs) | {} / {} | – | – |",
        millis(p(&ours.latency_external, 0.5)),
        millis(p(&ours.latency_external, 0.99))
    );
    println!(
        "| GET polls of a finished job, 16 connections, {poll_seconds} s | {:.0} /s | {} | {} |",
        ours.polls_per_second,
        reference_text(reference.as_ref().map(|r| format!("{:.0} /s", r.polls_per_second))),
        ratio(ours.polls_per_second, reference.as_ref().map(|r| r.polls_per_second))
    );
}
