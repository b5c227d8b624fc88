//! What `chat-server` adds to the demo's chat events: a display name per
//! client (chosen on the page, sent in the handshake `auth.name`, kept in the
//! identity's claims, shown with each line) and the member list of each room,
//! sent to the room whenever someone joins, leaves or goes away.
//!
//! Member lists are fleet-wide when the server runs on Redis: the names come
//! from Node's `fetchSockets()` over the adapter (every node publishes its
//! sockets' identities with the component's `RedisSocketDetails`). Without Redis they are the
//! clients of this one node, which is then the whole chat.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use ignis_socketio_redis::RedisAdapterState;
use ignis_socketio_server::{
    AckResponder, AuthenticatedClient, ClientInfo, Handshake, Identity, ServerError,
    SocketIOServerHelper, Target,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::demo::events;

/// Client → server: `{rooms: [..]}`, asks for the member lists of these rooms
/// (of those the client is in) to be sent to each room; the page sends it
/// once its `join` is acknowledged.
pub const CHAT_WHO: &str = "chat:who";
/// Client → server: `{rooms: [..]}`, leaves rooms (acknowledged like `leave`)
/// and tells the rooms their new member list.
pub const CHAT_LEAVE: &str = "chat:leave";
/// Server → room: `{room, members: [{id, name}]}`, sorted by name.
pub const CHAT_MEMBERS: &str = "chat:members";
/// Server → client, once authenticated: `{id, name}`, the name the server kept.
pub const CHAT_WELCOME: &str = "chat:welcome";

/// Longest display name kept, in characters.
pub const MAX_NAME_CHARS: usize = 32;
/// The name of a client that chose none (or only spaces and control characters).
pub const FALLBACK_NAME: &str = "guest";

/// The display name in a handshake's `auth.name`: control and bidirectional
/// formatting characters dropped, runs of white space made one space, trimmed,
/// cut to [`MAX_NAME_CHARS`]; [`FALLBACK_NAME`] when nothing is left or the
/// value is not a string. The page renders it as text, never as HTML.
pub fn display_name(auth: &Value) -> String {
    let raw = auth.get("name").and_then(Value::as_str).unwrap_or_default();
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .filter(|c| !is_bidi_control(*c))
        .collect();
    let name: String = cleaned
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim_end().to_owned();
    if name.is_empty() {
        FALLBACK_NAME.to_owned()
    } else {
        name
    }
}

/// Characters that reorder the text around them (embeddings, overrides, isolates).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The identity `chat-server` gives an accepted client: the display name in
/// its claims, `{"name": ..}`.
pub fn chat_identity(handshake: &Handshake) -> Identity {
    Identity::new("chat-user").with_claims(json!({ "name": display_name(handshake.auth()) }))
}

/// The display name kept in an identity's claims.
pub fn name_in(identity: &Identity) -> &str {
    identity
        .claims()
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(FALLBACK_NAME)
}

/// One line of a room's member list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Member {
    /// The display name.
    pub name: String,
    /// The socket id.
    pub id: String,
}

/// Where the member lists come from: this node's clients, or every node's
/// through Redis.
#[derive(Clone)]
enum Source {
    /// The in-memory adapter: this node is the whole chat.
    Local,
    /// The Redis adapter: `fetchSockets()` over the fleet.
    Redis(RedisAdapterState),
}

/// The rooms' member lists: where they come from, and which rooms each
/// client of this node was listed in (so that its going is told to them:
/// the last snapshot the disconnect handler gets of a client that closed its
/// connection lists only its own id room, the others are already left).
#[derive(Clone)]
pub struct Directory {
    source: Source,
    listed: Arc<Mutex<HashMap<String, BTreeSet<String>>>>,
}

impl Directory {
    /// Member lists of this node's clients (the in-memory adapter).
    pub fn local() -> Self {
        Self::with(Source::Local)
    }

    /// Member lists of every node on this Redis (`fetchSockets()`).
    pub fn redis(state: RedisAdapterState) -> Self {
        Self::with(Source::Redis(state))
    }

    fn with(source: Source) -> Self {
        Directory {
            source,
            listed: Arc::default(),
        }
    }

    /// Runs `f` on the map of rooms each client was listed in.
    fn with_listed<T>(&self, f: impl FnOnce(&mut HashMap<String, BTreeSet<String>>) -> T) -> T {
        let mut listed = self.listed.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut listed)
    }

    /// The members of `room`, without `except` (a socket on its way out),
    /// sorted by name then id.
    pub async fn members(
        &self,
        io: &SocketIOServerHelper,
        room: &str,
        except: Option<&str>,
    ) -> Result<Vec<Member>, String> {
        let mut members: Vec<Member> = match &self.source {
            Source::Local => io
                .get_clients()
                .into_iter()
                .filter(|c| c.rooms.iter().any(|r| r == room))
                .filter_map(|c| {
                    let name = name_in(c.identity.as_ref()?).to_owned();
                    Some(Member { name, id: c.id })
                })
                .collect(),
            Source::Redis(state) => {
                let except: Vec<String> = except.map(str::to_owned).into_iter().collect();
                state
                    .fetch_sockets("/", vec![room.to_owned()], except)
                    .await
                    .map_err(|error| error.to_string())?
                    .into_iter()
                    .map(|socket| {
                        let name = socket.data["identity"]["claims"]["name"]
                            .as_str()
                            .unwrap_or(FALLBACK_NAME)
                            .to_owned();
                        Member {
                            name,
                            id: socket.id,
                        }
                    })
                    .collect()
            }
        };
        members.retain(|m| Some(m.id.as_str()) != except);
        members.sort();
        members.dedup_by(|a, b| a.id == b.id);
        Ok(members)
    }

    /// Sends `chat:members {room, members}` to everyone in `room`; failures
    /// are logged (a member list is a courtesy, never worth failing a request).
    pub async fn announce(&self, io: &SocketIOServerHelper, room: &str, except: Option<&str>) {
        if io.is_shut_down() {
            return;
        }
        let members = match self.members(io, room, except).await {
            Ok(members) => members,
            Err(error) => {
                tracing::warn!(room, %error, "cannot list the room's members");
                return;
            }
        };
        let list = json!({ "room": room, "members": members });
        if let Err(error) = io.send(Target::room(room), CHAT_MEMBERS, &list).await {
            tracing::warn!(room, %error, "cannot send the room's members");
        }
    }
}

/// Rooms worth a member list: the chat rooms among `rooms`, not the client's
/// own id room nor a default room.
fn chat_rooms(io: &SocketIOServerHelper, rooms: &[String], own_id: &str) -> Vec<String> {
    let defaults = &io.options().default_rooms;
    rooms
        .iter()
        .filter(|r| r.as_str() != own_id && !defaults.contains(r))
        .cloned()
        .collect()
}

/// The `rooms` array of a `{rooms: [..]}` request (strings only).
fn requested_rooms(data: &Value) -> Vec<String> {
    data.get("rooms")
        .and_then(Value::as_array)
        .map(|rooms| {
            rooms
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Registers the chat's events on an authenticated client: the demo's
/// (`chat:message` with the sender's `name` added to each line), `chat:who`
/// and `chat:leave`; then greets it with `chat:welcome {id, name}`.
pub fn register_chat_handlers(client: &AuthenticatedClient, directory: Directory) {
    events::register_client_handlers(client);
    let name = name_in(client.identity()).to_owned();
    client.on(
        events::CHAT_MESSAGE,
        move |client: AuthenticatedClient, data: Value, ack: Option<AckResponder>| {
            let mut extra = Map::new();
            extra.insert("name".into(), Value::from(name.clone()));
            events::relay_chat_message(client, data, ack, extra)
        },
    );
    let who = directory.clone();
    client.on(CHAT_WHO, move |client: AuthenticatedClient, data: Value| {
        let directory = who.clone();
        async move {
            let mine = client.rooms();
            let wanted: Vec<String> = requested_rooms(&data)
                .into_iter()
                .filter(|r| mine.contains(r))
                .collect();
            let rooms = chat_rooms(client.server(), &wanted, client.id());
            directory.with_listed(|listed| {
                listed
                    .entry(client.id().to_owned())
                    .or_default()
                    .extend(rooms.iter().cloned())
            });
            for room in rooms {
                directory.announce(client.server(), &room, None).await;
            }
            Ok::<(), ServerError>(())
        }
    });
    client.on(
        CHAT_LEAVE,
        move |client: AuthenticatedClient, data: Value, ack: Option<AckResponder>| {
            let directory = directory.clone();
            async move {
                let left = match client.leave(requested_rooms(&data)) {
                    Ok(left) => left,
                    Err(error) => {
                        // Answered, so that the page's callback still runs.
                        let refused = json!({ "left": [], "rejected": [], "error": {
                            "code": "leave_failed", "message": error.to_string() } });
                        return match ack {
                            Some(ack) => ack.send(&refused),
                            None => Err(error),
                        };
                    }
                };
                directory.with_listed(|listed| {
                    if let Some(rooms) = listed.get_mut(client.id()) {
                        rooms.retain(|r| !left.left.contains(r));
                    }
                });
                for room in chat_rooms(client.server(), &left.left, client.id()) {
                    directory.announce(client.server(), &room, None).await;
                }
                match ack {
                    Some(ack) => ack.send(&left),
                    None => Ok(()),
                }
            }
        },
    );
    let welcome = json!({ "id": client.id(), "name": name_in(client.identity()) });
    if let Err(error) = client.emit(CHAT_WELCOME, &welcome) {
        tracing::debug!(socket_id = %client.id(), %error, "chat:welcome not sent");
    }
}

/// Tells the rooms of a client that went away their new member list. `io` is
/// filled in once the helper is built (the handler is registered before).
pub async fn on_client_gone(
    io: Arc<OnceLock<SocketIOServerHelper>>,
    directory: Directory,
    client: ClientInfo,
) {
    let Some(io) = io.get() else { return };
    let listed = directory
        .with_listed(|listed| listed.remove(&client.id))
        .unwrap_or_default();
    if client.identity.is_none() {
        return;
    }
    let mut rooms: BTreeSet<String> = chat_rooms(io, &client.rooms, &client.id)
        .into_iter()
        .collect();
    rooms.extend(listed);
    for room in rooms {
        directory.announce(io, &room, Some(&client.id)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(value: Value) -> String {
        display_name(&json!({ "name": value }))
    }

    #[test]
    fn names_are_trimmed_collapsed_and_cut() {
        assert_eq!(name(json!("  Alice  ")), "Alice");
        assert_eq!(name(json!("Bob \t\n  Smith")), "Bob Smith");
        let long = "x".repeat(100);
        assert_eq!(name(json!(long)).chars().count(), MAX_NAME_CHARS);
        assert_eq!(name(json!("ééé")), "ééé");
    }

    #[test]
    fn empty_missing_or_odd_names_fall_back() {
        assert_eq!(name(json!("")), FALLBACK_NAME);
        assert_eq!(name(json!("   \u{202e}\u{0007} ")), FALLBACK_NAME);
        assert_eq!(name(json!(42)), FALLBACK_NAME);
        assert_eq!(display_name(&json!(null)), FALLBACK_NAME);
        assert_eq!(display_name(&json!({})), FALLBACK_NAME);
    }

    #[test]
    fn control_and_bidi_characters_are_dropped_markup_is_kept_as_text() {
        assert_eq!(name(json!("a\u{0000}b\u{202e}c")), "abc");
        assert_eq!(name(json!("<b>x</b>")), "<b>x</b>");
    }

    #[test]
    fn requested_rooms_keeps_strings_only() {
        assert_eq!(
            requested_rooms(&json!({"rooms": ["a", 1, "b"]})),
            ["a", "b"]
        );
        assert!(requested_rooms(&json!("a")).is_empty());
    }
}
