//! The types of the Socket.IO layer that refer to one another, defined
//! together so that the modules holding their behaviour form layers: a
//! namespace holds its sockets, its handler and its adapter (whose trait
//! names the namespace); a socket holds its namespace and its connection; a
//! connection holds its sockets and the server's namespaces.
//!
//! Only the data and the two traits are here; the methods are in
//! `namespace.rs`, `fleet.rs`, `socket.rs`, `client.rs` and `server.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::Duration;

use tokio::sync::oneshot;

use super::adapter::{AdapterError, AdapterFuture, BroadcastOptions, SocketSummary};
use super::config::IoConfig;
use super::handler::{ConnectRefusal, DisconnectReason, Event, HandlerFuture};
use crate::codec::{Args, UnreadableEvent};
use crate::engine::Session;

fn done<'a, T: Send + 'a>(value: T) -> AdapterFuture<'a, Result<T, AdapterError>> {
    Box::pin(async move { Ok(value) })
}

/// Carries a namespace's operations to the other nodes of a fleet. Every
/// method but [`Adapter::broadcast`] has a default that does nothing (one node).
pub trait Adapter: Send + Sync + 'static {
    /// The namespace was created: keep the handle to serve the other nodes'
    /// requests on this node's sockets, and get ready (e.g. subscribe).
    fn init(&self, ns: Weak<Namespace>) -> AdapterFuture<'_, Result<(), AdapterError>> {
        let _ = ns;
        done(())
    }

    /// Delivers an event to the matching sockets of the other nodes.
    fn broadcast<'a>(
        &'a self,
        event: &'a str,
        args: &'a Args,
        options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<(), AdapterError>>;

    /// Delivers an event to the other nodes' matching sockets and collects
    /// their acknowledgements (those that arrive within `timeout`).
    fn broadcast_with_ack<'a>(
        &'a self,
        event: &'a str,
        args: &'a Args,
        options: &'a BroadcastOptions,
        timeout: Duration,
    ) -> AdapterFuture<'a, Result<Vec<Args>, AdapterError>> {
        let _ = (event, args, options, timeout);
        done(Vec::new())
    }

    /// Makes the other nodes' matching sockets join `rooms`.
    fn add_sockets<'a>(
        &'a self,
        options: &'a BroadcastOptions,
        rooms: &'a [String],
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        let _ = (options, rooms);
        done(())
    }

    /// Makes the other nodes' matching sockets leave `rooms`.
    fn del_sockets<'a>(
        &'a self,
        options: &'a BroadcastOptions,
        rooms: &'a [String],
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        let _ = (options, rooms);
        done(())
    }

    /// Disconnects the other nodes' matching sockets.
    fn disconnect_sockets<'a>(
        &'a self,
        options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        let _ = options;
        done(())
    }

    /// The other nodes' matching sockets.
    fn fetch_sockets<'a>(
        &'a self,
        options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<Vec<SocketSummary>, AdapterError>> {
        let _ = options;
        done(Vec::new())
    }

    /// The rooms of the other nodes.
    fn rooms(&self) -> AdapterFuture<'_, Result<Vec<String>, AdapterError>> {
        done(Vec::new())
    }

    /// The namespace is going away: stop serving it.
    fn close(&self) -> AdapterFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// One node, no fleet: nothing to carry.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalAdapter;

impl Adapter for LocalAdapter {
    fn broadcast<'a>(
        &'a self,
        _event: &'a str,
        _args: &'a Args,
        _options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        done(())
    }
}

/// The application's side of a namespace: one value serves every socket.
///
/// The engine calls these one at a time per client, in the order of the
/// client's packets: an event is handed over only once the handler of the
/// previous one (and the connect handler) has finished.
pub trait NamespaceHandler: Send + Sync + 'static {
    /// A client asks to join the namespace ([`Socket::auth`] is its CONNECT
    /// payload). The
    /// CONNECT answer is sent only after this returns `Ok`, so everything set
    /// up here is in place before the client can emit.
    fn on_connect(&self, socket: Socket) -> HandlerFuture<Result<(), ConnectRefusal>>;

    /// Runs right after the CONNECT answer was queued, before the client's
    /// next packet is handled (Node's `connection` event): a place to emit
    /// the first events.
    fn on_connected(&self, socket: Socket) -> HandlerFuture<()> {
        let _ = socket;
        Box::pin(async {})
    }

    /// The client emitted an event; `ack` is there when it asked for an
    /// acknowledgement.
    fn on_event(&self, socket: Socket, event: Event, ack: Option<AckSender>) -> HandlerFuture<()>;

    /// The client emitted an event whose data does not read (see
    /// [`UnreadableEvent`]); [`NamespaceHandler::on_event`] is not called for
    /// it, and the connection carries on. The default answers the
    /// acknowledgement, when the event asks for one, with
    /// [`unreadable_answer`](super::unreadable_answer).
    fn on_unreadable_event(
        &self,
        socket: Socket,
        event: UnreadableEvent,
        ack: Option<AckSender>,
    ) -> HandlerFuture<()> {
        tracing::debug!(socket_id = %socket.id(), reason = %event.reason, "event data unreadable");
        if let Some(ack) = ack {
            let body = super::unreadable_answer(&event);
            if let Err(error) = ack.send(&Args::json(vec![body])) {
                tracing::debug!(socket_id = %socket.id(), %error, "acknowledgement not sent");
            }
        }
        Box::pin(async {})
    }

    /// The socket left the namespace (called once).
    fn on_disconnect(&self, socket: Socket, reason: DisconnectReason) {
        let _ = (socket, reason);
    }
}

type RoomMap = HashMap<Arc<str>, HashSet<Arc<str>>>;

/// A namespace of the server.
pub struct Namespace {
    pub(super) name: String,
    pub(crate) handler: Arc<dyn NamespaceHandler>,
    pub(crate) adapter: Arc<dyn Adapter>,
    pub(super) sockets: RwLock<HashMap<Arc<str>, Socket>>,
    /// Joined rooms and their members; a socket's own id room is implicit.
    pub(super) rooms: RwLock<RoomMap>,
    pub(super) ack_ids: AtomicU64,
    /// Set once, by whoever watches the namespace (an admin page's feed).
    pub(super) monitor: OnceLock<Arc<dyn NamespaceMonitor>>,
}

type AckWaiters = HashMap<u64, oneshot::Sender<Args>>;

pub(crate) struct SocketInner {
    pub(crate) id: Box<str>,
    pub(crate) ns: Arc<Namespace>,
    pub(crate) client: Arc<Client>,
    pub(crate) rooms: Mutex<Vec<Arc<str>>>,
    /// The CONNECT payload as JSON text: a parsed object costs over half a
    /// KiB per connection, its text a few dozen bytes.
    pub(super) auth: Option<Arc<str>>,
    /// Waiters for the client's acknowledgements (allocated on first use).
    pub(super) acks: Mutex<Option<Box<AckWaiters>>>,
    /// `PENDING`, `CONNECTED` or `GONE` (see `socket.rs`).
    pub(super) state: AtomicU8,
}

/// One client connected to one namespace. Cheap to clone.
#[derive(Clone)]
pub struct Socket(pub(crate) Arc<SocketInner>);

/// Answers a client's acknowledgement request (once).
#[derive(Debug)]
pub struct AckSender {
    pub(crate) socket: Socket,
    pub(crate) id: u64,
}

/// What the sockets of one connection share.
pub(crate) struct Client {
    pub(crate) session: Arc<Session>,
    pub(crate) request: Arc<http::request::Parts>,
    pub(super) io: Arc<IoShared>,
    pub(super) sockets: Mutex<Vec<Socket>>,
    pub(super) connected_once: AtomicBool,
}

pub(crate) struct IoShared {
    pub(crate) config: IoConfig,
    pub(super) namespaces: RwLock<HashMap<String, Arc<Namespace>>>,
}

// What a namespace tells an observer of its sockets (an admin page's feed):
// sockets coming and going, rooms joined and left, events both ways. Calls
// happen on the engine's tasks with no namespace lock held; an
// implementation must return quickly (queue the news, never block).
/// Observes one namespace's sockets. Every method has an empty default.
pub trait NamespaceMonitor: Send + Sync + 'static {
    /// The socket entered the namespace (its CONNECT was answered).
    fn socket_connected(&self, socket: &Socket) {
        let _ = socket;
    }

    /// The socket left the namespace (its rooms are still listed).
    fn socket_disconnected(&self, socket: &Socket, reason: &DisconnectReason) {
        let _ = (socket, reason);
    }

    /// A connected socket joined `room` (it was not in it before).
    fn room_joined(&self, socket: &Socket, room: &str) {
        let _ = (socket, room);
    }

    /// A connected socket left `room` (not called when it leaves the namespace).
    fn room_left(&self, socket: &Socket, room: &str) {
        let _ = (socket, room);
    }

    /// The client emitted `event`, before the namespace's handler gets it.
    fn event_received(&self, socket: &Socket, event: &Event) {
        let _ = (socket, event);
    }

    /// An event was sent to this one socket (not broadcasts).
    fn event_sent(&self, socket: &Socket, event: &str, args: &Args) {
        let _ = (socket, event, args);
    }

    /// The socket's connection moved to another transport (polling to
    /// WebSocket); [`Socket::transport`] gives the new one.
    fn transport_changed(&self, socket: &Socket) {
        let _ = socket;
    }

    /// Fields to add to the socket's data as the fleet's other nodes see it
    /// (an adapter's answer to their `fetchSockets`), computed at each answer.
    fn fleet_data(&self, socket: &Socket, data: &mut serde_json::Map<String, serde_json::Value>) {
        let _ = (socket, data);
    }
}
