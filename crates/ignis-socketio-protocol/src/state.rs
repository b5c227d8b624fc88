//! The client authentication state.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a client stands in the authentication handshake.
///
/// The string forms are the reference's: `unauthorized`, `authenticating`,
/// `authenticated`. Parsing is case-sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ClientState {
    /// Connected, not authenticated yet. Only `authenticate` is served.
    #[default]
    Unauthorized,
    /// The authenticator is running.
    Authenticating,
    /// Authenticated: events, rooms and broadcasts are served.
    Authenticated,
}

/// A string that is not one of the three client states.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid client state: {0:?}")]
pub struct InvalidClientState(pub String);

impl ClientState {
    /// All states, in handshake order.
    pub const ALL: [ClientState; 3] = [
        ClientState::Unauthorized,
        ClientState::Authenticating,
        ClientState::Authenticated,
    ];

    /// The wire string of the state.
    pub const fn as_str(self) -> &'static str {
        match self {
            ClientState::Unauthorized => "unauthorized",
            ClientState::Authenticating => "authenticating",
            ClientState::Authenticated => "authenticated",
        }
    }

    /// Whether `value` is exactly one of the state strings (`"UNAUTHORIZED"` and `""` are not).
    pub fn is_valid(value: &str) -> bool {
        value.parse::<ClientState>().is_ok()
    }
}

impl fmt::Display for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClientState {
    type Err = InvalidClientState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClientState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| InvalidClientState(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_forms_round_trip() {
        for state in ClientState::ALL {
            assert_eq!(state.as_str().parse::<ClientState>(), Ok(state));
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(serde_json::from_str::<ClientState>(&json).unwrap(), state);
        }
    }

    #[test]
    fn validity_is_case_sensitive() {
        assert!(ClientState::is_valid("unauthorized"));
        assert!(!ClientState::is_valid("UNAUTHORIZED"));
        assert!(!ClientState::is_valid(""));
        assert!(!ClientState::is_valid("authenticated "));
        assert!(serde_json::from_str::<ClientState>("\"Authenticated\"").is_err());
    }
}
