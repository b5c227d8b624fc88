//! The application callbacks: object-safe async traits, implemented for async closures.
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

use crate::EventData;

use crate::{
    AckResponder, AuthError, AuthenticatedClient, ClientInfo, Handshake, Identity, JoinRequest,
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

/// Runs once per client right after it authenticated; this is where an
/// application registers its event handlers with [`AuthenticatedClient::on`].
/// Application events the client sends while it runs are held and delivered
/// when it returns.
#[async_trait]
pub trait ClientConnectedHandler: Send + Sync + 'static {
    /// Called with the freshly authenticated client.
    async fn on_connected(&self, client: AuthenticatedClient);
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

/// Runs once per client when it is gone, whatever the cause (client left,
/// server disconnect, authentication refused or timed out, shutdown), with a
/// last snapshot of the client and the reason.
#[async_trait]
pub trait ClientDisconnectedHandler: Send + Sync + 'static {
    /// Called with the client's last snapshot and the disconnect reason.
    async fn on_disconnected(&self, client: ClientInfo, reason: String);
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

/// Handles one application event of an authenticated client.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Called with the client, the event data (the first argument the client
    /// emitted, binary attachments kept as bytes; `null` when none; further
    /// arguments are not passed) and an acknowledgement responder when the
    /// client asked for an acknowledgement.
    async fn handle(&self, client: AuthenticatedClient, data: EventData, ack: Option<AckResponder>);
}

/// Runs a handler closure's future and logs its failure.
async fn run_logged<O: HandlerOutcome>(id: String, outcome: impl Future<Output = O>) {
    if let Err(error) = outcome.await.into_outcome() {
        tracing::warn!(socket_id = %id, %error, "event handler failed");
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
                run_logged($client.id().to_owned(), $call).await
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

/// The message of a caught panic, for the log.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SocketIOServerHelper;

    /// Both closure styles are accepted: `|x| async move {}` and `async |x| {}`.
    #[tokio::test]
    async fn async_closures_and_closures_returning_futures_are_callbacks() {
        let helper = SocketIOServerHelper::builder()
            .authenticate(async |hs: Handshake| {
                hs.bearer_token()
                    .map(Identity::new)
                    .ok_or_else(AuthError::missing_token)
            })
            .validate_rooms(async |req: JoinRequest| req.keep(|r| r.starts_with("public-")))
            .on_client_connected(async |client: AuthenticatedClient| {
                client.on("a", async |_c: AuthenticatedClient, _d: Value| {});
                client.on(
                    "b",
                    |_c: AuthenticatedClient, _d: Value, ack: Option<AckResponder>| async move {
                        if let Some(ack) = ack {
                            ack.send(&1)?;
                        }
                        Ok::<(), crate::ServerError>(())
                    },
                );
            })
            .on_client_disconnected(|_info: ClientInfo, _reason: String| async move {})
            .build();
        assert!(helper.is_ok());
    }
}
