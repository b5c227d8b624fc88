//! The public records of sockets and connections: a socket's details as
//! Node's `fetchSockets` returns them and the health of the Redis connections.

use ignis_socketio_engine::io::HandshakeSource;
use serde::{Deserialize, Serialize};

/// The handshake and data of a local socket, as Node's `fetchSockets` returns them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SocketDetails {
    /// Node's `socket.handshake` (headers, time, address, url, query, auth...).
    pub handshake: serde_json::Value,
    /// Node's `socket.data`.
    pub data: serde_json::Value,
}

impl SocketDetails {
    /// Builds Node's handshake object from the HTTP request that opened the
    /// connection and the CONNECT auth payload, with the engine's
    /// [`HandshakeSource`] (the server helper's `Handshake::to_node_json` too).
    pub fn from_request(
        parts: &http::request::Parts,
        auth: serde_json::Value,
        data: serde_json::Value,
    ) -> Self {
        Self {
            handshake: HandshakeSource::from_parts(parts, &auth).to_node_json(),
            data,
        }
    }
}

/// A socket as `fetchSockets` sees it, on any server of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketInfo {
    /// The socket id (20 characters on this engine and on Node).
    pub id: String,
    /// Node's handshake object.
    pub handshake: serde_json::Value,
    /// Every room of the socket, its own id room included.
    pub rooms: Vec<String>,
    /// Node's `socket.data`.
    pub data: serde_json::Value,
}

/// Health of the Redis connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisHealth {
    /// The subscriber connection is up and subscribed.
    pub subscriber_connected: bool,
    /// How many times the subscriber reconnected since start-up.
    pub reconnects: u64,
    /// `close()` was called.
    pub closed: bool,
    /// How many servers the last publish (or server count) of a namespace
    /// found missing from its fleet: servers seen subscribed before that are
    /// not now, typically resubscribing after a Redis restart. Messages sent
    /// meanwhile do not reach their clients. 0 when every server was reached;
    /// a server still missing after `RedisConfig::fleet_grace` counts as gone.
    pub missing_servers: usize,
}

impl RedisHealth {
    /// True when the fleet can receive now: subscribed, not closed, and no
    /// server missing from the last publish.
    pub fn fleet_reachable(&self) -> bool {
        self.subscriber_connected && !self.closed && self.missing_servers == 0
    }
}
