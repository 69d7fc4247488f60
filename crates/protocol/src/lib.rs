//! Wire types of the Deferred Diffusion REST API.
//!
//! The request, response and error shapes keep the field names, defaults and
//! enum values of the original deferred-diffusion HTTP contract, so clients
//! generated from that contract keep working. Types added by this product
//! (job listing, events, system status) live in [`jobs`], and those of the
//! catalogue and server settings in [`settings`].
//!
//! With the `openapi` feature every type derives `utoipa::ToSchema`. Without
//! it the crate depends on serde and uuid only, so it also builds for wasm.

pub mod common;
pub mod images;
pub mod jobs;
pub mod keys;
pub mod settings;
pub mod texts;
pub mod videos;
pub mod workflows;

pub use common::{
    DeleteResponse, ErrorDetail, HttpValidationError, InternalError, Location, Provider, TaskStatus, ValidationError,
    BASE64_MAX_LENGTH,
};
pub use jobs::{
    CreatedJob, Domain, JobDetail, JobEvent, JobList, JobResponse, JobSummary, LaneStatus, QueuePosition, SystemStatus,
};
