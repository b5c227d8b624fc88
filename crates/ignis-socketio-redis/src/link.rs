//! What every namespace of a server shares to reach the fleet: the
//! configuration, the publishing connections, whether `close` was called, and
//! the metrics of requests in flight.

use std::sync::atomic::AtomicBool;

use crate::config::RedisConfig;
use crate::metrics::RequestMetrics;
use crate::publish::RedisConnection;

/// The publishing half of a server's Redis state.
pub(crate) struct Link {
    pub(crate) config: RedisConfig,
    pub(crate) conn: RedisConnection,
    pub(crate) closed: AtomicBool,
    /// Requests to the other servers in flight and their durations.
    pub(crate) requests: RequestMetrics,
}
