//! A lean Engine.IO v4 / Socket.IO v5 server engine.
//!
//! - one task per connection for its whole life; an idle connection holds no
//!   read or write buffer;
//! - the events of one client reach the application one at a time, in the
//!   order it sent them;
//! - what is queued for a client is bounded in bytes and packets: a client
//!   that cannot keep up is disconnected with a reason, never silently
//!   starved;
//! - WebSocket frames and messages are bounded by the payload limit before
//!   they are buffered.

//!
//! The `server` feature (on by default) holds everything that serves
//! connections; without it the crate is the wire codec ([`codec`]) and the
//! RFC 6455 framing ([`ws`]), which the project's client shares.

#[cfg(feature = "server")]
mod body_deadline;
pub mod codec;
#[cfg(feature = "server")]
pub mod engine;
#[cfg(feature = "server")]
pub mod io;
#[cfg(feature = "server")]
mod listener;
#[cfg(feature = "server")]
mod serve;
#[cfg(feature = "server")]
mod sid;
pub mod ws;

#[cfg(feature = "server")]
pub use body_deadline::BodyTimeout;
#[cfg(feature = "server")]
pub use listener::{LISTEN_BACKLOG, bind_listener};
#[cfg(feature = "server")]
pub use serve::{BODY_READ_TIMEOUT, HEADER_READ_TIMEOUT, ServeLimits, serve, serve_with};
#[cfg(feature = "server")]
pub use sid::new_sid;
