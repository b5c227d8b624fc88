//! Connection settings and the WebSocket request they turn into.

use std::time::Duration;

use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use url::Url;

use crate::{ClientError, ReconnectConfig};

/// Everything the client needs to reach a server.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Server URL: `http://`, `https://`, `ws://` or `wss://` (the path part is ignored; see `path`).
    pub url: String,
    /// Socket.IO path on the server (socket.io's default: `/socket.io`).
    pub path: String,
    /// Namespace to connect to (default `/`).
    pub namespace: String,
    /// Extra HTTP headers sent with the WebSocket handshake (e.g. `authorization`).
    pub headers: Vec<(String, String)>,
    /// Extra query parameters of the handshake.
    pub query: Vec<(String, String)>,
    /// The Socket.IO `auth` payload sent with the namespace connect packet.
    pub auth: Option<Value>,
    /// Reconnection policy.
    pub reconnection: ReconnectConfig,
    /// Longest time one connection attempt may take, handshakes included (default 20 s).
    pub connect_timeout: Duration,
    /// Frames that may wait in the outgoing queue before `emit` says [`ClientError::QueueFull`].
    pub queue_capacity: usize,
    /// Extra trusted root certificates (PEM) for `wss://` servers with a
    /// private CA, besides the Mozilla roots. Needs the `rustls` feature.
    pub tls_root_certificates_pem: Vec<Vec<u8>>,
}

impl ClientConfig {
    /// Settings with socket.io-client's defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        ClientConfig {
            url: url.into(),
            path: "/socket.io".to_owned(),
            namespace: "/".to_owned(),
            headers: Vec::new(),
            query: Vec::new(),
            auth: None,
            reconnection: ReconnectConfig::default(),
            connect_timeout: Duration::from_secs(20),
            queue_capacity: 4096,
            tls_root_certificates_pem: Vec::new(),
        }
    }

    /// The WebSocket URL of the Engine.IO endpoint.
    pub fn websocket_url(&self) -> Result<Url, ClientError> {
        let invalid = |reason: String| ClientError::InvalidUrl {
            url: self.url.clone(),
            reason,
        };
        let mut url = Url::parse(&self.url).map_err(|e| invalid(e.to_string()))?;
        let scheme = match url.scheme() {
            "http" | "ws" => "ws",
            "https" | "wss" => "wss",
            other => return Err(invalid(format!("unsupported scheme {other:?}"))),
        };
        if scheme == "wss" && !cfg!(feature = "rustls") {
            return Err(ClientError::Tls(format!(
                "{} needs TLS: enable the `rustls` feature of ignis-socketio-client",
                self.url
            )));
        }
        url.set_scheme(scheme)
            .map_err(|()| invalid("cannot change scheme".to_owned()))?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("no host".to_owned()));
        }
        // Engine.IO servers match `<path>/`; socket.io-client appends the slash too.
        let path = format!("/{}/", self.path.trim_matches('/'));
        url.set_path(if path == "//" { "/" } else { &path });
        url.set_query(None);
        {
            let mut pairs = url.query_pairs_mut();
            pairs
                .append_pair("EIO", "4")
                .append_pair("transport", "websocket");
            for (k, v) in &self.query {
                pairs.append_pair(k, v);
            }
        }
        url.set_fragment(None);
        Ok(url)
    }

    /// The handshake request, headers included.
    pub(crate) fn request(&self) -> Result<Request, ClientError> {
        let url = self.websocket_url()?;
        let mut request =
            url.as_str()
                .into_client_request()
                .map_err(|e| ClientError::InvalidUrl {
                    url: self.url.clone(),
                    reason: e.to_string(),
                })?;
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ClientError::InvalidHeader(name.clone()))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| ClientError::InvalidHeader(name.to_string()))?;
            request.headers_mut().append(name, value);
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_gets_scheme_path_and_engine_query() {
        let mut c = ClientConfig::new("http://127.0.0.1:3000/ignored?x=1");
        c.path = "/io".into();
        c.query.push(("token".into(), "a b".into()));
        assert_eq!(
            c.websocket_url().unwrap().as_str(),
            "ws://127.0.0.1:3000/io/?EIO=4&transport=websocket&token=a+b"
        );
        c.url = "https://example.com".into();
        c.path = "socket.io/".into();
        if cfg!(feature = "rustls") {
            let url = c.websocket_url().unwrap();
            assert!(url.as_str().starts_with("wss://example.com/socket.io/?"));
        } else {
            assert!(matches!(c.websocket_url(), Err(ClientError::Tls(_))));
        }
    }

    #[test]
    fn bad_urls_and_headers_are_errors() {
        for bad in ["", "localhost:3000", "ftp://x", "http://"] {
            assert!(ClientConfig::new(bad).websocket_url().is_err(), "{bad}");
        }
        let mut c = ClientConfig::new("http://127.0.0.1:1");
        c.headers.push(("bad header".into(), "v".into()));
        assert!(matches!(c.request(), Err(ClientError::InvalidHeader(_))));
        c.headers = vec![("authorization".into(), "Bearer t".into())];
        assert_eq!(c.request().unwrap().headers()["authorization"], "Bearer t");
    }
}
