//! Settings of the Socket.IO layer.

use std::time::Duration;

use crate::engine::EngineConfig;

/// Settings of the Socket.IO layer (the engine's included).
#[derive(Debug, Clone)]
pub struct IoConfig {
    /// The Engine.IO settings (path, heartbeat, payload and queue limits).
    pub engine: EngineConfig,
    /// How long a connection may stay without joining any namespace before
    /// it is closed.
    pub connect_timeout: Duration,
    /// The most binary attachments one packet may announce.
    pub max_attachments: usize,
    /// How long a binary packet may wait for its attachments.
    pub attachment_timeout: Duration,
}

impl Default for IoConfig {
    fn default() -> Self {
        IoConfig {
            engine: EngineConfig::default(),
            connect_timeout: Duration::from_secs(45),
            max_attachments: 100,
            attachment_timeout: Duration::from_secs(5),
        }
    }
}
