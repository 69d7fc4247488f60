//! Start-up time and idle memory of the desktop app, against the same binary
//! run headless (`--headless`, the server without a window) in the same run,
//! and the web UI's WebAssembly size.
//!
//! `cargo bench -p ddiffusion-desktop --bench startup` (after `make ui`). Each
//! run starts a fresh Xvfb, D-Bus session, home and data folder, so WebKitGTK
//! starts cold every time. "Interactive" is when both the UI's first request
//! signed in with the app's key and its `ui_ready` command have reached the
//! app: the page has loaded, run its WebAssembly, rendered and asked the
//! server for data. Memory is the proportional set size (PSS) of the process
//! and its children (WebKitGTK's web and network processes), 5 s after the
//! UI became interactive.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{App, Display};

const RUNS: usize = 5;
const SETTLE: Duration = Duration::from_secs(5);

struct Sample {
    listening: Duration,
    interactive: Option<Duration>,
    pss_mib: f64,
}

fn main() {
    let mut desktop = Vec::new();
    let mut headless = Vec::new();
    for run in 0..RUNS {
        headless.push(measure(&["--headless"], false));
        desktop.push(measure(&[], true));
        eprintln!("run {} of {RUNS} done", run + 1);
    }
    let median = |samples: &[Sample], pick: &dyn Fn(&Sample) -> f64| {
        let mut values: Vec<f64> = samples.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let listening_desktop = median(&desktop, &|s| s.listening.as_secs_f64());
    let listening_headless = median(&headless, &|s| s.listening.as_secs_f64());
    let interactive = median(&desktop, &|s| s.interactive.unwrap().as_secs_f64());
    let pss_desktop = median(&desktop, &|s| s.pss_mib);
    let pss_headless = median(&headless, &|s| s.pss_mib);
    let wasm = wasm_sizes(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist"));

    println!("| measure (median of {RUNS} cold starts) | desktop app | headless server | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| start to listening | {:.2} s | {:.2} s | {:.2} | |",
        listening_desktop,
        listening_headless,
        listening_desktop / listening_headless
    );
    println!("| start to interactive window | {interactive:.2} s | | | ≤ 2 s |");
    println!(
        "| idle memory (PSS, with WebKit processes) | {pss_desktop:.0} MiB | {pss_headless:.0} MiB | {:.2} | ≤ 150 MB |",
        pss_desktop / pss_headless
    );
    match wasm {
        Some((raw, gzip)) => println!(
            "| web UI WebAssembly | {:.0} KiB, {:.0} KiB gzip | | | ≤ 2 MB gzip |",
            raw as f64 / 1024.0,
            gzip as f64 / 1024.0
        ),
        None => println!("| web UI WebAssembly | ui/dist has no .wasm: run `make ui` | | | |"),
    }
}

/// Starts the binary with `extra` arguments in a fresh display and data folder and measures it.
fn measure(extra: &[&str], window: bool) -> Sample {
    let display = Display::start();
    let data = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut app = App::start_with(&display, data.path(), "127.0.0.1:0", extra);
    app.address();
    let listening = started.elapsed();
    let interactive = window.then(|| {
        app.wait_for_log(r#"key="desktop app""#);
        app.wait_for_log("the window's UI is ready");
        started.elapsed()
    });
    std::thread::sleep(SETTLE);
    let pss_mib = tree_pss_kib(app.child.id()) as f64 / 1024.0;
    app.terminate();
    Sample {
        listening,
        interactive,
        pss_mib,
    }
}

/// Sum of the PSS of `pid` and all its descendants, in KiB.
fn tree_pss_kib(pid: u32) -> u64 {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // The parent's PID is the second field after the parenthesised command name.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|field| field.parse::<u32>().ok());
        if let Some(parent) = parent {
            children.entry(parent).or_default().push(child);
        }
    }
    let mut total = 0;
    let mut pending = vec![pid];
    while let Some(current) = pending.pop() {
        total += pss_kib(current);
        pending.extend(children.get(&current).into_iter().flatten());
    }
    total
}

fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Raw and gzip-compressed size of the UI's WebAssembly files.
fn wasm_sizes(dist: &Path) -> Option<(u64, u64)> {
    let mut raw = 0;
    let mut compressed = 0;
    for entry in std::fs::read_dir(dist).ok()?.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|extension| extension == "wasm") {
            raw += entry.metadata().ok()?.len();
            let output = std::process::Command::new("gzip")
                .args(["-9", "-c"])
                .arg(&path)
                .output()
                .ok()?;
            compressed += output.stdout.len() as u64;
        }
    }
    (raw > 0).then_some((raw, compressed))
}
