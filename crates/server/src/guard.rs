//! Checks on every request: allowed `Host` and `Origin`, and the access log.
//!
//! A server on 127.0.0.1 is still reachable from web pages in the user's
//! browser, through DNS rebinding (a hostile name resolving to 127.0.0.1) or
//! plain cross-site POSTs. Rejecting unknown `Host` names and foreign
//! `Origin`s closes both.

use std::collections::HashSet;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::error::ApiError;

/// Host names accepted in the `Host` header.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    any: bool,
    names: HashSet<String>,
    origins: HashSet<String>,
}

impl HostPolicy {
    pub fn new(bind_host: &str, allowed_hosts: &[String], cors_origins: &[String]) -> Self {
        let mut names: HashSet<String> = ["localhost", "127.0.0.1", "[::1]", "::1"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let bind_host = bind_host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if bind_host != "0.0.0.0" && bind_host != "::" {
            names.insert(bind_host.clone());
            names.insert(format!("[{bind_host}]"));
        }
        names.extend(allowed_hosts.iter().map(|name| name.to_ascii_lowercase()));
        let origins = cors_origins
            .iter()
            .map(|origin| origin.trim_end_matches('/').to_ascii_lowercase())
            .collect();
        Self {
            any: allowed_hosts.iter().any(|name| name == "*"),
            names,
            origins,
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.any || self.names.contains(&strip_port(host).to_ascii_lowercase())
    }

    fn origin_allowed(&self, origin: &str, host: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        let same_origin = origin
            .split_once("://")
            .map(|(_, authority)| authority == host.to_ascii_lowercase())
            .unwrap_or(false);
        same_origin || self.origins.contains(&origin)
    }
}

/// Removes a `:port` suffix, keeping IPv6 brackets.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split(']')
            .next()
            .map(|inner| &host[..inner.len() + 1])
            .unwrap_or(host);
    }
    host.rsplit_once(':').map(|(name, _)| name).unwrap_or(host)
}

/// Middleware that rejects unknown hosts and origins, then logs the request.
pub async fn guard_and_log(State(policy): State<HostPolicy>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();

    let rejection = if !policy.host_allowed(&host) {
        Some(format!(
            "Host {host:?} is not allowed; add it to allowed_hosts in config.toml to reach this server by that name"
        ))
    } else if let Some(origin) = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
    {
        (!policy.origin_allowed(origin, &host)).then(|| {
            format!("Origin {origin:?} is not allowed; add it to cors_origins in config.toml to call this API from that page")
        })
    } else {
        None
    };
    let response = match rejection {
        Some(message) => ApiError::Forbidden(message).into_response(),
        None => next.run(request).await,
    };

    let caller = response.extensions().get::<Caller>();
    let key_name = caller.and_then(|c| c.0.key_name.as_deref()).unwrap_or("-");
    let user = caller.map(|c| c.0.user_id.as_str()).unwrap_or("-");
    tracing::info!(
        target: "ddiffusion::access",
        %method,
        path = %truncate(&path, 200),
        status = response.status().as_u16(),
        latency_ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
        key = key_name,
        user,
    );
    response
}

/// Cuts a string to `max` characters, marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_pass_and_others_fail() {
        let policy = HostPolicy::new("127.0.0.1", &[], &[]);
        assert!(policy.host_allowed("127.0.0.1:5000"));
        assert!(policy.host_allowed("localhost:5000"));
        assert!(policy.host_allowed("[::1]:5000"));
        assert!(!policy.host_allowed("attacker.example:5000"));
        assert!(!policy.host_allowed("127.0.0.1.attacker.example"));
    }

    #[test]
    fn configured_names_and_wildcard_pass() {
        assert!(HostPolicy::new("0.0.0.0", &["gpu-box".into()], &[]).host_allowed("GPU-box:5000"));
        assert!(HostPolicy::new("0.0.0.0", &["*".into()], &[]).host_allowed("anything:1"));
        assert!(!HostPolicy::new("0.0.0.0", &[], &[]).host_allowed("0.0.0.0:5000"));
    }

    #[test]
    fn origin_must_match_host_or_list() {
        let policy = HostPolicy::new("127.0.0.1", &[], &["http://tools:8080".into()]);
        assert!(policy.origin_allowed("http://127.0.0.1:5000", "127.0.0.1:5000"));
        assert!(policy.origin_allowed("http://tools:8080/", "127.0.0.1:5000"));
        assert!(!policy.origin_allowed("https://evil.example", "127.0.0.1:5000"));
    }
}
