//! The web UI at `/ui`: the files that `make ui` (trunk) writes to `ui/dist`.
//!
//! Release builds embed the files at compile time, so the binary serves the UI
//! without the source tree. Debug builds read them from `ui/dist` at run time
//! (rust-embed's default), so a rebuilt UI shows without rebuilding the server.
//! When `ui/dist` is missing, `/ui` returns a page that says how to build it.
//! The static files need no API key; the app sends its key with each API call.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::RustEmbed;

use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "../../ui/dist"]
#[allow_missing = true]
struct UiFiles;

const NOT_BUILT: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Deferred Diffusion</title></head>\
<body><h1>The web UI is not built</h1>\
<p>This server found no files in <code>ui/dist</code>. Run <code>make ui</code> in the repository, \
then reload this page (debug builds read <code>ui/dist</code> from disk) or rebuild the server with \
<code>make build</code> (release builds embed it). The API documentation is at <a href=\"/docs\">/docs</a>.</p>\
</body></html>";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui", get(index))
        .route("/ui/", get(index))
        .route("/ui/{*path}", get(file))
}

async fn index() -> Response {
    match UiFiles::get("index.html") {
        Some(page) => ([(header::CACHE_CONTROL, "no-cache")], Html(page.data.into_owned())).into_response(),
        None => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], Html(NOT_BUILT)).into_response(),
    }
}

/// Serves one built file, or `index.html` for any other path, because the
/// app routes on the client: `/ui/tasks/{id}` is a page of the app, not a file.
async fn file(Path(path): Path<String>) -> Response {
    let Some(asset) = UiFiles::get(&path) else {
        if path.ends_with('/') || !path.rsplit('/').next().unwrap_or_default().contains('.') {
            return index().await;
        }
        return (StatusCode::NOT_FOUND, format!("No such UI file: {path}")).into_response();
    };
    let content_type = content_type_of(&path);
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        asset.data.into_owned(),
    )
        .into_response()
}

fn content_type_of(path: &str) -> &'static str {
    let extension = path
        .rsplit_once('.')
        .map(|(_, extension)| extension)
        .unwrap_or_default();
    match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::content_type_of;

    #[test]
    fn content_type_of_wasm_and_scripts() {
        assert_eq!(content_type_of("ui_bg.wasm"), "application/wasm");
        assert_eq!(content_type_of("ui.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type_of("style.css"), "text/css; charset=utf-8");
        assert_eq!(content_type_of("LICENSE"), "application/octet-stream");
    }
}
