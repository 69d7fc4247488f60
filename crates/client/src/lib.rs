//! Typed client of the Deferred Diffusion REST API.
//!
//! [`Client`] submits jobs, polls and cancels them, lists jobs, follows the
//! event stream and downloads outputs. It sends the `Authorization`,
//! `x-user-id` and `x-machine-id` headers that the server records with each
//! job, and [`Client::from_env`] reads `DDIFFUSION_API_ADDRESS` and
//! `DDIFFUSION_API_KEY` like the Nuke and Houdini plug-ins do.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use protocol::{CreatedJob, DeleteResponse, Domain, JobEvent, JobList, JobResponse, SystemStatus};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// Server address used when `DDIFFUSION_API_ADDRESS` is not set.
pub const DEFAULT_ADDRESS: &str = "http://127.0.0.1:5000";

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("request to {url} failed: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{method} {url} returned {status}: {message}")]
    Api {
        method: String,
        url: String,
        status: u16,
        message: String,
    },
    #[error("could not write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("invalid answer from {url}: {message}")]
    Decode { url: String, message: String },
}

impl ClientError {
    /// HTTP status of an error response, if the server sent one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// Filters of [`Client::jobs`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct JobQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<protocol::TaskStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<Domain>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// Connection to one server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// Creates a client for `base` (such as `http://127.0.0.1:5000`), sending `key` if given.
    pub fn new(base: &str, key: Option<&str>) -> Result<Self> {
        let mut headers = HeaderMap::new();
        if let Some(key) = key.filter(|k| !k.is_empty()) {
            let value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| ClientError::Decode {
                url: base.to_owned(),
                message: "the API key contains characters that cannot be sent in a header".into(),
            })?;
            headers.insert(AUTHORIZATION, value);
        }
        for (name, value) in [("x-user-id", user_name()), ("x-machine-id", machine_name())] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|source| ClientError::Http {
                url: base.to_owned(),
                source,
            })?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// Creates a client from `DDIFFUSION_API_ADDRESS` and `DDIFFUSION_API_KEY`.
    pub fn from_env() -> Result<Self> {
        let base = std::env::var("DDIFFUSION_API_ADDRESS").unwrap_or_else(|_| DEFAULT_ADDRESS.to_owned());
        let key = std::env::var("DDIFFUSION_API_KEY").ok();
        Self::new(&base, key.as_deref())
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Submits a request to `POST /api/{domain}`.
    pub async fn submit(&self, domain: Domain, request: &impl Serialize) -> Result<CreatedJob> {
        let url = format!("{}/api/{domain}", self.base);
        self.send(self.http.post(&url).json(request), "POST", &url).await
    }

    /// Reads `GET /api/{domain}/{id}`.
    pub async fn get(&self, domain: Domain, id: Uuid) -> Result<JobResponse> {
        let url = format!("{}/api/{domain}/{id}", self.base);
        self.send(self.http.get(&url), "GET", &url).await
    }

    /// Cancels a job with `DELETE /api/{domain}/{id}`.
    pub async fn cancel(&self, domain: Domain, id: Uuid) -> Result<DeleteResponse> {
        let url = format!("{}/api/{domain}/{id}", self.base);
        self.send(self.http.delete(&url), "DELETE", &url).await
    }

    /// Reads `GET /api/{domain}/models` as JSON.
    pub async fn models(&self, domain: Domain) -> Result<serde_json::Value> {
        let url = format!("{}/api/{domain}/models", self.base);
        self.send(self.http.get(&url), "GET", &url).await
    }

    /// Lists jobs of every domain, newest first.
    pub async fn jobs(&self, query: &JobQuery) -> Result<JobList> {
        let url = format!("{}/api/jobs", self.base);
        self.send(self.http.get(&url).query(query), "GET", &url).await
    }

    pub async fn system(&self) -> Result<SystemStatus> {
        let url = format!("{}/api/system", self.base);
        self.send(self.http.get(&url), "GET", &url).await
    }

    /// Checks `GET /health`.
    pub async fn health(&self) -> Result<()> {
        let url = format!("{}/health", self.base);
        self.send::<serde_json::Value>(self.http.get(&url), "GET", &url)
            .await
            .map(|_| ())
    }

    /// Polls a job every `interval` until it finishes, calling `on_update` with each response.
    pub async fn wait(
        &self,
        domain: Domain,
        id: Uuid,
        interval: Duration,
        mut on_update: impl FnMut(&JobResponse),
    ) -> Result<JobResponse> {
        loop {
            let job = self.get(domain, id).await?;
            on_update(&job);
            if job.status.is_finished() {
                return Ok(job);
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// Downloads `url` into `folder`, naming the file after the URL's last
    /// path segment, and returns the file's path. The file appears only once complete.
    pub async fn download(&self, url: &str, folder: &Path) -> Result<PathBuf> {
        let name = url
            .split('?')
            .next()
            .and_then(|path| path.rsplit('/').next())
            .filter(|name| !name.is_empty() && *name != "..")
            .unwrap_or("output")
            .to_owned();
        let path = folder.join(&name);
        let partial = folder.join(format!(".{name}.partial"));
        let io_error = |source| ClientError::Io {
            path: path.clone(),
            source,
        };

        let response = self.http.get(url).send().await.map_err(|source| ClientError::Http {
            url: url.to_owned(),
            source,
        })?;
        let response = check_status(response, "GET", url).await?;
        tokio::fs::create_dir_all(folder).await.map_err(io_error)?;
        let mut file = tokio::fs::File::create(&partial).await.map_err(io_error)?;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|source| ClientError::Http {
                url: url.to_owned(),
                source,
            })?;
            file.write_all(&chunk).await.map_err(io_error)?;
        }
        file.flush().await.map_err(io_error)?;
        drop(file);
        tokio::fs::rename(&partial, &path).await.map_err(io_error)?;
        Ok(path)
    }

    /// Follows `GET /api/events`: first the current state of the job (or of
    /// every waiting and running job), then each change as it happens.
    pub async fn events(&self, job: Option<Uuid>) -> Result<impl Stream<Item = Result<JobEvent>>> {
        let url = format!("{}/api/events", self.base);
        let mut request = self.http.get(&url);
        if let Some(job) = job {
            request = request.query(&[("job", job.to_string())]);
        }
        let response = request.send().await.map_err(|source| ClientError::Http {
            url: url.clone(),
            source,
        })?;
        let response = check_status(response, "GET", &url).await?;
        Ok(sse_events(response.bytes_stream(), url))
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder, method: &str, url: &str) -> Result<T> {
        let response = request.send().await.map_err(|source| ClientError::Http {
            url: url.to_owned(),
            source,
        })?;
        let response = check_status(response, method, url).await?;
        let bytes = response.bytes().await.map_err(|source| ClientError::Http {
            url: url.to_owned(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|error| ClientError::Decode {
            url: url.to_owned(),
            message: error.to_string(),
        })
    }
}

/// Turns an error response into [`ClientError::Api`] with the server's message.
async fn check_status(response: reqwest::Response, method: &str, url: &str) -> Result<reqwest::Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    Err(ClientError::Api {
        method: method.to_owned(),
        url: url.to_owned(),
        status: status.as_u16(),
        message: error_message(&body),
    })
}

/// Extracts a readable message from an error body in any of the server's shapes.
pub fn error_message(body: &str) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.chars().take(500).collect();
    };
    match json.get("detail") {
        Some(serde_json::Value::String(detail)) => detail.clone(),
        Some(serde_json::Value::Array(errors)) => errors
            .iter()
            .map(|error| {
                let location: Vec<String> = error["loc"]
                    .as_array()
                    .map(|parts| {
                        parts
                            .iter()
                            .map(|p| p.as_str().map(str::to_owned).unwrap_or_else(|| p.to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                format!("{}: {}", location.join("."), error["msg"].as_str().unwrap_or_default())
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => json
            .get("message")
            .and_then(|m| m.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| body.to_owned()),
    }
}

/// Parses a server-sent-events byte stream into job events. Comments and
/// events whose data is not a job event are skipped.
fn sse_events(
    bytes: impl Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
    url: String,
) -> impl Stream<Item = Result<JobEvent>> {
    futures_util::stream::unfold((bytes, String::new(), url), |(mut bytes, mut buffer, url)| async move {
        loop {
            if let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let data: Vec<&str> = block
                    .lines()
                    .filter_map(|line| line.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if data.is_empty() {
                    continue;
                }
                match serde_json::from_str::<JobEvent>(&data.join("\n")) {
                    Ok(event) => return Some((Ok(event), (bytes, buffer, url))),
                    Err(_) => continue,
                }
            }
            match bytes.next().await {
                Some(Ok(chunk)) => buffer.push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n")),
                Some(Err(source)) => {
                    return Some((
                        Err(ClientError::Http {
                            url: url.clone(),
                            source,
                        }),
                        (bytes, buffer, url),
                    ))
                }
                None => return None,
            }
        }
    })
}

/// Operating-system user name sent as `x-user-id`.
fn user_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// Host name sent as `x-machine-id`.
fn machine_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|name| name.trim().to_owned())
        })
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".into())
}
