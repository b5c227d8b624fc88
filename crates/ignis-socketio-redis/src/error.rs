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
    #[error("Redis at {target} not reachable within {timeout:?}: {last_error}")]
    ConnectTimeout {
        /// The URL or node list that was tried.
        target: String,
        /// How long start-up waited.
        timeout: Duration,
        /// The last error the driver reported.
        last_error: String,
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
    Payload(String),
    /// A message read from Redis does not follow the Node adapter protocol.
    #[error("malformed adapter message: {0}")]
    Malformed(String),
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

/// Result alias for this crate.
pub type Result<T, E = RedisAdapterError> = std::result::Result<T, E>;
