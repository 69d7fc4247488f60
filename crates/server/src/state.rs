//! Shared state of the HTTP handlers and the model catalogue.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use engine::{Engine, Executor};
use protocol::Domain;

use crate::config::Settings;
use crate::files::Signer;

/// Models this server runs, with the information `GET /api/{domain}/models` lists.
#[derive(Default)]
pub struct Catalog {
    models: RwLock<BTreeMap<(Domain, String), serde_json::Value>>,
}

impl Catalog {
    /// Information of a model as JSON (`ImagesModelInfo`, `TextsModelInfo` or `VideosModelInfo`).
    pub fn info(&self, domain: Domain, model: &str) -> Option<serde_json::Value> {
        self.models.read().unwrap().get(&(domain, model.to_owned())).cloned()
    }

    /// Models of a domain with their information, by name.
    pub fn list(&self, domain: Domain) -> BTreeMap<String, serde_json::Value> {
        let models = self.models.read().unwrap();
        models
            .iter()
            .filter(|((d, _), _)| *d == domain)
            .map(|((_, name), info)| (name.clone(), info.clone()))
            .collect()
    }

    pub fn names(&self, domain: Domain) -> Vec<String> {
        self.list(domain).into_keys().collect()
    }
}

/// Everything a handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub settings: Arc<Settings>,
    pub admin_key: Arc<String>,
    pub signer: Signer,
    pub catalog: Arc<Catalog>,
    /// Cancelled when the server shuts down; ends the event streams.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The local image pipelines kept in memory between jobs.
    pub loaded_pipeline: images::executor::LoadedPipeline,
    /// The device local models run on, as `GET /api/system` names it.
    pub device_name: Arc<String>,
    /// The model catalogue (`models.toml` and the user's file).
    pub models: Arc<hub::Catalog>,
    /// The Hugging Face cache local models load from.
    pub cache: hub::HfCache,
    /// Model downloads started through the API.
    pub pulls: crate::pulls::Pulls,
    /// API keys of the external providers; never logged or returned.
    pub provider_keys: providers::Keys,
    /// Remote server profiles and routing rules.
    pub profiles: crate::profiles::Profiles,
}

impl AppState {
    pub fn new(engine: Engine, settings: Settings, admin_key: String) -> Self {
        let signer = Signer::from_admin_key(&admin_key, settings.signed_url_expiry_seconds);
        Self {
            engine,
            admin_key: Arc::new(admin_key),
            signer,
            catalog: Arc::new(Catalog::default()),
            shutdown: tokio_util::sync::CancellationToken::new(),
            loaded_pipeline: images::executor::LoadedPipeline::new(settings.cache_policy()),
            device_name: Arc::new("cpu".into()),
            models: Arc::new(hub::Catalog::default()),
            cache: hub::HfCache::from_env(),
            pulls: crate::pulls::Pulls::default(),
            provider_keys: providers::Keys::default(),
            profiles: crate::profiles::Profiles::load(std::path::Path::new("")).expect("an empty path reads no file"),
            settings: Arc::new(settings),
        }
    }

    /// Makes a model available: lists it under `GET /api/{domain}/models` with
    /// `info` and runs its jobs with `executor` on `lane`.
    pub fn register_model(
        &self,
        domain: Domain,
        name: &str,
        info: impl serde::Serialize,
        lane: &str,
        executor: Arc<dyn Executor>,
    ) {
        let info = serde_json::to_value(info).expect("model information serializes to JSON");
        self.catalog
            .models
            .write()
            .unwrap()
            .insert((domain, name.to_owned()), info);
        self.engine.register(domain, name, lane, executor);
    }
}
