//! Connection settings and the WebSocket request they turn into.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use url::Url;

use crate::error::{TlsError, UrlError};
use crate::{ClientError, ReconnectConfig};

/// Where the WebSocket goes: what [`ClientConfig::target`] resolves.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Host name or address (IPv6 without brackets), to connect and to name for TLS.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `wss://`: TLS over the TCP connection (refused earlier without the `rustls` feature).
    #[cfg_attr(not(feature = "rustls"), allow(dead_code))]
    pub(crate) tls: bool,
    /// The `Host` header: the host with the port when the URL gave one.
    pub(crate) authority: String,
    /// `/<path>/?EIO=4&transport=websocket&...`
    pub(crate) path_and_query: String,
    /// The user's extra headers.
    pub(crate) headers: HeaderMap,
    /// Offer permessage-deflate in the upgrade.
    pub(crate) per_message_deflate: bool,
}

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
    /// Offer WebSocket compression (RFC 7692 permessage-deflate) in the
    /// upgrade, as browsers and Node's socket.io-client do (default `true`).
    /// When the server agrees, messages of
    /// [`DEFLATE_THRESHOLD`](crate::DEFLATE_THRESHOLD) bytes or more are sent
    /// compressed and compressed messages from the server are inflated, up
    /// to [`MAX_MESSAGE_SIZE`](crate::MAX_MESSAGE_SIZE) bytes.
    pub per_message_deflate: bool,
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
            per_message_deflate: true,
        }
    }

    /// The WebSocket URL of the Engine.IO endpoint.
    pub fn websocket_url(&self) -> Result<Url, ClientError> {
        let invalid = |reason: UrlError| ClientError::InvalidUrl {
            url: self.url.clone(),
            reason,
        };
        let mut url = Url::parse(&self.url).map_err(|e| invalid(e.into()))?;
        let scheme = match url.scheme() {
            "http" | "ws" => "ws",
            "https" | "wss" => "wss",
            other => return Err(invalid(UrlError::Scheme(other.to_owned()))),
        };
        if scheme == "wss" && !cfg!(feature = "rustls") {
            return Err(ClientError::Tls(TlsError::Disabled(self.url.clone())));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid(UrlError::NoHost));
        }
        // `http` to `ws` and `https` to `wss` stay special schemes: no failure.
        let _ = url.set_scheme(scheme);
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

    /// The namespace, checked.
    pub(crate) fn checked_namespace(&self) -> Result<&str, ClientError> {
        if self.namespace.starts_with('/') {
            Ok(&self.namespace)
        } else {
            Err(ClientError::InvalidUrl {
                url: self.namespace.clone(),
                reason: UrlError::Namespace,
            })
        }
    }

    /// Where to connect and what to ask for, headers included.
    pub(crate) fn target(&self) -> Result<Target, ClientError> {
        let url = self.websocket_url()?;
        let no_host = || ClientError::InvalidUrl {
            url: self.url.clone(),
            reason: UrlError::NoHost,
        };
        let host_str = url.host_str().ok_or_else(no_host)?;
        let port = url.port_or_known_default().ok_or_else(no_host)?;
        let authority = match url.port() {
            Some(port) => format!("{host_str}:{port}"),
            None => host_str.to_owned(),
        };
        let host = host_str.trim_start_matches('[').trim_end_matches(']');
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let invalid = |source: http::Error| ClientError::InvalidHeader {
                name: name.clone(),
                source: Arc::new(source),
            };
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| invalid(e.into()))?;
            let value = HeaderValue::from_str(value).map_err(|e| invalid(e.into()))?;
            headers.append(name, value);
        }
        Ok(Target {
            host: host.to_owned(),
            port,
            tls: url.scheme() == "wss",
            authority,
            path_and_query: format!("{}?{}", url.path(), url.query().unwrap_or_default()),
            headers,
            per_message_deflate: self.per_message_deflate,
        })
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
        assert!(matches!(c.target(), Err(ClientError::InvalidHeader { .. })));
        c.headers = vec![("authorization".into(), "Bearer t".into())];
        let target = c.target().unwrap();
        assert_eq!(target.headers["authorization"], "Bearer t");
        assert_eq!((target.host.as_str(), target.port), ("127.0.0.1", 1));
        assert_eq!(target.authority, "127.0.0.1:1");
        assert_eq!(
            target.path_and_query,
            "/socket.io/?EIO=4&transport=websocket"
        );
        let v6 = ClientConfig::new("http://[::1]").target().unwrap();
        assert_eq!(
            (v6.host.as_str(), v6.port, v6.authority.as_str()),
            ("::1", 80, "[::1]")
        );
        let mut ns = ClientConfig::new("http://h");
        ns.namespace = "admin".into();
        assert!(ns.checked_namespace().is_err());
    }
}
