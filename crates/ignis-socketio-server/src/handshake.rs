//! The connection handshake handed to the authenticator.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use ignis_socketio_engine::io::{HandshakeSource, peer_address};
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
    /// The CONNECT packet's `auth` as JSON text (shared with the engine's
    /// socket); parsed into `auth_value` only when [`Handshake::auth`] is
    /// called, since a parsed object costs over half a KiB per connection.
    auth_text: Option<Arc<str>>,
    auth_value: OnceLock<Value>,
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
        Self::from_shared(
            Arc::new(parts.clone()),
            ignis_socketio_engine::io::auth_text(auth),
        )
    }

    /// Builds a handshake that shares the request head and the `auth` object
    /// (as JSON text) with the engine's socket instead of copying them.
    pub fn from_shared(parts: Arc<http::request::Parts>, auth_text: Option<Arc<str>>) -> Self {
        let address = peer_address(&parts);
        let secure = HandshakeSource::is_secure(&parts);
        Handshake {
            inner: Arc::new(HandshakeData {
                request: parts,
                query: OnceLock::new(),
                url: OnceLock::new(),
                auth_text,
                auth_value: OnceLock::new(),
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

    /// Gives back the connection's place under the caps on unauthenticated
    /// connections, if it holds one (once authenticated or gone).
    pub(crate) fn release_admission(&self) {
        crate::admission::release(&self.inner.request);
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
    ///
    /// Parsed on first use and then kept; [`auth_field`](Self::auth_field)
    /// reads one field without keeping the parsed object.
    pub fn auth(&self) -> &Value {
        self.inner
            .auth_value
            .get_or_init(|| self.parse_auth().unwrap_or_else(empty_object))
    }

    /// One field of the `auth` object, without keeping the parsed object
    /// (an authenticator that checks `auth.token` costs nothing per
    /// connection afterwards).
    pub fn auth_field(&self, name: &str) -> Option<Value> {
        match self.inner.auth_value.get() {
            Some(auth) => auth.get(name).cloned(),
            None => match self.parse_auth()? {
                Value::Object(mut fields) => fields.remove(name),
                _ => None,
            },
        }
    }

    /// The `auth` object parsed afresh (`None` when none was sent).
    fn parse_auth(&self) -> Option<Value> {
        let text = self.inner.auth_text.as_deref()?;
        serde_json::from_str(text).ok()
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
    /// sharing a cluster adapter expect it from `fetchSockets()` (built by
    /// the engine's [`HandshakeSource::to_node_json`], which the Redis
    /// adapter's `SocketDetails::from_request` uses too):
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
    /// - `query`: an object of decoded strings, a repeated key's last value
    ///   (the Engine.IO `EIO` and `transport` included);
    /// - `auth`: the CONNECT packet's auth object (`{}` when none).
    ///
    /// The `authenticate` event's credentials are not part of it.
    pub fn to_node_json(&self) -> Value {
        // Socket.IO hands `{}` to the server when the client sent no auth.
        let parsed;
        let auth = match self.inner.auth_value.get() {
            Some(auth) => auth,
            None => {
                parsed = self.parse_auth().unwrap_or_else(empty_object);
                &parsed
            }
        };
        HandshakeSource {
            headers: &self.inner.request.headers,
            uri: &self.inner.request.uri,
            address: self.inner.address,
            secure: self.inner.secure,
            issued: self.inner.issued,
            auth,
        }
        .to_node_json()
    }

    /// A bearer token, looked up in order in: the `authenticate` payload's
    /// `token` field, the `auth` object's `token` field, the `Authorization:
    /// Bearer ...` header. Query strings are not searched (they end up in logs).
    pub fn bearer_token(&self) -> Option<&str> {
        let from_credentials = self
            .credentials()
            .and_then(|c| c.get("token"))
            .and_then(Value::as_str);
        let from_auth = || self.auth().get("token").and_then(Value::as_str);
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

fn empty_object() -> Value {
    Value::Object(Default::default())
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
    fn auth_fields_read_alike_before_and_after_the_object_is_parsed() {
        let hs = handshake("/io/", None, Some(json!({"token": "t", "n": 2})));
        assert_eq!(hs.auth_field("token"), Some(json!("t")));
        assert_eq!(hs.auth_field("missing"), None);
        assert_eq!(hs.to_node_json()["auth"], json!({"token": "t", "n": 2}));
        assert_eq!(hs.auth(), &json!({"token": "t", "n": 2}));
        assert_eq!(hs.auth_field("n"), Some(json!(2)));
        let none = handshake("/io/", None, None);
        assert_eq!(none.auth_field("token"), None);
        assert_eq!(none.to_node_json()["auth"], json!({}));
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
    fn node_json_without_origin_or_auth() {
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
