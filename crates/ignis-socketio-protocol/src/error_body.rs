//! The error shape carried in acknowledgements, shared by the payloads and the room-request parser.

use serde::{Deserialize, Serialize};

/// An error carried in an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable code (e.g. `invalid_payload`, `too_many_rooms`, `not_authenticated`).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}
