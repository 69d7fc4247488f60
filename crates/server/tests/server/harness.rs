//! Starts and stops server processes for the tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use protocol::{Domain, JobResponse};
use serde_json::{json, Value};
use uuid::Uuid;

pub const ADMIN_KEY: &str = "test-admin-key-0123456789abcdef0123456789";

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_ddiffusion")
}

/// A running `ddiffusion serve` with a data folder of its own.
pub struct Server {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub base: String,
    pub key: String,
    config: String,
    env: Vec<(String, String)>,
}

impl Server {
    /// Starts a server with the dev models and `config` appended to its `config.toml`.
    pub fn start(config: &str) -> Self {
        Self::start_with_env(config, &[])
    }

    /// Starts a server as [`Server::start`] does, with extra environment variables.
    pub fn start_with_env(config: &str, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::write(dir.path().join("config.toml"), config).expect("config.toml written");
        let key = run_cli(dir.path(), &["keys", "create", "test key"]).trim().to_owned();
        assert!(key.starts_with("dd_"), "keys create printed {key:?}");
        let env = env
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        let mut server = Self {
            child: None,
            dir,
            base: String::new(),
            key,
            config: config.to_owned(),
            env,
        };
        server.spawn(0);
        server
    }

    fn spawn(&mut self, port: u16) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .unwrap();
        let mut child = Command::new(binary())
            .args(["--data-dir", self.data_dir().to_str().unwrap(), "serve", "--dev-models"])
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .env("DDIFFUSION_ADMIN_KEY", ADMIN_KEY)
            .env_remove("DDIFFUSION_CONFIG")
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("server starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("server prints its address");
        let address = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}; log:\n{}", self.log()));
        self.base = address.to_owned();
        self.child = Some(child);
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Kills the process with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    /// Stops the process with SIGTERM and waits for it to exit.
    pub fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let status = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status()
                .unwrap();
            assert!(status.success());
            let exit = child.wait().unwrap();
            assert!(exit.success(), "server exited with {exit}; log:\n{}", self.log());
        }
    }

    /// Starts the server again on the same port and data folder.
    pub fn restart(&mut self) {
        let port = self.port();
        self.kill();
        std::fs::write(self.dir.path().join("config.toml"), &self.config).unwrap();
        self.spawn(port);
    }

    pub fn client(&self) -> client::Client {
        client::Client::new(&self.base, Some(&self.key)).unwrap()
    }

    /// HTTP client that sends no credentials.
    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs JSON with the test key and returns the status and body.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http()
            .post(self.url(path))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http()
            .get(self.url(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Submits an image job to a dev model and returns its id.
    pub async fn submit_image(&self, model: &str, prompt: &str) -> Uuid {
        let (status, body) = self
            .post(
                "/api/images",
                &json!({"model": model, "prompt": prompt, "width": 16, "height": 8}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "PENDING");
        body["id"].as_str().unwrap().parse().unwrap()
    }

    pub async fn job(&self, domain: Domain, id: Uuid) -> JobResponse {
        self.client().get(domain, id).await.unwrap()
    }

    /// Polls until the job is finished; panics after `timeout`.
    pub async fn wait_finished(&self, domain: Domain, id: Uuid, timeout: Duration) -> JobResponse {
        let job = wait_for(timeout, || async {
            let job = self.job(domain, id).await;
            job.status.is_finished().then_some(job)
        })
        .await;
        job.unwrap_or_else(|| panic!("job {id} did not finish within {timeout:?}; log:\n{}", self.log()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs a `ddiffusion` command against a data folder and returns its standard output.
pub fn run_cli(data_dir: &Path, args: &[&str]) -> String {
    let output = Command::new(binary())
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("ddiffusion runs");
    assert!(
        output.status.success(),
        "ddiffusion {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Calls `check` every 50 ms until it returns `Some`, or returns `None` after `timeout`.
pub async fn wait_for<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends a raw HTTP/1.1 GET, so that the path reaches the server exactly as
/// written (HTTP clients normalise `..` segments away), and returns the status.
pub async fn raw_get(base: &str, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let response = String::from_utf8_lossy(&bytes);
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

pub const LONG: Duration = Duration::from_secs(60);

/// Encodes a PNG with a gradient, as an input plate.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 10) as u8, (y * 10) as u8, 128]));
    let mut bytes = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

/// Standard base64 of `bytes`.
pub fn base64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}
