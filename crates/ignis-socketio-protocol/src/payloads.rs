//! Payload types of the protocol's events and acknowledgements.

use serde::{Deserialize, Serialize};

use crate::error_body::ErrorBody;
use crate::{ClientState, RejectedRoom};

/// The human-readable messages of `unauthenticated` (KEEP: clients match on them).
pub mod messages {
    /// The authenticator refused the credentials.
    pub const INVALID_TOKEN: &str = "Invalid token to authenticate! Please login again!";
    /// The authenticator failed (returned an error or panicked).
    pub const AUTHENTICATION_FAILED: &str =
        "Failed to authenticate connection! Please login again!";
    /// The client did not authenticate within the authentication window.
    pub const AUTHENTICATION_TIMEOUT: &str = "Authentication timed out! Please login again!";
}

/// Server → client `ping`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingPayload {
    /// ISO-8601 UTC time with milliseconds.
    pub time: String,
}

/// Server → client `authenticated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatedPayload {
    /// The socket id.
    pub id: String,
    /// ISO-8601 UTC time with milliseconds.
    pub time: String,
}

/// Machine-readable reason of an `unauthenticated` event (BEYOND the reference,
/// which sends only the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnauthenticatedCode {
    /// The authenticator refused the credentials.
    InvalidToken,
    /// The authenticator returned an error or panicked.
    AuthenticationFailed,
    /// The client did not authenticate in time.
    AuthenticationTimeout,
}

impl UnauthenticatedCode {
    /// The wire string of the code.
    pub const fn as_str(self) -> &'static str {
        match self {
            UnauthenticatedCode::InvalidToken => "invalid_token",
            UnauthenticatedCode::AuthenticationFailed => "authentication_failed",
            UnauthenticatedCode::AuthenticationTimeout => "authentication_timeout",
        }
    }

    /// The reference's human-readable message for this code.
    pub const fn message(self) -> &'static str {
        match self {
            UnauthenticatedCode::InvalidToken => messages::INVALID_TOKEN,
            UnauthenticatedCode::AuthenticationFailed => messages::AUTHENTICATION_FAILED,
            UnauthenticatedCode::AuthenticationTimeout => messages::AUTHENTICATION_TIMEOUT,
        }
    }
}

/// Server → client `unauthenticated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnauthenticatedPayload {
    /// The reference's message (see [`messages`]).
    pub message: String,
    /// ISO-8601 UTC time with milliseconds.
    pub time: String,
    /// Machine-readable reason. Optional when parsing, since reference servers omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<UnauthenticatedCode>,
}

impl UnauthenticatedPayload {
    /// The payload for `code`, stamped now.
    pub fn new(code: UnauthenticatedCode) -> Self {
        UnauthenticatedPayload {
            message: code.message().to_owned(),
            time: crate::now_timestamp(),
            code: Some(code),
        }
    }
}

/// Client → server `join` and `leave`: `{rooms: [string]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RoomsPayload {
    /// Room names.
    pub rooms: Vec<String>,
}

/// Acknowledgement of `join` (BEYOND): which rooms were joined and which were not, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct JoinAck {
    /// Rooms the socket is now in.
    pub joined: Vec<String>,
    /// Requested rooms that were refused, with the reason.
    pub rejected: Vec<RejectedRoom>,
    /// Set when the whole request was refused (malformed payload, too many rooms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// Acknowledgement of `leave` (BEYOND).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LeaveAck {
    /// Rooms the socket left.
    pub left: Vec<String>,
    /// Requested rooms that were not left, with the reason.
    pub rejected: Vec<RejectedRoom>,
    /// Set when the whole request was refused (malformed payload, too many rooms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// Acknowledgement of `authenticate` (BEYOND: the reference sends no ack).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticateAck {
    /// The state after the request was handled.
    pub state: ClientState,
    /// The socket id, when authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Why authentication was refused, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<UnauthenticatedCode>,
    /// The human-readable message matching `code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// ISO-8601 UTC time with milliseconds.
    pub time: String,
    /// Set when the request was refused before it was handled: the socket
    /// sent too many (code `rate_limited`), or its data could not be read
    /// (`unreadable_data`); `state` is then the socket's state, unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unauthenticated_carries_message_time_and_code() {
        let p = UnauthenticatedPayload::new(UnauthenticatedCode::InvalidToken);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["message"], messages::INVALID_TOKEN);
        assert_eq!(v["code"], "invalid_token");
        assert_eq!(v["time"].as_str().unwrap().len(), 24);
    }

    #[test]
    fn unauthenticated_from_a_reference_server_parses_without_code() {
        let p: UnauthenticatedPayload = serde_json::from_value(
            json!({"message": messages::AUTHENTICATION_FAILED, "time": "2026-11-25T08:00:00.000Z"}),
        )
        .unwrap();
        assert_eq!(p.code, None);
    }

    #[test]
    fn codes_serialize_as_their_wire_strings() {
        for code in [
            UnauthenticatedCode::InvalidToken,
            UnauthenticatedCode::AuthenticationFailed,
            UnauthenticatedCode::AuthenticationTimeout,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        }
    }
}
