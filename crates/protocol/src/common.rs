//! Types shared by every domain: task status, provider, errors, delete response.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Largest accepted base64 input in characters (100 MiB).
pub const BASE64_MAX_LENGTH: usize = 104_857_600;

/// Status of a task, with the state names of the original Celery-based server.
///
/// This server produces `PENDING` (waiting in a lane), `STARTED` (running),
/// `SUCCESS`, `FAILURE` and `REVOKED` (cancelled). The other values stay in the
/// enum so that clients generated from the original contract still parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum TaskStatus {
    Pending,
    Received,
    Started,
    Success,
    Failure,
    Retry,
    Revoked,
    Rejected,
    Ignored,
}

impl TaskStatus {
    /// Returns true for the states a task never leaves.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Self::Success | Self::Failure | Self::Revoked | Self::Rejected | Self::Ignored
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Received => "RECEIVED",
            Self::Started => "STARTED",
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
            Self::Retry => "RETRY",
            Self::Revoked => "REVOKED",
            Self::Rejected => "REJECTED",
            Self::Ignored => "IGNORED",
        }
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Provider that runs a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Local,
    Openai,
    Replicate,
}

/// Response of `DELETE /api/{domain}/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteResponse {
    /// ID of the task
    pub id: Uuid,
    /// Status of the task after the cancellation attempt
    pub status: TaskStatus,
    /// Additional information about the cancellation result
    pub message: String,
}

/// One element of a validation error's location: a field name or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Location {
    Field(String),
    Index(i64),
}

impl From<&str> for Location {
    fn from(value: &str) -> Self {
        Self::Field(value.to_owned())
    }
}

impl From<usize> for Location {
    fn from(value: usize) -> Self {
        Self::Index(value as i64)
    }
}

/// One problem found in a request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValidationError {
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub loc: Vec<Location>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl ValidationError {
    pub fn new(loc: Vec<Location>, msg: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            loc,
            msg: msg.into(),
            kind: kind.into(),
        }
    }

    /// Builds an error located at `body.<field>`.
    pub fn field(field: &str, msg: impl Into<String>, kind: impl Into<String>) -> Self {
        Self::new(vec!["body".into(), field.into()], msg, kind)
    }
}

/// Body of a 422 response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(title = "HTTPValidationError", as = HTTPValidationError))]
pub struct HttpValidationError {
    #[serde(default)]
    pub detail: Vec<ValidationError>,
}

/// Body of a 403, 404, 413 or 429 response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub detail: String,
}

/// Body of a 500 response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InternalError {
    pub message: String,
    pub detail: String,
    pub path: String,
}

/// Collapses every run of whitespace in a prompt into one space and trims the ends.
pub fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Builds the schema of a string field that accepts one of `values`.
#[cfg(feature = "openapi")]
pub(crate) fn string_enum_schema(values: &[&str], default: Option<&str>, description: &str) -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};

    let mut builder = ObjectBuilder::new()
        .schema_type(Type::String)
        .title(Some("Model"))
        .description(Some(description))
        .enum_values(Some(values.iter().copied()));
    if let Some(default) = default {
        builder = builder.default(Some(serde_json::Value::from(default)));
    }
    builder.build()
}

/// Builds the schema of a map from model name to model information.
#[cfg(feature = "openapi")]
pub(crate) fn model_map_schema(names: &[&str], info_schema: &str) -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    use utoipa::openapi::Ref;

    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .title(Some("Models"))
        .additional_properties(Some(AdditionalProperties::RefOr(
            Ref::from_schema_name(info_schema).into(),
        )))
        .build();
    object.property_names = Some(Box::new(
        ObjectBuilder::new()
            .enum_values(Some(names.iter().copied()))
            .build()
            .into(),
    ));
    object
}

/// Defines the `{id, status}` response of a domain's POST under its own schema name.
macro_rules! create_response {
    ($name:ident) => {
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "openapi", schema(example = json!({"id": "9a34ab0a-9e9a-4b84-90f7-d8b30c59b6ae", "status": "PENDING"})))]
        pub struct $name {
            pub id: uuid::Uuid,
            pub status: $crate::TaskStatus,
        }
    };
}

/// Defines the GET response of a domain whose outputs are files, under its own schema name.
macro_rules! file_response {
    ($name:ident) => {
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name {
            pub id: uuid::Uuid,
            pub status: $crate::TaskStatus,
            /// Signed download URLs of the outputs, valid without an API key until they expire.
            #[serde(default)]
            #[cfg_attr(feature = "openapi", schema(default = json!([]), inline, value_type = Vec<String>))]
            pub output: Vec<String>,
            pub error_message: Option<String>,
            #[serde(default)]
            #[cfg_attr(feature = "openapi", schema(default = json!([])))]
            pub logs: Vec<String>,
            #[serde(default)]
            pub task_info: serde_json::Map<String, serde_json::Value>,
        }
    };
}

pub(crate) use {create_response, file_response};
