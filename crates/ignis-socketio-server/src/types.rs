//! The helper's types that refer to one another, defined together so that
//! the modules holding their behaviour form layers: the public handle reaches
//! the core through the engine trait; the core keeps the callbacks, the
//! registry of client records and the timers; the callbacks receive client
//! handles, which hold their record and the public handle; a record keeps the
//! client's own event handlers.
//!
//! Only the data and the traits are here; the methods are in `helper.rs`,
//! `core.rs`, `rooms.rs`, `client.rs`, `record.rs` and `timers.rs`, the
//! closure implementations of the callbacks in `callbacks.rs`.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use axum::Router;
use tokio::sync::{Notify, mpsc};

use crate::lifecycle::Lifecycle;
use crate::metrics::Metrics;
use crate::observer::Observers;
use crate::rate_limit::RateState;
use crate::socket_handle::SocketHandle;
use crate::warn_budget::WarnBudget;
use crate::{
    AckReply, AckResponder, AuthError, ClientInfo, EventData, Handshake, Identity, Payload,
    ServerError, ServerOptions, Target,
};

/// Decides whether a client may use the server. Required.
///
/// Runs when the client emits `authenticate`, with the connection's
/// [`Handshake`] (and the `authenticate` payload as
/// [`Handshake::credentials`]). `Ok(identity)` authenticates the client;
/// `Err(AuthError::Rejected)` answers "Invalid token ...";
/// `Err(AuthError::Failed)` or a panic answers "Failed to authenticate ...".
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// Checks the client's credentials.
    async fn authenticate(&self, handshake: Handshake) -> Result<Identity, AuthError>;
}

/// Decides which requested rooms an authenticated client may join. Optional:
/// without it every `join` is refused (KEEP).
///
/// Only names that were both requested (and well formed) and returned are
/// joined; anything else returned is ignored. A validator that panics, or
/// does not answer within 10 s, refuses the whole request (error code
/// `validator_failed` / `validator_timeout` in the acknowledgement).
#[async_trait]
pub trait RoomValidator: Send + Sync + 'static {
    /// Returns the rooms of `request` the client may join.
    async fn validate(&self, request: JoinRequest) -> Vec<String>;
}

/// Runs once per client right after it authenticated; this is where an
/// application registers its event handlers with [`AuthenticatedClient::on`].
/// Application events the client sends while it runs are held and delivered
/// when it returns.
#[async_trait]
pub trait ClientConnectedHandler: Send + Sync + 'static {
    /// Called with the freshly authenticated client.
    async fn on_connected(&self, client: AuthenticatedClient);
}

/// Runs once per client when it is gone, whatever the cause (client left,
/// server disconnect, authentication refused or timed out, shutdown), with a
/// last snapshot of the client and the reason.
#[async_trait]
pub trait ClientDisconnectedHandler: Send + Sync + 'static {
    /// Called with the client's last snapshot and the disconnect reason.
    async fn on_disconnected(&self, client: ClientInfo, reason: String);
}

/// Handles one application event of an authenticated client.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Called with the client, the event data (the first argument the client
    /// emitted, binary attachments kept as bytes; `null` when none; further
    /// arguments are not passed) and an acknowledgement responder when the
    /// client asked for an acknowledgement.
    async fn handle(&self, client: AuthenticatedClient, data: EventData, ack: Option<AckResponder>);
}

/// An authenticated client: given to the client-connected handler and to event handlers.
///
/// Cheap to clone. Operations on a client that has disconnected fail with
/// [`ServerError::Socket`] or do nothing.
#[derive(Clone)]
pub struct AuthenticatedClient {
    pub(crate) record: Arc<ClientRecord>,
    pub(crate) server: SocketIOServerHelper,
    pub(crate) identity: Arc<Identity>,
}

/// A `join` request handed to the [`crate::RoomValidator`].
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// The client asking.
    pub client: AuthenticatedClient,
    /// The well-formed, distinct room names it asked for.
    pub rooms: Vec<String>,
}

/// The Socket.IO server helper: authentication handshake, rooms, application
/// ping, client registry and sending, on the project's engine with any adapter.
///
/// Cheap to clone (all clones share one server). No adapter type appears in
/// its signature: [`ServerBuilder::build`](crate::ServerBuilder::build) uses
/// the in-memory adapter,
/// [`ServerBuilder::build_with_adapter`](crate::ServerBuilder::build_with_adapter)
/// any other (for example Redis).
#[derive(Clone)]
pub struct SocketIOServerHelper {
    pub(crate) engine: Arc<dyn Engine>,
}

/// What the non-generic handle needs from the generic implementation.
#[async_trait]
pub(crate) trait Engine: Send + Sync + 'static {
    fn core(&self) -> &Arc<Core>;
    fn attach(&self, router: Router) -> Router;
    async fn send(&self, target: Target, event: &str, payload: Payload) -> Result<(), ServerError>;
    async fn send_with_ack(
        &self,
        target: Target,
        event: &str,
        payload: Payload,
        timeout: Duration,
    ) -> Result<Vec<AckReply>, ServerError>;
    async fn fetch_socket_ids(&self, target: Target) -> Result<Vec<String>, ServerError>;
    async fn fetch_rooms(&self) -> Result<Vec<String>, ServerError>;
    fn engine_counters(&self) -> ignis_socketio_engine::engine::CountersSnapshot;
    async fn shutdown(&self);
}

/// The callbacks and the registry, shared by every socket of the helper.
pub(crate) struct Core {
    pub(crate) options: ServerOptions,
    pub(crate) authenticator: Arc<dyn Authenticator>,
    pub(crate) validator: Option<Arc<dyn RoomValidator>>,
    pub(crate) connected_handler: Option<Arc<dyn ClientConnectedHandler>>,
    pub(crate) disconnected_handler: Option<Arc<dyn ClientDisconnectedHandler>>,
    /// Handlers of application events shared by every authenticated client.
    pub(crate) event_handlers: HashMap<String, Arc<dyn EventHandler>>,
    /// Lifecycle observers (see [`SocketObserver`](crate::SocketObserver)).
    pub(crate) observers: Observers,
    pub(crate) records: RwLock<HashMap<String, Arc<ClientRecord>>>,
    /// Application events handed to a handler.
    pub(crate) events_handled: std::sync::atomic::AtomicU64,
    /// Application events dropped: sent before authentication, or with no handler.
    pub(crate) events_ignored: std::sync::atomic::AtomicU64,
    /// Incoming events dropped for being over a rate limit.
    pub(crate) events_rate_limited: std::sync::atomic::AtomicU64,
    /// Clients disconnected for staying over a rate limit.
    pub(crate) rate_limit_disconnects: std::sync::atomic::AtomicU64,
    /// Prometheus instruments (nothing when metrics are off).
    pub(crate) metrics: Metrics,
    pub(crate) shutting_down: AtomicBool,
    pub(crate) timers: Timers,
    /// The origin check and connection caps, before the engine.
    pub(crate) admission: Arc<crate::admission::Admission>,
}

/// One connected client of this node.
pub(crate) struct ClientRecord {
    pub(crate) id: String,
    pub(crate) socket: Arc<dyn SocketHandle>,
    pub(crate) handshake: Handshake,
    pub(crate) connected_at: SystemTime,
    pub(crate) span: tracing::Span,
    /// Behind one lock so that state changes, room joins and teardown never interleave.
    pub(crate) lifecycle: Mutex<Lifecycle>,
    pub(crate) handlers: RwLock<HashMap<String, Arc<dyn EventHandler>>>,
    /// Notified when the readiness changes, when the engine marked the
    /// socket connected, and on close: wakes `wait_ready`
    /// and `wait_connected`. (A `Notify` lives inline;
    /// a `watch` channel would cost two allocations per connection.)
    pub(crate) changed: Notify,
    /// Bounds the warnings this client can cause.
    pub(crate) warnings: WarnBudget,
    /// The client's rate-limit buckets (32 bytes; see `rate_limit.rs`).
    pub(crate) rates: Mutex<RateState>,
}

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// Refuse the client if it has not authenticated by now.
    AuthDeadline,
    /// Emit the application `ping`, then again one interval later.
    Ping(Duration),
}

/// A timer sent to the timer task.
pub(crate) struct Scheduled {
    pub(crate) due: Due,
    pub(crate) record: Weak<ClientRecord>,
    pub(crate) after: Duration,
}

/// The handle the core keeps; the task starts with the first timer, inside
/// the runtime that serves the sockets.
#[derive(Default)]
pub(crate) struct Timers {
    pub(crate) tx: OnceLock<mpsc::UnboundedSender<Scheduled>>,
}
