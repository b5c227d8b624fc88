//! One client connection on the Socket.IO side: decodes its packets, collects
//! binary attachments, and turns CONNECT, DISCONNECT and events into works
//! that the engine runs in order.

use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::Value;
use tokio::time::Instant;

use super::frames;
use super::handler::Event;
use super::types::{AckSender, Client, IoShared, Socket};
use crate::codec::{Args, CodecError, PacketKind, SocketPacket, UnreadableEvent};
use crate::engine::{CloseReason, Connection, Message, Session, Work};
use crate::sid::new_sid;

/// A binary packet waiting for its attachments: readable, or an event whose
/// data does not read (its attachments are read all the same, and dropped).
struct Partial {
    packet: Result<SocketPacket, Box<UnreadableEvent>>,
    expected: usize,
    attachments: Vec<Bytes>,
    bytes: usize,
    deadline: Instant,
}

/// The engine's [`Connection`] for Socket.IO (one per client connection).
pub struct ClientConn {
    client: Arc<Client>,
    /// Boxed: rare, and an idle connection should not carry its size.
    partial: Option<Box<Partial>>,
    connect_deadline: Option<Instant>,
}

impl ClientConn {
    pub(crate) fn new(
        io: Arc<IoShared>,
        session: Arc<Session>,
        request: http::request::Parts,
    ) -> ClientConn {
        let connect_deadline = Some(Instant::now() + io.config.connect_timeout);
        ClientConn {
            client: Arc::new(Client {
                session,
                request: Arc::new(request),
                io,
                sockets: Mutex::new(Vec::new()),
                connected_once: AtomicBool::new(false),
            }),
            partial: None,
            connect_deadline,
        }
    }

    fn dispatch(
        &mut self,
        packet: SocketPacket,
        attachments: Vec<Bytes>,
    ) -> Result<Option<Work>, String> {
        let client = self.client.clone();
        match packet.kind {
            PacketKind::Connect => Ok(Some(Box::pin(async move {
                client.connect(packet.nsp, packet.data).await;
            }))),
            PacketKind::Disconnect => Ok(Some(Box::pin(async move {
                if let Some(socket) = client.take_socket(&packet.nsp) {
                    socket.0.ns.remove(&socket, "client namespace disconnect");
                }
            }))),
            PacketKind::Event | PacketKind::BinaryEvent => {
                let Some(Value::Array(mut values)) = packet.data else {
                    return Err("event without arguments".into());
                };
                let name = match values.remove(0) {
                    Value::String(name) => name,
                    _ => return Err("event name is not a string".into()),
                };
                let args = Args {
                    values,
                    attachments,
                };
                let (nsp, id) = (packet.nsp, packet.id);
                if let Err(error) = args.check_placeholders() {
                    return Ok(Some(unreadable_work(
                        client,
                        UnreadableEvent {
                            nsp,
                            id,
                            name: Some(name),
                            attachments: args.attachments.len(),
                            reason: error.to_string(),
                        },
                    )));
                }
                Ok(Some(Box::pin(async move {
                    let Some((socket, ack)) = client.event_target(&nsp, id) else {
                        return;
                    };
                    let event = Event { name, args };
                    if let Some(monitor) = socket.0.ns.monitor() {
                        monitor.event_received(&socket, &event);
                    }
                    let handler = socket.0.ns.handler.clone();
                    handler.on_event(socket, event, ack).await;
                })))
            }
            PacketKind::Ack | PacketKind::BinaryAck => {
                let id = packet.id.ok_or("acknowledgement without an id")?;
                let Some(Value::Array(values)) = packet.data else {
                    return Err("acknowledgement without arguments".into());
                };
                let args = Args {
                    values,
                    attachments,
                };
                args.check_placeholders().map_err(|e| e.to_string())?;
                if let Some(socket) = self.client.socket(&packet.nsp) {
                    socket.resolve_ack(id, args);
                }
                Ok(None)
            }
            PacketKind::ConnectError => Err("CONNECT_ERROR from a client".into()),
        }
    }
}

impl Connection for ClientConn {
    fn on_message(&mut self, message: Message) -> Result<Option<Work>, String> {
        let config = &self.client.io.config;
        match message {
            Message::Text(text) => {
                if self.partial.is_some() {
                    return Err("text packet while binary attachments are pending".into());
                }
                let packet = match SocketPacket::decode(&text) {
                    Ok(packet) => Ok(packet),
                    Err(CodecError::Unreadable(unreadable)) => Err(unreadable),
                    Err(error) => return Err(error.to_string()),
                };
                let expected = match &packet {
                    Ok(packet) if packet.kind.is_binary() => packet.attachments,
                    Ok(_) => 0,
                    Err(unreadable) => unreadable.attachments,
                };
                if expected > 0 {
                    if expected > config.max_attachments {
                        return Err(format!("{expected} attachments announced"));
                    }
                    self.partial = Some(Box::new(Partial {
                        packet,
                        expected,
                        attachments: Vec::new(),
                        bytes: text.len(),
                        deadline: Instant::now() + config.attachment_timeout,
                    }));
                    return Ok(None);
                }
                match packet {
                    Ok(packet) => self.dispatch(packet, Vec::new()),
                    Err(unreadable) => Ok(Some(unreadable_work(self.client.clone(), *unreadable))),
                }
            }
            Message::Binary(bytes) => {
                let Some(partial) = self.partial.as_mut() else {
                    return Err("binary message without a binary packet".into());
                };
                partial.bytes += bytes.len();
                if partial.bytes > self.client.session_max_payload() {
                    return Err("binary packet over the payload limit".into());
                }
                partial.attachments.push(bytes);
                if partial.attachments.len() < partial.expected {
                    return Ok(None);
                }
                let Some(partial) = self.partial.take() else {
                    return Ok(None);
                };
                let Partial {
                    packet,
                    attachments,
                    ..
                } = *partial;
                match packet {
                    Ok(packet) => self.dispatch(packet, attachments),
                    Err(unreadable) => Ok(Some(unreadable_work(self.client.clone(), *unreadable))),
                }
            }
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let partial = self.partial.as_ref().map(|p| p.deadline);
        [self.connect_deadline, partial].into_iter().flatten().min()
    }

    fn on_deadline(&mut self) {
        let now = Instant::now();
        if self.partial.as_ref().is_some_and(|p| now >= p.deadline) {
            self.partial = None;
            self.client.session.close(CloseReason::ProtocolError(
                "binary attachments not completed in time".into(),
            ));
        }
        if self.connect_deadline.is_some_and(|d| now >= d) {
            self.connect_deadline = None;
            if !self.client.connected_once.load(Ordering::Acquire) {
                self.client.session.close(CloseReason::ServerClose(
                    "no namespace joined within the connect timeout".into(),
                ));
            }
        }
    }

    fn on_upgrade(&mut self) {
        let sockets = self.client.lock_sockets().clone();
        for socket in sockets {
            if let Some(monitor) = socket.0.ns.monitor() {
                monitor.transport_changed(&socket);
            }
        }
    }

    fn on_close(&mut self, reason: &CloseReason) {
        let sockets = mem::take(&mut *self.client.lock_sockets());
        let reason = reason.to_string();
        for socket in sockets {
            socket.0.ns.remove(&socket, &reason);
        }
    }
}

/// The work of an event whose data does not read: the namespace's handler
/// is told (in the order of the client's packets) instead of handed the event.
fn unreadable_work(client: Arc<Client>, unreadable: UnreadableEvent) -> Work {
    Box::pin(async move {
        let Some((socket, ack)) = client.event_target(&unreadable.nsp, unreadable.id) else {
            return;
        };
        let handler = socket.0.ns.handler.clone();
        handler.on_unreadable_event(socket, unreadable, ack).await;
    })
}

impl Client {
    /// The socket an event of `nsp` is for, and its acknowledgement sender
    /// when the event asks for one; `None` when the client is not in `nsp`.
    fn event_target(&self, nsp: &str, id: Option<u64>) -> Option<(Socket, Option<AckSender>)> {
        let Some(socket) = self.socket(nsp) else {
            tracing::debug!(%nsp, "event for a namespace the client is not in");
            return None;
        };
        let ack = id.map(|id| AckSender {
            socket: socket.clone(),
            id,
        });
        Some((socket, ack))
    }

    fn lock_sockets(&self) -> std::sync::MutexGuard<'_, Vec<Socket>> {
        self.sockets.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn session_max_payload(&self) -> usize {
        self.io.config.engine.max_payload
    }

    fn socket(&self, nsp: &str) -> Option<Socket> {
        self.lock_sockets().iter().find(|s| s.nsp() == nsp).cloned()
    }

    /// Forgets a socket that left its namespace.
    pub(crate) fn forget(&self, socket: &Socket) {
        self.lock_sockets().retain(|s| s.id() != socket.id());
    }

    /// Whether no namespace is joined any more.
    pub(crate) fn is_empty(&self) -> bool {
        self.lock_sockets().is_empty()
    }

    fn take_socket(&self, nsp: &str) -> Option<Socket> {
        let mut sockets = self.lock_sockets();
        let at = sockets.iter().position(|s| s.nsp() == nsp)?;
        Some(sockets.swap_remove(at))
    }

    async fn connect(self: Arc<Self>, nsp: String, auth: Option<Value>) {
        let Some(ns) = self.io.namespace(&nsp) else {
            let body = serde_json::json!({"message": "Invalid namespace"});
            let _ = self
                .session
                .send(frames::simple(PacketKind::ConnectError, &nsp, Some(body)));
            return;
        };
        if self.socket(&nsp).is_some() {
            return tracing::debug!(%nsp, "CONNECT to a namespace the client is already in");
        }
        let socket = Socket::new(new_sid(), ns.clone(), self.clone(), auth);
        match ns.handler.clone().on_connect(socket.clone()).await {
            Ok(()) => {
                if self.session.is_closed() || !ns.insert(&socket) {
                    return ns.discard(&socket);
                }
                self.lock_sockets().push(socket.clone());
                self.connected_once.store(true, Ordering::Release);
                let answer = serde_json::json!({"sid": socket.id()});
                let _ = self
                    .session
                    .send(frames::simple(PacketKind::Connect, &nsp, Some(answer)));
                // Let the session's task write the answer on its own before the
                // first events (Node writes them apart too; clients rely on it).
                tokio::task::yield_now().await;
                if let Some(monitor) = ns.monitor() {
                    monitor.socket_connected(&socket);
                }
                ns.handler.clone().on_connected(socket).await;
            }
            Err(refusal) => {
                ns.discard(&socket);
                let body = refusal.to_json();
                let _ =
                    self.session
                        .send(frames::simple(PacketKind::ConnectError, &nsp, Some(body)));
            }
        }
    }
}
