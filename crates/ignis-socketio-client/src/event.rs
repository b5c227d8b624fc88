//! Events received from the server, the answer to a server's emit-with-ack,
//! and the encoding of outgoing events and acknowledgements into frames.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use ignis_socketio_engine::codec::{Frame, PacketKind, SocketPacket};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::{ClientError, ClientPayload};

/// The frames of one packet (its text, then its attachments), as queued for the writer.
pub(crate) type Frames = Vec<Frame>;
/// The session's outgoing queue.
pub(crate) type Outbound = mpsc::Sender<Frames>;

/// An event received from the server.
#[derive(Debug, Clone)]
pub struct Event {
    name: Arc<str>,
    payload: ClientPayload,
    ack: Option<AckResponder>,
}

impl Event {
    pub(crate) fn new(name: String, payload: ClientPayload, ack: Option<AckResponder>) -> Event {
        Event {
            name: Arc::from(name),
            payload,
            ack,
        }
    }

    /// The event name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// All arguments and attachments.
    pub fn payload(&self) -> &ClientPayload {
        &self.payload
    }

    /// The first argument (`null` when there is none), what the reference's handlers get.
    pub fn data(&self) -> &Value {
        self.payload.first().unwrap_or(&Value::Null)
    }

    /// Whether the server waits for an acknowledgement (it emitted with an ack).
    pub fn wants_ack(&self) -> bool {
        self.ack.is_some()
    }

    /// Answers the server's emit-with-ack. Only the first answer is sent;
    /// later ones, and answers to events that asked for none, return `Ok(false)`.
    ///
    /// A handler may return this result as it is (see [`HandlerOutcome`](crate::HandlerOutcome)):
    /// an error is then logged.
    ///
    /// ```
    /// use ignis_socketio_client::{Event, EventHandler};
    /// use serde_json::json;
    ///
    /// let handler = EventHandler::event(|event: Event| async move {
    ///     let q = event.data()["q"].as_i64().unwrap_or(0);
    ///     event.ack(json!({ "answer": q + 1 }))
    /// });
    /// # let _ = handler;
    /// ```
    pub fn ack(&self, payload: impl Into<ClientPayload>) -> Result<bool, ClientError> {
        match &self.ack {
            Some(responder) => responder.send(payload.into()),
            None => Ok(false),
        }
    }
}

/// Answers one emit-with-ack of the server, once.
#[derive(Debug, Clone)]
pub(crate) struct AckResponder {
    id: u64,
    namespace: Arc<str>,
    outbound: Outbound,
    sent: Arc<AtomicBool>,
}

impl AckResponder {
    pub(crate) fn new(id: u64, namespace: Arc<str>, outbound: Outbound) -> AckResponder {
        AckResponder {
            id,
            namespace,
            outbound,
            sent: Arc::new(AtomicBool::new(false)),
        }
    }

    fn send(&self, payload: ClientPayload) -> Result<bool, ClientError> {
        if self.sent.swap(true, Ordering::AcqRel) {
            return Ok(false);
        }
        let (args, binaries) = payload.into_parts();
        let frames = encode_frames(&self.namespace, Some(self.id), args, binaries, true);
        push_frames(&self.outbound, frames)?;
        Ok(true)
    }
}

/// Queues `frames` without waiting: an error when the queue is full or gone.
pub(crate) fn push_frames(outbound: &Outbound, frames: Frames) -> Result<(), ClientError> {
    outbound.try_send(frames).map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => ClientError::QueueFull,
        mpsc::error::TrySendError::Closed(_) => ClientError::NotConnected,
    })
}

/// The frames of an event (`is_ack` false, `args` starting with its name) or
/// of an acknowledgement: the packet's text, then its attachments.
pub(crate) fn encode_frames(
    namespace: &str,
    ack: Option<u64>,
    args: Vec<Value>,
    binaries: Vec<Bytes>,
    is_ack: bool,
) -> Frames {
    let kind = match (is_ack, binaries.is_empty()) {
        (false, true) => PacketKind::Event,
        (false, false) => PacketKind::BinaryEvent,
        (true, true) => PacketKind::Ack,
        (true, false) => PacketKind::BinaryAck,
    };
    let mut packet = SocketPacket::new(kind, namespace, Some(Value::Array(args)));
    packet.id = ack;
    packet.attachments = binaries.len();
    let mut frames = Vec::with_capacity(1 + binaries.len());
    frames.push(message_frame(&packet));
    frames.extend(binaries.into_iter().map(Frame::Binary));
    frames
}

/// The Engine.IO message frame (`4...`) carrying `packet`.
pub(crate) fn message_frame(packet: &SocketPacket) -> Frame {
    let mut text = String::from("4");
    text.push_str(&packet.encode());
    Frame::text(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn texts(frames: &Frames) -> Vec<String> {
        frames
            .iter()
            .map(|f| match f.parts() {
                (false, t) => String::from_utf8_lossy(t).into_owned(),
                (true, b) => format!("<{} bytes>", b.len()),
            })
            .collect()
    }

    #[test]
    fn events_and_acks_encode_like_socket_io() {
        let frames = encode_frames(
            "/",
            Some(5),
            vec![json!("ev"), json!({"x": [1, 2]})],
            vec![],
            false,
        );
        assert_eq!(texts(&frames), [r#"425["ev",{"x":[1,2]}]"#]);
        let bin = vec![json!("ev"), ignis_socketio_engine::codec::placeholder(0)];
        let frames = encode_frames("/ns", None, bin, vec![Bytes::from_static(b"abc")], false);
        assert_eq!(
            texts(&frames),
            [
                r#"451-/ns,["ev",{"_placeholder":true,"num":0}]"#,
                "<3 bytes>"
            ]
        );
        let frames = encode_frames("/", Some(9), vec![json!(true)], vec![], true);
        assert_eq!(texts(&frames), ["439[true]"]);
    }
}
