//! Socket.IO v5 packets, carried in Engine.IO messages:
//! `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`, each binary
//! attachment following as a binary message of its own.

use bytes::Bytes;
use serde::de::{Deserialize, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::Value;

use super::CodecError;

/// The event names a peer may not emit (Socket.IO reserves them).
pub use ignis_socketio_protocol::RESERVED_EVENTS;

/// The longest acknowledgement id accepted, in digits (ids are `u64`).
const MAX_ACK_ID_DIGITS: usize = 19;

/// The type of a Socket.IO packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// `0`: join a namespace (client), or the server's answer with `{sid}`.
    Connect,
    /// `1`: leave a namespace.
    Disconnect,
    /// `2`: an event `[name, ...args]`.
    Event,
    /// `3`: an acknowledgement `[...args]`.
    Ack,
    /// `4`: the server refuses a CONNECT.
    ConnectError,
    /// `5`: an event with binary attachments.
    BinaryEvent,
    /// `6`: an acknowledgement with binary attachments.
    BinaryAck,
}

impl PacketKind {
    fn from_digit(c: u8) -> Option<PacketKind> {
        Some(match c {
            b'0' => PacketKind::Connect,
            b'1' => PacketKind::Disconnect,
            b'2' => PacketKind::Event,
            b'3' => PacketKind::Ack,
            b'4' => PacketKind::ConnectError,
            b'5' => PacketKind::BinaryEvent,
            b'6' => PacketKind::BinaryAck,
            _ => return None,
        })
    }

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

    /// Whether attachments follow the packet.
    pub fn is_binary(self) -> bool {
        matches!(self, PacketKind::BinaryEvent | PacketKind::BinaryAck)
    }
}

/// A Socket.IO packet's text part.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketPacket {
    /// Its type.
    pub kind: PacketKind,
    /// Its namespace (`/` when the text names none).
    pub nsp: String,
    /// Its acknowledgement id, if it asks for (or answers) one.
    pub id: Option<u64>,
    /// Its JSON body, if any.
    pub data: Option<Value>,
    /// How many binary attachments follow it.
    pub attachments: usize,
}

impl SocketPacket {
    /// A packet of `kind` on `nsp` with `data`.
    pub fn new(kind: PacketKind, nsp: &str, data: Option<Value>) -> SocketPacket {
        SocketPacket {
            kind,
            nsp: nsp.to_owned(),
            id: None,
            data,
            attachments: 0,
        }
    }

    /// Decodes the text part and checks that its body has the shape its type
    /// requires (what Node's parser accepts).
    pub fn decode(text: &str) -> Result<SocketPacket, CodecError> {
        let bytes = text.as_bytes();
        let first = *bytes.first().ok_or(CodecError::Empty)?;
        let kind = PacketKind::from_digit(first).ok_or(CodecError::UnknownType(first as char))?;
        let mut at = 1;
        let mut attachments = 0;
        if kind.is_binary() {
            let dash = text[at..].find('-').ok_or(CodecError::BadAttachments)?;
            attachments = text[at..at + dash]
                .parse::<usize>()
                .map_err(|_| CodecError::BadAttachments)?;
            at += dash + 1;
        }
        let mut nsp = "/";
        if bytes.get(at) == Some(&b'/') {
            let end = text[at..].find(',').map_or(text.len(), |i| at + i);
            nsp = &text[at..end];
            at = (end + 1).min(text.len());
        }
        let digits = bytes[at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let mut id = None;
        if digits > 0 {
            if digits > MAX_ACK_ID_DIGITS {
                return Err(CodecError::BadAckId);
            }
            id = Some(
                text[at..at + digits]
                    .parse::<u64>()
                    .map_err(|_| CodecError::BadAckId)?,
            );
            at += digits;
        }
        let data = if at < text.len() {
            match serde_json::from_str::<Value>(&text[at..]) {
                Ok(data) => Some(data),
                Err(error) => {
                    let unreadable = UnreadableEvent {
                        nsp: nsp.to_owned(),
                        id,
                        name: None,
                        attachments,
                        reason: error.to_string(),
                    };
                    return Err(unreadable.of_body(kind, &text[at..]));
                }
            }
        } else {
            None
        };
        let packet = SocketPacket {
            kind,
            nsp: nsp.to_owned(),
            id,
            data,
            attachments,
        };
        packet.check_shape()?;
        Ok(packet)
    }

    fn check_shape(&self) -> Result<(), CodecError> {
        let ok = match (self.kind, &self.data) {
            (PacketKind::Connect, None | Some(Value::Object(_))) => true,
            (PacketKind::Disconnect, None) => true,
            (PacketKind::ConnectError, Some(Value::Object(_) | Value::String(_))) => true,
            (PacketKind::Event | PacketKind::BinaryEvent, Some(Value::Array(args))) => {
                matches!(args.first(), Some(Value::String(name)) if !RESERVED_EVENTS.contains(&name.as_str()))
            }
            (PacketKind::Ack | PacketKind::BinaryAck, Some(Value::Array(_))) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(CodecError::BadShape(self.kind))
        }
    }

    /// The text part of the packet.
    pub fn encode(&self) -> String {
        let body = self.data.as_ref().map(Value::to_string).unwrap_or_default();
        let mut out = String::with_capacity(body.len() + self.nsp.len() + 24);
        out.push(self.kind.digit());
        if self.kind.is_binary() {
            out.push_str(&self.attachments.to_string());
            out.push('-');
        }
        if self.nsp != "/" {
            out.push_str(&self.nsp);
            out.push(',');
        }
        if let Some(id) = self.id {
            out.push_str(&id.to_string());
        }
        out.push_str(&body);
        out
    }
}

/// An event whose header reads but whose data does not, though it is well
/// formed JSON: nested deeper than 128 levels, or a string with an escape
/// that is no Unicode character (a lone surrogate such as `"\ud800"`), or a
/// binary placeholder that names no attachment. Node's parser reads the
/// first two; here they cannot be represented, so the event is refused
/// (answered with an error when it asks for an acknowledgement) rather than
/// handed over with data missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableEvent {
    /// Its namespace.
    pub nsp: String,
    /// Its acknowledgement id, if it asks for one.
    pub id: Option<u64>,
    /// Its name, when the name itself reads.
    pub name: Option<String>,
    /// How many binary attachments follow it.
    pub attachments: usize,
    /// Why the data does not read.
    pub reason: String,
}

impl UnreadableEvent {
    /// The error for a body that did not parse: [`CodecError::Unreadable`]
    /// when the packet is an event and the body is well-formed JSON (an
    /// array starting with a string), else [`CodecError::BadJson`].
    fn of_body(mut self, kind: PacketKind, body: &str) -> CodecError {
        let is_event = matches!(kind, PacketKind::Event | PacketKind::BinaryEvent);
        // Well-formed: the parse that skips values checks no depth and no
        // escape's meaning, only the JSON syntax.
        let well_formed = serde_json::from_str::<IgnoredAny>(body).is_ok();
        let starts_with_name = body
            .trim_start()
            .strip_prefix('[')
            .is_some_and(|rest| rest.trim_start().starts_with('"'));
        if !(is_event && well_formed && starts_with_name) {
            return CodecError::BadJson(self.reason);
        }
        self.name = serde_json::from_str::<EventName>(body)
            .ok()
            .map(|EventName(name)| name);
        if self
            .name
            .as_deref()
            .is_some_and(|name| RESERVED_EVENTS.contains(&name))
        {
            return CodecError::BadShape(kind);
        }
        CodecError::Unreadable(Box::new(self))
    }
}

/// The first element of an event's array, its name; the rest is skipped
/// unread.
struct EventName(String);

impl<'de> Deserialize<'de> for EventName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = EventName;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array starting with a string")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EventName, A::Error> {
                let name: String = seq
                    .next_element()?
                    .ok_or_else(|| serde::de::Error::invalid_length(0, &self))?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(EventName(name))
            }
        }
        deserializer.deserialize_seq(Visit)
    }
}

/// The arguments of an event or acknowledgement: JSON values in which binary
/// data stands as placeholders `{"_placeholder":true,"num":N}`, and the
/// attachments those placeholders refer to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    /// The JSON arguments, placeholders included.
    pub values: Vec<Value>,
    /// The binary attachments, in placeholder order.
    pub attachments: Vec<Bytes>,
}

impl Args {
    /// Arguments without binary data.
    pub fn json(values: Vec<Value>) -> Args {
        Args {
            values,
            attachments: Vec::new(),
        }
    }

    /// The attachment a placeholder value refers to, if it is one.
    pub fn attachment(&self, value: &Value) -> Option<&Bytes> {
        placeholder_index(value).and_then(|i| self.attachments.get(i))
    }

    /// Checks that every placeholder in the values points at an attachment.
    pub fn check_placeholders(&self) -> Result<(), CodecError> {
        fn walk(value: &Value, count: usize, depth: usize) -> Result<(), CodecError> {
            if depth > 128 {
                return Err(CodecError::TooDeep);
            }
            match value {
                Value::Object(map) if map.get("_placeholder") == Some(&Value::Bool(true)) => {
                    match placeholder_index(value) {
                        Some(i) if i < count => Ok(()),
                        _ => Err(CodecError::BadPlaceholder),
                    }
                }
                Value::Object(map) => map.values().try_for_each(|v| walk(v, count, depth + 1)),
                Value::Array(items) => items.iter().try_for_each(|v| walk(v, count, depth + 1)),
                _ => Ok(()),
            }
        }
        let count = self.attachments.len();
        self.values.iter().try_for_each(|v| walk(v, count, 0))
    }
}

/// A placeholder object for attachment `num`.
pub fn placeholder(num: usize) -> Value {
    serde_json::json!({"_placeholder": true, "num": num})
}

/// The attachment index of a placeholder object.
pub fn placeholder_index(value: &Value) -> Option<usize> {
    let map = value.as_object()?;
    if map.get("_placeholder")? != &Value::Bool(true) {
        return None;
    }
    usize::try_from(map.get("num")?.as_u64()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_the_forms_of_the_protocol() {
        let p = SocketPacket::decode("0").unwrap();
        assert_eq!(
            (p.kind, p.nsp.as_str(), p.data),
            (PacketKind::Connect, "/", None)
        );
        let p = SocketPacket::decode("0/custom,{\"token\":\"abc\"}").unwrap();
        assert_eq!(p.nsp, "/custom");
        assert_eq!(p.data, Some(json!({"token": "abc"})));
        let p = SocketPacket::decode("0/custom").unwrap();
        assert_eq!((p.nsp.as_str(), p.data), ("/custom", None));
        let p = SocketPacket::decode("2456[\"m\",1]").unwrap();
        assert_eq!((p.kind, p.id), (PacketKind::Event, Some(456)));
        let p = SocketPacket::decode("52-789[\"m\",{\"_placeholder\":true,\"num\":0}]").unwrap();
        assert_eq!(
            (p.kind, p.attachments, p.id),
            (PacketKind::BinaryEvent, 2, Some(789))
        );
        let p = SocketPacket::decode("3/a,12[]").unwrap();
        assert_eq!(
            (p.kind, p.nsp.as_str(), p.id),
            (PacketKind::Ack, "/a", Some(12))
        );
    }

    #[test]
    fn refuses_what_node_refuses() {
        for bad in [
            "",
            "abc",
            "7",
            "2{}",
            "2[]",
            "2[1]",
            "2abc[\"m\"]",
            "2[\"connect\"]",
            "1{}",
            "5[\"m\"]",
            "5x-[\"m\"]",
            "3{}",
            "0[]",
            "299999999999999999999[\"m\"]",
            "2[\"m\"",
        ] {
            assert!(SocketPacket::decode(bad).is_err(), "{bad:?} decoded");
        }
    }

    #[test]
    fn well_formed_events_whose_data_does_not_read_are_told_apart() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for (text, name, id) in [
            (format!("2[\"m\",{deep}]"), Some("m"), None),
            ("27[\"m\",\"\\ud800\"]".to_owned(), Some("m"), Some(7)),
            ("2/a,[\"\\udc00\"]".to_owned(), None, None),
        ] {
            match SocketPacket::decode(&text) {
                Err(CodecError::Unreadable(event)) => {
                    assert_eq!((event.name.as_deref(), event.id), (name, id), "{text}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        // Malformed JSON, or not an event, stays a protocol error.
        for text in ["2[\"m\",\"\\ud800\"", "3[\"\\ud800\"]", "2[1,\"\\ud800\"]"] {
            assert!(
                matches!(SocketPacket::decode(text), Err(CodecError::BadJson(_))),
                "{text}"
            );
        }
        assert_eq!(
            SocketPacket::decode("2[\"connect\",\"\\ud800\"]"),
            Err(CodecError::BadShape(PacketKind::Event))
        );
    }

    #[test]
    fn encodes_what_it_decodes() {
        for text in [
            "0",
            "0{\"sid\":\"x\"}",
            "0/custom,{\"sid\":\"x\"}",
            "1/custom,",
            "2[\"message-back\",1,\"2\",{\"3\":[true]}]",
            "3456[1,\"2\"]",
            "4/random,{\"message\":\"Invalid namespace\"}",
            "52-[\"m\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]",
            "62-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]",
        ] {
            assert_eq!(SocketPacket::decode(text).unwrap().encode(), text);
        }
    }

    /// Found by the `socket_packet` fuzz target: without serde_json's
    /// `float_roundtrip` feature, the shortest form of a float (what `encode`
    /// and JavaScript's `JSON.stringify` write) could parse to a neighbouring
    /// float, so a relayed number changed on its way through the server.
    #[test]
    fn floats_survive_decode_and_encode() {
        let text = "2[\"m\",1.3333333333333334e+107,133333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333]";
        let packet = SocketPacket::decode(text).unwrap();
        assert_eq!(
            packet.data,
            Some(json!([
                "m",
                1.3333333333333334e107_f64,
                1.3333333333333334e107_f64
            ]))
        );
        let encoded = packet.encode();
        assert_eq!(
            encoded,
            "2[\"m\",1.3333333333333334e+107,1.3333333333333334e+107]"
        );
        assert_eq!(SocketPacket::decode(&encoded).unwrap(), packet);
    }

    #[test]
    fn placeholders_must_point_at_an_attachment() {
        let mut args = Args::json(vec![json!("m"), placeholder(0)]);
        assert_eq!(args.check_placeholders(), Err(CodecError::BadPlaceholder));
        args.attachments.push(Bytes::from_static(b"x"));
        assert_eq!(args.check_placeholders(), Ok(()));
        assert_eq!(
            args.attachment(&args.values[1]).map(|b| b.as_ref()),
            Some(&b"x"[..])
        );
        let bad = Args::json(vec![json!({"_placeholder": true, "num": "0"})]);
        assert_eq!(bad.check_placeholders(), Err(CodecError::BadPlaceholder));
        // Only `_placeholder: true` is a placeholder, as in Node's parser.
        let data = Args::json(vec![json!({"_placeholder": false, "num": 9})]);
        assert_eq!(data.check_placeholders(), Ok(()));
    }
}
