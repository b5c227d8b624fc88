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

// The allocator of every example binary (they all link this crate). A
// library never picks one; an application does: docs/operations.md,
// "Allocator".
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(all(feature = "jemalloc", not(feature = "mimalloc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
