//! What the engine counts, for logs, health pages and metrics.

use std::sync::atomic::{AtomicU64, Ordering};

use super::session::CloseReason;

/// Counters of one engine, readable at any time (see [`Counters::snapshot`]).
#[derive(Debug, Default)]
pub struct Counters {
    sessions_opened: AtomicU64,
    sessions_closed: AtomicU64,
    slow_consumers: AtomicU64,
    ping_timeouts: AtomicU64,
    protocol_errors: AtomicU64,
    messages_received: AtomicU64,
}

/// A reading of [`Counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountersSnapshot {
    /// Sessions opened since start.
    pub sessions_opened: u64,
    /// Sessions closed since start, whatever the reason.
    pub sessions_closed: u64,
    /// Sessions closed because more was queued for the client than the
    /// bound allows (the client was too slow to read).
    pub slow_consumers: u64,
    /// Sessions closed because the client answered no heartbeat in time.
    pub ping_timeouts: u64,
    /// Sessions closed because the client broke the protocol.
    pub protocol_errors: u64,
    /// Engine.IO messages received from clients.
    pub messages_received: u64,
}

impl Counters {
    pub(crate) fn opened(&self) {
        self.sessions_opened.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn closed(&self, reason: &CloseReason) {
        self.sessions_closed.fetch_add(1, Ordering::Relaxed);
        let counter = match reason {
            CloseReason::SlowConsumer => &self.slow_consumers,
            CloseReason::PingTimeout => &self.ping_timeouts,
            CloseReason::ProtocolError(_) => &self.protocol_errors,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn message(&self) {
        self.messages_received.fetch_add(1, Ordering::Relaxed);
    }

    /// The current values.
    pub fn snapshot(&self) -> CountersSnapshot {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CountersSnapshot {
            sessions_opened: read(&self.sessions_opened),
            sessions_closed: read(&self.sessions_closed),
            slow_consumers: read(&self.slow_consumers),
            ping_timeouts: read(&self.ping_timeouts),
            protocol_errors: read(&self.protocol_errors),
            messages_received: read(&self.messages_received),
        }
    }
}
