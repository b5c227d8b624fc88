//! One builder for both layers: the connection settings are the same setters
//! whether they end in a [`SocketClient`](crate::SocketClient)
//! ([`ClientBuilder`]) or a [`SocketIOClientHelper`](crate::SocketIOClientHelper)
//! ([`SocketIOClientHelperBuilder`](crate::SocketIOClientHelperBuilder), which
//! adds the helper's options).

use std::time::Duration;

use serde_json::Value;

use crate::{ClientConfig, ReconnectConfig};

/// Builds a client: the connection settings, plus `O`, the options of what
/// is built (`()` for a bare [`SocketClient`](crate::SocketClient), the
/// helper's options for [`SocketIOClientHelperBuilder`](crate::SocketIOClientHelperBuilder)).
#[derive(Debug, Clone)]
pub struct ClientBuilder<O = ()> {
    pub(crate) config: ClientConfig,
    pub(crate) options: O,
}

impl<O> ClientBuilder<O> {
    pub(crate) fn with(config: ClientConfig, options: O) -> Self {
        ClientBuilder { config, options }
    }

    /// Server URL, e.g. `http://127.0.0.1:3000`: `http://`, `https://`,
    /// `ws://` or `wss://` (the path part is ignored; see [`path`](Self::path)).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.config.url = url.into();
        self
    }

    /// Socket.IO path on the server (default `/socket.io`; Ignis servers often use `/io`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.path = path.into();
        self
    }

    /// Namespace (default `/`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.config.namespace = namespace.into();
        self
    }

    /// Adds an HTTP header to the WebSocket handshake (socket.io-client's
    /// `extraHeaders`), e.g. `authorization`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a query parameter to the handshake.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.query.push((name.into(), value.into()));
        self
    }

    /// The handshake `auth` payload (e.g. `{"token": "..."}`).
    pub fn auth(mut self, auth: Value) -> Self {
        self.config.auth = Some(auth);
        self
    }

    /// Reconnection policy (default: on, 1 s doubling to 5 s, ±50 % jitter, no limit).
    pub fn reconnection(mut self, reconnection: ReconnectConfig) -> Self {
        self.config.reconnection = reconnection;
        self
    }

    /// Longest time one connection attempt may take (default 20 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Trusts an extra root certificate (PEM) for `wss://` servers with a
    /// private CA (feature `rustls`).
    pub fn tls_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.config.tls_root_certificates_pem.push(pem.into());
        self
    }

    /// Offers WebSocket compression (RFC 7692 permessage-deflate) in the
    /// upgrade (default `true`, like browsers and Node's socket.io-client).
    /// Whether it is used is the server's choice: when it agrees, messages
    /// of [`DEFLATE_THRESHOLD`](crate::DEFLATE_THRESHOLD) bytes or more go
    /// compressed, and the server's compressed messages are inflated up to
    /// [`MAX_MESSAGE_SIZE`](crate::MAX_MESSAGE_SIZE) bytes (past it the
    /// connection is closed with 1009). `false` sends no offer: every
    /// message goes as it is, and a server answering with an extension
    /// anyway is refused.
    pub fn per_message_deflate(mut self, enabled: bool) -> Self {
        self.config.per_message_deflate = enabled;
        self
    }

    /// Replaces every connection setting at once.
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }
}
