//! `SocketIOClientHelper`: the reference's client helper on top of
//! [`SocketClient`]: the authentication state machine, rooms, subscriptions
//! whose handlers can really be removed, and lifecycle callbacks.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ignis_socketio_protocol::{ClientState, JoinAck, LeaveAck};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;

use super::core::HelperInner;
use crate::dispatch::lock;
use crate::handler::{EventHandler, HandlerOutcome};
use crate::{ClientError, ClientPayload, HandlerId, SocketClient};

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

impl SocketIOClientHelper {
    pub(crate) fn from_inner(inner: Arc<HelperInner>) -> Self {
        SocketIOClientHelper { inner }
    }

    pub(crate) fn inner(&self) -> &HelperInner {
        &self.inner
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
        self.inner.state()
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
    /// with the configured payload if any). Refused, with nothing sent,
    /// unless connected ([`ClientError::NotConnected`]) and `unauthorized`
    /// ([`ClientError::NotUnauthorized`]).
    pub fn authenticate(&self) -> Result<(), ClientError> {
        let credentials = self.inner.settings.credentials.clone();
        self.inner.request_authentication(credentials)
    }

    /// Like [`SocketIOClientHelper::authenticate`], sending `credentials` with the request.
    pub fn authenticate_with(&self, credentials: Value) -> Result<(), ClientError> {
        self.inner.request_authentication(Some(credentials))
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
    /// for that rule.) Returns the handle that removes exactly this handler;
    /// [`ClientError::EmptyEvent`] when `event` is empty.
    ///
    /// ```no_run
    /// # use ignis_socketio_client::SocketIOClientHelper;
    /// # use serde_json::Value;
    /// # fn f(helper: &SocketIOClientHelper) -> Result<(), ignis_socketio_client::ClientError> {
    /// let log = helper.subscribe("news", |data: Value| async move { eprintln!("news: {data}") })?;
    /// let count = helper.subscribe("news", |_: Value| async move { /* count it */ })?;
    /// // Both run on every `news`; remove one, the other stays.
    /// helper.unsubscribe_handler(log);
    /// # let _ = count; Ok(()) }
    /// ```
    pub fn subscribe<F, Fut, R>(&self, event: &str, handler: F) -> Result<HandlerId, ClientError>
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.subscribe_handler(event, EventHandler::new(handler), false)
    }

    /// Subscribes a handler that receives the first argument as a `T`; it
    /// stacks with the event's other handlers like [`subscribe`](Self::subscribe).
    pub fn subscribe_typed<T, F, Fut, R>(
        &self,
        event: &str,
        handler: F,
    ) -> Result<HandlerId, ClientError>
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
    /// With `ignore_duplicate`, the reference's rule, nothing is added when
    /// the event already has a user handler ([`ClientError::AlreadySubscribed`];
    /// the helper's own listeners do not count). [`ClientError::EmptyEvent`]
    /// when `event` is empty.
    pub fn subscribe_handler(
        &self,
        event: &str,
        handler: EventHandler,
        ignore_duplicate: bool,
    ) -> Result<HandlerId, ClientError> {
        if event.is_empty() {
            tracing::warn!(id = %self.inner.identifier, "No event name to subscribe to");
            return Err(ClientError::EmptyEvent);
        }
        let client = &self.inner.client;
        if ignore_duplicate && client.has_listeners(event) {
            tracing::debug!(id = %self.inner.identifier, event, "Handler already exists; not added");
            return Err(ClientError::AlreadySubscribed(event.to_owned()));
        }
        let id = client.on_callback(event, handler.into_callback());
        tracing::debug!(id = %self.inner.identifier, event, "Subscribed");
        Ok(id)
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
                    .ok()
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

    /// Asks to join `rooms`. Returns the server's answer when it sends one
    /// within the room ack timeout (Ignis Rust servers do), `None` otherwise
    /// (reference servers never answer). Errors when not connected.
    pub async fn join_rooms<I, S>(&self, rooms: I) -> Result<Option<JoinAck>, ClientError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let rooms = rooms.into_iter().map(Into::into).collect();
        self.inner.join_rooms(rooms).await
    }

    /// Asks to leave `rooms`; same answer rules as [`SocketIOClientHelper::join_rooms`].
    pub async fn leave_rooms<I, S>(&self, rooms: I) -> Result<Option<LeaveAck>, ClientError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let rooms = rooms.into_iter().map(Into::into).collect();
        self.inner.leave_rooms(rooms).await
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
