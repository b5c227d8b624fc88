//! The helper layer: the reference's `SocketIOClientHelper` on a
//! [`SocketClient`](crate::SocketClient).
//!
//! - `core`: the shared state, the authentication state machine and room requests;
//! - `listeners`: the helper's own listeners on its client;
//! - `api`: the public `SocketIOClientHelper`;
//! - `options`: its builder options and `build`.

mod api;
mod core;
mod listeners;
mod options;

pub use api::SocketIOClientHelper;
pub use options::{HelperOptions, SocketIOClientHelperBuilder};
