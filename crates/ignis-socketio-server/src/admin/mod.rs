//! The server side of the official Socket.IO Admin UI (`@socket.io/admin-ui`
//! on npm, hosted at <https://admin.socket.io>), opt-in with
//! [`ServerBuilder::admin_ui`](crate::ServerBuilder::admin_ui).
//!
//! The page connects to the admin namespace (`/admin`) of one server, logs
//! in if asked to, and receives:
//!
//! - `session` (after a password login), then `config` with the features
//!   this server implements;
//! - `server_stats` from every server of the fleet, every two seconds: each
//!   server sends its own to the admin namespace through that namespace's
//!   adapter (for a fleet: the Redis adapter, see [`AdminUiOptions::adapter`]);
//! - in development mode, `all_sockets` (this server's sockets of every
//!   namespace, and the other servers' as the namespaces' adapters report
//!   them), then `socket_connected`, `socket_disconnected`, `socket_updated`
//!   (a transport upgrade), `room_joined`, `room_left`, `event_received` and
//!   `event_sent` as they happen. This server's sockets then also carry
//!   `_admin: {clientId, transport}` in the data that the namespaces'
//!   adapters report to other servers, as Node's package keeps it, for the
//!   pages connected to those servers.
//!
//! Unless read-only it may ask for `emit`, `join`, `leave` and
//! `_disconnect`, on every matching socket of the fleet.

mod auth;
mod feed;
mod handler;
mod options;
mod serialize;
mod shared;
mod stats;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ignis_socketio_engine::io::{AdapterError, LocalAdapter, Namespace, SocketIo};
use tokio::task::JoinHandle;

pub use options::{AdminMode, AdminUiOptions, DEFAULT_ADMIN_NAMESPACE, DEFAULT_STATS_INTERVAL};

use crate::types::Core;
use shared::AdminShared;

/// The admin page's side of one server: its namespace and its two tasks
/// (stats, and the live news in development mode), stopped on drop.
pub(crate) struct AdminUi {
    /// Keeps the handler's state alive as long as the server.
    _shared: Arc<AdminShared>,
    ns: Arc<Namespace>,
    options: AdminUiOptions,
    core: Arc<Core>,
    helper_nsp: String,
    io: SocketIo,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl AdminUi {
    /// Declares the admin namespace on `io`, beside the helper's namespace
    /// `helper_nsp`. Nothing is sent before [`start`](Self::start).
    pub(crate) fn install(
        io: &SocketIo,
        core: Arc<Core>,
        helper_nsp: &str,
        options: AdminUiOptions,
    ) -> AdminUi {
        let shared = Arc::new(AdminShared {
            io: io.clone(),
            core: core.clone(),
            helper_nsp: helper_nsp.to_owned(),
            login: auth::Login::new(options.auth.clone()),
            read_only: options.read_only,
            mode: options.mode,
            sessions: Mutex::new(HashMap::new()),
        });
        let adapter = options
            .adapter
            .clone()
            .unwrap_or_else(|| Arc::new(LocalAdapter));
        let handler = Arc::new(handler::AdminHandler(Arc::downgrade(&shared)));
        let ns = io.ns_with(&options.namespace, handler, adapter);
        AdminUi {
            _shared: shared,
            ns,
            options,
            core,
            helper_nsp: helper_nsp.to_owned(),
            io: io.clone(),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Lets the admin namespace's adapter get ready (e.g. subscribe).
    pub(crate) async fn init_adapter(&self) -> Result<(), AdapterError> {
        self.ns.init_adapter().await
    }

    /// Starts the stats and, in development mode, watches every namespace
    /// declared so far. Needs a Tokio runtime.
    pub(crate) fn start(&self) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        if !tasks.is_empty() {
            return;
        }
        if self.options.mode == AdminMode::Development {
            let (feed, task) = feed::Feed::start(self.ns.clone());
            tasks.push(task);
            for ns in self.io.namespaces() {
                let monitor = feed::Monitor {
                    feed: feed.clone(),
                    core: self.core.clone(),
                    helper_nsp: self.helper_nsp.clone(),
                    is_admin: ns.name() == self.ns.name(),
                };
                if !ns.set_monitor(Arc::new(monitor)) {
                    tracing::warn!(
                        nsp = ns.name(),
                        "namespace already watched: not on the admin page"
                    );
                }
            }
        }
        let identity = stats::Identity::new(self.options.server_id.clone());
        tasks.push(stats::start(
            self.io.clone(),
            self.ns.clone(),
            identity,
            self.options.stats_interval,
        ));
    }

    /// Stops sending (at shutdown).
    pub(crate) fn stop(&self) {
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }
}

impl Drop for AdminUi {
    fn drop(&mut self) {
        self.stop();
    }
}
