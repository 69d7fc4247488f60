//! The model catalogue: `models.toml` shipped with the product, merged with a
//! user file.

use std::collections::BTreeMap;
use std::path::Path;

use protocol::{Domain, Provider};
use serde::{Deserialize, Serialize};

/// The catalogue shipped with the product, built into the binary.
pub const SHIPPED: &str = include_str!("../../../models.toml");

/// One file of a model, inside its Hugging Face repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Repository id, such as `stable-diffusion-v1-5/stable-diffusion-v1-5`;
    /// the model's `repo` when left out.
    #[serde(default)]
    pub repo: Option<String>,
    /// Branch, tag or commit; the model's `revision` when left out.
    #[serde(default)]
    pub revision: Option<String>,
    /// Path of the file inside the repository.
    pub file: String,
}

/// One model of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// Public name, used in requests.
    pub name: String,
    pub domain: Domain,
    pub provider: Provider,
    /// Pipeline family that runs the model, such as `sd15`, `sd21` or `sdxl`.
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub text_to_image: bool,
    #[serde(default)]
    pub image_to_image: bool,
    #[serde(default)]
    pub inpainting: bool,
    #[serde(default)]
    pub references: bool,
    #[serde(default)]
    pub text_to_video: bool,
    #[serde(default)]
    pub image_to_video: bool,
    #[serde(default)]
    pub video_to_video: bool,
    /// The video model takes a last frame (`last_image`).
    #[serde(default)]
    pub last_image: bool,
    /// The video model can generate sound (`generate_audio`).
    #[serde(default)]
    pub audio: bool,
    /// Hugging Face repository of the weights.
    #[serde(default)]
    pub repo: Option<String>,
    /// Branch, tag or commit of `repo`.
    #[serde(default = "default_revision")]
    pub revision: String,
    /// Files by role (`unet`, `vae`, `text_encoder`, `tokenizer_vocab`, ...).
    #[serde(default)]
    pub files: BTreeMap<String, Component>,
    /// Files of the inpainting variant, by role; used when a request has a mask.
    #[serde(default)]
    pub inpainting_files: BTreeMap<String, Component>,
    /// A folder in diffusers layout that replaces the Hugging Face repository.
    #[serde(default)]
    pub local_path: Option<String>,
    #[serde(default)]
    pub steps: Option<u32>,
    #[serde(default)]
    pub guidance: Option<f64>,
    #[serde(default)]
    pub inpainting_guidance: Option<f64>,
    #[serde(default)]
    pub scheduler: Option<String>,
    #[serde(default)]
    pub negative_prompt: Option<String>,
    /// Estimated memory to run the model, in GiB.
    #[serde(default)]
    pub memory_gb: Option<f64>,
    #[serde(default)]
    pub license: Option<String>,
    /// True if the repository needs an accepted licence and a token (`HF_TOKEN`).
    #[serde(default)]
    pub gated: bool,
}

fn default_revision() -> String {
    "main".into()
}

impl ModelEntry {
    /// Returns every file the model needs, with its repository and revision resolved.
    pub fn all_files(&self) -> Vec<(String, String, String)> {
        self.files
            .values()
            .chain(self.inpainting_files.values())
            .map(|component| self.resolve(component))
            .collect()
    }

    /// Returns (repository, revision, file) of a component.
    pub fn resolve(&self, component: &Component) -> (String, String, String) {
        let repo = component.repo.clone().or_else(|| self.repo.clone()).unwrap_or_default();
        let revision = component.revision.clone().unwrap_or_else(|| self.revision.clone());
        (repo, revision, component.file.clone())
    }

    /// Information in the contract's `ImagesModelInfo` shape.
    pub fn images_info(&self) -> protocol::images::ImagesModelInfo {
        protocol::images::ImagesModelInfo {
            external: self.provider != Provider::Local,
            provider: self.provider,
            text_to_image: self.text_to_image,
            image_to_image: self.image_to_image,
            inpainting: self.inpainting,
            references: self.references,
            description: self.description.clone(),
        }
    }

    /// Information in the contract's `VideosModelInfo` shape.
    pub fn videos_info(&self) -> protocol::videos::VideosModelInfo {
        protocol::videos::VideosModelInfo {
            external: self.provider != Provider::Local,
            provider: self.provider,
            text_to_video: self.text_to_video,
            image_to_video: self.image_to_video,
            video_to_video: self.video_to_video,
            last_image: self.last_image,
            audio: self.audio,
            description: self.description.clone(),
        }
    }

    /// Information in the contract's `TextsModelInfo` shape.
    pub fn texts_info(&self) -> protocol::texts::TextsModelInfo {
        protocol::texts::TextsModelInfo {
            provider: self.provider,
            external: self.provider != Provider::Local,
            description: self.description.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    model: Vec<ModelEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{source_name} is not a valid model catalogue: {message}")]
    Invalid { source_name: String, message: String },
    #[error("could not read {path}: {error}")]
    Read { path: String, error: std::io::Error },
}

/// Models by domain and name, in the order the files list them. A name may
/// appear once per domain (`runway-gen-4` is an image and a video model).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: Vec<ModelEntry>,
}

impl Catalog {
    /// Parses one catalogue file.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, CatalogError> {
        let file: CatalogFile = toml::from_str(text).map_err(|error| CatalogError::Invalid {
            source_name: source_name.to_owned(),
            message: error.to_string(),
        })?;
        let mut catalog = Self::default();
        for entry in file.model {
            if catalog.get_in(entry.domain, &entry.name).is_some() {
                return Err(CatalogError::Invalid {
                    source_name: source_name.to_owned(),
                    message: format!("model {} is listed twice for {}", entry.name, entry.domain),
                });
            }
            catalog.entries.push(entry);
        }
        Ok(catalog)
    }

    /// Loads the shipped catalogue and, if `user_file` exists, adds its
    /// entries, replacing shipped entries of the same name.
    pub fn load(user_file: Option<&Path>) -> Result<Self, CatalogError> {
        let mut catalog = Self::parse(SHIPPED, "the shipped models.toml")?;
        if let Some(path) = user_file.filter(|path| path.exists()) {
            let text = std::fs::read_to_string(path).map_err(|error| CatalogError::Read {
                path: path.display().to_string(),
                error,
            })?;
            catalog.merge(Self::parse(&text, &path.display().to_string())?);
        }
        Ok(catalog)
    }

    /// Adds the entries of `other`, replacing entries with the same domain and name.
    pub fn merge(&mut self, other: Catalog) {
        for entry in other.entries {
            let same = |existing: &&mut ModelEntry| existing.name == entry.name && existing.domain == entry.domain;
            match self.entries.iter_mut().find(same) {
                Some(existing) => *existing = entry,
                None => self.entries.push(entry),
            }
        }
    }

    /// Returns the first model named `name`, a local one before an external one.
    pub fn get(&self, name: &str) -> Option<&ModelEntry> {
        let named = || self.entries.iter().filter(move |entry| entry.name == name);
        named()
            .find(|entry| entry.provider == Provider::Local)
            .or_else(|| named().next())
    }

    /// Returns the model named `name` in `domain`.
    pub fn get_in(&self, domain: Domain, name: &str) -> Option<&ModelEntry> {
        self.entries
            .iter()
            .find(|entry| entry.domain == domain && entry.name == name)
    }

    pub fn entries(&self) -> &[ModelEntry] {
        &self.entries
    }

    /// Entries of one domain.
    pub fn domain(&self, domain: Domain) -> impl Iterator<Item = &ModelEntry> {
        self.entries.iter().filter(move |entry| entry.domain == domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalogue_parses_and_is_complete() {
        let catalog = Catalog::parse(SHIPPED, "models.toml").unwrap();
        for name in ["sd-xl", "sd-1.5", "sd-2.1", "sdxl-turbo", "sd-turbo"] {
            let entry = catalog.get(name).unwrap_or_else(|| panic!("{name} is missing"));
            assert_eq!(entry.provider, Provider::Local, "{name}");
            assert!(entry.repo.is_some(), "{name} has no repository");
            assert!(entry.files.contains_key("unet"), "{name} has no UNet file");
            assert!(entry.license.is_some(), "{name} has no licence");
            assert!(
                entry.steps.is_some() && entry.guidance.is_some(),
                "{name} has no defaults"
            );
        }
        let sd_xl = catalog.get("sd-xl").unwrap();
        assert_eq!(sd_xl.repo.as_deref(), Some("SG161222/RealVisXL_V4.0"));
        assert_eq!(
            (sd_xl.steps, sd_xl.guidance, sd_xl.inpainting_guidance),
            (Some(35), Some(3.5), Some(4.0))
        );
        assert!(sd_xl.inpainting_files.contains_key("unet"));
    }

    #[test]
    fn user_file_overrides_and_adds() {
        let mut catalog = Catalog::parse(SHIPPED, "models.toml").unwrap();
        let user = r#"
            [[model]]
            name = "sd-1.5"
            domain = "images"
            provider = "local"
            architecture = "sd15"
            description = "studio fine-tune"
            local_path = "/models/house-style"

            [[model]]
            name = "house-style"
            domain = "images"
            provider = "local"
            architecture = "sd15"
        "#;
        let before = catalog.entries().len();
        catalog.merge(Catalog::parse(user, "user").unwrap());
        assert_eq!(catalog.entries().len(), before + 1);
        assert_eq!(
            catalog.get("sd-1.5").unwrap().description.as_deref(),
            Some("studio fine-tune")
        );
        assert!(catalog.get("house-style").is_some());
    }

    #[test]
    fn duplicate_and_unknown_fields_are_rejected() {
        let twice = "[[model]]\nname='a'\ndomain='images'\nprovider='local'\n[[model]]\nname='a'\ndomain='images'\nprovider='local'\n";
        assert!(Catalog::parse(twice, "x")
            .unwrap_err()
            .to_string()
            .contains("listed twice"));
        let typo = "[[model]]\nname='a'\ndomain='images'\nprovider='local'\nstepz=3\n";
        assert!(Catalog::parse(typo, "x").unwrap_err().to_string().contains("stepz"));
    }
}
