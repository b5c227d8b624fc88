//! Prometheus metrics of the Redis adapter (`docs/operations.md`): requests
//! to the other servers timed where they run, the connections' counters and
//! health read on each scrape ([`RedisAdapterState::register_metrics`](crate::RedisAdapterState::register_metrics)).
//! Labels take a few fixed values: never a channel, a room or a request id.

use std::fmt;
use std::sync::Weak;
use std::time::Instant;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Unit;

use crate::state::{RedisAdapterState, Shared};

type Label = [(&'static str, &'static str); 1];

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

const OPERATIONS: [&str; 3] = ["all_rooms", "fetch_sockets", "server_side_emit"];

/// Buckets from 1 ms to about 16 s, doubling (requests wait for every server).
fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Requests in flight and their duration; always counted (requests are rare
/// next to messages, and each is a round trip through Redis).
pub(crate) struct RequestMetrics {
    in_flight: Gauge,
    duration: Family<Label, Histogram, fn() -> Histogram>,
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

/// Encodes the adapter's metrics on each scrape.
pub(crate) struct RedisCollector(pub(crate) Weak<Shared>);

impl fmt::Debug for RedisCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCollector").finish_non_exhaustive()
    }
}

impl Collector for RedisCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let Some(shared) = self.0.upgrade() else {
            return Ok(());
        };
        let state = RedisAdapterState { shared };
        let (counters, health) = (state.counters(), state.health());
        let mut put = |name: &str, help: &str, unit: Option<&Unit>, metric: &dyn EncodeMetric| {
            let metric_encoder =
                encoder.encode_descriptor(name, help, unit, metric.metric_type())?;
            metric.encode(metric_encoder)
        };
        let publishes = labelled(
            "outcome",
            [
                ("ok", counters.publishes),
                ("failed", counters.publish_failures),
                ("short", counters.short_publishes),
            ],
        );
        put(
            "socketio_redis_publishes",
            "PUBLISH commands by outcome: ok (sent), failed (not sent or no reply), short (sent, but fewer servers subscribed than the fleet has; also counted as ok).",
            None,
            &publishes,
        )?;
        let reconnects = labelled(
            "connection",
            [
                ("publisher", counters.publisher_reconnects),
                ("subscriber", counters.subscriber_reconnects),
            ],
        );
        put(
            "socketio_redis_reconnects",
            "Redis connections opened again after one was lost.",
            None,
            &reconnects,
        )?;
        put(
            "socketio_redis_subscriber_up",
            "1 while the subscriber connection is up and subscribed.",
            None,
            &ConstGauge::new(i64::from(health.subscriber_connected)),
        )?;
        put(
            "socketio_redis_missing_servers",
            "Servers of the fleet the last publish did not reach (resubscribing after a Redis restart).",
            None,
            &ConstGauge::new(i64::try_from(health.missing_servers).unwrap_or(i64::MAX)),
        )?;
        let requests = &state.shared.requests;
        put(
            "socketio_redis_requests_in_flight",
            "Requests to the other servers (allRooms, fetchSockets, serverSideEmit with ack) waiting for their answers.",
            None,
            &requests.in_flight,
        )?;
        put(
            "socketio_redis_request_duration",
            "Time requests to the other servers took, until every answer or the timeout.",
            Some(&Unit::Seconds),
            &requests.duration,
        )
    }
}

/// Counters read at scrape time, one per value of `label`.
fn labelled<const N: usize>(
    label: &'static str,
    values: [(&'static str, u64); N],
) -> Family<Label, Counter> {
    let family = Family::<Label, Counter>::default();
    for (value, count) in values {
        family.get_or_create(&[(label, value)]).inc_by(count);
    }
    family
}
