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

pub mod codec;
pub mod engine;
pub mod io;
mod listener;
mod serve;
mod sid;
pub mod ws;

pub use listener::{LISTEN_BACKLOG, bind_listener};
pub use serve::{HEADER_READ_TIMEOUT, serve};
pub use sid::new_sid;
