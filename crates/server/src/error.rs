//! Error responses in the contract's shapes, and the JSON body extractor that
//! turns every bad body into a 422 naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::{ErrorDetail, HttpValidationError, InternalError, Location, ValidationError};
use serde::de::DeserializeOwned;

/// An error response.
#[derive(Debug)]
pub enum ApiError {
    /// 422 with the failing fields.
    Validation(Vec<ValidationError>),
    BadRequest(String),
    Forbidden(String),
    NotFound(String),
    /// 409: the resource is in use, such as a model with a running job.
    Conflict(String),
    PayloadTooLarge(String),
    TooManyRequests(String),
    /// 500; the body's `path` is filled in by [`internal_error_path`].
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, msg: impl Into<String>) -> Self {
        Self::Validation(vec![ValidationError::field(field, msg, "value_error")])
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<engine::EngineError> for ApiError {
    fn from(error: engine::EngineError) -> Self {
        Self::internal(error)
    }
}

/// Marks a 500 response whose body still needs the request path.
#[derive(Clone)]
struct InternalDetail(String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let detail = |status: StatusCode, detail: String| (status, Json(ErrorDetail { detail })).into_response();
        match self {
            Self::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(HttpValidationError { detail: errors }),
            )
                .into_response(),
            Self::BadRequest(message) => detail(StatusCode::BAD_REQUEST, message),
            Self::Forbidden(message) => detail(StatusCode::FORBIDDEN, message),
            Self::NotFound(message) => detail(StatusCode::NOT_FOUND, message),
            Self::Conflict(message) => detail(StatusCode::CONFLICT, message),
            Self::PayloadTooLarge(message) => detail(StatusCode::PAYLOAD_TOO_LARGE, message),
            Self::TooManyRequests(message) => detail(StatusCode::TOO_MANY_REQUESTS, message),
            Self::Internal(message) => {
                tracing::error!(error = %message, "request failed");
                let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                response.extensions_mut().insert(InternalDetail(message));
                response
            }
        }
    }
}

/// Middleware that writes the `{message, detail, path}` body of 500 responses,
/// which only the middleware can fill in because it has the request path.
pub async fn internal_error_path(request: Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let detail = match response.extensions().get::<InternalDetail>() {
        Some(InternalDetail(detail)) => detail.clone(),
        None => return response,
    };
    let body = InternalError {
        message: "Internal server error".into(),
        detail: detail.chars().take(1000).collect(),
        path,
    };
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

/// Builds the 500 response for a panic inside a handler.
pub fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into());
    ApiError::Internal(format!("handler panicked: {message}")).into_response()
}

/// Largest accepted request body in bytes, attached to each request so that
/// the 413 response can state it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// JSON body extractor with the contract's errors.
///
/// A body over the limit gets a 413. A wrong content type, malformed JSON, a
/// body that is not an object, a missing field or a value of the wrong type
/// gets a 422 with the location of the problem.
pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        check_content_type(request.headers())?;
        let limit = request.extensions().get::<BodyLimit>().map(|limit| limit.0);
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                let limit = limit.map(|bytes| format!(" of {} MiB", bytes / (1024 * 1024))).unwrap_or_default();
                ApiError::PayloadTooLarge(format!(
                    "request body is larger than the server's limit{limit}; send smaller inputs or raise body_limit_mb in config.toml"
                ))
            } else {
                ApiError::BadRequest(format!("could not read the request body: {rejection}"))
            }
        })?;
        parse_body(&bytes).map(ValidJson)
    }
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime == "application/json" || mime.ends_with("+json") {
        return Ok(());
    }
    let shown = if content_type.is_empty() {
        "missing"
    } else {
        content_type
    };
    Err(ApiError::Validation(vec![ValidationError::new(
        vec!["body".into()],
        format!("Content-Type is {shown}; send the body as a JSON object with Content-Type: application/json"),
        "model_attributes_type",
    )]))
}

/// Parses a JSON body into `T`, reporting the first problem with its location.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| {
        ApiError::Validation(vec![ValidationError::new(
            vec!["body".into(), Location::Index(error.column() as i64)],
            format!(
                "JSON decode error at line {} column {}: {error}",
                error.line(),
                error.column()
            ),
            "json_invalid",
        )])
    })?;
    if !value.is_object() {
        return Err(ApiError::Validation(vec![ValidationError::new(
            vec!["body".into()],
            format!(
                "Input should be a valid dictionary or object, not {}",
                json_kind(&value)
            ),
            "model_attributes_type",
        )]));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let mut loc: Vec<Location> = vec!["body".into()];
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Map { key } => loc.push(Location::Field(key.clone())),
                serde_path_to_error::Segment::Seq { index } => loc.push(Location::Index(*index as i64)),
                serde_path_to_error::Segment::Enum { variant } => loc.push(Location::Field(variant.clone())),
                serde_path_to_error::Segment::Unknown => {}
            }
        }
        ApiError::Validation(vec![serde_error(loc, &error.into_inner().to_string())])
    })
}

/// Classifies a serde error message the way the contract's `type` field does.
fn serde_error(mut loc: Vec<Location>, message: &str) -> ValidationError {
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        loc.push(Location::Field(field.to_owned()));
        return ValidationError::new(loc, format!("Field required: add `{field}` to the request"), "missing");
    }
    let kind = if message.starts_with("invalid type") {
        "type_error"
    } else if message.starts_with("unknown variant") {
        "enum"
    } else {
        "value_error"
    };
    let field = loc
        .last()
        .and_then(|part| match part {
            Location::Field(name) => Some(name.as_str()),
            Location::Index(_) => None,
        })
        .unwrap_or("value");
    ValidationError::new(loc.clone(), plain_type_message(field, message), kind)
}

/// Rewrites serde's type messages (`invalid type: string "abc", expected i64`)
/// in words a client author reads without knowing Rust.
fn plain_type_message(field: &str, message: &str) -> String {
    let Some(rest) = message.strip_prefix("invalid type: ") else {
        return message.to_owned();
    };
    let Some((found, expected)) = rest.rsplit_once(", expected ") else {
        return message.to_owned();
    };
    let expected = match expected {
        "i64" | "i32" | "u32" | "u64" | "usize" => "a whole number",
        "f64" | "f32" => "a number",
        "a boolean" | "bool" => "true or false",
        "a string" => "a string",
        other => other,
    };
    let found = match found {
        text if text.starts_with("floating point") && expected == "a whole number" => {
            format!("{text} (out of range or not whole)")
        }
        text => text.to_owned(),
    };
    format!("{field} must be {expected}, but the request has {found}")
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_read_without_rust() {
        assert_eq!(
            plain_type_message("width", "invalid type: string \"abc\", expected i64"),
            "width must be a whole number, but the request has string \"abc\""
        );
        assert_eq!(
            plain_type_message("seed", "invalid type: floating point `1e20`, expected i64"),
            "seed must be a whole number, but the request has floating point `1e20` (out of range or not whole)"
        );
        assert_eq!(plain_type_message("x", "unknown field"), "unknown field");
    }
    use protocol::images::ImageRequest;

    fn errors(body: &str) -> Vec<ValidationError> {
        match parse_body::<ImageRequest>(body.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn empty_object_reports_missing_model() {
        let errors = errors("{}");
        assert_eq!(errors[0].loc, vec![Location::from("body"), Location::from("model")]);
        assert_eq!(errors[0].kind, "missing");
    }

    #[test]
    fn wrong_type_reports_field_path() {
        let errors = errors(r#"{"model": "sd-xl", "references": [{"image": 5}]}"#);
        assert_eq!(
            errors[0].loc,
            vec![
                Location::from("body"),
                Location::from("references"),
                Location::Index(0),
                Location::from("image")
            ]
        );
        assert_eq!(errors[0].kind, "type_error");
    }

    #[test]
    fn array_and_malformed_bodies_are_rejected() {
        assert_eq!(errors("[]")[0].kind, "model_attributes_type");
        assert_eq!(errors("{\"model\":")[0].kind, "json_invalid");
    }
}
