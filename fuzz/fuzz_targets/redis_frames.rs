//! Redis adapter frames, both directions: what other servers and emitters
//! publish (broadcasts in msgpack, requests and responses in JSON or msgpack)
//! is decoded without panicking, and what decodes is encoded again by this
//! server into bytes that decode and encode the same.
//!
//! Input: byte 0 picks the request type a response answers, the rest is the
//! frame as it comes out of Redis.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, payload)) = data.split_first() else {
        return;
    };
    ignis_socketio_redis::fuzzing::decode_and_round_trip(payload, kind);
});
