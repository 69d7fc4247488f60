//! Commands of the desktop app, reached through `window.__TAURI__.core.invoke`.
//!
//! The desktop app shows this same UI in its window and adds `window.__TAURI__`.
//! Every lookup is dynamic, so a plain browser, which has no such object, runs
//! the same build and each caller falls back to the browser's own API.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A file chosen in the desktop app's file dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct PickedFile {
    pub name: String,
    pub mime: String,
    /// Contents as standard base64, without a `data:` prefix.
    pub base64: String,
}

fn property(target: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(name))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null())
}

/// Returns `window.__TAURI__.core.invoke` when the page runs in the desktop app.
fn invoke_function() -> Option<Function> {
    let window: JsValue = web_sys::window()?.into();
    let core = property(&property(&window, "__TAURI__")?, "core")?;
    property(&core, "invoke")?.dyn_into().ok()
}

/// True when the page runs inside the desktop app.
pub fn is_desktop() -> bool {
    invoke_function().is_some()
}

/// Turns a rejected command's value into a message.
fn message(error: JsValue) -> String {
    error
        .as_string()
        .or_else(|| property(&error, "message").and_then(|message| message.as_string()))
        .unwrap_or_else(|| "the desktop app reported an error".into())
}

/// Calls a desktop command with `args` (an object or undefined) and waits for its result.
async fn invoke(command: &str, args: &JsValue) -> Result<JsValue, String> {
    let invoke = invoke_function().ok_or_else(|| "this page does not run in the desktop app".to_owned())?;
    let result = invoke
        .call2(&JsValue::NULL, &JsValue::from_str(command), args)
        .map_err(message)?;
    let promise: Promise = result
        .dyn_into()
        .map_err(|_| format!("the desktop command {command} returned no promise"))?;
    JsFuture::from(promise).await.map_err(message)
}

fn arguments(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (name, value) in pairs {
        let _ = Reflect::set(&object, &JsValue::from_str(name), value);
    }
    object.into()
}

/// Opens the server's output folder in the file manager.
pub async fn open_output_folder() -> Result<(), String> {
    invoke("open_output_folder", &JsValue::UNDEFINED).await.map(|_| ())
}

/// Shows an output file in the file manager; `url` is its signed `/api/files/` URL.
pub async fn reveal_output(url: &str) -> Result<(), String> {
    let file_id = file_id(url).ok_or_else(|| format!("{url} is not an output file URL"))?;
    invoke("reveal_output", &arguments(&[("fileId", JsValue::from_str(&file_id))]))
        .await
        .map(|_| ())
}

/// Returns the part of a signed file URL between `/api/files/` and the query.
pub fn file_id(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("/api/files/")?;
    let id = rest.split(['?', '#']).next().unwrap_or_default();
    (!id.is_empty()).then(|| id.to_owned())
}

/// Copies `text` with the desktop app's clipboard command.
pub async fn copy_text(text: &str) -> Result<(), String> {
    invoke("copy_text", &arguments(&[("text", JsValue::from_str(text))]))
        .await
        .map(|_| ())
}

/// Opens the desktop app's file dialog; an empty list when it is cancelled.
pub async fn pick_input_files(multiple: bool) -> Result<Vec<PickedFile>, String> {
    let result = invoke(
        "pick_input_files",
        &arguments(&[("multiple", JsValue::from_bool(multiple))]),
    )
    .await?;
    if result.is_null() || result.is_undefined() {
        return Ok(Vec::new());
    }
    let items: Array = result
        .dyn_into()
        .map_err(|_| "pick_input_files returned something other than a list".to_owned())?;
    let text = |item: &JsValue, name: &str| {
        property(item, name)
            .and_then(|value| value.as_string())
            .unwrap_or_default()
    };
    Ok(items
        .iter()
        .map(|item| PickedFile {
            name: text(&item, "name"),
            mime: text(&item, "mime"),
            base64: text(&item, "base64"),
        })
        .collect())
}

/// Tells the desktop app that the first page has rendered; the app logs the
/// time since it started. Does nothing in a browser.
pub fn announce_ready() {
    if !is_desktop() {
        return;
    }
    leptos::task::spawn_local(async {
        if let Err(error) = invoke("ui_ready", &JsValue::UNDEFINED).await {
            web_sys::console::warn_1(&format!("ui_ready failed: {error}").into());
        }
    });
}

/// Copies `text` with the desktop app's command there, else with `navigator.clipboard`.
pub fn copy(text: &str) {
    if !is_desktop() {
        crate::api::copy_to_clipboard(text);
        return;
    }
    let text = text.to_owned();
    leptos::task::spawn_local(async move {
        if let Err(error) = copy_text(&text).await {
            web_sys::console::warn_1(&format!("copy_text failed: {error}").into());
        }
    });
}
