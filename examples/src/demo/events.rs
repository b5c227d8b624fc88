//! The demo's socket events, registered on each client once it authenticated
//! (DEMO-SERVER.md "Socket events"): `chat:message`, `echo`, `get-clients`.

use ignis_socketio_protocol::now_timestamp;
use ignis_socketio_server::{AuthenticatedClient, ServerError, Target};
use serde_json::{Value, json};

/// Client → server: a chat line, to a room or to everyone.
pub const CHAT_MESSAGE: &str = "chat:message";
/// Server → clients: a chat line sent without a room, to every authenticated client.
pub const CHAT_BROADCAST: &str = "chat:broadcast";
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

/// Reads `{room?, message}`; a payload that is not an object, or a `room` that
/// is not a string, is refused with a reason (logged, nothing sent).
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

async fn on_chat_message(client: AuthenticatedClient, data: Value) -> Result<(), ServerError> {
    let (destination, message) = match parse_chat(&data) {
        Ok(parsed) => parsed,
        Err(reason) => {
            tracing::warn!(socket_id = %client.id(), reason, "ignored a malformed chat:message");
            return Ok(());
        }
    };
    let line = json!({ "from": client.id(), "message": message, "timestamp": now_timestamp() });
    let (target, topic) = match destination {
        ChatDestination::Room(room) => (Target::room(room), CHAT_MESSAGE),
        ChatDestination::Everyone => (Target::all(), CHAT_BROADCAST),
    };
    client.server().send(target, topic, &line).await
}

async fn on_echo(client: AuthenticatedClient, data: Value) -> Result<(), ServerError> {
    let reply = json!({ "original": data, "timestamp": now_timestamp() });
    client.emit(ECHO_RESPONSE, &reply)
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
