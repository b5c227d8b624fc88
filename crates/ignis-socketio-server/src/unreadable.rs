//! Events whose data cannot be read (nested deeper than 128 levels, a lone
//! surrogate escape, a binary placeholder naming no attachment): no handler
//! sees them, the client is told in the acknowledgement when it asked for
//! one, and the server writes a warning within the client's budget.

use ignis_socketio_engine::io::{UnreadableEvent, unreadable_error};
use ignis_socketio_protocol::{JoinAck, LeaveAck};
use serde_json::json;

use crate::AckResponder;
use crate::core::{send_ack, unchanged};
use crate::events;
use crate::metrics::Dropped;
use crate::types::{ClientRecord, Core};
use crate::warn_budget::client_warn;

impl Core {
    /// Refuses an event whose data does not read: the acknowledgement, when
    /// asked for, carries `error: {code: "unreadable_data", message}` in the
    /// event's own acknowledgement shape (`join`, `leave`, `authenticate`) or
    /// as `{error}` for application events.
    pub(crate) fn refuse_unreadable(
        &self,
        record: &ClientRecord,
        event: &UnreadableEvent,
        ack: Option<AckResponder>,
    ) {
        self.metrics.dropped(Dropped::Unreadable);
        let name = event.name.as_deref().unwrap_or("");
        client_warn!(record, event = %name, reason = %event.reason, "event refused: its data cannot be read");
        let Some(ack) = ack else { return };
        let error = Some(unreadable_error(event));
        match name {
            events::JOIN => send_ack(
                record,
                ack,
                &JoinAck {
                    error,
                    ..JoinAck::default()
                },
                name,
            ),
            events::LEAVE => {
                send_ack(
                    record,
                    ack,
                    &LeaveAck {
                        error,
                        ..LeaveAck::default()
                    },
                    name,
                );
            }
            events::AUTHENTICATE => {
                send_ack(record, ack, &unchanged(record, record.state(), error), name);
            }
            _ => send_ack(record, ack, &json!({ "error": error }), name),
        }
    }
}
