//! The tray icon with the queue's counts, and notifications for long jobs.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use engine::Engine;
use protocol::{JobEvent, TaskStatus};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

/// Jobs that ran at least this long notify when they finish while the window is hidden.
const LONG_JOB: Duration = Duration::from_secs(20);

/// Whether the tray icon exists; without it, closing the window quits.
pub struct TrayPresent(pub bool);

/// The tray menu's first line, which shows the counts.
struct QueueLine(MenuItem<Wry>);

/// Creates the tray icon with its menu: the queue's counts, Show window, Quit.
pub fn create_tray(app: &AppHandle) -> tauri::Result<()> {
    let counts = MenuItem::with_id(app, "counts", "Queue empty", false, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show window", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Deferred Diffusion", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&counts, &separator, &show, &quit])?;
    let mut builder = TrayIconBuilder::with_id("main")
        .tooltip("Deferred Diffusion")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => crate::desktop::show_window(app),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    app.manage(QueueLine(counts));
    Ok(())
}

/// Text of the tray's count line.
fn counts_text(running: i64, waiting: i64) -> String {
    match (running, waiting) {
        (0, 0) => "Queue empty".to_owned(),
        (running, 0) => format!("{running} running"),
        (0, waiting) => format!("{waiting} waiting"),
        (running, waiting) => format!("{running} running, {waiting} waiting"),
    }
}

/// Follows the engine's events until it stops: refreshes the tray's counts on
/// every state change and notifies when a long job ends while the window is hidden.
pub async fn follow(app: AppHandle, engine: Engine) {
    let mut events = engine.subscribe();
    let mut started: HashMap<uuid::Uuid, Instant> = HashMap::new();
    refresh_counts(&app, &engine).await;
    loop {
        let job = match events.recv().await {
            Ok(JobEvent::State { job }) => job,
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => {
                refresh_counts(&app, &engine).await;
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        refresh_counts(&app, &engine).await;
        match job.status {
            TaskStatus::Started => {
                started.entry(job.id).or_insert_with(Instant::now);
            }
            TaskStatus::Success | TaskStatus::Failure | TaskStatus::Revoked => {
                let ran = started.remove(&job.id).map(|at| at.elapsed());
                if ran.is_some_and(|ran| ran >= LONG_JOB) && window_hidden(&app) {
                    let (title, body) = finished_message(&job);
                    notify(&app, &title, &body);
                }
            }
            _ => {}
        }
    }
}

async fn refresh_counts(app: &AppHandle, engine: &Engine) {
    let lanes = match engine.lane_status().await {
        Ok(lanes) => lanes,
        Err(error) => {
            tracing::warn!(%error, "could not count the queue for the tray");
            return;
        }
    };
    let running = lanes.iter().map(|lane| lane.running).sum();
    let waiting = lanes.iter().map(|lane| lane.waiting).sum();
    let text = counts_text(running, waiting);
    if let Some(line) = app.try_state::<QueueLine>() {
        let _ = line.0.set_text(&text);
    }
    if let Some(tray) = app.tray_by_id("main") {
        let _ = tray.set_tooltip(Some(format!("Deferred Diffusion: {text}")));
    }
    // The title shows in task bars and window switchers, also where there is no tray.
    if let Some(window) = app.get_webview_window(crate::desktop::MAIN_WINDOW) {
        let title = match running + waiting {
            0 => "Deferred Diffusion".to_owned(),
            _ => format!("Deferred Diffusion ({text})"),
        };
        let _ = window.set_title(&title);
    }
}

fn window_hidden(app: &AppHandle) -> bool {
    app.get_webview_window(crate::desktop::MAIN_WINDOW)
        .map(|window| !window.is_visible().unwrap_or(true) || window.is_minimized().unwrap_or(false))
        .unwrap_or(true)
}

/// Title and body of the notification for a finished job.
fn finished_message(job: &protocol::JobSummary) -> (String, String) {
    let kind = match job.domain {
        protocol::Domain::Images => "Image",
        protocol::Domain::Texts => "Text",
        protocol::Domain::Videos => "Video",
        protocol::Domain::Workflows => "Workflow",
    };
    let title = match job.status {
        TaskStatus::Success => format!("{kind} job finished"),
        TaskStatus::Revoked => format!("{kind} job cancelled"),
        _ => format!("{kind} job failed"),
    };
    let mut body = format!("{} on {}", job.model, job.lane);
    if let Some(error) = &job.error_message {
        body.push_str(": ");
        body.push_str(error);
    }
    (title, body)
}

/// Shows a desktop notification; where the desktop has no notification
/// service it is logged instead.
pub fn notify(app: &AppHandle, title: &str, body: &str) {
    if let Err(error) = app.notification().builder().title(title).body(body).show() {
        tracing::info!(%error, title, body, "could not show a desktop notification");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_naturally() {
        assert_eq!(counts_text(0, 0), "Queue empty");
        assert_eq!(counts_text(1, 0), "1 running");
        assert_eq!(counts_text(0, 3), "3 waiting");
        assert_eq!(counts_text(2, 5), "2 running, 5 waiting");
    }
}
