//! API key administration types.

use serde::{Deserialize, Serialize};

/// Response of `POST /api/admin/keys`. The key is shown only here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyCreated {
    pub api_key: String,
    pub name: String,
}

/// One stored key, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyInfo {
    pub key_id: String,
    pub name: String,
    pub created_at: String,
}

/// Response of `DELETE /api/admin/keys/{key_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyDeleted {
    pub deleted: bool,
}
