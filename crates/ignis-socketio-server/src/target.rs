//! Where `send` delivers, and what it delivers.

use bytes::Bytes;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// The destination of [`crate::SocketIOServerHelper::send`].
///
/// Sends go through the adapter, so with a cluster adapter (Redis) they reach
/// the matching sockets on every node.
///
/// ```
/// use ignis_socketio_server::Target;
/// let everyone = Target::all();                       // every authenticated socket
/// let news = Target::room("news").except(["muted"]); // a room minus another one
/// let one = Target::socket("AbCdEf0123456789");       // one socket, by id
/// let several = Target::rooms(["a", "b"]);            // the union of rooms
/// # let _ = (everyone, news, one, several);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    pub(crate) rooms: Vec<String>,
    pub(crate) except: Vec<String>,
    pub(crate) local: bool,
}

impl Target {
    /// Every **authenticated** socket, on every node (sockets that have not
    /// authenticated yet are excluded, unlike the reference).
    pub fn all() -> Self {
        Target::default()
    }

    /// The sockets in `room` (a room name or a socket id).
    pub fn room(room: impl Into<String>) -> Self {
        Target {
            rooms: vec![room.into()],
            ..Target::default()
        }
    }

    /// One socket, by id (every socket is in the room named after its id).
    pub fn socket(id: impl Into<String>) -> Self {
        Target::room(id)
    }

    /// The sockets in any of `rooms`. An empty list means [`Target::all`].
    pub fn rooms<I, S>(rooms: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Target {
            rooms: rooms.into_iter().map(Into::into).collect(),
            ..Target::default()
        }
    }

    /// Excludes the sockets in `rooms` (room names or socket ids).
    pub fn except<I, S>(mut self, rooms: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.except.extend(rooms.into_iter().map(Into::into));
        self
    }

    /// Restricts the send to the sockets of this node (no cluster round trip).
    pub fn local(mut self) -> Self {
        self.local = true;
        self
    }

    /// Whether this is a broadcast to every authenticated socket.
    pub fn is_all(&self) -> bool {
        self.rooms.is_empty()
    }

    /// The rooms targeted (empty for [`Target::all`]).
    pub fn target_rooms(&self) -> &[String] {
        &self.rooms
    }

    /// The rooms excluded.
    pub fn excluded_rooms(&self) -> &[String] {
        &self.except
    }
}

/// The data of an event: any JSON value (including `0`, `false`, `""` and
/// `null`), or a binary payload sent as a Socket.IO binary attachment.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A JSON value.
    Json(Value),
    /// Raw bytes, received by JavaScript clients as an `ArrayBuffer`/`Buffer`.
    Binary(Bytes),
    /// JSON with binary attachments inside it (for example a client's
    /// [`EventData`](crate::EventData) sent back as received).
    Data(crate::EventData),
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Payload::Json(value) => value.serialize(serializer),
            Payload::Binary(bytes) => serializer.serialize_bytes(bytes),
            Payload::Data(data) => data.json().serialize(serializer),
        }
    }
}

impl From<Value> for Payload {
    fn from(value: Value) -> Self {
        Payload::Json(value)
    }
}

impl From<crate::EventData> for Payload {
    fn from(data: crate::EventData) -> Self {
        Payload::Data(data)
    }
}

impl Payload {
    /// A payload from any serde value: JSON, or [`Payload::Data`] when it
    /// holds bytes (`bytes::Bytes`, `serde_bytes`), which then travel as
    /// binary attachments.
    pub fn from_serialize<T: Serialize + ?Sized>(data: &T) -> Result<Self, crate::DataError> {
        let data = crate::EventData::from_serialize(data)?;
        Ok(if data.attachments().is_empty() {
            Payload::Json(data.value().clone())
        } else {
            Payload::Data(data)
        })
    }
}

impl From<Bytes> for Payload {
    fn from(bytes: Bytes) -> Self {
        Payload::Binary(bytes)
    }
}

/// One socket's answer to [`crate::SocketIOServerHelper::send_with_ack`].
#[derive(Debug, Clone, PartialEq)]
pub struct AckReply {
    /// The socket that answered (or failed to).
    pub socket_id: String,
    /// Its acknowledgement data, or why none arrived (timeout, disconnect).
    pub result: Result<Value, String>,
}
