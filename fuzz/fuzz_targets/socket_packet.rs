//! Socket.IO: `SocketPacket::decode` on peer text must not panic, and what it
//! accepts must survive `encode` → `decode` unchanged (and encode the same
//! text again).

#![no_main]

use ignis_socketio_engine::codec::{Args, SocketPacket};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(packet) = SocketPacket::decode(text) else {
        return;
    };
    let encoded = packet.encode();
    let again = match SocketPacket::decode(&encoded) {
        Ok(again) => again,
        Err(e) => panic!("{text:?} decoded, but its encoding {encoded:?} does not: {e}"),
    };
    assert_eq!(
        again, packet,
        "{text:?} -> {encoded:?} decodes to another packet"
    );
    assert_eq!(again.encode(), encoded, "encoding is not stable");
    // What a binary packet's body goes through next: no panic either way.
    if let Some(serde_json::Value::Array(values)) = packet.data {
        let args = Args {
            values,
            attachments: vec![bytes::Bytes::new(); packet.attachments.min(64)],
        };
        let _ = args.check_placeholders();
    }
});
