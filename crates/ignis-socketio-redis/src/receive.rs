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
use crate::info::SocketInfo;
use crate::message::{Membership, MembershipTarget, Request, RequestBody, Response, ResponseBody};
use crate::requests::NsCore;
use crate::server_side::{AckReply, ServerSideAck, ServerSideEvent};
use crate::shared::{ChannelKind, NsHandler};
use crate::value::{args_to_mp, mp_to_args, mp_to_json};
use crate::wire::{BroadcastMessage, WireOpts};

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
        let requests = &self.core.requests;
        let mut sender = None;
        let response = Response::decode(payload, |id| {
            let requests = requests.lock().ok()?;
            let pending = requests.get(id)?;
            sender = Some(pending.responses.clone());
            Some(pending.kind)
        });
        if let (Some(response), Some(sender)) = (response, sender) {
            let _ = sender.send(response.body);
        }
    }

    fn on_request(&self, payload: &[u8]) {
        let request = match Request::decode(payload) {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(e) => {
                tracing::debug!(nsp = %self.core.path, error = %e, "ignoring malformed request");
                return;
            }
        };
        let uid = request.uid.as_deref();
        let request_id = request.request_id.as_deref();
        let from_self = uid == Some(self.core.uid.as_str());
        match &request.body {
            RequestBody::Sockets { .. }
            | RequestBody::AllRooms
            | RequestBody::RemoteFetch { .. } => {
                if from_self || self.core.is_own_request(request_id) {
                    return;
                }
                let Some(id) = request_id else { return };
                let response = Response {
                    request_id: id.to_owned(),
                    body: self.answer_query(&request.body),
                };
                self.core
                    .publish_detached(self.core.reply_channel(uid), response.encode());
            }
            RequestBody::Membership { action, target } if !from_self => {
                self.apply_remote_membership(*action, target, uid, request_id);
            }
            RequestBody::ServerSideEmit { data } if !from_self => {
                self.dispatch_server_side_emit(data, request_id)
            }
            RequestBody::Broadcast { data, opts, .. } => {
                if from_self || self.core.is_own_request(request_id) {
                    return;
                }
                self.answer_broadcast_with_ack(data, opts, uid, request_id);
            }
            _ => {}
        }
    }

    /// The answer to a SOCKETS, ALL_ROOMS or REMOTE_FETCH request.
    fn answer_query(&self, request: &RequestBody) -> ResponseBody {
        match request {
            RequestBody::Sockets { rooms } if rooms.targets_nothing => {
                ResponseBody::SocketIds(Vec::new())
            }
            RequestBody::Sockets { rooms } => ResponseBody::SocketIds(
                self.local_socket_infos(&rooms.rooms, &[])
                    .into_iter()
                    .map(|s| s.id)
                    .collect(),
            ),
            RequestBody::AllRooms => ResponseBody::Rooms(self.local_rooms()),
            RequestBody::RemoteFetch { opts } if opts.targets_nothing => {
                ResponseBody::Sockets(Vec::new())
            }
            RequestBody::RemoteFetch { opts } => {
                ResponseBody::Sockets(self.local_socket_infos(&opts.rooms, &opts.except))
            }
            // Not a query: answered as an empty fetch, never reached.
            _ => ResponseBody::Sockets(Vec::new()),
        }
    }

    fn apply_remote_membership(
        &self,
        action: Membership,
        target: &MembershipTarget,
        uid: Option<&str>,
        request_id: Option<&str>,
    ) {
        let Some(ns) = self.namespace() else { return };
        let mut reply = None;
        let (options, rooms) = match target {
            MembershipTarget::Sockets { opts, rooms } => {
                let Some(options) = local_opts(opts) else {
                    return;
                };
                (options, rooms.clone())
            }
            // Legacy 7.x form: one socket id (and one room), answered with `{requestId}`.
            MembershipTarget::LegacySocket { sid, room } => {
                if ns.socket(sid).is_none() {
                    return;
                }
                reply = request_id.map(|id| {
                    let response = Response {
                        request_id: id.to_owned(),
                        body: ResponseBody::Done,
                    };
                    (self.core.reply_channel(uid), response.encode())
                });
                let options = BroadcastOptions {
                    rooms: vec![sid.clone()],
                    except: Vec::new(),
                    local: true,
                };
                (options, room.iter().cloned().collect())
            }
        };
        // At once, in the subscriber's order, like broadcasts: a join followed
        // by a broadcast to the room must find the socket in it.
        for socket in ns.local_targets(&options) {
            match action {
                Membership::Join => socket.join(&rooms),
                Membership::Leave => socket.leave(&rooms),
                Membership::Disconnect { .. } => socket.disconnect(),
            }
        }
        if let Some((channel, body)) = reply {
            self.core.publish_detached(channel, body);
        }
    }

    fn dispatch_server_side_emit(&self, data: &[Mp], request_id: Option<&str>) {
        let mut items = data.iter().cloned().map(mp_to_json);
        let Some(serde_json::Value::String(event)) = items.next() else {
            return;
        };
        let args: Vec<serde_json::Value> = items.collect();
        let handlers = self
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

    fn answer_broadcast_with_ack(
        &self,
        data: &[Mp],
        opts: &WireOpts,
        uid: Option<&str>,
        request_id: Option<&str>,
    ) {
        let (Some(id), Some(ns)) = (request_id.map(str::to_owned), self.namespace()) else {
            return;
        };
        let timeout = opts
            .flag("timeout")
            .and_then(Mp::as_u64)
            .map_or(Duration::from_secs(5), Duration::from_millis);
        let reply_channel = self.core.reply_channel(uid);
        let mut data = data.iter().cloned();
        let event = data
            .next()
            .and_then(|e| e.as_str().map(str::to_owned))
            .unwrap_or_default();
        let args = mp_to_args(data.collect());
        let options = local_opts(opts);
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
            let count_body = Response {
                request_id: id.clone(),
                body: ResponseBody::BroadcastClientCount(count as u64),
            }
            .encode();
            if let Err(e) = core.publish(&reply_channel, count_body).await {
                return tracing::warn!(error = %e, "client count not published");
            }
            let Some(acks) = acks.as_mut() else { return };
            while let Some((_sid, result)) = acks.next().await {
                let Ok(args) = result else { continue };
                let first = args_to_mp(&args).into_iter().next().unwrap_or(Mp::Nil);
                let body = Response {
                    request_id: id.clone(),
                    body: ResponseBody::BroadcastAck(first),
                }
                .encode();
                if let Err(e) = core.publish(&reply_channel, body).await {
                    tracing::warn!(error = %e, "ack not published");
                }
            }
        });
    }
}
