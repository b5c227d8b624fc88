//! The wire codec: Engine.IO packets and polling payloads, Socket.IO packets
//! and their binary attachments. Pure functions over bytes and strings, shared
//! by the server engine and clients.

mod engine_packet;
mod open;
mod serialize;
mod socket_packet;

pub use engine_packet::{
    EnginePacket, Frame, SEPARATOR, SharedFrame, decode_payload, encode_payload,
};
pub use open::OpenPacket;
pub use serialize::{ArgsError, is_tuple, to_args};
pub use socket_packet::{
    Args, PacketKind, RESERVED_EVENTS, SocketPacket, UnreadableEvent, placeholder,
    placeholder_index,
};

/// A packet that does not follow the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The packet is empty.
    #[error("empty packet")]
    Empty,
    /// The first character is not a known packet type.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// A polling payload is not UTF-8.
    #[error("polling payload is not UTF-8")]
    NotUtf8,
    /// A `b<base64>` record does not decode.
    #[error("malformed base64 in a binary record")]
    BadBase64,
    /// The attachment count of a binary packet is missing or malformed.
    #[error("malformed attachment count")]
    BadAttachments,
    /// The acknowledgement id is not a number that fits in 64 bits.
    #[error("malformed acknowledgement id")]
    BadAckId,
    /// The JSON body does not parse.
    #[error("malformed JSON body: {0}")]
    BadJson(String),
    /// The body parses but does not have the shape its packet type requires.
    #[error("a {0:?} packet with a body of the wrong shape")]
    BadShape(PacketKind),
    /// A placeholder names no attachment of the packet.
    #[error("a binary placeholder names no attachment")]
    BadPlaceholder,
    /// The data nests deeper than 128 levels.
    #[error("data nested too deep")]
    TooDeep,
    /// An event whose data is well-formed JSON that cannot be read (see
    /// [`UnreadableEvent`]); the connection may carry on.
    #[error("event data that cannot be read: {}", .0.reason)]
    Unreadable(Box<UnreadableEvent>),
}
