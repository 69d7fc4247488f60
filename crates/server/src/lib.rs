//! HTTP server and command-line interface of Deferred Diffusion.
//!
//! [`app::build`] assembles the axum application over an [`state::AppState`]:
//! the original contract's routes ([`routes`], [`admin`], [`files`]), this
//! server's additions ([`extra`], [`model_routes`], [`settings_routes`]), documentation ([`docs`]) and the checks
//! every request passes ([`guard`], [`auth`]). [`serve::run`] runs it.

pub mod admin;
pub mod app;
pub mod auth;
pub mod config;
pub mod config_edit;
pub mod dev_models;
pub mod docs;
pub mod error;
pub mod extra;
pub mod files;
pub mod guard;
pub mod inputs;
pub mod model_routes;
pub mod models;
pub mod profile_routes;
pub mod profiles;
pub mod pulls;
pub mod remote;
pub mod routes;
pub mod serve;
pub mod settings_routes;
pub mod state;
pub mod submit;
pub mod ui;
