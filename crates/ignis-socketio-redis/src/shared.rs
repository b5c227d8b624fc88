//! The state one server shares between its namespaces: the subscriber and
//! the routing of its messages to the namespaces' adapters, the
//! server-side-emit handlers and the socket details registry that answers
//! Node's `fetchSockets`.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock, RwLock, Weak, atomic::Ordering},
    time::Instant,
};

use crate::{
    conn::{Incoming, Subscriber},
    delivery::RedisCounters,
    error::RedisAdapterError,
    info::{RedisHealth, SocketDetails, SocketInfo},
    link::Link,
    requests::NsCore,
    server_side::ServerSideHandler,
};

/// Which subscription a message came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelKind {
    Broadcast,
    Request,
    Response,
}

/// The type-erased face of a namespace adapter, reached from the subscriber and the
/// state API.
pub(crate) trait NsHandler: Send + Sync + 'static {
    fn on_message(&self, kind: ChannelKind, channel: &str, payload: &[u8]);
    fn local_sockets(&self, rooms: &[String], except: &[String]) -> Vec<SocketInfo>;
    fn local_rooms(&self) -> Vec<String>;
    fn local_ids(&self) -> Vec<String>;
    fn core(&self) -> &Arc<NsCore>;
}

/// Socket id -> its details and when they were registered.
pub(crate) type SocketRegistry = HashMap<String, (SocketDetails, Instant)>;

/// Which adapter each subscribed channel and pattern goes to.
#[derive(Default)]
pub(crate) struct Routes {
    pub(crate) channels: HashMap<String, (ChannelKind, Weak<dyn NsHandler>)>,
    pub(crate) patterns: HashMap<String, (ChannelKind, Weak<dyn NsHandler>)>,
}

/// A server's Redis state: the publishing link, the subscriber, which
/// adapter each subscribed channel goes to, the server-side-emit handlers and
/// the registered socket details.
pub(crate) struct Shared {
    pub(crate) link: Arc<Link>,
    pub(crate) subscriber: OnceLock<Subscriber>,
    pub(crate) routes: RwLock<Routes>,
    pub(crate) namespaces: RwLock<HashMap<String, Weak<dyn NsHandler>>>,
    pub(crate) sse_handlers: RwLock<HashMap<String, Vec<ServerSideHandler>>>,
    pub(crate) sockets: RwLock<HashMap<String, SocketRegistry>>,
}

impl Shared {
    pub(crate) fn dispatch(&self, msg: Incoming) {
        let route = {
            let Ok(routes) = self.routes.read() else {
                return;
            };
            match &msg.pattern {
                Some(pattern) => routes.patterns.get(pattern).cloned(),
                None => routes.channels.get(&msg.channel).cloned(),
            }
        };
        if let Some((kind, handler)) = route
            && let Some(handler) = handler.upgrade()
        {
            handler.on_message(kind, &msg.channel, &msg.payload);
        }
    }

    pub(crate) fn socket_details(&self, nsp: &str, sid: &str) -> SocketDetails {
        self.sockets
            .read()
            .ok()
            .and_then(|map| {
                map.get(nsp)
                    .and_then(|m| m.get(sid))
                    .map(|(d, _)| d.clone())
            })
            .unwrap_or_else(|| SocketDetails {
                handshake: serde_json::json!({
                    "headers": {}, "time": "", "address": "", "xdomain": false, "secure": false,
                    "issued": 0, "url": "", "query": {}, "auth": {}
                }),
                data: serde_json::Value::Null,
            })
    }

    pub(crate) fn namespace(&self, nsp: &str) -> Result<Arc<dyn NsHandler>, RedisAdapterError> {
        self.namespaces
            .read()
            .ok()
            .and_then(|map| map.get(nsp).and_then(Weak::upgrade))
            .ok_or_else(|| RedisAdapterError::UnknownNamespace(nsp.to_owned()))
    }

    /// Health of the Redis connections.
    pub(crate) fn health(&self) -> RedisHealth {
        let (connected, reconnects) = self
            .subscriber
            .get()
            .map(|s| {
                (
                    s.health.connected.load(Ordering::SeqCst),
                    s.health.reconnects.load(Ordering::SeqCst),
                )
            })
            .unwrap_or((false, 0));
        let closed = self.link.closed.load(Ordering::SeqCst);
        RedisHealth {
            subscriber_connected: connected && !closed,
            reconnects,
            closed,
            missing_servers: self.link.conn.missing_servers(),
        }
    }

    /// Counters of the publishing connections and the subscriber.
    pub(crate) fn counters(&self) -> RedisCounters {
        let mut counters = self.link.conn.counters();
        counters.subscriber_reconnects = self.health().reconnects;
        counters
    }
}
