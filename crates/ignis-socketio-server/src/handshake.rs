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
    headers: HeaderMap,
    /// Kept as received (its bytes are shared, not copied); the decoded
    /// query and the URL text are made on first use, since most handshakes
    /// are never asked for them and they cost half a KiB per connection.
    uri: http::Uri,
    query: OnceLock<HashMap<String, String>>,
    url: OnceLock<String>,
    auth: Value,
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
        let address = peer_address(parts);
        let secure = HandshakeSource::is_secure(parts);
        Handshake {
            inner: Arc::new(HandshakeData {
                headers: parts.headers.clone(),
                uri: parts.uri.clone(),
                query: OnceLock::new(),
                url: OnceLock::new(),
                // Socket.IO hands `{}` to the server when the client sent no auth.
                auth: match auth {
                    None | Some(Value::Null) => Value::Object(Default::default()),
                    Some(v) => v,
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
        &self.inner.headers
    }

    /// One header as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The decoded query string (including the Engine.IO parameters `EIO` and `transport`).
    pub fn query(&self) -> &HashMap<String, String> {
        self.inner
            .query
            .get_or_init(|| decode_query(&self.inner.uri).collect())
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
        self.inner.url.get_or_init(|| self.inner.uri.to_string())
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
        HandshakeSource {
            headers: &self.inner.headers,
            uri: &self.inner.uri,
            address: self.inner.address,
            secure: self.inner.secure,
            issued: self.inner.issued,
            auth: &self.inner.auth,
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
