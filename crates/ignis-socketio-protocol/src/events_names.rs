//! Event and room names of the wire protocol, and the reserved event names.

use crate::EventNameError;

/// Event names of the component's protocol.
pub mod events {
    /// Application-level ping sent by the server: payload `{time}`.
    pub const PING: &str = "ping";
    /// Server-side connection event (a client sees `connect`).
    pub const CONNECT: &str = "connection";
    /// Disconnection event.
    pub const DISCONNECT: &str = "disconnect";
    /// Client request to join rooms: payload `{rooms: [string]}`.
    pub const JOIN: &str = "join";
    /// Client request to leave rooms: payload `{rooms: [string]}`.
    pub const LEAVE: &str = "leave";
    /// Client request to authenticate (optional credentials payload, optional ack).
    pub const AUTHENTICATE: &str = "authenticate";
    /// Server answer to a successful authentication: payload `{id, time}`.
    pub const AUTHENTICATED: &str = "authenticated";
    /// Server answer to a refused authentication: payload `{message, time, code}`.
    pub const UNAUTHENTICATE: &str = "unauthenticated";
}

/// Room names every authenticated client joins by default.
pub mod rooms {
    /// The default room.
    pub const DEFAULT: &str = "io-default";
    /// The notification room.
    pub const NOTIFICATION: &str = "io-notification";
    /// The default rooms, in the order the reference joins them.
    pub const DEFAULT_ROOMS: [&str; 2] = [DEFAULT, NOTIFICATION];
}

/// Event names Socket.IO reserves; nobody may emit them as application events.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Whether `name` is reserved by Socket.IO (case-sensitive, like Socket.IO).
pub fn is_reserved_event(name: &str) -> bool {
    RESERVED_EVENTS.contains(&name)
}

/// Checks that `name` can be emitted as an application event.
///
/// ```
/// use ignis_socketio_protocol::{validate_event_name, EventNameError};
/// assert!(validate_event_name("chat:message").is_ok());
/// assert_eq!(validate_event_name(""), Err(EventNameError::Empty));
/// assert!(matches!(validate_event_name("disconnect"), Err(EventNameError::Reserved(_))));
/// ```
pub fn validate_event_name(name: &str) -> Result<(), EventNameError> {
    if name.is_empty() {
        Err(EventNameError::Empty)
    } else if is_reserved_event(name) {
        Err(EventNameError::Reserved(name.to_owned()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_are_case_sensitive() {
        for name in RESERVED_EVENTS {
            assert!(is_reserved_event(name));
        }
        assert!(!is_reserved_event("Connect"));
        assert!(!is_reserved_event("ping"));
    }
}
