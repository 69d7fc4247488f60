//! Types of the catalogue listing (`/api/models`), of server settings
//! (`/api/admin/settings`) and of provider keys (`/api/admin/provider-keys`).

use serde::{Deserialize, Serialize};

use crate::{Domain, Provider};

/// One catalogue model, as `GET /api/models` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogModel {
    pub domain: Domain,
    pub name: String,
    pub provider: Provider,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Local models: all files are in the Hugging Face cache. External
    /// models: the provider's key is configured.
    pub installed: bool,
    /// Bytes on disk of the files present; null for external models.
    pub size_bytes: Option<u64>,
    pub license: Option<String>,
    /// The repository needs an accepted licence and a token (`HF_TOKEN`).
    pub gated: bool,
    /// The model's pipeline is in memory now.
    pub loaded: bool,
    /// Remote profile that the model's routing rule in `profiles.toml` sends its jobs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_on: Option<String>,
}

/// Response of `DELETE /api/models/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelRemoved {
    pub name: String,
    /// Bytes the removed files took on disk.
    pub freed_bytes: u64,
    /// Cache folders deleted; 0 when the model had no files.
    pub removed_paths: usize,
    /// The model was in memory and has been unloaded first.
    pub unloaded: bool,
}

/// Where a provider key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// The environment variable (`OPENAI_API_KEY`, `REPLICATE_API_TOKEN`).
    Environment,
    /// `config.toml`, also after `PUT /api/admin/provider-keys/{provider}`.
    ConfigFile,
    None,
}

/// Whether a provider has a key, never the key itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderKeyStatus {
    pub provider: Provider,
    pub configured: bool,
    pub source: KeySource,
    /// Environment variable that takes precedence over `config.toml`.
    pub variable: String,
}

/// Response of `GET /api/admin/settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerSettings {
    /// Device of local models: `auto`, `cpu`, `cuda`, `cuda:N` or `metal`.
    pub device: String,
    /// Sum of the catalogue's `memory_gb` that loaded models may use, in GiB.
    pub memory_budget_gb: f64,
    /// Seconds a loaded model stays in memory after its last job.
    pub keep_alive_seconds: i64,
    /// Address and port the server listens on.
    pub bind: String,
    /// Folder of the database, inputs and outputs.
    pub data_dir: String,
    /// The `config.toml` that `PUT /api/admin/settings` writes; null when the
    /// server was started without one.
    pub config_file: Option<String>,
    pub auto_download: bool,
    pub provider_keys: Vec<ProviderKeyStatus>,
}

/// Body of `PUT /api/admin/settings`: the settings to change; the others keep their values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_budget_gb: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_download: Option<bool>,
}

/// Response of `PUT /api/admin/settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsSaved {
    /// The settings as `config.toml` now has them.
    pub settings: ServerSettings,
    /// Settings written that take effect only after the server restarts.
    pub restart_required: Vec<String>,
    /// Present when the new bind address lets other machines reach the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Body of `PUT /api/admin/provider-keys/{provider}`; an empty or null key removes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderKeyUpdate {
    #[serde(default)]
    pub key: Option<String>,
}
