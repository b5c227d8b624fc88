//! What the integration tests of the workspace's crates share: free ports,
//! polling until a condition holds, the shared Redis and private
//! `redis-server` processes, the paths of the Node suites, raw HTTP/1.1
//! requests, and raw WebSocket clients.
//!
//! A dev-dependency only (`publish = false`). It depends on none of the
//! workspace's crates, so any of them can use it in its tests without linking
//! a second copy of itself. Helpers panic with a message saying what is
//! missing: they run in tests only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod http;
pub mod paths;
pub mod ports;
pub mod redis;
pub mod wait;
pub mod ws;
