//! The connection handshake handed to the authenticator.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use serde_json::Value;

/// What a client presented when it connected: HTTP headers, query string, the
/// Socket.IO `auth` object, plus the optional credentials sent with the
/// `authenticate` event (BEYOND the reference). Cheap to clone.
///
/// Browsers cannot set headers on a WebSocket, so credentials may arrive in
/// [`auth`](Self::auth) as well as in headers; [`bearer_token`](Self::bearer_token)
/// looks in every usual place.
#[derive(Debug, Clone)]
pub struct Handshake {
    inner: Arc<HandshakeData>,
    credentials: Option<Arc<Value>>,
}

#[derive(Debug)]
struct HandshakeData {
    /// Shared with the engine's socket (its headers are not copied); the
    /// decoded query and the URL text are made on first use, since most
    /// handshakes are never asked for them and they cost half a KiB per
    /// connection.
    request: Arc<http::request::Parts>,
    query: OnceLock<HashMap<String, String>>,
    url: OnceLock<String>,
    auth: Arc<Value>,
    address: Option<SocketAddr>,
    secure: bool,
    issued: SystemTime,
}

fn decode_query(uri: &http::Uri) -> impl Iterator<Item = (String, String)> + '_ {
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned()
}

impl Handshake {
    /// Builds a handshake from the parts of the HTTP request that opened the
    /// connection and the `auth` object of the Socket.IO CONNECT packet.
    pub fn from_request_parts(parts: &http::request::Parts, auth: Option<Value>) -> Self {
        Self::from_shared(Arc::new(parts.clone()), auth.map(Arc::new))
    }

    /// Builds a handshake that shares the request head and the `auth` object
    /// with the engine's socket instead of copying them.
    pub fn from_shared(parts: Arc<http::request::Parts>, auth: Option<Arc<Value>>) -> Self {
        let address = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0);
        let secure = parts.uri.scheme_str() == Some("https")
            || parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"));
        Handshake {
            inner: Arc::new(HandshakeData {
                request: parts,
                query: OnceLock::new(),
                url: OnceLock::new(),
                // Socket.IO hands `{}` to the server when the client sent no auth.
                auth: match auth {
                    Some(v) if !v.is_null() => v,
                    _ => Arc::new(Value::Object(Default::default())),
                },
                address,
                secure,
                issued: SystemTime::now(),
            }),
            credentials: None,
        }
    }

    /// The same handshake carrying the payload of an `authenticate` event.
    pub(crate) fn with_credentials(&self, credentials: Option<Value>) -> Self {
        Handshake {
            inner: self.inner.clone(),
            credentials: credentials.map(Arc::new),
        }
    }

    /// The HTTP headers of the request that opened the connection.
    pub fn headers(&self) -> &HeaderMap {
        &self.inner.request.headers
    }

    /// One header as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner
            .request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
    }

    /// The decoded query string (including the Engine.IO parameters `EIO` and `transport`).
    pub fn query(&self) -> &HashMap<String, String> {
        self.inner
            .query
            .get_or_init(|| decode_query(&self.inner.request.uri).collect())
    }

    /// One query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query().get(name).map(String::as_str)
    }

    /// The Socket.IO `auth` object of the CONNECT packet (`{}` when none was sent).
    pub fn auth(&self) -> &Value {
        &self.inner.auth
    }

    /// The payload sent with the `authenticate` event, if any.
    pub fn credentials(&self) -> Option<&Value> {
        self.credentials.as_deref()
    }

    /// The peer address, when the host server records it
    /// (`Router::into_make_service_with_connect_info::<SocketAddr>()`).
    pub fn address(&self) -> Option<SocketAddr> {
        self.inner.address
    }

    /// Whether the connection came over TLS (directly or per `x-forwarded-proto`).
    pub fn secure(&self) -> bool {
        self.inner.secure
    }

    /// When the handshake was received.
    pub fn issued(&self) -> SystemTime {
        self.inner.issued
    }

    /// When the handshake was received, in milliseconds since the epoch (Socket.IO's `issued`).
    pub fn issued_millis(&self) -> u64 {
        self.inner
            .issued
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    /// When the handshake was received, as an ISO-8601 UTC timestamp.
    pub fn time(&self) -> String {
        ignis_socketio_protocol::format_timestamp(self.inner.issued)
    }

    /// The request URL (path and query).
    pub fn url(&self) -> &str {
        self.inner
            .url
            .get_or_init(|| self.inner.request.uri.to_string())
    }

    /// The handshake in the shape of Node's `socket.handshake`, as Node servers
    /// sharing a cluster adapter expect it from `fetchSockets()`:
    ///
    /// - `headers`: an object of lowercase header names; repeated headers are
    ///   joined with `, ` (`; ` for `cookie`), `set-cookie` is an array, as Node does;
    /// - `time`: JavaScript's `Date` string (`Wed Nov 25 2026 08:31:05 GMT+0000
    ///   (Coordinated Universal Time)`), always in UTC;
    /// - `address`: the peer IP (`""` when the host server does not record it);
    /// - `xdomain`: whether the request had an `origin` header;
    /// - `secure`: see [`secure`](Self::secure);
    /// - `issued`: milliseconds since the epoch (a number);
    /// - `url`: path and query of the request;
    /// - `query`: an object of strings (the Engine.IO `EIO` and `transport` included);
    /// - `auth`: the CONNECT packet's auth object (`{}` when none).
    ///
    /// The `authenticate` event's credentials are not part of it.
    pub fn to_node_json(&self) -> Value {
        let mut headers = serde_json::Map::new();
        for name in self.inner.request.headers.keys() {
            let values: Vec<String> = self
                .inner
                .request
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
        // Decoded here rather than through `query()`, which would keep the
        // decoded map for the socket's lifetime. A repeated key keeps its
        // last value, as in `query()`.
        let query: serde_json::Map<String, Value> = decode_query(&self.inner.request.uri)
            .map(|(k, v)| (k, Value::from(v)))
            .collect();
        serde_json::json!({
            "headers": headers,
            "time": js_date_string(self.inner.issued),
            "address": self.inner.address.map(|a| a.ip().to_string()).unwrap_or_default(),
            "xdomain": self.inner.request.headers.contains_key(http::header::ORIGIN),
            "secure": self.inner.secure,
            "issued": self.issued_millis(),
            "url": self.inner.request.uri.to_string(),
            "query": query,
            "auth": &*self.inner.auth,
        })
    }

    /// A bearer token, looked up in order in: the `authenticate` payload's
    /// `token` field, the `auth` object's `token` field, the `Authorization:
    /// Bearer ...` header. Query strings are not searched (they end up in logs).
    pub fn bearer_token(&self) -> Option<&str> {
        let from_credentials = self
            .credentials()
            .and_then(|c| c.get("token"))
            .and_then(Value::as_str);
        let from_auth = || self.inner.auth.get("token").and_then(Value::as_str);
        let from_header = || {
            self.header("authorization").and_then(|h| {
                let (scheme, token) = h.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
        };
        from_credentials
            .or_else(from_auth)
            .or_else(from_header)
            .filter(|t| !t.is_empty())
    }
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
    use super::*;
    use serde_json::json;

    fn handshake(uri: &str, authorization: Option<&str>, auth: Option<Value>) -> Handshake {
        let mut request = http::Request::builder().uri(uri);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let (parts, ()) = request.body(()).unwrap().into_parts();
        Handshake::from_request_parts(&parts, auth)
    }

    #[test]
    fn bearer_token_prefers_credentials_then_auth_then_header() {
        let hs = handshake(
            "/io/?token=q",
            Some("Bearer h"),
            Some(json!({"token": "a"})),
        );
        assert_eq!(
            hs.with_credentials(Some(json!({"token": "c"})))
                .bearer_token(),
            Some("c")
        );
        assert_eq!(hs.bearer_token(), Some("a"));
        let hs = handshake("/io/?token=q", Some("bearer  h "), None);
        assert_eq!(hs.bearer_token(), Some("h"));
        assert_eq!(hs.auth(), &json!({}), "no auth reads as {{}}");
        let hs = handshake("/io/?token=q", Some("Basic x"), Some(json!({"token": ""})));
        assert_eq!(
            hs.bearer_token(),
            None,
            "query strings and empty tokens are not used"
        );
        assert_eq!(hs.query_param("token"), Some("q"));
    }

    #[test]
    fn node_json_has_the_shape_of_node_handshakes() {
        let (parts, ()) = http::Request::builder()
            .uri("/io/?name=a%20b&EIO=4&transport=websocket")
            .header("X-Custom", "one")
            .header("x-custom", "two")
            .header("cookie", "a=1")
            .header("cookie", "b=2")
            .header("origin", "http://elsewhere")
            .body(())
            .unwrap()
            .into_parts();
        let hs = Handshake::from_request_parts(&parts, Some(json!({"token": "t"})));
        let node = hs.to_node_json();
        let keys: Vec<&str> = node
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "address", "auth", "headers", "issued", "query", "secure", "time", "url", "xdomain"
            ]
        );
        assert_eq!(node["headers"]["x-custom"], "one, two");
        assert_eq!(node["headers"]["cookie"], "a=1; b=2");
        assert_eq!(node["xdomain"], true, "an origin header means cross-domain");
        assert_eq!(node["secure"], false);
        assert_eq!(node["address"], "", "no connect info recorded");
        assert_eq!(node["issued"], json!(hs.issued_millis()));
        assert_eq!(node["url"], "/io/?name=a%20b&EIO=4&transport=websocket");
        assert_eq!(
            node["query"],
            json!({"name": "a b", "EIO": "4", "transport": "websocket"})
        );
        assert_eq!(node["auth"], json!({"token": "t"}));
        let time = node["time"].as_str().unwrap();
        assert!(
            time.ends_with(" GMT+0000 (Coordinated Universal Time)") && time.len() == 62,
            "{time}"
        );
    }

    #[test]
    fn js_date_string_matches_javascript() {
        // new Date(1795595465394).toString() with TZ=UTC
        let at = UNIX_EPOCH + std::time::Duration::from_millis(1_795_595_465_394);
        assert_eq!(
            js_date_string(at),
            "Wed Nov 25 2026 08:31:05 GMT+0000 (Coordinated Universal Time)"
        );
        let (parts, ()) = http::Request::builder()
            .uri("/io/")
            .body(())
            .unwrap()
            .into_parts();
        let node = Handshake::from_request_parts(&parts, None).to_node_json();
        assert_eq!(node["xdomain"], false);
        assert_eq!(node["auth"], json!({}));
    }

    #[test]
    fn query_is_decoded() {
        let hs = handshake("/io/?name=a%20b&EIO=4", None, None);
        assert_eq!(hs.query_param("name"), Some("a b"));
        assert_eq!(hs.query_param("EIO"), Some("4"));
        assert_eq!(hs.url(), "/io/?name=a%20b&EIO=4");
    }
}
