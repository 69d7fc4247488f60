//! Assembly of the HTTP application from the route groups and middleware.

use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::guard::HostPolicy;
use crate::state::AppState;
use crate::{admin, auth, docs, error, extra, files, routes};

/// Builds the application: the domain routes and `/api/jobs`, `/api/events`
/// `/api/system` and `/api/models` behind an API key, `/api/admin` and profile
/// changes behind the admin key,
/// and the documentation, health and signed file routes open.
pub fn build(state: AppState) -> Router {
    let settings = state.settings.clone();
    let bind_host = settings
        .bind
        .rsplit_once(':')
        .map(|(host, _)| host)
        .unwrap_or(&settings.bind)
        .to_owned();
    let policy = HostPolicy::new(&bind_host, &settings.allowed_hosts, &settings.cors_origins);
    let origins: Vec<HeaderValue> = settings
        .cors_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods(Any)
        .allow_headers(Any);

    let with_key = routes::router()
        .merge(extra::router())
        .merge(crate::pulls::router())
        .merge(crate::profile_routes::router())
        .merge(crate::model_routes::router())
        .route_layer(from_fn_with_state(state.clone(), auth::require_key));
    let with_admin_key = admin::router()
        .merge(crate::settings_routes::router())
        .merge(crate::profile_routes::admin_router())
        .route_layer(from_fn_with_state(state.clone(), auth::require_admin));
    let open = docs::router()
        .route("/api/files/{*file_id}", get(files::get_file))
        .merge(crate::ui::router());
    tracing::info!("web UI at http://{}/ui", settings.bind);

    Router::new()
        .merge(with_key)
        .merge(with_admin_key)
        .merge(open)
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes()))
        .layer(Extension(error::BodyLimit(settings.body_limit_bytes())))
        .layer(cors)
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(from_fn(error::internal_error_path))
        .layer(from_fn_with_state(policy, crate::guard::guard_and_log))
        .with_state(state)
}
