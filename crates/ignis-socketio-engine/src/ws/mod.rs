//! The project's own RFC 6455 framing, server side: the opening handshake and
//! a frame reader that holds no buffer while the connection is idle; and
//! RFC 7692 permessage-deflate (negotiation, compressing, inflating), which
//! is role-agnostic so a client can use it too.

mod deflate;
#[cfg(test)]
mod deflate_tests;
mod extension;
mod frame;
#[cfg(test)]
mod frame_tests;
mod handshake;

pub use deflate::{
    Compressed, DeflateConfig, DeflatePool, InflateError, Inflater, TAIL, WINDOW_BITS,
};
pub use extension::{
    DeflateParams, NegotiationError, PERMESSAGE_DEFLATE, Role, accept_response, client_offer,
    negotiate,
};
pub use frame::{
    FrameReader, OpCode, WsError, WsEvent, close_code, close_frame, data_frame_header, frame_header,
};
pub use handshake::{HandshakeError, accept_key, is_upgrade_request};
