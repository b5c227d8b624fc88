//! Entry points for the fuzz targets (feature `fuzzing`, not for
//! applications): the decoders of what other servers and emitters write into
//! Redis, and the encoders of what this one writes back.

use crate::message::{Request, RequestType, Response};
use crate::wire::BroadcastMessage;

/// Decodes `payload` as each message kind a server receives: a broadcast, a
/// request, and a response to a request of the type `kind` names. None may
/// panic; what decodes must encode to bytes that decode again and encode the
/// same (the encoding is stable), and a request or response must come back
/// as the same message (nothing lost on the way out; NaN and non-UTF-8
/// strings aside). A broadcast is only held to the stable encoding: one
/// naming no usable room decodes as "nobody", which this server never sends.
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
        assert_same(&again, &request, "request");
        assert_eq!(again.encode(), encoded, "request encoding not stable");
    }
    let request_kind = |_: &str| RequestType::from_wire(u64::from(kind % 12));
    if let Some(response) = Response::decode(payload, request_kind) {
        let encoded = response.encode();
        let again = Response::decode(&encoded, request_kind)
            .unwrap_or_else(|| panic!("own response encoding does not decode"));
        assert_same(&again, &response, "response");
        assert_eq!(again.encode(), encoded, "response encoding not stable");
    }
}

/// `again` (decoded from this server's encoding of `first`) equals `first`,
/// unless `first` holds a NaN or a msgpack string that is not UTF-8 (kept as
/// its bytes: it comes back as binary, which no Node peer writes anyway).
fn assert_same<T: PartialEq + std::fmt::Debug>(again: &T, first: &T, what: &str) {
    let shown = format!("{first:?}");
    if again != first && !shown.contains("NaN") && !shown.contains("Utf8Error") {
        panic!("{what} changed through its own encoding: {first:?} came back as {again:?}");
    }
}
