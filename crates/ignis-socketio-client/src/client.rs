//! The Socket.IO client handle: a cloneable front over one background
//! connection task (see the `driver` and `session` modules), the listener
//! registry and the dispatcher (`dispatch`).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::builder::ClientBuilder;
use crate::dispatch::{Listener, Registry, lock};
use crate::event::{Event, Frames, Outbound, encode_frames, push_frames};
use crate::handler::{Callback, HandlerId, HandlerOutcome, callback};
use crate::shared::{DriverHandle, Shared};
use crate::{ClientConfig, ClientError, ClientPayload, DeflateParams};

/// A Socket.IO v5 client over WebSocket (Engine.IO v4).
///
/// Cheap to clone; all clones drive the same connection. Create one with
/// [`SocketClient::builder`]. Handlers run one at a time, in the order the
/// events arrived; spawn a task from a handler for long work.
#[derive(Clone)]
pub struct SocketClient {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for SocketClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketClient")
            .field("url", &self.inner.config.url)
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl ClientBuilder {
    /// Checks the settings and creates the client, not connected yet.
    /// Needs a tokio runtime (the dispatcher task starts here).
    pub fn build(self) -> Result<SocketClient, ClientError> {
        SocketClient::new(self.config)
    }
}

impl SocketClient {
    /// Starts building a client for the server at `url` (e.g. `http://127.0.0.1:3000`).
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::with(ClientConfig::new(url), ())
    }

    /// Creates a client from settings, not connected yet.
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        Ok(SocketClient {
            inner: Arc::new(Shared::new(config)?),
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
        if self.is_shut_down() {
            return Err(ClientError::Shutdown);
        }
        let mut slot = lock(&self.inner.driver);
        if slot.as_ref().is_some_and(|d| !d.task.is_finished()) {
            return Ok(());
        }
        let cancel = CancellationToken::new();
        let task = tokio::spawn(crate::driver::run(self.inner.clone(), cancel.clone()));
        *slot = Some(DriverHandle { cancel, task });
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

    /// The permessage-deflate parameters agreed with the server for the
    /// current connection: `None` while not connected, when the server
    /// declined the offer, or when [`ClientConfig::per_message_deflate`] is off.
    pub fn compression(&self) -> Option<DeflateParams> {
        *lock(&self.inner.deflate)
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

    /// Adds a listener to the list `list` picks; returns its id.
    fn add<A>(
        &self,
        list: impl FnOnce(&mut Registry) -> &mut Vec<Listener<A>>,
        system: bool,
        callback: Callback<A>,
    ) -> HandlerId {
        let id = HandlerId(self.inner.next_handler.fetch_add(1, Ordering::Relaxed));
        list(&mut lock(&self.inner.registry)).push(Listener {
            id,
            system,
            callback,
        });
        id
    }

    fn add_event(&self, event: &str, system: bool, callback: Callback<Event>) -> HandlerId {
        self.add(
            |r| r.events.entry(event.to_owned()).or_default(),
            system,
            callback,
        )
    }

    /// Registers a handler for `event`. It gets the whole [`Event`] (all
    /// arguments, attachments, and the means to answer the server's ack).
    pub fn on<F, Fut, R>(&self, event: &str, handler: F) -> HandlerId
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.add_event(event, false, callback(handler))
    }

    /// Like [`SocketClient::on`], for a handler that `remove_all_listeners` must keep
    /// (the helper's own listeners).
    pub(crate) fn on_system(&self, event: &str, handler: Callback<Event>) -> HandlerId {
        self.add_event(event, true, handler)
    }

    /// Registers an already erased handler for `event`.
    pub(crate) fn on_callback(&self, event: &str, handler: Callback<Event>) -> HandlerId {
        self.add_event(event, false, handler)
    }

    /// Registers a handler that sees every event, after the event's own handlers.
    pub fn on_any<F, Fut, R>(&self, handler: F) -> HandlerId
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.add(|r| &mut r.any, false, callback(handler))
    }

    /// Registers a handler run on every successful (re)connection, with the socket id.
    pub fn on_connect<F, Fut, R>(&self, handler: F) -> HandlerId
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.add(|r| &mut r.connect, false, callback(handler))
    }

    /// Registers a handler run on every disconnection, with the reason (see [`reasons`](crate::reasons)).
    pub fn on_disconnect<F, Fut, R>(&self, handler: F) -> HandlerId
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.add(|r| &mut r.disconnect, false, callback(handler))
    }

    /// Registers a handler run on connection errors and on protocol errors.
    pub fn on_error<F, Fut, R>(&self, handler: F) -> HandlerId
    where
        F: Fn(ClientError) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.add(|r| &mut r.error, false, callback(handler))
    }

    pub(crate) fn on_connect_system(&self, handler: Callback<String>) -> HandlerId {
        self.add(|r| &mut r.connect, true, handler)
    }

    pub(crate) fn on_disconnect_system(&self, handler: Callback<String>) -> HandlerId {
        self.add(|r| &mut r.disconnect, true, handler)
    }

    pub(crate) fn on_error_system(&self, handler: Callback<ClientError>) -> HandlerId {
        self.add(|r| &mut r.error, true, handler)
    }

    /// Removes exactly the handler `id`. Returns whether it existed.
    /// System listeners are never removed.
    pub fn off(&self, id: HandlerId) -> bool {
        lock(&self.inner.registry).remove(id)
    }

    /// Removes every user handler of `event`; returns how many were removed.
    pub fn off_event(&self, event: &str) -> usize {
        lock(&self.inner.registry).remove_event(event)
    }

    /// Number of user handlers (system ones excluded) registered for `event`.
    pub fn listener_count(&self, event: &str) -> usize {
        lock(&self.inner.registry).count(event)
    }

    /// Whether `event` has any user handler.
    pub fn has_listeners(&self, event: &str) -> bool {
        self.listener_count(event) > 0
    }

    fn check_emit(&self, event: &str) -> Result<Outbound, ClientError> {
        if self.is_shut_down() {
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
        encode_frames(&self.inner.namespace, ack, args, binaries, false)
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
