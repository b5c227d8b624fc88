//! The Engine.IO v4 server: sessions over WebSocket and HTTP long-polling,
//! the upgrade with its probe, heartbeats and payload limits.

mod config;
mod counters;
mod driver;
mod handler;
mod io;
mod request;
mod server;
mod session;
mod shared;
mod ws_conn;

pub use config::EngineConfig;
pub use counters::{Counters, CountersSnapshot};
pub use handler::{Connection, EngineHandler, Message, Work};
pub(crate) use request::own_and_mark_request_head;
pub use request::own_request_head;
pub use server::Engine;
pub use session::{CloseReason, SendError, Session, TransportKind};
