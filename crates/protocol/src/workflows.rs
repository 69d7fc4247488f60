//! ComfyUI workflow requests and responses.

use serde::{Deserialize, Serialize};

use crate::common::{create_response, file_response};
use crate::ValidationError;

/// Node class a patch may target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PatchClass {
    PrimitiveInt,
    PrimitiveFloat,
    PrimitiveStringMultiline,
    LoadImage,
    LoadVideo,
}

/// A value written into the workflow node whose `_meta.title` matches `title`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Patch {
    pub title: String,
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub class_type: PatchClass,
    pub value: serde_json::Value,
}

/// A ComfyUI workflow in API format with the patches to apply before it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = HashMap<String, Object>))]
    pub workflow: serde_json::Map<String, serde_json::Value>,
    pub patches: Vec<Patch>,
}

impl WorkflowRequest {
    /// Checks each patch's value type and that its title names exactly one node of its class.
    pub fn validate(&self) -> Vec<ValidationError> {
        let mut errors = Vec::new();
        for (index, patch) in self.patches.iter().enumerate() {
            let loc = |field: &str| vec!["body".into(), "patches".into(), index.into(), field.into()];
            let type_ok = match patch.class_type {
                PatchClass::PrimitiveInt => patch.value.is_i64() || patch.value.is_u64(),
                PatchClass::PrimitiveFloat => patch.value.is_number(),
                PatchClass::PrimitiveStringMultiline | PatchClass::LoadImage | PatchClass::LoadVideo => {
                    patch.value.is_string()
                }
            };
            if !type_ok {
                errors.push(ValidationError::new(
                    loc("value"),
                    format!("value {} does not fit class_type {:?}", patch.value, patch.class_type),
                    "value_error",
                ));
            }
            let matches: Vec<&serde_json::Value> = self
                .workflow
                .values()
                .filter(|node| node.pointer("/_meta/title").and_then(|t| t.as_str()) == Some(patch.title.as_str()))
                .collect();
            let class_name = serde_json::to_value(patch.class_type).unwrap_or_default();
            match matches.as_slice() {
                [] => errors.push(ValidationError::new(
                    loc("title"),
                    format!("no node in the workflow has the title {:?}", patch.title),
                    "value_error",
                )),
                [node] if node.get("class_type") != Some(&class_name) => errors.push(ValidationError::new(
                    loc("class_type"),
                    format!(
                        "node {:?} has class_type {}, not {}",
                        patch.title,
                        node.get("class_type").unwrap_or(&serde_json::Value::Null),
                        class_name
                    ),
                    "value_error",
                )),
                [_] => {}
                _ => errors.push(ValidationError::new(
                    loc("title"),
                    format!(
                        "{} nodes have the title {:?}; titles used by patches must be unique",
                        matches.len(),
                        patch.title
                    ),
                    "value_error",
                )),
            }
        }
        errors
    }
}

create_response!(WorkflowCreateResponse);
file_response!(WorkflowResponse);
