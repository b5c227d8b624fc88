//! A socket: one client connected to one namespace.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::oneshot;

use super::frames;
use super::types::{AckSender, Client, Namespace, Socket, SocketInner};
use crate::codec::{Args, PacketKind};
use crate::engine::{CloseReason, SendError, TransportKind};

/// Why an acknowledgement did not arrive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// No answer within the timeout.
    #[error("no acknowledgement within {0:?}")]
    Timeout(Duration),
    /// The socket disconnected first.
    #[error("the socket disconnected before acknowledging")]
    Disconnected,
    /// The packet could not be queued.
    #[error(transparent)]
    Send(#[from] SendError),
}

/// The connect handler is running: rooms may be joined, nothing is sent.
const PENDING: u8 = 0;
/// In the namespace.
const CONNECTED: u8 = 1;
/// Left the namespace, or was refused: final.
const GONE: u8 = 2;

/// A CONNECT `auth` payload as the JSON text a socket keeps (`None` for no
/// payload or `null`): a parsed object costs over half a KiB per connection.
pub fn auth_text(auth: Option<serde_json::Value>) -> Option<Arc<str>> {
    auth.filter(|auth| !auth.is_null())
        .and_then(|auth| serde_json::to_string(&auth).ok())
        .map(Arc::from)
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.0.id)
            .field("nsp", &self.0.ns.name())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Socket {
    pub(crate) fn new(
        id: String,
        ns: Arc<Namespace>,
        client: Arc<Client>,
        auth: Option<serde_json::Value>,
    ) -> Socket {
        Socket(Arc::new(SocketInner {
            id: id.into_boxed_str(),
            ns,
            client,
            rooms: Mutex::new(Vec::new()),
            auth: auth_text(auth),
            acks: Mutex::new(None),
            state: AtomicU8::new(PENDING),
        }))
    }

    /// The socket id (distinct from the Engine.IO session id).
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The namespace's name.
    pub fn nsp(&self) -> &str {
        self.0.ns.name()
    }

    /// The Engine.IO session id of the connection.
    pub fn session_id(&self) -> &str {
        self.0.client.session.id()
    }

    /// The payload of the client's CONNECT packet (`auth` of a JavaScript
    /// client), if it sent one; parsed on each call.
    pub fn auth(&self) -> Option<serde_json::Value> {
        self.0
            .auth
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
    }

    /// The same payload as JSON text, shared (no copy).
    pub fn shared_auth(&self) -> Option<Arc<str>> {
        self.0.auth.clone()
    }

    /// The request that opened the connection (headers, URI, extensions).
    pub fn request(&self) -> &http::request::Parts {
        &self.0.client.request
    }

    /// The same request, shared: for state that outlives a borrow of the
    /// socket without copying the headers.
    pub fn shared_request(&self) -> Arc<http::request::Parts> {
        self.0.client.request.clone()
    }

    /// The transport currently carrying the connection.
    pub fn transport(&self) -> TransportKind {
        self.0.client.session.transport()
    }

    /// Whether the socket is still connected to its namespace.
    pub fn connected(&self) -> bool {
        self.0.state.load(Ordering::Acquire) == CONNECTED
    }

    /// Pending → connected; false if the socket is gone already.
    pub(crate) fn mark_connected(&self) -> bool {
        self.0
            .state
            .compare_exchange(PENDING, CONNECTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Marks the socket gone; true if it was connected until now.
    pub(crate) fn mark_gone(&self) -> bool {
        self.0.state.swap(GONE, Ordering::AcqRel) == CONNECTED
    }

    pub(crate) fn is_gone(&self) -> bool {
        self.0.state.load(Ordering::Acquire) == GONE
    }

    /// Sends an event with `data` as its argument (a tuple is several).
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        let args = crate::codec::to_args(data).map_err(EmitError::Serialize)?;
        Ok(self.emit_args(event, &args)?)
    }

    /// Sends an event with its arguments (binary attachments included).
    pub fn emit_args(&self, event: &str, args: &Args) -> Result<(), SendError> {
        self.send_frames(&frames::event(self.nsp(), event, args, None))?;
        self.tell_sent(event, args);
        Ok(())
    }

    fn tell_sent(&self, event: &str, args: &Args) {
        if let Some(monitor) = self.0.ns.monitor() {
            monitor.event_sent(self, event, args);
        }
    }

    pub(crate) fn send_frames(&self, frames: &[crate::codec::Frame]) -> Result<(), SendError> {
        if !self.connected() {
            return Err(SendError::Closed);
        }
        self.0.client.session.send_frames(frames)
    }

    /// Sends an event and waits for the client's acknowledgement.
    pub async fn emit_with_ack(
        &self,
        event: &str,
        args: &Args,
        timeout: Duration,
    ) -> Result<Args, AckError> {
        let id = self.0.ns.next_ack_id();
        let rx = self.register_ack(id);
        if let Err(error) = self.emit_frames_with_id(event, args, id) {
            self.forget_ack(id);
            return Err(error.into());
        }
        self.wait_ack(id, rx, timeout).await
    }

    pub(crate) fn emit_frames_with_id(
        &self,
        event: &str,
        args: &Args,
        id: u64,
    ) -> Result<(), SendError> {
        self.send_frames(&frames::event(self.nsp(), event, args, Some(id)))?;
        self.tell_sent(event, args);
        Ok(())
    }

    pub(crate) fn register_ack(&self, id: u64) -> oneshot::Receiver<Args> {
        let (tx, rx) = oneshot::channel();
        lock(&self.0.acks)
            .get_or_insert_with(Default::default)
            .insert(id, tx);
        rx
    }

    pub(crate) async fn wait_ack(
        &self,
        id: u64,
        rx: oneshot::Receiver<Args>,
        timeout: Duration,
    ) -> Result<Args, AckError> {
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(args)) => Ok(args),
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => {
                self.forget_ack(id);
                Err(AckError::Timeout(timeout))
            }
        }
    }

    fn forget_ack(&self, id: u64) {
        let mut acks = lock(&self.0.acks);
        if let Some(map) = acks.as_mut() {
            map.remove(&id);
            if map.is_empty() {
                *acks = None;
            }
        }
    }

    /// The client acknowledged `id`.
    pub(crate) fn resolve_ack(&self, id: u64, args: Args) {
        let waiter = {
            let mut acks = lock(&self.0.acks);
            let waiter = acks.as_mut().and_then(|map| map.remove(&id));
            if acks.as_ref().is_some_and(|m| m.is_empty()) {
                *acks = None;
            }
            waiter
        };
        match waiter {
            Some(tx) => {
                let _ = tx.send(args);
            }
            None => tracing::debug!(socket_id = %self.id(), id, "acknowledgement nobody waits for"),
        }
    }

    /// Joins rooms. Another socket's id (of this namespace, on this node) is
    /// skipped: its room is private to that socket.
    pub fn join<I, R>(&self, rooms: I)
    where
        I: IntoIterator<Item = R>,
        R: AsRef<str>,
    {
        self.0.ns.join(self, rooms);
    }

    /// Leaves rooms.
    pub fn leave<I, R>(&self, rooms: I)
    where
        I: IntoIterator<Item = R>,
        R: AsRef<str>,
    {
        self.0.ns.leave(self, rooms);
    }

    /// The rooms the socket is in, its own id room first.
    pub fn rooms(&self) -> Vec<String> {
        let joined = lock(&self.0.rooms);
        let mut rooms = Vec::with_capacity(joined.len() + 1);
        rooms.push(self.id().to_owned());
        rooms.extend(joined.iter().map(|r| r.to_string()));
        rooms
    }

    /// Leaves the namespace: the client gets a DISCONNECT packet (written
    /// after what is already queued for it). When it was the connection's
    /// last namespace, the connection is closed too, so that a client sent
    /// away holds nothing on the server.
    pub fn disconnect(&self) {
        if !self.connected() {
            return;
        }
        let packet = frames::simple(PacketKind::Disconnect, self.nsp(), None);
        let _ = self.0.client.session.send(packet);
        self.0.client.forget(self);
        self.0.ns.remove(self, "server namespace disconnect");
        if self.0.client.is_empty() {
            self.close("no namespace left");
        }
    }

    /// Closes the whole connection once what is queued for it (such as a
    /// last message) has been written.
    pub fn close(&self, why: &str) {
        self.0
            .client
            .session
            .close(CloseReason::ServerClose(why.to_owned()));
    }

    pub(crate) fn drop_acks(&self) {
        lock(&self.0.acks).take();
    }

    pub(crate) fn take_rooms(&self) -> Vec<Arc<str>> {
        std::mem::take(&mut *lock(&self.0.rooms))
    }
}

/// Why an event could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    /// The data does not serialize to JSON.
    #[error("data does not serialize: {0}")]
    Serialize(#[source] crate::codec::ArgsError),
    /// The packet could not be queued.
    #[error(transparent)]
    Send(#[from] SendError),
}

impl AckSender {
    /// Sends the acknowledgement with `args`.
    pub fn send(self, args: &Args) -> Result<(), SendError> {
        self.socket
            .send_frames(&frames::ack(self.socket.nsp(), self.id, args))
    }

    /// The acknowledgement id the client chose.
    pub fn id(&self) -> u64 {
        self.id
    }
}
