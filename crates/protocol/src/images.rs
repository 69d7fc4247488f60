//! Image requests, responses and model information.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::common::{collapse_whitespace, create_response, file_response};
use crate::{Provider, ValidationError};

/// Scheduler names accepted in `scheduler`.
pub const SCHEDULERS: &[&str] = &["ddim", "euler", "euler_a", "dpmpp_2m_karras"];

/// Most pixels (width × height) an image request may ask for: 2048 × 2048.
pub const MAX_PIXELS: i64 = 2048 * 2048;

/// Maximum width or height of an image request, in pixels.
pub const MAX_SIDE: i64 = 4096;

/// Model names of the original contract. The server accepts the models its
/// catalogue lists; this list only documents the contract's names.
pub const CONTRACT_MODELS: &[&str] = &[
    "sd-xl",
    "flux-1",
    "flux-2",
    "flux-2-klein",
    "qwen-image",
    "z-image",
    "depth-anything-2",
    "sam-2",
    "sam-3",
    "real-esrgan-x4",
    "gpt-image-1",
    "runway-gen-4",
    "flux-1-pro",
    "flux-2-pro",
    "topazlabs-upscale",
    "gemini-2",
    "gemini-3",
    "seedream-4",
];

fn default_prompt() -> String {
    "Detailed, 8k, photorealistic".to_owned()
}
fn default_height() -> i64 {
    720
}
fn default_width() -> i64 {
    1280
}
fn default_seed() -> i64 {
    42
}
fn default_strength() -> f64 {
    0.5
}

#[cfg(feature = "openapi")]
fn model_schema() -> utoipa::openapi::Object {
    crate::common::string_enum_schema(
        CONTRACT_MODELS,
        None,
        "Name of the model; GET /api/images/models lists those this server runs",
    )
}

/// A request to generate or transform an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = model_schema))]
    pub model: String,
    /// Positive Prompt text
    #[serde(default = "default_prompt")]
    #[cfg_attr(
        feature = "openapi",
        schema(default = "Detailed, 8k, photorealistic", format = "multi_line")
    )]
    pub prompt: String,
    #[serde(default = "default_height")]
    #[cfg_attr(feature = "openapi", schema(default = 720))]
    pub height: i64,
    #[serde(default = "default_width")]
    #[cfg_attr(feature = "openapi", schema(default = 1280))]
    pub width: i64,
    #[serde(default = "default_seed")]
    #[cfg_attr(feature = "openapi", schema(default = 42))]
    pub seed: i64,
    /// Strength of the transformation of the input image (image-to-image and inpainting only). Ignored for text-to-image.
    #[serde(default = "default_strength")]
    #[cfg_attr(feature = "openapi", schema(default = 0.5, minimum = 0.0, maximum = 1.0))]
    pub strength: f64,
    /// Base64 image. Given without a mask, it runs image-to-image from this image; its size replaces width and height.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 104857600, content_encoding = "base64", content_media_type = "image/*")
    )]
    pub image: Option<String>,
    /// Base64 image mask for inpainting; requires `image`. Non-zero or opaque pixels mark the area to change.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 104857600, content_encoding = "base64", content_media_type = "image/*")
    )]
    pub mask: Option<String>,
    /// Optional reference images that guide models which support references.
    #[serde(default)]
    pub references: Vec<References>,
    /// Denoising steps, 1 to 150; the model's default when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 150))]
    pub steps: Option<i64>,
    /// Classifier-free guidance scale, 0 to 30; the model's default when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 30.0))]
    pub guidance_scale: Option<f64>,
    /// Scheduler: ddim, euler, euler_a or dpmpp_2m_karras; the model's default when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<String>,
    /// Negative prompt; the model's default when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_prompt: Option<String>,
}

/// One reference image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct References {
    /// Base64 image string
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 104857600, content_encoding = "base64", content_media_type = "image/*")
    )]
    pub image: String,
}

/// Mode of an image request, decided by which inputs it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageMode {
    TextToImage,
    ImageToImage,
    Inpainting,
}

impl ImageRequest {
    pub fn mode(&self) -> ImageMode {
        match (&self.image, &self.mask) {
            (Some(_), Some(_)) => ImageMode::Inpainting,
            (Some(_), None) => ImageMode::ImageToImage,
            _ => ImageMode::TextToImage,
        }
    }

    /// Returns the prompt with whitespace runs collapsed, as the pipelines use it.
    pub fn cleaned_prompt(&self) -> String {
        collapse_whitespace(&self.prompt)
    }

    /// Checks the rules that do not depend on the model.
    pub fn validate(&self) -> Vec<ValidationError> {
        let mut errors = Vec::new();
        if !(0.0..=1.0).contains(&self.strength) {
            errors.push(ValidationError::field(
                "strength",
                format!("strength is {}, but it must be between 0.0 and 1.0", self.strength),
                "value_error",
            ));
        }
        for (field, value) in [("width", self.width), ("height", self.height)] {
            if !(1..=MAX_SIDE).contains(&value) {
                errors.push(ValidationError::field(
                    field,
                    format!("{field} is {value}, but it must be between 1 and {MAX_SIDE} pixels"),
                    "value_error",
                ));
            }
        }
        if self.width.saturating_mul(self.height) > MAX_PIXELS {
            errors.push(ValidationError::field(
                "width",
                format!(
                    "{} × {} is {} pixels, more than the limit of {MAX_PIXELS} (2048 × 2048); ask for a smaller size",
                    self.width,
                    self.height,
                    self.width.saturating_mul(self.height)
                ),
                "value_error",
            ));
        }
        if let Some(steps) = self.steps.filter(|steps| !(1..=150).contains(steps)) {
            errors.push(ValidationError::field(
                "steps",
                format!("steps is {steps}, but it must be between 1 and 150"),
                "value_error",
            ));
        }
        if let Some(scale) = self.guidance_scale.filter(|scale| !(0.0..=30.0).contains(scale)) {
            errors.push(ValidationError::field(
                "guidance_scale",
                format!("guidance_scale is {scale}, but it must be between 0 and 30"),
                "value_error",
            ));
        }
        if let Some(scheduler) = self.scheduler.as_deref().filter(|name| !SCHEDULERS.contains(name)) {
            errors.push(ValidationError::field(
                "scheduler",
                format!(
                    "scheduler {scheduler:?} is unknown; use one of: {}",
                    SCHEDULERS.join(", ")
                ),
                "enum",
            ));
        }
        if self.mask.is_some() && self.image.is_none() {
            errors.push(ValidationError::field(
                "mask",
                "a mask requires an image: send the plate to inpaint in `image` together with `mask`",
                "value_error",
            ));
        }
        errors
    }

    /// Checks the request against the capabilities `info` lists for the model.
    pub fn validate_for(&self, info: &ImagesModelInfo) -> Vec<ValidationError> {
        let mut errors = Vec::new();
        let (supported, field, what) = match self.mode() {
            ImageMode::Inpainting => (info.inpainting, "mask", "inpainting"),
            ImageMode::ImageToImage => (info.image_to_image, "image", "image-to-image"),
            ImageMode::TextToImage => (info.text_to_image, "image", "text-to-image"),
        };
        if !supported {
            errors.push(ValidationError::field(
                field,
                format!("model {} does not support {what}; choose a model whose `{}` flag is true in GET /api/images/models", self.model, what.replace('-', "_")),
                "value_error",
            ));
        }
        if !self.references.is_empty() && !info.references {
            errors.push(ValidationError::field(
                "references",
                format!("model {} does not accept references; remove them or choose a model whose `references` flag is true", self.model),
                "value_error",
            ));
        }
        errors
    }
}

/// Capabilities and provider of an image model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImagesModelInfo {
    /// True if the model is invoked via an external API
    pub external: bool,
    /// Source/provider identifier
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub provider: Provider,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = false))]
    pub text_to_image: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = false))]
    pub image_to_image: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = false))]
    pub inpainting: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = false))]
    pub references: bool,
    pub description: Option<String>,
}

#[cfg(feature = "openapi")]
fn models_schema() -> utoipa::openapi::Object {
    crate::common::model_map_schema(CONTRACT_MODELS, "ImagesModelInfo")
}

/// Response of `GET /api/images/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageModelsResponse {
    #[cfg_attr(feature = "openapi", schema(schema_with = models_schema))]
    pub models: BTreeMap<String, ImagesModelInfo>,
}

create_response!(ImageCreateResponse);
file_response!(ImageResponse);
