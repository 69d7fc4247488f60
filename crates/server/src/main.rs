//! The `ddiffusion` command: server, key administration, OpenAPI export and job submission.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ddiffusion_server::config::{Paths, Settings};
use ddiffusion_server::{docs, serve, submit};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "ddiffusion",
    version,
    about = "Queue and run image, text and video models for artists"
)]
struct Cli {
    /// Folder for the database, stored inputs and outputs, and the admin key
    /// [default: the platform's data folder; env: DDIFFUSION_DATA_DIR].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the headless server.
    Serve {
        /// Address and port to listen on [default: 127.0.0.1:5000; env: DDIFFUSION_BIND].
        #[arg(long)]
        bind: Option<String>,
        /// Register the dev-local and dev-external test models.
        #[arg(long)]
        dev_models: bool,
    },
    /// Manage API keys in the database.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// List, download and delete models in the Hugging Face cache (HF_HOME, HF_HUB_CACHE).
    Models {
        #[command(subcommand)]
        command: ddiffusion_server::models::ModelsCommand,
    },
    /// Manage remote server profiles that jobs can be forwarded to.
    Profiles {
        #[command(subcommand)]
        command: ddiffusion_server::profiles::ProfilesCommand,
    },
    /// Print the OpenAPI document as JSON.
    Openapi,
    /// Developer tools.
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
    /// Submit a job to a server (DDIFFUSION_API_ADDRESS, DDIFFUSION_API_KEY), wait and download the outputs.
    Submit {
        #[command(subcommand)]
        command: Box<submit::SubmitCommand>,
    },
}

#[derive(Debug, Subcommand)]
enum DevCommand {
    /// Write tiny random-weight versions of the local models into the
    /// Hugging Face cache (HF_HOME, HF_HUB_CACHE) under their real repository
    /// ids, so that tests run the real loading path without downloads.
    Fixtures {
        /// Models to write; every local model when left out.
        names: Vec<String>,
        /// Write every local model (the default when no name is given).
        #[arg(long, conflicts_with = "names")]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key and print it; it is not shown again.
    Create { name: String },
    /// List keys without their secrets.
    List,
    /// Revoke a key by its ID.
    Revoke { key_id: String },
}

fn init_logging(default: &str) {
    let filter = EnvFilter::try_from_env("DDIFFUSION_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .init();
}

/// Makes a closed stdout end the process quietly, as `ddiffusion models list | head`
/// expects, instead of panicking in `println!`. Rust ignores SIGPIPE by default.
fn restore_broken_pipe_exit() {
    #[cfg(unix)]
    // SAFETY: called once at start, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    restore_broken_pipe_exit();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { bind, dev_models } => {
            init_logging("info");
            let paths = Paths::resolve(cli.data_dir)?;
            let mut settings = Settings::load(&paths.config_file)?;
            if let Some(bind) = bind {
                settings.bind = bind;
            }
            settings.dev_models |= dev_models;
            serve::run(paths, settings).await
        }
        Command::Keys { command } => {
            init_logging("warn");
            let paths = Paths::resolve(cli.data_dir)?;
            let pool = engine::store::open(&paths.database())
                .await
                .with_context(|| format!("could not open {}", paths.database().display()))?;
            eprintln!("Database: {}", paths.database().display());
            keys(&pool, command).await
        }
        Command::Models { command } => {
            init_logging("warn");
            let paths = Paths::resolve(cli.data_dir)?;
            let catalog = hub::Catalog::load(Some(&paths.user_models()))?;
            let settings = Settings::load(&paths.config_file)?;
            ddiffusion_server::models::run(command, &catalog, &hub::HfCache::from_env(), &settings.device).await
        }
        Command::Dev {
            command: DevCommand::Fixtures { names, all: _ },
        } => {
            let paths = Paths::resolve(cli.data_dir)?;
            let catalog = hub::Catalog::load(Some(&paths.user_models()))?;
            let cache = hub::HfCache::from_env();
            let runnable = |entry: &&hub::ModelEntry| {
                entry
                    .architecture
                    .as_deref()
                    .is_some_and(|architecture| images::executor::ARCHITECTURES.contains(&architecture))
            };
            for name in &names {
                match catalog.get(name) {
                    Some(entry) if runnable(&entry) => {}
                    Some(_) => anyhow::bail!("model {name} is not a local model with a fixture"),
                    None => anyhow::bail!("no model named {name}; see `ddiffusion models list`"),
                }
            }
            let chosen = catalog
                .entries()
                .iter()
                .filter(runnable)
                .filter(|entry| names.is_empty() || names.contains(&entry.name));
            for entry in chosen {
                let snapshot = images::fixtures::install_tiny(cache.root(), entry)
                    .map_err(|error| anyhow::anyhow!("writing the {} fixture failed: {error}", entry.name))?;
                println!("{}\t{}", entry.name, snapshot.display());
            }
            Ok(())
        }
        Command::Profiles { command } => {
            init_logging("warn");
            let paths = Paths::resolve(cli.data_dir)?;
            let profiles = ddiffusion_server::profiles::Profiles::load(&paths.profiles())?;
            ddiffusion_server::profiles::run(command, &profiles).await
        }
        Command::Openapi => {
            println!("{}", docs::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::Submit { command } => {
            init_logging("warn");
            submit::run(*command).await
        }
    }
}

async fn keys(pool: &engine::SqlitePool, command: KeysCommand) -> anyhow::Result<()> {
    use engine::keys;
    match command {
        KeysCommand::Create { name } => {
            let (key, stored) = keys::create(pool, &name).await?;
            eprintln!(
                "Created key {:?} with ID {}. Store it now: it is not shown again.",
                stored.name, stored.key_id
            );
            println!("{key}");
        }
        KeysCommand::List => {
            let stored = keys::list(pool).await?;
            if stored.is_empty() {
                eprintln!("No keys yet; create one with `ddiffusion keys create NAME`.");
            }
            for key in stored {
                println!("{}\t{}\t{}", key.key_id, key.created_at, key.name);
            }
        }
        KeysCommand::Revoke { key_id } => {
            anyhow::ensure!(
                keys::revoke(pool, &key_id).await?,
                "no key has the ID {key_id:?}; `ddiffusion keys list` shows the IDs"
            );
            eprintln!("Revoked key {key_id}.");
        }
    }
    Ok(())
}
