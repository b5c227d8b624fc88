//! Node's `socket.handshake` for the request that opened a connection: the
//! one builder the server helper and the Redis adapter (`fetchSockets`
//! answers) share, so that a Node server of the same cluster sees the same
//! object whichever crate made it.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ConnectInfo;
use http::{HeaderMap, Uri};
use serde_json::{Map, Value};

/// What Node's handshake is made of.
#[derive(Debug, Clone, Copy)]
pub struct HandshakeSource<'a> {
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// The request target.
    pub uri: &'a Uri,
    /// The peer, when the host server records it ([`ConnectInfo`]).
    pub address: Option<SocketAddr>,
    /// Whether the connection is secure (see [`HandshakeSource::is_secure`]).
    pub secure: bool,
    /// When the connection was opened.
    pub issued: SystemTime,
    /// The CONNECT packet's auth object (`{}` when none).
    pub auth: &'a Value,
}

impl<'a> HandshakeSource<'a> {
    /// The source for `parts`, issued now: the peer from [`ConnectInfo`],
    /// secure per [`is_secure`](Self::is_secure).
    pub fn from_parts(parts: &'a http::request::Parts, auth: &'a Value) -> Self {
        HandshakeSource {
            headers: &parts.headers,
            uri: &parts.uri,
            address: peer_address(parts),
            secure: HandshakeSource::is_secure(parts),
            issued: SystemTime::now(),
            auth,
        }
    }

    /// Whether the request came over TLS: an `https` URI, or a proxy's
    /// `X-Forwarded-Proto: https`.
    pub fn is_secure(parts: &http::request::Parts) -> bool {
        parts.uri.scheme_str() == Some("https")
            || parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"))
    }

    /// Node's `socket.handshake` as JSON:
    ///
    /// - `headers`: lowercase names; repeated headers joined with `, `
    ///   (`; ` for `cookie`), `set-cookie` an array, as Node's `req.headers`;
    /// - `time`: JavaScript's `Date` string, in UTC;
    /// - `address`: the peer IP (`""` when unknown);
    /// - `xdomain`: whether the request had an `Origin` header;
    /// - `secure`, `issued` (milliseconds since the epoch), `url` (the request target);
    /// - `query`: percent-decoded strings; a repeated key keeps its last
    ///   value, as Node reports it;
    /// - `auth`.
    pub fn to_node_json(&self) -> Value {
        let mut headers = Map::new();
        for name in self.headers.keys() {
            let values: Vec<String> = self
                .headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            let value = match name.as_str() {
                "set-cookie" => Value::from(values),
                "cookie" => Value::from(values.join("; ")),
                _ => Value::from(values.join(", ")),
            };
            headers.insert(name.as_str().to_owned(), value);
        }
        // A repeated key keeps its last value, as Node 4.8 reports it.
        let raw = self.uri.query().unwrap_or_default();
        let query: Map<String, Value> = url::form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .map(|(key, value)| (key, Value::from(value)))
            .collect();
        let issued_millis = self
            .issued
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        serde_json::json!({
            "headers": headers,
            "time": js_date_string(self.issued),
            "address": self.address.map(|a| a.ip().to_string()).unwrap_or_default(),
            "xdomain": self.headers.contains_key(http::header::ORIGIN),
            "secure": self.secure,
            "issued": issued_millis,
            "url": self.uri.path_and_query().map_or("/", |p| p.as_str()),
            "query": query,
            "auth": self.auth,
        })
    }
}

/// The peer recorded by the host server ([`crate::serve`] records it).
pub fn peer_address(parts: &http::request::Parts) -> Option<SocketAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0)
}

/// `at` as JavaScript's `String(new Date())` prints it in UTC.
fn js_date_string(at: SystemTime) -> String {
    let seconds = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|dt| {
            dt.format(time::macros::format_description!(
                "[weekday repr:short] [month repr:short] [day] [year] [hour]:[minute]:[second]"
            ))
            .ok()
        })
        .map(|text| format!("{text} GMT+0000 (Coordinated Universal Time)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn js_date_string_matches_javascript() {
        // new Date(1795595465394).toString() with TZ=UTC
        let at = UNIX_EPOCH + std::time::Duration::from_millis(1_795_595_465_394);
        assert_eq!(
            js_date_string(at),
            "Wed Nov 25 2026 08:31:05 GMT+0000 (Coordinated Universal Time)"
        );
    }

    #[test]
    fn a_repeated_query_key_keeps_its_last_value_and_a_forwarded_proto_is_secure() {
        let (parts, ()) = http::Request::builder()
            .uri("/io/?a=1&a=2&a=3&b=x%2By+z")
            .header("x-forwarded-proto", "HTTPS")
            .body(())
            .unwrap()
            .into_parts();
        let auth = json!({});
        let node = HandshakeSource::from_parts(&parts, &auth).to_node_json();
        assert_eq!(node["query"], json!({"a": "3", "b": "x+y z"}));
        assert_eq!(node["secure"], true);
        assert_eq!(node["url"], "/io/?a=1&a=2&a=3&b=x%2By+z");
    }
}
