//! The state the admin namespace's handler shares with the server's side.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ignis_socketio_engine::io::SocketIo;

use super::auth;
use super::options::AdminMode;
use crate::types::Core;

/// What the admin namespace's handler works with.
pub(crate) struct AdminShared {
    pub(super) io: SocketIo,
    pub(super) core: Arc<Core>,
    /// The helper's namespace (`/`), whose sockets have client records.
    pub(super) helper_nsp: String,
    pub(super) login: auth::Login,
    pub(super) read_only: bool,
    pub(super) mode: AdminMode,
    /// Session ids handed out at login, until the CONNECT is answered.
    pub(super) sessions: Mutex<HashMap<String, String>>,
}

impl AdminShared {
    pub(super) fn hold_session(&self, socket_id: &str, session: String) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(socket_id.to_owned(), session);
    }

    pub(super) fn take_session(&self, socket_id: &str) -> Option<String> {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(socket_id)
    }
}
