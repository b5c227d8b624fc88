//! Typed requests and responses of the classic `@socket.io/redis-adapter` 8.3
//! protocol. A request is decoded once from Node's numeric `type` field into a
//! [`Request`]; a response is decoded once, after its `requestId` named the
//! request it answers, into a [`Response`]. Both encode back to the bytes Node
//! writes: JSON for everything but broadcasts with acks and their acks
//! (msgpack), keys in Node's order.

use rmpv::Value as Mp;

use crate::error::RedisAdapterError;
use crate::info::SocketInfo;
use crate::value::{json_to_mp, mp_to_json};
use crate::wire::{
    self, WireOpts, field, map, names_no_room, packet_value, str_array, str_field, string_list,
    to_json, to_msgpack,
};

/// `RequestType` of `@socket.io/redis-adapter` `lib/index.ts` (the number on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestType {
    Sockets = 0,
    AllRooms = 1,
    RemoteJoin = 2,
    RemoteLeave = 3,
    RemoteDisconnect = 4,
    RemoteFetch = 5,
    ServerSideEmit = 6,
    Broadcast = 7,
    BroadcastClientCount = 8,
    BroadcastAck = 9,
}

impl RequestType {
    /// The type a wire number names, if any.
    pub(crate) fn from_wire(number: u64) -> Option<Self> {
        use RequestType::*;
        [
            Sockets,
            AllRooms,
            RemoteJoin,
            RemoteLeave,
            RemoteDisconnect,
            RemoteFetch,
            ServerSideEmit,
            Broadcast,
            BroadcastClientCount,
            BroadcastAck,
        ]
        .into_iter()
        .find(|t| *t as u64 == number)
    }

    fn value(self) -> Mp {
        Mp::from(self as u64)
    }
}

/// What a join, leave or disconnect request does to the sockets it targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Membership {
    Join,
    Leave,
    /// `close`: whether the underlying connection closes too (on the wire,
    /// not acted upon: a socket of this engine disconnects either way).
    Disconnect {
        close: bool,
    },
}

/// Which sockets a membership request targets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MembershipTarget {
    /// The 8.x form: `{opts: {rooms, except}}` and, for join and leave, `rooms`.
    Sockets { opts: WireOpts, rooms: Vec<String> },
    /// The 7.x form: one socket id and, for join and leave, one `room`;
    /// answered with `{requestId}`.
    LegacySocket { sid: String, room: Option<String> },
}

/// What a request asks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RequestBody {
    /// The ids of the sockets in `rooms` (`except` and flags are not sent).
    Sockets { rooms: WireOpts },
    /// Every room of the server.
    AllRooms,
    /// Join, leave or disconnect.
    Membership {
        action: Membership,
        target: MembershipTarget,
    },
    /// The sockets matching `opts`, with their details.
    RemoteFetch { opts: WireOpts },
    /// `serverSideEmit`: `[event, ...args]`.
    ServerSideEmit { data: Vec<Mp> },
    /// A broadcast whose clients' acks travel back: `packet.data` is `[event, ...args]`.
    Broadcast {
        data: Vec<Mp>,
        nsp: String,
        opts: WireOpts,
    },
}

/// A request on the `K-request#N#` channel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    /// The sending server (absent from the emitter's membership requests).
    pub(crate) uid: Option<String>,
    /// Present when the sender waits for answers.
    pub(crate) request_id: Option<String>,
    pub(crate) body: RequestBody,
}

impl Request {
    /// Decodes a request (JSON or msgpack). `Ok(None)`: a type this server
    /// does not answer, or a body without what its type needs (ignored, as
    /// Node does).
    pub(crate) fn decode(payload: &[u8]) -> Result<Option<Self>, RedisAdapterError> {
        let value = wire::decode_any(payload)?;
        Ok(Self::from_value(&value))
    }

    fn from_value(value: &Mp) -> Option<Self> {
        let kind = RequestType::from_wire(field(value, "type")?.as_u64()?)?;
        let body = match kind {
            RequestType::Sockets => RequestBody::Sockets {
                rooms: WireOpts {
                    rooms: string_list(field(value, "rooms")),
                    targets_nothing: names_no_room(field(value, "rooms")),
                    ..WireOpts::default()
                },
            },
            RequestType::AllRooms => RequestBody::AllRooms,
            RequestType::RemoteJoin => membership(value, Membership::Join)?,
            RequestType::RemoteLeave => membership(value, Membership::Leave)?,
            RequestType::RemoteDisconnect => {
                let close = field(value, "close").and_then(Mp::as_bool) == Some(true);
                membership(value, Membership::Disconnect { close })?
            }
            RequestType::RemoteFetch => RequestBody::RemoteFetch {
                opts: WireOpts::from_value(field(value, "opts")),
            },
            RequestType::ServerSideEmit => match field(value, "data") {
                Some(Mp::Array(data)) => RequestBody::ServerSideEmit { data: data.clone() },
                _ => return None,
            },
            RequestType::Broadcast => {
                let packet = field(value, "packet");
                let Some(Mp::Array(data)) = packet.and_then(|p| field(p, "data")) else {
                    return None;
                };
                RequestBody::Broadcast {
                    data: data.clone(),
                    nsp: packet
                        .and_then(|p| str_field(p, "nsp"))
                        .unwrap_or("/")
                        .to_owned(),
                    opts: WireOpts::from_value(field(value, "opts")),
                }
            }
            RequestType::BroadcastClientCount | RequestType::BroadcastAck => return None,
        };
        Some(Self {
            uid: str_field(value, "uid").map(str::to_owned),
            request_id: str_field(value, "requestId").map(str::to_owned),
            body,
        })
    }

    /// The wire type of the request.
    pub(crate) fn kind(&self) -> RequestType {
        match &self.body {
            RequestBody::Sockets { .. } => RequestType::Sockets,
            RequestBody::AllRooms => RequestType::AllRooms,
            RequestBody::Membership { action, .. } => match action {
                Membership::Join => RequestType::RemoteJoin,
                Membership::Leave => RequestType::RemoteLeave,
                Membership::Disconnect { .. } => RequestType::RemoteDisconnect,
            },
            RequestBody::RemoteFetch { .. } => RequestType::RemoteFetch,
            RequestBody::ServerSideEmit { .. } => RequestType::ServerSideEmit,
            RequestBody::Broadcast { .. } => RequestType::Broadcast,
        }
    }

    /// Encodes `{uid, requestId, type, ...}` (`uid` and `requestId` when
    /// present): msgpack for a broadcast, JSON otherwise.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut entries = Vec::with_capacity(5);
        let mut put = |key: &str, value: Mp| entries.push((Mp::from(key), value));
        if let Some(uid) = &self.uid {
            put("uid", Mp::from(uid.as_str()));
        }
        if let Some(id) = &self.request_id {
            put("requestId", Mp::from(id.as_str()));
        }
        put("type", self.kind().value());
        match &self.body {
            RequestBody::Sockets { rooms } => put("rooms", str_array(&rooms.rooms)),
            RequestBody::AllRooms => {}
            RequestBody::Membership { action, target } => match target {
                MembershipTarget::Sockets { opts, rooms } => {
                    put("opts", opts.to_target_value());
                    match action {
                        Membership::Disconnect { close } => put("close", Mp::Boolean(*close)),
                        _ => put("rooms", str_array(rooms)),
                    }
                }
                // 7.x: `{sid, room}` to join or leave, `{sid, close}` to disconnect.
                MembershipTarget::LegacySocket { sid, room } => {
                    put("sid", Mp::from(sid.as_str()));
                    if let Some(room) = room {
                        put("room", Mp::from(room.as_str()));
                    }
                    if let Membership::Disconnect { close } = action {
                        put("close", Mp::Boolean(*close));
                    }
                }
            },
            RequestBody::RemoteFetch { opts } => put("opts", opts.to_target_value()),
            RequestBody::ServerSideEmit { data } => put("data", Mp::Array(data.clone())),
            RequestBody::Broadcast { data, nsp, opts } => {
                put("packet", packet_value(data.clone(), nsp));
                put("opts", opts.to_adapter_value());
                return to_msgpack(&Mp::Map(entries));
            }
        }
        to_json(&Mp::Map(entries))
    }
}

/// Reads a join, leave or disconnect request in either form; `None` for the
/// legacy form without a socket id.
fn membership(value: &Mp, action: Membership) -> Option<RequestBody> {
    let target = match field(value, "opts") {
        Some(opts) => MembershipTarget::Sockets {
            opts: WireOpts::from_value(Some(opts)),
            rooms: string_list(field(value, "rooms")),
        },
        None => MembershipTarget::LegacySocket {
            sid: str_field(value, "sid")?.to_owned(),
            room: str_field(value, "room").map(str::to_owned),
        },
    };
    Some(RequestBody::Membership { action, target })
}

/// What a response carries; which one depends on the request it answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ResponseBody {
    /// To SOCKETS: `{requestId, sockets: [id...]}`.
    SocketIds(Vec<String>),
    /// To ALL_ROOMS: `{requestId, rooms}`.
    Rooms(Vec<String>),
    /// To REMOTE_FETCH: `{requestId, sockets: [{id, handshake, rooms, data}...]}`.
    Sockets(Vec<SocketInfo>),
    /// To a legacy membership request: `{requestId}`.
    Done,
    /// To SERVER_SIDE_EMIT: `{type: 6, requestId, data}`.
    ServerSideEmitAck(serde_json::Value),
    /// To BROADCAST, first: `{type: 8, requestId, clientCount}`.
    BroadcastClientCount(u64),
    /// To BROADCAST, once per client: `{type: 9, requestId, packet}` (msgpack).
    BroadcastAck(Mp),
}

/// A response on `K-response#N#` or `K-response#N#uid#`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Response {
    pub(crate) request_id: String,
    pub(crate) body: ResponseBody,
}

impl Response {
    /// Decodes a response (JSON or msgpack) to a request of this server:
    /// `request_kind` says which request type a `requestId` belongs to (`None`:
    /// not ours). `None`: not ours, or nothing this server waits for (as
    /// Node does, a response to a broadcast counts only by its own `type`).
    pub(crate) fn decode(
        payload: &[u8],
        request_kind: impl FnOnce(&str) -> Option<RequestType>,
    ) -> Option<Self> {
        let value = wire::decode_any(payload).ok()?;
        let request_id = str_field(&value, "requestId")?;
        let body = match request_kind(request_id)? {
            RequestType::Sockets => ResponseBody::SocketIds(string_list(field(&value, "sockets"))),
            RequestType::AllRooms => ResponseBody::Rooms(string_list(field(&value, "rooms"))),
            RequestType::RemoteFetch => ResponseBody::Sockets(socket_infos(&value)),
            RequestType::RemoteJoin | RequestType::RemoteLeave | RequestType::RemoteDisconnect => {
                ResponseBody::Done
            }
            RequestType::ServerSideEmit => ResponseBody::ServerSideEmitAck(
                field(&value, "data")
                    .cloned()
                    .map(mp_to_json)
                    .unwrap_or_default(),
            ),
            RequestType::Broadcast => {
                match field(&value, "type")
                    .and_then(Mp::as_u64)
                    .and_then(RequestType::from_wire)
                {
                    Some(RequestType::BroadcastClientCount) => ResponseBody::BroadcastClientCount(
                        field(&value, "clientCount")
                            .and_then(Mp::as_u64)
                            .unwrap_or(0),
                    ),
                    Some(RequestType::BroadcastAck) => ResponseBody::BroadcastAck(
                        field(&value, "packet").cloned().unwrap_or(Mp::Nil),
                    ),
                    _ => return None,
                }
            }
            RequestType::BroadcastClientCount | RequestType::BroadcastAck => return None,
        };
        Some(Self {
            request_id: request_id.to_owned(),
            body,
        })
    }

    /// Encodes the response as Node writes it.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let id = Mp::from(self.request_id.as_str());
        match &self.body {
            ResponseBody::SocketIds(ids) => {
                to_json(&map([("requestId", id), ("sockets", str_array(ids))]))
            }
            ResponseBody::Rooms(rooms) => {
                to_json(&map([("requestId", id), ("rooms", str_array(rooms))]))
            }
            ResponseBody::Sockets(sockets) => {
                let sockets = sockets
                    .iter()
                    .map(|s| {
                        map([
                            ("id", Mp::from(s.id.as_str())),
                            ("handshake", json_to_mp(s.handshake.clone())),
                            ("rooms", str_array(&s.rooms)),
                            ("data", json_to_mp(s.data.clone())),
                        ])
                    })
                    .collect();
                to_json(&map([("requestId", id), ("sockets", Mp::Array(sockets))]))
            }
            ResponseBody::Done => to_json(&map([("requestId", id)])),
            ResponseBody::ServerSideEmitAck(data) => to_json(&map([
                ("type", RequestType::ServerSideEmit.value()),
                ("requestId", id),
                ("data", json_to_mp(data.clone())),
            ])),
            ResponseBody::BroadcastClientCount(count) => to_json(&map([
                ("type", RequestType::BroadcastClientCount.value()),
                ("requestId", id),
                ("clientCount", Mp::from(*count)),
            ])),
            ResponseBody::BroadcastAck(packet) => to_msgpack(&map([
                ("type", RequestType::BroadcastAck.value()),
                ("requestId", id),
                ("packet", packet.clone()),
            ])),
        }
    }
}

/// The `sockets` of a REMOTE_FETCH response; entries without an id are skipped.
fn socket_infos(value: &Mp) -> Vec<SocketInfo> {
    let Some(Mp::Array(items)) = field(value, "sockets") else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            Some(SocketInfo {
                id: str_field(item, "id")?.to_owned(),
                handshake: field(item, "handshake")
                    .cloned()
                    .map(mp_to_json)
                    .unwrap_or_default(),
                rooms: string_list(field(item, "rooms")),
                data: field(item, "data")
                    .cloned()
                    .map(mp_to_json)
                    .unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `redis_round_trip` fuzz target: the 7.x form of a
    /// disconnect request (`{sid, close}`) lost its `close` on the way out.
    #[test]
    fn a_legacy_disconnect_keeps_its_close_flag() {
        let request = Request {
            uid: Some("u".to_owned()),
            request_id: Some("r".to_owned()),
            body: RequestBody::Membership {
                action: Membership::Disconnect { close: true },
                target: MembershipTarget::LegacySocket {
                    sid: "s".to_owned(),
                    room: None,
                },
            },
        };
        let encoded = request.encode();
        assert_eq!(
            String::from_utf8_lossy(&encoded),
            r#"{"uid":"u","requestId":"r","type":4,"sid":"s","close":true}"#
        );
        assert_eq!(Request::decode(&encoded).ok().flatten(), Some(request));
    }
}
