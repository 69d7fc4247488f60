//! Provider keys and base URLs.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use protocol::Provider;

/// API keys of the providers. Shared, so that settings can change them while
/// the server runs; never logged or returned by any endpoint.
#[derive(Clone, Default)]
pub struct Keys {
    inner: Arc<RwLock<KeyValues>>,
}

#[derive(Default)]
struct KeyValues {
    openai: Option<String>,
    replicate: Option<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let values = self.inner.read().unwrap();
        formatter
            .debug_struct("Keys")
            .field("openai", &values.openai.as_ref().map(|_| "<set>"))
            .field("replicate", &values.replicate.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl Keys {
    /// Reads `OPENAI_API_KEY` and `REPLICATE_API_TOKEN`; empty values count as unset.
    pub fn from_env() -> Self {
        let read = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        let keys = Self::default();
        keys.set(Provider::Openai, read("OPENAI_API_KEY"));
        keys.set(Provider::Replicate, read("REPLICATE_API_TOKEN"));
        keys
    }

    /// Sets or clears the key of `provider`.
    pub fn set(&self, provider: Provider, key: Option<String>) {
        let mut values = self.inner.write().unwrap();
        match provider {
            Provider::Openai => values.openai = key,
            Provider::Replicate => values.replicate = key,
            Provider::Local => {}
        }
    }

    pub fn get(&self, provider: Provider) -> Option<String> {
        let values = self.inner.read().unwrap();
        match provider {
            Provider::Openai => values.openai.clone(),
            Provider::Replicate => values.replicate.clone(),
            Provider::Local => None,
        }
    }

    /// Returns the environment variable to set when `provider` has no key.
    pub fn missing(&self, provider: Provider) -> Option<&'static str> {
        if provider == Provider::Local || self.get(provider).is_some() {
            return None;
        }
        Some(variable(provider))
    }
}

/// Returns the environment variable that contains the key of `provider`.
pub fn variable(provider: Provider) -> &'static str {
    match provider {
        Provider::Openai => "OPENAI_API_KEY",
        Provider::Replicate => "REPLICATE_API_TOKEN",
        Provider::Local => "",
    }
}

/// Base URLs, keys, timeouts and retry timing of provider calls.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub keys: Keys,
    /// Base of OpenAI's API, `https://api.openai.com/v1` unless `DDIFFUSION_OPENAI_BASE_URL` is set.
    pub openai_base: String,
    /// Base of Replicate's API, `https://api.replicate.com/v1` unless `DDIFFUSION_REPLICATE_BASE_URL` is set.
    pub replicate_base: String,
    /// Time between two polls of a running prediction or video.
    pub poll_interval: Duration,
    /// First wait before retrying a 429 or 5xx response without `Retry-After`; it doubles per retry.
    pub retry_base: Duration,
    /// Attempts of one call, the first included.
    pub attempts: u32,
    /// Time limit of one HTTP request.
    pub request_timeout: Duration,
    /// How long a failing poll of a running prediction is retried before the job fails.
    pub poll_grace: Duration,
}

impl ProviderConfig {
    /// Reads keys and base URLs from the environment. `DDIFFUSION_PROVIDER_POLL_MS`,
    /// `DDIFFUSION_PROVIDER_RETRY_MS` and `DDIFFUSION_PROVIDER_TIMEOUT_MS` change
    /// the waits (tests shorten them).
    pub fn from_env() -> Self {
        let base = |variable: &str, default: &str| {
            std::env::var(variable)
                .ok()
                .filter(|value| !value.trim().is_empty())
                .unwrap_or_else(|| default.to_owned())
                .trim_end_matches('/')
                .to_owned()
        };
        let millis = |variable: &str, default: u64| {
            Duration::from_millis(
                std::env::var(variable)
                    .ok()
                    .and_then(|value| value.parse().ok())
                    .unwrap_or(default),
            )
        };
        Self {
            keys: Keys::from_env(),
            openai_base: base("DDIFFUSION_OPENAI_BASE_URL", "https://api.openai.com/v1"),
            replicate_base: base("DDIFFUSION_REPLICATE_BASE_URL", "https://api.replicate.com/v1"),
            poll_interval: millis("DDIFFUSION_PROVIDER_POLL_MS", 3000),
            retry_base: millis("DDIFFUSION_PROVIDER_RETRY_MS", 1000),
            attempts: 5,
            request_timeout: millis("DDIFFUSION_PROVIDER_TIMEOUT_MS", 120_000),
            poll_grace: Duration::from_secs(120),
        }
    }
}
