//! Engine.IO: a polling payload (`decode_payload`) and a text frame
//! (`EnginePacket::decode_text`) from peer bytes. Neither may panic, and a
//! payload that decodes must decode to the same packets once re-encoded.

#![no_main]

use ignis_socketio_engine::codec::{EnginePacket, Frame, decode_payload, encode_payload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(packets) = decode_payload(data) {
        let frames: Vec<Frame> = packets.iter().map(Frame::from_packet).collect();
        let again = decode_payload(&encode_payload(&frames)).expect("re-encoded payload decodes");
        assert_eq!(again, packets);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(packet) = EnginePacket::decode_text(text) {
            let encoded = packet.encode_text().expect("a text frame is not binary");
            assert_eq!(EnginePacket::decode_text(&encoded), Ok(packet));
        }
    }
});
