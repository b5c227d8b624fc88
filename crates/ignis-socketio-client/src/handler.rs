//! User handlers: their types, and running them so that a failure or a panic
//! is logged and contained instead of killing the client.

use std::fmt::Display;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::event::Event;

/// Identifies one registered handler; pass it back to remove exactly that handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HandlerId(pub(crate) u64);

/// What a handler may return: `()`, `Result<(), E>` with a displayable
/// error, or `Result<bool, E>`, what [`Event::ack`](crate::Event::ack)
/// returns, so that a handler can end with `event.ack(..)`. An error is
/// logged; it never stops the client. `Ok(false)` (an ack that was not sent:
/// the server asked for none, or the event was already answered) is logged at
/// debug level and is not an error.
///
/// ```
/// use ignis_socketio_client::{Event, EventHandler};
/// use serde_json::json;
///
/// let answer = EventHandler::event(|event: Event| async move { event.ack(json!("pong")) });
/// # let _ = answer;
/// ```
pub trait HandlerOutcome {
    /// `Err(message)` when the handler failed.
    fn into_outcome(self) -> Result<(), String>;
}

impl HandlerOutcome for () {
    fn into_outcome(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> HandlerOutcome for Result<(), E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

impl<E: Display> HandlerOutcome for Result<bool, E> {
    fn into_outcome(self) -> Result<(), String> {
        match self {
            Ok(true) => Ok(()),
            Ok(false) => {
                tracing::debug!("Acknowledgement not sent: none asked for, or already sent");
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// A handler for [`SocketIOClientHelper::subscribe_many`](crate::SocketIOClientHelper::subscribe_many) and
/// [`SocketIOClientHelper::subscribe_handler`](crate::SocketIOClientHelper::subscribe_handler), built from a closure.
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
    /// attachments, and [`Event::ack`](crate::Event::ack) to answer a server's emit-with-ack.
    pub fn event<F, Fut, R>(handler: F) -> Self
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        EventHandler(callback(handler))
    }

    pub(crate) fn into_callback(self) -> Callback<Event> {
        self.0
    }
}

pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// A type-erased handler taking an argument of type `A`.
pub(crate) type Callback<A> = Arc<dyn Fn(A) -> BoxFuture + Send + Sync>;

/// Erases a user closure into a [`Callback`].
pub(crate) fn callback<A, F, Fut, R>(f: F) -> Callback<A>
where
    A: Send + 'static,
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: HandlerOutcome,
{
    Arc::new(move |arg: A| {
        let fut = f(arg);
        Box::pin(async move { fut.await.into_outcome() }) as BoxFuture
    })
}

/// Runs `handler` with `arg`, turning errors and panics (in the closure or
/// in its future) into log lines.
pub(crate) async fn run_contained<A>(handler: &Callback<A>, arg: A, what: &str) {
    let fut = match std::panic::catch_unwind(AssertUnwindSafe(|| handler(arg))) {
        Ok(fut) => fut,
        Err(panic) => {
            tracing::error!(
                handler = what,
                panic = panic_message(&panic),
                "Handler panicked"
            );
            return;
        }
    };
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(handler = what, %error, "Handler error"),
        Err(panic) => {
            tracing::error!(
                handler = what,
                panic = panic_message(&panic),
                "Handler panicked"
            )
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic".to_owned()
    }
}
