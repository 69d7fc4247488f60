//! Commands the window's UI calls through `window.__TAURI__.core.invoke`:
//! only what a browser cannot do. Everything else goes through the REST API.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Serialize;
use tauri::{AppHandle, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use crate::desktop::Desktop;

/// Largest file `pick_input_files` reads, matching what a plate upload can reasonably be.
const PICK_LIMIT_BYTES: u64 = 512 * 1024 * 1024;

/// Image types the file picker offers, as the server accepts them.
const IMAGE_EXTENSIONS: [&str; 7] = ["png", "jpg", "jpeg", "webp", "exr", "tif", "tiff"];

/// A file chosen in the native picker, with its content for the UI to upload.
#[derive(Debug, Serialize)]
pub struct PickedFile {
    name: String,
    mime: &'static str,
    base64: String,
}

/// Opens the folder of stored inputs and outputs in the file manager.
#[tauri::command]
pub fn open_output_folder(app: AppHandle, desktop: State<'_, Desktop>) -> Result<(), String> {
    let folder = desktop
        .storage_dir()
        .ok_or("the server has not started, so there is no output folder yet")?;
    app.opener()
        .open_path(folder.to_string_lossy(), None::<&str>)
        .map_err(|error| format!("could not open {}: {error}", folder.display()))
}

/// Shows an output in the file manager. `file_id` is the part of its URL after `/api/files/`.
#[tauri::command]
pub fn reveal_output(app: AppHandle, desktop: State<'_, Desktop>, file_id: String) -> Result<(), String> {
    let storage = desktop
        .storage_dir()
        .ok_or("the server has not started, so there are no outputs yet")?;
    let path = stored_path(&storage, &file_id)?;
    app.opener()
        .reveal_item_in_dir(&path)
        .map_err(|error| format!("could not show {}: {error}", path.display()))
}

/// Maps a file ID to its path in storage, refusing IDs that leave the folder.
fn stored_path(storage: &Path, file_id: &str) -> Result<PathBuf, String> {
    let file_id = file_id.split(['?', '#']).next().unwrap_or_default();
    if !ddiffusion_server::files::is_safe_relative(file_id) {
        return Err(format!(
            "file ID {file_id:?} is not a stored file: pass the part of an output URL after /api/files/"
        ));
    }
    let path = storage.join(file_id);
    if !path.is_file() {
        return Err(format!(
            "{} does not exist; the job's files may have been deleted by the retention period",
            path.display()
        ));
    }
    Ok(path)
}

/// Asks for one or more images in the native file picker and returns their
/// contents; an empty list when the user cancels.
#[tauri::command]
pub async fn pick_input_files(app: AppHandle, multiple: Option<bool>) -> Result<Vec<PickedFile>, String> {
    let picker = app.dialog().file().add_filter("Images", &IMAGE_EXTENSIONS);
    let chosen = tauri::async_runtime::spawn_blocking(move || {
        if multiple.unwrap_or(false) {
            picker.blocking_pick_files().unwrap_or_default()
        } else {
            picker.blocking_pick_file().into_iter().collect()
        }
    })
    .await
    .map_err(|error| format!("the file picker failed: {error}"))?;
    let mut files = Vec::with_capacity(chosen.len());
    for file in chosen {
        let path = file
            .into_path()
            .map_err(|error| format!("the picked file has no local path: {error}"))?;
        files.push(read_picked(&path)?);
    }
    Ok(files)
}

fn read_picked(path: &Path) -> Result<PickedFile, String> {
    let size = std::fs::metadata(path)
        .map_err(|error| format!("could not read {}: {error}", path.display()))?
        .len();
    if size > PICK_LIMIT_BYTES {
        return Err(format!(
            "{} has {} MiB, more than the {} MiB an input may have; pick a smaller file",
            path.display(),
            size / (1024 * 1024),
            PICK_LIMIT_BYTES / (1024 * 1024)
        ));
    }
    let bytes = std::fs::read(path).map_err(|error| format!("could not read {}: {error}", path.display()))?;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".to_owned());
    Ok(PickedFile {
        mime: mime_of(&name),
        name,
        base64: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

fn mime_of(name: &str) -> &'static str {
    let extension = name.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
    match extension.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "exr" => "image/x-exr",
        "tif" | "tiff" => "image/tiff",
        _ => "application/octet-stream",
    }
}

/// Puts text on the system clipboard.
#[tauri::command]
pub fn copy_text(app: AppHandle, text: String) -> Result<(), String> {
    app.clipboard()
        .write_text(text)
        .map_err(|error| format!("could not copy to the clipboard: {error}"))
}

/// Starts the server on another port after the configured one was taken.
#[tauri::command]
pub async fn use_port(app: AppHandle, port: u16) -> Result<(), String> {
    crate::desktop::serve_on_port(&app, port)
        .await
        .map_err(|error| format!("{error:#}"))
}

/// Quits the app, letting running jobs finish their grace period.
#[tauri::command]
pub fn quit_app(app: AppHandle) {
    app.exit(0);
}

/// Logs the time since the process started, once the UI has rendered its
/// first page in the window. The start-up benchmark reads this line.
#[tauri::command]
pub fn ui_ready(desktop: State<'_, Desktop>) {
    let elapsed_ms = desktop.started.elapsed().as_millis() as u64;
    tracing::info!(elapsed_ms, "the window's UI is ready");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ids_stay_inside_storage() {
        let folder = tempfile::tempdir().unwrap();
        let storage = folder.path();
        std::fs::create_dir_all(storage.join("outputs")).unwrap();
        std::fs::write(storage.join("outputs/a.png"), b"png").unwrap();
        assert_eq!(
            stored_path(storage, "outputs/a.png?sig=1").unwrap(),
            storage.join("outputs/a.png")
        );
        let error = stored_path(storage, "../etc/passwd").unwrap_err();
        assert!(error.contains("not a stored file"), "{error}");
        let error = stored_path(storage, "outputs/missing.png").unwrap_err();
        assert!(error.contains("does not exist"), "{error}");
    }

    #[test]
    fn picked_files_carry_their_type() {
        assert_eq!(mime_of("plate.EXR"), "image/x-exr");
        assert_eq!(mime_of("a.jpeg"), "image/jpeg");
        assert_eq!(mime_of("notes"), "application/octet-stream");
    }
}
