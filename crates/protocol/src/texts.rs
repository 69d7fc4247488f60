//! Text requests, responses and model information.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::common::create_response;
use crate::Provider;

/// Model names of the original contract.
pub const CONTRACT_MODELS: &[&str] = &["qwen-2", "gpt-4o", "gpt-4", "gpt-5"];

fn default_model() -> String {
    "qwen-2".to_owned()
}

#[cfg(feature = "openapi")]
fn model_schema() -> utoipa::openapi::Object {
    crate::common::string_enum_schema(
        CONTRACT_MODELS,
        Some("qwen-2"),
        "Name of the model; GET /api/texts/models lists those this server runs",
    )
}

/// Instruction preset sent to a text model before the user's prompt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SystemPrompt {
    /// No instruction: the model's default behaviour.
    None,
    /// Describe the supplied media and respond from it directly.
    #[default]
    Base,
    /// Rewrite the prompt into a concise image-generation prompt.
    ImageOptimizer,
    /// Rewrite the prompt into a single-shot video-generation prompt.
    VideoOptimizer,
    /// Describe the change between a start frame and an end frame as one shot.
    VideoTransition,
}

/// A request to generate text, optionally about images or videos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TextRequest {
    #[serde(default = "default_model")]
    #[cfg_attr(feature = "openapi", schema(schema_with = model_schema))]
    pub model: String,
    /// Prompt text
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = ""))]
    pub prompt: String,
    /// System prompt preset: NONE, BASE, IMAGE_OPTIMIZER, VIDEO_OPTIMIZER or VIDEO_TRANSITION.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = "BASE"))]
    pub system_prompt: SystemPrompt,
    /// Image references as base64 strings
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = json!([])))]
    pub images: Vec<String>,
    /// Video references as base64 strings
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = json!([])))]
    pub videos: Vec<String>,
}

/// Provider and description of a text model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TextsModelInfo {
    /// Source/provider identifier
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub provider: Provider,
    /// True if the model is invoked via an external API
    pub external: bool,
    pub description: Option<String>,
}

#[cfg(feature = "openapi")]
fn models_schema() -> utoipa::openapi::Object {
    crate::common::model_map_schema(CONTRACT_MODELS, "TextsModelInfo")
}

/// Response of `GET /api/texts/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TextModelsResponse {
    #[cfg_attr(feature = "openapi", schema(schema_with = models_schema))]
    pub models: BTreeMap<String, TextsModelInfo>,
}

create_response!(TextCreateResponse);

/// Response of `GET /api/texts/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TextResponse {
    pub id: uuid::Uuid,
    pub status: crate::TaskStatus,
    /// The generated text, empty until the task succeeds.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = ""))]
    pub output: String,
    pub error_message: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = json!([])))]
    pub logs: Vec<String>,
    #[serde(default)]
    pub task_info: serde_json::Map<String, serde_json::Value>,
}
