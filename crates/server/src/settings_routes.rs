//! `/api/admin/settings` and `/api/admin/provider-keys/{provider}`: server
//! settings and provider keys in `config.toml`, guarded by the admin key.

use std::path::PathBuf;

use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use protocol::settings::{
    KeySource, ProviderKeyStatus, ProviderKeyUpdate, ServerSettings, SettingsSaved, SettingsUpdate,
};
use protocol::{ErrorDetail, HttpValidationError, Provider, ValidationError};

use crate::config::Settings;
use crate::error::{ApiError, ValidJson};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/settings", get(settings_get).put(settings_update))
        .route("/api/admin/provider-keys/{provider}", put(provider_key_set))
}

/// Returns the name of `provider` in requests and `config.toml` sections.
pub fn provider_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Local => "local",
        Provider::Openai => "openai",
        Provider::Replicate => "replicate",
    }
}

/// Returns the `config.toml` key of an external provider's key.
fn config_key(provider: Provider) -> &'static str {
    match provider {
        Provider::Openai => "openai_api_key",
        _ => "replicate_api_token",
    }
}

fn config_file(state: &AppState) -> Result<PathBuf, ApiError> {
    state.settings.config_file.clone().ok_or_else(|| {
        ApiError::BadRequest(
            "this server was started without a configuration file, so settings cannot be saved; start it with \
             `ddiffusion serve`"
                .into(),
        )
    })
}

/// Reads the settings the next start will use: `config.toml` and the
/// `DDIFFUSION_*` variables. Falls back to the running settings when the
/// server has no configuration file.
fn saved_settings(state: &AppState) -> Result<Settings, ApiError> {
    match &state.settings.config_file {
        Some(path) => Settings::load(path).map_err(|error| ApiError::internal(format!("{error:#}"))),
        None => Ok((*state.settings).clone()),
    }
}

fn key_status(state: &AppState, provider: Provider) -> ProviderKeyStatus {
    let variable = providers::config::variable(provider);
    let running = state.provider_keys.get(provider);
    let from_environment = std::env::var(variable).ok().filter(|value| !value.trim().is_empty());
    let source = match (&running, from_environment) {
        (None, _) => KeySource::None,
        (Some(key), Some(environment)) if *key == environment => KeySource::Environment,
        (Some(_), _) => KeySource::ConfigFile,
    };
    ProviderKeyStatus {
        provider,
        configured: running.is_some(),
        source,
        variable: variable.to_owned(),
    }
}

fn describe(state: &AppState, saved: &Settings) -> ServerSettings {
    let data_dir = state
        .engine
        .storage_dir()
        .parent()
        .map(|folder| folder.display().to_string())
        .unwrap_or_default();
    ServerSettings {
        device: saved.device.clone(),
        memory_budget_gb: saved.memory_budget_gb,
        keep_alive_seconds: saved.keep_alive_seconds,
        bind: saved.bind.clone(),
        data_dir,
        config_file: state
            .settings
            .config_file
            .as_ref()
            .map(|path| path.display().to_string()),
        auto_download: saved.auto_download,
        provider_keys: [Provider::Openai, Provider::Replicate]
            .into_iter()
            .map(|provider| key_status(state, provider))
            .collect(),
    }
}

/// Settings of local models, the bind address, the data folder and whether
/// each provider has a key (never the key itself).
///
/// The values are those of `config.toml` and the `DDIFFUSION_*` variables,
/// which the next start uses; `--bind` on the command line is not included.
#[utoipa::path(
    get, path = "/api/admin/settings", operation_id = "settings_get", tag = "admin",
    responses(
        (status = 200, description = "Saved settings", body = ServerSettings),
        (status = 403, description = "Wrong admin key", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn settings_get(State(state): State<AppState>) -> Result<Json<ServerSettings>, ApiError> {
    let saved = saved_settings(&state)?;
    Ok(Json(describe(&state, &saved)))
}

fn invalid(field: &str, message: String) -> ValidationError {
    ValidationError::new(vec!["body".into(), field.into()], message, "value_error")
}

/// Checks a `device` value by its form; whether the device exists is known only at start.
fn check_device(device: &str) -> Result<(), String> {
    let normalised = device.trim().to_ascii_lowercase();
    let valid = matches!(normalised.as_str(), "auto" | "cpu" | "cuda" | "metal")
        || normalised
            .strip_prefix("cuda:")
            .is_some_and(|ordinal| ordinal.parse::<usize>().is_ok());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "device is {device:?}, which is not a device name; use auto, cpu, cuda, cuda:N (such as cuda:1) or metal"
        ))
    }
}

/// Checks that `bind` is `host:port` and returns whether the host is a loopback address.
fn check_bind(bind: &str) -> Result<bool, String> {
    let fix = "use host:port, such as 127.0.0.1:5000, [::1]:5000 or 0.0.0.0:5000";
    if let Ok(address) = bind.parse::<std::net::SocketAddr>() {
        return Ok(address.ip().is_loopback());
    }
    let Some((host, port)) = bind.rsplit_once(':') else {
        return Err(format!("bind is {bind:?}, which has no port; {fix}"));
    };
    if port.parse::<u16>().is_err() {
        return Err(format!(
            "bind is {bind:?}, whose port {port:?} is not a number from 0 to 65535; {fix}"
        ));
    }
    let is_host_name = !host.is_empty()
        && host
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !is_host_name {
        return Err(format!(
            "bind is {bind:?}, whose host {host:?} is not an IP address or host name; {fix}"
        ));
    }
    Ok(host.eq_ignore_ascii_case("localhost"))
}

/// Saves settings into `config.toml`, keeping the file's other lines and
/// comments. Every setting here applies after a restart.
#[utoipa::path(
    put, path = "/api/admin/settings", operation_id = "settings_update", tag = "admin",
    request_body = SettingsUpdate,
    responses(
        (status = 200, description = "Saved; `restart_required` lists what applies after a restart", body = SettingsSaved),
        (status = 400, description = "The server has no configuration file", body = ErrorDetail),
        (status = 403, description = "Wrong admin key", body = ErrorDetail),
        (status = 422, description = "Invalid value, with the field and the fix", body = HttpValidationError),
    ),
    security(("APIKeyHeader" = []))
)]
async fn settings_update(
    State(state): State<AppState>,
    ValidJson(update): ValidJson<SettingsUpdate>,
) -> Result<Json<SettingsSaved>, ApiError> {
    let mut errors = Vec::new();
    let mut changes: Vec<(&str, Option<toml::Value>)> = Vec::new();
    let mut warning = None;
    if let Some(device) = &update.device {
        match check_device(device) {
            Ok(()) => changes.push(("device", Some(device.trim().to_ascii_lowercase().into()))),
            Err(message) => errors.push(invalid("device", message)),
        }
    }
    if let Some(budget) = update.memory_budget_gb {
        if budget.is_finite() && budget >= 0.0 {
            changes.push(("memory_budget_gb", Some(budget.into())));
        } else {
            errors.push(invalid(
                "memory_budget_gb",
                format!("memory_budget_gb is {budget}, but it must be 0 (one model at a time) or more GiB"),
            ));
        }
    }
    if let Some(seconds) = update.keep_alive_seconds {
        changes.push(("keep_alive_seconds", Some(seconds.into())));
    }
    if let Some(bind) = &update.bind {
        let bind = bind.trim();
        match check_bind(bind) {
            Ok(loopback) => {
                if !loopback {
                    warning = Some(format!(
                        "bind {bind} is not a loopback address: after a restart other machines on the network can \
                         reach this server, protected only by its API keys; add the host names they use to allowed_hosts"
                    ));
                }
                changes.push(("bind", Some(bind.into())));
            }
            Err(message) => errors.push(invalid("bind", message)),
        }
    }
    if let Some(auto_download) = update.auto_download {
        changes.push(("auto_download", Some(auto_download.into())));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    let path = config_file(&state)?;
    let restart_required: Vec<String> = changes.iter().map(|(key, _)| key.to_string()).collect();
    if !changes.is_empty() {
        let written = path.clone();
        tokio::task::spawn_blocking(move || crate::config_edit::write_settings(&written, &changes))
            .await
            .map_err(ApiError::internal)?
            .map_err(|error| ApiError::internal(format!("{error:#}")))?;
        tracing::info!(config = %path.display(), settings = ?restart_required, "settings saved; they apply after a restart");
    }
    let saved = saved_settings(&state)?;
    Ok(Json(SettingsSaved {
        settings: describe(&state, &saved),
        restart_required,
        warning,
    }))
}

/// Stores an external provider's key in `config.toml` and uses it at once,
/// without a restart. An empty or null key removes it. The key is never returned.
#[utoipa::path(
    put, path = "/api/admin/provider-keys/{provider}", operation_id = "provider_key_set", tag = "admin",
    params(("provider" = String, Path, description = "openai or replicate")),
    request_body = ProviderKeyUpdate,
    responses(
        (status = 200, description = "Whether the provider has a key now", body = ProviderKeyStatus),
        (status = 400, description = "The server has no configuration file", body = ErrorDetail),
        (status = 403, description = "Wrong admin key", body = ErrorDetail),
        (status = 404, description = "Unknown provider", body = ErrorDetail),
    ),
    security(("APIKeyHeader" = []))
)]
async fn provider_key_set(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    ValidJson(update): ValidJson<ProviderKeyUpdate>,
) -> Result<Json<ProviderKeyStatus>, ApiError> {
    let provider = match provider.as_str() {
        "openai" => Provider::Openai,
        "replicate" => Provider::Replicate,
        other => {
            return Err(ApiError::NotFound(format!(
                "provider {other:?} has no key setting; use openai or replicate"
            )))
        }
    };
    let key = update
        .key
        .map(|key| key.trim().to_owned())
        .filter(|key| !key.is_empty());
    if key.as_deref().is_some_and(|key| key.chars().any(char::is_control)) {
        return Err(ApiError::Validation(vec![invalid(
            "key",
            "key contains a line break or another control character; paste the key alone".into(),
        )]));
    }

    let path = config_file(&state)?;
    let changes = vec![(config_key(provider), key.clone().map(toml::Value::from))];
    let written = path.clone();
    tokio::task::spawn_blocking(move || crate::config_edit::write_settings(&written, &changes))
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| ApiError::internal(format!("{error:#}")))?;
    let configured = key.is_some();
    // Without a key in the file, the environment's key applies, as at start.
    let running = key.or_else(|| {
        std::env::var(providers::config::variable(provider))
            .ok()
            .filter(|value| !value.trim().is_empty())
    });
    state.provider_keys.set(provider, running);
    tracing::info!(provider = provider_name(provider), configured, config = %path.display(), "provider key saved");
    Ok(Json(key_status(&state, provider)))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(settings_get, settings_update, provider_key_set))]
pub struct SettingsApi;

#[cfg(test)]
mod tests {
    use super::{check_bind, check_device};

    #[test]
    fn device_names() {
        for valid in ["auto", "cpu", "cuda", "cuda:1", "Metal"] {
            assert!(check_device(valid).is_ok(), "{valid}");
        }
        for invalid in ["gpu", "cuda:", "cuda:x", ""] {
            assert!(check_device(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn bind_addresses() {
        assert_eq!(check_bind("127.0.0.1:5000"), Ok(true));
        assert_eq!(check_bind("[::1]:5000"), Ok(true));
        assert_eq!(check_bind("localhost:5000"), Ok(true));
        assert_eq!(check_bind("0.0.0.0:5000"), Ok(false));
        assert_eq!(check_bind("gpu-box:80"), Ok(false));
        assert!(check_bind("127.0.0.1").is_err());
        assert!(check_bind("127.0.0.1:99999").is_err());
        assert!(check_bind(":5000").is_err());
        assert!(check_bind("bad host:5000").is_err());
    }
}
