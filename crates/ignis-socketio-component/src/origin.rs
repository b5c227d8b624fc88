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

    /// A request from `origin` to `chat.example`.
    fn from(origin: &'static str) -> HeaderMap {
        [
            (header::HOST, HeaderValue::from_static("chat.example")),
            (header::ORIGIN, HeaderValue::from_static(origin)),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn the_helper_s_check_applies_unless_switched_off() {
        let enforced = OriginPolicy {
            enforce: true,
            origins: CorsOrigins::SameOrigin,
        };
        assert!(enforced.allows(&from("http://chat.example")));
        assert!(!enforced.allows(&from("http://evil.example")));
        let off = OriginPolicy {
            enforce: false,
            ..enforced
        };
        assert!(off.allows(&from("http://evil.example")));
    }
}
