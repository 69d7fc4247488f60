//! `ddiffusion models`: list, download and delete catalogue models.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::Subcommand;
use hub::{Catalog, HfCache};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List catalogue models: installed or not, size on disk, licence.
    List,
    /// Download a model into the Hugging Face cache; resumes an interrupted download.
    Pull { name: String },
    /// Delete a model's files from the Hugging Face cache.
    Rm { name: String },
    /// Load each downloaded local model (or only NAME) and run a one-step
    /// generation; exits with an error if any model fails.
    Verify { name: Option<String> },
}

/// Formats a byte count with a binary unit.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Files of a model deleted from the Hugging Face cache.
pub struct RemovedFiles {
    /// Cache folders deleted, one per repository.
    pub folders: Vec<std::path::PathBuf>,
    /// Bytes the model's files took before the deletion.
    pub freed_bytes: u64,
}

/// Deletes a model's repositories from the cache, as `ddiffusion models rm`
/// and `DELETE /api/models/{name}` do. A model with `local_path` keeps its folder.
pub fn remove_files(cache: &HfCache, entry: &hub::ModelEntry) -> Result<RemovedFiles, hub::CacheError> {
    let freed_bytes = if entry.local_path.is_some() {
        0
    } else {
        cache.size_on_disk(entry)
    };
    let folders = cache.remove(entry)?;
    Ok(RemovedFiles { folders, freed_bytes })
}

fn find<'a>(catalog: &'a Catalog, name: &str) -> anyhow::Result<&'a hub::ModelEntry> {
    catalog.get(name).with_context(|| {
        let mut names: Vec<&str> = catalog.entries().iter().map(|entry| entry.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        format!(
            "model {name:?} is not in the catalogue; `ddiffusion models list` shows: {}",
            names.join(", ")
        )
    })
}

pub async fn run(command: ModelsCommand, catalog: &Catalog, cache: &HfCache, device: &str) -> anyhow::Result<()> {
    match command {
        ModelsCommand::Verify { name } => verify(catalog, cache, device, name.as_deref()).await,
        ModelsCommand::List => {
            println!(
                "{:<18} {:<7} {:<10} {:<10} {:>10}  {:<22} repository",
                "name", "domain", "arch", "installed", "size", "licence"
            );
            for entry in catalog.entries() {
                let installed = if entry.provider != protocol::Provider::Local {
                    "external"
                } else if cache.is_installed(entry) {
                    "yes"
                } else {
                    "no"
                };
                let size = cache.size_on_disk(entry);
                let source = entry
                    .local_path
                    .clone()
                    .or_else(|| entry.repo.clone())
                    .unwrap_or_else(|| "-".into());
                let gated = if entry.gated { " (gated)" } else { "" };
                println!(
                    "{:<18} {:<7} {:<10} {:<10} {:>10}  {:<22} {source}{gated}",
                    entry.name,
                    entry.domain.as_str(),
                    entry.architecture.as_deref().unwrap_or("-"),
                    installed,
                    if size == 0 { "-".to_owned() } else { human_size(size) },
                    entry.license.as_deref().unwrap_or("-"),
                );
            }
            eprintln!("Cache: {}", cache.root().display());
            Ok(())
        }
        ModelsCommand::Pull { name } => {
            let entry = find(catalog, &name)?;
            if cache.is_installed(entry) {
                eprintln!(
                    "{name} is already downloaded ({}).",
                    human_size(cache.size_on_disk(entry))
                );
                return Ok(());
            }
            let bars = MultiProgress::new();
            let style = ProgressStyle::with_template("{msg:40} {bar:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec}")
                .expect("progress template is valid");
            let by_file: Arc<Mutex<HashMap<String, ProgressBar>>> = Arc::default();
            let progress = move |file: &str, done: u64, total: u64| {
                let mut by_file = by_file.lock().unwrap();
                let bar = by_file.entry(file.to_owned()).or_insert_with(|| {
                    let bar = bars.add(ProgressBar::new(total));
                    bar.set_style(style.clone());
                    bar.set_message(file.to_owned());
                    bar
                });
                bar.set_length(total);
                bar.set_position(done);
                if total > 0 && done >= total {
                    bar.finish();
                }
            };
            cache.pull(entry, progress).await?;
            eprintln!("{name} is downloaded ({}).", human_size(cache.size_on_disk(entry)));
            Ok(())
        }
        ModelsCommand::Rm { name } => {
            let entry = find(catalog, &name)?;
            let removed = remove_files(cache, entry)?;
            if removed.folders.is_empty() {
                eprintln!("{name} has no files in the cache.");
            }
            for folder in &removed.folders {
                eprintln!("Deleted {}", folder.display());
            }
            if removed.freed_bytes > 0 {
                eprintln!("Freed {}.", human_size(removed.freed_bytes));
            }
            Ok(())
        }
    }
}

/// Loads and runs the local models; see [`ModelsCommand::Verify`].
async fn verify(catalog: &Catalog, cache: &HfCache, device: &str, only: Option<&str>) -> anyhow::Result<()> {
    let device = images::device::open(device).map_err(|message| anyhow::anyhow!("{message}"))?;
    let entries: Vec<&hub::ModelEntry> = match only {
        Some(name) => vec![find(catalog, name)?],
        None => catalog.entries().iter().collect(),
    };
    let mut failed = Vec::new();
    for entry in entries {
        let architecture = entry
            .architecture
            .as_deref()
            .and_then(images::pipeline::Architecture::parse);
        let Some(architecture) = architecture.filter(|_| entry.provider == protocol::Provider::Local) else {
            if only.is_some() {
                anyhow::bail!(
                    "model {} is not a local model, so there is nothing to verify",
                    entry.name
                );
            }
            continue;
        };
        let files = match cache.model_files(entry) {
            Ok(files) => files,
            Err(error) if only.is_some() => return Err(error.into()),
            Err(_) => {
                println!("{:<14} skipped: not downloaded", entry.name);
                continue;
            }
        };
        let device = device.clone();
        let started = std::time::Instant::now();
        let outcome = tokio::task::spawn_blocking(move || {
            let pipeline =
                images::pipeline::SdPipeline::load(&files.files, &files.inpainting_files, &device, architecture)?;
            let loaded = started.elapsed();
            pipeline.verify()?;
            Ok::<_, images::pipeline::PipelineError>(loaded)
        })
        .await?;
        match outcome {
            Ok(loaded) => println!(
                "{:<14} ok: loaded in {:.1} s, generated in {:.1} s",
                entry.name,
                loaded.as_secs_f64(),
                (started.elapsed() - loaded).as_secs_f64()
            ),
            Err(error) => {
                println!("{:<14} FAILED: {error}", entry.name);
                failed.push(entry.name.clone());
            }
        }
    }
    if !failed.is_empty() {
        anyhow::bail!(
            "{} failed verification; `ddiffusion models rm NAME` then `ddiffusion models pull NAME` downloads a fresh copy",
            failed.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
