//! The errors of the server helper.

use ignis_socketio_engine::io::{AckError, AdapterError};
use ignis_socketio_protocol::{EventNameError, RoomRequestError};

/// What went wrong in an operation of the helper or of a client handle.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The event name is empty or reserved by Socket.IO (`connect`, `disconnect`, ...).
    #[error(transparent)]
    InvalidEvent(#[from] EventNameError),
    /// The event name belongs to the component's own protocol (`authenticate`, `join`, `leave`)
    /// and cannot be handled by application code.
    #[error("\"{0}\" is handled by the server helper itself")]
    ProtocolEvent(String),
    /// No client with this id is connected to this node.
    #[error("no client with id {0:?} on this node")]
    UnknownClient(String),
    /// The client has not authenticated (yet).
    #[error("client {0:?} is not authenticated")]
    NotAuthenticated(String),
    /// The data could not be serialized.
    #[error("data cannot be serialized: {0}")]
    InvalidData(#[from] serde_json::Error),
    /// Data with bytes that could not be serialized or read.
    #[error(transparent)]
    InvalidPayload(#[from] crate::DataError),
    /// The room request was refused whole.
    #[error(transparent)]
    InvalidRooms(#[from] RoomRequestError),
    /// The socket could not take the message (closed or its buffer is full).
    #[error("cannot send to socket {id:?}: {reason}")]
    Socket {
        /// The socket id.
        id: String,
        /// Why it failed.
        reason: String,
    },
    /// The adapter failed to broadcast (for example Redis is unreachable).
    #[error("broadcast failed: {0}")]
    Broadcast(#[source] AdapterError),
    /// An acknowledgement did not arrive or could not be read.
    #[error("acknowledgement failed: {0}")]
    Ack(#[source] AckError),
    /// The helper was shut down.
    #[error("the Socket.IO server helper is shut down")]
    ShutDown,
}

/// Why [`crate::ServerBuilder::build`] failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// No authenticate handler was given; it is required.
    #[error("an authenticate handler is required (ServerBuilder::authenticate)")]
    MissingAuthenticator,
    /// An option has a value that cannot work.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option name.
        option: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// The adapter failed to initialise (for example its Redis connection failed).
    #[error("adapter initialisation failed: {0}")]
    AdapterInit(#[source] AdapterError),
}
