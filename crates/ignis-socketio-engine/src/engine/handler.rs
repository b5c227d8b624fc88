//! What the layer above the engine (Socket.IO, or an application speaking
//! bare Engine.IO) plugs in: one [`Connection`] per session, fed the client's
//! messages in arrival order.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use tokio::time::Instant;

use super::session::{CloseReason, Session};

/// Work that a message starts. The engine runs the works of one session one
/// at a time, in the order of the messages that started them, so a client's
/// events reach the application in order and a slow handler delays only its
/// own client.
pub type Work = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A message of the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

/// The per-session side of the layer above the engine. `Unpin` because the
/// session's task holds it inline (no box per connection).
pub trait Connection: Send + Unpin + 'static {
    /// A message arrived. What must happen at once (answering an
    /// acknowledgement, collecting binary attachments) happens here; what
    /// is returned runs after the works of earlier messages. An error is a
    /// protocol violation: the session is closed with it.
    fn on_message(&mut self, message: Message) -> Result<Option<Work>, String>;

    /// When [`Connection::on_deadline`] should be called next, if ever.
    fn deadline(&self) -> Option<Instant> {
        None
    }

    /// The deadline passed.
    fn on_deadline(&mut self) {}

    /// The session moved from polling to WebSocket (its upgrade completed);
    /// [`Session::transport`] now says so.
    fn on_upgrade(&mut self) {}

    /// The session ended; called once, after the last work finished.
    fn on_close(&mut self, reason: &CloseReason);
}

/// Opens a [`Connection`] for every new session.
pub trait EngineHandler: Send + Sync + 'static {
    /// The per-session state.
    type Connection: Connection;

    /// A session opened; `request` is the request that opened it (its headers,
    /// URI and extensions, among them the peer's address where the server
    /// provides it), handed over so that the connection keeps the one copy.
    fn on_open(&self, session: &Arc<Session>, request: http::request::Parts) -> Self::Connection;
}
