//! The socketioxide side, generic over the adapter, behind the object-safe [`Engine`] trait
//! so that applications never name an adapter type.

use std::convert::Infallible;
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use futures_util::StreamExt;
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, TryData};
use socketioxide::handler::{ConnectHandler, FromMessageParts};
use socketioxide::layer::SocketIoLayer;
use socketioxide::operators::BroadcastOperators;
use socketioxide::socket::{DisconnectReason, Socket};
use socketioxide::{SocketIo, SocketIoBuilder};
use socketioxide_core::adapter::DefinedAdapter;
use tokio::sync::OnceCell;
use tracing::Instrument;

use crate::core::Core;
use crate::incoming::EventData;
use crate::record::{ClientRecord, SocketHandle};
use crate::{
    AckReply, AckResponder, Handshake, Payload, ServerError, SocketIOServerHelper, Target,
    UNAUTHENTICATED_ROOM,
};

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
    async fn shutdown(&self);
}

/// The helper for one adapter type.
pub(crate) struct Inner<A: Adapter> {
    core: Arc<Core>,
    io: SocketIo<A>,
    layer: SocketIoLayer<A>,
    shutdown: OnceCell<()>,
}

/// Builds the socketioxide instance and registers the namespace; returns the
/// handle and the adapter's init result (to spawn or await).
pub(crate) fn build<A>(core: Arc<Core>, state: A::State) -> (SocketIOServerHelper, A::InitRes)
where
    A: Adapter + DefinedAdapter,
{
    let options = &core.options;
    let (layer, io) = SocketIoBuilder::new()
        .req_path(options.path.clone())
        .max_payload(options.max_payload)
        // Node's maxHttpBufferSize bounds both transports; engineioxide splits it in two.
        .ws_max_message_size(usize::try_from(options.max_payload).unwrap_or(usize::MAX))
        .ack_timeout(options.ack_timeout)
        .ws_read_buffer_size(options.ws_read_buffer_size)
        .with_adapter::<A>(state)
        .build_layer();
    let inner = Arc::new(Inner {
        core,
        io: io.clone(),
        layer,
        shutdown: OnceCell::new(),
    });
    let weak = Arc::downgrade(&inner);
    let weak_connected = weak.clone();
    // socketioxide runs this right after it marked the socket connected.
    let on_connect = move |socket: SocketRef<A>| {
        let weak = weak_connected.clone();
        async move { Inner::socket_connected(&weak, &socket) }
    };
    let init = io.ns(
        "/",
        on_connect.with(move |socket: SocketRef<A>, TryData(auth): TryData<Value>| {
            let weak = weak.clone();
            async move { Inner::connect_middleware(weak, socket, auth.ok()) }
        }),
    );
    (SocketIOServerHelper { engine: inner }, init)
}

/// Extracts whether the client asked for an acknowledgement.
struct AckRequested(bool);

impl<A: Adapter> FromMessageParts<A> for AckRequested {
    type Error = Infallible;
    fn from_message_parts(
        _: &Arc<Socket<A>>,
        _: &mut socketioxide_core::Value,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        Ok(AckRequested(ack_id.is_some()))
    }
}

fn responder<A: Adapter>(asked: bool, ack: AckSender<A>) -> Option<AckResponder> {
    asked.then(|| AckResponder {
        send: Box::new(move |payload: &Payload| {
            ack.send(payload)
                .map_err(|e| ServerError::Ack(e.to_string()))
        }),
    })
}

/// Why a connection was refused in the middleware (sent to the client as `connect_error`).
#[derive(Debug)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl<A: Adapter + DefinedAdapter> Inner<A> {
    fn handle(self: Arc<Self>) -> SocketIOServerHelper {
        SocketIOServerHelper { engine: self }
    }

    /// Runs before the CONNECT ack: records the socket and registers every
    /// handler, so that a fast client's `authenticate` is never lost.
    fn connect_middleware(
        weak: Weak<Self>,
        socket: SocketRef<A>,
        auth: Option<Value>,
    ) -> Result<(), Refused> {
        let Some(inner) = weak.upgrade() else {
            return Err(Refused("server is gone"));
        };
        if inner.core.is_shutting_down() {
            return Err(Refused("server is shutting down"));
        }
        let id = socket.id.to_string();
        // The id is the Engine.IO connection's: a refused client sending
        // CONNECT again on the same connection gets no new auth window.
        if inner.core.was_refused(&id) {
            tracing::info!(socket_id = %id, "CONNECT again after refusal refused");
            return Err(Refused("authentication refused on this connection"));
        }
        // Node sockets are in their own id room; socketioxide's are not. The
        // internal room keeps unauthenticated sockets out of broadcasts.
        socket.join(vec![id.clone(), UNAUTHENTICATED_ROOM.to_owned()]);
        let handshake = Handshake::from_request_parts(socket.req_parts(), auth);
        let record = Arc::new(ClientRecord::new(
            id,
            Arc::new(SocketRefHandle(socket.clone())),
            handshake,
            &inner.core.options.identifier,
        ));
        Self::register_handlers(&weak, &socket, &record);
        inner.core.register(record);
        Ok(())
    }

    /// Wakes the handlers waiting for the socket to be marked connected.
    fn socket_connected(weak: &Weak<Self>, socket: &SocketRef<A>) {
        if let Some(inner) = weak.upgrade()
            && let Some(record) = inner.core.record(socket.id.as_str())
        {
            record.signal_connected();
        }
    }

    fn register_handlers(weak: &Weak<Self>, socket: &SocketRef<A>, record: &Arc<ClientRecord>) {
        let record_ref = Arc::downgrade(record);

        // One handler for every event (the helper's own and the application's):
        // one boxed handler per socket instead of four and no per-socket map.
        let (w, r) = (weak.clone(), record_ref.clone());
        socket.on_fallback(
            move |Event(event): Event,
                  TryData(data): TryData<EventData>,
                  ack: AckSender<A>,
                  AckRequested(asked)| {
                let (w, r) = (w.clone(), r.clone());
                async move {
                    let (Some(inner), Some(record)) = (w.upgrade(), r.upgrade()) else {
                        return;
                    };
                    let span = record.span.clone();
                    let data = match data {
                        Ok(EventData(data)) => data,
                        Err(error) => {
                            tracing::debug!(parent: &span, %event, %error, "unreadable event data");
                            Value::Null
                        }
                    };
                    let core = inner.core.clone();
                    let ack = responder(asked, ack);
                    match &*event {
                        crate::events::AUTHENTICATE => {
                            let credentials = Some(data).filter(|v| !v.is_null());
                            core.handle_authenticate(inner.handle(), record, credentials, ack)
                                .instrument(span)
                                .await;
                        }
                        crate::events::JOIN => {
                            core.handle_join(inner.handle(), record, data, ack)
                                .instrument(span)
                                .await;
                        }
                        crate::events::LEAVE => {
                            let _enter = span.entered();
                            core.handle_leave(&record, data, ack);
                        }
                        _ => {
                            core.dispatch(inner.handle(), record, event, data, ack)
                                .instrument(span)
                                .await;
                        }
                    }
                }
            },
        );

        let (w, r) = (weak.clone(), record_ref);
        socket.on_disconnect(move |reason: DisconnectReason| {
            let (w, r) = (w.clone(), r.clone());
            async move {
                let (Some(inner), Some(record)) = (w.upgrade(), r.upgrade()) else {
                    return;
                };
                inner.core.teardown(&record, &reason.to_string());
            }
        });
    }

    fn operators(&self, target: &Target) -> Result<BroadcastOperators<A>, ServerError> {
        if self.core.is_shutting_down() {
            return Err(ServerError::ShutDown);
        }
        let mut op = self.io.of("/").ok_or(ServerError::ShutDown)?;
        op = if target.rooms.is_empty() {
            op.except(UNAUTHENTICATED_ROOM)
        } else {
            op.to(target.rooms.clone())
        };
        if !target.except.is_empty() {
            op = op.except(target.except.clone());
        }
        if target.local {
            op = op.local();
        }
        Ok(op)
    }
}

#[async_trait]
impl<A: Adapter + DefinedAdapter> Engine for Inner<A> {
    fn core(&self) -> &Arc<Core> {
        &self.core
    }

    fn attach(&self, router: Router) -> Router {
        router.layer(self.layer.clone())
    }

    async fn send(&self, target: Target, event: &str, payload: Payload) -> Result<(), ServerError> {
        let op = self.operators(&target)?;
        op.emit(event, &payload)
            .await
            .map_err(|e| ServerError::Broadcast(e.to_string()))
    }

    async fn send_with_ack(
        &self,
        target: Target,
        event: &str,
        payload: Payload,
        timeout: Duration,
    ) -> Result<Vec<AckReply>, ServerError> {
        let op = self.operators(&target)?.timeout(timeout);
        let stream = op
            .emit_with_ack::<_, Value>(event, &payload)
            .await
            .map_err(|e| ServerError::Broadcast(e.to_string()))?;
        Ok(stream
            .map(|(sid, result)| AckReply {
                socket_id: sid.to_string(),
                result: result.map_err(|e| e.to_string()),
            })
            .collect()
            .await)
    }

    async fn fetch_socket_ids(&self, target: Target) -> Result<Vec<String>, ServerError> {
        let op = self.operators(&target)?;
        let sockets = op
            .fetch_sockets()
            .await
            .map_err(|e| ServerError::Broadcast(e.to_string()))?;
        Ok(sockets.iter().map(|s| s.data().id.to_string()).collect())
    }

    async fn fetch_rooms(&self) -> Result<Vec<String>, ServerError> {
        let op = self.io.of("/").ok_or(ServerError::ShutDown)?;
        let rooms = op
            .rooms()
            .await
            .map_err(|e| ServerError::Broadcast(e.to_string()))?;
        let mut rooms: Vec<String> = rooms
            .into_iter()
            .map(|r| r.into_owned())
            .filter(|r| r != UNAUTHENTICATED_ROOM)
            .collect();
        rooms.sort();
        Ok(rooms)
    }

    async fn shutdown(&self) {
        self.shutdown
            .get_or_init(|| async {
                let identifier = &self.core.options.identifier;
                tracing::info!(%identifier, "shutting down Socket.IO server helper");
                self.core.begin_shutdown();
                for record in self.core.drain() {
                    record.socket.disconnect();
                }
                // Let the disconnect handlers remove the sockets from the
                // namespace before closing it, so that closing does not cut
                // transports whose DISCONNECT packet is still queued.
                let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
                while !self.io.sockets().is_empty() && tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                self.io.close().await;
                tracing::info!(%identifier, "Socket.IO server helper shut down");
            })
            .await;
    }
}

/// [`SocketHandle`] over a socketioxide socket of any adapter.
struct SocketRefHandle<A: Adapter>(SocketRef<A>);

#[async_trait]
impl<A: Adapter> SocketHandle for SocketRefHandle<A> {
    fn emit(&self, event: &str, data: &Payload) -> Result<(), ServerError> {
        self.0.emit(event, data).map_err(|e| ServerError::Socket {
            id: self.0.id.to_string(),
            reason: e.to_string(),
        })
    }

    async fn emit_with_ack(
        &self,
        event: &str,
        data: &Payload,
        timeout: Duration,
    ) -> Result<Value, ServerError> {
        let stream = self
            .0
            .timeout(timeout)
            .emit_with_ack::<_, Value>(event, data)
            .map_err(|e| ServerError::Socket {
                id: self.0.id.to_string(),
                reason: e.to_string(),
            })?;
        stream.await.map_err(|e| ServerError::Ack(e.to_string()))
    }

    fn join(&self, rooms: Vec<String>) {
        self.0.join(rooms);
    }

    fn leave(&self, rooms: Vec<String>) {
        self.0.leave(rooms);
    }

    fn rooms(&self) -> Vec<String> {
        self.0.rooms().into_iter().map(|r| r.into_owned()).collect()
    }

    fn disconnect(&self) {
        if let Err(error) = self.0.clone().disconnect() {
            tracing::debug!(socket_id = %self.0.id, %error, "disconnect failed");
        }
    }

    fn connected(&self) -> bool {
        self.0.connected()
    }

    fn transport(&self) -> &'static str {
        match self.0.transport_type() {
            socketioxide::TransportType::Websocket => "websocket",
            socketioxide::TransportType::Polling => "polling",
        }
    }
}
