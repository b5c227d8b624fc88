//! Entry points for the fuzz targets (feature `fuzzing`, not for
//! applications): the decoders of what other servers and emitters write into
//! Redis, and the encoders of what this one writes back.

use crate::message::{Request, RequestType, Response};
use crate::wire::BroadcastMessage;

/// Decodes `payload` as each message kind a server receives: a broadcast, a
/// request, and a response to a request of the type `kind` names. None may
/// panic; what decodes must encode to bytes that decode again and encode the
/// same (the encoding is stable: what this server writes, it reads back as
/// written).
///
/// # Panics
///
/// When a decoded message does not survive the round trip: the bug the fuzz
/// target looks for.
pub fn decode_and_round_trip(payload: &[u8], kind: u8) {
    if let Ok(message) = BroadcastMessage::decode(payload) {
        for emitter_order in [false, true] {
            let encoded = message.encode(emitter_order);
            let again = BroadcastMessage::decode(&encoded)
                .unwrap_or_else(|e| panic!("own broadcast encoding does not decode: {e}"));
            assert_eq!(
                again.encode(emitter_order),
                encoded,
                "broadcast encoding not stable"
            );
        }
    }
    if let Ok(Some(request)) = Request::decode(payload) {
        let encoded = request.encode();
        let again = match Request::decode(&encoded) {
            Ok(Some(again)) => again,
            other => panic!("own request encoding does not decode: {other:?}"),
        };
        assert_eq!(again.encode(), encoded, "request encoding not stable");
    }
    let request_kind = |_: &str| RequestType::from_wire(u64::from(kind % 12));
    if let Some(response) = Response::decode(payload, request_kind) {
        let encoded = response.encode();
        let again = Response::decode(&encoded, request_kind)
            .unwrap_or_else(|| panic!("own response encoding does not decode"));
        assert_eq!(again.encode(), encoded, "response encoding not stable");
    }
}
