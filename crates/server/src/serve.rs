//! `ddiffusion serve`: the headless server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use engine::Engine;

use crate::config::{Paths, Settings};
use crate::state::AppState;

/// Time running jobs get to stop at shutdown before they are left to the
/// restart recovery.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Opens the engine and returns the application state with the built-in models registered.
pub async fn open_state(paths: &Paths, settings: Settings) -> anyhow::Result<AppState> {
    let admin_key = crate::auth::load_admin_key(&paths.data_dir)?;
    let engine = Engine::open(settings.engine_config(&paths.data_dir))
        .await
        .with_context(|| format!("could not open the database in {}", paths.data_dir.display()))?;
    let mut state = AppState::new(engine, settings, admin_key);
    state.profiles = crate::profiles::Profiles::load(&paths.profiles())?;
    register_catalogue(&mut state, paths)?;
    let timing = crate::remote::Timing {
        poll: Duration::from_millis(state.settings.remote_poll_ms.max(10)),
        submit_window: Duration::from_secs(state.settings.remote_submit_timeout_seconds),
        lost_window: Duration::from_secs(state.settings.remote_lost_timeout_seconds),
    };
    let forwarder =
        crate::remote::RemoteExecutor::new(state.profiles.clone(), state.engine.storage_dir().to_path_buf(), timing);
    state
        .engine
        .register_lane_executor(crate::remote::REMOTE_LANE, Arc::new(forwarder));
    if state.settings.dev_models {
        crate::dev_models::register(&state);
        tracing::info!("dev models registered: dev-local, dev-external");
    }
    Ok(state)
}

/// Registers the local catalogue models whose architecture this build can run.
fn register_catalogue(state: &mut AppState, paths: &Paths) -> anyhow::Result<()> {
    let catalog = hub::Catalog::load(Some(&paths.user_models()))?;
    let cache = state.cache.clone();
    let loaded = state.loaded_pipeline.clone();
    let device = images::device::open(&state.settings.device).map_err(|message| anyhow::anyhow!("{message}"))?;
    state.device_name = Arc::new(images::device::name(&device));
    tracing::info!(device = %state.device_name, "local models run on this device");
    let options = images::executor::ExecutorOptions {
        device,
        auto_download: state.settings.auto_download,
    };
    for entry in catalog.domain(protocol::Domain::Images) {
        let runnable = entry.provider == protocol::Provider::Local
            && entry
                .architecture
                .as_deref()
                .is_some_and(|arch| images::executor::ARCHITECTURES.contains(&arch));
        if !runnable {
            continue;
        }
        let executor = images::executor::SdExecutor::new(entry.clone(), cache.clone(), loaded.clone(), options.clone());
        state.register_model(
            protocol::Domain::Images,
            &entry.name,
            images::executor::SdExecutor::info(entry),
            "local",
            Arc::new(executor),
        );
        tracing::info!(model = %entry.name, installed = cache.is_installed(entry), "local model registered");
    }
    register_external(state, &catalog);
    state.models = Arc::new(catalog);
    Ok(())
}

/// Registers the external models of the catalogue that `crates/providers` runs, on the external lane.
fn register_external(state: &mut AppState, catalog: &hub::Catalog) {
    use protocol::{Domain, Provider};

    let config = Arc::new(providers::ProviderConfig::from_env());
    // The environment wins over the configuration file.
    let from_settings = [
        (Provider::Openai, &state.settings.openai_api_key),
        (Provider::Replicate, &state.settings.replicate_api_token),
    ];
    for (provider, key) in from_settings {
        if config.keys.missing(provider).is_some() {
            let key = key.as_ref().map(|secret| secret.0.trim().to_owned());
            config.keys.set(provider, key.filter(|key| !key.is_empty()));
        }
    }
    state.provider_keys = config.keys.clone();
    for entry in catalog
        .entries()
        .iter()
        .filter(|entry| entry.provider != Provider::Local)
    {
        let name = entry.name.as_str();
        let registered = match entry.domain {
            Domain::Images if providers::images::MODELS.contains(&name) => {
                let executor = providers::images::ImagesExecutor::new(name, config.clone());
                state.register_model(
                    Domain::Images,
                    name,
                    entry.images_info(),
                    "external",
                    Arc::new(executor),
                );
                true
            }
            Domain::Videos if providers::videos::MODELS.contains(&name) => {
                let executor = providers::videos::VideosExecutor::new(name, config.clone());
                state.register_model(
                    Domain::Videos,
                    name,
                    entry.videos_info(),
                    "external",
                    Arc::new(executor),
                );
                true
            }
            Domain::Texts => match providers::texts::TextsExecutor::new(name, config.clone()) {
                Some(executor) => {
                    state.register_model(Domain::Texts, name, entry.texts_info(), "external", Arc::new(executor));
                    true
                }
                None => false,
            },
            _ => false,
        };
        if registered {
            let configured = state.provider_keys.missing(entry.provider).is_none();
            tracing::info!(model = %name, domain = %entry.domain, provider = ?entry.provider, configured, "external model registered");
        } else {
            tracing::warn!(model = %name, domain = %entry.domain, "catalogue lists an external model this build cannot run");
        }
    }
}

/// Drops loaded pipelines once they have been idle for the keep-alive.
fn spawn_idle_unloader(state: &AppState) {
    let Some(keep_alive) = state.loaded_pipeline.policy().keep_alive else {
        return;
    };
    let loaded = state.loaded_pipeline.clone();
    let shutdown = state.shutdown.clone();
    let period = (keep_alive / 4).clamp(Duration::from_millis(250), Duration::from_secs(15));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = shutdown.cancelled() => return,
            }
            for model in loaded.unload_idle() {
                tracing::info!(%model, "pipeline unloaded after its keep-alive");
            }
        }
    });
}

/// Binds `address`; the error names the fix when the port is taken.
pub async fn bind(address: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address).await.with_context(|| {
        format!("could not listen on {address}; if another program uses the port, stop it or pass --bind 127.0.0.1:<other port>")
    })
}

/// A server serving on its listener, started by [`start`].
pub struct Running {
    /// The address it listens on (the real port when bound to port 0).
    pub address: SocketAddr,
    pub state: AppState,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops taking requests, then gives running jobs [`SHUTDOWN_GRACE`] to
    /// finish; those still running are queued again at the next start.
    pub async fn stop(self) {
        tracing::info!("shutting down");
        self.state.shutdown.cancel();
        match self.server.await {
            Ok(Err(error)) => tracing::warn!(%error, "the HTTP server stopped with an error"),
            Err(error) => tracing::warn!(%error, "the HTTP server task failed"),
            Ok(Ok(())) => {}
        }
        self.state.engine.shutdown(SHUTDOWN_GRACE).await;
        tracing::info!("server stopped");
    }

    /// Waits until the HTTP server ends on its own (an accept error).
    pub async fn finished(&mut self) -> anyhow::Result<()> {
        (&mut self.server).await??;
        Ok(())
    }
}

/// Starts the engine's workers and serves the API, the docs and the web UI on
/// `listener`, on the current tokio runtime.
pub async fn start(paths: &Paths, state: AppState, listener: tokio::net::TcpListener) -> anyhow::Result<Running> {
    let address = listener.local_addr()?;
    if !address.ip().is_loopback() {
        tracing::warn!(
            %address,
            "listening on a non-loopback address: other machines can reach this server; only API keys protect it, and requests \
             must use a host name listed in allowed_hosts"
        );
    }
    state.engine.start().await?;
    tracing::info!(data_dir = %paths.data_dir.display(), config = %paths.config_file.display(), "server started");
    spawn_idle_unloader(&state);
    let shutdown = state.shutdown.clone();
    let app = crate::app::build(state.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    });
    Ok(Running { address, state, server })
}

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn run(paths: Paths, settings: Settings) -> anyhow::Result<()> {
    let bind_address = settings.bind.clone();
    let state = open_state(&paths, settings).await?;
    let listener = bind(&bind_address).await?;
    let mut running = start(&paths, state, listener).await?;
    let address = running.address;
    // Tests and scripts read this line to learn the port when binding to port 0.
    println!(
        "ddiffusion listening on http://{address} (API docs at http://{address}/docs, web UI at http://{address}/ui)"
    );
    tokio::select! {
        _ = wait_for_signal() => {}
        result = running.finished() => return result,
    }
    running.stop().await;
    Ok(())
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
pub async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
