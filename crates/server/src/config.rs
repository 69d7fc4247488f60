//! Settings: defaults, `config.toml`, then `DDIFFUSION_*` environment variables.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use engine::{EngineConfig, LaneConfig};
use serde::{Deserialize, Serialize};

/// Server settings. Each field can be set in `config.toml` or by the
/// environment variable `DDIFFUSION_<FIELD>` in upper case, which wins.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on.
    pub bind: String,
    /// Host names accepted in the `Host` header besides localhost, 127.0.0.1,
    /// [::1] and the bind address; `"*"` accepts any.
    pub allowed_hosts: Vec<String>,
    /// Browser origins (such as `http://studio-tools:8080`) allowed to call the API.
    pub cors_origins: Vec<String>,
    /// Base of signed file URLs, such as `http://gpu-box:5000`; by default the
    /// scheme and `Host` of each request.
    pub public_url: Option<String>,
    /// Waiting jobs over all lanes at which a POST gets a 429.
    pub backlog_limit: i64,
    /// Jobs the local lane runs at once.
    pub local_concurrency: usize,
    /// Jobs the external lane runs at once.
    pub external_concurrency: usize,
    /// Seconds a local job may run; 0 for no limit.
    pub local_time_limit_seconds: u64,
    /// Seconds an external job may run; 0 for no limit.
    pub external_time_limit_seconds: u64,
    /// Days after which finished jobs and their files are deleted.
    pub retention_days: f64,
    /// Seconds between two retention sweeps.
    pub retention_sweep_seconds: u64,
    /// Largest accepted request body, in MiB.
    pub body_limit_mb: u64,
    /// Seconds a signed file URL stays valid.
    pub signed_url_expiry_seconds: u64,
    /// Registers the `dev-local` and `dev-external` test models, which sleep,
    /// log and write small images without loading any weights.
    pub dev_models: bool,
    /// Device of local models: `auto` (a GPU when the build and machine have
    /// one, else the CPU), `cpu`, `cuda`, `cuda:N` or `metal`.
    pub device: String,
    /// Sum of the catalogue's `memory_gb` that loaded models may use; 0 keeps
    /// one model in memory at a time.
    pub memory_budget_gb: f64,
    /// Seconds a loaded model stays in memory after its last job; 0 unloads it
    /// at once, a negative value keeps it until another model needs the room.
    pub keep_alive_seconds: i64,
    /// Downloads a local model's missing files when a job needs them and the
    /// Hugging Face Hub is reachable (not with HF_HUB_OFFLINE=1).
    pub auto_download: bool,
    /// OpenAI API key, used when `OPENAI_API_KEY` is not set. Keep the
    /// configuration file readable by its owner only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openai_api_key: Option<Secret>,
    /// Replicate API token, used when `REPLICATE_API_TOKEN` is not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicate_api_token: Option<Secret>,
    /// Jobs forwarded to remote profiles that run at once.
    pub remote_concurrency: usize,
    /// Milliseconds between two polls of a forwarded job.
    pub remote_poll_ms: u64,
    /// Seconds an unreachable remote is retried before a forwarded job fails at submission.
    pub remote_submit_timeout_seconds: u64,
    /// Seconds a remote may stop responding mid-job before the forwarded job fails.
    pub remote_lost_timeout_seconds: u64,
    /// The file these settings were read from; `PUT /api/admin/settings`
    /// writes to it. Not a setting of the file itself.
    #[serde(skip)]
    pub config_file: Option<PathBuf>,
}

/// Settings whose default is "unset", which a default table does not list.
const UNSET_BY_DEFAULT: &[&str] = &["public_url", "openai_api_key", "replicate_api_token"];

/// A setting that is never printed: its `Debug` form is `<secret>`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("<secret>")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:5000".into(),
            allowed_hosts: Vec::new(),
            cors_origins: Vec::new(),
            public_url: None,
            backlog_limit: 100,
            local_concurrency: 1,
            external_concurrency: 4,
            local_time_limit_seconds: 0,
            external_time_limit_seconds: 600,
            retention_days: 30.0,
            retention_sweep_seconds: 3600,
            body_limit_mb: 256,
            signed_url_expiry_seconds: 3600,
            dev_models: false,
            device: "auto".into(),
            memory_budget_gb: 0.0,
            keep_alive_seconds: 300,
            auto_download: true,
            openai_api_key: None,
            replicate_api_token: None,
            remote_concurrency: 8,
            remote_poll_ms: 1000,
            remote_submit_timeout_seconds: 60,
            remote_lost_timeout_seconds: 300,
            config_file: None,
        }
    }
}

impl Settings {
    /// Reads `config_file` if it exists, then applies `DDIFFUSION_*` variables.
    pub fn load(config_file: &Path) -> anyhow::Result<Self> {
        let mut table = toml::Table::try_from(Self::default())?;
        if config_file.exists() {
            let text = std::fs::read_to_string(config_file)
                .with_context(|| format!("could not read {}", config_file.display()))?;
            let file: toml::Table =
                toml::from_str(&text).with_context(|| format!("{} is not valid TOML", config_file.display()))?;
            table.extend(file);
        }
        // Settings that are unset by default are missing from the table, so
        // their variables are looked up by name.
        let mut keys: Vec<String> = table.keys().cloned().collect();
        keys.extend(UNSET_BY_DEFAULT.iter().map(|key| key.to_string()));
        for key in keys {
            let variable = format!("DDIFFUSION_{}", key.to_uppercase());
            if let Ok(text) = std::env::var(&variable) {
                let current = table.get(&key).cloned();
                table.insert(key, env_value(&text, current.as_ref()));
            }
        }
        let mut settings: Self = table.try_into().with_context(|| {
            format!(
                "invalid setting in {} or a DDIFFUSION_* variable",
                config_file.display()
            )
        })?;
        settings.check()?;
        settings.config_file = Some(config_file.to_path_buf());
        Ok(settings)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.local_concurrency == 0 || self.external_concurrency == 0 || self.remote_concurrency == 0 {
            bail!("local_concurrency, external_concurrency and remote_concurrency must be at least 1");
        }
        if self.backlog_limit < 1 {
            bail!("backlog_limit is {}, but it must be at least 1", self.backlog_limit);
        }
        if self.memory_budget_gb < 0.0 {
            bail!(
                "memory_budget_gb is {}, but it must be 0 (one model at a time) or more",
                self.memory_budget_gb
            );
        }
        if self.retention_days <= 0.0 {
            bail!("retention_days is {}, but it must be above 0", self.retention_days);
        }
        Ok(())
    }

    /// Returns how long loaded pipelines stay in memory and how many fit.
    pub fn cache_policy(&self) -> images::executor::CachePolicy {
        images::executor::CachePolicy {
            budget_gb: self.memory_budget_gb,
            keep_alive: u64::try_from(self.keep_alive_seconds).ok().map(Duration::from_secs),
        }
    }

    pub fn body_limit_bytes(&self) -> usize {
        (self.body_limit_mb as usize).saturating_mul(1024 * 1024)
    }

    pub fn engine_config(&self, data_dir: &Path) -> EngineConfig {
        let limit = |seconds: u64| (seconds > 0).then(|| Duration::from_secs(seconds));
        let mut config = EngineConfig::new(data_dir);
        config.lanes = vec![
            LaneConfig {
                name: "local".into(),
                concurrency: self.local_concurrency,
                time_limit: limit(self.local_time_limit_seconds),
            },
            LaneConfig {
                name: "external".into(),
                concurrency: self.external_concurrency,
                time_limit: limit(self.external_time_limit_seconds),
            },
            // The remote server applies its own time limits.
            LaneConfig {
                name: crate::remote::REMOTE_LANE.into(),
                concurrency: self.remote_concurrency,
                time_limit: None,
            },
        ];
        config.backlog_limit = self.backlog_limit;
        config.retention = Duration::from_secs_f64(self.retention_days * 86_400.0);
        config.retention_interval = Duration::from_secs(self.retention_sweep_seconds.max(1));
        config
    }
}

/// Converts an environment variable to the TOML type of the setting it overrides:
/// numbers and booleans are parsed, lists are comma-separated.
fn env_value(text: &str, current: Option<&toml::Value>) -> toml::Value {
    match current {
        Some(toml::Value::Array(_)) => toml::Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| toml::Value::String(item.into()))
                .collect(),
        ),
        Some(toml::Value::Integer(_)) => text
            .trim()
            .parse()
            .map(toml::Value::Integer)
            .unwrap_or_else(|_| text.into()),
        Some(toml::Value::Float(_)) => text
            .trim()
            .parse()
            .map(toml::Value::Float)
            .unwrap_or_else(|_| text.into()),
        Some(toml::Value::Boolean(_)) => match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => toml::Value::Boolean(true),
            "0" | "false" | "no" | "off" | "" => toml::Value::Boolean(false),
            _ => text.into(),
        },
        _ => text.into(),
    }
}

/// Folders the server uses.
#[derive(Debug, Clone)]
pub struct Paths {
    pub data_dir: PathBuf,
    pub config_file: PathBuf,
}

impl Paths {
    /// Resolves the data folder (`--data-dir`, `DDIFFUSION_DATA_DIR`, or the
    /// platform's data folder) and the configuration file (`DDIFFUSION_CONFIG`,
    /// `config.toml` in an explicit data folder, or the platform's configuration folder).
    pub fn resolve(data_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let explicit = data_dir.or_else(|| std::env::var_os("DDIFFUSION_DATA_DIR").map(PathBuf::from));
        let project = directories::ProjectDirs::from("", "", "ddiffusion");
        let data_dir = match (&explicit, &project) {
            (Some(dir), _) => dir.clone(),
            (None, Some(project)) => project.data_dir().to_path_buf(),
            (None, None) => {
                bail!("no home folder found; pass --data-dir or set DDIFFUSION_DATA_DIR")
            }
        };
        let config_file = match (std::env::var_os("DDIFFUSION_CONFIG"), &explicit, &project) {
            (Some(file), _, _) => {
                let file = PathBuf::from(file);
                if !file.exists() {
                    bail!(
                        "DDIFFUSION_CONFIG names {}, which does not exist; create it or unset DDIFFUSION_CONFIG",
                        file.display()
                    );
                }
                file
            }
            (None, Some(dir), _) => dir.join("config.toml"),
            (None, None, Some(project)) => project.config_dir().join("config.toml"),
            (None, None, None) => data_dir.join("config.toml"),
        };
        Ok(Self { data_dir, config_file })
    }

    /// `profiles.toml`, next to the configuration file.
    pub fn profiles(&self) -> PathBuf {
        self.config_file.with_file_name("profiles.toml")
    }

    /// User catalogue that adds to or overrides the shipped `models.toml`.
    pub fn user_models(&self) -> PathBuf {
        self.config_file.with_file_name("models.toml")
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir.join("ddiffusion.db")
    }
}
