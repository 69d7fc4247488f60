//! Persistent job queue of Deferred Diffusion.
//!
//! [`Engine`] stores every job in SQLite ([`store`]) before a submission
//! returns, runs waiting jobs in lanes with their own concurrency and time
//! limit, and hands each running job to the [`Executor`] registered for its
//! (domain, model) pair. Executors report log lines, progress and outputs
//! through their [`JobContext`]; the engine alone writes job rows, and it
//! publishes every change as a [`protocol::JobEvent`] on a broadcast channel.
//!
//! The engine has no domain logic. It stores requests as JSON and returns
//! them to the executor unchanged. [`keys`] keeps the API keys in the same database.

mod context;
mod engine;
pub mod keys;
pub mod store;

pub use context::{Executor, ExecutorFuture, JobContext, JobError, JobOutput, JobReporter};
pub use engine::{CancelOutcome, Engine, EngineConfig, EngineError, Identity, LaneConfig, NewJob, SubmitError};
pub use sqlx::SqlitePool;
pub use store::{JobRecord, JobState};
