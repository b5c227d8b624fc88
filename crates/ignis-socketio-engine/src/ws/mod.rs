//! The project's own RFC 6455 framing: the opening handshake (server and
//! client sides) and a frame reader that holds no buffer while the
//! connection is idle. A server reads masked frames and writes unmasked
//! ones; a client ([`FrameReader::for_client`], [`write_masked_frame`]) the
//! other way round.

mod client;
mod frame;
#[cfg(test)]
mod frame_tests;
mod handshake;

pub use client::{ClientHandshake, MAX_RESPONSE_HEAD, UpgradeError};
pub use frame::{
    FrameReader, OpCode, WsError, WsEvent, close_body, close_code, close_frame, frame_header,
    write_masked_frame,
};
pub use handshake::{HandshakeError, accept_key, is_upgrade_request};
