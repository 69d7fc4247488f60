//! The OpenAPI document, Swagger UI at `/docs`, ReDoc at `/redoc`, `/health`
//! and the `/` redirect. Both documentation pages are served from assets
//! built into the binary.

use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

/// ReDoc 2.5.4 from the npm package `redoc` (MIT licence; see `assets/redoc/LICENSE`).
const REDOC_JS: &str = include_str!("../assets/redoc/redoc.standalone.js");

#[derive(OpenApi)]
#[openapi(
    info(title = "Deferred Diffusion API", description = "Queue image, text and video jobs on local models, external providers or remote servers."),
    paths(root, health),
    components(schemas(protocol::TaskStatus, protocol::workflows::Patch, protocol::images::References, protocol::texts::SystemPrompt, protocol::images::ImagesModelInfo, protocol::texts::TextsModelInfo, protocol::videos::VideosModelInfo)),
    modifiers(&ApiKeyScheme),
)]
struct BaseApi;

struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "APIKeyHeader",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "API key `dd_<id>_<secret>`, with or without `Bearer `",
            ))),
        );
    }
}

/// Builds the complete OpenAPI document of this server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = BaseApi::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").into();
    document.merge(crate::routes::DomainApi::openapi());
    document.merge(crate::admin::AdminApi::openapi());
    document.merge(crate::extra::ExtraApi::openapi());
    document.merge(crate::pulls::PullsApi::openapi());
    document.merge(crate::profile_routes::ProfilesApi::openapi());
    document.merge(crate::model_routes::ModelsApi::openapi());
    document.merge(crate::settings_routes::SettingsApi::openapi());
    document.merge(FilesApi::openapi());
    document
}

#[derive(OpenApi)]
#[openapi(paths(crate::files::get_file))]
struct FilesApi;

pub fn router() -> Router<AppState> {
    let swagger: Router<AppState> = SwaggerUi::new("/docs").url("/openapi.json", openapi()).into();
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/redoc", get(redoc))
        .route("/redoc/redoc.standalone.js", get(redoc_script))
        .merge(swagger)
}

/// Redirects to the Swagger UI.
#[utoipa::path(get, path = "/", operation_id = "root__get", responses((status = 303, description = "Redirect to /docs")))]
async fn root() -> Redirect {
    Redirect::to("/docs")
}

/// Returns `{"status": "healthy"}` while the server runs; needs no key.
#[utoipa::path(get, path = "/health", operation_id = "health_health_get", responses((status = 200, description = "Server is up")))]
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "healthy" }))
}

async fn redoc() -> Html<&'static str> {
    Html(
        r#"<!DOCTYPE html>
<html>
  <head>
    <title>Deferred Diffusion API</title>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1">
  </head>
  <body>
    <redoc spec-url="/openapi.json"></redoc>
    <script src="/redoc/redoc.standalone.js"></script>
  </body>
</html>
"#,
    )
}

async fn redoc_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/javascript"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        REDOC_JS,
    )
}
