//! The Socket.IO client: a cloneable handle over one background connection task.
//!
//! Three parts cooperate:
//! - the *driver* task connects, runs a session, and reconnects with backoff;
//! - the *session* loop owns the WebSocket: it answers heartbeats, watches for
//!   a dead server, decodes packets, resolves acknowledgements and writes the
//!   outgoing queue;
//! - the *dispatcher* task runs handlers one at a time in arrival order, so a
//!   slow or failing handler never blocks the socket or kills the client.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use crate::codec::{
    self, CodecError, EnginePacket, OpenPacket, PacketKind, PendingBinary, SocketPacket,
};
use crate::handler::{Callback, HandlerId, HandlerOutcome, callback, run_contained};
use crate::{ClientConfig, ClientError, ClientPayload, ReconnectConfig};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Frames = Vec<Message>;

/// Disconnect reasons, with socket.io-client's wording.
pub mod reasons {
    /// The server disconnected the socket (`41`); no automatic reconnection.
    pub const SERVER_DISCONNECT: &str = "io server disconnect";
    /// `disconnect()` or `shutdown()` was called; no automatic reconnection.
    pub const CLIENT_DISCONNECT: &str = "io client disconnect";
    /// No heartbeat from the server within pingInterval + pingTimeout.
    pub const PING_TIMEOUT: &str = "ping timeout";
    /// The connection was closed.
    pub const TRANSPORT_CLOSE: &str = "transport close";
    /// The connection failed.
    pub const TRANSPORT_ERROR: &str = "transport error";
}

/// An event received from the server.
#[derive(Debug, Clone)]
pub struct Event {
    name: Arc<str>,
    payload: ClientPayload,
    ack: Option<AckResponder>,
}

impl Event {
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
    /// A handler may return this result as it is (see [`HandlerOutcome`]):
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

#[derive(Debug, Clone)]
struct AckResponder {
    id: u64,
    namespace: Arc<str>,
    outbound: mpsc::Sender<Frames>,
    sent: Arc<AtomicBool>,
}

impl AckResponder {
    fn send(&self, payload: ClientPayload) -> Result<bool, ClientError> {
        if self.sent.swap(true, Ordering::AcqRel) {
            return Ok(false);
        }
        let (args, binaries) = payload.into_parts();
        let frames = encode_frames(
            &self.namespace,
            Some(self.id),
            Value::Array(args),
            binaries,
            true,
        );
        push_frames(&self.outbound, frames)?;
        Ok(true)
    }
}

struct Listener<A> {
    id: HandlerId,
    system: bool,
    callback: Callback<A>,
}

impl<A> Clone for Listener<A> {
    fn clone(&self) -> Self {
        Listener {
            id: self.id,
            system: self.system,
            callback: self.callback.clone(),
        }
    }
}

/// Handlers by kind. System listeners (the helper's own) come first and are
/// never removed by the user-facing removal methods.
#[derive(Default)]
struct Registry {
    events: HashMap<String, Vec<Listener<Event>>>,
    any: Vec<Listener<Event>>,
    connect: Vec<Listener<String>>,
    disconnect: Vec<Listener<String>>,
    error: Vec<Listener<ClientError>>,
}

fn ordered<A>(list: &[Listener<A>]) -> Vec<Listener<A>> {
    let mut out: Vec<_> = list.iter().filter(|l| l.system).cloned().collect();
    out.extend(list.iter().filter(|l| !l.system).cloned());
    out
}

impl Registry {
    fn remove(&mut self, id: HandlerId) -> bool {
        fn take<A>(list: &mut Vec<Listener<A>>, id: HandlerId) -> bool {
            let before = list.len();
            list.retain(|l| l.system || l.id != id);
            list.len() != before
        }
        let mut removed = self.events.values_mut().any(|list| take(list, id));
        removed |= take(&mut self.any, id);
        removed |= take(&mut self.connect, id);
        removed |= take(&mut self.disconnect, id);
        removed |= take(&mut self.error, id);
        self.events.retain(|_, list| !list.is_empty());
        removed
    }

    fn clear(&mut self) {
        *self = Registry::default();
    }
}

enum Dispatch {
    Event(Event),
    Connected(String),
    Disconnected(String),
    Error(ClientError),
}

struct Driver {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

struct Inner {
    config: ClientConfig,
    #[cfg(feature = "rustls")]
    tls: tokio_tungstenite::Connector,
    namespace: Arc<str>,
    registry: Arc<Mutex<Registry>>,
    acks: Mutex<HashMap<u64, oneshot::Sender<ClientPayload>>>,
    next_ack: AtomicU64,
    next_handler: AtomicU64,
    outbound: Mutex<Option<mpsc::Sender<Frames>>>,
    connected: watch::Sender<bool>,
    sid: Mutex<Option<String>>,
    driver: Mutex<Option<Driver>>,
    dispatch: mpsc::Sender<Dispatch>,
    shut_down: AtomicBool,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it
/// (handlers run outside these locks, so the data is always consistent).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A Socket.IO v5 client over WebSocket (Engine.IO v4).
///
/// Cheap to clone; all clones drive the same connection. Create one with
/// [`SocketClient::builder`]. Handlers run one at a time, in the order the
/// events arrived; spawn a task from a handler for long work.
#[derive(Clone)]
pub struct SocketClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SocketClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketClient")
            .field("url", &self.inner.config.url)
            .field("connected", &self.is_connected())
            .finish()
    }
}

/// Builds a [`SocketClient`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    config: ClientConfig,
}

impl ClientBuilder {
    /// Socket.IO path on the server (default `/socket.io`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.path = path.into();
        self
    }

    /// Namespace (default `/`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.config.namespace = namespace.into();
        self
    }

    /// Adds an HTTP header to the WebSocket handshake.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a query parameter to the handshake.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.query.push((name.into(), value.into()));
        self
    }

    /// The handshake `auth` payload.
    pub fn auth(mut self, auth: Value) -> Self {
        self.config.auth = Some(auth);
        self
    }

    /// Reconnection policy.
    pub fn reconnection(mut self, reconnection: ReconnectConfig) -> Self {
        self.config.reconnection = reconnection;
        self
    }

    /// Longest time one connection attempt may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Trusts an extra root certificate (PEM) for `wss://` (feature `rustls`).
    pub fn tls_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.config.tls_root_certificates_pem.push(pem.into());
        self
    }

    /// Replaces every setting at once.
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// Checks the settings and creates the client, not connected yet.
    /// Needs a tokio runtime (the dispatcher task starts here).
    pub fn build(self) -> Result<SocketClient, ClientError> {
        SocketClient::new(self.config)
    }
}

impl SocketClient {
    /// Starts building a client for the server at `url` (e.g. `http://127.0.0.1:3000`).
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            config: ClientConfig::new(url),
        }
    }

    /// Creates a client from settings, not connected yet.
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ClientError::NoRuntime)?;
        config.request()?;
        if !config.namespace.starts_with('/') {
            return Err(ClientError::InvalidUrl {
                url: config.namespace.clone(),
                reason: "a namespace starts with '/'".to_owned(),
            });
        }
        let registry = Arc::new(Mutex::new(Registry::default()));
        let (dispatch_tx, dispatch_rx) = mpsc::channel(1024);
        runtime.spawn(run_dispatcher(registry.clone(), dispatch_rx));
        let inner = Inner {
            #[cfg(feature = "rustls")]
            tls: crate::tls::connector(&config)?,
            namespace: Arc::from(config.namespace.as_str()),
            config,
            registry,
            acks: Mutex::new(HashMap::new()),
            next_ack: AtomicU64::new(0),
            next_handler: AtomicU64::new(1),
            outbound: Mutex::new(None),
            connected: watch::channel(false).0,
            sid: Mutex::new(None),
            driver: Mutex::new(None),
            dispatch: dispatch_tx,
            shut_down: AtomicBool::new(false),
        };
        Ok(SocketClient {
            inner: Arc::new(inner),
        })
    }

    /// The settings the client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Starts connecting in the background (no-op when already connecting or
    /// connected). Watch [`SocketClient::on_connect`] / [`SocketClient::on_error`],
    /// or await [`SocketClient::wait_connected`].
    pub fn connect(&self) -> Result<(), ClientError> {
        if self.inner.shut_down.load(Ordering::Acquire) {
            return Err(ClientError::Shutdown);
        }
        let mut slot = lock(&self.inner.driver);
        if slot.as_ref().is_some_and(|d| !d.task.is_finished()) {
            return Ok(());
        }
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run_driver(self.inner.clone(), cancel.clone()));
        *slot = Some(Driver { cancel, task });
        Ok(())
    }

    /// Waits until the client is connected, up to `timeout`. Returns whether it is.
    pub async fn wait_connected(&self, timeout: Duration) -> bool {
        let mut rx = self.inner.connected.subscribe();
        matches!(
            tokio::time::timeout(timeout, rx.wait_for(|c| *c)).await,
            Ok(Ok(_))
        )
    }

    /// Whether the namespace connection is up.
    pub fn is_connected(&self) -> bool {
        *self.inner.connected.borrow()
    }

    /// A receiver that sees every change of the connected flag.
    pub fn connected_changes(&self) -> watch::Receiver<bool> {
        self.inner.connected.subscribe()
    }

    /// The Socket.IO socket id while connected.
    pub fn id(&self) -> Option<String> {
        lock(&self.inner.sid).clone()
    }

    /// Closes the connection (sending the Socket.IO disconnect packet) and stops
    /// reconnecting. Handlers see a `disconnect` with reason `io client disconnect`.
    /// `connect()` may be called again afterwards.
    pub async fn disconnect(&self) {
        self.inner.connected.send_replace(false);
        let driver = lock(&self.inner.driver).take();
        if let Some(driver) = driver {
            driver.cancel.cancel();
            // The session only has to write two frames; do not wait forever on a stuck peer.
            let mut task = driver.task;
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                tracing::warn!("connection task did not stop within 2 s; aborting it");
                task.abort();
                self.inner.reset_link();
            }
        }
    }

    /// Removes every handler (system ones included), disconnects, and refuses
    /// any further `connect`. Idempotent. No `disconnect` handler runs.
    pub async fn shutdown(&self) {
        self.inner.shut_down.store(true, Ordering::Release);
        lock(&self.inner.registry).clear();
        self.disconnect().await;
    }

    /// Whether [`SocketClient::shutdown`] was called.
    pub fn is_shut_down(&self) -> bool {
        self.inner.shut_down.load(Ordering::Acquire)
    }

    fn next_id(&self) -> HandlerId {
        HandlerId(self.inner.next_handler.fetch_add(1, Ordering::Relaxed))
    }

    fn add_event_listener(
        &self,
        event: &str,
        system: bool,
        callback: Callback<Event>,
    ) -> HandlerId {
        let id = self.next_id();
        lock(&self.inner.registry)
            .events
            .entry(event.to_owned())
            .or_default()
            .push(Listener {
                id,
                system,
                callback,
            });
        id
    }

    /// Registers a handler for `event`. It gets the whole [`Event`] (all
    /// arguments, attachments, and the means to answer the server's ack).
    pub fn on<F, Fut, R>(&self, event: &str, handler: F) -> HandlerId
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.add_event_listener(event, false, callback(handler))
    }

    /// Like [`SocketClient::on`], for a handler that `remove_all_listeners` must keep
    /// (the helper's own listeners).
    pub(crate) fn on_system(&self, event: &str, handler: Callback<Event>) -> HandlerId {
        self.add_event_listener(event, true, handler)
    }

    /// Registers a handler that sees every event, after the event's own handlers.
    pub fn on_any<F, Fut, R>(&self, handler: F) -> HandlerId
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        let id = self.next_id();
        lock(&self.inner.registry).any.push(Listener {
            id,
            system: false,
            callback: callback(handler),
        });
        id
    }

    /// Registers a handler run on every successful (re)connection, with the socket id.
    pub fn on_connect<F, Fut, R>(&self, handler: F) -> HandlerId
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.add_lifecycle(|r| &mut r.connect, false, callback(handler))
    }

    /// Registers a handler run on every disconnection, with the reason (see [`reasons`]).
    pub fn on_disconnect<F, Fut, R>(&self, handler: F) -> HandlerId
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.add_lifecycle(|r| &mut r.disconnect, false, callback(handler))
    }

    /// Registers a handler run on connection errors and on protocol errors.
    pub fn on_error<F, Fut, R>(&self, handler: F) -> HandlerId
    where
        F: Fn(ClientError) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.add_lifecycle(|r| &mut r.error, false, callback(handler))
    }

    pub(crate) fn on_connect_system(&self, handler: Callback<String>) -> HandlerId {
        self.add_lifecycle(|r| &mut r.connect, true, handler)
    }

    pub(crate) fn on_disconnect_system(&self, handler: Callback<String>) -> HandlerId {
        self.add_lifecycle(|r| &mut r.disconnect, true, handler)
    }

    pub(crate) fn on_error_system(&self, handler: Callback<ClientError>) -> HandlerId {
        self.add_lifecycle(|r| &mut r.error, true, handler)
    }

    fn add_lifecycle<A>(
        &self,
        list: impl FnOnce(&mut Registry) -> &mut Vec<Listener<A>>,
        system: bool,
        callback: Callback<A>,
    ) -> HandlerId {
        let id = self.next_id();
        list(&mut lock(&self.inner.registry)).push(Listener {
            id,
            system,
            callback,
        });
        id
    }

    /// Removes exactly the handler `id`. Returns whether it existed.
    /// System listeners are never removed.
    pub fn off(&self, id: HandlerId) -> bool {
        lock(&self.inner.registry).remove(id)
    }

    /// Removes every user handler of `event`; returns how many were removed.
    pub fn off_event(&self, event: &str) -> usize {
        let mut registry = lock(&self.inner.registry);
        let Some(list) = registry.events.get_mut(event) else {
            return 0;
        };
        let before = list.len();
        list.retain(|l| l.system);
        let removed = before - list.len();
        if list.is_empty() {
            registry.events.remove(event);
        }
        removed
    }

    /// Number of user handlers (system ones excluded) registered for `event`.
    pub fn listener_count(&self, event: &str) -> usize {
        lock(&self.inner.registry)
            .events
            .get(event)
            .map_or(0, |list| list.iter().filter(|l| !l.system).count())
    }

    /// Whether `event` has any user handler.
    pub fn has_listeners(&self, event: &str) -> bool {
        self.listener_count(event) > 0
    }

    fn check_emit(&self, event: &str) -> Result<mpsc::Sender<Frames>, ClientError> {
        if self.inner.shut_down.load(Ordering::Acquire) {
            return Err(ClientError::Shutdown);
        }
        let outbound = lock(&self.inner.outbound).clone();
        let outbound = match outbound {
            Some(tx) if self.is_connected() => tx,
            _ => return Err(ClientError::NotConnected),
        };
        if event.is_empty() {
            return Err(ClientError::EmptyTopic);
        }
        ignis_socketio_protocol::validate_event_name(event)
            .map_err(|_| ClientError::ReservedEvent(event.to_owned()))?;
        Ok(outbound)
    }

    fn event_frames(&self, event: &str, payload: ClientPayload, ack: Option<u64>) -> Frames {
        let (mut args, binaries) = payload.into_parts();
        args.insert(0, Value::String(event.to_owned()));
        encode_frames(
            &self.inner.namespace,
            ack,
            Value::Array(args),
            binaries,
            false,
        )
    }

    /// Sends `event` with `payload` (fire and forget). Errors when not
    /// connected, when `event` is empty or reserved, or when the queue is full.
    pub fn emit(&self, event: &str, payload: impl Into<ClientPayload>) -> Result<(), ClientError> {
        let outbound = self.check_emit(event)?;
        push_frames(&outbound, self.event_frames(event, payload.into(), None))
    }

    /// Like [`SocketClient::emit`], but waits for room in the outgoing queue
    /// instead of failing when it is full.
    pub async fn emit_async(
        &self,
        event: &str,
        payload: impl Into<ClientPayload>,
    ) -> Result<(), ClientError> {
        let outbound = self.check_emit(event)?;
        outbound
            .send(self.event_frames(event, payload.into(), None))
            .await
            .map_err(|_| ClientError::NotConnected)
    }

    /// Sends `event` and waits up to `timeout` for the server's acknowledgement.
    pub async fn emit_with_ack(
        &self,
        event: &str,
        payload: impl Into<ClientPayload>,
        timeout: Duration,
    ) -> Result<ClientPayload, ClientError> {
        let outbound = self.check_emit(event)?;
        let id = self.inner.next_ack.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.inner.acks).insert(id, tx);
        if let Err(e) = push_frames(
            &outbound,
            self.event_frames(event, payload.into(), Some(id)),
        ) {
            lock(&self.inner.acks).remove(&id);
            return Err(e);
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(payload)) => Ok(payload),
            Ok(Err(_)) => Err(ClientError::Disconnected),
            Err(_) => {
                lock(&self.inner.acks).remove(&id);
                Err(ClientError::AckTimeout(timeout))
            }
        }
    }
}

fn push_frames(outbound: &mpsc::Sender<Frames>, frames: Frames) -> Result<(), ClientError> {
    outbound.try_send(frames).map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => ClientError::QueueFull,
        mpsc::error::TrySendError::Closed(_) => ClientError::NotConnected,
    })
}

fn encode_frames(
    namespace: &str,
    ack: Option<u64>,
    data: Value,
    binaries: Vec<Bytes>,
    is_ack: bool,
) -> Frames {
    let kind = match (is_ack, binaries.is_empty()) {
        (false, true) => PacketKind::Event,
        (false, false) => PacketKind::BinaryEvent,
        (true, true) => PacketKind::Ack,
        (true, false) => PacketKind::BinaryAck,
    };
    let text = codec::encode_socket(kind, namespace, ack, binaries.len(), Some(&data));
    let mut frames = Vec::with_capacity(1 + binaries.len());
    frames.push(Message::text(text));
    frames.extend(binaries.into_iter().map(Message::Binary));
    frames
}

async fn run_dispatcher(registry: Arc<Mutex<Registry>>, mut rx: mpsc::Receiver<Dispatch>) {
    while let Some(item) = rx.recv().await {
        match item {
            Dispatch::Event(event) => {
                let (own, any) = {
                    let registry = lock(&registry);
                    let own = registry
                        .events
                        .get(&*event.name)
                        .map(|l| ordered(l))
                        .unwrap_or_default();
                    (own, ordered(&registry.any))
                };
                if own.is_empty() && any.is_empty() {
                    tracing::debug!(event = %event.name, "No handler for event");
                }
                for listener in own.iter().chain(any.iter()) {
                    run_contained(&listener.callback, event.clone(), &event.name).await;
                }
            }
            Dispatch::Connected(sid) => {
                let list = ordered(&lock(&registry).connect);
                for listener in list {
                    run_contained(&listener.callback, sid.clone(), "connect").await;
                }
            }
            Dispatch::Disconnected(reason) => {
                let list = ordered(&lock(&registry).disconnect);
                for listener in list {
                    run_contained(&listener.callback, reason.clone(), "disconnect").await;
                }
            }
            Dispatch::Error(error) => {
                let list = ordered(&lock(&registry).error);
                for listener in list {
                    run_contained(&listener.callback, error.clone(), "error").await;
                }
            }
        }
    }
}

impl Inner {
    /// Forgets the current connection: no writer, no id, not connected.
    fn reset_link(&self) {
        *lock(&self.outbound) = None;
        *lock(&self.sid) = None;
        self.connected.send_replace(false);
        // Dropping the senders wakes every waiting emit_with_ack with `Disconnected`.
        lock(&self.acks).clear();
    }

    async fn dispatch(&self, item: Dispatch) {
        if self.dispatch.send(item).await.is_err() {
            tracing::debug!("dispatcher stopped");
        }
    }
}

async fn run_driver(inner: Arc<Inner>, cancel: CancellationToken) {
    let mut attempt: u32 = 0;
    loop {
        let timeout = inner.config.connect_timeout;
        let outcome = tokio::select! {
            _ = cancel.cancelled() => return,
            r = tokio::time::timeout(timeout, establish(&inner)) => r,
        };
        match outcome {
            Ok(Ok(session)) => {
                attempt = 0;
                let reason = run_session(&inner, session, &cancel).await;
                if reason == reasons::CLIENT_DISCONNECT || reason == reasons::SERVER_DISCONNECT {
                    return;
                }
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, url = %inner.config.url, "Connection error");
                let refused = matches!(error, ClientError::ConnectRefused(_));
                inner.dispatch(Dispatch::Error(error)).await;
                // socket.io-client does not retry a namespace the server refused.
                if refused {
                    return;
                }
            }
            Err(_) => {
                tracing::warn!(url = %inner.config.url, "Connection timed out");
                inner
                    .dispatch(Dispatch::Error(ClientError::ConnectTimeout(timeout)))
                    .await;
            }
        }
        if !inner.config.reconnection.allows(attempt) {
            if inner.config.reconnection.enabled {
                tracing::warn!(attempts = attempt, "Reconnection gave up");
                inner
                    .dispatch(Dispatch::Error(ClientError::ReconnectGaveUp(attempt)))
                    .await;
            }
            return;
        }
        let delay = inner
            .config
            .reconnection
            .delay_for(attempt, rand::random::<f64>());
        attempt = attempt.saturating_add(1);
        tracing::info!(attempt, ?delay, "Reconnecting");
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

struct Session {
    ws: Ws,
    open: OpenPacket,
    sid: String,
}

fn text_of(message: &Message) -> Option<&str> {
    match message {
        Message::Text(text) => Some(text.as_str()),
        _ => None,
    }
}

/// Opens the WebSocket, reads the Engine.IO handshake, and connects the namespace.
async fn establish(inner: &Inner) -> Result<Session, ClientError> {
    let request = inner.config.request()?;
    // Small packets (acks, pongs) must not wait for Nagle's algorithm.
    #[cfg(feature = "rustls")]
    let connecting = tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        true,
        Some(inner.tls.clone()),
    );
    #[cfg(not(feature = "rustls"))]
    let connecting = tokio_tungstenite::connect_async_with_config(request, None, true);
    let (mut ws, _response) = connecting
        .await
        .map_err(|e| ClientError::ConnectFailed(e.to_string()))?;

    let open = loop {
        let message = next_message(&mut ws).await?;
        let Some(text) = text_of(&message) else {
            continue;
        };
        match codec::decode_engine(text) {
            Ok(EnginePacket::Open(open)) => break open,
            Ok(other) => {
                return Err(ClientError::Protocol(format!(
                    "expected the open packet, got {other:?}"
                )));
            }
            Err(e) => return Err(ClientError::Protocol(format!("bad open packet: {e}"))),
        }
    };

    let connect = codec::encode_socket(
        PacketKind::Connect,
        &inner.namespace,
        None,
        0,
        inner.config.auth.as_ref(),
    );
    ws.send(Message::text(connect))
        .await
        .map_err(|e| ClientError::ConnectFailed(e.to_string()))?;

    loop {
        let message = next_message(&mut ws).await?;
        let Some(text) = text_of(&message) else {
            continue;
        };
        match codec::decode_engine(text) {
            Ok(EnginePacket::Ping(data)) => {
                let pong = codec::encode_pong(data);
                ws.send(Message::text(pong))
                    .await
                    .map_err(|e| ClientError::ConnectFailed(e.to_string()))?;
            }
            Ok(EnginePacket::Message(sio)) => {
                let packet = codec::decode_socket(sio)
                    .map_err(|e| ClientError::Protocol(format!("bad connect answer: {e}")))?;
                if packet.namespace != *inner.namespace {
                    continue;
                }
                match packet.kind {
                    PacketKind::Connect => {
                        let sid = packet
                            .data
                            .as_ref()
                            .and_then(|d| d.get("sid"))
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        return Ok(Session { ws, open, sid });
                    }
                    PacketKind::ConnectError => {
                        let message = match &packet.data {
                            Some(Value::Object(o)) => o
                                .get("message")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            Some(Value::String(s)) => s.clone(),
                            other => other.as_ref().map(Value::to_string).unwrap_or_default(),
                        };
                        return Err(ClientError::ConnectRefused(message));
                    }
                    _ => continue,
                }
            }
            Ok(EnginePacket::Close) => {
                return Err(ClientError::ConnectFailed(
                    "server closed the session".to_owned(),
                ));
            }
            Ok(_) => continue,
            Err(e) => {
                return Err(ClientError::Protocol(format!(
                    "bad packet during connect: {e}"
                )));
            }
        }
    }
}

async fn next_message(ws: &mut Ws) -> Result<Message, ClientError> {
    match ws.next().await {
        Some(Ok(Message::Close(_))) | None => Err(ClientError::ConnectFailed(
            "connection closed during handshake".to_owned(),
        )),
        Some(Ok(message)) => Ok(message),
        Some(Err(e)) => Err(ClientError::ConnectFailed(e.to_string())),
    }
}

/// What the session loop does after a frame.
enum Step {
    Continue,
    End(&'static str),
}

/// Runs one connected session; returns the disconnect reason.
async fn run_session(
    inner: &Arc<Inner>,
    session: Session,
    cancel: &CancellationToken,
) -> &'static str {
    let Session { mut ws, open, sid } = session;
    let (out_tx, mut out_rx) = mpsc::channel::<Frames>(inner.config.queue_capacity.max(1));
    *lock(&inner.outbound) = Some(out_tx.clone());
    *lock(&inner.sid) = Some(sid.clone());
    inner.connected.send_replace(true);
    tracing::info!(sid = %sid, engine_sid = %open.sid, "Connected");
    inner.dispatch(Dispatch::Connected(sid)).await;

    let heartbeat = Duration::from_millis(open.ping_interval.saturating_add(open.ping_timeout));
    let watchdog = tokio::time::sleep(heartbeat);
    tokio::pin!(watchdog);
    let mut pending: Option<PendingBinary> = None;

    let reason = loop {
        tokio::select! {
            _ = cancel.cancelled() => {
                let bye = codec::encode_socket(PacketKind::Disconnect, &inner.namespace, None, 0, None);
                let _ = ws.send(Message::text(bye)).await;
                let _ = ws.close(None).await;
                break reasons::CLIENT_DISCONNECT;
            }
            _ = &mut watchdog => {
                tracing::warn!(?heartbeat, "No heartbeat from the server");
                break reasons::PING_TIMEOUT;
            }
            frames = out_rx.recv() => {
                let Some(frames) = frames else { continue };
                if let Err(e) = write_batch(&mut ws, frames, &mut out_rx).await {
                    tracing::warn!(error = %e, "Write failed");
                    break reasons::TRANSPORT_ERROR;
                }
            }
            message = ws.next() => {
                watchdog.as_mut().reset(Instant::now() + heartbeat);
                let step = match message {
                    Some(Ok(Message::Text(text))) => handle_text(inner, &mut ws, text.as_str(), &out_tx, &mut pending).await,
                    Some(Ok(Message::Binary(data))) => handle_binary(inner, data, &out_tx, &mut pending).await,
                    Some(Ok(Message::Close(_))) | None => Step::End(reasons::TRANSPORT_CLOSE),
                    Some(Ok(_)) => Step::Continue,
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "Transport error");
                        Step::End(reasons::TRANSPORT_ERROR)
                    }
                };
                if let Step::End(reason) = step {
                    break reason;
                }
            }
        }
    };

    inner.reset_link();
    tracing::info!(reason, "Disconnected");
    inner
        .dispatch(Dispatch::Disconnected(reason.to_owned()))
        .await;
    reason
}

async fn write_batch(
    ws: &mut Ws,
    frames: Frames,
    out_rx: &mut mpsc::Receiver<Frames>,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    for frame in frames {
        ws.feed(frame).await?;
    }
    // Coalesce what is already queued into one flush.
    for _ in 0..64 {
        match out_rx.try_recv() {
            Ok(more) => {
                for frame in more {
                    ws.feed(frame).await?;
                }
            }
            Err(_) => break,
        }
    }
    ws.flush().await
}

async fn protocol_error(inner: &Inner, error: CodecError, frame: &str) {
    let shown: String = frame.chars().take(80).collect();
    tracing::warn!(%error, frame = %shown, "Ignoring a malformed packet");
    inner
        .dispatch(Dispatch::Error(ClientError::Protocol(format!(
            "{error}: {shown:?}"
        ))))
        .await;
}

async fn handle_text(
    inner: &Arc<Inner>,
    ws: &mut Ws,
    text: &str,
    out_tx: &mpsc::Sender<Frames>,
    pending: &mut Option<PendingBinary>,
) -> Step {
    let packet = match codec::decode_engine(text) {
        Ok(packet) => packet,
        Err(e) => {
            protocol_error(inner, e, text).await;
            return Step::Continue;
        }
    };
    match packet {
        EnginePacket::Ping(data) => {
            if ws
                .send(Message::text(codec::encode_pong(data)))
                .await
                .is_err()
            {
                return Step::End(reasons::TRANSPORT_ERROR);
            }
            Step::Continue
        }
        EnginePacket::Close => Step::End(reasons::TRANSPORT_CLOSE),
        EnginePacket::Message(sio) => {
            if pending.take().is_some() {
                tracing::warn!(
                    "Binary packet abandoned: a text packet came before its attachments"
                );
            }
            match codec::decode_socket(sio) {
                Ok(packet) if packet.namespace != *inner.namespace => Step::Continue,
                Ok(packet) => {
                    if packet.attachments > 0 {
                        *pending = Some(PendingBinary {
                            packet,
                            received: Vec::new(),
                        });
                        Step::Continue
                    } else {
                        deliver(inner, packet, Vec::new(), out_tx).await
                    }
                }
                Err(e) => {
                    protocol_error(inner, e, sio).await;
                    Step::Continue
                }
            }
        }
        EnginePacket::Open(_) | EnginePacket::Pong | EnginePacket::Noop => Step::Continue,
    }
}

async fn handle_binary(
    inner: &Arc<Inner>,
    data: Bytes,
    out_tx: &mpsc::Sender<Frames>,
    pending: &mut Option<PendingBinary>,
) -> Step {
    let Some(waiting) = pending.as_mut() else {
        inner
            .dispatch(Dispatch::Error(ClientError::Protocol(
                "binary frame without a binary packet".to_owned(),
            )))
            .await;
        return Step::Continue;
    };
    waiting.received.push(data);
    if !waiting.is_complete() {
        return Step::Continue;
    }
    match pending.take() {
        Some(done) => deliver(inner, done.packet, done.received, out_tx).await,
        None => Step::Continue,
    }
}

/// Hands a complete packet to the dispatcher or to the waiting `emit_with_ack`.
async fn deliver(
    inner: &Arc<Inner>,
    packet: SocketPacket,
    binaries: Vec<Bytes>,
    out_tx: &mpsc::Sender<Frames>,
) -> Step {
    if let Some(data) = &packet.data
        && !codec::placeholders_in_range(data, binaries.len())
    {
        inner
            .dispatch(Dispatch::Error(ClientError::Protocol(
                "placeholder refers to a missing attachment".to_owned(),
            )))
            .await;
        return Step::Continue;
    }
    match packet.kind {
        PacketKind::Event | PacketKind::BinaryEvent => {
            let Some(Value::Array(mut items)) = packet.data else {
                return Step::Continue;
            };
            let Value::String(name) = items.remove(0) else {
                return Step::Continue;
            };
            let ack = packet.ack_id.map(|id| AckResponder {
                id,
                namespace: inner.namespace.clone(),
                outbound: out_tx.clone(),
                sent: Arc::new(AtomicBool::new(false)),
            });
            let event = Event {
                name: Arc::from(name),
                payload: ClientPayload::from_parts(items, binaries),
                ack,
            };
            inner.dispatch(Dispatch::Event(event)).await;
            Step::Continue
        }
        PacketKind::Ack | PacketKind::BinaryAck => {
            let waiter = packet.ack_id.and_then(|id| lock(&inner.acks).remove(&id));
            match (waiter, packet.data) {
                (Some(waiter), Some(Value::Array(items))) => {
                    let _ = waiter.send(ClientPayload::from_parts(items, binaries));
                }
                _ => tracing::debug!(ack_id = ?packet.ack_id, "Acknowledgement nobody waits for"),
            }
            Step::Continue
        }
        PacketKind::Disconnect => Step::End(reasons::SERVER_DISCONNECT),
        PacketKind::ConnectError => {
            let message = packet.data.map(|d| d.to_string()).unwrap_or_default();
            inner
                .dispatch(Dispatch::Error(ClientError::ConnectRefused(message)))
                .await;
            Step::Continue
        }
        PacketKind::Connect => Step::Continue,
    }
}
