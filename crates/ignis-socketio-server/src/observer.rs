//! Lifecycle observers: adapter-agnostic hooks that learn when a socket
//! connects, authenticates and disconnects (for example to publish its
//! handshake to a cluster adapter so that Node's `fetchSockets()` sees it).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::{Handshake, Identity};

/// Observes the lifecycle of every socket of a helper. Register one or more
/// with [`ServerBuilder::observer`](crate::ServerBuilder::observer).
///
/// For each socket the helper calls, in this order and each at most once:
///
/// 1. [`socket_connected`](Self::socket_connected), exactly once, when the
///    socket enters the namespace (before the client's CONNECT is answered, and
///    before [`get_client`](crate::SocketIOServerHelper::get_client) lists it);
/// 2. [`socket_authenticated`](Self::socket_authenticated), at most once, when
///    the authenticator accepted the client, before the client is told
///    `authenticated` (so whatever the observer records is in place by the time
///    the client knows it is in, while the client's state still reads
///    `authenticating`); never for a refused or timed-out client, nor for one
///    that left before the authenticator answered;
/// 3. [`socket_disconnected`](Self::socket_disconnected), exactly once, when the
///    socket is gone, whatever the cause (client left, transport lost, refusal,
///    server-side disconnect, shutdown).
///
/// The methods are synchronous and run on the helper's tasks: they must return
/// quickly and never block (spawn a task for slow work). The helper holds none
/// of its locks while calling them, so they may call back into the helper. A
/// panicking observer is logged and otherwise ignored: the socket and the other
/// observers carry on. Every method has an empty default.
///
/// A directory of who is online, kept by an observer:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
/// use ignis_socketio_server::{AuthError, Handshake, Identity, SocketIOServerHelper, SocketObserver};
///
/// #[derive(Default)]
/// struct Online(Mutex<HashMap<String, String>>);
///
/// impl SocketObserver for Online {
///     fn socket_authenticated(&self, id: &str, _: &Handshake, identity: &Identity) {
///         self.0.lock().unwrap().insert(id.to_owned(), identity.id.clone());
///     }
///     fn socket_disconnected(&self, id: &str) {
///         self.0.lock().unwrap().remove(id);
///     }
/// }
///
/// # fn build() -> Result<(), ignis_socketio_server::BuildError> {
/// let online = Arc::new(Online::default());
/// let io = SocketIOServerHelper::builder()
///     .authenticate(|_hs: Handshake| async move { Err::<Identity, _>(AuthError::missing_token()) })
///     .observer(online.clone())
///     .build()?;
/// # Ok(()) }
/// ```
///
/// Wiring the Redis adapter's `fetchSockets` answers (Node's `socket.handshake`
/// and `socket.data`), in code that depends on both crates (this one knows
/// nothing of Redis); pass it with
/// `.observer(Arc::new(RedisDetails(state.clone())))` before
/// `.build_with_adapter(state.adapter("/")).await`:
///
/// ```ignore
/// struct RedisDetails(RedisAdapterState);
///
/// impl SocketObserver for RedisDetails {
///     fn socket_connected(&self, id: &str, hs: &Handshake) {
///         let details = SocketDetails { handshake: hs.to_node_json(), data: Value::Null };
///         self.0.register_socket("/", id, details);
///     }
///     fn socket_authenticated(&self, id: &str, hs: &Handshake, identity: &Identity) {
///         let details = SocketDetails { handshake: hs.to_node_json(), data: identity.to_node_data() };
///         self.0.register_socket("/", id, details);
///     }
///     fn socket_disconnected(&self, id: &str) {
///         self.0.unregister_socket("/", id);
///     }
/// }
/// ```
pub trait SocketObserver: Send + Sync + 'static {
    /// A socket entered the namespace with `handshake`; it is not authenticated yet.
    fn socket_connected(&self, id: &str, handshake: &Handshake) {
        let _ = (id, handshake);
    }

    /// The authenticator accepted socket `id` as `identity`. `handshake`
    /// carries the credentials of the `authenticate` event, if any.
    fn socket_authenticated(&self, id: &str, handshake: &Handshake, identity: &Identity) {
        let _ = (id, handshake, identity);
    }

    /// Socket `id` is gone. Called once per connected socket, authenticated or not.
    fn socket_disconnected(&self, id: &str) {
        let _ = id;
    }
}

/// The observers of one helper, called in registration order.
#[derive(Clone, Default)]
pub(crate) struct Observers(Vec<Arc<dyn SocketObserver>>);

impl Observers {
    pub(crate) fn new(observers: Vec<Arc<dyn SocketObserver>>) -> Self {
        Observers(observers)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn connected(&self, span: &tracing::Span, id: &str, handshake: &Handshake) {
        self.each(span, "socket_connected", |o| {
            o.socket_connected(id, handshake)
        });
    }

    pub(crate) fn authenticated(
        &self,
        span: &tracing::Span,
        id: &str,
        handshake: &Handshake,
        identity: &Identity,
    ) {
        self.each(span, "socket_authenticated", |o| {
            o.socket_authenticated(id, handshake, identity)
        });
    }

    pub(crate) fn disconnected(&self, span: &tracing::Span, id: &str) {
        self.each(span, "socket_disconnected", |o| o.socket_disconnected(id));
    }

    /// Calls `call` on every observer; a panic stops only that observer's call.
    fn each(&self, span: &tracing::Span, what: &'static str, call: impl Fn(&dyn SocketObserver)) {
        for observer in &self.0 {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| call(observer.as_ref()))) {
                tracing::error!(
                    parent: span,
                    callback = what,
                    panic = %crate::panic::panic_message(panic.as_ref()),
                    "socket observer panicked"
                );
            }
        }
    }
}
