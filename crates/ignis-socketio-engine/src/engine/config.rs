//! The engine's settings.

use std::time::Duration;

use crate::ws::DeflateConfig;

/// Settings of the Engine.IO layer.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The HTTP path the engine serves (`/socket.io` by default, no trailing slash).
    pub path: String,
    /// How often the server sends a heartbeat ping.
    pub ping_interval: Duration,
    /// How long the client has to answer a ping before the session is closed.
    pub ping_timeout: Duration,
    /// The largest message (WebSocket) or polling body accepted, in bytes.
    pub max_payload: usize,
    /// What may be queued for one client before it counts as too slow and is
    /// disconnected, in bytes.
    pub max_buffered_bytes: usize,
    /// The same bound in packets.
    pub max_buffered_packets: usize,
    /// Incoming messages read ahead while the application still handles an
    /// earlier one of the same client; past this, reading pauses (TCP
    /// back-pressure) until the application catches up.
    pub max_pending_messages: usize,
    /// WebSocket per-message compression (RFC 7692 permessage-deflate),
    /// offered by browsers and Node's clients; `None` (the default) answers
    /// no offer and sends everything uncompressed.
    pub per_message_deflate: Option<DeflateConfig>,
    /// How long the body of a polling POST may take to arrive whole, from
    /// the first read that has to wait for it (slow-loris guard that holds
    /// behind any HTTP server, `axum::serve` included). A late body is
    /// answered with 400 and its session closed.
    pub body_read_timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            path: "/socket.io".to_owned(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            max_payload: 1_000_000,
            max_buffered_bytes: 4 << 20,
            max_buffered_packets: 16_384,
            max_pending_messages: 64,
            per_message_deflate: None,
            body_read_timeout: crate::BODY_READ_TIMEOUT,
        }
    }
}
