//! What the Redis adapter receives from the fleet: broadcasts, requests of
//! other servers (answered from this node's sockets) and responses to this
//! node's requests.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use futures_util::StreamExt;
use ignis_socketio_engine::io::BroadcastOptions;
use rmpv::Value as Mp;

use crate::adapter::RedisAdapter;
use crate::ns::{AckEvent, AckReply, ChannelKind, NsCore, NsHandler, Pending};
use crate::state::{ServerSideAck, ServerSideEvent, SocketInfo};
use crate::value::{args_to_mp, json_to_mp, mp_to_args, mp_to_json};
use crate::wire::{
    self, BroadcastMessage, WireOpts, field, map, names_no_room, request_type as rt, str_array,
    str_field, string_list, to_json, to_msgpack,
};

/// The wire's targeting as engine options on this node; `None` when it names
/// no socket at all.
fn local_opts(opts: &WireOpts) -> Option<BroadcastOptions> {
    (!opts.targets_nothing).then(|| BroadcastOptions {
        rooms: opts.rooms.clone(),
        except: opts.except.clone(),
        local: true,
    })
}

impl NsHandler for RedisAdapter {
    fn on_message(&self, kind: ChannelKind, channel: &str, payload: &[u8]) {
        match kind {
            ChannelKind::Broadcast => self.on_broadcast(channel, payload),
            ChannelKind::Request => self.on_request(payload),
            ChannelKind::Response => self.on_response(payload),
        }
    }

    fn local_sockets(&self, rooms: &[String], except: &[String]) -> Vec<SocketInfo> {
        self.local_socket_infos(rooms, except)
    }

    fn local_rooms(&self) -> Vec<String> {
        let Some(ns) = self.namespace() else {
            return Vec::new();
        };
        let mut rooms = ns.rooms();
        rooms.extend(ns.sockets().iter().map(|s| s.id().to_owned()));
        rooms.sort();
        rooms.dedup();
        rooms
    }

    fn local_ids(&self) -> Vec<String> {
        self.namespace()
            .map(|ns| ns.sockets().iter().map(|s| s.id().to_owned()).collect())
            .unwrap_or_default()
    }

    fn core(&self) -> &Arc<NsCore> {
        &self.core
    }
}

impl RedisAdapter {
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
        let (Some(ns), Some(options)) = (self.namespace(), local_opts(&msg.opts)) else {
            return;
        };
        let mut data = msg.data.into_iter();
        let Some(event) = data.next().and_then(|e| e.as_str().map(str::to_owned)) else {
            return tracing::debug!(nsp = %self.core.path, "broadcast without an event name");
        };
        let args = mp_to_args(data.collect());
        // At once, in the subscriber's order: one task per message would let
        // later messages overtake earlier ones.
        ns.local_broadcast(&options, &event, &args);
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
                        let _ = tx.send(AckEvent::Ack(mp_to_args(vec![arg])));
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
                if from_self || self.core.is_own_request(request_id) {
                    return;
                }
                let Some(id) = request_id else { return };
                let body = self.answer_query(kind, &request, id);
                self.core
                    .publish_detached(self.core.reply_channel(uid), to_json(&body));
            }
            rt::REMOTE_JOIN | rt::REMOTE_LEAVE | rt::REMOTE_DISCONNECT if !from_self => {
                self.apply_remote_membership(kind, &request, uid, request_id);
            }
            rt::SERVER_SIDE_EMIT if !from_self => {
                self.dispatch_server_side_emit(&request, request_id)
            }
            rt::BROADCAST => {
                if from_self || self.core.is_own_request(request_id) {
                    return;
                }
                self.answer_broadcast_with_ack(&request, uid, request_id);
            }
            _ => {}
        }
    }

    /// The body answering a SOCKETS, ALL_ROOMS or REMOTE_FETCH request.
    fn answer_query(&self, kind: u64, request: &Mp, id: &str) -> Mp {
        match kind {
            rt::SOCKETS if names_no_room(field(request, "rooms")) => map([
                ("requestId", Mp::from(id)),
                ("sockets", Mp::Array(Vec::new())),
            ]),
            rt::SOCKETS => {
                let rooms = string_list(field(request, "rooms"));
                let ids: Vec<String> = self
                    .local_socket_infos(&rooms, &[])
                    .into_iter()
                    .map(|s| s.id)
                    .collect();
                map([("requestId", Mp::from(id)), ("sockets", str_array(&ids))])
            }
            rt::ALL_ROOMS => map([
                ("requestId", Mp::from(id)),
                ("rooms", str_array(&self.local_rooms())),
            ]),
            _ => {
                let opts = WireOpts::from_value(field(request, "opts"));
                let sockets = if opts.targets_nothing {
                    Vec::new()
                } else {
                    self.local_socket_infos(&opts.rooms, &opts.except)
                };
                let sockets = sockets
                    .into_iter()
                    .map(|s| {
                        map([
                            ("id", Mp::from(s.id)),
                            ("handshake", json_to_mp(s.handshake)),
                            ("rooms", str_array(&s.rooms)),
                            ("data", json_to_mp(s.data)),
                        ])
                    })
                    .collect();
                map([("requestId", Mp::from(id)), ("sockets", Mp::Array(sockets))])
            }
        }
    }

    fn apply_remote_membership(
        &self,
        kind: u64,
        request: &Mp,
        uid: Option<&str>,
        request_id: Option<&str>,
    ) {
        let Some(ns) = self.namespace() else { return };
        let mut reply = None;
        let (options, rooms) = if let Some(opts) = field(request, "opts") {
            let Some(options) = local_opts(&WireOpts::from_value(Some(opts))) else {
                return;
            };
            (options, string_list(field(request, "rooms")))
        } else {
            // Legacy 7.x form: one socket id (and one room), answered with `{requestId}`.
            let Some(sid) = str_field(request, "sid") else {
                return;
            };
            if ns.socket(sid).is_none() {
                return;
            }
            reply = request_id.map(|id| {
                let body = to_json(&map([("requestId", Mp::from(id))]));
                (self.core.reply_channel(uid), body)
            });
            let options = BroadcastOptions {
                rooms: vec![sid.to_owned()],
                except: Vec::new(),
                local: true,
            };
            let room = str_field(request, "room").map(str::to_owned);
            (options, room.into_iter().collect())
        };
        // At once, in the subscriber's order, like broadcasts: a join followed
        // by a broadcast to the room must find the socket in it.
        for socket in ns.local_targets(&options) {
            match kind {
                rt::REMOTE_JOIN => socket.join(&rooms),
                rt::REMOTE_LEAVE => socket.leave(&rooms),
                _ => socket.disconnect(),
            }
        }
        if let Some((channel, body)) = reply {
            self.core.publish_detached(channel, body);
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
        let (Some(id), Some(ns)) = (request_id.map(str::to_owned), self.namespace()) else {
            return;
        };
        let data = match field(request, "packet").and_then(|p| field(p, "data")) {
            Some(Mp::Array(items)) => items.clone(),
            _ => return,
        };
        let opts = WireOpts::from_value(field(request, "opts"));
        let timeout = opts
            .flag("timeout")
            .and_then(Mp::as_u64)
            .map_or(Duration::from_secs(5), Duration::from_millis);
        let reply_channel = self.core.reply_channel(uid);
        let mut data = data.into_iter();
        let event = data
            .next()
            .and_then(|e| e.as_str().map(str::to_owned))
            .unwrap_or_default();
        let args = mp_to_args(data.collect());
        let options = local_opts(&opts);
        let core = self.core.clone();
        tokio::spawn(async move {
            let (count, mut acks) = match &options {
                Some(options) => {
                    let (count, acks) =
                        ns.local_broadcast_with_ack(options, &event, &args, timeout);
                    (count, Some(acks))
                }
                None => (0, None),
            };
            // Every server answers with exactly one client count, even 0: Node's
            // broadcast operator completes only when all servers did.
            let count_body = to_json(&map([
                ("type", Mp::from(rt::BROADCAST_CLIENT_COUNT)),
                ("requestId", Mp::from(id.as_str())),
                ("clientCount", Mp::from(count as u64)),
            ]));
            if let Err(e) = core.publish(&reply_channel, count_body).await {
                return tracing::warn!(error = %e, "client count not published");
            }
            let Some(acks) = acks.as_mut() else { return };
            while let Some((_sid, result)) = acks.next().await {
                let Ok(args) = result else { continue };
                let first = args_to_mp(&args).into_iter().next().unwrap_or(Mp::Nil);
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
}
