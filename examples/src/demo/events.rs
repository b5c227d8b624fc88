//! The demo's socket events, registered on each client once it authenticated
//! (`docs/demo-server.md` "Socket events"): `chat:message`, `echo`, `get-clients`.

use ignis_socketio_protocol::now_timestamp;
use ignis_socketio_server::{
    AckResponder, AuthenticatedClient, EventData, Payload, ServerError, Target,
};
use serde_json::{Map, Value, json};

/// Client → server: a chat line, to a room or to everyone.
pub const CHAT_MESSAGE: &str = "chat:message";
/// Server → clients: a chat line sent without a room, to every authenticated client.
pub const CHAT_BROADCAST: &str = "chat:broadcast";
/// Server → sender: why its `chat:message` was refused, `{code, message, room?}`,
/// when it asked for no acknowledgement (otherwise the acknowledgement says it).
pub const CHAT_ERROR: &str = "chat:error";
/// Client → server: any value, answered with [`ECHO_RESPONSE`].
pub const ECHO: &str = "echo";
/// Server → sender: `{original, timestamp}`.
pub const ECHO_RESPONSE: &str = "echo:response";
/// Client → server: asks for the ids of this node's clients.
pub const GET_CLIENTS: &str = "get-clients";
/// Server → sender: `{count, clients: [ids]}`.
pub const CLIENTS_LIST: &str = "clients:list";

/// Registers the demo's events on a freshly authenticated client.
pub fn register_client_handlers(client: &AuthenticatedClient) {
    client.on(CHAT_MESSAGE, on_chat_message);
    client.on(ECHO, on_echo);
    client.on(GET_CLIENTS, on_get_clients);
}

/// Where a `chat:message` goes: a room, or (no room, null or empty) everyone.
#[derive(Debug, PartialEq)]
enum ChatDestination {
    Room(String),
    Everyone,
}

/// Why a `chat:message` is not delivered; told to the sender.
#[derive(Debug, PartialEq)]
enum ChatRefusal {
    /// Not `{room?, message}`: the payload is not an object, or `room` not a string.
    InvalidPayload(&'static str),
    /// A room the sender is not in (its own id room and the default rooms do not count).
    NotInRoom(String),
    /// The send itself failed (e.g. the adapter could not publish).
    SendFailed(String),
}

impl ChatRefusal {
    /// `{code, message, room?}`: the `chat:error` payload, and the `error` of an acknowledgement.
    fn to_json(&self) -> Value {
        match self {
            ChatRefusal::InvalidPayload(reason) => json!({
                "code": "invalid_payload",
                "message": format!("chat:message must be {{room?, message}}: {reason}"),
            }),
            ChatRefusal::NotInRoom(room) => json!({
                "code": "not_in_room",
                "message": format!("Join room {room} before sending to it"),
                "room": room,
            }),
            ChatRefusal::SendFailed(reason) => json!({
                "code": "send_failed",
                "message": format!("The message could not be sent: {reason}"),
            }),
        }
    }
}

/// Reads `{room?, message}`; a payload that is not an object, or a `room` that
/// is not a string, is refused with a reason.
fn parse_chat(data: &Value) -> Result<(ChatDestination, Value), &'static str> {
    let object = data.as_object().ok_or("payload is not an object")?;
    let destination = match object.get("room") {
        None | Some(Value::Null) => ChatDestination::Everyone,
        Some(Value::String(room)) if room.is_empty() => ChatDestination::Everyone,
        Some(Value::String(room)) => ChatDestination::Room(room.clone()),
        Some(_) => return Err("\"room\" is not a string"),
    };
    let message = object.get("message").cloned().unwrap_or(Value::Null);
    Ok((destination, message))
}

/// Whether a client in `rooms` may chat in `room`: it must be one of them and
/// neither its own id room nor a default room (every client is in those, so
/// they would let anyone reach one socket, or everyone, as `chat:message`).
fn may_chat_in(room: &str, rooms: &[String], own_id: &str, default_rooms: &[String]) -> bool {
    room != own_id && !default_rooms.iter().any(|d| d == room) && rooms.iter().any(|r| r == room)
}

/// Checks the request against the contract: what to send where, or why not.
fn accept_chat(
    client: &AuthenticatedClient,
    data: &Value,
) -> Result<(ChatDestination, Value), ChatRefusal> {
    let (destination, message) = parse_chat(data).map_err(ChatRefusal::InvalidPayload)?;
    if let ChatDestination::Room(room) = &destination {
        let default_rooms = &client.server().options().default_rooms;
        if !may_chat_in(room, &client.rooms(), client.id(), default_rooms) {
            return Err(ChatRefusal::NotInRoom(room.clone()));
        }
    }
    Ok((destination, message))
}

/// `chat:message {room?, message}`: with a room the sender joined, `chat:message`
/// to that room; without a room, `chat:broadcast` to every authenticated client.
/// A refused request is delivered to nobody and the sender is told why: in the
/// acknowledgement `{error: {code, message, room?}}` when it asked for one,
/// otherwise as a `chat:error {code, message, room?}` event. An accepted one is
/// acknowledged with `{ok: true}`.
async fn on_chat_message(
    client: AuthenticatedClient,
    data: Value,
    ack: Option<AckResponder>,
) -> Result<(), ServerError> {
    relay_chat_message(client, data, ack, Map::new()).await
}

/// The `chat:message` handler with `extra` fields added to every line it
/// delivers (beside `from`, `message` and `timestamp`, which win over an
/// `extra` of the same name): `chat-server` adds the sender's display name.
pub async fn relay_chat_message(
    client: AuthenticatedClient,
    data: Value,
    ack: Option<AckResponder>,
    extra: Map<String, Value>,
) -> Result<(), ServerError> {
    let sent = match accept_chat(&client, &data) {
        Ok((destination, message)) => {
            let mut line = extra;
            line.insert("from".into(), client.id().into());
            line.insert("message".into(), message);
            line.insert("timestamp".into(), now_timestamp().into());
            let (target, topic) = match destination {
                ChatDestination::Room(room) => (Target::room(room), CHAT_MESSAGE),
                ChatDestination::Everyone => (Target::all(), CHAT_BROADCAST),
            };
            client
                .server()
                .send(target, topic, &line)
                .await
                .map_err(|error| {
                    tracing::warn!(socket_id = %client.id(), %error, "chat:message not sent");
                    ChatRefusal::SendFailed(error.to_string())
                })
        }
        Err(refusal) => {
            tracing::debug!(socket_id = %client.id(), ?refusal, "refused a chat:message");
            Err(refusal)
        }
    };
    match (sent, ack) {
        (Ok(()), Some(ack)) => ack.send(&json!({ "ok": true })),
        (Ok(()), None) => Ok(()),
        (Err(refusal), Some(ack)) => ack.send(&json!({ "error": refusal.to_json() })),
        (Err(refusal), None) => client.emit(CHAT_ERROR, &refusal.to_json()),
    }
}

/// Answers with the data as it came: binary attachments go back as binary.
async fn on_echo(client: AuthenticatedClient, data: EventData) -> Result<(), ServerError> {
    let reply = data.map(|original| json!({ "original": original, "timestamp": now_timestamp() }));
    client.emit_payload(ECHO_RESPONSE, Payload::Data(reply))
}

async fn on_get_clients(client: AuthenticatedClient, _data: Value) -> Result<(), ServerError> {
    let ids: Vec<String> = client
        .server()
        .get_clients()
        .into_iter()
        .map(|c| c.id)
        .collect();
    client.emit(CLIENTS_LIST, &json!({ "count": ids.len(), "clients": ids }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_without_room_null_or_empty_room_goes_to_everyone() {
        for data in [
            json!({"message": "hi"}),
            json!({"room": null, "message": "hi"}),
            json!({"room": "", "message": "hi"}),
        ] {
            assert_eq!(
                parse_chat(&data).unwrap(),
                (ChatDestination::Everyone, json!("hi"))
            );
        }
    }

    #[test]
    fn chat_with_room_goes_to_the_room() {
        let parsed = parse_chat(&json!({"room": "r", "message": 0})).unwrap();
        assert_eq!(parsed, (ChatDestination::Room("r".into()), json!(0)));
    }

    #[test]
    fn only_rooms_joined_beyond_the_own_and_default_rooms_take_chat() {
        let defaults = ["io-default".to_owned(), "io-notification".to_owned()];
        let rooms: Vec<String> = ["me", "io-default", "io-notification", "public-a"]
            .map(String::from)
            .to_vec();
        assert!(may_chat_in("public-a", &rooms, "me", &defaults));
        for refused in [
            "me",
            "io-default",
            "io-notification",
            "public-b",
            "other-id",
        ] {
            assert!(!may_chat_in(refused, &rooms, "me", &defaults), "{refused}");
        }
    }

    #[test]
    fn refusals_carry_a_code_and_a_message() {
        let not_in = ChatRefusal::NotInRoom("r".into()).to_json();
        assert_eq!(not_in["code"], "not_in_room");
        assert_eq!(not_in["room"], "r");
        let invalid = ChatRefusal::InvalidPayload("payload is not an object").to_json();
        assert_eq!(invalid["code"], "invalid_payload");
        assert!(
            invalid["message"]
                .as_str()
                .unwrap()
                .contains("not an object")
        );
    }

    #[test]
    fn malformed_chat_payloads_are_refused() {
        for data in [
            json!(null),
            json!("x"),
            json!(5),
            json!([]),
            json!({"room": 5}),
        ] {
            assert!(parse_chat(&data).is_err(), "{data}");
        }
    }
}
