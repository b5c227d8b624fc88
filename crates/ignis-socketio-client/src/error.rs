//! The client's errors. Each failure keeps its cause as a source; causes that
//! are not `Clone` (I/O, JSON, HTTP) are shared behind an `Arc`, so that one
//! error can reach every `on_error` handler.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use ignis_socketio_engine::codec::CodecError;
use ignis_socketio_engine::ws::{UpgradeError, WsError};
use ignis_socketio_protocol::ClientState;

/// What went wrong in the client.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The operation needs a connected client (reference message kept).
    #[error("Invalid socket client state to emit")]
    NotConnected,
    /// `emit` was called with an empty topic (reference message kept).
    #[error("Topic is required to emit")]
    EmptyTopic,
    /// A subscription was asked for an empty event name.
    #[error("an event name is required to subscribe")]
    EmptyEvent,
    /// `subscribe_handler(.., ignore_duplicate: true)` found a handler already there.
    #[error("event {0:?} already has a handler")]
    AlreadySubscribed(String),
    /// `authenticate` needs the `unauthorized` state; the client is in another.
    #[error("cannot authenticate in state {0}")]
    NotUnauthorized(ClientState),
    /// The event name is reserved by Socket.IO (`connect`, `disconnect`, ...).
    #[error("\"{0}\" is a reserved event name")]
    ReservedEvent(String),
    /// The URL cannot be used to reach a Socket.IO server.
    #[error("invalid url {url:?}")]
    InvalidUrl {
        /// The URL (or namespace) as given.
        url: String,
        /// Why it was refused.
        #[source]
        reason: UrlError,
    },
    /// A header name or value is not valid HTTP.
    #[error("invalid header {name:?}")]
    InvalidHeader {
        /// The header name as given.
        name: String,
        /// What `http` found wrong with it.
        #[source]
        source: Arc<http::Error>,
    },
    /// The transport could not be established (TCP, TLS, WebSocket or Engine.IO handshake).
    #[error("connection failed: {0}")]
    ConnectFailed(#[source] TransportError),
    /// The server refused the Socket.IO connection (`CONNECT_ERROR`), e.g. a
    /// middleware said no; the server's message.
    #[error("connection refused by server: {0}")]
    ConnectRefused(String),
    /// TLS settings are unusable (bad root certificate, or `wss://` without the `rustls` feature).
    #[error("TLS settings: {0}")]
    Tls(#[source] TlsError),
    /// Connecting took longer than the connect timeout.
    #[error("connection timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// Reconnection stopped after this many failed attempts in a row (see [`crate::ReconnectConfig::max_attempts`]).
    #[error("reconnection gave up after {0} attempts")]
    ReconnectGaveUp(u32),
    /// The server sent something that is not Socket.IO.
    #[error("protocol error: {0}")]
    Protocol(#[source] ProtocolError),
    /// No acknowledgement arrived in time.
    #[error("no acknowledgement within {0:?}")]
    AckTimeout(Duration),
    /// The connection closed before the acknowledgement arrived.
    #[error("disconnected before the acknowledgement arrived")]
    Disconnected,
    /// The outgoing queue is full: the connection does not keep up.
    #[error("outgoing queue is full")]
    QueueFull,
    /// Data could not be turned into JSON.
    #[error("cannot serialize payload")]
    Serialize(#[source] Arc<serde_json::Error>),
    /// Received data does not have the expected type.
    #[error("cannot deserialize payload")]
    Deserialize(#[source] Arc<serde_json::Error>),
    /// The authentication answer did not arrive within the client-side auth timeout.
    #[error("no authentication answer within {0:?}")]
    AuthTimeout(Duration),
    /// The client was shut down and cannot be used any more.
    #[error("client is shut down")]
    Shutdown,
    /// No tokio runtime is running on this thread.
    #[error("a tokio runtime is required")]
    NoRuntime,
    /// The builder is missing a required setting.
    #[error("missing option: {0}")]
    MissingOption(&'static str),
}

/// Why a URL or namespace cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL does not parse.
    #[error("not a URL")]
    Parse(#[from] url::ParseError),
    /// The scheme is none of `http`, `https`, `ws`, `wss`.
    #[error("unsupported scheme {0:?}")]
    Scheme(String),
    /// The URL names no host.
    #[error("no host")]
    NoHost,
    /// A namespace must start with `/`.
    #[error("a namespace starts with '/'")]
    Namespace,
}

/// Why the connection could not be opened or kept.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Resolving, connecting, reading or writing failed.
    #[error("I/O: {0}")]
    Io(#[source] Arc<io::Error>),
    /// The TLS handshake failed (e.g. an untrusted certificate).
    #[error("TLS: {0}")]
    Tls(#[source] Arc<io::Error>),
    /// The server name is not valid for TLS.
    #[error("invalid TLS server name {0:?}")]
    ServerName(String),
    /// The server's answer to the WebSocket upgrade is wrong.
    #[error("WebSocket upgrade: {0}")]
    Upgrade(#[from] UpgradeError),
    /// The server's frames break RFC 6455.
    #[error("WebSocket: {0}")]
    Frames(#[from] WsError),
    /// The connection closed before the handshakes completed.
    #[error("connection closed during the handshake")]
    Closed,
    /// The server closed the Engine.IO session during the handshake.
    #[error("the server closed the session")]
    SessionClosed,
}

impl From<io::Error> for TransportError {
    fn from(error: io::Error) -> Self {
        TransportError::Io(Arc::new(error))
    }
}

/// Why the TLS settings cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// `wss://` or `https://` without the `rustls` feature.
    #[error("{0} needs TLS: enable the `rustls` feature of ignis-socketio-client")]
    Disabled(String),
    /// An extra root certificate is not PEM.
    #[cfg(feature = "rustls")]
    #[error("bad PEM root certificate")]
    Pem(#[source] Arc<rustls::pki_types::pem::Error>),
    /// A PEM block holds no certificate.
    #[error("no certificate in a PEM root")]
    NoCertificate,
    /// rustls refused a root certificate or the protocol versions.
    #[cfg(feature = "rustls")]
    #[error("rustls")]
    Rustls(#[source] rustls::Error),
}

/// What in the server's packets is not Socket.IO.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A packet does not decode; the start of the frame is kept for the logs.
    #[error("{source}: {frame:?}")]
    Codec {
        /// The start of the frame (80 characters at most).
        frame: String,
        /// The codec's finding.
        #[source]
        source: CodecError,
    },
    /// The Engine.IO handshake's body is not the expected JSON.
    #[error("bad open packet")]
    Open(#[source] Arc<serde_json::Error>),
    /// Another packet came where the handshake's was expected.
    #[error("expected the open packet")]
    NotOpen,
    /// A binary frame came with no binary packet waiting for it.
    #[error("binary frame without a binary packet")]
    UnexpectedBinary,
    /// A binary placeholder names no attachment of its packet.
    #[error("attachments do not match the packet")]
    Attachments(#[source] CodecError),
}

impl ProtocolError {
    /// A codec error about `frame` (its first 80 characters kept).
    pub(crate) fn codec(source: CodecError, frame: &str) -> ProtocolError {
        ProtocolError::Codec {
            frame: frame.chars().take(80).collect(),
            source,
        }
    }
}

impl ClientError {
    pub(crate) fn serialize(error: serde_json::Error) -> ClientError {
        ClientError::Serialize(Arc::new(error))
    }

    pub(crate) fn deserialize(error: serde_json::Error) -> ClientError {
        ClientError::Deserialize(Arc::new(error))
    }
}
