//! The application callbacks implemented for async closures (the object-safe
//! async traits themselves are defined in `types.rs`), and what an event
//! handler may be registered from.
//!
//! Every callback may be given as a closure returning a future
//! (`|hs: Handshake| async move { ... }`) or as a type implementing the trait.
//! Errors and panics of callbacks are contained and logged; they never take the
//! server down.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use ignis_socketio_protocol::{events, validate_event_name};

use crate::types::{
    Authenticator, ClientConnectedHandler, ClientDisconnectedHandler, ClientRecord, EventHandler,
    RoomValidator,
};
use crate::warn_budget::client_warn;
use crate::{
    AckResponder, AuthError, AuthenticatedClient, ClientInfo, EventData, Handshake, Identity,
    JoinRequest, ServerError,
};

#[async_trait]
impl<F, Fut> Authenticator for F
where
    F: Fn(Handshake) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Identity, AuthError>> + Send + 'static,
{
    async fn authenticate(&self, handshake: Handshake) -> Result<Identity, AuthError> {
        self(handshake).await
    }
}

#[async_trait]
impl<F, Fut> RoomValidator for F
where
    F: Fn(JoinRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<String>> + Send + 'static,
{
    async fn validate(&self, request: JoinRequest) -> Vec<String> {
        self(request).await
    }
}

#[async_trait]
impl<F, Fut> ClientConnectedHandler for F
where
    F: Fn(AuthenticatedClient) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutcome,
{
    async fn on_connected(&self, client: AuthenticatedClient) {
        let id = client.id().to_owned();
        if let Err(error) = self(client).await.into_outcome() {
            tracing::error!(socket_id = %id, %error, "client-connected handler failed");
        }
    }
}

#[async_trait]
impl<F, Fut> ClientDisconnectedHandler for F
where
    F: Fn(ClientInfo, String) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutcome,
{
    async fn on_disconnected(&self, client: ClientInfo, reason: String) {
        let id = client.id.clone();
        if let Err(error) = self(client, reason).await.into_outcome() {
            tracing::error!(socket_id = %id, %error, "client-disconnected handler failed");
        }
    }
}

/// Runs a handler closure's future and logs its failure (within the
/// client's warning budget: a handler failing on every event of a flood
/// must not write a line per event).
async fn run_logged<O: HandlerOutcome>(
    record: Arc<ClientRecord>,
    outcome: impl Future<Output = O>,
) {
    if let Err(error) = outcome.await.into_outcome() {
        client_warn!(record, %error, "event handler failed");
    }
}

/// What [`AuthenticatedClient::on`] accepts: an [`EventHandler`], or a
/// closure taking `(client, data)` or `(client, data, ack)`, where `data` is
/// a [`serde_json::Value`] (binary attachments as arrays of byte values) or
/// an [`EventData`] (binary kept as bytes, readable into any serde type).
pub trait IntoEventHandler<Marker>: Send + Sync + 'static {
    /// Converts into a shareable handler.
    fn into_event_handler(self) -> Arc<dyn EventHandler>;
}

/// Marker for [`IntoEventHandler`]: a value implementing [`EventHandler`].
#[derive(Debug)]
pub enum HandlerMarker {}

/// Marker for [`IntoEventHandler`]: a closure taking `(client, data, ack)`
/// with JSON data.
#[derive(Debug)]
pub enum WithAckMarker {}

/// Marker for [`IntoEventHandler`]: a closure taking `(client, data)` with
/// JSON data.
#[derive(Debug)]
pub enum WithoutAckMarker {}

/// Marker for [`IntoEventHandler`]: a closure taking `(client, data, ack)`
/// with [`EventData`].
#[derive(Debug)]
pub enum DataWithAckMarker {}

/// Marker for [`IntoEventHandler`]: a closure taking `(client, data)` with
/// [`EventData`].
#[derive(Debug)]
pub enum DataMarker {}

impl<H: EventHandler> IntoEventHandler<HandlerMarker> for H {
    fn into_event_handler(self) -> Arc<dyn EventHandler> {
        Arc::new(self)
    }
}

/// Adapts a closure to [`EventHandler`]; `M` says which arguments it takes.
struct Closure<F, M>(F, std::marker::PhantomData<fn() -> M>);

macro_rules! closure_handler {
    ($marker:ty, $data:ty, |$f:ident, $client:ident, $d:ident, $ack:ident| $call:expr) => {
        #[async_trait]
        impl<F, Fut> EventHandler for Closure<F, $marker>
        where
            F: Fn(AuthenticatedClient, $data, Option<AckResponder>) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: HandlerOutcome,
        {
            async fn handle(
                &self,
                $client: AuthenticatedClient,
                $d: EventData,
                $ack: Option<AckResponder>,
            ) {
                let $f = &self.0;
                let record = $client.record.clone();
                run_logged(record, $call).await
            }
        }
    };
}

closure_handler!(WithAckMarker, Value, |f, client, data, ack| f(
    client,
    data.json(),
    ack
));
closure_handler!(DataWithAckMarker, EventData, |f, client, data, ack| f(
    client, data, ack
));

/// A two-argument closure seen as a three-argument one.
struct IgnoreAck<F>(F);

macro_rules! two_args {
    ($marker:ty, $three:ty, $data:ty) => {
        impl<F, Fut> IntoEventHandler<$marker> for F
        where
            F: Fn(AuthenticatedClient, $data) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: HandlerOutcome,
        {
            fn into_event_handler(self) -> Arc<dyn EventHandler> {
                let f = IgnoreAck(self);
                Arc::new(Closure::<_, $three>(
                    move |client: AuthenticatedClient, data: $data, _ack: Option<AckResponder>| {
                        (f.0)(client, data)
                    },
                    std::marker::PhantomData,
                ))
            }
        }
    };
}

two_args!(WithoutAckMarker, WithAckMarker, Value);
two_args!(DataMarker, DataWithAckMarker, EventData);

macro_rules! three_args {
    ($marker:ty, $data:ty) => {
        impl<F, Fut> IntoEventHandler<$marker> for F
        where
            F: Fn(AuthenticatedClient, $data, Option<AckResponder>) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: HandlerOutcome,
        {
            fn into_event_handler(self) -> Arc<dyn EventHandler> {
                Arc::new(Closure::<_, $marker>(self, std::marker::PhantomData))
            }
        }
    };
}

three_args!(WithAckMarker, Value);
three_args!(DataWithAckMarker, EventData);

/// What a callback closure may return: `()` or `Result<(), E>` (an `Err` is logged).
pub trait HandlerOutcome: Send {
    /// `Err` with a printable reason when the callback failed.
    fn into_outcome(self) -> Result<(), String>;
}

impl HandlerOutcome for () {
    fn into_outcome(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display + Send> HandlerOutcome for Result<(), E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// Refuses names an application handler cannot take: empty, reserved by
/// Socket.IO, or handled by the helper itself.
pub(crate) fn check_handler_name(event: &str) -> Result<(), ServerError> {
    validate_event_name(event)?;
    if [events::AUTHENTICATE, events::JOIN, events::LEAVE].contains(&event) {
        return Err(ServerError::ProtocolEvent(event.to_owned()));
    }
    Ok(())
}
