//! The desktop binary in a real X server (Xvfb) with a private D-Bus session:
//! its server answers on the loopback port, its window shows the web UI
//! signed in with the app's own key, a second launch hands over to the first,
//! a taken port is offered the next one, and SIGTERM stops it cleanly.
//!
//! Needs Xvfb, dbus-daemon, ImageMagick's `import` and xdotool (Debian: xvfb,
//! dbus, imagemagick, xdotool; `scripts/install-deps.sh` installs them).
//! Screenshots go to `target/desktop-test-artefacts`.

mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use support::{colours, get, post_json, App, Display};

#[test]
fn window_serves_and_shows_the_signed_in_ui() {
    let display = Display::start();
    let data = tempfile::tempdir().unwrap();
    let mut app = App::start(&display, data.path(), "127.0.0.1:0");
    let base = app.address();

    let (status, body) = get(&format!("{base}/health"), None);
    assert_eq!(status, 200, "{body}");
    let key = std::fs::read_to_string(data.path().join("desktop.key")).expect("the app wrote its key");
    let (status, body) = get(&format!("{base}/api/jobs"), Some(key.trim()));
    assert_eq!(status, 200, "the app's own key works: {body}");

    // The window's UI signs in with the key the app handed it: its requests
    // reach the server under that key's name.
    app.wait_for_log(r#"key="desktop app""#);
    // The page reached the app's own commands from its http://127.0.0.1 origin.
    app.wait_for_log("the window's UI is ready");
    std::thread::sleep(Duration::from_secs(3));
    let shot = display.screenshot("desktop-window");
    let count = colours(&shot);
    assert!(
        count > 50,
        "the window screenshot {} has only {count} colours",
        shot.display()
    );

    // A second launch hands over to the first and exits.
    let second_data = tempfile::tempdir().unwrap();
    let mut second = App::start(&display, second_data.path(), "127.0.0.1:0");
    let deadline = Instant::now() + Duration::from_secs(60);
    let exited = loop {
        if let Some(status) = second.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the second launch kept running; its log:\n{}",
            second.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(exited.success(), "the second launch failed: {}", second.log());
    assert!(
        !second_data.path().join("desktop.key").exists(),
        "the second launch opened its own data folder"
    );
    app.wait_for_log("another launch asked for the window");

    let status = app.terminate();
    assert!(status.success(), "exit status {status}; log:\n{}", app.log());
    assert!(
        app.log().contains("server stopped"),
        "no clean stop; log:\n{}",
        app.log()
    );
    let reopened = std::fs::read_to_string(data.path().join("desktop.key")).unwrap();
    assert_eq!(reopened, key, "the key file is kept between starts");
}

#[test]
fn a_taken_port_is_offered_the_next_free_one() {
    let display = Display::start();
    let data = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let app = App::start(&display, data.path(), &format!("127.0.0.1:{port}"));
    app.wait_for_log("the port is taken by another program");
    std::thread::sleep(Duration::from_secs(5));
    let shot = display.screenshot("desktop-port-taken");
    assert!(
        colours(&shot) > 10,
        "the start page screenshot {} is blank",
        shot.display()
    );

    // The "Use port" button has the focus.
    display.key("Return");
    let base = app.address();
    let chosen: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
    assert!(chosen > port, "{base} does not follow port {port}");
    let (status, _) = get(&format!("{base}/health"), None);
    assert_eq!(status, 200);
    app.wait_for_log(r#"key="desktop app""#);
}

#[test]
fn the_title_counts_jobs_and_quitting_queues_the_running_one_again() {
    let display = Display::start();
    let data = tempfile::tempdir().unwrap();
    let mut app = App::start_with(&display, data.path(), "127.0.0.1:0", &["--dev-models"]);
    let base = app.address();
    let key = std::fs::read_to_string(data.path().join("desktop.key")).unwrap();
    // 600 steps of 100 ms: still running when the app quits.
    let request = r#"{"model": "dev-local", "prompt": "steps=600 step_ms=100"}"#;
    let (status, body) = post_json(&format!("{base}/api/texts"), key.trim(), request);
    assert_eq!(status, 200, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    display.wait_for_title(r"^Deferred Diffusion \(1 running\)$");

    let status = app.terminate();
    assert!(status.success(), "exit status {status}; log:\n{}", app.log());
    drop(app);

    // The next start runs the job again instead of losing it.
    let app = App::start_with(&display, data.path(), "127.0.0.1:0", &["--dev-models"]);
    let base = app.address();
    display.wait_for_title(r"^Deferred Diffusion \(1 running\)$");
    let (status, body) = get(&format!("{base}/api/texts/{id}"), Some(key.trim()));
    assert_eq!(status, 200, "{body}");
    let job: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(job["status"], "STARTED", "{body}");
}
