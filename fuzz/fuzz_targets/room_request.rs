//! `join`/`leave` payloads: `parse_room_request` on any JSON must not panic,
//! must keep within the limits it is given, and must account for every entry
//! once (accepted or rejected, accepted names distinct and within the length
//! limit; refused entries echoed back cut to the limit, nested values as
//! their type name).
//!
//! Input: byte 0 picks the limits, the rest is the JSON text.

#![no_main]

use ignis_socketio_protocol::{RoomLimits, parse_room_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(text) else {
        return;
    };
    let limits = RoomLimits {
        max_room_name_len: [1, 4, 16, 256][usize::from(pick & 3)],
        max_rooms_per_request: [0, 1, 3, 100][usize::from((pick >> 2) & 3)],
        max_rooms_per_socket: 1_000,
    };
    let Ok(request) = parse_room_request(&payload, &limits) else {
        return;
    };
    let entries = payload["rooms"].as_array().map_or(0, Vec::len);
    assert!(entries <= limits.max_rooms_per_request);
    assert_eq!(request.accepted.len() + request.rejected.len(), entries);
    let mut seen = std::collections::HashSet::new();
    for name in &request.accepted {
        assert!(!name.is_empty() && name.len() <= limits.max_room_name_len);
        assert!(seen.insert(name), "{name:?} accepted twice");
    }
    for refused in &request.rejected {
        if let Some(echo) = refused.room.as_str() {
            // The cut name plus the ellipsis, or `<array>`/`<object>`.
            let bound = (limits.max_room_name_len + '…'.len_utf8()).max("<object>".len());
            assert!(echo.len() <= bound, "{echo:?} echoed back");
        }
    }
});
