//! The client's side of the codec: what a server (or anything posing as one)
//! sends to the Rust client. The WebSocket upgrade answer, server frames
//! (unmasked, possibly compressed), the Engine.IO packets, the OPEN body and
//! the Socket.IO packets inside, and the payload handed to a handler. Nothing
//! may panic.
//!
//! Input: byte 0 picks which layer the rest is fed to.

#![no_main]

use ignis_socketio_client::ClientPayload;
use ignis_socketio_engine::codec::{EnginePacket, OpenPacket, SocketPacket};
use ignis_socketio_engine::ws::{ClientHandshake, FrameReader};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn handler_reads(args: Vec<Value>) {
    let payload = ClientPayload::from_args(args);
    let _ = payload.first();
    let _ = payload.decode_first::<Value>();
    let _ = payload.decode_first::<(String, u32)>();
    let _ = payload.decode_first::<std::collections::HashMap<String, String>>();
}

fuzz_target!(|data: &[u8]| {
    let Some((&layer, input)) = data.split_first() else {
        return;
    };
    match layer % 3 {
        0 => {
            let handshake = ClientHandshake::with_key([7; 16]);
            let _ = handshake.read_response(input);
        }
        1 => {
            let mut reader = FrameReader::for_client(1 << 16);
            let mut events = Vec::new();
            let _ = reader.feed(input, &mut events);
        }
        _ => {
            let Ok(text) = std::str::from_utf8(input) else {
                return;
            };
            match EnginePacket::decode_text(text) {
                Ok(EnginePacket::Open(body)) => {
                    let _ = OpenPacket::decode(&body);
                }
                Ok(EnginePacket::Message(body)) => {
                    if let Ok(packet) = SocketPacket::decode(&body) {
                        if let Some(Value::Array(args)) = packet.data {
                            handler_reads(args);
                        }
                    }
                }
                _ => {}
            }
        }
    }
});
