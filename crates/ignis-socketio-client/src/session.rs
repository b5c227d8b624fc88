//! One Engine.IO session over a WebSocket: the handshakes (Engine.IO open,
//! Socket.IO namespace connect), then the loop that answers heartbeats,
//! watches for a dead server, decodes packets, resolves acknowledgements and
//! writes the outgoing queue.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ignis_socketio_engine::codec::{Args, EnginePacket, OpenPacket, PacketKind, SocketPacket};
use ignis_socketio_engine::ws::WsEvent;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::dispatch::{Dispatch, lock};
use crate::error::{ProtocolError, TransportError};
use crate::event::{AckResponder, Event, Frames, Outbound, message_frame};
use crate::shared::Shared;
use crate::transport::WebSocket;
use crate::{ClientError, ClientPayload};

/// Disconnect reasons, with socket.io-client's wording.
pub mod reasons {
    /// The server disconnected the socket (`41`); no automatic reconnection.
    pub const SERVER_DISCONNECT: &str = "io server disconnect";
    /// `disconnect()` or `shutdown()` was called; no automatic reconnection.
    pub const CLIENT_DISCONNECT: &str = "io client disconnect";
    /// No heartbeat from the server within pingInterval + pingTimeout.
    pub const PING_TIMEOUT: &str = "ping timeout";
    /// The connection was closed.
    pub const TRANSPORT_CLOSE: &str = "transport close";
    /// The connection failed.
    pub const TRANSPORT_ERROR: &str = "transport error";
}

/// Outgoing batches coalesced into one flush at most.
const BATCHES_PER_FLUSH: usize = 64;

/// A connected session, handshakes done.
pub(crate) struct Session {
    ws: WebSocket,
    open: OpenPacket,
    sid: String,
}

fn failed(error: impl Into<TransportError>) -> ClientError {
    ClientError::ConnectFailed(error.into())
}

/// The next text frame during the handshakes (WebSocket pings answered,
/// binary frames skipped).
async fn next_text(ws: &mut WebSocket) -> Result<String, ClientError> {
    loop {
        match ws.next().await.map_err(failed)? {
            Some(WsEvent::Text(text)) => return Ok(text),
            Some(WsEvent::Ping(data)) => {
                ws.queue_pong(&data);
                ws.flush().await.map_err(failed)?;
            }
            Some(WsEvent::Binary(_) | WsEvent::Pong) => {}
            Some(WsEvent::Close(..)) | None => return Err(failed(TransportError::Closed)),
        }
    }
}

fn decode_engine(text: &str) -> Result<EnginePacket, ClientError> {
    EnginePacket::decode_text(text)
        .map_err(|e| ClientError::Protocol(ProtocolError::codec(e, text)))
}

/// The message of a `CONNECT_ERROR`: its `message` field, or the string it is.
fn refusal_message(data: Option<&Value>) -> String {
    match data {
        Some(Value::Object(o)) => o
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Some(Value::String(s)) => s.clone(),
        other => other.map(Value::to_string).unwrap_or_default(),
    }
}

/// Opens the WebSocket, reads the Engine.IO handshake, and connects the namespace.
pub(crate) async fn establish(shared: &Shared) -> Result<Session, ClientError> {
    let target = shared.config.target()?;
    let mut ws = WebSocket::connect(&target, &shared.tls)
        .await
        .map_err(failed)?;

    let text = next_text(&mut ws).await?;
    let EnginePacket::Open(body) = decode_engine(&text)? else {
        return Err(ClientError::Protocol(ProtocolError::NotOpen));
    };
    let open = OpenPacket::decode(&body)
        .map_err(|e| ClientError::Protocol(ProtocolError::Open(Arc::new(e))))?;

    let connect = SocketPacket::new(
        PacketKind::Connect,
        &shared.namespace,
        shared.config.auth.clone(),
    );
    ws.queue_frame(&message_frame(&connect));
    ws.flush().await.map_err(failed)?;

    loop {
        let text = next_text(&mut ws).await?;
        match decode_engine(&text)? {
            EnginePacket::Ping(data) => {
                ws.queue_text(&format!("3{data}"));
                ws.flush().await.map_err(failed)?;
            }
            EnginePacket::Message(sio) => {
                let packet = SocketPacket::decode(&sio)
                    .map_err(|e| ClientError::Protocol(ProtocolError::codec(e, &sio)))?;
                if packet.nsp != *shared.namespace {
                    continue;
                }
                match packet.kind {
                    PacketKind::Connect => {
                        let sid = packet
                            .data
                            .as_ref()
                            .and_then(|d| d.get("sid"))
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        return Ok(Session { ws, open, sid });
                    }
                    PacketKind::ConnectError => {
                        return Err(ClientError::ConnectRefused(refusal_message(
                            packet.data.as_ref(),
                        )));
                    }
                    _ => continue,
                }
            }
            EnginePacket::Close => return Err(failed(TransportError::SessionClosed)),
            _ => continue,
        }
    }
}

/// What the session loop does after a frame.
enum Step {
    Continue,
    End(&'static str),
}

/// A binary packet waiting for its attachments.
struct PendingBinary {
    packet: SocketPacket,
    received: Vec<Bytes>,
}

/// The loop's state besides the socket.
struct Link<'a> {
    shared: &'a Arc<Shared>,
    outbound: Outbound,
    pending: Option<PendingBinary>,
}

/// Runs one connected session; returns the disconnect reason.
pub(crate) async fn run(
    shared: &Arc<Shared>,
    session: Session,
    cancel: &CancellationToken,
) -> &'static str {
    let Session { mut ws, open, sid } = session;
    let (out_tx, mut out_rx) = mpsc::channel::<Frames>(shared.config.queue_capacity.max(1));
    shared.set_link(out_tx.clone(), &sid, ws.deflate());
    tracing::info!(sid = %sid, engine_sid = %open.sid, "Connected");
    shared.dispatch(Dispatch::Connected(sid)).await;

    let heartbeat = Duration::from_millis(open.ping_interval.saturating_add(open.ping_timeout));
    let watchdog = tokio::time::sleep(heartbeat);
    tokio::pin!(watchdog);
    let mut link = Link {
        shared,
        outbound: out_tx,
        pending: None,
    };

    let reason = loop {
        tokio::select! {
            _ = cancel.cancelled() => {
                let bye = SocketPacket::new(PacketKind::Disconnect, &shared.namespace, None);
                ws.queue_frame(&message_frame(&bye));
                ws.close().await;
                break reasons::CLIENT_DISCONNECT;
            }
            _ = &mut watchdog => {
                tracing::warn!(?heartbeat, "No heartbeat from the server");
                break reasons::PING_TIMEOUT;
            }
            frames = out_rx.recv() => {
                let Some(frames) = frames else { continue };
                if let Err(error) = write_batch(&mut ws, frames, &mut out_rx).await {
                    tracing::warn!(%error, "Write failed");
                    break reasons::TRANSPORT_ERROR;
                }
            }
            event = ws.next() => {
                watchdog.as_mut().reset(Instant::now() + heartbeat);
                let step = match event {
                    Ok(Some(WsEvent::Text(text))) => link.text(&mut ws, &text).await,
                    Ok(Some(WsEvent::Binary(data))) => link.binary(data).await,
                    Ok(Some(WsEvent::Ping(data))) => {
                        ws.queue_pong(&data);
                        flushed(ws.flush().await)
                    }
                    Ok(Some(WsEvent::Pong)) => Step::Continue,
                    Ok(Some(WsEvent::Close(..))) => {
                        ws.close().await;
                        Step::End(reasons::TRANSPORT_CLOSE)
                    }
                    Ok(None) => Step::End(reasons::TRANSPORT_CLOSE),
                    Err(error) => {
                        tracing::warn!(%error, "Transport error");
                        Step::End(reasons::TRANSPORT_ERROR)
                    }
                };
                if let Step::End(reason) = step {
                    break reason;
                }
            }
        }
    };

    shared.reset_link();
    tracing::info!(reason, "Disconnected");
    shared
        .dispatch(Dispatch::Disconnected(reason.to_owned()))
        .await;
    reason
}

fn flushed(result: Result<(), TransportError>) -> Step {
    match result {
        Ok(()) => Step::Continue,
        Err(error) => {
            tracing::warn!(%error, "Write failed");
            Step::End(reasons::TRANSPORT_ERROR)
        }
    }
}

/// Writes `frames` and whatever else is already queued, in one flush.
async fn write_batch(
    ws: &mut WebSocket,
    frames: Frames,
    out_rx: &mut mpsc::Receiver<Frames>,
) -> Result<(), TransportError> {
    frames.iter().for_each(|f| ws.queue_frame(f));
    for _ in 0..BATCHES_PER_FLUSH {
        match out_rx.try_recv() {
            Ok(more) => more.iter().for_each(|f| ws.queue_frame(f)),
            Err(_) => break,
        }
    }
    ws.flush().await
}

impl Link<'_> {
    async fn protocol_error(&self, error: ProtocolError) {
        tracing::warn!(%error, "Ignoring a malformed packet");
        self.shared.report(ClientError::Protocol(error)).await;
    }

    async fn text(&mut self, ws: &mut WebSocket, text: &str) -> Step {
        let packet = match EnginePacket::decode_text(text) {
            Ok(packet) => packet,
            Err(e) => {
                self.protocol_error(ProtocolError::codec(e, text)).await;
                return Step::Continue;
            }
        };
        match packet {
            EnginePacket::Ping(data) => {
                ws.queue_text(&format!("3{data}"));
                flushed(ws.flush().await)
            }
            EnginePacket::Close => Step::End(reasons::TRANSPORT_CLOSE),
            EnginePacket::Message(sio) => {
                if self.pending.take().is_some() {
                    tracing::warn!(
                        "Binary packet abandoned: a text packet came before its attachments"
                    );
                }
                match SocketPacket::decode(&sio) {
                    Ok(packet) if packet.nsp != *self.shared.namespace => Step::Continue,
                    Ok(packet) if packet.attachments > 0 => {
                        self.pending = Some(PendingBinary {
                            packet,
                            received: Vec::new(),
                        });
                        Step::Continue
                    }
                    Ok(packet) => self.deliver(packet, Vec::new()).await,
                    Err(e) => {
                        self.protocol_error(ProtocolError::codec(e, &sio)).await;
                        Step::Continue
                    }
                }
            }
            _ => Step::Continue,
        }
    }

    async fn binary(&mut self, data: Bytes) -> Step {
        let Some(waiting) = self.pending.as_mut() else {
            self.protocol_error(ProtocolError::UnexpectedBinary).await;
            return Step::Continue;
        };
        waiting.received.push(data);
        if waiting.received.len() < waiting.packet.attachments {
            return Step::Continue;
        }
        match self.pending.take() {
            Some(done) => self.deliver(done.packet, done.received).await,
            None => Step::Continue,
        }
    }

    /// Hands a complete packet to the dispatcher or to the waiting `emit_with_ack`.
    async fn deliver(&self, packet: SocketPacket, attachments: Vec<Bytes>) -> Step {
        let shared = self.shared;
        match packet.kind {
            PacketKind::Disconnect => return Step::End(reasons::SERVER_DISCONNECT),
            PacketKind::ConnectError => {
                let message = refusal_message(packet.data.as_ref());
                shared.report(ClientError::ConnectRefused(message)).await;
                return Step::Continue;
            }
            PacketKind::Connect => return Step::Continue,
            _ => {}
        }
        let values = match packet.data {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        let args = Args {
            values,
            attachments,
        };
        if let Err(e) = args.check_placeholders() {
            self.protocol_error(ProtocolError::Attachments(e)).await;
            return Step::Continue;
        }
        let Args {
            mut values,
            attachments,
        } = args;
        match packet.kind {
            PacketKind::Event | PacketKind::BinaryEvent => {
                // The codec checked that an event starts with its name.
                let Some(Value::String(name)) = (!values.is_empty()).then(|| values.remove(0))
                else {
                    return Step::Continue;
                };
                let ack = packet.id.map(|id| {
                    AckResponder::new(id, shared.namespace.clone(), self.outbound.clone())
                });
                let payload = ClientPayload::from_parts(values, attachments);
                shared
                    .dispatch(Dispatch::Event(Event::new(name, payload, ack)))
                    .await;
                Step::Continue
            }
            PacketKind::Ack | PacketKind::BinaryAck => {
                match packet.id.and_then(|id| lock(&shared.acks).remove(&id)) {
                    Some(waiter) => {
                        let _ = waiter.send(ClientPayload::from_parts(values, attachments));
                    }
                    None => {
                        tracing::debug!(ack_id = ?packet.id, "Acknowledgement nobody waits for")
                    }
                }
                Step::Continue
            }
            _ => Step::Continue,
        }
    }
}
