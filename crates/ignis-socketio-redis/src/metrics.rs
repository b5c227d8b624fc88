//! Prometheus metrics of the Redis adapter (`docs/operations.md`): requests
//! to the other servers, timed where they run. The collector that reads them
//! with the connections' counters and health on each scrape is in
//! `collector.rs`. Labels take a few fixed values: never a channel, a room or
//! a request id.

use std::time::Instant;

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

/// One label and its value.
pub(crate) type Label = [(&'static str, &'static str); 1];

/// A request to the other servers of the fleet.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Operation {
    /// `allRooms`.
    AllRooms,
    /// `fetchSockets`.
    FetchSockets,
    /// `serverSideEmit` with an acknowledgement.
    ServerSideEmit,
}

impl Operation {
    /// The operation's name in Node's API (in timeout errors).
    pub(crate) fn wire_name(self) -> &'static str {
        match self {
            Operation::AllRooms => "allRooms",
            Operation::FetchSockets => "fetchSockets",
            Operation::ServerSideEmit => "serverSideEmit",
        }
    }
}

const OPERATIONS: [&str; 3] = ["all_rooms", "fetch_sockets", "server_side_emit"];

/// Buckets from 1 ms to about 16 s, doubling (requests wait for every server).
fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Requests in flight and their duration; always counted (requests are rare
/// next to messages, and each is a round trip through Redis).
pub(crate) struct RequestMetrics {
    pub(crate) in_flight: Gauge,
    pub(crate) duration: Family<Label, Histogram, fn() -> Histogram>,
    by_operation: [Histogram; 3],
}

impl Default for RequestMetrics {
    fn default() -> Self {
        let duration: Family<Label, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(request_histogram);
        RequestMetrics {
            in_flight: Gauge::default(),
            by_operation: OPERATIONS.map(|o| duration.get_or_create_owned(&[("operation", o)])),
            duration,
        }
    }
}

impl RequestMetrics {
    /// Counts a request until the returned guard is dropped.
    pub(crate) fn start(&self, operation: Operation) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight {
            metrics: self,
            operation,
            started: Instant::now(),
        }
    }
}

/// A request being waited for; dropping it records its duration.
pub(crate) struct InFlight<'a> {
    metrics: &'a RequestMetrics,
    operation: Operation,
    started: Instant,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.metrics.in_flight.dec();
        self.metrics.by_operation[self.operation as usize]
            .observe(self.started.elapsed().as_secs_f64());
    }
}
