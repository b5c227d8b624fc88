//! Room requests: which rooms a socket may join or leave, with the limits.

use std::collections::HashSet;

use ignis_socketio_protocol::{
    JoinAck, LeaveAck, RejectedRoom, RoomRejection, RoomRequest, parse_room_request,
};
use serde_json::{Value, json};

use crate::core::Core;
use crate::record::ClientRecord;
use crate::{ServerError, UNAUTHENTICATED_ROOM};

/// Turns a server-side room list into the wire payload, so that both paths share one parser.
pub(crate) fn request_value<I, S>(rooms: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let rooms: Vec<String> = rooms.into_iter().map(Into::into).collect();
    json!({ "rooms": rooms })
}

impl Core {
    /// Rooms a client can never leave: its own id room, the default rooms, the internal room.
    fn is_protected(&self, record: &ClientRecord, room: &str) -> bool {
        room == record.id
            || room == UNAUTHENTICATED_ROOM
            || self.options.default_rooms.iter().any(|r| r == room)
    }

    /// Parses a join payload; the internal room is refused.
    pub(crate) fn parse_join(&self, payload: &Value) -> Result<RoomRequest, ServerError> {
        let mut request = parse_room_request(payload, &self.options.room_limits)?;
        request.accepted.retain(|room| {
            if room == UNAUTHENTICATED_ROOM {
                request
                    .rejected
                    .push(RejectedRoom::new(room.clone(), RoomRejection::Protected));
                false
            } else {
                true
            }
        });
        Ok(request)
    }

    /// Joins `allowed` rooms within the per-socket limit. Never touches a closed record.
    pub(crate) fn apply_join(
        &self,
        record: &ClientRecord,
        allowed: Vec<String>,
        mut rejected: Vec<RejectedRoom>,
    ) -> Result<JoinAck, ServerError> {
        let guard = record.lock();
        if guard.closed {
            return Err(ServerError::UnknownClient(record.id.clone()));
        }
        let current: HashSet<String> = record.socket.rooms().into_iter().collect();
        // The internal room is not the client's doing: it does not count.
        let mut count = current
            .iter()
            .filter(|r| *r != UNAUTHENTICATED_ROOM)
            .count();
        let max = self.options.room_limits.max_rooms_per_socket;
        let mut joined = Vec::new();
        let mut to_join = Vec::new();
        for room in allowed {
            if current.contains(&room) {
                joined.push(room);
            } else if count < max {
                count += 1;
                to_join.push(room.clone());
                joined.push(room);
            } else {
                rejected.push(RejectedRoom::new(room, RoomRejection::SocketRoomLimit));
            }
        }
        if !to_join.is_empty() {
            record.socket.join(to_join);
        }
        drop(guard);
        Ok(JoinAck {
            joined,
            rejected,
            error: None,
        })
    }

    /// Server-side join: no validator, limits and the internal room still hold.
    pub(crate) fn join_by_server(
        &self,
        record: &ClientRecord,
        payload: &Value,
    ) -> Result<JoinAck, ServerError> {
        if record.state() != ignis_socketio_protocol::ClientState::Authenticated {
            return Err(ServerError::NotAuthenticated(record.id.clone()));
        }
        let request = self.parse_join(payload)?;
        let ack = self.apply_join(record, request.accepted, request.rejected)?;
        tracing::info!(parent: &record.span, joined = ?ack.joined, rejected = ?ack.rejected, "joined rooms (server)");
        Ok(ack)
    }

    /// Leaves rooms, except the protected ones.
    pub(crate) fn leave(
        &self,
        record: &ClientRecord,
        payload: &Value,
    ) -> Result<LeaveAck, ServerError> {
        let request = parse_room_request(payload, &self.options.room_limits)?;
        let mut rejected = request.rejected;
        let mut left = Vec::new();
        for room in request.accepted {
            if self.is_protected(record, &room) {
                rejected.push(RejectedRoom::new(room, RoomRejection::Protected));
            } else {
                left.push(room);
            }
        }
        let guard = record.lock();
        if guard.closed {
            return Err(ServerError::UnknownClient(record.id.clone()));
        }
        if !left.is_empty() {
            record.socket.leave(left.clone());
        }
        drop(guard);
        tracing::info!(parent: &record.span, left = ?left, rejected = ?rejected, "left rooms");
        Ok(LeaveAck {
            left,
            rejected,
            error: None,
        })
    }
}
