//! The project's own RFC 6455 framing, server side: the opening handshake and
//! a frame reader that holds no buffer while the connection is idle.

mod frame;
#[cfg(test)]
mod frame_tests;
mod handshake;

pub use frame::{FrameReader, OpCode, WsError, WsEvent, close_code, close_frame, frame_header};
pub use handshake::{HandshakeError, accept_key, is_upgrade_request};
