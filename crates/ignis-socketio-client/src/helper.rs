//! `SocketIOClientHelper`: the reference's client helper on
//! top of [`SocketClient`]: the authentication state machine, rooms,
//! subscriptions whose handlers can really be removed, and lifecycle callbacks.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use ignis_socketio_protocol::{ClientState, JoinAck, LeaveAck, RoomsPayload, events};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;

use crate::handler::{Callback, HandlerOutcome, callback, run_contained};
use crate::{
    ClientConfig, ClientError, ClientPayload, Event, HandlerId, ReconnectConfig, SocketClient,
};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A handler for [`SocketIOClientHelper::subscribe_many`] and
/// [`SocketIOClientHelper::subscribe_handler`], built from a closure.
#[derive(Clone)]
pub struct EventHandler(Callback<Event>);

impl std::fmt::Debug for EventHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventHandler")
    }
}

impl EventHandler {
    /// A handler receiving the event's first argument (`null` when absent), like the reference's.
    pub fn new<F, Fut, R>(handler: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        let inner = callback(handler);
        EventHandler(Arc::new(move |event: Event| inner(event.data().clone())))
    }

    /// A handler receiving the first argument deserialized into `T`. Data
    /// that does not fit `T` is logged and the handler is not called.
    pub fn typed<T, F, Fut, R>(handler: F) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        let inner = callback(handler);
        EventHandler(Arc::new(move |event: Event| {
            match event.payload().decode_first::<T>() {
                Ok(data) => inner(data),
                Err(e) => {
                    let message = format!("event {:?}: {e}", event.name());
                    Box::pin(async move { Err(message) })
                }
            }
        }))
    }

    /// A handler receiving the whole [`Event`]: every argument, binary
    /// attachments, and [`Event::ack`] to answer a server's emit-with-ack.
    pub fn event<F, Fut, R>(handler: F) -> Self
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        EventHandler(callback(handler))
    }
}

#[derive(Default, Clone)]
struct Callbacks {
    connected: Option<Callback<()>>,
    disconnected: Option<Callback<String>>,
    error: Option<Callback<ClientError>>,
    authenticated: Option<Callback<Value>>,
    unauthenticated: Option<Callback<String>>,
}

#[derive(Debug, Clone)]
struct Settings {
    auto_connect: bool,
    auto_authenticate: bool,
    credentials: Option<Value>,
    rejoin_rooms: bool,
    auth_timeout: Option<Duration>,
    room_ack_timeout: Option<Duration>,
}

/// Options of [`SocketIOClientHelper`]; see each method for defaults.
pub struct SocketIOClientHelperBuilder {
    identifier: String,
    config: ClientConfig,
    settings: Settings,
    callbacks: Callbacks,
}

impl std::fmt::Debug for SocketIOClientHelperBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIOClientHelperBuilder")
            .field("identifier", &self.identifier)
            .field("config", &self.config)
            .field("settings", &self.settings)
            .finish()
    }
}

impl SocketIOClientHelperBuilder {
    /// Name used in logs (default `SOCKET_IO_CLIENT`).
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        self.identifier = identifier.into();
        self
    }

    /// Server URL, e.g. `http://127.0.0.1:3000` (the reference's `host`). Required.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.config.url = url.into();
        self
    }

    /// Alias of [`SocketIOClientHelperBuilder::url`], with the reference's name.
    pub fn host(self, host: impl Into<String>) -> Self {
        self.url(host)
    }

    /// Socket.IO path on the server (default `/socket.io`; Ignis servers often use `/io`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.path = path.into();
        self
    }

    /// Namespace (default `/`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.config.namespace = namespace.into();
        self
    }

    /// Adds an HTTP header to the handshake (the reference's `extraHeaders`).
    pub fn extra_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.headers.push((name.into(), value.into()));
        self
    }

    /// The handshake `auth` payload (e.g. `{"token": "..."}`).
    pub fn auth(mut self, auth: Value) -> Self {
        self.config.auth = Some(auth);
        self
    }

    /// Adds a query parameter to the handshake.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.query.push((name.into(), value.into()));
        self
    }

    /// Reconnection policy (default: on, 1 s doubling to 5 s, ±50 % jitter, no limit).
    pub fn reconnection(mut self, reconnection: ReconnectConfig) -> Self {
        self.config.reconnection = reconnection;
        self
    }

    /// Longest time one connection attempt may take (default 20 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Trusts an extra root certificate (PEM) for `wss://` servers with a private CA (feature `rustls`).
    pub fn tls_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.config.tls_root_certificates_pem.push(pem.into());
        self
    }

    /// Connect as soon as the helper is built (default `true`, like socket.io-client).
    pub fn auto_connect(mut self, on: bool) -> Self {
        self.settings.auto_connect = on;
        self
    }

    /// Call `authenticate()` on every (re)connection (default `false`, as in the reference).
    pub fn auto_authenticate(mut self, on: bool) -> Self {
        self.settings.auto_authenticate = on;
        self
    }

    /// Payload sent with `authenticate` (default: none, as in the reference).
    pub fn authenticate_payload(mut self, credentials: Value) -> Self {
        self.settings.credentials = Some(credentials);
        self
    }

    /// Join again, after re-authentication, the rooms joined before a reconnect (default `true`).
    pub fn rejoin_rooms(mut self, on: bool) -> Self {
        self.settings.rejoin_rooms = on;
        self
    }

    /// Give up waiting for `authenticated`/`unauthenticated` after this long:
    /// the state returns to `unauthorized` and `on_error` gets
    /// [`ClientError::AuthTimeout`] (default 15 s; `None`: wait forever like the reference).
    pub fn auth_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.auth_timeout = timeout;
        self
    }

    /// How long `join_rooms`/`leave_rooms` wait for the server's answer
    /// (default 5 s; `None`: do not ask for one, like the reference).
    pub fn room_ack_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.room_ack_timeout = timeout;
        self
    }

    /// Called on every connection, reconnections included.
    pub fn on_connected<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.callbacks.connected = Some(callback(move |()| f()));
        self
    }

    /// Called on every disconnection with the reason (`io server disconnect`, `transport close`, ...).
    pub fn on_disconnected<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.callbacks.disconnected = Some(callback(f));
        self
    }

    /// Called on connection errors, protocol errors and client-side auth timeouts.
    pub fn on_error<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(ClientError) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.callbacks.error = Some(callback(f));
        self
    }

    /// Called when the server confirms an authentication this client requested,
    /// with the server's payload (`{id, time}`).
    pub fn on_authenticated<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.callbacks.authenticated = Some(callback(f));
        self
    }

    /// Called when the server refuses the client, with its message (`""` when absent).
    pub fn on_unauthenticated<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.callbacks.unauthenticated = Some(callback(f));
        self
    }

    /// Creates the helper (and starts connecting unless `auto_connect(false)`).
    /// Needs a tokio runtime.
    pub fn build(self) -> Result<SocketIOClientHelper, ClientError> {
        if self.config.url.is_empty() {
            return Err(ClientError::MissingOption("url"));
        }
        let client = SocketClient::new(self.config)?;
        let inner = Arc::new(HelperInner {
            identifier: self.identifier,
            client,
            state: watch::channel(ClientState::Unauthorized).0,
            auth_generation: AtomicU64::new(0),
            rooms: Mutex::new(BTreeSet::new()),
            settings: self.settings,
            callbacks: self.callbacks,
        });
        HelperInner::install_listeners(&inner);
        let helper = SocketIOClientHelper { inner };
        if helper.inner.settings.auto_connect {
            helper.connect()?;
        }
        Ok(helper)
    }
}

struct HelperInner {
    identifier: String,
    client: SocketClient,
    state: watch::Sender<ClientState>,
    /// Bumped whenever a pending authentication ends, so a stale timer does nothing.
    auth_generation: AtomicU64,
    /// Rooms to join again after a reconnect.
    rooms: Mutex<BTreeSet<String>>,
    settings: Settings,
    callbacks: Callbacks,
}

/// The client side of the Ignis Socket.IO component (the reference's
/// `SocketIOClientHelper`): connects, authenticates with the
/// `authenticate` / `authenticated` / `unauthenticated` protocol, joins and
/// leaves rooms, and dispatches events to subscribed handlers.
///
/// Cheap to clone. Failing or panicking handlers and callbacks are logged and
/// never stop the client.
#[derive(Clone)]
pub struct SocketIOClientHelper {
    inner: Arc<HelperInner>,
}

impl std::fmt::Debug for SocketIOClientHelper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIOClientHelper")
            .field("identifier", &self.inner.identifier)
            .field("state", &self.state())
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl HelperInner {
    fn install_listeners(this: &Arc<HelperInner>) {
        let weak = Arc::downgrade(this);
        let client = &this.client;

        client.on_connect_system(system(&weak, |helper, sid: String| async move {
            tracing::info!(id = %helper.identifier, sid = %sid, "Connected");
            if let Some(cb) = helper.callbacks.connected.clone() {
                run_contained(&cb, (), "on_connected").await;
            }
            if helper.settings.auto_authenticate {
                SocketIOClientHelper { inner: helper }.authenticate();
            }
        }));

        client.on_disconnect_system(system(&weak, |helper, reason: String| async move {
            tracing::info!(id = %helper.identifier, %reason, "Disconnected");
            helper.end_authentication(ClientState::Unauthorized);
            if let Some(cb) = helper.callbacks.disconnected.clone() {
                run_contained(&cb, reason, "on_disconnected").await;
            }
        }));

        client.on_error_system(system(&weak, |helper, error: ClientError| async move {
            tracing::error!(id = %helper.identifier, %error, "Connection error");
            helper.report_error(error).await;
        }));

        client.on_system(
            events::AUTHENTICATED,
            system(&weak, |helper, event: Event| async move {
                if *helper.state.borrow() != ClientState::Authenticating {
                    // FIX: the reference accepts an unrequested `authenticated`.
                    tracing::warn!(id = %helper.identifier, state = %helper.state.borrow().as_str(),
                        "Ignoring an authenticated event this client did not ask for");
                    return;
                }
                tracing::info!(id = %helper.identifier, data = %event.data(), "Authenticated");
                helper.end_authentication(ClientState::Authenticated);
                if let Some(cb) = helper.callbacks.authenticated.clone() {
                    run_contained(&cb, event.data().clone(), "on_authenticated").await;
                }
                let rooms: Vec<String> = lock(&helper.rooms).iter().cloned().collect();
                if helper.settings.rejoin_rooms && !rooms.is_empty() {
                    // Not awaited here: the answer is read by the dispatcher we are running on.
                    let helper = SocketIOClientHelper { inner: helper };
                    tokio::spawn(async move {
                        if let Err(error) = helper.join_rooms(rooms).await {
                            tracing::warn!(%error, "Re-joining rooms failed");
                        }
                    });
                }
            }),
        );

        client.on_system(
            events::UNAUTHENTICATE,
            system(&weak, |helper, event: Event| async move {
                tracing::warn!(id = %helper.identifier, data = %event.data(), "Unauthenticated");
                helper.end_authentication(ClientState::Unauthorized);
                let message = event
                    .data()
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                if let Some(cb) = helper.callbacks.unauthenticated.clone() {
                    run_contained(&cb, message, "on_unauthenticated").await;
                }
            }),
        );

        client.on_system(
            events::PING,
            system(&weak, |helper, _event: Event| async move {
                tracing::debug!(id = %helper.identifier, "Ping received");
            }),
        );
    }

    fn end_authentication(&self, state: ClientState) {
        self.auth_generation.fetch_add(1, Ordering::AcqRel);
        self.state.send_replace(state);
    }

    async fn report_error(&self, error: ClientError) {
        if let Some(cb) = self.callbacks.error.clone() {
            run_contained(&cb, error, "on_error").await;
        }
    }
}

/// Wraps a listener of the helper so that it holds the helper weakly (the
/// client's registry must not keep the helper alive).
fn system<A, F, Fut>(weak: &Weak<HelperInner>, f: F) -> Callback<A>
where
    A: Send + 'static,
    F: Fn(Arc<HelperInner>, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let weak = weak.clone();
    let f = Arc::new(f);
    callback(move |arg: A| {
        let helper = weak.upgrade();
        let f = f.clone();
        async move {
            if let Some(helper) = helper {
                f(helper, arg).await;
            }
        }
    })
}

impl SocketIOClientHelper {
    /// Starts the options. `url` is required.
    pub fn builder() -> SocketIOClientHelperBuilder {
        SocketIOClientHelperBuilder {
            identifier: "SOCKET_IO_CLIENT".to_owned(),
            config: ClientConfig::new(""),
            settings: Settings {
                auto_connect: true,
                auto_authenticate: false,
                credentials: None,
                rejoin_rooms: true,
                auth_timeout: Some(Duration::from_secs(15)),
                room_ack_timeout: Some(Duration::from_secs(5)),
            },
            callbacks: Callbacks::default(),
        }
    }

    /// The identifier given in the options.
    pub fn identifier(&self) -> &str {
        &self.inner.identifier
    }

    /// The underlying client (the reference's `getSocketClient()`).
    pub fn client(&self) -> &SocketClient {
        &self.inner.client
    }

    /// The authentication state (initially `unauthorized`).
    pub fn state(&self) -> ClientState {
        *self.inner.state.borrow()
    }

    /// A receiver that sees every state change.
    pub fn state_changes(&self) -> watch::Receiver<ClientState> {
        self.inner.state.subscribe()
    }

    /// Waits up to `timeout` for the state to become `state`; returns whether it did.
    pub async fn wait_for_state(&self, state: ClientState, timeout: Duration) -> bool {
        let mut rx = self.inner.state.subscribe();
        matches!(
            tokio::time::timeout(timeout, rx.wait_for(|s| *s == state)).await,
            Ok(Ok(_))
        )
    }

    /// Whether the client is connected.
    pub fn is_connected(&self) -> bool {
        self.inner.client.is_connected()
    }

    /// Asks the server to authenticate this connection (emits `authenticate`,
    /// with the configured payload if any). A no-op, returning `false`, unless
    /// connected and `unauthorized`.
    pub fn authenticate(&self) -> bool {
        self.request_authentication(self.inner.settings.credentials.clone())
    }

    /// Like [`SocketIOClientHelper::authenticate`], sending `credentials` with the request.
    pub fn authenticate_with(&self, credentials: Value) -> bool {
        self.request_authentication(Some(credentials))
    }

    fn request_authentication(&self, credentials: Option<Value>) -> bool {
        let inner = &self.inner;
        if !self.is_connected() {
            tracing::warn!(id = %inner.identifier, "Cannot authenticate | reason: not connected");
            return false;
        }
        let swapped = inner.state.send_if_modified(|state| {
            if *state == ClientState::Unauthorized {
                *state = ClientState::Authenticating;
                true
            } else {
                false
            }
        });
        if !swapped {
            tracing::warn!(id = %inner.identifier, state = %self.state(), "Cannot authenticate | not unauthorized");
            return false;
        }
        let generation = inner.auth_generation.fetch_add(1, Ordering::AcqRel) + 1;
        let payload = credentials.map(ClientPayload::from).unwrap_or_default();
        if let Err(error) = inner.client.emit(events::AUTHENTICATE, payload) {
            tracing::warn!(id = %inner.identifier, %error, "Cannot authenticate");
            inner.end_authentication(ClientState::Unauthorized);
            return false;
        }
        tracing::info!(id = %inner.identifier, "Authentication requested");
        if let Some(timeout) = inner.settings.auth_timeout {
            let weak = Arc::downgrade(inner);
            tokio::spawn(async move {
                tokio::time::sleep(timeout).await;
                let Some(inner) = weak.upgrade() else { return };
                if inner.auth_generation.load(Ordering::Acquire) == generation
                    && *inner.state.borrow() == ClientState::Authenticating
                {
                    tracing::warn!(id = %inner.identifier, ?timeout, "No authentication answer");
                    inner.end_authentication(ClientState::Unauthorized);
                    inner.report_error(ClientError::AuthTimeout(timeout)).await;
                }
            });
        }
        true
    }

    fn check_can_emit(&self, topic: &str) -> Result<(), ClientError> {
        if !self.is_connected() {
            return Err(ClientError::NotConnected);
        }
        if topic.is_empty() {
            return Err(ClientError::EmptyTopic);
        }
        Ok(())
    }

    /// Sends `topic` with one argument, `data` (any serde value, `null` included).
    /// Errors when not connected, when `topic` is empty or reserved.
    pub fn emit<T: Serialize + ?Sized>(&self, topic: &str, data: &T) -> Result<(), ClientError> {
        self.check_can_emit(topic)?;
        self.inner.client.emit(topic, ClientPayload::json(data)?)
    }

    /// Sends `topic` with several arguments and/or binary attachments.
    pub fn emit_payload(&self, topic: &str, payload: ClientPayload) -> Result<(), ClientError> {
        self.check_can_emit(topic)?;
        self.inner.client.emit(topic, payload)
    }

    /// Sends `topic` and waits up to `timeout` for the server's acknowledgement.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        topic: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<ClientPayload, ClientError> {
        self.check_can_emit(topic)?;
        self.inner
            .client
            .emit_with_ack(topic, ClientPayload::json(data)?, timeout)
            .await
    }

    /// Subscribes `handler` to `event`; it receives the first argument.
    ///
    /// Handlers stack like Node's `socket.on`: a second subscription to the
    /// same event adds a handler that also runs, after the first, on every
    /// event. (The reference ignored it, `ignoreDuplicate: true`; use
    /// [`subscribe_handler`](Self::subscribe_handler) with `ignore_duplicate`
    /// for that rule.) Returns the handle that removes exactly this handler,
    /// `None` only when `event` is empty.
    ///
    /// ```no_run
    /// # use ignis_socketio_client::SocketIOClientHelper;
    /// # use serde_json::Value;
    /// # fn f(helper: &SocketIOClientHelper) {
    /// let log = helper.subscribe("news", |data: Value| async move { eprintln!("news: {data}") });
    /// let count = helper.subscribe("news", |_: Value| async move { /* count it */ });
    /// // Both run on every `news`; remove one, the other stays.
    /// if let Some(id) = log {
    ///     helper.unsubscribe_handler(id);
    /// }
    /// # let _ = count; }
    /// ```
    pub fn subscribe<F, Fut, R>(&self, event: &str, handler: F) -> Option<HandlerId>
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.subscribe_handler(event, EventHandler::new(handler), false)
    }

    /// Subscribes a handler that receives the first argument as a `T`; it
    /// stacks with the event's other handlers like [`subscribe`](Self::subscribe).
    pub fn subscribe_typed<T, F, Fut, R>(&self, event: &str, handler: F) -> Option<HandlerId>
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.subscribe_handler(event, EventHandler::typed(handler), false)
    }

    /// Subscribes `handler` to `event`. Without `ignore_duplicate` it stacks
    /// with the event's other handlers (they all run, in subscription order).
    /// With `ignore_duplicate`, the reference's rule, nothing is added (and
    /// `None` returned, logged at debug level) when the event already has a
    /// user handler; the helper's own listeners do not count. `None` too when
    /// `event` is empty.
    pub fn subscribe_handler(
        &self,
        event: &str,
        handler: EventHandler,
        ignore_duplicate: bool,
    ) -> Option<HandlerId> {
        if event.is_empty() {
            tracing::warn!(id = %self.inner.identifier, "No event name to subscribe to");
            return None;
        }
        let client = &self.inner.client;
        if ignore_duplicate && client.has_listeners(event) {
            tracing::debug!(id = %self.inner.identifier, event, "Handler already exists; not added");
            return None;
        }
        let handler = handler.0;
        let id = client.on(event, move |e: Event| handler(e));
        tracing::debug!(id = %self.inner.identifier, event, "Subscribed");
        Some(id)
    }

    /// Subscribes several handlers; returns the handles of those added.
    pub fn subscribe_many<I, S>(
        &self,
        handlers: I,
        ignore_duplicate: bool,
    ) -> Vec<(String, HandlerId)>
    where
        I: IntoIterator<Item = (S, EventHandler)>,
        S: Into<String>,
    {
        handlers
            .into_iter()
            .filter_map(|(event, handler)| {
                let event = event.into();
                self.subscribe_handler(&event, handler, ignore_duplicate)
                    .map(|id| (event, id))
            })
            .collect()
    }

    /// Removes every handler subscribed to `event` (never the helper's own
    /// listeners). Returns how many were removed.
    pub fn unsubscribe(&self, event: &str) -> usize {
        let removed = self.inner.client.off_event(event);
        if removed == 0 {
            tracing::debug!(id = %self.inner.identifier, event, "No listeners to remove");
        }
        removed
    }

    /// Removes exactly the handler `handler`. Returns whether it existed.
    pub fn unsubscribe_handler(&self, handler: HandlerId) -> bool {
        self.inner.client.off(handler)
    }

    /// [`SocketIOClientHelper::unsubscribe`] for each event; returns the total removed.
    pub fn unsubscribe_many<I, S>(&self, events: I) -> usize
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        events
            .into_iter()
            .map(|e| self.unsubscribe(e.as_ref()))
            .sum()
    }

    async fn room_request<A: DeserializeOwned>(
        &self,
        event: &str,
        rooms: Vec<String>,
    ) -> Result<Option<A>, ClientError> {
        if !self.is_connected() {
            tracing::warn!(id = %self.inner.identifier, event, "Cannot send room request | reason: not connected");
            return Err(ClientError::NotConnected);
        }
        let payload = ClientPayload::json(&RoomsPayload { rooms })?;
        tracing::info!(id = %self.inner.identifier, event, "Room request sent");
        match self.inner.settings.room_ack_timeout {
            None => self.inner.client.emit(event, payload).map(|()| None),
            Some(timeout) => match self
                .inner
                .client
                .emit_with_ack(event, payload, timeout)
                .await
            {
                Ok(answer) => answer.decode_first::<A>().map(Some),
                Err(ClientError::AckTimeout(_)) => {
                    tracing::debug!(event, "The server did not answer the room request");
                    Ok(None)
                }
                Err(e) => Err(e),
            },
        }
    }

    /// Asks to join `rooms`. Returns the server's answer when it sends one
    /// within the room ack timeout (Ignis Rust servers do), `None` otherwise
    /// (reference servers never answer). Errors when not connected.
    pub async fn join_rooms<I, S>(&self, rooms: I) -> Result<Option<JoinAck>, ClientError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let rooms: Vec<String> = rooms.into_iter().map(Into::into).collect();
        let answer = self
            .room_request::<JoinAck>(events::JOIN, rooms.clone())
            .await?;
        let mut remembered = lock(&self.inner.rooms);
        match &answer {
            Some(ack) => remembered.extend(ack.joined.iter().cloned()),
            None => remembered.extend(rooms),
        }
        Ok(answer)
    }

    /// Asks to leave `rooms`; same answer rules as [`SocketIOClientHelper::join_rooms`].
    pub async fn leave_rooms<I, S>(&self, rooms: I) -> Result<Option<LeaveAck>, ClientError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let rooms: Vec<String> = rooms.into_iter().map(Into::into).collect();
        let answer = self
            .room_request::<LeaveAck>(events::LEAVE, rooms.clone())
            .await?;
        let mut remembered = lock(&self.inner.rooms);
        for room in &rooms {
            remembered.remove(room);
        }
        Ok(answer)
    }

    /// The rooms this helper will join again after a reconnect.
    pub fn remembered_rooms(&self) -> Vec<String> {
        lock(&self.inner.rooms).iter().cloned().collect()
    }

    /// Starts connecting (no-op when already connected or connecting).
    pub fn connect(&self) -> Result<(), ClientError> {
        self.inner.client.connect()
    }

    /// Disconnects; the state becomes `unauthorized` at once and `on_disconnected`
    /// runs with `io client disconnect`. `connect()` works again afterwards.
    pub async fn disconnect(&self) {
        self.inner.end_authentication(ClientState::Unauthorized);
        self.inner.client.disconnect().await;
    }

    /// Removes every listener (so no callback runs), disconnects, forgets
    /// the rooms, and leaves the state `unauthorized`. The helper cannot
    /// connect again. Idempotent.
    pub async fn shutdown(&self) {
        tracing::info!(id = %self.inner.identifier, "Shutting down SocketIO client");
        self.inner.client.shutdown().await;
        self.inner.end_authentication(ClientState::Unauthorized);
        lock(&self.inner.rooms).clear();
        tracing::info!(id = %self.inner.identifier, "SocketIO client shutdown complete");
    }
}
