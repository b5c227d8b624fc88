//! The wire contract of the Ignis Socket.IO component.
//!
//! Everything a server and a client must agree on lives here, and nothing
//! else: event and room names, client states, payload shapes, the timestamp
//! format, reserved event names and the parsing of `join`/`leave` requests.
//! The crate depends on nothing heavier than serde, so a client, a server and
//! a worker can all share it.
//!
//! ```
//! use ignis_socketio_protocol::{ClientState, events, rooms, parse_room_request, RoomLimits};
//! use serde_json::json;
//!
//! assert_eq!(events::AUTHENTICATE, "authenticate");
//! assert_eq!(rooms::DEFAULT, "io-default");
//! assert!(ClientState::is_valid("authenticated"));
//! assert!(!ClientState::is_valid("AUTHENTICATED"));
//!
//! let parsed = parse_room_request(&json!({ "rooms": ["news", "", 7] }), &RoomLimits::default()).unwrap();
//! assert_eq!(parsed.accepted, vec!["news".to_string()]);
//! assert_eq!(parsed.rejected.len(), 2);
//! ```

mod error_body;
mod events_names;
mod payloads;
mod room_request;
mod state;
mod timestamp;

pub use error_body::ErrorBody;
pub use events_names::{RESERVED_EVENTS, events, is_reserved_event, rooms, validate_event_name};
pub use payloads::{
    AuthenticateAck, AuthenticatedPayload, JoinAck, LeaveAck, PingPayload, RoomsPayload,
    UnauthenticatedCode, UnauthenticatedPayload, messages,
};
pub use room_request::{
    RejectedRoom, RoomLimits, RoomRejection, RoomRequest, RoomRequestError, parse_room_request,
};
pub use state::{ClientState, InvalidClientState};
pub use timestamp::{format_timestamp, now_timestamp};

/// An event name that cannot be sent: empty or reserved by Socket.IO.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventNameError {
    /// The event name is the empty string.
    #[error("event name is empty")]
    Empty,
    /// The event name is one Socket.IO reserves for itself (`connect`, `disconnect`, ...).
    #[error("\"{0}\" is a reserved event name")]
    Reserved(String),
}
