//! The Prometheus collector of the Redis adapter
//! ([`RedisAdapterState::register_metrics`](crate::RedisAdapterState::register_metrics)):
//! the connections' counters and health, and the request metrics, read on
//! each scrape.

use std::fmt;
use std::sync::Weak;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

use crate::metrics::Label;
use crate::shared::Shared;

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
        let (counters, health) = (shared.counters(), shared.health());
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
        let requests = &shared.link.requests;
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
