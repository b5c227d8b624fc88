//! Replays frames captured from real Node processes and checks that decoding
//! and re-encoding gives the same bytes.

use ignis_socketio_engine::codec::{PacketKind, SocketPacket};
use rmpv::Value as Mp;

use crate::{
    value::{args_to_mp, mp_to_args},
    wire::{
        BroadcastMessage, Channels, WireOpts, decode_any, field, map, str_field, to_json,
        to_msgpack,
    },
};

fn hex(text: &str) -> Vec<u8> {
    let text: String = text.split_whitespace().collect();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

const EMIT_HELLO: &str = "93a65438365a744d83a47479706502a46461746194a568656c6c6fa5776f726c640181a161c3a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380";
const EMIT_ROOM1: &str = "93a65438365a744d83a47479706502a46461746192a2657601a36e7370a12f83a5726f6f6d7391a5726f6f6d31a665786365707490a5666c61677380";
const EMIT_BIN: &str = "93a65438365a744d83a47479706502a46461746193a362696ec40301020381a66e6573746564c4020405a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380";
const BROADCAST_WITH_ACK: &str = "85a3756964a65438365a744da9726571756573744964a6704c7137506ea47479706507a67061636b657483a47479706502a46461746192a77769746861636b2aa36e7370a12fa46f70747383a5726f6f6d7390a665786365707490a5666c61677381a774696d656f7574cd03e8";
const BROADCAST_ACK: &str = "83a47479706509a9726571756573744964a6704c7137506ea67061636b6574bd61636b2d66726f6d2d5f6f5a41345063337367764e454c484b41414142";
const EMITTER_HELLO: &str = "93a7656d697474657283a47479706502a46461746192a568656c6c6fa5776f726c64a36e7370a12f83a5726f6f6d7390a5666c61677380a665786365707490";
const EMITTER_ADMIN_BIN: &str = "93a7656d697474657283a47479706502a46461746192a164c4020102a36e7370a62f61646d696e83a5726f6f6d7390a5666c61677380a665786365707490";

#[test]
fn adapter_broadcast_roundtrips_byte_for_byte() {
    let bytes = hex(EMIT_HELLO);
    let msg = BroadcastMessage::decode(&bytes).unwrap();
    assert_eq!(msg.uid, "T86ZtM");
    assert_eq!(msg.nsp, "/");
    assert_eq!(msg.data[0], Mp::from("hello"));
    assert_eq!(msg.data.len(), 4);
    assert_eq!(msg.opts, WireOpts::default());
    assert_eq!(msg.encode(false), bytes);
}

#[test]
fn single_room_broadcast_uses_the_room_channel() {
    let bytes = hex(EMIT_ROOM1);
    let msg = BroadcastMessage::decode(&bytes).unwrap();
    assert_eq!(msg.opts.rooms, vec!["room1".to_owned()]);
    assert_eq!(msg.encode(false), bytes);
    let channels = Channels::new("socket.io", "/");
    assert_eq!(
        channels.broadcast_channel(&msg.opts.rooms),
        "socket.io#/#room1#"
    );
    assert_eq!(
        channels.broadcast_channel(&["a".into(), "b".into()]),
        "socket.io#/#"
    );
    assert_eq!(channels.request, "socket.io-request#/#");
    assert_eq!(
        channels.specific_response("T86ZtM"),
        "socket.io-response#/#T86ZtM#"
    );
}

#[test]
fn binary_broadcast_becomes_placeholders_and_back() {
    let bytes = hex(EMIT_BIN);
    let msg = BroadcastMessage::decode(&bytes).unwrap();
    assert_eq!(msg.encode(false), bytes);
    let args = mp_to_args(msg.data.clone());
    assert_eq!(
        serde_json::Value::Array(args.values.clone()).to_string(),
        r#"["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]"#
    );
    assert_eq!(args.attachments.len(), 2);
    assert_eq!(&args.attachments[0][..], &[1, 2, 3]);
    // And back to the inline-binary structure Node expects.
    assert_eq!(args_to_mp(&args), msg.data);
    // The engine's frame is the one Node's socket.io-parser writes.
    let mut packet = SocketPacket::new(
        PacketKind::BinaryEvent,
        "/",
        Some(serde_json::Value::Array(args.values)),
    );
    packet.attachments = 2;
    assert_eq!(
        packet.encode(),
        r#"52-["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]"#
    );
}

#[test]
fn broadcast_with_ack_request_roundtrips() {
    let bytes = hex(BROADCAST_WITH_ACK);
    let request = decode_any(&bytes).unwrap();
    assert_eq!(str_field(&request, "requestId"), Some("pLq7Pn"));
    assert_eq!(field(&request, "type").and_then(Mp::as_u64), Some(7));
    let opts = WireOpts::from_value(field(&request, "opts"));
    assert_eq!(opts.flag("timeout").and_then(Mp::as_u64), Some(1000));
    let packet = field(&request, "packet").unwrap();
    let data = match field(packet, "data") {
        Some(Mp::Array(items)) => items.clone(),
        other => panic!("no data: {other:?}"),
    };
    let rebuilt = to_msgpack(&map([
        ("uid", Mp::from("T86ZtM")),
        ("requestId", Mp::from("pLq7Pn")),
        ("type", Mp::from(7u64)),
        ("packet", crate::wire::packet_value(data, "/")),
        ("opts", opts.to_adapter_value()),
    ]));
    assert_eq!(rebuilt, bytes);
}

#[test]
fn broadcast_ack_response_roundtrips() {
    let bytes = hex(BROADCAST_ACK);
    let response = decode_any(&bytes).unwrap();
    assert_eq!(field(&response, "type").and_then(Mp::as_u64), Some(9));
    let rebuilt = to_msgpack(&map([
        ("type", Mp::from(9u64)),
        ("requestId", Mp::from("pLq7Pn")),
        ("packet", field(&response, "packet").cloned().unwrap()),
    ]));
    assert_eq!(rebuilt, bytes);
    // The ack argument reaches the engine as `[arg]`.
    let args = mp_to_args(vec![field(&response, "packet").cloned().unwrap()]);
    assert_eq!(
        serde_json::Value::Array(args.values).to_string(),
        r#"["ack-from-_oZA4Pc3sgvNELHKAAAB"]"#
    );
}

#[test]
fn emitter_frames_use_the_emitter_key_order() {
    for frame in [EMITTER_HELLO, EMITTER_ADMIN_BIN] {
        let bytes = hex(frame);
        let msg = BroadcastMessage::decode(&bytes).unwrap();
        assert_eq!(msg.uid, "emitter");
        assert_eq!(msg.encode(true), bytes);
    }
    let admin = BroadcastMessage::decode(&hex(EMITTER_ADMIN_BIN)).unwrap();
    assert_eq!(admin.nsp, "/admin");
    assert_eq!(admin.data[1], Mp::Binary(vec![1, 2]));
}

#[test]
fn notepack_numbers_and_dates_reach_json_like_node_would_print_them() {
    // emitter.emit("u", undefined, null, 1.5, 2**40, -3, new Date(0))
    let data = crate::wire::decode_msgpack(&hex(
        "97 a175 c0 c0 cb3ff8000000000000 cf0000010000000000 fd d6ff00000000",
    ))
    .unwrap();
    let Mp::Array(items) = data else {
        panic!("array expected")
    };
    let args = mp_to_args(items);
    assert_eq!(
        serde_json::Value::Array(args.values).to_string(),
        r#"["u",null,null,1.5,1099511627776,-3,"1970-01-01T00:00:00.000Z"]"#
    );
}

#[test]
fn json_requests_match_the_captured_text() {
    let opts = WireOpts {
        rooms: vec!["room1".into()],
        ..WireOpts::default()
    };
    let join = to_json(&map([
        ("uid", Mp::from("T86ZtM")),
        ("type", Mp::from(2u64)),
        ("opts", opts.to_target_value()),
        (
            "rooms",
            crate::wire::str_array(&["room9".into(), "room10".into()]),
        ),
    ]));
    assert_eq!(
        String::from_utf8(join).unwrap(),
        r#"{"uid":"T86ZtM","type":2,"opts":{"rooms":["room1"],"except":[]},"rooms":["room9","room10"]}"#
    );
    let fetch = to_json(&map([
        ("uid", Mp::from("T86ZtM")),
        ("requestId", Mp::from("MeDLtD")),
        ("type", Mp::from(5u64)),
        ("opts", WireOpts::default().to_target_value()),
    ]));
    assert_eq!(
        String::from_utf8(fetch).unwrap(),
        r#"{"uid":"T86ZtM","requestId":"MeDLtD","type":5,"opts":{"rooms":[],"except":[]}}"#
    );
    // Requests are sniffed: JSON and msgpack decode to the same thing.
    let json =
        decode_any(br#"{"type":4,"opts":{"rooms":["room1"],"except":[]},"close":false}"#).unwrap();
    let packed = decode_any(&to_msgpack(&json)).unwrap();
    assert_eq!(json, packed);
}

#[test]
fn a_rooms_list_without_a_usable_name_targets_nothing() {
    let opts = |rooms: serde_json::Value| {
        WireOpts::from_value(Some(&crate::value::json_to_mp(
            serde_json::json!({"rooms": rooms, "except": [null]}),
        )))
    };
    let none = opts(serde_json::json!([null, true]));
    assert!(none.targets_nothing);
    assert!(none.rooms.is_empty());
    assert!(
        none.except.is_empty(),
        "an unusable except entry excludes nothing"
    );
    let all = opts(serde_json::json!([]));
    assert!(!all.targets_nothing, "an empty list is every socket");
    let some = opts(serde_json::json!([null, "a", 5]));
    assert!(!some.targets_nothing);
    assert_eq!(some.rooms, vec!["a".to_owned(), "5".to_owned()]);
}
