//! The example programs of ignis-socketio (`demo-server`, `chat-server`,
//! `client-cli`, `emitter-worker`), and the code they share: [`demo`] holds
//! the demo server whose contract is `docs/demo-server.md` in the repository
//! (flags, socket events, REST routes), which the `demo-server` binary runs;
//! [`process`] what every server binary does around its work (logging,
//! `READY`, signals). The project's README and guide are compiled as doc tests
//! of the `ignis-socketio` facade.

pub mod chat;
pub mod demo;
pub mod process;
