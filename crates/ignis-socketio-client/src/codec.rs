//! Engine.IO v4 and Socket.IO v5 packet encoding for the client side.
//!
//! Written here rather than taken from `socketioxide-parser-common`, because
//! that parser is built for servers: it rejects packet type `4`
//! (`CONNECT_ERROR`), which is exactly what a server sends a client it
//! refuses, and its values are tied to socketioxide's internal `Value` type.
//! Over WebSocket, Engine.IO sends each packet as one text frame
//! (`<type><data>`) and binary attachments as raw binary frames.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

/// A packet that does not follow the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The frame is empty.
    #[error("empty packet")]
    Empty,
    /// The first character is not a known packet type.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// The attachment count of a binary packet is missing or malformed.
    #[error("malformed attachment count")]
    BadAttachments,
    /// The JSON body does not parse.
    #[error("malformed JSON body: {0}")]
    BadJson(String),
    /// The body parses but does not have the shape the packet type requires.
    #[error("malformed {0} packet")]
    BadShape(&'static str),
}

/// An Engine.IO packet received in a text frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EnginePacket<'a> {
    /// `0{...}`: the handshake.
    Open(OpenPacket),
    /// `1`: the server closes the session.
    Close,
    /// `2[data]`: heartbeat from the server, to answer with a pong.
    Ping(&'a str),
    /// `3[data]`: pong (servers do not send it in v4, tolerated).
    Pong,
    /// `4<socket.io packet>`.
    Message(&'a str),
    /// `5` / `6`: upgrade and noop, meaningless on a WebSocket-only client.
    Noop,
}

/// The Engine.IO handshake sent by the server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OpenPacket {
    /// Engine.IO session id.
    pub(crate) sid: String,
    /// Milliseconds between two server pings.
    pub(crate) ping_interval: u64,
    /// Milliseconds the server waits for a pong.
    pub(crate) ping_timeout: u64,
    /// Largest payload the server accepts, when announced.
    #[serde(default)]
    pub(crate) max_payload: Option<u64>,
}

/// Decodes an Engine.IO text frame.
pub(crate) fn decode_engine(frame: &str) -> Result<EnginePacket<'_>, CodecError> {
    let mut chars = frame.chars();
    let kind = chars.next().ok_or(CodecError::Empty)?;
    let rest = &frame[kind.len_utf8()..];
    match kind {
        '0' => serde_json::from_str(rest)
            .map(EnginePacket::Open)
            .map_err(|e| CodecError::BadJson(e.to_string())),
        '1' => Ok(EnginePacket::Close),
        '2' => Ok(EnginePacket::Ping(rest)),
        '3' => Ok(EnginePacket::Pong),
        '4' => Ok(EnginePacket::Message(rest)),
        '5' | '6' => Ok(EnginePacket::Noop),
        other => Err(CodecError::UnknownType(other)),
    }
}

/// Encodes the pong answering a server ping carrying `data`.
pub(crate) fn encode_pong(data: &str) -> String {
    format!("3{data}")
}

/// Socket.IO packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PacketKind {
    Connect,
    Disconnect,
    Event,
    Ack,
    ConnectError,
    BinaryEvent,
    BinaryAck,
}

impl PacketKind {
    fn digit(self) -> char {
        match self {
            PacketKind::Connect => '0',
            PacketKind::Disconnect => '1',
            PacketKind::Event => '2',
            PacketKind::Ack => '3',
            PacketKind::ConnectError => '4',
            PacketKind::BinaryEvent => '5',
            PacketKind::BinaryAck => '6',
        }
    }

    fn from_digit(c: char) -> Option<Self> {
        Some(match c {
            '0' => PacketKind::Connect,
            '1' => PacketKind::Disconnect,
            '2' => PacketKind::Event,
            '3' => PacketKind::Ack,
            '4' => PacketKind::ConnectError,
            '5' => PacketKind::BinaryEvent,
            '6' => PacketKind::BinaryAck,
            _ => return None,
        })
    }

    fn is_binary(self) -> bool {
        matches!(self, PacketKind::BinaryEvent | PacketKind::BinaryAck)
    }
}

/// A decoded Socket.IO packet, before its binary attachments are filled in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SocketPacket {
    pub(crate) kind: PacketKind,
    pub(crate) namespace: String,
    pub(crate) ack_id: Option<u64>,
    /// Number of binary frames that follow (binary packets only).
    pub(crate) attachments: usize,
    pub(crate) data: Option<Value>,
}

/// Decodes the Socket.IO packet carried by an Engine.IO message.
pub(crate) fn decode_socket(text: &str) -> Result<SocketPacket, CodecError> {
    let kind_char = text.chars().next().ok_or(CodecError::Empty)?;
    let kind = PacketKind::from_digit(kind_char).ok_or(CodecError::UnknownType(kind_char))?;
    let mut rest = &text[1..];

    let mut attachments = 0;
    if kind.is_binary() {
        let dash = rest.find('-').ok_or(CodecError::BadAttachments)?;
        let count = &rest[..dash];
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodecError::BadAttachments);
        }
        attachments = count.parse().map_err(|_| CodecError::BadAttachments)?;
        rest = &rest[dash + 1..];
    }

    let mut namespace = "/".to_owned();
    if rest.starts_with('/') {
        let end = rest.find(',').unwrap_or(rest.len());
        namespace = rest[..end].to_owned();
        rest = rest.get(end + 1..).unwrap_or("");
    }

    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let ack_id = if digits > 0 {
        let id = rest[..digits]
            .parse()
            .map_err(|_| CodecError::BadShape("ack id"))?;
        rest = &rest[digits..];
        Some(id)
    } else {
        None
    };

    let data = if rest.is_empty() {
        None
    } else {
        Some(serde_json::from_str::<Value>(rest).map_err(|e| CodecError::BadJson(e.to_string()))?)
    };

    let packet = SocketPacket {
        kind,
        namespace,
        ack_id,
        attachments,
        data,
    };
    validate_shape(&packet)?;
    Ok(packet)
}

fn validate_shape(packet: &SocketPacket) -> Result<(), CodecError> {
    match packet.kind {
        PacketKind::Event | PacketKind::BinaryEvent => match &packet.data {
            Some(Value::Array(items)) if matches!(items.first(), Some(Value::String(_))) => Ok(()),
            _ => Err(CodecError::BadShape("event")),
        },
        PacketKind::Ack | PacketKind::BinaryAck => match (&packet.data, packet.ack_id) {
            (Some(Value::Array(_)), Some(_)) => Ok(()),
            _ => Err(CodecError::BadShape("ack")),
        },
        PacketKind::Connect => match &packet.data {
            None | Some(Value::Object(_)) => Ok(()),
            _ => Err(CodecError::BadShape("connect")),
        },
        PacketKind::ConnectError | PacketKind::Disconnect => Ok(()),
    }
}

/// Encodes a Socket.IO packet as the text of an Engine.IO message (`4` prefix included).
pub(crate) fn encode_socket(
    kind: PacketKind,
    namespace: &str,
    ack_id: Option<u64>,
    attachments: usize,
    data: Option<&Value>,
) -> String {
    let mut out = String::with_capacity(32);
    out.push('4');
    out.push(kind.digit());
    if kind.is_binary() {
        out.push_str(&attachments.to_string());
        out.push('-');
    }
    if namespace != "/" {
        out.push_str(namespace);
        out.push(',');
    }
    if let Some(id) = ack_id {
        out.push_str(&id.to_string());
    }
    if let Some(data) = data {
        // Serializing a serde_json::Value cannot fail: its keys are strings.
        out.push_str(&serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned()));
    }
    out
}

/// The JSON object a binary attachment is replaced with in the packet body.
pub(crate) fn placeholder(num: usize) -> Value {
    serde_json::json!({ "_placeholder": true, "num": num })
}

/// The attachment index of `value` when it is a binary placeholder.
pub(crate) fn placeholder_index(value: &Value) -> Option<usize> {
    let object = value.as_object()?;
    if object.get("_placeholder")?.as_bool()? {
        usize::try_from(object.get("num")?.as_u64()?).ok()
    } else {
        None
    }
}

/// Checks that every placeholder in `value` points at one of `count` attachments.
pub(crate) fn placeholders_in_range(value: &Value, count: usize) -> bool {
    if let Some(index) = placeholder_index(value) {
        return index < count;
    }
    match value {
        Value::Array(items) => items.iter().all(|v| placeholders_in_range(v, count)),
        Value::Object(map) => map.values().all(|v| placeholders_in_range(v, count)),
        _ => true,
    }
}

/// A binary packet waiting for its attachments.
#[derive(Debug)]
pub(crate) struct PendingBinary {
    pub(crate) packet: SocketPacket,
    pub(crate) received: Vec<Bytes>,
}

impl PendingBinary {
    pub(crate) fn is_complete(&self) -> bool {
        self.received.len() >= self.packet.attachments
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn open_packet_parses_heartbeat_settings() {
        let p = decode_engine(
            r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        )
        .unwrap();
        let EnginePacket::Open(open) = p else {
            panic!("not open: {p:?}")
        };
        assert_eq!(open.sid, "abc");
        assert_eq!(open.ping_interval, 25000);
        assert_eq!(open.ping_timeout, 20000);
        assert_eq!(open.max_payload, Some(1_000_000));
    }

    #[test]
    fn engine_ping_and_message_and_garbage() {
        assert_eq!(decode_engine("2").unwrap(), EnginePacket::Ping(""));
        assert_eq!(
            decode_engine("2probe").unwrap(),
            EnginePacket::Ping("probe")
        );
        assert_eq!(encode_pong("probe"), "3probe");
        assert_eq!(
            decode_engine("42[\"a\"]").unwrap(),
            EnginePacket::Message("2[\"a\"]")
        );
        assert_eq!(decode_engine(""), Err(CodecError::Empty));
        assert_eq!(decode_engine("x"), Err(CodecError::UnknownType('x')));
        assert_eq!(decode_engine("é"), Err(CodecError::UnknownType('é')));
        assert!(matches!(
            decode_engine("0{not json"),
            Err(CodecError::BadJson(_))
        ));
    }

    #[test]
    fn connect_ack_and_connect_error_decode() {
        let p = decode_socket(r#"0{"sid":"xyz"}"#).unwrap();
        assert_eq!(p.kind, PacketKind::Connect);
        assert_eq!(p.data, Some(json!({"sid": "xyz"})));
        let p = decode_socket(r#"4{"message":"Not authorized"}"#).unwrap();
        assert_eq!(p.kind, PacketKind::ConnectError);
        assert_eq!(p.data, Some(json!({"message": "Not authorized"})));
        let p = decode_socket(r#"0/admin,{"sid":"q"}"#).unwrap();
        assert_eq!(p.namespace, "/admin");
    }

    #[test]
    fn event_with_and_without_ack_id() {
        let p = decode_socket(r#"2["hello",{"a":1},2]"#).unwrap();
        assert_eq!(p.kind, PacketKind::Event);
        assert_eq!(p.ack_id, None);
        assert_eq!(p.data, Some(json!(["hello", {"a": 1}, 2])));
        let p = decode_socket(r#"2/chat,12["hello"]"#).unwrap();
        assert_eq!(p.namespace, "/chat");
        assert_eq!(p.ack_id, Some(12));
        let p = decode_socket(r#"37[{"joined":["r"]}]"#).unwrap();
        assert_eq!(p.kind, PacketKind::Ack);
        assert_eq!(p.ack_id, Some(7));
    }

    #[test]
    fn binary_event_header_decodes() {
        let p = decode_socket(
            r#"52-3["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        )
        .unwrap();
        assert_eq!(p.kind, PacketKind::BinaryEvent);
        assert_eq!(p.attachments, 2);
        assert_eq!(p.ack_id, Some(3));
        let data = p.data.unwrap();
        assert_eq!(placeholder_index(&data[1]), Some(0));
        assert!(placeholders_in_range(&data, 2));
        assert!(!placeholders_in_range(&data, 1));
    }

    #[test]
    fn malformed_socket_packets_are_errors() {
        for bad in [
            "",
            "9",
            "2",
            "2{}",
            "2[1]",
            "2[\"a\"",
            "3[1]",
            "5[\"a\"]",
            "5x-[\"a\"]",
            "0[1]",
            "2/é,[\"é\"]x",
        ] {
            assert!(decode_socket(bad).is_err(), "{bad:?} should not decode");
        }
        // Multibyte namespaces must not panic.
        let _ = decode_socket("2/é,[\"é\"]");
        let _ = decode_socket("2/é");
    }

    #[test]
    fn encode_round_trips() {
        let data = json!(["ev", {"x": [1, 2]}]);
        let text = encode_socket(PacketKind::Event, "/", Some(5), 0, Some(&data));
        assert_eq!(text, r#"425["ev",{"x":[1,2]}]"#);
        let back = decode_socket(&text[1..]).unwrap();
        assert_eq!(back.data, Some(data));
        assert_eq!(back.ack_id, Some(5));

        let bin = json!(["ev", placeholder(0)]);
        let text = encode_socket(PacketKind::BinaryEvent, "/ns", None, 1, Some(&bin));
        assert_eq!(text, r#"451-/ns,["ev",{"_placeholder":true,"num":0}]"#);
        let back = decode_socket(&text[1..]).unwrap();
        assert_eq!(back.attachments, 1);
        assert_eq!(back.namespace, "/ns");

        assert_eq!(encode_socket(PacketKind::Connect, "/", None, 0, None), "40");
        assert_eq!(
            encode_socket(PacketKind::Disconnect, "/", None, 0, None),
            "41"
        );
        assert_eq!(
            encode_socket(PacketKind::Ack, "/", Some(9), 0, Some(&json!([true]))),
            "439[true]"
        );
    }
}
