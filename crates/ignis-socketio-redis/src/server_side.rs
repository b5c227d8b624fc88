//! Node's `serverSideEmit` as received: the event handed to handlers and the
//! one-time acknowledgement back to the emitting server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::RedisAdapterError;
use crate::message::{Response, ResponseBody};
use crate::requests::NsCore;

/// What a server-side-emit handler receives.
pub struct ServerSideEvent {
    /// The event name.
    pub event: String,
    /// The arguments after the event name.
    pub args: Vec<serde_json::Value>,
    /// Present when the sender waits for an answer.
    pub ack: Option<ServerSideAck>,
}

impl std::fmt::Debug for ServerSideEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSideEvent")
            .field("event", &self.event)
            .field("args", &self.args)
            .field("wants_ack", &self.ack.is_some())
            .finish()
    }
}

/// Answers a server-side emit once (`{type:6, requestId, data}` on the generic
/// response channel, as Node does). Later calls are ignored.
#[derive(Clone)]
pub struct ServerSideAck {
    pub(crate) inner: Arc<AckReply>,
}

impl ServerSideAck {
    /// Sends `data` back to the emitting server.
    pub async fn send(&self, data: serde_json::Value) -> Result<(), RedisAdapterError> {
        self.inner.send(data).await
    }
}

/// A server-side-emit handler.
pub type ServerSideHandler = Arc<dyn Fn(ServerSideEvent) + Send + Sync>;

/// Replies once to a server-side emit with ack.
pub(crate) struct AckReply {
    pub(crate) core: Arc<NsCore>,
    pub(crate) request_id: String,
    pub(crate) sent: AtomicBool,
}

impl AckReply {
    pub(crate) async fn send(&self, data: serde_json::Value) -> Result<(), RedisAdapterError> {
        if self.sent.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let body = Response {
            request_id: self.request_id.clone(),
            body: ResponseBody::ServerSideEmitAck(data),
        }
        .encode();
        // Node always answers serverSideEmit on the generic channel.
        self.core.publish(&self.core.channels.response, body).await
    }
}
