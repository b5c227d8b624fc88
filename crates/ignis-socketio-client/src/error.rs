//! The client's error type.

use std::time::Duration;

/// What went wrong in the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The operation needs a connected client (reference message kept).
    #[error("Invalid socket client state to emit")]
    NotConnected,
    /// `emit` was called with an empty topic (reference message kept).
    #[error("Topic is required to emit")]
    EmptyTopic,
    /// The event name is reserved by Socket.IO (`connect`, `disconnect`, ...).
    #[error("\"{0}\" is a reserved event name")]
    ReservedEvent(String),
    /// The URL cannot be used to reach a Socket.IO server.
    #[error("invalid url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// A header name or value is not valid HTTP.
    #[error("invalid header {0:?}")]
    InvalidHeader(String),
    /// The transport could not be established (TCP, WebSocket or Engine.IO handshake).
    #[error("connection failed: {0}")]
    ConnectFailed(String),
    /// The server refused the Socket.IO connection (`CONNECT_ERROR`), e.g. a middleware said no.
    #[error("connection refused by server: {0}")]
    ConnectRefused(String),
    /// TLS settings are unusable (bad root certificate, or `wss://` without the `rustls` feature).
    #[error("TLS: {0}")]
    Tls(String),
    /// Connecting took longer than the connect timeout.
    #[error("connection timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// Reconnection stopped after this many failed attempts in a row (see [`crate::ReconnectConfig::max_attempts`]).
    #[error("reconnection gave up after {0} attempts")]
    ReconnectGaveUp(u32),
    /// The server sent something that is not Socket.IO.
    #[error("protocol error: {0}")]
    Protocol(String),
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
    #[error("cannot serialize payload: {0}")]
    Serialize(String),
    /// Received data does not have the expected type.
    #[error("cannot deserialize payload: {0}")]
    Deserialize(String),
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
