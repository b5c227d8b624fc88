//! Snapshots of clients, as applications and the registry see them.

use serde::{Deserialize, Serialize};

use crate::{ClientState, Identity};

/// A snapshot of one client of this node (not a live view).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientInfo {
    /// The socket id.
    pub id: String,
    /// Where it stands in the authentication handshake.
    pub state: ClientState,
    /// Its rooms on this node, sorted (its own id room included).
    pub rooms: Vec<String>,
    /// What the authenticator returned, once authenticated.
    pub identity: Option<Identity>,
    /// When it connected (ISO-8601 UTC).
    pub connected_at: String,
    /// When it authenticated (ISO-8601 UTC).
    pub authenticated_at: Option<String>,
    /// `websocket` or `polling`.
    pub transport: String,
}
