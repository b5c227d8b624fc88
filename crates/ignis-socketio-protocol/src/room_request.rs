//! Parsing of `join`/`leave` payloads with limits. Never panics on any JSON value.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error_body::ErrorBody;

/// Limits applied to room requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomLimits {
    /// Longest room name accepted, in bytes.
    pub max_room_name_len: usize,
    /// Most rooms one `join`/`leave` request may name; a longer list is refused whole.
    pub max_rooms_per_request: usize,
    /// Most rooms one socket may be in, its own id room and the default rooms included.
    pub max_rooms_per_socket: usize,
}

impl Default for RoomLimits {
    fn default() -> Self {
        RoomLimits {
            max_room_name_len: 256,
            max_rooms_per_request: 100,
            max_rooms_per_socket: 1_000,
        }
    }
}

/// Why one requested room was not joined or left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomRejection {
    /// The entry is not a string.
    NotAString,
    /// The name is empty.
    Empty,
    /// The name is longer than [`RoomLimits::max_room_name_len`].
    TooLong,
    /// The name appeared earlier in the same request.
    Duplicate,
    /// The room validator did not allow it (or no validator is configured).
    NotAllowed,
    /// The socket's own id room and the default rooms cannot be left, and
    /// another socket's id room cannot be joined.
    Protected,
    /// Joining would exceed [`RoomLimits::max_rooms_per_socket`].
    SocketRoomLimit,
}

impl RoomRejection {
    /// The wire string of the reason.
    pub const fn as_str(self) -> &'static str {
        match self {
            RoomRejection::NotAString => "not_a_string",
            RoomRejection::Empty => "empty",
            RoomRejection::TooLong => "too_long",
            RoomRejection::Duplicate => "duplicate",
            RoomRejection::NotAllowed => "not_allowed",
            RoomRejection::Protected => "protected",
            RoomRejection::SocketRoomLimit => "socket_room_limit",
        }
    }
}

/// One refused entry of a room request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRoom {
    /// The entry as it was sent (a string, or whatever JSON value it was).
    pub room: Value,
    /// Why it was refused.
    pub reason: RoomRejection,
}

impl RejectedRoom {
    /// A refused room name.
    pub fn new(room: impl Into<String>, reason: RoomRejection) -> Self {
        RejectedRoom {
            room: Value::String(room.into()),
            reason,
        }
    }
}

/// A whole room request that was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomRequestError {
    /// The payload is not an object with a `rooms` array.
    #[error("invalid room request: {0}; expected {{\"rooms\": [string]}}")]
    InvalidPayload(&'static str),
    /// The request names more rooms than allowed.
    #[error("too many rooms in one request: {count} (at most {max})")]
    TooManyRooms {
        /// How many entries the request had.
        count: usize,
        /// The limit.
        max: usize,
    },
}

impl RoomRequestError {
    /// The machine-readable code of the error.
    pub const fn code(&self) -> &'static str {
        match self {
            RoomRequestError::InvalidPayload(_) => "invalid_payload",
            RoomRequestError::TooManyRooms { .. } => "too_many_rooms",
        }
    }

    /// The error as an acknowledgement body.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code().to_owned(),
            message: self.to_string(),
        }
    }
}

/// A room request split into well-formed names and refused entries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomRequest {
    /// Well-formed, distinct room names, in request order.
    pub accepted: Vec<String>,
    /// Entries refused by the syntax checks.
    pub rejected: Vec<RejectedRoom>,
}

/// Parses a `join`/`leave` payload: `{rooms: [string]}`.
///
/// A payload that is not such an object, or that names more than
/// `max_rooms_per_request` entries, is refused whole. Otherwise every entry is
/// checked: non-strings, empty names, overlong names and duplicates are
/// rejected with a reason, the rest are accepted.
pub fn parse_room_request(
    payload: &Value,
    limits: &RoomLimits,
) -> Result<RoomRequest, RoomRequestError> {
    let object = payload
        .as_object()
        .ok_or(RoomRequestError::InvalidPayload("payload is not an object"))?;
    let entries = match object.get("rooms") {
        None => return Err(RoomRequestError::InvalidPayload("missing \"rooms\"")),
        Some(Value::Array(entries)) => entries,
        Some(_) => {
            return Err(RoomRequestError::InvalidPayload(
                "\"rooms\" is not an array",
            ));
        }
    };
    if entries.len() > limits.max_rooms_per_request {
        return Err(RoomRequestError::TooManyRooms {
            count: entries.len(),
            max: limits.max_rooms_per_request,
        });
    }

    let mut request = RoomRequest::default();
    let mut seen = HashSet::with_capacity(entries.len());
    for entry in entries {
        let reason = match entry {
            Value::String(name) if name.is_empty() => Some(RoomRejection::Empty),
            Value::String(name) if name.len() > limits.max_room_name_len => {
                Some(RoomRejection::TooLong)
            }
            Value::String(name) if !seen.insert(name.as_str()) => Some(RoomRejection::Duplicate),
            Value::String(name) => {
                request.accepted.push(name.clone());
                None
            }
            _ => Some(RoomRejection::NotAString),
        };
        if let Some(reason) = reason {
            request.rejected.push(RejectedRoom {
                room: truncate_for_echo(entry, limits.max_room_name_len),
                reason,
            });
        }
    }
    Ok(request)
}

/// Echoing a refused entry must not let a client make the server send back
/// megabytes: long strings are cut, and nested values are replaced by their type.
fn truncate_for_echo(entry: &Value, max_len: usize) -> Value {
    match entry {
        Value::String(s) if s.len() > max_len => {
            let mut end = max_len;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            Value::String(format!("{}…", &s[..end]))
        }
        Value::Array(_) => Value::String("<array>".to_owned()),
        Value::Object(_) => Value::String("<object>".to_owned()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<RoomRequest, RoomRequestError> {
        parse_room_request(&v, &RoomLimits::default())
    }

    #[test]
    fn well_formed_names_are_accepted_in_order() {
        let r = parse(json!({"rooms": ["b", "a"]})).unwrap();
        assert_eq!(r.accepted, ["b", "a"]);
        assert!(r.rejected.is_empty());
    }

    #[test]
    fn non_objects_and_bad_rooms_fields_are_refused_whole() {
        for v in [
            json!(null),
            json!("x"),
            json!(5),
            json!(["a"]),
            json!({}),
            json!({"rooms": "x"}),
            json!({"rooms": null}),
            json!({"rooms": {"a": 1}}),
        ] {
            let err = parse(v.clone()).unwrap_err();
            assert_eq!(err.code(), "invalid_payload", "{v}");
        }
    }

    #[test]
    fn bad_entries_are_rejected_with_a_reason() {
        let long = "x".repeat(300);
        let r = parse(json!({"rooms": ["ok", 1, "", long, null, ["n"], "ok"]})).unwrap();
        assert_eq!(r.accepted, ["ok"]);
        let reasons: Vec<_> = r.rejected.iter().map(|x| x.reason).collect();
        assert_eq!(
            reasons,
            [
                RoomRejection::NotAString,
                RoomRejection::Empty,
                RoomRejection::TooLong,
                RoomRejection::NotAString,
                RoomRejection::NotAString,
                RoomRejection::Duplicate
            ]
        );
        // The overlong name is echoed cut to the limit.
        let echoed = r.rejected[2].room.as_str().unwrap();
        assert!(echoed.len() <= 256 + '…'.len_utf8());
    }

    #[test]
    fn too_many_rooms_are_refused_whole() {
        let rooms: Vec<String> = (0..5_000).map(|i| format!("r{i}")).collect();
        let err = parse(json!({ "rooms": rooms })).unwrap_err();
        assert_eq!(
            err,
            RoomRequestError::TooManyRooms {
                count: 5_000,
                max: 100
            }
        );
    }

    #[test]
    fn multibyte_names_are_cut_on_a_char_boundary() {
        let name = "é".repeat(200); // 400 bytes
        let r = parse(json!({ "rooms": [name] })).unwrap();
        assert_eq!(r.rejected[0].reason, RoomRejection::TooLong);
    }
}
