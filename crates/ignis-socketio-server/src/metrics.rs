//! Prometheus metrics of the helper, opt-in with
//! [`ServerBuilder::metrics`](crate::ServerBuilder::metrics) and exposed with
//! [`SocketIOServerHelper::register_metrics`](crate::SocketIOServerHelper::register_metrics).
//!
//! Counted where the events happen, through [`Metrics`]: without metrics it
//! holds nothing and every call returns at once; with metrics each call is an
//! atomic add on a counter resolved when the helper was built (histograms take
//! one uncontended lock). What the engine and the registry already know
//! (sessions, disconnect reasons, sockets by state) is read at scrape time.
//! Labels take a handful of fixed values each: never a socket id, a room or
//! an event name.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use ignis_socketio_engine::engine::CountersSnapshot;
use ignis_socketio_protocol::ClientState;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Unit;

use crate::ClientInfo;

/// What a scrape reads from the rest of the helper, on each scrape: the
/// snapshots of this node's clients, the engine's counters and the
/// requests refused before the engine; `None` once the helper is gone.
pub(crate) type ScrapeSource =
    Box<dyn Fn() -> Option<(Vec<ClientInfo>, CountersSnapshot, Refusals)> + Send + Sync>;

/// Requests refused before they reached the engine.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Refusals {
    /// For their `Origin`.
    pub(crate) origin: u64,
    /// Handshakes over a cap on unauthenticated connections.
    pub(crate) connection_cap: u64,
}

/// One label: its name and one of its few values.
type Label = [(&'static str, &'static str); 1];
/// Two labels.
type Labels2 = [(&'static str, &'static str); 2];

/// How an authentication ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AuthOutcome {
    /// The authenticator accepted the client.
    Ok,
    /// The authenticator refused it.
    Rejected,
    /// The authenticator failed (an error or a panic).
    Failed,
    /// The client did not authenticate in time.
    Timeout,
}

/// Why a message was not delivered.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Dropped {
    /// An application event sent before authentication.
    Unauthenticated,
    /// An application event no handler was registered for.
    NoHandler,
    /// An emit to a client whose outgoing queue was over its bound.
    SlowConsumer,
    /// An emit to a client that was already gone.
    Closed,
    /// An incoming event over the socket's rate limit.
    RateLimited,
    /// An event whose data could not be read (its handler was not called).
    Unreadable,
}

/// Buckets from 0.5 ms to about 16 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The instruments, resolved once so that counting is an atomic add.
struct Instruments {
    auth: Family<Label, Counter>,
    auth_by_outcome: [Counter; 4],
    auth_seconds: Histogram,
    rooms: Family<Labels2, Counter>,
    rooms_resolved: [[Counter; 4]; 2],
    events_received: Counter,
    events_emitted: Counter,
    dropped: Family<Label, Counter>,
    dropped_by_reason: [Counter; 6],
    sends: Family<Labels2, Counter>,
    sends_resolved: [[Counter; 2]; 2],
    send_seconds: Family<Label, Histogram, fn() -> Histogram>,
    send_seconds_resolved: [Histogram; 2],
    ack_timeouts: Counter,
}

const AUTH_OUTCOMES: [&str; 4] = ["ok", "rejected", "failed", "timeout"];
const ROOM_REQUESTS: [&str; 2] = ["join", "leave"];
const ROOM_OUTCOMES: [&str; 4] = ["granted", "partial", "refused", "invalid"];
const DROP_REASONS: [&str; 6] = [
    "unauthenticated",
    "no_handler",
    "slow_consumer",
    "closed",
    "rate_limited",
    "unreadable",
];
const TARGETS: [&str; 2] = ["all", "rooms"];
const SEND_OUTCOMES: [&str; 2] = ["ok", "error"];

impl Instruments {
    fn new() -> Self {
        let auth = Family::<Label, Counter>::default();
        let rooms = Family::<Labels2, Counter>::default();
        let dropped = Family::<Label, Counter>::default();
        let sends = Family::<Labels2, Counter>::default();
        let send_seconds: Family<Label, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        Instruments {
            auth_by_outcome: AUTH_OUTCOMES.map(|o| auth.get_or_create_owned(&[("outcome", o)])),
            auth,
            auth_seconds: latency_histogram(),
            rooms_resolved: ROOM_REQUESTS.map(|r| {
                ROOM_OUTCOMES.map(|o| rooms.get_or_create_owned(&[("request", r), ("outcome", o)]))
            }),
            rooms,
            events_received: Counter::default(),
            events_emitted: Counter::default(),
            dropped_by_reason: DROP_REASONS.map(|r| dropped.get_or_create_owned(&[("reason", r)])),
            dropped,
            sends_resolved: TARGETS.map(|t| {
                SEND_OUTCOMES.map(|o| sends.get_or_create_owned(&[("target", t), ("outcome", o)]))
            }),
            sends,
            send_seconds_resolved: TARGETS
                .map(|t| send_seconds.get_or_create_owned(&[("target", t)])),
            send_seconds,
            ack_timeouts: Counter::default(),
        }
    }
}

/// The helper's instruments, or nothing when metrics are off. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Metrics(Option<Arc<Instruments>>);

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Metrics").field(&self.0.is_some()).finish()
    }
}

impl Metrics {
    /// Instruments that count (`true`) or a handle that does nothing.
    pub(crate) fn new(enabled: bool) -> Self {
        Metrics(enabled.then(|| Arc::new(Instruments::new())))
    }

    /// An authentication ended; `started` is when the authenticator was called
    /// (`None` for a timeout, which called none).
    pub(crate) fn authenticated(&self, outcome: AuthOutcome, started: Option<Instant>) {
        if let Some(m) = &self.0 {
            m.auth_by_outcome[outcome as usize].inc();
            if let Some(started) = started {
                m.auth_seconds.observe(started.elapsed().as_secs_f64());
            }
        }
    }

    /// A join (`leave == false`) or leave request was answered: how many rooms
    /// were done and refused, or `invalid` for one not served at all.
    pub(crate) fn room_request(&self, leave: bool, done: usize, refused: usize, invalid: bool) {
        if let Some(m) = &self.0 {
            let outcome = match (invalid, done, refused) {
                (true, _, _) => 3,
                (false, _, 0) => 0,
                (false, 0, _) => 2,
                _ => 1,
            };
            m.rooms_resolved[usize::from(leave)][outcome].inc();
        }
    }

    /// An application event reached the helper.
    pub(crate) fn event_received(&self) {
        if let Some(m) = &self.0 {
            m.events_received.inc();
        }
    }

    /// An emit to one client was queued.
    pub(crate) fn event_emitted(&self) {
        if let Some(m) = &self.0 {
            m.events_emitted.inc();
        }
    }

    /// A message was not delivered.
    pub(crate) fn dropped(&self, reason: Dropped) {
        if let Some(m) = &self.0 {
            m.dropped_by_reason[reason as usize].inc();
        }
    }

    /// An acknowledgement did not come in time.
    pub(crate) fn ack_timeouts(&self, count: usize) {
        if let (Some(m), Ok(count)) = (&self.0, u64::try_from(count))
            && count > 0
        {
            m.ack_timeouts.inc_by(count);
        }
    }

    /// A send to every client (`to_rooms == false`) or to rooms ended.
    pub(crate) fn sent(&self, to_rooms: bool, ok: bool, started: Instant) {
        if let Some(m) = &self.0 {
            m.sends_resolved[usize::from(to_rooms)][usize::from(!ok)].inc();
            m.send_seconds_resolved[usize::from(to_rooms)].observe(started.elapsed().as_secs_f64());
        }
    }

    /// The collector of a helper, when metrics are on.
    pub(crate) fn collector(&self, source: ScrapeSource) -> Option<HelperCollector> {
        let instruments = self.0.clone()?;
        Some(HelperCollector {
            instruments,
            source,
        })
    }
}

/// Encodes the helper's metrics on each scrape.
pub(crate) struct HelperCollector {
    instruments: Arc<Instruments>,
    source: ScrapeSource,
}

impl fmt::Debug for HelperCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HelperCollector").finish_non_exhaustive()
    }
}

/// Encodes one metric under its descriptor.
fn put(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    metric: &impl EncodeMetric,
) -> Result<(), fmt::Error> {
    let metric_encoder = encoder.encode_descriptor(name, help, unit, metric.metric_type())?;
    metric.encode(metric_encoder)
}

impl Collector for HelperCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let m = &self.instruments;
        let e = &mut encoder;
        let seconds = Some(&Unit::Seconds);
        put(
            e,
            "socketio_authentications",
            "Authentications by outcome (ok, rejected, failed, timeout).",
            None,
            &m.auth,
        )?;
        put(
            e,
            "socketio_authentication_duration",
            "Time the authenticator took.",
            seconds,
            &m.auth_seconds,
        )?;
        put(
            e,
            "socketio_room_requests",
            "Join and leave requests of clients by outcome (granted, partial, refused, invalid).",
            None,
            &m.rooms,
        )?;
        put(
            e,
            "socketio_events_received",
            "Application events received from authenticated or unauthenticated clients.",
            None,
            &m.events_received,
        )?;
        put(
            e,
            "socketio_events_emitted",
            "Events queued for one client (the helper's own and the application's).",
            None,
            &m.events_emitted,
        )?;
        put(
            e,
            "socketio_messages_dropped",
            "Messages not delivered, by reason.",
            None,
            &m.dropped,
        )?;
        put(
            e,
            "socketio_sends",
            "Sends through the adapter by target kind (all, rooms) and outcome.",
            None,
            &m.sends,
        )?;
        put(
            e,
            "socketio_send_duration",
            "Time a send took to be handed to every node (the Redis publish included).",
            seconds,
            &m.send_seconds,
        )?;
        put(
            e,
            "socketio_ack_timeouts",
            "Acknowledgements not received in time.",
            None,
            &m.ack_timeouts,
        )?;
        let Some((clients, counters, refusals)) = (self.source)() else {
            return Ok(());
        };
        let sockets = Family::<Label, Gauge>::default();
        for state in [
            ClientState::Unauthorized,
            ClientState::Authenticating,
            ClientState::Authenticated,
        ] {
            sockets
                .get_or_create(&[("state", state_label(state))])
                .set(0);
        }
        for client in clients {
            sockets
                .get_or_create(&[("state", state_label(client.state))])
                .inc();
        }
        put(
            e,
            "socketio_sockets",
            "Sockets of this node by authentication state.",
            None,
            &sockets,
        )?;
        let open = counters
            .sessions_opened
            .saturating_sub(counters.sessions_closed);
        put(
            e,
            "socketio_engine_sessions",
            "Engine.IO sessions open now.",
            None,
            &ConstGauge::new(i64::try_from(open).unwrap_or(i64::MAX)),
        )?;
        put(
            e,
            "socketio_engine_sessions_opened",
            "Engine.IO sessions opened.",
            None,
            &ConstCounter::new(counters.sessions_opened),
        )?;
        put(
            e,
            "socketio_engine_messages_received",
            "Engine.IO messages received from clients.",
            None,
            &ConstCounter::new(counters.messages_received),
        )?;
        let refused = Family::<Label, Counter>::default();
        for (reason, count) in [
            ("origin", refusals.origin),
            ("connection_cap", refusals.connection_cap),
        ] {
            refused.get_or_create(&[("reason", reason)]).inc_by(count);
        }
        put(
            e,
            "socketio_requests_refused",
            "Requests refused before a session existed, by reason (a foreign Origin, a cap on unauthenticated connections).",
            None,
            &refused,
        )?;
        let disconnects = Family::<Label, Counter>::default();
        for (reason, count) in [
            ("slow_consumer", counters.slow_consumers),
            ("ping_timeout", counters.ping_timeouts),
            ("protocol_error", counters.protocol_errors),
        ] {
            disconnects
                .get_or_create(&[("reason", reason)])
                .inc_by(count);
        }
        put(
            e,
            "socketio_engine_disconnects",
            "Sessions the engine closed, by reason (slow consumer, missed heartbeat, protocol error or oversized payload).",
            None,
            &disconnects,
        )
    }
}

fn state_label(state: ClientState) -> &'static str {
    match state {
        ClientState::Unauthorized => "unauthorized",
        ClientState::Authenticating => "authenticating",
        ClientState::Authenticated => "authenticated",
    }
}
