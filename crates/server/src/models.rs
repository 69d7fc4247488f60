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

fn find<'a>(catalog: &'a Catalog, name: &str) -> anyhow::Result<&'a hub::ModelEntry> {
    catalog.get(name).with_context(|| {
        let names: Vec<&str> = catalog.entries().iter().map(|entry| entry.name.as_str()).collect();
        format!(
            "model {name:?} is not in the catalogue; `ddiffusion models list` shows: {}",
            names.join(", ")
        )
    })
}

pub async fn run(command: ModelsCommand, catalog: &Catalog, cache: &HfCache) -> anyhow::Result<()> {
    match command {
        ModelsCommand::List => {
            println!(
                "{:<14} {:<10} {:<12} {:>10}  {:<22} repository",
                "name", "arch", "installed", "size", "licence"
            );
            for entry in catalog.entries() {
                let installed = if cache.is_installed(entry) { "yes" } else { "no" };
                let size = cache.size_on_disk(entry);
                let source = entry
                    .local_path
                    .clone()
                    .or_else(|| entry.repo.clone())
                    .unwrap_or_else(|| "-".into());
                let gated = if entry.gated { " (gated)" } else { "" };
                println!(
                    "{:<14} {:<10} {:<12} {:>10}  {:<22} {source}{gated}",
                    entry.name,
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
            let removed = cache.remove(entry)?;
            if removed.is_empty() {
                eprintln!("{name} has no files in the cache.");
            }
            for folder in removed {
                eprintln!("Deleted {}", folder.display());
            }
            Ok(())
        }
    }
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
