//! Replicate predictions: create, poll with the provider's logs copied into
//! the job's logs, cancel with the job, and read the output URL.

use std::time::Instant;

use engine::{JobContext, JobError};
use serde::Deserialize;
use serde_json::Value;

use crate::config::ProviderConfig;
use crate::http::{CallError, Http};

/// Prefix of the job's external reference for a Replicate prediction.
const REFERENCE_PREFIX: &str = "replicate:";

/// A prediction as `GET /v1/predictions/{id}` returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct Prediction {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub output: Value,
    #[serde(default)]
    pub error: Value,
    #[serde(default)]
    pub logs: Option<String>,
}

/// A Replicate client for one job.
pub struct Replicate<'a> {
    config: &'a ProviderConfig,
    http: &'a Http,
    token: String,
}

impl<'a> Replicate<'a> {
    /// Fails with the variable to set when no token is configured.
    pub fn new(config: &'a ProviderConfig, http: &'a Http) -> Result<Self, JobError> {
        let token = config.keys.get(protocol::Provider::Replicate).ok_or_else(|| {
            JobError::failed(
                "no Replicate API token: set REPLICATE_API_TOKEN (or add it in the settings) and submit again",
            )
        })?;
        Ok(Self { config, http, token })
    }

    /// Starts a prediction of the official model `owner/name` with `input`.
    pub async fn create(&self, model: &str, input: &Value) -> Result<Prediction, CallError> {
        let url = format!("{}/models/{model}/predictions", self.config.replicate_base);
        let body = serde_json::json!({ "input": input });
        self.http
            .json(&format!("Replicate prediction of {model}"), |client| {
                client.post(&url).bearer_auth(&self.token).json(&body)
            })
            .await
    }

    pub async fn get(&self, id: &str) -> Result<Prediction, CallError> {
        let url = format!("{}/predictions/{id}", self.config.replicate_base);
        self.http
            .json(&format!("Replicate prediction {id}"), |client| {
                client.get(&url).bearer_auth(&self.token)
            })
            .await
    }

    pub async fn cancel(&self, id: &str) -> Result<(), CallError> {
        let url = format!("{}/predictions/{id}/cancel", self.config.replicate_base);
        self.http
            .send(&format!("Replicate cancel of {id}"), |client| {
                client.post(&url).bearer_auth(&self.token)
            })
            .await
            .map(|_| ())
    }

    /// Runs `model` with `input` to its end and returns the output URL.
    ///
    /// The prediction's id is stored with the job, so that a run after a
    /// server restart follows the same prediction instead of paying for a
    /// new one. A cancelled job cancels the prediction.
    pub async fn run(&self, ctx: &JobContext, model: &str, input: &Value) -> Result<String, JobError> {
        let resumed = ctx
            .external_ref()
            .and_then(|reference| reference.strip_prefix(REFERENCE_PREFIX))
            .map(str::to_owned);
        let mut prediction = match resumed {
            Some(id) => {
                ctx.log(format!("Resuming Replicate prediction {id}"));
                self.get(&id).await?
            }
            None => {
                ctx.check_cancelled()?;
                let prediction = self.create(model, input).await?;
                ctx.set_external_ref(&format!("{REFERENCE_PREFIX}{}", prediction.id))
                    .await?;
                ctx.log(format!("Replicate prediction {} of {model} created", prediction.id));
                prediction
            }
        };

        let mut logged_lines = 0;
        let mut last_success = Instant::now();
        loop {
            let lines: Vec<&str> = prediction.logs.as_deref().unwrap_or("").lines().collect();
            for line in lines.iter().skip(logged_lines) {
                ctx.log(format!("[replicate] {line}"));
            }
            logged_lines = logged_lines.max(lines.len());
            match prediction.status.as_str() {
                "succeeded" => return first_url(&prediction),
                "failed" => {
                    return Err(JobError::failed(format!(
                        "Replicate prediction {} of {model} failed: {}",
                        prediction.id,
                        error_text(&prediction.error)
                    )))
                }
                "canceled" => {
                    return Err(JobError::failed(format!(
                        "Replicate prediction {} of {model} was canceled on Replicate",
                        prediction.id
                    )))
                }
                _ => {}
            }
            let token = ctx.cancellation_token();
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                _ = token.cancelled() => {
                    if let Err(error) = self.cancel(&prediction.id).await {
                        ctx.log(format!("Cancelling Replicate prediction {} failed: {error}", prediction.id));
                    }
                    return Err(JobError::Cancelled);
                }
            }
            match self.get(&prediction.id).await {
                Ok(next) => {
                    prediction = next;
                    last_success = Instant::now();
                }
                // A poll that keeps failing after the HTTP retries is retried
                // until the grace period ends, because the prediction may still run.
                Err(error) if last_success.elapsed() < self.config.poll_grace && error.status() != 401 => {
                    ctx.log(format!("Polling Replicate failed, retrying: {error}"));
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
}

/// Returns the first URL of a prediction's output: a string, or the first string of a list.
fn first_url(prediction: &Prediction) -> Result<String, JobError> {
    let url = match &prediction.output {
        Value::String(url) => Some(url.clone()),
        Value::Array(items) => items.iter().find_map(|item| item.as_str().map(str::to_owned)),
        _ => None,
    };
    url.filter(|url| !url.is_empty()).ok_or_else(|| {
        JobError::failed(format!(
            "Replicate prediction {} succeeded without an output URL (output: {})",
            prediction.id, prediction.output
        ))
    })
}

fn error_text(error: &Value) -> String {
    match error {
        Value::Null => "no error message".into(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
