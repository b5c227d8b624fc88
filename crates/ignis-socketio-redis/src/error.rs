//! The crate's error type.

use std::time::Duration;

/// Everything that can go wrong in the Redis adapter and emitter.
#[derive(Debug, thiserror::Error)]
pub enum RedisAdapterError {
    /// The configuration string or value is not usable.
    #[error("invalid Redis configuration {value:?}: {reason}")]
    Config {
        /// The offending input.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Redis could not be reached within the start-up timeout.
    #[error(
        "Redis at {target} not reachable within {timeout:?}: {}",
        last_error.as_ref().map_or_else(|| "no answer".to_owned(), ToString::to_string)
    )]
    ConnectTimeout {
        /// The URL or node list that was tried.
        target: String,
        /// How long start-up waited.
        timeout: Duration,
        /// The last error of an attempt; `None` when no attempt answered at all.
        #[source]
        last_error: Option<Box<RedisAdapterError>>,
    },
    /// A Redis command (PUBLISH, PUBSUB NUMSUB, SUBSCRIBE...) failed.
    #[error("Redis command failed: {0}")]
    Redis(#[from] redis::RedisError),
    /// No connection to Redis could be opened: the command was not sent, so a
    /// PUBLISH reached nobody (a send through the adapter reached no client,
    /// not even this server's). Safe to retry.
    #[error("Redis at {target} is unavailable, nothing was sent: {source}")]
    Unavailable {
        /// The URL or node list, without password.
        target: String,
        /// The connection error.
        source: redis::RedisError,
    },
    /// The command was sent but Redis did not answer (timeout, or the
    /// connection broke while it was in flight): a PUBLISH may or may not have
    /// reached the other servers. A retry may deliver twice.
    #[error("Redis at {target} did not answer, the command may have run: {source}")]
    NoReply {
        /// The URL or node list, without password.
        target: String,
        /// The driver's error.
        source: redis::RedisError,
    },
    /// A payload could not be converted between the engine's arguments, msgpack and JSON.
    #[error("payload conversion failed: {0}")]
    Payload(#[from] ignis_socketio_engine::codec::ArgsError),
    /// A message read from Redis does not follow the Node adapter protocol.
    #[error("malformed adapter message: {0}")]
    Malformed(#[from] Malformed),
    /// Remote servers did not all answer a request within `requests_timeout`.
    #[error("timeout reached while waiting for {operation} responses: {received} of {expected}")]
    Timeout {
        /// The request kind (`allRooms`, `fetchSockets`, `serverSideEmit`).
        operation: &'static str,
        /// Responses received.
        received: usize,
        /// Responses expected.
        expected: usize,
    },
    /// The event name is reserved by Socket.IO and cannot be emitted.
    #[error("{0:?} is a reserved event name")]
    ReservedEvent(String),
    /// No namespace with this path uses the adapter on this server.
    #[error("unknown namespace {0:?}")]
    UnknownNamespace(String),
    /// The adapter was closed.
    #[error("the Redis adapter is closed")]
    Closed,
}

/// How a message read from Redis breaks the Node adapter protocol.
#[derive(Debug, thiserror::Error)]
pub enum Malformed {
    /// A request or response starting with `{` is not JSON.
    #[error("bad JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The payload is not msgpack.
    #[error("bad msgpack: {0}")]
    Msgpack(#[from] rmpv::decode::Error),
    /// Decoded, but not shaped like the message it should be.
    #[error("{0}")]
    Shape(&'static str),
}

/// Result alias for this crate.
pub type Result<T, E = RedisAdapterError> = std::result::Result<T, E>;
