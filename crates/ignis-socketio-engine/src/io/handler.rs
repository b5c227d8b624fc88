//! What an application plugs into a namespace.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::codec::{Args, UnreadableEvent};

/// A boxed future returned by namespace handlers.
pub type HandlerFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An event a client emitted.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Its name.
    pub name: String,
    /// Its arguments, binary attachments included.
    pub args: Args,
}

/// Why a CONNECT was refused; the client receives it as `connect_error`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectRefusal {
    /// The message (`err.message` on a JavaScript client).
    pub message: String,
    /// Extra data (`err.data`), if any.
    pub data: Option<Value>,
}

impl ConnectRefusal {
    /// A refusal with a message.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectRefusal {
            message: message.into(),
            data: None,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut body = serde_json::json!({ "message": self.message });
        if let (Some(data), Some(map)) = (&self.data, body.as_object_mut()) {
            map.insert("data".to_owned(), data.clone());
        }
        body
    }
}

/// Why a socket left its namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The client left the namespace (DISCONNECT packet).
    ClientNamespaceDisconnect,
    /// The server made the socket leave ([`Socket::disconnect`](super::Socket::disconnect)).
    ServerNamespaceDisconnect,
    /// The connection ended; the engine's reason.
    Connection(String),
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => {
                f.write_str("client namespace disconnect")
            }
            DisconnectReason::ServerNamespaceDisconnect => {
                f.write_str("server namespace disconnect")
            }
            DisconnectReason::Connection(reason) => f.write_str(reason),
        }
    }
}

/// The error code of an event whose data does not read.
pub const UNREADABLE_DATA: &str = "unreadable_data";

/// The error body of an event whose data does not read: `{code:
/// "unreadable_data", message}`, the shape of the helper's other refusals.
pub fn unreadable_error(event: &UnreadableEvent) -> ignis_socketio_protocol::ErrorBody {
    ignis_socketio_protocol::ErrorBody {
        code: UNREADABLE_DATA.to_owned(),
        message: format!("the event's data cannot be read: {}", event.reason),
    }
}

/// The acknowledgement answering an event whose data does not read:
/// `{error: {code: "unreadable_data", message}}`.
pub fn unreadable_answer(event: &UnreadableEvent) -> Value {
    serde_json::json!({ "error": unreadable_error(event) })
}
