//! The `Origin` check of Socket.IO requests. CORS only protects what a
//! browser reads with fetch/XHR; a WebSocket handshake is sent cross-site
//! with the user's cookies, so the server must refuse foreign origins itself.

use axum::http::{HeaderMap, header};

use crate::options::{CorsOrigins, ResolvedCors};

/// Which origins may reach the Socket.IO endpoint.
#[derive(Debug, Clone)]
pub(crate) struct OriginPolicy {
    enforce: bool,
    origins: CorsOrigins,
}

impl OriginPolicy {
    pub(crate) fn new(cors: &ResolvedCors) -> Self {
        OriginPolicy {
            enforce: cors.enforce_origin,
            origins: cors.origins.clone(),
        }
    }

    /// Whether a request with these headers may reach Socket.IO: no
    /// `Origin` (not a browser), an allowed origin, or the server's own.
    pub(crate) fn allows(&self, headers: &HeaderMap) -> bool {
        if !self.enforce {
            return true;
        }
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        match &self.origins {
            CorsOrigins::Any => return true,
            CorsOrigins::List(list) if list.iter().any(|allowed| allowed == origin) => {
                return true;
            }
            CorsOrigins::List(_) | CorsOrigins::SameOrigin => {}
        }
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok());
        host.is_some_and(|host| same_authority(origin, host))
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the same host and port
/// as the `Host` header (`host[:port]`), default ports included.
fn same_authority(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => "80",
        "https" | "wss" => "443",
        _ => return false,
    };
    let normalize = |authority: &str| -> String {
        let authority = authority.to_ascii_lowercase();
        // `[::1]:3000` keeps its brackets; a port follows the last ':' after them.
        let has_port = match authority.rfind(']') {
            Some(end) => authority[end..].contains(':'),
            None => authority.contains(':'),
        };
        if has_port {
            authority
        } else {
            format!("{authority}:{default_port}")
        }
    };
    normalize(authority) == normalize(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn policy(origins: CorsOrigins, enforce: bool) -> OriginPolicy {
        OriginPolicy { enforce, origins }
    }

    fn headers(origin: Option<&'static str>, host: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static(host));
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_static(origin));
        }
        headers
    }

    #[test]
    fn requests_without_origin_are_allowed() {
        assert!(policy(CorsOrigins::SameOrigin, true).allows(&headers(None, "a:1")));
    }

    #[test]
    fn same_origin_is_allowed_foreign_origin_refused() {
        let p = policy(CorsOrigins::SameOrigin, true);
        assert!(p.allows(&headers(
            Some("http://chat.example:3000"),
            "chat.example:3000"
        )));
        assert!(p.allows(&headers(Some("https://chat.example"), "chat.example")));
        assert!(p.allows(&headers(Some("http://chat.example"), "chat.example:80")));
        assert!(p.allows(&headers(Some("http://[::1]:3000"), "[::1]:3000")));
        assert!(!p.allows(&headers(Some("http://evil.example"), "chat.example")));
        assert!(!p.allows(&headers(
            Some("http://chat.example:4000"),
            "chat.example:3000"
        )));
        assert!(!p.allows(&headers(Some("null"), "chat.example")));
    }

    #[test]
    fn listed_origins_and_any_are_allowed() {
        let listed = policy(CorsOrigins::List(vec!["https://app.example".into()]), true);
        assert!(listed.allows(&headers(Some("https://app.example"), "api.example")));
        assert!(!listed.allows(&headers(Some("https://evil.example"), "api.example")));
        assert!(policy(CorsOrigins::Any, true).allows(&headers(Some("https://x.example"), "api")));
    }

    #[test]
    fn enforcement_can_be_switched_off() {
        let p = policy(CorsOrigins::SameOrigin, false);
        assert!(p.allows(&headers(Some("http://evil.example"), "chat.example")));
    }
}
