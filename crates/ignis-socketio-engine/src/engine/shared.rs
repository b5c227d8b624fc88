//! What the sessions' tasks share with the server: settings, counters, the
//! deflate pool and the table of open sessions. Both the server (which opens
//! sessions) and the drivers (which close them) use it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::config::EngineConfig;
use super::counters::Counters;
use super::session::Session;
use crate::ws::DeflatePool;

/// What the sessions' tasks share with the server.
pub(crate) struct EngineShared {
    pub(crate) config: EngineConfig,
    pub(crate) counters: Counters,
    /// Compression contexts of every connection, when permessage-deflate is on.
    pub(crate) deflate: Option<Arc<DeflatePool>>,
    sessions: Mutex<HashMap<Box<str>, Arc<Session>>>,
}

impl EngineShared {
    /// The shared state of a new engine with `config` and no session yet.
    pub(super) fn new(config: EngineConfig) -> EngineShared {
        EngineShared {
            deflate: config
                .per_message_deflate
                .map(|c| Arc::new(DeflatePool::new(c))),
            config,
            counters: Counters::default(),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn remove(&self, sid: &str) {
        self.sessions().remove(sid);
    }
}
