//! The per-namespace adapter: the socketioxide [`CoreAdapter`] implementation and
//! the receive path of the Node protocol.

use std::{
    collections::{HashMap, HashSet},
    future::{Future, IntoFuture},
    marker::PhantomData,
    pin::Pin,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use futures_util::{Stream, StreamExt, stream::FusedStream};
use rmpv::Value as Mp;
use socketioxide_core::{
    Sid, Uid, Value,
    adapter::{
        AckStreamItem, BroadcastFlags, BroadcastOptions, CoreAdapter, CoreLocalAdapter,
        DefinedAdapter, RemoteSocketData, Room, RoomParam, SocketEmitter, Spawnable,
        errors::{AdapterError, BroadcastError},
    },
    packet::{Packet, PacketData},
};
use tokio::sync::{mpsc, oneshot};

use crate::{
    error::RedisAdapterError,
    state::{RedisAdapterState, ServerSideAck, ServerSideEvent, Shared, SocketInfo},
    value::{from_parser_value, json_to_mp, mp_to_json, to_parser_value},
    wire::{
        self, BroadcastMessage, Channels, WireOpts, field, map, names_no_room, request_type as rt,
        str_array, str_field, string_list, to_json, to_msgpack,
    },
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

/// What a pending request waits for.
enum Pending {
    /// allRooms, fetchSockets, serverSideEmit acks: the whole response body.
    Collect(mpsc::UnboundedSender<Mp>),
    /// A broadcast with acks: client counts and ack values.
    BroadcastAck(mpsc::UnboundedSender<AckEvent>),
}

enum AckEvent {
    ClientCount(u64),
    Ack(Value),
}

/// The adapter-independent part of a namespace: channels, publishing, requests.
pub(crate) struct NsCore {
    shared: Arc<Shared>,
    path: String,
    uid: String,
    channels: Channels,
    specific_response: String,
    requests: Mutex<HashMap<String, Pending>>,
}

impl NsCore {
    fn requests_timeout(&self) -> Duration {
        self.shared.config.requests_timeout
    }

    /// Publishes; on a channel every server subscribes to (broadcasts,
    /// requests: all but responses), a reply that reached fewer servers than
    /// the namespace was seen to have is counted (`short_publishes`).
    async fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<(), RedisAdapterError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(RedisAdapterError::Closed);
        }
        let conn = &self.shared.conn;
        if channel.starts_with(&self.channels.response) {
            conn.publish(channel, payload).await.map(|_| ())
        } else {
            let fleet = &self.channels.request;
            conn.publish_to_fleet(fleet, channel, payload)
                .await
                .map(|_| ())
        }
    }

    /// Publishes in the background; failures are logged (used for replies).
    fn publish_detached(self: &Arc<Self>, channel: String, payload: Vec<u8>) {
        let core = self.clone();
        tokio::spawn(async move {
            if let Err(e) = core.publish(&channel, payload).await {
                tracing::warn!(nsp = %core.path, channel = %channel, error = %e, "Redis reply not published");
            }
        });
    }

    pub(crate) async fn server_count(&self) -> Result<usize, RedisAdapterError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(RedisAdapterError::Closed);
        }
        let request = &self.channels.request;
        self.shared.conn.fleet_size(request, request).await
    }

    /// The channel to answer a request of `requester` on.
    fn reply_channel(&self, requester: Option<&str>) -> String {
        match requester {
            Some(uid) if self.shared.config.publish_on_specific_response_channel => {
                self.channels.specific_response(uid)
            }
            _ => self.channels.response.clone(),
        }
    }

    fn register(&self, pending: Pending) -> String {
        let id = wire::random_id(12);
        if let Ok(mut map) = self.requests.lock() {
            map.insert(id.clone(), pending);
        }
        id
    }

    fn unregister(&self, id: &str) {
        if let Ok(mut map) = self.requests.lock() {
            map.remove(id);
        }
    }

    fn is_own_request(&self, id: Option<&str>) -> bool {
        id.is_some_and(|id| self.requests.lock().is_ok_and(|m| m.contains_key(id)))
    }

    /// Publishes a request built from its id and collects one response per other
    /// server. Returns the responses and how many were expected.
    async fn request(
        &self,
        build: impl FnOnce(&str) -> Vec<u8>,
    ) -> Result<(Vec<Mp>, usize), RedisAdapterError> {
        let expected = self.server_count().await?.saturating_sub(1);
        if expected == 0 {
            return Ok((Vec::new(), 0));
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        let id = self.register(Pending::Collect(tx));
        let published = self.publish(&self.channels.request, build(&id)).await;
        if let Err(e) = published {
            self.unregister(&id);
            return Err(e);
        }
        let deadline = tokio::time::Instant::now() + self.requests_timeout();
        let mut responses = Vec::with_capacity(expected);
        while responses.len() < expected {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(response)) => responses.push(response),
                _ => break,
            }
        }
        self.unregister(&id);
        Ok((responses, expected))
    }

    pub(crate) async fn remote_rooms(&self) -> Result<Vec<String>, RedisAdapterError> {
        let uid = self.uid.clone();
        let (responses, expected) = self
            .request(|id| {
                to_json(&map([
                    ("uid", Mp::from(uid.as_str())),
                    ("requestId", Mp::from(id)),
                    ("type", Mp::from(rt::ALL_ROOMS)),
                ]))
            })
            .await?;
        if responses.len() < expected {
            return Err(RedisAdapterError::Timeout {
                operation: "allRooms",
                received: responses.len(),
                expected,
            });
        }
        Ok(responses
            .iter()
            .flat_map(|r| string_list(field(r, "rooms")))
            .collect())
    }

    pub(crate) async fn remote_fetch(
        &self,
        rooms: Vec<String>,
        except: Vec<String>,
    ) -> Result<Vec<SocketInfo>, RedisAdapterError> {
        let uid = self.uid.clone();
        let opts = WireOpts {
            rooms,
            except,
            ..WireOpts::default()
        };
        let (responses, expected) = self
            .request(|id| {
                to_json(&map([
                    ("uid", Mp::from(uid.as_str())),
                    ("requestId", Mp::from(id)),
                    ("type", Mp::from(rt::REMOTE_FETCH)),
                    ("opts", opts.to_target_value()),
                ]))
            })
            .await?;
        if responses.len() < expected {
            return Err(RedisAdapterError::Timeout {
                operation: "fetchSockets",
                received: responses.len(),
                expected,
            });
        }
        let mut sockets = Vec::new();
        for response in responses {
            if let Some(Mp::Array(items)) = field(&response, "sockets") {
                for item in items {
                    let Some(id) = str_field(item, "id") else {
                        continue;
                    };
                    sockets.push(SocketInfo {
                        id: id.to_owned(),
                        handshake: field(item, "handshake")
                            .cloned()
                            .map(mp_to_json)
                            .unwrap_or_default(),
                        rooms: string_list(field(item, "rooms")),
                        data: field(item, "data")
                            .cloned()
                            .map(mp_to_json)
                            .unwrap_or_default(),
                    });
                }
            }
        }
        Ok(sockets)
    }

    fn sse_body(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
        request_id: Option<&str>,
    ) -> Vec<u8> {
        let mut data = vec![Mp::from(event)];
        data.extend(args.into_iter().map(json_to_mp));
        let mut entries = vec![(Mp::from("uid"), Mp::from(self.uid.as_str()))];
        if let Some(id) = request_id {
            entries.push((Mp::from("requestId"), Mp::from(id)));
        }
        entries.push((Mp::from("type"), Mp::from(rt::SERVER_SIDE_EMIT)));
        entries.push((Mp::from("data"), Mp::Array(data)));
        to_json(&Mp::Map(entries))
    }

    pub(crate) async fn server_side_emit(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<(), RedisAdapterError> {
        let body = self.sse_body(event, args, None);
        self.publish(&self.channels.request, body).await
    }

    pub(crate) async fn server_side_emit_with_ack(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<Vec<serde_json::Value>, RedisAdapterError> {
        let (responses, expected) = self
            .request(|id| self.sse_body(event, args, Some(id)))
            .await?;
        if responses.len() < expected {
            return Err(RedisAdapterError::Timeout {
                operation: "serverSideEmit",
                received: responses.len(),
                expected,
            });
        }
        Ok(responses
            .into_iter()
            .map(|r| {
                field(&r, "data")
                    .cloned()
                    .map(mp_to_json)
                    .unwrap_or_default()
            })
            .collect())
    }
}

/// Replies once to a server-side emit with ack.
pub(crate) struct AckReply {
    core: Arc<NsCore>,
    request_id: String,
    sent: AtomicBool,
}

impl AckReply {
    pub(crate) async fn send(&self, data: serde_json::Value) -> Result<(), RedisAdapterError> {
        if self.sent.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let body = to_json(&map([
            ("type", Mp::from(rt::SERVER_SIDE_EMIT)),
            ("requestId", Mp::from(self.request_id.as_str())),
            ("data", json_to_mp(data)),
        ]));
        // Node always answers serverSideEmit on the generic channel.
        self.core.publish(&self.core.channels.response, body).await
    }
}

/// A socketioxide adapter speaking the `@socket.io/redis-adapter` 8.3 classic protocol.
///
/// Plug it in with `SocketIo::builder().with_adapter::<RedisAdapter<_>>(state)`,
/// where `state` is a [`RedisAdapterState`].
pub struct RedisAdapter<E> {
    core: Arc<NsCore>,
    local: CoreLocalAdapter<E>,
}

impl<E> std::fmt::Debug for RedisAdapter<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("nsp", &self.core.path)
            .field("uid", &self.core.uid)
            .finish()
    }
}

impl<E> DefinedAdapter for RedisAdapter<E> {}

/// Converts socketioxide targeting into the wire's `{rooms, except, flags}`.
/// `None` when the options target no socket at all.
fn wire_opts(opts: &BroadcastOptions) -> Option<WireOpts> {
    let broadcast = opts.has_flag(BroadcastFlags::Broadcast);
    let mut rooms: Vec<String> = opts.rooms.iter().map(|r| r.to_string()).collect();
    let mut except: Vec<String> = Vec::new();
    for room in opts.except.iter() {
        if !except.iter().any(|e| e == room) {
            except.push(room.to_string());
        }
    }
    let mut flags = Vec::new();
    if broadcast {
        // `socket.broadcast` excludes the sender, as Node's `except: [socket.id]`.
        if let Some(sid) = opts.sid {
            let sid = sid.to_string();
            if !except.contains(&sid) {
                except.push(sid);
            }
        }
    } else if rooms.is_empty() {
        // One socket (a remote socket operation): its own id room, like Node's RemoteSocket.
        rooms.push(opts.sid?.to_string());
        flags.push(("expectSingleResponse".to_owned(), Mp::Boolean(true)));
    }
    if opts.has_flag(BroadcastFlags::Volatile) {
        flags.insert(0, ("volatile".to_owned(), Mp::Boolean(true)));
    }
    Some(WireOpts {
        rooms,
        targets_nothing: false,
        except,
        flags,
    })
}

/// Converts the wire targeting into socketioxide options (always a broadcast).
fn local_opts(opts: &WireOpts) -> BroadcastOptions {
    if opts.targets_nothing {
        // No broadcast flag, no rooms and no sender: socketioxide selects no
        // socket, whatever the operation (broadcast, join, disconnect, acks).
        return BroadcastOptions::default();
    }
    let mut local = BroadcastOptions::default();
    local.add_flag(BroadcastFlags::Broadcast);
    if opts.flag("volatile").and_then(Mp::as_bool) == Some(true) {
        local.add_flag(BroadcastFlags::Volatile);
    }
    local.rooms = opts.rooms.iter().cloned().map(Room::from).collect();
    local.except = opts.except.iter().cloned().map(Room::from).collect();
    local
}

/// The event payload of a packet as msgpack `[event, ...args]`; `None` for
/// packets that are not events.
fn packet_data(packet: &Packet) -> Result<Option<Vec<Mp>>, RedisAdapterError> {
    match &packet.inner {
        PacketData::Event(value, _) | PacketData::BinaryEvent(value, _) => {
            from_parser_value(value).map(Some)
        }
        _ => Ok(None),
    }
}

fn adapter_err(e: RedisAdapterError) -> BroadcastError {
    BroadcastError::Adapter(AdapterError::from(e))
}

impl<E: SocketEmitter> RedisAdapter<E> {
    fn own_uid(&self) -> Uid {
        self.local.server_id()
    }

    fn broadcast_options_all() -> BroadcastOptions {
        let mut opts = BroadcastOptions::default();
        opts.add_flag(BroadcastFlags::Broadcast);
        opts
    }

    fn rooms_of(&self, sid: Sid) -> Vec<String> {
        let mut rooms: Vec<String> = self
            .local
            .socket_rooms(sid)
            .into_iter()
            .map(|r| r.to_string())
            .collect();
        rooms.sort();
        rooms
    }

    fn socket_info(&self, sid: Sid) -> SocketInfo {
        let id = sid.to_string();
        let details = self.core.shared.socket_details(&self.core.path, &id);
        SocketInfo {
            rooms: self.rooms_of(sid),
            id,
            handshake: details.handshake,
            data: details.data,
        }
    }

    fn on_broadcast(&self, channel: &str, payload: &[u8]) {
        if !channel.starts_with(&self.core.channels.broadcast) {
            return;
        }
        let msg = match BroadcastMessage::decode(payload) {
            Ok(msg) => msg,
            Err(e) => {
                tracing::debug!(nsp = %self.core.path, error = %e, "ignoring malformed broadcast");
                return;
            }
        };
        if msg.uid == self.core.uid || msg.nsp != self.core.path {
            return;
        }
        let value = match to_parser_value(self.local.parser(), msg.data) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(nsp = %self.core.path, error = %e, "broadcast payload not convertible");
                return;
            }
        };
        let packet = Packet::event(self.core.path.clone(), value);
        if let Err(e) = self.local.broadcast(packet, local_opts(&msg.opts)) {
            tracing::debug!(nsp = %self.core.path, errors = ?e, "remote broadcast partly failed");
        }
    }

    fn on_response(&self, payload: &[u8]) {
        let Ok(response) = wire::decode_any(payload) else {
            return;
        };
        let Some(id) = str_field(&response, "requestId") else {
            return;
        };
        let Ok(requests) = self.core.requests.lock() else {
            return;
        };
        match requests.get(id) {
            Some(Pending::Collect(tx)) => {
                let _ = tx.send(response);
            }
            Some(Pending::BroadcastAck(tx)) => {
                match field(&response, "type").and_then(Mp::as_u64) {
                    Some(rt::BROADCAST_CLIENT_COUNT) => {
                        let count = field(&response, "clientCount")
                            .and_then(Mp::as_u64)
                            .unwrap_or(0);
                        let _ = tx.send(AckEvent::ClientCount(count));
                    }
                    Some(rt::BROADCAST_ACK) => {
                        let arg = field(&response, "packet").cloned().unwrap_or(Mp::Nil);
                        match to_parser_value(self.local.parser(), vec![arg]) {
                            Ok(value) => {
                                let _ = tx.send(AckEvent::Ack(value));
                            }
                            Err(e) => tracing::warn!(error = %e, "remote ack not convertible"),
                        }
                    }
                    _ => {}
                }
            }
            None => {}
        }
    }

    fn on_request(&self, payload: &[u8]) {
        let request = match wire::decode_any(payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(nsp = %self.core.path, error = %e, "ignoring malformed request");
                return;
            }
        };
        let Some(kind) = field(&request, "type").and_then(Mp::as_u64) else {
            return;
        };
        let uid = str_field(&request, "uid");
        let request_id = str_field(&request, "requestId");
        let from_self = uid == Some(self.core.uid.as_str());
        match kind {
            rt::SOCKETS | rt::ALL_ROOMS | rt::REMOTE_FETCH => {
                if from_self || self.is_own(request_id) {
                    return;
                }
                let Some(id) = request_id else { return };
                let body = match kind {
                    rt::SOCKETS if names_no_room(field(&request, "rooms")) => map([
                        ("requestId", Mp::from(id)),
                        ("sockets", Mp::Array(Vec::new())),
                    ]),
                    rt::SOCKETS => {
                        let mut opts = Self::broadcast_options_all();
                        opts.rooms = string_list(field(&request, "rooms"))
                            .into_iter()
                            .map(Room::from)
                            .collect();
                        let ids: Vec<String> = self
                            .local
                            .sockets(opts)
                            .iter()
                            .map(Sid::to_string)
                            .collect();
                        map([("requestId", Mp::from(id)), ("sockets", str_array(&ids))])
                    }
                    rt::ALL_ROOMS => map([
                        ("requestId", Mp::from(id)),
                        ("rooms", str_array(&self.local_rooms())),
                    ]),
                    _ => {
                        let opts = WireOpts::from_value(field(&request, "opts"));
                        let sockets = if opts.targets_nothing {
                            Vec::new()
                        } else {
                            self.local_sockets(&opts.rooms, &opts.except)
                        };
                        let sockets = Mp::Array(
                            sockets
                                .into_iter()
                                .map(|s| {
                                    map([
                                        ("id", Mp::from(s.id)),
                                        ("handshake", json_to_mp(s.handshake)),
                                        ("rooms", str_array(&s.rooms)),
                                        ("data", json_to_mp(s.data)),
                                    ])
                                })
                                .collect(),
                        );
                        map([("requestId", Mp::from(id)), ("sockets", sockets)])
                    }
                };
                self.core
                    .publish_detached(self.core.reply_channel(uid), to_json(&body));
            }
            rt::REMOTE_JOIN | rt::REMOTE_LEAVE | rt::REMOTE_DISCONNECT => {
                if from_self {
                    // Applied locally when it was sent.
                    return;
                }
                self.apply_remote_membership(kind, &request, uid, request_id);
            }
            rt::SERVER_SIDE_EMIT => {
                if from_self {
                    return;
                }
                self.dispatch_server_side_emit(&request, request_id);
            }
            rt::BROADCAST => {
                if from_self || self.is_own(request_id) {
                    return;
                }
                self.answer_broadcast_with_ack(&request, uid, request_id);
            }
            _ => {}
        }
    }

    fn is_own(&self, request_id: Option<&str>) -> bool {
        self.core.is_own_request(request_id)
    }

    fn apply_remote_membership(
        &self,
        kind: u64,
        request: &Mp,
        uid: Option<&str>,
        request_id: Option<&str>,
    ) {
        if let Some(opts_value) = field(request, "opts") {
            let opts = local_opts(&WireOpts::from_value(Some(opts_value)));
            match kind {
                rt::REMOTE_JOIN => self
                    .local
                    .add_sockets(opts, string_list(field(request, "rooms"))),
                rt::REMOTE_LEAVE => self
                    .local
                    .del_sockets(opts, string_list(field(request, "rooms"))),
                _ => {
                    if let Err(e) = self.local.disconnect_socket(opts) {
                        tracing::debug!(errors = ?e, "remote disconnect partly failed");
                    }
                }
            }
            return;
        }
        // Legacy 7.x form: one socket id, answered with `{requestId}`.
        let Some(sid) = str_field(request, "sid").and_then(|s| s.parse::<Sid>().ok()) else {
            return;
        };
        let known = self
            .local
            .sockets(Self::broadcast_options_all())
            .contains(&sid);
        if !known {
            return;
        }
        let room = str_field(request, "room").map(str::to_owned);
        match (kind, room) {
            (rt::REMOTE_JOIN, Some(room)) => self.local.add_all(sid, vec![room]),
            (rt::REMOTE_LEAVE, Some(room)) => self.local.del(sid, vec![room]),
            (rt::REMOTE_DISCONNECT, _) => {
                let mut opts = BroadcastOptions::new(sid);
                opts.server_id = Some(self.own_uid());
                let _ = self.local.disconnect_socket(opts);
            }
            _ => return,
        }
        if let Some(id) = request_id {
            let body = to_json(&map([("requestId", Mp::from(id))]));
            self.core
                .publish_detached(self.core.reply_channel(uid), body);
        }
    }

    fn dispatch_server_side_emit(&self, request: &Mp, request_id: Option<&str>) {
        let Some(Mp::Array(data)) = field(request, "data") else {
            return;
        };
        let mut items = data.iter().cloned().map(mp_to_json);
        let Some(serde_json::Value::String(event)) = items.next() else {
            return;
        };
        let args: Vec<serde_json::Value> = items.collect();
        let handlers = self
            .core
            .shared
            .sse_handlers
            .read()
            .ok()
            .and_then(|m| m.get(&self.core.path).cloned())
            .unwrap_or_default();
        let ack = request_id.map(|id| ServerSideAck {
            inner: Arc::new(AckReply {
                core: self.core.clone(),
                request_id: id.to_owned(),
                sent: AtomicBool::new(false),
            }),
        });
        for handler in handlers {
            let event = ServerSideEvent {
                event: event.clone(),
                args: args.clone(),
                ack: ack.clone(),
            };
            // A panicking user handler must not take the subscriber down.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(event)));
            if outcome.is_err() {
                tracing::error!(nsp = %self.core.path, "server-side emit handler panicked");
            }
        }
    }

    fn answer_broadcast_with_ack(&self, request: &Mp, uid: Option<&str>, request_id: Option<&str>) {
        let Some(id) = request_id.map(str::to_owned) else {
            return;
        };
        let packet = field(request, "packet");
        let data = match packet.and_then(|p| field(p, "data")) {
            Some(Mp::Array(items)) => items.clone(),
            _ => return,
        };
        let opts = WireOpts::from_value(field(request, "opts"));
        let timeout = opts
            .flag("timeout")
            .and_then(Mp::as_u64)
            .map(Duration::from_millis);
        let reply_channel = self.core.reply_channel(uid);
        let value = match to_parser_value(self.local.parser(), data) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "broadcast-with-ack payload not convertible");
                Value::Str(String::from("[]").into(), None)
            }
        };
        let packet = Packet::event(self.core.path.clone(), value);
        let (stream, count) = self
            .local
            .broadcast_with_ack(packet, local_opts(&opts), timeout);
        let core = self.core.clone();
        tokio::spawn(async move {
            // Every server answers with exactly one client count, even 0: Node's
            // broadcast operator completes only when all servers did.
            let count_body = to_json(&map([
                ("type", Mp::from(rt::BROADCAST_CLIENT_COUNT)),
                ("requestId", Mp::from(id.as_str())),
                ("clientCount", Mp::from(count)),
            ]));
            if let Err(e) = core.publish(&reply_channel, count_body).await {
                tracing::warn!(error = %e, "client count not published");
                return;
            }
            let mut stream = std::pin::pin!(stream);
            while let Some((_sid, result)) = stream.next().await {
                let Ok(value) = result else { continue };
                let first = from_parser_value(&value)
                    .ok()
                    .and_then(|items| items.into_iter().next())
                    .unwrap_or(Mp::Nil);
                let body = to_msgpack(&map([
                    ("type", Mp::from(rt::BROADCAST_ACK)),
                    ("requestId", Mp::from(id.as_str())),
                    ("packet", first),
                ]));
                if let Err(e) = core.publish(&reply_channel, body).await {
                    tracing::warn!(error = %e, "ack not published");
                }
            }
        });
    }

    /// Publishes a join/leave/disconnect request (applied locally by the caller).
    async fn publish_membership(
        &self,
        kind: u64,
        opts: &BroadcastOptions,
        rooms: Option<&[String]>,
    ) -> Result<(), RedisAdapterError> {
        if opts.is_local(self.own_uid()) {
            return Ok(());
        }
        let Some(wire) = wire_opts(opts) else {
            return Ok(());
        };
        let mut entries = vec![
            (Mp::from("uid"), Mp::from(self.core.uid.as_str())),
            (Mp::from("type"), Mp::from(kind)),
            (Mp::from("opts"), wire.to_target_value()),
        ];
        match rooms {
            Some(rooms) => entries.push((Mp::from("rooms"), str_array(rooms))),
            None => entries.push((Mp::from("close"), Mp::Boolean(false))),
        }
        self.core
            .publish(&self.core.channels.request, to_json(&Mp::Map(entries)))
            .await
    }
}

impl<E: SocketEmitter> NsHandler for RedisAdapter<E> {
    fn on_message(&self, kind: ChannelKind, channel: &str, payload: &[u8]) {
        match kind {
            ChannelKind::Broadcast => self.on_broadcast(channel, payload),
            ChannelKind::Request => self.on_request(payload),
            ChannelKind::Response => self.on_response(payload),
        }
    }

    fn local_sockets(&self, rooms: &[String], except: &[String]) -> Vec<SocketInfo> {
        let mut opts = Self::broadcast_options_all();
        opts.rooms = rooms.iter().cloned().map(Room::from).collect();
        opts.except = except.iter().cloned().map(Room::from).collect();
        self.local
            .sockets(opts)
            .into_iter()
            .map(|sid| self.socket_info(sid))
            .collect()
    }

    fn local_rooms(&self) -> Vec<String> {
        let mut rooms: Vec<String> = self
            .local
            .rooms(Self::broadcast_options_all())
            .into_iter()
            .map(|r| r.to_string())
            .collect();
        rooms.sort();
        rooms
    }

    fn local_ids(&self) -> Vec<String> {
        self.local
            .sockets(Self::broadcast_options_all())
            .iter()
            .map(Sid::to_string)
            .collect()
    }

    fn core(&self) -> &Arc<NsCore> {
        &self.core
    }
}

/// Resolves when the namespace's Redis subscriptions are confirmed. socketioxide
/// registers the namespace right away, so awaiting it is optional; dynamic
/// namespaces spawn it.
#[must_use = "await it to know the subscriptions are in place, or drop it"]
pub struct InitHandle {
    ready: Option<oneshot::Receiver<Result<(), RedisAdapterError>>>,
    path: String,
}

impl std::fmt::Debug for InitHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitHandle")
            .field("nsp", &self.path)
            .finish()
    }
}

impl IntoFuture for InitHandle {
    type Output = Result<(), RedisAdapterError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            match self.ready {
                Some(rx) => rx.await.unwrap_or(Err(RedisAdapterError::Closed)),
                None => Err(RedisAdapterError::Closed),
            }
        })
    }
}

impl Spawnable for InitHandle {
    fn spawn(self) {
        let path = self.path.clone();
        tokio::spawn(async move {
            if let Err(e) = self.await {
                tracing::error!(nsp = %path, error = %e, "Redis subscription of namespace failed");
            }
        });
    }
}

impl<E: SocketEmitter> CoreAdapter<E> for RedisAdapter<E> {
    type Error = RedisAdapterError;
    type State = RedisAdapterState;
    type AckStream = RedisAckStream<E::AckStream, E::AckError>;
    type InitRes = InitHandle;

    fn new(state: &Self::State, local: CoreLocalAdapter<E>) -> Self {
        let path = local.path().to_string();
        let uid = local.server_id().to_string();
        let channels = Channels::new(&state.shared.config.key, &path);
        let core = Arc::new(NsCore {
            shared: state.shared.clone(),
            specific_response: channels.specific_response(&uid),
            channels,
            path,
            uid,
            requests: Mutex::new(HashMap::new()),
        });
        Self { core, local }
    }

    fn init(self: Arc<Self>, on_success: impl FnOnce() + Send + 'static) -> Self::InitRes {
        let core = self.core.clone();
        let handler: Arc<dyn NsHandler> = self.clone();
        let weak: Weak<dyn NsHandler> = Arc::downgrade(&handler);
        let channels = vec![
            core.channels.request.clone(),
            core.channels.response.clone(),
            core.specific_response.clone(),
        ];
        let patterns = vec![core.channels.broadcast_pattern.clone()];
        if let Ok(mut routes) = core.shared.routes.write() {
            routes.channels.insert(
                core.channels.request.clone(),
                (ChannelKind::Request, weak.clone()),
            );
            routes.channels.insert(
                core.channels.response.clone(),
                (ChannelKind::Response, weak.clone()),
            );
            routes.channels.insert(
                core.specific_response.clone(),
                (ChannelKind::Response, weak.clone()),
            );
            routes.patterns.insert(
                core.channels.broadcast_pattern.clone(),
                (ChannelKind::Broadcast, weak.clone()),
            );
        }
        if let Ok(mut namespaces) = core.shared.namespaces.write() {
            namespaces.insert(core.path.clone(), weak);
        }
        let ready = core
            .shared
            .subscriber
            .get()
            .map(|s| s.subscribe(channels, patterns));
        on_success();
        InitHandle {
            ready,
            path: core.path.clone(),
        }
    }

    async fn close(&self) -> Result<(), Self::Error> {
        let core = &self.core;
        // Only drop entries that still point at this adapter: a namespace re-created
        // with the same path may already have replaced them.
        let me = self as *const Self as *const ();
        let mine = |weak: &Weak<dyn NsHandler>| std::ptr::eq(weak.as_ptr() as *const (), me);
        if let Ok(mut routes) = core.shared.routes.write() {
            routes.channels.retain(|_, (_, w)| !mine(w));
            routes.patterns.retain(|_, (_, w)| !mine(w));
        }
        if let Ok(mut namespaces) = core.shared.namespaces.write() {
            namespaces.retain(|_, w| !mine(w));
        }
        if let Some(subscriber) = core.shared.subscriber.get() {
            subscriber.unsubscribe(
                vec![
                    core.channels.request.clone(),
                    core.channels.response.clone(),
                    core.specific_response.clone(),
                ],
                vec![core.channels.broadcast_pattern.clone()],
            );
        }
        Ok(())
    }

    async fn server_count(&self) -> Result<u16, Self::Error> {
        let count = self.core.server_count().await?;
        Ok(u16::try_from(count).unwrap_or(u16::MAX))
    }

    async fn broadcast(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
    ) -> Result<(), BroadcastError> {
        let remote = if opts.is_local(self.own_uid()) {
            None
        } else {
            match (packet_data(&packet).map_err(adapter_err)?, wire_opts(&opts)) {
                (Some(data), Some(wire)) => Some(BroadcastMessage {
                    uid: self.core.uid.clone(),
                    data,
                    nsp: self.core.path.clone(),
                    opts: wire,
                }),
                _ => None,
            }
        };
        // Published first: a send that fails reaches no client, not even this
        // server's, so retrying it does not deliver twice.
        if let Some(msg) = remote {
            let channel = self.core.channels.broadcast_channel(&msg.opts.rooms);
            self.core
                .publish(&channel, msg.encode(false))
                .await
                .map_err(adapter_err)?;
        }
        self.local
            .broadcast(packet, opts)
            .map_err(BroadcastError::from)
    }

    async fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        timeout: Option<Duration>,
    ) -> Result<Self::AckStream, Self::Error> {
        let mut remote_rx = None;
        if !opts.is_local(self.own_uid())
            && let (Some(data), Some(wire)) = (packet_data(&packet)?, wire_opts(&opts))
        {
            let remote_servers = self.core.server_count().await?.saturating_sub(1);
            if remote_servers > 0 {
                let ack_timeout = timeout.unwrap_or_else(|| self.local.ack_timeout());
                let mut wire = wire;
                wire.flags.push((
                    "timeout".to_owned(),
                    Mp::from(u64::try_from(ack_timeout.as_millis()).unwrap_or(u64::MAX)),
                ));
                let (events_tx, events_rx) = mpsc::unbounded_channel();
                let id = self.core.register(Pending::BroadcastAck(events_tx));
                let body = to_msgpack(&map([
                    ("uid", Mp::from(self.core.uid.as_str())),
                    ("requestId", Mp::from(id.as_str())),
                    ("type", Mp::from(rt::BROADCAST)),
                    ("packet", wire::packet_value(data, &self.core.path)),
                    ("opts", wire.to_adapter_value()),
                ]));
                if let Err(e) = self.core.publish(&self.core.channels.request, body).await {
                    self.core.unregister(&id);
                    return Err(e);
                }
                let (out_tx, out_rx) = mpsc::unbounded_channel();
                let deadline =
                    tokio::time::Instant::now() + ack_timeout + self.core.requests_timeout();
                tokio::spawn(collect_remote_acks(
                    self.core.clone(),
                    id,
                    remote_servers,
                    events_rx,
                    out_tx,
                    deadline,
                ));
                remote_rx = Some(out_rx);
            }
        }
        let (local_stream, _) = self.local.broadcast_with_ack(packet, opts, timeout);
        Ok(RedisAckStream {
            local: Box::pin(local_stream),
            local_done: false,
            remote: remote_rx,
            _error: PhantomData,
        })
    }

    async fn add_sockets(
        &self,
        opts: BroadcastOptions,
        rooms: impl RoomParam,
    ) -> Result<(), Self::Error> {
        let rooms: Vec<String> = rooms.into_room_iter().map(|r| r.to_string()).collect();
        self.local.add_sockets(opts.clone(), rooms.clone());
        self.publish_membership(rt::REMOTE_JOIN, &opts, Some(&rooms))
            .await
    }

    async fn del_sockets(
        &self,
        opts: BroadcastOptions,
        rooms: impl RoomParam,
    ) -> Result<(), Self::Error> {
        let rooms: Vec<String> = rooms.into_room_iter().map(|r| r.to_string()).collect();
        self.local.del_sockets(opts.clone(), rooms.clone());
        self.publish_membership(rt::REMOTE_LEAVE, &opts, Some(&rooms))
            .await
    }

    async fn disconnect_socket(&self, opts: BroadcastOptions) -> Result<(), BroadcastError> {
        let local_result = self.local.disconnect_socket(opts.clone());
        self.publish_membership(rt::REMOTE_DISCONNECT, &opts, None)
            .await
            .map_err(adapter_err)?;
        local_result.map_err(BroadcastError::Socket)
    }

    async fn rooms(&self, opts: BroadcastOptions) -> Result<Vec<Room>, Self::Error> {
        let mut rooms: HashSet<Room> = self.local.rooms(opts.clone());
        if opts.is_local(self.own_uid()) {
            return Ok(rooms.into_iter().collect());
        }
        let unfiltered = opts.rooms.is_empty()
            && opts.except.is_empty()
            && opts.has_flag(BroadcastFlags::Broadcast);
        if unfiltered {
            rooms.extend(self.core.remote_rooms().await?.into_iter().map(Room::from));
        } else if let Some(wire) = wire_opts(&opts) {
            // Node's ALL_ROOMS has no filter; the rooms of the matching sockets
            // (REMOTE_FETCH) give the filtered answer, e.g. a remote socket's rooms.
            for socket in self.core.remote_fetch(wire.rooms, wire.except).await? {
                rooms.extend(socket.rooms.into_iter().map(Room::from));
            }
        }
        Ok(rooms.into_iter().collect())
    }

    async fn fetch_sockets(
        &self,
        opts: BroadcastOptions,
    ) -> Result<Vec<RemoteSocketData>, Self::Error> {
        let mut sockets = self.local.fetch_sockets(opts.clone());
        if opts.is_local(self.own_uid()) {
            return Ok(sockets);
        }
        let wire = wire_opts(&opts).unwrap_or_default();
        for remote in self.core.remote_fetch(wire.rooms, wire.except).await? {
            // Only socketioxide ids fit a `Sid`; Node's 20-character ids are reachable
            // through `RedisAdapterState::fetch_sockets`.
            if let Ok(id) = remote.id.parse::<Sid>() {
                sockets.push(RemoteSocketData {
                    id,
                    server_id: Uid::ZERO,
                    ns: self.local.path().clone(),
                });
            }
        }
        Ok(sockets)
    }

    fn get_local(&self) -> &CoreLocalAdapter<E> {
        &self.local
    }
}

async fn collect_remote_acks(
    core: Arc<NsCore>,
    id: String,
    servers: usize,
    mut events: mpsc::UnboundedReceiver<AckEvent>,
    out: mpsc::UnboundedSender<(Sid, Value)>,
    deadline: tokio::time::Instant,
) {
    let (mut answered, mut expected, mut received) = (0usize, 0u64, 0u64);
    while answered < servers || received < expected {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(AckEvent::ClientCount(n))) => {
                answered += 1;
                expected += n;
            }
            Ok(Some(AckEvent::Ack(value))) => {
                received += 1;
                // Node acks carry no socket id.
                let _ = out.send((Sid::ZERO, value));
            }
            _ => break,
        }
    }
    core.unregister(&id);
}

/// The acknowledgements of a broadcast: local sockets' acks, then remote ones
/// (with [`Sid::ZERO`], since Node does not say which socket answered).
pub struct RedisAckStream<S, Err> {
    local: Pin<Box<S>>,
    local_done: bool,
    remote: Option<mpsc::UnboundedReceiver<(Sid, Value)>>,
    _error: PhantomData<fn() -> Err>,
}

impl<S, Err> std::fmt::Debug for RedisAckStream<S, Err> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAckStream")
            .field("local_done", &self.local_done)
            .field("remote_pending", &self.remote.is_some())
            .finish()
    }
}

impl<S, Err> Stream for RedisAckStream<S, Err>
where
    S: Stream<Item = AckStreamItem<Err>> + FusedStream,
{
    type Item = AckStreamItem<Err>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if !this.local_done {
            match this.local.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => return Poll::Ready(Some(item)),
                Poll::Ready(None) => this.local_done = true,
                Poll::Pending => {}
            }
        }
        if let Some(remote) = this.remote.as_mut() {
            match remote.poll_recv(cx) {
                Poll::Ready(Some((sid, value))) => return Poll::Ready(Some((sid, Ok(value)))),
                Poll::Ready(None) => this.remote = None,
                Poll::Pending => return Poll::Pending,
            }
        }
        if this.local_done && this.remote.is_none() {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}

impl<S, Err> FusedStream for RedisAckStream<S, Err>
where
    S: Stream<Item = AckStreamItem<Err>> + FusedStream,
{
    fn is_terminated(&self) -> bool {
        self.local_done && self.remote.is_none()
    }
}
