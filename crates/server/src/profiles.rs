//! Remote server profiles: other instances of this server that jobs can be
//! forwarded to, and rules that send a model's jobs to one of them.
//!
//! Profiles live in `profiles.toml` next to `config.toml`, written with
//! owner-only permissions because it contains API keys. Keys are never
//! logged or returned: listings show only whether a profile has one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use protocol::Domain;
use serde::{Deserialize, Serialize};

/// One remote server.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Base URL, such as `http://gpu-box:5000`.
    pub base_url: String,
    #[serde(default)]
    pub api_key: String,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

/// Contents of `profiles.toml`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilesFile {
    /// Profiles by name.
    #[serde(default)]
    pub profile: BTreeMap<String, Profile>,
    /// Profile that runs each model's jobs, by model name.
    #[serde(default)]
    pub route: BTreeMap<String, String>,
}

/// A profile as listings show it, without its key.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProfileInfo {
    pub name: String,
    pub base_url: String,
    pub enabled: bool,
    /// True if the profile has an API key; the key itself is never returned.
    pub has_key: bool,
}

/// How long a remote's model list is reused before it is fetched again.
const MODELS_TTL: Duration = Duration::from_secs(30);

/// Model lists fetched from the remotes, by profile and domain, with the time of the fetch.
type ModelLists = BTreeMap<(String, Domain), (Instant, serde_json::Map<String, serde_json::Value>)>;

/// The profiles file and the model lists fetched from the remotes.
#[derive(Clone)]
pub struct Profiles {
    path: PathBuf,
    file: Arc<RwLock<ProfilesFile>>,
    /// Modification time of the file when it was last read or written, so
    /// that edits by `ddiffusion profiles` reach a running server.
    modified: Arc<Mutex<Option<std::time::SystemTime>>>,
    models: Arc<Mutex<ModelLists>>,
}

fn valid_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    anyhow::ensure!(
        ok,
        "invalid profile name {name:?}: use 1 to 64 letters, digits, '-', '_' or '.'"
    );
    Ok(())
}

fn valid_url(url: &str) -> anyhow::Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    anyhow::ensure!(
        trimmed.starts_with("http://") || trimmed.starts_with("https://"),
        "invalid base URL {url:?}: it must start with http:// or https://, such as http://gpu-box:5000"
    );
    Ok(trimmed.to_owned())
}

impl Profiles {
    /// Reads `path` if it exists.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let file = if path.exists() {
            let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
            toml::from_str(&text).with_context(|| format!("{} is not a valid profiles file", path.display()))?
        } else {
            ProfilesFile::default()
        };
        Ok(Self {
            path: path.to_owned(),
            file: Arc::new(RwLock::new(file)),
            modified: Arc::new(Mutex::new(modified(path))),
            models: Arc::default(),
        })
    }

    /// Reads the file again if another process changed it.
    fn refresh(&self) {
        let current = modified(&self.path);
        let mut seen = self.modified.lock().unwrap();
        if current == *seen {
            return;
        }
        let reread = std::fs::read_to_string(&self.path)
            .map_err(anyhow::Error::from)
            .and_then(|text| Ok(toml::from_str::<ProfilesFile>(&text)?));
        match reread {
            Ok(file) => {
                *self.file.write().unwrap() = file;
                self.models.lock().unwrap().clear();
                tracing::info!(path = %self.path.display(), "profiles reloaded");
            }
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "profiles file changed but is invalid; keeping the previous profiles")
            }
        }
        *seen = current;
    }

    /// Writes the file through a temporary file, with owner-only permissions.
    fn save(&self, file: &ProfilesFile) -> anyhow::Result<()> {
        let text = toml::to_string(file)?;
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let partial = self.path.with_extension("toml.partial");
        {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut out = options
                .open(&partial)
                .with_context(|| format!("could not write {}", partial.display()))?;
            std::io::Write::write_all(&mut out, text.as_bytes())?;
        }
        std::fs::rename(&partial, &self.path).with_context(|| format!("could not write {}", self.path.display()))?;
        *self.modified.lock().unwrap() = modified(&self.path);
        Ok(())
    }

    /// Adds or updates a profile. `api_key: None` keeps the stored key.
    pub fn put(&self, name: &str, base_url: &str, api_key: Option<String>, enabled: bool) -> anyhow::Result<()> {
        valid_name(name)?;
        self.refresh();
        let base_url = valid_url(base_url)?;
        let mut file = self.file.write().unwrap();
        let mut updated = file.clone();
        let api_key = api_key
            .or_else(|| updated.profile.get(name).map(|profile| profile.api_key.clone()))
            .unwrap_or_default();
        updated.profile.insert(
            name.to_owned(),
            Profile {
                base_url,
                api_key,
                enabled,
            },
        );
        self.save(&updated)?;
        *file = updated;
        self.models.lock().unwrap().retain(|(profile, _), _| profile != name);
        Ok(())
    }

    /// Turns forwarding to a profile on or off; returns false if there is no such profile.
    pub fn set_enabled(&self, name: &str, enabled: bool) -> anyhow::Result<bool> {
        self.refresh();
        let mut file = self.file.write().unwrap();
        let mut updated = file.clone();
        let Some(profile) = updated.profile.get_mut(name) else {
            return Ok(false);
        };
        profile.enabled = enabled;
        self.save(&updated)?;
        *file = updated;
        self.models.lock().unwrap().retain(|(profile, _), _| profile != name);
        Ok(true)
    }

    /// Removes a profile and its rules; returns false if there was none.
    pub fn remove(&self, name: &str) -> anyhow::Result<bool> {
        self.refresh();
        let mut file = self.file.write().unwrap();
        let mut updated = file.clone();
        let existed = updated.profile.remove(name).is_some();
        updated.route.retain(|_, profile| profile != name);
        self.save(&updated)?;
        *file = updated;
        Ok(existed)
    }

    /// Sends `model`'s jobs to `profile`, or back to normal routing with `None`.
    pub fn set_route(&self, model: &str, profile: Option<&str>) -> anyhow::Result<()> {
        self.refresh();
        let mut file = self.file.write().unwrap();
        let mut updated = file.clone();
        match profile {
            Some(profile) => {
                anyhow::ensure!(
                    updated.profile.contains_key(profile),
                    "no profile named {profile:?}; add it first with `ddiffusion profiles add`"
                );
                updated.route.insert(model.to_owned(), profile.to_owned());
            }
            None => {
                updated.route.remove(model);
            }
        }
        self.save(&updated)?;
        *file = updated;
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<Profile> {
        self.refresh();
        self.file.read().unwrap().profile.get(name).cloned()
    }

    pub fn list(&self) -> Vec<ProfileInfo> {
        self.refresh();
        let file = self.file.read().unwrap();
        file.profile
            .iter()
            .map(|(name, profile)| ProfileInfo {
                name: name.clone(),
                base_url: profile.base_url.clone(),
                enabled: profile.enabled,
                has_key: !profile.api_key.is_empty(),
            })
            .collect()
    }

    /// Profile named by the routing rule of `model`.
    pub fn route(&self, model: &str) -> Option<String> {
        self.refresh();
        self.file.read().unwrap().route.get(model).cloned()
    }

    pub fn routes(&self) -> BTreeMap<String, String> {
        self.refresh();
        self.file.read().unwrap().route.clone()
    }

    /// Names of the enabled profiles.
    pub fn enabled(&self) -> Vec<String> {
        self.refresh();
        let file = self.file.read().unwrap();
        file.profile
            .iter()
            .filter(|(_, profile)| profile.enabled)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Returns the models `profile` lists for `domain`, fetched at most every
    /// 30 s; an unreachable remote gives an empty list.
    pub async fn remote_models(&self, profile: &str, domain: Domain) -> serde_json::Map<String, serde_json::Value> {
        let key = (profile.to_owned(), domain);
        if let Some((fetched, models)) = self.models.lock().unwrap().get(&key) {
            if fetched.elapsed() < MODELS_TTL {
                return models.clone();
            }
        }
        let Some(settings) = self.get(profile) else {
            return Default::default();
        };
        let models = match fetch_models(&settings, domain).await {
            Ok(models) => models,
            Err(error) => {
                tracing::warn!(%profile, %error, "could not list the remote's models");
                Default::default()
            }
        };
        self.models
            .lock()
            .unwrap()
            .insert(key, (Instant::now(), models.clone()));
        models
    }
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|metadata| metadata.modified()).ok()
}

async fn fetch_models(profile: &Profile, domain: Domain) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).build()?;
    let response = client
        .get(format!("{}/api/{}/models", profile.base_url, domain.as_str()))
        .bearer_auth(&profile.api_key)
        .send()
        .await?
        .error_for_status()?;
    let body: serde_json::Value = response.json().await?;
    Ok(body
        .get("models")
        .and_then(|models| models.as_object())
        .cloned()
        .unwrap_or_default())
}

/// Outcome of checking a profile: version and models of the remote.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProfileCheck {
    pub name: String,
    pub version: String,
    /// Models by domain (`images`, `texts`, `videos`).
    pub models: BTreeMap<String, Vec<String>>,
}

/// Checks that the remote responds to `/health`, accepts the key and lists its models.
pub async fn check(name: &str, profile: &Profile) -> anyhow::Result<ProfileCheck> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let base = &profile.base_url;
    client
        .get(format!("{base}/health"))
        .send()
        .await
        .and_then(|response| response.error_for_status())
        .with_context(|| format!("profile {name}: {base}/health is not reachable"))?;
    let system = client
        .get(format!("{base}/api/system"))
        .bearer_auth(&profile.api_key)
        .send()
        .await
        .with_context(|| format!("profile {name}: {base}/api/system is not reachable"))?;
    let status = system.status();
    anyhow::ensure!(
        status != reqwest::StatusCode::FORBIDDEN && status != reqwest::StatusCode::UNAUTHORIZED,
        "profile {name}: {base} rejected the API key (HTTP {status}); create a key on the remote with \
         `ddiffusion keys create` and set it with `ddiffusion profiles add {name} {base} --key KEY`"
    );
    anyhow::ensure!(
        status.is_success(),
        "profile {name}: {base}/api/system answered HTTP {status}"
    );
    let system: serde_json::Value = system.json().await?;
    let mut models = BTreeMap::new();
    for domain in [Domain::Images, Domain::Texts, Domain::Videos] {
        let names = fetch_models(profile, domain).await?.keys().cloned().collect();
        models.insert(domain.as_str().to_owned(), names);
    }
    Ok(ProfileCheck {
        name: name.to_owned(),
        version: system["version"].as_str().unwrap_or("unknown").to_owned(),
        models,
    })
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Add or update a remote server profile.
    Add {
        name: String,
        /// Base URL of the remote server, such as http://gpu-box:5000.
        base_url: String,
        /// API key for the remote; read from DDIFFUSION_PROFILE_KEY when left out.
        #[arg(long, env = "DDIFFUSION_PROFILE_KEY", hide_env_values = true)]
        key: Option<String>,
        /// Keep the profile but do not forward jobs to it.
        #[arg(long)]
        disabled: bool,
    },
    /// List profiles and routing rules (keys are not shown).
    List,
    /// Remove a profile and its routing rules.
    Rm { name: String },
    /// Forward jobs to a disabled profile again.
    Enable { name: String },
    /// Keep a profile but stop forwarding jobs to it.
    Disable { name: String },
    /// Check a profile: health, key, version and models.
    Test { name: String },
    /// Send every job of MODEL to PROFILE; without PROFILE, remove the rule.
    Route { model: String, profile: Option<String> },
}

pub async fn run(command: ProfilesCommand, profiles: &Profiles) -> anyhow::Result<()> {
    match command {
        ProfilesCommand::Add {
            name,
            base_url,
            key,
            disabled,
        } => {
            profiles.put(&name, &base_url, key, !disabled)?;
            eprintln!("Profile {name} saved in {}", profiles.path.display());
        }
        ProfilesCommand::List => {
            let routes = profiles.routes();
            for profile in profiles.list() {
                println!(
                    "{:<16} {:<36} {:<9} {}",
                    profile.name,
                    profile.base_url,
                    if profile.enabled { "enabled" } else { "disabled" },
                    if profile.has_key { "key set" } else { "no key" }
                );
            }
            for (model, profile) in routes {
                println!("route {model} -> {profile}");
            }
        }
        ProfilesCommand::Rm { name } => {
            anyhow::ensure!(profiles.remove(&name)?, "no profile named {name:?}");
            eprintln!("Profile {name} removed");
        }
        ProfilesCommand::Enable { name } => set_enabled(profiles, &name, true)?,
        ProfilesCommand::Disable { name } => set_enabled(profiles, &name, false)?,
        ProfilesCommand::Test { name } => {
            let profile = profiles
                .get(&name)
                .with_context(|| format!("no profile named {name:?}; `ddiffusion profiles list` shows them"))?;
            let checked = check(&name, &profile).await?;
            println!("{name}: ok, version {}", checked.version);
            for (domain, models) in checked.models {
                println!("  {domain}: {}", models.join(", "));
            }
        }
        ProfilesCommand::Route { model, profile } => {
            profiles.set_route(&model, profile.as_deref())?;
            match profile {
                Some(profile) => eprintln!("Jobs of {model} now run on {profile}"),
                None => eprintln!("Jobs of {model} follow the normal routing again"),
            }
        }
    }
    Ok(())
}

fn set_enabled(profiles: &Profiles, name: &str, enabled: bool) -> anyhow::Result<()> {
    anyhow::ensure!(
        profiles.set_enabled(name, enabled)?,
        "no profile named {name:?}; `ddiffusion profiles list` shows them"
    );
    eprintln!("Profile {name} {}", if enabled { "enabled" } else { "disabled" });
    Ok(())
}
