//! Which browser origins may reach the Socket.IO endpoint, and the check of
//! a request's `Origin` header against them.
//!
//! CORS only protects what a browser reads with fetch/XHR; a WebSocket
//! handshake is sent cross-site with the user's cookies, so the server must
//! refuse foreign origins itself (cross-site WebSocket hijacking). One list
//! serves both: the component's CORS headers and this check.

use http::{HeaderMap, header};

/// Which origins may call the Socket.IO endpoint from a browser.
///
/// Requests without an `Origin` header (non-browser clients) are never
/// refused: the check protects browsers' users, it does not authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Only the server's own origin (the `Origin` names the same host and
    /// port as the `Host` header); for CORS: no cross-origin access, no
    /// CORS headers are sent.
    SameOrigin,
    /// Exactly these origins, e.g. `https://app.example.com`, and the
    /// server's own.
    List(Vec<String>),
    /// Any origin: no check (development). For the component's CORS,
    /// together with credentials this is refused unless its
    /// `allow_any_origin_with_credentials_in_development` switch is set.
    Any,
}

impl CorsOrigins {
    /// Whether a request with these headers may reach Socket.IO: no
    /// `Origin` (not a browser), an allowed origin, or the server's own.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        match self {
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

    /// Checks that every listed origin can be compared and sent in a header.
    ///
    /// # Errors
    ///
    /// The first entry that is empty, `*`, or holds a character a header
    /// value cannot carry (or a comma), described.
    pub fn check(&self) -> Result<(), String> {
        let CorsOrigins::List(list) = self else {
            return Ok(());
        };
        match list
            .iter()
            .find(|o| o.is_empty() || *o == "*" || header_text_invalid(o))
        {
            Some(bad) => Err(format!(
                "{bad:?} is not an origin such as \"https://app.example.com\""
            )),
            None => Ok(()),
        }
    }
}

/// Whether `value` cannot be one item of a header value: control
/// characters, spaces, DEL, or a comma (the list separator).
fn header_text_invalid(value: &str) -> bool {
    value.bytes().any(|b| b < 0x21 || b == 0x7f || b == b',')
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
    use http::HeaderValue;

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
        assert!(CorsOrigins::SameOrigin.allows(&headers(None, "a:1")));
    }

    #[test]
    fn same_origin_is_allowed_foreign_origin_refused() {
        let p = CorsOrigins::SameOrigin;
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
        let listed = CorsOrigins::List(vec!["https://app.example".into()]);
        assert!(listed.allows(&headers(Some("https://app.example"), "api.example")));
        assert!(!listed.allows(&headers(Some("https://evil.example"), "api.example")));
        assert!(CorsOrigins::Any.allows(&headers(Some("https://x.example"), "api")));
    }

    #[test]
    fn unusable_entries_are_refused() {
        for bad in ["", "*", "https://a.example, https://b.example", "a b"] {
            assert!(
                CorsOrigins::List(vec![bad.into()]).check().is_err(),
                "{bad:?}"
            );
        }
        assert!(
            CorsOrigins::List(vec!["https://a.example".into()])
                .check()
                .is_ok()
        );
    }
}
