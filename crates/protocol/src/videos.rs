//! Video requests, responses and model information.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::common::{collapse_whitespace, create_response, file_response};
use crate::{Provider, ValidationError};

/// Model names of the original contract.
pub const CONTRACT_MODELS: &[&str] = &[
    "ltx-video",
    "wan-2",
    "hunyuan-video-1",
    "sam-3",
    "runway-gen-4",
    "runway-upscale",
    "seedance-1",
    "kling-2",
    "veo-3",
    "sora-2",
    "hailuo-2",
];

/// Minimum `num_frames` of a video request.
pub const MIN_FRAMES: i64 = 24;
/// Maximum `num_frames` of a video request.
pub const MAX_FRAMES: i64 = 250;

fn default_prompt() -> String {
    "Slow camera zoom in, 4k, high quality, cinematic, realistic".to_owned()
}
fn default_height() -> i64 {
    480
}
fn default_width() -> i64 {
    854
}
fn default_frames() -> i64 {
    48
}
fn default_seed() -> i64 {
    42
}

#[cfg(feature = "openapi")]
fn model_schema() -> utoipa::openapi::Object {
    crate::common::string_enum_schema(
        CONTRACT_MODELS,
        None,
        "Name of the model; GET /api/videos/models lists those this server runs",
    )
}

/// A request to generate or transform a video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VideoRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = model_schema))]
    pub model: String,
    /// Positive Prompt text
    #[serde(default = "default_prompt")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            default = "Slow camera zoom in, 4k, high quality, cinematic, realistic",
            format = "multi_line"
        )
    )]
    pub prompt: String,
    #[serde(default = "default_height")]
    #[cfg_attr(feature = "openapi", schema(default = 480))]
    pub height: i64,
    #[serde(default = "default_width")]
    #[cfg_attr(feature = "openapi", schema(default = 854))]
    pub width: i64,
    /// Preferred number of frames. External models round it to the nearest duration they support.
    #[serde(default = "default_frames")]
    #[cfg_attr(feature = "openapi", schema(default = 48, minimum = 24, maximum = 250))]
    pub num_frames: i64,
    #[serde(default = "default_seed")]
    #[cfg_attr(feature = "openapi", schema(default = 42))]
    pub seed: i64,
    /// Base64 image used as the first frame or as a reference.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 104857600, content_encoding = "base64", content_media_type = "image/*")
    )]
    pub image: Option<String>,
    /// Base64 image that guides the last frame; requires `image`.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 104857600, content_encoding = "base64", content_media_type = "image/*")
    )]
    pub last_image: Option<String>,
    /// Base64 video for video-to-video or upscaling.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 104857600, content_encoding = "base64", content_media_type = "video/*")
    )]
    pub video: Option<String>,
    /// Ask models that can to generate an audio track as well; costs more time.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = false))]
    pub generate_audio: bool,
}

impl VideoRequest {
    /// Returns the prompt with whitespace runs collapsed, as the pipelines use it.
    pub fn cleaned_prompt(&self) -> String {
        collapse_whitespace(&self.prompt)
    }

    /// Checks the rules that do not depend on the model.
    pub fn validate(&self) -> Vec<ValidationError> {
        let mut errors = Vec::new();
        if !(MIN_FRAMES..=MAX_FRAMES).contains(&self.num_frames) {
            errors.push(ValidationError::field(
                "num_frames",
                format!(
                    "num_frames is {}, but it must be between {MIN_FRAMES} and {MAX_FRAMES}",
                    self.num_frames
                ),
                "value_error",
            ));
        }
        if self.last_image.is_some() && self.image.is_none() {
            errors.push(ValidationError::field(
                "last_image",
                "last_image requires image: send the first frame in `image` as well",
                "value_error",
            ));
        }
        errors
    }

    /// Checks the request against the capabilities `info` lists for the model.
    pub fn validate_for(&self, info: &VideosModelInfo) -> Vec<ValidationError> {
        let mut errors = Vec::new();
        let (supported, field, flag) = if self.video.is_some() {
            (info.video_to_video, "video", "video_to_video")
        } else if self.image.is_some() {
            (info.image_to_video, "image", "image_to_video")
        } else {
            (info.text_to_video, "image", "text_to_video")
        };
        if !supported {
            errors.push(ValidationError::field(
                field,
                format!("model {} does not support {flag}; choose a model whose `{flag}` flag is true in GET /api/videos/models", self.model),
                "value_error",
            ));
        }
        if self.last_image.is_some() && !info.last_image {
            errors.push(ValidationError::field(
                "last_image",
                format!(
                    "model {} does not accept last_image; remove it or choose a model whose `last_image` flag is true",
                    self.model
                ),
                "value_error",
            ));
        }
        errors
    }
}

/// Capabilities and provider of a video model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VideosModelInfo {
    /// True if the model is invoked via an external API
    pub external: bool,
    /// Source/provider identifier
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub provider: Provider,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = false))]
    pub text_to_video: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = false))]
    pub image_to_video: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = false))]
    pub video_to_video: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = false))]
    pub last_image: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = false))]
    pub audio: bool,
    pub description: Option<String>,
}

#[cfg(feature = "openapi")]
fn models_schema() -> utoipa::openapi::Object {
    crate::common::model_map_schema(CONTRACT_MODELS, "VideosModelInfo")
}

/// Response of `GET /api/videos/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VideoModelsResponse {
    #[cfg_attr(feature = "openapi", schema(schema_with = models_schema))]
    pub models: BTreeMap<String, VideosModelInfo>,
}

create_response!(VideoCreateResponse);
file_response!(VideoResponse);
