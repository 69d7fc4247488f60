//! OpenAI's Images, Responses and Videos APIs.

use base64::Engine as _;
use engine::{JobContext, JobError};
use reqwest::multipart::{Form, Part};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::ProviderConfig;
use crate::http::{CallError, Http};

/// Prefix of the job's external reference for an OpenAI video.
const VIDEO_PREFIX: &str = "openai-video:";

/// An OpenAI client for one job.
pub struct OpenAi<'a> {
    config: &'a ProviderConfig,
    http: &'a Http,
    key: String,
}

/// An image file sent to an edit.
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
    pub mime: &'static str,
}

#[derive(Deserialize)]
struct ImagesAnswer {
    #[serde(default)]
    data: Vec<ImageData>,
}

#[derive(Deserialize)]
struct ImageData {
    b64_json: Option<String>,
}

/// A video job as `GET /v1/videos/{id}` returns it.
#[derive(Debug, Deserialize)]
struct Video {
    id: String,
    status: String,
    #[serde(default)]
    progress: Option<f64>,
    #[serde(default)]
    error: Value,
}

fn file_part(upload: &Upload) -> Result<Part, CallError> {
    Part::bytes(upload.bytes.clone())
        .file_name(upload.name.clone())
        .mime_str(upload.mime)
        .map_err(|error| CallError::Malformed(format!("invalid MIME type {}: {error}", upload.mime)))
}

impl<'a> OpenAi<'a> {
    /// Fails with the variable to set when no key is configured.
    pub fn new(config: &'a ProviderConfig, http: &'a Http) -> Result<Self, JobError> {
        let key = config.keys.get(protocol::Provider::Openai).ok_or_else(|| {
            JobError::failed("no OpenAI API key: set OPENAI_API_KEY (or add it in the settings) and submit again")
        })?;
        Ok(Self { config, http, key })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.config.openai_base)
    }

    /// `POST /images/generations`; returns the PNG bytes.
    pub async fn generate_image(&self, body: &Value) -> Result<Vec<u8>, CallError> {
        let url = self.url("images/generations");
        let answer: ImagesAnswer = self
            .http
            .json("OpenAI image generation", |client| {
                client.post(&url).bearer_auth(&self.key).json(body)
            })
            .await?;
        decode_first(answer, "OpenAI image generation")
    }

    /// `POST /images/edits` with `fields`, the images as `image[]` and an
    /// optional mask; returns the PNG bytes.
    pub async fn edit_image(
        &self,
        fields: &[(&str, String)],
        images: &[Upload],
        mask: Option<&Upload>,
    ) -> Result<Vec<u8>, CallError> {
        let url = self.url("images/edits");
        let answer: ImagesAnswer = self
            .http
            .json("OpenAI image edit", |client| {
                let mut form = Form::new();
                for (name, value) in fields {
                    form = form.text(name.to_string(), value.clone());
                }
                for image in images {
                    // Parts are rebuilt for each attempt; a broken MIME type is caught before sending.
                    if let Ok(part) = file_part(image) {
                        form = form.part("image[]", part);
                    }
                }
                if let Some(Ok(part)) = mask.map(file_part) {
                    form = form.part("mask", part);
                }
                client.post(&url).bearer_auth(&self.key).multipart(form)
            })
            .await?;
        decode_first(answer, "OpenAI image edit")
    }

    /// `POST /responses`; returns the concatenated output text.
    pub async fn respond(&self, body: &Value) -> Result<String, CallError> {
        let url = self.url("responses");
        let answer: Value = self
            .http
            .json("OpenAI response", |client| {
                client.post(&url).bearer_auth(&self.key).json(body)
            })
            .await?;
        let texts: Vec<&str> = answer
            .get("output")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|item| item.get("type").and_then(Value::as_str) == Some("message"))
            .flat_map(|item| item.get("content").and_then(Value::as_array).into_iter().flatten())
            .filter(|part| part.get("type").and_then(Value::as_str) == Some("output_text"))
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect();
        if texts.is_empty() {
            let status = answer.get("status").and_then(Value::as_str).unwrap_or("unknown");
            return Err(CallError::Malformed(format!(
                "OpenAI response has no output text (status {status})"
            )));
        }
        Ok(texts.concat())
    }

    /// Creates a video with `fields` and an optional reference image, follows
    /// it to the end (resuming after a restart from the job's stored id) and
    /// returns the MP4 bytes. A cancelled job deletes the video job.
    pub async fn video(
        &self,
        ctx: &JobContext,
        fields: &[(&str, String)],
        reference: Option<&Upload>,
    ) -> Result<Vec<u8>, JobError> {
        let resumed = ctx
            .external_ref()
            .and_then(|reference| reference.strip_prefix(VIDEO_PREFIX))
            .map(str::to_owned);
        let mut video = match resumed {
            Some(id) => {
                ctx.log(format!("Resuming OpenAI video {id}"));
                self.get_video(&id).await?
            }
            None => {
                ctx.check_cancelled()?;
                let url = self.url("videos");
                let video: Video = self
                    .http
                    .json("OpenAI video creation", |client| {
                        let mut form = Form::new();
                        for (name, value) in fields {
                            form = form.text(name.to_string(), value.clone());
                        }
                        if let Some(Ok(part)) = reference.map(file_part) {
                            form = form.part("input_reference", part);
                        }
                        client.post(&url).bearer_auth(&self.key).multipart(form)
                    })
                    .await?;
                ctx.set_external_ref(&format!("{VIDEO_PREFIX}{}", video.id)).await?;
                ctx.log(format!("OpenAI video {} created", video.id));
                video
            }
        };
        loop {
            match video.status.as_str() {
                "completed" => break,
                "failed" => {
                    let message = video
                        .error
                        .get("message")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .unwrap_or_else(|| video.error.to_string());
                    return Err(JobError::failed(format!("OpenAI video {} failed: {message}", video.id)));
                }
                _ => {}
            }
            if let Some(progress) = video.progress {
                ctx.progress(progress / 100.0);
            }
            let token = ctx.cancellation_token();
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                _ = token.cancelled() => {
                    let url = self.url(&format!("videos/{}", video.id));
                    let deleted = self.http.send("OpenAI video delete", |client| client.delete(&url).bearer_auth(&self.key)).await;
                    if let Err(error) = deleted {
                        ctx.log(format!("Deleting OpenAI video {} failed: {error}", video.id));
                    }
                    return Err(JobError::Cancelled);
                }
            }
            video = self.get_video(&video.id).await?;
        }
        let url = self.url(&format!("videos/{}/content", video.id));
        let bytes = self
            .http
            .download_with("OpenAI video download", &url, |client| {
                client.get(&url).bearer_auth(&self.key)
            })
            .await?;
        Ok(bytes)
    }

    async fn get_video(&self, id: &str) -> Result<Video, CallError> {
        let url = self.url(&format!("videos/{id}"));
        self.http
            .json(&format!("OpenAI video {id}"), |client| {
                client.get(&url).bearer_auth(&self.key)
            })
            .await
    }
}

fn decode_first(answer: ImagesAnswer, what: &str) -> Result<Vec<u8>, CallError> {
    let encoded = answer
        .data
        .into_iter()
        .find_map(|item| item.b64_json)
        .ok_or_else(|| CallError::Malformed(format!("{what} returned no image (no data[0].b64_json)")))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|error| CallError::Malformed(format!("{what} returned invalid base64: {error}")))?;
    if bytes.is_empty() {
        return Err(CallError::Malformed(format!("{what} returned an empty image")));
    }
    Ok(bytes)
}

/// Body of a Responses API call: `instructions` when given, the prompt as
/// `input_text` and each image as an `input_image` data URL.
pub fn response_body(model: &str, instructions: Option<&str>, prompt: &str, image_data_urls: &[String]) -> Value {
    let mut content = vec![json!({"type": "input_text", "text": prompt})];
    for url in image_data_urls {
        content.push(json!({"type": "input_image", "image_url": url}));
    }
    let mut body = json!({
        "model": model,
        "input": [{"role": "user", "content": content}],
    });
    if let Some(instructions) = instructions {
        body["instructions"] = json!(instructions);
    }
    body
}
