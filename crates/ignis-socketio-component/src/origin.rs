//! The `Origin` check of Socket.IO requests, on the CORS allow-list: the
//! server helper's check ([`CorsOrigins::allows`]), switched by the
//! component's `cors.enforce_origin`. CORS only protects what a browser
//! reads with fetch/XHR; a WebSocket handshake is sent cross-site with the
//! user's cookies, so the server must refuse foreign origins itself.

use axum::http::HeaderMap;

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
        self.origins.allows(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, header};

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
    fn enforced_the_helper_s_check_applies() {
        let p = policy(CorsOrigins::SameOrigin, true);
        assert!(p.allows(&headers(Some("http://chat.example"), "chat.example")));
        assert!(!p.allows(&headers(Some("http://evil.example"), "chat.example")));
        assert!(p.allows(&headers(None, "chat.example")));
    }

    #[test]
    fn enforcement_can_be_switched_off() {
        let p = policy(CorsOrigins::SameOrigin, false);
        assert!(p.allows(&headers(Some("http://evil.example"), "chat.example")));
    }
}
