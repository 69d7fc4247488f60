//! Calls to the server's REST API and its server-sent event streams.
//!
//! Every call sends the API key from local storage as `Authorization: Bearer`.
//! The event streams are read with `fetch` rather than `EventSource`, because
//! `EventSource` cannot send that header and the server accepts no other form
//! of the key.

use js_sys::{Reflect, Uint8Array};
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, ReadableStreamDefaultReader, Request, RequestInit, Response};

const KEY_STORAGE_NAME: &str = "ddiffusion.api_key";

/// An error to show to the user: the server's message, or why the request failed.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status; 0 when the server could not be reached.
    pub status: u16,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.status == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{} (HTTP {})", self.message, self.status)
        }
    }
}

impl ApiError {
    fn unreachable(error: JsValue) -> Self {
        let detail = error.as_string().or_else(|| {
            Reflect::get(&error, &JsValue::from_str("message"))
                .ok()
                .and_then(|message| message.as_string())
        });
        Self {
            status: 0,
            message: format!(
                "The server could not be reached: {}",
                detail.unwrap_or_else(|| "network error".into())
            ),
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn stored_key() -> Option<String> {
    storage()?
        .get_item(KEY_STORAGE_NAME)
        .ok()
        .flatten()
        .filter(|key| !key.is_empty())
}

pub fn store_key(key: Option<&str>) {
    if let Some(storage) = storage() {
        let _ = match key {
            Some(key) => storage.set_item(KEY_STORAGE_NAME, key),
            None => storage.remove_item(KEY_STORAGE_NAME),
        };
    }
}

/// Stores a value under `name` in local storage; errors (quota, private mode) are ignored.
pub fn store_item(name: &str, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(name, value);
    }
}

pub fn stored_item(name: &str) -> Option<String> {
    storage()?.get_item(name).ok().flatten()
}

/// Origin of the page, such as `http://127.0.0.1:5000`, which is the API's address.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|window| window.location().origin().ok())
        .unwrap_or_default()
}

/// Turns an error body into one message: `detail` as a string (403, 404, 429)
/// or as a list of validation errors (422), else the body itself.
pub fn error_message(body: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return if body.trim().is_empty() {
            "No message".into()
        } else {
            body.trim().to_owned()
        };
    };
    match value.get("detail") {
        Some(serde_json::Value::String(detail)) => detail.clone(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|item| {
                let message = item.get("msg").and_then(|msg| msg.as_str()).unwrap_or("invalid value");
                let location: Vec<String> = item
                    .get("loc")
                    .and_then(|loc| loc.as_array())
                    .map(|parts| {
                        parts
                            .iter()
                            .map(|part| part.to_string().trim_matches('"').to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                if location.is_empty() {
                    message.to_owned()
                } else {
                    format!("{}: {message}", location.join("."))
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => body.trim().to_owned(),
    }
}

async fn send(method: &str, path: &str, body: Option<&str>, key: Option<&str>) -> Result<Response, ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(ApiError::unreachable)?;
    if let Some(key) = key.map(str::to_owned).or_else(stored_key) {
        headers
            .set("Authorization", &format!("Bearer {key}"))
            .map_err(ApiError::unreachable)?;
    }
    if let Some(body) = body {
        headers
            .set("Content-Type", "application/json")
            .map_err(ApiError::unreachable)?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(path, &init).map_err(ApiError::unreachable)?;
    let window = web_sys::window().ok_or_else(|| ApiError {
        status: 0,
        message: "No browser window".into(),
    })?;
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(ApiError::unreachable)?;
    let response: Response = response.dyn_into().map_err(ApiError::unreachable)?;
    Ok(response)
}

async fn body_text(response: &Response) -> Result<String, ApiError> {
    let promise = response.text().map_err(ApiError::unreachable)?;
    let text = JsFuture::from(promise).await.map_err(ApiError::unreachable)?;
    Ok(text.as_string().unwrap_or_default())
}

/// Sends a request and returns the body of a 2xx response, or the server's error message.
pub async fn call(method: &str, path: &str, body: Option<&str>) -> Result<String, ApiError> {
    call_with_key(method, path, body, None).await
}

/// Like [`call`], with `key` in place of the stored key (used to check a key before storing it).
pub async fn call_with_key(
    method: &str,
    path: &str,
    body: Option<&str>,
    key: Option<&str>,
) -> Result<String, ApiError> {
    let response = send(method, path, body, key).await?;
    let text = body_text(&response).await?;
    if response.ok() {
        Ok(text)
    } else {
        Err(ApiError {
            status: response.status(),
            message: error_message(&text),
        })
    }
}

/// Sends a request and parses the JSON of a 2xx response as `T`.
pub async fn call_json<T: DeserializeOwned>(method: &str, path: &str, body: Option<&str>) -> Result<T, ApiError> {
    let text = call(method, path, body).await?;
    serde_json::from_str(&text).map_err(|error| ApiError {
        status: 200,
        message: format!("Invalid response from {path}: {error}"),
    })
}

pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    call_json("GET", path, None).await
}

/// One server-sent event: its `event:` name and its `data:` lines joined.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEvent {
    pub name: String,
    pub data: String,
}

/// Parses one event block (the text between two blank lines) of a
/// `text/event-stream`; comments and blocks without data return `None`.
pub fn parse_event_block(block: &str) -> Option<ServerEvent> {
    let mut name = String::from("message");
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if let Some(value) = line.strip_prefix("event:") {
            name = value.trim_start().to_owned();
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    (!data.is_empty()).then(|| ServerEvent {
        name,
        data: data.join("\n"),
    })
}

/// An open event stream; [`EventStream::next`] returns its events in order.
pub struct EventStream {
    reader: ReadableStreamDefaultReader,
    buffer: Vec<u8>,
}

impl EventStream {
    /// Opens `path` as a server-sent event stream with the stored key.
    pub async fn open(path: &str) -> Result<Self, ApiError> {
        let response = send("GET", path, None, None).await?;
        if !response.ok() {
            let text = body_text(&response).await?;
            return Err(ApiError {
                status: response.status(),
                message: error_message(&text),
            });
        }
        let body = response.body().ok_or_else(|| ApiError {
            status: response.status(),
            message: format!("{path} returned no body"),
        })?;
        let reader: ReadableStreamDefaultReader = body
            .get_reader()
            .dyn_into()
            .map_err(|reader| ApiError::unreachable(reader.into()))?;
        Ok(Self {
            reader,
            buffer: Vec::new(),
        })
    }

    /// Waits for the next event; `None` when the stream ends or breaks.
    pub async fn next(&mut self) -> Option<ServerEvent> {
        loop {
            if let Some(end) = find_blank_line(&self.buffer) {
                let block: Vec<u8> = self.buffer.drain(..end.0 + end.1).collect();
                let text = String::from_utf8_lossy(&block[..end.0]).replace("\r\n", "\n");
                if let Some(event) = parse_event_block(&text) {
                    return Some(event);
                }
                continue;
            }
            let chunk = JsFuture::from(self.reader.read()).await.ok()?;
            let done = Reflect::get(&chunk, &JsValue::from_str("done"))
                .ok()?
                .as_bool()
                .unwrap_or(true);
            if done {
                return None;
            }
            let value = Reflect::get(&chunk, &JsValue::from_str("value")).ok()?;
            self.buffer.extend(Uint8Array::new(&value).to_vec());
        }
    }

    /// Returns a handle to the underlying reader, to cancel the stream from elsewhere.
    pub fn reader(&self) -> ReadableStreamDefaultReader {
        self.reader.clone()
    }

    /// Stops reading and closes the connection.
    pub fn close(&self) {
        let _ = self.reader.cancel();
    }
}

/// Finds the first blank line: returns its start and the length of the separator.
fn find_blank_line(buffer: &[u8]) -> Option<(usize, usize)> {
    let lf = buffer.windows(2).position(|window| window == b"\n\n").map(|at| (at, 2));
    let crlf = buffer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| (at, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Waits `milliseconds` without blocking the page.
pub async fn sleep(milliseconds: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, milliseconds);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Copies `text` to the clipboard; browsers allow it only on secure origins
/// such as `http://127.0.0.1` and after a user action.
pub fn copy_to_clipboard(text: &str) {
    let Some(window) = web_sys::window() else { return };
    let navigator: JsValue = window.navigator().into();
    let Ok(clipboard) = Reflect::get(&navigator, &JsValue::from_str("clipboard")) else {
        return;
    };
    let Ok(write_text) = Reflect::get(&clipboard, &JsValue::from_str("writeText")) else {
        return;
    };
    if let Ok(write_text) = write_text.dyn_into::<js_sys::Function>() {
        let _ = write_text.call1(&clipboard, &JsValue::from_str(text));
    }
}

/// Downloads `url` (a signed output URL) and returns its bytes as base64.
pub async fn download_base64(url: &str) -> Result<String, ApiError> {
    let response = send("GET", url, None, None).await?;
    if !response.ok() {
        let text = body_text(&response).await?;
        return Err(ApiError {
            status: response.status(),
            message: error_message(&text),
        });
    }
    let blob = JsFuture::from(response.blob().map_err(ApiError::unreachable)?)
        .await
        .map_err(ApiError::unreachable)?;
    let blob: web_sys::Blob = blob.dyn_into().map_err(ApiError::unreachable)?;
    read_blob_base64(&blob, url).await
}

/// Reads a file chosen in an `<input type="file">` as base64, without the `data:` prefix.
pub async fn read_file_base64(file: web_sys::File) -> Result<String, ApiError> {
    read_blob_base64(&file, &file.name()).await
}

async fn read_blob_base64(blob: &web_sys::Blob, name: &str) -> Result<String, ApiError> {
    let reader = web_sys::FileReader::new().map_err(ApiError::unreachable)?;
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        reader.set_onload(Some(&resolve));
        reader.set_onerror(Some(&reject));
    });
    reader.read_as_data_url(blob).map_err(ApiError::unreachable)?;
    JsFuture::from(promise).await.map_err(|_| ApiError {
        status: 0,
        message: format!("Could not read {name}"),
    })?;
    let url = reader
        .result()
        .map_err(ApiError::unreachable)?
        .as_string()
        .unwrap_or_default();
    Ok(url.split_once(',').map(|(_, data)| data.to_owned()).unwrap_or_default())
}
