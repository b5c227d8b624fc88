//! The classic `@socket.io/redis-adapter` 8.3 wire format: channel names, the
//! encodings (msgpack for broadcasts and ack traffic, JSON for the other
//! requests and responses), broadcasts and their targeting. Requests and
//! responses are typed in `message.rs`. Messages are built as ordered msgpack maps so
//! that both encodings keep Node's key order.

use rand::Rng;
use rmpv::Value as Mp;

use crate::error::{Malformed, RedisAdapterError};

/// The uid the Node emitter writes in broadcasts and server-side emits.
pub(crate) const EMITTER_UID: &str = "emitter";

/// The channel names of one namespace under one key prefix.
#[derive(Debug, Clone)]
pub(crate) struct Channels {
    /// `K#N#`: broadcasts to zero or several rooms; a single room appends `room#`.
    pub(crate) broadcast: String,
    /// `K#N#*`: the pattern every server PSUBSCRIBEs.
    pub(crate) broadcast_pattern: String,
    /// `K-request#N#`: every request, SUBSCRIBEd (counted by `PUBSUB NUMSUB`).
    pub(crate) request: String,
    /// `K-response#N#`: the generic response channel.
    pub(crate) response: String,
}

impl Channels {
    pub(crate) fn new(key: &str, nsp: &str) -> Self {
        Self {
            broadcast: format!("{key}#{nsp}#"),
            broadcast_pattern: format!("{key}#{nsp}#*"),
            request: format!("{key}-request#{nsp}#"),
            response: format!("{key}-response#{nsp}#"),
        }
    }

    /// `K-response#N#uid#`: the responses aimed at one server.
    pub(crate) fn specific_response(&self, uid: &str) -> String {
        format!("{}{uid}#", self.response)
    }

    /// The channel a broadcast goes to: the room channel iff exactly one room.
    pub(crate) fn broadcast_channel(&self, rooms: &[String]) -> String {
        match rooms {
            [room] => format!("{}{room}#", self.broadcast),
            _ => self.broadcast.clone(),
        }
    }
}

/// A random id from the `uid2` alphabet (`A-Za-z0-9-_`).
pub(crate) fn random_id(len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..64)] as char)
        .collect()
}

/// Builds an ordered msgpack map from `(key, value)` pairs.
pub(crate) fn map<const N: usize>(entries: [(&str, Mp); N]) -> Mp {
    Mp::Map(entries.into_iter().map(|(k, v)| (Mp::from(k), v)).collect())
}

/// A list of strings as a msgpack array.
pub(crate) fn str_array(items: &[String]) -> Mp {
    Mp::Array(items.iter().map(|s| Mp::from(s.as_str())).collect())
}

/// Encodes a message as msgpack (notepack-compatible smallest encodings).
pub(crate) fn to_msgpack(value: &Mp) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, value);
    out
}

/// Encodes a message as JSON text, keeping the map key order.
pub(crate) fn to_json(value: &Mp) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// Decodes a request or response: JSON when it starts with `{`, msgpack otherwise
/// (the sniffing Node's adapter does).
pub(crate) fn decode_any(payload: &[u8]) -> Result<Mp, RedisAdapterError> {
    if payload.first() == Some(&b'{') {
        let json: serde_json::Value = serde_json::from_slice(payload).map_err(Malformed::Json)?;
        Ok(crate::value::json_to_mp(json))
    } else {
        decode_msgpack(payload)
    }
}

/// Decodes one msgpack value.
pub(crate) fn decode_msgpack(payload: &[u8]) -> Result<Mp, RedisAdapterError> {
    let mut reader = payload;
    rmpv::decode::read_value(&mut reader).map_err(|e| Malformed::Msgpack(e).into())
}

/// Looks a key up in a msgpack map.
pub(crate) fn field<'a>(value: &'a Mp, name: &str) -> Option<&'a Mp> {
    value
        .as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(name))
        .map(|(_, v)| v)
}

/// Reads a string field.
pub(crate) fn str_field<'a>(value: &'a Mp, name: &str) -> Option<&'a str> {
    field(value, name)?.as_str()
}

/// Reads a list of strings (`rooms`, `except`); anything else is ignored.
/// Numbers are accepted as their text, since Node rooms may be numbers.
pub(crate) fn string_list(value: Option<&Mp>) -> Vec<String> {
    match value {
        Some(Mp::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Mp::String(s) => s.as_str().map(str::to_owned),
                Mp::Integer(i) => Some(i.to_string()),
                Mp::F64(f) => Some(f.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a target list names rooms but none that a socket can be in: a
/// non-empty array whose entries are all unreadable (Node's `io.in(undefined)`
/// publishes `rooms: [null]`). Node matches no socket then; dropping the
/// entries would turn it into "every socket".
pub(crate) fn names_no_room(value: Option<&Mp>) -> bool {
    match value {
        Some(Mp::Array(items)) => !items.is_empty() && string_list(value).is_empty(),
        _ => false,
    }
}

/// Broadcast targeting as it travels on the wire.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct WireOpts {
    pub(crate) rooms: Vec<String>,
    /// `rooms` was a non-empty list without one usable name: the target is no
    /// socket at all, not every socket (see [`names_no_room`]).
    pub(crate) targets_nothing: bool,
    pub(crate) except: Vec<String>,
    /// The whole `flags` object, in its order (`volatile`, `compress`, `timeout`...).
    pub(crate) flags: Vec<(String, Mp)>,
}

impl WireOpts {
    pub(crate) fn flag(&self, name: &str) -> Option<&Mp> {
        self.flags.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn flags_value(&self) -> Mp {
        Mp::Map(
            self.flags
                .iter()
                .map(|(k, v)| (Mp::from(k.as_str()), v.clone()))
                .collect(),
        )
    }

    /// `{rooms, except, flags}`: the adapter's key order.
    pub(crate) fn to_adapter_value(&self) -> Mp {
        map([
            ("rooms", str_array(&self.rooms)),
            ("except", str_array(&self.except)),
            ("flags", self.flags_value()),
        ])
    }

    /// `{rooms, flags, except}`: the emitter's key order.
    pub(crate) fn to_emitter_value(&self) -> Mp {
        map([
            ("rooms", str_array(&self.rooms)),
            ("flags", self.flags_value()),
            ("except", str_array(&self.except)),
        ])
    }

    /// `{rooms, except}`: the targeting of join, leave, disconnect and fetch requests.
    pub(crate) fn to_target_value(&self) -> Mp {
        map([
            ("rooms", str_array(&self.rooms)),
            ("except", str_array(&self.except)),
        ])
    }

    /// Reads `{rooms, except, flags}`; every key is optional.
    pub(crate) fn from_value(value: Option<&Mp>) -> Self {
        let Some(value) = value else {
            return Self::default();
        };
        let flags = match field(value, "flags") {
            Some(Mp::Map(entries)) => entries
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.clone())))
                .collect(),
            _ => Vec::new(),
        };
        Self {
            rooms: string_list(field(value, "rooms")),
            targets_nothing: names_no_room(field(value, "rooms")),
            except: string_list(field(value, "except")),
            flags,
        }
    }
}

/// The socket.io packet object Node puts in Redis: `{type: 2, data, nsp}`.
pub(crate) fn packet_value(data: Vec<Mp>, nsp: &str) -> Mp {
    map([
        ("type", Mp::from(2)),
        ("data", Mp::Array(data)),
        ("nsp", Mp::from(nsp)),
    ])
}

/// A broadcast message `[uid, packet, opts]` as received.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BroadcastMessage {
    pub(crate) uid: String,
    /// `packet.data`: `[event, ...args]`.
    pub(crate) data: Vec<Mp>,
    /// `packet.nsp`, `/` when missing.
    pub(crate) nsp: String,
    pub(crate) opts: WireOpts,
}

impl BroadcastMessage {
    /// Decodes a broadcast; they are always msgpack.
    pub(crate) fn decode(payload: &[u8]) -> Result<Self, RedisAdapterError> {
        let value = decode_msgpack(payload)?;
        let Mp::Array(mut parts) = value else {
            return Err(Malformed::Shape("broadcast is not an array").into());
        };
        if parts.len() < 2 {
            return Err(Malformed::Shape("broadcast array too short").into());
        }
        let opts = if parts.len() > 2 {
            WireOpts::from_value(Some(&parts[2]))
        } else {
            WireOpts::default()
        };
        parts.truncate(2);
        let packet = parts.pop().unwrap_or(Mp::Nil);
        let uid = parts
            .pop()
            .and_then(|u| u.as_str().map(str::to_owned))
            .unwrap_or_default();
        let data = match field(&packet, "data") {
            Some(Mp::Array(items)) => items.clone(),
            _ => {
                return Err(Malformed::Shape("broadcast packet has no data array").into());
            }
        };
        let nsp = str_field(&packet, "nsp").unwrap_or("/").to_owned();
        Ok(Self {
            uid,
            data,
            nsp,
            opts,
        })
    }

    /// Encodes `[uid, {type:2,data,nsp}, opts]`; `emitter_order` selects the
    /// emitter's `{rooms, flags, except}` key order.
    pub(crate) fn encode(&self, emitter_order: bool) -> Vec<u8> {
        let opts = if emitter_order {
            self.opts.to_emitter_value()
        } else {
            self.opts.to_adapter_value()
        };
        to_msgpack(&Mp::Array(vec![
            Mp::from(self.uid.as_str()),
            packet_value(self.data.clone(), &self.nsp),
            opts,
        ]))
    }
}
