//! What an authenticator returns: the identity of an accepted client, or why it was refused.

use ignis_socketio_protocol::UnauthenticatedCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who an authenticated client is, as the authenticator decided (BEYOND the reference,
/// which keeps only a boolean). Kept on the client record and handed to the room
/// validator and the client-connected handler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// The principal (user id, token subject, ...).
    pub id: String,
    /// Any claims the application wants to keep with the client (`null` when none).
    #[serde(default)]
    pub claims: Value,
}

impl Identity {
    /// An identity with no claims.
    pub fn new(id: impl Into<String>) -> Self {
        Identity {
            id: id.into(),
            claims: Value::Null,
        }
    }

    /// The same identity carrying `claims`.
    pub fn with_claims(mut self, claims: Value) -> Self {
        self.claims = claims;
        self
    }

    /// The principal.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The claims (`null` when none).
    pub fn claims(&self) -> &Value {
        &self.claims
    }

    /// The value to publish as Node's `socket.data` for this client (for
    /// example through a [`SocketObserver`](crate::SocketObserver) to the
    /// Redis adapter's `fetchSockets` answers): `{"identity": {"id", "claims"}}`.
    pub fn to_node_data(&self) -> Value {
        serde_json::json!({ "identity": { "id": self.id, "claims": self.claims } })
    }
}

/// Why an authenticator did not accept a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The credentials are missing or wrong. The client gets
    /// `unauthenticated` with "Invalid token to authenticate! Please login again!"
    /// and code `invalid_token`.
    #[error("authentication refused: {0}")]
    Rejected(String),
    /// The authenticator itself failed (a database was down, ...). The client gets
    /// "Failed to authenticate connection! Please login again!" and code
    /// `authentication_failed`. A panicking authenticator is treated the same way.
    #[error("authentication failed: {0}")]
    Failed(String),
}

impl AuthError {
    /// The credentials were refused.
    pub fn rejected(reason: impl Into<String>) -> Self {
        AuthError::Rejected(reason.into())
    }

    /// No token was presented.
    pub fn missing_token() -> Self {
        AuthError::Rejected("missing token".to_owned())
    }

    /// The authenticator failed; `error` is logged, never sent to the client.
    pub fn failed(error: impl std::fmt::Display) -> Self {
        AuthError::Failed(error.to_string())
    }

    /// The code the client receives in `unauthenticated`.
    pub fn code(&self) -> UnauthenticatedCode {
        match self {
            AuthError::Rejected(_) => UnauthenticatedCode::InvalidToken,
            AuthError::Failed(_) => UnauthenticatedCode::AuthenticationFailed,
        }
    }
}
