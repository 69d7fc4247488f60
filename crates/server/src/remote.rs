//! Jobs forwarded to a remote server profile: the executor of the `remote`
//! lane, which submits the job to the remote, follows it, mirrors its logs and
//! progress, and brings the outputs home.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use engine::{Executor, ExecutorFuture, JobContext, JobError, JobOutput};
use protocol::jobs::JobResponse;
use protocol::TaskStatus;
use serde::{Deserialize, Serialize};

use crate::profiles::{Profile, Profiles};

/// Lane of forwarded jobs.
pub const REMOTE_LANE: &str = "remote";
/// Header with the instance ids a forwarded job has passed through.
pub const VIA_HEADER: &str = "x-dd-via";
/// Header that lets a retried forward find the job its first attempt created.
pub const IDEMPOTENCY_HEADER: &str = "x-dd-idempotency-key";
/// Header that names the profile a job should run on, like the `target` query parameter.
pub const TARGET_HEADER: &str = "x-dd-target";

/// The destination of a forwarded job, stored as the job's external reference.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Forward {
    pub profile: String,
    /// Instance ids of the servers the job passed through, this one last.
    pub via: Vec<String>,
    /// The job's id on the remote, once it is submitted.
    pub remote_id: Option<String>,
    /// User and machine of the original submitter, passed on to the remote.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub machine_id: Option<String>,
    /// Remote log lines already copied into the local job, so that a
    /// resumed job does not copy them again.
    #[serde(default)]
    pub mirrored: usize,
}

/// How long forwarding waits for a remote.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Time between two polls of the remote job.
    pub poll: Duration,
    /// How long an unreachable remote is retried before the submission fails.
    pub submit_window: Duration,
    /// How long a remote that stops responding mid-job is retried before the job fails.
    pub lost_window: Duration,
}

/// Executor of the `remote` lane.
pub struct RemoteExecutor {
    profiles: Profiles,
    storage: PathBuf,
    timing: Timing,
    client: reqwest::Client,
}

impl RemoteExecutor {
    pub fn new(profiles: Profiles, storage: PathBuf, timing: Timing) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .build()
            .expect("the HTTP client builds with static settings");
        Self {
            profiles,
            storage,
            timing,
            client,
        }
    }
}

/// Replaces each stored input path in `value` (a request as the engine
/// stores it) with the file's contents in base64, as the API takes them.
fn inline_inputs(value: &mut serde_json::Value, inputs: &[String], storage: &std::path::Path) -> std::io::Result<()> {
    match value {
        serde_json::Value::String(text) if inputs.contains(text) => {
            let bytes = std::fs::read(storage.join(text.as_str()))?;
            *text = base64::engine::general_purpose::STANDARD.encode(bytes);
        }
        serde_json::Value::Array(items) => {
            for item in items {
                inline_inputs(item, inputs, storage)?;
            }
        }
        serde_json::Value::Object(fields) => {
            for item in fields.values_mut() {
                inline_inputs(item, inputs, storage)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Returns the message of an error response: `detail[0].msg`, `detail`, or the text.
fn remote_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let from_json = parsed.as_ref().and_then(|value| {
        value
            .pointer("/detail/0/msg")
            .or_else(|| value.get("detail"))
            .or_else(|| value.get("message"))
            .and_then(|message| message.as_str())
            .map(str::to_owned)
    });
    from_json.unwrap_or_else(|| body.chars().take(300).collect())
}

impl RemoteExecutor {
    /// Submits the job to the remote, retrying an unreachable remote for the
    /// submit window; returns the remote job id.
    async fn submit(
        &self,
        ctx: &JobContext,
        name: &str,
        profile: &Profile,
        forward: &Forward,
    ) -> Result<String, JobError> {
        let mut body = ctx.request_json().clone();
        let own = format!("inputs/{}/", ctx.id);
        let inputs: Vec<String> = collect_paths(&body)
            .into_iter()
            .filter(|path| path.starts_with(&own))
            .collect();
        inline_inputs(&mut body, &inputs, &self.storage)
            .map_err(|error| JobError::failed(format!("reading the job's inputs failed: {error}")))?;
        let url = format!("{}/api/{}", profile.base_url, ctx.domain);
        let started = Instant::now();
        let mut delay = Duration::from_millis(250);
        loop {
            ctx.check_cancelled()?;
            let mut post = self.client.post(&url);
            for (header, value) in [("x-user-id", &forward.user_id), ("x-machine-id", &forward.machine_id)] {
                if let Some(value) = value {
                    post = post.header(header, value);
                }
            }
            let sent = post
                .bearer_auth(&profile.api_key)
                .header(VIA_HEADER, forward.via.join(","))
                .header(IDEMPOTENCY_HEADER, ctx.id.to_string())
                .json(&body)
                .send()
                .await;
            let problem = match sent {
                Ok(response) if response.status().is_success() => {
                    let created: serde_json::Value = response.json().await.map_err(|error| {
                        JobError::failed(format!("{name} returned invalid JSON for the submission: {error}"))
                    })?;
                    return created["id"]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| JobError::failed(format!("{name} returned no job id for the submission")));
                }
                Ok(response) if response.status().is_client_error() && response.status().as_u16() != 429 => {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    return Err(JobError::failed(format!(
                        "{name} ({}) rejected the job with HTTP {status}: {}",
                        profile.base_url,
                        remote_message(&text)
                    )));
                }
                Ok(response) => format!("HTTP {}", response.status()),
                Err(error) => error.to_string(),
            };
            if started.elapsed() >= self.timing.submit_window {
                return Err(JobError::failed(format!(
                    "remote profile {name} ({}) is unreachable: {problem}; retried for {} s",
                    profile.base_url,
                    self.timing.submit_window.as_secs()
                )));
            }
            ctx.log(format!("{name} is not reachable ({problem}), retrying"));
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// Downloads the remote outputs into local storage.
    async fn bring_home(&self, ctx: &JobContext, name: &str, job: &JobResponse) -> Result<JobOutput, JobError> {
        if let Some(text) = job.output_text() {
            return Ok(JobOutput {
                files: Vec::new(),
                text: Some(text.to_owned()),
            });
        }
        let mut files = Vec::new();
        for (index, url) in job.output_urls().iter().enumerate() {
            let response = self
                .client
                .get(url)
                .send()
                .await
                .and_then(|response| response.error_for_status())
                .map_err(|error| JobError::failed(format!("downloading output {index} from {name} failed: {error}")))?;
            let bytes = response
                .bytes()
                .await
                .map_err(|error| JobError::failed(format!("downloading output {index} from {name} failed: {error}")))?;
            let path = url.split('?').next().unwrap_or(url);
            let extension = path
                .rsplit_once('.')
                .map(|(_, extension)| extension)
                .filter(|extension| extension.len() <= 5 && extension.chars().all(|c| c.is_ascii_alphanumeric()))
                .unwrap_or("bin");
            files.push(ctx.write_output(index, extension, &bytes).await?);
        }
        Ok(JobOutput { files, text: None })
    }
}

/// How long the local server keeps trying to cancel a remote job it gave up on.
const CANCEL_LATER_WINDOW: Duration = Duration::from_secs(30 * 60);

/// Sends DELETE for a remote job every 5 s until the remote responds, for at
/// most [`CANCEL_LATER_WINDOW`]. A restart of this server ends the attempts.
async fn cancel_later(client: reqwest::Client, url: String, key: String, profile: String) {
    let started = Instant::now();
    while started.elapsed() < CANCEL_LATER_WINDOW {
        tokio::time::sleep(Duration::from_secs(5)).await;
        match client.delete(&url).bearer_auth(&key).send().await {
            Ok(response) => {
                tracing::info!(%profile, %url, status = %response.status(), "cancelled a remote job the local server gave up on");
                return;
            }
            Err(error) => tracing::debug!(%profile, %error, "remote still unreachable for a pending cancel"),
        }
    }
    tracing::warn!(%profile, %url, "gave up cancelling a remote job; it may run to its end there");
}

/// Returns every string in `value` that starts like a stored input path (`inputs/`).
fn collect_paths(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(text) if text.starts_with("inputs/") => vec![text.clone()],
        serde_json::Value::Array(items) => items.iter().flat_map(collect_paths).collect(),
        serde_json::Value::Object(fields) => fields.values().flat_map(collect_paths).collect(),
        _ => Vec::new(),
    }
}

impl Executor for RemoteExecutor {
    fn run(&self, ctx: JobContext) -> ExecutorFuture<'_> {
        Box::pin(async move {
            let mut forward: Forward = ctx
                .external_ref()
                .and_then(|reference| serde_json::from_str(reference).ok())
                .ok_or_else(|| JobError::failed("the forwarded job has no remote profile"))?;
            let name = forward.profile.clone();
            let profile = self.profiles.get(&name).ok_or_else(|| {
                JobError::failed(format!(
                    "remote profile {name} no longer exists; `ddiffusion profiles list` shows them"
                ))
            })?;
            let remote_id = match forward.remote_id.clone() {
                Some(id) => {
                    ctx.log(format!("Resuming remote job {id} on {name}"));
                    id
                }
                None => {
                    let id = self.submit(&ctx, &name, &profile, &forward).await?;
                    forward.remote_id = Some(id.clone());
                    let reference = serde_json::to_string(&forward).expect("the forward reference serializes");
                    ctx.set_external_ref(&reference).await?;
                    ctx.log(format!("Forwarded to {name} as job {id}"));
                    id
                }
            };

            let url = format!("{}/api/{}/{remote_id}", profile.base_url, ctx.domain);
            let mut mirrored = forward.mirrored;
            let mut last_contact = Instant::now();
            let mut outage_logged = false;
            loop {
                let token = ctx.cancellation_token();
                tokio::select! {
                    _ = tokio::time::sleep(self.timing.poll) => {}
                    _ = token.cancelled() => {
                        let cancelled = self.client.delete(&url).bearer_auth(&profile.api_key).send().await;
                        if let Err(error) = cancelled {
                            ctx.log(format!("Cancelling job {remote_id} on {name} failed: {error}"));
                        }
                        return Err(JobError::Cancelled);
                    }
                }
                let polled = self.client.get(&url).bearer_auth(&profile.api_key).send().await;
                let problem = match polled {
                    Ok(response) if response.status().is_success() => match response.json::<JobResponse>().await {
                        Ok(job) => {
                            last_contact = Instant::now();
                            outage_logged = false;
                            for line in job.logs.iter().skip(mirrored) {
                                ctx.log(format!("[{name}] {line}"));
                            }
                            // NOTE: the count is stored before the engine writes the log lines, so a crash in
                            // between loses those lines on resume rather than copying them twice.
                            if job.logs.len() > mirrored {
                                mirrored = job.logs.len();
                                forward.mirrored = mirrored;
                                let reference =
                                    serde_json::to_string(&forward).expect("the forward reference serializes");
                                ctx.set_external_ref(&reference).await?;
                            }
                            if let Some(progress) = job.task_info.get("progress").and_then(|value| value.as_f64()) {
                                ctx.progress(progress);
                            }
                            match job.status {
                                TaskStatus::Success => return self.bring_home(&ctx, &name, &job).await,
                                TaskStatus::Failure => {
                                    let message = job.error_message.unwrap_or_else(|| "no message".into());
                                    let message = message.strip_prefix("Task failed with error: ").unwrap_or(&message);
                                    return Err(JobError::failed(format!("failed on {name}: {message}")));
                                }
                                TaskStatus::Revoked => {
                                    return Err(JobError::failed(format!("the job was cancelled on {name}")))
                                }
                                _ => continue,
                            }
                        }
                        Err(error) => format!("invalid response: {error}"),
                    },
                    Ok(response) if matches!(response.status().as_u16(), 401 | 403) => {
                        return Err(JobError::failed(format!(
                            "{name} ({}) rejected the API key (HTTP {}) while following job {remote_id}; the job \
                             may still run there; set a valid key with `ddiffusion profiles add {name} {} --key KEY`",
                            profile.base_url,
                            response.status(),
                            profile.base_url
                        )))
                    }
                    Ok(response) if response.status().as_u16() == 404 => {
                        return Err(JobError::failed(format!(
                            "job {remote_id} no longer exists on {name} (expired or deleted)"
                        )))
                    }
                    Ok(response) => format!("HTTP {}", response.status()),
                    Err(error) => error.to_string(),
                };
                if last_contact.elapsed() >= self.timing.lost_window {
                    // The remote may come back and run a job that no one follows
                    // any more, so keep trying to cancel it there for a while.
                    tokio::spawn(cancel_later(
                        self.client.clone(),
                        url.clone(),
                        profile.api_key.clone(),
                        name.clone(),
                    ));
                    return Err(JobError::failed(format!(
                        "lost contact with remote profile {name} ({}) for {} s: {problem}",
                        profile.base_url,
                        self.timing.lost_window.as_secs()
                    )));
                }
                if !outage_logged {
                    ctx.log(format!("{name} is not responding ({problem}), retrying"));
                    outage_logged = true;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_inlined_as_base64() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("inputs/j")).unwrap();
        std::fs::write(dir.path().join("inputs/j/image.png"), b"abc").unwrap();
        let mut request = serde_json::json!({"model": "sd-xl", "image": "inputs/j/image.png",
                                             "references": [{"image": "inputs/j/image.png"}], "prompt": "inputs/ is text"});
        let paths = collect_paths(&request);
        assert_eq!(paths.len(), 3, "the prompt starts like a stored input");
        let stored: Vec<String> = paths.into_iter().filter(|path| path.starts_with("inputs/j/")).collect();
        inline_inputs(&mut request, &stored, dir.path()).unwrap();
        assert_eq!(request["image"], "YWJj");
        assert_eq!(request["references"][0]["image"], "YWJj");
        assert_eq!(request["prompt"], "inputs/ is text");
    }

    #[test]
    fn remote_messages_come_from_validation_errors() {
        assert_eq!(
            remote_message(r#"{"detail": [{"msg": "bad strength"}]}"#),
            "bad strength"
        );
        assert_eq!(remote_message(r#"{"detail": "Invalid API key"}"#), "Invalid API key");
        assert_eq!(remote_message("oops"), "oops");
    }
}
