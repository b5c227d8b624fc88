//! Load generator and baseline servers behind `cargo xtask bench`.
//!
//! The generator speaks just enough Engine.IO v4 / Socket.IO v5 over
//! WebSocket to drive any server that follows `docs/demo-server.md`: the
//! project's demo server, a bare socketioxide server and the Node reference.
//! Every scenario runs against every server in the same process, on the same
//! machine, so that only ratios measured in one run are compared.

pub mod client;
pub mod cores;
pub mod hostile;
pub mod http;
pub mod procfs;
pub mod redis;
pub mod report;
pub mod runner;
pub mod scenarios;
pub mod servers;
pub mod stats;
pub mod wire;

/// Errors of a load tool: reported in the table, never a crash.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// Result alias used across the generator.
pub type BenchResult<T> = Result<T, BenchError>;
