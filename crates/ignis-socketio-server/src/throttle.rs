//! The rate limits applied to a socket's incoming events, before anything
//! else is done with them: an event over its limit is dropped, an
//! acknowledgement it asks for is answered with the error `rate_limited`
//! (in the shape of the event's other refusals), and a socket that stays over
//! a limit is disconnected.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use ignis_socketio_protocol::{ErrorBody, JoinAck, LeaveAck, events};
use serde_json::json;

use crate::AckResponder;
use crate::clock;
use crate::core::{send_ack, unchanged};
use crate::metrics::Dropped;
use crate::rate_limit::{EventClass, Limits, Verdict};
use crate::types::{ClientRecord, Core};
use crate::warn_budget::client_warn;

/// The error code of an acknowledgement refused for being over a rate limit.
pub(crate) const RATE_LIMITED: &str = "rate_limited";

/// An event over its limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Throttled {
    class: EventClass,
    /// The socket stayed over a limit too long: it is disconnected.
    disconnect: bool,
}

impl Core {
    fn limits(&self) -> Limits {
        Limits {
            authenticate: self.options.auth_rate_limit,
            rooms: self.options.room_rate_limit,
            application: self.options.event_rate_limit,
            disconnect_after: self.options.rate_limit_disconnect_after,
        }
    }

    /// Takes a token for `event` from `record`'s bucket of its class;
    /// `None` when the event is within the limit and is to be handled.
    pub(crate) fn throttle(&self, record: &ClientRecord, event: &str) -> Option<Throttled> {
        let class = EventClass::of(event);
        let verdict = record
            .rates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .check(class, &self.limits(), clock::millis());
        match verdict {
            Verdict::Admit => None,
            Verdict::Drop => Some(Throttled {
                class,
                disconnect: false,
            }),
            Verdict::Disconnect => Some(Throttled {
                class,
                disconnect: true,
            }),
        }
    }

    /// Drops a throttled `event`: counts it, warns (within the client's
    /// budget), answers `ack` with `rate_limited`, and disconnects the socket
    /// when it stayed over the limit too long.
    pub(crate) fn refuse_throttled(
        &self,
        record: &Arc<ClientRecord>,
        event: &str,
        throttled: Throttled,
        ack: Option<AckResponder>,
    ) {
        let class = throttled.class;
        self.metrics.dropped(Dropped::RateLimited);
        self.events_rate_limited.fetch_add(1, Ordering::Relaxed);
        client_warn!(record, %event, limit = class.option(), "event dropped: over the rate limit");
        if let Some(ack) = ack {
            self.answer_throttled(record, event, class, ack);
        }
        if throttled.disconnect {
            self.rate_limit_disconnects.fetch_add(1, Ordering::Relaxed);
            let after = self.options.rate_limit_disconnect_after.unwrap_or_default();
            let reason = format!("rate limit: {class} over {} for {after:?}", class.option());
            tracing::warn!(parent: &record.span, %reason, "client disconnected");
            // The reason the disconnect handler is given; the engine's own
            // disconnect that follows finds the record gone.
            self.teardown(record, &reason);
            record.socket.disconnect();
        }
    }

    fn answer_throttled(
        &self,
        record: &ClientRecord,
        event: &str,
        class: EventClass,
        ack: AckResponder,
    ) {
        let error = ErrorBody {
            code: RATE_LIMITED.to_owned(),
            message: format!("too many {class} from this socket: slow down"),
        };
        match event {
            events::AUTHENTICATE => {
                let body = unchanged(record, record.state(), Some(error));
                send_ack(record, ack, &body, event);
            }
            events::JOIN => {
                let body = JoinAck {
                    error: Some(error),
                    ..JoinAck::default()
                };
                send_ack(record, ack, &body, event);
            }
            events::LEAVE => {
                let body = LeaveAck {
                    error: Some(error),
                    ..LeaveAck::default()
                };
                send_ack(record, ack, &body, event);
            }
            _ => send_ack(record, ack, &json!({ "error": error }), event),
        }
    }
}
