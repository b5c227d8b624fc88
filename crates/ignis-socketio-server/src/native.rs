//! The helper on the project's own engine (`ignis-socketio-engine`), one node
//! with the in-memory adapter. Events of one client reach the helper in
//! order, and a client sent away has its connection closed.

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use ignis_socketio_engine::codec::{Args, placeholder};
use ignis_socketio_engine::engine::{EngineConfig, SendError, TransportKind};
use ignis_socketio_engine::io::{
    AckError, AckSender, Adapter, AdapterError, BroadcastOptions, ConnectRefusal, DisconnectReason,
    Event, HandlerFuture, IoConfig, Namespace, NamespaceHandler, Socket, SocketIo, UnreadableEvent,
};
use serde_json::Value;
use tokio::sync::OnceCell;
use tracing::Instrument;

use crate::admin::{AdminUi, AdminUiOptions};
use crate::metrics::{Dropped, Metrics};
use crate::socket_handle::SocketHandle;
use crate::types::{ClientRecord, Core, Engine};
use crate::{
    AckReply, AckResponder, EventData, Handshake, Payload, ServerError, SocketIOServerHelper,
    Target, UNAUTHENTICATED_ROOM,
};

/// The helper's engine side on `ignis-socketio-engine`.
pub(crate) struct Native {
    core: Arc<Core>,
    io: SocketIo,
    ns: Arc<Namespace>,
    /// The admin page's namespace, when asked for.
    admin: Option<AdminUi>,
    shutdown: OnceCell<()>,
}

/// Builds the engine and registers namespace `/` with `adapter` (the
/// in-memory [`LocalAdapter`] for one node); the adapter still has to be
/// initialised with [`Native::init_adapter`].
pub(crate) fn build(
    core: Arc<Core>,
    adapter: Arc<dyn Adapter>,
    admin: Option<AdminUiOptions>,
) -> Arc<Native> {
    let options = &core.options;
    let io = SocketIo::new(IoConfig {
        engine: EngineConfig {
            path: options.path.trim_end_matches('/').to_owned(),
            max_payload: usize::try_from(options.max_payload).unwrap_or(usize::MAX),
            per_message_deflate: options.per_message_deflate,
            max_buffered_bytes: options.max_buffered_bytes,
            max_buffered_packets: options.max_buffered_packets,
            body_read_timeout: options.body_read_timeout,
            ..EngineConfig::default()
        },
        connect_timeout: options.connect_timeout,
        max_attachments: options.max_attachments,
        attachment_timeout: options.attachment_timeout,
    });
    Arc::new_cyclic(|weak: &Weak<Native>| {
        let handler = Arc::new(Handler(weak.clone()));
        let ns = io.ns_with("/", handler, adapter);
        let admin = admin.map(|options| AdminUi::install(&io, core.clone(), "/", options));
        Native {
            core,
            io,
            ns,
            admin,
            shutdown: OnceCell::new(),
        }
    })
}

/// The namespace handler: the helper's connect middleware, event dispatch and teardown.
struct Handler(Weak<Native>);

impl Handler {
    fn record(&self, socket: &Socket) -> Option<(Arc<Native>, Arc<ClientRecord>)> {
        let native = self.0.upgrade()?;
        let record = native.core.record(socket.id())?;
        Some((native, record))
    }
}

impl NamespaceHandler for Handler {
    fn on_connect(&self, socket: Socket) -> HandlerFuture<Result<(), ConnectRefusal>> {
        let result = (|| {
            let native = self
                .0
                .upgrade()
                .ok_or(ConnectRefusal::new("server is gone"))?;
            if native.core.is_shutting_down() {
                return Err(ConnectRefusal::new("server is shutting down"));
            }
            // The internal room keeps unauthenticated sockets out of broadcasts.
            socket.join([UNAUTHENTICATED_ROOM]);
            let handshake = Handshake::from_shared(socket.shared_request(), socket.shared_auth());
            let record = Arc::new(ClientRecord::new(
                socket.id().to_owned(),
                Arc::new(NativeSocket(socket, native.core.metrics.clone())),
                handshake,
                &native.core.options.identifier,
            ));
            native.core.register(record);
            Ok(())
        })();
        Box::pin(async move { result })
    }

    fn on_connected(&self, socket: Socket) -> HandlerFuture<()> {
        if let Some((_, record)) = self.record(&socket) {
            record.signal_connected();
        }
        Box::pin(async {})
    }

    fn on_event(&self, socket: Socket, event: Event, ack: Option<AckSender>) -> HandlerFuture<()> {
        let Some((native, record)) = self.record(&socket) else {
            return Box::pin(async {});
        };
        // Before the data is read: an event over its limit costs a clock
        // reading and a lock, and no allocation unless it asks for an ack.
        if let Some(throttled) = native.core.throttle(&record, &event.name) {
            let ack = ack.map(responder);
            let _enter = record.span.enter();
            native
                .core
                .refuse_throttled(&record, &event.name, throttled, ack);
            return Box::pin(async {});
        }
        Box::pin(async move {
            let span = record.span.clone();
            let data = EventData::first_of(event.args);
            let ack = ack.map(responder);
            let core = native.core.clone();
            let helper = SocketIOServerHelper { engine: native };
            match event.name.as_str() {
                crate::events::AUTHENTICATE => {
                    let credentials = Some(data.json()).filter(|v| !v.is_null());
                    core.handle_authenticate(helper, record, credentials, ack)
                        .instrument(span)
                        .await;
                }
                crate::events::JOIN => {
                    core.handle_join(helper, record, data.json(), ack)
                        .instrument(span)
                        .await;
                }
                crate::events::LEAVE => {
                    let _enter = span.entered();
                    core.handle_leave(&record, data.json(), ack);
                }
                _ => {
                    core.dispatch(helper, record, event.name, data, ack)
                        .instrument(span)
                        .await;
                }
            }
        })
    }

    fn on_unreadable_event(
        &self,
        socket: Socket,
        event: UnreadableEvent,
        ack: Option<AckSender>,
    ) -> HandlerFuture<()> {
        if let Some((native, record)) = self.record(&socket) {
            native
                .core
                .refuse_unreadable(&record, &event, ack.map(responder));
        }
        Box::pin(async {})
    }

    fn on_disconnect(&self, socket: Socket, reason: DisconnectReason) {
        if let Some((native, record)) = self.record(&socket) {
            native.core.teardown(&record, &reason.to_string());
        }
    }
}

fn responder(ack: AckSender) -> AckResponder {
    AckResponder {
        send: Box::new(move |payload: &Payload| {
            ack.send(&payload_args(payload))
                .map_err(|e| ServerError::Ack(AckError::Send(e)))
        }),
    }
}

/// A helper payload as event arguments (binary as one attachment).
fn payload_args(payload: &Payload) -> Args {
    match payload {
        Payload::Json(value) => Args::json(vec![value.clone()]),
        Payload::Binary(bytes) => Args {
            values: vec![placeholder(0)],
            attachments: vec![bytes.clone()],
        },
        Payload::Data(data) => data.to_args(),
    }
}

/// Acknowledgement arguments as one JSON value: the argument itself when
/// there is one, else the array of them (binary as arrays of byte values).
fn ack_as_json(args: &Args) -> Value {
    let json = |value: &Value| EventData::new(value.clone(), args.attachments.clone()).json();
    match args.values.as_slice() {
        [one] => json(one),
        many => Value::Array(many.iter().map(json).collect()),
    }
}

impl Native {
    /// Lets the adapter subscribe (or whatever it needs) before clients come.
    pub(crate) async fn init_adapter(&self) -> Result<(), AdapterError> {
        self.ns.init_adapter().await?;
        if let Some(admin) = &self.admin {
            admin.init_adapter().await?;
        }
        Ok(())
    }

    /// Starts the admin page's stats and news, if it is on.
    pub(crate) fn start_admin(&self) {
        if let Some(admin) = &self.admin {
            admin.start();
        }
    }

    fn options(&self, target: &Target) -> Result<BroadcastOptions, ServerError> {
        if self.core.is_shutting_down() {
            return Err(ServerError::ShutDown);
        }
        let mut options = BroadcastOptions {
            rooms: target.rooms.clone(),
            except: target.except.clone(),
            local: target.local,
        };
        if options.rooms.is_empty() {
            options.except.push(UNAUTHENTICATED_ROOM.to_owned());
        }
        Ok(options)
    }
}

#[async_trait]
impl Engine for Native {
    fn core(&self) -> &Arc<Core> {
        &self.core
    }

    fn attach(&self, router: Router) -> Router {
        let router = router.layer(self.io.layer());
        let admission = self.core.admission.clone();
        if admission.is_open() {
            return router;
        }
        // Outside the engine's layer: runs first, before a session exists.
        router.layer(axum::middleware::from_fn_with_state(
            admission,
            crate::admission::admit,
        ))
    }

    async fn send(&self, target: Target, event: &str, payload: Payload) -> Result<(), ServerError> {
        let options = self.options(&target)?;
        self.ns
            .broadcast(&options, event, &payload_args(&payload))
            .await
            .map_err(ServerError::Broadcast)
    }

    async fn send_with_ack(
        &self,
        target: Target,
        event: &str,
        payload: Payload,
        timeout: Duration,
    ) -> Result<Vec<AckReply>, ServerError> {
        let options = self.options(&target)?;
        let replies = self
            .ns
            .broadcast_with_ack(&options, event, &payload_args(&payload), timeout)
            .await
            .map_err(ServerError::Broadcast)?;
        let timeouts = replies
            .iter()
            .filter(|(_, result)| matches!(result, Err(AckError::Timeout(_))))
            .count();
        self.core.metrics.ack_timeouts(timeouts);
        Ok(replies
            .into_iter()
            .map(|(socket_id, result)| AckReply {
                // Other nodes do not say which socket answered.
                socket_id: socket_id.unwrap_or_default(),
                result: result
                    .map(|args| ack_as_json(&args))
                    .map_err(|e| e.to_string()),
            })
            .collect())
    }

    async fn fetch_socket_ids(&self, target: Target) -> Result<Vec<String>, ServerError> {
        let options = self.options(&target)?;
        let sockets = self
            .ns
            .fetch_sockets(&options)
            .await
            .map_err(ServerError::Broadcast)?;
        Ok(sockets.into_iter().map(|s| s.id).collect())
    }

    async fn fetch_rooms(&self) -> Result<Vec<String>, ServerError> {
        let mut rooms = self.ns.all_rooms().await.map_err(ServerError::Broadcast)?;
        rooms.retain(|r| r != UNAUTHENTICATED_ROOM);
        Ok(rooms)
    }

    fn engine_counters(&self) -> ignis_socketio_engine::engine::CountersSnapshot {
        self.io.counters()
    }

    async fn shutdown(&self) {
        self.shutdown
            .get_or_init(|| async {
                let identifier = &self.core.options.identifier;
                tracing::info!(%identifier, "shutting down Socket.IO server helper");
                self.core.begin_shutdown();
                if let Some(admin) = &self.admin {
                    admin.stop();
                }
                for record in self.core.drain() {
                    record.socket.disconnect();
                }
                let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
                while self.io.engine().session_count() > 0 && tokio::time::Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                self.io.close().await;
                tracing::info!(%identifier, "Socket.IO server helper shut down");
            })
            .await;
    }
}

/// [`SocketHandle`] over an engine socket, counting what is emitted to it.
struct NativeSocket(Socket, Metrics);

#[async_trait]
impl SocketHandle for NativeSocket {
    fn emit(&self, event: &str, data: &Payload) -> Result<(), ServerError> {
        let result = self.0.emit_args(event, &payload_args(data));
        match &result {
            Ok(()) => self.1.event_emitted(),
            Err(SendError::SlowConsumer) => self.1.dropped(Dropped::SlowConsumer),
            Err(SendError::Closed) => self.1.dropped(Dropped::Closed),
        }
        result.map_err(|e| ServerError::Socket {
            id: self.0.id().to_owned(),
            reason: e.to_string(),
        })
    }

    async fn emit_with_ack(
        &self,
        event: &str,
        data: &Payload,
        timeout: Duration,
    ) -> Result<Value, ServerError> {
        self.0
            .emit_with_ack(event, &payload_args(data), timeout)
            .await
            .inspect_err(|e| {
                if matches!(e, AckError::Timeout(_)) {
                    self.1.ack_timeouts(1);
                }
            })
            .map(|args| ack_as_json(&args))
            .map_err(ServerError::Ack)
    }

    fn join(&self, rooms: Vec<String>) {
        self.0.join(rooms);
    }

    fn leave(&self, rooms: Vec<String>) {
        self.0.leave(rooms);
    }

    fn rooms(&self) -> Vec<String> {
        self.0.rooms()
    }

    fn disconnect(&self) {
        self.0.disconnect();
    }

    fn connected(&self) -> bool {
        self.0.connected()
    }

    fn transport(&self) -> &'static str {
        match self.0.transport() {
            TransportKind::WebSocket => "websocket",
            TransportKind::Polling => "polling",
        }
    }
}
