//! `ddiffusion-desktop`: the desktop app.
//!
//! One process hosts the job engine, the HTTP server on the loopback address
//! and a window showing the web UI that server serves at `/ui`, so jobs from
//! the window, Nuke, Houdini and scripts share one queue. Where there is no
//! display it runs the headless server instead.

// A release build on Windows opens no console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod desktop;
mod queue;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ddiffusion_server::config::{Paths, Settings};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "ddiffusion-desktop",
    version,
    about = "Deferred Diffusion desktop app: the job server and its web UI in one window"
)]
struct Cli {
    /// Folder for the database, stored inputs and outputs, and the keys
    /// [default: the platform's data folder; env: DDIFFUSION_DATA_DIR].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address and port for the server [default: 127.0.0.1:5000; env: DDIFFUSION_BIND].
    #[arg(long)]
    bind: Option<String>,
    /// Run the headless server without a window, as `ddiffusion serve` does.
    #[arg(long)]
    headless: bool,
    /// Register the dev-local and dev-external test models.
    #[arg(long)]
    dev_models: bool,
}

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("DDIFFUSION_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    match run(cli, started) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, started: std::time::Instant) -> anyhow::Result<()> {
    let paths = Paths::resolve(cli.data_dir)?;
    let mut settings = Settings::load(&paths.config_file)?;
    if let Some(bind) = cli.bind {
        settings.bind = bind;
    }
    settings.dev_models |= cli.dev_models;
    if cli.headless || !has_display() {
        if !cli.headless {
            eprintln!("No display found (DISPLAY and WAYLAND_DISPLAY are unset): running the headless server.");
        }
        let runtime = tokio::runtime::Runtime::new()?;
        return runtime.block_on(ddiffusion_server::serve::run(paths, settings));
    }
    desktop::run(paths, settings, started)
}

/// True where a window can be shown: always on Windows and macOS, with an X11
/// or Wayland display elsewhere.
fn has_display() -> bool {
    if cfg!(any(target_os = "windows", target_os = "macos")) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}
