//! Engine.IO v4 packets: `<type digit><data>` in a text frame, raw bytes in a
//! binary frame, and the HTTP long-polling payload that joins several packets
//! with the record separator `\x1e` (binary ones as `b<base64>`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use super::CodecError;

/// The record separator between the packets of a polling payload.
pub const SEPARATOR: u8 = 0x1e;

/// An Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnginePacket {
    /// `0{...}`: the handshake, its JSON body.
    Open(String),
    /// `1`: close the session.
    Close,
    /// `2[data]`: heartbeat request; `2probe` during an upgrade.
    Ping(String),
    /// `3[data]`: heartbeat answer; `3probe` during an upgrade.
    Pong(String),
    /// `4<text>`: a text message.
    Message(String),
    /// A binary message (a binary frame, or `b<base64>` when polling).
    Binary(Bytes),
    /// `5`: the client completes the upgrade to WebSocket.
    Upgrade,
    /// `6`: nothing, used to end a pending poll during an upgrade.
    Noop,
}

impl EnginePacket {
    /// Decodes a text frame (or one text record of a polling payload).
    pub fn decode_text(text: &str) -> Result<EnginePacket, CodecError> {
        let mut chars = text.chars();
        let kind = chars.next().ok_or(CodecError::Empty)?;
        let rest = chars.as_str();
        Ok(match kind {
            '0' => EnginePacket::Open(rest.to_owned()),
            '1' => EnginePacket::Close,
            '2' => EnginePacket::Ping(rest.to_owned()),
            '3' => EnginePacket::Pong(rest.to_owned()),
            '4' => EnginePacket::Message(rest.to_owned()),
            '5' => EnginePacket::Upgrade,
            '6' => EnginePacket::Noop,
            other => return Err(CodecError::UnknownType(other)),
        })
    }

    /// The text form of a non-binary packet (`None` for [`EnginePacket::Binary`]).
    pub fn encode_text(&self) -> Option<String> {
        let (digit, data) = match self {
            EnginePacket::Open(data) => ('0', data.as_str()),
            EnginePacket::Close => ('1', ""),
            EnginePacket::Ping(data) => ('2', data.as_str()),
            EnginePacket::Pong(data) => ('3', data.as_str()),
            EnginePacket::Message(data) => ('4', data.as_str()),
            EnginePacket::Upgrade => ('5', ""),
            EnginePacket::Noop => ('6', ""),
            EnginePacket::Binary(_) => return None,
        };
        let mut out = String::with_capacity(1 + data.len());
        out.push(digit);
        out.push_str(data);
        Some(out)
    }
}

/// A packet ready to be written, in the form every transport can take: a text
/// packet (`<type digit><data>`) or a binary message. Cheap to clone, so a
/// broadcast encodes once and shares the bytes with every receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text packet, type digit included (`4...`, `2`, `6`).
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A text or binary frame sent to many clients, which also shares its
    /// compressed form (permessage-deflate): the first WebSocket that writes
    /// it compresses it, the others reuse the result.
    Shared(Arc<SharedFrame>),
}

/// The frame of a broadcast and, once computed, its compressed form.
#[derive(Debug)]
pub struct SharedFrame {
    binary: bool,
    bytes: Bytes,
    /// The window (in bits) it was compressed with and the result (`None`
    /// when compression did not shrink it).
    deflated: OnceLock<(u8, Option<Bytes>)>,
}

impl PartialEq for SharedFrame {
    fn eq(&self, other: &Self) -> bool {
        self.binary == other.binary && self.bytes == other.bytes
    }
}

impl Eq for SharedFrame {}

impl SharedFrame {
    /// The compressed form for a `window_bits` window: the one already
    /// computed, or what `compress` returns (kept unless it is `Err`, which
    /// means "not this time"; `Ok(None)` means "does not shrink").
    pub fn deflated<E>(
        &self,
        window_bits: u8,
        compress: impl FnOnce(&[u8]) -> Result<Option<Bytes>, E>,
    ) -> Result<Option<Bytes>, E> {
        if let Some((bits, deflated)) = self.deflated.get()
            && *bits == window_bits
        {
            return Ok(deflated.clone());
        }
        let deflated = compress(&self.bytes)?;
        // Another window was kept first: this one is computed each time.
        let _ = self.deflated.set((window_bits, deflated.clone()));
        Ok(deflated)
    }
}

impl Frame {
    /// A text frame from its full text (type digit included).
    pub fn text(text: impl Into<String>) -> Frame {
        Frame::Text(Bytes::from(text.into()))
    }

    /// The frame of an Engine.IO packet.
    pub fn from_packet(packet: &EnginePacket) -> Frame {
        match packet {
            EnginePacket::Binary(bytes) => Frame::Binary(bytes.clone()),
            other => Frame::text(other.encode_text().unwrap_or_default()),
        }
    }

    /// The frame shared by the receivers of a broadcast (see [`Frame::Shared`]).
    pub fn shared(self) -> Frame {
        match self {
            Frame::Text(bytes) => Frame::Shared(Arc::new(SharedFrame {
                binary: false,
                bytes,
                deflated: OnceLock::new(),
            })),
            Frame::Binary(bytes) => Frame::Shared(Arc::new(SharedFrame {
                binary: true,
                bytes,
                deflated: OnceLock::new(),
            })),
            shared @ Frame::Shared(_) => shared,
        }
    }

    /// Whether it is a binary message, and its bytes.
    pub fn parts(&self) -> (bool, &Bytes) {
        match self {
            Frame::Text(b) => (false, b),
            Frame::Binary(b) => (true, b),
            Frame::Shared(shared) => (shared.binary, &shared.bytes),
        }
    }

    /// Its size in bytes (what an outgoing queue's byte bound counts).
    pub fn len(&self) -> usize {
        self.parts().1.len()
    }

    /// Whether it carries no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Appends frames to a polling payload: records separated by `\x1e`, binary
/// ones as `b<base64>`.
pub fn encode_payload<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, frame) in frames.into_iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        match frame.parts() {
            (false, text) => out.extend_from_slice(text),
            (true, bytes) => {
                out.push(b'b');
                out.extend_from_slice(BASE64.encode(bytes).as_bytes());
            }
        }
    }
    out
}

/// Splits a polling payload into its packets.
pub fn decode_payload(body: &[u8]) -> Result<Vec<EnginePacket>, CodecError> {
    let text = std::str::from_utf8(body).map_err(|_| CodecError::NotUtf8)?;
    text.split(SEPARATOR as char)
        .map(|record| match record.strip_prefix('b') {
            Some(encoded) => BASE64
                .decode(encoded)
                .map(|bytes| EnginePacket::Binary(Bytes::from(bytes)))
                .map_err(|_| CodecError::BadBase64),
            None => EnginePacket::decode_text(record),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_packets_round_trip() {
        for text in [
            "0{\"sid\":\"a\"}",
            "1",
            "2",
            "2probe",
            "3probe",
            "4hello",
            "5",
            "6",
        ] {
            let packet = EnginePacket::decode_text(text).unwrap();
            assert_eq!(packet.encode_text().as_deref(), Some(text));
        }
    }

    #[test]
    fn unknown_types_and_empty_frames_are_errors() {
        assert_eq!(EnginePacket::decode_text(""), Err(CodecError::Empty));
        assert_eq!(
            EnginePacket::decode_text("abc"),
            Err(CodecError::UnknownType('a'))
        );
        assert_eq!(
            EnginePacket::decode_text("7"),
            Err(CodecError::UnknownType('7'))
        );
    }

    #[test]
    fn payloads_mix_text_and_base64_binary() {
        let packets = decode_payload(b"4hello\x1ebAQIDBA==").unwrap();
        assert_eq!(
            packets,
            vec![
                EnginePacket::Message("hello".into()),
                EnginePacket::Binary(Bytes::from_static(&[1, 2, 3, 4]))
            ]
        );
        let frames: Vec<Frame> = packets.iter().map(Frame::from_packet).collect();
        assert_eq!(encode_payload(&frames), b"4hello\x1ebAQIDBA==");
    }

    #[test]
    fn a_shared_frame_is_compressed_once_per_window() {
        let frame = Frame::text("x".repeat(100)).shared();
        let Frame::Shared(shared) = &frame else {
            panic!("not shared");
        };
        let mut calls = 0;
        for bits in [10, 10, 10, 12] {
            let out = shared.deflated::<()>(bits, |data| {
                calls += 1;
                assert_eq!(data.len(), 100);
                Ok(Some(Bytes::from_static(b"small")))
            });
            assert_eq!(out, Ok(Some(Bytes::from_static(b"small"))));
        }
        assert_eq!(calls, 2, "once for window 10, once for the other window");
        // "Busy" is not kept: the next writer tries again.
        let busy = Frame::text("y").shared();
        let Frame::Shared(busy) = &busy else {
            panic!("not shared");
        };
        assert_eq!(busy.deflated(10, |_| Err(())), Err(()));
        assert_eq!(busy.deflated::<()>(10, |_| Ok(None)), Ok(None));
        assert_eq!(frame.len(), 100);
        assert_eq!(encode_payload([&frame]), "x".repeat(100).into_bytes());
    }

    #[test]
    fn bad_payloads_are_errors() {
        assert_eq!(decode_payload(b"abc"), Err(CodecError::UnknownType('a')));
        assert_eq!(decode_payload(b"b!!"), Err(CodecError::BadBase64));
        assert_eq!(decode_payload(&[0xff]), Err(CodecError::NotUtf8));
        assert_eq!(decode_payload(b"4a\x1e"), Err(CodecError::Empty));
    }
}
