//! The Hugging Face cache: finding, measuring, downloading and deleting model files.
//!
//! The layout is the one Python's huggingface_hub writes:
//! `<cache>/models--<org>--<name>/snapshots/<commit>/<file>`, with
//! `refs/<branch>` holding the commit of a branch and the files themselves
//! stored once under `blobs/`, named by their ETag.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::catalog::{Component, ModelEntry};

/// Resolved paths of a model's files, by role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelFiles {
    pub files: BTreeMap<String, PathBuf>,
    pub inpainting_files: BTreeMap<String, PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("model {model} is not downloaded; run `ddiffusion models pull {model}` (missing: {missing})")]
    NotDownloaded { model: String, missing: String },
    #[error("model {model} has no Hugging Face repository or local folder in the catalogue")]
    NoSource { model: String },
    #[error("downloads are disabled because HF_HUB_OFFLINE is set; unset it to download {model}")]
    Offline { model: String },
    #[error(
        "{repo} is gated: accept its licence on the Hugging Face website, then set HF_TOKEN to a token of that account"
    )]
    Gated { repo: String },
    #[error("downloading {file} from {repo} failed: {message}")]
    Download {
        repo: String,
        file: String,
        message: String,
    },
    #[error(
        "{file} from {repo} is corrupt: its SHA-256 is {actual}, but the Hub reports {expected}; run the pull again"
    )]
    Checksum {
        repo: String,
        file: String,
        expected: String,
        actual: String,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Location and settings of the Hugging Face cache.
#[derive(Debug, Clone)]
pub struct HfCache {
    root: PathBuf,
    offline: bool,
    token: Option<String>,
    endpoint: Option<String>,
}

impl HfCache {
    /// Uses the folder huggingface_hub would: `HF_HUB_CACHE`, else `HF_HOME/hub`,
    /// else `~/.cache/huggingface/hub`. Reads `HF_HUB_OFFLINE`, `HF_TOKEN`
    /// (or the `token` file in `HF_HOME`) and `HF_ENDPOINT`.
    pub fn from_env() -> Self {
        let home = std::env::var_os("HF_HOME").map(PathBuf::from).unwrap_or_else(|| {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
                .unwrap_or_else(|| PathBuf::from(".cache"));
            base.join("huggingface")
        });
        let root = std::env::var_os("HF_HUB_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join("hub"));
        let offline = std::env::var("HF_HUB_OFFLINE")
            .map(|value| matches!(value.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
            .unwrap_or(false);
        let token = std::env::var("HF_TOKEN")
            .ok()
            .or_else(|| std::fs::read_to_string(home.join("token")).ok())
            .map(|token| token.trim().to_owned())
            .filter(|token| !token.is_empty());
        let endpoint = std::env::var("HF_ENDPOINT")
            .ok()
            .filter(|endpoint| !endpoint.is_empty());
        Self {
            root,
            offline,
            token,
            endpoint,
        }
    }

    /// Uses `root` as the cache folder, online, without a token.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            offline: false,
            token: None,
            endpoint: None,
        }
    }

    /// Downloads from `endpoint` (such as a mirror or proxy) instead of `HF_ENDPOINT` or the Hub.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Folder of a repository: `models--<org>--<name>`.
    pub fn repo_dir(&self, repo: &str) -> PathBuf {
        self.root.join(format!("models--{}", repo.replace('/', "--")))
    }

    /// Commit of a revision: the revision itself if it is a commit hash, else
    /// the content of `refs/<revision>`.
    pub fn commit(&self, repo: &str, revision: &str) -> Option<String> {
        if revision.len() == 40 && revision.chars().all(|c| c.is_ascii_hexdigit()) {
            return Some(revision.to_owned());
        }
        let text = std::fs::read_to_string(self.repo_dir(repo).join("refs").join(revision)).ok()?;
        Some(text.trim().to_owned()).filter(|commit| !commit.is_empty())
    }

    /// Path of a cached file, if it is there.
    pub fn file(&self, repo: &str, revision: &str, file: &str) -> Option<PathBuf> {
        let commit = self.commit(repo, revision)?;
        let path = self.repo_dir(repo).join("snapshots").join(commit).join(file);
        path.is_file().then_some(path)
    }

    fn component_path(&self, entry: &ModelEntry, component: &Component) -> Option<PathBuf> {
        if let Some(folder) = &entry.local_path {
            let path = Path::new(folder).join(&component.file);
            return path.is_file().then_some(path);
        }
        let (repo, revision, file) = entry.resolve(component);
        self.file(&repo, &revision, &file)
    }

    /// Paths of every file of a model, or the list of what is missing.
    pub fn model_files(&self, entry: &ModelEntry) -> Result<ModelFiles, CacheError> {
        if entry.repo.is_none() && entry.local_path.is_none() && entry.files.values().all(|c| c.repo.is_none()) {
            return Err(CacheError::NoSource {
                model: entry.name.clone(),
            });
        }
        let mut found = ModelFiles::default();
        let mut missing = Vec::new();
        for (target, components) in [
            (&mut found.files, &entry.files),
            (&mut found.inpainting_files, &entry.inpainting_files),
        ] {
            for (role, component) in components {
                match self.component_path(entry, component) {
                    Some(path) => {
                        target.insert(role.clone(), path);
                    }
                    None => {
                        // Files of another repository (the inpainting variant) are named with it.
                        let (repo, _, file) = entry.resolve(component);
                        if entry.repo.as_deref() == Some(repo.as_str()) {
                            missing.push(file);
                        } else {
                            missing.push(format!("{repo}/{file}"));
                        }
                    }
                }
            }
        }
        if missing.is_empty() {
            Ok(found)
        } else {
            Err(CacheError::NotDownloaded {
                model: entry.name.clone(),
                missing: missing.join(", "),
            })
        }
    }

    pub fn is_installed(&self, entry: &ModelEntry) -> bool {
        self.model_files(entry).is_ok()
    }

    /// Bytes on disk of the model's files that are present.
    pub fn size_on_disk(&self, entry: &ModelEntry) -> u64 {
        let mut paths: Vec<PathBuf> = Vec::new();
        for component in entry.files.values().chain(entry.inpainting_files.values()) {
            if let Some(path) = self.component_path(entry, component) {
                let real = std::fs::canonicalize(&path).unwrap_or(path);
                if !paths.contains(&real) {
                    paths.push(real);
                }
            }
        }
        paths
            .iter()
            .filter_map(|path| std::fs::metadata(path).ok())
            .map(|meta| meta.len())
            .sum()
    }

    /// Deletes the cached repositories of a model; returns the folders removed.
    /// Models from a local folder are left alone.
    pub fn remove(&self, entry: &ModelEntry) -> Result<Vec<PathBuf>, CacheError> {
        if entry.local_path.is_some() {
            return Ok(Vec::new());
        }
        let mut removed = Vec::new();
        for (repo, _, _) in entry.all_files() {
            let folder = self.repo_dir(&repo);
            if folder.exists() && !removed.contains(&folder) {
                std::fs::remove_dir_all(&folder)?;
                removed.push(folder);
            }
        }
        Ok(removed)
    }

    /// Downloads every missing file of a model into the cache, calling
    /// `progress(file, done, total)` as bytes arrive. Interrupted downloads
    /// resume, and each file whose ETag is a SHA-256 is verified.
    pub async fn pull(
        &self,
        entry: &ModelEntry,
        progress: impl Fn(&str, u64, u64) + Clone + Send + Sync + 'static,
    ) -> Result<(), CacheError> {
        if entry.local_path.is_some() || self.is_installed(entry) {
            return Ok(());
        }
        if self.offline {
            return Err(CacheError::Offline {
                model: entry.name.clone(),
            });
        }
        let mut builder = hf_hub::api::tokio::ApiBuilder::new()
            .with_cache_dir(self.root.clone())
            .with_token(self.token.clone())
            .with_progress(false);
        if let Some(endpoint) = &self.endpoint {
            builder = builder.with_endpoint(endpoint.clone());
        }
        let api = builder.build().map_err(|error| CacheError::Download {
            repo: entry.repo.clone().unwrap_or_default(),
            file: String::new(),
            message: error.to_string(),
        })?;
        for (repo, revision, file) in entry.all_files() {
            if self.file(&repo, &revision, &file).is_some() {
                continue;
            }
            let handle = api.repo(hf_hub::Repo::with_revision(
                repo.clone(),
                hf_hub::RepoType::Model,
                revision.clone(),
            ));
            let reporter = Reporter {
                file: file.clone(),
                done: 0,
                total: 0,
                callback: progress.clone(),
            };
            let path = handle.download_with_progress(&file, reporter).await.map_err(|error| {
                let message = error.to_string();
                if message.contains("401") || message.contains("403") {
                    CacheError::Gated { repo: repo.clone() }
                } else {
                    CacheError::Download {
                        repo: repo.clone(),
                        file: file.clone(),
                        message,
                    }
                }
            })?;
            verify_blob(&repo, &file, &path)?;
        }
        Ok(())
    }
}

/// Checks a downloaded file against the SHA-256 in its blob name, which is
/// the ETag the Hub reports for files stored with Git LFS.
fn verify_blob(repo: &str, file: &str, path: &Path) -> Result<(), CacheError> {
    let blob = std::fs::canonicalize(path)?;
    let Some(expected) = blob.file_name().and_then(|name| name.to_str()) else {
        return Ok(());
    };
    if expected.len() != 64 || !expected.chars().all(|c| c.is_ascii_hexdigit()) {
        // Small files kept in Git have a Git object id as their ETag, not a SHA-256.
        return Ok(());
    }
    let actual = sha256_file(&blob)?;
    if actual != expected {
        std::fs::remove_file(&blob)?;
        return Err(CacheError::Checksum {
            repo: repo.into(),
            file: file.into(),
            expected: expected.into(),
            actual,
        });
    }
    Ok(())
}

#[derive(Clone)]
struct Reporter<F> {
    file: String,
    done: u64,
    total: u64,
    callback: F,
}

impl<F: Fn(&str, u64, u64) + Clone + Send + Sync + 'static> hf_hub::api::tokio::Progress for Reporter<F> {
    async fn init(&mut self, size: usize, _filename: &str) {
        self.total = size as u64;
        (self.callback)(&self.file, 0, self.total);
    }

    async fn update(&mut self, size: usize) {
        self.done += size as u64;
        (self.callback)(&self.file, self.done, self.total);
    }

    async fn finish(&mut self) {
        (self.callback)(&self.file, self.total, self.total);
    }
}

/// Returns the hex SHA-256 of a file, read in 1 MiB chunks.
fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;

    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    /// Writes a file into a cache the way huggingface_hub does: blob, ref and snapshot link.
    fn put(cache: &HfCache, repo: &str, commit: &str, file: &str, bytes: &[u8]) {
        let dir = cache.repo_dir(repo);
        std::fs::create_dir_all(dir.join("refs")).unwrap();
        std::fs::write(dir.join("refs/main"), commit).unwrap();
        std::fs::create_dir_all(dir.join("blobs")).unwrap();
        let blob = dir.join("blobs").join(format!("blob-{}", file.replace('/', "-")));
        std::fs::write(&blob, bytes).unwrap();
        let link = dir.join("snapshots").join(commit).join(file);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&blob, &link).unwrap();
    }

    fn entry() -> ModelEntry {
        let text = r#"
            [[model]]
            name = "tiny"
            domain = "images"
            provider = "local"
            repo = "org/tiny-sd"
            files = { unet = { file = "unet/w.safetensors" }, vae = { file = "vae/w.safetensors" } }
        "#;
        Catalog::parse(text, "test").unwrap().get("tiny").unwrap().clone()
    }

    #[test]
    fn finds_files_written_by_huggingface_hub() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HfCache::new(dir.path());
        let entry = entry();
        let commit = "0123456789abcdef0123456789abcdef01234567";

        let error = cache.model_files(&entry).unwrap_err().to_string();
        assert!(error.contains("ddiffusion models pull tiny"), "{error}");
        assert!(error.contains("unet/w.safetensors"), "{error}");

        put(&cache, "org/tiny-sd", commit, "unet/w.safetensors", b"unet");
        assert!(!cache.is_installed(&entry));
        put(&cache, "org/tiny-sd", commit, "vae/w.safetensors", b"vae!!");
        let files = cache.model_files(&entry).unwrap();
        assert_eq!(std::fs::read(&files.files["unet"]).unwrap(), b"unet");
        assert_eq!(cache.size_on_disk(&entry), 9);
        assert_eq!(cache.commit("org/tiny-sd", commit).as_deref(), Some(commit));

        let removed = cache.remove(&entry).unwrap();
        assert_eq!(removed, vec![cache.repo_dir("org/tiny-sd")]);
        assert!(!cache.is_installed(&entry));
    }

    #[tokio::test]
    async fn pull_offline_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = HfCache::new(dir.path());
        cache.offline = true;
        let error = cache.pull(&entry(), |_, _, _| {}).await.unwrap_err();
        assert!(matches!(error, CacheError::Offline { .. }), "{error}");
    }
}
