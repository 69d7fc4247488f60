//! The window, the in-process server and the app's lifetime.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use ddiffusion_server::config::{Paths, Settings};
use ddiffusion_server::serve::{self, Running};
use ddiffusion_server::state::AppState;
use serde::Serialize;
use tauri::{AppHandle, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder, WindowEvent};

/// Label of the one window.
pub const MAIN_WINDOW: &str = "main";

/// Name of the API key the app creates for its own window.
const DESKTOP_KEY_NAME: &str = "desktop app";

/// Ports tried after a taken one when looking for a free one to offer.
const PORT_SEARCH: u16 = 50;

/// State shared by the commands, the tray and the exit handler.
pub struct Desktop {
    pub paths: Paths,
    /// When the process started, for the time to a ready window.
    pub started: Instant,
    /// Host part of the configured bind address.
    bind_host: String,
    /// Opened engine and routes waiting for a port, when the configured one was taken.
    waiting: Mutex<Option<AppState>>,
    /// The serving server; taken at exit.
    running: tokio::sync::Mutex<Option<Running>>,
    /// Storage folder of inputs and outputs, known once the engine is open.
    storage: Mutex<Option<PathBuf>>,
    /// Set once the exit handler has started the shutdown.
    quitting: AtomicBool,
    /// Set once the server has stopped and the process may exit.
    stopped: AtomicBool,
    /// Set once the "still running in the tray" notification has been shown.
    told_about_tray: AtomicBool,
}

impl Desktop {
    /// Returns the folder of stored inputs and outputs.
    pub fn storage_dir(&self) -> Option<PathBuf> {
        self.storage.lock().unwrap().clone()
    }
}

/// Content of the start page shown instead of the UI.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum StartPage {
    PortTaken { address: String, next_port: u16 },
    Error { message: String },
}

/// Opens the engine, starts the server and the window, and runs until quit.
pub fn run(paths: Paths, settings: Settings, started: Instant) -> anyhow::Result<()> {
    let (bind_host, _) = split_host_port(&settings.bind)?;
    let desktop = Desktop {
        paths: paths.clone(),
        started,
        bind_host,
        waiting: Mutex::new(None),
        running: tokio::sync::Mutex::new(None),
        storage: Mutex::new(None),
        quitting: AtomicBool::new(false),
        stopped: AtomicBool::new(false),
        told_about_tray: AtomicBool::new(false),
    };
    let app = tauri::Builder::default()
        // The single-instance plugin goes first so that a second launch exits
        // before it opens the database.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tracing::info!("another launch asked for the window");
            show_window(app);
        }))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .manage(desktop)
        .invoke_handler(tauri::generate_handler![
            crate::commands::open_output_folder,
            crate::commands::reveal_output,
            crate::commands::pick_input_files,
            crate::commands::copy_text,
            crate::commands::use_port,
            crate::commands::quit_app,
            crate::commands::ui_ready,
        ])
        .setup(move |app| {
            setup(app.handle(), settings)?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("could not start the desktop app")?;
    app.run(on_event);
    Ok(())
}

fn setup(app: &AppHandle, settings: Settings) -> anyhow::Result<()> {
    let desktop = app.state::<Desktop>();
    let tray = crate::queue::create_tray(app)
        .inspect_err(|error| tracing::warn!(%error, "no tray icon; closing the window quits the app"))
        .is_ok();
    app.manage(crate::queue::TrayPresent(tray));

    // Ctrl-C and SIGTERM quit like the tray's Quit: running jobs get their grace period.
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        serve::wait_for_signal().await;
        tracing::info!("signal received");
        handle.exit(0);
    });

    let bind = settings.bind.clone();
    let opened = tauri::async_runtime::block_on(async {
        let state = serve::open_state(&desktop.paths, settings).await?;
        let keys = window_keys(&state, &desktop.paths.data_dir).await?;
        anyhow::Ok((state, keys))
    });
    let (state, keys) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            tracing::error!("{error:#}");
            open_window(
                app,
                None,
                &StartPage::Error {
                    message: format!("{error:#}"),
                }
                .script(),
                None,
            )?;
            return Ok(());
        }
    };
    *desktop.storage.lock().unwrap() = Some(state.engine.storage_dir().to_path_buf());
    let script = keys.script();

    match tauri::async_runtime::block_on(tokio::net::TcpListener::bind(&bind)) {
        Ok(listener) => {
            let address = tauri::async_runtime::block_on(start_serving(app, state, listener))?;
            open_window(app, Some(ui_url(&desktop.bind_host, address.port())), &script, None)?;
        }
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            tracing::warn!(%bind, "the port is taken by another program");
            let (host, port) = split_host_port(&bind)?;
            let next_port = free_port(&host, port).with_context(|| {
                format!(
                    "{bind} is taken and no free port follows it; set `bind` in {}",
                    desktop.paths.config_file.display()
                )
            })?;
            *desktop.waiting.lock().unwrap() = Some(state);
            let page = StartPage::PortTaken {
                address: bind,
                next_port,
            };
            open_window(app, None, &script, Some(&page.script()))?;
        }
        Err(error) => {
            let message = format!(
                "could not listen on {bind}: {error}; set `bind` in {}",
                desktop.paths.config_file.display()
            );
            open_window(app, None, &StartPage::Error { message }.script(), None)?;
        }
    }
    Ok(())
}

/// Starts the engine and the HTTP server on `listener`, and follows the queue
/// for the tray and notifications. Returns the address it listens on.
pub async fn start_serving(
    app: &AppHandle,
    state: AppState,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<std::net::SocketAddr> {
    let desktop = app.state::<Desktop>();
    let engine = state.engine.clone();
    let running = serve::start(&desktop.paths, state, listener).await?;
    let address = running.address;
    *desktop.running.lock().await = Some(running);
    // Tests and scripts read this line to learn the address.
    println!(
        "ddiffusion listening on http://{address} (API docs at http://{address}/docs, web UI at http://{address}/ui)"
    );
    tauri::async_runtime::spawn(crate::queue::follow(app.clone(), engine));
    Ok(address)
}

/// Starts the server on `port` of the configured host for the start page's "Use port" button.
pub async fn serve_on_port(app: &AppHandle, port: u16) -> anyhow::Result<()> {
    let desktop = app.state::<Desktop>();
    let Some(state) = desktop.waiting.lock().unwrap().take() else {
        anyhow::bail!("the server is already running");
    };
    let address = format!("{}:{port}", desktop.bind_host);
    let listener = match serve::bind(&address).await {
        Ok(listener) => listener,
        Err(error) => {
            *desktop.waiting.lock().unwrap() = Some(state);
            return Err(error);
        }
    };
    let address = start_serving(app, state, listener).await?;
    let url = ui_url(&desktop.bind_host, address.port());
    let window = app.get_webview_window(MAIN_WINDOW).context("the window is gone")?;
    window.navigate(url.parse().context("the UI address does not parse")?)?;
    Ok(())
}

/// Address of the web UI for the window. A wildcard bind is reached through the loopback address.
fn ui_url(bind_host: &str, port: u16) -> String {
    let host = match bind_host {
        "0.0.0.0" | "" => "127.0.0.1",
        "[::]" | "::" => "[::1]",
        // NOTE: a bind to one LAN address shows the UI from that address, which the
        // window's capability does not list, so the UI's native buttons stay hidden there.
        other => other,
    };
    format!("http://{host}:{port}/ui/")
}

/// Splits `host:port`, keeping the brackets of an IPv6 host.
fn split_host_port(address: &str) -> anyhow::Result<(String, u16)> {
    let (host, port) = address
        .rsplit_once(':')
        .with_context(|| format!("bind address {address:?} has no port; write it as 127.0.0.1:5000"))?;
    let port = port
        .parse()
        .with_context(|| format!("bind address {address:?} has no valid port; write it as 127.0.0.1:5000"))?;
    Ok((host.to_owned(), port))
}

/// First port after `port` on `host` that nothing listens on.
fn free_port(host: &str, port: u16) -> Option<u16> {
    (1..=PORT_SEARCH)
        .filter_map(|step| port.checked_add(step))
        .find(|candidate| std::net::TcpListener::bind(format!("{host}:{candidate}")).is_ok())
}

/// The keys the window's UI signs in with.
struct WindowKeys {
    api_key: String,
    admin_key: String,
}

impl WindowKeys {
    /// Script run before each page of the window: stores the keys for the
    /// UI, on the loopback server's pages only.
    fn script(&self) -> String {
        format!(
            r#"(function () {{
  if (location.protocol !== "http:" || !["127.0.0.1", "localhost", "[::1]"].includes(location.hostname)) return;
  try {{
    localStorage.setItem("ddiffusion.api_key", {api});
    localStorage.setItem("ddiffusion.admin_key", {admin});
  }} catch (error) {{}}
}})();"#,
            api = serde_json::Value::from(self.api_key.as_str()),
            admin = serde_json::Value::from(self.admin_key.as_str()),
        )
    }
}

impl StartPage {
    fn script(&self) -> String {
        format!(
            "window.__DD_STARTUP__ = {};",
            serde_json::to_string(self).expect("the start page serializes")
        )
    }
}

/// Returns the app's own API key, creating it on first start (or when it was
/// revoked) and keeping it in `desktop.key` in the data folder.
async fn window_keys(state: &AppState, data_dir: &Path) -> anyhow::Result<WindowKeys> {
    let pool = state.engine.pool();
    let path = data_dir.join("desktop.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let key = text.trim();
        if engine::keys::verify(pool, key).await?.is_some() {
            return Ok(WindowKeys {
                api_key: key.to_owned(),
                admin_key: state.admin_key.to_string(),
            });
        }
        tracing::info!(path = %path.display(), "the desktop app's key was revoked; creating a new one");
    }
    // A key of that name whose secret was lost is replaced.
    for stored in engine::keys::list(pool).await? {
        if stored.name == DESKTOP_KEY_NAME {
            engine::keys::revoke(pool, &stored.key_id).await?;
        }
    }
    let (api_key, stored) = engine::keys::create(pool, DESKTOP_KEY_NAME).await?;
    write_owner_only(&path, &api_key).with_context(|| format!("could not write {}", path.display()))?;
    tracing::info!(key_id = %stored.key_id, path = %path.display(), "created the desktop app's API key");
    Ok(WindowKeys {
        api_key,
        admin_key: state.admin_key.to_string(),
    })
}

/// Writes `text` to `path` through a temporary file, readable by the owner only.
fn write_owner_only(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let temporary = path.with_extension("key.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

/// Opens the main window on the UI at `url`, or on the start page when `url` is `None`.
fn open_window(app: &AppHandle, url: Option<String>, script: &str, start_page: Option<&str>) -> anyhow::Result<()> {
    let target = match url {
        Some(url) => WebviewUrl::External(url.parse().context("the UI address does not parse")?),
        None => WebviewUrl::App("index.html".into()),
    };
    let mut builder = WebviewWindowBuilder::new(app, MAIN_WINDOW, target)
        .title("Deferred Diffusion")
        .inner_size(1280.0, 820.0)
        .min_inner_size(720.0, 480.0)
        .initialization_script(script);
    if let Some(start_page) = start_page {
        builder = builder.initialization_script(start_page);
    }
    builder.build().context("could not open the window")?;
    Ok(())
}

/// Shows, unminimizes and focuses the main window.
pub fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Hides the window to the tray on close, and stops the server before the process exits.
fn on_event(app: &AppHandle, event: RunEvent) {
    match event {
        RunEvent::WindowEvent {
            label,
            event: WindowEvent::CloseRequested { api, .. },
            ..
        } if label == MAIN_WINDOW && app.state::<crate::queue::TrayPresent>().0 => {
            api.prevent_close();
            if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
                let _ = window.hide();
            }
            let desktop = app.state::<Desktop>();
            if !desktop.told_about_tray.swap(true, Ordering::SeqCst) {
                crate::queue::notify(
                    app,
                    "Deferred Diffusion is still running",
                    "The server keeps serving plug-ins and scripts. Quit from the tray icon's menu.",
                );
            }
        }
        RunEvent::ExitRequested { api, code, .. } => {
            let desktop = app.state::<Desktop>();
            if desktop.stopped.load(Ordering::SeqCst) {
                return;
            }
            api.prevent_exit();
            if desktop.quitting.swap(true, Ordering::SeqCst) {
                return;
            }
            let handle = app.clone();
            tauri::async_runtime::spawn(async move {
                let desktop = handle.state::<Desktop>();
                if let Some(running) = desktop.running.lock().await.take() {
                    running.stop().await;
                }
                desktop.stopped.store(true, Ordering::SeqCst);
                handle.exit(code.unwrap_or(0));
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_binds_are_shown_through_the_loopback_address() {
        assert_eq!(ui_url("0.0.0.0", 5000), "http://127.0.0.1:5000/ui/");
        assert_eq!(ui_url("[::]", 5001), "http://[::1]:5001/ui/");
        assert_eq!(ui_url("127.0.0.1", 5002), "http://127.0.0.1:5002/ui/");
    }

    #[test]
    fn host_and_port_split_at_the_last_colon() {
        assert_eq!(split_host_port("127.0.0.1:5000").unwrap(), ("127.0.0.1".into(), 5000));
        assert_eq!(split_host_port("[::1]:80").unwrap(), ("[::1]".into(), 80));
        let error = split_host_port("localhost").unwrap_err().to_string();
        assert!(error.contains("has no port"), "{error}");
        let error = split_host_port("localhost:http").unwrap_err().to_string();
        assert!(error.contains("no valid port"), "{error}");
    }

    #[test]
    fn the_offered_port_is_free() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let offered = free_port("127.0.0.1", port).expect("a free port follows");
        assert!(offered > port);
        std::net::TcpListener::bind(("127.0.0.1", offered)).expect("the offered port binds");
    }

    #[test]
    fn the_key_script_quotes_the_keys() {
        let keys = WindowKeys {
            api_key: "dd_a_b".into(),
            admin_key: "x\"y".into(),
        };
        let script = keys.script();
        assert!(
            script.contains(r#"setItem("ddiffusion.api_key", "dd_a_b")"#),
            "{script}"
        );
        assert!(
            script.contains(r#"setItem("ddiffusion.admin_key", "x\"y")"#),
            "{script}"
        );
    }
}
