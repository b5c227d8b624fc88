//! Event payloads on their way to handlers: the text of a Socket.IO packet
//! from a peer, decoded by the codec, its first argument handed to the
//! server's `EventData` and read as the types handlers ask for. Nothing may
//! panic, whatever the peer sent; attachments referenced by placeholders
//! resolve only to attachments that exist.

#![no_main]

use std::collections::HashMap;

use bytes::Bytes;
use ignis_socketio_engine::codec::SocketPacket;
use ignis_socketio_server::EventData;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // read only to exercise the deserializer
struct ChatMessage {
    room: Option<String>,
    message: Value,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
enum Command {
    Move { x: f64, y: f64 },
    Say(String),
    Quit,
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(packet) = SocketPacket::decode(text) else {
        return;
    };
    let Some(Value::Array(mut args)) = packet.data else {
        return;
    };
    // Arguments after the event name; a handler reads the first.
    let first = if args.len() > 1 { args.swap_remove(1) } else { Value::Null };
    let attachments = vec![Bytes::from_static(b"\x00\x01"); packet.attachments.min(8)];
    let event = EventData::new(first, attachments);
    let _ = event.json();
    let _ = event.is_null();
    let _ = event.binary(event.value());
    let _ = event.deserialize::<ChatMessage>();
    let _ = event.deserialize::<Command>();
    let _ = event.deserialize::<HashMap<String, Vec<u32>>>();
    let _ = event.deserialize::<(String, i64, Option<bool>)>();
    let _ = event.deserialize::<String>();
    let _ = event.deserialize::<Vec<u8>>();
});
