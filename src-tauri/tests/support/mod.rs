//! Xvfb, a private D-Bus session and the desktop binary, for the window
//! tests and the start-up benchmark.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_ddiffusion-desktop");
/// WebKitGTK's first start in a fresh profile compiles shaders and fills caches.
pub const START_LIMIT: Duration = Duration::from_secs(120);

/// An X server and a session bus, stopped on drop.
pub struct Display {
    xvfb: Child,
    bus: Child,
    number: String,
    bus_address: String,
    home: tempfile::TempDir,
}

impl Display {
    pub fn start() -> Display {
        let home = tempfile::tempdir().unwrap();
        let mut xvfb = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs (Debian package xvfb; scripts/install-deps.sh installs it)");
        let mut number = String::new();
        BufReader::new(xvfb.stdout.take().unwrap())
            .read_line(&mut number)
            .unwrap();
        let number = format!(":{}", number.trim());
        assert!(number.len() > 1, "Xvfb printed no display number");

        let socket = home.path().join("bus");
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!("--address=unix:path={}", socket.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs (Debian package dbus; scripts/install-deps.sh installs it)");
        let mut bus_address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut bus_address)
            .unwrap();
        Display {
            xvfb,
            bus,
            number,
            bus_address: bus_address.trim().to_owned(),
            home,
        }
    }

    /// A command with this display, bus and a private home for WebKitGTK's files.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        let home = self.home.path();
        command
            .env("DISPLAY", &self.number)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_RUNTIME_DIR", home)
            .env("HF_HOME", home.join("hf"))
            .env("HF_HUB_OFFLINE", "1")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("DDIFFUSION_API_KEY")
            .env_remove("DDIFFUSION_ADMIN_KEY")
            .env_remove("DDIFFUSION_BIND")
            .env_remove("DDIFFUSION_CONFIG")
            .env_remove("DDIFFUSION_DATA_DIR");
        command
    }

    /// Saves a screenshot of the whole screen and returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let folder = artefacts();
        let path = folder.join(format!("{name}.png"));
        let status = self
            .command("import")
            .args(["-window", "root"])
            .arg(&path)
            .status()
            .expect("ImageMagick's import runs (Debian package imagemagick)");
        assert!(status.success(), "import failed for {name}");
        path
    }

    /// Waits until a window's title matches the regular expression `pattern`.
    pub fn wait_for_title(&self, pattern: &str) {
        let deadline = Instant::now() + START_LIMIT;
        while Instant::now() < deadline {
            let found = self
                .command("xdotool")
                .args(["search", "--name", pattern])
                .output()
                .expect("xdotool runs (Debian package xdotool)");
            if found.status.success() && !found.stdout.is_empty() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("no window title matched {pattern:?}");
    }

    /// Focuses the app's window and presses `key` in it.
    pub fn key(&self, key: &str) {
        let status = self
            .command("xdotool")
            .args([
                "search",
                "--name",
                "^Deferred Diffusion$",
                "windowfocus",
                "--sync",
                "key",
                key,
            ])
            .status()
            .expect("xdotool runs (Debian package xdotool)");
        assert!(status.success(), "xdotool key {key} failed");
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.bus.kill();
        let _ = self.bus.wait();
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}

pub fn artefacts() -> PathBuf {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/desktop-test-artefacts");
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

/// The desktop app, with its output collected; killed on drop if still running.
pub struct App {
    pub child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl App {
    pub fn start(display: &Display, data_dir: &Path, bind: &str) -> App {
        App::start_with(display, data_dir, bind, &[])
    }

    /// Starts the binary with more arguments, such as `--headless`.
    pub fn start_with(display: &Display, data_dir: &Path, bind: &str, extra: &[&str]) -> App {
        let mut child = display
            .command(BINARY)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--bind", bind])
            .args(extra)
            .env("DDIFFUSION_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the desktop binary starts");
        let (sender, stdout) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let collected = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read) = err.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                collected
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        });
        App { child, stdout, stderr }
    }

    /// Waits for the "listening on" line and returns the base URL.
    pub fn address(&self) -> String {
        let deadline = Instant::now() + START_LIMIT;
        while Instant::now() < deadline {
            match self.stdout.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("ddiffusion listening on ") {
                        return rest.split_whitespace().next().unwrap().to_owned();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("the app printed no address; its log:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + START_LIMIT;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("the app never logged {needle:?}; its log:\n{}", self.log());
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the app did not stop within 30 s of SIGTERM; its log:\n{}", self.log());
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status code and body of a GET request, with the API key if given.
pub fn get(url: &str, key: Option<&str>) -> (u16, String) {
    let mut headers = Vec::new();
    if let Some(key) = key {
        headers.push(format!("Authorization: Bearer {key}"));
    }
    request("GET", url, &headers, "")
}

/// Status code and body of a POST of `json` with the API key.
pub fn post_json(url: &str, key: &str, json: &str) -> (u16, String) {
    let headers = [
        format!("Authorization: Bearer {key}"),
        "Content-Type: application/json".to_owned(),
        format!("Content-Length: {}", json.len()),
    ];
    request("POST", url, &headers, json)
}

/// A minimal HTTP/1.1 exchange over a TCP stream with `Connection: close`;
/// enough for the JSON answers of these tests.
fn request(method: &str, url: &str, headers: &[String], body: &str) -> (u16, String) {
    use std::io::Write;
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host).expect("the server accepts connections");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Number of distinct colours in a PNG, by ImageMagick.
pub fn colours(path: &Path) -> usize {
    let output = Command::new("identify")
        .args(["-format", "%k"])
        .arg(path)
        .output()
        .expect("ImageMagick's identify runs");
    String::from_utf8_lossy(&output.stdout).trim().parse().unwrap_or(0)
}
