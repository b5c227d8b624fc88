//! Room requests: which rooms a socket may join or leave, with the limits,
//! from the client (`join`/`leave` events) or the server.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use ignis_socketio_protocol::{
    ErrorBody, JoinAck, LeaveAck, RejectedRoom, RoomRejection, RoomRequest, parse_room_request,
};
use serde_json::{Value, json};

use crate::core::{VALIDATOR_TIMEOUT, not_authenticated, send_ack};
use crate::panic::panic_message;
use crate::types::{ClientRecord, Core};
use crate::warn_budget::client_warn;
use crate::{
    AckResponder, AuthenticatedClient, JoinRequest, ServerError, SocketIOServerHelper, Target,
    UNAUTHENTICATED_ROOM,
};

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

    /// Another client's id on this node: its id room is private to it (the
    /// rooms a send to that client reaches), so nobody may join it.
    fn is_local_socket_id(&self, record: &ClientRecord, room: &str) -> bool {
        room != record.id && self.record(room).is_some()
    }

    /// Keeps the rooms that are no other socket's id anywhere in the fleet;
    /// the others are rejected as protected. Only names shaped like a socket
    /// id (20 characters of URL-safe base64) are looked up on the other nodes,
    /// and a lookup that fails refuses the room: a spy must not get in
    /// because a node was slow to answer.
    async fn without_socket_id_rooms(
        &self,
        server: &SocketIOServerHelper,
        record: &ClientRecord,
        rooms: Vec<String>,
        rejected: &mut Vec<RejectedRoom>,
    ) -> Vec<String> {
        let mut kept = Vec::with_capacity(rooms.len());
        for room in rooms {
            let taken = if self.is_local_socket_id(record, &room) {
                true
            } else if room != record.id && looks_like_socket_id(&room) {
                match server.fetch_socket_ids(Target::room(room.as_str())).await {
                    Ok(ids) => ids.contains(&room),
                    Err(error) => {
                        client_warn!(record, %error, room, "join refused: cannot tell whether the room is another socket's id");
                        true
                    }
                }
            } else {
                false
            };
            if taken {
                rejected.push(RejectedRoom::new(room, RoomRejection::Protected));
            } else {
                kept.push(room);
            }
        }
        kept
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
        if guard.is_closed() {
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
            } else if self.is_local_socket_id(record, &room) {
                rejected.push(RejectedRoom::new(room, RoomRejection::Protected));
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
        if guard.is_closed() {
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

    pub(crate) async fn handle_join(
        self: &Arc<Self>,
        helper: SocketIOServerHelper,
        record: Arc<ClientRecord>,
        payload: Value,
        ack: Option<AckResponder>,
    ) {
        let answer = |ack: Option<AckResponder>, body: JoinAck| {
            let invalid =
                body.error.is_some() && body.joined.is_empty() && body.rejected.is_empty();
            self.metrics
                .room_request(false, body.joined.len(), body.rejected.len(), invalid);
            if let Some(ack) = ack {
                send_ack(&record, ack, &body, "join");
            }
        };
        let identity = record.lock().identity();
        let identity = match identity {
            Some(identity) => identity,
            None => {
                tracing::debug!(parent: &record.span, "join before authentication ignored");
                answer(
                    ack,
                    JoinAck {
                        error: Some(not_authenticated()),
                        ..JoinAck::default()
                    },
                );
                return;
            }
        };
        let request = match self.parse_join(&payload) {
            Ok(request) => request,
            Err(ServerError::InvalidRooms(error)) => {
                client_warn!(record, %error, "join refused: malformed request");
                answer(
                    ack,
                    JoinAck {
                        error: Some(error.to_body()),
                        ..JoinAck::default()
                    },
                );
                return;
            }
            Err(error) => {
                client_warn!(record, %error, "join refused");
                return;
            }
        };
        let mut rejected = request.rejected;
        let mut error = None;
        let allowed: HashSet<String> = match &self.validator {
            None => {
                client_warn!(record, rooms = ?request.accepted, "join rejected: no room validator configured");
                HashSet::new()
            }
            Some(_) if request.accepted.is_empty() => HashSet::new(),
            Some(validator) => {
                let join_request = JoinRequest {
                    client: AuthenticatedClient {
                        record: record.clone(),
                        server: helper.clone(),
                        identity,
                    },
                    rooms: request.accepted.clone(),
                };
                let validation = AssertUnwindSafe(validator.validate(join_request)).catch_unwind();
                match tokio::time::timeout(VALIDATOR_TIMEOUT, validation).await {
                    Ok(Ok(rooms)) => rooms.into_iter().collect(),
                    Err(_elapsed) => {
                        tracing::error!(parent: &record.span, timeout = ?VALIDATOR_TIMEOUT, "room validator timed out");
                        error = Some(ErrorBody {
                            code: "validator_timeout".to_owned(),
                            message: "the room validator did not answer in time".to_owned(),
                        });
                        HashSet::new()
                    }
                    Ok(Err(panic)) => {
                        tracing::error!(parent: &record.span, panic = %panic_message(panic.as_ref()), "room validator panicked");
                        error = Some(ErrorBody {
                            code: "validator_failed".to_owned(),
                            message: "the room validator failed".to_owned(),
                        });
                        HashSet::new()
                    }
                }
            }
        };
        // Only rooms both requested and returned: never trust the returned list.
        let mut granted = Vec::new();
        for room in request.accepted {
            if allowed.contains(&room) {
                granted.push(room);
            } else {
                rejected.push(RejectedRoom::new(room, RoomRejection::NotAllowed));
            }
        }
        let granted = self
            .without_socket_id_rooms(&helper, &record, granted, &mut rejected)
            .await;
        match self.apply_join(&record, granted, rejected) {
            Ok(mut body) => {
                tracing::info!(parent: &record.span, joined = ?body.joined, rejected = ?body.rejected, "join handled");
                body.error = error;
                answer(ack, body);
            }
            Err(error) => tracing::debug!(parent: &record.span, %error, "join dropped"),
        }
    }

    pub(crate) fn handle_leave(
        &self,
        record: &ClientRecord,
        payload: Value,
        ack: Option<AckResponder>,
    ) {
        let authenticated = record.lock().identity().is_some();
        let body = if !authenticated {
            tracing::debug!(parent: &record.span, "leave before authentication ignored");
            LeaveAck {
                error: Some(not_authenticated()),
                ..LeaveAck::default()
            }
        } else {
            match self.leave(record, &payload) {
                Ok(body) => body,
                Err(ServerError::InvalidRooms(error)) => {
                    client_warn!(record, %error, "leave refused: malformed request");
                    LeaveAck {
                        error: Some(error.to_body()),
                        ..LeaveAck::default()
                    }
                }
                Err(error) => {
                    tracing::debug!(parent: &record.span, %error, "leave dropped");
                    return;
                }
            }
        };
        let invalid = body.error.is_some() && body.left.is_empty() && body.rejected.is_empty();
        self.metrics
            .room_request(true, body.left.len(), body.rejected.len(), invalid);
        if let Some(ack) = ack {
            send_ack(record, ack, &body, "leave");
        }
    }
}

/// Whether `room` has the shape of a socket id (Node's and this engine's: 20
/// characters of URL-safe base64).
fn looks_like_socket_id(room: &str) -> bool {
    room.len() == 20
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
