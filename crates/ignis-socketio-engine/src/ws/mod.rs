//! The project's own RFC 6455 framing: the opening handshake (server and
//! client sides) and a frame reader that holds no buffer while the
//! connection is idle. A server reads masked frames and writes unmasked
//! ones; a client ([`FrameReader::for_client`], [`write_masked_frame`]) the
//! other way round. RFC 7692 permessage-deflate (negotiation, compressing,
//! inflating) is role-agnostic, so a client can use it too.

mod client;
mod deflate;
#[cfg(test)]
mod deflate_tests;
mod extension;
mod frame;
#[cfg(test)]
mod frame_tests;
mod handshake;

pub use client::{ClientHandshake, MAX_RESPONSE_HEAD, UpgradeError, Upgraded};
pub use deflate::{
    Compressed, DeflateConfig, DeflatePool, Deflater, InflateError, Inflater, TAIL, WINDOW_BITS,
};
pub use extension::{
    DeflateParams, NegotiationError, PERMESSAGE_DEFLATE, Role, accept_response, client_offer,
    negotiate,
};
pub use frame::{
    FrameReader, OpCode, WsError, WsEvent, close_body, close_code, close_frame, data_frame_header,
    frame_header, write_masked_frame, write_masked_message,
};
pub use handshake::{HandshakeError, accept_key, is_upgrade_request};
