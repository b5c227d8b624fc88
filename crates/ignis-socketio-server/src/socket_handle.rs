//! What the helper needs from an engine socket, behind a trait so that the
//! registry does not depend on the engine.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::{Payload, ServerError};

/// What the helper needs from an engine socket.
#[async_trait]
pub(crate) trait SocketHandle: Send + Sync + 'static {
    /// Emits an event directly on the socket (no adapter round trip).
    fn emit(&self, event: &str, data: &Payload) -> Result<(), ServerError>;
    /// Emits an event and waits for the client's acknowledgement.
    async fn emit_with_ack(
        &self,
        event: &str,
        data: &Payload,
        timeout: Duration,
    ) -> Result<Value, ServerError>;
    /// Joins rooms on this node.
    fn join(&self, rooms: Vec<String>);
    /// Leaves rooms on this node.
    fn leave(&self, rooms: Vec<String>);
    /// The rooms of the socket on this node, the internal room included.
    fn rooms(&self) -> Vec<String>;
    /// Namespace-level disconnect: the client sees `io server disconnect`.
    fn disconnect(&self);
    /// Whether the socket is connected to the namespace.
    fn connected(&self) -> bool;
    /// The transport in use (`websocket` or `polling`).
    fn transport(&self) -> &'static str;
}
