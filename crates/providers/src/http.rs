//! HTTP calls to providers with timeouts and retries.
//!
//! A 429 or 5xx response, a timeout or a dropped connection is retried with
//! exponential back-off, waiting `Retry-After` seconds when the provider sends
//! it. Other 4xx responses fail at once with the provider's message.

use std::time::Duration;

use engine::JobError;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::config::ProviderConfig;

/// The longest `Retry-After` honoured; a provider asking for more fails the call.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// A call that failed, with a message for the job's error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The provider rejected the request or kept failing; `status` is 0 without a response.
    #[error("{message}")]
    Provider { status: u16, message: String },
    /// The response is not what the API documents.
    #[error("{0}")]
    Malformed(String),
}

impl CallError {
    pub fn status(&self) -> u16 {
        match self {
            Self::Provider { status, .. } => *status,
            Self::Malformed(_) => 0,
        }
    }
}

impl From<CallError> for JobError {
    fn from(error: CallError) -> Self {
        JobError::failed(error)
    }
}

/// An HTTP client shared by the providers' calls.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    retry_base: Duration,
    attempts: u32,
    /// The job whose logs show each retry, for a client made by [`Http::for_job`].
    reporter: Option<engine::JobReporter>,
}

impl Http {
    pub fn new(config: &ProviderConfig) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(config.request_timeout)
            .build()
            .expect("the HTTP client builds with static settings");
        Self {
            client,
            retry_base: config.retry_base,
            attempts: config.attempts.max(1),
            reporter: None,
        }
    }

    /// Returns a client that also writes each retry into the job's logs.
    pub fn for_job(&self, ctx: &engine::JobContext) -> Self {
        Self {
            reporter: Some(ctx.reporter()),
            ..self.clone()
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends the request that `build` makes, retrying as the module describes.
    /// `what` names the call in messages, such as "Replicate prediction create".
    pub async fn send(
        &self,
        what: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, CallError> {
        let mut delay = self.retry_base;
        let mut attempt = 1;
        loop {
            let outcome = build(&self.client).send().await;
            let (retry_after, error) = match outcome {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let status = response.status();
                    let retry_after = retry_after(&response);
                    let body = response.text().await.unwrap_or_default();
                    let error = CallError::Provider {
                        status: status.as_u16(),
                        message: format!("{what} failed with HTTP {status}: {}", provider_message(&body)),
                    };
                    if !retryable(status) {
                        return Err(error);
                    }
                    (retry_after, error)
                }
                Err(error) => (
                    None,
                    CallError::Provider {
                        status: 0,
                        message: format!("{what} failed: {}", describe(&error)),
                    },
                ),
            };
            if attempt >= self.attempts {
                return Err(error);
            }
            let wait = match retry_after {
                Some(wait) if wait > MAX_RETRY_AFTER => return Err(error),
                Some(wait) => wait,
                None => delay,
            };
            tracing::warn!(call = what, attempt, wait_ms = wait.as_millis() as u64, %error, "provider call will be retried");
            if let Some(reporter) = &self.reporter {
                reporter.log(format!("{error}; retrying in {:.1} s", wait.as_secs_f64()));
            }
            tokio::time::sleep(wait).await;
            delay *= 2;
            attempt += 1;
        }
    }

    /// Sends a request and parses the JSON response.
    pub async fn json<T: DeserializeOwned>(
        &self,
        what: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<T, CallError> {
        let response = self.send(what, build).await?;
        let body = response.bytes().await.map_err(|error| {
            CallError::Malformed(format!("{what}: reading the response failed: {}", describe(&error)))
        })?;
        serde_json::from_slice(&body).map_err(|error| {
            let start = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            CallError::Malformed(format!("{what} returned malformed JSON ({error}): {start}"))
        })
    }

    /// Downloads an output file, failing on an empty body.
    pub async fn download(&self, what: &str, url: &str) -> Result<Vec<u8>, CallError> {
        self.download_with(what, url, |client| client.get(url)).await
    }

    /// Downloads `url` with the request `build` makes (to add credentials).
    pub async fn download_with(
        &self,
        what: &str,
        url: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Vec<u8>, CallError> {
        let response = self.send(what, build).await.map_err(|error| match error {
            CallError::Provider { status, message } if status == 403 || status == 404 || status == 410 => {
                CallError::Provider {
                    status,
                    message: format!("{message}; the output URL may have expired"),
                }
            }
            other => other,
        })?;
        let bytes = response
            .bytes()
            .await
            .map_err(|error| CallError::Malformed(format!("{what}: reading {url} failed: {}", describe(&error))))?;
        if bytes.is_empty() {
            return Err(CallError::Malformed(format!("{what}: {url} is empty")));
        }
        Ok(bytes.to_vec())
    }
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// Reads `Retry-After` in seconds (the HTTP-date form is not used by these providers).
fn retry_after(response: &Response) -> Option<Duration> {
    let seconds: f64 = response
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// Takes the message out of a provider's error body: OpenAI's
/// `{"error": {"message"}}`, Replicate's `{"detail"}` or `{"title"}`, or the
/// start of the text.
pub fn provider_message(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        let candidates = [
            value.pointer("/error/message"),
            value.get("detail"),
            value.get("error"),
            value.get("title"),
        ];
        for candidate in candidates.into_iter().flatten() {
            if let Some(text) = candidate.as_str() {
                return text.to_owned();
            }
        }
    }
    let text = body.trim();
    if text.is_empty() {
        "no message".into()
    } else {
        text.chars().take(300).collect()
    }
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        format!("could not connect ({error})")
    } else {
        error.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::provider_message;

    #[test]
    fn messages_come_out_of_error_bodies() {
        assert_eq!(provider_message(r#"{"error": {"message": "bad key"}}"#), "bad key");
        assert_eq!(provider_message(r#"{"detail": "Invalid token."}"#), "Invalid token.");
        assert_eq!(provider_message("  "), "no message");
        assert_eq!(provider_message("<html>gateway</html>"), "<html>gateway</html>");
    }
}
